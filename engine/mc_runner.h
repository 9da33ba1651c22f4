/*  mc_runner: the kernel thread of an engine, as a CZMQ actor. It takes
    TASK messages (header and array frames) from its pipe, runs them one at
    a time in order, and sends back RESULT messages. It owns the engine's
    namespace, so namespace operations run in order with kernels and need
    no locks. Because kernels run here, the engine's I/O thread keeps
    heartbeating however long a kernel takes. */
#ifndef MC_RUNNER_H
#define MC_RUNNER_H
#include "mc_namespace.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdatomic.h>

//  How many aborted jobs an engine remembers, to skip their tasks that
//  are still queued for its kernel thread (the oldest is forgotten first).
#define MC_RUNNER_ABORTED_MAX 16

//  Shared by the I/O thread and the kernel thread; all zeros is the
//  initial state (no lock to set up).
typedef struct {
    atomic_int cancel;              //  set when the engine stops: kernels should return
    atomic_int busy;                //  1 while a task runs
    atomic_llong engine_id;         //  stamped on each RESULT
    atomic_int task_cancel;         //  the kernel flag of the running task: its job was aborted, or the engine stops
    //  Guarded by `lock`, so that an abort and the start of the next task
    //  cannot cross (the flag must never fall on another job's task):
    atomic_flag lock;
    uint64_t running_job;           //  job id + 1 of the task running, 0 when none
    uint64_t aborted [MC_RUNNER_ABORTED_MAX];   //  job id + 1 of jobs aborted, a ring (0: empty)
    size_t aborted_next;            //  where the next goes in the ring
    //  The kernel thread's alone: what it keeps from one task for the next.
    msgpack_zone *zone;             //  the arguments' objects (NULL until the first task)
    msgpack_sbuffer out;            //  an empty buffer for the next result
} mc_runner_state_t;

//  Start the kernel thread; state is borrowed and must outlive the actor.
zactor_t *mc_runner_new (mc_runner_state_t *state);
//  Run one TASK message (taken) against namespace ns and send its RESULT,
//  with its array frames, to dest; a BATCH of them (mc_proto.md §3) runs
//  each in turn, a RESULT each. LIBRARY and UNLOAD are loaded and answered.
//  Returns 0, or -1 when the message (or one of the batch) is none of these
//  (nothing is sent for it). Used by the actor, and by tests directly. The
//  message must be one this process checked already (the I/O thread's
//  mc_msg_recv or mc_batch_next; see mc_msg_take_checked): its arguments
//  are not scanned a second time.
int mc_runner_run (mc_runner_state_t *state, mc_namespace_t *ns, zmsg_t **task_p, void *dest);
//  A client aborted job (CANCEL, from the I/O thread): raise the running
//  task's cancel flag if it is of that job, and skip the job's tasks that
//  are still queued. True when a task of the job is running now.
bool mc_runner_cancel_job (mc_runner_state_t *state, uint64_t job);
//  True while a task of this job is running.
bool mc_runner_running (mc_runner_state_t *state, uint64_t job);
//  The engine stops: raise every kernel's cancel flag.
void mc_runner_stop (mc_runner_state_t *state);
//  Self test: kernels and namespace operations through real TASK messages.
void mc_runner_test (bool verbose);
#endif
