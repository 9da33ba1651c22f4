/*  mc_proto: the one codec of MCP/3 (see mc_proto.md).
    A message is decoded into an mc_msg_t whose string and bin fields point
    into the received frame; they stay valid until the message is reset.
    Arrays ride as raw frames after the header, referred to by ext values
    inside the bin fields (mc_array.h). Decoding never trusts its input:
    garbage yields -2, never an assert. */
#ifndef MC_PROTO_H
#define MC_PROTO_H
#include "mc_array.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#define MC_PROTO_SIGNATURE  0x4D43
#define MC_PROTO_VERSION    3
#define MC_PROTO_MAX_STR    4096
#define MC_PROTO_MAX_KERNELS 1024
#define MC_PROTO_MAX_FRAMES 65536     //  array frames after one header

//  Message types
enum {
    MC_REGISTER = 1, MC_WELCOME = 2, MC_PING = 3, MC_PONG = 4, MC_TASK = 5,
    MC_RESULT = 6, MC_STOP = 7, MC_BYE = 8, MC_ERROR = 9, MC_RESULT_CHUNK = 10,
    MC_CANCEL = 11, MC_BATCH = 12, MC_LIBRARY = 13, MC_UNLOAD = 14, MC_LOADED = 15,
    MC_REQUEST = 20, MC_REPLY = 21, MC_REPLY_CHUNK = 22
};

//  Array frames of more than this many bytes are streamed in chunks of at
//  most this many, when asked (see RESULT_CHUNK in mc_proto.md).
#define MC_PROTO_CHUNK      (4u << 20)
//  The largest library a client may add (LIBRARY, kernels_add).
#define MC_PROTO_MAX_LIBRARY (256u << 20)

//  Error codes
enum {
    MC_OK = 0, MC_E_MALFORMED = 1, MC_E_VERSION = 2, MC_E_NOT_REGISTERED = 3,
    MC_E_UNKNOWN_OP = 4, MC_E_BAD_ARGUMENT = 5, MC_E_UNKNOWN_JOB = 6,
    MC_E_UNKNOWN_ENGINE = 7, MC_E_UNKNOWN_KERNEL = 8, MC_E_QUEUE_FULL = 9,
    MC_E_KERNEL_ERROR = 10, MC_E_ENGINE_LOST = 11, MC_E_NO_ENGINES = 12,
    MC_E_SHUTTING_DOWN = 13, MC_E_INTERNAL = 14, MC_E_DENIED = 15,
    MC_E_ABORTED = 16
};

//  A borrowed byte string (not NUL-terminated).
typedef struct {
    const char *ptr;
    size_t size;
} mc_bytes_t;

//  One message, any type: only the fields of its type are meaningful.
typedef struct {
    int type;
    int64_t engine_id;              //  REGISTER WELCOME PING RESULT RESULT_CHUNK BYE
    int64_t pid;                    //  REGISTER
    int64_t started_us, finished_us;//  RESULT
    uint64_t heartbeat_ms, liveness;//  WELCOME
    uint64_t grace_ms;              //  CANCEL: how long the kernel may take to return
    uint64_t job, task, first, count, seed;    //  TASK RESULT (job: CANCEL too)
    uint64_t status;                //  RESULT REPLY; code in ERROR
    uint64_t req;                   //  REQUEST REPLY REPLY_CHUNK
    uint64_t frame, frame_size, offset; //  RESULT_CHUNK REPLY_CHUNK: where its one frame's bytes go
    mc_bytes_t uuid, host;          //  REGISTER
    mc_bytes_t kernel_info;         //  REGISTER: msgpack array of [name, doc, args] per kernel
    mc_bytes_t launch;              //  REGISTER: the allocation that started the engine, or empty
    mc_bytes_t kernel;              //  TASK
    mc_bytes_t out;                 //  TASK: namespace name for the result, or empty
    mc_bytes_t reduce;              //  TASK: msgpack map of what to do to each result (hist2d), or empty
    mc_bytes_t op;                  //  REQUEST
    mc_bytes_t text;                //  RESULT REPLY ERROR: error text
    mc_bytes_t args, kwargs, items; //  TASK (msgpack bytes)
    mc_bytes_t data;                //  RESULT data, REQUEST/REPLY body (msgpack bytes)
    mc_bytes_t meta;                //  RESULT: msgpack map of task metadata, or empty
    mc_bytes_t batch;               //  BATCH: a msgpack array of bin, each a whole header
    mc_bytes_t name, hash;          //  LIBRARY UNLOAD LOADED: the library's name, its SHA-256 in hex
    mc_bytes_t added;               //  LOADED: msgpack array of the names the library added
    uint64_t size;                  //  LIBRARY: bytes of its one frame
    mc_bytes_t raw;                 //  on receive: the header bytes it was decoded from
    //  Array frames after the header. On receive the pointers are borrowed
    //  from zmsg (the array itself is the message's); on send they are the
    //  caller's, sent without being consumed (ZeroMQ shares, not copies, them).
    zframe_t **frames;
    size_t frame_count;
    //  RESULT REPLY, on receive: per frame, the bytes of a streamed (empty)
    //  frame, else 0; NULL when there is none. Owned by the message.
    uint64_t *streamed;
    mc_bytes_t kernels [MC_PROTO_MAX_KERNELS];  //  REGISTER
    size_t kernel_count;
    //  Owned by the message:
    zframe_t *routing_id;           //  set by mc_msg_recv on a ROUTER socket
    zmsg_t *zmsg;                   //  the received frames the fields point into
    bool frames_owned;              //  frames[] was allocated by mc_msg_recv
} mc_msg_t;

