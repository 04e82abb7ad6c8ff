/*
 * ctl-proto.c: parsing a control request line into struct ctl_request.
 *
 * Everything a client sends passes through ctl_parse() before anything
 * acts on it, so this is where every inbound byte is checked: length,
 * control bytes, UTF-8, then words and numbers.  The function is pure
 * (its result depends only on its arguments; no globals, no allocation),
 * which is what makes it fuzzable and lets the server call it from any
 * thread.  Error messages quote at most CTL_QUOTE_MAX bytes of a word,
 * cut on a character boundary, so that they stay valid UTF-8 and short.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-proto.h"

const char *const ctl_help[CTL_NCMDS + 1] = {
	[CTL_STATS] = "stats\tthe live estimates and counters, one JSON object",
	[CTL_SET_RATE] = "set rate R [over T]\tnew target rate R per second; "
	    "over T ramps linearly over T seconds",
	[CTL_SET_ARRIVALS] = "set arrivals poisson|constant\tthe arrival "
	    "(closed model: think-time) distribution",
	[CTL_SET_MODEL] = "set model open|closed\tswitch the workload model",
	[CTL_SET_USERS] = "set users N [think Z]\tclosed model: N users "
	    "(and think time Z seconds) by hand",
	[CTL_SET_AUTOSCALE] = "set autoscale on|off\tclosed model: scale N and "
	    "Z together to hold N/Z",
	[CTL_PAUSE] = "pause\tstop new arrivals; in-flight requests finish",
	[CTL_RESUME] = "resume\trestart arrivals after pause",
	[CTL_SET_PROFILE] = "set profile FILE [speed S] [scale F]\treplay a "
	    "rate profile, time sped up by S, rates multiplied by F",
	[CTL_PROFILE_OFF] = "set profile off\tstop replaying; hold the current "
	    "rate",
	[CTL_RELOAD] = "reload\treload the configuration, as SIGHUP",
	[CTL_WATCH] = "watch [INTERVAL]\tone stats line every INTERVAL seconds "
	    "until the client closes",
	[CTL_STOP] = "stop\tgraceful stop, as SIGTERM",
	[CTL_VERSION] = "version\tthe daemon's version",
	[CTL_HELP] = "help\tthis list",
	[CTL_NCMDS] = NULL,
};

struct word {
	const char *p;
	size_t n;
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A word for quoting in a message: NUL-terminated, cut on a character
 * boundary.  The input is already known to be valid UTF-8. */
static const char *
quote(const struct word *w, char *buf, size_t size)
{
	size_t n = w->n;

	if (n >= size) {
		n = size - 4;
		while (n > 0 && ((unsigned char)w->p[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf, w->p, n);
		memcpy(buf + n, "...", 4);
		return buf;
	}
	memcpy(buf, w->p, n);
	buf[n] = '\0';
	return buf;
}

/* Length of the valid UTF-8 sequence at p, or 0 (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (left < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int
is(const struct word *w, const char *s)
{
	size_t n = strlen(s);

	return w->n == n && memcmp(w->p, s, n) == 0;
}

/*
 * A number, strictly: only decimal digits, sign, point and exponent
 * (so no "inf", "nan", hex or locale surprises), all of the word
 * consumed, finite.  1 ok, 0 not a number, -1 out of double's range.
 */
static int
number(const struct word *w, double *out)
{
	char buf[64], *end;
	size_t i;
	double v;

	if (w->n == 0 || w->n >= sizeof buf)
		return 0;
	for (i = 0; i < w->n; i++) {
		char c = w->p[i];
		if (!isdigit((unsigned char)c) && c != '.' && c != '-' &&
		    c != '+' && c != 'e' && c != 'E')
			return 0;
	}
	memcpy(buf, w->p, w->n);
	buf[w->n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end == buf || *end != '\0')
		return 0;
	if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1))
		return -1;
	if (errno == ERANGE)
		v = 0; /* underflow: as good as zero */
	*out = v;
	return 1;
}

/* A number within [lo, hi] (open ends if lo_open/hi_open). */
static int
bounded(const char *what, const struct word *w, double lo, int lo_open,
    double hi, int hi_open, const char *range, double *out, char *err,
    size_t errlen)
{
	char q[CTL_QUOTE_MAX];
	double v;
	int r;

	r = number(w, &v);
	if (r == 0) {
		seterr(err, errlen, CTL_ERR_NOT_NUMBER, what,
		    quote(w, q, sizeof q));
		return -1;
	}
	if (r < 0 || (lo_open ? v <= lo : v < lo) ||
	    (hi_open ? v >= hi : v > hi)) {
		seterr(err, errlen, CTL_ERR_RANGE, what, quote(w, q, sizeof q),
		    range);
		return -1;
	}
	*out = v;
	return 0;
}

static int
choice(const char *what, const struct word *w, const char *a, const char *b,
    int *out, char *err, size_t errlen)
{
	char q[CTL_QUOTE_MAX], choices[64];

	if (is(w, a))
		*out = 0;
	else if (is(w, b))
		*out = 1;
	else {
		snprintf(choices, sizeof choices, "%s or %s", a, b);
		seterr(err, errlen, CTL_ERR_EXPECTED, what, choices,
		    quote(w, q, sizeof q));
		return -1;
	}
	return 0;
}

