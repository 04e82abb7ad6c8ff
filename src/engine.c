/*
 * engine.c: when a request starts, and what happens when it ends.
 *
 * There are `workers` threads; each owns an event base, its HTTP clients
 * (h1.c for steps whose request is fixed bytes, libcurl's multi handles
 * for the rest), a pool of requests (each with its easy handle) and a
 * random stream, and generates its share 1 / (workers * shards) of the fleet
 * rate.  The superposition of independent Poisson streams is Poisson at
 * the summed rate; constant streams are phase-offset so that their union
 * is evenly spaced.
 *
 * The main thread owns `struct control` (under ctl_lock) and bumps its
 * generation on every change; a worker, woken by event_active, compares
 * generations and reconciles its own state to the control state.  Nothing
 * else is shared but the stats, which have their own lock.
 *
 * Open model: arrivals come from struct arrival on an absolute schedule;
 * above max_in_flight they wait in a bounded backlog (their latency still
 * counted from the intended time), beyond it they are dropped and
 * counted.  Closed model: N users think (Z), send, wait, think; Z follows
 * the held rate, Z = N / lambda(t), and N = scale * N0.
 *
 * Latency is measured from each request's intended start (the schedule's
 * time, or the user's think deadline), so coordinated omission is not
 * possible; the lag between intended and actual send is measured too.
 *
 * An arrival is not slept up to.  A sleeping thread wakes tens of
 * microseconds late on a virtual machine at the median and hundreds at
 * p99 (the vCPU halts and the host must run it again), and every such
 * delay is lag and a distorted gap.  The arrival timer is armed a lead
 * early (struct lead, arrival.c: it follows the timer's own lateness)
 * and the loop polls, still serving I/O, the rest of the way, and sends
 * the arrival itself when it falls due (worker_main); while its arrivals
 * are seen late all the same (a busy host), it wakes two mean gaps early
 * and so sleeps only through the longest gaps.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "arrivald.h"

struct plan {
	int refs;                 /* atomic */
	uint64_t serial;          /* unique: a step pointer is only known with it */
	struct conf *conf;
	double *cum;              /* cumulative transaction weights */
	uint8_t *sessions;        /* per transaction: needs a session */
	int any_sessions;
	int h1_first;             /* every transaction starts with an h1.c step */
};

struct control {
	uint64_t gen;
	struct plan *plan;
	struct ratefn rate;       /* fleet rate, seconds since epoch */
	char *profile_file;       /* the rate is this profile */
	double profile_start;
	enum model model;
	enum arrivals arrivals;
	int paused, stopping, quit;
	double N0, scale;
	int autoscale, autoscale_limited;
};

struct worker;
struct request;

/* the transfers of a worker to one host, and the steps waiting for one */
struct hostq {
	uint64_t active;          /* handed to libcurl */
	struct request *head, *tail;
};

struct request {
	struct worker *w;
	CURL *easy;
	struct plan *plan;
	const struct transaction *txn;
	int step;
	int64_t t_txn;            /* intended start of the transaction */
	int64_t intended;         /* intended start of this step */
	uint32_t user;            /* closed model, else UINT32_MAX */
	struct session *session;
	int own_session;
	struct curl_slist *hdrs;
	char *body, *head;
	size_t blen, bcap, hlen, hcap;
	size_t limit;
	int want_body, want_head;
	int sends;                /* times libcurl sent this step (on_prereq) */
	int fd_short;             /* on_opensocket refused it a descriptor */
	struct event *pause_ev;
	const struct step *ready; /* the handle is set up for this step, */
	uint64_t ready_serial;    /* of this plan, with no session: reuse it */
	int had_session;          /* the cookie engine was ever on */
	int hq;                   /* the host queue whose connection it holds, or -1 */
	int64_t queued_at;        /* when it began to wait for a connection, or 0 */
	struct request *next;     /* free list, or a host queue */
	struct request *all;      /* every request of the worker */
};

/* an arrival this close is spun up to (worker_main), as long as the loop
 * has turned within SPIN_IO_NS: replies wait no longer than that */
#define SPIN_NS 5000
#define SPIN_IO_NS 20000

struct worker {
	int id;
	uint64_t stream;          /* global index among workers * shards */
	double share;
	pthread_t thread;
	struct event_base *base;
	struct http *http;
	struct h1 *h1;
	struct event *wake, *arr_ev, *users_ev;
	struct stats stats;
	struct rng rng;

	uint64_t gen;
	struct plan *plan;
	struct ratefn rate;
	enum model model;
	enum arrivals arrivals;
	int paused, stopping, quit;
	int64_t paused_at;
	double N0, scale;

	struct arrival arr;
	int64_t due;              /* the next arrival, or 0 */
	int64_t poll_from;        /* the loop polls from here up to due */
	int64_t armed;            /* an early wake-up was asked for then, or 0 */
	struct lead lead;         /* how early; see the top of this file */
	int64_t send_ns;          /* an arrival's lone send takes this long */
	uint64_t max_in_flight, backlog_cap;
	int64_t *backlog;
	size_t bl_head, bl_len;
	int64_t in_flight;        /* transactions outstanding */

	struct users users;
	uint64_t n_users;         /* this worker's part of N */

	int64_t conn_warned;      /* when workload.connections last held requests back */
	struct hostq *hq;         /* by host id (host_id()) */
	int nhq;
	struct request *free_reqs;
	struct request *all_reqs;
	int nreqs;
	int started;              /* reconciled once */
};

static struct {
	int n;
	struct worker *w;
	struct stats **stats;
	pthread_mutex_t lock;
	struct control ctl;
	int64_t epoch;
	int64_t start, end;       /* the run: arrivals intended in [start, end) */
	double wall_sec, wall_frac; /* CLOCK_REALTIME at the epoch: whole seconds, the rest */
	uint64_t seed;
	int shard, shards;
	int fd_limit;             /* requests' sockets stay below this number */
} E = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void worker_reconcile(struct worker *);
static void start_txn(struct worker *, int64_t intended, uint32_t user);
static void start_step(struct request *);
static void send_step(struct request *, int64_t now);
static void finish_txn(struct request *, int64_t now, int reason);

static double
secs(int64_t ns)
{
	return (double)(ns - E.epoch) / NS_PER_SEC;
}

static int64_t
nanos(double s)
{
	if (!isfinite(s) || s > 9e9)
		return INT64_MAX;
	return E.epoch + (int64_t)(s * NS_PER_SEC);
}

/* --- plans: a validated conf shared by in-flight requests --- */

static int
needs_session(const struct transaction *t)
{
	int i;

	if (t->nsteps > 1 || t->feed != NULL)
		return 1;
	for (i = 0; i < t->nsteps; i++)
		if (t->steps[i].nextract > 0)
			return 1;
	return 0;
}

/*
 * Hosts, for the connection queues: "scheme://authority" of a step's URL,
 * the part libcurl keys its connections by.  Ids are process-wide and
 * never reused, so a request of an old plan still finds its queue after a
 * reload.  A URL whose authority is substituted at send time (${var}) has
 * no id: its steps go straight to libcurl, which queues them itself.
 */
