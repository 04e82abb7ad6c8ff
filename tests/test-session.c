/*
 * test-session.c: session.c's variables, feeds, cookie jars, and extract
 * and expect rules.  The module is included, so a test can read a
 * session's variables directly; requests go to a one-connection-at-a-time
 * HTTP responder on a loopback port, which keeps the last request it read
 * so a test can see exactly what session_prepare() made libcurl send.
 */
#include "../src/session.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

/* --- the responder ------------------------------------------------ */

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static char srv_request[65536];   /* the last request read, as text */
static const char *srv_reply;     /* what to answer with */
static int srv_fd;
static int srv_port;

static void *
srv_main(void *arg)
{
	char buf[65536];
	size_t len;
	ssize_t n;
	char *end, *cl;
	size_t want;
	int c;

	for (;;) {
		if ((c = accept(srv_fd, NULL, NULL)) < 0)
			return NULL;
		len = 0;
		want = (size_t)-1;
		while (len < sizeof buf - 1 && len < want) {
			if ((n = read(c, buf + len, sizeof buf - 1 - len)) <= 0)
				break;
			len += n;
			buf[len] = '\0';
			if (want == (size_t)-1 &&
			    (end = strstr(buf, "\r\n\r\n")) != NULL) {
				want = end + 4 - buf;
				if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL &&
				    cl < end)
					want += strtoul(cl + 17, NULL, 10);
			}
		}
		pthread_mutex_lock(&srv_lock);
		memcpy(srv_request, buf, len);
		srv_request[len] = '\0';
		n = write(c, srv_reply, strlen(srv_reply));
		pthread_mutex_unlock(&srv_lock);
		close(c);
	}
}

static void
srv_start(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	pthread_t t;

	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv_fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(srv_fd, 8) != 0 ||
	    getsockname(srv_fd, (struct sockaddr *)&sin, &sl) != 0)
		fatal("responder: cannot listen on loopback");
	srv_port = ntohs(sin.sin_port);
	pthread_create(&t, NULL, srv_main, NULL);
	pthread_detach(t);
}

static const char reply_plain[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

static char reply_cookie[256];

/* what a transfer brought back */
struct resp {
	struct buf body, hdrs;
	long status;
};

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	buf_add(arg, p, sz * n);
	return sz * n;
}

/* prepare, perform, check: the engine's sequence for one step */
static int
run_step(void *easy, struct session *s, const struct step *st,
    struct resp *r, int *fail, char **why)
{
	struct curl_slist *hdrs;
	CURLcode rc;

	free(r->body.p);
	free(r->hdrs.p);
	memset(r, 0, sizeof *r);
	buf_add(&r->body, "", 0);
	buf_add(&r->hdrs, "", 0);
	srv_request[0] = '\0';
	if (session_prepare(s, st, easy, &hdrs, why) != 0)
		return -1;
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &r->hdrs);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, 5L);
	rc = curl_easy_perform(easy);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		xasprintf(why, "transfer: %s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	*fail = session_check(s, st, easy, r->status, r->body.p, r->body.len,
	    r->hdrs.p, r->hdrs.len, why);
	return 0;
}

static const char *
req(void)
{
	static char copy[sizeof srv_request];

	pthread_mutex_lock(&srv_lock);
	memcpy(copy, srv_request, sizeof copy);
	pthread_mutex_unlock(&srv_lock);
	return copy;
}

static const char *
req_body(void)
{
	const char *r = req(), *e = strstr(r, "\r\n\r\n");

	return e != NULL ? e + 4 : "";
}

