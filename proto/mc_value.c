/*  mc_value: msgpack <-> JSON and command-line argument parsing. */
#include "mc_value.h"
#include "mc_proto.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
mc_value_pack_json (msgpack_packer *pk, const json_t *value)
{
    return mc_value_pack_json_refs (pk, value, false);
}

int
mc_value_pack_json_refs (msgpack_packer *pk, const json_t *value, bool refs)
{
    if (refs && json_is_object (value) && json_object_size (value) == 1
    &&  json_is_string (json_object_get (value, "$ref")))
        return mc_array_pack_name (pk, json_string_value (json_object_get (value, "$ref")));
    switch (json_typeof (value)) {
        case JSON_NULL:    return msgpack_pack_nil (pk);
        case JSON_TRUE:    return msgpack_pack_true (pk);
        case JSON_FALSE:   return msgpack_pack_false (pk);
        case JSON_INTEGER: return msgpack_pack_int64 (pk, json_integer_value (value));
        case JSON_REAL:    return msgpack_pack_double (pk, json_real_value (value));
        case JSON_STRING: {
            size_t len = json_string_length (value);
            return msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, json_string_value (value), len)? -1: 0;
        }
        case JSON_ARRAY: {
            size_t size = json_array_size (value);
            if (msgpack_pack_array (pk, size))
                return -1;
            for (size_t i = 0; i < size; i++)
                if (mc_value_pack_json_refs (pk, json_array_get (value, i), refs))
                    return -1;
            return 0;
        }
        case JSON_OBJECT: {
            if (msgpack_pack_map (pk, json_object_size (value)))
                return -1;
            const char *key;
            json_t *member;
            json_object_foreach ((json_t *) value, key, member) {
                size_t len = strlen (key);
                if (msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, key, len)
                ||  mc_value_pack_json_refs (pk, member, refs))
                    return -1;
            }
            return 0;
        }
    }
    return -1;
}

int
mc_value_pack_json_text (msgpack_sbuffer *sb, const char *text)
{
    json_t *value = json_loads (text, JSON_DECODE_ANY, NULL);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    int rc = value? mc_value_pack_json (&pk, value): -1;
    json_decref (value);
    return rc;
}

//  Nested JSON lists of an array's elements, dimension by dimension.
//  Append item (taken) to list; NULL (list freed) when item is NULL or
//  cannot be appended.
static json_t *
s_append (json_t *list, json_t *item, char *err, size_t errlen)
{
    if (item && json_array_append_new (list, item) == 0)
        return list;
    if (item)
        snprintf (err, errlen, "out of memory");
    json_decref (list);
    return NULL;
}

static json_t *
s_array_to_json (const mc_array_t *array, uint32_t dim, size_t *index, char *err, size_t errlen)
{
    json_t *list = json_array ();
    if (!list)
        snprintf (err, errlen, "out of memory");
    for (uint64_t i = 0; list && i < array->shape [dim]; i++) {
        json_t *item;
        if (dim + 1 < array->ndim)
            item = s_array_to_json (array, dim + 1, index, err, errlen);
        else {
            size_t at = (*index)++;
            if (array->dtype == MC_DTYPE_I64) {
                int64_t v;
                memcpy (&v, (const char *) array->data + 8 * at, 8);
                item = json_integer (v);
            }
            else {
                double v;
                memcpy (&v, (const char *) array->data + 8 * at, 8);
                if (!isfinite (v)) {
                    snprintf (err, errlen, "float %g has no JSON form", v);
                    item = NULL;
                }
                else
                    item = json_real (v);
            }
        }
        list = s_append (list, item, err, errlen);
    }
    return list;
}

//  A map with string keys as a JSON object.
static json_t *
s_map_to_json (const msgpack_object *obj, zframe_t *const *frames, size_t count, mc_value_array_fn *on_array,
               void *arg, char *err, size_t errlen)
{
    json_t *map = json_object ();
    if (!map)
        snprintf (err, errlen, "out of memory");
    for (uint32_t i = 0; map && i < obj->via.map.size; i++) {
        const msgpack_object *key = &obj->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR) {
            snprintf (err, errlen, "map key of type %s has no JSON form", mc_value_type_name (key));
            json_decref (map);
            return NULL;
        }
        json_t *value = mc_value_to_json_with (&obj->via.map.ptr [i].val, frames, count, on_array, arg, err, errlen);
        if (!value) {
            json_decref (map);
            return NULL;
        }
        //  msgpack-c gives an empty string no pointer.
        char *name = key->via.str.size? strndup (key->via.str.ptr, key->via.str.size): strdup ("");
        if (!name) {
            snprintf (err, errlen, "out of memory");
            json_decref (value);
            json_decref (map);
            return NULL;
        }
        //  A key that is not UTF-8 is left out (set_new takes the value either way).
        json_object_set_new (map, name, value);
        free (name);
    }
    return map;
}

