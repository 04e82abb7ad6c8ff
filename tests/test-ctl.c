/*
 * test-ctl.c: the control socket server against real clients.  The
 * server runs with a dummy handler on its own event base in a thread;
 * the test's clients are plain blocking sockets with receive timeouts,
 * so a server that stalls fails the test instead of hanging it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "arrivald.h"
#include "ctl-proto.h"
#include "tap.h"

static struct event_base *base;
static pthread_t loop_thread;
static char dir[] = "/tmp/test-ctl.XXXXXX";
static char sock[256];

/* the dummy daemon */
static _Atomic size_t watch_size = 64;      /* bytes of padding in a watch line */
static int line_calls;
static struct ctl_client *late;      /* owed a reply (async path) */
static struct event *late_ev;

static char *
watch_line(void)
{
	size_t pad = watch_size;
	char *s = xmalloc(pad + 64);
	int n;

	line_calls++;
	n = snprintf(s, 64, "{\"ok\":true,\"n\":%d,\"pad\":\"", line_calls);
	memset(s + n, 'x', pad);
	strcpy(s + n + pad, "\"}");
	return s;
}

static void
late_cb(evutil_socket_t fd, short what, void *arg)
{
	ctl_reply(late, "{\"ok\":true,\"late\":true}");
	late = NULL;
}

static void
handle(struct ctl_client *c, const struct ctl_request *req)
{
	char buf[128];
	struct timeval tv = { 0, 50000 };

	switch (req->cmd) {
	case CTL_WATCH:
		ctl_watch(c, req->interval > 0 ? req->interval : 0.1, watch_line);
		return;
	case CTL_SET_RATE:
		if (req->over == 7) { /* answer later, from the loop */
			late = c;
			evtimer_add(late_ev, &tv);
			return;
		}
		break;
	case CTL_RELOAD:
		ctl_reply_error(c, "reload: no configuration file");
		return;
	default:
		break;
	}
	snprintf(buf, sizeof buf, "{\"ok\":true,\"cmd\":%d}", (int)req->cmd);
	ctl_reply(c, buf);
}

static void *
loop(void *arg)
{
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
start(void)
{
	pthread_create(&loop_thread, NULL, loop, NULL);
}

static void
stop(void)
{
	event_base_loopbreak(base);
	pthread_join(loop_thread, NULL);
}

/* a blocking client with a buffered line reader */
struct conn {
	int fd;
	size_t n;
	char buf[512 * 1024];
};

static struct conn *
dial(void)
{
	struct sockaddr_un sun;
	struct timeval tv = { 5, 0 };
	struct conn *c = xcalloc(1, sizeof *c);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		diag("connect %s: %s", sock, strerror(errno));
		close(c->fd);
		c->fd = -1;
	}
	return c;
}

static void
hangup(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int
say(struct conn *c, const char *s, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* the next line, malloc'd, or NULL on EOF/error/timeout */
static char *
hear(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->n);
		ssize_t r;

		if (nl != NULL) {
			size_t len = (size_t)(nl - c->buf);
			char *s = xstrndup(c->buf, len);

			memmove(c->buf, nl + 1, c->n - len - 1);
			c->n -= len + 1;
			return s;
		}
		if (c->n == sizeof c->buf)
			return NULL;
		r = recv(c->fd, c->buf + c->n, sizeof c->buf - c->n, 0);
		if (r <= 0)
			return NULL;
		c->n += (size_t)r;
	}
}

