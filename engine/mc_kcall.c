/*  mc_kcall: the kernel ABI's readers and builders over msgpack. An
    argument value is a msgpack object; a result is packed as the kernel
    builds it, and `owed` counts the values it still needs, so that a kernel
    can never send a malformed result. */
#include "mc_kcall.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  The ABI's numbers are the wire's.
_Static_assert ((int) MC_KDTYPE_F64 == (int) MC_DTYPE_F64 && (int) MC_KDTYPE_I64 == (int) MC_DTYPE_I64,
                "kernel dtypes are the array dtypes");
_Static_assert (MC_KARRAY_MAX_DIMS == MC_ARRAY_MAX_DIMS, "kernel arrays have the dimensions of arrays");

static const msgpack_object *
s_obj (const mc_kvalue_t *value)
{
    return (const msgpack_object *) value;
}

//  --------------------------------------------------------------------------
//  Arguments

size_t
mc_kcall_argc (const mc_kcall_t *call)
{
    return call->argc;
}

const mc_kvalue_t *
mc_kcall_arg (const mc_kcall_t *call, size_t i)
{
    return i < call->argc? mc_kvalue_of (call->argv [i]): NULL;
}

const mc_kvalue_t *
mc_kcall_kwarg (const mc_kcall_t *call, const char *name)
{
    return call->kwargs? mc_kvalue_get (mc_kvalue_of (call->kwargs), name): NULL;
}

mc_ktype_t
mc_kvalue_type (const mc_kvalue_t *value)
{
    const msgpack_object *obj = s_obj (value);
    if (!obj)
        return MC_KVALUE_NONE;
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:              return MC_KVALUE_NIL;
        case MSGPACK_OBJECT_BOOLEAN:          return MC_KVALUE_BOOL;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return MC_KVALUE_INT;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:          return MC_KVALUE_FLOAT;
        case MSGPACK_OBJECT_STR:              return MC_KVALUE_STR;
        case MSGPACK_OBJECT_ARRAY:            return MC_KVALUE_LIST;
        case MSGPACK_OBJECT_MAP:              return MC_KVALUE_MAP;
        case MSGPACK_OBJECT_EXT:
            if (obj->via.ext.type == MC_EXT_ARRAY || obj->via.ext.type == MC_EXT_INLINE)
                return MC_KVALUE_ARRAY;
            return MC_KVALUE_OTHER;
        default:                              return MC_KVALUE_OTHER;
    }
}

const char *
mc_kvalue_type_name (const mc_kvalue_t *value)
{
    return value? mc_value_type_name (s_obj (value)): "nothing";
}

int
mc_kvalue_int (const mc_kvalue_t *value, int64_t *out)
{
    return value? mc_value_get_int (s_obj (value), out): -1;
}

int
mc_kvalue_double (const mc_kvalue_t *value, double *out)
{
    return value? mc_value_get_double (s_obj (value), out): -1;
}

int
mc_kvalue_bool (const mc_kvalue_t *value, bool *out)
{
    if (mc_kvalue_type (value) != MC_KVALUE_BOOL)
        return -1;
    *out = s_obj (value)->via.boolean;
    return 0;
}

const char *
mc_kvalue_str (const mc_kvalue_t *value, size_t *len)
{
    if (mc_kvalue_type (value) != MC_KVALUE_STR)
        return NULL;
    *len = s_obj (value)->via.str.size;
    //  An empty string's pointer may be NULL in msgpack-c: never here.
    return *len? s_obj (value)->via.str.ptr: "";
}

size_t
mc_kvalue_len (const mc_kvalue_t *value)
{
    mc_ktype_t type = mc_kvalue_type (value);
    return type == MC_KVALUE_LIST? s_obj (value)->via.array.size
         : type == MC_KVALUE_MAP? s_obj (value)->via.map.size: 0;
}

const mc_kvalue_t *
mc_kvalue_at (const mc_kvalue_t *list, size_t i)
{
    if (mc_kvalue_type (list) != MC_KVALUE_LIST || i >= s_obj (list)->via.array.size)
        return NULL;
    return mc_kvalue_of (&s_obj (list)->via.array.ptr [i]);
}

const mc_kvalue_t *
mc_kvalue_get (const mc_kvalue_t *map, const char *key)
{
    if (mc_kvalue_type (map) != MC_KVALUE_MAP)
        return NULL;
    const msgpack_object *found = mc_proto_map_get (s_obj (map), key);
    return found? mc_kvalue_of (found): NULL;
}

