/*  mc_fanout: one transient job per target, all sent at once, and their
    replies (private to libmcclient). Each namespace operation of the
    direct view runs on every target this way, so that the controller
    forwards one target's data while the next still arrives. Array data is
    sent from the caller's memory, never copied; large arrays in replies
    come in chunks, which a fanout puts together itself or hands to an
    on_chunk callback that puts them where they belong. */
#ifndef MC_FANOUT_H
#define MC_FANOUT_H
#include "mc_client_int.h"
#include "mc_ops.h"

typedef struct _mc_fanout_t mc_fanout_t;

//  What an on_chunk callback did with a chunk.
typedef enum {
    MC_CHUNK_COPY,                  //  nothing: the fanout keeps the frame's bytes itself
    MC_CHUNK_PLACED,                //  put its bytes where they belong
    MC_CHUNK_LATER                  //  ask again later: hold the chunk (only when not `must`)
} mc_chunk_use_t;

//  Called as each target's results arrive (in any order), while the other
//  targets' replies are still on their way.
typedef void (mc_fanout_results_fn) (mc_fanout_t *self, size_t target, void *arg);
//  Offered each chunk of a target's streamed arrays, in order. The answer
//  to the first chunk of a frame decides for the whole frame;
//  MC_CHUNK_LATER holds it (and all that follow) to be offered again after
//  the next chunk or reply, with `must` set once its target's reply is in.
typedef mc_chunk_use_t (mc_fanout_chunk_fn) (mc_fanout_t *self, size_t target, const mc_msg_t *chunk, bool must,
                                             void *arg);

//  A fanout over the engines that targets stands for: NULL or "all" for
//  every engine (asked of the controller), else a JSON array of engine
//  ids (borrowed). NULL with the client's error set.
mc_fanout_t *mc_fanout_new (mc_client_t *client, const json_t *targets);
//  Waits until ZeroMQ has let go of every array sent from the caller's memory.
void mc_fanout_destroy (mc_fanout_t **self_p);
//  Number of targets, and the engine id of one.
size_t mc_fanout_count (const mc_fanout_t *self);
long long mc_fanout_engine (const mc_fanout_t *self, size_t target);
//  The client whose error the fanout sets (borrowed).
mc_client_t *mc_fanout_client (mc_fanout_t *self);

//  Start target's body: the job {kind, kernel, transient, targets: [id]}
//  of namespace operation op, with room for `extra` more keys, which the
//  caller packs with the packer returned (the fanout's).
msgpack_packer *mc_fanout_body (mc_fanout_t *self, size_t target, mc_nsop_code_t op, uint32_t extra);
//  Bytes in target's body so far.
size_t mc_fanout_body_size (const mc_fanout_t *self, size_t target);
//  Append msgpack bytes packed elsewhere to target's body. 0 or -1.
int mc_fanout_body_append (mc_fanout_t *self, size_t target, const void *data, size_t size);
//  Refer in target's body to an array (shape as in `shape`) whose bytes
//  are sent from data: the caller keeps them until the fanout is destroyed.
//  0, or -1 with the error set.
int mc_fanout_pack_array (mc_fanout_t *self, size_t target, const mc_array_t *shape, const void *data);
//  Take a malloc'd block (target's array bytes) to free with the fanout.
void mc_fanout_own (mc_fanout_t *self, size_t target, void **data_p);
//  Callbacks for mc_fanout_run, with arg (borrowed); either may be NULL.
void mc_fanout_set_handlers (mc_fanout_t *self, mc_fanout_results_fn *on_results, mc_fanout_chunk_fn *on_chunk,
                             void *arg);

//  Send every request, then collect every reply. 0 when each target's
//  results are in; else -1 with an error that names the engines and says
//  what went wrong on each.
int mc_fanout_run (mc_fanout_t *self);
//  Run and destroy: 0 or -1.
int mc_fanout_finish (mc_fanout_t **self_p);
//  Target's first result once its reply is in (borrowed), else NULL.
const msgpack_object *mc_fanout_result (const mc_fanout_t *self, size_t target);
//  Target's reply, whose frames the result's arrays refer to (borrowed).
const mc_msg_t *mc_fanout_reply (const mc_fanout_t *self, size_t target);

//  Self test: error summaries, and streamed chunks put together (in
//  order, held and offered again, incomplete, out of order).
void mc_fanout_test (bool verbose);
#endif
