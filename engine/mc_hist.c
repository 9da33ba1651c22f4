/*  mc_hist: replace points by their 2-D histogram, item by item. */
#include "mc_hist.h"
#include "mc_kcall.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <assert.h>

//  The coordinates of a hist2d spec ("coords": [i, j], default [0, 1]): 0,
//  or -1 when they are malformed.
static int
s_coords (const msgpack_object *spec, int64_t *coords)
{
    const msgpack_object *given = mc_proto_map_get (spec, "coords");
    coords [0] = 0, coords [1] = 1;
    if (!given)
        return 0;
    if (given->type != MSGPACK_OBJECT_ARRAY || given->via.array.size != 2
    ||  mc_value_get_int (&given->via.array.ptr [0], &coords [0]) || mc_value_get_int (&given->via.array.ptr [1], &coords [1])
    ||  coords [0] < 0 || coords [1] < 0 || coords [0] >= MC_TARGET_MAX_DIM || coords [1] >= MC_TARGET_MAX_DIM)
        return -1;
    return 0;
}

//  The bins and range of a hist2d spec: 0, or -1 when they are malformed.
static int
s_spec (const msgpack_object *spec, int64_t *nx, int64_t *ny, double *lo, double *hi)
{
    const msgpack_object *bins = mc_proto_map_get (spec, "bins"), *range = mc_proto_map_get (spec, "range");
    if (!bins || bins->type != MSGPACK_OBJECT_ARRAY || bins->via.array.size != 2
    ||  !range || range->type != MSGPACK_OBJECT_ARRAY || range->via.array.size != 4)
        return -1;
    if (mc_value_get_int (&bins->via.array.ptr [0], nx) || mc_value_get_int (&bins->via.array.ptr [1], ny)
    ||  *nx < 1 || *ny < 1 || *nx > 4096 || *ny > 4096
    ||  mc_value_get_double (&range->via.array.ptr [0], &lo [0]) || mc_value_get_double (&range->via.array.ptr [1], &hi [0])
    ||  mc_value_get_double (&range->via.array.ptr [2], &lo [1]) || mc_value_get_double (&range->via.array.ptr [3], &hi [1])
    ||  !(lo [0] < hi [0]) || !(lo [1] < hi [1]))
        return -1;
    return 0;
}

static void
s_destroy_frames (zlist_t **frames_p)
{
    zframe_t *frame;
    while (*frames_p && (frame = zlist_pop (*frames_p)))
        zframe_destroy (&frame);
    zlist_destroy (frames_p);
}

//  Count each item of items (its arrays index in[]) into counts and new
//  frames: 0, or -1 with err.
static int
s_count (const msgpack_object *items, zframe_t *const *in, size_t count, int64_t nx, int64_t ny, const int64_t *coords,
         const double *lo, const double *hi, msgpack_packer *pk, zlist_t *frames, char *err, size_t errlen)
{
    if (items->type != MSGPACK_OBJECT_ARRAY || msgpack_pack_array (pk, items->via.array.size)) {
        snprintf (err, errlen, "hist2d: the results are malformed");
        return -1;
    }
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        mc_array_t points;
        if (!mc_proto_array_data (&items->via.array.ptr [i], in, count, &points) || points.dtype != MC_DTYPE_F64
        ||  points.ndim != 2 || points.shape [1] <= (uint64_t) (coords [0] > coords [1]? coords [0]: coords [1])) {
            snprintf (err, errlen, "hist2d: the kernel's result is not an n x d float64 array of points with "
                      "coordinates %lld and %lld (--coords)", (long long) coords [0], (long long) coords [1]);
            return -1;
        }
        mc_array_t hist = { MC_DTYPE_I64, 2, { (uint64_t) ny, (uint64_t) nx }, NULL, (size_t) (nx * ny * 8), 0 };
        zframe_t *frame = mc_proto_frame_new (NULL, hist.size);
        if (!frame || zlist_append (frames, frame)) {
            zframe_destroy (&frame);
            snprintf (err, errlen, "hist2d: cannot allocate %zu bytes", hist.size);
            return -1;
        }
        int64_t *h = (int64_t *) zframe_data (frame);
        memset (h, 0, hist.size);
        mc_array_hist2d_of (points.data, points.shape [0], (size_t) points.shape [1], (size_t) coords [0],
                            (size_t) coords [1], h, (size_t) ny, (size_t) nx, lo [0], hi [0], lo [1], hi [1]);
        if (mc_array_pack_ref (pk, &hist, (uint32_t) zlist_size (frames) - 1)) {
            snprintf (err, errlen, "hist2d: out of memory");
            return -1;
        }
    }
    return 0;
}

