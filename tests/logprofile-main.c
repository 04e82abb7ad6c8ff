/* logprofile-main.c: logprofile_main() as a program of its own, for the
 * tests, so that they need no more of the client than this file */
#include "arrivald.h"

int
main(int argc, char **argv)
{
	return logprofile_main(argc - 1, argv + 1);
}
