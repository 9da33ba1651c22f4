/*  mc_launcher: allocations and the child processes that serve them. */
#include "mc_launch.h"
#include "mc_log.h"
#include "mc_time.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_MAX_OPTS  32
#define S_OUT_MAX   65536               //  what is kept of a child's output

static const mc_launch_kind_t *s_kinds [] = { &mc_launch_local, &mc_launch_slurm, &mc_launch_pbs, &mc_launch_ssh, &mc_launch_mpi };
#define S_KINDS (sizeof s_kinds / sizeof s_kinds [0])

struct _mc_alloc_t {
    mc_launcher_t *launcher;
    uint32_t id;
    char tag [16];
    const mc_launch_kind_t *kind;
    size_t engines;
    size_t started;                 //  the kind's count of engines started (local: batch by batch)
    char *opts [S_MAX_OPTS + 1];        //  "KEY=VALUE", NULL-terminated
    char job [64];
    mc_alloc_state_t state;
    char reason [256];
    bool changed;                   //  since the events were last told (mc_launcher_events_t.alloc_changed)
    bool adopted;                   //  taken up live from the store (mc_launcher_adopt)
    bool left;                      //  left live at stop, for the next controller: its children's exits not heard
};

typedef struct {
    pid_t pid;
    mc_alloc_t *alloc;
    mc_child_role_t role;
    int out_fd;                         //  -1 when its output is not kept
    int in_fd;                          //  its lifeline (standard input), or -1
    char label [64];
    char *out;
    size_t out_len;
} s_child_t;

struct _mc_launcher_t {
    mc_launcher_setup_t setup;
    char **engine_args;
    mc_launcher_events_t events;
    mc_alloc_t **allocs;                //  in the order of their ids (from 1; those taken up first)
    size_t alloc_count;
    uint32_t next_id;                   //  the next allocation's
    bool changed;                       //  some allocation changed since the events were told
    s_child_t *children;
    size_t child_count, child_capacity;
    int64_t next_poll_us;
    int64_t *restarts_us;               //  monotonic times of the last restarts, a ring of restart_limit
    size_t restart_limit, restart_next;
    bool restarts_stopped;              //  the limit was passed: no more restarts
    bool leave_adopted;                 //  a start failed: stop leaves the allocations taken up as they are
};

static bool
s_over (mc_alloc_state_t state)
{
    return state >= MC_ALLOC_ENDED;
}

static char *
s_strdup (const char *text)
{
    return text? strdup (text): NULL;
}

mc_launcher_t *
mc_launcher_new (const mc_launcher_setup_t *setup, const mc_launcher_events_t *events)
{
    mc_launcher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->setup = *setup;
    if (events)
        self->events = *events;
    size_t n = 0;
    while (setup->engine_args && setup->engine_args [n])
        n++;
    self->engine_args = calloc (n + 1, sizeof *self->engine_args);
    self->setup.engine_bin = s_strdup (setup->engine_bin);
    self->setup.engine_file = s_strdup (setup->engine_file);
    self->setup.credential = s_strdup (setup->credential);
    self->setup.profile_dir = s_strdup (setup->profile_dir? setup->profile_dir: ".");
    self->setup.config_opts = s_strdup (setup->config_opts? setup->config_opts: "");
    bool ok = self->engine_args && self->setup.engine_bin && self->setup.profile_dir && self->setup.config_opts
           && (!setup->engine_file || self->setup.engine_file) && (!setup->credential || self->setup.credential);
    for (size_t i = 0; ok && i < n; i++)
        ok = (self->engine_args [i] = strdup (setup->engine_args [i])) != NULL;
    self->setup.engine_args = (const char *const *) self->engine_args;
    if (self->setup.poll_ms <= 0)
        self->setup.poll_ms = 5000;
    self->next_id = 1;
    size_t limit = setup->restarts_per_min <= 0? 0: setup->restarts_per_min > 100000? 100000: (size_t) setup->restarts_per_min;
    if (ok && limit) {
        self->restarts_us = calloc (limit, sizeof *self->restarts_us);
        self->restart_limit = limit;
        ok = self->restarts_us != NULL;
    }
    if (!ok)
        mc_launcher_destroy (&self);
    return self;
}

static void
s_alloc_destroy (mc_alloc_t *alloc)
{
    for (char **opt = alloc->opts; *opt; opt++)
        free (*opt);
    free (alloc);
}

void
mc_launcher_destroy (mc_launcher_t **self_p)
{
    mc_launcher_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->child_count; i++) {
        if (self->children [i].out_fd >= 0)
            close (self->children [i].out_fd);
        if (self->children [i].in_fd >= 0)
            close (self->children [i].in_fd);
        free (self->children [i].out);
    }
    free (self->children);
    for (size_t i = 0; i < self->alloc_count; i++)
        s_alloc_destroy (self->allocs [i]);
    free (self->allocs);
    for (char **arg = self->engine_args; arg && *arg; arg++)
        free (*arg);
    free (self->engine_args);
    free ((char *) self->setup.engine_bin);
    free ((char *) self->setup.engine_file);
    free ((char *) self->setup.credential);
    free ((char *) self->setup.profile_dir);
    free ((char *) self->setup.config_opts);
    free (self->restarts_us);
    free (self);
    *self_p = NULL;
}

static const mc_launch_kind_t *
s_kind (const char *name)
{
    for (size_t i = 0; i < S_KINDS; i++)
        if (!strcmp (s_kinds [i]->name, name))
            return s_kinds [i];
    return NULL;
}

bool
mc_launcher_kind_known (const char *kind)
{
    return s_kind (kind) != NULL;
}

void
mc_launcher_kinds_help (FILE *out)
{
    for (size_t i = 0; i < S_KINDS; i++) {
        fprintf (out, "  %-6s %s\n         options:", s_kinds [i]->name, s_kinds [i]->help);
        for (const char *const *key = s_kinds [i]->keys; *key; key++)
            fprintf (out, " %s", *key);
        fprintf (out, "%s\n", *s_kinds [i]->keys? "": " none");
    }
}

static bool
s_takes (const mc_launch_kind_t *kind, const char *key)
{
    for (const char *const *k = kind->keys; *k; k++)
        if (!strcmp (*k, key))
            return true;
    return false;
}

bool
mc_launcher_takes (const char *key)
{
    for (size_t i = 0; i < S_KINDS; i++)
        if (s_takes (s_kinds [i], key))
            return true;
    return false;
}

//  0, or -1 with err naming the option that is not KEY=VALUE or not the kind's.
static int
s_check_opt (const mc_launch_kind_t *kind, const char *opt, char *err, size_t errlen)
{
    const char *eq = strchr (opt, '=');
    if (!eq || eq == opt) {
        snprintf (err, errlen, "launcher option '%s' is not KEY=VALUE", opt);
        return -1;
    }
    char key [128];
    snprintf (key, sizeof key, "%.*s", (int) (eq - opt), opt);
    if (s_takes (kind, key))
        return 0;
    snprintf (err, errlen, "launcher '%s' has no option '%.*s' (it takes:", kind->name, (int) (eq - opt), opt);
    for (const char *const *key = kind->keys; *key; key++)
        snprintf (err + strlen (err), errlen - strlen (err), " %s", *key);
    snprintf (err + strlen (err), errlen - strlen (err), "%s)", *kind->keys? "": " none");
    return -1;
}

