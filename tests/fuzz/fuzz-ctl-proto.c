/*
 * fuzz-ctl-proto.c: libFuzzer target for ctl_parse().  Beyond "no crash",
 * it checks what the server relies on: a success is a known command with
 * its values in range and a terminated path; a failure is a non-empty,
 * one-line, valid UTF-8 message (it goes into a JSON string).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-proto.h"

static int
utf8_ok(const unsigned char *p)
{
	while (*p != '\0') {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;

		if (n == 0 || (n == 2 && *p < 0xc2))
			return 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req;
	char err[256];
	int r;

	/* parse a copy of exactly size bytes, so ASan sees any overread */
	char *line = malloc(size ? size : 1);
	memcpy(line, data, size);
	memset(err, 'Z', sizeof err);
	r = ctl_parse(line, size, &req, err, sizeof err);
	free(line);
	if (r == 0) {
		if ((int)req.cmd < 0 || req.cmd >= CTL_NCMDS)
			abort();
		if (memchr(req.path, '\0', sizeof req.path) == NULL)
			abort();
		switch (req.cmd) {
		case CTL_SET_RATE:
			if (!(req.rate > 0 && req.rate < CTL_RATE_MAX) ||
			    !(req.over >= 0 && req.over <= CTL_OVER_MAX))
				abort();
			break;
		case CTL_SET_USERS:
			if (req.users < 1 || req.users > CTL_USERS_MAX ||
			    (req.has_think && !(req.think > 0 && isfinite(req.think))))
				abort();
			break;
		case CTL_SET_PROFILE:
			if (!(req.speed > 0) || !(req.scale >= 0) || req.path[0] == '\0')
				abort();
			break;
		case CTL_WATCH:
			if (req.interval != 0 && !(req.interval >= CTL_WATCH_MIN &&
			    req.interval <= CTL_WATCH_MAX))
				abort();
			break;
		default:
			break;
		}
	} else {
		if (r != -1 || memchr(err, '\0', sizeof err) == NULL ||
		    err[0] == '\0' || strchr(err, '\n') != NULL ||
		    !utf8_ok((const unsigned char *)err))
			abort();
	}
	return 0;
}
