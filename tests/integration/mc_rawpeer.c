/*  mc_rawpeer: a raw ZeroMQ DEALER peer, to attack the controller's endpoints
    with chosen credentials (or none) and report, from a socket monitor, what
    the controller made of it. It prints exactly one result line on stdout:

        ok TYPE [STATUS]        a message came back (REPLY: its status code;
                                ERROR: its code)
        refused auth STATUS     ZAP said no (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        refused protocol CODE   the ZMTP handshake failed (mechanism mismatch,
                                bad server key...), CODE in hex
        refused handshake       the handshake failed without detail
        timeout                 nothing decisive within --timeout

    With --delay MS it sends only MS after its handshake succeeded (an idle
    connection first), else at once, queued until the handshake is done.
    With --hold S it stays connected S seconds after the first outcome and
    then prints the last one; the monitor events seen on the way go to
    stderr ("event connected", "event handshake ok", "event disconnected",
    "event refused auth 400"...), and so does the body of each reply.
    Exit status: 0 when it could run (the caller checks the line), 2 on bad
    usage or an unreadable key file.

    --keygen prints a new CURVE keypair, "PUB SEC" (Z85), and exits. */
#include "mc_conn.h"
#include "mc_proto.h"
#include <czmq.h>
#include <unistd.h>

static void
s_usage (void)
{
    fprintf (stderr,
        "usage: mc_rawpeer --keygen\n"
        "       mc_rawpeer [--endpoint URL] [--server-key Z85] [--keypair PUB SEC | --keys FILE | --plain]\n"
        "                  [--send register|ping|submit|trust-list|trust-add|trust-revoke|shutdown|garbage\n"
        "                         |nested|truncated]\n"
        "                  [--role engine|client] [--key Z85] [--name NAME]    (trust-add, trust-revoke)\n"
        "                  [--count N] [--hold SECONDS] [--timeout MS] [--delay MS]\n"
        "  --keys FILE takes public_key, secret_key, server_key and url from a role file.\n");
}

typedef struct {
    char line [128];            //  the result line so far ("" = nothing decisive)
    bool handshake_ok;
    size_t replies;
} s_state_t;

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

