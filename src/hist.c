/*
 * hist.c: a high-dynamic-range histogram of microseconds, after
 * HdrHistogram: log-linear buckets with 2048 sub-buckets give three
 * significant digits from 1 us to an hour in constant memory.  Values
 * above an hour are clamped (and still counted), so max_us may exceed
 * the highest slot.  Counts only ever grow, so one histogram minus an
 * earlier copy of itself is the histogram of what happened in between:
 * windows and intervals are made that way (stats.c).
 *
 * Invariant: every count lies in the slots from hist_index(min_us) to
 * hist_index(max_us), and an empty histogram (total 0) has none.  Adding,
 * subtracting, copying and the percentiles walk only that span: a few
 * thousand slots of latencies under a second, not all 23,552 (184 KB),
 * which matters because the daemon does each several times a second,
 * some under a worker's lock.
 */
#include <math.h>
#include <string.h>

#include "arrivald.h"

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof *h);
	h->min_us = UINT64_MAX;
}

/* the slots holding every count: [*lo, *hi], empty when *lo > *hi */
static void
span(const struct hist *h, int *lo, int *hi)
{
	if (h->total == 0) {
		*lo = 0;
		*hi = -1;
		return;
	}
	*lo = hist_index(h->min_us > HIST_MAX_US ? HIST_MAX_US :
	    (int64_t)h->min_us);
	*hi = hist_index(h->max_us > HIST_MAX_US ? HIST_MAX_US :
	    (int64_t)h->max_us);
}

/* hist_reset() for a histogram that holds the invariant (or is all zero) */
void
hist_clear(struct hist *h)
{
	int lo, hi;

	span(h, &lo, &hi);
	if (lo <= hi)
		memset(&h->counts[lo], 0, (size_t)(hi - lo + 1) *
		    sizeof h->counts[0]);
	h->total = h->max_us = 0;
	h->min_us = UINT64_MAX;
	h->sum_us = h->sumsq_us = 0;
}

/* dst = src; dst holds the invariant (or is all zero) */
void
hist_copy(struct hist *dst, const struct hist *src)
{
	int lo, hi;

	hist_clear(dst);
	span(src, &lo, &hi);
	if (lo <= hi)
		memcpy(&dst->counts[lo], &src->counts[lo], (size_t)(hi - lo + 1) *
		    sizeof dst->counts[0]);
	dst->total = src->total;
	dst->max_us = src->max_us;
	dst->min_us = src->min_us;
	dst->sum_us = src->sum_us;
	dst->sumsq_us = src->sumsq_us;
}

/* Slot of a value: bucket b holds [1024 << b, 2048 << b) at 1 << b. */
int
hist_index(int64_t us)
{
	int bucket, sub;
	uint64_t v;

	if (us < 0)
		us = 0;
	if (us > HIST_MAX_US)
		us = HIST_MAX_US;
	v = (uint64_t)us;
	bucket = 63 - __builtin_clzll(v | (HIST_SUB_COUNT - 1)) - (HIST_SUB_BITS - 1);
	sub = (int)(v >> bucket);
	return (bucket + 1) * HIST_SUB_HALF + (sub - HIST_SUB_HALF) -
	    (bucket == 0 ? 0 : 0);
}

int64_t
hist_value_at(int index)
{
	int bucket = index / HIST_SUB_HALF - 1;
	int sub = index % HIST_SUB_HALF + HIST_SUB_HALF;

	if (bucket < 0) {
		bucket = 0;
		sub -= HIST_SUB_HALF;
	}
	return (int64_t)sub << bucket;
}

int64_t
hist_highest_equiv(int64_t us)
{
	int i = hist_index(us);

	return hist_value_at(i + 1) - 1;
}

void
hist_record(struct hist *h, int64_t us)
{
	uint64_t v;

	if (us < 0)
		us = 0;
	v = (uint64_t)us;
	h->counts[hist_index(us)]++;
	h->total++;
	if (v > h->max_us)
		h->max_us = v;
	if (v < h->min_us)
		h->min_us = v;
	h->sum_us += (double)v;
	h->sumsq_us += (double)v * (double)v;
}

