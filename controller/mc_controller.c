/*  mc_controller: the controller's event loop, its two bound endpoints, the
    connection file and the housekeeping tick. What arrives is served by
    the peers' modules: mc_engines (engines), mc_api (clients). */
#include "mc_controller.h"
#include "mc_answer.h"
#include "mc_api.h"
#include "mc_engines.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_server.h"
#include "mc_time.h"
#include <czmq.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

struct _mc_controller_t {
    mc_server_t server;             //  what the peers' modules share
    char profile_dir [4096];
    char conn_path [4200];
    mc_conn_t conn;
    zloop_t *loop;
    int64_t started_us;
    int rc;
    mc_controller_tick_fn *tick_fn;
    void *tick_arg;
};

//  --------------------------------------------------------------------------
//  Housekeeping: commit, expire silent engines, time out waits, start-up.

static int
s_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop; (void) timer_id;
    mc_controller_t *self = arg;
    mc_server_t *server = &self->server;
    if (mc_store_flush (server->store))
        mc_error ("store: commit failed: %s", mc_store_error (server->store));
    int64_t now = mc_time_mono_us ();
    mc_engines_expire (server, now);
    mc_api_expire (server, now);
    mc_answer_finished (server);
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
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

static zsock_t *
s_bind (const mc_config_t *config, const char *ip, int port, char *url, size_t urllen,
        const char *advertise, int io_thread, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        snprintf (err, errlen, "cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    //  With two I/O threads, engines' connections get one and clients' the
    //  other, so that a large result is read from its engine while the one
    //  before it goes out to its client.
    if (zmq_ctx_get (zsys_init (), ZMQ_IO_THREADS) >= 2)
        zsock_set_affinity (sock, 1 << io_thread);
    zsock_set_maxmsgsize (sock, (int) (config->max_msg_bytes > INT32_MAX? INT32_MAX: config->max_msg_bytes));
    zsock_set_sndhwm (sock, 0);         //  limits are ours (max_queued_tasks), not silent drops
    zsock_set_rcvhwm (sock, 0);
    zsock_set_linger (sock, 100);
    int bound = port > 0? zsock_bind (sock, "tcp://%s:%d", ip, port): zsock_bind (sock, "tcp://%s:*", ip);
    if (bound < 0) {
        snprintf (err, errlen, "cannot bind tcp://%s:%d: %s", ip, port, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    snprintf (url, urllen, "tcp://%s:%d", advertise, bound);
    return sock;
}

mc_controller_t *
mc_controller_new (const mc_config_t *config, const char *profile_dir, const char *ip,
                   int engine_port, int client_port, char *err, size_t errlen)
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
    snprintf (self->profile_dir, sizeof self->profile_dir, "%s", profile_dir);
    snprintf (self->conn_path, sizeof self->conn_path, "%s/%s", profile_dir, MC_CONN_FILE);
    if (mc_server_init (server, config)
    ||  !(server->sched = mc_sched_new (server->registry, config->max_inflight, config->pipeline_ms * 1000,
                                        mc_engines_send_task, server))) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    if (mc_conn_ensure_dir (profile_dir, err, errlen))
        goto fail;
    char store_path [4200];
    snprintf (store_path, sizeof store_path, "%s/store.db", profile_dir);
    server->store = mc_store_new (store_path, err, errlen);
    if (!server->store)
        goto fail;
    server->next_job_id = mc_store_next_job_id (server->store);
    if (server->next_job_id == 0) {
        snprintf (err, errlen, "cannot read the store %s: %s", store_path, mc_store_error (server->store));
        goto fail;
    }

    char hostname [256] = "localhost";
    gethostname (hostname, sizeof hostname);
    hostname [sizeof hostname - 1] = 0;
    //  A wildcard bind is advertised by host name; anything else as given.
    bool wildcard = !strcmp (ip, "*") || !strcmp (ip, "0.0.0.0");
    const char *advertise = wildcard? hostname: ip;
    server->engine_sock = s_bind (config, wildcard? "*": ip, engine_port, self->conn.engine_url,
                                  sizeof self->conn.engine_url, advertise, 0, err, errlen);
    if (!server->engine_sock)
        goto fail;
    server->client_sock = s_bind (config, wildcard? "*": ip, client_port, self->conn.client_url,
                                  sizeof self->conn.client_url, advertise, 1, err, errlen);
    if (!server->client_sock)
        goto fail;
    //  Peers on this host use Unix sockets in the profile directory: they
    //  carry arrays about 1.5 times as fast as TCP over loopback.
    const char *names [2] = { "engine.ipc", "client.ipc" };
    zsock_t *socks [2] = { server->engine_sock, server->client_sock };
    char *urls [2] = { self->conn.engine_ipc, self->conn.client_ipc };
    for (int i = 0; i < 2; i++) {
        char url [256];
        if (snprintf (url, sizeof url, "ipc://%s/%s", profile_dir, names [i]) < 100
        &&  zsock_bind (socks [i], "%s", url) == 0)
            snprintf (urls [i], 256, "%s", url);
    }
    snprintf (self->conn.host, sizeof self->conn.host, "%s", hostname);
    self->conn.pid = getpid ();
    if (mc_conn_write (self->conn_path, &self->conn, err, errlen))
        goto fail;
    if (strncmp (ip, "127.", 4) && strcmp (ip, "localhost") && strcmp (ip, "::1"))
        mc_warn ("listening on %s without encryption: anyone who can reach it can use the cluster", ip);
    mc_info ("engines connect to %s, clients to %s", self->conn.engine_url, self->conn.client_url);
    return self;
fail:
    self->conn_path [0] = 0;            //  do not remove another controller's file
    mc_controller_destroy (&self);
    return NULL;
}

void
mc_controller_destroy (mc_controller_t **self_p)
{
    mc_controller_t *self = *self_p;
    if (!self)
        return;
    if (self->conn_path [0] && self->server.engine_sock) {
        //  Remove the connection file only if it is still ours.
        mc_conn_t conn;
        char err [256];
        if (mc_conn_read (self->conn_path, &conn, err, sizeof err) == 0 && conn.pid == getpid ())
            unlink (self->conn_path);
    }
    zloop_destroy (&self->loop);
    mc_server_fini (&self->server);
    mc_store_destroy (&self->server.store);
    zsock_destroy (&self->server.engine_sock);
    zsock_destroy (&self->server.client_sock);
    free (self);
    *self_p = NULL;
}

const mc_conn_t *
mc_controller_conn (const mc_controller_t *self)
{
    return &self->conn;
}

const char *
mc_controller_conn_path (const mc_controller_t *self)
{
    return self->conn_path;
}

void
mc_controller_set_tick (mc_controller_t *self, mc_controller_tick_fn *tick, void *arg)
{
    self->tick_fn = tick;
    self->tick_arg = arg;
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
    zloop_reader (self->loop, server->engine_sock, mc_engines_readable, server);
    zloop_reader (self->loop, server->client_sock, mc_api_readable, server);
    int64_t tick_ms = server->config.store_flush_ms < 100? server->config.store_flush_ms: 100;
    zloop_timer (self->loop, (size_t) tick_ms, 0, s_tick, self);
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
//  private and removed again; the loop is the integration tests'.

void
mc_controller_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_controller: ");
    char dir [] = "/tmp/mc_controller_test.XXXXXX", err [256], path [4200];
    assert (mkdtemp (dir));
    mc_config_t config;
    mc_config_defaults (&config);
    mc_controller_t *self = mc_controller_new (&config, dir, "127.0.0.1", 0, 0, err, sizeof err);
    assert (self);
    const mc_conn_t *conn = mc_controller_conn (self);
    assert (!strncmp (conn->engine_url, "tcp://127.0.0.1:", 16) && !strncmp (conn->client_url, "tcp://127.0.0.1:", 16));
    assert (strcmp (conn->engine_url, conn->client_url) && conn->pid == getpid ());
    struct stat st;
    assert (stat (mc_controller_conn_path (self), &st) == 0 && (st.st_mode & 0777) == 0600);
    mc_conn_t read;
    assert (mc_conn_read (mc_controller_conn_path (self), &read, err, sizeof err) == 0);
    assert (!strcmp (read.client_url, conn->client_url));
    //  A port in use is an error naming it, and leaves the first one's file.
    int port = atoi (strrchr (conn->client_url, ':') + 1);
    mc_controller_t *second = mc_controller_new (&config, dir, "127.0.0.1", 0, port, err, sizeof err);
    assert (!second && strstr (err, "cannot bind"));
    assert (access (mc_controller_conn_path (self), F_OK) == 0);
    snprintf (path, sizeof path, "%s", mc_controller_conn_path (self));
    mc_controller_destroy (&self);
    assert (self == NULL && access (path, F_OK) != 0);
    mc_controller_destroy (&self);
    const char *files [] = { "store.db", "store.db-wal", "store.db-shm", "engine.ipc", "client.ipc" };
    for (size_t i = 0; i < sizeof files / sizeof files [0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files [i]);
        unlink (path);
    }
    assert (rmdir (dir) == 0);
    printf ("OK\n");
}
