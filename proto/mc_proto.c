/*  mc_proto: MCP/3 codec. One table describes the fields of every message
    type; encode and decode both walk it, so the two cannot disagree. */
#include "mc_proto.h"
#include <limits.h>
#include <msgpack/unpack_define.h>          //  MSGPACK_EMBED_STACK_SIZE: the unpacker's nesting bound
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

typedef enum { F_UINT, F_INT, F_STR, F_BIN, F_STRS } s_kind_t;
typedef struct {
    s_kind_t kind;
    size_t offset;
} s_field_t;
typedef struct {
    int type;
    const char *name;
    int count;
    s_field_t fields [11];
} s_layout_t;

#define U(f) { F_UINT, offsetof (mc_msg_t, f) }
#define I(f) { F_INT,  offsetof (mc_msg_t, f) }
#define S(f) { F_STR,  offsetof (mc_msg_t, f) }
#define B(f) { F_BIN,  offsetof (mc_msg_t, f) }
#define L(f) { F_STRS, offsetof (mc_msg_t, f) }

static const s_layout_t s_layouts [] = {
    { MC_REGISTER, "REGISTER", 7, { S (uuid), I (engine_id), S (host), I (pid), L (kernels), B (kernel_info),
                                    S (launch) } },
    { MC_WELCOME,  "WELCOME",  3, { I (engine_id), U (heartbeat_ms), U (liveness) } },
    { MC_PING,     "PING",     1, { I (engine_id) } },
    { MC_PONG,     "PONG",     0, { { 0, 0 } } },
    { MC_TASK,     "TASK",    11, { U (job), U (task), U (first), U (count), U (seed), S (kernel),
                                    B (args), B (kwargs), B (items), S (out), B (reduce) } },
    { MC_RESULT,   "RESULT",   9, { I (engine_id), U (job), U (task), U (status), I (started_us),
                                    I (finished_us), B (data), S (text), B (meta) } },
    { MC_STOP,     "STOP",     0, { { 0, 0 } } },
    { MC_BYE,      "BYE",      1, { I (engine_id) } },
    { MC_ERROR,    "ERROR",    2, { U (status), S (text) } },
    { MC_RESULT_CHUNK, "RESULT_CHUNK", 6, { I (engine_id), U (job), U (task), U (frame), U (frame_size),
                                             U (offset) } },
    { MC_REQUEST,  "REQUEST",  3, { U (req), S (op), B (data) } },
    { MC_REPLY,    "REPLY",    4, { U (req), U (status), B (data), S (text) } },
    { MC_REPLY_CHUNK, "REPLY_CHUNK", 4, { U (req), U (frame), U (frame_size), U (offset) } },
    { MC_CANCEL,   "CANCEL",   2, { U (job), U (grace_ms) } },
    { MC_BATCH,    "BATCH",    1, { B (batch) } },
    { MC_LIBRARY,  "LIBRARY",  3, { S (name), S (hash), U (size) } },
    { MC_UNLOAD,   "UNLOAD",   1, { S (name) } },
    { MC_LOADED,   "LOADED",   8, { I (engine_id), S (name), S (hash), U (status), S (text), L (kernels),
                                    B (kernel_info), B (added) } },
};
#define LAYOUTS (sizeof s_layouts / sizeof s_layouts [0])

uint64_t
mc_proto_be (const uint8_t *p, size_t n)
{
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++)
        value = value << 8 | p [i];
    return value;
}

static const s_layout_t *
s_layout (uint64_t type)
{
    for (size_t i = 0; i < LAYOUTS; i++)
        if ((uint64_t) s_layouts [i].type == type)
            return &s_layouts [i];
    return NULL;
}

void
mc_msg_init (mc_msg_t *self)
{
    memset (self, 0, offsetof (mc_msg_t, kernels));
    self->kernel_count = 0;
    self->routing_id = NULL;
    self->zmsg = NULL;
    self->frames_owned = false;
}

void
mc_msg_reset (mc_msg_t *self)
{
    zframe_destroy (&self->routing_id);
    zmsg_destroy (&self->zmsg);
    if (self->frames_owned)
        free (self->frames);
    free (self->streamed);
    mc_msg_init (self);
}

//  Headers are written straight into their buffer, sized once: through
//  msgpack's packer each field was a call through its writer and a copy of
//  a few bytes, a cost the controller paid for every task. The forms are the
//  packer's own (the shortest for each value), so the bytes are the same.
static uint8_t *
s_put_be (uint8_t *p, uint8_t tag, uint64_t value, unsigned bytes)
{
    *p++ = tag;
    for (unsigned i = bytes; i-- > 0; value >>= 8)
        p [i] = (uint8_t) value;
    return p + bytes;
}

static uint8_t *
s_put_uint (uint8_t *p, uint64_t v)
{
    if (v < 128) {
        *p = (uint8_t) v;
        return p + 1;
    }
    return v < 0x100? s_put_be (p, 0xcc, v, 1): v < 0x10000? s_put_be (p, 0xcd, v, 2)
         : v < 0x100000000ull? s_put_be (p, 0xce, v, 4): s_put_be (p, 0xcf, v, 8);
}

static uint8_t *
s_put_int (uint8_t *p, int64_t v)
{
    if (v >= 0)
        return s_put_uint (p, (uint64_t) v);
    if (v >= -32) {
        *p = (uint8_t) v;
        return p + 1;
    }
    uint64_t u = (uint64_t) v;
    return v >= INT8_MIN? s_put_be (p, 0xd0, u, 1): v >= INT16_MIN? s_put_be (p, 0xd1, u, 2)
         : v >= INT32_MIN? s_put_be (p, 0xd2, u, 4): s_put_be (p, 0xd3, u, 8);
}

size_t
mc_proto_put_int (uint8_t *p, int64_t v)
{
    return (size_t) (s_put_int (p, v) - p);
}

//  A str (bin false) or bin with its bytes.
static uint8_t *
s_put_bytes (uint8_t *p, bool bin, mc_bytes_t bytes)
{
    size_t n = bytes.size;
    if (!bin && n < 32)
        *p++ = (uint8_t) (0xa0 | n);
    else
        p = n < 0x100? s_put_be (p, bin? 0xc4: 0xd9, n, 1): n < 0x10000? s_put_be (p, bin? 0xc5: 0xda, n, 2)
          : s_put_be (p, bin? 0xc6: 0xdb, n, 4);
    if (n)
        memcpy (p, bytes.ptr, n);
    return p + n;
}

static uint8_t *
s_put_array (uint8_t *p, size_t n)
{
    if (n < 16) {
        *p = (uint8_t) (0x90 | n);
        return p + 1;
    }
    return n < 0x10000? s_put_be (p, 0xdc, n, 2): s_put_be (p, 0xdd, n, 4);
}

//  Append a message's header to buffer: 0, or -1 when out of memory or a
//  byte string is longer than msgpack can say.
static int
s_pack (const mc_msg_t *self, msgpack_sbuffer *buffer)
{
    const s_layout_t *layout = s_layout ((uint64_t) self->type);
    assert (layout);                        //  we only ever encode our own types
    //  The most it can take: 9 bytes per integer, 5 plus its bytes per string.
    size_t most = 5 + 3 + 2 + 2;          //  array head (up to array32), signature, version, type
    for (int i = 0; i < layout->count; i++) {
        const void *field = (const char *) self + layout->fields [i].offset;
        switch (layout->fields [i].kind) {
            case F_UINT: case F_INT: most += 9; break;
            case F_STR: case F_BIN: {
                size_t n = ((const mc_bytes_t *) field)->size;
                if (n > UINT32_MAX)
                    return -1;
                most += 5 + n;
                break;
            }
            case F_STRS:
                most += 5;
                for (size_t k = 0; k < self->kernel_count; k++)
                    most += 5 + self->kernels [k].size;
                break;
        }
    }
    if (buffer->alloc - buffer->size < most) {
        size_t alloc = buffer->alloc? buffer->alloc: 256;
        while (alloc - buffer->size < most)
            alloc *= 2;
        char *grown = realloc (buffer->data, alloc);
        if (!grown)
            return -1;
        buffer->data = grown;
        buffer->alloc = alloc;
    }
    uint8_t *p = (uint8_t *) buffer->data + buffer->size;
    p = s_put_array (p, 3 + (size_t) layout->count);
    p = s_put_uint (p, MC_PROTO_SIGNATURE);
    p = s_put_uint (p, MC_PROTO_VERSION);
    p = s_put_uint (p, (uint64_t) self->type);
    for (int i = 0; i < layout->count; i++) {
        const void *field = (const char *) self + layout->fields [i].offset;
        switch (layout->fields [i].kind) {
            case F_UINT: p = s_put_uint (p, *(const uint64_t *) field); break;
            case F_INT:  p = s_put_int (p, *(const int64_t *) field); break;
            case F_STR:  p = s_put_bytes (p, false, *(const mc_bytes_t *) field); break;
            case F_BIN:  p = s_put_bytes (p, true, *(const mc_bytes_t *) field); break;
            case F_STRS:
                p = s_put_array (p, self->kernel_count);
                for (size_t k = 0; k < self->kernel_count; k++)
                    p = s_put_bytes (p, false, self->kernels [k]);
                break;
        }
    }
    buffer->size = (size_t) (p - (uint8_t *) buffer->data);
    return 0;
}

zframe_t *
mc_msg_encode (const mc_msg_t *self)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    //  A header that could not be packed whole (no memory) is no header.
    zframe_t *frame = s_pack (self, &buffer)? NULL: zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

//  --------------------------------------------------------------------------
//  BATCH: its field is a msgpack array32 of bin32, one whole header each.
//  The fixed widths let a builder append a header and patch its length and
//  the count after, without packing anything twice.

#define S_BATCH_HEAD 5                      //  0xdd and a 32-bit count

static void
s_put_be32 (char *p, uint32_t value)
{
    for (int i = 3; i >= 0; i--, value >>= 8)
        p [i] = (char) (value & 0xFF);
}

//  Append one entry to a batch: `header` bytes when given, else msg packed.
static int
s_batch_put (msgpack_sbuffer *batch, const mc_msg_t *msg, const void *header, size_t size)
{
    size_t was = batch->size;
    char head [S_BATCH_HEAD] = { (char) 0xdd, 0, 0, 0, 0 };
    char bin [5] = { (char) 0xc6, 0, 0, 0, 0 };
    if ((was == 0 && msgpack_sbuffer_write (batch, head, sizeof head))
    ||  msgpack_sbuffer_write (batch, bin, sizeof bin)
    ||  (header? msgpack_sbuffer_write (batch, header, size): s_pack (msg, batch))
    ||  batch->size - was - sizeof bin > UINT32_MAX) {
        batch->size = was;
        return -1;
    }
    size_t at = was? was: S_BATCH_HEAD;
    s_put_be32 (batch->data + at + 1, (uint32_t) (batch->size - at - sizeof bin));
    uint32_t count = (uint32_t) mc_proto_be ((const uint8_t *) batch->data + 1, 4) + 1;
    s_put_be32 (batch->data + 1, count);
    return 0;
}