int
mc_kcall_array (const mc_kcall_t *call, const mc_kvalue_t *value, mc_karray_t *array)
{
    mc_array_t got;
    if (!value || !mc_proto_array_data (s_obj (value), call->frames, call->frame_count, &got))
        return -1;
    array->dtype = (mc_kdtype_t) got.dtype;
    array->ndim = got.ndim;
    memcpy (array->shape, got.shape, sizeof array->shape);
    array->data = got.data;
    array->size = got.size;
    return 0;
}

//  --------------------------------------------------------------------------
//  The result

//  One value is about to be packed, holding `holds` more: 0, or -1 when the
//  result needs no more values.
static int
s_owe (mc_kcall_t *call, size_t holds)
{
    if (call->owed == 0)
        return mc_kcall_error (call, "the kernel built more than one result value");
    call->owed += holds - 1;
    return 0;
}

//  What a msgpack_pack_* call returned: 0, or -1 with the error set.
static int
s_packed (mc_kcall_t *call, int rc)
{
    return rc? mc_kcall_error (call, "out of memory building the result"): 0;
}

int
mc_kcall_nil (mc_kcall_t *call)
{
    return s_owe (call, 0) || s_packed (call, msgpack_pack_nil (call->out))? -1: 0;
}

int
mc_kcall_bool (mc_kcall_t *call, bool value)
{
    return s_owe (call, 0) || s_packed (call, value? msgpack_pack_true (call->out): msgpack_pack_false (call->out))?
           -1: 0;
}

int
mc_kcall_int (mc_kcall_t *call, int64_t value)
{
    return s_owe (call, 0) || s_packed (call, msgpack_pack_int64 (call->out, value))? -1: 0;
}

int
mc_kcall_double (mc_kcall_t *call, double value)
{
    return s_owe (call, 0) || s_packed (call, msgpack_pack_double (call->out, value))? -1: 0;
}

int
mc_kcall_str (mc_kcall_t *call, const char *text, size_t len)
{
    if (len > UINT32_MAX)
        return mc_kcall_error (call, "result string of %zu bytes is too long", len);
    return s_owe (call, 0) || s_packed (call, msgpack_pack_str_with_body (call->out, text, len))? -1: 0;
}

int
mc_kcall_list (mc_kcall_t *call, size_t count)
{
    if (count > UINT32_MAX)
        return mc_kcall_error (call, "result list of %zu values is too long", count);
    return s_owe (call, count) || s_packed (call, msgpack_pack_array (call->out, count))? -1: 0;
}

int
mc_kcall_map (mc_kcall_t *call, size_t count)
{
    if (count > UINT32_MAX)
        return mc_kcall_error (call, "result map of %zu entries is too long", count);
    return s_owe (call, 2 * count) || s_packed (call, msgpack_pack_map (call->out, count))? -1: 0;
}

//  Pack a value as it came; arrays in frames get a copy of their frame in
//  the result's (the arguments' frames are not the result's to give away).
static int
s_pack_value (mc_kcall_t *call, const msgpack_object *obj)
{
    mc_array_t array;
    switch (obj->type) {
        case MSGPACK_OBJECT_ARRAY:
            if (msgpack_pack_array (call->out, obj->via.array.size))
                return -1;
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (s_pack_value (call, &obj->via.array.ptr [i]))
                    return -1;
            return 0;
        case MSGPACK_OBJECT_MAP:
            if (msgpack_pack_map (call->out, obj->via.map.size))
                return -1;
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (s_pack_value (call, &obj->via.map.ptr [i].key) || s_pack_value (call, &obj->via.map.ptr [i].val))
                    return -1;
            return 0;
        case MSGPACK_OBJECT_EXT:
            if (obj->via.ext.type == MC_EXT_ARRAY) {
                if (!mc_proto_array_data (obj, call->frames, call->frame_count, &array))
                    return -1;
                zframe_t *frame = mc_proto_frame_new (array.data, array.size);
                if (!frame || zlist_append (call->out_frames, frame)) {
                    zframe_destroy (&frame);
                    return -1;
                }
                return mc_array_pack_ref (call->out, &array, (uint32_t) zlist_size (call->out_frames) - 1);
            }
            //  fall through
        default:
            return msgpack_pack_object (call->out, *obj);
    }
}

int
mc_kcall_value (mc_kcall_t *call, const mc_kvalue_t *value)
{
    if (!value)
        return mc_kcall_error (call, "the kernel returned a missing value");
    return s_owe (call, 0) || s_packed (call, s_pack_value (call, s_obj (value)))? -1: 0;
}

