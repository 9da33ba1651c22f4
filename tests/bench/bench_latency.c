/*  Round trips, warm: one load-balanced and one direct apply of noop from a
    connected libmcclient client (against $MCCLUSTER_DIR), and the floor
    under them: a raw ZeroMQ round trip between two processes and the
    one-way message rate, over TCP loopback and over a Unix socket. The two
    processes are pinned to two CPUs, as a client and a busy controller
    are; left alone on an idle machine the scheduler may put them on one,
    which on a virtual machine makes the round trip several times shorter
    (that figure is printed too).
    With `map`, the rate of a direct map of 10,000 no-op items over every
    engine (median of 5), from the same warm client.
    Prints JSON, times in microseconds. Usage: bench_latency [COUNT | map] */
#include "mccluster.h"
#include "bench_util.h"
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

//  COUNT round trips of one apply (targets NULL: load-balanced) into us.
static int
s_apply (mc_client_t *client, json_t *targets, int count, double *us)
{
    json_t *spec = json_pack ("{s:s, s:s, s:[]}", "kind", "apply", "kernel", "noop", "args");
    if (targets)
        json_object_set (spec, "targets", targets);
    for (int i = 0; i < count; i++) {
        double t0 = bench_now ();
        json_t *result = mc_client_submit (client, spec, true);
        us [i] = (bench_now () - t0) * 1e6;
        if (!result) {
            fprintf (stderr, "bench_latency: apply: %s\n", mc_client_error (client));
            json_decref (spec);
            return -1;
        }
        json_decref (result);
    }
    json_decref (spec);
    return 0;
}

//  Run this thread (and the threads it starts) on `cpu` only, when there
//  is such a CPU; restore with cpu < 0 and the saved mask.
static void
s_pin (int cpu, cpu_set_t *saved)
{
    cpu_set_t set;
    if (cpu < 0) {
        sched_setaffinity (0, sizeof *saved, saved);
        return;
    }
    CPU_ZERO (&set);
    CPU_SET (cpu, &set);
    if (CPU_ISSET (cpu, saved))
        sched_setaffinity (0, sizeof set, &set);
}

//  Raw ZeroMQ between two processes over one PAIR socket: a child echoes
//  count small messages (the round trips go into us), then reads MESSAGES
//  sent one way and says so. Returns that one-way rate in messages/s. The
//  parent runs on cpu_parent and the child on cpu_child.
#define MESSAGES 1000000
static double
s_raw (const char *endpoint, int count, double *us, int cpu_parent, int cpu_child)
{
    char buf [64] = "ping";
    cpu_set_t saved;
    sched_getaffinity (0, sizeof saved, &saved);
    pid_t child = fork ();
    if (child == 0) {
        s_pin (cpu_child, &saved);
        void *ctx = zmq_ctx_new (), *pair = zmq_socket (ctx, ZMQ_PAIR);
        if (zmq_bind (pair, endpoint))
            _exit (1);
        for (int i = 0; i < count + 1; i++) {
            int n = zmq_recv (pair, buf, sizeof buf, 0);
            zmq_send (pair, buf, n < 0? 0: (size_t) n, 0);
        }
        for (int i = 0; i < MESSAGES; i++)
            zmq_recv (pair, buf, sizeof buf, 0);
        zmq_send (pair, "done", 4, 0);
        zmq_close (pair);
        zmq_ctx_term (ctx);
        _exit (0);
    }
    s_pin (cpu_parent, &saved);
    void *ctx = zmq_ctx_new (), *pair = zmq_socket (ctx, ZMQ_PAIR);
    zmq_connect (pair, endpoint);       //  retried until the child has bound
    zmq_send (pair, buf, 16, 0);
    zmq_recv (pair, buf, sizeof buf, 0);
    for (int i = 0; i < count; i++) {
        double t0 = bench_now ();
        zmq_send (pair, buf, 16, 0);
        zmq_recv (pair, buf, sizeof buf, 0);
        us [i] = (bench_now () - t0) * 1e6;
    }
    double t0 = bench_now ();
    for (int i = 0; i < MESSAGES; i++)
        zmq_send (pair, buf, 16, 0);
    zmq_recv (pair, buf, sizeof buf, 0);
    double rate = MESSAGES / (bench_now () - t0);
    zmq_close (pair);
    zmq_ctx_term (ctx);
    waitpid (child, NULL, 0);
    s_pin (-1, &saved);
    return rate;
}

