/*  A client's submit body as the controller reads it: parsed and checked,
    split into tasks over a few engines or the load-balanced queue, and
    each task's items and arguments packed as a TASK would carry them. */
#include "mc_job.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int code;
    char err [512];
    mc_job_t *job = mc_job_new (1, data, size, 7, &code, err, sizeof err);
    if (!job)
        return 0;
    const int32_t engines [] = { 0, 1, 2 };
    const msgpack_object *targets = mc_job_targets (job);
    if (mc_job_plan (job, engines, targets? 3: 0) == 0) {
        mc_job_info_t *info = mc_job_info (job);
        for (uint64_t t = 0; t < info->tasks && t < 64; t++) {
            msgpack_sbuffer a, k, i;
            msgpack_sbuffer_init (&a);
            msgpack_sbuffer_init (&k);
            msgpack_sbuffer_init (&i);
            msgpack_packer apk, kpk, ipk;
            msgpack_packer_init (&apk, &a, msgpack_sbuffer_write);
            msgpack_packer_init (&kpk, &k, msgpack_sbuffer_write);
            msgpack_packer_init (&ipk, &i, msgpack_sbuffer_write);
            zlist_t *frames = zlist_new ();
            mc_task_t *task = mc_job_rest (job)? mc_job_make_task (job): mc_job_task (job, t);
            if (!task)
                break;
            if (mc_job_frame_count (job))
                mc_job_pack_task (job, task, &apk, &kpk, &ipk, frames);
            else
            if (task->count)
                mc_job_pack_items (job, task, &ipk);
            zlist_destroy (&frames);
            msgpack_sbuffer_destroy (&a);
            msgpack_sbuffer_destroy (&k);
            msgpack_sbuffer_destroy (&i);
        }
    }
    mc_job_destroy (&job);
    return 0;
}
