/*  mc_trust: the trust operation over mc_auth's key store. */
#include "mc_trust.h"
#include "mc_answer.h"
#include "mc_engines.h"
#include "mc_log.h"
#include <sodium.h>

//  A string field of the body into buf: 1 when there, 0 when absent, -1
//  when it is no string or too long (answered).
static void
s_add (mc_server_t *self, mc_msg_t *msg, mc_role_t role, const char *name, const char *key)
{
    char public [41], secret [41] = "", err [256];
    if (mc_auth_trust_add (self->auth, role, name, key [0]? key: NULL, public, secret, err, sizeof err)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "trust add: %s", err);
        return;
    }
    //  What a connection file for it needs, but the Unix socket: a key of
    //  its own is for another user or another host.
    const mc_conn_t *conn = &self->conn [role];
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, secret [0]? 9: 8);
    mc_proto_pack_str (&pk, "name");       mc_proto_pack_str (&pk, name);
    mc_proto_pack_str (&pk, "role");       mc_proto_pack_str (&pk, mc_conn_role_name (role));
    mc_proto_pack_str (&pk, "key");        mc_proto_pack_str (&pk, public);
    mc_proto_pack_str (&pk, "url");        mc_proto_pack_str (&pk, conn->url);
    mc_proto_pack_str (&pk, "server_key"); mc_proto_pack_str (&pk, conn->server_key);
    mc_proto_pack_str (&pk, "cluster_id"); mc_proto_pack_str (&pk, conn->cluster_id);
    mc_proto_pack_str (&pk, "host");       mc_proto_pack_str (&pk, conn->host);
    mc_proto_pack_str (&pk, "pid");        msgpack_pack_int64 (&pk, conn->pid);
    if (secret [0]) {
        mc_proto_pack_str (&pk, "secret_key");
        mc_proto_pack_str (&pk, secret);
    }
    sodium_memzero (secret, sizeof secret);
    mc_info ("trust: added %s key '%s' (%.8s...)", mc_conn_role_name (role), name, public);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

typedef struct {
    msgpack_packer *pk;
    size_t count;
} s_list_t;

static void
s_count_one (void *arg, mc_role_t role, const char *name, const char *key, int64_t added, size_t sessions)
{
    (void) role; (void) name; (void) key; (void) added; (void) sessions;
    ((s_list_t *) arg)->count++;
}

static void
s_pack_one (void *arg, mc_role_t role, const char *name, const char *key, int64_t added, size_t sessions)
{
    msgpack_packer *pk = ((s_list_t *) arg)->pk;
    msgpack_pack_map (pk, 5);
    mc_proto_pack_str (pk, "name");     mc_proto_pack_str (pk, name);
    mc_proto_pack_str (pk, "role");     mc_proto_pack_str (pk, mc_conn_role_name (role));
    mc_proto_pack_str (pk, "key");      mc_proto_pack_str (pk, key);
    mc_proto_pack_str (pk, "added");    msgpack_pack_int64 (pk, added);
    mc_proto_pack_str (pk, "sessions"); msgpack_pack_uint64 (pk, sessions);
}

static void
s_list (mc_server_t *self, mc_msg_t *msg)
{
    msgpack_packer pk = mc_server_body (self);
    s_list_t list = { &pk, 0 };
    mc_auth_trust_each (self->auth, s_count_one, &list);
    msgpack_pack_array (&pk, (uint32_t) list.count);
    mc_auth_trust_each (self->auth, s_pack_one, &list);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_revoke (mc_server_t *self, mc_msg_t *msg, const char *which)
{
    mc_auth_cut_t *cuts;
    size_t count;
    mc_role_t role;
    char name [65], err [256];
    if (mc_auth_trust_revoke (self->auth, which, &role, name, sizeof name, &cuts, &count, err, sizeof err)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "trust revoke: %s", err);
        return;
    }
    uint64_t requeued = 0;
    for (size_t i = 0; i < count; i++) {
        if (cuts [i].role == MC_ROLE_ENGINE) {
            int64_t inflight = mc_engines_drop (self, cuts [i].routing_id, "dropped: its key was revoked");
            requeued += inflight > 0? (uint64_t) inflight: 0;
        }
        zframe_destroy (&cuts [i].routing_id);
    }
    free (cuts);
    mc_warn ("trust: revoked %s key '%s': %zu sessions cut, %llu tasks in flight taken back",
             mc_conn_role_name (role), name, count, (unsigned long long) requeued);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 4);
    mc_proto_pack_str (&pk, "name");     mc_proto_pack_str (&pk, name);
    mc_proto_pack_str (&pk, "role");     mc_proto_pack_str (&pk, mc_conn_role_name (role));
    mc_proto_pack_str (&pk, "dropped");  msgpack_pack_uint64 (&pk, count);
    mc_proto_pack_str (&pk, "requeued"); msgpack_pack_uint64 (&pk, requeued);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

void
mc_trust_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    if (!mc_auth_is_owner (self->auth, zmsg_first (msg->zmsg))) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_DENIED,
                         "trust: only the cluster's owner (client.json's own key, or its user on the "
                         "controller's host) may list, add or revoke keys");
        return;
    }
    char action [16] = "", role_name [16] = "", key [64] = "", name [80] = "";
    int has_action, has_key, has_name;
    if ((has_action = mc_answer_str_field (self, msg, body, "trust", "action", action, sizeof action)) < 0
    ||  mc_answer_str_field (self, msg, body, "trust", "role", role_name, sizeof role_name) < 0
    ||  (has_key = mc_answer_str_field (self, msg, body, "trust", "key", key, sizeof key)) < 0
    ||  (has_name = mc_answer_str_field (self, msg, body, "trust", "name", name, sizeof name)) < 0)
        return;
    if (!strcmp (action, "list"))
        s_list (self, msg);
    else
    if (!strcmp (action, "add")) {
        if (strcmp (role_name, "engine") && strcmp (role_name, "client"))
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                             "trust add: 'role' must be \"engine\" or \"client\"");
        else
            s_add (self, msg, role_name [0] == 'e'? MC_ROLE_ENGINE: MC_ROLE_CLIENT, name, key);
    }
    else
    if (!strcmp (action, "revoke") && (has_name || has_key))
        s_revoke (self, msg, has_name? name: key);
    else
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         has_action && strcmp (action, "revoke")? "trust: 'action' must be \"add\", \"list\" or \"revoke\""
                                                                 : "trust: revoke needs a 'name' or a 'key'");
}
