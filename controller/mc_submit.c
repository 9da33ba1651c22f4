/*  mc_submit: the fields of a submit body, checked one group at a time. */
#include "mc_submit.h"
#include "mc_time.h"
#include <string.h>

//  Where a refused submit body's reason goes: its MC_E_ code and one line.
typedef struct {
    int *code;
    char *err;
    size_t errlen;
} s_why_t;

#define REFUSE(why, c, ...) \
    do { *(why)->code = (c); snprintf ((why)->err, (why)->errlen, __VA_ARGS__); return -1; } while (0)

//  Does a value hold an array reference (to a frame)?
static bool
s_has_ref (const msgpack_object *obj)
{
    if (obj->type == MSGPACK_OBJECT_EXT)
        return obj->via.ext.type == MC_EXT_ARRAY;
    if (obj->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            if (s_has_ref (&obj->via.array.ptr [i]))
                return true;
    }
    else
    if (obj->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < obj->via.map.size; i++)
            if (s_has_ref (&obj->via.map.ptr [i].val))
                return true;
    return false;
}

static bool
s_is_true (const msgpack_object *obj)
{
    return obj && obj->type == MSGPACK_OBJECT_BOOLEAN && obj->via.boolean;
}

static bool
s_is_str (const msgpack_object *obj, const char *text)
{
    size_t len = strlen (text);
    return obj && obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == len && !memcmp (obj->via.str.ptr, text, len);
}

//  kind, kernel (a kernel's name or a namespace operation), transient and out.
static int
s_parse_kernel (mc_submit_t *self, mc_job_info_t *info, const s_why_t *why, bool *is_map)
{
    const msgpack_object *kind = mc_proto_map_get (&self->spec, "kind");
    if (s_is_str (kind, "map"))
        *is_map = true;
    else
    if (s_is_str (kind, "apply"))
        *is_map = false;
    else
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'kind' must be \"map\" or \"apply\"");
    strcpy (info->kind, *is_map? "map": "apply");

    const msgpack_object *kernel = mc_proto_map_get (&self->spec, "kernel");
    bool named = kernel && kernel->type == MSGPACK_OBJECT_STR;
    if (named)
        self->nsop = mc_nsop_find (kernel->via.str.ptr, kernel->via.str.size);
    if (!named || !(self->nsop || mc_value_valid_kernel_name (kernel->via.str.ptr, kernel->via.str.size)))
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'kernel' must be a name of 1-%d letters, digits, '_', '-' or '.'",
                MC_KERNEL_NAME_MAX);
    memcpy (info->kernel, kernel->via.str.ptr, kernel->via.str.size);
    self->transient = s_is_true (mc_proto_map_get (&self->spec, "transient"));
    if (self->nsop && !self->transient)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: namespace operations must be transient");
    if (s_has_ref (&self->spec) && !self->transient)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: arrays travel only with transient jobs (push them, then pass @name)");

    const msgpack_object *out = mc_proto_map_get (&self->spec, "out");
    if (out && out->type != MSGPACK_OBJECT_NIL) {
        if (out->type != MSGPACK_OBJECT_STR || out->via.str.size == 0 || out->via.str.size > MC_JOB_NAME_MAX
        ||  self->nsop)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'out' must be a name of 1-%d characters, for a kernel",
                    MC_JOB_NAME_MAX);
        memcpy (self->out, out->via.str.ptr, out->via.str.size);
        self->out [out->via.str.size] = 0;
    }
    return 0;
}

//  args (an array) and kwargs (a map with string keys), encoded once.
static int
s_parse_arguments (mc_submit_t *self, const s_why_t *why)
{
    msgpack_packer pk;
    const msgpack_object *args = mc_proto_map_get (&self->spec, "args");
    if (args && args->type != MSGPACK_OBJECT_ARRAY && args->type != MSGPACK_OBJECT_NIL)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'args' must be an array");
    msgpack_packer_init (&pk, &self->args, msgpack_sbuffer_write);
    if (args && args->type == MSGPACK_OBJECT_ARRAY)
        self->args_obj = args;
    int rc = self->args_obj? msgpack_pack_object (&pk, *args): msgpack_pack_array (&pk, 0);

    const msgpack_object *kwargs = mc_proto_map_get (&self->spec, "kwargs");
    if (kwargs && kwargs->type != MSGPACK_OBJECT_MAP && kwargs->type != MSGPACK_OBJECT_NIL)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'kwargs' must be a map");
    msgpack_packer_init (&pk, &self->kwargs, msgpack_sbuffer_write);
    if (kwargs && kwargs->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < kwargs->via.map.size; i++)
            if (kwargs->via.map.ptr [i].key.type != MSGPACK_OBJECT_STR)
                REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'kwargs' keys must be strings");
        self->kwargs_obj = kwargs;
    }
    rc |= self->kwargs_obj? msgpack_pack_object (&pk, *kwargs): msgpack_pack_map (&pk, 0);
    if (rc)
        REFUSE (why, MC_E_INTERNAL, "submit: controller out of memory");
    return 0;
}

