/*  mc_idmap: integer ids to pointers, by open addressing (linear probing,
    deletion by backward shift). An entry costs no memory of its own, so
    adding and removing one never calls malloc: a job's tasks in flight
    come and go at 100,000 a second, and a hash table that allocates a node
    per entry (zhashx) spends more on that than on the lookup. */
#ifndef MC_IDMAP_H
#define MC_IDMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _mc_idmap_t mc_idmap_t;

//  An empty map, or NULL when out of memory.
mc_idmap_t *mc_idmap_new (void);
//  Free the map (not what its values point to).
void mc_idmap_destroy (mc_idmap_t **self_p);
//  Map id to value (not NULL): 0, 1 when id is mapped already (nothing
//  changes), or -1 when out of memory (the map only grows when it is half full).
int mc_idmap_insert (mc_idmap_t *self, uint64_t id, void *value);
//  The value of id, or NULL.
void *mc_idmap_lookup (const mc_idmap_t *self, uint64_t id);
//  Unmap id: its value, or NULL when it was not mapped.
void *mc_idmap_delete (mc_idmap_t *self, uint64_t id);
size_t mc_idmap_size (const mc_idmap_t *self);
//  Each value once, in no order: start with *cursor = 0; NULL at the end.
//  The map must not change meanwhile.
void *mc_idmap_next (const mc_idmap_t *self, size_t *cursor);

void mc_idmap_test (bool verbose);
#endif
