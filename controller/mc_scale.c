/*  mc_scale: allocations, engines_add, engines_stop. */
#include "mc_scale.h"
#include "mc_answer.h"
#include "mc_engines.h"
#include "mc_log.h"
#include <string.h>

//  The launcher's callback: engines registered under an allocation's tag.
static size_t
s_registered (void *arg, const char *tag)
{
    mc_registry_t *registry = arg;
    size_t n = 0;
    for (mc_engine_t *e = mc_registry_first (registry); e; e = mc_registry_next (registry, e))
        n += !strcmp (mc_engine_launch (e), tag);
    return n;
}

void
mc_scale_allocations_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_packer pk = mc_server_body (self);
    if (self->launcher)
        mc_launcher_pack (self->launcher, &pk, s_registered, self->registry);
    else
        msgpack_pack_array (&pk, 0);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

//  Only the owner changes the cluster; 0, or -1 once refused.
static int
s_owner_only (mc_server_t *self, mc_msg_t *msg, const char *what)
{
    if (mc_auth_is_owner (self->auth, zmsg_first (msg->zmsg)))
        return 0;
    mc_answer_error (self, msg->routing_id, msg->req, MC_E_DENIED,
                     "%s: only the cluster's owner (client.json's own key, or its user on the controller's host) "
                     "may start or stop engines", what);
    return -1;
}

void
mc_scale_add_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    if (s_owner_only (self, msg, "engines_add"))
        return;
    if (!self->launcher) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "engines_add: this controller has no launcher");
        return;
    }
    char kind [16], opt_text [32][512], err [1024];
    const char *opts [33] = { NULL };
    snprintf (kind, sizeof kind, "%s", self->launcher_kind);
    const msgpack_object *n = mc_proto_map_get (body, "engines");
    const msgpack_object *list = mc_proto_map_get (body, "opts");
    if (!n || n->type != MSGPACK_OBJECT_POSITIVE_INTEGER || n->via.u64 == 0 || n->via.u64 > 100000) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "engines_add: 'engines' must be 1 to 100000");
        return;
    }
    if (mc_answer_str_field (self, msg, body, "engines_add", "kind", kind, sizeof kind) < 0)
        return;
    if (list && list->type != MSGPACK_OBJECT_NIL
    &&  (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size > 32)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "engines_add: 'opts' must be an array of at most 32 strings");
        return;
    }
    for (uint32_t i = 0; list && list->type == MSGPACK_OBJECT_ARRAY && i < list->via.array.size; i++) {
        const msgpack_object *o = &list->via.array.ptr [i];
        if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= sizeof opt_text [i]
        ||  memchr (o->via.str.ptr, 0, o->via.str.size)) {
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "engines_add: option %u is not a string of "
                             "at most %zu bytes", i + 1, sizeof opt_text [i] - 1);
            return;
        }
        memcpy (opt_text [i], o->via.str.ptr, o->via.str.size);
        opt_text [i][o->via.str.size] = 0;
        opts [i] = opt_text [i];
    }
    int64_t id = mc_launcher_add (self->launcher, kind, (size_t) n->via.u64, opts, err, sizeof err);
    if (id < 0) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "engines_add: %s", err);
        return;
    }
    mc_info ("a client added %llu %s engines as allocation a%lld", (unsigned long long) n->via.u64, kind, (long long) id);
    char tag [24];
    snprintf (tag, sizeof tag, "a%lld", (long long) id);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 1);
    mc_proto_pack_str (&pk, "allocation"); mc_proto_pack_str (&pk, tag);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

