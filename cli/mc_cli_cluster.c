/*  mc_cli_cluster: the cluster and job commands of mcclient. */
#include "mc_cli_cluster.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

//  What the arguments of a command here say.
typedef struct {
    int limit;                      //  jobs --limit N
    double timeout_s;               //  wait --timeout S; < 0: none
    const char *job;
    bool meta;                      //  get --meta
    bool output;                    //  get --output
} s_args_t;

enum { S_META = 1, S_LIMIT, S_TIMEOUT, S_OUTPUT };
const mc_cli_option_t mc_cli_cluster_options [] = {
    { "--meta", S_META, false, NULL, "per task: its engine, times, and what the kernel reported", "get" },
    { "--output", S_OUTPUT, false, NULL, "what each task's kernel printed (stdout, stderr), task by task", "get" },
    { "--limit", S_LIMIT, true, "N", "at most N jobs, newest first (default 20)", "jobs" },
    { "--timeout", S_TIMEOUT, true, "S", "give up after S seconds (exit status 3)", "wait" },
    { NULL, 0, false, NULL, NULL, NULL } };

//  Read a command's arguments: a job id when it needs one, --meta where
//  meta_ok; --limit and --timeout anywhere. 0, or MC_EXIT_USAGE (said).
static int
s_args (const mc_cli_command_t *command, int argc, char **argv, bool needs_job, bool meta_ok, s_args_t *args)
{
    *args = (s_args_t) { .limit = 20, .timeout_s = -1 };
    for (int i = 0; i < argc; i++) {
        const mc_cli_option_t *option = mc_cli_option (mc_cli_cluster_options, argv [i]);
        if (option && (((option->code == S_META || option->code == S_OUTPUT) && !meta_ok)
                   || (option->takes_value && i + 1 == argc)))
            option = NULL;
        if (option && option->code == S_META)
            args->meta = true;
        else
        if (option && option->code == S_OUTPUT)
            args->output = true;
        else
        if (option) {
            char *end;
            double value = strtod (argv [i + 1], &end);
            if (*end || !(value >= 0)) {
                mc_cli_fail ("bad %s '%s'", argv [i], argv [i + 1]);
                return MC_EXIT_USAGE;
            }
            if (option->code == S_LIMIT)
                args->limit = (int) value;
            else
                args->timeout_s = value;
            i++;
        }
        else
        if (!args->job && argv [i][0] != '-')
            args->job = argv [i];
        else {
            mc_cli_fail ("%s: unexpected argument '%s'", mc_cli_command_name (command), argv [i]);
            return MC_EXIT_USAGE;
        }
    }
    if (needs_job != (args->job != NULL)) {
        mc_cli_fail (needs_job? "%s needs a job id (see mcclient jobs)": "%s takes no job id",
                     mc_cli_command_name (command));
        return MC_EXIT_USAGE;
    }
    return 0;
}

//  What a command does once connected: an exit status.
typedef int (s_action_fn) (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args);

//  Read the arguments, connect, act, disconnect: every command here.
static int
s_run (const mc_cli_command_t *command, int argc, char **argv, bool needs_job, bool meta_ok, s_action_fn *action)
{
    s_args_t args;
    int rc = s_args (command, argc, argv, needs_job, meta_ok, &args);
    if (rc)
        return rc;
    mc_client_t *client = mc_cli_connect ();
    if (!client)
        return MC_EXIT_FAILED;
    rc = action (command, client, &args);
    mc_client_destroy (&client);
    return rc;
}

//  --------------------------------------------------------------------------
//  Replies for people, one printer per operation

static void
s_print_ping (const json_t *reply)
{
    (void) reply;
    puts ("controller answers");
}

static void
s_print_shutdown (const json_t *reply)
{
    (void) reply;
    puts ("controller is stopping");
}

static void
s_print_ids (const json_t *reply)
{
    size_t i;
    json_t *id;
    printf ("%zu engine%s:", json_array_size (reply), json_array_size (reply) == 1? "": "s");
    json_array_foreach (reply, i, id)
        printf (" %lld", (long long) json_integer_value (id));
    printf ("\n");
}

