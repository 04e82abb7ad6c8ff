/*
 * daemon.c: the daemon's life, from a validated config to the results.
 *
 * The main thread runs one event base: signals (their work done in the
 * loop), the control socket, /metrics, sd_notify, the results interval,
 * the estimator clock and, in the closed model, the autoscaler.  The
 * workers generate the load on their own threads (engine.c).
 *
 * Estimates: every window / STATS_SLICES the main thread sums the
 * workers' cumulative counters into a ring of snapshots; the window's
 * estimates are "now" minus the oldest snapshot inside the window.
 *
 * Order of init: log, conf, engine (not started), notify, ctl, metrics,
 * results, engine start, READY=1; fini in reverse.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "arrivald.h"
#include "ctl-proto.h"

#define RING (STATS_SLICES + 2)

static struct {
	struct event_base *base;
	const struct daemon_opts *opts;
	struct conf *conf;          /* the config in force (the engine owns a copy) */
	char *config_path;
	int64_t epoch;
	double duration;
	char run_id[32];
	uint64_t seed;
	char shard[32];

	struct stats_cum ring[RING];
	int ring_head, ring_len;
	struct stats_cum now, start;
	struct stats_cum last_interval;
	struct timer_cum *timers;   /* ntimers of them, see timers_room() */
	int ntimers;

	struct event *sig_term, *sig_int, *sig_hup, *sig_pipe;
	struct event *slice_ev, *interval_ev, *progress_ev, *stop_ev, *drain_ev;
	double interval_t;
	int stopping;
	int64_t drain_deadline;
	int64_t scaled_at;          /* last autoscale step */
	int limited_said;
	struct sut *sut;
	int progress_shown;
	struct sut_truth truth;     /* --demo: the target's, at the end of the drain */
} D;

static double
uptime(void)
{
	return (double)(clock_now() - D.epoch) / NS_PER_SEC;
}

/* --- estimates --- */

/* D.timers for count timers; new entries zeroed, as stats_collect_timers() wants */
static void
timers_room(int count)
{
	if (count < 1)
		count = 1;
	if (count <= D.ntimers)
		return;
	D.timers = xreallocarray(D.timers, count, sizeof *D.timers);
	memset(&D.timers[D.ntimers], 0, (size_t)(count - D.ntimers) *
	    sizeof *D.timers);
	D.ntimers = count;
}

static void
take_slice(void)
{
	struct stats **w;
	int n, i;

	w = engine_stats(&n);
	i = (D.ring_head + D.ring_len) % RING;
	if (D.ring_len == RING) {
		D.ring_head = (D.ring_head + 1) % RING;
		i = (D.ring_head + RING - 1) % RING;
	} else
		D.ring_len++;
	stats_collect(w, n, clock_now(), &D.ring[i]);
}

/* the window's view: now minus the oldest snapshot within the window */
static void
window_view(struct stats_view *v)
{
	struct stats **w;
	int n, i, k;
	int64_t now = clock_now(), limit;
	const struct stats_cum *then = &D.start;

	w = engine_stats(&n);
	stats_collect(w, n, now, &D.now);
	limit = now - (int64_t)(D.conf->window * NS_PER_SEC) - NS_PER_MS;
	for (k = 0; k < D.ring_len; k++) {
		i = (D.ring_head + k) % RING;
		if (D.ring[i].at >= limit) {
			then = &D.ring[i];
			break;
		}
	}
	if (then == &D.start && D.ring_len > 0 && D.start.at < limit)
		then = &D.ring[(D.ring_head + D.ring_len - 1) % RING];
	stats_diff(&D.now, then, v);
}

static void
engine_view_now(struct engine_view *e)
{
	engine_view(e, (double)(clock_now() - D.epoch) / NS_PER_SEC);
	e->shard = D.shard;
	e->duration = D.duration;
	e->uptime = uptime();
	e->window = D.conf->window;
	if (D.stopping)
		e->state = "stopping";
}

