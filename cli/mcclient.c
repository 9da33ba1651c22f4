/*  mcclient: the command line over libmcclient. Global options, then one
    command; human output by default, exact JSON with --json. */
#include "mc_cli.h"
#include "mc_picture.h"
#include "mc_value.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


bool mc_cli_json;
static const char *s_profile;
static int s_connect_ms = 0;        //  0: the library's default

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: mcclient [--profile-dir DIR] [--json] [--connect-timeout S] COMMAND ...\n\n"
        "Cluster:\n"
        "  ids                          engine ids\n"
        "  engines                      engines with host, pid, state and tasks done\n"
        "  kernels                      every kernel the engines have: doc, typed arguments, engines\n"
        "  queue                        tasks queued at the controller and running per engine\n"
        "  shutdown                     stop the controller and all its engines\n"
        "Work (KERNEL is noop, echo, square, sleep, fail, ...):\n"
        "  map [OPTIONS] KERNEL SEQ [ARG...] [KEY=VALUE...]\n"
        "                               KERNEL(item, ARG..., KEY=VALUE...) for each item of SEQ:\n"
        "                               a range a:b[:step] (b excluded) or a JSON array\n"
        "  apply [OPTIONS] KERNEL [ARG...] [KEY=VALUE...]\n"
        "                               one call, on one engine (load-balanced) or on --targets\n"
        "    --targets T                direct: 'all', ids '0,2', a range '1:3', or a mix\n"
        "    --chunksize N              items per task of a load-balanced map (default 1)\n"
        "    --seed S                   job seed (default: drawn and recorded)\n"
        "    --async                    print the job id at once instead of waiting\n"
        "    --out NAME                 store each task's result as NAME on its engine\n"
        "    --tasks N                  map: run N tasks (items 0..N-1) instead of a SEQ\n"
        "    --reduce sum|hist2d        one answer: results summed field by field at the controller;\n"
        "                               hist2d bins each task's points on its engine and sums the counts\n"
        "    --bins NXxNY --range x0:x1,y0:y1   hist2d bins (default 50x50) and box (default 0:1,0:1)\n"
        "    --png FILE, --show         draw the hist2d counts into a PNG file, or on the terminal\n"
        "                               (an argument @NAME reads NAME there)\n"
        "Engine namespaces (on every engine, or on --targets T):\n"
        "  push NAME=VALUE...           set NAME on each engine (VALUE: as arguments, @file.json, -)\n"
        "  pull NAME...                 each engine's value (a list of values for several names)\n"
        "  scatter NAME SEQ             split SEQ (range, JSON array, @file.json, -) one part per engine\n"
        "  gather NAME                  join the parts of NAME back into one list\n"
        "  del NAME...                  remove names\n"
        "  names                        each engine's names with type and size\n"
        "    --dist b|r                 scatter/gather in blocks (default) or round robin\n"
        "    --type f64|i64             push/scatter a typed array: @file and - are raw little-endian\n"
        "    -o FILE [--raw]            pull/gather into FILE as JSON, or as raw bytes\n"
        "    --hist NXxNY [--range x0:x1,y0:y1] [--png FILE] [--show]\n"
        "                               gather: bin n x 2 points into counts, and draw them\n"
        "Jobs (JOB is an id like j12):\n"
        "  status JOB                   state, counts, seed and times\n"
        "  ready JOB                    true when the job has finished\n"
        "  wait JOB [--timeout S]       block until done (progress bar on a terminal)\n"
        "  get JOB [--meta]             the results, in order; --meta: per task its engine, times\n"
        "                               and what the kernel reported (e.g. walker acceptance)\n"
        "  jobs [--limit N]             recent jobs, newest first\n\n"
        "Arguments: true/false/null, integers, floats (1e7), JSON ([1,2], {\"a\":1}, \"text\"),\n"
        "anything else is a string. KEY=VALUE passes a keyword argument.\n"
        "Profile: --profile-dir, else $MCCLUSTER_DIR, else ~/.mccluster/default.\n"
        "Each wait for a reply polls for $MCCLUSTER_SPIN_US (default 500) microseconds, then sleeps.\n"
        "Exit status: 0 success; 1 error or failed tasks; 2 bad usage; 3 wait timed out.\n");
}

