/*  mc_libraries: libraries of kernels that clients add, kept and shipped
    to every engine. */
#include "mc_libraries.h"
#include "mc_answer.h"
#include "mc_engines.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_value.h"
#include <sodium.h>
#include <string.h>

#define S_NAME_MAX 63
#define S_ADD_TIMEOUT_US (30 * 1000000LL)   //  a kernels_add waits this long for the engines

//  A library as the controller keeps it.
typedef struct {
    char name [S_NAME_MAX + 1];
    char hash [65];                 //  SHA-256 in hex
    uint64_t size;                  //  bytes of the shared object
    zframe_t *bytes;                //  of 8 * ceil(size / 8) bytes, the first size the object (owned)
} s_lib_t;

//  A kernels_add waiting for the engines' LOADED.
typedef struct {
    s_lib_t lib;                    //  the new version
    zframe_t *routing_id;           //  the client's (owned)
    uint64_t req;
    int32_t *waiting;               //  ids of the engines that have not answered
    size_t waiting_count;
    int32_t *loaded;                //  and of those that loaded it
    size_t loaded_count;
    char error [1024];              //  the first refusal, or ""
    msgpack_sbuffer added;          //  what the first success added (msgpack array)
    int64_t deadline_us;            //  monotonic
} s_pending_t;

struct _mc_libraries_t {
    zlistx_t *libs;                 //  s_lib_t, oldest first
    zlistx_t *pending;              //  s_pending_t
};

static void
s_lib_destroy (void **item_p)
{
    s_lib_t *lib = *item_p;
    if (lib) {
        zframe_destroy (&lib->bytes);
        free (lib);
        *item_p = NULL;
    }
}

static void
s_pending_destroy (void **item_p)
{
    s_pending_t *p = *item_p;
    if (p) {
        zframe_destroy (&p->lib.bytes);
        zframe_destroy (&p->routing_id);
        free (p->waiting);
        free (p->loaded);
        msgpack_sbuffer_destroy (&p->added);
        free (p);
        *item_p = NULL;
    }
}

static int
s_take_stored (void *arg, const char *name, const char *hash, const void *bytes, size_t size)
{
    mc_libraries_t *self = arg;
    s_lib_t *lib = calloc (1, sizeof *lib);
    if (!lib || strlen (name) > S_NAME_MAX || strlen (hash) != 64
    ||  !(lib->bytes = mc_proto_frame_new (NULL, (size + 7) & ~(size_t) 7))) {
        free (lib);
        return -1;
    }
    memset (zframe_data (lib->bytes), 0, zframe_size (lib->bytes));
    memcpy (zframe_data (lib->bytes), bytes, size);
    snprintf (lib->name, sizeof lib->name, "%s", name);
    snprintf (lib->hash, sizeof lib->hash, "%s", hash);
    lib->size = size;
    zlistx_add_end (self->libs, lib);
    return 0;
}

mc_libraries_t *
mc_libraries_new (mc_store_t *store, char *err, size_t errlen)
{
    mc_libraries_t *self = calloc (1, sizeof *self);
    if (!self || !(self->libs = zlistx_new ()) || !(self->pending = zlistx_new ())) {
        snprintf (err, errlen, "out of memory");
        mc_libraries_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->libs, s_lib_destroy);
    zlistx_set_destructor (self->pending, s_pending_destroy);
    if (store && mc_store_each_library (store, s_take_stored, self)) {
        snprintf (err, errlen, "cannot read the added libraries: %s", mc_store_error (store));
        mc_libraries_destroy (&self);
        return NULL;
    }
    return self;
}

void
mc_libraries_destroy (mc_libraries_t **self_p)
{
    mc_libraries_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->libs);
    zlistx_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}

size_t
mc_libraries_size (const mc_libraries_t *self)
{
    return zlistx_size (self->libs);
}

static s_lib_t *
s_find (mc_libraries_t *self, const char *name)
{
    for (s_lib_t *lib = zlistx_first (self->libs); lib; lib = zlistx_next (self->libs))
        if (!strcmp (lib->name, name))
            return lib;
    return NULL;
}