static void
metrics_view(struct stats_view *v, struct engine_view *e, struct hist *h)
{
	window_view(v);
	engine_view_now(e);
	hist_copy(h, &D.now.resp);
}

/* --- the stats object for the control socket --- */

struct jemit {
	json_t *o, *fails;
};

static void
jemit(void *arg, const char *name, enum stat_kind kind, double x, const char *s)
{
	struct jemit *j = arg;
	json_t *v;

	switch (kind) {
	case STAT_NUM:
		v = isfinite(x) ? json_real(x) : json_null();
		break;
	case STAT_COUNT:
		v = json_integer((json_int_t)x);
		break;
	case STAT_STR:
		v = json_string(s);
		break;
	case STAT_BOOL:
		v = json_boolean(x != 0);
		break;
	default:
		v = json_null();
		break;
	}
	if (strncmp(name, "failures.", 9) == 0)
		json_object_set_new(j->fails, name + 9, v);
	else
		json_object_set_new(j->o, name, v);
}

static char *
stats_json(void)
{
	struct stats_view v;
	struct engine_view e;
	struct jemit j;
	struct stats **w;
	json_t *timers;
	char *out;
	int n, k, count;

	window_view(&v);
	engine_view_now(&e);
	j.o = json_object();
	j.fails = json_object();
	json_object_set_new(j.o, "ok", json_true());
	stats_emit(&v, &e, jemit, &j);
	json_object_set_new(j.o, "failures", j.fails);
	if (e.profile_file != NULL)
		json_object_set_new(j.o, "profile", json_pack("{s:s,s:f,s:f}",
		    "file", e.profile_file, "position", e.profile_position,
		    "rate", e.profile_rate));
	else
		json_object_set_new(j.o, "profile", json_null());
	/* per-name timers, since the start */
	w = engine_stats(&n);
	count = stats_timer_count();
	timers_room(count);
	stats_collect_timers(w, n, D.timers);
	timers = json_array();
	for (k = 0; k < count; k++) {
		struct timer_cum *t = &D.timers[k];
		int any = t->completed > 0;

		json_array_append_new(timers, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o}",
		    "name", stats_timer_name(k), "sent", (json_int_t)t->sent,
		    "completed", (json_int_t)t->completed, "failed", (json_int_t)t->failed,
		    "p50", any ? json_real(hist_percentile(&t->resp, 50) / 1e6) : json_null(),
		    "p99", any ? json_real(hist_percentile(&t->resp, 99) / 1e6) : json_null()));
	}
	json_object_set_new(j.o, "timers", timers);
	out = json_dumps(j.o, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(j.o);
	return out;
}

/* --- stopping --- */

static void finish(void);

static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, 10000 };
	int stopped = engine_stopped(); /* first: then in_flight only falls */

	if ((!stopped || engine_in_flight() > 0) &&
	    clock_now() < D.drain_deadline) {
		evtimer_add(D.drain_ev, &tv);
		return;
	}
	if (engine_in_flight() > 0)
		log_warn("stop: %lld requests still in flight after %.1f s; not waiting longer",
		    (long long)engine_in_flight(), D.conf->drain);
	if (D.sut != NULL)
		sut_truth(D.sut, &D.truth);
	event_base_loopbreak(D.base);
}

static void
begin_stop(const char *why)
{
	struct timeval tv = { 0, 0 };

	if (D.stopping)
		return;
	D.stopping = 1;
	log_info("stopping (%s): no new arrivals, draining in-flight requests", why);
	notify_stopping();
	engine_stop();
	D.drain_deadline = clock_now() + (int64_t)(D.conf->drain * NS_PER_SEC);
	evtimer_add(D.drain_ev, &tv);
}

static void
on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	begin_stop("duration reached");
}

/* --- reload --- */

