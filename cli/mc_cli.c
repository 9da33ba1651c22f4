/*  mc_cli: the helpers every mcclient command uses. */
#include "mc_cli.h"
#include "mc_picture.h"
#include "mc_value.h"
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mc_cli_json;
static const char *s_profile;
static int s_connect_ms = 0;        //  0: the library's default

const char *
mc_cli_command_name (const mc_cli_command_t *command)
{
    return command->name? command->name: mc_op_name (command->op);
}

const mc_cli_option_t *
mc_cli_option (const mc_cli_option_t *table, const char *arg)
{
    for (const mc_cli_option_t *row = table; row->name; row++)
        if (!strcmp (row->name, arg))
            return row;
    return NULL;
}

void
mc_cli_set_profile (const char *profile_dir, int connect_ms)
{
    s_profile = profile_dir;
    s_connect_ms = connect_ms;
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
    return MC_EXIT_FAILED;
}

//  JSON text on its way to stdout, a block at a time: a large result was a
//  string built whole first (grown by doubling, copied each time, in pages
//  freshly faulted in), then printed.
typedef struct {
    size_t size;
    char data [64 << 10];
} s_text_t;

static int
s_text_write (const char *buffer, size_t size, void *arg)
{
    s_text_t *text = arg;
    if (size <= 8 && sizeof text->data - text->size >= size) {
        //  Most are a token of a few bytes ("null", ","): no call for them.
        char *to = text->data + text->size;
        switch (size) {
            case 8: to [7] = buffer [7];    //  fall through
            case 7: to [6] = buffer [6];    //  fall through
            case 6: to [5] = buffer [5];    //  fall through
            case 5: to [4] = buffer [4];    //  fall through
            case 4: to [3] = buffer [3];    //  fall through
            case 3: to [2] = buffer [2];    //  fall through
            case 2: to [1] = buffer [1];    //  fall through
            case 1: to [0] = buffer [0];    //  fall through
            default: break;
        }
        text->size += size;
        return 0;
    }
    while (size) {
        if (text->size == sizeof text->data) {
            fwrite (text->data, 1, text->size, stdout);
            text->size = 0;
        }
        size_t n = size < sizeof text->data - text->size? size: sizeof text->data - text->size;
        memcpy (text->data + text->size, buffer, n);
        text->size += n;
        buffer += n;
        size -= n;
    }
    return 0;
}