//  "[origin hash]" and, on the next line, "doc (engines: ...)" of an entry
//  of the kernels reply, around what line prints in between.
static void
s_print_entry (const json_t *k, void (*line) (const json_t *k))
{
    const char *origin = json_string_value (json_object_get (k, "origin"));
    const char *hash = json_string_value (json_object_get (k, "hash"));
    printf ("%-10s [%s%s%s]", json_string_value (json_object_get (k, "name")), origin? origin: "built-in",
            hash && *hash? " ": "", hash? hash: "");
    line (k);
    printf ("\n           %s (engines:", json_string_value (json_object_get (k, "doc")));
    size_t e;
    json_t *id;
    json_array_foreach (json_object_get (k, "engines"), e, id)
        printf (" %lld", (long long) json_integer_value (id));
    printf (")\n");
}

//  A kernel's typed arguments: " name:type[=default] ...".
static void
s_print_args (const json_t *k)
{
    size_t a;
    json_t *arg;
    json_array_foreach (json_object_get (k, "args"), a, arg) {
        json_t *fallback = json_object_get (arg, "default");
        printf (" %s:%s%s%s", json_string_value (json_object_get (arg, "name")),
                json_string_value (json_object_get (arg, "type")), fallback? "=": "",
                fallback? json_string_value (fallback): "");
    }
}

//  A walker target's shape: " 2-D density, 0 params".
static void
s_print_shape (const json_t *k)
{
    json_int_t params = json_integer_value (json_object_get (k, "params"));
    printf (" %lld-D %s, ", (long long) json_integer_value (json_object_get (k, "dim")),
            json_is_true (json_object_get (k, "log"))? "log density": "density");
    if (params < 0)
        printf ("any params");
    else
        printf ("%lld param%s", (long long) params, params == 1? "": "s");
}

static bool
s_is_target (const json_t *k)
{
    const char *kind = json_string_value (json_object_get (k, "kind"));
    return kind && !strcmp (kind, "target");
}

//  Kernels, then the walker's targets under a line of their own (which
//  the bash completion's kernel list stops at).
static void
s_print_kernels (const json_t *reply)
{
    size_t i;
    json_t *k;
    json_array_foreach (reply, i, k)
        if (!s_is_target (k))
            s_print_entry (k, s_print_args);
    bool heading = false;
    json_array_foreach (reply, i, k)
        if (s_is_target (k)) {
            if (!heading)
                printf ("targets of the walker (walker target=NAME):\n");
            heading = true;
            s_print_entry (k, s_print_shape);
        }
}

static void
s_print_queue (const json_t *reply)
{
    printf ("load-balanced queue: %lld tasks\n", (long long) json_integer_value (json_object_get (reply, "queued")));
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get (reply, "engines"), i, e)
        printf ("engine %lld: %lld queued, %lld running\n",
                (long long) json_integer_value (json_object_get (e, "id")),
                (long long) json_integer_value (json_object_get (e, "queued")),
                (long long) json_integer_value (json_object_get (e, "running")));
    //  Fair share: per user, then per job of it.
    json_t *u;
    json_array_foreach (json_object_get (reply, "users"), i, u) {
        printf ("user %s (weight %lld): %lld queued, %lld running\n", json_string_value (json_object_get (u, "user")),
                (long long) json_integer_value (json_object_get (u, "weight")),
                (long long) json_integer_value (json_object_get (u, "queued")),
                (long long) json_integer_value (json_object_get (u, "running")));
        size_t k;
        json_t *j;
        json_array_foreach (json_object_get (u, "jobs"), k, j)
            printf ("  %-8s priority %-5lld %lld queued, %lld running\n", json_string_value (json_object_get (j, "job")),
                    (long long) json_integer_value (json_object_get (j, "priority")),
                    (long long) json_integer_value (json_object_get (j, "queued")),
                    (long long) json_integer_value (json_object_get (j, "running")));
    }
}

static void
s_print_jobs (const json_t *reply)
{
    size_t i;
    json_t *j;
    json_array_foreach (reply, i, j)
        printf ("%-8s %-8s %-6s %-10s %lld/%lld done, %lld failed, priority %lld, user %s\n",
                json_string_value (json_object_get (j, "job")), json_string_value (json_object_get (j, "state")),
                json_string_value (json_object_get (j, "kind")), json_string_value (json_object_get (j, "kernel")),
                (long long) json_integer_value (json_object_get (j, "done")),
                (long long) json_integer_value (json_object_get (j, "total")),
                (long long) json_integer_value (json_object_get (j, "failed")),
                (long long) json_integer_value (json_object_get (j, "priority")),
                json_string_value (json_object_get (j, "user"))? json_string_value (json_object_get (j, "user")): "-");
}