static int
reload(char **errs)
{
	struct conf *cf;

	if (D.opts->demo) {
		xasprintf(errs, "reload: --demo has no config file");
		return -1;
	}
	notify_reloading();
	cf = conf_load(D.config_path, errs);
	if (cf == NULL) {
		log_err("reload: %s: rejected, the running configuration stays", D.config_path);
		if (*errs != NULL) {
			char *line, *save = NULL, *copy = xstrdup(*errs);

			for (line = strtok_r(copy, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save))
				log_err("%s", line);
			free(copy);
		}
		notify_ready();
		return -1;
	}
	if (strcmp(cf->control_socket, D.conf->control_socket) != 0 ||
	    cf->workers != D.conf->workers ||
	    (cf->metrics_listen == NULL) != (D.conf->metrics_listen == NULL) ||
	    (cf->metrics_listen && strcmp(cf->metrics_listen, D.conf->metrics_listen) != 0))
		log_notice("reload: control.socket, workload.workers and metrics.listen "
		    "take effect at the next start");
	/* keep the overrides of the command line */
	free(cf->control_socket);
	cf->control_socket = xstrdup(D.conf->control_socket);
	cf->workers = D.conf->workers;
	free(cf->results_dir);
	cf->results_dir = xstrdup(D.conf->results_dir);
	cf->window = D.conf->window;
	D.conf = cf;
	engine_reload(cf);
	log_info("reload: %s: configuration in force", D.config_path);
	notify_ready();
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	char *errs = NULL;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		begin_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		reload(&errs);
		free(errs);
		break;
	}
}

/* --- control commands --- */

static void
reply_ok(struct ctl_client *c, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;
	json_t *j;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	j = json_pack("{s:b,s:s}", "ok", 1, "message", msg);
	line = json_dumps(j, JSON_COMPACT);
	ctl_reply(c, line);
	free(line);
	free(msg);
	json_decref(j);
}

static void
on_command(struct ctl_client *c, const struct ctl_request *rq)
{
	struct engine_settings s;
	struct ratefn f;
	char *err = NULL, *line;
	json_t *j;
	int i;

	engine_settings(&s);
	switch (rq->cmd) {
	case CTL_STATS:
		line = stats_json();
		ctl_reply(c, line);
		free(line);
		return;
	case CTL_WATCH:
		ctl_watch(c, rq->interval > 0 ? rq->interval : D.conf->results_interval,
		    stats_json);
		return;
	case CTL_SET_RATE:
		if (D.stopping)
			break;
		engine_set_rate(rq->rate, rq->over);
		if (rq->over > 0)
			reply_ok(c, "rate ramps to %g/s over %g s", rq->rate, rq->over);
		else
			reply_ok(c, "rate %g/s", rq->rate);
		return;
	case CTL_SET_ARRIVALS:
		engine_set_arrivals(rq->arrivals ? ARRIVALS_CONSTANT : ARRIVALS_POISSON);
		reply_ok(c, "arrivals %s", rq->arrivals ? "constant" : "poisson");
		return;
	case CTL_SET_MODEL:
		engine_set_model(rq->model ? MODEL_CLOSED : MODEL_OPEN);
		reply_ok(c, "model %s", rq->model ? "closed" : "open");
		return;
	case CTL_SET_USERS:
		if (s.model != MODEL_CLOSED) {
			ctl_reply_error(c, "set users: the model is open; set model closed first");
			return;
		}
		if (rq->users > D.conf->max_users) {
			xasprintf(&err, "set users: %llu is above max_users (%llu)",
			    (unsigned long long)rq->users, (unsigned long long)D.conf->max_users);
			ctl_reply_error(c, err);
			free(err);
			return;
		}
		if (engine_set_users(rq->users, rq->has_think ? rq->think : 0, &err) != 0) {
			ctl_reply_error(c, err);
			free(err);
			return;
		}
		reply_ok(c, "users %llu", (unsigned long long)rq->users);
		return;
	case CTL_SET_AUTOSCALE:
		engine_set_autoscale(rq->on);
		reply_ok(c, "autoscale %s", rq->on ? "on" : "off");
		return;
	case CTL_PAUSE:
		engine_pause(1);
		reply_ok(c, "paused: no new arrivals, in-flight requests finish");
		return;
	case CTL_RESUME:
		engine_pause(0);
		reply_ok(c, "resumed");
		return;
	case CTL_SET_PROFILE:
		if (profile_load(rq->path, rq->speed > 0 ? rq->speed : 1,
		    rq->scale >= 0 ? rq->scale : 1, D.conf->profile_file ?
		    D.conf->profile_end : RATEFN_STOP, &f, &err) != 0) {
			if (err != NULL)
				err[strcspn(err, "\n")] = '\0';
			ctl_reply_error(c, err ? err : "set profile: cannot load");
			free(err);
			return;
		}
		engine_set_profile(&f, rq->path);
		ratefn_free(&f);
		reply_ok(c, "profile %s", rq->path);
		return;
	case CTL_PROFILE_OFF:
		engine_set_profile(NULL, NULL);
		reply_ok(c, "profile off: the rate holds where it was");
		return;
	case CTL_RELOAD:
		if (reload(&err) != 0) {
			if (err != NULL)
				for (i = 0; err[i]; i++)
					if (err[i] == '\n')
						err[i] = err[i + 1] ? ';' : '\0';
			ctl_reply_error(c, err ? err : "reload failed");
			free(err);
			return;
		}
		reply_ok(c, "reloaded %s", D.config_path);
		return;
	case CTL_STOP:
		reply_ok(c, "stopping");
		begin_stop("stop command");
		return;
	case CTL_VERSION:
		j = json_pack("{s:b,s:s}", "ok", 1, "version", PACKAGE_VERSION);
		line = json_dumps(j, JSON_COMPACT);
		ctl_reply(c, line);
		free(line);
		json_decref(j);
		return;
	case CTL_HELP:
		line = ctl_help_json();
		ctl_reply(c, line);
		free(line);
		return;
	default:
		ctl_reply_error(c, "unknown command");
		return;
	}
	ctl_reply_error(c, "stopping: no changes accepted");
}

