/*  mc_registry: engines by id (a growing array), by uuid (a hash that
    remembers ids for engines that come back), a live list ordered by last
    sign of life, and the free ring. Kernels are counted by name so that a
    submission can be checked without walking the engines. */
#include "mc_registry.h"
#include <string.h>

struct _mc_registry_t {
    mc_engine_t **by_id;            //  index = engine id; NULL when gone
    size_t capacity;
    bool *reserved;                 //  index = engine id; true once given to a uuid
    size_t next_id;                 //  no id at or above this was given out
    size_t count;
    zhashx_t *ids_by_uuid;          //  uuid -> id + 1 (as a pointer)
    zhashx_t *kernels;              //  name -> number of engines (as a pointer)
    mc_engine_t *live_head, *live_tail;     //  oldest first
    mc_engine_t *free_head, *free_tail;
};

mc_registry_t *
mc_registry_new (void)
{
    mc_registry_t *self = calloc (1, sizeof *self);
    assert (self);
    self->ids_by_uuid = zhashx_new ();
    self->kernels = zhashx_new ();
    assert (self->ids_by_uuid && self->kernels);
    return self;
}

static void
s_engine_destroy (mc_engine_t **engine_p)
{
    mc_engine_t *engine = *engine_p;
    if (!engine)
        return;
    zframe_destroy (&engine->routing_id);
    mc_taskq_destroy (&engine->direct);
    for (size_t i = 0; i < engine->kernel_count; i++)
        free (engine->kernels [i]);
    free (engine->kernels);
    free (engine->kernel_info);
    free (engine);
    *engine_p = NULL;
}

void
mc_registry_destroy (mc_registry_t **self_p)
{
    mc_registry_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->next_id; i++)
        s_engine_destroy (&self->by_id [i]);
    free (self->by_id);
    free (self->reserved);
    zhashx_destroy (&self->ids_by_uuid);
    zhashx_destroy (&self->kernels);
    free (self);
    *self_p = NULL;
}

static void
s_live_unlink (mc_registry_t *self, mc_engine_t *engine)
{
    if (engine->live_prev) engine->live_prev->live_next = engine->live_next;
    else if (self->live_head == engine) self->live_head = engine->live_next;
    if (engine->live_next) engine->live_next->live_prev = engine->live_prev;
    else if (self->live_tail == engine) self->live_tail = engine->live_prev;
    engine->live_prev = engine->live_next = NULL;
}

static void
s_live_append (mc_registry_t *self, mc_engine_t *engine)
{
    engine->live_prev = self->live_tail;
    engine->live_next = NULL;
    if (self->live_tail)
        self->live_tail->live_next = engine;
    else
        self->live_head = engine;
    self->live_tail = engine;
}

static void
s_count_kernels (mc_registry_t *self, mc_engine_t *engine, int delta)
{
    for (size_t i = 0; i < engine->kernel_count; i++) {
        intptr_t n = (intptr_t) zhashx_lookup (self->kernels, engine->kernels [i]) + delta;
        if (n > 0)
            zhashx_update (self->kernels, engine->kernels [i], (void *) n);
        else
            zhashx_delete (self->kernels, engine->kernels [i]);
    }
}

//  Known uuid: its own id. Else the id it asks for, when no other uuid ever
//  had it (an engine that knew a controller before it restarted). Else the
//  lowest id never given out.
static size_t
s_choose_id (mc_registry_t *self, const char *uuid, int64_t want_id)
{
    intptr_t known = (intptr_t) zhashx_lookup (self->ids_by_uuid, uuid);
    if (known)
        return (size_t) known - 1;
    //  Bound the ask so that a forged id cannot make us allocate much.
    if (want_id >= 0 && (size_t) want_id < self->next_id + 1024
    &&  ((size_t) want_id >= self->capacity || !self->reserved [want_id]))
        return (size_t) want_id;
    size_t id = 0;
    while (id < self->capacity && self->reserved [id])
        id++;
    return id;
}

static void
s_reserve (mc_registry_t *self, size_t id)
{
    if (id >= self->capacity) {
        size_t capacity = self->capacity? self->capacity: 16;
        while (capacity <= id)
            capacity *= 2;
        self->by_id = realloc (self->by_id, capacity * sizeof *self->by_id);
        self->reserved = realloc (self->reserved, capacity * sizeof *self->reserved);
        assert (self->by_id && self->reserved);
        memset (self->by_id + self->capacity, 0, (capacity - self->capacity) * sizeof *self->by_id);
        memset (self->reserved + self->capacity, 0, (capacity - self->capacity) * sizeof *self->reserved);
        self->capacity = capacity;
    }
    self->reserved [id] = true;
    if (id >= self->next_id)
        self->next_id = id + 1;
}

