/*  mc_auth: keys, the ZAP handler, trusted keys and their sessions.
    ZAP (RFC 27) is answered here, in the controller's own loop, rather than
    by CZMQ's zauth: zauth has one key store for all endpoints and ignores
    the domain, so it could not keep engine keys off the client endpoint. */
#include "mc_auth.h"
#include "mc_handshake.h"
#include "mc_log.h"
#include "mc_time.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  Hidden behind ZMQ_BUILD_DRAFT_API in zmq.h, but implemented by libzmq
//  4.3 without drafts; CZMQ's setter for it does nothing on Debian.
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define MC_AUTH_LOG_EVERY_US (10 * 1000000LL)     //  one refusal line per address
#define MC_AUTH_MAX_ADDRESSES 4096                //  remembered for that
#define MC_AUTH_MAX_SESSIONS 4096                 //  before closed ones are pruned

typedef struct {
    mc_role_t role;
    char name [65];
    char key [41];
    int64_t added;                  //  unix time
} s_trusted_t;

typedef struct {
    mc_role_t role;
    char key [41];                  //  the added key it authenticated with
    zframe_t *routing_id;
    int fd;                         //  libzmq's, for shutdown(2) only
    struct sockaddr_storage peer;   //  what fd was connected to, against fd reuse
    socklen_t peerlen;
} s_session_t;

typedef struct {
    int64_t last_us;
    size_t suppressed;
} s_refusal_t;

//  A ROUTER's connection events: who connected on which fd, and why the
//  last handshake failed, until that connection's end names the peer.
typedef struct {
    zsock_t *pair;
    mc_role_t role;
    zhashx_t *peers;                //  fd -> peer address (IP, or "uid N")
    const char *failed;             //  the last handshake failure's reason, or NULL
} s_watch_t;

struct _mc_auth_t {
    bool insecure;
    char dir [4200];                //  profile/security
    zcert_t *server;
    zcert_t *primary [2];           //  by role
    char cluster_id [33];
    zsock_t *zap;
    zhashx_t *by_key [2];           //  Z85 key -> s_trusted_t (owned), by role
    zhashx_t *by_name;              //  name -> s_trusted_t (borrowed), both roles
    zhashx_t *sessions;             //  "role:routing id hex" -> s_session_t
    zhashx_t *refusals;             //  address -> s_refusal_t
    s_watch_t watch [2];            //  by role
    size_t suppressed;              //  refusals not logged while the table was full
    int64_t suppressed_since_us;
};

static const char *s_domains [2][2] = { { "engine.ipc", "engine" }, { "client.ipc", "client" } };

void
mc_auth_user (const mc_auth_t *self, zframe_t *header, char *name, size_t namelen, char *key, size_t keylen)
{
    snprintf (name, namelen, "%s", "");
    snprintf (key, keylen, "%s", "");
    if (mc_auth_is_owner (self, header))
        return;
    const char *user = header? zframe_meta (header, "User-Id"): NULL;
    const char *colon = user? strchr (user, ':'): NULL;
    if (!colon)
        return;                     //  not admitted: cannot reach here
    snprintf (key, keylen, "%s", colon + 1);
    //  A key revoked since its message came in keeps its key as its name.
    s_trusted_t *trusted = zhashx_lookup (self->by_key [MC_ROLE_CLIENT], colon + 1);
    snprintf (name, namelen, "%s", trusted? trusted->name: colon + 1);
}

//  --------------------------------------------------------------------------
//  Keys on disk

static bool
s_exists (const char *path)
{
    return access (path, F_OK) == 0;
}

//  The keypair in dir/name.cert (+ _secret), made when neither exists.
static zcert_t *
s_keypair (mc_auth_t *self, const char *name, char *err, size_t errlen)
{
    char path [4400], secret [4500];
    snprintf (path, sizeof path, "%s/%s.cert", self->dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (!s_exists (path) && !s_exists (secret)) {
        zcert_t *cert = zcert_new ();
        if (!cert) {
            snprintf (err, errlen, "cannot make a keypair: %s", strerror (errno));
            return NULL;
        }
        if (!strcmp (name, "controller")) {
            uint8_t id [8];
            randombytes_buf (id, sizeof id);
            char hex [17];
            sodium_bin2hex (hex, sizeof hex, id, sizeof id);
            zcert_set_meta (cert, "cluster_id", "%s", hex);
        }
        mode_t old = umask (077);
        int rc = zcert_save (cert, path);
        umask (old);
        if (rc || chmod (secret, 0600)) {
            snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
            zcert_destroy (&cert);
            return NULL;
        }
        return cert;
    }
    if (mc_conn_check_private (secret, err, errlen) || mc_conn_check_secret (secret, err, errlen))
        return NULL;
    zcert_t *cert = zcert_load (path);
    //  zcert_load falls back to the public file: a keypair needs both.
    static const uint8_t zero [32];
    if (!cert || !memcmp (zcert_secret_key (cert), zero, 32)) {
        snprintf (err, errlen, "%s: not a CURVE certificate with its secret (remove both files to make new keys)",
                  secret);
        zcert_destroy (&cert);
        return NULL;
    }
    return cert;
}

static bool
s_good_name (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > 64 || !strcmp (name, "primary") || name [0] == '.' || name [0] == '-')
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum ((unsigned char) *c) && !strchr ("._-@", *c))
            return false;
    return true;
}

