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
mc_kvalue_array (const mc_kcall_t *call, const mc_kvalue_t *value, mc_karray_t *array)
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
//  Arguments by name: bound to the kernel's declared ones before it runs

//  obj as an argument of type arg->type into slot: 0, or -1 with the error
//  set (naming the kernel and the argument).
static int
s_convert (mc_kcall_t *call, const char *kernel, const mc_karg_t *arg, const msgpack_object *obj, mc_kslot_t *slot)
{
    const mc_kvalue_t *value = mc_kvalue_of (obj);
    mc_ktype_t type = mc_kvalue_type (value);
    slot->raw = obj;
    slot->present = true;
    bool fits = true;
    switch (arg->type) {
        case MC_KARG_ANY:   break;
        case MC_KARG_BOOL:  fits = mc_kvalue_bool (value, &slot->b) == 0; break;
        case MC_KARG_INT:   fits = mc_kvalue_int (value, &slot->i) == 0; slot->d = (double) slot->i; break;
        case MC_KARG_FLOAT: fits = mc_kvalue_double (value, &slot->d) == 0; break;
        case MC_KARG_LIST:  fits = type == MC_KVALUE_LIST; break;
        case MC_KARG_MAP:   fits = type == MC_KVALUE_MAP; break;
        case MC_KARG_ARRAY: {
            mc_karray_t array;
            fits = mc_kvalue_array (call, value, &array) == 0;
            break;
        }
        case MC_KARG_STR: {
            const char *text = mc_kvalue_str (value, &slot->len);
            //  A copy, so that the kernel gets a NUL-terminated string.
            char *copy = text? malloc (slot->len + 1): NULL;
            fits = text != NULL;
            if (copy) {
                memcpy (copy, text, slot->len);
                copy [slot->len] = 0;
                slot->s = copy;
                slot->owned = true;
            }
            else if (text)
                return mc_kcall_error (call, "%s: out of memory for argument %s", kernel, arg->name);
            break;
        }
    }
    if (fits)
        return 0;
    double d;
    if (arg->type == MC_KARG_INT && mc_kvalue_double (value, &d) == 0)
        return mc_kcall_error (call, "%s: %s must be an integer, got %.17g", kernel, arg->name, d);
    return mc_kcall_error (call, "%s: %s must be %s %s, got %s", kernel, arg->name,
                           arg->type == MC_KARG_INT || arg->type == MC_KARG_ARRAY? "an": "a",
                           arg->type == MC_KARG_STR? "string": arg->type == MC_KARG_INT? "integer"
                           : mc_kargs_type_name (arg->type), mc_kvalue_type_name (value));
}

//  The names of args, for messages: "a, b, c".
static const char *
s_names (const mc_kargs_t *args, char *buf, size_t len)
{
    buf [0] = 0;
    for (size_t i = 0, used = 0; i < args->count && used < len; i++)
        used += (size_t) snprintf (buf + used, len - used, "%s%s", i? ", ": "", args->arg [i].name);
    return args->count? buf: "none";
}

