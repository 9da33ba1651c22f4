/*  mc_controller: the controller's event loop, its two bound endpoints, the
    connection file and the housekeeping tick. What arrives is served by
    the peers' modules: mc_engines (engines), mc_api (clients). */
#include "mc_controller.h"
#include "mc_answer.h"
#include "mc_api.h"
#include "mc_auth.h"
#include "mc_engines.h"
#include "mc_libraries.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_resume.h"
#include "mc_retention.h"
#include "mc_scale.h"
#include "mc_server.h"
#include "mc_time.h"
#include <czmq.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct _mc_controller_t {
    mc_server_t server;             //  what the peers' modules share
    char profile_dir [4096];
    char conn_path [2][4200];       //  by role; "" when not ours to remove
    zloop_t *loop;
    int64_t started_us;
    bool patient;                   //  engines late to register do not fail the start (batch queues)
    int rc;
    mc_controller_tick_fn *tick_fn;
    void *tick_arg;
    int tick_fd;                    //  also tick when readable, or -1
};

//  --------------------------------------------------------------------------
//  Housekeeping: commit, expire silent engines, time out waits, start-up.

static int
s_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop; (void) timer_id;
    mc_controller_t *self = arg;
    mc_server_t *server = &self->server;
    //  A failing store says so itself, once per incident.
    mc_store_flush (server->store);
    int64_t now = mc_time_mono_us ();
    mc_engines_expire (server, now);
    mc_api_expire (server, now);
    mc_answer_finished (server);
    mc_retention_tick (server, now);
    mc_resume_tick (server, now);
    mc_scale_tick (server, now);
    mc_libraries_tick (server, now);
    if (server->expect && !server->ready && now - self->started_us > server->config.register_timeout_ms * 1000
    &&  self->patient) {
        mc_warn ("%zu of %zu engines registered within %lld ms; the cluster serves them while the rest wait "
                 "(see mcclient engines)", mc_registry_size (server->registry), server->expect,
                 (long long) server->config.register_timeout_ms);
        server->ready = true;
        if (server->ready_fn)
            server->ready_fn (server->ready_arg, mc_registry_size (server->registry));
    }
    if (server->expect && !server->ready && now - self->started_us > server->config.register_timeout_ms * 1000) {
        mc_error ("only %zu of %zu engines registered within %lld ms", mc_registry_size (server->registry),
                  server->expect, (long long) server->config.register_timeout_ms);
        self->rc = -1;
        return -1;
    }
    //  Large frames stay in the heap while data flows; a second after the
    //  last, the memory goes back to the system.
    if (mc_held_quiet (server->held, now, 1000000))
        mc_proto_trim ();
    if (self->tick_fn)
        self->tick_fn (self->tick_arg);
    //  What expiry, resume and scaling dispatched.
    mc_engines_flush (server);
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