//  LIBRARY (with its frame, shared, not copied) or UNLOAD (lib NULL) to one engine.
static void
s_send (mc_server_t *server, mc_engine_t *engine, const char *name, const s_lib_t *lib)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = lib? MC_LIBRARY: MC_UNLOAD;
    msg.name.ptr = name;
    msg.name.size = strlen (name);
    zframe_t *frames [1];
    if (lib) {
        msg.hash.ptr = lib->hash;
        msg.hash.size = strlen (lib->hash);
        msg.size = lib->size;
        frames [0] = lib->bytes;
        msg.frames = frames;
        msg.frame_count = 1;
    }
    //  After the TASKs queued for it: a library applies to tasks sent after it.
    mc_engines_flush (server);
    if (mc_msg_send (&msg, zsock_resolve (server->engine_sock), mc_engine_routing_id (engine)))
        mc_warn ("cannot send %s %s to engine %d", mc_msg_type_name (msg.type), name, mc_engine_id (engine));
}

void
mc_libraries_welcome (mc_server_t *server, mc_engine_t *engine)
{
    mc_libraries_t *self = server->libraries;
    for (s_lib_t *lib = self? zlistx_first (self->libs): NULL; lib; lib = zlistx_next (self->libs))
        s_send (server, engine, lib->name, lib);
}

//  Only the owner adds code to the engines: 0, or -1 once refused.
static int
s_owner_only (mc_server_t *server, mc_msg_t *msg, const char *op)
{
    if (mc_auth_is_owner (server->auth, zmsg_first (msg->zmsg)))
        return 0;
    mc_answer_error (server, msg->routing_id, msg->req, MC_E_DENIED,
                     "%s: only the cluster's owner may add or remove kernels (they run with the engines' rights)", op);
    return -1;
}

//  The library name of a request into name: 0, or -1 once answered.
static int
s_name (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body, const char *op, char *name)
{
    int got = mc_answer_str_field (server, msg, body, op, "name", name, S_NAME_MAX + 1);
    if (got < 0)
        return -1;
    if (got == 0 || strchr (name, '.') || !mc_value_valid_kernel_name (name, strlen (name))) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         "%s: 'name' must be a kernel name without '.', of at most %d bytes", op, S_NAME_MAX);
        return -1;
    }
    return 0;
}

void
mc_libraries_add_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body)
{
    char name [S_NAME_MAX + 1];
    if (s_owner_only (server, msg, "kernels_add") || s_name (server, msg, body, "kernels_add", name))
        return;
    const msgpack_object *size = mc_proto_map_get (body, "size");
    const msgpack_object *library = mc_proto_map_get (body, "library");
    mc_array_t array;
    const void *data = library? mc_proto_array_data (library, msg->frames, msg->frame_count, &array): NULL;
    if (!size || size->type != MSGPACK_OBJECT_POSITIVE_INTEGER || size->via.u64 == 0
    ||  size->via.u64 > MC_PROTO_MAX_LIBRARY || !data || library->type != MSGPACK_OBJECT_EXT
    ||  library->via.ext.type != MC_EXT_ARRAY || array.size != ((size->via.u64 + 7) & ~(uint64_t) 7)) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         "kernels_add: 'library' must be an array frame of 8 * ceil(size / 8) bytes, 'size' 1 to %u",
                         MC_PROTO_MAX_LIBRARY);
        return;
    }
    size_t engines = 0;
    for (mc_engine_t *e = mc_registry_first (server->registry); e; e = mc_registry_next (server->registry, e))
        engines += mc_engine_state (e) == MC_ENGINE_READY;
    if (engines == 0) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_NO_ENGINES,
                         "kernels_add: no engine to check %s on: start one first", name);
        return;
    }
    s_pending_t *p = calloc (1, sizeof *p);
    if (!p || !(p->waiting = calloc (engines, sizeof *p->waiting)) || !(p->loaded = calloc (engines, sizeof *p->loaded))
    ||  !(p->routing_id = zframe_dup (msg->routing_id))) {
        s_pending_destroy ((void **) &p);
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    msgpack_sbuffer_init (&p->added);
    snprintf (p->lib.name, sizeof p->lib.name, "%s", name);
    p->lib.size = size->via.u64;
    unsigned char digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, data, p->lib.size);
    sodium_bin2hex (p->lib.hash, sizeof p->lib.hash, digest, sizeof digest);
    //  The request's frame is ours now: moved, not copied.
    zframe_t *empty = zframe_new (NULL, 0);
    if (!empty) {
        s_pending_destroy ((void **) &p);
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    p->lib.bytes = mc_msg_swap_frame (msg, array.frame, &empty);
    p->req = msg->req;
    p->deadline_us = mc_time_mono_us () + S_ADD_TIMEOUT_US;
    for (mc_engine_t *e = mc_registry_first (server->registry); e; e = mc_registry_next (server->registry, e))
        if (mc_engine_state (e) == MC_ENGINE_READY) {
            p->waiting [p->waiting_count++] = mc_engine_id (e);
            s_send (server, e, name, &p->lib);
        }
    mc_info ("library %s (%llu bytes, %.16s) sent to %zu engines", name, (unsigned long long) p->lib.size,
             p->lib.hash, p->waiting_count);
    zlistx_add_end (server->libraries->pending, p);
}

