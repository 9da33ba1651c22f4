/*  mc_taskq: ring buffer of task pointers, capacity a power of two. */
#include "mc_taskq.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _mc_taskq_t {
    mc_task_t **slots;
    size_t capacity;        //  power of two
    size_t head;            //  index of the front task
    size_t size;
};

mc_taskq_t *
mc_taskq_new (void)
{
    mc_taskq_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 64;
    self->slots = malloc (self->capacity * sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    return self;
}

void
mc_taskq_destroy (mc_taskq_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_grow (mc_taskq_t *self)
{
    if (self->size < self->capacity)
        return 0;
    size_t capacity = self->capacity * 2;
    mc_task_t **slots = malloc (capacity * sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->size; i++)
        slots [i] = self->slots [(self->head + i) & (self->capacity - 1)];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    self->head = 0;
    return 0;
}

int
mc_taskq_push (mc_taskq_t *self, mc_task_t *task)
{
    if (s_grow (self))
        return -1;
    self->slots [(self->head + self->size) & (self->capacity - 1)] = task;
    self->size++;
    return 0;
}

int
mc_taskq_push_front (mc_taskq_t *self, mc_task_t *task)
{
    if (s_grow (self))
        return -1;
    self->head = (self->head + self->capacity - 1) & (self->capacity - 1);
    self->slots [self->head] = task;
    self->size++;
    return 0;
}

mc_task_t *
mc_taskq_peek (const mc_taskq_t *self)
{
    return self->size? self->slots [self->head]: NULL;
}

mc_task_t *
mc_taskq_pop (mc_taskq_t *self)
{
    if (!self->size)
        return NULL;
    mc_task_t *task = self->slots [self->head];
    self->head = (self->head + 1) & (self->capacity - 1);
    self->size--;
    return task;
}

size_t
mc_taskq_size (const mc_taskq_t *self)
{
    return self->size;
}

size_t
mc_taskq_remove (mc_taskq_t *self, mc_taskq_match_fn *match, void *arg)
{
    size_t mask = self->capacity - 1, kept = 0;
    for (size_t i = 0; i < self->size; i++) {
        mc_task_t *task = self->slots [(self->head + i) & mask];
        if (!match (task, arg))
            self->slots [(self->head + kept++) & mask] = task;
    }
    size_t removed = self->size - kept;
    self->size = kept;
    return removed;
}

//  --------------------------------------------------------------------------
//  Self test: FIFO order, front pushes, growth past 64 with the ring wrapped.

static bool
s_odd (mc_task_t *task, void *arg)
{
    return (((char *) task - (char *) arg) / 64) % 2 == 1;
}

void
mc_taskq_test (bool verbose)
{
    if (verbose)
        printf (" * mc_taskq: ");
    mc_taskq_t *q = mc_taskq_new ();
    assert (q && mc_taskq_size (q) == 0 && mc_taskq_peek (q) == NULL && mc_taskq_pop (q) == NULL);
    //  The tasks are only addresses to the queue: it never reads them.
    mc_task_t *tasks = calloc (200, 64);
    assert (tasks);
    #define TASK(i) ((mc_task_t *) ((char *) tasks + 64 * (i)))
    for (int i = 0; i < 200; i++)
        assert (mc_taskq_push (q, TASK (i)) == 0);
    assert (mc_taskq_push_front (q, TASK (199)) == 0);
    assert (mc_taskq_size (q) == 201 && mc_taskq_peek (q) == TASK (199) && mc_taskq_pop (q) == TASK (199));
    for (int i = 0; i < 200; i++)
        assert (mc_taskq_pop (q) == TASK (i));
    assert (mc_taskq_pop (q) == NULL);
    //  Front pushes wrap below slot 0, then the queue grows with the ring wrapped.
    for (int i = 0; i < 3; i++)
        assert (mc_taskq_push (q, TASK (i)) == 0);
    for (int i = 3; i < 130; i++)
        assert (mc_taskq_push_front (q, TASK (i)) == 0);
    assert (mc_taskq_size (q) == 130);
    for (int i = 129; i >= 3; i--)
        assert (mc_taskq_pop (q) == TASK (i));
    for (int i = 0; i < 3; i++)
        assert (mc_taskq_pop (q) == TASK (i));
    assert (mc_taskq_size (q) == 0);
    //  Removal keeps the others in order, with the ring wrapped.
    for (int i = 0; i < 10; i++)
        assert (mc_taskq_push_front (q, TASK (9 - i)) == 0);
    assert (mc_taskq_remove (q, s_odd, tasks) == 5 && mc_taskq_size (q) == 5);
    for (int i = 0; i < 10; i += 2)
        assert (mc_taskq_pop (q) == TASK (i));
    assert (mc_taskq_remove (q, s_odd, tasks) == 0 && mc_taskq_size (q) == 0);
    #undef TASK
    free (tasks);
    mc_taskq_destroy (&q);
    assert (q == NULL);
    mc_taskq_destroy (&q);
    if (verbose)
        printf ("OK\n");
}
