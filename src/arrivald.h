/*
 * arrivald.h: the one header.  Prototypes are grouped by the file that
 * defines them; a reader finds the room by its name.
 *
 * Units, everywhere unless a name says otherwise:
 *   - instants on the monotonic clock are int64_t nanoseconds (clock_now());
 *   - the arrival process and the rate functions work in double seconds
 *     since the run's epoch (a monotonic instant fixed at start);
 *   - rates are per second.
 */
#ifndef ARRIVALD_H
#define ARRIVALD_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL
#define NS_PER_US 1000LL

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/arrivald/arrivald.conf"
#define DEFAULT_SOCKET "/run/arrivald/control.sock"
#define DEFAULT_RESULTS "/var/lib/arrivald"

#define ARRIVALD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRIVALD_NORETURN __attribute__((noreturn))

/* xmalloc.c: allocation that never returns NULL */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) ARRIVALD_PRINTF(2, 3);

/* log.c: stderr, with <N> syslog prefixes when not on a terminal */
enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
void log_init(int debug);
int log_is_tty(void);
void log_msg(int, const char *, ...) ARRIVALD_PRINTF(2, 3);
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
void fatal(const char *, ...) ARRIVALD_PRINTF(1, 2) ARRIVALD_NORETURN;
int64_t clock_now(void);  /* CLOCK_MONOTONIC, ns */
double clock_wall(void);  /* CLOCK_REALTIME, seconds */

/* rng.c: xoshiro256** seeded through splitmix64; one stream per worker */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *);
double rng_uniform(struct rng *);     /* [0, 1), 53 bits */
double rng_exp(struct rng *);         /* Exp(1) */
uint64_t rng_below(struct rng *, uint64_t n); /* [0, n), unbiased */

/*
 * ratefn.c: a rate lambda(t), piecewise linear between points, in seconds
 * since the run epoch.  Before the first point the rate is the first
 * point's; after the last it holds, stops (rate 0 for ever) or loops.
 */
enum ratefn_end { RATEFN_HOLD, RATEFN_STOP, RATEFN_LOOP };
struct ratefn {
	int n;
	double *t; /* ascending, owned */
	double *r; /* >= 0, owned */
	enum ratefn_end end;
};
void ratefn_const(struct ratefn *, double rate);
void ratefn_ramp(struct ratefn *, double t0, double r0, double t1, double r1);
void ratefn_copy(struct ratefn *, const struct ratefn *);
void ratefn_free(struct ratefn *);
double ratefn_eval(const struct ratefn *, double t);
double ratefn_integral(const struct ratefn *, double a, double b);
/* the b >= a with integral(a, b) == mass, or INFINITY if never reached */
double ratefn_solve(const struct ratefn *, double a, double mass);
double ratefn_end_time(const struct ratefn *); /* INFINITY unless STOP */

/* arrival.c: Poisson or constant arrivals on an absolute schedule */
enum arrivals { ARRIVALS_POISSON, ARRIVALS_CONSTANT };
enum http_client { CLIENT_AUTO, CLIENT_LIBCURL }; /* workload.client */
struct arrival {
	struct rng rng;
	enum arrivals kind;
	double share;     /* this stream's part of the fleet rate */
	double t_ref;     /* integrate from here ... */
	double remaining; /* ... this much unit-rate mass to the next arrival */
	double t_next;    /* when, INFINITY if never */
};
void arrival_init(struct arrival *, enum arrivals, double share, double phase,
    uint64_t seed, uint64_t stream, const struct ratefn *, double start);
double arrival_peek(const struct arrival *);
double arrival_take(struct arrival *, const struct ratefn *); /* returns and advances */
void arrival_retime(struct arrival *, const struct ratefn *old,
    const struct ratefn *new, double now);
void arrival_set_kind(struct arrival *, enum arrivals, const struct ratefn *, double now);

/* arrival.c: how early a worker wakes for an arrival, to poll the rest
 * of the way: the p99 of its recent timer lateness, capped; while its
 * arrivals are seen late, LEAD_POLL_GAPS mean gaps, capped */
