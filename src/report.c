/*
 * report.c: report.html, one self-contained page about a finished run,
 * built from the run directory's files alone (summary.json,
 * timeseries.csv, and when present timers.csv, failures.csv and
 * latency.hgrm).  Reading only the files keeps the report reproducible:
 * `arrivalctl report DIR` on a copied directory gives the same page.
 *
 * Invariants:
 *   - the page fetches nothing: inline CSS, charts as inline SVG, no
 *     script, so it opens from a mail attachment or an air-gapped host;
 *   - no line has more than MAXPTS points (a latency line's shaded range
 *     2 * MAXPTS), whatever the run's length, so a 24-hour run at a
 *     1-second interval gives a page of about half a megabyte and draws
 *     as fast as a 10-second one;
 *   - every string that came from a file goes through esc() before it
 *     reaches the page;
 *   - summary.json and timeseries.csv are required: when either is missing
 *     or malformed report_write() returns -1 and names the file and the
 *     problem.  The other files are optional: a missing or unreadable one
 *     turns its chart into "no data" with the reason, never a failure;
 *   - the page is written to report.html.tmp and renamed, so a reader
 *     never sees half a report.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arrivald.h"

#define MAXPTS 1000	/* buckets per series */
#define MAXNAMES 64	/* timers or failure reasons charted; summary.json's table lists all */
#define MAXLINES (MAXNAMES + 4)

/* timeseries.csv columns, in the contract's order */
enum {
	TS_T, TS_RATE, TS_LAMBDA, TS_X, TS_Q, TS_R, TS_P50, TS_P90, TS_P99,
	TS_MAX, TS_N, TS_Z, TS_INFLIGHT, TS_SENT, TS_COMPLETED, TS_FAILED,
	TS_DROPPED, TS_NCOLS
};
static const char *const ts_cols[TS_NCOLS] = {
	"t", "rate_target", "lambda", "X", "Q", "R", "p50", "p90", "p99",
	"max", "N", "Z", "in_flight", "sent", "completed", "failed", "dropped"
};

/* a column series; NAN where the file's field was empty (null) */
struct cols {
	int n, cap, ncols;
	double *v[TS_NCOLS];
};

/* rows of timers.csv or failures.csv, grouped by name */
struct named {
	char *name;
	int n, cap;
	double *t, *a, *b; /* timers: t, p99, count; failures: t, count */
};
struct group {
	int n;
	struct named g[MAXNAMES];
	int dropped;	/* names beyond MAXNAMES */
	char *why;	/* NULL, or why the file gave no data */
};

/* the latency percentile distribution */
struct hgrm {
	int n, cap;
	double *ms, *inv;	/* value, 1/(1-p); finite p < 1 only */
	double mean, stddev, max, total;
	char *why;
};

/* points of one drawn line; y NAN breaks the line.  lo, when not NULL,
 * is the bottom of a band whose top is y (each bucket's minimum) */
struct pts {
	int n, cap;
	double *x, *y, *lo;
};

struct line {
	char *name;
	const char *color;
	int dash;
	int axis;	/* 0 left, 1 right */
	struct pts p;
};

enum xkind { X_TIME, X_PCTL };

struct chart {
	const char *id;
	const char *ylabel, *y2label;
	int ylog;
	enum xkind xkind;
	double xmax;
	int n;
	struct line l[MAXLINES];
	const char *nodata;	/* why there is nothing to draw */
	int dots;		/* mark each point of a short series */
	double x0, x1;		/* plot edges in the viewBox, set when drawn */
};

struct rep {
	FILE *f;
	json_t *sum;
	struct cols ts;
	struct group timers, failures;
	struct hgrm hg;
	double xmax;		/* end of the run's time axis, seconds */
	double interval;	/* results interval, seconds */
	int closed;
	char buf[16][64];	/* formatting ring, so that a line can hold several numbers */
	int bi;
};

/* ---- small things ---- */

static void
seterr(char **err, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory (report error)");
	va_end(ap);
	free(*err);
	*err = s;
}

static void
esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* control bytes would make the page invalid; show them as '?' */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static char *
nextbuf(struct rep *r)
{
	r->bi = (r->bi + 1) % 16;
	return r->buf[r->bi];
}

/* a time in seconds, with the unit that gives 3 significant digits */
static const char *
fsec(struct rep *r, double s)
{
	char *b = nextbuf(r);
	double a = fabs(s);

	if (!isfinite(s))
		return "&mdash;";
	if (a == 0)
		snprintf(b, 64, "0");
	else if (a < 1e-3)
		snprintf(b, 64, "%.*f&nbsp;&micro;s", a < 1e-5 ? 2 : a < 1e-4 ? 1 : 0, s * 1e6);
	else if (a < 1)
		snprintf(b, 64, "%.*f&nbsp;ms", a < 1e-2 ? 2 : a < 1e-1 ? 1 : 0, s * 1e3);
	else if (a < 100)
		snprintf(b, 64, "%.*f&nbsp;s", a < 10 ? 2 : 1, s);
	else
		snprintf(b, 64, "%.0f&nbsp;s", s);
	return b;
}

/* a run's length: 30.0 s, 5 min 03 s, 24 h 00 min */
static const char *
fdur(struct rep *r, double s)
{
	char *b = nextbuf(r);

	if (!isfinite(s) || s < 0)
		return "&mdash;";
	if (s < 60)
		snprintf(b, 64, "%.1f&nbsp;s", s);
	else if (s < 3600)
		snprintf(b, 64, "%d&nbsp;min %02d&nbsp;s", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(b, 64, "%d&nbsp;h %02d&nbsp;min", (int)(s / 3600), (int)fmod(s / 60, 60));
	return b;
}

/* a quantity such as a rate or Q: 3 significant digits, at least 1 decimal */
static const char *
fnum(struct rep *r, double v)
{
	char *b = nextbuf(r);
	double a = fabs(v);

	if (!isfinite(v))
		return "&mdash;";
	if (a >= 1000)
		snprintf(b, 64, "%.0f", v);
	else if (a >= 100 || a == 0)
		snprintf(b, 64, "%.1f", v);
	else if (a >= 10)
		snprintf(b, 64, "%.2f", v);
	else if (a >= 0.01)
		snprintf(b, 64, "%.3f", v);
	else
		snprintf(b, 64, "%.2e", v);
	return b;
}

/* a counter, with thin spaces between thousands */
static const char *
fcount(struct rep *r, double v)
{
	char *b = nextbuf(r), d[40];
	int len, i, o = 0;

	if (!isfinite(v) || v < 0 || v > 1e18)
		return isfinite(v) ? fnum(r, v) : "&mdash;";
	len = snprintf(d, sizeof d, "%.0f", v);
	for (i = 0; i < len && o < 56; i++) {
		if (i > 0 && (len - i) % 3 == 0) {
			memcpy(b + o, "&#8239;", 7);
			o += 7;
		}
		b[o++] = d[i];
	}
	b[o] = '\0';
	return b;
}

/* a summary.json number, NAN when absent or null */
static double
jnum(json_t *o, const char *key)
{
	json_t *v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL)
		return NAN;
	if (json_is_number(v))
		return json_number_value(v);
	return NAN;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL)
		return NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
grow(double **v, int cap)
{
	*v = xreallocarray(*v, cap, sizeof **v);
}

