/*  mc_reduce: the sum of a job's results, field by field, at the
    controller (--reduce sum, and the counts of --reduce hist2d). Numbers
    add; maps add per key; arrays of one dtype and shape add elementwise.
    Integers stay integers until they would overflow, then become floats. */
#ifndef MC_REDUCE_H
#define MC_REDUCE_H
#include <msgpack.h>

typedef struct _mc_reduce_t mc_reduce_t;

//  An empty sum; NULL when out of memory.
mc_reduce_t *mc_reduce_new (void);
void mc_reduce_destroy (mc_reduce_t **self_p);
//  Add one value (nil is skipped). 0, or -1 when it cannot be added to what
//  came before, or memory ran out (the error says why; later adds are
//  ignored).
int mc_reduce_add (mc_reduce_t *self, const msgpack_object *value);
//  Pack the sum (nil when nothing was added). 0, or -1 when the packer
//  could not take it.
int mc_reduce_pack (const mc_reduce_t *self, msgpack_packer *pk);
//  The first error, or NULL.
const char *mc_reduce_error (const mc_reduce_t *self);
void mc_reduce_test (bool verbose);
#endif
