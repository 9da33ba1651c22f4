/*  mc_taskq: a FIFO of task pointers in a growing ring buffer. O(1) push at
    either end and pop at the front; the queue never owns its tasks. */
#ifndef MC_TASKQ_H
#define MC_TASKQ_H
#include <stdbool.h>
#include <stddef.h>

typedef struct _mc_taskq_t mc_taskq_t;
typedef struct mc_task mc_task_t;

//  An empty queue; NULL when out of memory.
mc_taskq_t *mc_taskq_new (void);
void mc_taskq_destroy (mc_taskq_t **self_p);
//  Append at the back (normal) or put at the front (requeue). 0 or -1 (no memory).
int mc_taskq_push (mc_taskq_t *self, mc_task_t *task);
int mc_taskq_push_front (mc_taskq_t *self, mc_task_t *task);
//  The front task without removing it, or NULL when empty.
mc_task_t *mc_taskq_peek (const mc_taskq_t *self);
//  Remove and return the front task, or NULL when empty.
mc_task_t *mc_taskq_pop (mc_taskq_t *self);
size_t mc_taskq_size (const mc_taskq_t *self);
//  Remove every task for which match returns true (match may act on the
//  task, but not on this queue); the others keep their order. O(size).
//  Returns how many were removed.
typedef bool (mc_taskq_match_fn) (mc_task_t *task, void *arg);
size_t mc_taskq_remove (mc_taskq_t *self, mc_taskq_match_fn *match, void *arg);
void mc_taskq_test (bool verbose);
#endif
