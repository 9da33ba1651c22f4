/*  ipclusterd: the mccluster controller. Parse options, load the profile's
    config, bind, start local engines, serve until told to stop, tear down. */
#include "mc_config.h"
#include "mc_conn.h"
#include "mc_controller.h"
#include "mc_launcher.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_time.h"
#include <czmq.h>
#include <sodium.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: ipclusterd [options]\n"
        "Start the mccluster controller (and, with -n, local engines) in the foreground.\n\n"
        "  -n, --num-engines N   start N engines and wait until they have registered\n"
        "      --engines KIND    how to start them: local (the default), slurm, pbs, ssh, mpi\n"
        "      --launcher-opt KEY=VALUE\n"
        "                        an option of that launcher (repeatable; also `launcher.KEY =\n"
        "                        VALUE` lines in DIR/mccluster.conf); see below\n"
        "      --template FILE   the batch job script to fill in (as --launcher-opt template=FILE;\n"
        "                        the built-in ones are in deploy/)\n"
        "      --hosts H:N,...   ssh: N engines on each host H (as --launcher-opt hosts=...)\n"
        "      --autoscale MIN:MAX  start more engines (through the launcher) while load-balanced\n"
        "                        tasks wait, up to MAX; stop those idle for autoscale_idle_s,\n"
        "                        down to MIN\n"
        "      --ip ADDR         address to bind (default 127.0.0.1, or * for every interface\n"
        "                        with a launcher other than local, so that engines on other\n"
        "                        hosts can join)\n"
        "      --engine-port P   engine endpoint port (default: chosen by the system)\n"
        "      --client-port P   client endpoint port (default: chosen by the system)\n"
        "      --profile-dir DIR profile directory (default $MCCLUSTER_DIR or ~/.mccluster/default)\n"
        "      --daemon          detach once the cluster is ready; log to DIR/ipclusterd.log\n"
        "      --engine-bin PATH mcengine to start (default: beside ipclusterd, else PATH)\n"
        "      --kernel-path DIR  local engines also load the kernels of DIR/*.so\n"
        "      --set KEY=VALUE   override a limit of DIR/mccluster.conf (see --show-config)\n"
        "      --show-config     print every limit with its value and exit\n"
        "      --insecure        no keys and no encryption: anyone who can reach the\n"
        "                        endpoints can run code on the engines (for tests only)\n"
        "  -v, --verbose         log more (twice for debug)\n"
        "  -h, --help            this help\n\n"
        "Engines and clients find the controller and prove who they are with\n"
        "DIR/engine.json and DIR/client.json (made at start; keys in DIR/security).\n"
        "SIGINT, SIGTERM or `mcclient shutdown` stop the controller and all its engines,\n"
        "and cancel the batch jobs it submitted. `mcclient engines add|stop` grow and shrink it.\n"
        "Started again on a profile after a crash, it takes up the batch jobs of the last\n"
        "controller (listed, polled, cancellable; their engines count towards -n).\n"
        "A local engine that dies is started again under its id, at most\n"
        "engine_restarts_per_min times in any minute (then never again).\n"
        "Exit status: 0 after a clean stop, 1 on a start-up failure, 2 on bad usage.\n\n"
        "Examples:\n"
        "  ipclusterd -n 4 --daemon\n"
        "  ipclusterd -n 64 --engines slurm --launcher-opt partition=short --launcher-opt time=2:00:00\n\n"
        "Launchers (--engines KIND) and their options:\n");
    mc_launcher_kinds_help (out);
}

typedef struct {
    int notify_fd;                  //  --daemon: tell the waiting parent we are ready
    size_t engines;
    const char *kind;               //  --engines
    mc_launcher_t *launcher;
    mc_controller_t *controller;
    //  The local engines that outlived the last controller (sorted pids),
    //  watched until each has registered or is gone.
    int64_t *survivors;
    bool *survivor_back;
    size_t survivor_count;
    int64_t taken_due_us;           //  when the batch jobs taken up from the store have been asked about (0: none)
    const char *const *opts;        //  --launcher-opt
    size_t told_registered, told_requested;     //  what s_progress said last
    int64_t told_us;                //  when (the start, at first)
    bool told_short;                //  it said engines were missing
} s_state_t;

