/*  mc_node: the engine's I/O thread as a small state machine.
    States: REGISTERING (REGISTER sent, no WELCOME yet) and READY.
    Events: WELCOME, PONG, TASK, STOP, CANCEL, ERROR, a RESULT from the
    kernel thread, the heartbeat timer, silence (which reconnects), and the
    end of an aborted task's grace (which restarts the engine). */
#include "mc_node.h"
#include "mc_handshake.h"
#include "mc_ktable.h"
#include "mc_log.h"
#include "mc_ops.h"
#include "mc_proto.h"
#include "mc_runner.h"
#include "mc_capture.h"
#include "mc_time.h"
#include "mc_kcall.h"
#include <czmq.h>
#include <unistd.h>

typedef enum { NODE_REGISTERING, NODE_READY } s_node_state_t;

struct _mc_node_t {
    char endpoint [256];
    mc_conn_t conn;                 //  the keys for it (zeroed: none)
    char origin [4200];             //  where they came from, for messages
    mc_handshake_t *handshake;      //  the DEALER's handshakes (NULL if no monitor could be made)
    mc_handshake_state_t told;      //  OK, or the handshake failure warned about since the last success
    mc_config_t config;
    char uuid [33];
    char host [256];
    char launch [64];               //  the allocation that started it, or ""
    zsock_t *dealer;
    zactor_t *runner;
    mc_runner_state_t runner_state;
    s_node_state_t state;
    int64_t engine_id;              //  -1 until the first WELCOME
    int64_t heartbeat_us;
    int64_t liveness;
    int64_t last_heard_us;          //  last message from the controller (monotonic)
    int64_t next_ping_us;
    int64_t registered_us;          //  when REGISTER was last sent
    unsigned unwelcomed;            //  connections in a row that got no WELCOME
    int64_t silence_us;             //  silence after which this connection is given up
    bool ever_welcomed;
    int64_t alive_us;               //  when the controller last said anything
    int64_t last_task_us;           //  when the last task came (monotonic); 0 once memory is trimmed
    zhashx_t *streaming;            //  "job/task" of the tasks whose results go out streamed
    uint64_t stopping_job;          //  job id + 1 of an aborted job whose task runs on (0: none)
    int64_t restart_at_us;          //  when the engine restarts if that task still runs (monotonic)
    char *credential;               //  the connection text the engine came with in its environment, or NULL
};

//  The environment variable through which a restarted engine keeps its
//  uuid and id ("uuid:id"): the controller then takes it back as the same
//  engine, and direct targets stay valid.
#define S_RESTART_ENV "MCCLUSTER_ENGINE_RESTART"

//  A namespace operation whose result may be streamed (the table's
//  may_stream), asked to be: {"stream": true}.
static bool
s_wants_stream (const mc_msg_t *task)
{
    const mc_nsop_t *op = mc_nsop_find (task->kernel.ptr, task->kernel.size);
    if (!op || !op->may_stream || task->kwargs.size == 0)
        return false;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 256);
    msgpack_object kwargs;
    const msgpack_object *stream = mc_proto_unpack (task->kwargs.ptr, task->kwargs.size, &zone, &kwargs) == 0?
                                   mc_proto_map_get (&kwargs, "stream"): NULL;
    bool yes = stream && stream->type == MSGPACK_OBJECT_BOOLEAN && stream->via.boolean;
    msgpack_zone_destroy (&zone);
    return yes;
}

static void
s_task_key (char *key, size_t len, uint64_t job, uint64_t task)
{
    snprintf (key, len, "%llu/%llu", (unsigned long long) job, (unsigned long long) task);
}

//  A RESULT from the kernel thread, sent on as it is, or with its large
//  arrays streamed ahead when its task asked for that.
static void
s_send_result (mc_node_t *self, zmsg_t **result_p)
{
    if (zhashx_size (self->streaming) == 0) {
        zmsg_send (result_p, self->dealer);
        return;
    }
    mc_msg_t result;
    mc_msg_init (&result);
    int code;
    char key [48] = "";
    if (mc_msg_take (&result, result_p, false, &code) == 0 && result.type == MC_RESULT)
        s_task_key (key, sizeof key, result.job, result.task);
    if (key [0] && zhashx_lookup (self->streaming, key)) {
        zhashx_delete (self->streaming, key);
        if (mc_msg_send_streamed (&result, zsock_resolve (self->dealer), MC_PROTO_CHUNK))
            mc_warn ("cannot send the result of job %llu", (unsigned long long) result.job);
    }
    else
        zmsg_send (&result.zmsg, self->dealer);
    mc_msg_reset (&result);
}

