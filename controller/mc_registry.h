/*  mc_registry: the engines the controller knows, by id, with the two
    orders the controller needs in O(1): by last sign of life (for expiry)
    and a ring of engines with free capacity (for load balancing). */
#ifndef MC_REGISTRY_H
#define MC_REGISTRY_H
#include "mc_job.h"
#include "mc_taskq.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_registry_t mc_registry_t;
//  One engine's record: owned by the registry, read through the functions
//  below. Its protocol state is the engine side's (mc_engines) to set.
typedef struct _mc_engine_t mc_engine_t;

//  An engine's life as the controller sees it (mc_proto.md §4). An engine
//  the registry does not hold is in none of these: unknown, or gone.
typedef enum { MC_ENGINE_READY = 1, MC_ENGINE_STOPPING } mc_engine_state_t;

//  What the scheduler keeps per engine, inside its record: the scheduler's
//  to read and change, nobody else's.
typedef struct {
    uint32_t inflight;              //  tasks sent and not yet answered
    mc_task_t *running;             //  in-flight tasks, a doubly linked list (head->prev is the tail)
    mc_taskq_t *direct;             //  direct tasks waiting for this engine (owned by the record)
} mc_engine_load_t;

//  The TASKs sent to an engine during one event of the controller's loop,
//  as the headers of a BATCH that goes at the event's end (mc_engines_flush).
//  Emptied, without being sent, when the engine takes a new connection.
typedef struct {
    msgpack_sbuffer headers;        //  empty (no memory) between events
    uint32_t count;
} mc_outbox_t;

int32_t mc_engine_id (const mc_engine_t *self);
const char *mc_engine_uuid (const mc_engine_t *self);
const char *mc_engine_host (const mc_engine_t *self);
int64_t mc_engine_pid (const mc_engine_t *self);
//  The engine's current connection (borrowed).
zframe_t *mc_engine_routing_id (const mc_engine_t *self);
//  Monotonic time of its last message.
int64_t mc_engine_last_seen_us (const mc_engine_t *self);
mc_engine_state_t mc_engine_state (const mc_engine_t *self);
void mc_engine_set_state (mc_engine_t *self, mc_engine_state_t state);
//  Count a task finished on this engine, done (ok) or failed.
void mc_engine_count_task (mc_engine_t *self, bool ok);
uint64_t mc_engine_done (const mc_engine_t *self);
uint64_t mc_engine_failed (const mc_engine_t *self);
//  How many times its controller restarted this engine's process after it
//  died (0 for an engine the controller did not start).
uint32_t mc_engine_restarts (const mc_engine_t *self);
//  Why the engine is going, in a few words ("SIGSEGV", "exit status 3",
//  "engine lost"), set just before it is forgotten, for the error of a
//  task that killed it; "" until then (borrowed).
const char *mc_engine_cause (const mc_engine_t *self);
void mc_engine_set_cause (mc_engine_t *self, const char *cause);
//  The allocation of a launcher that started it (mc_launcher: "a3"), as
//  its REGISTER said, or "".
const char *mc_engine_launch (const mc_engine_t *self);
void mc_engine_set_launch (mc_engine_t *self, const char *launch);
//  Since when it has had no work, as autoscaling saw it (0: busy, or not yet seen).
int64_t mc_engine_idle_since (const mc_engine_t *self);
void mc_engine_set_idle_since (mc_engine_t *self, int64_t when_us);
//  Its kernels as it described them at REGISTER (msgpack [[name, doc,
//  args], ...], borrowed), or NULL.
const void *mc_engine_kernel_info (const mc_engine_t *self, size_t *size);
//  Keep a copy of that description (NULL/0 forgets it). 0, or -1 when out of memory.
int mc_engine_set_kernel_info (mc_engine_t *self, const void *data, size_t size);
//  The scheduler's part of the record.
mc_engine_load_t *mc_engine_load (mc_engine_t *self);
//  Its outbox (mc_engines').
mc_outbox_t *mc_engine_outbox (mc_engine_t *self);
uint32_t mc_engine_inflight (const mc_engine_t *self);
size_t mc_engine_queued (const mc_engine_t *self);

