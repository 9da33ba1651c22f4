/*  mc_job: a job over its parsed submit body (mc_submit): split into tasks,
    their progress counted; a transient job's held frames and results are
    its mc_transient's. */
#include "mc_job.h"
#include "mc_idmap.h"
#include "mc_ops.h"
#include "mc_time.h"
#include "mc_transient.h"
#include <string.h>

//  What a task not made yet went through before a restart.
struct s_counts { uint16_t deaths; uint8_t retries; };

struct _mc_job_t {
    mc_job_info_t info;
    mc_submit_t submit;             //  the body it came from, parsed (owned)
    mc_transient_t *held;           //  what a transient job holds instead of storing it
    mc_task_t *tasks;               //  a direct job's tasks, made at plan (one per target)
    //  A load-balanced job makes its tasks as engines take them: numbers
    //  from `cursor` on are not made yet, and a made task lives in `live`
    //  until it finishes, then waits in `spare` to be made again.
    bool lazy;
    uint64_t cursor;                //  next task number to make
    uint64_t unmade;                //  tasks from cursor on, less those marked stored
    mc_idmap_t *live;               //  made and not finished, by number (tasks owned)
    mc_task_t **spare;              //  finished, for reuse (owned); room for every task made
    size_t spare_count, spare_room;
    uint8_t *stored;                //  resume: one bit per task with a stored result, or NULL
    //  Resume: deaths and retries of tasks not made yet, taken by the task
    //  when it is made. By number + 1 (owned), or NULL; rare, so a table.
    zhashx_t *counts;
    mc_task_t rest;                 //  stands in a queue for the tasks not made yet
    uint64_t tasks_finished;
    double mean_task_us;
    //  Which engine died running which task, in the order they died: rare
    //  (each costs an engine), so a list, not a field of every task.
    struct s_death { uint32_t task; int32_t engine; char cause [24]; } *deaths;   //  cause: "" when not known
    size_t death_count, death_room;
};

static bool
s_is_stored (const mc_job_t *self, uint64_t number)
{
    return self->stored && (self->stored [number / 8] >> (number % 8) & 1);
}

static void
s_counts_free (void **item)
{
    free (*item);
    *item = NULL;
}

mc_job_t *
mc_job_new (uint64_t id, const void *body, size_t size, uint64_t seed_if_absent,
            int *code, char *err, size_t errlen)
{
    mc_job_t *self = calloc (1, sizeof *self);
    if (!self) {
        *code = MC_E_INTERNAL;
        snprintf (err, errlen, "submit: controller out of memory");
        return NULL;
    }
    self->info.id = id;
    if (mc_submit_parse (&self->submit, &self->info, body, size, seed_if_absent, code, err, errlen) == 0) {
        self->held = mc_transient_new (self->submit.streams);
        if (self->held)
            return self;
        *code = MC_E_INTERNAL;
        snprintf (err, errlen, "submit: controller out of memory");
    }
    mc_job_destroy (&self);
    return NULL;
}

void
mc_job_destroy (mc_job_t **self_p)
{
    mc_job_t *self = *self_p;
    if (!self)
        return;
    mc_submit_reset (&self->submit);
    mc_transient_destroy (&self->held);
    for (uint64_t i = 0; self->tasks && i < self->info.tasks; i++)
        free (self->tasks [i].fails);      //  (a transient job's load-balanced tasks may have failed)
    free (self->tasks);
    size_t cursor = 0;
    for (mc_task_t *task = self->live? mc_idmap_next (self->live, &cursor): NULL; task;
         task = mc_idmap_next (self->live, &cursor)) {
        free (task->fails);
        free (task);
    }
    mc_idmap_destroy (&self->live);
    for (size_t i = 0; i < self->spare_count; i++)
        free (self->spare [i]);
    free (self->spare);
    free (self->stored);
    zhashx_destroy (&self->counts);
    free (self->deaths);
    free (self);
    *self_p = NULL;
}

const msgpack_object *
mc_job_targets (const mc_job_t *self)
{
    return self->submit.targets;
}

static mc_task_t *
s_alloc_tasks (mc_job_t *self, uint64_t count)
{
    if (count > UINT32_MAX)
        return NULL;
    self->tasks = calloc (count? count: 1, sizeof (mc_task_t));
    self->info.tasks = count;
    return self->tasks;
}

