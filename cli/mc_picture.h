/*  mc_picture: pictures a scientist can read, drawn with cairo. A 2-D
    histogram as a heat map with axes, ticks, a colour bar and a title; the
    Monte Carlo pi picture (sampled points in the unit square with the
    quarter circle, and the running estimate); and a heat map on a
    terminal in Unicode half blocks. Files are PNG, SVG or PDF, chosen by
    the extension of their name. Counts are rows of y bins from the bottom,
    like imshow (..., origin="lower"): row 0 is drawn at the bottom. */
#ifndef MC_PICTURE_H
#define MC_PICTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

//  What a heat map shows besides its counts (all borrowed).
typedef struct {
    const char *title;              //  one line: what was sampled; NULL for none
    double box [4];                 //  x0, x1, y0, y1: the range the bins cover
    bool log;                       //  colours by log10 (1 + count), not by count
} mc_picture_axes_t;

//  What the pi picture shows (all borrowed).
typedef struct {
    const char *title;              //  one line; NULL for none
    const double *points;           //  x, y pairs in the unit square
    size_t npoints;
    const int64_t *hits, *samples;  //  per task, in task order: the running estimate
    size_t ntasks;
} mc_picture_pi_t;

//  0 when path ends in .png, .svg or .pdf (any case), else -1 with err
//  naming the file.
int mc_picture_format_ok (const char *path, char *err, size_t errlen);
//  Write counts (rows x cols, row-major) as a heat map with axes and a
//  colour bar. 0, or -1 with err naming the file.
int mc_picture_heatmap (const char *path, const int64_t *counts, size_t rows, size_t cols,
                        const mc_picture_axes_t *axes, char *err, size_t errlen);
//  Write the pi picture. 0, or -1 with err naming the file.
int mc_picture_pi (const char *path, const mc_picture_pi_t *pi, char *err, size_t errlen);
//  Draw counts on a terminal `width` characters wide: two bins per
//  character cell (upper half block), 24-bit colour, bins summed or
//  repeated to fit, with the range at the edges and a colour scale below.
void mc_picture_show (FILE *out, const int64_t *counts, size_t rows, size_t cols, const mc_picture_axes_t *axes,
                      int width);
//  The width of the terminal out writes to (TIOCGWINSZ), else $COLUMNS,
//  else 80.
int mc_picture_width (FILE *out);
//  Self test: colours, ticks, a file of each format, a refused extension,
//  terminal cells.
void mc_picture_test (bool verbose);
#endif
