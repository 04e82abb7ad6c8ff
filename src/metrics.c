/*
 * metrics.c: Prometheus' text exposition format on metrics.listen.
 *
 * The values come from stats_emit(), the same emitter as the control
 * socket's `stats`, so the two never disagree; this file only maps field
 * names to metric names.  Every metric carries the shard label, so that
 * a fleet aggregates by plain sums.  response_time_seconds is a
 * histogram over the whole run, its buckets read off struct hist.
 */
#include <math.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "arrivald.h"

static struct {
	struct evhttp *http;
	metrics_view_fn view;
} M;

static const struct {
	const char *field, *metric, *type, *help;
} map[] = {
	{ "sent", "requests_sent_total", "counter", "Requests (transactions) started." },
	{ "completed", "requests_completed_total", "counter", "Requests completed successfully." },
	{ "dropped", "arrivals_dropped_total", "counter", "Arrivals that could not be issued (backlog full)." },
	{ "in_flight", "in_flight", "gauge", "Requests outstanding now." },
	{ "rate_target", "rate_target", "gauge", "Target arrival rate, per second." },
	{ "lambda", "arrival_rate", "gauge", "Measured arrival rate over the window, per second." },
	{ "X", "throughput", "gauge", "Measured throughput over the window, per second." },
	{ "Q", "queue_length", "gauge", "Time-averaged requests outstanding over the window." },
	{ "N", "users", "gauge", "Closed model: users." },
	{ "Z", "think_seconds", "gauge", "Closed model: mean think time." },
};

static const double buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

struct emit {
	struct evbuffer *out;
	const char *shard;
	int failures_done;
	const struct stats_view *v;
};

static void
emit(void *arg, const char *name, enum stat_kind kind, double x, const char *s)
{
	struct emit *e = arg;
	size_t i;
	int k;

	if (strncmp(name, "failures.", 9) == 0) {
		if (e->failures_done++)
			return;
		evbuffer_add_printf(e->out, "# HELP arrivald_requests_failed_total "
		    "Requests failed, by reason.\n# TYPE arrivald_requests_failed_total counter\n");
		for (k = 0; k < FAIL_MAX; k++)
			evbuffer_add_printf(e->out,
			    "arrivald_requests_failed_total{shard=\"%s\",reason=\"%s\"} %llu\n",
			    e->shard, fail_names[k], (unsigned long long)e->v->fail[k]);
		return;
	}
	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(map[i].field, name) != 0)
			continue;
		/* A field that does not apply (users, think_seconds in the
		 * open model) is left out, HELP and TYPE too: an absent series
		 * is what PromQL expects, where a 0 would read as "no users"
		 * and make Q/Z infinite in the fleet rules. */
		if (kind == STAT_NULL)
			return;
		evbuffer_add_printf(e->out, "# HELP arrivald_%s %s\n# TYPE arrivald_%s %s\n",
		    map[i].metric, map[i].help, map[i].metric, map[i].type);
		evbuffer_add_printf(e->out, "arrivald_%s{shard=\"%s\"} %.17g\n",
		    map[i].metric, e->shard, isfinite(x) ? x : 0);
	}
}

char *
metrics_text(const struct stats_view *v, const struct engine_view *ev,
    const struct hist *h)
{
	struct evbuffer *b = evbuffer_new();
	struct emit e = { b, ev->shard, 0, v };
	uint64_t seen = 0;
	size_t i, len;
	int k = 0;
	char *text;

	stats_emit(v, ev, emit, &e);
	evbuffer_add_printf(b, "# HELP arrivald_response_time_seconds Response time "
	    "from the intended start, completed requests.\n"
	    "# TYPE arrivald_response_time_seconds histogram\n");
	for (i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
		/* slots whose every value is <= the bound */
		while (k < HIST_LEN &&
		    hist_value_at(k + 1) - 1 <= (int64_t)(buckets[i] * 1e6))
			seen += h->counts[k++];
		evbuffer_add_printf(b,
		    "arrivald_response_time_seconds_bucket{shard=\"%s\",le=\"%g\"} %llu\n",
		    ev->shard, buckets[i], (unsigned long long)seen);
	}
	evbuffer_add_printf(b,
	    "arrivald_response_time_seconds_bucket{shard=\"%s\",le=\"+Inf\"} %llu\n"
	    "arrivald_response_time_seconds_sum{shard=\"%s\"} %.9g\n"
	    "arrivald_response_time_seconds_count{shard=\"%s\"} %llu\n",
	    ev->shard, (unsigned long long)h->total, ev->shard, h->sum_us / 1e6,
	    ev->shard, (unsigned long long)h->total);
	len = evbuffer_get_length(b);
	text = xmalloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);
	return text;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	static struct hist h;
	struct stats_view v;
	struct engine_view ev;
	struct evbuffer *out;
	const char *path;
	char *text;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	/* the path alone: Prometheus' `params` add a query string */
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	M.view(&v, &ev, &h);
	text = metrics_text(&v, &ev, &h);
	out = evbuffer_new();
	evbuffer_add(out, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

int
metrics_init(struct event_base *base, const char *listen, metrics_view_fn view,
    char **err)
{
	char *host, *colon;
	long port;

	if (listen == NULL)
		return 0;
	host = xstrdup(listen);
	if ((colon = strrchr(host, ':')) == NULL) {
		xasprintf(err, "metrics.listen: \"%s\" is not HOST:PORT", listen);
		free(host);
		return -1;
	}
	*colon = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (host[0] == '[') { /* [::1]:9464 */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	M.view = view;
	M.http = evhttp_new(base);
	evhttp_set_allowed_methods(M.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST);
	evhttp_set_gencb(M.http, on_request, NULL);
	if (evhttp_bind_socket(M.http, host[0] ? host : "127.0.0.1", (ev_uint16_t)port) != 0) {
		xasprintf(err, "metrics.listen: cannot listen on %s", listen);
		evhttp_free(M.http);
		M.http = NULL;
		free(host);
		return -1;
	}
	free(host);
	return 0;
}

void
metrics_fini(void)
{
	if (M.http != NULL)
		evhttp_free(M.http);
	M.http = NULL;
}