//  Send the results gathered in batch, and empty it.
static void
s_send_batch (mc_node_t *self, msgpack_sbuffer *batch, size_t *count)
{
    if (mc_batch_send (batch, *count, zsock_resolve (self->dealer), NULL))
        mc_warn ("cannot send %zu results", *count);
    msgpack_sbuffer_clear (batch);
    *count = 0;
}

//  The results the kernel thread has ready, as it encoded them, in order:
//  those without array frames together as one BATCH (mc_proto.md §3), so
//  that tiny tasks cost the controller one message per burst, not per task.
static void
s_send_results (mc_node_t *self)
{
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    size_t count = 0;
    for (int n = 0; n < 256 && (zsock_events (self->runner) & ZMQ_POLLIN); n++) {
        //  Most results are their header alone: it is read as one frame,
        //  without a zmsg around it; the others are gathered whole.
        zframe_t *header = zframe_recv (self->runner);
        if (!header)
            break;
        bool more = zframe_more (header);
        if (!more && zhashx_size (self->streaming) == 0
        &&  mc_batch_append_header (&batch, zframe_data (header), zframe_size (header)) == 0) {
            zframe_destroy (&header);
            count++;
        }
        else {
            zmsg_t *result = zmsg_new ();
            zmsg_append (result, &header);
            while (more) {
                zframe_t *frame = zframe_recv (self->runner);
                if (!frame)
                    break;
                more = zframe_more (frame);
                zmsg_append (result, &frame);
            }
            s_send_batch (self, &batch, &count);       //  what came before it goes first
            s_send_result (self, &result);
        }
        if (batch.size >= (256u << 10))
            s_send_batch (self, &batch, &count);
    }
    s_send_batch (self, &batch, &count);
    msgpack_sbuffer_destroy (&batch);
}

static void
s_send (mc_node_t *self, mc_msg_t *msg)
{
    if (mc_msg_send (msg, zsock_resolve (self->dealer), NULL))
        mc_warn ("cannot send %s", mc_msg_type_name (msg->type));
}

static void
s_register (mc_node_t *self)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REGISTER;
    msg.uuid.ptr = self->uuid;
    msg.uuid.size = strlen (self->uuid);
    msg.engine_id = self->engine_id;
    msg.host.ptr = self->host;
    msg.host.size = strlen (self->host);
    msg.launch.ptr = self->launch;
    msg.launch.size = strlen (self->launch);
    msg.pid = getpid ();
    //  The kernel thread may change the table between two tasks (a library
    //  a client added): read it under its lock. The names stay valid after
    //  (a library is never unmapped).
    mc_ktable_lock ();
    msg.kernel_count = mc_ktable_count ();
    for (size_t i = 0; i < msg.kernel_count; i++) {
        msg.kernels [i].ptr = mc_ktable_at (i)->name;
        msg.kernels [i].size = strlen (mc_ktable_at (i)->name);
    }
    //  What `mcclient kernels` shows: name, doc, typed arguments, origin, version.
    msgpack_sbuffer info;
    msgpack_sbuffer_init (&info);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &info, msgpack_sbuffer_write);
    mc_ktable_pack_info (&pk);
    mc_ktable_unlock ();
    msg.kernel_info.ptr = info.data;
    msg.kernel_info.size = info.size;
    s_send (self, &msg);
    msgpack_sbuffer_destroy (&info);
    self->state = NODE_REGISTERING;
    self->registered_us = mc_time_mono_us ();
}

