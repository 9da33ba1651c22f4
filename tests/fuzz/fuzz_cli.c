/*  The command line's own parsers: target lists ("all", "0,2", "1:3"),
    histogram bins ("50x50") and ranges ("0:1,0:1"). */
#include "fuzz_util.h"
#include "mc_cli.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = fuzz_text (data, size);
    if (!text)
        return 0;
    json_decref (mc_cli_parse_targets (text));
    size_t nx, ny;
    mc_cli_parse_bins (text, &nx, &ny);
    double box [4];
    mc_cli_parse_box (text, box);
    free (text);
    return 0;
}