static const char *
var(struct session *s, const char *name)
{
	struct var *v = var_find(s, name, strlen(name));

	return v != NULL ? v->value : NULL;
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* --- fixtures ----------------------------------------------------- */

static struct step
step(const char *name, const char *method, const char *url)
{
	struct step st;

	memset(&st, 0, sizeof st);
	st.name = (char *)name;
	st.method = (char *)method;
	st.url = (char *)url;
	return st;
}

static char *
url(const char *path)
{
	char *u;

	xasprintf(&u, "http://127.0.0.1:%d%s", srv_port, path);
	return u;
}

static struct feed *
feed_make(enum feed_order order, int nrows)
{
	struct feed *f = xcalloc(1, sizeof *f);
	int i;

	f->order = order;
	f->ncols = 2;
	f->cols = xcalloc(2, sizeof *f->cols);
	f->cols[0] = xstrdup("user");
	f->cols[1] = xstrdup("password");
	f->nrows = nrows;
	f->cells = xcalloc(2 * nrows, sizeof *f->cells);
	for (i = 0; i < nrows; i++) {
		xasprintf(&f->cells[2 * i], "u%d", i);
		xasprintf(&f->cells[2 * i + 1], "p%d", i);
	}
	return f;
}

static void
feed_free(struct feed *f)
{
	int i;

	for (i = 0; i < 2 * f->nrows; i++)
		free(f->cells[i]);
	free(f->cells);
	free(f->cols[0]);
	free(f->cols[1]);
	free(f->cols);
	free(f);
}

/* --- tests -------------------------------------------------------- */

static void
test_prepare(void)
{
	struct session *s = session_new(1);
	void *easy = curl_easy_init();
	struct resp r = { { 0 }, { 0 }, 0 };
	struct step st;
	struct curl_slist *hl;
	char *u, *why = NULL, *hdr[2], *form[3];
	int fail = 0, rc;

	srv_reply = reply_plain;
	var_set(s, "user", "ann lee", 7);
	var_set(s, "text", "a b&c=d/é", strlen("a b&c=d/é"));
	var_set(s, "id", "42", 2);

	u = url("/item/${id}?who=${user}");
	st = step("form", "POST", u);
	form[0] = "user=${user}";
	form[1] = "text=${text}";
	form[2] = "fixed=x y";
	st.form = form;
	st.nform = 3;
	hdr[0] = "X-User: ${user}";
	st.headers = hdr;
	st.nheaders = 1;
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && fail == -1, "form POST runs (%s)", why ? why : "");
	ok(strncmp(req(), "POST /item/42?who=ann%20lee HTTP/1.1\r\n", 38) == 0,
	    "URL: ${id} and ${user} substituted, the space escaped");
	ok(strcmp(req_body(), "user=ann%20lee&text=a%20b%26c%3Dd%2F%C3%A9&fixed=x%20y") == 0,
	    "form values urlencoded after substitution: %s", req_body());
	ok(strcasestr(req(), "\r\nContent-Type: application/x-www-form-urlencoded\r\n") != NULL,
	    "form sets its Content-Type");
	ok(strstr(req(), "\r\nX-User: ann lee\r\n") != NULL,
	    "header substituted");

	/* the same handle, next a GET: nothing of the POST may remain */
	free(u);
	u = url("/plain");
	st = step("get", NULL, u);
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && strncmp(req(), "GET /plain HTTP/1.1\r\n", 21) == 0 &&
	    strcasestr(req(), "Content-Length") == NULL &&
	    strcasestr(req(), "X-User") == NULL,
	    "GET after POST on one handle: no body, no old headers");

	st = step("put", "PUT", u);
	st.body = "{\"who\": \"${user}\"}";
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && strncmp(req(), "PUT /plain HTTP/1.1\r\n", 21) == 0 &&
	    strcmp(req_body(), "{\"who\": \"ann lee\"}") == 0,
	    "PUT with a raw body, substituted: %s", req_body());

	st = step("head", "HEAD", u);
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && strncmp(req(), "HEAD /plain HTTP/1.1\r\n", 22) == 0,
	    "HEAD");

	st = step("delete", "DELETE", u);
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && strncmp(req(), "DELETE /plain HTTP/1.1\r\n", 24) == 0 &&
	    strcasestr(req(), "Content-Length") == NULL,
	    "DELETE without a body");

	st = step("post-empty", "POST", u);
	rc = run_step(easy, s, &st, &r, &fail, &why);
	ok(rc == 0 && strncmp(req(), "POST /plain HTTP/1.1\r\n", 22) == 0 &&
	    strcasestr(req(), "Content-Length: 0\r\n") != NULL,
	    "POST with no body sends an empty one");

	/* run-time failures of rendering */
	free(u);
	u = url("/?x=${nosuch}");
	st = step("missing", NULL, u);
	rc = session_prepare(s, &st, easy, &hl, &why);
	ok(rc == -1 && why != NULL && strstr(why, "${nosuch}") != NULL &&
	    strstr(why, "\"missing\"") != NULL,
	    "missing variable: -1, naming it and the step (%s)", why);
	free(why);
	why = NULL;
	ok(session_prepare(NULL, &st, easy, &hl, &why) == -1 && why != NULL, "no session: a variable is missing");
	free(why);
	why = NULL;

	var_set(s, "evil", "x\r\nX-Injected: 1", 16);
	hdr[0] = "X-A: ${evil}";
	st = step("inject", NULL, u);
	st.headers = hdr;
	st.nheaders = 1;
	free(u);
	u = url("/");
	st.url = u;
	rc = session_prepare(s, &st, easy, &hl, &why);
	ok(rc == -1 && why != NULL && strstr(why, "line break") != NULL,
	    "a value with CR/LF is refused in a header (%s)", why);
	free(why);
	why = NULL;

	free(u);
	free(r.body.p);
	free(r.hdrs.p);
	curl_easy_cleanup(easy);
	session_free(s);
}

