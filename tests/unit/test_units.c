/*  Unit tests of each module: `test_units NAME` runs one; ctest runs all.
    Asserts here are the test verdicts, so they must survive NDEBUG. */
#undef NDEBUG
#include "mc_job.h"
#include "mc_hist.h"
#include "mc_kcall.h"
#include "mc_ktable.h"
#include "mc_node.h"
#include "mc_proto.h"
#include "mc_reduce.h"
#include "mc_registry.h"
#include "mc_rng.h"
#include "mc_namespace.h"
#include "mc_ops.h"
#include "mc_runner.h"
#include "mc_sched.h"
#include "mc_store.h"
#include "mc_value.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//  Build a submit body from JSON text.
static mc_job_t *
s_job (uint64_t id, const char *json, int *code, char *err)
{
    json_error_t jerr;
    json_t *spec = json_loads (json, 0, &jerr);
    assert (spec);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert (mc_value_pack_json (&pk, spec) == 0);
    mc_job_t *job = mc_job_new (id, sb.data, sb.size, 7, code, err, 256);
    msgpack_sbuffer_destroy (&sb);
    json_decref (spec);
    return job;
}

//  --------------------------------------------------------------------------
//  Scheduler: a fake controller records what is sent where.

typedef struct {
    mc_task_t *sent [4096];
    int32_t to [4096];
    size_t count;
    size_t lost;
} s_capture_t;

static void
s_capture_send (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    s_capture_t *c = arg;
    assert (c->count < 4096);
    c->sent [c->count] = task;
    c->to [c->count++] = engine->id;
}

static void
s_capture_lost (void *arg, mc_task_t *task)
{
    (void) task;
    ((s_capture_t *) arg)->lost++;
}

static mc_engine_t *
s_add_engine (mc_registry_t *registry, const char *uuid)
{
    zframe_t *rid = zframe_new (uuid, strlen (uuid));
    bool replaced;
    char **kernels = calloc (2, sizeof *kernels);
    kernels [0] = strdup ("noop");
    mc_engine_t *engine = mc_registry_register (registry, uuid, -1, "host", 1, rid, kernels, 1, 0, &replaced);
    zframe_destroy (&rid);
    return engine;
}

