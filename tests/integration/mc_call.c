/*  mc_call: one request through libmcclient, for tests of operations that
    mcclient has no command for: `mc_call OP [BODY_JSON]` prints the reply
    as compact JSON and exits 0, or prints the error and exits 1. */
#include <mccluster.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char *argv [])
{
    if (argc < 2 || argc > 3) {
        fprintf (stderr, "usage: mc_call OP [BODY_JSON]\n");
        return 2;
    }
    json_error_t jerr;
    json_t *body = argc == 3? json_loads (argv [2], JSON_DECODE_ANY, &jerr): NULL;
    if (argc == 3 && !body) {
        fprintf (stderr, "mc_call: body: %s\n", jerr.text);
        return 2;
    }
    char err [1024];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client) {
        fprintf (stderr, "mc_call: %s\n", err);
        return 1;
    }
    json_t *reply = mc_client_call (client, argv [1], body, 10000);
    int rc = 0;
    if (reply) {
        char *text = json_dumps (reply, JSON_COMPACT | JSON_ENCODE_ANY);
        puts (text? text: "?");
        free (text);
    }
    else {
        fprintf (stderr, "mc_call: %s\n", mc_client_error (client));
        rc = 1;
    }
    json_decref (reply);
    json_decref (body);
    mc_client_destroy (&client);
    return rc;
}
