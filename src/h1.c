/*
 * h1.c: HTTP/1.1 over plain sockets, for the steps that need nothing more.
 *
 * A step with a fixed request (no ${var}, no form, no session, no
 * extract) to an http:// URL whose host is an IP address is the same
 * bytes every time it is sent.  Those bytes are made once, when the plan
 * is built (h1_target_new), and sending the step is one send() on a
 * kept-alive connection.  libcurl, for the same request, sets up a
 * transfer, looks for a connection, polls it for liveness, formats the
 * headers, parses the status line with sscanf and takes the socket off
 * epoll and back on: about 35 allocations and system calls a request,
 * which made a request cost 2.5 times what a hand-written loop (wrk)
 * pays.  The cost of a send is also the shortest gap one worker can put
 * between two arrivals.  Everything else (https, cookies, variables,
 * host names, redirects of nothing) stays with libcurl (http.c).
 *
 * A worker's connections are pooled per host id (the engine's, so the
 * engine's cap on connections per host holds here too); an idle one is
 * taken last in, first out.  Every open connection is read from all the
 * time (one persistent event, added once), so a target that closes an
 * idle connection is seen before the connection is used again.  A
 * connection carries one request at a time; a response is framed by
 * Content-Length, chunked encoding, or the close of the connection, and
 * a connection goes back to the pool only when its response was framed
 * and both sides keep it alive.
 *
 * Failures are named as libcurl's would be (http_fail_reason): a refused
 * or unreachable connect is "refused", the step's timeout (whole
 * transfer, connect included) "timeout", a connection that closes or
 * resets before the response is complete "reset", a reply that is not
 * HTTP/1.x "other".  A request is never sent twice: a kept-alive
 * connection that dies under a request fails it as "reset", as the
 * engine asks of libcurl too (engine.c, on_prereq).
 *
 * The done callback is the last thing a handler does: it may send the
 * next request, on this same connection.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "arrivald.h"

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#define H1_BUF 16384               /* a connection's own buffer, when it needs one */
#define H1_RBUF 65536              /* the worker's read buffer */
#define H1_HEAD_MAX (100 * 1024)   /* a response's header block, as libcurl */
#define H1_BATCH 8                 /* sends in one submission, at most */

enum phase {
	P_IDLE,       /* no request: in the pool, or closed */
	P_CONNECT,    /* connect() under way */
	P_SEND,       /* request partly written */
	P_HEAD,       /* reading the status line and headers */
	P_LENGTH,     /* body of Content-Length bytes */
	P_CHUNK,      /* chunked body */
	P_EOF         /* body up to the close */
};

enum chunk { C_SIZE, C_DATA, C_CRLF, C_TRAILER };

struct conn {
	struct h1 *h;
	int fd;
	int host;
	enum phase phase;
	struct event rd, wr, timer;
	void *req;                /* the request in flight, or NULL */
	const struct h1_target *t;
	size_t sent;
	char *buf;                /* bytes read and not yet consumed: the */
	size_t len, cap, scan;    /* worker's rbuf while reading, else own; */
	char *own;                /* scan: where the header search resumes */
	size_t owncap;            /* own buffer, while buf is the worker's */
	int status;
	int head_only;            /* no body whatever the headers say */
	int close;                /* the response ends the connection */
	int64_t left;             /* P_LENGTH: body bytes to come */
	enum chunk chunk;
	int64_t chunk_left;
	int pending;              /* a failure to report from the loop, or 0 */
	double timeout;           /* the request's, from started */
	int64_t started;
	int64_t deadline;         /* on the deadline list: when it times out */
	struct conn *dprev, *dnext;
	int listed;               /* on the deadline list, not on its timer */
	struct conn *next;        /* pool or free list */
};

struct pool {
	struct conn *idle;
};

struct h1 {
	struct event_base *base;
	int fd_limit;
	h1_done_fn done;
	h1_body_fn body;
	void *arg;
	struct pool *pools;
	int npools;
	struct conn *spare;       /* closed connections, for reuse */
	struct conn **all;        /* every connection struct made */
	size_t nall, capall;
	int64_t shared;           /* the timeout the deadline list is for, ns */
	struct conn *dhead, *dtail;
	struct event sweep;       /* the list's one timer, */
	int64_t sweep_at;         /* due then, or 0 */
	int plugged;              /* sends wait for h1_unplug */
	int nbatch;
	struct {
		struct conn *c;
		double timeout;
		int res;
	} batch[H1_BATCH];
#ifdef HAVE_LIBURING
	struct io_uring ring;
	int ring_made;            /* ring is set up (free it) */
	int ring_ok;              /* and fit to use */
#endif
	char rbuf[H1_RBUF];       /* every read lands here first */
};

