/*  mc_handshake: a socket monitor for the handshake events of one socket.
    libzmq 4.3 sends each event as two frames on the monitor's PAIR: the
    first 6 bytes, a 16-bit event number then a 32-bit value (both in the
    host's byte order), the second the endpoint. */
#include "mc_handshake.h"
#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>

#define S_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
                  | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct _mc_handshake_t {
    void *watched;                  //  the zsock_t * watched
    zsock_t *pair;                  //  where its events come
    mc_handshake_state_t state;
    int failures;
    uint32_t value;
};

mc_handshake_t *
mc_handshake_new (void *sock)
{
    static atomic_uint counter;
    mc_handshake_t *self = calloc (1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->watched = sock;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://mc-handshake-%d-%u", (int) getpid (),
              atomic_fetch_add (&counter, 1));
    if (zmq_socket_monitor (zsock_resolve (sock), endpoint, S_EVENTS)) {
        int saved = errno;
        free (self);
        errno = saved;
        return NULL;
    }
    self->pair = zsock_new (ZMQ_PAIR);
    if (!self->pair || zsock_connect (self->pair, "%s", endpoint)) {
        int saved = errno;
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
        zsock_destroy (&self->pair);
        free (self);
        errno = saved;
        return NULL;
    }
    zsock_set_linger (self->pair, 0);
    return self;
}

void
mc_handshake_destroy (mc_handshake_t **self_p)
{
    mc_handshake_t *self = *self_p;
    if (!self)
        return;
    zmq_socket_monitor (zsock_resolve (self->watched), NULL, 0);
    zsock_destroy (&self->pair);
    free (self);
    *self_p = NULL;
}

bool
mc_handshake_event (void *monitor, uint16_t *event, uint32_t *value)
{
    void *pair = zsock_resolve (monitor);
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, pair, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&part);
        return false;
    }
    bool good = zmq_msg_size (&part) >= 6;
    if (good) {
        const uint8_t *data = zmq_msg_data (&part);
        memcpy (event, data, 2);
        memcpy (value, data + 2, 4);
    }
    //  The rest (the endpoint) is of no use here.
    while (zmq_msg_more (&part)) {
        zmq_msg_close (&part);
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, pair, 0) < 0)
            break;
    }
    zmq_msg_close (&part);
    if (!good)
        *event = 0;
    return true;
}

mc_handshake_state_t
mc_handshake_poll (mc_handshake_t *self)
{
    uint16_t event;
    uint32_t value;
    while (mc_handshake_event (self->pair, &event, &value)) {
        mc_handshake_state_t state;
        switch (event) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:     state = MC_HANDSHAKE_OK; break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:   state = MC_HANDSHAKE_REFUSED; break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: state = MC_HANDSHAKE_FAILED; break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                state = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH? MC_HANDSHAKE_MISMATCH
                                                                           : MC_HANDSHAKE_FAILED;
                break;
            default:
                continue;
        }
        self->state = state;
        self->value = value;
        self->failures = state == MC_HANDSHAKE_OK? 0: self->failures + 1;
    }
    return self->state;
}

int
mc_handshake_failures (const mc_handshake_t *self)
{
    return self->failures;
}

void *
mc_handshake_socket (mc_handshake_t *self)
{
    return self->pair;
}

mc_handshake_state_t
mc_handshake_diagnose (const char *endpoint, bool curve)
{
    char mechanism [32];
    return mc_handshake_probe (endpoint, mechanism, sizeof mechanism, 500) == 0
        && strcmp (mechanism, curve? "CURVE": "NULL")? MC_HANDSHAKE_MISMATCH: MC_HANDSHAKE_FAILED;
}