//  Zero a message so that every field is empty.
void mc_msg_init (mc_msg_t *self);
//  Free what the message owns and zero it.
void mc_msg_reset (mc_msg_t *self);
//  Decode a header frame. Returns 0, or -2 when the bytes are not a valid
//  MCP/3 header (with *code set to MC_E_MALFORMED or MC_E_VERSION). After
//  -2, self->type and self->req are those of a REQUEST or REPLY whose
//  signature, version, type and req could still be read (the fields that
//  come first), so that the error can be answered to that request; else
//  self->type is 0.
int mc_msg_decode (mc_msg_t *self, const void *data, size_t size, int *code);
//  Encode the message's header into a new frame (caller owns it), or NULL
//  when out of memory.
zframe_t *mc_msg_encode (const mc_msg_t *self);
//  Send the message and its array frames; routing_id (borrowed, may be
//  NULL) is sent first on a ROUTER socket. Returns 0 or -1.
int mc_msg_send (const mc_msg_t *self, void *sock, zframe_t *routing_id);
//  Put `with` (taken) in the place of array frame i of a received message;
//  returns the frame it replaces, now the caller's.
zframe_t *mc_msg_swap_frame (mc_msg_t *self, size_t i, zframe_t **with_p);
//  Send a received RESULT with each array frame of more than `chunk` bytes
//  streamed ahead of it as RESULT_CHUNKs, then the RESULT with those frames
//  empty. The chunks share the frames' memory (nothing is copied), which
//  stays alive until ZeroMQ has sent them. Returns 0 or -1.
int mc_msg_send_streamed (mc_msg_t *self, void *sock, size_t chunk);
//  BATCH (mc_proto.md §3): several messages without array frames, for one
//  peer, in one. Append the header of such a message to `batch`, a buffer
//  that holds the headers of a batch being built (start it empty). 0, or
//  -1 when out of memory (the buffer is then as it was).
int mc_batch_append (msgpack_sbuffer *batch, const mc_msg_t *msg);
//  The same for a header already encoded (a frame mc_msg_encode made).
int mc_batch_append_header (msgpack_sbuffer *batch, const void *header, size_t size);
//  Send the `count` headers of `batch` as one BATCH, or, when there is only
//  one, as that message itself; routing_id as in mc_msg_send. 0 or -1.
int mc_batch_send (const msgpack_sbuffer *batch, size_t count, void *sock, zframe_t *routing_id);
//  The next message of a received BATCH, from *offset (0 at first): decoded
//  into `inner`, whose fields point into the batch's frame. Returns 1, 0
//  after the last, or -2 with *code set when what comes next is no header,
//  is a BATCH, or refers to array frames (a batch carries none).
int mc_batch_next (const mc_msg_t *batch, size_t *offset, mc_msg_t *inner, int *code);
//  The same for a BATCH whose messages this process has gone through with
//  mc_batch_next already (see mc_msg_take_checked): their bin fields are
//  not scanned a second time.
int mc_batch_next_checked (const mc_msg_t *batch, size_t *offset, mc_msg_t *inner, int *code);
//  Receive and decode one message. On a ROUTER socket set router=true so
//  that the routing id is kept in self->routing_id. Every array reference
//  in the bin fields is checked against the frames that came with it:
//  each frame must be referred to exactly once, with a matching size.
//  Returns 0, -1 when nothing could be received (interrupted), -2 when the
//  peer sent garbage (self->routing_id is then still set so that the
//  caller can answer, and self->type and self->req as mc_msg_decode
//  leaves them when the header could be read that far) or when memory ran
//  out reading it (*code is then MC_E_INTERNAL instead of MC_E_MALFORMED).
int mc_msg_recv (mc_msg_t *self, void *sock, bool router, int *code);
//  Decode a message already received (header, then array frames; the
//  routing id first when router). Takes the zmsg. Returns as mc_msg_recv.
int mc_msg_take (mc_msg_t *self, zmsg_t **zmsg_p, bool router, int *code);
//  The same for a message that this process has received and checked
//  already (with mc_msg_recv, mc_msg_take or mc_batch_next) and then passed
//  between two of its own threads, as an engine's I/O thread hands a TASK
//  to its kernel thread: the header is decoded again, but its bin fields
//  and array references are not scanned a second time, and `streamed` is
//  not filled. Never for bytes that came from a peer without that check.
//  Not for a router socket. Returns as mc_msg_take.
int mc_msg_take_checked (mc_msg_t *self, zmsg_t **zmsg_p, int *code);
//  The name of a message type, or "?".
const char *mc_msg_type_name (int type);
//  The name of an error code, or "?".
const char *mc_proto_error_name (uint64_t code);
//  Copy bytes into a NUL-terminated buffer, truncating; returns buf.
char *mc_bytes_str (mc_bytes_t bytes, char *buf, size_t len);
//  True when bytes equal the C string.
bool mc_bytes_eq (mc_bytes_t bytes, const char *text);