//  Positionals, then keywords, then defaults: 0, or -1 with the error set.
//  The first `skip` positionals (0, or 1: a map's item) are marked given
//  but not converted: mc_kcall_invoke_item converts the item of each call.
//  *early is set when the error came before any positional was converted
//  (so before the item would be).
static int
s_bind (mc_kcall_t *call, const char *kernel, const mc_kargs_t *args, size_t skip, bool *early)
{
    char names [512];
    memset (call->slot, 0, args->count * sizeof call->slot [0]);
    *early = true;
    if (call->argc > args->positional && !args->more)
        return mc_kcall_error (call, "%s: takes %zu positional argument%s%s, got %zu", kernel, args->positional,
                               args->positional == 1? "": "s", args->count > args->positional? " (the rest are name=value)": "",
                               call->argc);
    *early = false;
    for (size_t i = 0; i < skip && i < call->argc && i < args->positional; i++) {
        call->slot [i].raw = call->argv [i];
        call->slot [i].present = true;
    }
    for (size_t i = skip; i < call->argc && i < args->positional; i++)
        if (s_convert (call, kernel, &args->arg [i], call->argv [i], &call->slot [i]))
            return -1;
    uint32_t nkw = call->kwargs && call->kwargs->type == MSGPACK_OBJECT_MAP? call->kwargs->via.map.size: 0;
    for (uint32_t k = 0; k < nkw; k++) {
        const msgpack_object_kv *kv = &call->kwargs->via.map.ptr [k];
        char key [MC_KARGS_NAME_MAX + 1] = "";
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size <= MC_KARGS_NAME_MAX)
            memcpy (key, kv->key.via.str.ptr, kv->key.via.str.size), key [kv->key.via.str.size] = 0;
        int i = key [0]? mc_kargs_find (args, key): -1;
        if (i < 0 && args->more)
            continue;                   //  "...": read raw with mc_kcall_kwarg
        if (i < 0)
            return mc_kcall_error (call, "%s: no argument '%.*s' (it takes %s)", kernel,
                                   kv->key.type == MSGPACK_OBJECT_STR? (int) kv->key.via.str.size: 1,
                                   kv->key.type == MSGPACK_OBJECT_STR? kv->key.via.str.ptr: "?",
                                   s_names (args, names, sizeof names));
        if (call->slot [i].raw)
            return mc_kcall_error (call, "%s: %s is given twice", kernel, key);
        //  nil for an optional argument: as if it were not given.
        if (kv->val.type == MSGPACK_OBJECT_NIL && args->arg [i].nil_default)
            continue;
        if (s_convert (call, kernel, &args->arg [i], &kv->val, &call->slot [i]))
            return -1;
    }
    for (size_t i = 0; i < args->count; i++) {
        const mc_karg_t *arg = &args->arg [i];
        mc_kslot_t *slot = &call->slot [i];
        if (slot->raw)
            continue;
        if (arg->required)
            return mc_kcall_error (call, "%s: %s (%s) is required", kernel, arg->name, mc_kargs_type_name (arg->type));
        slot->present = !arg->nil_default;
        slot->i = arg->i, slot->d = arg->type == MC_KARG_INT? (double) arg->i: arg->d, slot->b = arg->b;
        slot->s = arg->s, slot->len = strlen (arg->s);
    }
    return 0;
}

static void
s_unbind (mc_kcall_t *call)
{
    for (size_t i = 0; call->args && i < call->args->count; i++)
        if (call->slot [i].owned) {
            free ((char *) call->slot [i].s);
            call->slot [i].owned = false;
        }
}

//  The bound slot of argument name, read as want: NULL with the error set
//  when the kernel declared no such argument of a type that reads so.
static const mc_kslot_t *
s_slot (mc_kcall_t *call, const char *name, mc_karg_type_t want, const char *reader)
{
    int i = call->args? mc_kargs_find (call->args, name): -1;
    mc_karg_type_t type = i >= 0? call->args->arg [i].type: MC_KARG_ANY;
    bool reads = want == MC_KARG_ANY || type == want || (want == MC_KARG_FLOAT && type == MC_KARG_INT);
    if (i < 0 || !reads) {
        if (!call->error [0])           //  the first bug is the one to fix
            mc_kcall_error (call, "kernel bug: %s (\"%s\") but its args declare %s%s", reader, name,
                            i < 0? "no such argument": "it as ", i < 0? "": mc_kargs_type_name (type));
        return NULL;
    }
    return &call->slot [i];
}

int64_t
mc_kcall_int (mc_kcall_t *call, const char *name)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_INT, "mc_kcall_int");
    return slot? slot->i: 0;
}

double
mc_kcall_double (mc_kcall_t *call, const char *name)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_FLOAT, "mc_kcall_double");
    return slot? slot->d: 0;
}

bool
mc_kcall_bool (mc_kcall_t *call, const char *name)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_BOOL, "mc_kcall_bool");
    return slot? slot->b: false;
}

const char *
mc_kcall_str (mc_kcall_t *call, const char *name, size_t *len)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_STR, "mc_kcall_str");
    if (len)
        *len = slot && slot->present? slot->len: 0;
    return slot && slot->present? slot->s: NULL;
}

