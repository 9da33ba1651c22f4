/*  mc_direct: the direct view of libmcclient, engine namespaces. Each
    operation sends one transient job per target ("%push", "%scatter",
    "%pull", "%del" or "%names" on that engine) and all of them at once, so
    that the controller forwards one target's data while the next still
    arrives. Array data is sent from the caller's memory and comes back as
    frames of the replies. Partitions are computed here, as ipyparallel
    computes them in its client. */
#include "mc_client_int.h"
#include "mc_value.h"
#include <sys/mman.h>

//  One request: its msgpack body and the array bytes it refers to.
typedef struct {
    msgpack_sbuffer sb;
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

//  What on_chunk did with a chunk.
typedef enum {
    S_CHUNK_COPY,                   //  nothing: the fanout keeps the frame's bytes itself
    S_CHUNK_PLACED,                 //  put its bytes where they belong
    S_CHUNK_LATER                   //  ask again later: hold the chunk (only when not `must`)
} s_chunk_use_t;

typedef struct s_fanout_t s_fanout_t;
typedef void (s_on_results_t) (s_fanout_t *f, size_t i);
typedef s_chunk_use_t (s_on_chunk_t) (s_fanout_t *f, size_t i, const mc_msg_t *chunk, bool must);

//  One request per target, and their replies.
struct s_fanout_t {
    mc_client_t *client;
    json_t *ids;                    //  the targets' engine ids
    size_t count;
    s_body_t *bodies;
    mc_msg_t *replies;
    msgpack_zone zone;
    msgpack_object *results;        //  per target: the "results" of its reply
    s_stream_t *streams;            //  per target
    //  Called as each target's results arrive (in any order), while the
    //  other targets' replies are still on their way.
    s_on_results_t *on_results;
    //  Offered each chunk of target i's streamed arrays, in order. The
    //  answer to the first chunk of a frame decides for the whole frame;
    //  S_CHUNK_LATER holds it (and all that follow) to be offered again
    //  after the next chunk or reply, with `must` set once its target's
    //  reply is in.
    s_on_chunk_t *on_chunk;
    size_t held;                    //  chunks held, over all targets
    void *arg;
};

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

static int
s_check_name (mc_client_t *self, const char *name)
{
    if (!name || !mc_value_valid_name (name, strlen (name))) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "'%s' is not a valid name: use a letter or '_', then "
                             "letters, digits or '_'", name? name: "");
        return -1;
    }
    return 0;
}

static int
s_check_size (mc_client_t *self, const char *name, size_t bytes)
{
    if ((int64_t) bytes > mc_client_max_value_bytes (self)) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' is %zu bytes, over the limit "
                             "max_value_bytes=%lld; nothing was sent", name, bytes,
                             (long long) mc_client_max_value_bytes (self));
        return -1;
    }
    return 0;
}

//  The engine ids that targets stand for (a new JSON array), or NULL.
static json_t *
s_target_ids (mc_client_t *self, const json_t *targets)
{
    if (targets && json_is_array (targets) && json_array_size (targets) > 0)
        return json_deep_copy (targets);
    if (targets && !(json_is_string (targets) && !strcmp (json_string_value (targets), "all"))) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "targets must be \"all\" or a list of engine ids");
        return NULL;
    }
    json_t *ids = mc_client_call (self, "ids", NULL, -1);
    if (ids && json_array_size (ids) == 0) {
        mc_client_set_error (self, MC_E_NO_ENGINES, "no engines are registered");
        json_decref (ids);
        return NULL;
    }
    return ids;
}

