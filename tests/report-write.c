/*
 * report-write: regenerate DIR/report.html with report_write(), so that
 * the report's tests need nothing but report.c (arrivalctl report does
 * the same through the client).  Exit 0 on success; 1 with the error on
 * stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arrivald.h"

int
main(int argc, char **argv)
{
	char *err = NULL;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: report-write DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (report_write(argv[i], &err) != 0) {
			fprintf(stderr, "report-write: %s: %s\n", argv[i],
			    err ? err : "failed");
			rc = 1;
		}
		free(err);
		err = NULL;
	}
	return rc;
}
