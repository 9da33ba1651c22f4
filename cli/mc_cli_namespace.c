/*  mcclient's namespace commands: push, pull, scatter, gather, del, names.
    Values come from the command line, from files (@file) or stdin (-), as
    JSON, or as raw little-endian numbers with --type; results go to stdout
    or to a file (-o), as JSON or as raw bytes (--raw). */
#include "mc_cli.h"
#include "mc_picture.h"
#include "mc_value.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    json_t *targets;                //  NULL: all engines
    bool round_robin;               //  --dist r
    int dtype;                      //  --type, 0 when absent
    const char *output;             //  -o FILE
    bool raw;                       //  --raw
    bool hist, show;                //  gather --hist NXxNY [--range] [--png] [--show]
    size_t nx, ny;
    double box [4];
    const char *png;
    const char *args [64];          //  what is left
    int argc;
} s_opts_t;

//  Read the options every namespace command shares. EXIT_USAGE or 0.
static int
s_parse (const char *command, int argc, char **argv, s_opts_t *o)
{
    memset (o, 0, sizeof *o);
    o->box [1] = o->box [3] = 1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        bool takes = !strcmp (arg, "--targets") || !strcmp (arg, "--dist") || !strcmp (arg, "--type")
                  || !strcmp (arg, "-o") || !strcmp (arg, "--output") || !strcmp (arg, "--hist")
                  || !strcmp (arg, "--range") || !strcmp (arg, "--png");
        if (takes && i + 1 == argc)
            return mc_cli_fail ("%s: %s needs a value", command, arg), EXIT_USAGE;
        if (!strcmp (arg, "--targets")) {
            json_decref (o->targets);
            if (!(o->targets = mc_cli_parse_targets (argv [++i])))
                return EXIT_USAGE;
        }
        else
        if (!strcmp (arg, "--dist")) {
            const char *d = argv [++i];
            if (strcmp (d, "b") && strcmp (d, "r"))
                return mc_cli_fail ("%s: --dist must be b (blocks) or r (round robin), not '%s'", command, d),
                       EXIT_USAGE;
            o->round_robin = d [0] == 'r';
        }
        else
        if (!strcmp (arg, "--type")) {
            if (!(o->dtype = mc_dtype_parse (argv [++i])))
                return mc_cli_fail ("%s: --type must be f64 or i64, not '%s'", command, argv [i]), EXIT_USAGE;
        }
        else
        if (!strcmp (arg, "-o") || !strcmp (arg, "--output"))
            o->output = argv [++i];
        else
        if (!strcmp (arg, "--raw"))
            o->raw = true;
        else
        if (!strcmp (arg, "--hist")) {
            if (mc_cli_parse_bins (argv [++i], &o->nx, &o->ny))
                return EXIT_USAGE;
            o->hist = true;
        }
        else
        if (!strcmp (arg, "--range")) {
            if (mc_cli_parse_box (argv [++i], o->box))
                return EXIT_USAGE;
        }
        else
        if (!strcmp (arg, "--png"))
            o->png = argv [++i];
        else
        if (!strcmp (arg, "--show"))
            o->show = true;
        else
        if (arg [0] == '-' && arg [1] && strcmp (arg, "--"))
            return mc_cli_fail ("%s: unknown option '%s' (see mcclient --help)", command, arg), EXIT_USAGE;
        else
        if (strcmp (arg, "--")) {
            if (o->argc == 64)
                return mc_cli_fail ("%s: too many arguments", command), EXIT_USAGE;
            o->args [o->argc++] = arg;
        }
    }
    if (o->raw && !o->output)
        return mc_cli_fail ("%s: --raw writes binary, so it needs -o FILE", command), EXIT_USAGE;
    if ((o->png || o->show) && !o->hist)
        return mc_cli_fail ("%s: --png and --show draw a histogram: add --hist NXxNY", command), EXIT_USAGE;
    if (o->hist && strcmp (command, "gather"))
        return mc_cli_fail ("%s: --hist is for gather", command), EXIT_USAGE;
    return 0;
}

