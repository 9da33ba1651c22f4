/*  mc_conn: the profile directory and the connection file in it.
    The connection file (cluster.json, mode 0600) is how engines and clients
    find the controller: its two endpoints, its host and its pid. */
#ifndef MC_CONN_H
#define MC_CONN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_CONN_FILE "cluster.json"

typedef struct {
    char engine_url [256];      //  where engines connect, e.g. tcp://127.0.0.1:40001
    char client_url [256];      //  where clients connect
    char engine_ipc [256];      //  the same endpoints over a Unix socket in the
    char client_ipc [256];      //  profile directory, for peers on the same host ("" when none)
    char host [256];            //  host name of the controller
    int64_t pid;                //  controller process id
} mc_conn_t;

//  Resolve the profile directory: the option if given, else $MCCLUSTER_DIR,
//  else ~/.mccluster/default. Writes it into buf; returns 0 or -1.
int mc_conn_profile_dir (const char *option, char *buf, size_t len);
//  Create the directory and its parents (mode 0700); 0, or -1 with err
//  (also for a directory others could write, see mc_conn_check_private).
int mc_conn_ensure_dir (const char *dir, char *err, size_t errlen);
//  Write the connection file atomically with mode 0600; 0 or -1 with err.
int mc_conn_write (const char *path, const mc_conn_t *conn, char *err, size_t errlen);
//  The endpoint a peer on this host should use: the Unix socket when the
//  controller runs here (no TCP stack in the way), else the TCP URL.
const char *mc_conn_engine_endpoint (const mc_conn_t *conn);
const char *mc_conn_client_endpoint (const mc_conn_t *conn);
//  Refuse what others could have written, as ssh's StrictModes does: a
//  file or directory owned by another user (root excepted) or writable by
//  group or others (a directory with the sticky bit, such as /tmp, is
//  allowed); for a file, also its directory. 0, or -1 with err naming the
//  path and its mode.
int mc_conn_check_private (const char *path, char *err, size_t errlen);
//  Read and validate a connection file (refused, as above, when others
//  could have written it); 0 or -1 with err naming the file.
int mc_conn_read (const char *path, mc_conn_t *conn, char *err, size_t errlen);
//  Self test: directories, a file written and read back, endpoints, errors.
void mc_conn_test (bool verbose);
#endif