//  A range's three integers, counted as Python's range counts them.
static int
s_parse_range (mc_submit_t *self, mc_job_info_t *info, const s_why_t *why, const msgpack_object *range)
{
    int64_t v [3];
    for (int i = 0; i < 3; i++) {
        const msgpack_object *o = &range->via.array.ptr [i];
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
            v [i] = (int64_t) o->via.u64;
        else
        if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            v [i] = o->via.i64;
        else
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'seq' range must hold three integers");
    }
    if (v [2] == 0)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'seq' range step must not be 0");
    //  In unsigned arithmetic, so that extreme bounds cannot overflow.
    uint64_t count = 0;
    if (v [2] > 0 && v [0] < v [1])
        count = ((uint64_t) v [1] - (uint64_t) v [0] - 1) / (uint64_t) v [2] + 1;
    else
    if (v [2] < 0 && v [0] > v [1])
        count = ((uint64_t) v [0] - (uint64_t) v [1] - 1) / ((uint64_t) (-(v [2] + 1)) + 1) + 1;
    self->is_range = true;
    self->range_start = v [0];
    self->range_step = v [2];
    info->total = count;
    return 0;
}

//  seq (a map's items: an array or a range) and chunksize.
static int
s_parse_seq (mc_submit_t *self, mc_job_info_t *info, const s_why_t *why, bool is_map)
{
    const msgpack_object *seq = mc_proto_map_get (&self->spec, "seq");
    if (is_map) {
        const msgpack_object *range = mc_proto_map_get (seq, "range");
        if (seq && seq->type == MSGPACK_OBJECT_ARRAY) {
            self->seq_items = seq->via.array.ptr;
            info->total = seq->via.array.size;
        }
        else
        if (range && range->type == MSGPACK_OBJECT_ARRAY && range->via.array.size == 3) {
            if (s_parse_range (self, info, why, range))
                return -1;
        }
        else
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'seq' must be an array or {\"range\": [start, stop, step]}");
    }
    else
    if (seq && seq->type != MSGPACK_OBJECT_NIL)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'seq' is only for kind \"map\"");

    const msgpack_object *chunksize = mc_proto_map_get (&self->spec, "chunksize");
    self->chunksize = 1;
    if (chunksize && chunksize->type != MSGPACK_OBJECT_NIL) {
        if (chunksize->type != MSGPACK_OBJECT_POSITIVE_INTEGER || chunksize->via.u64 < 1
        ||  chunksize->via.u64 > UINT32_MAX)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'chunksize' must be an integer from 1 to %u", UINT32_MAX);
        self->chunksize = chunksize->via.u64;
    }
    return 0;
}

