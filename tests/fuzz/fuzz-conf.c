/*
 * fuzz-conf.c: libFuzzer target for conf_load(): the input is written to
 * a file and loaded; anything but a clean accept or a clean refusal
 * with messages (a crash, a leak, a sanitizer report) is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrivald.h"

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cf;
	char *errs = NULL;
	FILE *f;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof path, "/tmp/fuzz-conf.XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
	}
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	cf = conf_load(path, &errs);
	if (cf == NULL && (errs == NULL || errs[0] == '\0'))
		abort(); /* refused without saying why */
	conf_free(cf);
	free(errs);
	return 0;
}
