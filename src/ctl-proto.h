/*
 * ctl-proto.h: the control protocol, in one place: commands, limits and
 * error strings.  A request is one line of words separated by spaces; a
 * reply is one line holding one JSON object with "ok".  ctl_parse() is a
 * pure function of its input bytes so that it can be fuzzed.
 */
#ifndef CTL_PROTO_H
#define CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX 4096          /* bytes in a request line, newline excluded */
#define CTL_OUT_MAX (256 * 1024)   /* bytes queued to a client before it is dropped */
#define CTL_WATCH_MIN 0.1          /* seconds */
#define CTL_WATCH_MAX 3600.0
#define CTL_PATH_MAX 1024

enum ctl_cmd {
	CTL_STATS,
	CTL_SET_RATE,      /* rate, over (0 = step) */
	CTL_SET_ARRIVALS,  /* arrivals: 0 poisson, 1 constant */
	CTL_SET_MODEL,     /* model: 0 open, 1 closed */
	CTL_SET_USERS,     /* users, think (has_think) */
	CTL_SET_AUTOSCALE, /* on */
	CTL_PAUSE,
	CTL_RESUME,
	CTL_SET_PROFILE,   /* path, speed, scale */
	CTL_PROFILE_OFF,
	CTL_RELOAD,
	CTL_WATCH,         /* interval (0 = the results interval) */
	CTL_STOP,
	CTL_VERSION,
	CTL_HELP,
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

/* 0 and *req filled, or -1 and a one-line message in err */
int ctl_parse(const char *line, size_t len, struct ctl_request *req,
    char *err, size_t errlen);
/* the help text: one command per entry, NULL-terminated */
extern const char *const ctl_help[];

#endif
