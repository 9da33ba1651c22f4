/*  mc_garbage: send random and mutated messages to both endpoints of a
    running controller, with valid credentials (its profile directory given
    as argv[1]: engine.json and client.json). The test that runs it then
    checks that the controller still serves. */
#include "mc_conn.h"
#include "mc_proto.h"
#include <czmq.h>

static uint64_t s_state = 12345;
static uint64_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return s_state;
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: mc_garbage PROFILE_DIR\n");
        return 2;
    }
    zsock_t *socks [2];
    for (int role = 0; role < 2; role++) {
        mc_conn_t conn;
        char err [512], origin [4200];
        if (mc_conn_load ((mc_role_t) role, NULL, argv [1], &conn, origin, sizeof origin, err, sizeof err)) {
            fprintf (stderr, "mc_garbage: %s\n", err);
            return 2;
        }
        //  Over TCP, so that the keys are used.
        socks [role] = zsock_new (ZMQ_DEALER);
        mc_conn_apply (&conn, conn.url, socks [role]);
        assert (zsock_connect (socks [role], "%s", conn.url) == 0);
    }
    //  Valid headers of every type, to mutate.
    zframe_t *valid [12];
    int types [] = { MC_REGISTER, MC_WELCOME, MC_PING, MC_PONG, MC_TASK, MC_RESULT, MC_STOP, MC_BYE,
                     MC_ERROR, MC_REQUEST, MC_REPLY };
    const char body [] = { (char) 0x81, (char) 0xA4, 'k', 'i', 'n', 'd', (char) 0xA3, 'm', 'a', 'p' };
    for (int t = 0; t < 11; t++) {
        mc_msg_t msg;
        mc_msg_init (&msg);
        msg.type = types [t];
        msg.engine_id = t % 3;
        msg.job = 1;
        msg.op.ptr = t % 2? "submit": "status";
        msg.op.size = strlen (msg.op.ptr);
        msg.uuid.ptr = "x";
        msg.uuid.size = 1;
        msg.data.ptr = body;
        msg.data.size = sizeof body;
        valid [t] = mc_msg_encode (&msg);
    }
    //  And a BATCH of the REGISTER, PING and RESULT (mutations land inside it).
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    int in_batch [] = { 0, 2, 5 };
    for (int k = 0; k < 3; k++) {
        zframe_t *header = valid [in_batch [k]];
        assert (mc_batch_append_header (&batch, zframe_data (header), zframe_size (header)) == 0);
    }
    mc_msg_t outer;
    mc_msg_init (&outer);
    outer.type = MC_BATCH;
    outer.batch.ptr = batch.data;
    outer.batch.size = batch.size;
    valid [11] = mc_msg_encode (&outer);
    msgpack_sbuffer_destroy (&batch);
    uint8_t buffer [512];
    for (int round = 0; round < 20000; round++) {
        zsock_t *sock = socks [s_rand () % 2];
        size_t size;
        zframe_t *base = valid [s_rand () % 12];
        if (round % 3) {
            size = zframe_size (base);
            memcpy (buffer, zframe_data (base), size);
            for (int k = 0; k < 2; k++)
                buffer [s_rand () % size] = (uint8_t) s_rand ();
        }
        else {
            size = s_rand () % sizeof buffer;
            for (size_t i = 0; i < size; i++)
                buffer [i] = (uint8_t) s_rand ();
        }
        bool extra = s_rand () % 10 == 0;
        zframe_t *frame = zframe_new (buffer, size);
        zframe_send (&frame, sock, extra? ZFRAME_MORE: 0);
        if (extra)
            zstr_send (sock, "extra");
        //  Read whatever comes back so that nothing piles up.
        for (int k = 0; k < 2; k++)
            while (zsock_events (socks [k]) & ZMQ_POLLIN) {
                zframe_t *reply = zframe_recv (socks [k]);
                zframe_destroy (&reply);
            }
    }
    for (int t = 0; t < 12; t++)
        zframe_destroy (&valid [t]);
    zsock_destroy (&socks [0]);
    zsock_destroy (&socks [1]);
    return 0;
}