int
mc_job_plan (mc_job_t *self, const int32_t *targets, size_t ntargets)
{
    bool is_map = self->info.kind [0] == 'm';
    uint64_t ntasks;
    if (ntargets == 0)
        ntasks = is_map? self->info.total / self->submit.chunksize + (self->info.total % self->submit.chunksize != 0): 1;
    else
        ntasks = ntargets;
    if (ntargets == 0 && !self->submit.transient) {
        //  A transient job's results are read back by task, after it ends.
        if (ntasks > UINT32_MAX || !(self->live = mc_idmap_new ()))
            return -1;
        self->lazy = true;
        self->info.tasks = self->unmade = ntasks;
        self->rest = (mc_task_t) { .job = self, .target = -1, .engine = -1, .state = MC_TASK_UNMADE };
        if (!is_map)
            self->info.total = ntasks;
        return 0;
    }
    if (!s_alloc_tasks (self, ntasks))
        return -1;
    for (uint64_t i = 0; i < ntasks; i++) {
        mc_task_t *task = &self->tasks [i];
        task->job = self;
        task->number = (uint32_t) i;
        task->engine = -1;
        task->target = ntargets? targets [i]: -1;
        if (!is_map)
            task->first = i;
        else
        if (ntargets == 0) {
            task->first = i * self->submit.chunksize;
            uint64_t left = self->info.total - task->first;
            task->count = (uint32_t) (left < self->submit.chunksize? left: self->submit.chunksize);
        }
        else {
            uint64_t start, size;
            mc_dist_block (self->info.total, ntargets, i, &start, &size);
            task->first = start;
            task->count = (uint32_t) size;
        }
    }
    //  An apply counts one item per task.
    if (!is_map)
        self->info.total = ntasks;
    return 0;
}


mc_task_t *
mc_job_make_task (mc_job_t *self)
{
    if (!self->lazy || self->unmade == 0)
        return NULL;
    while (s_is_stored (self, self->cursor))
        self->cursor++;
    mc_task_t *task;
    if (self->spare_count)
        task = self->spare [--self->spare_count];
    else {
        //  Room to keep every task made once it finishes, taken now so
        //  that finishing one never needs memory.
        size_t made = mc_idmap_size (self->live) + 1;
        if (made > self->spare_room) {
            size_t room = self->spare_room? 2 * self->spare_room: 16;
            mc_task_t **grown = realloc (self->spare, room * sizeof *grown);
            if (!grown)
                return NULL;
            self->spare = grown;
            self->spare_room = room;
        }
        if (!(task = malloc (sizeof *task)))
            return NULL;
    }
    uint64_t number = self->cursor;
    *task = (mc_task_t) { .job = self, .number = (uint32_t) number, .target = -1, .engine = -1,
                          .state = MC_TASK_WAITING };
    if (self->info.kind [0] == 'm') {
        task->first = number * self->submit.chunksize;
        uint64_t left = self->info.total - task->first;
        task->count = (uint32_t) (left < self->submit.chunksize? left: self->submit.chunksize);
    }
    else
        task->first = number;
    if (mc_idmap_insert (self->live, number, task)) {
        self->spare [self->spare_count++] = task;
        return NULL;
    }
    struct s_counts *counts = self->counts? zhashx_lookup (self->counts, (void *) (uintptr_t) (number + 1)): NULL;
    if (counts) {
        task->deaths = counts->deaths;
        task->retries = counts->retries;
        zhashx_delete (self->counts, (void *) (uintptr_t) (number + 1));
    }
    self->cursor++;
    self->unmade--;
    return task;
}

uint64_t
mc_job_unmade (const mc_job_t *self)
{
    return self->unmade;
}

mc_task_t *
mc_job_rest (mc_job_t *self)
{
    return self->lazy? &self->rest: NULL;
}

//  Count a task's end: its items done or failed, its run time in the mean.
static void
s_count_finished (mc_job_t *self, uint64_t items, bool ok, int64_t run_us)
{
    if (ok)
        self->info.done += items;
    else
        self->info.failed += items;
    self->tasks_finished++;
    if (run_us < 0)
        run_us = 0;
    self->mean_task_us = self->mean_task_us > 0? 0.75 * self->mean_task_us + 0.25 * run_us: run_us + 0.001;
    if (mc_job_is_finished (self))
        self->info.finished_us = mc_time_wall_us ();
}

bool
mc_job_mark_stored (mc_job_t *self, uint64_t number, bool ok)
{
    if (number >= self->info.tasks)
        return false;
    if (!self->lazy) {
        mc_task_t *task = &self->tasks [number];
        if (task->state != MC_TASK_WAITING)
            return false;
        mc_job_task_finished (self, task, ok, 0);
        return true;
    }
    //  Only before any task is made: resume marks, then queues.
    assert (self->cursor == 0);
    if (!self->stored && !(self->stored = calloc (self->info.tasks / 8 + 1, 1)))
        return false;
    if (s_is_stored (self, number))
        return false;
    self->stored [number / 8] |= (uint8_t) (1u << (number % 8));
    self->unmade--;
    uint64_t items = 1;
    if (self->info.kind [0] == 'm') {
        uint64_t first = number * self->submit.chunksize, left = self->info.total - first;
        items = left < self->submit.chunksize? left: self->submit.chunksize;
    }
    s_count_finished (self, items, ok, 0);
    return true;
}

