/*  mc_conn: the profile directory and the connection files in it.
    A connection file is how a peer finds the controller and proves who it
    is: engine.json for engines, client.json for clients (mode 0600), each
    with that role's endpoints and, unless the controller runs --insecure,
    the controller's public key and that role's CURVE keypair. */
#ifndef MC_CONN_H
#define MC_CONN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { MC_ROLE_ENGINE = 0, MC_ROLE_CLIENT = 1 } mc_role_t;

typedef struct {
    mc_role_t role;
    char url [256];             //  the role's TCP endpoint, e.g. tcp://node17:40001
    char ipc [256];             //  the same over a Unix socket in the profile directory ("" when none)
    char host [256];            //  host name of the controller
    int64_t pid;                //  controller process id
    char cluster_id [33];       //  which cluster the file belongs to
    bool secure;                //  "security": "curve" (false: "none", an --insecure controller)
    char server_key [41];       //  Z85 CURVE keys: the controller's public key,
    char public_key [41];       //  and this role's keypair
    char secret_key [41];
} mc_conn_t;

//  "engine.json" / "client.json", and "engine" / "client".
const char *mc_conn_file_name (mc_role_t role);
const char *mc_conn_role_name (mc_role_t role);
//  Resolve the profile directory: the option if given, else $MCCLUSTER_DIR,
//  else ~/.mccluster/default. Writes it into buf; returns 0 or -1.
int mc_conn_profile_dir (const char *option, char *buf, size_t len);
//  Create the directory and its parents (mode 0700); 0, or -1 with err
//  (also for a directory others could write, see mc_conn_check_private).
int mc_conn_ensure_dir (const char *dir, char *err, size_t errlen);
//  A connection file's text (JSON), or its base64 (what $MCCLUSTER_ENGINE
//  may hold): malloc'ed, NULL when out of memory.
char *mc_conn_text (const mc_conn_t *conn);
char *mc_conn_base64 (const mc_conn_t *conn);
//  Write a connection file atomically with mode 0600; 0 or -1 with err.
int mc_conn_write (const char *path, const mc_conn_t *conn, char *err, size_t errlen);
//  Refuse what others could have written, as ssh's StrictModes does: a
//  file or directory owned by another user (root excepted) or writable by
//  group or others (a directory with the sticky bit, such as /tmp, is
//  allowed); for a file, also its directory. 0, or -1 with err naming the
//  path and its mode.
int mc_conn_check_private (const char *path, char *err, size_t errlen);
//  Refuse a file with a secret in it that group or others can read.
int mc_conn_check_secret (const char *path, char *err, size_t errlen);
//  Read and validate a connection file of this role (refused, as above,
//  when others could have written it, or read the secret in it); 0 or -1
//  with err naming the file.
int mc_conn_read (const char *path, mc_role_t role, mc_conn_t *conn, char *err, size_t errlen);
//  The same from the file's text; origin names it in errors.
int mc_conn_parse (const char *text, size_t len, const char *origin, mc_role_t role,
                   mc_conn_t *conn, char *err, size_t errlen);
//  Find and read the role's connection file: file if given, else the
//  environment variable $MCCLUSTER_ENGINE / $MCCLUSTER_CLIENT (the file's
//  text, as it is or in base64, so that a host without the profile needs
//  no shared filesystem), else <profile_dir>/<role>.json. origin gets the
//  path or the variable's name, for messages. 0 or -1 with err.
int mc_conn_load (mc_role_t role, const char *file, const char *profile_dir, mc_conn_t *conn,
                  char *origin, size_t originlen, char *err, size_t errlen);
//  The name of the role's environment variable.
const char *mc_conn_env_name (mc_role_t role);
//  The endpoint a peer on this host should use: the Unix socket when the
//  controller runs here (no TCP stack, no encryption needed: see the
//  README), unless $MCCLUSTER_TRANSPORT is "tcp"; else the TCP URL.
const char *mc_conn_endpoint (const mc_conn_t *conn);
//  Whether a peer connecting to endpoint uses CURVE: TCP to a secure
//  controller (its Unix socket needs no keys).
bool mc_conn_uses_curve (const mc_conn_t *conn, const char *endpoint);
//  Before connecting a socket (a zsock_t *) to endpoint: when it uses
//  CURVE, make it a CURVE client with the file's keys.
void mc_conn_apply (const mc_conn_t *conn, const char *endpoint, void *zsock);
//  Self test: directories, files written and read back, modes, the
//  environment variable, endpoints, errors.
void mc_conn_test (bool verbose);
#endif
