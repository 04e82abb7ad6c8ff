/*
 * ctl.c: the control socket server, on the main event base.
 *
 * Owns the listening socket (and its path, unless systemd passed the
 * socket in), and one struct ctl_client per connection.  Invariants:
 *
 *   - Every request line gets exactly one reply line, in order.  While a
 *     request waits for its reply (the handler may answer later), no
 *     further line of that client is read, so replies cannot overtake.
 *   - The daemon never waits on a client: sockets are non-blocking and a
 *     client whose unsent output passes CTL_OUT_MAX is dropped.  A line
 *     longer than CTL_LINE_MAX gets an error and the connection is closed
 *     once that reply is flushed, so input is bounded too.
 *   - A client's struct outlives its connection while the handler still
 *     owes it a reply (c->pending) or while we are inside its callbacks
 *     (c->busy), so that the handler's pointer stays valid; replies to a
 *     client that has gone are dropped.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "arrivald.h"
#include "ctl-proto.h"

struct ctl_client {
	struct bufferevent *bev;   /* NULL once the connection is gone */
	struct event *again;       /* resume reading after a late reply */
	struct event *tick;        /* watch timer; NULL unless watching */
	char *(*line)(void);       /* watch: makes one stats line */
	int pending;               /* a request awaits its reply */
	int dispatching;           /* inside the handler */
	int busy;                  /* inside our own callbacks */
	int closing;               /* close once output is flushed */
	int eof;                   /* the peer has finished sending */
	struct ctl_client *prev, *next;
};

static struct event_base *base;
static struct evconnlistener *listener;
static struct event *retry;        /* re-enables accept after EMFILE etc. */
static char *path;                 /* the socket we created; NULL if activated */
static ctl_handler handler;
static struct ctl_client *clients; /* all, connected or awaiting a reply */
static int nclients;               /* connected ones */

static void process(struct ctl_client *);

static void
release(struct ctl_client *c)
{
	if (c->bev != NULL || c->pending || c->busy > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->again);
	free(c);
}

/* Close the connection; the struct goes when nothing refers to it. */
static void
disconnect(struct ctl_client *c)
{
	if (c->tick != NULL) {
		event_free(c->tick);
		c->tick = NULL;
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		nclients--;
	}
	event_del(c->again);
	release(c);
}

/* The daemon never waits on a client: too much unsent output, it goes.
 * Returns -1 if it went (and c may be freed). */
static int
bound(struct ctl_client *c)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (n <= CTL_OUT_MAX)
		return 0;
	log_info("control client dropped: %zu bytes unread", n);
	disconnect(c);
	return -1;
}

/* One line out; raw newlines in the object (never inside JSON strings,
 * where they are escaped) become spaces so the reply stays one line. */
static void
send_line(struct ctl_client *c, const char *json)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n = strlen(json);
	char *copy, *q;

	if (memchr(json, '\n', n) == NULL && memchr(json, '\r', n) == NULL)
		evbuffer_add(out, json, n);
	else {
		copy = xstrdup(json);
		for (q = copy; *q != '\0'; q++)
			if (*q == '\n' || *q == '\r')
				*q = ' ';
		evbuffer_add(out, copy, n);
		free(copy);
	}
	evbuffer_add(out, "\n", 1);
}

/* Closing or finished, and everything sent: close. */
static void
finish(struct ctl_client *c)
{
	if (c->bev == NULL || c->pending)
		return;
	if (!c->closing && !(c->eof && c->tick == NULL))
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		disconnect(c);
}

static char *
error_json(const char *msg)
{
	json_t *o;
	char *s;

	o = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	if (o == NULL) /* not UTF-8: ours never are, but never crash on it */
		o = json_pack("{s:b, s:s}", "ok", 0, "error", "internal error");
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatal("json_dumps: out of memory");
	return s;
}

void
ctl_reply(struct ctl_client *c, const char *json)
{
	if (!c->pending) {
		log_warn("control: a second reply to one request dropped");
		return;
	}
	c->pending = 0;
	if (c->bev == NULL) {
		release(c);
		return;
	}
	send_line(c, json);
	if (bound(c) != 0)
		return;
	/* A late reply: go back to the lines that waited behind it, from
	 * the loop rather than from inside whoever called us. */
	if (!c->dispatching && c->busy == 0)
		event_active(c->again, 0, 0);
}

void
ctl_reply_error(struct ctl_client *c, const char *msg)
{
	char *s = error_json(msg);

	ctl_reply(c, s);
	free(s);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	char *s;

	if (c->bev == NULL || c->line == NULL)
		return;
	if ((s = c->line()) == NULL)
		return;
	send_line(c, s);
	free(s);
	bound(c);
}