static s_fanout_t *
s_fanout_new (mc_client_t *self, const json_t *targets)
{
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return NULL;
    s_fanout_t *f = calloc (1, sizeof *f);
    f->client = self;
    f->ids = ids;
    f->count = json_array_size (ids);
    f->bodies = calloc (f->count, sizeof *f->bodies);
    f->replies = calloc (f->count, sizeof *f->replies);
    f->results = calloc (f->count, sizeof *f->results);
    f->streams = calloc (f->count, sizeof *f->streams);
    msgpack_zone_init (&f->zone, 1024);
    for (size_t i = 0; i < f->count; i++) {
        msgpack_sbuffer_init (&f->bodies [i].sb);
        msgpack_packer_init (&f->bodies [i].pk, &f->bodies [i].sb, msgpack_sbuffer_write);
        mc_msg_init (&f->replies [i]);
    }
    return f;
}

static void
s_fanout_destroy (s_fanout_t **f_p)
{
    s_fanout_t *f = *f_p;
    if (!f)
        return;
    mc_client_settle (f->client);       //  before any slice memory goes
    for (size_t i = 0; i < f->count; i++) {
        msgpack_sbuffer_destroy (&f->bodies [i].sb);
        free (f->bodies [i].slices);
        free (f->bodies [i].owned);
        mc_msg_reset (&f->replies [i]);
        s_stream_t *s = &f->streams [i];
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
    free (f->streams);
    msgpack_zone_destroy (&f->zone);
    free (f->bodies);
    free (f->replies);
    free (f->results);
    json_decref (f->ids);
    free (f);
    *f_p = NULL;
}

//  Start the body for target i: {kind, kernel, transient, targets: [id],
//  ...} with room for `extra` more keys.
static msgpack_packer *
s_spec (s_fanout_t *f, size_t i, const char *kind, const char *kernel, uint32_t extra)
{
    msgpack_packer *pk = &f->bodies [i].pk;
    msgpack_pack_map (pk, 4 + extra);
    s_pack_str (pk, "kind");      s_pack_str (pk, kind);
    s_pack_str (pk, "kernel");    s_pack_str (pk, kernel);
    s_pack_str (pk, "transient"); msgpack_pack_true (pk);
    s_pack_str (pk, "targets");
    msgpack_pack_array (pk, 1);
    msgpack_pack_int64 (pk, json_integer_value (json_array_get (f->ids, i)));
    return pk;
}

//  Refer to an array whose bytes are sent from data (not copied).
static void
s_pack_array (s_body_t *b, const mc_array_t *shape, const void *data)
{
    b->slices = realloc (b->slices, (b->slice_count + 1) * sizeof *b->slices);
    b->slices [b->slice_count].data = data;
    b->slices [b->slice_count].size = shape->size;
    mc_array_pack_ref (&b->pk, shape, (uint32_t) b->slice_count++);
}

static void
s_pack_names (msgpack_packer *pk, const char *const *names, size_t count)
{
    msgpack_pack_array (pk, (uint32_t) count);
    for (size_t i = 0; i < count; i++)
        s_pack_str (pk, names [i]);
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

//  Make [data, data + size) resident before it is written: in huge pages
//  where the kernel gives them on request (numpy asks for them for its
//  arrays too), and in one call, not one fault per page as a copy would
//  take them. Fresh pages cost more than the copy itself.
static void
s_warm (char *data, size_t size)
{
    uintptr_t huge = 2 << 20, page = 4096;
    uintptr_t from = ((uintptr_t) data + huge - 1) & ~(huge - 1), to = ((uintptr_t) data + size) & ~(huge - 1);
#ifdef MADV_HUGEPAGE
    if (to > from)
        madvise ((void *) from, to - from, MADV_HUGEPAGE);
#endif
    from = ((uintptr_t) data + page - 1) & ~(page - 1);
    to = ((uintptr_t) data + size) & ~(page - 1);
#ifdef MADV_POPULATE_WRITE
    if (to > from && madvise ((void *) from, to - from, MADV_POPULATE_WRITE) == 0)
        return;
#endif
    for (uintptr_t p = from; p < to; p += page)
        *(volatile char *) p = 0;
}

//  A block of `size` bytes that free() releases; a large one is aligned to
//  huge pages, so that s_warm can have it all in them.
static char *
s_alloc_large (size_t size)
{
    size_t huge = 2 << 20;
    void *data;
    if (size < 2 * huge)
        return malloc (size);
    return posix_memalign (&data, huge, size)? NULL: data;
}

//  A chunk of target i's reply: its bytes go where on_chunk puts them, or
//  into a frame of the array's full size, made when the first chunk comes.
//  False when on_chunk asks to see it again later.
static bool
s_stream_chunk (s_fanout_t *f, size_t i, const mc_msg_t *chunk, bool must)
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
    s_chunk_use_t use = f->on_chunk && (first || !at->frame)? f->on_chunk (f, i, chunk, must): S_CHUNK_COPY;
    if (use == S_CHUNK_LATER && first)
        return false;
    if (first && use == S_CHUNK_COPY) {
        //  Not taken by on_chunk: into a frame of our own, for the reply.
        if (!(at->frame = mc_proto_frame_new (NULL, chunk->frame_size))) {
            s->problem = "no memory for a streamed array";
            return true;
        }
        s_warm ((char *) zframe_data (at->frame), chunk->frame_size);
    }
    else
    if (!first && (chunk->offset != at->got
               ||  (at->frame? chunk->frame_size != zframe_size (at->frame): use != S_CHUNK_PLACED))) {
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
s_stream_offer (s_fanout_t *f, size_t i, bool must)
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
s_stream_offer_all (s_fanout_t *f)
{
    for (size_t t = 0; t < f->count && f->held; t++)
        s_stream_offer (f, t, false);
}

//  A chunk of target i's reply (taken from *chunk): used now, or held when
//  on_chunk asks, or when chunks before it are held. Then any chunks held
//  for other targets are offered again: this one may have settled them.
static void
s_stream_take (s_fanout_t *f, size_t i, mc_msg_t *chunk)
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
s_unstream (s_fanout_t *f, size_t i, mc_msg_t *reply)
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

//  Send every request, then collect every reply. On success each target's
//  results are in f->results; else the error names the engines and says
//  what went wrong on each.
static int
s_fanout_run (s_fanout_t *f)
{
    mc_client_t *self = f->client;
    uint64_t *reqs = calloc (f->count, sizeof *reqs);
    for (size_t i = 0; i < f->count; i++) {
        s_body_t *b = &f->bodies [i];
        if (!(reqs [i] = mc_client_send (self, "submit", b->sb.data, b->sb.size, b->slices, b->slice_count))) {
            free (reqs);
            return -1;
        }
    }
    s_problem_t problems [16];
    size_t nproblems = 0;
    char fatal [512] = "";
    int fatal_code = 0;
    for (size_t got = 0; got < f->count; ) {
        mc_msg_t reply;
        mc_msg_init (&reply);
        int rc = mc_client_recv (self, &reply, reqs [0], reqs [f->count - 1], -1);
        size_t i = (reply.type == MC_REPLY || reply.type == MC_REPLY_CHUNK)
                && reply.req >= reqs [0] && reply.req <= reqs [f->count - 1]? (size_t) (reply.req - reqs [0]): f->count;
        if (rc == 0 && reply.type == MC_REPLY_CHUNK) {
            s_stream_take (f, i, &reply);
            mc_msg_reset (&reply);
            continue;
        }
        got++;
        if (rc && i == f->count) {              //  no reply at all: give up
            mc_msg_reset (&reply);
            free (reqs);
            return -1;
        }
        if (rc && !fatal [0]) {                 //  the controller refused this request
            snprintf (fatal, sizeof fatal, "%s", mc_client_error (self));
            fatal_code = mc_client_errcode (self);
        }
        mc_msg_reset (&f->replies [i]);
        f->replies [i] = reply;                 //  the slot owns its frames now
        long long engine = json_integer_value (json_array_get (f->ids, i));
        s_stream_offer (f, i, true);            //  all its chunks are in: none may wait longer
        const char *why = rc? NULL: s_unstream (f, i, &f->replies [i]);
        if (why) {
            s_problem (problems, &nproblems, 16, why, strlen (why), engine);
            continue;
        }
        msgpack_object body;
        if (rc || mc_proto_unpack (reply.data.ptr, reply.data.size, &f->zone, &body) || body.type != MSGPACK_OBJECT_MAP)
            continue;
        const msgpack_object *errors = mc_proto_map_get (&body, "errors");
        for (uint32_t e = 0; errors && errors->type == MSGPACK_OBJECT_ARRAY && e < errors->via.array.size; e++) {
            const msgpack_object *text = mc_proto_map_get (&errors->via.array.ptr [e], "error");
            if (text && text->type == MSGPACK_OBJECT_STR)
                s_problem (problems, &nproblems, 16, text->via.str.ptr, text->via.str.size, engine);
        }
        const msgpack_object *results = mc_proto_map_get (&body, "results");
        if (results && results->type == MSGPACK_OBJECT_ARRAY && results->via.array.size >= 1) {
            f->results [i] = *results;
            if (f->on_results && !nproblems && !fatal [0])
                f->on_results (f, i);
            s_stream_offer_all (f);             //  what they tell may settle held chunks
        }
    }
    free (reqs);
    if (fatal [0]) {
        mc_client_set_error (self, fatal_code, "%s", fatal);
        return -1;
    }
    if (nproblems) {
        char text [1024] = "";
        size_t used = 0;
        for (size_t p = 0; p < nproblems && used < sizeof text; p++)
            used += (size_t) snprintf (text + used, sizeof text - used, "%sengine%s %s: %s", p? "; ": "",
                                       problems [p].n == 1? "": "s", problems [p].engines, problems [p].text);
        mc_client_set_error (self, MC_E_KERNEL_ERROR, "%s", text);
        return -1;
    }
    for (size_t i = 0; i < f->count; i++)
        if (f->results [i].type != MSGPACK_OBJECT_ARRAY || f->results [i].via.array.size < 1) {
            mc_client_set_error (self, MC_E_MALFORMED, "malformed reply from the controller");
            return -1;
        }
    return 0;
}

//  Run and forget: 0 or -1.
static int
s_fanout_finish (s_fanout_t *f)
{
    int rc = s_fanout_run (f);
    s_fanout_destroy (&f);
    return rc;
}

//  Start target i's body of a push: "%push" with kwargs {name: ...}; the
//  caller packs the value next.
static msgpack_packer *
s_push_spec (s_fanout_t *f, size_t i, const char *name)
{
    msgpack_packer *body = s_spec (f, i, "apply", "%push", 1);
    s_pack_str (body, "kwargs");
    msgpack_pack_map (body, 1);
    s_pack_str (body, name);
    return body;
}

int
mc_client_push (mc_client_t *self, const char *name, const json_t *value, const json_t *targets)
{
    if (s_check_name (self, name))
        return -1;
    //  Packed once: checked for size, then copied into every target's body.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    s_fanout_t *f = NULL;
    int rc = mc_value_pack_json (&pk, value);
    if (rc)
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
    if (rc || s_check_size (self, name, sb.size) || !(f = s_fanout_new (self, targets))) {
        msgpack_sbuffer_destroy (&sb);
        return -1;
    }
    for (size_t i = 0; i < f->count; i++) {
        s_push_spec (f, i, name);
        msgpack_sbuffer_write (&f->bodies [i].sb, sb.data, sb.size);
    }
    msgpack_sbuffer_destroy (&sb);
    return s_fanout_finish (f);
}

int
mc_client_push_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return -1;
    for (size_t i = 0; i < f->count; i++) {
        s_push_spec (f, i, name);
        s_pack_array (&f->bodies [i], array, array->data);
    }
    return s_fanout_finish (f);
}

//  Start target i's part of a scatter: "%scatter" mapped over one item.
static msgpack_packer *
s_scatter_spec (s_fanout_t *f, size_t i, const char *name)
{
    msgpack_packer *body = s_spec (f, i, "map", "%scatter", 2);
    s_pack_str (body, "args");
    msgpack_pack_array (body, 1);
    s_pack_str (body, name);
    s_pack_str (body, "seq");
    msgpack_pack_array (body, 1);
    return body;
}

//  Part i of n of total items: where it starts and how long it is.
static void
s_part (uint64_t total, uint64_t parts, uint64_t i, bool round_robin, uint64_t *start, uint64_t *size)
{
    if (round_robin) {
        *start = i;
        *size = mc_dist_rr_count (total, parts, i);
    }
    else
        mc_dist_block (total, parts, i, start, size);
}

int
mc_client_scatter (mc_client_t *self, const char *name, const json_t *seq, const json_t *targets, bool round_robin)
{
    if (s_check_name (self, name))
        return -1;
    if (!json_is_array (seq)) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "scatter: the value for '%s' must be a list", name);
        return -1;
    }
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return -1;
    size_t total = json_array_size (seq), bytes = 0;
    int rc = 0;
    for (size_t i = 0; i < f->count && rc == 0; i++) {
        msgpack_packer *body = s_scatter_spec (f, i, name);
        uint64_t start, size;
        s_part (total, f->count, i, round_robin, &start, &size);
        size_t before = f->bodies [i].sb.size;
        msgpack_pack_array (body, (uint32_t) size);
        for (uint64_t k = 0; k < size && rc == 0; k++)
            rc = mc_value_pack_json (body, json_array_get (seq, round_robin? start + k * f->count: start + k));
        bytes += f->bodies [i].sb.size - before;
    }
    if (rc)
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
    if (rc || s_check_size (self, name, bytes)) {
        s_fanout_destroy (&f);
        return -1;
    }
    return s_fanout_finish (f);
}

