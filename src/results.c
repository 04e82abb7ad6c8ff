/*
 * results.c: the files of a run, under <dir>/<run id>/ with a `latest`
 * link beside it.  timeseries.csv, timers.csv and failures.csv get one
 * block of rows per interval, flushed at once, so a crash loses at most
 * the interval in progress.  summary.json, latency.hgrm and report.html
 * are written at the end, each to a temporary name and renamed, so a
 * reader never sees half a file.
 *
 * A directory that cannot be written is an error logged once; the run
 * goes on and its stats stay available on the control socket.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "arrivald.h"

static struct {
	char *dir;              /* the run directory */
	FILE *ts, *timers, *fails;
	int failed;             /* a write failed: said once */
	struct timer_cum *prev; /* timers at the previous interval */
	int nprev;
	uint64_t prev_fail[FAIL_MAX];
	struct results_meta meta;
	char *config_json;
} R;

static void
write_failed(const char *what)
{
	if (!R.failed)
		log_err("results: cannot write %s/%s: %s; the run goes on, "
		    "stats stay on the control socket", R.dir, what, strerror(errno));
	R.failed = 1;
}

static int
mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static FILE *
open_csv(const char *name, const char *header)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", R.dir, name);
	f = fopen(path, "w");
	free(path);
	if (f == NULL)
		return NULL;
	fprintf(f, "%s\n", header);
	fflush(f);
	return f;
}

int
results_open(const char *dir, const struct results_meta *m, char **err)
{
	char *link, *tmp;

	R.meta = *m;
	R.config_json = results_config_json(m->conf);
	xasprintf(&R.dir, "%s/%s", dir, m->run_id);
	if (mkdirs(R.dir) != 0) {
		xasprintf(err, "results: cannot create %s: %s", R.dir, strerror(errno));
		free(R.dir);
		R.dir = NULL;
		return -1;
	}
	R.ts = open_csv("timeseries.csv",
	    "t,rate_target,lambda,X,Q,R,p50,p90,p99,max,N,Z,in_flight,sent,completed,failed,dropped");
	R.timers = open_csv("timers.csv", "t,name,sent,completed,failed,R,p50,p90,p99,max");
	R.fails = open_csv("failures.csv", "t,reason,count");
	if (R.ts == NULL || R.timers == NULL || R.fails == NULL) {
		xasprintf(err, "results: cannot write in %s: %s", R.dir, strerror(errno));
		return -1;
	}
	/* latest -> run id, replaced atomically */
	xasprintf(&link, "%s/latest", dir);
	xasprintf(&tmp, "%s/.latest.%d", dir, (int)getpid());
	unlink(tmp);
	if (symlink(m->run_id, tmp) != 0 || rename(tmp, link) != 0) {
		log_warn("results: cannot link %s: %s", link, strerror(errno));
		unlink(tmp);
	}
	free(link);
	free(tmp);
	return 0;
}

const char *
results_path(void)
{
	return R.dir;
}

static void
num(FILE *f, int ok, double x)
{
	if (ok && isfinite(x))
		fprintf(f, ",%.6g", x);
	else
		fputs(",", f);
}

static void
flush(FILE *f, const char *what)
{
	if (fflush(f) != 0 || ferror(f))
		write_failed(what);
}

/*
 * Room for ntimers timers' last rows, a histogram each.  The daemon
 * makes it before the run: zeroing it touches its pages for the first
 * time, milliseconds of page faults on a virtual machine, and a worker
 * sharing the core waits for them.
 */
void
results_room(int ntimers)
{
	int k;

	if (ntimers <= R.nprev)
		return;
	R.prev = xreallocarray(R.prev, ntimers, sizeof *R.prev);
	for (k = R.nprev; k < ntimers; k++) {
		memset(&R.prev[k], 0, sizeof R.prev[k]);
		hist_reset(&R.prev[k].resp);
	}
	R.nprev = ntimers;
}

