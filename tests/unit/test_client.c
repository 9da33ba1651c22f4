/*  libmcclient against a scripted controller: a gather whose replies and
    streamed chunks come in the orders a real cluster gives only by chance
    (a later part's chunks first, a later part complete while an earlier
    part's size is still unknown, chunks out of order), with the joined
    bytes checked each time; that a wait polls only briefly before it
    sleeps; that an error to request id 0 ends a wait; and that typed arrays
    of a reply are handed over as they are (mc_client_keep_arrays). Asserts are the verdicts: they survive NDEBUG. */
#undef NDEBUG
#include "mccluster.h"
#include "mc_array.h"
#include "mc_conn.h"
#include "mc_proto.h"
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PARTS 3

//  One step of a script: a chunk of a part's array, or (bytes 0) the
//  part's reply, which refers to a streamed frame when the part had chunks.
typedef struct {
    int part;
    size_t offset, bytes;
} s_step_t;

typedef struct {
    char dir [256];
    size_t parts;
    int spin_us;                    //  for mc_client_set_spin, or -1: the default
    int rc;
    mc_array_t array;
    char error [512];
    double cpu_ms;                  //  the client thread's CPU time in the gather
} s_gather_t;

static double *
s_part_data (int p, size_t count)
{
    double *v = malloc (count * sizeof *v + 1);
    for (size_t k = 0; k < count; k++)
        v [k] = p * 1e6 + (double) k;
    return v;
}

static void *
s_client_thread (void *arg)
{
    s_gather_t *g = arg;
    char err [256];
    mc_client_t *client = mc_client_new (g->dir, 3000, err, sizeof err);
    assert (client);
    json_t *targets = json_array ();
    for (size_t p = 0; p < g->parts; p++)
        json_array_append_new (targets, json_integer ((json_int_t) p));
    if (g->spin_us >= 0)
        mc_client_set_spin (client, g->spin_us);
    struct timespec t0, t1;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t0);
    g->rc = mc_client_gather_array (client, "x", targets, false, &g->array);
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t1);
    g->cpu_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (g->rc)
        snprintf (g->error, sizeof g->error, "%s", mc_client_error (client));
    json_decref (targets);
    mc_client_destroy (&client);
    return NULL;
}

//  Receive one REQUEST on the router: its routing id and req.
static uint64_t
s_request (void *router, zframe_t **routing_id, char *op, size_t oplen)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    int code;
    assert (mc_msg_recv (&msg, router, true, &code) == 0 && msg.type == MC_REQUEST);
    *routing_id = zframe_dup (msg.routing_id);
    mc_bytes_str (msg.op, op, oplen);
    uint64_t req = msg.req;
    mc_msg_reset (&msg);
    return req;
}

//  A REPLY of msgpack body `sb`, with one array frame or none.
static void
s_send_reply (void *router, zframe_t *to, uint64_t req, msgpack_sbuffer *sb, zframe_t *frame)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REPLY;
    msg.req = req;
    msg.status = MC_OK;
    msg.data.ptr = sb->data;
    msg.data.size = sb->size;
    msg.frames = frame? &frame: NULL;
    msg.frame_count = frame? 1: 0;
    assert (mc_msg_send (&msg, router, to) == 0);
    zframe_destroy (&frame);
    msgpack_sbuffer_clear (sb);
}

//  A gather part's REPLY, {"results": [array]}: its frame is empty when
//  the array was streamed, else it carries the bytes.
static void
s_reply (void *router, zframe_t *to, uint64_t req, const double *data, size_t count, bool streamed)
{
    mc_array_t array = { MC_DTYPE_F64, 1, { count }, data, count * sizeof *data, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "results", 7);
    msgpack_pack_array (&pk, 1);
    assert (mc_array_pack_ref (&pk, &array, 0) == 0);
    s_send_reply (router, to, req, &sb, zframe_new (streamed? NULL: data, streamed? 0: array.size));
    msgpack_sbuffer_destroy (&sb);
}