//  seed, targets, and whether a namespace operation's result streams.
static int
s_parse_targets (mc_submit_t *self, mc_job_info_t *info, const s_why_t *why, uint64_t seed_if_absent)
{
    const msgpack_object *seed = mc_proto_map_get (&self->spec, "seed");
    if (seed && seed->type != MSGPACK_OBJECT_NIL) {
        if (seed->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'seed' must be a non-negative integer");
        info->seed = seed->via.u64;
    }
    else
        info->seed = seed_if_absent;

    const msgpack_object *targets = mc_proto_map_get (&self->spec, "targets");
    if (targets && targets->type != MSGPACK_OBJECT_NIL) {
        bool all = s_is_str (targets, "all");
        if (!all && targets->type != MSGPACK_OBJECT_ARRAY)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'targets' must be null, \"all\" or an array of engine ids");
        if (!all) {
            if (targets->via.array.size == 0)
                REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'targets' is an empty list");
            for (uint32_t i = 0; i < targets->via.array.size; i++)
                if (targets->via.array.ptr [i].type != MSGPACK_OBJECT_POSITIVE_INTEGER
                ||  targets->via.array.ptr [i].via.u64 > INT32_MAX)
                    REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'targets' must hold engine ids (non-negative integers)");
        }
        self->targets = targets;
    }
    if (self->nsop && !self->targets)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: namespace operations need targets");
    const msgpack_object *stream = mc_proto_map_get (self->kwargs_obj, "stream");
    if (stream && self->nsop && self->nsop->may_stream) {
        const char *name = self->nsop->name;
        if (stream->type != MSGPACK_OBJECT_BOOLEAN)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: %s 'stream' must be true or false", name);
        self->streams = stream->via.boolean;
        if (self->streams && (self->targets->type != MSGPACK_OBJECT_ARRAY || self->targets->via.array.size != 1))
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: a streamed %s needs 'targets' to be a list of one engine id", name);
    }
    return 0;
}

//  retries: how many times a task whose kernel failed runs again.
static int
s_parse_retries (mc_submit_t *self, const s_why_t *why)
{
    const msgpack_object *retries = mc_proto_map_get (&self->spec, "retries");
    if (!retries || retries->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (retries->type != MSGPACK_OBJECT_POSITIVE_INTEGER || retries->via.u64 > MC_SUBMIT_RETRIES_MAX)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'retries' must be an integer from 0 to %d", MC_SUBMIT_RETRIES_MAX);
    //  A namespace operation's failure (a missing name) is not passing bad
    //  luck, and a streamed one has relayed its bytes already.
    if (self->nsop && retries->via.u64 > 0)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'retries' is for kernels, not namespace operations");
    self->retries = (uint32_t) retries->via.u64;
    return 0;
}

//  priority: higher is served first (§5, "Fair share"); 0 when absent.
static int
s_parse_priority (mc_job_info_t *info, const msgpack_object *spec, const s_why_t *why)
{
    const msgpack_object *priority = mc_proto_map_get (spec, "priority");
    if (!priority || priority->type == MSGPACK_OBJECT_NIL)
        return 0;
    bool ok = priority->type == MSGPACK_OBJECT_POSITIVE_INTEGER? priority->via.u64 <= MC_SUBMIT_PRIORITY_MAX:
              priority->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && priority->via.i64 >= -MC_SUBMIT_PRIORITY_MAX;
    if (!ok)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'priority' must be an integer from %d to %d",
                -MC_SUBMIT_PRIORITY_MAX, MC_SUBMIT_PRIORITY_MAX);
    info->priority = (int32_t) (priority->type == MSGPACK_OBJECT_POSITIVE_INTEGER? (int64_t) priority->via.u64:
                                priority->via.i64);
    return 0;
}

