/*  mc_sched: who runs which task next. Load-balanced tasks wait in a FIFO
    per job (where the tasks a job has not made yet stand as one entry,
    made as they reach the front), and jobs share the engines: the highest
    priority first, then users in a weighted round robin, then each user's
    jobs in turn, one task each (mc_proto.md §5, "Fair share"). A FIFO per
    engine holds its direct tasks. And the
    pipelining rule: an engine takes another task of a job while its tasks
    in flight are fewer than clamp(pipeline_us / mean task time of that
    job, 1, max_inflight), so tiny tasks are pipelined and long ones are not
    hoarded. A load-balanced task that failed on an engine (task->fails)
    goes to another while one is registered (mc_proto.md §5, "Retries").
    Every decision is O(1) per task; sending is the caller's, through a
    callback. */
#ifndef MC_SCHED_H
#define MC_SCHED_H
#include "mc_registry.h"

typedef struct _mc_sched_t mc_sched_t;
//  Send this task to this engine now (the scheduler has already counted it
//  as in flight there).
typedef void (mc_sched_send_fn) (void *arg, mc_engine_t *engine, mc_task_t *task);
//  A task that can no longer run because its engine is gone: a direct
//  one, or a load-balanced one that has killed max_deaths engines
//  (task->deaths says so; task->engine is -1 by then).
typedef void (mc_sched_lost_fn) (void *arg, mc_task_t *task);

//  A scheduler over the registry's engines (borrowed); NULL when out of
//  memory. A load-balanced task is requeued after the deaths of up to
//  max_deaths - 1 engines that were running it (max_task_deaths).
mc_sched_t *mc_sched_new (mc_registry_t *registry, int64_t max_inflight, int64_t pipeline_us, int64_t max_deaths,
                          mc_sched_send_fn *send, void *arg);
void mc_sched_destroy (mc_sched_t **self_p);
//  Queue a task: on the load-balanced queue when task->target < 0, else
//  on that engine's direct queue (the engine must be registered). Nothing
//  is sent until dispatch. 0, or -1 when out of memory.
int mc_sched_queue (mc_sched_t *self, mc_task_t *task);
//  Queue a direct task for an engine id that may not be registered (after
//  a restart, a resumed job's engines come back one by one): as
//  mc_sched_queue when it is, else held until an engine with that id
//  registers (mc_sched_engine_ready queues it then, after what its queue
//  holds, keeping their order). Held tasks count as waiting. 0, or -1
//  when out of memory.
int mc_sched_await (mc_sched_t *self, mc_task_t *task);
//  Tasks held for engines not registered.
size_t mc_sched_awaited (const mc_sched_t *self);
//  Give up on the engines not back: hand every held task to `lost` (each
//  engine's in their order) and return how many.
size_t mc_sched_drop_awaited (mc_sched_t *self, mc_sched_lost_fn *lost, void *arg);
//  A user's weight (share.NAME_OR_KEY): tasks per turn among the users
//  at one priority level, 1 when not set. It holds for the shares made
//  after. 0, or -1 for weight 0 or out of memory.
int mc_sched_set_weight (mc_sched_t *self, const char *user, uint32_t weight);
//  The weight of the user of this job (info->user, else info->user_key).
uint32_t mc_sched_weight (mc_sched_t *self, const mc_job_info_t *info);
//  The same for each "USER WEIGHT\n" line of a config's shares (checked
//  when the config was read). 0, or -1 when out of memory.
int mc_sched_set_weights (mc_sched_t *self, const char *shares);
//  Change a job's priority (its info's priority): its waiting tasks move
//  to the new level at once, behind the jobs there. 0, or -1 when out of
//  memory (then nothing changed).
int mc_sched_set_priority (mc_sched_t *self, mc_job_t *job, int32_t priority);
//  Load-balanced tasks of this job waiting, those not made yet included.
size_t mc_sched_job_waiting (const mc_sched_t *self, const mc_job_t *job);
//  Queue the tasks a load-balanced job has not made yet (mc_job_rest) at
//  the back of its job's queue, as one entry: they are made one at
//  a time as engines take them, so only the front ones exist. They count
//  as waiting. 0 (also when there are none), or -1 when out of memory.
int mc_sched_queue_job (mc_sched_t *self, mc_job_t *job);
//  Give waiting tasks to engines with capacity, round robin, one at a time.
void mc_sched_dispatch (mc_sched_t *self);
//  An engine (re)registered: the direct tasks held for its id
//  (mc_sched_await) go to its queue, it joins the rotation and gets work.
void mc_sched_engine_ready (mc_sched_t *self, mc_engine_t *engine);
//  A task finished on its engine: frees the slot and refills that engine.
void mc_sched_task_done (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task);
//  An engine is gone: its load-balanced tasks in flight go back to the front
//  of their jobs' queues in their order; its direct tasks are handed to `lost`.
//  When it died (expired, its process exited, dropped; not a goodbye) with
//  one load-balanced task in flight, that task counts a death
//  (mc_job_task_died), and goes to `lost` instead once it has killed
//  max_deaths engines. When it died with several, which one killed it is
//  not known (the result of the one before may have died with it): none
//  counts a death, each becomes a suspect, and a suspect is only ever sent
//  to an engine with nothing in flight, which gets nothing else beside it,
//  so that the next death is a certain one.
void mc_sched_engine_gone (mc_sched_t *self, mc_engine_t *engine, bool died, mc_sched_lost_fn *lost, void *arg);
//  A task that ended on its engine is to run again (its kernel failed and
//  the job allows a retry): frees the slot as mc_sched_task_done does and
//  queues the task again, a load-balanced one at the back of its job's
//  queue (behind the tasks not made yet; it remembers the engine, to go
//  to another, as one that killed its engine does), a
//  direct one at the front of its engine's queue (keeping their order).
//  0, or -1 when out of memory (then it is neither queued nor in flight:
//  fail it).
int mc_sched_task_again (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task);
//  An engine came back on a new connection: what was in flight on the old
//  one may be lost, so it is sent again (tasks are reproducible, and a
//  second result for a finished task is dropped). Load-balanced tasks go to
//  the front of their jobs' queues, direct ones to the front of the engine's queue.
void mc_sched_engine_reset (mc_sched_t *self, mc_engine_t *engine);
//  A job is aborted: remove its waiting tasks from every queue, handing
//  each to `cancelled` (in queue order; those not made yet are made for it
//  last), and return how many. Its tasks in flight are left to their engines.
size_t mc_sched_cancel_job (mc_sched_t *self, const mc_job_t *job, mc_sched_lost_fn *cancelled, void *arg);
//  Tasks waiting (not yet sent), load-balanced and direct together.
size_t mc_sched_waiting (const mc_sched_t *self);
size_t mc_sched_lb_waiting (const mc_sched_t *self);
//  How many tasks of this job one engine may hold in flight.
uint32_t mc_sched_limit (const mc_sched_t *self, const mc_job_t *job);

//  Self test: dispatch, pipelining, requeue of a lost engine's tasks, and
//  direct tasks, against a registry and a fake sender.
void mc_sched_test (bool verbose);

#endif
