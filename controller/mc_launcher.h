/*  mc_launcher: the engines a controller starts itself, as allocations.
    An allocation is one request for N engines of one kind: local
    processes, one Slurm job, one PBS array job, one ssh session per host,
    one mpiexec. The launcher runs the kinds' child processes (engines,
    sessions, sbatch/squeue/scancel...) and reaps them, asks batch systems
    how their jobs are doing, restarts local engines that die (within a
    limit per minute), and on stop cancels every batch job and ends every
    child, so that nothing is left queued or running. Each allocation made
    or changed is told to the controller, which stores it: a controller
    started after a crash takes up the batch jobs of the one that died
    (mc_launcher_adopt) and ends the others. The kinds live in
    mc_launch_<kind>.c behind the table in mc_launch.h. */
#ifndef MC_LAUNCHER_H
#define MC_LAUNCHER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

typedef struct _mc_launcher_t mc_launcher_t;

typedef enum {
    MC_ALLOC_SUBMITTING,            //  its submit command runs
    MC_ALLOC_PENDING,               //  queued by the batch system
    MC_ALLOC_RUNNING,               //  its engines run (or start)
    MC_ALLOC_ENDED,                 //  over: its engines stopped, or its job ended (time limit, scancel)
    MC_ALLOC_FAILED,                //  could not be submitted or started, or failed
    MC_ALLOC_CANCELLED              //  stopped by us (engines stop, shutdown)
} mc_alloc_state_t;

//  What every engine of a launcher runs, and how it is told where to go.
typedef struct {
    const char *engine_bin;         //  mcengine (local path; remote kinds may override with engine_bin=)
    const char *engine_file;        //  the profile's engine.json, for local engines
    const char *credential;         //  that file without its ipc endpoint, in base64: remote engines' $MCCLUSTER_ENGINE
    const char *profile_dir;        //  where job scripts are written
    const char *const *engine_args; //  more arguments for every engine (NULL-terminated, may be NULL)
    int64_t restarts_per_min;       //  dead local engines restarted in any minute (0: none)
    int64_t poll_ms;                //  how often batch systems are asked about their jobs
    const char *config_opts;        //  "KEY=VALUE\n" lines of the config file (launcher.KEY), may be NULL
} mc_launcher_setup_t;

//  An allocation as it is kept across a controller's restarts (the store,
//  mc_proto.md §8): every field borrowed.
typedef struct {
    uint32_t id;                    //  its tag is "a<id>"
    const char *kind;
    size_t engines;                 //  requested
    const char *job;                //  the batch job id (mpi: mpiexec's pid), "" before it has one
    mc_alloc_state_t state;
    const char *reason;
    const char *const *opts;        //  its options, "KEY=VALUE", NULL-terminated
} mc_alloc_info_t;

//  Told when an engine process the launcher started itself exits (its
//  allocation's id, pid and waitpid status), and when an allocation ends
//  with engines that may still be registered (their tasks must be requeued),
//  or loses a host (host not NULL: only the engines there are gone); and,
//  at the end of any call of the launcher's that made or changed
//  allocations, once for each of them (alloc_changed, to store it).
typedef struct {
    void (*engine_exited) (void *arg, uint32_t alloc, int64_t pid, int status);
    void (*alloc_ended) (void *arg, uint32_t alloc, const char *host, const char *why);
    void *arg;
    void (*alloc_changed) (void *arg, const mc_alloc_info_t *info);
} mc_launcher_events_t;

//  setup is copied. NULL when out of memory.
mc_launcher_t *mc_launcher_new (const mc_launcher_setup_t *setup, const mc_launcher_events_t *events);
void mc_launcher_destroy (mc_launcher_t **self_p);
//  Whether kind names a launcher kind (local, slurm, pbs, ssh, mpi).
bool mc_launcher_kind_known (const char *kind);
//  Whether some kind takes this option key.
bool mc_launcher_takes (const char *key);
//  One line per kind, for --help.
void mc_launcher_kinds_help (FILE *out);
//  Start n engines of kind with options (NULL-terminated "KEY=VALUE", may
//  be NULL; a key the kind does not know is an error), then the config
//  file's options that the kind takes and opts do not give. The allocation's
//  id (its engines register with launch tag "a<id>"), or -1 with err.
int64_t mc_launcher_add (mc_launcher_t *self, const char *kind, size_t n, const char *const *opts,
                         char *err, size_t errlen);
