/*  mc_api: the client side of the protocol (mc_proto.md §6). Each REQUEST
    is dispatched by its operation's code (proto/mc_ops.h) through one
    table of handlers; requests that wait for a job are parked (mc_parked)
    and answered when it finishes or their deadline passes. */
#ifndef MC_API_H
#define MC_API_H
#include "mc_server.h"

//  Serve what is waiting on the client socket (a zloop reader; arg is the
//  server). Returns -1 to end the loop once a client asked for shutdown.
int mc_api_readable (zloop_t *loop, zsock_t *sock, void *server);
//  Answer every parked request whose deadline has passed.
void mc_api_expire (mc_server_t *server, int64_t now_us);

//  Self test: every operation has a handler.
void mc_api_test (bool verbose);
#endif