//  Items per second of a direct map of 10,000 no-ops over every engine.
static int
s_direct_map (void)
{
    char err [256];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client)
        return fprintf (stderr, "bench_latency: %s\n", err), 1;
    json_t *seq = json_array ();
    for (int i = 0; i < 10000; i++)
        json_array_append_new (seq, json_integer (i));
    json_t *spec = json_pack ("{s:s, s:s, s:o, s:s}", "kind", "map", "kernel", "noop", "seq", seq, "targets", "all");
    double rates [5];
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now ();
        json_t *result = mc_client_submit (client, spec, true);
        rates [r] = 10000 / (bench_now () - t0);
        if (!result)
            return fprintf (stderr, "bench_latency: map: %s\n", mc_client_error (client)), 1;
        json_decref (result);
    }
    printf ("{\"per_s\": %.0f}\n", bench_median (rates, 5));
    json_decref (spec);
    mc_client_destroy (&client);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc > 1 && !strcmp (argv [1], "map"))
        return s_direct_map ();
    int count = argc > 1? atoi (argv [1]): 1000;
    if (count < 10 || count > 1000000)
        return fprintf (stderr, "usage: bench_latency [COUNT]\n"), 2;
    double *us = malloc (count * sizeof *us);
    //  The floor first: fork before any ZeroMQ thread exists (a child
    //  forked beside running threads can hang on a lock one of them held).
    //  The port is an ephemeral one that was free a moment ago.
    void *ctx = zmq_ctx_new (), *probe = zmq_socket (ctx, ZMQ_PAIR);
    char tcp [64], ipc [128];
    size_t len = sizeof tcp;
    zmq_bind (probe, "tcp://127.0.0.1:*");
    zmq_getsockopt (probe, ZMQ_LAST_ENDPOINT, tcp, &len);
    zmq_close (probe);
    zmq_ctx_term (ctx);
    double tcp_rate = s_raw (tcp, count, us, 0, 1);
    double tcp_median = bench_median (us, count), tcp_p99 = bench_percentile (us, count, 99);
    s_raw (tcp, count, us, 0, 0);
    double tcp_one_cpu = bench_median (us, count);
    snprintf (ipc, sizeof ipc, "ipc:///tmp/bench-latency-%d", (int) getpid ());
    double ipc_rate = s_raw (ipc, count, us, 0, 1);
    double ipc_median = bench_median (us, count);
    unlink (ipc + strlen ("ipc://"));      //  libzmq leaves the socket file behind

    char err [256];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client)
        return fprintf (stderr, "bench_latency: %s\n", err), 1;
    json_t *engine0 = json_pack ("[i]", 0);
    if (s_apply (client, NULL, 10, us) || s_apply (client, NULL, count, us))
        return 1;
    double lb_median = bench_median (us, count), lb_p99 = bench_percentile (us, count, 99);
    if (s_apply (client, engine0, count, us))
        return 1;
    double direct_median = bench_median (us, count), direct_p99 = bench_percentile (us, count, 99);
    json_decref (engine0);
    mc_client_destroy (&client);
    printf ("{\"count\": %d, \"lb_us_median\": %.1f, \"lb_us_p99\": %.1f, "
            "\"direct_us_median\": %.1f, \"direct_us_p99\": %.1f, "
            "\"zmq_tcp_rtt_us_median\": %.1f, \"zmq_tcp_rtt_us_p99\": %.1f, \"zmq_tcp_msgs_per_s\": %.0f, "
            "\"zmq_tcp_rtt_one_cpu_us_median\": %.1f, "
            "\"zmq_ipc_rtt_us_median\": %.1f, \"zmq_ipc_msgs_per_s\": %.0f}\n",
            count, lb_median, lb_p99, direct_median, direct_p99, tcp_median, tcp_p99, tcp_rate, tcp_one_cpu,
            ipc_median, ipc_rate);
    free (us);
    return 0;
}
