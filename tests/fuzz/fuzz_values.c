/*  What users type: a command-line argument (number, JSON, string), a
    range "a:b:step", and the JSON they give as values; each parsed value
    packs as msgpack and reads back as the same JSON. */
#include "fuzz_util.h"
#include "mc_proto.h"
#include "mc_value.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = fuzz_text (data, size);
    if (!text)
        return 0;
    char err [256];
    int64_t start, stop, step;
    if (mc_value_parse_range (text, &start, &stop, &step, err, sizeof err) == 0)
        mc_value_range_count (start, stop, step);
    json_t *value = mc_value_parse_arg (text, err, sizeof err);
    if (value) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        if (mc_value_pack_json_refs (&pk, value, true) == 0) {
            json_t *back = mc_value_bytes_to_json (sb.data, sb.size, err, sizeof err);
            json_decref (back);
        }
        msgpack_sbuffer_destroy (&sb);
        json_decref (value);
    }
    mc_value_valid_name (text, size);
    mc_value_valid_kernel_name (text, size);
    free (text);
    return 0;
}
