/*  mc_cli_namespace: mcclient's namespace commands. Values come from the
    command line, from files (@file) or stdin (-), as JSON, or as raw
    little-endian numbers with --type; results go to stdout or to a file
    (-o), as JSON or as raw bytes (--raw). */
#include "mc_cli_namespace.h"
#include "mc_cli_value.h"
#include "mc_picture.h"
#include "mc_value.h"
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MAX_ARGS 64               //  words after the options

//  What the options and words of a namespace command say.
typedef struct {
    json_t *targets;                //  NULL: all engines
    bool round_robin;               //  --dist r
    int dtype;                      //  --type, 0 when absent
    const char *output;             //  -o FILE
    bool raw;                       //  --raw
    bool hist, show, log;           //  gather --reduce hist2d [--bins] [--range] [--png] [--show] [--log]
    bool binned;                    //  --bins or --range given
    size_t nx, ny;
    double box [4];
    const char *png;                //  a .png, .svg or .pdf
    const char *args [S_MAX_ARGS];  //  what is left
    int argc;
} s_opts_t;

//  What a namespace command accepts, beyond the options all of them read.
typedef struct {
    int min_args, max_args;         //  how many words
    bool output;                    //  -o FILE (and --raw)
    bool typed;                     //  --type
    bool hist;                      //  --reduce hist2d
    int names;                      //  how many of the first words must be names
} s_rules_t;

enum { S_TARGETS = 1, S_DIST, S_TYPE, S_OUTPUT, S_RAW, S_REDUCE, S_BINS, S_HIST, S_RANGE, S_PNG, S_SHOW, S_LOG };
//  The histogram options are map's (mc_cli_submit): --reduce hist2d,
//  --bins, --range, --png, --show, --log. The old `gather --hist NXxNY` still
//  works, with a note on stderr.
const mc_cli_option_t mc_cli_namespace_options [] = {
    { "--targets", S_TARGETS, true, "T", "engines: 'all' (default), ids '0,2', a range '1:3', or a mix", NULL },
    { "--dist", S_DIST, true, "b|r", "split and join in blocks (default) or round robin", "scatter gather" },
    { "--type", S_TYPE, true, "f64|i64", "a typed array: @file and - hold raw little-endian numbers", "push scatter" },
    { "-o", S_OUTPUT, true, "FILE", "write to FILE (as JSON, or raw bytes with --raw)", "pull gather" },
    { "--output", S_OUTPUT, true, "FILE", NULL, "pull gather" },
    { "--raw", S_RAW, false, NULL, "with -o: the raw little-endian bytes of one array", "pull gather" },
    { "--reduce", S_REDUCE, true, "hist2d", "bin the gathered n x 2 points into counts", "gather" },
    { "--bins", S_BINS, true, "NXxNY", "hist2d: bins along x and y (default 50x50)", "gather" },
    { "--range", S_RANGE, true, "x0:x1,y0:y1", "hist2d: the box binned (default 0:1,0:1)", "gather" },
    { "--png", S_PNG, true, "FILE", "hist2d: a picture with axes and colour bar (.png, .svg or .pdf)",
      "gather" },
    { "--show", S_SHOW, false, NULL, "hist2d: draw the counts on the terminal, as wide as it is", "gather" },
    { "--log", S_LOG, false, NULL, "hist2d: colours by log10(1 + count) in --png and --show", "gather" },
    { "--hist", S_HIST, true, "NXxNY", NULL, "gather" },      //  deprecated: --reduce hist2d --bins NXxNY
    { NULL, 0, false, NULL, NULL, NULL } };

