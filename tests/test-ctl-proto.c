/*
 * test-ctl-proto.c: ctl_parse() against every command of the control
 * table, every class of error with its message, and the help list.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-proto.h"
#include "tap.h"

static struct ctl_request req;
static char err[256];

/* a line printable in a TAP description: bytes outside ASCII escaped */
static const char *
show(const char *s)
{
	static char buf[256];
	size_t i = 0;

	for (; *s != '\0' && i + 5 < sizeof buf; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f)
			i += snprintf(buf + i, sizeof buf - i, "\\x%02x", c);
		else
			buf[i++] = c;
	}
	buf[i] = '\0';
	return buf;
}

static int
parse(const char *s)
{
	return ctl_parse(s, strlen(s), &req, err, sizeof err);
}

static int
parse_n(const char *s, size_t n)
{
	return ctl_parse(s, n, &req, err, sizeof err);
}

/* the line fails with exactly this message */
static void
fails(const char *line, const char *msg)
{
	int r = parse(line);

	ok(r == -1 && strcmp(err, msg) == 0, "\"%s\" -> %s (got %d)",
	    show(line), msg, r);
	if (r != -1 || strcmp(err, msg) != 0)
		diag("got \"%s\"", show(err));
}

/* the line fails with a message containing this */
static void
fails_with(const char *line, const char *part)
{
	int r = parse(line);

	ok(r == -1 && strstr(err, part) != NULL && strchr(err, '\n') == NULL,
	    "\"%s\" -> ...%s... (got %d \"%s\")", show(line), part, r,
	    show(err));
}

static void
commands(void)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
	} plain[] = {
		{ "stats", CTL_STATS }, { "pause", CTL_PAUSE },
		{ "resume", CTL_RESUME }, { "reload", CTL_RELOAD },
		{ "stop", CTL_STOP }, { "version", CTL_VERSION },
		{ "help", CTL_HELP }, { "  \tstats \t ", CTL_STATS },
		{ "stats\r", CTL_STATS }, { "stats\r\n", CTL_STATS },
	};
	size_t i;

	for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
		ok(parse(plain[i].line) == 0 && req.cmd == plain[i].cmd,
		    "plain command \"%s\" parses", show(plain[i].line));

	ok(parse("set rate 150") == 0 && req.cmd == CTL_SET_RATE &&
	    req.rate == 150 && req.over == 0, "set rate R");
	ok(parse("set  rate\t2.5e2 over 30") == 0 && req.cmd == CTL_SET_RATE &&
	    req.rate == 250 && req.over == 30, "set rate R over T");
	ok(parse("set rate 1 over 0") == 0 && req.over == 0, "over 0 is a step");
	ok(parse("set arrivals poisson") == 0 && req.cmd == CTL_SET_ARRIVALS &&
	    req.arrivals == 0, "set arrivals poisson");
	ok(parse("set arrivals constant") == 0 && req.arrivals == 1,
	    "set arrivals constant");
	ok(parse("set model open") == 0 && req.cmd == CTL_SET_MODEL &&
	    req.model == 0, "set model open");
	ok(parse("set model closed") == 0 && req.model == 1, "set model closed");
	ok(parse("set users 1500") == 0 && req.cmd == CTL_SET_USERS &&
	    req.users == 1500 && !req.has_think, "set users N");
	ok(parse("set users 1e6 think 10.5") == 0 && req.users == 1000000 &&
	    req.has_think && req.think == 10.5, "set users N think Z");
	ok(parse("set users 1000000000") == 0 && req.users == 1000000000ULL,
	    "set users at the ceiling");
	ok(parse("set autoscale on") == 0 && req.cmd == CTL_SET_AUTOSCALE &&
	    req.on == 1, "set autoscale on");
	ok(parse("set autoscale off") == 0 && req.on == 0, "set autoscale off");
	ok(parse("set profile peak.csv") == 0 && req.cmd == CTL_SET_PROFILE &&
	    strcmp(req.path, "peak.csv") == 0 && req.speed == 1 &&
	    req.scale == 1, "set profile FILE");
	ok(parse("set profile /tmp/p.csv scale 0.5 speed 60") == 0 &&
	    strcmp(req.path, "/tmp/p.csv") == 0 && req.speed == 60 &&
	    req.scale == 0.5, "set profile FILE scale F speed S");
	ok(parse("set profile ./p.csv speed 2") == 0 && req.speed == 2 &&
	    req.scale == 1, "set profile FILE speed S");
	ok(parse("set profile p.csv scale 0") == 0 && req.scale == 0,
	    "scale 0 allowed");
	ok(parse("set profile /tmp/h\xc3\xa9llo.csv") == 0 &&
	    strcmp(req.path, "/tmp/h\xc3\xa9llo.csv") == 0, "UTF-8 path");
	ok(parse("set profile off") == 0 && req.cmd == CTL_PROFILE_OFF,
	    "set profile off");
	ok(parse("watch") == 0 && req.cmd == CTL_WATCH && req.interval == 0,
	    "watch");
	ok(parse("watch 0.5") == 0 && req.interval == 0.5, "watch INTERVAL");
	ok(parse("watch 0.1") == 0 && parse("watch 3600") == 0,
	    "watch interval bounds inclusive");
}