/* --- clocks of the main loop --- */

/*
 * Autoscale (closed model): while Q/N > tolerance, raise k so that
 * N = k N0 would bring Q/N under the tolerance at the measured Q, with a
 * margin since Q itself grows a little as lambda_N approaches N/Z; at
 * least 25% per step, one step per window, up to max_users.
 */
static void
autoscale(const struct stats_view *v)
{
	struct engine_settings s;
	double N, k, want, kmax;

	engine_settings(&s);
	if (s.model != MODEL_CLOSED || !s.autoscale || s.paused || D.stopping)
		return;
	if (clock_now() - D.scaled_at < (int64_t)(D.conf->window * NS_PER_SEC) ||
	    uptime() < D.conf->window)
		return;
	/* N (and N0) are the fleet's while Q is this shard's own, about 1/K
	 * of the fleet's: compare like with like, this shard's Q with its
	 * share N/K, or a shard of K would settle at K times the tolerance */
	N = s.N0 * s.scale / (D.conf->shard_count > 0 ? D.conf->shard_count : 1);
	if (N <= 0 || v->Q / N <= D.conf->tolerance)
		return;
	want = 1.2 * s.scale * (v->Q / N) / D.conf->tolerance;
	k = fmax(want, s.scale * 1.25);
	kmax = (double)D.conf->max_users / s.N0;
	if (k > kmax) {
		k = kmax;
		if (k <= s.scale) {
			if (!D.limited_said)
				log_warn("autoscale: max_users (%llu) reached with Q/N = %.4f > "
				    "tolerance %.4f; the rate is short of N/Z",
				    (unsigned long long)D.conf->max_users, v->Q / N,
				    D.conf->tolerance);
			D.limited_said = 1;
			engine_set_scale(s.scale, 1);
			return;
		}
	}
	log_info("autoscale: Q = %.2f, Q/N = %.4f > %.4f: scale %.3g -> %.3g (N = %.0f)",
	    v->Q, v->Q / N, D.conf->tolerance, s.scale, k, k * s.N0);
	engine_set_scale(k, k >= kmax);
	D.scaled_at = clock_now();
}

