/*  libmcclient: requests and replies over a DEALER socket, JSON <-> msgpack;
    the job operations (submit, status, wait, result). The functions on
    engine namespaces are in mc_client_namespace.c. */
#include "mc_client_int.h"
#include "mc_conn.h"
#include "mc_handshake.h"
#include "mc_ops.h"
#include "mc_proto.h"
#include "mc_time.h"
#include "mc_value.h"
#include <czmq.h>
#include <stdatomic.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

//  How long a wait for a reply polls before it sleeps (see s_spin).
#define MC_CLIENT_SPIN_US 500
//  A reply this late past what the controller was asked to wait for is
//  taken as lost with a controller that died: the request goes again.
#define MC_CLIENT_LOST_MS 3000
//  A wait without a deadline pings the controller after this much silence
//  (ms), and gives up when the ping is not answered within the connect
//  timeout or MC_CLIENT_PROBE_MIN_MS, whichever is longer: a reply that
//  will never come (a controller gone, or restarted without our request)
//  must not hang the client.
#define MC_CLIENT_PROBE_MS 5000
#define MC_CLIENT_PROBE_MIN_MS 10000

struct _mc_client_t {
    zsock_t *dealer;
    bool local;                     //  the controller runs on this host
    char profile [4096];
    mc_conn_t conn;
    char origin [4200];             //  where conn came from: a path or $MCCLUSTER_CLIENT
    char endpoint [256];            //  the one connected to
    mc_handshake_t *handshake;      //  the DEALER's handshakes: read while waiting, never per request
    bool watching;                  //  poll it with the DEALER (the first ping only)
    uint64_t next_req;
    int errcode;
    char error [1024];
    mc_packbuf_t buffer;            //  the request body being packed
    int64_t max_value_bytes;        //  the controller's limit, from its ping reply
    int64_t controller_pid;         //  from its first ping reply; 0 until then
    int connect_ms;                 //  the connect timeout, ms
    mc_msg_t reply;                 //  the last reply (its fields point into its frames)
    int spin_us;                    //  poll this long for a reply before sleeping
    atomic_size_t unsettled;        //  slices ZeroMQ may still read from
    bool keep_arrays;               //  replies give typed arrays as {"$array": K} (mc_client_keep_arrays)
    mc_array_t *kept;               //  the last reply's arrays, their data malloc'd (NULL once taken)
    size_t kept_count, kept_max;
};

void
mc_client_set_error (mc_client_t *self, int code, const char *fmt, ...)
{
    self->errcode = code;
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
}

