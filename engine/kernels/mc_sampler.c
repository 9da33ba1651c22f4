/*  Sampler kernels: Monte Carlo pi and Metropolis-Hastings random walkers.
    Each draws only from the streams of (job seed, item index, lane)
    (mc_rng.h), so results are the same bits on any engine. The hot loops
    are plain C over independent lanes, compiled twice (AVX2 and baseline
    x86-64) and chosen at run time; they use integer arithmetic, or IEEE
    operations in a fixed order without fused multiply-adds, so both builds
    give identical results. */
#include "mc_kernel.h"
#include "mc_kcall.h"
#include "mc_ktable.h"
#include "mc_rng.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define MC_DISPATCH __attribute__ ((target_clones ("avx2", "default")))
#else
#define MC_DISPATCH
#endif

#define LANES 16

//  --------------------------------------------------------------------------
//  Arguments

//  A keyword argument as a count: an integer, or an integral float (1e7).
static int
s_count_kwarg (mc_kcall_t *call, const char *kernel, const char *name, int64_t fallback, int64_t min, int64_t max,
               int64_t *value)
{
    const mc_kvalue_t *obj = mc_kcall_kwarg (call, name);
    if (!obj) {
        if (fallback < min)
            return mc_kcall_error (call, "%s: %s=N is required", kernel, name);
        *value = fallback;
        return 0;
    }
    double d;
    if (mc_kvalue_double (obj, &d) || d != floor (d) || d < (double) min || d > (double) max)
        return mc_kcall_error (call, "%s: %s must be a whole number from %lld to %lld, got %s", kernel, name,
                               (long long) min, (long long) max,
                               mc_kvalue_type (obj) == MC_KVALUE_STR? "a string": mc_kvalue_type_name (obj));
    *value = (int64_t) d;
    return 0;
}

static int
s_double_kwarg (mc_kcall_t *call, const char *kernel, const char *name, double fallback, double min, double max,
                double *value)
{
    const mc_kvalue_t *obj = mc_kcall_kwarg (call, name);
    if (!obj) {
        *value = fallback;
        return 0;
    }
    if (mc_kvalue_double (obj, value) || !(*value >= min && *value <= max))
        return mc_kcall_error (call, "%s: %s must be a number from %g to %g", kernel, name, min, max);
    return 0;
}

//  Positional arguments: at most one, the item of a map (ignored: the
//  random stream already depends on the item's index).
static int
s_no_positionals (mc_kcall_t *call, const char *kernel)
{
    if (mc_kcall_argc (call) > 1)
        return mc_kcall_error (call, "%s takes keyword arguments only (name=value), got %zu positional", kernel,
                               mc_kcall_argc (call));
    return 0;
}

//  --------------------------------------------------------------------------
//  pi

//  One xoshiro256++ step of lane c of a block of streams.
static inline uint64_t
s_next (uint64_t *s0, uint64_t *s1, uint64_t *s2, uint64_t *s3, int c)
{
    uint64_t sum = s0 [c] + s3 [c];
    uint64_t r = ((sum << 23) | (sum >> 41)) + s0 [c];
    uint64_t t = s1 [c] << 17;
    s2 [c] ^= s0 [c]; s3 [c] ^= s1 [c]; s1 [c] ^= s2 [c]; s0 [c] ^= s3 [c];
    s2 [c] ^= t;
    s3 [c] = (s3 [c] << 45) | (s3 [c] >> 19);
    return r;
}

//  Points of the square [0, 2^31)^2 inside the quarter circle of radius
//  2^31, over LANES streams side by side: each draw gives x and y.
MC_DISPATCH static uint64_t
s_pi_hits (uint64_t seed, uint64_t index, uint64_t samples)
{
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES], hits [LANES];
    for (int l = 0; l < LANES; l++) {
        mc_rng_t rng;
        mc_rng_seed (&rng, seed, index, (uint64_t) l);
        s0 [l] = rng.s [0]; s1 [l] = rng.s [1]; s2 [l] = rng.s [2]; s3 [l] = rng.s [3];
        hits [l] = 0;
    }
    const uint64_t r2 = 1ull << 62;
    uint64_t rounds = samples / LANES, rest = samples % LANES;
    for (uint64_t i = 0; i < rounds; i++)
        for (int l = 0; l < LANES; l++) {
            uint64_t r = s_next (s0, s1, s2, s3, l);
            uint64_t x = r >> 33, y = (r >> 1) & 0x7FFFFFFF;
            hits [l] += x * x + y * y < r2;
        }
    //  The last samples % LANES samples: one more draw on the first lanes.
    uint64_t total = 0;
    for (int l = 0; l < LANES; l++) {
        if ((uint64_t) l < rest) {
            uint64_t r = s_next (s0, s1, s2, s3, l);
            uint64_t x = r >> 33, y = (r >> 1) & 0x7FFFFFFF;
            hits [l] += x * x + y * y < r2;
        }
        total += hits [l];
    }
    return total;
}