int
mc_cli_fail (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "mcclient: ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    return EXIT_FAILED;
}

void
mc_cli_print_json (const json_t *value)
{
    char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text) {
        puts (text);
        free (text);
    }
}

mc_client_t *
mc_cli_connect (void)
{
    char err [1024];
    mc_client_t *client = mc_client_new (s_profile, s_connect_ms, err, sizeof err);
    if (!client)
        mc_cli_fail ("%s", err);
    return client;
}

//  A request whose failure ends the command.
static json_t *
s_call (mc_client_t *client, const char *op, json_t *body)
{
    json_t *reply = mc_client_call (client, op, body, -1);
    json_decref (body);
    if (!reply)
        mc_cli_fail ("%s", mc_client_error (client));
    return reply;
}

//  "all", "0,2", "1:3", "0,4:6" -> JSON ("all" or an array of ids).
json_t *
mc_cli_parse_targets (const char *text)
{
    if (!strcmp (text, "all"))
        return json_string ("all");
    json_t *ids = json_array ();
    char *copy = strdup (text), *save = NULL;
    for (char *part = strtok_r (copy, ",", &save); part; part = strtok_r (NULL, ",", &save)) {
        int64_t start, stop, step;
        char err [256];
        int rc = mc_value_parse_range (part, &start, &stop, &step, err, sizeof err);
        if (rc == 1) {
            char *end;
            errno = 0;
            long id = strtol (part, &end, 10);
            if (*end || end == part || id < 0 || errno) {
                mc_cli_fail ("bad --targets '%s': '%s' is not an engine id", text, part);
                goto fail;
            }
            start = id, stop = id + 1, step = 1;
        }
        else
        if (rc < 0 || start < 0 || stop < 0 || step <= 0 || stop - start > 100000) {
            mc_cli_fail ("bad --targets '%s': '%s' is not a range of engine ids", text, part);
            goto fail;
        }
        for (int64_t id = start; id < stop; id += step)
            json_array_append_new (ids, json_integer (id));
    }
    free (copy);
    if (json_array_size (ids) == 0) {
        mc_cli_fail ("bad --targets '%s': no engine ids", text);
        json_decref (ids);
        return NULL;
    }
    return ids;
fail:
    free (copy);
    json_decref (ids);
    return NULL;
}

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