static bool
s_good_key (const char *key)
{
    uint8_t bin [32];
    return key && strlen (key) == 40 && zmq_z85_decode (bin, key) != NULL;
}

static int
s_remember (mc_auth_t *self, mc_role_t role, const char *name, const char *key, int64_t added)
{
    s_trusted_t *t = calloc (1, sizeof *t);
    if (!t)
        return -1;
    t->role = role;
    snprintf (t->name, sizeof t->name, "%s", name);
    snprintf (t->key, sizeof t->key, "%s", key);
    t->added = added;
    zhashx_insert (self->by_key [role], t->key, t);
    zhashx_insert (self->by_name, t->name, t);
    return 0;
}

//  security/trusted/<role>/<name>.cert, public certificates.
static int
s_load_trusted (mc_auth_t *self, mc_role_t role, char *err, size_t errlen)
{
    char path [4400];
    snprintf (path, sizeof path, "%s/trusted/%s", self->dir, mc_conn_role_name (role));
    DIR *dir = opendir (path);
    if (!dir)
        return 0;
    int rc = mc_conn_check_private (path, err, errlen);
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (len < 6 || strcmp (entry->d_name + len - 5, ".cert"))
            continue;
        char file [4700], name [65];
        snprintf (file, sizeof file, "%s/%s", path, entry->d_name);
        snprintf (name, sizeof name, "%.*s", (int) (len - 5), entry->d_name);
        if (mc_conn_check_private (file, err, errlen)) {
            rc = -1;
            break;
        }
        zcert_t *cert = zcert_load (file);
        if (!cert) {
            snprintf (err, errlen, "%s: not a certificate", file);
            rc = -1;
            break;
        }
        const char *added = zcert_meta (cert, "added");
        if (!s_good_name (name) || zhashx_lookup (self->by_name, name))
            mc_warn ("%s: ignored (a bad or repeated name)", file);
        else
            rc = s_remember (self, role, name, zcert_public_txt (cert), added? atoll (added): 0);
        zcert_destroy (&cert);
    }
    closedir (dir);
    return rc;
}

//  --------------------------------------------------------------------------
//  Construction

static void
s_session_free (void **item)
{
    s_session_t *session = *item;
    zframe_destroy (&session->routing_id);
    free (session);
    *item = NULL;
}

mc_auth_t *
mc_auth_new (const char *profile_dir, bool insecure, char *err, size_t errlen)
{
    mc_auth_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->insecure = insecure;
    if (insecure)
        return self;
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        goto fail;
    }
    self->by_key [0] = zhashx_new ();
    self->by_key [1] = zhashx_new ();
    self->by_name = zhashx_new ();
    self->sessions = zhashx_new ();
    self->refusals = zhashx_new ();
    if (!self->by_key [0] || !self->by_key [1] || !self->by_name || !self->sessions || !self->refusals) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    for (int role = 0; role < 2; role++)
        zhashx_set_destructor (self->by_key [role], (zhashx_destructor_fn *) zstr_free);
    zhashx_set_destructor (self->sessions, s_session_free);
    zhashx_set_destructor (self->refusals, (zhashx_destructor_fn *) zstr_free);
    //  zcert_load formats "%s_secret" into 256 bytes.
    if (snprintf (self->dir, sizeof self->dir, "%s/security", profile_dir) > 200) {
        snprintf (err, errlen, "profile directory %s: too long a path for the certificates (at most 180 characters)",
                  profile_dir);
        goto fail;
    }
    char path [4400];
    if (mc_conn_ensure_dir (self->dir, err, errlen))
        goto fail;
    snprintf (path, sizeof path, "%s/trusted", self->dir);
    if (mc_conn_ensure_dir (path, err, errlen))
        goto fail;
    for (int role = 0; role < 2; role++) {
        snprintf (path, sizeof path, "%s/trusted/%s", self->dir, mc_conn_role_name ((mc_role_t) role));
        if (mc_conn_ensure_dir (path, err, errlen) || s_load_trusted (self, (mc_role_t) role, err, errlen))
            goto fail;
    }
    if (!(self->server = s_keypair (self, "controller", err, errlen))
    ||  !(self->primary [MC_ROLE_ENGINE] = s_keypair (self, "engine", err, errlen))
    ||  !(self->primary [MC_ROLE_CLIENT] = s_keypair (self, "client", err, errlen)))
        goto fail;
    const char *id = zcert_meta (self->server, "cluster_id");
    snprintf (self->cluster_id, sizeof self->cluster_id, "%s", id? id: "");
    //  One handler per ZeroMQ context, bound before any endpoint is.
    self->zap = zsock_new (ZMQ_REP);
    if (!self->zap || zsock_bind (self->zap, "inproc://zeromq.zap.01")) {
        snprintf (err, errlen, "cannot serve ZAP (another handler in this process?): %s", zmq_strerror (zmq_errno ()));
        goto fail;
    }
    return self;
fail:
    mc_auth_destroy (&self);
    return NULL;
}