static void conn_read(evutil_socket_t, short, void *);
static void conn_write(evutil_socket_t, short, void *);
static void conn_timeout(evutil_socket_t, short, void *);
static void sweep(evutil_socket_t, short, void *);
static void disarm(struct conn *);

/* ---- targets: a step's request, made once ---- */

/* "Name:" in a header line: the length of the name, or 0 */
static size_t
header_name(const char *line)
{
	size_t n = strcspn(line, ":;");

	return line[n] != '\0' && n > 0 ? n : 0;
}

/* Does the step give header `name` itself (or remove it, "Name:")? */
static int
step_has(const struct step *st, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < st->nheaders; i++)
		if (header_name(st->headers[i]) == n &&
		    strncasecmp(st->headers[i], name, n) == 0)
			return 1;
	return 0;
}

static void
addn(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*p = xrealloc(*p, *cap);
	}
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
}

static void
add(char **p, size_t *len, size_t *cap, const char *s)
{
	addn(p, len, cap, s, strlen(s));
}

/*
 * The request libcurl would send for the step, byte for byte in what
 * matters: Host and "Accept: * / *" unless the step gives its own, the
 * step's headers with libcurl's conventions ("Name:" removes a header,
 * "Name;" sends it empty), a body with its Content-Length and, as
 * CURLOPT_POSTFIELDS does, a form Content-Type unless the step sets one.
 * NULL when the step is not one this file can send.
 */
struct h1_target *
h1_target_new(const struct step *st, const struct conf *cf, int host)
{
	struct h1_target *t;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	const char *url = st->url, *auth, *path, *method, *colon;
	char hostbuf[64], line[64], *req = NULL;
	size_t alen, hlen, len = 0, cap = 0, n;
	unsigned long port = 80;
	char *end;
	int i;

	if (url == NULL || strncasecmp(url, "http://", 7) != 0 || host < 0 ||
	    st->nform > 0 || st->nextract > 0 || strstr(url, "${") != NULL ||
	    (st->body != NULL && strstr(st->body, "${") != NULL))
		return NULL;
	for (i = 0; i < st->nheaders; i++)
		if (strstr(st->headers[i], "${") != NULL ||
		    strpbrk(st->headers[i], "\r\n") != NULL)
			return NULL;
	auth = url + 7;
	alen = strcspn(auth, "/?#");
	path = auth + alen;
	if (memchr(auth, '@', alen) != NULL || alen == 0)
		return NULL;
	/* the host: [v6] or v4, then an optional :port */
	if (auth[0] == '[') {
		const char *rb = memchr(auth, ']', alen);

		if (rb == NULL)
			return NULL;
		hlen = (size_t)(rb - auth - 1);
		colon = rb + 1 < auth + alen ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return NULL;
		if (hlen >= sizeof hostbuf)
			return NULL;
		memcpy(hostbuf, auth + 1, hlen);
	} else {
		colon = memchr(auth, ':', alen);
		hlen = colon != NULL ? (size_t)(colon - auth) : alen;
		if (hlen >= sizeof hostbuf)
			return NULL;
		memcpy(hostbuf, auth, hlen);
	}
	hostbuf[hlen] = '\0';
	if (colon != NULL && colon + 1 < auth + alen) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (end != auth + alen || port == 0 || port > 65535)
			return NULL;
	}

	t = xcalloc(1, sizeof *t);
	if (auth[0] == '[') {
		sin6 = (struct sockaddr_in6 *)&t->addr;
		if (inet_pton(AF_INET6, hostbuf, &sin6->sin6_addr) != 1)
			goto no;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		t->addrlen = sizeof *sin6;
	} else {
		sin = (struct sockaddr_in *)&t->addr;
		if (inet_pton(AF_INET, hostbuf, &sin->sin_addr) != 1)
			goto no;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		t->addrlen = sizeof *sin;
	}
	t->host = host;
	t->keepalive = cf->keepalive;
	t->connect_timeout = cf->connect_timeout;

	method = st->method != NULL ? st->method : "GET";
	t->head = strcmp(method, "HEAD") == 0;
	add(&req, &len, &cap, method);
	add(&req, &len, &cap, " ");
	n = strcspn(path, "#");
	if (n == 0 || path[0] != '/')
		add(&req, &len, &cap, "/");
	addn(&req, &len, &cap, path, n);
	add(&req, &len, &cap, " HTTP/1.1\r\n");
	if (!step_has(st, "Host")) {
		add(&req, &len, &cap, "Host: ");
		/* libcurl leaves out the scheme's own port */
		addn(&req, &len, &cap, auth, port == 80 && colon != NULL ?
		    (size_t)(colon - auth) : alen);
		add(&req, &len, &cap, "\r\n");
	}
	if (!step_has(st, "Accept"))
		add(&req, &len, &cap, "Accept: */*\r\n");
	if (st->body != NULL || strcmp(method, "POST") == 0) {
		n = st->body != NULL ? strlen(st->body) : 0;
		if (!step_has(st, "Content-Length")) {
			snprintf(line, sizeof line, "Content-Length: %zu\r\n", n);
			add(&req, &len, &cap, line);
		}
		if (!step_has(st, "Content-Type"))
			add(&req, &len, &cap,
			    "Content-Type: application/x-www-form-urlencoded\r\n");
	}
	for (i = 0; i < st->nheaders; i++) {
		const char *h = st->headers[i];
		size_t nl = header_name(h);

		if (nl == 0)
			continue; /* libcurl sends no line without a colon */
		if (h[nl] == ';') {
			/* "Name;" is "Name:" with no value */
			if (h[nl + 1 + strspn(h + nl + 1, " \t")] != '\0')
				continue;
			addn(&req, &len, &cap, h, nl);
			add(&req, &len, &cap, ":\r\n");
			continue;
		}
		if (h[nl + 1 + strspn(h + nl + 1, " \t")] == '\0')
			continue; /* "Name:" removes it */
		add(&req, &len, &cap, h);
		add(&req, &len, &cap, "\r\n");
	}
	add(&req, &len, &cap, "\r\n");
	if (st->body != NULL)
		add(&req, &len, &cap, st->body);

	t = xrealloc(t, sizeof *t + len + 1);
	memcpy(t->bytes, req, len + 1);
	t->len = len;
	free(req);
	return t;
