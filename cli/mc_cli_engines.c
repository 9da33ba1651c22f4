/*  mc_cli_engines: engines, engines add, engines stop, allocations. */
#include "mc_cli_engines.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The engines not there yet: one entry per live allocation that has fewer
//  engines registered than it asked for, appended to the engines' array
//  with "id": null and "state": "pending" (or the allocation's state).
static void
s_append_waiting (json_t *engines, const json_t *allocations)
{
    size_t i;
    json_t *a;
    json_array_foreach (allocations, i, a) {
        const char *state = json_string_value (json_object_get (a, "state"));
        json_int_t want = json_integer_value (json_object_get (a, "engines"));
        json_int_t have = json_integer_value (json_object_get (a, "registered"));
        bool live = state && (!strcmp (state, "submitting") || !strcmp (state, "pending") || !strcmp (state, "running"));
        bool failed = state && !strcmp (state, "failed");
        if ((!live && !failed) || have >= want)
            continue;
        json_array_append_new (engines, json_pack ("{s:n, s:s, s:I, s:O, s:O, s:O, s:s, s:O}",
                               "id", "state", live? "pending": "failed", "count", want - have,
                               "launch", json_object_get (a, "id"), "launcher", json_object_get (a, "kind"),
                               "job", json_object_get (a, "job"), "batch_state", state,
                               "reason", json_object_get (a, "reason")));
    }
}

static void
s_print_engines (const json_t *engines)
{
    printf ("%4s  %-20s %8s  %-8s %10s %8s %8s %8s  %s\n", "id", "host", "pid", "state", "done", "failed", "inflight",
            "restarts", "launch");
    size_t i;
    json_t *e;
    json_array_foreach (engines, i, e) {
        if (json_is_null (json_object_get (e, "id"))) {
            const char *job = json_string_value (json_object_get (e, "job"));
            const char *reason = json_string_value (json_object_get (e, "reason"));
            printf ("%4s  %lld engine%s %s: %s %s%s%s%s%s\n", "-", (long long) json_integer_value (json_object_get (e, "count")),
                    json_integer_value (json_object_get (e, "count")) == 1? "": "s",
                    json_string_value (json_object_get (e, "state")),
                    json_string_value (json_object_get (e, "launch")), json_string_value (json_object_get (e, "launcher")),
                    job && *job? " job ": "", job? job: "", reason && *reason? " - ": "", reason? reason: "");
            continue;
        }
        printf ("%4lld  %-20s %8lld  %-8s %10lld %8lld %8lld %8lld  %s\n",
                (long long) json_integer_value (json_object_get (e, "id")),
                json_string_value (json_object_get (e, "host")),
                (long long) json_integer_value (json_object_get (e, "pid")),
                json_string_value (json_object_get (e, "state")),
                (long long) json_integer_value (json_object_get (e, "done")),
                (long long) json_integer_value (json_object_get (e, "failed")),
                (long long) json_integer_value (json_object_get (e, "inflight")),
                (long long) json_integer_value (json_object_get (e, "restarts")),
                json_string_value (json_object_get (e, "launch")));
    }
}

static void
s_print_allocations (const json_t *allocations)
{
    printf ("%-6s %-6s %-12s %8s %10s  %-10s %s\n", "alloc", "kind", "job", "engines", "registered", "state", "reason");
    size_t i;
    json_t *a;
    json_array_foreach (allocations, i, a) {
        const char *job = json_string_value (json_object_get (a, "job"));
        printf ("%-6s %-6s %-12s %8lld %10lld  %-10s %s\n", json_string_value (json_object_get (a, "id")),
                json_string_value (json_object_get (a, "kind")), job && *job? job: "-",
                (long long) json_integer_value (json_object_get (a, "engines")),
                (long long) json_integer_value (json_object_get (a, "registered")),
                json_string_value (json_object_get (a, "state")), json_string_value (json_object_get (a, "reason")));
    }
}