//  reduce: "sum", or {"op": "hist2d", "bins": [nx, ny], "range": [x0, x1, y0, y1]
//  (, "coords": [i, j])}: engines bin each result, the controller sums the counts.
static int
s_parse_reduce (mc_submit_t *self, mc_job_info_t *info, const s_why_t *why)
{
    const msgpack_object *reduce = mc_proto_map_get (&self->spec, "reduce");
    if (!reduce || reduce->type == MSGPACK_OBJECT_NIL)
        return 0;
    const msgpack_object *op = reduce->type == MSGPACK_OBJECT_MAP? mc_proto_map_get (reduce, "op"): reduce;
    bool sum = s_is_str (op, "sum");
    bool hist = s_is_str (op, "hist2d");
    if (!sum && !hist)
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'reduce' must be \"sum\" or {\"op\": \"hist2d\", ...}");
    if (self->nsop || self->transient || self->out [0])
        REFUSE (why, MC_E_BAD_ARGUMENT, "submit: 'reduce' is for kernels whose results come back");
    if (hist) {
        const msgpack_object *bins = mc_proto_map_get (reduce, "bins");
        const msgpack_object *range = mc_proto_map_get (reduce, "range");
        bool ok = bins && bins->type == MSGPACK_OBJECT_ARRAY && bins->via.array.size == 2
               && range && range->type == MSGPACK_OBJECT_ARRAY && range->via.array.size == 4;
        for (uint32_t i = 0; ok && i < 2; i++)
            ok = bins->via.array.ptr [i].type == MSGPACK_OBJECT_POSITIVE_INTEGER
              && bins->via.array.ptr [i].via.u64 >= 1 && bins->via.array.ptr [i].via.u64 <= 4096;
        double r [4];
        for (uint32_t i = 0; ok && i < 4; i++)
            ok = mc_value_get_double (&range->via.array.ptr [i], &r [i]) == 0;
        if (!ok || !(r [0] < r [1]) || !(r [2] < r [3]))
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: hist2d needs bins [nx, ny] (1-4096) and range [x0, x1, y0, y1] "
                    "with x0 < x1 and y0 < y1");
        //  coords [i, j]: which two coordinates of N-D points (default [0, 1]).
        const msgpack_object *coords = mc_proto_map_get (reduce, "coords");
        ok = !coords || (coords->type == MSGPACK_OBJECT_ARRAY && coords->via.array.size == 2);
        for (uint32_t i = 0; coords && ok && i < 2; i++)
            ok = coords->via.array.ptr [i].type == MSGPACK_OBJECT_POSITIVE_INTEGER && coords->via.array.ptr [i].via.u64 < 64;
        if (!ok)
            REFUSE (why, MC_E_BAD_ARGUMENT, "submit: hist2d coords must be [i, j], two coordinates from 0 to 63");
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->engine_reduce, msgpack_sbuffer_write);
        if (msgpack_pack_object (&pk, *reduce))
            REFUSE (why, MC_E_INTERNAL, "submit: controller out of memory");
    }
    info->reduce = true;
    return 0;
}

int
mc_submit_parse (mc_submit_t *self, mc_job_info_t *info, const void *body, size_t size, uint64_t seed_if_absent,
                 int *code, char *err, size_t errlen)
{
    s_why_t why = { code, err, errlen };
    memset (self, 0, sizeof *self);
    msgpack_sbuffer_init (&self->args);
    msgpack_sbuffer_init (&self->kwargs);
    msgpack_sbuffer_init (&self->engine_reduce);
    self->body = malloc (size? size: 1);
    self->zone_ready = self->body && msgpack_zone_init (&self->zone, 2048);
    if (!self->zone_ready)
        REFUSE (&why, MC_E_INTERNAL, "submit: controller out of memory");
    memcpy (self->body, body, size);
    self->body_size = size;
    if (mc_proto_unpack (self->body, size, &self->zone, &self->spec) || self->spec.type != MSGPACK_OBJECT_MAP)
        REFUSE (&why, MC_E_MALFORMED, "submit: body is not a msgpack map");
    if (s_parse_kernel (self, info, &why, &self->is_map) || s_parse_arguments (self, &why)
    ||  s_parse_seq (self, info, &why, self->is_map) || s_parse_targets (self, info, &why, seed_if_absent)
    ||  s_parse_reduce (self, info, &why) || s_parse_retries (self, &why)
    ||  s_parse_priority (info, &self->spec, &why))
        return -1;
    info->single = (!self->is_map && !self->targets) || info->reduce;
    info->submitted_us = mc_time_wall_us ();
    *code = MC_OK;
    return 0;
}

void
mc_submit_reset (mc_submit_t *self)
{
    if (self->zone_ready)
        msgpack_zone_destroy (&self->zone);
    msgpack_sbuffer_destroy (&self->args);
    msgpack_sbuffer_destroy (&self->kwargs);
    msgpack_sbuffer_destroy (&self->engine_reduce);
    free (self->body);
    memset (self, 0, sizeof *self);
}

//  Bytes of a msgpack header for a length or count n, of a kind whose
//  smallest form holds up to `fix` (0 when it has none) and whose 8-bit
//  form exists when has8.
static uint64_t
s_header_size (uint64_t n, uint64_t fix, bool has8)
{
    return n <= fix && fix? 1: has8 && n <= UINT8_MAX? 2: n <= UINT16_MAX? 3: 5;
}

//  Bytes that msgpack packs an integer of this magnitude into, at most.
static uint64_t
s_int_size (uint64_t magnitude)
{
    return magnitude < 32? 1: magnitude < 128? 2: magnitude < 32768? 3: magnitude < (1ULL << 31)? 5: 9;
}