void
ctl_watch(struct ctl_client *c, double interval, char *(*line)(void))
{
	struct timeval tv;
	char *s;

	if (c->bev == NULL || line == NULL) {
		if (c->bev == NULL) {
			c->pending = 0;
			release(c);
		} else
			ctl_reply_error(c, "watch: no stats to stream");
		return;
	}
	if (!(interval >= CTL_WATCH_MIN))
		interval = interval > 0 ? CTL_WATCH_MIN : 1.0;
	if (interval > CTL_WATCH_MAX)
		interval = CTL_WATCH_MAX;
	c->line = line;
	if (c->tick == NULL)
		c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	tv.tv_sec = (time_t)interval;
	tv.tv_usec = (suseconds_t)((interval - (double)tv.tv_sec) * 1e6);
	event_add(c->tick, &tv);

	/* the reply to "watch" is the first line, at once */
	if ((s = line()) == NULL) {
		ctl_reply_error(c, "watch: no stats to stream");
		return;
	}
	ctl_reply(c, s);
	free(s);
}

static void
dispatch(struct ctl_client *c, const char *buf, size_t len)
{
	struct ctl_request req;
	char err[256];

	c->pending = 1;
	if (ctl_parse(buf, len, &req, err, sizeof err) != 0) {
		ctl_reply_error(c, err);
		return;
	}
	c->dispatching = 1;
	handler(c, &req);
	c->dispatching = 0;
}

/* Too long to be a request: say so, then close once that is sent. */
static void
too_long(struct ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_disable(c->bev, EV_READ);
	c->closing = 1;
	c->pending = 1;
	ctl_reply_error(c, CTL_ERR_LONG);
}

/* Read and answer whole lines until one waits for its reply. */
static void
process(struct ctl_client *c)
{
	char buf[CTL_LINE_MAX + 2];

	c->busy++;
	while (c->bev != NULL && !c->pending && !c->closing) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		struct evbuffer_ptr eol;
		size_t len, have = evbuffer_get_length(in), eol_len = 0;

		if (have == 0)
			break;
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos >= 0)
			len = (size_t)eol.pos;
		else if (have > CTL_LINE_MAX + 1)
			len = have; /* no newline, and already too long */
		else if (c->eof)
			len = have; /* a last line without its newline */
		else
			break;
		/* CTL_LINE_MAX bytes and a "\r" may still be a request */
		if (len > CTL_LINE_MAX + 1) {
			too_long(c);
			break;
		}
		evbuffer_remove(in, buf, len);
		evbuffer_drain(in, eol_len);
		dispatch(c, buf, len);
	}
	/* waiting on a late reply: leave the rest in the kernel's buffer */
	if (c->bev != NULL && c->pending && !c->closing)
		bufferevent_disable(c->bev, EV_READ);
	c->busy--;
	if (c->bev == NULL)
		release(c);
	else
		finish(c);
}

