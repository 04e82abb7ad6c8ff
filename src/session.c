/*
 * session.c: what a scripted transaction remembers between its steps.
 *
 * A session is one transaction execution (open model) or one user's
 * whole life (closed model).  It owns:
 *   - variables: ${name} values, from a feed row or from extract rules;
 *     a later value of the same name replaces the earlier one;
 *   - the feeds it has taken a row from, so a user keeps its row (its
 *     identity: user name, password) across its transactions;
 *   - a cookie jar, as Netscape-format lines.  Easy handles are pooled and
 *     shared by every session, so the jar lives here, not in the handle:
 *     session_prepare() empties the handle's cookie engine and loads this
 *     session's lines, session_check() copies the engine's lines back.
 *
 * Invariants: a session belongs to one thread at a time (the engine runs
 * a transaction's steps on one worker), so it needs no lock.  The feeds'
 * `next` counters and the compiled-regex cache are shared by all
 * workers: the first is advanced atomically, the second is under a mutex
 * behind a per-thread memo.
 * Nothing here trusts a response: any body, header or cookie may be
 * missing, huge, or hold NULs and CR/LF, and is checked before use.
 * A NULL session is valid for steps with no variables (plain targets);
 * it sends no cookies and keeps none.
 */
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "arrivald.h"

/* the random stream a session draws feed rows from, apart from arrivals' */
#define SESSION_STREAM 0x5e5510e5ULL

struct var {
	char *name;
	char *value;
};

struct session {
	struct rng rng;
	int nvars;
	struct var *vars;
	int nfeeds;
	const struct feed **feeds; /* compared, never dereferenced after begin */
	int ncookies;
	char **cookies;            /* Netscape cookie-file lines, owned */
};

struct session *
session_new(uint64_t seed)
{
	struct session *s;

	s = xcalloc(1, sizeof *s);
	rng_seed(&s->rng, seed, SESSION_STREAM);
	return s;
}

static void
cookies_clear(struct session *s)
{
	int i;

	for (i = 0; i < s->ncookies; i++)
		free(s->cookies[i]);
	free(s->cookies);
	s->cookies = NULL;
	s->ncookies = 0;
}

void
session_free(struct session *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nvars; i++) {
		free(s->vars[i].name);
		free(s->vars[i].value);
	}
	free(s->vars);
	free(s->feeds);
	cookies_clear(s);
	free(s);
}

static struct var *
var_find(const struct session *s, const char *name, size_t len)
{
	int i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nvars; i++) {
		if (strncmp(s->vars[i].name, name, len) == 0 &&
		    s->vars[i].name[len] == '\0')
			return &s->vars[i];
	}
	return NULL;
}

static void
var_set(struct session *s, const char *name, const char *value, size_t vlen)
{
	struct var *v;

	if ((v = var_find(s, name, strlen(name))) != NULL) {
		free(v->value);
		v->value = xstrndup(value, vlen);
		return;
	}
	s->vars = xreallocarray(s->vars, s->nvars + 1, sizeof *s->vars);
	v = &s->vars[s->nvars++];
	v->name = xstrdup(name);
	v->value = xstrndup(value, vlen);
}

void
session_begin(struct session *s, const struct transaction *txn)
{
	struct feed *f;
	uint64_t row;
	int i;

	if (s == NULL || (f = txn->feed) == NULL || f->nrows <= 0)
		return;
	for (i = 0; i < s->nfeeds; i++) {
		if (s->feeds[i] == f)
			return;
	}
	if (f->order == FEED_RANDOM)
		row = rng_below(&s->rng, (uint64_t)f->nrows);
	else
		row = __atomic_fetch_add(&f->next, 1, __ATOMIC_RELAXED) %
		    (uint64_t)f->nrows;
	for (i = 0; i < f->ncols; i++) {
		const char *cell = f->cells[row * (uint64_t)f->ncols + i];

		var_set(s, f->cols[i], cell, strlen(cell));
	}
	s->feeds = xreallocarray(s->feeds, s->nfeeds + 1, sizeof *s->feeds);
	s->feeds[s->nfeeds++] = f;
}