//  Bytes of a value once packed (as msgpack_pack_object packs it; an array
//  reference renumbered may differ by a byte or two).
static uint64_t
s_packed_size (const msgpack_object *obj)
{
    uint64_t size = 0;
    switch (obj->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return obj->via.u64 < 128? 1: obj->via.u64 <= UINT8_MAX? 2: obj->via.u64 <= UINT16_MAX? 3
                 : obj->via.u64 <= UINT32_MAX? 5: 9;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return s_int_size ((uint64_t) -(obj->via.i64 + 1) + 1);
        case MSGPACK_OBJECT_FLOAT32: return 5;
        case MSGPACK_OBJECT_FLOAT64: return 9;
        case MSGPACK_OBJECT_STR: return s_header_size (obj->via.str.size, 31, true) + obj->via.str.size;
        case MSGPACK_OBJECT_BIN: return s_header_size (obj->via.bin.size, 0, true) + obj->via.bin.size;
        case MSGPACK_OBJECT_EXT: {
            uint32_t n = obj->via.ext.size;
            bool fixed = n == 1 || n == 2 || n == 4 || n == 8 || n == 16;
            return (fixed? 2: s_header_size (n, 0, true) + 1) + n;
        }
        case MSGPACK_OBJECT_ARRAY:
            size = s_header_size (obj->via.array.size, 15, false);
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                size += s_packed_size (&obj->via.array.ptr [i]);
            return size;
        case MSGPACK_OBJECT_MAP:
            size = s_header_size (obj->via.map.size, 15, false);
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                size += s_packed_size (&obj->via.map.ptr [i].key) + s_packed_size (&obj->via.map.ptr [i].val);
            return size;
        default:
            return 1;                       //  nil, booleans
    }
}

//  Items of task i of a job of `total` items split into `ntasks`, load-
//  balanced by `chunksize` when ntargets is 0, else in blocks: *first, *count.
static void
s_task_items (uint64_t total, uint64_t chunksize, uint64_t ntargets, uint64_t i, uint64_t *first, uint64_t *count)
{
    if (ntargets)
        mc_dist_block (total, ntargets, i, first, count);
    else {
        *first = i * chunksize;
        *count = total - *first < chunksize? total - *first: chunksize;
    }
}

int
mc_submit_check_limits (const mc_submit_t *self, const mc_job_info_t *info, uint64_t ntargets,
                        uint64_t frame_bytes, const mc_config_t *config, uint64_t *ntasks,
                        int *code, char *err, size_t errlen)
{
    s_why_t why = { code, err, errlen };
    *code = MC_OK;
    uint64_t job_bytes = self->body_size + frame_bytes;
    if (job_bytes < frame_bytes || job_bytes > (uint64_t) config->max_job_bytes)
        REFUSE (&why, MC_E_BAD_ARGUMENT, "submit: the request is %llu bytes (body and arrays), past "
                "max_job_bytes=%lld", (unsigned long long) job_bytes, (long long) config->max_job_bytes);
    //  Tasks and their items, divided so that nothing can overflow.
    uint64_t total = info->total, most = 1;
    if (!self->is_map)
        *ntasks = ntargets? ntargets: 1;
    else
    if (ntargets) {
        *ntasks = ntargets;
        most = total / ntargets + (total % ntargets != 0);
    }
    else {
        *ntasks = total / self->chunksize + (total % self->chunksize != 0);
        most = total < self->chunksize? total: self->chunksize;
    }
    //  A task counts its items in 32 bits, whatever the limit says.
    uint64_t max_items = (uint64_t) config->max_items_per_task < UINT32_MAX? (uint64_t) config->max_items_per_task
                                                                          : UINT32_MAX;
    if (most > max_items)
        REFUSE (&why, MC_E_BAD_ARGUMENT, "submit: a task would hold %llu items, past max_items_per_task=%llu "
                "(use a smaller chunksize%s)", (unsigned long long) most, (unsigned long long) max_items,
                ntargets? " or more engines": "");
    //  The largest task: what every task carries, and its items.
    uint64_t fixed = 64 + strlen (info->kernel) + strlen (self->out) + self->args.size + self->kwargs.size
                   + self->engine_reduce.size + frame_bytes;
    uint64_t items = 0;
    if (self->is_map && self->is_range && total) {
        //  A range is monotonic: its largest magnitudes are at its ends.
        uint64_t last = (uint64_t) self->range_start + (total - 1) * (uint64_t) self->range_step;
        uint64_t a = self->range_start < 0? (uint64_t) -(self->range_start + 1) + 1: (uint64_t) self->range_start;
        uint64_t b = (int64_t) last < 0? (uint64_t) -((int64_t) last + 1) + 1: last;
        items = 5 + most * s_int_size (a > b? a: b);
    }
    else
    if (self->is_map)
        for (uint64_t i = 0; i < *ntasks; i++) {
            uint64_t first, count, bytes = 5;
            s_task_items (total, self->chunksize, ntargets, i, &first, &count);
            for (uint64_t k = first; k < first + count; k++)
                bytes += s_packed_size (&self->seq_items [k]);
            items = bytes > items? bytes: items;
        }
    if (items > (uint64_t) config->max_task_bytes || fixed + items > (uint64_t) config->max_task_bytes)
        REFUSE (&why, MC_E_BAD_ARGUMENT, "submit: a task would be about %llu bytes, past max_task_bytes=%lld "
                "(use a smaller chunksize, or smaller arguments)", (unsigned long long) (fixed + items),
                (long long) config->max_task_bytes);
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test

//  Parse the JSON text of a submit body; returns as mc_submit_parse.
static int
s_parse_json (const char *json, mc_job_info_t *info, int *code, char *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, json) == 0);
    memset (info, 0, sizeof *info);
    mc_submit_t submit;
    int rc = mc_submit_parse (&submit, info, sb.data, sb.size, 7, code, err, 256);
    mc_submit_reset (&submit);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