static void
pts_band(struct pts *p, double x, double y, double lo)
{
	int i;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		grow(&p->x, p->cap);
		grow(&p->y, p->cap);
		if (p->lo != NULL)
			grow(&p->lo, p->cap);
	}
	if (p->lo == NULL && isfinite(lo)) {
		p->lo = xreallocarray(NULL, p->cap, sizeof *p->lo);
		for (i = 0; i < p->n; i++)
			p->lo[i] = NAN;
	}
	p->x[p->n] = x;
	p->y[p->n] = y;
	if (p->lo != NULL)
		p->lo[p->n] = lo;
	p->n++;
}

static void
pts_add(struct pts *p, double x, double y)
{
	pts_band(p, x, y, NAN);
}

/*
 * Split a CSV line in place.  Fields may be quoted as in RFC 4180 (a
 * timer's name can hold a comma).  Returns the field count, or -1 for
 * an unterminated quote.
 */
static int
csv_split(char *s, char **f, int max)
{
	int n = 0;
	char *w;

	for (;;) {
		if (n == max)
			return max + 1;
		if (*s == '"') {
			f[n++] = w = ++s;
			for (;;) {
				if (*s == '\0')
					return -1;
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else
					*w++ = *s++;
			}
			*w = '\0';
			if (*s == '\0')
				return n;
			if (*s != ',')
				return -1;
			s++;
		} else {
			f[n++] = s;
			s += strcspn(s, ",");
			if (*s == '\0')
				return n;
			*s++ = '\0';
		}
	}
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* an empty field is null (NAN); 0 ok, -1 not a number */
static int
field(const char *s, double *v)
{
	char *end;

	if (*s == '\0') {
		*v = NAN;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE)
		return -1;
	return 0;
}

/* ---- reading the run directory ---- */

static FILE *
open_in(const char *dir, const char *name)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "r");
	free(path);
	return f;
}

static int
read_summary(struct rep *r, const char *dir, char **err)
{
	char *path;
	json_error_t je;
	FILE *f;

	if ((f = open_in(dir, "summary.json")) == NULL) {
		seterr(err, "summary.json: %s", strerror(errno));
		return -1;
	}
	xasprintf(&path, "%s/summary.json", dir);
	r->sum = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	free(path);
	if (r->sum == NULL) {
		seterr(err, "summary.json: line %d: %s", je.line, je.text);
		return -1;
	}
	if (!json_is_object(r->sum)) {
		seterr(err, "summary.json: not a JSON object");
		return -1;
	}
	r->closed = jstr(r->sum, "model") != NULL &&
	    strcmp(jstr(r->sum, "model"), "closed") == 0;
	return 0;
}

static int
read_timeseries(struct rep *r, const char *dir, char **err)
{
	struct cols *c = &r->ts;
	char *line = NULL, *f[TS_NCOLS + 64];
	size_t sz = 0;
	int nf, i, lineno = 0, rc = -1;
	FILE *in;
	double v;

	if ((in = open_in(dir, "timeseries.csv")) == NULL) {
		seterr(err, "timeseries.csv: %s", strerror(errno));
		return -1;
	}
	if (getline(&line, &sz, in) < 0) {
		seterr(err, "timeseries.csv: empty file, no header");
		goto out;
	}
	lineno = 1;
	chomp(line);
	/* newer writers may append columns; the contract's come first */
	nf = csv_split(line, f, TS_NCOLS + 63);
	for (i = 0; i < TS_NCOLS; i++) {
		if (nf < 0 || i >= nf || strcmp(f[i], ts_cols[i]) != 0) {
			seterr(err, "timeseries.csv: line 1: header column %d is "
			    "not \"%s\"", i + 1, ts_cols[i]);
			goto out;
		}
	}
	c->ncols = nf;
	while (getline(&line, &sz, in) >= 0) {
		lineno++;
		chomp(line);
		if (*line == '\0')
			continue;
		if ((nf = csv_split(line, f, TS_NCOLS + 63)) != c->ncols) {
			seterr(err, "timeseries.csv: line %d: %d fields, expected %d",
			    lineno, nf, c->ncols);
			goto out;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 1024;
			for (i = 0; i < TS_NCOLS; i++)
				grow(&c->v[i], c->cap);
		}
		for (i = 0; i < TS_NCOLS; i++) {
			if (field(f[i], &v) != 0 || (i == TS_T && !isfinite(v))) {
				seterr(err, "timeseries.csv: line %d: %s: not a "
				    "number: \"%.40s\"", lineno, ts_cols[i], f[i]);
				goto out;
			}
			c->v[i][c->n] = v;
		}
		c->n++;
	}
	if (ferror(in)) {
		seterr(err, "timeseries.csv: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(in);
	return rc;
}

static void
group_clear(struct group *g)
{
	int i;

	for (i = 0; i < g->n; i++) {
		free(g->g[i].name);
		free(g->g[i].t);
		free(g->g[i].a);
		free(g->g[i].b);
	}
	memset(g->g, 0, sizeof g->g);
	g->n = 0;
}

static struct named *
group_get(struct group *g, const char *name)
{
	int i;

	/* rows come grouped by interval, so the name is usually near */
	for (i = 0; i < g->n; i++)
		if (strcmp(g->g[i].name, name) == 0)
			return &g->g[i];
	if (g->n == MAXNAMES) {
		g->dropped = 1;
		return NULL;
	}
	g->g[g->n].name = xstrdup(name);
	return &g->g[g->n++];
}

static void
named_add(struct named *nm, double t, double a, double b)
{
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 256;
		grow(&nm->t, nm->cap);
		grow(&nm->a, nm->cap);
		grow(&nm->b, nm->cap);
	}
	nm->t[nm->n] = t;
	nm->a[nm->n] = a;
	nm->b[nm->n] = b;
	nm->n++;
}

/*
 * timers.csv (t,name,sent,completed,failed,R,p50,p90,p99,max) or
 * failures.csv (t,reason,count).  Optional: trouble goes into g->why.
 */
static void
read_group(struct group *g, const char *dir, const char *file,
    const char *header, int nfields, int acol, int bcol)
{
	char *line = NULL, *f[64];
	size_t sz = 0;
	int nf, lineno = 1, quoted, j, extra;
	FILE *in;
	double t, a, b;
	struct named *nm;

	if ((in = open_in(dir, file)) == NULL) {
		xasprintf(&g->why, "%s: %s", file, strerror(errno));
		return;
	}
	if (getline(&line, &sz, in) < 0 || (chomp(line), strcmp(line, header) != 0)) {
		xasprintf(&g->why, "%s: line 1: header is not %s", file, header);
		goto out;
	}
	while (getline(&line, &sz, in) >= 0) {
		lineno++;
		chomp(line);
		if (*line == '\0')
			continue;
		quoted = strchr(line, '"') != NULL;
		nf = csv_split(line, f, 63);
		if (nf > nfields && !quoted) {
			/* an unquoted comma inside the name (the second field, the
			 * only free text): glue the name back together */
			extra = nf - nfields;
			for (j = 2; j <= 1 + extra; j++)
				f[j][-1] = ',';
			for (j = 2; j < nfields; j++)
				f[j] = f[j + extra];
			nf = nfields;
		}
		if (nf != nfields) {
			xasprintf(&g->why, "%s: line %d: %d fields, expected %d",
			    file, lineno, nf, nfields);
			goto out;
		}
		if (field(f[0], &t) != 0 || !isfinite(t) ||
		    field(f[acol], &a) != 0 || field(f[bcol], &b) != 0) {
			xasprintf(&g->why, "%s: line %d: not a number", file, lineno);
			goto out;
		}
		if ((nm = group_get(g, f[1])) != NULL)
			named_add(nm, t, a, b);
	}
out:
	if (g->why != NULL)
		group_clear(g);	/* half a file would draw a misleading chart */
	free(line);
	fclose(in);
}

/* HdrHistogram's percentile-distribution text (values in ms) */
static void
read_hgrm(struct hgrm *h, const char *dir)
{
	char *line = NULL, *p, *end;
	size_t sz = 0;
	int lineno = 0, i;
	double v[4];
	FILE *in;

	h->mean = h->stddev = h->max = h->total = NAN;
	if ((in = open_in(dir, "latency.hgrm")) == NULL) {
		xasprintf(&h->why, "latency.hgrm: %s", strerror(errno));
		return;
	}
	while (getline(&line, &sz, in) >= 0) {
		lineno++;
		chomp(line);
		p = line + strspn(line, " \t");
		if (*p == '\0' || strncmp(p, "Value", 5) == 0)
			continue;
		if (*p == '#') {
			sscanf(p, "#[Mean = %lf, StdDeviation = %lf]", &h->mean, &h->stddev);
			sscanf(p, "#[Max = %lf, Total count = %lf]", &h->max, &h->total);
			continue;
		}
		for (i = 0; i < 4; i++) {
			v[i] = strtod(p, &end);
			if (end == p)
				break;
			p = end;
		}
		p += strspn(p, " \t");
		/* the 100% line has no 1/(1-p) column in HdrHistogram's output */
		if (i == 3 && v[1] >= 1)
			v[3] = INFINITY;
		if (i < 3 || (i == 3 && v[1] < 1) || *p != '\0' || !isfinite(v[0]) ||
		    v[0] < 0 || !(v[1] >= 0 && v[1] <= 1)) {
			xasprintf(&h->why, "latency.hgrm: line %d: not a "
			    "percentile line", lineno);
			h->n = 0;
			goto out;
		}
		if (v[1] >= 1 || !isfinite(v[3]))
			continue;	/* the 100% line sits at infinity on this axis */
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 256;
			grow(&h->ms, h->cap);
			grow(&h->inv, h->cap);
		}
		h->ms[h->n] = v[0];
		h->inv[h->n] = 1 / (1 - v[1]);
		h->n++;
	}
	if (h->n == 0)
		xasprintf(&h->why, "latency.hgrm: no percentile lines");
out:
	free(line);
	fclose(in);
}

