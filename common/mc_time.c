/*  mc_time: monotonic and wall clocks in microseconds. */
#include "mc_time.h"
#include <assert.h>
#include <stdio.h>
#include <time.h>

int64_t
mc_time_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mc_time_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  --------------------------------------------------------------------------
//  Self test: the monotonic clock never goes back and moves on; the wall
//  clock agrees with time (2).

void
mc_time_test (bool verbose)
{
    if (verbose)
        printf (" * mc_time: ");
    int64_t start = mc_time_mono_us (), last = start;
    //  Spin until a millisecond has passed, or fail after a second's worth of reads.
    for (int i = 0; i < 100000000 && last - start < 1000; i++) {
        int64_t now = mc_time_mono_us ();
        assert (now >= last);
        last = now;
    }
    assert (last - start >= 1000);
    int64_t wall = mc_time_wall_us ();
    time_t seconds = time (NULL);
    assert (wall / 1000000 >= (int64_t) seconds - 1 && wall / 1000000 <= (int64_t) seconds + 1);
    assert (wall > 1600000000LL * 1000000);                 //  after 2020
    if (verbose)
        printf ("OK\n");
}
