/*  The msgpack pre-scan that stands before every unpack of peer bytes:
    what it passes must unpack within bounded memory, repack with arrays
    inlined, and convert to JSON, without a sanitizer report; and
    mc_proto_valid_array, which does not unpack, must say what unpacking
    says. */
#include "mc_proto.h"
#include "mc_value.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    bool sane = mc_proto_sane (data, size);
    bool unpacks = mc_proto_unpack (data, size, &zone, &obj) == 0;
    uint32_t declared;
    if (mc_proto_array_header (data, size, &declared) >= 0 && mc_proto_valid_array (data, size, declared) != unpacks)
        abort ();                   //  the one-pass check must say what unpacking says
    if (unpacks) {
        if (!sane)
            abort ();               //  unpack must refuse what the scan refuses
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        mc_repack_t how = { NULL, 0, NULL, true, NULL, NULL };
        mc_proto_repack (&pk, &obj, &how);
        msgpack_sbuffer_destroy (&sb);
        char err [256];
        json_decref (mc_value_to_json (&obj, err, sizeof err));
        uint32_t count;
        mc_proto_array_header (data, size, &count);
        mc_proto_valid_array (data, size, count);
    }
    msgpack_zone_destroy (&zone);
    return 0;
}