int
mc_handshake_probe (const char *endpoint, char *mechanism, size_t len, int timeout_ms)
{
    //  tcp://host:port, or tcp://[v6]:port
    if (strncmp (endpoint, "tcp://", 6) || len == 0)
        return -1;
    char host [256];
    snprintf (host, sizeof host, "%s", endpoint + 6);
    char *colon = strrchr (host, ':');
    if (!colon)
        return -1;
    *colon = 0;
    const char *port = colon + 1;
    char *name = host;
    if (*name == '[' && name [strlen (name) - 1] == ']') {
        name [strlen (name) - 1] = 0;
        name++;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *found = NULL;
    if (getaddrinfo (name, port, &hints, &found) || !found)
        return -1;
    int fd = socket (found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (fd >= 0 && connect (fd, found->ai_addr, found->ai_addrlen) == 0) {
        //  Our signature and major version 3: the server answers with its
        //  signature, version, then the 20-byte mechanism name at 12.
        static const uint8_t hello [11] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3 };
        uint8_t greeting [32];
        size_t got = 0;
        int64_t deadline = zclock_mono () + timeout_ms;
        if (send (fd, hello, sizeof hello, MSG_NOSIGNAL) == (ssize_t) sizeof hello)
            while (got < sizeof greeting) {
                int left = (int) (deadline - zclock_mono ());
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (left <= 0 || poll (&pfd, 1, left) <= 0)
                    break;
                ssize_t n = recv (fd, greeting + got, sizeof greeting - got, 0);
                if (n <= 0)
                    break;
                got += (size_t) n;
            }
        if (got == sizeof greeting && greeting [0] == 0xff && greeting [9] == 0x7f && greeting [10] >= 3) {
            size_t n = 0;
            while (n < 20 && n + 1 < len && greeting [12 + n] >= 'A' && greeting [12 + n] <= 'Z') {
                mechanism [n] = (char) greeting [12 + n];
                n++;
            }
            mechanism [n] = 0;
            rc = n? 0: -1;
        }
    }
    if (fd >= 0)
        close (fd);
    freeaddrinfo (found);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test

//  Answer one ZAP request if one waits: 400 for the refused key, else 200.
static void
s_serve_zap (zsock_t *zap, const uint8_t *refused)
{
    zmsg_t *request = zmsg_recv_nowait (zap);
    if (!request)
        return;
    char *version = zmsg_popstr (request), *id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request), *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request), *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    bool no = key && zframe_size (key) == 32 && memcmp (zframe_data (key), refused, 32) == 0;
    zstr_sendm (zap, "1.0");
    zstr_sendm (zap, id);
    zstr_sendm (zap, no? "400": "200");
    zstr_sendm (zap, no? "not trusted": "OK");
    zstr_sendm (zap, no? "": "test");
    zstr_send (zap, "");
    zframe_destroy (&key);
    zstr_free (&version); zstr_free (&id); zstr_free (&domain);
    zstr_free (&address); zstr_free (&identity); zstr_free (&mechanism);
    zmsg_destroy (&request);
}

//  Connect a DEALER to endpoint (CURVE with these keys, when server_key is
//  set) and wait up to 3 s for a handshake to end one way or the other.
static mc_handshake_state_t
s_try (const char *endpoint, const char *server_key, const char *public_key, const char *secret_key,
       zsock_t *zap, const uint8_t *refused, uint32_t *value)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_linger (dealer, 0);
    if (server_key) {
        zsock_set_curve_serverkey (dealer, server_key);
        zsock_set_curve_publickey (dealer, public_key);
        zsock_set_curve_secretkey (dealer, secret_key);
    }
    mc_handshake_t *watch = mc_handshake_new (dealer);
    assert (watch);
    assert (watch->state == MC_HANDSHAKE_PENDING);
    assert (zsock_connect (dealer, "%s", endpoint) == 0);
    zpoller_t *poller = zpoller_new (mc_handshake_socket (watch), zap, NULL);
    mc_handshake_state_t state = MC_HANDSHAKE_PENDING;
    for (int i = 0; i < 300 && state == MC_HANDSHAKE_PENDING; i++) {
        void *which = zpoller_wait (poller, 10);
        if (which == zap)
            s_serve_zap (zap, refused);
        state = mc_handshake_poll (watch);
    }
    *value = watch->value;
    zpoller_destroy (&poller);
    mc_handshake_destroy (&watch);
    assert (!watch);
    zsock_destroy (&dealer);
    return state;
}

