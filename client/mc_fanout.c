/*  mc_fanout: one request per target and their replies, with the chunks of
    streamed arrays put together as they come. */
#include "mc_fanout.h"
#include "mc_pages.h"
#include "mc_value.h"

//  One request: its msgpack body and the array bytes it refers to.
typedef struct {
    mc_packbuf_t out;               //  the body's bytes
    msgpack_packer pk;
    mc_slice_t *slices;
    size_t slice_count;
    void *owned;                    //  bytes gathered for this request (freed at the end)
} s_body_t;

//  A target's streamed arrays, put together from their chunks: by frame
//  number of the reply, its bytes so far (in `frame`, or where on_chunk
//  put them when `frame` is NULL).
typedef struct {
    zframe_t *frame;
    uint64_t got;
} s_streamed_t;

typedef struct {
    s_streamed_t *frames;
    size_t count;
    zlist_t *held;                  //  chunks (mc_msg_t *) on_chunk cannot place yet, in order
    const char *problem;            //  why they cannot be used, or NULL
} s_stream_t;

struct _mc_fanout_t {
    mc_client_t *client;
    json_t *ids;                    //  the targets' engine ids
    size_t count;
    s_body_t *bodies;
    mc_msg_t *replies;
    msgpack_zone zone;
    bool zoned;                     //  zone is initialised
    msgpack_object *results;        //  per target: the "results" of its reply
    s_stream_t *streams;            //  per target
    mc_fanout_results_fn *on_results;
    mc_fanout_chunk_fn *on_chunk;
    size_t held;                    //  chunks held, over all targets
    void *arg;                      //  for the callbacks
};

#define S_MAX_PROBLEMS 16           //  distinct engine errors an error message names

//  The engine ids that targets stand for (a new JSON array), or NULL.
static json_t *
s_target_ids (mc_client_t *client, const json_t *targets)
{
    if (targets && json_is_array (targets) && json_array_size (targets) > 0) {
        json_t *ids = json_deep_copy (targets);
        if (!ids)
            mc_client_set_error (client, MC_E_INTERNAL, "out of memory");
        return ids;
    }
    if (targets && !(json_is_string (targets) && !strcmp (json_string_value (targets), "all"))) {
        mc_client_set_error (client, MC_E_BAD_ARGUMENT, "targets must be \"all\" or a list of engine ids");
        return NULL;
    }
    json_t *ids = mc_client_call (client, mc_op_name (MC_OP_IDS), NULL, -1);
    if (ids && json_array_size (ids) == 0) {
        mc_client_set_error (client, MC_E_NO_ENGINES, "no engines are registered");
        json_decref (ids);
        return NULL;
    }
    return ids;
}

