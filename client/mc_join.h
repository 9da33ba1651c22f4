/*  mc_join: the parts of a gather joined back into one value (private to
    libmcclient): JSON lists, or one array joined while the parts arrive,
    streamed parts put straight into place chunk by chunk. Blocks join end
    to end; round robin deals item k of every part in turn, undoing a
    scatter with the same distribution. */
#ifndef MC_JOIN_H
#define MC_JOIN_H
#include "mc_fanout.h"

typedef struct _mc_join_t mc_join_t;

//  A join of the parts of name (borrowed: kept for error messages), or NULL.
mc_join_t *mc_join_new (const char *name, bool round_robin);
void mc_join_destroy (mc_join_t **self_p);
//  The fanout's callbacks for a join, whose arg is the join (see
//  mc_fanout_set_handlers): each part as it comes, each chunk of one.
void mc_join_part (mc_fanout_t *fanout, size_t part, void *self);
mc_chunk_use_t mc_join_chunk (mc_fanout_t *fanout, size_t part, const mc_msg_t *chunk, bool must, void *self);
//  Once the fanout has run: the joined array, whose data is now the
//  caller's (free() it). 0, or -1 with the fanout's client's error set
//  (also when a part was no array, or the parts differ in dtype or row shape).
int mc_join_array (mc_join_t *self, mc_fanout_t *fanout, mc_array_t *array);
//  JSON lists (borrowed) joined into a new list, or NULL for no memory.
json_t *mc_join_lists (const json_t *parts, bool round_robin);

//  Self test: lists and rows joined in blocks and round robin.
void mc_join_test (bool verbose);
#endif
