/*  mc_sched: the load-balanced queue, direct queues and pipelining rule.

    The load-balanced queue is shared fairly (mc_proto.md §5, "Fair
    share"). Each job with waiting tasks has a flow: its own FIFO (tasks
    made and requeued, then its rest, the tasks not made yet). Flows hang
    in a ring per share, a share being one user at one priority level;
    shares hang in a ring per level; levels are a list sorted by priority,
    highest first. The next task is the front of the flow at the head of
    the head share of the first level: after it, that flow goes to the back
    of its ring, and once a share has had `weight` tasks in a row (its
    user's share.NAME weight, 1 by default), the share goes to the back of
    its level's ring. Nothing is scanned: O(1) per task, whatever the
    number of jobs and users, except that a priority level that is new
    finds its place among the levels, and one left empty leaves them
    (O(distinct priorities), at most 2001). */
#include "mc_sched.h"
#include "mc_log.h"

typedef struct s_level s_level_t;
typedef struct s_share s_share_t;
typedef struct s_flow s_flow_t;

//  A job's waiting load-balanced tasks; exists while it has some.
struct s_flow {
    mc_job_t *job;                  //  borrowed
    mc_taskq_t *queue;              //  its made tasks and its rest (owned)
    s_share_t *share;
    s_flow_t *prev, *next;          //  ring of its share's flows
};

//  One user's flows at one priority level; exists while it has some.
struct s_share {
    s_level_t *level;
    char key [128];                 //  "priority/user", in self->shares
    uint32_t weight;                //  tasks per turn
    uint32_t served;                //  tasks taken in its current turn
    s_flow_t *flows;                //  the head of its ring
    s_share_t *prev, *next;         //  ring of its level's shares
};

//  One priority level; exists while it has shares.
struct s_level {
    int32_t priority;
    s_share_t *shares;              //  the head of its ring
    s_level_t *next;                //  the next lower level
};

struct _mc_sched_t {
    mc_registry_t *registry;        //  borrowed
    s_level_t *levels;              //  highest priority first (owned)
    zhashx_t *by_priority;          //  priority + 2^31 -> s_level_t (borrowed from levels)
    zhashx_t *flows;                //  job pointer -> s_flow_t (owned)
    zhashx_t *shares;               //  "priority/user" -> s_share_t (owned)
    zhashx_t *weights;              //  user name or key -> weight (in the pointer)
    size_t waiting;                 //  lb + all direct queues, tasks not made yet included
    size_t lb_made;                 //  lb tasks made and waiting in flows
    size_t unmade;                  //  lb tasks not made yet, behind their jobs' rests
    //  Direct tasks for engines not registered (yet): after a restart,
    //  those of resumed jobs wait for their engines to come back. By
    //  engine id + 1; a queue each (owned), created when first needed.
    zhashx_t *awaited;
    int64_t max_inflight;
    int64_t pipeline_us;
    uint16_t max_deaths;            //  deaths of its engines that fail a load-balanced task
    //  An engine with nothing in flight was given nothing because the task
    //  whose turn it was had failed there (s_give_past): the next result
    //  anywhere gives every engine another look (mc_sched_dispatch).
    bool stalled;
    mc_sched_send_fn *send;
    void *arg;
};

static void
s_taskq_free (void **item)
{
    mc_taskq_destroy ((mc_taskq_t **) item);
}

static void
s_share_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_flow_free (void **item)
{
    s_flow_t *flow = *item;
    mc_taskq_destroy (&flow->queue);
    free (flow);
    *item = NULL;
}

mc_sched_t *
mc_sched_new (mc_registry_t *registry, int64_t max_inflight, int64_t pipeline_us, int64_t max_deaths,
              mc_sched_send_fn *send, void *arg)
{
    mc_sched_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->registry = registry;
    self->flows = mc_job_id_table ();       //  pointer keys, hashed as job ids are
    self->shares = zhashx_new ();
    self->weights = zhashx_new ();
    self->awaited = mc_job_id_table ();     //  integer keys, as for job ids
    self->by_priority = mc_job_id_table ();
    if (!self->flows || !self->shares || !self->weights || !self->awaited || !self->by_priority) {
        zhashx_destroy (&self->by_priority);
        zhashx_destroy (&self->flows);
        zhashx_destroy (&self->shares);
        zhashx_destroy (&self->weights);
        zhashx_destroy (&self->awaited);
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->flows, s_flow_free);
    zhashx_set_destructor (self->shares, s_share_free);
    zhashx_set_destructor (self->awaited, s_taskq_free);
    self->max_inflight = max_inflight > 0? max_inflight: 1;
    self->pipeline_us = pipeline_us;
    self->max_deaths = max_deaths < 1? 1: max_deaths > UINT16_MAX? UINT16_MAX: (uint16_t) max_deaths;
    self->send = send;
    self->arg = arg;
    return self;
}

void
mc_sched_destroy (mc_sched_t **self_p)
{
    if (*self_p) {
        mc_sched_t *self = *self_p;
        while (self->levels) {
            s_level_t *next = self->levels->next;
            free (self->levels);
            self->levels = next;
        }
        zhashx_destroy (&self->flows);
        zhashx_destroy (&self->shares);
        zhashx_destroy (&self->weights);
        zhashx_destroy (&self->awaited);
        zhashx_destroy (&self->by_priority);
        free (self);
        *self_p = NULL;
    }
}

int
mc_sched_set_weight (mc_sched_t *self, const char *user, uint32_t weight)
{
    if (weight == 0)
        return -1;
    zhashx_update (self->weights, user, (void *) (uintptr_t) weight);
    return zhashx_lookup (self->weights, user)? 0: -1;
}

int
mc_sched_set_weights (mc_sched_t *self, const char *shares)
{
    for (const char *line = shares; *line; line = strchr (line, '\n') + 1) {
        char user [256];
        unsigned weight;
        if (sscanf (line, "%255s %u", user, &weight) == 2 && mc_sched_set_weight (self, user, weight))
            return -1;
    }
    return 0;
}

//  A user's weight: share.NAME, else share.KEY, else 1.
uint32_t
mc_sched_weight (mc_sched_t *self, const mc_job_info_t *info)
{
    const char *user = info->user [0]? info->user: MC_JOB_OWNER;
    uintptr_t weight = (uintptr_t) zhashx_lookup (self->weights, user);
    if (!weight && info->user_key [0])
        weight = (uintptr_t) zhashx_lookup (self->weights, info->user_key);
    return weight? (uint32_t) weight: 1;
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

//  --------------------------------------------------------------------------
//  Rings: a head pointer into a circular doubly linked list. A newcomer
//  goes to the back, just before the head: it is served after those there.

#define S_RING_ADD(head, item) do {                             \
    if (head) {                                                 \
        (item)->next = (head);                                  \
        (item)->prev = (head)->prev;                            \
        (head)->prev->next = (item);                            \
        (head)->prev = (item);                                  \
    }                                                           \
    else                                                        \
        (head) = (item)->next = (item)->prev = (item);          \
} while (0)

#define S_RING_REMOVE(head, item) do {                          \
    if ((item)->next == (item))                                 \
        (head) = NULL;                                          \
    else {                                                      \
        (item)->prev->next = (item)->next;                      \
        (item)->next->prev = (item)->prev;                      \
        if ((head) == (item))                                   \
            (head) = (item)->next;                              \
    }                                                           \
    (item)->next = (item)->prev = NULL;                         \
} while (0)

#define S_LEVEL_KEY(priority) ((void *) (uintptr_t) ((int64_t) (priority) + 2147483648LL))