mc_client_t *
mc_client_new (const char *profile_dir, int timeout_ms, char *err, size_t errlen)
{
    mc_client_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    msgpack_sbuffer_init (&self->buffer.sb);
    mc_msg_init (&self->reply);
    self->next_req = 1;
    const char *spin = getenv ("MCCLUSTER_SPIN_US");
    mc_client_set_spin (self, spin && *spin? atoi (spin): MC_CLIENT_SPIN_US);
    mc_conn_profile_dir (profile_dir, self->profile, sizeof self->profile);
    char *path = self->origin;
    if (mc_conn_load (MC_ROLE_CLIENT, NULL, self->profile, &self->conn, path, sizeof self->origin, err, errlen)) {
        mc_client_destroy (&self);
        return NULL;
    }
    //  On the controller's own host a dead pid tells at once what a timeout
    //  would tell after seconds.
    char host [256] = "";
    gethostname (host, sizeof host);
    self->local = self->conn.pid > 0 && !strcmp (host, self->conn.host);
    if (self->local && kill ((pid_t) self->conn.pid, 0) && errno == ESRCH) {
        snprintf (err, errlen, "no controller running for profile %s (pid %lld in %s has exited)",
                  self->profile, (long long) self->conn.pid, path);
        mc_client_destroy (&self);
        return NULL;
    }
    zsys_init ();
    zsys_handler_set (NULL);            //  a library must not take over the signals
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer) {
        snprintf (err, errlen, "cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        mc_client_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->dealer, 0);
    //  Sends never wait while there is a connection (no high-water mark)
    //  or one being retried; only after libzmq gave it up for good (a
    //  refused handshake) would they wait for ever.
    zsock_set_sndtimeo (self->dealer, 1000);
    zsock_set_sndhwm (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);
    const char *endpoint = mc_conn_endpoint (&self->conn);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    mc_conn_apply (&self->conn, endpoint, self->dealer);
    //  A refused handshake leaves a DEALER retrying in silence: the monitor
    //  is how we learn why, and say so instead of timing out.
    self->handshake = mc_handshake_new (self->dealer);
    if (!self->handshake) {
        snprintf (err, errlen, "cannot watch the connection: %s", zmq_strerror (zmq_errno ()));
        mc_client_destroy (&self);
        return NULL;
    }
    self->watching = true;
    if (zsock_connect (self->dealer, "%s", endpoint)) {
        snprintf (err, errlen, "cannot connect to %s (profile %s)", endpoint, self->profile);
        mc_client_destroy (&self);
        return NULL;
    }
    if (timeout_ms <= 0)
        timeout_ms = 3000;
    self->connect_ms = timeout_ms;
    json_t *pong = mc_client_call (self, mc_op_name (MC_OP_PING), NULL, timeout_ms);
    //  From now on the monitor is read only when a wait finds no reply.
    self->watching = false;
    if (!pong) {
        if (self->errcode == -1)
            snprintf (err, errlen, "no controller answers at %s within %d ms (profile %s)",
                      endpoint, timeout_ms, self->profile);
        else
            snprintf (err, errlen, "%s", self->error);
        mc_client_destroy (&self);
        return NULL;
    }
    self->max_value_bytes = json_integer_value (json_object_get (pong, "max_value_bytes"));
    if (self->max_value_bytes <= 0)
        self->max_value_bytes = 1LL << 30;
    self->controller_pid = json_integer_value (json_object_get (pong, "pid"));
    json_decref (pong);
    return self;
}

//  Free the arrays of the last reply that were not taken.
static void
s_kept_clear (mc_client_t *self)
{
    for (size_t k = 0; k < self->kept_count; k++)
        free ((void *) self->kept [k].data);
    self->kept_count = 0;
}

void
mc_client_destroy (mc_client_t **self_p)
{
    mc_client_t *self = *self_p;
    if (!self)
        return;
    //  Closed first (linger 0): what is still queued for a controller that
    //  is gone is dropped, and lets go of its slices, so the settling that
    //  follows cannot wait for ever.
    mc_handshake_destroy (&self->handshake);
    zsock_destroy (&self->dealer);
    mc_client_settle (self);
    s_kept_clear (self);
    free (self->kept);
    msgpack_sbuffer_destroy (&self->buffer.sb);
    mc_msg_reset (&self->reply);
    free (self);
    *self_p = NULL;
}

//  ZeroMQ calls this from its I/O thread once it no longer needs the
//  bytes of a slice sent without copying.
static void
s_slice_released (void *data, void *hint)
{
    (void) data;
    atomic_fetch_sub ((atomic_size_t *) hint, 1);
}

static bool s_handshake_failed (mc_client_t *self);

uint64_t
mc_client_send (mc_client_t *self, const char *op, const void *body, size_t size,
                const mc_slice_t *slices, size_t count)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REQUEST;
    msg.req = self->next_req++;
    msg.op.ptr = op;
    msg.op.size = strlen (op);
    msg.data.ptr = body;
    msg.data.size = size;
    zframe_t *header = mc_msg_encode (&msg);
    void *sock = zsock_resolve (self->dealer);
    if (!header || zframe_send (&header, sock, count? ZFRAME_MORE: 0)) {
        bool closed = header && zmq_errno () == EAGAIN;
        zframe_destroy (&header);
        if (!closed)
            mc_client_set_error (self, MC_E_INTERNAL, "cannot send the request");
        else
        if (!s_handshake_failed (self))
            mc_client_set_error (self, MC_E_DENIED, "cannot send the request: the controller at %s closed the "
                                 "connection (connection file %s)", self->endpoint, self->origin);
        return 0;
    }
    //  Array data goes out from the caller's memory, never copied; the
    //  caller keeps it until mc_client_settle.
    for (size_t i = 0; i < count; i++) {
        zmq_msg_t part;
        atomic_fetch_add (&self->unsettled, 1);
        if (zmq_msg_init_data (&part, (void *) slices [i].data, slices [i].size, s_slice_released, &self->unsettled)) {
            atomic_fetch_sub (&self->unsettled, 1);
            mc_client_set_error (self, MC_E_INTERNAL, "cannot send the request");
            return 0;
        }
        if (zmq_msg_send (&part, sock, i + 1 < count? ZMQ_SNDMORE: 0) < 0) {
            zmq_msg_close (&part);
            mc_client_set_error (self, MC_E_INTERNAL, "cannot send the request");
            return 0;
        }
    }
    return msg.req;
}

