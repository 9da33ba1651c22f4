/*  mc_launch: what each kind of launcher does, behind one table, and the
    calls on an allocation that the kinds use. A kind turns "start N
    engines" into child processes (the engines themselves, an ssh session
    per host, one mpiexec, one sbatch or qsub), reads what they say when
    they exit, asks its batch system how the job is doing, and cancels it.
    mc_launcher owns the allocations and the children. */
#ifndef MC_LAUNCH_H
#define MC_LAUNCH_H
#include "mc_launcher.h"

typedef struct _mc_alloc_t mc_alloc_t;

//  What a child process is for, so that its kind knows what its exit means.
typedef enum {
    MC_CHILD_ENGINE,                //  an engine (local)
    MC_CHILD_SESSION,               //  a process whose life is the engines' (ssh, mpiexec)
    MC_CHILD_SUBMIT,                //  sbatch, qsub: prints the job id
    MC_CHILD_POLL,                  //  squeue, qstat: prints the job's state
    MC_CHILD_CANCEL                 //  scancel, qdel
} mc_child_role_t;

typedef struct {
    const char *name;
    const char *help;               //  one line for --help
    const char *const *keys;        //  the --launcher-opt keys it takes (NULL-terminated)
    //  Start the allocation's engines by spawning children. 0, or -1 with err.
    int (*start) (mc_alloc_t *alloc, char *err, size_t errlen);
    //  A child of the allocation exited with this waitpid status, having
    //  written out (its standard output and error, NUL-terminated; "" when
    //  not kept); label is its spawn's (a host), or "".
    void (*exited) (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out);
    //  Ask the batch system about the job (spawn a MC_CHILD_POLL), or NULL.
    void (*poll) (mc_alloc_t *alloc);
    //  Cancel the batch job (spawn a MC_CHILD_CANCEL, or run it and wait
    //  when wait is true: at shutdown), or NULL when ending the children is
    //  enough. 0 when the command was started (wait false) or the batch
    //  system cancelled the job or had ended it (wait true); -1 otherwise
    //  (no job id, the command failed), with a warning.
    int (*cancel) (mc_alloc_t *alloc, bool wait);
    //  Called at each housekeeping tick while the allocation is not over
    //  (local: start the next batch of engines), or NULL.
    void (*tick) (mc_alloc_t *alloc);
    //  Why an allocation of this kind is over when its controller died,
    //  for a kind whose processes were its children (shown as its reason
    //  by the next controller: mc_launcher_adopt); NULL for batch kinds,
    //  which the next controller takes up.
    const char *orphaned;
    //  For a batch kind: look for the job of an allocation whose controller
    //  died while it was submitted (its job id never came back), and set
    //  it (mc_alloc_set_job) when it is found without a doubt. May run a
    //  command and wait for it. 0 when the batch system answered (found or
    //  not), -1 when it could not be asked. NULL: the kind cannot.
    int (*find) (mc_alloc_t *alloc);
} mc_launch_kind_t;

extern const mc_launch_kind_t mc_launch_local, mc_launch_slurm, mc_launch_ssh, mc_launch_mpi, mc_launch_pbs;
//  Self tests of the kinds' parsing (hosts lists, mpiexec --version, qsub and qstat).
void mc_launch_mpi_test (bool verbose);
void mc_launch_pbs_test (bool verbose);
//  Start one local engine of alloc (also in place of one that died): its
//  pid, or -1 with err.
int64_t mc_launch_local_spawn (mc_alloc_t *alloc, char *err, size_t errlen);

//  --- For the kinds ---

//  How to run a child: argv (argv [0] looked up in PATH), text for its
//  standard input (NULL: /dev/null), whether its output is kept, and
//  whether it gets the remote engines' environment ($MCCLUSTER_ENGINE
//  with the credential, $MCCLUSTER_LAUNCH with the allocation's tag).
typedef struct {
    const char *const *argv;
    const char *input;
    bool capture;
    bool engine_env;
    bool lifeline;                  //  keep its standard input open while it lives (closed to stop it)
    const char *label;              //  what exited is told (a host); may be NULL
    const char *cwd;                //  its working directory (NULL: the controller's)
    const char *const *env;         //  more "NAME=VALUE" (NULL-terminated, may be NULL)
} mc_spawn_t;

