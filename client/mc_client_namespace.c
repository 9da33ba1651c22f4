/*  mc_client_namespace: mc_client's functions on engine namespaces (the
    direct view). Each sends one transient job per target, running a
    namespace operation (MC_NSOP_PUSH ... MC_NSOP_NAMES of proto/mc_ops.h)
    on that engine, through a fanout (mc_fanout); a gather's parts are
    joined by mc_join. Partitions are computed here, as ipyparallel
    computes them in its client. */
#include "mc_client_int.h"
#include "mc_fanout.h"
#include "mc_join.h"
#include "mc_value.h"

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
s_check_names (mc_client_t *self, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (s_check_name (self, names [i]))
            return -1;
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

static void
s_pack_names (msgpack_packer *pk, const char *const *names, size_t count)
{
    msgpack_pack_array (pk, (uint32_t) count);
    for (size_t i = 0; i < count; i++)
        mc_proto_pack_str (pk, names [i]);
}

//  Start target i's body of a push: MC_NSOP_PUSH with kwargs {name: ...}; the
//  caller packs the value next.
static msgpack_packer *
s_push_body (mc_fanout_t *f, size_t i, const char *name)
{
    msgpack_packer *body = mc_fanout_body (f, i, MC_NSOP_PUSH, 1);
    mc_proto_pack_str (body, "kwargs");
    msgpack_pack_map (body, 1);
    mc_proto_pack_str (body, name);
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
    mc_fanout_t *f = NULL;
    int rc = mc_value_pack_json (&pk, value);
    if (rc)
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
    if (rc || s_check_size (self, name, sb.size) || !(f = mc_fanout_new (self, targets))) {
        msgpack_sbuffer_destroy (&sb);
        return -1;
    }
    for (size_t i = 0; i < mc_fanout_count (f) && rc == 0; i++) {
        s_push_body (f, i, name);
        rc = mc_fanout_body_append (f, i, sb.data, sb.size);
    }
    msgpack_sbuffer_destroy (&sb);
    if (rc) {
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
        mc_fanout_destroy (&f);
        return -1;
    }
    return mc_fanout_finish (&f);
}

int
mc_client_push_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return -1;
    for (size_t i = 0; i < mc_fanout_count (f); i++) {
        s_push_body (f, i, name);
        if (mc_fanout_pack_array (f, i, array, array->data)) {
            mc_fanout_destroy (&f);
            return -1;
        }
    }
    return mc_fanout_finish (&f);
}

//  Start target i's part of a scatter: MC_NSOP_SCATTER mapped over one item.
static msgpack_packer *
s_scatter_body (mc_fanout_t *f, size_t i, const char *name)
{
    msgpack_packer *body = mc_fanout_body (f, i, MC_NSOP_SCATTER, 2);
    mc_proto_pack_str (body, "args");
    msgpack_pack_array (body, 1);
    mc_proto_pack_str (body, name);
    mc_proto_pack_str (body, "seq");
    msgpack_pack_array (body, 1);
    return body;
}

//  Part i of n of total items: where it starts and how long it is. Its
//  items are start, start + 1, ... in blocks; start, start + n, ... round
//  robin.
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

//  Item k of the part that starts at start, of n parts.
static uint64_t
s_item (uint64_t start, uint64_t k, uint64_t parts, bool round_robin)
{
    return round_robin? start + k * parts: start + k;
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
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return -1;
    size_t total = json_array_size (seq), bytes = 0, count = mc_fanout_count (f);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        msgpack_packer *body = s_scatter_body (f, i, name);
        uint64_t start, size;
        s_part (total, count, i, round_robin, &start, &size);
        size_t before = mc_fanout_body_size (f, i);
        msgpack_pack_array (body, (uint32_t) size);
        for (uint64_t k = 0; k < size && rc == 0; k++)
            rc = mc_value_pack_json (body, json_array_get (seq, s_item (start, k, count, round_robin)));
        bytes += mc_fanout_body_size (f, i) - before;
    }
    if (rc)
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
    if (rc || s_check_size (self, name, bytes)) {
        mc_fanout_destroy (&f);
        return -1;
    }
    return mc_fanout_finish (&f);
}

