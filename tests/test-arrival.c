/*
 * test-arrival.c: the random streams, the rate function and the arrival
 * process, checked statistically with fixed seeds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"
#include "tap.h"


static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Kolmogorov-Smirnov distance of a sample against Exp(rate) */
static double
ks_exp(double *x, int n, double rate)
{
	double d = 0, f, lo, hi;
	int i;

	qsort(x, n, sizeof *x, cmp);
	for (i = 0; i < n; i++) {
		f = 1 - exp(-rate * x[i]);
		lo = f - (double)i / n;
		hi = (double)(i + 1) / n - f;
		if (lo > d)
			d = lo;
		if (hi > d)
			d = hi;
	}
	return d;
}

static void
test_rng(void)
{
	struct rng a, b;
	double sum = 0, u;
	int i, same = 1, lo = 0;
	uint64_t c[10] = { 0 };

	rng_seed(&a, 42, 0);
	rng_seed(&b, 42, 0);
	for (i = 0; i < 1000; i++)
		same &= rng_next(&a) == rng_next(&b);
	ok(same, "same seed and stream, same numbers");
	rng_seed(&b, 42, 1);
	ok(rng_next(&a) != rng_next(&b), "another stream, other numbers");
	for (i = 0; i < 1000000; i++) {
		u = rng_uniform(&a);
		lo |= u < 0 || u >= 1;
		sum += u;
		c[rng_below(&a, 10)]++;
	}
	ok(!lo, "uniform stays in [0, 1)");
	/* mean of 1e6 U(0,1): sd 0.000289, allow 6 sd */
	ok(fabs(sum / 1e6 - 0.5) < 6 * 0.000289, "uniform mean %.5f", sum / 1e6);
	{
		double chi = 0;

		for (i = 0; i < 10; i++)
			chi += (c[i] - 1e5) * (c[i] - 1e5) / 1e5;
		/* chi-square, 9 dof: P(> 33.7) = 1e-4 */
		ok(chi < 33.7, "rng_below uniform over 10 values (chi2 %.1f)", chi);
	}
}

static void
test_ratefn(void)
{
	struct ratefn f, g;
	double t, m, back;
	struct rng r;
	int i, bad = 0;

	ratefn_const(&f, 100);
	ok(fabs(ratefn_integral(&f, 3, 5) - 200) < 1e-9, "constant integral");
	ok(fabs(ratefn_solve(&f, 3, 50) - 3.5) < 1e-12, "constant solve");
	ratefn_free(&f);

	ratefn_ramp(&f, 10, 100, 20, 300);
	ok(fabs(ratefn_eval(&f, 15) - 200) < 1e-9, "ramp midpoint rate");
	ok(fabs(ratefn_integral(&f, 10, 20) - 2000) < 1e-9, "ramp integral");
	ok(fabs(ratefn_integral(&f, 0, 30) - (1000 + 2000 + 3000)) < 1e-9,
	    "integral before, through and after a ramp");
	rng_seed(&r, 1, 1);
	for (i = 0; i < 10000; i++) {
		t = rng_uniform(&r) * 40 - 5;
		m = rng_uniform(&r) * 5000;
		back = ratefn_integral(&f, t, ratefn_solve(&f, t, m));
		bad += fabs(back - m) > 1e-6 * (1 + m);
	}
	ok(bad == 0, "solve inverts the integral on a ramp (%d misses)", bad);
	ratefn_free(&f);

	/* a looping profile: 0 -> 10 -> 0 over 2 s */
	g.n = 3;
	g.t = xcalloc(3, sizeof *g.t);
	g.r = xcalloc(3, sizeof *g.r);
	g.t[0] = 0, g.t[1] = 1, g.t[2] = 2;
	g.r[0] = 0, g.r[1] = 10, g.r[2] = 0;
	g.end = RATEFN_LOOP;
	ok(fabs(ratefn_eval(&g, 5.5) - 5) < 1e-9, "loop repeats the shape");
	ok(fabs(ratefn_integral(&g, 0, 100) - 500) < 1e-6, "loop integral");
	bad = 0;
	for (i = 0; i < 10000; i++) {
		t = rng_uniform(&r) * 50;
		m = rng_uniform(&r) * 300;
		back = ratefn_integral(&g, t, ratefn_solve(&g, t, m));
		bad += fabs(back - m) > 1e-6 * (1 + m);
	}
	ok(bad == 0, "solve inverts the integral on a loop (%d misses)", bad);
	g.end = RATEFN_STOP;
	ok(isinf(ratefn_solve(&g, 1, 6)), "a stopped profile never reaches more mass");
	ok(ratefn_eval(&g, 3) == 0, "a stopped profile has rate 0 after its end");
	g.end = RATEFN_HOLD;
	g.r[2] = 4;
	ok(fabs(ratefn_solve(&g, 2, 8) - 4) < 1e-12, "hold keeps the last rate");
	ratefn_free(&g);
}

