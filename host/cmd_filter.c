/* cmd_filter.c: scaffolding, replaced by the real command. */
#include "cli.h"
int tack_cmd_filter(int argc, char **argv) { (void)argc; (void)argv; return TACK_EXIT_FAIL; }