/* A growing string; the few appends a request needs. */
struct buf {
	char *p;
	size_t len, size;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->size);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * How a substituted value goes into its place.  URLs get the bytes that
 * can never stand raw in a URL percent-encoded (a feed's "Ann Lee" must
 * not break the request line); header values must not carry CR or LF,
 * or a value from a response could add headers of its own.
 */
enum subst_ctx { SUBST_RAW, SUBST_URL, SUBST_HEADER };

static int
put_value(struct buf *b, const char *v, enum subst_ctx ctx)
{
	const unsigned char *u;
	char hex[4];

	switch (ctx) {
	case SUBST_RAW:
		buf_add(b, v, strlen(v));
		return 0;
	case SUBST_HEADER:
		if (strpbrk(v, "\r\n") != NULL)
			return -1;
		buf_add(b, v, strlen(v));
		return 0;
	case SUBST_URL:
		for (u = (const unsigned char *)v; *u != '\0'; u++) {
			if (*u <= 0x20 || *u >= 0x7f) {
				snprintf(hex, sizeof hex, "%%%02X", *u);
				buf_add(b, hex, 3);
			} else
				buf_add(b, (const char *)u, 1);
		}
		return 0;
	}
	return -1;
}

/*
 * Expand every ${name} in tmpl.  conf.c has checked that each name is
 * supplied by the feed or by an earlier step, but a step may run before
 * the one that extracts (a user's first transaction, or an earlier step
 * that failed), so a missing value is an ordinary run-time failure.
 * A "${" with no closing brace is copied as it stands.
 */
static char *
subst(const struct session *s, const struct step *st, const char *tmpl,
    enum subst_ctx ctx, char **why)
{
	struct buf b = { NULL, 0, 0 };
	const char *p = tmpl, *open, *close;
	struct var *v;

	buf_add(&b, "", 0);
	while ((open = strstr(p, "${")) != NULL &&
	    (close = strchr(open + 2, '}')) != NULL) {
		buf_add(&b, p, open - p);
		v = var_find(s, open + 2, close - open - 2);
		if (v == NULL) {
			xasprintf(why, "step \"%s\": variable ${%.*s} has no value",
			    st->name, (int)(close - open - 2), open + 2);
			free(b.p);
			return NULL;
		}
		if (put_value(&b, v->value, ctx) != 0) {
			xasprintf(why, "step \"%s\": variable ${%.*s} holds a "
			    "line break and cannot go into a header", st->name,
			    (int)(close - open - 2), open + 2);
			free(b.p);
			return NULL;
		}
		p = close + 1;
	}
	buf_add(&b, p, strlen(p));
	return b.p;
}

/* name=value&name=value, both halves urlencoded after substitution */
static char *
form_body(const struct session *s, const struct step *st, void *easy,
    char **why)
{
	struct buf b = { NULL, 0, 0 };
	char *pair, *eq, *name, *value;
	int i;

	buf_add(&b, "", 0);
	for (i = 0; i < st->nform; i++) {
		if ((pair = subst(s, st, st->form[i], SUBST_RAW, why)) == NULL) {
			free(b.p);
			return NULL;
		}
		if ((eq = strchr(pair, '=')) != NULL)
			*eq++ = '\0';
		name = curl_easy_escape(easy, pair, 0);
		value = curl_easy_escape(easy, eq != NULL ? eq : "", 0);
		if (name == NULL || value == NULL)
			fatal("curl_easy_escape: out of memory");
		if (i > 0)
			buf_add(&b, "&", 1);
		buf_add(&b, name, strlen(name));
		if (eq != NULL) {
			buf_add(&b, "=", 1);
			buf_add(&b, value, strlen(value));
		}
		curl_free(name);
		curl_free(value);
		free(pair);
	}
	return b.p;
}

static int
has_header(const struct step *st, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < st->nheaders; i++) {
		if (strncasecmp(st->headers[i], name, n) == 0 &&
		    st->headers[i][n] == ':')
			return 1;
	}
	return 0;
}

static struct curl_slist *
slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(l, line)) == NULL)
		fatal("curl_slist_append: out of memory");
	return n;
}