void *
mc_kcall_out_array (mc_kcall_t *call, mc_kdtype_t dtype, uint32_t ndim, const uint64_t *shape)
{
    mc_array_t array = { (mc_dtype_t) dtype, ndim, { 0 }, NULL, 0, 0 };
    if (ndim < 1 || ndim > MC_ARRAY_MAX_DIMS) {
        mc_kcall_error (call, "result array has %u dimensions (1 to %d allowed)", ndim, MC_ARRAY_MAX_DIMS);
        return NULL;
    }
    memcpy (array.shape, shape, ndim * sizeof *shape);
    if (mc_array_bytes (dtype, ndim, shape, &array.size)) {
        mc_kcall_error (call, "result array is too large");
        return NULL;
    }
    if (s_owe (call, 0))
        return NULL;
    zframe_t *frame = mc_proto_frame_new (NULL, array.size);
    if (!frame || zlist_append (call->out_frames, frame)) {
        zframe_destroy (&frame);
        mc_kcall_error (call, "cannot allocate %zu bytes for the result", array.size);
        return NULL;
    }
    if (s_packed (call, mc_array_pack_ref (call->out, &array, (uint32_t) zlist_size (call->out_frames) - 1)))
        return NULL;
    return zframe_data (frame);
}

//  --------------------------------------------------------------------------
//  Everything else

void
mc_kcall_meta_double (mc_kcall_t *call, const char *key, double value)
{
    if (call->meta_count < MC_KCALL_META_MAX) {
        call->meta [call->meta_count].key = key;
        call->meta [call->meta_count++].value = value;
    }
}

int
mc_kcall_error (mc_kcall_t *call, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (call->error, sizeof call->error, fmt, args);
    va_end (args);
    //  One line: errors are shown grouped, one per line.
    for (char *c = call->error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return -1;
}

uint64_t
mc_kcall_seed (const mc_kcall_t *call)
{
    return call->seed;
}

uint64_t
mc_kcall_index (const mc_kcall_t *call)
{
    return call->index;
}

bool
mc_kcall_cancelled (const mc_kcall_t *call)
{
    return call->cancel && *call->cancel;
}

//  Keys in the order of their first report, each with its values.
int
mc_kcall_pack_meta (const mc_kcall_t *call, bool is_map, msgpack_sbuffer *meta)
{
    if (call->meta_count == 0)
        return 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, meta, msgpack_sbuffer_write);
    const char *keys [MC_KCALL_META_MAX];
    size_t nkeys = 0;
    for (size_t i = 0; i < call->meta_count; i++) {
        size_t k = 0;
        while (k < nkeys && strcmp (keys [k], call->meta [i].key))
            k++;
        if (k == nkeys)
            keys [nkeys++] = call->meta [i].key;
    }
    int rc = msgpack_pack_map (&pk, nkeys);
    for (size_t k = 0; k < nkeys; k++) {
        rc |= msgpack_pack_str_with_body (&pk, keys [k], strlen (keys [k]));
        size_t count = 0;
        for (size_t i = 0; i < call->meta_count; i++)
            count += !strcmp (keys [k], call->meta [i].key);
        if (is_map)
            rc |= msgpack_pack_array (&pk, count);
        for (size_t i = 0; i < call->meta_count; i++)
            if (!strcmp (keys [k], call->meta [i].key)) {
                rc |= msgpack_pack_double (&pk, call->meta [i].value);
                if (!is_map)
                    break;
            }
    }
    return rc? -1: 0;
}

int
mc_kcall_invoke (mc_kcall_t *call, const mc_kernel_def_t *def)
{
    call->owed = 1;
    call->error [0] = 0;
    if (def->fn (call)) {
        if (!call->error [0])
            mc_kcall_error (call, "%s failed without saying why", def->name);
        return -1;
    }
    //  A builder that failed set the error, even if the kernel went on.
    if (call->error [0])
        return -1;
    if (call->owed)
        return mc_kcall_error (call, "%s returned without building its whole result", def->name);
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest

msgpack_object
mc_kcall_test_value (const char *json, msgpack_sbuffer *sb, msgpack_zone *zone)
{
    json_t *value = json_loads (json, JSON_DECODE_ANY, NULL);
    assert (value);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    assert (mc_value_pack_json (&pk, value) == 0);
    json_decref (value);
    msgpack_object obj;
    assert (mc_proto_unpack (sb->data, sb->size, zone, &obj) == 0);
    return obj;
}

//  The packed result of a call as compact JSON into out; asserts.
static void
s_test_result (const msgpack_sbuffer *sb, zlist_t *frames, char *out, size_t len)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object obj;
    size_t count = 0;
    zframe_t **table = frames? mc_proto_frame_array (frames, &count): NULL;
    char err [128];
    assert (mc_proto_unpack (sb->data, sb->size, &zone, &obj) == 0);
    json_t *json = mc_value_to_json_frames (&obj, table, count, err, sizeof err);
    assert (json);
    char *dump = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf (out, len, "%s", dump);
    free (dump);
    json_decref (json);
    free (table);
    msgpack_zone_destroy (&zone);
}

