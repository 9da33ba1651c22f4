/*  mc_engines: the engine side of the protocol, as the state machine of
    mc_proto.md §4. Each engine is in a state (unknown, READY, STOPPING;
    its record, owned by the registry, keeps it); each message or timeout is
    an event; one table says, for every state and event, which action runs
    and which state follows. With -vv the controller logs every
    state/event/action. */
#ifndef MC_ENGINES_H
#define MC_ENGINES_H
#include "mc_server.h"

//  What can happen to an engine.
typedef enum {
    MC_ENGINE_EV_REGISTER, MC_ENGINE_EV_PING, MC_ENGINE_EV_RESULT, MC_ENGINE_EV_CHUNK,
    MC_ENGINE_EV_BYE,               //  the engine says goodbye
    MC_ENGINE_EV_SILENCE,           //  nothing heard for liveness x heartbeat_ms
    MC_ENGINE_EV_STOP,              //  the controller stops it
    MC_ENGINE_EV_OTHER,             //  a message an engine must not send
    MC_ENGINE_EV_COUNT
} mc_engine_event_t;

//  The state of an engine the registry does not hold (never registered,
//  expired, or gone); the others are mc_engine_state_t.
#define MC_ENGINE_UNKNOWN 0

//  The scheduler's callback: send a TASK to an engine (server is the
//  mc_server_t). A TASK without array frames waits in the engine's outbox
//  until mc_engines_flush, so that the TASKs an engine gets during one
//  event of the loop go as one BATCH (mc_proto.md §3).
void mc_engines_send_task (void *server, mc_engine_t *engine, mc_task_t *task);
//  Send every outbox, one message per engine. Whatever may have queued
//  TASKs calls it when its event ends (the readers and the tick); every
//  other message to an engine that says something of its tasks (WELCOME,
//  CANCEL, STOP, ERROR, LIBRARY, UNLOAD) is sent after it, so that none
//  overtakes a TASK sent before it. (A PONG says nothing and may.)
void mc_engines_flush (mc_server_t *server);
//  Tell an engine that a client aborted this job (CANCEL, with the
//  config's abort_grace_ms): the task of it that it runs should stop.
void mc_engines_send_cancel (mc_server_t *server, mc_engine_t *engine, uint64_t job);
//  The valid kernel names of a REGISTER or LOADED (a NULL-ended list, the
//  caller's; names that are no kernel name are left out), or NULL when out
//  of memory.
char **mc_engines_kernel_names (const mc_msg_t *msg, size_t *count);
//  Keep the kernels' description a REGISTER or LOADED carries, when it is
//  sane msgpack (else none).
void mc_engines_keep_kernel_info (mc_engine_t *engine, const mc_msg_t *msg);
//  Serve what is waiting on the engine socket (a zloop reader; arg is the server).
int mc_engines_readable (zloop_t *loop, zsock_t *sock, void *server);
//  Expire every engine silent for longer than heartbeat_liveness x heartbeat_ms.
void mc_engines_expire (mc_server_t *server, int64_t now_us);
//  Forget the engine on this connection at once, as if it had expired (its
//  load-balanced tasks are queued again): its key was revoked. Returns the
//  tasks it had in flight, or -1 when no engine is registered on it.
int64_t mc_engines_drop (mc_server_t *server, zframe_t *routing_id, const char *why);
//  A local engine's process (host, pid) has exited, as its parent saw:
//  forget its engine at once, as mc_engines_drop does, for why. Returns the
//  id it had, or the id handed over to that process but not yet claimed
//  (mc_registry_hand_over), with its restarts in *restarts; else -1.
int64_t mc_engines_exited (mc_server_t *server, const char *host, int64_t pid, const char *why, uint32_t *restarts);
//  Tell one engine to stop (STOP): it gets no more tasks, and its BYE
//  queues again what it had not finished.
void mc_engines_stop_one (mc_server_t *server, mc_engine_t *engine);
//  Tell every engine to stop and wait up to timeout_ms for their goodbyes.
void mc_engines_stop (mc_server_t *server, int timeout_ms);
//  The transition table: the action's name for this state and event, with
//  the state that follows in *next. For tests and logs.
const char *mc_engines_transition (int state, mc_engine_event_t event, int *next);

//  Self test: the transition table against mc_proto.md §4.
void mc_engines_test (bool verbose);
#endif
