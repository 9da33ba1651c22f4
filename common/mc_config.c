/*  mc_config: the table of named limits and their defaults. */
#include "mc_config.h"
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *key;
    size_t offset;
    int64_t fallback;
    const char *unit;
} s_entry_t;

#define ENTRY(k, d, u) { #k, offsetof (mc_config_t, k), d, u }
static const s_entry_t s_table [] = {
    ENTRY (heartbeat_ms,         1000,             "ms"),
    ENTRY (heartbeat_liveness,   3,                "intervals"),
    ENTRY (heartbeat_pings_per_s, 1500,            "PINGs a second from all engines; more engines get longer intervals"),
    ENTRY (max_inflight,         256,              "tasks per engine"),
    ENTRY (pipeline_ms,          5,                "ms of work per engine"),
    ENTRY (max_queued_tasks,     10000000,         "tasks"),
    ENTRY (max_msg_bytes,        (1LL << 30) + (1LL << 20), "bytes"),
    ENTRY (store_flush_ms,       20,               "ms"),
    ENTRY (store_fail_ms,        30000,            "ms a finished job waits for a failing store before it fails"),
    ENTRY (connect_timeout_ms,   3000,             "ms"),
    ENTRY (register_timeout_ms,  30000,            "ms"),
    ENTRY (engine_grace_ms,      30000,            "ms local engines wait for a controller that died"),
    ENTRY (max_waiters_per_job,  1024,             "requests"),
    ENTRY (max_value_bytes,      1LL << 30,        "bytes in one pushed or scattered value"),
    ENTRY (max_client_bytes,     2LL << 30,        "bytes of array data the controller holds per client"),
    ENTRY (max_items_per_task,   10000000,         "items in one task of a map"),
    ENTRY (max_task_bytes,       (1LL << 30) + (1LL << 20), "bytes of one task: arguments, items and arrays"),
    ENTRY (max_job_bytes,        2LL << 30,        "bytes of one submit request: body and arrays"),
    ENTRY (engine_restarts_per_min, 10,            "restarts of dead local engines in any minute; past it, none"),
    ENTRY (store_max_bytes,      0,                "bytes of store.db; past it the oldest finished jobs go (0: no bound)"),
    ENTRY (result_ttl_s,         0,                "s a finished job is kept, then purged (0: for ever)"),
    ENTRY (max_task_deaths,      3,                "engines that may die running one load-balanced task; then it fails"),
    ENTRY (launcher_poll_ms,     5000,             "ms between questions to a batch system about its jobs (squeue, qstat)"),
    ENTRY (autoscale_idle_s,     60,               "s an engine may stay idle before --autoscale releases it"),
    ENTRY (abort_grace_ms,       5000,             "ms an aborted task's kernel may take to return; then its engine restarts"),
};
#define TABLE_SIZE (sizeof s_table / sizeof s_table [0])

void
mc_config_defaults (mc_config_t *self)
{
    self->launcher_opts [0] = 0;
    self->shares [0] = 0;
    for (size_t i = 0; i < TABLE_SIZE; i++)
        *(int64_t *) ((char *) self + s_table [i].offset) = s_table [i].fallback;
}

int
mc_config_set (mc_config_t *self, const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (strcmp (s_table [i].key, key))
            continue;
        char *end;
        errno = 0;
        long long v = strtoll (value, &end, 10);
        //  A key whose default is 0 (off) may be set back to 0.
        if (errno || end == value || *end || v < 0 || (v == 0 && s_table [i].fallback != 0)) {
            snprintf (err, errlen, "config %s: '%s' is not a positive integer", key, value);
            return -1;
        }
        *(int64_t *) ((char *) self + s_table [i].offset) = v;
        return 0;
    }
    snprintf (err, errlen, "unknown config key '%s'", key);
    return -1;
}

