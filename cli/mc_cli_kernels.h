/*  mc_cli_kernels: `mcclient kernels` (every kernel with its origin and
    version), `kernels add FILE.c [CFLAGS...]`, `kernels add FILE.so` and
    `kernels remove NAME`. */
#ifndef MC_CLI_KERNELS_H
#define MC_CLI_KERNELS_H
#include "mc_cli.h"

int mc_cli_kernels (const mc_cli_command_t *command, int argc, char **argv);
//  The options of kernels add, for its parser and for help.
extern const mc_cli_option_t mc_cli_kernels_options [];
//  Self test: library names from file names.
void mc_cli_kernels_test (bool verbose);
#endif