json_t *
mc_value_to_json (const msgpack_object *obj, char *err, size_t errlen)
{
    return mc_value_to_json_frames (obj, NULL, 0, err, errlen);
}

json_t *
mc_value_to_json_frames (const msgpack_object *obj, zframe_t *const *frames, size_t count, char *err, size_t errlen)
{
    return mc_value_to_json_with (obj, frames, count, NULL, NULL, err, errlen);
}

json_t *
mc_value_to_json_with (const msgpack_object *obj, zframe_t *const *frames, size_t count, mc_value_array_fn *on_array,
                       void *arg, char *err, size_t errlen)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:              return json_null ();
        case MSGPACK_OBJECT_BOOLEAN:          return json_boolean (obj->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            //  JSON integers here are signed 64-bit: a larger one (a seed
            //  past 2^63) becomes its decimal digits as a string, exactly.
            if (obj->via.u64 > INT64_MAX) {
                char digits [24];
                snprintf (digits, sizeof digits, "%llu", (unsigned long long) obj->via.u64);
                return json_string (digits);
            }
            return json_integer ((json_int_t) obj->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer (obj->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (!isfinite (obj->via.f64)) {
                snprintf (err, errlen, "float %g has no JSON form", obj->via.f64);
                return NULL;
            }
            return json_real (obj->via.f64);
        case MSGPACK_OBJECT_STR:
            return json_stringn_nocheck (obj->via.str.size? obj->via.str.ptr: "", obj->via.str.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_t *array = json_array ();
            if (!array)
                snprintf (err, errlen, "out of memory");
            for (uint32_t i = 0; array && i < obj->via.array.size; i++)
                array = s_append (array, mc_value_to_json_with (&obj->via.array.ptr [i], frames, count, on_array, arg,
                                                                err, errlen), err, errlen);
            return array;
        }
        case MSGPACK_OBJECT_MAP:
            return s_map_to_json (obj, frames, count, on_array, arg, err, errlen);
        case MSGPACK_OBJECT_EXT: {
            mc_array_t array;
            if (mc_proto_array_data (obj, frames, count, &array)) {
                if (on_array)
                    return on_array (&array, arg, err, errlen);
                size_t index = 0;
                return s_array_to_json (&array, 0, &index, err, errlen);
            }
            if (obj->via.ext.type == MC_EXT_NAME)
                return json_sprintf ("@%.*s", (int) obj->via.ext.size, obj->via.ext.ptr);
        }
        //  fall through
        default:
            snprintf (err, errlen, "value of type %s has no JSON form", mc_value_type_name (obj));
            return NULL;
    }
}

json_t *
mc_value_bytes_to_json (const void *data, size_t size, char *err, size_t errlen)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 2048)) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    msgpack_object obj;
    json_t *result = NULL;
    if (mc_proto_unpack (data, size, &zone, &obj) == 0)
        result = mc_value_to_json (&obj, err, errlen);
    else
        snprintf (err, errlen, "malformed value (%zu bytes)", size);
    msgpack_zone_destroy (&zone);
    return result;
}

//  True when all of text is a number that strtoll/strtod accept.
static bool
s_is_int (const char *text, long long *value)
{
    char *end;
    errno = 0;
    *value = strtoll (text, &end, 10);
    return *text && !isspace ((unsigned char) *text) && !*end && !errno;
}

static bool
s_is_float (const char *text, double *value)
{
    char *end;
    errno = 0;
    *value = strtod (text, &end);
    //  strtod takes "nan", "inf" and hex; we want plain decimal numbers only.
    return *text && !*end && !errno && isfinite (*value)
        && strspn (text, "+-0123456789.eE") == strlen (text);
}

json_t *
mc_value_parse_arg (const char *text, char *err, size_t errlen)
{
    if (!strcmp (text, "true"))  return json_true ();
    if (!strcmp (text, "false")) return json_false ();
    if (!strcmp (text, "null"))  return json_null ();
    long long ivalue;
    double dvalue;
    if (s_is_int (text, &ivalue))
        return json_integer (ivalue);
    if (s_is_float (text, &dvalue))
        return json_real (dvalue);
    if (*text == '[' || *text == '{' || *text == '"') {
        json_error_t jerr;
        json_t *value = json_loads (text, JSON_DECODE_ANY, &jerr);
        if (!value)
            snprintf (err, errlen, "malformed JSON '%s': %s", text, jerr.text);
        return value;
    }
    return json_string (text);
}