//  A new DEALER to the controller, and REGISTER on it: 0, or -1 when
//  ZeroMQ has no socket to give.
static int
s_connect (mc_node_t *self)
{
    mc_handshake_destroy (&self->handshake);
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer) {
        mc_error ("cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_set_maxmsgsize (self->dealer, (int) (self->config.max_msg_bytes > INT32_MAX? INT32_MAX
                                                                                    : self->config.max_msg_bytes));
    zsock_set_sndhwm (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);
    zsock_set_linger (self->dealer, 200);
    zsock_set_reconnect_ivl (self->dealer, 100);
    zsock_set_reconnect_ivl_max (self->dealer, 1000);
    //  Sends never wait on a connection, or on one being retried; one that
    //  libzmq gave up for good (a failed handshake) would make them wait
    //  for ever. What is lost then is sent again after the reconnection
    //  that silence brings.
    zsock_set_sndtimeo (self->dealer, 1000);
    mc_conn_apply (&self->conn, self->endpoint, self->dealer);
    //  For the node's life: a refusal must stop us, not leave us retrying.
    self->handshake = mc_handshake_new (self->dealer);
    if (!self->handshake)
        mc_warn ("cannot watch the connection's handshakes: %s", zmq_strerror (zmq_errno ()));
    if (zsock_connect (self->dealer, "%s", self->endpoint))
        mc_error ("cannot connect to %s", self->endpoint);
    self->last_heard_us = mc_time_mono_us ();
    //  Waiting for a WELCOME: liveness intervals, doubled for each
    //  connection in a row that got none (up to a minute), and up to half
    //  again at random, so that thousands of engines a busy controller
    //  could not answer in time do not all come back at once (§4).
    int64_t wait_us = self->heartbeat_us * self->liveness;
    for (unsigned i = 0; i < self->unwelcomed && wait_us < 60000000; i++)
        wait_us *= 2;
    if (wait_us > 60000000)
        wait_us = 60000000;
    self->silence_us = wait_us + (int64_t) (random () % (wait_us / 2 + 1));
    self->unwelcomed++;
    s_register (self);
    return 0;
}

mc_node_t *
mc_node_new (const char *endpoint, const mc_conn_t *conn, const char *origin, const mc_config_t *config)
{
    mc_node_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (conn)
        self->conn = *conn;
    snprintf (self->origin, sizeof self->origin, "%s", origin? origin: "--url");
    self->told = MC_HANDSHAKE_OK;
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->config = *config;
    srandom ((unsigned) getpid () ^ (unsigned) mc_time_mono_us ());
    zuuid_t *uuid = zuuid_new ();
    snprintf (self->uuid, sizeof self->uuid, "%s", zuuid_str_canonical (uuid));
    //  Canonical form has dashes; keep 32 hex digits.
    char *w = self->uuid;
    for (const char *r = zuuid_str_canonical (uuid); *r && w < self->uuid + 32; r++)
        if (*r != '-')
            *w++ = *r;
    *w = 0;
    zuuid_destroy (&uuid);
    if (gethostname (self->host, sizeof self->host))
        strcpy (self->host, "unknown");
    self->host [sizeof self->host - 1] = 0;
    self->engine_id = -1;
    //  Restarted by itself (s_restart): the same engine again.
    const char *restart = getenv (S_RESTART_ENV);
    char *colon = restart? strchr (restart, ':'): NULL;
    if (colon && colon - restart == 32) {
        memcpy (self->uuid, restart, 32);
        self->uuid [32] = 0;
        self->engine_id = strtoll (colon + 1, NULL, 10);
    }
    unsetenv (S_RESTART_ENV);
    self->heartbeat_us = config->heartbeat_ms * 1000;
    self->liveness = config->heartbeat_liveness;
    atomic_store (&self->runner_state.engine_id, -1);
    self->runner = mc_runner_new (&self->runner_state);
    if (!self->runner) {
        free (self);
        return NULL;
    }
    self->streaming = zhashx_new ();
    return self;
}

void
mc_node_destroy (mc_node_t **self_p)
{
    mc_node_t *self = *self_p;
    if (!self)
        return;
    mc_runner_stop (&self->runner_state);
    //  A kernel that ignores cancellation could hold us forever: give it a
    //  moment, then leave without joining its thread.
    int64_t deadline = mc_time_mono_us () + 2000000;
    while (atomic_load (&self->runner_state.busy) && mc_time_mono_us () < deadline)
        usleep (5000);
    if (atomic_load (&self->runner_state.busy)) {
        mc_warn ("a kernel is still running after 2 s: exiting without waiting for it");
        mc_handshake_destroy (&self->handshake);
        zsock_destroy (&self->dealer);
        _exit (0);
    }
    zactor_destroy (&self->runner);
    mc_handshake_destroy (&self->handshake);
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->streaming);
    free (self->credential);
    free (self);
    *self_p = NULL;
}