/* 1 if the peer closed (EOF after any data) within the receive timeout */
static int
closed(struct conn *c)
{
	char b[4096];
	ssize_t r;

	while ((r = recv(c->fd, b, sizeof b, 0)) > 0)
		;
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* one request, one reply; the reply as JSON (NULL if none or not JSON) */
static json_t *
ask(struct conn *c, const char *req)
{
	char *line;
	json_t *j;

	if (say(c, req, strlen(req)) != 0 || say(c, "\n", 1) != 0)
		return NULL;
	if ((line = hear(c)) == NULL)
		return NULL;
	j = json_loads(line, 0, NULL);
	free(line);
	return j;
}

static int
reply_ok(json_t *j)
{
	return j != NULL && json_is_true(json_object_get(j, "ok"));
}

static const char *
reply_error(json_t *j)
{
	json_t *e = j == NULL ? NULL : json_object_get(j, "error");

	if (j == NULL || !json_is_false(json_object_get(j, "ok")))
		return NULL;
	return json_string_value(e);
}

static void
refusals(void)
{
	char path[300], *err = NULL;
	struct stat st;
	int fd, lfd;
	struct sockaddr_un sun;

	/* a regular file is refused and left as it was */
	snprintf(path, sizeof path, "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ok(write(fd, "keep", 4) == 4, "regular file written");
	close(fd);
	ok(ctl_init(base, path, 0600, -1, handle, &err) == -1 && err != NULL &&
	    strstr(err, "not a socket") != NULL, "regular file refused: %s", err);
	free(err);
	err = NULL;
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4,
	    "regular file left intact");

	/* a symlink, even to a socket's place, is never followed */
	snprintf(path, sizeof path, "%s/link", dir);
	ok(symlink(sock, path) == 0, "symlink made");
	ok(ctl_init(base, path, 0600, -1, handle, &err) == -1 && err != NULL &&
	    strstr(err, "not a socket") != NULL, "symlink refused: %s", err);
	free(err);
	err = NULL;
	ok(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "symlink left intact");

	/* a live listener is not stolen */
	snprintf(path, sizeof path, "%s/live", dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(lfd, (struct sockaddr *)&sun, sizeof sun) == 0 &&
	    listen(lfd, 4) == 0, "a live listener");
	ok(ctl_init(base, path, 0600, -1, handle, &err) == -1 && err != NULL &&
	    strstr(err, "another arrivald is listening") != NULL,
	    "live socket refused: %s", err);
	free(err);
	err = NULL;
	ok(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "live socket intact");
	close(lfd);

	/* a path too long for sockaddr_un */
	{
		char lp[200];

		memset(lp, 'a', sizeof lp - 1);
		lp[0] = '/';
		lp[sizeof lp - 1] = '\0';
		ok(ctl_init(base, lp, 0600, -1, handle, &err) == -1 &&
		    err != NULL && strstr(err, "too long") != NULL,
		    "over-long socket path refused: %s", err);
		free(err);
		err = NULL;
	}
	/* a missing directory: a clear error */
	snprintf(path, sizeof path, "%s/nodir/s", dir);
	ok(ctl_init(base, path, 0600, -1, handle, &err) == -1 && err != NULL &&
	    strstr(err, path) != NULL, "missing directory refused: %s", err);
	free(err);
}

static void
startup(void)
{
	struct sockaddr_un sun;
	struct stat st;
	char *err = NULL;
	mode_t um;
	int fd;

	/* a dead daemon's socket: bound, never listening, left behind */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0, "stale socket made");
	close(fd);

	um = umask(0);
	umask(um);
	ok(ctl_init(base, sock, 0640, -1, handle, &err) == 0,
	    "stale socket replaced (%s)", err ? err : "");
	free(err);
	ok(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 07777) == 0640, "socket mode 0640 as asked (%o)",
	    (unsigned)(st.st_mode & 07777));
	ok(umask(um) == um, "umask restored");
	err = NULL;
	ok(ctl_init(base, sock, 0640, -1, handle, &err) == -1 && err != NULL,
	    "a second init refused: %s", err ? err : "");
	free(err);
}