int
mc_client_scatter_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets,
                         bool round_robin)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return -1;
    uint64_t rows = mc_array_rows (array);
    size_t row_bytes = mc_array_row_bytes (array);
    for (size_t i = 0; i < f->count; i++) {
        s_scatter_spec (f, i, name);
        uint64_t start, size;
        s_part (rows, f->count, i, round_robin, &start, &size);
        mc_array_t piece = *array;
        piece.shape [0] = size;
        piece.size = size * row_bytes;
        const char *from = (const char *) array->data;
        if (!round_robin) {
            s_pack_array (&f->bodies [i], &piece, from + start * row_bytes);
            continue;
        }
        //  Rows i, i + n, ... gathered into one block.
        char *dealt = malloc (piece.size? piece.size: 1);
        if (!dealt) {
            mc_client_set_error (self, MC_E_INTERNAL, "cannot allocate %zu bytes", piece.size);
            s_fanout_destroy (&f);
            return -1;
        }
        for (uint64_t k = 0; k < size; k++)
            memcpy (dealt + k * row_bytes, from + (start + k * f->count) * row_bytes, row_bytes);
        f->bodies [i].owned = dealt;
        s_pack_array (&f->bodies [i], &piece, dealt);
    }
    return s_fanout_finish (f);
}

//  Pull names from every target; each target's value is f->results [i] [0].
//  on_results (with arg), when given, sees each target's as it arrives.
static s_fanout_t *
s_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets,
        s_on_results_t *on_results, s_on_chunk_t *on_chunk, void *arg)
{
    for (size_t i = 0; i < count; i++)
        if (s_check_name (self, names [i]))
            return NULL;
    if (count == 0) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull needs at least one name");
        return NULL;
    }
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return NULL;
    f->on_results = on_results;
    f->on_chunk = on_chunk;
    f->arg = arg;
    for (size_t i = 0; i < f->count; i++) {
        //  Large arrays come in chunks, received into reused memory and
        //  forwarded by the controller as they come (see mc_proto.md).
        msgpack_packer *body = s_spec (f, i, "apply", "%pull", 2);
        s_pack_str (body, "args");
        s_pack_names (body, names, count);
        s_pack_str (body, "kwargs");
        msgpack_pack_map (body, 1);
        s_pack_str (body, "stream");
        msgpack_pack_true (body);
    }
    if (s_fanout_run (f))
        s_fanout_destroy (&f);
    return f;
}