void
mc_node_keep_credential (mc_node_t *self, const char *text)
{
    free (self->credential);
    self->credential = text? strdup (text): NULL;
}

//  A kernel that ignores its cancel flag holds the kernel thread for good,
//  and a thread cannot be killed alone: the engine runs itself again. The
//  process stays (same pid), so no launcher, batch system or parent sees
//  it die; it keeps its uuid and id, and the controller takes it back as
//  the same engine. Its namespace is lost. Returns only when exec failed.
static void
s_restart (mc_node_t *self)
{
    mc_warn ("the kernel of aborted job %llu ignored its cancel flag: restarting this engine (its namespace is lost)",
             (unsigned long long) (self->stopping_job - 1));
    char args [65536];
    FILE *file = fopen ("/proc/self/cmdline", "r");
    size_t size = file? fread (args, 1, sizeof args - 1, file): 0;
    if (file)
        fclose (file);
    char *argv [256];
    size_t argc = 0;
    args [size] = 0;
    for (size_t at = 0; at < size && argc < 255; at += strlen (args + at) + 1)
        argv [argc++] = args + at;
    argv [argc] = NULL;
    char restart [64];
    snprintf (restart, sizeof restart, "%s:%lld", self->uuid, (long long) self->engine_id);
    //  What main took from the environment goes back there for the new image.
    if (argc == 0 || size == sizeof args - 1 || setenv (S_RESTART_ENV, restart, 1)
    ||  (self->credential && setenv (mc_conn_env_name (MC_ROLE_ENGINE), self->credential, 1))
    ||  (self->launch [0] && setenv ("MCCLUSTER_LAUNCH", self->launch, 1))) {
        mc_error ("cannot restart: no command line or environment to restart with");
        return;
    }
    fflush (NULL);
    mc_capture_stop ();             //  the new image starts with the engine's own stdout and stderr
    //  ZeroMQ's descriptors are close-on-exec: the old connection closes.
    execv ("/proc/self/exe", argv);
    mc_error ("cannot restart: %s", strerror (errno));
}

//  A TASK on its way to the kernel thread: note whether its result is to
//  go out streamed.
static void
s_note_task (mc_node_t *self, const mc_msg_t *task)
{
    if (s_wants_stream (task)) {
        char key [48];
        s_task_key (key, sizeof key, task->job, task->task);
        zhashx_insert (self->streaming, key, (void *) 1);
    }
}

//  A BATCH of TASKs alone, every one of them well-formed (mc_batch_next
//  checks each as mc_msg_recv would), goes to the kernel thread whole, as
//  one message, instead of a message made for each task: true when it went.
//  Any other batch (another message in it, or one malformed, or none) is
//  for the caller to take apart (checking its messages again: rare).
static bool
s_pass_batch (mc_node_t *self, mc_msg_t *msg)
{
    size_t offset = 0, tasks = 0;
    mc_msg_t task;
    int code, got;
    while ((got = mc_batch_next (msg, &offset, &task, &code)) == 1 && task.type == MC_TASK)
        tasks++;
    if (got != 0 || tasks == 0 || !msg->zmsg)
        return false;
    //  Checked above: each header is only read again for what it asks here.
    for (offset = 0; mc_batch_next_checked (msg, &offset, &task, &code) == 1; )
        s_note_task (self, &task);
    zmsg_t *batch = msg->zmsg;
    msg->zmsg = NULL;
    if (zmsg_send (&batch, self->runner)) {
        mc_error ("out of memory: a batch of tasks is lost");
        zmsg_destroy (&batch);
    }
    self->last_task_us = mc_time_mono_us ();
    return true;
}