int
mc_batch_append (msgpack_sbuffer *batch, const mc_msg_t *msg)
{
    return s_batch_put (batch, msg, NULL, 0);
}

int
mc_batch_append_header (msgpack_sbuffer *batch, const void *header, size_t size)
{
    return s_batch_put (batch, NULL, header, size);
}

int
mc_batch_send (const msgpack_sbuffer *batch, size_t count, void *sock, zframe_t *routing_id)
{
    if (count == 0)
        return 0;
    zframe_t *frame;
    if (count == 1)                         //  the one header, as it is
        frame = zframe_new (batch->data + S_BATCH_HEAD + 5, batch->size - S_BATCH_HEAD - 5);
    else {
        mc_msg_t msg;
        mc_msg_init (&msg);
        msg.type = MC_BATCH;
        msg.batch.ptr = batch->data;
        msg.batch.size = batch->size;
        frame = mc_msg_encode (&msg);
    }
    if (!frame)
        return -1;
    if (routing_id && zframe_send (&routing_id, sock, ZFRAME_MORE | ZFRAME_REUSE)) {
        zframe_destroy (&frame);
        return -1;
    }
    int rc = zframe_send (&frame, sock, 0);
    zframe_destroy (&frame);                //  (what a failed send left)
    return rc;
}

static int s_check_frames (mc_msg_t *self);

//  mc_batch_next, and mc_batch_next_checked when check is false.
static int
s_batch_next (const mc_msg_t *batch, size_t *offset, mc_msg_t *inner, int *code, bool check)
{
    const uint8_t *p = (const uint8_t *) batch->batch.ptr;
    size_t size = batch->batch.size, at = *offset;
    *code = MC_E_MALFORMED;
    if (at == 0) {                          //  skip the array's head (any width)
        if (size < 1)
            return -2;
        at = (p [0] & 0xF0) == 0x90? 1: p [0] == 0xdc? 3: p [0] == 0xdd? 5: 0;
        if (at == 0 || at > size)
            return -2;
    }
    if (at == size) {
        *offset = at;
        return 0;
    }
    size_t width = p [at] == 0xc4? 1: p [at] == 0xc5? 2: p [at] == 0xc6? 4: 0;
    if (width == 0 || size - at < 1 + width)
        return -2;
    size_t len = (size_t) mc_proto_be (p + at + 1, width);
    at += 1 + width;
    if (len > size - at)
        return -2;
    mc_msg_init (inner);
    if (mc_msg_decode (inner, p + at, len, code))
        return -2;
    if (inner->type == MC_BATCH || (check && s_check_frames (inner))) {
        *code = MC_E_MALFORMED;
        return -2;
    }
    *offset = at + len;
    return 1;
}

int
mc_batch_next (const mc_msg_t *batch, size_t *offset, mc_msg_t *inner, int *code)
{
    return s_batch_next (batch, offset, inner, code, true);
}

//  As mc_msg_take_checked: each header decoded again, its bin fields not
//  scanned again.
int
mc_batch_next_checked (const mc_msg_t *batch, size_t *offset, mc_msg_t *inner, int *code)
{
    return s_batch_next (batch, offset, inner, code, false);
}

static int s_decode (mc_msg_t *self, const void *data, size_t size, int *code);

//  A reader of the few msgpack forms a header holds (integers, str, bin,
//  an array of str), in place: decoding a header allocates nothing, and
//  reads its bytes once.
typedef struct {
    const uint8_t *p, *end;
} s_reader_t;

static bool
s_read_be (s_reader_t *r, size_t n, uint64_t *value)
{
    if ((size_t) (r->end - r->p) < n)
        return false;
    *value = mc_proto_be (r->p, n);
    r->p += n;
    return true;
}

//  An integer, in any width: 1 when it is not negative (*u), -1 when it is
//  (*i), 0 when what comes is no integer. (msgpack-c reads a signed form
//  holding a value >= 0 as a positive integer too.)
static int
s_read_int (s_reader_t *r, uint64_t *u, int64_t *i)
{
    if (r->p >= r->end)
        return 0;
    uint8_t b = *r->p++;
    uint64_t v;
    if (b <= 0x7f) {
        *u = b;
        return 1;
    }
    if (b >= 0xe0) {
        *i = (int8_t) b;
        return -1;
    }
    if (b >= 0xcc && b <= 0xcf) {
        if (!s_read_be (r, (size_t) 1 << (b - 0xcc), &v))
            return 0;
        *u = v;
        return 1;
    }
    if (b >= 0xd0 && b <= 0xd3) {
        unsigned bits = 8u << (b - 0xd0);
        if (!s_read_be (r, bits / 8, &v))
            return 0;
        int64_t value = bits == 64? (int64_t) v: (int64_t) (v ^ (1ull << (bits - 1))) - (int64_t) (1ull << (bits - 1));
        if (value >= 0) {
            *u = (uint64_t) value;
            return 1;
        }
        *i = value;
        return -1;
    }
    return 0;
}

//  A str (bin false) or bin of at most max bytes.
static bool
s_read_bytes (s_reader_t *r, bool bin, uint64_t max, mc_bytes_t *out)
{
    if (r->p >= r->end)
        return false;
    uint8_t b = *r->p++;
    uint64_t len;
    if (!bin && (b & 0xE0) == 0xA0)
        len = b & 0x1F;
    else {
        size_t n = bin? (b == 0xC4? 1: b == 0xC5? 2: b == 0xC6? 4: 0): (b == 0xD9? 1: b == 0xDA? 2: b == 0xDB? 4: 0);
        if (n == 0 || !s_read_be (r, n, &len))
            return false;
    }
    if (len > max || len > (uint64_t) (r->end - r->p))
        return false;
    out->ptr = (const char *) r->p;
    out->size = (size_t) len;
    r->p += len;
    return true;
}

static bool
s_read_array (s_reader_t *r, uint64_t *count)
{
    if (r->p >= r->end)
        return false;
    uint8_t b = *r->p++;
    if ((b & 0xF0) == 0x90) {
        *count = b & 0x0F;
        return true;
    }
    return (b == 0xDC && s_read_be (r, 2, count)) || (b == 0xDD && s_read_be (r, 4, count));
}

//  Read one field of the expected kind; -1 when what comes is of another.
static int
s_read_field (mc_msg_t *self, const s_field_t *spec, s_reader_t *r)
{
    void *field = (char *) self + spec->offset;
    uint64_t u;
    int64_t i;
    switch (spec->kind) {
        case F_UINT:
            if (s_read_int (r, &u, &i) != 1)
                return -1;
            *(uint64_t *) field = u;
            return 0;
        case F_INT:
            switch (s_read_int (r, &u, &i)) {
                case 1:
                    if (u > INT64_MAX)
                        return -1;
                    *(int64_t *) field = (int64_t) u;
                    return 0;
                case -1:
                    *(int64_t *) field = i;
                    return 0;
            }
            return -1;
        case F_STR:
            return s_read_bytes (r, false, MC_PROTO_MAX_STR, field)? 0: -1;
        case F_BIN:
            return s_read_bytes (r, true, UINT64_MAX, field)? 0: -1;
        case F_STRS:
            if (!s_read_array (r, &u) || u > MC_PROTO_MAX_KERNELS)
                return -1;
            for (uint64_t k = 0; k < u; k++)
                if (!s_read_bytes (r, false, MC_PROTO_MAX_STR, &self->kernels [k]))
                    return -1;
            self->kernel_count = (size_t) u;
            return 0;
    }
    return -1;
}

//  A REQUEST (or REPLY) whose header does not decode may still start with a
//  readable request id: signature, version, type and req come first, so
//  read them by hand, and note type and req in self when they are there.
//  This lets a controller answer a malformed request with the id its
//  client waits for.
static void
s_peek_req (mc_msg_t *self, const uint8_t *data, size_t size)
{
    s_reader_t r = { data, data + size };
    uint64_t sig, version, type, req;
    int64_t negative;
    if (size < 1 || (r.p [0] & 0xF0) != 0x90 || (r.p [0] & 0x0F) < 4)
        return;
    r.p++;
    if (s_read_int (&r, &sig, &negative) != 1 || sig != MC_PROTO_SIGNATURE || s_read_int (&r, &version, &negative) != 1
    ||  version != MC_PROTO_VERSION || s_read_int (&r, &type, &negative) != 1
    ||  (type != MC_REQUEST && type != MC_REPLY) || s_read_int (&r, &req, &negative) != 1)
        return;
    self->type = (int) type;
    self->req = req;
}

int
mc_msg_decode (mc_msg_t *self, const void *data, size_t size, int *code)
{
    int rc = s_decode (self, data, size, code);
    if (rc) {
        //  Only a request id that could be read says anything.
        self->type = 0;
        self->req = 0;
        s_peek_req (self, data, size);
    }
    return rc;
}

static int
s_decode (mc_msg_t *self, const void *data, size_t size, int *code)
{
    *code = MC_E_MALFORMED;
    //  A header is a short array (fixarray, at most 15 elements).
    s_reader_t r = { data, (const uint8_t *) data + size };
    if (size < 4 || (r.p [0] & 0xF0) != 0x90)
        return -2;
    uint64_t count = *r.p++ & 0x0F, signature, version, type;
    int64_t negative;
    if (count < 3 || s_read_int (&r, &signature, &negative) != 1 || signature != MC_PROTO_SIGNATURE
    ||  s_read_int (&r, &version, &negative) != 1 || s_read_int (&r, &type, &negative) != 1)
        return -2;
    if (version != MC_PROTO_VERSION) {
        //  Said only of a whole header (rare: the check may cost).
        msgpack_zone zone;
        msgpack_object root;
        if (msgpack_zone_init (&zone, 1024)) {
            if (mc_proto_unpack (data, size, &zone, &root) == 0)
                *code = MC_E_VERSION;
            msgpack_zone_destroy (&zone);
        }
        return -2;
    }
    const s_layout_t *layout = s_layout (type);
    if (!layout || count != (uint64_t) (3 + layout->count))
        return -2;
    self->type = layout->type;
    for (int i = 0; i < layout->count; i++)
        if (s_read_field (self, &layout->fields [i], &r))
            return -2;
    if (r.p != r.end)
        return -2;                  //  bytes after the header
    self->raw.ptr = data;
    self->raw.size = size;
    *code = MC_OK;
    return 0;
}