static void
test_cookies(void)
{
	struct session *a = session_new(1), *b = session_new(2);
	void *easy = curl_easy_init();
	struct resp r = { { 0 }, { 0 }, 0 };
	struct step st;
	char *u = url("/"), *why = NULL;
	int fail;

	st = step("c", NULL, u);
	snprintf(reply_cookie, sizeof reply_cookie, "HTTP/1.1 200 OK\r\n"
	    "Set-Cookie: sid=AAA; Path=/; HttpOnly\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	srv_reply = reply_cookie;
	run_step(easy, a, &st, &r, &fail, &why);
	ok(a->ncookies == 1 && strstr(a->cookies[0], "sid\tAAA") != NULL,
	    "session a keeps the cookie it was given");
	snprintf(reply_cookie, sizeof reply_cookie, "HTTP/1.1 200 OK\r\n"
	    "Set-Cookie: sid=BBB; Path=/\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	run_step(easy, b, &st, &r, &fail, &why);
	ok(strcasestr(req(), "\r\nCookie:") == NULL,
	    "session b on a's handle sends none of a's cookies");
	srv_reply = reply_plain;
	run_step(easy, a, &st, &r, &fail, &why);
	ok(strstr(req(), "\r\nCookie: sid=AAA\r\n") != NULL,
	    "session a, after b, sends its own cookie");
	run_step(easy, b, &st, &r, &fail, &why);
	ok(strstr(req(), "\r\nCookie: sid=BBB\r\n") != NULL,
	    "session b sends its own");
	run_step(easy, NULL, &st, &r, &fail, &why);
	ok(strcasestr(req(), "\r\nCookie:") == NULL,
	    "no session: no cookie leaks from the handle's last user");
	run_step(easy, a, &st, &r, &fail, &why);
	ok(strstr(req(), "\r\nCookie: sid=AAA\r\n") != NULL,
	    "a still has its cookie after a session-less step");

	free(u);
	free(r.body.p);
	free(r.hdrs.p);
	curl_easy_cleanup(easy);
	session_free(a);
	session_free(b);
}

static int
check_body(struct session *s, const struct step *st, long status,
    const char *body, const char *hdrs, char **why)
{
	free(*why);
	*why = NULL;
	return session_check(s, st, NULL, status, body, body ? strlen(body) : 0,
	    hdrs, hdrs ? strlen(hdrs) : 0, why);
}

static void
test_extract(void)
{
	struct session *s = session_new(1);
	struct step st = step("page", NULL, "http://127.0.0.1/");
	struct extract x[1];
	char *why = NULL;
	int rc;
	static const char page[] =
	    "<html><form><input type=\"hidden\" name=\"csrf2\" value=\"wrong\">\n"
	    "<INPUT value='t&amp;k' type=hidden\n name='csrf'/>\n"
	    "<input name=\"uh\" type=\"hidden\" value=\"u-123\">"
	    "<input name=bare value=v1>"
	    "<input name=\"empty\">"
	    "</form></html>";
	static const char hdrs[] =
	    "HTTP/1.1 302 Found\r\nLocation: /first\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nX-Token:  tok-9 \r\ncontent-type: text/html\r\n"
	    "Set-Cookie: sid=s55; Path=/\r\n\r\n";

	st.extract = x;
	st.nextract = 1;
	memset(x, 0, sizeof x);
	x[0].var = "csrf";
	x[0].kind = EXTRACT_FORM_FIELD;
	x[0].pattern = "csrf";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == -1 && streq(var(s, "csrf"), "t&k"),
	    "form_field: value before name, single quotes, entity decoded (%s)",
	    var(s, "csrf"));
	x[0].var = "uh";
	x[0].pattern = "uh";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == -1 && streq(var(s, "uh"), "u-123"),
	    "form_field: name before value, double quotes");
	x[0].var = "bare";
	x[0].pattern = "bare";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == -1 && streq(var(s, "bare"), "v1"), "form_field: unquoted");
	x[0].var = "empty";
	x[0].pattern = "empty";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == -1 && streq(var(s, "empty"), ""),
	    "form_field: an input with no value gives \"\"");
	x[0].var = "missing";
	x[0].pattern = "nosuch";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == FAIL_EXTRACT && why != NULL && strstr(why, "${missing}") &&
	    strstr(why, "\"page\"") && var(s, "missing") == NULL,
	    "form_field absent: FAIL_EXTRACT naming variable and step (%s)", why);
	rc = check_body(s, &st, 200, NULL, NULL, &why);
	ok(rc == FAIL_EXTRACT, "no body at all: FAIL_EXTRACT");
	rc = check_body(s, &st, 200, "<input name=\"nosuch\" value=\"x", NULL,
	    &why);
	ok(rc == -1 && streq(var(s, "missing"), "x"),
	    "a body cut off inside the tag still gives what is there");

	x[0].var = "uh2";
	x[0].kind = EXTRACT_REGEX;
	x[0].pattern = "name=\"uh\" type=\"hidden\" value=\"([^\"]+)\"";
	rc = check_body(s, &st, 200, page, NULL, &why);
	ok(rc == -1 && streq(var(s, "uh2"), "u-123"), "regex over the body");
	rc = check_body(s, &st, 200, "nothing here", NULL, &why);
	ok(rc == FAIL_EXTRACT && strstr(why, "${uh2}"),
	    "regex not matching: FAIL_EXTRACT (%s)", why);
	free(why);
	why = NULL;
	rc = session_check(s, &st, NULL, 200, "a\0name=\"uh\" type=\"hidden\" value=\"zz\"",
	    37, NULL, 0, &why);
	ok(rc == -1 && streq(var(s, "uh2"), "zz"),
	    "regex sees past a NUL in the body");
	x[0].var = "sid";
	x[0].from_header = 1;
	x[0].pattern = "sid=([a-z0-9]+)";
	rc = check_body(s, &st, 200, page, hdrs, &why);
	ok(rc == -1 && streq(var(s, "sid"), "s55"), "regex over the headers");
	rc = check_body(s, &st, 200, "sid=body", "X: y\r\n\r\n", &why);
	ok(rc == FAIL_EXTRACT && strstr(why, "headers") != NULL,
	    "regex over headers ignores the body (%s)", why);
	x[0].from_header = 0;
	x[0].pattern = "([unclosed";
	rc = check_body(s, &st, 200, page, hdrs, &why);
	ok(rc == FAIL_EXTRACT && strstr(why, "compile") != NULL,
	    "a regex that does not compile fails the step, not the process");

	x[0].var = "tok";
	x[0].kind = EXTRACT_HEADER;
	x[0].pattern = "x-token";
	rc = check_body(s, &st, 200, NULL, hdrs, &why);
	ok(rc == -1 && streq(var(s, "tok"), "tok-9"),
	    "header, case-insensitive name, value trimmed");
	x[0].var = "loc";
	x[0].pattern = "Location";
	rc = check_body(s, &st, 200, NULL, hdrs, &why);
	ok(rc == -1 && streq(var(s, "loc"), "/first"), "header: Location");
	x[0].pattern = "X-Absent";
	rc = check_body(s, &st, 200, NULL, hdrs, &why);
	ok(rc == FAIL_EXTRACT && strstr(why, "X-Absent"),
	    "header absent: FAIL_EXTRACT");

	/* a later extract replaces an earlier value */
	x[0].var = "tok";
	x[0].kind = EXTRACT_REGEX;
	x[0].pattern = "id=([0-9]+)";
	rc = check_body(s, &st, 200, "id=7", NULL, &why);
	ok(rc == -1 && streq(var(s, "tok"), "7"), "a new value replaces the old");
	/* without a session, rules are checked but nothing is kept */
	rc = check_body(NULL, &st, 200, "id=8", NULL, &why);
	ok(rc == -1, "extract with no session checks the rule");
	rc = check_body(NULL, &st, 200, "none", NULL, &why);
	ok(rc == FAIL_EXTRACT, "... and fails it");

	free(why);
	session_free(s);
}

