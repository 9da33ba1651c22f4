/*  The codec on what a peer sends: a message of frames (header, bodies,
    array and chunk frames), decoded as a ROUTER or DEALER would, its
    bodies unpacked and its values read with their frames, and a decoded
    header encoded and decoded again, and a BATCH's messages read and built
    into a batch again. The input is frames, each a 2-byte
    little-endian length and its bytes; the first byte chooses the socket. */
#include "mc_proto.h"
#include "mc_value.h"

static void
s_read_value (mc_bytes_t bytes, zframe_t *const *frames, size_t count)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    char err [256];
    if (bytes.size && mc_proto_unpack (bytes.ptr, bytes.size, &zone, &obj) == 0) {
        json_t *json = mc_value_to_json_frames (&obj, frames, count, err, sizeof err);
        json_decref (json);
    }
    msgpack_zone_destroy (&zone);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool router = data [0] & 1;
    zmsg_t *zmsg = zmsg_new ();
    for (size_t at = 1; at < size;) {
        size_t len = data [at] | (at + 1 < size? (size_t) data [at + 1] << 8: 0);
        at += 2;
        if (at > size)
            at = size;
        if (len > size - at)
            len = size - at;
        zmsg_addmem (zmsg, data + at, len);
        at += len;
    }
    mc_msg_t msg;
    mc_msg_init (&msg);
    int code;
    if (mc_msg_take (&msg, &zmsg, router, &code) == 0) {
        mc_bytes_t fields [] = { msg.data, msg.args, msg.kwargs, msg.items, msg.meta, msg.reduce, msg.kernel_info };
        for (size_t i = 0; i < sizeof fields / sizeof fields [0]; i++)
            s_read_value (fields [i], msg.frames, msg.frame_count);
        zframe_t *header = mc_msg_encode (&msg);
        if (header) {
            mc_msg_t again;
            mc_msg_init (&again);
            if (mc_msg_decode (&again, zframe_data (header), zframe_size (header), &code) != 0
            ||  again.type != msg.type)
                abort ();           //  what we encode we must read back
            mc_msg_reset (&again);
            zframe_destroy (&header);
        }
        //  A BATCH's messages, read as its receivers read them, and built
        //  again into a batch that must read back the same.
        size_t offset = 0, count = 0;
        mc_msg_t inner;
        msgpack_sbuffer rebuilt;
        msgpack_sbuffer_init (&rebuilt);
        while (msg.type == MC_BATCH && mc_batch_next (&msg, &offset, &inner, &code) == 1) {
            if (mc_batch_append_header (&rebuilt, inner.raw.ptr, inner.raw.size) == 0)
                count++;
            mc_msg_reset (&inner);
        }
        mc_msg_t copy;
        mc_msg_init (&copy);
        copy.type = MC_BATCH;
        copy.batch.ptr = rebuilt.data;
        copy.batch.size = rebuilt.size;
        offset = 0;
        for (size_t i = 0; i < count; i++)
            if (mc_batch_next (&copy, &offset, &inner, &code) != 1)
                abort ();
        if (count && mc_batch_next (&copy, &offset, &inner, &code) != 0)
            abort ();
        msgpack_sbuffer_destroy (&rebuilt);
    }
    mc_msg_reset (&msg);
    zmsg_destroy (&zmsg);
    return 0;
}