#define HOSTS_MAX 1024
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static char *host_keys[HOSTS_MAX];
static int nhosts;

static int
host_id(const char *url)
{
	const char *a = url != NULL ? strstr(url, "://") : NULL;
	size_t len;
	int i, id = -1;

	if (a == NULL)
		return -1;
	len = (size_t)(a + 3 - url) + strcspn(a + 3, "/?#");
	if (memmem(url, len, "${", 2) != NULL)
		return -1;
	pthread_mutex_lock(&hosts_lock);
	for (i = 0; i < nhosts && id < 0; i++)
		if (strlen(host_keys[i]) == len && memcmp(host_keys[i], url, len) == 0)
			id = i;
	if (id < 0 && nhosts < HOSTS_MAX) {
		host_keys[nhosts] = xstrndup(url, len);
		id = nhosts++;
	}
	pthread_mutex_unlock(&hosts_lock);
	return id;
}

static struct plan *
plan_new(struct conf *cf)
{
	struct plan *p = xcalloc(1, sizeof *p);
	double sum = 0;
	char *name;
	int i, k;

	static uint64_t serials;

	p->refs = 1;
	p->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	p->conf = cf;
	p->cum = xcalloc(cf->ntransactions, sizeof *p->cum);
	p->sessions = xcalloc(cf->ntransactions, 1);
	p->h1_first = 1;
	for (i = 0; i < cf->ntransactions; i++) {
		struct transaction *t = &cf->transactions[i];

		sum += t->weight;
		p->cum[i] = sum;
		p->sessions[i] = needs_session(t);
		p->any_sessions |= p->sessions[i];
		t->timer = stats_timer_id(t->name);
		for (k = 0; k < t->nsteps; k++) {
			t->steps[k].host = host_id(t->steps[k].url);
			/* a step with no session may be h1.c's */
			if (!p->sessions[i] && t->steps[k].h1 == NULL &&
			    cf->client == CLIENT_AUTO)
				t->steps[k].h1 = h1_target_new(&t->steps[k], cf,
				    t->steps[k].host);
		}
		p->h1_first &= t->nsteps > 0 && t->steps[0].h1 != NULL;
		for (k = 0; k < t->nsteps; k++) {
			if (t->nsteps == 1) {
				t->steps[k].timer = -1;
				continue;
			}
			xasprintf(&name, "%s/%s", t->name, t->steps[k].name);
			t->steps[k].timer = stats_timer_id(name);
			free(name);
		}
	}
	return p;
}

static struct plan *
plan_ref(struct plan *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

static void
plan_unref(struct plan *p)
{
	if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	conf_free(p->conf);
	free(p->cum);
	free(p->sessions);
	free(p);
}

static const struct transaction *
plan_pick(const struct plan *p, struct rng *r, int *index)
{
	double u = rng_uniform(r) * p->cum[p->conf->ntransactions - 1];
	int lo = 0, hi = p->conf->ntransactions - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (p->cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	*index = lo;
	return &p->conf->transactions[lo];
}

/* --- requests: pooled, each with its own easy handle --- */

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct request *r = arg;
	size_t len = size * n, room;

	if (!r->want_body || r->blen >= r->limit)
		return len;
	room = r->limit - r->blen;
	if (len < room)
		room = len;
	if (r->blen + room + 1 > r->bcap) {
		r->bcap = (r->blen + room + 1) * 2;
		if (r->bcap > r->limit + 1)
			r->bcap = r->limit + 1;
		r->body = xrealloc(r->body, r->bcap);
	}
	memcpy(r->body + r->blen, data, room);
	r->blen += room;
	r->body[r->blen] = '\0';
	return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct request *r = arg;
	size_t len = size * n;

	if (!r->want_head || r->hlen + len > 65536)
		return len;
	if (r->hlen + len + 1 > r->hcap) {
		r->hcap = (r->hlen + len + 1) * 2;
		r->head = xrealloc(r->head, r->hcap);
	}
	memcpy(r->head + r->hlen, data, len);
	r->hlen += len;
	r->head[r->hlen] = '\0';
	return len;
}

/*
 * libcurl silently sends a request again when the reused connection it
 * went out on dies before any reply byte (the target reset it).  That
 * would hide the reset and put on the target a request the schedule never
 * made, so the second send is refused: the transfer fails and counts as
 * "reset" (on_done), one scheduled request, one request at the target.
 */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	struct request *r = arg;

	return ++r->sends > 1 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

/*
 * The last descriptors are not for requests: the control socket, /metrics
 * and the results files need them to go on working while a target holds
 * connections open faster than RLIMIT_NOFILE allows (without this, accept
 * on the control socket failed with EMFILE for as long as the load ran).
 * socket() returns the lowest free number, so a number at or above
 * E.fd_limit means fewer than the reserve are free: that socket is closed
 * at once and its request fails as "fd".
 */
static curl_socket_t
on_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct request *r = arg;
	curl_socket_t fd;

	fd = socket(a->family, a->socktype, a->protocol);
	if (fd != CURL_SOCKET_BAD && fd >= E.fd_limit) {
		close(fd);
		r->fd_short = 1;
		errno = EMFILE;
		return CURL_SOCKET_BAD;
	}
	return fd;
}

/*
 * A request's easy handle is made when it first carries a step of
 * libcurl's.  Requests that only ever carry h1.c's steps have none: a
 * worker that falls behind grows its pool by thousands of requests at
 * once, just when it must catch up, and an easy handle is kilobytes to
 * allocate, touch and set up.
 */