int
mc_msg_send (const mc_msg_t *self, void *sock, zframe_t *routing_id)
{
    zframe_t *frame = mc_msg_encode (self);
    if (!frame)
        return -1;
    if (routing_id && zframe_send (&routing_id, sock, ZFRAME_MORE | ZFRAME_REUSE)) {
        zframe_destroy (&frame);
        return -1;
    }
    if (zframe_send (&frame, sock, self->frame_count? ZFRAME_MORE: 0))
        return -1;
    for (size_t i = 0; i < self->frame_count; i++) {
        zframe_t *part = self->frames [i];
        if (zframe_send (&part, sock, ZFRAME_REUSE | (i + 1 < self->frame_count? ZFRAME_MORE: 0)))
            return -1;
    }
    return 0;
}

zframe_t *
mc_msg_swap_frame (mc_msg_t *self, size_t i, zframe_t **with_p)
{
    assert (self->zmsg && i < self->frame_count);
    zframe_t *old = self->frames [i];
    zmsg_remove (self->zmsg, old);
    self->frames [i] = *with_p;
    zmsg_append (self->zmsg, with_p);           //  the message owns it; frames[] says where it is
    return old;
}

//  A frame whose chunks are in flight: freed with the last of them, by
//  whichever thread ZeroMQ lets go of it in.
typedef struct {
    zframe_t *frame;
    atomic_size_t refs;
} s_holder_t;

static void
s_chunk_sent (void *data, void *hint)
{
    (void) data;
    s_holder_t *holder = hint;
    if (atomic_fetch_sub (&holder->refs, 1) == 1) {
        zframe_destroy (&holder->frame);
        free (holder);
    }
}

//  Send frame i of a RESULT as chunks that share its memory; the frame
//  moves out of the message, and an empty one takes its place.
static int
s_send_chunks (mc_msg_t *self, size_t i, void *sock, size_t chunk)
{
    s_holder_t *holder = malloc (sizeof *holder);
    zframe_t *empty = zframe_new (NULL, 0);
    if (!holder || !empty) {
        free (holder);
        zframe_destroy (&empty);
        return -1;
    }
    holder->frame = mc_msg_swap_frame (self, i, &empty);
    mc_msg_t piece;
    mc_msg_init (&piece);
    piece.type = MC_RESULT_CHUNK;
    piece.engine_id = self->engine_id;
    piece.job = self->job;
    piece.task = self->task;
    piece.frame = i;
    piece.frame_size = zframe_size (holder->frame);
    size_t pieces = (piece.frame_size + chunk - 1) / chunk;
    atomic_init (&holder->refs, pieces);
    int rc = 0;
    for (size_t k = 0; k < pieces; k++) {
        piece.offset = k * chunk;
        size_t n = piece.frame_size - piece.offset < chunk? piece.frame_size - piece.offset: chunk;
        zmq_msg_t part;
        zmq_msg_init_data (&part, (char *) zframe_data (holder->frame) + piece.offset, n, s_chunk_sent, holder);
        zframe_t *header = rc? NULL: mc_msg_encode (&piece);
        if (!header || zframe_send (&header, sock, ZFRAME_MORE) || zmq_msg_send (&part, sock, 0) < 0) {
            zframe_destroy (&header);
            zmq_msg_close (&part);          //  lets go of the holder
            rc = -1;
        }
    }
    return rc;
}

int
mc_msg_send_streamed (mc_msg_t *self, void *sock, size_t chunk)
{
    assert (self->type == MC_RESULT && self->zmsg && chunk > 0);
    for (size_t i = 0; i < self->frame_count; i++)
        if (zframe_size (self->frames [i]) > chunk && s_send_chunks (self, i, sock, chunk))
            return -1;
    return mc_msg_send (self, sock, NULL);
}

//  Which types may carry array frames, and in which bin fields.
static bool
s_may_have_frames (int type)
{
    return type == MC_TASK || type == MC_RESULT || type == MC_REQUEST || type == MC_REPLY;
}

typedef struct {
    zframe_t **frames;
    size_t count;
    uint8_t *used;                  //  one flag per frame
    uint64_t **streamed;            //  where to note streamed frames; NULL: none may be
    bool no_memory;                 //  a scan failed for want of memory, not for garbage
} s_refs_t;

static bool
s_is_chunk (int type)
{
    return type == MC_RESULT_CHUNK || type == MC_REPLY_CHUNK;
}

static bool s_scan (const void *data, size_t size, s_refs_t *refs, bool unpackable);

//  Check the array references of every bin field against the frames: 0,
//  -2 for garbage, -1 when out of memory.
static int
s_check_frames (mc_msg_t *self)
{
    if (s_is_chunk (self->type))            //  one frame of bytes that fit, for a frame that can be
        return self->frame_count == 1 && self->frame < MC_PROTO_MAX_FRAMES && self->offset < self->frame_size
            && zframe_size (self->frames [0]) >= 1
            && zframe_size (self->frames [0]) <= self->frame_size - self->offset? 0: -2;
    if (self->type == MC_LIBRARY)           //  one raw frame: the shared object's bytes
        return self->frame_count == 1 && self->size >= 1 && self->size <= MC_PROTO_MAX_LIBRARY
            && zframe_size (self->frames [0]) == ((self->size + 7) & ~(uint64_t) 7)? 0: -2;
    if (self->frame_count && !s_may_have_frames (self->type))
        return -2;
    const s_layout_t *layout = s_layout ((uint64_t) self->type);
    bool may_stream = self->type == MC_RESULT || self->type == MC_REPLY;
    s_refs_t refs = { self->frames, self->frame_count, NULL, may_stream? &self->streamed: NULL, false };
    if (self->frame_count && !(refs.used = calloc (self->frame_count, 1)))
        return -1;
    int rc = 0;
    for (int i = 0; i < layout->count && rc == 0; i++)
        if (layout->fields [i].kind == F_BIN) {
            const mc_bytes_t *bytes = (const mc_bytes_t *) ((const char *) self + layout->fields [i].offset);
            if (bytes->size && !s_scan (bytes->ptr, bytes->size, &refs, false))
                rc = refs.no_memory? -1: -2;
        }
    for (size_t i = 0; i < self->frame_count && rc == 0; i++)
        if (!refs.used [i])
            rc = -2;                //  a frame that nothing refers to
    free (refs.used);
    return rc;
}

int
mc_msg_recv (mc_msg_t *self, void *sock, bool router, int *code)
{
    mc_msg_reset (self);
    *code = MC_OK;
    zmsg_t *zmsg = zmsg_recv (sock);
    if (!zmsg)
        return -1;
    return mc_msg_take (self, &zmsg, router, code);
}

//  ZeroMQ receives small messages into a shared buffer, at any offset; array
//  data must be 8-byte aligned for kernels to read it as numbers. Copy the
//  few frames that are not (large ones are allocated alone, so aligned).
//  The header's fields are not touched: the header frame is kept. 0 or -1.
static int
s_align_frames (mc_msg_t *self)
{
    bool aligned = true;
    for (zframe_t *f = zmsg_first (self->zmsg)? zmsg_next (self->zmsg): NULL; f; f = zmsg_next (self->zmsg))
        aligned &= ((uintptr_t) zframe_data (f) & 7) == 0;
    if (aligned)
        return 0;
    zmsg_t *copy = zmsg_new ();
    if (!copy)
        return -1;
    zframe_t *frame = zmsg_pop (self->zmsg);           //  the header, as it is
    zmsg_append (copy, &frame);
    while ((frame = zmsg_pop (self->zmsg))) {
        if ((uintptr_t) zframe_data (frame) & 7) {
            zframe_t *moved = mc_proto_frame_new (zframe_data (frame), zframe_size (frame));
            zframe_destroy (&frame);
            if (!moved) {
                //  The header stays (the decoded fields point into it); the
                //  frames not moved yet go.
                zmsg_destroy (&self->zmsg);
                self->zmsg = copy;
                return -1;
            }
            frame = moved;
        }
        zmsg_append (copy, &frame);
    }
    zmsg_destroy (&self->zmsg);
    self->zmsg = copy;
    return 0;
}

//  mc_msg_take, and mc_msg_take_checked when check is false.
static int
s_take (mc_msg_t *self, zmsg_t **zmsg_p, bool router, int *code, bool check)
{
    mc_msg_reset (self);
    zmsg_t *zmsg = *zmsg_p;
    *zmsg_p = NULL;
    if (router)
        self->routing_id = zmsg_pop (zmsg);
    self->zmsg = zmsg;
    *code = MC_E_MALFORMED;
    size_t parts = zmsg_size (zmsg);
    if (parts < 1)
        return -2;
    zframe_t *header = zmsg_first (zmsg);
    if (parts - 1 > MC_PROTO_MAX_FRAMES) {
        s_peek_req (self, zframe_data (header), zframe_size (header));
        return -2;
    }
    if (mc_msg_decode (self, zframe_data (header), zframe_size (header), code))
        return -2;
    //  Out of memory, the message is lost: its sender hears of an internal error.
    if (parts > 1) {
        self->frames = malloc ((parts - 1) * sizeof *self->frames);
        if (!self->frames || s_align_frames (self)) {
            free (self->frames);
            self->frames = NULL;
            *code = MC_E_INTERNAL;
            return -2;
        }
        self->frames_owned = true;
        zmsg_first (self->zmsg);                //  the header; frames follow
        for (zframe_t *frame = zmsg_next (self->zmsg); frame; frame = zmsg_next (self->zmsg))
            self->frames [self->frame_count++] = frame;
    }
    int rc = check? s_check_frames (self): 0;
    if (rc) {
        *code = rc == -1? MC_E_INTERNAL: MC_E_MALFORMED;
        return -2;
    }
    return 0;
}

int
mc_msg_take (mc_msg_t *self, zmsg_t **zmsg_p, bool router, int *code)
{
    return s_take (self, zmsg_p, router, code, true);
}

//  The header is decoded again (in place, without allocating: cheap), and
//  a frame count past the limit is still refused, but the bin fields are
//  not scanned again: this process scanned these very bytes when they came.
int
mc_msg_take_checked (mc_msg_t *self, zmsg_t **zmsg_p, int *code)
{
    return s_take (self, zmsg_p, false, code, false);
}

const char *
mc_msg_type_name (int type)
{
    const s_layout_t *layout = s_layout ((uint64_t) type);
    return layout? layout->name: "?";
}

