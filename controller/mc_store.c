/*  mc_store: jobs and results in SQLite, written in batched transactions. */
#include "mc_store.h"
#include "mc_proto.h"
#include "mc_reduce.h"
#include <czmq.h>
#include <sqlite3.h>
#include <string.h>

struct _mc_store_t {
    sqlite3 *db;
    bool in_tx;
    size_t pending;                 //  writes since the last commit
    sqlite3_stmt *add_job, *add_result, *finish_job, *job_info, *recent, *results, *errors, *meta;
    sqlite3_stmt *begin, *commit;   //  prepared once: a commit per reply is on the latency path
};

static const char *s_schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, kernel TEXT NOT NULL, body BLOB NOT NULL,"
    "  total INTEGER NOT NULL, tasks INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0, seed INTEGER NOT NULL, single INTEGER NOT NULL,"
    "  submitted_us INTEGER NOT NULL, finished_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS results ("
    "  job INTEGER NOT NULL, task INTEGER NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,"
    "  engine INTEGER NOT NULL, status INTEGER NOT NULL, data BLOB, error TEXT,"
    "  started_us INTEGER NOT NULL, finished_us INTEGER NOT NULL, meta BLOB,"
    "  PRIMARY KEY (job, task)) WITHOUT ROWID;";

static int
s_prepare (mc_store_t *self, sqlite3_stmt **stmt, const char *sql)
{
    return sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) == SQLITE_OK? 0: -1;
}

mc_store_t *
mc_store_new (const char *path, char *err, size_t errlen)
{
    mc_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "store %s: out of memory", path);
        return NULL;
    }
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK
    //  Stores from before task metadata lack its column (an error here
    //  only means that it is there already).
    ||  (sqlite3_exec (self->db, "ALTER TABLE results ADD COLUMN meta BLOB", NULL, NULL, NULL), false)
    ||  s_prepare (self, &self->begin, "BEGIN")
    ||  s_prepare (self, &self->commit, "COMMIT")
    ||  s_prepare (self, &self->add_job,
            "INSERT INTO jobs (id, kind, kernel, body, total, tasks, seed, single, submitted_us)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    ||  s_prepare (self, &self->add_result,
            "INSERT OR REPLACE INTO results (job, task, first, count, engine, status, data, error,"
            " started_us, finished_us, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    ||  s_prepare (self, &self->meta,
            "SELECT task, engine, status, started_us, finished_us, meta FROM results WHERE job = ? ORDER BY task")
    ||  s_prepare (self, &self->finish_job,
            "UPDATE jobs SET done = ?, failed = ?, finished_us = ? WHERE id = ?")
    ||  s_prepare (self, &self->job_info,
            "SELECT kind, kernel, total, tasks, done, failed, seed, single, submitted_us, finished_us, body"
            " FROM jobs WHERE id = ?")
    ||  s_prepare (self, &self->recent, "SELECT id FROM jobs ORDER BY id DESC LIMIT ?")
    ||  s_prepare (self, &self->results,
            "SELECT count, status, data FROM results WHERE job = ? ORDER BY task")
    ||  s_prepare (self, &self->errors,
            "SELECT error, engine, task FROM results WHERE job = ? AND status != 0 ORDER BY error, task")) {
        snprintf (err, errlen, "store %s: %s", path, self->db? sqlite3_errmsg (self->db): "cannot open");
        mc_store_destroy (&self);
        return NULL;
    }
    chmod (path, 0600);
    return self;
}

void
mc_store_destroy (mc_store_t **self_p)
{
    mc_store_t *self = *self_p;
    if (!self)
        return;
    mc_store_flush (self);
    sqlite3_stmt *stmts [] = { self->meta, self->add_job, self->add_result, self->finish_job, self->job_info,
                               self->recent, self->results, self->errors, self->begin, self->commit };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts [0]; i++)
        sqlite3_finalize (stmts [i]);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

static int
s_begin (mc_store_t *self)
{
    if (!self->in_tx) {
        int rc = sqlite3_step (self->begin);
        sqlite3_reset (self->begin);
        if (rc != SQLITE_DONE)
            return -1;
        self->in_tx = true;
    }
    return 0;
}

