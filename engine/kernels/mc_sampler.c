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

//  An int argument (declared, so checked already) within [min, max].
static int
s_count (mc_kcall_t *call, const char *kernel, const char *name, int64_t min, int64_t max, int64_t *value)
{
    *value = mc_kcall_int (call, name);
    if (*value < min || *value > max)
        return mc_kcall_error (call, "%s: %s must be a whole number from %lld to %lld, got %lld", kernel, name,
                               (long long) min, (long long) max, (long long) *value);
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

//  Cells of a 2^31 x 2^31 grid on the square whose midpoints lie inside the
//  quarter circle of radius 2^31, over LANES streams side by side: each
//  draw gives a cell (x, y). The midpoint (x + 1/2, y + 1/2) is inside when
//  x^2 + x + y^2 + y + 1/2 < 2^62, i.e. x^2 + x + y^2 + y < 2^62 for
//  integers; counting lower-left corners instead biased pi by +1.9e-9.
//  Slice k of a long task is sub-stream k of each lane's stream.
MC_DISPATCH static uint64_t
s_pi_hits (uint64_t seed, uint64_t index, uint64_t slice, uint64_t samples)
{
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES], hits [LANES];
    for (int l = 0; l < LANES; l++) {
        mc_rng_t rng;
        mc_rng_seed_sub (&rng, seed, index, (uint64_t) l, slice);
        s0 [l] = rng.s [0]; s1 [l] = rng.s [1]; s2 [l] = rng.s [2]; s3 [l] = rng.s [3];
        hits [l] = 0;
    }
    const uint64_t r2 = 1ull << 62;
    uint64_t rounds = samples / LANES, rest = samples % LANES;
    for (uint64_t i = 0; i < rounds; i++)
        for (int l = 0; l < LANES; l++) {
            uint64_t r = s_next (s0, s1, s2, s3, l);
            uint64_t x = r >> 33, y = (r >> 1) & 0x7FFFFFFF;
            hits [l] += x * x + x + y * y + y < r2;
        }
    //  The last samples % LANES samples: one more draw on the first lanes.
    uint64_t total = 0;
    for (int l = 0; l < LANES; l++) {
        if ((uint64_t) l < rest) {
            uint64_t r = s_next (s0, s1, s2, s3, l);
            uint64_t x = r >> 33, y = (r >> 1) & 0x7FFFFFFF;
            hits [l] += x * x + x + y * y + y < r2;
        }
        total += hits [l];
    }
    return total;
}

//  points=K: the first K points of slice 0's sample (fewer when it has
//  fewer), as the midpoints of their cells, x, y in (0, 1), drawn again
//  from the same streams in the order s_pi_hits draws them (round by
//  round, lane by lane), so that they are points the estimate counted (a
//  point is inside exactly when s_pi_hits counts it) and asking for them
//  changes none of its bits.
static void
s_pi_points (uint64_t seed, uint64_t index, uint64_t k, double *out)
{
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES];
    for (int l = 0; l < LANES; l++) {
        mc_rng_t rng;
        mc_rng_seed_sub (&rng, seed, index, (uint64_t) l, 0);
        s0 [l] = rng.s [0]; s1 [l] = rng.s [1]; s2 [l] = rng.s [2]; s3 [l] = rng.s [3];
    }
    for (uint64_t i = 0; i < k; i++) {
        uint64_t r = s_next (s0, s1, s2, s3, (int) (i % LANES));
        out [2 * i] = ((double) (r >> 33) + 0.5) / 2147483648.0;
        out [2 * i + 1] = ((double) ((r >> 1) & 0x7FFFFFFF) + 0.5) / 2147483648.0;
    }
}

static int
s_pi (mc_kcall_t *call)
{
    int64_t samples, points;
    if (s_count (call, "pi", "samples", 1, 1000000000000000LL, &samples)
    ||  s_count (call, "pi", "points", 0, 100000, &points))
        return -1;
    //  Long runs go in slices so that a stopping engine is not held up.
    uint64_t hits = 0, done = 0, slice = 1ull << 28;
    for (uint64_t part = 0; done < (uint64_t) samples; part++) {
        if (mc_kcall_cancelled (call))
            return mc_kcall_error (call, "pi: cancelled, the engine is stopping");
        uint64_t n = (uint64_t) samples - done < slice? (uint64_t) samples - done: slice;
        //  Slice k is its own sub-stream, so results do not depend on where
        //  the slices fall in time.
        hits += s_pi_hits (mc_kcall_seed (call), mc_kcall_index (call), part, n);
        done += n;
    }
    //  hits <= samples <= 10^15: both fit an int64_t.
    if (mc_kcall_out_map (call, points? 3: 2) || mc_kcall_out_str (call, "hits", 4) || mc_kcall_out_int (call, (int64_t) hits)
    ||  mc_kcall_out_str (call, "samples", 7) || mc_kcall_out_int (call, samples))
        return -1;
    if (points == 0)
        return 0;
    //  A sample of slice 0's points.
    uint64_t shape [2] = { (uint64_t) (points < samples? points: samples), 2 };
    double *out = mc_kcall_out_str (call, "points", 6)? NULL: mc_kcall_out_array (call, MC_KDTYPE_F64, 2, shape);
    if (!out)
        return -1;
    s_pi_points (mc_kcall_seed (call), mc_kcall_index (call), shape [0], out);
    return 0;
}

