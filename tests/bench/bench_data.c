/*  Scatter and gather of a float64 array through libmcclient, in process,
    against a running cluster ($MCCLUSTER_DIR). Prints JSON: each round's
    figure and their median, in MB/s each way, after one untimed round; it
    checks every round's bytes.
    Usage: bench_data [COUNT [ROUNDS]] */
#include "mccluster.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

//  Each round's figure in order (to show warm-up and outliers), then the
//  median.
static void
s_print_rounds (const char *name, double *v, int n)
{
    printf (", \"%s_mb_per_s\": [", name);
    for (int i = 0; i < n; i++)
        printf ("%s%.0f", i? ", ": "", v [i]);
    printf ("], \"%s_mb_per_s_median\": %.0f", name, bench_median (v, n));
}

int
main (int argc, char *argv [])
{
    size_t count = argc > 1? strtoull (argv [1], NULL, 10): 10000000;
    int rounds = argc > 2? atoi (argv [2]): 7;
    if (rounds < 1 || rounds > 100 || count == 0)
        return fprintf (stderr, "usage: bench_data [COUNT [ROUNDS]]\n"), 2;
    char err [256];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client)
        return fprintf (stderr, "bench_data: %s\n", err), 1;
    double *values = malloc (count * sizeof *values);
    for (size_t i = 0; i < count; i++)
        values [i] = (double) i * 0.5;
    mc_array_t array = { MC_DTYPE_F64, 1, { count }, values, count * sizeof *values, 0 };
    double scatter [100], gather [100];
    double mb = array.size / 1e6;
    //  Round -1 warms up, untimed: the first transfer of a process takes
    //  fresh pages, which on a virtual machine with free page reporting
    //  can cost several times the copy (ipp_bench.py warms up the same way).
    for (int r = -1; r < rounds; r++) {
        double t0 = bench_now ();
        if (mc_client_scatter_array (client, "x", &array, NULL, false))
            return fprintf (stderr, "scatter: %s\n", mc_client_error (client)), 1;
        double t1 = bench_now ();
        mc_array_t back;
        if (mc_client_gather_array (client, "x", NULL, false, &back))
            return fprintf (stderr, "gather: %s\n", mc_client_error (client)), 1;
        double t2 = bench_now ();
        if (back.size != array.size || memcmp (back.data, values, array.size))
            return fprintf (stderr, "gather returned other bytes\n"), 1;
        free ((void *) back.data);
        if (r < 0)
            continue;
        scatter [r] = mb / (t1 - t0);
        gather [r] = mb / (t2 - t1);
    }
    json_t *ids = mc_client_call (client, "ids", NULL, -1);
    printf ("{\"values\": %zu, \"megabytes\": %.1f, \"engines\": %zu, \"rounds\": %d",
            count, mb, json_array_size (ids), rounds);
    json_decref (ids);
    s_print_rounds ("scatter", scatter, rounds);
    s_print_rounds ("gather", gather, rounds);
    printf ("}\n");
    free (values);
    mc_client_destroy (&client);
    return 0;
}
