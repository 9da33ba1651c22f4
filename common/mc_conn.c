/*  mc_conn: profile directory and connection files (JSON via jansson). */
#include "mc_conn.h"
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <czmq.h>
#include <jansson.h>
#include <sodium.h>
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

const char *
mc_conn_file_name (mc_role_t role)
{
    return role == MC_ROLE_ENGINE? "engine.json": "client.json";
}

const char *
mc_conn_role_name (mc_role_t role)
{
    return role == MC_ROLE_ENGINE? "engine": "client";
}

const char *
mc_conn_env_name (mc_role_t role)
{
    return role == MC_ROLE_ENGINE? "MCCLUSTER_ENGINE": "MCCLUSTER_CLIENT";
}

char *
mc_conn_text (const mc_conn_t *conn)
{
    json_t *root = json_pack ("{s:i, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "version", 2,
                              "role", mc_conn_role_name (conn->role), "cluster_id", conn->cluster_id,
                              "host", conn->host, "pid", (json_int_t) conn->pid, "url", conn->url,
                              "ipc", conn->ipc, "security", conn->secure? "curve": "none");
    //  set_new takes the value, NULL (no memory) included, and then fails.
    bool ok = root != NULL;
    if (ok && conn->secure)
        ok = json_object_set_new (root, "server_key", json_string (conn->server_key)) == 0
          && json_object_set_new (root, "public_key", json_string (conn->public_key)) == 0
          && json_object_set_new (root, "secret_key", json_string (conn->secret_key)) == 0;
    char *text = ok? json_dumps (root, JSON_INDENT (2)): NULL;
    json_decref (root);
    return text;
}

char *
mc_conn_base64 (const mc_conn_t *conn)
{
    char *text = mc_conn_text (conn);
    size_t len = text? strlen (text): 0;
    size_t size = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
    char *coded = text? malloc (size): NULL;
    if (coded)
        sodium_bin2base64 (coded, size, (unsigned char *) text, len, sodium_base64_VARIANT_ORIGINAL);
    if (text)
        sodium_memzero (text, len);
    free (text);
    return coded;
}

int
mc_conn_write (const char *path, const mc_conn_t *conn, char *err, size_t errlen)
{
    char *text = mc_conn_text (conn);
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
    sodium_memzero (text, strlen (text));
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

//  A Z85 CURVE key: 40 characters of the Z85 alphabet.
static bool
s_is_key (const char *key)
{
    uint8_t bin [32];
    return strlen (key) == 40 && zmq_z85_decode (bin, key) != NULL;
}

int
mc_conn_parse (const char *text, size_t len, const char *origin, mc_role_t role,
               mc_conn_t *conn, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb (text, len, 0, &jerr);
    if (!root) {
        snprintf (err, errlen, "%s: line %d: %s", origin, jerr.line, jerr.text);
        return -1;
    }
    memset (conn, 0, sizeof *conn);
    conn->role = role;
    const char *want = mc_conn_role_name (role);
    const char *is = json_string_value (json_object_get (root, "role"));
    const char *security = json_string_value (json_object_get (root, "security"));
    int rc = -1;
    if (!json_is_object (root) || !is || s_copy_string (root, "url", conn->url, sizeof conn->url))
        snprintf (err, errlen, "%s: not a connection file (role and url are required)", origin);
    else
    if (strcmp (is, want))
        snprintf (err, errlen, "%s: a connection file for %ss, not for %ss", origin, is, want);
    else
    if (!security || (strcmp (security, "curve") && strcmp (security, "none")))
        snprintf (err, errlen, "%s: \"security\" must be \"curve\" or \"none\"", origin);
    else {
        conn->secure = !strcmp (security, "curve");
        if (conn->secure
        && (s_copy_string (root, "server_key", conn->server_key, sizeof conn->server_key) || !s_is_key (conn->server_key)
        ||  s_copy_string (root, "public_key", conn->public_key, sizeof conn->public_key) || !s_is_key (conn->public_key)
        ||  s_copy_string (root, "secret_key", conn->secret_key, sizeof conn->secret_key) || !s_is_key (conn->secret_key)))
            snprintf (err, errlen, "%s: server_key, public_key and secret_key must be 40-character Z85 keys", origin);
        else {
            s_copy_string (root, "host", conn->host, sizeof conn->host);
            s_copy_string (root, "ipc", conn->ipc, sizeof conn->ipc);
            s_copy_string (root, "cluster_id", conn->cluster_id, sizeof conn->cluster_id);
            conn->pid = json_integer_value (json_object_get (root, "pid"));
            rc = 0;
        }
    }
    json_decref (root);
    if (rc)
        sodium_memzero (conn, sizeof *conn);
    return rc;
}

int
mc_conn_check_secret (const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat (path, &st)) {
        snprintf (err, errlen, "cannot check %s: %s", path, strerror (errno));
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf (err, errlen, "%s holds a secret key and is open to others (mode %04o): refused; chmod 600 it",
                  path, (unsigned) (st.st_mode & 07777));
        return -1;
    }
    return 0;
}

