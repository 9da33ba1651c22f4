/*  mc_launch_mpi: engines as one `mpiexec -n N mcengine ...`, for sites
    where MPI is the way onto the nodes. mpiexec is the allocation's one
    session: its life is the engines' (it ends them when it is signalled,
    and it ends when they all have), so when it exits the allocation is
    over and the controller forgets its engines at once.

    Open MPI and MPICH (Hydra) differ in how they spell hosts and pass the
    environment: the flavour comes from mpi=openmpi|mpich, else from
    `mpiexec --version` (run once at start, for at most S_VERSION_MS). The
    credential travels in the environment only: -x NAME for Open MPI,
    -genvall for Hydra (whose -genvlist lost variables in MPICH 4.0.2).

    A host that dies usually takes the whole MPI job down (mpiexec aborts
    when it loses one of its daemons): the allocation ends at once, its
    engines are forgotten and their tasks requeued; the job finishes on the
    cluster's other engines, or on engines added later. mpiexec is not
    started again by itself: which hosts are alive is not known here. */
#include "mc_launch.h"
#include "mc_log.h"
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define S_VERSION_MS    3000            //  what `mpiexec --version` may cost the controller's loop
#define S_MAX_ARGS      256

typedef enum { S_OPENMPI, S_MPICH, S_UNKNOWN } s_flavour_t;

//  The last program whose --version told its flavour (the controller's one
//  thread is the only user).
static char s_known_program [1024];
static s_flavour_t s_known_flavour = S_UNKNOWN;

//  The flavour named by `mpiexec --version`'s output: Open MPI says
//  "(OpenRTE)" or "(Open MPI)", Hydra (MPICH, MVAPICH, Intel MPI) "HYDRA".
static s_flavour_t
s_flavour_of (const char *version)
{
    if (strstr (version, "OpenRTE") || strstr (version, "Open MPI") || strstr (version, "open-mpi.org"))
        return S_OPENMPI;
    if (strstr (version, "HYDRA") || strstr (version, "Hydra") || strstr (version, "MPICH")
    ||  strstr (version, "Intel(R) MPI"))
        return S_MPICH;
    return S_UNKNOWN;
}

