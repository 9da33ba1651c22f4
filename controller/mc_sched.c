/*  mc_sched: the load-balanced queue, direct queues and pipelining rule. */
#include "mc_sched.h"

struct _mc_sched_t {
    mc_registry_t *registry;        //  borrowed
    mc_taskq_t *lb;                 //  load-balanced tasks waiting
    size_t waiting;                 //  lb + all direct queues
    int64_t max_inflight;
    int64_t pipeline_us;
    mc_sched_send_fn *send;
    void *arg;
};

mc_sched_t *
mc_sched_new (mc_registry_t *registry, int64_t max_inflight, int64_t pipeline_us,
              mc_sched_send_fn *send, void *arg)
{
    mc_sched_t *self = calloc (1, sizeof *self);
    assert (self);
    self->registry = registry;
    self->lb = mc_taskq_new ();
    assert (self->lb);
    self->max_inflight = max_inflight > 0? max_inflight: 1;
    self->pipeline_us = pipeline_us;
    self->send = send;
    self->arg = arg;
    return self;
}

void
mc_sched_destroy (mc_sched_t **self_p)
{
    if (*self_p) {
        mc_taskq_destroy (&(*self_p)->lb);
        free (*self_p);
        *self_p = NULL;
    }
}

uint32_t
mc_sched_limit (const mc_sched_t *self, const mc_job_t *job)
{
    double mean = mc_job_mean_task_us (job);
    if (mean <= 0)
        return 1;                   //  unknown yet: one task, until one comes back
    double limit = (double) self->pipeline_us / mean;
    if (limit < 1)
        return 1;
    if (limit > (double) self->max_inflight)
        return (uint32_t) self->max_inflight;
    return (uint32_t) limit;
}

int
mc_sched_queue (mc_sched_t *self, mc_task_t *task)
{
    mc_taskq_t *queue = self->lb;
    if (task->target >= 0) {
        mc_engine_t *engine = mc_registry_lookup (self->registry, task->target);
        assert (engine);
        queue = mc_engine_load (engine)->direct;
    }
    if (mc_taskq_push (queue, task))
        return -1;
    task->state = MC_TASK_WAITING;
    self->waiting++;
    return 0;
}

static void
s_send (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task)
{
    self->waiting--;
    task->state = MC_TASK_RUNNING;
    task->engine = mc_engine_id (engine);
    task->next = NULL;
    task->prev = NULL;
    //  Append to the in-flight list; its head is the oldest.
    mc_engine_load_t *load = mc_engine_load (engine);
    if (load->running) {
        mc_task_t *tail = load->running->prev;
        tail->next = task;
        task->prev = tail;
    }
    else
        load->running = task;
    load->running->prev = task;        //  head->prev is the tail
    load->inflight++;
    self->send (self->arg, engine, task);
}

//  Give the engine one task if one may go to it now: its own direct tasks
//  first (they keep their order), then the load-balanced queue.
static bool
s_give_one (mc_sched_t *self, mc_engine_t *engine)
{
    mc_engine_load_t *load = mc_engine_load (engine);
    if (mc_engine_state (engine) != MC_ENGINE_READY || load->inflight >= self->max_inflight)
        return false;
    mc_task_t *task = mc_taskq_peek (load->direct);
    if (task) {
        //  A direct task waits for its turn even when lb work is waiting:
        //  the engine runs its tasks in order.
        if (load->inflight >= mc_sched_limit (self, task->job))
            return false;
        s_send (self, engine, mc_taskq_pop (load->direct));
        return true;
    }
    task = mc_taskq_peek (self->lb);
    if (task && load->inflight < mc_sched_limit (self, task->job)) {
        s_send (self, engine, mc_taskq_pop (self->lb));
        return true;
    }
    return false;
}

void
mc_sched_dispatch (mc_sched_t *self)
{
    //  Rotate through the ring, one task per engine per turn, until a full
    //  turn gives nothing.
    size_t idle = 0;
    size_t engines = mc_registry_size (self->registry);
    while (self->waiting && idle < engines) {
        mc_engine_t *engine = mc_registry_free_pop (self->registry);
        if (!engine)
            break;
        mc_registry_free_push (self->registry, engine);
        idle = s_give_one (self, engine)? 0: idle + 1;
    }
}

void
mc_sched_engine_ready (mc_sched_t *self, mc_engine_t *engine)
{
    mc_registry_free_push (self->registry, engine);
    mc_sched_dispatch (self);
}

void
mc_sched_task_done (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task)
{
    mc_engine_load_t *load = mc_engine_load (engine);
    assert (load->inflight > 0 && task->engine == mc_engine_id (engine));
    //  Unlink from the in-flight list (head->prev is the tail).
    if (task == load->running) {
        load->running = task->next;
        if (load->running)
            load->running->prev = task->prev;
    }
    else {
        task->prev->next = task->next;
        if (task->next)
            task->next->prev = task->prev;
        else
            load->running->prev = task->prev;
    }
    task->prev = task->next = NULL;
    task->engine = -1;
    load->inflight--;
    while (s_give_one (self, engine))
        ;
}

void
mc_sched_engine_gone (mc_sched_t *self, mc_engine_t *engine, mc_sched_lost_fn *lost, void *arg)
{
    mc_registry_free_remove (self->registry, engine);
    //  Walk the in-flight list from its tail so that pushing each
    //  load-balanced task to the front keeps the original order.
    mc_engine_load_t *load = mc_engine_load (engine);
    mc_task_t *task = load->running? load->running->prev: NULL;
    while (task) {
        mc_task_t *prev = task == load->running? NULL: task->prev;
        task->prev = task->next = NULL;
        task->engine = -1;
        if (task->target < 0) {
            task->state = MC_TASK_WAITING;
            if (mc_taskq_push_front (self->lb, task) == 0)
                self->waiting++;
            else
                lost (arg, task);
        }
        else
            lost (arg, task);
        task = prev;
    }
    load->running = NULL;
    load->inflight = 0;
    while ((task = mc_taskq_pop (load->direct))) {
        self->waiting--;
        lost (arg, task);
    }
    mc_sched_dispatch (self);
}

void
mc_sched_engine_reset (mc_sched_t *self, mc_engine_t *engine)
{
    //  From the tail, pushing each to the front, keeps the original order.
    mc_engine_load_t *load = mc_engine_load (engine);
    mc_task_t *task = load->running? load->running->prev: NULL;
    while (task) {
        mc_task_t *prev = task == load->running? NULL: task->prev;
        task->prev = task->next = NULL;
        task->engine = -1;
        task->state = MC_TASK_WAITING;
        if (mc_taskq_push_front (task->target < 0? self->lb: load->direct, task) == 0)
            self->waiting++;
        task = prev;
    }
    load->running = NULL;
    load->inflight = 0;
}

size_t
mc_sched_waiting (const mc_sched_t *self)
{
    return self->waiting;
}

size_t
mc_sched_lb_waiting (const mc_sched_t *self)
{
    return mc_taskq_size (self->lb);
}