#define LEAD_WAKES 128
#define LEAD_MAX_NS (1000 * NS_PER_US)
#define LEAD_INIT_NS (150 * NS_PER_US)
#define LEAD_SEEN 1000
#define LEAD_LATE_NS (100 * NS_PER_US)
#define LEAD_POLL 30000
#define LEAD_POLL_GAPS 2
struct lead {
	int64_t ns;               /* learnt from the last LEAD_WAKES wake-ups */
	int64_t late[LEAD_WAKES]; /* how late the wake-ups since then came */
	int n;
	int seen, tardy;          /* arrivals, and those seen late, of LEAD_SEEN */
	int polling;              /* arrivals left on the long lead */
	int dry;                  /* arrivals since the last wake-up */
};
void lead_init(struct lead *);
void lead_learn(struct lead *, int64_t late_ns);
void lead_seen(struct lead *, int64_t late_ns); /* an arrival seen this late */
int64_t lead_get(const struct lead *, double rate); /* rate: arrivals/s */

/* hist.c: log-linear histogram of microseconds, 1 us .. 1 h, 3 digits */
#define HIST_SUB_BITS 11
#define HIST_SUB_COUNT (1 << HIST_SUB_BITS)    /* 2048 */
#define HIST_SUB_HALF (HIST_SUB_COUNT / 2)     /* 1024 */
#define HIST_BUCKETS 22                        /* 2048 << 21 > 3.6e9 us */
#define HIST_LEN ((HIST_BUCKETS + 1) * HIST_SUB_HALF)
#define HIST_MAX_US 3600000000LL
struct hist {
	uint64_t total;
	uint64_t max_us;
	uint64_t min_us;
	double sum_us;
	double sumsq_us;
	uint64_t counts[HIST_LEN];
};
void hist_reset(struct hist *);
void hist_clear(struct hist *);  /* hist_reset() of one in use: only its span */
void hist_copy(struct hist *dst, const struct hist *src);
void hist_record(struct hist *, int64_t us);
void hist_add(struct hist *, const struct hist *);
void hist_sub(struct hist *, const struct hist *); /* a -= b, b a prefix of a */
int64_t hist_percentile(const struct hist *, double p); /* us; p in [0,100] */
double hist_mean(const struct hist *);
double hist_stddev(const struct hist *);
int hist_index(int64_t us);
int64_t hist_value_at(int index);      /* lowest value of a slot */
int64_t hist_highest_equiv(int64_t us);  /* highest value equivalent to us */
/* HdrHistogram's percentile-distribution text, values in ms */
void hist_write_hgrm(const struct hist *, FILE *, int ticks_per_half);

/*
 * conf.c: the only file that touches libconfig.  conf_load() returns a
 * validated, self-contained struct conf (every string owned by it) or
 * errors as "FILE:LINE: message" lines.
 */
enum model { MODEL_OPEN, MODEL_CLOSED };
enum feed_order { FEED_SEQUENTIAL, FEED_RANDOM };

struct feed {
	char *file;
	enum feed_order order;
	int ncols;
	char **cols;      /* header row: column names */
	int nrows;
	char **cells;     /* nrows * ncols, row-major */
	uint64_t next;    /* next row for FEED_SEQUENTIAL; atomic */
};

enum extract_kind { EXTRACT_REGEX, EXTRACT_FORM_FIELD, EXTRACT_HEADER };
struct extract {
	char *var;
	enum extract_kind kind;
	char *pattern;    /* regex (one group), form field name, or header name */
	int from_header;  /* regex: over the response headers instead of the body */
	int line;
};

struct step {
	char *name;
	char *method;     /* "GET" default */
	char *url;        /* may hold ${var} */
	int nheaders;
	char **headers;   /* "Name: value", may hold ${var} */
	char *body;       /* raw body, may hold ${var}; NULL if none */
	int nform;
	char **form;      /* "name=value" pairs, values urlencoded at send time */
	int nextract;
	struct extract *extract;
	int nstatus;
	int *status;      /* expect: accepted statuses; 0 = any < 400 */
	char *expect_body;/* expect: body regex, NULL = none */
	double pause;     /* seconds before this step */
	double timeout;   /* seconds, whole transfer */
	int timer;        /* stats timer id (stats_timer()), set by the engine */
	int host;         /* connection queue id, set by the engine; -1 none */
	struct h1_target *h1; /* set by the engine: h1.c can send it; owned */
	int line;
};