json_t *
mc_client_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    s_fanout_t *f = s_pull (self, names, count, targets, NULL, NULL, NULL);
    if (!f)
        return NULL;
    json_t *values = json_array ();
    for (size_t i = 0; i < f->count && values; i++) {
        char err [256];
        json_t *value = mc_value_to_json_frames (&f->results [i].via.array.ptr [0], f->replies [i].frames,
                                                 f->replies [i].frame_count, err, sizeof err);
        if (!value) {
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull: engine %lld: %s",
                                 (long long) json_integer_value (json_array_get (f->ids, i)), err);
            json_decref (values);
            values = NULL;
        }
        else
            json_array_append_new (values, value);
    }
    s_fanout_destroy (&f);
    return values;
}

json_t *
mc_client_gather (mc_client_t *self, const char *name, const json_t *targets, bool round_robin)
{
    json_t *parts = mc_client_pull (self, &name, 1, targets);
    if (!parts)
        return NULL;
    size_t count = json_array_size (parts), i;
    json_t *part;
    json_array_foreach (parts, i, part)
        if (!json_is_array (part)) {
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' is not a list or an array on target %zu",
                                 name, i);
            json_decref (parts);
            return NULL;
        }
    json_t *joined = json_array ();
    if (!round_robin)
        json_array_foreach (parts, i, part)
            json_array_extend (joined, part);
    else
        //  Deal back: item k of every part in turn, while any has items.
        for (size_t k = 0, added = 1; added; k++) {
            added = 0;
            for (size_t p = 0; p < count; p++)
                if (k < json_array_size (json_array_get (parts, p))) {
                    json_array_append (joined, json_array_get (json_array_get (parts, p), k));
                    added = 1;
                }
        }
    json_decref (parts);
    return joined;
}

