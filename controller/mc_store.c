/*  mc_store: jobs and results in SQLite, written in batched transactions.

    Every write is also kept in a journal in memory until its transaction
    commits. When a write or a COMMIT fails for a reason that may pass (a
    full disk, an I/O error, a lock), the transaction is rolled back, the
    store is "failing", and the journal is replayed into a new transaction
    at each later flush (with a growing delay) until one commits: nothing
    that was written is lost, and the log says so once per incident. */
#include "mc_store.h"
#include "mc_idmap.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_reduce.h"
#include "mc_time.h"
#include <czmq.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  A journal kept after a commit that is larger than this is given back.
#define S_JOURNAL_KEEP_BYTES (4u << 20)
//  Retries of a failing store: the first at once, then twice as far apart
//  each time, up to this.
#define S_RETRY_MAX_US 1000000
//  A failing store says it is still failing this often.
#define S_REMIND_US (60 * 1000000LL)
//  A run of results written as one row holds at most this many tasks, or
//  about this many bytes of data.
#define S_RUN_TASKS 4096
#define S_RUN_BYTES (1u << 20)
//  Runs open at once (one per job); one more ends them all.
#define S_RUNS 4096

typedef enum { S_DEAD, S_ADD_JOB, S_ADD_RESULT, S_FINISH_JOB, S_ABORT_JOB, S_TASK_DIED, S_TASK_RETRIED, S_JOB_TARGETS, S_RENICE_JOB,
               S_PUT_ALLOC } s_kind_t;

//  One write not yet committed, as kept in the journal: these fields, then
//  its blobs (job body or result data, error text, meta) back to back.
typedef struct {
    s_kind_t kind;
    size_t size;                    //  of the whole record, a multiple of 8
    size_t len [3];                 //  of each blob
    mc_job_info_t info;             //  S_ADD_JOB, S_FINISH_JOB (S_ABORT_JOB, S_JOB_TARGETS: its id; S_RENICE_JOB: id, priority)
    uint64_t job, task, first, count, status;       //  S_ADD_RESULT (job, task: S_TASK_*; S_PUT_ALLOC: id, engines)
    uint64_t retries;                               //  S_TASK_RETRIED
    int64_t engine, started_us, finished_us;        //  (engine: S_TASK_DIED too; finished_us: when S_PUT_ALLOC was made)
} s_record_t;

struct _mc_store_t {
    sqlite3 *db;
    char *path;
    bool in_tx;
    size_t pending;                 //  writes since the last commit
    sqlite3_stmt *add_job, *add_result, *add_run, *finish_job, *abort_job, *job_targets, *renice_job, *task_died,
                 *task_retried, *forget_counts, *job_info, *recent, *results, *errors, *meta, *put_alloc;
    sqlite3_stmt *begin, *commit;   //  prepared once: a commit per reply is on the latency path
    uint8_t *journal;               //  the records written since the last commit
    size_t journal_used, journal_size;          //  bytes
    //  Runs of results not written yet, one per job (jobs that share the
    //  engines take turns): each, records of the journal that are the
    //  next tasks of its job, all succeeded, written as one row when the
    //  run ends (s_runs_end).
    struct s_run {
        uint64_t job, next;         //  next: the task that continues it
        size_t *at;                 //  its records' offsets in the journal
        uint32_t tasks, room;
        size_t bytes;
    } runs [S_RUNS];
    size_t run_count;
    mc_idmap_t *run_of;             //  job -> its run + 1 (as a pointer)
    //  The incident, while the store is failing: since when (monotonic),
    //  what failed, how often, when to try again and when it was last said.
    int64_t failing_since_us, retry_at_us, retry_us, said_us;
    size_t attempts;
    char failure [512];
    char error [600];               //  what mc_store_error returns
};

static void s_runs_end (mc_store_t *self);
static void s_runs_drop (mc_store_t *self);

//  auto_vacuum=INCREMENTAL takes effect on a new store only; an older one
//  is converted by the first VACUUM of a purge (mc_store_purge).
static const char *s_schema =
    "PRAGMA auto_vacuum=INCREMENTAL;"
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
    "  started_us INTEGER NOT NULL, finished_us INTEGER NOT NULL, meta BLOB, tasks INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (job, task)) WITHOUT ROWID;"
    //  The next job id, kept past the jobs a purge removes: an id once
    //  given never names another job.
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    //  What an unfinished job's tasks went through, for a restarted
    //  controller (§5, "Retries"): the engines each killed, in order, and
    //  the times its kernel failed and it was queued again. Gone when the
    //  job finishes.
    "CREATE TABLE IF NOT EXISTS task_counts ("
    "  job INTEGER NOT NULL, task INTEGER NOT NULL, retries INTEGER NOT NULL, engines TEXT NOT NULL,"
    "  PRIMARY KEY (job, task)) WITHOUT ROWID;"
    //  Libraries of kernels that clients added (kernels_add, §8), which
    //  every engine gets when it registers.
    "CREATE TABLE IF NOT EXISTS libraries ("
    "  name TEXT PRIMARY KEY, hash TEXT NOT NULL, bytes BLOB NOT NULL, added_us INTEGER NOT NULL);"
    //  The allocations the controller made (§4 "Launchers", §8), so that
    //  a restarted one can poll and cancel the batch jobs of its
    //  predecessor: opts is a JSON array of "KEY=VALUE" strings.
    "CREATE TABLE IF NOT EXISTS allocations ("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, engines INTEGER NOT NULL, job TEXT NOT NULL,"
    "  state TEXT NOT NULL, reason TEXT NOT NULL, opts TEXT NOT NULL, updated_us INTEGER NOT NULL);";

static int
s_prepare (mc_store_t *self, sqlite3_stmt **stmt, const char *sql)
{
    return sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) == SQLITE_OK? 0: -1;
}

//  The store's files exist with mode 0600 before SQLite opens them, so that
//  the -wal and -shm files it creates (with the database's mode) are
//  private too, whatever the umask. 0 or -1 with errno.
static int
s_make_private (const char *path)
{
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = fchmod (fd, 0600);
    close (fd);
    const char *sides [] = { "-wal", "-shm" };
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        char side [4200];
        snprintf (side, sizeof side, "%s%s", path, sides [i]);
        if (chmod (side, 0600) && errno != ENOENT)
            rc = -1;
    }
    return rc;
}

//  Whether an SQLite result code says the file is damaged.
static bool
s_damaged (int code)
{
    code &= 0xff;
    return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

//  PRAGMA quick_check: NULL when the store is sound, else its first
//  complaint (in buf).
static const char *
s_check (mc_store_t *self, char *buf, size_t len)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "PRAGMA quick_check (1)", -1, &s, NULL) != SQLITE_OK) {
        snprintf (buf, len, "%s", sqlite3_errmsg (self->db));
        return buf;
    }
    int rc = sqlite3_step (s);
    const char *text = rc == SQLITE_ROW? (const char *) sqlite3_column_text (s, 0): NULL;
    const char *complaint = NULL;
    if (rc != SQLITE_ROW || !text || strcmp (text, "ok")) {
        snprintf (buf, len, "%s", text? text: sqlite3_errmsg (self->db));
        for (char *c = buf; *c; c++)
            if (*c == '\n')
                *c = ' ';          //  one line in the log
        complaint = buf;
    }
    sqlite3_finalize (s);
    return complaint;
}

mc_store_t *
mc_store_new (const char *path, char *err, size_t errlen)
{
    mc_store_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (path))) {
        snprintf (err, errlen, "store %s: out of memory", path);
        if (self)
            free (self);
        return NULL;
    }
    if (s_make_private (path)) {
        snprintf (err, errlen, "store %s: %s", path, strerror (errno));
        mc_store_destroy (&self);
        return NULL;
    }
    char complaint [256] = "";
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        //  A damaged file may fail as soon as the schema is read.
        int rc = sqlite3_exec (self->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (s_damaged (rc) || s_damaged (sqlite3_extended_errcode (self->db)))
            snprintf (complaint, sizeof complaint, "%s", sqlite3_errmsg (self->db));
        else
        if (rc == SQLITE_OK && s_check (self, complaint, sizeof complaint) == NULL)
            complaint [0] = 0;
    }
    if (complaint [0]) {
        snprintf (err, errlen, "store %s is damaged (%s): move it aside with `mv %s %s.damaged`"
                  " (and its -wal and -shm files, if any) and start again with an empty store",
                  path, complaint, path, path);
        mc_store_destroy (&self);
        return NULL;
    }
    if (!self->db
    ||  sqlite3_exec (self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK
    //  Stores from before task metadata lack its column (an error here
    //  only means that it is there already).
    ||  (sqlite3_exec (self->db, "ALTER TABLE results ADD COLUMN meta BLOB", NULL, NULL, NULL), false)
    ||  (sqlite3_exec (self->db, "ALTER TABLE results ADD COLUMN tasks INTEGER NOT NULL DEFAULT 1",
                       NULL, NULL, NULL), false)
    ||  (sqlite3_exec (self->db, "ALTER TABLE jobs ADD COLUMN aborted INTEGER NOT NULL DEFAULT 0",
                       NULL, NULL, NULL), false)
    ||  (sqlite3_exec (self->db, "ALTER TABLE jobs ADD COLUMN targets TEXT", NULL, NULL, NULL), false)
    //  Fair share: a job's priority (renice changes it) and who submitted it.
    ||  (sqlite3_exec (self->db, "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
                       NULL, NULL, NULL), false)
    ||  (sqlite3_exec (self->db, "ALTER TABLE jobs ADD COLUMN user TEXT NOT NULL DEFAULT ''", NULL, NULL, NULL), false)
    ||  (sqlite3_exec (self->db, "ALTER TABLE jobs ADD COLUMN user_key TEXT NOT NULL DEFAULT ''",
                       NULL, NULL, NULL), false)
    ||  s_prepare (self, &self->begin, "BEGIN")
    ||  s_prepare (self, &self->commit, "COMMIT")
    ||  s_prepare (self, &self->add_job,
            "INSERT INTO jobs (id, kind, kernel, body, total, tasks, seed, single, submitted_us,"
            " priority, user, user_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    ||  s_prepare (self, &self->add_result,
            "INSERT OR REPLACE INTO results (job, task, first, count, engine, status, data, error,"
            " started_us, finished_us, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    ||  s_prepare (self, &self->add_run,
            "INSERT OR REPLACE INTO results (job, task, first, count, engine, status, data, error,"
            " started_us, finished_us, meta, tasks) VALUES (?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, ?, ?)")
    ||  s_prepare (self, &self->meta,
            "SELECT task, engine, status, started_us, finished_us, meta, tasks FROM results WHERE job = ? ORDER BY task")
    ||  s_prepare (self, &self->finish_job,
            "UPDATE jobs SET done = ?, failed = ?, finished_us = ?, aborted = ? WHERE id = ?")
    ||  s_prepare (self, &self->abort_job, "UPDATE jobs SET aborted = 1 WHERE id = ?")
    ||  s_prepare (self, &self->job_targets, "UPDATE jobs SET targets = ? WHERE id = ?")
    ||  s_prepare (self, &self->renice_job, "UPDATE jobs SET priority = ? WHERE id = ?")
    ||  s_prepare (self, &self->task_died,
            "INSERT INTO task_counts (job, task, retries, engines) VALUES (?, ?, 0, ?)"
            " ON CONFLICT (job, task) DO UPDATE SET engines ="
            " CASE engines WHEN '' THEN excluded.engines ELSE engines || ',' || excluded.engines END")
    ||  s_prepare (self, &self->task_retried,
            "INSERT INTO task_counts (job, task, retries, engines) VALUES (?, ?, ?, '')"
            " ON CONFLICT (job, task) DO UPDATE SET retries = excluded.retries")
    ||  s_prepare (self, &self->forget_counts, "DELETE FROM task_counts WHERE job = ?")
    ||  s_prepare (self, &self->job_info,
            "SELECT kind, kernel, total, tasks, done, failed, seed, single, submitted_us, finished_us, body, aborted,"
            " priority, user, user_key"
            " FROM jobs WHERE id = ?")
    ||  s_prepare (self, &self->recent, "SELECT id FROM jobs ORDER BY id DESC LIMIT ?")
    ||  s_prepare (self, &self->put_alloc,
            "INSERT INTO allocations (id, kind, engines, job, state, reason, opts, updated_us)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET engines = excluded.engines,"
            " job = excluded.job, state = excluded.state, reason = excluded.reason, opts = excluded.opts,"
            " updated_us = excluded.updated_us")
    ||  s_prepare (self, &self->results,
            "SELECT count, status, data FROM results WHERE job = ? ORDER BY task")
    ||  s_prepare (self, &self->errors,
            "SELECT error, engine, task FROM results WHERE job = ? AND status != 0 ORDER BY error, task")) {
        snprintf (err, errlen, "store %s: %s", path, self->db? sqlite3_errmsg (self->db): "cannot open");
        mc_store_destroy (&self);
        return NULL;
    }
    //  The WAL files exist now: make sure of their mode.
    s_make_private (path);
    return self;
}