no:
	free(t);
	return NULL;
}

/* ---- connections ---- */

struct h1 *
h1_new(struct event_base *base, int fd_limit, h1_done_fn done,
    h1_body_fn body, void *arg)
{
	struct h1 *h = xcalloc(1, sizeof *h);

	h->base = base;
	h->fd_limit = fd_limit;
	h->done = done;
	h->body = body;
	h->arg = arg;
	event_assign(&h->sweep, base, -1, 0, sweep, h);
#ifdef HAVE_LIBURING
	/* no ring (a kernel without io_uring, or a seccomp filter that
	 * forbids it): arrivals due together go out one send() apart */
	h->ring_made = h->ring_ok =
	    io_uring_queue_init(H1_BATCH, &h->ring, 0) == 0;
	if (!h->ring_ok)
		log_debug("io_uring unavailable: sends are not batched");
#endif
	return h;
}

static struct pool *
pool(struct h1 *h, int host)
{
	if (host >= h->npools) {
		h->pools = xreallocarray(h->pools, (size_t)host + 1, sizeof *h->pools);
		memset(h->pools + h->npools, 0,
		    (size_t)(host + 1 - h->npools) * sizeof *h->pools);
		h->npools = host + 1;
	}
	return &h->pools[host];
}

static void
conn_close(struct conn *c)
{
	struct h1 *h = c->h;

	event_del(&c->rd);
	event_del(&c->wr);
	disarm(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->pending = 0;
	c->phase = P_IDLE;
	c->req = NULL;
	c->t = NULL;
	c->len = 0;
	if (c->cap > 4 * H1_BUF) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	c->next = h->spare;
	h->spare = c;
}

/* fail the connection's request; the connection is closed first */
static void
fail(struct conn *c, int reason)
{
	struct h1 *h = c->h;
	void *req = c->req;

	conn_close(c);
	h->done(h->arg, req, 0, reason);
}

/* the response is complete: pool or close the connection, then report */
static void
finish(struct conn *c)
{
	struct h1 *h = c->h;
	void *req = c->req;
	int status = c->status;
	struct pool *p;

	c->req = NULL;
	/* bytes past the response were not asked for: no reuse */
	if (c->close || c->len > 0 || !c->t->keepalive)
		conn_close(c);
	else {
		disarm(c);
		c->phase = P_IDLE;
		c->t = NULL;
		p = pool(h, c->host);
		c->next = p->idle;
		p->idle = c;
	}
	h->done(h->arg, req, status, -1);
}

/*
 * Timeouts.  Most requests on kept-alive connections have the same
 * timeout, so their deadlines fall in the order they are set: they go on
 * a list, appended at the tail and unlinked in O(1), under one libevent
 * timer that follows the head lazily (sweep).  An event_add per request,
 * even on libevent's common-timeout queue, takes the base's lock and
 * cost 460 instructions, a third of an arrival's work.  Any other
 * timeout (a connect, a step's own) is the connection's own timer.
 */
static void
schedule(struct h1 *h, int64_t at, int64_t now)
{
	int64_t us = (at - now + NS_PER_US - 1) / NS_PER_US;
	struct timeval tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	h->sweep_at = at;
	event_add(&h->sweep, &tv);
}

static void
unlist(struct conn *c)
{
	struct h1 *h = c->h;

	if (c->dprev != NULL)
		c->dprev->dnext = c->dnext;
	else
		h->dhead = c->dnext;
	if (c->dnext != NULL)
		c->dnext->dprev = c->dprev;
	else
		h->dtail = c->dprev;
	c->dprev = c->dnext = NULL;
	c->listed = 0;
}

/* the connection's timeout is off, wherever it was */
static void
disarm(struct conn *c)
{
	if (c->listed)
		unlist(c);
	else
		event_del(&c->timer);
}

static void
arm(struct conn *c, double seconds, int share)
{
	struct h1 *h = c->h;
	struct timeval tv;
	int64_t us = (int64_t)(seconds * 1e6), now;

	if (us < 1000)
		us = 1000;
	if (c->listed)
		unlist(c);
	if (share && h->shared == 0)
		h->shared = us * NS_PER_US;
	if (share && us * NS_PER_US == h->shared) {
		now = clock_now();
		c->deadline = now + h->shared;
		c->dnext = NULL;
		c->dprev = h->dtail;
		if (h->dtail != NULL)
			h->dtail->dnext = c;
		else
			h->dhead = c;
		h->dtail = c;
		c->listed = 1;
		if (h->sweep_at == 0)
			schedule(h, c->deadline, now);
		return;
	}
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	event_add(&c->timer, &tv);
}

/* the list's timer: every connection past its deadline fails, and the
 * timer follows the new head */
static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct h1 *h = arg;
	int64_t now = clock_now();
	struct conn *c;

	h->sweep_at = 0;
	/* the head is taken afresh each time: a failure's report may
	 * send (appending) or close (unlinking) other connections */
	while ((c = h->dhead) != NULL && c->deadline <= now) {
		unlist(c);
		if (c->phase != P_IDLE)
			fail(c, c->pending != 0 ? c->pending : FAIL_TIMEOUT);
	}
	if (h->dhead != NULL && h->sweep_at == 0)
		schedule(h, h->dhead->deadline, now);
}

