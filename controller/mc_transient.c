/*  mc_transient: held request frames, kept results and relayed chunks. */
#include "mc_transient.h"
#include <string.h>

struct _mc_transient_t {
    zmsg_t *held;                   //  the request whose array frames the job refers to
    zframe_t **frames;              //  borrowed from held
    size_t frame_count;
    zmsg_t **results;               //  each task's RESULT message (owned)
    uint64_t result_count;          //  slots in results
    bool streams;                   //  a %pull whose large arrays come in chunks
    uint64_t *streamed;             //  per frame of its result: bytes relayed so far
    size_t streamed_count;          //  frames that have had chunks
    int stream_error;               //  MC_E_... once a chunk could not be relayed
    size_t held_bytes;              //  bytes of frames held: request, results and chunks
};

mc_transient_t *
mc_transient_new (bool streams)
{
    mc_transient_t *self = calloc (1, sizeof *self);
    if (self)
        self->streams = streams;
    return self;
}

void
mc_transient_destroy (mc_transient_t **self_p)
{
    mc_transient_t *self = *self_p;
    if (!self)
        return;
    free (self->streamed);
    for (uint64_t i = 0; i < self->result_count; i++)
        zmsg_destroy (&self->results [i]);
    free (self->results);
    free (self->frames);
    zmsg_destroy (&self->held);
    free (self);
    *self_p = NULL;
}

int
mc_transient_hold (mc_transient_t *self, zmsg_t **held_p, zframe_t *const *frames, size_t count)
{
    assert (!self->held);               //  a job comes from one request
    self->frames = malloc ((count? count: 1) * sizeof *frames);
    if (!self->frames)
        return -1;
    if (count)
        memcpy (self->frames, frames, count * sizeof *frames);
    self->frame_count = count;
    self->held = *held_p;
    *held_p = NULL;
    for (size_t i = 0; i < count; i++)
        self->held_bytes += zframe_size (frames [i]);
    return 0;
}

zframe_t *const *
mc_transient_frames (const mc_transient_t *self, size_t *count)
{
    *count = self->frame_count;
    return self->frames;
}

int
mc_transient_keep (mc_transient_t *self, uint64_t number, uint64_t tasks, zmsg_t **result_p)
{
    assert (number < tasks);
    if (!self->results) {
        self->results = calloc (tasks, sizeof *self->results);
        if (!self->results) {
            zmsg_destroy (result_p);
            return -1;
        }
        self->result_count = tasks;
    }
    assert (tasks == self->result_count);
    zmsg_destroy (&self->results [number]);
    self->results [number] = *result_p;
    *result_p = NULL;
    //  Everything after the header is array frames.
    zmsg_t *msg = self->results [number];
    for (zframe_t *f = zmsg_first (msg)? zmsg_next (msg): NULL; f; f = zmsg_next (msg))
        self->held_bytes += zframe_size (f);
    return 0;
}

zmsg_t *
mc_transient_result (const mc_transient_t *self, uint64_t number)
{
    return number < self->result_count? self->results [number]: NULL;
}

size_t
mc_transient_held_bytes (const mc_transient_t *self)
{
    return self->held_bytes;
}

bool
mc_transient_streams (const mc_transient_t *self)
{
    return self->streams;
}

int
mc_transient_chunk (mc_transient_t *self, const mc_msg_t *chunk)
{
    if (self->stream_error)
        return -1;
    size_t bytes = zframe_size (chunk->frames [0]);
    bool next_frame = chunk->offset == 0 && chunk->frame >= self->streamed_count;
    bool same_frame = self->streamed_count && chunk->frame == self->streamed_count - 1
                   && chunk->offset == self->streamed [chunk->frame];
    if (!next_frame && !same_frame) {
        self->stream_error = MC_E_MALFORMED;
        return -1;
    }
    if (next_frame) {
        uint64_t *grown = realloc (self->streamed, (chunk->frame + 1) * sizeof *grown);
        if (!grown) {
            self->stream_error = MC_E_INTERNAL;
            return -1;
        }
        memset (grown + self->streamed_count, 0, (chunk->frame + 1 - self->streamed_count) * sizeof *grown);
        self->streamed = grown;
        self->streamed_count = chunk->frame + 1;
    }
    self->streamed [chunk->frame] += bytes;
    self->held_bytes += bytes;
    return 0;
}

void
mc_transient_fail (mc_transient_t *self, int code)
{
    if (!self->stream_error)
        self->stream_error = code;
}

int
mc_transient_check (const mc_transient_t *self, const mc_msg_t *result)
{
    if (self->stream_error)
        return self->stream_error;
    for (size_t i = 0; i < result->frame_count || i < self->streamed_count; i++) {
        uint64_t relayed = i < self->streamed_count? self->streamed [i]: 0;
        uint64_t wanted = result->streamed && i < result->frame_count? result->streamed [i]: 0;
        if (relayed != wanted)
            return MC_E_MALFORMED;
    }
    return MC_OK;
}