/* ---- downsampling ---- */

/*
 * Into at most MAXPTS buckets of equal time over [0, xmax]: the mean of
 * each bucket (rates, Q), or for latency its maximum as the line and its
 * minimum as the bottom of a band under it: spikes are the point of a
 * latency chart and a mean would hide them (the M4 idea, Jugel et al.).
 * Short series are copied as they are.  A bucket without values breaks
 * the line.  scale multiplies y (seconds to ms).
 */
static void
downsample(struct pts *out, const double *t, const double *y, int n,
    double xmax, int minmax, double scale)
{
	int i, b, cur = -1, cnt = 0;
	double sx = 0, sy = 0, lo = 0, hi = 0, thi = 0, w;

	if (n <= MAXPTS || xmax <= 0) {
		for (i = 0; i < n; i++)
			pts_add(out, t[i], isfinite(y[i]) ? y[i] * scale : NAN);
		return;
	}
	w = xmax / MAXPTS;
	for (i = 0; i <= n; i++) {
		b = i < n ? (int)(t[i] / w) : -2;
		if (b >= MAXPTS)
			b = MAXPTS - 1;
		if (b < 0 && i < n)
			b = 0;
		if (b != cur) {
			if (cur >= 0 && cnt == 0)
				pts_add(out, (cur + 0.5) * w, NAN);
			else if (cur >= 0 && !minmax)
				pts_add(out, sx / cnt, sy / cnt * scale);
			else if (cur >= 0)
				pts_band(out, thi, hi * scale, lo * scale);
			cur = b;
			cnt = 0;
			sx = sy = 0;
		}
		if (i == n || !isfinite(y[i]))
			continue;
		if (cnt == 0 || y[i] < lo)
			lo = y[i];
		if (cnt == 0 || y[i] > hi) {
			hi = y[i];
			thi = t[i];
		}
		sx += t[i];
		sy += y[i];
		cnt++;
	}
}

/* ---- charts ---- */

#define CW 1120
#define CH 330

static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"
};

/* failure reasons keep their colour from run to run */
static const char *
reason_color(const char *name, int i)
{
	static const struct { const char *name, *color; } known[] = {
		{ "timeout", "#e15759" }, { "http_5xx", "#f28e2b" },
		{ "refused", "#b07aa1" }, { "reset", "#9c755f" },
		{ "http_4xx", "#edc948" }, { "dns", "#76b7b2" },
		{ "expect", "#4e79a7" }, { "extract", "#59a14f" },
		{ "fd", "#ff9da7" }, { "tls", "#bab0ac" }, { "other", "#7f7f7f" },
	};
	size_t k;

	for (k = 0; k < sizeof known / sizeof known[0]; k++)
		if (strcmp(known[k].name, name) == 0)
			return known[k].color;
	return palette[i % 10];
}

static struct line *
chart_line(struct chart *c, const char *name, const char *color, int dash, int axis)
{
	struct line *l;

	if (c->n == MAXLINES)
		fatal("report: too many lines in chart %s", c->id);
	l = &c->l[c->n++];
	memset(l, 0, sizeof *l);
	l->name = xstrdup(name);
	l->color = color;
	l->dash = dash;
	l->axis = axis;
	return l;
}

static void
chart_free(struct chart *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->l[i].name);
		free(c->l[i].p.x);
		free(c->l[i].p.y);
		free(c->l[i].p.lo);
	}
	c->n = 0;
}

static int
has_points(const struct line *l)
{
	int i;

	for (i = 0; i < l->p.n; i++)
		if (isfinite(l->p.y[i]) && isfinite(l->p.x[i]))
			return 1;
	return 0;
}

struct axis {
	int log;
	double lo, hi, step;
	int nt;
	double tick[64];
};