static void
errors(void)
{
	char line[CTL_LINE_MAX + 64], path[CTL_PATH_MAX + 32];

	fails("", CTL_ERR_EMPTY);
	fails("   \t ", CTL_ERR_EMPTY);
	fails("\r\n", CTL_ERR_EMPTY);
	fails("foo", "unknown command \"foo\"");
	fails("STATS", "unknown command \"STATS\"");
	fails("stats now", "stats: too many arguments");
	fails("pause 1", "pause: too many arguments");
	fails("set", CTL_ERR_SET_MISSING);
	fails_with("set speed 5", "set: unknown setting \"speed\"");
	fails("set rate", "set rate: missing value");
	fails("set rate abc", "set rate: \"abc\" is not a number");
	fails("set rate nan", "set rate: \"nan\" is not a number");
	fails("set rate inf", "set rate: \"inf\" is not a number");
	fails("set rate 0x10", "set rate: \"0x10\" is not a number");
	fails("set rate 1.5.2", "set rate: \"1.5.2\" is not a number");
	fails("set rate 10abc", "set rate: \"10abc\" is not a number");
	fails("set rate 1e999", "set rate: 1e999 out of range (0 < R < 1e9)");
	fails("set rate -1", "set rate: -1 out of range (0 < R < 1e9)");
	fails("set rate 0", "set rate: 0 out of range (0 < R < 1e9)");
	fails("set rate 1e9", "set rate: 1e9 out of range (0 < R < 1e9)");
	fails("set rate 5 6", "set rate: expected over, got \"6\"");
	fails("set rate 5 over", "set rate over: missing value");
	fails("set rate 5 over -2", "set rate over: -2 out of range (0 <= T <= 1e9)");
	fails("set rate 5 over 2 x", "set rate: too many arguments");
	fails("set arrivals", "set arrivals: missing value");
	fails("set arrivals x", "set arrivals: expected poisson or constant, got \"x\"");
	fails("set arrivals poisson constant", "set arrivals: too many arguments");
	fails("set model half", "set model: expected open or closed, got \"half\"");
	fails("set autoscale yes", "set autoscale: expected on or off, got \"yes\"");
	fails("set users", "set users: missing value");
	fails("set users 0", "set users: 0 out of range (1 <= N <= 1e9)");
	fails("set users 2e9", "set users: 2e9 out of range (1 <= N <= 1e9)");
	fails("set users 1.5", "set users: \"1.5\" is not a whole number");
	fails("set users 10 think", "set users think: missing value");
	fails("set users 10 think 0", "set users think: 0 out of range (0 < Z <= 1e9)");
	fails("set users 10 wait 3", "set users: expected think, got \"wait\"");
	fails("set profile", "set profile: missing value");
	fails("set profile off now", "set profile off: too many arguments");
	fails("set profile p.csv speed", "set profile speed: missing value");
	fails("set profile p.csv speed 0", "set profile speed: 0 out of range (0 < S <= 1e9)");
	fails("set profile p.csv scale -1", "set profile scale: -1 out of range (0 <= F <= 1e9)");
	fails("set profile p.csv speed 1 speed 2", "set profile: \"speed\" given twice");
	fails("set profile p.csv loop 1", "set profile: expected speed or scale, got \"loop\"");
	fails("watch 0.01", "watch: 0.01 out of range (0.1 <= INTERVAL <= 3600)");
	fails("watch 1e6", "watch: 1e6 out of range (0.1 <= INTERVAL <= 3600)");
	fails("watch x", "watch: \"x\" is not a number");
	fails("watch 1 2", "watch: too many arguments");
	fails("a b c d e f g h i", "a: too many arguments");

	/* bytes */
	ok(parse_n("sta\0ts", 6) == -1 && strcmp(err, "control byte 0x00 at offset 3") == 0,
	    "NUL byte refused: %s", err);
	fails("stats\x1b[2J", "control byte 0x1b at offset 5");
	fails("stats\x7f", "control byte 0x7f at offset 5");
	fails("stats\rx", "control byte 0x0d at offset 5");
	fails("st\xff\xfe", "invalid UTF-8 at offset 2");
	fails("set rate \xc0\xaf", "invalid UTF-8 at offset 9");       /* overlong */
	fails("set rate \xed\xa0\x80", "invalid UTF-8 at offset 9");   /* surrogate */
	fails("set rate \xf4\x90\x80\x80", "invalid UTF-8 at offset 9"); /* > U+10FFFF */
	fails("set rate \xe2\x82", "invalid UTF-8 at offset 9");       /* truncated */
	fails("\x89PNG\r\n\x1a\n", "invalid UTF-8 at offset 0");
	fails("PNG\r\n\x1a\n", "control byte 0x0d at offset 3");

	/* lengths */
	memset(line, 'a', sizeof line);
	ok(parse_n(line, CTL_LINE_MAX + 1) == -1 && strcmp(err, CTL_ERR_LONG) == 0,
	    "over-long line refused");
	memcpy(line, "set profile /", 13);
	memset(path, 'p', sizeof path);
	memcpy(line + 13, path, CTL_PATH_MAX);
	ok(parse_n(line, 13 + CTL_PATH_MAX) == -1 &&
	    strcmp(err, CTL_ERR_PATH_LONG) == 0, "over-long path refused: %s", err);
	ok(parse_n(line, 13 + CTL_PATH_MAX - 2) == 0 &&
	    strlen(req.path) == CTL_PATH_MAX - 1, "longest path accepted");

	/* a long word is quoted short, on a character boundary */
	{
		char w[400];
		size_t i;

		for (i = 0; i + 2 < sizeof w; i += 2)
			memcpy(w + i, "\xc3\xa9", 2);
		w[i] = '\0';
		ok(parse(w) == -1 && strlen(err) < 100 &&
		    strstr(err, "...\"") != NULL, "long word quoted short: %s", show(err));
		ok(strstr(err, "\xc3...") == NULL, "quote cut on a character boundary");
	}

	/* a tiny error buffer is never overrun and stays terminated */
	{
		char small[8];

		ok(ctl_parse("foo", 3, &req, small, sizeof small) == -1 &&
		    strlen(small) == 7, "error truncated to the buffer");
		ok(ctl_parse("foo", 3, &req, NULL, 0) == -1, "NULL err allowed");
	}
}