//  --------------------------------------------------------------------------
//  Self test

//  A result message of a header and one array frame of `size` bytes.
static zmsg_t *
s_result (size_t size)
{
    zmsg_t *msg = zmsg_new ();
    assert (msg);
    assert (zmsg_addstr (msg, "header") == 0);
    assert (zmsg_addmem (msg, "0123456789", size) == 0);
    return msg;
}

//  Held frames and kept results: counted in held bytes, replaced in place.
static void
s_test_keep (void)
{
    mc_transient_t *self = mc_transient_new (false);
    assert (self && !mc_transient_streams (self) && mc_transient_held_bytes (self) == 0);
    zmsg_t *request = s_result (6);
    zframe_t *frames [1] = { zmsg_last (request) };
    assert (mc_transient_hold (self, &request, frames, 1) == 0 && !request);
    size_t count;
    zframe_t *const *held = mc_transient_frames (self, &count);
    assert (count == 1 && held [0] == frames [0] && mc_transient_held_bytes (self) == 6);
    assert (mc_transient_result (self, 0) == NULL);
    zmsg_t *result = s_result (3);
    zmsg_t *kept = result;
    assert (mc_transient_keep (self, 1, 2, &result) == 0 && !result);
    assert (mc_transient_result (self, 1) == kept && mc_transient_result (self, 0) == NULL);
    assert (mc_transient_result (self, 2) == NULL && mc_transient_held_bytes (self) == 9);
    result = s_result (4);
    assert (mc_transient_keep (self, 1, 2, &result) == 0 && mc_transient_result (self, 1) != kept);
    assert (mc_transient_held_bytes (self) == 13);
    mc_transient_destroy (&self);
    assert (self == NULL);
    mc_transient_destroy (&self);       //  accepts NULL
}

//  A streamed %pull counts the chunks relayed, which must come in order,
//  and its result must stand for exactly those bytes.
static void
s_test_stream (void)
{
    char bytes [10] = "abcdefghij";
    zframe_t *piece = zframe_new (bytes, 4);
    zframe_t *last = zframe_new (bytes, 2);
    assert (piece && last);
    mc_msg_t chunk, result;
    mc_msg_init (&chunk);
    mc_msg_init (&result);
    chunk.frames = &piece;
    chunk.frame_count = 1;
    chunk.frame_size = 10;
    uint64_t streamed [2] = { 10, 0 };
    result.frame_count = 2;
    //  Chunks at 0, 4, then a short last one at 8: in order, so relayed.
    mc_transient_t *self = mc_transient_new (true);
    assert (self && mc_transient_streams (self));
    assert (mc_transient_check (self, &result) == MC_OK);          //  nothing streamed, nothing relayed
    for (uint64_t at = 0; at < 8; at += 4) {
        chunk.offset = at;
        assert (mc_transient_chunk (self, &chunk) == 0);
    }
    result.streamed = streamed;
    assert (mc_transient_check (self, &result) == MC_E_MALFORMED);  //  2 bytes short
    chunk.frames = &last;
    chunk.offset = 8;
    assert (mc_transient_chunk (self, &chunk) == 0 && mc_transient_check (self, &result) == MC_OK);
    assert (mc_transient_held_bytes (self) == 10);
    streamed [1] = 5;                                               //  a frame never relayed
    assert (mc_transient_check (self, &result) == MC_E_MALFORMED);
    mc_transient_destroy (&self);
    //  A gap, or a frame started again, stops the relay for good.
    self = mc_transient_new (true);
    chunk.frames = &piece;
    chunk.offset = 4;
    assert (mc_transient_chunk (self, &chunk) == -1);
    chunk.offset = 0;
    assert (mc_transient_chunk (self, &chunk) == -1);
    mc_transient_destroy (&self);
    self = mc_transient_new (true);
    assert (mc_transient_chunk (self, &chunk) == 0 && mc_transient_chunk (self, &chunk) == -1);
    mc_transient_fail (self, MC_E_QUEUE_FULL);                      //  the first code stays
    assert (mc_transient_check (self, &result) == MC_E_MALFORMED);
    mc_transient_destroy (&self);
    //  Stopped by the holder, the relay fails with that code.
    self = mc_transient_new (true);
    mc_transient_fail (self, MC_E_QUEUE_FULL);
    assert (mc_transient_chunk (self, &chunk) == -1 && mc_transient_check (self, &result) == MC_E_QUEUE_FULL);
    mc_transient_destroy (&self);
    //  Where nothing was relayed, no streamed result is taken.
    self = mc_transient_new (false);
    assert (!mc_transient_streams (self) && mc_transient_check (self, &result) == MC_E_MALFORMED);
    mc_transient_destroy (&self);
    zframe_destroy (&piece);
    zframe_destroy (&last);
}

void
mc_transient_test (bool verbose)
{
    if (verbose)
        printf (" * mc_transient: ");
    s_test_keep ();
    s_test_stream ();
    if (verbose)
        printf ("OK\n");
}
