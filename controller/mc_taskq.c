/*  mc_taskq: ring buffer of task pointers, capacity a power of two. */
#include "mc_taskq.h"
#include <assert.h>
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