//  How each operation's reply reads without --json.
static void (*const s_printers [MC_OP_COUNT]) (const json_t *reply) = {
    [MC_OP_PING]     = s_print_ping,
    [MC_OP_IDS]      = s_print_ids,
    [MC_OP_KERNELS]  = s_print_kernels,
    [MC_OP_QUEUE]    = s_print_queue,
    [MC_OP_SHUTDOWN] = s_print_shutdown,
    [MC_OP_JOBS]     = s_print_jobs,
};

static int
s_cluster_op (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args)
{
    assert (command->op > MC_OP_NONE && command->op < MC_OP_COUNT && s_printers [command->op]);
    json_t *body = NULL;
    if (command->op == MC_OP_JOBS && !(body = json_pack ("{s:i}", "limit", args->limit)))
        return mc_cli_fail ("out of memory");
    json_t *reply = mc_cli_call (client, command->op, body);
    if (!reply)
        return MC_EXIT_FAILED;
    if (mc_cli_json)
        mc_cli_print_json (reply);
    else
        s_printers [command->op] (reply);
    json_decref (reply);
    return 0;
}

int
mc_cli_cluster_op (const mc_cli_command_t *command, int argc, char **argv)
{
    return s_run (command, argc, argv, false, false, s_cluster_op);
}

//  --------------------------------------------------------------------------
//  One job

//  The reply of op on args->job (with --meta for result), or NULL (said).
static json_t *
s_job_call (mc_client_t *client, mc_op_code_t op, const s_args_t *args)
{
    json_t *body = op == MC_OP_RESULT? json_pack ("{s:s, s:b}", "job", args->job, "meta", args->meta || args->output)
                                     : json_pack ("{s:s}", "job", args->job);
    if (!body) {
        mc_cli_fail ("out of memory");
        return NULL;
    }
    return mc_cli_call (client, op, body);
}

static void
s_print_status (const json_t *status)
{
    const char *keys [] = { "job", "state", "kind", "kernel", "total", "done", "failed", "tasks", "seed", "priority",
                            "user" };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++) {
        json_t *value = json_object_get (status, keys [i]);
        if (json_is_string (value))
            printf ("%-10s %s\n", keys [i], json_string_value (value));
        else
            printf ("%-10s %lld\n", keys [i], (long long) json_integer_value (value));
    }
    const char *times [] = { "submitted", "finished" };
    for (int i = 0; i < 2; i++) {
        json_t *value = json_object_get (status, times [i]);
        if (json_is_number (value)) {
            time_t t = (time_t) json_number_value (value);
            char stamp [64];
            strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime (&t));
            printf ("%-10s %s\n", times [i], stamp);
        }
        else
            printf ("%-10s -\n", times [i]);
    }
}

static int
s_status (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args)
{
    (void) command;
    json_t *reply = s_job_call (client, MC_OP_STATUS, args);
    if (!reply)
        return MC_EXIT_FAILED;
    if (mc_cli_json)
        mc_cli_print_json (reply);
    else
        s_print_status (reply);
    json_decref (reply);
    return 0;
}

int
mc_cli_status (const mc_cli_command_t *command, int argc, char **argv)
{
    return s_run (command, argc, argv, true, false, s_status);
}

static int
s_ready (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args)
{
    (void) command;
    json_t *reply = s_job_call (client, MC_OP_STATUS, args);
    if (!reply)
        return MC_EXIT_FAILED;
    puts (json_is_null (json_object_get (reply, "finished"))? "false": "true");
    json_decref (reply);
    return 0;
}

int
mc_cli_ready (const mc_cli_command_t *command, int argc, char **argv)
{
    return s_run (command, argc, argv, true, false, s_ready);
}