static void
request_easy(struct request *r)
{
	if ((r->easy = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(r->easy, CURLOPT_PREREQDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
	curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* the targets are named in the config: no proxy from the environment
	 * (which also spares libcurl a getenv() per transfer) */
	curl_easy_setopt(r->easy, CURLOPT_PROXY, "");
}

static struct request *
request_get(struct worker *w)
{
	struct request *r = w->free_reqs;

	if (r != NULL) {
		w->free_reqs = r->next;
		return r;
	}
	r = xcalloc(1, sizeof *r);
	r->w = w;
	r->hq = -1;
	r->all = w->all_reqs;
	w->all_reqs = r;
	w->nreqs++;
	return r;
}

static void
request_put(struct worker *w, struct request *r)
{
	if (r->hdrs != NULL) {
		/* the handle still points at them: it is no longer set up */
		curl_slist_free_all(r->hdrs);
		r->hdrs = NULL;
		r->ready = NULL;
	}
	if (r->own_session && r->session != NULL)
		session_free(r->session);
	r->session = NULL;
	r->own_session = 0;
	plan_unref(r->plan);
	r->plan = NULL;
	r->txn = NULL;
	/* keep buffers of a sane size for the next user */
	if (r->bcap > 65536) {
		free(r->body);
		r->body = NULL;
		r->bcap = 0;
	}
	r->blen = r->hlen = 0;
	r->next = w->free_reqs;
	w->free_reqs = r;
}

static void
request_destroy(struct request *r)
{
	curl_easy_cleanup(r->easy);
	if (r->pause_ev != NULL)
		event_free(r->pause_ev);
	free(r->body);
	free(r->head);
	free(r);
}

/* --- closed model --- */

static double
think_mean(struct worker *w, double now_s)
{
	double rate = ratefn_eval(&w->rate, now_s);

	/* Z = N / lambda: the held N/Z follows the rate at fixed N */
	if (rate <= 0)
		return INFINITY;
	return w->scale * w->N0 / rate;
}

static int64_t
think_draw(struct worker *w, int64_t now, int first)
{
	double z = think_mean(w, secs(now)), t;

	if (!isfinite(z))
		return INT64_MAX;
	if (w->arrivals == ARRIVALS_POISSON)
		t = z * rng_exp(&w->rng);  /* residual of Exp is Exp */
	else
		t = first ? z * rng_uniform(&w->rng) : z;
	return now + (int64_t)(t * NS_PER_SEC);
}

static void
users_arm(struct worker *w)
{
	int64_t at, now;
	struct timeval tv;

	if (w->model != MODEL_CLOSED || w->paused || w->stopping ||
	    !users_peek(&w->users, &at) || at >= E.end) {
		evtimer_del(w->users_ev);
		return;
	}
	now = clock_now();
	at = at > now ? at - now : 0;
	tv.tv_sec = at / NS_PER_SEC;
	tv.tv_usec = (at % NS_PER_SEC) / 1000;
	evtimer_add(w->users_ev, &tv);
}

/* the users whose think ended by now send, at most max of them */
static void
users_due(struct worker *w, int64_t now, int max)
{
	int64_t at;
	uint32_t u;
	int n = 0;

	if (w->model != MODEL_CLOSED || w->paused || w->stopping)
		return;
	while (users_peek(&w->users, &at) && at <= now && at < E.end && n++ < max) {
		u = users_pop(&w->users, &at);
		if (u >= w->users.n) {
			w->users.state[u] = USER_GONE;
			continue;
		}
		w->users.state[u] = USER_BUSY;
		start_txn(w, at, u);
	}
}

static void
on_users(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	users_due(w, clock_now(), 10000);
	http_kick(w->http);
	users_arm(w);
}

static void
user_done(struct worker *w, uint32_t u, int64_t now)
{
	if (u >= w->users.n || w->model != MODEL_CLOSED) {
		w->users.state[u] = USER_GONE;
		return;
	}
	w->users.state[u] = USER_IDLE;
	users_push(&w->users, u, think_draw(w, now, 0));
	/* the timer is armed for the earliest deadline only: a think shorter
	 * than every other one must re-arm it, or the user waits for the
	 * next timer event and the think time is stretched */
	if (w->users.heap[0].user == u)
		users_arm(w);
}

/* bring the number of active users to n; new ones start at a random
 * phase of their first think, so there is no burst */
static void
users_resize(struct worker *w, uint64_t n, int64_t now)
{
	uint64_t i, old = w->users.n;

	users_reserve(&w->users, n, w->plan->any_sessions);
	w->users.n = n;
	for (i = old; i < n; i++)
		if (w->users.state[i] == USER_GONE) {
			w->users.state[i] = USER_IDLE;
			users_push(&w->users, (uint32_t)i, think_draw(w, now, 1));
		}
}

/* --- open model --- */

/* the next arrival's intended time, or infinity if it falls at or past
 * the run's end: the stop timer may fire late, and a late stop must not
 * add an arrival the run did not plan */
static double
arr_next(struct worker *w)
{
	double t = arrival_peek(&w->arr);

	return nanos(t) < E.end ? t : INFINITY;
}

static void
arr_arm(struct worker *w)
{
	double t = arr_next(w);
	int64_t now, lead, wait;
	struct timeval tv;

	if (w->model != MODEL_OPEN || w->stopping || w->paused || !isfinite(t)) {
		evtimer_del(w->arr_ev);
		w->due = w->armed = 0;
		return;
	}
	now = clock_now();
	w->due = nanos(t);
	lead = lead_get(&w->lead, ratefn_eval(&w->rate, secs(now)) * w->share);
	w->poll_from = w->due - lead;
	wait = w->due - now;
	if (wait <= lead) {
		/* worker_main polls up to the arrival and sends it itself: a
		 * timer would cost an insertion into libevent's heap per
		 * arrival, a fifth of an arrival's work */
		if (w->armed != 0)  /* its timer is pending only then */
			evtimer_del(w->arr_ev);
		w->armed = 0;
		return;
	}
	/* sleep until poll_from, then poll */
	wait -= lead;
	w->armed = now + wait;
	/* round up: early costs a loop iteration, late costs accuracy */
	wait = (wait + NS_PER_US - 1) / NS_PER_US;
	tv.tv_sec = wait / 1000000;
	tv.tv_usec = wait % 1000000;
	/* libevent adds tv to its cached "now", stale by this callback's work */
	event_base_update_cache_time(w->base);
	evtimer_add(w->arr_ev, &tv);
}

static void
arrive(struct worker *w, int64_t intended)
{
	if ((uint64_t)w->in_flight < w->max_in_flight) {
		start_txn(w, intended, UINT32_MAX);
		return;
	}
	if (w->bl_len < w->backlog_cap) {
		w->backlog[(w->bl_head + w->bl_len++) % w->backlog_cap] = intended;
		return;
	}
	stats_dropped(&w->stats);
}

/* the next arrival, seen at NOW: the lead learns how late that is */
static void
arrive_seen(struct worker *w, int64_t now)
{
	int64_t t = nanos(arrival_take(&w->arr, &w->rate));

	lead_seen(&w->lead, now - t);
	arrive(w, t);
}

/*
 * Whether the next arrival, at t, joins the k sends waiting in h1.c
 * (h1_plug), now.  It is not due yet, but sent on its own it would go
 * out a whole send after the last one, and in the batch it goes out one
 * send inside the kernel after it: later than now + k sends inside the
 * kernel.  Such a send costs more than half a lone one (the batch saves
 * the crossing into the kernel and back, not TCP's work), so an arrival
 * due within k half-sends of now is never sent before its time.  Only
 * arrivals that would be sent at once join: a full worker keeps its
 * backlog, whose requests are sent when a slot frees.
 */
static int
joins(const struct worker *w, int64_t t, int64_t now, int k)
{
	return k > 0 && w->send_ns > 0 && t - now <= k * (w->send_ns / 2) &&
	    (uint64_t)w->in_flight < w->max_in_flight;
}

/* a lone send took d: learn it, a stall's excepted */
static void
send_learn(struct worker *w, int64_t d)
{
	if (d <= 0 || d > 100 * NS_PER_US)
		return;
	w->send_ns = w->send_ns == 0 ? d : w->send_ns + (d - w->send_ns) / 16;
}

/* the arrival timer fired, or worker_main spun up to the arrival */
static void
on_arrival(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int64_t now = clock_now(), before;
	double now_s = secs(now), next;
	int n = 0, k, plug;

	if (w->armed != 0) {
		lead_learn(&w->lead, now - w->armed);
		w->armed = 0;
	}
	/* every due arrival goes out with its own intended time; a late
	 * timer never lowers the rate.  The clock is read again after each
	 * send, which takes microseconds: an arrival that fell due during
	 * it goes out next, not after a way round the loop.  Bounded per
	 * call to keep I/O going.  Requests that are h1.c's wait for one
	 * submission, with the arrivals that fall due within it (joins) */
	plug = w->plan->h1_first && h1_plug(w->h1);
	while (n < 4096) {
		if ((next = arr_next(w)) > now_s && (!plug || !isfinite(next) ||
		    !joins(w, nanos(next), now, h1_batched(w->h1))))
			break;
		n++;
		arrive_seen(w, now);
		now = clock_now();
		now_s = secs(now);
	}
	if (plug) {
		k = h1_batched(w->h1);
		before = now;
		h1_unplug(w->h1);
		if (k == 1)
			send_learn(w, clock_now() - before);
	}
	if (n > 0)
		http_kick(w->http);
	arr_arm(w);
}

/*
 * Completions come in batches, one socket event after another.  An
 * arrival that falls due in the middle of a batch goes out between two
 * completions rather than after the whole batch, so its lag is one
 * completion's work, not a batch's.  (libcurl is not kicked here: this
 * runs inside its completion loop, and its own 0 ms timer sends the new
 * transfers on the next turn of the event loop.)
 */
static void
due_now(struct worker *w, int64_t now, int max)
{
	double now_s = secs(now);
	int n = 0;

	if (w->model != MODEL_OPEN || w->stopping || w->paused ||
	    arr_next(w) > now_s)
		return;
	while (arr_next(w) <= now_s && n++ < max)
		arrive_seen(w, now);
	arr_arm(w);
}

/*
 * Constant spacing across a fleet.  The K*W streams of a fleet interleave
 * only if they share a time origin, and every instance starts at its own
 * instant; so a constant-rate schedule is anchored to the wall clock
 * (CLOCK_REALTIME), which NTP keeps common to the hosts.  At a constant
 * fleet rate r the fleet's arrivals are the instants n / r since the Unix
 * epoch, and stream g of G takes those with n = g + 1 (mod G): its next
 * arrival is where the fleet's mass r * wall next reaches such an n.  The
 * mass is reduced modulo the cycle G / r in seconds first, so that the
 * ~1.8e9 s of the wall clock cost no precision.  Done whenever a stream
 * starts afresh at a constant rate (start, resume, a plain `set rate`,
 * `set arrivals constant`, `set model open`); ramps and profiles keep the
 * phase they have.
 */
static void
arr_align(struct worker *w, double now_s)
{
	double r, G, cycle, m, ahead;

	if (w->arr.kind != ARRIVALS_CONSTANT || w->rate.n != 1 || w->paused)
		return;
	r = w->rate.r[0];
	if (!(r > 0) || !isfinite(r))
		return;
	G = 1.0 / w->share;
	cycle = G / r;
	m = fmod(fmod(E.wall_sec, cycle) + E.wall_frac + now_s, cycle) * r;
	ahead = fmod((double)(w->stream + 1) - m, G);
	if (ahead < 0)
		ahead += G;
	w->arr.t_ref = now_s;
	w->arr.remaining = ahead;
	w->arr.t_next = ratefn_solve(&w->rate, now_s, ahead);
}

static int
rate_same(const struct ratefn *a, const struct ratefn *b)
{
	return a->n == b->n && a->end == b->end &&
	    memcmp(a->t, b->t, a->n * sizeof *a->t) == 0 &&
	    memcmp(a->r, b->r, a->n * sizeof *a->r) == 0;
}

/* --- requests and transactions --- */

static void
start_txn(struct worker *w, int64_t intended, uint32_t user)
{
	struct request *r;
	int idx;

	r = request_get(w);
	r->plan = plan_ref(w->plan);
	r->txn = plan_pick(r->plan, &w->rng, &idx);
	r->step = 0;
	r->t_txn = r->intended = intended;
	r->user = user;
	if (r->plan->sessions[idx]) {
		if (user != UINT32_MAX && w->users.sessions != NULL) {
			if (w->users.sessions[user] == NULL)
				w->users.sessions[user] = session_new(rng_next(&w->rng));
			r->session = w->users.sessions[user];
		} else {
			r->session = session_new(rng_next(&w->rng));
			r->own_session = 1;
		}
		session_begin(r->session, r->txn);
	}
	w->in_flight++;
	stats_started(&w->stats, clock_now(), intended, r->txn->timer);
	start_step(r);
}

static void
finish_txn(struct request *r, int64_t now, int reason)
{
	struct worker *w = r->w;
	uint32_t user = r->user;
	int64_t intended;

	stats_finished(&w->stats, now, r->t_txn, reason, r->txn->timer);
	w->in_flight--;
	request_put(w, r);
	if (user != UINT32_MAX)
		user_done(w, user, now);
	/* the backlog drains in arrival order, latency from the plan */
	while (w->bl_len > 0 && (uint64_t)w->in_flight < w->max_in_flight &&
	    !w->stopping) {
		intended = w->backlog[w->bl_head];
		w->bl_head = (w->bl_head + 1) % w->backlog_cap;
		w->bl_len--;
		start_txn(w, intended, UINT32_MAX);
	}
}

static void
on_pause_done(evutil_socket_t fd, short what, void *arg)
{
	struct request *r = arg;

	start_step(r);
	http_kick(r->w->http);
}

static void
start_step(struct request *r)
{
	struct worker *w = r->w;
	const struct step *st = &r->txn->steps[r->step];
	const struct conf *cf = r->plan->conf;
	int64_t now = clock_now();
	char *why = NULL;
	double timeout;

	r->blen = r->hlen = 0;
	r->sends = r->fd_short = 0;
	r->want_body = session_wants_body(st);
	r->want_head = session_wants_headers(st);
	r->limit = cf->body_limit;
	if (st->h1 != NULL)
		goto send;  /* h1.c's: the bytes are made */
	if (r->easy == NULL)
		request_easy(r);
	/* A plain target (no session) on a handle that last ran the same step
	 * of the same plan, and never had cookies on, is set up already:
	 * libcurl keeps the options between transfers. */
	if (r->session == NULL && !r->had_session && r->ready == st &&
	    r->ready_serial == r->plan->serial)
		goto send;
	if (r->hdrs != NULL) {
		curl_slist_free_all(r->hdrs);
		r->hdrs = NULL;
	}
	r->ready = NULL;
	if (r->session != NULL)
		r->had_session = 1;
	if (session_prepare(r->session, st, r->easy, &r->hdrs, &why) != 0) {
		log_debug("%s: %s", st->name, why ? why : "cannot prepare");
		free(why);
		if (st->timer >= 0)
			stats_timer(&w->stats, st->timer, now, r->intended, FAIL_EXTRACT, 0);
		finish_txn(r, now, FAIL_EXTRACT);
		return;
	}
	timeout = st->timeout > 0 ? st->timeout : cf->timeout;
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(cf->connect_timeout * 1000));
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, cf->keepalive ? 0L : 1L);
	curl_easy_setopt(r->easy, CURLOPT_FRESH_CONNECT, cf->keepalive ? 0L : 1L);
	if (r->session == NULL) {
		r->ready = st;
		r->ready_serial = r->plan->serial;
	}
send:
	send_step(r, now);
}

/*
 * Connections.  libcurl holds a transfer beyond CURLMOPT_MAX_HOST_
 * CONNECTIONS in a pending list that it walks, connection cache and all,
 * whenever a transfer ends, so once a worker falls behind every request
 * costs more than the last and it never catches up (a 10,000/s run with
 * thousands pending spent 72% of its time there).  So at most
 * `workload.connections` transfers per host are handed to libcurl, and
 * the rest wait here, in arrival order, at O(1) each.  A step that waits
 * longer than its timeout fails as "timeout" without being sent, and one
 * that is sent gets what is left of it, as libcurl counts a pending
 * transfer's timeout from when it was added.
 */
static struct hostq *
hostq(struct worker *w, int id)
{
	if (id >= w->nhq) {
		w->hq = xrealloc(w->hq, (size_t)(id + 1) * sizeof *w->hq);
		memset(w->hq + w->nhq, 0, (size_t)(id + 1 - w->nhq) * sizeof *w->hq);
		w->nhq = id + 1;
	}
	return &w->hq[id];
}

static double
step_timeout(const struct request *r)
{
	const struct step *st = &r->txn->steps[r->step];

	return st->timeout > 0 ? st->timeout : r->plan->conf->timeout;
}

/* hand the step to h1.c or libcurl: the moment it is sent, as far as we
 * can see */
static void
hand_over(struct request *r, int64_t now)
{
	struct worker *w = r->w;
	const struct step *st = &r->txn->steps[r->step];
	double timeout = step_timeout(r);

	if (r->queued_at != 0) {
		timeout -= (double)(now - r->queued_at) / NS_PER_SEC;
		if (timeout < 0.001)
			timeout = 0.001;
		if (st->h1 == NULL) {
			curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS,
			    (long)(timeout * 1000));
			r->ready = NULL; /* its timeout is no longer the step's */
		}
		r->queued_at = 0;
	}
	if (st->h1 != NULL) {
		/* counted after the send, which reports nothing from here */
		h1_send(w->h1, st->h1, r, timeout);
		stats_sent(&w->stats, st->timer, r->step == 0, now - r->intended);
		return;
	}
	stats_sent(&w->stats, st->timer, r->step == 0, now - r->intended);
	/* a step the worker's queue does not cap is capped by libcurl */
	if (http_add(w->http, r->easy,
	    r->hq < 0 && w->plan->conf->connections > 0) != 0) {
		if (r->hq >= 0) {
			w->hq[r->hq].active--;
			r->hq = -1;
		}
		finish_txn(r, now, FAIL_OTHER);
	}
}