int
mc_conn_read (const char *path, mc_role_t role, mc_conn_t *conn, char *err, size_t errlen)
{
    if (access (path, F_OK)) {
        snprintf (err, errlen, "no connection file %s (is ipclusterd running with this profile?)", path);
        return -1;
    }
    //  A file others could have written could send us, and our work, anywhere.
    if (mc_conn_check_private (path, err, errlen))
        return -1;
    FILE *file = fopen (path, "r");
    char text [8192];
    size_t len = file? fread (text, 1, sizeof text, file): 0;
    bool failed = !file || ferror (file);
    if (file)
        fclose (file);
    int rc = -1;
    if (failed)
        snprintf (err, errlen, "cannot read %s: %s", path, strerror (errno));
    else
    if (len == sizeof text)
        snprintf (err, errlen, "%s: not a connection file (larger than %zu bytes)", path, sizeof text);
    else
    if (mc_conn_parse (text, len, path, role, conn, err, errlen) == 0) {
        rc = conn->secure? mc_conn_check_secret (path, err, errlen): 0;
        if (rc)
            sodium_memzero (conn, sizeof *conn);
    }
    sodium_memzero (text, sizeof text);
    return rc;
}

//  The variable's value: the file's text, or its base64 in any variant.
static int
s_parse_env (const char *value, const char *name, mc_role_t role, mc_conn_t *conn, char *err, size_t errlen)
{
    size_t len = strlen (value);
    if (len && value [0] == '{')
        return mc_conn_parse (value, len, name, role, conn, err, errlen);
    static const int variants [] = { sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                     sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING };
    char text [8192];
    size_t size = 0;
    int rc = -1;
    for (size_t i = 0; i < sizeof variants / sizeof variants [0] && rc; i++)
        rc = sodium_base642bin ((unsigned char *) text, sizeof text, value, len, "\n\r ", &size, NULL, variants [i]);
    if (rc)
        snprintf (err, errlen, "$%s is neither a connection file nor one in base64", name);
    else
        rc = mc_conn_parse (text, size, name, role, conn, err, errlen);
    sodium_memzero (text, sizeof text);
    return rc;
}

int
mc_conn_load (mc_role_t role, const char *file, const char *profile_dir, mc_conn_t *conn,
              char *origin, size_t originlen, char *err, size_t errlen)
{
    const char *name = mc_conn_env_name (role);
    const char *value = getenv (name);
    if (!file && value && *value) {
        snprintf (origin, originlen, "$%s", name);
        return s_parse_env (value, origin, role, conn, err, errlen);
    }
    char path [4200];
    if (!file) {
        snprintf (path, sizeof path, "%s/%s", profile_dir, mc_conn_file_name (role));
        file = path;
    }
    snprintf (origin, originlen, "%s", file);
    return mc_conn_read (file, role, conn, err, errlen);
}

const char *
mc_conn_endpoint (const mc_conn_t *conn)
{
    const char *transport = getenv ("MCCLUSTER_TRANSPORT");
    if (!conn->ipc [0] || (transport && !strcmp (transport, "tcp")))
        return conn->url;
    char host [256] = "";
    gethostname (host, sizeof host);
    host [sizeof host - 1] = 0;
    return conn->host [0] && !strcmp (host, conn->host)? conn->ipc: conn->url;
}

bool
mc_conn_uses_curve (const mc_conn_t *conn, const char *endpoint)
{
    return conn->secure && !strncmp (endpoint, "tcp://", 6);
}