static void
every_command(void)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
	} cmds[] = {
		{ "stats", CTL_STATS }, { "set rate 100 over 2", CTL_SET_RATE },
		{ "set arrivals constant", CTL_SET_ARRIVALS },
		{ "set model closed", CTL_SET_MODEL },
		{ "set users 10 think 2", CTL_SET_USERS },
		{ "set autoscale on", CTL_SET_AUTOSCALE }, { "pause", CTL_PAUSE },
		{ "resume", CTL_RESUME }, { "set profile p.csv speed 2", CTL_SET_PROFILE },
		{ "set profile off", CTL_PROFILE_OFF }, { "stop", CTL_STOP },
		{ "version", CTL_VERSION }, { "help", CTL_HELP },
	};
	struct conn *c = dial();
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		j = ask(c, cmds[i].line);
		ok(reply_ok(j) && json_integer_value(json_object_get(j, "cmd")) ==
		    cmds[i].cmd, "\"%s\" answered", cmds[i].line);
		json_decref(j);
	}
	j = ask(c, "reload");
	ok(reply_error(j) && strcmp(reply_error(j), "reload: no configuration file") == 0,
	    "handler's error reply passed through");
	json_decref(j);
	j = ask(c, "foo");
	ok(reply_error(j) && strcmp(reply_error(j), "unknown command \"foo\"") == 0,
	    "unknown command: error reply");
	json_decref(j);
	j = ask(c, "set rate abc");
	ok(reply_error(j) && strcmp(reply_error(j), "set rate: \"abc\" is not a number") == 0,
	    "bad number: error reply");
	json_decref(j);
	j = ask(c, "stats\r");
	ok(reply_ok(j), "CRLF line answered");
	json_decref(j);

	/* binary garbage: an error, and the connection stays usable */
	ok(say(c, "\x00\xff\xfe\x01garbage\x80\n", 13) == 0, "garbage sent");
	{
		char *line = hear(c);
		j = line ? json_loads(line, 0, NULL) : NULL;
		ok(reply_error(j) != NULL, "garbage: error reply (%s)", line ? line : "none");
		free(line);
		json_decref(j);
	}
	j = ask(c, "stats");
	ok(reply_ok(j), "usable after garbage");
	json_decref(j);

	/* pipelined, with a late reply first: order kept */
	ok(say(c, "set rate 5 over 7\nstats\nversion\n", 32) == 0, "pipelined");
	{
		char *a = hear(c), *b = hear(c), *d = hear(c);

		ok(a && strstr(a, "\"late\"") && b && strstr(b, "\"cmd\":0") &&
		    d && strstr(d, "\"cmd\":13"), "late reply first, order kept");
		free(a);
		free(b);
		free(d);
	}
	hangup(c);
}

static void
many_clients(void)
{
	enum { NCLIENTS = 200 };
	static struct conn *cs[NCLIENTS];
	static const char reqs[] = "stats\nversion\nset rate 5\n";
	int i, good_send = 0, good = 0;

	for (i = 0; i < NCLIENTS; i++)
		cs[i] = dial();
	for (i = 0; i < NCLIENTS; i++)
		good_send += cs[i]->fd >= 0 && say(cs[i], reqs, sizeof reqs - 1) == 0;
	for (i = 0; i < NCLIENTS; i++) {
		char *a = hear(cs[i]), *b = hear(cs[i]), *d = hear(cs[i]);

		good += a && strstr(a, "\"cmd\":0") && b && strstr(b, "\"cmd\":13") &&
		    d && strstr(d, "\"cmd\":1}");
		free(a);
		free(b);
		free(d);
	}
	ok(good_send == NCLIENTS, "%d clients connected and sent", good_send);
	ok(good == NCLIENTS, "%d of %d concurrent clients got 3 replies in order",
	    good, NCLIENTS);
	for (i = 0; i < NCLIENTS; i++)
		hangup(cs[i]);
}

static void
rude_clients(void)
{
	struct conn *c;
	json_t *j;
	int i;

	/* connect and vanish, mid-line, or before reading the reply */
	for (i = 0; i < 30; i++) {
		c = dial();
		if (i % 3 == 1)
			say(c, "set ra", 6);
		else if (i % 3 == 2)
			say(c, "stats\nstats\nwatch 0.1\n", 22);
		hangup(c);
	}
	c = dial();
	j = ask(c, "stats");
	ok(reply_ok(j), "served after clients vanished");
	json_decref(j);
	hangup(c);

	/* half-closed: the last line without newline is answered, then EOF */
	c = dial();
	say(c, "version", 7);
	shutdown(c->fd, SHUT_WR);
	{
		char *line = hear(c);

		ok(line && strstr(line, "\"cmd\":13"), "half-closed client answered");
		free(line);
	}
	ok(closed(c), "then closed");
	hangup(c);

	/* a 1 MB line without newline: error, connection closed, server fine */
	{
		size_t n = 1 << 20;
		char *big = xmalloc(n), *line;
		struct conn *c2;

		memset(big, 'a', n);
		c = dial();
		say(c, big, n); /* may fail part way once the server closes */
		line = hear(c);
		j = line ? json_loads(line, 0, NULL) : NULL;
		ok(reply_error(j) && strcmp(reply_error(j), CTL_ERR_LONG) == 0,
		    "1 MB line: error reply (%s)", line ? line : "none");
		ok(closed(c), "1 MB line: connection closed");
		free(line);
		json_decref(j);
		hangup(c);
		free(big);

		c2 = dial();
		j = ask(c2, "stats");
		ok(reply_ok(j), "served after the 1 MB line");
		json_decref(j);
		hangup(c2);
	}

	/* a line over the limit with its newline: same */
	{
		char *big = xmalloc(CTL_LINE_MAX + 10);

		memset(big, 'b', CTL_LINE_MAX + 9);
		big[CTL_LINE_MAX + 9] = '\n';
		c = dial();
		say(c, big, CTL_LINE_MAX + 10);
		j = NULL;
		{
			char *line = hear(c);
			j = line ? json_loads(line, 0, NULL) : NULL;
			free(line);
		}
		ok(reply_error(j) && strcmp(reply_error(j), CTL_ERR_LONG) == 0,
		    "line over the limit: error reply");
		ok(closed(c), "line over the limit: closed");
		json_decref(j);
		hangup(c);
		free(big);
	}
}

