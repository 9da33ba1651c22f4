/*  mc_cli_cluster: mcclient's commands on the cluster and its jobs, each
    one controller operation: ping, ids, engines, kernels, queue, shutdown,
    jobs; status, ready, wait and get of one job. Human output by default,
    the reply as it is with --json. */
#ifndef MC_CLI_CLUSTER_H
#define MC_CLI_CLUSTER_H
#include "mc_cli.h"

//  A command that is the controller operation command->op, without a job
//  id (ping, ids, engines, kernels, queue, shutdown, jobs [--limit N]).
int mc_cli_cluster_op (const mc_cli_command_t *command, int argc, char **argv);
//  status JOB, ready JOB, wait JOB [--timeout S], get JOB [--meta].
int mc_cli_status (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_ready (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_wait (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_get (const mc_cli_command_t *command, int argc, char **argv);
//  Their options (each row says which command it is for), for the parser and for help.
extern const mc_cli_option_t mc_cli_cluster_options [];

//  Self test: arguments, and the progress bar.
void mc_cli_cluster_test (bool verbose);
#endif