//  The level of this priority: found in O(1), or made and put in its
//  place among the levels in O(distinct priorities) when new. NULL when
//  out of memory.
static s_level_t *
s_level (mc_sched_t *self, int32_t priority)
{
    s_level_t *level = zhashx_lookup (self->by_priority, S_LEVEL_KEY (priority));
    if (level)
        return level;
    if (!(level = calloc (1, sizeof *level)))
        return NULL;
    if (zhashx_insert (self->by_priority, S_LEVEL_KEY (priority), level)) {
        free (level);
        return NULL;
    }
    s_level_t **at = &self->levels;
    while (*at && (*at)->priority > priority)
        at = &(*at)->next;
    level->priority = priority;
    level->next = *at;
    *at = level;
    return level;
}

//  The share of the job's user at its priority, made when new. NULL when
//  out of memory.
static s_share_t *
s_share (mc_sched_t *self, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    char key [128];
    snprintf (key, sizeof key, "%d/%s", info->priority, info->user [0]? info->user: MC_JOB_OWNER);
    s_share_t *share = zhashx_lookup (self->shares, key);
    if (share)
        return share;
    //  The share before its level: a level is never left without shares.
    if (!(share = calloc (1, sizeof *share)))
        return NULL;
    snprintf (share->key, sizeof share->key, "%s", key);
    share->weight = mc_sched_weight (self, info);
    if (zhashx_insert (self->shares, share->key, share)) {
        free (share);
        return NULL;
    }
    if (!(share->level = s_level (self, info->priority))) {
        zhashx_delete (self->shares, key);
        return NULL;
    }
    S_RING_ADD (share->level->shares, share);
    return share;
}

//  Take a flow out of its share's ring; the share and its level go when
//  they are left empty.
static void
s_flow_unhang (mc_sched_t *self, s_flow_t *flow)
{
    s_share_t *share = flow->share;
    S_RING_REMOVE (share->flows, flow);
    flow->share = NULL;
    if (share->flows)
        return;
    s_level_t *level = share->level;
    S_RING_REMOVE (level->shares, share);
    zhashx_delete (self->shares, share->key);
    if (level->shares)
        return;
    //  The level goes: O(distinct priorities), once per level.
    s_level_t **at = &self->levels;
    while (*at != level)
        at = &(*at)->next;
    *at = level->next;
    zhashx_delete (self->by_priority, S_LEVEL_KEY (level->priority));
    free (level);
}

//  Hang a flow at the back of its job's share. 0, or -1 when out of memory.
static int
s_flow_hang (mc_sched_t *self, s_flow_t *flow)
{
    s_share_t *share = s_share (self, flow->job);
    if (!share)
        return -1;
    flow->share = share;
    S_RING_ADD (share->flows, flow);
    return 0;
}

//  The job's flow, made and hung when new. NULL when out of memory.
static s_flow_t *
s_flow (mc_sched_t *self, mc_job_t *job)
{
    s_flow_t *flow = zhashx_lookup (self->flows, job);
    if (flow)
        return flow;
    if (!(flow = calloc (1, sizeof *flow)) || !(flow->queue = mc_taskq_new ())) {
        free (flow);
        return NULL;
    }
    flow->job = job;
    if (s_flow_hang (self, flow) || zhashx_insert (self->flows, job, flow)) {
        if (flow->share)
            s_flow_unhang (self, flow);
        mc_taskq_destroy (&flow->queue);
        free (flow);
        return NULL;
    }
    return flow;
}

//  A flow left empty goes.
static void
s_flow_drop (mc_sched_t *self, s_flow_t *flow)
{
    s_flow_unhang (self, flow);
    zhashx_delete (self->flows, flow->job);
}

//  Queue a load-balanced task at the back (or front) of its job's flow.
static int
s_lb_push (mc_sched_t *self, mc_task_t *task, bool front)
{
    s_flow_t *flow = s_flow (self, task->job);
    if (!flow)
        return -1;
    int rc = front? mc_taskq_push_front (flow->queue, task): mc_taskq_push (flow->queue, task);
    if (rc) {
        if (mc_taskq_size (flow->queue) == 0)
            s_flow_drop (self, flow);
        return -1;
    }
    if (task->state != MC_TASK_UNMADE)
        self->lb_made++;
    return 0;
}

//  The flow whose turn it is, or NULL when no load-balanced task waits.
static s_flow_t *
s_lb_next (const mc_sched_t *self)
{
    return self->levels? self->levels->shares->flows: NULL;
}

int
mc_sched_set_priority (mc_sched_t *self, mc_job_t *job, int32_t priority)
{
    mc_job_info_t *info = mc_job_info (job);
    s_flow_t *flow = zhashx_lookup (self->flows, job);
    int32_t was = info->priority;
    info->priority = priority;
    if (!flow || was == priority)
        return 0;
    //  The new share first: when there is no memory for it, the job stays
    //  where it was, at its old priority.
    s_share_t *share = s_share (self, job);
    if (!share) {
        info->priority = was;
        return -1;
    }
    s_flow_unhang (self, flow);
    flow->share = share;
    S_RING_ADD (share->flows, flow);
    return 0;
}

size_t
mc_sched_job_waiting (const mc_sched_t *self, const mc_job_t *job)
{
    s_flow_t *flow = zhashx_lookup (self->flows, job);
    if (!flow)
        return 0;
    size_t size = mc_taskq_size (flow->queue);
    if (mc_job_unmade (job))
        size += mc_job_unmade (job) - 1;   //  its rest stands for them
    return size;
}

int
mc_sched_queue (mc_sched_t *self, mc_task_t *task)
{
    if (task->target < 0) {
        task->state = MC_TASK_WAITING;
        if (s_lb_push (self, task, false))
            return -1;
        self->waiting++;
        return 0;
    }
    mc_engine_t *engine = mc_registry_lookup (self->registry, task->target);
    assert (engine);
    if (mc_taskq_push (mc_engine_load (engine)->direct, task))
        return -1;
    task->state = MC_TASK_WAITING;
    self->waiting++;
    return 0;
}

int
mc_sched_await (mc_sched_t *self, mc_task_t *task)
{
    assert (task->target >= 0);
    if (mc_registry_lookup (self->registry, task->target))
        return mc_sched_queue (self, task);
    void *key = (void *) (uintptr_t) ((uint64_t) task->target + 1);
    mc_taskq_t *queue = zhashx_lookup (self->awaited, key);
    if (!queue) {
        //  No new engine may take the id: only the one its tasks wait for.
        if (mc_registry_keep_id (self->registry, task->target) || !(queue = mc_taskq_new ()))
            return -1;
        if (zhashx_insert (self->awaited, key, queue)) {
            mc_taskq_destroy (&queue);
            return -1;
        }
    }
    if (mc_taskq_push (queue, task))
        return -1;
    task->state = MC_TASK_WAITING;
    self->waiting++;
    return 0;
}

size_t
mc_sched_awaited (const mc_sched_t *self)
{
    size_t count = 0;
    for (mc_taskq_t *queue = zhashx_first (self->awaited); queue; queue = zhashx_next (self->awaited))
        count += mc_taskq_size (queue);
    return count;
}

size_t
mc_sched_drop_awaited (mc_sched_t *self, mc_sched_lost_fn *lost, void *arg)
{
    size_t dropped = 0;
    for (mc_taskq_t *queue = zhashx_first (self->awaited); queue; queue = zhashx_next (self->awaited)) {
        mc_task_t *task;
        while ((task = mc_taskq_pop (queue))) {
            self->waiting--;
            dropped++;
            lost (arg, task);
        }
    }
    zhashx_purge (self->awaited);
    return dropped;
}

int
mc_sched_queue_job (mc_sched_t *self, mc_job_t *job)
{
    uint64_t unmade = mc_job_unmade (job);
    if (unmade == 0)
        return 0;
    if (s_lb_push (self, mc_job_rest (job), false))
        return -1;
    self->waiting += unmade;
    self->unmade += unmade;
    return 0;
}