//  A gather into one array, joined while the parts arrive: the first part
//  to arrive sizes the array, whose pages are then made resident while
//  the other parts are still on their way. A streamed part goes straight
//  into place, chunk by chunk, once the sizes of all parts before it are
//  known (so is its offset): its chunks are held until then, or until its
//  reply is in. Any other part is copied in once all parts before it are
//  in. Fresh pages cost more than the copy itself: 80 MB fault in at about
//  4 GB/s, and much slower where a virtual machine's host has taken them
//  back (free page reporting).
typedef struct {
    const char *name;
    bool round_robin;
    mc_array_t *parts;              //  per target, once its reply is in
    uint64_t *sizes;                //  per target: bytes, once known (first chunk or reply)
    uint64_t *placed;               //  per target: 1 + its offset when streamed into place, else 0
    char *data;                     //  the joined array
    size_t capacity;                //  bytes allocated for it
    size_t high;                    //  bytes up to the end of the last written
    size_t joined;                  //  parts 0 .. joined - 1 are copied in
    size_t at;                      //  bytes they take
    bool failed;                    //  error set; nothing more is done
} s_join_t;

//  Room for `need` bytes. When the array must grow, it grows to `want`
//  bytes (at least `need`) of resident memory, keeping what is written.
//  0, or -1 with the error set.
static int
s_join_reserve (s_fanout_t *f, s_join_t *j, size_t need, size_t want)
{
    if (need <= j->capacity)
        return 0;
    want = want < need? need: want;
    char *data = s_alloc_large (want? want: 1);
    if (!data && want > need) {         //  a guess too large is no error
        want = need;
        data = s_alloc_large (want? want: 1);
    }
    if (!data) {
        mc_client_set_error (f->client, MC_E_INTERNAL, "gather: cannot allocate %zu bytes", need);
        return -1;
    }
    s_warm (data, want);
    if (j->high)
        memcpy (data, j->data, j->high);
    free (j->data);
    j->data = data;
    j->capacity = want;
    return 0;
}