//  share.NAME_OR_KEY = WEIGHT (ipclusterd): a user's weight in fair share.
//  A client key in Z85 may hold '#' and '=', so the line is read whole:
//  the weight follows the last '=', and a comment needs a blank before it.
//  1 when the line is no share line, 0 when taken, -1 with err.
static int
s_share_line (mc_config_t *self, const char *line, char *err, size_t errlen)
{
    char text [512];
    snprintf (text, sizeof text, "%s", line + strspn (line, " \t"));
    if (strncmp (text, "share.", 6))
        return 1;
    text [strcspn (text, "\r\n")] = 0;
    for (char *c = text; *c; c++)
        if ((*c == ' ' || *c == '\t') && c [1 + strspn (c + 1, " \t")] == '#') {
            *c = 0;
            break;
        }
    char *eq = strrchr (text, '=');
    char *name = text + 6;
    if (eq)
        *eq = 0;
    size_t len = strlen (name);
    while (len && (name [len - 1] == ' ' || name [len - 1] == '\t'))
        name [--len] = 0;
    if (!eq || len == 0 || strcspn (name, " \t") != len) {
        snprintf (err, errlen, "expected 'share.NAME_OR_KEY = WEIGHT'");
        return -1;
    }
    char *value = eq + 1 + strspn (eq + 1, " \t"), *stop;
    for (size_t n = strlen (value); n && (value [n - 1] == ' ' || value [n - 1] == '\t'); n--)
        value [n - 1] = 0;
    errno = 0;
    long weight = strtol (value, &stop, 10);
    if (errno || stop == value || *stop || weight < 1 || weight > MC_CONFIG_SHARE_MAX) {
        snprintf (err, errlen, "share.%s: the weight must be an integer from 1 to %d, not '%s'", name,
                  MC_CONFIG_SHARE_MAX, value);
        return -1;
    }
    size_t used = strlen (self->shares);
    if (used + len + 8 > sizeof self->shares) {
        snprintf (err, errlen, "too many share lines");
        return -1;
    }
    snprintf (self->shares + used, sizeof self->shares - used, "%s %ld\n", name, weight);
    return 0;
}

int
mc_config_load (mc_config_t *self, const char *path, char *err, size_t errlen)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    char line [512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        lineno++;
        char sub [256];
        int share = s_share_line (self, line, sub, sizeof sub);
        if (share <= 0) {
            if (share)
                snprintf (err, errlen, "%s:%d: %s", path, lineno, sub), rc = -1;
            continue;
        }
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char key [128], value [128];
        char extra;
        //  launcher.KEY = VALUE: a launcher's option (ipclusterd), whose
        //  value may hold spaces (ssh options, an #SBATCH line).
        int at = 0;
        if (sscanf (line, " launcher.%127[A-Za-z0-9_] = %n", key, &at) == 1 && at) {
            char *text = line + at;
            text [strcspn (text, "\r\n")] = 0;
            for (size_t len = strlen (text); len && (text [len - 1] == ' ' || text [len - 1] == '\t'); len--)
                text [len - 1] = 0;
            size_t used = strlen (self->launcher_opts);
            if (!*text || used + strlen (key) + strlen (text) + 3 > sizeof self->launcher_opts) {
                snprintf (err, errlen, "%s:%d: %s", path, lineno, *text? "too many launcher options": "expected 'launcher.KEY = VALUE'");
                rc = -1;
            }
            else
                snprintf (self->launcher_opts + used, sizeof self->launcher_opts - used, "%s=%s\n", key, text);
            continue;
        }
        int n = sscanf (line, " %127[A-Za-z0-9_] = %127s %c", key, value, &extra);
        if (n <= 0 && strspn (line, " \t\r\n") == strlen (line))
            continue;
        if (n != 2) {
            snprintf (err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
        }
        else {
            char sub [256];
            if (mc_config_set (self, key, value, sub, sizeof sub)) {
                snprintf (err, errlen, "%s:%d: %s", path, lineno, sub);
                rc = -1;
            }
        }
    }
    fclose (file);
    return rc;
}

void
mc_config_print (const mc_config_t *self, FILE *out)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        fprintf (out, "%-24s %lld  (%s)\n", s_table [i].key,
                 (long long) *(const int64_t *) ((const char *) self + s_table [i].offset), s_table [i].unit);
    for (const char *opt = self->launcher_opts; *opt; opt = strchr (opt, '\n') + 1) {
        int key = (int) strcspn (opt, "="), line = (int) (strchr (opt, '\n') - opt);
        fprintf (out, "launcher.%.*s = %.*s\n", key, opt, line - key - 1, opt + key + 1);
    }
    for (const char *share = self->shares; *share; share = strchr (share, '\n') + 1) {
        int name = (int) strcspn (share, " "), line = (int) (strchr (share, '\n') - share);
        fprintf (out, "share.%.*s = %.*s\n", name, share, line - name - 1, share + name + 1);
    }
}

//  --------------------------------------------------------------------------
//  Self test

