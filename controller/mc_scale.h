/*  mc_scale: the client operations that show and change the engines a
    controller started itself: `allocations`, `engines_add`, `engines_stop`
    (mc_proto.md §6). Changing them is the cluster owner's to do, as
    trusting keys is: a batch job spends the owner's allocation. */
#ifndef MC_SCALE_H
#define MC_SCALE_H
#include "mc_server.h"

void mc_scale_allocations_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
void mc_scale_add_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
void mc_scale_stop_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
#endif
