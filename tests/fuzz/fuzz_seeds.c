/*  Writes the seed corpus of the fuzz targets (corpus/<target>/): real
    messages of every type, submit bodies, values, files. Run by hand after
    the protocol changes: fuzz_seeds tests/fuzz/corpus */
#include "mc_proto.h"
#include "mc_value.h"
#include <sys/stat.h>

static const char *s_root;

static void
s_write (const char *target, const char *name, const void *data, size_t size)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", s_root, target);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/%s/%s", s_root, target, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size)
        abort ();
    fclose (file);
}

//  msgpack of JSON text (name references as {"$ref": ...}).
static void
s_pack_json (const char *json, msgpack_sbuffer *sb)
{
    json_t *value = json_loads (json, JSON_DECODE_ANY, NULL);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    if (!value || mc_value_pack_json_refs (&pk, value, true))
        abort ();
    json_decref (value);
}

//  A codec seed: the socket byte, then each frame as a 2-byte length and bytes.
static void
s_codec (const char *name, const mc_msg_t *msg, const void *array, size_t array_size)
{
    zframe_t *header = mc_msg_encode (msg);
    size_t size = zframe_size (header);
    uint8_t *seed = malloc (1 + 2 + size + 2 + array_size);
    size_t at = 0;
    seed [at++] = 0;
    seed [at++] = size & 0xFF;
    seed [at++] = size >> 8;
    memcpy (seed + at, zframe_data (header), size);
    at += size;
    if (array) {
        seed [at++] = array_size & 0xFF;
        seed [at++] = array_size >> 8;
        memcpy (seed + at, array, array_size);
        at += array_size;
    }
    s_write ("codec", name, seed, at);
    free (seed);
    zframe_destroy (&header);
}

