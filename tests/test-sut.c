/*
 * test-sut.c: sut.c's in-process API as arrivald --demo uses it: demand
 * parsing, spawn on a free port, truth read from other threads while
 * clients load it, reset, and stop with requests still in the network
 * (some of whose clients have gone), which must free everything.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arrivald.h"
#include "tap.h"

static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_request(int fd, const char *method, const char *path)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof buf, "%s %s HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 0\r\n\r\n", method, path);
	return write(fd, buf, n) == n ? 0 : -1;
}

/* one response: its status, or -1; the body (up to blen) into body */
static int
read_response(int fd, char *body, size_t blen)
{
	char buf[8192], *end, *cl;
	size_t have = 0, want;
	ssize_t n;
	int status;

	for (;;) {
		if (have == sizeof buf - 1)
			return -1;
		if ((n = read(fd, buf + have, sizeof buf - 1 - have)) <= 0)
			return -1;
		have += n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "Content-Length:");
	want = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
	end += 4;
	while ((size_t)(buf + have - end) < want) {
		if (have == sizeof buf - 1)
			return -1;
		if ((n = read(fd, buf + have, sizeof buf - 1 - have)) <= 0)
			return -1;
		have += n;
	}
	if (body != NULL) {
		size_t k = want < blen - 1 ? want : blen - 1;

		memcpy(body, end, k);
		body[k] = '\0';
	}
	return status;
}

static int
get(int port, const char *method, const char *path, char *body, size_t blen)
{
	int fd, status;

	if ((fd = dial(port)) == -1)
		return -1;
	status = send_request(fd, method, path) == 0 ?
	    read_response(fd, body, blen) : -1;
	close(fd);
	return status;
}

static void
nap_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* poll the truth until field == want, at most 5 s */
#define wait_truth(s, field, want) wait_truth_((s), \
	offsetof(struct sut_truth, field), (want))
static int
wait_truth_(struct sut *s, size_t off, uint64_t want)
{
	struct sut_truth t;
	int i;

	for (i = 0; i < 500; i++) {
		sut_truth(s, &t);
		if (*(uint64_t *)((char *)&t + off) == want)
			return 1;
		nap_ms(10);
	}
	return 0;
}

struct client {
	int port, n, ok;
};

static void *
client(void *arg)
{
	struct client *c = arg;
	int fd, i;

	if ((fd = dial(c->port)) == -1)
		return NULL;
	for (i = 0; i < c->n; i++) {
		if (send_request(fd, "GET", "/work") == -1 ||
		    read_response(fd, NULL, 0) != 200)
			break;
		c->ok++;
	}
	close(fd);
	return NULL;
}

static void
test_parse(void)
{
	struct sut_conf c;
	char *err;
	static const char *const bad[] = {
		"", "abc", "1,", ",1", "1,,2", "-1", "1e9", "1x", "nan", "inf",
		"0.1;0.2", "5 ms",
		"1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
	};
	size_t i;
	int rc;

	memset(&c, 0, sizeof c);
	ok(sut_parse_demands("0.005,0.004,0.003", &c, &err) == 0 &&
	    c.nstations == 3 && c.demand[0] == 0.005 && c.demand[2] == 0.003,
	    "demands in seconds");
	ok(sut_parse_demands("5ms,250us,1s,0", &c, &err) == 0 &&
	    c.nstations == 4 && fabs(c.demand[0] - 0.005) < 1e-15 &&
	    fabs(c.demand[1] - 0.00025) < 1e-15 && c.demand[2] == 1 &&
	    c.demand[3] == 0, "demands with units, and a zero demand");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c.nstations = 99;
		rc = sut_parse_demands(bad[i], &c, &err);
		ok(rc == -1 && err != NULL && strstr(err, "demands") != NULL &&
		    c.nstations == 99, "bad demands \"%s\": %s", bad[i],
		    err ? err : "(none)");
		free(err);
	}
}