//  points=K: the first K points of a slice's sample (fewer when it has
//  fewer), as x, y pairs in [0, 1), drawn again from the same streams in
//  the order s_pi_hits draws them (round by round, lane by lane), so that
//  they are points the estimate counted and asking for them changes none
//  of its bits.
static void
s_pi_points (uint64_t seed, uint64_t index, uint64_t k, double *out)
{
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES];
    for (int l = 0; l < LANES; l++) {
        mc_rng_t rng;
        mc_rng_seed (&rng, seed, index, (uint64_t) l);
        s0 [l] = rng.s [0]; s1 [l] = rng.s [1]; s2 [l] = rng.s [2]; s3 [l] = rng.s [3];
    }
    for (uint64_t i = 0; i < k; i++) {
        uint64_t r = s_next (s0, s1, s2, s3, (int) (i % LANES));
        out [2 * i] = (double) (r >> 33) / 2147483648.0;
        out [2 * i + 1] = (double) ((r >> 1) & 0x7FFFFFFF) / 2147483648.0;
    }
}

static int
s_pi (mc_kcall_t *call)
{
    int64_t samples, points;
    if (s_no_positionals (call, "pi")
    ||  s_count_kwarg (call, "pi", "samples", -1, 1, 1000000000000000LL, &samples)
    ||  s_count_kwarg (call, "pi", "points", 0, 0, 100000, &points))
        return -1;
    //  Long runs go in slices so that a stopping engine is not held up.
    uint64_t hits = 0, done = 0, slice = 1ull << 28;
    for (uint64_t part = 0; done < (uint64_t) samples; part++) {
        if (mc_kcall_cancelled (call))
            return mc_kcall_error (call, "pi: cancelled, the engine is stopping");
        uint64_t n = (uint64_t) samples - done < slice? (uint64_t) samples - done: slice;
        //  Slice k is its own sub-stream, so results do not depend on where
        //  the slices fall in time.
        hits += s_pi_hits (mc_kcall_seed (call) ^ (part * 0x9E3779B97F4A7C15ull), mc_kcall_index (call), n);
        done += n;
    }
    //  hits <= samples <= 10^15: both fit an int64_t.
    if (mc_kcall_map (call, points? 3: 2) || mc_kcall_str (call, "hits", 4) || mc_kcall_int (call, (int64_t) hits)
    ||  mc_kcall_str (call, "samples", 7) || mc_kcall_int (call, samples))
        return -1;
    if (points == 0)
        return 0;
    //  A sample of slice 0's points (its sub-stream is the job seed's own).
    uint64_t shape [2] = { (uint64_t) (points < samples? points: samples), 2 };
    double *out = mc_kcall_str (call, "points", 6)? NULL: mc_kcall_out_array (call, MC_KDTYPE_F64, 2, shape);
    if (!out)
        return -1;
    s_pi_points (mc_kcall_seed (call), mc_kcall_index (call), shape [0], out);
    return 0;
}

//  --------------------------------------------------------------------------
//  Targets of the walker: unnormalised densities on the plane.

//  Uniform in [0, 1) from the top 52 bits, through the bits of a double.
static inline double
s_unit (uint64_t r)
{
    uint64_t bits = (r >> 12) | 0x3FF0000000000000ull;
    double d;
    memcpy (&d, &bits, 8);
    return d - 1.0;
}

//  exp(x) for x <= 0 in plain IEEE operations (no libm): the same bits on
//  every machine and in both builds; relative error below 1e-15, and 0
//  below -708. Rounding uses the 1.5 * 2^52 trick so that the integer part
//  never leaves the double's bits (AVX2 has no double <-> int64 conversion):
//  loops that call it can be vectorised.
static inline double
s_exp_v (double x)
{
    const double shift = 6755399441055744.0;            //  1.5 * 2^52
    double xc = x < -708.0? -708.0: x;
    double t = xc * 1.4426950408889634 + shift;          //  round to nearest
    double k = t - shift;
    double r = (xc - k * 0.693145751953125) - k * 1.4286068203094173e-06;
    double p = 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy (&bits, &t, 8);
    uint64_t e = (bits + 1023) << 52;                    //  2^k: k sits in the low bits of t
    double scale;
    memcpy (&scale, &e, 8);
    return x < -708.0? 0.0: p * scale;
}

