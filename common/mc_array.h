/*  mc_array: typed numeric arrays (float64, int64) with a shape, and how
    they appear inside msgpack values. On the wire an array is a msgpack
    ext value that refers to a raw frame after the message header (see
    proto/mc_proto.md, "Arrays"); in the store it is an ext value that
    holds its bytes inline. Either way the numbers are never encoded one
    by one: they stay little-endian bytes, copied as a block. */
#ifndef MC_ARRAY_H
#define MC_ARRAY_H
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mccluster moves arrays as little-endian bytes; this host is not little-endian"
#endif

#define MC_ARRAY_MAX_DIMS 8

//  msgpack ext types of MCP/3
enum {
    MC_EXT_ARRAY = 1,               //  array whose data is a frame of the message
    MC_EXT_NAME = 2,                //  "@name": a value in the namespace of the engine that runs the task
    MC_EXT_INLINE = 3               //  array whose data follows its shape inside the ext
};

typedef enum { MC_DTYPE_F64 = 1, MC_DTYPE_I64 = 2 } mc_dtype_t;

typedef struct {
    mc_dtype_t dtype;
    uint32_t ndim;                  //  1 .. MC_ARRAY_MAX_DIMS
    uint64_t shape [MC_ARRAY_MAX_DIMS];
    const void *data;               //  little-endian elements, row-major (borrowed)
    size_t size;                    //  bytes: 8 x product of shape
    uint32_t frame;                 //  MC_EXT_ARRAY: index of its frame in the message
} mc_array_t;

//  "f64" / "i64", or NULL for an unknown dtype.
const char *mc_dtype_name (int dtype);
//  Parse "f64"/"float64"/"i64"/"int64"; 0 when unknown.
int mc_dtype_parse (const char *text);
//  Product of the shape times the element size, in *bytes; -1 on overflow
//  or a bad dtype or ndim.
int mc_array_bytes (int dtype, uint32_t ndim, const uint64_t *shape, size_t *bytes);
//  Elements along the first axis, and bytes of one row (a slice of axis 0).
uint64_t mc_array_rows (const mc_array_t *self);
size_t mc_array_row_bytes (const mc_array_t *self);

//  Read an MC_EXT_ARRAY or MC_EXT_INLINE payload. For inline arrays data
//  points into the payload. Returns 0, or -1 when the payload is malformed.
int mc_array_parse_ext (int8_t type, const void *payload, size_t len, mc_array_t *self);
//  Read an ext object (either kind); -1 when obj is not an array ext.
int mc_array_from_object (const msgpack_object *obj, mc_array_t *self);
//  Pack a reference to frame `frame`, or the array with its data inline.
int mc_array_pack_ref (msgpack_packer *pk, const mc_array_t *self, uint32_t frame);
int mc_array_pack_inline (msgpack_packer *pk, const mc_array_t *self);
//  Pack an "@name" reference.
int mc_array_pack_name (msgpack_packer *pk, const char *name);
//  A one-line type description: "f64[100x2]".
char *mc_array_describe (const mc_array_t *self, char *buf, size_t len);

//  Add points (n x 2, x then y) to counts (ny rows of nx columns, row-major,
//  row 0 at y0) over [x0, x1) x [y0, y1); points outside are not counted.
//  Engines (--reduce hist2d) and clients (gather --hist) bin with this one
//  function, so that both give the same counts.
void mc_array_hist2d (const double *points, uint64_t n, int64_t *counts, size_t ny, size_t nx,
                      double x0, double x1, double y0, double y1);
//  The same over n points of dim coordinates each (row-major), binning
//  coordinate cx across and cy up (both < dim).
void mc_array_hist2d_of (const double *points, uint64_t n, size_t dim, size_t cx, size_t cy, int64_t *counts,
                         size_t ny, size_t nx, double x0, double x1, double y0, double y1);

//  Ipyparallel's partitions of `total` items into `parts` parts, for scatter
//  and gather and for maps over explicit targets.
//  Block: part `index` is the range [*start, *start + *size); the first
//  total % parts parts have one item more.
void mc_dist_block (uint64_t total, uint64_t parts, uint64_t index, uint64_t *start, uint64_t *size);
//  Round robin: part `index` holds items index, index + parts, ...; this
//  returns how many.
uint64_t mc_dist_rr_count (uint64_t total, uint64_t parts, uint64_t index);

//  Self test: ext payloads both ways, garbage, shapes, partitions, hist2d.
void mc_array_test (bool verbose);
#endif