static void
test_spawn_errors(void)
{
	struct sut_conf c;
	struct sut *s, *s2;
	char *err;

	memset(&c, 0, sizeof c);
	s = sut_spawn("127.0.0.1", 0, &c, &err);
	ok(s == NULL && err != NULL, "no stations: %s", err);
	free(err);
	sut_parse_demands("0.001", &c, &err);
	s = sut_spawn("127.0.0.1", 70000, &c, &err);
	ok(s == NULL && err != NULL, "port out of range: %s", err);
	free(err);
	s = sut_spawn("no such host.invalid", 0, &c, &err);
	ok(s == NULL && err != NULL && strstr(err, "no such host.invalid"),
	    "unresolvable address: %s", err);
	free(err);
	c.log_path = "/nonexistent-dir/sut.log";
	s = sut_spawn("127.0.0.1", 0, &c, &err);
	ok(s == NULL && err != NULL && strstr(err, "/nonexistent-dir/sut.log"),
	    "log not writable: %s", err);
	free(err);
	c.log_path = NULL;

	s = sut_spawn("127.0.0.1", 0, &c, &err);
	ok(s != NULL && sut_port(s) > 0, "spawn on port 0 picks a port");
	if (s == NULL)
		return;
	s2 = sut_spawn("127.0.0.1", sut_port(s), &c, &err);
	ok(s2 == NULL && err != NULL, "the same port twice: %s", err);
	free(err);
	sut_stop(s2);
	sut_stop(s);
}

static void
test_load(void)
{
	struct sut_conf c;
	struct sut_truth t;
	struct sut *s;
	struct client cl[4];
	pthread_t th[4];
	char *err, body[4096];
	int i, port, total = 0, reads = 0;

	memset(&c, 0, sizeof c);
	sut_parse_demands("0.001,0.0005", &c, &err);
	c.deterministic = 1;
	c.seed = 3;
	s = sut_spawn("127.0.0.1", 0, &c, &err);
	ok(s != NULL, "spawn a two-station deterministic network");
	if (s == NULL)
		return;
	port = sut_port(s);

	for (i = 0; i < 4; i++) {
		cl[i].port = port;
		cl[i].n = 50;
		cl[i].ok = 0;
		pthread_create(&th[i], NULL, client, &cl[i]);
	}
	/* truth from this thread while four clients load the server */
	for (i = 0; i < 200; i++) {
		sut_truth(s, &t);
		reads++;
		if (t.completions == 200)
			break;
		nap_ms(5);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += cl[i].ok;
	}
	ok(total == 200, "4 clients x 50 requests all answered 200 (%d)",
	    total);
	sut_truth(s, &t);
	ok(t.arrivals == 200 && t.completions == 200 && t.in_system == 0,
	    "truth counts 200 arrivals and completions (%llu, %llu)",
	    (unsigned long long)t.arrivals, (unsigned long long)t.completions);
	ok(t.nstations == 2, "truth has both stations");
	/* 4 closed clients with no think time: never less than sum D each */
	ok(t.R >= 0.0015 - 1e-9 && t.R <= 4 * 0.0015 + 0.5,
	    "R is at least the sum of the demands (%g)", t.R);
	ok(fabs(t.U[0] * t.elapsed - 200 * 0.001) < 1e-6 &&
	    fabs(t.U[1] * t.elapsed - 200 * 0.0005) < 1e-6,
	    "utilisation law, exactly: U_k elapsed = C D_k");
	ok(fabs(t.Q - t.X * t.R) < 1e-6 * t.Q,
	    "Little's law: Q = X R (%g, %g)", t.Q, t.X * t.R);
	ok(fabs(t.Qk[0] + t.Qk[1] - t.Q) < 1e-9,
	    "station queues add up to Q");
	ok(t.Qk[0] >= t.U[0] - 1e-9 && t.Qk[1] >= t.U[1] - 1e-9,
	    "each station holds at least its utilisation on average");

	ok(get(port, "GET", "/_stats", body, sizeof body) == 200 &&
	    strstr(body, "\"arrivals\": 200") != NULL &&
	    strstr(body, "\"service\": \"det\"") != NULL,
	    "/_stats over HTTP says the same");
	ok(get(port, "DELETE", "/_reset", NULL, 0) == 405,
	    "DELETE /_reset is 405");
	ok(get(port, "GET", "/_", NULL, 0) == 404, "GET /_ is 404");
	ok(get(port, "HEAD", "/x", NULL, 0) == 200, "HEAD of a workload path "
	    "goes through the network");
	sut_truth(s, &t);
	ok(t.arrivals == 201, "control paths are not arrivals, HEAD is");

	sut_reset(s);
	sut_truth(s, &t);
	ok(t.arrivals == 0 && t.completions == 0 && t.Q == 0 &&
	    t.elapsed < 1 && t.err[2] == 0 && t.wrote[2] == 0,
	    "sut_reset zeroes the truth");
	sut_stop(s);
}

