/*
 * test-profile.c: profile_load() turns a t_seconds,rate CSV into ratefn
 * points with speed and scale applied, and refuses each kind of bad file
 * with the FILE:LINE of the offending line, leaving *out untouched.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrivald.h"
#include "tap.h"

static char dir[] = "/tmp/test-profile.XXXXXX";
static char path[128];

static void
put(const char *text, size_t len)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fwrite(text, 1, len, f) != len ||
	    fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/* lengths from the literal, so that a NUL inside one is written too */
#define PUT(lit) put(lit, sizeof lit - 1)
#define BAD(desc, lit, line, needle) bad(desc, lit, sizeof lit - 1, line, needle)

static int
feq(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1);
}

/* A file that must be refused with "PATH:LINE: ...needle...". */
static void
bad(const char *desc, const char *text, size_t len, int line,
    const char *needle)
{
	struct ratefn out = { -1, NULL, NULL, RATEFN_HOLD };
	char want[256], *errs = NULL;
	int rc, good;

	put(text, len);
	rc = profile_load(path, 1.0, 1.0, RATEFN_STOP, &out, &errs);
	snprintf(want, sizeof want, "%s:%d: ", path, line);
	good = rc == -1 && errs != NULL && strncmp(errs, want, strlen(want)) == 0 &&
	    strstr(errs, needle) != NULL && out.n == -1 && out.t == NULL;
	ok(good, "%s: refused at line %d with \"%s\"", desc, line, needle);
	if (!good)
		diag("rc %d, got: %s", rc, errs != NULL ? errs : "(no errors)");
	free(errs);
}

int
main(void)
{
	struct ratefn out;
	char *errs = NULL;
	int rc;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/p.csv", dir);

	/* a good file: header, comments, blank lines, CRLF, spaces */
	PUT("# peak hour\nt_seconds,rate\n\n 100, 20 \r\n160,80 # climb\n"
	    "220,0\n");
	memset(&out, 0, sizeof out);
	rc = profile_load(path, 4.0, 2.5, RATEFN_LOOP, &out, &errs);
	ok(rc == 0 && errs == NULL, "good profile loads");
	ok(out.n == 3 && out.end == RATEFN_LOOP, "three points, end kept");
	ok(out.n == 3 && feq(out.t[0], 0) && feq(out.t[1], 15) &&
	    feq(out.t[2], 30), "times shifted to start at 0 and divided by speed");
	ok(out.n == 3 && feq(out.r[0], 50) && feq(out.r[1], 200) &&
	    feq(out.r[2], 0), "rates multiplied by scale");
	free(out.t);
	free(out.r);
	free(errs);
	errs = NULL;

	/* a single point is a constant rate, with no header at all */
	PUT("0,7.5\n");
	memset(&out, 0, sizeof out);
	rc = profile_load(path, 1.0, 0.0, RATEFN_HOLD, &out, &errs);
	ok(rc == 0 && out.n == 1 && out.t[0] == 0 && out.r[0] == 0,
	    "one point, scale 0 allowed");
	free(out.t);
	free(out.r);
	free(errs);
	errs = NULL;

	BAD("non-monotonic time", "t,rate\n0,1\n10,2\n10,3\n", 4,
	    "times must strictly increase");
	BAD("time going back", "0,1\n10,2\n5,3\n", 3, "is not after");
	BAD("negative rate", "0,1\n10,-2\n", 2, "rate must be >= 0, got -2");
	BAD("negative time", "-1,1\n10,2\n", 1, "time must be >= 0");
	BAD("empty file", "", 1, "no rate points");
	BAD("only a header and comments", "t,rate\n# nothing\n", 2,
	    "no rate points");
	BAD("garbage after the header", "t,rate\n0,1\nhello world\n", 3,
	    "expected \"t_seconds,rate\"");
	BAD("rate not a number", "0,1\n5,lots\n", 2, "rate \"lots\" is not a number");
	BAD("time not a number", "0,1\nsoon,4\n", 2, "time \"soon\" is not a number");
	BAD("three fields", "0,1\n5,2,3\n", 2, "expected \"t_seconds,rate\"");
	BAD("infinite rate", "0,1\n5,1e999\n", 2, "is not a number");
	BAD("binary garbage", "0,1\n\x01\x02\0\x03,4\n", 2, "NUL byte");

	/* looping one instant has no period */
	PUT("0,5\n");
	errs = NULL;
	rc = profile_load(path, 1.0, 1.0, RATEFN_LOOP, &out, &errs);
	ok(rc == -1 && errs != NULL && strstr(errs, "at least two points") != NULL,
	    "a looping profile needs two points");
	free(errs);
	errs = NULL;
	rc = profile_load(path, 0.0, 1.0, RATEFN_STOP, &out, &errs);
	ok(rc == -1 && errs != NULL && strstr(errs, "speed must be > 0") != NULL,
	    "speed 0 refused");
	free(errs);
	errs = NULL;
	rc = profile_load(path, 1.0, -1.0, RATEFN_STOP, &out, &errs);
	ok(rc == -1 && errs != NULL && strstr(errs, "scale must be >= 0") != NULL,
	    "negative scale refused");
	free(errs);
	errs = NULL;
	rc = profile_load(path, 1.0, NAN, RATEFN_STOP, &out, &errs);
	ok(rc == -1 && errs != NULL, "NaN scale refused");
	free(errs);
	errs = NULL;

	/* several bad lines, all reported, appended to what was there */
	PUT("0,1\n1,-1\n2,x\n");
	errs = strdup("earlier\n");
	rc = profile_load(path, 1.0, 1.0, RATEFN_STOP, &out, &errs);
	ok(rc == -1 && strncmp(errs, "earlier\n", 8) == 0 &&
	    strstr(errs, ":2: rate must be") != NULL &&
	    strstr(errs, ":3: rate \"x\"") != NULL,
	    "errors appended, one per bad line");
	free(errs);
	errs = NULL;

	rc = profile_load("/nonexistent/p.csv", 1.0, 1.0, RATEFN_STOP, &out, &errs);
	ok(rc == -1 && errs != NULL &&
	    strstr(errs, "/nonexistent/p.csv: cannot read: No such file") != NULL,
	    "missing file: FILE: cannot read");
	free(errs);

	unlink(path);
	rmdir(dir);
	return done_testing();
}