void
mc_libraries_remove_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body)
{
    char name [S_NAME_MAX + 1];
    if (s_owner_only (server, msg, "kernels_remove") || s_name (server, msg, body, "kernels_remove", name))
        return;
    mc_libraries_t *self = server->libraries;
    s_lib_t *lib = s_find (self, name);
    if (!lib) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_UNKNOWN_KERNEL,
                         "kernels_remove: no library '%s' was added", name);
        return;
    }
    if (mc_store_remove_library (server->store, name)) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_INTERNAL, "kernels_remove: %s",
                         mc_store_error (server->store));
        return;
    }
    zlistx_delete (self->libs, zlistx_find (self->libs, lib));
    size_t told = 0;
    for (mc_engine_t *e = mc_registry_first (server->registry); e; e = mc_registry_next (server->registry, e))
        if (mc_engine_state (e) == MC_ENGINE_READY) {
            s_send (server, e, name, NULL);
            told++;
        }
    mc_info ("library %s removed (%zu engines told)", name, told);
    msgpack_packer pk = mc_server_body (server);
    msgpack_pack_map (&pk, 2);
    mc_proto_pack_str (&pk, "name");
    mc_proto_pack_str (&pk, name);
    mc_proto_pack_str (&pk, "engines");
    msgpack_pack_uint64 (&pk, told);
    mc_answer_reply (server, msg->routing_id, msg->req, MC_OK, NULL);
}

//  Remove id from a list of ids: true when it was there.
static bool
s_drop_id (int32_t *ids, size_t *count, int32_t id)
{
    for (size_t i = 0; i < *count; i++)
        if (ids [i] == id) {
            ids [i] = ids [--*count];
            return true;
        }
    return false;
}

void
mc_libraries_loaded (mc_server_t *server, mc_engine_t *engine, mc_msg_t *msg)
{
    //  The engine's kernel list, as after REGISTER.
    size_t count;
    char **kernels = mc_engines_kernel_names (msg, &count);
    if (kernels)
        mc_registry_set_kernels (server->registry, engine, kernels, count);
    mc_engines_keep_kernel_info (engine, msg);
    char name [S_NAME_MAX + 1], hash [65], text [1024];
    mc_bytes_str (msg->name, name, sizeof name);
    mc_bytes_str (msg->hash, hash, sizeof hash);
    mc_bytes_str (msg->text, text, sizeof text);
    if (msg->status != MC_OK)
        mc_warn ("engine %d refused library %s: %s", mc_engine_id (engine), name, text);
    mc_libraries_t *self = server->libraries;
    bool awaited = false;
    for (s_pending_t *p = zlistx_first (self->pending); p; p = zlistx_next (self->pending))
        if (!strcmp (p->lib.name, name) && !strcmp (p->lib.hash, hash)
        &&  s_drop_id (p->waiting, &p->waiting_count, mc_engine_id (engine))) {
            awaited = true;
            if (msg->status != MC_OK) {
                if (!p->error [0])
                    snprintf (p->error, sizeof p->error, "%s", text [0]? text: "refused");
            }
            else {
                p->loaded [p->loaded_count++] = mc_engine_id (engine);
                if (p->added.size == 0 && msg->added.size && mc_proto_sane (msg->added.ptr, msg->added.size))
                    msgpack_sbuffer_write (&p->added, msg->added.ptr, msg->added.size);
            }
            break;
        }
    //  A version loaded after its kernels_add was answered without it (an
    //  engine busy for 30 s, a refusal elsewhere): the engine gets what
    //  the controller keeps of that name again, so that all agree.
    s_lib_t *kept = s_find (self, name);
    if (!awaited && msg->status == MC_OK && hash [0] && (!kept || strcmp (kept->hash, hash))) {
        mc_warn ("engine %d loaded %s %.16s late: it gets the version kept again", mc_engine_id (engine), name, hash);
        s_send (server, engine, name, kept);
    }
    mc_libraries_tick (server, mc_time_mono_us ());
}