static double
now(void)
{
	return clock_now() / 1e9;
}

static void
watching(void)
{
	struct conn *w, *s;
	struct pollfd pfd;
	char *line;
	double t0, t;
	int i, served = 0, asked = 0, lines = 0;

	/* a reader gets the first line at once, then one per interval */
	w = dial();
	t0 = now();
	say(w, "watch 0.1\n", 10);
	line = hear(w);
	t = now() - t0;
	ok(line && strstr(line, "\"n\":") && t < 0.08,
	    "watch: first line at once (%.3f s)", t);
	free(line);
	for (i = 0; i < 3; i++) {
		line = hear(w);
		lines += line != NULL;
		free(line);
	}
	t = now() - t0;
	ok(lines == 3 && t >= 0.28 && t < 2.0, "watch: 3 more lines in %.2f s", t);
	/* a watch client may still send requests */
	{
		json_t *j;
		int got = 0;

		say(w, "version\n", 8);
		for (i = 0; i < 5 && !got; i++) {
			line = hear(w);
			j = line ? json_loads(line, 0, NULL) : NULL;
			got = j && json_integer_value(json_object_get(j, "cmd")) == 13;
			json_decref(j);
			free(line);
		}
		ok(got, "watch client's request answered among the lines");
	}
	hangup(w);

	/* one that never reads is dropped; others are served meanwhile */
	watch_size = 128 * 1024;
	w = dial();
	say(w, "watch 0.1\n", 10);
	s = dial();
	pfd.fd = w->fd;
	pfd.events = POLLRDHUP;
	t0 = now();
	for (;;) {
		json_t *j;
		double t1 = now();

		pfd.revents = 0;
		if (poll(&pfd, 1, 50) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP)))
			break;
		if (now() - t0 > 8)
			break;
		j = ask(s, "stats");
		asked++;
		served += reply_ok(j) && now() - t1 < 0.5;
		json_decref(j);
	}
	t = now() - t0;
	ok((pfd.revents & (POLLRDHUP | POLLHUP)) != 0,
	    "a watcher that never reads is dropped (%.2f s)", t);
	ok(asked > 0 && served == asked, "others served meanwhile (%d of %d)",
	    served, asked);
	hangup(w);
	hangup(s);
	watch_size = 64;
}

static void
activated(void)
{
	char path[300], *err = NULL;
	struct sockaddr_un sun;
	struct stat st;
	struct conn *c;
	json_t *j;
	int fd;

	snprintf(path, sizeof path, "%s/activated", dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sun, sizeof sun);
	chmod(path, 0604);
	listen(fd, 16);
	ok(ctl_init(base, "/nonexistent/ignored", 0600, fd, handle, &err) == 0,
	    "activated socket taken (%s)", err ? err : "");
	free(err);
	strcpy(sock, path);
	start();
	c = dial();
	j = ask(c, "stats");
	ok(reply_ok(j), "served on the activated socket");
	json_decref(j);
	hangup(c);
	stop();
	ctl_fini();
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0604,
	    "activated socket's path and mode untouched");
	close(fd);
}

int
main(void)
{
	struct stat st;

	evthread_use_pthreads();
	base = event_base_new();
	late_ev = evtimer_new(base, late_cb, NULL);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock, sizeof sock, "%s/control.sock", dir);

	refusals();
	startup();
	start();
	every_command();
	many_clients();
	rude_clients();
	watching();
	stop();
	ctl_fini();
	ok(lstat(sock, &st) == -1 && errno == ENOENT, "ctl_fini removed the socket");
	activated();

	event_free(late_ev);
	event_base_free(base);
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}