static void
s_chunk (void *router, zframe_t *to, uint64_t req, const double *data, size_t count, size_t offset, size_t bytes)
{
    zframe_t *frame = zframe_new ((const char *) data + offset, bytes);
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REPLY_CHUNK;
    msg.req = req;
    msg.frame = 0;
    msg.frame_size = count * sizeof *data;
    msg.offset = offset;
    msg.frames = &frame;
    msg.frame_count = 1;
    assert (mc_msg_send (&msg, router, to) == 0);
    zframe_destroy (&frame);
}

//  Play a gather of parts of counts [p] float64 values by the script, after
//  delay_ms, and check the joined array, or with `fails` that the gather
//  failed saying so. Returns the client's CPU time in the gather, in ms.
static double
s_play (const char *name, const size_t *counts, size_t parts, const s_step_t *script, size_t steps,
        const char *fails, int spin_us, int delay_ms)
{
    char dir [] = "/tmp/mc-test-client.XXXXXX";
    assert (mkdtemp (dir));
    mc_conn_t conn = { .role = MC_ROLE_CLIENT, .pid = getpid () };
    char path [300], err [256], op [32];
    snprintf (conn.url, sizeof conn.url, "ipc://%s/client.ipc", dir);
    gethostname (conn.host, sizeof conn.host);
    snprintf (path, sizeof path, "%s/%s", dir, mc_conn_file_name (MC_ROLE_CLIENT));
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    zsock_t *router = zsock_new_router (conn.url);
    assert (router);
    void *sock = zsock_resolve (router);
    s_gather_t g = { .parts = parts, .spin_us = spin_us };
    snprintf (g.dir, sizeof g.dir, "%s", dir);
    pthread_t thread;
    assert (pthread_create (&thread, NULL, s_client_thread, &g) == 0);

    //  The client pings first, then submits one %pull per target, in order.
    zframe_t *client;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    uint64_t req = s_request (sock, &client, op, sizeof op);
    assert (!strcmp (op, "ping"));
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "max_value_bytes", 15);
    msgpack_pack_int64 (&pk, 1LL << 30);
    s_send_reply (sock, client, req, &sb, NULL);
    zframe_destroy (&client);
    uint64_t reqs [PARTS];
    double *data [PARTS];
    bool streamed [PARTS] = { false };
    for (size_t p = 0; p < parts; p++) {
        reqs [p] = s_request (sock, &client, op, sizeof op);
        assert (!strcmp (op, "submit"));
        if (p + 1 < parts)
            zframe_destroy (&client);
        data [p] = s_part_data ((int) p, counts [p]);
    }
    zclock_sleep (delay_ms);
    for (size_t k = 0; k < steps; k++) {
        const s_step_t *step = &script [k];
        if (step->bytes) {
            s_chunk (sock, client, reqs [step->part], data [step->part], counts [step->part], step->offset,
                     step->bytes);
            streamed [step->part] = true;
        }
        else
            s_reply (sock, client, reqs [step->part], data [step->part], counts [step->part], streamed [step->part]);
    }
    pthread_join (thread, NULL);
    if (fails) {
        assert (g.rc == -1);
        if (!strstr (g.error, fails)) {
            fprintf (stderr, "%s: the error '%s' does not say '%s'\n", name, g.error, fails);
            abort ();
        }
    }
    else {
        if (g.rc) {
            fprintf (stderr, "%s: %s\n", name, g.error);
            abort ();
        }
        size_t total = 0;
        for (size_t p = 0; p < parts; p++) {
            assert (memcmp ((const double *) g.array.data + total, data [p], counts [p] * sizeof (double)) == 0);
            total += counts [p];
        }
        assert (g.array.dtype == MC_DTYPE_F64 && g.array.ndim == 1 && g.array.shape [0] == total);
        assert (g.array.size == total * sizeof (double));
        free ((void *) g.array.data);
    }
    for (size_t p = 0; p < parts; p++)
        free (data [p]);
    msgpack_sbuffer_destroy (&sb);
    zframe_destroy (&client);
    zsock_destroy (&router);
    unlink (path);
    snprintf (path, sizeof path, "%s/client.ipc", dir);
    unlink (path);
    rmdir (dir);
    printf (" * %s: OK\n", name);
    return g.cpu_ms;
}

