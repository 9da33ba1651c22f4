/*  mc_ktable: the kernel and target tables of this process and the loader
    of shared objects of kernels and targets. */
#include "mc_ktable.h"
#include "mc_proto.h"
#include "mc_value.h"
#include "mc_log.h"
#include <assert.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KERNELS MC_PROTO_MAX_KERNELS     //  as many as one REGISTER can name
#define MAX_TARGETS 1024
#define TARGET_NAME_MAX 127                  //  bytes of "lib.name"
//  Where a kernel or target came from (mc_ktable.h): origin and version.
typedef struct {
    const char *origin;             //  MC_KTABLE_BUILTIN, _FILE or _CLIENT
    char lib [64];                  //  the added library it belongs to ("" unless added by a client)
    char hash [17];                 //  16 hex digits of its library's SHA-256 ("" for a built-in)
} s_from_t;
static const mc_kernel_def_t *s_kernels [MAX_KERNELS];
static mc_kargs_t *s_args [MAX_KERNELS];     //  parsed args of each, owned
static s_from_t s_kfrom [MAX_KERNELS];
static size_t s_count;
static struct {
    const mc_target_def_t *def;
    char name [TARGET_NAME_MAX + 1];
    s_from_t from;
} s_targets [MAX_TARGETS];
static size_t s_target_count;
//  Taken by the kernel thread while it changes the tables (the only
//  writer once the engine runs) and by any other thread that reads them
//  (the I/O thread's REGISTER); the kernel thread reads without it.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
//  What the next registrations are stamped with (under s_lock).
static s_from_t s_stamp = { MC_KTABLE_BUILTIN, "", "" };

void
mc_ktable_lock (void)
{
    pthread_mutex_lock (&s_lock);
}

void
mc_ktable_unlock (void)
{
    pthread_mutex_unlock (&s_lock);
}

//  Whether def could be registered: a valid free name, a function, args
//  that parse (into *args when not NULL).
static bool
s_kernel_ok (const mc_kernel_def_t *def, mc_kargs_t *args)
{
    mc_kargs_t scratch;
    char err [256];
    return s_count < MAX_KERNELS && def->name && mc_value_valid_kernel_name (def->name, strlen (def->name)) && def->fn
        && !mc_ktable_find (def->name, strlen (def->name))
        && mc_kargs_parse (args? args: &scratch, def->args, err, sizeof err) == 0;
}