//  A new allocation with copies of these options, not yet the
//  launcher's; room for it is made in allocs. NULL when out of memory.
static mc_alloc_t *
s_alloc_new (mc_launcher_t *self, const char *const *opts, size_t nopts)
{
    mc_alloc_t **allocs = realloc (self->allocs, (self->alloc_count + 1) * sizeof *allocs);
    mc_alloc_t *alloc = allocs? calloc (1, sizeof *alloc): NULL;
    if (allocs)
        self->allocs = allocs;
    bool ok = alloc != NULL;
    for (size_t i = 0; ok && i < nopts; i++)
        ok = (alloc->opts [i] = strdup (opts [i])) != NULL;
    if (!ok && alloc) {
        s_alloc_destroy (alloc);
        alloc = NULL;
    }
    return alloc;
}

//  Make alloc the launcher's, as allocation id (the highest so far).
static void
s_alloc_add (mc_launcher_t *self, mc_alloc_t *alloc, uint32_t id, const mc_launch_kind_t *kind, size_t engines)
{
    assert (id >= self->next_id);
    alloc->launcher = self;
    alloc->id = id;
    self->next_id = id + 1;
    snprintf (alloc->tag, sizeof alloc->tag, "a%u", alloc->id);
    alloc->kind = kind;
    alloc->engines = engines;
    alloc->state = MC_ALLOC_SUBMITTING;
    alloc->changed = self->changed = true;
    self->allocs [self->alloc_count++] = alloc;
}

//  Tell the events of every allocation that changed (once each, however
//  many times it changed within a call of ours), so that it is stored.
static void
s_tell (mc_launcher_t *self)
{
    if (!self->changed)
        return;
    self->changed = false;
    for (size_t i = 0; i < self->alloc_count; i++) {
        mc_alloc_t *alloc = self->allocs [i];
        if (!alloc->changed)
            continue;
        alloc->changed = false;
        mc_alloc_info_t info = { alloc->id, alloc->kind->name, alloc->engines, alloc->job, alloc->state, alloc->reason,
                                 (const char *const *) alloc->opts };
        if (self->events.alloc_changed)
            self->events.alloc_changed (self->events.arg, &info);
    }
}

//  Mark alloc changed, to be told at the end of the launcher's call.
static void
s_changed (mc_alloc_t *alloc)
{
    alloc->changed = alloc->launcher->changed = true;
}