struct transaction {
	char *name;
	double weight;    /* normalised: weights sum to 1 */
	int nsteps;
	struct step *steps;
	struct feed *feed; /* NULL if none; owned */
	int timer;        /* stats timer id, set by the engine */
	int line;
};

struct conf {
	char *file;       /* the path it came from, NULL for --demo */

	/* workload */
	enum model model;
	enum arrivals arrivals;
	double rate;
	uint64_t users;
	double think;
	int autoscale;
	double tolerance;
	uint64_t max_users;
	uint64_t max_in_flight;
	uint64_t backlog;     /* arrivals waiting beyond max_in_flight */
	double duration;
	double window;
	uint64_t seed;
	int workers;          /* 0 = one per online core (resolved by conf_load) */
	int shard_index, shard_count;
	int keepalive;        /* reuse connections (default 1) */
	double timeout;       /* default per-request timeout, seconds */
	double connect_timeout;
	double drain;         /* seconds to wait for in-flight at stop */
	uint64_t body_limit;  /* bytes of a response body kept for extract/expect */
	uint64_t connections; /* per worker and host; 0 = no cap */
	enum http_client client;   /* "auto": h1.c where a step allows it */

	/* profile (optional) */
	char *profile_file;   /* NULL = none */
	double profile_speed, profile_scale;
	enum ratefn_end profile_end;
	struct ratefn profile; /* loaded points, t relative to profile start, already speed/scale applied */

	/* transactions: plain targets become one-step transactions */
	int ntransactions;
	struct transaction *transactions;

	/* control, results, metrics */
	char *control_socket;
	unsigned control_mode;
	char *results_dir;
	double results_interval;
	char *metrics_listen; /* NULL = off; "HOST:PORT" */
};

struct conf *conf_new_defaults(void);
/* calls cb(arg, name, len) for every ${name} in tmpl; -1 if malformed */
int conf_template_vars(const char *tmpl, void (*cb)(void *, const char *, size_t), void *arg);
/* every key the parser accepts, as "section.key" (targets.*, steps.* too) */
extern const char *const conf_keys[];
/* NULL on error; errors appended to *errs as "FILE:LINE: msg\n" lines */
struct conf *conf_load(const char *path, char **errs);
void conf_free(struct conf *);
/* profile.c: a t_seconds,rate CSV into *out, speed and scale applied */
int profile_load(const char *path, double speed, double scale,
    enum ratefn_end, struct ratefn *out, char **errs);

/* failure reasons, counted separately; names as in stats and metrics */
enum fail_reason {
	FAIL_REFUSED, FAIL_TIMEOUT, FAIL_RESET, FAIL_DNS, FAIL_HTTP_4XX,
	FAIL_HTTP_5XX, FAIL_EXPECT, FAIL_EXTRACT, FAIL_FD, FAIL_TLS, FAIL_OTHER,
	FAIL_MAX
};
extern const char *const fail_names[FAIL_MAX]; /* "refused", "timeout", ... */

/*
 * stats.c: what the workers measure, and the estimates made of it.
 * Workers only add to cumulative counters (O(1) per request, under the
 * worker's own lock).  The main thread sums the workers into snapshots;
 * a window or an interval is a snapshot minus an earlier one.
 */
