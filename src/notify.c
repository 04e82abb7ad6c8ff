/*
 * notify.c: everything the daemon says to systemd, and the one thing it
 * takes from it.
 *
 * Says: READY=1 once the configuration is loaded and the sockets are
 * open; RELOADING=1 with MONOTONIC_USEC around a reload (what
 * Type=notify-reload in systemd >= 253 expects; older managers read only
 * RELOADING=1), followed by READY=1 again; STOPPING=1 when the graceful
 * stop starts; STATUS= lines for `systemctl status`; and WATCHDOG=1 at
 * half the WatchdogSec period.
 *
 * Takes: the control socket, when the service is socket-activated.
 *
 * Invariants.  The watchdog timer lives on the main event base and
 * nowhere else: a ping must mean that the loop serving signals, the
 * control socket and the results is turning, not merely that some thread
 * is alive.  Every function is a no-op when the daemon was not started
 * by systemd (no NOTIFY_SOCKET), and when built without libsystemd.
 */
#include "arrivald.h" /* first: config.h says whether HAVE_SYSTEMD */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static struct event *watchdog; /* owned; NULL when systemd wants no pings */

#ifdef HAVE_SYSTEMD
static void
say(const char *state)
{
	int r;

	/* 0: nobody listens (not under systemd), which is fine */
	if ((r = sd_notify(0, state)) < 0)
		log_debug("sd_notify: %s", strerror(-r));
}

static void
ping(evutil_socket_t fd, short what, void *arg)
{
	say("WATCHDOG=1");
}
#endif

void
notify_init(struct event_base *base)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;
	struct timeval tv;
	int r;

	if (watchdog != NULL)
		return;
	/* checks WATCHDOG_PID too, so a child that inherited it stays quiet */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0) {
		log_warn("WATCHDOG_USEC or WATCHDOG_PID is malformed (%s); "
		    "not sending watchdog pings", strerror(-r));
		return;
	}
	if (r == 0 || usec == 0)
		return;
	/* half the period, so one late turn of the loop is not a kill */
	usec /= 2;
	tv.tv_sec = usec / 1000000;
	tv.tv_usec = usec % 1000000;
	if ((watchdog = event_new(base, -1, EV_PERSIST, ping, NULL)) == NULL)
		fatal("event_new failed for the watchdog timer");
	if (event_add(watchdog, &tv) != 0)
		fatal("event_add failed for the watchdog timer");
	log_debug("watchdog: pinging every %" PRIu64 " us", usec);
#else
	(void)base;
#endif
}

void
notify_fini(void)
{
	if (watchdog != NULL) {
		event_free(watchdog);
		watchdog = NULL;
	}
}

void
notify_ready(void)
{
#ifdef HAVE_SYSTEMD
	say("READY=1");
#endif
}

void
notify_reloading(void)
{
#ifdef HAVE_SYSTEMD
	char buf[64];
	struct timespec ts;
	uint64_t usec;

	/* systemd >= 253 matches the reload by this timestamp */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, usec);
	say(buf);
#endif
}

void
notify_stopping(void)
{
#ifdef HAVE_SYSTEMD
	say("STOPPING=1");
#endif
}

void
notify_status(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char buf[512];
	va_list ap;
	char *p;

	memcpy(buf, "STATUS=", 7);
	va_start(ap, fmt);
	vsnprintf(buf + 7, sizeof buf - 7, fmt, ap);
	va_end(ap);
	/* a newline would start another assignment; keep it one line */
	for (p = buf + 7; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	say(buf);
#else
	(void)fmt;
#endif
}

/*
 * The environment is consumed (LISTEN_FDS and LISTEN_PID are unset, the
 * descriptors marked close-on-exec), so this answers once: call it when
 * the control socket is first opened and keep the result.
 */
int
notify_listen_fd(void)
{
#ifdef HAVE_SYSTEMD
	int fd, n, r, found = -1;
	int had_fds = getenv("LISTEN_FDS") != NULL;

	n = sd_listen_fds(1);
	if (n < 0) {
		log_warn("socket activation: LISTEN_FDS or LISTEN_PID is "
		    "malformed (%s); opening the control socket myself",
		    strerror(-n));
		return -1;
	}
	if (n == 0) {
		if (had_fds)
			log_warn("socket activation: LISTEN_FDS is set but "
			    "LISTEN_PID is not this process or no descriptor "
			    "was passed; opening the control socket myself");
		return -1;
	}
	for (fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
		if (r > 0) {
			if (found == -1)
				found = fd;
			else
				log_warn("socket activation: ignoring extra "
				    "socket on fd %d, using fd %d", fd, found);
			continue;
		}
		if (r < 0)
			log_warn("socket activation: fd %d is unusable: %s",
			    fd, strerror(-r));
		else
			log_warn("socket activation: fd %d is not a listening "
			    "AF_UNIX stream socket (check ListenStream= in "
			    "the .socket unit)", fd);
	}
	if (found == -1)
		log_warn("socket activation: none of the %d passed "
		    "descriptor(s) is usable; opening the control socket "
		    "myself", n);
	return found;
#else
	if (getenv("LISTEN_FDS") != NULL)
		log_warn("socket activation: built without libsystemd, "
		    "ignoring LISTEN_FDS; opening the control socket myself");
	return -1;
#endif
}
