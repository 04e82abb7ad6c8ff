/* conf-keys.c: print every key the config parser accepts, one a line */
#include <stdio.h>

#include "arrivald.h"

int
main(void)
{
	int i;

	for (i = 0; conf_keys[i] != NULL; i++)
		puts(conf_keys[i]);
	return 0;
}