/*
 * A failure found while sending is reported from the event loop, never
 * from inside h1_send: its report may start the next request, and a
 * backlog of requests to a refused port would otherwise recurse once per
 * request.
 */
static void
later(struct conn *c, int reason)
{
	c->pending = reason;
	event_active(&c->timer, EV_TIMEOUT, 1);
}

/* write what is left of the request; 0 when it is all out */
static int
send_rest(struct conn *c)
{
	ssize_t n;

	while (c->sent < c->t->len) {
		n = send(c->fd, c->t->bytes + c->sent, c->t->len - c->sent,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->phase = P_SEND;
			event_add(&c->wr, NULL);
			return 1;
		}
		later(c, FAIL_RESET);
		return -1;
	}
	c->phase = P_HEAD;
	c->scan = 0;
	return 0;
}

static void
prepare(struct conn *c, const struct h1_target *t, void *req)
{
	/* not P_IDLE from here: a send that fails is reported as the
	 * request's (conn_timeout), not taken for an idle close */
	c->phase = P_SEND;
	c->t = t;
	c->req = req;
	c->sent = 0;
	c->status = 0;
	c->close = !t->keepalive;
	c->head_only = t->head;
}

static void
begin(struct conn *c, const struct h1_target *t, void *req)
{
	prepare(c, t, req);
	send_rest(c);
}