//  --------------------------------------------------------------------------
//  Targets of the walker. The built-in ones are unnormalised densities on
//  the plane, inlined into the chain loops; a plugin's (mc_kernel.h) have
//  any dimension and parameters, and are called through their pointer.

//  Uniform in [0, 1) from the top 52 bits, through the bits of a double:
//  every chain, of walkers=1 or of walkers=K, draws its uniforms this way.
static inline double
s_unit (uint64_t r)
{
    uint64_t bits = (r >> 12) | 0x3FF0000000000000ull;
    double d;
    memcpy (&d, &bits, 8);
    return d - 1.0;
}

//  The seed notebook's target: three 2-D Gaussian bumps. (The same density
//  as a plugin's target, with the same bits: engine/kernels/examples.)
static inline double
s_gauss3_v (double x, double y)
{
    double u0 = (0.5 - x) / 0.15, v0 = (0.2 - y) / 0.04;
    double u1 = (0.7 - x) / 0.05, v1 = (0.7 - y) / 0.05;
    double u2 = (0.3 - x) / 0.05, v2 = (0.7 - y) / 0.07;
    return mc_exp (-(u0 * u0 + v0 * v0) / 2) + mc_exp (-(u1 * u1 + v1 * v1) / 2)
         + mc_exp (-(u2 * u2 + v2 * v2) / 2);
}

//  A ring of radius 0.3 and width 0.05 around (0.5, 0.5).
static inline double
s_ring_v (double x, double y)
{
    double dx = x - 0.5, dy = y - 0.5;
    double d = (sqrt (dx * dx + dy * dy) - 0.3) / 0.05;
    return mc_exp (-d * d / 2);
}

//  Rosenbrock's banana: exp(-((1 - x)^2 + 100 (y - x^2)^2) / 20), a narrow
//  curved ridge along y = x^2 with its peak at (1, 1).
static inline double
s_banana_v (double x, double y)
{
    double a = 1 - x, b = y - x * x;
    return mc_exp (-(a * a + 100 * b * b) / 20);
}

//  The built-ins in the form of a plugin's target, for the chain below.
static double s_gauss3_nd (const double *x, size_t dim, const double *p) { (void) dim, (void) p; return s_gauss3_v (x [0], x [1]); }
static double s_ring_nd (const double *x, size_t dim, const double *p) { (void) dim, (void) p; return s_ring_v (x [0], x [1]); }
static double s_banana_nd (const double *x, size_t dim, const double *p) { (void) dim, (void) p; return s_banana_v (x [0], x [1]); }

static const mc_target_def_t s_targets [] = {
    { "gauss3", "three Gaussians at (0.5,0.2) (0.7,0.7) (0.3,0.7), widths (0.15,0.04) (0.05,0.05) (0.05,0.07)", 2, 0,
      false, s_gauss3_nd, NULL },
    { "ring",   "a ring of radius 0.3, width 0.05, around (0.5,0.5)", 2, 0, false, s_ring_nd, NULL },
    { "banana", "Rosenbrock's banana exp(-((1-x)^2 + 100(y-x^2)^2)/20)", 2, 0, false, s_banana_nd, NULL },
};
#define BUILTIN_TARGETS ((int) (sizeof s_targets / sizeof s_targets [0]))

//  --------------------------------------------------------------------------
//  walker: one chain

//  What one run of the walker was asked for.
typedef struct {
    const mc_target_def_t *target;
    const char *name;                   //  as the user named it
    int builtin;                        //  index in s_targets, or -1 for a plugin's
    const double *params;
    double start [MC_TARGET_MAX_DIM];
    bool has_start;
    int64_t walkers, steps, burn_in, thin;
    double step;
    uint64_t kept;                      //  points per chain: steps / thin
} s_walk_t;

