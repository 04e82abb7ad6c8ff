/*
 * curl-loop.c: the reference "bare libcurl multi_socket + libevent loop".
 *
 * It is the floor that arrivald's own HTTP layer is compared against: the
 * cheapest closed loop one can write on the same two libraries, with none
 * of the daemon's scheduling, measuring or accounting.  CONNS easy handles
 * are kept in flight; each one is re-added as soon as it completes, so the
 * multi handle's connection cache keeps CONNS keep-alive connections busy.
 *
 * The loop follows curl's hiperfifo example, with the two fixes that a
 * profile of that example asks for:
 *   - CURLOPT_NOSIGNAL and SIGPIPE ignored once here, or libcurl brackets
 *     every transfer with sigaction() calls;
 *   - a socket's event is re-armed only when the events libcurl wants on
 *     it change, or every socket callback costs an epoll_ctl pair.
 *
 * Invariants: libcurl is never called from inside its own callbacks (the
 * timer callback only arms a libevent timer); a handle is re-added only
 * from the event callbacks, after curl_multi_info_read has reported it
 * done and it has been removed.
 *
 * With -r RATE the loop is paced instead of closed: a timer issues one
 * request every 1/RATE seconds (evenly spaced, catching up when late) from
 * the pool of CONNS idle handles, and a request due when none is idle is
 * counted as skipped.  That is the same libcurl work at a fixed rate, the
 * reference for arrivald's CPU per request at a given open-model rate.
 * libevent's default timer has millisecond resolution, so at 10,000/s the
 * requests leave in bursts of ten per wake-up; -p gives the loop the
 * precise timer arrivald's workers use (EVENT_BASE_FLAG_PRECISE_TIMER),
 * and each request its own wake-up, as an open-model schedule needs.
 *
 * Output: one line of JSON on stdout, for bench/run to read.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

struct sock {
	curl_socket_t fd;
	int what;		/* CURL_POLL_* the event is armed for */
	struct event *ev;	/* owned; freed on CURL_POLL_REMOVE */
};

static struct event_base *base;
static CURLM *multi;
static struct event *timer;
static int running;		/* transfers libcurl still has */
static int stopping;
static long long completed, failed, started, limit;
static double t0;
static double pace;		/* -r: requests per second, 0 = closed loop */
static double next_due;		/* paced: when the next request is due */
static long long skipped;	/* paced: due with no idle handle */
static CURL **idle;		/* paced: handles not in flight */
static int nidle;
static struct event *pacer;

static void
die(const char *what)
{
	fprintf(stderr, "curl-loop: %s\n", what);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static void
issue(CURL *easy)
{
	if (stopping || (limit > 0 && started >= limit))
		return;
	started++;
	if (curl_multi_add_handle(multi, easy) != CURLM_OK)
		die("curl_multi_add_handle failed");
}

/* Reap finished transfers and put their handles straight back in. */
static void
reap(void)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		CURL *easy;
		CURLcode rc;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* The message dies with the removal: copy first. */
		easy = msg->easy_handle;
		rc = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(multi, easy);
		if (rc == CURLE_OK && status >= 200 && status < 400)
			completed++;
		else {
			failed++;
			if (failed == 1)
				fprintf(stderr, "curl-loop: first failure: %s "
				    "(HTTP %ld)\n", curl_easy_strerror(rc), status);
		}
		if (limit > 0 && completed + failed >= limit)
			event_base_loopbreak(base);
		if (pace > 0)
			idle[nidle++] = easy;
		else
			issue(easy);
	}
}