int
mc_kcall_array (mc_kcall_t *call, const char *name, mc_karray_t *array)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_ARRAY, "mc_kcall_array");
    return slot && slot->raw? mc_kvalue_array (call, mc_kvalue_of (slot->raw), array): -1;
}

bool
mc_kcall_has (mc_kcall_t *call, const char *name)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_ANY, "mc_kcall_has");
    return slot && slot->present;
}

const mc_kvalue_t *
mc_kcall_value (mc_kcall_t *call, const char *name)
{
    const mc_kslot_t *slot = s_slot (call, name, MC_KARG_ANY, "mc_kcall_value");
    return slot && slot->raw? mc_kvalue_of (slot->raw): NULL;
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

//  A value of one byte (msgpack's own form: 0xc0 nil, 0xc2 false, 0xc3
//  true): into the buffer when it has room (a nil per item of a map added
//  up to a call of the packer's writer each), else through the packer.
static int
s_put_byte (mc_kcall_t *call, uint8_t byte)
{
    msgpack_sbuffer *sb = call->out_buffer;
    if (sb && sb->size < sb->alloc) {
        sb->data [sb->size++] = (char) byte;
        return 0;
    }
    return byte == 0xc0? msgpack_pack_nil (call->out): byte == 0xc3? msgpack_pack_true (call->out)
                                                                     : msgpack_pack_false (call->out);
}

int
mc_kcall_out_nil (mc_kcall_t *call)
{
    return s_owe (call, 0) || s_packed (call, s_put_byte (call, 0xc0))? -1: 0;
}

int
mc_kcall_out_bool (mc_kcall_t *call, bool value)
{
    return s_owe (call, 0) || s_packed (call, s_put_byte (call, value? 0xc3: 0xc2))? -1: 0;
}

int
mc_kcall_out_int (mc_kcall_t *call, int64_t value)
{
    return s_owe (call, 0) || s_packed (call, msgpack_pack_int64 (call->out, value))? -1: 0;
}

int
mc_kcall_out_double (mc_kcall_t *call, double value)
{
    return s_owe (call, 0) || s_packed (call, msgpack_pack_double (call->out, value))? -1: 0;
}

int
mc_kcall_out_str (mc_kcall_t *call, const char *text, size_t len)
{
    if (len > UINT32_MAX)
        return mc_kcall_error (call, "result string of %zu bytes is too long", len);
    return s_owe (call, 0) || s_packed (call, msgpack_pack_str_with_body (call->out, text, len))? -1: 0;
}

int
mc_kcall_out_list (mc_kcall_t *call, size_t count)
{
    if (count > UINT32_MAX)
        return mc_kcall_error (call, "result list of %zu values is too long", count);
    return s_owe (call, count) || s_packed (call, msgpack_pack_array (call->out, count))? -1: 0;
}

int
mc_kcall_out_map (mc_kcall_t *call, size_t count)
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
mc_kcall_out_value (mc_kcall_t *call, const mc_kvalue_t *value)
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

//  What a kernel returned (rc) and built: 0, or -1 with the error set.
static int
s_returned (mc_kcall_t *call, const mc_kernel_def_t *def, int rc)
{
    if (rc) {
        if (!call->error [0])
            mc_kcall_error (call, "%s failed without saying why", def->name);
        return -1;
    }
    //  A builder or reader that failed set the error, even if the kernel went on.
    if (call->error [0])
        return -1;
    if (call->owed)
        return mc_kcall_error (call, "%s returned without building its whole result", def->name);
    return 0;
}

int
mc_kcall_invoke (mc_kcall_t *call, const mc_kernel_def_t *def, const mc_kargs_t *args)
{
    call->owed = 1;
    call->error [0] = 0;
    call->args = args;
    bool early;
    int rc = s_bind (call, def->name, args, 0, &early);
    if (rc == 0)
        rc = def->fn (call);
    s_unbind (call);
    return s_returned (call, def, rc);
}

//  The arguments of a map's items differ in the item alone, and are bound
//  in the same order as mc_kcall_invoke binds them: the count of
//  positionals, the item, the rest. So the count and the rest are checked
//  and converted once per task here; a failure is kept and told at the
//  first item, in its place in that order, as the per-call binding would.
void
mc_kcall_bind_rest (mc_kcall_t *call, const mc_kernel_def_t *def, const mc_kargs_t *args)
{
    assert (call->argc >= 1);
    call->error [0] = 0;
    call->args = args;
    call->item_bound = args->positional >= 1;
    call->rest_failed = s_bind (call, def->name, args, 1, &call->rest_early) != 0;
    if (call->rest_failed) {
        memcpy (call->rest_error, call->error, sizeof call->rest_error);
        s_unbind (call);
        memset (call->slot, 0, args->count * sizeof call->slot [0]);
    }
}

int
mc_kcall_invoke_item (mc_kcall_t *call, const mc_kernel_def_t *def)
{
    call->owed = 1;
    call->error [0] = 0;
    int rc = 0;
    if (call->rest_failed && call->rest_early)
        rc = -1;
    else
    if (call->item_bound) {
        mc_kslot_t *slot = &call->slot [0];
        const mc_karg_t *arg = &call->args->arg [0];
        if (slot->owned)
            free ((char *) slot->s);
        *slot = (mc_kslot_t) { .raw = NULL };
        if (arg->type == MC_KARG_ANY) {         //  what s_convert does for any, without its calls
            slot->raw = call->argv [0];
            slot->present = true;
        }
        else
            rc = s_convert (call, def->name, arg, call->argv [0], slot);
    }
    if (rc == 0 && call->rest_failed)
        rc = -1;
    if (rc && call->rest_failed && !call->error [0])
        memcpy (call->error, call->rest_error, sizeof call->error);
    if (rc == 0)
        rc = def->fn (call);
    return s_returned (call, def, rc);
}

void
mc_kcall_unbind (mc_kcall_t *call)
{
    s_unbind (call);
    call->rest_failed = false;
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
    mc_kargs_t parsed;
    int rc = mc_kargs_parse (&parsed, def->args, call.error, sizeof call.error);
    if (rc == 0)
        rc = mc_kcall_invoke (&call, def, &parsed);
    if (rc == 0)
        s_test_result (&result, frames, out, len);
    else
        snprintf (out, len, "%s", call.error);
    if (call.argc >= 1 && mc_kargs_parse (&parsed, def->args, call.error, sizeof call.error) == 0) {
        //  The first argument as a map's item, the rest bound once, and
        //  the result's buffer written to straight: the same bytes and
        //  frames, or the same error.
        msgpack_sbuffer again;
        msgpack_sbuffer_init (&again);
        msgpack_packer_init (&pk, &again, msgpack_sbuffer_write);
        zlist_t *frames_again = zlist_new ();
        assert (frames_again);
        call.out_frames = frames_again;
        call.out_buffer = &again;               //  one-byte values put there straight, this time
        call.meta_count = 0;
        mc_kcall_bind_rest (&call, def, &parsed);
        int item_rc = mc_kcall_invoke_item (&call, def);
        mc_kcall_unbind (&call);
        assert (item_rc == rc);
        if (rc == 0) {
            assert (again.size == result.size && !memcmp (again.data, result.data, again.size)
                 && zlist_size (frames_again) == zlist_size (frames));
            for (zframe_t *a = zlist_first (frames), *b = zlist_first (frames_again); a;
                 a = zlist_next (frames), b = zlist_next (frames_again))
                assert (zframe_eq (a, b));
        }
        else
            assert (!strncmp (call.error, out, len - 1));      //  (out may hold the start of it)
        zframe_t *frame;
        while ((frame = zlist_pop (frames_again)))
            zframe_destroy (&frame);
        zlist_destroy (&frames_again);
        msgpack_sbuffer_destroy (&again);
    }
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
    assert (mc_kvalue_array (call, list, &array) == -1 && mc_kvalue_array (call, NULL, &array) == -1);
    return mc_kcall_out_nil (call);
}

static int
s_test_builders (mc_kcall_t *call)
{
    mc_kcall_meta_double (call, "m", 0.5);
    return mc_kcall_out_map (call, 2) || mc_kcall_out_str (call, "a", 1) || mc_kcall_out_list (call, 4)
        || mc_kcall_out_int (call, -5) || mc_kcall_out_double (call, 1.5) || mc_kcall_out_bool (call, false)
        || mc_kcall_out_value (call, mc_kcall_arg (call, 0))
        || mc_kcall_out_str (call, "b", 1) || mc_kcall_out_nil (call);
}

//  The one-byte values, each (put straight into the buffer by the second
//  call of mc_kcall_try: the same bytes).
static int
s_test_bytes (mc_kcall_t *call)
{
    return mc_kcall_out_list (call, 4) || mc_kcall_out_nil (call) || mc_kcall_out_bool (call, true)
        || mc_kcall_out_bool (call, false) || mc_kcall_out_nil (call);
}

static int
s_test_too_many (mc_kcall_t *call)
{
    mc_kcall_out_nil (call);
    mc_kcall_out_nil (call);                //  fails; a careless kernel goes on
    return 0;
}

static int
s_test_too_few (mc_kcall_t *call)
{
    return mc_kcall_out_list (call, 2) || mc_kcall_out_nil (call);
}

static int
s_test_silent (mc_kcall_t *call)
{
    (void) call;
    return -1;
}

//  Arguments by name: "x:float n:int * s:str=hi b:bool=false l:list=nil
//  a:array=nil"; returns [x, n, s, b, has l, has a].
static int
s_test_named (mc_kcall_t *call)
{
    size_t len;
    const char *s = mc_kcall_str (call, "s", &len);
    assert (s && strlen (s) == len);
    mc_karray_t array;
    assert ((mc_kcall_array (call, "a", &array) == 0) == mc_kcall_has (call, "a"));
    assert (!mc_kcall_has (call, "l") || mc_kvalue_type (mc_kcall_value (call, "l")) == MC_KVALUE_LIST);
    return mc_kcall_out_list (call, 6) || mc_kcall_out_double (call, mc_kcall_double (call, "x"))
        || mc_kcall_out_int (call, mc_kcall_int (call, "n")) || mc_kcall_out_str (call, s, len)
        || mc_kcall_out_bool (call, mc_kcall_bool (call, "b")) || mc_kcall_out_bool (call, mc_kcall_has (call, "l"))
        || mc_kcall_out_bool (call, mc_kcall_has (call, "a"));
}

//  "item:str * sep:str=-": item, sep and the item's length, as one string.
static int
s_test_join (mc_kcall_t *call)
{
    size_t len, sep_len;
    const char *item = mc_kcall_str (call, "item", &len), *sep = mc_kcall_str (call, "sep", &sep_len);
    char text [64];
    int n = snprintf (text, sizeof text, "%s%s%zu", item, sep, len);
    return mc_kcall_out_str (call, text, (size_t) n);
}

//  A kernel that reads an argument it did not declare.
static int
s_test_undeclared (mc_kcall_t *call)
{
    mc_kcall_int (call, "x");               //  declared a float: a bug
    return mc_kcall_out_double (call, mc_kcall_double (call, "y"));
}

//  Arrays in, arrays out: the sum of the first array as a one-element
//  int64 array, then the array itself as it came.
static int
s_test_arrays (mc_kcall_t *call)
{
    mc_karray_t in;
    if (mc_kvalue_array (call, mc_kcall_arg (call, 0), &in) || in.dtype != MC_KDTYPE_I64)
        return mc_kcall_error (call, "expected an int64 array");
    assert (mc_kvalue_type (mc_kcall_arg (call, 0)) == MC_KVALUE_ARRAY && in.ndim == 1 && in.shape [0] == 3);
    uint64_t one = 1;
    if (mc_kcall_out_list (call, 2))
        return -1;
    int64_t *sum = mc_kcall_out_array (call, MC_KDTYPE_I64, 1, &one);
    if (!sum)
        return -1;
    const int64_t *x = in.data;
    *sum = x [0] + x [1] + x [2];
    return mc_kcall_out_value (call, mc_kcall_arg (call, 0));
}

void
mc_kcall_test (bool verbose)
{
    printf (" * mc_kcall: ");
    if (verbose)
        printf ("\n");
    char out [256];
    mc_kernel_def_t def = { "readers", "", "args:any... * w:int=0", s_test_readers };
    int rc = mc_kcall_try (&def, "[7, 2.5, true, \"hi\", [1, 2], {\"k\": null}, 9.0]", "{\"w\": -3}", 0, out, sizeof out);
    if (verbose)
        printf ("  readers: %d %s\n", rc, out);
    assert (rc == 0 && !strcmp (out, "null"));
    //  "...": undeclared keywords pass through too, raw.
    assert (mc_kcall_try (&def, "[7, 2.5, true, \"hi\", [1, 2], {\"k\": null}, 9.0]", "{\"w\": -3, \"extra\": 1}", 0,
                          out, sizeof out) == 0);
    def.fn = s_test_builders;
    assert (mc_kcall_try (&def, "[[\"x\", {\"y\": 1}]]", NULL, 0, out, sizeof out) == 0);
    if (verbose)
        printf ("  builders: %s\n", out);
    assert (!strcmp (out, "{\"a\":[-5,1.5,false,[\"x\",{\"y\":1}]],\"b\":null}"));
    def.fn = s_test_bytes;
    assert (mc_kcall_try (&def, "[1]", NULL, 0, out, sizeof out) == 0 && !strcmp (out, "[null,true,false,null]"));
    //  Arguments bound by name: converted, defaulted, refused with reasons.
    mc_kernel_def_t named = { "named", "", "x:float n:int * s:str=hi b:bool=false l:list=nil a:array=nil", s_test_named };
    struct { const char *args, *kwargs, *expect; int rc; } binds [] = {
        { "[1, 2]", NULL, "[1.0,2,\"hi\",false,false,false]", 0 },
        { "[1.5]", "{\"n\": 3e6, \"s\": \"\", \"b\": true, \"l\": [1]}", "[1.5,3000000,\"\",true,true,false]", 0 },
        { "[]", "{\"n\": 1, \"x\": 2, \"l\": null}", "[2.0,1,\"hi\",false,false,false]", 0 },
        { "[1]", NULL, "named: n (int) is required", -1 },
        { "[1, 2, 3]", NULL, "named: takes 2 positional arguments (the rest are name=value), got 3", -1 },
        { "[1, 2.5]", NULL, "named: n must be an integer, got 2.5", -1 },
        { "[\"1\", 2]", NULL, "named: x must be a float, got string", -1 },
        { "[1, 2]", "{\"s\": 5}", "named: s must be a string, got int", -1 },
        { "[1, 2]", "{\"b\": 1}", "named: b must be a bool, got int", -1 },
        { "[1, 2]", "{\"a\": [1]}", "named: a must be an array, got list", -1 },
        { "[1, 2]", "{\"x\": 1}", "named: x is given twice", -1 },
        { "[1, 2]", "{\"z\": 1}", "named: no argument 'z' (it takes x, n, s, b, l, a)", -1 },
        { "[1, 2]", "{\"1\": 1}", "named: no argument '1' (it takes x, n, s, b, l, a)", -1 },
    };
    for (size_t i = 0; i < sizeof binds / sizeof binds [0]; i++)
        mc_kcall_expect (&named, binds [i].args, binds [i].kwargs, 0, binds [i].rc, binds [i].expect, verbose);
    //  A map's items, the rest bound once: each item converted in turn (a
    //  string copied for each, and freed), the rest kept; an item that does
    //  not fit fails in its place.
    mc_kernel_def_t join = { "join", "", "item:str * sep:str=-", s_test_join };
    msgpack_sbuffer items_sb, kw_sb, joined;
    msgpack_sbuffer_init (&items_sb);
    msgpack_sbuffer_init (&kw_sb);
    msgpack_sbuffer_init (&joined);
    msgpack_zone items_zone;
    msgpack_zone_init (&items_zone, 256);
    msgpack_object items = mc_kcall_test_value ("[\"a\", \"bb\", \"\", 4]", &items_sb, &items_zone);
    msgpack_object kw = mc_kcall_test_value ("{\"sep\": \"+\"}", &kw_sb, &items_zone);
    const msgpack_object *item_argv [1] = { &items.via.array.ptr [0] };
    msgpack_packer join_pk;
    msgpack_packer_init (&join_pk, &joined, msgpack_sbuffer_write);
    mc_kargs_t join_args;
    assert (mc_kargs_parse (&join_args, join.args, out, sizeof out) == 0);
    mc_kcall_t each = { .argv = item_argv, .argc = 1, .kwargs = &kw, .out = &join_pk };
    mc_kcall_bind_rest (&each, &join, &join_args);
    for (uint32_t i = 0; i < 3; i++) {
        item_argv [0] = &items.via.array.ptr [i];
        assert (mc_kcall_invoke_item (&each, &join) == 0);
    }
    item_argv [0] = &items.via.array.ptr [3];
    assert (mc_kcall_invoke_item (&each, &join) == -1 && !strcmp (each.error, "join: item must be a string, got int"));
    mc_kcall_unbind (&each);
    char expect [32];
    size_t at = 0;
    const char *want [] = { "a+1", "bb+2", "+0" };
    for (int i = 0; i < 3; i++) {
        msgpack_object got;
        size_t was = at;
        msgpack_unpack_return got_rc = msgpack_unpack (joined.data, joined.size, &at, &items_zone, &got);
        assert (got_rc == MSGPACK_UNPACK_SUCCESS || got_rc == MSGPACK_UNPACK_EXTRA_BYTES);
        assert (got.type == MSGPACK_OBJECT_STR && at > was);
        snprintf (expect, sizeof expect, "%.*s", (int) got.via.str.size, got.via.str.ptr);
        assert (!strcmp (expect, want [i]));
    }
    assert (at == joined.size);
    //  The rest does not fit: told by the first item, whatever it is.
    msgpack_sbuffer_clear (&kw_sb);
    kw = mc_kcall_test_value ("{\"sep\": 1}", &kw_sb, &items_zone);
    each = (mc_kcall_t) { .argv = item_argv, .argc = 1, .kwargs = &kw, .out = &join_pk };
    mc_kcall_bind_rest (&each, &join, &join_args);
    assert (mc_kcall_invoke_item (&each, &join) == -1 && !strcmp (each.error, "join: item must be a string, got int"));
    item_argv [0] = &items.via.array.ptr [0];
    assert (mc_kcall_invoke_item (&each, &join) == -1 && !strcmp (each.error, "join: sep must be a string, got int"));
    mc_kcall_unbind (&each);
    msgpack_zone_destroy (&items_zone);
    msgpack_sbuffer_destroy (&items_sb);
    msgpack_sbuffer_destroy (&kw_sb);
    msgpack_sbuffer_destroy (&joined);
    mc_kernel_def_t undeclared = { "undeclared", "", "x:float", s_test_undeclared };
    mc_kcall_expect (&undeclared, "[1]", NULL, 0, -1, "kernel bug: mc_kcall_int (\"x\") but its args declare it as float",
                     verbose);
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
    mc_kargs_t any;
    assert (mc_kargs_parse (&any, "args:any...", out, sizeof out) == 0);
    assert (mc_kcall_invoke (&call, &def, &any) == 0 && zlist_size (frames) == 2);
    s_test_result (&result, frames, out, sizeof out);
    assert (!strcmp (out, "[[42],[1,2,39]]"));
    assert (zframe_data (zlist_last (frames)) != zframe_data (arg_frame));       //  a copy, not the argument's
    //  No frame behind the reference: not an array.
    call.frame_count = 0;
    msgpack_sbuffer_clear (&result);
    assert (mc_kcall_invoke (&call, &def, &any) == -1 && strstr (call.error, "expected an int64 array"));
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
