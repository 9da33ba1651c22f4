/*  mc_launcher: starts local engine processes and makes sure none is left
    behind: reaps them as they exit, starts dead ones again within a limit
    per minute and, on stop, waits, then terminates, then kills what remains. (ssh, Slurm, MPI and PBS launchers come later
    behind the same calls.) */
#ifndef MC_LAUNCHER_H
#define MC_LAUNCHER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _mc_launcher_t mc_launcher_t;
//  Told of each engine process reaped: its pid and waitpid status.
typedef void (mc_launcher_exit_fn) (void *arg, int64_t pid, int status);

//  engine_bin: path of mcengine; conn_path: the connection file to pass;
//  extra: more arguments for every engine (NULL-terminated, may be NULL).
//  All are copied. NULL when out of memory.
mc_launcher_t *mc_launcher_new (const char *engine_bin, const char *conn_path, const char *const *extra);
void mc_launcher_destroy (mc_launcher_t **self_p);
//  Start n engines. 0, or -1 with err when one could not be started.
int mc_launcher_start (mc_launcher_t *self, size_t n, char *err, size_t errlen);
//  Reap engines that have exited, without blocking; logs each and, when
//  fn is not NULL, tells fn.
void mc_launcher_reap (mc_launcher_t *self, mc_launcher_exit_fn *fn, void *arg);
//  Allow at most per_min restarts in any minute (0, the default: none).
//  0, or -1 when out of memory.
int mc_launcher_set_restart_limit (mc_launcher_t *self, int64_t per_min);
//  Start one engine in place of one that died (now_us: monotonic time).
//  The first restart past the limit is refused and logged, and so is every
//  one after it: an engine that keeps dying is not started for ever. The
//  new process's pid, or -1.
int64_t mc_launcher_restart (mc_launcher_t *self, int64_t now_us);
//  Engines still running.
size_t mc_launcher_running (const mc_launcher_t *self);
//  Wait up to grace_ms for engines to exit, then SIGTERM, then SIGKILL.
void mc_launcher_stop (mc_launcher_t *self, int grace_ms);
//  Find mcengine beside the running program, else rely on PATH.
void mc_launcher_default_bin (char *buf, size_t len);
//  Self test: arguments, an empty stop, the default program, and the limit
//  on restarts (it starts /bin/true).
void mc_launcher_test (bool verbose);
#endif
