/*  mc_held: a hash of routing id (in hex) -> bytes held. */
#include "mc_held.h"

struct _mc_held_t {
    zhashx_t *clients;              //  routing id (hex) -> size_t * (owned)
    int64_t touched_us;             //  monotonic time data was last counted; 0 once reported quiet
};

mc_held_t *
mc_held_new (void)
{
    mc_held_t *self = calloc (1, sizeof *self);
    if (!self || !(self->clients = zhashx_new ())) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->clients, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
mc_held_destroy (mc_held_t **self_p)
{
    if (*self_p) {
        zhashx_destroy (&(*self_p)->clients);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t
mc_held_bytes (mc_held_t *self, zframe_t *routing_id)
{
    char *key = zframe_strhex (routing_id);
    size_t *bytes = key? zhashx_lookup (self->clients, key): NULL;
    free (key);
    return bytes? *bytes: 0;
}

int
mc_held_add (mc_held_t *self, zframe_t *routing_id, size_t bytes, int64_t now_us)
{
    if (bytes == 0)
        return 0;
    char *key = zframe_strhex (routing_id);
    if (!key)
        return -1;
    size_t *held = zhashx_lookup (self->clients, key);
    if (!held) {
        held = calloc (1, sizeof *held);
        if (!held || zhashx_insert (self->clients, key, held)) {
            free (held);
            free (key);
            return -1;
        }
    }
    *held += bytes;
    self->touched_us = now_us;
    free (key);
    return 0;
}

void
mc_held_sub (mc_held_t *self, zframe_t *routing_id, size_t bytes, int64_t now_us)
{
    if (bytes == 0)
        return;
    char *key = zframe_strhex (routing_id);
    size_t *held = key? zhashx_lookup (self->clients, key): NULL;
    if (held) {
        *held = *held > bytes? *held - bytes: 0;
        if (*held == 0)
            zhashx_delete (self->clients, key);
    }
    self->touched_us = now_us;
    free (key);
}

bool
mc_held_quiet (mc_held_t *self, int64_t now_us, int64_t quiet_us)
{
    if (!self->touched_us || now_us - self->touched_us <= quiet_us || zhashx_size (self->clients))
        return false;
    self->touched_us = 0;
    return true;
}

void
mc_held_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_held: ");
    mc_held_t *self = mc_held_new ();
    assert (self);
    zframe_t *a = zframe_new ("\0a", 2), *b = zframe_new ("\0b", 2);
    assert (mc_held_bytes (self, a) == 0);
    assert (mc_held_add (self, a, 0, 5) == 0);
    assert (!mc_held_quiet (self, 10 * 1000000, 1000000));        //  nothing has passed yet
    assert (mc_held_add (self, a, 100, 10) == 0 && mc_held_add (self, a, 50, 10) == 0);
    assert (mc_held_add (self, b, 7, 10) == 0);
    assert (mc_held_bytes (self, a) == 150 && mc_held_bytes (self, b) == 7);
    mc_held_sub (self, a, 60, 20);
    assert (mc_held_bytes (self, a) == 90);
    mc_held_sub (self, b, 100, 20);                     //  never below zero
    assert (mc_held_bytes (self, b) == 0);
    assert (!mc_held_quiet (self, 5000000, 1000000));   //  a still holds 90
    mc_held_sub (self, a, 90, 30);
    assert (mc_held_bytes (self, a) == 0);
    assert (!mc_held_quiet (self, 1000030, 1000000));   //  not quiet for long enough
    assert (mc_held_quiet (self, 1000031, 1000000));
    assert (!mc_held_quiet (self, 9000000, 1000000));   //  said once
    zframe_destroy (&a);
    zframe_destroy (&b);
    mc_held_destroy (&self);
    mc_held_destroy (&self);
    printf ("OK\n");
}
