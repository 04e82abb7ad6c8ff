/*
 * send-loop.c: the reference bare Poisson sender, for figure 4.
 *
 * One thread, CONNS keep-alive connections opened before the clock
 * starts, and at each instant of a Poisson schedule one plain send() of
 * a fixed GET on an idle connection.  It spins on the clock up to every
 * instant and reads replies only while the next one is over SPIN away;
 * it keeps no statistics but counts.  Nothing a generator can do in one
 * thread places a request closer to its instant, so the gaps a target
 * sees from it show the host's own floor: two instants closer than one
 * send() cannot be two sends that close.  A request due when no
 * connection is idle is counted as skipped.
 *
 *   send-loop -H 127.0.0.1 -p PORT -r RATE -d SECONDS [-c CONNS] [-s SEED]
 *             [-i FILE]
 *
 * -i writes the schedule's instants to FILE afterwards, one a line, in
 * nanoseconds from the start: the gaps as intended, whatever the host
 * did to the sends (tests/send-loop.sh).
 *
 * Output: one line of JSON on stdout, for bench/run to read.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX 4096
#define SPIN_NS 5000
#define BUF 8192

struct conn {
	int fd;
	int busy;
	size_t have;        /* bytes of the reply read so far */
	char buf[BUF];
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: a uniform in (0, 1) */
static uint64_t rng;
static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((rng * 2685821657736338717ULL) >> 11) * 0x1.0p-53 + 0x1.0p-54;
}

static void
die(const char *what)
{
	fprintf(stderr, "send-loop: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* the length of the complete reply at the front of c->buf, or 0 */
static size_t
reply_len(struct conn *c)
{
	char *end, *p;
	size_t head;
	long body = 0;

	c->buf[c->have] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	for (p = c->buf; p < end && (p = strstr(p, "\r\n")) != NULL && p < end;) {
		p += 2;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			body = strtol(p + 15, NULL, 10);
	}
	return c->have >= head + (size_t)body ? head + (size_t)body : 0;
}

/* read what the connection has; returns the replies completed */
static int
drain(struct conn *c)
{
	ssize_t n;
	size_t len;
	int done = 0;

	for (;;) {
		n = recv(c->fd, c->buf + c->have, BUF - 1 - c->have, 0);
		if (n == 0) {
			fprintf(stderr, "send-loop: the target closed a connection\n");
			exit(1);
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return done;
			die("recv");
		}
		c->have += (size_t)n;
		while ((len = reply_len(c)) > 0) {
			memmove(c->buf, c->buf + len, c->have - len);
			c->have -= len;
			c->busy = 0;
			done++;
		}
		if (c->have == BUF - 1) {
			fprintf(stderr, "send-loop: a reply over %d bytes\n", BUF - 1);
			exit(1);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *ifile = NULL;
	int64_t *plan = NULL;
	size_t nplan = 0, cap = 0;
	FILE *f;
	int port = 0, nconns = 64, opt, ep, one = 1, i, n, next_idle = 0;
	double rate = 0, secs = 0;
	uint64_t sent = 0, completed = 0, skipped = 0;
	int64_t start, end, due, now;
	struct sockaddr_in sa;
	struct epoll_event ev, evs[64];
	struct conn *c;
	char req[256];
	int reqlen;

	rng = 42;
	while ((opt = getopt(argc, argv, "H:p:r:d:c:s:i:")) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
		case 'i': ifile = optarg; break;
		default: goto usage;
		}
	}
	if (port <= 0 || port > 65535 || !(rate > 0) || !(secs > 0) ||
	    nconns < 1 || nconns > CONNS_MAX) {
usage:
		fprintf(stderr, "usage: send-loop -H HOST -p PORT -r RATE -d SECONDS "
		    "[-c CONNS 1-%d] [-s SEED] [-i FILE]\n", CONNS_MAX);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "send-loop: %s: not an IPv4 address\n", host);
		return 2;
	}
	reqlen = snprintf(req, sizeof req,
	    "GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: send-loop\r\n\r\n",
	    host, port);

	if ((c = calloc((size_t)nconns, sizeof *c)) == NULL)
		die("calloc");
	if (ifile != NULL) {
		/* room for the whole run, so that nothing is allocated in it */
		cap = (size_t)(rate * secs * 1.1) + 1000;
		if ((plan = malloc(cap * sizeof *plan)) == NULL)
			die("malloc");
	}
	if ((ep = epoll_create1(0)) == -1)
		die("epoll_create1");
	for (i = 0; i < nconns; i++) {
		if ((c[i].fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("socket");
		setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(c[i].fd, (struct sockaddr *)&sa, sizeof sa) == -1)
			die("connect");
		fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) == -1)
			die("epoll_ctl");
	}

	start = now_ns();
	end = start + (int64_t)(secs * 1e9);
	due = start + (int64_t)(-log(uniform()) / rate * 1e9);
	while (due < end) {
		now = now_ns();
		if (due - now > SPIN_NS) {
			n = epoll_wait(ep, evs, 64, 0);
			for (i = 0; i < n; i++)
				completed += (uint64_t)drain(&c[evs[i].data.u32]);
			continue;
		}
		while (now_ns() < due)
			;
		if (plan != NULL && nplan < cap)
			plan[nplan++] = due - start;
		/* the next idle connection, round robin */
		for (i = 0; i < nconns && c[next_idle].busy; i++)
			next_idle = (next_idle + 1) % nconns;
		if (c[next_idle].busy) {
			skipped++;
		} else {
			if (send(c[next_idle].fd, req, (size_t)reqlen, 0) != reqlen)
				die("send");
			c[next_idle].busy = 1;
			next_idle = (next_idle + 1) % nconns;
			sent++;
		}
		due += (int64_t)(-log(uniform()) / rate * 1e9);
	}
	/* collect the replies still out, for a second at most */
	end = now_ns() + 1000000000;
	while (completed < sent && now_ns() < end) {
		n = epoll_wait(ep, evs, 64, 10);
		for (i = 0; i < n; i++)
			completed += (uint64_t)drain(&c[evs[i].data.u32]);
	}
	if (ifile != NULL) {
		if ((f = fopen(ifile, "w")) == NULL)
			die(ifile);
		for (size_t k = 0; k < nplan; k++)
			fprintf(f, "%lld\n", (long long)plan[k]);
		if (fclose(f) != 0)
			die(ifile);
	}
	for (i = 0; i < nconns; i++)
		close(c[i].fd);
	close(ep);
	free(c);
	free(plan);
	printf("{\"rate\": %.3f, \"sent\": %llu, \"completed\": %llu, "
	    "\"skipped\": %llu, \"conns\": %d}\n", (double)sent / secs,
	    (unsigned long long)sent, (unsigned long long)completed,
	    (unsigned long long)skipped, nconns);
	return 0;
}
