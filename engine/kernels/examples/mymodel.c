/*  An example of walker targets in a shared object: a user's own model.
    Build it (CMake does: build/kernels/mymodel.so), start engines with
    `--kernel-path build/kernels`, and walk it:

        mcclient map walker --tasks 10 target=mymodel.gauss3 steps=1e6 \
            --reduce hist2d --png g.png
        mcclient map walker --tasks 10 target=mymodel.banana2 'params=[1,100]' \
            steps=1e6 --reduce hist2d --coords 0,3 --range -2:3,-1:9

    A target is a plain C function of a point x (dim coordinates) and the
    job's params=[...]: a density (or, with log true, its logarithm), 0
    (-INFINITY) outside the support. Compile with -O3 -ffp-contract=off
    -fno-trapping-math (engine/CMakeLists.txt does), -shared -fPIC. Use mc_exp from mc_kernel.h rather
    than libm's exp: it gives the same bits on every machine, and the
    built-in targets use it, so mymodel.gauss3 gives the very bits of the
    built-in gauss3 for the same seed. */
#include "mc_kernel.h"
#include <math.h>

//  The seed notebook's three Gaussian bumps on the plane (no parameters):
//  the built-in gauss3, written as a user writes it.
static double
s_gauss3 (const double *x, size_t dim, const double *params)
{
    (void) dim, (void) params;
    double u0 = (0.5 - x [0]) / 0.15, v0 = (0.2 - x [1]) / 0.04;
    double u1 = (0.7 - x [0]) / 0.05, v1 = (0.7 - x [1]) / 0.05;
    double u2 = (0.3 - x [0]) / 0.05, v2 = (0.7 - x [1]) / 0.07;
    return mc_exp (-(u0 * u0 + v0 * v0) / 2) + mc_exp (-(u1 * u1 + v1 * v1) / 2)
         + mc_exp (-(u2 * u2 + v2 * v2) / 2);
}

//  Rosenbrock's function in dim dimensions as a log density, with
//  params [a, b]: -sum ((a - x_i)^2 + b (x_{i+1} - x_i^2)^2) / 20.
static double
s_banana (const double *x, size_t dim, const double *params)
{
    double a = params [0], b = params [1], sum = 0;
    for (size_t i = 0; i + 1 < dim; i++) {
        double p = a - x [i], q = x [i + 1] - x [i] * x [i];
        sum += p * p + b * q * q;
    }
    return -sum / 20;
}

//  Optional: each density at 16 points at once, so that walkers=K runs its
//  chains side by side, vectorised as the built-ins do (same bits).
MC_TARGET_LANES (s_gauss3_lanes, s_gauss3, 2)
MC_TARGET_LANES (s_banana_lanes, s_banana, 4)

static const mc_target_def_t s_targets [] = {
    { "gauss3", "three Gaussians on the plane (the built-in gauss3, as a user target)", 2, 0, false, s_gauss3,
      s_gauss3_lanes },
    { "banana2", "Rosenbrock's banana in 4-D, log density, params [a, b]", 4, 2, true, s_banana, s_banana_lanes },
};

MC_PLUGIN_TARGETS (s_targets);
