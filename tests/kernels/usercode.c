/*  A user's library as test_libraries.sh adds it with `mcclient kernels
    add`: a kernel that prints (what a user debugging a model does), and
    kernels that crash their engine (a bad pointer, an abort), so that the
    output kept per task and the bounded cost of a crashing user kernel
    can be tested. Never add it to a real cluster. */
#include "mc_kernel.h"
#include <stdio.h>
#include <stdlib.h>

//  say text times=1 err=false fail=false: prints text times times (on
//  stderr with err), numbered, then returns times, or fails.
static int
s_say (mc_kcall_t *call)
{
    size_t len;
    const char *text = mc_kcall_str (call, "text", &len);
    int64_t times = mc_kcall_int (call, "times");
    FILE *to = mc_kcall_bool (call, "err")? stderr: stdout;
    for (int64_t i = 0; i < times; i++)
        fprintf (to, "%.*s %lld\n", (int) len, text, (long long) i);
    if (mc_kcall_bool (call, "fail"))
        return mc_kcall_error (call, "say: failed as asked");
    return mc_kcall_out_int (call, times);
}

//  segv item poison=-1: the item, but writes through a null pointer when
//  the item is poison.
static int
s_segv (mc_kcall_t *call)
{
    int64_t item = mc_kcall_int (call, "item");
    if (item == mc_kcall_int (call, "poison")) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
    return mc_kcall_out_int (call, item);
}

//  boom: abort ().
static int
s_boom (mc_kcall_t *call)
{
    (void) call;
    abort ();
}

static const mc_kernel_def_t s_kernels [] = {
    { "say", "prints text times times, numbered (a test kernel)", "text:str times:int=1 err:bool=false fail:bool=false",
      s_say },
    { "segv", "the item, but a segmentation fault for `poison` (a test kernel)", "item:int poison:int=-1", s_segv },
    { "boom", "aborts its engine (a test kernel)", "", s_boom },
};
MC_PLUGIN_KERNELS (s_kernels);