void
mc_store_destroy (mc_store_t **self_p)
{
    mc_store_t *self = *self_p;
    if (!self)
        return;
    if (self->db) {
        self->retry_at_us = 0;      //  a last try, whatever the delay
        mc_store_flush (self);
        if (self->failing_since_us && self->pending)
            mc_error ("store: %zu writes could not be committed: %s", self->pending, self->failure);
    }
    sqlite3_stmt *stmts [] = { self->meta, self->add_job, self->add_result, self->add_run, self->finish_job, self->abort_job,
                               self->job_targets, self->renice_job, self->task_died, self->task_retried, self->forget_counts,
                               self->job_info,
                               self->recent, self->results, self->errors, self->begin, self->commit, self->put_alloc };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts [0]; i++)
        sqlite3_finalize (stmts [i]);
    sqlite3_close (self->db);
    free (self->journal);
    for (size_t i = 0; i < S_RUNS; i++)
        free (self->runs [i].at);
    mc_idmap_destroy (&self->run_of);
    free (self->path);
    free (self);
    *self_p = NULL;
}

//  Whether an SQLite result code may pass (a full disk, I/O, a lock, memory):
//  the batch is then kept and retried. Any other failure is the write's own.
static bool
s_may_pass (int code)
{
    code &= 0xff;
    return code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_NOMEM || code == SQLITE_BUSY
        || code == SQLITE_LOCKED || code == SQLITE_READONLY || code == SQLITE_CANTOPEN
        || code == SQLITE_PROTOCOL || code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

//  A write or commit failed: roll back what SQLite has not already, keep
//  the journal, and say so once per incident (then once a minute).
static void
s_incident (mc_store_t *self, const char *what)
{
    int64_t now = mc_time_mono_us ();
    snprintf (self->failure, sizeof self->failure, "%s failed: %s (%s)", what, sqlite3_errmsg (self->db), self->path);
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    self->in_tx = false;
    s_runs_drop (self);             //  their records are replayed one by one
    self->attempts++;
    if (!self->failing_since_us) {
        self->failing_since_us = self->said_us = now;
        self->retry_us = 0;
        mc_error ("store: %s; %zu writes kept in memory, retrying", self->failure, self->pending);
    }
    else
    if (now - self->said_us >= S_REMIND_US) {
        self->said_us = now;
        mc_error ("store: %s; %zu attempts so far, %zu writes kept in memory", self->failure, self->attempts,
                  self->pending);
    }
    self->retry_us = self->retry_us? self->retry_us * 2: 20000;
    if (self->retry_us > S_RETRY_MAX_US)
        self->retry_us = S_RETRY_MAX_US;
    self->retry_at_us = now + self->retry_us;
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
//  The SQLite result code.
static int
s_step (sqlite3_stmt *stmt, int bound)
{
    int rc = bound == SQLITE_OK? sqlite3_step (stmt): SQLITE_MISUSE;
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    return rc;
}

//  Bind and step one journal record in the open transaction: the SQLite
//  result code (SQLITE_DONE when it was written).
static int
s_apply (mc_store_t *self, const s_record_t *r)
{
    const uint8_t *blob [3];
    blob [0] = (const uint8_t *) (r + 1);
    blob [1] = blob [0] + r->len [0];
    blob [2] = blob [1] + r->len [1];
    sqlite3_stmt *s;
    int rc;
    switch (r->kind) {
        case S_ADD_JOB:
            s = self->add_job;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->info.id);
            rc |= sqlite3_bind_text (s, 2, r->info.kind, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_text (s, 3, r->info.kernel, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_blob (s, 4, blob [0], (int) r->len [0], SQLITE_STATIC);
            rc |= sqlite3_bind_int64 (s, 5, (sqlite3_int64) r->info.total);
            rc |= sqlite3_bind_int64 (s, 6, (sqlite3_int64) r->info.tasks);
            rc |= sqlite3_bind_int64 (s, 7, (sqlite3_int64) r->info.seed);
            rc |= sqlite3_bind_int (s, 8, r->info.single);
            rc |= sqlite3_bind_int64 (s, 9, r->info.submitted_us);
            rc |= sqlite3_bind_int (s, 10, r->info.priority);
            rc |= sqlite3_bind_text (s, 11, r->info.user, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_text (s, 12, r->info.user_key, -1, SQLITE_STATIC);
            return s_step (s, rc);
        case S_ADD_RESULT:
            s = self->add_result;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->job);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->task);
            rc |= sqlite3_bind_int64 (s, 3, (sqlite3_int64) r->first);
            rc |= sqlite3_bind_int64 (s, 4, (sqlite3_int64) r->count);
            rc |= sqlite3_bind_int64 (s, 5, r->engine);
            rc |= sqlite3_bind_int64 (s, 6, (sqlite3_int64) r->status);
            if (r->status == 0)
                rc |= sqlite3_bind_blob (s, 7, blob [0], (int) r->len [0], SQLITE_STATIC);
            else
                rc |= sqlite3_bind_text (s, 8, (const char *) blob [1], (int) r->len [1], SQLITE_STATIC);
            rc |= sqlite3_bind_int64 (s, 9, r->started_us);
            rc |= sqlite3_bind_int64 (s, 10, r->finished_us);
            if (r->len [2])
                rc |= sqlite3_bind_blob (s, 11, blob [2], (int) r->len [2], SQLITE_STATIC);
            return s_step (s, rc);
        case S_FINISH_JOB:
            s = self->finish_job;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->info.done);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->info.failed);
            rc |= sqlite3_bind_int64 (s, 3, r->info.finished_us);
            rc |= sqlite3_bind_int (s, 4, r->info.aborted);
            rc |= sqlite3_bind_int64 (s, 5, (sqlite3_int64) r->info.id);
            rc = s_step (s, rc);
            if (rc != SQLITE_DONE)
                return rc;
            s = self->forget_counts;
            return s_step (s, sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->info.id));
        case S_ABORT_JOB:
            s = self->abort_job;
            return s_step (s, sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->info.id));
        case S_RENICE_JOB:
            s = self->renice_job;
            rc = sqlite3_bind_int (s, 1, r->info.priority);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->info.id);
            return s_step (s, rc);
        case S_JOB_TARGETS:
            s = self->job_targets;
            rc = sqlite3_bind_text (s, 1, (const char *) blob [0], (int) r->len [0], SQLITE_STATIC);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->info.id);
            return s_step (s, rc);
        case S_TASK_DIED: {
            char engine [24];
            snprintf (engine, sizeof engine, "%lld", (long long) r->engine);
            s = self->task_died;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->job);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->task);
            rc |= sqlite3_bind_text (s, 3, engine, -1, SQLITE_TRANSIENT);
            return s_step (s, rc);
        }
        case S_PUT_ALLOC: {
            //  Blob 0: kind, job, state and reason, each ending with a 0.
            const char *kind = (const char *) blob [0], *job = kind + strlen (kind) + 1;
            const char *state = job + strlen (job) + 1, *reason = state + strlen (state) + 1;
            s = self->put_alloc;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->job);
            rc |= sqlite3_bind_text (s, 2, kind, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_int64 (s, 3, (sqlite3_int64) r->count);
            rc |= sqlite3_bind_text (s, 4, job, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_text (s, 5, state, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_text (s, 6, reason, -1, SQLITE_STATIC);
            rc |= sqlite3_bind_text (s, 7, (const char *) blob [1], (int) r->len [1], SQLITE_STATIC);
            rc |= sqlite3_bind_int64 (s, 8, r->finished_us);
            return s_step (s, rc);
        }
        case S_TASK_RETRIED:
            s = self->task_retried;
            rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) r->job);
            rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) r->task);
            rc |= sqlite3_bind_int64 (s, 3, (sqlite3_int64) r->retries);
            return s_step (s, rc);
        default:
            return SQLITE_DONE;
    }
}

//  Append a record with its blobs to the journal: its offset there, or -1
//  when out of memory.
static ssize_t
s_journal_add (mc_store_t *self, s_record_t *r, const void *b0, const void *b1, const void *b2)
{
    r->size = (sizeof *r + r->len [0] + r->len [1] + r->len [2] + 7) & ~(size_t) 7;
    if (self->journal_used + r->size > self->journal_size) {
        size_t size = self->journal_size? self->journal_size: 65536;
        while (size < self->journal_used + r->size)
            size *= 2;
        uint8_t *grown = realloc (self->journal, size);
        if (!grown)
            return -1;
        self->journal = grown;
        self->journal_size = size;
    }
    size_t at = self->journal_used;
    uint8_t *p = self->journal + at;
    memcpy (p, r, sizeof *r);
    p += sizeof *r;
    const void *blobs [3] = { b0, b1, b2 };
    for (int i = 0; i < 3; i++)
        if (r->len [i]) {
            memcpy (p, blobs [i], r->len [i]);
            p += r->len [i];
        }
    self->journal_used += r->size;
    self->pending++;
    return (ssize_t) at;
}

