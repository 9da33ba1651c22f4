/*  Unit tests: every module's selftest lives at the bottom of its source;
    this is their driver (`test_units NAME` runs one, `test_units` all),
    and the home of the runner's test until it moves beside mc_runner.
    Asserts here are the test verdicts, so they must survive NDEBUG. */
#undef NDEBUG
#include "mc_array.h"
#include "mc_config.h"
#include "mc_conn.h"
#include "mc_job.h"
#include "mc_kernel.h"
#include "mc_launcher.h"
#include "mc_log.h"
#include "mc_namespace.h"
#include "mc_api.h"
#include "mc_engines.h"
#include "mc_held.h"
#include "mc_parked.h"
#include "mc_registry.h"
#include "mc_ops.h"
#include "mc_proto.h"
#include "mc_reduce.h"
#include "mc_rng.h"
#include "mc_runner.h"
#include "mc_sched.h"
#include "mc_store.h"
#include "mc_taskq.h"
#include "mc_time.h"
#include "mc_transient.h"
#include "mc_value.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  Runner: kernels and namespace operations through real TASK messages.

typedef struct {
    mc_runner_state_t state;
    mc_namespace_t *ns;
    zsock_t *in, *out;              //  the runner sends to in; we read from out
} s_engine_t;

//  Run one task: JSON args, kwargs and items (NULL: an apply), an optional
//  --out name and optional array frames (the args refer to them).
static json_t *
s_task (s_engine_t *e, const char *kernel, const char *args, const char *kwargs, const char *items,
        const char *out, zframe_t **frames, size_t nframes, uint64_t *status, char *text)
{
    msgpack_sbuffer a, k, it;
    msgpack_sbuffer *bufs [] = { &a, &k, &it };
    const char *jsons [] = { args, kwargs? kwargs: "{}", items? items: "[]" };
    msgpack_packer pk;
    for (int i = 0; i < 3; i++) {
        msgpack_sbuffer_init (bufs [i]);
        msgpack_packer_init (&pk, bufs [i], msgpack_sbuffer_write);
        //  "@x" strings in JSON stand for name references.
        json_t *value = json_loads (jsons [i], JSON_DECODE_ANY, NULL);
        assert (value);
        if (json_is_array (value) && json_array_size (value) == 1 && json_is_string (json_array_get (value, 0))
        &&  json_string_value (json_array_get (value, 0)) [0] == '@') {
            msgpack_pack_array (&pk, 1);
            mc_array_pack_name (&pk, json_string_value (json_array_get (value, 0)) + 1);
        }
        else
            mc_value_pack_json (&pk, value);
        json_decref (value);
    }
    mc_msg_t task;
    mc_msg_init (&task);
    task.type = MC_TASK;
    task.job = 1;
    json_t *item_list = items? json_loads (items, 0, NULL): NULL;
    task.count = json_array_size (item_list);
    json_decref (item_list);
    task.kernel.ptr = kernel;
    task.kernel.size = strlen (kernel);
    task.args.ptr = a.data;   task.args.size = a.size;
    task.kwargs.ptr = k.data; task.kwargs.size = k.size;
    task.items.ptr = it.data; task.items.size = it.size;
    task.out.ptr = out;
    task.out.size = out? strlen (out): 0;
    task.frames = frames;
    task.frame_count = nframes;
    assert (mc_msg_send (&task, e->out, NULL) == 0);
    zmsg_t *wire = zmsg_recv (e->in);
    assert (mc_runner_run (&e->state, e->ns, &wire, e->in) == 0 && !wire);
    mc_msg_t msg;
    mc_msg_init (&msg);
    int code;
    assert (mc_msg_recv (&msg, e->out, false, &code) == 0 && msg.type == MC_RESULT);
    *status = msg.status;
    mc_bytes_str (msg.text, text, 256);
    char err [64];
    json_t *result = NULL;
    if (msg.status == MC_OK) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 256);
        msgpack_object obj;
        assert (mc_proto_unpack (msg.data.ptr, msg.data.size, &zone, &obj) == 0);
        result = mc_value_to_json_frames (&obj, msg.frames, msg.frame_count, err, sizeof err);
        assert (result);
        msgpack_zone_destroy (&zone);
    }
    mc_msg_reset (&msg);
    for (int i = 0; i < 3; i++)
        msgpack_sbuffer_destroy (bufs [i]);
    return result;
}

