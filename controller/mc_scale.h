/*  mc_scale: growing and shrinking the engines a controller starts itself:
    the client operations `allocations`, `engines_add`, `engines_stop`
    (mc_proto.md §6), and autoscaling. Changing them is the cluster owner's to do, as
    trusting keys is: a batch job spends the owner's allocation. */
#ifndef MC_SCALE_H
#define MC_SCALE_H
#include "mc_server.h"

void mc_scale_allocations_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
void mc_scale_add_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
void mc_scale_stop_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);
//  Autoscaling (--autoscale MIN:MAX), on every tick: while load-balanced
//  tasks wait and no allocation is itself still waiting, ask the launcher
//  for as many engines as tasks wait, up to MAX (and always for MIN); an
//  engine it started that has had no work for autoscale_idle_s, while no
//  task waits, is told to stop, down to MIN. Stopping an idle engine loses
//  no task (it has none; its BYE would requeue any); its namespace goes.
void mc_scale_tick (mc_server_t *self, int64_t now_us);
#endif