/* 1, 2, 5 times a power of ten, about n steps over the range */
static double
nice_step(double range, int n)
{
	double raw = range / n, mag, norm;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

static void
axis_fit(struct axis *a, const struct chart *c, int which)
{
	double lo = INFINITY, hi = -INFINITY, y, d, m;
	int i, j, k;

	memset(a, 0, sizeof *a);
	a->log = which == 0 && c->ylog;
	for (i = 0; i < c->n; i++) {
		if (c->l[i].axis != which)
			continue;
		for (j = 0; j < c->l[i].p.n; j++) {
			y = c->l[i].p.y[j];
			if (!isfinite(y) || (a->log && y <= 0))
				continue;
			lo = y < lo ? y : lo;
			hi = y > hi ? y : hi;
			y = c->l[i].p.lo ? c->l[i].p.lo[j] : NAN;
			if (isfinite(y) && (!a->log || y > 0))
				lo = y < lo ? y : lo;
		}
	}
	if (!isfinite(lo)) {
		lo = a->log ? 1 : 0;
		hi = a->log ? 10 : 1;
	}
	if (a->log) {
		a->lo = pow(10, floor(log10(lo)));
		a->hi = pow(10, ceil(log10(hi)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 10;
		/* 1-2-5 ticks while they stay readable, decades beyond */
		for (d = a->lo; d < a->hi * 1.001 && a->nt < 60; d *= 10) {
			for (k = 0; k < 3; k++) {
				m = d * (k == 0 ? 1 : k == 1 ? 2 : 5);
				if (m > a->hi * 1.001)
					break;
				if (k > 0 && log10(a->hi / a->lo) > 2)
					continue;
				a->tick[a->nt++] = m;
			}
		}
		return;
	}
	if (lo > 0)
		lo = 0;	/* rates, counts and times read best from zero */
	if (hi <= lo)
		hi = lo + 1;
	a->step = nice_step(hi - lo, 5);
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi * 1.02 / a->step) * a->step;
	for (d = a->lo; d <= a->hi + a->step / 2 && a->nt < 60; d += a->step)
		a->tick[a->nt++] = d;
}

static double
axis_pos(const struct axis *a, double y, double top, double bottom)
{
	double f;

	if (a->log)
		f = (log10(y) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	else
		f = (y - a->lo) / (a->hi - a->lo);
	return bottom - f * (bottom - top);
}

static void
tick_label(char *b, size_t n, double v, const struct axis *a)
{
	double top = fabs(a->hi) > fabs(a->lo) ? fabs(a->hi) : fabs(a->lo);
	int dec;

	/* a log axis labels each tick by itself: 0.1, 1, 10, 100, 1000, 10k */
	if (a->log)
		top = fabs(v) >= 1e5 ? fabs(v) : 1;
	if (top >= 1e6)
		snprintf(b, n, "%gM", v / 1e6);
	else if (top >= 1e4)
		snprintf(b, n, "%gk", v / 1e3);
	else if (a->log || a->step >= 1)
		snprintf(b, n, "%g", v);
	else {
		dec = (int)ceil(-log10(a->step) - 1e-9);
		snprintf(b, n, "%.*f", dec, v);
	}
}

/* the time axis speaks the run's scale: seconds, minutes or hours */
static void
time_unit(double xmax, double *div, const char **name)
{
	if (xmax <= 300) {
		*div = 1;
		*name = "s";
	} else if (xmax <= 5 * 3600) {
		*div = 60;
		*name = "min";
	} else {
		*div = 3600;
		*name = "h";
	}
}

static double
time_step(double span, double div)
{
	static const double sec[] = { 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600 };
	static const double hrs[] = { 1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720 };
	double u = span / div;
	size_t i;

	if (div == 3600) {
		for (i = 0; i < sizeof hrs / sizeof hrs[0]; i++)
			if (u / hrs[i] <= 12)
				return hrs[i];
		return nice_step(u, 8);
	}
	for (i = 0; i < sizeof sec / sizeof sec[0]; i++)
		if (u / sec[i] <= 12)
			return sec[i];
	return nice_step(u, 8);
}

static double
xpos(const struct chart *c, double x)
{
	double f;

	if (c->xkind == X_PCTL)
		f = log10(x > 1 ? x : 1) / c->xmax;
	else
		f = x / c->xmax;
	return c->x0 + f * (c->x1 - c->x0);
}

/* the min..max band under a line: one closed shape per unbroken run */
static void
svg_band(FILE *f, const struct line *l, const struct chart *c,
    const struct axis *a, double top, double bottom)
{
	const struct pts *p = &l->p;
	int i, j, k, any = 0;

	for (i = 0; i < p->n; i = j) {
		for (j = i; j < p->n && isfinite(p->y[j]) && isfinite(p->lo[j]) &&
		    (!a->log || p->lo[j] > 0); j++)
			;
		if (j == i) {
			j++;
			continue;
		}
		if (!any)
			fprintf(f, "<path class=\"band\" fill=\"%s\" d=\"", l->color);
		any = 1;
		for (k = i; k < j; k++)
			fprintf(f, "%s%.1f %.1f", k == i ? "M" : " ", xpos(c, p->x[k]),
			    axis_pos(a, p->y[k], top, bottom));
		for (k = j - 1; k >= i; k--)
			fprintf(f, " %.1f %.1f", xpos(c, p->x[k]),
			    axis_pos(a, p->lo[k], top, bottom));
		fputs("Z", f);
	}
	if (any)
		fputs("\"/>\n", f);
}

/*
 * A dot on each measured interval of a short run, so that a reader sees
 * where the values are and a lone interval between gaps still shows:
 * zero-length subpaths drawn with round caps.
 */
static void
svg_dots(FILE *f, const struct line *l, const struct chart *c,
    const struct axis *a, double top, double bottom)
{
	int i;

	fprintf(f, "<path class=\"dots\" stroke=\"%s\" d=\"", l->color);
	for (i = 0; i < l->p.n; i++)
		if (isfinite(l->p.y[i]) && isfinite(l->p.x[i]) && (!a->log || l->p.y[i] > 0))
			fprintf(f, "M%.1f %.1fh0", xpos(c, l->p.x[i]),
			    axis_pos(a, l->p.y[i], top, bottom));
	fputs("\"/>\n", f);
}

/* one line as a path; after M, bare coordinate pairs are implicit lineto */
static void
svg_path(FILE *f, const struct line *l, const struct chart *c,
    const struct axis *a, double top, double bottom)
{
	int i, pen = 0, first = 1;
	double x, y, top_y = -INFINITY;

	fprintf(f, "<path class=\"series\" data-name=\"");
	esc(f, l->name);
	/* the largest value drawn, in the axis's unit, for readers and tests */
	for (i = 0; i < l->p.n; i++)
		if (isfinite(l->p.y[i]) && isfinite(l->p.x[i]) && l->p.y[i] > top_y)
			top_y = l->p.y[i];
	fprintf(f, "\" data-max=\"%g\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s d=\"",
	    top_y, l->color, l->dash ? "1.4" : "1.7",
	    l->dash ? " stroke-dasharray=\"6 4\"" : "");
	for (i = 0; i < l->p.n; i++) {
		y = l->p.y[i];
		x = l->p.x[i];
		if (!isfinite(y) || !isfinite(x) || (a->log && y <= 0)) {
			pen = 0;
			continue;
		}
		fprintf(f, "%s%.1f %.1f", pen ? " " : first ? "M" : " M",
		    xpos(c, x), axis_pos(a, y, top, bottom));
		pen = 1;
		first = 0;
	}
	fprintf(f, "\"><title>");
	esc(f, l->name);
	fprintf(f, "</title></path>\n");
}

static void
chart_write(struct rep *r, struct chart *c, const char *title, const char *caption)
{
	FILE *f = r->f;
	struct axis ya, y2a;
	int i, k, drawn = 0, two = 0, rows = 1, lx;
	double top, bottom, x0, x1, y, div = 1, step, v;
	const char *unit = "s";
	char lab[32];

	for (i = 0; i < c->n; i++) {
		if (has_points(&c->l[i]))
			drawn++;
		if (c->l[i].axis == 1)
			two = 1;
	}
	x0 = 74;
	x1 = CW - (two ? 74 : 26);
	/* legend rows: an estimate of text width is enough to wrap */
	for (i = 0, lx = x0; i < c->n; i++) {
		k = 40 + 7 * (int)strlen(c->l[i].name);
		if (lx + k > x1 && lx > x0) {
			rows++;
			lx = x0;
		}
		lx += k;
	}
	top = 14 + 20 * rows;
	bottom = CH - 50;
	c->x0 = x0;
	c->x1 = x1;

	fprintf(f, "<section class=\"panel\" id=\"%s\">\n<h2>%s</h2>\n", c->id, title);
	if (caption)
		fprintf(f, "<p class=\"cap\">%s</p>\n", caption);
	fprintf(f, "<svg class=\"chart\" data-series=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"%s\">\n",
	    drawn, CW, CH, title);
	if (drawn == 0) {
		fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		    "class=\"frame\"/>\n<text x=\"%.0f\" y=\"%.0f\" class=\"nodata\">"
		    "no data</text>\n", x0, top, x1 - x0, bottom - top,
		    (x0 + x1) / 2, (top + bottom) / 2);
		if (c->nodata) {
			fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"why\">",
			    (x0 + x1) / 2, (top + bottom) / 2 + 22);
			esc(f, c->nodata);
			fprintf(f, "</text>\n");
		}
		fprintf(f, "</svg>\n</section>\n");
		return;
	}
	axis_fit(&ya, c, 0);
	if (two)
		axis_fit(&y2a, c, 1);

	/* horizontal grid and y labels */
	fprintf(f, "<g class=\"grid\">\n");
	for (i = 0; i < ya.nt; i++) {
		y = axis_pos(&ya, ya.tick[i], top, bottom);
		tick_label(lab, sizeof lab, ya.tick[i], &ya);
		fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		    "<text x=\"%.0f\" y=\"%.1f\" class=\"yl\">%s</text>\n",
		    x0, x1, y, y, x0 - 8, y + 4, lab);
	}
	if (two)
		for (i = 0; i < y2a.nt; i++) {
			y = axis_pos(&y2a, y2a.tick[i], top, bottom);
			tick_label(lab, sizeof lab, y2a.tick[i], &y2a);
			fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" class=\"y2l\">%s</text>\n",
			    x1 + 8, y + 4, lab);
		}

	/* vertical grid and x labels */
	if (c->xkind == X_TIME) {
		time_unit(c->xmax, &div, &unit);
		step = time_step(c->xmax, div);
		for (v = 0, k = 0; v <= c->xmax / div + 1e-9 && k < 64; v += step, k++) {
			double x = xpos(c, v * div);
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
			    "<text x=\"%.1f\" y=\"%.0f\" class=\"xl\">%g</text>\n",
			    x, x, top, bottom, x, bottom + 18, v);
		}
	} else {
		/* HdrHistogram's axis: decade k of 1/(1-p) is percentile 1 - 10^-k */
		for (k = 0; k <= (int)c->xmax && k < 12; k++) {
			double x = x0 + k / c->xmax * (x1 - x0);
			if (k == 0)
				snprintf(lab, sizeof lab, "0%%");
			else
				snprintf(lab, sizeof lab, "%.*f%%", k > 2 ? k - 2 : 0,
				    100 * (1 - pow(10, -k)));
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
			    "<text x=\"%.1f\" y=\"%.0f\" class=\"xl\"%s>%s</text>\n",
			    x, x, top, bottom, x, bottom + 18,
			    k == (int)c->xmax ? " style=\"text-anchor:end\"" : "", lab);
		}
	}
	fprintf(f, "</g>\n<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" "
	    "y2=\"%.0f\"/>\n", x0, x1, bottom, bottom);

	/* axis titles */
	if (c->xkind == X_TIME)
		fprintf(f, "<text class=\"at\" x=\"%.0f\" y=\"%d\">time since start (%s)</text>\n",
		    (x0 + x1) / 2, CH - 12, unit);
	else
		fprintf(f, "<text class=\"at\" x=\"%.0f\" y=\"%d\">percentile "
		    "(log scale of 1/(1&#8722;p))</text>\n", (x0 + x1) / 2, CH - 12);
	fprintf(f, "<text class=\"at\" transform=\"translate(16 %.0f) rotate(-90)\">%s%s</text>\n",
	    (top + bottom) / 2, c->ylabel, ya.log ? ", log scale" : "");
	if (two)
		fprintf(f, "<text class=\"at\" transform=\"translate(%d %.0f) rotate(90)\">%s</text>\n",
		    CW - 14, (top + bottom) / 2, c->y2label);

	/* bands under lines; the series listed first is drawn last, on top */
	for (i = c->n - 1; i >= 0; i--)
		if (has_points(&c->l[i]) && c->l[i].p.lo != NULL)
			svg_band(f, &c->l[i], c, c->l[i].axis ? &y2a : &ya, top, bottom);
	for (i = c->n - 1; i >= 0; i--) {
		if (!has_points(&c->l[i]))
			continue;
		svg_path(f, &c->l[i], c, c->l[i].axis ? &y2a : &ya, top, bottom);
		if (c->dots && c->l[i].p.n <= 60)
			svg_dots(f, &c->l[i], c, c->l[i].axis ? &y2a : &ya, top, bottom);
	}
	fprintf(f, "<g class=\"legend\">\n");
	for (i = 0, lx = x0, rows = 0; i < c->n; i++) {
		k = 40 + 7 * (int)strlen(c->l[i].name);
		if (lx + k > x1 && lx > x0) {
			rows++;
			lx = x0;
		}
		y = 16 + 20 * rows;
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
		    "stroke-width=\"3\"%s/><text x=\"%d\" y=\"%.0f\"%s>", lx, lx + 20,
		    y, y, c->l[i].color, c->l[i].dash ? " stroke-dasharray=\"6 4\"" : "",
		    lx + 26, y + 4, has_points(&c->l[i]) ? "" : " class=\"empty\"");
		esc(f, c->l[i].name);
		if (c->l[i].axis == 1)
			fputs(" (right)", f);
		fprintf(f, "</text>\n");
		lx += k;
	}
	fprintf(f, "</g>\n</svg>\n</section>\n");
}