static void
s_expect (json_t *got, const char *expect)
{
    char *dump = json_dumps (got, JSON_COMPACT | JSON_ENCODE_ANY);
    if (strcmp (dump, expect))
        fprintf (stderr, "got %s, expected %s\n", dump, expect);
    assert (!strcmp (dump, expect));
    free (dump);
    json_decref (got);
}

static void
test_runner (void)
{
    mc_builtin_register ();
    mc_sampler_register ();
    s_engine_t e = { .ns = mc_namespace_new () };
    e.in = zsock_new_pair ("@inproc://test_runner");
    e.out = zsock_new_pair (">inproc://test_runner");
    assert (e.in && e.out);
    struct { const char *kernel, *args, *items, *expect; uint64_t status; const char *says; } cases [] = {
        { "square", "[3]", NULL, "[9]", 0, "" },
        { "square", "[]", "[1,2.5,[3,4]]", "[1,6.25,[9,16]]", 0, "" },
        { "square", "[\"x\"]", NULL, NULL, MC_E_KERNEL_ERROR, "got string" },
        { "square", "[4000000000]", NULL, NULL, MC_E_KERNEL_ERROR, "overflows" },
        { "square", "[1,2]", NULL, NULL, MC_E_KERNEL_ERROR, "expected 1 argument, got 2" },
        { "echo", "[\"a\",1]", NULL, "[[\"a\",1]]", 0, "" },
        { "noop", "[]", "[1,2,3]", "[null,null,null]", 0, "" },
        { "sleep", "[1]", NULL, "[null]", 0, "" },
        { "sleep", "[-1]", NULL, NULL, MC_E_KERNEL_ERROR, "milliseconds" },
        { "fail", "[\"boom\"]", NULL, NULL, MC_E_KERNEL_ERROR, "boom" },
        { "nosuch", "[]", NULL, NULL, MC_E_UNKNOWN_KERNEL, "unknown kernel" },
        { "%nosuch", "[]", NULL, NULL, MC_E_UNKNOWN_KERNEL, "unknown namespace operation" },
        { "%pull", "[\"a\"]", NULL, NULL, MC_E_KERNEL_ERROR, "name 'a' is not defined" },
        { "%pull", "[\"9a\"]", NULL, NULL, MC_E_BAD_ARGUMENT, "a name must be" },
        { "square", "[\"@a\"]", NULL, NULL, MC_E_BAD_ARGUMENT, "name 'a' is not defined" },
    };
    uint64_t status;
    char text [256];
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        json_t *out = s_task (&e, cases [i].kernel, cases [i].args, NULL, cases [i].items, NULL, NULL, 0,
                              &status, text);
        if (status != cases [i].status || !strstr (text, cases [i].says))
            fprintf (stderr, "case %zu: status %llu, '%s'\n", i, (unsigned long long) status, text);
        assert (status == cases [i].status);
        assert (strstr (text, cases [i].says));
        if (cases [i].expect)
            s_expect (out, cases [i].expect);
        else
            json_decref (out);
    }
    //  push, pull, @name, --out, scatter, names, del.
    s_expect (s_task (&e, "%push", "[]", "{\"a\":[1,2],\"b\":\"x\"}", NULL, NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, "%pull", "[\"a\",\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[[1,2],\"x\"]]");
    s_expect (s_task (&e, "square", "[\"@a\"]", NULL, NULL, "a", NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, "%pull", "[\"a\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[1,4]]");
    s_expect (s_task (&e, "%scatter", "[\"c\"]", NULL, "[[5,6]]", NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, "%pull", "[\"c\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[5,6]]");
    s_expect (s_task (&e, "%del", "[\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, "%names", "[]", NULL, NULL, NULL, NULL, 0, &status, text),
              "[{\"a\":{\"type\":\"list\",\"size\":2,\"bytes\":3},\"c\":{\"type\":\"list\",\"size\":2,\"bytes\":3}}]");
    s_task (&e, "%del", "[\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text);
    assert (status == MC_E_KERNEL_ERROR && strstr (text, "'b' is not defined"));
    //  Arrays: pushed as a frame, squared elementwise in place, pulled back.
    double values [4] = { 1, 2, 3, -4 };
    mc_array_t array = { MC_DTYPE_F64, 1, { 4 }, values, sizeof values, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "v", 1);
    mc_array_pack_ref (&pk, &array, 0);
    zframe_t *frame = zframe_new (values, sizeof values);
    mc_msg_t push;
    mc_msg_init (&push);
    push.type = MC_TASK;
    push.kernel.ptr = "%push";
    push.kernel.size = 5;
    push.args.ptr = "\x90";
    push.args.size = 1;
    push.kwargs.ptr = sb.data;
    push.kwargs.size = sb.size;
    push.frames = &frame;
    push.frame_count = 1;
    assert (mc_msg_send (&push, e.out, NULL) == 0);
    zmsg_t *wire = zmsg_recv (e.in);
    assert (mc_runner_run (&e.state, e.ns, &wire, e.in) == 0);
    mc_msg_t result;
    mc_msg_init (&result);
    int code;
    assert (mc_msg_recv (&result, e.out, false, &code) == 0 && result.status == MC_OK);
    mc_msg_reset (&result);
    zframe_destroy (&frame);
    msgpack_sbuffer_destroy (&sb);
    s_expect (s_task (&e, "square", "[\"@v\"]", NULL, NULL, "v", NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, "%pull", "[\"v\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[1.0,4.0,9.0,16.0]]");
    s_expect (s_task (&e, "square", "[\"@v\"]", NULL, NULL, NULL, NULL, 0, &status, text),
              "[[1.0,16.0,81.0,256.0]]");
    //  A message that is not a TASK is refused.
    zmsg_t *junk = zmsg_new ();
    zmsg_addstr (junk, "junk");
    assert (mc_runner_run (&e.state, e.ns, &junk, e.in) == -1);
    mc_namespace_destroy (&e.ns);
    zsock_destroy (&e.in);
    zsock_destroy (&e.out);
    printf (" * mc_runner: OK\n");
}

//  --------------------------------------------------------------------------
//  The driver: every module's selftest by name (tests/CMakeLists.txt gives
//  ctest one test per name).

static void
s_runner_test (bool verbose)
{
    (void) verbose;
    test_runner ();
}

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_selftest_t;

static const s_selftest_t s_selftests [] = {
    //  common/
    { "array", mc_array_test }, { "config", mc_config_test }, { "conn", mc_conn_test },
    { "log", mc_log_test }, { "time", mc_time_test }, { "rng", mc_rng_test },
    //  proto/
    { "proto", mc_proto_test }, { "ops", mc_ops_test }, { "value", mc_value_test },
    //  controller/
    { "registry", mc_registry_test }, { "parked", mc_parked_test }, { "held", mc_held_test },
    { "engines", mc_engines_test }, { "api", mc_api_test },
    { "taskq", mc_taskq_test }, { "sched", mc_sched_test }, { "job_info", mc_job_info_test },
    { "submit", mc_submit_test }, { "transient", mc_transient_test }, { "job", mc_job_test },
    { "store", mc_store_test }, { "reduce", mc_reduce_test }, { "launcher", mc_launcher_test },
    //  engine/
    { "runner", s_runner_test }, { "namespace", mc_namespace_test },
};
#define SELFTESTS (sizeof s_selftests / sizeof s_selftests [0])

int
main (int argc, char *argv [])
{
    const char *name = argc > 1? argv [1]: "all";
    bool all = !strcmp (name, "all");
    bool found = false;
    for (size_t i = 0; i < SELFTESTS; i++)
        if (all || !strcmp (name, s_selftests [i].name)) {
            s_selftests [i].test (true);
            found = true;
        }
    if (!found) {
        fprintf (stderr, "usage: test_units [all");
        for (size_t i = 0; i < SELFTESTS; i++)
            fprintf (stderr, " | %s", s_selftests [i].name);
        fprintf (stderr, "]\n");
        return 2;
    }
    return 0;
}