//  After a task of the flow at the head was taken: the flow goes to the
//  back of its share's ring (or goes, when empty), and the share to the
//  back of its level's once it has had its weight's worth.
static inline void
s_lb_turn (mc_sched_t *self, s_flow_t *flow)
{
    s_share_t *share = flow->share;
    s_level_t *level = share->level;
    bool turn_over = ++share->served >= share->weight;
    if (turn_over)
        share->served = 0;
    if (mc_taskq_size (flow->queue)) {
        share->flows = flow->next;
        if (turn_over)
            level->shares = share->next;
        return;
    }
    //  Its last task: the flow goes, and with it its share when that was
    //  its only flow (which moves the level's ring on by itself).
    if (turn_over && flow->next != flow)
        level->shares = share->next;
    s_flow_drop (self, flow);
}

//  The same for a flow served out of turn (s_give_past), which is not the
//  head of its share's ring, or whose share is not the head of its level's:
//  it (and its share, once its turn is over) goes to the back, behind the
//  heads, which keep their turns. The share is the head share or the one
//  after it, so the level keeps a share and stays.
static void
s_lb_turn_past (mc_sched_t *self, s_flow_t *flow)
{
    s_share_t *share = flow->share;
    s_level_t *level = share->level;
    bool turn_over = ++share->served >= share->weight;
    if (turn_over)
        share->served = 0;
    if (mc_taskq_size (flow->queue)) {
        if (share->flows == flow)
            share->flows = flow->next;
        else {
            S_RING_REMOVE (share->flows, flow);
            S_RING_ADD (share->flows, flow);
        }
    }
    if (turn_over && (mc_taskq_size (flow->queue) || flow->next != flow)) {
        if (level->shares == share)
            level->shares = share->next;
        else {
            S_RING_REMOVE (level->shares, share);
            S_RING_ADD (level->shares, share);
        }
    }
    if (mc_taskq_size (flow->queue) == 0)
        s_flow_drop (self, flow);
}

//  Take the front of a flow, made now when it is a job's rest (which
//  leaves the flow with its last task), without moving the rings. NULL
//  when out of memory.
static inline mc_task_t *
s_lb_take (mc_sched_t *self, s_flow_t *flow)
{
    mc_task_t *front = mc_taskq_peek (flow->queue);
    mc_task_t *task = front;
    if (front->state != MC_TASK_UNMADE) {
        mc_taskq_pop (flow->queue);
        self->lb_made--;
    }
    else {
        if (!(task = mc_job_make_task (front->job))) {
            mc_warn ("out of memory: job %llu waits for its next task to be made",
                     (unsigned long long) mc_job_info (front->job)->id);
            return NULL;
        }
        self->unmade--;
        if (mc_job_unmade (front->job) == 0)
            mc_taskq_pop (flow->queue);
    }
    return task;
}