/* ---- the page ---- */

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f6f7f9;color:#1f2933;font:14px/1.45 system-ui,"
    "-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1180px;margin:0 auto;padding:28px 24px 40px}"
    "header h1{font-size:22px;font-weight:600;margin:0 0 4px}"
    "header h1 span{color:#52606d;font-weight:400}"
    ".sub{color:#52606d;margin:0 0 20px}"
    ".cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-bottom:20px}"
    ".card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:12px 14px}"
    ".card .k{color:#616e7c;font-size:13px}"
    ".card .v{font-size:22px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}"
    ".card .u{font-size:13px;color:#616e7c;font-weight:400}"
    ".tables{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;margin-bottom:20px}"
    ".panel,.tables>div{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:14px 16px}"
    ".panel{margin-bottom:16px}"
    "h2{font-size:15px;font-weight:600;margin:0 0 2px}"
    "h3{font-size:13px;font-weight:600;margin:0 0 6px;color:#3e4c59}"
    ".cap{color:#616e7c;margin:0 0 8px;font-size:13px}"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}"
    "td,th{padding:3px 6px;border-bottom:1px solid #f0f2f4;text-align:right;white-space:nowrap}"
    "td:first-child,th:first-child{text-align:left;color:#52606d}"
    "th{font-weight:600;color:#3e4c59;border-bottom:1px solid #cbd2d9}"
    "table.timers td:first-child{color:#1f2933;white-space:normal;word-break:break-all}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg .grid line{stroke:#e9ecef;stroke-width:1}"
    "svg .axis{stroke:#9aa5b1;stroke-width:1}"
    "svg text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#52606d}"
    "svg .yl{text-anchor:end}svg .y2l{text-anchor:start}svg .xl{text-anchor:middle}"
    "svg .at{text-anchor:middle;fill:#3e4c59}"
    "svg .legend text{fill:#1f2933}svg .legend text.empty{fill:#9aa5b1}"
    "svg .frame{fill:#fafbfc;stroke:#e4e7eb}"
    "svg .nodata{text-anchor:middle;font-size:16px;fill:#9aa5b1}"
    "svg .why{text-anchor:middle;fill:#9aa5b1}"
    "svg path.series{stroke-linejoin:round;stroke-linecap:round}"
    "svg path.band{opacity:.18;stroke:none}"
    "svg path.dots{fill:none;stroke-width:5;stroke-linecap:round}"
    "details{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:10px 16px;margin-bottom:16px}"
    "summary{cursor:pointer;font-weight:600}"
    "pre{overflow:auto;font-size:12px;background:#f6f7f9;padding:10px;border-radius:6px}"
    ".warn{color:#b44d12}"
    "footer{color:#9aa5b1;font-size:12px;margin-top:12px}"
    "@media (max-width:900px){.cards{grid-template-columns:repeat(3,1fr)}.tables{grid-template-columns:1fr}}";

