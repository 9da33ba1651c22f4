/*  mc_cli_kernels: `mcclient kernels` (each kernel with its origin and
    version), `kernels add FILE.c [CFLAGS...]` (compiled here by libmcclient's
    mc_kernels_compile, as the Python package does, then shipped), `kernels add FILE.so` and
    `kernels remove NAME`. */
#include "mc_cli_kernels.h"
#include "mc_cli_cluster.h"
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { S_NAME = 1 };
const mc_cli_option_t mc_cli_kernels_options [] = {
    { "--name", S_NAME, true, "NAME", "the library's name (default: the file's, without lib and .c/.so)", NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

//  The library name of a file: "mymodel" of "dir/libmymodel.so" or
//  "mymodel.c", into name: 0, or -1 when it is no kernel name.
static int
s_name_of (const char *path, char *name, size_t len)
{
    const char *base = strrchr (path, '/');
    base = base? base + 1: path;
    if (!strncmp (base, "lib", 3) && strlen (base) > 6 && !strcmp (base + strlen (base) - 3, ".so"))
        base += 3;
    const char *dot = strrchr (base, '.');
    size_t n = dot? (size_t) (dot - base): strlen (base);
    if (n == 0 || n >= len)
        return -1;
    memcpy (name, base, n);
    name [n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!(name [i] == '_' || (name [i] >= 'a' && name [i] <= 'z') || (name [i] >= 'A' && name [i] <= 'Z')
           || (i > 0 && name [i] >= '0' && name [i] <= '9')))
            return -1;
    return 0;
}

//  Compile source into out with the user's cflags (libmcclient's
//  mc_kernels_compile, the one way the CLI and the Python package do it),
//  the compiler's messages passed on to stderr: 0, or an exit status once said.
static int
s_compile (const char *source, const char *out, int argc, char **cflags)
{
    char *messages = NULL;
    int rc = mc_kernels_compile (source, out, (const char *const *) cflags, (size_t) argc, &messages);
    if (messages)
        fputs (messages, stderr);
    free (messages);
    const char *cc = getenv ("CC");
    if (rc)
        return mc_cli_fail ("%s: does not compile (%s above): nothing was sent", source, cc && *cc? cc: "cc");
    return 0;
}

//  The whole file: a malloc'd buffer (the caller frees it) and its size, or NULL (said).
static char *
s_read (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    struct stat st;
    if (!file || fstat (fileno (file), &st) || !S_ISREG (st.st_mode)) {
        mc_cli_fail ("%s: %s", path, file? "not a regular file": strerror (errno));
        if (file)
            fclose (file);
        return NULL;
    }
    char *bytes = malloc ((size_t) st.st_size + 1);
    *size = bytes? fread (bytes, 1, (size_t) st.st_size, file): 0;
    fclose (file);
    if (!bytes || *size != (size_t) st.st_size) {
        free (bytes);
        mc_cli_fail ("%s: cannot read it", path);
        return NULL;
    }
    return bytes;
}

static void
s_print_added (const json_t *reply)
{
    printf ("%s (version %.16s) on engines", json_string_value (json_object_get (reply, "name")),
            json_string_value (json_object_get (reply, "hash")));
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (reply, "engines"), i, v)
        printf (" %lld", (long long) json_integer_value (v));
    printf (":");
    json_array_foreach (json_object_get (reply, "added"), i, v)
        printf (" %s", json_string_value (v));
    printf ("\n");
}

static void
s_print_removed (const json_t *reply)
{
    printf ("%s removed from %lld engines\n", json_string_value (json_object_get (reply, "name")),
            (long long) json_integer_value (json_object_get (reply, "engines")));
}

//  Print a reply to add or remove (as JSON with --json), or the client's
//  error; the client goes. The exit status.
static int
s_answer (mc_client_t *client, json_t *reply, void (*print) (const json_t *))
{
    int rc = 0;
    if (!reply)
        rc = mc_cli_fail ("%s", mc_client_error (client));
    else
    if (mc_cli_json)
        mc_cli_print_json (reply);
    else
        print (reply);
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

static int
s_add (int argc, char **argv)
{
    const char *name_opt = NULL, *file = NULL;
    int first_cflag = argc;
    for (int i = 0; i < argc; i++) {
        const mc_cli_option_t *option = mc_cli_option (mc_cli_kernels_options, argv [i]);
        if (!file && option && option->code == S_NAME && i + 1 < argc)
            name_opt = argv [++i];
        else
        if (!file && argv [i][0] == '-') {
            mc_cli_fail ("kernels add: unknown option '%s' (see mcclient help kernels)", argv [i]);
            return MC_EXIT_USAGE;
        }
        else
        if (!file)
            file = argv [i];
        else {
            first_cflag = i;
            break;
        }
    }
    size_t len = file? strlen (file): 0;
    bool source = len > 2 && !strcmp (file + len - 2, ".c");
    bool object = len > 3 && !strcmp (file + len - 3, ".so");
    if (!source && !object) {
        mc_cli_fail ("kernels add: give a FILE.c to compile or a FILE.so (see mcclient help kernels)");
        return MC_EXIT_USAGE;
    }
    if (object && first_cflag < argc) {
        mc_cli_fail ("kernels add: compiler flags go with a FILE.c only");
        return MC_EXIT_USAGE;
    }
    char name [64];
    if (name_opt? snprintf (name, sizeof name, "%s", name_opt) >= (int) sizeof name: s_name_of (file, name, sizeof name)) {
        mc_cli_fail ("kernels add: %s: the library's name must be a letter or _ then letters, digits or _ "
                     "(at most 63; give one with --name)", file);
        return MC_EXIT_USAGE;
    }
    const char *tmp = getenv ("TMPDIR");
    char dir [PATH_MAX], so [PATH_MAX + 80];
    snprintf (dir, sizeof dir, "%s/mcclient-kernels.XXXXXX", tmp && tmp [0] == '/'? tmp: "/tmp");
    const char *path = file;
    if (source) {
        if (!mkdtemp (dir))
            return mc_cli_fail ("cannot make a temporary directory: %s", strerror (errno));
        snprintf (so, sizeof so, "%s/%s.so", dir, name);
        int rc = s_compile (file, so, argc - first_cflag, argv + first_cflag);
        if (rc) {
            rmdir (dir);
            return rc;
        }
        path = so;
    }
    size_t size = 0;
    char *bytes = s_read (path, &size);
    if (source) {
        unlink (so);
        rmdir (dir);
    }
    if (!bytes)
        return MC_EXIT_FAILED;
    mc_client_t *client = mc_cli_connect ();
    if (!client) {
        free (bytes);
        return MC_EXIT_FAILED;
    }
    json_t *reply = mc_client_kernels_add (client, name, bytes, size);
    free (bytes);
    return s_answer (client, reply, s_print_added);
}

static int
s_remove (int argc, char **argv)
{
    if (argc != 1) {
        mc_cli_fail ("kernels remove: give one library NAME (see mcclient help kernels)");
        return MC_EXIT_USAGE;
    }
    mc_client_t *client = mc_cli_connect ();
    if (!client)
        return MC_EXIT_FAILED;
    return s_answer (client, mc_client_kernels_remove (client, argv [0]), s_print_removed);
}

int
mc_cli_kernels (const mc_cli_command_t *command, int argc, char **argv)
{
    if (argc >= 1 && !strcmp (argv [0], "add"))
        return s_add (argc - 1, argv + 1);
    if (argc >= 1 && !strcmp (argv [0], "remove"))
        return s_remove (argc - 1, argv + 1);
    return mc_cli_cluster_op (command, argc, argv);
}

void
mc_cli_kernels_test (bool verbose)
{
    printf (" * mc_cli_kernels: ");
    if (verbose)
        printf ("\n");
    char name [64];
    assert (s_name_of ("dir/mymodel.c", name, sizeof name) == 0 && !strcmp (name, "mymodel"));
    assert (s_name_of ("/x/libmy_2.so", name, sizeof name) == 0 && !strcmp (name, "my_2"));
    assert (s_name_of ("lib.so", name, sizeof name) == 0 && !strcmp (name, "lib"));
    assert (s_name_of ("2x.c", name, sizeof name) == -1 && s_name_of ("a-b.c", name, sizeof name) == -1);
    assert (s_name_of (".c", name, sizeof name) == -1);
    printf ("OK\n");
}
