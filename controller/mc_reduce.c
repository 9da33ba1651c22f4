/*  mc_reduce: a tree of accumulators shaped like the first value added. */
#include "mc_reduce.h"
#include "mc_array.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { R_NONE, R_INT, R_FLOAT, R_MAP, R_ARRAY } s_kind_t;

typedef struct s_acc s_acc_t;
struct s_acc {
    s_kind_t kind;
    int64_t i;
    double f;
    size_t count;                   //  map: keys
    char **keys;
    s_acc_t **values;
    mc_array_t shape;               //  array: dtype and shape (data unused)
    void *data;                     //  int64_t or double elements
};

struct _mc_reduce_t {
    s_acc_t *root;
    char error [256];
};

static void
s_acc_free (s_acc_t *a)
{
    if (!a)
        return;
    for (size_t k = 0; k < a->count; k++) {
        free (a->keys [k]);
        s_acc_free (a->values [k]);
    }
    free (a->keys);
    free (a->values);
    free (a->data);
    free (a);
}

static int
s_fail (mc_reduce_t *self, const char *what, const char *type)
{
    if (!self->error [0])
        snprintf (self->error, sizeof self->error, "cannot sum %s%s", what, type);
    return -1;
}

//  A new key of a map, with an empty accumulator. 0, or -1 when out of
//  memory (then the map is as it was).
static int
s_add_key (s_acc_t *a, const char *key, size_t len)
{
    char **keys = realloc (a->keys, (a->count + 1) * sizeof *keys);
    if (keys)
        a->keys = keys;
    s_acc_t **values = keys? realloc (a->values, (a->count + 1) * sizeof *values): NULL;
    if (values)
        a->values = values;
    char *name = values? (len? strndup (key, len): strdup ("")): NULL;     //  "" may come without a pointer
    s_acc_t *value = name? calloc (1, sizeof *value): NULL;
    if (!value) {
        free (name);
        return -1;
    }
    a->keys [a->count] = name;
    a->values [a->count++] = value;
    return 0;
}

static int
s_add (mc_reduce_t *self, s_acc_t *a, const msgpack_object *v)
{
    mc_array_t array;
    switch (v->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
            int64_t x;
            if (mc_value_get_int (v, &x))
                return s_fail (self, "an integer over 2^63", "");
            if (a->kind == R_NONE)
                a->kind = R_INT;
            if (a->kind == R_INT && !__builtin_add_overflow (a->i, x, &a->i))
                return 0;
            if (a->kind == R_INT) {
                a->kind = R_FLOAT;
                a->f = (double) a->i;
            }
            if (a->kind != R_FLOAT)
                return s_fail (self, "a number with a ", "map or array");
            a->f += (double) x;
            return 0;
        }
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (a->kind == R_NONE || a->kind == R_INT) {
                a->f = a->kind == R_INT? (double) a->i: 0;
                a->kind = R_FLOAT;
            }
            if (a->kind != R_FLOAT)
                return s_fail (self, "a number with a ", "map or array");
            a->f += v->via.f64;
            return 0;
        case MSGPACK_OBJECT_MAP:
            if (a->kind == R_NONE)
                a->kind = R_MAP;
            if (a->kind != R_MAP)
                return s_fail (self, "a map with a ", "number or array");
            for (uint32_t i = 0; i < v->via.map.size; i++) {
                const msgpack_object *key = &v->via.map.ptr [i].key;
                if (key->type != MSGPACK_OBJECT_STR)
                    return s_fail (self, "a map whose keys are not strings", "");
                size_t k = 0;
                while (k < a->count && !(strlen (a->keys [k]) == key->via.str.size
                                         && (!key->via.str.size || !memcmp (a->keys [k], key->via.str.ptr, key->via.str.size))))
                    k++;
                if (k == a->count && s_add_key (a, key->via.str.ptr, key->via.str.size))
                    return s_fail (self, "values", " (out of memory)");
                if (s_add (self, a->values [k], &v->via.map.ptr [i].val))
                    return -1;
            }
            return 0;
        case MSGPACK_OBJECT_EXT:
            if (!mc_proto_array_data (v, NULL, 0, &array))
                return s_fail (self, "a value of type ", mc_value_type_name (v));
            if (a->kind == R_NONE) {
                a->kind = R_ARRAY;
                a->shape = array;
                a->data = calloc (array.size / 8 + 1, 8);
                if (!a->data)
                    return s_fail (self, "arrays this large", "");
            }
            if (a->kind != R_ARRAY || array.dtype != a->shape.dtype || array.ndim != a->shape.ndim
            ||  memcmp (array.shape, a->shape.shape, array.ndim * sizeof array.shape [0]))
                return s_fail (self, "arrays of different types or shapes", "");
            for (size_t e = 0; e < array.size / 8; e++)
                if (array.dtype == MC_DTYPE_I64) {
                    int64_t x;
                    memcpy (&x, (const char *) array.data + 8 * e, 8);
                    ((int64_t *) a->data) [e] += x;
                }
                else {
                    double x;
                    memcpy (&x, (const char *) array.data + 8 * e, 8);
                    ((double *) a->data) [e] += x;
                }
            return 0;
        case MSGPACK_OBJECT_NIL:
            return 0;
        default:
            return s_fail (self, "a value of type ", mc_value_type_name (v));
    }
}