static void
test_sched (void)
{
    mc_registry_t *registry = mc_registry_new ();
    s_capture_t capture = { .count = 0 };
    mc_sched_t *sched = mc_sched_new (registry, 4, 5000, s_capture_send, &capture);
    mc_engine_t *e0 = s_add_engine (registry, "a");
    mc_engine_t *e1 = s_add_engine (registry, "b");
    assert (e0->id == 0 && e1->id == 1);
    assert (mc_registry_has_kernel (registry, "noop") && !mc_registry_has_kernel (registry, "nope"));
    mc_sched_engine_ready (sched, e0);
    mc_sched_engine_ready (sched, e1);

    //  Ten load-balanced tasks of unknown duration: one per engine at first.
    int code;
    char err [256];
    mc_job_t *job = s_job (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,10,1]}}", &code, err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_info (job)->tasks == 10);
    for (int i = 0; i < 10; i++)
        assert (mc_sched_queue (sched, mc_job_task (job, i)) == 0);
    assert (mc_sched_waiting (sched) == 10);
    mc_sched_dispatch (sched);
    assert (capture.count == 2 && capture.to [0] != capture.to [1]);
    assert (capture.sent [0]->number == 0 && capture.sent [1]->number == 1);

    //  A fast result: the job is now known to be tiny, so the engine fills
    //  up to max_inflight (4), in queue order.
    mc_task_t *first = capture.sent [0];
    mc_engine_t *engine = mc_registry_lookup (registry, capture.to [0]);
    mc_job_task_finished (job, first, true, 10);
    mc_sched_task_done (sched, engine, first);
    assert (engine->inflight == 4 && capture.count == 6);
    for (size_t i = 2; i < 6; i++)
        assert (capture.sent [i]->number == i && capture.to [i] == engine->id);
    assert (mc_sched_limit (sched, job) == 4);

    //  The engine dies: its 4 tasks go back to the front, in order, and the
    //  other engine takes them (it may hold one: the job is known now).
    mc_engine_t *other = mc_registry_lookup (registry, 1 - engine->id);
    size_t before = capture.count;
    mc_sched_engine_gone (sched, engine, s_capture_lost, &capture);
    assert (capture.lost == 0);
    mc_registry_remove (registry, &engine);
    //  The survivor already holds task 1 and may hold 4: three of the
    //  requeued tasks go to it, in their original order (2, 3, 4).
    assert (capture.count == before + 3);
    assert (capture.sent [before]->number == 2 && capture.sent [before + 1]->number == 3
         && capture.sent [before + 2]->number == 4);
    assert (other->inflight == 4 && mc_sched_waiting (sched) == 10 - 1 - 4);

    //  Long tasks are not hoarded: a job whose tasks take 100 ms goes one at
    //  a time per engine.
    mc_job_t *slow = s_job (2, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2,3]}", &code, err);
    assert (slow && mc_job_plan (slow, NULL, 0) == 0);
    mc_job_task_finished (slow, mc_job_task (slow, 0), true, 100000);
    assert (mc_sched_limit (sched, slow) == 1);

    //  Direct tasks: kept in order on their engine; failed when it goes.
    mc_engine_t *e2 = s_add_engine (registry, "c");
    mc_sched_engine_ready (sched, e2);
    int32_t targets [] = { e2->id };
    mc_job_t *direct = s_job (3, "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[0]}", &code, err);
    assert (direct && mc_job_plan (direct, targets, 1) == 0);
    assert (mc_job_task (direct, 0)->target == e2->id);
    //  e2 took load-balanced work when it joined; its direct task waits its turn.
    mc_sched_queue (sched, mc_job_task (direct, 0));
    size_t lost_before = capture.lost;
    mc_sched_engine_gone (sched, e2, s_capture_lost, &capture);
    assert (capture.lost == lost_before + 1);
    mc_registry_remove (registry, &e2);

    //  A reconnecting uuid keeps its id; a new one never takes a used id.
    mc_engine_t *again = s_add_engine (registry, "c");
    assert (again->id == 2);
    mc_engine_t *fresh = s_add_engine (registry, "d");
    assert (fresh->id == 3);

    //  Tear down: forget the tasks that still point into the jobs.
    for (mc_engine_t *e = mc_registry_first (registry); e; e = mc_registry_next (registry, e)) {
        e->running = NULL;
        e->inflight = 0;
        while (mc_taskq_pop (e->direct))
            ;
    }
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    mc_job_destroy (&job);
    mc_job_destroy (&slow);
    mc_job_destroy (&direct);

    //  The task queue itself: FIFO, front pushes, growth past 64.
    mc_taskq_t *q = mc_taskq_new ();
    mc_task_t tasks [200];
    for (int i = 0; i < 200; i++)
        mc_taskq_push (q, &tasks [i]);
    mc_taskq_push_front (q, &tasks [199]);
    assert (mc_taskq_size (q) == 201 && mc_taskq_pop (q) == &tasks [199]);
    for (int i = 0; i < 200; i++)
        assert (mc_taskq_pop (q) == &tasks [i]);
    assert (mc_taskq_pop (q) == NULL);
    mc_taskq_destroy (&q);
    printf (" * mc_sched: OK\n");
}

//  --------------------------------------------------------------------------
//  Jobs: parsing, validation, partition

//  A streamed %pull counts the chunks relayed, which must come in order,
//  and its result must stand for exactly those bytes.
static void
test_job_stream (void)
{
    int code;
    char err [256];
    const char *pull = "{\"kind\":\"apply\",\"kernel\":\"%pull\",\"transient\":true,\"targets\":[3],"
                       "\"args\":[\"x\"],\"kwargs\":{\"stream\":true}}";
    char bytes [10] = "abcdefghij";
    zframe_t *piece = zframe_new (bytes, 4);
    mc_msg_t chunk, result;
    mc_msg_init (&chunk);
    mc_msg_init (&result);
    chunk.frames = &piece;
    chunk.frame_count = 1;
    chunk.frame_size = 10;
    uint64_t streamed [2] = { 10, 0 };
    result.frame_count = 2;
    //  Chunks at 0, 4, then a short last one at 8: in order, so relayed.
    mc_job_t *job = s_job (1, pull, &code, err);
    assert (job && mc_job_streams (job));
    assert (mc_job_stream_check (job, &result) == MC_OK);          //  nothing streamed, nothing relayed
    for (uint64_t at = 0; at < 8; at += 4) {
        chunk.offset = at;
        assert (mc_job_stream_chunk (job, &chunk) == 0);
    }
    result.streamed = streamed;
    assert (mc_job_stream_check (job, &result) == MC_E_MALFORMED);  //  2 bytes short
    zframe_t *last = zframe_new (bytes, 2);
    chunk.frames = &last;
    chunk.offset = 8;
    assert (mc_job_stream_chunk (job, &chunk) == 0 && mc_job_stream_check (job, &result) == MC_OK);
    assert (mc_job_held_bytes (job) == 10);
    streamed [1] = 5;                                               //  a frame never relayed
    assert (mc_job_stream_check (job, &result) == MC_E_MALFORMED);
    mc_job_destroy (&job);
    //  A gap, or a frame started again, stops the relay for good.
    job = s_job (1, pull, &code, err);
    chunk.frames = &piece;
    chunk.offset = 4;
    assert (mc_job_stream_chunk (job, &chunk) == -1);
    chunk.offset = 0;
    assert (mc_job_stream_chunk (job, &chunk) == -1);
    mc_job_destroy (&job);
    job = s_job (1, pull, &code, err);
    assert (mc_job_stream_chunk (job, &chunk) == 0 && mc_job_stream_chunk (job, &chunk) == -1);
    mc_job_stream_fail (job, MC_E_QUEUE_FULL);                      //  the first code stays
    assert (mc_job_stream_check (job, &result) == MC_E_MALFORMED);
    mc_job_destroy (&job);
    //  A job that does not stream takes no streamed result.
    job = s_job (1, "{\"kind\":\"apply\",\"kernel\":\"noop\"}", &code, err);
    assert (job && !mc_job_streams (job) && mc_job_stream_check (job, &result) == MC_E_MALFORMED);
    mc_job_destroy (&job);
    zframe_destroy (&piece);
    zframe_destroy (&last);
}