//  A new registry, or NULL when out of memory.
mc_registry_t *mc_registry_new (void);
void mc_registry_destroy (mc_registry_t **self_p);
//  Register or re-register an engine. An engine whose uuid is known gets
//  its id back; else want_id if free or kept for it (mc_registry_keep_id);
//  else a new id, never a kept one. The routing id is
//  copied; kernels (an array of kernel_count strings) is taken, also on
//  failure. The engine's state is READY. Returns the engine (borrowed), or
//  NULL when no id is left or memory is short.
//  *replaced is set when the uuid was already registered under this id
//  from another connection (what was sent to the old one may be lost).
mc_engine_t *mc_registry_register (mc_registry_t *self, const char *uuid, int64_t want_id,
                                   const char *host, int64_t pid, zframe_t *routing_id,
                                   char **kernels, size_t kernel_count, int64_t now_us, bool *replaced);
//  After a restart: hold this id for the engine that had it (one that asks
//  for it registers with it) and give it to no new engine, because tasks
//  wait for that engine. 0, or -1 when out of memory.
int mc_registry_keep_id (mc_registry_t *self, int32_t id);
//  The engine with this id, or NULL.
mc_engine_t *mc_registry_lookup (mc_registry_t *self, int64_t id);
//  The registered engine whose process is pid on host, or NULL.
mc_engine_t *mc_registry_find_pid (mc_registry_t *self, const char *host, int64_t pid);
//  A dead local engine's process was started again as pid on host: its
//  REGISTER (a new uuid, which asks for no id) takes over id, whose old uuid
//  is forgotten, and counts restarts, so that direct targets stay valid.
//  The id must be given out and no engine registered under it. 0, or -1
//  when out of memory.
int mc_registry_hand_over (mc_registry_t *self, int64_t id, const char *host, int64_t pid, uint32_t restarts);
//  Take back a hand-over to pid on host that was never claimed (the new
//  process died before it registered): the id, with its restarts in
//  *restarts, or -1 when there is none.
int64_t mc_registry_take_back (mc_registry_t *self, const char *host, int64_t pid, uint32_t *restarts);
//  Engines being restarted: ids handed over and not claimed yet.
size_t mc_registry_handovers (const mc_registry_t *self);
//  True when this id is handed over to a process not registered yet
//  (O(handovers)).
bool mc_registry_handed_over (const mc_registry_t *self, int64_t id);
//  Record a sign of life: moves the engine to the young end of the live list.
void mc_registry_touch (mc_registry_t *self, mc_engine_t *engine, int64_t now_us);
//  The engine silent for longest, or NULL.
mc_engine_t *mc_registry_oldest (mc_registry_t *self, unsigned hb_class);
//  Heartbeat classes: an engine of class k was given the interval
//  heartbeat_ms << k (mc_proto.md §4). Each class keeps its own order of
//  last sign of life, so that expiry stays O(1) with several intervals.
#define MC_REGISTRY_HB_CLASSES 16
//  Move an engine to another class (at the end of its order: call it
//  right after a touch).
void mc_registry_set_hb_class (mc_registry_t *self, mc_engine_t *engine, unsigned hb_class);
unsigned mc_engine_hb_class (const mc_engine_t *self);
//  Forget an engine (its id stays reserved for its uuid). The caller must
//  have emptied its in-flight list and direct queue first. Destroys it.
void mc_registry_remove (mc_registry_t *self, mc_engine_t **engine_p);
//  Engines in id order: first, then next until NULL.
mc_engine_t *mc_registry_first (mc_registry_t *self);
mc_engine_t *mc_registry_next (mc_registry_t *self, mc_engine_t *engine);
size_t mc_registry_size (const mc_registry_t *self);
//  Replace an engine's kernel names (taken, also on failure: an array of
//  kernel_count strings), as a LOADED says after a library changed.
void mc_registry_set_kernels (mc_registry_t *self, mc_engine_t *engine, char **kernels, size_t kernel_count);
//  True when at least one registered engine offers the kernel.
bool mc_registry_has_kernel (const mc_registry_t *self, const char *name);
//  Comma-separated kernel names known to the registry, into buf.
void mc_registry_kernel_list (const mc_registry_t *self, char *buf, size_t len);

//  Free ring: engines that may take more tasks, served round robin.
void mc_registry_free_push (mc_registry_t *self, mc_engine_t *engine);
mc_engine_t *mc_registry_free_pop (mc_registry_t *self);
void mc_registry_free_remove (mc_registry_t *self, mc_engine_t *engine);

//  Self test.
void mc_registry_test (bool verbose);
#endif
