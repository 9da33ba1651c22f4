/*  mcclient: what the command line's source files share. */
#ifndef MCCLIENT_H
#define MCCLIENT_H
#include "mccluster.h"
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define EXIT_FAILED  1              //  an error, or a job with failed tasks
#define EXIT_USAGE   2
#define EXIT_TIMEOUT 3

extern bool mc_cli_json;            //  --json: exact JSON on stdout
//  Print "mcclient: ..." on stderr; returns EXIT_FAILED.
int mc_cli_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mc_cli_print_json (const json_t *value);
//  Connect to the profile's controller, or say why not (NULL).
mc_client_t *mc_cli_connect (void);
//  "all", "0,2", "1:3", "0,4:6" -> "all" or an array of ids; NULL (said) when bad.
json_t *mc_cli_parse_targets (const char *text);
//  "50x50" -> 50, 50; "0:1,0:1" -> box {x0, x1, y0, y1}. 0, or said and EXIT_FAILED.
int mc_cli_parse_bins (const char *text, size_t *nx, size_t *ny);
int mc_cli_parse_box (const char *text, double box [4]);
//  Draw counts (rows of y bins from the bottom) into a PNG and/or on stdout.
int mc_cli_picture (const int64_t *counts, size_t rows, size_t cols, const char *png, bool show);
//  The namespace commands: push, pull, scatter, gather, del, names.
int mc_cli_data (const char *command, int argc, char **argv);
#endif