static void
test_job (void)
{
    int code;
    char err [256];
    struct { const char *json; int code; const char *says; } bad [] = {
        { "{\"kernel\":\"noop\"}", MC_E_BAD_ARGUMENT, "kind" },
        { "{\"kind\":\"map\",\"kernel\":\"noop\"}", MC_E_BAD_ARGUMENT, "seq" },
        { "{\"kind\":\"map\",\"kernel\":\"no op\",\"seq\":[]}", MC_E_BAD_ARGUMENT, "kernel" },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,5,0]}}", MC_E_BAD_ARGUMENT, "step" },
        { "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1],\"chunksize\":0}", MC_E_BAD_ARGUMENT, "chunksize" },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"args\":5}", MC_E_BAD_ARGUMENT, "args" },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":[-1]}", MC_E_BAD_ARGUMENT, "targets" },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"targets\":\"some\"}", MC_E_BAD_ARGUMENT, "targets" },
        { "{\"kind\":\"apply\",\"kernel\":\"noop\",\"seed\":-3}", MC_E_BAD_ARGUMENT, "seed" },
        { "[1,2]", MC_E_MALFORMED, "map" },
        { "{\"kind\":\"apply\",\"kernel\":\"%pull\",\"transient\":true,\"targets\":[0,1],\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":true}}", MC_E_BAD_ARGUMENT, "list of one engine" },
        { "{\"kind\":\"apply\",\"kernel\":\"%pull\",\"transient\":true,\"targets\":\"all\",\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":true}}", MC_E_BAD_ARGUMENT, "list of one engine" },
        { "{\"kind\":\"apply\",\"kernel\":\"%pull\",\"transient\":true,\"targets\":[0],\"args\":[\"x\"],"
          "\"kwargs\":{\"stream\":1}}", MC_E_BAD_ARGUMENT, "true or false" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        assert (s_job (1, bad [i].json, &code, err) == NULL);
        assert (code == bad [i].code);
        assert (strstr (err, bad [i].says));
    }
    //  Ranges count as Python's do, also backwards and at the extremes.
    struct { const char *range; uint64_t total; } ranges [] = {
        { "[0,100,1]", 100 }, { "[0,100,7]", 15 }, { "[10,0,-3]", 4 }, { "[5,5,1]", 0 }, { "[5,0,1]", 0 },
        { "[-9223372036854775808,9223372036854775807,4611686018427387904]", 4 },
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges [0]; i++) {
        char json [256];
        snprintf (json, sizeof json, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":%s}}", ranges [i].range);
        mc_job_t *job = s_job (1, json, &code, err);
        assert (job && mc_job_info (job)->total == ranges [i].total);
        mc_job_destroy (&job);
    }
    //  Chunks: 10 items by 3 -> 3,3,3,1, and items packed as the range says.
    mc_job_t *job = s_job (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,20,2]},\"chunksize\":3}",
                           &code, err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_info (job)->tasks == 4);
    assert (mc_job_task (job, 3)->first == 9 && mc_job_task (job, 3)->count == 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    mc_job_pack_items (job, mc_job_task (job, 1), &pk);
    char text [64];
    json_t *items = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    char *dump = json_dumps (items, JSON_COMPACT);
    assert (!strcmp (dump, "[6,8,10]"));
    free (dump);
    json_decref (items);
    msgpack_sbuffer_destroy (&sb);
    mc_job_destroy (&job);

    //  Block partition: ipyparallel's rule (sizes differ by at most one,
    //  larger first), contiguous, covering every item exactly once.
    for (uint64_t total = 0; total < 60; total++)
        for (uint64_t parts = 1; parts < 12; parts++) {
            uint64_t next = 0;
            for (uint64_t p = 0; p < parts; p++) {
                uint64_t start, size;
                mc_dist_block (total, parts, p, &start, &size);
                assert (start == next);
                assert (size == total / parts || size == total / parts + 1);
                assert (p == 0 || size <= total / parts + (p < total % parts));
                next = start + size;
            }
            assert (next == total);
        }
    uint64_t start, size;
    mc_dist_block (50, 8, 0, &start, &size);
    assert (size == 7);
    mc_dist_block (50, 8, 2, &start, &size);
    assert (size == 6 && start == 14);
    mc_dist_block (4, 8, 5, &start, &size);
    assert (size == 0);

    test_job_stream ();

    uint64_t id;
    assert (mc_job_id_parse ("j17", 3, &id) == 0 && id == 17);
    assert (mc_job_id_parse ("17", 2, &id) == 0 && id == 17);
    assert (mc_job_id_parse ("j", 1, &id) == -1 && mc_job_id_parse ("jx1", 3, &id) == -1);
    assert (mc_job_id_parse ("j99999999999999999999", 21, &id) == -1);
    printf (" * mc_job: OK\n");
}

