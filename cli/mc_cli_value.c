/*  mc_cli_value: values as mcclient's namespace commands read them. */
#include "mc_cli_value.h"
#include "mc_value.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
json_t *
mc_cli_value_json (const char *text, size_t limit)
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

//  A range a:b[:step] in text, of at most limit / 8 items: 1 with where
//  it starts, its step and how many items it has; 0 when text is no range;
//  -1 when it is a bad one or too long (said).
static int
s_range (const char *text, size_t limit, int64_t *start, int64_t *step, uint64_t *n)
{
    int64_t stop;
    char err [512];
    int rc = mc_value_parse_range (text, start, &stop, step, err, sizeof err);
    if (rc < 0)
        return mc_cli_fail ("%s", err), -1;
    if (rc != 0)
        return 0;
    *n = (uint64_t) mc_value_range_count (*start, stop, *step);
    if (*n > limit / 8)
        return mc_cli_fail ("range %s has %llu items, over max_value_bytes=%zu", text, (unsigned long long) *n, limit),
               -1;
    return 1;
}

json_t *
mc_cli_value_list (const char *text, size_t limit)
{
    int64_t start, step;
    uint64_t n;
    int range = s_range (text, limit, &start, &step, &n);
    if (range < 0)
        return NULL;
    if (range) {
        json_t *list = json_array ();
        for (uint64_t k = 0; k < n && list; k++)
            if (json_array_append_new (list, json_integer (start + (int64_t) k * step)))
                json_decref (list), list = NULL;
        if (!list)
            mc_cli_fail ("out of memory");
        return list;
    }
    json_t *list = mc_cli_value_json (text, limit);
    if (list && !json_is_array (list)) {
        mc_cli_fail ("scatter: '%s' is not a list (give a range a:b, a JSON array, @file.json or -)", text);
        json_decref (list);
        return NULL;
    }
    return list;
}

//  A typed array from text: @file or - hold raw little-endian numbers (one
//  dimension); a range a:b[:step] or JSON (lists of numbers) is converted.
//  Its data is malloc'd (the caller frees it). 0, or MC_EXIT_FAILED (said).
int
mc_cli_value_array (const char *text, int dtype, size_t limit, mc_array_t *array)
{
    memset (array, 0, sizeof *array);
    array->dtype = dtype;
    if (text [0] == '@' || !strcmp (text, "-")) {
        const char *path = text [0] == '@'? text + 1: "-";
        size_t size;
        char *data = s_slurp (path, limit, &size);
        if (!data)
            return MC_EXIT_FAILED;
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
    int64_t start, step;
    uint64_t n;
    int range = s_range (text, limit, &start, &step, &n);
    if (range < 0)
        return MC_EXIT_FAILED;
    if (range) {
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
    json_t *value = mc_cli_value_json (text, limit);
    if (!value)
        return MC_EXIT_FAILED;
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

//  --------------------------------------------------------------------------
//  Selftest

//  A typed array from text, checked against the values expected.
static void
s_test_array (const char *text, int dtype, const double *expect, uint64_t rows, uint32_t ndim)
{
    mc_array_t array;
    assert (mc_cli_value_array (text, dtype, 1 << 20, &array) == 0);
    assert ((int) array.dtype == dtype && array.ndim == ndim && array.shape [0] == rows);
    for (size_t k = 0; k < array.size / 8; k++) {
        double v;
        if (dtype == MC_DTYPE_I64)
            v = (double) ((const int64_t *) array.data) [k];
        else
            v = ((const double *) array.data) [k];
        assert (v == expect [k]);
    }
    free ((void *) array.data);
}

void
mc_cli_value_test (bool verbose)
{
    printf (" * mc_cli_value: ");
    if (verbose)
        printf ("(what is refused is said on stderr) ");
    //  Values: ranges and JSON as typed arrays, JSON values.
    const double range [] = { 2, 4, 6 }, nested [] = { 1, 2, 3, 4 };
    s_test_array ("2:7:2", MC_DTYPE_F64, range, 3, 1);
    s_test_array ("2:7:2", MC_DTYPE_I64, range, 3, 1);
    s_test_array ("[[1,2],[3,4]]", MC_DTYPE_I64, nested, 2, 2);
    s_test_array ("[1.0,2,3,4]", MC_DTYPE_F64, nested, 4, 1);
    mc_array_t array;
    assert (mc_cli_value_array ("[[1,2],[3]]", MC_DTYPE_F64, 1 << 20, &array) == MC_EXIT_FAILED);
    assert (mc_cli_value_array ("[1.5]", MC_DTYPE_I64, 1 << 20, &array) == MC_EXIT_FAILED);
    assert (mc_cli_value_array ("0:1000", MC_DTYPE_I64, 800, &array) == MC_EXIT_FAILED);     //  over the limit
    json_t *value = mc_cli_value_json ("[1,\"a\"]", 1 << 20);
    assert (value && json_array_size (value) == 2);
    json_decref (value);
    json_t *seq;
    assert ((seq = mc_cli_value_list ("0:3", 1 << 20)) && json_array_size (seq) == 3);
    json_decref (seq);
    assert (!mc_cli_value_list ("{\"a\":1}", 1 << 20) && !mc_cli_value_list ("0:x", 1 << 20));
    //  A file, read whole; one over the limit refused.
    char path [] = "/tmp/mc-cli-value-test.XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    const double raw [] = { 1.5, -2 };
    assert (write (fd, raw, sizeof raw) == sizeof raw);
    close (fd);
    char at [64];
    snprintf (at, sizeof at, "@%s", path);
    s_test_array (at, MC_DTYPE_F64, raw, 2, 1);
    assert (mc_cli_value_array (at, MC_DTYPE_F64, 8, &array) == MC_EXIT_FAILED);
    assert (!mc_cli_value_json (at, 1 << 20));                          //  not JSON
    unlink (path);
    assert (!mc_cli_value_json ("@/nonexistent/file.json", 1 << 20));
    printf ("OK\n");
}
