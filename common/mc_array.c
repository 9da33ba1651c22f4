/*  mc_array: ext payloads of arrays, their shapes and partitions.
    Payload layout (all integers little-endian):
      MC_EXT_ARRAY   dtype:u8 ndim:u8 shape:u64[ndim] frame:u32
      MC_EXT_INLINE  dtype:u8 ndim:u8 shape:u64[ndim] data[bytes]
      MC_EXT_NAME    name bytes (1..255) */
#include "mc_array.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>

const char *
mc_dtype_name (int dtype)
{
    return dtype == MC_DTYPE_F64? "f64": dtype == MC_DTYPE_I64? "i64": NULL;
}

int
mc_dtype_parse (const char *text)
{
    if (!strcmp (text, "f64") || !strcmp (text, "float64"))
        return MC_DTYPE_F64;
    if (!strcmp (text, "i64") || !strcmp (text, "int64"))
        return MC_DTYPE_I64;
    return 0;
}

int
mc_array_bytes (int dtype, uint32_t ndim, const uint64_t *shape, size_t *bytes)
{
    if (!mc_dtype_name (dtype) || ndim < 1 || ndim > MC_ARRAY_MAX_DIMS)
        return -1;
    uint64_t total = 8;
    for (uint32_t i = 0; i < ndim; i++)
        if (__builtin_mul_overflow (total, shape [i], &total))
            return -1;
    if (total > SIZE_MAX / 2)
        return -1;
    *bytes = (size_t) total;
    return 0;
}

uint64_t
mc_array_rows (const mc_array_t *self)
{
    return self->shape [0];
}

size_t
mc_array_row_bytes (const mc_array_t *self)
{
    size_t bytes = 8;
    for (uint32_t i = 1; i < self->ndim; i++)
        bytes *= self->shape [i];
    return bytes;
}

static uint64_t
s_le (const uint8_t *p, int n)
{
    uint64_t value = 0;
    for (int i = n - 1; i >= 0; i--)
        value = value << 8 | p [i];
    return value;
}

int
mc_array_parse_ext (int8_t type, const void *payload, size_t len, mc_array_t *self)
{
    const uint8_t *p = payload;
    if ((type != MC_EXT_ARRAY && type != MC_EXT_INLINE) || len < 2)
        return -1;
    memset (self, 0, sizeof *self);
    self->dtype = p [0];
    self->ndim = p [1];
    if (self->ndim < 1 || self->ndim > MC_ARRAY_MAX_DIMS || len < 2 + 8 * (size_t) self->ndim)
        return -1;
    for (uint32_t i = 0; i < self->ndim; i++)
        self->shape [i] = s_le (p + 2 + 8 * i, 8);
    if (mc_array_bytes (self->dtype, self->ndim, self->shape, &self->size))
        return -1;
    size_t head = 2 + 8 * (size_t) self->ndim;
    if (type == MC_EXT_ARRAY) {
        if (len != head + 4)
            return -1;
        self->frame = (uint32_t) s_le (p + head, 4);
        return 0;
    }
    if (len - head != self->size)
        return -1;
    self->data = p + head;
    return 0;
}

int
mc_array_from_object (const msgpack_object *obj, mc_array_t *self)
{
    if (!obj || obj->type != MSGPACK_OBJECT_EXT)
        return -1;
    return mc_array_parse_ext (obj->via.ext.type, obj->via.ext.ptr, obj->via.ext.size, self);
}

//  The shared head of both payloads.
static size_t
s_head (const mc_array_t *self, uint8_t *head)
{
    head [0] = (uint8_t) self->dtype;
    head [1] = (uint8_t) self->ndim;
    for (uint32_t i = 0; i < self->ndim; i++)
        for (int b = 0; b < 8; b++)
            head [2 + 8 * i + b] = (uint8_t) (self->shape [i] >> (8 * b));
    return 2 + 8 * (size_t) self->ndim;
}

int
mc_array_pack_ref (msgpack_packer *pk, const mc_array_t *self, uint32_t frame)
{
    uint8_t head [2 + 8 * MC_ARRAY_MAX_DIMS + 4];
    size_t len = s_head (self, head);
    for (int b = 0; b < 4; b++)
        head [len++] = (uint8_t) (frame >> (8 * b));
    return msgpack_pack_ext (pk, len, MC_EXT_ARRAY) || msgpack_pack_ext_body (pk, head, len);
}