#define STATS_TIMERS_MAX 256
#define STATS_SLICES 10       /* the window moves in steps of window / 10 */
struct timer_cum {
	uint64_t sent, completed, failed;
	struct hist resp;
};
struct stats_cum {
	int64_t at;               /* when taken, ns */
	uint64_t sent, completed, failed, dropped;
	uint64_t fail[FAIL_MAX];
	int64_t in_flight;
	double area;              /* integral of in_flight dt, request-seconds */
	double resp_sum;          /* seconds, completed requests */
	struct hist resp, lag;
};
struct stats {                /* one per worker */
	pthread_mutex_t lock;
	int64_t last_change;
	struct stats_cum cum;
	struct timer_cum *timers[STATS_TIMERS_MAX];
};
/* the estimates over a span: a window, an interval, or the whole run */
struct stats_view {
	double span;              /* seconds covered */
	double lambda, X, Q, R;   /* R < 0: none completed */
	double p50, p90, p99, p999, max, mean; /* seconds */
	double lag_p50, lag_p99, lag_max;
	uint64_t sent, completed, failed, dropped;  /* cumulative */
	uint64_t fail[FAIL_MAX];                    /* cumulative */
	int64_t in_flight;
};
/* what the engine adds to the measured view */
struct engine_view {
	const char *model, *arrivals, *state, *shard;
	double rate_target, duration, uptime, window;
	int closed;
	double N, Z, scale;
	int autoscale, autoscale_limited;
	const char *profile_file; /* NULL: no profile */
	double profile_position, profile_rate;
};
enum stat_kind { STAT_NUM, STAT_NULL, STAT_STR, STAT_COUNT, STAT_BOOL };
typedef void (*stats_emit_cb)(void *, const char *, enum stat_kind, double, const char *);

void stats_init(struct stats *);
void stats_fini(struct stats *);
void stats_started(struct stats *, int64_t now, int64_t intended, int timer);
void stats_finished(struct stats *, int64_t now, int64_t intended, int reason, int timer);
void stats_dropped(struct stats *);
void stats_sent(struct stats *, int timer, int first, int64_t lag_ns);
void stats_timer(struct stats *, int timer, int64_t now, int64_t intended, int reason, int started);
/* main thread */
int stats_timer_id(const char *name);       /* register or look up a name */
const char *stats_timer_name(int);
int stats_timer_count(void);
void stats_collect(struct stats **, int n, int64_t now, struct stats_cum *out);
void stats_cum_copy(struct stats_cum *dst, const struct stats_cum *src);
void stats_collect_timers(struct stats **, int n, struct timer_cum *out /* [count] */);
void stats_diff(const struct stats_cum *now, const struct stats_cum *then, struct stats_view *);
void stats_emit(const struct stats_view *, const struct engine_view *, stats_emit_cb, void *);
extern const char *const stats_fields[];     /* every field stats_emit gives, in order */

/*
 * session.c: one transaction execution (open model) or one user's session
 * (closed model): ${var} values from feeds and extract rules, and a cookie
 * jar kept through libcurl's cookie engine.  A NULL session is allowed for
 * steps that use no variables (plain targets): no cookies are kept.
 */
struct session;
struct curl_slist;
struct session *session_new(uint64_t seed);
void session_free(struct session *);
/* start a transaction: takes a feed row if the transaction has a feed and
 * the session holds none for that feed yet; extracted values are kept */
void session_begin(struct session *, const struct transaction *);
/* render the step into the easy handle; 0, or -1 with *why (malloc'd) */
int session_prepare(struct session *, const struct step *, void *easy,
    struct curl_slist **hdrs, char **why);
/* after the transfer: keep cookies, run extract and expect rules.
 * Returns -1 (ok) or a fail_reason with *why (malloc'd) */
int session_check(struct session *, const struct step *, void *easy,
    long status, const char *body, size_t blen, const char *hdrs, size_t hlen,
    char **why);
/* does this step need the response body / headers kept? */
int session_wants_body(const struct step *);
int session_wants_headers(const struct step *);
/* frees the compiled-regex cache shared by all sessions; at exit */
void session_fini(void);

/*
 * sut.c: arrival-sut, the reference queueing network.  Runs on its own
 * thread and event base; sut_truth() may be called from any thread.
 */