/* said where requests start to wait, at most once a minute per worker */
static void
conn_warn(struct worker *w, int id, uint64_t cap, int64_t now)
{
	w->conn_warned = now;
	pthread_mutex_lock(&hosts_lock);
	log_warn("worker %d: requests to %s wait for a connection: all of "
	    "workload.connections (%llu) are busy, so the target sees fewer "
	    "concurrent requests than an open workload would send; raise it "
	    "if that matters", w->id, host_keys[id], (unsigned long long)cap);
	pthread_mutex_unlock(&hosts_lock);
}

static void
send_step(struct request *r, int64_t now)
{
	struct worker *w = r->w;
	uint64_t cap = w->plan->conf->connections;
	int id = r->txn->steps[r->step].host;
	struct hostq *q;

	if (cap > 0 && id >= 0) {
		q = hostq(w, id);
		if (q->active >= cap || q->head != NULL) {
			if (now - w->conn_warned > 60 * NS_PER_SEC)
				conn_warn(w, id, cap, now);
			r->queued_at = now;
			r->next = NULL;
			if (q->tail != NULL)
				q->tail->next = r;
			else
				q->head = r;
			q->tail = r;
			return;
		}
		q->active++;
		r->hq = id;
	}
	hand_over(r, now);
}

/* a transfer to host `id` has ended: the next waiting steps take its
 * connection, or fail if they have waited out their timeout */