void
mc_client_settle (mc_client_t *self)
{
    while (atomic_load (&self->unsettled))
        usleep (100);
}

void
mc_client_set_spin (mc_client_t *self, int spin_us)
{
    self->spin_us = spin_us < 0? 0: spin_us > 1000000? 1000000: spin_us;
}

//  Poll for input for up to spin_us (and no later than deadline, when set),
//  giving way to any other thread of this CPU meanwhile: true when there is
//  some. A reply that comes within a few hundred microseconds then finds
//  this CPU awake; one that comes to a sleeping thread costs a wake-up per
//  thread it crosses, and on a virtual machine waking a halted vCPU costs
//  more than the round trip itself. Longer waits sleep, so the CPU spent
//  is bounded by spin_us per wait.
static bool
s_spin (mc_client_t *self, int64_t deadline)
{
    int64_t until = mc_time_mono_us () + self->spin_us;
    if (deadline && deadline < until)
        until = deadline;
    while (true) {
        if (zsock_events (self->dealer) & ZMQ_POLLIN)
            return true;
        if (mc_time_mono_us () >= until)
            return false;
        sched_yield ();
    }
}

//  Whether the controller turned our handshake down (reading what the
//  monitor got since the last look): true, with the error set, naming the
//  connection file, when it did.
static bool
s_handshake_failed (mc_client_t *self)
{
    if (!self->handshake)
        return false;
    mc_handshake_state_t state = mc_handshake_poll (self->handshake);
    bool curve = mc_conn_uses_curve (&self->conn, self->endpoint);
    switch (state) {
        case MC_HANDSHAKE_REFUSED:
            mc_client_set_error (self, MC_E_DENIED, "the controller at %s refused the credentials in %s: "
                                 "key not trusted, or revoked", self->endpoint, self->origin);
            return true;
        case MC_HANDSHAKE_MISMATCH:
            break;
        case MC_HANDSHAKE_FAILED: {
            //  One hang-up may be a controller going away in the middle;
            //  the DEALER tries again within 100 ms, so two say more.
            if (mc_handshake_failures (self->handshake) < 2)
                return false;
            if (mc_handshake_diagnose (self->endpoint, curve) == MC_HANDSHAKE_MISMATCH)
                break;
            if (curve)
                mc_client_set_error (self, MC_E_DENIED, "handshake with %s failed: the server_key in %s does not "
                                     "match this controller (a stale file?)", self->endpoint, self->origin);
            else
                mc_client_set_error (self, MC_E_DENIED, "handshake with %s failed: the controller hung up "
                                     "(connection file %s)", self->endpoint, self->origin);
            return true;
        }
        default:
            return false;
    }
    mc_client_set_error (self, MC_E_DENIED, "security mismatch with the controller at %s: %s says %s",
                         self->endpoint, self->origin, self->conn.secure? "curve": "none");
    return true;
}

