/*  mc_direct: the direct view of libmcclient, engine namespaces. Each
    operation is one transient job of a namespace operation ("%push",
    "%scatter", "%pull", "%del", "%names") on explicit targets; its reply
    carries the results, arrays as frames. Partitions are computed here, as
    ipyparallel computes them in its client. */
#include "mc_client_int.h"
#include "mc_value.h"

//  A request body being built, and the frames of its arrays (owned).
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    zlist_t *frames;
} s_body_t;

static void
s_body_init (s_body_t *b)
{
    msgpack_sbuffer_init (&b->sb);
    msgpack_packer_init (&b->pk, &b->sb, msgpack_sbuffer_write);
    b->frames = zlist_new ();
}

static void
s_body_destroy (s_body_t *b)
{
    zframe_t *frame;
    while ((frame = zlist_pop (b->frames)))
        zframe_destroy (&frame);
    zlist_destroy (&b->frames);
    msgpack_sbuffer_destroy (&b->sb);
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

//  A new frame holding these bytes, referred to from the body.
static int
s_add_frame (mc_client_t *self, s_body_t *b, const mc_array_t *shape, const void *data)
{
    zframe_t *frame = mc_proto_frame_new (data, shape->size);
    if (!frame || zlist_append (b->frames, frame)) {
        zframe_destroy (&frame);
        mc_client_set_error (self, MC_E_INTERNAL, "cannot allocate %zu bytes", shape->size);
        return -1;
    }
    return mc_array_pack_ref (&b->pk, shape, (uint32_t) zlist_size (b->frames) - 1);
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

//  Start a submit body: {kind, kernel, transient, targets, ...} with room
//  for `extra` more keys.
static void
s_spec (s_body_t *b, const char *kind, const char *kernel, const json_t *ids, uint32_t extra)
{
    msgpack_pack_map (&b->pk, 4 + extra);
    s_pack_str (&b->pk, "kind");      s_pack_str (&b->pk, kind);
    s_pack_str (&b->pk, "kernel");    s_pack_str (&b->pk, kernel);
    s_pack_str (&b->pk, "transient"); msgpack_pack_true (&b->pk);
    s_pack_str (&b->pk, "targets");
    mc_value_pack_json (&b->pk, ids);
}

static void
s_pack_names (msgpack_packer *pk, const char *const *names, size_t count)
{
    msgpack_pack_array (pk, (uint32_t) count);
    for (size_t i = 0; i < count; i++)
        s_pack_str (pk, names [i]);
}

//  Send the body; on success the results array of the reply is in *results
//  (unpacked into zone). Errors of engines fail the call, one per line.
static int
s_run (mc_client_t *self, s_body_t *b, msgpack_zone *zone, msgpack_object *results)
{
    size_t count = zlist_size (b->frames);
    zframe_t **frames = calloc (count + 1, sizeof *frames);
    size_t n = 0;
    for (zframe_t *f = zlist_first (b->frames); f; f = zlist_next (b->frames))
        frames [n++] = f;
    int rc = mc_client_request (self, "submit", b->sb.data, b->sb.size, frames, count, -1);
    free (frames);
    if (rc)
        return -1;
    const mc_msg_t *reply = mc_client_reply (self);
    msgpack_object body;
    if (mc_proto_unpack (reply->data.ptr, reply->data.size, zone, &body) || body.type != MSGPACK_OBJECT_MAP) {
        mc_client_set_error (self, MC_E_MALFORMED, "malformed reply from the controller");
        return -1;
    }
    const msgpack_object *errors = mc_proto_map_get (&body, "errors");
    if (errors && errors->type == MSGPACK_OBJECT_ARRAY && errors->via.array.size) {
        char text [1024] = "";
        size_t used = 0;
        //  "engines 0,3: name 'b' is not defined; engine 5: ..."
        for (uint32_t i = 0; i < errors->via.array.size && used < sizeof text; i++) {
            const msgpack_object *error = mc_proto_map_get (&errors->via.array.ptr [i], "error");
            const msgpack_object *engines = mc_proto_map_get (&errors->via.array.ptr [i], "engines");
            uint32_t n = engines && engines->type == MSGPACK_OBJECT_ARRAY? engines->via.array.size: 0;
            used += (size_t) snprintf (text + used, sizeof text - used, "%sengine%s ", i? "; ": "", n == 1? "": "s");
            for (uint32_t k = 0; k < n && used < sizeof text; k++)
                used += (size_t) snprintf (text + used, sizeof text - used, "%s%lld", k? ",": "",
                                           (long long) engines->via.array.ptr [k].via.i64);
            if (error && error->type == MSGPACK_OBJECT_STR && used < sizeof text)
                used += (size_t) snprintf (text + used, sizeof text - used, ": %.*s",
                                           (int) error->via.str.size, error->via.str.ptr);
        }
        mc_client_set_error (self, MC_E_KERNEL_ERROR, "%s", text);
        return -1;
    }
    const msgpack_object *list = mc_proto_map_get (&body, "results");
    if (!list || list->type != MSGPACK_OBJECT_ARRAY) {
        mc_client_set_error (self, MC_E_MALFORMED, "malformed reply from the controller");
        return -1;
    }
    *results = *list;
    return 0;
}

//  Run a body whose results are nothing of interest.
static int
s_run_plain (mc_client_t *self, s_body_t *b)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object results;
    int rc = s_run (self, b, &zone, &results);
    msgpack_zone_destroy (&zone);
    s_body_destroy (b);
    return rc;
}

int
mc_client_push (mc_client_t *self, const char *name, const json_t *value, const json_t *targets)
{
    if (s_check_name (self, name))
        return -1;
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_spec (&b, "apply", "%push", ids, 1);
    json_decref (ids);
    s_pack_str (&b.pk, "kwargs");
    msgpack_pack_map (&b.pk, 1);
    s_pack_str (&b.pk, name);
    size_t before = b.sb.size;
    if (mc_value_pack_json (&b.pk, value)) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
        s_body_destroy (&b);
        return -1;
    }
    if (s_check_size (self, name, b.sb.size - before)) {
        s_body_destroy (&b);
        return -1;
    }
    return s_run_plain (self, &b);
}