//  One option with its value (NULL for none). 0, or MC_EXIT_USAGE (said).
static int
s_option (const char *command, const mc_cli_option_t *option, const char *value, s_opts_t *o)
{
    switch (option->code) {
        case S_TARGETS:
            json_decref (o->targets);
            return (o->targets = mc_cli_parse_targets (value))? 0: MC_EXIT_USAGE;
        case S_DIST:
            if (strcmp (value, "b") && strcmp (value, "r"))
                return mc_cli_fail ("%s: --dist must be b (blocks) or r (round robin), not '%s'", command, value),
                       MC_EXIT_USAGE;
            o->round_robin = value [0] == 'r';
            return 0;
        case S_TYPE:
            if (!(o->dtype = mc_dtype_parse (value)))
                return mc_cli_fail ("%s: --type must be f64 or i64, not '%s'", command, value), MC_EXIT_USAGE;
            return 0;
        case S_OUTPUT:
            o->output = value;
            return 0;
        case S_RAW:
            o->raw = true;
            return 0;
        case S_REDUCE:
            if (strcmp (value, "hist2d"))
                return mc_cli_fail ("%s: --reduce takes hist2d, not '%s'", command, value), MC_EXIT_USAGE;
            o->hist = true;
            return 0;
        case S_HIST:
            fprintf (stderr, "mcclient: %s: --hist %s is deprecated: use --reduce hist2d --bins %s\n",
                     command, value, value);
            o->hist = true;
            //  fall through
        case S_BINS:
            o->binned = true;
            return mc_cli_parse_bins (value, &o->nx, &o->ny)? MC_EXIT_USAGE: 0;
        case S_RANGE:
            o->binned = true;
            return mc_cli_parse_box (value, o->box)? MC_EXIT_USAGE: 0;
        case S_PNG: {
            char err [512];
            if (mc_picture_format_ok (value, err, sizeof err))
                return mc_cli_fail ("%s: --png: %s", command, err), MC_EXIT_USAGE;
            o->png = value;
            return 0;
        }
        case S_SHOW:
            o->show = true;
            return 0;
        case S_LOG:
            o->log = true;
            return 0;
    }
    assert (false);                 //  a row of s_options without a case
    return MC_EXIT_USAGE;
}

//  Read the options every namespace command shares, and the words left.
//  MC_EXIT_USAGE (said) or 0.
static int
s_parse (const char *command, int argc, char **argv, s_opts_t *o)
{
    memset (o, 0, sizeof *o);
    o->box [1] = o->box [3] = 1;
    o->nx = o->ny = 50;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        const mc_cli_option_t *option = mc_cli_option (mc_cli_namespace_options, arg);
        if (option && option->takes_value && i + 1 == argc)
            return mc_cli_fail ("%s: %s needs a value", command, arg), MC_EXIT_USAGE;
        if (option) {
            if (s_option (command, option, option->takes_value? argv [++i]: NULL, o))
                return MC_EXIT_USAGE;
        }
        else
        if (arg [0] == '-' && arg [1] && strcmp (arg, "--"))
            return mc_cli_fail ("%s: unknown option '%s' (see mcclient help %s)", command, arg, command), MC_EXIT_USAGE;
        else
        if (strcmp (arg, "--")) {
            if (o->argc == S_MAX_ARGS)
                return mc_cli_fail ("%s: too many arguments", command), MC_EXIT_USAGE;
            o->args [o->argc++] = arg;
        }
    }
    if (o->raw && !o->output)
        return mc_cli_fail ("%s: --raw writes binary, so it needs -o FILE", command), MC_EXIT_USAGE;
    if ((o->png || o->show || o->log || o->binned) && !o->hist)
        return mc_cli_fail ("%s: --bins, --range, --png, --show and --log are for a histogram: "
                            "add --reduce hist2d", command), MC_EXIT_USAGE;
    return 0;
}

//  The options and words of a command against its rules. 0, or
//  MC_EXIT_USAGE (said).
static int
s_check (const char *command, const s_rules_t *rules, const s_opts_t *o)
{
    if (o->hist && !rules->hist)
        return mc_cli_fail ("%s: --reduce hist2d is for gather", command), MC_EXIT_USAGE;
    if (o->argc < rules->min_args || o->argc > rules->max_args)
        return mc_cli_fail ("%s: wrong arguments (see mcclient help %s)", command, command), MC_EXIT_USAGE;
    if ((o->output && !rules->output) || (o->raw && o->argc != 1))
        return mc_cli_fail ("%s: -o is for pull and gather, --raw for one name", command), MC_EXIT_USAGE;
    if (o->dtype && !rules->typed)
        return mc_cli_fail ("%s: --type is for push and scatter", command), MC_EXIT_USAGE;
    for (int i = 0; i < o->argc && i < rules->names; i++)
        if (!mc_value_valid_name (o->args [i], strlen (o->args [i])))
            return mc_cli_fail ("%s: '%s' is not a valid name (a letter or '_', then letters, digits or '_')",
                                command, o->args [i]), MC_EXIT_USAGE;
    return 0;
}

//  What a command does once connected: an exit status.
typedef int (s_action_fn) (mc_client_t *client, const s_opts_t *o);

