/*  mc_library: libraries of kernels and targets added by clients (LIBRARY
    and UNLOAD, mc_proto.md §3), loaded by the kernel thread between two
    tasks, so that a task runs on the version it started with. Replaced
    versions stay mapped for the engine's life (never dlclose'd). */
#ifndef MC_LIBRARY_H
#define MC_LIBRARY_H
#include "mc_proto.h"

//  Do a LIBRARY or UNLOAD (msg borrowed) and send the LOADED answer,
//  stamped with engine_id, to dest (a socket). 0, or -1 when it could not
//  be sent.
int mc_library_handle (const mc_msg_t *msg, int64_t engine_id, void *dest);
//  Remove the private directory and the libraries written there (at exit).
void mc_library_cleanup (void);
#endif