int64_t
mc_launcher_add (mc_launcher_t *self, const char *kind_name, size_t n, const char *const *opts,
                 char *err, size_t errlen)
{
    const mc_launch_kind_t *kind = s_kind (kind_name);
    if (!kind) {
        snprintf (err, errlen, "unknown launcher '%s' (known: local, slurm, pbs, ssh, mpi)", kind_name);
        return -1;
    }
    size_t nopts = 0;
    for (; opts && opts [nopts]; nopts++)
        if (nopts == S_MAX_OPTS) {
            snprintf (err, errlen, "more than %d launcher options", S_MAX_OPTS);
            return -1;
        }
        else
        if (s_check_opt (kind, opts [nopts], err, errlen))
            return -1;
    mc_alloc_t *alloc = s_alloc_new (self, opts, nopts);
    bool ok = alloc != NULL;
    //  Then the config file's (launcher.KEY = VALUE) that this kind takes
    //  and the request did not give.
    for (const char *line = self->setup.config_opts; ok && line && *line; line = strchr (line, '\n') + 1) {
        char opt [1024];
        snprintf (opt, sizeof opt, "%.*s", (int) (strchr (line, '\n') - line), line);
        *strchr (opt, '=') = 0;
        if (s_takes (kind, opt) && !mc_alloc_opt (alloc, opt) && nopts < S_MAX_OPTS) {
            opt [strlen (opt)] = '=';
            ok = (alloc->opts [nopts++] = strdup (opt)) != NULL;
        }
    }
    if (!ok) {
        if (alloc)
            s_alloc_destroy (alloc);
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    s_alloc_add (self, alloc, self->next_id, kind, n);
    if (kind->start (alloc, err, errlen)) {
        mc_alloc_set_state (alloc, MC_ALLOC_FAILED, err);
        s_tell (self);
        return -1;
    }
    mc_info ("allocation %s: %zu %s engines", alloc->tag, n, kind->name);
    s_tell (self);
    return alloc->id;
}

int
mc_launcher_adopt (mc_launcher_t *self, const mc_alloc_info_t *info, char *err, size_t errlen)
{
    const mc_launch_kind_t *kind = s_kind (info->kind);
    size_t nopts = 0;
    while (info->opts && nopts < S_MAX_OPTS && info->opts [nopts])
        nopts++;
    if (!kind || info->id < self->next_id || info->id == UINT32_MAX) {
        snprintf (err, errlen, "allocation a%u: %s", info->id, kind? "ids must grow": "unknown launcher kind");
        return -1;
    }
    mc_alloc_t *alloc = s_alloc_new (self, info->opts, nopts);
    if (!alloc) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    s_alloc_add (self, alloc, info->id, kind, info->engines);
    snprintf (alloc->job, sizeof alloc->job, "%s", info->job? info->job: "");
    alloc->state = info->state;
    snprintf (alloc->reason, sizeof alloc->reason, "%s", info->reason? info->reason: "");
    bool batch = kind->poll && kind->cancel, unasked = false;
    //  Its controller died while it was submitted: its job may be queued.
    if (batch && !s_over (alloc->state) && !*alloc->job && kind->find) {
        unasked = kind->find (alloc) < 0;
        if (*alloc->job)
            mc_warn ("allocation %s: the controller died while it was submitted: its job %s found", alloc->tag,
                     alloc->job);
    }
    //  No event for the engines: none has registered with this controller yet.
    if (s_over (alloc->state))
        ;
    else
    if (batch && *alloc->job) {
        //  The batch system still knows the job: polled at the next tick
        //  as if submitted here, and cancelled by engines stop or shutdown.
        if (alloc->state == MC_ALLOC_SUBMITTING)
            alloc->state = MC_ALLOC_PENDING;
        snprintf (alloc->reason, sizeof alloc->reason, "taken up after the controller restarted");
        mc_warn ("allocation %s (%s job %s, %zu engines, %s): taken up from the store", alloc->tag, kind->name,
                 alloc->job, alloc->engines, mc_alloc_state_name (alloc->state));
    }
    else
    if (batch && unasked) {
        //  The batch system did not answer (squeue failed): its job may be
        //  queued, so the row stays submitting, to be looked for again at
        //  the next start. Its engines count towards -n meanwhile: too few
        //  engines rather than a second job.
        alloc->state = MC_ALLOC_SUBMITTING;
        snprintf (alloc->reason, sizeof alloc->reason, "the controller died while its job was submitted, and the "
                  "batch system could not be asked for it: looked for again at the next start (or cancel a job "
                  "named mccluster-%s by hand)", alloc->tag);
        mc_warn ("allocation %s (%s): %s", alloc->tag, kind->name, alloc->reason);
    }
    else
    if (batch) {
        alloc->state = MC_ALLOC_FAILED;
        snprintf (alloc->reason, sizeof alloc->reason, "the controller died while its job was submitted: its job id "
                  "never came back (a job named mccluster-%s may be left: cancel it by hand)", alloc->tag);
        mc_error ("allocation %s (%s): %s", alloc->tag, kind->name, alloc->reason);
    }
    else {
        alloc->state = MC_ALLOC_ENDED;
        snprintf (alloc->reason, sizeof alloc->reason, "%s", kind->orphaned? kind->orphaned: "its controller died");
        mc_warn ("allocation %s (%s%s%s, %zu engines): %s", alloc->tag, kind->name, *alloc->job? " ": "", alloc->job,
                 alloc->engines, alloc->reason);
    }
    alloc->adopted = !s_over (alloc->state);
    s_tell (self);
    return 0;
}

size_t
mc_launcher_adopted_lost (const mc_launcher_t *self, const char *kind)
{
    size_t lost = 0;
    for (size_t i = 0; i < self->alloc_count; i++) {
        const mc_alloc_t *alloc = self->allocs [i];
        if (alloc->adopted && !strcmp (alloc->kind->name, kind)
        &&  (alloc->state == MC_ALLOC_ENDED || alloc->state == MC_ALLOC_FAILED))
            lost += alloc->engines;
    }
    return lost;
}

//  The allocation of this id, or NULL (a binary search: ids grow).
static mc_alloc_t *
s_alloc (const mc_launcher_t *self, uint32_t id)
{
    size_t low = 0, high = self->alloc_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (self->allocs [mid]->id == id)
            return self->allocs [mid];
        if (self->allocs [mid]->id < id)
            low = mid + 1;
        else
            high = mid;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Children

//  The child's environment, made before fork (the child of a threaded
//  process may only call async-signal-safe functions: no setenv): the
//  spawn's variables first (its first *owned entries, ours to free), then
//  ours less the names it sets. NULL when out of memory.
static char **
s_environment (const mc_alloc_t *alloc, const mc_spawn_t *spawn, size_t *owned)
{
    extern char **environ;
    const mc_launcher_setup_t *setup = &alloc->launcher->setup;
    size_t ours = 0, extra = 2;
    while (environ [ours])
        ours++;
    for (const char *const *var = spawn->env; var && *var; var++)
        extra++;
    char **env = calloc (ours + extra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    bool ok = true;
    if (spawn->engine_env && setup->credential)
        ok = asprintf (&env [n++], "MCCLUSTER_ENGINE=%s", setup->credential) >= 0;
    if (ok && spawn->engine_env)
        ok = asprintf (&env [n++], "MCCLUSTER_LAUNCH=%s", alloc->tag) >= 0;
    for (const char *const *var = spawn->env; ok && var && *var; var++)
        ok = (env [n++] = strdup (*var)) != NULL;
    *owned = n;
    if (!ok) {
        for (size_t k = 0; k + 1 < n; k++)
            free (env [k]);
        free (env);
        return NULL;
    }
    for (size_t i = 0; i < ours; i++) {
        size_t name = strcspn (environ [i], "=");
        bool overridden = false;
        for (size_t k = 0; k < *owned && !overridden; k++)
            overridden = !strncmp (env [k], environ [i], name) && env [k][name] == '=';
        if (!overridden)
            env [n++] = environ [i];
    }
    return env;
}

static void
s_environment_free (char **env, size_t owned)
{
    for (size_t k = 0; k < owned; k++) {
        explicit_bzero (env [k], strlen (env [k]));     //  the credential
        free (env [k]);
    }
    free (env);
}

//  Pipe, fork, exec: in the child, the signal mask is cleared (the
//  controller blocks SIGCHLD for its signalfd), the environment is env and
//  stdin the spawn's input. Engines and sessions outlive a
//  controller that dies (their --give-up bounds how long), so that a
//  restarted one finds them.
static pid_t
s_fork_exec (mc_alloc_t *alloc, const mc_spawn_t *spawn, int *out_fd, int *in_fd, char *err, size_t errlen)
{
    int status_pipe [2] = { -1, -1 }, out_pipe [2] = { -1, -1 }, in_pipe [2] = { -1, -1 };
    bool piped_in = spawn->input || spawn->lifeline;
    size_t owned = 0;
    char **env = s_environment (alloc, spawn, &owned);
    pid_t pid = -1;
    if (!env)
        snprintf (err, errlen, "out of memory");
    else
    if (pipe2 (status_pipe, O_CLOEXEC)
    ||  (spawn->capture && pipe2 (out_pipe, O_CLOEXEC))
    ||  (piped_in && pipe2 (in_pipe, O_CLOEXEC)))
        snprintf (err, errlen, "pipe: %s", strerror (errno));
    else
    if ((pid = fork ()) < 0)
        snprintf (err, errlen, "fork: %s", strerror (errno));
    else
    if (pid == 0) {
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
        if ((!spawn->cwd || chdir (spawn->cwd) == 0)
        &&  dup2 (piped_in? in_pipe [0]: null, 0) == 0
        &&  (!spawn->capture || (dup2 (out_pipe [1], 1) == 1 && dup2 (out_pipe [1], 2) == 2)))
            execvpe (spawn->argv [0], (char *const *) spawn->argv, env);
        int code = errno;
        if (write (status_pipe [1], &code, sizeof code) < 0)
            _exit (127);
        _exit (127);
    }
    if (env)
        s_environment_free (env, owned);
    //  The parent keeps the read end of the output, the write end of the input.
    int unused [] = { status_pipe [1], out_pipe [1], in_pipe [0] };
    for (size_t i = 0; i < 3; i++)
        if (unused [i] >= 0)
            close (unused [i]);
    int code = 0;
    ssize_t got = pid > 0? read (status_pipe [0], &code, sizeof code): -1;
    if (status_pipe [0] >= 0)
        close (status_pipe [0]);
    bool started = pid > 0 && got != sizeof code;
    if (started && spawn->input) {
        //  Small texts (a job script, a credential line) fit in the pipe.
        size_t len = strlen (spawn->input);
        if (write (in_pipe [1], spawn->input, len) != (ssize_t) len)
            mc_warn ("cannot write to the input of %s", spawn->argv [0]);
    }
    //  A lifeline stays open while the child lives: closing it tells the
    //  engines at the other end to stop (mcengine --lifeline).
    if (in_pipe [1] >= 0 && !(started && spawn->lifeline))
        close (in_pipe [1]);
    *in_fd = started && spawn->lifeline? in_pipe [1]: -1;
    if (pid > 0 && !started) {
        waitpid (pid, NULL, 0);
        snprintf (err, errlen, "cannot run %s%s%s: %s", spawn->argv [0], spawn->cwd? " in ": "",
                  spawn->cwd? spawn->cwd: "", strerror (code));
    }
    if (!started) {
        if (out_pipe [0] >= 0)
            close (out_pipe [0]);
        return -1;
    }
    if (spawn->capture)
        fcntl (out_pipe [0], F_SETFL, O_NONBLOCK);
    *out_fd = out_pipe [0];
    return pid;
}

int64_t
mc_alloc_spawn (mc_alloc_t *alloc, mc_child_role_t role, const mc_spawn_t *spawn, char *err, size_t errlen)
{
    mc_launcher_t *self = alloc->launcher;
    if (self->child_count == self->child_capacity) {
        size_t capacity = self->child_capacity? self->child_capacity * 2: 16;
        s_child_t *children = realloc (self->children, capacity * sizeof *children);
        if (!children) {
            snprintf (err, errlen, "out of memory");
            return -1;
        }
        self->children = children;
        self->child_capacity = capacity;
    }
    int out_fd, in_fd;
    pid_t pid = s_fork_exec (alloc, spawn, &out_fd, &in_fd, err, errlen);
    if (pid < 0)
        return -1;
    s_child_t *child = &self->children [self->child_count++];
    *child = (s_child_t) { pid, alloc, role, out_fd, in_fd, "", NULL, 0 };
    snprintf (child->label, sizeof child->label, "%s", spawn->label? spawn->label: "");
    mc_debug ("%s: started %s (pid %d)", alloc->tag, spawn->argv [0], (int) pid);
    return pid;
}

//  Read what a child wrote so far (keeping at most S_OUT_MAX bytes).
static void
s_drain (s_child_t *child)
{
    if (child->out_fd < 0)
        return;
    char buf [4096];
    ssize_t n;
    while ((n = read (child->out_fd, buf, sizeof buf)) > 0) {
        size_t keep = child->out_len + (size_t) n > S_OUT_MAX? S_OUT_MAX - child->out_len: (size_t) n;
        char *out = realloc (child->out, child->out_len + keep + 1);
        if (!out)
            return;
        child->out = out;
        memcpy (out + child->out_len, buf, keep);
        child->out_len += keep;
        out [child->out_len] = 0;
    }
}

void
mc_alloc_command (mc_alloc_t *alloc, mc_child_role_t role, const char *const *argv)
{
    mc_spawn_t spawn = { .argv = argv, .capture = true };
    char err [256];
    if (mc_alloc_spawn (alloc, role, &spawn, err, sizeof err) < 0)
        mc_warn ("%s: %s", alloc->tag, err);
}

int
mc_alloc_run (mc_alloc_t *alloc, const mc_spawn_t *spawn, int timeout_ms, char *out, size_t outlen)
{
    char err [256];
    s_child_t child = { -1, alloc, MC_CHILD_CANCEL, -1, -1, "", NULL, 0 };
    child.pid = s_fork_exec (alloc, spawn, &child.out_fd, &child.in_fd, err, sizeof err);
    if (out && outlen)
        *out = 0;
    if (child.pid < 0) {
        mc_warn ("%s", err);
        return -1;
    }
    int status = -1;
    int64_t deadline = mc_time_mono_us () + (int64_t) timeout_ms * 1000;
    while (waitpid (child.pid, &status, WNOHANG) == 0) {
        s_drain (&child);
        if (mc_time_mono_us () > deadline) {
            mc_warn ("%s did not finish within %d ms: killed", spawn->argv [0], timeout_ms);
            kill (child.pid, SIGKILL);
            waitpid (child.pid, &status, 0);
            break;
        }
        usleep (5000);
    }
    s_drain (&child);
    if (out && outlen)
        snprintf (out, outlen, "%s", child.out? child.out: "");
    if (child.out_fd >= 0)
        close (child.out_fd);
    free (child.out);
    return status;
}

void
mc_launcher_reap (mc_launcher_t *self)
{
    for (size_t i = 0; i < self->child_count; i++)
        s_drain (&self->children [i]);
    //  Asking each child (a waitpid each) at every tick cost a thousand
    //  local engines 9 % of a core: first peek whether any child at all
    //  has exited (WNOWAIT leaves it to be reaped below, or by whoever
    //  else waits for it).
    siginfo_t info;
    info.si_pid = 0;
    if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0)
        return;
    //  A reaped child leaves the list (the last one takes its place); an
    //  event may spawn more, which are appended.
    size_t i = 0;
    while (i < self->child_count) {
        int status;
        s_child_t child = self->children [i];
        if (waitpid (child.pid, &status, WNOHANG) != child.pid) {
            i++;
            continue;
        }
        self->children [i] = self->children [--self->child_count];
        s_drain (&child);
        if (child.out_fd >= 0)
            close (child.out_fd);
        if (child.in_fd >= 0)
            close (child.in_fd);
        mc_alloc_t *alloc = child.alloc;
        if (child.role == MC_CHILD_ENGINE && self->events.engine_exited)
            self->events.engine_exited (self->events.arg, alloc->id, child.pid, status);
        //  Left for the next controller at stop: a killed sbatch or squeue
        //  says nothing about its job.
        if (alloc->left) {
            free (child.out);
            continue;
        }
        bool had_job = *alloc->job != 0;
        alloc->kind->exited (alloc, child.role, child.label, status, child.out? child.out: "");
        free (child.out);
        //  Stopped while its submission ran: the job it got is cancelled now.
        if (child.role == MC_CHILD_SUBMIT && !had_job && *alloc->job && s_over (alloc->state) && alloc->kind->cancel) {
            mc_info ("%s: stopped while it was submitted: cancelling job %s", alloc->tag, alloc->job);
            alloc->kind->cancel (alloc, false);
        }
    }
    s_tell (self);
}

void
mc_launcher_tick (mc_launcher_t *self, int64_t now_us)
{
    mc_launcher_reap (self);
    for (size_t i = 0; i < self->alloc_count; i++)
        if (self->allocs [i]->kind->tick && !s_over (self->allocs [i]->state))
            self->allocs [i]->kind->tick (self->allocs [i]);
    if (now_us < self->next_poll_us)
        return;
    self->next_poll_us = now_us + self->setup.poll_ms * 1000;
    for (size_t i = 0; i < self->alloc_count; i++) {
        mc_alloc_t *alloc = self->allocs [i];
        bool polling = false;
        for (size_t c = 0; c < self->child_count; c++)
            polling |= self->children [c].alloc == alloc && self->children [c].role == MC_CHILD_POLL;
        //  One question at a time: a slow batch system is not asked again
        //  until it has answered.
        if (alloc->kind->poll && !s_over (alloc->state) && *alloc->job && !polling)
            alloc->kind->poll (alloc);
    }
    s_tell (self);
}

//  End the engines and sessions of alloc (NULL: all): their lifelines are
//  closed, and they get signum.
static void
s_signal_alloc (mc_launcher_t *self, mc_alloc_t *alloc, int signum)
{
    for (size_t i = 0; i < self->child_count; i++) {
        s_child_t *child = &self->children [i];
        if ((alloc && child->alloc != alloc) || (child->role != MC_CHILD_ENGINE && child->role != MC_CHILD_SESSION))
            continue;
        if (child->in_fd >= 0) {
            close (child->in_fd);
            child->in_fd = -1;
        }
        kill (child->pid, signum);
    }
}

int
mc_launcher_stop_alloc (mc_launcher_t *self, uint32_t id)
{
    mc_alloc_t *alloc = s_alloc (self, id);
    if (!alloc || s_over (alloc->state))
        return -1;
    if (alloc->kind->cancel)
        alloc->kind->cancel (alloc, false);
    s_signal_alloc (self, alloc, SIGTERM);
    mc_alloc_set_state (alloc, MC_ALLOC_CANCELLED, "stopped by a client");
    s_tell (self);
    return 0;
}

void
mc_launcher_release (mc_launcher_t *self, const char *tag)
{
    int64_t id = mc_launcher_find_job (self, tag);
    mc_alloc_t *alloc = id > 0? s_alloc (self, (uint32_t) id): NULL;
    if (alloc && alloc->engines) {
        s_changed (alloc);
        if (!--alloc->engines)
            mc_alloc_set_state (alloc, MC_ALLOC_CANCELLED, "all its engines were stopped");
    }
    s_tell (self);
}

void
mc_launcher_set_next_id (mc_launcher_t *self, uint32_t next_id)
{
    if (next_id > self->next_id)
        self->next_id = next_id;
}

int64_t
mc_launcher_find_job (const mc_launcher_t *self, const char *job)
{
    for (size_t i = 0; i < self->alloc_count; i++)
        if (!strcmp (self->allocs [i]->tag, job) || (*self->allocs [i]->job && !strcmp (self->allocs [i]->job, job)))
            return self->allocs [i]->id;
    return -1;
}

//  Reap until no engine or session is left or the deadline passes.
static void
s_wait_all (mc_launcher_t *self, int64_t deadline_us)
{
    while (mc_launcher_children (self)) {
        mc_launcher_reap (self);
        if (!mc_launcher_children (self) || mc_time_mono_us () >= deadline_us)
            break;
        usleep (2000);
    }
}

//  Children of this role still running.
static size_t
s_running (const mc_launcher_t *self, mc_child_role_t role)
{
    size_t n = 0;
    for (size_t i = 0; i < self->child_count; i++)
        n += self->children [i].role == role;
    return n;
}

void
mc_launcher_leave_adopted (mc_launcher_t *self)
{
    self->leave_adopted = true;
}

void
mc_launcher_stop (mc_launcher_t *self, int grace_ms)
{
    s_wait_all (self, mc_time_mono_us () + (int64_t) grace_ms * 1000);
    //  A submission in flight gives a job id soon: wait for it (10 s at
    //  most), so that its job is cancelled below and not left queued.
    int64_t deadline = mc_time_mono_us () + 10000000;
    while (s_running (self, MC_CHILD_SUBMIT) && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (5000);
    }
    //  A batch job is cancelled when its batch system says so; one that
    //  cannot be (no job id yet, scancel or qdel failed), or one taken up
    //  by a start that failed, is left live in the store: the next
    //  controller takes it up (or looks for its job), so it is not lost.
    for (size_t i = 0; i < self->alloc_count; i++) {
        mc_alloc_t *alloc = self->allocs [i];
        if (!alloc->kind->cancel || s_over (alloc->state))
            continue;
        if (self->leave_adopted && alloc->adopted) {
            alloc->left = true;
            mc_warn ("allocation %s (%s job %s): the start failed: left %s for the next controller to take up",
                     alloc->tag, alloc->kind->name, alloc->job, mc_alloc_state_name (alloc->state));
        }
        else
        if (!*alloc->job) {
            alloc->left = true;
            mc_warn ("allocation %s (%s): its job id had not come back when the controller stopped: left %s in the "
                     "store (the next controller looks for a job named mccluster-%s; else cancel it by hand)",
                     alloc->tag, alloc->kind->name, mc_alloc_state_name (alloc->state), alloc->tag);
        }
        else
        if (alloc->kind->cancel (alloc, true) == 0)
            mc_alloc_set_state (alloc, MC_ALLOC_CANCELLED, "the controller stopped");
        else {
            alloc->left = true;
            mc_warn ("allocation %s (%s job %s): not cancelled: left %s in the store for the next controller to "
                     "take up (or cancel it by hand)", alloc->tag, alloc->kind->name, alloc->job,
                     mc_alloc_state_name (alloc->state));
        }
    }
    if (mc_launcher_children (self)) {
        mc_warn ("%zu launcher processes still running: sending SIGTERM", mc_launcher_children (self));
        s_signal_alloc (self, NULL, SIGTERM);
        s_wait_all (self, mc_time_mono_us () + 2000000);
    }
    if (mc_launcher_children (self)) {
        mc_warn ("%zu launcher processes ignore SIGTERM: sending SIGKILL", mc_launcher_children (self));
        for (size_t i = 0; i < self->child_count; i++)
            kill (self->children [i].pid, SIGKILL);
        s_wait_all (self, mc_time_mono_us () + 5000000);
    }
    //  Questions and cancels still running (a hung squeue, sbatch) are
    //  not waited for: killed and reaped.
    for (size_t i = 0; i < self->child_count; i++)
        kill (self->children [i].pid, SIGKILL);
    deadline = mc_time_mono_us () + 2000000;
    while (self->child_count && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (2000);
    }
    //  Every other allocation is over now (its engines stopped, its job
    //  cancelled): stored so, a controller started after this one has
    //  nothing of it to take up.
    for (size_t i = 0; i < self->alloc_count; i++)
        if (!self->allocs [i]->left)
            mc_alloc_set_state (self->allocs [i], MC_ALLOC_CANCELLED, "the controller stopped");
    s_tell (self);
}

int64_t
mc_launcher_restart (mc_launcher_t *self, uint32_t id, int64_t now_us)
{
    mc_alloc_t *alloc = s_alloc (self, id);
    if (!alloc || s_over (alloc->state) || self->restarts_stopped)
        return -1;
    if (!self->restart_limit) {
        mc_debug ("dead engines are not restarted (no restart limit set)");
        self->restarts_stopped = true;
        return -1;
    }
    //  The ring holds the last restart_limit restarts, oldest next: one
    //  more is allowed when the oldest is a minute old (or never was).
    int64_t oldest = self->restarts_us [self->restart_next];
    if (oldest && now_us - oldest < 60000000) {
        mc_error ("engines are dying too fast: %zu restarts within a minute reach engine_restarts_per_min=%zu; "
                  "dead engines are not restarted any more", self->restart_limit, self->restart_limit);
        self->restarts_stopped = true;
        return -1;
    }
    char err [1024];
    int64_t pid = alloc->kind == &mc_launch_local? mc_launch_local_spawn (alloc, err, sizeof err): -1;
    if (pid < 0) {
        mc_error ("cannot restart an engine of %s: %s", alloc->tag,
                  alloc->kind == &mc_launch_local? err: "only local engines are restarted");
        return -1;
    }
    self->restarts_us [self->restart_next] = now_us? now_us: 1;
    self->restart_next = (self->restart_next + 1) % self->restart_limit;
    return pid;
}

size_t
mc_launcher_requested (const mc_launcher_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->alloc_count; i++)
        if (!s_over (self->allocs [i]->state))
            n += self->allocs [i]->engines;
    return n;
}

void
mc_launcher_waiting (const mc_launcher_t *self, char *buf, size_t len)
{
    *buf = 0;
    for (size_t i = 0; i < self->alloc_count; i++) {
        const mc_alloc_t *alloc = self->allocs [i];
        if (alloc->state != MC_ALLOC_SUBMITTING && alloc->state != MC_ALLOC_PENDING)
            continue;
        size_t used = strlen (buf);
        snprintf (buf + used, len - used, "%s%s %s%s%s %s%s%s%s", used? "; ": "", alloc->tag, alloc->kind->name,
                  *alloc->job? " job ": "", alloc->job, mc_alloc_state_name (alloc->state),
                  *alloc->reason? " (": "", alloc->reason, *alloc->reason? ")": "");
    }
}

size_t
mc_launcher_children (const mc_launcher_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->child_count; i++)
        n += self->children [i].role == MC_CHILD_ENGINE || self->children [i].role == MC_CHILD_SESSION;
    return n;
}

