/*  mc_pages: memory for large arrays that libmcclient writes as they
    arrive (streamed chunks, gathered parts), made resident before it is
    written. Fresh pages cost more than the copy into them: 80 MB fault in
    at about 4 GB/s, and much slower where a virtual machine's host has
    taken them back (free page reporting). */
#ifndef MC_PAGES_H
#define MC_PAGES_H
#include <stdbool.h>
#include <stddef.h>

//  A block of `size` bytes that free() releases, or NULL; a large one is
//  aligned to huge pages, so that mc_pages_warm can have it all in them.
char *mc_pages_alloc (size_t size);
//  Make [data, data + size) resident before it is written: in huge pages
//  where the kernel gives them on request, in one call where it can.
void mc_pages_warm (char *data, size_t size);
//  Self test: blocks small and large, aligned and writable.
void mc_pages_test (bool verbose);
#endif
