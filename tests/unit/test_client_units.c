/*  The selftests of libmcclient's and mcclient's modules, each at the
    bottom of its own source: `test_client_units NAME` runs one (ctest runs
    each as unit_client_NAME), `all` runs every one. */
#include "mc_client_int.h"
#include "mc_fanout.h"
#include "mc_join.h"
#include "mc_pages.h"
#include "mc_cli.h"
#include "mc_cli_cluster.h"
#include "mc_cli_trust.h"
#include "mc_cli_engines.h"
#include "mc_cli_jobs.h"
#include "mc_cli_kernels.h"
#include "mc_cli_help.h"
#include "mc_cli_namespace.h"
#include "mc_cli_submit.h"
#include "mc_cli_value.h"
#include "mc_picture.h"
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    void (*test) (bool verbose);
} s_tests [] = {
    { "client", mc_client_test },
    { "namespace", mc_client_namespace_test },
    { "fanout", mc_fanout_test },
    { "join", mc_join_test },
    { "pages", mc_pages_test },
    { "compile", mc_compile_test },
    { "cli", mc_cli_test },
    { "cli_cluster", mc_cli_cluster_test },
    { "cli_trust", mc_cli_trust_test },
    { "cli_engines", mc_cli_engines_test },
    { "cli_jobs", mc_cli_jobs_test },
    { "cli_kernels", mc_cli_kernels_test },
    { "cli_help", mc_cli_help_test },
    { "cli_submit", mc_cli_submit_test },
    { "cli_namespace", mc_cli_namespace_test },
    { "cli_value", mc_cli_value_test },
    { "picture", mc_picture_test },
};

int
main (int argc, char *argv [])
{
    const char *name = argc > 1? argv [1]: "all";
    bool verbose = argc > 2 && !strcmp (argv [2], "-v");
    bool found = false;
    for (size_t i = 0; i < sizeof s_tests / sizeof s_tests [0]; i++)
        if (!strcmp (name, "all") || !strcmp (name, s_tests [i].name)) {
            s_tests [i].test (verbose);
            found = true;
        }
    if (!found) {
        fprintf (stderr, "test_client_units: no selftest '%s'\n", name);
        return 1;
    }
    return 0;
}
