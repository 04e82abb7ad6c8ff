/*
 * logprofile.c: arrivalctl profile-from-log.  Reads web server access logs
 * (combined or common format, plain or gzip, several merged, in any
 * order), counts the arrivals in each interval of UTC time and writes a
 * t_seconds,rate profile whose replay puts the same number of arrivals in
 * each interval; reports the busiest hour on stderr.
 *
 * Invariants:
 *   - memory is proportional to the number of intervals spanned, never to
 *     the number of lines: a line is parsed, counted and forgotten;
 *   - instants are int64_t microseconds since the UTC epoch, computed from
 *     each line's own offset with our own calendar arithmetic (no TZ, no
 *     mktime), so bucketing is exact for any interval;
 *   - bad input is counted and reported, never fatal: a malformed line is
 *     skipped, an unreadable file or a span past the limits is an error
 *     exit with a message naming the file (and line).
 *
 * The profile's points.  The loader interpolates linearly between points,
 * so one point per interval start would make each interval's integral the
 * mean of two neighbouring counts (shifted by half an interval), and one
 * point per midpoint smooths peaks away (error S/8 of the second
 * difference).  We write a point at every interval boundary and one at
 * every midpoint: the boundary value is the harmonic mean of the two
 * neighbouring rates, and the midpoint value is chosen so that the
 * trapezoids integrate to exactly the interval's count:
 *     S/4 (b_i + 2 m_i + b_i+1) = S r_i  =>  m_i = 2 r_i - (b_i + b_i+1) / 2.
 * The harmonic mean H(a, b) = 2ab / (a + b) never exceeds 2 min(a, b), so
 * m_i >= 0: rates stay non-negative, an empty interval stays empty, and
 * where the rate is smooth H is close to the arithmetic mean and the curve
 * close to plain interpolation.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "arrivald.h"

#define US_PER_SEC 1000000LL
#define LP_MIN_INTERVAL_US 1000LL                   /* 1 ms */
#define LP_MAX_SPAN_US (400LL * 86400 * US_PER_SEC) /* 400 days */
#define LP_MAX_INTERVALS 50000000LL                 /* 200 MB of counts */
#define LP_MAX_LINE (1024 * 1024)
#define LP_SHOW_MALFORMED 5
#define LP_MAX_OFFSET (24 * 60 - 1) /* minutes either side of UTC */

enum lp_format { LP_COMBINED, LP_COMMON };

/* arrivals per interval; slot i is interval base + i (index = floor(t / s)) */
struct counts {
	int64_t s;        /* interval, us */
	int64_t base;
	size_t cap;
	uint32_t *n;      /* owned; cap slots */
	int64_t lo, hi;   /* intervals holding arrivals, valid once arrivals > 0 */
	int64_t first_us, last_us;
	uint64_t arrivals;
};

/* one input file, read in chunks and split into lines by hand (NUL safe) */
struct reader {
	const char *name; /* as given; "-" is stdin */
	gzFile gz;
	char chunk[65536];
	size_t cpos, clen;
	int eof;
	char *line;       /* owned; the current line, without its newline */
	size_t len, cap;
	int too_long;     /* the current line passed LP_MAX_LINE */
	uint64_t lineno;
};

struct lp {
	const char *prog;
	enum lp_format format;
	struct counts c;
	uint64_t lines, malformed, common_only;
	uint64_t offsets[2 * LP_MAX_OFFSET + 1]; /* lines per UTC offset (min) */
};

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm) */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/*
 * An instant as ISO 8601 in the given offset: "2010-05-15T11:00:00-0700",
 * or with utc set "2010-05-15T18:00:00Z"; fractions only when present.
 */
static const char *
isotime(char *buf, size_t size, int64_t us, int off_min, int utc)
{
	int64_t local, days, rem, y;
	unsigned m, d, a;
	int n;

	if (utc)
		off_min = 0;
	local = us + (int64_t)off_min * 60 * US_PER_SEC;
	days = floordiv(local, 86400 * US_PER_SEC);
	rem = local - days * 86400 * US_PER_SEC;
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", y, m,
	    d, (int)(rem / (3600 * US_PER_SEC)),
	    (int)(rem / (60 * US_PER_SEC) % 60), (int)(rem / US_PER_SEC % 60));
	if (rem % US_PER_SEC != 0 && n > 0 && (size_t)n < size) {
		char frac[16];
		size_t k;

		snprintf(frac, sizeof frac, ".%06d", (int)(rem % US_PER_SEC));
		for (k = strlen(frac); frac[k - 1] == '0'; k--)
			frac[k - 1] = '\0';
		n += snprintf(buf + n, size - n, "%s", frac);
	}
	if (n > 0 && (size_t)n < size) {
		if (utc)
			snprintf(buf + n, size - n, "Z");
		else {
			a = (unsigned)abs(off_min);
			snprintf(buf + n, size - n, "%c%02u%02u",
			    off_min < 0 ? '-' : '+', a / 60, a % 60);
		}
	}
	return buf;
}