//  Take the front of the flow whose turn it is, and turn. NULL when out
//  of memory.
static mc_task_t *
s_lb_pop (mc_sched_t *self, s_flow_t *flow)
{
    mc_task_t *task = s_lb_take (self, flow);
    if (task)
        s_lb_turn (self, flow);
    return task;
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

//  May a task that has failed somewhere go to the engine with this id?
//  Not while another engine has not failed it, or failed it longer ago
//  than this one did: a retry goes elsewhere, and when every engine has
//  failed it, to the one where it failed longest ago (mc_proto.md §5,
//  "Retries"). The engines are those registered and those being
//  restarted under their ids (handed over), which are coming back.
//  O(MC_TASK_FAILS²), for failed tasks only.
static __attribute__ ((noinline, cold)) bool
s_may_go (mc_sched_t *self, const mc_task_t *task, int32_t id)
{
    const mc_task_fails_t *fails = task->fails;
    size_t engines = mc_registry_size (self->registry) + mc_registry_handovers (self->registry);
    int32_t later [MC_TASK_FAILS];  //  engines it failed on since it last failed on this one
    size_t nlater = 0;
    for (size_t i = fails->count; i-- > 0;) {
        int32_t engine = fails->engine [i];
        if (engine == id)
            return nlater + 1 >= engines;
        size_t k = 0;
        while (k < nlater && later [k] != engine)
            k++;
        if (k == nlater && (mc_registry_lookup (self->registry, engine)
                        ||  mc_registry_handed_over (self->registry, engine)))
            later [nlater++] = engine;
    }
    return true;                    //  it never failed here
}

//  May this load-balanced task (or job's rest) go to the engine now?
static bool
s_fits (mc_sched_t *self, mc_engine_t *engine, const mc_task_t *task)
{
    uint32_t inflight = mc_engine_load (engine)->inflight;
    return !(task->suspect && inflight > 0) && inflight < mc_sched_limit (self, task->job)
        && !(task->fails && !s_may_go (self, task, mc_engine_id (engine)));
}

//  The task whose turn it is (the front of `flow`) failed on this engine
//  and another may take it: it keeps its place, and the engine takes the
//  task behind it in its job, else the front of the flow next in turn at
//  its level (the share's next flow, else the next share's), out of turn,
//  so that a task waiting for another engine holds back neither its own
//  job nor the others. Two looks, no scan: when neither fits, the engine
//  waits for its next result (or, with nothing in flight, the next
//  result anywhere: self->stalled). True when it was given a task.
static __attribute__ ((noinline, cold)) bool
s_give_past (mc_sched_t *self, mc_engine_t *engine, s_flow_t *flow)
{
    mc_task_t *skipped = mc_taskq_pop (flow->queue);
    mc_task_t *behind = mc_taskq_peek (flow->queue);
    mc_task_t *task = NULL;
    if (behind && s_fits (self, engine, behind))
        task = s_lb_take (self, flow);
    //  Back at the front: a pop leaves room for it, so this cannot fail.
    int rc = mc_taskq_push_front (flow->queue, skipped);
    assert (rc == 0);
    if (task) {
        s_lb_turn (self, flow);
        s_send (self, engine, task);
        return true;
    }
    s_flow_t *other = flow->next != flow? flow->next:
                      flow->share->next != flow->share? flow->share->next->flows: NULL;
    if (other && s_fits (self, engine, mc_taskq_peek (other->queue)) && (task = s_lb_take (self, other))) {
        s_lb_turn_past (self, other);
        s_send (self, engine, task);
        return true;
    }
    if (mc_engine_load (engine)->inflight == 0)
        self->stalled = true;
    return false;
}

//  Give the engine one task if one may go to it now: its own direct tasks
//  first (they keep their order), then the load-balanced queue.
static bool
s_give_one (mc_sched_t *self, mc_engine_t *engine)
{
    mc_engine_load_t *load = mc_engine_load (engine);
    if (mc_engine_state (engine) != MC_ENGINE_READY || load->inflight >= self->max_inflight)
        return false;
    //  A suspect runs alone: nothing goes beside it.
    if (load->running && load->running->suspect)
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
    s_flow_t *flow = s_lb_next (self);
    task = flow? mc_taskq_peek (flow->queue): NULL;
    if (task && task->suspect && load->inflight > 0)
        return false;               //  it waits for an engine with nothing in flight
    //  A retry goes elsewhere (a task that never failed costs this test).
    if (task && task->fails && !s_may_go (self, task, mc_engine_id (engine)))
        return s_give_past (self, engine, flow);
    //  Another job's task is not looked for when this one may not go: that
    //  would be a scan, and the engine gets work at its next result.
    if (task && load->inflight < mc_sched_limit (self, task->job) && (task = s_lb_pop (self, flow))) {
        s_send (self, engine, task);
        return true;
    }
    return false;
}

void
mc_sched_dispatch (mc_sched_t *self)
{
    self->stalled = false;          //  each engine has its look now
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
    //  Tasks that waited for this engine id go after what its queue holds,
    //  in their order; if out of memory, they wait for its next (re)register.
    void *key = (void *) (uintptr_t) ((uint64_t) mc_engine_id (engine) + 1);
    mc_taskq_t *awaited = zhashx_lookup (self->awaited, key);
    mc_task_t *task;
    while (awaited && (task = mc_taskq_peek (awaited)) && mc_taskq_push (mc_engine_load (engine)->direct, task) == 0)
        mc_taskq_pop (awaited);
    if (awaited && mc_taskq_size (awaited) == 0)
        zhashx_delete (self->awaited, key);
    mc_registry_free_push (self->registry, engine);
    mc_sched_dispatch (self);
}

//  Take a task out of its engine's in-flight list (head->prev is the tail).
static void
s_unlink (mc_engine_t *engine, mc_task_t *task)
{
    mc_engine_load_t *load = mc_engine_load (engine);
    assert (load->inflight > 0 && task->engine == mc_engine_id (engine));
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
}

void
mc_sched_task_done (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task)
{
    s_unlink (engine, task);
    while (s_give_one (self, engine))
        ;
    //  An idle engine passed over a retry that waits for this one, or
    //  another: it may take something now.
    if (self->stalled) {
        self->stalled = false;
        mc_sched_dispatch (self);
    }
}

int
mc_sched_task_again (mc_sched_t *self, mc_engine_t *engine, mc_task_t *task)
{
    //  A load-balanced task remembers where it failed, to go elsewhere.
    if (task->target < 0 && mc_job_task_failed_on (task->job, task, mc_engine_id (engine)))
        mc_warn ("out of memory: job %llu task %u may run again on engine %d, where it failed",
                 (unsigned long long) mc_job_info (task->job)->id, task->number, mc_engine_id (engine));
    s_unlink (engine, task);
    //  At the back of its job's flow: another engine may take it, and a
    //  passing cause has time to pass. A direct task keeps its place.
    int rc = task->target < 0? s_lb_push (self, task, false):
             mc_taskq_push_front (mc_engine_load (engine)->direct, task);
    if (rc == 0) {
        task->state = MC_TASK_WAITING;
        self->waiting++;
    }
    while (s_give_one (self, engine))
        ;
    mc_sched_dispatch (self);
    return rc;
}

void
mc_sched_engine_gone (mc_sched_t *self, mc_engine_t *engine, bool died, mc_sched_lost_fn *lost, void *arg)
{
    mc_registry_free_remove (self->registry, engine);
    //  Walk the in-flight list from its tail so that pushing each
    //  load-balanced task to the front keeps the original order.
    mc_engine_load_t *load = mc_engine_load (engine);
    bool alone = load->inflight == 1;   //  the one task in flight is the one it died running
    mc_task_t *task = load->running? load->running->prev: NULL;
    while (task) {
        mc_task_t *prev = task == load->running? NULL: task->prev;
        task->prev = task->next = NULL;
        task->engine = -1;
        if (task->target < 0 && died && alone) {
            if (mc_job_task_died (task->job, task, mc_engine_id (engine), mc_engine_cause (engine)))
                mc_warn ("out of memory: the engines killed by job %llu task %u are not all named",
                         (unsigned long long) mc_job_info (task->job)->id, task->number);
        }
        else
        if (task->target < 0 && died)
            task->suspect = true;
        if (task->target < 0 && task->deaths < self->max_deaths) {
            task->state = MC_TASK_WAITING;
            if (s_lb_push (self, task, true) == 0)
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
        int rc = task->target < 0? s_lb_push (self, task, true): mc_taskq_push_front (load->direct, task);
        if (rc == 0)
            self->waiting++;
        task = prev;
    }
    load->running = NULL;
    load->inflight = 0;
}

typedef struct {
    const mc_job_t *job;
    mc_sched_lost_fn *cancelled;
    void *arg;
    mc_task_t *rest;                //  the job's rest, when it was queued
} s_cancel_t;

static bool
s_cancel_match (mc_task_t *task, void *arg)
{
    s_cancel_t *cancel = arg;
    if (task->job != cancel->job)
        return false;
    if (task->state == MC_TASK_UNMADE)
        cancel->rest = task;        //  its tasks are made and cancelled after this walk
    else
        cancel->cancelled (cancel->arg, task);
    return true;
}

size_t
mc_sched_cancel_job (mc_sched_t *self, const mc_job_t *job, mc_sched_lost_fn *cancelled, void *arg)
{
    s_cancel_t cancel = { job, cancelled, arg, NULL };
    size_t removed = 0;
    s_flow_t *flow = zhashx_lookup (self->flows, job);
    if (flow) {
        size_t made = mc_taskq_remove (flow->queue, s_cancel_match, &cancel);
        removed += made - (cancel.rest != NULL);
        self->lb_made -= made - (cancel.rest != NULL);
        s_flow_drop (self, flow);
    }
    if (cancel.rest) {
        //  One at a time: each cancelled task is reused for the next.
        mc_task_t *task;
        while ((task = mc_job_make_task (cancel.rest->job))) {
            self->unmade--;
            removed++;
            cancelled (arg, task);
        }
        uint64_t left = mc_job_unmade (cancel.rest->job);
        if (left) {
            mc_error ("out of memory: %llu tasks of aborted job %llu are neither run nor cancelled",
                      (unsigned long long) left, (unsigned long long) mc_job_info (cancel.rest->job)->id);
            self->unmade -= left;
            self->waiting -= left;
        }
    }
    for (mc_engine_t *engine = mc_registry_first (self->registry); engine;
         engine = mc_registry_next (self->registry, engine))
        removed += mc_taskq_remove (mc_engine_load (engine)->direct, s_cancel_match, &cancel);
    for (mc_taskq_t *queue = zhashx_first (self->awaited); queue; queue = zhashx_next (self->awaited))
        removed += mc_taskq_remove (queue, s_cancel_match, &cancel);
    assert (removed <= self->waiting);
    self->waiting -= removed;
    return removed;
}

size_t
mc_sched_waiting (const mc_sched_t *self)
{
    return self->waiting;
}

size_t
mc_sched_lb_waiting (const mc_sched_t *self)
{
    return self->lb_made + self->unmade;
}

//  --------------------------------------------------------------------------
//  Self test: a fake controller records what is sent where.

typedef struct {
    mc_task_t *sent [4096];
    int32_t to [4096];
    size_t count;
    size_t lost;
} s_capture_t;

static void
s_capture_send (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    s_capture_t *c = arg;
    assert (c->count < 4096);
    c->sent [c->count] = task;
    c->to [c->count++] = mc_engine_id (engine);
}

static void
s_capture_lost (void *arg, mc_task_t *task)
{
    (void) task;
    ((s_capture_t *) arg)->lost++;
}

//  A registered engine of this uuid and process (on "host"), offering noop.
static mc_engine_t *
s_add_engine_pid (mc_registry_t *registry, const char *uuid, int64_t pid)
{
    zframe_t *rid = zframe_new (uuid, strlen (uuid));
    bool replaced;
    char **kernels = calloc (2, sizeof *kernels);
    assert (rid && kernels && (kernels [0] = strdup ("noop")));
    mc_engine_t *engine = mc_registry_register (registry, uuid, -1, "host", pid, rid, kernels, 1, 0, &replaced);
    zframe_destroy (&rid);
    return engine;
}

static mc_engine_t *
s_add_engine (mc_registry_t *registry, const char *uuid)
{
    return s_add_engine_pid (registry, uuid, 1);
}

//  An abort: the waiting tasks of one job leave the load-balanced and the
//  direct queues; another job's keep their order; running ones stay.
static void
s_test_cancel (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    mc_engine_t *e0 = s_add_engine (registry, "a");
    mc_sched_engine_ready (sched, e0);
    int code;
    char err [256];
    mc_job_t *doomed = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,6,1]}}",
                                        &code, err, sizeof err);
    mc_job_t *kept = mc_job_new_json (2, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,3,1]}}",
                                      &code, err, sizeof err);
    int32_t targets [] = { mc_engine_id (e0) };
    mc_job_t *direct = mc_job_new_json (3, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2],\"targets\":[0]}",
                                        &code, err, sizeof err);
    assert (doomed && kept && direct && mc_job_plan (doomed, NULL, 0) == 0 && mc_job_plan (kept, NULL, 0) == 0
            && mc_job_plan (direct, targets, 1) == 0);
    assert (mc_sched_queue_job (sched, doomed) == 0 && mc_sched_queue_job (sched, kept) == 0);
    assert (mc_sched_queue (sched, mc_job_task (direct, 0)) == 0);
    mc_sched_dispatch (sched);      //  the direct task goes first, and alone (max_inflight 1)
    assert (capture.count == 1 && capture.sent [0] == mc_job_task (direct, 0) && mc_sched_waiting (sched) == 9);
    assert (mc_sched_cancel_job (sched, doomed, s_capture_lost, &capture) == 6 && capture.lost == 6);
    assert (mc_sched_waiting (sched) == 3 && mc_sched_lb_waiting (sched) == 3 && mc_job_unmade (doomed) == 0);
    assert (mc_sched_cancel_job (sched, direct, s_capture_lost, &capture) == 0);  //  it runs
    mc_job_task_finished (direct, capture.sent [0], true, 100000);
    mc_sched_task_done (sched, e0, capture.sent [0]);
    assert (capture.count == 2 && capture.sent [1] == mc_job_task (kept, 0) && capture.sent [1]->number == 0);
    mc_engine_load (e0)->running = NULL;
    mc_engine_load (e0)->inflight = 0;
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&doomed);
    mc_job_destroy (&kept);
    mc_job_destroy (&direct);
}