void
mc_handshake_test (bool verbose)
{
    if (verbose)
        printf (" * mc_handshake: ");
    char server_public [41], server_secret [41], client_public [41], client_secret [41];
    char bad_public [41], bad_secret [41], other_public [41], other_secret [41];
    assert (zmq_curve_keypair (server_public, server_secret) == 0);
    assert (zmq_curve_keypair (client_public, client_secret) == 0);
    assert (zmq_curve_keypair (bad_public, bad_secret) == 0);
    assert (zmq_curve_keypair (other_public, other_secret) == 0);
    uint8_t refused [32];
    assert (zmq_z85_decode (refused, bad_public));

    //  A ZAP handler in this thread, unless another one holds the name (it
    //  would answer for the CURVE server below, and we could not say no).
    zsock_t *zap = zsock_new (ZMQ_REP);
    assert (zap);
    bool have_zap = zsock_bind (zap, "inproc://zeromq.zap.01") == 0;
    zsock_t *curve = zsock_new (ZMQ_ROUTER), *plain = zsock_new (ZMQ_ROUTER);
    assert (curve && plain);
    zsock_set_linger (curve, 0);
    zsock_set_linger (plain, 0);
    zsock_set_curve_server (curve, 1);
    zsock_set_curve_secretkey (curve, server_secret);
    zsock_set_zap_domain (curve, "test");
    assert (zsock_bind (curve, "tcp://127.0.0.1:*") > 0);
    assert (zsock_bind (plain, "tcp://127.0.0.1:*") > 0);
    char curve_ep [256], plain_ep [256];
    snprintf (curve_ep, sizeof curve_ep, "%s", zsock_endpoint (curve));
    snprintf (plain_ep, sizeof plain_ep, "%s", zsock_endpoint (plain));

    //  What each server offers, read from its greeting.
    char mechanism [32];
    assert (mc_handshake_probe (curve_ep, mechanism, sizeof mechanism, 1000) == 0 && !strcmp (mechanism, "CURVE"));
    assert (mc_handshake_probe (plain_ep, mechanism, sizeof mechanism, 1000) == 0 && !strcmp (mechanism, "NULL"));
    assert (mc_handshake_probe ("ipc:///nowhere", mechanism, sizeof mechanism, 100) == -1);
    assert (mc_handshake_probe ("tcp://nocolon", mechanism, sizeof mechanism, 100) == -1);

    uint32_t value;
    //  The right keys: in.
    assert (s_try (curve_ep, server_public, client_public, client_secret, zap, refused, &value) == MC_HANDSHAKE_OK);
    //  Not the server's key: the server hangs up in the middle.
    mc_handshake_state_t state = s_try (curve_ep, other_public, client_public, client_secret, zap, refused, &value);
    assert (state == MC_HANDSHAKE_FAILED);
    //  No CURVE against CURVE, and CURVE against none: a mismatch.
    assert (s_try (curve_ep, NULL, NULL, NULL, zap, refused, &value) == MC_HANDSHAKE_MISMATCH);
    assert (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    assert (s_try (plain_ep, server_public, client_public, client_secret, zap, refused, &value) == MC_HANDSHAKE_MISMATCH);
    //  A key the handler refuses: REFUSED with its status code.
    if (have_zap) {
        assert (s_try (curve_ep, server_public, bad_public, bad_secret, zap, refused, &value) == MC_HANDSHAKE_REFUSED);
        assert (value == 400);
    }
    //  Failed handshakes are counted while the DEALER retries (it does
    //  after a hang-up; after a protocol error or a refusal libzmq gives
    //  the connection up).
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    zsock_set_curve_serverkey (dealer, other_public);
    zsock_set_curve_publickey (dealer, client_public);
    zsock_set_curve_secretkey (dealer, client_secret);
    mc_handshake_t *watch = mc_handshake_new (dealer);
    assert (watch && zsock_connect (dealer, "%s", curve_ep) == 0);
    for (int i = 0; i < 300 && mc_handshake_failures (watch) < 2; i++) {
        zclock_sleep (10);
        mc_handshake_poll (watch);
    }
    assert (mc_handshake_failures (watch) >= 2 && watch->state == MC_HANDSHAKE_FAILED);
    mc_handshake_destroy (&watch);
    mc_handshake_destroy (&watch);          //  twice is harmless
    zsock_destroy (&dealer);

    zsock_destroy (&curve);
    zsock_destroy (&plain);
    zsock_destroy (&zap);
    if (verbose)
        printf ("OK%s\n", have_zap? "": " (no ZAP case: another handler is bound)");
}
