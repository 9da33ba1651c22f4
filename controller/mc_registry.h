/*  mc_registry: the engines the controller knows, by id, with the two
    orders the controller needs in O(1): by last sign of life (for expiry)
    and a ring of engines with free capacity (for load balancing). */
#ifndef MC_REGISTRY_H
#define MC_REGISTRY_H
#include "mc_job.h"
#include "mc_taskq.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_registry_t mc_registry_t;
typedef struct _mc_engine_t mc_engine_t;

struct _mc_engine_t {
    int32_t id;
    char uuid [65];
    char host [256];
    int64_t pid;
    zframe_t *routing_id;           //  current connection (owned)
    int64_t last_seen_us;           //  monotonic time of its last message
    uint64_t done, failed;          //  tasks finished here
    uint32_t inflight;              //  tasks sent and not yet answered
    mc_task_t *running;             //  in-flight tasks, a doubly linked list
    mc_taskq_t *direct;             //  direct tasks waiting for this engine
    char **kernels;                 //  names of the kernels it can run
    size_t kernel_count;
    void *kernel_info;              //  msgpack [[name, doc, args], ...] as registered (owned), or NULL
    size_t kernel_info_size;
    bool stopping;                  //  STOP sent
    //  Registry links:
    mc_engine_t *live_prev, *live_next;
    mc_engine_t *free_prev, *free_next;
    bool in_free;
};

mc_registry_t *mc_registry_new (void);
void mc_registry_destroy (mc_registry_t **self_p);
//  Register or re-register an engine. An engine whose uuid is known gets
//  its id back; else want_id if free; else a new id. The routing id is
//  copied. Returns the engine (borrowed), or NULL when no id is left.
//  *replaced is set when the uuid was already registered under this id
//  from another connection (what was sent to the old one may be lost).
mc_engine_t *mc_registry_register (mc_registry_t *self, const char *uuid, int64_t want_id,
                                   const char *host, int64_t pid, zframe_t *routing_id,
                                   char **kernels, size_t kernel_count, int64_t now_us, bool *replaced);
//  The engine with this id, or NULL.
mc_engine_t *mc_registry_lookup (mc_registry_t *self, int64_t id);
//  Record a sign of life: moves the engine to the young end of the live list.
void mc_registry_touch (mc_registry_t *self, mc_engine_t *engine, int64_t now_us);
//  The engine silent for longest, or NULL.
mc_engine_t *mc_registry_oldest (mc_registry_t *self);
//  Forget an engine (its id stays reserved for its uuid). The caller must
//  have emptied its in-flight list and direct queue first. Destroys it.
void mc_registry_remove (mc_registry_t *self, mc_engine_t **engine_p);
//  Engines in id order: first, then next until NULL.
mc_engine_t *mc_registry_first (mc_registry_t *self);
mc_engine_t *mc_registry_next (mc_registry_t *self, mc_engine_t *engine);
size_t mc_registry_size (const mc_registry_t *self);
//  True when at least one registered engine offers the kernel.
bool mc_registry_has_kernel (const mc_registry_t *self, const char *name);
//  Comma-separated kernel names known to the registry, into buf.
void mc_registry_kernel_list (const mc_registry_t *self, char *buf, size_t len);

//  Free ring: engines that may take more tasks, served round robin.
void mc_registry_free_push (mc_registry_t *self, mc_engine_t *engine);
mc_engine_t *mc_registry_free_pop (mc_registry_t *self);
void mc_registry_free_remove (mc_registry_t *self, mc_engine_t *engine);
#endif
