/*  mc_server: what the controller's modules share, one per controller
    (mc_controller owns it): the two sockets, the engine registry, the
    scheduler, the store, the jobs in memory, the parked requests and the
    bytes held per client. And the end of tasks, which both peers' sides
    drive: a job whose last task ends is listed as finishing, for
    mc_answer_finished to report. */
#ifndef MC_SERVER_H
#define MC_SERVER_H
#include "mc_auth.h"
#include "mc_config.h"
#include "mc_held.h"
#include "mc_job.h"
#include "mc_launcher.h"
#include "mc_parked.h"
#include "mc_registry.h"
#include "mc_sched.h"
#include "mc_store.h"
#include <czmq.h>
#include <msgpack.h>

typedef struct {
    mc_config_t config;
    zsock_t *engine_sock, *client_sock;
    mc_auth_t *auth;                //  who may connect, and the trusted keys
    mc_conn_t conn [2];             //  the connection files, by role
    mc_registry_t *registry;
    mc_sched_t *sched;
    mc_store_t *store;
    zhashx_t *jobs;                 //  unfinished jobs by id (owned)
    mc_parked_t *parked;            //  requests waiting for a job to finish
    mc_held_t *held;                //  array bytes held per client
    mc_launcher_t *launcher;        //  ipclusterd's launchers (borrowed), or NULL
    struct _mc_libraries_t *libraries;  //  libraries clients added (owned; mc_libraries.h), or NULL
    char launcher_kind [16];        //  the kind `engines_add` uses when it names none
    const char *const *launcher_opts;   //  and the options autoscaling submits with (ipclusterd's)
    size_t autoscale_min, autoscale_max;    //  --autoscale MIN:MAX (max 0: off)
    int64_t autoscale_next_us;      //  no submission before (monotonic)
    zlistx_t *finishing;            //  jobs finished during this event, to report
    zlistx_t *unstored;             //  finished jobs waiting for their commit, unanswered (mc_answer)
    zlistx_t *store_failed;         //  jobs failed because the store failed, kept until that is stored
    uint64_t next_job_id;
    msgpack_sbuffer buffer;         //  reused for every encoded body
    int32_t *outboxes;              //  ids of the engines with TASKs in their outbox (mc_engines_flush)
    size_t outbox_count, outbox_size;
    bool shutdown;                  //  a client asked us to stop
    int64_t awaited_until_us;       //  resumed direct tasks wait for their engines until then (monotonic; 0: none wait)
    int64_t retention_at_us;        //  next automatic purge (mc_retention_tick), monotonic
    bool retention_full;            //  past store_max_bytes with nothing to purge (said once)
    //  Start-up: call ready_fn once `expect` engines have registered.
    size_t expect;
    bool ready;
    void (*ready_fn) (void *arg, size_t engines);
    void *ready_arg;
} mc_server_t;

//  Create what the server holds besides its sockets and store (which the
//  controller opens). 0, or -1 when out of memory.
int mc_server_init (mc_server_t *self, const mc_config_t *config);
//  Free everything the server holds (parked requests go unanswered).
void mc_server_fini (mc_server_t *self);
//  The unfinished job with this id (borrowed), or NULL.
mc_job_t *mc_server_job (mc_server_t *self, uint64_t id);
//  Clear the shared body buffer and return a packer that writes into it.
msgpack_packer mc_server_body (mc_server_t *self);
//  A task finished: count it; a job that is now finished is reported at
//  the end of this event (mc_answer_finished).
void mc_server_task_finished (mc_server_t *self, mc_job_t *job, mc_task_t *task, bool ok, int64_t run_us);
//  Record a failed task that never ran, or whose engine is gone.
void mc_server_fail_task (mc_server_t *self, mc_task_t *task, int64_t engine, uint64_t code, const char *text);
//  The scheduler's callback for a direct task whose engine is gone.
void mc_server_task_lost (void *arg, mc_task_t *task);
//  Self test: the shared state, and tasks counted towards their jobs.
void mc_server_test (bool verbose);
#endif
