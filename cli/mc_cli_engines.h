/*  mc_cli_engines: `mcclient engines` (the registered engines, then those
    a launcher asked for that have not registered, with their batch job
    and its state), `engines add N` and `engines stop ID...|--job JOB`. */
#ifndef MC_CLI_ENGINES_H
#define MC_CLI_ENGINES_H
#include "mc_cli.h"

int mc_cli_engines (const mc_cli_command_t *command, int argc, char **argv);
//  The options of engines add and engines stop, for their parsers and for help.
extern const mc_cli_option_t mc_cli_engines_options [];
//  `mcclient allocations`: every allocation, one line each.
int mc_cli_allocations (const mc_cli_command_t *command, int argc, char **argv);
//  Self test: arguments refused before connecting, and the listing.
void mc_cli_engines_test (bool verbose);
#endif
