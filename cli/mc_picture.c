/*  mc_picture: a viridis-like colour map, PNG output and terminal output. */
#include "mc_picture.h"
#include <assert.h>
#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Colour of t in [0, 1]: interpolated between five points of viridis.
static void
s_colour (double t, uint8_t rgb [3])
{
    static const uint8_t stops [5][3] = {
        { 68, 1, 84 }, { 59, 82, 139 }, { 33, 145, 140 }, { 94, 201, 98 }, { 253, 231, 37 } };
    if (!(t > 0))
        t = 0;
    if (t > 1)
        t = 1;
    double x = t * 4;
    int i = (int) x;
    if (i > 3)
        i = 3;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb [c] = (uint8_t) (stops [i][c] + f * (stops [i + 1][c] - stops [i][c]) + 0.5);
}

static int64_t
s_max (const int64_t *counts, size_t n)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (counts [i] > max)
            max = counts [i];
    return max;
}

int
mc_picture_png (const char *path, const int64_t *counts, size_t rows, size_t cols, int scale,
                char *err, size_t errlen)
{
    FILE *file = fopen (path, "wb");
    if (!file) {
        snprintf (err, errlen, "cannot write '%s': %s", path, strerror (errno));
        return -1;
    }
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png): NULL;
    size_t width = cols * (size_t) scale;
    uint8_t *line = malloc (width * 3 + 1);
    if (!png || !info || !line || setjmp (png_jmpbuf (png))) {
        snprintf (err, errlen, "cannot write '%s': libpng failed", path);
        png_destroy_write_struct (&png, &info);
        free (line);
        fclose (file);
        return -1;
    }
    png_init_io (png, file);
    png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) (rows * (size_t) scale), 8, PNG_COLOR_TYPE_RGB,
                  PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info (png, info);
    double max = (double) s_max (counts, rows * cols);
    //  PNG rows go top down; histogram row 0 is the bottom.
    for (size_t r = rows; r-- > 0; ) {
        for (size_t c = 0; c < cols; c++) {
            uint8_t rgb [3];
            s_colour (max > 0? counts [r * cols + c] / max: 0, rgb);
            for (int k = 0; k < scale; k++)
                memcpy (line + 3 * (c * (size_t) scale + (size_t) k), rgb, 3);
        }
        for (int k = 0; k < scale; k++)
            png_write_row (png, line);
    }
    png_write_end (png, NULL);
    png_destroy_write_struct (&png, &info);
    free (line);
    if (fclose (file)) {
        snprintf (err, errlen, "cannot write '%s': %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

void
mc_picture_show (FILE *out, const int64_t *counts, size_t rows, size_t cols)
{
    double max = (double) s_max (counts, rows * cols);
    //  Each text line shows two histogram rows: the upper one as the
    //  foreground of an upper half block, the lower one as its background.
    for (size_t top = rows; top > 0; top -= top >= 2? 2: 1) {
        size_t upper = top - 1;
        for (size_t c = 0; c < cols; c++) {
            uint8_t fg [3], bg [3] = { 0, 0, 0 };
            s_colour (max > 0? counts [upper * cols + c] / max: 0, fg);
            if (upper > 0)
                s_colour (max > 0? counts [(upper - 1) * cols + c] / max: 0, bg);
            fprintf (out, "\033[38;2;%d;%d;%dm\033[48;2;%d;%d;%dm\u2580", fg [0], fg [1], fg [2], bg [0], bg [1], bg [2]);
        }
        fprintf (out, "\033[0m\n");
        if (top < 2)
            break;
    }
}

//  --------------------------------------------------------------------------
//  Selftest

void
mc_picture_test (bool verbose)
{
    printf (" * mc_picture: ");
    uint8_t rgb [3];
    s_colour (0, rgb);
    assert (rgb [0] == 68 && rgb [1] == 1 && rgb [2] == 84);
    s_colour (2, rgb);                                  //  clamped to 1
    assert (rgb [0] == 253 && rgb [1] == 231 && rgb [2] == 37);
    s_colour (0.5, rgb);
    assert (rgb [0] == 33 && rgb [1] == 145 && rgb [2] == 140);
    //  3 rows of 2: a PNG of 6 x 9 pixels at scale 3.
    const int64_t counts [] = { 0, 1, 2, 3, 4, 5 };
    char path [] = "/tmp/mc-picture-test.XXXXXX", err [256];
    int fd = mkstemp (path);
    assert (fd >= 0);
    close (fd);
    assert (mc_picture_png (path, counts, 3, 2, 3, err, sizeof err) == 0);
    FILE *file = fopen (path, "rb");
    uint8_t head [24];
    assert (file && fread (head, 1, sizeof head, file) == sizeof head);
    fclose (file);
    unlink (path);
    assert (!memcmp (head, "\x89PNG\r\n\x1a\n", 8));
    assert (head [19] == 6 && head [23] == 9);          //  IHDR width and height
    assert (mc_picture_png ("/nonexistent/dir/x.png", counts, 3, 2, 3, err, sizeof err) == -1);
    assert (strstr (err, "cannot write"));
    //  On a terminal: 3 rows take two lines of 2 cells.
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert (out);
    mc_picture_show (out, counts, 3, 2);
    fclose (out);
    size_t lines = 0, cells = 0;
    for (const char *p = text; (p = strstr (p, "\u2580")); p++)
        cells++;
    for (const char *p = text; (p = strstr (p, "\033[0m\n")); p++)
        lines++;
    if (verbose)
        printf ("\n%s", text);
    assert (cells == 4 && lines == 2);
    free (text);
    printf ("OK\n");
}