typedef double (s_density_fn) (double x, double y);

//  The seed notebook's target: three 2-D Gaussian bumps.
static inline double
s_gauss3_v (double x, double y)
{
    double u0 = (0.5 - x) / 0.15, v0 = (0.2 - y) / 0.04;
    double u1 = (0.7 - x) / 0.05, v1 = (0.7 - y) / 0.05;
    double u2 = (0.3 - x) / 0.05, v2 = (0.7 - y) / 0.07;
    return s_exp_v (-(u0 * u0 + v0 * v0) / 2) + s_exp_v (-(u1 * u1 + v1 * v1) / 2)
         + s_exp_v (-(u2 * u2 + v2 * v2) / 2);
}

//  A ring of radius 0.3 and width 0.05 around (0.5, 0.5).
static inline double
s_ring_v (double x, double y)
{
    double dx = x - 0.5, dy = y - 0.5;
    double d = (sqrt (dx * dx + dy * dy) - 0.3) / 0.05;
    return s_exp_v (-d * d / 2);
}

//  Rosenbrock's banana: exp(-((1 - x)^2 + 100 (y - x^2)^2) / 20), a narrow
//  curved ridge along y = x^2 with its peak at (1, 1).
static inline double
s_banana_v (double x, double y)
{
    double a = 1 - x, b = y - x * x;
    return s_exp_v (-(a * a + 100 * b * b) / 20);
}

static const struct {
    const char *name;
    s_density_fn *f;
    const char *doc;
} s_targets [] = {
    { "gauss3", s_gauss3_v, "three Gaussians at (0.5,0.2) (0.7,0.7) (0.3,0.7), widths (0.15,0.04) (0.05,0.05) (0.05,0.07)" },
    { "ring",   s_ring_v,   "a ring of radius 0.3, width 0.05, around (0.5,0.5)" },
    { "banana", s_banana_v, "Rosenbrock's banana exp(-((1-x)^2 + 100(y-x^2)^2)/20)" },
};

//  --------------------------------------------------------------------------
//  walker

static int s_walkers (mc_kcall_t *call, int target, int64_t walkers, int64_t steps, int64_t burn_in,
                      int64_t thin, double step, const mc_kvalue_t *start);

//  The start argument [x, y] into x and y; -1 with the error set.
static int
s_start (mc_kcall_t *call, const mc_kvalue_t *start, double *x, double *y)
{
    if (mc_kvalue_type (start) != MC_KVALUE_LIST || mc_kvalue_len (start) != 2
    ||  mc_kvalue_double (mc_kvalue_at (start, 0), x) || mc_kvalue_double (mc_kvalue_at (start, 1), y))
        return mc_kcall_error (call, "walker: start must be [x, y]");
    return 0;
}