//  Whether a move from fx to fn is taken, given a uniform u in [0, 1):
//  with probability min(1, fn / fx), or min(1, exp(fn - fx)) for a log
//  density.
static inline int
s_take (bool log, double fx, double fn, double u)
{
    return log? (fn >= fx) | (u < mc_exp (fn - fx)): (fn >= fx) | (u * fx < fn);
}

//  Run one chain from x (dim coordinates, fx its density) with rng: dim
//  uniforms per step for the move, then one for its acceptance, always.
//  Points go to out (kept x dim). Returns the accepted moves after
//  burn-in, or -1 with the error set when cancelled. Always inlined: with
//  a built-in's fn and dim as constants, the density is inlined too and
//  the loop is what a hand-written one would be.
static inline __attribute__ ((always_inline)) int64_t
s_chain (mc_kcall_t *call, const s_walk_t *w, mc_target_fn *fn, uint32_t dim, bool log, mc_rng_t *rng,
         double *x, double fx, double *out)
{
    uint64_t accepted = 0, n = 0;
    double nx [MC_TARGET_MAX_DIM];
    for (int64_t i = -w->burn_in; i < w->steps; i++) {
        if (((i + w->burn_in) & 0xFFFFF) == 0 && mc_kcall_cancelled (call))
            return mc_kcall_error (call, "walker: cancelled, the engine is stopping");
        for (uint32_t d = 0; d < dim; d++)
            nx [d] = x [d] + w->step * (2 * s_unit (mc_rng_next (rng)) - 1);
        double u = s_unit (mc_rng_next (rng));
        double fn_x = fn (nx, dim, w->params);
        if (s_take (log, fx, fn_x, u)) {
            memcpy (x, nx, dim * sizeof *x);
            fx = fn_x;
            accepted += i >= 0;
        }
        if (i >= 0 && (i + 1) % w->thin == 0 && n < w->kept) {
            memcpy (out + dim * n, x, dim * sizeof *x);
            n++;
        }
    }
    return (int64_t) accepted;
}

//  One instance per built-in target (constant function and dimension), and
//  one for a plugin's target through its pointer.
static int64_t s_chain_gauss3 (mc_kcall_t *call, const s_walk_t *w, mc_rng_t *rng, double *x, double fx, double *out)
{ return s_chain (call, w, s_gauss3_nd, 2, false, rng, x, fx, out); }
static int64_t s_chain_ring (mc_kcall_t *call, const s_walk_t *w, mc_rng_t *rng, double *x, double fx, double *out)
{ return s_chain (call, w, s_ring_nd, 2, false, rng, x, fx, out); }
static int64_t s_chain_banana (mc_kcall_t *call, const s_walk_t *w, mc_rng_t *rng, double *x, double fx, double *out)
{ return s_chain (call, w, s_banana_nd, 2, false, rng, x, fx, out); }
//  A plugin's: its density through its pointer, but the dimension and the
//  kind as constants where they can be (2-D, log or not), which is what
//  keeps one chain within a few per cent of the built-in's.
static int64_t
s_chain_plugin (mc_kcall_t *call, const s_walk_t *w, mc_rng_t *rng, double *x, double fx, double *out)
{
    const mc_target_def_t *t = w->target;
    if (t->dim == 2)
        return t->log? s_chain (call, w, t->fn, 2, true, rng, x, fx, out): s_chain (call, w, t->fn, 2, false, rng, x, fx, out);
    return t->log? s_chain (call, w, t->fn, t->dim, true, rng, x, fx, out)
                 : s_chain (call, w, t->fn, t->dim, false, rng, x, fx, out);
}

//  Chain c's start: given, or uniform in [0, 1)^dim from its stream (53
//  bits, as it always was), into x with its density in *fx; -1 with the
//  error set when it is outside the target's support.
static int
s_chain_start (mc_kcall_t *call, const s_walk_t *w, mc_rng_t *rng, double *x, double *fx)
{
    uint32_t dim = w->target->dim;
    for (uint32_t d = 0; d < dim; d++)
        x [d] = w->has_start? w->start [d]: mc_rng_uniform (rng);
    *fx = w->target->fn (x, dim, w->params);
    if (w->target->log? !(*fx > -INFINITY): !(*fx > 0)) {
        char at [128] = "";             //  the first coordinates, as many as fit
        for (uint32_t d = 0, used = 0; d < dim && used < sizeof at; d++)
            used += (uint32_t) snprintf (at + used, sizeof at - used, "%s%g", d? ", ": "", x [d]);
        return mc_kcall_error (call, "walker: start (%s) is outside the support of %s (its density is 0 there)",
                               at, w->name);
    }
    return 0;
}