//  A message from the controller. Returns -1 when told to stop.
static int
s_on_controller (mc_node_t *self, mc_msg_t *msg)
{
    switch (msg->type) {
        case MC_WELCOME:
            if (self->engine_id >= 0 && msg->engine_id != self->engine_id)
                mc_warn ("controller gave id %lld instead of %lld", (long long) msg->engine_id,
                         (long long) self->engine_id);
            if (msg->heartbeat_ms >= 10 && msg->heartbeat_ms <= 3600000)
                self->heartbeat_us = (int64_t) msg->heartbeat_ms * 1000;
            if (msg->liveness >= 1 && msg->liveness <= 1000)
                self->liveness = (int64_t) msg->liveness;
            self->next_ping_us = mc_time_mono_us () + self->heartbeat_us;
            //  Again on a live session: a new heartbeat interval (§4).
            if (self->state == NODE_READY && msg->engine_id == self->engine_id)
                mc_info ("heartbeat every %lld ms now", (long long) (self->heartbeat_us / 1000));
            else
                mc_info ("registered as engine %lld", (long long) msg->engine_id);
            self->engine_id = msg->engine_id;
            atomic_store (&self->runner_state.engine_id, msg->engine_id);
            self->state = NODE_READY;
            self->ever_welcomed = true;
            self->unwelcomed = 0;
            self->silence_us = self->heartbeat_us * self->liveness;
            break;
        case MC_PONG:
            break;
        case MC_LIBRARY:
        case MC_UNLOAD:
            //  In order with the TASKs: the kernel thread loads it between two.
        case MC_TASK: {
            //  Hand the message as it is, frames and all, to the kernel thread.
            //  This thread is where the controller's bytes are checked
            //  (mc_msg_recv, mc_batch_next scan every bin field and array
            //  reference); the kernel thread trusts what comes from here and
            //  does not scan it again (mc_msg_take_checked).
            s_note_task (self, msg);
            zmsg_t *task = msg->zmsg;
            msg->zmsg = NULL;
            if (!task && (task = zmsg_new ()) && zmsg_addmem (task, msg->raw.ptr, msg->raw.size))
                zmsg_destroy (&task);       //  (one of a BATCH: its header alone)
            if (!task || zmsg_send (&task, self->runner)) {
                mc_error ("out of memory: task %llu of job %llu is lost", (unsigned long long) msg->task,
                          (unsigned long long) msg->job);
                zmsg_destroy (&task);
            }
            self->last_task_us = mc_time_mono_us ();
            break;
        }
        case MC_BATCH: {
            if (s_pass_batch (self, msg))
                break;
            //  Each message in it as if it had come alone.
            size_t offset = 0;
            mc_msg_t inner;
            int code, got;
            while ((got = mc_batch_next (msg, &offset, &inner, &code)) == 1) {
                int rc = s_on_controller (self, &inner);
                mc_msg_reset (&inner);
                if (rc)
                    return rc;
            }
            if (got == -2)
                mc_warn ("malformed BATCH from the controller (%s)", mc_proto_error_name (code));
            break;
        }
        case MC_STOP:
            mc_info ("controller says stop");
            return -1;
        case MC_CANCEL:
            //  The kernel of the job's running task should return at its
            //  cancel flag; if it has not within grace_ms, the engine restarts.
            if (mc_runner_cancel_job (&self->runner_state, msg->job) && !self->stopping_job) {
                self->stopping_job = msg->job + 1;
                self->restart_at_us = mc_time_mono_us ()
                                    + (int64_t) (msg->grace_ms < 86400000? msg->grace_ms: 86400000) * 1000;
                mc_info ("job %llu aborted: its running task has %llu ms to return",
                         (unsigned long long) msg->job, (unsigned long long) msg->grace_ms);
            }
            break;
        case MC_ERROR:
            if (msg->status == MC_E_NOT_REGISTERED) {
                //  Many stale messages may each earn this answer: one
                //  REGISTER per heartbeat interval is enough.
                if (self->state != NODE_REGISTERING
                ||  mc_time_mono_us () - self->registered_us > self->heartbeat_us)
                    s_register (self);
            }
            else {
                char text [256];
                mc_warn ("controller error %s: %s", mc_proto_error_name (msg->status),
                         mc_bytes_str (msg->text, text, sizeof text));
            }
            break;
        default:
            mc_warn ("unexpected %s from the controller", mc_msg_type_name (msg->type));
    }
    return 0;
}