static void
again_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (c->bev == NULL)
		return;
	if (!c->eof && !c->closing)
		bufferevent_enable(c->bev, EV_READ);
	process(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	process(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	finish(arg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (what & BEV_EVENT_ERROR) {
		disconnect(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (what & BEV_EVENT_WRITING) {
			disconnect(c);
			return;
		}
		/* half-closed: answer what it sent, then close */
		c->eof = 1;
		process(c);
	}
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ctl_client *c;

	if (nclients >= CTL_CLIENTS_MAX) {
		static const char busy[] =
		    "{\"ok\":false,\"error\":\"too many control clients\"}\n";

		if (send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("control: refusing a client: %s", strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("control: cannot take a client");
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->again = event_new(base, -1, 0, again_cb, c);
	if (c->again == NULL)
		fatal("event_new: out of memory");
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	nclients++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	if (listener != NULL)
		evconnlistener_enable(listener);
}

/* accept() failed (out of descriptors, most likely): back off a second
 * instead of spinning on a listener that stays readable. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { 1, 0 };

	log_warn("control: accept: %s", strerror(errno));
	evconnlistener_disable(l);
	evtimer_add(retry, &tv);
}

/* 1 another process listens, 0 nobody (stale file), -1 cannot tell */
static int
listening(const char *p)
{
	struct sockaddr_un sun;
	int fd, r, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, p, strlen(p));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1; /* EAGAIN: alive, its backlog just full */
	if (e == ECONNREFUSED)
		return 0;
	errno = e;
	return -1;
}

static int
make_socket(const char *p, unsigned mode, char **err)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, r, e;

	if (strlen(p) >= sizeof sun.sun_path) {
		xasprintf(err, "%s: socket path too long (at most %zu bytes)",
		    p, sizeof sun.sun_path - 1);
		return -1;
	}
	if (mode & ~07777u) {
		xasprintf(err, "%s: bad socket mode %o", p, mode);
		return -1;
	}
	/* lstat: a symlink is "not a socket", never followed or removed */
	if (lstat(p, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(err, "%s: exists and is not a socket", p);
			return -1;
		}
		switch (listening(p)) {
		case 1:
			xasprintf(err, "%s: another arrivald is listening", p);
			return -1;
		case -1:
			xasprintf(err, "%s: cannot tell whether it is in use: %s",
			    p, strerror(errno));
			return -1;
		}
		/* a dead daemon's socket */
		if (unlink(p) != 0 && errno != ENOENT) {
			xasprintf(err, "%s: removing the stale socket: %s", p,
			    strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		xasprintf(err, "%s: %s", p, strerror(errno));
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		xasprintf(err, "%s: socket: %s", p, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, p, strlen(p));
	/* No fchmod for an AF_UNIX path: bind owner-only, then widen to the
	 * configured mode, so it is never briefly more open than asked. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	e = errno;
	umask(old);
	if (r != 0) {
		xasprintf(err, "%s: bind: %s", p, strerror(e));
		close(fd);
		return -1;
	}
	if (chmod(p, mode) != 0 || listen(fd, SOMAXCONN) != 0) {
		xasprintf(err, "%s: %s", p, strerror(errno));
		unlink(p);
		close(fd);
		return -1;
	}
	return fd;
}

int
ctl_init(struct event_base *b, const char *p, unsigned mode, int activated_fd,
    ctl_handler h, char **err)
{
	unsigned flags = LEV_OPT_CLOSE_ON_EXEC;
	int fd;

	*err = NULL;
	if (listener != NULL) {
		xasprintf(err, "control socket already open");
		return -1;
	}
	/* a client that hangs up must not kill the daemon on our write */
	signal(SIGPIPE, SIG_IGN);

	if (activated_fd >= 0) {
		fd = activated_fd;
		if (evutil_make_socket_nonblocking(fd) != 0) {
			xasprintf(err, "activated control socket: %s",
			    strerror(errno));
			return -1;
		}
	} else {
		if (p == NULL || *p == '\0') {
			xasprintf(err, "no control socket path");
			return -1;
		}
		if ((fd = make_socket(p, mode, err)) < 0)
			return -1;
		flags |= LEV_OPT_CLOSE_ON_FREE;
	}
	base = b;
	handler = h;
	/* backlog 0: the socket already listens (make_socket's SOMAXCONN, or
	 * systemd's Backlog=); -1 would make libevent listen() again with
	 * 128, and a burst of clients connecting at once would be refused */
	listener = evconnlistener_new(b, accept_cb, NULL, flags, 0, fd);
	if (listener == NULL) {
		xasprintf(err, "%s: cannot listen", p ? p : "control socket");
		if (activated_fd < 0) {
			unlink(p);
			close(fd);
		}
		return -1;
	}
	evconnlistener_set_error_cb(listener, accept_error_cb);
	retry = evtimer_new(b, retry_cb, NULL);
	path = activated_fd >= 0 ? NULL : xstrdup(p);
	return 0;
}

char *
ctl_help_json(void)
{
	json_t *o = json_object(), *cmds = json_array();
	char *s;
	int i;

	for (i = 0; ctl_help[i] != NULL; i++) {
		const char *tab = strchr(ctl_help[i], '\t');
		char *syntax = xstrndup(ctl_help[i], (size_t)(tab - ctl_help[i]));

		json_array_append_new(cmds, json_pack("{s:s, s:s}", "syntax",
		    syntax, "description", tab + 1));
		free(syntax);
	}
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "commands", cmds);
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("json_dumps: out of memory");
	json_decref(o);
	return s;
}

void
ctl_fini(void)
{
	struct ctl_client *c, *next;

	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->tick != NULL)
			event_free(c->tick);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		event_free(c->again);
		free(c);
	}
	clients = NULL;
	nclients = 0;
	if (listener != NULL) {
		evconnlistener_free(listener);
		listener = NULL;
	}
	if (retry != NULL) {
		event_free(retry);
		retry = NULL;
	}
	if (path != NULL) {
		unlink(path);
		free(path);
		path = NULL;
	}
	handler = NULL;
	base = NULL;
}