//  Bodies that are refused, each with its code and the field it names.
static void
s_test_refused (void)
{
    int code;
    char err [256];
    mc_job_info_t info;
    //  Bodies with an op: its name (from mc_ops) fills their kernel's %s.
    struct { const char *json; int code; const char *says; mc_nsop_code_t op; } bad [] = {
        { "{\"kernel\":\"noop\"}", MC_E_BAD_ARGUMENT, "kind", MC_NSOP_NONE },
        { "{\"kind\":\"map\",\"kernel\":\"noop\"}", MC_E_BAD_ARGUMENT, "seq", MC_NSOP_NONE },
        { "{\"kind\":\"map\",\"kernel\":\"no op\",\"seq\":[]}", MC_E_BAD_ARGUMENT, "kernel", MC_NSOP_NONE },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,5,0]}}", MC_E_BAD_ARGUMENT, "step", MC_NSOP_NONE },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1],\"chunksize\":0}", MC_E_BAD_ARGUMENT, "chunksize", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"args\":5}", MC_E_BAD_ARGUMENT, "args", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[-1]}", MC_E_BAD_ARGUMENT, "targets", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":\"some\"}", MC_E_BAD_ARGUMENT, "targets", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"seed\":-3}", MC_E_BAD_ARGUMENT, "seed", MC_NSOP_NONE },
        { "[1,2]", MC_E_MALFORMED, "map", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[0,1],\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":true}}", MC_E_BAD_ARGUMENT, "list of one engine", MC_NSOP_PULL },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":\"all\",\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":true}}", MC_E_BAD_ARGUMENT, "list of one engine", MC_NSOP_PULL },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[0],\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":1}}", MC_E_BAD_ARGUMENT, "true or false", MC_NSOP_PULL },
        //  Namespace operations: only those of the table, transient, with targets.
        { "{\"kind\":\"apply\",\"kernel\":\"%sx\",\"transient\":true,\"targets\":[0]}", MC_E_BAD_ARGUMENT,
          "kernel", MC_NSOP_PULL },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"targets\":[0]}", MC_E_BAD_ARGUMENT, "transient", MC_NSOP_NAMES },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true}", MC_E_BAD_ARGUMENT, "need targets",
          MC_NSOP_NAMES },
        //  retries: a small count, for kernels.
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"retries\":-1}", MC_E_BAD_ARGUMENT, "'retries'", MC_NSOP_NONE },
        //  priority: a bounded integer.
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"priority\":1001}", MC_E_BAD_ARGUMENT, "'priority'", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"priority\":-1001}", MC_E_BAD_ARGUMENT, "-1000 to 1000", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"priority\":1.5}", MC_E_BAD_ARGUMENT, "'priority'", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"retries\":101}", MC_E_BAD_ARGUMENT, "from 0 to 100", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"retries\":\"2\"}", MC_E_BAD_ARGUMENT, "'retries'", MC_NSOP_NONE },
        { "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[0],\"retries\":1}",
          MC_E_BAD_ARGUMENT, "not namespace operations", MC_NSOP_NAMES },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char json [256];
        if (bad [i].op)
            snprintf (json, sizeof json, bad [i].json, mc_nsop_name (bad [i].op));
        err [0] = 0;
        assert (s_parse_json (bad [i].op? json: bad [i].json, &info, &code, err) == -1);
        assert (code == bad [i].code);
        assert (strstr (err, bad [i].says));
    }
}