//  A sequence to map over: a range, a JSON array, or @file.json.
static json_t *
s_parse_seq (const char *text)
{
    int64_t start, stop, step;
    char err [512];
    int rc = mc_value_parse_range (text, &start, &stop, &step, err, sizeof err);
    if (rc == 0)
        return json_pack ("{s:[III]}", "range", (json_int_t) start, (json_int_t) stop, (json_int_t) step);
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

static double
s_now (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

//  Print failures grouped by message. Returns EXIT_FAILED when any.
static int
s_report_failures (const json_t *result)
{
    json_t *errors = json_object_get (result, "errors");
    if (json_array_size (errors) == 0)
        return 0;
    json_int_t failed = json_integer_value (json_object_get (result, "failed"));
    json_int_t total = json_integer_value (json_object_get (result, "total"));
    size_t i;
    json_t *group;
    //  One distinct error reads on one line; several get a line each.
    bool one = json_array_size (errors) == 1;
    fprintf (stderr, "mcclient: %s: %lld of %lld items failed%s",
             json_string_value (json_object_get (result, "job")), (long long) failed, (long long) total,
             one? ": ": "\n");
    json_array_foreach (errors, i, group) {
        json_int_t count = json_integer_value (json_object_get (group, "count"));
        json_t *engines = json_object_get (group, "engines");
        fprintf (stderr, "%s%s (%lld task%s on engine%s ", one? "": "  ",
                 json_string_value (json_object_get (group, "error")), (long long) count, count == 1? "": "s",
                 json_array_size (engines) == 1? "": "s");
        size_t k;
        json_t *id;
        json_array_foreach (engines, k, id)
            fprintf (stderr, "%s%lld", k? ",": "", (long long) json_integer_value (id));
        fprintf (stderr, ")\n");
    }
    if (mc_cli_json) {
        json_t *out = json_pack ("{s:s, s:s, s:O}", "error", "tasks failed",
                                 "job", json_string_value (json_object_get (result, "job")), "errors", errors);
        mc_cli_print_json (out);
        json_decref (out);
    }
    return EXIT_FAILED;
}

int
mc_cli_parse_bins (const char *text, size_t *nx, size_t *ny)
{
    char *end;
    unsigned long x = strtoul (text, &end, 10), y = 0;
    if (*end == 'x')
        y = strtoul (end + 1, &end, 10);
    if (*end || x < 1 || y < 1 || x > 4096 || y > 4096)
        return mc_cli_fail ("bad bins '%s': expected NXxNY, e.g. 50x50 (at most 4096 each)", text);
    *nx = x;
    *ny = y;
    return 0;
}

int
mc_cli_parse_box (const char *text, double box [4])
{
    char *end = (char *) text;
    for (int i = 0; i < 4; i++) {
        box [i] = strtod (end, &end);
        if (*end != (i == 3? 0: i == 1? ',': ':'))
            return mc_cli_fail ("bad range '%s': expected x0:x1,y0:y1, e.g. 0:1,0:1", text);
        if (i < 3)
            end++;
    }
    if (!(box [0] < box [1]) || !(box [2] < box [3]))
        return mc_cli_fail ("bad range '%s': each lower bound must be below its upper bound", text);
    return 0;
}

int
mc_cli_picture (const int64_t *counts, size_t rows, size_t cols, const char *png, bool show)
{
    char err [512];
    if (png && mc_picture_png (png, counts, rows, cols, cols < 200? 8: 2, err, sizeof err))
        return mc_cli_fail ("%s", err);
    if (show)
        mc_picture_show (stdout, counts, rows, cols);
    return 0;
}

//  A JSON list of lists of integers as counts (rows x cols); NULL when it
//  is not one.
static int64_t *
s_counts (const json_t *value, size_t *rows, size_t *cols)
{
    *rows = json_array_size (value);
    *cols = json_array_size (json_array_get (value, 0));
    if (*rows == 0 || *cols == 0)
        return NULL;
    int64_t *counts = calloc (*rows * *cols, sizeof *counts);
    for (size_t r = 0; r < *rows; r++) {
        json_t *row = json_array_get (value, r);
        if (json_array_size (row) != *cols) {
            free (counts);
            return NULL;
        }
        for (size_t c = 0; c < *cols; c++)
            counts [r * *cols + c] = json_integer_value (json_array_get (row, c));
    }
    return counts;
}

//  Print what a finished job returned: the value of a single apply (or a
//  reduction), else the list; a pi sum as its estimate, a histogram as a
//  picture. Failures go to stderr and set the exit status.
static int
s_print_result (const json_t *result, const char *png, bool show)
{
    if (s_report_failures (result))
        return EXIT_FAILED;
    json_t *results = json_object_get (result, "results");
    json_t *value = json_is_true (json_object_get (result, "single"))? json_array_get (results, 0): results;
    const char *kernel = json_string_value (json_object_get (result, "kernel"));
    json_t *hits = json_object_get (value, "hits"), *samples = json_object_get (value, "samples");
    if (!mc_cli_json && kernel && !strcmp (kernel, "pi") && json_is_integer (hits) && json_is_integer (samples)) {
        //  4 p, with the binomial standard error 4 sqrt (p (1 - p) / n).
        double n = (double) json_integer_value (samples), p = json_integer_value (hits) / n;
        printf ("pi = %.8f +- %.8f  (%.0f samples, %lld hits; error %+.2e)\n", 4 * p, 4 * sqrt (p * (1 - p) / n), n,
                (long long) json_integer_value (hits), 4 * p - M_PI);
    }
    else
    if (!show || mc_cli_json)
        mc_cli_print_json (value);
    if (png || show) {
        size_t rows, cols;
        int64_t *counts = s_counts (value, &rows, &cols);
        if (!counts)
            return mc_cli_fail ("--png and --show draw histograms (--reduce hist2d); this result is not one");
        int rc = mc_cli_picture (counts, rows, cols, png, show && !mc_cli_json);
        free (counts);
        return rc;
    }
    return 0;
}

static int
s_cmd_submit (int argc, char **argv, bool is_map)
{
    json_t *spec = json_pack ("{s:s, s:[], s:{}}", "kind", is_map? "map": "apply", "args", "kwargs");
    bool async = false, kernel_seen = false, seq_seen = false, options = true, show = false;
    const char *png = NULL, *reduce = NULL;
    size_t nx = 50, ny = 50;
    double box [4] = { 0, 1, 0, 1 };
    int rc = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        bool has_value = i + 1 < argc;
        if (options && !strcmp (arg, "--")) {
            options = false;
            continue;
        }
        if (options && !strcmp (arg, "--out")) {
            if (!has_value || !mc_value_valid_name (argv [i + 1], strlen (argv [i + 1]))) {
                mc_cli_fail ("--out needs a name (a letter or '_', then letters, digits or '_')");
                goto done;
            }
            json_object_set_new (spec, "out", json_string (argv [++i]));
            continue;
        }
        if (options && (!strcmp (arg, "--targets") || !strcmp (arg, "--chunksize") || !strcmp (arg, "--seed"))) {
            if (!has_value) {
                mc_cli_fail ("%s needs a value", arg);
                goto done;
            }
            const char *value = argv [++i];
            if (!strcmp (arg, "--targets")) {
                json_t *targets = mc_cli_parse_targets (value);
                if (!targets) {
                    rc = EXIT_FAILED;
                    goto done;
                }
                json_object_set_new (spec, "targets", targets);
            }
            else {
                char *end;
                errno = 0;
                long long number = strtoll (value, &end, 10);
                if (*end || end == value || errno || number < (!strcmp (arg, "--seed")? 0: 1)) {
                    mc_cli_fail ("bad %s '%s': expected a %s integer", arg, value,
                            !strcmp (arg, "--seed")? "non-negative": "positive");
                    rc = EXIT_FAILED;
                    goto done;
                }
                json_object_set_new (spec, arg + 2, json_integer (number));
            }
            continue;
        }
        if (options && !strcmp (arg, "--async")) {
            async = true;
            continue;
        }
        if (options && !strcmp (arg, "--show")) {
            show = true;
            continue;
        }
        if (options && (!strcmp (arg, "--tasks") || !strcmp (arg, "--reduce") || !strcmp (arg, "--bins")
                        || !strcmp (arg, "--range") || !strcmp (arg, "--png"))) {
            if (!has_value) {
                mc_cli_fail ("%s needs a value", arg);
                goto done;
            }
            const char *value = argv [++i];
            if (!strcmp (arg, "--tasks")) {
                char *end;
                long long n = strtoll (value, &end, 10);
                if (*end || n < 1 || n > 100000000 || !is_map || seq_seen) {
                    mc_cli_fail (!is_map? "--tasks is for map": seq_seen? "--tasks replaces SEQ: give one or the other"
                                 : "bad --tasks '%s': expected a count from 1 to 100000000", value);
                    goto done;
                }
                json_object_set_new (spec, "seq", json_pack ("{s:[iIi]}", "range", 0, (json_int_t) n, 1));
                seq_seen = true;
            }
            else
            if (!strcmp (arg, "--reduce")) {
                if (strcmp (value, "sum") && strcmp (value, "hist2d")) {
                    mc_cli_fail ("bad --reduce '%s': expected sum or hist2d", value);
                    goto done;
                }
                reduce = value;
            }
            else
            if (!strcmp (arg, "--bins") ? mc_cli_parse_bins (value, &nx, &ny)
              : !strcmp (arg, "--range")? mc_cli_parse_box (value, box): 0)
                goto done;
            else
            if (!strcmp (arg, "--png"))
                png = value;
            continue;
        }
        if (options && !strncmp (arg, "--", 2) && arg [2]) {
            mc_cli_fail ("unknown option '%s' (see mcclient --help)", arg);
            goto done;
        }
        if (!kernel_seen) {
            json_object_set_new (spec, "kernel", json_string (arg));
            kernel_seen = true;
            continue;
        }
        if (is_map && !seq_seen) {
            json_t *seq = s_parse_seq (arg);
            if (!seq) {
                rc = EXIT_FAILED;
                goto done;
            }
            json_object_set_new (spec, "seq", seq);
            seq_seen = true;
            continue;
        }
        char err [512];
        bool kw = s_is_kwarg (arg);
        const char *text = kw? strchr (arg, '=') + 1: arg;
        json_t *value;
        //  @name: the value of name in the namespace of the engine that runs it.
        if (text [0] == '@') {
            value = mc_value_valid_name (text + 1, strlen (text + 1))? mc_ref (text + 1): NULL;
            if (!value)
                snprintf (err, sizeof err, "bad argument '%s': '@' must be followed by a name", text);
        }
        else
            value = mc_value_parse_arg (text, err, sizeof err);
        if (!value) {
            mc_cli_fail ("%s", err);
            rc = EXIT_FAILED;
            goto done;
        }
        if (kw) {
            char *key = strndup (arg, (size_t) (strchr (arg, '=') - arg));
            json_object_set_new (json_object_get (spec, "kwargs"), key, value);
            free (key);
        }
        else
            json_array_append_new (json_object_get (spec, "args"), value);
    }
    if (!kernel_seen || (is_map && !seq_seen)) {
        mc_cli_fail (is_map? "map needs a KERNEL and a SEQ (see mcclient --help)": "apply needs a KERNEL (see mcclient --help)");
        goto done;
    }
    if (reduce && !strcmp (reduce, "sum"))
        json_object_set_new (spec, "reduce", json_string ("sum"));
    else
    if (reduce)
        json_object_set_new (spec, "reduce", json_pack ("{s:s, s:[II], s:[ffff]}", "op", "hist2d", "bins",
                                                        (json_int_t) nx, (json_int_t) ny, "range",
                                                        box [0], box [1], box [2], box [3]));
    if ((png || show) && (!reduce || strcmp (reduce, "hist2d"))) {
        mc_cli_fail ("--png and --show draw the histogram of --reduce hist2d");
        goto done;
    }
    if (json_object_get (spec, "chunksize") && json_object_get (spec, "targets")) {
        mc_cli_fail ("--chunksize is for load-balanced maps; a direct map sends one block per target");
        goto done;
    }
    mc_client_t *client = mc_cli_connect ();
    rc = EXIT_FAILED;
    if (!client)
        goto done;
    json_t *reply = mc_client_submit (client, spec, !async);
    if (!reply)
        mc_cli_fail ("%s", mc_client_error (client));
    else
    if (async) {
        const char *job = json_string_value (json_object_get (reply, "job"));
        if (mc_cli_json)
            mc_cli_print_json (json_object_get (reply, "job"));
        else
            puts (job? job: "?");
        rc = 0;
    }
    else
        rc = s_print_result (reply, png, show);
    json_decref (reply);
    mc_client_destroy (&client);
done:
    json_decref (spec);
    return rc;
}

static void
s_progress (const json_t *status, double started)
{
    double total = (double) json_integer_value (json_object_get (status, "total"));
    double done = (double) (json_integer_value (json_object_get (status, "done"))
                          + json_integer_value (json_object_get (status, "failed")));
    double elapsed = s_now () - started;
    double rate = elapsed > 0? done / elapsed: 0;
    int width = 30, filled = total > 0? (int) (width * done / total): width;
    char bar [64];
    for (int i = 0; i < width; i++)
        bar [i] = i < filled? '#': '-';
    bar [width] = 0;
    printf ("\r[%s] %.0f/%.0f  %.1f/s  %.1fs ", bar, done, total, rate, elapsed);
    if (rate > 0 && done < total)
        printf ("ETA %.0fs ", (total - done) / rate);
    printf ("\033[K");
    fflush (stdout);
}

static int
s_cmd_wait (mc_client_t *client, const char *job, double timeout_s)
{
    bool bar = !mc_cli_json && isatty (STDOUT_FILENO);
    double started = s_now ();
    json_t *status = NULL;
    while (true) {
        //  Short waits so that the bar moves and the timeout is kept.
        int slice = bar? 200: 1000;
        if (timeout_s >= 0) {
            double left = timeout_s - (s_now () - started);
            if (left <= 0)
                break;
            if (left * 1000 < slice)
                slice = (int) (left * 1000) + 1;
        }
        json_decref (status);
        status = mc_client_wait (client, job, slice);
        if (!status)
            return mc_cli_fail ("%s", mc_client_error (client));
        if (bar)
            s_progress (status, started);
        if (!json_is_null (json_object_get (status, "finished")))
            break;
    }
    if (bar)
        printf ("\n");
    bool finished = status && !json_is_null (json_object_get (status, "finished"));
    if (mc_cli_json)
        mc_cli_print_json (status);
    else
    if (status)
        printf ("%s: %s (%lld done, %lld failed of %lld)\n", job,
                json_string_value (json_object_get (status, "state")),
                (long long) json_integer_value (json_object_get (status, "done")),
                (long long) json_integer_value (json_object_get (status, "failed")),
                (long long) json_integer_value (json_object_get (status, "total")));
    int rc = !finished? EXIT_TIMEOUT: json_integer_value (json_object_get (status, "failed"))? EXIT_FAILED: 0;
    if (!finished)
        fprintf (stderr, "mcclient: %s did not finish within %g s\n", job, timeout_s);
    json_decref (status);
    return rc;
}

static void
s_print_status (const json_t *status)
{
    const char *keys [] = { "job", "state", "kind", "kernel", "total", "done", "failed", "tasks", "seed" };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++) {
        json_t *value = json_object_get (status, keys [i]);
        if (json_is_string (value))
            printf ("%-10s %s\n", keys [i], json_string_value (value));
        else
            printf ("%-10s %lld\n", keys [i], (long long) json_integer_value (value));
    }
    const char *times [] = { "submitted", "finished" };
    for (int i = 0; i < 2; i++) {
        json_t *value = json_object_get (status, times [i]);
        if (json_is_number (value)) {
            time_t t = (time_t) json_number_value (value);
            char stamp [64];
            strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime (&t));
            printf ("%-10s %s\n", times [i], stamp);
        }
        else
            printf ("%-10s -\n", times [i]);
    }
}