/*
 * Arrivals due together.  One worker cannot put two arrivals closer
 * together than one send() takes, and on a virtual machine much of a
 * send() is the crossing into the kernel and back (on the machine of
 * docs/BENCHMARKS.md, two sends on two connections reached the target
 * 6.8 us apart at the median, and 4.5 us apart as one io_uring
 * submission).  So while the engine hands over the arrivals due within
 * one send of each other (h1_plug), the requests for idle connections
 * wait here, and h1_unplug sends them in one io_uring_enter.  Each send
 * is MSG_DONTWAIT, so the kernel completes every one inside the
 * submission: the bytes went out, or EAGAIN, or an error, as a send()
 * would say, and what is left goes the usual way (send_rest).  A request
 * that needs a new connection sends the batch first, since the batch's
 * arrivals were due before it.  Without a ring, or with one alone, each
 * is a plain send().
 */
int
h1_plug(struct h1 *h)
{
#ifdef HAVE_LIBURING
	h->plugged = h->ring_ok;
#endif
	return h->plugged;
}

/* how many requests wait to be sent */
int
h1_batched(const struct h1 *h)
{
	return h->nbatch;
}

#ifdef HAVE_LIBURING
/* send the batch in one submission: 0, with each request's result in
 * batch[].res as send() would give it (-errno), or -1 if the ring
 * failed before any of it was sent */
static int
submit(struct h1 *h, int n)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct conn *c;
	int i, got, rc;

	for (i = 0; i < n; i++) {
		c = h->batch[i].c;
		/* never NULL: the ring has H1_BATCH entries, all free */
		sqe = io_uring_get_sqe(&h->ring);
		io_uring_prep_send(sqe, c->fd, c->t->bytes, c->t->len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		sqe->user_data = (uint64_t)i;
	}
	do
		rc = io_uring_submit(&h->ring);
	while (rc == -EINTR);
	if (rc != n) {
		/* a part went, or nothing we know of: the rest stays queued
		 * in a ring that is not entered again, so nothing goes twice */
		log_warn("io_uring submission failed (%s): sends are no "
		    "longer batched", rc < 0 ? strerror(-rc) : "partial");
		h->ring_ok = h->plugged = 0;
		if (rc <= 0)
			return -1;
		for (i = rc; i < n; i++)
			h->batch[i].res = -EAGAIN;
		n = rc;
	}
	for (i = 0; i < n; i++)
		h->batch[i].res = -EIO;
	for (got = 0; got < n; got++) {
		while ((rc = io_uring_wait_cqe(&h->ring, &cqe)) == -EINTR)
			;
		if (rc != 0) {
			/* not reachable with MSG_DONTWAIT.  A request whose
			 * send is not known to have failed is not sent again:
			 * -EIO fails it as "reset" */
			log_warn("io_uring: %s: sends are no longer batched",
			    strerror(-rc));
			h->ring_ok = h->plugged = 0;
			break;
		}
		i = (int)cqe->user_data;
		h->batch[i].res = cqe->res;
		io_uring_cqe_seen(&h->ring, cqe);
	}
	return 0;
}
#endif

/* send what waits: in one submission, or one by one */
static void
flush(struct h1 *h)
{
	int i, n = h->nbatch, done = -1;
	struct conn *c;

	h->nbatch = 0;
#ifdef HAVE_LIBURING
	if (n >= 2 && h->ring_ok)
		done = submit(h, n);
#endif
	for (i = 0; i < n; i++) {
		c = h->batch[i].c;
		if (done == 0 && h->batch[i].res > 0)
			c->sent = (size_t)h->batch[i].res;
		else if (done == 0 && h->batch[i].res != -EAGAIN &&
		    h->batch[i].res != -EINTR) {
			later(c, FAIL_RESET);	/* as send_rest would */
			continue;
		}
		/* the rest of a short send, or all of an unbatched one */
		if (c->sent < c->t->len)
			send_rest(c);
		else {
			c->phase = P_HEAD;
			c->scan = 0;
		}
		if (c->pending == 0)
			arm(c, h->batch[i].timeout, 1);
	}
}

void
h1_unplug(struct h1 *h)
{
	h->plugged = 0;
	flush(h);
}

/* a connection struct: from the spare ones, or new with its events set
 * up on no descriptor, so that closing it is the same either way */
