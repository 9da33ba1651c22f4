/*  mc_log: one-line log records to stderr (or a file), with a level.
    Every program logs through here so that a daemon's log reads the same
    as a test's console. */
#ifndef MC_LOG_H
#define MC_LOG_H
#include <stdbool.h>
#include <stdio.h>

typedef enum { MC_LOG_ERROR = 0, MC_LOG_WARN, MC_LOG_INFO, MC_LOG_DEBUG } mc_log_level_t;

//  Set the program name shown in each record and the highest level written.
void mc_log_init (const char *program, mc_log_level_t level);
//  Send records to this stream (borrowed; stderr when NULL).
void mc_log_set_stream (FILE *stream);
mc_log_level_t mc_log_level (void);
void mc_log (mc_log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#define mc_error(...) mc_log (MC_LOG_ERROR, __VA_ARGS__)
#define mc_warn(...)  mc_log (MC_LOG_WARN, __VA_ARGS__)
#define mc_info(...)  do { if (mc_log_level () >= MC_LOG_INFO) mc_log (MC_LOG_INFO, __VA_ARGS__); } while (0)
#define mc_debug(...) do { if (mc_log_level () >= MC_LOG_DEBUG) mc_log (MC_LOG_DEBUG, __VA_ARGS__); } while (0)

//  Self test: levels and the record format (restores the defaults after).
void mc_log_test (bool verbose);
#endif