int
mc_value_parse_range (const char *text, int64_t *start, int64_t *stop, int64_t *step,
                      char *err, size_t errlen)
{
    if (!strchr (text, ':') || *text == '[' || *text == '{' || *text == '"')
        return 1;
    char copy [256];
    if (snprintf (copy, sizeof copy, "%s", text) >= (int) sizeof copy) {
        snprintf (err, errlen, "malformed range '%.40s...': too long", text);
        return -1;
    }
    long long parts [3] = { 0, 0, 1 };
    int count = 0;
    char *token = copy;
    //  strtok would merge empty fields ("1::2"); split by hand.
    while (token) {
        char *colon = strchr (token, ':');
        if (colon)
            *colon = 0;
        if (count == 3 || !s_is_int (token, &parts [count])) {
            snprintf (err, errlen, "malformed range '%s': expected start:stop[:step] with integers", text);
            return -1;
        }
        count++;
        token = colon? colon + 1: NULL;
    }
    if (count < 2) {
        snprintf (err, errlen, "malformed range '%s': expected start:stop[:step]", text);
        return -1;
    }
    if (parts [2] == 0) {
        snprintf (err, errlen, "malformed range '%s': step must not be 0", text);
        return -1;
    }
    *start = parts [0];
    *stop = parts [1];
    *step = parts [2];
    return 0;
}

int64_t
mc_value_range_count (int64_t start, int64_t stop, int64_t step)
{
    if (step > 0 && start < stop)
        return (stop - start - 1) / step + 1;
    if (step < 0 && start > stop)
        return (start - stop - 1) / (-step) + 1;
    return 0;
}

bool
mc_value_valid_name (const char *name, size_t len)
{
    if (len == 0 || len > 255 || !(isalpha ((unsigned char) name [0]) || name [0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!isalnum ((unsigned char) name [i]) && name [i] != '_')
            return false;
    return true;
}

bool
mc_value_valid_kernel_name (const char *name, size_t len)
{
    if (len == 0 || len > MC_VALUE_KERNEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) name [i]) && name [i] != '_' && name [i] != '-' && name [i] != '.')
            return false;
    return true;
}

const char *
mc_value_type_name (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:              return "null";
        case MSGPACK_OBJECT_BOOLEAN:          return "bool";
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:          return "float";
        case MSGPACK_OBJECT_STR:              return "string";
        case MSGPACK_OBJECT_ARRAY:            return "list";
        case MSGPACK_OBJECT_MAP:              return "map";
        case MSGPACK_OBJECT_BIN:              return "binary";
        case MSGPACK_OBJECT_EXT:
            return obj->via.ext.type == MC_EXT_NAME? "name"
                 : obj->via.ext.type == MC_EXT_ARRAY || obj->via.ext.type == MC_EXT_INLINE? "array": "ext";
    }
    return "unknown";
}

int
mc_value_get_int (const msgpack_object *obj, int64_t *value)
{
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER && obj->via.u64 <= INT64_MAX) {
        *value = (int64_t) obj->via.u64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = obj->via.i64;
        return 0;
    }
    if ((obj->type == MSGPACK_OBJECT_FLOAT64 || obj->type == MSGPACK_OBJECT_FLOAT32)
    &&  obj->via.f64 == floor (obj->via.f64) && fabs (obj->via.f64) < 9.2e18) {
        *value = (int64_t) obj->via.f64;
        return 0;
    }
    return -1;
}

