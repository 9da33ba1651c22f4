/*  mc_pages: resident memory for arrays written as they arrive. */
#include "mc_pages.h"
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define S_HUGE_PAGE (2 << 20)       //  bytes of a huge page on x86-64 and arm64
#define S_PAGE      4096            //  bytes of a base page

//  Where the kernel gives huge pages on request (numpy asks for them for
//  its arrays too), ask; then fault the pages in with one call, not one
//  fault per page as a copy would take them.
void
mc_pages_warm (char *data, size_t size)
{
    uintptr_t huge = S_HUGE_PAGE, page = S_PAGE;
    uintptr_t from = ((uintptr_t) data + huge - 1) & ~(huge - 1), to = ((uintptr_t) data + size) & ~(huge - 1);
#ifdef MADV_HUGEPAGE
    if (to > from)
        madvise ((void *) from, to - from, MADV_HUGEPAGE);
#endif
    from = ((uintptr_t) data + page - 1) & ~(page - 1);
    to = ((uintptr_t) data + size) & ~(page - 1);
#ifdef MADV_POPULATE_WRITE
    if (to > from && madvise ((void *) from, to - from, MADV_POPULATE_WRITE) == 0)
        return;
#endif
    for (uintptr_t p = from; p < to; p += page)
        *(volatile char *) p = 0;
}

char *
mc_pages_alloc (size_t size)
{
    size_t huge = S_HUGE_PAGE;
    void *data;
    if (size < 2 * huge)
        return malloc (size);
    return posix_memalign (&data, huge, size)? NULL: data;
}

//  --------------------------------------------------------------------------
//  Selftest

void
mc_pages_test (bool verbose)
{
    printf (" * mc_pages: ");
    size_t sizes [] = { 1, S_PAGE + 3, 2 * S_HUGE_PAGE, 2 * S_HUGE_PAGE + 12345 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        char *data = mc_pages_alloc (sizes [i]);
        assert (data);
        if (sizes [i] >= 2 * S_HUGE_PAGE)
            assert ((uintptr_t) data % S_HUGE_PAGE == 0);
        mc_pages_warm (data, sizes [i]);
        memset (data, 0x5a, sizes [i]);                 //  every byte is ours
        assert (data [0] == 0x5a && data [sizes [i] - 1] == 0x5a);
        if (verbose)
            printf ("\n   %zu bytes at %p", sizes [i], (void *) data);
        free (data);
    }
    mc_pages_warm (NULL, 0);                            //  nothing to do
    printf ("%sOK\n", verbose? "\n": "");
}
