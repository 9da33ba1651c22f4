/*  mcengine: one mccluster engine. Parse options, find the controller,
    register the kernels, serve until stopped. */
#include "mc_config.h"
#include "mc_conn.h"
#include "mc_ktable.h"
#include "mc_library.h"
#include "mc_capture.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_node.h"
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: mcengine [options]\n"
        "Run one engine: connect to the controller, register, and run kernels.\n\n"
        "  -f, --file PATH        connection file (default $MCCLUSTER_ENGINE, the file's text\n"
        "                         or its base64, else DIR/engine.json)\n"
        "      --url URL          the engine endpoint of an --insecure controller, instead of a file\n"
        "      --tcp              use the file's TCP endpoint (CURVE) even on the controller's host,\n"
        "                         instead of its ipc socket (as MCCLUSTER_TRANSPORT=tcp does)\n"
        "      --profile-dir DIR  profile directory (default $MCCLUSTER_DIR or ~/.mccluster/default)\n"
        "      --give-up S        exit with status 1 if no controller answers within S seconds,\n"
        "                         at start or after it went silent (default: keep trying)\n"
        "      --kernel-path DIR  also load the kernels of every DIR/*.so (see engine/mc_kernel.h)\n"
        "      --list-kernels     print the kernels and walker targets this engine can run and exit\n"
        "      --lifeline         stop (as on SIGTERM) when standard input reaches its end: a\n"
        "                         launcher's ssh session or pipe that drops takes the engine along\n"
        "      --no-capture       let kernels print to the engine's own stdout and stderr instead\n"
        "                         of keeping what each task prints with its result\n"
        "  -v, --verbose          log more (twice for debug)\n"
        "  -h, --help             this help\n\n"
        "$MCCLUSTER_LAUNCH (set by ipclusterd's launchers) names the allocation that started\n"
        "this engine, and $MCCLUSTER_HOST the host name it reports (default: Slurm's\n"
        "$SLURMD_NODENAME, else the system's).\n"
        "Exit status: 0 when the controller said stop; 1 on an error, or --give-up;\n"
        "2 for bad usage; 3 when the controller refused the credentials (key not\n"
        "trusted, or revoked).\n\n"
        "Examples:\n"
        "  mcengine --file engine.json\n"
        "  mcengine --kernel-path ~/kernels --list-kernels\n");
}

//  --lifeline: standard input is the launcher's line to this engine (an
//  ssh session's, or a pipe's); its end stops the engine as SIGTERM does,
//  with a goodbye to the controller.
static pthread_t s_main_thread;

//  An idle engine is mostly what its threads reserve: four (this I/O one,
//  the kernel thread, libzmq's I/O and reaper threads, which TCP needs),
//  each with an 8 MiB stack and, when it allocates, a 64 MiB malloc arena.
//  libzmq's two need little stack: start them now with 256 KiB, before the
//  default goes back to 8 MiB for the kernel thread, whose kernels may need
//  it. Two arenas: one for the I/O side, one for the kernel thread's results.
static void
s_lean_threads (void)
{
    mallopt (M_ARENA_MAX, 2);
    pthread_attr_t lean, usual;
    if (pthread_getattr_default_np (&usual) || pthread_attr_init (&lean))
        return;
    if (pthread_attr_setstacksize (&lean, 256 * 1024) == 0 && pthread_setattr_default_np (&lean) == 0) {
        zsock_t *start = zsock_new (ZMQ_PAIR);      //  the context's threads start with its first socket
        zsock_destroy (&start);
        pthread_setattr_default_np (&usual);
    }
    pthread_attr_destroy (&lean);
    pthread_attr_destroy (&usual);
}

