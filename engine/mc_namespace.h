/*  mc_namespace: an engine's named values (push, pull, scatter, @name
    arguments and --out results). A value is one msgpack value whose array
    references point into the value's own frames, so an 80 MB array is
    stored, handed to kernels and sent back without being copied. The
    namespace belongs to the kernel thread: no locks. */
#ifndef MC_NAMESPACE_H
#define MC_NAMESPACE_H
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>

#define MC_NAME_MAX 255             //  names are checked with mc_value_valid_name

typedef struct _mc_namespace_t mc_namespace_t;

typedef struct {
    msgpack_object obj;             //  the value; its array references index frames[]
    zframe_t **frames;
    size_t frame_count;
    size_t bytes;                   //  msgpack bytes plus frame bytes
    //  private
    msgpack_sbuffer packed;
    msgpack_zone zone;
} mc_nsvalue_t;

mc_namespace_t *mc_namespace_new (void);
void mc_namespace_destroy (mc_namespace_t **self_p);

//  Store obj under name, replacing what was there. Its array references
//  index frames[0 .. count); the frames that obj refers to are taken from
//  `owner` (removed from that message, which no longer owns them) or, when
//  owner is NULL, taken as they are (the caller gives them up). Frames
//  that obj does not refer to stay the caller's. 0, or -1 when out of memory.
int mc_namespace_set (mc_namespace_t *self, const char *name, const msgpack_object *obj,
                      zframe_t *const *frames, size_t count, zmsg_t *owner);
//  The value of a name (borrowed until the name is set or deleted), or NULL.
const mc_nsvalue_t *mc_namespace_get (mc_namespace_t *self, const char *name, size_t len);
//  Remove a name; 0, or -1 when there was none.
int mc_namespace_delete (mc_namespace_t *self, const char *name, size_t len);
//  Pack a map name -> {"type", "size", "bytes"[, "shape"]} of every name,
//  in name order.
void mc_namespace_pack_names (mc_namespace_t *self, msgpack_packer *pk);
size_t mc_namespace_size (mc_namespace_t *self);
void mc_namespace_test (bool verbose);
#endif