static void
test_expect(void)
{
	struct step st = step("post", "POST", "http://127.0.0.1/");
	int codes[2] = { 200, 302 };
	char *why = NULL;
	int rc;

	ok(check_body(NULL, &st, 200, "x", NULL, &why) == -1, "200: ok");
	ok(check_body(NULL, &st, 302, "x", NULL, &why) == -1, "302: ok");
	rc = check_body(NULL, &st, 404, "x", NULL, &why);
	ok(rc == FAIL_HTTP_4XX && why && strstr(why, "404"),
	    "404 with no expect: FAIL_HTTP_4XX (%s)", why);
	rc = check_body(NULL, &st, 503, "x", NULL, &why);
	ok(rc == FAIL_HTTP_5XX && why && strstr(why, "503"),
	    "503 with no expect: FAIL_HTTP_5XX");

	st.status = codes;
	st.nstatus = 2;
	ok(check_body(NULL, &st, 302, "x", NULL, &why) == -1,
	    "expect status [200, 302]: 302 passes");
	rc = check_body(NULL, &st, 403, "x", NULL, &why);
	ok(rc == FAIL_EXPECT && why && strstr(why, "403") && strstr(why, "\"post\""),
	    "expect status: 403 is FAIL_EXPECT naming status and step (%s)", why);
	rc = check_body(NULL, &st, 201, "x", NULL, &why);
	ok(rc == FAIL_EXPECT, "expect status: 201 not listed");
	codes[1] = 500;
	ok(check_body(NULL, &st, 500, "x", NULL, &why) == -1,
	    "a listed 500 is accepted");

	st.nstatus = 0;
	st.expect_body = "^ok$";
	ok(check_body(NULL, &st, 200, "ok", NULL, &why) == -1,
	    "expect body matches");
	rc = check_body(NULL, &st, 200, "denied", NULL, &why);
	ok(rc == FAIL_EXPECT && why && strstr(why, "^ok$"),
	    "expect body not matching: FAIL_EXPECT (%s)", why);
	rc = check_body(NULL, &st, 200, NULL, NULL, &why);
	ok(rc == FAIL_EXPECT, "expect body on an empty response");
	rc = check_body(NULL, &st, 500, "ok", NULL, &why);
	ok(rc == FAIL_HTTP_5XX, "body rule only: a 500 is still FAIL_HTTP_5XX");

	ok(session_wants_body(&st) && !session_wants_headers(&st),
	    "an expect body needs the body only");
	st.expect_body = NULL;
	ok(!session_wants_body(&st) && !session_wants_headers(&st),
	    "a bare step needs neither");
	free(why);
}