int
mc_kcall_try (const mc_kernel_def_t *def, const char *args, const char *kwargs, uint64_t seed,
              char *out, size_t len)
{
    msgpack_sbuffer in [2], result;
    msgpack_sbuffer_init (&in [0]);
    msgpack_sbuffer_init (&in [1]);
    msgpack_sbuffer_init (&result);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object argv = mc_kcall_test_value (args, &in [0], &zone);
    msgpack_object map = mc_kcall_test_value (kwargs? kwargs: "{}", &in [1], &zone);
    assert (argv.type == MSGPACK_OBJECT_ARRAY && map.type == MSGPACK_OBJECT_MAP);
    const msgpack_object *list [16];
    assert (argv.via.array.size <= 16);
    for (uint32_t i = 0; i < argv.via.array.size; i++)
        list [i] = &argv.via.array.ptr [i];
    msgpack_packer pk;
    msgpack_packer_init (&pk, &result, msgpack_sbuffer_write);
    zlist_t *frames = zlist_new ();
    assert (frames);
    mc_kcall_t call = { .argv = list, .argc = argv.via.array.size, .kwargs = &map, .out = &pk,
                        .out_frames = frames, .seed = seed };
    int rc = mc_kcall_invoke (&call, def);
    if (rc == 0)
        s_test_result (&result, frames, out, len);
    else
        snprintf (out, len, "%s", call.error);
    zframe_t *frame;
    while ((frame = zlist_pop (frames)))
        zframe_destroy (&frame);
    zlist_destroy (&frames);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&in [0]);
    msgpack_sbuffer_destroy (&in [1]);
    msgpack_sbuffer_destroy (&result);
    return rc;
}

void
mc_kcall_expect (const mc_kernel_def_t *def, const char *args, const char *kwargs, uint64_t seed,
                 int rc, const char *expect, bool verbose)
{
    char out [1024];
    int got = mc_kcall_try (def, args, kwargs, seed, out, sizeof out);
    bool same = got == rc && (!expect || !strcmp (out, expect));
    if (verbose || !same)
        printf ("  %s %s %s -> %d %s\n", def->name, args, kwargs? kwargs: "", got, out);
    assert (same);
}

