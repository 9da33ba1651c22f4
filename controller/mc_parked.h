/*  mc_parked: client requests parked on a job until it finishes (submit
    with wait, wait, result with wait), and their deadlines. Requests are
    kept per job in the order they came, so the first one of a transient job
    is its submitter; deadlines are data in a binary heap, so the next one
    to pass is found in O(1) and each is removed in O(log n), never by a
    scan of the jobs. */
#ifndef MC_PARKED_H
#define MC_PARKED_H
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_parked_t mc_parked_t;

//  What the parked request asked for, and so what its answer holds.
typedef enum { MC_PARK_STATUS, MC_PARK_RESULT, MC_PARK_META } mc_park_kind_t;

//  One parked request.
typedef struct {
    uint64_t job;
    zframe_t *routing_id;           //  the client's (owned)
    uint64_t req;                   //  the client's request id, echoed in the answer
    mc_park_kind_t kind;
    int64_t deadline_us;            //  monotonic; 0 = none
} mc_park_t;

mc_parked_t *mc_parked_new (void);
//  Destroys every request still parked (nobody is answered).
void mc_parked_destroy (mc_parked_t **self_p);
//  Park a request on a job; routing_id is copied. deadline_us 0 waits
//  without one. 0, or -1 when out of memory.
int mc_parked_add (mc_parked_t *self, uint64_t job, zframe_t *routing_id, uint64_t req,
                   mc_park_kind_t kind, int64_t deadline_us);
//  Requests parked on this job.
size_t mc_parked_count (mc_parked_t *self, uint64_t job);
//  The first request parked on this job (borrowed), or NULL.
const mc_park_t *mc_parked_first (mc_parked_t *self, uint64_t job);
//  Take the first request parked on this job (the caller destroys it), or NULL.
mc_park_t *mc_parked_take (mc_parked_t *self, uint64_t job);
//  Take a request whose deadline is at or before now_us (the caller
//  destroys it), or NULL when none has passed.
mc_park_t *mc_parked_expired (mc_parked_t *self, int64_t now_us);
//  Requests parked with a deadline.
size_t mc_parked_timed (const mc_parked_t *self);
void mc_park_destroy (mc_park_t **park_p);

//  Self test.
void mc_parked_test (bool verbose);
#endif
