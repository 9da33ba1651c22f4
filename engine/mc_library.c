/*  mc_library: the libraries of kernels and targets that clients add
    (LIBRARY and UNLOAD, mc_proto.md §3), done by the kernel thread between
    two tasks: the bytes checked against their hash and their ELF header,
    written to a private directory, loaded into the kernel table, and
    answered with LOADED. */
#include "mc_library.h"
#include "mc_ktable.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_value.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir [4096];           //  the private directory, made at first use ("" until then)

//  Remove a directory of ours and the files in it.
static void
s_remove_dir (const char *dir)
{
    char path [4400];
    DIR *d = opendir (dir);
    struct dirent *entry;
    while (d && (entry = readdir (d)))
        if (entry->d_name [0] != '.') {
            snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
            unlink (path);
        }
    if (d)
        closedir (d);
    rmdir (dir);
}

//  An engine that crashed (a user's kernel that segfaults) left its
//  directory in parent: remove those of ours whose engine is gone.
static void
s_remove_stale (const char *parent)
{
    DIR *d = opendir (parent);
    struct dirent *entry;
    char path [4400];
    while (d && (entry = readdir (d))) {
        long pid;
        char end;
        struct stat st;
        if (sscanf (entry->d_name, "mccluster-engine-%ld%c", &pid, &end) != 1 || pid <= 0 || pid == (long) getpid ())
            continue;
        bool alive = kill ((pid_t) pid, 0) == 0 || errno != ESRCH;
        if (alive)
            continue;
        snprintf (path, sizeof path, "%s/%s", parent, entry->d_name);
        if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode) && st.st_uid == getuid ())
            s_remove_dir (path);
    }
    if (d)
        closedir (d);
}

//  The engine's private directory for libraries, made 0700 at first use
//  and named by its pid (an engine that restarts itself keeps its pid, and
//  its directory): 0, or -1 with err.
static int
s_private_dir (char *err, size_t errlen)
{
    if (s_dir [0])
        return 0;
    const char *runtime = getenv ("XDG_RUNTIME_DIR"), *tmp = getenv ("TMPDIR");
    const char *parents [2] = { runtime && runtime [0] == '/'? runtime: NULL, tmp && tmp [0] == '/'? tmp: "/tmp" };
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (!parents [i] || stat (parents [i], &st) || !S_ISDIR (st.st_mode)
        ||  (size_t) snprintf (s_dir, sizeof s_dir, "%s/mccluster-engine-%ld", parents [i], (long) getpid ()) >= sizeof s_dir)
            continue;
        s_remove_stale (parents [i]);
        //  Ours, a directory (not a link), and no one else's to enter.
        if ((mkdir (s_dir, 0700) == 0 || errno == EEXIST) && lstat (s_dir, &st) == 0 && S_ISDIR (st.st_mode)
        &&  st.st_uid == getuid () && chmod (s_dir, 0700) == 0)
            return 0;
    }
    snprintf (s_dir, sizeof s_dir, "%s/mccluster-engine-XXXXXX", parents [1]);
    if (mkdtemp (s_dir))
        return 0;
    snprintf (err, errlen, "cannot make a private directory for libraries: %s", strerror (errno));
    s_dir [0] = 0;
    return -1;
}

void
mc_library_cleanup (void)
{
    if (!s_dir [0])
        return;
    s_remove_dir (s_dir);           //  only files we wrote are there: NAME-HASH.so
    s_dir [0] = 0;
}

//  The ELF machine of this engine's own program (e_machine), or 0.
static unsigned
s_own_machine (void)
{
    static unsigned machine;
    if (!machine) {
        unsigned char head [20];
        int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read (fd, head, sizeof head) == (ssize_t) sizeof head)
            machine = head [5] == 1? (unsigned) (head [18] | head [19] << 8): (unsigned) (head [18] << 8 | head [19]);
        if (fd >= 0)
            close (fd);
    }
    return machine;
}

//  Whether bytes are an ELF shared object for this machine: 0, or -1 with err.
static int
s_check_elf (const char *file, const unsigned char *bytes, size_t size, char *err, size_t errlen)
{
    if (size < 20 || memcmp (bytes, "\177ELF", 4)) {
        snprintf (err, errlen, "%s: not an ELF shared object", file);
        return -1;
    }
    unsigned machine = bytes [5] == 1? (unsigned) (bytes [18] | bytes [19] << 8): (unsigned) (bytes [18] << 8 | bytes [19]);
    unsigned own = s_own_machine ();
    if (own && machine != own) {
        snprintf (err, errlen, "%s: built for another machine (ELF e_machine %u, this engine's is %u)", file, machine, own);
        return -1;
    }
    return 0;
}

//  Replace each occurrence of from in text (of len bytes) by to.
static void
s_replace (char *text, size_t len, const char *from, const char *to)
{
    char out [1024];
    size_t n = 0, flen = strlen (from);
    for (const char *p = text; *p && n + 1 < sizeof out; ) {
        if (flen && !strncmp (p, from, flen)) {
            n += (size_t) snprintf (out + n, sizeof out - n, "%s", to);
            if (n >= sizeof out)
                n = sizeof out - 1;
            p += flen;
        }
        else
            out [n++] = *p++;
    }
    out [n] = 0;
    snprintf (text, len, "%s", out);
}

