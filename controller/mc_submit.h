/*  mc_submit: a submit body (mc_proto.md, the submit operation), parsed and
    checked once. A submit keeps its own copy of the body and every object
    it holds points into that copy, so the body alone can rebuild it. Read
    only after mc_submit_parse; mc_job builds a job's tasks from it. */
#ifndef MC_SUBMIT_H
#define MC_SUBMIT_H
#include "mc_config.h"
#include "mc_job_info.h"
#include "mc_ops.h"
#include "mc_proto.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#define MC_JOB_NAME_MAX 255         //  namespace names
#define MC_SUBMIT_RETRIES_MAX 100   //  most `retries` a submit may ask for
#define MC_SUBMIT_PRIORITY_MAX 1000 //  `priority` runs from -this to this

typedef struct {
    char *body;                     //  copy of the submit body (owned)
    size_t body_size;               //  bytes
    msgpack_zone zone;              //  holds `spec`, which points into `body`
    bool zone_ready;                //  zone was initialised (and must be destroyed)
    msgpack_object spec;
    msgpack_sbuffer args, kwargs;   //  encoded once, sent with every task
    bool is_map;                    //  kind "map", else "apply"
    bool is_range;                  //  a map over a range, else over seq_items
    int64_t range_start, range_step;
    const msgpack_object *seq_items;    //  a map's items (points into spec)
    uint64_t chunksize;             //  items per load-balanced task
    const msgpack_object *targets;  //  NULL when load-balanced
    const msgpack_object *args_obj, *kwargs_obj;    //  point into spec; NULL when absent
    const mc_nsop_t *nsop;          //  the namespace operation it runs, or NULL for a kernel
    char out [MC_JOB_NAME_MAX + 1]; //  namespace name for results, or ""
    msgpack_sbuffer engine_reduce;  //  hist2d spec for the engines, or empty
    bool transient;                 //  results go back to the submitter, never to the store
    bool streams;                   //  a %pull whose large arrays come in chunks
    uint32_t retries;               //  times a task whose kernel failed is run again (0..MC_SUBMIT_RETRIES_MAX)
} mc_submit_t;

//  Parse and check a submit body (copied) into self, and fill in what the
//  zeroed info says of it (kind, kernel, total, seed, reduce, single,
//  submitted_us).
//  0, or -1 with *code (MC_E_...) and a one-line err naming the bad field.
//  Either way mc_submit_reset frees what self holds.
int mc_submit_parse (mc_submit_t *self, mc_job_info_t *info, const void *body, size_t size,
                     uint64_t seed_if_absent, int *code, char *err, size_t errlen);
void mc_submit_reset (mc_submit_t *self);

//  Hold a parsed submit to the named limits of config before it is split
//  into tasks: max_job_bytes (its body plus frame_bytes, the bytes of the
//  request's array frames), max_items_per_task and max_task_bytes (its
//  largest task, split load-balanced or, with ntargets > 0, one block per
//  target; a task's bytes count its arguments, items and, at most, every
//  array frame of the request). *ntasks gets the number of tasks it splits
//  into, for the queue's limit. 0, or -1 with *code MC_E_BAD_ARGUMENT and a
//  one-line err naming the limit and its value. Never overflows, whatever
//  the counts.
int mc_submit_check_limits (const mc_submit_t *self, const mc_job_info_t *info, uint64_t ntargets,
                            uint64_t frame_bytes, const mc_config_t *config, uint64_t *ntasks,
                            int *code, char *err, size_t errlen);

//  Self test: bodies refused (with their codes and the field named) and
//  accepted, ranges counted as Python counts them.
void mc_submit_test (bool verbose);
#endif