//  Chains one after another (walkers=1, and any target of a plugin):
//  chain c uses stream (seed, index, c). Accepted moves, or -1.
static int64_t
s_walk_chains (mc_kcall_t *call, const s_walk_t *w, double *points)
{
    typedef int64_t (chain_fn) (mc_kcall_t *, const s_walk_t *, mc_rng_t *, double *, double, double *);
    chain_fn *run = w->builtin == 0? s_chain_gauss3: w->builtin == 1? s_chain_ring: w->builtin == 2? s_chain_banana
                  : s_chain_plugin;
    uint32_t dim = w->target->dim;
    int64_t accepted = 0;
    for (int64_t c = 0; c < w->walkers; c++) {
        mc_rng_t rng;
        mc_rng_seed (&rng, mc_kcall_seed (call), mc_kcall_index (call), (uint64_t) c);
        double x [MC_TARGET_MAX_DIM], fx;
        if (s_chain_start (call, w, &rng, x, &fx))
            return -1;
        int64_t got = run (call, w, &rng, x, fx, points + dim * w->kept * (uint64_t) c);
        if (got < 0)
            return -1;
        accepted += got;
    }
    return accepted;
}
//  --------------------------------------------------------------------------
//  walkers=K of a built-in target: K chains side by side, written for the
//  compiler to vectorise across chains. Each chain draws three uniforms per
//  step from its own stream (seed, item index, chain), as s_chain does: the
//  same bits as chains one after another.

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

//  walkers=K of a built-in target: chains are run LANES at a time; chain c
//  uses stream c. Accepted moves, or -1.
static int64_t
s_walk_lanes (mc_kcall_t *call, const s_walk_t *w, double *points)
{
    uint64_t accepted = 0;
    for (int64_t first = 0; first < w->walkers; first += LANES) {
        if (mc_kcall_cancelled (call))
            return mc_kcall_error (call, "walker: cancelled, the engine is stopping");
        int used = w->walkers - first < LANES? (int) (w->walkers - first): LANES;
        s_chains_t chains;
        for (int c = 0; c < LANES; c++) {
            mc_rng_t rng;
            mc_rng_seed (&rng, mc_kcall_seed (call), mc_kcall_index (call), (uint64_t) (first + c));
            double x [2], fx;
            if (c < used && s_chain_start (call, w, &rng, x, &fx))
                return -1;
            if (c >= used) {                //  an unused lane: its start need not be in the support
                x [0] = w->has_start? w->start [0]: mc_rng_uniform (&rng);
                x [1] = w->has_start? w->start [1]: mc_rng_uniform (&rng);
                fx = w->target->fn (x, 2, w->params);
            }
            chains.s0 [c] = rng.s [0]; chains.s1 [c] = rng.s [1]; chains.s2 [c] = rng.s [2]; chains.s3 [c] = rng.s [3];
            chains.x [c] = x [0]; chains.y [c] = x [1]; chains.fx [c] = fx;
        }
        double *out = points + 2 * w->kept * (uint64_t) first;
        accepted += (w->builtin == 0? s_chains_gauss3: w->builtin == 1? s_chains_ring: s_chains_banana)
                    (&chains, used, w->burn_in, w->steps, w->thin, w->step, out, w->kept);
    }
    return (int64_t) accepted;
}

//  walkers=K of a plugin's target with a lanes form: LANES chains side by
//  side, the proposals and acceptances vectorised here and the density in
//  the plugin's own vectorised loop (one call per step for all lanes). The
//  state of the chains, coordinate d of chain c at [d * LANES + c].
typedef struct {
    uint64_t s0 [LANES], s1 [LANES], s2 [LANES], s3 [LANES];
    double x [MC_TARGET_MAX_DIM * LANES], fx [LANES];
} s_nd_chains_t;