static int
digits(const char **pp, const char *end, int count, int *out)
{
	const char *p = *pp;
	int v = 0;

	if (end - p < count)
		return -1;
	for (; count > 0; count--, p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	*pp = p;
	return 0;
}

/* "10/Oct/2000:13:55:36[.123] -0700]" up to and past the ']' */
static const char *
parse_time(const char **pp, const char *end, int64_t *t_us, int *off_min)
{
	const char *p = *pp;
	int day, mon, year, hour, min, sec, oh, om, frac = 0, scale;
	int64_t days;

	if (digits(&p, end, 2, &day) == -1 || p == end || *p++ != '/')
		return "bad day in time";
	if (end - p < 4 || p[3] != '/')
		return "bad month in time";
	for (mon = 0; mon < 12; mon++) {
		if (memcmp(p, months[mon], 3) == 0)
			break;
	}
	if (mon == 12)
		return "bad month in time";
	p += 4;
	if (digits(&p, end, 4, &year) == -1 || p == end || *p++ != ':')
		return "bad year in time";
	if (digits(&p, end, 2, &hour) == -1 || p == end || *p++ != ':' ||
	    digits(&p, end, 2, &min) == -1 || p == end || *p++ != ':' ||
	    digits(&p, end, 2, &sec) == -1)
		return "bad clock time";
	if (day < 1 || (unsigned)day > month_days(year, mon + 1) ||
	    hour > 23 || min > 59 || sec > 60)
		return "time out of range";
	if (p < end && *p == '.') {
		/* some servers log fractions (Apache %{msec_frac}t): keep us */
		p++;
		for (scale = 0; p < end && *p >= '0' && *p <= '9'; p++, scale++) {
			if (scale < 6)
				frac = frac * 10 + (*p - '0');
		}
		if (scale == 0)
			return "bad fraction of a second";
		for (; scale < 6; scale++)
			frac *= 10;
	}
	if (p == end || *p++ != ' ' || p == end || (*p != '+' && *p != '-'))
		return "no UTC offset in time";
	p++;
	if (digits(&p, end, 2, &oh) == -1 || digits(&p, end, 2, &om) == -1 ||
	    oh > 23 || om > 59)
		return "bad UTC offset in time";
	*off_min = (oh * 60 + om) * (p[-5] == '-' ? -1 : 1);
	if (p == end || *p++ != ']')
		return "no ']' after time";
	days = days_from_civil(year, (unsigned)mon + 1, (unsigned)day);
	*t_us = ((days * 86400 + hour * 3600 + min * 60 + sec) -
	    (int64_t)*off_min * 60) * US_PER_SEC + frac;
	*pp = p;
	return NULL;
}

/* a field of non-spaces followed by one space */
static int
field(const char **pp, const char *end)
{
	const char *p = *pp;

	while (p < end && *p != ' ')
		p++;
	if (p == *pp || p == end)
		return -1;
	*pp = p + 1;
	return 0;
}

/* a double-quoted string; backslash escapes the next byte (Apache) */
static int
quoted(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p == end || *p++ != '"')
		return -1;
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"') {
			*pp = p + 1;
			return 0;
		}
	}
	return -1;
}

/*
 * One line of %h %l %u %t "%r" %>s %b, and for combined "%{Referer}i"
 * "%{User-agent}i"; anything after those (nginx and Apache configs often
 * append fields) is allowed.  Returns NULL or why the line is malformed;
 * *common_only says the line was good common format but not combined.
 */