void
mc_job_count_tasks (mc_job_t *self, uint64_t *finished, uint64_t *running)
{
    *finished = self->tasks_finished;
    *running = 0;
    if (self->lazy) {
        size_t cursor = 0;
        for (mc_task_t *task = mc_idmap_next (self->live, &cursor); task; task = mc_idmap_next (self->live, &cursor))
            *running += task->state == MC_TASK_RUNNING;
    }
    else
        for (uint64_t i = 0; i < self->info.tasks; i++)
            *running += self->tasks [i].state == MC_TASK_RUNNING;
}

int
mc_job_check_limits (const mc_job_t *self, size_t ntargets, uint64_t frame_bytes, const mc_config_t *config,
                     uint64_t *ntasks, int *code, char *err, size_t errlen)
{
    return mc_submit_check_limits (&self->submit, &self->info, ntargets, frame_bytes, config, ntasks,
                                   code, err, errlen);
}

//  A range's integers, in msgpack's own forms (the same bytes as packing
//  each into pk), written into a block on the stack and given to pk's
//  writer a block at a time: each went through that writer, a call and a
//  memcpy of a few bytes.
static int
s_pack_range (const mc_submit_t *submit, uint64_t first, uint64_t count, msgpack_packer *pk)
{
    uint8_t block [4096];
    size_t size = 0;
    int rc = 0;
    for (uint64_t i = first; i < first + count; i++) {
        if (sizeof block - size < 9) {
            rc |= pk->callback (pk->data, (const char *) block, size);
            size = 0;
        }
        size += mc_proto_put_int (block + size, (int64_t) ((uint64_t) submit->range_start + i * (uint64_t) submit->range_step));
    }
    if (size)
        rc |= pk->callback (pk->data, (const char *) block, size);
    return rc;
}

int
mc_job_pack_items (const mc_job_t *self, const mc_task_t *task, msgpack_packer *pk)
{
    const mc_submit_t *submit = &self->submit;
    int rc = msgpack_pack_array (pk, task->count);
    if (submit->is_range)
        rc |= s_pack_range (submit, task->first, task->count, pk);
    else
        for (uint64_t i = task->first; i < task->first + task->count; i++)
            rc |= msgpack_pack_object (pk, submit->seq_items [i]);
    return rc? -1: 0;
}

int
mc_job_pack_task (const mc_job_t *self, const mc_task_t *task, msgpack_packer *args, msgpack_packer *kwargs,
                  msgpack_packer *items, zlist_t *frames)
{
    mc_repack_t how = { NULL, 0, frames, false, NULL, NULL };
    how.in = mc_transient_frames (self->held, &how.in_count);
    const mc_submit_t *submit = &self->submit;
    int rc = submit->args_obj? mc_proto_repack (args, submit->args_obj, &how): msgpack_pack_array (args, 0);
    rc |= submit->kwargs_obj? mc_proto_repack (kwargs, submit->kwargs_obj, &how): msgpack_pack_map (kwargs, 0);
    if (task->count == 0)
        return rc;
    if (submit->is_range)
        return rc | mc_job_pack_items (self, task, items);
    rc |= msgpack_pack_array (items, task->count);
    for (uint64_t i = task->first; i < task->first + task->count; i++)
        rc |= mc_proto_repack (items, &submit->seq_items [i], &how);
    return rc? -1: 0;
}

bool
mc_job_transient (const mc_job_t *self)
{
    return self->submit.transient;
}

const void *
mc_job_engine_reduce (const mc_job_t *self, size_t *size)
{
    *size = self->submit.engine_reduce.size;
    return self->submit.engine_reduce.size? self->submit.engine_reduce.data: NULL;
}

bool
mc_job_body_reduces (const void *body, size_t size)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 1024))
        return false;
    msgpack_object spec;
    bool reduces = false;
    if (mc_proto_unpack (body, size, &zone, &spec) == 0) {
        const msgpack_object *reduce = mc_proto_map_get (&spec, "reduce");
        reduces = reduce && reduce->type != MSGPACK_OBJECT_NIL;
    }
    msgpack_zone_destroy (&zone);
    return reduces;
}

const char *
mc_job_out (const mc_job_t *self)
{
    return self->submit.out;
}