//  The pid in a ping's reply body, or 0.
static int64_t
s_reply_pid (const mc_msg_t *reply)
{
    msgpack_zone zone;
    msgpack_object body;
    int64_t pid = 0;
    if (!msgpack_zone_init (&zone, 256))
        return 0;
    if (mc_proto_unpack (reply->data.ptr, reply->data.size, &zone, &body) == 0) {
        const msgpack_object *o = mc_proto_map_get (&body, "pid");
        if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            pid = (int64_t) o->via.u64;
    }
    msgpack_zone_destroy (&zone);
    return pid;
}

//  The probe of a wait without a deadline (see MC_CLIENT_PROBE_MS).
typedef struct {
    int64_t quiet_since_us;         //  when the controller last said something
    uint64_t req;                   //  the ping in flight, or 0
    int64_t sent_us;                //  when it was sent
} s_probe_t;

//  Before waiting: send a probe after enough silence, or give up on one
//  unanswered for too long. 0, or -1 with the error set. *wait_ms is
//  shortened to the next moment the probe needs looking at.
static int
s_probe_tick (mc_client_t *self, s_probe_t *probe, int *wait_ms)
{
    int64_t now = mc_time_mono_us ();
    int limit_ms = self->connect_ms > MC_CLIENT_PROBE_MIN_MS? self->connect_ms: MC_CLIENT_PROBE_MIN_MS;
    //  While ZeroMQ still sends our arrays, a ping would queue behind them.
    if (atomic_load (&self->unsettled))
        probe->quiet_since_us = probe->sent_us = now;
    if (probe->req && now - probe->sent_us >= (int64_t) limit_ms * 1000) {
        mc_client_set_error (self, -1, "the controller at %s stopped answering (no reply to a ping within %d ms)",
                             self->endpoint, limit_ms);
        return -1;
    }
    if (!probe->req && now - probe->quiet_since_us >= MC_CLIENT_PROBE_MS * 1000LL) {
        probe->req = mc_client_send (self, mc_op_name (MC_OP_PING), NULL, 0, NULL, 0);
        if (!probe->req)
            return -1;
        probe->sent_us = now;
    }
    int64_t next_us = probe->req? probe->sent_us + (int64_t) limit_ms * 1000
                                : probe->quiet_since_us + MC_CLIENT_PROBE_MS * 1000LL;
    int64_t left_ms = (next_us - now) / 1000 + 1;
    if (left_ms < *wait_ms)
        *wait_ms = (int) left_ms;
    return 0;
}

