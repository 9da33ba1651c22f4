/*  mc_cli_namespace: mcclient's commands on engine namespaces: push,
    pull, scatter, gather, del and names, on every engine or on --targets. */
#ifndef MC_CLI_NAMESPACE_H
#define MC_CLI_NAMESPACE_H
#include "mc_cli.h"

//  push NAME=VALUE..., pull NAME..., scatter NAME SEQ, gather NAME,
//  del NAME..., names; options as mcclient --help says.
int mc_cli_push (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_pull (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_scatter (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_gather (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_del (const mc_cli_command_t *command, int argc, char **argv);
int mc_cli_names (const mc_cli_command_t *command, int argc, char **argv);
//  Their options (each row says which of them it is for), for the parser and for help.
extern const mc_cli_option_t mc_cli_namespace_options [];

//  Self test: options against each command's rules, values from text.
void mc_cli_namespace_test (bool verbose);
#endif