static struct conn *
conn_new(struct h1 *h)
{
	struct conn *c = h->spare;

	if (c != NULL) {
		h->spare = c->next;
		c->next = NULL;
		return c;
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	c->fd = -1;
	event_assign(&c->rd, h->base, -1, EV_READ | EV_PERSIST, conn_read, c);
	event_assign(&c->wr, h->base, -1, EV_WRITE, conn_write, c);
	event_assign(&c->timer, h->base, -1, 0, conn_timeout, c);
	if (h->nall == h->capall) {
		h->capall = h->capall ? h->capall * 2 : 64;
		h->all = xreallocarray(h->all, h->capall, sizeof *h->all);
	}
	h->all[h->nall++] = c;
	return c;
}

static int
connect_reason(int err)
{
	return err == EMFILE || err == ENFILE ? FAIL_FD : FAIL_REFUSED;
}

/*
 * Send the target's request; done(arg, req, status, reason) follows,
 * always from the event loop.  timeout: seconds for the whole exchange.
 */
void
h1_send(struct h1 *h, const struct h1_target *t, void *req, double timeout)
{
	struct pool *p = pool(h, t->host);
	struct conn *c;
	int fd, one = 1;

	if ((c = p->idle) != NULL) {
		p->idle = c->next;
		c->next = NULL;
		if (h->plugged) {
			if (h->nbatch == H1_BATCH)
				flush(h);
			prepare(c, t, req);
			h->batch[h->nbatch].c = c;
			h->batch[h->nbatch++].timeout = timeout;
			return;
		}
		/* the request goes out first: the timeout is bookkeeping,
		 * and the next due arrival waits for it otherwise.  A send
		 * that failed is reported by the timer event already */
		begin(c, t, req);
		if (c->pending == 0)
			arm(c, timeout, 1);
		return;
	}
	flush(h);	/* the batch's arrivals were due first */
	c = conn_new(h);
	c->timeout = timeout;
	c->started = clock_now();
	c->host = t->host;
	c->len = 0;
	c->req = req;
	c->t = t;
	c->pending = 0;
	c->phase = P_CONNECT;
	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && fd >= h->fd_limit) {
		/* the last descriptors are the daemon's (engine.c) */
		close(fd);
		fd = -1;
		errno = EMFILE;
	}
	if (fd < 0) {
		later(c, connect_reason(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	event_assign(&c->rd, h->base, fd, EV_READ | EV_PERSIST, conn_read, c);
	event_assign(&c->wr, h->base, fd, EV_WRITE, conn_write, c);
	/* the connect has connect_timeout of the step's timeout */
	arm(c, t->connect_timeout < timeout ? t->connect_timeout : timeout, 0);
	event_add(&c->rd, NULL);
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) == 0) {
		arm(c, timeout, 0);
		begin(c, t, req);
		return;
	}
	if (errno != EINPROGRESS) {
		later(c, connect_reason(errno));
		return;
	}
	event_add(&c->wr, NULL);
}

static int take(struct conn *);

static void
conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0;
	socklen_t len = sizeof err;

	if (c->phase == P_CONNECT) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			fail(c, connect_reason(err));
			return;
		}
		arm(c, c->timeout - (double)(clock_now() - c->started) / NS_PER_SEC, 0);
		begin(c, c->t, c->req);
	} else if (c->phase == P_SEND)
		send_rest(c);
	/* a reply that came while the request was going out */
	if (c->phase == P_HEAD && c->len > 0 && c->pending == 0)
		take(c);
}

static void
conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->phase != P_IDLE)
		fail(c, c->pending != 0 ? c->pending : FAIL_TIMEOUT);
}

static void
consume(struct conn *c, size_t n)
{
	c->len -= n;
	if (c->len > 0)
		memmove(c->buf, c->buf + n, c->len);
}

static void
deliver(struct conn *c, const char *data, size_t n)
{
	if (n > 0)
		c->h->body(c->req, data, n);
}

/* the value of header `name` in the line, or NULL */
static const char *
field(const char *line, size_t n, const char *name, size_t *vlen)
{
	size_t k = strlen(name);
	const char *v, *e = line + n;

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return NULL;
	for (v = line + k + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*vlen = (size_t)(e - v);
	return v;
}

static int
has_token(const char *v, size_t n, const char *tok)
{
	size_t k = strlen(tok), i;

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(v + i, tok, k) == 0)
			return 1;
	return 0;
}

/*
 * The header block in buf[0, end): status line and fields.  Sets the
 * framing; 0, or a failure reason.
 */