//  The client thread of s_unread: a status request, its error kept.
static void *
s_status_thread (void *arg)
{
    s_gather_t *g = arg;
    char err [256];
    mc_client_t *client = mc_client_new (g->dir, 3000, err, sizeof err);
    assert (client);
    json_t *status = mc_client_status (client, "j1");
    g->rc = status? 0: mc_client_errcode (client);
    snprintf (g->error, sizeof g->error, "%s", mc_client_error (client));
    json_decref (status);
    mc_client_destroy (&client);
    return NULL;
}

//  An error reply with request id 0 (a request whose id the controller
//  could not read) answers the request a client waits for: the wait ends
//  with that error, instead of for ever. A late reply to another id before
//  it changes nothing. With `restarts`, the controller says nothing, and
//  answers the client's probe as another process (a restarted controller,
//  which has lost the request): the wait ends with that error.
static void
s_unread (bool restarts)
{
    char dir [] = "/tmp/mc-test-client.XXXXXX";
    assert (mkdtemp (dir));
    mc_conn_t conn = { .role = MC_ROLE_CLIENT, .pid = getpid () };
    char path [300], err [256], op [32];
    snprintf (conn.url, sizeof conn.url, "ipc://%s/client.ipc", dir);
    gethostname (conn.host, sizeof conn.host);
    snprintf (path, sizeof path, "%s/%s", dir, mc_conn_file_name (MC_ROLE_CLIENT));
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    zsock_t *router = zsock_new_router (conn.url);
    assert (router);
    void *sock = zsock_resolve (router);
    s_gather_t g = { .rc = 0 };
    snprintf (g.dir, sizeof g.dir, "%s", dir);
    pthread_t thread;
    assert (pthread_create (&thread, NULL, s_status_thread, &g) == 0);
    zframe_t *client;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    uint64_t req = s_request (sock, &client, op, sizeof op);
    msgpack_pack_map (&pk, restarts? 1: 0);
    if (restarts) {
        msgpack_pack_str_with_body (&pk, "pid", 3);
        msgpack_pack_int64 (&pk, 1000);
    }
    s_send_reply (sock, client, req, &sb, NULL);
    zframe_destroy (&client);
    req = s_request (sock, &client, op, sizeof op);
    assert (!strcmp (op, "status"));
    if (restarts) {
        //  Nothing for 5 s: the client asks whether we live; we do, as
        //  another process, which knows nothing of its status request.
        int64_t asked = zclock_mono ();
        zframe_destroy (&client);
        req = s_request (sock, &client, op, sizeof op);
        assert (!strcmp (op, "ping") && zclock_mono () - asked >= 4900);
        msgpack_pack_map (&pk, 1);
        msgpack_pack_str_with_body (&pk, "pid", 3);
        msgpack_pack_int64 (&pk, 1001);
        s_send_reply (sock, client, req, &sb, NULL);
        pthread_join (thread, NULL);
        assert (g.rc == -1 && strstr (g.error, "the controller restarted (pid 1001, was 1000)"));
    }
    else {
        mc_msg_t msg;
        mc_msg_init (&msg);
        msg.type = MC_REPLY;
        msg.req = req + 100;                    //  not ours: ignored
        msg.status = MC_E_UNKNOWN_JOB;
        msg.text.ptr = "someone else's";
        msg.text.size = strlen (msg.text.ptr);
        assert (mc_msg_send (&msg, sock, client) == 0);
        msg.req = 0;
        msg.status = MC_E_MALFORMED;
        msg.text.ptr = "malformed request: test";
        msg.text.size = strlen (msg.text.ptr);
        assert (mc_msg_send (&msg, sock, client) == 0);
        pthread_join (thread, NULL);
        assert (g.rc == MC_E_MALFORMED && !strcmp (g.error, "malformed request: test"));
    }
    msgpack_sbuffer_destroy (&sb);
    zframe_destroy (&client);
    zsock_destroy (&router);
    unlink (path);
    snprintf (path, sizeof path, "%s/client.ipc", dir);
    unlink (path);
    rmdir (dir);
    printf (" * %s: OK\n", restarts? "a wait without a deadline sees a restarted controller"
                                    : "an error to request id 0 ends the wait");
}

