/*  mc_config: every named limit of mccluster, with its default and unit,
    written down in one place (mc_config.c). Programs start from the
    defaults, then apply the profile's mccluster.conf, then their options. */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    int64_t heartbeat_ms;           //  engine ping interval
    int64_t heartbeat_liveness;     //  missed intervals before an engine is expired
    int64_t heartbeat_pings_per_s;  //  budget of PINGs a second from all engines: past it, intervals double
    int64_t max_inflight;           //  most tasks in flight per engine (pipeline depth cap)
    int64_t pipeline_ms;            //  an engine is given about this much work ahead, >= 1 task
    int64_t max_queued_tasks;       //  tasks waiting at the controller; past it submissions are refused
    int64_t max_msg_bytes;          //  largest message accepted on any socket
    int64_t store_flush_ms;         //  longest time a result waits before its batch is committed
    int64_t store_fail_ms;          //  how long a failing store may hold a finished job before it fails
    int64_t connect_timeout_ms;     //  client: how long to wait for the controller to answer
    int64_t register_timeout_ms;    //  ipclusterd -n: how long local engines may take to register
    int64_t engine_grace_ms;        //  ipclusterd -n: how long its engines outlive it, waiting for a restart
    int64_t max_waiters_per_job;    //  parked wait/get requests per job
    int64_t max_value_bytes;        //  largest value a client may push or scatter (checked before sending)
    int64_t max_client_bytes;       //  array data (requests and results) held for one client at a time
    int64_t max_items_per_task;     //  items in one task of a map (chunksize, or a direct map's block)
    int64_t max_task_bytes;         //  bytes of one packed TASK: args, kwargs, items and the arrays it carries
    int64_t max_job_bytes;          //  bytes of one submit request: its body and array frames
    int64_t engine_restarts_per_min;    //  ipclusterd -n: dead local engines restarted per minute; past it, no more
    int64_t store_max_bytes;        //  past it the oldest finished jobs are purged; 0 = no bound
    int64_t result_ttl_s;           //  finished jobs older than this are purged; 0 = kept for ever
    int64_t max_task_deaths;        //  engines a load-balanced task may kill (die running it) before it fails
    int64_t launcher_poll_ms;       //  ipclusterd: how often batch systems are asked about their jobs
    int64_t autoscale_idle_s;       //  ipclusterd --autoscale: idle engines are released after this
    char launcher_opts [2048];      //  "KEY=VALUE\n" per `launcher.KEY = VALUE` line: launchers' options
    char shares [4096];             //  "USER WEIGHT\n" per `share.NAME_OR_KEY = WEIGHT` line: users' weights
    int64_t abort_grace_ms;         //  an aborted job's running kernel may ignore its cancel flag this long; then its engine restarts
} mc_config_t;

//  Fill with the built-in defaults.
void mc_config_defaults (mc_config_t *self);
//  Set one key from text; returns 0, or -1 with a message in err for an
//  unknown key or a value that is not a positive integer.
int mc_config_set (mc_config_t *self, const char *key, const char *value, char *err, size_t errlen);
//  Apply "key = value" lines of a file ('#' starts a comment). A missing
//  file is not an error (returns 0); a bad line is (-1, message in err).
int mc_config_load (mc_config_t *self, const char *path, char *err, size_t errlen);
#define MC_CONFIG_SHARE_MAX 1000    //  largest share.NAME_OR_KEY weight
//  Print every key with its value and unit, one per line.
void mc_config_print (const mc_config_t *self, FILE *out);
//  Self test: defaults, keys set and refused, files with bad lines, print.
void mc_config_test (bool verbose);
#endif
