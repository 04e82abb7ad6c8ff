/*
 * test-logprofile.c: the calendar, the line parser, the interval counts
 * and the profile's points, reached through logprofile.c's statics.
 */
#include "../src/logprofile.c"

#include <time.h>

#include "tap.h"

static uint64_t lcg = 88172645463325252ULL;

static uint64_t
next(void)
{
	lcg ^= lcg << 13;
	lcg ^= lcg >> 7;
	lcg ^= lcg << 17;
	return lcg;
}

static void
test_calendar(void)
{
	int i, bad = 0, badback = 0;
	int64_t day, y;
	unsigned m, d;
	struct tm tm;

	/* timegm is the reference; days from 1600 to 2400 */
	for (i = 0; i < 20000; i++) {
		day = (int64_t)(next() % 292194) - 135140;
		time_t t = (time_t)day * 86400;
		gmtime_r(&t, &tm);
		if (days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday) != day)
			bad++;
		civil_from_days(day, &y, &m, &d);
		if (y != tm.tm_year + 1900 || (int)m != tm.tm_mon + 1 ||
		    (int)d != tm.tm_mday)
			badback++;
	}
	ok(bad == 0, "days_from_civil agrees with timegm (%d wrong)", bad);
	ok(badback == 0, "civil_from_days agrees with gmtime (%d wrong)",
	    badback);
	ok(days_from_civil(1970, 1, 1) == 0, "1970-01-01 is day 0");
	ok(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2,
	    "2000 is a leap year");
	ok(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28) == 1,
	    "1900 is not");
}

static const char *
parse(const char *line, enum lp_format f, int64_t *t, int *off)
{
	int common_only;

	return parse_line(line, strlen(line), f, t, off, &common_only);
}

static void
test_parse(void)
{
	int64_t t;
	int off;
	const char *why;

	why = parse("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET "
	    "/apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/"
	    "start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"", LP_COMBINED,
	    &t, &off);
	ok(why == NULL && t == 971211336LL * US_PER_SEC && off == -420,
	    "Apache's combined example: 2000-10-10T20:55:36Z, -0700 (%s)",
	    why ? why : "ok");
	why = parse("::1 - - [01/Jan/2011:00:30:00 +0100] \"GET / HTTP/1.1\" "
	    "304 - \"-\" \"a \\\"quoted\\\" agent\" rt=0.003", LP_COMBINED, &t,
	    &off);
	ok(why == NULL && t == 1293838200LL * US_PER_SEC && off == 60,
	    "+0100 just after midnight lands on the previous UTC day, "
	    "escaped quotes and trailing fields pass (%s)", why ? why : "ok");
	why = parse("h - - [15/May/2010:11:00:00.250 +0530] \"GET / HTTP/1.1\""
	    " 200 5", LP_COMMON, &t, &off);
	ok(why == NULL && t == 1273901400LL * US_PER_SEC + 250000 &&
	    off == 330, "common format, fraction of a second, +0530 (%s)",
	    why ? why : "ok");
	ok(parse("h - - [15/May/2010:11:00:00 +0000] \"GET / HTTP/1.1\" 200 5",
	    LP_COMBINED, &t, &off) != NULL,
	    "a common line is malformed as combined");
	ok(parse("h - - [29/Feb/2012:00:00:00 +0000] \"-\" 408 - \"-\" \"-\"",
	    LP_COMBINED, &t, &off) == NULL, "29 Feb in a leap year");
	ok(parse("h - - [29/Feb/2011:00:00:00 +0000] \"-\" 408 - \"-\" \"-\"",
	    LP_COMBINED, &t, &off) != NULL, "29 Feb in another year is bad");
	ok(parse("h - - [10/Foo/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1"
	    " \"-\" \"-\"", LP_COMBINED, &t, &off) != NULL, "bad month");
	ok(parse("h - - [10/Oct/2000:24:00:00 -0700] \"GET / HTTP/1.0\" 200 1"
	    " \"-\" \"-\"", LP_COMBINED, &t, &off) != NULL, "hour 24");
	ok(parse("h - - [10/Oct/2000:13:55:36] \"GET / HTTP/1.0\" 200 1"
	    " \"-\" \"-\"", LP_COMBINED, &t, &off) != NULL, "no offset");
	ok(parse("h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0 200 1",
	    LP_COMMON, &t, &off) != NULL, "unterminated request");
	ok(parse("", LP_COMMON, &t, &off) != NULL, "empty line");
	ok(parse_line("h - - [10/Oct/2000:13:55:36 -0700] \"G\0\" 200 1", 44,
	    LP_COMMON, &t, &off, &(int){0}) != NULL, "NUL byte");
	ok(parse("h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1x",
	    LP_COMMON, &t, &off) != NULL, "bad size");
}

static void
test_counts(void)
{
	struct counts c = { .s = 60 * US_PER_SEC };
	int64_t t0 = 1273906800LL * US_PER_SEC, k;
	int i, bad = 0;
	uint32_t want[3000] = { 0 };

	/* out of order, both ways, across several regrowths */
	for (i = 0; i < 20000; i++) {
		k = (int64_t)(next() % 3000);
		if (i == 0)
			k = 1500;
		want[k]++;
		if (counts_add(&c, t0 + k * c.s + (int64_t)(next() % c.s))
		    != NULL)
			bad++;
	}
	ok(bad == 0 && c.arrivals == 20000, "20000 arrivals counted");
	for (k = 0; k < 3000; k++) {
		int64_t j = floordiv(t0, c.s) + k;
		uint32_t got = j >= c.lo && j <= c.hi ? c.n[j - c.base] : 0;

		if (got != want[k])
			bad++;
	}
	ok(bad == 0, "every interval holds its count after regrowths");
	ok(counts_add(&c, t0 + 401LL * 86400 * US_PER_SEC) != NULL,
	    "a span past 400 days is refused");
	ok(c.arrivals == 20000, "and not counted");
	free(c.n);

	memset(&c, 0, sizeof c);
	c.s = 1000;
	ok(counts_add(&c, 0) == NULL &&
	    counts_add(&c, 86400LL * US_PER_SEC) != NULL,
	    "a day of 1 ms intervals is past the interval limit");
	ok(counts_add(&c, -1) == NULL && c.lo == -1 && c.hi == 0,
	    "times before the epoch floor to the interval below");
	free(c.n);
}

