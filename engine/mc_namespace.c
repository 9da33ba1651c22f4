/*  mc_namespace: named values in a hash table; each value owns its packed
    msgpack bytes, the zone they are unpacked into, and its frames. */
#include "mc_namespace.h"
#include "mc_proto.h"
#include "mc_value.h"

struct _mc_namespace_t {
    zhashx_t *values;               //  name -> mc_nsvalue_t (owned)
};

static void
s_value_destroy (mc_nsvalue_t **value_p)
{
    mc_nsvalue_t *value = *value_p;
    if (!value)
        return;
    for (size_t i = 0; i < value->frame_count; i++)
        zframe_destroy (&value->frames [i]);
    free (value->frames);
    msgpack_sbuffer_destroy (&value->packed);
    msgpack_zone_destroy (&value->zone);
    free (value);
    *value_p = NULL;
}

static void
s_value_free (void **item)
{
    s_value_destroy ((mc_nsvalue_t **) item);
}

mc_namespace_t *
mc_namespace_new (void)
{
    mc_namespace_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->values = zhashx_new ();
    zhashx_set_destructor (self->values, s_value_free);
    return self;
}

void
mc_namespace_destroy (mc_namespace_t **self_p)
{
    mc_namespace_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->values);
    free (self);
    *self_p = NULL;
}

int
mc_namespace_set (mc_namespace_t *self, const char *name, const msgpack_object *obj,
                  zframe_t *const *frames, size_t count, zmsg_t *owner)
{
    mc_nsvalue_t *value = calloc (1, sizeof *value);
    if (!value)
        return -1;
    msgpack_sbuffer_init (&value->packed);
    msgpack_zone_init (&value->zone, 256);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &value->packed, msgpack_sbuffer_write);
    zlist_t *used = zlist_new ();
    mc_repack_t how = { frames, count, used, false, NULL, NULL };
    if (mc_proto_repack (&pk, obj, &how)
    ||  mc_proto_unpack (value->packed.data, value->packed.size, &value->zone, &value->obj)) {
        zlist_destroy (&used);
        s_value_destroy (&value);
        return -1;
    }
    //  The frames stay the caller's until this cannot fail any more.
    value->frames = calloc (zlist_size (used) + 1, sizeof *value->frames);
    if (!value->frames) {
        zlist_destroy (&used);
        s_value_destroy (&value);
        return -1;
    }
    value->frame_count = zlist_size (used);
    value->bytes = value->packed.size;
    for (size_t i = 0; i < value->frame_count; i++) {
        zframe_t *frame = zlist_pop (used);
        if (owner)
            zmsg_remove (owner, frame);
        value->frames [i] = frame;
        value->bytes += zframe_size (frame);
    }
    zlist_destroy (&used);
    zhashx_update (self->values, name, value);
    return 0;
}

const mc_nsvalue_t *
mc_namespace_get (mc_namespace_t *self, const char *name, size_t len)
{
    char key [MC_NAME_MAX + 1];
    if (len > MC_NAME_MAX)
        return NULL;
    memcpy (key, name, len);
    key [len] = 0;
    return zhashx_lookup (self->values, key);
}

int
mc_namespace_delete (mc_namespace_t *self, const char *name, size_t len)
{
    if (!mc_namespace_get (self, name, len))
        return -1;
    char key [MC_NAME_MAX + 1];
    memcpy (key, name, len);
    key [len] = 0;
    zhashx_delete (self->values, key);
    return 0;
}