//  Take up an allocation that an earlier controller of the profile made
//  and that was not over when it died (from the store), before any other
//  is added; ids must grow, and the next allocation's id follows. A batch
//  job (slurm, pbs) with its id keeps its state, is polled as usual and
//  is cancelled by stop_alloc and stop like any other; one whose job id
//  never came back is failed. Any other kind's processes were the dead
//  controller's children: it is ended, with the kind's reason. Events are
//  told of the change (alloc_changed), not of its engines. 0, or -1 with
//  err (an unknown kind, an id out of order, no memory).
int mc_launcher_adopt (mc_launcher_t *self, const mc_alloc_info_t *info, char *err, size_t errlen);
//  Engines of the allocations of kind taken up live from the store that
//  have ended or failed since (their job over at its first poll), not
//  counting those stopped on purpose (cancelled).
size_t mc_launcher_adopted_lost (const mc_launcher_t *self, const char *kind);
//  Let the next allocation's id be at least next_id (ids are never given
//  twice in a profile, also past allocations the store has forgotten).
void mc_launcher_set_next_id (mc_launcher_t *self, uint32_t next_id);
//  Reap children that have exited and read what they wrote, without
//  blocking; tell events. Call on SIGCHLD and on every tick.
void mc_launcher_reap (mc_launcher_t *self);
//  Ask batch systems about their jobs, when poll_ms has passed.
void mc_launcher_tick (mc_launcher_t *self, int64_t now_us);
//  Stop an allocation: cancel its batch job, end its children. 0, or -1
//  when there is no such allocation, or it is over already.
int mc_launcher_stop_alloc (mc_launcher_t *self, uint32_t alloc);
//  One engine of the allocation tagged tag was stopped on purpose: it asks
//  for one engine less (so that it is not shown as missing, nor restarted).
void mc_launcher_release (mc_launcher_t *self, const char *tag);
//  The allocation whose batch job id (or "a<id>") is job, or -1.
int64_t mc_launcher_find_job (const mc_launcher_t *self, const char *job);
//  Stop everything: wait up to grace_ms for children to exit by
//  themselves (engines told to stop), cancel every batch job, then
//  SIGTERM and SIGKILL what remains. Allocations end cancelled, except a
//  batch one whose job could not be cancelled (no job id yet, scancel or
//  qdel failed) or that leave_adopted keeps: it stays live in the store
//  for the next controller, and a warning says so.
void mc_launcher_stop (mc_launcher_t *self, int grace_ms);
//  A start failed after allocations were taken up from the store: stop
//  leaves them as they are (their jobs not cancelled, their stored state
//  unchanged), and ends only this controller's own children and jobs.
void mc_launcher_leave_adopted (mc_launcher_t *self);
//  Start one local engine in place of one of alloc that died, within the
//  restart limit (the first refusal is logged, and every one after it).
//  The new process's pid, or -1.
int64_t mc_launcher_restart (mc_launcher_t *self, uint32_t alloc, int64_t now_us);
//  Engines requested from allocations that are not over.
size_t mc_launcher_requested (const mc_launcher_t *self);
//  What the live allocations are waiting for, for people: "a2 slurm job
//  17 pending (Slurm: PENDING, Resources); a3 pbs submitting", or "" when
//  every live allocation runs.
void mc_launcher_waiting (const mc_launcher_t *self, char *buf, size_t len);
//  Child processes running (engines, sessions, commands).
size_t mc_launcher_children (const mc_launcher_t *self);
//  Pack the allocations as a msgpack array of { "id": "a3", "kind",
//  "engines" (requested), "job" (the batch job id, "" before it has one),
//  "state", "reason", "hosts" }; registered(arg, "a3") counts the engines
//  registered under a tag.
void mc_launcher_pack (const mc_launcher_t *self, msgpack_packer *pk,
                       size_t (*registered) (void *arg, const char *tag), void *arg);
//  The state's name: "submitting", "pending", "running", "ended", "failed", "cancelled".
const char *mc_alloc_state_name (mc_alloc_state_t state);
//  The state of that name into *state: 0, or -1 when it names none.
int mc_alloc_state_parse (const char *name, mc_alloc_state_t *state);
//  Find mcengine beside the running program, else rely on PATH.
void mc_launcher_default_bin (char *buf, size_t len);
//  Self test: options, templates, local engines (of /bin/true), restarts
//  within their limit, stop.
void mc_launcher_test (bool verbose);
#endif