int
mc_array_pack_inline (msgpack_packer *pk, const mc_array_t *self)
{
    uint8_t head [2 + 8 * MC_ARRAY_MAX_DIMS];
    size_t len = s_head (self, head);
    return msgpack_pack_ext (pk, len + self->size, MC_EXT_INLINE)
        || msgpack_pack_ext_body (pk, head, len)
        || (self->size && msgpack_pack_ext_body (pk, self->data, self->size));
}

int
mc_array_pack_name (msgpack_packer *pk, const char *name)
{
    size_t len = strlen (name);
    return msgpack_pack_ext (pk, len, MC_EXT_NAME) || msgpack_pack_ext_body (pk, name, len);
}

char *
mc_array_describe (const mc_array_t *self, char *buf, size_t len)
{
    size_t used = (size_t) snprintf (buf, len, "%s[", mc_dtype_name (self->dtype)? mc_dtype_name (self->dtype): "?");
    for (uint32_t i = 0; i < self->ndim && used < len; i++)
        used += (size_t) snprintf (buf + used, len - used, "%s%llu", i? "x": "", (unsigned long long) self->shape [i]);
    if (used < len)
        snprintf (buf + used, len - used, "]");
    return buf;
}

void
mc_array_hist2d (const double *points, uint64_t n, int64_t *counts, size_t ny, size_t nx,
                 double x0, double x1, double y0, double y1)
{
    mc_array_hist2d_of (points, n, 2, 0, 1, counts, ny, nx, x0, x1, y0, y1);
}

void
mc_array_hist2d_of (const double *points, uint64_t n, size_t dim, size_t cx, size_t cy, int64_t *counts,
                    size_t ny, size_t nx, double x0, double x1, double y0, double y1)
{
    assert (cx < dim && cy < dim);
    double sx = (double) nx / (x1 - x0), sy = (double) ny / (y1 - y0);
    for (uint64_t k = 0; k < n; k++) {
        double x = points [dim * k + cx], y = points [dim * k + cy];
        if (x < x0 || x >= x1 || y < y0 || y >= y1)
            continue;
        size_t bx = (size_t) ((x - x0) * sx), by = (size_t) ((y - y0) * sy);
        counts [(by < ny? by: ny - 1) * nx + (bx < nx? bx: nx - 1)]++;
    }
}

void
mc_dist_block (uint64_t total, uint64_t parts, uint64_t index, uint64_t *start, uint64_t *size)
{
    uint64_t base = total / parts, extra = total % parts;
    *size = base + (index < extra);
    *start = index * base + (index < extra? index: extra);
}

uint64_t
mc_dist_rr_count (uint64_t total, uint64_t parts, uint64_t index)
{
    return total / parts + (index < total % parts);
}

//  --------------------------------------------------------------------------
//  Self test

