/*
 * stats.c: counters and histograms of the workers, and the one emitter
 * that both the control socket's `stats` and Prometheus' /metrics read,
 * so that the two never disagree.
 *
 * Invariants: a worker only ever adds to its struct stats, under its
 * lock; sent = completed + failed + in_flight.  Q is the time integral
 * of in_flight divided by the span (Little: Q = X R when nothing fails).
 * R and the percentiles are over completed requests, measured from each
 * request's intended start, so a late send never hides a delay.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "arrivald.h"

const char *const fail_names[FAIL_MAX] = {
	"refused", "timeout", "reset", "dns", "http_4xx", "http_5xx",
	"expect", "extract", "fd", "tls", "other",
};

static pthread_mutex_t timers_lock = PTHREAD_MUTEX_INITIALIZER;
static char *timer_names[STATS_TIMERS_MAX];
static int ntimers;

void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	hist_reset(&s->cum.resp);
	hist_reset(&s->cum.lag);
	s->last_change = clock_now();
}

void
stats_fini(struct stats *s)
{
	int i;

	for (i = 0; i < STATS_TIMERS_MAX; i++)
		free(s->timers[i]);
	pthread_mutex_destroy(&s->lock);
}

/* the area under in_flight up to now; caller holds the lock */
static void
advance(struct stats *s, int64_t now)
{
	if (now > s->last_change) {
		s->cum.area += (double)s->cum.in_flight *
		    (double)(now - s->last_change) / NS_PER_SEC;
		s->last_change = now;
	}
}

/* a timer's counts; caller holds the lock */
static void
timer_add(struct stats *s, int timer, int64_t now, int64_t intended,
    int reason, int started)
{
	struct timer_cum *t;

	if (timer < 0 || timer >= STATS_TIMERS_MAX)
		return;
	if ((t = s->timers[timer]) == NULL) {
		t = s->timers[timer] = xcalloc(1, sizeof *t);
		hist_reset(&t->resp);
	}
	if (started)
		t->sent++;
	else if (reason < 0) {
		t->completed++;
		hist_record(&t->resp, (now - intended) / NS_PER_US);
	} else
		t->failed++;
}

/* A request counts as outstanding from its intended start: a request
 * that is due but not yet sent is not thinking, and R is measured from
 * the same instant, so Q = X R holds between our own estimates.  The
 * transaction's timer is counted under the same lock: these run once
 * per arrival, between one send and the next. */
void
stats_started(struct stats *s, int64_t now, int64_t intended, int timer)
{
	pthread_mutex_lock(&s->lock);
	advance(s, now);
	if (intended < now)
		s->cum.area += (double)(now - intended) / NS_PER_SEC;
	s->cum.sent++;
	s->cum.in_flight++;
	timer_add(s, timer, 0, 0, -1, 1);
	pthread_mutex_unlock(&s->lock);
}

void
stats_finished(struct stats *s, int64_t now, int64_t intended, int reason,
    int timer)
{
	int64_t r = now - intended;

	pthread_mutex_lock(&s->lock);
	advance(s, now);
	s->cum.in_flight--;
	if (reason < 0) {
		s->cum.completed++;
		s->cum.resp_sum += (double)r / NS_PER_SEC;
		hist_record(&s->cum.resp, r / NS_PER_US);
	} else {
		s->cum.failed++;
		s->cum.fail[reason < FAIL_MAX ? reason : FAIL_OTHER]++;
	}
	timer_add(s, timer, now, intended, reason, 0);
	pthread_mutex_unlock(&s->lock);
}

void
stats_dropped(struct stats *s)
{
	pthread_mutex_lock(&s->lock);
	s->cum.dropped++;
	pthread_mutex_unlock(&s->lock);
}

/* a step is handed over: its timer's count, and for a transaction's
 * first step the lag of the send behind its intended start */
void
stats_sent(struct stats *s, int timer, int first, int64_t lag_ns)
{
	pthread_mutex_lock(&s->lock);
	timer_add(s, timer, 0, 0, -1, 1);
	if (first)
		hist_record(&s->cum.lag, lag_ns / NS_PER_US);
	pthread_mutex_unlock(&s->lock);
}