static int
head_parse(struct conn *c, size_t end)
{
	const char *p = c->buf, *e = c->buf + end, *nl, *v;
	size_t n, vlen;
	int minor, http10, keep = 0, chunked = 0, i;
	int64_t clen = -1;

	if (end < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return FAIL_OTHER;
	minor = p[7] - '0';
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return FAIL_OTHER;
	if (end > 12 && p[12] != ' ' && p[12] != '\r' && p[12] != '\n')
		return FAIL_OTHER;
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	http10 = minor == 0;
	nl = memchr(p, '\n', (size_t)(e - p));
	for (p = nl + 1; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		n = (size_t)(nl - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			break;
		if ((v = field(p, n, "Content-Length", &vlen)) != NULL) {
			int64_t x = 0;
			size_t k;

			if (vlen == 0)
				return FAIL_OTHER;
			for (k = 0; k < vlen; k++) {
				if (v[k] < '0' || v[k] > '9' || x > INT64_MAX / 10 - 9)
					return FAIL_OTHER;
				x = x * 10 + (v[k] - '0');
			}
			if (clen >= 0 && clen != x)
				return FAIL_OTHER;
			clen = x;
		} else if ((v = field(p, n, "Transfer-Encoding", &vlen)) != NULL) {
			if (has_token(v, vlen, "chunked"))
				chunked = 1;
		} else if ((v = field(p, n, "Connection", &vlen)) != NULL) {
			if (has_token(v, vlen, "close"))
				c->close = 1;
			if (has_token(v, vlen, "keep-alive"))
				keep = 1;
		}
	}
	if (http10 && !keep)
		c->close = 1;
	if (c->head_only || c->status == 204 || c->status == 304 ||
	    c->status / 100 == 1) {
		c->phase = P_LENGTH;
		c->left = 0;
	} else if (chunked) {
		c->phase = P_CHUNK;
		c->chunk = C_SIZE;
	} else if (clen >= 0) {
		c->phase = P_LENGTH;
		c->left = clen;
	} else {
		c->phase = P_EOF;
		c->close = 1;
	}
	return 0;
}

/* the end of the header block in buf, or 0 if it has not all come */
static size_t
head_end(struct conn *c)
{
	size_t i = c->scan;

	for (; i < c->len; i++) {
		if (c->buf[i] != '\n')
			continue;
		if (i >= 1 && c->buf[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && c->buf[i - 1] == '\r' && c->buf[i - 2] == '\n')
			return i + 1;
	}
	c->scan = i;
	return 0;
}

/*
 * Take what buf holds: 1 when the response is complete, 0 when more must
 * come, or -reason.
 */
static int
parse(struct conn *c)
{
	size_t end, n;
	char *nl, *x;
	int r, empty;

	for (;;) {
		switch (c->phase) {
		case P_HEAD:
			/* not HTTP/1.x: said at once, not at the timeout */
			if (memcmp(c->buf, "HTTP/", c->len < 5 ? c->len : 5) != 0)
				return -FAIL_OTHER;
			if ((end = head_end(c)) == 0)
				return c->len >= H1_HEAD_MAX ? -FAIL_OTHER : 0;
			if ((r = head_parse(c, end)) != 0)
				return -r;
			consume(c, end);
			c->scan = 0;
			/* an interim 1xx is followed by the real response */
			if (c->status / 100 == 1 && c->status != 101) {
				c->phase = P_HEAD;
				continue;
			}
			if (c->status == 101)
				return -FAIL_OTHER;
			continue;
		case P_LENGTH:
			n = (int64_t)c->len < c->left ? c->len : (size_t)c->left;
			deliver(c, c->buf, n);
			consume(c, n);
			c->left -= (int64_t)n;
			return c->left == 0;
		case P_EOF:
			deliver(c, c->buf, c->len);
			c->len = 0;
			return 0;
		case P_CHUNK:
			switch (c->chunk) {
			case C_SIZE:
				if ((nl = memchr(c->buf, '\n', c->len)) == NULL)
					return c->len > 1024 ? -FAIL_OTHER : 0;
				errno = 0;
				c->chunk_left = (int64_t)strtoll(c->buf, &x, 16);
				if (x == c->buf || errno != 0 || c->chunk_left < 0 ||
				    (*x != ';' && *x != '\r' && *x != '\n' &&
				    *x != ' ' && *x != '\t'))
					return -FAIL_OTHER;
				consume(c, (size_t)(nl - c->buf) + 1);
				c->chunk = c->chunk_left == 0 ? C_TRAILER : C_DATA;
				continue;
			case C_DATA:
				n = (int64_t)c->len < c->chunk_left ?
				    c->len : (size_t)c->chunk_left;
				deliver(c, c->buf, n);
				consume(c, n);
				c->chunk_left -= (int64_t)n;
				if (c->chunk_left > 0)
					return 0;
				c->chunk = C_CRLF;
				continue;
			case C_CRLF:
				if ((nl = memchr(c->buf, '\n', c->len)) == NULL)
					return c->len > 2 ? -FAIL_OTHER : 0;
				if (nl - c->buf > 1 || (nl == c->buf + 1 && c->buf[0] != '\r'))
					return -FAIL_OTHER;
				consume(c, (size_t)(nl - c->buf) + 1);
				c->chunk = C_SIZE;
				continue;
			case C_TRAILER:
				if ((nl = memchr(c->buf, '\n', c->len)) == NULL)
					return c->len >= H1_HEAD_MAX ? -FAIL_OTHER : 0;
				n = (size_t)(nl - c->buf);
				empty = n == 0 || (n == 1 && c->buf[0] == '\r');
				consume(c, n + 1);
				if (empty)
					return 1;
				continue;
			}
			return -FAIL_OTHER;
		default:
			return -FAIL_OTHER;
		}
	}
}

/*
 * A read lands in the worker's buffer; a connection keeps a buffer of its
 * own only for what is left over between two reads (a header block or a
 * chunk line cut in two), so that thousands of connections do not hold
 * 16 KiB each.  Back to the connection's own buffer, with what is left.
 */
static void
keep_left(struct conn *c)
{
	struct h1 *h = c->h;

	if (c->buf != h->rbuf)
		return;
	c->buf = c->own;
	c->cap = c->owncap;
	c->own = NULL;
	if (c->len > 0) {
		if (c->len + 4096 > c->cap) {
			c->cap = c->len + 4096 > H1_BUF ? (c->len + 4096) * 2 : H1_BUF;
			c->buf = xrealloc(c->buf, c->cap);
		}
		memcpy(c->buf, h->rbuf, c->len);
	}
}

/* parse what has been read, and finish or fail the request on it: 1
 * when it ended (and c may already carry the next request) */
static int
take(struct conn *c)
{
	int r = parse(c);

	keep_left(c);
	if (r < 0)
		fail(c, -r);
	else if (r == 1)
		finish(c);
	return r != 0;
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct pool *p;
	struct conn **pp;
	size_t room;
	ssize_t n;

	if (c->phase == P_IDLE) {
		/* idle: the target closed it, or spoke unasked */
		p = pool(c->h, c->host);
		for (pp = &p->idle; *pp != NULL; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		conn_close(c);
		return;
	}
	if (c->phase == P_CONNECT || c->pending != 0)
		return; /* conn_write or conn_timeout says how it went */
	if (c->len == 0) {
		c->own = c->buf;
		c->owncap = c->cap;
		c->buf = c->h->rbuf;
		c->cap = H1_RBUF;
	}
	for (;;) {
		if (c->cap - c->len < 4096) {
			keep_left(c);
			if (c->len >= H1_HEAD_MAX + 65536) {
				fail(c, FAIL_OTHER);
				return;
			}
			if (c->cap - c->len < 4096) {
				c->cap = c->cap * 2 > H1_BUF ? c->cap * 2 : H1_BUF;
				c->buf = xrealloc(c->buf, c->cap);
			}
		}
		room = c->cap - c->len;
		n = recv(fd, c->buf + c->len, room, 0);
		if (n > 0) {
			c->len += (size_t)n;
			/* take() may end the request and start the next on
			 * this connection: nothing of c after it */
			if (c->phase != P_SEND && (take(c) || (size_t)n < room))
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		keep_left(c);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* the close, or an error */
		if (n == 0 && c->phase == P_EOF)
			finish(c);
		else
			fail(c, FAIL_RESET);
		return;
	}
}

/* At teardown: every connection closed, no request reported. */
void
h1_free(struct h1 *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nall; i++) {
		struct conn *c = h->all[i];

		if (c->fd >= 0) {
			event_del(&c->rd);
			event_del(&c->wr);
			event_del(&c->timer);
			close(c->fd);
		}
		free(c->buf);
		free(c);
	}
	event_del(&h->sweep);
#ifdef HAVE_LIBURING
	if (h->ring_made)
		io_uring_queue_exit(&h->ring);
#endif
	free(h->all);
	free(h->pools);
	free(h);
}
