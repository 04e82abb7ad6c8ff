/*
 * sut.c: the reference system under test, a tandem of K FCFS stations
 * served over HTTP and simulated in virtual time.
 *
 * A request arriving at a (CLOCK_MONOTONIC, when the kernel received its
 * first byte: see "Arrival instants") is pushed through the stations at
 * once, on paper:
 *	start_k = max(a_k, free_k),  d_k = start_k + S_k,  free_k = d_k,
 *	a_{k+1} = d_k
 * with S_k exponential of mean D_k (or exactly D_k with -e det).  Its
 * reply is sent when the clock reaches d_K.  No CPU is spent "serving",
 * so one core emulates thousands of requests a second and the queueing
 * is exactly that of the model, whatever the load on the machine; only
 * the reply can be late, and that lateness is measured (timing error).
 *
 * Invariants:
 *   - the network list is in arrival order and, because every request
 *     visits every station in the same FCFS order, also in order of
 *     departure: d_K never decreases along it.  So one timer, armed for
 *     the head's departure (SPIN_NS early), replies to everything; it is
 *     armed exactly when the list is non-empty, and due is its departure.
 *   - a job owns its evhttp_request until it replies or, at stop, hands
 *     it back; evhttp detaches (never frees) a request we have not
 *     answered when its connection fails, so the pointer stays valid.
 *   - "hang" requests never enter the network; at most SUT_MAX_HELD are
 *     held, each watched for its client leaving, since evhttp does not
 *     read a connection whose request is unanswered.
 *   - everything counted is guarded by lock: the loop thread writes it,
 *     sut_truth() and sut_reset() may be called from any thread.
 *   - ground truth is exact: the time-averaged number in system is the
 *     integral of the count over [epoch, now], computed from the known
 *     arrival and departure instants, not sampled.
 *   - arrival instants never decrease along the network list (last_a).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "arrivald.h"

enum fault { FAULT_NONE, FAULT_5XX, FAULT_RESET, FAULT_HANG };

/* held "hang" requests each keep a connection open: cap them */
#define SUT_MAX_HELD 4096
/*
 * A departure is not slept up to: the timer is armed SPIN_NS early and
 * the loop polls, without sleeping, the rest of the way.  A sleeping
 * thread wakes 50-100 us late on a virtual machine (the vCPU halts and
 * the host must run it again); a polling one sees the instant within a
 * loop iteration, and sees new requests as promptly.  The cost is CPU,
 * at most SPIN_NS per departure instant.
 */
#define SPIN_NS (150 * NS_PER_US)
/* a receive stamp further back than this is a clock step, not a request */
#define STAMP_MAX_AGE_NS (60 * NS_PER_SEC)

/* a descriptor a connection of ours has used: see "Arrival instants" */
struct peer {
	struct event *ev;	/* one-shot: the next request's first bytes */
	int64_t a;		/* when the kernel received them, 0 = not seen */
};

struct job {
	TAILQ_ENTRY(job) entry;
	struct evhttp_request *req;
	struct sut *sut;
	struct event *watch;	/* held only: its client's socket, for EOF */
	enum fault fault;
	int64_t a;		/* arrival at the first station, ns */
	int64_t t[];		/* station k: t[2k] service start, t[2k+1] departure */
};
TAILQ_HEAD(jobs, job);

struct sut {
	struct sut_conf conf;
	uint64_t seed;		/* the one used, after 0 = random */
	struct event_base *base;
	struct evhttp *http;
	struct event *depart_ev;	/* the network head's departure */
	struct event *wake_ev;		/* sut_stop() from another thread */
	struct event *fresh_ev;		/* new connections to watch */
	struct bufferevent **fresh;	/* theirs, each with a reference held */
	int nfresh, fresh_cap;
	struct peer *peers;		/* by descriptor */
	int npeers;
	int64_t last_a;			/* the latest arrival instant */
	int wake[2];
	int quit;		/* loop thread: sut_stop() asked it to end */
	int64_t due;		/* loop thread: departure depart_ev serves, 0 = none */
	pthread_t thread;
	int running;
	int port;
	struct rng service, faults;	/* separate streams: faults do not shift service times */
	int64_t free_at[SUT_MAX_STATIONS];	/* last departure per station */