//  hosts=h1:4,h2,h3:2 checked: names of host characters, counts from 1.
//  The sum of the counts (0 when a host has none: mpiexec shares them),
//  or -1 with err. Both flavours take the list as it is.
static long
s_check_hosts (const char *text, char *err, size_t errlen)
{
    long total = 0;
    bool uncounted = false;
    if (!*text) {
        snprintf (err, errlen, "hosts: an empty list");
        return -1;
    }
    for (const char *p = text; p; ) {
        const char *comma = strchr (p, ',');
        size_t len = comma? (size_t) (comma - p): strlen (p);
        char item [300];
        if (len >= sizeof item) {
            snprintf (err, errlen, "hosts: a host name too long");
            return -1;
        }
        snprintf (item, sizeof item, "%.*s", (int) len, p);
        char *colon = strchr (item, ':');
        if (colon) {
            char *end;
            long count = strtol (colon + 1, &end, 10);
            if (colon [1] == 0 || *end || count < 1 || count > 100000) {
                snprintf (err, errlen, "hosts: bad engine count in '%s'", item);
                return -1;
            }
            total += count;
            *colon = 0;
        }
        else
            uncounted = true;
        if (!*item || *item == '-' || strspn (item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen (item)) {
            snprintf (err, errlen, "hosts: bad host name '%s'", item);
            return -1;
        }
        p = comma? comma + 1: NULL;
    }
    return uncounted? 0: total;
}

//  Split text into words in place, at blanks outside '...' or "..."
//  (quotes removed: mpi_args="--mca plm_rsh_args '-F cfg'"), into argv
//  from at. The new count, or -1 when past max or a quote is not closed.
static int
s_split (char *text, const char **argv, int at, int max)
{
    char *in = text, *out = text;
    while (*in) {
        while (*in == ' ' || *in == '\t' || *in == '\n')
            in++;
        if (!*in)
            break;
        if (at >= max)
            return -1;
        argv [at++] = out;
        char quote = 0;
        while (*in && (quote || (*in != ' ' && *in != '\t' && *in != '\n'))) {
            if (!quote && (*in == '\'' || *in == '"'))
                quote = *in++;
            else
            if (quote && *in == quote) {
                quote = 0;
                in++;
            }
            else
                *out++ = *in++;
        }
        if (quote)
            return -1;
        bool more = *in != 0;
        *out++ = 0;
        if (more)
            in++;
    }
    return at;
}

//  The mpiexec argv for flavour: PROGRAM [mpi_args] HOSTS -n N ENV ENGINE
//  [engine args], in argv (max words), with words kept in store. The word
//  count, or -1 with err.
static int
s_argv (const mc_alloc_t *alloc, s_flavour_t flavour, const char **argv, int max, char *store, size_t storelen,
        char *err, size_t errlen)
{
    const char *program = mc_alloc_opt (alloc, "mpiexec");
    const char *hosts = mc_alloc_opt (alloc, "hosts");
    const char *extra = mc_alloc_opt (alloc, "mpi_args");
    const char *bin = mc_alloc_opt (alloc, "engine_bin");
    const mc_launcher_setup_t *setup = mc_alloc_setup (alloc);
    int argc = 0;
    argv [argc++] = program? program: "mpiexec";
    //  store: the extra words (split in place), and n at its end.
    assert (storelen > 64);
    char *n = store + storelen - 24;
    if (extra && strlen (extra) >= storelen - 24) {
        snprintf (err, errlen, "mpi_args: too long");
        return -1;
    }
    snprintf (store, storelen - 24, "%s", extra? extra: "");
    argc = s_split (store, argv, argc, max - 16);
    if (argc < 0) {
        snprintf (err, errlen, "mpi_args: too many words, or a quote not closed");
        return -1;
    }
    snprintf (n, 24, "%zu", mc_alloc_engines (alloc));
    if (hosts) {
        argv [argc++] = flavour == S_OPENMPI? "--host": "-hosts";
        argv [argc++] = hosts;
    }
    argv [argc++] = "-n";
    argv [argc++] = n;
    if (flavour == S_OPENMPI) {
        argv [argc++] = "-x";
        argv [argc++] = "MCCLUSTER_ENGINE";
        argv [argc++] = "-x";
        argv [argc++] = "MCCLUSTER_LAUNCH";
    }
    else
        argv [argc++] = "-genvall";
    argv [argc++] = bin? bin: setup->engine_bin;
    for (const char *const *arg = setup->engine_args; arg && *arg; arg++) {
        if (argc >= max - 1) {
            snprintf (err, errlen, "too many engine arguments");
            return -1;
        }
        argv [argc++] = *arg;
    }
    argv [argc] = NULL;
    return argc;
}

static int
s_start (mc_alloc_t *alloc, char *err, size_t errlen)
{
    const char *hosts = mc_alloc_opt (alloc, "hosts");
    long counted = hosts? s_check_hosts (hosts, err, errlen): 0;
    if (counted < 0)
        return -1;
    if (counted && (size_t) counted < mc_alloc_engines (alloc)) {
        snprintf (err, errlen, "hosts: %ld slots for %zu engines", counted, mc_alloc_engines (alloc));
        return -1;
    }
    const char *named = mc_alloc_opt (alloc, "mpi");
    const char *program = mc_alloc_opt (alloc, "mpiexec")? mc_alloc_opt (alloc, "mpiexec"): "mpiexec";
    s_flavour_t flavour = S_UNKNOWN;
    if (named && !strcmp (named, "openmpi"))
        flavour = S_OPENMPI;
    else
    if (named && !strcmp (named, "mpich"))
        flavour = S_MPICH;
    else
    if (named) {
        snprintf (err, errlen, "mpi=%s: openmpi or mpich", named);
        return -1;
    }
    else
    if (!strcmp (program, s_known_program))
        flavour = s_known_flavour;
    else {
        //  Ask mpiexec what it is: a short wait of the loop, once per
        //  program while the controller runs.
        char version [2048];
        const char *argv [] = { program, "--version", NULL };
        mc_spawn_t spawn = { .argv = argv, .capture = true };
        int status = mc_alloc_run (alloc, &spawn, S_VERSION_MS, version, sizeof version);
        flavour = status == -1? S_UNKNOWN: s_flavour_of (version);
        if (flavour != S_UNKNOWN && strlen (program) < sizeof s_known_program) {
            snprintf (s_known_program, sizeof s_known_program, "%s", program);
            s_known_flavour = flavour;
        }
        if (flavour == S_UNKNOWN) {
            version [strcspn (version, "\n")] = 0;
            snprintf (err, errlen, "cannot tell which MPI %s is (%s): give mpi=openmpi or mpi=mpich", program,
                      status == -1? "it did not run": *version? version: "no output");
            return -1;
        }
    }
    const char *argv [S_MAX_ARGS];
    char store [4096];
    if (s_argv (alloc, flavour, argv, S_MAX_ARGS, store, sizeof store, err, errlen) < 0)
        return -1;
    mc_spawn_t spawn = { .argv = argv, .capture = true, .engine_env = true };
    int64_t pid = mc_alloc_spawn (alloc, MC_CHILD_SESSION, &spawn, err, errlen);
    if (pid < 0)
        return -1;
    char job [32];
    snprintf (job, sizeof job, "%lld", (long long) pid);     //  mcclient engines stop --job PID
    mc_alloc_set_job (alloc, job);
    mc_alloc_set_state (alloc, MC_ALLOC_RUNNING, flavour == S_OPENMPI? "Open MPI": "MPICH");
    mc_info ("%s: %s -n %zu (%s, pid %lld)", mc_alloc_tag (alloc), program, mc_alloc_engines (alloc),
             flavour == S_OPENMPI? "Open MPI": "MPICH", (long long) pid);
    return 0;
}

//  The last line of out with a letter or digit in it (Open MPI ends its
//  messages with a line of dashes), into buf: what mpiexec said last.
static void
s_last_line (const char *out, char *buf, size_t len)
{
    *buf = 0;
    const char *end = out + strlen (out);
    while (end > out) {
        const char *start = end;
        while (start > out && start [-1] != '\n')
            start--;
        bool words = false;
        for (const char *p = start; p < end && !words; p++)
            words = isalnum ((unsigned char) *p);
        if (words) {
            size_t n = (size_t) (end - start);
            while (n && (start [n - 1] == '\n' || start [n - 1] == '\r' || start [n - 1] == ' '))
                n--;
            snprintf (buf, len, "%.*s", (int) n, start);
            return;
        }
        end = start > out? start - 1: out;
    }
}

//  mpiexec exited: the engines are gone with it. Exit 0 (every engine
//  stopped when told) ends the allocation; anything else fails it.
static void
s_exited (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out)
{
    (void) label;
    if (role != MC_CHILD_SESSION)
        return;
    char code [64], last [200], why [400];
    mc_alloc_status_text (status, code, sizeof code);
    s_last_line (out, last, sizeof last);
    snprintf (why, sizeof why, "mpiexec exited (%s)%s%s", code, *last? ": ": "", last);
    if (mc_alloc_state (alloc) == MC_ALLOC_CANCELLED)
        return;
    bool clean = WIFEXITED (status) && WEXITSTATUS (status) == 0;
    if (!clean)
        mc_warn ("%s: %s", mc_alloc_tag (alloc), why);
    mc_alloc_set_state (alloc, clean? MC_ALLOC_ENDED: MC_ALLOC_FAILED, why);
}

static const char *const s_keys [] = { "hosts", "mpi", "mpiexec", "mpi_args", "engine_bin", NULL };

const mc_launch_kind_t mc_launch_mpi = {
    "mpi", "one mpiexec -n N of the engines (Open MPI or MPICH; hosts=h1:4,h2:4)", s_keys, s_start, s_exited, NULL, NULL, NULL,
    "its controller died: mpiexec, that controller's child, is no longer watched; its engines exit unless a "
    "controller answers within engine_grace_ms, and those that came back serve on and stop with the cluster", NULL
};

//  --------------------------------------------------------------------------
//  Self test: hosts lists, --version outputs, the argv of each flavour.

void
mc_launch_mpi_test (bool verbose)
{
    if (verbose)
        printf (" * mc_launch_mpi: ");
    char err [256];
    assert (s_check_hosts ("h1:1,h2:1", err, sizeof err) == 2);
    assert (s_check_hosts ("node-01.example.org:16", err, sizeof err) == 16);
    assert (s_check_hosts ("h1,h2:3", err, sizeof err) == 0);
    assert (s_check_hosts ("", err, sizeof err) == -1);
    assert (s_check_hosts ("h1:0", err, sizeof err) == -1 && strstr (err, "count"));
    assert (s_check_hosts ("h1:", err, sizeof err) == -1);
    assert (s_check_hosts ("h1:2x", err, sizeof err) == -1);
    assert (s_check_hosts ("h1,,h2", err, sizeof err) == -1 && strstr (err, "name"));
    assert (s_check_hosts ("h1;rm -rf /", err, sizeof err) == -1);
    assert (s_check_hosts ("-oProxyCommand=x", err, sizeof err) == -1);
    assert (s_check_hosts ("h1,-n", err, sizeof err) == -1);      //  never an option of mpiexec

    assert (s_flavour_of ("mpiexec.openmpi (OpenRTE) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n") == S_OPENMPI);
    assert (s_flavour_of ("mpirun (Open MPI) 5.0.3\n\nReport bugs to https://www.open-mpi.org/community/help/\n") == S_OPENMPI);
    assert (s_flavour_of ("HYDRA build details:\n    Version:                                 4.0.2\n") == S_MPICH);
    assert (s_flavour_of ("Intel(R) MPI Library for Linux* OS, Version 2021.6\n") == S_MPICH);
    assert (s_flavour_of ("mpiexec: command not found\n") == S_UNKNOWN);
    assert (s_flavour_of ("") == S_UNKNOWN);

    char words [] = "--mca plm_rsh_args '-F /tmp/a b' -x\t\"A B\"C ''", *store = words;
    const char *argv [8];
    assert (s_split (store, argv, 1, 8) == 7 && !strcmp (argv [6], ""));
    assert (!strcmp (argv [1], "--mca") && !strcmp (argv [2], "plm_rsh_args") && !strcmp (argv [3], "-F /tmp/a b")
         && !strcmp (argv [4], "-x") && !strcmp (argv [5], "A BC"));
    char open_quote [] = "-x 'A";
    assert (s_split (open_quote, argv, 0, 8) == -1);
    char many [] = "a b c d";
    assert (s_split (many, argv, 5, 8) == -1);
    char blank [] = "  ";
    assert (s_split (blank, argv, 0, 8) == 0);

    char last [64];
    s_last_line ("a\nprted lost\n\n", last, sizeof last);
    assert (!strcmp (last, "prted lost"));
    s_last_line ("ORTE has lost communication with a remote daemon.\n  HNP daemon : [[1,0],0] on node vm\n"
                 "-----------------------------------\n", last, sizeof last);
    assert (!strcmp (last, "  HNP daemon : [[1,0],0] on node vm"));
    s_last_line ("---\n\n", last, sizeof last);
    assert (!strcmp (last, ""));
    s_last_line ("", last, sizeof last);
    assert (!strcmp (last, ""));
    if (verbose)
        printf ("OK\n");
}