#define SUT_MAX_STATIONS 16
struct sut_conf {
	int nstations;
	double demand[SUT_MAX_STATIONS]; /* mean service demand, seconds */
	int deterministic;               /* -e det */
	uint64_t seed;
	const char *log_path;            /* per-request log, NULL = none */
	double p_5xx, p_reset, p_hang;   /* injected faults, probabilities */
};
struct sut_truth {
	uint64_t arrivals, completions;
	double elapsed;                  /* seconds since start or reset */
	double Q, X, R;                  /* time-averaged number in system, throughput, mean response */
	int nstations;
	double U[SUT_MAX_STATIONS], Qk[SUT_MAX_STATIONS];
	/* seconds, p50 p99 max: reply handed to the kernel - computed departure */
	double err[3];
	double wrote[3];                 /* the same, when the write returned */
	uint64_t in_system;              /* requests in the network now */
	uint64_t held;                   /* "hang" faults held unanswered now */
	uint64_t faults, fault_5xx, fault_reset, fault_hang; /* injected, since start or reset */
};
struct sut;
struct sut *sut_spawn(const char *addr, int port, const struct sut_conf *, char **err);
int sut_port(const struct sut *);
void sut_truth(struct sut *, struct sut_truth *);
void sut_reset(struct sut *);
void sut_stop(struct sut *);  /* stops the thread and frees */
int sut_parse_demands(const char *, struct sut_conf *, char **err);

/* notify.c: sd_notify, watchdog, socket activation; no-ops without systemd */
struct event_base;
void notify_init(struct event_base *);
void notify_fini(void);
void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *, ...) ARRIVALD_PRINTF(1, 2);
int notify_listen_fd(void); /* the activated control socket, or -1 */

/*
 * http.c: libcurl's multi_socket interface on a worker's event base (the
 * hiperfifo pattern).  Completions are delivered to done(arg, easy,
 * result) outside libcurl's callbacks.
 */
struct http;
typedef void (*http_done_fn)(void *arg, void *easy, int result);
struct http *http_new(struct event_base *, http_done_fn, void *arg);
void http_free(struct http *);
int http_add(struct http *, void *easy, int curl_caps); /* 0, or -1 (failed) */
void http_remove(struct http *, void *easy); /* at teardown only */
void http_set_connections(struct http *, long max);
void http_kick(struct http *);             /* let libcurl act on new handles now */
int http_fail_reason(int curlcode, long oserrno);

/*
 * h1.c: HTTP/1.1 on plain sockets for the steps whose request is the same
 * bytes every time (no session, variable, form or extract; http:// to an
 * IP address): made once per plan, sent with one send() on a kept-alive
 * connection.  done(arg, req, status, reason): reason -1 with the HTTP
 * status, or a FAIL_* with status 0; always called from the event loop.
 */
struct h1_target {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int host;                 /* the engine's host id: the connection pool */
	int head;                 /* HEAD: no body, whatever the headers say */
	int keepalive;
	double connect_timeout;
	size_t len;
	char bytes[];             /* the request as sent, NUL after */
};
struct h1;
typedef void (*h1_done_fn)(void *arg, void *req, int status, int reason);
typedef void (*h1_body_fn)(void *req, const char *data, size_t len);
struct h1_target *h1_target_new(const struct step *, const struct conf *, int host);
struct h1 *h1_new(struct event_base *, int fd_limit, h1_done_fn, h1_body_fn, void *arg);
void h1_free(struct h1 *);
void h1_send(struct h1 *, const struct h1_target *, void *req, double timeout);
int h1_plug(struct h1 *);
int h1_batched(const struct h1 *);
void h1_unplug(struct h1 *);

/*
 * users.c: closed-model users, kept compact: a user is one state byte
 * (and a session pointer only when the transactions need sessions);
 * a thinking user is also one 16-byte entry in a heap of deadlines that
 * drives a single timer.  No curl handle and no event per user.
 */
enum user_state { USER_GONE, USER_IDLE, USER_BUSY };
struct deadline {
	int64_t at;
	uint32_t user;
};
struct users {
	uint64_t n;                /* active: users with index < n */
	uint64_t cap;              /* state entries allocated */
	uint8_t *state;
	struct session **sessions; /* NULL unless sessions are needed */
	struct deadline *heap;
	size_t len, hcap;
};
void users_init(struct users *);
void users_fini(struct users *);
void users_reserve(struct users *, uint64_t n, int sessions);
void users_push(struct users *, uint32_t user, int64_t at);
int users_peek(const struct users *, int64_t *at);
uint32_t users_pop(struct users *, int64_t *at);
/* remaining thinks scaled by factor from now; all shifted by delta */
void users_stretch(struct users *, int64_t now, double factor);
void users_shift(struct users *, int64_t delta);
void users_clear(struct users *);  /* forget every deadline */
size_t users_bytes(const struct users *);