//  Run one block of chains (at most LANES used); points of chain c go to
//  out + dim * kept * c. Returns the accepted moves after burn-in, or -1
//  with the error set when cancelled.
static inline __attribute__ ((always_inline)) int64_t
s_nd_block (mc_kcall_t *call, const s_walk_t *w, s_nd_chains_t *b, int used, double *out, uint32_t dim, bool log)
{
    const mc_target_def_t *t = w->target;
    double nx [MC_TARGET_MAX_DIM * LANES], fn [LANES], u [LANES];
    uint64_t accepted [LANES] = { 0 }, n = 0;
    for (int64_t i = -w->burn_in; i < w->steps; i++) {
        if (((i + w->burn_in) & 0xFFFF) == 0 && mc_kcall_cancelled (call))
            return mc_kcall_error (call, "walker: cancelled, the engine is stopping");
        for (uint32_t d = 0; d < dim; d++)
            for (int c = 0; c < LANES; c++)
                nx [d * LANES + c] = b->x [d * LANES + c]
                                   + w->step * (2 * s_unit (s_next (b->s0, b->s1, b->s2, b->s3, c)) - 1);
        for (int c = 0; c < LANES; c++)
            u [c] = s_unit (s_next (b->s0, b->s1, b->s2, b->s3, c));
        t->lanes (nx, LANES, dim, w->params, fn);
        uint64_t after = i >= 0;
        for (int c = 0; c < LANES; c++) {
            int take = s_take (log, b->fx [c], fn [c], u [c]);
            for (uint32_t d = 0; d < dim; d++)
                b->x [d * LANES + c] = take? nx [d * LANES + c]: b->x [d * LANES + c];
            b->fx [c] = take? fn [c]: b->fx [c];
            accepted [c] += (uint64_t) take & after;
        }
        if (i >= 0 && (i + 1) % w->thin == 0 && n < w->kept) {
            for (int c = 0; c < used; c++)
                for (uint32_t d = 0; d < dim; d++)
                    out [dim * (w->kept * (uint64_t) c + n) + d] = b->x [d * LANES + c];
            n++;
        }
    }
    uint64_t total = 0;
    for (int c = 0; c < used; c++)
        total += accepted [c];
    return (int64_t) total;
}

//  Instances of s_nd_block: 2-D (the dimension a constant, its loops
//  unrolled) and any, each for AVX2 and baseline.
MC_DISPATCH static int64_t
s_nd_block_2 (mc_kcall_t *call, const s_walk_t *w, s_nd_chains_t *b, int used, double *out)
{
    return w->target->log? s_nd_block (call, w, b, used, out, 2, true): s_nd_block (call, w, b, used, out, 2, false);
}

MC_DISPATCH static int64_t
s_nd_block_n (mc_kcall_t *call, const s_walk_t *w, s_nd_chains_t *b, int used, double *out)
{
    return w->target->log? s_nd_block (call, w, b, used, out, w->target->dim, true)
                         : s_nd_block (call, w, b, used, out, w->target->dim, false);
}

//  Chains LANES at a time; chain c uses stream c, as in s_walk_chains.
static int64_t
s_walk_lanes_plugin (mc_kcall_t *call, const s_walk_t *w, double *points)
{
    uint32_t dim = w->target->dim;
    int64_t accepted = 0;
    s_nd_chains_t *b = malloc (sizeof *b);
    if (!b)
        return mc_kcall_error (call, "walker: out of memory");
    for (int64_t first = 0; first < w->walkers && accepted >= 0; first += LANES) {
        int used = w->walkers - first < LANES? (int) (w->walkers - first): LANES;
        for (int c = 0; c < LANES && accepted >= 0; c++) {
            mc_rng_t rng;
            mc_rng_seed (&rng, mc_kcall_seed (call), mc_kcall_index (call), (uint64_t) (first + c));
            double x [MC_TARGET_MAX_DIM], fx;
            if (s_chain_start (call, w, &rng, x, &fx) && c < used)
                accepted = -1;
            call->error [0] = c < used? call->error [0]: 0;     //  an unused lane may start anywhere
            b->s0 [c] = rng.s [0]; b->s1 [c] = rng.s [1]; b->s2 [c] = rng.s [2]; b->s3 [c] = rng.s [3];
            for (uint32_t d = 0; d < dim; d++)
                b->x [d * LANES + c] = x [d];
            b->fx [c] = fx;
        }
        double *out = points + dim * w->kept * (uint64_t) first;
        int64_t got = accepted < 0? -1: dim == 2? s_nd_block_2 (call, w, b, used, out): s_nd_block_n (call, w, b, used, out);
        accepted = got < 0? -1: accepted + got;
    }
    free (b);
    return accepted;
}

//  --------------------------------------------------------------------------
//  walker: its arguments

//  target=NAME into w: a built-in, or "lib.name" of a plugin.
static int
s_walk_target (mc_kcall_t *call, s_walk_t *w)
{
    size_t len;
    w->name = mc_kcall_str (call, "target", &len);
    w->builtin = -1;
    for (int i = 0; i < BUILTIN_TARGETS; i++)
        if (!strcmp (w->name, s_targets [i].name))
            w->builtin = i;
    w->target = w->builtin >= 0? &s_targets [w->builtin]: mc_ktable_find_target (w->name, len);
    if (!w->target)
        return mc_kcall_error (call, "walker: unknown target '%s' (gauss3, ring, banana, or lib.name of a plugin "
                               "loaded with --kernel-path)", w->name);
    return 0;
}

