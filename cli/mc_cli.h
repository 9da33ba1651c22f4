/*  mc_cli: what mcclient's command modules share, and nothing that knows
    of any one command: the global options, the exit codes, saying what
    failed, JSON output, connecting, parsing targets, bins and boxes,
    options looked up in tables, and printing what a finished job
    returned. The command modules (mc_cli_cluster, mc_cli_submit,
    mc_cli_namespace) use it; it uses none of them, only mc_picture.
    Includes point one way: mcclient.c (main and the command table) ->
    command modules -> mc_cli_value -> mc_cli -> mc_picture. */
#ifndef MC_CLI_H
#define MC_CLI_H
#include "mccluster.h"
#include "mc_ops.h"
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define MC_EXIT_FAILED  1           //  an error, or a job with failed tasks
#define MC_EXIT_USAGE   2
#define MC_EXIT_TIMEOUT 3

//  One command of the command line: the row of mcclient's command table
//  that main dispatches by, and that --help is printed from.
typedef struct _mc_cli_command_t mc_cli_command_t;
//  Run a command on its arguments (those after its name): an exit status.
typedef int (mc_cli_run_fn) (const mc_cli_command_t *command, int argc, char **argv);
struct _mc_cli_command_t {
    const char *name;               //  the word on the command line; NULL: the name of op
    mc_cli_run_fn *run;
    mc_op_code_t op;                //  the controller operation it is, or MC_OP_NONE
    const char *args;               //  what --help shows after the name ("JOB"); NULL: not listed
    const char *summary;            //  what it does, for --help; NULL: the op's summary (mc_ops)
    const char *section;            //  heading printed before it, or NULL
    const char *more;               //  lines printed after it (sub-commands, notes), or NULL
    const struct _mc_cli_option_t *options;     //  its options (a table ended by a NULL name), or NULL
    const char *example;            //  one or more command lines, for its help
};
//  The word of a command on the command line.
const char *mc_cli_command_name (const mc_cli_command_t *command);

//  An option a command knows: what its parser looks up (mc_cli_option),
//  and what `mcclient help CMD`, `CMD --help` and the bash completion show
//  (mc_cli_help), from the same row so that they cannot differ.
typedef struct _mc_cli_option_t {
    const char *name;               //  "--targets"
    int code;                       //  what the command calls it (its own enum)
    bool takes_value;               //  the next argument is its value
    const char *value;              //  its value in help: "N", "FILE", or choices "sum|hist2d"; NULL: "VALUE"
    const char *help;               //  one line; NULL: not shown (an alias of a shown row with the same
                                    //  code, or an old spelling kept with a deprecation note)
    const char *commands;           //  in a table that several commands share, the ones it is for
                                    //  ("pull gather"); NULL: all of them
} mc_cli_option_t;

//  The row of table (ended by a row whose name is NULL) named arg, or NULL.
const mc_cli_option_t *mc_cli_option (const mc_cli_option_t *table, const char *arg);

//  --json: exact JSON on stdout.
extern bool mc_cli_json;
//  Where mc_cli_connect connects: --profile-dir (NULL: the default) and
//  --connect-timeout in ms (0: the library's default).
void mc_cli_set_profile (const char *profile_dir, int connect_ms);

//  Print "mcclient: ..." on stderr; returns MC_EXIT_FAILED.
int mc_cli_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mc_cli_print_json (const json_t *value);
//  Connect to the profile's controller, or say why not (NULL).
mc_client_t *mc_cli_connect (void);
//  Request op with body (taken; NULL for none): the reply, or NULL (said).
json_t *mc_cli_call (mc_client_t *client, mc_op_code_t op, json_t *body);
//  "all", "0,2", "1:3", "0,4:6" -> "all" or an array of ids; NULL (said) when bad.
json_t *mc_cli_parse_targets (const char *text);
//  "50x50" -> 50, 50; "0:1,0:1" -> box {x0, x1, y0, y1}. 0, or said and MC_EXIT_FAILED.
int mc_cli_parse_bins (const char *text, size_t *nx, size_t *ny);
int mc_cli_parse_box (const char *text, double box [4]);
//  What to draw a result or histogram as (all borrowed).
typedef struct {
    const char *file;               //  --png FILE: a .png, .svg or .pdf, or NULL
    bool show, log;                 //  --show (on the terminal), --log (colours by log counts)
    double box [4];                 //  --range x0:x1,y0:y1 the bins cover
    const json_t *spec;             //  the submitted job, for the title (kernel, target, steps), or NULL
    const char *title;              //  else this title, or NULL
} mc_cli_draw_t;
//  Draw counts (rows of y bins from the bottom) into draw->file and/or on
//  stdout. 0, or MC_EXIT_FAILED (said).
int mc_cli_picture (const int64_t *counts, size_t rows, size_t cols, const mc_cli_draw_t *draw);
//  Print what a finished job returned (a result object): the value of a
//  single apply (or a reduction), else the list; a pi sum (or a list of pi
//  results) as its estimate; a histogram as a picture, and pi results with
//  their points as the pi picture, when draw (NULL: nothing drawn) asks.
//  Failures go to stderr and give MC_EXIT_FAILED.
int mc_cli_print_result (const json_t *result, const mc_cli_draw_t *draw);
//  The number of points=K the pi kernel should return per task for a
//  picture of about 2000 points over `tasks` tasks.
int64_t mc_cli_pi_points (int64_t tasks);

//  Self test: targets, bins, boxes, option tables, counts.
void mc_cli_test (bool verbose);
#endif