void
hist_add(struct hist *a, const struct hist *b)
{
	int i, lo, hi;

	if (b->total == 0)
		return;
	span(b, &lo, &hi);
	for (i = lo; i <= hi; i++)
		a->counts[i] += b->counts[i];
	a->total += b->total;
	a->sum_us += b->sum_us;
	a->sumsq_us += b->sumsq_us;
	if (b->max_us > a->max_us)
		a->max_us = b->max_us;
	if (b->min_us < a->min_us)
		a->min_us = b->min_us;
}

/*
 * a -= b where b is an earlier state of a.  max and min cannot be
 * subtracted: they become those of the slots still holding counts.
 */
void
hist_sub(struct hist *a, const struct hist *b)
{
	int i, alo, ahi, lo = -1, hi = -1;

	span(a, &alo, &ahi);	/* b's span lies inside a's */
	span(b, &lo, &hi);
	for (i = lo; i <= hi; i++)
		a->counts[i] -= b->counts[i];
	for (lo = alo; lo <= ahi && a->counts[lo] == 0; lo++)
		;
	for (hi = ahi; hi >= lo && a->counts[hi] == 0; hi--)
		;
	if (lo > ahi)
		lo = -1;
	a->total -= b->total;
	a->sum_us -= b->sum_us;
	a->sumsq_us -= b->sumsq_us;
	if (a->total == 0 || lo == -1) {
		a->total = 0;
		a->sum_us = a->sumsq_us = 0;
		a->max_us = 0;
		a->min_us = UINT64_MAX;
		return;
	}
	if (a->max_us > (uint64_t)hist_highest_equiv(hist_value_at(hi)))
		a->max_us = (uint64_t)hist_highest_equiv(hist_value_at(hi));
	a->min_us = (uint64_t)hist_value_at(lo);
}

/* The value at percentile p: the highest value equivalent to the slot
 * where the count reaches p% of the total (HdrHistogram's convention),
 * capped by the recorded maximum. */
int64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	int i, hi;
	int64_t v;

	if (h->total == 0)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	want = (uint64_t)ceil(p / 100.0 * (double)h->total);
	if (want == 0)
		want = 1;
	span(h, &i, &hi);
	for (; i <= hi; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			v = hist_highest_equiv(hist_value_at(i));
			if ((uint64_t)v > h->max_us)
				v = (int64_t)h->max_us;
			return v;
		}
	}
	return (int64_t)h->max_us;
}

double
hist_mean(const struct hist *h)
{
	return h->total ? h->sum_us / (double)h->total : 0;
}

double
hist_stddev(const struct hist *h)
{
	double m, var;

	if (h->total == 0)
		return 0;
	m = hist_mean(h);
	var = h->sumsq_us / (double)h->total - m * m;
	return var > 0 ? sqrt(var) : 0;
}

/*
 * HdrHistogram's percentile-distribution output: percentile steps that
 * halve the distance to 100% every ticks_per_half lines, values in ms.
 */
void
hist_write_hgrm(const struct hist *h, FILE *f, int ticks_per_half)
{
	double p = 0, step, frac;
	uint64_t seen = 0;
	int64_t v;
	int i = 0, ticks;

	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile",
	    "TotalCount", "1/(1-Percentile)");
	if (h->total == 0)
		goto footer;
	if (ticks_per_half < 1)
		ticks_per_half = 5;
	for (;;) {
		v = hist_percentile(h, p * 100);
		/* the count at or below v */
		seen = 0;
		for (i = 0; i < HIST_LEN && hist_value_at(i) <= v; i++)
			seen += h->counts[i];
		frac = (double)seen / (double)h->total;
		if (frac >= 1.0 || p >= 1.0) {
			fprintf(f, "%12.3f %1.12f %10llu\n", (double)h->max_us / 1000.0,
			    1.0, (unsigned long long)h->total);
			break;
		}
		fprintf(f, "%12.3f %1.12f %10llu %14.2f\n", (double)v / 1000.0,
		    p, (unsigned long long)seen, 1.0 / (1.0 - p));
		/* halve the remaining distance every ticks_per_half steps */
		ticks = ticks_per_half;
		step = pow(2.0, floor(log2(1.0 / (1.0 - p))) + 1);
		p += 1.0 / (step * ticks);
		if (p > 1.0 - 1e-12)
			p = 1.0;
	}
footer:
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
	    hist_mean(h) / 1000.0, hist_stddev(h) / 1000.0);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
	    (double)h->max_us / 1000.0, (unsigned long long)h->total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n",
	    HIST_BUCKETS, HIST_SUB_COUNT);
}