void
results_interval(double t, const struct stats_view *v, const struct engine_view *e,
    const struct timer_cum *timers, int ntimers)
{
	static struct hist diff;
	int k, done = v->R >= 0;

	if (R.ts == NULL)
		return;
	fprintf(R.ts, "%.3f", t);
	num(R.ts, 1, e->rate_target);
	num(R.ts, 1, v->lambda);
	num(R.ts, 1, v->X);
	num(R.ts, 1, v->Q);
	num(R.ts, done, v->R);
	num(R.ts, done, v->p50);
	num(R.ts, done, v->p90);
	num(R.ts, done, v->p99);
	num(R.ts, done, v->max);
	num(R.ts, e->closed, e->N);
	num(R.ts, e->closed, e->Z);
	fprintf(R.ts, ",%lld,%llu,%llu,%llu,%llu\n", (long long)v->in_flight,
	    (unsigned long long)v->sent, (unsigned long long)v->completed,
	    (unsigned long long)v->failed, (unsigned long long)v->dropped);
	flush(R.ts, "timeseries.csv");

	for (k = 0; k < FAIL_MAX; k++) {
		if (v->fail[k] > R.prev_fail[k])
			fprintf(R.fails, "%.3f,%s,%llu\n", t, fail_names[k],
			    (unsigned long long)(v->fail[k] - R.prev_fail[k]));
		R.prev_fail[k] = v->fail[k];
	}
	flush(R.fails, "failures.csv");

	results_room(ntimers);
	for (k = 0; k < ntimers; k++) {
		const struct timer_cum *a = &timers[k], *b = &R.prev[k];
		uint64_t completed = a->completed - b->completed;

		if (a->sent == b->sent && a->completed == b->completed &&
		    a->failed == b->failed)
			continue;
		hist_copy(&diff, &a->resp);
		hist_sub(&diff, &b->resp);
		fprintf(R.timers, "%.3f,%s,%llu,%llu,%llu", t, stats_timer_name(k),
		    (unsigned long long)(a->sent - b->sent),
		    (unsigned long long)completed,
		    (unsigned long long)(a->failed - b->failed));
		num(R.timers, completed > 0, hist_mean(&diff) / 1e6);
		num(R.timers, completed > 0, hist_percentile(&diff, 50) / 1e6);
		num(R.timers, completed > 0, hist_percentile(&diff, 90) / 1e6);
		num(R.timers, completed > 0, hist_percentile(&diff, 99) / 1e6);
		num(R.timers, completed > 0, diff.max_us / 1e6);
		fputc('\n', R.timers);
		memcpy(&R.prev[k], a, sizeof *a);
	}
	flush(R.timers, "timers.csv");
}