/*
 * The handle comes from a pool and still holds whatever the last user
 * set, so every option a step can touch is set here, to a value or back
 * to its default.  The method options interact: CURLOPT_NOBODY 0 first
 * (it can turn a HEAD back into a GET), then the method's own options.
 */
static void
set_method(void *easy, const char *method, const char *body)
{
	int is_get = strcmp(method, "GET") == 0;
	int is_head = strcmp(method, "HEAD") == 0;
	int is_post = strcmp(method, "POST") == 0;

	curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	if (body != NULL || is_post) {
		if (body == NULL)
			body = "";
		/* COPYPOSTFIELDS copies POSTFIELDSIZE bytes if a past
		 * user set it: give this body's length first. */
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
		curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body);
		if (!is_post)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	} else if (is_head) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
		if (!is_get)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	}
}

int
session_prepare(struct session *s, const struct step *st, void *easy,
    struct curl_slist **hdrs, char **why)
{
	struct curl_slist *list = NULL;
	const char *method = st->method != NULL ? st->method : "GET";
	char *url = NULL, *body = NULL, *line;
	int i;

	*hdrs = NULL;
	*why = NULL;
	if ((url = subst(s, st, st->url, SUBST_URL, why)) == NULL)
		goto fail;
	for (i = 0; i < st->nheaders; i++) {
		if ((line = subst(s, st, st->headers[i], SUBST_HEADER,
		    why)) == NULL)
			goto fail;
		list = slist_add(list, line);
		free(line);
	}
	if (st->nform > 0) {
		if ((body = form_body(s, st, easy, why)) == NULL)
			goto fail;
		if (!has_header(st, "Content-Type"))
			list = slist_add(list,
			    "Content-Type: application/x-www-form-urlencoded");
	} else if (st->body != NULL) {
		if ((body = subst(s, st, st->body, SUBST_RAW, why)) == NULL)
			goto fail;
	}
	/* a body over 1 KiB would otherwise wait for "100 Continue",
	 * adding a round trip (or a second) to what we measure */
	if (body != NULL && !has_header(st, "Expect"))
		list = slist_add(list, "Expect:");

	curl_easy_setopt(easy, CURLOPT_URL, url);
	set_method(easy, method, body);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

	/* This handle's last user may have been another session: its
	 * cookies go, whether or not this one keeps any. */
	curl_easy_setopt(easy, CURLOPT_COOKIELIST, "ALL");
	if (s != NULL) {
		curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");
		for (i = 0; i < s->ncookies; i++)
			curl_easy_setopt(easy, CURLOPT_COOKIELIST, s->cookies[i]);
	}

	free(url);
	free(body);
	*hdrs = list;
	return 0;

fail:
	curl_slist_free_all(list);
	free(url);
	free(body);
	return -1;
}

/*
 * Compiled regexes, keyed by pattern text and flags.  The text, not the
 * pointer, is the key: after a reload a new pattern may live at a freed
 * one's address.  glibc's regexec locks the compiled pattern itself, so
 * one regex_t may be shared by every worker.  The table only grows, by
 * the number of distinct patterns ever configured.
 *
 * Patterns come only from the configuration, whose regex_check() (conf.c)
 * has bounded what each one compiles to.
 *
 * Each thread keeps a small direct-mapped memo of pattern pointer to
 * entry, so the common case takes no lock: a hit is still checked against
 * the text (a reload may reuse the address), and entries of an older
 * generation (before session_fini() emptied the table) are ignored.
 */
struct rx {
	char *pattern;
	int cflags;
	int error;       /* regcomp's, 0 if compiled */
	regex_t re;
};
static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rx **rx_table;
static int rx_count;
static unsigned rx_generation = 1;

#define RX_MEMO 16
static __thread struct {
	const char *key;
	unsigned generation;
	struct rx *rx;
} rx_memo[RX_MEMO];