//  Rows start, start + parts, ... (size of them) of from, into one block.
static void
s_deal_rows (const char *from, uint64_t start, uint64_t size, uint64_t parts, size_t row_bytes, char *out)
{
    for (uint64_t k = 0; k < size; k++)
        memcpy (out + k * row_bytes, from + s_item (start, k, parts, true) * row_bytes, row_bytes);
}

int
mc_client_scatter_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets,
                         bool round_robin)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return -1;
    uint64_t rows = mc_array_rows (array);
    size_t row_bytes = mc_array_row_bytes (array), count = mc_fanout_count (f);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        s_scatter_body (f, i, name);
        uint64_t start, size;
        s_part (rows, count, i, round_robin, &start, &size);
        mc_array_t piece = *array;
        piece.shape [0] = size;
        piece.size = size * row_bytes;
        const char *from = (const char *) array->data;
        if (!round_robin) {
            rc = mc_fanout_pack_array (f, i, &piece, from + start * row_bytes);
            continue;
        }
        //  Rows i, i + n, ... gathered into one block.
        char *dealt = malloc (piece.size? piece.size: 1);
        if (!dealt) {
            mc_client_set_error (self, MC_E_INTERNAL, "cannot allocate %zu bytes", piece.size);
            rc = -1;
            break;
        }
        s_deal_rows (from, start, size, count, row_bytes, dealt);
        const void *data = dealt;
        mc_fanout_own (f, i, (void **) &dealt);
        rc = mc_fanout_pack_array (f, i, &piece, data);
    }
    if (rc) {
        mc_fanout_destroy (&f);
        return -1;
    }
    return mc_fanout_finish (&f);
}

//  Pull names from every target; each target's value is then its result.
//  on_results and on_chunk (with arg), when given, see each target's as
//  it arrives. The fanout, run, or NULL with the error set.
static mc_fanout_t *
s_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets,
        mc_fanout_results_fn *on_results, mc_fanout_chunk_fn *on_chunk, void *arg)
{
    if (s_check_names (self, names, count))
        return NULL;
    if (count == 0) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull needs at least one name");
        return NULL;
    }
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return NULL;
    mc_fanout_set_handlers (f, on_results, on_chunk, arg);
    for (size_t i = 0; i < mc_fanout_count (f); i++) {
        //  Large arrays come in chunks, received into reused memory and
        //  forwarded by the controller as they come (see mc_proto.md).
        msgpack_packer *body = mc_fanout_body (f, i, MC_NSOP_PULL, 2);
        mc_proto_pack_str (body, "args");
        s_pack_names (body, names, count);
        mc_proto_pack_str (body, "kwargs");
        msgpack_pack_map (body, 1);
        mc_proto_pack_str (body, "stream");
        msgpack_pack_true (body);
    }
    if (mc_fanout_run (f))
        mc_fanout_destroy (&f);
    return f;
}

json_t *
mc_client_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    mc_fanout_t *f = s_pull (self, names, count, targets, NULL, NULL, NULL);
    if (!f)
        return NULL;
    json_t *values = json_array ();
    if (!values)
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < mc_fanout_count (f) && values; i++) {
        char err [256];
        const mc_msg_t *reply = mc_fanout_reply (f, i);
        json_t *value = mc_value_to_json_frames (mc_fanout_result (f, i), reply->frames, reply->frame_count, err,
                                                 sizeof err);
        if (!value || json_array_append_new (values, value)) {
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull: engine %lld: %s", mc_fanout_engine (f, i),
                                 value? "out of memory": err);
            json_decref (values);
            values = NULL;
        }
    }
    mc_fanout_destroy (&f);
    return values;
}

json_t *
mc_client_gather (mc_client_t *self, const char *name, const json_t *targets, bool round_robin)
{
    json_t *parts = mc_client_pull (self, &name, 1, targets);
    if (!parts)
        return NULL;
    size_t i;
    json_t *part;
    json_array_foreach (parts, i, part)
        if (!json_is_array (part)) {
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' is not a list or an array on target %zu",
                                 name, i);
            json_decref (parts);
            return NULL;
        }
    json_t *joined = mc_join_lists (parts, round_robin);
    if (!joined)
        mc_client_set_error (self, MC_E_INTERNAL, "gather: out of memory");
    json_decref (parts);
    return joined;
}

