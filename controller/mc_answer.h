/*  mc_answer: the controller's replies to clients. A reply's body is the
    server's shared buffer (mc_server_body), packed by the caller; a job is
    answered with its status object, its result object (from the store), or,
    for a transient job, its results kept in memory, whose arrays go out as
    frames of the reply without being copied. */
#ifndef MC_ANSWER_H
#define MC_ANSWER_H
#include "mc_server.h"

//  Send a REPLY: with MC_OK the body is the shared buffer, else text says
//  what went wrong.
void mc_answer_reply (mc_server_t *server, zframe_t *routing_id, uint64_t req, uint64_t status, const char *text);
//  Send an error REPLY with a formatted one-line text.
void mc_answer_error (mc_server_t *server, zframe_t *routing_id, uint64_t req, uint64_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
//  Answer a query about a job at once: its status object (MC_PARK_STATUS)
//  or its result object, with task metadata for MC_PARK_META.
void mc_answer_job (mc_server_t *server, zframe_t *routing_id, uint64_t req, mc_park_kind_t kind,
                    const mc_job_info_t *info);
//  Answer a parked request about a job: the submitter of a finished
//  transient job gets its results (which only it holds), everyone else the
//  status or result object.
void mc_answer_park (mc_server_t *server, const mc_park_t *park, mc_job_t *job, const mc_job_info_t *info,
                     bool submitter);
//  Report the jobs finished during this event: commit them to the store,
//  then answer everyone parked on them, then forget them (the store has
//  them now). While the store is failing, finished jobs wait unanswered
//  (called again each tick) for up to store_fail_ms of the incident, then
//  fail with an error naming the store and the cause; transient jobs do
//  not wait.
void mc_answer_finished (mc_server_t *server);
//  False while a finished job waits for its commit (it is not done yet).
bool mc_answer_stored (mc_server_t *server, mc_job_t *job);

//  A string field of a request's body into buf: 1 when present, 0 when
//  absent (or nil), -1 when it is not a string of at most len - 1 bytes
//  without a NUL (then the request is answered BAD_ARGUMENT, "OP: 'KEY'
//  must be ...").
int mc_answer_str_field (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body, const char *op,
                         const char *key, char *buf, size_t len);

//  The "job" field of a request's body (an id like "j12") into *id: 0, or
//  -1 when it is none (then the request is answered BAD_ARGUMENT).
int mc_answer_job_field (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body, uint64_t *id);

//  Self test: jobs finished, committed and answered over an inproc socket.
void mc_answer_test (bool verbose);
#endif