//  A poison task: requeued after each death of the engine running it,
//  handed to `lost` at the third (max_deaths); a goodbye is no death; a
//  task run again after its kernel failed goes to the back of the queue.
static void
s_test_deaths (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    //  One task in flight per engine, so that each takes only the front task.
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    int code;
    char err [256], text [256];
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"crash\",\"seq\":{\"range\":[0,3,1]}}",
                                     &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_sched_queue_job (sched, job) == 0);
    mc_task_t *poison = NULL;
    const char *uuids [] = { "a", "b", "c", "d" };
    for (int death = 1; death <= 4; death++) {
        //  A fresh engine takes the task at the front: the poison one,
        //  made by the first engine (task 0), then by the fourth (task 1).
        mc_engine_t *engine = s_add_engine (registry, uuids [death - 1]);
        size_t before = capture.count;
        mc_sched_engine_ready (sched, engine);
        assert (capture.count > before && (!poison || capture.sent [before] == poison));
        poison = capture.sent [before];
        assert (poison->number == (death < 4? 0: 1));
        size_t lost = capture.lost;
        //  The fourth engine leaves with a goodbye: no death.
        mc_sched_engine_gone (sched, engine, death < 4, s_capture_lost, &capture);
        mc_registry_remove (registry, &engine);
        if (death < 3)
            assert (poison->deaths == death && poison->state == MC_TASK_WAITING && capture.lost == lost);
        else
        if (death == 3) {
            assert (poison->deaths == 3 && capture.lost == lost + 1);
            assert (mc_job_poison_text (job, poison, text, sizeof text) == 2);
            assert (!strcmp (text, "task 0 (items 0..0) of kernel 'crash' killed 3 engines (engines 0, 1, 2): not retried"));
            //  The test fails it, as the server would.
            mc_job_task_finished (job, poison, false, 0);
            poison = NULL;
        }
        else
            assert (poison->deaths == 0 && capture.lost == lost && mc_sched_waiting (sched) == 2);
    }
    //  Run again after a kernel error: to the back of the queue.
    mc_engine_t *engine = s_add_engine (registry, "e");
    mc_sched_engine_ready (sched, engine);
    assert (mc_engine_inflight (engine) == 1 && capture.sent [capture.count - 1] == poison);
    assert (mc_sched_task_again (sched, engine, poison) == 0);
    //  The engine takes the next task, task 2, made now; task 1 waits behind it.
    mc_task_t *last = capture.sent [capture.count - 1];
    assert (last->number == 2 && mc_job_task (job, 2) == last && poison->state == MC_TASK_WAITING);
    assert (mc_sched_waiting (sched) == 1 && poison->engine == -1);
    mc_job_task_finished (job, last, true, 10);
    mc_sched_task_done (sched, engine, last);
    assert (capture.sent [capture.count - 1] == poison && mc_sched_waiting (sched) == 0);
    mc_engine_load (engine)->running = NULL;
    mc_engine_load (engine)->inflight = 0;
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);

    //  An engine that dies with several tasks in flight: which one killed
    //  it is not known (a result may have died with it). None counts a
    //  death; each becomes a suspect and runs alone from then on.
    registry = mc_registry_new ();
    sched = mc_sched_new (registry, 4, 5000, 3, s_capture_send, &capture);
    job = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"crash\",\"seq\":{\"range\":[0,4,1]}}",
                           &code, err, sizeof err);
    //  Task 3 is in (as after a restart): a tiny job, pipelined.
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_mark_stored (job, 3, true));
    assert (mc_sched_queue_job (sched, job) == 0);
    engine = s_add_engine (registry, "f");
    mc_sched_engine_ready (sched, engine);
    assert (mc_engine_inflight (engine) == 3);
    mc_sched_engine_gone (sched, engine, true, s_capture_lost, &capture);
    mc_registry_remove (registry, &engine);
    for (int i = 0; i < 3; i++)
        assert (mc_job_task (job, i)->deaths == 0 && mc_job_task (job, i)->suspect);
    //  A fresh engine takes one suspect only, and no other task beside it.
    engine = s_add_engine (registry, "g");
    size_t before = capture.count;
    mc_sched_engine_ready (sched, engine);
    assert (capture.count == before + 1 && mc_engine_inflight (engine) == 1 && mc_sched_waiting (sched) == 2);
    //  It dies running it alone: a certain death.
    mc_sched_engine_gone (sched, engine, true, s_capture_lost, &capture);
    mc_registry_remove (registry, &engine);
    assert (mc_job_task (job, 0)->deaths == 1);
    //  Done with the suspects one at a time, an engine is free for them.
    engine = s_add_engine (registry, "h");
    mc_sched_engine_ready (sched, engine);
    for (int i = 0; i < 3; i++) {
        assert (mc_engine_inflight (engine) == 1);
        mc_task_t *task = capture.sent [capture.count - 1];
        mc_job_task_finished (job, task, true, 10);
        mc_sched_task_done (sched, engine, task);
    }
    assert (mc_engine_inflight (engine) == 0 && mc_sched_waiting (sched) == 0 && mc_job_is_finished (job));
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);
}

//  Jobs whose tasks are made as engines take them take turns, each in its
//  own order; a task to run again goes behind its job's tasks not made
//  yet; only the tasks taken exist.
static void
s_test_lazy (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    int code;
    char err [256];
    mc_job_t *a = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,3,1]}}",
                                   &code, err, sizeof err);
    mc_job_t *b = mc_job_new_json (2, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,2,1]}}",
                                   &code, err, sizeof err);
    assert (a && b && mc_job_plan (a, NULL, 0) == 0 && mc_job_plan (b, NULL, 0) == 0);
    assert (mc_sched_queue_job (sched, a) == 0 && mc_sched_queue_job (sched, b) == 0);
    assert (mc_sched_waiting (sched) == 5 && mc_sched_lb_waiting (sched) == 5 && !mc_job_task (a, 0));
    mc_engine_t *engine = s_add_engine (registry, "a");
    mc_sched_engine_ready (sched, engine);
    assert (capture.count == 1 && capture.sent [0]->job == a && capture.sent [0]->number == 0);
    assert (mc_job_unmade (a) == 2 && mc_sched_lb_waiting (sched) == 4);
    //  Task a0 fails and is to run again: behind a's tasks not made yet;
    //  b has its turn first.
    assert (mc_sched_task_again (sched, engine, capture.sent [0]) == 0);
    mc_job_t *order_job [] = { b, a, b, a, a };
    uint32_t order_number [] = { 0, 1, 1, 2, 0 };
    for (size_t i = 0; i < 5; i++) {
        mc_task_t *task = capture.sent [capture.count - 1];
        assert (capture.count == i + 2 && task->job == order_job [i] && task->number == order_number [i]);
        mc_job_task_finished (task->job, task, true, 100000);
        mc_sched_task_done (sched, engine, task);
    }
    assert (mc_sched_waiting (sched) == 0 && mc_sched_lb_waiting (sched) == 0);
    assert (mc_job_is_finished (a) && mc_job_is_finished (b) && mc_engine_inflight (engine) == 0);
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&a);
    mc_job_destroy (&b);
}

