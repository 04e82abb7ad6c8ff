/*
 * log.c: messages to stderr.  Under systemd (JOURNAL_STREAM set, or
 * stderr not a terminal) each line starts with a <N> syslog priority so
 * that the journal files it right; on a terminal it is plain.  Also the
 * two clocks, since every module needs them and nothing else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrivald.h"

static int log_debug_on;
static int log_prefix = -1; /* -1: not decided yet */
static int log_tty;

void
log_init(int debug)
{
	log_debug_on = debug;
	log_tty = isatty(STDERR_FILENO);
	log_prefix = getenv("JOURNAL_STREAM") != NULL || !log_tty;
}

int
log_is_tty(void)
{
	return log_tty;
}

static void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[2048];
	static const char *const tags[8] = {
		"", "", "", "error: ", "warning: ", "", "", "debug: "
	};

	if (level == LOG_LVL_DEBUG && !log_debug_on)
		return;
	if (log_prefix == -1)
		log_init(0);
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "arrivald: %s%s\n", tags[level & 7], line);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(70); /* EX_SOFTWARE: our own invariant broke */
}

int64_t
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

double
clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