static double
s_now (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

//  The progress bar of a job's status, elapsed seconds after it started,
//  into line.
static void
s_progress_line (const json_t *status, double elapsed, char *line, size_t len)
{
    double total = (double) json_integer_value (json_object_get (status, "total"));
    double done = (double) (json_integer_value (json_object_get (status, "done"))
                          + json_integer_value (json_object_get (status, "failed")));
    double rate = elapsed > 0? done / elapsed: 0;
    int width = 30, filled = total > 0? (int) (width * done / total): width;
    char bar [64];
    for (int i = 0; i < width; i++)
        bar [i] = i < filled? '#': '-';
    bar [width] = 0;
    int used = snprintf (line, len, "\r[%s] %.0f/%.0f  %.1f/s  %.1fs ", bar, done, total, rate, elapsed);
    if (rate > 0 && done < total && used > 0 && (size_t) used < len)
        snprintf (line + used, len - (size_t) used, "ETA %.0fs ", (total - done) / rate);
}

static void
s_progress (const json_t *status, double started)
{
    char line [256];
    s_progress_line (status, s_now () - started, line, sizeof line);
    printf ("%s\033[K", line);
    fflush (stdout);
}

static int
s_wait (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args)
{
    (void) command;
    const char *job = args->job;
    double timeout_s = args->timeout_s;
    bool bar = !mc_cli_json && isatty (STDOUT_FILENO);
    double started = s_now ();
    json_t *status = NULL;
    while (true) {
        //  Short waits so that the bar moves and the timeout is kept.
        int slice = bar? 200: 1000;
        if (timeout_s >= 0) {
            double left = timeout_s - (s_now () - started);
            if (left <= 0)
                break;
            if (left * 1000 < slice)
                slice = (int) (left * 1000) + 1;
        }
        json_decref (status);
        status = mc_client_wait (client, job, slice);
        //  No reply at all: the controller went away; it may come back
        //  (the library asks again after it reconnects) within our time.
        if (!status && mc_client_errcode (client) == -1
        &&  (timeout_s < 0 || s_now () - started < timeout_s))
            continue;
        if (!status)
            return mc_cli_fail ("%s", mc_client_error (client));
        if (bar)
            s_progress (status, started);
        if (!json_is_null (json_object_get (status, "finished")))
            break;
    }
    if (bar)
        printf ("\n");
    bool finished = status && !json_is_null (json_object_get (status, "finished"));
    if (mc_cli_json)
        mc_cli_print_json (status);
    else
    if (status)
        printf ("%s: %s (%lld done, %lld failed of %lld)\n", job,
                json_string_value (json_object_get (status, "state")),
                (long long) json_integer_value (json_object_get (status, "done")),
                (long long) json_integer_value (json_object_get (status, "failed")),
                (long long) json_integer_value (json_object_get (status, "total")));
    int rc = !finished? MC_EXIT_TIMEOUT: json_integer_value (json_object_get (status, "failed"))? MC_EXIT_FAILED: 0;
    if (!finished)
        fprintf (stderr, "mcclient: %s did not finish within %g s\n", job, timeout_s);
    json_decref (status);
    return rc;
}

int
mc_cli_wait (const mc_cli_command_t *command, int argc, char **argv)
{
    return s_run (command, argc, argv, true, false, s_wait);
}

//  get --output: what each task printed (its metadata's "stdout" and
//  "stderr"), task by task, under a line naming the task and its engine;
//  with --json, [{ "task", "engine", "stdout", "stderr" }] of the tasks
//  that printed.
static void
s_print_output (const json_t *meta)
{
    json_t *list = json_array ();
    size_t i;
    json_t *t;
    json_array_foreach (meta, i, t) {
        json_t *m = json_object_get (t, "meta");
        json_t *out = json_object_get (m, "stdout"), *err = json_object_get (m, "stderr");
        if (!json_is_string (out) && !json_is_string (err))
            continue;
        if (mc_cli_json) {
            json_array_append_new (list, json_pack ("{s:O, s:O, s:O?, s:O?}", "task", json_object_get (t, "task"),
                                                    "engine", json_object_get (t, "engine"), "stdout", out, "stderr", err));
            continue;
        }
        const char *names [2] = { "stdout", "stderr" };
        json_t *texts [2] = { out, err };
        for (int k = 0; k < 2; k++)
            if (json_is_string (texts [k])) {
                const char *text = json_string_value (texts [k]);
                size_t len = strlen (text);
                printf ("--- task %lld (engine %lld) %s ---\n%s%s", (long long) json_integer_value (json_object_get (t, "task")),
                        (long long) json_integer_value (json_object_get (t, "engine")), names [k], text,
                        len && text [len - 1] == '\n'? "": "\n");
            }
    }
    if (mc_cli_json)
        mc_cli_print_json (list);
    json_decref (list);
}

static int
s_get (const mc_cli_command_t *command, mc_client_t *client, const s_args_t *args)
{
    (void) command;
    json_t *reply = s_job_call (client, MC_OP_RESULT, args);
    if (!reply)
        return MC_EXIT_FAILED;
    int rc = 0;
    if (args->output)
        s_print_output (json_object_get (reply, "meta"));
    else
    if (args->meta)
        mc_cli_print_json (json_object_get (reply, "meta"));
    else
    if (json_is_null (json_object_get (reply, "finished")))
        rc = mc_cli_fail ("%s has not finished yet (%lld of %lld items done); try: mcclient wait %s", args->job,
                          (long long) json_integer_value (json_object_get (reply, "done")),
                          (long long) json_integer_value (json_object_get (reply, "total")), args->job);
    else
        rc = mc_cli_print_result (reply, NULL);
    json_decref (reply);
    return rc;
}

int
mc_cli_get (const mc_cli_command_t *command, int argc, char **argv)
{
    return s_run (command, argc, argv, true, true, s_get);
}

//  --------------------------------------------------------------------------
//  Selftest

//  Parse a command line of `text` (words split at spaces) for a command
//  named get (which takes --meta) or jobs: the exit status.
static int
s_test_args (const char *text, bool needs_job, s_args_t *args)
{
    char copy [256], *argv [16], *save = NULL;
    int argc = 0;
    snprintf (copy, sizeof copy, "%s", text);
    for (char *word = strtok_r (copy, " ", &save); word && argc < 16; word = strtok_r (NULL, " ", &save))
        argv [argc++] = word;
    const mc_cli_command_t command = { .name = needs_job? "get": NULL, .op = MC_OP_JOBS };
    int rc = s_args (&command, argc, argv, needs_job, needs_job, args);
    if (args->job && rc == 0)
        args->job = strcmp (args->job, "j12")? "?": "j12";     //  not into copy, which goes now
    return rc;
}

void
mc_cli_cluster_test (bool verbose)
{
    printf (" * mc_cli_cluster: ");
    if (verbose)
        printf ("\n");
    s_args_t args;
    assert (s_test_args ("", false, &args) == 0 && args.limit == 20 && args.timeout_s < 0 && !args.job);
    assert (s_test_args ("--limit 5", false, &args) == 0 && args.limit == 5);
    assert (s_test_args ("j12 --meta --timeout 0.5", true, &args) == 0 && args.meta && args.timeout_s == 0.5);
    assert (!strcmp (args.job, "j12"));
    assert (s_test_args ("--limit x", false, &args) == MC_EXIT_USAGE);
    assert (s_test_args ("--limit -1", false, &args) == MC_EXIT_USAGE);
    assert (s_test_args ("--limit", false, &args) == MC_EXIT_USAGE);       //  no value: unexpected
    assert (s_test_args ("--meta", false, &args) == MC_EXIT_USAGE);        //  for get only
    assert (s_test_args ("j1 j2", true, &args) == MC_EXIT_USAGE);
    assert (s_test_args ("--meta", true, &args) == MC_EXIT_USAGE);         //  get needs a job
    assert (s_test_args ("j1", false, &args) == MC_EXIT_USAGE);            //  jobs takes none
    //  The progress bar: a third done in 2 s, so 4 s to go.
    json_t *status = json_pack ("{s:i, s:i, s:i}", "total", 30, "done", 9, "failed", 1);
    assert (status);
    char line [256];
    s_progress_line (status, 2.0, line, sizeof line);
    if (verbose)
        printf ("   %s\n", line + 1);
    assert (!strcmp (line, "\r[##########--------------------] 10/30  5.0/s  2.0s ETA 4s "));
    json_decref (status);
    //  Every operation without a command of its own has a printer (the job
    //  commands print as they go; trust, abort, purge and the engines' have their own).
    for (int op = MC_OP_PING; op < MC_OP_COUNT; op++)
        assert (!s_printers [op] == (op == MC_OP_SUBMIT || op == MC_OP_STATUS || op == MC_OP_WAIT || op == MC_OP_RESULT
                                     || op == MC_OP_TRUST || op == MC_OP_ABORT || op == MC_OP_PURGE || op == MC_OP_ENGINES
                                     || op == MC_OP_ALLOCATIONS || op == MC_OP_ENGINES_ADD || op == MC_OP_ENGINES_STOP || op == MC_OP_RENICE
                                     || op == MC_OP_KERNELS_ADD || op == MC_OP_KERNELS_REMOVE));
    printf ("OK\n");
}