//  Pack a C string. 0, or -1 when the packer's buffer cannot grow.
int mc_proto_pack_str (msgpack_packer *pk, const char *text);

//  Look up a string key in a msgpack map; NULL when absent or obj is no map.
const msgpack_object *mc_proto_map_get (const msgpack_object *obj, const char *key);

//  True when data is one complete msgpack value whose containers never
//  claim more elements than there are bytes left, and whose ext values are
//  well-formed MCP/3 arrays or names. Run it before unpacking anything a
//  peer sent: msgpack-c reserves memory for a container's claimed size up
//  front, so a 6-byte message could otherwise ask for gigabytes. Linear in
//  size; nesting depth is limited to 64.
bool mc_proto_sane (const void *data, size_t size);

//  Unpack peer bytes that must hold exactly one value: the pre-scan above,
//  then msgpack-c into zone. 0, or -1 for anything else.
int mc_proto_unpack (const void *data, size_t size, msgpack_zone *zone, msgpack_object *obj);
//  The same without the pre-scan, for bytes that passed it already: a bin
//  field of a message checked by mc_msg_recv, mc_msg_take or mc_batch_next
//  (its bin fields are scanned there), or what this process packed itself.
int mc_proto_unpack_checked (const void *data, size_t size, msgpack_zone *zone, msgpack_object *obj);

//  Length in bytes of the msgpack array header at data, with its element
//  count in *count; -1 when data does not start with an array header.
//  An integer in msgpack's shortest form for it (the bytes msgpack_pack_int64
//  makes), written at p: how many bytes, at most 9.
size_t mc_proto_put_int (uint8_t *p, int64_t v);
//  The big-endian unsigned integer of n (at most 8) bytes at p.
uint64_t mc_proto_be (const uint8_t *p, size_t n);
int mc_proto_array_header (const void *data, size_t size, uint32_t *count);
//  True when data holds exactly one well-formed msgpack value that is an
//  array of `count` elements: one that mc_proto_unpack takes, told in one
//  pass over the bytes, without unpacking it.
bool mc_proto_valid_array (const void *data, size_t size, uint32_t count);

//  Copy a value into pk, renumbering array references. A reference to
//  frame i of `in` appends in[i] to `out` (a list of borrowed frames) and
//  becomes a reference to its index there (an empty frame that stands for a
//  streamed array moves as it is); with `inline_arrays` the data is copied
//  into the value instead (for storage). A name reference is handed
//  to name_fn when given (which packs what replaces it), else copied.
typedef struct {
    zframe_t *const *in;
    size_t in_count;
    zlist_t *out;                   //  may be NULL when inline_arrays
    bool inline_arrays;
    int (*name_fn) (void *arg, msgpack_packer *pk, const char *name, size_t len);
    void *name_arg;
} mc_repack_t;
int mc_proto_repack (msgpack_packer *pk, const msgpack_object *obj, const mc_repack_t *how);
//  Data of an array value: the inline bytes, or those of its frame in
//  frames[]. NULL when obj is no array or its frame is missing.
const void *mc_proto_array_data (const msgpack_object *obj, zframe_t *const *frames, size_t count,
                                 mc_array_t *array);

//  The frames of a list as a new array, for mc_msg_t.frames: the caller
//  frees the array, never the frames (still the list's owner's). *count
//  gets their number. NULL (and *count 0) when out of memory.
zframe_t **mc_proto_frame_array (zlist_t *list, size_t *count);

//  A new frame of size bytes (copied from data unless it is NULL), or NULL
//  when the memory cannot be had. Use it instead of zframe_new for array
//  data: zframe_new does not check its allocation, so a failure crashes.
zframe_t *mc_proto_frame_new (const void *data, size_t size);

//  For daemons: allocate large frames from the heap and keep freed ones
//  there for the next message, instead of mapping fresh memory each time
//  (a fresh mapping costs a page fault per 4 KiB: a third of the time of an
//  80 MB transfer). Call once at start; mc_proto_trim gives memory back.
void mc_proto_keep_frames_warm (void);
void mc_proto_trim (void);

//  Self test: round trips of every message and garbage of every kind.
void mc_proto_test (bool verbose);
#endif