//  Start a child for the allocation. Its pid, or -1 with err.
int64_t mc_alloc_spawn (mc_alloc_t *alloc, mc_child_role_t role, const mc_spawn_t *spawn, char *err, size_t errlen);
//  Run a command for the allocation in the background (a poll or a
//  cancel: its output kept for the kind's exited), warning when it cannot.
void mc_alloc_command (mc_alloc_t *alloc, mc_child_role_t role, const char *const *argv);
//  Run a child and wait for it up to timeout_ms (then kill it): its exit
//  status (or -1), with its output in out.
int mc_alloc_run (mc_alloc_t *alloc, const mc_spawn_t *spawn, int timeout_ms, char *out, size_t outlen);
//  The allocation's option key (from --launcher-opt), or NULL.
const char *mc_alloc_opt (const mc_alloc_t *alloc, const char *key);
size_t mc_alloc_engines (const mc_alloc_t *alloc);
//  How many of its engines the kind has started so far (its own count).
size_t mc_alloc_started (const mc_alloc_t *alloc);
void mc_alloc_set_started (mc_alloc_t *alloc, size_t started);
//  Its tag, "a<id>", which its engines carry in $MCCLUSTER_LAUNCH.
const char *mc_alloc_tag (const mc_alloc_t *alloc);
const mc_launcher_setup_t *mc_alloc_setup (const mc_alloc_t *alloc);
mc_alloc_state_t mc_alloc_state (const mc_alloc_t *alloc);
const char *mc_alloc_job (const mc_alloc_t *alloc);
//  The engines it stands for, when its kind counts them itself (ssh hosts).
void mc_alloc_set_engines (mc_alloc_t *alloc, size_t engines);
//  Its children of this role still running.
size_t mc_alloc_children (const mc_alloc_t *alloc, mc_child_role_t role);
//  The engines of alloc on host (NULL: all its engines) are gone, or going
//  (an ssh session ended): the controller forgets them at once.
void mc_alloc_lost (mc_alloc_t *alloc, const char *host, const char *why);
//  Set the batch job id (or the pid, or the host) that names it to users.
void mc_alloc_set_job (mc_alloc_t *alloc, const char *job);
//  Move to state, with a reason users see (NULL: none). Moving to ENDED
//  or FAILED from a live state tells events that its engines are gone.
void mc_alloc_set_state (mc_alloc_t *alloc, mc_alloc_state_t state, const char *reason);
//  The engine command line (engine_bin= option or the setup's, then the
//  setup's engine arguments, then extra), quoted for a shell, into buf.
void mc_alloc_engine_cmd (const mc_alloc_t *alloc, const char *extra, char *buf, size_t len);
//  Fill a job script template: {name} for each name of vars (pairs, NULL
//  terminated) is replaced by its value; other braces stay. NULL when out
//  of memory (freed by the caller).
char *mc_alloc_fill (const char *template_text, const char *const *vars);
//  The template of --launcher-opt template=FILE, or the kind's built-in
//  one (deploy/<kind>.*). NULL with err when the file cannot be read.
char *mc_alloc_template (const mc_alloc_t *alloc, const char *builtin, char *err, size_t errlen);
//  A batch kind's option that becomes a line of its job script: the
//  option's value follows flag ("--partition=", "-l walltime=").
typedef struct {
    const char *key, *flag;
} mc_directive_t;
//  A batch job script: the template (template= or builtin) with {n},
//  {job_name} ("mccluster-aK"), {directives} (a "PREFIX FLAGVALUE" line per
//  option of table that is given) and {engine_cmd} filled in. malloc'ed,
//  or NULL with err (a value of more than one line, a template that cannot
//  be read, no memory).
char *mc_alloc_script (mc_alloc_t *alloc, const char *builtin, const char *prefix, const mc_directive_t *table,
                       size_t count, char *err, size_t errlen);
//  Log a child's exit status as text into buf ("exit 1", "signal 9").
void mc_alloc_status_text (int status, char *buf, size_t len);
#endif