//  Load a LIBRARY: 0, or -1 with err.
static int
s_load (const mc_msg_t *msg, const char *name, char *err, size_t errlen)
{
    char file [128], hash [65];
    snprintf (file, sizeof file, "%s.so", name);
    mc_bytes_str (msg->hash, hash, sizeof hash);
    const unsigned char *bytes = zframe_data (msg->frames [0]);
    size_t size = msg->size;           //  the frame is padded to 8 bytes
    unsigned char digest [crypto_hash_sha256_BYTES];
    char hex [2 * crypto_hash_sha256_BYTES + 1];
    if (sodium_init () < 0 || crypto_hash_sha256 (digest, bytes, size)
    ||  strcmp (sodium_bin2hex (hex, sizeof hex, digest, sizeof digest), hash)) {
        snprintf (err, errlen, "%s: its bytes do not have the hash sent with them", file);
        return -1;
    }
    if (s_check_elf (file, bytes, size, err, errlen) || s_private_dir (err, errlen))
        return -1;
    char path [4400], part [4410];
    snprintf (path, sizeof path, "%s/%s-%.16s.so", s_dir, name, hash);
    //  Named by its hash: a file already there is this library, and may be
    //  loaded (sent again after a reconnect); rewriting it in place would
    //  pull the pages from under a running kernel. A new one is written
    //  beside and renamed into place.
    struct stat st;
    if (stat (path, &st) || st.st_size != (off_t) size) {
        snprintf (part, sizeof part, "%s.part", path);
        int fd = open (part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool written = fd >= 0 && write (fd, bytes, size) == (ssize_t) size;
        if (fd >= 0 && close (fd))
            written = false;
        if (!written || rename (part, path)) {
            snprintf (err, errlen, "%s: cannot write %.600s: %s", file, path, strerror (errno));
            unlink (part);
            return -1;
        }
    }
    char hash16 [17];
    snprintf (hash16, sizeof hash16, "%.16s", hash);
    int rc = mc_ktable_add_library (name, path, hash16, err, errlen);
    if (rc)
        s_replace (err, errlen, path, file);
    return rc;
}

int
mc_library_handle (const mc_msg_t *msg, int64_t engine_id, void *dest)
{
    char name [64], err [1024] = "";
    int rc = -1;
    if (msg->name.size == 0 || msg->name.size >= sizeof name || memchr (msg->name.ptr, '.', msg->name.size)
    ||  !mc_value_valid_kernel_name (msg->name.ptr, msg->name.size))
        snprintf (err, sizeof err, "library name is not a kernel name without '.' of at most %zu bytes", sizeof name - 1);
    else {
        mc_bytes_str (msg->name, name, sizeof name);
        if (msg->type == MC_LIBRARY)
            rc = s_load (msg, name, err, sizeof err);
        else {
            mc_ktable_remove_library (name);
            rc = 0;
        }
    }
    if (rc)
        mc_warn ("library not loaded: %s", err);
    else
        mc_info ("library %s %s", name, msg->type == MC_LIBRARY? "loaded": "unloaded");
    //  LOADED: the whole kernel list after, and what this library added.
    mc_msg_t loaded;
    mc_msg_init (&loaded);
    loaded.type = MC_LOADED;
    loaded.engine_id = engine_id;
    loaded.name = msg->name;
    loaded.hash = msg->type == MC_LIBRARY? msg->hash: (mc_bytes_t) { "", 0 };
    loaded.status = rc? MC_E_BAD_ARGUMENT: MC_OK;
    loaded.text.ptr = err;
    loaded.text.size = rc? strlen (err): 0;
    loaded.kernel_count = mc_ktable_count ();
    for (size_t i = 0; i < loaded.kernel_count && i < MC_PROTO_MAX_KERNELS; i++) {
        loaded.kernels [i].ptr = mc_ktable_at (i)->name;
        loaded.kernels [i].size = strlen (mc_ktable_at (i)->name);
    }
    msgpack_sbuffer info, added;
    msgpack_sbuffer_init (&info);
    msgpack_sbuffer_init (&added);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &info, msgpack_sbuffer_write);
    mc_ktable_pack_info (&pk);
    msgpack_packer_init (&pk, &added, msgpack_sbuffer_write);
    if (rc == 0 && msg->type == MC_LIBRARY)
        mc_ktable_added (name, &pk);
    else
        msgpack_pack_array (&pk, 0);
    loaded.kernel_info.ptr = info.data;
    loaded.kernel_info.size = info.size;
    loaded.added.ptr = added.data;
    loaded.added.size = added.size;
    int sent = mc_msg_send (&loaded, dest, NULL);
    msgpack_sbuffer_destroy (&info);
    msgpack_sbuffer_destroy (&added);
    return sent;
}