//  params=[...] into *params (allocated; the caller frees it): as many
//  numbers as the target takes.
static int
s_walk_params (mc_kcall_t *call, const s_walk_t *w, double **params)
{
    const mc_kvalue_t *list = mc_kcall_value (call, "params");
    size_t n = mc_kvalue_len (list);
    int32_t want = w->target->nparams;
    if (want == MC_TARGET_ANY_PARAMS? n > MC_TARGET_MAX_PARAMS: n != (size_t) want)
        return mc_kcall_error (call, "walker: target %s takes %s%d params, got %zu", w->name,
                               want == MC_TARGET_ANY_PARAMS? "at most ": "",
                               want == MC_TARGET_ANY_PARAMS? MC_TARGET_MAX_PARAMS: want, n);
    *params = calloc (n + 1, sizeof **params);
    if (!*params)
        return mc_kcall_error (call, "walker: out of memory");
    for (size_t i = 0; i < n; i++)
        if (mc_kvalue_double (mc_kvalue_at (list, i), &(*params) [i]))
            return mc_kcall_error (call, "walker: params must be numbers, params[%zu] is %s", i,
                                   mc_kvalue_type_name (mc_kvalue_at (list, i)));
    return 0;
}

//  start=[...] into w: the target's dimension of numbers, when given.
static int
s_walk_start (mc_kcall_t *call, s_walk_t *w)
{
    const mc_kvalue_t *start = mc_kcall_value (call, "start");
    w->has_start = start != NULL;
    uint32_t dim = w->target->dim;
    if (start && mc_kvalue_len (start) != dim)
        return mc_kcall_error (call, "walker: start must be a list of %u numbers for %s", dim, w->name);
    for (uint32_t d = 0; start && d < dim; d++)
        if (mc_kvalue_double (mc_kvalue_at (start, d), &w->start [d]))
            return mc_kcall_error (call, "walker: start must be a list of %u numbers for %s", dim, w->name);
    return 0;
}

//  The walker's counts and step into w: 0, or -1 with the error set.
static int
s_walk_counts (mc_kcall_t *call, s_walk_t *w)
{
    if (s_count (call, "walker", "walkers", 1, 1000000, &w->walkers)
    ||  s_count (call, "walker", "steps", 1, 1000000000, &w->steps)
    ||  s_count (call, "walker", "burn_in", 0, 1000000000, &w->burn_in)
    ||  s_count (call, "walker", "thin", 1, 1000000000, &w->thin))
        return -1;
    w->step = mc_kcall_double (call, "step");
    if (!(w->step >= 1e-12 && w->step <= 1e6))
        return mc_kcall_error (call, "walker: step must be a number from 1e-12 to 1e+06");
    w->kept = (uint64_t) (w->steps / w->thin);
    return 0;
}

static int
s_walker (mc_kcall_t *call)
{
    s_walk_t w = { 0 };
    double *params = NULL;
    int rc = s_walk_target (call, &w) || s_walk_counts (call, &w) || s_walk_start (call, &w)
          || s_walk_params (call, &w, &params)? -1: 0;
    w.params = params;
    uint64_t shape [2] = { w.kept * (uint64_t) w.walkers, w.target? w.target->dim: 2 };
    double *points = rc? NULL: mc_kcall_out_array (call, MC_KDTYPE_F64, 2, shape);
    //  walkers=K side by side when the target can be vectorised: every way
    //  gives the same bits.
    bool side_by_side = w.walkers > 1 && (w.builtin >= 0 || (w.target && w.target->lanes));
    int64_t accepted = !points? -1: !side_by_side? s_walk_chains (call, &w, points)
                     : w.builtin >= 0? s_walk_lanes (call, &w, points): s_walk_lanes_plugin (call, &w, points);
    free (params);
    if (accepted < 0)
        return -1;
    mc_kcall_meta_double (call, "acceptance", (double) accepted / ((double) w.steps * (double) w.walkers));
    return 0;
}

static const mc_kernel_def_t s_samplers [] = {
    { "pi", "Monte Carlo pi: uniform points of the unit square inside the quarter circle -> {hits, samples} "
      "(points=K: and the first K points, a float64 array K x 2)",
      "item:any=nil * samples:int points:int=0", s_pi },
    { "walker", "Metropolis-Hastings random walk of a target -> the chain after burn-in, a float64 array n x dim "
      "(walkers=K: K chains, chain by chain)",
      "item:any=nil * target:str=gauss3 steps:int params:list=nil start:list=nil burn_in:int=100 step:float=0.1 "
      "thin:int=1 walkers:int=1", s_walker },
};

