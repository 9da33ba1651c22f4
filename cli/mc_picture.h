/*  mc_picture: 2-D histograms as pictures, a PNG file (libpng) or Unicode
    blocks on a terminal. Counts are rows of y bins from the bottom, like
    imshow (..., origin="lower"): row 0 is drawn at the bottom. */
#ifndef MC_PICTURE_H
#define MC_PICTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

//  Write counts (rows x cols, row-major) as a PNG heatmap, each bin a
//  square of `scale` pixels. 0, or -1 with err naming the file.
int mc_picture_png (const char *path, const int64_t *counts, size_t rows, size_t cols, int scale,
                    char *err, size_t errlen);
//  Draw counts on a terminal: two bins per character cell (upper half
//  block), 24-bit colour.
void mc_picture_show (FILE *out, const int64_t *counts, size_t rows, size_t cols);
//  Self test: colours, a PNG file, terminal cells.
void mc_picture_test (bool verbose);
#endif
