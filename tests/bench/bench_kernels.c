/*  Speed of the sampler kernels on one core, against naive scalar C loops
    measured in the same run (so the ratio holds on a noisy machine), and of
    the walker on a user's target from a plugin (mymodel.gauss3 of
    engine/kernels/examples) against the built-in gauss3, round by round.
    Prints JSON: medians of 5 rounds.
    Usage: bench_kernels [--walker-only] [PLUGIN_DIR (default: kernels beside tests/)] */
#include "mc_kcall.h"
#include "mc_ktable.h"
#include "mc_rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

//  Call a kernel with one or two numeric keyword arguments; returns seconds.
static double
s_call2 (const char *name, const char *key, double value, const char *key2, double value2)
{
    const mc_kernel_def_t *def = mc_ktable_find (name, strlen (name));
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object_kv kv [2];
    const char *keys [2] = { key, key2 };
    double values [2] = { value, value2 };
    for (int i = 0; i < 2; i++) {
        kv [i].key.type = MSGPACK_OBJECT_STR;
        kv [i].key.via.str.ptr = keys [i];
        kv [i].key.via.str.size = keys [i]? (uint32_t) strlen (keys [i]): 0;
        kv [i].val.type = MSGPACK_OBJECT_FLOAT64;
        kv [i].val.via.f64 = values [i];
    }
    msgpack_object kwargs = { .type = MSGPACK_OBJECT_MAP, .via.map = { key2? 2: 1, kv } };
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    zlist_t *frames = zlist_new ();
    mc_kcall_t call = { .kwargs = &kwargs, .out = &pk, .out_frames = frames, .seed = 7 };
    double t0 = bench_now ();
    if (mc_kcall_invoke (&call, def, mc_ktable_args (def)))
        fprintf (stderr, "%s: %s\n", name, call.error);
    double t = bench_now () - t0;
    zframe_t *f;
    while ((f = zlist_pop (frames)))
        zframe_destroy (&f);
    zlist_destroy (&frames);
    msgpack_sbuffer_destroy (&out);
    msgpack_zone_destroy (&zone);
    return t;
}

//  The walker on target with walkers chains of steps steps: seconds.
static double
s_walk (const char *target, int walkers, int steps)
{
    const mc_kernel_def_t *def = mc_ktable_find ("walker", 6);
    char json [256];
    snprintf (json, sizeof json, "{\"target\": \"%s\", \"walkers\": %d, \"steps\": %d}", target, walkers, steps);
    msgpack_sbuffer in, out;
    msgpack_sbuffer_init (&in);
    msgpack_sbuffer_init (&out);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object kwargs = mc_kcall_test_value (json, &in, &zone);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    zlist_t *frames = zlist_new ();
    mc_kcall_t call = { .kwargs = &kwargs, .out = &pk, .out_frames = frames, .seed = 7 };
    double t0 = bench_now ();
    if (mc_kcall_invoke (&call, def, mc_ktable_args (def)))
        fprintf (stderr, "walker %s: %s\n", target, call.error);
    double t = bench_now () - t0;
    zframe_t *f;
    while ((f = zlist_pop (frames)))
        zframe_destroy (&f);
    zlist_destroy (&frames);
    msgpack_sbuffer_destroy (&in);
    msgpack_sbuffer_destroy (&out);
    msgpack_zone_destroy (&zone);
    return t;
}

static double
s_call (const char *name, const char *key, double value)
{
    return s_call2 (name, key, value, NULL, 0);
}

//  The textbook loop: two uniform doubles per sample from one stream.
static double
s_naive_pi (uint64_t n)
{
    mc_rng_t rng;
    mc_rng_seed (&rng, 7, 0, 0);
    uint64_t hits = 0;
    double t0 = bench_now ();
    for (uint64_t i = 0; i < n; i++) {
        double x = mc_rng_uniform (&rng), y = mc_rng_uniform (&rng);
        hits += x * x + y * y < 1.0;
    }
    double t = bench_now () - t0;
    if (hits == 0)
        printf ("?");
    return t;
}

