/*
 * test-h1.c: h1.c, the HTTP/1.1 client of plain steps.  It includes the
 * module, so that the response parser is fed bytes directly: every
 * response below is parsed whole and split at every byte, and must give
 * the same status, body and framing either way.  Then the client runs
 * against a scripted peer on loopback: the request bytes it sends, reuse
 * of a kept-alive connection, and each failure named as libcurl's would
 * be.
 */
#include "../src/h1.c"

#include <netinet/in.h>
#include <pthread.h>

#include "tap.h"

/* ---- the parser, fed by hand ---- */

static char got[4096];
static size_t ngot;

static void
sink(void *req, const char *data, size_t len)
{
	if (ngot + len < sizeof got) {
		memcpy(got + ngot, data, len);
		ngot += len;
	}
}

/* parse `resp` given in two pieces split at `at`; the result: 1 done,
 * 0 more wanted, or -reason; *left: bytes past the response */
static int
feed(const char *resp, size_t len, size_t at, int head, struct conn *c,
    int eof)
{
	static struct h1 h;
	int r;

	memset(&h, 0, sizeof h);
	h.body = sink;
	free(c->buf);
	memset(c, 0, sizeof *c);
	c->h = &h;
	c->cap = len + 1;
	c->buf = xmalloc(c->cap);
	c->phase = P_HEAD;
	c->head_only = head;
	ngot = 0;
	memcpy(c->buf, resp, at);
	c->len = at;
	if ((r = parse(c)) != 0) {
		/* what had not come yet is past the response too */
		memcpy(c->buf + c->len, resp + at, len - at);
		c->len += len - at;
		return r;
	}
	memcpy(c->buf + c->len, resp + at, len - at);
	c->len += len - at;
	r = parse(c);
	if (r == 0 && eof && c->phase == P_EOF)
		return 1;
	return r;
}

struct pcase {
	const char *name, *resp;
	int head;           /* a HEAD request */
	int eof;            /* the peer closes after it */
	int want;           /* 1, or -reason */
	int status;
	const char *body;
	int close;          /* the connection is not kept */
	size_t extra;       /* bytes left past the response */
};