static int
s_cmd_cluster (const char *command, int argc, char **argv)
{
    int limit = 20;
    double timeout_s = -1;
    const char *job = NULL;
    bool meta = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp (argv [i], "--meta") && !strcmp (command, "get"))
            meta = true;
        else
        if ((!strcmp (argv [i], "--limit") || !strcmp (argv [i], "--timeout")) && i + 1 < argc) {
            char *end;
            double value = strtod (argv [i + 1], &end);
            if (*end || !(value >= 0)) {
                mc_cli_fail ("bad %s '%s'", argv [i], argv [i + 1]);
                return EXIT_USAGE;
            }
            if (argv [i][2] == 'l')
                limit = (int) value;
            else
                timeout_s = value;
            i++;
        }
        else
        if (!job && argv [i][0] != '-')
            job = argv [i];
        else {
            mc_cli_fail ("%s: unexpected argument '%s'", command, argv [i]);
            return EXIT_USAGE;
        }
    }
    bool needs_job = !strcmp (command, "status") || !strcmp (command, "ready") || !strcmp (command, "wait")
                  || !strcmp (command, "get");
    if (needs_job != (job != NULL)) {
        mc_cli_fail (needs_job? "%s needs a job id (see mcclient jobs)": "%s takes no job id", command);
        return EXIT_USAGE;
    }
    mc_client_t *client = mc_cli_connect ();
    if (!client)
        return EXIT_FAILED;
    int rc = 0;
    json_t *reply = NULL;
    if (!strcmp (command, "ids") || !strcmp (command, "engines") || !strcmp (command, "queue")
    ||  !strcmp (command, "kernels") || !strcmp (command, "shutdown") || !strcmp (command, "ping")) {
        reply = s_call (client, command, NULL);
        if (!reply)
            rc = EXIT_FAILED;
        else
        if (mc_cli_json)
            mc_cli_print_json (reply);
        else
        if (!strcmp (command, "shutdown") || !strcmp (command, "ping"))
            puts (!strcmp (command, "ping")? "controller answers": "controller is stopping");
        else
        if (!strcmp (command, "ids")) {
            size_t i;
            json_t *id;
            printf ("%zu engine%s:", json_array_size (reply), json_array_size (reply) == 1? "": "s");
            json_array_foreach (reply, i, id)
                printf (" %lld", (long long) json_integer_value (id));
            printf ("\n");
        }
        else
        if (!strcmp (command, "kernels")) {
            size_t i;
            json_t *k;
            json_array_foreach (reply, i, k) {
                printf ("%-10s", json_string_value (json_object_get (k, "name")));
                size_t a;
                json_t *arg;
                json_array_foreach (json_object_get (k, "args"), a, arg) {
                    json_t *fallback = json_object_get (arg, "default");
                    printf (" %s:%s%s%s", json_string_value (json_object_get (arg, "name")),
                            json_string_value (json_object_get (arg, "type")), fallback? "=": "",
                            fallback? json_string_value (fallback): "");
                }
                printf ("\n           %s (engines:", json_string_value (json_object_get (k, "doc")));
                size_t e;
                json_t *id;
                json_array_foreach (json_object_get (k, "engines"), e, id)
                    printf (" %lld", (long long) json_integer_value (id));
                printf (")\n");
            }
        }
        else
        if (!strcmp (command, "engines")) {
            printf ("%4s  %-20s %8s  %-8s %10s %8s %8s\n", "id", "host", "pid", "state", "done", "failed", "inflight");
            size_t i;
            json_t *e;
            json_array_foreach (reply, i, e)
                printf ("%4lld  %-20s %8lld  %-8s %10lld %8lld %8lld\n",
                        (long long) json_integer_value (json_object_get (e, "id")),
                        json_string_value (json_object_get (e, "host")),
                        (long long) json_integer_value (json_object_get (e, "pid")),
                        json_string_value (json_object_get (e, "state")),
                        (long long) json_integer_value (json_object_get (e, "done")),
                        (long long) json_integer_value (json_object_get (e, "failed")),
                        (long long) json_integer_value (json_object_get (e, "inflight")));
        }
        else {
            printf ("load-balanced queue: %lld tasks\n", (long long) json_integer_value (json_object_get (reply, "queued")));
            size_t i;
            json_t *e;
            json_array_foreach (json_object_get (reply, "engines"), i, e)
                printf ("engine %lld: %lld queued, %lld running\n",
                        (long long) json_integer_value (json_object_get (e, "id")),
                        (long long) json_integer_value (json_object_get (e, "queued")),
                        (long long) json_integer_value (json_object_get (e, "running")));
        }
    }
    else
    if (!strcmp (command, "jobs")) {
        reply = s_call (client, "jobs", json_pack ("{s:i}", "limit", limit));
        if (!reply)
            rc = EXIT_FAILED;
        else
        if (mc_cli_json)
            mc_cli_print_json (reply);
        else {
            size_t i;
            json_t *j;
            json_array_foreach (reply, i, j)
                printf ("%-8s %-8s %-6s %-10s %lld/%lld done, %lld failed\n",
                        json_string_value (json_object_get (j, "job")), json_string_value (json_object_get (j, "state")),
                        json_string_value (json_object_get (j, "kind")), json_string_value (json_object_get (j, "kernel")),
                        (long long) json_integer_value (json_object_get (j, "done")),
                        (long long) json_integer_value (json_object_get (j, "total")),
                        (long long) json_integer_value (json_object_get (j, "failed")));
        }
    }
    else
    if (!strcmp (command, "status") || !strcmp (command, "ready")) {
        reply = s_call (client, "status", json_pack ("{s:s}", "job", job));
        if (!reply)
            rc = EXIT_FAILED;
        else
        if (!strcmp (command, "ready"))
            puts (json_is_null (json_object_get (reply, "finished"))? "false": "true");
        else
        if (mc_cli_json)
            mc_cli_print_json (reply);
        else
            s_print_status (reply);
    }
    else
    if (!strcmp (command, "wait"))
        rc = s_cmd_wait (client, job, timeout_s);
    else
    if (!strcmp (command, "get")) {
        reply = s_call (client, "result", json_pack ("{s:s, s:b}", "job", job, "meta", meta));
        if (!reply)
            rc = EXIT_FAILED;
        else
        if (meta)
            mc_cli_print_json (json_object_get (reply, "meta"));
        else
        if (json_is_null (json_object_get (reply, "finished")))
            rc = mc_cli_fail ("%s has not finished yet (%lld of %lld items done); try: mcclient wait %s", job,
                         (long long) json_integer_value (json_object_get (reply, "done")),
                         (long long) json_integer_value (json_object_get (reply, "total")), job);
        else
            rc = s_print_result (reply, NULL, false);
    }
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