const char *
mc_proto_error_name (uint64_t code)
{
    static const char *names [] = {
        "OK", "MALFORMED", "VERSION", "NOT_REGISTERED", "UNKNOWN_OP", "BAD_ARGUMENT",
        "UNKNOWN_JOB", "UNKNOWN_ENGINE", "UNKNOWN_KERNEL", "QUEUE_FULL", "KERNEL_ERROR",
        "ENGINE_LOST", "NO_ENGINES", "SHUTTING_DOWN", "INTERNAL", "DENIED", "ABORTED"
    };
    return code < sizeof names / sizeof names [0]? names [code]: "?";
}

char *
mc_bytes_str (mc_bytes_t bytes, char *buf, size_t len)
{
    size_t n = bytes.size < len - 1? bytes.size: len - 1;
    if (n)
        memcpy (buf, bytes.ptr, n);
    buf [n] = 0;
    return buf;
}

bool
mc_bytes_eq (mc_bytes_t bytes, const char *text)
{
    size_t len = strlen (text);
    return bytes.size == len && (len == 0 || memcmp (bytes.ptr, text, len) == 0);
}

int
mc_proto_pack_str (msgpack_packer *pk, const char *text)
{
    return msgpack_pack_str_with_body (pk, text, strlen (text));
}

const msgpack_object *
mc_proto_map_get (const msgpack_object *obj, const char *key)
{
    if (!obj || obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len && memcmp (k->via.str.ptr, key, len) == 0)
            return &obj->via.map.ptr [i].val;
    }
    return NULL;
}

//  An ext value: its type and payload must be an MCP/3 array or name; an
//  array reference, when frames are known, must name an unused frame of
//  exactly its size.
static bool
s_ext_ok (int8_t type, const uint8_t *payload, size_t len, s_refs_t *refs)
{
    if (type == MC_EXT_NAME)
        return len >= 1 && len <= 255;
    mc_array_t array;
    if (mc_array_parse_ext (type, payload, len, &array))
        return false;
    if (type == MC_EXT_ARRAY && refs) {
        if (array.frame >= refs->count || refs->used [array.frame])
            return false;
        size_t size = zframe_size (refs->frames [array.frame]);
        if (size == 0 && array.size > 0 && refs->streamed) {
            if (!*refs->streamed && !(*refs->streamed = calloc (refs->count, sizeof **refs->streamed))) {
                refs->no_memory = true;
                return false;
            }
            (*refs->streamed) [array.frame] = array.size;
        }
        else
        if (size != array.size)
            return false;
        refs->used [array.frame] = 1;
    }
    return true;
}

bool
mc_proto_sane (const void *data, size_t size)
{
    return s_scan (data, size, NULL, false);
}

//  Bytes of a number, nil or a bool, by its first byte (the value's whole
//  size is known from it); 0 for anything else.
static const uint8_t s_scalar_bytes [256] = {
    [0x00 ... 0x7F] = 1, [0xE0 ... 0xFF] = 1, [0xC0] = 1, [0xC2] = 1, [0xC3] = 1,
    [0xCC] = 2, [0xD0] = 2, [0xCD] = 3, [0xD1] = 3, [0xCA] = 5, [0xCE] = 5, [0xD2] = 5,
    [0xCB] = 9, [0xCF] = 9, [0xD3] = 9
};

//  With unpackable, also refuse what msgpack-c's unpacker would: a list or
//  map (even an empty one) that starts inside MSGPACK_EMBED_STACK_SIZE
//  lists and maps still open (its stack of containers being filled).
static bool
s_scan (const void *data, size_t size, s_refs_t *refs, bool unpackable)
{
    const uint8_t *p = data, *end = p + size;
    //  Objects still to read; each needs at least one byte.
    uint64_t pending = 1;
    //  Depth: containers still open, each with the objects it has left.
    uint64_t left [65];
    int depth = 0;
    left [0] = 1;
    while (pending) {
        if (p >= end)
            return false;
        uint8_t b = *p++;
        size_t len = s_scalar_bytes [b];
        if (len) {
            //  A number, nil or a bool, and those that follow it in the same
            //  container, at once: each would take the steps below with a
            //  payload of fixed size, no children and no ext (a map's items
            //  and its results are mostly such).
            if (len - 1 > (size_t) (end - p))
                return false;
            p += len - 1;
            uint64_t n = 1;
            while (n < left [depth] && p < end && (len = s_scalar_bytes [*p]) && len <= (size_t) (end - p))
                p += len, n++;
            pending -= n;
            left [depth] -= n;
            while (depth > 0 && left [depth] == 0)
                depth--;
            continue;
        }
        uint64_t payload = 0, children = 0;
        size_t avail = (size_t) (end - p);
        #define BE(n) (avail < (n)? (uint64_t) -1: mc_proto_be (p, (n)))
        if ((b & 0xE0) == 0xA0) payload = b & 0x1F;
        else if ((b & 0xF0) == 0x90) children = b & 0x0F;
        else if ((b & 0xF0) == 0x80) children = 2 * (uint64_t) (b & 0x0F);
        else switch (b) {
            case 0xC4: case 0xD9: payload = BE (1); if (payload != (uint64_t) -1) payload += 1; break;
            case 0xC5: case 0xDA: payload = BE (2); if (payload != (uint64_t) -1) payload += 2; break;
            case 0xC6: case 0xDB: payload = BE (4); if (payload != (uint64_t) -1) payload += 4; break;
            case 0xC7: payload = BE (1); if (payload != (uint64_t) -1) payload += 2; break;
            case 0xC8: payload = BE (2); if (payload != (uint64_t) -1) payload += 3; break;
            case 0xC9: payload = BE (4); if (payload != (uint64_t) -1) payload += 5; break;
            case 0xCA: case 0xCE: case 0xD2: payload = 4; break;
            case 0xCB: case 0xCF: case 0xD3: payload = 8; break;
            case 0xCC: case 0xD0: payload = 1; break;
            case 0xCD: case 0xD1: payload = 2; break;
            case 0xD4: payload = 2; break;
            case 0xD5: payload = 3; break;
            case 0xD6: payload = 5; break;
            case 0xD7: payload = 9; break;
            case 0xD8: payload = 17; break;
            case 0xDC: children = BE (2); payload = 2; break;
            case 0xDD: children = BE (4); payload = 4; break;
            case 0xDE: children = BE (2); if (children != (uint64_t) -1) children *= 2; payload = 2; break;
            case 0xDF: children = BE (4); if (children != (uint64_t) -1) children *= 2; payload = 4; break;
            default: return false;          //  0xC1 is never used
        }
        #undef BE
        if (payload == (uint64_t) -1 || children == (uint64_t) -1 || payload > avail)
            return false;
        if (unpackable && depth >= MSGPACK_EMBED_STACK_SIZE
        &&  ((b & 0xE0) == 0x80 || (b >= 0xDC && b <= 0xDF)))
            return false;
        if (b >= 0xD4 && b <= 0xD8) {           //  fixext: type, then 1..16 bytes
            if (!s_ext_ok ((int8_t) p [0], p + 1, payload - 1, refs))
                return false;
        }
        else
        if (b >= 0xC7 && b <= 0xC9) {           //  ext 8/16/32: length, type, data
            size_t n = b == 0xC7? 1: b == 0xC8? 2: 4;
            if (!s_ext_ok ((int8_t) p [n], p + n + 1, payload - n - 1, refs))
                return false;
        }
        p += payload;
        pending--;
        left [depth]--;
        if (children) {
            if (depth == 64 || children > (uint64_t) (end - p))
                return false;
            left [++depth] = children;
            pending += children;
            if (pending > (uint64_t) (end - p))
                return false;
        }
        while (depth > 0 && left [depth] == 0)
            depth--;
    }
    return p == end;
}

int
mc_proto_unpack (const void *data, size_t size, msgpack_zone *zone, msgpack_object *obj)
{
    return mc_proto_sane (data, size)? mc_proto_unpack_checked (data, size, zone, obj): -1;
}

int
mc_proto_unpack_checked (const void *data, size_t size, msgpack_zone *zone, msgpack_object *obj)
{
    size_t offset = 0;
    if (msgpack_unpack (data, size, &offset, zone, obj) != MSGPACK_UNPACK_SUCCESS || offset != size)
        return -1;
    return 0;
}

int
mc_proto_array_header (const void *data, size_t size, uint32_t *count)
{
    const uint8_t *bytes = data;
    if (size >= 1 && (bytes [0] & 0xF0) == 0x90) {
        *count = bytes [0] & 0x0F;
        return 1;
    }
    if (size >= 3 && bytes [0] == 0xDC) {
        *count = (uint32_t) bytes [1] << 8 | bytes [2];
        return 3;
    }
    if (size >= 5 && bytes [0] == 0xDD) {
        *count = (uint32_t) bytes [1] << 24 | (uint32_t) bytes [2] << 16 | (uint32_t) bytes [3] << 8 | bytes [4];
        return 5;
    }
    return -1;
}

bool
mc_proto_valid_array (const void *data, size_t size, uint32_t count)
{
    uint32_t declared;
    //  Each element takes at least one byte: a header claiming more than
    //  the bytes left is rejected before the unpacker reserves memory.
    int header = mc_proto_array_header (data, size, &declared);
    if (header < 0 || declared != count)
        return false;
    //  The pre-scan and msgpack-c's unpacker refuse the same bytes but for
    //  nesting, which the scan bounds as the unpacker does when asked: so
    //  what passes would unpack, and nothing is unpacked to tell (the
    //  controller asks this of every result: the unpack was most of it).
    return s_scan (data, size, NULL, true);
}

int
mc_proto_repack (msgpack_packer *pk, const msgpack_object *obj, const mc_repack_t *how)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_ARRAY:
            if (msgpack_pack_array (pk, obj->via.array.size))
                return -1;
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (mc_proto_repack (pk, &obj->via.array.ptr [i], how))
                    return -1;
            return 0;
        case MSGPACK_OBJECT_MAP:
            if (msgpack_pack_map (pk, obj->via.map.size))
                return -1;
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (mc_proto_repack (pk, &obj->via.map.ptr [i].key, how)
                ||  mc_proto_repack (pk, &obj->via.map.ptr [i].val, how))
                    return -1;
            return 0;
        case MSGPACK_OBJECT_EXT: {
            if (obj->via.ext.type == MC_EXT_NAME && how->name_fn)
                return how->name_fn (how->name_arg, pk, obj->via.ext.ptr, obj->via.ext.size);
            if (obj->via.ext.type != MC_EXT_ARRAY)
                return msgpack_pack_object (pk, *obj);
            mc_array_t array;
            if (how->inline_arrays)
                return mc_proto_array_data (obj, how->in, how->in_count, &array)? mc_array_pack_inline (pk, &array): -1;
            //  A relay moves frames as they are; an empty one that stands
            //  for a streamed array stays empty.
            if (mc_array_from_object (obj, &array) || array.frame >= how->in_count
            ||  zlist_append (how->out, how->in [array.frame]))
                return -1;
            return mc_array_pack_ref (pk, &array, (uint32_t) zlist_size (how->out) - 1);
        }
        default:
            return msgpack_pack_object (pk, *obj);
    }
}

