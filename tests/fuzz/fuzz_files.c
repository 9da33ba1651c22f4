/*  Files read at start: the profile's config (key = value lines) and the
    connection files (JSON), also as they come in $MCCLUSTER_ENGINE or
    $MCCLUSTER_CLIENT (the text, or base64 of it). The first byte says
    which: bit 0 a connection file, bit 1 a client's, bit 2 from the
    environment. */
#include "fuzz_util.h"
#include "mc_config.h"
#include "mc_conn.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err [512], origin [256];
    mc_role_t role = (mc_role_t) ((data [0] >> 1) & 1);
    mc_conn_t conn;
    if ((data [0] & 5) == 5) {
        char *text = fuzz_text (data + 1, size - 1);
        if (!text)
            return 0;
        setenv (mc_conn_env_name (role), text, 1);
        if (mc_conn_load (role, NULL, "/nonexistent", &conn, origin, sizeof origin, err, sizeof err) == 0)
            mc_conn_endpoint (&conn);
        unsetenv (mc_conn_env_name (role));
        free (text);
        return 0;
    }
    const char *path = fuzz_file (data + 1, size - 1);
    if (data [0] & 1) {
        if (mc_conn_read (path, role, &conn, err, sizeof err) == 0)
            mc_conn_endpoint (&conn);
    }
    else {
        mc_config_t config;
        mc_config_defaults (&config);
        mc_config_load (&config, path, err, sizeof err);
    }
    return 0;
}