static const char *s_state_names [] = { "submitting", "pending", "running", "ended", "failed", "cancelled" };

const char *
mc_alloc_state_name (mc_alloc_state_t state)
{
    return state <= MC_ALLOC_CANCELLED? s_state_names [state]: "?";
}

int
mc_alloc_state_parse (const char *name, mc_alloc_state_t *state)
{
    for (int i = 0; i <= MC_ALLOC_CANCELLED; i++)
        if (!strcmp (name, s_state_names [i])) {
            *state = (mc_alloc_state_t) i;
            return 0;
        }
    return -1;
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

void
mc_launcher_pack (const mc_launcher_t *self, msgpack_packer *pk,
                  size_t (*registered) (void *arg, const char *tag), void *arg)
{
    msgpack_pack_array (pk, (uint32_t) self->alloc_count);
    for (size_t i = 0; i < self->alloc_count; i++) {
        const mc_alloc_t *alloc = self->allocs [i];
        msgpack_pack_map (pk, 7);
        s_pack_str (pk, "id");          s_pack_str (pk, alloc->tag);
        s_pack_str (pk, "kind");        s_pack_str (pk, alloc->kind->name);
        s_pack_str (pk, "engines");     msgpack_pack_uint64 (pk, alloc->engines);
        s_pack_str (pk, "registered");  msgpack_pack_uint64 (pk, registered? registered (arg, alloc->tag): 0);
        s_pack_str (pk, "job");         s_pack_str (pk, alloc->job);
        s_pack_str (pk, "state");       s_pack_str (pk, mc_alloc_state_name (alloc->state));
        s_pack_str (pk, "reason");      s_pack_str (pk, alloc->reason);
    }
}

//  --------------------------------------------------------------------------
//  For the kinds

const char *
mc_alloc_opt (const mc_alloc_t *alloc, const char *key)
{
    size_t len = strlen (key);
    for (char *const *opt = alloc->opts; *opt; opt++)
        if (!strncmp (*opt, key, len) && (*opt) [len] == '=')
            return *opt + len + 1;
    return NULL;
}

size_t mc_alloc_engines (const mc_alloc_t *alloc) { return alloc->engines; }
size_t mc_alloc_started (const mc_alloc_t *alloc) { return alloc->started; }
void mc_alloc_set_started (mc_alloc_t *alloc, size_t started) { alloc->started = started; }
const char *mc_alloc_tag (const mc_alloc_t *alloc) { return alloc->tag; }
const mc_launcher_setup_t *mc_alloc_setup (const mc_alloc_t *alloc) { return &alloc->launcher->setup; }
mc_alloc_state_t mc_alloc_state (const mc_alloc_t *alloc) { return alloc->state; }
const char *mc_alloc_job (const mc_alloc_t *alloc) { return alloc->job; }

void
mc_alloc_set_engines (mc_alloc_t *alloc, size_t engines)
{
    if (alloc->engines != engines)
        s_changed (alloc);
    alloc->engines = engines;
}

size_t
mc_alloc_children (const mc_alloc_t *alloc, mc_child_role_t role)
{
    size_t n = 0;
    for (size_t i = 0; i < alloc->launcher->child_count; i++)
        n += alloc->launcher->children [i].alloc == alloc && alloc->launcher->children [i].role == role;
    return n;
}

void
mc_alloc_lost (mc_alloc_t *alloc, const char *host, const char *why)
{
    mc_launcher_t *self = alloc->launcher;
    if (self->events.alloc_ended)
        self->events.alloc_ended (self->events.arg, alloc->id, host, why);
}

void
mc_alloc_set_job (mc_alloc_t *alloc, const char *job)
{
    if (strcmp (alloc->job, job))
        s_changed (alloc);
    snprintf (alloc->job, sizeof alloc->job, "%s", job);
}

void
mc_alloc_set_state (mc_alloc_t *alloc, mc_alloc_state_t state, const char *reason)
{
    bool was_live = !s_over (alloc->state);
    if (alloc->state == state && !strcmp (alloc->reason, reason? reason: ""))
        return;
    //  Once over, an allocation stays over: a late poll cannot revive it.
    if (!was_live)
        return;
    alloc->state = state;
    snprintf (alloc->reason, sizeof alloc->reason, "%s", reason? reason: "");
    s_changed (alloc);
    if (state == MC_ALLOC_FAILED)
        mc_error ("allocation %s (%s%s%s): failed: %s", alloc->tag, alloc->kind->name, *alloc->job? " job ": "",
                  alloc->job, alloc->reason);
    else
        mc_info ("allocation %s (%s%s%s): %s%s%s", alloc->tag, alloc->kind->name, *alloc->job? " job ": "",
                 alloc->job, mc_alloc_state_name (state), *alloc->reason? ": ": "", alloc->reason);
    mc_launcher_t *self = alloc->launcher;
    //  Cancelled ones were told to stop by us: their engines say goodbye.
    if ((state == MC_ALLOC_ENDED || state == MC_ALLOC_FAILED) && self->events.alloc_ended)
        self->events.alloc_ended (self->events.arg, alloc->id, NULL, alloc->reason);
}

//  Append text to buf, quoted for a POSIX shell when it needs to be.
static void
s_append_word (char *buf, size_t len, const char *word)
{
    size_t used = strlen (buf);
    bool plain = *word != 0;
    for (const char *p = word; *p; p++)
        plain &= strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,@%+", *p) != NULL;
    if (plain) {
        snprintf (buf + used, len - used, "%s%s", used? " ": "", word);
        return;
    }
    snprintf (buf + used, len - used, "%s'", used? " ": "");
    for (const char *p = word; *p; p++) {
        used = strlen (buf);
        snprintf (buf + used, len - used, *p == '\''? "'\\''": "%c", *p);
    }
    used = strlen (buf);
    snprintf (buf + used, len - used, "'");
}

void
mc_alloc_engine_cmd (const mc_alloc_t *alloc, const char *extra, char *buf, size_t len)
{
    const char *bin = mc_alloc_opt (alloc, "engine_bin");
    *buf = 0;
    s_append_word (buf, len, bin? bin: alloc->launcher->setup.engine_bin);
    for (const char *const *arg = alloc->launcher->setup.engine_args; arg && *arg; arg++)
        s_append_word (buf, len, *arg);
    if (extra && *extra) {
        size_t used = strlen (buf);
        snprintf (buf + used, len - used, " %s", extra);
    }
}

char *
mc_alloc_fill (const char *text, const char *const *vars)
{
    size_t cap = strlen (text) + 1, len = 0;
    for (const char *const *var = vars; var [0]; var += 2)
        cap += strlen (var [1]) * 8;            //  generous: a name may appear a few times
    char *out = malloc (cap);
    if (!out)
        return NULL;
    while (*text) {
        const char *const *var = NULL;
        if (*text == '{')
            for (var = vars; var [0]; var += 2) {
                size_t n = strlen (var [0]);
                if (!strncmp (text + 1, var [0], n) && text [1 + n] == '}')
                    break;
            }
        if (var && var [0]) {
            size_t n = strlen (var [1]);
            if (len + n + strlen (text) + 1 > cap) {
                char *more = realloc (out, cap = (len + n + strlen (text)) * 2 + 1);
                if (!more) {
                    free (out);
                    return NULL;
                }
                out = more;
            }
            memcpy (out + len, var [1], n);
            len += n;
            text += strlen (var [0]) + 2;
        }
        else {
            if (len + 2 > cap) {
                char *more = realloc (out, cap *= 2);
                if (!more) {
                    free (out);
                    return NULL;
                }
                out = more;
            }
            out [len++] = *text++;
        }
    }
    out [len] = 0;
    return out;
}

char *
mc_alloc_template (const mc_alloc_t *alloc, const char *builtin, char *err, size_t errlen)
{
    const char *path = mc_alloc_opt (alloc, "template");
    if (!path) {
        char *text = strdup (builtin);
        if (!text)
            snprintf (err, errlen, "out of memory");
        return text;
    }
    FILE *file = fopen (path, "r");
    char *text = NULL;
    if (file && fseek (file, 0, SEEK_END) == 0) {
        long size = ftell (file);
        rewind (file);
        text = size >= 0 && size < 1000000? calloc (1, (size_t) size + 1): NULL;
        if (text && fread (text, 1, (size_t) size, file) != (size_t) size) {
            free (text);
            text = NULL;
        }
    }
    if (!text)
        snprintf (err, errlen, "cannot read the template %s: %s", path, file? "too large, or a read error": strerror (errno));
    if (file)
        fclose (file);
    return text;
}

char *
mc_alloc_script (mc_alloc_t *alloc, const char *builtin, const char *prefix, const mc_directive_t *table,
                 size_t count, char *err, size_t errlen)
{
    char directives [4096] = "", engine_cmd [8192], n [32], job_name [64];
    for (size_t i = 0; i < count; i++) {
        const char *value = mc_alloc_opt (alloc, table [i].key);
        size_t used = strlen (directives);
        if (value && strchr (value, '\n')) {
            snprintf (err, errlen, "launcher option %s: a value of one line only", table [i].key);
            return NULL;
        }
        if (value)
            snprintf (directives + used, sizeof directives - used, "%s %s%s\n", prefix, table [i].flag, value);
    }
    mc_alloc_engine_cmd (alloc, NULL, engine_cmd, sizeof engine_cmd);
    snprintf (n, sizeof n, "%zu", alloc->engines);
    snprintf (job_name, sizeof job_name, "mccluster-%s", alloc->tag);
    char *template_text = mc_alloc_template (alloc, builtin, err, errlen);
    if (!template_text)
        return NULL;
    const char *vars [] = { "n", n, "job_name", job_name, "directives", directives, "engine_cmd", engine_cmd,
                            NULL, NULL };
    char *script = mc_alloc_fill (template_text, vars);
    free (template_text);
    if (!script)
        snprintf (err, errlen, "out of memory");
    return script;
}

void
mc_alloc_status_text (int status, char *buf, size_t len)
{
    if (WIFEXITED (status))
        snprintf (buf, len, "exit status %d", WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status))
        snprintf (buf, len, "killed by signal %d", WTERMSIG (status));
    else
        snprintf (buf, len, "status %d", status);
}

