/*  mc_job_info: the status object of a job, and its id as users write it. */
#include "mc_job_info.h"
#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const char *
mc_job_info_state (const mc_job_info_t *info)
{
    if (info->finished_us)
        return info->aborted? "aborted": info->failed? "failed": "done";
    return info->started? "running": "queued";
}

static int
s_pack_key (msgpack_packer *pk, const char *key)
{
    return msgpack_pack_str_with_body (pk, key, strlen (key));
}

int
mc_job_info_pack (const mc_job_info_t *info, msgpack_packer *pk, uint32_t extra)
{
    char id [32];
    mc_job_id_format (info->id, id, sizeof id);
    int rc = msgpack_pack_map (pk, 13 + extra);
    rc |= s_pack_key (pk, "job")       | s_pack_key (pk, id);
    rc |= s_pack_key (pk, "kind")      | s_pack_key (pk, info->kind);
    rc |= s_pack_key (pk, "kernel")    | s_pack_key (pk, info->kernel);
    rc |= s_pack_key (pk, "state")     | s_pack_key (pk, mc_job_info_state (info));
    rc |= s_pack_key (pk, "total")     | msgpack_pack_uint64 (pk, info->total);
    rc |= s_pack_key (pk, "done")      | msgpack_pack_uint64 (pk, info->done);
    rc |= s_pack_key (pk, "failed")    | msgpack_pack_uint64 (pk, info->failed);
    rc |= s_pack_key (pk, "tasks")     | msgpack_pack_uint64 (pk, info->tasks);
    //  Seeds are drawn below 2^63 so that JSON readers keep every bit.
    rc |= s_pack_key (pk, "seed")      | msgpack_pack_uint64 (pk, info->seed);
    rc |= s_pack_key (pk, "submitted") | msgpack_pack_double (pk, info->submitted_us / 1e6);
    rc |= s_pack_key (pk, "finished");
    rc |= info->finished_us? msgpack_pack_double (pk, info->finished_us / 1e6): msgpack_pack_nil (pk);
    //  Fair share (after the older keys, for readers that expect them first).
    rc |= s_pack_key (pk, "priority")  | msgpack_pack_int64 (pk, info->priority);
    rc |= s_pack_key (pk, "user")      | s_pack_key (pk, info->user [0]? info->user: MC_JOB_OWNER);
    return rc? -1: 0;
}

static size_t s_id_hash (const void *key) { return (size_t) (uintptr_t) key * 0x9E3779B97F4A7C15ull; }
static int s_id_cmp (const void *a, const void *b) { return a == b? 0: (a < b? -1: 1); }

zhashx_t *
mc_job_id_table (void)
{
    zhashx_t *table = zhashx_new ();
    if (table) {
        zhashx_set_key_hasher (table, s_id_hash);
        zhashx_set_key_comparator (table, s_id_cmp);
        zhashx_set_key_duplicator (table, NULL);
        zhashx_set_key_destructor (table, NULL);
    }
    return table;
}

void
mc_job_id_format (uint64_t id, char *buf, size_t len)
{
    snprintf (buf, len, "j%llu", (unsigned long long) id);
}

int
mc_job_id_parse (const char *text, size_t len, uint64_t *id)
{
    size_t i = 0;
    if (len && text [0] == 'j')
        i = 1;
    if (i == len || len - i > 19)
        return -1;
    uint64_t value = 0;
    for (; i < len; i++) {
        if (!isdigit ((unsigned char) text [i]))
            return -1;
        value = value * 10 + (uint64_t) (text [i] - '0');
    }
    *id = value;
    return 0;
}

int
mc_job_id_from (const msgpack_object *value, uint64_t *id)
{
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return -1;
    return mc_job_id_parse (value->via.str.ptr, value->via.str.size, id);
}

//  --------------------------------------------------------------------------
//  Self test

void
mc_job_info_test (bool verbose)
{
    if (verbose)
        printf (" * mc_job_info: ");
    mc_job_info_t info = { .id = 17, .kind = "map", .kernel = "square", .total = 5, .tasks = 2, .seed = 9,
                           .submitted_us = 1500000 };
    assert (!strcmp (mc_job_info_state (&info), "queued"));
    info.started = true;
    assert (!strcmp (mc_job_info_state (&info), "running"));
    info.finished_us = 2500000;
    info.done = 5;
    assert (!strcmp (mc_job_info_state (&info), "done"));
    info.failed = 1;
    assert (!strcmp (mc_job_info_state (&info), "failed"));
    info.aborted = true;
    assert (!strcmp (mc_job_info_state (&info), "aborted"));
    info.aborted = false;

    //  The status object, with room for one more pair that the caller packs.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert (mc_job_info_pack (&info, &pk, 1) == 0);
    msgpack_pack_str_with_body (&pk, "x", 1);
    msgpack_pack_nil (&pk);
    char err [64];
    json_t *status = mc_value_bytes_to_json (sb.data, sb.size, err, sizeof err);
    assert (status);
    char *dump = json_dumps (status, JSON_COMPACT | JSON_SORT_KEYS);
    assert (!strcmp (dump, "{\"done\":5,\"failed\":1,\"finished\":2.5,\"job\":\"j17\",\"kernel\":\"square\","
                           "\"kind\":\"map\",\"priority\":0,\"seed\":9,\"state\":\"failed\",\"submitted\":1.5,\"tasks\":2,"
                           "\"total\":5,\"user\":\"owner\",\"x\":null}"));
    free (dump);
    json_decref (status);
    msgpack_sbuffer_destroy (&sb);

    char id [8];
    mc_job_id_format (17, id, sizeof id);
    assert (!strcmp (id, "j17"));
    uint64_t parsed;
    assert (mc_job_id_parse ("j17", 3, &parsed) == 0 && parsed == 17);
    assert (mc_job_id_parse ("17", 2, &parsed) == 0 && parsed == 17);
    assert (mc_job_id_parse ("j", 1, &parsed) == -1 && mc_job_id_parse ("jx1", 3, &parsed) == -1);
    assert (mc_job_id_parse ("j99999999999999999999", 21, &parsed) == -1);
    assert (mc_job_id_parse ("", 0, &parsed) == -1);
    msgpack_object text = { .type = MSGPACK_OBJECT_STR, .via.str = { 3, "j42" } }, number = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER };
    assert (mc_job_id_from (&text, &parsed) == 0 && parsed == 42);
    assert (mc_job_id_from (&number, &parsed) == -1 && mc_job_id_from (NULL, &parsed) == -1);
    if (verbose)
        printf ("OK\n");
}
