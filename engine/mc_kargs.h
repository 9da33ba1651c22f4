/*  mc_kargs: a kernel's declared arguments (the `args` text of its
    mc_kernel_def_t, grammar in mc_kernel.h), parsed once, and the binding of
    a call's positional and keyword arguments to them: checked against their
    types and defaults before the kernel runs, so that a kernel reads
    `mc_kcall_double (call, "x")` and never a malformed argument. */
#ifndef MC_KARGS_H
#define MC_KARGS_H
#include "mc_kernel.h"
#include <msgpack.h>

#define MC_KARGS_MAX 16             //  declared arguments of one kernel
#define MC_KARGS_NAME_MAX 31        //  bytes of an argument's name
#define MC_KARGS_DEFAULT_MAX 63     //  bytes of a string default

//  A declared type: the mc_ktype_t of the value it takes, or ANY.
typedef enum {
    MC_KARG_ANY = 0, MC_KARG_BOOL, MC_KARG_INT, MC_KARG_FLOAT, MC_KARG_STR, MC_KARG_LIST, MC_KARG_MAP, MC_KARG_ARRAY
} mc_karg_type_t;

typedef struct {
    char name [MC_KARGS_NAME_MAX + 1];
    mc_karg_type_t type;
    bool required;                  //  no default
    bool nil_default;               //  "=nil": optional, no value when absent
    int64_t i;                      //  the default, as its type reads it
    double d;
    bool b;
    char s [MC_KARGS_DEFAULT_MAX + 1];
} mc_karg_t;

typedef struct {
    mc_karg_t arg [MC_KARGS_MAX];
    size_t count;
    size_t positional;              //  arguments before "*" (all without one)
    bool more;                      //  "...": more positionals pass through, raw
} mc_kargs_t;

//  One argument of a call once bound: its value converted to its type.
typedef struct {
    const msgpack_object *raw;      //  as it came; NULL when absent (a default)
    bool present;                   //  a value, given or by default (not a nil default)
    int64_t i;
    double d;
    bool b;
    const char *s;                  //  NUL-terminated: the default's, or a copy owned by the binding
    size_t len;
    bool owned;                     //  s was allocated for this call
} mc_kslot_t;

//  Parse text into *self: 0, or -1 with err saying what is wrong.
int mc_kargs_parse (mc_kargs_t *self, const char *text, char *err, size_t errlen);
//  The index of the argument called name, or -1.
int mc_kargs_find (const mc_kargs_t *self, const char *name);
//  A declared type's name ("int", ...).
const char *mc_kargs_type_name (mc_karg_type_t type);
void mc_kargs_test (bool verbose);
#endif