static int
s_walker (mc_kcall_t *call)
{
    if (s_no_positionals (call, "walker"))
        return -1;
    const mc_kvalue_t *target = mc_kcall_kwarg (call, "target");
    size_t len = 0;
    const char *wanted = mc_kvalue_str (target, &len);
    int index = target? -1: 0;                  //  gauss3 unless named
    if (target && !wanted)
        return mc_kcall_error (call, "walker: target must be a name (gauss3, ring or banana)");
    for (size_t i = 0; target && i < sizeof s_targets / sizeof s_targets [0] && index < 0; i++)
        if (len == strlen (s_targets [i].name) && !memcmp (wanted, s_targets [i].name, len))
            index = (int) i;
    if (index < 0)
        return mc_kcall_error (call, "walker: unknown target '%.*s' (gauss3, ring or banana)", (int) len, wanted);
    s_density_fn *f = s_targets [index].f;
    const char *name = s_targets [index].name;
    int64_t steps, burn_in, thin, walkers;
    double step;
    if (s_count_kwarg (call, "walker", "walkers", 1, 1, 1000000, &walkers)
    ||  s_count_kwarg (call, "walker", "steps", -1, 1, 1000000000, &steps)
    ||  s_count_kwarg (call, "walker", "burn_in", 100, 0, 1000000000, &burn_in)
    ||  s_count_kwarg (call, "walker", "thin", 1, 1, 1000000000, &thin)
    ||  s_double_kwarg (call, "walker", "step", 0.1, 1e-12, 1e6, &step))
        return -1;
    const mc_kvalue_t *start = mc_kcall_kwarg (call, "start");
    if (walkers > 1)
        return s_walkers (call, index, walkers, steps, burn_in, thin, step, start);
    mc_rng_t rng;
    mc_rng_seed (&rng, mc_kcall_seed (call), mc_kcall_index (call), 0);
    double x, y;
    if (start) {
        if (s_start (call, start, &x, &y))
            return -1;
    }
    else {
        x = mc_rng_uniform (&rng);
        y = mc_rng_uniform (&rng);
    }
    double fx = f (x, y);
    if (!(fx > 0))
        return mc_kcall_error (call, "walker: start (%g, %g) is outside the support of %s (its density is 0 there)",
                               x, y, name);
    uint64_t kept = (uint64_t) (steps / thin);
    uint64_t shape [2] = { kept, 2 };
    double *points = mc_kcall_out_array (call, MC_KDTYPE_F64, 2, shape);
    if (!points)
        return -1;
    uint64_t accepted = 0, n = 0;
    for (int64_t i = -burn_in; i < steps; i++) {
        if (((i + burn_in) & 0xFFFFF) == 0 && mc_kcall_cancelled (call))
            return mc_kcall_error (call, "walker: cancelled, the engine is stopping");
        double nx = x + step * (2 * mc_rng_uniform (&rng) - 1);
        double ny = y + step * (2 * mc_rng_uniform (&rng) - 1);
        double fn = f (nx, ny);
        //  Accept with probability min(1, fn / fx).
        if (fn >= fx || mc_rng_uniform (&rng) * fx < fn) {
            x = nx, y = ny, fx = fn;
            if (i >= 0)
                accepted++;
        }
        if (i >= 0 && (i + 1) % thin == 0 && n < kept) {
            points [2 * n] = x;
            points [2 * n + 1] = y;
            n++;
        }
    }
    mc_kcall_meta_double (call, "acceptance", (double) accepted / (double) steps);
    return 0;
}

//  --------------------------------------------------------------------------
//  walkers=K: K chains side by side, written for the compiler to vectorise
//  across chains. Each chain draws three uniforms per step from its own
//  stream (seed, item index, chain).

//  The state of LANES chains side by side.
typedef struct {
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES];
    double x [LANES], y [LANES], fx [LANES];
} s_chains_t;

//  Run one block of chains (at most LANES used) of one target; points of
//  chain c go to out + 2 * kept * c. Returns the accepted moves after
//  burn-in. One function per target, so that the chain loop has no branch.
//  The state is copied into a local block that nothing else can point to,
//  and the file is compiled with -fno-trapping-math (which changes no
//  value): with either missing, GCC keeps the selects as branches and the
//  chain loop stays scalar.
#define S_CHAINS(fname, density)                                                                          \
MC_DISPATCH static uint64_t                                                                               \
fname (s_chains_t *chains, int used, int64_t burn_in, int64_t steps, int64_t thin, double step,           \
       double *out, uint64_t kept)                                                                        \
{                                                                                                         \
    s_chains_t b = *chains;                                                                               \
    uint64_t accepted [LANES] = { 0 };                                                                    \
    uint64_t n = 0;                                                                                       \
    for (int64_t i = -burn_in; i < steps; i++) {                                                          \
        uint64_t after = i >= 0;                                                                          \
        for (int c = 0; c < LANES; c++) {                                                                 \
            double u0 = s_unit (s_next (b.s0, b.s1, b.s2, b.s3, c));                                      \
            double u1 = s_unit (s_next (b.s0, b.s1, b.s2, b.s3, c));                                      \
            double u2 = s_unit (s_next (b.s0, b.s1, b.s2, b.s3, c));                                      \
            double nx = b.x [c] + step * (2 * u0 - 1), ny = b.y [c] + step * (2 * u1 - 1);                \
            double fn = density (nx, ny);                                                                 \
            int take = (fn >= b.fx [c]) | (u2 * b.fx [c] < fn);                                           \
            b.x [c] = take? nx: b.x [c];                                                                  \
            b.y [c] = take? ny: b.y [c];                                                                  \
            b.fx [c] = take? fn: b.fx [c];                                                                \
            accepted [c] += (uint64_t) take & after;                                                      \
        }                                                                                                 \
        if (i >= 0 && (i + 1) % thin == 0 && n < kept) {                                                 \
            for (int c = 0; c < used; c++) {                                                              \
                out [2 * (kept * (uint64_t) c + n)] = b.x [c];                                            \
                out [2 * (kept * (uint64_t) c + n) + 1] = b.y [c];                                        \
            }                                                                                             \
            n++;                                                                                          \
        }                                                                                                 \
    }                                                                                                     \
    *chains = b;                                                                                          \
    uint64_t total = 0;                                                                                   \
    for (int c = 0; c < used; c++)                                                                        \
        total += accepted [c];                                                                            \
    return total;                                                                                         \
}
S_CHAINS (s_chains_gauss3, s_gauss3_v)
S_CHAINS (s_chains_ring, s_ring_v)
S_CHAINS (s_chains_banana, s_banana_v)