//  What a transient job holds: forwarded to its mc_transient.

int
mc_job_hold_frames (mc_job_t *self, zmsg_t **held_p, zframe_t *const *frames, size_t count)
{
    return mc_transient_hold (self->held, held_p, frames, count);
}

size_t
mc_job_frame_count (const mc_job_t *self)
{
    size_t count;
    mc_transient_frames (self->held, &count);
    return count;
}

size_t
mc_job_held_bytes (const mc_job_t *self)
{
    return mc_transient_held_bytes (self->held);
}

int
mc_job_keep_result (mc_job_t *self, const mc_task_t *task, zmsg_t **result_p)
{
    assert (self->submit.transient);
    return mc_transient_keep (self->held, task->number, self->info.tasks, result_p);
}

zmsg_t *
mc_job_result (const mc_job_t *self, uint64_t number)
{
    return mc_transient_result (self->held, number);
}

bool
mc_job_streams (const mc_job_t *self)
{
    return mc_transient_streams (self->held);
}

int
mc_job_stream_chunk (mc_job_t *self, const mc_msg_t *chunk)
{
    return mc_transient_chunk (self->held, chunk);
}

void
mc_job_stream_fail (mc_job_t *self, int code)
{
    mc_transient_fail (self->held, code);
}

int
mc_job_stream_check (const mc_job_t *self, const mc_msg_t *result)
{
    return mc_transient_check (self->held, result);
}

void
mc_job_task_finished (mc_job_t *self, mc_task_t *task, bool ok, int64_t run_us)
{
    assert (task->state == MC_TASK_RUNNING || task->state == MC_TASK_WAITING);
    task->state = ok? MC_TASK_DONE: MC_TASK_FAILED;
    if (task->fails) {              //  it will not be sent again (the test spares a call to free)
        free (task->fails);
        task->fails = NULL;
    }
    uint64_t items = task->count? task->count: 1;
    if (self->info.kind [0] == 'm' && task->count == 0)
        items = 0;                  //  an empty block of a direct map
    if (self->lazy) {
        //  The caller may still unlink it from an engine: it is only
        //  reused by the next mc_job_make_task.
        assert (task != &self->rest && self->spare_count < self->spare_room);
        mc_idmap_delete (self->live, task->number);
        self->spare [self->spare_count++] = task;
    }
    s_count_finished (self, items, ok, run_us);
}

//  Remember that the engine died running task `number`. 0, or -1 when out of memory.
static int
s_death_add (mc_job_t *self, uint32_t number, int32_t engine, const char *cause)
{
    if (self->death_count == self->death_room) {
        size_t room = self->death_room? 2 * self->death_room: 8;
        struct s_death *grown = realloc (self->deaths, room * sizeof *grown);
        if (!grown)
            return -1;
        self->deaths = grown;
        self->death_room = room;
    }
    struct s_death *death = &self->deaths [self->death_count++];
    *death = (struct s_death) { number, engine, "" };
    snprintf (death->cause, sizeof death->cause, "%s", cause? cause: "");
    return 0;
}

int
mc_job_task_failed_on (mc_job_t *self, mc_task_t *task, int32_t engine)
{
    assert (task->job == self && task->target < 0);
    if (!task->fails && !(task->fails = calloc (1, sizeof *task->fails)))
        return -1;
    mc_task_fails_t *fails = task->fails;
    if (fails->count == MC_TASK_FAILS) {
        //  The oldest is forgotten: a task that failed this often has been
        //  round every engine it remembers.
        memmove (fails->engine, fails->engine + 1, (MC_TASK_FAILS - 1) * sizeof fails->engine [0]);
        fails->count--;
    }
    fails->engine [fails->count++] = engine;
    return 0;
}

int
mc_job_task_died (mc_job_t *self, mc_task_t *task, int32_t engine, const char *cause)
{
    assert (task->job == self);
    if (task->deaths < UINT16_MAX)
        task->deaths++;
    int rc = mc_job_task_failed_on (self, task, engine);
    return s_death_add (self, task->number, engine, cause) | rc;
}