//  After a restart: direct tasks wait for their engine ids, which no new
//  engine takes, go to their engine in order when it is back, and are
//  lost when it is given up on.
static void
s_test_await (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 4, 5000, 3, s_capture_send, &capture);
    int code;
    char err [256];
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":\"all\"}", &code, err, sizeof err);
    mc_job_t *other = mc_job_new_json (2, "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[7]}", &code, err, sizeof err);
    assert (sched && job && other && mc_job_plan (job, (int32_t []) { 7, 7, 8 }, 3) == 0);
    assert (mc_job_plan (other, (int32_t []) { 7 }, 1) == 0);
    for (uint64_t i = 0; i < 3; i++)
        assert (mc_sched_await (sched, mc_job_task (job, i)) == 0);
    assert (mc_sched_await (sched, mc_job_task (other, 0)) == 0);
    assert (mc_sched_waiting (sched) == 4 && mc_sched_awaited (sched) == 4 && capture.count == 0);
    //  A job aborted meanwhile takes its held task away.
    assert (mc_sched_cancel_job (sched, other, s_capture_lost, &capture) == 1 && capture.lost == 1);
    assert (mc_sched_awaited (sched) == 3);
    //  A new engine gets neither id; engine 7 gets its two, in order.
    mc_engine_t *fresh = s_add_engine (registry, "fresh");
    assert (mc_engine_id (fresh) == 0);
    mc_sched_engine_ready (sched, fresh);
    zframe_t *rid = zframe_new ("seven", 5);
    char **kernels = calloc (2, sizeof *kernels);
    assert (rid && kernels && (kernels [0] = strdup ("noop")));
    bool replaced;
    mc_engine_t *seven = mc_registry_register (registry, "seven", 7, "host", 1, rid, kernels, 1, 0, &replaced);
    zframe_destroy (&rid);
    assert (seven && mc_engine_id (seven) == 7);
    mc_sched_engine_ready (sched, seven);
    assert (capture.count == 1 && capture.sent [0] == mc_job_task (job, 0) && capture.to [0] == 7);
    assert (mc_sched_awaited (sched) == 1 && mc_engine_queued (seven) == 1);
    mc_sched_task_done (sched, seven, mc_job_task (job, 0));
    assert (capture.count == 2 && capture.sent [1] == mc_job_task (job, 1));
    //  Engine 8 is given up on.
    assert (mc_sched_drop_awaited (sched, s_capture_lost, &capture) == 1 && capture.lost == 2);
    assert (mc_sched_awaited (sched) == 0 && mc_sched_waiting (sched) == 0);
    mc_engine_load (seven)->running = NULL;
    mc_engine_load (seven)->inflight = 0;
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);
    mc_job_destroy (&other);
}

//  Finish the task last sent to the engine, which then takes the next.
static mc_task_t *
s_finish_last (mc_sched_t *sched, mc_engine_t *engine, s_capture_t *capture)
{
    mc_task_t *task = capture->sent [capture->count - 1];
    mc_job_task_finished (task->job, task, true, 100000);
    mc_sched_task_done (sched, engine, task);
    return task;
}

static mc_job_t *
s_fair_job (uint64_t id, int tasks, const char *user, int32_t priority)
{
    char json [128];
    int code;
    char err [256];
    snprintf (json, sizeof json, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,%d,1]}}", tasks);
    mc_job_t *job = mc_job_new_json (id, json, &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0);
    snprintf (mc_job_info (job)->user, sizeof mc_job_info (job)->user, "%s", user);
    mc_job_info (job)->priority = priority;
    return job;
}

//  Fair share: a short job behind a long one runs at the long one's next
//  task; a higher priority goes first, and renice moves a job at once;
//  users share by their weights; an aborted job leaves its ring.
static void
s_test_fair (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    assert (mc_sched_set_weights (sched, "alice 2\nbob 1\n") == 0 && mc_sched_set_weight (sched, "x", 0) == -1);
    mc_job_t *slow = s_fair_job (1, 1000, "bob", 0);
    mc_job_t *small = s_fair_job (2, 2, "bob", 0);
    assert (mc_sched_queue_job (sched, slow) == 0);
    mc_engine_t *engine = s_add_engine (registry, "a");
    mc_sched_engine_ready (sched, engine);
    assert (capture.count == 1 && capture.sent [0]->job == slow);
    assert (mc_sched_queue_job (sched, small) == 0 && mc_sched_job_waiting (sched, small) == 2);
    //  In turn: slow was at the head, small joined at the back, behind it;
    //  then small, slow, small, then slow alone.
    mc_job_t *order [] = { slow, small, slow, small, slow };
    for (size_t i = 0; i < 5; i++) {
        s_finish_last (sched, engine, &capture);
        assert (capture.sent [capture.count - 1]->job == order [i]);
    }
    assert (mc_job_is_finished (small) && mc_sched_job_waiting (sched, small) == 0);

    //  A higher priority overtakes, and has the engine to itself.
    mc_job_t *urgent = s_fair_job (3, 3, "carol", 5);
    assert (mc_sched_queue_job (sched, urgent) == 0);
    for (size_t i = 0; i < 3; i++)
        assert (s_finish_last (sched, engine, &capture) && capture.sent [capture.count - 1]->job == urgent);
    s_finish_last (sched, engine, &capture);
    assert (capture.sent [capture.count - 1]->job == slow && mc_job_is_finished (urgent));

    //  Users by weight: alice (2) gets two tasks for bob's one, whatever
    //  the number of jobs each has.
    mc_job_t *a1 = s_fair_job (4, 100, "alice", 0);
    mc_job_t *a2 = s_fair_job (5, 100, "alice", 0);
    assert (mc_sched_queue_job (sched, a1) == 0 && mc_sched_queue_job (sched, a2) == 0);
    size_t alice = 0, bob = 0;
    for (size_t i = 0; i < 60; i++) {
        s_finish_last (sched, engine, &capture);
        mc_job_t *job = capture.sent [capture.count - 1]->job;
        alice += job == a1 || job == a2;
        bob += job == slow;
    }
    assert (alice == 40 && bob == 20);
    assert (mc_sched_job_waiting (sched, a1) == 80 && mc_sched_job_waiting (sched, a2) == 80);

    //  Renice: bob's job goes first from its next task on, and back.
    assert (mc_sched_set_priority (sched, slow, 1) == 0 && mc_job_info (slow)->priority == 1);
    for (size_t i = 0; i < 5; i++)
        assert (s_finish_last (sched, engine, &capture) && capture.sent [capture.count - 1]->job == slow);
    assert (mc_sched_set_priority (sched, slow, 0) == 0);

    //  Abort: the job leaves its ring, the others go on.
    assert (mc_sched_cancel_job (sched, a1, s_capture_lost, &capture) == 80);
    assert (mc_sched_job_waiting (sched, a1) == 0);
    size_t lb = mc_sched_lb_waiting (sched);
    for (size_t i = 0; i < 6; i++) {
        s_finish_last (sched, engine, &capture);
        mc_job_t *job = capture.sent [capture.count - 1]->job;
        assert (job == a2 || job == slow);
    }
    assert (mc_sched_lb_waiting (sched) == lb - 6);
    //  Tear down: forget the tasks that still point into the jobs.
    mc_engine_load (engine)->running = NULL;
    mc_engine_load (engine)->inflight = 0;
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_t *jobs [] = { slow, small, urgent, a1, a2 };
    for (size_t i = 0; i < 5; i++)
        mc_job_destroy (&jobs [i]);
}