//  walkers=K: chains are run LANES at a time; chain c uses stream c.
static int
s_walkers (mc_kcall_t *call, int target, int64_t walkers, int64_t steps, int64_t burn_in, int64_t thin,
           double step, const mc_kvalue_t *start)
{
    double sx = 0, sy = 0;
    if (start && s_start (call, start, &sx, &sy))
        return -1;
    uint64_t kept = (uint64_t) (steps / thin);
    uint64_t shape [2] = { kept * (uint64_t) walkers, 2 };
    double *points = mc_kcall_out_array (call, MC_KDTYPE_F64, 2, shape);
    if (!points)
        return -1;
    uint64_t accepted = 0;
    for (int64_t first = 0; first < walkers; first += LANES) {
        if (mc_kcall_cancelled (call))
            return mc_kcall_error (call, "walker: cancelled, the engine is stopping");
        int used = walkers - first < LANES? (int) (walkers - first): LANES;
        s_chains_t chains;
        for (int c = 0; c < LANES; c++) {
            mc_rng_t rng;
            mc_rng_seed (&rng, mc_kcall_seed (call), mc_kcall_index (call), (uint64_t) (first + c));
            double x = start? sx: mc_rng_uniform (&rng);
            double y = start? sy: mc_rng_uniform (&rng);
            double fx = s_targets [target].f (x, y);
            if (c < used && !(fx > 0))
                return mc_kcall_error (call, "walker: start (%g, %g) is outside the support of %s "
                                       "(its density is 0 there)", x, y, s_targets [target].name);
            chains.s0 [c] = rng.s [0]; chains.s1 [c] = rng.s [1]; chains.s2 [c] = rng.s [2]; chains.s3 [c] = rng.s [3];
            chains.x [c] = x; chains.y [c] = y; chains.fx [c] = fx;
        }
        double *out = points + 2 * kept * (uint64_t) first;
        accepted += (target == 0? s_chains_gauss3: target == 1? s_chains_ring: s_chains_banana)
                    (&chains, used, burn_in, steps, thin, step, out, kept);
    }
    mc_kcall_meta_double (call, "acceptance", (double) accepted / ((double) steps * (double) walkers));
    return 0;
}

static const mc_kernel_def_t s_samplers [] = {
    { "pi", "Monte Carlo pi: uniform points of the unit square inside the quarter circle -> {hits, samples} "
      "(points=K: and the first K points, a float64 array K x 2)",
      "samples:int points:int=0", s_pi },
    { "walker", "Metropolis-Hastings random walk -> the chain after burn-in, a float64 array n x 2 (walkers=K: K chains, chain by chain)",
      "target:str=gauss3 steps:int start:list burn_in:int=100 step:float=0.1 thin:int=1 walkers:int=1", s_walker },
};

int
mc_sampler_register (void)
{
    return mc_ktable_register_all (s_samplers, sizeof s_samplers / sizeof s_samplers [0]);
}

//  --------------------------------------------------------------------------
//  Selftest: pinned bits of pi, the walker's shapes, and bad arguments.