int
mc_job_resume_counts (mc_job_t *self, uint64_t number, uint32_t retries, const int32_t *engines, size_t count)
{
    if (number >= self->info.tasks || s_is_stored (self, number))
        return 0;                   //  not ours, or it will never run again
    uint16_t deaths = (uint16_t) (count < UINT16_MAX? count: UINT16_MAX);
    uint8_t tries = (uint8_t) (retries < UINT8_MAX? retries: UINT8_MAX);
    int rc = 0;
    for (size_t i = 0; i < count; i++)
        rc |= s_death_add (self, (uint32_t) number, engines [i], NULL);     //  (why is not stored)
    if (!self->lazy) {
        mc_task_t *task = &self->tasks [number];
        task->deaths = deaths;
        task->retries = tries;
        return rc;
    }
    assert (self->cursor == 0);     //  before any task is made, as mc_job_mark_stored
    struct s_counts *counts = malloc (sizeof *counts);
    if (!self->counts && (self->counts = mc_job_id_table ()))
        zhashx_set_destructor (self->counts, s_counts_free);
    if (!counts || !self->counts || zhashx_insert (self->counts, (void *) (uintptr_t) (number + 1), counts)) {
        free (counts);
        return -1;
    }
    *counts = (struct s_counts) { deaths, tries };
    return rc;
}

int64_t
mc_job_poison_text (const mc_job_t *self, const mc_task_t *task, char *text, size_t len)
{
    char items [64];
    if (self->info.kind [0] == 'm')
        snprintf (items, sizeof items, "items %llu..%llu", (unsigned long long) task->first,
                  (unsigned long long) (task->first + (task->count? task->count - 1: 0)));
    else
        snprintf (items, sizeof items, "an apply");
    int used = snprintf (text, len, "task %u (%s) of kernel '%s' killed %u engine%s (engine%s ", task->number, items,
                         self->info.kernel, task->deaths, task->deaths == 1? "": "s", task->deaths == 1? "": "s");
    int64_t last = -1;
    size_t listed = 0;
    bool cut = false;
    for (size_t i = 0; i < self->death_count; i++) {
        if (self->deaths [i].task != task->number)
            continue;
        last = self->deaths [i].engine;
        //  Room is kept for the ending: a list too long for it ends in "...".
        if (!cut && used >= 0 && (size_t) used + 40 < len)
            used += snprintf (text + used, len - used, "%s%d", listed? ", ": "", self->deaths [i].engine);
        else
        if (!cut && used >= 0 && (size_t) used + 20 < len) {
            used += snprintf (text + used, len - used, ", ...");
            cut = true;
        }
        listed++;
    }
    //  How they died, each cause once, in order (a local engine's signal
    //  or exit status; "engine lost" for one that went silent).
    const char *causes [8];
    size_t ncauses = 0;
    for (size_t i = 0; i < self->death_count; i++) {
        if (self->deaths [i].task != task->number || !self->deaths [i].cause [0])
            continue;
        size_t k = 0;
        while (k < ncauses && strcmp (causes [k], self->deaths [i].cause))
            k++;
        if (k == ncauses && ncauses < 8)
            causes [ncauses++] = self->deaths [i].cause;
    }
    for (size_t k = 0; k < ncauses && used >= 0 && (size_t) used + 40 < len; k++)
        used += snprintf (text + used, len - used, "%s%s", k? ", ": "; ", causes [k]);
    if (used >= 0 && (size_t) used < len)
        snprintf (text + used, len - used, "%s): not retried", listed? "": "unknown");
    return last;
}

uint32_t
mc_job_retries (const mc_job_t *self)
{
    return self->submit.retries;
}

bool
mc_job_is_finished (const mc_job_t *self)
{
    return self->tasks_finished == self->info.tasks;
}

mc_job_info_t *
mc_job_info (mc_job_t *self)
{
    return &self->info;
}

mc_task_t *
mc_job_task (mc_job_t *self, uint64_t number)
{
    if (self->lazy)
        return number < self->info.tasks? mc_idmap_lookup (self->live, number): NULL;
    return number < self->info.tasks? &self->tasks [number]: NULL;
}

const void *
mc_job_body (const mc_job_t *self, size_t *size)
{
    *size = self->submit.body_size;
    return self->submit.body;
}

const void *
mc_job_args (const mc_job_t *self, size_t *size)
{
    *size = self->submit.args.size;
    return self->submit.args.data;
}

const void *
mc_job_kwargs (const mc_job_t *self, size_t *size)
{
    *size = self->submit.kwargs.size;
    return self->submit.kwargs.data;
}

double
mc_job_mean_task_us (const mc_job_t *self)
{
    return self->mean_task_us;
}

mc_job_t *
mc_job_new_json (uint64_t id, const char *json, int *code, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    mc_job_t *job = NULL;
    if (mc_value_pack_json_text (&sb, json) == 0)
        job = mc_job_new (id, sb.data, sb.size, 7, code, err, errlen);
    else {
        *code = MC_E_MALFORMED;
        snprintf (err, errlen, "submit: not JSON");
    }
    msgpack_sbuffer_destroy (&sb);
    return job;
}

//  --------------------------------------------------------------------------
//  Self test

