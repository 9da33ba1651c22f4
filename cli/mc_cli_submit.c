/*  mc_cli_submit: map and apply. */
#include "mc_cli_submit.h"
#include "mc_picture.h"
#include "mc_value.h"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A submit as its command line gives it.
typedef struct {
    json_t *spec;                   //  the job: kind, kernel, args, kwargs, seq, ...
    bool is_map;
    bool async, show, log;          //  --async, --show, --log
    bool kernel_seen, seq_seen;
    const char *png, *reduce;       //  --png FILE (.png, .svg or .pdf), --reduce sum|hist2d
    size_t nx, ny;                  //  --bins
    double box [4];                 //  --range
    long coords [2];                //  --coords I,J: two coordinates of N-D points
    bool coords_seen;
} s_submit_t;

enum { S_OUT = 1, S_TARGETS, S_CHUNKSIZE, S_SEED, S_RETRIES, S_PRIORITY, S_ASYNC, S_SHOW, S_TASKS, S_REDUCE, S_BINS, S_RANGE, S_PNG,
       S_COORDS, S_LOG };
const mc_cli_option_t mc_cli_submit_options [] = {
    { "--targets", S_TARGETS, true, "T", "direct: 'all', ids '0,2', a range '1:3', or a mix", NULL },
    { "--chunksize", S_CHUNKSIZE, true, "N", "items per task of a load-balanced map (default 1)", "map" },
    { "--seed", S_SEED, true, "S", "job seed (default: drawn and recorded)", NULL },
    { "--retries", S_RETRIES, true, "N", "run a task whose kernel fails up to N more times (default 0)", NULL },
    { "--priority", S_PRIORITY, true, "N", "-1000..1000 (default 0): higher-priority jobs' tasks go first; "
                                           "equal ones share the engines (see renice)", NULL },
    { "--async", S_ASYNC, false, NULL, "print the job id at once instead of waiting", NULL },
    { "--out", S_OUT, true, "NAME", "store each task's result as NAME on its engine", NULL },
    { "--tasks", S_TASKS, true, "N", "run N tasks (items 0..N-1) instead of a SEQ", "map" },
    { "--reduce", S_REDUCE, true, "sum|hist2d", "one answer: results summed at the controller, or points binned", NULL },
    { "--bins", S_BINS, true, "NXxNY", "hist2d: bins along x and y (default 50x50)", NULL },
    { "--range", S_RANGE, true, "x0:x1,y0:y1", "hist2d: the box binned (default 0:1,0:1)", NULL },
    { "--png", S_PNG, true, "FILE", "hist2d: a picture with axes and colour bar (.png, .svg or .pdf); "
                                    "pi: its points", NULL },
    { "--show", S_SHOW, false, NULL, "hist2d: draw the counts on the terminal, as wide as it is", NULL },
    { "--log", S_LOG, false, NULL, "hist2d: colours by log10(1 + count) in --png and --show", NULL },
    { "--coords", S_COORDS, true, "I,J", "hist2d: the two coordinates of N-D points binned (default 0,1)", NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

//  Set key of the spec to value (taken). 0, or MC_EXIT_FAILED (said).
static int
s_set (s_submit_t *s, const char *key, json_t *value)
{
    if (!value || json_object_set_new (s->spec, key, value))
        return mc_cli_fail ("out of memory");
    return 0;
}

//  --chunksize N, or --seed S and --retries N: an integer, at least 1, or at
//  least 0 (seed true).
static int
s_integer_option (s_submit_t *s, const char *arg, const char *value, bool seed)
{
    char *end;
    errno = 0;
    long long number = strtoll (value, &end, 10);
    if (*end || end == value || errno || number < (seed? 0: 1))
        return mc_cli_fail ("bad %s '%s': expected a %s integer", arg, value, seed? "non-negative": "positive");
    return s_set (s, arg + 2, json_integer (number));
}

//  --priority N: any integer (the controller says which it takes).
static int
s_priority_option (s_submit_t *s, const char *value)
{
    char *end;
    errno = 0;
    long long number = strtoll (value, &end, 10);
    if (*end || end == value || errno || number < INT32_MIN || number > INT32_MAX) {
        mc_cli_fail ("bad --priority '%s': expected an integer (higher runs first)", value);
        return MC_EXIT_USAGE;
    }
    return s_set (s, "priority", json_integer (number));
}

//  --seed S: any unsigned 64-bit integer. Past 2^63, where JSON integers
//  end, it goes as a string of digits (libmcclient sends it as the number).
static int
s_seed_option (s_submit_t *s, const char *value)
{
    char *end;
    errno = 0;
    unsigned long long seed = strtoull (value, &end, 10);
    if (!isdigit ((unsigned char) value [0]) || *end || errno)
        return mc_cli_fail ("bad --seed '%s': expected an integer from 0 to 18446744073709551615", value);
    return s_set (s, "seed", seed > INT64_MAX? json_string (value): json_integer ((json_int_t) seed));
}

//  --coords I,J: which two coordinates of N-D points hist2d bins.
static int
s_coords_option (s_submit_t *s, const char *value)
{
    char *end, *mid;
    errno = 0;
    s->coords [0] = strtol (value, &mid, 10);
    s->coords [1] = *mid == ','? strtol (mid + 1, &end, 10): -1;
    if (!isdigit ((unsigned char) value [0]) || *mid != ',' || !isdigit ((unsigned char) mid [1]) || *end || errno
    ||  s->coords [0] > 63 || s->coords [1] > 63) {
        mc_cli_fail ("bad --coords '%s': expected I,J, two coordinates from 0 to 63 (e.g. 0,1)", value);
        return MC_EXIT_USAGE;
    }
    s->coords_seen = true;
    return 0;
}

//  --tasks N: map over 0..N-1.
static int
s_tasks_option (s_submit_t *s, const char *value)
{
    char *end;
    long long n = strtoll (value, &end, 10);
    if (*end || n < 1 || n > 100000000 || !s->is_map || s->seq_seen) {
        mc_cli_fail (!s->is_map? "--tasks is for map": s->seq_seen? "--tasks replaces SEQ: give one or the other"
                     : "bad --tasks '%s': expected a count from 1 to 100000000", value);
        return MC_EXIT_USAGE;
    }
    s->seq_seen = true;
    return s_set (s, "seq", json_pack ("{s:[iIi]}", "range", 0, (json_int_t) n, 1))? MC_EXIT_USAGE: 0;
}

//  One option (arg), with its value or NULL when it has none. 0, or an
//  exit status (said).
static int
s_option (s_submit_t *s, const mc_cli_option_t *option, const char *arg, const char *value)
{
    if (option->code == S_OUT && (!value || !mc_value_valid_name (value, strlen (value)))) {
        mc_cli_fail ("--out needs a name (a letter or '_', then letters, digits or '_')");
        return MC_EXIT_USAGE;
    }
    if (option->takes_value && !value) {
        mc_cli_fail ("%s needs a value", arg);
        return MC_EXIT_USAGE;
    }
    switch (option->code) {
        case S_OUT:
            return s_set (s, "out", json_string (value))? MC_EXIT_USAGE: 0;
        case S_TARGETS: {
            json_t *targets = mc_cli_parse_targets (value);
            return targets? s_set (s, "targets", targets): MC_EXIT_FAILED;
        }
        case S_CHUNKSIZE:
        case S_RETRIES:
            return s_integer_option (s, arg, value, option->code != S_CHUNKSIZE);
        case S_PRIORITY:
            return s_priority_option (s, value);
        case S_SEED:
            return s_seed_option (s, value);
        case S_COORDS:
            return s_coords_option (s, value);
        case S_ASYNC:
            s->async = true;
            return 0;
        case S_SHOW:
            s->show = true;
            return 0;
        case S_TASKS:
            return s_tasks_option (s, value);
        case S_REDUCE:
            if (strcmp (value, "sum") && strcmp (value, "hist2d")) {
                mc_cli_fail ("bad --reduce '%s': expected sum or hist2d", value);
                return MC_EXIT_USAGE;
            }
            s->reduce = value;
            return 0;
        case S_BINS:
            return mc_cli_parse_bins (value, &s->nx, &s->ny)? MC_EXIT_USAGE: 0;
        case S_RANGE:
            return mc_cli_parse_box (value, s->box)? MC_EXIT_USAGE: 0;
        case S_PNG: {
            char err [512];
            if (mc_picture_format_ok (value, err, sizeof err)) {
                mc_cli_fail ("--png: %s", err);
                return MC_EXIT_USAGE;
            }
            s->png = value;
            return 0;
        }
        case S_LOG:
            s->log = true;
            return 0;
    }
    assert (false);                 //  a row of mc_cli_submit_options without a case
    return MC_EXIT_USAGE;
}

//  KEY=VALUE, with KEY a name.
static bool
s_is_kwarg (const char *arg)
{
    const char *eq = strchr (arg, '=');
    if (!eq || eq == arg || !(isalpha ((unsigned char) arg [0]) || arg [0] == '_'))
        return false;
    for (const char *c = arg; c < eq; c++)
        if (!isalnum ((unsigned char) *c) && *c != '_')
            return false;
    return true;
}

//  A sequence to map over: a range, a JSON array, or @file.json. NULL (said).
static json_t *
s_parse_seq (const char *text)
{
    int64_t start, stop, step;
    char err [512];
    int rc = mc_value_parse_range (text, &start, &stop, &step, err, sizeof err);
    if (rc == 0) {
        json_t *seq = json_pack ("{s:[III]}", "range", (json_int_t) start, (json_int_t) stop, (json_int_t) step);
        if (!seq)
            mc_cli_fail ("out of memory");
        return seq;
    }
    if (rc < 0) {
        mc_cli_fail ("%s", err);
        return NULL;
    }
    json_t *seq = mc_value_parse_arg (text, err, sizeof err);
    if (!seq)
        mc_cli_fail ("%s", err);
    else
    if (!json_is_array (seq)) {
        mc_cli_fail ("cannot map over '%s': expected a range a:b[:step] or a JSON array", text);
        json_decref (seq);
        return NULL;
    }
    return seq;
}

//  An argument (ARG or KEY=VALUE) into the spec's args or kwargs. An
//  @name value is the value of name in the namespace of the engine that
//  runs it. 0, or MC_EXIT_FAILED (said).
static int
s_argument (s_submit_t *s, const char *arg)
{
    char err [512];
    bool kw = s_is_kwarg (arg);
    const char *text = kw? strchr (arg, '=') + 1: arg;
    json_t *value;
    if (text [0] == '@') {
        value = mc_value_valid_name (text + 1, strlen (text + 1))? mc_ref (text + 1): NULL;
        if (!value)
            snprintf (err, sizeof err, "bad argument '%s': '@' must be followed by a name", text);
    }
    else
        value = mc_value_parse_arg (text, err, sizeof err);
    if (!value)
        return mc_cli_fail ("%s", err);
    if (!kw)
        return json_array_append_new (json_object_get (s->spec, "args"), value)? mc_cli_fail ("out of memory"): 0;
    char *key = strndup (arg, (size_t) (strchr (arg, '=') - arg));
    int rc = !key || json_object_set_new (json_object_get (s->spec, "kwargs"), key, value);
    if (!key)
        json_decref (value);
    free (key);
    return rc? mc_cli_fail ("out of memory"): 0;
}

//  A word that is no option: the kernel, then (map) the sequence, then
//  arguments. 0, or an exit status (said).
static int
s_word (s_submit_t *s, const char *arg)
{
    if (!s->kernel_seen) {
        s->kernel_seen = true;
        json_t *kernel = json_string (arg);
        if (!kernel && (kernel = json_string_nocheck (arg))) {
            //  No UTF-8: sent without a kernel, for the controller to refuse.
            json_decref (kernel);
            return 0;
        }
        return s_set (s, "kernel", kernel);
    }
    if (s->is_map && !s->seq_seen) {
        json_t *seq = s_parse_seq (arg);
        if (!seq)
            return MC_EXIT_FAILED;
        s->seq_seen = true;
        return s_set (s, "seq", seq);
    }
    return s_argument (s, arg);
}

//  The items of the spec's seq: a range's length or an array's size.
static int64_t
s_items (const json_t *spec)
{
    json_t *seq = json_object_get (spec, "seq"), *range = json_object_get (seq, "range");
    if (!range)
        return (int64_t) json_array_size (seq);
    int64_t start = json_integer_value (json_array_get (range, 0)), stop = json_integer_value (json_array_get (range, 1));
    int64_t step = json_integer_value (json_array_get (range, 2));
    if (step > 0 && stop > start)
        return (stop - start + step - 1) / step;
    if (step < 0 && stop < start)
        return (start - stop - step - 1) / -step;
    return 0;
}

//  map pi --png FILE: each task also returns a sample of its points
//  (points=K, unless given), for about 2000 in all; the results come back
//  one per item (no --reduce sum: the CLI sums them) for the picture.
static int
s_pi_picture (s_submit_t *s)
{
    if (s->reduce && strcmp (s->reduce, "sum")) {
        mc_cli_fail ("--png draws map pi's points and estimate: give no --reduce %s", s->reduce);
        return MC_EXIT_USAGE;
    }
    if (s->reduce)
        json_object_del (s->spec, "reduce");
    json_t *kwargs = json_object_get (s->spec, "kwargs");
    if (!json_object_get (kwargs, "points")
    &&  json_object_set_new (kwargs, "points", json_integer (mc_cli_pi_points (s_items (s->spec)))))
        return mc_cli_fail ("out of memory");
    return 0;
}

//  What the whole command line says, checked together. 0, or an exit
//  status (said).
static int
s_finish_spec (s_submit_t *s)
{
    if (!s->kernel_seen || (s->is_map && !s->seq_seen)) {
        mc_cli_fail (s->is_map? "map needs a KERNEL and a SEQ (see mcclient help map)"
                              : "apply needs a KERNEL (see mcclient help apply)");
        return MC_EXIT_USAGE;
    }
    if (s->reduce && !strcmp (s->reduce, "sum") && s_set (s, "reduce", json_string ("sum")))
        return MC_EXIT_FAILED;
    if (s->reduce && strcmp (s->reduce, "sum")
    &&  s_set (s, "reduce", json_pack ("{s:s, s:[II], s:[ffff]}", "op", "hist2d", "bins", (json_int_t) s->nx,
                                       (json_int_t) s->ny, "range", s->box [0], s->box [1], s->box [2], s->box [3])))
        return MC_EXIT_FAILED;
    if (s->coords_seen && (!s->reduce || strcmp (s->reduce, "hist2d"))) {
        mc_cli_fail ("--coords chooses the coordinates of --reduce hist2d");
        return MC_EXIT_USAGE;
    }
    if (s->coords_seen
    &&  json_object_set_new (json_object_get (s->spec, "reduce"), "coords",
                             json_pack ("[II]", (json_int_t) s->coords [0], (json_int_t) s->coords [1])))
        return MC_EXIT_FAILED;
    const char *kernel = json_string_value (json_object_get (s->spec, "kernel"));
    if (s->is_map && kernel && !strcmp (kernel, "pi") && s->png && !s->show)
        return s_pi_picture (s);
    if ((s->png || s->show) && (!s->reduce || strcmp (s->reduce, "hist2d"))) {
        mc_cli_fail ("--png and --show draw the histogram of --reduce hist2d (or, --png only, a map of pi)");
        return MC_EXIT_USAGE;
    }
    if (s->log && !s->png && !s->show) {
        mc_cli_fail ("--log colours the picture of --png or --show");
        return MC_EXIT_USAGE;
    }
    if (json_object_get (s->spec, "chunksize") && json_object_get (s->spec, "targets")) {
        mc_cli_fail ("--chunksize is for load-balanced maps; a direct map sends one block per target");
        return MC_EXIT_USAGE;
    }
    return 0;
}

//  The command line of a map or apply into s (whose spec the caller
//  decrefs). 0, or an exit status (said).
static int
s_parse (s_submit_t *s, int argc, char **argv, bool is_map)
{
    *s = (s_submit_t) { .is_map = is_map, .nx = 50, .ny = 50, .box = { 0, 1, 0, 1 } };
    s->spec = json_pack ("{s:s, s:[], s:{}}", "kind", is_map? "map": "apply", "args", "kwargs");
    if (!s->spec)
        return mc_cli_fail ("out of memory");
    bool options = true;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        const mc_cli_option_t *option = options? mc_cli_option (mc_cli_submit_options, arg): NULL;
        int rc = 0;
        if (options && !strcmp (arg, "--"))
            options = false;
        else
        if (option) {
            const char *value = option->takes_value && i + 1 < argc? argv [++i]: NULL;
            rc = s_option (s, option, arg, value);
        }
        else
        if (options && !strncmp (arg, "--", 2) && arg [2]) {
            mc_cli_fail ("unknown option '%s' (see mcclient help %s)", arg, is_map? "map": "apply");
            rc = MC_EXIT_USAGE;
        }
        else
            rc = s_word (s, arg);
        if (rc)
            return rc;
    }
    return s_finish_spec (s);
}

static int
s_submit (int argc, char **argv, bool is_map)
{
    s_submit_t s;
    int rc = s_parse (&s, argc, argv, is_map);
    mc_client_t *client = rc? NULL: mc_cli_connect ();
    if (rc || !client) {
        json_decref (s.spec);
        return rc? rc: MC_EXIT_FAILED;
    }
    rc = MC_EXIT_FAILED;
    json_t *reply = mc_client_submit (client, s.spec, !s.async);
    if (!reply)
        mc_cli_fail ("%s", mc_client_error (client));
    else
    if (s.async) {
        const char *job = json_string_value (json_object_get (reply, "job"));
        if (mc_cli_json)
            mc_cli_print_json (json_object_get (reply, "job"));
        else
            puts (job? job: "?");
        rc = 0;
    }
    else {
        mc_cli_draw_t draw = { s.png, s.show, s.log, { s.box [0], s.box [1], s.box [2], s.box [3] }, s.spec, NULL };
        rc = mc_cli_print_result (reply, &draw);
    }
    json_decref (reply);
    mc_client_destroy (&client);
    json_decref (s.spec);
    return rc;
}

int
mc_cli_map (const mc_cli_command_t *command, int argc, char **argv)
{
    (void) command;
    return s_submit (argc, argv, true);
}

int
mc_cli_apply (const mc_cli_command_t *command, int argc, char **argv)
{
    (void) command;
    return s_submit (argc, argv, false);
}

//  --------------------------------------------------------------------------
//  Selftest

//  The spec of a command line (words split at spaces) as compact JSON, or
//  with rc non-zero that it is refused with that status.
static void
s_test_spec (const char *line, bool is_map, int rc, const char *expect, bool verbose)
{
    char copy [512], *argv [32], *save = NULL;
    int argc = 0;
    snprintf (copy, sizeof copy, "%s", line);
    for (char *word = strtok_r (copy, " ", &save); word && argc < 32; word = strtok_r (NULL, " ", &save))
        argv [argc++] = word;
    s_submit_t s;
    int got = s_parse (&s, argc, argv, is_map);
    char *dump = got? NULL: json_dumps (s.spec, JSON_COMPACT | JSON_SORT_KEYS);
    if (verbose)
        printf ("   %s %s: %d %s\n", is_map? "map": "apply", line, got, dump? dump: "");
    assert (got == rc);
    assert (!expect || (dump && !strcmp (dump, expect)));
    free (dump);
    json_decref (s.spec);
}

void
mc_cli_submit_test (bool verbose)
{
    printf (" * mc_cli_submit: ");
    if (verbose)
        printf ("\n");
    assert (s_is_kwarg ("a=1") && s_is_kwarg ("_x2=@y") && !s_is_kwarg ("=1") && !s_is_kwarg ("1a=2")
         && !s_is_kwarg ("a-b=2") && !s_is_kwarg ("[1]"));
    s_test_spec ("square 0:4", true, 0,
                 "{\"args\":[],\"kernel\":\"square\",\"kind\":\"map\",\"kwargs\":{},\"seq\":{\"range\":[0,4,1]}}", verbose);
    s_test_spec ("--targets 0,2 --seed 7 echo 1.5 [1,2] x=@y s=text", false, 0,
                 "{\"args\":[1.5,[1,2]],\"kernel\":\"echo\",\"kind\":\"apply\",\"kwargs\":{\"s\":\"text\","
                 "\"x\":{\"$ref\":\"y\"}},\"seed\":7,\"targets\":[0,2]}", verbose);
    s_test_spec ("--tasks 3 --chunksize 2 --out r pi -- --x", true, 0,
                 "{\"args\":[\"--x\"],\"chunksize\":2,\"kernel\":\"pi\",\"kind\":\"map\",\"kwargs\":{},\"out\":\"r\","
                 "\"seq\":{\"range\":[0,3,1]}}", verbose);
    s_test_spec ("walker --tasks 2 --reduce hist2d --bins 4x2 --range 0:2,0:1", true, 0,
                 "{\"args\":[],\"kernel\":\"walker\",\"kind\":\"map\",\"kwargs\":{},\"reduce\":{\"bins\":[4,2],"
                 "\"op\":\"hist2d\",\"range\":[0.0,2.0,0.0,1.0]},\"seq\":{\"range\":[0,2,1]}}", verbose);
    s_test_spec ("walker --tasks 1 --reduce hist2d --bins 1x1 --range 0:1,0:1 --coords 3,0", true, 0,
                 "{\"args\":[],\"kernel\":\"walker\",\"kind\":\"map\",\"kwargs\":{},\"reduce\":{\"bins\":[1,1],"
                 "\"coords\":[3,0],\"op\":\"hist2d\",\"range\":[0.0,1.0,0.0,1.0]},\"seq\":{\"range\":[0,1,1]}}", verbose);
    s_test_spec ("walker --tasks 1 --coords 0,1", true, MC_EXIT_USAGE, NULL, verbose);     //  no hist2d
    s_test_spec ("walker --tasks 1 --reduce hist2d --coords 0", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("walker --tasks 1 --reduce hist2d --coords 0,64", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("walker --tasks 1 --reduce hist2d --coords 0,-1", true, MC_EXIT_USAGE, NULL, verbose);
    //  Seeds: the whole unsigned 64-bit range; past 2^63 as a string of digits.
    s_test_spec ("noop --seed 9223372036854775807", false, 0,
                 "{\"args\":[],\"kernel\":\"noop\",\"kind\":\"apply\",\"kwargs\":{},\"seed\":9223372036854775807}", verbose);
    s_test_spec ("noop --seed 18446744073709551615", false, 0,
                 "{\"args\":[],\"kernel\":\"noop\",\"kind\":\"apply\",\"kwargs\":{},\"seed\":\"18446744073709551615\"}",
                 verbose);
    s_test_spec ("noop --seed 18446744073709551616", false, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("noop --seed -1", false, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("square", true, MC_EXIT_USAGE, NULL, verbose);                    //  no SEQ
    s_test_spec ("", false, MC_EXIT_USAGE, NULL, verbose);                         //  no KERNEL
    s_test_spec ("--frob square 0:3", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("--chunksize 0 square 0:3", true, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("square 0:x", true, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("square 0:3 @1x", true, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("--tasks 3 square", false, MC_EXIT_USAGE, NULL, verbose);         //  for map only
    s_test_spec ("square 0:3 --tasks 3", true, MC_EXIT_USAGE, NULL, verbose);      //  one or the other
    s_test_spec ("--png p.png square 0:3", true, MC_EXIT_USAGE, NULL, verbose);
    //  Pictures: a file of a picture format; pi's points for --png (about 2000 in all), no sum.
    s_test_spec ("walker --tasks 2 --reduce hist2d --png w.jpg", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("walker --tasks 2 --reduce hist2d --log", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("walker --tasks 2 --reduce hist2d --png w.svg --log", true, 0, NULL, verbose);
    s_test_spec ("pi --tasks 100 samples=1e6 --seed 7 --reduce sum --png pi.pdf", true, 0,
                 "{\"args\":[],\"kernel\":\"pi\",\"kind\":\"map\",\"kwargs\":{\"points\":20,\"samples\":1000000.0},"
                 "\"seed\":7,\"seq\":{\"range\":[0,100,1]}}", verbose);
    s_test_spec ("pi 0:10:3 samples=1e6 points=5 --png pi.png", true, 0,
                 "{\"args\":[],\"kernel\":\"pi\",\"kind\":\"map\",\"kwargs\":{\"points\":5,\"samples\":1000000.0},"
                 "\"seq\":{\"range\":[0,10,3]}}", verbose);
    s_test_spec ("pi --tasks 3 samples=1e6 --show", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("pi --tasks 3 samples=1e6 --reduce hist2d --png pi.png", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("--targets all --chunksize 2 square 0:3", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("square 0:3 --seed", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("--out 1x square 0:3", true, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("--retries 2 fail boom", false, 0,
                 "{\"args\":[\"boom\"],\"kernel\":\"fail\",\"kind\":\"apply\",\"kwargs\":{},\"retries\":2}", verbose);
    s_test_spec ("--retries -1 fail boom", false, MC_EXIT_FAILED, NULL, verbose);
    s_test_spec ("--priority -5 square 2", false, 0,
                 "{\"args\":[2],\"kernel\":\"square\",\"kind\":\"apply\",\"kwargs\":{},\"priority\":-5}", verbose);
    s_test_spec ("--priority high square 2", false, MC_EXIT_USAGE, NULL, verbose);
    s_test_spec ("square 0:3 --retries", true, MC_EXIT_USAGE, NULL, verbose);
    printf ("OK\n");
}