/* integrate the written profile over [a, b] (trapezoids, exact) */
static double
integral(const double *t, const double *r, int n, double a, double b)
{
	double sum = 0, lo, hi, ra, rb;
	int i;

	for (i = 0; i + 1 < n; i++) {
		lo = t[i] > a ? t[i] : a;
		hi = t[i + 1] < b ? t[i + 1] : b;
		if (hi <= lo)
			continue;
		ra = r[i] + (r[i + 1] - r[i]) * (lo - t[i]) / (t[i + 1] - t[i]);
		rb = r[i] + (r[i + 1] - r[i]) * (hi - t[i]) / (t[i + 1] - t[i]);
		sum += (ra + rb) / 2 * (hi - lo);
	}
	return sum;
}

static void
test_profile(int64_t s_us)
{
	struct lp *lp = xcalloc(1, sizeof *lp);
	int64_t k, n = 400;
	double *t, *r, s = s_us / 1e6, worst = 0, got;
	int np = 0, neg = 0, mono = 1;
	char *buf = NULL, *p, *save;
	size_t len = 0;
	FILE *f;
	uint32_t count[400];

	lp->c.s = s_us;
	/* zeros, lone spikes, a cliff and Poisson-like noise */
	for (k = 0; k < n; k++) {
		count[k] = k < 10 ? 0 : k < 100 ? (uint32_t)(next() % 3) :
		    k < 200 ? 1000 + (uint32_t)(next() % 200) :
		    k == 250 ? 5000 : k % 17 == 0 ? 0 : (uint32_t)(next() % 50);
		if (k == 0)
			count[k] = 1;
		for (uint32_t j = 0; j < count[k]; j++)
			counts_add(&lp->c, 1000000000LL * US_PER_SEC + k * s_us);
	}
	f = open_memstream(&buf, &len);
	ok(write_profile(lp, f) == 0, "profile written (interval %g s)", s);
	fclose(f);
	t = xcalloc(2 * n + 1, sizeof *t);
	r = xcalloc(2 * n + 1, sizeof *r);
	p = strtok_r(buf, "\n", &save);
	ok(p != NULL && strcmp(p, "t_seconds,rate") == 0, "header line");
	while ((p = strtok_r(NULL, "\n", &save)) != NULL && np < 2 * n + 1) {
		if (*p == '#')
			continue;
		if (sscanf(p, "%lf,%lf", &t[np], &r[np]) != 2)
			break;
		if (r[np] < 0)
			neg++;
		if (np > 0 && t[np] <= t[np - 1])
			mono = 0;
		np++;
	}
	ok(np == 2 * n + 1 && p == NULL, "two points per interval and one "
	    "more (%d)", np);
	ok(t[0] == 0 && mono && fabs(t[np - 1] - n * s) < 1e-9,
	    "times rise strictly from 0 to the span");
	ok(neg == 0, "no negative rate");
	for (k = 0; k < n; k++) {
		got = integral(t, r, np, k * s, (k + 1) * s);
		if (fabs(got - count[k]) > worst)
			worst = fabs(got - count[k]);
	}
	ok(worst < 1e-5, "the integral over every interval is its count "
	    "(worst error %g)", worst);
	ok(integral(t, r, np, 0, 10 * s) < 1 + 1e-9 &&
	    integral(t, r, np, s, 10 * s) < 1e-9, "empty intervals stay empty");
	free(t);
	free(r);
	free(buf);
	free(lp->c.n);
	free(lp);
}

static void
test_format(void)
{
	char b[64];

	ok(strcmp(isotime(b, sizeof b, 1273946400LL * US_PER_SEC, -420, 0),
	    "2010-05-15T11:00:00-0700") == 0, "local time with offset: %s", b);
	ok(strcmp(isotime(b, sizeof b, 1273946400LL * US_PER_SEC, -420, 1),
	    "2010-05-15T18:00:00Z") == 0, "UTC: %s", b);
	ok(strcmp(isotime(b, sizeof b, 1250000LL, 330, 0),
	    "1970-01-01T05:30:01.25+0530") == 0, "fraction, +0530: %s", b);
	ok(parse_interval("60") == 60 * US_PER_SEC &&
	    parse_interval("0.25") == 250000 &&
	    parse_interval("5m") == 300 * US_PER_SEC &&
	    parse_interval("1h") == 3600 * US_PER_SEC, "intervals parse");
	ok(parse_interval("0") == -1 && parse_interval("-5") == -1 &&
	    parse_interval("nan") == -1 && parse_interval("inf") == -1 &&
	    parse_interval("5x") == -1 && parse_interval("") == -1 &&
	    parse_interval("0.0001") == -1 && parse_interval("1e300") == -1,
	    "bad intervals are refused");
}

int
main(void)
{
	test_calendar();
	test_parse();
	test_counts();
	test_profile(60 * US_PER_SEC);
	test_profile(333333);
	test_format();
	return done_testing();
}
