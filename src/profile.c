/*
 * profile.c: a rate profile from a CSV file of "t_seconds,rate" points,
 * for the config's profile group and for `set profile FILE`.  The file is
 * read whole and checked before anything is handed out: on error *out is
 * untouched, so a bad file sent over the control socket leaves the
 * running profile alone.
 *
 * Format: one point a line; blank lines and '#' comments are skipped; the
 * first line that is not a comment may be a header (anything whose first
 * field is not a number, like "t,rate").  Times are strictly increasing
 * and >= 0, rates >= 0, both finite.  Times are divided by speed and
 * shifted so the first point is at 0; rates are multiplied by scale.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"

#define MAX_ERRORS 10 /* a binary file would otherwise give one per line */

static void ARRIVALD_PRINTF(4, 5)
perr(char **errs, const char *file, int line, const char *fmt, ...)
{
	char *msg, *s, *old = *errs;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory (vasprintf)");
	va_end(ap);
	if (line > 0)
		xasprintf(&s, "%s%s:%d: %s\n", old ? old : "", file, line, msg);
	else
		xasprintf(&s, "%s%s: %s\n", old ? old : "", file, msg);
	free(old);
	free(msg);
	*errs = s;
}

/* A finite number filling the whole field (white space around allowed). */
static int
number(const char *s, const char *end, double *out)
{
	char *e;

	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end)
		return -1;
	errno = 0;
	*out = strtod(s, &e);
	if (e != end || errno == ERANGE || !isfinite(*out))
		return -1;
	return 0;
}

int
profile_load(const char *path, double speed, double scale,
    enum ratefn_end end, struct ratefn *out, char **errs)
{
	FILE *f;
	char *line = NULL, *comma, *p;
	size_t cap = 0;
	ssize_t len;
	double *t = NULL, *r = NULL, tv, rv, t0;
	int n = 0, lineno = 0, nerr = 0, seen = 0, i;

	if (!(speed > 0) || !isfinite(speed)) {
		perr(errs, path, 0, "speed must be > 0, got %g", speed);
		return -1;
	}
	if (!(scale >= 0) || !isfinite(scale)) {
		perr(errs, path, 0, "scale must be >= 0, got %g", scale);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		perr(errs, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	while (nerr < MAX_ERRORS && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			perr(errs, path, lineno, "NUL byte: not a text file");
			nerr++;
			break;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line + strspn(line, " \t\r\n");
		if (*p == '\0')
			continue;
		len = (ssize_t)strlen(p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			p[--len] = '\0';
		comma = strchr(p, ',');
		if (!seen++ && (comma == NULL ? number(p, p + len, &tv) :
		    number(p, comma, &tv)) == -1)
			continue; /* a header line */
		if (comma == NULL || strchr(comma + 1, ',') != NULL) {
			perr(errs, path, lineno, "expected \"t_seconds,rate\", got "
			    "\"%.40s\"", p);
			nerr++;
			continue;
		}
		if (number(p, comma, &tv) == -1) {
			perr(errs, path, lineno, "time \"%.*s\" is not a number",
			    (int)(comma - p > 40 ? 40 : comma - p), p);
			nerr++;
			continue;
		}
		if (number(comma + 1, p + len, &rv) == -1) {
			perr(errs, path, lineno, "rate \"%.40s\" is not a number",
			    comma + 1);
			nerr++;
			continue;
		}
		if (tv < 0) {
			perr(errs, path, lineno, "time must be >= 0, got %g", tv);
			nerr++;
			continue;
		}
		if (rv < 0) {
			perr(errs, path, lineno, "rate must be >= 0, got %g", rv);
			nerr++;
			continue;
		}
		if (n > 0 && tv <= t[n - 1]) {
			perr(errs, path, lineno, "time %g is not after the previous "
			    "point's %g: times must strictly increase", tv, t[n - 1]);
			nerr++;
			continue;
		}
		t = xreallocarray(t, n + 1, sizeof *t);
		r = xreallocarray(r, n + 1, sizeof *r);
		t[n] = tv;
		r[n] = rv;
		n++;
	}
	if (nerr == 0 && ferror(f)) {
		perr(errs, path, 0, "cannot read: %s", strerror(errno));
		nerr++;
	}
	fclose(f);
	free(line);
	if (nerr == 0 && n == 0) {
		perr(errs, path, lineno > 0 ? lineno : 1, "no rate points (expected "
		    "lines of \"t_seconds,rate\")");
		nerr++;
	}
	/* looping a single instant would be a period of zero */
	if (nerr == 0 && end == RATEFN_LOOP && n < 2) {
		perr(errs, path, lineno, "a looping profile needs at least two "
		    "points");
		nerr++;
	}
	if (nerr != 0) {
		free(t);
		free(r);
		return -1;
	}
	t0 = t[0];
	for (i = 0; i < n; i++) {
		t[i] = (t[i] - t0) / speed;
		r[i] *= scale;
	}
	out->n = n;
	out->t = t;
	out->r = r;
	out->end = end;
	return 0;
}
