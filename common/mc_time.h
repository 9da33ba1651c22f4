/*  mc_time: the two clocks we use. Monotonic for deadlines and durations,
    wall clock for what users read (submitted/finished times). */
#ifndef MC_TIME_H
#define MC_TIME_H
#include <stdbool.h>
#include <stdint.h>

//  Monotonic time in microseconds (never jumps; only differences matter).
int64_t mc_time_mono_us (void);
//  Wall-clock time in microseconds since the Unix epoch.
int64_t mc_time_wall_us (void);
//  Self test: both clocks move, and only forward where they must.
void mc_time_test (bool verbose);
#endif
