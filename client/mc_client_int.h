/*  What libmcclient's modules share and users do not see: requests sent
    and replies received without JSON in between, for the fanout of the
    direct view; and the library's selftests. */
#ifndef MC_CLIENT_INT_H
#define MC_CLIENT_INT_H
#include "mccluster.h"
#include "mc_proto.h"

//  Bytes of an array frame, sent from where they are.
typedef struct {
    const void *data;
    size_t size;
} mc_slice_t;

//  A buffer of msgpack bytes that remembers a failed write: packing calls
//  are many, and msgpack's callers mostly ignore what each returns.
typedef struct {
    msgpack_sbuffer sb;
    bool truncated;                 //  a write failed: the bytes are not whole
} mc_packbuf_t;
//  msgpack's writer into an mc_packbuf_t (data), for msgpack_packer_init.
int mc_packbuf_write (void *data, const char *buf, size_t len);

//  Send a request whose body is msgpack bytes, followed by array frames
//  read from slices without copying: the caller keeps their memory until
//  mc_client_settle returns. Several requests may be outstanding. Returns
//  the request id, or 0 with the error set.
uint64_t mc_client_send (mc_client_t *self, const char *op, const void *body, size_t size,
                         const mc_slice_t *slices, size_t count);
//  Receive the next reply, or chunk of one (reply->type says which), whose
//  request id is in [lo, hi] into reply (timeout_ms < 0: no deadline, but
//  the controller is probed as mc_client_call says, so the wait ends when
//  it is gone or restarted). 0, or
//  -1 with the error set (a reply with an error status is also -1;
//  reply->req says which, or is 0 when the controller could not read the
//  request's id: it answers one of those waited for, so the wait ends).
//  Only requests that ask for streaming get chunks.
int mc_client_recv (mc_client_t *self, mc_msg_t *reply, uint64_t lo, uint64_t hi, int timeout_ms);
//  Wait until ZeroMQ has let go of every slice sent.
void mc_client_settle (mc_client_t *self);
void mc_client_set_error (mc_client_t *self, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

//  Self tests of mc_client.c (what a client says when it cannot connect)
//  and of mc_client_namespace.c (the partitions of scatter).
void mc_client_test (bool verbose);
void mc_client_namespace_test (bool verbose);
void mc_compile_test (bool verbose);
#endif
