/*  mc_trust: the `trust` operation (mc_proto.md §6 and §9): the cluster's
    owner adds, lists and revokes the keys of extra clients and engine
    hosts. Revoking cuts the key's live sessions; an engine so cut is
    forgotten at once and its load-balanced tasks are queued again. */
#ifndef MC_TRUST_H
#define MC_TRUST_H
#include "mc_proto.h"
#include "mc_server.h"

//  The handler of MC_OP_TRUST, for mc_api's table.
void mc_trust_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
#endif
