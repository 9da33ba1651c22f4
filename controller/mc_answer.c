/*  mc_answer: replies to clients, and transient jobs' results grouped by error. */
#include "mc_answer.h"
#include "mc_log.h"
#include "mc_time.h"
#include <unistd.h>

void
mc_answer_reply (mc_server_t *server, zframe_t *routing_id, uint64_t req, uint64_t status, const char *text)
{
    mc_msg_t reply;
    mc_msg_init (&reply);
    reply.type = MC_REPLY;
    reply.req = req;
    reply.status = status;
    if (status == MC_OK) {
        reply.data.ptr = server->buffer.data;
        reply.data.size = server->buffer.size;
    }
    reply.text.ptr = text;
    reply.text.size = text? strlen (text): 0;
    mc_msg_send (&reply, zsock_resolve (server->client_sock), routing_id);
}

void
mc_answer_error (mc_server_t *server, zframe_t *routing_id, uint64_t req, uint64_t code, const char *fmt, ...)
{
    char text [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    mc_debug ("request %llu: %s: %s", (unsigned long long) req, mc_proto_error_name (code), text);
    mc_answer_reply (server, routing_id, req, code, text);
}

void
mc_answer_job (mc_server_t *server, zframe_t *routing_id, uint64_t req, mc_park_kind_t kind,
               const mc_job_info_t *info)
{
    //  Results come from the store: while it is failing they may be
    //  incomplete there, and are refused rather than read as nils.
    if (kind != MC_PARK_STATUS && mc_store_failing_since (server->store)) {
        mc_answer_error (server, routing_id, req, MC_E_INTERNAL, "cannot read job j%llu: %s",
                         (unsigned long long) info->id, mc_store_error (server->store));
        return;
    }
    msgpack_packer pk = mc_server_body (server);
    bool meta = kind == MC_PARK_META;
    int rc = mc_job_info_pack (info, &pk, kind == MC_PARK_STATUS? 0: meta? 4: 3);
    if (rc == 0 && kind != MC_PARK_STATUS) {
        mc_proto_pack_str (&pk, "single");
        if (info->single)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_false (&pk);
        if (meta) {
            mc_proto_pack_str (&pk, "meta");
            rc = mc_store_pack_meta (server->store, info, &pk);
        }
        if (rc == 0)
            rc = mc_store_pack_results (server->store, info, &pk);
    }
    //  A body packed in part is never sent.
    if (rc == 0)
        mc_answer_reply (server, routing_id, req, MC_OK, NULL);
    else
        mc_answer_error (server, routing_id, req, MC_E_INTERNAL, "cannot read job j%llu: %s",
                         (unsigned long long) info->id, mc_store_error (server->store));
}

//  One distinct error of a job, with where it happened.
typedef struct {
    char *text;
    uint64_t count;                 //  tasks
    int64_t *engines;               //  distinct, in order of first failure
    uint64_t *tasks;                //  count of them
    size_t engine_count;
} s_error_t;

static void
s_error_destroy (s_error_t **e_p)
{
    if (*e_p) {
        free ((*e_p)->engines);
        free ((*e_p)->tasks);
        free ((*e_p)->text);
        free (*e_p);
        *e_p = NULL;
    }
}

//  Count a failed task under its error text. 0, or -1 when out of memory
//  (the failure is then left out of the list, not of the results).
static int
s_error_add (zlistx_t *errors, const char *text, size_t len, int64_t engine, uint64_t task)
{
    s_error_t *e;
    for (e = zlistx_first (errors); e; e = zlistx_next (errors))
        if (strlen (e->text) == len && !memcmp (e->text, text, len))
            break;
    if (!e) {
        e = calloc (1, sizeof *e);
        if (!e || !(e->text = strndup (text, len))) {
            free (e);
            return -1;
        }
        zlistx_add_end (errors, e);
    }
    uint64_t *tasks = realloc (e->tasks, (e->count + 1) * sizeof *e->tasks);
    if (!tasks)
        return -1;
    e->tasks = tasks;
    e->tasks [e->count++] = task;
    for (size_t i = 0; i < e->engine_count; i++)
        if (e->engines [i] == engine)
            return 0;
    int64_t *engines = realloc (e->engines, (e->engine_count + 1) * sizeof *e->engines);
    if (!engines)
        return -1;
    e->engines = engines;
    e->engines [e->engine_count++] = engine;
    return 0;
}

//  Pack the list of errors, emptying it. 0, or -1 when out of memory.
static int
s_errors_pack (zlistx_t *errors, msgpack_packer *pk)
{
    int rc = msgpack_pack_array (pk, zlistx_size (errors));
    s_error_t *e;
    while ((e = zlistx_detach (errors, NULL))) {
        rc |= msgpack_pack_map (pk, 4);
        rc |= mc_proto_pack_str (pk, "error") | mc_proto_pack_str (pk, e->text);
        rc |= mc_proto_pack_str (pk, "count") | msgpack_pack_uint64 (pk, e->count);
        rc |= mc_proto_pack_str (pk, "engines") | msgpack_pack_array (pk, e->engine_count);
        for (size_t i = 0; i < e->engine_count; i++)
            rc |= msgpack_pack_int64 (pk, e->engines [i]);
        rc |= mc_proto_pack_str (pk, "tasks") | msgpack_pack_array (pk, e->count);
        for (size_t i = 0; i < e->count; i++)
            rc |= msgpack_pack_uint64 (pk, e->tasks [i]);
        s_error_destroy (&e);
    }
    return rc? -1: 0;
}

//  Pack the value of each item of task t of a transient job from its kept
//  RESULT, appending the arrays it refers to to frames; a task without a
//  good result packs nils and adds its error.
static void
s_pack_task_results (mc_job_t *job, uint64_t t, msgpack_packer *pk, zlist_t *frames, zlistx_t *errors,
                     msgpack_zone *zone)
{
    mc_task_t *task = mc_job_task (job, t);
    uint32_t items = mc_job_info (job)->kind [0] == 'm'? task->count: 1;
    zmsg_t *kept = mc_job_result (job, t);
    mc_msg_t result;
    mc_msg_init (&result);
    msgpack_object data;
    int code;
    zframe_t *header = kept? zmsg_first (kept): NULL;
    bool ok = header && mc_msg_decode (&result, zframe_data (header), zframe_size (header), &code) == 0
           && result.status == MC_OK
           && mc_proto_unpack (result.data.ptr, result.data.size, zone, &data) == 0
           && data.type == MSGPACK_OBJECT_ARRAY && data.via.array.size == items;
    size_t count = ok? zmsg_size (kept) - 1: 0;
    zframe_t **in = ok? calloc (count + 1, sizeof *in): NULL;
    if (in) {
        size_t n = 0;
        for (zframe_t *f = zmsg_next (kept); f; f = zmsg_next (kept))
            in [n++] = f;
        mc_repack_t how = { in, count, frames, false, NULL, NULL };
        for (uint32_t i = 0; i < items; i++)
            if (mc_proto_repack (pk, &data.via.array.ptr [i], &how))
                msgpack_pack_nil (pk);
        free (in);
        return;
    }
    for (uint32_t i = 0; i < items; i++)
        msgpack_pack_nil (pk);
    const char *text = ok? "controller out of memory"
                     : header && result.text.size? result.text.ptr: "no result";
    size_t len = !ok && header && result.text.size? result.text.size: strlen (text);
    if (s_error_add (errors, text, len, header? result.engine_id: task->target, t))
        mc_error ("out of memory: an error of job %llu is not listed", (unsigned long long) mc_job_info (job)->id);
}

//  Pack a transient job's result object, its arrays appended to frames.
//  0, or -1 when out of memory.
static int
s_pack_transient (mc_job_t *job, msgpack_packer *pk, zlist_t *frames, zlistx_t *errors)
{
    mc_job_info_t *info = mc_job_info (job);
    if (mc_job_info_pack (info, pk, 3) || mc_proto_pack_str (pk, "single") || msgpack_pack_false (pk)
    ||  mc_proto_pack_str (pk, "results") || msgpack_pack_array (pk, (uint32_t) info->total))
        return -1;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    for (uint64_t t = 0; t < info->tasks; t++)
        s_pack_task_results (job, t, pk, frames, errors, &zone);
    msgpack_zone_destroy (&zone);
    return mc_proto_pack_str (pk, "errors") || s_errors_pack (errors, pk)? -1: 0;
}

//  Answer the submitter of a finished transient job with its results, whose
//  arrays go out as frames of the reply (shared, never copied).
static void
s_reply_transient (mc_server_t *server, const mc_park_t *park, mc_job_t *job)
{
    zlist_t *frames = zlist_new ();
    zlistx_t *errors = zlistx_new ();
    if (errors)
        zlistx_set_destructor (errors, (zlistx_destructor_fn *) s_error_destroy);
    msgpack_packer pk = mc_server_body (server);
    mc_msg_t reply;
    mc_msg_init (&reply);
    reply.type = MC_REPLY;
    reply.req = park->req;
    reply.status = MC_OK;
    if (!frames || !errors || s_pack_transient (job, &pk, frames, errors)
    ||  (zlist_size (frames) && !(reply.frames = mc_proto_frame_array (frames, &reply.frame_count))))
        mc_answer_error (server, park->routing_id, park->req, MC_E_INTERNAL, "controller out of memory");
    else {
        reply.data.ptr = server->buffer.data;
        reply.data.size = server->buffer.size;
        if (mc_msg_send (&reply, zsock_resolve (server->client_sock), park->routing_id))
            mc_warn ("cannot send a reply of %zu frames", reply.frame_count);
    }
    free (reply.frames);
    zlist_destroy (&frames);
    zlistx_destroy (&errors);
    mc_held_sub (server->held, park->routing_id, mc_job_held_bytes (job), mc_time_mono_us ());
}

void
mc_answer_park (mc_server_t *server, const mc_park_t *park, mc_job_t *job, const mc_job_info_t *info,
                bool submitter)
{
    if (submitter && mc_job_transient (job) && park->kind == MC_PARK_RESULT)
        s_reply_transient (server, park, job);
    else
        mc_answer_job (server, park->routing_id, park->req, park->kind, info);
}

//  Answer everyone parked on a finished job, then forget the job.
static void
s_answer_parked (mc_server_t *self, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    mc_debug ("job %llu %s: %llu done, %llu failed", (unsigned long long) info->id,
              mc_job_info_state (info), (unsigned long long) info->done, (unsigned long long) info->failed);
    //  The first request parked on a transient job is its submit.
    mc_park_t *park;
    for (bool first = true; (park = mc_parked_take (self->parked, info->id)); first = false) {
        mc_answer_park (self, park, job, info, first);
        mc_park_destroy (&park);
    }
    uint64_t tasks = info->tasks;
    zhashx_delete (self->jobs, (void *) (uintptr_t) info->id);
    //  A large job's results passed through the heap (mc_proto_keep_frames_warm
    //  keeps large blocks off mmap): give the memory back now it is free.
    if (tasks >= 100000)
        mc_proto_trim ();
}

//  A finished job that the failing store could not take within
//  store_fail_ms: its results not committed become failures naming the
//  store (or, never committed itself, it is forgotten), everyone parked on
//  it is told, and it stays in memory, failed, until the store takes that.
static void
s_fail_unstored (mc_server_t *self, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    char text [800];
    snprintf (text, sizeof text, "results not stored: %s", mc_store_error (self->store));
    int forgotten = mc_store_fail_job (self->store, info, text);
    mc_error ("job %llu failed: %s (store_fail_ms=%lld)", (unsigned long long) info->id, text,
              (long long) self->config.store_fail_ms);
    mc_park_t *park;
    while ((park = mc_parked_take (self->parked, info->id))) {
        mc_answer_error (self, park->routing_id, park->req, MC_E_INTERNAL, "job j%llu failed: %s",
                         (unsigned long long) info->id, text);
        mc_park_destroy (&park);
    }
    if (forgotten == 1)
        zhashx_delete (self->jobs, (void *) (uintptr_t) info->id);
    else
        zlistx_add_end (self->store_failed, job);
}

void
mc_answer_finished (mc_server_t *self)
{
    mc_job_t *job;
    while ((job = zlistx_detach (self->finishing, NULL))) {
        if (!mc_job_transient (job) && mc_store_finish_job (self->store, mc_job_info (job)))
            mc_error ("cannot record job %llu: %s", (unsigned long long) mc_job_info (job)->id,
                      mc_store_error (self->store));
        zlistx_add_end (self->unstored, job);
    }
    if (zlistx_size (self->unstored) == 0 && zlistx_size (self->store_failed) == 0)
        return;
    //  A job is reported finished only once all it wrote is committed.
    if (mc_store_flush (self->store) == 0) {
        while ((job = zlistx_detach (self->store_failed, NULL)))
            zhashx_delete (self->jobs, (void *) (uintptr_t) mc_job_info (job)->id);
        while ((job = zlistx_detach (self->unstored, NULL)))
            s_answer_parked (self, job);
        return;
    }
    //  The store is failing (mc_store logs it): transient jobs do not need
    //  it; the others wait for it, up to store_fail_ms.
    int64_t since = mc_store_failing_since (self->store);
    bool late = since && mc_time_mono_us () - since >= self->config.store_fail_ms * 1000;
    for (job = zlistx_first (self->unstored); job; job = zlistx_next (self->unstored))
        if (mc_job_transient (job) || late) {
            zlistx_detach_cur (self->unstored);
            if (mc_job_transient (job))
                s_answer_parked (self, job);
            else
                s_fail_unstored (self, job);
        }
}

bool
mc_answer_stored (mc_server_t *self, mc_job_t *job)
{
    for (mc_job_t *j = zlistx_first (self->unstored); j; j = zlistx_next (self->unstored))
        if (j == job)
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Selftest: jobs finish, are committed and answered, over an inproc client
//  socket (mc_answer's replies included); no engines, no loop.

//  The next REPLY the test client gets: its status, and its body as JSON text.
static uint64_t
s_test_reply (zsock_t *client, uint64_t req, char *json, size_t len)
{
    mc_msg_t reply;
    mc_msg_init (&reply);
    int code;
    assert (mc_msg_recv (&reply, zsock_resolve (client), false, &code) == 0);
    assert (reply.type == MC_REPLY && reply.req == req);
    json [0] = 0;
    if (reply.status == MC_OK) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 1024);
        msgpack_object body;
        assert (mc_proto_unpack (reply.data.ptr, reply.data.size, &zone, &body) == 0);
        msgpack_object_print_buffer (json, len, body);
        msgpack_zone_destroy (&zone);
    }
    else
        mc_bytes_str (reply.text, json, len);
    uint64_t status = reply.status;
    mc_msg_reset (&reply);
    return status;
}

