/*  mc_join: a gather into one array, joined while the parts arrive: the
    first part to arrive sizes the array, whose pages are then made
    resident while the other parts are still on their way. A streamed part
    goes straight into place, chunk by chunk, once the sizes of all parts
    before it are known (so is its offset): its chunks are held until then,
    or until its reply is in. Any other part is copied in once all parts
    before it are in. */
#include "mc_join.h"
#include "mc_pages.h"
#include "mc_value.h"

struct _mc_join_t {
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
};

mc_join_t *
mc_join_new (const char *name, bool round_robin)
{
    mc_join_t *self = calloc (1, sizeof *self);
    if (self) {
        self->name = name;
        self->round_robin = round_robin;
    }
    return self;
}

void
mc_join_destroy (mc_join_t **self_p)
{
    mc_join_t *self = *self_p;
    if (!self)
        return;
    free (self->data);
    free (self->parts);
    free (self->sizes);
    free (self->placed);
    free (self);
    *self_p = NULL;
}

//  Room for `need` bytes. When the array must grow, it grows to `want`
//  bytes (at least `need`) of resident memory, keeping what is written.
//  0, or -1 with the error set.
static int
s_reserve (mc_fanout_t *f, mc_join_t *j, size_t need, size_t want)
{
    if (need <= j->capacity)
        return 0;
    want = want < need? need: want;
    char *data = mc_pages_alloc (want? want: 1);
    if (!data && want > need) {         //  a guess too large is no error
        want = need;
        data = mc_pages_alloc (want? want: 1);
    }
    if (!data) {
        mc_client_set_error (mc_fanout_client (f), MC_E_INTERNAL, "gather: cannot allocate %zu bytes", need);
        return -1;
    }
    mc_pages_warm (data, want);
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
s_guess (mc_fanout_t *f, size_t bytes)
{
    return (bytes + (64 << 10)) * mc_fanout_count (f);
}

//  The join's arrays, made when the first part (or chunk) comes. 0 or -1.
static int
s_start (mc_fanout_t *f, mc_join_t *j)
{
    size_t count = mc_fanout_count (f);
    if (!j->parts) {
        j->parts = calloc (count, sizeof *j->parts);
        j->sizes = calloc (count, sizeof *j->sizes);
        j->placed = calloc (count, sizeof *j->placed);
    }
    return j->parts && j->sizes && j->placed? 0: -1;
}

mc_chunk_use_t
mc_join_chunk (mc_fanout_t *f, size_t p, const mc_msg_t *chunk, bool must, void *self)
{
    mc_join_t *j = self;
    if (j->round_robin || j->failed || chunk->frame != 0 || s_start (f, j))
        return MC_CHUNK_COPY;
    //  Into place once the part's offset is known, which is when the sizes
    //  of all parts before it are.
    if (chunk->offset == 0 && !j->placed [p]) {
        j->sizes [p] = chunk->frame_size;
        uint64_t at = 0;
        for (size_t q = 0; q < p; q++) {
            if (!j->sizes [q] && !mc_fanout_result (f, q))
                return must? MC_CHUNK_COPY: MC_CHUNK_LATER;
            at += j->sizes [q];
        }
        if ((j->failed = s_reserve (f, j, at + chunk->frame_size, s_guess (f, chunk->frame_size)) != 0))
            return MC_CHUNK_COPY;
        j->placed [p] = 1 + at;
    }
    if (!j->placed [p] || chunk->frame_size != j->sizes [p])
        return MC_CHUNK_COPY;
    size_t at = j->placed [p] - 1 + chunk->offset, n = zframe_size (chunk->frames [0]);
    memcpy (j->data + at, zframe_data (chunk->frames [0]), n);
    j->high = at + n > j->high? at + n: j->high;
    return MC_CHUNK_PLACED;
}

//  Copy in the parts whose turn has come: those after the last joined
//  whose replies are in. A target's result is there once its reply is in.
static void
s_join_ready (mc_fanout_t *f, mc_join_t *j)
{
    while (!j->failed && !j->round_robin && j->joined < mc_fanout_count (f) && mc_fanout_result (f, j->joined)) {
        size_t placed = j->placed [j->joined];
        mc_array_t *next = &j->parts [j->joined++];
        if (placed && placed - 1 != j->at) {        //  the parts' sizes disagree with their chunks'
            mc_client_set_error (mc_fanout_client (f), MC_E_MALFORMED,
                                 "gather: '%s' on engine %lld changed size while it came", j->name,
                                 mc_fanout_engine (f, j->joined - 1));
            j->failed = true;
            break;
        }
        j->failed = s_reserve (f, j, j->at + next->size, s_guess (f, next->size)) != 0;
        if (!j->failed && next->size && !placed)
            memcpy (j->data + j->at, next->data, next->size);
        j->at += next->size;
        j->high = j->at > j->high? j->at: j->high;
    }
}

void
mc_join_part (mc_fanout_t *f, size_t p, void *self)
{
    mc_join_t *j = self;
    if (!j->failed && s_start (f, j)) {
        mc_client_set_error (mc_fanout_client (f), MC_E_INTERNAL, "gather: out of memory");
        j->failed = true;
    }
    if (j->failed)
        return;
    const msgpack_object *value = mc_fanout_result (f, p);
    const mc_msg_t *reply = mc_fanout_reply (f, p);
    mc_array_t *part = &j->parts [p];
    //  A part streamed into place has its bytes there, its frame empty.
    bool ok = j->placed [p]? mc_array_from_object (value, part) == 0 && part->size == j->sizes [p]
                           : mc_proto_array_data (value, reply->frames, reply->frame_count, part) != NULL;
    if (!ok) {
        mc_client_set_error (mc_fanout_client (f), MC_E_BAD_ARGUMENT,
                             "gather: '%s' on engine %lld is a %s, not an array", j->name, mc_fanout_engine (f, p),
                             mc_value_type_name (value));
        j->failed = true;
        return;
    }
    j->sizes [p] = part->size;
    j->failed = s_reserve (f, j, part->size, s_guess (f, part->size + mc_array_row_bytes (part))) != 0;
    //  Round robin deals rows from every part: joined when all are in.
    s_join_ready (f, j);
}

//  Deal rows back: row k of every part in turn, into out (rows rows).
static void
s_deal_rows (const mc_array_t *parts, size_t count, size_t row_bytes, uint64_t rows, char *out)
{
    for (uint64_t k = 0, at = 0; at < rows; k++)
        for (size_t p = 0; p < count; p++)
            if (k < parts [p].shape [0])
                memcpy (out + row_bytes * at++, (const char *) parts [p].data + k * row_bytes, row_bytes);
}

//  The parts' rows in all, or -1 with the error set when they differ in
//  dtype or row shape.
static int64_t
s_rows (mc_join_t *j, mc_fanout_t *f)
{
    uint64_t rows = 0;
    for (size_t p = 0; p < mc_fanout_count (f); p++) {
        mc_array_t *part = &j->parts [p], *first = &j->parts [0];
        if (part->dtype != first->dtype || part->ndim != first->ndim
        ||  memcmp (part->shape + 1, first->shape + 1, (first->ndim - 1) * sizeof (uint64_t))) {
            char a [128], b [128];
            mc_client_set_error (mc_fanout_client (f), MC_E_BAD_ARGUMENT,
                                 "gather: '%s' is %s on engine %lld but %s on engine %lld", j->name,
                                 mc_array_describe (part, a, sizeof a), mc_fanout_engine (f, p),
                                 mc_array_describe (first, b, sizeof b), mc_fanout_engine (f, 0));
            return -1;
        }
        rows += part->shape [0];
    }
    return (int64_t) rows;
}

int
mc_join_array (mc_join_t *self, mc_fanout_t *f, mc_array_t *array)
{
    if (self->failed)
        return -1;
    int64_t rows = s_rows (self, f);
    if (rows < 0)
        return -1;
    *array = self->parts [0];
    array->shape [0] = (uint64_t) rows;
    size_t row_bytes = mc_array_row_bytes (array);
    array->size = (uint64_t) rows * row_bytes;
    int rc = 0;
    if (self->round_robin && (rc = s_reserve (f, self, array->size, array->size)) == 0)
        s_deal_rows (self->parts, mc_fanout_count (f), row_bytes, (uint64_t) rows, self->data);
    if (rc == 0 && !self->data)
        rc = s_reserve (f, self, 1, 1);     //  no targets' data at all: an empty array
    if (rc == 0) {
        array->data = self->data;
        self->data = NULL;
    }
    return rc;
}

json_t *
mc_join_lists (const json_t *parts, bool round_robin)
{
    size_t count = json_array_size (parts), i;
    json_t *part, *joined = json_array ();
    int rc = joined? 0: -1;
    if (!round_robin)
        json_array_foreach (parts, i, part)
            rc |= json_array_extend (joined, part);
    else
        //  Deal back: item k of every part in turn, while any has items.
        for (size_t k = 0, added = 1; added && rc == 0; k++) {
            added = 0;
            for (size_t p = 0; p < count; p++)
                if (k < json_array_size (json_array_get (parts, p))) {
                    rc |= json_array_append (joined, json_array_get (json_array_get (parts, p), k));
                    added = 1;
                }
        }
    if (rc)
        json_decref (joined);
    return rc? NULL: joined;
}

//  --------------------------------------------------------------------------
//  Selftest (tests/unit/test_client.c joins streamed parts against a
//  scripted controller).

static void
s_test_lists (const char *parts_json, bool round_robin, const char *expect, bool verbose)
{
    json_t *parts = json_loads (parts_json, 0, NULL);
    assert (parts);
    json_t *joined = mc_join_lists (parts, round_robin);
    char *text = json_dumps (joined, JSON_COMPACT);
    if (verbose)
        printf ("   %s %s -> %s\n", round_robin? "round robin": "blocks", parts_json, text);
    assert (text && !strcmp (text, expect));
    free (text);
    json_decref (joined);
    json_decref (parts);
}

void
mc_join_test (bool verbose)
{
    printf (" * mc_join: ");
    if (verbose)
        printf ("\n");
    s_test_lists ("[[0,1,2],[3,4],[5,6]]", false, "[0,1,2,3,4,5,6]", verbose);
    //  A scatter of 0..6 round robin over three gave [0,3,6], [1,4], [2,5].
    s_test_lists ("[[0,3,6],[1,4],[2,5]]", true, "[0,1,2,3,4,5,6]", verbose);
    s_test_lists ("[[],[]]", true, "[]", verbose);
    s_test_lists ("[]", false, "[]", verbose);
    //  Rows of two int64 dealt back from parts of 2, 1 and 1 rows.
    int64_t a [] = { 0, 0, 3, 3 }, b [] = { 1, 1 }, c [] = { 2, 2 };
    mc_array_t parts [3] = {
        { .dtype = MC_DTYPE_I64, .ndim = 2, .shape = { 2, 2 }, .data = a, .size = sizeof a },
        { .dtype = MC_DTYPE_I64, .ndim = 2, .shape = { 1, 2 }, .data = b, .size = sizeof b },
        { .dtype = MC_DTYPE_I64, .ndim = 2, .shape = { 1, 2 }, .data = c, .size = sizeof c } };
    int64_t out [8];
    s_deal_rows (parts, 3, 2 * sizeof (int64_t), 4, (char *) out);
    for (int k = 0; k < 8; k++)
        assert (out [k] == k / 2);
    mc_join_t *join = mc_join_new ("x", true);
    assert (join);
    mc_join_destroy (&join);
    mc_join_destroy (&join);
    assert (!join);
    printf ("OK\n");
}