static void
conn_release(struct worker *w, int id, int64_t now)
{
	uint64_t cap = w->plan->conf->connections;
	struct hostq *q = &w->hq[id];
	struct request *r;
	const struct step *st;

	q->active--;
	/* q is taken afresh each time: a step sent or a transaction started
	 * from here may meet a new host and move w->hq */
	while ((q = &w->hq[id])->head != NULL && (cap == 0 || q->active < cap)) {
		r = q->head;
		if ((q->head = r->next) == NULL)
			q->tail = NULL;
		r->next = NULL;
		if ((double)(now - r->queued_at) / NS_PER_SEC >= step_timeout(r)) {
			r->queued_at = 0;
			st = &r->txn->steps[r->step];
			if (st->timer >= 0) {
				stats_timer(&w->stats, st->timer, 0, 0, -1, 1);
				stats_timer(&w->stats, st->timer, now, r->intended, FAIL_TIMEOUT, 0);
			}
			finish_txn(r, now, FAIL_TIMEOUT);
			continue;
		}
		q->active++;
		r->hq = id;
		hand_over(r, now);
	}
}

/*
 * A step has ended: reason -1 when a response came (its status is then
 * checked against the step), else why the exchange failed.  easy is the
 * libcurl handle it went on, NULL for h1.c's.
 */
static void
step_done(struct worker *w, struct request *r, void *easy, long status,
    int reason)
{
	const struct step *st;
	int64_t now = clock_now(), delay;
	char *why = NULL;
	struct timeval tv;

	due_now(w, now, 64);
	if (r->hq >= 0) {
		int id = r->hq;

		r->hq = -1;
		conn_release(w, id, now);
	}
	st = &r->txn->steps[r->step];
	if (reason < 0) {
		reason = session_check(r->session, st, easy, status,
		    r->body ? r->body : "", r->blen, r->head ? r->head : "",
		    r->hlen, &why);
		if (reason >= 0 && why != NULL)
			log_debug("%s: %s", st->name, why);
		free(why);
	}
	if (st->timer >= 0)
		stats_timer(&w->stats, st->timer, now, r->intended, reason, 0);
	if (reason >= 0 || r->step + 1 >= r->txn->nsteps || w->quit) {
		finish_txn(r, now, reason);
		return;
	}
	/* next step: its intended start is this completion plus its pause */
	r->step++;
	st = &r->txn->steps[r->step];
	r->intended = now;
	if (st->pause > 0) {
		delay = (int64_t)(st->pause * NS_PER_SEC);
		r->intended = now + delay;
		if (r->pause_ev == NULL)
			r->pause_ev = evtimer_new(w->base, on_pause_done, r);
		tv.tv_sec = delay / NS_PER_SEC;
		tv.tv_usec = (delay % NS_PER_SEC) / 1000;
		evtimer_add(r->pause_ev, &tv);
		return;
	}
	start_step(r);
}