	pthread_mutex_t lock;	/* guards everything below */
	struct jobs network;	/* in the stations, arrival = departure order */
	struct jobs held;	/* "hang" faults, never answered */
	uint64_t in_system, held_now;
	int64_t epoch;		/* start or last reset */
	uint64_t arrivals, completions;
	uint64_t fault_count[4];
	double resp_sum;	/* ns, over completions */
	double area;		/* ns x requests, of jobs that left */
	double area_k[SUT_MAX_STATIONS], busy_k[SUT_MAX_STATIONS];
	struct hist *sent;	/* us: reply handed to the kernel - d_K */
	struct hist *wrote;	/* us: the write returned - d_K */
	FILE *log;
};

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* length of [lo, hi) inside [from, to), never negative */
static double
overlap(int64_t lo, int64_t hi, int64_t from, int64_t to)
{
	int64_t a = max64(lo, from), b = min64(hi, to);

	return b > a ? (double)(b - a) : 0.0;
}

static int64_t
departure(const struct sut *s, const struct job *j)
{
	return j->t[2 * s->conf.nstations - 1];
}

/* the job's time in the system and at each station, clipped to [from, to) */
static void
account(struct sut *s, const struct job *j, int64_t from, int64_t to,
    double *area, double *area_k, double *busy_k)
{
	int k, K = s->conf.nstations;
	int64_t ak = j->a;

	*area += overlap(j->a, departure(s, j), from, to);
	for (k = 0; k < K; k++) {
		area_k[k] += overlap(ak, j->t[2 * k + 1], from, to);
		busy_k[k] += overlap(j->t[2 * k], j->t[2 * k + 1], from, to);
		ak = j->t[2 * k + 1];
	}
}

static void
arm(struct sut *s)
{
	struct job *j = TAILQ_FIRST(&s->network);
	int64_t wait;
	struct timeval tv;

	if (j == NULL) {
		s->due = 0;
		return;
	}
	s->due = departure(s, j);
	wait = s->due - clock_now();
	/* wake a little early; the loop polls the rest of the way (loop()) */
	if (wait > SPIN_NS)
		wait -= SPIN_NS;
	else if (wait < 0)
		wait = 0;
	/* round up: early firing costs a wakeup, late costs accuracy */
	wait = (wait + NS_PER_US - 1) / NS_PER_US;
	tv.tv_sec = wait / 1000000;
	tv.tv_usec = wait % 1000000;
	/* libevent adds tv to its cached "now", stale by this callback's work */
	event_base_update_cache_time(s->base);
	event_add(s->depart_ev, &tv);
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL)
		fatal("evbuffer_new failed");
	evbuffer_add(body, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/* hand a request back to evhttp without answering it: the client sees a reset */
static void
drop(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct linger lg = { 1, 0 };
	evutil_socket_t fd;

	if (evcon == NULL) {	/* detached: its client is gone already */
		evhttp_request_free(req);
		return;
	}
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd != -1)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	evhttp_connection_free(evcon);	/* frees req with it */
}

static void
late(struct sut *s, struct hist *h, int64_t us)
{
	pthread_mutex_lock(&s->lock);
	hist_record(h, us > 0 ? us : 0);
	pthread_mutex_unlock(&s->lock);
}

/*
 * The actual reply time is when the reply is handed to the kernel: the
 * point where the model's departure meets the network, as the arrival
 * a_1 is where the network hands the request to us (and as arrivald
 * takes its send time when it hands a request over).  The write itself
 * carries the reply through loopback into the client's socket and
 * wakes the client, tens of microseconds on a virtual machine; when it
 * has returned is measured too (wrote).  evhttp calls written() then.
 * The departure rides in the argument, in microseconds modulo 2^32 so
 * that it fits a pointer anywhere (lateness up to 35 minutes is
 * exact); the sut is the thread's own.
 */
static _Thread_local struct sut *self;

static void *
due_arg(int64_t d)
{
	return (void *)(uintptr_t)(uint32_t)(d / NS_PER_US);
}

static void
written(struct evhttp_request *req, void *arg)
{
	uint32_t now_us = (uint32_t)(clock_now() / NS_PER_US);

	late(self, self->wrote, (int32_t)(now_us - (uint32_t)(uintptr_t)arg));
}

