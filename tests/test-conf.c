/*
 * test-conf.c: conf_load() on the full fixture (every key, every value as
 * written), on a minimal file (every default), and on one broken file per
 * class of mistake, each of which must be refused with its FILE:LINE and
 * a message naming the key.  Broken files are written to a private
 * directory from the strings below, so each one's line numbers are in
 * plain sight.
 */
#include <sys/stat.h>

#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrivald.h"
#include "tap.h"

static char dir[] = "/tmp/test-conf.XXXXXX";
static char path[128];
static const char *srcdir;

/* Two lines that make a valid file; the broken ones start from them. */
#define WORK "workload = { rate = 10.0; };\n"
#define TARGET "targets = ( { name = \"a\"; url = \"http://127.0.0.1:1/\"; } );\n"

static void
put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", p);
		exit(1);
	}
}

static struct conf *
load(const char *text, char **errs)
{
	put("t.conf", text);
	*errs = NULL;
	return conf_load(path, errs);
}

/* Does some line of errs start with "FILE:LINE: " and contain needle? */
static int
has_error(const char *errs, const char *file, int line, const char *needle)
{
	char want[512];
	const char *p = errs, *nl;
	size_t wl;

	if (line > 0)
		snprintf(want, sizeof want, "%s:%d: ", file, line);
	else
		snprintf(want, sizeof want, "%s: ", file);
	wl = strlen(want);
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if ((size_t)(nl - p) >= wl && strncmp(p, want, wl) == 0 &&
		    memmem(p + wl, nl - p - wl, needle, strlen(needle)) != NULL)
			return 1;
		p = *nl ? nl + 1 : nl;
	}
	return 0;
}

static void
bad(const char *desc, const char *text, int line, const char *needle)
{
	struct conf *cf;
	char *errs;
	int good;

	cf = load(text, &errs);
	good = cf == NULL && has_error(errs, path, line, needle);
	ok(good, "%s: line %d, \"%s\"", desc, line, needle);
	if (!good)
		diag("got: %s", errs != NULL ? errs : "(no errors)");
	conf_free(cf);
	free(errs);
}

static struct conf *
good(const char *desc, const char *text)
{
	struct conf *cf;
	char *errs;

	cf = load(text, &errs);
	ok(cf != NULL && errs == NULL, "%s loads", desc);
	if (cf == NULL)
		diag("got: %s", errs != NULL ? errs : "(no errors)");
	free(errs);
	return cf;
}

static int
feq(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1);
}

