/*
 * arrivalctl.c: the control client.  One command per call, sent as one
 * line to one or more daemons (a fleet: several -s), each reply shown
 * for a person or, with -j, as the JSON line itself; `watch` as a live
 * view on a terminal or JSON lines otherwise.  `report` and
 * `profile-from-log` need no daemon and run here.
 *
 * Exit status: 0 ok, 1 a daemon answered an error, 2 usage or a daemon
 * could not be reached.  The worst over the fleet wins.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arrivald.h"
#include "ctl-proto.h"

#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define REPLY_TIMEOUT 30   /* seconds to wait for an answer */
#define SPARK_LEN 40       /* intervals of lambda in the live view */
#define MAX_SOCKETS 256

struct shard {
	const char *path;
	int fd;
	char *buf;             /* unread bytes from the daemon */
	size_t n, size;
	json_t *last;          /* the newest reply */
	int status;            /* exit status so far for this one */
};

static struct shard shards[MAX_SOCKETS];
static int nshards;
static int json_out;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: arrivalctl [-j] [-s SOCKET]... COMMAND [ARGS...]\n"
	    "       arrivalctl report DIR\n"
	    "       arrivalctl profile-from-log [--interval S] "
	    "[--format combined|common] [-o FILE] LOG...\n"
	    "commands:\n");
	for (int i = 0; ctl_help[i] != NULL; i++) {
		const char *tab = strchr(ctl_help[i], '\t');
		fprintf(stderr, "  %-38.*s %s\n", (int)(tab - ctl_help[i]),
		    ctl_help[i], tab + 1);
	}
	exit(EXIT_USAGE);
}

/* --- talking to a daemon --- */

