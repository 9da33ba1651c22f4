/*  mc_libraries: the libraries of kernels and targets that clients add
    (mc_proto.md §6 kernels_add and kernels_remove, §3 LIBRARY, UNLOAD and
    LOADED, §8 storage). The controller keeps each library's bytes (in
    memory and in the store), sends them to every engine when it registers,
    and answers a kernels_add once every READY engine has loaded it. */
#ifndef MC_LIBRARIES_H
#define MC_LIBRARIES_H
#include "mc_server.h"

typedef struct _mc_libraries_t mc_libraries_t;

//  The libraries of the store, or NULL when out of memory or the store
//  cannot be read (err says so).
mc_libraries_t *mc_libraries_new (mc_store_t *store, char *err, size_t errlen);
//  Free them; pending kernels_add requests go unanswered.
void mc_libraries_destroy (mc_libraries_t **self_p);
//  How many libraries are kept.
size_t mc_libraries_size (const mc_libraries_t *self);

//  The client operations.
void mc_libraries_add_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
void mc_libraries_remove_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
//  An engine was just welcomed: send it every library (before any TASK).
void mc_libraries_welcome (mc_server_t *server, mc_engine_t *engine);
//  A LOADED from a registered engine: take its new kernel list, and count
//  its answer towards a pending kernels_add.
void mc_libraries_loaded (mc_server_t *server, mc_engine_t *engine, mc_msg_t *msg);
//  Answer the kernels_add requests whose engines have all answered or
//  are gone, or whose 30 s have passed.
void mc_libraries_tick (mc_server_t *server, int64_t now_us);
#endif