static void
test_full(void)
{
	struct conf *cf;
	struct transaction *tr;
	struct step *st;
	char p[512], *errs = NULL;

	snprintf(p, sizeof p, "%s/tests/conf/full.conf", srcdir);
	cf = conf_load(p, &errs);
	ok(cf != NULL && errs == NULL, "full.conf loads");
	if (cf == NULL) {
		diag("got: %s", errs);
		free(errs);
		return;
	}
	ok(strcmp(cf->file, p) == 0, "file kept");
	ok(cf->model == MODEL_CLOSED && cf->arrivals == ARRIVALS_CONSTANT,
	    "model, arrivals");
	ok(feq(cf->rate, 120.5) && cf->users == 1500 && feq(cf->think, 12),
	    "rate, users, think (integer accepted for a float)");
	ok(cf->autoscale == 1 && feq(cf->tolerance, 0.05) &&
	    cf->max_users == 200000, "autoscale, tolerance, max_users");
	ok(cf->max_in_flight == 500 && cf->backlog == 50, "max_in_flight, backlog");
	ok(feq(cf->duration, 60) && feq(cf->window, 5) && cf->seed == 42,
	    "duration, window, seed");
	ok(cf->workers == 3 && cf->shard_index == 1 && cf->shard_count == 4,
	    "workers, shard");
	ok(cf->keepalive == 0 && feq(cf->timeout, 7.5) &&
	    feq(cf->connect_timeout, 1.5) && feq(cf->drain, 2) &&
	    cf->body_limit == 4096 && cf->connections == 64 &&
	    cf->client == CLIENT_LIBCURL,
	    "keepalive, timeouts, drain, body_limit, connections, client");

	snprintf(p, sizeof p, "%s/tests/conf/peak.csv", srcdir);
	ok(cf->profile_file != NULL && strcmp(cf->profile_file, p) == 0,
	    "profile.file relative to the config's directory: %s",
	    cf->profile_file ? cf->profile_file : "(null)");
	ok(feq(cf->profile_speed, 2) && feq(cf->profile_scale, 0.5) &&
	    cf->profile_end == RATEFN_LOOP, "profile speed, scale, end");
	ok(cf->profile.n == 3 && feq(cf->profile.t[0], 0) &&
	    feq(cf->profile.t[1], 30) && feq(cf->profile.t[2], 60) &&
	    feq(cf->profile.r[0], 50) && feq(cf->profile.r[1], 200) &&
	    feq(cf->profile.r[2], 50), "profile points shifted, sped up, scaled");

	ok(cf->ntransactions == 4, "three targets and one transaction");
	if (cf->ntransactions != 4)
		goto out;
	tr = cf->transactions;
	ok(strcmp(tr[0].name, "home") == 0 && strcmp(tr[1].name, "api.v1") == 0 &&
	    strcmp(tr[2].name, "search") == 0 && strcmp(tr[3].name, "comment") == 0,
	    "targets first, then transactions, in order");
	ok(feq(tr[0].weight, 3.0 / 8) && feq(tr[1].weight, 1.0 / 8) &&
	    tr[2].weight == 0 && feq(tr[3].weight, 4.0 / 8),
	    "weights normalised to sum 1");
	ok(tr[0].nsteps == 1 && strcmp(tr[0].steps[0].name, "home") == 0 &&
	    strcmp(tr[0].steps[0].method, "GET") == 0 &&
	    strcmp(tr[0].steps[0].url, "http://127.0.0.1:8080/") == 0 &&
	    feq(tr[0].steps[0].timeout, 7.5) && tr[0].feed == NULL,
	    "a target is a one-step transaction; timeout from workload");
	st = &tr[1].steps[0];
	ok(strcmp(st->method, "PUT") == 0 && st->nheaders == 2 &&
	    strcmp(st->headers[1], "X-Test: 1") == 0 &&
	    strcmp(st->body, "{\"a\": 1}") == 0 && feq(st->timeout, 2) &&
	    st->nstatus == 2 && st->status[0] == 200 && st->status[1] == 204 &&
	    strcmp(st->expect_body, "^ok$") == 0, "target method, headers, body, "
	    "timeout, expect");
	st = &tr[2].steps[0];
	ok(st->nform == 2 && strcmp(st->form[0], "q=cats") == 0 &&
	    st->body == NULL, "target form");

	ok(tr[3].feed != NULL && tr[3].feed->order == FEED_RANDOM &&
	    tr[3].feed->ncols == 2 && tr[3].feed->nrows == 3 &&
	    strcmp(tr[3].feed->cols[1], "password") == 0 &&
	    strcmp(tr[3].feed->cells[1], "s3cret, with comma") == 0 &&
	    strcmp(tr[3].feed->cells[3], "say \"hi\"") == 0 &&
	    strcmp(tr[3].feed->cells[4], "carol") == 0,
	    "feed: header, quoted fields, rows");
	ok(tr[3].nsteps == 3, "three steps");
	if (tr[3].nsteps != 3)
		goto out;
	st = tr[3].steps;
	ok(st[0].nextract == 3 &&
	    st[0].extract[0].kind == EXTRACT_FORM_FIELD &&
	    strcmp(st[0].extract[0].pattern, "csrf") == 0 &&
	    st[0].extract[1].kind == EXTRACT_HEADER &&
	    strcmp(st[0].extract[1].var, "sid") == 0 &&
	    st[0].extract[2].kind == EXTRACT_REGEX &&
	    st[0].extract[2].from_header == 1 &&
	    strcmp(st[0].extract[2].pattern, "token=([a-z0-9]+)") == 0,
	    "extract rules: form_field, header, regex from headers");
	ok(strcmp(st[1].name, "login") == 0 && strcmp(st[1].method, "POST") == 0 &&
	    st[1].nform == 3 && st[1].nstatus == 2 && st[1].status[1] == 302,
	    "step form and expect status");
	ok(feq(st[2].pause, 1.5) && feq(st[2].timeout, 3) &&
	    st[2].nstatus == 0 && strcmp(st[2].expect_body, "ok") == 0 &&
	    st[2].line == 46, "step pause, timeout, expect body, line %d",
	    st[2].line);

	ok(strcmp(cf->control_socket, "/tmp/arrivald-test.sock") == 0 &&
	    cf->control_mode == 0640, "control socket, mode");
	ok(strcmp(cf->results_dir, "/tmp/arrivald-results") == 0 &&
	    feq(cf->results_interval, 0.5), "results dir, interval");
	ok(cf->metrics_listen != NULL &&
	    strcmp(cf->metrics_listen, "127.0.0.1:9464") == 0, "metrics listen");
out:
	conf_free(cf);
	free(errs);
}