static struct rx *
rx_get(const char *pattern, int cflags)
{
	size_t slot = ((uintptr_t)pattern >> 4) % RX_MEMO;
	struct rx *r;
	unsigned gen;
	int i;

	gen = __atomic_load_n(&rx_generation, __ATOMIC_ACQUIRE);
	if (rx_memo[slot].key == pattern && rx_memo[slot].generation == gen &&
	    (r = rx_memo[slot].rx)->cflags == cflags &&
	    strcmp(r->pattern, pattern) == 0)
		return r;

	pthread_mutex_lock(&rx_lock);
	for (i = 0; i < rx_count; i++) {
		r = rx_table[i];
		if (r->cflags == cflags && strcmp(r->pattern, pattern) == 0)
			goto out;
	}
	r = xcalloc(1, sizeof *r);
	r->pattern = xstrdup(pattern);
	r->cflags = cflags;
	r->error = regcomp(&r->re, pattern, cflags);
	rx_table = xreallocarray(rx_table, rx_count + 1, sizeof *rx_table);
	rx_table[rx_count++] = r;
out:
	gen = rx_generation;
	pthread_mutex_unlock(&rx_lock);
	rx_memo[slot].key = pattern;
	rx_memo[slot].generation = gen;
	rx_memo[slot].rx = r;
	return r;
}

/* Empties the regex table; no session may be checking while it runs. */
void
session_fini(void)
{
	int i;

	pthread_mutex_lock(&rx_lock);
	for (i = 0; i < rx_count; i++) {
		if (rx_table[i]->error == 0)
			regfree(&rx_table[i]->re);
		free(rx_table[i]->pattern);
		free(rx_table[i]);
	}
	free(rx_table);
	rx_table = NULL;
	rx_count = 0;
	__atomic_add_fetch(&rx_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&rx_lock);
}

/*
 * Match over text[0..len) with REG_STARTEND, so a body needs neither a
 * terminating NUL nor a copy.  1 on a match (group 1, or the whole match
 * if the pattern has no group, in so and eo), 0 on none, -1 if the pattern
 * does not compile.
 */
static int
rx_match(const char *pattern, int cflags, const char *text, size_t len,
    regoff_t *so, regoff_t *eo)
{
	struct rx *r = rx_get(pattern, cflags);
	regmatch_t m[2];

	if (r->error != 0)
		return -1;
	if (text == NULL)
		text = "";
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	if (regexec(&r->re, text, 2, m, REG_STARTEND) != 0)
		return 0;
	if (m[1].rm_so >= 0) {
		*so = m[1].rm_so;
		*eo = m[1].rm_eo;
	} else {
		*so = m[0].rm_so;
		*eo = m[0].rm_eo;
	}
	return 1;
}

/* &amp; &lt; &gt; &quot; &#39; &#NN; &#xNN; in an attribute value */
static char *
html_unescape(const char *p, size_t n)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	char *out = xmalloc(n + 1), *o = out, *end;
	const char *q, *lim = p + n;
	unsigned long cp;
	size_t i, el;

	for (q = p; q < lim; q++) {
		if (*q != '&') {
			*o++ = *q;
			continue;
		}
		for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
			el = strlen(ents[i].name);
			if ((size_t)(lim - q - 1) >= el &&
			    strncmp(q + 1, ents[i].name, el) == 0)
				break;
		}
		if (i < sizeof ents / sizeof ents[0]) {
			*o++ = ents[i].c;
			q += el;
			continue;
		}
		if (lim - q > 3 && q[1] == '#') {
			char tmp[16];
			size_t tl = 0;
			const char *d = q + 2;

			while (d < lim && *d != ';' && tl < sizeof tmp - 1)
				tmp[tl++] = *d++;
			tmp[tl] = '\0';
			if (d < lim && *d == ';' && tl > 0) {
				if (tmp[0] == 'x' || tmp[0] == 'X')
					cp = strtoul(tmp + 1, &end, 16);
				else
					cp = strtoul(tmp, &end, 10);
				if (*end == '\0' && cp > 0 && cp < 0x80) {
					*o++ = (char)cp;
					q = d;
					continue;
				}
			}
		}
		*o++ = '&';
	}
	*o = '\0';
	return out;
}

/*
 * One attribute of a tag at *pp: name, and value (quoted either way,
 * bare, or absent).  Returns 0 at the end of the tag.
 */