/* a deterministic network of the given demands on a free port, or NULL */
static struct sut *
spawn_det(struct sut_conf *c, const char *demands, const char *what)
{
	struct sut *s;
	char *err;

	memset(c, 0, sizeof *c);
	sut_parse_demands(demands, c, &err);
	c->deterministic = 1;
	s = sut_spawn("127.0.0.1", 0, c, &err);
	ok(s != NULL, "spawn %s", what);
	return s;
}

/* a reset while a request is in service counts it from the reset on */
static void
test_reset_in_flight(void)
{
	struct sut_conf c;
	struct sut_truth t;
	struct sut *s;
	int fd, status;

	if ((s = spawn_det(&c, "0.2", "a 0.2 s station")) == NULL)
		return;
	fd = dial(sut_port(s));
	ok(fd != -1 && send_request(fd, "GET", "/slow") == 0 &&
	    wait_truth(s, in_system, 1), "a request in service");
	nap_ms(50);	/* the reset comes at least 50 ms into its service */
	sut_reset(s);
	status = read_response(fd, NULL, 0);
	close(fd);
	sut_truth(s, &t);
	ok(status == 200 && t.arrivals == 0 && t.completions == 1,
	    "after the reset: no arrivals, one completion");
	ok(fabs(t.R - 0.2) < 1e-9, "its response time is whole (%g)", t.R);
	ok(t.Q * t.elapsed <= 0.15 + 1e-9 && t.Q * t.elapsed > 0 &&
	    fabs(t.Q - t.U[0]) < 1e-9,
	    "its time in system counts from the reset only (%g s)",
	    t.Q * t.elapsed);
	sut_stop(s);
}

/* stop with requests in the network, one of them abandoned by its client */
static void
test_stop_busy(void)
{
	struct sut_conf c;
	struct sut *s;
	char *err;
	int a, b, h;

	memset(&c, 0, sizeof c);
	sut_parse_demands("30", &c, &err);
	c.deterministic = 1;
	s = sut_spawn("127.0.0.1", 0, &c, &err);
	ok(s != NULL, "spawn a 30 s station");
	if (s == NULL)
		return;
	a = dial(sut_port(s));
	b = dial(sut_port(s));
	ok(a != -1 && b != -1 && send_request(a, "GET", "/a") == 0 &&
	    send_request(b, "POST", "/b") == 0, "two requests sent");
	ok(wait_truth(s, in_system, 2), "both are in the network");
	close(a);	/* its request is left to the server to free */
	sut_stop(s);
	ok(read_response(b, NULL, 0) == -1, "stop closes the other's "
	    "connection without an answer");
	close(b);

	c.p_hang = 1;
	s = sut_spawn("127.0.0.1", 0, &c, &err);
	h = dial(sut_port(s));
	ok(send_request(h, "GET", "/h") == 0, "a request to hang");
	ok(wait_truth(s, held, 1), "it is held");
	ok(get(sut_port(s), "GET", "/_stats", NULL, 0) == 200,
	    "the server answers /_stats while holding it");
	close(h);
	ok(wait_truth(s, held, 0), "a held request is let go when its client "
	    "leaves");
	h = dial(sut_port(s));
	ok(send_request(h, "GET", "/h") == 0 && wait_truth(s, held, 1),
	    "another one held");
	sut_stop(s);	/* and freed here */
	close(h);
}

/*
 * Clients that leave before their departure: one closes, one resets.
 * The model serves them all the same, the replies' writes find dead
 * connections (evhttp then frees them), and the server goes on.
 */
static void
test_clients_leave(void)
{
	struct sut_conf c;
	struct sut_truth t;
	struct sut *s;
	struct linger lg = { 1, 0 };
	int a, b;

	if ((s = spawn_det(&c, "0.05", "a 50 ms station")) == NULL)
		return;
	a = dial(sut_port(s));
	b = dial(sut_port(s));
	ok(a != -1 && b != -1 && send_request(a, "GET", "/a") == 0 &&
	    send_request(b, "GET", "/b") == 0 && wait_truth(s, in_system, 2),
	    "two requests in the network");
	close(a);
	setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(b);	/* a reset */
	ok(wait_truth(s, completions, 2), "both depart though their clients "
	    "have left");
	ok(get(sut_port(s), "GET", "/c", NULL, 0) == 200,
	    "the server answers the next client");
	sut_truth(s, &t);
	ok(t.arrivals == 3 && t.completions == 3 && t.in_system == 0,
	    "all three counted, none left in the network");
	sut_stop(s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse();
	test_spawn_errors();
	test_load();
	test_reset_in_flight();
	test_stop_busy();
	test_clients_leave();
	return done_testing();
}