void
mc_conn_apply (const mc_conn_t *conn, const char *endpoint, void *zsock)
{
    if (!mc_conn_uses_curve (conn, endpoint))
        return;
    zsock_set_curve_serverkey (zsock, conn->server_key);
    zsock_set_curve_publickey (zsock, conn->public_key);
    zsock_set_curve_secretkey (zsock, conn->secret_key);
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
    assert (sodium_init () >= 0);
    //  The option wins over the environment, which wins over HOME.
    assert (mc_conn_profile_dir ("/opt/p", profile, sizeof profile) == 0 && !strcmp (profile, "/opt/p"));
    assert (mc_conn_profile_dir ("/opt/p", profile, 4) == -1);
    snprintf (profile, sizeof profile, "%s/a/b", dir);
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == 0);
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == 0);        //  already there
    struct stat st;
    assert (stat (profile, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 0777) == 0700);

    //  Written with mode 0600, read back field for field.
    mc_conn_t conn = { .role = MC_ROLE_ENGINE, .url = "tcp://127.0.0.1:40001", .ipc = "ipc:///tmp/e",
                       .host = "elsewhere.invalid", .pid = 4242, .cluster_id = "00ff", .secure = true };
    char secret [41];
    assert (zmq_curve_keypair (conn.server_key, secret) == 0);
    assert (zmq_curve_keypair (conn.public_key, conn.secret_key) == 0);
    snprintf (path, sizeof path, "%s/a/b/%s", dir, mc_conn_file_name (MC_ROLE_ENGINE));
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    assert (stat (path, &st) == 0 && (st.st_mode & 0777) == 0600);
    mc_conn_t back;
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == 0);
    assert (back.role == MC_ROLE_ENGINE && back.secure && !strcmp (back.url, conn.url) && !strcmp (back.ipc, conn.ipc));
    assert (!strcmp (back.host, conn.host) && back.pid == 4242 && !strcmp (back.cluster_id, "00ff"));
    assert (!strcmp (back.server_key, conn.server_key) && !strcmp (back.secret_key, conn.secret_key));
    //  An engine's file is no client's.
    assert (mc_conn_read (path, MC_ROLE_CLIENT, &back, err, sizeof err) == -1 && strstr (err, "not for clients"));
    //  On another host the Unix socket is out of reach: TCP it is; here,
    //  the socket, unless TCP is asked for.
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == 0);
    assert (mc_conn_endpoint (&back) == back.url);
    gethostname (back.host, sizeof back.host);
    back.host [sizeof back.host - 1] = 0;
    assert (mc_conn_endpoint (&back) == back.ipc);
    setenv ("MCCLUSTER_TRANSPORT", "tcp", 1);
    assert (mc_conn_endpoint (&back) == back.url);
    unsetenv ("MCCLUSTER_TRANSPORT");

    //  Found by precedence: the file given, the variable, the profile's.
    char origin [4200];
    snprintf (profile, sizeof profile, "%s/a/b", dir);
    unsetenv ("MCCLUSTER_ENGINE");
    assert (mc_conn_load (MC_ROLE_ENGINE, NULL, profile, &back, origin, sizeof origin, err, sizeof err) == 0);
    assert (!strcmp (origin, path) && !strcmp (back.public_key, conn.public_key));
    assert (mc_conn_load (MC_ROLE_CLIENT, NULL, profile, &back, origin, sizeof origin, err, sizeof err) == -1
         && strstr (err, "client.json"));
    char text [8192], coded [12000];
    FILE *file = fopen (path, "r");
    assert (file);
    size_t len = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text [len] = 0;
    setenv ("MCCLUSTER_ENGINE", text, 1);
    assert (mc_conn_load (MC_ROLE_ENGINE, NULL, "/nonexistent", &back, origin, sizeof origin, err, sizeof err) == 0);
    assert (!strcmp (origin, "$MCCLUSTER_ENGINE") && !strcmp (back.secret_key, conn.secret_key));
    int variants [] = { sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE_NO_PADDING };
    for (int i = 0; i < 2; i++) {
        sodium_bin2base64 (coded, sizeof coded, (unsigned char *) text, len, variants [i]);
        setenv ("MCCLUSTER_ENGINE", coded, 1);
        assert (mc_conn_load (MC_ROLE_ENGINE, NULL, "/nonexistent", &back, origin, sizeof origin, err, sizeof err) == 0);
        assert (!strcmp (back.url, conn.url));
    }
    //  A file given wins over the variable.
    assert (mc_conn_load (MC_ROLE_ENGINE, "/nonexistent/e.json", NULL, &back, origin, sizeof origin, err, sizeof err) == -1
         && strstr (err, "/nonexistent/e.json"));
    setenv ("MCCLUSTER_ENGINE", "not*base64", 1);
    assert (mc_conn_load (MC_ROLE_ENGINE, NULL, NULL, &back, origin, sizeof origin, err, sizeof err) == -1
         && strstr (err, "$MCCLUSTER_ENGINE"));
    unsetenv ("MCCLUSTER_ENGINE");

    //  Missing, malformed, without its endpoint, or with a bad key: an
    //  error naming the file.
    const struct { const char *text, *says; } bad [] = {
        { "{\"role\": \"engine\"", "line" },
        { "{\"role\": \"engine\", \"url\": 7}", "not a connection file" },
        { "{\"role\": \"engine\", \"url\": \"tcp://x:1\"}", "security" },
        { "{\"role\": \"engine\", \"url\": \"tcp://x:1\", \"security\": \"curve\", \"server_key\": \"short\"}", "Z85" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert (mc_conn_parse (bad [i].text, strlen (bad [i].text), "F", MC_ROLE_ENGINE, &back, err, sizeof err) == -1);
        assert (strstr (err, "F: ") && strstr (err, bad [i].says));
    }
    unlink (path);
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == -1 && strstr (err, "no connection file"));
    //  What others could have written is refused, naming it and its mode:
    //  the file, or the directory it is in; a sticky shared directory is not.
    //  A secret others can read is refused; a file without one is not.
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    assert (chmod (path, 0666) == 0);
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == -1 && strstr (err, path) && strstr (err, "0666"));
    assert (chmod (path, 0640) == 0);
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == -1 && strstr (err, "secret") && strstr (err, "0640"));
    conn.secure = false;
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0 && chmod (path, 0644) == 0);
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == 0 && !back.secure && !back.secret_key [0]);
    assert (chmod (profile, 0777) == 0);
    assert (mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == -1 && strstr (err, "directory") && strstr (err, "0777"));
    assert (mc_conn_ensure_dir (profile, err, sizeof err) == -1 && strstr (err, "writable by others"));
    assert (chmod (profile, 01777) == 0 && mc_conn_read (path, MC_ROLE_ENGINE, &back, err, sizeof err) == 0);
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