static int
next_attr(const char **pp, const char *lim, const char **name, size_t *nlen,
    const char **val, size_t *vlen)
{
	const char *p = *pp;
	char q;

	while (p < lim && (isspace((unsigned char)*p) || *p == '/'))
		p++;
	if (p >= lim || *p == '>')
		return 0;
	*name = p;
	while (p < lim && !isspace((unsigned char)*p) && *p != '=' &&
	    *p != '>' && *p != '/')
		p++;
	*nlen = p - *name;
	if (*nlen == 0) { /* a stray byte: step over it */
		*pp = p + 1;
		*val = NULL;
		return 1;
	}
	while (p < lim && isspace((unsigned char)*p))
		p++;
	*val = NULL;
	*vlen = 0;
	if (p < lim && *p == '=') {
		p++;
		while (p < lim && isspace((unsigned char)*p))
			p++;
		if (p < lim && (*p == '"' || *p == '\'')) {
			q = *p++;
			*val = p;
			while (p < lim && *p != q)
				p++;
			*vlen = p - *val;
			if (p < lim)
				p++;
		} else {
			*val = p;
			while (p < lim && !isspace((unsigned char)*p) &&
			    *p != '>')
				p++;
			*vlen = p - *val;
		}
	}
	*pp = p;
	return 1;
}

/* the value of <input ... name="field" ... value="..."> */
static char *
form_field(const char *body, size_t blen, const char *field)
{
	const char *p = body, *lim = body + blen, *name, *val, *fval;
	size_t nlen, vlen, flen = strlen(field), fvlen = 0;
	int named, valued;

	if (body == NULL)
		return NULL;
	while ((p = memmem(p, lim - p, "<", 1)) != NULL) {
		p++;
		if (lim - p < 6 || strncasecmp(p, "input", 5) != 0 ||
		    !(isspace((unsigned char)p[5]) || p[5] == '/' || p[5] == '>'))
			continue;
		p += 5;
		named = valued = 0;
		fval = NULL;
		while (next_attr(&p, lim, &name, &nlen, &val, &vlen)) {
			if (val == NULL)
				continue;
			if (nlen == 4 && strncasecmp(name, "name", 4) == 0)
				named = vlen == flen && memcmp(val, field, flen) == 0;
			else if (nlen == 5 && strncasecmp(name, "value", 5) == 0) {
				valued = 1;
				fval = val;
				fvlen = vlen;
			}
		}
		if (named)
			return valued ? html_unescape(fval, fvlen) : xstrdup("");
	}
	return NULL;
}

/*
 * The value of the last "name: value" line in the raw headers: with
 * redirects followed, or a "100 Continue" first, the final response's
 * headers come last.
 */
static char *
header_value(const char *hdrs, size_t hlen, const char *name)
{
	const char *p = hdrs, *lim = hdrs + hlen, *eol, *v, *ve;
	size_t n = strlen(name);
	char *found = NULL;

	if (hdrs == NULL)
		return NULL;
	for (; p < lim; p = eol + 1) {
		if ((eol = memchr(p, '\n', lim - p)) == NULL)
			eol = lim;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			v = p + n + 1;
			ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			free(found);
			found = xstrndup(v, ve - v);
		}
		if (eol == lim)
			break;
	}
	return found;
}

/* keep the handle's cookies as this session's jar */
static void
cookies_store(struct session *s, void *easy)
{
	struct curl_slist *list = NULL, *l;
	int n = 0;

	if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list) != CURLE_OK)
		return;
	cookies_clear(s);
	for (l = list; l != NULL; l = l->next)
		n++;
	if (n > 0) {
		s->cookies = xcalloc(n, sizeof *s->cookies);
		for (l = list; l != NULL; l = l->next)
			s->cookies[s->ncookies++] = xstrdup(l->data);
	}
	curl_slist_free_all(list);
}

static int
status_listed(const struct step *st, long status)
{
	int i;

	for (i = 0; i < st->nstatus; i++) {
		if (st->status[i] == status)
			return 1;
	}
	return 0;
}

