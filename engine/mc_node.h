/*  mc_node: an engine as the controller sees it, from the engine's side.
    Owns the DEALER connection and the kernel thread; registers, pings,
    passes tasks to the kernel thread and results back, and reconnects by
    itself when the controller goes silent. */
#ifndef MC_NODE_H
#define MC_NODE_H
#include "mc_config.h"
#include "mc_conn.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct _mc_node_t mc_node_t;

//  endpoint: the controller's engine URL; conn (may be NULL: a bare URL)
//  the connection file with the keys for it, and origin where it came
//  from (a path or "$MCCLUSTER_ENGINE", for messages). NULL on failure.
mc_node_t *mc_node_new (const char *endpoint, const mc_conn_t *conn, const char *origin,
                        const mc_config_t *config);
void mc_node_destroy (mc_node_t **self_p);
//  What REGISTER tells besides the engine itself: the allocation that
//  started it (a launcher's tag; NULL: none) and the host name to report
//  (NULL: the system's, which network namespaces on one machine share).
void mc_node_set_launch (mc_node_t *self, const char *launch, const char *host);
//  The connection text (not a path) the engine was given in its environment
//  ($MCCLUSTER_ENGINE), which main removes so that kernels do not see it:
//  the node gives it back to itself when it restarts. Copied.
void mc_node_keep_credential (mc_node_t *self, const char *text);
//  Serve until the controller says STOP or a signal arrives. Returns 0;
//  -1 when give_up_ms (0 = never) passed without reaching the controller;
//  -3 when the controller refused the credentials in the handshake (the
//  key is not trusted, or was revoked: retrying cannot help).
int mc_node_run (mc_node_t *self, int64_t give_up_ms);
//  Self test: which tasks' results are streamed.
void mc_node_test (bool verbose);
#endif