/* The generic key ("transactions.steps.url") of every setting below s. */
static void
walk(const config_setting_t *s, const char *pfx, char *seen, size_t seenlen)
{
	config_setting_t *m;
	const char *name;
	char p[256];
	int i, t = config_setting_type(s);

	if (t != CONFIG_TYPE_GROUP && t != CONFIG_TYPE_LIST)
		return;
	for (i = 0; i < config_setting_length(s); i++) {
		m = config_setting_get_elem(s, i);
		if ((name = config_setting_name(m)) == NULL) {
			walk(m, pfx, seen, seenlen); /* a list element */
			continue;
		}
		snprintf(p, sizeof p, "%s%s%s", pfx, *pfx ? "." : "", name);
		if (strlen(seen) + strlen(p) + 3 < seenlen) {
			strcat(seen, " ");
			strcat(seen, p);
			strcat(seen, " ");
		}
		walk(m, p, seen, seenlen);
	}
}

static void
test_keys_used(void)
{
	config_t cfg;
	char p[512], want[256], missing[1024] = "";
	static char seen[16384];
	int i, n = 0;

	snprintf(p, sizeof p, "%s/tests/conf/full.conf", srcdir);
	config_init(&cfg);
	if (config_read_file(&cfg, p) != CONFIG_TRUE) {
		ok(0, "full.conf parses with libconfig");
		config_destroy(&cfg);
		return;
	}
	walk(config_root_setting(&cfg), "", seen, sizeof seen);
	for (i = 0; conf_keys[i] != NULL; i++) {
		snprintf(want, sizeof want, " %s ", conf_keys[i]);
		if (strstr(seen, want) == NULL &&
		    strlen(missing) + strlen(want) < sizeof missing)
			strcat(missing, want), n++;
	}
	ok(i > 50 && n == 0, "full.conf, which loads, uses all %d conf_keys%s%s",
	    i, n ? "; missing:" : "", missing);
	config_destroy(&cfg);
}

static void
test_defaults(void)
{
	struct conf *cf, *d;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	cf = good("a minimal file", WORK TARGET);
	if (cf == NULL)
		return;
	ok(cf->model == MODEL_OPEN && cf->arrivals == ARRIVALS_POISSON &&
	    feq(cf->rate, 10), "default model open, arrivals poisson");
	ok(cf->users == 0 && cf->autoscale == 0 && feq(cf->tolerance, 0.01) &&
	    cf->max_users == 1000000, "closed-model defaults");
	ok(cf->max_in_flight == 10000 && cf->backlog == 10000,
	    "max_in_flight 10000, backlog = max_in_flight");
	ok(cf->duration == 0 && feq(cf->window, 10) && cf->seed == 0,
	    "duration 0, window 10, seed 0 (kept for the daemon to draw)");
	ok(cf->workers == (cores > 256 ? 256 : cores < 1 ? 1 : cores),
	    "workers resolved to the online cores (%d)", cf->workers);
	ok(cf->shard_index == 0 && cf->shard_count == 1, "shard 0/1");
	ok(cf->keepalive == 1 && feq(cf->timeout, 30) &&
	    feq(cf->connect_timeout, 5) && feq(cf->drain, 5) &&
	    cf->body_limit == 1048576, "keepalive, timeouts, drain, body_limit");
	ok(cf->client == CLIENT_AUTO, "client auto");
	ok(cf->profile_file == NULL && cf->profile.n == 0, "no profile");
	ok(strcmp(cf->control_socket, DEFAULT_SOCKET) == 0 &&
	    cf->control_mode == 0660, "control defaults");
	ok(strcmp(cf->results_dir, DEFAULT_RESULTS) == 0 &&
	    feq(cf->results_interval, 1), "results defaults");
	ok(cf->metrics_listen == NULL, "metrics off");
	ok(cf->ntransactions == 1 && cf->transactions[0].weight == 1 &&
	    strcmp(cf->transactions[0].steps[0].method, "GET") == 0 &&
	    cf->transactions[0].steps[0].nstatus == 0 &&
	    cf->transactions[0].steps[0].expect_body == NULL &&
	    feq(cf->transactions[0].steps[0].timeout, 30) &&
	    cf->transactions[0].steps[0].line == 2, "target defaults");

	d = conf_new_defaults();
	ok(d->workers == cf->workers && d->max_in_flight == cf->max_in_flight &&
	    d->backlog == cf->backlog && feq(d->window, cf->window) &&
	    d->control_mode == cf->control_mode &&
	    strcmp(d->results_dir, cf->results_dir) == 0 &&
	    d->ntransactions == 0 && d->file == NULL,
	    "conf_new_defaults agrees with a loaded minimal file");
	conf_free(d);
	conf_free(cf);
}