//  A read failed: say so for mc_store_error. Returns -1.
static int
s_read_failed (mc_store_t *self)
{
    snprintf (self->error, sizeof self->error, "store %s: read failed: %s", self->path, sqlite3_errmsg (self->db));
    return -1;
}

#define S_RECORD(self, at) ((s_record_t *) ((self)->journal + (at)))

//  Keep a write in the journal and, unless the store is failing, write it
//  into the open transaction. 0, or -1 when out of memory or the write
//  itself is refused (not for a failure that may pass: that write is kept).
static struct s_run *s_run_of (mc_store_t *self, uint64_t job);
static struct s_run *s_run_open (mc_store_t *self, uint64_t job);
static bool s_run_room (struct s_run *run);
static void s_run_write (mc_store_t *self, struct s_run *run);

//  A result that may be part of a run: a map task's, that succeeded.
static bool
s_may_run (const s_record_t *r, const void *data)
{
    uint32_t elements;
    return r->kind == S_ADD_RESULT && r->status == 0 && r->count > 0 && r->len [0] > 0
        && r->len [0] + r->len [2] < S_RUN_BYTES
        && mc_proto_array_header (data, r->len [0], &elements) > 0 && elements == r->count;
}

static int
s_write (mc_store_t *self, s_record_t *r, const void *b0, const void *b1, const void *b2)
{
    bool runs = s_may_run (r, b0);
    struct s_run *run = runs? s_run_of (self, r->job): NULL;
    if (!runs)
        s_runs_end (self);          //  (the readers' order of things stays simple)
    else
    if (run && (r->task != run->next || run->tasks >= S_RUN_TASKS || run->bytes >= S_RUN_BYTES))
        s_run_write (self, run);    //  a gap, or full: it goes on from this task
    ssize_t at = s_journal_add (self, r, b0, b1, b2);
    if (at < 0) {
        snprintf (self->error, sizeof self->error, "store %s: out of memory", self->path);
        return -1;
    }
    if (self->failing_since_us)
        return 0;                   //  replayed at the next retry
    if (s_begin (self)) {
        s_incident (self, "begin");
        return 0;
    }
    if (runs && (run || (run = s_run_open (self, r->job))) && s_run_room (run)) {
        run->at [run->tasks++] = (size_t) at;
        run->next = r->task + 1;
        run->bytes += r->len [0] + r->len [2];
        return 0;
    }
    if (self->failing_since_us)
        return 0;                   //  (opening a run wrote the others, and met a failure)
    int rc = s_apply (self, S_RECORD (self, at));
    if (rc == SQLITE_DONE)
        return 0;
    if (s_may_pass (rc)) {
        s_incident (self, "write");
        return 0;
    }
    //  This write is wrong, not the store: it is dropped alone.
    snprintf (self->error, sizeof self->error, "store %s: %s", self->path, sqlite3_errmsg (self->db));
    S_RECORD (self, at)->kind = S_DEAD;
    self->pending--;
    return -1;
}

//  The open run of a job, or NULL.
static struct s_run *
s_run_of (mc_store_t *self, uint64_t job)
{
    uintptr_t i = self->run_of? (uintptr_t) mc_idmap_lookup (self->run_of, job): 0;
    return i? &self->runs [i - 1]: NULL;
}

//  Room in a run for one more record: true, or false when out of memory
//  (the result is then written alone).
static bool
s_run_room (struct s_run *run)
{
    if (run->tasks < run->room)
        return true;
    size_t *grown = realloc (run->at, 2 * run->room * sizeof *grown);
    if (!grown)
        return false;
    run->at = grown;
    run->room *= 2;
    return true;
}

//  A new run for a job (ending them all when S_RUNS are open), or NULL
//  when out of memory (the result is then written alone).
static struct s_run *
s_run_open (mc_store_t *self, uint64_t job)
{
    if (self->run_count == S_RUNS) {
        s_runs_end (self);
        if (self->failing_since_us)
            return NULL;
    }
    if (!self->run_of && !(self->run_of = mc_idmap_new ()))
        return NULL;
    struct s_run *run = &self->runs [self->run_count];
    if ((!run->at && !(run->at = malloc ((run->room = 16) * sizeof *run->at)))
    ||  mc_idmap_insert (self->run_of, job, (void *) (uintptr_t) (self->run_count + 1)))
        return NULL;
    self->run_count++;
    run->job = job;
    run->tasks = 0;
    run->bytes = 0;
    return run;
}

//  Write a run of several results as one row: their items as one array,
//  and per task [engine, started_us, finished_us, meta or nil] in its meta
//  (mc_proto.md §8). The SQLite result code.
static int
s_apply_run (mc_store_t *self, const struct s_run *run)
{
    const s_record_t *first = S_RECORD (self, run->at [0]);
    uint64_t items = 0;
    int64_t started = first->started_us, finished = first->finished_us;
    for (uint32_t k = 0; k < run->tasks; k++) {
        const s_record_t *r = S_RECORD (self, run->at [k]);
        items += r->count;
        started = r->started_us < started? r->started_us: started;
        finished = r->finished_us > finished? r->finished_us: finished;
    }
    msgpack_sbuffer data, meta;
    msgpack_sbuffer_init (&data);
    msgpack_sbuffer_init (&meta);
    msgpack_packer dp, mp;
    msgpack_packer_init (&dp, &data, msgpack_sbuffer_write);
    msgpack_packer_init (&mp, &meta, msgpack_sbuffer_write);
    int rc = msgpack_pack_array (&dp, (uint32_t) items) | msgpack_pack_array (&mp, run->tasks);
    for (uint32_t k = 0; k < run->tasks; k++) {
        const s_record_t *r = S_RECORD (self, run->at [k]);
        const uint8_t *blob = (const uint8_t *) (r + 1);
        uint32_t elements;
        int header = mc_proto_array_header (blob, r->len [0], &elements);     //  checked by s_may_run
        rc |= msgpack_sbuffer_write (&data, (const char *) blob + header, r->len [0] - (size_t) header);
        rc |= msgpack_pack_array (&mp, 4) | msgpack_pack_int64 (&mp, r->engine)
            | msgpack_pack_int64 (&mp, r->started_us) | msgpack_pack_int64 (&mp, r->finished_us);
        rc |= r->len [2]? msgpack_sbuffer_write (&meta, (const char *) blob + r->len [0] + r->len [1], r->len [2])
                        : msgpack_pack_nil (&mp);
    }
    sqlite3_stmt *s = self->add_run;
    if (rc == 0) {
        rc = sqlite3_bind_int64 (s, 1, (sqlite3_int64) first->job);
        rc |= sqlite3_bind_int64 (s, 2, (sqlite3_int64) first->task);
        rc |= sqlite3_bind_int64 (s, 3, (sqlite3_int64) first->first);
        rc |= sqlite3_bind_int64 (s, 4, (sqlite3_int64) items);
        rc |= sqlite3_bind_int64 (s, 5, first->engine);
        rc |= sqlite3_bind_blob64 (s, 6, data.data, data.size, SQLITE_STATIC);
        rc |= sqlite3_bind_int64 (s, 7, started);
        rc |= sqlite3_bind_int64 (s, 8, finished);
        rc |= sqlite3_bind_blob64 (s, 9, meta.data, meta.size, SQLITE_STATIC);
        rc |= sqlite3_bind_int64 (s, 10, run->tasks);
        rc = s_step (s, rc);
    }
    else
        rc = SQLITE_NOMEM;
    msgpack_sbuffer_destroy (&data);
    msgpack_sbuffer_destroy (&meta);
    return rc;
}

//  Write a run: a lone result as its own row, several as one; then it is
//  empty (it stays open, for its job's next task).
static void
s_run_write (mc_store_t *self, struct s_run *run)
{
    uint32_t tasks = run->tasks;
    int rc = tasks == 0 || self->failing_since_us? SQLITE_DONE      //  (a failing store replays the journal)
           : tasks == 1? s_apply (self, S_RECORD (self, run->at [0])): s_apply_run (self, run);
    run->tasks = 0;
    run->bytes = 0;
    if (rc == SQLITE_DONE)
        return;
    //  Refused as one (no memory to join them): each on its own.
    for (uint32_t k = 0; k < tasks && !s_may_pass (rc); k++)
        if ((rc = s_apply (self, S_RECORD (self, run->at [k]))) != SQLITE_DONE && !s_may_pass (rc)) {
            mc_error ("store: a result is refused and dropped: %s (%s)", sqlite3_errmsg (self->db), self->path);
            S_RECORD (self, run->at [k])->kind = S_DEAD;
            self->pending--;
        }
    if (s_may_pass (rc))
        s_incident (self, "write");
}

//  Write every open run and close them all. Called before any write that
//  is no result of a run, before a commit and before any read of results,
//  so that none of them sees the store without them.
static void
s_runs_end (mc_store_t *self)
{
    for (size_t i = 0; i < self->run_count; i++) {
        s_run_write (self, &self->runs [i]);
        mc_idmap_delete (self->run_of, self->runs [i].job);
    }
    self->run_count = 0;
}

//  Forget the open runs without writing them (the journal has them).
static void
s_runs_drop (mc_store_t *self)
{
    for (size_t i = 0; i < self->run_count; i++) {
        self->runs [i].tasks = 0;
        mc_idmap_delete (self->run_of, self->runs [i].job);
    }
    self->run_count = 0;
}

//  A new transaction with every live record of the journal in it. The
//  SQLite result code (SQLITE_DONE when all were written); records refused
//  for their own sake are dropped.
static int
s_replay (mc_store_t *self)
{
    if (s_begin (self))
        return sqlite3_extended_errcode (self->db);
    for (size_t at = 0; at < self->journal_used; at += S_RECORD (self, at)->size) {
        int rc = s_apply (self, S_RECORD (self, at));
        if (rc == SQLITE_DONE)
            continue;
        if (s_may_pass (rc))
            return rc;
        mc_error ("store: a kept write is refused and dropped: %s (%s)", sqlite3_errmsg (self->db), self->path);
        S_RECORD (self, at)->kind = S_DEAD;
    }
    return SQLITE_DONE;
}