void
stats_timer(struct stats *s, int timer, int64_t now, int64_t intended,
    int reason, int started)
{
	pthread_mutex_lock(&s->lock);
	timer_add(s, timer, now, intended, reason, started);
	pthread_mutex_unlock(&s->lock);
}

int
stats_timer_id(const char *name)
{
	int i, id = -1;

	pthread_mutex_lock(&timers_lock);
	for (i = 0; i < ntimers; i++)
		if (strcmp(timer_names[i], name) == 0)
			id = i;
	if (id == -1 && ntimers < STATS_TIMERS_MAX) {
		timer_names[ntimers] = xstrdup(name);
		id = ntimers++;
	}
	pthread_mutex_unlock(&timers_lock);
	return id;
}

const char *
stats_timer_name(int id)
{
	const char *n;

	pthread_mutex_lock(&timers_lock);
	n = id >= 0 && id < ntimers ? timer_names[id] : "?";
	pthread_mutex_unlock(&timers_lock);
	return n;
}

int
stats_timer_count(void)
{
	int n;

	pthread_mutex_lock(&timers_lock);
	n = ntimers;
	pthread_mutex_unlock(&timers_lock);
	return n;
}

/* out: all zero, or collected into before */
void
stats_collect(struct stats **w, int n, int64_t now, struct stats_cum *out)
{
	int i, k;

	memset(out, 0, offsetof(struct stats_cum, resp));
	hist_clear(&out->resp);
	hist_clear(&out->lag);
	out->at = now;
	for (i = 0; i < n; i++) {
		struct stats_cum *c = &w[i]->cum;

		pthread_mutex_lock(&w[i]->lock);
		advance(w[i], now);
		out->sent += c->sent;
		out->completed += c->completed;
		out->failed += c->failed;
		out->dropped += c->dropped;
		for (k = 0; k < FAIL_MAX; k++)
			out->fail[k] += c->fail[k];
		out->in_flight += c->in_flight;
		out->area += c->area;
		out->resp_sum += c->resp_sum;
		hist_add(&out->resp, &c->resp);
		hist_add(&out->lag, &c->lag);
		pthread_mutex_unlock(&w[i]->lock);
	}
}

/* out: stats_timer_count() entries, all zero or collected into before */
void
stats_collect_timers(struct stats **w, int n, struct timer_cum *out)
{
	int i, k, count = stats_timer_count();

	for (k = 0; k < count; k++) {
		out[k].sent = out[k].completed = out[k].failed = 0;
		hist_clear(&out[k].resp);
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&w[i]->lock);
		for (k = 0; k < count; k++) {
			struct timer_cum *t = w[i]->timers[k];

			if (t == NULL)
				continue;
			out[k].sent += t->sent;
			out[k].completed += t->completed;
			out[k].failed += t->failed;
			hist_add(&out[k].resp, &t->resp);
		}
		pthread_mutex_unlock(&w[i]->lock);
	}
}

/* dst = src, copying only the histograms' spans; dst as for stats_collect() */
_Static_assert(offsetof(struct stats_cum, lag) ==
    offsetof(struct stats_cum, resp) + sizeof(struct hist) &&
    sizeof(struct stats_cum) == offsetof(struct stats_cum, lag) +
    sizeof(struct hist), "the histograms end struct stats_cum");
void
stats_cum_copy(struct stats_cum *dst, const struct stats_cum *src)
{
	memcpy(dst, src, offsetof(struct stats_cum, resp));
	hist_copy(&dst->resp, &src->resp);
	hist_copy(&dst->lag, &src->lag);
}

/* The view of what happened between two snapshots.  `then` may be NULL:
 * since the start.  The histograms are subtracted in a scratch copy. */
void
stats_diff(const struct stats_cum *now, const struct stats_cum *then,
    struct stats_view *v)
{
	static __thread struct hist *resp, *lag;
	uint64_t started, completed;
	double span;
	int k;