//  --------------------------------------------------------------------------
//  Store: jobs and results survive a reopen; results splice in order.

static void
test_store (void)
{
    char dir [] = "/tmp/mc_store_test_XXXXXX";
    assert (mkdtemp (dir));
    char path [256];
    snprintf (path, sizeof path, "%s/store.db", dir);
    char err [256];
    mc_store_t *store = mc_store_new (path, err, sizeof err);
    assert (store);
    assert (mc_store_next_job_id (store) == 1);
    mc_job_info_t info = { .id = 1, .kind = "map", .kernel = "square", .total = 5, .tasks = 3, .seed = 42,
                           .submitted_us = 1000 };
    const char body [] = "\x80";
    assert (mc_store_add_job (store, &info, body, 1) == 0);
    //  Task 0: items 0-1 ok; task 1: items 2-3 failed; task 2 (item 4) ok,
    //  written out of order.
    const char ok2 [] = { (char) 0x92, 0x00, 0x01 };
    const char ok1 [] = { (char) 0x91, 0x10 };
    assert (mc_store_add_result (store, 1, 2, 4, 1, 1, 0, ok1, sizeof ok1, NULL, 0, 5, 6, NULL, 0) == 0);
    assert (mc_store_add_result (store, 1, 0, 0, 2, 0, 0, ok2, sizeof ok2, NULL, 0, 1, 2, "\x80", 1) == 0);
    assert (mc_store_add_result (store, 1, 1, 2, 2, 3, MC_E_KERNEL_ERROR, NULL, 0, "boom", 4, 3, 4, NULL, 0) == 0);
    assert (mc_store_pending (store) == 4);
    info.done = 3;
    info.failed = 2;
    info.finished_us = 2000;
    assert (mc_store_finish_job (store, &info) == 0);
    assert (mc_store_flush (store) == 0 && mc_store_pending (store) == 0);
    mc_store_destroy (&store);

    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_next_job_id (store) == 2);
    mc_job_info_t loaded;
    assert (mc_store_job_info (store, 1, &loaded) == 0);
    assert (loaded.total == 5 && loaded.done == 3 && loaded.failed == 2 && loaded.seed == 42);
    assert (!strcmp (loaded.kernel, "square") && !strcmp (mc_job_info_state (&loaded), "failed"));
    assert (mc_store_job_info (store, 9, &loaded) == -1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    assert (mc_store_pack_results (store, &loaded, &pk) == 0);
    char text [64];
    json_t *out = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    assert (out);
    char *dump = json_dumps (out, JSON_COMPACT | JSON_SORT_KEYS);
    assert (!strcmp (dump, "{\"errors\":[{\"count\":1,\"engines\":[3],\"error\":\"boom\",\"tasks\":[1]}],"
                           "\"results\":[0,1,null,null,16]}"));
    free (dump);
    json_decref (out);
    msgpack_sbuffer_destroy (&sb);
    uint64_t ids [4];
    assert (mc_store_recent_jobs (store, ids, 4) == 1 && ids [0] == 1);
    mc_store_destroy (&store);

    //  A store that cannot be created is an error, not a crash.
    assert (mc_store_new ("/nonexistent/dir/store.db", err, sizeof err) == NULL && strstr (err, "store"));
    unlink (path);
    char side [300];
    snprintf (side, sizeof side, "%s-wal", path);
    unlink (side);
    snprintf (side, sizeof side, "%s-shm", path);
    unlink (side);
    rmdir (dir);
    printf (" * mc_store: OK\n");
}