int
mc_value_get_double (const msgpack_object *obj, double *value)
{
    int64_t ivalue;
    if (obj->type == MSGPACK_OBJECT_FLOAT64 || obj->type == MSGPACK_OBJECT_FLOAT32) {
        *value = obj->via.f64;
        return 0;
    }
    if (mc_value_get_int (obj, &ivalue) == 0) {
        *value = (double) ivalue;
        return 0;
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Self test: CLI text, ranges, JSON <-> msgpack round trips

//  The on_array of the selftest: the array described in a string; arg is
//  the data it must have.
static json_t *
s_test_array_fn (const mc_array_t *array, void *arg, char *err, size_t errlen)
{
    (void) err;
    (void) errlen;
    //  Inline array data need not be aligned: read it by bytes.
    int64_t v [4];
    assert (array->size == sizeof v && !memcmp (array->data, arg, array->size));
    memcpy (v, array->data, sizeof v);
    return json_sprintf ("%s %llux%llu %lld..%lld", mc_dtype_name (array->dtype), (unsigned long long) array->shape [0],
                         (unsigned long long) array->shape [1], (long long) v [0], (long long) v [3]);
}

void
mc_value_test (bool verbose)
{
    if (verbose)
        printf (" * mc_value: ");
    char err [256];
    struct { const char *text; const char *json; } args [] = {
        { "2", "2" }, { "-7", "-7" }, { "2.5", "2.5" }, { "1e7", "10000000.0" }, { "true", "true" },
        { "null", "null" }, { "boom", "\"boom\"" }, { "[1,\"a\",[2.5]]", "[1,\"a\",[2.5]]" },
        { "{\"a\":1}", "{\"a\":1}" }, { "nan", "\"nan\"" }, { "0x10", "\"0x10\"" }, { "", "\"\"" },
    };
    for (size_t i = 0; i < sizeof args / sizeof args [0]; i++) {
        json_t *value = mc_value_parse_arg (args [i].text, err, sizeof err);
        assert (value);
        char *dump = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
        assert (!strcmp (dump, args [i].json));
        //  Round trip through msgpack.
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        assert (mc_value_pack_json (&pk, value) == 0);
        json_t *back = mc_value_bytes_to_json (sb.data, sb.size, err, sizeof err);
        assert (back && json_equal (back, value));
        json_decref (back);
        msgpack_sbuffer_destroy (&sb);
        free (dump);
        json_decref (value);
    }
    assert (mc_value_parse_arg ("[1,", err, sizeof err) == NULL && strstr (err, "malformed JSON"));
    //  JSON text straight to msgpack, and back.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, "[1,") == -1 && sb.size == 0);
    assert (mc_value_pack_json_text (&sb, "{\"a\":[1,2.5,null]}") == 0);
    json_t *back = mc_value_bytes_to_json (sb.data, sb.size, err, sizeof err);
    char *dump = json_dumps (back, JSON_COMPACT);
    assert (dump && !strcmp (dump, "{\"a\":[1,2.5,null]}"));
    free (dump);
    json_decref (back);
    msgpack_sbuffer_destroy (&sb);
    int64_t a, b, s;
    assert (mc_value_parse_range ("0:100", &a, &b, &s, err, sizeof err) == 0 && a == 0 && b == 100 && s == 1);
    assert (mc_value_parse_range ("10:0:-2", &a, &b, &s, err, sizeof err) == 0 && s == -2);
    assert (mc_value_parse_range ("abc", &a, &b, &s, err, sizeof err) == 1);
    const char *malformed [] = { "0:", ":5", "1:x", "1:2:0", "1::2", "1:2:3:4", "a:b" };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed [0]; i++)
        assert (mc_value_parse_range (malformed [i], &a, &b, &s, err, sizeof err) == -1
             && strstr (err, "malformed range"));
    assert (mc_value_range_count (0, 10, 3) == 4 && mc_value_range_count (10, 0, -3) == 4
         && mc_value_range_count (3, 3, 1) == 0);
    //  msgpack that JSON cannot hold is reported, not crashed on.
    const char bin [] = { (char) 0xC4, 0x01, 0x00 };
    assert (mc_value_bytes_to_json (bin, sizeof bin, err, sizeof err) == NULL && strstr (err, "binary"));
    const char truncated [] = { (char) 0x92, 0x01 };
    assert (mc_value_bytes_to_json (truncated, sizeof truncated, err, sizeof err) == NULL);
    //  An array inside a map and a list: nested lists, or what on_array makes of it.
    int64_t numbers [4] = { 1, 2, 3, 4 };
    mc_array_t array = { MC_DTYPE_I64, 2, { 2, 2 }, numbers, sizeof numbers, 0 };
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    mc_proto_pack_str (&pk, "r");
    msgpack_pack_array (&pk, 2);
    assert (mc_array_pack_inline (&pk, &array) == 0);
    msgpack_pack_int (&pk, 5);
    msgpack_zone zone;
    msgpack_object obj;
    assert (msgpack_zone_init (&zone, 256) && mc_proto_unpack (sb.data, sb.size, &zone, &obj) == 0);
    for (int hook = 0; hook < 2; hook++) {
        back = mc_value_to_json_with (&obj, NULL, 0, hook? s_test_array_fn: NULL, numbers, err, sizeof err);
        dump = json_dumps (back, JSON_COMPACT);
        assert (dump && !strcmp (dump, hook? "{\"r\":[\"i64 2x2 1..4\",5]}": "{\"r\":[[[1,2],[3,4]],5]}"));
        free (dump);
        json_decref (back);
    }
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    if (verbose)
        printf ("OK\n");
}
