/*  mc_held: bytes of array data the controller holds for each client (the
    frames of its transient requests, and their results until it is
    answered), so that one client cannot fill the controller's memory
    (max_client_bytes). Clients are known by their routing id; a client
    that holds nothing has no entry. */
#ifndef MC_HELD_H
#define MC_HELD_H
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_held_t mc_held_t;

mc_held_t *mc_held_new (void);
void mc_held_destroy (mc_held_t **self_p);
//  Bytes held for this client.
size_t mc_held_bytes (mc_held_t *self, zframe_t *routing_id);
//  Count bytes more held for a client: 0, or -1 when out of memory (then
//  nothing is counted).
int mc_held_add (mc_held_t *self, zframe_t *routing_id, size_t bytes, int64_t now_us);
//  Count bytes no longer held (never below zero).
void mc_held_sub (mc_held_t *self, zframe_t *routing_id, size_t bytes, int64_t now_us);
//  True once, when array data has passed and nothing has been held for
//  quiet_us since: the time to give freed memory back to the system.
bool mc_held_quiet (mc_held_t *self, int64_t now_us, int64_t quiet_us);

//  Self test.
void mc_held_test (bool verbose);
#endif