//  Payloads round trip through msgpack ext values; malformed ones are refused.
static void
s_test_ext (void)
{
    double values [6] = { 1, 2, 3, 4, 5, -6 };
    mc_array_t array = { MC_DTYPE_F64, 2, { 3, 2 }, values, sizeof values, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert (mc_array_pack_ref (&pk, &array, 7) == 0 && mc_array_pack_inline (&pk, &array) == 0);
    assert (mc_array_pack_name (&pk, "x") == 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    mc_array_t got;
    assert (msgpack_unpack_next (&unpacked, sb.data, sb.size, &offset) == MSGPACK_UNPACK_SUCCESS);
    assert (mc_array_from_object (&unpacked.data, &got) == 0 && got.frame == 7 && !got.data);
    assert (got.dtype == MC_DTYPE_F64 && got.ndim == 2 && got.shape [0] == 3 && got.shape [1] == 2);
    assert (got.size == sizeof values && mc_array_rows (&got) == 3 && mc_array_row_bytes (&got) == 16);
    assert (msgpack_unpack_next (&unpacked, sb.data, sb.size, &offset) == MSGPACK_UNPACK_SUCCESS);
    assert (mc_array_from_object (&unpacked.data, &got) == 0 && !memcmp (got.data, values, sizeof values));
    //  A payload one byte short, or of a name, is no array.
    const msgpack_object_ext *ext = &unpacked.data.via.ext;
    assert (mc_array_parse_ext (MC_EXT_INLINE, ext->ptr, ext->size - 1, &got) == -1);
    assert (mc_array_parse_ext (MC_EXT_ARRAY, ext->ptr, ext->size, &got) == -1);
    assert (msgpack_unpack_next (&unpacked, sb.data, sb.size, &offset) == MSGPACK_UNPACK_SUCCESS);
    assert (unpacked.data.via.ext.type == MC_EXT_NAME && mc_array_from_object (&unpacked.data, &got) == -1);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&sb);
    //  A bad dtype or ndim, or a shape whose bytes overflow.
    uint8_t bad [2 + 8 + 4] = { 9, 1 };
    assert (mc_array_parse_ext (MC_EXT_ARRAY, bad, sizeof bad, &got) == -1);
    bad [0] = MC_DTYPE_I64;
    bad [1] = 0;
    assert (mc_array_parse_ext (MC_EXT_ARRAY, bad, sizeof bad, &got) == -1);
    size_t bytes;
    uint64_t huge [2] = { 1ull << 40, 1ull << 40 };
    assert (mc_array_bytes (MC_DTYPE_F64, 2, huge, &bytes) == -1);
    assert (mc_array_bytes (MC_DTYPE_I64, 2, (uint64_t []) { 3, 5 }, &bytes) == 0 && bytes == 120);
    char text [32];
    assert (!strcmp (mc_array_describe (&array, text, sizeof text), "f64[3x2]"));
    assert (mc_dtype_parse ("int64") == MC_DTYPE_I64 && mc_dtype_parse ("f64") == MC_DTYPE_F64);
    assert (mc_dtype_parse ("f32") == 0 && mc_dtype_name (3) == NULL);
}

//  Ipyparallel's partitions: block and round robin.
static void
s_test_dist (void)
{
    //  Block partition (ipyparallel's rule): sizes differ by at most one,
    //  larger first, contiguous, covering every item exactly once.
    for (uint64_t total = 0; total < 60; total++)
        for (uint64_t parts = 1; parts < 12; parts++) {
            uint64_t next = 0, dealt = 0;
            for (uint64_t p = 0; p < parts; p++) {
                uint64_t start, size;
                mc_dist_block (total, parts, p, &start, &size);
                assert (start == next);
                assert (size == total / parts || size == total / parts + 1);
                assert (p == 0 || size <= total / parts + (p < total % parts));
                next = start + size;
                dealt += mc_dist_rr_count (total, parts, p);
            }
            assert (next == total && dealt == total);
        }
    uint64_t start, size;
    mc_dist_block (50, 8, 0, &start, &size);
    assert (size == 7);
    mc_dist_block (50, 8, 2, &start, &size);
    assert (size == 6 && start == 14);
    mc_dist_block (4, 8, 5, &start, &size);
    assert (size == 0);
    assert (mc_dist_rr_count (10, 4, 1) == 3 && mc_dist_rr_count (10, 4, 2) == 2);
}

void
mc_array_test (bool verbose)
{
    if (verbose)
        printf (" * mc_array: ");
    s_test_ext ();
    s_test_dist ();
    //  hist2d: edges are half-open; what falls outside is not counted.
    double points [] = { 0.0, 0.0, 0.99, 0.99, 0.5, 0.25, 1.0, 0.5, -0.1, 0.5 };
    int64_t counts [4] = { 0 };
    mc_array_hist2d (points, 5, counts, 2, 2, 0, 1, 0, 1);
    assert (counts [0] == 1 && counts [1] == 1 && counts [2] == 0 && counts [3] == 1);
    //  Two coordinates of 3-D points: (z, x).
    const double points3 [] = { 0.1, 9, 0.9, 0.6, 9, 0.2 };
    memset (counts, 0, 4 * sizeof counts [0]);
    mc_array_hist2d_of (points3, 2, 3, 2, 0, counts, 2, 2, 0, 1, 0, 1);
    assert (counts [0] == 0 && counts [1] == 1 && counts [2] == 1 && counts [3] == 0);
    if (verbose)
        printf ("OK\n");
}
