/*  mc_cli_trust: `mcclient trust add|list|revoke`, the keys of extra
    clients (one per user of a shared cluster) and engine hosts (one per
    node), for the cluster's owner (mc_proto.md §9). */
#ifndef MC_CLI_TRUST_H
#define MC_CLI_TRUST_H
#include "mc_cli.h"

int mc_cli_trust (const mc_cli_command_t *command, int argc, char **argv);
//  Its options, for the parser and for help.
extern const mc_cli_option_t mc_cli_trust_options [];
//  Self test: arguments refused before connecting.
void mc_cli_trust_test (bool verbose);
#endif