static void
test_wants(void)
{
	struct step st = step("w", NULL, "http://127.0.0.1/");
	struct extract x[2];

	memset(x, 0, sizeof x);
	st.extract = x;
	st.nextract = 1;
	x[0].kind = EXTRACT_HEADER;
	ok(!session_wants_body(&st) && session_wants_headers(&st),
	    "header extract needs headers only");
	x[0].kind = EXTRACT_REGEX;
	x[0].from_header = 1;
	ok(!session_wants_body(&st) && session_wants_headers(&st),
	    "regex over headers needs headers only");
	x[1].kind = EXTRACT_FORM_FIELD;
	st.nextract = 2;
	ok(session_wants_body(&st) && session_wants_headers(&st),
	    "plus a form field: both");
}

#define NTHREADS 4
#define PER_THREAD 3000

static int row_counts[3];

static void *
take_rows(void *arg)
{
	struct transaction *txn = arg;
	struct session *s;
	const char *u;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		s = session_new(i);
		session_begin(s, txn);
		if ((u = var(s, "user")) != NULL && u[1] >= '0' && u[1] <= '2')
			__atomic_fetch_add(&row_counts[u[1] - '0'], 1,
			    __ATOMIC_RELAXED);
		session_free(s);
	}
	return NULL;
}

static void
test_feeds(void)
{
	struct feed *f = feed_make(FEED_SEQUENTIAL, 3);
	struct transaction txn;
	struct session *s[7];
	pthread_t t[NTHREADS];
	char want[8];
	int i, good;

	memset(&txn, 0, sizeof txn);
	txn.name = "t";
	txn.feed = f;
	good = 1;
	for (i = 0; i < 7; i++) {
		s[i] = session_new(9);
		session_begin(s[i], &txn);
		snprintf(want, sizeof want, "u%d", i % 3);
		good &= streq(var(s[i], "user"), want);
	}
	ok(good, "sequential: rows in order, wrapping after the last");
	ok(streq(var(s[4], "password"), "p1"), "every column of the row is set");
	session_begin(s[0], &txn);
	session_begin(s[0], &txn);
	ok(f->next == 7 && streq(var(s[0], "user"), "u0"),
	    "a session takes its row once and keeps it");
	var_set(s[0], "extra", "kept", 4);
	session_begin(s[0], &txn);
	ok(streq(var(s[0], "extra"), "kept"),
	    "extracted values survive into the next transaction");
	for (i = 0; i < 7; i++)
		session_free(s[i]);
	session_begin(NULL, &txn);
	ok(f->next == 7, "no session: no row taken");

	/* several workers: each row taken exactly as often as the others */
	f->next = 0;
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, take_rows, &txn);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	ok(f->next == NTHREADS * PER_THREAD,
	    "%d threads took %d rows, no increment lost (%llu)", NTHREADS,
	    NTHREADS * PER_THREAD, (unsigned long long)f->next);
	ok(row_counts[0] == NTHREADS * PER_THREAD / 3 &&
	    row_counts[1] == row_counts[0] && row_counts[2] == row_counts[0],
	    "... and each row exactly as often (%d %d %d)", row_counts[0],
	    row_counts[1], row_counts[2]);
	feed_free(f);

	/* random: reproducible from the seed, uniform, leaves next alone */
	{
		enum { ROWS = 5, N = 5000 };
		struct session *a, *b;
		int counts[ROWS] = { 0 }, same = 1, differ = 0, k;
		double chi2 = 0, e = (double)N / ROWS;
		char first[16] = "";

		f = feed_make(FEED_RANDOM, ROWS);
		txn.feed = f;
		for (i = 0; i < N; i++) {
			a = session_new(1000 + i);
			b = session_new(1000 + i);
			session_begin(a, &txn);
			session_begin(b, &txn);
			same &= streq(var(a, "user"), var(b, "user"));
			k = atoi(var(a, "user") + 1);
			if (k >= 0 && k < ROWS)
				counts[k]++;
			if (i == 0)
				snprintf(first, sizeof first, "%s", var(a, "user"));
			else if (!streq(first, var(a, "user")))
				differ = 1;
			session_free(a);
			session_free(b);
		}
		for (k = 0; k < ROWS; k++)
			chi2 += (counts[k] - e) * (counts[k] - e) / e;
		ok(same, "random: the same seed takes the same row");
		ok(differ, "random: different seeds take different rows");
		/* chi-square, 4 degrees of freedom: P(X > 18.47) = 0.001 */
		ok(chi2 < 18.47, "random: rows uniform, chi2 = %.2f (4 df)", chi2);
		ok(f->next == 0, "random order leaves the sequential counter alone");
		feed_free(f);
	}

	/* a feed with no rows: nothing taken, no crash */
	f = feed_make(FEED_SEQUENTIAL, 0);
	txn.feed = f;
	s[0] = session_new(1);
	session_begin(s[0], &txn);
	ok(var(s[0], "user") == NULL, "an empty feed gives no values");
	session_free(s[0]);
	feed_free(f);
}