static void
on_done(void *arg, void *easy, int result)
{
	struct request *r = NULL;
	long status = 0, oserr = 0;
	int reason = -1;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	if (result == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	else {
		curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
		reason = result == CURLE_ABORTED_BY_CALLBACK && r->sends > 1 ?
		    FAIL_RESET : http_fail_reason(result, oserr);
		if (r->fd_short)
			reason = FAIL_FD;
	}
	step_done(arg, r, easy, status, reason);
}

static void
on_h1_done(void *arg, void *req, int status, int reason)
{
	step_done(arg, req, NULL, status, reason);
}

static void
on_h1_body(void *req, const char *data, size_t len)
{
	on_body((char *)data, 1, len, req);
}

/* --- workers follow the control state --- */

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	worker_reconcile(arg);
}

static void
worker_reconcile(struct worker *w)
{
	struct control *c = &E.ctl;
	/* the schedule begins at the run's start, not when this thread first
	 * ran: a slow thread start is lag, not a shorter run */
	int64_t now = w->started ? clock_now() : E.start;
	double now_s = secs(now), z_old, z_new;
	struct ratefn zero, old;
	uint64_t n_total, n_mine;
	int fresh;

	/* a change takes effect from now: what the settings in force made
	 * until now goes out first, however late this thread runs.  Above
	 * all a stop, which would otherwise lose the arrivals still due
	 * before it, not sent and not dropped, and the closed users whose
	 * think ended before it */
	if (w->started) {
		due_now(w, now, INT_MAX);
		users_due(w, now, INT_MAX);
		http_kick(w->http);
	}
	pthread_mutex_lock(&E.lock);
	if (c->gen == w->gen) {
		pthread_mutex_unlock(&E.lock);
		return;
	}
	w->gen = c->gen;
	if (w->plan != c->plan) {
		plan_unref(w->plan);
		w->plan = plan_ref(c->plan);
		http_set_connections(w->http, (long)w->plan->conf->connections);
		w->max_in_flight = (uint64_t)ceil((double)w->plan->conf->max_in_flight * w->share);
		if (w->max_in_flight < 1)
			w->max_in_flight = 1;
	}
	z_old = w->model == MODEL_CLOSED ? think_mean(w, now_s) : 0;
	ratefn_copy(&old, &w->rate);
	ratefn_free(&w->rate);
	ratefn_copy(&w->rate, &c->rate);
	w->stopping = c->stopping;
	w->quit = c->quit;
	/* at a stop the backlog is never issued: its arrivals are dropped,
	 * so that sent + dropped stays every arrival the schedule made */
	while (w->stopping && w->bl_len > 0) {
		w->bl_len--;
		stats_dropped(&w->stats);
	}
	w->N0 = c->N0;
	w->scale = c->scale;

	/* open model: re-place the pending arrival under the new rate */
	ratefn_const(&zero, 0);
	fresh = !w->started || w->model != c->model || w->arrivals != c->arrivals ||
	    (w->paused && !c->paused) || !rate_same(&old, &w->rate);
	if (c->model == MODEL_OPEN) {
		if (w->model != MODEL_OPEN && w->started) {
			users_clear(&w->users);
			w->users.n = 0;
			arrival_init(&w->arr, c->arrivals, w->share,
			    (double)(w->stream + 1) * w->share, E.seed, w->stream,
			    c->paused ? &zero : &w->rate, now_s);
		} else {
			arrival_set_kind(&w->arr, c->arrivals, w->paused ? &zero : &old, now_s);
			arrival_retime(&w->arr, w->paused ? &zero : &old,
			    c->paused ? &zero : &w->rate, now_s);
		}
	}
	/* closed model: N split across workers and shards, Z the same */
	if (c->model == MODEL_CLOSED) {
		n_total = (uint64_t)llround(c->N0 * c->scale);
		n_mine = (uint64_t)floor((double)n_total * (double)(w->stream + 1) * w->share) -
		    (uint64_t)floor((double)n_total * (double)w->stream * w->share);
		w->arrivals = c->arrivals;
		if (w->model != MODEL_CLOSED || !w->started) {
			w->model = MODEL_CLOSED;
			users_resize(w, n_mine, now);
		} else {
			z_new = think_mean(w, now_s);
			if (w->paused && !c->paused)
				users_shift(&w->users, now - w->paused_at);
			/* a scale or rate change stretches the thinks in progress
			 * so that the rate is N/Z through the change: no burst, no gap */
			if (isfinite(z_old) && isfinite(z_new) && z_old > 0 &&
			    fabs(z_new / z_old - 1) > 1e-12)
				users_stretch(&w->users, now, z_new / z_old);
			users_resize(w, n_mine, now);
		}
		w->n_users = n_mine;
	}
	if (c->paused && !w->paused)
		w->paused_at = now;
	w->paused = c->paused;
	w->model = c->model;
	w->arrivals = c->arrivals;
	w->started = 1;
	if (c->model == MODEL_OPEN && fresh)
		arr_align(w, now_s);
	pthread_mutex_unlock(&E.lock);
	ratefn_free(&zero);
	ratefn_free(&old);

	if (w->quit) {
		event_base_loopbreak(w->base);
		return;
	}
	arr_arm(w);
	users_arm(w);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t now, turned = 0;
	int flags;

	/* the default 50 us of timer slack would be most of the lag */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	worker_reconcile(w);
	while (!w->quit) {
		flags = EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY;
		if (w->due != 0 && (now = clock_now()) >= w->poll_from) {
			/* the last stretch is spun on the clock alone: a turn
			 * of the loop costs two system calls, microseconds on
			 * a virtual machine, and an arrival would go out at
			 * the first turn after it fell due.  No timer is armed
			 * for it (arr_arm): this is what sends it.  Arrivals closer
			 * together than SPIN_NS, or a worker behind its
			 * schedule, would spin for good without the bound */
			if (w->armed == 0 && w->due - now <= SPIN_NS &&
			    now - turned < SPIN_IO_NS) {
				while (clock_now() < w->due)
					;
				on_arrival(-1, EV_TIMEOUT, w);
				continue;
			}
			flags |= EVLOOP_NONBLOCK;
		}
		if (event_base_loop(w->base, flags) != 0)
			break;
		turned = clock_now();
	}
	return NULL;
}

static void
wake_all(void)
{
	int i;

	/* engine_init sets a configured profile before the workers' events
	 * exist; they reconcile when they start */
	for (i = 0; i < E.n; i++)
		if (E.w[i].wake != NULL)
			event_active(E.w[i].wake, EV_READ, 0);
}