//  A streamed %pull relays its chunks through the job; a job that does not
//  stream takes no streamed result (mc_transient tests the relay itself).
static void
s_test_streams (void)
{
    int code;
    char err [256];
    char json [256];
    snprintf (json, sizeof json, "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[3],"
              "\"args\":[\"x\"],\"kwargs\":{\"stream\":true}}", mc_nsop_name (MC_NSOP_PULL));
    mc_job_t *job = mc_job_new_json (1, json, &code, err, sizeof err);
    assert (job && mc_job_streams (job) && mc_job_transient (job) && code == MC_OK);
    mc_msg_t chunk, result;
    mc_msg_init (&chunk);
    mc_msg_init (&result);
    result.frame_count = 2;
    assert (mc_job_stream_check (job, &result) == MC_OK);          //  nothing streamed, nothing relayed
    zframe_t *piece = zframe_new ("abcd", 4);
    assert (piece);
    chunk.frames = &piece;
    chunk.frame_count = 1;
    chunk.frame_size = 4;
    assert (mc_job_stream_chunk (job, &chunk) == 0 && mc_job_held_bytes (job) == 4);
    uint64_t streamed [2] = { 4, 0 };
    result.streamed = streamed;
    assert (mc_job_stream_check (job, &result) == MC_OK);
    assert (mc_job_stream_chunk (job, &chunk) == -1);               //  the same chunk again
    mc_job_stream_fail (job, MC_E_QUEUE_FULL);                      //  the first code stays
    assert (mc_job_stream_check (job, &result) == MC_E_MALFORMED);
    mc_job_destroy (&job);
    job = mc_job_new_json (1, "{\"kind\":\"apply\",\"kernel\":\"noop\"}", &code, err, sizeof err);
    assert (job && !mc_job_streams (job) && mc_job_stream_check (job, &result) == MC_E_MALFORMED);
    mc_job_destroy (&job);
    zframe_destroy (&piece);
}

//  A transient job keeps its tasks' results, and holds its request's frames
//  for the tasks that refer to them.
static void
s_test_transient (void)
{
    int code;
    char err [256];
    char json [256];
    snprintf (json, sizeof json, "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[0,1]}",
              mc_nsop_name (MC_NSOP_NAMES));
    mc_job_t *job = mc_job_new_json (1, json, &code, err, sizeof err);
    assert (job && mc_job_plan (job, (int32_t []) { 0, 1 }, 2) == 0 && mc_job_info (job)->tasks == 2);
    assert (mc_job_frame_count (job) == 0 && mc_job_result (job, 1) == NULL);
    zmsg_t *request = zmsg_new ();
    assert (request && zmsg_addstr (request, "header") == 0 && zmsg_addmem (request, "12345678", 8) == 0);
    zframe_t *frames [1] = { zmsg_last (request) };
    assert (mc_job_hold_frames (job, &request, frames, 1) == 0 && !request && mc_job_frame_count (job) == 1);
    zmsg_t *kept = zmsg_new ();
    assert (kept && zmsg_addstr (kept, "header") == 0 && zmsg_addmem (kept, "abc", 3) == 0);
    zmsg_t *was = kept;
    assert (mc_job_keep_result (job, mc_job_task (job, 1), &kept) == 0 && !kept);
    assert (mc_job_result (job, 1) == was && mc_job_result (job, 0) == NULL && mc_job_held_bytes (job) == 11);
    mc_job_destroy (&job);
}