/*
 * evhttp_send_reply() only queues the reply; the bufferevent writes it
 * when the loop next finds the socket writable, a turn of the loop
 * later.  Write it now instead, as the bufferevent would (it keeps the
 * front of its output frozen except while it writes), then run the
 * callback it would run on finding its output empty: evhttp finishing
 * the request, which may free the connection.  What cannot be written
 * now (a full socket buffer, an error) stays queued for the
 * bufferevent's own path.  Returns when the write began.
 */
static int64_t
flush_now(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	int64_t begun;
	int n;

	if (fd == -1 || evbuffer_get_length(out) == 0)
		return 0;
	evbuffer_unfreeze(out, 1);
	begun = clock_now();
	n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	if (n > 0 && evbuffer_get_length(out) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0);
	return begun;
}

static void
depart(evutil_socket_t fd, short what, void *arg)
{
	struct sut *s = arg;
	struct jobs ready = TAILQ_HEAD_INITIALIZER(ready);
	struct evhttp_connection *evcon;
	struct job *j;
	int64_t begun, d, now = clock_now();

	/* count under the lock; answer outside it, evhttp may call back */
	pthread_mutex_lock(&s->lock);
	while ((j = TAILQ_FIRST(&s->network)) != NULL &&
	    (d = departure(s, j)) <= now) {
		TAILQ_REMOVE(&s->network, j, entry);
		s->in_system--;
		s->completions++;
		s->resp_sum += (double)(d - j->a);
		account(s, j, s->epoch, INT64_MAX, &s->area, s->area_k,
		    s->busy_k);
		if (s->log != NULL)
			fprintf(s->log, "%lld %lld\n", (long long)j->a,
			    (long long)d);
		TAILQ_INSERT_TAIL(&ready, j, entry);
	}
	arm(s);
	pthread_mutex_unlock(&s->lock);

	while ((j = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, j, entry);
		d = departure(s, j);
		if (j->fault == FAULT_RESET)
			drop(j->req);
		else {
			/* NULL: its client left, and replying frees req */
			evcon = evhttp_request_get_connection(j->req);
			evhttp_request_set_on_complete_cb(j->req, written,
			    due_arg(d));
			if (j->fault == FAULT_5XX)
				reply_text(j->req, 503, "Service Unavailable",
				    "fault injected\n");
			else
				reply_text(j->req, 200, "OK", "ok\n");
			if (evcon != NULL && (begun = flush_now(evcon)) != 0)
				late(s, s->sent, (begun - d) / NS_PER_US);
		}
		free(j);
	}
}

/* let a held request go: its connection is closed, unanswered */
static void
release(struct sut *s, struct job *j)
{
	TAILQ_REMOVE(&s->held, j, entry);
	s->held_now--;
	if (j->watch != NULL)
		event_free(j->watch);
	drop(j->req);
	free(j);
}

/*
 * evhttp stops reading a connection while its request is unanswered, so
 * it never notices the client leave; without this, every held request
 * would keep a descriptor until exit.
 */
static void
gone(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct sut *s = j->sut;
	char c;
	ssize_t n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	pthread_mutex_lock(&s->lock);
	if (n > 0) {
		/* a pipelined request behind it: hold on, stop watching */
		event_free(j->watch);
		j->watch = NULL;
	} else
		release(s, j);
	pthread_mutex_unlock(&s->lock);
}

static void
hold(struct sut *s, struct job *j)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(j->req);
	evutil_socket_t fd = -1;

	if (s->held_now >= SUT_MAX_HELD)
		release(s, TAILQ_FIRST(&s->held));
	j->sut = s;
	j->watch = NULL;
	if (evcon != NULL)
		fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd != -1 && (j->watch = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    gone, j)) != NULL)
		event_add(j->watch, NULL);
	TAILQ_INSERT_TAIL(&s->held, j, entry);
	s->held_now++;
}

static enum fault
draw_fault(struct sut *s)
{
	double u;

	if (s->conf.p_5xx + s->conf.p_reset + s->conf.p_hang <= 0)
		return FAULT_NONE;
	u = rng_uniform(&s->faults);
	if ((u -= s->conf.p_5xx) < 0)
		return FAULT_5XX;
	if ((u -= s->conf.p_reset) < 0)
		return FAULT_RESET;
	if ((u -= s->conf.p_hang) < 0)
		return FAULT_HANG;
	return FAULT_NONE;
}

