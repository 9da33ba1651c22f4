/*  mc_cli_help: mcclient's help, printed from the command table and each
    command's option table (mc_cli.h): `mcclient --help` (the commands),
    `mcclient help CMD`, `mcclient CMD --help` and `-h` (its usage, options
    and an example), and the words the bash completion offers (`mcclient
    help --complete [CMD]`). Parsers, help and completion read the same
    rows, so that none of them can tell another story. */
#ifndef MC_CLI_HELP_H
#define MC_CLI_HELP_H
#include "mc_cli.h"
#include <stdio.h>

//  The commands of a table, one line each (with their notes), then what
//  holds for all of them.
void mc_cli_help_overview (FILE *out, const mc_cli_command_t *commands, size_t count);
//  One command: usage, what it does, its notes, options, an example.
void mc_cli_help_command (FILE *out, const mc_cli_command_t *command);
//  Whether a command's arguments ask for its help: -h or --help before
//  any "--".
bool mc_cli_help_asked (int argc, char **argv);
//  The command `help [COMMAND]` and `help --complete [COMMAND]`: an exit
//  status (0; MC_EXIT_USAGE for an unknown command, said).
int mc_cli_help_run (const mc_cli_command_t *commands, size_t count, int argc, char **argv);

//  Self test: options shown for the commands they are for, aliases, old
//  spellings hidden, completion words.
void mc_cli_help_test (bool verbose);
#endif