void
mc_cli_print_json (const json_t *value)
{
    static s_text_t text;
    if (!value)
        return;
    text.size = 0;
    //  (It fails only for want of memory: for a value of less than a block,
    //  nothing is printed then, as before; for a larger one, its start.)
    if (json_dump_callback (value, s_text_write, &text, JSON_COMPACT | JSON_ENCODE_ANY)) {
        mc_cli_fail ("out of memory");
        return;
    }
    fwrite (text.data, 1, text.size, stdout);
    putchar ('\n');
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

json_t *
mc_cli_call (mc_client_t *client, mc_op_code_t op, json_t *body)
{
    json_t *reply = mc_client_call (client, mc_op_name (op), body, -1);
    json_decref (body);
    if (!reply)
        mc_cli_fail ("%s", mc_client_error (client));
    return reply;
}

//  Add the engine ids of one part of a --targets text ("3" or "1:4") to
//  ids. 0, or -1 when said.
static int
s_target_part (const char *text, char *part, json_t *ids)
{
    int64_t start, stop, step;
    char err [256];
    int rc = mc_value_parse_range (part, &start, &stop, &step, err, sizeof err);
    if (rc == 1) {
        char *end;
        errno = 0;
        long id = strtol (part, &end, 10);
        if (*end || end == part || id < 0 || errno) {
            mc_cli_fail ("bad --targets '%s': '%s' is not an engine id", text, part);
            return -1;
        }
        start = id, stop = id + 1, step = 1;
    }
    else
    if (rc < 0 || start < 0 || stop < 0 || step <= 0 || stop - start > 100000) {
        mc_cli_fail ("bad --targets '%s': '%s' is not a range of engine ids", text, part);
        return -1;
    }
    for (int64_t id = start; id < stop; id += step)
        if (json_array_append_new (ids, json_integer (id))) {
            mc_cli_fail ("out of memory");
            return -1;
        }
    return 0;
}

json_t *
mc_cli_parse_targets (const char *text)
{
    if (!strcmp (text, "all")) {
        json_t *all = json_string ("all");
        if (!all)
            mc_cli_fail ("out of memory");
        return all;
    }
    json_t *ids = json_array ();
    char *copy = strdup (text), *save = NULL;
    if (!ids || !copy) {
        mc_cli_fail ("out of memory");
        goto fail;
    }
    for (char *part = strtok_r (copy, ",", &save); part; part = strtok_r (NULL, ",", &save))
        if (s_target_part (text, part, ids))
            goto fail;
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

//  A count as a title says it: 1000, 1e6, 2.5e7.
static void
s_count_text (double value, char *buf, size_t size)
{
    if (value < 1e5) {
        snprintf (buf, size, "%.0f", value);
        return;
    }
    char raw [32], *out = buf;
    snprintf (raw, sizeof raw, "%.3g", value);
    for (const char *p = raw; *p && out < buf + size - 1; p++)
        if (!(*p == '+' || (*p == '0' && p [-1] == '+')))
            *out++ = *p;
    *out = 0;
}

//  What was sampled, from the submitted spec and the result (its seed and
//  item count): "walker, target gauss3: 64 tasks × 1e6 steps, seed 7".
static void
s_title (const mc_cli_draw_t *draw, const json_t *result, char *buf, size_t size)
{
    if (!draw->spec) {
        snprintf (buf, size, "%s", draw->title? draw->title: "");
        return;
    }
    const char *kernel = json_string_value (json_object_get (draw->spec, "kernel"));
    json_t *kwargs = json_object_get (draw->spec, "kwargs");
    json_t *seed = json_object_get (result, "seed");
    if (!seed)
        seed = json_object_get (draw->spec, "seed");
    char tasks [32], steps [64] = "", walkers [64] = "", target [96] = "";
    s_count_text ((double) json_integer_value (json_object_get (result, "total")), tasks, sizeof tasks);
    bool pi = kernel && !strcmp (kernel, "pi");
    json_t *n = json_object_get (kwargs, pi? "samples": "steps");
    if (json_is_number (n)) {
        char count [32];
        s_count_text (json_number_value (n), count, sizeof count);
        snprintf (steps, sizeof steps, " \u00d7 %s %s", count, pi? "samples": "steps");
    }
    json_t *k = json_object_get (kwargs, "walkers");
    if (json_is_number (k) && json_number_value (k) > 1) {
        char count [32];
        s_count_text (json_number_value (k), count, sizeof count);
        snprintf (walkers, sizeof walkers, " \u00d7 %s walkers", count);
    }
    if (kernel && !strcmp (kernel, "walker")) {
        const char *name = json_string_value (json_object_get (kwargs, "target"));
        snprintf (target, sizeof target, ", target %s", name? name: "gauss3");
    }
    snprintf (buf, size, "%s%s: %s task%s%s%s, seed %lld", kernel? kernel: "?", target, tasks,
              strcmp (tasks, "1")? "s": "", walkers, steps, (long long) json_integer_value (seed));
}

int
mc_cli_picture (const int64_t *counts, size_t rows, size_t cols, const mc_cli_draw_t *draw)
{
    char err [512];
    mc_picture_axes_t axes = { draw->title, { draw->box [0], draw->box [1], draw->box [2], draw->box [3] },
                               draw->log };
    if (draw->file && mc_picture_heatmap (draw->file, counts, rows, cols, &axes, err, sizeof err))
        return mc_cli_fail ("%s", err);
    if (draw->show && !mc_cli_json)
        mc_picture_show (stdout, counts, rows, cols, &axes, mc_picture_width (stdout));
    return 0;
}

int64_t
mc_cli_pi_points (int64_t tasks)
{
    int64_t per = tasks > 0? (2000 + tasks - 1) / tasks: 2000;
    return per < 1? 1: per;
}

//  Print failures grouped by message. Returns MC_EXIT_FAILED when any.
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
        //  Tasks that never ran (an abort) name no engine.
        fprintf (stderr, "%s%s (%lld task%s", one? "": "  ",
                 json_string_value (json_object_get (group, "error")), (long long) count, count == 1? "": "s");
        if (json_array_size (engines))
            fprintf (stderr, " on engine%s ", json_array_size (engines) == 1? "": "s");
        size_t k;
        json_t *id;
        json_array_foreach (engines, k, id)
            fprintf (stderr, "%s%lld", k? ",": "", (long long) json_integer_value (id));
        fprintf (stderr, ")\n");
    }
    if (mc_cli_json) {
        json_t *out = json_pack ("{s:s, s:s, s:O}", "error", "tasks failed",
                                 "job", json_string_value (json_object_get (result, "job")), "errors", errors);
        if (!out)
            return mc_cli_fail ("out of memory");
        mc_cli_print_json (out);
        json_decref (out);
    }
    return MC_EXIT_FAILED;
}