/* an ordinary request: through the stations, answered at d_K */
static void
arrive(struct sut *s, struct evhttp_request *req, int64_t a)
{
	int k, K = s->conf.nstations;
	struct job *j;
	int64_t x, start, service;
	double mean;

	j = xmalloc(sizeof *j + 2 * (size_t)K * sizeof j->t[0]);
	j->req = req;
	j->sut = s;
	j->watch = NULL;
	j->a = a;

	pthread_mutex_lock(&s->lock);
	s->arrivals++;
	j->fault = draw_fault(s);
	if (j->fault != FAULT_NONE)
		s->fault_count[j->fault]++;
	if (j->fault == FAULT_HANG) {
		hold(s, j);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	x = a = s->last_a = max64(a, s->last_a);
	j->a = a;
	for (k = 0; k < K; k++) {
		mean = s->conf.demand[k];
		if (!s->conf.deterministic)
			mean *= rng_exp(&s->service);
		service = llround(mean * NS_PER_SEC);
		start = max64(x, s->free_at[k]);
		j->t[2 * k] = start;
		j->t[2 * k + 1] = s->free_at[k] = x = start + service;
	}
	TAILQ_INSERT_TAIL(&s->network, j, entry);
	if (s->in_system++ == 0)
		arm(s);
	pthread_mutex_unlock(&s->lock);
}

static json_t *
array_of(const double *v, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

/* /_stats: the same numbers as sut_truth(), as one JSON object */
static char *
stats_json(struct sut *s)
{
	struct sut_truth t;
	json_t *o;
	char *text;

	sut_truth(s, &t);
	o = json_pack("{sI sI sI sI sI sI sI sI sf sf sf sf sf so so so ss sI"
	    " s{sf sf sf} s{sf sf sf}}",
	    "arrivals", (json_int_t)t.arrivals,
	    "completions", (json_int_t)t.completions,
	    "in_system", (json_int_t)t.in_system,
	    "held", (json_int_t)t.held,
	    "faults", (json_int_t)t.faults,
	    "faults_5xx", (json_int_t)t.fault_5xx,
	    "faults_reset", (json_int_t)t.fault_reset,
	    "faults_hang", (json_int_t)t.fault_hang,
	    "elapsed", t.elapsed,
	    "lambda", t.elapsed > 0 ? t.arrivals / t.elapsed : 0.0,
	    "X", t.X,
	    "Q", t.Q,
	    "R", t.R,
	    "U", array_of(t.U, t.nstations),
	    "Qk", array_of(t.Qk, t.nstations),
	    "demands", array_of(s->conf.demand, s->conf.nstations),
	    "service", s->conf.deterministic ? "det" : "exp",
	    "seed", (json_int_t)s->seed,
	    "timing_error",
	    "p50", t.err[0], "p99", t.err[1], "max", t.err[2],
	    "timing_error_written",
	    "p50", t.wrote[0], "p99", t.wrote[1], "max", t.wrote[2]);
	if (o == NULL)
		fatal("json_pack failed for /_stats");
	text = json_dumps(o, JSON_REAL_PRECISION(12));
	json_decref(o);
	if (text == NULL)
		fatal("json_dumps failed for /_stats");
	return text;
}

static void
control(struct sut *s, struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char *text;

	if (strcmp(path, "/_stats") == 0) {
		if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
			evhttp_add_header(out, "Allow", "GET, HEAD");
			reply_text(req, 405, "Method Not Allowed",
			    "/_stats: use GET\n");
			return;
		}
		text = stats_json(s);
		evhttp_add_header(out, "Content-Type", "application/json");
		{
			struct evbuffer *body = evbuffer_new();

			if (body == NULL)
				fatal("evbuffer_new failed");
			evbuffer_add(body, text, strlen(text));
			evbuffer_add(body, "\n", 1);
			evhttp_send_reply(req, 200, "OK", body);
			evbuffer_free(body);
		}
		free(text);
	} else if (strcmp(path, "/_reset") == 0) {
		if (m != EVHTTP_REQ_POST) {
			evhttp_add_header(out, "Allow", "POST");
			reply_text(req, 405, "Method Not Allowed",
			    "/_reset: use POST\n");
			return;
		}
		sut_reset(s);
		evhttp_add_header(out, "Content-Type", "application/json");
		reply_text(req, 200, "OK", "{\"ok\": true}\n");
	} else
		reply_text(req, 404, "Not Found",
		    "no such control path (only /_stats and /_reset)\n");
}

/*
 * Arrival instants.  A request arrives when the kernel receives it, not
 * when this thread gets round to reading it: a sleeping thread wakes
 * tens of microseconds late on a virtual machine, and milliseconds late
 * when its vCPU is descheduled, and that delay would be both in the
 * model (every R short by it, replies on time that were not) and in
 * every gap of the -L log.  Sockets carry SO_TIMESTAMPNS (set on the
 * listener, inherited by each connection), but evhttp reads with
 * readv(), which cannot return the stamp; so before evhttp reads a
 * connection, a priority-0 event peeks at it (MSG_PEEK, one byte) for
 * the stamp of its first unread byte: the start of the next request.
 * It is armed when a connection is accepted and after each request is
 * read, and is one-shot, so a connection whose request is unanswered
 * (evhttp reads no further) costs nothing.  Peers are kept by
 * descriptor: a stale event left on a closed descriptor serves the next
 * connection to reuse it, and fresh() clears what the last one left.
 * A request with no stamp (none offered, or bytes that came in the same
 * read as the last request's) arrives when it is read, or with the
 * request it came with.
 */
enum peek { PEEK_STAMP, PEEK_EMPTY, PEEK_NONE };

static enum peek
peek_stamp(evutil_socket_t fd, int64_t *a)
{
	char byte, cbuf[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m;
	struct cmsghdr *c;
	struct timespec ts, rt;
	int64_t now, age;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof cbuf;
	if ((n = recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT)) == 0)
		return PEEK_NONE;	/* the client closed: evhttp will see */
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? PEEK_EMPTY : PEEK_NONE;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof ts);
		/* the stamp is on the real-time clock: carry it over */
		clock_gettime(CLOCK_REALTIME, &rt);
		now = clock_now();
		age = (int64_t)(rt.tv_sec - ts.tv_sec) * NS_PER_SEC +
		    (rt.tv_nsec - ts.tv_nsec);
		if (age > STAMP_MAX_AGE_NS)
			return PEEK_NONE;
		*a = now - (age > 0 ? age : 0);
		return PEEK_STAMP;
	}
	return PEEK_NONE;
}