void
mc_auth_destroy (mc_auth_t **self_p)
{
    mc_auth_t *self = *self_p;
    if (!self)
        return;
    for (int role = 0; role < 2; role++) {
        zsock_destroy (&self->watch [role].pair);
        zhashx_destroy (&self->watch [role].peers);
    }
    //  Closing a socket frees its inproc endpoint only later, in libzmq's
    //  reaper thread; unbinding frees it now, for the next handler.
    if (self->zap)
        zsock_unbind (self->zap, "inproc://zeromq.zap.01");
    zsock_destroy (&self->zap);
    zcert_destroy (&self->server);
    zcert_destroy (&self->primary [0]);
    zcert_destroy (&self->primary [1]);
    zhashx_destroy (&self->by_name);
    zhashx_destroy (&self->by_key [0]);
    zhashx_destroy (&self->by_key [1]);
    zhashx_destroy (&self->sessions);
    zhashx_destroy (&self->refusals);
    free (self);
    *self_p = NULL;
}

int
mc_auth_prepare (mc_auth_t *self, zsock_t *sock, mc_role_t role, bool tcp, char *err, size_t errlen)
{
    if (self->insecure)
        return 0;
    //  Without a handler, refuse rather than let everyone in.
    int on = 1, got = 0;
    size_t size = sizeof got;
    zmq_setsockopt (zsock_resolve (sock), ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on);
    if (zmq_getsockopt (zsock_resolve (sock), ZMQ_ZAP_ENFORCE_DOMAIN, &got, &size) || got != 1) {
        snprintf (err, errlen, "this libzmq cannot enforce ZAP (ZMQ_ZAP_ENFORCE_DOMAIN): refusing to start");
        return -1;
    }
    //  Options are copied into each endpoint when it is bound: CURVE on
    //  TCP, the NULL mechanism on the Unix socket.
    if (tcp) {
        zcert_apply (self->server, sock);
        zsock_set_curve_server (sock, 1);
    }
    else
        zsock_set_curve_server (sock, 0);
    zsock_set_zap_domain (sock, s_domains [role][tcp]);
    return 0;
}

void
mc_auth_fill (const mc_auth_t *self, mc_conn_t *conn)
{
    conn->secure = !self->insecure;
    if (self->insecure)
        return;
    snprintf (conn->cluster_id, sizeof conn->cluster_id, "%s", self->cluster_id);
    snprintf (conn->server_key, sizeof conn->server_key, "%s", zcert_public_txt (self->server));
    snprintf (conn->public_key, sizeof conn->public_key, "%s", zcert_public_txt (self->primary [conn->role]));
    snprintf (conn->secret_key, sizeof conn->secret_key, "%s", zcert_secret_txt (self->primary [conn->role]));
}

//  --------------------------------------------------------------------------
//  ZAP

//  A refusal costs one log line per address and 10 s, and a few bytes.
static void
s_refused (mc_auth_t *self, const char *address, const char *domain, const char *reason)
{
    int64_t now = mc_time_mono_us ();
    char where [300];
    snprintf (where, sizeof where, "%s %s", domain, address);
    s_refusal_t *seen = zhashx_lookup (self->refusals, where);
    if (!seen && zhashx_size (self->refusals) >= MC_AUTH_MAX_ADDRESSES) {
        //  Forget addresses quiet for a while; if that frees nothing, count.
        zlistx_t *keys = zhashx_keys (self->refusals);
        for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys)) {
            s_refusal_t *r = zhashx_lookup (self->refusals, key);
            if (now - r->last_us > MC_AUTH_LOG_EVERY_US && r->suppressed == 0)
                zhashx_delete (self->refusals, key);
        }
        zlistx_destroy (&keys);
        if (zhashx_size (self->refusals) >= MC_AUTH_MAX_ADDRESSES) {
            if (self->suppressed++ == 0)
                self->suppressed_since_us = now;
            if (now - self->suppressed_since_us > MC_AUTH_LOG_EVERY_US) {
                mc_warn ("%zu refusals from too many addresses to log one by one", self->suppressed);
                self->suppressed = 0;
            }
            return;
        }
    }
    if (seen && now - seen->last_us < MC_AUTH_LOG_EVERY_US) {
        seen->suppressed++;
        return;
    }
    if (seen && seen->suppressed)
        mc_warn ("refused %s on the %s endpoint: %s (and %zu more refusals of it since)", address, domain, reason,
                 seen->suppressed);
    else
        mc_warn ("refused %s on the %s endpoint: %s", address, domain, reason);
    if (!seen) {
        seen = calloc (1, sizeof *seen);
        if (!seen)
            return;
        zhashx_insert (self->refusals, where, seen);
    }
    seen->last_us = now;
    seen->suppressed = 0;
}