//  Ten thousand jobs of one task each behind a long one: each runs in its
//  turn, the long one's tasks between them, and nothing is left behind.
static void
s_test_many (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    enum { JOBS = 10000 };
    mc_job_t **jobs = calloc (JOBS, sizeof *jobs);
    assert (jobs);
    for (uint64_t i = 0; i < JOBS; i++) {
        jobs [i] = s_fair_job (i + 1, 1, i % 3? "bob": "alice", 0);
        assert (mc_sched_queue_job (sched, jobs [i]) == 0);
    }
    assert (mc_sched_lb_waiting (sched) == JOBS);
    mc_engine_t *engine = s_add_engine (registry, "a");
    mc_sched_engine_ready (sched, engine);
    for (size_t i = 0; i < JOBS; i++) {
        assert (capture.count == 1);
        mc_task_t *task = capture.sent [0];
        capture.count = 0;          //  the capture holds the last one only
        mc_job_task_finished (task->job, task, true, 100000);
        mc_sched_task_done (sched, engine, task);
    }
    assert (capture.count == 0 && mc_sched_waiting (sched) == 0 && mc_engine_inflight (engine) == 0);
    for (size_t i = 0; i < JOBS; i++) {
        assert (mc_job_is_finished (jobs [i]));
        mc_job_destroy (&jobs [i]);
    }
    free (jobs);
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
}

//  Clear an engine's in-flight list before tear down (the tasks point
//  into jobs destroyed after).
static void
s_forget_running (mc_registry_t *registry)
{
    for (mc_engine_t *e = mc_registry_first (registry); e; e = mc_registry_next (registry, e)) {
        mc_engine_load (e)->running = NULL;
        mc_engine_load (e)->inflight = 0;
    }
}

//  A retry goes elsewhere: a task run again after its kernel failed, or
//  requeued after it killed its engine, goes to an engine it has not
//  failed on while one is registered, and when all have failed it, to
//  the one where it failed longest ago. The engine passed over takes the
//  task behind it, or another job's, and an idle one passed over with
//  nothing else to take gets work as soon as there is some.
static void
s_test_elsewhere (void)
{
    char text [256];
    //  Kernel errors, two engines, one task in flight each.
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    mc_engine_t *e0 = s_add_engine (registry, "a");
    mc_engine_t *e1 = s_add_engine (registry, "b");
    mc_job_t *job = s_fair_job (1, 3, "alice", 0);
    assert (mc_sched_queue_job (sched, job) == 0);
    mc_sched_engine_ready (sched, e0);
    mc_sched_engine_ready (sched, e1);
    mc_task_t *t0 = mc_job_task (job, 0), *t1 = mc_job_task (job, 1);
    assert (capture.count == 2 && capture.sent [0] == t0 && capture.to [0] == 0 && capture.sent [1] == t1);
    //  t0 fails on engine 0: behind task 2, which engine 0 takes.
    assert (mc_sched_task_again (sched, e0, t0) == 0);
    assert (t0->fails && t0->fails->count == 1 && t0->fails->engine [0] == 0);
    assert (capture.count == 3 && capture.sent [2]->number == 2 && capture.to [2] == 0);
    //  Engine 0 is free again, but t0 waits for engine 1, busy.
    s_finish_last (sched, e0, &capture);
    assert (capture.count == 3 && mc_engine_inflight (e0) == 0 && t0->state == MC_TASK_WAITING);
    //  Engine 1 takes it at its next result.
    mc_job_task_finished (job, t1, true, 100000);
    mc_sched_task_done (sched, e1, t1);
    assert (capture.count == 4 && capture.sent [3] == t0 && capture.to [3] == 1);
    //  It fails there too: every engine has failed it, so it goes to the
    //  one where it failed longest ago, engine 0, not back to engine 1.
    assert (mc_sched_task_again (sched, e1, t0) == 0);
    assert (capture.count == 5 && capture.sent [4] == t0 && capture.to [4] == 0);
    assert (t0->fails->count == 2 && mc_engine_inflight (e1) == 0);
    mc_job_task_finished (job, t0, true, 100000);
    mc_sched_task_done (sched, e0, t0);
    assert (!t0->fails && mc_job_is_finished (job) && mc_sched_waiting (sched) == 0);
    s_forget_running (registry);
    mc_sched_destroy (&sched);
    mc_job_destroy (&job);

    //  Another user's job is not held back: engine 0, passed over by
    //  alice's retry, takes bob's tasks out of turn, and alice's task
    //  keeps its place for engine 1.
    capture.count = 0;
    sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    mc_job_t *alice = s_fair_job (2, 1, "alice", 0);
    mc_job_t *bob = s_fair_job (3, 3, "bob", 0);
    mc_job_t *alice2 = s_fair_job (4, 2, "alice", 0);
    assert (mc_sched_queue_job (sched, alice) == 0);
    mc_registry_free_remove (registry, e0);
    mc_registry_free_remove (registry, e1);
    mc_sched_engine_ready (sched, e0);  //  engine 1 is registered, not in the rotation yet
    mc_task_t *a0 = mc_job_task (alice, 0);
    assert (capture.count == 1 && capture.sent [0] == a0);
    assert (mc_sched_queue_job (sched, bob) == 0);
    assert (mc_sched_task_again (sched, e0, a0) == 0);
    //  Bob's turn (alice's job had gone and came back behind him).
    assert (capture.count == 2 && capture.sent [1]->job == bob && capture.sent [1]->number == 0);
    s_finish_last (sched, e0, &capture);
    //  Alice's turn: a0 may not go to engine 0; bob's next goes instead.
    assert (capture.count == 3 && capture.sent [2]->job == bob && capture.sent [2]->number == 1);
    assert (a0->state == MC_TASK_WAITING && mc_sched_job_waiting (sched, alice) == 1);
    //  Alice's other job (her share's next flow) goes before bob's last.
    assert (mc_sched_queue_job (sched, alice2) == 0);
    s_finish_last (sched, e0, &capture);
    assert (capture.count == 4 && capture.sent [3]->job == alice2 && capture.sent [3]->number == 0);
    //  Engine 1 joins: bob's turn (alice has had hers), then alice's: a0.
    mc_sched_engine_ready (sched, e1);
    assert (capture.count == 5 && capture.sent [4]->job == bob && capture.to [4] == 1);
    s_finish_last (sched, e1, &capture);
    assert (capture.count == 6 && capture.sent [5] == a0 && capture.to [5] == 1);
    //  Engine 0 ends alice's other job.
    mc_task_t *done = capture.sent [3];
    mc_job_task_finished (alice2, done, true, 100000);
    mc_sched_task_done (sched, e0, done);
    assert (capture.count == 7 && capture.sent [6]->job == alice2 && mc_sched_waiting (sched) == 0);
    assert (mc_job_unmade (bob) == 0 && mc_job_unmade (alice2) == 0);
    s_forget_running (registry);
    mc_sched_destroy (&sched);
    mc_job_destroy (&alice);
    mc_job_destroy (&bob);
    mc_job_destroy (&alice2);
    mc_registry_destroy (&registry);

    //  Deaths, three engines: a poison task killed by engine 0 goes to
    //  another, though engine 0 is back (a restarted local engine keeps
    //  its id), and its error lists three distinct engines.
    registry = mc_registry_new ();
    capture.count = 0;
    capture.lost = 0;
    sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    job = s_fair_job (5, 1, "alice", 0);
    assert (mc_sched_queue_job (sched, job) == 0);
    const char *uuids [] = { "a", "b", "c" };
    mc_engine_t *engines [3];
    for (int i = 0; i < 3; i++) {
        engines [i] = s_add_engine (registry, uuids [i]);
        mc_sched_engine_ready (sched, engines [i]);
    }
    mc_task_t *poison = mc_job_task (job, 0);
    assert (capture.count == 1 && capture.to [0] == 0);
    for (int death = 1; death <= 3; death++) {
        int32_t id = capture.to [capture.count - 1];
        assert (capture.sent [capture.count - 1] == poison);
        mc_sched_engine_gone (sched, engines [id], true, s_capture_lost, &capture);
        mc_registry_remove (registry, &engines [id]);
        engines [id] = s_add_engine (registry, uuids [id]);     //  back, with its id
        assert (mc_engine_id (engines [id]) == id);
        mc_sched_engine_ready (sched, engines [id]);
        if (death < 3)
            assert (capture.count == (size_t) death + 1 && capture.to [death] == death && capture.lost == 0);
    }
    assert (capture.lost == 1 && mc_job_poison_text (job, poison, text, sizeof text) == 2);
    assert (!strcmp (text, "task 0 (items 0..0) of kernel 'noop' killed 3 engines (engines 0, 1, 2): not retried"));
    mc_job_task_finished (job, poison, false, 0);
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);

    //  Two local engines, each restarted under its id after a death: the
    //  one being restarted counts, so the task waits for engine 0 to be
    //  back rather than going to engine 1 again.
    registry = mc_registry_new ();
    capture.count = 0;
    capture.lost = 0;
    sched = mc_sched_new (registry, 1, 5000, 3, s_capture_send, &capture);
    job = s_fair_job (6, 1, "alice", 0);
    assert (mc_sched_queue_job (sched, job) == 0);
    engines [0] = s_add_engine_pid (registry, "a", 70);
    engines [1] = s_add_engine_pid (registry, "b", 71);
    mc_sched_engine_ready (sched, engines [0]);
    mc_sched_engine_ready (sched, engines [1]);
    poison = mc_job_task (job, 0);
    assert (capture.count == 1 && capture.to [0] == 0);
    for (int id = 0; id < 2; id++) {
        mc_sched_engine_gone (sched, engines [id], true, s_capture_lost, &capture);
        mc_registry_remove (registry, &engines [id]);
        assert (mc_registry_hand_over (registry, id, "host", 80 + id, 1) == 0);
    }
    assert (capture.count == 2 && capture.to [1] == 1 && poison->deaths == 2);
    engines [1] = s_add_engine_pid (registry, "b2", 81);
    assert (mc_engine_id (engines [1]) == 1);
    mc_sched_engine_ready (sched, engines [1]);
    assert (capture.count == 2 && mc_engine_inflight (engines [1]) == 0);
    engines [0] = s_add_engine_pid (registry, "a2", 80);
    assert (mc_engine_id (engines [0]) == 0);
    mc_sched_engine_ready (sched, engines [0]);
    assert (capture.count == 3 && capture.sent [2] == poison && capture.to [2] == 0);
    mc_job_task_finished (job, poison, true, 10);
    mc_sched_task_done (sched, engines [0], poison);
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);
}

