/*
 * test-notify.c: notify.c against a NOTIFY_SOCKET of our own.  The
 * datagrams must be exactly what systemd parses; the watchdog must ping
 * at half its period from the event loop; socket activation must hand
 * back a listening AF_UNIX stream socket and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "arrivald.h"
#include "tap.h"

static char dir[] = "/tmp/test-notify.XXXXXX";
static char sockpath[256];
static int nfd = -1;

/* move fd out of the way of fd 3 and up, which activation tests take */
static int
high(int fd)
{
	int h;

	if (fd < 0) {
		perror("socket");
		exit(99);
	}
	if ((h = fcntl(fd, F_DUPFD_CLOEXEC, 20)) < 0) {
		perror("fcntl");
		exit(99);
	}
	close(fd);
	return h;
}

static uint64_t __attribute__((unused))
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* one datagram within ms milliseconds, NUL-terminated; -1 if none came */
static int
recv_one(char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = nfd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	if ((n = recv(nfd, buf, len - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static void
drain(void)
{
	char buf[512];

	while (recv_one(buf, sizeof buf, 0) >= 0)
		;
}

static int
unix_socket(int type, const char *name, int listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0)
		return -1;
	if (name != NULL) {
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, name);
		unlink(sa.sun_path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			perror("bind");
			exit(99);
		}
	}
	if (listening && listen(fd, 4) != 0) {
		perror("listen");
		exit(99);
	}
	return fd;
}

/* put fd at fd target, as systemd would */
static void
place(int fd, int target)
{
	if (fd == target)
		return;
	if (dup2(fd, target) != target) {
		perror("dup2");
		exit(99);
	}
	close(fd);
}

static void
activation_env(int nfds, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%d", nfds);
	setenv("LISTEN_FDS", buf, 1);
	snprintf(buf, sizeof buf, "%ld", (long)pid);
	setenv("LISTEN_PID", buf, 1);
}

/* the watchdog test's receiver: arrival times of WATCHDOG=1 */
#define MAX_PINGS 64
static int64_t pings[MAX_PINGS];
static int npings, nother;

static void
on_datagram(evutil_socket_t fd, short what, void *arg)
{
	char buf[512];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
		buf[n] = '\0';
		if (strcmp(buf, "WATCHDOG=1") == 0 && npings < MAX_PINGS)
			pings[npings++] = clock_now();
		else
			nother++;
	}
}

/* run a loop for ms milliseconds with the notify socket watched */
static void
run_loop(int ms)
{
	struct event_base *base = event_base_new();
	struct event *rd;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	npings = nother = 0;
	notify_init(base);
	rd = event_new(base, nfd, EV_READ | EV_PERSIST, on_datagram, NULL);
	event_add(rd, NULL);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	event_free(rd);
	notify_fini();
	event_base_free(base);
}

#ifdef HAVE_SYSTEMD
static void
test_messages(void)
{
	char buf[512], extra[64];
	unsigned long long usec = 0;
	uint64_t before, after;
	int n;

	drain();
	notify_ready();
	ok(recv_one(buf, sizeof buf, 1000) > 0 && strcmp(buf, "READY=1") == 0,
	    "notify_ready sends READY=1 (got \"%s\")", buf);

	notify_status("running: lambda=%.1f X=%.1f", 150.0, 149.5);
	ok(recv_one(buf, sizeof buf, 1000) > 0 &&
	    strcmp(buf, "STATUS=running: lambda=150.0 X=149.5") == 0,
	    "notify_status sends one STATUS= line (got \"%s\")", buf);

	notify_status("two\nlines\tand a tab");
	ok(recv_one(buf, sizeof buf, 1000) > 0 &&
	    strcmp(buf, "STATUS=two lines and a tab") == 0,
	    "notify_status folds control characters into spaces (got \"%s\")", buf);

	before = mono_usec();
	notify_reloading();
	after = mono_usec();
	n = recv_one(buf, sizeof buf, 1000);
	extra[0] = '\0';
	ok(n > 0 && sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu%63s", &usec, extra) == 1,
	    "notify_reloading sends RELOADING=1 then MONOTONIC_USEC= and nothing else");
	ok(usec >= before && usec <= after,
	    "MONOTONIC_USEC is CLOCK_MONOTONIC at the call (%" PRIu64 " <= %llu <= %" PRIu64 ")",
	    before, usec, after);

	notify_ready();
	ok(recv_one(buf, sizeof buf, 1000) > 0 && strcmp(buf, "READY=1") == 0,
	    "READY=1 again after a reload");

	notify_stopping();
	ok(recv_one(buf, sizeof buf, 1000) > 0 && strcmp(buf, "STOPPING=1") == 0,
	    "notify_stopping sends STOPPING=1 (got \"%s\")", buf);

	unsetenv("NOTIFY_SOCKET");
	notify_ready();
	notify_status("nobody listens");
	ok(recv_one(buf, sizeof buf, 100) < 0,
	    "without NOTIFY_SOCKET nothing is sent and nothing breaks");
	setenv("NOTIFY_SOCKET", sockpath, 1);
}

static void
test_watchdog(void)
{
	char buf[32];
	int i, bad = 0;
	double gap, mean, lo = 1e9, hi = 0;

	drain();
	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(buf, sizeof buf, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", buf, 1);
	run_loop(1050);
	/* pings at 100, 200, ... 1000 ms: ten, give or take a late timer */
	ok(npings >= 8 && npings <= 11,
	    "WATCHDOG_USEC=200000: %d pings in 1.05 s (expect 10)", npings);
	ok(nother == 0, "the watchdog sends nothing but WATCHDOG=1 (%d other)", nother);
	for (i = 1; i < npings; i++) {
		gap = (pings[i] - pings[i - 1]) / 1e6;
		if (gap < lo)
			lo = gap;
		if (gap > hi)
			hi = gap;
		if (gap > 250)
			bad++;
	}
	mean = npings > 1 ? (pings[npings - 1] - pings[0]) / 1e6 / (npings - 1) : 0;
	ok(npings > 1 && mean > 85 && mean < 130,
	    "pings are half the period apart on average (%.1f ms, expect 100)", mean);
	/*
	 * What the manager needs is that no gap reaches its 200 ms period
	 * (250 allows a late timer).  A short gap is right: the timer keeps
	 * its schedule, so a late ping is followed by an on-time one.
	 */
	ok(npings > 1 && bad == 0,
	    "no gap reaches 250 ms (min %.1f, max %.1f)", lo, hi);

	/* another process's watchdog: WATCHDOG_PID is not us */
	snprintf(buf, sizeof buf, "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", buf, 1);
	run_loop(300);
	ok(npings == 0, "no pings when WATCHDOG_PID names another process (%d)", npings);

	setenv("WATCHDOG_PID", "not-a-pid", 1);
	run_loop(300);
	ok(npings == 0, "no pings, no crash with a malformed WATCHDOG_PID (%d)", npings);

	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "0", 1);
	run_loop(300);
	ok(npings == 0, "no pings when WATCHDOG_USEC=0 (%d)", npings);

	unsetenv("WATCHDOG_USEC");
	run_loop(300);
	ok(npings == 0, "no pings without WATCHDOG_USEC (%d)", npings);
}

static void
test_activation(void)
{
	int p[2], fd;

	place(unix_socket(SOCK_STREAM, "ctl", 1), 3);
	activation_env(1, getpid());
	fd = notify_listen_fd();
	ok(fd == 3, "a listening AF_UNIX stream socket on fd 3 is taken (%d)", fd);
	ok(getenv("LISTEN_FDS") == NULL && getenv("LISTEN_PID") == NULL,
	    "LISTEN_FDS and LISTEN_PID are consumed");
	ok((fcntl(3, F_GETFD) & FD_CLOEXEC) != 0,
	    "the activated socket is close-on-exec");
	ok(notify_listen_fd() == -1, "a second call finds nothing to take");

	activation_env(1, getpid() + 1);
	ok(notify_listen_fd() == -1, "LISTEN_PID of another process: -1");

	activation_env(1, getpid());
	setenv("LISTEN_PID", "garbage", 1);
	ok(notify_listen_fd() == -1, "malformed LISTEN_PID: -1, no crash");

	if (pipe(p) != 0) {
		perror("pipe");
		exit(99);
	}
	close(p[1]);
	place(p[0], 3);
	activation_env(1, getpid());
	ok(notify_listen_fd() == -1, "a pipe on fd 3 is refused");

	place(unix_socket(SOCK_STREAM, NULL, 0), 3);
	activation_env(1, getpid());
	ok(notify_listen_fd() == -1, "a stream socket that is not listening is refused");

	place(unix_socket(SOCK_DGRAM, "dg", 0), 3);
	activation_env(1, getpid());
	ok(notify_listen_fd() == -1, "a datagram socket is refused");

	/* a pipe first, then the real socket: the first usable one wins */
	if (pipe(p) != 0) {
		perror("pipe");
		exit(99);
	}
	close(p[1]);
	place(p[0], 3);
	place(unix_socket(SOCK_STREAM, "ctl2", 1), 4);
	activation_env(2, getpid());
	fd = notify_listen_fd();
	ok(fd == 4, "LISTEN_FDS=2, pipe on 3, socket on 4: fd 4 (%d)", fd);
	close(3);
	close(4);
}
#else
static void
test_disabled(void)
{
	char buf[512];

	drain();
	notify_ready();
	notify_reloading();
	notify_status("x");
	notify_stopping();
	ok(recv_one(buf, sizeof buf, 100) < 0, "without libsystemd nothing is sent");

	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(buf, sizeof buf, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", buf, 1);
	run_loop(300);
	ok(npings == 0, "without libsystemd no watchdog pings");

	place(unix_socket(SOCK_STREAM, "ctl", 1), 3);
	activation_env(1, getpid());
	ok(notify_listen_fd() == -1, "without libsystemd no socket activation");
	close(3);
}
#endif

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(sockpath, sizeof sockpath, "%s/notify", dir);
	nfd = high(unix_socket(SOCK_DGRAM, "notify", 0));
	setenv("NOTIFY_SOCKET", sockpath, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	log_init(0);

#ifdef HAVE_SYSTEMD
	test_messages();
	test_watchdog();
	test_activation();
#else
	test_disabled();
#endif

	close(nfd);
	unlink(sockpath);
	unlink(strcat(strcpy(sockpath, dir), "/ctl"));
	unlink(strcat(strcpy(sockpath, dir), "/ctl2"));
	unlink(strcat(strcpy(sockpath, dir), "/dg"));
	rmdir(dir);
	return done_testing();
}
