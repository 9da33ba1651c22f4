/*  mc_registry: engines by id (a growing array), by uuid (a hash that
    remembers ids for engines that come back), a live list ordered by last
    sign of life, and the free ring. Kernels are counted by name so that a
    submission can be checked without walking the engines. */
#include "mc_registry.h"
#include <string.h>

struct _mc_engine_t {
    int32_t id;
    char uuid [65];
    char host [256];
    int64_t pid;
    zframe_t *routing_id;           //  current connection (owned)
    int64_t last_seen_us;           //  monotonic time of its last message
    mc_engine_state_t state;
    uint64_t done, failed;          //  tasks finished here
    uint32_t restarts;              //  times its process was started again after dying
    char launch [64];               //  the allocation that started it (REGISTER), or ""
    int64_t idle_since_us;          //  monotonic time it was last seen without work (0: busy)
    mc_engine_load_t load;          //  the scheduler's
    mc_outbox_t outbox;             //  mc_engines'
    char **kernels;                 //  names of the kernels it can run
    char cause [24];                //  why it is going (mc_engine_set_cause), or ""
    size_t kernel_count;
    void *kernel_info;              //  msgpack [[name, doc, args], ...] as registered (owned), or NULL
    size_t kernel_info_size;
    //  Registry links:
    mc_engine_t *live_prev, *live_next;
    uint8_t hb_class;               //  its heartbeat interval is heartbeat_ms << hb_class
    mc_engine_t *free_prev, *free_next;
    bool in_free;
};

struct _mc_registry_t {
    mc_engine_t **by_id;            //  index = engine id; NULL when gone
    size_t capacity;
    bool *reserved;                 //  index = engine id; true once given to a uuid
    //  index = engine id: the counters of an engine while it is gone, so
    //  that they go on when the id registers again (a reconnect after
    //  expiry, a restarted local engine)
    //  kept: after a restart, the id is held for the engine that had it
    //  (it asks for it), because resumed direct tasks wait for that engine.
    struct s_counts { uint64_t done, failed; bool kept; } *counts;
    size_t next_id;                 //  no id at or above this was given out
    size_t count;
    zhashx_t *ids_by_uuid;          //  uuid -> id + 1 (as a pointer)
    zhashx_t *kernels;              //  name -> number of engines (as a pointer)
    //  Per heartbeat class (interval heartbeat_ms << class): oldest first.
    //  One silence bound per list keeps each in order of deadline.
    struct s_live { mc_engine_t *head, *tail; } live [MC_REGISTRY_HB_CLASSES];
    mc_engine_t *free_head, *free_tail;
    //  Ids promised to restarted local engines, until they register.
    struct s_handover {
        int32_t id;
        uint32_t restarts;
        int64_t pid;
        char host [256];
    } *handovers;
    size_t handover_count;
};

mc_registry_t *
mc_registry_new (void)
{
    mc_registry_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ids_by_uuid = zhashx_new ();
    self->kernels = zhashx_new ();
    if (!self->ids_by_uuid || !self->kernels)
        mc_registry_destroy (&self);
    return self;
}

static void
s_free_names (char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free (names [i]);
    free (names);
}

static void
s_engine_destroy (mc_engine_t **engine_p)
{
    mc_engine_t *engine = *engine_p;
    if (!engine)
        return;
    zframe_destroy (&engine->routing_id);
    msgpack_sbuffer_destroy (&engine->outbox.headers);
    mc_taskq_destroy (&engine->load.direct);
    s_free_names (engine->kernels, engine->kernel_count);
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
    free (self->counts);
    free (self->handovers);
    zhashx_destroy (&self->ids_by_uuid);
    zhashx_destroy (&self->kernels);
    free (self);
    *self_p = NULL;
}