int
mc_client_gather_array (mc_client_t *self, const char *name, const json_t *targets, bool round_robin,
                        mc_array_t *array)
{
    mc_join_t *join = mc_join_new (name, round_robin);
    if (!join) {
        mc_client_set_error (self, MC_E_INTERNAL, "gather: out of memory");
        return -1;
    }
    mc_fanout_t *f = s_pull (self, &name, 1, targets, mc_join_part, mc_join_chunk, join);
    int rc = f? mc_join_array (join, f, array): -1;
    mc_join_destroy (&join);
    mc_fanout_destroy (&f);
    return rc;
}

int
mc_client_delete (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    if (s_check_names (self, names, count))
        return -1;
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return -1;
    for (size_t i = 0; i < mc_fanout_count (f); i++) {
        msgpack_packer *body = mc_fanout_body (f, i, MC_NSOP_DEL, 1);
        mc_proto_pack_str (body, "args");
        s_pack_names (body, names, count);
    }
    return mc_fanout_finish (&f);
}

json_t *
mc_client_names (mc_client_t *self, const json_t *targets)
{
    mc_fanout_t *f = mc_fanout_new (self, targets);
    if (!f)
        return NULL;
    for (size_t i = 0; i < mc_fanout_count (f); i++)
        mc_fanout_body (f, i, MC_NSOP_NAMES, 0);
    json_t *out = NULL;
    if (mc_fanout_run (f) == 0 && !(out = json_array ()))
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
    for (size_t i = 0; out && i < mc_fanout_count (f); i++) {
        char err [256];
        json_t *names = mc_value_to_json (mc_fanout_result (f, i), err, sizeof err);
        json_t *entry = json_pack ("{s:I, s:o}", "id", (json_int_t) mc_fanout_engine (f, i),
                                   "names", names? names: json_object ());
        if (!entry || json_array_append_new (out, entry)) {
            mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
            json_decref (out);
            out = NULL;
        }
    }
    mc_fanout_destroy (&f);
    return out;
}

//  --------------------------------------------------------------------------
//  Selftest: the partitions of scatter, without a controller.

//  Every item of total is in exactly one of n parts, in order within each.
static void
s_test_parts (uint64_t total, uint64_t parts, bool round_robin, bool verbose)
{
    char *seen = calloc (total + 1, 1);
    assert (seen);
    uint64_t first_size = 0;
    for (uint64_t i = 0; i < parts; i++) {
        uint64_t start, size;
        s_part (total, parts, i, round_robin, &start, &size);
        if (verbose)
            printf ("   %llu items, %s part %llu of %llu: from %llu, %llu items\n", (unsigned long long) total,
                    round_robin? "round robin": "block", (unsigned long long) i, (unsigned long long) parts,
                    (unsigned long long) start, (unsigned long long) size);
        //  As ipyparallel: the first parts are at most one item longer.
        if (i == 0)
            first_size = size;
        assert (size == first_size || size + 1 == first_size);
        for (uint64_t k = 0; k < size; k++) {
            uint64_t item = s_item (start, k, parts, round_robin);
            assert (item < total && !seen [item]);
            seen [item] = 1;
        }
    }
    for (uint64_t item = 0; item < total; item++)
        assert (seen [item]);
    free (seen);
}

void
mc_client_namespace_test (bool verbose)
{
    printf (" * mc_client_namespace: ");
    if (verbose)
        printf ("\n");
    for (int rr = 0; rr < 2; rr++) {
        s_test_parts (10, 3, rr, verbose);
        s_test_parts (2, 4, rr, verbose);
        s_test_parts (0, 2, rr, false);
        s_test_parts (1000, 7, rr, false);
    }
    //  Rows 1, 4, 7 of nine rows of two int64, dealt to part 1 of three.
    int64_t rows [18], out [6];
    for (int k = 0; k < 18; k++)
        rows [k] = k / 2;
    s_deal_rows ((const char *) rows, 1, 3, 3, 2 * sizeof (int64_t), (char *) out);
    for (int k = 0; k < 6; k++)
        assert (out [k] == 1 + 3 * (k / 2));
    printf ("OK\n");
}
