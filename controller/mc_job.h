/*  mc_job: one submission (a map or an apply) and its tasks.
    A job owns a copy of the submit body it came from; its tasks and their
    items are derived from that body, so the body alone can rebuild a job.
    A direct job's tasks (one per target) are made at once. A load-balanced
    job's are made one at a time as engines take them (mc_job_make_task)
    and given back when they finish, so the controller holds the tasks in
    flight or queued again, never a whole 5-million-task map. */
#ifndef MC_JOB_H
#define MC_JOB_H
#include "mc_job_info.h"
#include "mc_proto.h"
#include "mc_submit.h"
#include "mc_value.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_job_t mc_job_t;
typedef struct mc_task mc_task_t;

//  MC_TASK_UNMADE marks a job's mc_job_rest, never a task that runs.
typedef enum { MC_TASK_WAITING = 0, MC_TASK_RUNNING, MC_TASK_DONE, MC_TASK_FAILED, MC_TASK_UNMADE } mc_task_state_t;

//  The engines a load-balanced task failed on (its kernel failed, or the
//  engine died running it alone), oldest first: the last MC_TASK_FAILS of
//  them. Rare, so apart from the task, which points to it only once it
//  has failed (mc_proto.md §5, "Retries": a retry goes elsewhere).
#define MC_TASK_FAILS 16
typedef struct {
    uint32_t count;                 //  ids held (at most MC_TASK_FAILS)
    int32_t engine [MC_TASK_FAILS];
} mc_task_fails_t;

struct mc_task {
    mc_job_t *job;              //  the job this task belongs to (borrowed)
    uint64_t first;             //  job-wide index of its first item
    uint32_t number;            //  task number within its job
    uint32_t count;             //  items in this task; 0 for an apply
    int32_t target;             //  engine id of a direct task, -1 when load-balanced
    int32_t engine;             //  engine running it, -1 when none
    mc_task_state_t state;
    uint16_t deaths;            //  engines that died running it alone (load-balanced: retried below max_task_deaths)
    uint8_t retries;            //  times it was queued again after the kernel failed (below the job's `retries`)
    bool suspect;               //  in flight when an engine holding several tasks died: runs alone from now on
    mc_task_fails_t *fails;     //  where it failed (owned), or NULL: none yet, the common case
    mc_task_t *prev, *next;     //  links in the running engine's in-flight list
};


//  Parse and validate a submit body (see mc_proto.md). Returns a new job,
//  or NULL with *code (MC_E_...) and a one-line err naming the bad field.
mc_job_t *mc_job_new (uint64_t id, const void *body, size_t size, uint64_t seed_if_absent,
                      int *code, char *err, size_t errlen);
void mc_job_destroy (mc_job_t **self_p);
//  The targets field: NULL for load-balanced, else "all" or an array of ids.
const msgpack_object *mc_job_targets (const mc_job_t *self);
//  Split the job into tasks: load-balanced when ntargets is 0 (made later,
//  by mc_job_make_task, unless the job is transient), else one block per
//  target (map) or one task per target (apply), made now. 0 or -1.
int mc_job_plan (mc_job_t *self, const int32_t *targets, size_t ntargets);
//  Make the next task of a load-balanced job, in task number order,
//  skipping those marked stored (borrowed: the job frees it once it has
//  finished). NULL when every task is made, for a direct job, or when out
//  of memory (then mc_job_unmade is unchanged).
mc_task_t *mc_job_make_task (mc_job_t *self);
//  Tasks not made yet (nor marked stored).
uint64_t mc_job_unmade (const mc_job_t *self);
//  What stands in a queue for the tasks not made yet (state
//  MC_TASK_UNMADE, job set; borrowed), or NULL for a job that makes its
//  tasks at once.
mc_task_t *mc_job_rest (mc_job_t *self);
//  Resume: task `number` has a result in the store (ok or failed): count
//  it finished, and never make or run it. True when it was counted; false
//  when out of range, finished already, or out of memory (then it runs again).
bool mc_job_mark_stored (mc_job_t *self, uint64_t number, bool ok);
//  Resume: task `number` had killed these engines (their ids, in order)
//  and been retried `retries` times before the restart (§5, "Retries"): a
//  direct task takes the counts now, a load-balanced one when it is made
//  (call before any is made, after mc_job_mark_stored; a stored task's are
//  ignored). 0, or -1 when out of memory (then some are not counted).
int mc_job_resume_counts (mc_job_t *self, uint64_t number, uint32_t retries, const int32_t *engines, size_t count);
//  Tasks finished, and tasks running now (O(tasks made and not finished)).
void mc_job_count_tasks (mc_job_t *self, uint64_t *finished, uint64_t *running);
//  Hold the job to the submit limits of config before it is planned (see
//  mc_submit_check_limits): 0, or -1 with *code and err set.
int mc_job_check_limits (const mc_job_t *self, size_t ntargets, uint64_t frame_bytes, const mc_config_t *config,
                         uint64_t *ntasks, int *code, char *err, size_t errlen);
//  Pack the items of a task as a msgpack array of task->count values.
//  0, or -1 when the packer could not take them (out of memory).
int mc_job_pack_items (const mc_job_t *self, const mc_task_t *task, msgpack_packer *pk);
//  Pack args, kwargs and items of a task of a job with array frames: their
//  array references are renumbered to index `frames`, to which the job's
//  frames they refer to are appended (borrowed). 0 or -1 (no memory).
int mc_job_pack_task (const mc_job_t *self, const mc_task_t *task, msgpack_packer *args, msgpack_packer *kwargs,
                      msgpack_packer *items, zlist_t *frames);