static void
peeked(evutil_socket_t fd, short what, void *arg)
{
	struct sut *s = arg;
	struct peer *p = &s->peers[fd];

	if (peek_stamp(fd, &p->a) == PEEK_EMPTY)
		event_add(p->ev, NULL);	/* woken for nothing: wait on */
}

/* wait for the next request's first bytes on fd */
static void
watch_peer(struct sut *s, evutil_socket_t fd)
{
	struct peer *p;
	int n;

	if (fd >= s->npeers) {
		n = fd < 64 ? 64 : 2 * fd;
		s->peers = xrealloc(s->peers, (size_t)n * sizeof *s->peers);
		memset(s->peers + s->npeers, 0,
		    (size_t)(n - s->npeers) * sizeof *s->peers);
		s->npeers = n;
	}
	p = &s->peers[fd];
	p->a = 0;
	if (p->ev == NULL) {
		if ((p->ev = event_new(s->base, fd, EV_READ, peeked, s)) == NULL)
			fatal("event_new failed");
		event_priority_set(p->ev, 0);
	}
	event_add(p->ev, NULL);
}

/*
 * evhttp makes a connection's bufferevent here, before it has a
 * descriptor; fresh() watches it on the loop's next turn, before the
 * bufferevent first reads.  The reference keeps it valid until then.
 */
static struct bufferevent *
new_conn(struct event_base *base, void *arg)
{
	struct sut *s = arg;
	struct bufferevent *bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	if (s->nfresh == s->fresh_cap) {
		s->fresh_cap = s->fresh_cap == 0 ? 16 : 2 * s->fresh_cap;
		s->fresh = xrealloc(s->fresh,
		    (size_t)s->fresh_cap * sizeof *s->fresh);
	}
	bufferevent_incref(bev);
	s->fresh[s->nfresh++] = bev;
	event_active(s->fresh_ev, EV_TIMEOUT, 0);
	return bev;
}

static void
fresh(evutil_socket_t unused, short what, void *arg)
{
	struct sut *s = arg;
	evutil_socket_t fd;
	int i;

	for (i = 0; i < s->nfresh; i++) {
		if ((fd = bufferevent_getfd(s->fresh[i])) != -1)
			watch_peer(s, fd);
		bufferevent_decref(s->fresh[i]);
	}
	s->nfresh = 0;
}