int
mc_ktable_register (const mc_kernel_def_t *def)
{
    mc_kargs_t *args = malloc (sizeof *args);
    if (!args || !s_kernel_ok (def, args)) {
        free (args);
        return -1;
    }
    s_args [s_count] = args;
    s_kfrom [s_count] = s_stamp;
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

const char *
mc_ktable_origin (size_t index, const char **hash)
{
    assert (index < s_count);
    *hash = s_kfrom [index].hash;
    return s_kfrom [index].origin;
}

const mc_kargs_t *
mc_ktable_args (const mc_kernel_def_t *def)
{
    for (size_t i = 0; i < s_count; i++)
        if (s_kernels [i] == def)
            return s_args [i];
    return NULL;
}

//  --------------------------------------------------------------------------
//  Targets of the walker

//  "lib.name" of def into full ("name" for a built-in, lib NULL): 0, or
//  -1 when something about def is bad.
static int
s_target_name (const char *lib, const mc_target_def_t *def, char *full, size_t len)
{
    if (!def->name || !def->fn || def->dim < 1 || def->dim > MC_TARGET_MAX_DIM
    ||  def->nparams < MC_TARGET_ANY_PARAMS || def->nparams > MC_TARGET_MAX_PARAMS
    ||  (size_t) snprintf (full, len, "%s%s%s", lib? lib: "", lib? ".": "", def->name) >= len
    ||  !mc_value_valid_kernel_name (full, strlen (full)) || strchr (def->name, '.'))
        return -1;
    return 0;
}

int
mc_ktable_register_target (const char *lib, const mc_target_def_t *def)
{
    char full [TARGET_NAME_MAX + 1];
    if (s_target_count == MAX_TARGETS || s_target_name (lib, def, full, sizeof full)
    ||  mc_ktable_find_target (full, strlen (full)))
        return -1;
    s_targets [s_target_count].def = def;
    s_targets [s_target_count].from = s_stamp;
    memcpy (s_targets [s_target_count++].name, full, strlen (full) + 1);
    return 0;
}

const mc_target_def_t *
mc_ktable_find_target (const char *name, size_t len)
{
    for (size_t i = 0; i < s_target_count; i++)
        if (strlen (s_targets [i].name) == len && memcmp (s_targets [i].name, name, len) == 0)
            return s_targets [i].def;
    return NULL;
}

size_t
mc_ktable_target_count (void)
{
    return s_target_count;
}

const mc_target_def_t *
mc_ktable_target_at (size_t index, const char **name)
{
    if (index >= s_target_count)
        return NULL;
    *name = s_targets [index].name;
    return s_targets [index].def;
}

//  --------------------------------------------------------------------------
//  Shared objects

//  What ABI a plugin of ABI 2 or older serves, through its mc_kernels
//  function (which returns NULL for any other): 0 when none.
static int
s_old_abi (void *lib)
{
    typedef const void *(old_fn) (int abi, size_t *count);
    old_fn *entry_fn = (old_fn *) dlsym (lib, "mc_kernels");
    size_t count = 0;
    for (int abi = 1; entry_fn && abi < MC_KERNEL_ABI; abi++)
        if (entry_fn (abi, &count))
            return abi;
    return 0;
}

//  The ABI that lib was built for: the first member of its mc_plugin, or
//  what its old mc_kernels serves; 0 when it has neither.
static int
s_abi_of (void *lib)
{
    const int *plugin = dlsym (lib, "mc_plugin");
    return plugin? *plugin: s_old_abi (lib);
}

static void
s_wrong_abi (const char *path, int abi, char *err, size_t errlen)
{
    if (abi)
        snprintf (err, errlen, "%s: built for kernel ABI %d, this engine serves ABI %d (rebuild it against "
                  "engine/mc_kernel.h)", path, abi, MC_KERNEL_ABI);
    else
        snprintf (err, errlen, "%s: no mc_plugin (see engine/mc_kernel.h: MC_PLUGIN)", path);
}

//  A library that does not load may have been built for another ABI,
//  whose functions this engine no longer has: ask it, with functions bound
//  lazily, so that the error says so rather than naming a missing symbol.
static void
s_diagnose (const char *path, char *err, size_t errlen)
{
    void *lib = dlopen (path, RTLD_LAZY | RTLD_LOCAL);
    int abi = lib? s_abi_of (lib): MC_KERNEL_ABI;
    if (abi != MC_KERNEL_ABI)
        s_wrong_abi (path, abi, err, errlen);
    if (lib)
        dlclose (lib);
}

//  "mymodel" of ".../libmymodel.so" or ".../mymodel.so" into lib.
static void
s_lib_name (const char *path, char *lib, size_t len)
{
    const char *base = strrchr (path, '/');
    base = base? base + 1: path;
    if (!strncmp (base, "lib", 3) && strlen (base) > 6)
        base += 3;
    size_t n = strlen (base) - 3;               //  the caller loads *.so only
    snprintf (lib, len, "%.*s", (int) n, base);
}

//  Whether every kernel and target of plugin can be registered: 0, or -1
//  with err naming the first that cannot.
static int
s_plugin_ok (const char *path, const char *lib, const mc_plugin_t *plugin, char *err, size_t errlen)
{
    for (size_t i = 0; i < plugin->kernel_count; i++)
        if (!s_kernel_ok (&plugin->kernels [i], NULL)) {
            const mc_kernel_def_t *def = &plugin->kernels [i];
            for (size_t k = 0; def->name && k < s_count; k++)
                if (!strcmp (s_kernels [k]->name, def->name)) {
                    snprintf (err, errlen, "%s: kernel '%s' clashes with %s kernel of that name%s%s", path, def->name,
                              !strcmp (s_kfrom [k].origin, MC_KTABLE_BUILTIN)? "a built-in"
                            : !strcmp (s_kfrom [k].origin, MC_KTABLE_FILE)? "a --kernel-path": "an added",
                              s_kfrom [k].lib [0]? " in library ": "", s_kfrom [k].lib);
                    return -1;
                }
            snprintf (err, errlen, "%s: kernel '%s' has a bad or taken name, bad args ('%s') or no function", path,
                      def->name? def->name: "(null)", def->args? def->args: "");
            return -1;
        }
    char full [TARGET_NAME_MAX + 1];
    for (size_t i = 0; i < plugin->target_count; i++) {
        const mc_target_def_t *def = &plugin->targets [i];
        if (s_target_name (lib, def, full, sizeof full) || mc_ktable_find_target (full, strlen (full))) {
            snprintf (err, errlen, "%s: target '%s' has a bad or taken name, a dimension not in 1..%d, "
                      "a bad parameter count or no function", path, def->name? def->name: "(null)", MC_TARGET_MAX_DIM);
            return -1;
        }
    }
    if (s_count + plugin->kernel_count > MAX_KERNELS || s_target_count + plugin->target_count > MAX_TARGETS) {
        snprintf (err, errlen, "%s: too many kernels or targets for one engine", path);
        return -1;
    }
    return 0;
}

//  Load one shared object under the library name lib, its kernels and
//  targets stamped with s_stamp: 0, or -1 with err (nothing registered).
static int
s_load (const char *path, const char *name, char *err, size_t errlen)
{
    //  Kernels stay loaded for the life of the engine: never dlclose one
    //  that registered anything.
    void *lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf (err, errlen, "%s: %s", path, dlerror ());
        s_diagnose (path, err, errlen);
        return -1;
    }
    const mc_plugin_t *plugin = dlsym (lib, "mc_plugin");
    int abi = plugin? plugin->abi: s_old_abi (lib);
    if (abi != MC_KERNEL_ABI) {
        s_wrong_abi (path, abi, err, errlen);
        dlclose (lib);
        return -1;
    }
    if (s_plugin_ok (path, name, plugin, err, errlen)) {
        dlclose (lib);
        return -1;
    }
    //  Only a name given twice in this very file can fail now.
    for (size_t i = 0; i < plugin->kernel_count; i++)
        if (mc_ktable_register (&plugin->kernels [i])) {
            snprintf (err, errlen, "%s: kernel '%s' is named twice", path, plugin->kernels [i].name);
            return -1;
        }
    for (size_t i = 0; i < plugin->target_count; i++)
        if (mc_ktable_register_target (name, &plugin->targets [i])) {
            snprintf (err, errlen, "%s: target '%s' is named twice", path, plugin->targets [i].name);
            return -1;
        }
    return 0;
}