static void
test_closed(void)
{
	struct conf *cf;

	cf = good("closed with users and think",
	    "workload = { model = \"closed\"; users = 100; think = 5.0; };\n" TARGET);
	ok(cf != NULL && feq(cf->rate, 20), "rate = users / think");
	conf_free(cf);
	cf = good("closed with users and rate",
	    "workload = { model = \"closed\"; users = 100; rate = 50; };\n" TARGET);
	ok(cf != NULL && feq(cf->think, 2), "think = users / rate");
	conf_free(cf);
	bad("closed without users",
	    "workload = { model = \"closed\"; think = 5.0; };\n" TARGET, 1,
	    "workload.users:");
	bad("closed without think or rate",
	    "workload = { model = \"closed\"; users = 5; };\n" TARGET, 1,
	    "workload.think:");
	bad("max_users below users",
	    "workload = { model = \"closed\"; users = 5; think = 1.0;\n"
	    "  max_users = 4; };\n" TARGET, 2, "workload.max_users: must be >=");
	bad("open without rate", "workload = { model = \"open\"; };\n" TARGET, 1,
	    "workload.rate: required");
	bad("client not one of its two", "workload = { rate = 1.0;\n"
	    "  client = \"curl\"; };\n" TARGET, 2,
	    "workload.client: must be \"auto\" or \"libcurl\", got \"curl\"");
}

static void
test_metrics(void)
{
	struct conf *cf;

	cf = good("metrics port only",
	    WORK TARGET "metrics = { listen = \"9464\"; };\n");
	ok(cf != NULL && strcmp(cf->metrics_listen, "127.0.0.1:9464") == 0,
	    "a bare port means 127.0.0.1:PORT");
	conf_free(cf);
	cf = good("metrics on IPv6",
	    WORK TARGET "metrics = { listen = \"[::1]:9100\"; };\n");
	ok(cf != NULL && strcmp(cf->metrics_listen, "[::1]:9100") == 0,
	    "[::1]:9100 kept");
	conf_free(cf);
	bad("metrics port 0", WORK TARGET "metrics = { listen = \"0\"; };\n", 3,
	    "metrics.listen:");
	bad("metrics port too big",
	    WORK TARGET "metrics = { listen = \"127.0.0.1:70000\"; };\n", 3,
	    "1..65535");
	bad("metrics IPv6 without brackets",
	    WORK TARGET "metrics = { listen = \"::1:9464\"; };\n", 3, "brackets");
}

