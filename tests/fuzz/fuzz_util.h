/*  What the fuzz targets share: the input as a NUL-terminated string, or
    written to a file for the readers that take a path. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A NUL-terminated copy of the input (the caller frees it).
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (text) {
        memcpy (text, data, size);
        text [size] = 0;
    }
    return text;
}

//  The input written to a file of this process's own; its path (static).
static inline const char *
fuzz_file (const uint8_t *data, size_t size)
{
    static char path [64];
    if (!path [0])
        snprintf (path, sizeof path, "/tmp/mc_fuzz.%d", (int) getpid ());
    FILE *file = fopen (path, "wb");
    if (!file)
        abort ();
    if (size && fwrite (data, 1, size, file) != size)
        abort ();
    fclose (file);
    return path;
}
#endif