//  Test kernels: each reads its arguments and builds its result in one way.
static int
s_test_readers (mc_kcall_t *call)
{
    //  args [7, 2.5, true, "hi", [1, 2], {"k": null}, 9.0], kwargs {"w": -3}
    int64_t i;
    double d;
    bool b;
    size_t len;
    const mc_kvalue_t *list = mc_kcall_arg (call, 4), *map = mc_kcall_arg (call, 5);
    assert (mc_kcall_argc (call) == 7 && !mc_kcall_arg (call, 7));
    assert (mc_kvalue_type (mc_kcall_arg (call, 0)) == MC_KVALUE_INT && mc_kvalue_int (mc_kcall_arg (call, 0), &i) == 0
         && i == 7);
    assert (mc_kvalue_double (mc_kcall_arg (call, 0), &d) == 0 && d == 7);
    assert (mc_kvalue_type (mc_kcall_arg (call, 1)) == MC_KVALUE_FLOAT && mc_kvalue_int (mc_kcall_arg (call, 1), &i) == -1);
    assert (mc_kvalue_int (mc_kcall_arg (call, 6), &i) == 0 && i == 9);        //  an integral float
    assert (mc_kvalue_bool (mc_kcall_arg (call, 2), &b) == 0 && b && mc_kvalue_bool (mc_kcall_arg (call, 0), &b) == -1);
    const char *text = mc_kvalue_str (mc_kcall_arg (call, 3), &len);
    assert (text && len == 2 && !memcmp (text, "hi", 2) && !mc_kvalue_str (list, &len));
    assert (mc_kvalue_type (list) == MC_KVALUE_LIST && mc_kvalue_len (list) == 2 && !mc_kvalue_at (list, 2));
    assert (mc_kvalue_int (mc_kvalue_at (list, 1), &i) == 0 && i == 2);
    assert (mc_kvalue_type (map) == MC_KVALUE_MAP && mc_kvalue_len (map) == 1 && !mc_kvalue_at (map, 0));
    assert (mc_kvalue_type (mc_kvalue_get (map, "k")) == MC_KVALUE_NIL && !mc_kvalue_get (map, "x"));
    assert (!mc_kvalue_get (list, "k") && mc_kvalue_len (mc_kcall_arg (call, 3)) == 0);
    assert (mc_kvalue_int (mc_kcall_kwarg (call, "w"), &i) == 0 && i == -3 && !mc_kcall_kwarg (call, "v"));
    //  A missing value reads as nothing.
    assert (mc_kvalue_type (NULL) == MC_KVALUE_NONE && !strcmp (mc_kvalue_type_name (NULL), "nothing"));
    assert (mc_kvalue_int (NULL, &i) == -1 && mc_kvalue_double (NULL, &d) == -1 && !mc_kvalue_str (NULL, &len));
    assert (mc_kvalue_len (NULL) == 0 && !mc_kvalue_at (NULL, 0) && !mc_kvalue_get (NULL, "k"));
    assert (!strcmp (mc_kvalue_type_name (list), "list") && !strcmp (mc_kvalue_type_name (map), "map"));
    mc_karray_t array;
    assert (mc_kcall_array (call, list, &array) == -1 && mc_kcall_array (call, NULL, &array) == -1);
    return mc_kcall_nil (call);
}

static int
s_test_builders (mc_kcall_t *call)
{
    mc_kcall_meta_double (call, "m", 0.5);
    return mc_kcall_map (call, 2) || mc_kcall_str (call, "a", 1) || mc_kcall_list (call, 4)
        || mc_kcall_int (call, -5) || mc_kcall_double (call, 1.5) || mc_kcall_bool (call, false)
        || mc_kcall_value (call, mc_kcall_arg (call, 0))
        || mc_kcall_str (call, "b", 1) || mc_kcall_nil (call);
}

static int
s_test_too_many (mc_kcall_t *call)
{
    mc_kcall_nil (call);
    mc_kcall_nil (call);                //  fails; a careless kernel goes on
    return 0;
}

static int
s_test_too_few (mc_kcall_t *call)
{
    return mc_kcall_list (call, 2) || mc_kcall_nil (call);
}

static int
s_test_silent (mc_kcall_t *call)
{
    (void) call;
    return -1;
}

//  Arrays in, arrays out: the sum of the first array as a one-element
//  int64 array, then the array itself as it came.
static int
s_test_arrays (mc_kcall_t *call)
{
    mc_karray_t in;
    if (mc_kcall_array (call, mc_kcall_arg (call, 0), &in) || in.dtype != MC_KDTYPE_I64)
        return mc_kcall_error (call, "expected an int64 array");
    assert (mc_kvalue_type (mc_kcall_arg (call, 0)) == MC_KVALUE_ARRAY && in.ndim == 1 && in.shape [0] == 3);
    uint64_t one = 1;
    if (mc_kcall_list (call, 2))
        return -1;
    int64_t *sum = mc_kcall_out_array (call, MC_KDTYPE_I64, 1, &one);
    if (!sum)
        return -1;
    const int64_t *x = in.data;
    *sum = x [0] + x [1] + x [2];
    return mc_kcall_value (call, mc_kcall_arg (call, 0));
}

