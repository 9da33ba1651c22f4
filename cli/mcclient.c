/*  mcclient: the command line over libmcclient. Global options, then one
    command, found in the command table and run by its module; human
    output by default, exact JSON with --json. */
#include "mc_cli.h"
#include "mc_cli_cluster.h"
#include "mc_cli_engines.h"
#include "mc_cli_help.h"
#include "mc_cli_jobs.h"
#include "mc_cli_kernels.h"
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
//  the heading before it, the lines after it, its options (the table its
//  parser reads) and an example.
static int s_help (const mc_cli_command_t *command, int argc, char **argv);
static const mc_cli_command_t s_commands [] = {
    { NULL, mc_cli_cluster_op, MC_OP_IDS, "", NULL, "Cluster:", NULL, NULL, "mcclient ids" },
    { NULL, mc_cli_engines, MC_OP_ENGINES, "[add N|stop ID...]", NULL, NULL,
      S_INDENT "with the engines a launcher asked for that have not registered\n"
      "    engines add N [--engines KIND] [--launcher-opt KEY=VALUE]... [--template FILE] [--hosts H:N,...]\n"
      S_INDENT "start N more engines (KIND as in ipclusterd --help; default: the\n"
      S_INDENT "cluster's own); they register as they start\n"
      "    engines stop ID...|--job JOB  stop engines (their tasks go back to the queue), or every\n"
      S_INDENT "engine of an allocation (a2) or batch job, which is cancelled\n",
      mc_cli_engines_options, "mcclient engines add 4 --engines slurm --launcher-opt partition=short" },
    { NULL, mc_cli_allocations, MC_OP_ALLOCATIONS, "", NULL, NULL, NULL, NULL, "mcclient allocations" },
    { NULL, mc_cli_kernels, MC_OP_KERNELS, "[add FILE [CFLAGS...]|remove NAME]", NULL, NULL,
      S_INDENT "each with its origin (built-in, file, client) and version; then\n"
      S_INDENT "the walker's targets (target=NAME: gauss3, lib.name) with their\n"
      S_INDENT "dimension, parameter count, and density or log density\n"
      "    kernels add FILE.c [CFLAGS...]  compile FILE.c here (cc -O2 -fPIC -shared -Wall -Wextra\n"
      S_INDENT "against mc_kernel.h) and send it to every engine, now and as\n"
      S_INDENT "they join; a new version serves the tasks that start after it\n"
      "    kernels add FILE.so        send a library built already\n"
      "    kernels remove NAME        unload library NAME from every engine\n",
      mc_cli_kernels_options, "mcclient kernels add mymodel.c" },
    { NULL, mc_cli_cluster_op, MC_OP_QUEUE, "", NULL, NULL, NULL, NULL, "mcclient queue" },
    { NULL, mc_cli_cluster_op, MC_OP_SHUTDOWN, "", NULL, NULL, NULL, NULL, "mcclient shutdown" },
    { NULL, mc_cli_cluster_op, MC_OP_PING, NULL, NULL, NULL, NULL, NULL, "mcclient ping" },
    { NULL, mc_cli_trust, MC_OP_TRUST, "add|list|revoke ...", NULL, NULL,
      "    trust add --client|--engine [KEY] --name NAME [-o FILE]\n"
      S_INDENT "trust another user's or host's KEY; without KEY the controller\n"
      S_INDENT "makes a keypair and -o FILE writes its connection file (0600)\n"
      "    trust list                 the added keys, with their live sessions\n"
      "    trust revoke NAME|KEY      forget a key and cut its sessions at once\n",
      mc_cli_trust_options, "mcclient trust add --client --name alice -o alice-client.json" },
    { "map", mc_cli_map, MC_OP_SUBMIT, "[OPTIONS] KERNEL SEQ [ARG...] [KEY=VALUE...]",
      "KERNEL(item, ARG..., KEY=VALUE...) for each item of SEQ:",
      "Work (KERNEL is noop, echo, square, sleep, fail, pi, walker, ...: see mcclient kernels):",
      S_INDENT "a range a:b[:step] (b excluded) or a JSON array\n",
      mc_cli_submit_options, "mcclient map pi --tasks 100 samples=1e7 --seed 7 --reduce sum" },
    { "apply", mc_cli_apply, MC_OP_SUBMIT, "[OPTIONS] KERNEL [ARG...] [KEY=VALUE...]",
      "one call, on one engine (load-balanced) or on --targets", NULL,
      S_INDENT "(an argument @NAME reads NAME in the engine's namespace)\n",
      mc_cli_submit_options, "mcclient apply --targets all square 2" },
    { "push", mc_cli_push, MC_OP_NONE, "NAME=VALUE...",
      "set NAME on each engine (VALUE: as arguments, @file.json, -)",
      "Engine namespaces (on every engine, or on --targets T):", NULL,
      mc_cli_namespace_options, "mcclient push a=1 b=[1,2]" },
    { "pull", mc_cli_pull, MC_OP_NONE, "NAME...",
      "each engine's value (a list of values for several names)", NULL, NULL,
      mc_cli_namespace_options, "mcclient pull a b" },
    { "scatter", mc_cli_scatter, MC_OP_NONE, "NAME SEQ",
      "split SEQ (range, JSON array, @file.json, -) one part per engine", NULL, NULL,
      mc_cli_namespace_options, "mcclient scatter a 0:16" },
    { "gather", mc_cli_gather, MC_OP_NONE, "NAME", "join the parts of NAME back into one list", NULL, NULL,
      mc_cli_namespace_options, "mcclient gather points --reduce hist2d --bins 50x50 --png walk.png" },
    { "del", mc_cli_del, MC_OP_NONE, "NAME...", "remove names", NULL, NULL,
      mc_cli_namespace_options, "mcclient del a b" },
    { "names", mc_cli_names, MC_OP_NONE, "", "each engine's names with type and size", NULL, NULL,
      mc_cli_namespace_options, "mcclient names --targets 0" },
    { NULL, mc_cli_status, MC_OP_STATUS, "JOB", NULL, "Jobs (JOB is an id like j12):", NULL,
      mc_cli_cluster_options, "mcclient status j12" },
    { "ready", mc_cli_ready, MC_OP_STATUS, "JOB", "true when the job has finished", NULL, NULL,
      mc_cli_cluster_options, "mcclient ready j12" },
    { NULL, mc_cli_wait, MC_OP_WAIT, "JOB [--timeout S]", "block until done (progress bar on a terminal)",
      NULL, NULL, mc_cli_cluster_options, "mcclient wait j12 --timeout 600" },
    { "get", mc_cli_get, MC_OP_RESULT, "JOB [--meta|--output]", "the results, in order; --meta: per task its engine, times",
      NULL, S_INDENT "and what the kernel reported (e.g. walker acceptance)\n",
      mc_cli_cluster_options, "mcclient get j12 --meta" },
    { NULL, mc_cli_cluster_op, MC_OP_JOBS, "[--limit N]", NULL, NULL, NULL,
      mc_cli_cluster_options, "mcclient jobs --limit 5" },
    { NULL, mc_cli_abort, MC_OP_ABORT, "JOB", NULL, NULL, NULL, NULL, "mcclient abort j12" },
    { NULL, mc_cli_renice, MC_OP_RENICE, "JOB N", NULL, NULL,
      S_INDENT "(only the job's owner or the cluster's owner may)\n", NULL, "mcclient renice j12 5" },
    { NULL, mc_cli_purge, MC_OP_PURGE, "JOB...|--before DATE|--finished", NULL, NULL,
      S_INDENT "never a job that has not finished; DATE: Unix seconds,\n"
      S_INDENT "YYYY-MM-DD[ HH:MM[:SS]] or an age (7d, 12h, 30m)\n",
      mc_cli_purge_options, "mcclient purge --before 7d" },
    { "help", s_help, MC_OP_NONE, "[COMMAND]", "the usage, options and an example of COMMAND (or: COMMAND --help)",
      "Help:", NULL, NULL, "mcclient help map" },
};
#define S_COMMANDS (sizeof s_commands / sizeof s_commands [0])