//  Step a write statement inside the open transaction, then reset it;
//  bound is what binding its values returned (SQLITE_OK, 0, when all were).
static int
s_write (mc_store_t *self, sqlite3_stmt *stmt, int bound)
{
    int rc = bound == SQLITE_OK? sqlite3_step (stmt): SQLITE_ERROR;
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    self->pending++;
    return 0;
}

uint64_t
mc_store_next_job_id (mc_store_t *self)
{
    sqlite3_stmt *stmt;
    uint64_t id = 0;
    if (sqlite3_prepare_v2 (self->db, "SELECT COALESCE (MAX (id), 0) + 1 FROM jobs", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        id = (uint64_t) sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return id;
}

int
mc_store_add_job (mc_store_t *self, const mc_job_info_t *info, const void *body, size_t size)
{
    if (s_begin (self))
        return -1;
    sqlite3_stmt *s = self->add_job;
    int rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    rc |= sqlite3_bind_text (s, 2, info->kind, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_text (s, 3, info->kernel, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_blob (s, 4, body, (int) size, SQLITE_STATIC);
    rc |= sqlite3_bind_int64 (s, 5, (sqlite3_int64) info->total);
    rc |= sqlite3_bind_int64 (s, 6, (sqlite3_int64) info->tasks);
    rc |= sqlite3_bind_int64 (s, 7, (sqlite3_int64) info->seed);
    rc |= sqlite3_bind_int (s, 8, info->single);
    rc |= sqlite3_bind_int64 (s, 9, info->submitted_us);
    return s_write (self, s, rc);
}

int
mc_store_add_result (mc_store_t *self, uint64_t job, uint64_t task, uint64_t first, uint64_t count,
                     int64_t engine, uint64_t status, const void *data, size_t size,
                     const char *error, size_t error_len, int64_t started_us, int64_t finished_us,
                     const void *meta, size_t meta_size)
{
    if (s_begin (self))
        return -1;
    sqlite3_stmt *s = self->add_result;
    int rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) job);
    rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) task);
    rc |= sqlite3_bind_int64 (s, 3, (sqlite3_int64) first);
    rc |= sqlite3_bind_int64 (s, 4, (sqlite3_int64) count);
    rc |= sqlite3_bind_int64 (s, 5, engine);
    rc |= sqlite3_bind_int64 (s, 6, (sqlite3_int64) status);
    if (status == 0)
        rc |= sqlite3_bind_blob (s, 7, size? data: "", (int) size, SQLITE_STATIC);
    else
        rc |= sqlite3_bind_text (s, 8, error_len? error: "", (int) error_len, SQLITE_STATIC);
    rc |= sqlite3_bind_int64 (s, 9, started_us);
    rc |= sqlite3_bind_int64 (s, 10, finished_us);
    if (meta_size)
        rc |= sqlite3_bind_blob (s, 11, meta, (int) meta_size, SQLITE_STATIC);
    return s_write (self, s, rc);
}

int
mc_store_finish_job (mc_store_t *self, const mc_job_info_t *info)
{
    if (s_begin (self))
        return -1;
    sqlite3_stmt *s = self->finish_job;
    int rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->done);
    rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) info->failed);
    rc |= sqlite3_bind_int64 (s, 3, info->finished_us);
    rc |= sqlite3_bind_int64 (s, 4, (sqlite3_int64) info->id);
    return s_write (self, s, rc);
}

int
mc_store_flush (mc_store_t *self)
{
    if (!self->in_tx)
        return 0;
    int rc = sqlite3_step (self->commit);
    sqlite3_reset (self->commit);
    if (rc != SQLITE_DONE)
        return -1;
    self->in_tx = false;
    self->pending = 0;
    return 0;
}

size_t
mc_store_pending (const mc_store_t *self)
{
    return self->pending;
}