static void *
s_lifeline (void *arg)
{
    (void) arg;
    char buf [256];
    ssize_t n;
    while ((n = read (STDIN_FILENO, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        ;
    mc_info ("standard input closed: stopping");
    pthread_kill (s_main_thread, SIGTERM);     //  to the thread in the poll, so it wakes at once
    return NULL;
}

int
main (int argc, char *argv [])
{
    static const struct option options [] = {
        { "file", required_argument, 0, 'f' }, { "url", required_argument, 0, 'u' },
        { "profile-dir", required_argument, 0, 'p' }, { "give-up", required_argument, 0, 'g' },
        { "list-kernels", no_argument, 0, 'l' }, { "verbose", no_argument, 0, 'v' },
        { "kernel-path", required_argument, 0, 'k' }, { "tcp", no_argument, 0, 't' },
        { "lifeline", no_argument, 0, 'L' }, { "no-capture", no_argument, 0, 'C' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *file = NULL, *url = NULL, *profile_opt = NULL, *kernel_path = NULL;
    double give_up = 0;
    int verbose = 0, c;
    bool list = false, tcp = false, lifeline = false, capture = true;
    while ((c = getopt_long (argc, argv, "f:vh", options, NULL)) != -1) {
        char *end;
        switch (c) {
            case 'f': file = optarg; break;
            case 'u': url = optarg; break;
            case 'p': profile_opt = optarg; break;
            case 'g':
                give_up = strtod (optarg, &end);
                if (*end || !(give_up >= 0)) {
                    fprintf (stderr, "mcengine: bad --give-up '%s'\n", optarg);
                    return 2;
                }
                break;
            case 'l': list = true; break;
            case 'k': kernel_path = optarg; break;
            case 't': tcp = true; break;
            case 'L': lifeline = true; break;
            case 'C': capture = false; break;
            case 'v': verbose++; break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "mcengine: unexpected argument '%s'\n", argv [optind]);
        return 2;
    }
    mc_proto_keep_frames_warm ();
    mc_log_init ("mcengine", verbose >= 2? MC_LOG_DEBUG: verbose? MC_LOG_INFO: MC_LOG_WARN);
    //  The built-ins come first, so that no plugin can take their names.
    if (mc_builtin_register () || mc_sampler_register ()) {
        fprintf (stderr, "mcengine: the built-in kernels cannot be registered\n");
        return 1;
    }
    char kerr [1024];
    if (kernel_path && mc_ktable_load_dir (kernel_path, kerr, sizeof kerr)) {
        fprintf (stderr, "mcengine: %s\n", kerr);
        return 1;
    }
    if (list) {
        for (size_t i = 0; i < mc_ktable_count (); i++)
            printf ("%-10s %-22s %s\n", mc_ktable_at (i)->name, mc_ktable_at (i)->args, mc_ktable_at (i)->doc);
        for (size_t i = 0; i < mc_ktable_target_count (); i++) {
            const char *name;
            const mc_target_def_t *def = mc_ktable_target_at (i, &name);
            char params [32];
            if (def->nparams < 0)
                snprintf (params, sizeof params, "any params");
            else
                snprintf (params, sizeof params, "%d param%s", def->nparams, def->nparams == 1? "": "s");
            printf ("target %s: %u-D %s, %s: %s\n", name, def->dim, def->log? "log density": "density",
                    params, def->doc? def->doc: "");
        }
        return 0;
    }
    char profile [4096], origin [4200], err [1024];
    mc_conn_profile_dir (profile_opt, profile, sizeof profile);
    mc_config_t config;
    mc_config_defaults (&config);
    mc_conn_t conn = { 0 };
    bool from_file = !url;
    char *credential = NULL;        //  for a restart of the node (mc_node_keep_credential)
    if (from_file) {
        const char *env = getenv (mc_conn_env_name (MC_ROLE_ENGINE));
        credential = env && !file? strdup (env): NULL;
        int rc = mc_conn_load (MC_ROLE_ENGINE, file, profile, &conn, origin, sizeof origin, err, sizeof err);
        //  Kernels and what they start need not see the credential.
        unsetenv (mc_conn_env_name (MC_ROLE_ENGINE));
        if (rc) {
            fprintf (stderr, "mcengine: %s\n", err);
            free (credential);
            return 1;
        }
        url = tcp? conn.url: mc_conn_endpoint (&conn);
    }
    else
        snprintf (origin, sizeof origin, "--url");
    zsys_init ();
    s_lean_threads ();
    mc_node_t *node = mc_node_new (url, from_file? &conn: NULL, origin, &config);
    if (!node) {
        fprintf (stderr, "mcengine: cannot start the kernel thread\n");
        free (credential);
        return 1;
    }
    //  Slurm names its nodes; several "hosts" on one machine (network
    //  namespaces) share the system's host name.
    const char *host = getenv ("MCCLUSTER_HOST");
    mc_node_set_launch (node, getenv ("MCCLUSTER_LAUNCH"), host? host: getenv ("SLURMD_NODENAME"));
    unsetenv ("MCCLUSTER_LAUNCH");
    pthread_t watcher;
    s_main_thread = pthread_self ();
    if (lifeline && pthread_create (&watcher, NULL, s_lifeline, NULL) == 0)
        pthread_detach (watcher);
    mc_node_keep_credential (node, credential);
    free (credential);
    //  What kernels print is kept per task (mc_capture.h); the engine's own
    //  log goes to a copy of its stderr.
    static FILE *log;
    if (capture && mc_capture_start () == 0 && (log = fdopen (fcntl (mc_capture_log_fd (), F_DUPFD_CLOEXEC, 3), "w"))) {
        setvbuf (log, NULL, _IOLBF, 0);
        mc_log_set_stream (log);
    }
    int rc = mc_node_run (node, (int64_t) (give_up * 1000));
    mc_node_destroy (&node);
    mc_capture_stop ();
    mc_log_set_stream (NULL);
    if (log)
        fclose (log);
    mc_library_cleanup ();
    if (rc == -3) {
        fprintf (stderr, "mcengine: the controller at %s refused the credentials in %s "
                 "(key not trusted, or revoked)\n", url, origin);
        return 3;
    }
    return rc? 1: 0;
}