uint64_t
mc_store_next_job_id (mc_store_t *self)
{
    sqlite3_stmt *stmt;
    uint64_t id = 0;
    if (sqlite3_prepare_v2 (self->db, "SELECT MAX ((SELECT COALESCE (MAX (id), 0) + 1 FROM jobs),"
                            " (SELECT COALESCE (MAX (value), 1) FROM counters WHERE name = 'next_job_id'))",
                            -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        id = (uint64_t) sqlite3_column_int64 (stmt, 0);
    else
        s_read_failed (self);
    sqlite3_finalize (stmt);
    return id;
}

int
mc_store_add_job (mc_store_t *self, const mc_job_info_t *info, const void *body, size_t size)
{
    //  A failing store takes no new job: it could not say when it would
    //  be stored.
    if (self->failing_since_us) {
        snprintf (self->error, sizeof self->error, "store %s", self->failure);
        return -1;
    }
    s_record_t r = { .kind = S_ADD_JOB, .info = *info, .len = { size } };
    return s_write (self, &r, body, NULL, NULL);
}

int
mc_store_add_result (mc_store_t *self, uint64_t job, uint64_t task, uint64_t first, uint64_t count,
                     int64_t engine, uint64_t status, const void *data, size_t size,
                     const char *error, size_t error_len, int64_t started_us, int64_t finished_us,
                     const void *meta, size_t meta_size)
{
    s_record_t r = { .kind = S_ADD_RESULT, .job = job, .task = task, .first = first, .count = count,
                     .engine = engine, .status = status, .started_us = started_us, .finished_us = finished_us,
                     .len = { status == 0? size: 0, status == 0? 0: error_len, meta_size } };
    return s_write (self, &r, data, error, meta);
}

int
mc_store_finish_job (mc_store_t *self, const mc_job_info_t *info)
{
    s_record_t r = { .kind = S_FINISH_JOB, .info = *info };
    return s_write (self, &r, NULL, NULL, NULL);
}

int
mc_store_abort_job (mc_store_t *self, uint64_t id)
{
    s_record_t r = { .kind = S_ABORT_JOB, .info = { .id = id } };
    return s_write (self, &r, NULL, NULL, NULL);
}

int
mc_store_renice_job (mc_store_t *self, uint64_t id, int32_t priority)
{
    s_record_t r = { .kind = S_RENICE_JOB, .info = { .id = id, .priority = priority } };
    return s_write (self, &r, NULL, NULL, NULL);
}

int
mc_store_job_targets (mc_store_t *self, uint64_t id, const int32_t *ids, size_t count)
{
    //  As text ("0,1,2"): readable with the sqlite3 shell, like task_counts.
    char *text = malloc (count * 12 + 1);
    if (!text) {
        snprintf (self->error, sizeof self->error, "store %s: out of memory", self->path);
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        used += (size_t) sprintf (text + used, "%s%d", i? ",": "", ids [i]);
    s_record_t r = { .kind = S_JOB_TARGETS, .info = { .id = id }, .len = { used } };
    int rc = s_write (self, &r, text, NULL, NULL);
    free (text);
    return rc;
}

int
mc_store_task_died (mc_store_t *self, uint64_t job, uint64_t task, int32_t engine)
{
    s_record_t r = { .kind = S_TASK_DIED, .job = job, .task = task, .engine = engine };
    return s_write (self, &r, NULL, NULL, NULL);
}

int
mc_store_task_retried (mc_store_t *self, uint64_t job, uint64_t task, uint32_t retries)
{
    s_record_t r = { .kind = S_TASK_RETRIED, .job = job, .task = task, .retries = retries };
    return s_write (self, &r, NULL, NULL, NULL);
}

int
mc_store_flush (mc_store_t *self)
{
    if (self->failing_since_us) {
        if (mc_time_mono_us () < self->retry_at_us)
            return -1;
        int rc = s_replay (self);
        if (rc != SQLITE_DONE) {
            s_incident (self, "write");
            return -1;
        }
    }
    if (self->run_count) {          //  (never while failing)
        s_runs_end (self);
        if (self->failing_since_us)
            return -1;
    }
    if (!self->in_tx)
        return 0;
    int rc = sqlite3_step (self->commit);
    sqlite3_reset (self->commit);
    if (rc != SQLITE_DONE) {
        s_incident (self, "commit");
        return -1;
    }
    self->in_tx = false;
    self->pending = 0;
    self->journal_used = 0;
    if (self->journal_size > S_JOURNAL_KEEP_BYTES) {
        free (self->journal);
        self->journal = NULL;
        self->journal_size = 0;
    }
    if (self->failing_since_us) {
        mc_warn ("store: recovered after %.1f s (%zu attempts): %s", (mc_time_mono_us () - self->failing_since_us) / 1e6,
                  self->attempts, self->path);
        self->failing_since_us = 0;
        self->attempts = 0;
    }
    return 0;
}

int64_t
mc_store_failing_since (const mc_store_t *self)
{
    return self->failing_since_us;
}

int
mc_store_fail_job (mc_store_t *self, mc_job_info_t *info, const char *text)
{
    bool added = false;
    for (size_t at = 0; at < self->journal_used; at += S_RECORD (self, at)->size)
        if (S_RECORD (self, at)->kind == S_ADD_JOB && S_RECORD (self, at)->info.id == info->id)
            added = true;
    size_t end = self->journal_used;
    for (size_t at = 0; at < end; at += S_RECORD (self, at)->size) {
        s_record_t *r = S_RECORD (self, at);
        bool ours = ((r->kind == S_ADD_JOB || r->kind == S_FINISH_JOB || r->kind == S_JOB_TARGETS
                      || r->kind == S_RENICE_JOB)
                     && r->info.id == info->id)
                 || ((r->kind == S_ADD_RESULT || r->kind == S_TASK_DIED || r->kind == S_TASK_RETRIED)
                     && r->job == info->id);
        if (!ours)
            continue;
        if (!added && r->kind == S_ADD_RESULT && r->status == 0) {
            //  Its values are dropped; its items count as failed.
            uint64_t items = r->count? r->count: info->kind [0] == 'm'? 0: 1;
            info->done = info->done > items? info->done - items: 0;
            info->failed += items;
            s_record_t failure = { .kind = S_ADD_RESULT, .job = r->job, .task = r->task, .first = r->first,
                                   .count = r->count, .engine = r->engine, .status = MC_E_INTERNAL,
                                   .started_us = r->started_us, .finished_us = r->finished_us,
                                   .len = { 0, strlen (text), 0 } };
            r->kind = S_DEAD;
            self->pending--;
            if (s_journal_add (self, &failure, NULL, text, NULL) < 0)
                return -1;
            continue;               //  r may have moved: found again by offset
        }
        if (added || r->kind == S_FINISH_JOB) {
            r->kind = S_DEAD;
            self->pending--;
        }
    }
    if (added)
        return 1;
    s_record_t finish = { .kind = S_FINISH_JOB, .info = *info };
    return s_journal_add (self, &finish, NULL, NULL, NULL) < 0? -1: 0;
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
    int rc = -1, step = sqlite3_step (s);
    const char *kind = NULL, *kernel = NULL;
    //  Text columns are NULL when SQLite runs out of memory converting them.
    if (step == SQLITE_ROW
    &&  (!(kind = (const char *) sqlite3_column_text (s, 0)) || !(kernel = (const char *) sqlite3_column_text (s, 1))))
        rc = -2;
    else
    if (step == SQLITE_ROW) {
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
        info->aborted = sqlite3_column_int (s, 11) != 0;
        info->priority = sqlite3_column_int (s, 12);
        const char *user = (const char *) sqlite3_column_text (s, 13);
        const char *key = (const char *) sqlite3_column_text (s, 14);
        snprintf (info->user, sizeof info->user, "%s", user? user: "");
        snprintf (info->user_key, sizeof info->user_key, "%s", key? key: "");
        rc = 0;
    }
    else
    if (step != SQLITE_DONE)
        rc = -2;
    if (rc == -2)
        s_read_failed (self);
    sqlite3_reset (s);
    return rc;
}

size_t
mc_store_recent_jobs (mc_store_t *self, uint64_t *ids, size_t limit)
{
    sqlite3_stmt *s = self->recent;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) limit);
    size_t count = 0;
    int step;
    while (count < limit && (step = sqlite3_step (s)) == SQLITE_ROW)
        ids [count++] = (uint64_t) sqlite3_column_int64 (s, 0);
    if (count < limit && step != SQLITE_DONE)
        s_read_failed (self);
    sqlite3_reset (s);
    return count;
}

size_t
mc_store_finished_jobs (mc_store_t *self, int64_t before_us, uint64_t after, uint64_t *ids, size_t limit)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT id FROM jobs WHERE finished_us != 0 AND finished_us < ?"
                                      " AND id > ? ORDER BY id LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
        s_read_failed (self);
        return 0;
    }
    sqlite3_bind_int64 (s, 1, before_us);
    sqlite3_bind_int64 (s, 2, (sqlite3_int64) after);
    sqlite3_bind_int64 (s, 3, (sqlite3_int64) limit);
    size_t count = 0;
    int step = SQLITE_DONE;
    while (count < limit && (step = sqlite3_step (s)) == SQLITE_ROW)
        ids [count++] = (uint64_t) sqlite3_column_int64 (s, 0);
    if (count < limit && step != SQLITE_DONE)
        s_read_failed (self);
    sqlite3_finalize (s);
    return count;
}

//  One integer that a PRAGMA returns, or -1.
static int64_t
s_pragma (mc_store_t *self, const char *sql)
{
    sqlite3_stmt *s;
    int64_t value = -1;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step (s) == SQLITE_ROW)
        value = sqlite3_column_int64 (s, 0);
    sqlite3_finalize (s);
    return value;
}

int64_t
mc_store_bytes (mc_store_t *self)
{
    int64_t pages = s_pragma (self, "PRAGMA page_count");
    int64_t size = s_pragma (self, "PRAGMA page_size");
    return pages < 0 || size < 0? -1: pages * size;
}

//  Step one deletion with a job id bound: the rows it deleted, or the sum
//  of what it RETURNs (the tasks of the results deleted); -1 on failure.
static int64_t
s_delete (mc_store_t *self, sqlite3_stmt *s, uint64_t id)
{
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
    int64_t counted = 0;
    int rc;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW)
        counted += sqlite3_column_int64 (s, 0);     //  RETURNING what each row counts for
    sqlite3_reset (s);
    return rc != SQLITE_DONE? -1: sqlite3_column_count (s)? counted: sqlite3_changes (self->db);
}

