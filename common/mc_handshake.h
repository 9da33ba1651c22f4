/*  mc_handshake: how a peer learns whether the controller let it in.
    A DEALER whose handshake fails gets no error from ZeroMQ: it retries
    for ever. A socket monitor (libzmq's events on an inproc PAIR) tells
    the peer what happened, so that it can stop and say why:

    - refused: the controller's ZAP handler said no (key not trusted or
      revoked, or an ipc peer of another uid): HANDSHAKE_FAILED_AUTH, with
      the ZAP status code (400) as its value;
    - mismatch: CURVE against NULL, or the reverse (HANDSHAKE_FAILED_PROTOCOL,
      ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    - failed: the server closed the connection in the middle of the
      handshake (HANDSHAKE_FAILED_NO_DETAIL), or another protocol error:
      for a CURVE client, a server_key that is not this server's;
    - ok: HANDSHAKE_SUCCEEDED.

    Reading the monitor never blocks. Nothing watches the socket's
    messages: a monitor costs ZeroMQ's I/O thread one message per
    connection event, none per message. */
#ifndef MC_HANDSHAKE_H
#define MC_HANDSHAKE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    MC_HANDSHAKE_PENDING = 0,       //  no handshake has finished yet
    MC_HANDSHAKE_OK,
    MC_HANDSHAKE_REFUSED,           //  the server's ZAP handler refused the credentials
    MC_HANDSHAKE_MISMATCH,          //  one side CURVE, the other not
    MC_HANDSHAKE_FAILED             //  closed during the handshake, or another protocol error
} mc_handshake_state_t;

typedef struct _mc_handshake_t mc_handshake_t;

//  Watch the handshakes of sock (a zsock_t *), to be called before it
//  connects. NULL, with errno set, when the monitor cannot be made.
mc_handshake_t *mc_handshake_new (void *sock);
//  Stop watching; call before the watched socket is destroyed.
void mc_handshake_destroy (mc_handshake_t **self_p);
//  Read the events that came, without waiting, and return the state the
//  last handshake left: a success after a failure is OK again, a failure
//  after a success is that failure.
mc_handshake_state_t mc_handshake_poll (mc_handshake_t *self);
//  How many failed handshakes in a row the last polls saw (0 after an OK).
int mc_handshake_failures (const mc_handshake_t *self);
//  The PAIR socket the events come on (a zsock_t *), to poll with the
//  watched socket when a peer waits for its first reply.
void *mc_handshake_socket (mc_handshake_t *self);
//  Which security mechanism the ZMTP server at a tcp:// endpoint offers:
//  a raw connection reads the start of its greeting ("NULL", "CURVE",
//  "PLAIN"). For telling a mechanism mismatch from a wrong server key,
//  which look alike to a CURVE client (the server just hangs up). 0, or -1
//  when the endpoint cannot be reached or says nothing within timeout_ms.
int mc_handshake_probe (const char *endpoint, char *mechanism, size_t len, int timeout_ms);
//  Read one event from a monitor's PAIR socket (a zsock_t *) without
//  waiting: true with its number and value (event 0 when malformed), or
//  false when none is waiting. For whoever runs a monitor of their own.
bool mc_handshake_event (void *monitor, uint16_t *event, uint32_t *value);
//  A FAILED handshake looks the same to a client whether its server_key is
//  not this server's or the server uses another mechanism (it just hangs
//  up): the server's greeting tells them apart. MISMATCH when the server at
//  endpoint offers another mechanism than the client's (CURVE or NULL),
//  else FAILED.
mc_handshake_state_t mc_handshake_diagnose (const char *endpoint, bool curve);
//  Self test: a CURVE server with a ZAP handler, and a client with the
//  right keys, a refused key, a wrong server key, and no CURVE.
void mc_handshake_test (bool verbose);
#endif