//  A JSON list of lists of integers as counts (rows x cols) in *counts_p
//  (the caller frees them). 0, or MC_EXIT_FAILED (said) when it is not one.
static int
s_counts (const json_t *value, int64_t **counts_p, size_t *rows, size_t *cols)
{
    *counts_p = NULL;
    *rows = json_array_size (value);
    *cols = json_array_size (json_array_get (value, 0));
    if (*rows == 0 || *cols == 0)
        return mc_cli_fail ("--png and --show draw histograms (--reduce hist2d); this result is not one");
    int64_t *counts = calloc (*rows * *cols, sizeof *counts);
    if (!counts)
        return mc_cli_fail ("out of memory");
    for (size_t r = 0; r < *rows; r++) {
        json_t *row = json_array_get (value, r);
        if (json_array_size (row) != *cols) {
            free (counts);
            return mc_cli_fail ("--png and --show draw histograms (--reduce hist2d); this result is not one");
        }
        for (size_t c = 0; c < *cols; c++)
            counts [r * *cols + c] = json_integer_value (json_array_get (row, c));
    }
    *counts_p = counts;
    return 0;
}

//  Pi results, one {hits, samples[, points]} per item: sum them, say the
//  estimate, and draw the pi picture into draw->file when asked. 1 when
//  results are no such list (nothing said), else 0 or MC_EXIT_FAILED.
static int
s_pi_list (const json_t *results, const json_t *result, const mc_cli_draw_t *draw)
{
    size_t tasks = json_array_size (results), npoints = 0, i;
    json_t *item;
    if (tasks == 0)
        return 1;
    json_array_foreach (results, i, item) {
        if (!json_is_integer (json_object_get (item, "hits")) || !json_is_integer (json_object_get (item, "samples")))
            return 1;
        npoints += json_array_size (json_object_get (item, "points"));
    }
    int64_t *hits = calloc (tasks, sizeof *hits), *samples = calloc (tasks, sizeof *samples);
    double *points = calloc (2 * npoints + 1, sizeof *points);
    if (!hits || !samples || !points) {
        free (hits), free (samples), free (points);
        return mc_cli_fail ("out of memory");
    }
    double h = 0, n = 0;
    size_t k = 0;
    json_array_foreach (results, i, item) {
        hits [i] = json_integer_value (json_object_get (item, "hits"));
        samples [i] = json_integer_value (json_object_get (item, "samples"));
        h += (double) hits [i], n += (double) samples [i];
        size_t j;
        json_t *point;
        json_array_foreach (json_object_get (item, "points"), j, point) {
            points [2 * k] = json_number_value (json_array_get (point, 0));
            points [2 * k++ + 1] = json_number_value (json_array_get (point, 1));
        }
    }
    //  4 p, with the binomial standard error 4 sqrt (p (1 - p) / n).
    double p = n > 0? h / n: 0, est = 4 * p, se = n > 0? 4 * sqrt (p * (1 - p) / n): 0;
    int rc = 0;
    if (!mc_cli_json)
        printf ("pi = %.8f +- %.8f  (%.0f samples, %.0f hits; error %+.2e)\n", est, se, n, h, est - M_PI);
    else {
        json_t *out = json_pack ("{s:I, s:I, s:f, s:f}", "hits", (json_int_t) h, "samples", (json_int_t) n,
                                 "pi", est, "stderr", se);
        if (!out)
            rc = mc_cli_fail ("out of memory");
        mc_cli_print_json (out);
        json_decref (out);
    }
    if (rc == 0 && draw && draw->file) {
        char title [512], err [512];
        size_t len;
        s_title (draw, result, title, sizeof title);
        len = strlen (title);
        snprintf (title + len, sizeof title - len, ": \u03c0 \u2248 %.6f \u00b1 %.6f", est, se);
        mc_picture_pi_t picture = { title, points, k, hits, samples, tasks };
        if (mc_picture_pi (draw->file, &picture, err, sizeof err))
            rc = mc_cli_fail ("%s", err);
    }
    free (hits), free (samples), free (points);
    return rc;
}