static void
test_poisson(void)
{
	enum { N = 200000 };
	struct arrival a, b;
	struct ratefn f;
	double *gaps = xcalloc(N, sizeof *gaps), prev = 0, t, sum = 0, d;
	int i, same = 1;

	ratefn_const(&f, 1000);
	arrival_init(&a, ARRIVALS_POISSON, 1, 0, 7, 0, &f, 0);
	arrival_init(&b, ARRIVALS_POISSON, 1, 0, 7, 0, &f, 0);
	for (i = 0; i < N; i++) {
		t = arrival_take(&a, &f);
		same &= t == arrival_take(&b, &f);
		gaps[i] = t - prev;
		sum += gaps[i];
		prev = t;
	}
	ok(same, "same seed, same schedule");
	/* mean gap 1 ms; sd of the mean 1 ms / sqrt(N); allow 5 sd */
	ok(fabs(sum / N - 0.001) < 5 * 0.001 / sqrt(N), "mean gap %.6f s", sum / N);
	d = ks_exp(gaps, N, 1000);
	/* KS critical value at alpha = 1e-4: 2.15 / sqrt(N) = 0.0048 */
	ok(d < 2.15 / sqrt(N), "gaps are Exp(1000): KS distance %.5f", d);

	/* 4 streams of share 1/4 superpose to one Poisson stream */
	{
		struct arrival s[4];
		double next[4], last = 0;
		int k, j;

		for (k = 0; k < 4; k++) {
			arrival_init(&s[k], ARRIVALS_POISSON, 0.25, 0, 7, k, &f, 0);
			next[k] = arrival_take(&s[k], &f);
		}
		for (i = 0; i < N; i++) {
			for (j = 0, k = 1; k < 4; k++)
				if (next[k] < next[j])
					j = k;
			gaps[i] = next[j] - last;
			last = next[j];
			next[j] = arrival_take(&s[j], &f);
		}
		d = ks_exp(gaps, N, 1000);
		ok(d < 2.15 / sqrt(N), "four quarter streams merge to Exp(1000) gaps: KS %.5f", d);
	}
	ratefn_free(&f);
	free(gaps);
}

static void
test_constant(void)
{
	struct arrival s[3];
	struct ratefn f;
	double all[300], prev;
	int i, k, n = 0, even = 1;

	ratefn_const(&f, 300);
	arrival_init(&s[0], ARRIVALS_CONSTANT, 1, 1, 1, 0, &f, 0);
	prev = 0;
	for (i = 0; i < 1000; i++) {
		double t = arrival_take(&s[0], &f);

		even &= fabs(t - prev - 1.0 / 300) < 1e-9;
		prev = t;
	}
	ok(even, "constant spacing is exact");
	/* three phase-offset shards merge into an evenly spaced stream */
	for (k = 0; k < 3; k++) {
		arrival_init(&s[k], ARRIVALS_CONSTANT, 1.0 / 3, (k + 1) / 3.0, 1, k, &f, 0);
		for (i = 0; i < 100; i++)
			all[n++] = arrival_take(&s[k], &f);
	}
	qsort(all, n, sizeof *all, cmp);
	for (i = 1; i < n; i++)
		even &= fabs(all[i] - all[i - 1] - 1.0 / 300) < 1e-9;
	ok(even && fabs(all[0] - 1.0 / 300) < 1e-9, "phase-offset shards interleave evenly");
	ratefn_free(&f);
}