int
mc_client_recv (mc_client_t *self, mc_msg_t *reply, uint64_t lo, uint64_t hi, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0? 0: mc_time_mono_us () + (int64_t) timeout_ms * 1000;
    s_probe_t probe = { mc_time_mono_us (), 0, 0 };
    zpoller_t *poller = zpoller_new (self->dealer, self->watching? mc_handshake_socket (self->handshake): NULL, NULL);
    if (!poller) {
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
        return -1;
    }
    int rc = -1;
    while (true) {
        //  Without a deadline, look every second whether a local controller
        //  still exists, so that a dead one never leaves us hanging.
        int wait_ms = 1000;
        if (!deadline && self->local && kill ((pid_t) self->conn.pid, 0) && errno == ESRCH) {
            mc_client_set_error (self, -1, "the controller (pid %lld) has exited", (long long) self->conn.pid);
            break;
        }
        if (deadline) {
            int64_t left = (deadline - mc_time_mono_us ()) / 1000;
            if (left <= 0) {
                if (!s_handshake_failed (self))
                    mc_client_set_error (self, -1, "no reply from the controller within %d ms", timeout_ms);
                break;
            }
            wait_ms = left < wait_ms? (int) left: wait_ms;
        }
        else
        if (self->controller_pid && s_probe_tick (self, &probe, &wait_ms))
            break;
        void *which = NULL;
        if (!s_spin (self, deadline) && (which = zpoller_wait (poller, wait_ms)) != self->dealer) {
            if (zpoller_terminated (poller)) {
                mc_client_set_error (self, -1, "interrupted");
                break;
            }
            //  Nothing for a while, or news of the handshake: a refusal
            //  (the first, or one after a revocation) ends the wait.
            if (s_handshake_failed (self))
                break;
            continue;
        }
        int code;
        int got = mc_msg_recv (reply, zsock_resolve (self->dealer), false, &code);
        if (got == -2) {
            mc_client_set_error (self, MC_E_MALFORMED, "malformed reply from the controller");
            break;
        }
        probe.quiet_since_us = mc_time_mono_us ();
        if (got == 0 && probe.req && reply->type == MC_REPLY && reply->req == probe.req) {
            //  Alive; but another process has none of our requests.
            int64_t pid = s_reply_pid (reply);
            if (pid && pid != self->controller_pid) {
                mc_client_set_error (self, -1, "the controller restarted (pid %lld, was %lld): the request was lost "
                                     "with the old one", (long long) pid, (long long) self->controller_pid);
                break;
            }
            probe.req = 0;
            continue;
        }
        //  An error with request id 0 answers a request the controller
        //  could not read even its id from: it can only be one of ours
        //  (mc_proto.md, section 6), and nothing else will answer it.
        bool unread = reply->type == MC_REPLY && reply->req == 0 && reply->status != MC_OK;
        if (got == -1 || (reply->type != MC_REPLY && reply->type != MC_REPLY_CHUNK)
        ||  ((reply->req < lo || reply->req > hi) && !unread))
            continue;               //  a late reply to an earlier request
        if (reply->status != MC_OK) {
            char text [900];
            mc_client_set_error (self, (int) reply->status, "%s", mc_bytes_str (reply->text, text, sizeof text));
            break;
        }
        rc = 0;
        break;
    }
    zpoller_destroy (&poller);
    return rc;
}

//  Send one request without frames and wait for its reply, kept in
//  self->reply. 0, or -1 with the error set.
static int
s_request (mc_client_t *self, const char *op, const void *body, size_t size, int timeout_ms)
{
    s_kept_clear (self);
    uint64_t req = mc_client_send (self, op, body, size, NULL, 0);
    return req? mc_client_recv (self, &self->reply, req, req, timeout_ms): -1;
}

//  mc_value_array_fn of s_reply_json with keep_arrays: the array's bytes
//  copied once into a block of their own, kept for mc_client_take_array,
//  and {"$array": K} in its place.
static json_t *
s_keep_array (const mc_array_t *array, void *arg, char *err, size_t errlen)
{
    mc_client_t *self = arg;
    if (self->kept_count == self->kept_max) {
        size_t max = self->kept_max? 2 * self->kept_max: 8;
        mc_array_t *kept = realloc (self->kept, max * sizeof *kept);
        if (!kept) {
            snprintf (err, errlen, "out of memory");
            return NULL;
        }
        self->kept = kept;
        self->kept_max = max;
    }
    void *data = malloc (array->size? array->size: 1);
    json_t *ref = data? json_pack ("{s:I}", "$array", (json_int_t) self->kept_count): NULL;
    if (!ref) {
        free (data);
        snprintf (err, errlen, "cannot allocate %zu bytes for an array", array->size);
        return NULL;
    }
    memcpy (data, array->data, array->size);
    mc_array_t *kept = &self->kept [self->kept_count++];
    *kept = *array;
    kept->data = data;
    kept->frame = 0;
    return ref;
}

void
mc_client_keep_arrays (mc_client_t *self, bool keep)
{
    self->keep_arrays = keep;
}

int
mc_client_take_array (mc_client_t *self, size_t index, mc_array_t *array)
{
    if (index >= self->kept_count || !self->kept [index].data) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "the last reply has no array %zu (or it was taken)", index);
        return -1;
    }
    *array = self->kept [index];
    self->kept [index].data = NULL;
    return 0;
}