static int
s_pack (const s_acc_t *a, msgpack_packer *pk)
{
    int rc = 0;
    switch (a->kind) {
        case R_NONE:  return msgpack_pack_nil (pk);
        case R_INT:   return msgpack_pack_int64 (pk, a->i);
        case R_FLOAT: return msgpack_pack_double (pk, a->f);
        case R_MAP:
            rc = msgpack_pack_map (pk, a->count);
            for (size_t k = 0; k < a->count && rc == 0; k++)
                rc = msgpack_pack_str_with_body (pk, a->keys [k], strlen (a->keys [k])) || s_pack (a->values [k], pk);
            return rc? -1: 0;
        case R_ARRAY: {
            mc_array_t out = a->shape;
            out.data = a->data;
            return mc_array_pack_inline (pk, &out)? -1: 0;
        }
    }
    return -1;
}

mc_reduce_t *
mc_reduce_new (void)
{
    mc_reduce_t *self = calloc (1, sizeof *self);
    if (self && !(self->root = calloc (1, sizeof (s_acc_t))))
        mc_reduce_destroy (&self);
    return self;
}

void
mc_reduce_destroy (mc_reduce_t **self_p)
{
    mc_reduce_t *self = *self_p;
    if (!self)
        return;
    s_acc_free (self->root);
    free (self);
    *self_p = NULL;
}

int
mc_reduce_add (mc_reduce_t *self, const msgpack_object *value)
{
    return self->error [0]? -1: s_add (self, self->root, value);
}

int
mc_reduce_pack (const mc_reduce_t *self, msgpack_packer *pk)
{
    return s_pack (self->root, pk);
}

const char *
mc_reduce_error (const mc_reduce_t *self)
{
    return self->error [0]? self->error: NULL;
}

//  Test helper: add the msgpack value packed in sb to r.
static int
s_add_packed (mc_reduce_t *r, const msgpack_sbuffer *sb)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object obj;
    assert (mc_proto_unpack (sb->data, sb->size, &zone, &obj) == 0);
    int rc = mc_reduce_add (r, &obj);
    msgpack_zone_destroy (&zone);
    return rc;
}

void
mc_reduce_test (bool verbose)
{
    if (verbose)
        printf (" * mc_reduce: ");
    mc_reduce_t *r = mc_reduce_new ();
    assert (r);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    //  {"hits": 3, "samples": 10} + {"hits": 4, "samples": 10} + nil
    for (int i = 0; i < 2; i++) {
        msgpack_sbuffer_clear (&sb);
        msgpack_pack_map (&pk, 2);
        msgpack_pack_str_with_body (&pk, "hits", 4);
        msgpack_pack_int64 (&pk, 3 + i);
        msgpack_pack_str_with_body (&pk, "samples", 7);
        msgpack_pack_int64 (&pk, 10);
        assert (s_add_packed (r, &sb) == 0);
    }
    msgpack_object nil = { .type = MSGPACK_OBJECT_NIL };
    assert (mc_reduce_add (r, &nil) == 0);
    msgpack_sbuffer_clear (&sb);
    assert (mc_reduce_pack (r, &pk) == 0);
    char *json = NULL;
    json_t *value = mc_value_bytes_to_json (sb.data, sb.size, NULL, 0);
    json = json_dumps (value, JSON_COMPACT | JSON_SORT_KEYS);
    assert (!strcmp (json, "{\"hits\":7,\"samples\":20}"));
    free (json);
    json_decref (value);
    //  A number added to a map is an error, said once.
    msgpack_object one = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1 };
    assert (mc_reduce_add (r, &one) == -1 && strstr (mc_reduce_error (r), "cannot sum"));
    mc_reduce_destroy (&r);
    //  Arrays add elementwise.
    r = mc_reduce_new ();
    assert (r);
    int64_t counts [4] = { 1, 2, 3, 4 };
    mc_array_t array = { MC_DTYPE_I64, 2, { 2, 2 }, counts, sizeof counts, 0 };
    for (int i = 0; i < 3; i++) {
        msgpack_sbuffer_clear (&sb);
        mc_array_pack_inline (&pk, &array);
        assert (s_add_packed (r, &sb) == 0);
    }
    msgpack_sbuffer_clear (&sb);
    assert (mc_reduce_pack (r, &pk) == 0);
    value = mc_value_bytes_to_json (sb.data, sb.size, NULL, 0);
    json = json_dumps (value, JSON_COMPACT);
    assert (!strcmp (json, "[[3,6],[9,12]]"));
    free (json);
    json_decref (value);
    mc_reduce_destroy (&r);
    msgpack_sbuffer_destroy (&sb);
    if (verbose)
        printf ("OK\n");
}