static void
on_slice(evutil_socket_t fd, short what, void *arg)
{
	struct stats_view v;

	take_slice();
	window_view(&v);
	autoscale(&v);
	/* a profile with end = stop that has ended means the run is over:
	 * its rate is 0 for ever, so stop as at the end of a duration
	 * (whichever comes first) instead of idling */
	if (!D.stopping && uptime() >= engine_rate_end())
		begin_stop("the profile ended");
}

static void
on_interval(evutil_socket_t fd, short what, void *arg)
{
	struct stats **w;
	struct stats_view v;
	struct engine_view e;
	struct stats_cum *cur = &D.now;
	int n, count;

	w = engine_stats(&n);
	stats_collect(w, n, clock_now(), cur);
	stats_diff(cur, &D.last_interval, &v);
	stats_cum_copy(&D.last_interval, cur);
	engine_view_now(&e);
	count = stats_timer_count();
	timers_room(count);
	stats_collect_timers(w, n, D.timers);
	D.interval_t += D.conf->results_interval;
	/* t is when the counters were taken, not when the row is written
	 * (the timers' histograms take a while to sum), so that a row's
	 * lambda times its t step is its interval's sends */
	results_interval((double)(cur->at - D.epoch) / NS_PER_SEC, &v, &e, D.timers, count);
}

static void
fmt_rate(char *buf, size_t len, double x)
{
	if (x >= 10000)
		snprintf(buf, len, "%.1fk", x / 1000);
	else
		snprintf(buf, len, "%.1f", x);
}

static void
on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct stats_view v;
	struct engine_view e;
	char t[16], l[16], x[16], bar[24] = "";
	double p99;
	int i, filled;

	window_view(&v);
	engine_view_now(&e);
	p99 = v.R >= 0 ? v.p99 * 1000 : 0;
	fmt_rate(t, sizeof t, e.rate_target);
	fmt_rate(l, sizeof l, v.lambda);
	fmt_rate(x, sizeof x, v.X);
	notify_status("target %s/s, lambda %s/s, X %s/s, p99 %.1f ms, failed %llu",
	    t, l, x, p99, (unsigned long long)v.failed);
	if (!log_is_tty())
		return;
	if (D.duration > 0) {
		filled = (int)(20 * fmin(1, e.uptime / D.duration));
		bar[0] = '[';
		for (i = 0; i < 20; i++)
			bar[i + 1] = i < filled ? '#' : '.';
		bar[21] = ']';
		bar[22] = ' ';
		bar[23] = '\0';
		fprintf(stderr, "\r%s%5.0f/%.0f s", bar, e.uptime, D.duration);
	} else
		fprintf(stderr, "\r%7.0f s", e.uptime);
	fprintf(stderr, "  target %s/s  lambda %s/s  X %s/s  Q %.2f  p99 %.1f ms  failed %llu  dropped %llu\033[K",
	    t, l, x, v.Q, p99, (unsigned long long)v.failed,
	    (unsigned long long)v.dropped);
	D.progress_shown = 1;
}

/* --- the demo: the seed's network, in process --- */

