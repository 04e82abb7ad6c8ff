#include "arrivald.h"