//  The decision on one request: 200 and the user id, or 400 and why.
static int
s_decide (mc_auth_t *self, zmsg_t *request, char *user, size_t userlen, char *reason, size_t reasonlen,
          char *address, size_t addrlen)
{
    size_t count = zmsg_size (request);
    zframe_t *frames [7] = { 0 };
    zframe_t *f = zmsg_first (request);
    for (size_t i = 0; i < 7 && f; i++, f = zmsg_next (request))
        frames [i] = f;
    char *text = count >= 4? zframe_strdup (frames [3]): NULL;
    snprintf (address, addrlen, "%s", text? text: "(unknown)");
    free (text);
    if (count < 6 || !zframe_streq (frames [0], "1.0")) {
        snprintf (reason, reasonlen, "malformed ZAP request");
        return 400;
    }
    char *domain = zframe_strdup (frames [2]), *mechanism = zframe_strdup (frames [5]);
    char *addr = zframe_strdup (frames [3]);
    int status = 400;
    int role = -1, tcp = -1;
    for (int r = 0; r < 2; r++)
        for (int t = 0; t < 2; t++)
            if (domain && !strcmp (domain, s_domains [r][t]))
                role = r, tcp = t;
    if (role < 0)
        snprintf (reason, reasonlen, "unknown ZAP domain");
    else
    if (tcp) {
        if (!mechanism || strcmp (mechanism, "CURVE") || count != 7 || zframe_size (frames [6]) != 32)
            snprintf (reason, reasonlen, "no CURVE key");
        else {
            char key [41];
            zmq_z85_encode (key, zframe_data (frames [6]), 32);
            s_trusted_t *trusted = zhashx_lookup (self->by_key [role], key);
            if (!strcmp (key, zcert_public_txt (self->primary [role]))) {
                snprintf (user, userlen, "%s:primary", s_domains [role][1]);
                status = 200;
            }
            else
            if (trusted) {
                //  By key, not by name: a name may be given to another key later.
                snprintf (user, userlen, "%s:%s", s_domains [role][1], key);
                status = 200;
            }
            else
            if (zhashx_lookup (self->by_key [!role], key) || !strcmp (key, zcert_public_txt (self->primary [!role])))
                snprintf (reason, reasonlen, "key %.8s... is %s key", key, role? "an engine": "a client");
            else
                snprintf (reason, reasonlen, "key %.8s... is not trusted", key);
        }
    }
    else {
        //  On a Unix socket the address ends in :uid:gid:pid (SO_PEERCRED).
        char *pid = addr? strrchr (addr, ':'): NULL;
        char *gid = pid && pid > addr? memrchr (addr, ':', (size_t) (pid - addr)): NULL;
        char *uid = gid && gid > addr? memrchr (addr, ':', (size_t) (gid - addr)): NULL;
        long n = uid? strtol (uid + 1, NULL, 10): -1;
        if (!mechanism || strcmp (mechanism, "NULL"))
            snprintf (reason, reasonlen, "not the NULL mechanism");
        else
        if (!uid || n != (long) geteuid ())
            snprintf (reason, reasonlen, "uid %ld is not the controller's", n);
        else {
            snprintf (user, userlen, "uid:%ld", n);
            status = 200;
        }
    }
    free (domain);
    free (mechanism);
    free (addr);
    return status;
}

static void
s_zap_answer (mc_auth_t *self, zsock_t *sock, zmsg_t *request)
{
    char user [128] = "", reason [128] = "", address [256];
    int status = s_decide (self, request, user, sizeof user, reason, sizeof reason, address, sizeof address);
    size_t size = zmsg_size (request);
    zmsg_first (request);
    zframe_t *id = size >= 2? zmsg_next (request): NULL, *domain = size >= 3? zmsg_next (request): NULL;
    if (status != 200) {
        char *name = domain? zframe_strdup (domain): NULL;
        s_refused (self, address, name && *name? name: "?", reason);
        free (name);
    }
    //  A REP socket must answer whatever it got.
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addmem (reply, id? zframe_data (id): NULL, id? zframe_size (id): 0);
    zmsg_addstr (reply, status == 200? "200": "400");
    zmsg_addstr (reply, status == 200? "OK": reason);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, sock);
}

//  Every request waiting, up to a bound: a burst of thousands of engines
//  connecting at once asks one each, and one per turn of the loop would
//  keep their handshakes waiting behind everything else.
static int
s_zap_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_auth_t *self = arg;
    for (int n = 0; n < 1024; n++) {
        if (n > 0 && !(zsock_events (sock) & ZMQ_POLLIN))
            break;
        zmsg_t *request = zmsg_recv (sock);
        if (!request)
            break;
        s_zap_answer (self, sock, request);
        zmsg_destroy (&request);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Handshake failures ZAP never sees

int
mc_auth_watch (mc_auth_t *self, zsock_t *sock, mc_role_t role, char *err, size_t errlen)
{
    if (self->insecure)
        return 0;
    s_watch_t *watch = &self->watch [role];
    //  A socket made again (its first bind failed) gets a new watch.
    zsock_destroy (&watch->pair);
    zhashx_destroy (&watch->peers);
    static unsigned count;
    char endpoint [96];
    snprintf (endpoint, sizeof endpoint, "inproc://mc-auth-watch-%d-%p-%u", (int) role, (void *) self, count++);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    watch->role = role;
    watch->peers = zhashx_new ();
    if (!watch->peers || zmq_socket_monitor (zsock_resolve (sock), endpoint, events)
    ||  !(watch->pair = zsock_new_pair (endpoint))) {
        snprintf (err, errlen, "cannot watch the %s endpoint: %s", mc_conn_role_name (role), zmq_strerror (zmq_errno ()));
        return -1;
    }
    zhashx_set_destructor (watch->peers, (zhashx_destructor_fn *) zstr_free);
    return 0;
}

//  The peer on fd, as ZAP names it: its IP, or its uid on a Unix socket.
static void
s_peer_name (int fd, char *buf, size_t len)
{
    struct sockaddr_storage peer;
    socklen_t size = sizeof peer;
    struct ucred cred;
    socklen_t credlen = sizeof cred;
    snprintf (buf, len, "(unknown)");
    if (getpeername (fd, (struct sockaddr *) &peer, &size))
        return;
    if (peer.ss_family == AF_UNIX) {
        if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == 0)
            snprintf (buf, len, "uid %u pid %d", (unsigned) cred.uid, (int) cred.pid);
    }
    else
        getnameinfo ((struct sockaddr *) &peer, size, buf, (socklen_t) len, NULL, 0, NI_NUMERICHOST);
}