//  Chunks split items; items pack as the range says; tasks count their items.
static void
s_test_items (void)
{
    int code;
    char err [256];
    //  Chunks: 10 items by 3 -> 3,3,3,1, and items packed as the range says.
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,20,2]},"
                                        "\"chunksize\":3}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_info (job)->tasks == 4);
    mc_task_t *made [4];
    for (uint32_t i = 0; i < 4; i++) {
        made [i] = mc_job_make_task (job);
        assert (made [i] && made [i]->number == i && mc_job_task (job, i) == made [i]);
    }
    assert (!mc_job_make_task (job) && mc_job_unmade (job) == 0);
    assert (made [3]->first == 9 && made [3]->count == 1 && !mc_job_task (job, 4));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert (mc_job_pack_items (job, made [1], &pk) == 0);
    char text [64];
    json_t *items = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    char *dump = json_dumps (items, JSON_COMPACT);
    assert (!strcmp (dump, "[6,8,10]"));
    free (dump);
    json_decref (items);
    //  The same bytes as each integer packed into pk, across blocks, at
    //  every width, both signs.
    const int64_t ranges [][2] = { { 0, 1 }, { -200, 1 }, { -40000, 13 }, { 100, 37 }, { -5000000000, 7777777 },
                                   { INT64_MAX - 3000 * 3, 3 }, { INT64_MIN, 3074457345618258 } };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges [0]; r++) {
        mc_submit_t range = { .is_range = true, .range_start = ranges [r][0], .range_step = ranges [r][1] };
        msgpack_sbuffer one;
        msgpack_sbuffer_init (&one);
        msgpack_packer one_pk;
        msgpack_packer_init (&one_pk, &one, msgpack_sbuffer_write);
        msgpack_sbuffer_clear (&sb);
        assert (s_pack_range (&range, 5, 3000, &pk) == 0);
        for (uint64_t i = 5; i < 3005; i++)
            msgpack_pack_int64 (&one_pk, (int64_t) ((uint64_t) range.range_start + i * (uint64_t) range.range_step));
        assert (one.size == sb.size && !memcmp (one.data, sb.data, sb.size) && sb.size > 4096);
        msgpack_sbuffer_destroy (&one);
    }
    //  Each form at its edges, as msgpack_pack_int64 packs it.
    const int64_t edges [] = { 0, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX, -1, -32,
                               -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN };
    for (size_t e = 0; e < sizeof edges / sizeof edges [0]; e++)
        for (int64_t delta = -1; delta <= 1; delta++) {
            int64_t d = (int64_t) ((uint64_t) edges [e] + (uint64_t) delta);
            uint8_t mine [9];
            size_t n = mc_proto_put_int (mine, d);
            msgpack_sbuffer_clear (&sb);
            msgpack_pack_int64 (&pk, d);
            assert (n == sb.size && !memcmp (mine, sb.data, n));
        }
    msgpack_sbuffer_destroy (&sb);
    //  Finished tasks count their items; the job finishes with the last.
    for (uint64_t i = 0; i < 4; i++) {
        assert (!mc_job_is_finished (job));
        mc_job_task_finished (job, made [i], i != 2, 100);
    }
    assert (!mc_job_task (job, 0) && !mc_job_task (job, 3));      //  finished: given back
    assert (mc_job_is_finished (job) && mc_job_info (job)->done == 7 && mc_job_info (job)->failed == 3);
    assert (mc_job_info (job)->finished_us > 0 && mc_job_mean_task_us (job) > 0);
    mc_job_destroy (&job);
}