int
mc_hist_reduce (const msgpack_object *spec, msgpack_sbuffer *values, zlist_t **frames_p,
                char *err, size_t errlen)
{
    int64_t nx, ny, coords [2];
    double lo [2], hi [2];
    if (s_spec (spec, &nx, &ny, lo, hi) || s_coords (spec, coords)) {
        snprintf (err, errlen, "hist2d: bins, range or coords are malformed");
        return -2;
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object items;
    size_t count;
    zframe_t **in = mc_proto_frame_array (*frames_p, &count);
    msgpack_sbuffer counts;
    msgpack_sbuffer_init (&counts);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &counts, msgpack_sbuffer_write);
    zlist_t *frames = zlist_new ();
    int rc = -1;
    if (!frames)
        snprintf (err, errlen, "hist2d: out of memory");
    else
    if (mc_proto_unpack (values->data, values->size, &zone, &items))
        snprintf (err, errlen, "hist2d: the results are malformed");
    else
        rc = s_count (&items, in, count, nx, ny, coords, lo, hi, &pk, frames, err, errlen);
    //  The counts replace the points.
    if (rc == 0) {
        msgpack_sbuffer points = *values;
        *values = counts;
        counts = points;                    //  destroyed below
        s_destroy_frames (frames_p);
        *frames_p = frames;
    }
    else
        s_destroy_frames (&frames);
    msgpack_sbuffer_destroy (&counts);
    free (in);
    msgpack_zone_destroy (&zone);
    return rc;
}

//  --------------------------------------------------------------------------
//  Selftest

void
mc_hist_test (bool verbose)
{
    printf (" * mc_hist: ");
    if (verbose)
        printf ("\n");
    //  Two items: three points (one outside the range), and no points.
    double points [6] = { 0.1, 0.1, 0.9, 0.6, 2.0, 0.5 };
    mc_array_t a = { MC_DTYPE_F64, 2, { 3, 2 }, points, sizeof points, 0 };
    mc_array_t b = { MC_DTYPE_F64, 2, { 0, 2 }, NULL, 0, 1 };
    msgpack_sbuffer values, sb;
    msgpack_sbuffer_init (&values);
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &values, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 2);
    mc_array_pack_ref (&pk, &a, 0);
    mc_array_pack_ref (&pk, &b, 1);
    zlist_t *frames = zlist_new ();
    zlist_append (frames, mc_proto_frame_new (points, sizeof points));
    zlist_append (frames, mc_proto_frame_new (NULL, 0));
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    char err [128];
    msgpack_object bad = mc_kcall_test_value ("{\"op\": \"hist2d\", \"bins\": [2, 0], \"range\": [0, 1, 0, 1]}", &sb, &zone);
    assert (mc_hist_reduce (&bad, &values, &frames, err, sizeof err) == -2 && strstr (err, "malformed"));
    //  --coords: malformed ones are the peer's garbage; ones past the points' dimension the kernel's.
    msgpack_sbuffer_clear (&sb);
    bad = mc_kcall_test_value ("{\"op\": \"hist2d\", \"bins\": [2, 1], \"range\": [0, 1, 0, 1], \"coords\": [-1, 0]}",
                               &sb, &zone);
    assert (mc_hist_reduce (&bad, &values, &frames, err, sizeof err) == -2 && strstr (err, "coords"));
    msgpack_sbuffer_clear (&sb);
    bad = mc_kcall_test_value ("{\"op\": \"hist2d\", \"bins\": [2, 1], \"range\": [0, 1, 0, 1], \"coords\": [0, 2]}",
                               &sb, &zone);
    assert (mc_hist_reduce (&bad, &values, &frames, err, sizeof err) == -1 && strstr (err, "coordinates 0 and 2"));
    assert (zlist_size (frames) == 2);
    msgpack_sbuffer_clear (&sb);
    msgpack_object spec = mc_kcall_test_value ("{\"op\": \"hist2d\", \"bins\": [2, 1], \"range\": [0, 1, 0, 1], "
                                               "\"coords\": [0, 1]}", &sb, &zone);
    assert (mc_hist_reduce (&spec, &values, &frames, err, sizeof err) == 0 && zlist_size (frames) == 2);
    msgpack_object items;
    assert (mc_proto_unpack (values.data, values.size, &zone, &items) == 0 && items.via.array.size == 2);
    size_t count;
    zframe_t **table = mc_proto_frame_array (frames, &count);
    mc_array_t hist;
    const int64_t *h = mc_proto_array_data (&items.via.array.ptr [0], table, count, &hist);
    assert (h && hist.dtype == MC_DTYPE_I64 && hist.shape [0] == 1 && hist.shape [1] == 2 && h [0] == 1 && h [1] == 1);
    h = mc_proto_array_data (&items.via.array.ptr [1], table, count, &hist);
    assert (h && h [0] == 0 && h [1] == 0);
    free (table);
    //  Counts are not points: refused, and nothing changes.
    size_t size = values.size;
    assert (mc_hist_reduce (&spec, &values, &frames, err, sizeof err) == -1 && strstr (err, "not an n x d"));
    assert (values.size == size && zlist_size (frames) == 2);
    if (verbose)
        printf ("  %s\n", err);
    s_destroy_frames (&frames);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&values);
    printf ("OK\n");
}
