/*  mc_parked: parked requests by job (lists in arrival order) and by
    deadline (a binary min-heap whose entries know their index). */
#include "mc_parked.h"
#include "mc_job_info.h"

//  A parked request as mc_parked keeps it: what callers see, and where it is.
typedef struct {
    mc_park_t park;                 //  first, so that a mc_park_t * is an s_entry_t *
    size_t heap_index;              //  position in the deadline heap
    void *handle;                   //  place in its job's list
} s_entry_t;

struct _mc_parked_t {
    zhashx_t *jobs;                 //  job id (in the pointer) -> zlistx_t of s_entry_t (owned)
    s_entry_t **heap;               //  requests with a deadline, earliest at [0]
    size_t heap_size, heap_capacity;
};


void
mc_park_destroy (mc_park_t **park_p)
{
    if (*park_p) {
        zframe_destroy (&(*park_p)->routing_id);
        free ((s_entry_t *) *park_p);
        *park_p = NULL;
    }
}

static void
s_list_destroy (void **item)
{
    zlistx_t *list = *item;
    mc_park_t *park;
    while ((park = zlistx_detach (list, NULL)))
        mc_park_destroy (&park);
    zlistx_destroy (&list);
    *item = NULL;
}

mc_parked_t *
mc_parked_new (void)
{
    mc_parked_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->jobs = mc_job_id_table ();
    if (!self->jobs) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->jobs, s_list_destroy);
    return self;
}

void
mc_parked_destroy (mc_parked_t **self_p)
{
    mc_parked_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->jobs);
    free (self->heap);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The deadline heap

static bool
s_earlier (const s_entry_t *a, const s_entry_t *b)
{
    return a->park.deadline_us < b->park.deadline_us;
}

static void
s_heap_set (mc_parked_t *self, size_t i, s_entry_t *entry)
{
    self->heap [i] = entry;
    entry->heap_index = i;
}