static void
s_ready (void *arg, size_t engines)
{
    s_state_t *state = arg;
    if (state->engines)
        mc_info ("cluster ready: %zu engines registered", engines);
    printf ("ipclusterd ready: %zu engines\n", engines);
    fflush (stdout);
    if (state->notify_fd >= 0) {
        if (write (state->notify_fd, "1", 1) != 1)
            mc_warn ("cannot notify the parent process");
        close (state->notify_fd);
        state->notify_fd = -1;
    }
}

//  A local engine process has exited: the controller forgets its engine at
//  once, and one that died (a signal, or a status other than 0; an engine
//  told to stop, or sent SIGTERM, says goodbye and exits with 0) is started
//  again under its id, within engine_restarts_per_min.
static void
s_engine_exited (void *arg, uint32_t alloc, int64_t pid, int status)
{
    s_state_t *state = arg;
    uint32_t restarts;
    int64_t id = mc_controller_engine_exited (state->controller, pid, status, &restarts);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return;
    int64_t new_pid = mc_launcher_restart (state->launcher, alloc, mc_time_mono_us ());
    if (new_pid < 0)
        return;
    if (mc_controller_engine_restarted (state->controller, id, new_pid, restarts + 1))
        mc_warn ("out of memory: engine process %lld will register as a new engine", (long long) new_pid);
    if (id >= 0)
        mc_warn ("engine %lld restarted as process %lld (restart %u)", (long long) id, (long long) new_pid, restarts + 1);
    else
        mc_warn ("engine process %lld restarted as process %lld", (long long) pid, (long long) new_pid);
}

//  An allocation is over (its job left the queue, its session ended): its
//  engines' tasks go back to the queue now, not after heartbeats expire.
static void
s_alloc_ended (void *arg, uint32_t alloc, const char *host, const char *why)
{
    s_state_t *state = arg;
    if (!state->controller)
        return;
    size_t dropped = mc_controller_alloc_ended (state->controller, alloc, host, why);
    if (dropped)
        mc_warn ("allocation a%u%s%s: %s: its %zu engines%s are gone", alloc, host? " on ": "", host? host: "",
                 why, dropped, host? " there": "");
}

//  An allocation was made or changed: the store keeps it, for a controller
//  started after a crash (it cancels the batch jobs of this one).
static void
s_alloc_changed (void *arg, const mc_alloc_info_t *info)
{
    s_state_t *state = arg;
    if (state->controller)
        mc_controller_alloc_changed (state->controller, info);
}

//  Say how many engines have registered and what the others wait for, when
//  that changes (at most every 2 s; every 30 s while nothing changes), so
//  that a cluster waiting in a batch queue does not wait silently.
static void
s_progress (s_state_t *state)
{
    size_t registered = mc_controller_engines (state->controller);
    size_t requested = mc_launcher_requested (state->launcher);
    int64_t now = mc_time_mono_us ();
    bool changed = registered != state->told_registered || requested != state->told_requested;
    if (registered >= requested) {
        if (state->told_short)
            printf ("ipclusterd: all %zu engines registered\n", requested);
        fflush (stdout);
        state->told_short = false;
    }
    else
    if ((changed && now - state->told_us >= 2000000) || now - state->told_us >= 30000000) {
        char waiting [2048];
        mc_launcher_waiting (state->launcher, waiting, sizeof waiting);
        printf ("ipclusterd: %zu of %zu engines registered%s%s\n", registered, requested, *waiting? "; waiting: ": "",
                waiting);
        fflush (stdout);
        state->told_short = true;
    }
    else
        return;
    state->told_registered = registered;
    state->told_requested = requested;
    state->told_us = now;
}

//  Engines that outlived the last controller counted towards -n: each that
//  exits without having registered (it was stopping, or gave up) is replaced
//  by a new one. Those that came back are theirs to keep, so one stopped on
//  purpose later is not replaced; and no clock decides, so a slow machine
//  (a busy one, or the sanitizers) does not start more engines than -n.
static void
s_watch_survivors (s_state_t *state)
{
    mc_controller_seen_pids (state->controller, state->survivors, state->survivor_count, state->survivor_back);
    size_t lost = 0, waiting = 0;
    for (size_t i = 0; i < state->survivor_count; i++) {
        if (state->survivor_back [i])
            continue;
        if (kill ((pid_t) state->survivors [i], 0) == 0 || errno != ESRCH)
            waiting++;
        else {
            state->survivor_back [i] = true;        //  settled: gone
            lost++;
        }
    }
    char err [1024];
    if (lost && state->launcher) {
        mc_warn ("%zu engine%s of the last controller exited without coming back: starting %zu in %s place",
                 lost, lost == 1? "": "s", lost, lost == 1? "its": "their");
        if (mc_launcher_add (state->launcher, "local", lost, NULL, err, sizeof err) < 0)
            mc_error ("%s", err);
    }
    if (!waiting) {
        free (state->survivors);
        free (state->survivor_back);
        state->survivors = NULL;
        state->survivor_back = NULL;
        state->survivor_count = 0;
    }
}

