/*  mc_ktable: the kernel table of this process and the loader of shared
    objects of kernels. */
#include "mc_ktable.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <assert.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_KERNELS MC_PROTO_MAX_KERNELS     //  as many as one REGISTER can name
static const mc_kernel_def_t *s_kernels [MAX_KERNELS];
static size_t s_count;

int
mc_ktable_register (const mc_kernel_def_t *def)
{
    if (s_count == MAX_KERNELS || !def->name || !mc_value_valid_kernel_name (def->name, strlen (def->name)) || !def->fn
    ||  mc_ktable_find (def->name, strlen (def->name)))
        return -1;
    s_kernels [s_count++] = def;
    return 0;
}

int
mc_ktable_register_all (const mc_kernel_def_t *defs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const mc_kernel_def_t *known = defs [i].name? mc_ktable_find (defs [i].name, strlen (defs [i].name)): NULL;
        if (known != &defs [i] && mc_ktable_register (&defs [i]))
            return -1;
    }
    return 0;
}

const mc_kernel_def_t *
mc_ktable_find (const char *name, size_t len)
{
    for (size_t i = 0; i < s_count; i++)
        if (strlen (s_kernels [i]->name) == len && memcmp (s_kernels [i]->name, name, len) == 0)
            return s_kernels [i];
    return NULL;
}

size_t
mc_ktable_count (void)
{
    return s_count;
}

const mc_kernel_def_t *
mc_ktable_at (size_t index)
{
    return index < s_count? s_kernels [index]: NULL;
}

static void
s_wrong_abi (const char *path, char *err, size_t errlen)
{
    snprintf (err, errlen, "%s: does not serve kernel ABI %d (built for another; rebuild it against "
              "engine/mc_kernel.h)", path, MC_KERNEL_ABI);
}

//  A library that does not load may have been built for another ABI,
//  whose functions this engine no longer has: ask it, with functions bound
//  lazily, so that the error says so rather than naming a missing symbol.
static void
s_diagnose (const char *path, char *err, size_t errlen)
{
    void *lib = dlopen (path, RTLD_LAZY | RTLD_LOCAL);
    mc_kernels_fn *entry_fn = lib? (mc_kernels_fn *) dlsym (lib, "mc_kernels"): NULL;
    size_t count = 0;
    if (entry_fn && !entry_fn (MC_KERNEL_ABI, &count))
        s_wrong_abi (path, err, errlen);
    if (lib)
        dlclose (lib);
}

//  Load one shared object and register its kernels: 0, or -1 with err.
static int
s_load (const char *path, char *err, size_t errlen)
{
    //  Kernels stay loaded for the life of the engine: never dlclose.
    void *lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf (err, errlen, "%s: %s", path, dlerror ());
        s_diagnose (path, err, errlen);
        return -1;
    }
    mc_kernels_fn *entry_fn = (mc_kernels_fn *) dlsym (lib, "mc_kernels");
    if (!entry_fn) {
        snprintf (err, errlen, "%s: no mc_kernels function (see engine/mc_kernel.h)", path);
        return -1;
    }
    size_t count = 0;
    const mc_kernel_def_t *defs = entry_fn (MC_KERNEL_ABI, &count);
    if (!defs) {
        s_wrong_abi (path, err, errlen);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (mc_ktable_register (&defs [i])) {
            snprintf (err, errlen, "%s: kernel '%s' has a bad or taken name", path,
                      defs [i].name? defs [i].name: "(null)");
            return -1;
        }
    return 0;
}

int
mc_ktable_load_dir (const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (err, errlen, "--kernel-path %s: %s", dir, strerror (errno));
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (d))) {
        size_t len = strlen (entry->d_name);
        if (len < 4 || strcmp (entry->d_name + len - 3, ".so"))
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        rc = s_load (path, err, errlen);
    }
    closedir (d);
    return rc;
}

//  --------------------------------------------------------------------------
//  Selftest

static int
s_test_fn (mc_kcall_t *call)
{
    return mc_kcall_nil (call);
}

void
mc_ktable_test (bool verbose)
{
    printf (" * mc_ktable: ");
    if (verbose)
        printf ("\n");
    static const mc_kernel_def_t defs [] = {
        { "ktable.test-1", "a", "", s_test_fn },
        { "ktable_test_2", "b", "x:int", s_test_fn },
    };
    static const mc_kernel_def_t bad [] = {
        { "bad name", "", "", s_test_fn }, { NULL, "", "", s_test_fn }, { "nofn", "", "", NULL },
        { "ktable.test-1", "another with a taken name", "", s_test_fn },
    };
    size_t before = mc_ktable_count ();
    assert (mc_ktable_register_all (defs, 2) == 0);
    assert (mc_ktable_register_all (defs, 2) == 0);            //  twice is no error
    assert (mc_ktable_count () == before + 2);
    assert (mc_ktable_find ("ktable_test_2", 13) == &defs [1]);
    assert (mc_ktable_find ("ktable_test_2x", 13) == &defs [1]);   //  the length counts
    assert (!mc_ktable_find ("ktable_test_", 12) && !mc_ktable_find ("", 0));
    assert (mc_ktable_at (before + 1) == &defs [1] && !mc_ktable_at (before + 2));
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert (mc_ktable_register (&bad [i]) == -1);
    assert (mc_ktable_register_all (bad, 1) == -1);
    assert (mc_ktable_count () == before + 2);
    //  Loading: a missing directory and a file that is no library.
    char err [256], dir [] = "/tmp/mc_ktable_test.XXXXXX", path [64];
    assert (mc_ktable_load_dir ("/nonexistent-dir", err, sizeof err) == -1 && strstr (err, "No such file"));
    assert (mkdtemp (dir));
    assert (mc_ktable_load_dir (dir, err, sizeof err) == 0);   //  nothing to load
    snprintf (path, sizeof path, "%s/broken.so", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("not a library\n", file);
    fclose (file);
    assert (mc_ktable_load_dir (dir, err, sizeof err) == -1 && strstr (err, "broken.so"));
    if (verbose)
        printf ("  %s\n", err);
    unlink (path);
    rmdir (dir);
    printf ("OK\n");
}
