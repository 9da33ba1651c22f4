/*  mccluster.h: libmcclient, the C client of an mccluster controller.

    A client reads the connection file of a profile, connects to the
    controller's client endpoint and sends requests (see proto/mc_proto.md,
    section 6). Values go in and come out as jansson JSON values.

        char err [256];
        mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
        json_t *spec = json_pack ("{s:s, s:s, s:{s:[iii]}}", "kind", "map",
                                  "kernel", "square", "seq", "range", 0, 100, 1);
        json_t *result = mc_client_submit (client, spec, true);   //  waits
        ... json_object_get (result, "results") ...
        json_decref (result); json_decref (spec);
        mc_client_destroy (&client);

    Ownership: every json_t * returned is new (the caller decrefs it);
    json_t * arguments are borrowed. A client is used by one thread. */
#ifndef MCCLUSTER_H
#define MCCLUSTER_H
#include "mc_array.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _mc_client_t mc_client_t;

//  Connect to the controller of profile_dir (NULL: $MCCLUSTER_DIR or
//  ~/.mccluster/default) and check that it answers within timeout_ms
//  (<= 0: 3000). NULL with a one-line message in err when it does not,
//  or when the controller turns the credentials of client.json down (the
//  message names the file and says why).
mc_client_t *mc_client_new (const char *profile_dir, int timeout_ms, char *err, size_t errlen);
void mc_client_destroy (mc_client_t **self_p);

//  Send one request and wait up to timeout_ms for its reply. With
//  timeout_ms < 0 the wait has no deadline of its own, for a reply that
//  comes when a job finishes; but it never outlives the controller: the
//  client pings it after 5 s of silence and gives up when the ping is not
//  answered within the connect timeout (at least 10 s), or is answered by
//  another process (a restarted controller, which lost the request).
//  Returns the reply body, or NULL: then mc_client_errcode and
//  mc_client_error say why (code -1 means no reply in time; 15, DENIED,
//  that the controller refused this client's credentials, for example
//  after its key was revoked: no reply will come).
json_t *mc_client_call (mc_client_t *self, const char *op, const json_t *body, int timeout_ms);
int mc_client_errcode (const mc_client_t *self);
const char *mc_client_error (const mc_client_t *self);
//  How long each wait for a reply polls before it sleeps, in microseconds
//  (default 500, or $MCCLUSTER_SPIN_US; 0: sleep at once). Polling keeps a
//  quick reply quick, above all on virtual machines, where waking a
//  sleeping CPU costs more than a round trip; it costs up to this much CPU
//  time per wait.
void mc_client_set_spin (mc_client_t *self, int spin_us);

//  Typed arrays in replies, for a binding that holds arrays as arrays (the
//  Python package's numpy). With keep, the JSON values of mc_client_call,
//  mc_client_submit, mc_client_status, mc_client_wait and mc_client_result
//  give each typed array as {"$array": K} (K = 0, 1, ... in the reply's
//  order) instead of nested lists. The arrays are kept by the client until
//  its next request; mc_client_take_array hands array K over: its dtype and
//  shape in *array, its data a malloc'd block the caller frees with free()
//  (the bytes are copied once from the message, never element by element).
//  0, or -1 when the last reply has no array K or it was taken.
void mc_client_keep_arrays (mc_client_t *self, bool keep);
int mc_client_take_array (mc_client_t *self, size_t index, mc_array_t *array);