int
mc_cli_print_result (const json_t *result, const mc_cli_draw_t *draw)
{
    if (s_report_failures (result))
        return MC_EXIT_FAILED;
    json_t *results = json_object_get (result, "results");
    json_t *value = json_is_true (json_object_get (result, "single"))? json_array_get (results, 0): results;
    const char *kernel = json_string_value (json_object_get (result, "kernel"));
    bool pi = kernel && !strcmp (kernel, "pi");
    bool drawn = draw && (draw->file || draw->show);
    json_t *hits = json_object_get (value, "hits"), *samples = json_object_get (value, "samples");
    if (!mc_cli_json && pi && json_is_integer (hits) && json_is_integer (samples)) {
        //  4 p, with the binomial standard error 4 sqrt (p (1 - p) / n).
        double n = (double) json_integer_value (samples), p = json_integer_value (hits) / n;
        printf ("pi = %.8f +- %.8f  (%.0f samples, %lld hits; error %+.2e)\n", 4 * p, 4 * sqrt (p * (1 - p) / n), n,
                (long long) json_integer_value (hits), 4 * p - M_PI);
    }
    else
    if (pi && drawn && json_is_array (value)) {
        int rc = s_pi_list (value, result, draw);
        if (rc != 1)
            return rc;
        mc_cli_print_json (value);
    }
    else
    if (!(draw && draw->show) || mc_cli_json)
        mc_cli_print_json (value);
    if (drawn && !pi) {
        size_t rows, cols;
        int64_t *counts;
        if (s_counts (value, &counts, &rows, &cols))
            return MC_EXIT_FAILED;
        char title [512];
        s_title (draw, result, title, sizeof title);
        mc_cli_draw_t titled = *draw;
        titled.title = title;
        int rc = mc_cli_picture (counts, rows, cols, &titled);
        free (counts);
        return rc;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest (what fails is said on stderr, as mcclient says it)

static void
s_test_targets (const char *text, const char *expect, bool verbose)
{
    json_t *targets = mc_cli_parse_targets (text);
    char *dump = targets? json_dumps (targets, JSON_COMPACT | JSON_ENCODE_ANY): NULL;
    if (verbose)
        printf ("   --targets %s: %s\n", text, dump? dump: "(refused)");
    assert (expect? dump && !strcmp (dump, expect): !targets);
    free (dump);
    json_decref (targets);
}

void
mc_cli_test (bool verbose)
{
    printf (" * mc_cli: ");
    if (verbose)
        printf ("\n");
    s_test_targets ("all", "\"all\"", verbose);
    s_test_targets ("0,2", "[0,2]", verbose);
    s_test_targets ("1:3", "[1,2]", verbose);
    s_test_targets ("0,4:6", "[0,4,5]", verbose);
    s_test_targets ("0:6:2,9", "[0,2,4,9]", verbose);
    s_test_targets ("1:x", NULL, verbose);
    s_test_targets ("-1", NULL, verbose);
    s_test_targets ("3:3", NULL, verbose);
    s_test_targets (",", NULL, verbose);
    size_t nx = 0, ny = 0;
    assert (mc_cli_parse_bins ("50x40", &nx, &ny) == 0 && nx == 50 && ny == 40);
    assert (mc_cli_parse_bins ("50", &nx, &ny) == MC_EXIT_FAILED);
    assert (mc_cli_parse_bins ("0x5", &nx, &ny) == MC_EXIT_FAILED);
    assert (mc_cli_parse_bins ("4097x5", &nx, &ny) == MC_EXIT_FAILED);
    double box [4];
    assert (mc_cli_parse_box ("-1:1,0:2.5", box) == 0 && box [0] == -1 && box [1] == 1 && box [3] == 2.5);
    assert (mc_cli_parse_box ("0:1:0:1", box) == MC_EXIT_FAILED);
    assert (mc_cli_parse_box ("1:0,0:1", box) == MC_EXIT_FAILED);
    assert (mc_cli_parse_box ("0:1,0:1x", box) == MC_EXIT_FAILED);
    const mc_cli_option_t options [] = { { "--a", 1, false, NULL, "a", NULL }, { "--b", 2, true, "B", "b", NULL },
                                         { NULL, 0, false, NULL, NULL, NULL } };
    assert (mc_cli_option (options, "--b")->code == 2 && mc_cli_option (options, "--b")->takes_value);
    assert (!mc_cli_option (options, "--c") && !mc_cli_option (options, "--"));
    //  Counts from a histogram result; anything else refused.
    json_t *value = json_loads ("[[1,2,3],[4,5,6]]", 0, NULL);
    int64_t *counts;
    size_t rows, cols;
    assert (value && s_counts (value, &counts, &rows, &cols) == 0 && rows == 2 && cols == 3 && counts [4] == 5);
    free (counts);
    json_decref (value);
    value = json_loads ("[[1,2],[3]]", 0, NULL);
    assert (value && s_counts (value, &counts, &rows, &cols) == MC_EXIT_FAILED && !counts);
    json_decref (value);
    printf ("OK\n");
}