//  Read and check the command line, connect, act, disconnect: every
//  namespace command.
static int
s_run (const mc_cli_command_t *command, int argc, char **argv, const s_rules_t *rules, s_action_fn *action)
{
    s_opts_t o;
    int rc = s_parse (mc_cli_command_name (command), argc, argv, &o);
    if (rc == 0)
        rc = s_check (mc_cli_command_name (command), rules, &o);
    mc_client_t *client = rc? NULL: mc_cli_connect ();
    if (client) {
        rc = action (client, &o);
        mc_client_destroy (&client);
    }
    else
    if (rc == 0)
        rc = MC_EXIT_FAILED;
    json_decref (o.targets);
    return rc;
}

//  Write JSON, or the raw bytes of an array, to the -o file.
static int
s_write (const char *path, const json_t *value, const mc_array_t *array)
{
    FILE *file = fopen (path, "wb");
    if (!file)
        return mc_cli_fail ("cannot write '%s': %s", path, strerror (errno));
    bool ok = array? fwrite (array->data, 1, array->size, file) == array->size
                   : json_dumpf (value, file, JSON_COMPACT | JSON_ENCODE_ANY) == 0 && fputc ('\n', file) != EOF;
    if (fclose (file) != 0)
        ok = false;
    if (!ok)
        return mc_cli_fail ("cannot write '%s': %s", path, strerror (errno));
    return 0;
}

//  Counts (ny rows of nx) as a JSON list of rows, or NULL for no memory.
static json_t *
s_counts_json (const int64_t *counts, size_t ny, size_t nx)
{
    json_t *rows = json_array ();
    for (size_t r = 0; r < ny && rows; r++) {
        json_t *row = json_array ();
        for (size_t c = 0; c < nx && row; c++)
            if (json_array_append_new (row, json_integer (counts [r * nx + c])))
                json_decref (row), row = NULL;
        if (!row || json_array_append_new (rows, row))
            json_decref (rows), rows = NULL;
    }
    return rows;
}

//  gather --reduce hist2d: bin the gathered points (n x 2 float64) into counts,
//  rows of y bins from the bottom; print them, or draw them.
static int
s_gather_hist (mc_client_t *client, const s_opts_t *o)
{
    mc_array_t points;
    if (mc_client_gather_array (client, o->args [0], o->targets, o->round_robin, &points))
        return mc_cli_fail ("%s", mc_client_error (client));
    int rc = 0;
    if (points.dtype != MC_DTYPE_F64 || points.ndim != 2 || points.shape [1] != 2)
        rc = mc_cli_fail ("gather --reduce hist2d: '%s' is not an n x 2 float64 array of points", o->args [0]);
    int64_t *counts = rc? NULL: calloc (o->nx * o->ny, sizeof *counts);
    if (rc == 0 && !counts)
        rc = mc_cli_fail ("out of memory");
    if (rc == 0) {
        mc_array_hist2d (points.data, points.shape [0], counts, o->ny, o->nx, o->box [0], o->box [1], o->box [2],
                        o->box [3]);
        if (mc_cli_json || (!o->png && !o->show)) {
            json_t *rows = s_counts_json (counts, o->ny, o->nx);
            if (!rows)
                rc = mc_cli_fail ("out of memory");
            mc_cli_print_json (rows);
            json_decref (rows);
        }
        if (rc == 0) {
            char title [256];
            snprintf (title, sizeof title, "%s: %llu points", o->args [0], (unsigned long long) points.shape [0]);
            mc_cli_draw_t draw = { o->png, o->show, o->log, { o->box [0], o->box [1], o->box [2], o->box [3] },
                                   NULL, title };
            rc = mc_cli_picture (counts, o->ny, o->nx, &draw);
        }
    }
    free (counts);
    free ((void *) points.data);
    return rc;
}

//  gather, or pull of one name: to stdout, or to -o as JSON or --raw bytes.
static int
s_fetch (mc_client_t *client, const s_opts_t *o, bool gather)
{
    if (gather && o->hist)
        return s_gather_hist (client, o);
    if (o->raw) {
        mc_array_t array;
        if (mc_client_gather_array (client, o->args [0], o->targets, gather && o->round_robin, &array))
            return mc_cli_fail ("%s", mc_client_error (client));
        int rc = s_write (o->output, NULL, &array);
        free ((void *) array.data);
        return rc;
    }
    json_t *value = gather? mc_client_gather (client, o->args [0], o->targets, o->round_robin)
                          : mc_client_pull (client, o->args, (size_t) o->argc, o->targets);
    if (!value)
        return mc_cli_fail ("%s", mc_client_error (client));
    int rc = 0;
    if (o->output)
        rc = s_write (o->output, value, NULL);
    else
        mc_cli_print_json (value);
    json_decref (value);
    return rc;
}