//  The first 16 hex digits of the SHA-256 of a file into hash ("" when it
//  cannot be read).
static void
s_file_hash (const char *path, char hash [17])
{
    hash [0] = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || sodium_init () < 0) {
        if (fd >= 0)
            close (fd);
        return;
    }
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    unsigned char buf [65536], digest [crypto_hash_sha256_BYTES];
    ssize_t n;
    while ((n = read (fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update (&state, buf, (size_t) n);
    close (fd);
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hash, 17, digest, 8);
}

int
mc_ktable_load (const char *path, char *err, size_t errlen)
{
    char name [256];
    s_lib_name (path, name, sizeof name);
    mc_ktable_lock ();
    s_stamp = (s_from_t) { MC_KTABLE_FILE, "", "" };
    s_file_hash (path, s_stamp.hash);
    int rc = s_load (path, name, err, errlen);
    s_stamp = (s_from_t) { MC_KTABLE_BUILTIN, "", "" };
    mc_ktable_unlock ();
    return rc;
}

//  Forget every kernel and target of the added library lib (their args
//  are freed when free_args; the code stays mapped).
static void
s_drop_library (const char *lib, bool free_args)
{
    size_t k = 0;
    for (size_t i = 0; i < s_count; i++)
        if (strcmp (s_kfrom [i].lib, lib)) {
            s_kernels [k] = s_kernels [i];
            s_args [k] = s_args [i];
            s_kfrom [k++] = s_kfrom [i];
        }
        else
        if (free_args)
            free (s_args [i]);
    s_count = k;
    k = 0;
    for (size_t i = 0; i < s_target_count; i++)
        if (strcmp (s_targets [i].from.lib, lib))
            s_targets [k++] = s_targets [i];
    s_target_count = k;
}

//  The tables as they were before a library was tried (kernel thread only).
static struct {
    const mc_kernel_def_t *kernels [MAX_KERNELS];
    mc_kargs_t *args [MAX_KERNELS];
    s_from_t kfrom [MAX_KERNELS];
    size_t count, target_count;
} s_saved;
static __typeof__ (s_targets) s_saved_targets;

int
mc_ktable_add_library (const char *lib, const char *path, const char *hash16, char *err, size_t errlen)
{
    mc_ktable_lock ();
    memcpy (s_saved.kernels, s_kernels, sizeof s_kernels);
    memcpy (s_saved.args, s_args, sizeof s_args);
    memcpy (s_saved.kfrom, s_kfrom, sizeof s_kfrom);
    memcpy (s_saved_targets, s_targets, sizeof s_targets);
    s_saved.count = s_count;
    s_saved.target_count = s_target_count;
    s_drop_library (lib, false);
    s_stamp = (s_from_t) { MC_KTABLE_CLIENT, "", "" };
    snprintf (s_stamp.lib, sizeof s_stamp.lib, "%s", lib);
    snprintf (s_stamp.hash, sizeof s_stamp.hash, "%s", hash16);
    int rc = s_load (path, lib, err, errlen);
    s_stamp = (s_from_t) { MC_KTABLE_BUILTIN, "", "" };
    if (rc == 0) {
        //  The old version's parsed args go; its code stays mapped.
        for (size_t i = 0; i < s_saved.count; i++)
            if (!strcmp (s_saved.kfrom [i].lib, lib))
                free (s_saved.args [i]);
    }
    else {
        for (size_t i = s_saved.count; i < s_count; i++)
            free (s_args [i]);      //  what the refused one had registered (a name given twice)
        memcpy (s_kernels, s_saved.kernels, sizeof s_kernels);
        memcpy (s_args, s_saved.args, sizeof s_args);
        memcpy (s_kfrom, s_saved.kfrom, sizeof s_kfrom);
        memcpy (s_targets, s_saved_targets, sizeof s_targets);
        s_count = s_saved.count;
        s_target_count = s_saved.target_count;
    }
    mc_ktable_unlock ();
    return rc;
}

int
mc_ktable_remove_library (const char *lib)
{
    mc_ktable_lock ();
    size_t before = s_count + s_target_count;
    s_drop_library (lib, true);
    bool any = s_count + s_target_count < before;
    mc_ktable_unlock ();
    return any? 0: -1;
}

void
mc_ktable_added (const char *lib, msgpack_packer *pk)
{
    size_t n = 0;
    for (size_t i = 0; i < s_count; i++)
        n += !strcmp (s_kfrom [i].lib, lib);
    for (size_t i = 0; i < s_target_count; i++)
        n += !strcmp (s_targets [i].from.lib, lib);
    msgpack_pack_array (pk, (uint32_t) n);
    for (size_t i = 0; i < s_count; i++)
        if (!strcmp (s_kfrom [i].lib, lib))
            mc_proto_pack_str (pk, s_kernels [i]->name);
    for (size_t i = 0; i < s_target_count; i++)
        if (!strcmp (s_targets [i].from.lib, lib))
            mc_proto_pack_str (pk, s_targets [i].name);
}

void
mc_ktable_pack_info (msgpack_packer *pk)
{
    msgpack_pack_array (pk, (uint32_t) (s_count + s_target_count));
    for (size_t i = 0; i < s_count; i++) {
        const mc_kernel_def_t *def = s_kernels [i];
        msgpack_pack_array (pk, 5);
        mc_proto_pack_str (pk, def->name);
        mc_proto_pack_str (pk, def->doc? def->doc: "");
        mc_proto_pack_str (pk, def->args? def->args: "");
        mc_proto_pack_str (pk, s_kfrom [i].origin);
        mc_proto_pack_str (pk, s_kfrom [i].hash);
    }
    //  Targets: a sixth element says what they are (mc_proto.md §3).
    for (size_t i = 0; i < s_target_count; i++) {
        const mc_target_def_t *def = s_targets [i].def;
        msgpack_pack_array (pk, 6);
        mc_proto_pack_str (pk, s_targets [i].name);
        mc_proto_pack_str (pk, def->doc? def->doc: "");
        mc_proto_pack_str (pk, "");
        mc_proto_pack_str (pk, s_targets [i].from.origin);
        mc_proto_pack_str (pk, s_targets [i].from.hash);
        msgpack_pack_map (pk, 3);
        mc_proto_pack_str (pk, "dim");
        msgpack_pack_uint32 (pk, def->dim);
        mc_proto_pack_str (pk, "params");
        msgpack_pack_int32 (pk, def->nparams);
        mc_proto_pack_str (pk, "log");
        if (def->log)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
    }
}

int
mc_ktable_load_dir (const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (err, errlen, "--kernel-path %s: %s", dir, strerror (errno));
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir (d))) {
        size_t len = strlen (entry->d_name);
        if (len < 4 || strcmp (entry->d_name + len - 3, ".so"))
            continue;
        char path [4096], why [1024];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        if (mc_ktable_load (path, why, sizeof why))
            mc_log (MC_LOG_WARN, "not loaded: %s", why);
    }
    closedir (d);
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest

