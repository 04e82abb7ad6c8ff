/*
 * conf.c: the configuration file, and the only file that touches
 * libconfig.  conf_load() reads the file, checks every key against the
 * list it accepts, every value against its type and range, and turns the
 * tree into a struct conf that owns all of its strings; libconfig's tree
 * is gone before it returns, so no other module can grow a dependency on
 * it.  Feed CSVs and the rate profile are read here too, at load time,
 * so that a config that passes `arrivald -t` cannot fail later on a
 * missing file.
 *
 * Errors are collected rather than stopping at the first, one line each,
 * "FILE:LINE: message", where the message starts with the key it is about
 * (e.g. "workload.rate: must be > 0, got -3").  A conf is returned only
 * when there were none.  Invariants of a returned conf:
 *   - rate > 0, finite; closed model: users >= 1 and think > 0;
 *   - 1 <= workers <= 256, 0 <= shard_index < shard_count;
 *   - ntransactions >= 1, weights >= 0 summing to 1;
 *   - every step has a method, an http(s) url and a timeout > 0, and every
 *     ${var} it uses is a column of its transaction's feed or the var of an
 *     extract rule of an earlier step;
 *   - extract and expect regexes compile with REG_EXTENDED to at most
 *     RX_SIZE_MAX nodes, an extract regex has exactly one group.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrivald.h"

#define MAX_WORKERS 256

const char *const conf_keys[] = {
	"workload.model",
	"workload.arrivals",
	"workload.rate",
	"workload.users",
	"workload.think",
	"workload.autoscale",
	"workload.tolerance",
	"workload.max_users",
	"workload.max_in_flight",
	"workload.backlog",
	"workload.duration",
	"workload.window",
	"workload.seed",
	"workload.workers",
	"workload.shard",
	"workload.keepalive",
	"workload.timeout",
	"workload.connect_timeout",
	"workload.drain",
	"workload.body_limit",
	"workload.connections",
	"workload.client",
	"profile.file",
	"profile.speed",
	"profile.scale",
	"profile.loop",
	"profile.end",
	"targets.name",
	"targets.url",
	"targets.method",
	"targets.headers",
	"targets.body",
	"targets.form",
	"targets.timeout",
	"targets.weight",
	"targets.expect",
	"targets.expect.status",
	"targets.expect.body",
	"transactions.name",
	"transactions.weight",
	"transactions.feed",
	"transactions.feed.file",
	"transactions.feed.order",
	"transactions.steps",
	"transactions.steps.name",
	"transactions.steps.method",
	"transactions.steps.url",
	"transactions.steps.headers",
	"transactions.steps.body",
	"transactions.steps.form",
	"transactions.steps.extract",
	"transactions.steps.extract.var",
	"transactions.steps.extract.regex",
	"transactions.steps.extract.form_field",
	"transactions.steps.extract.header",
	"transactions.steps.extract.from",
	"transactions.steps.expect",
	"transactions.steps.expect.status",
	"transactions.steps.expect.body",
	"transactions.steps.pause",
	"transactions.steps.timeout",
	"control.socket",
	"control.mode",
	"results.dir",
	"results.interval",
	"metrics.listen",
	NULL
};

/* The keys accepted in each group, for the unknown-key check. */
static const char *const top_keys[] = {
	"workload", "profile", "targets", "transactions", "control", "results",
	"metrics", NULL
};
static const char *const workload_keys[] = {
	"model", "arrivals", "rate", "users", "think", "autoscale", "tolerance",
	"max_users", "max_in_flight", "backlog", "duration", "window", "seed",
	"workers", "shard", "keepalive", "timeout", "connect_timeout", "drain",
	"body_limit", "connections", "client", NULL
};
static const char *const profile_keys[] = {
	"file", "speed", "scale", "loop", "end", NULL
};
static const char *const target_keys[] = {
	"name", "url", "method", "headers", "body", "form", "timeout", "weight",
	"expect", NULL
};
static const char *const transaction_keys[] = {
	"name", "weight", "feed", "steps", NULL
};
static const char *const feed_keys[] = { "file", "order", NULL };
static const char *const step_keys[] = {
	"name", "method", "url", "headers", "body", "form", "extract", "expect",
	"pause", "timeout", NULL
};
static const char *const extract_keys[] = {
	"var", "regex", "form_field", "header", "from", NULL
};
static const char *const expect_keys[] = { "status", "body", NULL };
static const char *const control_keys[] = { "socket", "mode", NULL };
static const char *const results_keys[] = { "dir", "interval", NULL };
static const char *const metrics_keys[] = { "listen", NULL };

/* One load in progress. */
struct ld {
	const char *file;
	char *dir;        /* the config file's directory, for relative paths */
	char **errs;
	int nerr;
};

/* Append one "FILE:LINE: message" line ("FILE: message" without a line). */
static void
errs_add(char **errs, const char *file, int line, const char *msg)
{
	char *old = *errs, *s;

	if (line > 0)
		xasprintf(&s, "%s%s:%d: %s\n", old ? old : "", file, line, msg);
	else
		xasprintf(&s, "%s%s: %s\n", old ? old : "", file, msg);
	free(old);
	*errs = s;
}

static void ARRIVALD_PRINTF(3, 4)
err(struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = NULL;
	int line = 0;
	char *msg;
	va_list ap;

	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory (vasprintf)");
	va_end(ap);
	errs_add(ld->errs, file != NULL ? file : ld->file, line, msg);
	free(msg);
	ld->nerr++;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

/* Every member of g must be one of allowed; pfx names g in messages. */
static void
check_keys(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *const *allowed)
{
	int i, n = config_setting_length(g);
	config_setting_t *m;
	const char *name;

	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(g, i);
		if ((name = config_setting_name(m)) == NULL || in_list(name, allowed))
			continue;
		if (*pfx == '\0')
			err(ld, m, "unknown key %s", name);
		else
			err(ld, m, "unknown key %s.%s", pfx, name);
	}
}