int
mc_sampler_register (void)
{
    //  The built-in targets are in the table too, so that the engine
    //  describes them with the plugins' (`mcclient kernels`); the walker
    //  still finds them here first.
    for (int i = 0; i < BUILTIN_TARGETS; i++)
        if (mc_ktable_find_target (s_targets [i].name, strlen (s_targets [i].name)) != &s_targets [i]
        &&  mc_ktable_register_target (NULL, &s_targets [i]))
            return -1;
    return mc_ktable_register_all (s_samplers, sizeof s_samplers / sizeof s_samplers [0]);
}

//  --------------------------------------------------------------------------
//  Selftest: pinned bits of pi, the walker's shapes, bad arguments, targets
//  of plugins against the built-ins, and mc_exp's error.

//  gauss3 as a plugin writes it (engine/kernels/examples/mymodel.c), and
//  a 5-D log density with one parameter: a ball of radius params [0].
static double
s_test_gauss3 (const double *x, size_t dim, const double *params)
{
    (void) dim, (void) params;
    return s_gauss3_v (x [0], x [1]);
}

static double
s_test_ball (const double *x, size_t dim, const double *params)
{
    double r2 = 0;
    for (size_t d = 0; d < dim; d++)
        r2 += x [d] * x [d];
    return r2 < params [0] * params [0]? -r2: -INFINITY;
}

//  The result of the walker on kwargs (seed 7) into out; asserts it ran.
static void
s_test_walk (const mc_kernel_def_t *walker, const char *kwargs, char *out, size_t len)
{
    int rc = mc_kcall_try (walker, "[]", kwargs, 7, out, len);
    if (rc)
        printf ("  %s -> %s\n", kwargs, out);
    assert (rc == 0);
}

MC_TARGET_LANES (s_test_gauss3_lanes, s_test_gauss3, 2)
MC_TARGET_LANES (s_test_ball_lanes, s_test_ball, 5)

//  Targets as a plugin "test" would have them: test.gauss3 (with a lanes
//  form), test.gauss3s (without), test.ball, test.ballv (with).
static void
s_test_register (void)
{
    static const mc_target_def_t targets [] = {
        { "gauss3", "", 2, 0, false, s_test_gauss3, s_test_gauss3_lanes }, { "gauss3s", "", 2, 0, false, s_test_gauss3, NULL },
        { "ball", "", 5, 1, true, s_test_ball, NULL }, { "ballv", "", 5, 1, true, s_test_ball, s_test_ball_lanes },
    };
    if (!mc_ktable_find_target ("test.gauss3", 11))
        for (size_t i = 0; i < sizeof targets / sizeof targets [0]; i++)
            assert (mc_ktable_register_target ("test", &targets [i]) == 0);
}

//  A plugin's target gives the built-in's bits, through its pointer, for
//  walkers=1 and walkers=K; chain 0 of walkers=2 is the chain of walkers=1.
static void
s_test_targets (const mc_kernel_def_t *walker, bool verbose)
{
    static char a [65536], b [65536];
    s_test_walk (walker, "{\"steps\": 50}", a, sizeof a);
    s_test_walk (walker, "{\"steps\": 50, \"target\": \"test.gauss3\"}", b, sizeof b);
    assert (!strcmp (a, b));
    s_test_walk (walker, "{\"steps\": 50, \"walkers\": 2}", b, sizeof b);
    assert (!strncmp (a, b, strlen (a) - 1) && b [strlen (a) - 1] == ',');
    s_test_walk (walker, "{\"steps\": 50, \"walkers\": 19, \"thin\": 7, \"target\": \"gauss3\"}", a, sizeof a);
    s_test_walk (walker, "{\"steps\": 50, \"walkers\": 19, \"thin\": 7, \"target\": \"test.gauss3\"}", b, sizeof b);
    assert (!strcmp (a, b));                //  side by side in the plugin's lanes
    s_test_walk (walker, "{\"steps\": 50, \"walkers\": 19, \"thin\": 7, \"target\": \"test.gauss3s\"}", b, sizeof b);
    assert (!strcmp (a, b));                //  one chain after another
    //  A log density in 5-D: side by side or one after another, the same bits.
    s_test_walk (walker, "{\"steps\": 30, \"walkers\": 17, \"target\": \"test.ball\", \"params\": [3]}", a, sizeof a);
    s_test_walk (walker, "{\"steps\": 30, \"walkers\": 17, \"target\": \"test.ballv\", \"params\": [3]}", b, sizeof b);
    assert (!strcmp (a, b));
    //  N-D: 5 coordinates per point, inside the ball.
    s_test_walk (walker, "{\"steps\": 4, \"burn_in\": 0, \"target\": \"test.ball\", \"params\": [2], "
                 "\"start\": [0, 0, 0, 0, 0.5]}", a, sizeof a);
    if (verbose)
        printf ("  test.ball: %.200s\n", a);
    size_t commas = 0;
    for (const char *c = a; *c; c++)
        commas += *c == ',';
    assert (a [0] == '[' && a [1] == '[' && commas == 4 * 4 + 3);
}