int
mc_store_purge (mc_store_t *self, const uint64_t *ids, size_t count, mc_store_purged_t *purged)
{
    if (self->failing_since_us) {
        snprintf (self->error, sizeof self->error, "%s", self->failure);
        return -1;
    }
    //  Deletions go in a transaction of their own, after what is pending.
    if (mc_store_flush (self))
        return -1;
    int64_t before = mc_store_bytes (self);
    sqlite3_stmt *results = NULL, *jobs = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2 (self->db, "DELETE FROM results WHERE job = ? AND"
                            " (SELECT finished_us FROM jobs WHERE id = job) != 0 RETURNING tasks", -1, &results, NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (self->db, "DELETE FROM jobs WHERE id = ? AND finished_us != 0", -1, &jobs, NULL) != SQLITE_OK
    ||  s_begin (self)
    ||  sqlite3_exec (self->db, "INSERT INTO counters VALUES ('next_job_id', (SELECT COALESCE (MAX (id), 0) + 1 FROM jobs))"
                      " ON CONFLICT (name) DO UPDATE SET value = MAX (value, excluded.value)", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    uint64_t njobs = 0, nresults = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t r = s_delete (self, results, ids [i]);
        int64_t j = r < 0? -1: s_delete (self, jobs, ids [i]);
        if (r < 0 || j < 0) {
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            self->in_tx = false;
            goto done;
        }
        nresults += (uint64_t) r;
        njobs += (uint64_t) j;
    }
    if (mc_store_flush (self))
        goto done;
    purged->jobs += njobs;
    purged->results += nresults;
    //  Give the pages back: a store made with auto_vacuum=INCREMENTAL frees
    //  them at once (cost: the freed pages); an older one is rewritten
    //  whole by VACUUM once (cost: the size of the store), which also
    //  makes it incremental. The checkpoint then shrinks the file itself.
    if (s_pragma (self, "PRAGMA auto_vacuum") == 2)
        rc = sqlite3_exec (self->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
    else
        rc = sqlite3_exec (self->db, "VACUUM", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        mc_warn ("store: purged %llu jobs but could not give their space back: %s (%s)",
                 (unsigned long long) njobs, sqlite3_errmsg (self->db), self->path);
    int64_t after = mc_store_bytes (self);
    if (before > 0 && after >= 0 && after < before)
        purged->bytes += (uint64_t) (before - after);
    s_make_private (self->path);
    rc = 0;
done:
    if (rc)
        snprintf (self->error, sizeof self->error, "store %s: purge failed: %s", self->path, sqlite3_errmsg (self->db));
    sqlite3_finalize (results);
    sqlite3_finalize (jobs);
    return rc;
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
    s_runs_end (self);
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
    int step, damaged = 0;
    while (!damaged && (step = sqlite3_step (s)) == SQLITE_ROW) {
        msgpack_object items;
        const void *data = sqlite3_column_blob (s, 2);
        if (sqlite3_column_int64 (s, 1) != 0)
            continue;
        //  A stored good result was checked when it arrived: one that
        //  does not decode now was damaged since.
        if (!data || mc_proto_unpack (data, (size_t) sqlite3_column_bytes (s, 2), &zone, &items)
        ||  items.type != MSGPACK_OBJECT_ARRAY) {
            damaged = 1;
            break;
        }
        for (uint32_t i = 0; i < items.via.array.size; i++)
            mc_reduce_add (sum, &items.via.array.ptr [i]);
        msgpack_zone_clear (&zone);
    }
    if (damaged)
        snprintf (self->error, sizeof self->error, "store %s: a result of job j%llu cannot be decoded",
                  self->path, (unsigned long long) info->id);
    else
    if (step != SQLITE_DONE)
        damaged = s_read_failed (self);
    sqlite3_reset (s);
    msgpack_zone_destroy (&zone);
    if (damaged) {
        mc_reduce_destroy (&sum);
        return -1;
    }
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
    int step = SQLITE_DONE;
    bool damaged = false;
    while (!damaged && packed < info->total && (step = sqlite3_step (s)) == SQLITE_ROW) {
        uint64_t count = (uint64_t) sqlite3_column_int64 (s, 0);
        uint64_t items = count? count: 1;
        if (info->kind [0] == 'm' && count == 0)
            items = 0;              //  an empty block of a direct map
        const uint8_t *data = sqlite3_column_blob (s, 2);
        size_t size = (size_t) sqlite3_column_bytes (s, 2);
        uint32_t elements;
        bool ok = sqlite3_column_int64 (s, 1) == 0;
        int header = ok && data? mc_proto_array_header (data, size, &elements): -1;
        //  A good result was checked when it arrived: one that does not
        //  read as its items now was damaged since, and is an error, not nils.
        if (ok && items && !(header > 0 && elements == items)) {
            damaged = true;
            break;
        }
        if (header > 0 && elements == items && packed + items <= info->total) {
            rc |= msgpack_pack_str_body (pk, data + header, size - (size_t) header);  //  raw append
            packed += items;
        }
        else
        for (uint64_t i = 0; i < items && packed < info->total; i++, packed++)
            rc |= msgpack_pack_nil (pk);
    }
    if (damaged)
        snprintf (self->error, sizeof self->error, "store %s: a result of job j%llu cannot be decoded",
                  self->path, (unsigned long long) info->id);
    else
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        damaged = s_read_failed (self) != 0;
    sqlite3_reset (s);
    if (damaged)
        return -1;
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
        //  A task that failed before any engine ran it (engine -1: an
        //  abort, the controller out of memory) names no engine.
        if ((!seen && engine >= 0 && !zlistx_add_end (group->engines, (void *) (engine + 1)))
        ||  !zlistx_add_end (group->tasks, (void *) (intptr_t) (sqlite3_column_int64 (s, 2) + 1)))
            rc = -1;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_read_failed (self);  //  the read failed part way
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
    if (self->failing_since_us)
        snprintf (self->error, sizeof self->error, "store %s", self->failure);
    else
    if (!self->error [0])           //  a failure that did not say more
        snprintf (self->error, sizeof self->error, "store %s: %s", self->path, sqlite3_errmsg (self->db));
    return self->error;
}

//  One task's entry of `meta`: its number, engine, outcome and times, and
//  the key "meta", whose value the caller packs.
static int
s_pack_task_meta (msgpack_packer *pk, int64_t task, int64_t engine, bool ok, int64_t started_us,
                  int64_t finished_us)
{
    int rc = msgpack_pack_map (pk, 6);
    rc |= s_pack_str (pk, "task", 4)     | msgpack_pack_int64 (pk, task);
    rc |= s_pack_str (pk, "engine", 6)   | msgpack_pack_int64 (pk, engine);
    rc |= s_pack_str (pk, "ok", 2)       | (ok? msgpack_pack_true (pk): msgpack_pack_false (pk));
    rc |= s_pack_str (pk, "started", 7)  | msgpack_pack_double (pk, started_us / 1e6);
    rc |= s_pack_str (pk, "finished", 8) | msgpack_pack_double (pk, finished_us / 1e6);
    return rc | s_pack_str (pk, "meta", 4);
}

//  The entries of a row that holds a run of `tasks` tasks from `task`: its
//  meta is an array of [engine, started_us, finished_us, meta or nil].
static int
s_pack_run_meta (msgpack_packer *pk, int64_t task, uint32_t tasks, const void *meta, size_t size)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 4096))
        return -1;
    msgpack_object runs, *e;
    int rc = mc_proto_unpack (meta, size, &zone, &runs) || runs.type != MSGPACK_OBJECT_ARRAY
          || runs.via.array.size != tasks;
    for (uint32_t k = 0; rc == 0 && k < tasks; k++) {
        e = runs.via.array.ptr [k].type == MSGPACK_OBJECT_ARRAY
         && runs.via.array.ptr [k].via.array.size == 4? runs.via.array.ptr [k].via.array.ptr: NULL;
        bool ints = e;
        for (int f = 0; f < 3 && ints; f++)
            ints = e [f].type == MSGPACK_OBJECT_POSITIVE_INTEGER || e [f].type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        if (!ints) {
            rc = -1;
            break;
        }
        rc |= s_pack_task_meta (pk, task + k, e [0].via.i64, true, e [1].via.i64, e [2].via.i64);
        rc |= e [3].type == MSGPACK_OBJECT_MAP? msgpack_pack_object (pk, e [3]): msgpack_pack_map (pk, 0);
    }
    msgpack_zone_destroy (&zone);
    return rc? -1: 0;
}

int
mc_store_pack_meta (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk)
{
    s_runs_end (self);
    sqlite3_stmt *s = self->meta;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) info->id);
    //  Tasks are counted first: a msgpack array states its size up front.
    size_t tasks = 0;
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW)
        tasks += (size_t) sqlite3_column_int64 (s, 6);
    sqlite3_reset (s);
    if (step != SQLITE_DONE)
        return s_read_failed (self);
    int rc = msgpack_pack_array (pk, (uint32_t) tasks);
    while (tasks && sqlite3_step (s) == SQLITE_ROW) {
        int64_t task = sqlite3_column_int64 (s, 0);
        uint32_t run = (uint32_t) sqlite3_column_int64 (s, 6);
        const void *meta = sqlite3_column_blob (s, 5);
        size_t size = (size_t) sqlite3_column_bytes (s, 5);
        if (run > tasks || (run > 1 && s_pack_run_meta (pk, task, run, meta, size)))
            break;                  //  a damaged row
        if (run == 1) {
            rc |= s_pack_task_meta (pk, task, sqlite3_column_int64 (s, 1), sqlite3_column_int64 (s, 2) == 0,
                                    sqlite3_column_int64 (s, 3), sqlite3_column_int64 (s, 4));
            //  As the engine sent it, checked when it arrived.
            rc |= meta && size? msgpack_pack_str_body (pk, meta, size): msgpack_pack_map (pk, 0);
        }
        tasks -= run;
    }
    sqlite3_reset (s);
    //  Rows that could not be read again leave the array short: an error.
    if (tasks)
        s_read_failed (self);
    return rc || tasks? -1: 0;
}

//  --------------------------------------------------------------------------
//  --------------------------------------------------------------------------
//  Resuming after a restart (rare: statements made when asked)

int
mc_store_each_unfinished (mc_store_t *self, mc_store_job_fn *fn, void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT id, seed, submitted_us, body, targets FROM jobs WHERE finished_us = 0 ORDER BY id",
                            -1, &s, NULL) != SQLITE_OK)
        return s_read_failed (self);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *targets = (const char *) sqlite3_column_text (s, 4);
        rc = fn (arg, (uint64_t) sqlite3_column_int64 (s, 0), (uint64_t) sqlite3_column_int64 (s, 1),
                 sqlite3_column_int64 (s, 2), sqlite3_column_blob (s, 3), (size_t) sqlite3_column_bytes (s, 3),
                 targets? targets: "");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_read_failed (self);
    sqlite3_finalize (s);
    return rc;
}

//  A write of its own, committed at once, after what was pending.
static int
s_write_now (mc_store_t *self, const char *sql, const char *name, const char *hash, const void *bytes, size_t size)
{
    if (mc_store_flush (self))
        return -1;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    if (hash) {
        sqlite3_bind_text (s, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_blob64 (s, 3, bytes, size, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 4, mc_time_wall_us ());
    }
    int rc = sqlite3_step (s) == SQLITE_DONE? 0: -1;
    if (rc)
        mc_error ("store: %s failed: %s (%s)", sql, sqlite3_errmsg (self->db), self->path);
    sqlite3_finalize (s);
    return rc;
}

int
mc_store_put_library (mc_store_t *self, const char *name, const char *hash, const void *bytes, size_t size)
{
    return s_write_now (self, "INSERT OR REPLACE INTO libraries (name, hash, bytes, added_us) VALUES (?, ?, ?, ?)",
                        name, hash, bytes, size);
}

int
mc_store_remove_library (mc_store_t *self, const char *name)
{
    return s_write_now (self, "DELETE FROM libraries WHERE name = ?", name, NULL, NULL, 0);
}

int
mc_store_each_library (mc_store_t *self, mc_store_library_fn *fn, void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT name, hash, bytes FROM libraries ORDER BY added_us", -1, &s, NULL) != SQLITE_OK)
        return s_read_failed (self);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW)
        rc = fn (arg, (const char *) sqlite3_column_text (s, 0), (const char *) sqlite3_column_text (s, 1),
                 sqlite3_column_blob (s, 2), (size_t) sqlite3_column_bytes (s, 2));
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_read_failed (self);
    sqlite3_finalize (s);
    return rc;
}