//  What an accepted body says, and ranges counted as Python counts them.
static void
s_test_accepted (void)
{
    int code;
    char err [256];
    mc_job_info_t info;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, "{\"kind\":\"map\",\"kernel\":\"square\",\"seq\":[1,[2],3],"
                                          "\"chunksize\":2,\"args\":[1],\"kwargs\":{\"a\":1},\"out\":\"y\"}") == 0);
    mc_submit_t submit;
    memset (&info, 0, sizeof info);
    assert (mc_submit_parse (&submit, &info, sb.data, sb.size, 7, &code, err, sizeof err) == 0 && code == MC_OK);
    assert (submit.is_map && !submit.is_range && submit.chunksize == 2 && !submit.targets && !submit.nsop);
    assert (!strcmp (submit.out, "y") && submit.args.size == 2 && submit.kwargs.size == 4 && !submit.transient);
    assert (!strcmp (info.kind, "map") && !strcmp (info.kernel, "square") && info.total == 3 && info.seed == 7);
    assert (!info.single && !info.reduce && info.submitted_us > 0 && submit.retries == 0);
    mc_submit_reset (&submit);
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, "{\"kind\":\"apply\",\"kernel\":\"fail\",\"retries\":100,\"priority\":-3}") == 0);
    assert (mc_submit_parse (&submit, &info, sb.data, sb.size, 7, &code, err, sizeof err) == 0 && submit.retries == 100);
    assert (info.priority == -3);
    mc_submit_reset (&submit);
    msgpack_sbuffer_destroy (&sb);
    //  A streamed pull, and a reduction whose spec goes to the engines.
    char pull [256];
    snprintf (pull, sizeof pull, "{\"kind\":\"apply\",\"kernel\":\"%s\",\"transient\":true,\"targets\":[3],"
              "\"args\":[\"x\"],\"kwargs\":{\"stream\":true},\"seed\":5}", mc_nsop_name (MC_NSOP_PULL));
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, pull) == 0);
    assert (mc_submit_parse (&submit, &info, sb.data, sb.size, 7, &code, err, sizeof err) == 0);
    assert (submit.streams && submit.transient && submit.nsop && submit.nsop->code == MC_NSOP_PULL && info.seed == 5);
    mc_submit_reset (&submit);
    msgpack_sbuffer_destroy (&sb);
    assert (s_parse_json ("{\"kind\":\"map\",\"kernel\":\"walker\",\"seq\":[1],\"reduce\":{\"op\":\"hist2d\","
                          "\"bins\":[4,4],\"range\":[0,1,0,1]}}", &info, &code, err) == 0 && info.reduce && info.single);
    assert (s_parse_json ("{\"kind\":\"map\",\"kernel\":\"walker\",\"seq\":[1],\"reduce\":{\"op\":\"hist2d\","
                          "\"bins\":[4,4],\"range\":[0,1,0,1],\"coords\":[3,0]}}", &info, &code, err) == 0 && info.reduce);
    assert (s_parse_json ("{\"kind\":\"map\",\"kernel\":\"walker\",\"seq\":[1],\"reduce\":{\"op\":\"hist2d\","
                          "\"bins\":[4,4],\"range\":[0,1,0,1],\"coords\":[64,0]}}", &info, &code, err) == -1
         && strstr (err, "coords"));
    struct { const char *range; uint64_t total; } ranges [] = {
        { "[0,100,1]", 100 }, { "[0,100,7]", 15 }, { "[10,0,-3]", 4 }, { "[5,5,1]", 0 }, { "[5,0,1]", 0 },
        { "[-9223372036854775808,9223372036854775807,4611686018427387904]", 4 },
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges [0]; i++) {
        char json [256];
        snprintf (json, sizeof json, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":%s}}", ranges [i].range);
        assert (s_parse_json (json, &info, &code, err) == 0 && info.total == ranges [i].total);
    }
}

