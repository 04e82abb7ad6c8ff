/*
 * test-logprofile-replay.c: a profile made by profile-from-log, loaded by
 * the daemon's own loader (profile.c) and integrated by ratefn.c, puts
 * each interval's count of arrivals back in that interval; speed
 * compresses time and scale multiplies the rate as the loader says.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrivald.h"
#include "tap.h"

#define NINT 240

static uint64_t x = 0x9e3779b97f4a7c15ULL;

static uint32_t
draw(uint32_t n)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (uint32_t)(x % n);
}

static double
worst_error(const struct ratefn *f, const uint32_t *count, double s,
    double speed, double scale)
{
	double worst = 0, got, want;
	int i;

	for (i = 0; i < NINT; i++) {
		got = ratefn_integral(f, i * s / speed, (i + 1) * s / speed);
		want = count[i] * scale / speed;
		if (fabs(got - want) > worst)
			worst = fabs(got - want);
	}
	return worst;
}

int
main(void)
{
	char dir[] = "/tmp/test-logprofile-replay.XXXXXX", log[128], csv[128];
	char *argv[6], *errs = NULL;
	uint32_t count[NINT];
	struct ratefn f = { 0 };
	FILE *out;
	int i, rc;
	uint32_t j;
	long t0 = 1273928400; /* 2010-05-15T13:00:00Z, a minute boundary */
	time_t t;
	struct tm tm;
	char stamp[64];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(log, sizeof log, "%s/access.log", dir);
	snprintf(csv, sizeof csv, "%s/day.csv", dir);
	out = fopen(log, "w");
	/* quiet stretches, bursts, lone spikes; written newest first */
	for (i = 0; i < NINT; i++)
		count[i] = i % 40 < 5 ? 0 : i % 23 == 0 ? 400 + draw(100) :
		    draw(60);
	count[0] = 1;
	for (i = NINT - 1; i >= 0; i--) {
		for (j = 0; j < count[i]; j++) {
			t = t0 + i * 60 + draw(60) - 7 * 3600;
			gmtime_r(&t, &tm);
			strftime(stamp, sizeof stamp, "%d/%b/%Y:%H:%M:%S -0700",
			    &tm);
			fprintf(out, "192.0.2.%u - - [%s] \"GET / HTTP/1.1\" 200 "
			    "5 \"-\" \"test\"\n", draw(255), stamp);
		}
	}
	fclose(out);

	argv[0] = "profile-from-log";
	argv[1] = "-o";
	argv[2] = csv;
	argv[3] = log;
	argv[4] = NULL;
	if (freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	rc = logprofile_main(4, argv);
	ok(rc == 0, "profile-from-log made %s (exit %d)", csv, rc);

	rc = profile_load(csv, 1, 1, RATEFN_STOP, &f, &errs);
	ok(rc == 0, "the daemon's loader takes it%s%s", errs ? ": " : "",
	    errs ? errs : "");
	if (rc == 0) {
		ok(f.n == 2 * NINT + 1, "%d points", f.n);
		ok(worst_error(&f, count, 60, 1, 1) < 1e-5,
		    "replayed, every minute holds its count (worst error %g)",
		    worst_error(&f, count, 60, 1, 1));
		ok(ratefn_integral(&f, NINT * 60, NINT * 60 + 3600) == 0,
		    "end = stop: nothing after the last interval");
		ratefn_free(&f);
	}
	free(errs);
	errs = NULL;

	rc = profile_load(csv, 60, 1.5, RATEFN_LOOP, &f, &errs);
	ok(rc == 0, "loaded with speed 60, scale 1.5, loop");
	if (rc == 0) {
		ok(worst_error(&f, count, 60, 60, 1.5) < 1e-5,
		    "speed 60: a minute in a second, 1.5 times the count");
		ok(fabs(ratefn_integral(&f, NINT, 2 * NINT) -
		    ratefn_integral(&f, 0, NINT)) < 1e-6,
		    "loop: the second pass is the first again");
		ratefn_free(&f);
	}
	free(errs);
	unlink(log);
	unlink(csv);
	rmdir(dir);
	return done_testing();
}