static int
dial(struct shard *s)
{
	struct sockaddr_un sun;
	struct timeval tv = { REPLY_TIMEOUT, 0 };

	if (strlen(s->path) >= sizeof sun.sun_path) {
		fprintf(stderr, "arrivalctl: %s: socket path too long\n", s->path);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, s->path);
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(s->fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		fprintf(stderr, "arrivalctl: %s: %s\n", s->path, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return -1;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return 0;
}

static int
send_line(struct shard *s, const char *line)
{
	size_t n = strlen(line), off = 0;

	while (off < n) {
		ssize_t r = send(s->fd, line + off, n - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "arrivalctl: %s: %s\n", s->path,
			    r < 0 ? strerror(errno) : "connection closed");
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* A complete line already buffered, as a string (malloc'd), or NULL. */
static char *
take_line(struct shard *s)
{
	char *nl, *line;
	size_t len;

	if (s->n == 0 || (nl = memchr(s->buf, '\n', s->n)) == NULL)
		return NULL;
	len = (size_t)(nl - s->buf);
	line = xstrndup(s->buf, len);
	memmove(s->buf, nl + 1, s->n - len - 1);
	s->n -= len + 1;
	return line;
}

/* Read more; 1 got bytes, 0 EOF, -1 error (message printed). */
static int
fill(struct shard *s)
{
	ssize_t r;

	if (s->size - s->n < 4096) {
		if (s->size > 64 * 1024 * 1024) {
			fprintf(stderr, "arrivalctl: %s: reply too long\n", s->path);
			return -1;
		}
		s->size = s->size ? s->size * 2 : 65536;
		s->buf = xrealloc(s->buf, s->size);
	}
	do
		r = recv(s->fd, s->buf + s->n, s->size - s->n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		fprintf(stderr, "arrivalctl: %s: %s\n", s->path,
		    errno == EAGAIN ? "no reply" : strerror(errno));
		return -1;
	}
	s->n += (size_t)r;
	return r > 0;
}

/* One reply line, parsed; NULL with a message if none or not JSON. */
static json_t *
read_reply(struct shard *s, char **raw, int timeout)
{
	struct pollfd pfd = { s->fd, POLLIN, 0 };
	json_error_t je;
	json_t *j;
	char *line;

	while ((line = take_line(s)) == NULL) {
		int r = poll(&pfd, 1, timeout < 0 ? -1 : timeout * 1000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fprintf(stderr, "arrivalctl: %s: no reply\n", s->path);
			return NULL;
		}
		if ((r = fill(s)) <= 0) {
			if (r == 0)
				fprintf(stderr, "arrivalctl: %s: connection "
				    "closed\n", s->path);
			return NULL;
		}
	}
	if ((j = json_loads(line, 0, &je)) == NULL || !json_is_object(j)) {
		fprintf(stderr, "arrivalctl: %s: malformed reply: %s\n", s->path,
		    j == NULL ? je.text : "not an object");
		json_decref(j);
		free(line);
		return NULL;
	}
	if (raw != NULL)
		*raw = line;
	else
		free(line);
	return j;
}

/* --- formatting --- */

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "-";
}

/* the value as a double; 0 and *ok = 0 if missing or not a number */
static double
num(json_t *o, const char *k, int *ok)
{
	json_t *v = json_object_get(o, k);

	if (ok != NULL)
		*ok = json_is_number(v);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void
fmt_duration(char *b, size_t n, double s)
{
	if (s < 60)
		snprintf(b, n, "%.1f s", s);
	else if (s < 3600)
		snprintf(b, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(b, n, "%dh%02dm%02ds", (int)(s / 3600),
		    (int)fmod(s / 60, 60), (int)fmod(s, 60));
}

static void
fmt_latency(char *b, size_t n, double s)
{
	if (s < 1e-3)
		snprintf(b, n, "%.0f us", s * 1e6);
	else if (s < 1)
		snprintf(b, n, "%.2f ms", s * 1e3);
	else
		snprintf(b, n, "%.3f s", s);
}

enum unit { U_TEXT, U_RATE, U_COUNT, U_REAL, U_LATENCY, U_SECONDS, U_BOOL };

static const struct field {
	const char *name;
	enum unit unit;
	int fleet_sum;         /* summed over a fleet */
} fields[] = {
	{ "model", U_TEXT, 0 }, { "arrivals", U_TEXT, 0 }, { "state", U_TEXT, 0 },
	{ "shard", U_TEXT, 0 }, { "rate_target", U_RATE, 0 },
	{ "lambda", U_RATE, 1 }, { "X", U_RATE, 1 }, { "Q", U_REAL, 1 },
	{ "R", U_LATENCY, 0 }, { "N", U_COUNT, 0 }, { "Z", U_SECONDS, 0 },
	{ "Q_over_Z", U_RATE, 1 }, { "lambda_N", U_RATE, 0 },
	{ "scale", U_REAL, 0 }, { "autoscale_limited", U_BOOL, 0 },
	{ "sent", U_COUNT, 1 }, { "completed", U_COUNT, 1 },
	{ "failed", U_COUNT, 1 }, { "dropped", U_COUNT, 1 },
	{ "in_flight", U_COUNT, 1 }, { "p50", U_LATENCY, 0 },
	{ "p90", U_LATENCY, 0 }, { "p99", U_LATENCY, 0 },
	{ "p999", U_LATENCY, 0 }, { "max", U_LATENCY, 0 },
	{ "window", U_SECONDS, 0 }, { "uptime", U_SECONDS, 0 },
	{ "duration", U_SECONDS, 0 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static void
fmt_value(char *b, size_t n, json_t *v, enum unit u)
{
	double d;

	if (v == NULL || json_is_null(v)) {
		snprintf(b, n, "-");
		return;
	}
	if (json_is_string(v)) {
		snprintf(b, n, "%s", json_string_value(v));
		return;
	}
	if (json_is_boolean(v)) {
		snprintf(b, n, "%s", json_is_true(v) ? "yes" : "no");
		return;
	}
	if (!json_is_number(v)) {
		snprintf(b, n, "?");
		return;
	}
	d = json_number_value(v);
	switch (u) {
	case U_RATE:
		snprintf(b, n, "%.2f/s", d);
		break;
	case U_COUNT:
		snprintf(b, n, "%.0f", d);
		break;
	case U_LATENCY:
		fmt_latency(b, n, d);
		break;
	case U_SECONDS:
		if (d == 0)
			snprintf(b, n, "0");
		else
			fmt_duration(b, n, d);
		break;
	default:
		snprintf(b, n, "%.3g", d);
		break;
	}
}

/*
 * The fleet's view: the sums over shards of the additive fields; and
 * Q_over_Z as sum of Q_i/Z_i (= sum Q / Z when the shards share Z).
 * Targets (rate_target, N) are the fleet's on every shard, so they are
 * taken once, as the largest (as the Prometheus rules do), never summed.
 * The rest are taken from the first shard only where all agree.
 */
static json_t *
fleet_sum(json_t **objs, int n)
{
	json_t *f = json_object();
	size_t i;
	int k;

	for (i = 0; i < NFIELDS; i++) {
		double sum = 0;
		int have = 0, ok;

		if (!fields[i].fleet_sum)
			continue;
		for (k = 0; k < n; k++) {
			double v = objs[k] ? num(objs[k], fields[i].name, &ok) : 0;
			if (objs[k] && ok) {
				sum += v;
				have = 1;
			}
		}
		json_object_set_new(f, fields[i].name, have ? json_real(sum) :
		    json_null());
	}
	/* what is common, shown once: model, arrivals, state, Z, ... */
	for (i = 0; i < NFIELDS; i++) {
		json_t *first = NULL;
		int same = 1;

		if (fields[i].fleet_sum)
			continue;
		if (strcmp(fields[i].name, "rate_target") == 0 ||
		    strcmp(fields[i].name, "N") == 0) {
			double max = 0;
			int have = 0, ok;

			for (k = 0; k < n; k++) {
				double v = objs[k] ? num(objs[k], fields[i].name, &ok) : 0;
				if (objs[k] && ok && (!have || v > max)) {
					max = v;
					have = 1;
				}
			}
			if (have)
				json_object_set_new(f, fields[i].name, json_real(max));
			continue;
		}
		for (k = 0; k < n; k++) {
			json_t *v = objs[k] ? json_object_get(objs[k],
			    fields[i].name) : NULL;
			if (k == 0)
				first = v;
			else if (!json_equal(first, v))
				same = 0;
		}
		if (same && first != NULL && (fields[i].unit == U_TEXT ||
		    strcmp(fields[i].name, "Z") == 0 ||
		    strcmp(fields[i].name, "duration") == 0))
			json_object_set(f, fields[i].name, first);
	}
	json_object_set_new(f, "shard", json_string("fleet"));
	return f;
}

static void
print_stats(json_t **objs, int n, const char *const *titles)
{
	json_t *fleet = n > 1 ? fleet_sum(objs, n) : NULL;
	int cols = n + (fleet != NULL), k, w = 14;
	char b[64];
	size_t i;

	if (n > 1) {
		printf("%-18s", "");
		for (k = 0; k < n; k++) {
			const char *t = titles[k], *slash = strrchr(t, '/');
			printf(" %*.*s", w, w, slash && slash[1] ? slash + 1 : t);
		}
		printf(" %*s\n", w, "fleet");
	}
	for (i = 0; i < NFIELDS; i++) {
		printf("%-18s", fields[i].name);
		for (k = 0; k < cols; k++) {
			json_t *o = k < n ? objs[k] : fleet;
			fmt_value(b, sizeof b, o ? json_object_get(o,
			    fields[i].name) : NULL, fields[i].unit);
			if (n == 1)
				printf(" %s", b);
			else
				printf(" %*s", w, b);
		}
		printf("\n");
	}
	/* failures by reason, the profile and the timers, per shard */
	for (k = 0; k < n; k++) {
		json_t *o = objs[k], *v, *t;
		const char *key;
		size_t idx;

		if (o == NULL)
			continue;
		if (n > 1)
			printf("\n[%s]\n", titles[k]);
		v = json_object_get(o, "failures");
		if (json_is_object(v) && json_object_size(v) > 0) {
			printf("failures:");
			json_object_foreach(v, key, t)
				printf(" %s %.0f", key, json_number_value(t));
			printf("\n");
		}
		v = json_object_get(o, "profile");
		if (json_is_object(v)) {
			fmt_value(b, sizeof b, json_object_get(v, "rate"), U_RATE);
			printf("profile: %s at %s, rate %s\n", str(v, "file"),
			    json_is_number(json_object_get(v, "position")) ?
			    (fmt_duration(b + 32, 32, num(v, "position", NULL)),
			    b + 32) : "-", b);
		}
		v = json_object_get(o, "timers");
		if (json_is_array(v) && json_array_size(v) > 0) {
			char p50[32], p99[32];

			printf("%-24s %10s %10s %8s %10s %10s\n", "timer", "sent",
			    "completed", "failed", "p50", "p99");
			json_array_foreach(v, idx, t) {
				fmt_value(p50, sizeof p50, json_object_get(t, "p50"),
				    U_LATENCY);
				fmt_value(p99, sizeof p99, json_object_get(t, "p99"),
				    U_LATENCY);
				printf("%-24s %10.0f %10.0f %8.0f %10s %10s\n",
				    str(t, "name"), num(t, "sent", NULL),
				    num(t, "completed", NULL), num(t, "failed", NULL),
				    p50, p99);
			}
		}
	}
	json_decref(fleet);
}

static void
print_confirmation(const struct ctl_request *rq, json_t *j, const char *prefix)
{
	const char *msg = json_string_value(json_object_get(j, "message"));
	char b[256];

	if (msg != NULL) {
		printf("%s%s\n", prefix, msg);
		return;
	}
	switch (rq->cmd) {
	case CTL_SET_RATE:
		if (rq->over > 0)
			snprintf(b, sizeof b, "rate target %g/s over %g s",
			    rq->rate, rq->over);
		else
			snprintf(b, sizeof b, "rate target %g/s", rq->rate);
		break;
	case CTL_SET_ARRIVALS:
		snprintf(b, sizeof b, "arrivals %s", rq->arrivals ? "constant" :
		    "poisson");
		break;
	case CTL_SET_MODEL:
		snprintf(b, sizeof b, "model %s", rq->model ? "closed" : "open");
		break;
	case CTL_SET_USERS:
		if (rq->has_think)
			snprintf(b, sizeof b, "users %llu, think %g s",
			    (unsigned long long)rq->users, rq->think);
		else
			snprintf(b, sizeof b, "users %llu",
			    (unsigned long long)rq->users);
		break;
	case CTL_SET_AUTOSCALE:
		snprintf(b, sizeof b, "autoscale %s", rq->on ? "on" : "off");
		break;
	case CTL_PAUSE:
		snprintf(b, sizeof b, "paused");
		break;
	case CTL_RESUME:
		snprintf(b, sizeof b, "resumed");
		break;
	case CTL_SET_PROFILE:
		snprintf(b, sizeof b, "replaying %.80s (speed %g, scale %g)",
		    rq->path, rq->speed, rq->scale);
		break;
	case CTL_PROFILE_OFF:
		snprintf(b, sizeof b, "profile off");
		break;
	case CTL_RELOAD:
		snprintf(b, sizeof b, "configuration reloaded");
		break;
	case CTL_STOP:
		snprintf(b, sizeof b, "stopping");
		break;
	default:
		snprintf(b, sizeof b, "ok");
		break;
	}
	printf("%s%s\n", prefix, b);
}

static void
print_help(json_t *j)
{
	json_t *cmds = json_object_get(j, "commands"), *c;
	size_t i;

	if (!json_is_array(cmds) || json_array_size(cmds) == 0) {
		for (i = 0; ctl_help[i] != NULL; i++) {
			const char *tab = strchr(ctl_help[i], '\t');
			printf("%-38.*s %s\n", (int)(tab - ctl_help[i]),
			    ctl_help[i], tab + 1);
		}
		return;
	}
	json_array_foreach(cmds, i, c) {
		if (json_is_string(c)) {
			const char *s = json_string_value(c), *tab = strchr(s, '\t');
			if (tab != NULL)
				printf("%-38.*s %s\n", (int)(tab - s), s, tab + 1);
			else
				printf("%s\n", s);
		} else
			printf("%-38s %s\n", str(c, "syntax"),
			    str(c, "description"));
	}
}

/* --- the live view --- */

static double spark[SPARK_LEN];
static int nspark;
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = 1;
}

static void
sparkline(char *b, size_t size)
{
	static const char *const blocks[8] = {
		"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586",
		"\u2587", "\u2588"
	};
	double lo = INFINITY, hi = -INFINITY;
	size_t off = 0;
	int i;

	for (i = 0; i < nspark; i++) {
		lo = fmin(lo, spark[i]);
		hi = fmax(hi, spark[i]);
	}
	b[0] = '\0';
	for (i = 0; i < nspark && off + 4 < size; i++) {
		int lvl = hi > lo ? (int)((spark[i] - lo) / (hi - lo) * 7.999) : 3;
		off += (size_t)snprintf(b + off, size - off, "%s", blocks[lvl]);
	}
}

static void
draw(json_t *o, const char *title)
{
	char a[32], b2[32], c[32], d[32], line[SPARK_LEN * 4 + 8];
	double dur, up;
	int ok1, ok2;

	if (nspark == SPARK_LEN)
		memmove(spark, spark + 1, (SPARK_LEN - 1) * sizeof spark[0]);
	else
		nspark++;
	spark[nspark - 1] = num(o, "lambda", NULL);

	printf("\033[H\033[2J");
	fmt_value(a, sizeof a, json_object_get(o, "uptime"), U_SECONDS);
	printf("arrivald %s  %s  %s/%s  shard %s  up %s\n\n", title,
	    str(o, "state"), str(o, "model"), str(o, "arrivals"), str(o, "shard"),
	    a);
	fmt_value(a, sizeof a, json_object_get(o, "rate_target"), U_RATE);
	fmt_value(b2, sizeof b2, json_object_get(o, "lambda"), U_RATE);
	fmt_value(c, sizeof c, json_object_get(o, "X"), U_RATE);
	printf("  target %-14s lambda %-14s X %s\n", a, b2, c);
	fmt_value(a, sizeof a, json_object_get(o, "Q"), U_REAL);
	fmt_value(b2, sizeof b2, json_object_get(o, "Q_over_Z"), U_RATE);
	fmt_value(c, sizeof c, json_object_get(o, "N"), U_COUNT);
	fmt_value(d, sizeof d, json_object_get(o, "Z"), U_SECONDS);
	printf("  Q      %-14s Q/Z    %-14s N %-10s Z %s\n", a, b2, c, d);
	fmt_value(a, sizeof a, json_object_get(o, "R"), U_LATENCY);
	fmt_value(b2, sizeof b2, json_object_get(o, "p50"), U_LATENCY);
	fmt_value(c, sizeof c, json_object_get(o, "p99"), U_LATENCY);
	fmt_value(d, sizeof d, json_object_get(o, "max"), U_LATENCY);
	printf("  R      %-14s p50    %-14s p99 %-10s max %s\n", a, b2, c, d);
	printf("  sent %.0f  completed %.0f  failed %.0f  dropped %.0f  "
	    "in flight %.0f\n", num(o, "sent", NULL), num(o, "completed", NULL),
	    num(o, "failed", NULL), num(o, "dropped", NULL),
	    num(o, "in_flight", NULL));
	{
		json_t *f = json_object_get(o, "failures"), *v;
		const char *k;

		if (json_is_object(f) && json_object_size(f) > 0) {
			printf("  failures:");
			json_object_foreach(f, k, v)
				printf(" %s %.0f", k, json_number_value(v));
			printf("\n");
		}
	}
	sparkline(line, sizeof line);
	printf("\n  lambda %s\n", line);
	dur = num(o, "duration", &ok1);
	up = num(o, "uptime", &ok2);
	if (ok1 && ok2 && dur > 0) {
		double f = fmin(fmax(up / dur, 0), 1);
		int i, fill = (int)(f * 40 + 0.5);

		printf("  [");
		for (i = 0; i < 40; i++)
			printf("%s", i < fill ? "#" : ".");
		printf("] %3.0f%%  %.0f/%.0f s\n", f * 100, up, dur);
	}
	fflush(stdout);
}

static int
watch(const char *line)
{
	struct pollfd pfd[MAX_SOCKETS];
	int k, open = 0, tty = isatty(STDOUT_FILENO) && !json_out;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (k = 0; k < nshards; k++) {
		pfd[k].fd = shards[k].fd;
		pfd[k].events = POLLIN;
		if (shards[k].fd >= 0 && send_line(&shards[k], line) == 0)
			open++;
		else
			shards[k].status = EXIT_USAGE, pfd[k].fd = -1;
	}
	while (open > 0 && !interrupted) {
		int changed = 0;

		if (poll(pfd, (nfds_t)nshards, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < nshards; k++) {
			struct shard *s = &shards[k];
			char *raw;
			int r;

			if (pfd[k].fd < 0 || pfd[k].revents == 0)
				continue;
			if ((r = fill(s)) <= 0) {
				/* EOF: the daemon went (stopped); not an error */
				if (r < 0)
					s->status = EXIT_USAGE;
				pfd[k].fd = -1;
				open--;
				continue;
			}
			while ((raw = take_line(s)) != NULL) {
				json_t *j = json_loads(raw, 0, NULL);

				if (j == NULL || !json_is_object(j)) {
					fprintf(stderr, "arrivalctl: %s: malformed "
					    "line\n", s->path);
				} else if (json_is_false(json_object_get(j, "ok"))) {
					fprintf(stderr, "arrivalctl: %s: %s\n",
					    s->path, str(j, "error"));
					s->status = EXIT_ERROR;
				} else if (!tty) {
					if (nshards > 1) {
						char *out;
						json_object_set_new(j, "socket",
						    json_string(s->path));
						out = json_dumps(j, JSON_COMPACT);
						printf("%s\n", out);
						free(out);
					} else
						printf("%s\n", raw);
					fflush(stdout);
				} else {
					json_decref(s->last);
					s->last = json_incref(j);
					changed = 1;
				}
				json_decref(j);
				free(raw);
			}
		}
		/* the reader went (| head): nothing more to do */
		if (ferror(stdout) || fflush(stdout) == EOF)
			return 0;
		if (tty && changed) {
			json_t *objs[MAX_SOCKETS];

			for (k = 0; k < nshards; k++)
				objs[k] = shards[k].last;
			if (nshards == 1)
				draw(objs[0], shards[0].path);
			else {
				json_t *f = fleet_sum(objs, nshards);
				char title[64];

				snprintf(title, sizeof title, "fleet of %d", nshards);
				draw(f, title);
				json_decref(f);
			}
		}
	}
	if (interrupted)
		return 0;
	for (k = 0, open = 0; k < nshards; k++)
		open = shards[k].status > open ? shards[k].status : open;
	return open;
}

/* --- one command to every socket --- */

static int
command(const char *line, const struct ctl_request *rq)
{
	json_t *objs[MAX_SOCKETS];
	const char *titles[MAX_SOCKETS];
	int k, status = 0;

	for (k = 0; k < nshards; k++) {
		struct shard *s = &shards[k];
		char *raw = NULL;
		json_t *j;

		objs[k] = NULL;
		titles[k] = s->path;
		if (s->fd < 0 || send_line(s, line) != 0 ||
		    (j = read_reply(s, &raw, REPLY_TIMEOUT)) == NULL) {
			s->status = EXIT_USAGE;
			continue;
		}
		if (!json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "arrivalctl: %s%s%s\n",
			    nshards > 1 ? s->path : "", nshards > 1 ? ": " : "",
			    str(j, "error"));
			s->status = EXIT_ERROR;
			json_decref(j);
			free(raw);
			continue;
		}
		if (json_out) {
			if (nshards > 1) {
				char *out;
				json_object_set_new(j, "socket", json_string(s->path));
				out = json_dumps(j, JSON_COMPACT);
				printf("%s\n", out);
				free(out);
			} else
				printf("%s\n", raw);
		} else if (rq->cmd == CTL_VERSION) {
			printf("%s%sarrivald %s\n", nshards > 1 ? s->path : "",
			    nshards > 1 ? ": " : "", str(j, "version"));
		} else if (rq->cmd == CTL_HELP) {
			if (k == 0)
				print_help(j);
		} else if (rq->cmd != CTL_STATS) {
			char prefix[300];

			snprintf(prefix, sizeof prefix, "%s%s", nshards > 1 ?
			    s->path : "", nshards > 1 ? ": " : "");
			print_confirmation(rq, j, prefix);
		}
		free(raw);
		objs[k] = j;
	}
	if (!json_out && rq->cmd == CTL_STATS) {
		int any = 0;

		for (k = 0; k < nshards; k++)
			any |= objs[k] != NULL;
		if (any)
			print_stats(objs, nshards, titles);
	}
	for (k = 0; k < nshards; k++) {
		json_decref(objs[k]);
		status = shards[k].status > status ? shards[k].status : status;
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct ctl_request rq;
	char line[CTL_LINE_MAX + 2], err[256];
	const char *env;
	size_t len = 0;
	int ch, i, status;

	log_init(0);
	while ((ch = getopt(argc, argv, "+s:jhV")) != -1) {
		switch (ch) {
		case 's':
			if (nshards == MAX_SOCKETS) {
				fprintf(stderr, "arrivalctl: at most %d sockets\n",
				    MAX_SOCKETS);
				return EXIT_USAGE;
			}
			shards[nshards++].path = optarg;
			break;
		case 'j':
			json_out = 1;
			break;
		case 'V':
			printf("arrivalctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();

	/* the local subcommands: no daemon needed */
	if (strcmp(argv[0], "report") == 0) {
		char *rerr = NULL;

		if (argc != 2)
			usage();
		if (report_write(argv[1], &rerr) != 0) {
			fprintf(stderr, "arrivalctl: report: %s\n",
			    rerr ? rerr : "failed");
			free(rerr);
			return EXIT_ERROR;
		}
		return 0;
	}
	if (strcmp(argv[0], "profile-from-log") == 0)
		return logprofile_main(argc, argv);

	/* the words as one line, checked here first */
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof line) {
			fprintf(stderr, "arrivalctl: %s\n", CTL_ERR_LONG);
			return EXIT_USAGE;
		}
		if (i > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len] = '\0';
	if (ctl_parse(line, len, &rq, err, sizeof err) != 0) {
		fprintf(stderr, "arrivalctl: %s\n", err);
		return EXIT_USAGE;
	}
	line[len++] = '\n';
	line[len] = '\0';

	if (nshards == 0) {
		env = getenv("ARRIVALD_SOCKET");
		shards[nshards++].path = env != NULL && *env != '\0' ? env :
		    DEFAULT_SOCKET;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < nshards; i++)
		if (dial(&shards[i]) != 0)
			shards[i].status = EXIT_USAGE;

	status = rq.cmd == CTL_WATCH ? watch(line) : command(line, &rq);
	for (i = 0; i < nshards; i++) {
		if (shards[i].fd >= 0)
			close(shards[i].fd);
		free(shards[i].buf);
		json_decref(shards[i].last);
	}
	return status;
}