int
mc_store_job_info (mc_store_t *self, uint64_t id, mc_job_info_t *info)
{
    sqlite3_stmt *s = self->job_info;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
    int rc = -1;
    const char *kind, *kernel;
    //  Text columns are NULL when SQLite runs out of memory converting them.
    if (sqlite3_step (s) == SQLITE_ROW
    &&  (kind = (const char *) sqlite3_column_text (s, 0)) && (kernel = (const char *) sqlite3_column_text (s, 1))) {
        memset (info, 0, sizeof *info);
        info->id = id;
        snprintf (info->kind, sizeof info->kind, "%s", kind);
        snprintf (info->kernel, sizeof info->kernel, "%s", kernel);
        info->total = (uint64_t) sqlite3_column_int64 (s, 2);
        info->tasks = (uint64_t) sqlite3_column_int64 (s, 3);
        info->done = (uint64_t) sqlite3_column_int64 (s, 4);
        info->failed = (uint64_t) sqlite3_column_int64 (s, 5);
        info->seed = (uint64_t) sqlite3_column_int64 (s, 6);
        info->single = sqlite3_column_int (s, 7);
        info->submitted_us = sqlite3_column_int64 (s, 8);
        info->finished_us = sqlite3_column_int64 (s, 9);
        info->reduce = mc_job_body_reduces (sqlite3_column_blob (s, 10), (size_t) sqlite3_column_bytes (s, 10));
        info->started = info->finished_us != 0;
        rc = 0;
    }
    sqlite3_reset (s);
    return rc;
}

size_t
mc_store_recent_jobs (mc_store_t *self, uint64_t *ids, size_t limit)
{
    sqlite3_stmt *s = self->recent;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) limit);
    size_t count = 0;
    while (count < limit && sqlite3_step (s) == SQLITE_ROW)
        ids [count++] = (uint64_t) sqlite3_column_int64 (s, 0);
    sqlite3_reset (s);
    return count;
}

static int
s_pack_str (msgpack_packer *pk, const char *text, size_t len)
{
    return msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, text, len)? -1: 0;
}

static int s_pack_sum (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk, char *err, size_t errlen);
static int s_pack_each (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk);
static int s_pack_errors (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk, const char *extra);

int
mc_store_pack_results (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk)
{
    char err [256] = "";
    int rc = s_pack_str (pk, "results", 7);
    rc |= info->reduce? s_pack_sum (self, info, pk, err, sizeof err): s_pack_each (self, info, pk);
    return rc? -1: s_pack_errors (self, info, pk, err [0]? err: NULL);
}

//  The sum of every item's value, as the one result; a sum that cannot be
//  made (values of different shapes) is nil, with the reason in err.
static int
s_pack_sum (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk, char *err, size_t errlen)
{
    mc_reduce_t *sum = mc_reduce_new ();
    msgpack_zone zone;
    if (!sum || !msgpack_zone_init (&zone, 4096)) {
        mc_reduce_destroy (&sum);
        return -1;
    }
    sqlite3_stmt *s = self->results;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    while (sqlite3_step (s) == SQLITE_ROW) {
        msgpack_object items;
        const void *data = sqlite3_column_blob (s, 2);
        if (sqlite3_column_int64 (s, 1) != 0 || !data
        ||  mc_proto_unpack (data, (size_t) sqlite3_column_bytes (s, 2), &zone, &items)
        ||  items.type != MSGPACK_OBJECT_ARRAY)
            continue;
        for (uint32_t i = 0; i < items.via.array.size; i++)
            mc_reduce_add (sum, &items.via.array.ptr [i]);
        msgpack_zone_clear (&zone);
    }
    sqlite3_reset (s);
    msgpack_zone_destroy (&zone);
    int rc = msgpack_pack_array (pk, 1);
    if (mc_reduce_error (sum)) {
        snprintf (err, errlen, "--reduce sum: %s", mc_reduce_error (sum));
        rc |= msgpack_pack_nil (pk);
    }
    else
        rc |= mc_reduce_pack (sum, pk);
    mc_reduce_destroy (&sum);
    return rc? -1: 0;
}