const void *
mc_proto_array_data (const msgpack_object *obj, zframe_t *const *frames, size_t count, mc_array_t *array)
{
    if (mc_array_from_object (obj, array))
        return NULL;
    if (obj->via.ext.type == MC_EXT_ARRAY) {
        if (array->frame >= count || zframe_size (frames [array->frame]) != array->size)
            return NULL;
        array->data = zframe_data (frames [array->frame]);
    }
    //  An empty array has no bytes; its data pointer is still not NULL.
    if (!array->data)
        array->data = "";
    return array->data;
}

zframe_t **
mc_proto_frame_array (zlist_t *list, size_t *count)
{
    zframe_t **frames = calloc (zlist_size (list) + 1, sizeof *frames);
    *count = 0;
    if (!frames)
        return NULL;
    for (zframe_t *f = zlist_first (list); f; f = zlist_next (list))
        frames [(*count)++] = f;
    return frames;
}

zframe_t *
mc_proto_frame_new (const void *data, size_t size)
{
    //  Probe with a little more than ZeroMQ will ask for; a large block is
    //  mapped and unmapped, so the address space is free again at once.
    void *probe = malloc (size + 4096);
    if (!probe)
        return NULL;
    free (probe);
    return zframe_new (data, size);
}

void
mc_proto_keep_frames_warm (void)
{
    mallopt (M_MMAP_THRESHOLD, 1 << 30);
    mallopt (M_TRIM_THRESHOLD, INT_MAX);
}

void
mc_proto_trim (void)
{
    malloc_trim (0);
}

//  --------------------------------------------------------------------------
//  Self test

static mc_bytes_t
s_bytes (const char *text)
{
    mc_bytes_t bytes = { text, strlen (text) };
    return bytes;
}

//  Encode, decode and compare every field of a message.
static void
s_round_trip (const mc_msg_t *msg)
{
    zframe_t *frame = mc_msg_encode (msg);
    assert (frame);
    mc_msg_t copy;
    mc_msg_init (&copy);
    int code;
    int rc = mc_msg_decode (&copy, zframe_data (frame), zframe_size (frame), &code);
    assert (rc == 0 && code == MC_OK);
    assert (copy.type == msg->type);
    const s_layout_t *layout = s_layout ((uint64_t) msg->type);
    for (int i = 0; i < layout->count; i++) {
        const char *a = (const char *) msg + layout->fields [i].offset;
        const char *b = (const char *) &copy + layout->fields [i].offset;
        switch (layout->fields [i].kind) {
            case F_UINT: assert (*(uint64_t *) a == *(uint64_t *) b); break;
            case F_INT:  assert (*(int64_t *) a == *(int64_t *) b); break;
            case F_STR:
            case F_BIN: {
                const mc_bytes_t *x = (const mc_bytes_t *) a, *y = (const mc_bytes_t *) b;
                assert (x->size == y->size);
                assert (x->size == 0 || memcmp (x->ptr, y->ptr, x->size) == 0);
                break;
            }
            case F_STRS:
                assert (copy.kernel_count == msg->kernel_count);
                for (size_t k = 0; k < msg->kernel_count; k++)
                    assert (copy.kernels [k].size == msg->kernels [k].size
                         && memcmp (copy.kernels [k].ptr, msg->kernels [k].ptr, msg->kernels [k].size) == 0);
                break;
        }
    }
    //  Every strict prefix of a valid header must be rejected.
    for (size_t cut = 0; cut < zframe_size (frame); cut++) {
        mc_msg_t partial;
        mc_msg_init (&partial);
        assert (mc_msg_decode (&partial, zframe_data (frame), cut, &code) == -2);
    }
    //  And so must a header with a byte appended.
    size_t size = zframe_size (frame);
    uint8_t *longer = malloc (size + 1);
    memcpy (longer, zframe_data (frame), size);
    longer [size] = 0xC0;
    assert (mc_msg_decode (&copy, longer, size + 1, &code) == -2);
    free (longer);
    zframe_destroy (&frame);
}

//  Send a message of one type with the given frames from peer; what
//  mc_msg_recv makes of it at server.
static int
s_send_recv (mc_msg_t *msg, zsock_t *peer, zsock_t *server, zframe_t **frames, size_t count, mc_msg_t *got)
{
    msg->frames = frames;
    msg->frame_count = count;
    assert (mc_msg_send (msg, peer, NULL) == 0);
    int code;
    return mc_msg_recv (got, server, true, &code);
}

//  Chunks carry one frame of bytes that fit; an empty frame may stand for
//  a streamed array in a RESULT or REPLY only; and mc_msg_send_streamed
//  sends large frames as chunks that put the bytes back together.
static void
s_test_streams (zsock_t *peer, zsock_t *server, const double *values, size_t size)
{
    zframe_t *data = zframe_new (values, size), *empty = zframe_new (NULL, 0);
    zframe_t *two [2] = { data, data };
    mc_msg_t chunk, got;
    mc_msg_init (&chunk);
    mc_msg_init (&got);
    chunk.type = MC_RESULT_CHUNK;
    chunk.frame_size = size + 8;
    chunk.offset = 8;
    assert (s_send_recv (&chunk, peer, server, &data, 1, &got) == 0 && got.frame_count == 1);
    assert (s_send_recv (&chunk, peer, server, NULL, 0, &got) == -2);       //  no bytes
    assert (s_send_recv (&chunk, peer, server, two, 2, &got) == -2);        //  two frames
    assert (s_send_recv (&chunk, peer, server, &empty, 1, &got) == -2);     //  an empty frame
    chunk.offset = 9;
    assert (s_send_recv (&chunk, peer, server, &data, 1, &got) == -2);      //  past the end
    chunk.type = MC_REPLY_CHUNK;
    chunk.offset = chunk.frame_size;
    assert (s_send_recv (&chunk, peer, server, &data, 1, &got) == -2);
    chunk.offset = 0;
    chunk.frame = MC_PROTO_MAX_FRAMES;                                      //  no message has that frame
    assert (s_send_recv (&chunk, peer, server, &data, 1, &got) == -2);
    chunk.frame = MC_PROTO_MAX_FRAMES - 1;
    assert (s_send_recv (&chunk, peer, server, &data, 1, &got) == 0);

    //  An empty frame for an array of `size` bytes: streamed in a RESULT
    //  or a REPLY, malformed in a TASK; its data is never handed out.
    mc_array_t array = { MC_DTYPE_F64, 1, { size / 8 }, NULL, size, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    mc_array_pack_ref (&pk, &array, 0);
    int types [] = { MC_RESULT, MC_REPLY, MC_TASK };
    for (int t = 0; t < 3; t++) {
        mc_msg_t msg;
        mc_msg_init (&msg);
        msg.type = types [t];
        msg.data.ptr = msg.args.ptr = sb.data;
        msg.data.size = msg.args.size = sb.size;
        int rc = s_send_recv (&msg, peer, server, &empty, 1, &got);
        assert (types [t] == MC_TASK? rc == -2: rc == 0 && got.streamed && got.streamed [0] == size);
        if (rc == 0) {
            msgpack_zone zone;
            msgpack_zone_init (&zone, 256);
            msgpack_object obj;
            mc_array_t out;
            assert (mc_proto_unpack (got.data.ptr, got.data.size, &zone, &obj) == 0);
            assert (!mc_proto_array_data (&obj.via.array.ptr [0], got.frames, got.frame_count, &out));
            msgpack_zone_destroy (&zone);
        }
    }

    //  A RESULT with a large and a small frame, over a pair: the large one
    //  goes ahead in chunks of 16 bytes, the small one with the RESULT.
    zsock_t *a = zsock_new_pair ("@inproc://mc_proto_stream"), *b = zsock_new_pair (">inproc://mc_proto_stream");
    mc_array_t small = { MC_DTYPE_F64, 1, { 2 }, NULL, 16, 0 };
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_array (&pk, 2);
    mc_array_pack_ref (&pk, &array, 0);
    mc_array_pack_ref (&pk, &small, 1);
    zframe_t *frames [2] = { data, zframe_new (values, 16) };
    mc_msg_t result;
    mc_msg_init (&result);
    result.type = MC_RESULT;
    result.engine_id = 2;
    result.job = 5;
    result.task = 1;
    result.data.ptr = sb.data;
    result.data.size = sb.size;
    result.frames = frames;
    result.frame_count = 2;
    int code;
    assert (mc_msg_send (&result, a, NULL) == 0 && mc_msg_recv (&got, b, false, &code) == 0);
    assert (mc_msg_send_streamed (&got, zsock_resolve (b), 16) == 0);
    char joined [size];
    for (size_t at = 0; at < size; ) {
        assert (mc_msg_recv (&got, a, false, &code) == 0 && got.type == MC_RESULT_CHUNK);
        assert (got.engine_id == 2 && got.job == 5 && got.task == 1 && got.frame == 0 && got.frame_size == size && got.offset == at);
        size_t n = zframe_size (got.frames [0]);
        assert (n == (size - at < 16? size - at: 16));
        memcpy (joined + at, zframe_data (got.frames [0]), n);
        at += n;
    }
    assert (memcmp (joined, values, size) == 0);
    assert (mc_msg_recv (&got, a, false, &code) == 0 && got.type == MC_RESULT && got.frame_count == 2);
    assert (got.streamed && got.streamed [0] == size && got.streamed [1] == 0);
    assert (zframe_size (got.frames [0]) == 0 && memcmp (zframe_data (got.frames [1]), values, 16) == 0);
    mc_msg_reset (&got);
    zframe_destroy (&frames [1]);
    zsock_destroy (&a);
    zsock_destroy (&b);
    msgpack_sbuffer_destroy (&sb);
    zframe_destroy (&data);
    zframe_destroy (&empty);
}

//  Round trip of every message type, with extreme field values.
//  The writer gives msgpack's own bytes, at every width's edges.
static void
s_test_same_bytes (void)
{
    const int64_t ints [] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX,
                              -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t) INT32_MIN - 1, INT64_MIN };
    const size_t sizes [] = { 0, 1, 31, 32, 255, 256, 65535, 65536 };
    static char text [65536];
    memset (text, 'x', sizeof text);
    for (size_t i = 0; i < sizeof ints / sizeof ints [0]; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes [0]; k++) {
            mc_msg_t msg;
            mc_msg_init (&msg);
            msg.type = MC_RESULT;
            msg.engine_id = ints [i];
            msg.job = (uint64_t) ints [i];
            msg.started_us = ints [i];
            msg.text.ptr = text;
            msg.text.size = sizes [k];
            msg.data.ptr = text;
            msg.data.size = sizes [k];
            msgpack_sbuffer ours, theirs;
            msgpack_sbuffer_init (&ours);
            msgpack_sbuffer_init (&theirs);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &theirs, msgpack_sbuffer_write);
            msgpack_pack_array (&pk, 12);
            msgpack_pack_uint16 (&pk, MC_PROTO_SIGNATURE);
            msgpack_pack_uint8 (&pk, MC_PROTO_VERSION);
            msgpack_pack_uint8 (&pk, MC_RESULT);
            msgpack_pack_int64 (&pk, ints [i]);
            msgpack_pack_uint64 (&pk, (uint64_t) ints [i]);
            msgpack_pack_uint64 (&pk, 0);
            msgpack_pack_uint64 (&pk, 0);
            msgpack_pack_int64 (&pk, ints [i]);
            msgpack_pack_int64 (&pk, 0);
            msgpack_pack_bin_with_body (&pk, text, sizes [k]);
            msgpack_pack_str_with_body (&pk, text, sizes [k]);
            msgpack_pack_bin (&pk, 0);
            assert (s_pack (&msg, &ours) == 0);
            assert (ours.size == theirs.size && memcmp (ours.data, theirs.data, ours.size) == 0);
            msgpack_sbuffer_destroy (&ours);
            msgpack_sbuffer_destroy (&theirs);
        }
}