static struct conf *
demo_conf(char **err)
{
	struct sut_conf sc;
	struct conf *cf;
	struct transaction *t;
	struct step *st;

	memset(&sc, 0, sizeof sc);
	if (sut_parse_demands("0.005,0.004,0.003", &sc, err) != 0)
		return NULL;
	sc.seed = 1;
	if ((D.sut = sut_spawn("127.0.0.1", 0, &sc, err)) == NULL)
		return NULL;
	cf = conf_new_defaults();
	cf->model = MODEL_OPEN;
	cf->arrivals = ARRIVALS_POISSON;
	cf->rate = 150;
	cf->ntransactions = 1;
	cf->transactions = t = xcalloc(1, sizeof *t);
	t->name = xstrdup("demo");
	t->weight = 1;
	t->nsteps = 1;
	t->steps = st = xcalloc(1, sizeof *st);
	st->name = xstrdup("demo");
	st->method = xstrdup("GET");
	xasprintf(&st->url, "http://127.0.0.1:%d/", sut_port(D.sut));
	free(cf->control_socket);
	xasprintf(&cf->control_socket, "%s/arrivald-demo.%d.sock",
	    getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "/tmp", (int)getpid());
	free(cf->results_dir);
	cf->results_dir = xstrdup("arrivald-results");
	return cf;
}

static void
demo_report(const struct stats_view *v)
{
	static const double D_k[3] = { 0.005, 0.004, 0.003 };
	struct sut_truth truth = D.truth;
	double lambda = 150, U, Qt = 0, Rt = 0;
	int k;

	for (k = 0; k < 3; k++) {
		U = lambda * D_k[k];
		Qt += U / (1 - U);
		Rt += D_k[k] / (1 - U);
	}
	printf("\narrivald --demo: open model, Poisson arrivals at 150/s into three FCFS\n"
	    "stations with exponential service (5, 4, 3 ms), over %.1f s\n\n", v->span);
	printf("  %-28s %12s %12s %12s\n", "", "arrivald", "target", "theory");
	printf("  %-28s %12.2f %12.2f %12.2f\n", "lambda, arrivals/s", v->lambda,
	    truth.elapsed > 0 ? truth.arrivals / truth.elapsed : 0, lambda);
	printf("  %-28s %12.2f %12.2f %12.2f\n", "X, completions/s", v->X, truth.X, lambda);
	printf("  %-28s %12.3f %12.3f %12.3f\n", "Q, requests in system", v->Q, truth.Q, Qt);
	printf("  %-28s %12.2f %12.2f %12.2f\n", "R, mean response, ms",
	    v->R >= 0 ? v->R * 1000 : 0, truth.R * 1000, Rt * 1000);
	printf("  %-28s %12.2f\n", "p99 response, ms", v->p99 * 1000);
	printf("\n  theory: U_k = lambda D_k, Q = sum U_k/(1-U_k), R = sum D_k/(1-U_k)\n");
	if (results_path() != NULL)
		printf("  results: %s (report.html, summary.json, timeseries.csv)\n", results_path());
	fflush(stdout);
}

/* --- main --- */

static uint64_t
random_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof s, 0) != sizeof s)
		s = (uint64_t)clock_now() ^ ((uint64_t)getpid() << 32);
	return s ? s : 1;
}

static void
finish(void)
{
	struct stats **w;
	struct stats_view total;
	struct engine_view e;
	int n, count;

	w = engine_stats(&n);
	/* the last partial interval, then the totals */
	on_interval(-1, 0, NULL);
	stats_collect(w, n, clock_now(), &D.now);
	stats_diff(&D.now, &D.start, &total);
	engine_view_now(&e);
	e.state = "stopped";
	count = stats_timer_count();
	timers_room(count);
	stats_collect_timers(w, n, D.timers);
	results_close(uptime(), &total, &D.now, &e, D.timers, count);
	if (D.progress_shown)
		fputc('\n', stderr);
	if (D.opts->demo)
		demo_report(&total);
	else
		log_info("done: sent %llu, completed %llu, failed %llu, dropped %llu; "
		    "lambda %.2f/s, X %.2f/s, Q %.3f, R %.3f ms%s%s",
		    (unsigned long long)total.sent, (unsigned long long)total.completed,
		    (unsigned long long)total.failed, (unsigned long long)total.dropped,
		    total.lambda, total.X, total.Q, total.R >= 0 ? total.R * 1000 : 0,
		    results_path() ? "; results in " : "", results_path() ? results_path() : "");
}