/* several workers extracting through the shared regex cache at once */
static struct step rx_step;
static struct extract rx_x[2];

static void *
rx_worker(void *arg)
{
	struct session *s = session_new(3);
	char body[64], want[16], *why = NULL;
	intptr_t good = 1;
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(want, sizeof want, "%d-%d", (int)(intptr_t)arg, i);
		snprintf(body, sizeof body, "<input name=\"f\" value=\"%s\"> id=%s;",
		    want, want);
		good &= session_check(s, &rx_step, NULL, 200, body, strlen(body),
		    NULL, 0, &why) == -1;
		good &= streq(var(s, "a"), want) && streq(var(s, "b"), want);
		free(why);
		why = NULL;
	}
	session_free(s);
	return (void *)good;
}

static void
test_regex_cache(void)
{
	pthread_t t[NTHREADS];
	void *res;
	int i, good = 1, before;
	char pattern[32], *why = NULL;

	rx_step = step("rx", NULL, "http://127.0.0.1/");
	rx_step.extract = rx_x;
	rx_step.nextract = 2;
	rx_step.expect_body = "id=[0-9]+-[0-9]+;$";
	rx_x[0].var = "a";
	rx_x[0].kind = EXTRACT_FORM_FIELD;
	rx_x[0].pattern = "f";
	rx_x[1].var = "b";
	rx_x[1].kind = EXTRACT_REGEX;
	rx_x[1].pattern = "id=([0-9-]+);";
	before = rx_count;
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, rx_worker, (void *)(intptr_t)i);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &res);
		good &= res != NULL;
	}
	ok(good, "%d threads x 2000 checks through the shared regexes",
	    NTHREADS);
	ok(rx_count == before + 2, "each pattern compiled once (%d new)",
	    rx_count - before);

	/* the same address, new text: a reloaded config's pattern */
	snprintf(pattern, sizeof pattern, "x=([a-z]+)");
	rx_x[1].pattern = pattern;
	rx_step.nextract = 2;
	rx_step.expect_body = NULL;
	ok(check_body(NULL, &rx_step, 200, "<input name=f value=1> x=abc", NULL,
	    &why) == -1, "a pattern at an address compiles");
	snprintf(pattern, sizeof pattern, "y=([a-z]+)");
	ok(check_body(NULL, &rx_step, 200, "<input name=f value=1> x=abc", NULL,
	    &why) == FAIL_EXTRACT,
	    "new text at the same address is not matched with the old regex");
	session_fini();
	ok(rx_count == 0, "session_fini empties the cache");
	ok(check_body(NULL, &rx_step, 200, "<input name=f value=1> y=abc", NULL,
	    &why) == -1 && rx_count == 1,
	    "and it fills again after (no stale per-thread memo)");
	free(why);
}

int
main(void)
{
	log_init(0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv_start();
	test_prepare();
	test_cookies();
	test_extract();
	test_expect();
	test_wants();
	test_feeds();
	test_regex_cache();
	session_fini();
	curl_global_cleanup();
	return done_testing();
}