//  --------------------------------------------------------------------------
//  Allocations (§4 "Launchers", §8)

int
mc_store_put_alloc (mc_store_t *self, const mc_store_alloc_t *alloc, const char *const *opts)
{
    //  An option that is not UTF-8 (a Latin-1 path) is left out, and only
    //  it: JSON cannot hold it (json_dumps refuses a string made with
    //  json_stringn_nocheck), and losing the whole row would lose the job.
    //  The next controller takes the allocation up without that option.
    json_t *list = json_array ();
    for (const char *const *opt = opts; list && opt && *opt; opt++) {
        json_t *string = json_string (*opt);
        if (string && json_array_append_new (list, string)) {
            json_decref (list);
            list = NULL;
        }
    }
    char *text = list? json_dumps (list, JSON_COMPACT): NULL;
    json_decref (list);
    size_t len [4] = { strlen (alloc->kind), strlen (alloc->job), strlen (alloc->state), strlen (alloc->reason) };
    size_t names = len [0] + len [1] + len [2] + len [3] + 4;
    char *strings = text? malloc (names): NULL;
    if (!strings) {
        free (text);
        snprintf (self->error, sizeof self->error, "store %s: out of memory", self->path);
        return -1;
    }
    char *at = strings;
    const char *fields [4] = { alloc->kind, alloc->job, alloc->state, alloc->reason };
    for (int i = 0; i < 4; i++) {
        memcpy (at, fields [i], len [i] + 1);
        at += len [i] + 1;
    }
    s_record_t r = { .kind = S_PUT_ALLOC, .job = alloc->id, .count = alloc->engines,
                     .finished_us = mc_time_wall_us (), .len = { names, strlen (text) } };
    int rc = s_write (self, &r, strings, text, NULL);
    free (strings);
    free (text);
    return rc;
}

//  The next allocation id is kept past the rows deleted below: the
//  highest id ever stored, plus one.
static const char *s_next_alloc_sql =
    "SELECT MAX ((SELECT COALESCE (MAX (id), 0) + 1 FROM allocations),"
    " (SELECT COALESCE (MAX (value), 1) FROM counters WHERE name = 'next_alloc_id'))";

uint32_t
mc_store_next_alloc_id (mc_store_t *self)
{
    sqlite3_stmt *s;
    int64_t id = 0;
    if (sqlite3_prepare_v2 (self->db, s_next_alloc_sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step (s) == SQLITE_ROW)
        id = sqlite3_column_int64 (s, 0);
    else
        s_read_failed (self);
    sqlite3_finalize (s);
    return id > 0 && id <= UINT32_MAX? (uint32_t) id: 0;
}

//  A row's text column, or "" (NULL, out of memory).
static const char *
s_text (sqlite3_stmt *s, int column)
{
    const char *text = (const char *) sqlite3_column_text (s, column);
    return text? text: "";
}

int
mc_store_each_alloc (mc_store_t *self, mc_store_alloc_fn *fn, void *arg)
{
    //  Those over were shown in the life of the controller that ended
    //  them; only their highest id is kept, in counters.
    if (mc_store_flush (self) || s_begin (self)
    ||  sqlite3_exec (self->db, "INSERT INTO counters VALUES ('next_alloc_id',"
                      " (SELECT COALESCE (MAX (id), 0) + 1 FROM allocations))"
                      " ON CONFLICT (name) DO UPDATE SET value = MAX (value, excluded.value);"
                      "DELETE FROM allocations WHERE state IN ('ended', 'failed', 'cancelled')",
                      NULL, NULL, NULL) != SQLITE_OK
    ||  mc_store_flush (self)) {
        if (self->in_tx && !self->failing_since_us) {
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            self->in_tx = false;
        }
        return s_read_failed (self);
    }
    //  Read them all first: fn may write (what it makes of each), which a
    //  statement still reading the table must not see.
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT id, kind, engines, job, state, reason, opts FROM allocations ORDER BY id",
                            -1, &s, NULL) != SQLITE_OK)
        return s_read_failed (self);
    mc_store_alloc_t *allocs = NULL;
    char **texts = NULL;            //  each one's options, as stored
    size_t count = 0;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW) {
        mc_store_alloc_t *more = realloc (allocs, (count + 1) * sizeof *allocs);
        char **more_texts = more? realloc (texts, (count + 1) * sizeof *texts): NULL;
        allocs = more? more: allocs;
        texts = more_texts? more_texts: texts;
        if (!more_texts || !(texts [count] = strdup (s_text (s, 6)))) {
            snprintf (self->error, sizeof self->error, "store %s: out of memory", self->path);
            rc = -1;
            break;
        }
        mc_store_alloc_t *alloc = &allocs [count++];
        *alloc = (mc_store_alloc_t) { .id = (uint32_t) sqlite3_column_int64 (s, 0),
                                      .engines = (uint64_t) sqlite3_column_int64 (s, 2) };
        snprintf (alloc->kind, sizeof alloc->kind, "%s", s_text (s, 1));
        snprintf (alloc->job, sizeof alloc->job, "%s", s_text (s, 3));
        snprintf (alloc->state, sizeof alloc->state, "%s", s_text (s, 4));
        snprintf (alloc->reason, sizeof alloc->reason, "%s", s_text (s, 5));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_read_failed (self);
    sqlite3_finalize (s);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        //  Options that do not read as a list of strings are none: the
        //  row is still the allocation's (its job can still be cancelled).
        json_t *list = json_loads (texts [i], 0, NULL);
        size_t n = 0, size = json_is_array (list)? json_array_size (list): 0;
        const char **opts = calloc (size + 1, sizeof *opts);
        if (!opts) {
            snprintf (self->error, sizeof self->error, "store %s: out of memory", self->path);
            rc = -1;
        }
        for (size_t k = 0; opts && k < size; k++)
            if (json_string_value (json_array_get (list, k)))
                opts [n++] = json_string_value (json_array_get (list, k));
        if (opts)
            rc = fn (arg, &allocs [i], opts);
        free (opts);
        json_decref (list);
    }
    for (size_t i = 0; i < count; i++)
        free (texts [i]);
    free (texts);
    free (allocs);
    return rc;
}

int
mc_store_each_result (mc_store_t *self, uint64_t job, mc_store_task_fn *fn, void *arg)
{
    s_runs_end (self);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT task, status, tasks FROM results WHERE job = ?", -1, &s, NULL) != SQLITE_OK)
        return s_read_failed (self);
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) job);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW)
        for (int64_t k = 0; k < sqlite3_column_int64 (s, 2); k++)
            fn (arg, (uint64_t) (sqlite3_column_int64 (s, 0) + k), (uint64_t) sqlite3_column_int64 (s, 1));
    sqlite3_finalize (s);
    return step == SQLITE_DONE? 0: s_read_failed (self);
}

int
mc_store_each_task_counts (mc_store_t *self, uint64_t job, mc_store_counts_fn *fn, void *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2 (self->db, "SELECT task, retries, engines FROM task_counts WHERE job = ?",
                            -1, &s, NULL) != SQLITE_OK)
        return s_read_failed (self);
    sqlite3_bind_int64 (s, 1, (sqlite3_int64) job);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *engines = (const char *) sqlite3_column_text (s, 2);
        fn (arg, (uint64_t) sqlite3_column_int64 (s, 0), (uint32_t) sqlite3_column_int64 (s, 1),
            engines? engines: "");
    }
    sqlite3_finalize (s);
    return step == SQLITE_DONE? 0: s_read_failed (self);
}

//  Self test: jobs and results survive a reopen; results splice in order.

//  The number of lines of the log file that hold text.
static int
s_test_lines (FILE *log, const char *text)
{
    fflush (log);
    rewind (log);
    char line [1024];
    int count = 0;
    while (fgets (line, sizeof line, log))
        count += strstr (line, text) != NULL;
    fseek (log, 0, SEEK_END);
    return count;
}

//  What mc_store_each_task_counts gave: rows, and the last one's fields.
typedef struct {
    int rows;
    uint32_t retries;
    char engines [64];
} s_test_counts_t;

static void
s_test_counts (void *arg, uint64_t task, uint32_t retries, const char *engines)
{
    (void) task;
    s_test_counts_t *counts = arg;
    counts->rows++;
    counts->retries = retries;
    snprintf (counts->engines, sizeof counts->engines, "%s", engines);
}

//  The targets of unfinished job 4, as mc_store_each_unfinished gives them.
static int
s_test_targets (void *arg, uint64_t id, uint64_t seed, int64_t submitted_us, const void *body, size_t size,
                const char *targets)
{
    (void) seed; (void) submitted_us; (void) body; (void) size;
    if (id == 4)
        snprintf (arg, 32, "%s", targets);
    return 0;
}

//  A result of one value, packed: [n].
#define S_TEST_VALUE(buf, n) (buf [0] = (char) 0x91, buf [1] = (char) (n))

//  What mc_store_each_result gave, as "task:status" in order of calls.
static void
s_test_each (void *arg, uint64_t task, uint64_t status)
{
    char *seen = arg;
    snprintf (seen + strlen (seen), 256 - strlen (seen), "%s%llu:%llu", *seen? ",": "",
              (unsigned long long) task, (unsigned long long) status);
}

