/*  Unit tests: every module's selftest lives at the bottom of its source;
    this is their driver (`test_units NAME` runs one, `test_units` all).
    Asserts here are the test verdicts, so they must survive NDEBUG. */
#undef NDEBUG
#include "mc_answer.h"
#include "mc_api.h"
#include "mc_array.h"
#include "mc_config.h"
#include "mc_auth.h"
#include "mc_controller.h"
#include "mc_resume.h"
#include "mc_retention.h"
#include "mc_conn.h"
#include "mc_engines.h"
#include "mc_held.h"
#include "mc_idmap.h"
#include "mc_handshake.h"
#include "mc_hist.h"
#include "mc_job.h"
#include "mc_kcall.h"
#include "mc_ktable.h"
#include "mc_capture.h"
#include "mc_launch.h"
#include "mc_log.h"
#include "mc_namespace.h"
#include "mc_node.h"
#include "mc_ops.h"
#include "mc_parked.h"
#include "mc_proto.h"
#include "mc_reduce.h"
#include "mc_registry.h"
#include "mc_rng.h"
#include "mc_runner.h"
#include "mc_sched.h"
#include "mc_server.h"
#include "mc_store.h"
#include "mc_taskq.h"
#include "mc_time.h"
#include "mc_transient.h"
#include "mc_value.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_selftest_t;

static const s_selftest_t s_selftests [] = {
    //  common/
    { "array", mc_array_test }, { "config", mc_config_test }, { "conn", mc_conn_test },
    { "handshake", mc_handshake_test },
    { "log", mc_log_test }, { "time", mc_time_test }, { "rng", mc_rng_test },
    //  proto/
    { "proto", mc_proto_test }, { "ops", mc_ops_test }, { "value", mc_value_test },
    //  controller/
    { "registry", mc_registry_test }, { "parked", mc_parked_test }, { "held", mc_held_test },
    { "engines", mc_engines_test }, { "api", mc_api_test }, { "server", mc_server_test }, { "answer", mc_answer_test },
    { "auth", mc_auth_test },
    { "resume", mc_resume_test },
    { "retention", mc_retention_test },
    { "controller", mc_controller_test },
    { "taskq", mc_taskq_test }, { "idmap", mc_idmap_test }, { "sched", mc_sched_test }, { "job_info", mc_job_info_test },
    { "submit", mc_submit_test }, { "transient", mc_transient_test }, { "job", mc_job_test },
    { "store", mc_store_test }, { "reduce", mc_reduce_test }, { "launcher", mc_launcher_test },
    { "launch_mpi", mc_launch_mpi_test }, { "launch_pbs", mc_launch_pbs_test },
    //  engine/
    { "runner", mc_runner_test }, { "kargs", mc_kargs_test }, { "kcall", mc_kcall_test }, { "ktable", mc_ktable_test }, { "capture", mc_capture_test },
    { "builtin", mc_builtin_test }, { "sampler", mc_sampler_test }, { "hist", mc_hist_test },
    { "node", mc_node_test }, { "namespace", mc_namespace_test },
};
#define SELFTESTS (sizeof s_selftests / sizeof s_selftests [0])

int
main (int argc, char *argv [])
{
    const char *name = argc > 1? argv [1]: "all";
    bool all = !strcmp (name, "all");
    bool found = false;
    for (size_t i = 0; i < SELFTESTS; i++)
        if (all || !strcmp (name, s_selftests [i].name)) {
            s_selftests [i].test (true);
            found = true;
        }
    if (!found) {
        fprintf (stderr, "usage: test_units [all");
        for (size_t i = 0; i < SELFTESTS; i++)
            fprintf (stderr, " | %s", s_selftests [i].name);
        fprintf (stderr, "]\n");
        return 2;
    }
    return 0;
}