/* Bytes first: nothing below is reached with a control byte or bad UTF-8. */
static int
check_bytes(const char *line, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x20 && p[i] != '\t') {
			seterr(err, errlen, CTL_ERR_CONTROL, p[i], i);
			return -1;
		}
		if (p[i] == 0x7f) {
			seterr(err, errlen, CTL_ERR_CONTROL, p[i], i);
			return -1;
		}
		if ((n = utf8_len(p + i, len - i)) == 0) {
			seterr(err, errlen, CTL_ERR_UTF8, i);
			return -1;
		}
		i += n;
	}
	return 0;
}

static int
set_rate(struct word *w, int nw, struct ctl_request *req, char *err,
    size_t errlen)
{
	char q[CTL_QUOTE_MAX];

	req->cmd = CTL_SET_RATE;
	req->over = 0;
	if (nw < 3) {
		seterr(err, errlen, CTL_ERR_MISSING, "set rate");
		return -1;
	}
	if (bounded("set rate", &w[2], 0, 1, CTL_RATE_MAX, 1, "0 < R < 1e9",
	    &req->rate, err, errlen) != 0)
		return -1;
	if (nw == 3)
		return 0;
	if (!is(&w[3], "over")) {
		seterr(err, errlen, CTL_ERR_EXPECTED, "set rate", "over",
		    quote(&w[3], q, sizeof q));
		return -1;
	}
	if (nw < 5) {
		seterr(err, errlen, CTL_ERR_MISSING, "set rate over");
		return -1;
	}
	if (nw > 5) {
		seterr(err, errlen, CTL_ERR_TOO_MANY, "set rate");
		return -1;
	}
	return bounded("set rate over", &w[4], 0, 0, CTL_OVER_MAX, 0,
	    "0 <= T <= 1e9", &req->over, err, errlen);
}

static int
set_users(struct word *w, int nw, struct ctl_request *req, char *err,
    size_t errlen)
{
	char q[CTL_QUOTE_MAX];
	double v;

	req->cmd = CTL_SET_USERS;
	req->has_think = 0;
	req->think = 0;
	if (nw < 3) {
		seterr(err, errlen, CTL_ERR_MISSING, "set users");
		return -1;
	}
	if (bounded("set users", &w[2], 1, 0, (double)CTL_USERS_MAX, 0,
	    "1 <= N <= 1e9", &v, err, errlen) != 0)
		return -1;
	if (v != floor(v)) {
		seterr(err, errlen, CTL_ERR_NOT_WHOLE, "set users",
		    quote(&w[2], q, sizeof q));
		return -1;
	}
	req->users = (uint64_t)v;
	if (nw == 3)
		return 0;
	if (!is(&w[3], "think")) {
		seterr(err, errlen, CTL_ERR_EXPECTED, "set users", "think",
		    quote(&w[3], q, sizeof q));
		return -1;
	}
	if (nw < 5) {
		seterr(err, errlen, CTL_ERR_MISSING, "set users think");
		return -1;
	}
	if (nw > 5) {
		seterr(err, errlen, CTL_ERR_TOO_MANY, "set users");
		return -1;
	}
	if (bounded("set users think", &w[4], 0, 1, CTL_THINK_MAX, 0,
	    "0 < Z <= 1e9", &req->think, err, errlen) != 0)
		return -1;
	req->has_think = 1;
	return 0;
}

static int
set_profile(struct word *w, int nw, struct ctl_request *req, char *err,
    size_t errlen)
{
	char q[CTL_QUOTE_MAX];
	int i, seen_speed = 0, seen_scale = 0;

	req->cmd = CTL_SET_PROFILE;
	req->speed = 1;
	req->scale = 1;
	if (nw < 3) {
		seterr(err, errlen, CTL_ERR_MISSING, "set profile");
		return -1;
	}
	if (is(&w[2], "off")) {
		if (nw > 3) {
			seterr(err, errlen, CTL_ERR_TOO_MANY, "set profile off");
			return -1;
		}
		req->cmd = CTL_PROFILE_OFF;
		return 0;
	}
	if (w[2].n >= CTL_PATH_MAX) {
		seterr(err, errlen, CTL_ERR_PATH_LONG);
		return -1;
	}
	memcpy(req->path, w[2].p, w[2].n);
	req->path[w[2].n] = '\0';
	/* options in either order, each at most once */
	for (i = 3; i < nw; i += 2) {
		int speed = is(&w[i], "speed");

		if (!speed && !is(&w[i], "scale")) {
			seterr(err, errlen, CTL_ERR_EXPECTED, "set profile",
			    "speed or scale", quote(&w[i], q, sizeof q));
			return -1;
		}
		if (speed ? seen_speed++ : seen_scale++) {
			seterr(err, errlen, CTL_ERR_TWICE, "set profile",
			    speed ? "speed" : "scale");
			return -1;
		}
		if (i + 1 >= nw) {
			seterr(err, errlen, CTL_ERR_MISSING, speed ?
			    "set profile speed" : "set profile scale");
			return -1;
		}
		if (speed) {
			if (bounded("set profile speed", &w[i + 1], 0, 1,
			    CTL_FACTOR_MAX, 0, "0 < S <= 1e9", &req->speed,
			    err, errlen) != 0)
				return -1;
		} else if (bounded("set profile scale", &w[i + 1], 0, 0,
		    CTL_FACTOR_MAX, 0, "0 <= F <= 1e9", &req->scale, err,
		    errlen) != 0)
			return -1;
	}
	return 0;
}