//  News of the handshake: -3 when the controller refused our credentials
//  (a retry would be refused too), else 0. Other failures are told once
//  until a handshake succeeds, and the DEALER (or the reconnection after
//  silence) tries again.
static int
s_on_handshake (mc_node_t *self)
{
    mc_handshake_state_t state = mc_handshake_poll (self->handshake);
    if (state == MC_HANDSHAKE_REFUSED)
        return -3;
    if (state == MC_HANDSHAKE_OK)
        self->told = MC_HANDSHAKE_OK;
    else
    if ((state == MC_HANDSHAKE_MISMATCH || state == MC_HANDSHAKE_FAILED) && self->told == MC_HANDSHAKE_OK) {
        self->told = state;
        //  A mismatch may look like a hang-up: the greeting tells.
        bool curve = mc_conn_uses_curve (&self->conn, self->endpoint);
        if (state == MC_HANDSHAKE_FAILED)
            state = mc_handshake_diagnose (self->endpoint, curve);
        if (state == MC_HANDSHAKE_MISMATCH)
            mc_warn ("security mismatch with the controller at %s: %s says %s; retrying",
                     self->endpoint, self->origin, self->conn.secure? "curve": "none");
        else
        if (curve)
            mc_warn ("handshake with %s failed: the server_key in %s does not match this controller "
                     "(a stale file?); retrying", self->endpoint, self->origin);
        else
            mc_warn ("handshake with %s failed: the controller hung up; retrying", self->endpoint);
    }
    return 0;
}

//  Put the current DEALER and its monitor in the poller.
static void
s_poll_connection (mc_node_t *self, zpoller_t *poller)
{
    zpoller_add (poller, self->dealer);
    if (self->handshake)
        zpoller_add (poller, mc_handshake_socket (self->handshake));
}

void
mc_node_set_launch (mc_node_t *self, const char *launch, const char *host)
{
    snprintf (self->launch, sizeof self->launch, "%s", launch? launch: "");
    if (host && *host)
        snprintf (self->host, sizeof self->host, "%s", host);
}

int
mc_node_run (mc_node_t *self, int64_t give_up_ms)
{
    if (s_connect (self))
        return -1;
    int64_t started = mc_time_mono_us ();
    zpoller_t *poller = zpoller_new (self->runner, NULL);
    s_poll_connection (self, poller);
    mc_msg_t msg;
    mc_msg_init (&msg);
    int rc = 0;
    while (!zsys_interrupted) {
        int64_t now = mc_time_mono_us ();
        int64_t wait_us = (self->state == NODE_READY? self->next_ping_us: self->last_heard_us + self->heartbeat_us) - now;
        if (self->stopping_job && self->restart_at_us - now < wait_us)
            wait_us = self->restart_at_us - now;
        void *which = zpoller_wait (poller, wait_us > 0? (int) (wait_us / 1000) + 1: 0);
        if (zpoller_terminated (poller))
            break;
        now = mc_time_mono_us ();
        if (which == self->dealer) {
            for (int n = 0; n < 256 && (zsock_events (self->dealer) & ZMQ_POLLIN); n++) {
                int code;
                int got = mc_msg_recv (&msg, zsock_resolve (self->dealer), false, &code);
                if (got == -1)
                    break;
                self->last_heard_us = self->alive_us = now;
                if (got == -2)
                    mc_warn ("malformed message from the controller (%s)", mc_proto_error_name (code));
                else
                if (s_on_controller (self, &msg)) {
                    rc = 1;
                    break;
                }
            }
            if (rc)
                break;
        }
        else
        if (self->handshake && which == mc_handshake_socket (self->handshake)) {
            if (s_on_handshake (self)) {
                rc = -3;
                break;
            }
        }
        else
        if (which == self->runner)
            s_send_results (self);
        //  An aborted job's task that outlived its grace: restart.
        if (self->stopping_job && !mc_runner_running (&self->runner_state, self->stopping_job - 1))
            self->stopping_job = 0;
        if (self->stopping_job && now >= self->restart_at_us) {
            s_restart (self);
            rc = -1;
            break;
        }
        //  Heartbeat, and reconnect after too long a silence.
        if (now - self->last_heard_us > (self->state == NODE_READY? self->heartbeat_us * self->liveness: self->silence_us)) {
            //  Before the first WELCOME, and after a controller's death.
            int64_t since = self->ever_welcomed? self->alive_us: started;
            if (give_up_ms > 0 && now - since > give_up_ms * 1000) {
                mc_error ("no answer from %s for %lld ms: giving up", self->endpoint, (long long) give_up_ms);
                rc = -1;
                break;
            }
            mc_warn ("controller silent for %lld ms: reconnecting to %s",
                     (long long) ((now - self->last_heard_us) / 1000), self->endpoint);
            zpoller_remove (poller, self->dealer);
            if (self->handshake)
                zpoller_remove (poller, mc_handshake_socket (self->handshake));
            if (s_connect (self)) {
                rc = -1;
                break;
            }
            s_poll_connection (self, poller);
        }
        else
        if (self->state == NODE_READY && now >= self->next_ping_us) {
            //  Freed array frames stay in the heap for the next task; after
            //  a quiet second they go back to the system.
            if (self->last_task_us && now - self->last_task_us > 1000000 && !atomic_load (&self->runner_state.busy)) {
                mc_proto_trim ();
                self->last_task_us = 0;
            }
            //  A kernel that prints without end costs no more memory than this.
            mc_capture_trim ();
            mc_msg_t ping;
            mc_msg_init (&ping);
            ping.type = MC_PING;
            ping.engine_id = self->engine_id;
            s_send (self, &ping);
            self->next_ping_us = now + self->heartbeat_us;
        }
    }
    mc_msg_reset (&msg);
    zpoller_destroy (&poller);
    if (self->engine_id >= 0 && self->dealer && rc != -3) {
        mc_msg_t bye;
        mc_msg_init (&bye);
        bye.type = MC_BYE;
        bye.engine_id = self->engine_id;
        s_send (self, &bye);
    }
    return rc == -3? -3: rc < 0? -1: 0;
}

