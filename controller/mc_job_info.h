/*  mc_job_info: what `status` reports about a job, and job ids. One record
    whether the job is still in memory (mc_job) or only in the store
    (mc_store), so that both answer a client the same way. */
#ifndef MC_JOB_INFO_H
#define MC_JOB_INFO_H
#include "mc_value.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_KERNEL_NAME_MAX MC_VALUE_KERNEL_NAME_MAX

//  What `status` reports about a job; the same whether the job is still in
//  memory or only in the store.
typedef struct {
    uint64_t id;
    char kind [8];              //  "map" or "apply"
    char kernel [MC_KERNEL_NAME_MAX + 1];
    uint64_t total, done, failed;   //  items
    uint64_t tasks;
    uint64_t seed;
    int64_t submitted_us;       //  wall clock
    int64_t finished_us;        //  wall clock, 0 while unfinished
    bool started;               //  a task has been dispatched
    bool single;                //  load-balanced apply, or reduced: its one value is the answer
    bool reduce;                //  results are summed at the controller (--reduce)
    bool aborted;               //  a client aborted it: its tasks without a result failed
    int32_t priority;           //  higher is served first (--priority, renice); 0 by default
    char user [65];             //  who submitted it: an added client key's name, "" for the owner
    char user_key [41];         //  that client key (Z85), "" for the owner: share.KEY may name it
} mc_job_info_t;

//  How the cluster owner's jobs (all with --insecure) name their user.
#define MC_JOB_OWNER "owner"

//  Pack the status object of a job: a map with room for `extra` more
//  key/value pairs, which the caller packs after it.
//  0, or -1 when the packer could not take it (out of memory).
int mc_job_info_pack (const mc_job_info_t *info, msgpack_packer *pk, uint32_t extra);
//  "queued", "running", "done", "failed" or "aborted" (finished after an abort).
const char *mc_job_info_state (const mc_job_info_t *info);
//  Format and parse job ids ("j17"); parse returns 0 or -1.
void mc_job_id_format (uint64_t id, char *buf, size_t len);
int mc_job_id_parse (const char *text, size_t len, uint64_t *id);
//  The same from a msgpack value (a request's "job", or one of a list):
//  0, or -1 when it is missing, no string, or no job id.
int mc_job_id_from (const msgpack_object *value, uint64_t *id);
//  A new hash table keyed by job ids stored in the key pointer itself
//  (no key is copied or freed), or NULL when out of memory.
zhashx_t *mc_job_id_table (void);


//  Self test: states, the packed status object, ids both ways.
void mc_job_info_test (bool verbose);
#endif