void
mc_kcall_test (bool verbose)
{
    printf (" * mc_kcall: ");
    if (verbose)
        printf ("\n");
    char out [256];
    mc_kernel_def_t def = { "readers", "", "", s_test_readers };
    assert (mc_kcall_try (&def, "[7, 2.5, true, \"hi\", [1, 2], {\"k\": null}, 9.0]", "{\"w\": -3}", 0,
                          out, sizeof out) == 0 && !strcmp (out, "null"));
    def.fn = s_test_builders;
    assert (mc_kcall_try (&def, "[[\"x\", {\"y\": 1}]]", NULL, 0, out, sizeof out) == 0);
    if (verbose)
        printf ("  builders: %s\n", out);
    assert (!strcmp (out, "{\"a\":[-5,1.5,false,[\"x\",{\"y\":1}]],\"b\":null}"));
    def.fn = s_test_too_many;
    assert (mc_kcall_try (&def, "[]", NULL, 0, out, sizeof out) == -1 && strstr (out, "more than one result value"));
    def.fn = s_test_too_few;
    assert (mc_kcall_try (&def, "[]", NULL, 0, out, sizeof out) == -1 && strstr (out, "without building its whole"));
    def.fn = s_test_silent;
    assert (mc_kcall_try (&def, "[]", NULL, 0, out, sizeof out) == -1 && !strcmp (out, "readers failed without saying why"));
    //  Errors are one line.
    mc_kcall_t call = { .argc = 0 };
    assert (mc_kcall_error (&call, "a\nb\r%d", 3) == -1 && !strcmp (call.error, "a b 3"));
    assert (!mc_kcall_cancelled (&call));
    volatile int cancel = 1;
    call.cancel = (const volatile int *) &cancel;
    assert (mc_kcall_cancelled (&call));
    //  Metadata: one value per key for an apply, a list per key for a map.
    msgpack_sbuffer meta;
    msgpack_sbuffer_init (&meta);
    assert (mc_kcall_pack_meta (&call, false, &meta) == 0 && meta.size == 0);
    mc_kcall_meta_double (&call, "a", 1);
    mc_kcall_meta_double (&call, "b", 2);
    mc_kcall_meta_double (&call, "a", 3);
    assert (mc_kcall_pack_meta (&call, false, &meta) == 0);
    s_test_result (&meta, NULL, out, sizeof out);
    assert (!strcmp (out, "{\"a\":1.0,\"b\":2.0}"));
    msgpack_sbuffer_clear (&meta);
    assert (mc_kcall_pack_meta (&call, true, &meta) == 0);
    s_test_result (&meta, NULL, out, sizeof out);
    assert (!strcmp (out, "{\"a\":[1.0,3.0],\"b\":[2.0]}"));
    for (int i = 0; i < MC_KCALL_META_MAX; i++)
        mc_kcall_meta_double (&call, "c", i);
    assert (call.meta_count == MC_KCALL_META_MAX);      //  the rest are dropped
    msgpack_sbuffer_destroy (&meta);
    //  Arrays: an argument in a frame; the result's arrays in new frames.
    int64_t values [3] = { 1, 2, 39 };
    mc_array_t array = { MC_DTYPE_I64, 1, { 3 }, values, sizeof values, 0 };
    msgpack_sbuffer sb, result;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&result);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    mc_array_pack_ref (&pk, &array, 0);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object arg;
    assert (mc_proto_unpack (sb.data, sb.size, &zone, &arg) == 0);
    zframe_t *arg_frame = zframe_new (values, sizeof values), *frame;
    zlist_t *frames = zlist_new ();
    assert (arg_frame && frames);
    const msgpack_object *argv [1] = { &arg };
    msgpack_packer_init (&pk, &result, msgpack_sbuffer_write);
    call = (mc_kcall_t) { .argv = argv, .argc = 1, .frames = &arg_frame, .frame_count = 1, .out = &pk,
                          .out_frames = frames };
    def.fn = s_test_arrays;
    assert (mc_kcall_invoke (&call, &def) == 0 && zlist_size (frames) == 2);
    s_test_result (&result, frames, out, sizeof out);
    assert (!strcmp (out, "[[42],[1,2,39]]"));
    assert (zframe_data (zlist_last (frames)) != zframe_data (arg_frame));       //  a copy, not the argument's
    //  No frame behind the reference: not an array.
    call.frame_count = 0;
    msgpack_sbuffer_clear (&result);
    assert (mc_kcall_invoke (&call, &def) == -1 && strstr (call.error, "expected an int64 array"));
    //  Result arrays of a bad shape are refused.
    call.owed = 1;
    uint64_t shape [9] = { 1 };
    assert (!mc_kcall_out_array (&call, MC_KDTYPE_F64, 0, shape) && strstr (call.error, "dimensions"));
    assert (!mc_kcall_out_array (&call, MC_KDTYPE_F64, 9, shape));
    shape [0] = UINT64_MAX;
    assert (!mc_kcall_out_array (&call, MC_KDTYPE_F64, 1, shape) && strstr (call.error, "too large"));
    assert (call.owed == 1);
    while ((frame = zlist_pop (frames)))
        zframe_destroy (&frame);
    zlist_destroy (&frames);
    zframe_destroy (&arg_frame);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&result);
    printf ("OK\n");
}