//  The controller's tick, and news on the SIGCHLD signalfd.
static void
s_reap (void *arg)
{
    s_state_t *state = arg;
    if (state->launcher) {
        mc_launcher_tick (state->launcher, mc_time_mono_us ());
        s_progress (state);
    }
    if (state->survivor_count)
        s_watch_survivors (state);
    //  Batch jobs taken up from the store counted towards -n; the engines
    //  of those that turned out over at their first poll (time limit,
    //  scancel while no controller ran, engines that gave up) are
    //  replaced, once, up to -n. Allocations stopped meanwhile on purpose
    //  (engines stop --job, autoscale) are not.
    if (state->taken_due_us && mc_time_mono_us () > state->taken_due_us) {
        state->taken_due_us = 0;
        size_t lost = mc_launcher_adopted_lost (state->launcher, state->kind);
        size_t requested = mc_launcher_requested (state->launcher);
        size_t more = requested < state->engines? state->engines - requested: 0;
        more = lost < more? lost: more;
        char err [1024];
        if (more) {
            mc_warn ("jobs taken up from the store for %zu engines were over at their first poll: starting %zu more",
                     lost, more);
            if (mc_launcher_add (state->launcher, state->kind, more, state->opts, err, sizeof err) < 0)
                mc_error ("%s", err);
        }
    }
}

//  Fork; the parent waits until the child reports ready (exit 0) or dies
//  (exit 1). Returns the write end of the pipe in the child.
static int
s_daemonize (const char *log_path)
{
    int fds [2];
    if (pipe (fds))
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close (fds [1]);
        char byte = 0;
        ssize_t n;
        do n = read (fds [0], &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1 && byte == '1') {
            printf ("ipclusterd running as pid %d (log: %s)\n", (int) pid, log_path);
            exit (0);
        }
        fprintf (stderr, "ipclusterd: failed to start; see %s\n", log_path);
        exit (1);
    }
    close (fds [0]);
    setsid ();
    int null = open ("/dev/null", O_RDWR);
    int log = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0)
        dup2 (null, 0);
    if (log >= 0) {
        dup2 (log, 1);
        dup2 (log, 2);
    }
    if (null > 2) close (null);
    if (log > 2) close (log);
    return fds [1];
}

//  What the command line asks for.
typedef struct {
    long engines, engine_port, client_port;
    size_t autoscale_min, autoscale_max;    //  --autoscale MIN:MAX (max 0: off)
    const char *ip, *profile_opt, *kernel_path, *kind;
    char engine_bin [4096];         //  "" until given or found
    bool daemon, show_config, insecure;
    int verbose;
    char *sets [64];                //  --set KEY=VALUE, in order
    size_t set_count;
    const char *launcher_opts [33]; //  --launcher-opt KEY=VALUE, --template, --hosts; NULL-terminated
    size_t launcher_opt_count;
    char template_opt [4200], hosts_opt [4200];     //  what --template and --hosts become
} s_options_t;