//  Each task's stored array elements spliced into one array, byte for
//  byte, without decoding them.
static int
s_pack_each (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk)
{
    int rc = msgpack_pack_array (pk, (uint32_t) info->total);
    uint64_t packed = 0;
    sqlite3_stmt *s = self->results;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    while (sqlite3_step (s) == SQLITE_ROW && packed < info->total) {
        uint64_t count = (uint64_t) sqlite3_column_int64 (s, 0);
        uint64_t items = count? count: 1;
        if (info->kind [0] == 'm' && count == 0)
            items = 0;              //  an empty block of a direct map
        const uint8_t *data = sqlite3_column_blob (s, 2);
        size_t size = (size_t) sqlite3_column_bytes (s, 2);
        uint32_t elements;
        int header = sqlite3_column_int64 (s, 1) == 0 && data? mc_proto_array_header (data, size, &elements): -1;
        if (header > 0 && elements == items && packed + items <= info->total) {
            rc |= msgpack_pack_str_body (pk, data + header, size - (size_t) header);  //  raw append
            packed += items;
        }
        else
        for (uint64_t i = 0; i < items && packed < info->total; i++, packed++)
            rc |= msgpack_pack_nil (pk);
    }
    sqlite3_reset (s);
    //  Tasks without a row (not finished) read as nil.
    for (; packed < info->total; packed++)
        rc |= msgpack_pack_nil (pk);
    return rc? -1: 0;
}

//  One distinct error message, with the engines (each once) and the tasks
//  (in order) that reported it.
typedef struct {
    char *text;
    zlistx_t *engines;              //  engine id + 1, as pointers
    zlistx_t *tasks;                //  task number + 1, as pointers
} s_group_t;

static void
s_group_destroy (void **item_p)
{
    s_group_t *group = *item_p;
    if (!group)
        return;
    zlistx_destroy (&group->engines);
    zlistx_destroy (&group->tasks);
    free (group->text);
    free (group);
    *item_p = NULL;
}

//  A new group appended to groups, or NULL when out of memory.
static s_group_t *
s_group_new (zlistx_t *groups, const char *text)
{
    s_group_t *group = calloc (1, sizeof *group);
    if (group && (!(group->text = strdup (text)) || !(group->engines = zlistx_new ())
              ||  !(group->tasks = zlistx_new ()) || !zlistx_add_end (groups, group)))
        s_group_destroy ((void **) &group);
    return group;
}

//  Read the job's failed tasks into groups, one per message. 0 or -1.
static int
s_read_errors (mc_store_t *self, const mc_job_info_t *info, zlistx_t *groups)
{
    sqlite3_stmt *s = self->errors;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    s_group_t *group = NULL;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *text = (const char *) sqlite3_column_text (s, 0);
        if (!text)
            text = "";
        if (!group || strcmp (group->text, text))
            group = s_group_new (groups, text);
        if (!group) {
            rc = -1;
            break;
        }
        intptr_t engine = (intptr_t) sqlite3_column_int64 (s, 1);
        bool seen = false;
        for (void *e = zlistx_first (group->engines); e; e = zlistx_next (group->engines))
            if ((intptr_t) e - 1 == engine)
                seen = true;
        if ((!seen && !zlistx_add_end (group->engines, (void *) (engine + 1)))
        ||  !zlistx_add_end (group->tasks, (void *) (intptr_t) (sqlite3_column_int64 (s, 2) + 1)))
            rc = -1;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;                    //  the read failed part way
    sqlite3_reset (s);
    return rc;
}

//  Pack a group's engine ids, sorted, for a stable read. 0 or -1.
static int
s_pack_engines (const s_group_t *group, msgpack_packer *pk)
{
    size_t n = zlistx_size (group->engines);
    int64_t *ids = calloc (n? n: 1, sizeof *ids);
    if (!ids)
        return -1;
    size_t k = 0;
    for (void *e = zlistx_first (group->engines); e; e = zlistx_next (group->engines))
        ids [k++] = (intptr_t) e - 1;
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && ids [b - 1] > ids [b]; b--) {
            int64_t t = ids [b]; ids [b] = ids [b - 1]; ids [b - 1] = t;
        }
    int rc = msgpack_pack_array (pk, (uint32_t) n);
    for (k = 0; k < n; k++)
        rc |= msgpack_pack_int64 (pk, ids [k]);
    free (ids);
    return rc? -1: 0;
}

