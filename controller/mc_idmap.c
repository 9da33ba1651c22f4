/*  mc_idmap: integer ids to pointers, by open addressing. */
#include "mc_idmap.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    uint64_t id;
    void *value;                    //  NULL: the slot is free
} s_slot_t;

struct _mc_idmap_t {
    s_slot_t *slots;
    size_t mask;                    //  slots - 1 (a power of two, minus one)
    size_t size;
};

//  Fibonacci hashing: consecutive ids (task numbers) spread over the slots.
static size_t
s_home (const mc_idmap_t *self, uint64_t id)
{
    return (size_t) ((id * 0x9E3779B97F4A7C15ull) >> 32) & self->mask;
}

mc_idmap_t *
mc_idmap_new (void)
{
    mc_idmap_t *self = calloc (1, sizeof *self);
    if (self && !(self->slots = calloc (16, sizeof *self->slots))) {
        free (self);
        return NULL;
    }
    if (self)
        self->mask = 15;
    return self;
}

void
mc_idmap_destroy (mc_idmap_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

//  The slot of id, or the free slot where it would go.
static s_slot_t *
s_find (const mc_idmap_t *self, uint64_t id)
{
    size_t i = s_home (self, id);
    while (self->slots [i].value && self->slots [i].id != id)
        i = (i + 1) & self->mask;
    return &self->slots [i];
}

static int
s_grow (mc_idmap_t *self)
{
    size_t old = self->mask + 1;
    s_slot_t *slots = self->slots;
    if (!(self->slots = calloc (2 * old, sizeof *self->slots))) {
        self->slots = slots;
        return -1;
    }
    self->mask = 2 * old - 1;
    for (size_t i = 0; i < old; i++)
        if (slots [i].value)
            *s_find (self, slots [i].id) = slots [i];
    free (slots);
    return 0;
}

int
mc_idmap_insert (mc_idmap_t *self, uint64_t id, void *value)
{
    assert (value);
    s_slot_t *slot = s_find (self, id);
    if (slot->value)
        return 1;
    if (2 * (self->size + 1) > self->mask + 1) {
        if (s_grow (self))
            return -1;
        slot = s_find (self, id);
    }
    *slot = (s_slot_t) { id, value };
    self->size++;
    return 0;
}

void *
mc_idmap_lookup (const mc_idmap_t *self, uint64_t id)
{
    return s_find (self, id)->value;
}

void *
mc_idmap_delete (mc_idmap_t *self, uint64_t id)
{
    s_slot_t *slot = s_find (self, id);
    void *value = slot->value;
    if (!value)
        return NULL;
    //  Shift back the entries after it that could live in its place, so
    //  that no probe meets a hole before its entry.
    size_t hole = (size_t) (slot - self->slots);
    for (size_t i = (hole + 1) & self->mask; self->slots [i].value; i = (i + 1) & self->mask) {
        size_t home = s_home (self, self->slots [i].id);
        if (((i - home) & self->mask) >= ((i - hole) & self->mask)) {
            self->slots [hole] = self->slots [i];
            hole = i;
        }
    }
    self->slots [hole].value = NULL;
    self->size--;
    return value;
}

size_t
mc_idmap_size (const mc_idmap_t *self)
{
    return self->size;
}

void *
mc_idmap_next (const mc_idmap_t *self, size_t *cursor)
{
    while (*cursor <= self->mask)
        if (self->slots [(*cursor)++].value)
            return self->slots [*cursor - 1].value;
    return NULL;
}

//  --------------------------------------------------------------------------
//  Selftest: against a plain array, through growth and many deletions.

void
mc_idmap_test (bool verbose)
{
    if (verbose)
        printf (" * mc_idmap: ");
    enum { N = 5000 };
    static char values [N];
    bool in [N] = { false };
    mc_idmap_t *map = mc_idmap_new ();
    assert (map && mc_idmap_lookup (map, 7) == NULL && mc_idmap_delete (map, 7) == NULL);
    uint64_t state = 1;
    size_t size = 0;
    for (int round = 0; round < 200000; round++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        //  Ids spread over a range, and clustered (consecutive numbers).
        uint64_t id = round % 2? state % N: (uint64_t) (round / 2) % N;
        if (state & 0x100) {
            int rc = mc_idmap_insert (map, id * 1000003 % N, &values [id * 1000003 % N]);
            assert (rc == (in [id * 1000003 % N]? 1: 0));
            size += !in [id * 1000003 % N];
            in [id * 1000003 % N] = true;
        }
        else {
            void *value = mc_idmap_delete (map, id);
            assert (value == (in [id]? &values [id]: NULL));
            size -= in [id];
            in [id] = false;
        }
        assert (mc_idmap_size (map) == size);
        if (round % 10000 == 0)
            for (uint64_t k = 0; k < N; k++)
                assert (mc_idmap_lookup (map, k) == (in [k]? &values [k]: NULL));
    }
    size_t cursor = 0, seen = 0;
    for (char *v = mc_idmap_next (map, &cursor); v; v = mc_idmap_next (map, &cursor)) {
        assert (in [v - values]);
        seen++;
    }
    assert (seen == size);
    mc_idmap_destroy (&map);
    assert (map == NULL);
    if (verbose)
        printf ("OK\n");
}