enum { S_KIND = 1, S_LAUNCHER_OPT, S_TEMPLATE, S_HOSTS, S_JOB };
const mc_cli_option_t mc_cli_engines_options [] = {
    { "--engines", S_KIND, true, "local|slurm|pbs|ssh|mpi", "add: the launcher (default: the cluster's own)", NULL },
    { "--launcher-opt", S_LAUNCHER_OPT, true, "KEY=VALUE", "add: an option of the launcher (see ipclusterd --help)",
      NULL },
    { "--template", S_TEMPLATE, true, "FILE", "add: the batch job script (as --launcher-opt template=FILE)", NULL },
    { "--hosts", S_HOSTS, true, "H:N,...", "add: ssh: N engines on each host H", NULL },
    { "--job", S_JOB, true, "JOB", "stop: every engine of an allocation (a2) or batch job, which is cancelled",
      NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

//  engines add N [--engines KIND] [--launcher-opt K=V]... [--template F] [--hosts H]:
//  the request body, or NULL with *rc (said).
static json_t *
s_add_request (int argc, char **argv, int *rc)
{
    *rc = MC_EXIT_USAGE;
    char *end;
    long n = argc > 1? strtol (argv [1], &end, 10): 0;
    if (argc < 2 || *end || n < 1 || n > 100000) {
        mc_cli_fail ("engines add needs a number of engines from 1 to 100000%s%s%s", argc > 1? " (not '": "",
                     argc > 1? argv [1]: "", argc > 1? "')": "");
        return NULL;
    }
    json_t *opts = json_array ();
    json_t *body = json_pack ("{s:i, s:o}", "engines", (json_int_t) n, "opts", opts);
    for (int i = 2; body && i < argc; i++) {
        const char *arg = argv [i];
        const mc_cli_option_t *option = mc_cli_option (mc_cli_engines_options, arg);
        bool valued = option && option->code != S_JOB;
        if (!valued || i + 1 == argc) {
            mc_cli_fail (valued? "%s needs a value": "engines add: unknown option '%s'", arg);
            json_decref (body);
            return NULL;
        }
        const char *value = argv [++i];
        char opt [4200];
        snprintf (opt, sizeof opt, "%s%s", option->code == S_TEMPLATE? "template=": option->code == S_HOSTS? "hosts=": "",
                  value);
        if (option->code == S_KIND)
            json_object_set_new (body, "kind", json_string (value));
        else
        if (!strchr (opt, '=')) {
            mc_cli_fail ("--launcher-opt '%s' is not KEY=VALUE", value);
            json_decref (body);
            return NULL;
        }
        else
            json_array_append_new (opts, json_string (opt));
    }
    if (!body)
        mc_cli_fail ("out of memory");
    *rc = body? 0: MC_EXIT_FAILED;
    return body;
}

//  engines stop ID... | --job JOB: the request body, or NULL with *rc (said).
static json_t *
s_stop_request (int argc, char **argv, int *rc)
{
    *rc = MC_EXIT_USAGE;
    const mc_cli_option_t *option = argc == 3? mc_cli_option (mc_cli_engines_options, argv [1]): NULL;
    if (option && option->code == S_JOB)
        return json_pack ("{s:s}", "job", argv [2]);
    if (argc < 2) {
        mc_cli_fail ("engines stop needs engine ids, or --job JOB (an allocation like a2, or a batch job id)");
        return NULL;
    }
    json_t *ids = json_array ();
    for (int i = 1; ids && i < argc; i++) {
        char *end;
        long id = strtol (argv [i], &end, 10);
        if (*end || !*argv [i] || id < 0) {
            mc_cli_fail ("engines stop: '%s' is not an engine id", argv [i]);
            json_decref (ids);
            return NULL;
        }
        json_array_append_new (ids, json_integer (id));
    }
    return json_pack ("{s:o}", "ids", ids);
}

int
mc_cli_engines (const mc_cli_command_t *command, int argc, char **argv)
{
    (void) command;
    bool add = argc > 0 && !strcmp (argv [0], "add"), stop = argc > 0 && !strcmp (argv [0], "stop");
    int rc = 0;
    json_t *body = NULL;
    if (argc > 0 && !add && !stop)
        return mc_cli_fail ("engines: unknown subcommand '%s' (add, stop)", argv [0]), MC_EXIT_USAGE;
    if ((add && !(body = s_add_request (argc, argv, &rc))) || (stop && !(body = s_stop_request (argc, argv, &rc))))
        return rc;
    mc_client_t *client = mc_cli_connect ();
    if (!client) {
        json_decref (body);
        return MC_EXIT_FAILED;
    }
    json_t *reply = NULL;
    if (add || stop) {
        reply = mc_cli_call (client, add? MC_OP_ENGINES_ADD: MC_OP_ENGINES_STOP, body);
        if (reply && mc_cli_json)
            mc_cli_print_json (reply);
        else
        if (reply && add)
            printf ("allocation %s: starting %s engines (see mcclient engines)\n",
                    json_string_value (json_object_get (reply, "allocation")), argv [1]);
        else
        if (reply) {
            const char *alloc = json_string_value (json_object_get (reply, "allocation"));
            printf ("%lld engines told to stop%s%s%s\n", (long long) json_integer_value (json_object_get (reply, "stopped")),
                    alloc && *alloc? "; allocation ": "", alloc && *alloc? alloc: "", alloc && *alloc? " cancelled": "");
        }
    }
    else {
        reply = mc_cli_call (client, MC_OP_ENGINES, NULL);
        json_t *allocations = reply? mc_cli_call (client, MC_OP_ALLOCATIONS, NULL): NULL;
        if (allocations)
            s_append_waiting (reply, allocations);
        json_decref (allocations);
        if (!allocations) {
            json_decref (reply);
            reply = NULL;
        }
        if (reply && mc_cli_json)
            mc_cli_print_json (reply);
        else
        if (reply)
            s_print_engines (reply);
    }
    rc = reply? 0: MC_EXIT_FAILED;
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

int
mc_cli_allocations (const mc_cli_command_t *command, int argc, char **argv)
{
    if (argc > 0)
        return mc_cli_fail ("allocations takes no arguments (not '%s')", argv [0]), MC_EXIT_USAGE;
    mc_client_t *client = mc_cli_connect ();
    json_t *reply = client? mc_cli_call (client, command->op, NULL): NULL;
    if (reply && mc_cli_json)
        mc_cli_print_json (reply);
    else
    if (reply)
        s_print_allocations (reply);
    int rc = reply? 0: MC_EXIT_FAILED;
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

void
mc_cli_engines_test (bool verbose)
{
    if (verbose)
        printf (" * mc_cli_engines: ");
    int rc;
    char *add [] = { "add", "4", "--engines", "slurm", "--launcher-opt", "partition=short", "--hosts", "h1:2" };
    json_t *body = s_add_request (8, add, &rc);
    assert (body && rc == 0 && json_integer_value (json_object_get (body, "engines")) == 4);
    assert (!strcmp (json_string_value (json_object_get (body, "kind")), "slurm"));
    json_t *opts = json_object_get (body, "opts");
    assert (json_array_size (opts) == 2 && !strcmp (json_string_value (json_array_get (opts, 1)), "hosts=h1:2"));
    json_decref (body);
    char *bad_add [][4] = { { "add" }, { "add", "0" }, { "add", "x" }, { "add", "2", "--colour", "red" },
                            { "add", "2", "--launcher-opt", "partition" }, { "add", "2", "--engines" } };
    int bad_addc [] = { 1, 2, 2, 4, 4, 3 };
    for (size_t i = 0; i < sizeof bad_addc / sizeof bad_addc [0]; i++)
        assert (!s_add_request (bad_addc [i], bad_add [i], &rc) && rc == MC_EXIT_USAGE);
    char *stop [] = { "stop", "1", "3" };
    body = s_stop_request (3, stop, &rc);
    assert (body && json_array_size (json_object_get (body, "ids")) == 2);
    json_decref (body);
    char *stop_job [] = { "stop", "--job", "1234" };
    body = s_stop_request (3, stop_job, &rc);
    assert (body && !strcmp (json_string_value (json_object_get (body, "job")), "1234"));
    json_decref (body);
    char *bad_stop [][3] = { { "stop" }, { "stop", "x" }, { "stop", "-1" } };
    for (size_t i = 0; i < 3; i++)
        assert (!s_stop_request (i? 2: 1, bad_stop [i], &rc) && rc == MC_EXIT_USAGE);

    //  Waiting engines: only live allocations short of engines, and failed ones.
    json_t *engines = json_pack ("[{s:i}]", "id", 0);
    json_t *allocations = json_pack ("[{s:s,s:s,s:i,s:i,s:s,s:s,s:s}, {s:s,s:s,s:i,s:i,s:s,s:s,s:s},"
                                     " {s:s,s:s,s:i,s:i,s:s,s:s,s:s}]",
                                     "id", "a1", "kind", "local", "engines", 1, "registered", 1, "job", "", "state", "running", "reason", "",
                                     "id", "a2", "kind", "slurm", "engines", 8, "registered", 3, "job", "77", "state", "pending", "reason", "Slurm: PENDING",
                                     "id", "a3", "kind", "slurm", "engines", 2, "registered", 0, "job", "78", "state", "cancelled", "reason", "");
    s_append_waiting (engines, allocations);
    assert (json_array_size (engines) == 2);
    json_t *waiting = json_array_get (engines, 1);
    assert (json_is_null (json_object_get (waiting, "id")) && json_integer_value (json_object_get (waiting, "count")) == 5);
    assert (!strcmp (json_string_value (json_object_get (waiting, "job")), "77"));
    json_decref (engines);
    json_decref (allocations);
    if (verbose)
        printf ("OK\n");
}