/* A group member of the expected type, or NULL; a wrong type is reported. */
static config_setting_t *
member(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, int type)
{
	config_setting_t *m;
	int t;

	if (g == NULL || (m = config_setting_get_member(g, key)) == NULL)
		return NULL;
	t = config_setting_type(m);
	if (t == type || (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return m;
	if (type == CONFIG_TYPE_LIST && t == CONFIG_TYPE_ARRAY &&
	    config_setting_length(m) == 0)
		return m; /* "()" and "[]" are both an empty list */
	err(ld, m, "%s.%s: expected %s, got %s", pfx, key,
	    type == CONFIG_TYPE_INT ? "an integer" :
	    type == CONFIG_TYPE_FLOAT ? "a number" :
	    type == CONFIG_TYPE_STRING ? "a string" :
	    type == CONFIG_TYPE_BOOL ? "a boolean (true or false)" :
	    type == CONFIG_TYPE_GROUP ? "a group { ... }" :
	    type == CONFIG_TYPE_LIST ? "a list ( ... )" : "an array [ ... ]",
	    type_name(m));
	return NULL;
}

/* A number (an integer is fine where a float is expected); 1 if set. */
static int
get_num(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, double *out)
{
	config_setting_t *m;
	double v;

	if (g == NULL || (m = config_setting_get_member(g, key)) == NULL)
		return 0;
	switch (config_setting_type(m)) {
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(m);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(m);
		break;
	default:
		err(ld, m, "%s.%s: expected a number, got %s", pfx, key,
		    type_name(m));
		return -1;
	}
	if (!isfinite(v)) {
		err(ld, m, "%s.%s: must be a finite number, got %g", pfx, key, v);
		return -1;
	}
	*out = v;
	return 1;
}

static int
get_int(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, long long *out)
{
	config_setting_t *m;

	if ((m = member(ld, g, pfx, key, CONFIG_TYPE_INT)) == NULL)
		return g != NULL && config_setting_get_member(g, key) ? -1 : 0;
	*out = config_setting_get_int64(m);
	return 1;
}

static int
get_bool(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, int *out)
{
	config_setting_t *m;

	if ((m = member(ld, g, pfx, key, CONFIG_TYPE_BOOL)) == NULL)
		return g != NULL && config_setting_get_member(g, key) ? -1 : 0;
	*out = config_setting_get_bool(m) != 0;
	return 1;
}

/* A string, borrowed from libconfig's tree; 1 if set. */
static int
get_str(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, const char **out)
{
	config_setting_t *m;

	if ((m = member(ld, g, pfx, key, CONFIG_TYPE_STRING)) == NULL)
		return g != NULL && config_setting_get_member(g, key) ? -1 : 0;
	*out = config_setting_get_string(m);
	return 1;
}

/* An array (or list) of strings, copied; 1 if set. */
static int
get_strs(struct ld *ld, const config_setting_t *g, const char *pfx,
    const char *key, char ***out, int *nout)
{
	config_setting_t *m, *e;
	int i, n, t;
	char **v;

	if (g == NULL || (m = config_setting_get_member(g, key)) == NULL)
		return 0;
	t = config_setting_type(m);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		err(ld, m, "%s.%s: expected an array of strings [ \"...\" ], got %s",
		    pfx, key, type_name(m));
		return -1;
	}
	n = config_setting_length(m);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(m, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err(ld, m, "%s.%s: expected an array of strings, element %d is %s",
			    pfx, key, i + 1, type_name(e));
			return -1;
		}
	}
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = xstrdup(config_setting_get_string_elem(m, i));
	*out = v;
	*nout = n;
	return 1;
}

/* The setting to blame for a range error on pfx.key: the key, or its group. */
static const config_setting_t *
at(const config_setting_t *g, const char *key)
{
	config_setting_t *m;

	if (g != NULL && (m = config_setting_get_member(g, key)) != NULL)
		return m;
	return g;
}

/* A path from the config file, made relative to the file's directory. */
static char *
resolve(struct ld *ld, const char *path)
{
	char *s;

	if (path[0] == '/' || ld->dir == NULL)
		return xstrdup(path);
	xasprintf(&s, "%s/%s", ld->dir, path);
	return s;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return 0;
	}
	return 1;
}

static int
valid_var(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	}
	return 1;
}

