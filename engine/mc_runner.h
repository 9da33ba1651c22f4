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
#include <stdatomic.h>

typedef struct {
    atomic_int cancel;              //  set when the engine stops: kernels should return
    atomic_int busy;                //  1 while a task runs
    atomic_llong engine_id;         //  stamped on each RESULT
} mc_runner_state_t;

//  Start the kernel thread; state is borrowed and must outlive the actor.
zactor_t *mc_runner_new (mc_runner_state_t *state);
//  Run one TASK message (taken) against namespace ns and send its RESULT,
//  with its array frames, to dest. Returns 0, or -1 when the message is not
//  a TASK (nothing is sent). Used by the actor, and by tests directly.
int mc_runner_run (mc_runner_state_t *state, mc_namespace_t *ns, zmsg_t **task_p, void *dest);
//  Self test: kernels and namespace operations through real TASK messages.
void mc_runner_test (bool verbose);
#endif