//  --------------------------------------------------------------------------
//  Values: CLI text, ranges, JSON <-> msgpack round trips

static void
test_value (void)
{
    char err [256];
    struct { const char *text; const char *json; } args [] = {
        { "2", "2" }, { "-7", "-7" }, { "2.5", "2.5" }, { "1e7", "10000000.0" }, { "true", "true" },
        { "null", "null" }, { "boom", "\"boom\"" }, { "[1,\"a\",[2.5]]", "[1,\"a\",[2.5]]" },
        { "{\"a\":1}", "{\"a\":1}" }, { "nan", "\"nan\"" }, { "0x10", "\"0x10\"" }, { "", "\"\"" },
    };
    for (size_t i = 0; i < sizeof args / sizeof args [0]; i++) {
        json_t *value = mc_value_parse_arg (args [i].text, err, sizeof err);
        assert (value);
        char *dump = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
        assert (!strcmp (dump, args [i].json));
        //  Round trip through msgpack.
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        assert (mc_value_pack_json (&pk, value) == 0);
        json_t *back = mc_value_bytes_to_json (sb.data, sb.size, err, sizeof err);
        assert (back && json_equal (back, value));
        json_decref (back);
        msgpack_sbuffer_destroy (&sb);
        free (dump);
        json_decref (value);
    }
    assert (mc_value_parse_arg ("[1,", err, sizeof err) == NULL && strstr (err, "malformed JSON"));
    int64_t a, b, s;
    assert (mc_value_parse_range ("0:100", &a, &b, &s, err, sizeof err) == 0 && a == 0 && b == 100 && s == 1);
    assert (mc_value_parse_range ("10:0:-2", &a, &b, &s, err, sizeof err) == 0 && s == -2);
    assert (mc_value_parse_range ("abc", &a, &b, &s, err, sizeof err) == 1);
    const char *malformed [] = { "0:", ":5", "1:x", "1:2:0", "1::2", "1:2:3:4", "a:b" };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed [0]; i++)
        assert (mc_value_parse_range (malformed [i], &a, &b, &s, err, sizeof err) == -1
             && strstr (err, "malformed range"));
    assert (mc_value_range_count (0, 10, 3) == 4 && mc_value_range_count (10, 0, -3) == 4
         && mc_value_range_count (3, 3, 1) == 0);
    //  msgpack that JSON cannot hold is reported, not crashed on.
    const char bin [] = { (char) 0xC4, 0x01, 0x00 };
    assert (mc_value_bytes_to_json (bin, sizeof bin, err, sizeof err) == NULL && strstr (err, "binary"));
    const char truncated [] = { (char) 0x92, 0x01 };
    assert (mc_value_bytes_to_json (truncated, sizeof truncated, err, sizeof err) == NULL);
    printf (" * mc_value: OK\n");
}

int
main (int argc, char *argv [])
{
    const char *name = argc > 1? argv [1]: "all";
    bool all = !strcmp (name, "all");
    if (all || !strcmp (name, "proto"))  mc_proto_test (true);
    if (all || !strcmp (name, "ops"))    mc_ops_test (true);
    if (all || !strcmp (name, "sched"))  test_sched ();
    if (all || !strcmp (name, "job"))    test_job ();
    if (all || !strcmp (name, "store"))  test_store ();
    if (all || !strcmp (name, "value"))  test_value ();
    if (all || !strcmp (name, "runner")) mc_runner_test (true);
    if (all || !strcmp (name, "kcall"))  mc_kcall_test (true);
    if (all || !strcmp (name, "ktable")) mc_ktable_test (true);
    if (all || !strcmp (name, "builtin")) mc_builtin_test (true);
    if (all || !strcmp (name, "sampler")) mc_sampler_test (true);
    if (all || !strcmp (name, "hist"))   mc_hist_test (true);
    if (all || !strcmp (name, "node"))   mc_node_test (true);
    if (all || !strcmp (name, "namespace")) mc_namespace_test (true);
    if (all || !strcmp (name, "reduce")) mc_reduce_test (true);
    if (all || !strcmp (name, "rng"))    mc_rng_test (true);
    return 0;
}