/* counts per second follow a linear ramp, and a step takes effect at once */
static void
test_changes(void)
{
	struct arrival a;
	struct ratefn lo, hi, ramp;
	double t, chi = 0, expect;
	int i, counts[20] = { 0 }, n_after = 0;

	ratefn_ramp(&ramp, 0, 1000, 20, 5000);
	arrival_init(&a, ARRIVALS_POISSON, 1, 0, 3, 0, &ramp, 0);
	while ((t = arrival_take(&a, &ramp)) < 20)
		counts[(int)t]++;
	for (i = 0; i < 20; i++) {
		expect = ratefn_integral(&ramp, i, i + 1);
		chi += (counts[i] - expect) * (counts[i] - expect) / expect;
	}
	/* chi-square with 20 dof: P(> 52.4) = 1e-4 */
	ok(chi < 52.4, "counts per second follow the ramp (chi2 %.1f)", chi);

	/* at rate 0.01/s the first gap is ~100 s; raising the rate to 1000/s
	 * at t = 1 must bring the next arrival within ms, not after the gap */
	ratefn_const(&lo, 0.01);
	ratefn_const(&hi, 1000);
	arrival_init(&a, ARRIVALS_POISSON, 1, 0, 11, 0, &lo, 0);
	while (arrival_peek(&a) < 1)
		arrival_take(&a, &lo);
	arrival_retime(&a, &lo, &hi, 1);
	ok(arrival_peek(&a) - 1 < 0.02, "a step up takes effect from the next arrival (%.4f s)",
	    arrival_peek(&a) - 1);
	while (arrival_take(&a, &hi) < 11)
		n_after++;
	/* 10 s at 1000/s: 10000, sd 100; allow 4.4 sd */
	ok(abs(n_after - 10000) < 440, "rate after the step: %d in 10 s", n_after);
	ratefn_free(&lo);
	ratefn_free(&hi);
	ratefn_free(&ramp);
}

static void
test_hist(void)
{
	static struct hist h, h2;
	struct rng r;
	int i, bad = 0;
	int64_t v, p;
	double exact;

	hist_reset(&h);
	for (v = 0; v < 5000000; v += 7) {
		int idx = hist_index(v);

		bad += hist_value_at(idx) > v || hist_highest_equiv(v) < v ||
		    (v >= 2048 && (double)(hist_highest_equiv(v) - hist_value_at(idx)) / v > 1.0 / 1024);
	}
	ok(bad == 0, "slots hold their values to 3 significant digits (%d bad)", bad);
	ok(hist_index(HIST_MAX_US) < HIST_LEN, "an hour fits");
	rng_seed(&r, 5, 5);
	for (i = 0; i < 100000; i++)
		hist_record(&h, (int64_t)(rng_exp(&r) * 2000)); /* mean 2 ms */
	/* Exp(mean 2 ms): p99 = 2000 * ln(100) = 9210 us, sample sd ~ 1% */
	exact = 2000 * log(100);
	p = hist_percentile(&h, 99);
	ok(fabs(p - exact) / exact < 0.05, "p99 of Exp(2 ms) is %lld us (theory %.0f)", (long long)p, exact);
	p = hist_percentile(&h, 50);
	ok(fabs(p - 2000 * log(2)) / (2000 * log(2)) < 0.03, "p50 %lld us", (long long)p);
	ok(hist_percentile(&h, 100) == (int64_t)h.max_us, "p100 is the max");
	memcpy(&h2, &h, sizeof h);
	for (i = 0; i < 1000; i++)
		hist_record(&h2, 1000000);
	hist_sub(&h2, &h);
	ok(h2.total == 1000 && hist_percentile(&h2, 50) >= 1000000 &&
	    hist_percentile(&h2, 50) <= 1001000 && h2.min_us >= 999000,
	    "a later copy minus an earlier one is what happened in between");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		hist_write_hgrm(&h, f, 5);
		fclose(f);
		ok(strstr(buf, "Value     Percentile TotalCount 1/(1-Percentile)") != NULL &&
		    strstr(buf, "#[Max     =") != NULL && strstr(buf, "1.000000000000") != NULL,
		    "hgrm output has HdrHistogram's header, footer and the 100%% line");
		free(buf);
	}
}