/*
 * The histograms of D (the slice ring and the running totals, about 5 MB)
 * are fixed in size, but a page of one is only backed when first written:
 * when latencies first reach its range of magnitudes.  Under overload
 * that went on for a minute after the backlog filled, and again at each
 * stall's new extreme, so RSS rose by hundreds of kilobytes in a process
 * whose memory does not grow; and a leak of that size would hide in it.
 * Back them all at start.  (Reading and writing back each page is safe
 * whatever it holds.)
 */
static void
prefault(void *p, size_t n)
{
	volatile char *c = p;
	size_t i, page = (size_t)sysconf(_SC_PAGESIZE);

	for (i = 0; i < n; i += page)
		c[i] = c[i];
}

int
daemon_main(const struct daemon_opts *o)
{
	struct timeval tv;
	int64_t end, left;
	struct results_meta meta;
	char *errs = NULL;
	struct tm tm;
	time_t now;
	int rc = 0;

	D.opts = o;
	if (o->demo)
		D.conf = demo_conf(&errs);
	else {
		D.config_path = xstrdup(o->config ? o->config : DEFAULT_CONFIG);
		D.conf = conf_load(D.config_path, &errs);
	}
	if (D.conf == NULL) {
		fprintf(stderr, "%s", errs ? errs : "arrivald: cannot load the configuration\n");
		if (errs && errs[0] && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(errs);
		return 1;
	}
	if (o->check) {
		printf("%s: configuration OK\n", D.config_path ? D.config_path : "--demo");
		conf_free(D.conf);
		return 0;
	}
	if (o->socket) {
		free(D.conf->control_socket);
		D.conf->control_socket = xstrdup(o->socket);
	}
	if (o->results) {
		free(D.conf->results_dir);
		D.conf->results_dir = xstrdup(o->results);
	}
	D.duration = o->duration >= 0 ? o->duration : D.conf->duration;
	D.seed = D.conf->seed ? D.conf->seed : random_seed();
	snprintf(D.shard, sizeof D.shard, "%d/%d", D.conf->shard_index, D.conf->shard_count);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(D.run_id, sizeof D.run_id, "%Y%m%dT%H%M%SZ", &tm);

	signal(SIGPIPE, SIG_IGN);
	/* a results file at the size limit (RLIMIT_FSIZE, LimitFSIZE=) must be
	 * a write error, logged, and not the end of the run by SIGXFSZ */
	signal(SIGXFSZ, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_err("cannot initialise libcurl");
		return 1;
	}
	D.epoch = clock_now();
	if (engine_init(D.conf, D.epoch, D.seed, &errs) != 0) {
		log_err("%s", errs);
		return 1;
	}
	{
		struct event_config *ec = event_config_new();

		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
		D.base = event_base_new_with_config(ec);
		event_config_free(ec);
	}
	notify_init(D.base);
	if (ctl_init(D.base, D.conf->control_socket, D.conf->control_mode,
	    notify_listen_fd(), on_command, &errs) != 0) {
		log_err("%s", errs);
		free(errs);
		rc = 1;
		goto out_ctl;
	}
	if (metrics_init(D.base, D.conf->metrics_listen, metrics_view, &errs) != 0) {
		log_err("%s", errs);
		free(errs);
		rc = 1;
		goto out_metrics;
	}
	memset(&meta, 0, sizeof meta);
	meta.run_id = D.run_id;
	meta.version = PACKAGE_VERSION;
	meta.shard = D.shard;
	meta.started_wall = clock_wall();
	meta.seed = D.seed;
	meta.conf = D.conf;
	if (results_open(D.conf->results_dir, &meta, &errs) != 0) {
		log_err("%s; the run goes on without results files", errs);
		free(errs);
		errs = NULL;
	}

	D.sig_term = evsignal_new(D.base, SIGTERM, on_signal, NULL);
	D.sig_int = evsignal_new(D.base, SIGINT, on_signal, NULL);
	D.sig_hup = evsignal_new(D.base, SIGHUP, on_signal, NULL);
	event_add(D.sig_term, NULL);
	event_add(D.sig_int, NULL);
	event_add(D.sig_hup, NULL);
	D.slice_ev = event_new(D.base, -1, EV_PERSIST, on_slice, NULL);
	D.interval_ev = event_new(D.base, -1, EV_PERSIST, on_interval, NULL);
	D.progress_ev = event_new(D.base, -1, EV_PERSIST, on_progress, NULL);
	D.stop_ev = evtimer_new(D.base, on_stop_timer, NULL);
	D.drain_ev = evtimer_new(D.base, on_drain, NULL);

	prefault(&D, sizeof D);
	/* and the first interval's buffers, a histogram each: made then,
	 * their pages' first touch took 6 ms of the core a worker sends
	 * from, and held 3 ms of arrivals back (Poisson 10,000/s) */
	timers_room(stats_timer_count());
	results_room(stats_timer_count());
	hist_reset(&D.start.resp);
	hist_reset(&D.start.lag);
	D.start.at = D.epoch;
	memcpy(&D.last_interval, &D.start, sizeof D.start);
	{
		struct stats_view v;

		stats_diff(&D.start, NULL, &v);
	}
	D.scaled_at = D.epoch;
	if (D.sut != NULL)
		sut_reset(D.sut); /* the target's truth covers the run, not our start-up */
	end = engine_start(D.duration);

	tv.tv_sec = 0;
	tv.tv_usec = 0;
	{
		double slice = D.conf->window / STATS_SLICES;

		tv.tv_sec = (time_t)slice;
		tv.tv_usec = (suseconds_t)((slice - (double)tv.tv_sec) * 1e6);
		event_add(D.slice_ev, &tv);
		tv.tv_sec = (time_t)D.conf->results_interval;
		tv.tv_usec = (suseconds_t)((D.conf->results_interval - (double)tv.tv_sec) * 1e6);
		event_add(D.interval_ev, &tv);
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		event_add(D.progress_ev, &tv);
	}
	if (D.duration > 0) {
		/* where the engine's arrivals end; the timer only begins
		 * the stop, so being late costs no accuracy */
		left = end - clock_now();
		if (left < 0)
			left = 0;
		/* rounded up: a stop a microsecond early would miss an
		 * arrival due in it */
		left = (left + 999) / 1000 * 1000;
		tv.tv_sec = (time_t)(left / NS_PER_SEC);
		tv.tv_usec = (suseconds_t)(left % NS_PER_SEC / 1000);
		evtimer_add(D.stop_ev, &tv);
	}
	log_info("running: %s model, %s arrivals, rate %g/s, %d worker%s, shard %s, control %s%s%s",
	    D.conf->model == MODEL_OPEN ? "open" : "closed",
	    D.conf->arrivals == ARRIVALS_POISSON ? "poisson" : "constant",
	    D.conf->rate, D.conf->workers, D.conf->workers == 1 ? "" : "s", D.shard,
	    D.conf->control_socket, results_path() ? ", results " : "",
	    results_path() ? results_path() : "");
	notify_ready();

	event_base_dispatch(D.base);

	engine_join();
	finish();

	event_free(D.sig_term);
	event_free(D.sig_int);
	event_free(D.sig_hup);
	event_free(D.slice_ev);
	event_free(D.interval_ev);
	event_free(D.progress_ev);
	event_free(D.stop_ev);
	event_free(D.drain_ev);
	metrics_fini();
out_metrics:
	ctl_fini();
out_ctl:
	notify_fini();
	engine_fini();  /* frees the conf in force through its plan */
	event_base_free(D.base);
	curl_global_cleanup();
	if (D.sut != NULL)
		sut_stop(D.sut);
	session_fini();
	free(D.timers);
	free(D.config_path);
	return rc;
}