static const struct pcase pcases[] = {
	{ "Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	  0, 0, 1, 200, "hello", 0, 0 },
	{ "Content-Length 0", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	  0, 0, 1, 404, "", 0, 0 },
	{ "chunked, extensions and a trailer",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "4;x=y\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\n",
	  0, 0, 1, 200, "wikipedia in\r\n\r\nchunks.", 0, 0 },
	{ "chunked, bare newlines", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
	  "2\nok\n0\n\n", 0, 0, 1, 200, "ok", 0, 0 },
	{ "body to the close", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of it",
	  0, 1, 1, 200, "all of it", 1, 0 },
	{ "100 Continue, then the response",
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
	  0, 0, 1, 201, "ok", 0, 0 },
	{ "HEAD: no body whatever Content-Length says",
	  "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 1, 0, 1, 200, "", 0, 0 },
	{ "204: no body", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, 1, 204, "", 0, 0 },
	{ "304: no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	  0, 0, 1, 304, "", 0, 0 },
	{ "Connection: close", "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
	  0, 0, 1, 500, "x", 1, 0 },
	{ "HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
	  0, 0, 1, 200, "x", 1, 0 },
	{ "HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
	  0, 0, 1, 200, "x", 0, 0 },
	{ "case of names and spaces", "HTTP/1.1 200 OK\r\ncontent-length:   3  \r\n\r\nabc",
	  0, 0, 1, 200, "abc", 0, 0 },
	{ "bytes past the response", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP",
	  0, 0, 1, 200, "x", 0, 4 },
	{ "not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "status not three digits", "HTTP/1.1 20 OK\r\n\r\n", 0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "Content-Length not a number", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	  0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "two Content-Lengths that differ",
	  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	  0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "a chunk size that is not hex",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "a chunk without its CRLF",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", 0, 0, -FAIL_OTHER, 0, "", 0, 0 },
	{ "101 is not followed", "HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n",
	  0, 0, -FAIL_OTHER, 0, "", 0, 0 },
};

static void
parser_cases(void)
{
	struct conn c;
	size_t i, at, len;
	int bad, r;

	memset(&c, 0, sizeof c);
	for (i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
		const struct pcase *p = &pcases[i];

		len = strlen(p->resp);
		bad = 0;
		for (at = 0; at <= len && bad == 0; at++) {
			r = feed(p->resp, len, at, p->head, &c, p->eof);
			if (r != p->want)
				bad = 1;
			else if (r == 1 && (c.status != p->status ||
			    ngot != strlen(p->body) || memcmp(got, p->body, ngot) != 0 ||
			    c.close != p->close || c.len != p->extra))
				bad = 2;
			if (bad)
				diag("%s: split at %zu: result %d (want %d), status %d, "
				    "body %zu bytes, close %d, left %zu", p->name, at, r,
				    p->want, c.status, ngot, c.close, c.len);
		}
		ok(bad == 0, "parse: %s, whole and split at every byte", p->name);
	}
	/* a header block past the limit is refused, not buffered for ever */
	{
		size_t n = H1_HEAD_MAX + 10;
		char *big = xmalloc(n + 1);

		memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
		memset(big + 20, 'a', n - 20);
		big[n] = '\0';
		r = feed(big, n, n, 0, &c, 0);
		ok(r == -FAIL_OTHER, "parse: a header block over %d bytes fails (%d)",
		    H1_HEAD_MAX, r);
		free(big);
	}
	free(c.buf);
}

/* ---- the request bytes ---- */

static struct h1_target *
target(const char *url, const char *method, const char *body,
    const char **headers, int nheaders)
{
	static struct conf cf;
	struct step st;

	memset(&st, 0, sizeof st);
	cf.keepalive = 1;
	cf.connect_timeout = 5;
	st.url = (char *)url;
	st.method = (char *)method;
	st.body = (char *)body;
	st.headers = (char **)headers;
	st.nheaders = nheaders;
	return h1_target_new(&st, &cf, 0);
}

static void
request_cases(void)
{
	struct h1_target *t;
	const char *h1[] = { "Accept: text/html", "X-A: 1", "User-Agent:", "X-Empty;" };
	const char *h2[] = { "X-V: ${v}" };
	const char *h3[] = { "Host: example.test", "Content-Type: text/plain" };
	struct sockaddr_in6 *s6;

	t = target("http://127.0.0.1:8080/a/b?c=d#frag", NULL, NULL, NULL, 0);
	ok(t != NULL && strcmp(t->bytes, "GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
	    "Accept: */*\r\n\r\n") == 0 && t->len == strlen(t->bytes) &&
	    t->addr.ss_family == AF_INET &&
	    ntohs(((struct sockaddr_in *)&t->addr)->sin_port) == 8080,
	    "request: GET, Host with the port, Accept */*, no fragment");
	free(t);
	t = target("http://127.0.0.1", NULL, NULL, h1, 4);
	ok(t != NULL && strcmp(t->bytes, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Accept: text/html\r\nX-A: 1\r\nX-Empty:\r\n\r\n") == 0 &&
	    ntohs(((struct sockaddr_in *)&t->addr)->sin_port) == 80,
	    "request: the step's headers, \"Name:\" removes, \"Name;\" is empty");
	free(t);
	t = target("http://127.0.0.1:80?q", "POST", "a=1", NULL, 0);
	ok(t != NULL && strcmp(t->bytes, "POST /?q HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Accept: */*\r\nContent-Length: 3\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\n\r\na=1") == 0 && !t->head,
	    "request: POST with its body, Content-Length and a form type, port 80 left out");
	free(t);
	t = target("http://127.0.0.1:9/", "PUT", "x", h3, 2);
	ok(t != NULL && strcmp(t->bytes, "PUT / HTTP/1.1\r\nAccept: */*\r\n"
	    "Content-Length: 1\r\nHost: example.test\r\nContent-Type: text/plain\r\n\r\nx") == 0,
	    "request: the step's Host and Content-Type replace the defaults");
	free(t);
	t = target("http://[::1]:8081/x", "HEAD", NULL, NULL, 0);
	s6 = t ? (struct sockaddr_in6 *)&t->addr : NULL;
	ok(t != NULL && t->head && s6->sin6_family == AF_INET6 &&
	    ntohs(s6->sin6_port) == 8081 && IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) &&
	    strncmp(t->bytes, "HEAD /x HTTP/1.1\r\nHost: [::1]:8081\r\n", 36) == 0,
	    "request: HEAD to [::1]");
	free(t);
	ok(target("https://127.0.0.1/", NULL, NULL, NULL, 0) == NULL &&
	    target("http://localhost:8080/", NULL, NULL, NULL, 0) == NULL &&
	    target("http://u:p@127.0.0.1/", NULL, NULL, NULL, 0) == NULL &&
	    target("http://127.0.0.1/${p}", NULL, NULL, NULL, 0) == NULL &&
	    target("http://127.0.0.1/", "POST", "v=${v}", NULL, 0) == NULL &&
	    target("http://127.0.0.1/", NULL, NULL, h2, 1) == NULL &&
	    target("http://127.0.0.1:99999/", NULL, NULL, NULL, 0) == NULL,
	    "request: https, a host name, userinfo, variables and a bad port stay libcurl's");
}

/* ---- against a scripted peer ---- */

enum act { A_REPLY, A_RESET, A_SILENT, A_CLOSE_IDLE };

static struct peer {
	int lfd, port;
	enum act act[16];
	int nact;
	int accepts;
	char req[16][512];
} P;

static void *
peer_main(void *arg)
{
	int fd = -1, i;
	char buf[512];
	ssize_t n;
	size_t len;
	struct linger lg = { 1, 0 };

	for (i = 0; i < P.nact; i++) {
		if (fd < 0) {
			fd = accept(P.lfd, NULL, NULL);
			P.accepts++;
		}
		len = 0;
		while (len < sizeof buf - 1 &&
		    (n = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		buf[len] = '\0';
		memcpy(P.req[i], buf, len + 1);
		switch (P.act[i]) {
		case A_REPLY:
			send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, MSG_NOSIGNAL);
			break;
		case A_CLOSE_IDLE:
			send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, MSG_NOSIGNAL);
			shutdown(fd, SHUT_WR);
			/* wait for the client's close of the idle connection */
			while (recv(fd, buf, sizeof buf, 0) > 0)
				;
			close(fd);
			fd = -1;
			break;
		case A_RESET:
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(fd);
			fd = -1;
			break;
		case A_SILENT:
			/* hold it until the client gives up */
			while (recv(fd, buf, sizeof buf, 0) > 0)
				;
			close(fd);
			fd = -1;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static struct event_base *base;
static int results[16], statuses[16], nres;

static void
on_done(void *arg, void *req, int status, int reason)
{
	statuses[nres] = status;
	results[nres++] = reason;
	event_base_loopbreak(base);
}

static void
nobody(void *req, const char *data, size_t len)
{
}

/* run the loop until `n` results are in, at most 5 s */
static void
until(int n)
{
	int64_t end = clock_now() + 5 * NS_PER_SEC;

	while (nres < n && clock_now() < end)
		event_base_loop(base, EVLOOP_ONCE);
}

/* send one request and run the loop until it is done */
static int
one(struct h1 *h, const struct h1_target *t, double timeout)
{
	int before = nres;

	h1_send(h, t, NULL, timeout);
	until(before + 1);
	return nres > before ? results[nres - 1] : -2;
}

static int
listen_on(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	return fd;
}

/* a fresh base and client, and the scripted peer started on the N
 * actions ACTS: the target to send to, at PATH */
static struct h1_target *
peer_start(struct h1 **h, pthread_t *th, const char *path,
    const enum act *acts, int n)
{
	char url[64];

	memset(&P, 0, sizeof P);
	nres = 0;
	base = event_base_new();
	*h = h1_new(base, 1 << 20, on_done, nobody, NULL);
	P.lfd = listen_on(&P.port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", P.port, path);
	memcpy(P.act, acts, (size_t)n * sizeof *acts);
	P.nact = n;
	pthread_create(th, NULL, peer_main, NULL);
	return target(url, NULL, NULL, NULL, 0);
}

static void
peer_cases(void)
{
	struct h1 *h;
	struct h1_target *t;
	pthread_t th;
	char url[64];
	int r, r2, dead, port;
	/* two replies on one connection, then a reset, then a fresh
	 * connection that the peer closes once idle, then a silent one */
	static const enum act acts[] = {
		A_REPLY, A_REPLY, A_RESET, A_CLOSE_IDLE, A_REPLY, A_SILENT,
	};

	t = peer_start(&h, &th, "/p", acts, 6);

	r = one(h, t, 5);
	r2 = one(h, t, 5);
	ok(r == -1 && r2 == -1 && statuses[0] == 200 && statuses[1] == 200 &&
	    P.accepts == 1, "peer: two requests, both 200, on one connection (%d accepts)",
	    P.accepts);
	ok(strcmp(P.req[0], t->bytes) == 0 && strcmp(P.req[1], t->bytes) == 0,
	    "peer: the target received the request's bytes exactly");
	r = one(h, t, 5);
	ok(r == FAIL_RESET, "peer: a connection reset under the request fails it as "
	    "\"reset\" (%d), and it is not sent again", r);
	r = one(h, t, 5);
	ok(r == -1 && P.accepts == 2, "peer: the next request opens a new connection");
	/* the peer closes that connection once idle: the client sees the
	 * close and the next request goes out on a new connection */
	{
		int64_t end = clock_now() + 5 * NS_PER_SEC;

		while (h->pools[0].idle != NULL && clock_now() < end)
			event_base_loop(base, EVLOOP_ONCE);
		dead = h->pools[0].idle == NULL;
	}
	ok(dead, "peer: an idle connection the target closed leaves the pool");
	r = one(h, t, 5);
	ok(r == -1 && P.accepts == 3, "peer: the request after it has its own connection (%d accepts)",
	    P.accepts);
	r = one(h, t, 0.2);
	ok(r == FAIL_TIMEOUT, "peer: a request never answered fails as \"timeout\" (%d)", r);
	pthread_join(th, NULL);
	free(t);

	/* nothing listens: refused, reported from the loop */
	close(P.lfd);
	r = listen_on(&port);
	close(r);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	t = target(url, NULL, NULL, NULL, 0);
	nres = 0;
	h1_send(h, t, NULL, 5);
	h1_send(h, t, NULL, 5);
	ok(nres == 0, "refused: not reported from inside h1_send");
	until(2);
	ok(nres == 2 && results[0] == FAIL_REFUSED && results[1] == FAIL_REFUSED,
	    "refused: a closed port is \"refused\" (%d)", results[0]);
	free(t);
	h1_free(h);
	event_base_free(base);
}

/*
 * Timeouts on kept-alive connections share one deadline list under one
 * timer (h1.c, sweep).  Here the first request's timer is the connect's
 * own; the next two go on the list.  The second's deadline is what the
 * list's timer is set for, and it is answered and unlinked first; the
 * third is sent half a timeout later, so the timer falls due in the
 * middle of it and must move on to the third's own deadline.
 */
static void
deadline_cases(void)
{
	struct h1 *h;
	struct h1_target *t;
	pthread_t th;
	int r1, r2, r3;
	int64_t t0, took;
	static const enum act acts[] = { A_REPLY, A_REPLY, A_SILENT };

	t = peer_start(&h, &th, "/d", acts, 3);

	r1 = one(h, t, 0.3);
	r2 = one(h, t, 0.3);
	ok(r1 == -1 && r2 == -1 && h->dhead == NULL && h->sweep_at != 0,
	    "deadlines: two answered requests, none left on the list, its timer still set");
	/* half the timeout later, so that the timer, set for the second's
	 * deadline, falls due in the middle of the third's */
	{
		struct timeval half = { 0, 150000 };

		event_base_loopexit(base, &half);
		event_base_dispatch(base);
	}
	t0 = clock_now();
	r3 = one(h, t, 0.3);
	took = clock_now() - t0;
	ok(r3 == FAIL_TIMEOUT, "deadlines: an unanswered request on the list fails as "
	    "\"timeout\" (%d)", r3);
	ok(took >= 290 * NS_PER_MS && took < 3 * NS_PER_SEC,
	    "deadlines: after its own timeout, not the answered one's (%.3f s)",
	    (double)took / NS_PER_SEC);
	ok(h->dhead == NULL && P.accepts == 1, "deadlines: the list is empty again, one connection used");
	pthread_join(th, NULL);
	free(t);
	close(P.lfd);
	h1_free(h);
	event_base_free(base);
}

/*
 * A response that comes in pieces, each read by its own call of the read
 * handler: what is left between two reads (half a header line, half a
 * chunk-size line) moves from the worker's buffer to the connection's and
 * is parsed with the next piece.
 */
static void
piece_cases(void)
{
	static const char *pieces[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Enc", "oding: chunked\r\n\r\n1",
		"0\r\n0123456789abcdef\r\n0\r", "\n\r\n"
	};
	struct h1 *h;
	struct h1_target *t;
	struct conn *c;
	int sv[2], i, left_ok = 1;

	base = event_base_new();
	nres = 0;
	h = h1_new(base, 1 << 20, on_done, sink, NULL);
	t = target("http://127.0.0.1:9/", NULL, NULL, NULL, 0);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	c = conn_new(h);
	c->fd = sv[0];
	c->t = t;
	c->req = &nres;
	c->phase = P_HEAD;
	ngot = 0;
	for (i = 0; i < 4; i++) {
		send(sv[1], pieces[i], strlen(pieces[i]), 0);
		conn_read(sv[0], EV_READ, c);
		/* between pieces nothing is held in the worker's buffer */
		if (i < 3 && (c->buf == h->rbuf || c->len == 0 || nres != 0))
			left_ok = 0;
	}
	ok(left_ok, "pieces: what a read leaves is kept by the connection");
	ok(nres == 1 && results[0] == -1 && statuses[0] == 200 && ngot == 16 &&
	    memcmp(got, "0123456789abcdef", 16) == 0,
	    "pieces: the response parsed across four reads (%d, %zu body bytes)",
	    nres, ngot);
	ok(h->pools[0].idle == c && c->buf != h->rbuf && c->len == 0,
	    "pieces: the connection is idle in the pool, nothing left over");
	close(sv[1]);
	free(t);
	h1_free(h);
	event_base_free(base);
}


/*
 * Arrivals due together go out in one submission (h1_plug).  Each
 * connection here is one end of a socket pair, idle in the pool as a
 * finished request leaves it; the test holds the other ends.  Every
 * request must reach its peer whole and once, whatever its send said:
 * all of it, EAGAIN (a full socket buffer: the rest goes when it
 * drains), or an error (a closed peer: "reset", reported from the loop).
 */
#define NB 10

static struct conn *
idle_conn(struct h1 *h, int fd)
{
	struct conn *c = conn_new(h);
	struct pool *p = pool(h, 0);

	c->fd = fd;
	c->host = 0;
	c->phase = P_IDLE;
	event_assign(&c->rd, h->base, fd, EV_READ | EV_PERSIST, conn_read, c);
	event_assign(&c->wr, h->base, fd, EV_WRITE, conn_write, c);
	event_add(&c->rd, NULL);
	c->next = p->idle;
	p->idle = c;
	return c;
}

/* what peer end fd has, up to n bytes, without waiting */
static size_t
drain(int fd, char *buf, size_t n)
{
	ssize_t k;
	size_t len = 0;

	while (len < n && (k = recv(fd, buf + len, n - len, MSG_DONTWAIT)) > 0)
		len += (size_t)k;
	return len;
}

static void
batch_cases(void)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct h1 *h;
	struct h1_target *t;
	int sv[NB][2], i, plugged, whole = 1, replied = 1, junk_fd, sndbuf = 4096;
	static char big[1 << 24];
	char buf[1 << 16];
	size_t len, filled = 0;
	int64_t end;

	base = event_base_new();
	nres = 0;
	h = h1_new(base, 1 << 20, on_done, nobody, NULL);
	t = target("http://127.0.0.1:9/b", NULL, NULL, NULL, 0);
	for (i = 0; i < NB; i++) {
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]);
		idle_conn(h, sv[i][0]);
	}

	plugged = h1_plug(h);
	for (i = 0; i < 3; i++)
		h1_send(h, t, NULL, 5);
	if (plugged) {
		ok(h1_batched(h) == 3 && drain(sv[NB - 1][1], buf, sizeof buf) == 0,
		    "batch: plugged, three requests wait and nothing is sent (%d)",
		    h1_batched(h));
	} else {
		diag("no io_uring here: the batch is plain sends");
		ok(h1_batched(h) == 0 && recv(sv[NB - 1][1], buf, sizeof buf,
		    MSG_PEEK | MSG_DONTWAIT) == (ssize_t)t->len,
		    "batch: without io_uring, h1_plug says so and a request goes at once");
	}
	h1_unplug(h);
	ok(h1_batched(h) == 0, "batch: unplugged, nothing waits");
	/* the pool is last in, first out: the last three made */
	for (i = NB - 3; i < NB; i++) {
		len = drain(sv[i][1], buf, sizeof buf);
		whole &= len == t->len && memcmp(buf, t->bytes, len) == 0;
	}
	ok(whole, "batch: each of three connections received the request once, whole");
	for (i = NB - 3; i < NB; i++)
		replied &= send(sv[i][1], reply, sizeof reply - 1, 0) == sizeof reply - 1;
	until(3);
	ok(replied && nres == 3 && results[0] == -1 && results[1] == -1 &&
	    results[2] == -1 && statuses[0] == 200 && statuses[2] == 200,
	    "batch: all three answered 200, their connections back in the pool");

	/* more than a submission holds, and the two ways a send can come
	 * back short: one peer closed, one socket buffer full */
	nres = 0;
	close(sv[NB - 2][1]);		/* second off the pool */
	junk_fd = sv[NB - 3][0];	/* third off the pool */
	setsockopt(junk_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	for (;;) {
		ssize_t k = send(junk_fd, buf, sizeof buf, MSG_DONTWAIT);

		if (k <= 0)
			break;
		filled += (size_t)k;
	}
	h1_plug(h);
	for (i = 0; i < NB; i++)
		h1_send(h, t, NULL, 5);
	h1_unplug(h);
	ok(nres == 0, "batch: no result is reported from inside h1_unplug");
	/* the full one's peer reads the filler, then its request */
	len = 0;
	end = clock_now() + 5 * NS_PER_SEC;
	while (len < filled + t->len && clock_now() < end) {
		len += drain(sv[NB - 3][1], big + len, sizeof big - len);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	ok(len == filled + t->len && memcmp(big + filled, t->bytes, t->len) == 0,
	    "batch: a send held up by a full buffer goes out whole when it drains "
	    "(%zu of %zu bytes)", len, filled + t->len);
	whole = 1;
	for (i = 0; i < NB; i++) {
		if (i == NB - 2 || i == NB - 3)
			continue;
		len = drain(sv[i][1], buf, sizeof buf);
		whole &= len == t->len && memcmp(buf, t->bytes, len) == 0;
	}
	ok(whole, "batch: ten requests, more than one submission holds, each sent once, whole");
	until(1);
	ok(nres == 1 && results[0] == FAIL_RESET,
	    "batch: the request to a closed peer fails as \"reset\" (%d results, the first %d)", nres, nres ? results[0] : -2);
	for (i = 0; i < NB; i++)
		if (i != NB - 2)
			close(sv[i][1]);

	/* the same without a batch: a kept-alive connection whose peer
	 * closed before the loop saw it fails its request at the send */
	nres = 0;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[0]);
	idle_conn(h, sv[0][0]);
	close(sv[0][1]);
	h1_send(h, t, NULL, 5);
	until(1);
	ok(nres == 1 && results[0] == FAIL_RESET,
	    "send: a request whose send() fails is reported as \"reset\" (%d results, "
	    "the first %d)", nres, nres ? results[0] : -2);
	free(t);
	h1_free(h);
	event_base_free(base);
}

int
main(void)
{
	parser_cases();
	request_cases();
	peer_cases();
	deadline_cases();
	piece_cases();
	batch_cases();
	return done_testing();
}
