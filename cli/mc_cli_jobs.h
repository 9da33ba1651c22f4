/*  mc_cli_jobs: mcclient's commands that change running jobs or remove
    them: abort, renice and purge, over the operations of the same names. */
#ifndef MC_CLI_JOBS_H
#define MC_CLI_JOBS_H
#include "mc_cli.h"

int mc_cli_abort (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_purge (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_renice (const mc_cli_command_t *command, int argc, char **argv);
//  purge's options, for its parser and for help.
extern const mc_cli_option_t mc_cli_purge_options [];
//  A --before DATE as Unix seconds: an integer of seconds, YYYY-MM-DD,
//  YYYY-MM-DD[T| ]HH:MM[:SS] (local time), or an age Nd, Nh, Nm or Ns
//  before now. 0, or -1 when it is none of these.
int mc_cli_parse_date (const char *text, int64_t now, int64_t *seconds);
//  Self test: dates and ages.
void mc_cli_jobs_test (bool verbose);
#endif