/* what hist_percentile() answers, walking every slot */
static int64_t
ref_percentile(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	int i;
	int64_t v;

	if (h->total == 0)
		return 0;
	want = (uint64_t)ceil(p / 100.0 * (double)h->total);
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_LEN; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			v = hist_highest_equiv(hist_value_at(i));
			return (uint64_t)v > h->max_us ? (int64_t)h->max_us : v;
		}
	}
	return (int64_t)h->max_us;
}

/* counts outside [index(min), index(max)], or any at all when empty */
static int
outside_span(const struct hist *h)
{
	int i, lo, hi, n = 0;

	lo = h->total ? hist_index((int64_t)h->min_us) : HIST_LEN;
	hi = h->total ? hist_index(h->max_us > HIST_MAX_US ? HIST_MAX_US :
	    (int64_t)h->max_us) : -1;
	for (i = 0; i < HIST_LEN; i++)
		n += h->counts[i] != 0 && (i < lo || i > hi);
	return n;
}

/* log-uniform from 1 us to twice an hour, and some zeros */
static void
record_some(struct hist *h, struct rng *r, int n, double top)
{
	int i;

	for (i = 0; i < n; i++)
		hist_record(h, rng_uniform(r) < 0.01 ? 0 :
		    (int64_t)exp(rng_uniform(r) * log(top)));
}

/*
 * add, sub, copy, clear and the percentiles walk only the span of slots
 * in use: they must answer exactly what walking all of them would.
 */
static void
test_hist_span(void)
{
	static struct hist a, b, d, sum, ref, junk;
	static const double ps[] = { 0, 1, 50, 90, 99, 99.9, 100 };
	struct rng r;
	int i, k, round, bad_counts = 0, bad_pct = 0, bad_span = 0;

	rng_seed(&r, 11, 3);
	for (round = 0; round < 20; round++) {
		/* a grows from b; the copies land on histograms holding other data */
		double top = round % 2 ? 2.0 * HIST_MAX_US : 1e3 * (round + 1);

		hist_reset(&a);
		hist_reset(&junk);
		record_some(&junk, &r, 500, 2.0 * HIST_MAX_US);
		hist_copy(&b, &junk);
		hist_copy(&d, &junk);
		record_some(&a, &r, 2000, top);
		hist_copy(&b, &a);
		record_some(&a, &r, 2000, round % 3 ? top : 50.0);
		hist_copy(&d, &a);
		hist_sub(&d, &b);
		memset(&ref, 0, sizeof ref);
		for (i = 0; i < HIST_LEN; i++)
			ref.counts[i] = a.counts[i] - b.counts[i];
		ref.total = a.total - b.total;
		for (i = 0; i < HIST_LEN; i++)
			bad_counts += d.counts[i] != ref.counts[i];
		bad_counts += d.total != ref.total;
		ref.max_us = d.max_us;	/* checked against the slots by outside_span */
		for (k = 0; k < (int)(sizeof ps / sizeof ps[0]); k++)
			bad_pct += hist_percentile(&d, ps[k]) != ref_percentile(&ref, ps[k]) ||
			    hist_percentile(&a, ps[k]) != ref_percentile(&a, ps[k]);
		bad_span += outside_span(&a) + outside_span(&b) + outside_span(&d);

		/* sum = junk + a, onto a histogram that held data */
		hist_copy(&sum, &b);
		hist_clear(&sum);
		for (i = 0; i < HIST_LEN; i++)
			bad_counts += sum.counts[i] != 0;
		hist_add(&sum, &junk);
		hist_add(&sum, &a);
		for (i = 0; i < HIST_LEN; i++)
			bad_counts += sum.counts[i] != junk.counts[i] + a.counts[i];
		bad_counts += sum.total != junk.total + a.total ||
		    sum.max_us != (a.max_us > junk.max_us ? a.max_us : junk.max_us) ||
		    sum.min_us != (a.min_us < junk.min_us ? a.min_us : junk.min_us);
		bad_span += outside_span(&sum);
	}
	ok(bad_counts == 0, "copy, clear, add and a later copy minus an earlier "
	    "one agree with every slot (%d wrong)", bad_counts);
	ok(bad_pct == 0, "percentiles over the span agree with a walk of every "
	    "slot (%d wrong)", bad_pct);
	ok(bad_span == 0, "no count outside [slot of min, slot of max] (%d)",
	    bad_span);
	hist_copy(&d, &a);
	hist_sub(&d, &a);
	ok(d.total == 0 && outside_span(&d) == 0 && hist_percentile(&d, 50) == 0,
	    "a histogram minus itself is empty, in every slot");
}