void
mc_sched_test (bool verbose)
{
    if (verbose)
        printf (" * mc_sched: ");
    s_test_deaths ();
    s_test_lazy ();
    s_test_fair ();
    s_test_many ();
    s_test_elsewhere ();
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 4, 5000, 3, s_capture_send, &capture);
    mc_engine_t *e0 = s_add_engine (registry, "a");
    mc_engine_t *e1 = s_add_engine (registry, "b");
    assert (mc_engine_id (e0) == 0 && mc_engine_id (e1) == 1);
    assert (mc_registry_has_kernel (registry, "noop") && !mc_registry_has_kernel (registry, "nope"));
    mc_sched_engine_ready (sched, e0);
    mc_sched_engine_ready (sched, e1);

    //  Ten load-balanced tasks of unknown duration: one per engine at first.
    int code;
    char err [256];
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,10,1]}}",
                                     &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_info (job)->tasks == 10);
    assert (mc_sched_queue_job (sched, job) == 0);
    assert (mc_sched_waiting (sched) == 10 && mc_sched_lb_waiting (sched) == 10);
    mc_sched_dispatch (sched);
    assert (capture.count == 2 && capture.to [0] != capture.to [1]);
    assert (capture.sent [0]->number == 0 && capture.sent [1]->number == 1);

    //  A fast result: the job is now known to be tiny, so the engine fills
    //  up to max_inflight (4), in queue order.
    mc_task_t *first = capture.sent [0];
    mc_engine_t *engine = mc_registry_lookup (registry, capture.to [0]);
    mc_job_task_finished (job, first, true, 10);
    mc_sched_task_done (sched, engine, first);
    assert (mc_engine_inflight (engine) == 4 && capture.count == 6);
    for (size_t i = 2; i < 6; i++)
        assert (capture.sent [i]->number == i && capture.to [i] == mc_engine_id (engine));
    assert (mc_sched_limit (sched, job) == 4);

    //  The engine leaves (a goodbye: no death, s_test_deaths has those): its
    //  4 tasks go back to the front, in order, and the other engine takes
    //  them (it may hold one: the job is known now).
    mc_engine_t *other = mc_registry_lookup (registry, 1 - mc_engine_id (engine));
    size_t before = capture.count;
    mc_sched_engine_gone (sched, engine, false, s_capture_lost, &capture);
    assert (capture.lost == 0);
    mc_registry_remove (registry, &engine);
    //  The survivor already holds task 1 and may hold 4: three of the
    //  requeued tasks go to it, in their original order (2, 3, 4).
    assert (capture.count == before + 3);
    assert (capture.sent [before]->number == 2 && capture.sent [before + 1]->number == 3
         && capture.sent [before + 2]->number == 4);
    assert (mc_engine_inflight (other) == 4 && mc_sched_waiting (sched) == 10 - 1 - 4);
    assert (mc_job_task (job, 2)->deaths == 0 && !mc_job_task (job, 2)->suspect);

    //  Long tasks are not hoarded: a job whose tasks take 100 ms goes one at
    //  a time per engine.
    mc_job_t *slow = mc_job_new_json (2, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2,3]}",
                                      &code, err, sizeof err);
    assert (slow && mc_job_plan (slow, NULL, 0) == 0);
    mc_job_task_finished (slow, mc_job_make_task (slow), true, 100000);
    assert (mc_sched_limit (sched, slow) == 1);

    //  Direct tasks: kept in order on their engine; failed when it goes.
    mc_engine_t *e2 = s_add_engine (registry, "c");
    mc_sched_engine_ready (sched, e2);
    int32_t targets [] = { mc_engine_id (e2) };
    mc_job_t *direct = mc_job_new_json (3, "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[0]}",
                                        &code, err, sizeof err);
    assert (direct && mc_job_plan (direct, targets, 1) == 0);
    assert (mc_job_task (direct, 0)->target == mc_engine_id (e2));
    //  e2 took load-balanced work when it joined; its direct task waits its turn.
    mc_sched_queue (sched, mc_job_task (direct, 0));
    size_t lost_before = capture.lost;
    mc_sched_engine_gone (sched, e2, true, s_capture_lost, &capture);
    assert (capture.lost == lost_before + 1);
    mc_registry_remove (registry, &e2);

    //  A reconnecting uuid keeps its id; a new one never takes a used id.
    mc_engine_t *again = s_add_engine (registry, "c");
    assert (mc_engine_id (again) == 2);
    mc_engine_t *fresh = s_add_engine (registry, "d");
    assert (mc_engine_id (fresh) == 3);

    //  Tear down: forget the tasks that still point into the jobs.
    for (mc_engine_t *e = mc_registry_first (registry); e; e = mc_registry_next (registry, e)) {
        mc_engine_load (e)->running = NULL;
        mc_engine_load (e)->inflight = 0;
        while (mc_taskq_pop (mc_engine_load (e)->direct))
            ;
    }
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);
    mc_job_destroy (&slow);
    mc_job_destroy (&direct);
    s_test_cancel ();
    s_test_await ();

    if (verbose)
        printf ("OK\n");
}
