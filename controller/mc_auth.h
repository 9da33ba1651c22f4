/*  mc_auth: who may connect to the controller, and as what.

    The controller's certificate and one keypair per role live in
    <profile>/security/ (created on first start, kept after). On TCP both
    endpoints are CURVE servers; on the Unix sockets the mechanism is NULL
    and the peer's uid must be ours. Either way the ZAP handler here
    decides, by the endpoint's domain, before the peer's first message
    reaches the controller: the engine endpoint takes the engine keys, the
    client endpoint the client keys. Keys added with `mcclient trust add`
    (security/trusted/<role>/<name>.cert) can be revoked, which also cuts
    their live sessions. Refusals are logged, at most once per address and
    10 seconds. See mc_proto.md, "Security". */
#ifndef MC_AUTH_H
#define MC_AUTH_H
#include "mc_conn.h"
#include <czmq.h>
#include <stdbool.h>

typedef struct _mc_auth_t mc_auth_t;

//  One session cut by a revocation: the peer's routing id on its socket.
typedef struct {
    mc_role_t role;
    zframe_t *routing_id;
} mc_auth_cut_t;

//  Load or create the keys under profile_dir/security and bind the ZAP
//  handler (before any socket of this process binds). insecure: no keys,
//  no handler, anyone who reaches an endpoint gets in. NULL with err.
mc_auth_t *mc_auth_new (const char *profile_dir, bool insecure, char *err, size_t errlen);
void mc_auth_destroy (mc_auth_t **self_p);
//  Set up a ROUTER for role before binding it to a tcp:// or ipc://
//  endpoint. 0, or -1 with err.
int mc_auth_prepare (mc_auth_t *self, zsock_t *sock, mc_role_t role, bool tcp, char *err, size_t errlen);
//  Watch role's ROUTER for peers refused in the handshake itself, before
//  ZAP is asked (no CURVE, or a wrong server key), to log them too. Call
//  before it binds. 0, or -1 with err.
int mc_auth_watch (mc_auth_t *self, zsock_t *sock, mc_role_t role, char *err, size_t errlen);
//  Fill in the keys and the cluster id of a role's connection file.
void mc_auth_fill (const mc_auth_t *self, mc_conn_t *conn);
//  Serve ZAP requests from the loop.
int mc_auth_start (mc_auth_t *self, zloop_t *loop);
//  Whether to read a message that arrived on role's socket (header: its
//  first frame after the routing id): false for one of a session whose
//  key was revoked a moment ago. Records the sessions of added keys.
bool mc_auth_admit (mc_auth_t *self, mc_role_t role, zframe_t *routing_id, zframe_t *header);
//  Whether the sender of this message is the cluster's owner: the primary
//  client key, a peer of our uid on the Unix socket, or anyone --insecure.
bool mc_auth_is_owner (const mc_auth_t *self, zframe_t *header);
//  Who sent this message, as fair share counts users: the name of the
//  added client key it came with, and that key (Z85); both "" for the
//  cluster's owner (and for everyone --insecure).
void mc_auth_user (const mc_auth_t *self, zframe_t *header, char *name, size_t namelen, char *key, size_t keylen);

//  Trust operations (mcclient trust). Add: key (Z85) or, when NULL, a new
//  keypair made here; the public key goes into public, the secret one
//  (only when made here, else "") into secret (41 bytes each). 0, or -1
//  with err naming what is wrong.
int mc_auth_trust_add (mc_auth_t *self, mc_role_t role, const char *name, const char *key,
                       char *public, char *secret, char *err, size_t errlen);
//  The trusted keys: calls fn for each, with its live session count.
typedef void (mc_auth_each_fn) (void *arg, mc_role_t role, const char *name, const char *key,
                                int64_t added, size_t sessions);
void mc_auth_trust_each (mc_auth_t *self, mc_auth_each_fn *fn, void *arg);
//  Revoke an added key by name or key: forget it, move its certificate to
//  security/revoked/, shut down its live connections, and return them in
//  *cuts (*count of them; the caller frees each routing id and the array).
//  role gets the key's role. 0, or -1 with err.
int mc_auth_trust_revoke (mc_auth_t *self, const char *name_or_key, mc_role_t *role, char *name, size_t namelen,
                          mc_auth_cut_t **cuts, size_t *count, char *err, size_t errlen);
//  Self test: keys made and kept, the ZAP decisions, trust and revoke.
void mc_auth_test (bool verbose);
#endif