//  Submit a job (spec as in mc_proto.md: kind, kernel, args, kwargs, seq,
//  targets, chunksize, seed, retries, priority: an integer, -1000..1000,
//  higher served first; see mc_client_renice). Without wait, returns {"job": "j12"}; with
//  wait, the result object once the job is done. A seed past 2^63 (JSON
//  integers are signed 64-bit) may be given as a string of its digits.
json_t *mc_client_submit (mc_client_t *self, const json_t *spec, bool wait);
//  Status object of a job.
json_t *mc_client_status (mc_client_t *self, const char *job);
//  Wait up to timeout_ms (< 0: until done) and return the status object.
json_t *mc_client_wait (mc_client_t *self, const char *job, int timeout_ms);
//  Result object of a job; with wait, once it is done.
json_t *mc_client_result (mc_client_t *self, const char *job, bool wait);
//  Abort a job: its queued tasks are cancelled at once, its running ones
//  are told to stop (their engines restart when a kernel ignores that for
//  grace_ms), and it ends as "aborted". {"job", "cancelled", "running",
//  "finished", "grace_ms"} (counts of tasks), answered at once.
json_t *mc_client_abort (mc_client_t *self, const char *job);
//  Change an unfinished job's priority (higher runs first; its tasks still
//  waiting move at once). {"job", "priority", "was"}. Only the job's owner
//  and the cluster's owner may. A job's first priority is the submit
//  spec's "priority" (default 0).
json_t *mc_client_renice (mc_client_t *self, const char *job, int priority);
//  Remove finished jobs and their results from the store: those named in
//  jobs (a JSON array of ids), else every job finished before before_s
//  (Unix seconds) when it is > 0, else every finished job. A job not
//  finished is refused (named jobs) or skipped. {"jobs", "results",
//  "bytes", "skipped"}.
json_t *mc_client_purge (mc_client_t *self, const json_t *jobs, int64_t before_s);
//  Add a library of kernels and targets (a shared object built against
//  <mccluster/mc_kernel.h>, size bytes) as `name` to every engine, now and
//  when engines join later; it replaces a library of that name for tasks
//  that start afterwards. Answered once every engine has loaded it:
//  {"name", "hash", "engines": [id], "added": [kernel and target names]};
//  NULL when an engine refused it (the error names the file and why:
//  another ABI, no mc_plugin, a name that clashes, another machine) or no
//  engine is up. Only the cluster's owner may.
json_t *mc_client_kernels_add (mc_client_t *self, const char *name, const void *bytes, size_t size);
//  Remove a library added so from every engine: {"name", "engines"}.
json_t *mc_client_kernels_remove (mc_client_t *self, const char *name);
//  Compile a library of kernels from C source into out, as `mcclient
//  kernels add FILE.c` does: $CC (default cc) -O2 -fPIC -shared -Wall
//  -Wextra -I<mc_kernel.h's directory> cflags... -o out source -lm, with
//  mc_kernel.h from $MCCLUSTER_INCLUDE, this source tree when libmcclient
//  runs from its build tree, the installed headers or pkg-config. Returns
//  0, or -1 when it does not compile; either way *messages is what the
//  compiler printed (or why it could not run), a malloc'd string the caller
//  frees, or NULL when nothing was printed.
int mc_kernels_compile (const char *source, const char *out, const char *const *cflags, size_t count,
                        char **messages);
//  An "@name" argument: put it in a spec's args or kwargs, and the engine
//  that runs the task passes the value of `name` from its namespace. A spec
//  key "out": "name" stores each task's result there instead of returning it.
json_t *mc_ref (const char *name);

//  --- Engine namespaces (the direct view) ---
//  targets: NULL or "all" for every engine, else a JSON array of engine ids.
//  Values are JSON, or typed arrays (mc_array.h) that travel as raw bytes.
//  A value larger than the controller's max_value_bytes is refused before
//  anything is sent. Functions returning int give 0, or -1 with the error
//  in mc_client_error (an error of an engine names the engine).

//  Set name = value on every target.
int mc_client_push (mc_client_t *self, const char *name, const json_t *value, const json_t *targets);
int mc_client_push_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets);
//  Split a JSON array (or an array along its first axis) into one part per
//  target, as ipyparallel does: contiguous blocks, the first parts one item
//  longer, or with round_robin items dealt in turn; then set name = part.
int mc_client_scatter (mc_client_t *self, const char *name, const json_t *seq, const json_t *targets,
                       bool round_robin);
int mc_client_scatter_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets,
                             bool round_robin);
//  Per target, in target order: the value of the one name, or the list of
//  the values of several names. Arrays become nested lists.
json_t *mc_client_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets);
//  The parts of name on the targets joined back into one list (undoing
//  scatter with the same round_robin).
json_t *mc_client_gather (mc_client_t *self, const char *name, const json_t *targets, bool round_robin);
//  The same when every part is an array of one dtype and row shape: the
//  joined array, whose data the caller frees with free().
int mc_client_gather_array (mc_client_t *self, const char *name, const json_t *targets, bool round_robin,
                            mc_array_t *array);
//  Remove names from the targets (each must exist on each target).
int mc_client_delete (mc_client_t *self, const char *const *names, size_t count, const json_t *targets);
//  Per target: {"id": engine, "names": {name: {"type", "size", "bytes"[, "shape"]}}}.
json_t *mc_client_names (mc_client_t *self, const json_t *targets);
//  The controller's max_value_bytes.
int64_t mc_client_max_value_bytes (const mc_client_t *self);

#ifdef __cplusplus
}
#endif
#endif