int
mc_client_push_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_spec (&b, "apply", "%push", ids, 1);
    json_decref (ids);
    s_pack_str (&b.pk, "kwargs");
    msgpack_pack_map (&b.pk, 1);
    s_pack_str (&b.pk, name);
    if (s_add_frame (self, &b, array, array->data)) {
        s_body_destroy (&b);
        return -1;
    }
    return s_run_plain (self, &b);
}

//  Start a scatter body: a map of "%scatter" whose seq has one part per target.
static void
s_scatter_spec (s_body_t *b, const char *name, const json_t *ids)
{
    s_spec (b, "map", "%scatter", ids, 2);
    s_pack_str (&b->pk, "args");
    msgpack_pack_array (&b->pk, 1);
    s_pack_str (&b->pk, name);
    s_pack_str (&b->pk, "seq");
    msgpack_pack_array (&b->pk, (uint32_t) json_array_size (ids));
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
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_scatter_spec (&b, name, ids);
    size_t total = json_array_size (seq), parts = json_array_size (ids);
    size_t before = b.sb.size;
    int rc = 0;
    for (size_t part = 0; part < parts && rc == 0; part++) {
        uint64_t start, size;
        if (round_robin) {
            start = part;
            size = mc_dist_rr_count (total, parts, part);
        }
        else
            mc_dist_block (total, parts, part, &start, &size);
        msgpack_pack_array (&b.pk, (uint32_t) size);
        for (uint64_t k = 0; k < size && rc == 0; k++)
            rc = mc_value_pack_json (&b.pk, json_array_get (seq, round_robin? start + k * parts: start + k));
    }
    json_decref (ids);
    if (rc)
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "value for '%s' cannot be encoded", name);
    if (rc || s_check_size (self, name, b.sb.size - before)) {
        s_body_destroy (&b);
        return -1;
    }
    return s_run_plain (self, &b);
}

int
mc_client_scatter_array (mc_client_t *self, const char *name, const mc_array_t *array, const json_t *targets,
                         bool round_robin)
{
    if (s_check_name (self, name) || s_check_size (self, name, array->size))
        return -1;
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_scatter_spec (&b, name, ids);
    uint64_t rows = mc_array_rows (array), parts = json_array_size (ids);
    size_t row_bytes = mc_array_row_bytes (array);
    json_decref (ids);
    int rc = 0;
    for (uint64_t part = 0; part < parts && rc == 0; part++) {
        uint64_t start, size;
        if (round_robin) {
            start = part;
            size = mc_dist_rr_count (rows, parts, part);
        }
        else
            mc_dist_block (rows, parts, part, &start, &size);
        mc_array_t piece = *array;
        piece.shape [0] = size;
        piece.size = size * row_bytes;
        if (!round_robin) {
            rc = s_add_frame (self, &b, &piece, (const char *) array->data + start * row_bytes);
            continue;
        }
        //  Rows part, part + parts, ... gathered into one frame.
        rc = s_add_frame (self, &b, &piece, NULL);
        if (rc == 0) {
            char *out = (char *) zframe_data (zlist_tail (b.frames));
            for (uint64_t k = 0; k < size; k++)
                memcpy (out + k * row_bytes, (const char *) array->data + (start + k * parts) * row_bytes, row_bytes);
        }
    }
    if (rc) {
        s_body_destroy (&b);
        return -1;
    }
    return s_run_plain (self, &b);
}

//  Pull names from targets; the results (one per target) are unpacked in zone.
static int
s_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets, msgpack_zone *zone,
        msgpack_object *results, json_t **ids_out)
{
    for (size_t i = 0; i < count; i++)
        if (s_check_name (self, names [i]))
            return -1;
    if (count == 0) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull needs at least one name");
        return -1;
    }
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_spec (&b, "apply", "%pull", ids, 1);
    s_pack_str (&b.pk, "args");
    s_pack_names (&b.pk, names, count);
    int rc = s_run (self, &b, zone, results);
    s_body_destroy (&b);
    if (rc == 0 && ids_out)
        *ids_out = ids;
    else
        json_decref (ids);
    return rc;
}