/* caller holds E.lock */
static void
changed(void)
{
	E.ctl.gen++;
}

int
engine_init(struct conf *cf, int64_t epoch, uint64_t seed, char **err)
{
	struct event_config *ec;
	struct worker *w;
	int i, g;

	evthread_use_pthreads();
	E.epoch = epoch;
	{
		struct timespec ts;
		int64_t mono;

		clock_gettime(CLOCK_REALTIME, &ts);
		mono = clock_now();
		E.wall_sec = (double)ts.tv_sec;
		E.wall_frac = ts.tv_nsec / 1e9 - (double)(mono - epoch) / NS_PER_SEC;
	}
	E.seed = seed;
	{
		struct rlimit rl;
		rlim_t reserve;

		/* an eighth of the limit, 8 to 64, for all but the requests */
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
		    rl.rlim_cur > INT32_MAX)
			E.fd_limit = INT32_MAX;
		else {
			reserve = rl.rlim_cur / 8;
			reserve = reserve < 8 ? 8 : reserve > 64 ? 64 : reserve;
			E.fd_limit = rl.rlim_cur > reserve ? (int)(rl.rlim_cur - reserve) : 0;
		}
	}
	E.shard = cf->shard_index;
	E.shards = cf->shard_count > 0 ? cf->shard_count : 1;
	E.n = cf->workers > 0 ? cf->workers : 1;
	E.w = xcalloc(E.n, sizeof *E.w);
	E.stats = xcalloc(E.n, sizeof *E.stats);

	E.ctl.gen = 1;
	E.ctl.plan = plan_new(cf);
	E.ctl.model = cf->model;
	E.ctl.arrivals = cf->arrivals;
	E.ctl.autoscale = cf->autoscale;
	E.ctl.scale = 1;
	E.ctl.N0 = (double)cf->users;
	if (cf->profile_file != NULL) {
		engine_set_profile(&cf->profile, cf->profile_file);
		E.ctl.gen = 1;
	} else
		ratefn_const(&E.ctl.rate, cf->rate);

	for (i = 0; i < E.n; i++) {
		w = &E.w[i];
		g = E.shard * E.n + i;
		w->id = i;
		w->stream = (uint64_t)g;
		w->share = 1.0 / ((double)E.n * E.shards);
		ec = event_config_new();
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
		w->base = event_base_new_with_config(ec);
		event_config_free(ec);
		if (w->base == NULL) {
			xasprintf(err, "cannot create an event base");
			return -1;
		}
		w->http = http_new(w->base, on_done, w);
		w->h1 = h1_new(w->base, E.fd_limit, on_h1_done, on_h1_body, w);
		w->wake = event_new(w->base, -1, 0, on_wake, w);
		w->arr_ev = evtimer_new(w->base, on_arrival, w);
		lead_init(&w->lead);
		w->users_ev = evtimer_new(w->base, on_users, w);
		stats_init(&w->stats);
		E.stats[i] = &w->stats;
		rng_seed(&w->rng, seed ^ 0x5eed, (uint64_t)g + 1000003);
		users_init(&w->users);
		ratefn_const(&w->rate, 0);
		w->model = MODEL_OPEN;
		w->arrivals = cf->arrivals;
		w->backlog_cap = (uint64_t)ceil((double)cf->backlog * w->share);
		w->backlog = xcalloc(w->backlog_cap ? w->backlog_cap : 1, sizeof *w->backlog);
		/* the open stream exists from the start (closed workers ignore it) */
		arrival_init(&w->arr, cf->arrivals, w->share,
		    (double)(g + 1) * w->share, seed, (uint64_t)g, &w->rate, 0);
		w->model = cf->model;
	}
	return 0;
}

/* the instant the run's arrivals end; duration 0: never (engine_stop) */
int64_t
engine_start(double duration)
{
	int i;

	E.start = clock_now();
	E.end = duration > 0 ? E.start + (int64_t)(duration * NS_PER_SEC) : INT64_MAX;
	for (i = 0; i < E.n; i++)
		if (pthread_create(&E.w[i].thread, NULL, worker_main, &E.w[i]) != 0)
			fatal("pthread_create: %s", strerror(errno));
	return E.end;
}