void
mc_launcher_default_bin (char *buf, size_t len)
{
    char self_path [4096];
    ssize_t n = readlink ("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0) {
        self_path [n] = 0;
        snprintf (buf, len, "%s/mcengine", dirname (self_path));
        if (access (buf, X_OK) == 0)
            return;
    }
    snprintf (buf, len, "mcengine");
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    size_t exits, ended, changed;
    int64_t pid;
    int status;
    uint32_t changed_id;            //  the last allocation told changed, and its state
    mc_alloc_state_t changed_state;
} s_test_events_t;

static void
s_test_changed (void *arg, const mc_alloc_info_t *info)
{
    s_test_events_t *events = arg;
    events->changed++;
    events->changed_id = info->id;
    events->changed_state = info->state;
}

static void
s_test_exited (void *arg, uint32_t alloc, int64_t pid, int status)
{
    (void) alloc;
    s_test_events_t *events = arg;
    events->exits++;
    events->pid = pid;
    events->status = status;
}

static void
s_test_ended (void *arg, uint32_t alloc, const char *host, const char *why)
{
    (void) alloc, (void) host, (void) why;
    ((s_test_events_t *) arg)->ended++;
}

//  Restart an engine of allocation 1 at now_s (seconds) and reap it: its pid, or -1.
static int64_t
s_test_restart (mc_launcher_t *self, s_test_events_t *events, int64_t now_s)
{
    int64_t pid = mc_launcher_restart (self, 1, now_s * 1000000);
    if (pid < 0)
        return -1;
    size_t exits = events->exits;
    int64_t deadline = mc_time_mono_us () + 5000000;
    while (events->exits == exits && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (1000);
    }
    assert (events->exits == exits + 1 && events->pid == pid && WIFEXITED (events->status));
    return pid;
}

