/*  mc_cli_value: values as mcclient's namespace commands read them: from
    the command line (as arguments are read), from a file (@file) or from
    stdin (-); as JSON, or as a typed array (--type) whose file or stdin
    holds raw little-endian numbers. Nothing larger than the controller's
    max_value_bytes is read whole. */
#ifndef MC_CLI_VALUE_H
#define MC_CLI_VALUE_H
#include "mc_cli.h"

//  A JSON value from text: @file or - hold JSON; else a command-line
//  value. NULL when it cannot be read (said).
json_t *mc_cli_value_json (const char *text, size_t limit);
//  A list from text: a range a:b[:step] of integers, or JSON (as in
//  mc_cli_value_json) that is a list. NULL when it is neither (said).
json_t *mc_cli_value_list (const char *text, size_t limit);
//  A typed array from text: @file or - hold raw little-endian numbers (one
//  dimension); a range a:b[:step] or JSON (lists of numbers) is converted.
//  Its data is malloc'd (the caller frees it). 0, or MC_EXIT_FAILED (said).
int mc_cli_value_array (const char *text, int dtype, size_t limit, mc_array_t *array);

//  Self test: ranges, JSON and files as typed arrays and values.
void mc_cli_value_test (bool verbose);
#endif
