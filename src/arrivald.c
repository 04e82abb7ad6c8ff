/*
 * arrivald.c: main: parse the command line, then hand over to daemon.c.
 * A new-style daemon: it stays in the foreground, writes no pid file and
 * logs to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: arrivald [-tDVh] [-c FILE] [-s PATH] [-o DIR] [-d SECONDS]\n"
	    "       arrivald --demo [-d SECONDS] [-o DIR] [-s PATH]\n"
	    "  -c FILE     configuration (default %s)\n"
	    "  -t          check the configuration and exit\n"
	    "  -s PATH     control socket (overrides control.socket)\n"
	    "  -o DIR      results directory (overrides results.dir)\n"
	    "  -d SECONDS  run this long, then stop gracefully (0 = until stopped)\n"
	    "  --demo      drive the embedded reference target, no config needed\n"
	    "  -D          debug logging\n"
	    "  -V          version\n"
	    "  -h          this help\n", DEFAULT_CONFIG);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "demo", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o;
	char *end;
	int ch;

	memset(&o, 0, sizeof o);
	o.duration = -1;
	while ((ch = getopt_long(argc, argv, "c:ts:o:d:DVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 't':
			o.check = 1;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'o':
			o.results = optarg;
			break;
		case 'd':
			errno = 0;
			o.duration = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !isfinite(o.duration) || o.duration < 0) {
				fprintf(stderr, "arrivald: -d: \"%s\" is not a number of seconds >= 0\n",
				    optarg);
				return 2;
			}
			break;
		case 'M':
			o.demo = 1;
			break;
		case 'D':
			o.debug = 1;
			break;
		case 'V':
			printf("arrivald %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arrivald: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o.demo && o.config) {
		fprintf(stderr, "arrivald: --demo takes no -c: it needs no configuration\n");
		return 2;
	}
	log_init(o.debug);
	return daemon_main(&o);
}