json_t *
mc_client_pull (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object results;
    json_t *values = NULL;
    if (s_pull (self, names, count, targets, &zone, &results, NULL) == 0) {
        const mc_msg_t *reply = mc_client_reply (self);
        char err [256];
        values = mc_value_to_json_frames (&results, reply->frames, reply->frame_count, err, sizeof err);
        if (!values)
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "pull: %s", err);
    }
    msgpack_zone_destroy (&zone);
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
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' is not a list or an array on the %zu%s target",
                                 name, i + 1, i == 0? "st": i == 1? "nd": i == 2? "rd": "th");
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

int
mc_client_gather_array (mc_client_t *self, const char *name, const json_t *targets, bool round_robin,
                        mc_array_t *array)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object results;
    json_t *ids = NULL;
    int rc = -1;
    mc_array_t *parts = NULL;
    if (s_pull (self, &name, 1, targets, &zone, &results, &ids))
        goto done;
    const mc_msg_t *reply = mc_client_reply (self);
    uint32_t count = results.via.array.size;
    parts = calloc (count + 1, sizeof *parts);
    uint64_t rows = 0;
    for (uint32_t p = 0; p < count; p++) {
        long long id = json_integer_value (json_array_get (ids, p));
        if (!mc_proto_array_data (&results.via.array.ptr [p], reply->frames, reply->frame_count, &parts [p])) {
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' on engine %lld is a %s, not an array",
                                 name, id, mc_value_type_name (&results.via.array.ptr [p]));
            goto done;
        }
        if (parts [p].dtype != parts [0].dtype || parts [p].ndim != parts [0].ndim
        ||  memcmp (parts [p].shape + 1, parts [0].shape + 1, (parts [0].ndim - 1) * sizeof (uint64_t))) {
            char a [128], b [128];
            mc_client_set_error (self, MC_E_BAD_ARGUMENT, "gather: '%s' is %s on engine %lld but %s on engine %lld",
                                 name, mc_array_describe (&parts [p], a, sizeof a), id,
                                 mc_array_describe (&parts [0], b, sizeof b),
                                 (long long) json_integer_value (json_array_get (ids, 0)));
            goto done;
        }
        rows += parts [p].shape [0];
    }
    if (count == 0)
        goto done;
    *array = parts [0];
    array->shape [0] = rows;
    size_t row_bytes = mc_array_row_bytes (array);
    array->size = rows * row_bytes;
    char *data = malloc (array->size? array->size: 1);
    if (!data) {
        mc_client_set_error (self, MC_E_INTERNAL, "cannot allocate %zu bytes", array->size);
        goto done;
    }
    if (!round_robin) {
        size_t at = 0;
        for (uint32_t p = 0; p < count; p++) {
            memcpy (data + at, parts [p].data, parts [p].size);
            at += parts [p].size;
        }
    }
    else {
        uint64_t out = 0;
        for (uint64_t k = 0; out < rows; k++)
            for (uint32_t p = 0; p < count; p++)
                if (k < parts [p].shape [0])
                    memcpy (data + row_bytes * out++, (const char *) parts [p].data + k * row_bytes, row_bytes);
    }
    array->data = data;
    rc = 0;
done:
    free (parts);
    json_decref (ids);
    msgpack_zone_destroy (&zone);
    return rc;
}

int
mc_client_delete (mc_client_t *self, const char *const *names, size_t count, const json_t *targets)
{
    for (size_t i = 0; i < count; i++)
        if (s_check_name (self, names [i]))
            return -1;
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return -1;
    s_body_t b;
    s_body_init (&b);
    s_spec (&b, "apply", "%del", ids, 1);
    json_decref (ids);
    s_pack_str (&b.pk, "args");
    s_pack_names (&b.pk, names, count);
    return s_run_plain (self, &b);
}

json_t *
mc_client_names (mc_client_t *self, const json_t *targets)
{
    json_t *ids = s_target_ids (self, targets);
    if (!ids)
        return NULL;
    s_body_t b;
    s_body_init (&b);
    s_spec (&b, "apply", "%names", ids, 0);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object results;
    json_t *out = NULL;
    if (s_run (self, &b, &zone, &results) == 0) {
        char err [256];
        json_t *maps = mc_value_to_json (&results, err, sizeof err);
        out = json_array ();
        size_t i;
        json_t *map;
        json_array_foreach (maps, i, map)
            json_array_append_new (out, json_pack ("{s:O, s:O}", "id", json_array_get (ids, i), "names", map));
        json_decref (maps);
    }
    msgpack_zone_destroy (&zone);
    s_body_destroy (&b);
    json_decref (ids);
    return out;
}
