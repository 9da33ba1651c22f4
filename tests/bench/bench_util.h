/*  Timing and summaries shared by the C benchmarks. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <stdlib.h>
#include <time.h>

static inline double
bench_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int
bench_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

//  The p-th percentile (0..100, nearest rank) of v [0 .. n-1]; sorts v.
static inline double
bench_percentile (double *v, int n, double p)
{
    qsort (v, (size_t) n, sizeof *v, bench_cmp);
    int rank = (int) (p / 100 * n + 0.999999);
    return v [rank < 1? 0: rank > n? n - 1: rank - 1];
}

//  The median of v [0 .. n-1]; sorts v.
static inline double
bench_median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, bench_cmp);
    return n % 2? v [n / 2]: (v [n / 2 - 1] + v [n / 2]) / 2;
}
#endif