//  Parse the command line into opts: -1 to go on, else the exit status
//  (0 after --help, 2 for bad usage).
static int
s_parse_options (int argc, char *argv [], s_options_t *opts)
{
    static const struct option options [] = {
        { "num-engines", required_argument, 0, 'n' }, { "engines", required_argument, 0, 'K' },
        { "launcher-opt", required_argument, 0, 'o' }, { "template", required_argument, 0, 'T' },
        { "hosts", required_argument, 0, 'H' }, { "ip", required_argument, 0, 'i' },
        { "autoscale", required_argument, 0, 'A' },
        { "engine-port", required_argument, 0, 'E' }, { "client-port", required_argument, 0, 'C' },
        { "profile-dir", required_argument, 0, 'p' }, { "daemon", no_argument, 0, 'd' },
        { "engine-bin", required_argument, 0, 'b' }, { "set", required_argument, 0, 's' },
        { "kernel-path", required_argument, 0, 'k' },
        { "show-config", no_argument, 0, 'c' }, { "verbose", no_argument, 0, 'v' },
        { "insecure", no_argument, 0, 'I' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    memset (opts, 0, sizeof *opts);
    opts->ip = NULL;
    opts->kind = "local";
    int c;
    while ((c = getopt_long (argc, argv, "n:vh", options, NULL)) != -1) {
        char *end;
        switch (c) {
            case 'n': case 'E': case 'C': {
                long value = strtol (optarg, &end, 10);
                if (*end || value < 0 || (c == 'n' && value > 100000) || (c != 'n' && value > 65535)) {
                    fprintf (stderr, "ipclusterd: bad %s '%s'\n", c == 'n'? "engine count": "port", optarg);
                    return 2;
                }
                *(c == 'n'? &opts->engines: c == 'E'? &opts->engine_port: &opts->client_port) = value;
                break;
            }
            case 'K':
                if (!mc_launcher_kind_known (optarg)) {
                    fprintf (stderr, "ipclusterd: --engines '%s' is not a launcher (local, slurm, pbs, ssh, mpi)%s\n",
                             optarg, strspn (optarg, "0123456789") == strlen (optarg)? "; the number of engines is -n N": "");
                    return 2;
                }
                opts->kind = optarg;
                break;
            case 'o': case 'T': case 'H':
                if (opts->launcher_opt_count == 32) {
                    fprintf (stderr, "ipclusterd: too many launcher options\n");
                    return 2;
                }
                if (c == 'T')
                    snprintf (opts->template_opt, sizeof opts->template_opt, "template=%s", optarg);
                if (c == 'H')
                    snprintf (opts->hosts_opt, sizeof opts->hosts_opt, "hosts=%s", optarg);
                opts->launcher_opts [opts->launcher_opt_count++] = c == 'T'? opts->template_opt:
                                                                   c == 'H'? opts->hosts_opt: optarg;
                break;
            case 'A': {
                long min = strtol (optarg, &end, 10), max = *end == ':'? strtol (end + 1, &end, 10): -1;
                if (*end || min < 0 || max < 1 || max < min || max > 100000) {
                    fprintf (stderr, "ipclusterd: bad --autoscale '%s' (MIN:MAX, 0 <= MIN <= MAX, MAX >= 1)\n", optarg);
                    return 2;
                }
                opts->autoscale_min = (size_t) min;
                opts->autoscale_max = (size_t) max;
                break;
            }
            case 'i': opts->ip = optarg; break;
            case 'p': opts->profile_opt = optarg; break;
            case 'd': opts->daemon = true; break;
            case 'b': snprintf (opts->engine_bin, sizeof opts->engine_bin, "%s", optarg); break;
            case 'k': opts->kernel_path = optarg; break;
            case 's':
                if (opts->set_count == 64) {
                    fprintf (stderr, "ipclusterd: too many --set options\n");
                    return 2;
                }
                opts->sets [opts->set_count++] = optarg;
                break;
            case 'c': opts->show_config = true; break;
            case 'I': opts->insecure = true; break;
            case 'v': opts->verbose++; break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "ipclusterd: unexpected argument '%s'\n", argv [optind]);
        return 2;
    }
    //  Engines on other nodes must reach the controller: a launcher that
    //  puts them there binds every interface unless told otherwise (CURVE
    //  keeps out whoever has no key).
    if (!opts->ip)
        opts->ip = strcmp (opts->kind, "local")? "*": "127.0.0.1";
    return -1;
}

//  The defaults, then the profile's mccluster.conf, then the --set options.
//  0, or 2 (the exit status for bad usage) with the reason on stderr.
static int
s_load_config (const s_options_t *opts, const char *profile, mc_config_t *config)
{
    char err [1024];
    mc_config_defaults (config);
    char conf_path [4200];
    snprintf (conf_path, sizeof conf_path, "%s/mccluster.conf", profile);
    if (mc_config_load (config, conf_path, err, sizeof err)) {
        fprintf (stderr, "ipclusterd: %s\n", err);
        return 2;
    }
    //  A launcher option no launcher takes is a typo, not a choice.
    for (const char *opt = config->launcher_opts; *opt; opt = strchr (opt, '\n') + 1) {
        char key [128];
        snprintf (key, sizeof key, "%.*s", (int) strcspn (opt, "="), opt);
        if (!mc_launcher_takes (key)) {
            fprintf (stderr, "ipclusterd: %s: launcher.%s: no launcher takes this option (see --help)\n",
                     conf_path, key);
            return 2;
        }
    }
    for (size_t i = 0; i < opts->set_count; i++) {
        char *set = opts->sets [i];
        char *eq = strchr (set, '=');
        if (eq)
            *eq = 0;
        if (!eq || mc_config_set (config, set, eq + 1, err, sizeof err)) {
            fprintf (stderr, "ipclusterd: --set %s: %s\n", set, eq? err: "expected KEY=VALUE");
            return 2;
        }
    }
    return 0;
}

static int
s_cmp_pid (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Engines a controller of this profile started and that outlived it
//  (SIGKILL, a crash): they are reconnecting, and count towards -n. Found
//  in /proc: ours, and started with this engine file (while no other
//  controller runs with this profile, every such engine is an orphan; its
//  new parent may be any subreaper, not only init). Their pids, sorted, in
//  state (none when out of memory: they are then not counted).
static size_t
s_surviving_engines (s_state_t *state, const char *engine_file)
{
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    size_t count = 0, room = 0;
    int64_t *pids = NULL;
    struct dirent *entry;
    while ((entry = readdir (proc))) {
        char path [300], cmdline [8192];
        struct stat st;
        int pid = atoi (entry->d_name);
        snprintf (path, sizeof path, "/proc/%d/cmdline", pid);
        if (pid <= 0 || stat (path, &st) || st.st_uid != geteuid () || getppid () == pid)
            continue;
        FILE *file = fopen (path, "r");
        size_t len = file? fread (cmdline, 1, sizeof cmdline - 1, file): 0;
        if (file)
            fclose (file);
        //  argv: mcengine --file ENGINE_FILE ...
        const char *argv1 = len? memchr (cmdline, 0, len): NULL;
        if (!argv1 || !strstr (cmdline, "mcengine") || strcmp (argv1 + 1, "--file"))
            continue;
        cmdline [len] = 0;
        const char *file_arg = argv1 + 1 + strlen ("--file") + 1;
        if (file_arg >= cmdline + len || strcmp (file_arg, engine_file))
            continue;
        if (count == room) {
            int64_t *grown = realloc (pids, (room = room? 2 * room: 16) * sizeof *pids);
            if (!grown) {
                free (pids);
                closedir (proc);
                return 0;
            }
            pids = grown;
        }
        pids [count++] = pid;
    }
    closedir (proc);
    if (count == 0)
        return 0;
    bool *back = calloc (count, sizeof *back);
    if (!back) {
        free (pids);
        return 0;
    }
    qsort (pids, count, sizeof *pids, s_cmp_pid);
    state->survivors = pids;
    state->survivor_back = back;
    state->survivor_count = count;
    return count;
}

//  Make the launcher, with what every engine it starts shares, and start
//  the engines of -n through it. 0, or -1 with the reason logged and on
//  stderr.
static int
s_start_engines (const s_options_t *opts, const mc_config_t *config, mc_controller_t *controller,
                 s_state_t *state)
{
    //  The engines' argv ends at the first NULL.
    const char *extra [6] = { NULL };
    char grace [32];
    snprintf (grace, sizeof grace, "%.3f", config->engine_grace_ms / 1000.0);
    size_t n = 0;
    extra [n++] = "--give-up";
    extra [n++] = grace;
    if (opts->kernel_path) {
        extra [n++] = "--kernel-path";
        extra [n++] = opts->kernel_path;
    }
    if (opts->verbose)
        extra [n++] = opts->verbose >= 2? "-vv": "-v";
    //  Engines on other hosts get engine.json without its Unix socket, in
    //  their environment: no shared filesystem, nothing on a command line.
    mc_conn_t remote = *mc_controller_conn (controller, MC_ROLE_ENGINE);
    remote.ipc [0] = 0;
    char *credential = mc_conn_base64 (&remote);
    char profile [4200];
    snprintf (profile, sizeof profile, "%s", mc_controller_conn_path (controller, MC_ROLE_ENGINE));
    *strrchr (profile, '/') = 0;
    mc_launcher_setup_t setup = {
        .engine_bin = opts->engine_bin, .engine_file = mc_controller_conn_path (controller, MC_ROLE_ENGINE),
        .credential = credential, .profile_dir = profile, .engine_args = extra,
        .restarts_per_min = config->engine_restarts_per_min, .poll_ms = config->launcher_poll_ms,
        .config_opts = config->launcher_opts
    };
    mc_launcher_events_t events = { s_engine_exited, s_alloc_ended, state, s_alloc_changed };
    state->launcher = credential? mc_launcher_new (&setup, &events): NULL;
    if (credential)
        sodium_memzero (credential, strlen (credential));
    free (credential);
    char err [1024];
    snprintf (err, sizeof err, "cannot start engines: out of memory");
    if (!state->launcher) {
        mc_error ("%s", err);
        fprintf (stderr, "ipclusterd: %s\n", err);
        return -1;
    }
    mc_controller_set_launcher (controller, state->launcher, opts->kind, opts->launcher_opts);
    mc_controller_set_autoscale (controller, opts->autoscale_min, opts->autoscale_max);
    //  After a crash, the batch jobs of the last controller are taken up
    //  again: engines of this kind still queued or running count towards -n.
    size_t start = (size_t) opts->engines, taken;
    if (mc_controller_resume_allocations (controller, opts->kind, &taken, err, sizeof err)) {
        mc_error ("%s", err);
        fprintf (stderr, "ipclusterd: %s\n", err);
        return -1;
    }
    if (taken) {
        mc_warn ("%zu engines of the last controller's allocations are still queued or running: starting %zu more",
                 taken, taken < start? start - taken: 0);
        start = taken < start? start - taken: 0;
        //  Their first poll starts at the first tick; its answer is in by then.
        state->taken_due_us = mc_time_mono_us () + 2 * config->launcher_poll_ms * 1000 + 2000000;
    }
    //  And the local engines that outlived it are coming back.
    if (!strcmp (opts->kind, "local")) {
        size_t surviving = s_surviving_engines (state, mc_controller_conn_path (controller, MC_ROLE_ENGINE));
        start = surviving < start? start - surviving: 0;
        if (surviving)
            mc_warn ("%zu engines of the last controller are still running: starting %zu more", surviving, start);
    }
    //  ssh counts its engines from its hosts (h1:4,h2:4), -n or not.
    bool ssh = !strcmp (opts->kind, "ssh");
    if ((start || ssh) && mc_launcher_add (state->launcher, opts->kind, start, opts->launcher_opts, err, sizeof err) < 0) {
        mc_error ("%s", err);
        fprintf (stderr, "ipclusterd: %s\n", err);
        return -1;
    }
    if (ssh)
        state->engines = mc_launcher_requested (state->launcher);
    return 0;
}

//  Each engine's connection costs the controller one open file: raise
//  the soft limit to the hard one, and say how many engines that allows.
static void
s_raise_file_limit (size_t engines)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit))
        return;
    rlim_t was = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY? 1048576: limit.rlim_max;
    if (limit.rlim_cur > was && setrlimit (RLIMIT_NOFILE, &limit))
        limit.rlim_cur = was;
    //  The store, the log, sockets, pipes to local engines: 64 is plenty.
    unsigned long long room = limit.rlim_cur > 64? (unsigned long long) (limit.rlim_cur - 64): 0;
    if (room < engines || room < 1000)
        mc_warn ("open files: limit %llu (hard limit %llu): room for about %llu engines; raise it "
                 "(ulimit -Hn) for more", (unsigned long long) limit.rlim_cur,
                 (unsigned long long) limit.rlim_max, room);
    else
        mc_info ("open files: limit %llu (was %llu): room for about %llu engines",
                 (unsigned long long) limit.rlim_cur, (unsigned long long) was, room);
}