static void
on_socket(evutil_socket_t fd, short events, void *arg)
{
	int flags = 0;

	if (events & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(multi, fd, flags, &running);
	reap();
}

static void
on_timer(evutil_socket_t fd, short events, void *arg)
{
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap();
}

/* Paced: issue what is due, then sleep until the next one. */
static void
on_pace(evutil_socket_t fd, short events, void *arg)
{
	double t = now(), wait;
	struct timeval tv;

	while (next_due <= t && !stopping) {
		if (nidle > 0)
			issue(idle[--nidle]);
		else
			skipped++;
		next_due += 1.0 / pace;
	}
	wait = next_due - t;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(pacer, &tv);
}

static void
on_deadline(evutil_socket_t fd, short events, void *arg)
{
	stopping = 1;
	event_base_loopbreak(base);
}

/* CURLMOPT_TIMERFUNCTION: only arms the libevent timer. */
static int
want_timer(CURLM *m, long ms, void *arg)
{
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: arm, re-arm only on change, or forget. */
static int
want_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct sock *s = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
			curl_multi_assign(multi, fd, NULL);
		}
		return 0;
	}
	if (s != NULL && s->what == what && s->fd == fd)
		return 0;
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		if ((s = calloc(1, sizeof *s)) == NULL)
			die("out of memory");
		curl_multi_assign(multi, fd, s);
	} else
		event_free(s->ev);
	s->fd = fd;
	s->what = what;
	s->ev = event_new(base, fd, kind, on_socket, NULL);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		die("cannot arm a socket event");
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: curl-loop -u URL -c CONNS -d SECONDS "
	    "[-n REQUESTS] [-r RATE [-p]]\n");
	exit(2);
}

static double
number(const char *s, const char *name, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min) {
		fprintf(stderr, "curl-loop: bad %s: '%s'\n", name, s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *url = NULL;
	int conns = 32, c, i;
	double seconds = 10, elapsed, used, c0;
	struct timeval tv;
	struct event *deadline;
	struct event_config *cfg;
	int precise = 0;
	CURL **easy;

	while ((c = getopt(argc, argv, "u:c:d:n:r:ph")) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c': conns = (int)number(optarg, "-c CONNS", 1); break;
		case 'd': seconds = number(optarg, "-d SECONDS", 0.001); break;
		case 'n': limit = (long long)number(optarg, "-n REQUESTS", 1); break;
		case 'r': pace = number(optarg, "-r RATE", 0.001); break;
		case 'p': precise = 1; break;
		default: usage();
		}
	}
	if (url == NULL || optind != argc)
		usage();

	/* Once here rather than per transfer inside libcurl. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	if ((cfg = event_config_new()) == NULL)
		die("event_config_new failed");
	if (precise)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL)
		die("event_base_new failed");
	timer = evtimer_new(base, on_timer, NULL);
	deadline = evtimer_new(base, on_deadline, NULL);
	if ((multi = curl_multi_init()) == NULL)
		die("curl_multi_init failed");
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, want_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, want_timer);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conns);

	easy = calloc(conns, sizeof *easy);
	if (easy == NULL)
		die("out of memory");
	for (i = 0; i < conns; i++) {
		if ((easy[i] = curl_easy_init()) == NULL)
			die("curl_easy_init failed");
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(easy[i], CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
	}

	t0 = now();
	c0 = cpu();
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(deadline, &tv);
	if (pace > 0) {
		if ((idle = calloc(conns, sizeof *idle)) == NULL)
			die("out of memory");
		for (i = 0; i < conns; i++)
			idle[nidle++] = easy[i];
		pacer = evtimer_new(base, on_pace, NULL);
		next_due = t0;
		on_pace(-1, 0, NULL);
	} else
		for (i = 0; i < conns; i++)
			issue(easy[i]);
	event_base_dispatch(base);
	elapsed = now() - t0;
	used = cpu() - c0;

	printf("{\"requests_per_s\": %.1f, \"cpu_us_per_request\": %.2f, "
	    "\"completed\": %lld, \"failed\": %lld, \"seconds\": %.3f, "
	    "\"conns\": %d, \"rate\": %.1f, \"skipped\": %lld}\n",
	    completed / elapsed, completed > 0 ? used * 1e6 / completed : 0.0,
	    completed, failed, elapsed, conns, pace, skipped);
	fflush(stdout);

	/* curl_multi_cleanup first: it may still call want_socket. */
	for (i = 0; i < conns; i++) {
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	curl_multi_cleanup(multi);
	free(easy);
	free(idle);
	if (pacer != NULL)
		event_free(pacer);
	event_free(timer);
	event_free(deadline);
	event_base_free(base);
	curl_global_cleanup();
	return completed > 0 ? 0 : 1;
}