//  The textbook walker: libm exp, one chain.
static double
s_naive_walker (uint64_t steps)
{
    static const double c [3][4] = { { 0.5, 0.2, 0.15, 0.04 }, { 0.7, 0.7, 0.05, 0.05 }, { 0.3, 0.7, 0.05, 0.07 } };
    mc_rng_t rng;
    mc_rng_seed (&rng, 7, 0, 0);
    double x = 0.5, y = 0.5, fx = 0;
    double *out = malloc (steps * 2 * sizeof *out);
    double t0 = bench_now ();
    for (uint64_t i = 0; i < steps; i++) {
        double nx = x + 0.1 * (2 * mc_rng_uniform (&rng) - 1), ny = y + 0.1 * (2 * mc_rng_uniform (&rng) - 1);
        double fn = 0;
        for (int k = 0; k < 3; k++) {
            double u = (c [k][0] - nx) / c [k][2], v = (c [k][1] - ny) / c [k][3];
            fn += exp (-(u * u + v * v) / 2);
        }
        if (fn >= fx || mc_rng_uniform (&rng) * fx < fn)
            x = nx, y = ny, fx = fn;
        out [2 * i] = x;
        out [2 * i + 1] = y;
    }
    double t = bench_now () - t0;
    free (out);
    return t;
}

//  Built-in gauss3 against mymodel.gauss3, one chain and 64, alternating
//  round by round; prints the JSON fields (without braces).
static void
s_user_targets (const char *dir)
{
    char path [4096], err [1024];
    snprintf (path, sizeof path, "%s/mymodel.so", dir);
    if (mc_ktable_load (path, err, sizeof err)) {
        printf ("\"user_target\": \"%s\"", err);
        return;
    }
    double b1 [5], u1 [5], b64 [5], u64 [5];
    int steps = 5000000;
    for (int r = 0; r < 5; r++) {
        b1 [r] = steps / s_walk ("gauss3", 1, steps) / 1e6;
        u1 [r] = steps / s_walk ("mymodel.gauss3", 1, steps) / 1e6;
        b64 [r] = 64.0 * 100000 / s_walk ("gauss3", 64, 100000) / 1e6;
        u64 [r] = 64.0 * 100000 / s_walk ("mymodel.gauss3", 64, 100000) / 1e6;
    }
    qsort (b1, 5, sizeof (double), bench_cmp);
    qsort (u1, 5, sizeof (double), bench_cmp);
    qsort (b64, 5, sizeof (double), bench_cmp);
    qsort (u64, 5, sizeof (double), bench_cmp);
    printf ("\"gauss3_msteps_per_s_median\": %.1f, \"user_gauss3_msteps_per_s_median\": %.1f, "
            "\"user_vs_builtin_walkers1\": %.3f, \"gauss3_walkers64_msteps_per_s_median\": %.1f, "
            "\"user_gauss3_walkers64_msteps_per_s_median\": %.1f, \"user_vs_builtin_walkers64\": %.3f",
            b1 [2], u1 [2], u1 [2] / b1 [2], b64 [2], u64 [2], u64 [2] / b64 [2]);
}

int
main (int argc, char *argv [])
{
    mc_sampler_register ();
    bool walker_only = argc > 1 && !strcmp (argv [1], "--walker-only");
    const char *dir = argc > 1 + walker_only? argv [1 + walker_only]: "kernels";
    if (walker_only) {
        printf ("{");
        s_user_targets (dir);
        printf ("}\n");
        return 0;
    }
    double pi [5], npi [5], walk [5], nwalk [5], multi [5];
    uint64_t samples = 1000000000, steps = 20000000;
    for (int r = 0; r < 5; r++) {
        pi [r] = samples / s_call ("pi", "samples", (double) samples) / 1e9;
        npi [r] = samples / 10 / s_naive_pi (samples / 10) / 1e9;
        walk [r] = steps / s_call ("walker", "steps", (double) steps) / 1e6;
        nwalk [r] = steps / s_naive_walker (steps) / 1e6;
        multi [r] = 64.0 * 300000 / s_call2 ("walker", "walkers", 64, "steps", 300000) / 1e6;
    }
    qsort (pi, 5, sizeof (double), bench_cmp);
    qsort (npi, 5, sizeof (double), bench_cmp);
    qsort (walk, 5, sizeof (double), bench_cmp);
    qsort (nwalk, 5, sizeof (double), bench_cmp);
    qsort (multi, 5, sizeof (double), bench_cmp);
    printf ("{\"pi_gsamples_per_s_median\": %.2f, \"naive_pi_gsamples_per_s_median\": %.2f, "
            "\"walker_msteps_per_s_median\": %.1f, \"naive_walker_msteps_per_s_median\": %.1f, "
            "\"walkers64_msteps_per_s_median\": %.1f, \"avx2\": %s, ", pi [2], npi [2], walk [2], nwalk [2], multi [2],
            __builtin_cpu_supports ("avx2")? "true": "false");
    s_user_targets (dir);
    printf ("}\n");
    return 0;
}