static void
card(struct rep *r, const char *k, const char *v, const char *unit)
{
	fprintf(r->f, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">%s"
	    "%s%s%s</div></div>\n", k, v, unit ? " <span class=\"u\">" : "",
	    unit ? unit : "", unit ? "</span>" : "");
}

static void
row(struct rep *r, const char *k, const char *v)
{
	fprintf(r->f, "<tr><td>%s</td><td>%s</td></tr>\n", k, v);
}

static void
row_str(struct rep *r, const char *k, const char *v)
{
	fprintf(r->f, "<tr><td>%s</td><td>", k);
	if (v)
		esc(r->f, v);
	else
		fputs("&mdash;", r->f);
	fputs("</td></tr>\n", r->f);
}

/* a rate with its unit, for the tables */
static const char *
frate(struct rep *r, double v)
{
	char *b = nextbuf(r);

	if (!isfinite(v))
		return "&mdash;";
	snprintf(b, 64, "%s&nbsp;/s", fnum(r, v));
	return b;
}

static void
page_head(struct rep *r)
{
	FILE *f = r->f;
	json_t *s = r->sum, *tot = json_object_get(s, "totals"),
	    *lat = json_object_get(s, "latency"), *lag = json_object_get(s, "lag"),
	    *cl = json_object_get(s, "closed"), *fails, *v;
	const char *id = jstr(s, "run_id"), *key, *model = jstr(s, "model"),
	    *arr = jstr(s, "arrivals");
	double sent = jnum(tot, "sent"), failed = jnum(tot, "failed");
	char lbuf[96];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>arrivald run ");
	esc(f, id ? id : "(unknown)");
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<header>\n"
	    "<h1>arrivald run <span>", css);
	esc(f, id ? id : "(unknown)");
	fprintf(f, "</span></h1>\n<p class=\"sub\">");
	esc(f, jstr(s, "started") ? jstr(s, "started") : "?");
	fputs(" &rarr; ", f);
	esc(f, jstr(s, "ended") ? jstr(s, "ended") : "?");
	fprintf(f, " &middot; %s &middot; ", fdur(r, jnum(s, "duration")));
	esc(f, model ? model : "?");
	fputs(" model, ", f);
	esc(f, arr ? arr : "?");
	fputs(r->closed ? " think times" : " arrivals", f);
	if (jstr(s, "shard")) {
		fputs(" &middot; shard ", f);
		esc(f, jstr(s, "shard"));
	}
	fprintf(f, "</p>\n</header>\n");

	fprintf(f, "<section class=\"cards\">\n");
	card(r, "target rate", fnum(r, jnum(s, "rate_target")), "req/s");
	card(r, "&lambda; arrivals", fnum(r, jnum(s, "lambda")), "req/s");
	card(r, "X throughput", fnum(r, jnum(s, "X")), "req/s");
	card(r, "R mean", fsec(r, jnum(s, "R")), NULL);
	card(r, "p99", fsec(r, jnum(lat, "p99")), NULL);
	if (isfinite(failed) && isfinite(sent) && sent > 0)
		snprintf(lbuf, sizeof lbuf, "%.2f%%", 100 * failed / sent);
	else
		snprintf(lbuf, sizeof lbuf, "&mdash;");
	card(r, "failed", lbuf, NULL);
	fprintf(f, "</section>\n");

	fprintf(f, "<section class=\"tables\">\n<div><h3>Load</h3><table>\n");
	row_str(r, "run id", id);
	row_str(r, "model", model);
	row_str(r, "arrivals", arr);
	row(r, "duration", fdur(r, jnum(s, "duration")));
	/* the seed replays the same arrival schedule; print it exactly */
	v = json_object_get(s, "seed");
	if (json_is_integer(v)) {
		snprintf(lbuf, sizeof lbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		row(r, "seed", lbuf);
	}
	row(r, "target rate", frate(r, jnum(s, "rate_target")));
	row(r, "&lambda; (arrival rate)", frate(r, jnum(s, "lambda")));
	row(r, "X (throughput)", frate(r, jnum(s, "X")));
	row(r, "Q (outstanding)", fnum(r, jnum(s, "Q")));
	row(r, "R (mean response)", fsec(r, jnum(s, "R")));
	if (json_is_object(cl)) {
		row(r, "N (users)", fcount(r, jnum(cl, "N")));
		row(r, "Z (think time)", fsec(r, jnum(cl, "Z")));
		row(r, "k (autoscale)", fnum(r, jnum(cl, "scale")));
		row(r, "Q/Z", frate(r, jnum(cl, "Q_over_Z")));
		row(r, "&lambda;<sub>N</sub> = (N&#8722;Q)/Z", frate(r, jnum(cl, "lambda_N")));
		v = json_object_get(cl, "autoscale_limited");
		if (json_is_true(v))
			row(r, "autoscale", "<span class=\"warn\">limited by max_users</span>");
	}
	fprintf(f, "</table></div>\n<div><h3>Response time</h3><table>\n");
	row(r, "mean", fsec(r, jnum(lat, "mean")));
	row(r, "p50", fsec(r, jnum(lat, "p50")));
	row(r, "p90", fsec(r, jnum(lat, "p90")));
	row(r, "p99", fsec(r, jnum(lat, "p99")));
	row(r, "p99.9", fsec(r, jnum(lat, "p999")));
	row(r, "max", fsec(r, jnum(lat, "max")));
	row(r, "start lag p50", fsec(r, jnum(lag, "p50")));
	row(r, "start lag p99", fsec(r, jnum(lag, "p99")));
	row(r, "start lag max", fsec(r, jnum(lag, "max")));
	fprintf(f, "</table></div>\n<div><h3>Requests</h3><table>\n");
	row(r, "sent", fcount(r, sent));
	row(r, "completed", fcount(r, jnum(tot, "completed")));
	row(r, "failed", fcount(r, failed));
	row(r, "dropped", fcount(r, jnum(tot, "dropped")));
	fails = json_object_get(tot, "failures");
	if (json_is_object(fails)) {
		json_object_foreach(fails, key, v) {
			if (!json_is_number(v) || json_number_value(v) == 0)
				continue;
			fprintf(f, "<tr><td>&nbsp;&nbsp;");
			esc(f, key);
			fprintf(f, "</td><td>%s</td></tr>\n", fcount(r, json_number_value(v)));
		}
	}
	fprintf(f, "</table></div>\n</section>\n");
}