static const char *
parse_line(const char *p, size_t len, enum lp_format format, int64_t *t_us,
    int *off_min, int *common_only)
{
	const char *end = p + len, *why;
	int status;

	*common_only = 0;
	if (len == 0)
		return "empty line";
	if (memchr(p, '\0', len) != NULL)
		return "NUL byte in line";
	if (field(&p, end) == -1 || field(&p, end) == -1 ||
	    field(&p, end) == -1 || p == end || *p++ != '[')
		return "no [time] after host, ident and user";
	if ((why = parse_time(&p, end, t_us, off_min)) != NULL)
		return why;
	if (p == end || *p++ != ' ' || quoted(&p, end) == -1)
		return "no quoted request after time";
	if (p == end || *p++ != ' ' || digits(&p, end, 3, &status) == -1)
		return "no status after request";
	if (p == end || *p++ != ' ')
		return "no size after status";
	if (p < end && *p == '-')
		p++;
	else if (p < end && *p >= '0' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else
		return "bad size";
	if (p < end && *p != ' ')
		return "bad size";
	if (format == LP_COMBINED) {
		if (p == end || *p++ != ' ' || quoted(&p, end) == -1 ||
		    p == end || *p++ != ' ' || quoted(&p, end) == -1) {
			*common_only = 1;
			return "no quoted referer and user agent after size";
		}
		if (p < end && *p != ' ')
			return "junk after user agent";
	}
	return NULL;
}

/* make slots for intervals lo..hi, keeping what is counted */
static void
counts_grow(struct counts *c, int64_t lo, int64_t hi, int leftward)
{
	size_t need = (size_t)(hi - lo + 1), cap;
	int64_t base;
	uint32_t *n;

	cap = c->cap * 2 > need ? c->cap * 2 : need;
	if (cap < 1024)
		cap = 1024;
	if (cap > (size_t)LP_MAX_INTERVALS && need <= (size_t)LP_MAX_INTERVALS)
		cap = (size_t)LP_MAX_INTERVALS;
	/* leave the slack on the side we are growing towards */
	if (c->cap == 0)
		base = lo - (int64_t)(cap - need) / 2;
	else if (leftward)
		base = hi - (int64_t)cap + 1;
	else
		base = lo;
	n = xcalloc(cap, sizeof *n);
	if (c->arrivals > 0)
		memcpy(n + (c->lo - base), c->n + (c->lo - c->base),
		    (size_t)(c->hi - c->lo + 1) * sizeof *n);
	free(c->n);
	c->n = n;
	c->cap = cap;
	c->base = base;
}

/* count one arrival; NULL or why it cannot be counted */
static const char *
counts_add(struct counts *c, int64_t t_us)
{
	static char why[160];
	int64_t k = floordiv(t_us, c->s), lo, hi, first, last;

	lo = c->arrivals > 0 && c->lo < k ? c->lo : k;
	hi = c->arrivals > 0 && c->hi > k ? c->hi : k;
	first = c->arrivals > 0 && c->first_us < t_us ? c->first_us : t_us;
	last = c->arrivals > 0 && c->last_us > t_us ? c->last_us : t_us;
	if (last - first > LP_MAX_SPAN_US) {
		snprintf(why, sizeof why, "the log would span %.1f days, more "
		    "than the %lld-day limit", (last - first) / 86400e6,
		    LP_MAX_SPAN_US / 86400 / US_PER_SEC);
		return why;
	}
	if (hi - lo + 1 > LP_MAX_INTERVALS) {
		snprintf(why, sizeof why, "the log would need %" PRId64
		    " intervals, more than %lld: use a longer --interval",
		    hi - lo + 1, LP_MAX_INTERVALS);
		return why;
	}
	if (c->cap == 0 || k < c->base || k >= c->base + (int64_t)c->cap)
		counts_grow(c, lo, hi, c->cap != 0 && k < c->base);
	if (c->n[k - c->base] == UINT32_MAX)
		return "more than 4294967295 arrivals in one interval";
	c->n[k - c->base]++;
	c->lo = lo;
	c->hi = hi;
	c->first_us = first;
	c->last_us = last;
	c->arrivals++;
	return NULL;
}

static int
reader_open(struct reader *r, const char *name, char **err)
{
	int fd;
	struct stat st;

	memset(r, 0, sizeof *r);
	r->name = name;
	if (strcmp(name, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		xasprintf(err, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		xasprintf(err, "%s: is a directory", name);
		close(fd);
		return -1;
	}
	if ((r->gz = gzdopen(fd, "rb")) == NULL) {
		xasprintf(err, "%s: cannot read", name);
		close(fd);
		return -1;
	}
	return 0;
}

static void
reader_close(struct reader *r)
{
	if (r->gz != NULL)
		gzclose(r->gz);
	free(r->line);
	r->gz = NULL;
	r->line = NULL;
}

static int
reader_error(struct reader *r, char **err)
{
	int errnum;
	const char *msg = gzerror(r->gz, &errnum);

	if (errnum == Z_OK)
		return 0;
	xasprintf(err, "%s: read error after line %" PRIu64 ": %s", r->name,
	    r->lineno, errnum == Z_ERRNO ? strerror(errno) : msg);
	return -1;
}

/* the next line into r->line: 1, or 0 at the end, or -1 with *err */
static int
reader_next(struct reader *r, char **err)
{
	const char *start, *nl;
	size_t take;
	int got;

	r->len = 0;
	r->too_long = 0;
	for (;;) {
		if (r->cpos == r->clen) {
			if (r->eof) {
				if (r->len == 0 && !r->too_long)
					return 0;
				break; /* a last line without a newline */
			}
			got = gzread(r->gz, r->chunk, sizeof r->chunk);
			if (got < 0 && reader_error(r, err) == 0)
				xasprintf(err, "%s: read error", r->name);
			if (got < 0)
				return -1;
			/* a truncated gzip file ends with an error, not EOF */
			if (got == 0 && reader_error(r, err) == -1)
				return -1;
			if (got == 0) {
				r->eof = 1;
				continue;
			}
			r->cpos = 0;
			r->clen = (size_t)got;
		}
		start = r->chunk + r->cpos;
		nl = memchr(start, '\n', r->clen - r->cpos);
		take = nl != NULL ? (size_t)(nl - start) : r->clen - r->cpos;
		r->cpos += take + (nl != NULL);
		if (r->len + take > LP_MAX_LINE)
			r->too_long = 1;
		if (!r->too_long) {
			if (r->len + take + 1 > r->cap) {
				r->cap = (r->len + take + 1) * 2;
				r->line = xrealloc(r->line, r->cap);
			}
			memcpy(r->line + r->len, start, take);
			r->len += take;
		}
		if (nl != NULL)
			break;
	}
	if (r->len > 0 && r->line[r->len - 1] == '\r')
		r->len--;
	r->lineno++;
	return 1;
}

/* read one file into the counts: 0, or -1 with *err (exit 1 or 2 in *status) */
static int
read_log(struct lp *lp, const char *name, char **err, int *status)
{
	struct reader r;
	const char *why;
	int64_t t_us;
	int off_min, common_only, got;

	if (reader_open(&r, name, err) == -1) {
		*status = 2;
		return -1;
	}
	while ((got = reader_next(&r, err)) == 1) {
		lp->lines++;
		common_only = 0;
		why = r.too_long ? "line too long" :
		    parse_line(r.line, r.len, lp->format, &t_us, &off_min,
		    &common_only);
		if (why == NULL) {
			if ((why = counts_add(&lp->c, t_us)) != NULL) {
				xasprintf(err, "%s:%" PRIu64 ": %s",
				    strcmp(name, "-") == 0 ? "<stdin>" : name,
				    r.lineno, why);
				reader_close(&r);
				*status = 1;
				return -1;
			}
			lp->offsets[off_min + LP_MAX_OFFSET]++;
			continue;
		}
		lp->common_only += common_only;
		if (lp->malformed++ < LP_SHOW_MALFORMED)
			fprintf(stderr, "%s: %s:%" PRIu64 ": malformed line "
			    "skipped: %s\n", lp->prog,
			    strcmp(name, "-") == 0 ? "<stdin>" : name,
			    r.lineno, why);
	}
	reader_close(&r);
	if (got == -1) {
		*status = 2;
		return -1;
	}
	return 0;
}

/* the log's own offset: the one most of its lines carry */
static int
log_offset(const struct lp *lp)
{
	uint64_t most = 0;
	int k, off = 0;

	for (k = 0; k < 2 * LP_MAX_OFFSET + 1; k++) {
		if (lp->offsets[k] > most) {
			most = lp->offsets[k];
			off = k - LP_MAX_OFFSET;
		}
	}
	return off;
}

/*
 * The busiest hour: a window of w whole intervals (w * s nearest an hour)
 * slid one interval at a time, the earliest on a tie; into buf, or when
 * the span is shorter than the window, the overall mean.
 */
static void
describe_peak(const struct lp *lp, char *buf, size_t size)
{
	const struct counts *c = &lp->c;
	char b1[64], b2[64];
	int64_t i, n = c->hi - c->lo + 1, w, sum, best, at = 0;
	double s = c->s / 1e6, hour;
	int off = log_offset(lp), len;

	w = llround(3600e6 / c->s);
	if (w < 1)
		w = 1;
	if (n < w) {
		snprintf(buf, size, "the span is shorter than an hour: mean "
		    "%.4g req/s over %.6g s", c->arrivals / (n * s), n * s);
		return;
	}
	for (sum = 0, i = 0; i < w; i++)
		sum += c->n[c->lo + i - c->base];
	best = sum;
	for (i = w; i < n; i++) {
		sum += c->n[c->lo + i - c->base];
		sum -= c->n[c->lo + i - w - c->base];
		if (sum > best) {
			best = sum;
			at = i - w + 1;
		}
	}
	hour = w * s;
	len = snprintf(buf, size, "peak hour: %.4g req/s from %s (%s), %"
	    PRId64 " arrivals", best / hour,
	    isotime(b1, sizeof b1, (c->lo + at) * c->s, off, 0),
	    isotime(b2, sizeof b2, (c->lo + at) * c->s, off, 1), best);
	if (w * c->s != 3600 * US_PER_SEC && len > 0 && (size_t)len < size)
		snprintf(buf + len, size - len, " (a window of %" PRId64
		    " intervals, %.6g s)", w, hour);
}

static double
rate_at(const struct lp *lp, int64_t i)
{
	return lp->c.n[lp->c.lo + i - lp->c.base] / (lp->c.s / 1e6);
}

/* the profile's points: see the top of the file */
static int
write_profile(const struct lp *lp, FILE *f)
{
	int64_t i, n = lp->c.hi - lp->c.lo + 1;
	double r, b0, b1, a, m;
	char peak[256], start[64];

	/* where it came from, as comments the loader skips */
	describe_peak(lp, peak, sizeof peak);
	fprintf(f, "t_seconds,rate\n"
	    "# profile-from-log: %" PRIu64 " arrivals in %" PRId64 " intervals "
	    "of %.6g s from %s\n# %s\n", lp->c.arrivals, n, lp->c.s / 1e6,
	    isotime(start, sizeof start, lp->c.lo * lp->c.s, 0, 1), peak);
	b0 = rate_at(lp, 0);
	for (i = 0; i < n; i++) {
		r = rate_at(lp, i);
		if (i + 1 < n) {
			a = rate_at(lp, i + 1);
			b1 = r + a > 0 ? 2 * r * a / (r + a) : 0;
		} else
			b1 = r;
		m = 2 * r - (b0 + b1) / 2;
		if (m < 0) /* only rounding: H(a, b) <= 2 min(a, b) */
			m = 0;
		fprintf(f, "%.15g,%.10g\n", (double)(i * lp->c.s) / 1e6, b0);
		fprintf(f, "%.15g,%.10g\n", (i * lp->c.s + lp->c.s / 2.0) / 1e6,
		    m);
		b0 = b1;
	}
	fprintf(f, "%.15g,%.10g\n", (double)(n * lp->c.s) / 1e6, b0);
	return ferror(f) ? -1 : 0;
}

/* write to a temporary file beside out and rename it, so a reader never
 * sees half a profile */
static int
write_out(const struct lp *lp, const char *out, char **err)
{
	char *tmp;
	int fd;
	mode_t mask;
	FILE *f;

	if (out == NULL || strcmp(out, "-") == 0) {
		if (write_profile(lp, stdout) == -1 || fflush(stdout) == EOF) {
			xasprintf(err, "standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	xasprintf(&tmp, "%s.XXXXXX", out);
	if ((fd = mkstemp(tmp)) == -1) {
		xasprintf(err, "%s: %s", out, strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp makes it 0600; a profile is as readable as any new file */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	if ((f = fdopen(fd, "w")) == NULL) {
		xasprintf(err, "%s: %s", out, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (write_profile(lp, f) == -1 || fclose(f) == EOF) {
		xasprintf(err, "%s: %s", out, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, out) == -1) {
		xasprintf(err, "%s: %s", out, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static void
summary(const struct lp *lp)
{
	const struct counts *c = &lp->c;
	char b1[64], b2[64], b3[64], peak[256];
	int off = log_offset(lp);

	fprintf(stderr, "%s: %" PRIu64 " lines read, %" PRIu64 " arrivals "
	    "counted, %" PRIu64 " malformed lines skipped\n", lp->prog,
	    lp->lines, c->arrivals, lp->malformed);
	/* a hint only when it explains most of the log, not a stray line */
	if (lp->format == LP_COMBINED && lp->common_only > c->arrivals)
		fprintf(stderr, "%s: %" PRIu64 " of the lines are in common "
		    "format (no referer and user agent): try --format common\n",
		    lp->prog, lp->common_only);
	if (c->arrivals == 0)
		return;
	fprintf(stderr, "%s: span: %s to %s (%.6g h), %" PRId64 " intervals "
	    "of %.6g s from %s\n", lp->prog,
	    isotime(b1, sizeof b1, c->first_us, off, 0),
	    isotime(b2, sizeof b2, c->last_us, off, 0),
	    (c->last_us - c->first_us) / 3600e6, c->hi - c->lo + 1,
	    c->s / 1e6, isotime(b3, sizeof b3, c->lo * c->s, off, 1));
	describe_peak(lp, peak, sizeof peak);
	fprintf(stderr, "%s: %s\n", lp->prog, peak);
}

/* "60", "0.5", "90s", "5m", "1h", "1d" as microseconds; -1 if bad */
static int64_t
parse_interval(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || errno != 0 || !isfinite(v))
		return -1;
	if (*end != '\0' && end[1] == '\0') {
		switch (*end++) {
		case 's':
			break;
		case 'm':
			v *= 60;
			break;
		case 'h':
			v *= 3600;
			break;
		case 'd':
			v *= 86400;
			break;
		default:
			return -1;
		}
	}
	if (*end != '\0' || v * 1e6 < LP_MIN_INTERVAL_US ||
	    v * 1e6 > LP_MAX_SPAN_US)
		return -1;
	return llround(v * 1e6);
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: arrivalctl %s [--interval S] "
	    "[--format combined|common] [-o OUT.csv] LOG...\n"
	    "  -i, --interval S  arrivals counted per S seconds (default 60; "
	    "suffix s, m, h, d)\n"
	    "  -f, --format F    combined (default) or common\n"
	    "  -o, --output OUT  write the profile here (default: stdout)\n"
	    "LOG may be gzip-compressed; - reads standard input.\n", prog);
}

int
logprofile_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lp *lp;
	const char *out = NULL;
	char *err = NULL;
	int ch, i, status = 0;
	int64_t interval = 60 * US_PER_SEC;
	struct reader probe;
	struct stat st;

	lp = xcalloc(1, sizeof *lp);
	lp->prog = argc > 0 && argv[0] != NULL ? argv[0] : "profile-from-log";
	lp->format = LP_COMBINED;
	optind = 0; /* GNU: start afresh, whatever parsed argv before us */
	while ((ch = getopt_long(argc, argv, "i:f:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if ((interval = parse_interval(optarg)) == -1) {
				fprintf(stderr, "%s: bad --interval '%s': want "
				    "seconds > 0 (at least 0.001, at most 400 "
				    "days)\n", lp->prog, optarg);
				free(lp);
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "combined") == 0)
				lp->format = LP_COMBINED;
			else if (strcmp(optarg, "common") == 0)
				lp->format = LP_COMMON;
			else {
				fprintf(stderr, "%s: bad --format '%s': want "
				    "combined or common\n", lp->prog, optarg);
				free(lp);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout, lp->prog);
			free(lp);
			return 0;
		default:
			usage(stderr, lp->prog);
			free(lp);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no log files given (- reads standard "
		    "input)\n", lp->prog);
		usage(stderr, lp->prog);
		free(lp);
		return 2;
	}
	lp->c.s = interval;

	/*
	 * Every file readable before the long part starts.  Only regular
	 * files are tried: opening and closing a FIFO would cost its writer
	 * a SIGPIPE.
	 */
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			continue;
		if (stat(argv[i], &st) == 0 && !S_ISREG(st.st_mode) &&
		    !S_ISDIR(st.st_mode))
			continue;
		if (reader_open(&probe, argv[i], &err) == -1) {
			fprintf(stderr, "%s: %s\n", lp->prog, err);
			free(err);
			free(lp);
			return 2;
		}
		reader_close(&probe);
	}
	for (i = optind; i < argc; i++) {
		if (read_log(lp, argv[i], &err, &status) == -1)
			break;
	}
	if (err != NULL) {
		fprintf(stderr, "%s: %s\n", lp->prog, err);
		free(err);
		err = NULL;
	} else if (lp->c.arrivals == 0) {
		summary(lp);
		fprintf(stderr, "%s: no usable lines: no profile written\n",
		    lp->prog);
		status = 1;
	} else if (write_out(lp, out, &err) == -1) {
		fprintf(stderr, "%s: %s\n", lp->prog, err);
		free(err);
		status = 2;
	} else
		summary(lp);
	free(lp->c.n);
	free(lp);
	return status;
}
