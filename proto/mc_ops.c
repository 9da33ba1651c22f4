/*  mc_ops: the tables of client and namespace operations. Adding a client
    operation is a paragraph in mc_proto.md §6, a row here, a handler in the
    controller's mc_api and a function in libmcclient. */
#include "mc_ops.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mc_op_t s_ops [MC_OP_COUNT] = {
    [MC_OP_PING]     = { MC_OP_PING, "ping", "", false, "check that the controller answers" },
    [MC_OP_IDS]      = { MC_OP_IDS, "ids", "", false, "engine ids" },
    [MC_OP_ENGINES]  = { MC_OP_ENGINES, "engines", "", false, "engines with host, pid, state and tasks done" },
    [MC_OP_SUBMIT]   = { MC_OP_SUBMIT, "submit",
                         "kind:str kernel:str args:array kwargs:map seq:any targets:any chunksize:uint "
                         "seed:uint wait:bool out:str reduce:any transient:bool retries:uint priority:int",
                         true, "submit a map or an apply" },
    [MC_OP_STATUS]   = { MC_OP_STATUS, "status", "job:str", false, "state, counts, seed and times" },
    [MC_OP_WAIT]     = { MC_OP_WAIT, "wait", "job:str timeout_ms:uint", true, "block until a job is done" },
    [MC_OP_RESULT]   = { MC_OP_RESULT, "result", "job:str wait:bool meta:bool", true, "results of a job" },
    [MC_OP_JOBS]     = { MC_OP_JOBS, "jobs", "limit:uint", false, "recent jobs, newest first" },
    [MC_OP_KERNELS]  = { MC_OP_KERNELS, "kernels", "", false, "every kernel and walker target the engines have: doc, arguments or shape, engines" },
    [MC_OP_QUEUE]    = { MC_OP_QUEUE, "queue", "", false, "tasks queued and running: per engine, and per user and job" },
    [MC_OP_SHUTDOWN] = { MC_OP_SHUTDOWN, "shutdown", "", false, "stop the controller and all its engines" },
    [MC_OP_TRUST]    = { MC_OP_TRUST, "trust", "action:str role:str key:str name:str", false,
                         "add, list or revoke the keys of extra clients and engine hosts" },
    [MC_OP_ABORT]    = { MC_OP_ABORT, "abort", "job:str", false,
                         "cancel a job's queued tasks; it ends as aborted once its running tasks finish" },
    [MC_OP_PURGE]    = { MC_OP_PURGE, "purge", "jobs:array before:uint finished:bool", false,
                         "remove finished jobs and their results from the store" },
    [MC_OP_ALLOCATIONS]  = { MC_OP_ALLOCATIONS, "allocations", "", false,
                             "the engines the controller's launchers asked for: batch job, state, registered" },
    [MC_OP_ENGINES_ADD]  = { MC_OP_ENGINES_ADD, "engines_add", "engines:uint kind:str opts:array", false,
                             "start more engines through a launcher" },
    [MC_OP_ENGINES_STOP] = { MC_OP_ENGINES_STOP, "engines_stop", "ids:array job:str", false,
                             "stop engines, or every engine of an allocation (and cancel its batch job)" },
    [MC_OP_RENICE]   = { MC_OP_RENICE, "renice", "job:str priority:int", false,
                         "change a job's priority while it runs" },
    [MC_OP_KERNELS_ADD]    = { MC_OP_KERNELS_ADD, "kernels_add", "name:str size:uint library:array", true,
                               "add a library of kernels and targets to every engine, now and later" },
    [MC_OP_KERNELS_REMOVE] = { MC_OP_KERNELS_REMOVE, "kernels_remove", "name:str", false,
                               "remove a library a client added from every engine" },
};

static const mc_nsop_t s_nsops [MC_NSOP_COUNT] = {
    [MC_NSOP_PUSH]    = { MC_NSOP_PUSH, "%push", "apply", "kwargs", false },
    [MC_NSOP_SCATTER] = { MC_NSOP_SCATTER, "%scatter", "map", "args", false },
    [MC_NSOP_PULL]    = { MC_NSOP_PULL, "%pull", "apply", "args", true },
    [MC_NSOP_DEL]     = { MC_NSOP_DEL, "%del", "apply", "args", false },
    [MC_NSOP_NAMES]   = { MC_NSOP_NAMES, "%names", "apply", "", false },
};

static bool
s_is (const char *name, size_t len, const char *entry)
{
    return entry && strlen (entry) == len && memcmp (entry, name, len) == 0;
}