/*
 * engine.c: the workers (one thread, event base, multi handle and random
 * stream each) and the control state they follow.  The main thread
 * changes the control state; each worker reconciles itself to it.
 */
struct engine_settings {
	enum model model;
	enum arrivals arrivals;
	int paused;
	double N0, scale;          /* closed: N = scale * N0 */
	int autoscale, autoscale_limited;
};
int engine_init(struct conf *, int64_t epoch, uint64_t seed, char **err); /* takes the conf */
int64_t engine_start(double duration); /* returns when arrivals end */
void engine_set_rate(double rate, double over);
void engine_set_arrivals(enum arrivals);
void engine_set_model(enum model);
int engine_set_users(uint64_t n, double think, char **err);
void engine_set_autoscale(int on);
void engine_set_scale(double k, int limited);
void engine_pause(int paused);
void engine_set_profile(const struct ratefn *, const char *file); /* NULL: off */
void engine_reload(struct conf *);   /* takes the conf */
void engine_stop(void);              /* no new arrivals */
int engine_stopped(void);
int64_t engine_in_flight(void);
void engine_join(void);              /* end the worker loops and join them */
void engine_fini(void);
void engine_view(struct engine_view *, double now_s);
void engine_settings(struct engine_settings *);
struct stats **engine_stats(int *n);
const struct conf *engine_conf(void); /* main thread only */
double engine_rate_now(double now_s);
double engine_profile_position(double now_s, const char **file);
double engine_rate_end(void);  /* seconds since the epoch; INFINITY: never */

/* results.c: the files of a run; every write failure is logged, never fatal */
struct results_meta {
	const char *run_id, *version, *shard;
	double started_wall;
	uint64_t seed;
	const struct conf *conf;
};
int results_open(const char *dir, const struct results_meta *, char **err);
void results_room(int ntimers);
void results_interval(double t, const struct stats_view *, const struct engine_view *,
    const struct timer_cum *timers, int ntimers);
void results_close(double t_end, const struct stats_view *total, const struct stats_cum *cum,
    const struct engine_view *, const struct timer_cum *timers, int ntimers);
const char *results_path(void);   /* the run directory, or NULL */
char *results_config_json(const struct conf *); /* malloc'd; secrets redacted */

/* metrics.c: Prometheus text exposition on metrics.listen */
typedef void (*metrics_view_fn)(struct stats_view *, struct engine_view *, struct hist *);
int metrics_init(struct event_base *, const char *listen, metrics_view_fn, char **err);
void metrics_fini(void);
char *metrics_text(const struct stats_view *, const struct engine_view *, const struct hist *);

/* daemon.c: the daemon's life, from config to results */
struct daemon_opts {
	const char *config;
	const char *socket;
	const char *results;
	double duration;           /* < 0: not given */
	int demo, check, debug;
};
int daemon_main(const struct daemon_opts *);

/* report.c: report.html from a run directory's files */
int report_write(const char *rundir, char **err);

/* logprofile.c: arrivalctl profile-from-log */
int logprofile_main(int argc, char **argv);

/* ctl.c: the control socket server, on the main event base */
struct ctl_client;
struct ctl_request;
typedef void (*ctl_handler)(struct ctl_client *, const struct ctl_request *);
/* activated_fd >= 0: a listening socket from systemd, used as it is */
int ctl_init(struct event_base *, const char *path, unsigned mode,
    int activated_fd, ctl_handler, char **err);
void ctl_fini(void);
void ctl_reply(struct ctl_client *, const char *json); /* one object, no newline */
void ctl_reply_error(struct ctl_client *, const char *msg);
/* stream line() every interval to this client until it goes */
void ctl_watch(struct ctl_client *, double interval, char *(*line)(void));
/* the reply to "help": {"ok": true, "commands": [{"syntax", "description"}]}, malloc'd */
char *ctl_help_json(void);

#endif /* ARRIVALD_H */