//  The role's ROUTER, bound to TCP on ip:port and to a Unix socket in the
//  profile directory, each with its security (mc_auth); the endpoints go
//  into conn.
static zsock_t *
s_bind (mc_controller_t *self, mc_role_t role, const char *ip, int port, const char *advertise,
        char *err, size_t errlen)
{
    const mc_config_t *config = &self->server.config;
    mc_conn_t *conn = &self->server.conn [role];
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        snprintf (err, errlen, "cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    //  With two I/O threads, engines' connections get one and clients' the
    //  other, so that a large result is read from its engine while the one
    //  before it goes out to its client.
    if (zmq_ctx_get (zsys_init (), ZMQ_IO_THREADS) >= 2)
        zsock_set_affinity (sock, 1 << (int) role);
    zsock_set_maxmsgsize (sock, (int) (config->max_msg_bytes > INT32_MAX? INT32_MAX: config->max_msg_bytes));
    zsock_set_sndhwm (sock, 0);         //  limits are ours (max_queued_tasks), not silent drops
    zsock_set_rcvhwm (sock, 0);
    zsock_set_linger (sock, 100);
    //  A burst of thousands of engines connecting at once: the kernel's
    //  queue of connections not yet accepted (libzmq's default is 100)
    //  would refuse most, and each would retry after its reconnect
    //  interval. The kernel caps it at net.core.somaxconn.
    zsock_set_backlog (sock, 65535);
    if (mc_auth_watch (self->server.auth, sock, role, err, errlen)
    ||  mc_auth_prepare (self->server.auth, sock, role, true, err, errlen)) {
        zsock_destroy (&sock);
        return NULL;
    }
    int bound = port > 0? zsock_bind (sock, "tcp://%s:%d", ip, port): zsock_bind (sock, "tcp://%s:*", ip);
    if (bound < 0) {
        snprintf (err, errlen, "cannot bind tcp://%s:%d: %s", ip, port, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    snprintf (conn->url, sizeof conn->url, "tcp://%s:%d", advertise, bound);
    //  Peers on this host use a Unix socket: arrays move about 1.5 times as
    //  fast as over TCP, with no encryption needed. Only we may connect:
    //  the socket is ours alone (umask), and ZAP checks the peer's uid.
    char url [256];
    if (mc_auth_prepare (self->server.auth, sock, role, false, err, errlen))
        return NULL;
    if (snprintf (url, sizeof url, "ipc://%s/%s.ipc", self->profile_dir, mc_conn_role_name (role)) < 100) {
        mode_t old = umask (077);
        if (zsock_bind (sock, "%s", url) == 0)
            snprintf (conn->ipc, sizeof conn->ipc, "%s", url);
        umask (old);
    }
    return sock;
}

//  The port of the role's TCP endpoint in the connection file a previous
//  controller of this profile left (after a crash), or 0.
static int
s_old_port (const char *profile_dir, mc_role_t role)
{
    char path [4200], err [512];
    mc_conn_t old;
    snprintf (path, sizeof path, "%s/%s", profile_dir, mc_conn_file_name (role));
    if (access (path, F_OK) || mc_conn_read (path, role, &old, err, sizeof err))
        return 0;
    const char *colon = strrchr (old.url, ':');
    int port = colon? atoi (colon + 1): 0;
    sodium_memzero (&old, sizeof old);
    return port > 0 && port < 65536? port: 0;
}

mc_controller_t *
mc_controller_new (const mc_config_t *config, const char *profile_dir, const char *ip,
                   int engine_port, int client_port, bool insecure, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    mc_controller_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    mc_server_t *server = &self->server;
    self->tick_fd = -1;
    snprintf (self->profile_dir, sizeof self->profile_dir, "%s", profile_dir);
    if (mc_server_init (server, config)
    ||  !(server->sched = mc_sched_new (server->registry, config->max_inflight, config->pipeline_ms * 1000,
                                        config->max_task_deaths,
                                        mc_engines_send_task, server))) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    //  Fair share: users' weights (share.NAME_OR_KEY lines).
    if (mc_sched_set_weights (server->sched, config->shares)) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    if (mc_conn_ensure_dir (profile_dir, err, errlen)
    ||  !(server->auth = mc_auth_new (profile_dir, insecure, err, errlen)))
        goto fail;
    char store_path [4200];
    snprintf (store_path, sizeof store_path, "%s/store.db", profile_dir);
    server->store = mc_store_new (store_path, err, errlen);
    if (!server->store)
        goto fail;
    server->next_job_id = mc_store_next_job_id (server->store);
    if (server->next_job_id == 0) {
        snprintf (err, errlen, "cannot read the store: %s", mc_store_error (server->store));
        goto fail;
    }
    //  Libraries clients added go to every engine that registers.
    if (!(server->libraries = mc_libraries_new (server->store, err, errlen)))
        goto fail;
    if (mc_libraries_size (server->libraries))
        mc_info ("%zu libraries of kernels that clients added, from the store", mc_libraries_size (server->libraries));
    //  What a crash left unfinished runs on, keeping what was committed.
    size_t jobs, kept, queued;
    if (mc_resume (server, &jobs, &kept, &queued, err, errlen))
        goto fail;
    if (jobs)
        mc_warn ("resumed %zu unfinished jobs from the store: %zu tasks' results kept, %zu tasks queued again",
                 jobs, kept, queued);

    char hostname [256] = "localhost";
    gethostname (hostname, sizeof hostname);
    hostname [sizeof hostname - 1] = 0;
    //  A wildcard bind is advertised by host name; anything else as given.
    bool wildcard = !strcmp (ip, "*") || !strcmp (ip, "0.0.0.0");
    const char *advertise = wildcard? hostname: ip;
    int ports [2] = { engine_port, client_port };
    zsock_t **socks [2] = { &server->engine_sock, &server->client_sock };
    for (int role = 0; role < 2; role++) {
        //  Unless told otherwise, a restarted controller takes the ports it
        //  had, so that peers on other hosts reconnect; else any free ones.
        int old = ports [role]? 0: s_old_port (profile_dir, (mc_role_t) role);
        if (old && (*socks [role] = s_bind (self, (mc_role_t) role, wildcard? "*": ip, old, advertise, err, errlen)))
            continue;
        self->server.conn [role].ipc [0] = 0;
        if (!(*socks [role] = s_bind (self, (mc_role_t) role, wildcard? "*": ip, ports [role], advertise, err, errlen)))
            goto fail;
    }
    for (int role = 0; role < 2; role++) {
        mc_conn_t *conn = &self->server.conn [role];
        conn->role = (mc_role_t) role;
        snprintf (conn->host, sizeof conn->host, "%s", hostname);
        conn->pid = getpid ();
        mc_auth_fill (server->auth, conn);
        snprintf (self->conn_path [role], sizeof self->conn_path [role], "%s/%s", profile_dir,
                  mc_conn_file_name (conn->role));
        if (mc_conn_write (self->conn_path [role], conn, err, errlen))
            goto fail;
    }
    if (insecure)
        mc_warn ("--insecure: no keys, no encryption: anyone who can reach %s or %s can run code on the engines",
                 self->server.conn [0].url, self->server.conn [1].url);
    mc_info ("engines connect to %s, clients to %s", self->server.conn [0].url, self->server.conn [1].url);
    return self;
fail:
    //  Do not remove another controller's files.
    self->conn_path [0][0] = self->conn_path [1][0] = 0;
    mc_controller_destroy (&self);
    return NULL;
}

void
mc_controller_destroy (mc_controller_t **self_p)
{
    mc_controller_t *self = *self_p;
    if (!self)
        return;
    for (int role = 0; role < 2; role++) {
        //  Remove a connection file only if it is still ours.
        mc_conn_t conn;
        char err [256];
        if (self->conn_path [role][0]
        &&  mc_conn_read (self->conn_path [role], (mc_role_t) role, &conn, err, sizeof err) == 0
        &&  conn.pid == getpid ())
            unlink (self->conn_path [role]);
        sodium_memzero (&conn, sizeof conn);
    }
    sodium_memzero (self->server.conn, sizeof self->server.conn);
    zloop_destroy (&self->loop);
    mc_server_fini (&self->server);
    mc_store_destroy (&self->server.store);
    zsock_destroy (&self->server.engine_sock);
    zsock_destroy (&self->server.client_sock);
    mc_auth_destroy (&self->server.auth);
    free (self);
    *self_p = NULL;
}

const mc_conn_t *
mc_controller_conn (const mc_controller_t *self, mc_role_t role)
{
    return &self->server.conn [role];
}

const char *
mc_controller_conn_path (const mc_controller_t *self, mc_role_t role)
{
    return self->conn_path [role];
}

size_t
mc_controller_engines (const mc_controller_t *self)
{
    return mc_registry_size (self->server.registry);
}

void
mc_controller_seen_pids (const mc_controller_t *self, const int64_t *pids, size_t count, bool *seen)
{
    char host [256] = "";
    gethostname (host, sizeof host - 1);
    mc_registry_t *registry = self->server.registry;
    for (mc_engine_t *e = mc_registry_first (registry); e; e = mc_registry_next (registry, e)) {
        int64_t pid = mc_engine_pid (e);
        size_t low = 0, high = count;           //  a binary search
        while (low < high) {
            size_t mid = low + (high - low) / 2;
            if (pids [mid] < pid)
                low = mid + 1;
            else
                high = mid;
        }
        if (low < count && pids [low] == pid && !strcmp (mc_engine_host (e), host))
            seen [low] = true;
    }
}

void
mc_controller_set_tick (mc_controller_t *self, mc_controller_tick_fn *tick, void *arg)
{
    self->tick_fn = tick;
    self->tick_arg = arg;
}

void
mc_controller_tick_on (mc_controller_t *self, int fd)
{
    self->tick_fd = fd;
}

//  The tick's fd is readable: empty it (a signalfd reads whole records)
//  and run the tick function.
static int
s_tick_fd (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    mc_controller_t *self = arg;
    char buf [1024];
    while (read (item->fd, buf, sizeof buf) > 0)
        ;
    if (self->tick_fn)
        self->tick_fn (self->tick_arg);
    return 0;
}

int64_t
mc_controller_engine_exited (mc_controller_t *self, int64_t pid, int status, uint32_t *restarts)
{
    char why [64];
    if (WIFSIGNALED (status))
        snprintf (why, sizeof why, "died (killed by signal %d)", WTERMSIG (status));
    else
    if (WIFEXITED (status) && WEXITSTATUS (status))
        snprintf (why, sizeof why, "died (exit status %d)", WEXITSTATUS (status));
    else
        snprintf (why, sizeof why, "exited");
    mc_server_t *server = &self->server;
    int64_t id = mc_engines_exited (server, server->conn [MC_ROLE_ENGINE].host, pid, why, restarts);
    //  A retry waiting for this engine id to come back (mc_sched's
    //  s_may_go counts ids handed over) may go to another now.
    mc_sched_dispatch (server->sched);
    //  Its direct tasks failed: their jobs may be finished now.
    mc_engines_flush (server);
    mc_answer_finished (server);
    return id;
}

int
mc_controller_engine_restarted (mc_controller_t *self, int64_t id, int64_t pid, uint32_t restarts)
{
    mc_server_t *server = &self->server;
    if (id < 0 || mc_registry_lookup (server->registry, id))
        return 0;                   //  nothing to hand over: it registers as a new engine
    return mc_registry_hand_over (server->registry, id, server->conn [MC_ROLE_ENGINE].host, pid, restarts);
}

void
mc_controller_set_patient (mc_controller_t *self, bool patient)
{
    self->patient = patient;
}

void
mc_controller_set_autoscale (mc_controller_t *self, size_t min, size_t max)
{
    self->server.autoscale_min = min;
    self->server.autoscale_max = max;
}

void
mc_controller_set_launcher (mc_controller_t *self, mc_launcher_t *launcher, const char *kind,
                            const char *const *opts)
{
    self->server.launcher = launcher;
    self->server.launcher_opts = opts;
    snprintf (self->server.launcher_kind, sizeof self->server.launcher_kind, "%s", kind? kind: "local");
}

size_t
mc_controller_alloc_ended (mc_controller_t *self, uint32_t alloc, const char *host, const char *why)
{
    mc_server_t *server = &self->server;
    char tag [16], reason [300];
    snprintf (tag, sizeof tag, "a%u", alloc);
    snprintf (reason, sizeof reason, "gone with its allocation %s (%s)", tag, why && *why? why: "ended");
    size_t dropped = 0;
    mc_engine_t *next;
    for (mc_engine_t *e = mc_registry_first (server->registry); e; e = next) {
        next = mc_registry_next (server->registry, e);
        if (!strcmp (mc_engine_launch (e), tag) && (!host || !strcmp (mc_engine_host (e), host))
        &&  mc_engines_drop (server, mc_engine_routing_id (e), reason) >= 0)
            dropped++;
    }
    mc_engines_flush (server);
    mc_answer_finished (server);
    return dropped;
}

void
mc_controller_alloc_changed (mc_controller_t *self, const mc_alloc_info_t *info)
{
    mc_store_alloc_t stored;
    mc_resume_alloc_row (info, &stored);
    //  Committed now, not at the next tick: a batch job id lost to a
    //  crash is a job nobody cancels.
    mc_store_t *store = self->server.store;
    if (mc_store_put_alloc (store, &stored, info->opts) || mc_store_flush (store))
        mc_warn ("allocation a%u: not stored (the store keeps its last state until it changes again): %s", info->id,
                 mc_store_error (store));
}

int
mc_controller_resume_allocations (mc_controller_t *self, const char *kind, size_t *taken, char *err, size_t errlen)
{
    return mc_resume_allocations (&self->server, kind, taken, err, errlen);
}

int
mc_controller_run (mc_controller_t *self, size_t expect, mc_controller_ready_fn *ready, void *arg)
{
    mc_server_t *server = &self->server;
    server->expect = expect;
    server->ready_fn = ready;
    server->ready_arg = arg;
    self->started_us = mc_time_mono_us ();
    self->rc = 0;
    if (expect == 0) {
        server->ready = true;
        if (ready)
            ready (arg, 0);
    }
    self->loop = zloop_new ();
    if (!self->loop) {
        mc_error ("out of memory");
        return -1;
    }
    if (mc_auth_start (server->auth, self->loop)) {
        mc_error ("out of memory");
        return -1;
    }
    zloop_reader (self->loop, server->engine_sock, mc_engines_readable, server);
    zloop_reader (self->loop, server->client_sock, mc_api_readable, server);
    int64_t tick_ms = server->config.store_flush_ms < 100? server->config.store_flush_ms: 100;
    zloop_timer (self->loop, (size_t) tick_ms, 0, s_tick, self);
    zmq_pollitem_t tick_item = { NULL, self->tick_fd, ZMQ_POLLIN, 0 };
    if (self->tick_fd >= 0)
        zloop_poller (self->loop, &tick_item, s_tick_fd, self);
    zloop_start (self->loop);
    zloop_destroy (&self->loop);
    mc_store_flush (server->store);
    return self->rc;
}

void
mc_controller_stop_engines (mc_controller_t *self, int timeout_ms)
{
    mc_engines_stop (&self->server, timeout_ms);
}

//  --------------------------------------------------------------------------
//  Selftest: binding on ephemeral ports, the connection file written
//  private and removed again, a local engine's death and restart; the loop
//  is the integration tests'.

//  Register an engine of this host's with uuid and pid, as its REGISTER would.
static mc_engine_t *
s_test_register (mc_controller_t *self, const char *uuid, int64_t pid)
{
    zframe_t *rid = zframe_new (uuid, strlen (uuid));
    char **kernels = calloc (2, sizeof *kernels);
    assert (rid && kernels && (kernels [0] = strdup ("noop")));
    bool replaced;
    mc_engine_t *engine = mc_registry_register (self->server.registry, uuid, -1, self->server.conn [MC_ROLE_ENGINE].host,
                                                pid, rid, kernels, 1, mc_time_mono_us (), &replaced);
    zframe_destroy (&rid);
    return engine;
}

void
mc_controller_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_controller: ");
    char dir [] = "/tmp/mc_controller_test.XXXXXX", err [256], path [4200];
    assert (mkdtemp (dir));
    mc_config_t config;
    mc_config_defaults (&config);
    mc_controller_t *self = mc_controller_new (&config, dir, "127.0.0.1", 0, 0, false, err, sizeof err);
    assert (self);
    const mc_conn_t *engine = mc_controller_conn (self, MC_ROLE_ENGINE), *client = mc_controller_conn (self, MC_ROLE_CLIENT);
    assert (!strncmp (engine->url, "tcp://127.0.0.1:", 16) && !strncmp (client->url, "tcp://127.0.0.1:", 16));
    assert (strcmp (engine->url, client->url) && engine->pid == getpid () && strstr (client->ipc, "client.ipc"));
    //  Each file holds its own role's keypair and the server's key.
    assert (engine->secure && !strcmp (engine->server_key, client->server_key));
    assert (strcmp (engine->public_key, client->public_key) && strcmp (engine->secret_key, client->secret_key));
    struct stat st;
    for (int role = 0; role < 2; role++) {
        assert (stat (mc_controller_conn_path (self, (mc_role_t) role), &st) == 0 && (st.st_mode & 0777) == 0600);
        mc_conn_t read;
        assert (mc_conn_read (mc_controller_conn_path (self, (mc_role_t) role), (mc_role_t) role, &read, err, sizeof err) == 0);
        assert (!strcmp (read.url, mc_controller_conn (self, (mc_role_t) role)->url));
        assert (!strcmp (read.secret_key, mc_controller_conn (self, (mc_role_t) role)->secret_key));
    }
    snprintf (path, sizeof path, "%s/security", dir);
    assert (stat (path, &st) == 0 && (st.st_mode & 0777) == 0700);
    snprintf (path, sizeof path, "%s/security/controller.cert_secret", dir);
    assert (stat (path, &st) == 0 && (st.st_mode & 0777) == 0600);
    //  A local engine's process dies: its engine goes at once; the process
    //  started in its place registers under its id, counting the restart.
    mc_registry_t *registry = self->server.registry;
    uint32_t restarts = 9;
    assert (mc_controller_engine_exited (self, 4242, 0, &restarts) == -1 && restarts == 0);
    mc_engine_t *first = s_test_register (self, "first", 4242);
    mc_engine_t *other = s_test_register (self, "other", 4200);
    assert (first && other && mc_engine_id (first) == 0 && mc_engine_id (other) == 1);
    assert (mc_controller_engine_exited (self, 4242, SIGKILL, &restarts) == 0 && restarts == 0);
    assert (mc_registry_size (registry) == 1 && !mc_registry_lookup (registry, 0));
    assert (mc_controller_engine_restarted (self, 0, 4243, 1) == 0);
    mc_engine_t *restarted = s_test_register (self, "restarted", 4243);
    assert (restarted && mc_engine_id (restarted) == 0 && mc_engine_restarts (restarted) == 1);
    //  A restart that dies before it registers hands its id on.
    assert (mc_controller_engine_exited (self, 4243, 1 << 8, &restarts) == 0 && restarts == 1);
    assert (mc_controller_engine_restarted (self, 0, 4244, 2) == 0);
    assert (mc_controller_engine_exited (self, 4244, SIGSEGV, &restarts) == 0 && restarts == 2);
    assert (mc_controller_engine_restarted (self, 0, 4245, 3) == 0);
    mc_engine_t *third = s_test_register (self, "third", 4245);
    assert (third && mc_engine_id (third) == 0 && mc_engine_restarts (third) == 3);
    //  An engine registered by itself is not restarted under another's id.
    assert (mc_controller_engine_restarted (self, 1, 4246, 1) == 0);        //  1 is alive: nothing
    mc_engine_t *fourth = s_test_register (self, "fourth", 4246);
    assert (fourth && mc_engine_id (fourth) == 2 && mc_engine_restarts (fourth) == 0);
    char server_key [41];
    snprintf (server_key, sizeof server_key, "%s", engine->server_key);
    //  A port in use is an error naming it, and leaves the first one's
    //  files (the second runs --insecure: one ZAP handler per process).
    int port = atoi (strrchr (client->url, ':') + 1);
    mc_controller_t *second = mc_controller_new (&config, dir, "127.0.0.1", 0, port, true, err, sizeof err);
    assert (!second && strstr (err, "cannot bind"));
    assert (access (mc_controller_conn_path (self, MC_ROLE_CLIENT), F_OK) == 0);
    snprintf (path, sizeof path, "%s", mc_controller_conn_path (self, MC_ROLE_ENGINE));
    mc_controller_destroy (&self);
    assert (self == NULL && access (path, F_OK) != 0);
    mc_controller_destroy (&self);
    //  The keys are kept: engines and clients reconnect after a restart.
    self = mc_controller_new (&config, dir, "127.0.0.1", 0, 0, false, err, sizeof err);
    assert (self && !strcmp (mc_controller_conn (self, MC_ROLE_ENGINE)->server_key, server_key));
    mc_controller_destroy (&self);
    //  A secret others could read is refused, naming it and its mode.
    snprintf (path, sizeof path, "%s/security/client.cert_secret", dir);
    assert (chmod (path, 0644) == 0);
    assert (!mc_controller_new (&config, dir, "127.0.0.1", 0, 0, false, err, sizeof err));
    assert (strstr (err, path) && strstr (err, "0644"));
    const char *files [] = { "store.db", "store.db-wal", "store.db-shm", "engine.ipc", "client.ipc",
                             "security/controller.cert", "security/controller.cert_secret", "security/engine.cert",
                             "security/engine.cert_secret", "security/client.cert", "security/client.cert_secret",
                             "security/trusted/engine", "security/trusted/client", "security/trusted", "security" };
    for (size_t i = 0; i < sizeof files / sizeof files [0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files [i]);
        if (unlink (path))
            rmdir (path);
    }
    assert (rmdir (dir) == 0);
    printf ("OK\n");
}
