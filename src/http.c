/*
 * http.c: libcurl multi_socket on libevent, one per worker.
 *
 * libcurl tells us which sockets to watch (socket callback) and when to
 * call it back (timer callback); we never call libcurl from inside those
 * callbacks, only from our own event handlers.  An event is re-armed only
 * when the wanted events change, which keeps epoll_ctl off the hot path.
 * Finished transfers are taken off the multi handle, then handed to the
 * engine with the result copied out of the CURLMsg first.
 *
 * The transfers are spread over lanes, each a multi handle of its own
 * with at most LANE_TRANSFERS at once.  libcurl 7.88 walks a multi's
 * connection cache from the front twice per transfer: to find an idle
 * connection (past every busy one) and, in curl_multi_remove_handle, to
 * find the one the transfer last used.  In one multi handle a request
 * therefore cost more the more were outstanding: at 10,000/s with 2,048
 * connections a stall left thousands busy, each request then cost more
 * than the 100 us between arrivals, and the worker never caught up.  A
 * lane bounds both walks.  A transfer goes to the lowest lane with
 * room, so the connections stay in as few lanes as the load needs and
 * are reused as in one multi handle.
 */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "arrivald.h"

#define LANE_TRANSFERS 32

struct lane {
	struct http *h;
	int idx;      /* in h->lanes */
	CURLM *multi;
	struct event *timer;
	int active;   /* transfers on this multi handle */
	int running;
	int kick;     /* has transfers libcurl has not started yet */
};

struct http {
	struct event_base *base;
	struct lane **lanes;
	int nlanes;
	uint64_t *spare;  /* bit i: lane i has room */
	int *kicks;       /* lanes to kick, each once */
	int nkicks;
	long max_host;
	http_done_fn done;
	void *arg;
};

struct sock {
	struct event *ev;
	int what; /* CURL_POLL_* armed */
};

static void check_done(struct lane *);

static void
on_event(evutil_socket_t fd, short events, void *arg)
{
	struct lane *l = arg;
	int action = (events & EV_READ ? CURL_CSELECT_IN : 0) |
	    (events & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(l->multi, fd, action, &l->running);
	check_done(l);
}

static void
on_timer(evutil_socket_t fd, short events, void *arg)
{
	struct lane *l = arg;

	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &l->running);
	check_done(l);
}

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct lane *l = userp;
	struct sock *s = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
		}
		curl_multi_assign(l->multi, fd, NULL);
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		curl_multi_assign(l->multi, fd, s);
	} else if (s->what == what)
		return 0; /* nothing changed: no epoll_ctl */
	else {
		event_free(s->ev);
		s->ev = NULL;
	}
	kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	s->ev = event_new(l->h->base, fd, kind, on_event, l);
	event_add(s->ev, NULL);
	s->what = what;
	return 0;
}

static int
timer_cb(CURLM *multi, long ms, void *userp)
{
	struct lane *l = userp;
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(l->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
	return 0;
}

static void
spare_set(struct http *h, int i, int room)
{
	if (room)
		h->spare[i / 64] |= (uint64_t)1 << (i % 64);
	else
		h->spare[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static void
check_done(struct lane *l)
{
	struct http *h = l->h;
	CURLMsg *msg;
	int left;
	CURL *easy;
	CURLcode res;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		curl_multi_remove_handle(l->multi, easy);
		if (l->active-- == LANE_TRANSFERS)
			spare_set(h, l->idx, 1);
		h->done(h->arg, easy, (int)res);
	}
}

static struct lane *
lane_new(struct http *h)
{
	struct lane *l = xcalloc(1, sizeof *l);
	int i = h->nlanes;

	l->h = h;
	l->idx = i;
	l->multi = curl_multi_init();
	if (l->multi == NULL)
		fatal("curl_multi_init failed");
	l->timer = evtimer_new(h->base, on_timer, l);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 100000L);
	curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->max_host);
	h->lanes = xreallocarray(h->lanes, (size_t)i + 1, sizeof *h->lanes);
	h->kicks = xreallocarray(h->kicks, (size_t)i + 1, sizeof *h->kicks);
	if (i % 64 == 0) {
		h->spare = xreallocarray(h->spare, (size_t)i / 64 + 1, sizeof *h->spare);
		h->spare[i / 64] = 0;
	}
	h->lanes[i] = l;
	h->nlanes = i + 1;
	spare_set(h, i, 1);
	return l;
}

struct http *
http_new(struct event_base *base, http_done_fn done, void *arg)
{
	struct http *h = xcalloc(1, sizeof *h);

	h->base = base;
	h->done = done;
	h->arg = arg;
	lane_new(h);
	return h;
}

/* curl_multi_cleanup first: its socket callback may still fire and needs
 * the event base alive. */
void
http_free(struct http *h)
{
	int i;

	for (i = 0; i < h->nlanes; i++) {
		curl_multi_cleanup(h->lanes[i]->multi);
		event_free(h->lanes[i]->timer);
		free(h->lanes[i]);
	}
	free(h->lanes);
	free(h->spare);
	free(h->kicks);
	free(h);
}

/* The lowest lane with room, a new one when all are full.  A transfer
 * whose host the engine does not cap itself (`curl_caps`: a URL whose host
 * comes from a variable) goes to the first lane, however full.  libcurl's
 * per-host cap (http_set_connections) holds it there; that cap is per
 * multi handle, so spread over lanes it would be one cap per lane. */
int
http_add(struct http *h, void *easy, int curl_caps)
{
	struct lane *l = curl_caps ? h->lanes[0] : NULL;
	int i;

	for (i = 0; l == NULL && i < (h->nlanes + 63) / 64; i++)
		if (h->spare[i] != 0) {
			l = h->lanes[i * 64 + __builtin_ctzll(h->spare[i])];
			break;
		}
	if (l == NULL)
		l = lane_new(h);
	if (curl_multi_add_handle(l->multi, easy) != CURLM_OK)
		return -1;
	if (++l->active == LANE_TRANSFERS)
		spare_set(h, l->idx, 0);
	if (!l->kick) {
		l->kick = 1;
		h->kicks[h->nkicks++] = l->idx;
	}
	return 0;
}

/* 0: no cap; beyond the cap libcurl queues transfers for a free
 * connection, which keeps bursts from opening a connection each */
void
http_set_connections(struct http *h, long max)
{
	int i;

	h->max_host = max;
	for (i = 0; i < h->nlanes; i++)
		curl_multi_setopt(h->lanes[i]->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max);
}

/* At teardown, before http_free: off whichever lane holds it (libcurl
 * refuses the others; one never added is off already).  The lanes' counts
 * are left as they were, as nothing is added after. */
void
http_remove(struct http *h, void *easy)
{
	int i;

	for (i = 0; i < h->nlanes; i++)
		if (curl_multi_remove_handle(h->lanes[i]->multi, easy) == CURLM_OK)
			return;
}

void
http_kick(struct http *h)
{
	struct lane *l;

	while (h->nkicks > 0) {
		l = h->lanes[h->kicks[--h->nkicks]];
		l->kick = 0;
		curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &l->running);
		check_done(l);
	}
}

int
http_fail_reason(int code, long oserr)
{
	if (oserr == EMFILE || oserr == ENFILE)
		return FAIL_FD;
	switch ((CURLcode)code) {
	case CURLE_COULDNT_CONNECT:
		return FAIL_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return FAIL_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return FAIL_DNS;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return FAIL_RESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return FAIL_TLS;
	default:
		return FAIL_OTHER;
	}
}
