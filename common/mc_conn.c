/*  mc_conn: profile directory and connection file (JSON via jansson). */
#include "mc_conn.h"
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
    return 0;
}

int
mc_conn_write (const char *path, const mc_conn_t *conn, char *err, size_t errlen)
{
    json_t *root = json_pack ("{s:i, s:s, s:s, s:s, s:I}", "version", 1,
                              "engine_url", conn->engine_url, "client_url", conn->client_url,
                              "host", conn->host, "pid", (json_int_t) conn->pid);
    if (root && conn->engine_ipc [0])
        json_object_set_new (root, "engine_ipc", json_string (conn->engine_ipc));
    if (root && conn->client_ipc [0])
        json_object_set_new (root, "client_ipc", json_string (conn->client_ipc));
    char *text = root? json_dumps (root, JSON_INDENT (2)): NULL;
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