//  The message to send, encoded; body is owned by sbuf.
static int
s_build (const char *what, int index, const char *role, const char *key, const char *name,
         msgpack_sbuffer *sbuf, zmsg_t **out)
{
    static char uuid [33];
    mc_msg_t msg;
    mc_msg_init (&msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    if (streq (what, "register")) {
        //  An engine with no kernels: it gets no task, whatever happens.
        if (!*uuid)
            for (int i = 0; i < 32; i++)
                uuid [i] = "0123456789abcdef" [randof (16)];
        msg.type = MC_REGISTER;
        msg.uuid.ptr = uuid;
        msg.uuid.size = 32;
        msg.engine_id = -1;
        msg.host.ptr = "rawpeer";
        msg.host.size = 7;
        msg.pid = getpid ();
        msg.kernel_count = 0;
        msgpack_pack_array (&pk, 0);
        msg.kernel_info.ptr = sbuf->data;
        msg.kernel_info.size = sbuf->size;
    }
    else
    if (streq (what, "garbage")) {
        uint8_t bytes [64];
        for (size_t i = 0; i < sizeof bytes; i++)
            bytes [i] = (uint8_t) randof (256);
        *out = zmsg_new ();
        zmsg_addmem (*out, bytes, 1 + randof (sizeof bytes));
        return 0;
    }
    else {
        msg.type = MC_REQUEST;
        msg.req = (uint64_t) index + 1;
        if (streq (what, "ping") || streq (what, "shutdown")) {
            msg.op.ptr = what;
            msgpack_pack_map (&pk, 0);
        }
        else
        if (streq (what, "nested") || streq (what, "truncated")) {
            //  A ping with request id 4242 + index that cannot be decoded:
            //  a body nested 70 deep (the limit is 64), or a header whose
            //  last byte is cut off.
            msg.op.ptr = "ping";
            msg.req = 4242 + (uint64_t) index;
            bool nested = streq (what, "nested");
            msgpack_pack_map (&pk, nested? 1: 0);
            if (nested) {
                s_pack_str (&pk, "deep");
                for (int i = 0; i < 70; i++)
                    msgpack_pack_array (&pk, 1);
                msgpack_pack_nil (&pk);
            }
            msg.op.size = 4;
            msg.data.ptr = sbuf->data;
            msg.data.size = sbuf->size;
            zframe_t *frame = mc_msg_encode (&msg);
            if (!frame)
                return -1;
            *out = zmsg_new ();
            zmsg_addmem (*out, zframe_data (frame), zframe_size (frame) - (nested? 0: 1));
            zframe_destroy (&frame);
            return 0;
        }
        else
        if (streq (what, "submit")) {
            msg.op.ptr = "submit";
            msgpack_pack_map (&pk, 3);
            s_pack_str (&pk, "kind");
            s_pack_str (&pk, "map");
            s_pack_str (&pk, "kernel");
            s_pack_str (&pk, "square");
            s_pack_str (&pk, "seq");
            msgpack_pack_array (&pk, 3);
            for (int i = 1; i <= 3; i++)
                msgpack_pack_int (&pk, i);
        }
        else
        if (streq (what, "trust-list")) {
            msg.op.ptr = "trust";
            msgpack_pack_map (&pk, 1);
            s_pack_str (&pk, "action");
            s_pack_str (&pk, "list");
        }
        else
        if (streq (what, "trust-add")) {
            msg.op.ptr = "trust";
            msgpack_pack_map (&pk, 2 + (key? 1: 0) + (name? 1: 0));
            s_pack_str (&pk, "action");
            s_pack_str (&pk, "add");
            s_pack_str (&pk, "role");
            s_pack_str (&pk, role? role: "client");
            if (key) {
                s_pack_str (&pk, "key");
                s_pack_str (&pk, key);
            }
            if (name) {
                s_pack_str (&pk, "name");
                s_pack_str (&pk, name);
            }
        }
        else
        if (streq (what, "trust-revoke")) {
            if (!name && !key)
                return -1;
            msg.op.ptr = "trust";
            msgpack_pack_map (&pk, 2);
            s_pack_str (&pk, "action");
            s_pack_str (&pk, "revoke");
            s_pack_str (&pk, name? "name": "key");
            s_pack_str (&pk, name? name: key);
        }
        else
            return -1;
        msg.op.size = strlen (msg.op.ptr);
        msg.data.ptr = sbuf->data;
        msg.data.size = sbuf->size;
    }
    zframe_t *frame = mc_msg_encode (&msg);
    if (!frame)
        return -1;
    *out = zmsg_new ();
    zmsg_append (*out, &frame);
    return 0;
}

//  One monitor event: updates the state; true when it decides the outcome.
static bool
s_event (zsock_t *monitor, s_state_t *state)
{
    zmsg_t *msg = zmsg_recv (monitor);
    if (!msg)
        return false;
    zframe_t *first = zmsg_first (msg);
    if (!first || zframe_size (first) < 6) {
        zmsg_destroy (&msg);
        return false;
    }
    uint16_t event;
    uint32_t value;
    memcpy (&event, zframe_data (first), 2);
    memcpy (&value, zframe_data (first) + 2, 4);
    zmsg_destroy (&msg);
    bool decided = false;
    switch (event) {
        case ZMQ_EVENT_CONNECTED:
            fprintf (stderr, "event connected\n");
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            fprintf (stderr, "event connect retried\n");
            break;
        case ZMQ_EVENT_DISCONNECTED:
            fprintf (stderr, "event disconnected\n");
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            fprintf (stderr, "event handshake ok\n");
            state->handshake_ok = true;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            snprintf (state->line, sizeof state->line, "refused auth %u", value);
            decided = true;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            snprintf (state->line, sizeof state->line, "refused protocol 0x%x", value);
            decided = true;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            snprintf (state->line, sizeof state->line, "refused handshake");
            decided = true;
            break;
        default:
            break;
    }
    if (decided)
        fprintf (stderr, "event %s\n", state->line);
    return decided;
}

//  One message from the controller.
static void
s_reply (zsock_t *sock, s_state_t *state)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    int code = 0;
    int rc = mc_msg_recv (&msg, zsock_resolve (sock), false, &code);
    if (rc == -1)
        return;
    state->replies++;
    if (rc == -2)
        snprintf (state->line, sizeof state->line, "ok garbage");
    else
    if (msg.type == MC_REPLY || msg.type == MC_ERROR) {
        snprintf (state->line, sizeof state->line, "ok %s %llu", mc_msg_type_name (msg.type),
                  (unsigned long long) msg.status);
        if (msg.type == MC_REPLY)
            fprintf (stderr, "reply req: %llu\n", (unsigned long long) msg.req);
        char text [512];
        if (msg.text.size)
            fprintf (stderr, "reply text: %s\n", mc_bytes_str (msg.text, text, sizeof text));
        if (msg.data.size) {
            msgpack_zone zone;
            msgpack_zone_init (&zone, 4096);
            msgpack_object obj;
            if (mc_proto_unpack (msg.data.ptr, msg.data.size, &zone, &obj) == 0) {
                fprintf (stderr, "reply body: ");
                msgpack_object_print (stderr, obj);
                fprintf (stderr, "\n");
            }
            msgpack_zone_destroy (&zone);
        }
    }
    else
        snprintf (state->line, sizeof state->line, "ok %s", mc_msg_type_name (msg.type));
    mc_msg_reset (&msg);
}