mc_fanout_t *
mc_fanout_new (mc_client_t *client, const json_t *targets)
{
    json_t *ids = s_target_ids (client, targets);
    if (!ids)
        return NULL;
    mc_fanout_t *self = calloc (1, sizeof *self);
    if (!self) {
        json_decref (ids);
        mc_client_set_error (client, MC_E_INTERNAL, "out of memory");
        return NULL;
    }
    self->client = client;
    self->ids = ids;
    self->count = json_array_size (ids);
    self->zoned = msgpack_zone_init (&self->zone, 1024);
    self->bodies = calloc (self->count, sizeof *self->bodies);
    self->replies = calloc (self->count, sizeof *self->replies);
    self->results = calloc (self->count, sizeof *self->results);
    self->streams = calloc (self->count, sizeof *self->streams);
    if (!self->zoned || !self->bodies || !self->replies || !self->results || !self->streams) {
        self->count = 0;                //  nothing in them to free
        mc_fanout_destroy (&self);
        mc_client_set_error (client, MC_E_INTERNAL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < self->count; i++) {
        msgpack_sbuffer_init (&self->bodies [i].out.sb);
        msgpack_packer_init (&self->bodies [i].pk, &self->bodies [i].out, mc_packbuf_write);
        mc_msg_init (&self->replies [i]);
    }
    return self;
}

void
mc_fanout_destroy (mc_fanout_t **self_p)
{
    mc_fanout_t *self = *self_p;
    if (!self)
        return;
    if (self->client)
        mc_client_settle (self->client);    //  before any slice memory goes
    for (size_t i = 0; i < self->count; i++) {
        msgpack_sbuffer_destroy (&self->bodies [i].out.sb);
        free (self->bodies [i].slices);
        free (self->bodies [i].owned);
        mc_msg_reset (&self->replies [i]);
        s_stream_t *s = &self->streams [i];
        for (size_t k = 0; k < s->count; k++)
            zframe_destroy (&s->frames [k].frame);
        free (s->frames);
        mc_msg_t *chunk;
        while (s->held && (chunk = zlist_pop (s->held))) {
            mc_msg_reset (chunk);
            free (chunk);
        }
        zlist_destroy (&s->held);
    }
    free (self->streams);
    if (self->zoned)
        msgpack_zone_destroy (&self->zone);
    free (self->bodies);
    free (self->replies);
    free (self->results);
    json_decref (self->ids);
    free (self);
    *self_p = NULL;
}

size_t
mc_fanout_count (const mc_fanout_t *self)
{
    return self->count;
}

long long
mc_fanout_engine (const mc_fanout_t *self, size_t target)
{
    return (long long) json_integer_value (json_array_get (self->ids, target));
}

mc_client_t *
mc_fanout_client (mc_fanout_t *self)
{
    return self->client;
}

msgpack_packer *
mc_fanout_body (mc_fanout_t *self, size_t target, mc_nsop_code_t op, uint32_t extra)
{
    assert (target < self->count);
    msgpack_packer *pk = &self->bodies [target].pk;
    msgpack_pack_map (pk, 4 + extra);
    mc_proto_pack_str (pk, "kind");      mc_proto_pack_str (pk, mc_nsop_get (op)->kind);
    mc_proto_pack_str (pk, "kernel");    mc_proto_pack_str (pk, mc_nsop_name (op));
    mc_proto_pack_str (pk, "transient"); msgpack_pack_true (pk);
    mc_proto_pack_str (pk, "targets");
    msgpack_pack_array (pk, 1);
    msgpack_pack_int64 (pk, json_integer_value (json_array_get (self->ids, target)));
    return pk;
}

size_t
mc_fanout_body_size (const mc_fanout_t *self, size_t target)
{
    return self->bodies [target].out.sb.size;
}

int
mc_fanout_body_append (mc_fanout_t *self, size_t target, const void *data, size_t size)
{
    return mc_packbuf_write (&self->bodies [target].out, data, size);
}

int
mc_fanout_pack_array (mc_fanout_t *self, size_t target, const mc_array_t *shape, const void *data)
{
    s_body_t *b = &self->bodies [target];
    mc_slice_t *slices = realloc (b->slices, (b->slice_count + 1) * sizeof *slices);
    if (!slices) {
        mc_client_set_error (self->client, MC_E_INTERNAL, "out of memory");
        return -1;
    }
    b->slices = slices;
    b->slices [b->slice_count].data = data;
    b->slices [b->slice_count].size = shape->size;
    mc_array_pack_ref (&b->pk, shape, (uint32_t) b->slice_count++);
    return 0;
}

void
mc_fanout_own (mc_fanout_t *self, size_t target, void **data_p)
{
    assert (!self->bodies [target].owned);
    self->bodies [target].owned = *data_p;
    *data_p = NULL;
}

void
mc_fanout_set_handlers (mc_fanout_t *self, mc_fanout_results_fn *on_results, mc_fanout_chunk_fn *on_chunk,
                        void *arg)
{
    self->on_results = on_results;
    self->on_chunk = on_chunk;
    self->arg = arg;
}

const msgpack_object *
mc_fanout_result (const mc_fanout_t *self, size_t target)
{
    const msgpack_object *results = &self->results [target];
    return results->type == MSGPACK_OBJECT_ARRAY && results->via.array.size >= 1? &results->via.array.ptr [0]: NULL;
}

const mc_msg_t *
mc_fanout_reply (const mc_fanout_t *self, size_t target)
{
    return &self->replies [target];
}

//  Add one engine's error to a summary "engines 0,3: text; engine 5: ...".
typedef struct {
    char text [200];
    char engines [200];
    int n;
} s_problem_t;

static void
s_problem (s_problem_t *problems, size_t *count, size_t max, const char *text, size_t len, long long engine)
{
    size_t i;
    for (i = 0; i < *count; i++)
        if (strlen (problems [i].text) == (len < 199? len: 199) && !strncmp (problems [i].text, text, len < 199? len: 199))
            break;
    if (i == *count) {
        if (*count == max)
            return;
        snprintf (problems [i].text, sizeof problems [i].text, "%.*s", (int) len, text);
        problems [i].engines [0] = 0;
        problems [i].n = 0;
        (*count)++;
    }
    size_t used = strlen (problems [i].engines);
    snprintf (problems [i].engines + used, sizeof problems [i].engines - used, "%s%lld", problems [i].n++? ",": "",
              engine);
}

//  The summary of problems into text.
static void
s_problems_text (const s_problem_t *problems, size_t count, char *text, size_t len)
{
    size_t used = 0;
    text [0] = 0;
    for (size_t p = 0; p < count && used < len; p++)
        used += (size_t) snprintf (text + used, len - used, "%sengine%s %s: %s", p? "; ": "",
                                   problems [p].n == 1? "": "s", problems [p].engines, problems [p].text);
}

//  A chunk of target i's reply: its bytes go where on_chunk puts them, or
//  into a frame of the array's full size, made when the first chunk comes.
//  False when on_chunk asks to see it again later.
static bool
s_stream_chunk (mc_fanout_t *f, size_t i, const mc_msg_t *chunk, bool must)
{
    s_stream_t *s = &f->streams [i];
    uint64_t k = chunk->frame;
    if (!s->problem && k >= s->count) {
        s_streamed_t *frames = realloc (s->frames, (k + 1) * sizeof *frames);
        if (!frames) {
            s->problem = "no memory for a streamed array";
            return true;
        }
        memset (frames + s->count, 0, (k + 1 - s->count) * sizeof *frames);
        s->frames = frames;
        s->count = k + 1;
    }
    if (s->problem)
        return true;
    s_streamed_t *at = &s->frames [k];
    size_t n = zframe_size (chunk->frames [0]);
    bool first = chunk->offset == 0 && at->got == 0 && !at->frame;
    mc_chunk_use_t use = f->on_chunk && (first || !at->frame)? f->on_chunk (f, i, chunk, must, f->arg): MC_CHUNK_COPY;
    if (use == MC_CHUNK_LATER && first)
        return false;
    if (first && use == MC_CHUNK_COPY) {
        //  Not taken by on_chunk: into a frame of our own, for the reply.
        if (!(at->frame = mc_proto_frame_new (NULL, chunk->frame_size))) {
            s->problem = "no memory for a streamed array";
            return true;
        }
        mc_pages_warm ((char *) zframe_data (at->frame), chunk->frame_size);
    }
    else
    if (!first && (chunk->offset != at->got
               ||  (at->frame? chunk->frame_size != zframe_size (at->frame): use != MC_CHUNK_PLACED))) {
        s->problem = "the chunks of a streamed array came out of order";
        return true;
    }
    if (at->frame)
        memcpy (zframe_data (at->frame) + chunk->offset, zframe_data (chunk->frames [0]), n);
    at->got += n;
    return true;
}

//  Offer target i's held chunks again, oldest first, until one is held
//  once more.
static void
s_stream_offer (mc_fanout_t *f, size_t i, bool must)
{
    s_stream_t *s = &f->streams [i];
    mc_msg_t *chunk;
    while (s->held && (chunk = zlist_first (s->held)) && s_stream_chunk (f, i, chunk, must)) {
        zlist_remove (s->held, chunk);
        f->held--;
        mc_msg_reset (chunk);
        free (chunk);
    }
}

static void
s_stream_offer_all (mc_fanout_t *f)
{
    for (size_t t = 0; t < f->count && f->held; t++)
        s_stream_offer (f, t, false);
}

//  A chunk of target i's reply (taken from *chunk): used now, or held when
//  on_chunk asks, or when chunks before it are held. Then any chunks held
//  for other targets are offered again: this one may have settled them.
static void
s_stream_take (mc_fanout_t *f, size_t i, mc_msg_t *chunk)
{
    s_stream_t *s = &f->streams [i];
    if ((s->held && zlist_size (s->held)) || !s_stream_chunk (f, i, chunk, false)) {
        mc_msg_t *copy = malloc (sizeof *copy);
        if (!copy || (!s->held && !(s->held = zlist_new ())) || zlist_append (s->held, copy)) {
            free (copy);
            s->problem = "no memory for a streamed array";
            return;
        }
        *copy = *chunk;                 //  the copy owns its frames now
        mc_msg_init (chunk);
        f->held++;
    }
    s_stream_offer_all (f);
}

//  Put target i's streamed arrays into its reply, where the empty frames
//  that stand for them are. NULL, or why they cannot be.
static const char *
s_unstream (mc_fanout_t *f, size_t i, mc_msg_t *reply)
{
    s_stream_t *s = &f->streams [i];
    for (size_t k = 0; reply->streamed && k < reply->frame_count; k++) {
        if (!reply->streamed [k])
            continue;
        if (s->problem)
            return s->problem;
        s_streamed_t *at = k < s->count? &s->frames [k]: NULL;
        if (!at || at->got != reply->streamed [k] || (at->frame && zframe_size (at->frame) != reply->streamed [k]))
            return "a streamed array arrived incomplete";
        if (!at->frame)
            continue;                   //  on_chunk has its bytes; the frame stays empty
        zframe_t *empty = mc_msg_swap_frame (reply, k, &at->frame);
        zframe_destroy (&empty);
        reply->streamed [k] = 0;
    }
    return NULL;
}

//  What the replies said went wrong, collected while they come.
typedef struct {
    s_problem_t problems [S_MAX_PROBLEMS];
    size_t count;
    char fatal [512];               //  the first refusal by the controller, or ""
    int fatal_code;
} s_outcome_t;

//  Target i's reply, taken into its slot (rc: what mc_client_recv said):
//  its streamed arrays put in, its errors noted, its results kept.
static void
s_fanout_reply (mc_fanout_t *f, size_t i, mc_msg_t *reply, int rc, s_outcome_t *out)
{
    if (rc && !out->fatal [0]) {                //  the controller refused this request
        snprintf (out->fatal, sizeof out->fatal, "%s", mc_client_error (f->client));
        out->fatal_code = mc_client_errcode (f->client);
    }
    mc_msg_reset (&f->replies [i]);
    f->replies [i] = *reply;                    //  the slot owns its frames now
    mc_msg_init (reply);
    long long engine = mc_fanout_engine (f, i);
    s_stream_offer (f, i, true);                //  all its chunks are in: none may wait longer
    const char *why = rc? NULL: s_unstream (f, i, &f->replies [i]);
    if (why) {
        s_problem (out->problems, &out->count, S_MAX_PROBLEMS, why, strlen (why), engine);
        return;
    }
    msgpack_object body;
    const mc_msg_t *kept = &f->replies [i];
    if (rc || mc_proto_unpack (kept->data.ptr, kept->data.size, &f->zone, &body) || body.type != MSGPACK_OBJECT_MAP)
        return;
    const msgpack_object *errors = mc_proto_map_get (&body, "errors");
    for (uint32_t e = 0; errors && errors->type == MSGPACK_OBJECT_ARRAY && e < errors->via.array.size; e++) {
        const msgpack_object *text = mc_proto_map_get (&errors->via.array.ptr [e], "error");
        if (text && text->type == MSGPACK_OBJECT_STR)
            s_problem (out->problems, &out->count, S_MAX_PROBLEMS, text->via.str.ptr, text->via.str.size, engine);
    }
    const msgpack_object *results = mc_proto_map_get (&body, "results");
    if (results && results->type == MSGPACK_OBJECT_ARRAY && results->via.array.size >= 1) {
        f->results [i] = *results;
        if (f->on_results && !out->count && !out->fatal [0])
            f->on_results (f, i, f->arg);
        s_stream_offer_all (f);                 //  what they tell may settle held chunks
    }
}

//  The error the outcome of every reply gives, if any: 0 or -1.
static int
s_fanout_verdict (mc_fanout_t *f, const s_outcome_t *out)
{
    if (out->fatal [0]) {
        mc_client_set_error (f->client, out->fatal_code, "%s", out->fatal);
        return -1;
    }
    if (out->count) {
        char text [1024];
        s_problems_text (out->problems, out->count, text, sizeof text);
        mc_client_set_error (f->client, MC_E_KERNEL_ERROR, "%s", text);
        return -1;
    }
    for (size_t i = 0; i < f->count; i++)
        if (!mc_fanout_result (f, i)) {
            mc_client_set_error (f->client, MC_E_MALFORMED, "malformed reply from the controller");
            return -1;
        }
    return 0;
}

int
mc_fanout_run (mc_fanout_t *self)
{
    mc_client_t *client = self->client;
    uint64_t *reqs = calloc (self->count, sizeof *reqs);
    if (!reqs) {
        mc_client_set_error (client, MC_E_INTERNAL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        if (self->bodies [i].out.truncated) {
            free (reqs);
            mc_client_set_error (client, MC_E_INTERNAL, "out of memory");
            return -1;
        }
    for (size_t i = 0; i < self->count; i++) {
        s_body_t *b = &self->bodies [i];
        if (!(reqs [i] = mc_client_send (client, mc_op_name (MC_OP_SUBMIT), b->out.sb.data, b->out.sb.size, b->slices,
                                         b->slice_count))) {
            free (reqs);
            return -1;
        }
    }
    s_outcome_t outcome = { .count = 0 };
    for (size_t got = 0; got < self->count; ) {
        mc_msg_t reply;
        mc_msg_init (&reply);
        int rc = mc_client_recv (client, &reply, reqs [0], reqs [self->count - 1], -1);
        size_t i = (reply.type == MC_REPLY || reply.type == MC_REPLY_CHUNK)
                && reply.req >= reqs [0] && reply.req <= reqs [self->count - 1]? (size_t) (reply.req - reqs [0])
                                                                                 : self->count;
        if (rc == 0 && reply.type == MC_REPLY_CHUNK) {
            s_stream_take (self, i, &reply);
            mc_msg_reset (&reply);
            continue;
        }
        got++;
        if (rc && i == self->count) {           //  no reply at all: give up
            mc_msg_reset (&reply);
            free (reqs);
            return -1;
        }
        s_fanout_reply (self, i, &reply, rc, &outcome);
    }
    free (reqs);
    return s_fanout_verdict (self, &outcome);
}

int
mc_fanout_finish (mc_fanout_t **self_p)
{
    int rc = mc_fanout_run (*self_p);
    mc_fanout_destroy (self_p);
    return rc;
}

//  --------------------------------------------------------------------------
//  Selftest: what a fanout does with what comes back, without a controller
//  (tests/unit/test_client.c plays whole gathers against a scripted one).

//  A message of one frame of n bytes (NULL data: empty), owning them.
static void
s_test_msg (mc_msg_t *msg, int type, const char *data, size_t n)
{
    mc_msg_init (msg);
    msg->type = type;
    msg->zmsg = zmsg_new ();
    msg->frames = malloc (sizeof *msg->frames);
    assert (msg->zmsg && msg->frames);
    zframe_t *frame = zframe_new (data, data? n: 0);
    msg->frames [0] = frame;
    msg->frame_count = 1;
    msg->frames_owned = true;
    zmsg_append (msg->zmsg, &frame);
}

//  Give target t the chunk [offset, offset + n) of bytes (frame_size long).
static void
s_test_chunk (mc_fanout_t *f, size_t t, const char *bytes, uint64_t frame_size, uint64_t offset, size_t n)
{
    mc_msg_t chunk;
    s_test_msg (&chunk, MC_REPLY_CHUNK, bytes + offset, n);
    chunk.frame_size = frame_size;
    chunk.offset = offset;
    s_stream_take (f, t, &chunk);
    mc_msg_reset (&chunk);
}

//  Target t's reply with one streamed frame of `size` bytes: NULL and the
//  bytes put in, or the problem.
static const char *
s_test_unstream (mc_fanout_t *f, size_t t, uint64_t size, const char *expect)
{
    mc_msg_t reply;
    s_test_msg (&reply, MC_REPLY, NULL, 0);
    reply.streamed = calloc (1, sizeof *reply.streamed);
    assert (reply.streamed);
    reply.streamed [0] = size;
    const char *why = s_unstream (f, t, &reply);
    if (!why)
        assert (zframe_size (reply.frames [0]) == size && !memcmp (zframe_data (reply.frames [0]), expect, size));
    mc_msg_reset (&reply);
    return why;
}

//  Holds every chunk until it must take it.
static mc_chunk_use_t
s_test_later (mc_fanout_t *f, size_t target, const mc_msg_t *chunk, bool must, void *arg)
{
    (void) f, (void) target, (void) chunk;
    (*(int *) arg)++;
    return must? MC_CHUNK_COPY: MC_CHUNK_LATER;
}

void
mc_fanout_test (bool verbose)
{
    printf (" * mc_fanout: ");
    if (verbose)
        printf ("\n");
    //  Errors grouped by text, engines listed per text.
    s_problem_t problems [2];
    size_t count = 0;
    s_problem (problems, &count, 2, "boom", 4, 0);
    s_problem (problems, &count, 2, "bad value", 3, 3);
    s_problem (problems, &count, 2, "boom!", 4, 5);
    s_problem (problems, &count, 2, "another", 7, 6);        //  over the limit: left out
    char text [256];
    s_problems_text (problems, count, text, sizeof text);
    if (verbose)
        printf ("   %s\n", text);
    assert (!strcmp (text, "engines 0,5: boom; engine 3: bad"));

    json_t *targets = json_pack ("[iiii]", 4, 7, 8, 9);
    mc_fanout_t *f = mc_fanout_new (NULL, targets);
    assert (f && mc_fanout_count (f) == 4 && mc_fanout_engine (f, 1) == 7);
    assert (!mc_fanout_result (f, 0));
    const char bytes [] = "0123456789";
    //  Target 0: two chunks in order, put together.
    s_test_chunk (f, 0, bytes, 10, 0, 6);
    s_test_chunk (f, 0, bytes, 10, 6, 4);
    assert (s_test_unstream (f, 0, 10, bytes) == NULL);
    //  Target 1: a gap between chunks.
    s_test_chunk (f, 1, bytes, 10, 0, 3);
    s_test_chunk (f, 1, bytes, 10, 5, 5);
    assert (strstr (s_test_unstream (f, 1, 10, bytes), "out of order"));
    //  Target 2: a chunk short.
    s_test_chunk (f, 2, bytes, 10, 0, 6);
    assert (strstr (s_test_unstream (f, 2, 10, bytes), "incomplete"));
    //  Target 3: held while on_chunk asks, taken once they must be.
    int asked = 0;
    mc_fanout_set_handlers (f, NULL, s_test_later, &asked);
    s_test_chunk (f, 3, bytes, 10, 0, 4);
    s_test_chunk (f, 3, bytes, 10, 4, 6);
    assert (f->held == 2 && asked >= 1);
    s_stream_offer (f, 3, true);
    assert (f->held == 0);
    assert (s_test_unstream (f, 3, 10, bytes) == NULL);
    mc_fanout_destroy (&f);
    assert (!f);
    json_decref (targets);
    printf ("OK\n");
}