/* the lead a worker wakes by before an arrival follows its timer's p99
 * lateness, and is capped so that polling stays cheap */
static void
test_lead(void)
{
	struct lead l;
	int i;

	lead_init(&l);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: %lld ns before any wake-up is measured",
	    (long long)lead_get(&l, 1000));
	for (i = 0; i < LEAD_WAKES - 1; i++)
		lead_learn(&l, (int64_t)i * NS_PER_US);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: unchanged until %d wake-ups are in", LEAD_WAKES);
	lead_learn(&l, 127 * NS_PER_US);
	/* lateness 0..127 us: the p99 of 128 is the 127th smallest */
	ok(lead_get(&l, 1000) == 136 * NS_PER_US,
	    "lead: p99 of 0..127 us late, plus 10 us, is 136 us (%lld ns)",
	    (long long)lead_get(&l, 1000));
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, i == 17 ? 9 * NS_PER_SEC / 1000 : 40 * NS_PER_US);
	ok(lead_get(&l, 1000) == 50 * NS_PER_US,
	    "lead: one stall in %d wake-ups is not followed (%lld ns)",
	    LEAD_WAKES, (long long)lead_get(&l, 1000));
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, 5 * NS_PER_SEC / 1000);
	ok(lead_get(&l, 0) == LEAD_MAX_NS && lead_get(&l, 100) == LEAD_MAX_NS,
	    "lead: a host that wakes 5 ms late gets at most %lld ns",
	    (long long)LEAD_MAX_NS);
	ok(lead_get(&l, 10000) == 100 * NS_PER_US,
	    "lead: at 10,000/s at most the mean gap, 100 us (%lld ns)",
	    (long long)lead_get(&l, 10000));
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, 20 * NS_PER_US);
	ok(lead_get(&l, 1000) == 30 * NS_PER_US,
	    "lead: follows the host back down (%lld ns)",
	    (long long)lead_get(&l, 1000));
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, -3 * NS_PER_US);
	ok(lead_get(&l, 1000) == 10 * NS_PER_US,
	    "lead: a wake-up before its time counts as on time (%lld ns)",
	    (long long)lead_get(&l, 1000));
}

static void
seen(struct lead *l, int n, int late, int64_t late_ns)
{
	int i;

	for (i = 0; i < n; i++)
		lead_seen(l, i < late ? late_ns : 2 * NS_PER_US);
}

/* a worker whose arrivals are seen late all the same takes a long lead
 * for a while, then goes back to the learnt one to look once more */
