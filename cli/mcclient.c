/*  mcclient: the command line over libmcclient. Global options, then one
    command, found in the command table and run by its module; human
    output by default, exact JSON with --json. */
#include "mc_cli.h"
#include "mc_cli_cluster.h"
#include "mc_cli_engines.h"
#include "mc_cli_jobs.h"
#include "mc_cli_namespace.h"
#include "mc_cli_submit.h"
#include "mc_cli_trust.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Where a summary goes on when its usage is too long for the first column.
#define S_INDENT "                               "

//  Every command, in the order of --help: its word (NULL: the name of its
//  controller operation), handler, operation, what follows the word in
//  --help (NULL: not listed), summary (NULL: its operation's, from mc_ops),
//  the heading before it, and the lines after it.
static const mc_cli_command_t s_commands [] = {
    { NULL, mc_cli_cluster_op, MC_OP_IDS, "", NULL, "Cluster:", NULL },
    { NULL, mc_cli_engines, MC_OP_ENGINES, "[add N|stop ID...]", NULL, NULL,
      S_INDENT "with the engines a launcher asked for that have not registered\n"
      "    engines add N [--engines KIND] [--launcher-opt KEY=VALUE]... [--template FILE] [--hosts H:N,...]\n"
      S_INDENT "start N more engines (KIND as in ipclusterd --help; default: the\n"
      S_INDENT "cluster's own); they register as they start\n"
      "    engines stop ID...|--job JOB  stop engines (their tasks go back to the queue), or every\n"
      S_INDENT "engine of an allocation (a2) or batch job, which is cancelled\n" },
    { NULL, mc_cli_allocations, MC_OP_ALLOCATIONS, "", NULL, NULL, NULL },
    { NULL, mc_cli_cluster_op, MC_OP_KERNELS, "", NULL, NULL, NULL },
    { NULL, mc_cli_cluster_op, MC_OP_QUEUE, "", NULL, NULL, NULL },
    { NULL, mc_cli_cluster_op, MC_OP_SHUTDOWN, "", NULL, NULL, NULL },
    { NULL, mc_cli_cluster_op, MC_OP_PING, NULL, NULL, NULL, NULL },
    { NULL, mc_cli_trust, MC_OP_TRUST, "add|list|revoke ...", NULL, NULL,
      "    trust add --client|--engine [KEY] --name NAME [-o FILE]\n"
      S_INDENT "trust another user's or host's KEY; without KEY the controller\n"
      S_INDENT "makes a keypair and -o FILE writes its connection file (0600)\n"
      "    trust list                 the added keys, with their live sessions\n"
      "    trust revoke NAME|KEY      forget a key and cut its sessions at once\n" },
    { "map", mc_cli_map, MC_OP_SUBMIT, "[OPTIONS] KERNEL SEQ [ARG...] [KEY=VALUE...]",
      "KERNEL(item, ARG..., KEY=VALUE...) for each item of SEQ:",
      "Work (KERNEL is noop, echo, square, sleep, fail, ...):",
      S_INDENT "a range a:b[:step] (b excluded) or a JSON array\n" },
    { "apply", mc_cli_apply, MC_OP_SUBMIT, "[OPTIONS] KERNEL [ARG...] [KEY=VALUE...]",
      "one call, on one engine (load-balanced) or on --targets", NULL,
      "    --targets T                direct: 'all', ids '0,2', a range '1:3', or a mix\n"
      "    --chunksize N              items per task of a load-balanced map (default 1)\n"
      "    --seed S                   job seed (default: drawn and recorded)\n"
      "    --retries N                run a task whose kernel fails up to N more times (default 0;\n"
      S_INDENT "a load-balanced task whose engine dies is retried up to max_task_deaths)\n"
      "    --async                    print the job id at once instead of waiting\n"
      "    --out NAME                 store each task's result as NAME on its engine\n"
      "    --tasks N                  map: run N tasks (items 0..N-1) instead of a SEQ\n"
      "    --reduce sum|hist2d        one answer: results summed field by field at the controller;\n"
      S_INDENT "hist2d bins each task's points on its engine and sums the counts\n"
      "    --bins NXxNY --range x0:x1,y0:y1   hist2d bins (default 50x50) and box (default 0:1,0:1)\n"
      "    --coords I,J               hist2d of coordinates I and J of N-D points (default 0,1)\n"
      "    --png FILE, --show         draw the hist2d counts into a PNG file, or on the terminal\n"
      S_INDENT "(an argument @NAME reads NAME there)\n" },
    { "push", mc_cli_push, MC_OP_NONE, "NAME=VALUE...",
      "set NAME on each engine (VALUE: as arguments, @file.json, -)",
      "Engine namespaces (on every engine, or on --targets T):", NULL },
    { "pull", mc_cli_pull, MC_OP_NONE, "NAME...",
      "each engine's value (a list of values for several names)", NULL, NULL },
    { "scatter", mc_cli_scatter, MC_OP_NONE, "NAME SEQ",
      "split SEQ (range, JSON array, @file.json, -) one part per engine", NULL, NULL },
    { "gather", mc_cli_gather, MC_OP_NONE, "NAME", "join the parts of NAME back into one list", NULL, NULL },
    { "del", mc_cli_del, MC_OP_NONE, "NAME...", "remove names", NULL, NULL },
    { "names", mc_cli_names, MC_OP_NONE, "", "each engine's names with type and size", NULL,
      "    --dist b|r                 scatter/gather in blocks (default) or round robin\n"
      "    --type f64|i64             push/scatter a typed array: @file and - are raw little-endian\n"
      "    -o FILE [--raw]            pull/gather into FILE as JSON, or as raw bytes\n"
      "    --hist NXxNY [--range x0:x1,y0:y1] [--png FILE] [--show]\n"
      S_INDENT "gather: bin n x 2 points into counts, and draw them\n" },
    { NULL, mc_cli_status, MC_OP_STATUS, "JOB", NULL, "Jobs (JOB is an id like j12):", NULL },
    { "ready", mc_cli_ready, MC_OP_STATUS, "JOB", "true when the job has finished", NULL, NULL },
    { NULL, mc_cli_wait, MC_OP_WAIT, "JOB [--timeout S]", "block until done (progress bar on a terminal)",
      NULL, NULL },
    { "get", mc_cli_get, MC_OP_RESULT, "JOB [--meta]", "the results, in order; --meta: per task its engine, times",
      NULL, S_INDENT "and what the kernel reported (e.g. walker acceptance)\n" },
    { NULL, mc_cli_cluster_op, MC_OP_JOBS, "[--limit N]", NULL, NULL, NULL },
    { NULL, mc_cli_abort, MC_OP_ABORT, "JOB", NULL, NULL, NULL },
    { NULL, mc_cli_purge, MC_OP_PURGE, "JOB...|--before DATE|--finished", NULL, NULL,
      S_INDENT "never a job that has not finished; DATE: Unix seconds,\n"
      S_INDENT "YYYY-MM-DD[ HH:MM[:SS]] or an age (7d, 12h, 30m)\n" },
};
#define S_COMMANDS (sizeof s_commands / sizeof s_commands [0])

