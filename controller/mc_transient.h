/*  mc_transient: what a transient job (namespace operations, arrays) holds
    in memory instead of writing to the store: the request whose array
    frames its tasks refer to, each task's RESULT message until the
    submitter is answered, and, for a streamed %pull, how many bytes of
    each result frame have been relayed to the submitter as chunks. A job
    owns one (mc_job.h forwards to it); it knows nothing of jobs. */
#ifndef MC_TRANSIENT_H
#define MC_TRANSIENT_H
#include "mc_proto.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_transient_t mc_transient_t;

//  An empty holder; streams: its one result's large arrays come in chunks.
//  NULL when out of memory.
mc_transient_t *mc_transient_new (bool streams);
void mc_transient_destroy (mc_transient_t **self_p);
//  Take the request message that holds the job's array frames; frames
//  (borrowed from it) are what the job's array references index. 0, or -1
//  when out of memory (then nothing is taken).
int mc_transient_hold (mc_transient_t *self, zmsg_t **held_p, zframe_t *const *frames, size_t count);
//  The held request's frames (borrowed), *count of them.
zframe_t *const *mc_transient_frames (const mc_transient_t *self, size_t *count);
//  Keep the RESULT message of task `number` of `tasks` (header then array
//  frames), replacing an earlier one. Taken either way: 0, or -1 when out
//  of memory (then it is destroyed, and the task reads as without result).
int mc_transient_keep (mc_transient_t *self, uint64_t number, uint64_t tasks, zmsg_t **result_p);
//  Task number's kept RESULT message (borrowed), or NULL.
zmsg_t *mc_transient_result (const mc_transient_t *self, uint64_t number);
//  Bytes of array frames held: the request's, the kept results' and the
//  chunks relayed.
size_t mc_transient_held_bytes (const mc_transient_t *self);

bool mc_transient_streams (const mc_transient_t *self);
//  Count a RESULT_CHUNK as relayed: 0, or -1 (and nothing more is relayed)
//  when it is not the next chunk in order.
int mc_transient_chunk (mc_transient_t *self, const mc_msg_t *chunk);
//  Stop relaying: the task will fail with this code (MC_E_...); the first
//  code given stays.
void mc_transient_fail (mc_transient_t *self, int code);
//  MC_OK when the result's streamed frames are exactly the bytes relayed
//  (none when nothing was), else the code to fail it with.
int mc_transient_check (const mc_transient_t *self, const mc_msg_t *result);

//  Self test: held bytes, kept results, chunk order and the final check.
void mc_transient_test (bool verbose);
#endif