static json_t *
jnum(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static void
iso(char *buf, size_t len, double wall)
{
	time_t t = (time_t)wall;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* write path atomically through path.tmp */
static int
replace(const char *name, const char *text, size_t len)
{
	char *path, *tmp;
	FILE *f;
	int rc = -1;

	xasprintf(&path, "%s/%s", R.dir, name);
	xasprintf(&tmp, "%s/.%s.tmp", R.dir, name);
	if ((f = fopen(tmp, "w")) != NULL) {
		if (fwrite(text, 1, len, f) == len && fflush(f) == 0 &&
		    fsync(fileno(f)) == 0)
			rc = 0;
		if (fclose(f) != 0)
			rc = -1;
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -1;
	}
	if (rc != 0) {
		write_failed(name);
		unlink(tmp);
	}
	free(path);
	free(tmp);
	return rc;
}

void
results_close(double t_end, const struct stats_view *v, const struct stats_cum *cum,
    const struct engine_view *e, const struct timer_cum *timers, int ntimers)
{
	json_t *j, *totals, *fails, *lat, *lag, *tl, *cl, *cfg;
	char started[32], ended[32], *text, *err = NULL;
	int k;
	FILE *f;
	size_t len;

	if (R.dir == NULL)
		return;
	iso(started, sizeof started, R.meta.started_wall);
	iso(ended, sizeof ended, clock_wall());
	fails = json_object();
	for (k = 0; k < FAIL_MAX; k++)
		if (v->fail[k] > 0)
			json_object_set_new(fails, fail_names[k], json_integer((json_int_t)v->fail[k]));
	totals = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}",
	    "sent", (json_int_t)v->sent, "completed", (json_int_t)v->completed,
	    "failed", (json_int_t)v->failed, "dropped", (json_int_t)v->dropped,
	    "in_flight", (json_int_t)v->in_flight, "failures", fails);
	lat = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "mean", jnum(v->mean),
	    "p50", jnum(v->p50), "p90", jnum(v->p90), "p99", jnum(v->p99),
	    "p999", jnum(v->p999), "max", jnum(v->max));
	lag = json_pack("{s:o,s:o,s:o}", "p50", jnum(v->lag_p50),
	    "p99", jnum(v->lag_p99), "max", jnum(v->lag_max));
	tl = json_array();
	for (k = 0; k < ntimers; k++) {
		const struct hist *h = &timers[k].resp;
		int any = timers[k].completed > 0;

		if (timers[k].sent == 0 && timers[k].completed == 0 && timers[k].failed == 0)
			continue;
		json_array_append_new(tl, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
		    "name", stats_timer_name(k), "sent", (json_int_t)timers[k].sent,
		    "completed", (json_int_t)timers[k].completed,
		    "failed", (json_int_t)timers[k].failed,
		    "mean", any ? jnum(hist_mean(h) / 1e6) : json_null(),
		    "p50", any ? jnum(hist_percentile(h, 50) / 1e6) : json_null(),
		    "p90", any ? jnum(hist_percentile(h, 90) / 1e6) : json_null(),
		    "p99", any ? jnum(hist_percentile(h, 99) / 1e6) : json_null(),
		    "max", any ? jnum(h->max_us / 1e6) : json_null()));
	}
	if (e->closed)
		cl = json_pack("{s:o,s:o,s:o,s:o,s:o,s:b}", "N", jnum(e->N),
		    "Z", jnum(e->Z), "scale", jnum(e->scale),
		    "Q_over_Z", jnum(e->Z > 0 ? v->Q / e->Z : NAN),
		    "lambda_N", jnum(e->Z > 0 ? (e->N - v->Q) / e->Z : NAN),
		    "autoscale_limited", e->autoscale_limited);
	else
		cl = json_null();
	cfg = R.config_json ? json_loads(R.config_json, 0, NULL) : NULL;
	j = json_pack("{s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "version", R.meta.version, "run_id", R.meta.run_id,
	    "started", started, "ended", ended, "duration", t_end,
	    "model", e->model, "arrivals", e->arrivals, "shard", R.meta.shard,
	    "seed", (json_int_t)R.meta.seed, "totals", totals,
	    "lambda", jnum(v->lambda), "X", jnum(v->X), "Q", jnum(v->Q),
	    "R", v->R >= 0 ? jnum(v->R) : json_null(),
	    "rate_target", jnum(e->rate_target), "latency", lat, "lag", lag,
	    "closed", cl, "timers", tl, "config", cfg ? cfg : json_object());
	if (j == NULL) {
		log_err("results: cannot build summary.json");
		return;
	}
	text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	if (text != NULL) {
		replace("summary.json", text, strlen(text));
		free(text);
	}
	json_decref(j);

	text = NULL;
	len = 0;
	f = open_memstream(&text, &len);
	hist_write_hgrm(&cum->resp, f, 5);
	fclose(f);
	replace("latency.hgrm", text, len);
	free(text);

	if (R.ts) {
		fclose(R.ts);
		fclose(R.timers);
		fclose(R.fails);
		R.ts = R.timers = R.fails = NULL;
	}
	if (report_write(R.dir, &err) != 0) {
		log_err("results: report.html: %s", err ? err : "failed");
		free(err);
	}
	free(R.prev);
	R.prev = NULL;
	R.nprev = 0;
	free(R.config_json);
	R.config_json = NULL;
}

