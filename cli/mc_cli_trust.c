/*  mc_cli_trust: the trust command over the trust operation. */
#include "mc_cli_trust.h"
#include "mc_conn.h"
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  The connection file for a key made by the controller: what the reply
//  says, for a peer on another host or of another user (so TCP only).
static int
s_write_file (const json_t *reply, const char *path)
{
    mc_conn_t conn = { .secure = true };
    const char *role = json_string_value (json_object_get (reply, "role"));
    const struct { const char *key; char *dest; size_t len; } fields [] = {
        { "url", conn.url, sizeof conn.url }, { "host", conn.host, sizeof conn.host },
        { "cluster_id", conn.cluster_id, sizeof conn.cluster_id }, { "server_key", conn.server_key, sizeof conn.server_key },
        { "key", conn.public_key, sizeof conn.public_key }, { "secret_key", conn.secret_key, sizeof conn.secret_key },
    };
    int rc = role? 0: -1;
    for (size_t i = 0; i < sizeof fields / sizeof fields [0] && rc == 0; i++) {
        const char *value = json_string_value (json_object_get (reply, fields [i].key));
        if (!value || strlen (value) >= fields [i].len)
            rc = -1;
        else
            strcpy (fields [i].dest, value);
    }
    char err [512];
    if (rc)
        mc_cli_fail ("the controller's reply lacks what %s needs", path);
    else {
        conn.role = strcmp (role, "engine")? MC_ROLE_CLIENT: MC_ROLE_ENGINE;
        conn.pid = json_integer_value (json_object_get (reply, "pid"));
        rc = mc_conn_write (path, &conn, err, sizeof err);
        if (rc)
            mc_cli_fail ("%s", err);
    }
    sodium_memzero (&conn, sizeof conn);
    return rc;
}

static void
s_print_list (const json_t *list)
{
    if (json_array_size (list) == 0) {
        printf ("no added keys (engine.json and client.json hold the cluster's own)\n");
        return;
    }
    printf ("%-7s %-20s %-40s %-19s %s\n", "role", "name", "key", "added", "sessions");
    size_t i;
    json_t *entry;
    json_array_foreach (list, i, entry) {
        time_t added = (time_t) json_integer_value (json_object_get (entry, "added"));
        char stamp [32] = "-";
        if (added)
            strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime (&added));
        printf ("%-7s %-20s %-40s %-19s %lld\n", json_string_value (json_object_get (entry, "role")),
                json_string_value (json_object_get (entry, "name")), json_string_value (json_object_get (entry, "key")),
                stamp, (long long) json_integer_value (json_object_get (entry, "sessions")));
    }
}

enum { S_ENGINE = 1, S_CLIENT, S_NAME, S_OUT };
const mc_cli_option_t mc_cli_trust_options [] = {
    { "--client", S_CLIENT, false, NULL, "add: a key for clients (mcclient, libmcclient)", NULL },
    { "--engine", S_ENGINE, false, NULL, "add: a key for engines", NULL },
    { "--name", S_NAME, true, "NAME", "add: the key's name, for list and revoke", NULL },
    { "-o", S_OUT, true, "FILE", "add without KEY: write the new connection file (mode 0600)", NULL },
    { "--output", S_OUT, true, "FILE", NULL, NULL },
    { NULL, 0, false, NULL, NULL, NULL } };

//  The request body of the command line, or NULL (said, *rc set). *out
//  gets -o's file.
static json_t *
s_request (int argc, char **argv, const char **out, int *rc)
{
    *rc = MC_EXIT_USAGE;
    *out = NULL;
    if (argc < 1) {
        mc_cli_fail ("trust: add, list or revoke? (see mcclient help trust)");
        return NULL;
    }
    const char *action = argv [0], *role = NULL, *name = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        const mc_cli_option_t *option = mc_cli_option (mc_cli_trust_options, argv [i]);
        const char *value = option && option->takes_value && i + 1 < argc? argv [++i]: NULL;
        if (!option && argv [i][0] != '-' && !key)
            key = argv [i];
        else
        if (!option || (option->takes_value && !value)) {
            mc_cli_fail ("trust %s: unexpected '%s'", action, argv [i]);
            return NULL;
        }
        else
        if (option->code == S_ENGINE || option->code == S_CLIENT) {
            if (role) {
                mc_cli_fail ("trust %s: --engine or --client, not both", action);
                return NULL;
            }
            role = option->code == S_ENGINE? "engine": "client";
        }
        else
        if (option->code == S_NAME)
            name = value;
        else
            *out = value;
    }
    if (!strcmp (action, "list") && !key && !role && !name && !*out)
        return json_pack ("{s:s}", "action", "list");
    if (!strcmp (action, "revoke") && key && !role && !name && !*out)
        return json_pack ("{s:s, s:s}", "action", "revoke", "name", key);
    if (!strcmp (action, "add") && role && name && !(key && *out)) {
        json_t *body = json_pack ("{s:s, s:s, s:s}", "action", "add", "role", role, "name", name);
        if (body && key)
            json_object_set_new (body, "key", json_string (key));
        return body;
    }
    if (!strcmp (action, "add"))
        mc_cli_fail (key && *out? "trust add: -o writes a file with a keypair the controller makes: leave out KEY"
                                : "trust add: --engine or --client, and --name NAME, are required");
    else
    if (!strcmp (action, "revoke"))
        mc_cli_fail ("trust revoke: give one NAME or KEY");
    else
    if (!strcmp (action, "list"))
        mc_cli_fail ("trust list takes no arguments");
    else
        mc_cli_fail ("trust: unknown action '%s' (add, list or revoke)", action);
    return NULL;
}