static int
extract_one(struct session *s, const struct step *st, const struct extract *x,
    const char *body, size_t blen, const char *hdrs, size_t hlen, char **why)
{
	const char *text;
	size_t len;
	regoff_t so, eo;
	char *v = NULL;
	int r;

	switch (x->kind) {
	case EXTRACT_REGEX:
		text = x->from_header ? hdrs : body;
		len = x->from_header ? hlen : blen;
		r = rx_match(x->pattern, REG_EXTENDED, text, len, &so, &eo);
		if (r < 0) {
			xasprintf(why, "step \"%s\": extract ${%s}: regex "
			    "\"%s\" does not compile", st->name, x->var,
			    x->pattern);
			return FAIL_EXTRACT;
		}
		if (r > 0)
			v = xstrndup(text + so, eo - so);
		break;
	case EXTRACT_FORM_FIELD:
		v = form_field(body, blen, x->pattern);
		break;
	case EXTRACT_HEADER:
		v = header_value(hdrs, hlen, x->pattern);
		break;
	}
	if (v == NULL) {
		if (x->kind == EXTRACT_REGEX)
			xasprintf(why, "step \"%s\": extract ${%s}: regex \"%s\" "
			    "does not match the response %s", st->name, x->var,
			    x->pattern, x->from_header ? "headers" : "body");
		else
			xasprintf(why, "step \"%s\": extract ${%s}: %s \"%s\" "
			    "not in the response", st->name, x->var,
			    x->kind == EXTRACT_FORM_FIELD ? "form field" :
			    "header", x->pattern);
		return FAIL_EXTRACT;
	}
	if (s != NULL)
		var_set(s, x->var, v, strlen(v));
	free(v);
	return -1;
}

/*
 * The status is judged before the extract rules: an error page lacks the
 * fields a step extracts, and "login answered 403" says more than
 * "csrf not found".  A step with a status list accepts exactly those;
 * without one, anything under 400 passes.
 */
int
session_check(struct session *s, const struct step *st, void *easy,
    long status, const char *body, size_t blen, const char *hdrs, size_t hlen,
    char **why)
{
	regoff_t so, eo;
	int i, r;

	*why = NULL;
	if (s != NULL && easy != NULL)
		cookies_store(s, easy);

	if (st->nstatus > 0) {
		if (!status_listed(st, status)) {
			xasprintf(why, "step \"%s\": status %ld not expected",
			    st->name, status);
			return FAIL_EXPECT;
		}
	} else if (status >= 500) {
		xasprintf(why, "step \"%s\": status %ld", st->name, status);
		return FAIL_HTTP_5XX;
	} else if (status >= 400) {
		xasprintf(why, "step \"%s\": status %ld", st->name, status);
		return FAIL_HTTP_4XX;
	}

	for (i = 0; i < st->nextract; i++) {
		r = extract_one(s, st, &st->extract[i], body, blen, hdrs, hlen,
		    why);
		if (r >= 0)
			return r;
	}

	if (st->expect_body != NULL) {
		r = rx_match(st->expect_body, REG_EXTENDED, body,
		    blen, &so, &eo);
		if (r <= 0) {
			xasprintf(why, "step \"%s\": body %s \"%s\"", st->name,
			    r < 0 ? "regex does not compile:" :
			    "does not match", st->expect_body);
			return FAIL_EXPECT;
		}
	}
	return -1;
}

int
session_wants_body(const struct step *st)
{
	int i;

	if (st->expect_body != NULL)
		return 1;
	for (i = 0; i < st->nextract; i++) {
		if (st->extract[i].kind == EXTRACT_FORM_FIELD ||
		    (st->extract[i].kind == EXTRACT_REGEX &&
		    !st->extract[i].from_header))
			return 1;
	}
	return 0;
}

int
session_wants_headers(const struct step *st)
{
	int i;

	for (i = 0; i < st->nextract; i++) {
		if (st->extract[i].kind == EXTRACT_HEADER ||
		    (st->extract[i].kind == EXTRACT_REGEX &&
		    st->extract[i].from_header))
			return 1;
	}
	return 0;
}
