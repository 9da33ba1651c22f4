/*  mc_ops: every operation of MCP/3, each listed once (mc_proto.md §6 and
    §3). Client operations are the `op` of a REQUEST; namespace operations
    are the `%` kernels every engine runs on its own namespace. The wire
    carries names; programs dispatch on the numeric codes, found once per
    message with mc_op_find or mc_nsop_find, never by comparing strings. */
#ifndef MC_OPS_H
#define MC_OPS_H
#include <stdbool.h>
#include <stddef.h>

//  Client operations (REQUEST op), in the order of the spec's table.
typedef enum {
    MC_OP_NONE = 0,                 //  not an operation
    MC_OP_PING, MC_OP_IDS, MC_OP_ENGINES, MC_OP_SUBMIT, MC_OP_STATUS, MC_OP_WAIT,
    MC_OP_RESULT, MC_OP_JOBS, MC_OP_KERNELS, MC_OP_QUEUE, MC_OP_SHUTDOWN, MC_OP_TRUST,
    MC_OP_ABORT, MC_OP_PURGE, MC_OP_ALLOCATIONS, MC_OP_ENGINES_ADD, MC_OP_ENGINES_STOP,
    MC_OP_RENICE, MC_OP_KERNELS_ADD, MC_OP_KERNELS_REMOVE,
    MC_OP_COUNT
} mc_op_code_t;

typedef struct {
    mc_op_code_t code;
    const char *name;               //  the REQUEST's op
    //  The request body's keys and their types, "key:type" separated by
    //  spaces (types str, uint, int, bool, array, map, any); "" for none.
    const char *fields;
    bool parks;                     //  may be parked on a job and answered when it finishes
    const char *summary;            //  one line, for help texts
} mc_op_t;

//  The operation of this name (name need not be NUL-terminated), or NULL.
const mc_op_t *mc_op_find (const char *name, size_t len);
//  The operation with this code; asserts that it is one.
const mc_op_t *mc_op_get (mc_op_code_t code);
//  The name of an operation (mc_op_get (code)->name).
const char *mc_op_name (mc_op_code_t code);

//  Namespace operations (kernels named "%..."), in the order of the spec's table.
typedef enum {
    MC_NSOP_NONE = 0,
    MC_NSOP_PUSH, MC_NSOP_SCATTER, MC_NSOP_PULL, MC_NSOP_DEL, MC_NSOP_NAMES,
    MC_NSOP_COUNT
} mc_nsop_code_t;

typedef struct {
    mc_nsop_code_t code;
    const char *name;               //  the kernel name, starting with '%'
    const char *kind;               //  the job kind it is sent as: "apply" or "map"
    const char *takes;              //  what it reads: "kwargs" (name -> value), "args" (names), "" nothing
    bool may_stream;                //  its result's large arrays may be streamed ("stream": true)
} mc_nsop_t;

//  The namespace operation of this kernel name, or NULL (also for every
//  kernel name not starting with '%').
const mc_nsop_t *mc_nsop_find (const char *name, size_t len);
const mc_nsop_t *mc_nsop_get (mc_nsop_code_t code);
const char *mc_nsop_name (mc_nsop_code_t code);

//  Self test: lookups, and both tables against the spec (mc_proto.md).
void mc_ops_test (bool verbose);
#endif
