/*  mc_controller: the server of ipclusterd. One zloop, no threads, no locks:
    it registers and expires engines, takes submissions from clients, hands
    tasks to engines through mc_sched, records everything in mc_store and
    answers clients, parking those that wait for a job. */
#ifndef MC_CONTROLLER_H
#define MC_CONTROLLER_H
#include "mc_config.h"
#include "mc_conn.h"
#include "mc_launcher.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct _mc_controller_t mc_controller_t;
//  Called once, from the loop, when the expected engines have registered.
typedef void (mc_controller_ready_fn) (void *arg, size_t engines);
//  Called on every housekeeping tick (for example to reap child processes).
typedef void (mc_controller_tick_fn) (void *arg);

//  Load or make the keys (unless insecure, see mc_auth), bind both
//  endpoints on ip (ports 0 = chosen by the system) and on Unix sockets,
//  open the store and write the connection files into profile_dir. NULL
//  with err.
mc_controller_t *mc_controller_new (const mc_config_t *config, const char *profile_dir,
                                    const char *ip, int engine_port, int client_port, bool insecure,
                                    char *err, size_t errlen);
//  Remove the connection files and free everything.
void mc_controller_destroy (mc_controller_t **self_p);
//  A role's connection file, and where it is.
const mc_conn_t *mc_controller_conn (const mc_controller_t *self, mc_role_t role);
const char *mc_controller_conn_path (const mc_controller_t *self, mc_role_t role);
//  How many engines are registered now.
size_t mc_controller_engines (const mc_controller_t *self);
//  Of count process ids of this host (sorted), set seen [i] for each that is
//  a registered engine's: one pass over the engines.
void mc_controller_seen_pids (const mc_controller_t *self, const int64_t *pids, size_t count, bool *seen);
void mc_controller_set_tick (mc_controller_t *self, mc_controller_tick_fn *tick, void *arg);
//  Also run the tick function as soon as fd is readable, once what waits
//  on it is read (fd is borrowed and non-blocking: ipclusterd's SIGCHLD
//  signalfd, so that a child's death is seen at once). Before run.
void mc_controller_tick_on (mc_controller_t *self, int fd);
//  A local engine process (started by ipclusterd) has exited with this
//  waitpid status: its engine is forgotten at once and its load-balanced
//  tasks queued again (mc_proto.md §4). Returns its engine id, or -1 when
//  it had none, with its restarts so far in *restarts.
int64_t mc_controller_engine_exited (mc_controller_t *self, int64_t pid, int status, uint32_t *restarts);
//  The local engine process pid was started in place of engine id, which
//  died: it registers under that id, with this many restarts. 0, or -1
//  when out of memory.
int mc_controller_engine_restarted (mc_controller_t *self, int64_t id, int64_t pid, uint32_t restarts);
//  The launcher that starts engines (borrowed; ipclusterd's), for the
//  operations that grow and shrink the cluster, and the kind they use by
//  default.
void mc_controller_set_launcher (mc_controller_t *self, mc_launcher_t *launcher, const char *kind,
                                 const char *const *opts);
//  Autoscale between min and max engines (max 0: off): see mc_scale_tick.
void mc_controller_set_autoscale (mc_controller_t *self, size_t min, size_t max);
//  An allocation of the launcher ended (its batch job left the queue, its
//  ssh session or mpiexec exited): its engines are forgotten at once and
//  their load-balanced tasks queued again, as for a dead local engine.
//  Returns how many engines were dropped.
//  With host, only the allocation's engines on that host are gone.
size_t mc_controller_alloc_ended (mc_controller_t *self, uint32_t alloc, const char *host, const char *why);
//  An allocation of the launcher was made or changed: it is stored and
//  committed at once (mc_proto.md §8), so that a controller started after
//  a crash knows its batch job. Rare: a few times in an allocation's life.
void mc_controller_alloc_changed (mc_controller_t *self, const mc_alloc_info_t *info);
//  After set_launcher, before any allocation is added: take up the
//  allocations that the store kept from the controller before (see
//  mc_resume_allocations); *taken gets the engines of those of this kind
//  that are still live (their batch jobs). 0, or -1 with err.
int mc_controller_resume_allocations (mc_controller_t *self, const char *kind, size_t *taken, char *err, size_t errlen);
//  When patient, engines that have not registered within
//  register_timeout_ms do not make run fail: the cluster is declared ready
//  with those that have (engines waiting in a batch queue).
void mc_controller_set_patient (mc_controller_t *self, bool patient);
//  Serve until SIGINT/SIGTERM or a client's shutdown. When expect > 0, call
//  ready once that many engines have registered, or fail after the
//  configured register timeout. Returns 0, or -1 on failure.
int mc_controller_run (mc_controller_t *self, size_t expect, mc_controller_ready_fn *ready, void *arg);
//  Tell every engine to stop and wait up to timeout_ms for their goodbyes.
void mc_controller_stop_engines (mc_controller_t *self, int timeout_ms);

//  Self test: binding, the connection file written and removed, a local
//  engine's death and its restart under its id.
void mc_controller_test (bool verbose);
#endif
