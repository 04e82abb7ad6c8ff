/*
 * http.c: libcurl multi_socket on libevent, one per worker.
 *
 * libcurl tells us which sockets to watch (socket callback) and when to
 * call it back (timer callback); we never call libcurl from inside those
 * callbacks, only from our own event handlers.  An event is re-armed only
 * when the wanted events change, which keeps epoll_ctl off the hot path.
 * Finished transfers are taken off the multi handle, then handed to the
 * engine with the result copied out of the CURLMsg first.
 */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "arrivald.h"

struct http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	http_done_fn done;
	void *arg;
	int running;
};

struct sock {
	struct event *ev;
	int what; /* CURL_POLL_* armed */
};

static void check_done(struct http *);

static void
on_event(evutil_socket_t fd, short events, void *arg)
{
	struct http *h = arg;
	int action = (events & EV_READ ? CURL_CSELECT_IN : 0) |
	    (events & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(h->multi, fd, action, &h->running);
	check_done(h);
}

static void
on_timer(evutil_socket_t fd, short events, void *arg)
{
	struct http *h = arg;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
	check_done(h);
}

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct http *h = userp;
	struct sock *s = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
		}
		curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		curl_multi_assign(h->multi, fd, s);
	} else if (s->what == what)
		return 0; /* nothing changed: no epoll_ctl */
	else {
		event_free(s->ev);
		s->ev = NULL;
	}
	kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	s->ev = event_new(h->base, fd, kind, on_event, h);
	event_add(s->ev, NULL);
	s->what = what;
	return 0;
}

static int
timer_cb(CURLM *multi, long ms, void *userp)
{
	struct http *h = userp;
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

static void
check_done(struct http *h)
{
	CURLMsg *msg;
	int left;
	CURL *easy;
	CURLcode res;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		curl_multi_remove_handle(h->multi, easy);
		h->done(h->arg, easy, (int)res);
	}
}

struct http *
http_new(struct event_base *base, http_done_fn done, void *arg)
{
	struct http *h = xcalloc(1, sizeof *h);

	h->base = base;
	h->done = done;
	h->arg = arg;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		fatal("curl_multi_init failed");
	h->timer = evtimer_new(base, on_timer, h);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 100000L);
	return h;
}

/* curl_multi_cleanup first: its socket callback may still fire and needs
 * the event base alive. */
void
http_free(struct http *h)
{
	curl_multi_cleanup(h->multi);
	event_free(h->timer);
	free(h);
}

int
http_add(struct http *h, void *easy)
{
	return curl_multi_add_handle(h->multi, easy) == CURLM_OK ? 0 : -1;
}

/* 0: no cap; beyond the cap libcurl queues transfers for a free
 * connection, which keeps bursts from opening a connection each */
void
http_set_connections(struct http *h, long max)
{
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max);
}

void
http_remove(struct http *h, void *easy)
{
	curl_multi_remove_handle(h->multi, easy);
}

void
http_kick(struct http *h)
{
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
	check_done(h);
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