//  --------------------------------------------------------------------------
//  Selftest: which tasks have their results streamed.

//  A TASK of this kernel with kwargs from JSON text (packed into sb).
static mc_msg_t
s_test_task (const char *kernel, const char *kwargs, msgpack_sbuffer *sb)
{
    mc_msg_t task;
    mc_msg_init (&task);
    task.type = MC_TASK;
    task.kernel.ptr = kernel;
    task.kernel.size = strlen (kernel);
    msgpack_sbuffer_clear (sb);
    if (kwargs) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 256);
        mc_kcall_test_value (kwargs, sb, &zone);
        msgpack_zone_destroy (&zone);
        task.kwargs.ptr = sb->data;
        task.kwargs.size = sb->size;
    }
    return task;
}

void
mc_node_test (bool verbose)
{
    printf (" * mc_node: ");
    if (verbose)
        printf ("\n");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    for (int code = MC_NSOP_NONE + 1; code < MC_NSOP_COUNT; code++) {
        const mc_nsop_t *op = mc_nsop_get ((mc_nsop_code_t) code);
        mc_msg_t task = s_test_task (op->name, "{\"stream\": true}", &sb);
        assert (s_wants_stream (&task) == op->may_stream);
        task = s_test_task (op->name, "{\"stream\": false}", &sb);
        assert (!s_wants_stream (&task));
        task = s_test_task (op->name, NULL, &sb);
        assert (!s_wants_stream (&task));
        if (verbose)
            printf ("  %s streams when asked: %s\n", op->name, op->may_stream? "yes": "no");
    }
    mc_msg_t task = s_test_task ("echo", "{\"stream\": true}", &sb);
    assert (!s_wants_stream (&task));
    task = s_test_task (mc_nsop_name (MC_NSOP_PULL), "{\"stream\": 1}", &sb);
    assert (!s_wants_stream (&task));
    //  Garbage in kwargs is no request to stream.
    task = s_test_task (mc_nsop_name (MC_NSOP_PULL), NULL, &sb);
    task.kwargs.ptr = "\xC1";
    task.kwargs.size = 1;
    assert (!s_wants_stream (&task));
    char key [48];
    s_task_key (key, sizeof key, 12, 3);
    assert (!strcmp (key, "12/3"));
    msgpack_sbuffer_destroy (&sb);
    printf ("OK\n");
}
