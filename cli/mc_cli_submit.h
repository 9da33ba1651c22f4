/*  mc_cli_submit: mcclient's map and apply, which submit a job and print
    its result (or, with --async, its id). Arguments become the job spec:
    a kernel, a sequence for map, positional and KEY=VALUE arguments, and
    the options of a job (targets, chunks, seed, out, reduce). */
#ifndef MC_CLI_SUBMIT_H
#define MC_CLI_SUBMIT_H
#include "mc_cli.h"

//  map [OPTIONS] KERNEL SEQ [ARG...] [KEY=VALUE...]
int mc_cli_map (const mc_cli_command_t *command, int argc, char **argv);
//  apply [OPTIONS] KERNEL [ARG...] [KEY=VALUE...]
int mc_cli_apply (const mc_cli_command_t *command, int argc, char **argv);
//  Their options, for the parser and for help.
extern const mc_cli_option_t mc_cli_submit_options [];

//  Self test: command lines into job specs, and the ones refused.
void mc_cli_submit_test (bool verbose);
#endif