int
mc_cli_trust (const mc_cli_command_t *command, int argc, char **argv)
{
    const char *out;
    int rc;
    json_t *body = s_request (argc, argv, &out, &rc);
    if (!body)
        return rc;
    bool list = !strcmp (argv [0], "list"), add = !strcmp (argv [0], "add");
    mc_client_t *client = mc_cli_connect ();
    json_t *reply = client? mc_cli_call (client, command->op, body): NULL;
    if (!client)
        json_decref (body);
    rc = reply? 0: MC_EXIT_FAILED;
    if (reply && add && out)
        rc = s_write_file (reply, out)? MC_EXIT_FAILED: 0;
    //  A secret goes into a file, never to the terminal.
    if (reply && add)
        json_object_del (reply, "secret_key");
    if (reply && mc_cli_json)
        mc_cli_print_json (reply);
    else
    if (reply && list)
        s_print_list (reply);
    else
    if (reply && add)
        printf ("trusted %s key %s as '%s'%s%s\n", json_string_value (json_object_get (reply, "role")),
                json_string_value (json_object_get (reply, "key")), json_string_value (json_object_get (reply, "name")),
                out && rc == 0? "; its connection file is ": "", out && rc == 0? out: "");
    else
    if (reply)
        printf ("revoked %s key '%s': %lld sessions cut, %lld tasks in flight queued again\n",
                json_string_value (json_object_get (reply, "role")), json_string_value (json_object_get (reply, "name")),
                (long long) json_integer_value (json_object_get (reply, "dropped")),
                (long long) json_integer_value (json_object_get (reply, "requeued")));
    json_decref (reply);
    mc_client_destroy (&client);
    return rc;
}

//  --------------------------------------------------------------------------

void
mc_cli_trust_test (bool verbose)
{
    if (verbose)
        printf (" * mc_cli_trust: ");
    const char *out;
    int rc;
    char *good [][6] = { { "list" }, { "revoke", "bob" }, { "add", "--client", "--name", "bob" },
                         { "add", "--engine", "KEY", "--name", "n1" }, { "add", "--engine", "--name", "n1", "-o", "f" } };
    int goodc [] = { 1, 2, 4, 5, 6 };
    for (size_t i = 0; i < sizeof goodc / sizeof goodc [0]; i++) {
        json_t *body = s_request (goodc [i], good [i], &out, &rc);
        assert (body && !strcmp (json_string_value (json_object_get (body, "action")), good [i][0]));
        json_decref (body);
    }
    //  Refused before connecting: no action, a bad one, add without a role
    //  or a name, both roles, -o with a KEY, revoke of nothing.
    char *bad [][8] = { { "x" }, { "add", "--name", "n" }, { "add", "--client" }, { "add", "--client", "--engine", "--name", "n" },
                        { "add", "--client", "K", "--name", "n", "-o" }, { "add", "--client", "K", "--name", "n", "-o", "f" },
                        { "revoke" }, { "list", "x" } };
    int badc [] = { 1, 3, 2, 5, 6, 7, 1, 2 };
    fprintf (stderr, "(expected errors follow)\n");
    assert (s_request (0, NULL, &out, &rc) == NULL && rc == MC_EXIT_USAGE);
    for (size_t i = 0; i < sizeof badc / sizeof badc [0]; i++)
        assert (s_request (badc [i], bad [i], &out, &rc) == NULL && rc == MC_EXIT_USAGE);
    if (verbose)
        printf ("OK\n");
}