//  What to allocate for the whole array, from one part's bytes: parts
//  usually differ by at most a row.
static size_t
s_join_guess (s_fanout_t *f, size_t bytes)
{
    return (bytes + (64 << 10)) * f->count;
}

//  The join's arrays, made when the first part (or chunk) comes. 0 or -1.
static int
s_join_start (s_fanout_t *f, s_join_t *j)
{
    if (!j->parts) {
        j->parts = calloc (f->count, sizeof *j->parts);
        j->sizes = calloc (f->count, sizeof *j->sizes);
        j->placed = calloc (f->count, sizeof *j->placed);
    }
    return j->parts && j->sizes && j->placed? 0: -1;
}

//  A chunk of part p's array: into place once the part's offset is known,
//  which is when the sizes of all parts before it are.
static s_chunk_use_t
s_join_chunk (s_fanout_t *f, size_t p, const mc_msg_t *chunk, bool must)
{
    s_join_t *j = f->arg;
    if (j->round_robin || j->failed || chunk->frame != 0 || s_join_start (f, j))
        return S_CHUNK_COPY;
    if (chunk->offset == 0 && !j->placed [p]) {
        j->sizes [p] = chunk->frame_size;
        uint64_t at = 0;
        for (size_t q = 0; q < p; q++) {
            if (!j->sizes [q] && f->results [q].type != MSGPACK_OBJECT_ARRAY)
                return must? S_CHUNK_COPY: S_CHUNK_LATER;
            at += j->sizes [q];
        }
        if ((j->failed = s_join_reserve (f, j, at + chunk->frame_size, s_join_guess (f, chunk->frame_size)) != 0))
            return S_CHUNK_COPY;
        j->placed [p] = 1 + at;
    }
    if (!j->placed [p] || chunk->frame_size != j->sizes [p])
        return S_CHUNK_COPY;
    size_t at = j->placed [p] - 1 + chunk->offset, n = zframe_size (chunk->frames [0]);
    memcpy (j->data + at, zframe_data (chunk->frames [0]), n);
    j->high = at + n > j->high? at + n: j->high;
    return S_CHUNK_PLACED;
}