static void
s_heap_up (mc_parked_t *self, size_t i)
{
    s_entry_t *entry = self->heap [i];
    while (i > 0 && s_earlier (entry, self->heap [(i - 1) / 2])) {
        s_heap_set (self, i, self->heap [(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    s_heap_set (self, i, entry);
}

static void
s_heap_down (mc_parked_t *self, size_t i)
{
    s_entry_t *entry = self->heap [i];
    while (true) {
        size_t child = 2 * i + 1;
        if (child >= self->heap_size)
            break;
        if (child + 1 < self->heap_size && s_earlier (self->heap [child + 1], self->heap [child]))
            child++;
        if (!s_earlier (self->heap [child], entry))
            break;
        s_heap_set (self, i, self->heap [child]);
        i = child;
    }
    s_heap_set (self, i, entry);
}

static int
s_heap_push (mc_parked_t *self, s_entry_t *entry)
{
    if (self->heap_size == self->heap_capacity) {
        size_t capacity = self->heap_capacity? 2 * self->heap_capacity: 16;
        s_entry_t **heap = realloc (self->heap, capacity * sizeof *heap);
        if (!heap)
            return -1;
        self->heap = heap;
        self->heap_capacity = capacity;
    }
    s_heap_set (self, self->heap_size++, entry);
    s_heap_up (self, self->heap_size - 1);
    return 0;
}

static void
s_heap_remove (mc_parked_t *self, s_entry_t *entry)
{
    size_t i = entry->heap_index;
    assert (i < self->heap_size && self->heap [i] == entry);
    s_entry_t *last = self->heap [--self->heap_size];
    if (last != entry) {
        s_heap_set (self, i, last);
        s_heap_up (self, i);
        s_heap_down (self, last->heap_index);
    }
}

//  --------------------------------------------------------------------------

static zlistx_t *
s_list (mc_parked_t *self, uint64_t job)
{
    return zhashx_lookup (self->jobs, (void *) (uintptr_t) job);
}

int
mc_parked_add (mc_parked_t *self, uint64_t job, zframe_t *routing_id, uint64_t req,
               mc_park_kind_t kind, int64_t deadline_us)
{
    zlistx_t *list = s_list (self, job);
    if (!list) {
        list = zlistx_new ();
        if (!list || zhashx_insert (self->jobs, (void *) (uintptr_t) job, list)) {
            zlistx_destroy (&list);
            return -1;
        }
    }
    s_entry_t *entry = calloc (1, sizeof *entry);
    mc_park_t *park = (mc_park_t *) entry;
    if (!entry)
        goto fail;
    park->job = job;
    park->req = req;
    park->kind = kind;
    park->deadline_us = deadline_us;
    park->routing_id = zframe_dup (routing_id);
    if (!park->routing_id || !(entry->handle = zlistx_add_end (list, entry)))
        goto fail;
    if (deadline_us && s_heap_push (self, entry)) {
        zlistx_detach (list, entry->handle);
        goto fail;
    }
    return 0;
fail:
    mc_park_destroy (&park);
    if (zlistx_size (list) == 0)
        zhashx_delete (self->jobs, (void *) (uintptr_t) job);
    return -1;
}

size_t
mc_parked_count (mc_parked_t *self, uint64_t job)
{
    zlistx_t *list = s_list (self, job);
    return list? zlistx_size (list): 0;
}

const mc_park_t *
mc_parked_first (mc_parked_t *self, uint64_t job)
{
    zlistx_t *list = s_list (self, job);
    return list? zlistx_first (list): NULL;
}

//  Unlink a request from its job's list and the heap; the caller owns it.
static mc_park_t *
s_detach (mc_parked_t *self, s_entry_t *entry)
{
    zlistx_t *list = s_list (self, entry->park.job);
    assert (list);
    zlistx_detach (list, entry->handle);
    entry->handle = NULL;
    if (entry->park.deadline_us)
        s_heap_remove (self, entry);
    if (zlistx_size (list) == 0)
        zhashx_delete (self->jobs, (void *) (uintptr_t) entry->park.job);
    return &entry->park;
}

mc_park_t *
mc_parked_take (mc_parked_t *self, uint64_t job)
{
    zlistx_t *list = s_list (self, job);
    s_entry_t *entry = list? zlistx_first (list): NULL;
    return entry? s_detach (self, entry): NULL;
}

mc_park_t *
mc_parked_expired (mc_parked_t *self, int64_t now_us)
{
    if (self->heap_size == 0 || self->heap [0]->park.deadline_us > now_us)
        return NULL;
    return s_detach (self, self->heap [0]);
}

size_t
mc_parked_timed (const mc_parked_t *self)
{
    return self->heap_size;
}

//  --------------------------------------------------------------------------

void
mc_parked_test (bool verbose)
{
    printf (" * mc_parked: ");
    if (verbose)
        printf ("\n");
    mc_parked_t *self = mc_parked_new ();
    assert (self);
    zframe_t *a = zframe_new ("a", 1), *b = zframe_new ("b", 1);
    //  Job 1: an untimed submitter, then two timed waits; job 2: one timed.
    assert (mc_parked_add (self, 1, a, 10, MC_PARK_RESULT, 0) == 0);
    assert (mc_parked_add (self, 1, b, 11, MC_PARK_STATUS, 500) == 0);
    assert (mc_parked_add (self, 2, b, 12, MC_PARK_META, 200) == 0);
    assert (mc_parked_add (self, 1, a, 13, MC_PARK_STATUS, 300) == 0);
    assert (mc_parked_count (self, 1) == 3 && mc_parked_count (self, 2) == 1 && mc_parked_count (self, 3) == 0);
    assert (mc_parked_timed (self) == 3);
    assert (mc_parked_first (self, 1)->req == 10 && zframe_streq (mc_parked_first (self, 1)->routing_id, "a"));
    assert (mc_parked_first (self, 3) == NULL && mc_parked_take (self, 3) == NULL);
    //  Deadlines come out in order, only once passed.
    assert (mc_parked_expired (self, 199) == NULL);
    mc_park_t *park = mc_parked_expired (self, 1000);
    assert (park && park->req == 12 && park->kind == MC_PARK_META && park->job == 2);
    mc_park_destroy (&park);
    assert (mc_parked_count (self, 2) == 0 && mc_parked_first (self, 2) == NULL);
    park = mc_parked_expired (self, 1000);
    assert (park && park->req == 13);
    mc_park_destroy (&park);
    //  The submitter stays first; taking it leaves the timed wait.
    park = mc_parked_take (self, 1);
    assert (park && park->req == 10 && park->deadline_us == 0);
    mc_park_destroy (&park);
    assert (mc_parked_timed (self) == 1 && mc_parked_count (self, 1) == 1);
    park = mc_parked_take (self, 1);
    assert (park && park->req == 11);
    mc_park_destroy (&park);
    assert (mc_parked_timed (self) == 0 && mc_parked_expired (self, INT64_MAX) == NULL);
    //  Many deadlines in random order come out sorted, also after removals
    //  from the middle of the heap.
    int64_t last = 0;
    for (uint64_t i = 0; i < 1000; i++)
        assert (mc_parked_add (self, 100 + i % 7, a, i, MC_PARK_STATUS, 1 + (int64_t) ((i * 7919) % 1009)) == 0);
    for (int i = 0; i < 50; i++) {
        park = mc_parked_take (self, 100 + (uint64_t) (i % 7));
        assert (park);
        mc_park_destroy (&park);
    }
    size_t left = 0;
    while ((park = mc_parked_expired (self, INT64_MAX))) {
        assert (park->deadline_us >= last);
        last = park->deadline_us;
        left++;
        mc_park_destroy (&park);
    }
    assert (left == 950);
    for (uint64_t job = 100; job < 107; job++)
        assert (mc_parked_count (self, job) == 0);
    //  Destroying frees what is still parked.
    assert (mc_parked_add (self, 5, a, 1, MC_PARK_STATUS, 10) == 0);
    assert (mc_parked_add (self, 5, b, 2, MC_PARK_STATUS, 0) == 0);
    zframe_destroy (&a);
    zframe_destroy (&b);
    mc_parked_destroy (&self);
    assert (self == NULL);
    mc_parked_destroy (&self);
    printf ("OK\n");
}
