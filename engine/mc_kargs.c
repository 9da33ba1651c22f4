/*  mc_kargs: the parser of a kernel's declared arguments. Kernels are
    registered once, so parsing costs nothing per call; what a call binds is
    checked in mc_kcall. */
#include "mc_kargs.h"
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_type_names [] = { "any", "bool", "int", "float", "str", "list", "map", "array" };

const char *
mc_kargs_type_name (mc_karg_type_t type)
{
    return s_type_names [type];
}

//  The default text of arg (after '=') into its fields: 0 or -1.
static int
s_default (mc_karg_t *arg, const char *text, size_t len)
{
    char buf [MC_KARGS_DEFAULT_MAX + 1], *end;
    if (len > MC_KARGS_DEFAULT_MAX)
        return -1;
    memcpy (buf, text, len);
    buf [len] = 0;
    arg->required = false;
    if (!strcmp (buf, "nil")) {
        arg->nil_default = true;
        return 0;
    }
    errno = 0;
    switch (arg->type) {
        case MC_KARG_INT:
            arg->d = strtod (buf, &end);
            if (*end || end == buf || arg->d != floor (arg->d) || fabs (arg->d) > 9e15)
                return -1;
            arg->i = (int64_t) arg->d;
            return 0;
        case MC_KARG_FLOAT:
            arg->d = strtod (buf, &end);
            return *end || end == buf? -1: 0;
        case MC_KARG_BOOL:
            if (strcmp (buf, "true") && strcmp (buf, "false"))
                return -1;
            arg->b = buf [0] == 't';
            return 0;
        case MC_KARG_STR:
            memcpy (arg->s, buf, len + 1);
            return 0;
        default:
            return -1;              //  lists, maps, arrays and any: nil only
    }
}

//  One "name:type[=default]" word of len bytes into arg: 0 or -1.
static int
s_word (mc_karg_t *arg, const char *word, size_t len)
{
    const char *colon = memchr (word, ':', len), *eq = memchr (word, '=', len);
    if (!colon || colon == word || (size_t) (colon - word) > MC_KARGS_NAME_MAX || (eq && eq < colon))
        return -1;
    memcpy (arg->name, word, (size_t) (colon - word));
    arg->name [colon - word] = 0;
    const char *type = colon + 1;
    size_t type_len = (size_t) ((eq? eq: word + len) - type);
    arg->required = true;
    for (size_t t = 0; t < sizeof s_type_names / sizeof s_type_names [0]; t++)
        if (strlen (s_type_names [t]) == type_len && !memcmp (type, s_type_names [t], type_len)) {
            arg->type = (mc_karg_type_t) t;
            return eq? s_default (arg, eq + 1, (size_t) (word + len - eq - 1)): 0;
        }
    return -1;
}

int
mc_kargs_parse (mc_kargs_t *self, const char *text, char *err, size_t errlen)
{
    memset (self, 0, sizeof *self);
    bool star = false;
    const char *p = text? text: "";
    while (*p) {
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t len = strcspn (p, " ");
        bool more = len > 3 && !memcmp (p + len - 3, "...", 3);
        if (len == 1 && *p == '*' && !star) {
            star = true;
            self->positional = self->count;
        }
        else if (self->count == MC_KARGS_MAX || (self->more && !star)
             ||  s_word (&self->arg [self->count], p, len - (more? 3: 0))
             ||  mc_kargs_find (self, self->arg [self->count].name) >= 0) {
            snprintf (err, errlen, "args: bad or repeated word '%.*s' in '%s'", (int) len, p, text);
            return -1;
        }
        else {
            //  "x:any...": zero or more, so never required.
            if (more && self->arg [self->count].required)
                self->arg [self->count].required = false, self->arg [self->count].nil_default = true;
            self->count++;
            self->more |= more;
        }
        p += len;
    }
    if (!star)
        self->positional = self->count;
    return 0;
}

int
mc_kargs_find (const mc_kargs_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (!strcmp (self->arg [i].name, name))
            return (int) i;
    return -1;
}

void
mc_kargs_test (bool verbose)
{
    printf (" * mc_kargs: ");
    if (verbose)
        printf ("\n");
    mc_kargs_t a;
    char err [256];
    assert (mc_kargs_parse (&a, "", err, sizeof err) == 0 && a.count == 0 && !a.more);
    assert (mc_kargs_parse (&a, NULL, err, sizeof err) == 0 && a.count == 0);
    assert (mc_kargs_parse (&a, "item:any=nil * target:str=gauss3 steps:int burn_in:int=100 step:float=0.1 "
                            "start:list=nil log:bool=true", err, sizeof err) == 0);
    assert (a.count == 7 && a.positional == 1 && !a.more);
    assert (a.arg [0].nil_default && !a.arg [0].required && a.arg [0].type == MC_KARG_ANY);
    assert (!strcmp (a.arg [1].s, "gauss3") && a.arg [2].required && a.arg [2].type == MC_KARG_INT);
    assert (a.arg [3].i == 100 && a.arg [4].d == 0.1 && a.arg [5].nil_default && a.arg [6].b);
    assert (mc_kargs_find (&a, "steps") == 2 && mc_kargs_find (&a, "step") == 4 && mc_kargs_find (&a, "ste") == -1);
    assert (mc_kargs_parse (&a, "args:any...", err, sizeof err) == 0 && a.count == 1 && a.more && a.positional == 1);
    assert (mc_kargs_parse (&a, "args:any... * w:int=0", err, sizeof err) == 0 && a.count == 2 && a.positional == 1);
    assert (mc_kargs_parse (&a, "x:float  y:int=1e6", err, sizeof err) == 0 && a.count == 2 && a.arg [1].i == 1000000);
    const char *bad [] = { "x", "x:", ":int", "x:real", "x:int=1.5", "x:int=z", "x:list=[]", "x:int x:float",
                           "x:any... y:int", "x:bool=yes", "* x:int *" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int rc = mc_kargs_parse (&a, bad [i], err, sizeof err);
        if (verbose)
            printf ("  '%s' -> %d %s\n", bad [i], rc, rc? err: "");
        assert (rc == -1 && strstr (err, "args: bad"));
    }
    printf ("OK\n");
}