void
mc_config_test (bool verbose)
{
    if (verbose)
        printf (" * mc_config: ");
    mc_config_t config;
    mc_config_defaults (&config);
    assert (config.heartbeat_ms == 1000 && config.max_inflight == 256 && config.engine_restarts_per_min == 10 && config.max_msg_bytes == (1LL << 30) + (1LL << 20));
    char err [256];
    assert (mc_config_set (&config, "max_inflight", "8", err, sizeof err) == 0 && config.max_inflight == 8);
    const char *refused [] = { "0", "-1", "8x", "", "99999999999999999999" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        assert (mc_config_set (&config, "max_inflight", refused [i], err, sizeof err) == -1);
        assert (strstr (err, "not a positive integer"));
    }
    assert (config.max_inflight == 8);
    assert (mc_config_set (&config, "no_such_key", "1", err, sizeof err) == -1 && strstr (err, "unknown"));
    //  Bounds that are off by default may be set back to off.
    assert (config.store_max_bytes == 0 && config.result_ttl_s == 0);
    assert (mc_config_set (&config, "result_ttl_s", "60", err, sizeof err) == 0 && config.result_ttl_s == 60);
    assert (mc_config_set (&config, "result_ttl_s", "0", err, sizeof err) == 0 && config.result_ttl_s == 0);
    assert (mc_config_set (&config, "store_max_bytes", "-1", err, sizeof err) == -1);

    //  A file: comments and blank lines pass, the first bad line stops it.
    char path [] = "/tmp/mc_config_test_XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    FILE *file = fdopen (fd, "w");
    assert (file);
    fprintf (file, "# limits\n\nheartbeat_ms = 250   # faster\n  pipeline_ms=7\nstore_flush_ms = x\nmax_inflight = 2\n");
    fclose (file);
    assert (mc_config_load (&config, path, err, sizeof err) == -1 && strstr (err, ":5: config store_flush_ms"));
    assert (config.heartbeat_ms == 250 && config.pipeline_ms == 7 && config.max_inflight == 8);
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "heartbeat_ms 5\n");
    fclose (file);
    assert (mc_config_load (&config, path, err, sizeof err) == -1 && strstr (err, ":1: expected 'key = value'"));
    //  Launchers' options keep their spaces; an empty one is refused.
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "launcher.partition = short\n launcher.ssh_opts = -o Port=2222 -F x  # ports\n");
    fclose (file);
    assert (mc_config_load (&config, path, err, sizeof err) == 0);
    assert (!strcmp (config.launcher_opts, "partition=short\nssh_opts=-o Port=2222 -F x\n"));
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "launcher.time =\n");
    fclose (file);
    assert (mc_config_load (&config, path, err, sizeof err) == -1 && strstr (err, ":1: expected 'launcher.KEY"));
    config.launcher_opts [0] = 0;
    //  Users' weights: by name or by a Z85 key (which may hold '#' and
    //  '='); a bad weight is named.
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "share.alice = 2  # twice\nshare.a#b=c = 3\n");
    fclose (file);
    assert (mc_config_load (&config, path, err, sizeof err) == 0);
    assert (!strcmp (config.shares, "alice 2\na#b=c 3\n"));
    const char *bad [] = { "share.bob = 0\n", "share.bob = x\n", "share.bob = 1001\n", "share. = 2\n", "share.bob 2\n" };
    const char *why [] = { ":1: share.bob: the weight must be an integer from 1 to 1000, not '0'", "not 'x'", "not '1001'",
                           ":1: expected 'share.NAME_OR_KEY = WEIGHT'", "expected 'share." };
    for (size_t i = 0; i < 5; i++) {
        file = fopen (path, "w");
        assert (file);
        fprintf (file, "%s", bad [i]);
        fclose (file);
        assert (mc_config_load (&config, path, err, sizeof err) == -1 && strstr (err, why [i]));
    }
    unlink (path);
    assert (mc_config_load (&config, path, err, sizeof err) == 0);       //  no file: the defaults stand

    //  Every key is printed with its value and unit.
    char *text = NULL;
    size_t size = 0;
    file = open_memstream (&text, &size);
    assert (file);
    mc_config_print (&config, file);
    fclose (file);
    assert (strstr (text, "heartbeat_ms             250  (ms)\n") && strstr (text, "max_client_bytes"));
    assert (strstr (text, "max_items_per_task       10000000  (items in one task of a map)\n"));
    assert (strstr (text, "max_task_bytes") && strstr (text, "max_job_bytes"));
    assert (strstr (text, "max_task_deaths          3  (engines that may die running one load-balanced task"));
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert (lines == TABLE_SIZE + 2 && strstr (text, "share.alice = 2\nshare.a#b=c = 3\n"));
    free (text);
    if (verbose)
        printf ("OK\n");
}