//  The reply body as JSON (arrays become nested lists, or {"$array": K}
//  with keep_arrays), or NULL.
static json_t *
s_reply_json (mc_client_t *self)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 2048)) {
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
        return NULL;
    }
    msgpack_object obj;
    json_t *result = NULL;
    char err [256];
    if (mc_proto_unpack (self->reply.data.ptr, self->reply.data.size, &zone, &obj) == 0)
        result = mc_value_to_json_with (&obj, self->reply.frames, self->reply.frame_count,
                                        self->keep_arrays? s_keep_array: NULL, self, err, sizeof err);
    else
        snprintf (err, sizeof err, "malformed value (%zu bytes)", self->reply.data.size);
    if (!result)
        mc_client_set_error (self, MC_E_MALFORMED, "reply: %s", err);
    msgpack_zone_destroy (&zone);
    return result;
}

int
mc_packbuf_write (void *data, const char *buf, size_t len)
{
    mc_packbuf_t *self = data;
    if (msgpack_sbuffer_write (&self->sb, buf, len)) {
        self->truncated = true;
        return -1;
    }
    return 0;
}

//  Start packing a request body into self->buffer, with pk.
static void
s_body_begin (mc_client_t *self, msgpack_packer *pk)
{
    self->errcode = 0;
    self->error [0] = 0;
    self->buffer.truncated = false;
    msgpack_sbuffer_clear (&self->buffer.sb);
    msgpack_packer_init (pk, &self->buffer, mc_packbuf_write);
}

//  End it, given what packing it returned: 0, or -1 with the error set
//  (out of memory when the buffer could not grow, else a value JSON has
//  and msgpack cannot carry).
static int
s_body_end (mc_client_t *self, int rc)
{
    if (!rc && !self->buffer.truncated)
        return 0;
    mc_client_set_error (self, self->buffer.truncated? MC_E_INTERNAL: MC_E_BAD_ARGUMENT,
                         self->buffer.truncated? "out of memory": "request body cannot be encoded");
    return -1;
}

//  Pack a request body into self->buffer. 0, or -1 with the error set.
static int
s_pack_body (mc_client_t *self, const json_t *body, bool refs)
{
    msgpack_packer pk;
    s_body_begin (self, &pk);
    return s_body_end (self, body? mc_value_pack_json_refs (&pk, body, refs): 0);
}

json_t *
mc_client_call (mc_client_t *self, const char *op, const json_t *body, int timeout_ms)
{
    if (s_pack_body (self, body, false)
    ||  s_request (self, op, self->buffer.sb.data, self->buffer.sb.size, timeout_ms))
        return NULL;
    return s_reply_json (self);
}

int64_t
mc_client_max_value_bytes (const mc_client_t *self)
{
    return self->max_value_bytes;
}

int
mc_client_errcode (const mc_client_t *self)
{
    return self->errcode;
}

const char *
mc_client_error (const mc_client_t *self)
{
    return self->error;
}

//  A request body made by the caller (taken), or NULL when it could not be
//  made: then the error is set.
static json_t *
s_body (mc_client_t *self, json_t *body)
{
    if (!body)
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
    return body;
}

//  mc_client_call with a body made for it (taken).
static json_t *
s_call_with (mc_client_t *self, mc_op_code_t op, json_t *body)
{
    if (!s_body (self, body))
        return NULL;
    json_t *reply = mc_client_call (self, mc_op_name (op), body, -1);
    json_decref (body);
    return reply;
}

//  A submit's body into self->buffer, as s_pack_body packs it, but for a
//  "seed" given as a string of decimal digits: JSON integers here are
//  signed, so a seed past 2^63 comes so, and goes as the unsigned integer
//  it is. 0, or -1 with the error set.
static int
s_pack_submit (mc_client_t *self, const json_t *body)
{
    const char *digits = json_string_value (json_object_get (body, "seed"));
    if (!digits)
        return s_pack_body (self, body, true);
    char *end;
    errno = 0;
    unsigned long long seed = strtoull (digits, &end, 10);
    if (!isdigit ((unsigned char) digits [0]) || *end || errno) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "seed '%s' is no integer from 0 to 2^64-1", digits);
        return -1;
    }
    msgpack_packer pk;
    s_body_begin (self, &pk);
    int rc = msgpack_pack_map (&pk, json_object_size (body));
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) body, key, value) {
        rc |= msgpack_pack_str_with_body (&pk, key, strlen (key));
        rc |= strcmp (key, "seed")? mc_value_pack_json_refs (&pk, value, true): msgpack_pack_uint64 (&pk, seed);
    }
    return s_body_end (self, rc);
}