/* when req arrived; and watch for the next one on its connection */
static int64_t
arrival_of(struct sut *s, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	evutil_socket_t fd;
	int64_t now = clock_now(), a = now;

	if (evcon == NULL)
		return a;
	bev = evhttp_connection_get_bufferevent(evcon);
	if ((fd = bufferevent_getfd(bev)) == -1)
		return a;
	if (fd < s->npeers && s->peers[fd].a != 0 && s->peers[fd].a <= now)
		a = s->peers[fd].a;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
		/* the next request came in the same read as this one */
		if (fd < s->npeers)
			s->peers[fd].a = a;
	} else
		watch_peer(s, fd);
	return a;
}

static void
request(struct evhttp_request *req, void *arg)
{
	struct sut *s = arg;
	int64_t a = arrival_of(s, req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	/* paths under /_ are ours; everything else is the workload */
	if (path != NULL && strncmp(path, "/_", 2) == 0)
		control(s, req, path);
	else
		arrive(s, req, a);
}

static void
wake(evutil_socket_t fd, short what, void *arg)
{
	struct sut *s = arg;
	char c;

	while (read(fd, &c, 1) > 0)
		;
	s->quit = 1;
	event_base_loopbreak(s->base);
}

static void *
loop(void *arg)
{
	struct sut *s = arg;
	int flags;

	self = s;
	/* the default 50 us of timer slack would be most of our error */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!s->quit) {
		flags = EVLOOP_ONCE;
		if (s->due != 0 && s->due - clock_now() <= SPIN_NS)
			flags = EVLOOP_NONBLOCK;
		if (event_base_loop(s->base, flags) != 0)
			break;
	}
	return NULL;
}

static int
listen_on(struct sut *s, const char *addr, int port, char **err)
{
	struct addrinfo hints, *res;
	struct evconnlistener *lev;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char service[16];
	int rc, on = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof service, "%d", port);
	if ((rc = getaddrinfo(addr, service, &hints, &res)) != 0) {
		xasprintf(err, "cannot listen on %s:%d: %s", addr, port,
		    gai_strerror(rc));
		return -1;
	}
	/* our own listener: evhttp_bind_socket's backlog of 128 drops bursts */
	lev = evconnlistener_new_bind(s->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (lev == NULL) {
		xasprintf(err, "cannot listen on %s:%d: %s", addr, port,
		    strerror(errno));
		return -1;
	}
	/* receive stamps, inherited by every connection: arrival instants */
	if (setsockopt(evconnlistener_get_fd(lev), SOL_SOCKET, SO_TIMESTAMPNS,
	    &on, sizeof on) == -1)
		log_warn("SO_TIMESTAMPNS: %s: requests are stamped when read",
		    strerror(errno));
	if (evhttp_bind_listener(s->http, lev) == NULL) {
		evconnlistener_free(lev);
		xasprintf(err, "cannot listen on %s:%d: evhttp refused the "
		    "listener", addr, port);
		return -1;
	}
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &len) == -1)
		fatal("getsockname: %s", strerror(errno));
	s->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void
destroy(struct sut *s)
{
	struct job *j;
	int i;

	/*
	 * Requests still attached to a connection are freed with it by
	 * evhttp_free(); detached ones (client gone) are ours to free.
	 */
	while ((j = TAILQ_FIRST(&s->network)) != NULL) {
		TAILQ_REMOVE(&s->network, j, entry);
		if (evhttp_request_get_connection(j->req) == NULL)
			evhttp_request_free(j->req);
		free(j);
	}
	while ((j = TAILQ_FIRST(&s->held)) != NULL) {
		TAILQ_REMOVE(&s->held, j, entry);
		if (j->watch != NULL)
			event_free(j->watch);
		if (evhttp_request_get_connection(j->req) == NULL)
			evhttp_request_free(j->req);
		free(j);
	}
	if (s->depart_ev != NULL)
		event_free(s->depart_ev);
	if (s->wake_ev != NULL)
		event_free(s->wake_ev);
	if (s->fresh_ev != NULL)
		event_free(s->fresh_ev);
	if (s->http != NULL)
		evhttp_free(s->http);
	for (i = 0; i < s->nfresh; i++)
		bufferevent_decref(s->fresh[i]);
	free(s->fresh);
	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].ev != NULL)
			event_free(s->peers[i].ev);
	free(s->peers);
	if (s->base != NULL)
		event_base_free(s->base);
	if (s->wake[0] != -1)
		close(s->wake[0]);
	if (s->wake[1] != -1)
		close(s->wake[1]);
	if (s->log != NULL)
		fclose(s->log);
	pthread_mutex_destroy(&s->lock);
	free(s->sent);
	free(s->wrote);
	free(s);
}