//  One command's lines of --help.
static void
s_usage_command (FILE *out, const mc_cli_command_t *c)
{
    if (c->section)
        fprintf (out, "%s\n", c->section);
    char usage [128];
    snprintf (usage, sizeof usage, "%s%s%s", mc_cli_command_name (c), *c->args? " ": "", c->args);
    const char *summary = c->summary? c->summary: mc_op_get (c->op)->summary;
    if (strlen (usage) < sizeof S_INDENT - 3)
        fprintf (out, "  %-*s%s\n", (int) sizeof S_INDENT - 3, usage, summary);
    else
        fprintf (out, "  %s\n" S_INDENT "%s\n", usage, summary);
    if (c->more)
        fputs (c->more, out);
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: mcclient [--profile-dir DIR] [--json] [--connect-timeout S] COMMAND ...\n\n");
    for (size_t i = 0; i < S_COMMANDS; i++)
        if (s_commands [i].args)
            s_usage_command (out, &s_commands [i]);
    fprintf (out,
        "\n"
        "Arguments: true/false/null, integers, floats (1e7), JSON ([1,2], {\"a\":1}, \"text\"),\n"
        "anything else is a string. KEY=VALUE passes a keyword argument.\n"
        "Profile: --profile-dir, else $MCCLUSTER_DIR, else ~/.mccluster/default.\n"
        "Connection file: $MCCLUSTER_CLIENT (client.json's text, or its base64), else\n"
        "PROFILE/client.json (mode 0600). MCCLUSTER_TRANSPORT=tcp: TCP with CURVE even on the\n"
        "controller's host, instead of its Unix socket.\n"
        "Each wait for a reply polls for $MCCLUSTER_SPIN_US (default 500) microseconds, then sleeps.\n"
        "Exit status: 0 success; 1 error or failed tasks; 2 bad usage; 3 wait timed out.\n");
}

enum { S_JSON = 1, S_PROFILE, S_CONNECT, S_HELP };
static const mc_cli_option_t s_options [] = {
    { "--json", S_JSON, false },
    { "--profile-dir", S_PROFILE, true },
    { "--connect-timeout", S_CONNECT, true },
    { "-h", S_HELP, false },
    { "--help", S_HELP, false },
    { NULL } };

//  Read the global options before the command: the index of the command,
//  or -1 with *rc set (to 0 for --help).
static int
s_global_options (int argc, char **argv, int *rc)
{
    const char *profile = NULL;
    int connect_ms = 0;
    int i = 1;
    for (; i < argc && argv [i][0] == '-'; i++) {
        const mc_cli_option_t *option = mc_cli_option (s_options, argv [i]);
        const char *value = option && option->takes_value && i + 1 < argc? argv [++i]: NULL;
        if (!option || (option->takes_value && !value)) {
            mc_cli_fail ("unknown option '%s' (see mcclient --help)", argv [i]);
            *rc = MC_EXIT_USAGE;
            return -1;
        }
        if (option->code == S_JSON)
            mc_cli_json = true;
        else
        if (option->code == S_PROFILE)
            profile = value;
        else
        if (option->code == S_CONNECT) {
            char *end;
            double seconds = strtod (value, &end);
            if (*end || !(seconds > 0) || seconds > 3600) {
                mc_cli_fail ("bad --connect-timeout '%s'", value);
                *rc = MC_EXIT_USAGE;
                return -1;
            }
            connect_ms = (int) ceil (seconds * 1000);
        }
        else {
            s_usage (stdout);
            *rc = 0;
            return -1;
        }
    }
    mc_cli_set_profile (profile, connect_ms);
    return i;
}

int
main (int argc, char *argv [])
{
    int rc;
    int i = s_global_options (argc, argv, &rc);
    if (i < 0)
        return rc;
    if (i == argc) {
        s_usage (stderr);
        return MC_EXIT_USAGE;
    }
    for (size_t k = 0; k < S_COMMANDS; k++)
        if (!strcmp (argv [i], mc_cli_command_name (&s_commands [k])))
            return s_commands [k].run (&s_commands [k], argc - i - 1, argv + i + 1);
    mc_cli_fail ("unknown command '%s' (see mcclient --help)", argv [i]);
    return MC_EXIT_USAGE;
}