static void
test_errors(void)
{
	struct conf *cf;
	char *errs = NULL, p[256];

	/* the file itself */
	snprintf(p, sizeof p, "%s/nonexistent.conf", dir);
	cf = conf_load(p, &errs);
	ok(cf == NULL && has_error(errs, p, 0, "cannot read: No such file"),
	    "missing file: FILE: cannot read: strerror");
	free(errs);
	errs = NULL;
	cf = conf_load(dir, &errs);
	ok(cf == NULL && has_error(errs, dir, 0, "cannot read: Is a directory"),
	    "a directory cannot be read");
	free(errs);
	bad("syntax error", WORK TARGET "control = { mode = ; };\n", 3, "syntax");

	/* unknown keys, in every kind of group */
	bad("unknown key", "workload = { rate = 10.0;\n ratee = 3; };\n" TARGET,
	    2, "unknown key workload.ratee");
	bad("unknown top-level key", WORK TARGET "wrokload = { };\n", 3,
	    "unknown key wrokload");
	bad("unknown key in a target",
	    WORK "targets = ( { name = \"a\"; url = \"http://h/\";\n urll = \"x\"; } );\n",
	    3, "unknown key targets.a.urll");
	bad("unknown key in a step", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\"; paws = 1.0; } ); } );\n",
	    3, "unknown key steps.s.paws");
	bad("unknown key in an extract rule", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\"; form = \"y\"; } ); } ); } );\n",
	    4, "unknown key steps.s.extract.v.form");

	/* wrong types */
	bad("string for a number", "workload = { rate = \"fast\"; };\n" TARGET, 1,
	    "workload.rate: expected a number, got a string");
	bad("integer for a boolean", "workload = { rate = 1;\n autoscale = 1; };\n"
	    TARGET, 2, "workload.autoscale: expected a boolean");
	bad("float for an integer", "workload = { rate = 1;\n users = 2.5; };\n"
	    TARGET, 2, "workload.users: expected an integer, got a float");
	bad("group expected", "workload = 3;\n" TARGET, 1,
	    "workload: expected a group");
	bad("headers not an array", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n headers = \"X: y\"; } );\n",
	    3, "targets.a.headers: expected an array");

	/* ranges */
	bad("negative rate", "workload = { rate = -3; };\n" TARGET, 1,
	    "workload.rate: must be > 0, got -3");
	bad("zero rate", "workload = { rate = 0.0; };\n" TARGET, 1,
	    "workload.rate: must be > 0");
	bad("infinite rate", "workload = { rate = 1e400; };\n" TARGET, 1,
	    "workload.rate");
	bad("zero window", "workload = { rate = 1.0;\n window = 0.0; };\n" TARGET, 2,
	    "workload.window: must be > 0");
	bad("negative duration", "workload = { rate = 1.0;\n duration = -1; };\n"
	    TARGET, 2, "workload.duration: must be >= 0");
	bad("tolerance of 1", "workload = { rate = 1.0;\n tolerance = 1.0; };\n"
	    TARGET, 2, "workload.tolerance: must be in (0, 1)");
	bad("too many workers", "workload = { rate = 1.0;\n workers = 300; };\n"
	    TARGET, 2, "workload.workers: must be 0..256");
	bad("zero max_in_flight", "workload = { rate = 1.0;\n max_in_flight = 0; };\n"
	    TARGET, 2, "workload.max_in_flight: must be >= 1");
	bad("negative seed", "workload = { rate = 1.0;\n seed = -1; };\n" TARGET, 2,
	    "workload.seed: must be >= 0");
	bad("bad model", "workload = { rate = 1.0;\n model = \"half-open\"; };\n"
	    TARGET, 2, "workload.model: must be \"open\" or \"closed\"");
	bad("negative step pause", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\"; pause = -1.0; } ); } );\n",
	    3, "steps.s.pause: must be >= 0");
	bad("zero step timeout", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n timeout = 0; } );\n",
	    3, "targets.a.timeout: must be > 0");
	bad("status outside 100..599", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { status = [ 200, 999 ]; }; } );\n", 3, "999 is not an HTTP status");

	/* targets and transactions */
	bad("ftp url", WORK
	    "targets = ( { name = \"a\";\n url = \"ftp://127.0.0.1/\"; } );\n", 3,
	    "targets.a.url: \"ftp://127.0.0.1/\": the scheme must be http");
	bad("url without a host", WORK
	    "targets = ( { name = \"a\";\n url = \"http:///x\"; } );\n", 3,
	    "has no host");
	bad("missing url", WORK "targets = ( { name = \"a\"; } );\n", 2,
	    "targets.a.url: required");
	bad("missing name", WORK "targets = ( { url = \"http://h/\"; } );\n", 2,
	    "targets[0].name: required");
	bad("bad name", WORK "targets = ( { name = \"a b\"; url = \"http://h/\"; } );\n",
	    2, "is not a name");
	bad("bad method", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n method = \"GE T\"; } );\n",
	    3, "targets.a.method:");
	bad("header without a colon", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n headers = [ \"X-Foo bar\" ]; } );\n",
	    3, "targets.a.headers: \"X-Foo bar\" is not \"Name: value\"");
	bad("form pair without =", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n form = [ \"novalue\" ]; } );\n",
	    3, "targets.a.form:");
	bad("body and form together", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\"; body = \"x\";\n"
	    " form = [ \"a=b\" ]; } );\n", 3, "body and form are mutually exclusive");
	bad("zero weights", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\"; weight = 0.0; },\n"
	    " { name = \"b\"; url = \"http://h/\"; weight = 0; } );\n", 2,
	    "sum to 0");
	bad("negative weight", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n weight = -1.0; } );\n",
	    3, "targets.a.weight: must be >= 0");
	bad("no targets or transactions", WORK "targets = ( );\n", 2,
	    "at least one target or transaction");
	bad("duplicate target and transaction names", WORK TARGET
	    "transactions = ( { name = \"a\";\n"
	    "  steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 3,
	    "transactions.name: \"a\" is already the name of the target at line 2");
	bad("duplicate step names", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\"; },\n"
	    "  { name = \"s\"; url = \"http://h/\"; } ); } );\n", 4,
	    "\"s\" is used twice in transactions.t (first at line 3)");
	bad("transaction without steps", WORK
	    "transactions = ( { name = \"t\";\n steps = ( ); } );\n", 3,
	    "transactions.t.steps: needs at least one step");

	/* feeds */
	bad("missing feed file", WORK
	    "transactions = ( { name = \"t\";\n feed = { file = \"nope.csv\"; };\n"
	    " steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 3,
	    "transactions.t.feed.file: cannot read");
	put("bad.csv", "user,password\nalice,pw\nbob\ncarol,pw\n");
	bad("feed row with the wrong column count", WORK
	    "transactions = ( { name = \"t\";\n feed = { file = \"bad.csv\"; };\n"
	    " steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 3,
	    "bad.csv:3: row has 1 field, the header has 2");
	put("empty.csv", "");
	bad("empty feed file", WORK
	    "transactions = ( { name = \"t\";\n feed = { file = \"empty.csv\"; };\n"
	    " steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 3,
	    "empty.csv is empty");
	put("quote.csv", "a,b\n\"x,y\n");
	bad("feed with an open quote", WORK
	    "transactions = ( { name = \"t\";\n feed = { file = \"quote.csv\"; };\n"
	    " steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 3,
	    "quote.csv:2: unterminated");
	bad("bad feed order", WORK
	    "transactions = ( { name = \"t\";\n feed = { file = \"bad.csv\";\n"
	    " order = \"shuffled\"; };\n"
	    " steps = ( { name = \"s\"; url = \"http://h/\"; } ); } );\n", 4,
	    "transactions.t.feed.order: must be");

	/* variables */
	put("users.csv", "user,password\nalice,pw\n");
	bad("undefined variable", WORK
	    "transactions = ( { name = \"t\"; feed = { file = \"users.csv\"; }; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/${user}\";\n"
	    "    form = [ \"p=${password}\", \"x=${nope}\" ]; } ); } );\n", 3,
	    "steps.s: ${nope} is not set by a feed column or an earlier extract rule");
	bad("variable from the same step's extract", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/${v}\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\"; } ); } ); } );\n", 3,
	    "steps.s: ${v} is not set");
	bad("variable from a later step's extract", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s1\"; url = \"http://h/\"; headers = [ \"X: ${v}\" ]; },\n"
	    "  { name = \"s2\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\"; } ); } ); } );\n", 3,
	    "steps.s1: ${v} is not set");
	cf = good("a variable from an earlier step's extract", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s1\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\"; } ); },\n"
	    "  { name = \"s2\"; url = \"http://h/${v}\"; } ); } );\n");
	conf_free(cf);
	bad("variable in a target", WORK
	    "targets = ( { name = \"a\";\n url = \"http://h/${id}\"; } );\n", 2,
	    "targets.a: ${id} is not set");
	bad("${ without }", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\"; body = \"x=${v\"; } ); } );\n", 3,
	    "steps.s.body: \"x=${v\": \"${\" without");

	/* extract and expect rules */
	bad("bad regex", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\";\n regex = \"([a-z\"; } ); } ); } );\n", 5,
	    "steps.s.extract.v.regex: bad regex");
	bad("regex without a group", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\";\n regex = \"[a-z]+\"; } ); } ); } );\n", 5,
	    "has 0 groups, needs exactly one");
	bad("regex with two groups", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\";\n regex = \"(a)(b)\"; } ); } ); } );\n", 5,
	    "has 2 groups, needs exactly one");
	bad("extract with two kinds", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\"; form_field = \"f\"; } ); } ); } );\n",
	    4, "needs exactly one of regex, form_field, header (has 2)");
	bad("extract from with a header rule", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\"; header = \"X\";\n from = \"body\"; } ); } ); } );\n",
	    5, "steps.s.extract.v.from: applies to regex only");
	/*
	 * Stacked or multiplied repetitions would make regcomp() take
	 * gigabytes ("a" and 100 '+' is 2^100 copies); they are refused
	 * before it runs, naming the key.
	 */
