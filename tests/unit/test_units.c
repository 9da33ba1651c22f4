/*  Unit tests of each module; `test_units NAME` runs one (ctest runs all). */
#include "mc_proto.h"
#include "mc_sched.h"
#include "mc_store.h"
int main (int argc, char **argv) { (void) argc; (void) argv; mc_proto_test (true); return 0; }