static int
s_watch_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_auth_t *self = arg;
    s_watch_t *watch = &self->watch [sock == self->watch [1].pair];
    uint16_t type;
    uint32_t value;
    if (!mc_handshake_event (sock, &type, &value))
        return 0;
    char fd [16], peer [256];
    snprintf (fd, sizeof fd, "%u", value);
    if (type == ZMQ_EVENT_ACCEPTED) {
        s_peer_name ((int) value, peer, sizeof peer);
        zhashx_update (watch->peers, fd, strdup (peer));
        watch->failed = NULL;
    }
    else
    if (type == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        watch->failed = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH? "another security mechanism (no CURVE, or CURVE where none is used)"
                      : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC? "a handshake it cannot decrypt (a wrong server key?)"
                      : "a malformed handshake";
    else
    if (type == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        watch->failed = "the handshake broke off";
    else
    if (type == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || type == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        watch->failed = NULL;       //  ZAP has logged a refusal already
    else
    if (type == ZMQ_EVENT_DISCONNECTED) {
        const char *name = zhashx_lookup (watch->peers, fd);
        if (watch->failed)
            s_refused (self, name? name: "(unknown)", mc_conn_role_name (watch->role), watch->failed);
        watch->failed = NULL;
        zhashx_delete (watch->peers, fd);
    }
    return 0;
}

int
mc_auth_start (mc_auth_t *self, zloop_t *loop)
{
    int rc = self->zap? zloop_reader (loop, self->zap, s_zap_readable, self): 0;
    for (int role = 0; role < 2 && rc == 0; role++)
        if (self->watch [role].pair)
            rc = zloop_reader (loop, self->watch [role].pair, s_watch_readable, self);
    return rc;
}

//  --------------------------------------------------------------------------
//  Sessions

static void
s_session_key (mc_role_t role, zframe_t *routing_id, char *key, size_t len)
{
    char *hex = zframe_strhex (routing_id);
    snprintf (key, len, "%d:%s", (int) role, hex? hex: "");
    free (hex);
}

static bool
s_same_peer (const s_session_t *session)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    return getpeername (session->fd, (struct sockaddr *) &peer, &len) == 0 && len == session->peerlen
        && !memcmp (&peer, &session->peer, len);
}

//  Drop the sessions whose connection has closed (its fd is gone, or is
//  somebody else's now).
static void
s_prune (mc_auth_t *self)
{
    zlistx_t *keys = zhashx_keys (self->sessions);
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys))
        if (!s_same_peer (zhashx_lookup (self->sessions, key)))
            zhashx_delete (self->sessions, key);
    zlistx_destroy (&keys);
}

bool
mc_auth_admit (mc_auth_t *self, mc_role_t role, zframe_t *routing_id, zframe_t *header)
{
    if (self->insecure)
        return true;
    const char *user = header? zframe_meta (header, "User-Id"): NULL;
    if (!user)
        return false;
    if (!strncmp (user, "uid:", 4))
        return true;
    const char *colon = strchr (user, ':');
    if (!colon || strcmp (colon + 1, "primary") == 0)
        return colon != NULL;
    //  An added key: its session is recorded at its first message, so
    //  that revoking the key can cut it.
    const char *fd = zframe_meta (header, "__fd");
    if (!zhashx_lookup (self->by_key [role], colon + 1)) {
        //  Revoked before this connection said anything: cut it now.
        if (fd)
            shutdown (atoi (fd), SHUT_RDWR);
        return false;
    }
    char key [64];
    s_session_key (role, routing_id, key, sizeof key);
    if (zhashx_lookup (self->sessions, key))
        return true;
    s_session_t *session = calloc (1, sizeof *session);
    if (!session || !fd)
        return free (session), true;
    session->role = role;
    snprintf (session->key, sizeof session->key, "%s", colon + 1);
    session->routing_id = zframe_dup (routing_id);
    session->fd = atoi (fd);
    session->peerlen = sizeof session->peer;
    if (getpeername (session->fd, (struct sockaddr *) &session->peer, &session->peerlen))
        session->peerlen = 0;
    if (zhashx_size (self->sessions) >= MC_AUTH_MAX_SESSIONS)
        s_prune (self);
    zhashx_insert (self->sessions, key, session);
    return true;
}