static void
s_print_names (const json_t *engines)
{
    printf ("%6s  %-24s %-8s %12s %14s\n", "engine", "name", "type", "size", "bytes");
    size_t i;
    json_t *engine;
    json_array_foreach (engines, i, engine) {
        const char *name;
        json_t *info;
        json_object_foreach (json_object_get (engine, "names"), name, info)
            printf ("%6lld  %-24s %-8s %12lld %14lld\n", (long long) json_integer_value (json_object_get (engine, "id")),
                    name, json_string_value (json_object_get (info, "type")),
                    (long long) json_integer_value (json_object_get (info, "size")),
                    (long long) json_integer_value (json_object_get (info, "bytes")));
    }
}


//  --------------------------------------------------------------------------
//  The commands

//  push: one NAME=VALUE, read as the options say, onto the targets.
static int
s_push_one (mc_client_t *client, const s_opts_t *o, const char *arg, size_t limit)
{
    const char *eq = strchr (arg, '=');
    if (!eq)
        return mc_cli_fail ("push: expected NAME=VALUE, got '%s'", arg);
    if (!mc_value_valid_name (arg, (size_t) (eq - arg)))
        return mc_cli_fail ("push: '%.*s' is not a valid name (a letter or '_', then letters, digits or '_')",
                            (int) (eq - arg), arg);
    char *name = strndup (arg, (size_t) (eq - arg));
    if (!name)
        return mc_cli_fail ("out of memory");
    int rc = 0;
    mc_array_t array = { 0 };
    json_t *value = NULL;
    if (o->dtype)
        rc = mc_cli_value_array (eq + 1, o->dtype, limit, &array);
    else
    if (!(value = mc_cli_value_json (eq + 1, limit)))
        rc = MC_EXIT_FAILED;
    if (rc == 0 && (o->dtype? mc_client_push_array (client, name, &array, o->targets)
                            : mc_client_push (client, name, value, o->targets)))
        rc = mc_cli_fail ("%s", mc_client_error (client));
    free ((void *) array.data);
    json_decref (value);
    free (name);
    return rc;
}

static int
s_push (mc_client_t *client, const s_opts_t *o)
{
    size_t limit = (size_t) mc_client_max_value_bytes (client);
    int rc = 0;
    for (int i = 0; i < o->argc && rc == 0; i++)
        rc = s_push_one (client, o, o->args [i], limit);
    return rc;
}

int
mc_cli_push (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 1, .max_args = S_MAX_ARGS, .typed = true, .names = 0 };
    return s_run (command, argc, argv, &rules, s_push);
}

static int
s_scatter (mc_client_t *client, const s_opts_t *o)
{
    size_t limit = (size_t) mc_client_max_value_bytes (client);
    const char *name = o->args [0], *source = o->args [1];
    int rc;
    if (o->dtype) {
        mc_array_t array = { 0 };
        rc = mc_cli_value_array (source, o->dtype, limit, &array);
        if (rc == 0 && mc_client_scatter_array (client, name, &array, o->targets, o->round_robin))
            rc = mc_cli_fail ("%s", mc_client_error (client));
        free ((void *) array.data);
        return rc;
    }
    json_t *seq = mc_cli_value_list (source, limit);
    rc = seq? 0: MC_EXIT_FAILED;
    if (rc == 0 && mc_client_scatter (client, name, seq, o->targets, o->round_robin))
        rc = mc_cli_fail ("%s", mc_client_error (client));
    json_decref (seq);
    return rc;
}

int
mc_cli_scatter (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 2, .max_args = 2, .typed = true, .names = 1 };
    return s_run (command, argc, argv, &rules, s_scatter);
}

static int
s_pull (mc_client_t *client, const s_opts_t *o)
{
    return s_fetch (client, o, false);
}

int
mc_cli_pull (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 1, .max_args = S_MAX_ARGS, .output = true, .names = INT_MAX };
    return s_run (command, argc, argv, &rules, s_pull);
}

static int
s_gather (mc_client_t *client, const s_opts_t *o)
{
    return s_fetch (client, o, true);
}

int
mc_cli_gather (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 1, .max_args = 1, .output = true, .hist = true, .names = INT_MAX };
    return s_run (command, argc, argv, &rules, s_gather);
}

static int
s_del (mc_client_t *client, const s_opts_t *o)
{
    if (mc_client_delete (client, o->args, (size_t) o->argc, o->targets))
        return mc_cli_fail ("%s", mc_client_error (client));
    return 0;
}