//  The client thread of s_keep_arrays: a result with keep_arrays, its
//  array {"$array": 0} taken; the reply's JSON text and the array in g.
static void *
s_keep_thread (void *arg)
{
    s_gather_t *g = arg;
    char err [256];
    mc_client_t *client = mc_client_new (g->dir, 3000, err, sizeof err);
    assert (client);
    mc_client_keep_arrays (client, true);
    json_t *result = mc_client_result (client, "j1", false);
    assert (result);
    char *text = json_dumps (result, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf (g->error, sizeof g->error, "%s", text);
    free (text);
    json_decref (result);
    g->rc = mc_client_take_array (client, 0, &g->array);
    //  Taken once: a second take, or an array the reply does not have, fails.
    mc_array_t again;
    assert (mc_client_take_array (client, 0, &again) == -1 && mc_client_take_array (client, 1, &again) == -1);
    mc_client_destroy (&client);
    return NULL;
}

//  With mc_client_keep_arrays, a result's typed array comes out as
//  {"$array": 0} and mc_client_take_array gives its bytes and shape.
static void
s_keep_arrays (void)
{
    char dir [] = "/tmp/mc-test-client.XXXXXX";
    assert (mkdtemp (dir));
    mc_conn_t conn = { .role = MC_ROLE_CLIENT, .pid = getpid () };
    char path [300], err [256], op [32];
    snprintf (conn.url, sizeof conn.url, "ipc://%s/client.ipc", dir);
    gethostname (conn.host, sizeof conn.host);
    snprintf (path, sizeof path, "%s/%s", dir, mc_conn_file_name (MC_ROLE_CLIENT));
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    zsock_t *router = zsock_new_router (conn.url);
    assert (router);
    void *sock = zsock_resolve (router);
    s_gather_t g = { .rc = -1 };
    snprintf (g.dir, sizeof g.dir, "%s", dir);
    pthread_t thread;
    assert (pthread_create (&thread, NULL, s_keep_thread, &g) == 0);
    zframe_t *client;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    uint64_t req = s_request (sock, &client, op, sizeof op);
    msgpack_pack_map (&pk, 0);
    s_send_reply (sock, client, req, &sb, NULL);
    zframe_destroy (&client);
    req = s_request (sock, &client, op, sizeof op);
    assert (!strcmp (op, "result"));
    //  {"results": [array 3x2 f64, 5]}
    double data [6] = { 0.5, 1.5, 2.5, 3.5, 4.5, 5.5 };
    mc_array_t array = { MC_DTYPE_F64, 2, { 3, 2 }, data, sizeof data, 0 };
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "results", 7);
    msgpack_pack_array (&pk, 2);
    assert (mc_array_pack_ref (&pk, &array, 0) == 0);
    msgpack_pack_int (&pk, 5);
    s_send_reply (sock, client, req, &sb, zframe_new (data, sizeof data));
    pthread_join (thread, NULL);
    assert (!strcmp (g.error, "{\"results\":[{\"$array\":0},5]}"));
    assert (g.rc == 0 && g.array.dtype == MC_DTYPE_F64 && g.array.ndim == 2 && g.array.shape [0] == 3
            && g.array.shape [1] == 2 && g.array.size == sizeof data && !memcmp (g.array.data, data, sizeof data));
    free ((void *) g.array.data);
    msgpack_sbuffer_destroy (&sb);
    zframe_destroy (&client);
    zsock_destroy (&router);
    unlink (path);
    snprintf (path, sizeof path, "%s/client.ipc", dir);
    unlink (path);
    rmdir (dir);
    printf (" * keep_arrays: a result's array taken as it is: OK\n");
}

