/*  mc_hist: `--reduce hist2d` on the engine. Each item's points (an n x 2
    float64 array) become their counts before they leave the engine, so
    that a million points travel as a few kilobytes. */
#ifndef MC_HIST_H
#define MC_HIST_H
#include <czmq.h>
#include <msgpack.h>

//  spec is the task's reduce map {"op": "hist2d", "bins": [nx, ny],
//  "range": [x0, x1, y0, y1]}; values holds the msgpack array of the
//  items' results, whose arrays index the frames of *frames_p (owned).
//  Replaces each item by an int64 array of ny rows (y from y0 up) and nx
//  columns (x from x0 right); points outside the range are not counted.
//  On success values and *frames_p hold the counts (the old frames are
//  destroyed). Returns 0; -2 when spec is malformed (the peer's garbage);
//  -1 when a result is not an array of points or memory runs out. On
//  failure nothing changes and err says what was wrong.
int mc_hist_reduce (const msgpack_object *spec, msgpack_sbuffer *values, zlist_t **frames_p,
                    char *err, size_t errlen);
void mc_hist_test (bool verbose);
#endif
