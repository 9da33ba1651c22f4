/*  Files read at start: the profile's config (key = value lines) and the
    connection file (JSON). The first byte says which. */
#include "fuzz_util.h"
#include "mc_config.h"
#include "mc_conn.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_file (data + 1, size - 1);
    char err [512];
    if (data [0] & 1) {
        mc_conn_t conn;
        if (mc_conn_read (path, (mc_role_t) ((data [0] >> 1) & 1), &conn, err, sizeof err) == 0)
            mc_conn_endpoint (&conn);
    }
    else {
        mc_config_t config;
        mc_config_defaults (&config);
        mc_config_load (&config, path, err, sizeof err);
    }
    return 0;
}