//  One entry of "errors": the message, how many tasks, engines, tasks.
static int
s_pack_error (msgpack_packer *pk, const char *text, const s_group_t *group)
{
    int rc = msgpack_pack_map (pk, 4);
    rc |= s_pack_str (pk, "error", 5) | s_pack_str (pk, text, strlen (text));
    rc |= s_pack_str (pk, "count", 5) | msgpack_pack_uint64 (pk, group? zlistx_size (group->tasks): 0);
    rc |= s_pack_str (pk, "engines", 7);
    rc |= group? s_pack_engines (group, pk): msgpack_pack_array (pk, 0);
    rc |= s_pack_str (pk, "tasks", 5);
    rc |= msgpack_pack_array (pk, group? (uint32_t) zlistx_size (group->tasks): 0);
    if (group)
        for (void *t = zlistx_first (group->tasks); t; t = zlistx_next (group->tasks))
            rc |= msgpack_pack_uint64 (pk, (uint64_t) ((intptr_t) t - 1));
    return rc? -1: 0;
}

//  Errors, grouped by message; `extra` (when given) is one more, of the
//  job as a whole rather than of a task.
static int
s_pack_errors (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk, const char *extra)
{
    zlistx_t *groups = zlistx_new ();
    if (!groups)
        return -1;
    zlistx_set_destructor (groups, s_group_destroy);
    int rc = s_read_errors (self, info, groups);
    if (rc == 0) {
        rc = s_pack_str (pk, "errors", 6);
        rc |= msgpack_pack_array (pk, (uint32_t) zlistx_size (groups) + (extra? 1: 0));
        if (extra)
            rc |= s_pack_error (pk, extra, NULL);
        for (s_group_t *group = zlistx_first (groups); group && rc == 0; group = zlistx_next (groups))
            rc = s_pack_error (pk, group->text, group);
    }
    zlistx_destroy (&groups);
    return rc? -1: 0;
}

const char *
mc_store_error (mc_store_t *self)
{
    return sqlite3_errmsg (self->db);
}

int
mc_store_pack_meta (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk)
{
    sqlite3_stmt *s = self->meta;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    //  Rows are counted first: a msgpack array states its size up front.
    size_t rows = 0;
    while (sqlite3_step (s) == SQLITE_ROW)
        rows++;
    sqlite3_reset (s);
    int rc = msgpack_pack_array (pk, (uint32_t) rows);
    while (rows && sqlite3_step (s) == SQLITE_ROW) {
        rows--;
        const void *meta = sqlite3_column_blob (s, 5);
        size_t size = (size_t) sqlite3_column_bytes (s, 5);
        rc |= msgpack_pack_map (pk, 6);
        rc |= s_pack_str (pk, "task", 4)     | msgpack_pack_int64 (pk, sqlite3_column_int64 (s, 0));
        rc |= s_pack_str (pk, "engine", 6)   | msgpack_pack_int64 (pk, sqlite3_column_int64 (s, 1));
        rc |= s_pack_str (pk, "ok", 2);
        rc |= sqlite3_column_int64 (s, 2) == 0? msgpack_pack_true (pk): msgpack_pack_false (pk);
        rc |= s_pack_str (pk, "started", 7)  | msgpack_pack_double (pk, sqlite3_column_int64 (s, 3) / 1e6);
        rc |= s_pack_str (pk, "finished", 8) | msgpack_pack_double (pk, sqlite3_column_int64 (s, 4) / 1e6);
        rc |= s_pack_str (pk, "meta", 4);
        //  Stored as the engine sent it, checked when it arrived.
        rc |= meta && size? msgpack_pack_str_body (pk, meta, size): msgpack_pack_map (pk, 0);
    }
    sqlite3_reset (s);
    //  Rows that could not be read again leave the array short: an error.
    return rc || rows? -1: 0;
}

//  --------------------------------------------------------------------------
//  --------------------------------------------------------------------------
//  Resuming after a restart (rare: statements made when asked)

int
mc_store_each_unfinished (mc_store_t *self, mc_store_job_fn *fn, void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT id, seed, submitted_us, body FROM jobs WHERE finished_us = 0 ORDER BY id",
                            -1, &s, NULL) != SQLITE_OK)
        return -1;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW)
        rc = fn (arg, (uint64_t) sqlite3_column_int64 (s, 0), (uint64_t) sqlite3_column_int64 (s, 1),
                 sqlite3_column_int64 (s, 2), sqlite3_column_blob (s, 3), (size_t) sqlite3_column_bytes (s, 3));
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize (s);
    return rc;
}