//  Every engine of p answered (or is gone, or the time is up): reply.
static void
s_finish (mc_server_t *server, s_pending_t *p)
{
    mc_libraries_t *self = server->libraries;
    s_lib_t *old = s_find (self, p->lib.name);
    if (!p->error [0] && p->loaded_count == 0)
        snprintf (p->error, sizeof p->error, "%s.so: no engine answered within %lld s", p->lib.name,
                  S_ADD_TIMEOUT_US / 1000000);
    if (!p->error [0] && mc_store_put_library (server->store, p->lib.name, p->lib.hash, zframe_data (p->lib.bytes),
                                               p->lib.size))
        snprintf (p->error, sizeof p->error, "%s: not stored: %s", p->lib.name, mc_store_error (server->store));
    if (p->error [0]) {
        //  Back to what the engines that took it had before.
        for (size_t i = 0; i < p->loaded_count; i++) {
            mc_engine_t *e = mc_registry_lookup (server->registry, p->loaded [i]);
            if (e)
                s_send (server, e, p->lib.name, old);
        }
        mc_answer_error (server, p->routing_id, p->req, MC_E_BAD_ARGUMENT, "%s", p->error);
        return;
    }
    //  Kept: in place of an older version of the name.
    s_lib_t *lib = malloc (sizeof *lib);
    if (!lib) {
        mc_answer_error (server, p->routing_id, p->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    *lib = p->lib;
    p->lib.bytes = NULL;
    if (old)
        zlistx_delete (self->libs, zlistx_find (self->libs, old));
    zlistx_add_end (self->libs, lib);
    mc_info ("library %s %s (%.16s) on %zu engines", lib->name, old? "replaced": "added", lib->hash, p->loaded_count);
    //  Engines that registered while it was being added got the version
    //  kept then (or none): they get this one now.
    for (mc_engine_t *e = mc_registry_first (server->registry); e; e = mc_registry_next (server->registry, e)) {
        bool has = false;
        for (size_t i = 0; i < p->loaded_count && !has; i++)
            has = p->loaded [i] == mc_engine_id (e);
        if (!has && mc_engine_state (e) == MC_ENGINE_READY)
            s_send (server, e, lib->name, lib);
    }
    msgpack_packer pk = mc_server_body (server);
    msgpack_pack_map (&pk, 4);
    mc_proto_pack_str (&pk, "name");
    mc_proto_pack_str (&pk, lib->name);
    mc_proto_pack_str (&pk, "hash");
    mc_proto_pack_str (&pk, lib->hash);
    mc_proto_pack_str (&pk, "engines");
    msgpack_pack_array (&pk, (uint32_t) p->loaded_count);
    for (size_t i = 0; i < p->loaded_count; i++)
        msgpack_pack_int32 (&pk, p->loaded [i]);
    mc_proto_pack_str (&pk, "added");
    if (p->added.size)
        msgpack_sbuffer_write (&server->buffer, p->added.data, p->added.size);     //  packed already
    else
        msgpack_pack_array (&pk, 0);
    mc_answer_reply (server, p->routing_id, p->req, MC_OK, NULL);
}

void
mc_libraries_tick (mc_server_t *server, int64_t now_us)
{
    mc_libraries_t *self = server->libraries;
    if (!self)
        return;
    //  Few requests wait at once: look again from the start after each answer.
    bool answered = true;
    while (answered) {
        answered = false;
        for (s_pending_t *p = zlistx_first (self->pending); p; p = zlistx_next (self->pending)) {
            //  An engine that is gone will not answer.
            for (size_t i = 0; i < p->waiting_count; )
                if (!mc_registry_lookup (server->registry, p->waiting [i]))
                    p->waiting [i] = p->waiting [--p->waiting_count];
                else
                    i++;
            if (p->waiting_count == 0 || now_us >= p->deadline_us) {
                s_finish (server, p);
                zlistx_delete (self->pending, zlistx_find (self->pending, p));
                answered = true;
                break;
            }
        }
    }
}
