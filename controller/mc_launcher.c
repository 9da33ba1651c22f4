/*  mc_launcher: local engines as child processes, tracked by pid. */
#include "mc_launcher.h"
#include <assert.h>
#include "mc_log.h"
#include "mc_time.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct _mc_launcher_t {
    char *engine_bin;
    char *conn_path;
    char **extra;
    pid_t *pids;                    //  the engine processes not yet reaped
    size_t count, capacity;
    int64_t *restarts_us;           //  monotonic times of the last restarts, a ring of restart_limit
    size_t restart_limit, restart_next;
    bool restarts_stopped;          //  the limit was passed: no more restarts
};

mc_launcher_t *
mc_launcher_new (const char *engine_bin, const char *conn_path, const char *const *extra)
{
    mc_launcher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t n = 0;
    while (extra && extra [n])
        n++;
    self->engine_bin = strdup (engine_bin);
    self->conn_path = strdup (conn_path);
    self->extra = calloc (n + 1, sizeof *self->extra);
    bool ok = self->engine_bin && self->conn_path && self->extra;
    for (size_t i = 0; ok && i < n; i++)
        ok = (self->extra [i] = strdup (extra [i])) != NULL;
    if (!ok)
        mc_launcher_destroy (&self);
    return self;
}

void
mc_launcher_destroy (mc_launcher_t **self_p)
{
    mc_launcher_t *self = *self_p;
    if (!self)
        return;
    for (char **arg = self->extra; arg && *arg; arg++)
        free (*arg);
    free (self->extra);
    free (self->engine_bin);
    free (self->conn_path);
    free (self->pids);
    free (self->restarts_us);
    free (self);
    *self_p = NULL;
}

int
mc_launcher_start (mc_launcher_t *self, size_t n, char *err, size_t errlen)
{
    size_t extra = 0;
    while (self->extra [extra])
        extra++;
    for (size_t i = 0; i < n; i++) {
        if (self->count == self->capacity) {
            size_t capacity = self->capacity? self->capacity * 2: 16;
            pid_t *pids = realloc (self->pids, capacity * sizeof *pids);
            if (!pids) {
                snprintf (err, errlen, "out of memory after %zu engines", i);
                return -1;
            }
            self->pids = pids;
            self->capacity = capacity;
        }
        //  A pipe with close-on-exec tells the parent whether exec worked.
        int fds [2];
        if (pipe2 (fds, O_CLOEXEC)) {
            snprintf (err, errlen, "pipe: %s", strerror (errno));
            return -1;
        }
        pid_t pid = fork ();
        if (pid < 0) {
            snprintf (err, errlen, "fork: %s", strerror (errno));
            close (fds [0]);
            close (fds [1]);
            return -1;
        }
        if (pid == 0) {
            close (fds [0]);
            char **argv = calloc (4 + extra, sizeof *argv);
            if (!argv)
                _exit (127);
            argv [0] = self->engine_bin;
            argv [1] = "--file";
            argv [2] = self->conn_path;
            for (size_t k = 0; k < extra; k++)
                argv [3 + k] = self->extra [k];
            //  Children must not inherit the controller's signal mask or
            //  handlers; exec resets handlers, unblock the mask ourselves.
            //  Engines outlive a controller that dies (their --give-up
            //  bounds how long), so that a restarted one finds them.
            sigset_t none;
            sigemptyset (&none);
            sigprocmask (SIG_SETMASK, &none, NULL);
            execvp (argv [0], argv);
            int code = errno;
            if (write (fds [1], &code, sizeof code) < 0)
                _exit (127);
            _exit (127);
        }
        close (fds [1]);
        int code = 0;
        ssize_t got = read (fds [0], &code, sizeof code);
        close (fds [0]);
        if (got == sizeof code) {
            waitpid (pid, NULL, 0);
            snprintf (err, errlen, "cannot run %s: %s", self->engine_bin, strerror (code));
            return -1;
        }
        self->pids [self->count++] = pid;
        mc_debug ("started engine process %d", (int) pid);
    }
    return 0;
}

static void
s_log_exit (pid_t pid, int status)
{
    if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        mc_info ("engine process %d exited", (int) pid);
    else
    if (WIFEXITED (status))
        mc_warn ("engine process %d exited with status %d", (int) pid, WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status))
        mc_warn ("engine process %d killed by signal %d", (int) pid, WTERMSIG (status));
}

void
mc_launcher_reap (mc_launcher_t *self, mc_launcher_exit_fn *fn, void *arg)
{
    //  A reaped process leaves the list (which restarts would grow); the
    //  last one takes its place, and fn may append a restarted one.
    size_t i = 0;
    while (i < self->count) {
        int status;
        pid_t pid = self->pids [i];
        if (waitpid (pid, &status, WNOHANG) != pid) {
            i++;
            continue;
        }
        s_log_exit (pid, status);
        self->pids [i] = self->pids [--self->count];
        if (fn)
            fn (arg, (int64_t) pid, status);
    }
}

int
mc_launcher_set_restart_limit (mc_launcher_t *self, int64_t per_min)
{
    size_t limit = per_min <= 0? 0: per_min > 100000? 100000: (size_t) per_min;
    int64_t *times = limit? calloc (limit, sizeof *times): NULL;
    if (limit && !times)
        return -1;
    free (self->restarts_us);
    self->restarts_us = times;
    self->restart_limit = limit;
    self->restart_next = 0;
    return 0;
}