static void
s_test_round_trips (mc_bytes_t bin)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REGISTER;
    msg.uuid = s_bytes ("0123456789abcdef0123456789abcdef");
    msg.engine_id = -1;
    msg.host = s_bytes ("node-1");
    msg.pid = 4242;
    msg.kernel_count = 3;
    msg.kernels [0] = s_bytes ("noop");
    msg.kernels [1] = s_bytes ("square");
    msg.kernels [2] = s_bytes ("");
    s_round_trip (&msg);

    int types [] = { MC_WELCOME, MC_PING, MC_PONG, MC_TASK, MC_RESULT, MC_STOP, MC_BYE,
                     MC_ERROR, MC_RESULT_CHUNK, MC_REQUEST, MC_REPLY, MC_REPLY_CHUNK, MC_CANCEL, MC_BATCH, MC_UNLOAD, MC_LOADED };
    for (size_t t = 0; t < sizeof types / sizeof types [0]; t++) {
        mc_msg_init (&msg);
        msg.type = types [t];
        msg.engine_id = INT64_MIN;
        msg.heartbeat_ms = 1000;
        msg.liveness = 3;
        msg.grace_ms = 5000;
        msg.job = UINT64_MAX;
        msg.task = 7;
        msg.first = 1u << 31;
        msg.count = 10;
        msg.seed = 0xDEADBEEFCAFEF00Dull;
        msg.kernel = s_bytes ("square");
        msg.args = bin;
        msg.kwargs = bin;
        msg.items = bin;
        msg.batch = bin;
        msg.status = MC_E_KERNEL_ERROR;
        msg.started_us = INT64_MAX;
        msg.finished_us = -5;
        msg.data = bin;
        msg.text = s_bytes ("boom");
        msg.req = 99;
        msg.op = s_bytes ("submit");
        msg.frame = 2;
        msg.frame_size = 1ull << 40;
        msg.offset = UINT64_MAX;
        s_round_trip (&msg);
    }

}

//  Garbage: wrong signature, version, type, field types and counts; the
//  pre-scan; malformed ext payloads.
static void
s_test_garbage (void)
{
    mc_msg_t msg;
    int code;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct { uint64_t sig, version, type; int extra; } cases [] = {
        { 0x1234, 1, MC_PING, 0 },          //  bad signature
        { MC_PROTO_SIGNATURE, 1, MC_PING, 0 },  //  bad version (MCP/1)
        { MC_PROTO_SIGNATURE, MC_PROTO_VERSION, 77, 0 },   //  unknown type
        { MC_PROTO_SIGNATURE, MC_PROTO_VERSION, MC_PING, 1 },  //  one field too many
        { MC_PROTO_SIGNATURE, MC_PROTO_VERSION, MC_PING, -1 }, //  field of wrong type
        { MC_PROTO_SIGNATURE, MC_PROTO_VERSION, MC_TASK, -1 }, //  too few fields
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases [0]; c++) {
        msgpack_sbuffer_init (&sb);
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array (&pk, 4 + (cases [c].extra > 0));
        msgpack_pack_uint64 (&pk, cases [c].sig);
        msgpack_pack_uint64 (&pk, cases [c].version);
        msgpack_pack_uint64 (&pk, cases [c].type);
        if (cases [c].extra < 0)
            msgpack_pack_str_with_body (&pk, "x", 1);
        else
            msgpack_pack_int64 (&pk, 3);
        if (cases [c].extra > 0)
            msgpack_pack_int64 (&pk, 4);
        mc_msg_init (&msg);
        assert (mc_msg_decode (&msg, sb.data, sb.size, &code) == -2);
        assert (code == (cases [c].sig == MC_PROTO_SIGNATURE && cases [c].version != MC_PROTO_VERSION? MC_E_VERSION: MC_E_MALFORMED));
        msgpack_sbuffer_destroy (&sb);
    }
    //  Oversized string field and a forged huge array header.
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 5);
    msgpack_pack_uint16 (&pk, MC_PROTO_SIGNATURE);
    msgpack_pack_uint8 (&pk, MC_PROTO_VERSION);
    msgpack_pack_uint8 (&pk, MC_ERROR);
    msgpack_pack_uint8 (&pk, 1);
    char *big = calloc (1, MC_PROTO_MAX_STR + 1);
    msgpack_pack_str_with_body (&pk, big, MC_PROTO_MAX_STR + 1);
    free (big);
    assert (mc_msg_decode (&msg, sb.data, sb.size, &code) == -2);
    msgpack_sbuffer_destroy (&sb);
    const uint8_t forged [] = { 0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    assert (mc_msg_decode (&msg, forged, sizeof forged, &code) == -2);
    const uint8_t nested [] = { 0x94, 0xCD, 0x4D, 0x43, MC_PROTO_VERSION, 0x03, 0xDD, 0xFF, 0xFF, 0xFF, 0xFF };
    assert (mc_msg_decode (&msg, nested, sizeof nested, &code) == -2);

    //  A REQUEST that does not decode still tells its id when its header
    //  can be read that far: cut short, or with a body nested too deep.
    mc_msg_t request;
    mc_msg_init (&request);
    request.type = MC_REQUEST;
    request.req = 77777;
    request.op.ptr = "ping";
    request.op.size = 4;
    uint8_t nest [72];
    memset (nest, 0x91, sizeof nest);
    nest [sizeof nest - 1] = 0xC0;
    request.data.ptr = (const char *) nest;
    request.data.size = sizeof nest;
    zframe_t *header = mc_msg_encode (&request);
    assert (header);
    for (size_t cut = 1; cut <= zframe_size (header); cut++) {
        mc_msg_init (&msg);
        int rc = mc_msg_decode (&msg, zframe_data (header), zframe_size (header) - cut, &code);
        //  Signature (3 bytes), version, type and req (5) follow the array's byte.
        bool readable = zframe_size (header) - cut >= 1 + 3 + 1 + 1 + 5;
        assert (rc == -2 && code == MC_E_MALFORMED);
        assert (readable? msg.type == MC_REQUEST && msg.req == 77777: msg.type == 0 && msg.req == 0);
    }
    zmsg_t *zmsg = zmsg_new ();
    zmsg_append (zmsg, &header);
    mc_msg_init (&msg);
    assert (mc_msg_take (&msg, &zmsg, false, &code) == -2 && code == MC_E_MALFORMED);
    assert (msg.type == MC_REQUEST && msg.req == 77777);
    mc_msg_reset (&msg);
    //  Another version, or another type, says nothing of an id.
    const uint8_t other_version [] = { 0x94, 0xCD, 0x4D, 0x43, MC_PROTO_VERSION + 1, MC_REQUEST, 0x05 };
    assert (mc_msg_decode (&msg, other_version, sizeof other_version, &code) == -2 && code == MC_E_VERSION);
    assert (msg.type == 0 && msg.req == 0);
    const uint8_t other_type [] = { 0x94, 0xCD, 0x4D, 0x43, MC_PROTO_VERSION, MC_TASK, 0x05 };
    assert (mc_msg_decode (&msg, other_type, sizeof other_type, &code) == -2 && msg.type == 0 && msg.req == 0);

    //  The pre-scan: complete values pass, forged sizes and truncation fail.
    const uint8_t ok [] = { 0x93, 0x01, 0xA1, 'x', 0x81, 0xC0, 0xC4, 0x01, 0x00 };
    assert (mc_proto_sane (ok, sizeof ok));
    assert (!mc_proto_sane (ok, 6));                        //  map key without a value
    const uint8_t ok2 [] = { 0x93, 0x01, 0xA1, 'x', 0x81, 0xC0, 0xC3 };
    assert (mc_proto_sane (ok2, sizeof ok2));
    assert (!mc_proto_sane (ok2, sizeof ok2 - 1));
    const uint8_t huge_map [] = { 0xDF, 0x7F, 0xFF, 0xFF, 0xFF, 0x01, 0x01 };
    assert (!mc_proto_sane (huge_map, sizeof huge_map));
    const uint8_t huge_str [] = { 0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 'a' };
    assert (!mc_proto_sane (huge_str, sizeof huge_str));
    //  Runs of numbers, nil and bools, taken at once: cut, or followed by
    //  more than their list holds.
    struct { const char *bytes; size_t size; bool sane; } runs [] = {
        { "\x92\xCE\x00\x00\x00\x01\xC0", 7, true }, { "\x92\xCE\x00\x00", 4, false },
        { "\x92\xCE\x00\x00\x00\x01\xCB\x00", 8, false }, { "\xCE\x00\x00\x00\x01", 5, true },
        { "\xCE\x00\x00\x00", 4, false }, { "\x91\xCE\x00\x00\x00\x01\xC0", 7, false },
        { "\x92\x01\x02\x03", 4, false }, { "\x93\x01\xD3\x00\x00\x00\x00\x00\x00\x00\x00\xC3", 12, true },
        { "\x92\x91\x01\x02", 4, true }, { "\x92\x91\x01", 3, false }, { "\x82\x01\x02\x03\xCC\xFF", 6, true },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs [0]; i++)
        assert (mc_proto_sane (runs [i].bytes, runs [i].size) == runs [i].sane);
    uint8_t deep [100];
    memset (deep, 0x91, sizeof deep);
    deep [99] = 0xC0;
    assert (!mc_proto_sane (deep, sizeof deep));            //  nesting over 64
    assert (mc_proto_sane (deep + 40, 60));

    //  Malformed ext payloads fail the pre-scan.
    uint8_t ref [] = { 0xC7, 14, MC_EXT_ARRAY, MC_DTYPE_F64, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert (mc_proto_sane (ref, sizeof ref));
    ref [3] = 9;                                        //  no such dtype
    assert (!mc_proto_sane (ref, sizeof ref));
    ref [3] = MC_DTYPE_F64;
    ref [4] = 0;                                        //  no dimensions
    assert (!mc_proto_sane (ref, sizeof ref));
    const uint8_t bad_type [] = { 0xD4, 77, 0 };
    assert (!mc_proto_sane (bad_type, sizeof bad_type));
    const uint8_t name [] = { 0xD4, MC_EXT_NAME, 'a' };
    assert (mc_proto_sane (name, sizeof name));
}

//  What mc_proto_valid_array was: the header, then an unpack.
static bool
s_valid_array_by_unpack (const void *data, size_t size, uint32_t count)
{
    uint32_t declared;
    if (mc_proto_array_header (data, size, &declared) < 0 || declared != count)
        return false;
    msgpack_zone zone;
    assert (msgpack_zone_init (&zone, 512));
    msgpack_object obj;
    bool valid = mc_proto_unpack (data, size, &zone, &obj) == 0;
    msgpack_zone_destroy (&zone);
    return valid;
}

//  A random value into pk: lists and maps nested up to `depth`, their
//  values mostly of one byte (as results are), some longer.
static void
s_random_value (msgpack_packer *pk, uint64_t *state, int depth)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t r = *state >> 20;
    unsigned n = (unsigned) (r >> 8) % 4;
    switch (depth > 0? r % 8: 2 + r % 6) {
        case 0: case 1:
            msgpack_pack_array (pk, n);
            for (unsigned i = 0; i < n; i++)
                s_random_value (pk, state, depth - 1);
            break;
        case 2:
            msgpack_pack_map (pk, n % 2);
            if (n % 2) {
                msgpack_pack_nil (pk);
                s_random_value (pk, state, depth - 1);
            }
            break;
        case 3: msgpack_pack_nil (pk); break;
        case 4: msgpack_pack_int64 (pk, (int64_t) (r % 300) - 150); break;
        case 5: msgpack_pack_true (pk); break;
        case 6: msgpack_pack_str_with_body (pk, "abc", n); break;
        default: msgpack_pack_uint64 (pk, r); break;
    }
}