#define MB (1 << 20)
#define PLAY(name, counts, script, fails) \
    s_play (name, counts, sizeof counts / sizeof counts [0], script, sizeof script / sizeof script [0], fails, -1, 0)

int
main (void)
{
    unsetenv ("MCCLUSTER_SPIN_US");         //  the default is what is tested
    s_unread (false);
    s_unread (true);
    s_keep_arrays ();
    //  Two parts of 1.5 MiB, each in two chunks of 1 MiB and 0.5 MiB.
    size_t two [] = { 196608, 196608 };
    const s_step_t in_order [] = {
        { 0, 0, MB }, { 0, MB, MB / 2 }, { 0, 0, 0 }, { 1, 0, MB }, { 1, MB, MB / 2 }, { 1, 0, 0 } };
    PLAY ("parts in order", two, in_order, NULL);
    //  Part 1's first chunk comes before part 0's: held, then put in place.
    const s_step_t later_first [] = {
        { 1, 0, MB }, { 0, 0, MB }, { 1, MB, MB / 2 }, { 0, MB, MB / 2 }, { 1, 0, 0 }, { 0, 0, 0 } };
    PLAY ("a later part's chunks first", two, later_first, NULL);
    //  Part 1 complete while part 0's size is still unknown: joined at the end.
    const s_step_t later_done [] = {
        { 1, 0, MB }, { 1, MB, MB / 2 }, { 1, 0, 0 }, { 0, 0, MB }, { 0, MB, MB / 2 }, { 0, 0, 0 } };
    PLAY ("a later part complete first", two, later_done, NULL);
    //  Three parts of other sizes; part 0 small and not streamed, its reply
    //  (which sizes it) coming between part 2's chunks; part 1 last.
    size_t three [] = { 3, 196608, 131072 };
    const s_step_t mixed [] = {
        { 2, 0, MB / 2 }, { 0, 0, 0 }, { 1, 0, MB }, { 2, MB / 2, MB / 2 }, { 2, 0, 0 }, { 1, MB, MB / 2 },
        { 1, 0, 0 } };
    PLAY ("small and streamed parts mixed", three, mixed, NULL);
    //  A held chunk, then a gap in that part's chunks.
    const s_step_t gap [] = {
        { 1, 0, MB / 2 }, { 1, MB, MB / 2 }, { 0, 0, MB }, { 0, MB, MB / 2 }, { 0, 0, 0 }, { 1, 0, 0 } };
    PLAY ("a gap in a held part's chunks", two, gap, "out of order");
    //  A part that never sent all its chunks.
    const s_step_t short_part [] = { { 0, 0, MB }, { 0, 0, 0 }, { 1, 0, MB }, { 1, MB, MB / 2 }, { 1, 0, 0 } };
    PLAY ("a part short of its chunks", two, short_part, "incomplete");
    //  A wait polls only briefly before it sleeps: a reply 300 ms late
    //  costs the client far less than 300 ms of CPU time, polling or not.
    size_t steps = sizeof in_order / sizeof in_order [0];
    assert (s_play ("a late reply, default polling", two, 2, in_order, steps, NULL, -1, 300) < 50);
    assert (s_play ("a late reply, no polling", two, 2, in_order, steps, NULL, 0, 300) < 50);
    return 0;
}
