/*  mccluster.h: libmcclient, the C client of an mccluster controller.

    A client reads the connection file of a profile, connects to the
    controller's client endpoint and sends requests (see proto/mc_proto.md,
    section 6). Values go in and come out as jansson JSON values.

        char err [256];
        mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
        json_t *spec = json_pack ("{s:s, s:s, s:{s:[iii]}}", "kind", "map",
                                  "kernel", "square", "seq", "range", 0, 100, 1);
        json_t *result = mc_client_submit (client, spec, true);   //  waits
        ... json_object_get (result, "results") ...
        json_decref (result); json_decref (spec);
        mc_client_destroy (&client);

    Ownership: every json_t * returned is new (the caller decrefs it);
    json_t * arguments are borrowed. A client is used by one thread. */
#ifndef MCCLUSTER_H
#define MCCLUSTER_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _mc_client_t mc_client_t;

//  Connect to the controller of profile_dir (NULL: $MCCLUSTER_DIR or
//  ~/.mccluster/default) and check that it answers within timeout_ms
//  (<= 0: 3000). NULL with a one-line message in err when it does not.
mc_client_t *mc_client_new (const char *profile_dir, int timeout_ms, char *err, size_t errlen);
void mc_client_destroy (mc_client_t **self_p);

//  Send one request and wait up to timeout_ms (< 0: forever) for its reply.
//  Returns the reply body, or NULL: then mc_client_errcode and
//  mc_client_error say why (code -1 means no reply in time).
json_t *mc_client_call (mc_client_t *self, const char *op, const json_t *body, int timeout_ms);
int mc_client_errcode (const mc_client_t *self);
const char *mc_client_error (const mc_client_t *self);

//  Submit a job (spec as in mc_proto.md: kind, kernel, args, kwargs, seq,
//  targets, chunksize, seed). Without wait, returns {"job": "j12"}; with
//  wait, the result object once the job is done.
json_t *mc_client_submit (mc_client_t *self, const json_t *spec, bool wait);
//  Status object of a job.
json_t *mc_client_status (mc_client_t *self, const char *job);
//  Wait up to timeout_ms (< 0: until done) and return the status object.
json_t *mc_client_wait (mc_client_t *self, const char *job, int timeout_ms);
//  Result object of a job; with wait, once it is done.
json_t *mc_client_result (mc_client_t *self, const char *job, bool wait);

#ifdef __cplusplus
}
#endif
#endif