/* An HTTP method is an RFC 9110 token. */
static int
valid_method(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+.^_`|~-", *s) == NULL)
			return 0;
	}
	return 1;
}

int
conf_template_vars(const char *tmpl, void (*cb)(void *, const char *, size_t),
    void *arg)
{
	const char *p = tmpl, *name;
	size_t len;
	int n = 0;

	while ((p = strstr(p, "${")) != NULL) {
		name = p + 2;
		len = strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (len == 0 || name[len] != '}')
			return -1;
		if (cb != NULL)
			cb(arg, name, len);
		n++;
		p = name + len + 1;
	}
	return n;
}

/* ---- feeds: a CSV whose header row names the variables ---- */

/* Split one CSV record in place; fields may be "quoted", "" is a quote. */
static int
csv_split(char *line, char ***out, int *nout)
{
	char **f = NULL, *p = line, *w;
	int n = 0;

	for (;;) {
		f = xreallocarray(f, n + 1, sizeof *f);
		if (*p == '"') {
			w = f[n++] = ++p;
			for (;;) {
				if (*p == '\0') {
					free(f);
					return -1;
				}
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else
					*w++ = *p++;
			}
			if (*p != ',' && *p != '\0') {
				free(f);
				return -1;
			}
			*w = '\0';
		} else {
			f[n++] = p;
			p += strcspn(p, ",");
		}
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	*out = f;
	*nout = n;
	return 0;
}

static void
feed_free(struct feed *fd)
{
	int i;

	if (fd == NULL)
		return;
	for (i = 0; i < fd->ncols; i++)
		free(fd->cols[i]);
	for (i = 0; i < fd->nrows * fd->ncols; i++)
		free(fd->cells[i]);
	free(fd->cols);
	free(fd->cells);
	free(fd->file);
	free(fd);
}

/* Read fd->file; errors are blamed on setting s, naming the CSV's line. */
static int
feed_read(struct ld *ld, const config_setting_t *s, const char *pfx,
    struct feed *fd)
{
	FILE *f;
	char *line = NULL, **fields;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, n, i, j, rc = -1;

	if ((f = fopen(fd->file, "r")) == NULL) {
		err(ld, s, "%s.file: cannot read %s: %s", pfx, fd->file,
		    strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((size_t)len != strlen(line)) {
			err(ld, s, "%s.file: %s:%d: NUL byte in a CSV line", pfx,
			    fd->file, lineno);
			goto out;
		}
		if (csv_split(line, &fields, &n) == -1) {
			err(ld, s, "%s.file: %s:%d: unterminated or misplaced quote",
			    pfx, fd->file, lineno);
			goto out;
		}
		if (fd->cols == NULL) {
			for (i = 0; i < n; i++) {
				if (!valid_var(fields[i], strlen(fields[i]))) {
					err(ld, s, "%s.file: %s:%d: column name \"%s\" is "
					    "not a variable name ([A-Za-z0-9_]+)", pfx,
					    fd->file, lineno, fields[i]);
					free(fields);
					goto out;
				}
				for (j = 0; j < i; j++) {
					if (strcmp(fields[i], fields[j]) == 0) {
						err(ld, s, "%s.file: %s:%d: column \"%s\" "
						    "appears twice", pfx, fd->file, lineno,
						    fields[i]);
						free(fields);
						goto out;
					}
				}
			}
			fd->ncols = n;
			fd->cols = xcalloc(n, sizeof *fd->cols);
			for (i = 0; i < n; i++)
				fd->cols[i] = xstrdup(fields[i]);
		} else if (n != fd->ncols) {
			err(ld, s, "%s.file: %s:%d: row has %d field%s, the header "
			    "has %d", pfx, fd->file, lineno, n, n == 1 ? "" : "s",
			    fd->ncols);
			free(fields);
			goto out;
		} else {
			fd->cells = xreallocarray(fd->cells,
			    (size_t)(fd->nrows + 1) * n, sizeof *fd->cells);
			for (i = 0; i < n; i++)
				fd->cells[fd->nrows * n + i] = xstrdup(fields[i]);
			fd->nrows++;
		}
		free(fields);
	}
	if (ferror(f))
		err(ld, s, "%s.file: cannot read %s: %s", pfx, fd->file,
		    strerror(errno));
	else if (fd->cols == NULL)
		err(ld, s, "%s.file: %s is empty (the first row names the "
		    "columns)", pfx, fd->file);
	else if (fd->nrows == 0)
		err(ld, s, "%s.file: %s:%d: a header row but no data rows", pfx,
		    fd->file, lineno);
	else
		rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

static struct feed *
feed_parse(struct ld *ld, const config_setting_t *g, const char *tpfx)
{
	struct feed *fd;
	const char *file = NULL, *order = "sequential";
	char pfx[256];

	snprintf(pfx, sizeof pfx, "%.200s.feed", tpfx);
	check_keys(ld, g, pfx, feed_keys);
	get_str(ld, g, pfx, "order", &order);
	fd = xcalloc(1, sizeof *fd);
	if (strcmp(order, "sequential") == 0)
		fd->order = FEED_SEQUENTIAL;
	else if (strcmp(order, "random") == 0)
		fd->order = FEED_RANDOM;
	else
		err(ld, at(g, "order"), "%s.order: must be \"sequential\" or "
		    "\"random\", got \"%s\"", pfx, order);
	if (get_str(ld, g, pfx, "file", &file) == 0)
		err(ld, g, "%s.file: required", pfx);
	if (file == NULL || *file == '\0') {
		if (file != NULL)
			err(ld, at(g, "file"), "%s.file: must not be empty", pfx);
		feed_free(fd);
		return NULL;
	}
	fd->file = resolve(ld, file);
	if (feed_read(ld, at(g, "file"), pfx, fd) == -1) {
		feed_free(fd);
		return NULL;
	}
	return fd;
}

/* ---- steps, targets, transactions ---- */

static void
step_free(struct step *st)
{
	int i;

	free(st->name);
	free(st->method);
	free(st->url);
	for (i = 0; i < st->nheaders; i++)
		free(st->headers[i]);
	free(st->headers);
	free(st->body);
	for (i = 0; i < st->nform; i++)
		free(st->form[i]);
	free(st->form);
	for (i = 0; i < st->nextract; i++) {
		free(st->extract[i].var);
		free(st->extract[i].pattern);
	}
	free(st->extract);
	free(st->status);
	free(st->expect_body);
	free(st->h1);
}

/*
 * glibc's regcomp() copies a repeated expression once per count, and
 * again for each repetition stacked on it: "a++++" is 2^4 copies, and
 * "(a?){5000}" already takes 2 GB.  Before regcomp() sees a pattern,
 * rx_size() adds up roughly how many nodes it compiles to: one per atom,
 * group and alternative, a repetition multiplying its operand by its
 * largest count (or smallest plus one, when unbounded).  Memory grows
 * with the square of this at worst; RX_SIZE_MAX keeps that under about
 * 50 MB and 0.2 s ("(()?){511}"), while ".{0,1000}" still fits.  A repetition applied
 * straight to another ("a+*", "x{2}?") is refused outright: POSIX leaves
 * it undefined.  Anything else malformed is left for regcomp() to name.
 */
#define RX_SIZE_MAX	2048
#define RX_DEPTH_MAX	64

static size_t
rx_add(size_t a, size_t b)
{
	return a + b > RX_SIZE_MAX ? RX_SIZE_MAX + 1 : a + b;
}

static size_t
rx_mul(size_t a, size_t b)
{
	return b != 0 && a > (RX_SIZE_MAX + 1) / b ? RX_SIZE_MAX + 1 : a * b;
}

/* Parses "{m}", "{m,}" or "{m,n}" at *p; the end of it, or NULL. */
static const char *
rx_interval(const char *p, size_t *lo, size_t *hi)
{
	size_t *n = lo;

	if (*p++ != '{' || !isdigit((unsigned char)*p))
		return NULL;
	*lo = *hi = 0;
	for (;; p++) {
		if (isdigit((unsigned char)*p))
			*n = rx_add(rx_mul(*n, 10), *p - '0');
		else if (*p == ',' && n == lo) {
			n = hi;
			if (p[1] == '}') {
				*hi = 0; /* unbounded: lo + 1 copies */
				return p + 2;
			}
			if (!isdigit((unsigned char)p[1]))
				return NULL;
		} else if (*p == '}') {
			if (n == lo)
				*hi = *lo;
			return p + 1;
		} else
			return NULL;
	}
}

/* Is re small enough for regcomp()?  If not, a message in *why. */
static int
rx_size(const char *re, char *why, size_t whylen)
{
	struct {
		size_t	sum;	/* finished alternatives and this branch */
		size_t	last;	/* the last atom of this branch, 0 if none */
		int	repeated; /* the last atom carries a repetition */
	} f[RX_DEPTH_MAX + 1];
	const char *p = re, *q;
	size_t lo, hi, size;
	int d = 0;

	memset(&f[0], 0, sizeof f[0]);
	while (*p != '\0') {
		size = 0;
		switch (*p) {
		case '\\':
			if (*++p == '\0')
				return 0; /* regcomp() names it */
			p++;
			size = 1;
			break;
		case '[':
			q = p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q != ']') {
				if (*q == '\0')
					return 0;
				if (*q == '[' && strchr(":=.", q[1]) != NULL &&
				    q[1] != '\0') {
					const char *e = q + 2;

					while (*e != '\0' && !(e[0] == q[1] && e[1] == ']'))
						e++;
					if (*e == '\0')
						return 0;
					q = e + 2;
				} else
					q++;
			}
			p = q + 1;
			size = 1;
			break;
		case '(':
			if (d == RX_DEPTH_MAX) {
				snprintf(why, whylen, "groups nest more than %d deep",
				    RX_DEPTH_MAX);
				return -1;
			}
			memset(&f[++d], 0, sizeof f[d]);
			p++;
			continue;
		case ')':
			p++;
			if (d == 0) {
				size = 1;
				break;
			}
			size = rx_add(f[d].sum, 1);
			d--;
			break;
		case '|':
			f[d].sum = rx_add(f[d].sum, 1);
			f[d].last = 0;
			p++;
			continue;
		case '*':
		case '+':
		case '?':
		case '{':
			if (*p == '{') {
				if ((q = rx_interval(p, &lo, &hi)) == NULL) {
					p++;
					size = 1;
					break;
				}
			} else {
				lo = *p == '+';
				hi = *p == '?';
				q = p + 1;
			}
			if (f[d].last == 0) {
				p = q;
				size = 1;
				break;
			}
			if (f[d].repeated) {
				snprintf(why, whylen, "'%.*s' at offset %zu repeats "
				    "a repetition, which POSIX leaves undefined; "
				    "put the repeated part in ( )", (int)(q - p), p,
				    (size_t)(p - re));
				return -1;
			}
			/* unbounded: lo copies and a starred one */
			size = rx_mul(rx_add(f[d].last, 1), hi != 0 ? hi :
			    rx_add(lo, 1));
			f[d].sum = rx_add(f[d].sum - f[d].last, size);
			f[d].last = size;
			f[d].repeated = 1;
			p = q;
			continue;
		default:
			p++;
			size = 1;
			break;
		}
		f[d].sum = rx_add(f[d].sum, size);
		f[d].last = size;
		f[d].repeated = 0;
	}
	while (d > 0) {
		f[d - 1].sum = rx_add(f[d - 1].sum, f[d].sum);
		d--;
	}
	if (f[0].sum > RX_SIZE_MAX) {
		snprintf(why, whylen, "compiles to more than %d nodes "
		    "(repetition counts multiply); use smaller counts",
		    RX_SIZE_MAX);
		return -1;
	}
	return 0;
}

/* Does re compile?  Its group count in *groups; else a message in *why. */
static int
regex_check(const char *re, size_t *groups, char *why, size_t whylen)
{
	regex_t r;
	int rc;

	if (rx_size(re, why, whylen) == -1)
		return -1;
	if ((rc = regcomp(&r, re, REG_EXTENDED)) != 0) {
		regerror(rc, &r, why, whylen);
		return -1;
	}
	*groups = r.re_nsub;
	regfree(&r);
	return 0;
}

static void
expect_parse(struct ld *ld, const config_setting_t *g, const char *spfx,
    struct step *st)
{
	config_setting_t *s, *e;
	const char *body;
	char pfx[256], why[256];
	size_t groups;
	long long code;
	int i, n;

	snprintf(pfx, sizeof pfx, "%.200s.expect", spfx);
	check_keys(ld, g, pfx, expect_keys);
	if ((s = config_setting_get_member(g, "status")) != NULL) {
		if (config_setting_type(s) == CONFIG_TYPE_INT ||
		    config_setting_type(s) == CONFIG_TYPE_INT64) {
			n = 1; /* status = 200 is taken as [ 200 ] */
			e = s;
		} else if (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
		    config_setting_type(s) == CONFIG_TYPE_LIST) {
			n = config_setting_length(s);
			e = NULL;
		} else {
			err(ld, s, "%s.status: expected an array of status codes, "
			    "got %s", pfx, type_name(s));
			n = 0;
			e = NULL;
		}
		st->status = xcalloc(n, sizeof *st->status);
		for (i = 0; i < n; i++) {
			config_setting_t *c = e != NULL ? e :
			    config_setting_get_elem(s, i);
			if (config_setting_type(c) != CONFIG_TYPE_INT &&
			    config_setting_type(c) != CONFIG_TYPE_INT64) {
				err(ld, s, "%s.status: expected status codes, element "
				    "%d is %s", pfx, i + 1, type_name(c));
				continue;
			}
			code = config_setting_get_int64(c);
			if (code < 100 || code > 599) {
				err(ld, s, "%s.status: %lld is not an HTTP status "
				    "(100..599)", pfx, code);
				continue;
			}
			st->status[st->nstatus++] = (int)code;
		}
	}
	if (get_str(ld, g, pfx, "body", &body) == 1) {
		if (regex_check(body, &groups, why, sizeof why) == -1)
			err(ld, at(g, "body"), "%s.body: bad regex \"%s\": %s", pfx,
			    body, why);
		else
			st->expect_body = xstrdup(body);
	}
}

static void
extract_parse(struct ld *ld, const config_setting_t *g, const char *spfx,
    int idx, struct extract *ex)
{
	const char *var = NULL, *re = NULL, *field = NULL, *hdr = NULL;
	const char *from = NULL;
	char pfx[256], why[256];
	size_t groups;
	int kinds;

	ex->line = config_setting_source_line(g);
	get_str(ld, g, spfx, "var", &var);
	if (var != NULL && valid_var(var, strlen(var)))
		snprintf(pfx, sizeof pfx, "%.120s.extract.%.100s", spfx, var);
	else
		snprintf(pfx, sizeof pfx, "%.200s.extract[%d]", spfx, idx);
	check_keys(ld, g, pfx, extract_keys);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		err(ld, g, "%s: expected a group { var = ...; ... }, got %s", pfx,
		    type_name(g));
		return;
	}
	if (var == NULL && config_setting_get_member(g, "var") == NULL)
		err(ld, g, "%s.var: required", pfx);
	else if (var != NULL && !valid_var(var, strlen(var)))
		err(ld, at(g, "var"), "%s.var: \"%s\" is not a variable name "
		    "([A-Za-z0-9_]+)", pfx, var);
	else if (var != NULL)
		ex->var = xstrdup(var);
	get_str(ld, g, pfx, "regex", &re);
	get_str(ld, g, pfx, "form_field", &field);
	get_str(ld, g, pfx, "header", &hdr);
	kinds = (re != NULL) + (field != NULL) + (hdr != NULL);
	if (kinds != 1) {
		err(ld, g, "%s: needs exactly one of regex, form_field, header "
		    "(has %d)", pfx, kinds);
		return;
	}
	if (get_str(ld, g, pfx, "from", &from) == 1) {
		if (re == NULL)
			err(ld, at(g, "from"), "%s.from: applies to regex only", pfx);
		else if (strcmp(from, "headers") == 0)
			ex->from_header = 1;
		else if (strcmp(from, "body") != 0)
			err(ld, at(g, "from"), "%s.from: must be \"body\" or "
			    "\"headers\", got \"%s\"", pfx, from);
	}
	if (re != NULL) {
		ex->kind = EXTRACT_REGEX;
		if (regex_check(re, &groups, why, sizeof why) == -1)
			err(ld, at(g, "regex"), "%s.regex: bad regex \"%s\": %s",
			    pfx, re, why);
		else if (groups != 1)
			err(ld, at(g, "regex"), "%s.regex: \"%s\" has %zu groups, "
			    "needs exactly one ( ... ) for the value", pfx, re,
			    groups);
		else
			ex->pattern = xstrdup(re);
	} else if (field != NULL) {
		ex->kind = EXTRACT_FORM_FIELD;
		if (*field == '\0')
			err(ld, at(g, "form_field"), "%s.form_field: must not be "
			    "empty", pfx);
		ex->pattern = xstrdup(field);
	} else {
		ex->kind = EXTRACT_HEADER;
		if (*hdr == '\0' || strpbrk(hdr, ": \t\r\n") != NULL)
			err(ld, at(g, "header"), "%s.header: \"%s\" is not a header "
			    "name", pfx, hdr);
		ex->pattern = xstrdup(hdr);
	}
}

/*
 * The request fields a target and a step share.  pfx names the step in
 * messages ("targets.home", "steps.login"); is_step allows extract and
 * pause.
 */
static void
request_parse(struct ld *ld, const config_setting_t *g, const char *pfx,
    struct step *st, const struct conf *cf, int is_step)
{
	config_setting_t *s;
	const char *method = "GET", *url = NULL, *body = NULL;
	int i, n;

	st->line = config_setting_source_line(g);
	st->timeout = cf->timeout;
	if (get_str(ld, g, pfx, "method", &method) == 1 && !valid_method(method))
		err(ld, at(g, "method"), "%s.method: \"%s\" is not an HTTP method",
		    pfx, method);
	st->method = xstrdup(method);

	if (get_str(ld, g, pfx, "url", &url) == 0 &&
	    config_setting_get_member(g, "url") == NULL)
		err(ld, g, "%s.url: required", pfx);
	if (url != NULL) {
		size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 :
		    strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
		if (skip == 0)
			err(ld, at(g, "url"), "%s.url: \"%s\": the scheme must be "
			    "http:// or https://", pfx, url);
		else if (url[skip] == '\0' || url[skip] == '/')
			err(ld, at(g, "url"), "%s.url: \"%s\" has no host", pfx, url);
		else if (strpbrk(url, " \t\r\n") != NULL)
			err(ld, at(g, "url"), "%s.url: \"%s\" contains white space",
			    pfx, url);
		st->url = xstrdup(url);
	}

	if (get_strs(ld, g, pfx, "headers", &st->headers, &st->nheaders) == 1) {
		for (i = 0; i < st->nheaders; i++) {
			const char *h = st->headers[i], *c = strchr(h, ':');
			if (c == NULL || c == h || strcspn(h, " \t") < (size_t)(c - h))
				err(ld, at(g, "headers"), "%s.headers: \"%s\" is not "
				    "\"Name: value\"", pfx, h);
			else if (strpbrk(h, "\r\n") != NULL)
				err(ld, at(g, "headers"), "%s.headers: \"%s\" contains "
				    "a line break", pfx, h);
		}
	}
	if (get_str(ld, g, pfx, "body", &body) == 1)
		st->body = xstrdup(body);
	if (get_strs(ld, g, pfx, "form", &st->form, &st->nform) == 1) {
		for (i = 0; i < st->nform; i++) {
			const char *f = st->form[i];
			if (strchr(f, '=') == NULL || f[0] == '=')
				err(ld, at(g, "form"), "%s.form: \"%s\" is not "
				    "\"name=value\"", pfx, f);
		}
	}
	if (config_setting_get_member(g, "body") != NULL &&
	    config_setting_get_member(g, "form") != NULL)
		err(ld, at(g, "form"), "%s: body and form are mutually exclusive",
		    pfx);

	if (get_num(ld, g, pfx, "timeout", &st->timeout) == 1 &&
	    st->timeout <= 0)
		err(ld, at(g, "timeout"), "%s.timeout: must be > 0, got %g", pfx,
		    st->timeout);

	if ((s = member(ld, g, pfx, "expect", CONFIG_TYPE_GROUP)) != NULL)
		expect_parse(ld, s, pfx, st);

	if (!is_step)
		return;
	if (get_num(ld, g, pfx, "pause", &st->pause) == 1 && st->pause < 0)
		err(ld, at(g, "pause"), "%s.pause: must be >= 0, got %g", pfx,
		    st->pause);
	if ((s = member(ld, g, pfx, "extract", CONFIG_TYPE_LIST)) != NULL) {
		n = config_setting_length(s);
		st->extract = xcalloc(n, sizeof *st->extract);
		st->nextract = n;
		for (i = 0; i < n; i++)
			extract_parse(ld, config_setting_get_elem(s, i), pfx, i,
			    &st->extract[i]);
	}
}

/* Names known to a step: feed columns and earlier steps' extract vars. */
struct known {
	struct ld *ld;
	const config_setting_t *at;
	const char *pfx;
	const struct transaction *tr;
	int upto;         /* steps before this one count */
};

static int
known_var(const struct known *k, const char *name, size_t len)
{
	const struct feed *fd = k->tr->feed;
	const struct step *st;
	int i, j;

	if (fd != NULL) {
		for (i = 0; i < fd->ncols; i++) {
			if (strlen(fd->cols[i]) == len &&
			    memcmp(fd->cols[i], name, len) == 0)
				return 1;
		}
	}
	for (i = 0; i < k->upto; i++) {
		st = &k->tr->steps[i];
		for (j = 0; j < st->nextract; j++) {
			if (st->extract[j].var != NULL &&
			    strlen(st->extract[j].var) == len &&
			    memcmp(st->extract[j].var, name, len) == 0)
				return 1;
		}
	}
	return 0;
}

static void
var_seen(void *arg, const char *name, size_t len)
{
	struct known *k = arg;

	if (!known_var(k, name, len))
		err(k->ld, k->at, "%s: ${%.*s} is not set by a feed column or an "
		    "earlier extract rule", k->pfx, (int)len, name);
}

static void
vars_check_one(struct known *k, const char *key, const char *tmpl)
{
	if (tmpl != NULL && conf_template_vars(tmpl, var_seen, k) == -1)
		err(k->ld, k->at, "%s.%s: \"%s\": \"${\" without a variable name "
		    "([A-Za-z0-9_]+) and a closing \"}\"", k->pfx, key, tmpl);
}

static void
vars_check(struct ld *ld, const config_setting_t *g, const char *pfx,
    const struct transaction *tr, int idx)
{
	const struct step *st = &tr->steps[idx];
	struct known k = { ld, g, pfx, tr, idx };
	int i;

	vars_check_one(&k, "url", st->url);
	for (i = 0; i < st->nheaders; i++)
		vars_check_one(&k, "headers", st->headers[i]);
	vars_check_one(&k, "body", st->body);
	for (i = 0; i < st->nform; i++)
		vars_check_one(&k, "form", st->form[i]);
}

static int
get_weight(struct ld *ld, const config_setting_t *g, const char *pfx,
    double *w)
{
	*w = 1.0;
	if (get_num(ld, g, pfx, "weight", w) == 1 && *w < 0) {
		err(ld, at(g, "weight"), "%s.weight: must be >= 0, got %g", pfx, *w);
		return -1;
	}
	return 0;
}

/* The element's prefix in messages: "targets.NAME", or "targets[i]". */
static void
element_name(struct ld *ld, const config_setting_t *g, const char *list,
    int idx, char **name, char *pfx, size_t pfxlen)
{
	const char *s = NULL;
	char tmp[64];

	*name = NULL;
	snprintf(tmp, sizeof tmp, "%s[%d]", list, idx);
	if (config_setting_type(g) == CONFIG_TYPE_GROUP)
		get_str(ld, g, tmp, "name", &s);
	if (s != NULL && valid_name(s)) {
		snprintf(pfx, pfxlen, "%s.%.100s", list, s);
		*name = xstrdup(s);
		return;
	}
	snprintf(pfx, pfxlen, "%s", tmp);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		err(ld, g, "%s: expected a group { name = ...; ... }, got %s", pfx,
		    type_name(g));
	else if (s != NULL)
		err(ld, at(g, "name"), "%s.name: \"%s\" is not a name "
		    "([A-Za-z0-9_.-]+)", pfx, s);
	else if (config_setting_get_member(g, "name") == NULL)
		err(ld, g, "%s.name: required", pfx);
}

static void
target_parse(struct ld *ld, const config_setting_t *g, int idx,
    struct transaction *tr, const struct conf *cf)
{
	char pfx[256];
	int nerr = ld->nerr;

	element_name(ld, g, "targets", idx, &tr->name, pfx, sizeof pfx);
	tr->line = config_setting_source_line(g);
	tr->nsteps = 1;
	tr->steps = xcalloc(1, sizeof *tr->steps);
	tr->steps[0].name = xstrdup(tr->name != NULL ? tr->name : "");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return;
	check_keys(ld, g, pfx, target_keys);
	get_weight(ld, g, pfx, &tr->weight);
	request_parse(ld, g, pfx, &tr->steps[0], cf, 0);
	if (ld->nerr == nerr)
		vars_check(ld, g, pfx, tr, 0);
}

static void
transaction_parse(struct ld *ld, const config_setting_t *g, int idx,
    struct transaction *tr, const struct conf *cf)
{
	config_setting_t *s, *e;
	char pfx[256], spfx[256];
	int i, j, n, nerr;

	element_name(ld, g, "transactions", idx, &tr->name, pfx, sizeof pfx);
	tr->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return;
	check_keys(ld, g, pfx, transaction_keys);
	get_weight(ld, g, pfx, &tr->weight);
	if ((s = member(ld, g, pfx, "feed", CONFIG_TYPE_GROUP)) != NULL)
		tr->feed = feed_parse(ld, s, pfx);
	nerr = ld->nerr;
	if ((s = member(ld, g, pfx, "steps", CONFIG_TYPE_LIST)) == NULL) {
		if (config_setting_get_member(g, "steps") == NULL)
			err(ld, g, "%s.steps: required, a list of at least one step",
			    pfx);
		return;
	}
	if ((n = config_setting_length(s)) == 0) {
		err(ld, s, "%s.steps: needs at least one step", pfx);
		return;
	}
	tr->steps = xcalloc(n, sizeof *tr->steps);
	tr->nsteps = n;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		element_name(ld, e, "steps", i, &tr->steps[i].name, spfx,
		    sizeof spfx);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			continue;
		check_keys(ld, e, spfx, step_keys);
		request_parse(ld, e, spfx, &tr->steps[i], cf, 1);
		for (j = 0; j < i && tr->steps[i].name != NULL; j++) {
			if (tr->steps[j].name != NULL &&
			    strcmp(tr->steps[i].name, tr->steps[j].name) == 0)
				err(ld, at(e, "name"), "%s.name: \"%s\" is used twice in "
				    "%s (first at line %d)", spfx, tr->steps[i].name,
				    pfx, tr->steps[j].line);
		}
	}
	/* Only when the steps themselves are sound, or the noise drowns it. */
	if (ld->nerr != nerr)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		snprintf(spfx, sizeof spfx, "steps.%.100s", tr->steps[i].name);
		vars_check(ld, e, spfx, tr, i);
	}
}

static void
transaction_free(struct transaction *tr)
{
	int i;

	for (i = 0; i < tr->nsteps; i++)
		step_free(&tr->steps[i]);
	free(tr->steps);
	feed_free(tr->feed);
	free(tr->name);
}

/* ---- the fixed groups ---- */

static int
parse_shard(const char *s, int *idx, int *count)
{
	char *end;
	long i, k;

	errno = 0;
	i = strtol(s, &end, 10);
	if (end == s || *end != '/' || !isdigit((unsigned char)*s))
		return -1;
	s = end + 1;
	if (!isdigit((unsigned char)*s))
		return -1;
	k = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || k < 1 || k > 1000000 || i >= k)
		return -1;
	*idx = (int)i;
	*count = (int)k;
	return 0;
}

/* Returns 1 if workload.rate was given, 0 if not, -1 if it was wrong. */
static int
workload_parse(struct ld *ld, const config_setting_t *g, struct conf *cf)
{
	const char *pfx = "workload", *s;
	long long v;
	int have_rate, have_think, have_users, have_backlog;

	if (g != NULL)
		check_keys(ld, g, pfx, workload_keys);
	if (get_str(ld, g, pfx, "model", &s) == 1) {
		if (strcmp(s, "open") == 0)
			cf->model = MODEL_OPEN;
		else if (strcmp(s, "closed") == 0)
			cf->model = MODEL_CLOSED;
		else
			err(ld, at(g, "model"), "workload.model: must be \"open\" "
			    "or \"closed\", got \"%s\"", s);
	}
	if (get_str(ld, g, pfx, "arrivals", &s) == 1) {
		if (strcmp(s, "poisson") == 0)
			cf->arrivals = ARRIVALS_POISSON;
		else if (strcmp(s, "constant") == 0)
			cf->arrivals = ARRIVALS_CONSTANT;
		else
			err(ld, at(g, "arrivals"), "workload.arrivals: must be "
			    "\"poisson\" or \"constant\", got \"%s\"", s);
	}
	if (get_str(ld, g, pfx, "client", &s) == 1) {
		if (strcmp(s, "auto") == 0)
			cf->client = CLIENT_AUTO;
		else if (strcmp(s, "libcurl") == 0)
			cf->client = CLIENT_LIBCURL;
		else
			err(ld, at(g, "client"), "workload.client: must be "
			    "\"auto\" or \"libcurl\", got \"%s\"", s);
	}
	if ((have_rate = get_num(ld, g, pfx, "rate", &cf->rate)) == 1 &&
	    cf->rate <= 0)
		err(ld, at(g, "rate"), "workload.rate: must be > 0, got %g",
		    cf->rate);
	if ((have_users = get_int(ld, g, pfx, "users", &v)) == 1) {
		if (v < 0)
			err(ld, at(g, "users"), "workload.users: must be >= 0, got "
			    "%lld", v);
		else
			cf->users = (uint64_t)v;
	}
	if ((have_think = get_num(ld, g, pfx, "think", &cf->think)) == 1 &&
	    cf->think <= 0)
		err(ld, at(g, "think"), "workload.think: must be > 0, got %g",
		    cf->think);
	get_bool(ld, g, pfx, "autoscale", &cf->autoscale);
	if (get_num(ld, g, pfx, "tolerance", &cf->tolerance) == 1 &&
	    (cf->tolerance <= 0 || cf->tolerance >= 1))
		err(ld, at(g, "tolerance"), "workload.tolerance: must be in (0, 1), "
		    "got %g", cf->tolerance);
	if (get_int(ld, g, pfx, "max_users", &v) == 1) {
		if (v < 1)
			err(ld, at(g, "max_users"), "workload.max_users: must be "
			    ">= 1, got %lld", v);
		else
			cf->max_users = (uint64_t)v;
	}
	if (get_int(ld, g, pfx, "max_in_flight", &v) == 1) {
		if (v < 1)
			err(ld, at(g, "max_in_flight"), "workload.max_in_flight: "
			    "must be >= 1, got %lld", v);
		else
			cf->max_in_flight = (uint64_t)v;
	}
	cf->backlog = cf->max_in_flight;
	if ((have_backlog = get_int(ld, g, pfx, "backlog", &v)) == 1) {
		if (v < 0)
			err(ld, at(g, "backlog"), "workload.backlog: must be >= 0, "
			    "got %lld", v);
		else
			cf->backlog = (uint64_t)v;
	}
	if (get_num(ld, g, pfx, "duration", &cf->duration) == 1 &&
	    cf->duration < 0)
		err(ld, at(g, "duration"), "workload.duration: must be >= 0 "
		    "(0 = until stopped), got %g", cf->duration);
	if (get_num(ld, g, pfx, "window", &cf->window) == 1 && cf->window <= 0)
		err(ld, at(g, "window"), "workload.window: must be > 0, got %g",
		    cf->window);
	if (get_int(ld, g, pfx, "seed", &v) == 1) {
		if (v < 0)
			err(ld, at(g, "seed"), "workload.seed: must be >= 0 "
			    "(0 = random), got %lld", v);
		else
			cf->seed = (uint64_t)v;
	}
	if (get_int(ld, g, pfx, "workers", &v) == 1) {
		if (v < 0 || v > MAX_WORKERS)
			err(ld, at(g, "workers"), "workload.workers: must be 0..%d "
			    "(0 = one per online core), got %lld", MAX_WORKERS, v);
		else
			cf->workers = (int)v;
	}
	if (get_str(ld, g, pfx, "shard", &s) == 1 &&
	    parse_shard(s, &cf->shard_index, &cf->shard_count) == -1)
		err(ld, at(g, "shard"), "workload.shard: \"%s\" is not \"i/K\" "
		    "with 0 <= i < K", s);
	get_bool(ld, g, pfx, "keepalive", &cf->keepalive);
	if (get_num(ld, g, pfx, "timeout", &cf->timeout) == 1 &&
	    cf->timeout <= 0)
		err(ld, at(g, "timeout"), "workload.timeout: must be > 0, got %g",
		    cf->timeout);
	if (get_num(ld, g, pfx, "connect_timeout", &cf->connect_timeout) == 1 &&
	    cf->connect_timeout <= 0)
		err(ld, at(g, "connect_timeout"), "workload.connect_timeout: must "
		    "be > 0, got %g", cf->connect_timeout);
	if (get_num(ld, g, pfx, "drain", &cf->drain) == 1 && cf->drain < 0)
		err(ld, at(g, "drain"), "workload.drain: must be >= 0, got %g",
		    cf->drain);
	if (get_int(ld, g, pfx, "body_limit", &v) == 1) {
		if (v < 0)
			err(ld, at(g, "body_limit"), "workload.body_limit: must be "
			    ">= 0, got %lld", v);
		else
			cf->body_limit = (uint64_t)v;
	}
	if (get_int(ld, g, pfx, "connections", &v) == 1) {
		if (v < 0 || v > 1000000)
			err(ld, at(g, "connections"), "workload.connections: must be "
			    "0 (no cap) to 1000000, got %lld", v);
		else
			cf->connections = (uint64_t)v;
	}

	/*
	 * The closed model holds N/Z = rate: any two of the three give the
	 * third.  The open model keeps users and think if given, for a later
	 * `set model closed`.
	 */
	if (have_think != 1 && have_rate == 1 && cf->users > 0 && cf->rate > 0)
		cf->think = (double)cf->users / cf->rate;
	if (cf->model == MODEL_CLOSED) {
		if (cf->users == 0 && have_users != -1)
			err(ld, g, "workload.users: the closed model needs users "
			    ">= 1");
		else if (have_think == 0 && have_rate == 0)
			err(ld, g, "workload.think: the closed model needs think "
			    "(or rate, to derive think = users / rate)");
		else if (have_rate == 0 && cf->think > 0)
			cf->rate = (double)cf->users / cf->think;
	}
	/* checked in the open model too: `set model closed` starts from it */
	if (cf->users > cf->max_users)
		err(ld, at(g, "max_users"), "workload.max_users: must be >= "
		    "workload.users (%llu), got %llu",
		    (unsigned long long)cf->users,
		    (unsigned long long)cf->max_users);
	return have_rate;
}

static void
profile_parse(struct ld *ld, const config_setting_t *g, struct conf *cf)
{
	const char *pfx = "profile", *file = NULL, *end = NULL;
	int loop = 0, have_loop, nerr = ld->nerr;
	char *perrs = NULL, *line, *nl;

	check_keys(ld, g, pfx, profile_keys);
	if (get_str(ld, g, pfx, "file", &file) == 0)
		err(ld, g, "profile.file: required in the profile group");
	else if (file != NULL && *file == '\0')
		err(ld, at(g, "file"), "profile.file: must not be empty");
	if (get_num(ld, g, pfx, "speed", &cf->profile_speed) == 1 &&
	    cf->profile_speed <= 0)
		err(ld, at(g, "speed"), "profile.speed: must be > 0, got %g",
		    cf->profile_speed);
	if (get_num(ld, g, pfx, "scale", &cf->profile_scale) == 1 &&
	    cf->profile_scale < 0)
		err(ld, at(g, "scale"), "profile.scale: must be >= 0, got %g",
		    cf->profile_scale);
	have_loop = get_bool(ld, g, pfx, "loop", &loop);
	cf->profile_end = loop ? RATEFN_LOOP : RATEFN_STOP;
	if (get_str(ld, g, pfx, "end", &end) == 1) {
		enum ratefn_end e;
		if (strcmp(end, "stop") == 0)
			e = RATEFN_STOP;
		else if (strcmp(end, "hold") == 0)
			e = RATEFN_HOLD;
		else if (strcmp(end, "loop") == 0)
			e = RATEFN_LOOP;
		else {
			err(ld, at(g, "end"), "profile.end: must be \"stop\", "
			    "\"hold\" or \"loop\", got \"%s\"", end);
			return;
		}
		if (have_loop == 1 && (loop != 0) != (e == RATEFN_LOOP)) {
			err(ld, at(g, "loop"), "profile.loop: %s conflicts with "
			    "profile.end = \"%s\"", loop ? "true" : "false", end);
			return;
		}
		cf->profile_end = e;
	}
	if (file == NULL || *file == '\0' || ld->nerr != nerr)
		return;
	cf->profile_file = resolve(ld, file);
	if (profile_load(cf->profile_file, cf->profile_speed, cf->profile_scale,
	    cf->profile_end, &cf->profile, &perrs) == -1) {
		/* the CSV's own FILE:LINE, behind the setting that named it */
		for (line = perrs; line != NULL && *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl == NULL)
				nl = line + strlen(line) - 1;
			err(ld, at(g, "file"), "profile.file: %.*s",
			    (int)(nl - line + (*nl != '\n')), line);
		}
		if (perrs == NULL)
			err(ld, at(g, "file"), "profile.file: cannot load");
		free(perrs);
	}
}

static void
control_parse(struct ld *ld, const config_setting_t *g, struct conf *cf)
{
	const char *pfx = "control", *s;
	char *end;
	unsigned long mode;

	check_keys(ld, g, pfx, control_keys);
	if (get_str(ld, g, pfx, "socket", &s) == 1) {
		if (*s == '\0')
			err(ld, at(g, "socket"), "control.socket: must not be empty");
		else if (strlen(s) >= 108) /* sizeof sun_path on Linux */
			err(ld, at(g, "socket"), "control.socket: \"%s\" is longer "
			    "than a Unix socket path may be (107 bytes)", s);
		else {
			free(cf->control_socket);
			cf->control_socket = xstrdup(s);
		}
	}
	if (config_setting_get_member(g, "mode") != NULL &&
	    config_setting_type(at(g, "mode")) != CONFIG_TYPE_STRING) {
		err(ld, at(g, "mode"), "control.mode: expected a string of octal "
		    "digits like \"0660\", got %s", type_name(at(g, "mode")));
	} else if (get_str(ld, g, pfx, "mode", &s) == 1) {
		mode = strtoul(s, &end, 8);
		if (*s == '\0' || *end != '\0' || strspn(s, "01234567") != strlen(s)
		    || strlen(s) > 4)
			err(ld, at(g, "mode"), "control.mode: \"%s\" is not an octal "
			    "mode like \"0660\"", s);
		else if (mode > 0777)
			err(ld, at(g, "mode"), "control.mode: \"%s\" has bits beyond "
			    "0777", s);
		else if (mode & 0002)
			err(ld, at(g, "mode"), "control.mode: \"%s\" is world-writable:"
			    " anyone could drive the load", s);
		else
			cf->control_mode = (unsigned)mode;
	}
}

static void
results_parse(struct ld *ld, const config_setting_t *g, struct conf *cf)
{
	const char *pfx = "results", *s;

	check_keys(ld, g, pfx, results_keys);
	if (get_str(ld, g, pfx, "dir", &s) == 1) {
		if (*s == '\0')
			err(ld, at(g, "dir"), "results.dir: must not be empty");
		else {
			free(cf->results_dir);
			cf->results_dir = resolve(ld, s);
		}
	}
	if (get_num(ld, g, pfx, "interval", &cf->results_interval) == 1 &&
	    cf->results_interval <= 0)
		err(ld, at(g, "interval"), "results.interval: must be > 0, got %g",
		    cf->results_interval);
}

static void
metrics_parse(struct ld *ld, const config_setting_t *g, struct conf *cf)
{
	const char *pfx = "metrics", *s, *colon, *port;
	char *end;
	unsigned long p;
	size_t hlen;

	check_keys(ld, g, pfx, metrics_keys);
	if (get_str(ld, g, pfx, "listen", &s) != 1)
		return;
	if ((colon = strrchr(s, ':')) == NULL) {
		port = s;
		hlen = 0;
	} else {
		port = colon + 1;
		hlen = (size_t)(colon - s);
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)*port) || *end != '\0' || errno != 0 ||
	    p < 1 || p > 65535) {
		err(ld, at(g, "listen"), "metrics.listen: \"%s\": the port must be "
		    "1..65535", s);
		return;
	}
	if (colon != NULL && hlen == 0) {
		err(ld, at(g, "listen"), "metrics.listen: \"%s\" has no host "
		    "before the ':'", s);
		return;
	}
	if (colon != NULL && memchr(s, ':', hlen) != NULL &&
	    (s[0] != '[' || s[hlen - 1] != ']')) {
		err(ld, at(g, "listen"), "metrics.listen: \"%s\": write an IPv6 "
		    "address in brackets, like \"[::1]:9464\"", s);
		return;
	}
	if (colon == NULL)
		xasprintf(&cf->metrics_listen, "127.0.0.1:%lu", p);
	else
		cf->metrics_listen = xstrdup(s);
}

/* targets and transactions into cf->transactions, names unique, weights 1. */
static void
work_parse(struct ld *ld, const config_setting_t *root, struct conf *cf)
{
	config_setting_t *tl, *xl;
	struct transaction *a, *b;
	int nt = 0, nx = 0, i, j, n;
	double sum = 0;

	tl = member(ld, root, "", "targets", CONFIG_TYPE_LIST);
	xl = member(ld, root, "", "transactions", CONFIG_TYPE_LIST);
	if (tl != NULL)
		nt = config_setting_length(tl);
	if (xl != NULL)
		nx = config_setting_length(xl);
	n = nt + nx;
	if (n == 0) {
		err(ld, tl != NULL ? tl : xl, "targets: at least one target or "
		    "transaction is required");
		return;
	}
	cf->transactions = xcalloc(n, sizeof *cf->transactions);
	cf->ntransactions = n;
	for (i = 0; i < nt; i++)
		target_parse(ld, config_setting_get_elem(tl, i), i,
		    &cf->transactions[i], cf);
	for (i = 0; i < nx; i++)
		transaction_parse(ld, config_setting_get_elem(xl, i), i,
		    &cf->transactions[nt + i], cf);

	for (i = 0; i < n; i++) {
		a = &cf->transactions[i];
		sum += a->weight;
		for (j = 0; j < i && a->name != NULL; j++) {
			b = &cf->transactions[j];
			if (b->name != NULL && strcmp(a->name, b->name) == 0) {
				err(ld, i < nt ? config_setting_get_elem(tl, i) :
				    config_setting_get_elem(xl, i - nt),
				    "%s.name: \"%s\" is already the name of the %s at "
				    "line %d", i < nt ? "targets" : "transactions",
				    a->name, j < nt ? "target" : "transaction", b->line);
				break;
			}
		}
	}
	if (!(sum > 0)) {
		err(ld, tl != NULL ? tl : xl, "weight: the weights of all targets "
		    "and transactions sum to %g, must be > 0", sum);
		return;
	}
	for (i = 0; i < n; i++)
		cf->transactions[i].weight /= sum;
}

static int
online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

struct conf *
conf_new_defaults(void)
{
	struct conf *cf = xcalloc(1, sizeof *cf);

	cf->model = MODEL_OPEN;
	cf->arrivals = ARRIVALS_POISSON;
	cf->tolerance = 0.01;
	cf->max_users = 1000000;
	cf->max_in_flight = 10000;
	cf->backlog = cf->max_in_flight;
	cf->window = 10.0;
	cf->workers = online_cores();
	cf->shard_index = 0;
	cf->shard_count = 1;
	cf->keepalive = 1;
	cf->timeout = 30.0;
	cf->connect_timeout = 5.0;
	cf->drain = 5.0;
	cf->body_limit = 1048576;
	cf->connections = 256;
	cf->profile_speed = 1.0;
	cf->profile_scale = 1.0;
	cf->profile_end = RATEFN_STOP;
	cf->control_socket = xstrdup(DEFAULT_SOCKET);
	cf->control_mode = 0660;
	cf->results_dir = xstrdup(DEFAULT_RESULTS);
	cf->results_interval = 1.0;
	return cf;
}

struct conf *
conf_load(const char *path, char **errs)
{
	config_t cfg;
	config_setting_t *root, *g, *p;
	struct conf *cf;
	struct ld ld = { path, NULL, errs, 0 };
	int have_rate, i;
	struct stat sb;
	const char *env, *slash;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL ||
	    (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (errno = EISDIR))) {
		char msg[512];
		snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
		if (f != NULL)
			fclose(f);
		errs_add(errs, path, 0, msg);
		return NULL;
	}
	fclose(f);
	if ((slash = strrchr(path, '/')) != NULL)
		ld.dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));

	config_init(&cfg);
	config_set_options(&cfg, 0); /* no auto-conversion: types are checked */
	if (ld.dir != NULL)
		config_set_include_dir(&cfg, ld.dir);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		char msg[512];
		const char *ef = config_error_file(&cfg);
		snprintf(msg, sizeof msg, "%s", config_error_text(&cfg));
		errs_add(errs, ef != NULL ? ef : path, config_error_line(&cfg), msg);
		config_destroy(&cfg);
		free(ld.dir);
		return NULL;
	}

	cf = conf_new_defaults();
	cf->file = xstrdup(path);
	cf->workers = 0;
	root = config_root_setting(&cfg);
	check_keys(&ld, root, "", top_keys);

	/* workload first: the steps take their default timeout from it */
	g = member(&ld, root, "", "workload", CONFIG_TYPE_GROUP);
	have_rate = workload_parse(&ld, g, cf);
	if (cf->workers == 0)
		cf->workers = online_cores();
	if ((env = getenv("ARRIVALD_SHARD")) != NULL &&
	    parse_shard(env, &cf->shard_index, &cf->shard_count) == -1) {
		char msg[512];
		snprintf(msg, sizeof msg, "ARRIVALD_SHARD: \"%.64s\" is not \"i/K\" "
		    "with 0 <= i < K", env);
		errs_add(errs, path, 0, msg);
		ld.nerr++;
	}
	if ((p = member(&ld, root, "", "profile", CONFIG_TYPE_GROUP)) != NULL)
		profile_parse(&ld, p, cf);
	/*
	 * With a profile the open model's rate is the profile's; the fixed
	 * rate is what `set profile off` falls back to, by default the
	 * profile's first non-zero one.
	 */
	if (cf->model == MODEL_OPEN && have_rate == 0) {
		for (i = 0; i < cf->profile.n && cf->rate == 0; i++)
			cf->rate = cf->profile.r[i];
		if (cf->rate == 0 && (p == NULL || cf->profile.n > 0))
			err(&ld, g, "workload.rate: required for the open model%s",
			    p != NULL ? " (the profile's rates are all 0)" : "");
	}
	work_parse(&ld, root, cf);
	if ((g = member(&ld, root, "", "control", CONFIG_TYPE_GROUP)) != NULL)
		control_parse(&ld, g, cf);
	if ((g = member(&ld, root, "", "results", CONFIG_TYPE_GROUP)) != NULL)
		results_parse(&ld, g, cf);
	if ((g = member(&ld, root, "", "metrics", CONFIG_TYPE_GROUP)) != NULL)
		metrics_parse(&ld, g, cf);

	config_destroy(&cfg);
	free(ld.dir);
	if (ld.nerr != 0) {
		conf_free(cf);
		return NULL;
	}
	return cf;
}

void
conf_free(struct conf *cf)
{
	int i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->ntransactions; i++)
		transaction_free(&cf->transactions[i]);
	free(cf->transactions);
	free(cf->file);
	free(cf->profile_file);
	/* ratefn_free() lives elsewhere; the points are ours to free anyway */
	free(cf->profile.t);
	free(cf->profile.r);
	free(cf->control_socket);
	free(cf->results_dir);
	free(cf->metrics_listen);
	free(cf);
}