static void
test_lead_seen(void)
{
	struct lead l;

	lead_init(&l);
	seen(&l, LEAD_SEEN, LEAD_SEEN / 100, LEAD_LATE_NS + 1);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: 1%% of %d arrivals seen late keeps the lead", LEAD_SEEN);
	seen(&l, LEAD_SEEN, LEAD_SEEN / 100 + 1, LEAD_LATE_NS);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: seen exactly %lld ns late is not late",
	    (long long)LEAD_LATE_NS);
	seen(&l, LEAD_SEEN - 1, LEAD_SEEN / 100 + 1, LEAD_LATE_NS + 1);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: judged only once %d arrivals are in", LEAD_SEEN);
	seen(&l, 1, 0, 0);
	ok(lead_get(&l, 10000) == 200 * NS_PER_US && lead_get(&l, 4000) == 500 * NS_PER_US,
	    "lead: over 1%% seen late: two mean gaps, 200 us at 10,000/s (%lld ns)",
	    (long long)lead_get(&l, 10000));
	ok(lead_get(&l, 1000) == LEAD_MAX_NS && lead_get(&l, 10) == LEAD_MAX_NS &&
	    lead_get(&l, 0) == LEAD_MAX_NS,
	    "lead: ... at most %lld ns", (long long)LEAD_MAX_NS);
	seen(&l, LEAD_POLL - 1, LEAD_POLL - 1, 5 * NS_PER_SEC / 1000);
	ok(lead_get(&l, 10000) == 200 * NS_PER_US,
	    "lead: still on the long lead after %d arrivals", LEAD_POLL - 1);
	seen(&l, 1, 0, 0);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: sleeps again after %d; late ones while polling not counted",
	    LEAD_POLL);
	seen(&l, LEAD_SEEN, 0, 0);
	ok(lead_get(&l, 1000) == LEAD_INIT_NS,
	    "lead: a window seen on time keeps it sleeping");
}

/* a lead that has reached the gap polls every gap and so learns nothing;
 * a long stretch without a wake-up halves it, to try the timer again */
static void
test_lead_dry(void)
{
	struct lead l;
	int i;

	lead_init(&l);
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, 5 * NS_PER_SEC / 1000);
	ok(lead_get(&l, 1000) == NS_PER_SEC / 1000,
	    "lead dry: learnt 5 ms, the whole 1 ms gap at 1,000/s");
	seen(&l, LEAD_POLL - 1, 0, 0);
	ok(lead_get(&l, 1000) == NS_PER_SEC / 1000,
	    "lead dry: kept for %d arrivals without a wake-up", LEAD_POLL - 1);
	seen(&l, 1, 0, 0);
	ok(lead_get(&l, 1000) == LEAD_MAX_NS / 2,
	    "lead dry: then halved from its cap, %lld ns",
	    (long long)lead_get(&l, 1000));
	lead_learn(&l, 0);
	seen(&l, LEAD_POLL - 1, 0, 0);
	ok(lead_get(&l, 1000) == LEAD_MAX_NS / 2,
	    "lead dry: a wake-up starts the count again");
	for (i = 0; i < 20; i++)
		seen(&l, LEAD_POLL, 0, 0);
	ok(lead_get(&l, 1000) == 10 * NS_PER_US,
	    "lead dry: halving stops at 10 us (%lld ns)",
	    (long long)lead_get(&l, 1000));
	lead_init(&l);
	for (i = 0; i < LEAD_WAKES; i++)
		lead_learn(&l, 300 * NS_PER_US);
	seen(&l, LEAD_SEEN, LEAD_SEEN / 10, LEAD_LATE_NS + 1);
	ok(lead_get(&l, 1000) == LEAD_MAX_NS, "lead dry: seen late, the long lead");
	seen(&l, LEAD_POLL, 0, 0);
	ok(lead_get(&l, 1000) == 310 * NS_PER_US,
	    "lead dry: the seen-late polling is not a dry stretch (%lld ns)",
	    (long long)lead_get(&l, 1000));
}

int
main(void)
{
	test_rng();
	test_ratefn();
	test_poisson();
	test_constant();
	test_changes();
	test_hist();
	test_hist_span();
	test_lead();
	test_lead_seen();
	test_lead_dry();
	return done_testing();
}