//  Check a JSON body against limits: as mc_submit_check_limits, with the
//  number of tasks in *ntasks.
static int
s_limits_json (const char *json, uint64_t ntargets, uint64_t frame_bytes, const mc_config_t *config,
               uint64_t *ntasks, int *code, char *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, json) == 0);
    mc_job_info_t info;
    memset (&info, 0, sizeof info);
    mc_submit_t submit;
    assert (mc_submit_parse (&submit, &info, sb.data, sb.size, 7, code, err, 256) == 0);
    int rc = mc_submit_check_limits (&submit, &info, ntargets, frame_bytes, config, ntasks, code, err, 256);
    mc_submit_reset (&submit);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

//  The named limits: items and bytes per task, bytes per job, each refused
//  with its name and value; task counts that never overflow.
static void
s_test_limits (void)
{
    mc_config_t config;
    mc_config_defaults (&config);
    int code;
    char err [256];
    uint64_t ntasks;
    struct { const char *json; uint64_t ntargets, frame_bytes; const char *says; uint64_t ntasks; } cases [] = {
        //  issue 14: one task of 4.3e9 items, and one of 1e8.
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,4294967295,1]},\"chunksize\":4294967295}",
          0, 0, "max_items_per_task=10000000", 0 },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,100000000,1]},\"chunksize\":100000000}",
          0, 0, "max_items_per_task=10000000", 0 },
        //  At the limit passes; a block per target counts too.
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,10000000,1]},\"chunksize\":10000000}",
          0, 0, NULL, 1 },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,20000001,1]}}", 2, 0,
          "more engines", 0 },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,20000000,1]}}", 2, 0, NULL, 2 },
        //  2^64 - 1 items: counted without overflow.
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[-9223372036854775808,9223372036854775807,1]},"
          "\"chunksize\":4294967295}", 0, 0, "max_items_per_task", 0 },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[-9223372036854775808,9223372036854775807,1]},"
          "\"chunksize\":4000000}", 0, 0, NULL, 4611686018428ULL },
        //  Bytes: of the request, and of a task with its frames.
        { "{\"kind\":\"apply\",\"kernel\":\"noop\"}", 0, 3LL << 30, "max_job_bytes=2147483648", 0 },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"transient\":true}", 0, (1LL << 30) + (1LL << 20),
          "max_task_bytes=1074790400", 0 },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\"}", 3, 0, NULL, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        err [0] = 0;
        int rc = s_limits_json (cases [i].json, cases [i].ntargets, cases [i].frame_bytes, &config, &ntasks,
                                &code, err);
        if (cases [i].says)
            assert (rc == -1 && code == MC_E_BAD_ARGUMENT && strstr (err, cases [i].says));
        else
            assert (rc == 0 && code == MC_OK && ntasks == cases [i].ntasks);
    }
    //  Task bytes count the items of the largest task, as packed.
    config.max_task_bytes = 200;
    const char *seq = "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2,3,\"%s\"],\"chunksize\":2}";
    char json [512], text [200];
    memset (text, 'x', sizeof text - 1);
    text [sizeof text - 1] = 0;
    snprintf (json, sizeof json, seq, text);
    assert (s_limits_json (json, 0, 0, &config, &ntasks, &code, err) == -1 && strstr (err, "max_task_bytes=200"));
    snprintf (json, sizeof json, seq, "short");
    assert (s_limits_json (json, 0, 0, &config, &ntasks, &code, err) == 0 && ntasks == 2);
    //  A packed size is what msgpack packs.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert (mc_value_pack_json_text (&sb, "[1,-1,-33,200,-200,70000,-70000,5000000000,-5000000000,1.5,\"abc\","
                                          "{\"k\":[null,true]},[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]]") == 0);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    assert (mc_proto_unpack (sb.data, sb.size, &zone, &obj) == 0);
    assert (s_packed_size (&obj) >= sb.size && s_packed_size (&obj) <= sb.size + 8);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
}

void
mc_submit_test (bool verbose)
{
    if (verbose)
        printf (" * mc_submit: ");
    s_test_refused ();
    s_test_accepted ();
    s_test_limits ();
    if (verbose)
        printf ("OK\n");
}