//  A job's results (or meta) packed and dumped as JSON.
static char *
s_test_dump (mc_store_t *store, uint64_t id, bool meta)
{
    mc_job_info_t loaded;
    assert (mc_store_job_info (store, id, &loaded) == 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    if (!meta)
        msgpack_pack_map (&pk, 2);
    assert ((meta? mc_store_pack_meta (store, &loaded, &pk): mc_store_pack_results (store, &loaded, &pk)) == 0);
    char text [64];
    json_t *out = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    assert (out);
    char *dump = json_dumps (out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (out);
    msgpack_sbuffer_destroy (&sb);
    return dump;
}

//  Runs: the results of consecutive tasks of a map that succeeded go as one
//  row, a run per job; a gap or a failure ends a run; every
//  reader sees each task as if it had its own row, and before a commit too.
static void
s_test_runs (const char *dir)
{
    char path [256], err [256];
    snprintf (path, sizeof path, "%s/runs.db", dir);
    mc_store_t *store = mc_store_new (path, err, sizeof err);
    assert (store);
    mc_job_info_t info = { .id = 1, .kind = "map", .kernel = "square", .total = 9, .tasks = 8, .seed = 1,
                           .submitted_us = 1 };
    assert (mc_store_add_job (store, &info, "\x80", 1) == 0);
    //  Tasks 0-2, then 5 (a gap), 3 and 4, 6 failed, 7 of two items; task 1
    //  with metadata.
    uint64_t order [] = { 0, 1, 2, 5, 3, 4, 6, 7 };
    for (size_t i = 0; i < 8; i++) {
        uint64_t t = order [i];
        char one [2];
        S_TEST_VALUE (one, t);
        const char two [] = { (char) 0x92, 0x07, 0x08 };
        if (t == 6)
            assert (mc_store_add_result (store, 1, t, t, 1, 2, MC_E_KERNEL_ERROR, NULL, 0, "bad", 3, 6000000, 6500000,
                                         NULL, 0) == 0);
        else
            assert (mc_store_add_result (store, 1, t, t, t == 7? 2: 1, (int64_t) t % 2, 0, t == 7? two: one,
                                         t == 7? 3: 2, NULL, 0, (int64_t) t * 1000000, (int64_t) t * 1000000 + 500000,
                                         t == 1? "\x81\xa1" "a\x01": NULL, t == 1? 4: 0) == 0);
    }
    //  Read before the commit, and again after it.
    for (int pass = 0; pass < 2; pass++) {
        char *dump = s_test_dump (store, 1, false);
        assert (!strcmp (dump, "{\"errors\":[{\"count\":1,\"engines\":[2],\"error\":\"bad\",\"tasks\":[6]}],"
                               "\"results\":[0,1,2,3,4,5,null,7,8]}"));
        free (dump);
        dump = s_test_dump (store, 1, true);
        assert (strstr (dump, "[{\"engine\":0,\"finished\":0.5,\"meta\":{},\"ok\":true,\"started\":0.0,\"task\":0},"
                              "{\"engine\":1,\"finished\":1.5,\"meta\":{\"a\":1},\"ok\":true,\"started\":1.0,\"task\":1},"));
        assert (strstr (dump, "{\"engine\":2,\"finished\":6.5,\"meta\":{},\"ok\":false,\"started\":6.0,\"task\":6},"
                              "{\"engine\":1,\"finished\":7.5,\"meta\":{},\"ok\":true,\"started\":7.0,\"task\":7}]"));
        free (dump);
        char seen [256] = "";
        assert (mc_store_each_result (store, 1, s_test_each, seen) == 0);
        assert (!strcmp (seen, "0:0,1:0,2:0,3:0,4:0,5:0,6:10,7:0"));
        assert (mc_store_flush (store) == 0);
    }
    //  Rows: 0-2, 3-4, 5, 6, 7.
    sqlite3_stmt *rows;
    assert (sqlite3_prepare_v2 (store->db, "SELECT group_concat (task || '+' || tasks) FROM results WHERE job = 1",
                                -1, &rows, NULL) == SQLITE_OK && sqlite3_step (rows) == SQLITE_ROW);
    assert (!strcmp ((const char *) sqlite3_column_text (rows, 0), "0+3,3+2,5+1,6+1,7+1"));
    sqlite3_finalize (rows);
    //  Jobs that take turns each keep their own run.
    for (uint64_t t = 0; t < 8; t++) {
        char one [2];
        S_TEST_VALUE (one, t);
        assert (mc_store_add_result (store, 2 + t % 2, t / 2, t / 2, 1, 0, 0, one, 2, NULL, 0, 1, 2, NULL, 0) == 0);
    }
    assert (mc_store_flush (store) == 0);
    assert (sqlite3_prepare_v2 (store->db, "SELECT group_concat (job || ':' || task || '+' || tasks) FROM results"
                                " WHERE job > 1", -1, &rows, NULL) == SQLITE_OK && sqlite3_step (rows) == SQLITE_ROW);
    assert (!strcmp ((const char *) sqlite3_column_text (rows, 0), "2:0+4,3:0+4"));
    sqlite3_finalize (rows);
    mc_store_destroy (&store);
    const char *sides [] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        char side [300];
        snprintf (side, sizeof side, "%s%s", path, sides [i]);
        unlink (side);
    }
}

//  The failure paths: a full disk (max_page_count) at write and at commit,
//  retried quietly and recovered with nothing lost; a job failed or
//  forgotten by a store that does not come back; a damaged result read as
//  an error; a damaged file refused; the files' modes.
static void
s_test_failures (const char *dir, bool verbose)
{
    char path [256], err [512], side [300];
    snprintf (path, sizeof path, "%s/store.db", dir);
    FILE *log = tmpfile ();
    assert (log);
    mc_log_set_stream (log);
    mode_t mask = umask (022);          //  the store must not depend on ours
    mc_store_t *store = mc_store_new (path, err, sizeof err);
    assert (store);
    mc_job_info_t info = { .id = 1, .kind = "map", .kernel = "square", .total = 40, .tasks = 40, .seed = 1,
                           .submitted_us = 1000 };
    assert (mc_store_add_job (store, &info, "\x80", 1) == 0 && mc_store_flush (store) == 0);
    const char *sides [] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        struct stat st;
        snprintf (side, sizeof side, "%s%s", path, sides [i]);
        assert (stat (side, &st) == 0 && (st.st_mode & 0777) == 0600);
    }
    umask (mask);

    //  The disk is full: no page may be added. Results of 3 KB each fill it
    //  at a write or at the commit; either way they are kept, and the
    //  store is failing, said once.
    char big [2904];                    //  ["aaa…"], a string of 2900 bytes
    memset (big, 'a', sizeof big);
    big [0] = (char) 0x91;
    big [1] = (char) 0xda;
    big [2] = (char) (2900 >> 8);
    big [3] = (char) (2900 & 0xff);
    sqlite3_exec (store->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
    char full [64];
    sqlite3_stmt *pc;
    assert (sqlite3_prepare_v2 (store->db, "PRAGMA page_count", -1, &pc, NULL) == SQLITE_OK
         && sqlite3_step (pc) == SQLITE_ROW);
    snprintf (full, sizeof full, "PRAGMA max_page_count = %lld", (long long) sqlite3_column_int64 (pc, 0));
    sqlite3_finalize (pc);
    assert (sqlite3_exec (store->db, full, NULL, NULL, NULL) == SQLITE_OK);
    for (uint64_t t = 0; t < 20; t++)
        assert (mc_store_add_result (store, 1, t, t, 1, 0, 0, big, sizeof big, NULL, 0, 1, 2, NULL, 0) == 0);
    assert (mc_store_flush (store) == -1 && mc_store_failing_since (store) > 0);
    assert (strstr (mc_store_error (store), "full") && strstr (mc_store_error (store), path));
    //  Retried at every flush that is due, said once. (The adds may have
    //  met the full disk already, or committed on time when this machine
    //  is slow: count from here.)
    size_t attempts = store->attempts;
    for (int i = 0; i < 30; i++) {
        store->retry_at_us = 0;
        assert (mc_store_flush (store) == -1);
    }
    assert (store->attempts == attempts + 30);
    assert (s_test_lines (log, "full") == 1);
    //  While failing: no new job; results still kept; reads still work.
    mc_job_info_t second = info;
    second.id = 2;
    assert (mc_store_add_job (store, &second, "\x80", 1) == -1 && strstr (mc_store_error (store), "full"));
    for (uint64_t t = 20; t < 40; t++) {
        char one [2];
        S_TEST_VALUE (one, t);
        assert (mc_store_add_result (store, 1, t, t, 1, 0, 0, one, 2, NULL, 0, 1, 2, NULL, 0) == 0);
    }
    mc_job_info_t loaded;
    assert (mc_store_job_info (store, 1, &loaded) == 0 && loaded.total == 40);
    info.done = 40;
    info.finished_us = 3000;
    assert (mc_store_finish_job (store, &info) == 0 && mc_store_pending (store) == 41);
    //  Space returns: the next retry commits everything kept.
    assert (sqlite3_exec (store->db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL) == SQLITE_OK);
    store->retry_at_us = 0;
    assert (mc_store_flush (store) == 0 && mc_store_failing_since (store) == 0 && mc_store_pending (store) == 0);
    assert (s_test_lines (log, "recovered") == 1);
    assert (mc_store_job_info (store, 1, &loaded) == 0 && loaded.done == 40 && loaded.finished_us == 3000);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    assert (mc_store_pack_results (store, &loaded, &pk) == 0);
    char text [64];
    json_t *out = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    assert (out);
    json_t *results = json_object_get (out, "results");
    assert (json_array_size (results) == 40);
    for (size_t i = 0; i < 40; i++)
        assert (i < 20? !json_is_null (json_array_get (results, i))
                      : json_integer_value (json_array_get (results, i)) == (json_int_t) i);
    json_decref (out);

    //  A store that does not come back in time: a committed job's kept
    //  results become failures naming the store, its counts follow; a job
    //  never committed is forgotten.
    second.id = 2;
    second.total = second.tasks = 2;
    assert (mc_store_add_job (store, &second, "\x80", 1) == 0 && mc_store_flush (store) == 0);
    mc_job_info_t third = second;
    third.id = 3;
    assert (mc_store_add_job (store, &third, "\x80", 1) == 0);
    assert (sqlite3_exec (store->db, full, NULL, NULL, NULL) == SQLITE_OK);
    for (uint64_t t = 0; t < 2; t++) {
        assert (mc_store_add_result (store, 2, t, t, 1, 0, 0, big, sizeof big, NULL, 0, 1, 2, NULL, 0) == 0);
        assert (mc_store_add_result (store, 3, t, t, 1, 0, 0, big, sizeof big, NULL, 0, 1, 2, NULL, 0) == 0);
    }
    store->retry_at_us = 0;
    assert (mc_store_flush (store) == -1);
    second.done = 2;
    second.finished_us = 4000;
    assert (mc_store_finish_job (store, &second) == 0);
    assert (mc_store_fail_job (store, &second, "results not stored: disk full") == 0);
    assert (second.done == 0 && second.failed == 2);
    assert (mc_store_fail_job (store, &third, "") == 1);
    assert (sqlite3_exec (store->db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL) == SQLITE_OK);
    store->retry_at_us = 0;
    assert (mc_store_flush (store) == 0);
    assert (mc_store_job_info (store, 3, &loaded) == -1);
    assert (mc_store_job_info (store, 2, &loaded) == 0 && loaded.failed == 2 && loaded.finished_us == 4000);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_map (&pk, 2);
    assert (mc_store_pack_results (store, &loaded, &pk) == 0);
    out = mc_value_bytes_to_json (sb.data, sb.size, text, sizeof text);
    char *dump = json_dumps (out, JSON_COMPACT | JSON_SORT_KEYS);
    if (verbose)
        printf ("\n    %s\n   ", dump);
    assert (!strcmp (dump, "{\"errors\":[{\"count\":2,\"engines\":[0],\"error\":\"results not stored: disk full\","
                           "\"tasks\":[0,1]}],\"results\":[null,null]}"));
    free (dump);
    json_decref (out);

    //  A good result damaged in the file reads as an error, not as nils.
    assert (sqlite3_exec (store->db, "UPDATE results SET data = x'c1c1' WHERE job = 1 AND task = 30",
                          NULL, NULL, NULL) == SQLITE_OK);
    assert (mc_store_job_info (store, 1, &loaded) == 0);
    msgpack_sbuffer_clear (&sb);
    assert (mc_store_pack_results (store, &loaded, &pk) == -1 && strstr (mc_store_error (store), "j1"));
    msgpack_sbuffer_destroy (&sb);
    mc_store_destroy (&store);

    //  A damaged file is refused at open, saying how to move it aside.
    int fd = open (path, O_WRONLY);
    assert (fd >= 0);
    char noise [4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise [i] = (char) (i * 7919 + 13);
    for (off_t page = 2; page < 6; page++)
        assert (pwrite (fd, noise, sizeof noise, page * 4096) == (ssize_t) sizeof noise);
    close (fd);
    assert (mc_store_new (path, err, sizeof err) == NULL);
    if (verbose)
        printf ("%s\n   ", err);
    assert (strstr (err, "damaged") && strstr (err, "mv ") && strstr (err, ".damaged"));
    mc_log_set_stream (NULL);
    fclose (log);
    for (int i = 0; i < 3; i++) {
        snprintf (side, sizeof side, "%s%s", path, sides [i]);
        unlink (side);
    }
}

typedef struct {
    mc_store_alloc_t allocs [4];
    char opts [4][256];             //  each one's options, a line each
    size_t count;
} s_test_allocs_t;

static int
s_test_alloc (void *arg, const mc_store_alloc_t *alloc, const char *const *opts)
{
    s_test_allocs_t *seen = arg;
    assert (seen->count < 4);
    seen->allocs [seen->count] = *alloc;
    for (const char *const *opt = opts; *opt; opt++)
        snprintf (seen->opts [seen->count] + strlen (seen->opts [seen->count]),
                  sizeof seen->opts [0] - strlen (seen->opts [seen->count]), "%s\n", *opt);
    seen->count++;
    return 0;
}

void
mc_store_test (bool verbose)
{
    if (verbose)
        printf (" * mc_store: ");
    char dir [] = "/tmp/mc_store_test_XXXXXX";
    assert (mkdtemp (dir));
    s_test_runs (dir);
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

    //  Purge: an aborted job's state survives a reopen; a finished job of
    //  1 MiB goes with its results and its pages; an unfinished one stays.
    mc_job_info_t big = { .id = 2, .kind = "apply", .kernel = "echo", .total = 1, .tasks = 1, .seed = 1,
                          .submitted_us = 3000 };
    assert (mc_store_add_job (store, &big, body, 1) == 0);
    size_t blob_size = 1 << 20;
    uint8_t *blob = malloc (blob_size + 6);
    assert (blob);
    memset (blob, 7, blob_size + 6);
    blob [0] = 0x91;                //  [bin32 of 1 MiB]
    blob [1] = 0xc6;
    blob [2] = 0; blob [3] = 0x10; blob [4] = 0; blob [5] = 0;
    assert (mc_store_add_result (store, 2, 0, 0, 0, 0, 0, blob, blob_size + 6, NULL, 0, 7, 8, NULL, 0) == 0);
    free (blob);
    big.done = 1;
    big.finished_us = 4000;
    big.aborted = true;
    assert (mc_store_finish_job (store, &big) == 0);
    mc_job_info_t open = { .id = 3, .kind = "apply", .kernel = "echo", .total = 1, .tasks = 1, .seed = 1,
                           .submitted_us = 5000 };
    assert (mc_store_add_job (store, &open, body, 1) == 0);
    assert (mc_store_add_result (store, 3, 0, 0, 0, 0, 0, ok1, sizeof ok1, NULL, 0, 7, 8, NULL, 0) == 0);
    assert (mc_store_flush (store) == 0);
    mc_store_destroy (&store);
    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_job_info (store, 2, &loaded) == 0 && loaded.aborted);
    assert (!strcmp (mc_job_info_state (&loaded), "aborted"));
    assert (mc_store_finished_jobs (store, INT64_MAX, 0, ids, 4) == 2 && ids [0] == 1 && ids [1] == 2);
    assert (mc_store_finished_jobs (store, 3000, 0, ids, 4) == 1 && ids [0] == 1);
    assert (mc_store_finished_jobs (store, INT64_MAX, 1, ids, 4) == 1 && ids [0] == 2);
    int64_t bytes = mc_store_bytes (store);
    assert (bytes > (int64_t) blob_size);
    mc_store_purged_t purged = { 0 };
    uint64_t doomed [] = { 2, 3, 99 };      //  finished, unfinished, unknown
    assert (mc_store_purge (store, doomed, 3, &purged) == 0);
    if (verbose)
        printf ("\n  purged %llu jobs, %llu results, %llu bytes of %lld\n", (unsigned long long) purged.jobs,
                (unsigned long long) purged.results, (unsigned long long) purged.bytes, (long long) bytes);
    assert (purged.jobs == 1 && purged.results == 1 && purged.bytes >= blob_size);
    assert (mc_store_job_info (store, 2, &loaded) == -1);
    assert (mc_store_job_info (store, 3, &loaded) == 0 && loaded.finished_us == 0);
    assert (mc_store_job_info (store, 1, &loaded) == 0);
    struct stat st;
    assert (stat (path, &st) == 0 && st.st_size < (off_t) blob_size);
    //  Ids are never given twice, even once the newest jobs are purged.
    uint64_t rest [] = { 1, 3 };
    open.finished_us = 6000;
    open.done = 1;
    assert (mc_store_finish_job (store, &open) == 0 && mc_store_flush (store) == 0);
    memset (&purged, 0, sizeof purged);
    assert (mc_store_purge (store, rest, 2, &purged) == 0);
    assert (purged.jobs == 2 && mc_store_next_job_id (store) == 4);
    mc_store_destroy (&store);
    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_next_job_id (store) == 4);
    //  An abort is kept before its job finishes: a restart sees it.
    mc_job_info_t unfinished = big;
    unfinished.id = 4;
    unfinished.aborted = false;
    unfinished.priority = 3;
    snprintf (unfinished.user, sizeof unfinished.user, "alice");
    snprintf (unfinished.user_key, sizeof unfinished.user_key, "K");
    assert (mc_store_add_job (store, &unfinished, "\x80", 1) == 0 && mc_store_abort_job (store, 4) == 0);
    //  So is a renice, and who submitted it.
    assert (mc_store_renice_job (store, 4, -7) == 0 && mc_store_flush (store) == 0);
    mc_store_destroy (&store);
    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_job_info (store, 4, &loaded) == 0 && loaded.aborted && loaded.finished_us == 0);
    assert (loaded.priority == -7 && !strcmp (loaded.user, "alice") && !strcmp (loaded.user_key, "K"));
    //  A direct job's engines come back with it after a restart.
    assert (mc_store_job_targets (store, 4, (int32_t []) { 3, 0, 12 }, 3) == 0 && mc_store_flush (store) == 0);
    char targets [32] = "";
    assert (mc_store_each_unfinished (store, s_test_targets, targets) == 0 && !strcmp (targets, "3,0,12"));
    //  A task's deaths and retries are kept until its job finishes.
    assert (mc_store_task_died (store, 4, 0, 3) == 0 && mc_store_task_retried (store, 4, 0, 2) == 0);
    assert (mc_store_task_died (store, 4, 0, 5) == 0 && mc_store_flush (store) == 0);
    s_test_counts_t counts = { 0 };
    assert (mc_store_each_task_counts (store, 4, s_test_counts, &counts) == 0);
    assert (counts.rows == 1 && counts.retries == 2 && !strcmp (counts.engines, "3,5"));
    unfinished.finished_us = 7000;
    assert (mc_store_finish_job (store, &unfinished) == 0 && mc_store_flush (store) == 0);
    memset (&counts, 0, sizeof counts);
    assert (mc_store_each_task_counts (store, 4, s_test_counts, &counts) == 0 && counts.rows == 0);
    mc_store_destroy (&store);

    //  Allocations: kept with their options (one that is not UTF-8 left
    //  out); after a restart those not over come back, the others are
    //  forgotten, and ids go on.
    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_next_alloc_id (store) == 1);
    mc_store_alloc_t slurm = { .id = 1, .kind = "slurm", .engines = 4, .job = "", .state = "submitting", .reason = "" };
    const char *slurm_opts [] = { "partition=debug", "output=/tmp/\xe9t\xe9.log", "sbatch_line=--comment=\"a b\"", NULL };
    assert (mc_store_put_alloc (store, &slurm, slurm_opts) == 0);
    snprintf (slurm.job, sizeof slurm.job, "17");
    snprintf (slurm.state, sizeof slurm.state, "pending");
    snprintf (slurm.reason, sizeof slurm.reason, "Slurm: PENDING, Resources");
    assert (mc_store_put_alloc (store, &slurm, slurm_opts) == 0);
    mc_store_alloc_t local = { .id = 2, .kind = "local", .engines = 2, .job = "", .state = "running", .reason = "" };
    assert (mc_store_put_alloc (store, &local, NULL) == 0);
    mc_store_alloc_t done = { .id = 3, .kind = "pbs", .engines = 1, .job = "18.server", .state = "cancelled",
                              .reason = "stopped by a client" };
    assert (mc_store_put_alloc (store, &done, NULL) == 0 && mc_store_flush (store) == 0);
    mc_store_destroy (&store);
    store = mc_store_new (path, err, sizeof err);
    assert (store && mc_store_next_alloc_id (store) == 4);
    s_test_allocs_t seen = { 0 };
    assert (mc_store_each_alloc (store, s_test_alloc, &seen) == 0 && seen.count == 2);
    assert (seen.allocs [0].id == 1 && !strcmp (seen.allocs [0].job, "17") && seen.allocs [0].engines == 4);
    assert (!strcmp (seen.allocs [0].state, "pending") && !strcmp (seen.allocs [0].reason, "Slurm: PENDING, Resources"));
    assert (!strcmp (seen.opts [0], "partition=debug\nsbatch_line=--comment=\"a b\"\n"));
    assert (seen.allocs [1].id == 2 && !strcmp (seen.allocs [1].kind, "local") && !strcmp (seen.opts [1], ""));
    //  The cancelled one is gone, its id not reused; ended ones go at the
    //  next restart, even when they were the newest.
    snprintf (local.state, sizeof local.state, "ended");
    assert (mc_store_put_alloc (store, &local, NULL) == 0 && mc_store_flush (store) == 0);
    mc_store_destroy (&store);
    store = mc_store_new (path, err, sizeof err);
    memset (&seen, 0, sizeof seen);
    assert (store && mc_store_each_alloc (store, s_test_alloc, &seen) == 0 && seen.count == 1 && seen.allocs [0].id == 1);
    snprintf (slurm.state, sizeof slurm.state, "failed");
    assert (mc_store_put_alloc (store, &slurm, NULL) == 0);
    memset (&seen, 0, sizeof seen);
    assert (mc_store_each_alloc (store, s_test_alloc, &seen) == 0 && seen.count == 0);
    assert (mc_store_next_alloc_id (store) == 4);
    mc_store_destroy (&store);

    //  A store that cannot be created is an error, not a crash.
    assert (mc_store_new ("/nonexistent/dir/store.db", err, sizeof err) == NULL && strstr (err, "store"));
    unlink (path);
    s_test_failures (dir, verbose);
    char side [300];
    snprintf (side, sizeof side, "%s-wal", path);
    unlink (side);
    snprintf (side, sizeof side, "%s-shm", path);
    unlink (side);
    rmdir (dir);
    if (verbose)
        printf ("OK\n");
}