void
mc_namespace_pack_names (mc_namespace_t *self, msgpack_packer *pk)
{
    zlistx_t *keys = zhashx_keys (self->values);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (keys);
    msgpack_pack_map (pk, zlistx_size (keys));
    for (const char *name = zlistx_first (keys); name; name = zlistx_next (keys)) {
        const mc_nsvalue_t *value = zhashx_lookup (self->values, name);
        const msgpack_object *obj = &value->obj;
        mc_array_t array;
        bool is_array = mc_array_from_object (obj, &array) == 0;
        mc_proto_pack_str (pk, name);
        msgpack_pack_map (pk, is_array? 4: 3);
        mc_proto_pack_str (pk, "type");
        mc_proto_pack_str (pk, is_array? mc_dtype_name (array.dtype): mc_value_type_name (obj));
        uint64_t size = 1;
        if (is_array)
            size = array.size / 8;
        else
        if (obj->type == MSGPACK_OBJECT_ARRAY)
            size = obj->via.array.size;
        else
        if (obj->type == MSGPACK_OBJECT_MAP)
            size = obj->via.map.size;
        else
        if (obj->type == MSGPACK_OBJECT_STR)
            size = obj->via.str.size;
        mc_proto_pack_str (pk, "size");
        msgpack_pack_uint64 (pk, size);
        mc_proto_pack_str (pk, "bytes");
        msgpack_pack_uint64 (pk, value->bytes);
        if (is_array) {
            mc_proto_pack_str (pk, "shape");
            msgpack_pack_array (pk, array.ndim);
            for (uint32_t i = 0; i < array.ndim; i++)
                msgpack_pack_uint64 (pk, array.shape [i]);
        }
    }
    zlistx_destroy (&keys);
}

size_t
mc_namespace_size (mc_namespace_t *self)
{
    return zhashx_size (self->values);
}

void
mc_namespace_test (bool verbose)
{
    if (verbose)
        printf (" * mc_namespace: ");
    assert (mc_value_valid_name ("a", 1) && mc_value_valid_name ("_x9", 3));
    assert (!mc_value_valid_name ("9a", 2) && !mc_value_valid_name ("a-b", 3)
         && !mc_value_valid_name ("", 0));
    mc_namespace_t *ns = mc_namespace_new ();
    //  A list holding an array: the frame moves out of its message.
    double values [4] = { 1, 2, 3, 4 };
    mc_array_t array = { MC_DTYPE_F64, 2, { 2, 2 }, values, sizeof values, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_int64 (&pk, 7);
    mc_array_pack_ref (&pk, &array, 0);
    zmsg_t *owner = zmsg_new ();
    zmsg_addstr (owner, "header");
    zframe_t *frame = zframe_new (values, sizeof values);
    zmsg_append (owner, &frame);
    frame = zmsg_last (owner);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object obj;
    assert (mc_proto_unpack (sb.data, sb.size, &zone, &obj) == 0);
    assert (mc_namespace_set (ns, "a", &obj, &frame, 1, owner) == 0);
    assert (zmsg_size (owner) == 1);                //  the frame is the namespace's now
    zmsg_destroy (&owner);
    const mc_nsvalue_t *value = mc_namespace_get (ns, "a", 1);
    assert (value && value->frame_count == 1 && value->bytes == sb.size + sizeof values);
    mc_array_t got;
    const double *data = mc_proto_array_data (&value->obj.via.array.ptr [1], value->frames, value->frame_count, &got);
    assert (data && data [3] == 4 && got.shape [1] == 2);
    //  Replace, list names, delete.
    msgpack_object one = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1 };
    assert (mc_namespace_set (ns, "b", &one, NULL, 0, NULL) == 0);
    assert (mc_namespace_set (ns, "b", &one, NULL, 0, NULL) == 0);
    assert (mc_namespace_size (ns) == 2);
    msgpack_sbuffer_clear (&sb);
    mc_namespace_pack_names (ns, &pk);
    msgpack_object names;
    assert (mc_proto_unpack (sb.data, sb.size, &zone, &names) == 0 && names.via.map.size == 2);
    assert (mc_namespace_delete (ns, "a", 1) == 0 && mc_namespace_delete (ns, "a", 1) == -1);
    assert (!mc_namespace_get (ns, "a", 1) && mc_namespace_get (ns, "b", 1));
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    mc_namespace_destroy (&ns);
    if (verbose)
        printf ("OK\n");
}
