/*  mc_kernel: the kernel table and the accessors of a kernel call. */
#include "mc_kernel.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_KERNELS 1024
static const mc_kernel_def_t *s_kernels [MAX_KERNELS];
static size_t s_count;

int
mc_kernel_register (const mc_kernel_def_t *def)
{
    if (s_count == MAX_KERNELS || !def->name || !mc_value_valid_kernel_name (def->name, strlen (def->name)) || !def->fn
    ||  mc_kernel_find (def->name, strlen (def->name)))
        return -1;
    s_kernels [s_count++] = def;
    return 0;
}

const mc_kernel_def_t *
mc_kernel_find (const char *name, size_t len)
{
    for (size_t i = 0; i < s_count; i++)
        if (strlen (s_kernels [i]->name) == len && memcmp (s_kernels [i]->name, name, len) == 0)
            return s_kernels [i];
    return NULL;
}

int
mc_kernel_load_dir (const char *dir, char *err, size_t errlen)
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
        //  Kernels stay loaded for the life of the engine: never dlclose.
        void *lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
        mc_kernels_fn *entry_fn = lib? (mc_kernels_fn *) dlsym (lib, "mc_kernels"): NULL;
        size_t count = 0;
        const mc_kernel_def_t *defs = entry_fn? entry_fn (MC_KERNEL_ABI, &count): NULL;
        if (!lib)
            snprintf (err, errlen, "%s: %s", path, dlerror ());
        else
        if (!entry_fn)
            snprintf (err, errlen, "%s: no mc_kernels function (see engine/mc_kernel.h)", path);
        else
        if (!defs)
            snprintf (err, errlen, "%s: does not serve kernel ABI %d", path, MC_KERNEL_ABI);
        for (size_t i = 0; defs && i < count; i++)
            if (mc_kernel_register (&defs [i])) {
                snprintf (err, errlen, "%s: kernel '%s' has a bad or taken name", path,
                          defs [i].name? defs [i].name: "(null)");
                defs = NULL;
            }
        if (!defs)
            rc = -1;
    }
    closedir (d);
    return rc;
}

size_t
mc_kernel_count (void)
{
    return s_count;
}

const mc_kernel_def_t *
mc_kernel_at (size_t index)
{
    return index < s_count? s_kernels [index]: NULL;
}

size_t
mc_kcall_argc (const mc_kcall_t *call)
{
    return call->argc;
}

const msgpack_object *
mc_kcall_arg (const mc_kcall_t *call, size_t i)
{
    return i < call->argc? call->argv [i]: NULL;
}

const msgpack_object *
mc_kcall_kwarg (const mc_kcall_t *call, const char *name)
{
    if (!call->kwargs || call->kwargs->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (name);
    for (uint32_t i = 0; i < call->kwargs->via.map.size; i++) {
        const msgpack_object *key = &call->kwargs->via.map.ptr [i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == len && !memcmp (key->via.str.ptr, name, len))
            return &call->kwargs->via.map.ptr [i].val;
    }
    return NULL;
}

msgpack_packer *
mc_kcall_out (mc_kcall_t *call)
{
    return call->out;
}

int
mc_kcall_array (const mc_kcall_t *call, const msgpack_object *obj, mc_array_t *array)
{
    return mc_proto_array_data (obj, call->frames, call->frame_count, array)? 0: -1;
}

void *
mc_kcall_out_array (mc_kcall_t *call, mc_dtype_t dtype, uint32_t ndim, const uint64_t *shape)
{
    mc_array_t array = { dtype, ndim, { 0 }, NULL, 0, 0 };
    if (ndim < 1 || ndim > MC_ARRAY_MAX_DIMS) {
        mc_kcall_error (call, "result array has %u dimensions (1 to %d allowed)", ndim, MC_ARRAY_MAX_DIMS);
        return NULL;
    }
    memcpy (array.shape, shape, ndim * sizeof *shape);
    if (mc_array_bytes (dtype, ndim, shape, &array.size)) {
        mc_kcall_error (call, "result array is too large");
        return NULL;
    }
    zframe_t *frame = mc_proto_frame_new (NULL, array.size);
    if (!frame || zlist_append (call->out_frames, frame)) {
        zframe_destroy (&frame);
        mc_kcall_error (call, "cannot allocate %zu bytes for the result", array.size);
        return NULL;
    }
    mc_array_pack_ref (call->out, &array, (uint32_t) zlist_size (call->out_frames) - 1);
    return zframe_data (frame);
}

void
mc_kcall_meta_double (mc_kcall_t *call, const char *key, double value)
{
    if (call->meta_count < sizeof call->meta / sizeof call->meta [0]) {
        call->meta [call->meta_count].key = key;
        call->meta [call->meta_count++].value = value;
    }
}

int
mc_kcall_error (mc_kcall_t *call, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (call->error, sizeof call->error, fmt, args);
    va_end (args);
    //  One line: errors are shown grouped, one per line.
    for (char *c = call->error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return -1;
}

uint64_t
mc_kcall_seed (const mc_kcall_t *call)
{
    return call->seed;
}

uint64_t
mc_kcall_index (const mc_kcall_t *call)
{
    return call->index;
}

bool
mc_kcall_cancelled (const mc_kcall_t *call)
{
    return call->cancel && *call->cancel;
}
