/*  mc_runner: the kernel thread of an engine, as a CZMQ actor. It takes
    TASK header frames from its pipe, runs them one at a time in order, and
    sends back RESULT header frames. Because kernels run here, the engine's
    I/O thread keeps heartbeating however long a kernel takes. */
#ifndef MC_RUNNER_H
#define MC_RUNNER_H
#include <czmq.h>
#include <stdatomic.h>

typedef struct {
    atomic_int cancel;              //  set when the engine stops: kernels should return
    atomic_int busy;                //  1 while a task runs
    atomic_llong engine_id;         //  stamped on each RESULT
} mc_runner_state_t;

//  Start the kernel thread; state is borrowed and must outlive the actor.
zactor_t *mc_runner_new (mc_runner_state_t *state);
//  Run one TASK header frame and return the RESULT header frame (caller
//  owns it), or NULL when the task cannot even be read. Used by the actor,
//  and by tests directly.
zframe_t *mc_runner_run (mc_runner_state_t *state, const void *task, size_t size);
#endif
