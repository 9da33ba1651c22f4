/*  bench_submit: submit many load-balanced jobs at once over one client
    connection, for tests/bench/bench_fair.sh (10,000 mcclient processes
    would measure process start-up, not the scheduler).

        bench_submit JOBS TASKS [KERNEL]

    submits JOBS jobs, each `map KERNEL 0:TASKS` (default noop), --async,
    and prints how many were accepted. Exit 1 on the first refusal. */
#include "mccluster.h"
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: bench_submit JOBS TASKS [KERNEL]\n");
        return 2;
    }
    long jobs = atol (argv [1]), tasks = atol (argv [2]);
    char err [512];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client) {
        fprintf (stderr, "bench_submit: %s\n", err);
        return 1;
    }
    json_t *spec = json_pack ("{s:s, s:s, s:{s:[iIi]}}", "kind", "map", "kernel", argc > 3? argv [3]: "noop",
                              "seq", "range", 0, (json_int_t) tasks, 1);
    long accepted = 0;
    for (long i = 0; spec && i < jobs; i++) {
        json_t *reply = mc_client_submit (client, spec, false);
        if (!reply) {
            fprintf (stderr, "bench_submit: job %ld: %s\n", i, mc_client_error (client));
            break;
        }
        json_decref (reply);
        accepted++;
    }
    printf ("%ld\n", accepted);
    json_decref (spec);
    mc_client_destroy (&client);
    return accepted == jobs? 0: 1;
}