static int
s_help (const mc_cli_command_t *command, int argc, char **argv)
{
    (void) command;
    return mc_cli_help_run (s_commands, S_COMMANDS, argc, argv);
}

enum { S_JSON = 1, S_PROFILE, S_CONNECT, S_HELP };
static const mc_cli_option_t s_options [] = {
    { "--json", S_JSON, false, NULL, "exact JSON on stdout", NULL },
    { "--profile-dir", S_PROFILE, true, "DIR", "the profile directory", NULL },
    { "--connect-timeout", S_CONNECT, true, "S", "how long to wait for the controller (default 3 s)", NULL },
    { "-h", S_HELP, false, NULL, "the commands", NULL },
    { "--help", S_HELP, false, NULL, NULL, NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

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
            mc_cli_help_overview (stdout, s_commands, S_COMMANDS);
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
        mc_cli_help_overview (stderr, s_commands, S_COMMANDS);
        return MC_EXIT_USAGE;
    }
    for (size_t k = 0; k < S_COMMANDS; k++) {
        const mc_cli_command_t *c = &s_commands [k];
        if (strcmp (argv [i], mc_cli_command_name (c)))
            continue;
        if (mc_cli_help_asked (argc - i - 1, argv + i + 1)) {
            mc_cli_help_command (stdout, c);
            return 0;
        }
        return c->run (c, argc - i - 1, argv + i + 1);
    }
    mc_cli_fail ("unknown command '%s' (see mcclient --help)", argv [i]);
    return MC_EXIT_USAGE;
}
