/*  mc_conn: profile directory and connection file (JSON via jansson). */
#include "mc_conn.h"
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
mc_conn_profile_dir (const char *option, char *buf, size_t len)
{
    const char *env = getenv ("MCCLUSTER_DIR");
    int n;
    if (option && *option)
        n = snprintf (buf, len, "%s", option);
    else
    if (env && *env)
        n = snprintf (buf, len, "%s", env);
    else {
        const char *home = getenv ("HOME");
        n = snprintf (buf, len, "%s/.mccluster/default", home && *home? home: ".");
    }
    return n > 0 && (size_t) n < len? 0: -1;
}

int
mc_conn_check_private (const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat (path, &st)) {
        snprintf (err, errlen, "cannot check %s: %s", path, strerror (errno));
        return -1;
    }
    bool dir = S_ISDIR (st.st_mode);
    const char *what = dir? "directory": "file";
    if (st.st_uid != geteuid () && st.st_uid != 0) {
        snprintf (err, errlen, "%s %s belongs to user %u, not to you: refused", what, path, (unsigned) st.st_uid);
        return -1;
    }
    //  In a shared directory with the sticky bit (/tmp), nobody else can
    //  replace what is ours.
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st.st_mode & S_ISVTX))) {
        snprintf (err, errlen, "%s %s is writable by others (mode %04o): refused; chmod go-w it",
                  what, path, (unsigned) (st.st_mode & 07777));
        return -1;
    }
    if (dir)
        return 0;
    //  The directory the file is in, as for a directory.
    char parent [4096];
    snprintf (parent, sizeof parent, "%s", path);
    char *slash = strrchr (parent, '/');
    if (!slash)
        snprintf (parent, sizeof parent, ".");
    else
    if (slash == parent)
        parent [1] = 0;
    else
        *slash = 0;
    return mc_conn_check_private (parent, err, errlen);
}

int
mc_conn_ensure_dir (const char *dir, char *err, size_t errlen)
{
    char path [4096];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path) {
        snprintf (err, errlen, "profile directory name too long");
        return -1;
    }
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (mkdir (path, 0700) && errno != EEXIST) {
                snprintf (err, errlen, "cannot create %s: %s", path, strerror (errno));
                return -1;
            }
            *p = saved;
            if (saved == 0)
                break;
        }
    }
    return mc_conn_check_private (path, err, errlen);
}

int
mc_conn_write (const char *path, const mc_conn_t *conn, char *err, size_t errlen)
{
    json_t *root = json_pack ("{s:i, s:s, s:s, s:s, s:I}", "version", 1,
                              "engine_url", conn->engine_url, "client_url", conn->client_url,
                              "host", conn->host, "pid", (json_int_t) conn->pid);
    //  set_new takes the value, NULL (no memory) included, and then fails.
    bool ok = root != NULL;
    if (ok && conn->engine_ipc [0])
        ok = json_object_set_new (root, "engine_ipc", json_string (conn->engine_ipc)) == 0;
    if (ok && conn->client_ipc [0])
        ok = json_object_set_new (root, "client_ipc", json_string (conn->client_ipc)) == 0;
    char *text = ok? json_dumps (root, JSON_INDENT (2)): NULL;
    json_decref (root);
    if (!text) {
        snprintf (err, errlen, "cannot encode connection file");
        return -1;
    }
    char tmp [4200];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = -1;
    if (fd >= 0) {
        size_t len = strlen (text);
        if (write (fd, text, len) == (ssize_t) len && write (fd, "\n", 1) == 1 && fsync (fd) == 0)
            rc = 0;
        close (fd);
    }
    if (rc == 0 && rename (tmp, path))
        rc = -1;
    if (rc) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        unlink (tmp);
    }
    free (text);
    return rc;
}

static int
s_copy_string (json_t *root, const char *key, char *dest, size_t len)
{
    const char *value = json_string_value (json_object_get (root, key));
    if (!value || strlen (value) >= len)
        return -1;
    strcpy (dest, value);
    return 0;
}

int
mc_conn_read (const char *path, mc_conn_t *conn, char *err, size_t errlen)
{
    //  A file others could have written could send us, and our work, anywhere.
    if (access (path, F_OK) == 0 && mc_conn_check_private (path, err, errlen))
        return -1;
    json_error_t jerr;
    json_t *root = json_load_file (path, 0, &jerr);
    if (!root) {
        if (access (path, F_OK))
            snprintf (err, errlen, "no connection file %s (is ipclusterd running with this profile?)", path);
        else
            snprintf (err, errlen, "%s: line %d: %s", path, jerr.line, jerr.text);
        return -1;
    }
    memset (conn, 0, sizeof *conn);
    int rc = 0;
    if (!json_is_object (root)
    ||  s_copy_string (root, "engine_url", conn->engine_url, sizeof conn->engine_url)
    ||  s_copy_string (root, "client_url", conn->client_url, sizeof conn->client_url)) {
        snprintf (err, errlen, "%s: not a connection file (engine_url and client_url are required)", path);
        rc = -1;
    }
    else {
        s_copy_string (root, "host", conn->host, sizeof conn->host);
        s_copy_string (root, "engine_ipc", conn->engine_ipc, sizeof conn->engine_ipc);
        s_copy_string (root, "client_ipc", conn->client_ipc, sizeof conn->client_ipc);
        conn->pid = json_integer_value (json_object_get (root, "pid"));
    }
    json_decref (root);
    return rc;
}

