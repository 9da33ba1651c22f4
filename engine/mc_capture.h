/*  mc_capture: what kernels print, kept per task (issue 17 point 5,
    mc_proto.md §3 RESULT). While the engine runs, its file descriptors 1
    and 2 are two memory files (memfd) that only the kernel thread writes
    to (the engine logs to a stream of its own, a copy of the original
    stderr); after each task the kernel thread looks at their offsets (two
    lseek calls, and an fflush of stdout and stderr that costs nothing when
    their buffers are empty), and only when a kernel printed does it read,
    keep at most MC_CAPTURE_KEEP bytes of each (the head and the tail, with
    a note of what was cut between) and empty them. A kernel that prints
    without end is bounded by mc_capture_trim, which the I/O thread calls
    on its heartbeat: it gives back the pages between head and tail. */
#ifndef MC_CAPTURE_H
#define MC_CAPTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_CAPTURE_KEEP (64u << 10)        //  bytes kept of each stream per task
#define MC_CAPTURE_TRIM (4u << 20)         //  a stream past this is trimmed on the next heartbeat

//  What one task printed: NUL-terminated texts (owned), NULL when nothing.
typedef struct {
    char *out, *err;
    uint64_t out_bytes, err_bytes;  //  what it printed in all, kept or not
} mc_capture_t;

//  Point fds 1 and 2 at memory files, after keeping a copy of the
//  originals (close-on-exec). 0, or -1 (nothing changed) when the system
//  has no memfd. Call once, before the kernel thread runs anything.
int mc_capture_start (void);
//  Point fds 1 and 2 back at the originals (at exit, and before the
//  engine executes itself again). Nothing when not started.
void mc_capture_stop (void);
//  A copy of the original stderr for the engine's own log (borrowed), or
//  NULL when not started.
int mc_capture_log_fd (void);
//  After a task, on the kernel thread: true with *got filled when the
//  task printed (mc_capture_free frees it), false when it did not.
bool mc_capture_take (mc_capture_t *got);
void mc_capture_free (mc_capture_t *got);
//  The last lines of what a task printed (at most max bytes, whole lines
//  where it can), one stream after the other, into buf; "" when nothing.
void mc_capture_last_lines (const mc_capture_t *got, size_t lines, char *buf, size_t max);
//  On the I/O thread: give back the middle of a stream past MC_CAPTURE_TRIM.
void mc_capture_trim (void);
void mc_capture_test (bool verbose);
#endif