const mc_op_t *
mc_op_find (const char *name, size_t len)
{
    for (int i = 1; i < MC_OP_COUNT; i++)
        if (s_is (name, len, s_ops [i].name))
            return &s_ops [i];
    return NULL;
}

const mc_op_t *
mc_op_get (mc_op_code_t code)
{
    assert (code > MC_OP_NONE && code < MC_OP_COUNT);
    return &s_ops [code];
}

const char *
mc_op_name (mc_op_code_t code)
{
    return mc_op_get (code)->name;
}

const mc_nsop_t *
mc_nsop_find (const char *name, size_t len)
{
    if (len == 0 || name [0] != '%')
        return NULL;
    for (int i = 1; i < MC_NSOP_COUNT; i++)
        if (s_is (name, len, s_nsops [i].name))
            return &s_nsops [i];
    return NULL;
}

const mc_nsop_t *
mc_nsop_get (mc_nsop_code_t code)
{
    assert (code > MC_NSOP_NONE && code < MC_NSOP_COUNT);
    return &s_nsops [code];
}

const char *
mc_nsop_name (mc_nsop_code_t code)
{
    return mc_nsop_get (code)->name;
}

//  --------------------------------------------------------------------------
//  Selftest: the tables against the spec's tables.

#ifndef MC_PROTO_SPEC
#define MC_PROTO_SPEC "proto/mc_proto.md"
#endif

//  Cell `col` (0 = before the first '|') of a Markdown table row, trimmed,
//  into buf; "" when the row has fewer cells.
static char *
s_cell (const char *row, int col, char *buf, size_t len)
{
    const char *p = row;
    for (int i = 0; i < col && p; i++) {
        p = strchr (p, '|');
        if (p)
            p++;
    }
    buf [0] = 0;
    if (!p)
        return buf;
    const char *end = strchr (p, '|');
    if (!end)
        end = p + strlen (p);
    while (p < end && *p == ' ')
        p++;
    while (end > p && (end [-1] == ' ' || end [-1] == '\n'))
        end--;
    snprintf (buf, len, "%.*s", (int) (end - p), p);
    return buf;
}

//  The name between the first pair of backticks of a cell.
static char *
s_ticked (const char *cell, char *buf, size_t len)
{
    const char *a = strchr (cell, '`');
    const char *b = a? strchr (a + 1, '`'): NULL;
    buf [0] = 0;
    if (b)
        snprintf (buf, len, "%.*s", (int) (b - a - 1), a + 1);
    return buf;
}

//  A request body cell `{ "job": str, "timeout_ms": uint }` (or "—") as
//  the table's "job:str timeout_ms:uint".
static void
s_body_fields (const char *cell, char *out, size_t len)
{
    out [0] = 0;
    size_t used = 0;
    for (const char *p = strchr (cell, '"'); p; p = strchr (p, '"')) {
        const char *key = p + 1;
        const char *end = strchr (key, '"');
        assert (end && end [1] == ':');
        const char *type = end + 2;
        while (*type == ' ')
            type++;
        size_t tlen = strcspn (type, ", }");
        used += snprintf (out + used, len - used, "%s%.*s:%.*s", used? " ": "",
                          (int) (end - key), key, (int) tlen, type);
        p = type + tlen;
    }
}

//  A type cell of the submit table in the tables' words: one word of our
//  types, or "any" for a choice of several.
static void
s_type_word (const char *cell, char *out, size_t len)
{
    static const char *words [] = { "str", "uint", "int", "bool", "array", "map" };
    size_t n = strcspn (cell, " ,");
    snprintf (out, len, "any");
    if (strstr (cell, " or "))
        return;
    for (size_t i = 0; i < sizeof words / sizeof words [0]; i++)
        if (strlen (words [i]) == n && !memcmp (cell, words [i], n))
            snprintf (out, len, "%s", words [i]);
}