void
mc_launcher_test (bool verbose)
{
    if (verbose)
        printf (" * mc_launcher: ");
    //  Templates: known names replaced, other braces (shell's) kept.
    const char *vars [] = { "n", "8", "engine_cmd", "mcengine --give-up 30", NULL, NULL };
    char *text = mc_alloc_fill ("#SBATCH --ntasks={n}\nsrun {engine_cmd} ${HOME} {x} {n}{n}\n", vars);
    assert (text && !strcmp (text, "#SBATCH --ntasks=8\nsrun mcengine --give-up 30 ${HOME} {x} 88\n"));
    free (text);

    s_test_events_t events = { 0 };
    mc_launcher_events_t handlers = { s_test_exited, s_test_ended, &events, s_test_changed };
    const char *args [] = { "--give-up", "30", "--kernel-path", "/tmp/a b", NULL };
    mc_launcher_setup_t setup = { "/bin/true", "/tmp/engine.json", "Y3JlZA==", "/tmp", args, 2, 0, "partition=short\ncolour=red\n" };
    mc_launcher_t *self = mc_launcher_new (&setup, &handlers);
    assert (self && self->setup.engine_args [3] != args [3] && !strcmp (self->setup.engine_args [3], "/tmp/a b"));
    char err [256];
    //  Kinds and their options: unknown ones are refused, naming them.
    assert (mc_launcher_add (self, "condor", 1, NULL, err, sizeof err) == -1 && strstr (err, "'condor'"));
    const char *bad [] = { "partition", NULL };
    assert (mc_launcher_add (self, "slurm", 1, bad, err, sizeof err) == -1 && strstr (err, "KEY=VALUE"));
    const char *unknown [] = { "colour=red", NULL };
    assert (mc_launcher_add (self, "local", 1, unknown, err, sizeof err) == -1 && strstr (err, "'colour'"));
    assert (mc_launcher_kind_known ("slurm") && !mc_launcher_kind_known ("condor"));

    //  Local engines (here /bin/true, which exits at once) are reaped and
    //  told; restarts stay within their limit per minute.
    assert (mc_launcher_add (self, "local", 2, NULL, err, sizeof err) == 1);
    assert (mc_launcher_children (self) == 2 && mc_launcher_requested (self) == 2);
    char cmd [256];
    mc_alloc_engine_cmd (self->allocs [0], "--lifeline", cmd, sizeof cmd);
    assert (!strcmp (cmd, "/bin/true --give-up 30 --kernel-path '/tmp/a b' --lifeline"));
    int64_t deadline = mc_time_mono_us () + 5000000;
    while (events.exits < 2 && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (1000);
    }
    assert (events.exits == 2 && mc_launcher_children (self) == 0);
    assert (s_test_restart (self, &events, 1) > 0 && s_test_restart (self, &events, 30) > 0);
    assert (s_test_restart (self, &events, 60) == -1 && self->restarts_stopped);    //  3 within [1, 60]
    assert (s_test_restart (self, &events, 1000) == -1);
    assert (mc_launcher_find_job (self, "a1") == 1 && mc_launcher_find_job (self, "a9") == -1);
    assert (mc_launcher_stop_alloc (self, 1) == 0 && events.ended == 0);
    assert (mc_launcher_stop_alloc (self, 1) == -1 && mc_launcher_requested (self) == 0);
    //  Many local engines: a batch at once, the next at each tick.
    assert (mc_launcher_add (self, "local", 20, NULL, err, sizeof err) == 2);
    assert (mc_alloc_started (self->allocs [1]) == 16 && mc_alloc_state (self->allocs [1]) == MC_ALLOC_RUNNING);
    mc_launcher_tick (self, mc_time_mono_us ());
    assert (mc_alloc_started (self->allocs [1]) == 20);
    deadline = mc_time_mono_us () + 5000000;
    while (mc_launcher_children (self) > 0 && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (1000);
    }
    assert (mc_launcher_stop_alloc (self, 2) == 0);
    int64_t start = mc_time_mono_us ();
    mc_launcher_stop (self, 5000);                          //  nothing left to wait for: at once
    assert (mc_time_mono_us () - start < 1000000);
    mc_launcher_destroy (&self);
    assert (self == NULL);
    mc_launcher_destroy (&self);
    assert (events.changed >= 4 && events.changed_id == 2 && events.changed_state == MC_ALLOC_CANCELLED);

    //  Allocations taken up after a restart (mc_launcher_adopt): a batch
    //  job keeps its state, is polled and cancelled (qstat and qdel
    //  stand-ins here); a local one is ended, and so is a batch one whose
    //  job id never came back; ids go on after the highest.
    memset (&events, 0, sizeof events);
    self = mc_launcher_new (&setup, &handlers);
    assert (self);
    const char *pbs_opts [] = { "qstat=/bin/echo", "qdel=/bin/true", NULL };
    mc_alloc_info_t pbs = { 3, "pbs", 2, "17.server", MC_ALLOC_RUNNING, "", pbs_opts };
    mc_alloc_info_t local = { 5, "local", 2, "", MC_ALLOC_RUNNING, "", NULL };
    mc_alloc_info_t early = { 4, "local", 1, "", MC_ALLOC_RUNNING, "", NULL };
    mc_alloc_info_t lost = { 6, "pbs", 1, "", MC_ALLOC_SUBMITTING, "", NULL };     //  (pbs: not looked for)
    mc_alloc_info_t gone = { 7, "pbs", 1, "18", MC_ALLOC_PENDING, "", pbs_opts };
    mc_alloc_info_t condor = { 8, "condor", 1, "", MC_ALLOC_PENDING, "", NULL };
    assert (mc_launcher_adopt (self, &pbs, err, sizeof err) == 0 && mc_launcher_adopt (self, &local, err, sizeof err) == 0);
    assert (mc_launcher_adopt (self, &early, err, sizeof err) == -1 && strstr (err, "grow"));
    assert (mc_launcher_adopt (self, &lost, err, sizeof err) == 0 && mc_launcher_adopt (self, &gone, err, sizeof err) == 0);
    assert (mc_launcher_adopt (self, &condor, err, sizeof err) == -1);
    assert (events.changed == 4 && events.ended == 0 && mc_launcher_children (self) == 0);
    assert (s_alloc (self, 3)->state == MC_ALLOC_RUNNING && !strcmp (s_alloc (self, 3)->reason,
                                                                     "taken up after the controller restarted"));
    assert (s_alloc (self, 5)->state == MC_ALLOC_ENDED && !strcmp (s_alloc (self, 5)->reason, mc_launch_local.orphaned));
    assert (s_alloc (self, 6)->state == MC_ALLOC_FAILED && strstr (s_alloc (self, 6)->reason, "mccluster-a6"));
    assert (mc_launcher_requested (self) == 3 && mc_launcher_find_job (self, "17.server") == 3);
    assert (mc_launcher_find_job (self, "a5") == 5 && !s_alloc (self, 4) && !s_alloc (self, 9));
    mc_launcher_set_next_id (self, 9);
    assert (mc_launcher_add (self, "local", 1, NULL, err, sizeof err) == 9 && events.changed_id == 9);
    //  Cancelled by a client; the other asked about, and gone from PBS.
    assert (mc_launcher_stop_alloc (self, 3) == 0 && s_alloc (self, 3)->state == MC_ALLOC_CANCELLED);
    assert (events.changed_id == 3 && events.changed_state == MC_ALLOC_CANCELLED);
    mc_launcher_tick (self, mc_time_mono_us ());
    deadline = mc_time_mono_us () + 5000000;
    while (self->child_count && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self);
        usleep (1000);
    }
    assert (s_alloc (self, 7)->state == MC_ALLOC_ENDED && events.ended == 1);
    //  Only a7, gone from PBS, is made up for: a3 was stopped on purpose,
    //  a6 was never taken up live.
    assert (mc_launcher_adopted_lost (self, "pbs") == 1 && mc_launcher_adopted_lost (self, "slurm") == 0);
    assert (events.changed_id == 7 && events.changed_state == MC_ALLOC_ENDED);
    mc_launcher_stop (self, 1000);
    mc_launcher_destroy (&self);

    //  A clean stop stores `cancelled` only for a job that its batch
    //  system cancelled: one whose qdel failed stays live in the store.
    const char *qdel_ok [] = { "qdel=/bin/true", NULL };
    const char *qdel_bad [] = { "qdel=/bin/ls", NULL };     //  fails saying so (silence is Slurm's qdel on an ended job)
    mc_alloc_info_t kept = { 10, "pbs", 1, "20", MC_ALLOC_RUNNING, "", qdel_bad };
    mc_alloc_info_t done = { 11, "pbs", 1, "21", MC_ALLOC_PENDING, "", qdel_ok };
    self = mc_launcher_new (&setup, &handlers);
    assert (self);
    assert (mc_launcher_adopt (self, &kept, err, sizeof err) == 0 && mc_launcher_adopt (self, &done, err, sizeof err) == 0);
    mc_launcher_stop (self, 100);
    assert (s_alloc (self, 10)->state == MC_ALLOC_RUNNING && s_alloc (self, 11)->state == MC_ALLOC_CANCELLED);
    assert (events.changed_id == 11 && events.changed_state == MC_ALLOC_CANCELLED);
    mc_launcher_destroy (&self);
    //  A start that failed after taking them up cancels none of them and
    //  leaves their state as it was (qdel=/bin/true would cancel).
    memset (&events, 0, sizeof events);
    self = mc_launcher_new (&setup, &handlers);
    assert (self);
    kept.opts = qdel_ok;
    assert (mc_launcher_adopt (self, &kept, err, sizeof err) == 0 && mc_launcher_adopt (self, &done, err, sizeof err) == 0);
    size_t changed = events.changed;
    mc_launcher_leave_adopted (self);
    mc_launcher_stop (self, 100);
    assert (s_alloc (self, 10)->state == MC_ALLOC_RUNNING && s_alloc (self, 11)->state == MC_ALLOC_PENDING);
    assert (events.changed == changed);
    mc_launcher_destroy (&self);
    //  A Slurm allocation whose controller died while sbatch ran, when
    //  squeue fails (a stand-in first in PATH): it stays submitting, in
    //  the store and after a clean stop, to be looked for next time.
    char dir [] = "/tmp/mc-launcher-test-XXXXXX", squeue [64], path [8192];
    assert (mkdtemp (dir));
    snprintf (squeue, sizeof squeue, "%s/squeue", dir);
    FILE *script = fopen (squeue, "w");
    assert (script);
    fprintf (script, "#!/bin/sh\necho 'slurm_load_jobs error: Unable to contact slurm controller' >&2\nexit 1\n");
    fclose (script);
    assert (chmod (squeue, 0755) == 0);
    char *old_path = getenv ("PATH")? strdup (getenv ("PATH")): NULL;
    snprintf (path, sizeof path, "%s:%s", dir, old_path? old_path: "/usr/bin:/bin");
    setenv ("PATH", path, 1);
    memset (&events, 0, sizeof events);
    self = mc_launcher_new (&setup, &handlers);
    assert (self);
    mc_alloc_info_t unasked = { 12, "slurm", 2, "", MC_ALLOC_SUBMITTING, "", NULL };
    assert (mc_launcher_adopt (self, &unasked, err, sizeof err) == 0);
    assert (s_alloc (self, 12)->state == MC_ALLOC_SUBMITTING && strstr (s_alloc (self, 12)->reason, "next start"));
    assert (events.changed_id == 12 && events.changed_state == MC_ALLOC_SUBMITTING);
    mc_launcher_stop (self, 100);
    assert (s_alloc (self, 12)->state == MC_ALLOC_SUBMITTING);
    mc_launcher_destroy (&self);
    if (old_path)
        setenv ("PATH", old_path, 1);
    free (old_path);
    unlink (squeue);
    rmdir (dir);
    mc_alloc_state_t state;
    assert (mc_alloc_state_parse ("pending", &state) == 0 && state == MC_ALLOC_PENDING);
    assert (mc_alloc_state_parse ("gone", &state) == -1);

    char bin [4096];
    mc_launcher_default_bin (bin, sizeof bin);
    size_t len = strlen (bin);
    assert (len >= 8 && !strcmp (bin + len - 8, "mcengine"));
    if (verbose)
        printf ("OK\n");
}