bool
mc_auth_is_owner (const mc_auth_t *self, zframe_t *header)
{
    if (self->insecure)
        return true;
    const char *user = header? zframe_meta (header, "User-Id"): NULL;
    return user && (!strcmp (user, "client:primary") || !strncmp (user, "uid:", 4));
}

//  --------------------------------------------------------------------------
//  Trust

int
mc_auth_trust_add (mc_auth_t *self, mc_role_t role, const char *name, const char *key,
                   char *public, char *secret, char *err, size_t errlen)
{
    if (self->insecure) {
        snprintf (err, errlen, "the controller runs --insecure: there are no keys to trust");
        return -1;
    }
    if (!name || !s_good_name (name)) {
        snprintf (err, errlen, "name '%s': use 1 to 64 of A-Z a-z 0-9 . _ - @, not starting with '.' or '-', not 'primary'",
                  name? name: "");
        return -1;
    }
    if (zhashx_lookup (self->by_name, name)) {
        snprintf (err, errlen, "name '%s' is taken: revoke it first, or choose another", name);
        return -1;
    }
    if (key && !s_good_key (key)) {
        snprintf (err, errlen, "key '%.40s' is not a 40-character Z85 CURVE public key", key);
        return -1;
    }
    zcert_t *cert;
    if (key) {
        uint8_t pub [32], zero [32] = { 0 };
        zmq_z85_decode (pub, key);
        if (zhashx_lookup (self->by_key [0], key) || zhashx_lookup (self->by_key [1], key)
        ||  !strcmp (key, zcert_public_txt (self->primary [0])) || !strcmp (key, zcert_public_txt (self->primary [1]))
        ||  !strcmp (key, zcert_public_txt (self->server))) {
            snprintf (err, errlen, "key %.8s... is trusted already", key);
            return -1;
        }
        cert = zcert_new_from (pub, zero);
    }
    else
        cert = zcert_new ();
    if (!cert) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    int64_t now = (int64_t) time (NULL);
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "role", "%s", mc_conn_role_name (role));
    zcert_set_meta (cert, "added", "%lld", (long long) now);
    char path [4400];
    snprintf (path, sizeof path, "%s/trusted/%s/%s.cert", self->dir, mc_conn_role_name (role), name);
    int rc = zcert_save_public (cert, path);
    if (rc == 0)
        rc = s_remember (self, role, name, zcert_public_txt (cert), now);
    if (rc)
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
    else {
        snprintf (public, 41, "%s", zcert_public_txt (cert));
        snprintf (secret, 41, "%s", key? "": zcert_secret_txt (cert));
    }
    zcert_destroy (&cert);
    return rc;
}

void
mc_auth_trust_each (mc_auth_t *self, mc_auth_each_fn *fn, void *arg)
{
    if (self->insecure)
        return;
    for (int role = 0; role < 2; role++)
        for (s_trusted_t *t = zhashx_first (self->by_key [role]); t; t = zhashx_next (self->by_key [role])) {
            size_t sessions = 0;
            for (s_session_t *s = zhashx_first (self->sessions); s; s = zhashx_next (self->sessions))
                sessions += s->role == t->role && !strcmp (s->key, t->key) && s_same_peer (s);
            fn (arg, t->role, t->name, t->key, t->added, sessions);
        }
}

int
mc_auth_trust_revoke (mc_auth_t *self, const char *name_or_key, mc_role_t *role, char *name, size_t namelen,
                      mc_auth_cut_t **cuts, size_t *count, char *err, size_t errlen)
{
    *cuts = NULL;
    *count = 0;
    s_trusted_t *t = self->insecure? NULL: zhashx_lookup (self->by_name, name_or_key);
    for (int r = 0; r < 2 && !t && !self->insecure; r++)
        t = zhashx_lookup (self->by_key [r], name_or_key);
    if (!t) {
        bool primary = !self->insecure && (!strcmp (name_or_key, "primary")
                    || !strcmp (name_or_key, zcert_public_txt (self->primary [0]))
                    || !strcmp (name_or_key, zcert_public_txt (self->primary [1])));
        snprintf (err, errlen, primary? "the cluster's own keys cannot be revoked (they are in engine.json and client.json)"
                                      : "'%.64s' is no trusted name or key", name_or_key);
        return -1;
    }
    //  On disk first: what is revoked stays revoked after a restart.
    char path [4400], gone [4600];
    snprintf (path, sizeof path, "%s/trusted/%s/%s.cert", self->dir, mc_conn_role_name (t->role), t->name);
    snprintf (gone, sizeof gone, "%s/revoked", self->dir);
    if (mc_conn_ensure_dir (gone, err, errlen))
        return -1;
    snprintf (gone, sizeof gone, "%s/revoked/%s.cert.%lld", self->dir, t->name, (long long) time (NULL));
    if (rename (path, gone) && errno != ENOENT) {
        snprintf (err, errlen, "cannot move %s to %s: %s", path, gone, strerror (errno));
        return -1;
    }
    *role = t->role;
    snprintf (name, namelen, "%s", t->name);
    //  Cut its connections: libzmq sees EOF and forgets the peer, which
    //  reconnects and is refused, as its key is gone.
    size_t n = zhashx_size (self->sessions);
    *cuts = n? calloc (n, sizeof **cuts): NULL;
    zlistx_t *keys = zhashx_keys (self->sessions);
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys)) {
        s_session_t *s = zhashx_lookup (self->sessions, key);
        if (s->role != t->role || strcmp (s->key, t->key))
            continue;
        //  A session whose connection has closed already has nothing to cut.
        if (s_same_peer (s) && shutdown (s->fd, SHUT_RDWR) == 0 && *cuts) {
            (*cuts) [*count].role = s->role;
            (*cuts) [(*count)++].routing_id = zframe_dup (s->routing_id);
        }
        zhashx_delete (self->sessions, key);
    }
    zlistx_destroy (&keys);
    zhashx_delete (self->by_name, t->name);
    zhashx_delete (self->by_key [*role], t->key);
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest: requests made by hand to the handler, as libzmq would send
//  them, and what it answers.

