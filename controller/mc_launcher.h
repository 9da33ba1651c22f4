/*  mc_launcher: starts local engine processes and makes sure none is left
    behind: reaps them as they exit and, on stop, waits, then terminates,
    then kills what remains. (ssh, Slurm, MPI and PBS launchers come later
    behind the same calls.) */
#ifndef MC_LAUNCHER_H
#define MC_LAUNCHER_H
#include <stdbool.h>
#include <stddef.h>

typedef struct _mc_launcher_t mc_launcher_t;

//  engine_bin: path of mcengine; conn_path: the connection file to pass;
//  extra: more arguments for every engine (NULL-terminated, may be NULL).
//  All are copied. NULL when out of memory.
mc_launcher_t *mc_launcher_new (const char *engine_bin, const char *conn_path, const char *const *extra);
void mc_launcher_destroy (mc_launcher_t **self_p);
//  Start n engines. 0, or -1 with err when one could not be started.
int mc_launcher_start (mc_launcher_t *self, size_t n, char *err, size_t errlen);
//  Reap engines that have exited, without blocking; logs each.
void mc_launcher_reap (mc_launcher_t *self);
//  Engines still running.
size_t mc_launcher_running (const mc_launcher_t *self);
//  Wait up to grace_ms for engines to exit, then SIGTERM, then SIGKILL.
void mc_launcher_stop (mc_launcher_t *self, int grace_ms);
//  Find mcengine beside the running program, else rely on PATH.
void mc_launcher_default_bin (char *buf, size_t len);
//  Self test (starts no process): arguments, an empty stop, the default program.
void mc_launcher_test (bool verbose);
#endif