	if (resp == NULL) {
		resp = xmalloc(sizeof *resp);
		lag = xmalloc(sizeof *lag);
		hist_reset(resp);
		hist_reset(lag);
	}
	hist_copy(resp, &now->resp);
	hist_copy(lag, &now->lag);
	memset(v, 0, sizeof *v);
	if (then != NULL) {
		hist_sub(resp, &then->resp);
		hist_sub(lag, &then->lag);
	}
	span = then != NULL ? (double)(now->at - then->at) / NS_PER_SEC : 0;
	started = now->sent - (then ? then->sent : 0);
	completed = now->completed - (then ? then->completed : 0);
	v->span = span;
	if (span > 0) {
		v->lambda = started / span;
		v->X = completed / span;
		v->Q = (now->area - (then ? then->area : 0)) / span;
	}
	v->R = completed ? (now->resp_sum - (then ? then->resp_sum : 0)) / completed : -1;
	v->p50 = hist_percentile(resp, 50) / 1e6;
	v->p90 = hist_percentile(resp, 90) / 1e6;
	v->p99 = hist_percentile(resp, 99) / 1e6;
	v->p999 = hist_percentile(resp, 99.9) / 1e6;
	v->max = resp->total ? resp->max_us / 1e6 : 0;
	v->mean = hist_mean(resp) / 1e6;
	v->lag_p50 = hist_percentile(lag, 50) / 1e6;
	v->lag_p99 = hist_percentile(lag, 99) / 1e6;
	v->lag_max = lag->total ? lag->max_us / 1e6 : 0;
	v->sent = now->sent;
	v->completed = now->completed;
	v->failed = now->failed;
	v->dropped = now->dropped;
	for (k = 0; k < FAIL_MAX; k++)
		v->fail[k] = now->fail[k];
	v->in_flight = now->in_flight;
}

const char *const stats_fields[] = {
	"model", "arrivals", "state", "rate_target", "lambda", "X", "Q", "R",
	"N", "Z", "Q_over_Z", "lambda_N", "scale", "sent", "completed",
	"failed", "dropped", "in_flight", "p50", "p90", "p99", "p999", "max",
	"window", "uptime", "duration", "shard", "autoscale",
	"autoscale_limited", NULL
};

/*
 * The one emitter.  Closed-model fields are null in the open model;
 * R and the percentiles are null when nothing completed in the window.
 * lambda_N = (N - Q) / Z, Gunther's effective arrival rate of a closed
 * system.
 */
void
stats_emit(const struct stats_view *v, const struct engine_view *e,
    stats_emit_cb cb, void *arg)
{
	int done = v->R >= 0;

#define NUM(n, x) cb(arg, n, STAT_NUM, (x), NULL)
#define NUL(n) cb(arg, n, STAT_NULL, 0, NULL)
#define OPT(n, c, x) ((c) ? NUM(n, x) : NUL(n))
#define CNT(n, x) cb(arg, n, STAT_COUNT, (double)(x), NULL)
#define STR(n, x) cb(arg, n, STAT_STR, 0, (x))
	STR("model", e->model);
	STR("arrivals", e->arrivals);
	STR("state", e->state);
	NUM("rate_target", e->rate_target);
	NUM("lambda", v->lambda);
	NUM("X", v->X);
	NUM("Q", v->Q);
	OPT("R", done, v->R);
	OPT("N", e->closed, e->N);
	OPT("Z", e->closed, e->Z);
	OPT("Q_over_Z", e->closed && e->Z > 0, v->Q / e->Z);
	OPT("lambda_N", e->closed && e->Z > 0, (e->N - v->Q) / e->Z);
	OPT("scale", e->closed, e->scale);
	CNT("sent", v->sent);
	CNT("completed", v->completed);
	CNT("failed", v->failed);
	CNT("dropped", v->dropped);
	CNT("in_flight", v->in_flight);
	OPT("p50", done, v->p50);
	OPT("p90", done, v->p90);
	OPT("p99", done, v->p99);
	OPT("p999", done, v->p999);
	OPT("max", done, v->max);
	NUM("window", e->window);
	NUM("uptime", e->uptime);
	NUM("duration", e->duration);
	STR("shard", e->shard);
	cb(arg, "autoscale", STAT_BOOL, e->closed && e->autoscale, NULL);
	cb(arg, "autoscale_limited", STAT_BOOL, e->autoscale_limited, NULL);
	{
		char name[64];
		int k;

		for (k = 0; k < FAIL_MAX; k++) {
			snprintf(name, sizeof name, "failures.%s", fail_names[k]);
			CNT(name, v->fail[k]);
		}
	}
#undef NUM
#undef NUL
#undef OPT
#undef CNT
#undef STR
}