struct sut *
sut_spawn(const char *addr, int port, const struct sut_conf *conf, char **err)
{
	struct sut *s;
	struct event_config *cfg;
	sigset_t all, old;
	int k, rc;

	*err = NULL;
	if (conf->nstations < 1 || conf->nstations > SUT_MAX_STATIONS) {
		xasprintf(err, "need 1 to %d stations, not %d",
		    SUT_MAX_STATIONS, conf->nstations);
		return NULL;
	}
	for (k = 0; k < conf->nstations; k++) {
		if (!isfinite(conf->demand[k]) || conf->demand[k] < 0 ||
		    conf->demand[k] > 3600) {
			xasprintf(err, "station %d: demand %g is not in "
			    "[0, 3600] seconds", k + 1, conf->demand[k]);
			return NULL;
		}
	}
	if (port < 0 || port > 65535) {
		xasprintf(err, "port %d is not in 0..65535", port);
		return NULL;
	}

	s = xcalloc(1, sizeof *s);
	s->conf = *conf;
	s->conf.log_path = NULL;	/* not ours to keep */
	s->wake[0] = s->wake[1] = -1;
	TAILQ_INIT(&s->network);
	TAILQ_INIT(&s->held);
	pthread_mutex_init(&s->lock, NULL);
	s->sent = xmalloc(sizeof *s->sent);
	s->wrote = xmalloc(sizeof *s->wrote);
	hist_reset(s->sent);
	hist_reset(s->wrote);
	s->seed = conf->seed != 0 ? conf->seed :
	    (uint64_t)clock_now() ^ ((uint64_t)getpid() << 32);
	rng_seed(&s->service, s->seed, 0);
	rng_seed(&s->faults, s->seed, 1);

	if (conf->log_path != NULL) {
		if ((s->log = fopen(conf->log_path, "we")) == NULL) {
			xasprintf(err, "%s: %s", conf->log_path,
			    strerror(errno));
			goto fail;
		}
		setvbuf(s->log, NULL, _IOFBF, 1 << 20);
	}

	/* timerfd-backed timers: replies are due to the microsecond */
	if ((cfg = event_config_new()) == NULL)
		fatal("event_config_new failed");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	s->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (s->base == NULL)
		fatal("event_base_new_with_config failed");
	/* departures first: a reply must not wait behind newly read requests */
	if (event_base_priority_init(s->base, 2) == -1)
		fatal("event_base_priority_init failed");
	if ((s->http = evhttp_new(s->base)) == NULL)
		fatal("evhttp_new failed");
	evhttp_set_gencb(s->http, request, s);
	evhttp_set_bevcb(s->http, new_conn, s);
	evhttp_set_max_headers_size(s->http, 65536);
	evhttp_set_max_body_size(s->http, 1 << 20);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	if (listen_on(s, addr, port, err) == -1)
		goto fail;

	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2: %s", strerror(errno));
	s->depart_ev = evtimer_new(s->base, depart, s);
	s->wake_ev = event_new(s->base, s->wake[0], EV_READ | EV_PERSIST,
	    wake, s);
	if (s->depart_ev == NULL || s->wake_ev == NULL)
		fatal("event_new failed");
	event_priority_set(s->depart_ev, 0);
	if ((s->fresh_ev = event_new(s->base, -1, 0, fresh, s)) == NULL)
		fatal("event_new failed");
	event_priority_set(s->fresh_ev, 0);
	event_add(s->wake_ev, NULL);
	s->epoch = clock_now();

	/* signals belong to the caller's threads, and SIGPIPE to nobody */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, loop, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		fatal("pthread_create: %s", strerror(rc));
	s->running = 1;
	return s;

fail:
	destroy(s);
	return NULL;
}

int
sut_port(const struct sut *s)
{
	return s->port;
}

