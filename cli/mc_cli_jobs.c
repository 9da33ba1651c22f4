/*  mc_cli_jobs: abort, renice and purge. */
#include "mc_cli_jobs.h"
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
mc_cli_abort (const mc_cli_command_t *command, int argc, char **argv)
{
    if (argc != 1 || argv [0][0] == '-')
        return mc_cli_fail ("%s takes one job id", mc_cli_command_name (command)), MC_EXIT_USAGE;
    mc_client_t *client = mc_cli_connect ();
    if (!client)
        return MC_EXIT_FAILED;
    json_t *reply = mc_client_abort (client, argv [0]);
    int rc = 0;
    if (!reply) {
        rc = mc_cli_fail ("%s", mc_client_error (client));
        mc_client_destroy (&client);
        return rc;
    }
    long long running = json_integer_value (json_object_get (reply, "running"));
    long long grace_ms = json_integer_value (json_object_get (reply, "grace_ms"));
    if (!mc_cli_json)
        printf ("%s aborted: %lld tasks cancelled, %lld running told to stop (within %lld ms, or their engines "
                "restart), %lld had finished\n", argv [0],
                (long long) json_integer_value (json_object_get (reply, "cancelled")), running, grace_ms,
                (long long) json_integer_value (json_object_get (reply, "finished")));
    fflush (stdout);                //  seen at once, before the wait below
    //  What became of the running tasks is known once the job has ended:
    //  wait for that, a little past the grace (an engine takes a moment to
    //  restart and register).
    json_t *ended = running? mc_client_wait (client, argv [0], (int) (grace_ms < 600000? grace_ms: 600000) + 5000)
                           : mc_client_status (client, argv [0]);
    const char *state = ended? json_string_value (json_object_get (ended, "state")): NULL;
    if (!ended)
        rc = mc_cli_fail ("%s", mc_client_error (client));
    else
    if (mc_cli_json) {
        json_object_set (reply, "status", ended);
        mc_cli_print_json (reply);
    }
    else
        printf ("%s %s: %lld items done, %lld failed of %lld\n", argv [0],
                !state || strcmp (state, "aborted")? "has not ended yet": "ended aborted",
                (long long) json_integer_value (json_object_get (ended, "done")),
                (long long) json_integer_value (json_object_get (ended, "failed")),
                (long long) json_integer_value (json_object_get (ended, "total")));
    json_decref (ended);
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

int
mc_cli_renice (const mc_cli_command_t *command, int argc, char **argv)
{
    char *end = NULL;
    long priority = argc == 2? strtol (argv [1], &end, 10): 0;
    if (argc != 2 || argv [0][0] == '-' || end == argv [1] || *end || priority < INT32_MIN || priority > INT32_MAX)
        return fprintf (stderr, "usage: mcclient %s JOB N\n", mc_cli_command_name (command)), MC_EXIT_USAGE;
    mc_client_t *client = mc_cli_connect ();
    if (!client)
        return MC_EXIT_FAILED;
    json_t *reply = mc_client_renice (client, argv [0], (int) priority);
    int rc = reply? 0: mc_cli_fail ("%s", mc_client_error (client));
    if (reply && mc_cli_json)
        mc_cli_print_json (reply);
    else
    if (reply)
        printf ("%s: priority %lld (was %lld)\n", argv [0],
                (long long) json_integer_value (json_object_get (reply, "priority")),
                (long long) json_integer_value (json_object_get (reply, "was")));
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

int
mc_cli_parse_date (const char *text, int64_t now, int64_t *seconds)
{
    char *end;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (end != text && !errno && n >= 0) {
        int64_t unit = !*end? 0: !strcmp (end, "s")? 1: !strcmp (end, "m")? 60: !strcmp (end, "h")? 3600
                     : !strcmp (end, "d")? 86400: -1;
        if (unit == 0 && end - text != 4) {
            *seconds = n;               //  Unix seconds
            return 0;
        }
        if (unit > 0 && n <= INT64_MAX / unit && n * unit <= now) {
            *seconds = now - n * unit;  //  an age
            return 0;
        }
    }
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    const char *formats [] = { "%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                               "%Y-%m-%d %H:%M:%S" };
    for (size_t i = 0; i < sizeof formats / sizeof formats [0]; i++) {
        memset (&tm, 0, sizeof tm);
        const char *rest = strptime (text, formats [i], &tm);
        if (rest && !*rest) {
            tm.tm_isdst = -1;
            time_t t = mktime (&tm);
            if (t == (time_t) -1)
                return -1;
            *seconds = (int64_t) t;
            return 0;
        }
    }
    return -1;
}

enum { S_FINISHED = 1, S_BEFORE };
const mc_cli_option_t mc_cli_purge_options [] = {
    { "--finished", S_FINISHED, false, NULL, "every finished job", NULL },
    { "--before", S_BEFORE, true, "DATE", "jobs finished before DATE: Unix seconds, YYYY-MM-DD[ HH:MM[:SS]], or an age "
      "(7d, 12h, 30m)", NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

int
mc_cli_purge (const mc_cli_command_t *command, int argc, char **argv)
{
    const char *name = mc_cli_command_name (command);
    json_t *jobs = json_array ();
    int64_t before = 0;
    bool finished = false;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const mc_cli_option_t *option = mc_cli_option (mc_cli_purge_options, argv [i]);
        if (option && option->code == S_FINISHED)
            finished = true;
        else
        if (option && option->code == S_BEFORE && i + 1 < argc) {
            if (mc_cli_parse_date (argv [++i], (int64_t) time (NULL), &before) || before <= 0) {
                fprintf (stderr, "mcclient %s: --before takes Unix seconds, YYYY-MM-DD[ HH:MM[:SS]] "
                                 "or an age like 7d, 12h, 30m (not '%s')\n", name, argv [i]);
                return json_decref (jobs), MC_EXIT_USAGE;
            }
        }
        else
        if (argv [i][0] == '-')
            rc = MC_EXIT_USAGE;
        else
            json_array_append_new (jobs, json_string (argv [i]));
    }
    if (rc == 0 && (json_array_size (jobs) > 0) + (before > 0) + finished != 1)
        rc = MC_EXIT_USAGE;
    if (rc == MC_EXIT_USAGE)
        mc_cli_fail ("%s: give job ids, or --before DATE, or --finished", name);
    mc_client_t *client = rc? NULL: mc_cli_connect ();
    if (!rc && !client)
        rc = MC_EXIT_FAILED;
    if (!rc) {
        json_t *reply = mc_client_purge (client, json_array_size (jobs)? jobs: NULL, before);
        if (!reply)
            rc = mc_cli_fail ("%s", mc_client_error (client));
        else
        if (mc_cli_json)
            mc_cli_print_json (reply);
        else {
            printf ("purged %lld jobs, %lld results, %.1f MB given back",
                    (long long) json_integer_value (json_object_get (reply, "jobs")),
                    (long long) json_integer_value (json_object_get (reply, "results")),
                    json_integer_value (json_object_get (reply, "bytes")) / 1e6);
            json_int_t skipped = json_integer_value (json_object_get (reply, "skipped"));
            if (skipped)
                printf (" (%lld finished jobs kept: a client still waits on them)", (long long) skipped);
            printf ("\n");
        }
        json_decref (reply);
    }
    mc_client_destroy (&client);
    json_decref (jobs);
    return rc;
}

//  --------------------------------------------------------------------------

void
mc_cli_jobs_test (bool verbose)
{
    if (verbose)
        printf (" * mc_cli_jobs: ");
    int64_t s, now = 1800000000;
    assert (mc_cli_parse_date ("1700000000", now, &s) == 0 && s == 1700000000);
    assert (mc_cli_parse_date ("7d", now, &s) == 0 && s == now - 7 * 86400);
    assert (mc_cli_parse_date ("30m", now, &s) == 0 && s == now - 1800);
    assert (mc_cli_parse_date ("2026-12-01", now, &s) == 0);
    int64_t day = s;
    assert (mc_cli_parse_date ("2026-12-01 12:00", now, &s) == 0 && s == day + 12 * 3600);
    assert (mc_cli_parse_date ("2026-12-01T12:00:30", now, &s) == 0 && s == day + 12 * 3600 + 30);
    assert (mc_cli_parse_date ("yesterday", now, &s) == -1);
    assert (mc_cli_parse_date ("7w", now, &s) == -1);
    assert (mc_cli_parse_date ("2026-13-01", now, &s) == -1);
    assert (mc_cli_parse_date ("2026", now, &s) == -1);
    if (verbose)
        printf ("OK\n");
}