void
mc_scale_stop_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    if (s_owner_only (self, msg, "engines_stop"))
        return;
    char job [64] = "", tag [24] = "";
    int has_job = mc_answer_str_field (self, msg, body, "engines_stop", "job", job, sizeof job);
    const msgpack_object *ids = mc_proto_map_get (body, "ids");
    bool has_ids = ids && ids->type != MSGPACK_OBJECT_NIL;
    if (has_job < 0)
        return;
    if (has_job == has_ids || (has_ids && ids->type != MSGPACK_OBJECT_ARRAY)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         "engines_stop: give either 'ids' (an array of engine ids) or 'job' (an allocation or batch job id)");
        return;
    }
    //  Every id is checked before any engine is told: a bad one changes nothing.
    for (uint32_t i = 0; has_ids && i < ids->via.array.size; i++) {
        const msgpack_object *o = &ids->via.array.ptr [i];
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !mc_registry_lookup (self->registry, (int64_t) o->via.u64)) {
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_ENGINE, "engines_stop: engine %s%lld is not registered",
                             o->type == MSGPACK_OBJECT_POSITIVE_INTEGER? "": "id ",
                             o->type == MSGPACK_OBJECT_POSITIVE_INTEGER? (long long) o->via.u64: -1LL);
            return;
        }
    }
    int64_t alloc = -1;
    if (has_job) {
        alloc = self->launcher? mc_launcher_find_job (self->launcher, job): -1;
        if (alloc < 0) {
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                             "engines_stop: no allocation or batch job '%s' (see mcclient engines)", job);
            return;
        }
        snprintf (tag, sizeof tag, "a%lld", (long long) alloc);
    }
    //  Engines are told to stop first, so that they say goodbye and their
    //  unfinished tasks go back to the queue; then the batch job goes.
    size_t stopped = 0;
    mc_engine_t *next;
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = next) {
        next = mc_registry_next (self->registry, e);
        bool chosen = has_job && !strcmp (mc_engine_launch (e), tag);
        for (uint32_t i = 0; has_ids && !chosen && i < ids->via.array.size; i++)
            chosen = ids->via.array.ptr [i].via.u64 == (uint64_t) mc_engine_id (e);
        if (chosen && mc_engine_state (e) != MC_ENGINE_STOPPING) {
            if (self->launcher && has_ids && *mc_engine_launch (e))
                mc_launcher_release (self->launcher, mc_engine_launch (e));
            mc_engines_stop_one (self, e);
            stopped++;
        }
    }
    if (alloc >= 0 && mc_launcher_stop_alloc (self->launcher, (uint32_t) alloc))
        *tag = 0;                   //  over already: its engines were all there was to stop
    mc_info ("a client stopped %zu engines%s%s", stopped, *tag? " and allocation ": "", tag);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 2);
    mc_proto_pack_str (&pk, "stopped");    msgpack_pack_uint64 (&pk, stopped);
    mc_proto_pack_str (&pk, "allocation"); mc_proto_pack_str (&pk, tag);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

//  --------------------------------------------------------------------------
//  Autoscaling

//  Whether some allocation is still submitting or queued.
static bool
s_allocation_waits (mc_server_t *self)
{
    char waiting [64];
    mc_launcher_waiting (self->launcher, waiting, sizeof waiting);
    return *waiting != 0;
}

void
mc_scale_tick (mc_server_t *self, int64_t now_us)
{
    if (!self->autoscale_max || !self->launcher)
        return;
    size_t waiting = mc_sched_lb_waiting (self->sched);
    size_t requested = mc_launcher_requested (self->launcher);
    //  Grow: one submission at a time, and not while one is in a queue.
    size_t want = requested < self->autoscale_min? self->autoscale_min - requested: 0;
    if (waiting && requested < self->autoscale_max) {
        size_t more = self->autoscale_max - requested;
        want = waiting < more? (waiting > want? waiting: want): more;
    }
    if (want && now_us >= self->autoscale_next_us && !s_allocation_waits (self)) {
        char err [1024];
        self->autoscale_next_us = now_us + 2000000;
        if (mc_launcher_add (self->launcher, self->launcher_kind, want, self->launcher_opts, err, sizeof err) < 0)
            mc_error ("autoscale: cannot add %zu engines: %s", want, err);
        else
            mc_info ("autoscale: %zu tasks wait: %zu more engines (%zu requested, at most %zu)", waiting, want,
                     requested + want, self->autoscale_max);
    }
    //  Shrink: engines it started that have been idle long enough.
    size_t live = 0;
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
        live += mc_engine_state (e) != MC_ENGINE_STOPPING;
    int64_t idle_us = self->config.autoscale_idle_s * 1000000;
    mc_engine_t *next;
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = next) {
        next = mc_registry_next (self->registry, e);
        bool idle = mc_engine_state (e) != MC_ENGINE_STOPPING && !mc_engine_inflight (e) && !mc_engine_queued (e);
        if (!idle) {
            mc_engine_set_idle_since (e, 0);
            continue;
        }
        if (!mc_engine_idle_since (e))
            mc_engine_set_idle_since (e, now_us);
        if (waiting || live <= self->autoscale_min || !*mc_engine_launch (e)
        ||  now_us - mc_engine_idle_since (e) < idle_us)
            continue;
        mc_info ("autoscale: engine %d idle for %lld s: stopping it", mc_engine_id (e),
                 (long long) ((now_us - mc_engine_idle_since (e)) / 1000000));
        mc_launcher_release (self->launcher, mc_engine_launch (e));
        mc_engines_stop_one (self, e);
        live--;
    }
}