/* p50, p99, max in seconds; percentiles are capped by the exact max */
static void
summarise(const struct hist *h, double v[3])
{
	if (h->total == 0)
		return;
	v[0] = hist_percentile(h, 50) / 1e6;
	v[1] = hist_percentile(h, 99) / 1e6;
	v[2] = h->max_us / 1e6;
}

void
sut_truth(struct sut *s, struct sut_truth *t)
{
	struct job *j;
	int64_t now;
	double el, area;
	int k, K = s->conf.nstations;

	memset(t, 0, sizeof *t);
	t->nstations = K;
	pthread_mutex_lock(&s->lock);
	now = clock_now();
	el = (double)(now - s->epoch);
	area = s->area;
	memcpy(t->Qk, s->area_k, sizeof t->Qk);
	memcpy(t->U, s->busy_k, sizeof t->U);
	/* jobs still in the network add what they spent so far */
	TAILQ_FOREACH(j, &s->network, entry)
		account(s, j, s->epoch, now, &area, t->Qk, t->U);
	t->arrivals = s->arrivals;
	t->completions = s->completions;
	t->in_system = s->in_system;
	t->held = s->held_now;
	t->fault_5xx = s->fault_count[FAULT_5XX];
	t->fault_reset = s->fault_count[FAULT_RESET];
	t->fault_hang = s->fault_count[FAULT_HANG];
	t->faults = t->fault_5xx + t->fault_reset + t->fault_hang;
	t->elapsed = el / NS_PER_SEC;
	if (el > 0) {
		t->Q = area / el;
		t->X = t->completions / t->elapsed;
		for (k = 0; k < K; k++) {
			t->Qk[k] /= el;
			t->U[k] /= el;
		}
	}
	if (s->completions > 0)
		t->R = s->resp_sum / s->completions / NS_PER_SEC;
	summarise(s->sent, t->err);
	summarise(s->wrote, t->wrote);
	pthread_mutex_unlock(&s->lock);
}

void
sut_reset(struct sut *s)
{
	pthread_mutex_lock(&s->lock);
	s->epoch = clock_now();
	s->arrivals = s->completions = 0;
	memset(s->fault_count, 0, sizeof s->fault_count);
	s->resp_sum = s->area = 0;
	memset(s->area_k, 0, sizeof s->area_k);
	memset(s->busy_k, 0, sizeof s->busy_k);
	hist_reset(s->sent);
	hist_reset(s->wrote);
	if (s->log != NULL && fflush(s->log) == EOF)
		log_warn("request log: %s", strerror(errno));
	pthread_mutex_unlock(&s->lock);
}

void
sut_stop(struct sut *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		if (write(s->wake[1], "x", 1) != 1)
			fatal("sut_stop: cannot wake the loop: %s",
			    strerror(errno));
		pthread_join(s->thread, NULL);
	}
	if (s->log != NULL && fflush(s->log) == EOF)
		log_warn("request log: %s", strerror(errno));
	destroy(s);
}

/*
 * "0.005,0.004,0.003": mean demands in seconds, one per station; a
 * suffix s, ms or us may name another unit.
 */
int
sut_parse_demands(const char *text, struct sut_conf *conf, char **err)
{
	const char *p = text;
	char *end;
	double v, unit;
	int n = 0;

	*err = NULL;
	for (;;) {
		if (n == SUT_MAX_STATIONS) {
			xasprintf(err, "demands \"%s\": more than %d stations",
			    text, SUT_MAX_STATIONS);
			return -1;
		}
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0) {
			xasprintf(err, "demands \"%s\": station %d: expected "
			    "a number of seconds at \"%s\"", text, n + 1, p);
			return -1;
		}
		unit = 1;
		if (strncmp(end, "ms", 2) == 0) {
			unit = 1e-3;
			end += 2;
		} else if (strncmp(end, "us", 2) == 0) {
			unit = 1e-6;
			end += 2;
		} else if (*end == 's')
			end++;
		v *= unit;
		if (!isfinite(v) || v < 0 || v > 3600) {
			xasprintf(err, "demands \"%s\": station %d: %g s is not "
			    "in [0, 3600]", text, n + 1, v);
			return -1;
		}
		conf->demand[n++] = v;
		if (*end == '\0')
			break;
		if (*end != ',') {
			xasprintf(err, "demands \"%s\": station %d: unexpected "
			    "\"%s\"", text, n, end);
			return -1;
		}
		p = end + 1;
	}
	conf->nstations = n;
	return 0;
}