void
mc_sampler_test (bool verbose)
{
    printf (" * mc_sampler: ");
    if (verbose)
        printf ("\n");
    const mc_kernel_def_t *pi = &s_samplers [0], *walker = &s_samplers [1];
    struct { const mc_kernel_def_t *def; const char *args, *kwargs, *expect; int rc; } cases [] = {
        //  The same bits as tests/integration/test_samplers.sh pins (item 0, seed 7).
        { pi, "[]", "{\"samples\": 100001}", "{\"hits\":78555,\"samples\":100001}", 0 },
        { pi, "[0]", "{\"samples\": 1e5}", NULL, 0 },
        { pi, "[0, 1]", "{\"samples\": 1}", "pi takes keyword arguments only (name=value), got 2 positional", -1 },
        { pi, "[]", "{}", "pi: samples=N is required", -1 },
        { pi, "[]", "{\"samples\": 0.5}", "pi: samples must be a whole number from 1 to 1000000000000000, got float", -1 },
        { pi, "[]", "{\"samples\": \"x\"}", "pi: samples must be a whole number from 1 to 1000000000000000, got a string", -1 },
        { pi, "[]", "{\"samples\": 10, \"points\": -1}", "pi: points must be a whole number from 0 to 100000, got int", -1 },
        { walker, "[]", "{\"steps\": 1, \"thin\": 2}", "[]", 0 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"moon\"}", "walker: unknown target 'moon' (gauss3, ring or banana)", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": 1}", "walker: target must be a name (gauss3, ring or banana)", -1 },
        { walker, "[]", "{\"steps\": 3, \"start\": [1]}", "walker: start must be [x, y]", -1 },
        { walker, "[]", "{\"steps\": 3, \"walkers\": 3, \"start\": \"x\"}", "walker: start must be [x, y]", -1 },
        { walker, "[]", "{\"steps\": 3, \"step\": 0}", "walker: step must be a number from 1e-12 to 1e+06", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"ring\", \"start\": [1e6, 0]}",
          "walker: start (1e+06, 0) is outside the support of ring (its density is 0 there)", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"banana\", \"walkers\": 17, \"start\": [1e6, 0]}",
          "walker: start (1e+06, 0) is outside the support of banana (its density is 0 there)", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        mc_kcall_expect (cases [i].def, cases [i].args, cases [i].kwargs, 7, cases [i].rc, cases [i].expect, verbose);
    //  A walker's points are only counted here (their bits are the
    //  integration test's): steps / thin per chain, chain after chain.
    struct { const char *kwargs; size_t points; } shapes [] = {
        { "{\"steps\": 4, \"burn_in\": 0, \"start\": [0.5, 0.5]}", 4 },
        { "{\"steps\": 4, \"thin\": 2, \"walkers\": 3, \"target\": \"banana\"}", 6 },
    };
    char out [4096];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes [0]; i++) {
        assert (mc_kcall_try (walker, "[]", shapes [i].kwargs, 7, out, sizeof out) == 0);
        size_t brackets = 0;
        for (const char *c = out; *c; c++)
            brackets += *c == '[';
        assert (brackets == shapes [i].points + 1);
    }
    //  points=K: the same hits (asking changes no bit), and the points are
    //  those counted: with all of them drawn, as many inside as hits.
    assert (mc_kcall_try (pi, "[]", "{\"samples\": 100001, \"points\": 3}", 7, out, sizeof out) == 0);
    if (verbose)
        printf ("   pi points=3: %s\n", out);
    const char *head = "{\"hits\":78555,\"samples\":100001,\"points\":[[";
    assert (!strncmp (out, head, strlen (head)));
    for (int samples = 1; samples <= 40; samples += 13) {
        char kwargs [64];
        snprintf (kwargs, sizeof kwargs, "{\"samples\": %d, \"points\": 100}", samples);
        assert (mc_kcall_try (pi, "[5]", kwargs, 11, out, sizeof out) == 0);
        long hits = strtol (out + 8, NULL, 10);
        int inside = 0, count = 0;
        for (const char *p = strstr (out, "\"points\":[") + 10; (p = strchr (p, '[')); count++) {
            double x = strtod (p + 1, (char **) &p), y = strtod (p + 1, (char **) &p);
            assert (x >= 0 && x < 1 && y >= 0 && y < 1);
            inside += x * x + y * y < 1;
        }
        if (verbose)
            printf ("   pi samples=%d points=100: %ld hits, %d of %d points inside\n", samples, hits, inside, count);
        assert (count == samples && inside == hits);
    }
    assert (mc_sampler_register () == 0 && mc_ktable_find ("walker", 6) == walker);
    printf ("OK\n");
}