static void
s_join_part (s_fanout_t *f, size_t p)
{
    s_join_t *j = f->arg;
    if (!j->failed && s_join_start (f, j)) {
        mc_client_set_error (f->client, MC_E_INTERNAL, "gather: out of memory");
        j->failed = true;
    }
    if (j->failed)
        return;
    long long id = json_integer_value (json_array_get (f->ids, p));
    const msgpack_object *value = &f->results [p].via.array.ptr [0];
    mc_array_t *part = &j->parts [p];
    //  A part streamed into place has its bytes there, its frame empty.
    bool ok = j->placed [p]? mc_array_from_object (value, part) == 0 && part->size == j->sizes [p]
                           : mc_proto_array_data (value, f->replies [p].frames, f->replies [p].frame_count, part) != NULL;
    if (!ok) {
        mc_client_set_error (f->client, MC_E_BAD_ARGUMENT, "gather: '%s' on engine %lld is a %s, not an array",
                             j->name, id, mc_value_type_name (value));
        j->failed = true;
        return;
    }
    j->sizes [p] = part->size;
    j->failed = s_join_reserve (f, j, part->size, s_join_guess (f, part->size + mc_array_row_bytes (part))) != 0;
    //  Round robin deals rows from every part: joined when all are in. A
    //  target's results are set once its reply is in.
    while (!j->failed && !j->round_robin && j->joined < f->count
    &&     f->results [j->joined].type == MSGPACK_OBJECT_ARRAY) {
        size_t placed = j->placed [j->joined];
        mc_array_t *next = &j->parts [j->joined++];
        if (placed && placed - 1 != j->at) {        //  the parts' sizes disagree with their chunks'
            mc_client_set_error (f->client, MC_E_MALFORMED, "gather: '%s' on engine %lld changed size while it came",
                                 j->name, (long long) json_integer_value (json_array_get (f->ids, j->joined - 1)));
            j->failed = true;
            break;
        }
        j->failed = s_join_reserve (f, j, j->at + next->size, s_join_guess (f, next->size)) != 0;
        if (!j->failed && next->size && !placed)
            memcpy (j->data + j->at, next->data, next->size);
        j->at += next->size;
        j->high = j->at > j->high? j->at: j->high;
    }
}