static int
s_test_fn (mc_kcall_t *call)
{
    return mc_kcall_out_nil (call);
}

static double
s_test_target (const double *x, size_t dim, const double *params)
{
    (void) params;
    return x [dim - 1];
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
    assert (mc_ktable_args (&defs [1]) && mc_ktable_args (&defs [1])->count == 1 && !mc_ktable_args (&bad [0]));
    static const mc_kernel_def_t bad_args = { "ktable_bad_args", "", "x:real", s_test_fn };
    assert (mc_ktable_register (&bad_args) == -1);
    //  Targets: "lib.name", a dimension, a parameter count.
    static const mc_target_def_t targets [] = {
        { "t2", "", 2, 0, false, s_test_target, NULL }, { "tn", "", 64, MC_TARGET_ANY_PARAMS, true, s_test_target, NULL },
        { "t0", "", 0, 0, false, s_test_target, NULL }, { "t65", "", 65, 0, false, s_test_target, NULL },
        { "tp", "", 2, -2, false, s_test_target, NULL }, { "tf", "", 2, 0, false, NULL, NULL },
        { "a.b", "", 2, 0, false, s_test_target, NULL },
    };
    size_t tbefore = mc_ktable_target_count ();
    const char *full;
    assert (mc_ktable_register_target ("lib", &targets [0]) == 0 && mc_ktable_register_target ("lib", &targets [1]) == 0);
    assert (mc_ktable_register_target ("lib", &targets [0]) == -1);
    for (size_t i = 2; i < sizeof targets / sizeof targets [0]; i++)
        assert (mc_ktable_register_target ("lib", &targets [i]) == -1);
    assert (mc_ktable_find_target ("lib.tn", 6) == &targets [1] && !mc_ktable_find_target ("tn", 2));
    assert (mc_ktable_target_at (tbefore, &full) == &targets [0] && !strcmp (full, "lib.t2"));
    assert (mc_ktable_target_count () == tbefore + 2 && !mc_ktable_target_at (tbefore + 2, &full));
    //  A built-in target (lib NULL) is named as it is.
    static const mc_target_def_t builtin = { "ktable_bt", "", 2, 0, false, s_test_target, NULL };
    assert (mc_ktable_register_target (NULL, &builtin) == 0 && mc_ktable_find_target ("ktable_bt", 9) == &builtin);
    assert (mc_ktable_target_at (tbefore + 2, &full) == &builtin && !strcmp (full, "ktable_bt"));
    //  Described with the kernels: [name, doc, "", origin, hash, {dim, params, log}].
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    mc_ktable_pack_info (&pk);
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    assert (msgpack_unpack_next (&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS);
    msgpack_object info = up.data;
    assert (info.type == MSGPACK_OBJECT_ARRAY && info.via.array.size == mc_ktable_count () + mc_ktable_target_count ());
    msgpack_object last = info.via.array.ptr [info.via.array.size - 1];
    assert (last.type == MSGPACK_OBJECT_ARRAY && last.via.array.size == 6);
    assert (last.via.array.ptr [0].via.str.size == 9 && !memcmp (last.via.array.ptr [0].via.str.ptr, "ktable_bt", 9));
    msgpack_object shape = last.via.array.ptr [5];
    assert (shape.type == MSGPACK_OBJECT_MAP && shape.via.map.size == 3);
    assert (shape.via.map.ptr [0].val.via.u64 == 2 && shape.via.map.ptr [1].val.via.i64 == 0
            && shape.via.map.ptr [2].val.type == MSGPACK_OBJECT_BOOLEAN && !shape.via.map.ptr [2].val.via.boolean);
    msgpack_unpacked_destroy (&up);
    msgpack_sbuffer_destroy (&sb);
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
    assert (mc_ktable_load (path, err, sizeof err) == -1 && strstr (err, "broken.so"));
    assert (mc_ktable_load_dir (dir, err, sizeof err) == 0);   //  logged and skipped
    if (verbose)
        printf ("  %s\n", err);
    unlink (path);
    rmdir (dir);
    printf ("OK\n");
}