static void
s_check_spec (bool verbose)
{
    FILE *file = fopen (MC_PROTO_SPEC, "r");
    if (!file) {
        fprintf (stderr, "mc_ops_test: cannot open %s\n", MC_PROTO_SPEC);
        abort ();
    }
    char line [2048], cell [1024], name [128];
    enum { NONE, OPS, SUBMIT, NSOPS } table = NONE;
    bool seen_ops [MC_OP_COUNT] = { false }, seen_nsops [MC_NSOP_COUNT] = { false };
    char submit [1024] = "";
    size_t submit_used = 0;
    bool pull_streams = false;
    while (fgets (line, sizeof line, file)) {
        if (!strncmp (line, "| code | op |", 13))
            table = OPS;
        else
        if (!strncmp (line, "| key | type |", 14))
            table = SUBMIT;
        else
        if (!strncmp (line, "| code | kernel |", 17))
            table = NSOPS;
        else
        if (line [0] != '|')
            table = NONE;
        if (strstr (line, "`%pull` with kwargs `{\"stream\": true}`"))
            pull_streams = true;
        if (table == NONE || line [0] != '|' || !strchr (line, '`'))
            continue;
        if (table == OPS) {
            int code = atoi (s_cell (line, 1, cell, sizeof cell));
            s_ticked (s_cell (line, 2, cell, sizeof cell), name, sizeof name);
            const mc_op_t *op = mc_op_find (name, strlen (name));
            if (verbose)
                printf ("  spec op %d %s\n", code, name);
            assert (op && (int) op->code == code);
            seen_ops [code] = true;
            char fields [512];
            s_body_fields (s_cell (line, 3, cell, sizeof cell), fields, sizeof fields);
            if (op->code != MC_OP_SUBMIT)
                assert (!strcmp (fields, op->fields));
            assert (op->parks == !strcmp (s_cell (line, 5, cell, sizeof cell), "yes"));
        }
        else
        if (table == SUBMIT) {
            char type [16];
            s_ticked (s_cell (line, 1, cell, sizeof cell), name, sizeof name);
            s_type_word (s_cell (line, 2, cell, sizeof cell), type, sizeof type);
            submit_used += snprintf (submit + submit_used, sizeof submit - submit_used, "%s%s:%s",
                                     submit_used? " ": "", name, type);
        }
        else {
            int code = atoi (s_cell (line, 1, cell, sizeof cell));
            s_ticked (s_cell (line, 2, cell, sizeof cell), name, sizeof name);
            const mc_nsop_t *op = mc_nsop_find (name, strlen (name));
            if (verbose)
                printf ("  spec namespace op %d %s\n", code, name);
            assert (op && (int) op->code == code);
            seen_nsops [code] = true;
            s_cell (line, 3, cell, sizeof cell);
            assert (!strncmp (cell, op->kind, strlen (op->kind)));
            s_cell (line, 4, cell, sizeof cell);
            size_t n = strcspn (cell, ":");
            assert (cell [n] == ':'? strlen (op->takes) == n && !memcmp (cell, op->takes, n): !*op->takes);
        }
    }
    fclose (file);
    if (verbose)
        printf ("  spec submit body: %s\n", submit);
    assert (!strcmp (submit, mc_op_get (MC_OP_SUBMIT)->fields));
    for (int i = 1; i < MC_OP_COUNT; i++)
        assert (seen_ops [i]);
    for (int i = 1; i < MC_NSOP_COUNT; i++)
        assert (seen_nsops [i]);
    assert (mc_nsop_get (MC_NSOP_PULL)->may_stream == pull_streams);
}

void
mc_ops_test (bool verbose)
{
    printf (" * mc_ops: ");
    if (verbose)
        printf ("\n");
    for (int i = 1; i < MC_OP_COUNT; i++) {
        const mc_op_t *op = mc_op_get ((mc_op_code_t) i);
        assert ((int) op->code == i && op->name && op->fields && op->summary);
        assert (mc_op_find (op->name, strlen (op->name)) == op);
    }
    assert (mc_op_find ("pin", 3) == NULL);
    assert (mc_op_find ("pingx", 4) == mc_op_get (MC_OP_PING));    //  length counts, not the NUL
    assert (mc_op_find ("", 0) == NULL);
    for (int i = 1; i < MC_NSOP_COUNT; i++) {
        const mc_nsop_t *op = mc_nsop_get ((mc_nsop_code_t) i);
        assert ((int) op->code == i && op->name [0] == '%');
        assert (mc_nsop_find (op->name, strlen (op->name)) == op);
        assert (!mc_nsop_find (op->name + 1, strlen (op->name) - 1));
    }
    assert (!mc_nsop_find ("%pul", 4) && !mc_nsop_find ("%", 1) && !mc_nsop_find ("", 0));
    assert (!strcmp (mc_nsop_name (MC_NSOP_SCATTER), "%scatter") && !strcmp (mc_op_name (MC_OP_WAIT), "wait"));
    s_check_spec (verbose);
    printf ("OK\n");
}