int
mc_client_gather_array (mc_client_t *self, const char *name, const json_t *targets, bool round_robin,
                        mc_array_t *array)
{
    s_join_t join = { .name = name, .round_robin = round_robin };
    s_fanout_t *f = s_pull (self, &name, 1, targets, s_join_part, s_join_chunk, &join);
    int rc = !f || join.failed? -1: 0;
    uint64_t rows = 0;
    if (rc == 0)
        for (size_t p = 0; p < f->count && rc == 0; p++) {
            mc_array_t *part = &join.parts [p], *first = &join.parts [0];
            if (part->dtype != first->dtype || part->ndim != first->ndim
            ||  memcmp (part->shape + 1, first->shape + 1, (first->ndim - 1) * sizeof (uint64_t))) {
                char a [128], b [128];
                mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' is %s on engine %lld but %s on engine %lld",
                                     name, mc_array_describe (part, a, sizeof a),
                                     (long long) json_integer_value (json_array_get (f->ids, p)),
                                     mc_array_describe (first, b, sizeof b),
                                     (long long) json_integer_value (json_array_get (f->ids, 0)));
                rc = -1;
            }
            rows += part->shape [0];
        }
    if (rc == 0) {
        *array = join.parts [0];
        array->shape [0] = rows;
        size_t row_bytes = mc_array_row_bytes (array);
        array->size = rows * row_bytes;
        if (round_robin && (rc = s_join_reserve (f, &join, array->size, array->size)) == 0)
            for (uint64_t k = 0, out = 0; out < rows; k++)
                for (size_t p = 0; p < f->count; p++)
                    if (k < join.parts [p].shape [0])
                        memcpy (join.data + row_bytes * out++, (const char *) join.parts [p].data + k * row_bytes,
                                row_bytes);
    }
    if (rc == 0 && !join.data)
        rc = s_join_reserve (f, &join, 1, 1);   //  no targets' data at all: an empty array
    if (rc == 0) {
        array->data = join.data;
        join.data = NULL;
    }
    free (join.data);
    free (join.parts);
    free (join.sizes);
    free (join.placed);
    s_fanout_destroy (&f);
    return rc;
}

int
mc_client_delete (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    for (size_t i = 0; i < count; i++)
        if (s_check_name (self, names [i]))
            return -1;
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return -1;
    for (size_t i = 0; i < f->count; i++) {
        msgpack_packer *body = s_spec (f, i, "apply", "%del", 1);
        s_pack_str (body, "args");
        s_pack_names (body, names, count);
    }
    return s_fanout_finish (f);
}

json_t *
mc_client_names (mc_client_t *self, const json_t *targets)
{
    s_fanout_t *f = s_fanout_new (self, targets);
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->count; i++)
        s_spec (f, i, "apply", "%names", 0);
    json_t *out = NULL;
    if (s_fanout_run (f) == 0) {
        out = json_array ();
        for (size_t i = 0; i < f->count; i++) {
            char err [256];
            json_t *names = mc_value_to_json (&f->results [i].via.array.ptr [0], err, sizeof err);
            json_array_append_new (out, json_pack ("{s:O, s:o}", "id", json_array_get (f->ids, i),
                                                   "names", names? names: json_object ()));
        }
    }
    s_fanout_destroy (&f);
    return out;
}