int
main (int argc, char *argv [])
{
    int i = 1;
    for (; i < argc && argv [i][0] == '-'; i++) {
        if (!strcmp (argv [i], "--json"))
            mc_cli_json = true;
        else
        if (!strcmp (argv [i], "--profile-dir") && i + 1 < argc)
            s_profile = argv [++i];
        else
        if (!strcmp (argv [i], "--connect-timeout") && i + 1 < argc) {
            char *end;
            double seconds = strtod (argv [++i], &end);
            if (*end || !(seconds > 0) || seconds > 3600)
                return mc_cli_fail ("bad --connect-timeout '%s'", argv [i]), EXIT_USAGE;
            s_connect_ms = (int) ceil (seconds * 1000);
        }
        else
        if (!strcmp (argv [i], "-h") || !strcmp (argv [i], "--help")) {
            s_usage (stdout);
            return 0;
        }
        else {
            mc_cli_fail ("unknown option '%s' (see mcclient --help)", argv [i]);
            return EXIT_USAGE;
        }
    }
    if (i == argc) {
        s_usage (stderr);
        return EXIT_USAGE;
    }
    const char *command = argv [i++];
    if (!strcmp (command, "map") || !strcmp (command, "apply"))
        return s_cmd_submit (argc - i, argv + i, command [0] == 'm');
    const char *data [] = { "push", "pull", "scatter", "gather", "del", "names" };
    for (size_t k = 0; k < sizeof data / sizeof data [0]; k++)
        if (!strcmp (command, data [k]))
            return mc_cli_data (command, argc - i, argv + i);
    const char *known [] = { "kernels", "ids", "engines", "queue", "jobs", "status", "ready", "wait", "get", "shutdown", "ping" };
    for (size_t k = 0; k < sizeof known / sizeof known [0]; k++)
        if (!strcmp (command, known [k]))
            return s_cmd_cluster (command, argc - i, argv + i);
    mc_cli_fail ("unknown command '%s' (see mcclient --help)", command);
    return EXIT_USAGE;
}