static char s_user [128];

static void
s_count_each (size_t *count, mc_role_t role, const char *name, const char *key, int64_t added, size_t sessions)
{
    (void) role; (void) name; (void) key; (void) added; (void) sessions;
    (*count)++;
}

//  Ask the handler: domain, address, mechanism, and a key (NULL: none,
//  "" with len: that many zero bytes). Returns the status.
static int
s_ask (mc_auth_t *self, zsock_t *req, const char *version, const char *domain, const char *address,
       const char *mechanism, const char *key, size_t keylen, int frames)
{
    zmsg_t *msg = zmsg_new ();
    const char *parts [6] = { version, "id7", domain, address, "", mechanism };
    for (int i = 0; i < 6 && i < frames; i++)
        zmsg_addstr (msg, parts [i]);
    if (key) {
        uint8_t bin [40] = { 0 };
        if (keylen == 32 && strlen (key) == 40)
            zmq_z85_decode (bin, key);
        zmsg_addmem (msg, bin, keylen);
    }
    assert (zmsg_send (&msg, req) == 0);
    s_zap_readable (NULL, self->zap, self);
    zmsg_t *reply = zmsg_recv (req);
    assert (reply && zmsg_size (reply) == 6);
    char *v = zmsg_popstr (reply), *id = zmsg_popstr (reply), *status = zmsg_popstr (reply);
    char *text = zmsg_popstr (reply), *user = zmsg_popstr (reply);
    assert (!strcmp (v, "1.0") && !strcmp (id, frames > 1? "id7": ""));
    snprintf (s_user, sizeof s_user, "%s", user);
    int rc = atoi (status);
    assert (rc == 200 || (rc == 400 && *text));
    free (v); free (id); free (status); free (text); free (user);
    zmsg_destroy (&reply);
    return rc;
}

