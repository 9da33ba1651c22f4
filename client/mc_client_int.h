/*  What libmcclient's modules share and users do not see. */
#ifndef MC_CLIENT_INT_H
#define MC_CLIENT_INT_H
#include "mccluster.h"
#include "mc_proto.h"

//  Send a request whose body is msgpack bytes, with array frames (borrowed),
//  and wait for its reply; 0, or -1 with the error set.
int mc_client_request (mc_client_t *self, const char *op, const void *body, size_t size,
                       zframe_t **frames, size_t count, int timeout_ms);
//  The last reply (borrowed until the next request).
const mc_msg_t *mc_client_reply (const mc_client_t *self);
void mc_client_set_error (mc_client_t *self, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
#endif