int
mc_store_each_result (mc_store_t *self, uint64_t job, mc_store_task_fn *fn, void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT task, status FROM results WHERE job = ?", -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) job);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW)
        fn (arg, (uint64_t) sqlite3_column_int64 (s, 0), (uint64_t) sqlite3_column_int64 (s, 1));
    sqlite3_finalize (s);
    return step == SQLITE_DONE? 0: -1;
}

//  Self test: jobs and results survive a reopen; results splice in order.

void
mc_store_test (bool verbose)
{
    if (verbose)
        printf (" * mc_store: ");
    char dir [] = "/tmp/mc_store_test_XXXXXX";
    assert (mkdtemp (dir));
    char path [256];
    snprintf (path, sizeof path, "%s/store.db", dir);
    char err [256];
    mc_store_t *store = mc_store_new (path, err, sizeof err);
    assert (store);
    assert (mc_store_next_job_id (store) == 1);
    mc_job_info_t info = { .id = 1, .kind = "map", .kernel = "square", .total = 5, .tasks = 3, .seed = 42,
                           .submitted_us = 1000 };
    const char body [] = "\x80";
    assert (mc_store_add_job (store, &info, body, 1) == 0);
    //  Task 0: items 0-1 ok; task 1: items 2-3 failed; task 2 (item 4) ok,
    //  written out of order.
    const char ok2 [] = { (char) 0x92, 0x00, 0x01 };
    const char ok1 [] = { (char) 0x91, 0x10 };
    assert (mc_store_add_result (store, 1, 2, 4, 1, 1, 0, ok1, sizeof ok1, NULL, 0, 5, 6, NULL, 0) == 0);
    assert (mc_store_add_result (store, 1, 0, 0, 2, 0, 0, ok2, sizeof ok2, NULL, 0, 1, 2, "\x80", 1) == 0);
    assert (mc_store_add_result (store, 1, 1, 2, 2, 3, MC_E_KERNEL_ERROR, NULL, 0, "boom", 4, 3, 4, NULL, 0) == 0);
    assert (mc_store_pending (store) == 4);
    info.done = 3;
    info.failed = 2;
    info.finished_us = 2000;
    assert (mc_store_finish_job (store, &info) == 0);
    assert (mc_store_flush (store) == 0 && mc_store_pending (store) == 0);
    mc_store_destroy (&store);

    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_next_job_id (store) == 2);
    mc_job_info_t loaded;
    assert (mc_store_job_info (store, 1, &loaded) == 0);
    assert (loaded.total == 5 && loaded.done == 3 && loaded.failed == 2 && loaded.seed == 42);
    assert (!strcmp (loaded.kernel, "square") && !strcmp (mc_job_info_state (&loaded), "failed"));
    assert (mc_store_job_info (store, 9, &loaded) == -1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    assert (mc_store_pack_results (store, &loaded, &pk) == 0);
    char text [64];
    json_t *out = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    assert (out);
    char *dump = json_dumps (out, JSON_COMPACT | JSON_SORT_KEYS);
    assert (!strcmp (dump, "{\"errors\":[{\"count\":1,\"engines\":[3],\"error\":\"boom\",\"tasks\":[1]}],"
                           "\"results\":[0,1,null,null,16]}"));
    free (dump);
    json_decref (out);
    msgpack_sbuffer_destroy (&sb);
    uint64_t ids [4];
    assert (mc_store_recent_jobs (store, ids, 4) == 1 && ids [0] == 1);
    mc_store_destroy (&store);

    //  A store that cannot be created is an error, not a crash.
    assert (mc_store_new ("/nonexistent/dir/store.db", err, sizeof err) == NULL && strstr (err, "store"));
    unlink (path);
    char side [300];
    snprintf (side, sizeof side, "%s-wal", path);
    unlink (side);
    snprintf (side, sizeof side, "%s-shm", path);
    unlink (side);
    rmdir (dir);
    if (verbose)
        printf ("OK\n");
}