static void
s_codec_seeds (void)
{
    mc_msg_t msg;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    mc_msg_init (&msg);
    msg.type = MC_REGISTER;
    msg.uuid = (mc_bytes_t) { "0123456789abcdef0123456789abcdef", 32 };
    msg.host = (mc_bytes_t) { "node1", 5 };
    msg.engine_id = -1;
    msg.kernels [0] = (mc_bytes_t) { "square", 6 };
    msg.kernel_count = 1;
    s_pack_json ("[[\"square\",\"x*x\",\"x:any\"]]", &a);
    msg.kernel_info = (mc_bytes_t) { a.data, a.size };
    s_codec ("register", &msg, NULL, 0);
    mc_msg_init (&msg);
    msg.type = MC_PING;
    msg.engine_id = 3;
    s_codec ("ping", &msg, NULL, 0);
    //  A TASK and a RESULT whose data refers to an array frame.
    double values [4] = { 1, 2, 3, 4 };
    mc_array_t array = { .dtype = MC_DTYPE_F64, .ndim = 1, .shape = { 4 } };
    msgpack_sbuffer_clear (&a);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &a, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    mc_array_pack_ref (&pk, &array, 0);
    mc_msg_init (&msg);
    msg.type = MC_TASK;
    msg.job = 7;
    msg.count = 1;
    msg.kernel = (mc_bytes_t) { "square", 6 };
    msg.args = (mc_bytes_t) { a.data, a.size };
    s_pack_json ("{\"steps\":10}", &b);
    msg.kwargs = (mc_bytes_t) { b.data, b.size };
    s_codec ("task", &msg, values, sizeof values);
    mc_msg_init (&msg);
    msg.type = MC_RESULT;
    msg.engine_id = 1;
    msg.job = 7;
    msg.data = (mc_bytes_t) { a.data, a.size };
    s_codec ("result", &msg, values, sizeof values);
    mc_msg_init (&msg);
    msg.type = MC_RESULT_CHUNK;
    msg.job = 7;
    msg.frame_size = 64;
    s_codec ("chunk", &msg, values, sizeof values);
    mc_msg_init (&msg);
    msg.type = MC_REQUEST;
    msg.req = 1;
    msg.op = (mc_bytes_t) { "wait", 4 };
    msgpack_sbuffer_clear (&b);
    s_pack_json ("{\"job\":\"j3\",\"timeout_ms\":100}", &b);
    msg.data = (mc_bytes_t) { b.data, b.size };
    s_codec ("request", &msg, NULL, 0);
    mc_msg_init (&msg);
    msg.type = MC_REPLY_CHUNK;
    msg.req = 1;
    msg.frame_size = 32;
    s_codec ("reply_chunk", &msg, values, sizeof values);
    s_write ("prescan", "result_data", a.data, a.size);
    s_write ("prescan", "kwargs", b.data, b.size);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

int
main (int argc, char *argv [])
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    s_root = argv [1];
    mkdir (s_root, 0755);
    s_codec_seeds ();
    const char *bodies [] = {
        "{\"kind\":\"map\",\"kernel\":\"square\",\"seq\":{\"range\":[0,100,3]},\"chunksize\":7}",
        "{\"kind\":\"apply\",\"kernel\":\"walker\",\"args\":[],\"kwargs\":{\"steps\":100},\"targets\":[0,2],\"seed\":5}",
        "{\"kind\":\"map\",\"kernel\":\"%scatter\",\"args\":[\"a\"],\"seq\":[[1,2],[3]],\"targets\":\"all\",\"transient\":true}",
        "{\"kind\":\"map\",\"kernel\":\"pi\",\"seq\":[1,2,3],\"reduce\":{\"op\":\"hist2d\",\"bins\":[4,4],\"range\":[0,1,0,1]},\"out\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_pack_json (bodies [i], &sb);
        char name [16];
        snprintf (name, sizeof name, "body%zu", i);
        s_write ("submit", name, sb.data, sb.size);
        s_write ("prescan", name, sb.data, sb.size);
        msgpack_sbuffer_destroy (&sb);
    }
    const char *values [] = { "0:100:3", "-5:5", "1e7", "[1,2.5,{\"a\":null}]", "\"text\"", "true", "@name", "{\"$ref\":\"a\"}" };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        char name [16];
        snprintf (name, sizeof name, "value%zu", i);
        s_write ("values", name, values [i], strlen (values [i]));
    }
    const char *cli [] = { "all", "0,2", "1:3", "0,4:6", "50x50", "0:1,0:1" };
    for (size_t i = 0; i < sizeof cli / sizeof cli [0]; i++) {
        char name [16];
        snprintf (name, sizeof name, "arg%zu", i);
        s_write ("cli", name, cli [i], strlen (cli [i]));
    }
    const char config [] = "\0heartbeat_ms = 500\n# a comment\nmax_inflight=8\n";
    s_write ("files", "config", config, sizeof config - 1);
    //  First byte: bit 0 a connection file, bit 1 read as a client's.
    const char conn [] = "\1{\"version\":2,\"role\":\"engine\",\"cluster_id\":\"00ff\",\"host\":\"h\",\"pid\":1,"
                         "\"url\":\"tcp://127.0.0.1:5000\",\"ipc\":\"ipc:///tmp/x/engine.ipc\",\"security\":\"curve\","
                         "\"server_key\":\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\","
                         "\"public_key\":\"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\","
                         "\"secret_key\":\"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"}";
    s_write ("files", "conn", conn, sizeof conn - 1);
    const char conn_none [] = "\3{\"version\":2,\"role\":\"client\",\"host\":\"h\",\"pid\":1,"
                              "\"url\":\"tcp://127.0.0.1:5001\",\"security\":\"none\"}";
    s_write ("files", "conn_none", conn_none, sizeof conn_none - 1);
    char env [sizeof conn_none];
    memcpy (env, conn_none, sizeof conn_none);
    env [0] = 7;                        //  the same, from $MCCLUSTER_CLIENT
    s_write ("files", "conn_env", env, sizeof env - 1);
    return 0;
}