static void
chart_rates(struct rep *r)
{
	struct chart c = { .id = "rates", .dots = 1, .ylabel = "requests/s", .xmax = r->xmax };
	double *t = r->ts.v[TS_T];
	int n = r->ts.n;

	downsample(&chart_line(&c, "target rate", "#7b8794", 1, 0)->p, t,
	    r->ts.v[TS_RATE], n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "\xce\xbb arrivals", "#4e79a7", 0, 0)->p, t,
	    r->ts.v[TS_LAMBDA], n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "X throughput", "#59a14f", 0, 0)->p, t,
	    r->ts.v[TS_X], n, r->xmax, 0, 1);
	c.nodata = "timeseries.csv has no rows";
	chart_write(r, &c, "Arrival rate and throughput",
	    "Target rate, measured arrival rate &lambda; and throughput X per results "
	    "interval (mean per bucket on long runs).");
	chart_free(&c);
}

/* the ratio of hi's largest positive value to lo's smallest */
static double
span(const struct line *lo, const struct line *hi)
{
	double a = INFINITY, b = 0;
	int i;

	for (i = 0; i < lo->p.n; i++)
		if (isfinite(lo->p.y[i]) && lo->p.y[i] > 0 && lo->p.y[i] < a)
			a = lo->p.y[i];
	for (i = 0; i < hi->p.n; i++)
		if (isfinite(hi->p.y[i]) && hi->p.y[i] > b)
			b = hi->p.y[i];
	return isfinite(a) ? b / a : 0;
}

static void
chart_latency(struct rep *r)
{
	struct chart c = { .id = "latency", .dots = 1, .ylabel = "response time (ms)", .xmax = r->xmax };
	static const struct { int col; const char *name, *color; } s[] = {
		{ TS_P50, "p50", "#4e79a7" }, { TS_P90, "p90", "#76b7b2" },
		{ TS_P99, "p99", "#f28e2b" }, { TS_MAX, "max", "#e15759" },
	};
	size_t i;

	for (i = 0; i < sizeof s / sizeof s[0]; i++)
		downsample(&chart_line(&c, s[i].name, s[i].color, 0, 0)->p,
		    r->ts.v[TS_T], r->ts.v[s[i].col], r->ts.n, r->xmax, 1, 1e3);
	/* p50's floor against max's ceiling: log once the tail would
	 * flatten the body into the axis */
	c.ylog = span(&c.l[0], &c.l[3]) > 30;
	c.nodata = "no completions recorded";
	chart_write(r, &c, "Response time over time",
	    "Percentiles of the response time measured from each request's intended "
	    "start, per results interval.  On long runs each line is the worst interval "
	    "of its time bucket and the shade below spans the bucket's range, so "
	    "spikes are never averaged away.");
	chart_free(&c);
}

static void
chart_queue(struct rep *r)
{
	struct chart c = { .id = "queue", .dots = 1, .ylabel = "requests", .xmax = r->xmax };
	double *t = r->ts.v[TS_T], *qz, *ln;
	int n = r->ts.n, i;

	downsample(&chart_line(&c, "Q (time-averaged)", "#4e79a7", 0, 0)->p, t,
	    r->ts.v[TS_Q], n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "in flight (at interval end)", "#bab0ac", 1, 0)->p, t,
	    r->ts.v[TS_INFLIGHT], n, r->xmax, 0, 1);
	c.nodata = "timeseries.csv has no rows";
	chart_write(r, &c, "Requests outstanding",
	    "Q, the time-averaged number of requests in the target (Little: Q = X&middot;R).");
	chart_free(&c);
	if (!r->closed)
		return;

	c = (struct chart){ .id = "users", .dots = 1, .ylabel = "users N", .y2label = "think time Z (s)",
	    .xmax = r->xmax };
	downsample(&chart_line(&c, "N users", "#b07aa1", 0, 0)->p, t,
	    r->ts.v[TS_N], n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "Z think time", "#edc948", 0, 1)->p, t,
	    r->ts.v[TS_Z], n, r->xmax, 0, 1);
	c.nodata = "no N or Z in timeseries.csv";
	chart_write(r, &c, "Closed model: users and think time",
	    "N and Z as autoscaling moved them (N = k&middot;N<sub>0</sub>, "
	    "Z = k&middot;Z<sub>0</sub>).");
	chart_free(&c);

	qz = xcalloc(n ? n : 1, sizeof *qz);
	ln = xcalloc(n ? n : 1, sizeof *ln);
	for (i = 0; i < n; i++) {
		double q = r->ts.v[TS_Q][i], z = r->ts.v[TS_Z][i], nn = r->ts.v[TS_N][i];
		qz[i] = isfinite(q) && z > 0 ? q / z : NAN;
		ln[i] = isfinite(q) && isfinite(nn) && z > 0 ? (nn - q) / z : NAN;
	}
	c = (struct chart){ .id = "closedrates", .dots = 1, .ylabel = "requests/s", .xmax = r->xmax };
	downsample(&chart_line(&c, "N/Z target", "#7b8794", 1, 0)->p, t,
	    r->ts.v[TS_RATE], n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "\xce\xbb_N = (N\xe2\x88\x92Q)/Z", "#4e79a7", 0, 0)->p, t,
	    ln, n, r->xmax, 0, 1);
	downsample(&chart_line(&c, "Q/Z", "#e15759", 0, 0)->p, t, qz, n, r->xmax, 0, 1);
	c.nodata = "no N or Z in timeseries.csv";
	chart_write(r, &c, "Closed model: effective arrival rate",
	    "&lambda;<sub>N</sub> = (N&#8722;Q)/Z against the target N/Z; Q/Z is the "
	    "rate lost to users waiting on the target, which autoscaling keeps small.");
	chart_free(&c);
	free(qz);
	free(ln);
}

static void
chart_hgrm(struct rep *r)
{
	struct chart c = { .id = "distribution", .ylabel = "response time (ms)", .xkind = X_PCTL };
	struct hgrm *h = &r->hg;
	struct line *l;
	double hi = 1, lo = INFINITY, top = 0;
	int i, step;
	char cap[256];

	l = chart_line(&c, "response time", "#4e79a7", 0, 0);
	/* the file has tens to hundreds of lines; thin it only if huge */
	step = h->n > 2 * MAXPTS ? h->n / MAXPTS : 1;
	for (i = 0; i < h->n; i += step) {
		pts_add(&l->p, h->inv[i], h->ms[i]);
		hi = h->inv[i] > hi ? h->inv[i] : hi;
		if (h->ms[i] > 0 && h->ms[i] < lo)
			lo = h->ms[i];
		top = h->ms[i] > top ? h->ms[i] : top;
	}
	if (h->n > 0 && (h->n - 1) % step != 0)
		pts_add(&l->p, h->inv[h->n - 1], h->ms[h->n - 1]);
	c.xmax = ceil(log10(hi) - 1e-9);
	if (c.xmax < 2)
		c.xmax = 2;
	/* linear, as HdrHistogram's plotter draws it, unless the tail is
	 * more than 30 times the median and would squash the body */
	for (i = 0; i < h->n && h->inv[i] < 2; i++)
		lo = h->ms[i];
	c.ylog = lo > 0 && top / lo > 30;
	c.nodata = h->why;
	if (isfinite(h->total))
		snprintf(cap, sizeof cap, "From latency.hgrm: %.0f requests, mean %.3f ms, "
		    "standard deviation %.3f ms, max %.3f ms.", h->total, h->mean,
		    h->stddev, h->max);
	else
		snprintf(cap, sizeof cap, "From latency.hgrm.");
	chart_write(r, &c, "Latency by percentile", cap);
	chart_free(&c);
}