//  Deaths are counted per task and named in its error; retries come from
//  the body.
static void
s_test_deaths (void)
{
    int code;
    char err [256], text [512];
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"crash\",\"seq\":{\"range\":[0,10,1]},"
                                        "\"chunksize\":3,\"retries\":2}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_retries (job) == 2);
    mc_task_t *zero = mc_job_make_task (job), *one = mc_job_make_task (job), *task = mc_job_make_task (job);
    assert (zero && one && task && task->number == 2 && mc_job_task (job, 2) == task);
    assert (task->deaths == 0 && task->retries == 0);
    assert (mc_job_task_died (job, task, 0, "SIGSEGV") == 0 && mc_job_task_died (job, one, 4, NULL) == 0);
    assert (mc_job_task_died (job, task, 1, "engine lost") == 0 && mc_job_task_died (job, task, 0, "SIGSEGV") == 0);
    assert (task->deaths == 3 && one->deaths == 1);
    //  Each death is also where the task failed, for the scheduler.
    assert (!zero->fails && one->fails->count == 1 && one->fails->engine [0] == 4);
    assert (task->fails->count == 3 && task->fails->engine [0] == 0 && task->fails->engine [1] == 1
            && task->fails->engine [2] == 0);
    assert (mc_job_task_failed_on (job, zero, 7) == 0 && zero->fails->count == 1 && zero->fails->engine [0] == 7);
    mc_job_task_finished (job, zero, true, 10);
    assert (!zero->fails);          //  freed with its end
    assert (mc_job_poison_text (job, task, text, sizeof text) == 0);
    assert (!strcmp (text, "task 2 (items 6..8) of kernel 'crash' killed 3 engines (engines 0, 1, 0; SIGSEGV, engine lost): "
                           "not retried"));
    //  A long list is cut, never overrun.
    for (int i = 0; i < 200; i++)
        assert (mc_job_task_died (job, task, 1000 + i, "") == 0);
    assert (mc_job_poison_text (job, task, text, 120) == 1199 && strlen (text) < 120 && strstr (text, ", ..."));
    //  Only the last MC_TASK_FAILS engines are remembered, oldest first.
    assert (task->fails->count == MC_TASK_FAILS && task->fails->engine [0] == 1200 - MC_TASK_FAILS
            && task->fails->engine [MC_TASK_FAILS - 1] == 1199);
    mc_job_destroy (&job);
    job = mc_job_new_json (2, "{\"kind\":\"apply\",\"kernel\":\"crash\"}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_retries (job) == 0);
    task = mc_job_make_task (job);
    assert (task && mc_job_task_died (job, task, 5, NULL) == 0);
    assert (mc_job_poison_text (job, task, text, sizeof text) == 5);
    assert (!strcmp (text, "task 0 (an apply) of kernel 'crash' killed 1 engine (engine 5): not retried"));
    mc_job_destroy (&job);
}

//  A load-balanced job makes its tasks in order as asked, gives a finished
//  one back for the next, and after a restart skips the tasks whose
//  results are stored, counting them finished.
static void
s_test_lazy (void)
{
    int code;
    char err [256];
    const char *json = "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,10,1]},\"chunksize\":3}";
    mc_job_t *job = mc_job_new_json (1, json, &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_unmade (job) == 4 && !mc_job_task (job, 0));
    assert (mc_job_rest (job)->state == MC_TASK_UNMADE && mc_job_rest (job)->job == job);
    mc_task_t *first = mc_job_make_task (job);
    assert (first && first->number == 0 && first->state == MC_TASK_WAITING && mc_job_unmade (job) == 3);
    uint64_t finished, running;
    first->state = MC_TASK_RUNNING;
    mc_job_count_tasks (job, &finished, &running);
    assert (finished == 0 && running == 1);
    first->deaths = 2;
    first->suspect = true;
    mc_job_task_finished (job, first, true, 50);
    assert (!mc_job_task (job, 0));
    mc_job_count_tasks (job, &finished, &running);
    assert (finished == 1 && running == 0);
    //  The same memory comes back as the next task, as new.
    mc_task_t *second = mc_job_make_task (job);
    assert (second == first && second->number == 1 && second->first == 3 && second->count == 3);
    assert (second->deaths == 0 && !second->suspect && second->engine == -1 && mc_job_task (job, 1) == second);
    mc_job_destroy (&job);          //  frees the task it still holds

    //  Resume: tasks 1 and 3 have results (3 failed); 0 and 2 are made.
    job = mc_job_new_json (1, json, &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0);
    assert (mc_job_mark_stored (job, 1, true) && mc_job_mark_stored (job, 3, false));
    assert (!mc_job_mark_stored (job, 1, true) && !mc_job_mark_stored (job, 4, true));
    assert (mc_job_unmade (job) == 2 && mc_job_info (job)->done == 3 && mc_job_info (job)->failed == 1);
    //  Task 2 had killed engines 4 and 5 and been retried once; stored
    //  task 1's counts are of no use.
    assert (mc_job_resume_counts (job, 2, 1, (int32_t []) { 4, 5 }, 2) == 0);
    assert (mc_job_resume_counts (job, 1, 3, (int32_t []) { 6 }, 1) == 0);
    mc_task_t *a = mc_job_make_task (job), *b = mc_job_make_task (job);
    assert (a && b && a->number == 0 && b->number == 2 && b->first == 6 && !mc_job_make_task (job));
    assert (a->deaths == 0 && a->retries == 0 && b->deaths == 2 && b->retries == 1);
    char text [128];
    assert (mc_job_poison_text (job, b, text, sizeof text) == 5 && strstr (text, "(engines 4, 5)"));
    mc_job_task_finished (job, a, true, 10);
    assert (!mc_job_is_finished (job));
    mc_job_task_finished (job, b, true, 10);
    assert (mc_job_is_finished (job) && mc_job_info (job)->done == 9 && mc_job_info (job)->failed == 1);
    mc_job_destroy (&job);

    //  A direct job makes its tasks at plan, and marks them stored in place.
    job = mc_job_new_json (2, "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[0,1]}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, (int32_t []) { 0, 1 }, 2) == 0 && !mc_job_rest (job) && !mc_job_make_task (job));
    assert (mc_job_mark_stored (job, 1, true) && !mc_job_mark_stored (job, 1, true));
    assert (mc_job_task (job, 1)->state == MC_TASK_DONE && mc_job_task (job, 0)->state == MC_TASK_WAITING);
    //  ... and takes its counts at once.
    assert (mc_job_resume_counts (job, 0, 2, NULL, 0) == 0 && mc_job_task (job, 0)->retries == 2);
    mc_job_destroy (&job);
}

void
mc_job_test (bool verbose)
{
    if (verbose)
        printf (" * mc_job: ");
    s_test_items ();
    s_test_lazy ();
    s_test_deaths ();
    s_test_streams ();
    s_test_transient ();
    if (verbose)
        printf ("OK\n");
}