int
main (int argc, char *argv [])
{
    s_options_t opts;
    int status = s_parse_options (argc, argv, &opts);
    if (status >= 0)
        return status;
    char profile [4096], err [1024];
    if (mc_conn_profile_dir (opts.profile_opt, profile, sizeof profile)) {
        fprintf (stderr, "ipclusterd: profile directory name too long\n");
        return 2;
    }
    mc_config_t config;
    if (s_load_config (&opts, profile, &config))
        return 2;
    if (opts.show_config) {
        mc_config_print (&config, stdout);
        return 0;
    }
    if (!*opts.engine_bin)
        mc_launcher_default_bin (opts.engine_bin, sizeof opts.engine_bin);
    //  Everything the controller writes (the store and its journal, the
    //  log, the sockets) is its owner's alone.
    umask (077);
    if (mc_conn_ensure_dir (profile, err, sizeof err)) {
        fprintf (stderr, "ipclusterd: %s\n", err);
        return 1;
    }
    //  One controller per profile: refuse to start over a live one.
    char conn_path [4200];
    snprintf (conn_path, sizeof conn_path, "%s/%s", profile, mc_conn_file_name (MC_ROLE_CLIENT));
    mc_conn_t old;
    if (mc_conn_read (conn_path, MC_ROLE_CLIENT, &old, err, sizeof err) == 0 && old.pid > 0
    &&  (kill ((pid_t) old.pid, 0) == 0 || errno == EPERM)) {
        fprintf (stderr, "ipclusterd: a controller (pid %lld) is already running with profile %s\n",
                 (long long) old.pid, profile);
        return 1;
    }
    s_state_t state = { .notify_fd = -1, .engines = (size_t) opts.engines, .kind = opts.kind,
                        .opts = opts.launcher_opts };
    if (opts.daemon) {
        char log_path [4200];
        snprintf (log_path, sizeof log_path, "%s/ipclusterd.log", profile);
        state.notify_fd = s_daemonize (log_path);
        if (state.notify_fd < 0) {
            fprintf (stderr, "ipclusterd: cannot detach: %s\n", strerror (errno));
            return 1;
        }
    }
    mc_proto_keep_frames_warm ();
    mc_log_init ("ipclusterd", opts.verbose >= 2? MC_LOG_DEBUG: opts.verbose || opts.daemon? MC_LOG_INFO: MC_LOG_WARN);
    //  Local engines' deaths are read from a signalfd, in the loop: SIGCHLD
    //  stays blocked, in every thread (so before libzmq starts its own).
    int chld_fd = -1;
    {
        sigset_t chld;
        sigemptyset (&chld);
        sigaddset (&chld, SIGCHLD);
        if (sigprocmask (SIG_BLOCK, &chld, NULL) == 0)
            chld_fd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
        if (chld_fd < 0)
            mc_warn ("no signalfd (%s): engine deaths are seen at the next tick", strerror (errno));
    }
    s_raise_file_limit ((size_t) opts.engines);
    zsys_set_io_threads (2);            //  one to receive a large message while the other sends
    zsys_init ();
    zsys_catch_interrupts ();

    if (opts.insecure)
        fprintf (stderr, "ipclusterd: WARNING: --insecure: no authentication and no encryption.\n"
                         "ipclusterd: WARNING: anyone who can reach the endpoints (other users of this\n"
                         "ipclusterd: WARNING: host included) can run code on the engines and read all data.\n");
    mc_controller_t *controller = mc_controller_new (&config, profile, opts.ip, (int) opts.engine_port,
                                                     (int) opts.client_port, opts.insecure, err, sizeof err);
    if (!controller) {
        mc_error ("%s", err);
        fprintf (stderr, "ipclusterd: %s\n", err);
        return 1;
    }
    state.controller = controller;
    //  Engines can be added at run time (mcclient engines add): there is
    //  always a launcher, with or without -n.
    bool start_failed = s_start_engines (&opts, &config, controller, &state) != 0;
    int rc = start_failed? 1: 0;
    //  A batch system may keep engines waiting in its queue for longer than
    //  any timeout: the cluster serves those that came, and says what waits.
    mc_controller_set_patient (controller, strcmp (opts.kind, "local") != 0);
    state.told_us = mc_time_mono_us ();         //  local engines need no word in their first 2 s
    mc_controller_set_tick (controller, s_reap, &state);
    if (chld_fd >= 0)
        mc_controller_tick_on (controller, chld_fd);
    if (rc == 0 && mc_controller_run (controller, state.engines, s_ready, &state))
        rc = 1;
    mc_info ("stopping");
    mc_controller_stop_engines (controller, 2000);
    if (state.launcher) {
        //  A start that failed leaves the batch jobs it took up from the
        //  store to the next start: only its own children and jobs end.
        if (start_failed)
            mc_launcher_leave_adopted (state.launcher);
        mc_launcher_stop (state.launcher, 2000);
        mc_launcher_destroy (&state.launcher);
    }
    mc_controller_destroy (&controller);
    free (state.survivors);
    free (state.survivor_back);
    if (chld_fd >= 0)
        close (chld_fd);
    mc_info ("stopped");
    return rc;
}