static void
s_live_unlink (mc_registry_t *self, mc_engine_t *engine)
{
    struct s_live *live = &self->live [engine->hb_class];
    if (engine->live_prev) engine->live_prev->live_next = engine->live_next;
    else if (live->head == engine) live->head = engine->live_next;
    if (engine->live_next) engine->live_next->live_prev = engine->live_prev;
    else if (live->tail == engine) live->tail = engine->live_prev;
    engine->live_prev = engine->live_next = NULL;
}

static void
s_live_append (mc_registry_t *self, mc_engine_t *engine)
{
    struct s_live *live = &self->live [engine->hb_class];
    engine->live_prev = live->tail;
    engine->live_next = NULL;
    if (live->tail)
        live->tail->live_next = engine;
    else
        live->head = engine;
    live->tail = engine;
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

//  The hand-over to pid on host, or NULL.
static struct s_handover *
s_handover (mc_registry_t *self, const char *host, int64_t pid)
{
    for (size_t i = 0; i < self->handover_count; i++)
        if (self->handovers [i].pid == pid && !strcmp (self->handovers [i].host, host))
            return &self->handovers [i];
    return NULL;
}

static void
s_handover_remove (mc_registry_t *self, struct s_handover *handover)
{
    *handover = self->handovers [--self->handover_count];
}

//  Forget which uuid had this id (a hand-over gives it to another).
static void
s_forget_uuid (mc_registry_t *self, size_t id)
{
    char uuid [65] = "";
    for (void *value = zhashx_first (self->ids_by_uuid); value; value = zhashx_next (self->ids_by_uuid))
        if ((size_t) (intptr_t) value == id + 1)
            snprintf (uuid, sizeof uuid, "%s", (const char *) zhashx_cursor (self->ids_by_uuid));
    if (*uuid)
        zhashx_delete (self->ids_by_uuid, uuid);
}

//  Known uuid: its own id. Else the id handed over to this process (a
//  restarted local engine). Else the id it asks for, when no other uuid ever
//  had it (an engine that knew a controller before it restarted). Else the
//  lowest id never given out. *handover is the hand-over used, or NULL.
static size_t
s_choose_id (mc_registry_t *self, const char *uuid, int64_t want_id, const char *host, int64_t pid,
             struct s_handover **handover)
{
    *handover = NULL;
    intptr_t known = (intptr_t) zhashx_lookup (self->ids_by_uuid, uuid);
    if (known)
        return (size_t) known - 1;
    struct s_handover *promised = s_handover (self, host, pid);
    if (promised && !self->by_id [promised->id]) {
        *handover = promised;
        return (size_t) promised->id;
    }
    if (want_id >= 0 && (size_t) want_id < self->capacity && self->counts [want_id].kept && !self->by_id [want_id])
        return (size_t) want_id;
    //  Bound the ask so that a forged id cannot make us allocate much.
    if (want_id >= 0 && (size_t) want_id < self->next_id + 1024
    &&  ((size_t) want_id >= self->capacity || !self->reserved [want_id]))
        return (size_t) want_id;
    size_t id = 0;
    while (id < self->capacity && self->reserved [id])
        id++;
    return id;
}

static int
s_reserve (mc_registry_t *self, size_t id)
{
    if (id >= self->capacity) {
        size_t capacity = self->capacity? self->capacity: 16;
        while (capacity <= id)
            capacity *= 2;
        mc_engine_t **by_id = realloc (self->by_id, capacity * sizeof *self->by_id);
        if (!by_id)
            return -1;
        self->by_id = by_id;
        bool *reserved = realloc (self->reserved, capacity * sizeof *self->reserved);
        if (!reserved)
            return -1;
        self->reserved = reserved;
        struct s_counts *counts = realloc (self->counts, capacity * sizeof *self->counts);
        if (!counts)
            return -1;
        self->counts = counts;
        memset (self->by_id + self->capacity, 0, (capacity - self->capacity) * sizeof *self->by_id);
        memset (self->reserved + self->capacity, 0, (capacity - self->capacity) * sizeof *self->reserved);
        memset (self->counts + self->capacity, 0, (capacity - self->capacity) * sizeof *self->counts);
        self->capacity = capacity;
    }
    self->reserved [id] = true;
    if (id >= self->next_id)
        self->next_id = id + 1;
    return 0;
}

void
mc_registry_set_kernels (mc_registry_t *self, mc_engine_t *engine, char **kernels, size_t kernel_count)
{
    s_count_kernels (self, engine, -1);
    s_free_names (engine->kernels, engine->kernel_count);
    engine->kernels = kernels;
    engine->kernel_count = kernel_count;
    s_count_kernels (self, engine, +1);
}

mc_engine_t *
mc_registry_register (mc_registry_t *self, const char *uuid, int64_t want_id,
                      const char *host, int64_t pid, zframe_t *routing_id,
                      char **kernels, size_t kernel_count, int64_t now_us, bool *replaced)
{
    *replaced = false;
    struct s_handover *handover;
    size_t id = s_choose_id (self, uuid, want_id, host, pid, &handover);
    zframe_t *connection = zframe_dup (routing_id);
    if (id >= INT32_MAX || !connection || s_reserve (self, id))
        goto fail;
    mc_engine_t *engine = self->by_id [id];
    if (engine) {
        //  Same uuid again: a reconnect. Keep its counters, take the new
        //  connection and its kernel list.
        *replaced = !zframe_eq (engine->routing_id, routing_id);
        s_count_kernels (self, engine, -1);
        s_free_names (engine->kernels, engine->kernel_count);
        zframe_destroy (&engine->routing_id);
        //  What was to go to the old connection: the scheduler sends what
        //  was in flight there again (mc_sched_engine_reset).
        msgpack_sbuffer_destroy (&engine->outbox.headers);
        msgpack_sbuffer_init (&engine->outbox.headers);
        engine->outbox.count = 0;
        s_live_unlink (self, engine);
    }
    else {
        engine = calloc (1, sizeof *engine);
        if (!engine || !(engine->load.direct = mc_taskq_new ())) {
            s_engine_destroy (&engine);
            goto fail;
        }
        if (handover) {
            s_forget_uuid (self, id);
            engine->restarts = handover->restarts;
            s_handover_remove (self, handover);
        }
        zhashx_update (self->ids_by_uuid, uuid, (void *) (intptr_t) (id + 1));
        self->counts [id].kept = false;
        engine->id = (int32_t) id;
        engine->done = self->counts [id].done;
        engine->failed = self->counts [id].failed;
        self->by_id [id] = engine;
        self->count++;
    }
    snprintf (engine->uuid, sizeof engine->uuid, "%s", uuid);
    snprintf (engine->host, sizeof engine->host, "%s", host);
    engine->pid = pid;
    engine->routing_id = connection;
    engine->kernels = kernels;
    engine->kernel_count = kernel_count;
    engine->state = MC_ENGINE_READY;
    s_count_kernels (self, engine, +1);
    engine->last_seen_us = now_us;
    s_live_append (self, engine);
    return engine;
fail:
    zframe_destroy (&connection);
    s_free_names (kernels, kernel_count);
    return NULL;
}

mc_engine_t *
mc_registry_lookup (mc_registry_t *self, int64_t id)
{
    if (id < 0 || (size_t) id >= self->next_id)
        return NULL;
    return self->by_id [id];
}

mc_engine_t *
mc_registry_find_pid (mc_registry_t *self, const char *host, int64_t pid)
{
    for (size_t i = 0; i < self->next_id; i++) {
        mc_engine_t *engine = self->by_id [i];
        if (engine && engine->pid == pid && !strcmp (engine->host, host))
            return engine;
    }
    return NULL;
}

int
mc_registry_keep_id (mc_registry_t *self, int32_t id)
{
    assert (id >= 0);
    if (s_reserve (self, (size_t) id))
        return -1;
    self->counts [id].kept = !self->by_id [id];
    return 0;
}

int
mc_registry_hand_over (mc_registry_t *self, int64_t id, const char *host, int64_t pid, uint32_t restarts)
{
    assert (id >= 0 && (size_t) id < self->next_id && self->reserved [id] && !self->by_id [id]);
    struct s_handover *handover = s_handover (self, host, pid);
    if (!handover) {
        //  At most one per id: a new process replaces an unclaimed promise.
        for (size_t i = 0; i < self->handover_count; i++)
            if (self->handovers [i].id == id)
                handover = &self->handovers [i];
    }
    if (!handover) {
        struct s_handover *handovers = realloc (self->handovers, (self->handover_count + 1) * sizeof *handovers);
        if (!handovers)
            return -1;
        self->handovers = handovers;
        handover = &self->handovers [self->handover_count++];
    }
    handover->id = (int32_t) id;
    handover->restarts = restarts;
    handover->pid = pid;
    snprintf (handover->host, sizeof handover->host, "%s", host);
    return 0;
}

int64_t
mc_registry_take_back (mc_registry_t *self, const char *host, int64_t pid, uint32_t *restarts)
{
    struct s_handover *handover = s_handover (self, host, pid);
    if (!handover)
        return -1;
    int64_t id = handover->id;
    *restarts = handover->restarts;
    s_handover_remove (self, handover);
    return id;
}

size_t
mc_registry_handovers (const mc_registry_t *self)
{
    return self->handover_count;
}

bool
mc_registry_handed_over (const mc_registry_t *self, int64_t id)
{
    for (size_t i = 0; i < self->handover_count; i++)
        if (self->handovers [i].id == id)
            return true;
    return false;
}

void
mc_registry_touch (mc_registry_t *self, mc_engine_t *engine, int64_t now_us)
{
    engine->last_seen_us = now_us;
    if (self->live [engine->hb_class].tail != engine) {
        s_live_unlink (self, engine);
        s_live_append (self, engine);
    }
}

mc_engine_t *
mc_registry_oldest (mc_registry_t *self, unsigned hb_class)
{
    assert (hb_class < MC_REGISTRY_HB_CLASSES);
    return self->live [hb_class].head;
}

void
mc_registry_set_hb_class (mc_registry_t *self, mc_engine_t *engine, unsigned hb_class)
{
    assert (hb_class < MC_REGISTRY_HB_CLASSES);
    if (engine->hb_class == hb_class)
        return;
    //  Touched just before (its PING or REGISTER): the tail is its place.
    s_live_unlink (self, engine);
    engine->hb_class = (uint8_t) hb_class;
    s_live_append (self, engine);
}

unsigned
mc_engine_hb_class (const mc_engine_t *self)
{
    return self->hb_class;
}

void
mc_registry_remove (mc_registry_t *self, mc_engine_t **engine_p)
{
    mc_engine_t *engine = *engine_p;
    assert (engine->load.inflight == 0 && mc_taskq_size (engine->load.direct) == 0);
    s_live_unlink (self, engine);
    mc_registry_free_remove (self, engine);
    s_count_kernels (self, engine, -1);
    self->counts [engine->id] = (struct s_counts) { engine->done, engine->failed, false };
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

//  --------------------------------------------------------------------------
//  One engine's record

int32_t mc_engine_id (const mc_engine_t *self) { return self->id; }
const char *mc_engine_uuid (const mc_engine_t *self) { return self->uuid; }
const char *mc_engine_host (const mc_engine_t *self) { return self->host; }
int64_t mc_engine_pid (const mc_engine_t *self) { return self->pid; }
zframe_t *mc_engine_routing_id (const mc_engine_t *self) { return self->routing_id; }
int64_t mc_engine_last_seen_us (const mc_engine_t *self) { return self->last_seen_us; }
mc_engine_state_t mc_engine_state (const mc_engine_t *self) { return self->state; }
void mc_engine_set_state (mc_engine_t *self, mc_engine_state_t state) { self->state = state; }
uint64_t mc_engine_done (const mc_engine_t *self) { return self->done; }
uint64_t mc_engine_failed (const mc_engine_t *self) { return self->failed; }
uint32_t mc_engine_restarts (const mc_engine_t *self) { return self->restarts; }
const char *mc_engine_launch (const mc_engine_t *self) { return self->launch; }
int64_t mc_engine_idle_since (const mc_engine_t *self) { return self->idle_since_us; }
void mc_engine_set_idle_since (mc_engine_t *self, int64_t when_us) { self->idle_since_us = when_us; }

void
mc_engine_set_launch (mc_engine_t *self, const char *launch)
{
    snprintf (self->launch, sizeof self->launch, "%s", launch? launch: "");
}
mc_engine_load_t *mc_engine_load (mc_engine_t *self) { return &self->load; }
mc_outbox_t *mc_engine_outbox (mc_engine_t *self) { return &self->outbox; }
uint32_t mc_engine_inflight (const mc_engine_t *self) { return self->load.inflight; }
size_t mc_engine_queued (const mc_engine_t *self) { return mc_taskq_size (self->load.direct); }

void
mc_engine_count_task (mc_engine_t *self, bool ok)
{
    if (ok)
        self->done++;
    else
        self->failed++;
}

const char *
mc_engine_cause (const mc_engine_t *self)
{
    return self->cause;
}

void
mc_engine_set_cause (mc_engine_t *self, const char *cause)
{
    snprintf (self->cause, sizeof self->cause, "%s", cause);
}

const void *
mc_engine_kernel_info (const mc_engine_t *self, size_t *size)
{
    *size = self->kernel_info_size;
    return self->kernel_info;
}

int
mc_engine_set_kernel_info (mc_engine_t *self, const void *data, size_t size)
{
    void *copy = size? malloc (size): NULL;
    if (size && !copy)
        return -1;
    if (size)
        memcpy (copy, data, size);
    free (self->kernel_info);
    self->kernel_info = copy;
    self->kernel_info_size = size;
    return 0;
}

//  --------------------------------------------------------------------------

static mc_engine_t *
s_test_register_pid (mc_registry_t *self, const char *uuid, int64_t want_id, const char *kernel, int64_t now,
                     int64_t pid, bool *replaced)
{
    char connection [64];
    snprintf (connection, sizeof connection, "%s@%lld", uuid, (long long) now);
    zframe_t *rid = zframe_new (connection, strlen (connection));
    char **kernels = calloc (2, sizeof *kernels);
    assert (rid && kernels);
    kernels [0] = strdup (kernel);
    mc_engine_t *engine = mc_registry_register (self, uuid, want_id, "host", pid, rid, kernels, 1, now, replaced);
    zframe_destroy (&rid);
    return engine;
}

static mc_engine_t *
s_test_register (mc_registry_t *self, const char *uuid, int64_t want_id, const char *kernel, int64_t now,
                 bool *replaced)
{
    return s_test_register_pid (self, uuid, want_id, kernel, now, 42, replaced);
}

void
mc_registry_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_registry: ");
    mc_registry_t *self = mc_registry_new ();
    assert (self);
    bool replaced;
    mc_engine_t *a = s_test_register (self, "a", -1, "noop", 10, &replaced);
    mc_engine_t *b = s_test_register (self, "b", 7, "pi", 20, &replaced);
    assert (a && b && !replaced);
    //  A new engine gets the lowest id never given; a free asked-for id is granted.
    assert (mc_engine_id (a) == 0 && mc_engine_id (b) == 7 && mc_registry_size (self) == 2);
    assert (mc_registry_lookup (self, 7) == b && mc_registry_lookup (self, 3) == NULL
         && mc_registry_lookup (self, -1) == NULL && mc_registry_lookup (self, 1000) == NULL);
    assert (mc_engine_state (a) == MC_ENGINE_READY && !strcmp (mc_engine_uuid (b), "b")
         && !strcmp (mc_engine_host (b), "host") && mc_engine_pid (b) == 42);
    assert (mc_registry_first (self) == a && mc_registry_next (self, a) == b && mc_registry_next (self, b) == NULL);
    //  After a restart, ids kept for engines that tasks wait for: a new
    //  engine gets neither, the engine that asks for one does.
    mc_registry_t *restarted = mc_registry_new ();
    assert (restarted && mc_registry_keep_id (restarted, 0) == 0 && mc_registry_keep_id (restarted, 2) == 0);
    mc_engine_t *fresh = s_test_register (restarted, "fresh", -1, "noop", 10, &replaced);
    mc_engine_t *back = s_test_register (restarted, "back", 2, "noop", 10, &replaced);
    mc_engine_t *other = s_test_register (restarted, "other", -1, "noop", 10, &replaced);
    assert (mc_engine_id (fresh) == 1 && mc_engine_id (back) == 2 && mc_engine_id (other) == 3);
    mc_registry_destroy (&restarted);
    //  Kernels are counted by name.
    assert (mc_registry_has_kernel (self, "pi") && mc_registry_has_kernel (self, "noop")
         && !mc_registry_has_kernel (self, "walker"));
    char list [64];
    mc_registry_kernel_list (self, list, sizeof list);
    assert (!strcmp (list, "noop, pi"));
    //  Signs of life order the live list.
    assert (mc_registry_oldest (self, 0) == a);
    mc_registry_touch (self, a, 30);
    assert (mc_registry_oldest (self, 0) == b && mc_engine_last_seen_us (a) == 30);
    //  A longer heartbeat interval: a list of its own, in order of last sign of life.
    mc_registry_set_hb_class (self, b, 2);
    assert (mc_engine_hb_class (b) == 2 && mc_registry_oldest (self, 2) == b && mc_registry_oldest (self, 0) == a);
    mc_registry_touch (self, b, 40);
    assert (mc_registry_oldest (self, 2) == b && mc_registry_oldest (self, 1) == NULL);
    mc_registry_set_hb_class (self, b, 0);
    assert (mc_registry_oldest (self, 2) == NULL && mc_registry_oldest (self, 0) == a);
    //  A known uuid gets its id back, from a new connection (replaced), and
    //  an id asked for by another uuid is not given away.
    mc_engine_set_state (b, MC_ENGINE_STOPPING);
    mc_engine_count_task (b, true);
    mc_engine_count_task (b, false);
    mc_engine_t *b2 = s_test_register (self, "b", 0, "walker", 40, &replaced);
    assert (b2 == b && replaced && mc_engine_id (b2) == 7 && mc_engine_state (b2) == MC_ENGINE_READY);
    assert (mc_engine_done (b) == 1 && mc_engine_failed (b) == 1);
    assert (!mc_registry_has_kernel (self, "pi") && mc_registry_has_kernel (self, "walker"));
    //  Its counters survive its expiry: they go on when it comes back.
    mc_registry_remove (self, &b);
    b = s_test_register (self, "b", 7, "walker", 45, &replaced);
    assert (b && mc_engine_id (b) == 7 && !replaced && mc_engine_done (b) == 1 && mc_engine_failed (b) == 1);
    mc_engine_t *c = s_test_register (self, "c", 0, "noop", 50, &replaced);
    assert (c && mc_engine_id (c) == 1);
    //  Kernel descriptions are copied.
    size_t size;
    assert (mc_engine_kernel_info (c, &size) == NULL && size == 0);
    char info [] = "\x91\x93\xa1x\xa0\xa0";
    assert (mc_engine_set_kernel_info (c, info, sizeof info) == 0);
    info [0] = 0;
    const char *kept = mc_engine_kernel_info (c, &size);
    assert (size == sizeof info && (unsigned char) kept [0] == 0x91);
    //  The free ring serves round robin and holds each engine once.
    mc_registry_free_push (self, a);
    mc_registry_free_push (self, c);
    mc_registry_free_push (self, a);
    assert (mc_registry_free_pop (self) == a && mc_registry_free_pop (self) == c && mc_registry_free_pop (self) == NULL);
    mc_registry_free_push (self, c);
    //  Removing forgets the engine (and takes it off the ring) but keeps its id for its uuid.
    mc_registry_remove (self, &c);
    assert (c == NULL && mc_registry_size (self) == 2 && mc_registry_free_pop (self) == NULL);
    c = s_test_register (self, "c", -1, "noop", 60, &replaced);
    assert (c && mc_engine_id (c) == 1 && !replaced);
    mc_engine_t *d = s_test_register (self, "d", 1, "noop", 70, &replaced);
    assert (d && mc_engine_id (d) == 2 && mc_engine_restarts (d) == 0);
    //  A dead local engine is found by its pid; its id is handed to the
    //  process started in its place, which registers with a new uuid.
    mc_engine_t *e = s_test_register_pid (self, "e", -1, "noop", 80, 1234, &replaced);
    assert (e && mc_engine_id (e) == 3 && mc_registry_find_pid (self, "host", 1234) == e);
    assert (!mc_registry_find_pid (self, "other", 1234) && !mc_registry_find_pid (self, "host", 99));
    mc_registry_remove (self, &e);
    assert (!mc_registry_find_pid (self, "host", 1234));
    assert (mc_registry_handovers (self) == 0 && !mc_registry_handed_over (self, 3));
    assert (mc_registry_hand_over (self, 3, "host", 1235, 1) == 0);
    assert (mc_registry_handovers (self) == 1 && mc_registry_handed_over (self, 3) && !mc_registry_handed_over (self, 4));
    mc_engine_t *f = s_test_register_pid (self, "f", 3, "noop", 90, 77, &replaced);
    assert (f && mc_engine_id (f) == 4);                    //  promised: not another's to ask for
    mc_engine_t *e2 = s_test_register_pid (self, "e2", -1, "noop", 100, 1235, &replaced);
    assert (e2 && mc_engine_id (e2) == 3 && mc_engine_restarts (e2) == 1 && !replaced);
    assert (mc_registry_handovers (self) == 0 && !mc_registry_handed_over (self, 3));
    assert (mc_registry_lookup (self, 3) == e2 && mc_registry_find_pid (self, "host", 1235) == e2);
    //  The old uuid has lost its id: back, it is a new engine.
    mc_engine_t *old = s_test_register_pid (self, "e", 3, "noop", 110, 1234, &replaced);
    assert (old && mc_engine_id (old) == 5);
    //  A hand-over never claimed is taken back once, with its restarts.
    mc_registry_remove (self, &e2);
    assert (mc_registry_hand_over (self, 3, "host", 1236, 2) == 0);
    assert (mc_registry_hand_over (self, 3, "host", 1237, 3) == 0);     //  replaces the one to 1236
    assert (mc_registry_handovers (self) == 1);
    uint32_t restarts = 0;
    assert (mc_registry_take_back (self, "host", 1236, &restarts) == -1);
    assert (mc_registry_take_back (self, "host", 1237, &restarts) == 3 && restarts == 3);
    assert (mc_registry_take_back (self, "host", 1237, &restarts) == -1);
    mc_engine_t *g = s_test_register_pid (self, "g", -1, "noop", 120, 1237, &replaced);
    assert (g && mc_engine_id (g) == 6 && mc_engine_restarts (g) == 0);
    mc_registry_destroy (&self);
    assert (self == NULL);
    printf ("OK\n");
}
