/*  mc_compile: a kernel library compiled from C source, the one way that
    `mcclient kernels add FILE.c` and the Python package's
    Client.kernels_add do it, so that the two cannot differ: the compiler's
    command, where mc_kernel.h is found, and the compiler's messages kept
    for the caller rather than printed. */
#include "mccluster.h"
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  The compiler's messages kept, at most (the rest is read and dropped,
//  so that a chatty compiler never blocks on a full pipe).
#define MC_COMPILE_MAX_MESSAGES 65536

//  A malloc'd string of the printf arguments (NULL when out of memory).
static char *
s_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        text = NULL;
    va_end (args);
    return text;
}

static bool
s_has_header (const char *dir)
{
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/mc_kernel.h", dir);
    return access (path, R_OK) == 0;
}

//  Where mc_kernel.h is, as -I... into flag: $MCCLUSTER_INCLUDE, this
//  source tree when libmcclient is loaded from its build tree (where the
//  program, or the Python package, runs from), else the installed headers,
//  else what pkg-config says. 0, or -1.
static int
s_include_flag (char *flag, size_t len)
{
    const char *env = getenv ("MCCLUSTER_INCLUDE");
    if (env && *env) {
        snprintf (flag, len, "-I%s", env);
        return 0;
    }
    Dl_info info;
    size_t build = strlen (MC_BUILD_DIR);
    if (dladdr ((void *) mc_kernels_compile, &info) && info.dli_fname
    &&  !strncmp (info.dli_fname, MC_BUILD_DIR, build) && info.dli_fname [build] == '/'
    &&  s_has_header (MC_SOURCE_INCLUDE_DIR)) {
        snprintf (flag, len, "-I%s", MC_SOURCE_INCLUDE_DIR);
        return 0;
    }
    if (s_has_header (MC_INSTALL_INCLUDE_DIR)) {
        snprintf (flag, len, "-I%s", MC_INSTALL_INCLUDE_DIR);
        return 0;
    }
    FILE *pc = popen ("pkg-config --cflags mccluster 2>/dev/null", "r");
    char line [PATH_MAX] = "";
    if (pc) {
        if (!fgets (line, sizeof line, pc))
            line [0] = 0;
        pclose (pc);
    }
    line [strcspn (line, " \n")] = 0;
    if (!strncmp (line, "-I", 2) && s_has_header (line + 2)) {
        snprintf (flag, len, "%s", line);
        return 0;
    }
    return -1;
}

//  Everything the child writes on fd until it closes it, at most
//  MC_COMPILE_MAX_MESSAGES bytes kept: a malloc'd string (maybe empty).
static char *
s_drain (int fd)
{
    size_t size = 0, cap = 4096;
    char *text = malloc (cap);
    char chunk [4096];
    for (;;) {
        ssize_t n = read (fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t keep = size + (size_t) n > MC_COMPILE_MAX_MESSAGES? MC_COMPILE_MAX_MESSAGES - size: (size_t) n;
        if (text && size + keep + 1 > cap) {
            cap = size + keep + 1 > 2 * cap? size + keep + 1: 2 * cap;
            char *more = realloc (text, cap);
            if (!more)
                free (text);
            text = more;
        }
        if (text && keep) {
            memcpy (text + size, chunk, keep);
            size += keep;
        }
    }
    if (text)
        text [size] = 0;
    return text;
}

int
mc_kernels_compile (const char *source, const char *out, const char *const *cflags, size_t count, char **messages)
{
    assert (source && out && messages);
    *messages = NULL;
    char include [PATH_MAX + 8];
    if (s_include_flag (include, sizeof include)) {
        *messages = s_printf ("cannot find mc_kernel.h (install mccluster, or set MCCLUSTER_INCLUDE to its directory)\n");
        return -1;
    }
    const char *cc = getenv ("CC");
    cc = cc && *cc? cc: "cc";
    const char *fixed [] = { cc, "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", include };
    size_t nfixed = sizeof fixed / sizeof fixed [0];
    char **argv = calloc (nfixed + count + 6, sizeof *argv);
    int pipe_fd [2];
    if (!argv || pipe2 (pipe_fd, O_CLOEXEC)) {
        free (argv);
        *messages = s_printf ("cannot run %s: %s\n", cc, strerror (errno));
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nfixed; i++)
        argv [k++] = (char *) fixed [i];
    for (size_t i = 0; i < count; i++)
        argv [k++] = (char *) cflags [i];
    argv [k++] = "-o";
    argv [k++] = (char *) out;
    argv [k++] = (char *) source;
    argv [k++] = "-lm";
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        //  The compiler's stdout and stderr both go to the pipe.
        dup2 (pipe_fd [1], STDOUT_FILENO);
        dup2 (pipe_fd [1], STDERR_FILENO);
        execvp (argv [0], argv);
        fprintf (stderr, "cannot run %s: %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    int saved = errno;
    free (argv);
    close (pipe_fd [1]);
    char *text = pid > 0? s_drain (pipe_fd [0]): NULL;
    close (pipe_fd [0]);
    int status = 0;
    pid_t waited = -1;
    if (pid > 0)
        while ((waited = waitpid (pid, &status, 0)) < 0 && errno == EINTR)
            ;
    if (pid < 0 || waited < 0) {
        free (text);
        *messages = s_printf ("cannot run %s: %s\n", cc, strerror (pid < 0? saved: errno));
        return -1;
    }
    if (text && !*text) {
        free (text);
        text = NULL;
    }
    *messages = text;
    return WIFEXITED (status) && WEXITSTATUS (status) == 0? 0: -1;
}

//  --------------------------------------------------------------------------
//  Selftest: a good source compiles to a library that has mc_plugin; a bad
//  one fails with the compiler's message naming the line.

static void
s_test_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
}

void
mc_compile_test (bool verbose)
{
    printf (" * mc_compile: ");
    if (verbose)
        printf ("\n");
    char dir [] = "/tmp/mc_compile_test.XXXXXX";
    assert (mkdtemp (dir));
    char good [64], bad [64], so [64];
    snprintf (good, sizeof good, "%s/good.c", dir);
    snprintf (bad, sizeof bad, "%s/bad.c", dir);
    snprintf (so, sizeof so, "%s/good.so", dir);
    s_test_write (good, "#include \"mc_kernel.h\"\n"
                        "static double s_one (const double *x, size_t dim, const double *params)\n"
                        "{ (void) x, (void) dim, (void) params; return 1; }\n"
                        "static const mc_target_def_t s_targets [] = { { \"one\", \"flat\", 1, 0, false, s_one, NULL } };\n"
                        "MC_PLUGIN_TARGETS (s_targets);\n");
    s_test_write (bad, "int f (void) { return undeclared_thing; }\n");
    char *messages = NULL;
    const char *flags [] = { "-DMC_COMPILE_TEST=1" };
    int rc = mc_kernels_compile (good, so, flags, 1, &messages);
    if (verbose || rc)
        printf ("   good: %d %s\n", rc, messages? messages: "(no messages)");
    assert (rc == 0);
    free (messages);
    void *lib = dlopen (so, RTLD_NOW | RTLD_LOCAL);
    assert (lib && dlsym (lib, "mc_plugin"));
    dlclose (lib);
    assert (mc_kernels_compile (bad, so, NULL, 0, &messages) == -1);
    if (verbose)
        printf ("   bad: %s", messages);
    assert (messages && strstr (messages, "undeclared_thing") && strstr (messages, "bad.c:1"));
    free (messages);
    unlink (good);
    unlink (bad);
    unlink (so);
    rmdir (dir);
    printf ("OK\n");
}