int64_t
mc_launcher_restart (mc_launcher_t *self, int64_t now_us)
{
    if (self->restarts_stopped)
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
    if (mc_launcher_start (self, 1, err, sizeof err)) {
        mc_error ("cannot restart an engine: %s", err);
        return -1;
    }
    self->restarts_us [self->restart_next] = now_us? now_us: 1;
    self->restart_next = (self->restart_next + 1) % self->restart_limit;
    return (int64_t) self->pids [self->count - 1];
}

size_t
mc_launcher_running (const mc_launcher_t *self)
{
    return self->count;
}

//  Reap until none is left or the deadline passes.
static void
s_wait_all (mc_launcher_t *self, int64_t deadline_us)
{
    while (mc_launcher_running (self)) {
        mc_launcher_reap (self, NULL, NULL);
        if (!mc_launcher_running (self) || mc_time_mono_us () >= deadline_us)
            break;
        usleep (2000);
    }
}

static void
s_signal_all (mc_launcher_t *self, int signum)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->pids [i])
            kill (self->pids [i], signum);
}

void
mc_launcher_stop (mc_launcher_t *self, int grace_ms)
{
    s_wait_all (self, mc_time_mono_us () + (int64_t) grace_ms * 1000);
    if (mc_launcher_running (self)) {
        mc_warn ("%zu engines still running: sending SIGTERM", mc_launcher_running (self));
        s_signal_all (self, SIGTERM);
        s_wait_all (self, mc_time_mono_us () + 2000000);
    }
    if (mc_launcher_running (self)) {
        mc_warn ("%zu engines ignore SIGTERM: sending SIGKILL", mc_launcher_running (self));
        s_signal_all (self, SIGKILL);
        s_wait_all (self, mc_time_mono_us () + 5000000);
    }
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
//  Self test: arguments kept, nothing to reap or stop, the engine program
//  found; restarts (of /bin/true) within their limit per minute.

typedef struct {
    int64_t pid;
    int status;
    size_t count;
} s_test_exit_t;

static void
s_test_exited (void *arg, int64_t pid, int status)
{
    s_test_exit_t *exit = arg;
    exit->pid = pid;
    exit->status = status;
    exit->count++;
}

//  Restart at now_s (in seconds) and reap the process: its pid, or -1.
static int64_t
s_test_restart (mc_launcher_t *self, int64_t now_s)
{
    int64_t pid = mc_launcher_restart (self, now_s * 1000000);
    if (pid < 0)
        return -1;
    assert (mc_launcher_running (self) == 1);
    s_test_exit_t exit = { 0 };
    int64_t deadline = mc_time_mono_us () + 5000000;
    while (exit.count == 0 && mc_time_mono_us () < deadline) {
        mc_launcher_reap (self, s_test_exited, &exit);
        usleep (1000);
    }
    assert (exit.count == 1 && exit.pid == pid && WIFEXITED (exit.status) && mc_launcher_running (self) == 0);
    return pid;
}

void
mc_launcher_test (bool verbose)
{
    if (verbose)
        printf (" * mc_launcher: ");
    const char *extra [] = { "--kernel-path", "/tmp/k", "-v", NULL };
    mc_launcher_t *self = mc_launcher_new ("/bin/mcengine", "/tmp/engine.json", extra);
    assert (self && !strcmp (self->engine_bin, "/bin/mcengine") && !strcmp (self->conn_path, "/tmp/engine.json"));
    assert (!strcmp (self->extra [0], "--kernel-path") && !strcmp (self->extra [2], "-v") && !self->extra [3]);
    assert (self->extra [1] != extra [1]);                  //  copies: the caller's may go
    char err [64];
    assert (mc_launcher_start (self, 0, err, sizeof err) == 0 && mc_launcher_running (self) == 0);
    mc_launcher_reap (self, NULL, NULL);
    int64_t start = mc_time_mono_us ();
    mc_launcher_stop (self, 5000);                          //  nothing to wait for: at once
    assert (mc_time_mono_us () - start < 1000000 && mc_launcher_running (self) == 0);
    mc_launcher_destroy (&self);
    assert (self == NULL);
    mc_launcher_destroy (&self);
    self = mc_launcher_new ("mcengine", "c.json", NULL);
    assert (self && self->extra && !self->extra [0]);
    mc_launcher_destroy (&self);
    char bin [4096];
    mc_launcher_default_bin (bin, sizeof bin);
    size_t len = strlen (bin);
    assert (len >= 8 && !strcmp (bin + len - 8, "mcengine"));
    assert (!strcmp (bin, "mcengine") || access (bin, X_OK) == 0);

    //  No restarts unless allowed; then at most the limit in any minute,
    //  and none ever again once it has been passed.
    self = mc_launcher_new ("/bin/true", "c.json", NULL);
    assert (self && mc_launcher_restart (self, 1000000) == -1 && self->restarts_stopped);
    mc_launcher_destroy (&self);
    self = mc_launcher_new ("/bin/true", "c.json", NULL);
    assert (self && mc_launcher_set_restart_limit (self, 2) == 0);
    assert (s_test_restart (self, 1) > 0 && s_test_restart (self, 30) > 0);
    assert (s_test_restart (self, 60) == -1 && self->restarts_stopped);    //  3 within [1, 60]
    assert (s_test_restart (self, 1000) == -1);
    mc_launcher_destroy (&self);
    self = mc_launcher_new ("/bin/true", "c.json", NULL);
    assert (self && mc_launcher_set_restart_limit (self, 2) == 0);
    for (int64_t t = 1; t < 200; t += 31)                                  //  2 in any minute: allowed
        assert (s_test_restart (self, t) > 0);
    assert (s_test_restart (self, 194) == -1);                              //  156, 187, 194
    mc_launcher_destroy (&self);
    if (verbose)
        printf ("OK\n");
}
