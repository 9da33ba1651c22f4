/*  mc_value: typed values as they travel (msgpack) and as users write and
    read them (command-line text and JSON). The controller never needs this:
    it moves kernel arguments and results as opaque msgpack bytes. */
#ifndef MC_VALUE_H
#define MC_VALUE_H
#include "mc_array.h"
#include <czmq.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

//  Pack a JSON value as msgpack (integers stay integers, reals become
//  float64). Returns 0, or -1 for a value it cannot represent.
int mc_value_pack_json (msgpack_packer *pk, const json_t *value);
//  The same; with refs, an object {"$ref": "name"} becomes an "@name"
//  reference to a value in an engine's namespace.
int mc_value_pack_json_refs (msgpack_packer *pk, const json_t *value, bool refs);
//  Pack JSON text (one value) as msgpack, appended to sb. 0, or -1 when it
//  is not JSON or cannot be represented or packed.
int mc_value_pack_json_text (msgpack_sbuffer *sb, const char *text);
//  Convert a msgpack object to a new JSON value (caller owns it). Returns
//  NULL for what JSON cannot hold (binary, ext, NaN); err names it. An
//  unsigned integer past INT64_MAX becomes a string of its digits.
json_t *mc_value_to_json (const msgpack_object *obj, char *err, size_t errlen);
//  The same, for a value whose array references index frames[0 .. count):
//  arrays become nested lists.
json_t *mc_value_to_json_frames (const msgpack_object *obj, zframe_t *const *frames, size_t count,
                                 char *err, size_t errlen);
//  What stands for a typed array in mc_value_to_json_with's output: a new
//  JSON value, or NULL with err set. array's data is borrowed for the call.
typedef json_t *(mc_value_array_fn) (const mc_array_t *array, void *arg, char *err, size_t errlen);
//  The same, with each array given to on_array (with arg) instead of made
//  into nested lists (NULL: nested lists).
json_t *mc_value_to_json_with (const msgpack_object *obj, zframe_t *const *frames, size_t count,
                               mc_value_array_fn *on_array, void *arg, char *err, size_t errlen);
//  Convert msgpack bytes holding exactly one value to JSON (caller owns).
json_t *mc_value_bytes_to_json (const void *data, size_t size, char *err, size_t errlen);
//  Parse one command-line argument: true/false/null, an integer, a float
//  (1e7, 2.5), JSON text starting with [ { or ", else a plain string.
//  Returns a new JSON value, or NULL with err for malformed JSON.
json_t *mc_value_parse_arg (const char *text, char *err, size_t errlen);
//  Parse "a:b[:step]". Returns 1 when text is not range-shaped, 0 on
//  success, -1 (err set) when it looks like a range but is malformed.
int mc_value_parse_range (const char *text, int64_t *start, int64_t *stop, int64_t *step,
                          char *err, size_t errlen);
//  Number of items of range(start, stop, step), as Python counts them.
int64_t mc_value_range_count (int64_t start, int64_t stop, int64_t step);
//  True for a valid namespace name: a letter or '_', then letters, digits
//  or '_', at most 255 characters (names of values in engine namespaces).
bool mc_value_valid_name (const char *name, size_t len);
//  True for a valid kernel name: 1 to 128 letters, digits, '_', '-' or '.'
//  (what REGISTER, submit and the kernel table all accept).
#define MC_VALUE_KERNEL_NAME_MAX 128
bool mc_value_valid_kernel_name (const char *name, size_t len);
//  A short name of an object's type ("int", "float", "string", ...).
const char *mc_value_type_name (const msgpack_object *obj);
//  Read an integer (or an integral float) from obj; 0 or -1.
int mc_value_get_int (const msgpack_object *obj, int64_t *value);
//  Read a number as double; 0 or -1.
int mc_value_get_double (const msgpack_object *obj, double *value);

//  Self test: arguments parsed, ranges, JSON <-> msgpack round trips and
//  msgpack that JSON cannot hold.
void mc_value_test (bool verbose);
#endif