int
mc_answer_str_field (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body, const char *op,
                     const char *key, char *buf, size_t len)
{
    const msgpack_object *o = mc_proto_map_get (body, key);
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len || memchr (o->via.str.ptr, 0, o->via.str.size)) {
        mc_answer_error (server, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "%s: '%s' must be a string of at most %zu bytes",
                         op, key, len - 1);
        return -1;
    }
    memcpy (buf, o->via.str.ptr, o->via.str.size);
    buf [o->via.str.size] = 0;
    return 1;
}

int
mc_answer_job_field (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body, uint64_t *id)
{
    if (mc_job_id_from (mc_proto_map_get (body, "job"), id) == 0)
        return 0;
    mc_answer_error (server, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "'job' must be a job id like \"j12\"");
    return -1;
}

void
mc_answer_test (bool verbose)
{
    printf (" * mc_answer: ");
    char dir [] = "/tmp/mc_answer_test.XXXXXX", path [64], err [256], json [2048];
    assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/store.db", dir);
    mc_config_t config;
    mc_config_defaults (&config);
    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    server.store = mc_store_new (path, err, sizeof err);
    server.client_sock = zsock_new_router ("inproc://mc_answer_test");
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (server.store && server.client_sock && client);
    zsock_set_identity (client, "client");
    assert (zsock_connect (client, "inproc://mc_answer_test") == 0);
    zframe_t *rid = zframe_new ("client", 6);
    //  A stored apply job with one parked waiter for its result and one
    //  for its status; a task fails, the job finishes, both are answered
    //  after the job is committed.
    int code;
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[3]}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0);
    size_t size;
    const void *body = mc_job_body (job, &size);
    assert (mc_store_add_job (server.store, mc_job_info (job), body, size) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 1, job) == 0);
    assert (mc_server_job (&server, 1) == job && mc_server_job (&server, 2) == NULL && mc_server_job (&server, 0) == NULL);
    assert (mc_parked_add (server.parked, 1, rid, 10, MC_PARK_RESULT, 0) == 0);
    assert (mc_parked_add (server.parked, 1, rid, 11, MC_PARK_STATUS, 0) == 0);
    mc_answer_finished (&server);               //  nothing has finished
    assert (mc_parked_count (server.parked, 1) == 2);
    mc_server_fail_task (&server, mc_job_make_task (job), 4, MC_E_KERNEL_ERROR, "boom");
    mc_answer_finished (&server);
    assert (mc_server_job (&server, 1) == NULL && mc_parked_count (server.parked, 1) == 0);
    assert (s_test_reply (client, 10, json, sizeof json) == MC_OK);
    if (verbose)
        printf ("\n  %s\n", json);
    assert (strstr (json, "\"state\"=>\"failed\"") && strstr (json, "\"results\"=>[nil]")
         && strstr (json, "\"error\"=>\"boom\"") && strstr (json, "\"engines\"=>[4]"));
    assert (s_test_reply (client, 11, json, sizeof json) == MC_OK);
    assert (strstr (json, "\"failed\"=>1") && !strstr (json, "results"));
    //  Only in the store now: answered from there.
    mc_job_info_t info;
    assert (mc_store_job_info (server.store, 1, &info) == 0 && info.failed == 1 && info.finished_us > 0);
    mc_answer_job (&server, rid, 12, MC_PARK_META, &info);
    assert (s_test_reply (client, 12, json, sizeof json) == MC_OK && strstr (json, "\"meta\"=>[{"));
    mc_answer_error (&server, rid, 13, MC_E_UNKNOWN_JOB, "no job j%d", 9);
    assert (s_test_reply (client, 13, json, sizeof json) == MC_E_UNKNOWN_JOB && !strcmp (json, "no job j9"));
    //  A transient job: its submitter (the first parked) gets the results it
    //  holds, as frames, and its held bytes are given back; a second client
    //  parked on it gets the result object.
    job = mc_job_new_json (2, "{\"kind\":\"apply\",\"kernel\":\"%names\",\"targets\":[0],\"transient\":true}",
                           &code, err, sizeof err);
    int32_t target = 0;
    assert (job && mc_job_transient (job) && mc_job_plan (job, &target, 1) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 2, job) == 0);
    assert (mc_parked_add (server.parked, 2, rid, 20, MC_PARK_RESULT, 0) == 0);
    assert (mc_parked_add (server.parked, 2, rid, 21, MC_PARK_RESULT, 0) == 0);
    assert (mc_held_add (server.held, rid, 5, 0) == 0);
    mc_server_task_lost (&server, mc_job_task (job, 0));
    mc_answer_finished (&server);
    assert (s_test_reply (client, 20, json, sizeof json) == MC_OK);
    if (verbose)
        printf ("  %s\n", json);
    assert (strstr (json, "\"error\"=>\"engine 0 was lost before the task finished\"")
         && strstr (json, "\"single\"=>false"));
    assert (s_test_reply (client, 21, json, sizeof json) == MC_OK && strstr (json, "\"results\"=>["));
    assert (mc_held_bytes (server.held, rid) == 5);     //  the job held none of them
    zframe_destroy (&rid);
    zsock_destroy (&client);
    zsock_destroy (&server.client_sock);
    mc_store_destroy (&server.store);
    mc_server_fini (&server);
    const char *files [] = { "store.db", "store.db-wal", "store.db-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files [i]);
        unlink (path);
    }
    assert (rmdir (dir) == 0);
    printf ("OK\n");
}