//  mc_proto_valid_array says what unpacking said, at the unpacker's
//  nesting bound above all (lists and maps, empty or not, at each depth),
//  and on random bytes.
static void
s_test_valid_array (void)
{
    uint8_t deep [80];
    const uint8_t inner [] = { 0x91, 0x90, 0x81, 0x80, 0xDC, 0xDD, 0xDE, 0xDF };
    for (size_t depth = 28; depth <= 36; depth++)
        for (size_t k = 0; k < sizeof inner; k++)
            for (int tail = 0; tail < 2; tail++) {
                //  depth lists of one, then the inner value (completed as
                //  needed), then maybe a sibling at the top.
                uint8_t *p = deep;
                *p++ = tail? 0x92: 0x91;
                for (size_t i = 1; i < depth; i++)
                    *p++ = 0x91;
                uint8_t b = inner [k];
                *p++ = b;
                if (b == 0x91 || b == 0x81)
                    *p++ = 0xC0;
                if (b == 0x81)
                    *p++ = 0xC0;
                if (b == 0xDC || b == 0xDE)
                    *p++ = 0, *p++ = 0;
                if (b == 0xDD || b == 0xDF)
                    *p++ = 0, *p++ = 0, *p++ = 0, *p++ = 0;
                if (tail)
                    *p++ = 0x90;
                size_t size = (size_t) (p - deep);
                uint32_t count = tail? 2: 1;
                bool valid = mc_proto_valid_array (deep, size, count);
                assert (valid == s_valid_array_by_unpack (deep, size, count));
                if (b == 0x90)                  //  an empty list in `depth` lists still open
                    assert (valid == (depth < MSGPACK_EMBED_STACK_SIZE));
            }
    uint64_t state = 7;
    uint8_t buffer [64];
    for (int round = 0; round < 200000; round++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = 1 + (state >> 33) % sizeof buffer;
        for (size_t i = 0; i < size; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            //  Mostly the bytes that open lists and maps, or small values.
            uint8_t r = (uint8_t) (state >> 40);
            buffer [i] = r < 96? (uint8_t) (0x90 | (r & 3)): r < 160? (uint8_t) (0x80 | (r & 1)): r < 176? 0xC0: r;
        }
        uint32_t count;
        if (mc_proto_array_header (buffer, size, &count) < 0)
            count = 1;
        bool valid = mc_proto_valid_array (buffer, size, count);
        assert (valid == s_valid_array_by_unpack (buffer, size, count));
        //  And against msgpack-c alone (the scan is in both of those): what
        //  it unpacks whole, with no ext value (which the scan checks
        //  further), is valid. (Not given a list or map of 16 or more,
        //  which may claim more than memory holds: the scan's own reason.)
        bool ext = false;
        for (size_t i = 0; i < size; i++)
            ext |= (buffer [i] >= 0xC7 && buffer [i] <= 0xC9) || (buffer [i] >= 0xD4 && buffer [i] <= 0xDF);
        msgpack_zone zone;
        assert (msgpack_zone_init (&zone, 512));
        msgpack_object obj;
        size_t off = 0;
        if (!ext && msgpack_unpack ((const char *) buffer, size, &off, &zone, &obj) == MSGPACK_UNPACK_SUCCESS
        &&  obj.type == MSGPACK_OBJECT_ARRAY && obj.via.array.size == count && mc_proto_array_header (buffer, size, &count) > 0)
            assert (valid);
        msgpack_zone_destroy (&zone);
    }
    //  Lists made valid, some inside 25 to 40 lists of one (across the
    //  unpacker's bound), some with a byte changed or cut.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    size_t whole = 0, refused = 0;
    for (int round = 0; round < 20000; round++) {
        msgpack_sbuffer_clear (&sb);
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t count = 1 + (uint32_t) (state >> 40) % 5;
        msgpack_pack_array (&pk, count);
        unsigned spine = round % 3 == 0? 25 + (unsigned) (state >> 30) % 16: 0;
        for (unsigned i = 0; i < spine; i++)
            msgpack_pack_array (&pk, 1);
        s_random_value (&pk, &state, 6);
        for (uint32_t i = 1; i < count; i++)
            s_random_value (&pk, &state, 6);
        size_t size = sb.size;
        if (round % 4 == 1)
            sb.data [(state >> 8) % size] = (char) (state >> 50);
        if (round % 4 == 2)
            size -= (state >> 8) % size;
        bool valid = mc_proto_valid_array (sb.data, size, count);
        assert (valid == s_valid_array_by_unpack (sb.data, size, count));
        bool ext = false;
        for (size_t i = 0; i < size; i++)                   //  as above
            ext |= ((uint8_t) sb.data [i] >= 0xC7 && (uint8_t) sb.data [i] <= 0xC9)
                || ((uint8_t) sb.data [i] >= 0xD4 && (uint8_t) sb.data [i] <= 0xDF);
        msgpack_zone zone;
        assert (msgpack_zone_init (&zone, 512));
        msgpack_object obj;
        size_t off = 0;
        uint32_t declared;
        bool unpacks = !ext && msgpack_unpack (sb.data, size, &off, &zone, &obj) == MSGPACK_UNPACK_SUCCESS;
        if (!ext && unpacks && mc_proto_array_header (sb.data, size, &declared) > 0 && declared == count) {
            assert (valid);
            whole++;
        }
        refused += round % 4 == 0 && !ext && !unpacks;  //  too deep for the unpacker
        msgpack_zone_destroy (&zone);
    }
    assert (whole > 5000 && refused > 100);
    msgpack_sbuffer_destroy (&sb);
}

//  Random bytes, and random mutations of valid messages, never crash.
static void
s_test_fuzz (mc_bytes_t bin)
{
    int code;
    mc_msg_t msg;
    uint64_t state = 42;
    uint8_t buffer [512];
    mc_msg_init (&msg);
    msg.type = MC_TASK;
    msg.kernel = s_bytes ("noop");
    msg.args = bin;
    zframe_t *valid = mc_msg_encode (&msg);
    for (int round = 0; round < 200000; round++) {
        size_t size;
        if (round & 1) {
            size = zframe_size (valid);
            memcpy (buffer, zframe_data (valid), size);
            for (int flips = 0; flips < 3; flips++) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                buffer [(state >> 33) % size] = (uint8_t) (state >> 17);
            }
        }
        else {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            size = (state >> 33) % sizeof buffer;
            for (size_t i = 0; i < size; i++) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                buffer [i] = (uint8_t) (state >> 40);
            }
            buffer [0] = 0x90 | (buffer [0] & 0x0F);
        }
        mc_msg_t any;
        mc_msg_init (&any);
        int rc = mc_msg_decode (&any, buffer, size, &code);
        assert (rc == 0 || rc == -2);
    }
    zframe_destroy (&valid);

}

