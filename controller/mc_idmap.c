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

//  An id's own slot is its low bits. The ids kept are task numbers (and
//  job ids): the live ones are a window of consecutive numbers, which then
//  sit in consecutive slots without a collision while the window fits the
//  table, and are met in memory order as results come back. A hash that
//  spread them made each of the million lookups of a wide map (1,000,000
//  tasks in flight on 10,000 engines) a cache miss: 20 % of the
//  controller's time.
static size_t
s_home (const mc_idmap_t *self, uint64_t id)
{
    return (size_t) id & self->mask;
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

//  How far the entry in slot i is from its own slot.
static size_t
s_distance (const mc_idmap_t *self, size_t i)
{
    return (i - s_home (self, self->slots [i].id)) & self->mask;
}

//  Robin Hood order: along a run of slots, entries sit in the order of
//  their own slots, so a search stops at the first entry nearer its own
//  slot than the id would be, and a deletion shifts back only the entries
//  that are not in their own slot. (With plain linear probing a deletion
//  scanned the whole run, which a window of consecutive ids makes as long
//  as the window.)
static s_slot_t *
s_find (const mc_idmap_t *self, uint64_t id)
{
    size_t i = s_home (self, id);
    for (size_t d = 0; self->slots [i].value && s_distance (self, i) >= d; i = (i + 1) & self->mask, d++)
        if (self->slots [i].id == id)
            return &self->slots [i];
    return NULL;
}

//  Put an entry (whose id is not there) in its place, moving the richer
//  ones along.
static void
s_place (mc_idmap_t *self, s_slot_t entry)
{
    size_t i = s_home (self, entry.id);
    for (size_t d = 0; self->slots [i].value; i = (i + 1) & self->mask, d++) {
        size_t theirs = s_distance (self, i);
        if (theirs < d) {
            s_slot_t moved = self->slots [i];
            self->slots [i] = entry;
            entry = moved;
            d = theirs;
        }
    }
    self->slots [i] = entry;
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
            s_place (self, slots [i]);
    free (slots);
    return 0;
}

int
mc_idmap_insert (mc_idmap_t *self, uint64_t id, void *value)
{
    assert (value);
    if (s_find (self, id))
        return 1;
    if (2 * (self->size + 1) > self->mask + 1 && s_grow (self))
        return -1;
    s_place (self, (s_slot_t) { id, value });
    self->size++;
    return 0;
}

void *
mc_idmap_lookup (const mc_idmap_t *self, uint64_t id)
{
    s_slot_t *slot = s_find (self, id);
    return slot? slot->value: NULL;
}

void *
mc_idmap_delete (mc_idmap_t *self, uint64_t id)
{
    s_slot_t *slot = s_find (self, id);
    if (!slot)
        return NULL;
    void *value = slot->value;
    size_t hole = (size_t) (slot - self->slots);
    for (size_t i = (hole + 1) & self->mask; self->slots [i].value && s_distance (self, i) > 0;
         i = (i + 1) & self->mask) {
        self->slots [hole] = self->slots [i];
        hole = i;
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

    //  Ids alike in their low bits (one long run), then a sliding window
    //  of consecutive ids, as a pipelined map keeps them.
    map = mc_idmap_new ();
    for (uint64_t k = 0; k < 3000; k++)
        assert (mc_idmap_insert (map, k << 10, &values [k]) == 0);
    for (uint64_t k = 0; k < 3000; k += 2)
        assert (mc_idmap_delete (map, k << 10) == &values [k]);
    for (uint64_t k = 0; k < 3000; k++)
        assert (mc_idmap_lookup (map, k << 10) == (k % 2? &values [k]: NULL));
    mc_idmap_destroy (&map);
    map = mc_idmap_new ();
    for (uint64_t k = 0; k < 1000000; k++) {
        assert (mc_idmap_insert (map, k, &values [k % N]) == 0);
        if (k >= 1000)
            assert (mc_idmap_delete (map, k - 1000) == &values [(k - 1000) % N]);
    }
    assert (mc_idmap_size (map) == 1000 && mc_idmap_lookup (map, 999000) && !mc_idmap_lookup (map, 998999));
    mc_idmap_destroy (&map);
    if (verbose)
        printf ("OK\n");
}
