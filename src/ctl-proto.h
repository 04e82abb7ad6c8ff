/*
 * ctl-proto.h: the control protocol, in one place: commands, limits and
 * error strings.  A request is one line of words separated by spaces or
 * tabs; a reply is one line holding one JSON object with "ok".
 * ctl_parse() is a pure function of its input bytes (no globals, no
 * allocation) so that it can be fuzzed.
 */
#ifndef CTL_PROTO_H
#define CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX 4096          /* bytes in a request line, newline excluded */
#define CTL_OUT_MAX (256 * 1024)   /* bytes queued to a client before it is dropped */
#define CTL_WATCH_MIN 0.1          /* seconds */
#define CTL_WATCH_MAX 3600.0
#define CTL_PATH_MAX 1024          /* bytes in a profile path, NUL included */
#define CTL_CLIENTS_MAX 1024       /* clients at once; more are turned away */
#define CTL_WORDS_MAX 8            /* words in a request: more is "too many" */

/* limits on values, inclusive unless the name says otherwise */
#define CTL_RATE_MAX 1e9           /* rate: 0 < R < 1e9 */
#define CTL_OVER_MAX 1e9           /* over: 0 <= T <= 1e9 seconds */
#define CTL_USERS_MAX 1000000000ULL
#define CTL_THINK_MAX 1e9          /* think: 0 < Z <= 1e9 seconds */
#define CTL_FACTOR_MAX 1e9         /* speed, scale */

enum ctl_cmd {
	CTL_STATS,
	CTL_SET_RATE,      /* rate, over (0 = step) */
	CTL_SET_ARRIVALS,  /* arrivals: 0 poisson, 1 constant */
	CTL_SET_MODEL,     /* model: 0 open, 1 closed */
	CTL_SET_USERS,     /* users, think (has_think) */
	CTL_SET_AUTOSCALE, /* on */
	CTL_PAUSE,
	CTL_RESUME,
	CTL_SET_PROFILE,   /* path, speed, scale (1 and 1 unless given) */
	CTL_PROFILE_OFF,
	CTL_RELOAD,
	CTL_WATCH,         /* interval (0 = the results interval) */
	CTL_STOP,
	CTL_VERSION,
	CTL_HELP,
	CTL_NCMDS          /* not a command: the count */
};

struct ctl_request {
	enum ctl_cmd cmd;
	double rate, over;
	int arrivals;
	int model;
	uint64_t users;
	double think;
	int has_think;
	int on;
	char path[CTL_PATH_MAX];
	double speed, scale;
	double interval;
};

/*
 * Error messages.  Each is one line; a %s that quotes a word from the
 * request gets at most CTL_QUOTE_MAX bytes of it, cut on a character
 * boundary.  "WHAT" is the command or setting, e.g. "set rate".
 */
#define CTL_QUOTE_MAX 64
#define CTL_ERR_EMPTY "empty request"
#define CTL_ERR_LONG "request longer than 4096 bytes"
#define CTL_ERR_CONTROL "control byte 0x%02x at offset %zu"      /* byte, offset */
#define CTL_ERR_UTF8 "invalid UTF-8 at offset %zu"               /* offset */
#define CTL_ERR_UNKNOWN "unknown command \"%s\""                 /* word */
#define CTL_ERR_SET_UNKNOWN "set: unknown setting \"%s\" (rate, arrivals, model, users, autoscale, profile)"
#define CTL_ERR_SET_MISSING "set: missing setting (rate, arrivals, model, users, autoscale, profile)"
#define CTL_ERR_MISSING "%s: missing value"                      /* WHAT */
#define CTL_ERR_TOO_MANY "%s: too many arguments"                /* WHAT */
#define CTL_ERR_NOT_NUMBER "%s: \"%s\" is not a number"          /* WHAT, word */
#define CTL_ERR_NOT_WHOLE "%s: \"%s\" is not a whole number"     /* WHAT, word */
#define CTL_ERR_RANGE "%s: %s out of range (%s)"                 /* WHAT, word, range */
#define CTL_ERR_EXPECTED "%s: expected %s, got \"%s\""           /* WHAT, choices, word */
#define CTL_ERR_TWICE "%s: \"%s\" given twice"                   /* WHAT, keyword */
#define CTL_ERR_PATH_LONG "set profile: path longer than 1023 bytes"

/* 0 and *req filled, or -1 and a one-line message in err */
int ctl_parse(const char *line, size_t len, struct ctl_request *req,
    char *err, size_t errlen);
/*
 * The help text: one entry per command, "SYNTAX\tDESCRIPTION", indexed
 * by enum ctl_cmd, NULL at [CTL_NCMDS].
 */
extern const char *const ctl_help[];

#endif