static void
help(void)
{
	static const char *const first[CTL_NCMDS] = {
		[CTL_STATS] = "stats", [CTL_SET_RATE] = "set rate",
		[CTL_SET_ARRIVALS] = "set arrivals", [CTL_SET_MODEL] = "set model",
		[CTL_SET_USERS] = "set users", [CTL_SET_AUTOSCALE] = "set autoscale",
		[CTL_PAUSE] = "pause", [CTL_RESUME] = "resume",
		[CTL_SET_PROFILE] = "set profile FILE", [CTL_PROFILE_OFF] = "set profile off",
		[CTL_RELOAD] = "reload", [CTL_WATCH] = "watch", [CTL_STOP] = "stop",
		[CTL_VERSION] = "version", [CTL_HELP] = "help",
	};
	int i;

	for (i = 0; i < CTL_NCMDS; i++)
		ok(ctl_help[i] != NULL && first[i] != NULL &&
		    strncmp(ctl_help[i], first[i], strlen(first[i])) == 0 &&
		    strchr(ctl_help[i], '\t') != NULL,
		    "help entry for command %d: %s", i, ctl_help[i]);
	ok(ctl_help[CTL_NCMDS] == NULL, "help list NULL-terminated");
}

/* lower case, no white space: how a syntax compares with its rendering */
static void
squeeze(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			*o++ = (char)tolower((unsigned char)*s);
	*o = '\0';
}

/* every command's syntax appears in the rendered arrivalctl(1) */
static void
manual(void)
{
	const char *top = getenv("top_srcdir");
	char cmd[1024], *page = NULL;
	size_t size = 0, n = 0;
	FILE *f;
	int i;

	if (top == NULL) {
		diag("top_srcdir not set: manual not checked");
		return;
	}
	snprintf(cmd, sizeof cmd, "mandoc -Tascii '%s/man/arrivalctl.1' | col -b", top);
	if ((f = popen(cmd, "r")) == NULL) {
		ok(0, "render arrivalctl.1");
		return;
	}
	for (;;) {
		if (size - n < 4096)
			page = realloc(page, size = size * 2 + 8192);
		size_t r = fread(page + n, 1, size - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	page[n] = '\0';
	ok(pclose(f) == 0 && n > 1000, "arrivalctl.1 rendered (%zu bytes)", n);
	squeeze(page);
	for (i = 0; i < CTL_NCMDS; i++) {
		char syn[256];
		const char *tab = strchr(ctl_help[i], '\t');

		snprintf(syn, sizeof syn, "%.*s", (int)(tab - ctl_help[i]), ctl_help[i]);
		squeeze(syn);
		ok(strstr(page, syn) != NULL, "arrivalctl.1 documents \"%.*s\"",
		    (int)(tab - ctl_help[i]), ctl_help[i]);
	}
	free(page);
}

int
main(void)
{
	commands();
	errors();
	help();
	manual();
	return done_testing();
}