static int
set(struct word *w, int nw, struct ctl_request *req, char *err, size_t errlen)
{
	char q[CTL_QUOTE_MAX];

	if (nw < 2) {
		seterr(err, errlen, CTL_ERR_SET_MISSING);
		return -1;
	}
	if (is(&w[1], "rate"))
		return set_rate(w, nw, req, err, errlen);
	if (is(&w[1], "users"))
		return set_users(w, nw, req, err, errlen);
	if (is(&w[1], "profile"))
		return set_profile(w, nw, req, err, errlen);
	if (is(&w[1], "arrivals"))
		req->cmd = CTL_SET_ARRIVALS;
	else if (is(&w[1], "model"))
		req->cmd = CTL_SET_MODEL;
	else if (is(&w[1], "autoscale"))
		req->cmd = CTL_SET_AUTOSCALE;
	else {
		seterr(err, errlen, CTL_ERR_SET_UNKNOWN, quote(&w[1], q,
		    sizeof q));
		return -1;
	}

	/* the three one-word choices */
	{
		static const char *const what[] = {
			[CTL_SET_ARRIVALS] = "set arrivals",
			[CTL_SET_MODEL] = "set model",
			[CTL_SET_AUTOSCALE] = "set autoscale",
		};
		const char *wh = what[req->cmd];

		if (nw < 3) {
			seterr(err, errlen, CTL_ERR_MISSING, wh);
			return -1;
		}
		if (nw > 3) {
			seterr(err, errlen, CTL_ERR_TOO_MANY, wh);
			return -1;
		}
		switch (req->cmd) {
		case CTL_SET_ARRIVALS:
			return choice(wh, &w[2], "poisson", "constant",
			    &req->arrivals, err, errlen);
		case CTL_SET_MODEL:
			return choice(wh, &w[2], "open", "closed", &req->model,
			    err, errlen);
		default: {
			int off;

			if (choice(wh, &w[2], "off", "on", &off, err,
			    errlen) != 0) {
				seterr(err, errlen, CTL_ERR_EXPECTED, wh,
				    "on or off", quote(&w[2], q, sizeof q));
				return -1;
			}
			req->on = off;
			return 0;
		}
		}
	}
}

int
ctl_parse(const char *line, size_t len, struct ctl_request *req, char *err,
    size_t errlen)
{
	static const struct {
		const char *name;
		enum ctl_cmd cmd;
	} plain[] = {
		{ "stats", CTL_STATS }, { "pause", CTL_PAUSE },
		{ "resume", CTL_RESUME }, { "reload", CTL_RELOAD },
		{ "stop", CTL_STOP }, { "version", CTL_VERSION },
		{ "help", CTL_HELP },
	};
	struct word w[CTL_WORDS_MAX];
	char q[CTL_QUOTE_MAX];
	size_t i;
	int nw = 0;

	memset(req, 0, sizeof *req);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CTL_LINE_MAX) {
		seterr(err, errlen, CTL_ERR_LONG);
		return -1;
	}
	if (check_bytes(line, len, err, errlen) != 0)
		return -1;

	for (i = 0; i < len;) {
		size_t start;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (nw == CTL_WORDS_MAX) {
			struct word cmd = w[0];
			char what[CTL_QUOTE_MAX];

			quote(&cmd, what, sizeof what);
			seterr(err, errlen, CTL_ERR_TOO_MANY, what);
			return -1;
		}
		w[nw].p = line + start;
		w[nw].n = i - start;
		nw++;
	}
	if (nw == 0) {
		seterr(err, errlen, CTL_ERR_EMPTY);
		return -1;
	}

	for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		if (!is(&w[0], plain[i].name))
			continue;
		req->cmd = plain[i].cmd;
		if (nw > 1) {
			seterr(err, errlen, CTL_ERR_TOO_MANY, plain[i].name);
			return -1;
		}
		return 0;
	}
	if (is(&w[0], "watch")) {
		req->cmd = CTL_WATCH;
		req->interval = 0;
		if (nw > 2) {
			seterr(err, errlen, CTL_ERR_TOO_MANY, "watch");
			return -1;
		}
		if (nw == 2)
			return bounded("watch", &w[1], CTL_WATCH_MIN, 0,
			    CTL_WATCH_MAX, 0, "0.1 <= INTERVAL <= 3600",
			    &req->interval, err, errlen);
		return 0;
	}
	if (is(&w[0], "set"))
		return set(w, nw, req, err, errlen);
	seterr(err, errlen, CTL_ERR_UNKNOWN, quote(&w[0], q, sizeof q));
	return -1;
}