void
engine_set_rate(double rate, double over)
{
	double now = secs(clock_now()), cur;

	pthread_mutex_lock(&E.lock);
	cur = ratefn_eval(&E.ctl.rate, now);
	ratefn_free(&E.ctl.rate);
	if (over > 0)
		ratefn_ramp(&E.ctl.rate, now, cur, now + over, rate);
	else
		ratefn_const(&E.ctl.rate, rate);
	free(E.ctl.profile_file);
	E.ctl.profile_file = NULL;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

void
engine_set_profile(const struct ratefn *p, const char *file)
{
	double now = secs(clock_now());
	int i;

	pthread_mutex_lock(&E.lock);
	if (file == NULL) {
		/* off: hold the rate it had reached */
		double cur = ratefn_eval(&E.ctl.rate, now);

		ratefn_free(&E.ctl.rate);
		ratefn_const(&E.ctl.rate, cur);
		free(E.ctl.profile_file);
		E.ctl.profile_file = NULL;
	} else {
		if (E.ctl.rate.t != NULL)
			ratefn_free(&E.ctl.rate);
		ratefn_copy(&E.ctl.rate, p);
		for (i = 0; i < E.ctl.rate.n; i++)
			E.ctl.rate.t[i] += now;
		free(E.ctl.profile_file);
		E.ctl.profile_file = xstrdup(file);
		E.ctl.profile_start = now;
	}
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

void
engine_set_arrivals(enum arrivals a)
{
	pthread_mutex_lock(&E.lock);
	E.ctl.arrivals = a;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

/* switching keeps the rate: closed N/Z = the open rate now */
void
engine_set_model(enum model m)
{
	double now = secs(clock_now()), rate;

	pthread_mutex_lock(&E.lock);
	if (m == MODEL_CLOSED && E.ctl.N0 < 1) {
		rate = ratefn_eval(&E.ctl.rate, now);
		/* no N given yet: think one second per user at this rate */
		E.ctl.N0 = rate > 1 ? ceil(rate) : 1;
		E.ctl.scale = 1;
	}
	E.ctl.model = m;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

int
engine_set_users(uint64_t n, double think, char **err)
{
	double now = secs(clock_now()), z;

	pthread_mutex_lock(&E.lock);
	z = think > 0 ? think : E.ctl.scale * E.ctl.N0 / ratefn_eval(&E.ctl.rate, now);
	if (!isfinite(z) || z <= 0) {
		pthread_mutex_unlock(&E.lock);
		xasprintf(err, "set users: the think time is undefined at rate 0; give one with think Z");
		return -1;
	}
	E.ctl.N0 = (double)n;
	E.ctl.scale = 1;
	E.ctl.autoscale_limited = 0;
	ratefn_free(&E.ctl.rate);
	ratefn_const(&E.ctl.rate, (double)n / z);
	free(E.ctl.profile_file);
	E.ctl.profile_file = NULL;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
	return 0;
}

void
engine_set_autoscale(int on)
{
	pthread_mutex_lock(&E.lock);
	E.ctl.autoscale = on;
	if (!on)
		E.ctl.autoscale_limited = 0;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

void
engine_set_scale(double k, int limited)
{
	pthread_mutex_lock(&E.lock);
	E.ctl.scale = k;
	E.ctl.autoscale_limited = limited;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

void
engine_pause(int paused)
{
	pthread_mutex_lock(&E.lock);
	E.ctl.paused = paused;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

/* A reload swaps the plan for new arrivals (in-flight requests keep the
 * one they started with) and applies the workload settings that the new
 * file changed; what an operator set live stays otherwise. */
void
engine_reload(struct conf *cf)
{
	const struct conf *old;
	struct plan *p = plan_new(cf);

	pthread_mutex_lock(&E.lock);
	old = E.ctl.plan->conf;
	if (cf->model != old->model)
		E.ctl.model = cf->model;
	if (cf->arrivals != old->arrivals)
		E.ctl.arrivals = cf->arrivals;
	if (cf->autoscale != old->autoscale)
		E.ctl.autoscale = cf->autoscale;
	if (cf->users != old->users) {
		E.ctl.N0 = (double)cf->users;
		E.ctl.scale = 1;
	}
	if (cf->rate != old->rate && cf->profile_file == NULL) {
		ratefn_free(&E.ctl.rate);
		ratefn_const(&E.ctl.rate, cf->rate);
		free(E.ctl.profile_file);
		E.ctl.profile_file = NULL;
	}
	plan_unref(E.ctl.plan);
	E.ctl.plan = p;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

void
engine_stop(void)
{
	pthread_mutex_lock(&E.lock);
	E.ctl.stopping = 1;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
}

/*
 * Whether every worker has seen the stop.  Until a worker has, it may
 * still start a transaction (an arrival being handled, a user leaving its
 * think), so "nothing in flight" means nothing until this is true: a drain
 * that ended on it wrote a summary whose sent was one more than its
 * completed + failed.  w->stopping is set under E.lock in
 * worker_reconcile, and from then on the worker starts nothing new.
 */
int
engine_stopped(void)
{
	int i, all = 1;

	pthread_mutex_lock(&E.lock);
	for (i = 0; i < E.n; i++)
		if (!E.w[i].stopping)
			all = 0;
	pthread_mutex_unlock(&E.lock);
	return all;
}

int64_t
engine_in_flight(void)
{
	int64_t n = 0;
	int i;

	for (i = 0; i < E.n; i++) {
		pthread_mutex_lock(&E.w[i].stats.lock);
		n += E.w[i].stats.cum.in_flight;
		pthread_mutex_unlock(&E.w[i].stats.lock);
	}
	return n;
}

void
engine_join(void)
{
	int i;

	pthread_mutex_lock(&E.lock);
	E.ctl.stopping = E.ctl.quit = 1;
	changed();
	pthread_mutex_unlock(&E.lock);
	wake_all();
	for (i = 0; i < E.n; i++)
		pthread_join(E.w[i].thread, NULL);
}

void
engine_fini(void)
{
	struct request *r;
	struct worker *w;
	int i;

	for (i = 0; i < E.n; i++) {
		w = &E.w[i];
		/* requests still in flight after the drain are abandoned:
		 * off the multi handle first, then everything is freed */
		for (r = w->all_reqs; r != NULL; r = r->all)
			if (r->txn != NULL) {
				if (r->easy != NULL)
					http_remove(w->http, r->easy);
				request_put(w, r);
			}
		http_free(w->http);
		h1_free(w->h1);
		while ((r = w->all_reqs) != NULL) {
			w->all_reqs = r->all;
			request_destroy(r);
		}
		event_free(w->wake);
		event_free(w->arr_ev);
		event_free(w->users_ev);
		event_base_free(w->base);
		users_fini(&w->users);
		ratefn_free(&w->rate);
		free(w->backlog);
		free(w->hq);
		plan_unref(w->plan);
		stats_fini(&w->stats);
	}
	plan_unref(E.ctl.plan);
	ratefn_free(&E.ctl.rate);
	free(E.ctl.profile_file);
	free(E.w);
	free(E.stats);
	memset(&E.ctl, 0, sizeof E.ctl);
	E.n = 0;
}

double
engine_rate_now(double now_s)
{
	double r;

	pthread_mutex_lock(&E.lock);
	r = ratefn_eval(&E.ctl.rate, now_s);
	pthread_mutex_unlock(&E.lock);
	return r;
}

/* when the rate drops to 0 for good (a profile with end = stop), in
 * seconds since the epoch; INFINITY if it never does */
double
engine_rate_end(void)
{
	double t;

	pthread_mutex_lock(&E.lock);
	t = ratefn_end_time(&E.ctl.rate);
	pthread_mutex_unlock(&E.lock);
	return t;
}

double
engine_profile_position(double now_s, const char **file)
{
	double pos;

	pthread_mutex_lock(&E.lock);
	*file = E.ctl.profile_file;
	pos = now_s - E.ctl.profile_start;
	pthread_mutex_unlock(&E.lock);
	return pos;
}

void
engine_settings(struct engine_settings *s)
{
	pthread_mutex_lock(&E.lock);
	s->model = E.ctl.model;
	s->arrivals = E.ctl.arrivals;
	s->paused = E.ctl.paused;
	s->N0 = E.ctl.N0;
	s->scale = E.ctl.scale;
	s->autoscale = E.ctl.autoscale;
	s->autoscale_limited = E.ctl.autoscale_limited;
	pthread_mutex_unlock(&E.lock);
}

void
engine_view(struct engine_view *v, double now_s)
{
	double rate;

	pthread_mutex_lock(&E.lock);
	rate = ratefn_eval(&E.ctl.rate, now_s);
	v->model = E.ctl.model == MODEL_OPEN ? "open" : "closed";
	v->arrivals = E.ctl.arrivals == ARRIVALS_POISSON ? "poisson" : "constant";
	v->state = E.ctl.stopping ? "stopping" : E.ctl.paused ? "paused" : "running";
	v->rate_target = rate;
	v->closed = E.ctl.model == MODEL_CLOSED;
	v->N = llround(E.ctl.N0 * E.ctl.scale);
	v->Z = rate > 0 ? E.ctl.scale * E.ctl.N0 / rate : 0;
	v->scale = E.ctl.scale;
	v->autoscale = E.ctl.autoscale;
	v->autoscale_limited = E.ctl.autoscale_limited;
	v->profile_file = E.ctl.profile_file;
	v->profile_position = now_s - E.ctl.profile_start;
	v->profile_rate = rate;
	pthread_mutex_unlock(&E.lock);
}

struct stats **
engine_stats(int *n)
{
	*n = E.n;
	return E.stats;
}

const struct conf *
engine_conf(void)
{
	return E.ctl.plan->conf;
}