int
mc_cli_del (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 1, .max_args = S_MAX_ARGS, .names = INT_MAX };
    return s_run (command, argc, argv, &rules, s_del);
}

static int
s_names (mc_client_t *client, const s_opts_t *o)
{
    json_t *list = mc_client_names (client, o->targets);
    if (!list)
        return mc_cli_fail ("%s", mc_client_error (client));
    if (mc_cli_json)
        mc_cli_print_json (list);
    else
        s_print_names (list);
    json_decref (list);
    return 0;
}

int
mc_cli_names (const mc_cli_command_t *command, int argc, char **argv)
{
    static const s_rules_t rules = { .min_args = 0, .max_args = 0 };
    return s_run (command, argc, argv, &rules, s_names);
}

//  --------------------------------------------------------------------------
//  Selftest

//  The options and words of `line` (split at spaces) for a command with
//  rules: the exit status of reading and checking them.
static int
s_test_line (const char *line, const s_rules_t *rules, s_opts_t *o)
{
    static char copy [512];
    char *argv [32], *save = NULL;
    int argc = 0;
    snprintf (copy, sizeof copy, "%s", line);
    for (char *word = strtok_r (copy, " ", &save); word && argc < 32; word = strtok_r (NULL, " ", &save))
        argv [argc++] = word;
    int rc = s_parse ("test", argc, argv, o);
    return rc? rc: s_check ("test", rules, o);
}

void
mc_cli_namespace_test (bool verbose)
{
    printf (" * mc_cli_namespace: ");
    if (verbose)
        printf ("\n");
    const s_rules_t gather = { .min_args = 1, .max_args = 1, .output = true, .hist = true, .names = INT_MAX };
    const s_rules_t scatter = { .min_args = 2, .max_args = 2, .typed = true, .names = 1 };
    s_opts_t o;
    assert (s_test_line ("x --dist r --targets 0,1 -o out.json", &gather, &o) == 0);
    assert (o.round_robin && json_array_size (o.targets) == 2 && !strcmp (o.output, "out.json") && o.argc == 1);
    json_decref (o.targets);
    assert (s_test_line ("x --reduce hist2d --bins 20x10 --range 0:2,0:1 --show", &gather, &o) == 0);
    assert (o.hist && o.nx == 20 && o.ny == 10 && o.box [1] == 2 && o.show);
    assert (s_test_line ("x --reduce hist2d", &gather, &o) == 0 && o.hist && o.nx == 50 && o.ny == 50);
    //  The old spelling, with a note on stderr.
    assert (s_test_line ("x --hist 20x10 --range 0:2,0:1 --show", &gather, &o) == 0);
    assert (o.hist && o.nx == 20 && o.ny == 10 && o.box [1] == 2 && o.show);
    assert (s_test_line ("x --bins 5x5", &gather, &o) == MC_EXIT_USAGE);       //  no --reduce hist2d
    assert (s_test_line ("x --reduce sum", &gather, &o) == MC_EXIT_USAGE);
    assert (s_test_line ("x -- y", &scatter, &o) == 0 && o.argc == 2);
    assert (s_test_line ("x - --type i64", &scatter, &o) == 0 && o.dtype == MC_DTYPE_I64 && !strcmp (o.args [1], "-"));
    const char *refused [] = {
        "x --dist q", "x --type f32", "x --raw", "x --png p.png", "x --log", "x --hist 5x5 --png p.gif", "x --frob",
        "x --targets", "x y", "1x", "" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        if (verbose)
            printf ("   gather %s: ", refused [i]);
        fflush (stdout);
        assert (s_test_line (refused [i], &gather, &o) == MC_EXIT_USAGE);
        json_decref (o.targets);
    }
    assert (s_test_line ("x 0:3 --hist 5x5", &scatter, &o) == MC_EXIT_USAGE);
    assert (s_test_line ("x 0:3 --reduce hist2d", &scatter, &o) == MC_EXIT_USAGE);
    assert (s_test_line ("x 0:3 -o f", &scatter, &o) == MC_EXIT_USAGE);
    assert (s_test_line ("x --type f64", &gather, &o) == MC_EXIT_USAGE);
    int64_t counts [] = { 1, 2, 3, 4, 5, 6 };
    json_t *rows = s_counts_json (counts, 2, 3);
    char *dump = json_dumps (rows, JSON_COMPACT);
    assert (dump && !strcmp (dump, "[[1,2,3],[4,5,6]]"));
    free (dump);
    json_decref (rows);
    printf ("OK\n");
}
