/*  mc_share: fair share's client operations (mc_proto.md §5, "Fair share",
    and §6): `renice`, which changes a running job's priority, and
    `queue`, which shows per user and per job the tasks queued and running.
    The sharing itself is mc_sched's. */
#ifndef MC_SHARE_H
#define MC_SHARE_H
#include "mc_proto.h"
#include "mc_server.h"

//  The handlers of MC_OP_RENICE and MC_OP_QUEUE, for mc_api's table.
void mc_share_renice_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
void mc_share_queue_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
#endif