static bool
s_same_host (const mc_conn_t *conn)
{
    char host [256] = "";
    gethostname (host, sizeof host);
    host [sizeof host - 1] = 0;
    return conn->host [0] && !strcmp (host, conn->host);
}

const char *
mc_conn_engine_endpoint (const mc_conn_t *conn)
{
    return conn->engine_ipc [0] && s_same_host (conn)? conn->engine_ipc: conn->engine_url;
}

const char *
mc_conn_client_endpoint (const mc_conn_t *conn)
{
    return conn->client_ipc [0] && s_same_host (conn)? conn->client_ipc: conn->client_url;
}

//  --------------------------------------------------------------------------
//  Self test, in a temporary directory

void
mc_conn_test (bool verbose)
{
    if (verbose)
        printf (" * mc_conn: ");
    char dir [] = "/tmp/mc_conn_test_XXXXXX";
    assert (mkdtemp (dir));
    char err [512], profile [64], path [64];
    //  The option wins over the environment, which wins over HOME.
    assert (mc_conn_profile_dir ("/opt/p", profile, sizeof profile) == 0 && !strcmp (profile, "/opt/p"));
    assert (mc_conn_profile_dir ("/opt/p", profile, 4) == -1);
    snprintf (profile, sizeof profile, "%s/a/b", dir);
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == 0);
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == 0);        //  already there
    struct stat st;
    assert (stat (profile, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 0777) == 0700);

    //  Written with mode 0600, read back field for field.
    mc_conn_t conn = { .engine_url = "tcp://127.0.0.1:40001", .client_url = "tcp://127.0.0.1:40002",
                       .engine_ipc = "ipc:///tmp/e", .host = "elsewhere.invalid", .pid = 4242 };
    snprintf (path, sizeof path, "%s/a/b/%s", dir, MC_CONN_FILE);
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    assert (stat (path, &st) == 0 && (st.st_mode & 0777) == 0600);
    mc_conn_t back;
    assert (mc_conn_read (path, &back, err, sizeof err) == 0);
    assert (!strcmp (back.engine_url, conn.engine_url) && !strcmp (back.client_url, conn.client_url));
    assert (!strcmp (back.engine_ipc, conn.engine_ipc) && back.client_ipc [0] == 0);
    assert (!strcmp (back.host, conn.host) && back.pid == 4242);
    //  On another host the Unix socket is out of reach: TCP it is.
    assert (mc_conn_engine_endpoint (&back) == back.engine_url);
    assert (mc_conn_client_endpoint (&back) == back.client_url);
    gethostname (back.host, sizeof back.host);
    back.host [sizeof back.host - 1] = 0;
    assert (mc_conn_engine_endpoint (&back) == back.engine_ipc);
    assert (mc_conn_client_endpoint (&back) == back.client_url);         //  no client socket

    //  Missing, malformed, or without its endpoints: an error naming the file.
    unlink (path);
    assert (mc_conn_read (path, &back, err, sizeof err) == -1 && strstr (err, "no connection file"));
    FILE *file = fopen (path, "w");
    assert (file);
    fprintf (file, "{\"engine_url\": \"tcp://x:1\"");
    fclose (file);
    assert (mc_conn_read (path, &back, err, sizeof err) == -1 && strstr (err, path) && strstr (err, "line"));
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "{\"engine_url\": \"tcp://x:1\", \"client_url\": 7}");
    fclose (file);
    assert (mc_conn_read (path, &back, err, sizeof err) == -1 && strstr (err, "not a connection file"));
    //  What others could have written is refused, naming it and its mode:
    //  the file, or the directory it is in; a sticky shared directory is not.
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    assert (chmod (path, 0666) == 0);
    assert (mc_conn_read (path, &back, err, sizeof err) == -1 && strstr (err, path) && strstr (err, "0666"));
    assert (chmod (path, 0644) == 0 && mc_conn_read (path, &back, err, sizeof err) == 0);
    snprintf (profile, sizeof profile, "%s/a/b", dir);
    assert (chmod (profile, 0777) == 0);
    assert (mc_conn_read (path, &back, err, sizeof err) == -1 && strstr (err, "directory") && strstr (err, "0777"));
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == -1 && strstr (err, "writable by others"));
    assert (chmod (profile, 01777) == 0 && mc_conn_read (path, &back, err, sizeof err) == 0);
    assert (chmod (profile, 0700) == 0);
    assert (mc_conn_check_private ("/tmp", err, sizeof err) == 0);
    assert (mc_conn_check_private ("/nonexistent/x", err, sizeof err) == -1 && strstr (err, "cannot check"));
    unlink (path);
    //  A directory that cannot be made (a file is in the way) is reported.
    snprintf (path, sizeof path, "%s/a/b/file", dir);
    file = fopen (path, "w");
    assert (file);
    fclose (file);
    snprintf (profile, sizeof profile, "%s/a/b/file/sub", dir);
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == -1 && strstr (err, "cannot create"));
    unlink (path);
    snprintf (path, sizeof path, "%s/a/b", dir);
    rmdir (path);
    snprintf (path, sizeof path, "%s/a", dir);
    rmdir (path);
    assert (rmdir (dir) == 0);                                          //  nothing left behind
    if (verbose)
        printf ("OK\n");
}