//  --- Transient jobs (namespace operations, arrays): never stored; their
//  results are kept (in the job's mc_transient) until the submitter is
//  answered. ---
bool mc_job_transient (const mc_job_t *self);
//  The job takes the request message that holds its array frames; frames
//  (borrowed from it) are what the body's array references index. 0, or
//  -1 when out of memory (then nothing is taken: refuse the job).
int mc_job_hold_frames (mc_job_t *self, zmsg_t **held_p, zframe_t *const *frames, size_t count);
size_t mc_job_frame_count (const mc_job_t *self);
//  Keep a task's RESULT message (header then array frames; taken either
//  way). 0, or -1 when out of memory: the message is dropped, and the task
//  reads as one without result (mc_job_result gives NULL).
int mc_job_keep_result (mc_job_t *self, const mc_task_t *task, zmsg_t **result_p);
//  A streamed %pull (one task): its arrays' chunks are relayed to the
//  submitter as they come, and only counted here.
bool mc_job_streams (const mc_job_t *self);
//  Count a RESULT_CHUNK as relayed: 0, or -1 (and nothing more is relayed)
//  when it is not the next chunk in order.
int mc_job_stream_chunk (mc_job_t *self, const mc_msg_t *chunk);
//  Stop relaying: the task will fail with this code (MC_E_...).
void mc_job_stream_fail (mc_job_t *self, int code);
//  MC_OK when the result's streamed frames are exactly the bytes relayed
//  (none for a job that does not stream), else the code to fail it with.
int mc_job_stream_check (const mc_job_t *self, const mc_msg_t *result);
//  A task's kept RESULT message (borrowed), or NULL.
zmsg_t *mc_job_result (const mc_job_t *self, uint64_t number);
//  Bytes of array frames the job holds (request and kept results).
size_t mc_job_held_bytes (const mc_job_t *self);
//  What engines do to each result before sending it (msgpack map, e.g.
//  {"op": "hist2d", ...}), or NULL with *size 0.
const void *mc_job_engine_reduce (const mc_job_t *self, size_t *size);
//  True when a submit body asks for a reduction ("reduce" is present);
//  false also when there is no memory to read it.
bool mc_job_body_reduces (const void *body, size_t size);
//  The namespace name results are stored under on the engines, or "".
const char *mc_job_out (const mc_job_t *self);
//  Record a finished task: counts its items as done or failed, and folds
//  its run time into the job's mean task time. A made task stays readable
//  until the job makes another one, then is reused (mc_job_task no longer
//  finds it).
void mc_job_task_finished (mc_job_t *self, mc_task_t *task, bool ok, int64_t run_us);
bool mc_job_is_finished (const mc_job_t *self);
//  The engine with this id died while running the task: count the death
//  (task->deaths) and remember the engine, for the task's error and in
//  task->fails (mc_job_task_failed_on). 0, or -1 when out of memory
//  (counted, the engine not remembered).
//  cause says how it died ("SIGSEGV"; NULL or "": not known).
int mc_job_task_died (mc_job_t *self, mc_task_t *task, int32_t engine, const char *cause);
//  The load-balanced task failed on the engine with this id (its kernel
//  failed, or the engine died running it): remember the id in
//  task->fails, for the scheduler to send it elsewhere. Freed when the
//  task finishes. 0, or -1 when out of memory (then not remembered).
int mc_job_task_failed_on (mc_job_t *self, mc_task_t *task, int32_t engine);
//  The error of a task that has killed task->deaths engines, naming the
//  kernel, its items, the engines and how they died when known, into text
//  (always terminated): "task 7 (items 7..7) of kernel 'crash' killed 3
//  engines (engines 0, 1, 0; SIGKILL): not retried".
//  Returns the id of the last engine it killed, or -1.
int64_t mc_job_poison_text (const mc_job_t *self, const mc_task_t *task, char *text, size_t len);
//  Times a task whose kernel failed may be run again (the submit's `retries`).
uint32_t mc_job_retries (const mc_job_t *self);

mc_job_info_t *mc_job_info (mc_job_t *self);
//  The task with this number: NULL when out of range, and for a
//  load-balanced job when it is not made yet or has finished.
mc_task_t *mc_job_task (mc_job_t *self, uint64_t number);
//  Submit body, msgpack bytes of args (array) and kwargs (map): borrowed.
const void *mc_job_body (const mc_job_t *self, size_t *size);
const void *mc_job_args (const mc_job_t *self, size_t *size);
const void *mc_job_kwargs (const mc_job_t *self, size_t *size);
//  Mean run time of this job's tasks in microseconds; 0 while unknown.
double mc_job_mean_task_us (const mc_job_t *self);

//  For selftests: a job from the JSON text of a submit body (mc_job_new
//  with seed 7 when the body has none).
mc_job_t *mc_job_new_json (uint64_t id, const char *json, int *code, char *err, size_t errlen);
//  Self test: submit bodies refused and accepted, ranges, chunks, streams,
//  tasks made in order and reused, stored tasks skipped.
void mc_job_test (bool verbose);

#endif