//  mc_exp against expl: at most 2 ulp (4.5e-16 relative) over [-708, 0],
//  densely near r = +-ln2/2, where the series is worst.
static void
s_test_exp (bool verbose)
{
    double worst = 0, at = 0;
    for (int k = 0; k < 1022; k++) {
        for (int j = -2000; j <= 2000; j++) {
            double x = -0.6931471805599453 * (k + 0.5) + j * 1e-7;
            if (x > 0 || x < -708)
                continue;
            long double ref = expl ((long double) x);
            double err = (double) fabsl (((long double) mc_exp (x) - ref) / ref);
            if (err > worst)
                worst = err, at = x;
        }
    }
    for (double x = 0; x > -708; x -= 0.0123456789) {
        long double ref = expl ((long double) x);
        double err = (double) fabsl (((long double) mc_exp (x) - ref) / ref);
        if (err > worst)
            worst = err, at = x;
    }
    if (verbose)
        printf ("  mc_exp: worst relative error %.3g at %.17g\n", worst, at);
    assert (worst <= 4.5e-16);
    assert (mc_exp (-708.5) == 0 && mc_exp (0) == 1);
}


void
mc_sampler_test (bool verbose)
{
    printf (" * mc_sampler: ");
    if (verbose)
        printf ("\n");
    const mc_kernel_def_t *pi = &s_samplers [0], *walker = &s_samplers [1];
    s_test_register ();
    struct { const mc_kernel_def_t *def; const char *args, *kwargs, *expect; int rc; } cases [] = {
        //  The same bits as tests/integration/test_samplers.sh pins (item 0, seed 7).
        { pi, "[]", "{\"samples\": 100001}", "{\"hits\":78555,\"samples\":100001}", 0 },
        { pi, "[0]", "{\"samples\": 1e5}", NULL, 0 },
        { pi, "[0, 1]", "{\"samples\": 1}", "pi: takes 1 positional argument (the rest are name=value), got 2", -1 },
        { pi, "[]", "{}", "pi: samples (int) is required", -1 },
        { pi, "[]", "{\"samples\": 0}", "pi: samples must be a whole number from 1 to 1000000000000000, got 0", -1 },
        { pi, "[]", "{\"samples\": 0.5}", "pi: samples must be an integer, got 0.5", -1 },
        { pi, "[]", "{\"samples\": \"x\"}", "pi: samples must be an integer, got string", -1 },
        { pi, "[]", "{\"samples\": 10, \"points\": -1}", "pi: points must be a whole number from 0 to 100000, got -1", -1 },
        { walker, "[]", "{\"steps\": 1, \"thin\": 2}", "[]", 0 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"moon\"}",
          "walker: unknown target 'moon' (gauss3, ring, banana, or lib.name of a plugin loaded with --kernel-path)", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": 1}", "walker: target must be a string, got int", -1 },
        { walker, "[]", "{\"steps\": 3, \"start\": [1]}", "walker: start must be a list of 2 numbers for gauss3", -1 },
        { walker, "[]", "{\"steps\": 3, \"walkers\": 3, \"start\": \"x\"}", "walker: start must be a list, got string", -1 },
        { walker, "[]", "{\"steps\": 3, \"step\": 0}", "walker: step must be a number from 1e-12 to 1e+06", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"ring\", \"start\": [1e6, 0]}",
          "walker: start (1e+06, 0) is outside the support of ring (its density is 0 there)", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"banana\", \"walkers\": 17, \"start\": [1e6, 0]}",
          "walker: start (1e+06, 0) is outside the support of banana (its density is 0 there)", -1 },
        { walker, "[]", "{\"steps\": 3, \"params\": [1]}", "walker: target gauss3 takes 0 params, got 1", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"test.ball\", \"params\": [\"a\"]}",
          "walker: params must be numbers, params[0] is string", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"test.ball\", \"params\": [1, 2]}",
          "walker: target test.ball takes 1 params, got 2", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"test.ball\", \"params\": [1], \"start\": [9, 9, 9, 9, 9]}",
          "walker: start (9, 9, 9, 9, 9) is outside the support of test.ball (its density is 0 there)", -1 },
        { walker, "[]", "{\"steps\": 3, \"target\": \"test.ball\", \"params\": [1], \"start\": [0, 0]}",
          "walker: start must be a list of 5 numbers for test.ball", -1 },
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
    s_test_targets (walker, verbose);
    s_test_exp (verbose);
    printf ("OK\n");
}