#define PLUS100 \
	"++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++" \
	"++++++++++++++++++++++++++++++++++++"
	bad("stacked repetitions", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\";\n regex = \"value=(a" PLUS100
	    ")\"; } ); } ); } );\n", 5,
	    "steps.s.extract.v.regex: bad regex \"value=(a" PLUS100 ")\": "
	    "'+' at offset 9 repeats a repetition");
	bad("an interval on a repetition", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { body = \"x*{2}\"; }; } );\n", 3,
	    "'{2}' at offset 2 repeats a repetition");
	bad("nested counts that multiply", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { body = \"((a?){100}){100}\"; }; } );\n", 3,
	    "targets.a.expect.body: bad regex \"((a?){100}){100}\": compiles to "
	    "more than 2048 nodes");
	bad("one count too large", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { body = \"[0-9]{1,32767}\"; }; } );\n", 3,
	    "compiles to more than 2048 nodes");
	bad("groups nested too deep", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { body = \"((((((((((((((((((((((((((((((((((((((((("
	    "((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))))))))"
	    ")))))))))))))))))))))))))\"; }; } );\n", 3,
	    "groups nest more than 64 deep");
	cf = good("repetitions in groups, brackets and escapes", WORK
	    "transactions = ( { name = \"t\"; steps = (\n"
	    "  { name = \"s\"; url = \"http://h/\";\n"
	    "    extract = ( { var = \"v\";\n regex = \"(x[a-z]+)+[]+*]+\\\\+"
	    "[[:digit:]+]*.{0,1000}\"; } ); } ); } );\n");
	conf_free(cf);
	bad("bad expect body regex", WORK
	    "targets = ( { name = \"a\"; url = \"http://h/\";\n"
	    " expect = { body = \"(\"; }; } );\n", 3, "targets.a.expect.body: bad regex");

	/* control */
	bad("world-writable mode", WORK TARGET "control = { mode = \"0666\"; };\n", 3,
	    "control.mode: \"0666\" is world-writable");
	bad("mode not octal", WORK TARGET "control = { mode = \"0689\"; };\n", 3,
	    "control.mode: \"0689\" is not an octal mode");
	bad("mode as an integer", WORK TARGET "control = { mode = 660; };\n", 3,
	    "control.mode: expected a string of octal digits");

	/* shard, in the file and in the environment */
	bad("shard index not below count",
	    "workload = { rate = 1.0;\n shard = \"4/4\"; };\n" TARGET, 2,
	    "workload.shard: \"4/4\" is not \"i/K\"");
	bad("shard garbage", "workload = { rate = 1.0;\n shard = \"x\"; };\n" TARGET,
	    2, "workload.shard:");
	setenv("ARRIVALD_SHARD", "2/2", 1);
	bad("bad ARRIVALD_SHARD", WORK TARGET, 0, "ARRIVALD_SHARD: \"2/2\"");
	setenv("ARRIVALD_SHARD", "1/3", 1);
	cf = good("ARRIVALD_SHARD=1/3", "workload = { rate = 1.0; shard = \"0/2\"; };\n"
	    TARGET);
	ok(cf != NULL && cf->shard_index == 1 && cf->shard_count == 3,
	    "ARRIVALD_SHARD overrides workload.shard");
	conf_free(cf);
	unsetenv("ARRIVALD_SHARD");

	/* profile */
	bad("missing profile file", WORK TARGET "profile = { file = \"none.csv\"; };\n",
	    3, "profile.file: ");
	bad("missing profile file names it", WORK TARGET
	    "profile = { file = \"none.csv\"; };\n", 3, "none.csv: cannot read");
	put("bad-profile.csv", "0,1\n10,-2\n");
	bad("bad profile names its own line", WORK TARGET
	    "profile = {\n file = \"bad-profile.csv\"; };\n", 4,
	    "bad-profile.csv:2: rate must be >= 0");
	put("p.csv", "0,1\n10,2\n");
	bad("profile loop conflicts with end", WORK TARGET
	    "profile = { file = \"p.csv\"; loop = true;\n end = \"stop\"; };\n", 3,
	    "profile.loop: true conflicts with profile.end = \"stop\"");
	bad("profile zero speed", WORK TARGET
	    "profile = { file = \"p.csv\";\n speed = 0; };\n", 4,
	    "profile.speed: must be > 0");
	bad("profile without file", WORK TARGET "profile = { speed = 2.0; };\n", 3,
	    "profile.file: required");
	put("zero-first.csv", "0,0\n10,40\n20,0\n");
	cf = good("open model, a profile and no rate",
	    "workload = { model = \"open\"; };\n" TARGET
	    "profile = { file = \"zero-first.csv\"; scale = 0.5; };\n");
	ok(cf != NULL && feq(cf->rate, 20) && cf->profile.n == 3,
	    "the rate defaults to the profile's first non-zero rate, scaled");
	conf_free(cf);
	put("zeros.csv", "0,0\n10,0\n");
	bad("open model, an all-zero profile and no rate",
	    "workload = { model = \"open\"; };\n" TARGET
	    "profile = { file = \"zeros.csv\"; };\n", 1,
	    "workload.rate: required for the open model (the profile's rates are all 0)");
	cf = good("profile with end = hold", WORK TARGET
	    "profile = { file = \"p.csv\"; end = \"hold\"; };\n");
	ok(cf != NULL && cf->profile_end == RATEFN_HOLD && cf->profile.n == 2 &&
	    cf->profile.end == RATEFN_HOLD, "profile.end = hold");
	conf_free(cf);

	/* several mistakes, all reported */
	cf = load("workload = { rate = -1.0;\n window = 0.0; };\n"
	    "targets = ( { name = \"a\";\n url = \"gopher://h/\"; } );\n", &errs);
	ok(cf == NULL && has_error(errs, path, 1, "workload.rate") &&
	    has_error(errs, path, 2, "workload.window") &&
	    has_error(errs, path, 4, "targets.a.url"),
	    "three mistakes give three errors");
	conf_free(cf);
	free(errs);
}

static void
collect(void *arg, const char *name, size_t len)
{
	char *s = arg;

	strncat(s, name, len);
	strcat(s, "|");
}

static void
test_template(void)
{
	char names[256] = "";

	ok(conf_template_vars("http://h/${a}/x${b_2}?q=${a}", collect, names) == 3 &&
	    strcmp(names, "a|b_2|a|") == 0, "template vars found in order");
	ok(conf_template_vars("no vars, $ alone, {braces}", collect, names) == 0,
	    "no vars");
	ok(conf_template_vars("x=${", NULL, NULL) == -1, "\"${\" unterminated");
	ok(conf_template_vars("x=${}", NULL, NULL) == -1, "\"${}\" empty");
	ok(conf_template_vars("x=${a b}", NULL, NULL) == -1, "\"${a b}\" bad name");
}

static void
test_example(void)
{
	struct conf *cf;
	char p[512], *errs = NULL;

	snprintf(p, sizeof p, "%s/etc/arrivald.conf", srcdir);
	cf = conf_load(p, &errs);
	ok(cf != NULL && errs == NULL, "etc/arrivald.conf loads");
	if (cf == NULL)
		diag("got: %s", errs);
	ok(cf != NULL && cf->model == MODEL_OPEN && feq(cf->rate, 150) &&
	    cf->arrivals == ARRIVALS_POISSON && cf->ntransactions >= 1 &&
	    strncmp(cf->transactions[0].steps[0].url, "http://127.0.0.1:", 17) == 0,
	    "the example is 150/s Poisson against loopback");
	conf_free(cf);
	free(errs);
}

int
main(void)
{
	if ((srcdir = getenv("top_srcdir")) == NULL)
		srcdir = ".";
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/t.conf", dir);
	unsetenv("ARRIVALD_SHARD");

	test_full();
	test_keys_used();
	test_defaults();
	test_closed();
	test_metrics();
	test_errors();
	test_template();
	test_example();

	{
		char cmd[256];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}