json_t *
mc_client_submit (mc_client_t *self, const json_t *spec, bool wait)
{
    json_t *body = s_body (self, json_deep_copy (spec));
    if (!body)
        return NULL;
    //  A spec that is no object goes as it is: the controller says what is wrong.
    if (json_is_object (body) && json_object_set_new (body, "wait", json_boolean (wait))) {
        json_decref (body);
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
        return NULL;
    }
    json_t *reply = NULL;
    if (s_pack_submit (self, body) == 0
    &&  s_request (self, mc_op_name (MC_OP_SUBMIT), self->buffer.sb.data, self->buffer.sb.size, -1) == 0)
        reply = s_reply_json (self);
    json_decref (body);
    return reply;
}

json_t *
mc_ref (const char *name)
{
    return json_pack ("{s:s}", "$ref", name);
}

json_t *
mc_client_status (mc_client_t *self, const char *job)
{
    return s_call_with (self, MC_OP_STATUS, json_pack ("{s:s}", "job", job));
}

json_t *
mc_client_wait (mc_client_t *self, const char *job, int timeout_ms)
{
    //  A controller that dies while we wait takes the request with it: ask
    //  in slices, and again after a reply that does not come (the socket
    //  reconnects to a restarted controller by itself), until our deadline.
    int64_t deadline = timeout_ms >= 0? mc_time_mono_us () + (int64_t) timeout_ms * 1000: 0;
    while (true) {
        int64_t left_ms = deadline? (deadline - mc_time_mono_us ()) / 1000: 5000;
        int slice = left_ms < 0? 0: left_ms > 5000? 5000: (int) left_ms;
        json_t *body = s_body (self, json_pack ("{s:s, s:i}", "job", job, "timeout_ms", slice));
        if (!body)
            return NULL;
        json_t *reply = mc_client_call (self, mc_op_name (MC_OP_WAIT), body, slice + MC_CLIENT_LOST_MS);
        json_decref (body);
        bool lost = !reply && self->errcode == -1;
        bool more = reply && json_is_null (json_object_get (reply, "finished")) && (!deadline || slice < left_ms);
        if ((reply && !more) || (!reply && !lost))
            return reply;
        json_decref (reply);
        if (deadline && mc_time_mono_us () >= deadline) {
            mc_client_set_error (self, -1, "no reply from the controller within %d ms", timeout_ms);
            return NULL;
        }
    }
}

json_t *
mc_client_abort (mc_client_t *self, const char *job)
{
    return s_call_with (self, MC_OP_ABORT, json_pack ("{s:s}", "job", job));
}

json_t *
mc_client_renice (mc_client_t *self, const char *job, int priority)
{
    return s_call_with (self, MC_OP_RENICE, json_pack ("{s:s, s:i}", "job", job, "priority", priority));
}

json_t *
mc_client_purge (mc_client_t *self, const json_t *jobs, int64_t before_s)
{
    json_t *body = jobs? json_pack ("{s:O}", "jobs", jobs)
                 : before_s > 0? json_pack ("{s:I}", "before", (json_int_t) before_s)
                 : json_pack ("{s:b}", "finished", 1);
    return s_call_with (self, MC_OP_PURGE, body);
}