static void
chart_failures(struct rep *r)
{
	struct chart c = { .id = "failures", .ylabel = "failures/s", .xmax = r->xmax };
	struct group *g = &r->failures;
	struct line *l;
	double w, *sum;
	int nb, i, j, b;

	/* rows exist only where a reason counted; bin them densely so that
	 * quiet stretches read as zero, not as a line drawn across them */
	w = r->interval > r->xmax / MAXPTS ? r->interval : r->xmax / MAXPTS;
	nb = (int)ceil(r->xmax / w - 1e-9);
	if (nb < 1)
		nb = 1;
	sum = xcalloc(nb, sizeof *sum);
	for (i = 0; i < g->n; i++) {
		memset(sum, 0, nb * sizeof *sum);
		for (j = 0; j < g->g[i].n; j++) {
			b = (int)ceil(g->g[i].t[j] / w - 1e-9) - 1;
			b = b < 0 ? 0 : b >= nb ? nb - 1 : b;
			if (isfinite(g->g[i].a[j]))
				sum[b] += g->g[i].a[j];
		}
		/* steps while they can be told apart: a count belongs to its
		 * whole interval */
		l = chart_line(&c, g->g[i].name, reason_color(g->g[i].name, i), 0, 0);
		for (b = 0; b < nb; b++) {
			if (nb <= 200)
				pts_add(&l->p, b * w, sum[b] / w);
			pts_add(&l->p, (b + 1) * w, sum[b] / w);
		}
	}
	free(sum);
	c.nodata = g->why ? g->why : "no failures";
	chart_write(r, &c, "Failures by reason",
	    g->dropped ? "Failed requests per second, by reason (only the first 64 "
	    "reasons are drawn)." : "Failed requests per second, by reason.");
	chart_free(&c);
}

static void
timers_section(struct rep *r)
{
	FILE *f = r->f;
	json_t *tm = json_object_get(r->sum, "timers"), *o;
	struct chart c = { .id = "timers", .dots = 1, .ylabel = "p99 (ms)", .xmax = r->xmax };
	struct group *g = &r->timers;
	double lo = INFINITY, hi = 0, y;
	size_t i;
	int j, k;

	fprintf(f, "<section class=\"panel\" id=\"timertable\">\n<h2>Timers</h2>\n"
	    "<p class=\"cap\">Per target and per transaction step, over the whole run.</p>\n");
	if (!json_is_array(tm) || json_array_size(tm) == 0) {
		fprintf(f, "<p class=\"cap\">No timers in summary.json.</p>\n</section>\n");
	} else {
		fprintf(f, "<table class=\"timers\">\n<tr><th>name</th><th>sent</th>"
		    "<th>completed</th><th>failed</th><th>mean</th><th>p50</th>"
		    "<th>p90</th><th>p99</th><th>max</th></tr>\n");
		json_array_foreach(tm, i, o) {
			fprintf(f, "<tr><td>");
			esc(f, jstr(o, "name") ? jstr(o, "name") : "?");
			fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			    "<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			    fcount(r, jnum(o, "sent")), fcount(r, jnum(o, "completed")),
			    fcount(r, jnum(o, "failed")), fsec(r, jnum(o, "mean")),
			    fsec(r, jnum(o, "p50")), fsec(r, jnum(o, "p90")),
			    fsec(r, jnum(o, "p99")), fsec(r, jnum(o, "max")));
		}
		fprintf(f, "</table>\n</section>\n");
	}

	for (j = 0; j < g->n; j++) {
		downsample(&chart_line(&c, g->g[j].name, palette[j % 10], 0, 0)->p,
		    g->g[j].t, g->g[j].a, g->g[j].n, r->xmax, 1, 1e3);
		for (k = 0; k < c.l[j].p.n; k++) {
			y = c.l[j].p.y[k];
			if (isfinite(y) && y > 0) {
				lo = y < lo ? y : lo;
				hi = y > hi ? y : hi;
			}
		}
	}
	c.ylog = isfinite(lo) && hi / lo > 30;
	c.nodata = g->why ? g->why : "no timers";
	chart_write(r, &c, "Timers: p99 over time",
	    g->dropped ? "Each timer's 99th percentile per results interval (only the "
	    "first 64 timers are drawn)." : "Each timer's 99th percentile per results interval (on long runs the "
	    "worst per time bucket, its range shaded).");
	chart_free(&c);
}

static void
page_tail(struct rep *r)
{
	FILE *f = r->f;
	json_t *conf = json_object_get(r->sum, "config");
	char *s;

	if (conf != NULL && !json_is_null(conf)) {
		s = json_dumps(conf, JSON_INDENT(2));
		fprintf(f, "<details><summary>Configuration</summary>\n<pre>");
		if (s)
			esc(f, s);
		fprintf(f, "</pre>\n</details>\n");
		free(s);
	}
	fprintf(f, "<footer>arrivald ");
	esc(f, jstr(r->sum, "version") ? jstr(r->sum, "version") : PACKAGE_VERSION);
	fprintf(f, " &middot; report generated from the run directory's files</footer>\n"
	    "</main>\n</body>\n</html>\n");
}

/* the time axis: to the last row, or the measured duration if longer */
static void
fit_time(struct rep *r)
{
	double d = jnum(r->sum, "duration"), *t = r->ts.v[TS_T];
	int i;

	r->xmax = 0;
	for (i = 0; i < r->ts.n; i++)
		r->xmax = t[i] > r->xmax ? t[i] : r->xmax;
	if (isfinite(d) && d > r->xmax && (r->ts.n == 0 || d < 2 * r->xmax))
		r->xmax = d;
	if (!(r->xmax > 0))
		r->xmax = 1;
	r->interval = r->ts.n > 1 ? t[1] - t[0] : r->ts.n == 1 ? t[0] : 1;
	if (!(r->interval > 0))
		r->interval = 1;
}

static void
group_free(struct group *g)
{
	group_clear(g);
	free(g->why);
}

int
report_write(const char *rundir, char **err)
{
	struct rep *r = xcalloc(1, sizeof *r);
	char *path = NULL, *tmp = NULL;
	int rc = -1, i;

	if (err)
		*err = NULL;
	if (read_summary(r, rundir, err) != 0 || read_timeseries(r, rundir, err) != 0)
		goto out;
	read_group(&r->timers, rundir, "timers.csv",
	    "t,name,sent,completed,failed,R,p50,p90,p99,max", 10, 8, 3);
	read_group(&r->failures, rundir, "failures.csv", "t,reason,count", 3, 2, 2);
	read_hgrm(&r->hg, rundir);
	fit_time(r);

	xasprintf(&path, "%s/report.html", rundir);
	xasprintf(&tmp, "%s/report.html.tmp", rundir);
	if ((r->f = fopen(tmp, "w")) == NULL) {
		seterr(err, "report.html.tmp: %s", strerror(errno));
		goto out;
	}
	page_head(r);
	chart_rates(r);
	chart_latency(r);
	chart_queue(r);
	chart_hgrm(r);
	chart_failures(r);
	timers_section(r);
	page_tail(r);
	if (ferror(r->f) | (fclose(r->f) != 0)) {
		r->f = NULL;
		seterr(err, "report.html.tmp: write failed: %s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	r->f = NULL;
	if (rename(tmp, path) != 0) {
		seterr(err, "report.html: %s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(tmp);
	if (r->sum)
		json_decref(r->sum);
	for (i = 0; i < TS_NCOLS; i++)
		free(r->ts.v[i]);
	group_free(&r->timers);
	group_free(&r->failures);
	free(r->hg.ms);
	free(r->hg.inv);
	free(r->hg.why);
	free(r);
	return rc;
}