void
mc_auth_test (bool verbose)
{
    printf (" * mc_auth: ");
    char dir [] = "/tmp/mc_auth_test.XXXXXX", err [512], path [4400];
    assert (mkdtemp (dir));
    mc_auth_t *self = mc_auth_new (dir, false, err, sizeof err);
    assert (self && !self->insecure);
    //  A second handler in one process is an error, not an abort.
    mc_auth_t *second = mc_auth_new (dir, false, err, sizeof err);
    assert (!second && strstr (err, "ZAP"));
    zsock_t *req = zsock_new_req ("inproc://zeromq.zap.01");
    assert (req);
    mc_conn_t engine = { .role = MC_ROLE_ENGINE }, client = { .role = MC_ROLE_CLIENT };
    mc_auth_fill (self, &engine);
    mc_auth_fill (self, &client);
    assert (engine.secure && strlen (engine.cluster_id) == 16 && !strcmp (engine.server_key, client.server_key));

    //  Each role's key on its own endpoint only; nothing unknown.
    assert (s_ask (self, req, "1.0", "client", "10.0.0.1", "CURVE", client.public_key, 32, 6) == 200
         && !strcmp (s_user, "client:primary"));
    assert (s_ask (self, req, "1.0", "engine", "10.0.0.1", "CURVE", engine.public_key, 32, 6) == 200
         && !strcmp (s_user, "engine:primary"));
    assert (s_ask (self, req, "1.0", "client", "10.0.0.2", "CURVE", engine.public_key, 32, 6) == 400);
    assert (s_ask (self, req, "1.0", "engine", "10.0.0.3", "CURVE", client.public_key, 32, 6) == 400);
    char pub [41], sec [41];
    assert (zmq_curve_keypair (pub, sec) == 0);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.4", "CURVE", pub, 32, 6) == 400);
    //  On the Unix sockets: our uid only, by the NULL mechanism.
    char address [64];
    snprintf (address, sizeof address, "x:%u:%u:4242", (unsigned) geteuid (), (unsigned) getegid ());
    assert (s_ask (self, req, "1.0", "client.ipc", address, "NULL", NULL, 0, 6) == 200 && !strncmp (s_user, "uid:", 4));
    snprintf (address, sizeof address, "x:%u:0:4242", (unsigned) geteuid () + 1);
    assert (s_ask (self, req, "1.0", "engine.ipc", address, "NULL", NULL, 0, 6) == 400);
    //  Malformed requests: refused, never an abort.
    assert (s_ask (self, req, "2.0", "client", "10.0.0.5", "CURVE", client.public_key, 32, 6) == 400);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.5", "CURVE", client.public_key, 31, 6) == 400);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.5", "CURVE", NULL, 0, 6) == 400);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.5", "NULL", NULL, 0, 6) == 400);
    assert (s_ask (self, req, "1.0", "client.ipc", "no-uid", "NULL", NULL, 0, 6) == 400);
    assert (s_ask (self, req, "1.0", "admin", "10.0.0.5", "CURVE", client.public_key, 32, 6) == 400);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.5", "CURVE", NULL, 0, 5) == 400);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.5", "CURVE", NULL, 0, 1) == 400);
    //  Refusals are logged once per address and 10 s; the rest counted.
    s_refusal_t *seen = zhashx_lookup (self->refusals, "client 10.0.0.5");
    assert (seen && seen->suppressed == 4);

    //  Trust: a key given, and one made here; names and keys checked.
    char public [41], secret [41];
    assert (mc_auth_trust_add (self, MC_ROLE_CLIENT, "bob", pub, public, secret, err, sizeof err) == 0);
    assert (!strcmp (public, pub) && secret [0] == 0);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.4", "CURVE", pub, 32, 6) == 200 && !strcmp (s_user + 7, pub));
    assert (s_ask (self, req, "1.0", "engine", "10.0.0.4", "CURVE", pub, 32, 6) == 400);
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "node1", NULL, public, secret, err, sizeof err) == 0);
    assert (strlen (secret) == 40 && s_ask (self, req, "1.0", "engine", "10.0.0.6", "CURVE", public, 32, 6) == 200);
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "bob", NULL, public, secret, err, sizeof err) == -1 && strstr (err, "taken"));
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "b/c", NULL, public, secret, err, sizeof err) == -1 && strstr (err, "name"));
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "primary", NULL, public, secret, err, sizeof err) == -1);
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "x", "short", public, secret, err, sizeof err) == -1 && strstr (err, "Z85"));
    assert (mc_auth_trust_add (self, MC_ROLE_ENGINE, "x", client.public_key, public, secret, err, sizeof err) == -1
         && strstr (err, "already"));
    size_t count = 0;
    mc_auth_trust_each (self, (mc_auth_each_fn *) s_count_each, &count);
    assert (count == 2);

    //  Revoked: refused from now on, and after a restart; its certificate
    //  moved aside. The cluster's own keys cannot be revoked.
    mc_auth_cut_t *cuts;
    mc_role_t role;
    char name [65];
    assert (mc_auth_trust_revoke (self, pub, &role, name, sizeof name, &cuts, &count, err, sizeof err) == 0);
    assert (role == MC_ROLE_CLIENT && !strcmp (name, "bob") && count == 0);
    free (cuts);
    assert (s_ask (self, req, "1.0", "client", "10.0.0.4", "CURVE", pub, 32, 6) == 400);
    assert (mc_auth_trust_revoke (self, "bob", &role, name, sizeof name, &cuts, &count, err, sizeof err) == -1);
    assert (mc_auth_trust_revoke (self, client.public_key, &role, name, sizeof name, &cuts, &count, err, sizeof err) == -1
         && strstr (err, "own keys"));
    zsock_destroy (&req);
    mc_auth_destroy (&self);
    self = mc_auth_new (dir, false, err, sizeof err);
    assert (self);
    mc_conn_t again = { .role = MC_ROLE_CLIENT };
    mc_auth_fill (self, &again);
    assert (!strcmp (again.server_key, client.server_key) && !strcmp (again.secret_key, client.secret_key));
    assert (!zhashx_lookup (self->by_name, "bob") && zhashx_lookup (self->by_name, "node1"));
    mc_auth_destroy (&self);
    //  A secret others can read, or a key directory others can write: refused.
    snprintf (path, sizeof path, "%s/security/engine.cert_secret", dir);
    assert (chmod (path, 0640) == 0);
    assert (!mc_auth_new (dir, false, err, sizeof err) && strstr (err, path) && strstr (err, "0640"));
    assert (chmod (path, 0600) == 0);
    snprintf (path, sizeof path, "%s/security/trusted/engine", dir);
    assert (chmod (path, 0777) == 0);
    assert (!mc_auth_new (dir, false, err, sizeof err) && strstr (err, path) && strstr (err, "writable"));
    //  --insecure: nothing made, nothing refused.
    self = mc_auth_new ("/nonexistent", true, err, sizeof err);
    assert (self && self->insecure && mc_auth_is_owner (self, NULL));
    //  ... and everyone is one user, the owner.
    char user [65], key [41];
    mc_auth_user (self, NULL, user, sizeof user, key, sizeof key);
    assert (!strcmp (user, "") && !strcmp (key, ""));
    mc_auth_destroy (&self);
    char command [4200];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    assert (system (command) == 0);
    if (verbose)
        printf ("(%zu bytes of state per refused address) ", sizeof (s_refusal_t));
    printf ("OK\n");
}
