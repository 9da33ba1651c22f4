/*  Kernels for the integration tests, in a shared object loaded with
    `--kernel-path build/test-kernels` (kept apart from the example kernels,
    whose list test_kernels.sh checks). They misbehave on purpose, and
    deterministically, so that the controller's answers to a kernel that
    kills its engine or fails a few times can be tested (mc_proto.md §5,
    "Retries") or an abort of a kernel that ignores its cancel flag (§6,
    "abort"). Never load them on a real cluster. */
#include "mc_kernel.h"
#include <signal.h>
#include <time.h>
#include <unistd.h>

//  crash item poison=N: kills its own engine (SIGKILL: no core, no goodbye)
//  when the item is N; else returns the item.
static int
s_crash (mc_kcall_t *call)
{
    int64_t item = mc_kcall_int (call, "item");
    if (item == mc_kcall_int (call, "poison"))
        kill (getpid (), SIGKILL);
    return mc_kcall_out_int (call, item);
}

//  flaky n fails=K: fails the first K calls for n in this engine process
//  (n mod 64), then returns n. One engine, so one count: deterministic.
//  With pid=P, only the engine whose process is P fails (the others
//  return n at once): a failure tied to one engine, for retries elsewhere.
static int
s_flaky (mc_kcall_t *call)
{
    static int64_t calls [64];
    int64_t n = mc_kcall_int (call, "n");
    if (n < 0)
        return mc_kcall_error (call, "flaky: expected a non-negative integer");
    int64_t pid = mc_kcall_int (call, "pid");
    if (pid > 0 && pid != (int64_t) getpid ())
        return mc_kcall_out_int (call, n);
    int64_t fails = mc_kcall_int (call, "fails");
    int64_t call_number = ++calls [n % 64];
    if (call_number <= fails)
        return mc_kcall_error (call, "flaky: call %lld of %lld for %lld fails", (long long) call_number,
                               (long long) fails, (long long) n);
    return mc_kcall_out_int (call, n);
}

//  stubborn ms: sleeps ms milliseconds and never looks at its cancel flag,
//  as a kernel stuck in a library call would not.
static int
s_stubborn (mc_kcall_t *call)
{
    int64_t ms = mc_kcall_int (call, "ms");
    if (ms < 0)
        return mc_kcall_error (call, "stubborn: expected milliseconds");
    struct timespec left = { ms / 1000, ms % 1000 * 1000000 };
    while (nanosleep (&left, &left))
        ;
    return mc_kcall_out_nil (call);
}

static const mc_kernel_def_t s_kernels [] = {
    { "crash", "the item, but kills its engine when it is `poison` (a test kernel)", "item:int poison:int=-1", s_crash },
    { "flaky", "fails its first `fails` calls for n on an engine (only on process `pid` if given), then returns n (a test kernel)",
      "n:int fails:int=1 pid:int=0", s_flaky },
    { "stubborn", "sleeps ms milliseconds, ignoring its cancel flag (a test kernel)", "ms:int", s_stubborn },
};

MC_PLUGIN_KERNELS (s_kernels);
