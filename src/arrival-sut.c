/*
 * arrival-sut.c: main() of the reference target.  Parses the command
 * line into a struct sut_conf, starts sut.c's server thread and waits
 * for SIGINT or SIGTERM.  Every command-line mistake is named and exits
 * 2; a run that cannot start (port taken, log not writable) exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: arrival-sut -d D1,D2,... [-l ADDR:PORT] [-e exp|det] "
	    "[-s SEED]\n"
	    "                   [-L LOGFILE] [-x 5xx=P,reset=P,hang=P] "
	    "[-h] [-V]\n"
	    "  -d  mean service demand of each FCFS station, seconds "
	    "(or ms, us suffix)\n"
	    "  -l  listen address (default " DEFAULT_LISTEN "; PORT or :PORT "
	    "= 127.0.0.1:PORT)\n"
	    "  -e  service times: exp (exponential, default) or det "
	    "(deterministic)\n"
	    "  -s  random seed (default 0 = random)\n"
	    "  -L  log \"arrival_ns departure_ns\" of every completed "
	    "request\n"
	    "  -x  inject faults with these probabilities\n");
}

static void ARRIVALD_PRINTF(1, 2) ARRIVALD_NORETURN
bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arrival-sut: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(arrival-sut -h for usage)\n");
	exit(2);
}

/* "127.0.0.1:8080", "[::1]:8080", ":8080", "8080" */
static void
parse_listen(const char *arg, char **addr, int *port)
{
	const char *colon, *p;
	char *end;
	long v;

	if (arg[0] == '[') {
		if ((colon = strstr(arg, "]:")) == NULL)
			bad("-l %s: expected [ADDR]:PORT", arg);
		*addr = xstrndup(arg + 1, colon - arg - 1);
		p = colon + 2;
	} else if ((colon = strrchr(arg, ':')) != NULL) {
		if (strchr(arg, ':') != colon)
			bad("-l %s: put an IPv6 address in brackets: "
			    "[ADDR]:PORT", arg);
		*addr = colon == arg ? xstrdup("127.0.0.1") :
		    xstrndup(arg, colon - arg);
		p = colon + 1;
	} else {
		*addr = xstrdup("127.0.0.1");
		p = arg;
	}
	errno = 0;
	v = strtol(p, &end, 10);
	if (*p == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 65535)
		bad("-l %s: port \"%s\" is not a number in 0..65535", arg, p);
	if (**addr == '\0')
		bad("-l %s: empty address", arg);
	*port = (int)v;
}

static double
probability(const char *arg, const char *name, const char *v)
{
	char *end;
	double p;

	errno = 0;
	p = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !(p >= 0 && p <= 1))
		bad("-x %s: %s=%s is not a probability in [0, 1]", arg, name,
		    v);
	return p;
}

/* "5xx=0.1,reset=0.05,hang=0.02" */
static void
parse_faults(const char *arg, struct sut_conf *conf)
{
	char *copy = xstrdup(arg), *item, *next, *eq;

	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(item, '=')) == NULL)
			bad("-x %s: \"%s\" is not NAME=PROBABILITY", arg, item);
		*eq++ = '\0';
		if (strcmp(item, "5xx") == 0)
			conf->p_5xx = probability(arg, item, eq);
		else if (strcmp(item, "reset") == 0)
			conf->p_reset = probability(arg, item, eq);
		else if (strcmp(item, "hang") == 0)
			conf->p_hang = probability(arg, item, eq);
		else
			bad("-x %s: unknown fault \"%s\" (5xx, reset, hang)",
			    arg, item);
	}
	if (conf->p_5xx + conf->p_reset + conf->p_hang > 1 + 1e-9)
		bad("-x %s: the probabilities add up to more than 1", arg);
	free(copy);
}

int
main(int argc, char **argv)
{
	struct sut_conf conf;
	struct sut *sut;
	struct sut_truth t;
	char *addr = NULL, *err, *end;
	int port = 8080, ch, sig, have_demands = 0;
	sigset_t set;

	memset(&conf, 0, sizeof conf);
	while ((ch = getopt(argc, argv, ":d:e:hl:L:s:Vx:")) != -1) {
		switch (ch) {
		case 'd':
			if (sut_parse_demands(optarg, &conf, &err) == -1)
				bad("-d: %s", err);
			have_demands = 1;
			break;
		case 'e':
			if (strcmp(optarg, "exp") == 0)
				conf.deterministic = 0;
			else if (strcmp(optarg, "det") == 0)
				conf.deterministic = 1;
			else
				bad("-e %s: expected exp or det", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			free(addr);
			parse_listen(optarg, &addr, &port);
			break;
		case 'L':
			conf.log_path = optarg;
			break;
		case 's':
			errno = 0;
			conf.seed = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    *optarg == '-')
				bad("-s %s: expected an unsigned integer seed",
				    optarg);
			break;
		case 'V':
			printf("arrival-sut %s\n", PACKAGE_VERSION);
			return 0;
		case 'x':
			parse_faults(optarg, &conf);
			break;
		case ':':
			bad("-%c needs an argument", optopt);
		default:
			bad("unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		bad("unexpected argument \"%s\"", argv[optind]);
	if (!have_demands)
		bad("-d D1,D2,... is required: the stations' mean demands");
	if (addr == NULL)
		addr = xstrdup("127.0.0.1");

	log_init(0);
	/* the server thread inherits this mask; sigwait takes them here */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((sut = sut_spawn(addr, port, &conf, &err)) == NULL) {
		fprintf(stderr, "arrival-sut: %s\n", err);
		free(err);
		free(addr);
		return 1;
	}
	log_notice("arrival-sut %s listening on %s%s%s:%d, %d station%s, %s "
	    "service", PACKAGE_VERSION, strchr(addr, ':') ? "[" : "", addr,
	    strchr(addr, ':') ? "]" : "", sut_port(sut), conf.nstations,
	    conf.nstations == 1 ? "" : "s",
	    conf.deterministic ? "deterministic" : "exponential");
	free(addr);

	do {
		if (sigwait(&set, &sig) != 0)
			sig = SIGTERM;
	} while (sig != SIGINT && sig != SIGTERM);

	sut_truth(sut, &t);
	log_notice("stopping: %llu arrivals, %llu completions, X %.3f/s, "
	    "R %.6f s, Q %.4f", (unsigned long long)t.arrivals,
	    (unsigned long long)t.completions, t.X, t.R, t.Q);
	sut_stop(sut);
	return 0;
}