int
main (int argc, char *argv [])
{
    const char *endpoint = NULL, *server_key = NULL, *public_key = NULL, *secret_key = NULL, *keys = NULL;
    const char *send = "ping", *role = NULL, *key = NULL, *name = NULL;
    bool plain = false;
    long count = 1, timeout_ms = 2000, delay_ms = 0;
    double hold = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv [i];
        bool more = i + 1 < argc;
        if (streq (a, "--keygen")) {
            char pub [41], sec [41];
            if (zmq_curve_keypair (pub, sec)) {
                fprintf (stderr, "mc_rawpeer: zmq_curve_keypair: %s\n", zmq_strerror (errno));
                return 2;
            }
            printf ("%s %s\n", pub, sec);
            return 0;
        }
        else if (streq (a, "--endpoint") && more) endpoint = argv [++i];
        else if (streq (a, "--server-key") && more) server_key = argv [++i];
        else if (streq (a, "--keypair") && i + 2 < argc) { public_key = argv [++i]; secret_key = argv [++i]; }
        else if (streq (a, "--keys") && more) keys = argv [++i];
        else if (streq (a, "--plain")) plain = true;
        else if (streq (a, "--send") && more) send = argv [++i];
        else if (streq (a, "--role") && more) role = argv [++i];
        else if (streq (a, "--key") && more) key = argv [++i];
        else if (streq (a, "--name") && more) name = argv [++i];
        else if (streq (a, "--count") && more) count = atol (argv [++i]);
        else if (streq (a, "--hold") && more) hold = atof (argv [++i]);
        else if (streq (a, "--timeout") && more) timeout_ms = atol (argv [++i]);
        else if (streq (a, "--delay") && more) delay_ms = atol (argv [++i]);
        else {
            s_usage ();
            return 2;
        }
    }
    if (count < 1 || timeout_ms < 1 || hold < 0 || delay_ms < 0 || (plain && (keys || public_key))
    ||  (keys && public_key)) {
        s_usage ();
        return 2;
    }
    mc_conn_t conn;
    if (keys) {
        //  Either role's file will do.
        char *text = NULL;
        size_t size = 0;
        FILE *file = fopen (keys, "r");
        if (file) {
            char buf [8192];
            size = fread (buf, 1, sizeof buf - 1, file);
            fclose (file);
            buf [size] = 0;
            text = strdup (buf);
        }
        char err [512];
        if (!text
        ||  (mc_conn_parse (text, size, keys, MC_ROLE_ENGINE, &conn, err, sizeof err)
          && mc_conn_parse (text, size, keys, MC_ROLE_CLIENT, &conn, err, sizeof err))) {
            fprintf (stderr, "mc_rawpeer: %s\n", text? err: "cannot read the key file");
            free (text);
            return 2;
        }
        free (text);
        if (!endpoint)
            endpoint = conn.url;
        if (conn.secure) {
            if (!server_key)
                server_key = conn.server_key;
            public_key = conn.public_key;
            secret_key = conn.secret_key;
        }
        else
            plain = true;
    }
    if (!endpoint || (!plain && (!public_key || !server_key))) {
        s_usage ();
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    assert (sock);
    zsock_set_linger (sock, 0);
    if (!plain) {
        zsock_set_curve_serverkey (sock, server_key);
        zsock_set_curve_publickey (sock, public_key);
        zsock_set_curve_secretkey (sock, secret_key);
    }
    char monitor_url [64];
    snprintf (monitor_url, sizeof monitor_url, "inproc://rawpeer-monitor");
    int rc = zmq_socket_monitor (zsock_resolve (sock), monitor_url, ZMQ_EVENT_ALL);
    assert (rc == 0);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    assert (monitor);
    rc = zsock_connect (monitor, "%s", monitor_url);
    assert (rc == 0);
    if (zsock_connect (sock, "%s", endpoint)) {
        fprintf (stderr, "mc_rawpeer: cannot connect to %s: %s\n", endpoint, zmq_strerror (errno));
        return 2;
    }
    s_state_t state = { "", false, 0 };
    //  Until an outcome, or the timeout.
    zpoller_t *poller = zpoller_new (sock, monitor, NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    bool decided = false;
    if (delay_ms > 0) {
        //  Connected and idle: the handshake, then a pause.
        while (!state.handshake_ok && !decided && zclock_mono () < deadline)
            if (zpoller_wait (poller, (int) (deadline - zclock_mono ())) == monitor)
                decided = s_event (monitor, &state);
        int64_t until = zclock_mono () + delay_ms;
        while (!decided && zclock_mono () < until)
            if (zpoller_wait (poller, (int) (until - zclock_mono ())) == monitor)
                s_event (monitor, &state);
        deadline = zclock_mono () + timeout_ms;
        fprintf (stderr, "sending now\n");
    }
    msgpack_sbuffer sbuf;
    //  (A DEALER whose connection is gone would block in send.)
    zsock_set_sndtimeo (sock, 500);
    for (long i = 0; i < count && !decided; i++) {
        msgpack_sbuffer_init (&sbuf);
        zmsg_t *msg = NULL;
        if (s_build (send, (int) i, role, key, name, &sbuf, &msg)) {
            msgpack_sbuffer_destroy (&sbuf);
            s_usage ();
            return 2;
        }
        if (zmsg_send (&msg, sock)) {
            fprintf (stderr, "send failed: %s\n", zmq_strerror (errno));
            zmsg_destroy (&msg);
        }
        msgpack_sbuffer_destroy (&sbuf);
    }
    bool garbage = streq (send, "garbage");
    while (!decided && zclock_mono () < deadline) {
        void *which = zpoller_wait (poller, (int) (deadline - zclock_mono ()));
        if (which == monitor) {
            if (s_event (monitor, &state))
                break;
        }
        else
        if (which == sock) {
            s_reply (sock, &state);
            if (state.replies >= (size_t) count)
                break;
        }
        else
        if (zpoller_terminated (poller))
            break;
        //  Garbage may get no answer at all: accepted is all there is to say.
        if (garbage && state.handshake_ok && !*state.line)
            snprintf (state.line, sizeof state.line, "ok handshake");
    }
    //  Hold on, and see what happens to the connection.
    if (hold > 0) {
        int64_t until = zclock_mono () + (int64_t) (hold * 1000);
        while (zclock_mono () < until) {
            void *which = zpoller_wait (poller, (int) (until - zclock_mono ()));
            if (which == monitor)
                s_event (monitor, &state);
            else
            if (which == sock)
                s_reply (sock, &state);
            else
            if (zpoller_terminated (poller))
                break;
        }
    }
    printf ("%s\n", *state.line? state.line: "timeout");
    fflush (stdout);
    zpoller_destroy (&poller);
    zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&sock);
    return 0;
}