//  Array frames: a reference must match its frame's size, and every frame
//  must be referred to exactly once.
static void
s_test_array_frames (zsock_t *peer, zsock_t *server)
{
    int code;
    mc_msg_t msg;
    mc_msg_init (&msg);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    double values [3] = { 1.5, -2, 3 };
    mc_array_t array = { MC_DTYPE_F64, 1, { 3 }, values, sizeof values, 0 };
    for (int variant = 0; variant < 5; variant++) {
        msgpack_sbuffer_init (&sb);
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array (&pk, variant == 3? 2: 1);
        mc_array_pack_ref (&pk, &array, variant == 4? 1: 0);
        if (variant == 3)
            mc_array_pack_ref (&pk, &array, 0);         //  the same frame twice
        zframe_t *data = zframe_new (values, variant == 1? 16: sizeof values);
        zframe_t *spare = zframe_new (values, sizeof values);
        zframe_t *parts [2] = { data, spare };
        mc_msg_t task;
        mc_msg_init (&task);
        task.type = MC_TASK;
        task.kernel = s_bytes ("echo");
        task.args.ptr = sb.data;
        task.args.size = sb.size;
        task.frames = parts;
        task.frame_count = variant == 2 || variant == 4? 2: 1;
        assert (mc_msg_send (&task, peer, NULL) == 0);
        int rc = mc_msg_recv (&msg, server, true, &code);
        if (variant == 0) {
            //  Valid: the data arrives, and repacking renumbers or inlines it.
            assert (rc == 0 && msg.frame_count == 1);
            assert (((uintptr_t) zframe_data (msg.frames [0]) & 7) == 0);     //  kernels read numbers
            msgpack_zone zone;
            msgpack_zone_init (&zone, 256);
            msgpack_object obj;
            assert (mc_proto_unpack (msg.args.ptr, msg.args.size, &zone, &obj) == 0);
            mc_array_t got;
            const double *d = mc_proto_array_data (&obj.via.array.ptr [0], msg.frames, msg.frame_count, &got);
            assert (d && got.shape [0] == 3 && d [1] == -2);
            zlist_t *out = zlist_new ();
            zlist_append (out, spare);
            msgpack_sbuffer copy;
            msgpack_sbuffer_init (&copy);
            msgpack_packer cpk;
            msgpack_packer_init (&cpk, &copy, msgpack_sbuffer_write);
            mc_repack_t how = { msg.frames, msg.frame_count, out, false, NULL, NULL };
            assert (mc_proto_repack (&cpk, &obj, &how) == 0 && zlist_size (out) == 2);
            msgpack_object again;
            assert (mc_proto_unpack (copy.data, copy.size, &zone, &again) == 0);
            assert (mc_array_from_object (&again.via.array.ptr [0], &got) == 0 && got.frame == 1);
            msgpack_sbuffer_clear (&copy);
            how.inline_arrays = true;
            assert (mc_proto_repack (&cpk, &obj, &how) == 0);
            assert (mc_proto_unpack (copy.data, copy.size, &zone, &again) == 0);
            d = mc_proto_array_data (&again.via.array.ptr [0], NULL, 0, &got);
            assert (d && memcmp (d, values, sizeof values) == 0);
            msgpack_sbuffer_destroy (&copy);
            zlist_destroy (&out);
            msgpack_zone_destroy (&zone);
        }
        else
            assert (rc == -2);                          //  short frame, spare frame, twice, no such frame
        zframe_destroy (&data);
        zframe_destroy (&spare);
        msgpack_sbuffer_destroy (&sb);
    }
    s_test_streams (peer, server, values, sizeof values);

    mc_msg_reset (&msg);
}

//  BATCH: built, sent, received and read back; a batch of one goes as the
//  message itself; what a batch may not hold is refused.
//  A message passed between a process's own threads: decoded again, not
//  scanned again (what mc_msg_take refuses for its bin fields goes through;
//  a header that does not decode still does not).
static void
s_test_take_checked (void)
{
    double values [2] = { 1, 2 };
    mc_msg_t task, got;
    mc_msg_init (&task);
    mc_msg_init (&got);
    task.type = MC_TASK;
    task.job = 7;
    task.kernel = s_bytes ("noop");
    task.args.ptr = "\xC1";                     //  never valid msgpack
    task.args.size = 1;
    int code;
    for (int checked = 0; checked < 2; checked++) {
        zmsg_t *zmsg = zmsg_new ();
        zframe_t *header = mc_msg_encode (&task);
        assert (zmsg && header);
        zmsg_append (zmsg, &header);
        assert (zmsg_addmem (zmsg, values, sizeof values) == 0);      //  a frame nothing refers to
        int rc = checked? mc_msg_take_checked (&got, &zmsg, &code): mc_msg_take (&got, &zmsg, false, &code);
        assert (!zmsg && rc == (checked? 0: -2));
        if (checked)
            assert (got.type == MC_TASK && got.job == 7 && got.args.size == 1 && got.frame_count == 1
                 && ((uintptr_t) zframe_data (got.frames [0]) & 7) == 0);
        mc_msg_reset (&got);
    }
    zmsg_t *junk = zmsg_new ();
    zmsg_addstr (junk, "junk");
    assert (mc_msg_take_checked (&got, &junk, &code) == -2 && code == MC_E_MALFORMED);
    mc_msg_reset (&got);
    //  Unpacking without the pre-scan: the same object from good bytes.
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object a, b;
    const char good [] = "\x93\x01\xA1x\xC0";
    assert (mc_proto_unpack (good, 5, &zone, &a) == 0 && mc_proto_unpack_checked (good, 5, &zone, &b) == 0);
    assert (msgpack_object_equal (a, b));
    assert (mc_proto_unpack_checked (good, 4, &zone, &b) == -1);           //  cut short
    assert (mc_proto_unpack_checked ("\x01\x02", 2, &zone, &b) == -1);     //  bytes after the value
    msgpack_zone_destroy (&zone);
}

static void
s_test_batch (void *peer, void *server)
{
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    mc_msg_t msg, got, inner;
    for (uint64_t t = 0; t < 300; t++) {
        mc_msg_init (&msg);
        msg.type = MC_RESULT;
        msg.engine_id = 4;
        msg.job = 9;
        msg.task = t;
        msg.data = s_bytes ("\x91\xc0");
        assert (mc_batch_append (&batch, &msg) == 0);
    }
    int code;
    mc_msg_init (&got);
    assert (mc_batch_send (&batch, 300, peer, NULL) == 0);
    assert (mc_msg_recv (&got, server, true, &code) == 0 && got.type == MC_BATCH);
    size_t offset = 0;
    uint64_t n = 0;
    int rc;
    while ((rc = mc_batch_next (&got, &offset, &inner, &code)) == 1) {
        assert (inner.type == MC_RESULT && inner.task == n && inner.engine_id == 4 && inner.data.size == 2);
        assert (inner.raw.ptr > got.batch.ptr && inner.raw.ptr < got.batch.ptr + got.batch.size);
        n++;
    }
    assert (rc == 0 && n == 300);
    //  One header: the message itself.
    msgpack_sbuffer_clear (&batch);
    assert (mc_batch_append (&batch, &msg) == 0 && mc_batch_send (&batch, 1, peer, NULL) == 0);
    assert (mc_msg_recv (&got, server, true, &code) == 0 && got.type == MC_RESULT && got.task == 299);
    //  Refused inside a batch: a BATCH, a header referring to array frames,
    //  bytes that are no header, a length past the end.
    mc_msg_t nested = { 0 };
    mc_msg_init (&nested);
    nested.type = MC_BATCH;
    nested.batch.ptr = batch.data;
    nested.batch.size = batch.size;
    const char ext [] = { (char) 0x91, (char) 0xd4, 0x01, 0x00 };      //  fixext1 of type 1: an array frame
    mc_msg_t framed;
    mc_msg_init (&framed);
    framed.type = MC_RESULT;
    framed.data.ptr = ext;
    framed.data.size = sizeof ext;
    const mc_msg_t *bad [] = { &nested, &framed };
    for (size_t i = 0; i < 2; i++) {
        msgpack_sbuffer_clear (&batch);
        assert (mc_batch_append (&batch, &msg) == 0 && mc_batch_append (&batch, bad [i]) == 0);
        assert (mc_batch_send (&batch, 2, peer, NULL) == 0);
        assert (mc_msg_recv (&got, server, true, &code) == 0 && got.type == MC_BATCH);
        offset = 0;
        assert (mc_batch_next (&got, &offset, &inner, &code) == 1);
        assert (mc_batch_next (&got, &offset, &inner, &code) == -2 && code == MC_E_MALFORMED);
    }
    const char *garbage [] = { "\xdd\x00\x00\x00\x01\xc4\x03\x61\x62\x63", "\x91\xc4\x09\x93", "\x91\xa1x", "" };
    size_t sizes [] = { 10, 4, 3, 0 };
    for (size_t i = 0; i < 4; i++) {
        mc_msg_init (&nested);
        nested.type = MC_BATCH;
        nested.batch.ptr = garbage [i];
        nested.batch.size = sizes [i];
        offset = 0;
        assert (mc_batch_next (&nested, &offset, &inner, &code) == -2);
    }
    mc_msg_reset (&got);
    msgpack_sbuffer_destroy (&batch);
}

//  LIBRARY: one raw frame of 8 * ceil(size / 8) bytes, nothing else.
static void
s_test_library (void)
{
    size_t frame_sizes [] = { 16, 13, 24, 0 };     //  for size 13: right, short, long, none
    for (size_t k = 0; k < 4; k++)
        for (uint64_t size = 0; size <= 13; size += 13) {
            mc_msg_t msg;
            mc_msg_init (&msg);
            msg.type = MC_LIBRARY;
            msg.name = s_bytes ("mymodel");
            msg.hash = s_bytes ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
            msg.size = size;
            zframe_t *header = mc_msg_encode (&msg);
            zmsg_t *zmsg = zmsg_new ();
            assert (header && zmsg);
            zmsg_append (zmsg, &header);
            if (frame_sizes [k])
                zmsg_addmem (zmsg, NULL, frame_sizes [k]);
            int code, rc = mc_msg_take (&msg, &zmsg, false, &code);
            assert (rc == (k == 0 && size == 13? 0: -2));
            if (rc == 0)
                assert (msg.size == 13 && msg.frame_count == 1 && mc_bytes_eq (msg.name, "mymodel"));
            mc_msg_reset (&msg);
        }
}

void
mc_proto_test (bool verbose)
{
    if (verbose)
        printf (" * mc_proto: ");
    const char blob [] = { (char) 0x92, 0x01, (char) 0xA1, 'x' };
    mc_bytes_t bin = { blob, sizeof blob };
    s_test_same_bytes ();
    s_test_round_trips (bin);
    s_test_garbage ();
    s_test_library ();
    s_test_fuzz (bin);

    //  Over real sockets: garbage frames and extra frames yield -2.
    int code;
    mc_msg_t msg;
    zsock_t *server = zsock_new_router ("inproc://mc_proto_test");
    zsock_t *peer = zsock_new_dealer (">inproc://mc_proto_test");
    assert (server && peer);
    zstr_send (peer, "hello");
    mc_msg_init (&msg);
    assert (mc_msg_recv (&msg, server, true, &code) == -2 && msg.routing_id);
    mc_msg_t ping;
    mc_msg_init (&ping);
    ping.type = MC_PING;
    ping.engine_id = 3;
    zframe_t *frame = mc_msg_encode (&ping);
    zframe_send (&frame, peer, ZFRAME_MORE);
    zstr_send (peer, "extra");
    assert (mc_msg_recv (&msg, server, true, &code) == -2);
    mc_msg_send (&ping, peer, NULL);
    assert (mc_msg_recv (&msg, server, true, &code) == 0 && msg.type == MC_PING && msg.engine_id == 3);

    mc_msg_reset (&msg);
    s_test_array_frames (peer, server);
    s_test_batch (peer, server);
    s_test_take_checked ();
    s_test_valid_array ();
    zsock_destroy (&peer);
    zsock_destroy (&server);
    if (verbose)
        printf ("OK\n");
}
