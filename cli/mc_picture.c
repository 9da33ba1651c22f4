/*  mc_picture: heat maps and the pi picture with cairo (axes, ticks, colour
    bar, title; PNG, SVG or PDF by the file's extension), and heat maps on
    a terminal. */
#include "mc_picture.h"
#include <assert.h>
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define S_FONT "DejaVu Sans"        //  fonts-dejavu-core; fontconfig finds a stand-in without it

#if defined(__SANITIZE_ADDRESS__)
//  Fontconfig (under cairo's text) loses a few hundred bytes once, when it
//  first reads its configuration: not ours to fix, so LeakSanitizer is told.
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
    return "leak:libfontconfig.so\n";
}
const char *__lsan_default_options (void);
const char *
__lsan_default_options (void)
{
    return "print_suppressions=0";
}
#endif

//  --------------------------------------------------------------------------
//  Colours and ticks

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

//  Where a count sits on the colour scale of counts up to max: 0 to 1.
static double
s_scale (double count, double max, bool log)
{
    if (!(max > 0))
        return 0;
    return log? log10 (1 + count) / log10 (1 + max): count / max;
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

//  Round ticks (1, 2 or 5 times a power of ten apart) inside [lo, hi],
//  about `want` of them, at most max. Returns how many, and their step.
static int
s_ticks (double lo, double hi, int want, double *ticks, int max, double *step_p)
{
    double raw = (hi - lo) / want;
    double power = pow (10, floor (log10 (raw)));
    double step = raw / power < 1.5? power: raw / power < 3.5? 2 * power: raw / power < 7.5? 5 * power: 10 * power;
    int n = 0;
    for (double k = ceil (lo / step - 1e-9); n < max && k * step <= hi + step * 1e-9; k++)
        ticks [n++] = fabs (k * step) < step * 1e-9? 0: k * step;
    *step_p = step;
    return n;
}

//  A tick's label with as many decimals as its step needs.
static void
s_tick_label (double value, double step, char *buf, size_t size)
{
    if (fabs (value) >= 1e6 || (value != 0 && fabs (value) < 1e-4)) {
        snprintf (buf, size, "%.3g", value);
        return;
    }
    int decimals = step >= 1? 0: (int) ceil (-log10 (step) - 1e-9);
    snprintf (buf, size, "%.*f", decimals > 9? 9: decimals, value);
}

//  --------------------------------------------------------------------------
//  Files: a cairo surface that writes to the file, its format by the name

typedef enum { S_PNG, S_SVG, S_PDF } s_format_t;

static int
s_format (const char *path, s_format_t *format, char *err, size_t errlen)
{
    const char *dot = strrchr (path, '.');
    if (dot && strchr (dot, '/'))
        dot = NULL;
    if (dot && !strcasecmp (dot, ".png"))
        *format = S_PNG;
    else
    if (dot && !strcasecmp (dot, ".svg"))
        *format = S_SVG;
    else
    if (dot && !strcasecmp (dot, ".pdf"))
        *format = S_PDF;
    else {
        snprintf (err, errlen, "cannot write '%s': a picture's name must end in .png, .svg or .pdf", path);
        return -1;
    }
    return 0;
}

int
mc_picture_format_ok (const char *path, char *err, size_t errlen)
{
    s_format_t format;
    return s_format (path, &format, err, errlen);
}

//  A picture being drawn: cairo writes into `stream` (the file, or for SVG
//  a buffer that gets a <title> before it goes to the file).
typedef struct {
    s_format_t format;
    const char *path, *title;
    FILE *file, *stream;
    char *svg;                      //  SVG: the buffer of stream
    size_t svg_size;
    int error;                      //  errno of a failed write
    cairo_surface_t *surface;
    cairo_t *cr;
    char *err;
    size_t errlen;
} s_canvas_t;

static cairo_status_t
s_write (void *closure, const unsigned char *data, unsigned int length)
{
    s_canvas_t *c = closure;
    if (fwrite (data, 1, length, c->stream) != length) {
        c->error = errno? errno: EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

//  Start a picture of width x height (pixels for PNG, points for SVG and
//  PDF) on a white background. 0, or -1 with the error said in c->err.
static int
s_canvas_open (s_canvas_t *c, const char *path, const char *title, double width, double height, char *err,
               size_t errlen)
{
    *c = (s_canvas_t) { .path = path, .title = title, .err = err, .errlen = errlen };
    if (s_format (path, &c->format, err, errlen))
        return -1;
    c->file = fopen (path, "wb");
    if (!c->file) {
        snprintf (err, errlen, "cannot write '%s': %s", path, strerror (errno));
        return -1;
    }
    c->stream = c->format == S_SVG? open_memstream (&c->svg, &c->svg_size): c->file;
    if (c->stream && c->format == S_PNG)
        c->surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) width, (int) height);
    else
    if (c->stream && c->format == S_SVG)
        c->surface = cairo_svg_surface_create_for_stream (s_write, c, width, height);
    else
    if (c->stream) {
        c->surface = cairo_pdf_surface_create_for_stream (s_write, c, width, height);
        cairo_pdf_surface_set_metadata (c->surface, CAIRO_PDF_METADATA_TITLE, title? title: "");
        cairo_pdf_surface_set_metadata (c->surface, CAIRO_PDF_METADATA_CREATOR, "mccluster");
    }
    c->cr = c->surface? cairo_create (c->surface): NULL;
    if (!c->cr || cairo_status (c->cr)) {
        snprintf (err, errlen, "cannot write '%s': cairo cannot draw (out of memory?)", path);
        if (c->cr)
            cairo_destroy (c->cr);
        if (c->surface)
            cairo_surface_destroy (c->surface);
        if (c->stream && c->stream != c->file)
            fclose (c->stream);
        free (c->svg);
        fclose (c->file);
        return -1;
    }
    cairo_set_source_rgb (c->cr, 1, 1, 1);
    cairo_paint (c->cr);
    cairo_select_font_face (c->cr, S_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return 0;
}

//  Text escaped for XML into out.
static void
s_xml_text (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        if (*p == '<')
            fputs ("&lt;", out);
        else
        if (*p == '>')
            fputs ("&gt;", out);
        else
        if (*p == '&')
            fputs ("&amp;", out);
        else
            fputc (*p, out);
}

//  Finish the picture and close its file. 0, or -1 with the error said.
static int
s_canvas_close (s_canvas_t *c)
{
    cairo_status_t status = cairo_status (c->cr);
    cairo_destroy (c->cr);
    if (c->format == S_PNG && !status)
        status = cairo_surface_write_to_png_stream (c->surface, s_write, c);
    cairo_surface_finish (c->surface);
    if (!status)
        status = cairo_surface_status (c->surface);
    cairo_surface_destroy (c->surface);
    int rc = status? -1: 0;
    if (c->format == S_SVG) {
        //  An SVG's text is glyph outlines: a <title> says in words what it shows.
        if (fclose (c->stream))
            rc = -1;
        const char *svg = c->svg? strstr (c->svg, "<svg"): NULL;
        const char *end = svg? strchr (svg, '>'): NULL;
        if (rc == 0 && end) {
            fwrite (c->svg, 1, (size_t) (end + 1 - c->svg), c->file);
            fputs ("\n<title>", c->file);
            s_xml_text (c->file, c->title? c->title: "");
            fputs ("</title>", c->file);
            fwrite (end + 1, 1, c->svg_size - (size_t) (end + 1 - c->svg), c->file);
        }
        else
        if (rc == 0)
            fwrite (c->svg, 1, c->svg_size, c->file);
        free (c->svg);
        if (ferror (c->file) && !c->error)
            c->error = errno? errno: EIO;
    }
    if (fclose (c->file) && !c->error)
        c->error = errno? errno: EIO;
    if (rc || c->error) {
        snprintf (c->err, c->errlen, "cannot write '%s': %s", c->path,
                  c->error? strerror (c->error): cairo_status_to_string (status));
        unlink (c->path);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Drawing helpers

//  Text at (x, y): halign 0 left, 0.5 centre, 1 right of x; valign 0 top,
//  0.5 middle, 1 bottom at y.
static void
s_text (cairo_t *cr, double x, double y, const char *text, double halign, double valign)
{
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents (cr, text, &te);
    cairo_font_extents (cr, &fe);
    double height = fe.ascent * 0.75;       //  about a digit's height
    cairo_move_to (cr, x - te.x_advance * halign, y + height * (1 - valign));
    cairo_show_text (cr, text);
    cairo_new_path (cr);                    //  no line from the text to what comes next
}

//  The same, turned a quarter anticlockwise (a y axis's label).
static void
s_text_up (cairo_t *cr, double x, double y, const char *text)
{
    cairo_save (cr);
    cairo_translate (cr, x, y);
    cairo_rotate (cr, -M_PI / 2);
    s_text (cr, 0, 0, text, 0.5, 0.5);
    cairo_restore (cr);
}

//  The title, centred at the top, made smaller until it fits.
static void
s_title (cairo_t *cr, double width, const char *title)
{
    if (!title || !*title)
        return;
    double size = 16;
    cairo_text_extents_t te;
    cairo_set_font_size (cr, size);
    cairo_text_extents (cr, title, &te);
    if (te.x_advance > width - 20) {
        size = size * (width - 20) / te.x_advance;
        cairo_set_font_size (cr, size);
    }
    cairo_set_source_rgb (cr, 0, 0, 0);
    s_text (cr, width / 2, 14, title, 0.5, 0);
}

//  A plot's frame at (px, py) of pw x ph for the data box x0..x1, y0..y1,
//  with ticks, their labels and the axes' labels. A log x axis has x0 and
//  x1 as powers of ten and ticks at whole decades.
typedef struct {
    double px, py, pw, ph;
    double x0, x1, y0, y1;
    bool logx;
} s_frame_t;

static double
s_fx (const s_frame_t *f, double x)
{
    if (f->logx)
        x = log10 (x);
    return f->px + (x - f->x0) / (f->x1 - f->x0) * f->pw;
}

static double
s_fy (const s_frame_t *f, double y)
{
    return f->py + f->ph - (y - f->y0) / (f->y1 - f->y0) * f->ph;
}

static void
s_frame (cairo_t *cr, const s_frame_t *f, const char *xlabel, const char *ylabel)
{
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_line_width (cr, 1);
    cairo_rectangle (cr, f->px, f->py, f->pw, f->ph);
    cairo_stroke (cr);
    cairo_set_font_size (cr, 12);
    double ticks [32], step;
    char label [64];
    int n = f->logx? 0: s_ticks (f->x0, f->x1, 5, ticks, 32, &step);
    for (double k = ceil (f->x0 - 1e-9); f->logx && k <= f->x1 + 1e-9 && n < 32; k++)
        ticks [n++] = k;
    for (int i = 0; i < n; i++) {
        double x = f->px + (ticks [i] - f->x0) / (f->x1 - f->x0) * f->pw;
        cairo_move_to (cr, x, f->py + f->ph);
        cairo_line_to (cr, x, f->py + f->ph + 5);
        cairo_stroke (cr);
        if (f->logx)
            snprintf (label, sizeof label, "1e%.0f", ticks [i]);
        else
            s_tick_label (ticks [i], step, label, sizeof label);
        s_text (cr, x, f->py + f->ph + 9, label, 0.5, 0);
    }
    n = s_ticks (f->y0, f->y1, 5, ticks, 32, &step);
    double widest = 0;
    for (int i = 0; i < n; i++) {
        double y = s_fy (f, ticks [i]);
        cairo_move_to (cr, f->px, y);
        cairo_line_to (cr, f->px - 5, y);
        cairo_stroke (cr);
        s_tick_label (ticks [i], step, label, sizeof label);
        cairo_text_extents_t te;
        cairo_text_extents (cr, label, &te);
        widest = te.x_advance > widest? te.x_advance: widest;
        s_text (cr, f->px - 8, y, label, 1, 0.5);
    }
    cairo_set_font_size (cr, 14);
    s_text (cr, f->px + f->pw / 2, f->py + f->ph + 30, xlabel, 0.5, 0);
    s_text_up (cr, f->px - 18 - widest, f->py + f->ph / 2, ylabel);
}

//  An image of w x h pixels (row 0 at the top), for the caller to fill
//  with 0x00RRGGBB and mark dirty. NULL when out of memory.
static cairo_surface_t *
s_image (int w, int h, uint32_t **pixels, int *stride)
{
    cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status (image)) {
        cairo_surface_destroy (image);
        return NULL;
    }
    cairo_surface_flush (image);
    *pixels = (uint32_t *) cairo_image_surface_get_data (image);
    *stride = cairo_image_surface_get_stride (image) / 4;
    return image;
}

static uint32_t
s_pixel (double t)
{
    uint8_t rgb [3];
    s_colour (t, rgb);
    return (uint32_t) rgb [0] << 16 | (uint32_t) rgb [1] << 8 | rgb [2];
}

//  Paint image into the rectangle, each pixel a sharp block.
static void
s_paint_image (cairo_t *cr, cairo_surface_t *image, double x, double y, double w, double h)
{
    cairo_surface_mark_dirty (image);
    cairo_save (cr);
    cairo_rectangle (cr, x, y, w, h);
    cairo_clip (cr);
    cairo_translate (cr, x, y);
    cairo_scale (cr, w / cairo_image_surface_get_width (image), h / cairo_image_surface_get_height (image));
    cairo_set_source_surface (cr, image, 0, 0);
    cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
    cairo_paint (cr);
    cairo_restore (cr);
}

//  --------------------------------------------------------------------------
//  The heat map

//  Its colour bar at (x, y), w x h, for counts up to max.
static void
s_colour_bar (cairo_t *cr, double x, double y, double w, double h, int64_t max, bool log)
{
    uint32_t *pixels;
    int stride;
    cairo_surface_t *bar = s_image (1, 256, &pixels, &stride);
    if (bar) {
        for (int i = 0; i < 256; i++)
            pixels [i * stride] = s_pixel ((255 - i) / 255.0);
        s_paint_image (cr, bar, x, y, w, h);
        cairo_surface_destroy (bar);
    }
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_line_width (cr, 1);
    cairo_rectangle (cr, x, y, w, h);
    cairo_stroke (cr);
    cairo_set_font_size (cr, 12);
    double ticks [40], step = 1;
    int n = 0;
    if (max <= 0)
        ticks [n++] = 0;
    else
    if (log)
        for (double v = 0; v <= (double) max && n < 40; v = v == 0? 1: v * 10)
            ticks [n++] = v;
    else {
        n = s_ticks (0, (double) max, 5, ticks, 40, &step);
        if (step < 1)           //  counts are whole: no tick between them
            n = s_ticks (0, (double) max, (int) max, ticks, 40, &step);
    }
    double widest = 0;
    for (int i = 0; i < n; i++) {
        double ty = y + h - s_scale (ticks [i], (double) max, log) * h;
        cairo_move_to (cr, x + w, ty);
        cairo_line_to (cr, x + w + 5, ty);
        cairo_stroke (cr);
        char label [64];
        s_tick_label (ticks [i], step, label, sizeof label);
        cairo_text_extents_t te;
        cairo_text_extents (cr, label, &te);
        widest = te.x_advance > widest? te.x_advance: widest;
        s_text (cr, x + w + 8, ty, label, 0, 0.5);
    }
    cairo_set_font_size (cr, 14);
    s_text_up (cr, x + w + 22 + widest, y + h / 2, log? "count per bin (log scale)": "count per bin");
}

int
mc_picture_heatmap (const char *path, const int64_t *counts, size_t rows, size_t cols,
                    const mc_picture_axes_t *axes, char *err, size_t errlen)
{
    assert (rows > 0 && cols > 0 && axes);
    //  The plot keeps the range's aspect (as imshow with an extent does),
    //  within 1:4 and 4:1, in at most 500 x 510 left of the colour bar; the
    //  picture is as tall as the plot needs.
    const double width = 720, left = 80, top = 45, room_w = 500, room_h = 510;
    double aspect = (axes->box [1] - axes->box [0]) / (axes->box [3] - axes->box [2]);
    aspect = aspect < 0.25? 0.25: aspect > 4? 4: aspect;
    double pw = room_w, ph = pw / aspect;
    if (ph > room_h)
        ph = room_h, pw = ph * aspect;
    s_canvas_t canvas;
    if (s_canvas_open (&canvas, path, axes->title, width, round (top + ph + 65), err, errlen))
        return -1;
    cairo_t *cr = canvas.cr;
    s_title (cr, width, axes->title);
    s_frame_t f = { left, top, pw, ph, axes->box [0], axes->box [1], axes->box [2], axes->box [3], false };
    int64_t max = s_max (counts, rows * cols);
    uint32_t *pixels;
    int stride;
    cairo_surface_t *image = s_image ((int) cols, (int) rows, &pixels, &stride);
    if (image) {
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++)       //  image row 0 is the top: the last row of bins
                pixels [(rows - 1 - r) * (size_t) stride + c] = s_pixel (s_scale ((double) counts [r * cols + c],
                                                                                  (double) max, axes->log));
        s_paint_image (cr, image, f.px, f.py, f.pw, f.ph);
        cairo_surface_destroy (image);
    }
    s_frame (cr, &f, "x", "y");
    s_colour_bar (cr, f.px + f.pw + 25, f.py, 18, f.ph, max, axes->log);
    if (!image) {
        snprintf (err, errlen, "cannot write '%s': out of memory", path);
        canvas.error = ENOMEM;
    }
    return s_canvas_close (&canvas);
}

//  --------------------------------------------------------------------------
//  The pi picture

//  Its left panel: the points in the unit square and the quarter circle.
static void
s_pi_points (cairo_t *cr, const mc_picture_pi_t *pi, const s_frame_t *f)
{
    size_t inside = 0;
    double r = pi->npoints > 5000? 1.2: pi->npoints > 1000? 1.6: 2.2;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            cairo_set_source_rgb (cr, 33 / 255.0, 145 / 255.0, 140 / 255.0);
        else
            cairo_set_source_rgb (cr, 230 / 255.0, 97 / 255.0, 1 / 255.0);
        for (size_t i = 0; i < pi->npoints; i++) {
            double x = pi->points [2 * i], y = pi->points [2 * i + 1];
            bool in = x * x + y * y < 1;
            if (in != (pass == 0))
                continue;
            inside += in;
            cairo_new_sub_path (cr);
            cairo_arc (cr, s_fx (f, x), s_fy (f, y), r, 0, 2 * M_PI);
        }
        cairo_fill (cr);
    }
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_line_width (cr, 2);
    cairo_arc (cr, s_fx (f, 0), s_fy (f, 0), f->pw, -M_PI / 2, 0);
    cairo_stroke (cr);
    s_frame (cr, f, "x", "y");
    //  The legend above the panel.
    char text [160];
    cairo_set_font_size (cr, 12);
    double x = f->px, y = f->py - 12;
    cairo_set_source_rgb (cr, 33 / 255.0, 145 / 255.0, 140 / 255.0);
    cairo_arc (cr, x + 4, y, 4, 0, 2 * M_PI);
    cairo_fill (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    snprintf (text, sizeof text, "inside x\xc2\xb2 + y\xc2\xb2 < 1: %zu", inside);
    s_text (cr, x + 12, y, text, 0, 0.5);
    cairo_text_extents_t te;
    cairo_text_extents (cr, text, &te);
    x += 12 + te.x_advance + 16;
    cairo_set_source_rgb (cr, 230 / 255.0, 97 / 255.0, 1 / 255.0);
    cairo_arc (cr, x + 4, y, 4, 0, 2 * M_PI);
    cairo_fill (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    snprintf (text, sizeof text, "outside: %zu (of %zu points drawn)", pi->npoints - inside, pi->npoints);
    s_text (cr, x + 12, y, text, 0, 0.5);
}

//  Its right panel: the estimate after each task, in task order, with the
//  band of two standard errors around pi that it should stay in.
static void
s_pi_estimate (cairo_t *cr, const mc_picture_pi_t *pi, s_frame_t *f)
{
    double *n = calloc (pi->ntasks + 1, sizeof *n), *est = calloc (pi->ntasks + 1, sizeof *est);
    if (!n || !est) {
        free (n);
        free (est);
        return;
    }
    double hits = 0, samples = 0, lo = M_PI, hi = M_PI;
    for (size_t i = 0; i < pi->ntasks; i++) {
        hits += (double) pi->hits [i];
        samples += (double) pi->samples [i];
        n [i] = samples;
        est [i] = samples > 0? 4 * hits / samples: M_PI;
        lo = est [i] < lo? est [i]: lo;
        hi = est [i] > hi? est [i]: hi;
    }
    const double p = M_PI / 4;
    double band_end = samples > 0? 2 * 4 * sqrt (p * (1 - p) / samples): 0.1;
    lo = fmin (lo, M_PI - 2 * band_end);
    hi = fmax (hi, M_PI + 2 * band_end);
    double pad = (hi - lo) * 0.08 + 1e-12;
    f->y0 = lo - pad, f->y1 = hi + pad;
    double first = n [0] > 0? n [0]: 1, last = samples > first? samples: first * 10;
    f->logx = log10 (last) - log10 (first) >= 1;
    if (f->logx)
        f->x0 = floor (log10 (first)), f->x1 = ceil (log10 (last) - 1e-9);
    else
        f->x0 = 0, f->x1 = last;
    if (f->x1 <= f->x0)
        f->x1 = f->x0 + 1;
    cairo_save (cr);
    cairo_rectangle (cr, f->px, f->py, f->pw, f->ph);
    cairo_clip (cr);
    //  The band: pi +- 2 sigma(n), sigma(n) = 4 sqrt (p (1 - p) / n).
    double x_first = f->logx? pow (10, f->x0): first, steps = 200;
    cairo_set_source_rgb (cr, 0.85, 0.85, 0.92);
    for (int side = 0; side < 2; side++)
        for (int k = 0; k <= steps; k++) {
            int j = side? (int) steps - k: k;
            double x = f->logx? pow (10, f->x0 + (f->x1 - f->x0) * j / steps): x_first + (last - x_first) * j / steps;
            double s = 2 * 4 * sqrt (p * (1 - p) / (x > 0? x: 1));
            double y = M_PI + (side? -s: s);
            y = y > f->y1 + 1? f->y1 + 1: y < f->y0 - 1? f->y0 - 1: y;
            if (k == 0 && side == 0)
                cairo_move_to (cr, s_fx (f, x), s_fy (f, y));
            else
                cairo_line_to (cr, s_fx (f, x), s_fy (f, y));
        }
    cairo_close_path (cr);
    cairo_fill (cr);
    double dash [] = { 6, 4 };
    cairo_set_dash (cr, dash, 2, 0);
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_line_width (cr, 1);
    cairo_move_to (cr, f->px, s_fy (f, M_PI));
    cairo_line_to (cr, f->px + f->pw, s_fy (f, M_PI));
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
    cairo_set_source_rgb (cr, 59 / 255.0, 82 / 255.0, 139 / 255.0);
    cairo_set_line_width (cr, 1.5);
    for (size_t i = 0; i < pi->ntasks; i++)
        if (i == 0)
            cairo_move_to (cr, s_fx (f, n [i] > 0? n [i]: 1), s_fy (f, est [i]));
        else
            cairo_line_to (cr, s_fx (f, n [i] > 0? n [i]: 1), s_fy (f, est [i]));
    cairo_stroke (cr);
    for (size_t i = 0; pi->ntasks <= 200 && i < pi->ntasks; i++) {
        cairo_new_sub_path (cr);
        cairo_arc (cr, s_fx (f, n [i] > 0? n [i]: 1), s_fy (f, est [i]), 2.5, 0, 2 * M_PI);
    }
    cairo_fill (cr);
    cairo_restore (cr);
    s_frame (cr, f, f->logx? "samples so far (log scale), tasks in order": "samples so far, tasks in order",
             "estimate of \xcf\x80");
    cairo_set_font_size (cr, 12);
    cairo_set_source_rgb (cr, 0, 0, 0);
    s_text (cr, f->px + f->pw + 4, s_fy (f, M_PI), "\xcf\x80", 0, 0.5);
    s_text (cr, f->px, f->py - 12, "\xe2\x80\x94 running estimate;  shaded: \xcf\x80 \xc2\xb1 2 standard errors",
            0, 0.5);
    free (n);
    free (est);
}

int
mc_picture_pi (const char *path, const mc_picture_pi_t *pi, char *err, size_t errlen)
{
    const double width = 1000, height = 540;
    s_canvas_t canvas;
    if (s_canvas_open (&canvas, path, pi->title, width, height, err, errlen))
        return -1;
    cairo_t *cr = canvas.cr;
    s_title (cr, width, pi->title);
    s_frame_t square = { 70, 70, 400, 400, 0, 1, 0, 1, false };
    s_pi_points (cr, pi, &square);
    s_frame_t run = { 600, 70, 360, 400, 0, 1, 0, 1, false };
    s_pi_estimate (cr, pi, &run);
    return s_canvas_close (&canvas);
}

//  --------------------------------------------------------------------------
//  The terminal

int
mc_picture_width (FILE *out)
{
    struct winsize ws;
    if (out && isatty (fileno (out)) && ioctl (fileno (out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *columns = getenv ("COLUMNS");
    char *end;
    long n = columns? strtol (columns, &end, 10): 0;
    return columns && !*end && n >= 20 && n <= 10000? (int) n: 80;
}

//  The characters of UTF-8 text.
static size_t
s_chars (const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += ((unsigned char) *p & 0xC0) != 0x80;
    return n;
}

static void
s_cell (FILE *out, double upper, double lower, bool has_lower)
{
    uint8_t fg [3], bg [3] = { 0, 0, 0 };
    s_colour (upper, fg);
    if (has_lower)
        s_colour (lower, bg);
    fprintf (out, "\033[38;2;%d;%d;%dm\033[48;2;%d;%d;%dm\u2580", fg [0], fg [1], fg [2], bg [0], bg [1], bg [2]);
}

void
mc_picture_show (FILE *out, const int64_t *counts, size_t rows, size_t cols, const mc_picture_axes_t *axes,
                 int width)
{
    //  A margin of 9 characters for the y range; the bins fill the rest:
    //  `up` characters per bin, or `down` bins summed per character (the
    //  same factor on both axes, to keep the picture's shape).
    const size_t margin = 9;
    size_t room = width > (int) margin + 10? (size_t) width - margin: 10;
    size_t up = cols <= room? room / cols: 1, down = cols <= room? 1: (cols + room - 1) / room;
    if (up > 8)
        up = 8;
    size_t grows = up > 1? rows * up: (rows + down - 1) / down, gcols = up > 1? cols * up: (cols + down - 1) / down;
    int64_t *grid = calloc (grows * gcols, sizeof *grid);
    if (!grid)
        return;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            if (up > 1)
                for (size_t i = 0; i < up; i++)
                    for (size_t j = 0; j < up; j++)
                        grid [(r * up + i) * gcols + c * up + j] = counts [r * cols + c];
            else
                grid [(r / down) * gcols + c / down] += counts [r * cols + c];
    double max = (double) s_max (grid, grows * gcols);
    bool log = axes && axes->log;
    //  Each text line shows two grid rows: the upper one as the foreground
    //  of an upper half block, the lower one as its background.
    if (axes && axes->title && *axes->title) {
        size_t chars = s_chars (axes->title);
        fprintf (out, "%*s%s\n", margin + chars <= (size_t) width? (int) margin: 0, "", axes->title);
    }
    char label [32];
    for (size_t top = grows; top > 0; top = top >= 2? top - 2: 0) {
        size_t upper = top - 1;
        label [0] = 0;
        if (axes && top == grows)
            snprintf (label, sizeof label, "%.4g", axes->box [3]);
        if (axes && top <= 2)
            snprintf (label, sizeof label, "%.4g", axes->box [2]);
        fprintf (out, "%*s ", (int) margin - 1, label);
        for (size_t c = 0; c < gcols; c++)
            s_cell (out, s_scale ((double) grid [upper * gcols + c], max, log),
                    upper > 0? s_scale ((double) grid [(upper - 1) * gcols + c], max, log): 0, upper > 0);
        fprintf (out, "\033[0m\n");
    }
    if (axes) {
        char x0 [32], x1 [32];
        snprintf (x0, sizeof x0, "%.4g", axes->box [0]);
        snprintf (x1, sizeof x1, "%.4g", axes->box [1]);
        int gap = (int) gcols - (int) strlen (x0);
        fprintf (out, "%*s%s%*s\n", (int) margin, "", x0, gap > 0? gap: 1, x1);
    }
    //  The colour scale: 0, a ramp, the largest count, and what they count
    //  when the line has room for it.
    char what [128];
    snprintf (what, sizeof what, " %.0f (count per %s%s)", max, up == 1 && down > 1? "character": "bin",
              log? ", log scale": "");
    if (up == 1 && down > 1 && margin + 22 + strlen (what) > (size_t) width)
        snprintf (what, sizeof what, " %.0f (per %zux%zu bins%s)", max, down, down, log? ", log": "");
    if (margin + 22 + strlen (what) > (size_t) width)
        snprintf (what, sizeof what, " %.0f%s", max, log? " (log)": "");
    fprintf (out, "%*s 0 ", (int) margin - 2, "");
    for (int i = 0; i < 20; i++)
        s_cell (out, i / 19.0, i / 19.0, true);
    fprintf (out, "\033[0m%s\n", what);
    free (grid);
}

//  --------------------------------------------------------------------------
//  Selftest

//  The whole of a file, or NULL; *size its length.
static char *
s_slurp (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    *size = 0;
    char chunk [65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, file)) > 0) {
        char *more = realloc (data, *size + n + 1);
        assert (more);
        data = more;
        memcpy (data + *size, chunk, n);
        *size += n;
        data [*size] = 0;
    }
    fclose (file);
    return data;
}

static size_t
s_count (const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr (p, what)); p++)
        n++;
    return n;
}

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
    assert (s_scale (9, 99, true) == 0.5 && s_scale (5, 10, false) == 0.5 && s_scale (3, 0, false) == 0);
    //  Ticks: round numbers inside the range, labelled with the decimals they need.
    double ticks [32], step;
    char label [64];
    assert (s_ticks (0, 1, 5, ticks, 32, &step) == 6 && step == 0.2 && ticks [5] == 1);
    assert (s_ticks (-3, 7, 5, ticks, 32, &step) == 5 && step == 2 && ticks [0] == -2);
    assert (s_ticks (0, 1234, 5, ticks, 32, &step) == 7 && step == 200);
    s_tick_label (0.4, 0.2, label, sizeof label);
    assert (!strcmp (label, "0.4"));
    s_tick_label (250, 250, label, sizeof label);
    assert (!strcmp (label, "250"));
    s_tick_label (2e7, 1e7, label, sizeof label);
    assert (!strcmp (label, "2e+07"));
    //  A file of each format, chosen by the name; 3 rows of 2 bins.
    const int64_t counts [] = { 0, 1, 2, 3, 4, 5 };
    mc_picture_axes_t axes = { "walker gauss3: 2 tasks \xc3\x97 10 steps, seed 7 <&>", { 0, 1, 0, 1.5 }, false };
    char dir [] = "/tmp/mc-picture-test.XXXXXX", path [256], err [512];
    assert (mkdtemp (dir));
    const char *names [] = { "h.png", "h.SVG", "h.pdf", "pi.png", "pi.svg", "pi.pdf" };
    double xy [] = { 0.1, 0.2, 0.9, 0.8, 0.5, 0.5 };
    int64_t hits [] = { 3, 2, 4 }, samples [] = { 4, 4, 4 };
    mc_picture_pi_t pi = { "pi: 3 tasks \xc3\x97 4 samples, seed 7", xy, 3, hits, samples, 3 };
    for (int i = 0; i < 6; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, names [i]);
        axes.log = i == 1;
        int rc = i < 3? mc_picture_heatmap (path, counts, 3, 2, &axes, err, sizeof err)
                      : mc_picture_pi (path, &pi, err, sizeof err);
        if (rc)
            printf ("%s\n", err);
        assert (rc == 0);
        size_t size;
        char *data = s_slurp (path, &size);
        assert (data && size > 100);
        if (i % 3 == 0) {
            assert (!memcmp (data, "\x89PNG\r\n\x1a\n", 8));
            const uint8_t *ihdr = (const uint8_t *) data + 16;     //  width and height, big-endian
            uint32_t w = (uint32_t) ihdr [0] << 24 | ihdr [1] << 16 | ihdr [2] << 8 | ihdr [3];
            uint32_t h = (uint32_t) ihdr [4] << 24 | ihdr [5] << 16 | ihdr [6] << 8 | ihdr [7];
            assert (i == 0? w == 720 && h == 620: w == 1000 && h == 540);
        }
        if (i % 3 == 1) {
            assert (!strncmp (data, "<?xml", 5) && strstr (data, "<svg") && strstr (data, "</svg>"));
            assert (strstr (data, i == 1? "<title>walker gauss3: 2 tasks \xc3\x97 10 steps, seed 7 &lt;&amp;&gt;</title>"
                                        : "<title>pi: 3 tasks"));
        }
        if (i % 3 == 2)
            assert (!strncmp (data, "%PDF-1.", 7) && strstr (data + size - 8, "%%EOF"));
        if (verbose)
            printf ("\n   %s: %zu bytes", path, size);
        free (data);
        unlink (path);
    }
    //  Refused: a name without a picture's extension, and a file that cannot be made.
    const char *bad [] = { "x.jpg", "x", "dir.png/x", "png" };
    for (int i = 0; i < 4; i++) {
        assert (mc_picture_heatmap (bad [i], counts, 3, 2, &axes, err, sizeof err) == -1);
        assert (strstr (err, bad [i]) && strstr (err, ".png, .svg or .pdf"));
        assert (mc_picture_pi (bad [i], &pi, err, sizeof err) == -1 && strstr (err, bad [i]));
        assert (mc_picture_format_ok (bad [i], err, sizeof err) == -1);
    }
    assert (mc_picture_format_ok ("a/b.Pdf", err, sizeof err) == 0);
    assert (mc_picture_heatmap ("/nonexistent/dir/x.png", counts, 3, 2, &axes, err, sizeof err) == -1);
    assert (strstr (err, "cannot write '/nonexistent/dir/x.png'"));
    assert (rmdir (dir) == 0);
    //  On a terminal 40 wide: 2 columns of bins would take 15 of its 31 cells
    //  each, at most 8 are; three rows at 8 half-rows per bin take 12 lines.
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert (out);
    mc_picture_show (out, counts, 3, 2, &axes, 40);
    fclose (out);
    if (verbose)
        printf ("\n%s", text);
    assert (s_count (text, "\u2580") == 16 * 12 + 20 && s_count (text, "\033[0m\n") == 12);
    assert (strstr (text, "    1.5 ") && strstr (text, "      0 "));
    free (text);
    //  Wider than the terminal: 100 bins on 29 cells sum 4 x 4 bins per cell.
    int64_t *many = calloc (100 * 100, sizeof *many);
    assert (many);
    many [0] = 1;
    out = open_memstream (&text, &size);
    mc_picture_show (out, many, 100, 100, NULL, 38);
    fclose (out);
    if (verbose)
        printf ("%s", text);
    assert (s_count (text, "\u2580") == 25 * 13 + 20 && strstr (text, "\033[0m 1\n"));
    free (text);
    free (many);
    setenv ("COLUMNS", "132", 1);
    assert (mc_picture_width (NULL) == 132);
    setenv ("COLUMNS", "wide", 1);
    assert (mc_picture_width (NULL) == 80);
    unsetenv ("COLUMNS");
    printf ("OK\n");
}