//  The bytes of a file, or of stdin for "-", at most limit. NULL when
//  they cannot be read (said, naming the file).
static char *
s_slurp (const char *path, size_t limit, size_t *size)
{
    bool in = !strcmp (path, "-");
    FILE *file = in? stdin: fopen (path, "rb");
    if (!file) {
        mc_cli_fail ("cannot read '%s': %s", path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (!in && fstat (fileno (file), &st) == 0 && (size_t) st.st_size > limit) {
        mc_cli_fail ("'%s' is %lld bytes, over the limit max_value_bytes=%zu; nothing was sent", path,
                     (long long) st.st_size, limit);
        fclose (file);
        return NULL;
    }
    size_t used = 0, alloc = in? 1 << 16: (size_t) st.st_size + 1;
    char *data = malloc (alloc);
    while (data) {
        size_t got = fread (data + used, 1, alloc - used, file);
        used += got;
        if (got == 0)
            break;
        if (used > limit) {
            mc_cli_fail ("'%s' holds more than max_value_bytes=%zu bytes; nothing was sent", path, limit);
            free (data);
            data = NULL;
            break;
        }
        if (used == alloc) {
            char *bigger = realloc (data, alloc *= 2);
            if (!bigger)
                free (data);
            data = bigger;
        }
    }
    if (data && ferror (file)) {
        mc_cli_fail ("cannot read '%s': %s", path, strerror (errno));
        free (data);
        data = NULL;
    }
    else
    if (!data && used <= limit)
        mc_cli_fail ("out of memory reading '%s'", path);
    if (!in)
        fclose (file);
    *size = used;
    return data;
}

//  A JSON value from text: @file or - hold JSON; else a command-line value.
static json_t *
s_json_value (const char *text, size_t limit)
{
    char err [512];
    if (text [0] != '@' && strcmp (text, "-")) {
        json_t *value = mc_value_parse_arg (text, err, sizeof err);
        if (!value)
            mc_cli_fail ("%s", err);
        return value;
    }
    const char *path = text [0] == '@'? text + 1: "-";
    size_t size;
    char *data = s_slurp (path, limit, &size);
    if (!data)
        return NULL;
    json_error_t jerr;
    json_t *value = json_loadb (data, size, JSON_DECODE_ANY, &jerr);
    free (data);
    if (!value)
        mc_cli_fail ("'%s' is not valid JSON: %s (line %d, column %d)", path, jerr.text, jerr.line, jerr.column);
    return value;
}

//  Shape of a rectangular nest of JSON lists of numbers; -1 when ragged.
static int
s_json_shape (const json_t *value, mc_array_t *array, uint32_t dim)
{
    if (!json_is_array (value))
        return dim == 0? -1: 0;
    if (dim == MC_ARRAY_MAX_DIMS)
        return -1;
    if (array->ndim <= dim) {
        array->ndim = dim + 1;
        array->shape [dim] = json_array_size (value);
    }
    if (array->shape [dim] != json_array_size (value))
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach (value, i, item)
        if (s_json_shape (item, array, dim + 1))
            return -1;
    return 0;
}

static int
s_json_fill (const json_t *value, mc_array_t *array, char *out, size_t *at)
{
    if (json_is_array (value)) {
        size_t i;
        json_t *item;
        json_array_foreach (value, i, item)
            if (s_json_fill (item, array, out, at))
                return -1;
        return 0;
    }
    if (array->dtype == MC_DTYPE_I64 && !json_is_integer (value))
        return -1;
    if (!json_is_number (value))
        return -1;
    if (array->dtype == MC_DTYPE_I64) {
        int64_t v = json_integer_value (value);
        memcpy (out + 8 * (*at)++, &v, 8);
    }
    else {
        double v = json_number_value (value);
        memcpy (out + 8 * (*at)++, &v, 8);
    }
    return 0;
}

//  A typed array from text: @file or - hold raw little-endian numbers (one
//  dimension); a range a:b[:step] or JSON (lists of numbers) is converted.
//  Its data is malloc'd (the caller frees it). 0, or EXIT_FAILED (said).
static int
s_array_value (const char *text, int dtype, size_t limit, mc_array_t *array)
{
    memset (array, 0, sizeof *array);
    array->dtype = dtype;
    if (text [0] == '@' || !strcmp (text, "-")) {
        const char *path = text [0] == '@'? text + 1: "-";
        size_t size;
        char *data = s_slurp (path, limit, &size);
        if (!data)
            return EXIT_FAILED;
        if (size % 8) {
            free (data);
            return mc_cli_fail ("'%s' holds %zu bytes, not a whole number of 8-byte %s values", path, size,
                                mc_dtype_name (dtype));
        }
        array->ndim = 1;
        array->shape [0] = size / 8;
        array->size = size;
        array->data = data;
        return 0;
    }
    int64_t start, stop, step;
    char err [512];
    int rc = mc_value_parse_range (text, &start, &stop, &step, err, sizeof err);
    if (rc < 0)
        return mc_cli_fail ("%s", err);
    if (rc == 0) {
        uint64_t n = (uint64_t) mc_value_range_count (start, stop, step);
        if (n > limit / 8)
            return mc_cli_fail ("range %s has %llu items, over max_value_bytes=%zu", text, (unsigned long long) n, limit);
        char *data = malloc (n? 8 * n: 1);
        if (!data)
            return mc_cli_fail ("out of memory");
        for (uint64_t i = 0; i < n; i++) {
            int64_t v = start + (int64_t) i * step;
            if (dtype == MC_DTYPE_F64) {
                double d = (double) v;
                memcpy (data + 8 * i, &d, 8);
            }
            else
                memcpy (data + 8 * i, &v, 8);
        }
        array->ndim = 1;
        array->shape [0] = n;
        array->size = 8 * n;
        array->data = data;
        return 0;
    }
    json_t *value = s_json_value (text, limit);
    if (!value)
        return EXIT_FAILED;
    size_t at = 0;
    char *data = NULL;
    if (s_json_shape (value, array, 0) || mc_array_bytes (dtype, array->ndim, array->shape, &array->size)
    ||  !(data = malloc (array->size + 1)) || s_json_fill (value, array, data, &at)) {
        free (data);
        json_decref (value);
        return mc_cli_fail ("'%s' is not a rectangular list of %s numbers", text,
                            dtype == MC_DTYPE_I64? "integer": "");
    }
    json_decref (value);
    array->data = data;
    return 0;
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

//  gather --hist: bin the gathered points (n x 2 float64) into counts,
//  rows of y bins from the bottom; print them, or draw them.
static int
s_gather_hist (mc_client_t *client, const s_opts_t *o)
{
    mc_array_t points;
    if (mc_client_gather_array (client, o->args [0], o->targets, o->round_robin, &points))
        return mc_cli_fail ("%s", mc_client_error (client));
    int rc = 0;
    if (points.dtype != MC_DTYPE_F64 || points.ndim != 2 || points.shape [1] != 2)
        rc = mc_cli_fail ("gather --hist: '%s' is not an n x 2 float64 array of points", o->args [0]);
    int64_t *counts = calloc (o->nx * o->ny, sizeof *counts);
    if (rc == 0) {
        mc_array_hist2d (points.data, points.shape [0], counts, o->ny, o->nx, o->box [0], o->box [1], o->box [2],
                        o->box [3]);
        if (mc_cli_json || (!o->png && !o->show)) {
            json_t *rows = json_array ();
            for (size_t r = 0; r < o->ny; r++) {
                json_t *row = json_array ();
                for (size_t c = 0; c < o->nx; c++)
                    json_array_append_new (row, json_integer (counts [r * o->nx + c]));
                json_array_append_new (rows, row);
            }
            mc_cli_print_json (rows);
            json_decref (rows);
        }
        rc = mc_cli_picture (counts, o->ny, o->nx, o->png, o->show && !mc_cli_json);
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

int
mc_cli_data (const char *command, int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse (command, argc, argv, &o);
    if (rc)
        goto done;
    rc = EXIT_USAGE;
    bool push = !strcmp (command, "push"), scatter = !strcmp (command, "scatter"),
         gather = !strcmp (command, "gather"), pull = !strcmp (command, "pull"),
         names = !strcmp (command, "names");
    if (names? o.argc != 0: scatter? o.argc != 2: gather? o.argc != 1: o.argc < 1) {
        mc_cli_fail ("%s: wrong arguments (see mcclient --help)", command);
        goto done;
    }
    if ((o.output && !pull && !gather) || (o.raw && pull && o.argc != 1)) {
        mc_cli_fail ("%s: -o is for pull and gather, --raw for one name", command);
        goto done;
    }
    if (o.dtype && !push && !scatter) {
        mc_cli_fail ("%s: --type is for push and scatter", command);
        goto done;
    }
    for (int i = 0; i < o.argc && !push && !(scatter && i == 1); i++)
        if (!mc_value_valid_name (o.args [i], strlen (o.args [i]))) {
            mc_cli_fail ("%s: '%s' is not a valid name (a letter or '_', then letters, digits or '_')", command,
                         o.args [i]);
            goto done;
        }
    mc_client_t *client = mc_cli_connect ();
    rc = EXIT_FAILED;
    if (!client)
        goto done;
    size_t limit = (size_t) mc_client_max_value_bytes (client);
    rc = 0;
    if (push)
        for (int i = 0; i < o.argc && rc == 0; i++) {
            const char *eq = strchr (o.args [i], '=');
            if (!eq) {
                rc = mc_cli_fail ("push: expected NAME=VALUE, got '%s'", o.args [i]);
                break;
            }
            if (!mc_value_valid_name (o.args [i], (size_t) (eq - o.args [i]))) {
                rc = mc_cli_fail ("push: '%.*s' is not a valid name (a letter or '_', then letters, digits or '_')",
                                  (int) (eq - o.args [i]), o.args [i]);
                break;
            }
            char *name = strndup (o.args [i], (size_t) (eq - o.args [i]));
            mc_array_t array;
            json_t *value = NULL;
            if (o.dtype)
                rc = s_array_value (eq + 1, o.dtype, limit, &array);
            else
            if (!(value = s_json_value (eq + 1, limit)))
                rc = EXIT_FAILED;
            if (rc == 0 && (o.dtype? mc_client_push_array (client, name, &array, o.targets)
                                   : mc_client_push (client, name, value, o.targets)))
                rc = mc_cli_fail ("%s", mc_client_error (client));
            if (o.dtype && array.data)
                free ((void *) array.data);
            json_decref (value);
            free (name);
        }
    else
    if (scatter) {
        const char *name = o.args [0], *source = o.args [1];
        if (o.dtype) {
            mc_array_t array;
            rc = s_array_value (source, o.dtype, limit, &array);
            if (rc == 0 && mc_client_scatter_array (client, name, &array, o.targets, o.round_robin))
                rc = mc_cli_fail ("%s", mc_client_error (client));
            free ((void *) array.data);
        }
        else {
            int64_t start, stop, step;
            char err [512];
            int range = mc_value_parse_range (source, &start, &stop, &step, err, sizeof err);
            json_t *seq = NULL;
            if (range < 0)
                rc = mc_cli_fail ("%s", err);
            else
            if (range == 0) {
                int64_t n = mc_value_range_count (start, stop, step);
                if ((uint64_t) n > limit / 8)
                    rc = mc_cli_fail ("range %s has %lld items, over max_value_bytes=%zu", source, (long long) n, limit);
                else {
                    seq = json_array ();
                    for (int64_t k = 0; k < n; k++)
                        json_array_append_new (seq, json_integer (start + k * step));
                }
            }
            else
            if (!(seq = s_json_value (source, limit)))
                rc = EXIT_FAILED;
            else
            if (!json_is_array (seq))
                rc = mc_cli_fail ("scatter: '%s' is not a list (give a range a:b, a JSON array, @file.json or -)",
                                  source);
            if (rc == 0 && mc_client_scatter (client, name, seq, o.targets, o.round_robin))
                rc = mc_cli_fail ("%s", mc_client_error (client));
            json_decref (seq);
        }
    }
    else
    if (pull || gather)
        rc = s_fetch (client, &o, gather);
    else
    if (names) {
        json_t *list = mc_client_names (client, o.targets);
        if (!list)
            rc = mc_cli_fail ("%s", mc_client_error (client));
        else
        if (mc_cli_json)
            mc_cli_print_json (list);
        else
            s_print_names (list);
        json_decref (list);
    }
    else
    if (mc_client_delete (client, o.args, (size_t) o.argc, o.targets))
        rc = mc_cli_fail ("%s", mc_client_error (client));
    mc_client_destroy (&client);
done:
    json_decref (o.targets);
    return rc;
}