json_t *
mc_client_kernels_add (mc_client_t *self, const char *name, const void *bytes, size_t size)
{
    if (size == 0 || size > MC_PROTO_MAX_LIBRARY) {
        mc_client_set_error (self, MC_E_BAD_ARGUMENT, "%s: a library is 1 to %u bytes, not %zu", name,
                             MC_PROTO_MAX_LIBRARY, size);
        return NULL;
    }
    //  The bytes ride as an int64 array frame, padded to 8 bytes (§6).
    size_t padded = (size + 7) & ~(size_t) 7;
    char *frame = calloc (1, padded);
    if (!frame) {
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
        return NULL;
    }
    memcpy (frame, bytes, size);
    mc_array_t array = { .dtype = MC_DTYPE_I64, .ndim = 1, .shape = { padded / 8 }, .data = frame, .size = padded };
    mc_packbuf_t body = { .truncated = false };
    msgpack_sbuffer_init (&body.sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, mc_packbuf_write);
    msgpack_pack_map (&pk, 3);
    mc_proto_pack_str (&pk, "name");
    mc_proto_pack_str (&pk, name);
    mc_proto_pack_str (&pk, "size");
    msgpack_pack_uint64 (&pk, size);
    mc_proto_pack_str (&pk, "library");
    mc_array_pack_ref (&pk, &array, 0);
    json_t *reply = NULL;
    mc_slice_t slice = { frame, padded };
    uint64_t req = body.truncated? 0: mc_client_send (self, mc_op_name (MC_OP_KERNELS_ADD), body.sb.data, body.sb.size,
                                                      &slice, 1);
    if (body.truncated)
        mc_client_set_error (self, MC_E_INTERNAL, "out of memory");
    //  Answered once every engine has loaded it (or refused it).
    if (req && mc_client_recv (self, &self->reply, req, req, -1) == 0)
        reply = s_reply_json (self);
    mc_client_settle (self);
    free (frame);
    msgpack_sbuffer_destroy (&body.sb);
    return reply;
}

json_t *
mc_client_kernels_remove (mc_client_t *self, const char *name)
{
    return s_call_with (self, MC_OP_KERNELS_REMOVE, json_pack ("{s:s}", "name", name));
}

json_t *
mc_client_result (mc_client_t *self, const char *job, bool wait)
{
    return s_call_with (self, MC_OP_RESULT, json_pack ("{s:s, s:b}", "job", job, "wait", wait));
}

//  --------------------------------------------------------------------------
//  Selftest: what a client says when there is no controller to talk to
//  (tests/unit/test_client.c talks to a scripted one).

//  mc_client_new on a profile whose connection file names pid: NULL, with
//  an error that says `expect`.
static void
s_test_refused (const char *dir, int64_t pid, const char *expect, bool verbose)
{
    mc_conn_t conn = { .role = MC_ROLE_CLIENT, .pid = pid };
    char path [300], err [512];
    snprintf (conn.url, sizeof conn.url, "ipc://%s/client.ipc", dir);
    gethostname (conn.host, sizeof conn.host);
    snprintf (path, sizeof path, "%s/%s", dir, mc_conn_file_name (MC_ROLE_CLIENT));
    assert (mc_conn_write (path, &conn, err, sizeof err) == 0);
    assert (!mc_client_new (dir, 100, err, sizeof err));
    if (verbose)
        printf ("   %s\n", err);
    assert (strstr (err, expect));
    unlink (path);
}

void
mc_client_test (bool verbose)
{
    printf (" * mc_client: ");
    if (verbose)
        printf ("\n");
    char dir [] = "/tmp/mc-client-test.XXXXXX", err [512];
    assert (mkdtemp (dir));
    //  No connection file.
    assert (!mc_client_new (dir, 100, err, sizeof err) && err [0]);
    if (verbose)
        printf ("   %s\n", err);
    //  A controller on this host that has exited: said at once.
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0)
        _exit (0);
    assert (waitpid (child, NULL, 0) == child);
    s_test_refused (dir, child, "has exited", verbose);
    //  One that lives (we stand for it) but does not answer: said after the timeout.
    s_test_refused (dir, getpid (), "no controller answers", verbose);
    rmdir (dir);
    printf ("OK\n");
}