mc_engine_t *
mc_registry_register (mc_registry_t *self, const char *uuid, int64_t want_id,
                      const char *host, int64_t pid, zframe_t *routing_id,
                      char **kernels, size_t kernel_count, int64_t now_us, bool *replaced)
{
    *replaced = false;
    size_t id = s_choose_id (self, uuid, want_id);
    if (id >= INT32_MAX)
        return NULL;
    s_reserve (self, id);
    mc_engine_t *engine = self->by_id [id];
    if (engine) {
        //  Same uuid again: a reconnect. Keep its counters, take the new
        //  connection and its kernel list.
        *replaced = !zframe_eq (engine->routing_id, routing_id);
        s_count_kernels (self, engine, -1);
        for (size_t i = 0; i < engine->kernel_count; i++)
            free (engine->kernels [i]);
        free (engine->kernels);
        zframe_destroy (&engine->routing_id);
        s_live_unlink (self, engine);
    }
    else {
        engine = calloc (1, sizeof *engine);
        assert (engine);
        engine->id = (int32_t) id;
        engine->direct = mc_taskq_new ();
        assert (engine->direct);
        self->by_id [id] = engine;
        self->count++;
        zhashx_update (self->ids_by_uuid, uuid, (void *) (intptr_t) (id + 1));
    }
    snprintf (engine->uuid, sizeof engine->uuid, "%s", uuid);
    snprintf (engine->host, sizeof engine->host, "%s", host);
    engine->pid = pid;
    engine->routing_id = zframe_dup (routing_id);
    engine->kernels = kernels;
    engine->kernel_count = kernel_count;
    engine->stopping = false;
    s_count_kernels (self, engine, +1);
    engine->last_seen_us = now_us;
    s_live_append (self, engine);
    return engine;
}

mc_engine_t *
mc_registry_lookup (mc_registry_t *self, int64_t id)
{
    if (id < 0 || (size_t) id >= self->next_id)
        return NULL;
    return self->by_id [id];
}

void
mc_registry_touch (mc_registry_t *self, mc_engine_t *engine, int64_t now_us)
{
    engine->last_seen_us = now_us;
    if (self->live_tail != engine) {
        s_live_unlink (self, engine);
        s_live_append (self, engine);
    }
}

mc_engine_t *
mc_registry_oldest (mc_registry_t *self)
{
    return self->live_head;
}

void
mc_registry_remove (mc_registry_t *self, mc_engine_t **engine_p)
{
    mc_engine_t *engine = *engine_p;
    assert (engine->inflight == 0 && mc_taskq_size (engine->direct) == 0);
    s_live_unlink (self, engine);
    mc_registry_free_remove (self, engine);
    s_count_kernels (self, engine, -1);
    self->by_id [engine->id] = NULL;
    self->count--;
    s_engine_destroy (engine_p);
}

mc_engine_t *
mc_registry_first (mc_registry_t *self)
{
    for (size_t i = 0; i < self->next_id; i++)
        if (self->by_id [i])
            return self->by_id [i];
    return NULL;
}

mc_engine_t *
mc_registry_next (mc_registry_t *self, mc_engine_t *engine)
{
    for (size_t i = (size_t) engine->id + 1; i < self->next_id; i++)
        if (self->by_id [i])
            return self->by_id [i];
    return NULL;
}

size_t
mc_registry_size (const mc_registry_t *self)
{
    return self->count;
}

bool
mc_registry_has_kernel (const mc_registry_t *self, const char *name)
{
    return zhashx_lookup (self->kernels, name) != NULL;
}

void
mc_registry_kernel_list (const mc_registry_t *self, char *buf, size_t len)
{
    zlistx_t *keys = zhashx_keys (self->kernels);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (keys);
    size_t used = 0;
    buf [0] = 0;
    for (const char *key = zlistx_first (keys); key && used < len; key = zlistx_next (keys))
        used += snprintf (buf + used, len - used, "%s%s", used? ", ": "", key);
    zlistx_destroy (&keys);
}

void
mc_registry_free_push (mc_registry_t *self, mc_engine_t *engine)
{
    if (engine->in_free)
        return;
    engine->free_prev = self->free_tail;
    engine->free_next = NULL;
    if (self->free_tail)
        self->free_tail->free_next = engine;
    else
        self->free_head = engine;
    self->free_tail = engine;
    engine->in_free = true;
}

mc_engine_t *
mc_registry_free_pop (mc_registry_t *self)
{
    mc_engine_t *engine = self->free_head;
    if (engine)
        mc_registry_free_remove (self, engine);
    return engine;
}

void
mc_registry_free_remove (mc_registry_t *self, mc_engine_t *engine)
{
    if (!engine->in_free)
        return;
    if (engine->free_prev) engine->free_prev->free_next = engine->free_next;
    else self->free_head = engine->free_next;
    if (engine->free_next) engine->free_next->free_prev = engine->free_prev;
    else self->free_tail = engine->free_prev;
    engine->free_prev = engine->free_next = NULL;
    engine->in_free = false;
}