static int
secret_header(const char *h)
{
	return strncasecmp(h, "authorization:", 14) == 0 ||
	    strncasecmp(h, "cookie:", 7) == 0 ||
	    strncasecmp(h, "proxy-authorization:", 20) == 0;
}

static json_t *
jstrings(char **v, int n, int redact)
{
	json_t *a = json_array();
	char *r;
	int i;

	for (i = 0; i < n; i++) {
		if (redact && secret_header(v[i])) {
			xasprintf(&r, "%.*s: (redacted)", (int)(strchr(v[i], ':') - v[i]), v[i]);
			json_array_append_new(a, json_string(r));
			free(r);
		} else
			json_array_append_new(a, json_string(v[i]));
	}
	return a;
}

char *
results_config_json(const struct conf *cf)
{
	json_t *j, *tx, *steps, *st;
	char *out, mode[8], shard[32];
	int i, k;

	if (cf == NULL)
		return NULL;
	snprintf(mode, sizeof mode, "%04o", cf->control_mode);
	snprintf(shard, sizeof shard, "%d/%d", cf->shard_index, cf->shard_count);
	tx = json_array();
	for (i = 0; i < cf->ntransactions; i++) {
		const struct transaction *t = &cf->transactions[i];

		steps = json_array();
		for (k = 0; k < t->nsteps; k++) {
			const struct step *s = &t->steps[k];

			st = json_pack("{s:s,s:s,s:s,s:o,s:f}", "name", s->name,
			    "method", s->method ? s->method : "GET", "url", s->url,
			    "headers", jstrings(s->headers, s->nheaders, 1),
			    "pause", s->pause);
			json_array_append_new(steps, st);
		}
		json_array_append_new(tx, json_pack("{s:s,s:f,s:o,s:o}",
		    "name", t->name, "weight", t->weight,
		    "feed", t->feed ? json_string(t->feed->file) : json_null(),
		    "steps", steps));
	}
	j = json_pack("{s:{s:s,s:s,s:f,s:I,s:f,s:b,s:f,s:I,s:I,s:I,s:f,s:f,s:I,s:i,s:s,s:b,s:f,s:f,s:s},"
	    "s:o,s:o,s:{s:s,s:s},s:{s:s,s:f},s:o}",
	    "workload",
	    "model", cf->model == MODEL_OPEN ? "open" : "closed",
	    "arrivals", cf->arrivals == ARRIVALS_POISSON ? "poisson" : "constant",
	    "rate", cf->rate, "users", (json_int_t)cf->users, "think", cf->think,
	    "autoscale", cf->autoscale, "tolerance", cf->tolerance,
	    "max_users", (json_int_t)cf->max_users,
	    "max_in_flight", (json_int_t)cf->max_in_flight,
	    "backlog", (json_int_t)cf->backlog, "duration", cf->duration,
	    "window", cf->window, "seed", (json_int_t)cf->seed,
	    "workers", cf->workers, "shard", shard, "keepalive", cf->keepalive,
	    "timeout", cf->timeout, "connect_timeout", cf->connect_timeout,
	    "client", cf->client == CLIENT_AUTO ? "auto" : "libcurl",
	    "profile", cf->profile_file ? json_pack("{s:s,s:f,s:f}", "file",
		cf->profile_file, "speed", cf->profile_speed, "scale",
		cf->profile_scale) : json_null(),
	    "transactions", tx,
	    "control", "socket", cf->control_socket ? cf->control_socket : "",
	    "mode", mode,
	    "results", "dir", cf->results_dir ? cf->results_dir : "",
	    "interval", cf->results_interval,
	    "metrics", cf->metrics_listen ? json_pack("{s:s}", "listen",
		cf->metrics_listen) : json_null());
	if (j == NULL)
		return NULL;
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}
