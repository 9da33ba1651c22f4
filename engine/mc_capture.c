/*  mc_capture: kernels' stdout and stderr, per task, in memory files. */
#include "mc_capture.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define S_HEAD (MC_CAPTURE_KEEP / 4)        //  of what is kept: the head, the rest is the tail
#define S_TAIL (MC_CAPTURE_KEEP - S_HEAD)

static int s_file [2] = { -1, -1 };         //  the memory files behind fds 1 and 2
static int s_saved [2] = { -1, -1 };        //  the original fds 1 and 2
//  The kernel thread empties a file while the I/O thread may trim it.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

int
mc_capture_start (void)
{
    if (s_file [0] >= 0)
        return 0;
    int file [2] = { memfd_create ("mc-task-stdout", MFD_CLOEXEC), memfd_create ("mc-task-stderr", MFD_CLOEXEC) };
    int saved [2] = { fcntl (1, F_DUPFD_CLOEXEC, 3), fcntl (2, F_DUPFD_CLOEXEC, 3) };
    if (file [0] < 0 || file [1] < 0 || saved [0] < 0 || saved [1] < 0) {
        for (int i = 0; i < 2; i++) {
            if (file [i] >= 0)
                close (file [i]);
            if (saved [i] >= 0)
                close (saved [i]);
        }
        return -1;
    }
    fflush (stdout);
    fflush (stderr);
    for (int i = 0; i < 2; i++) {
        s_file [i] = file [i];
        s_saved [i] = saved [i];
        dup2 (file [i], i + 1);
    }
    return 0;
}

void
mc_capture_stop (void)
{
    if (s_file [0] < 0)
        return;
    fflush (stdout);
    fflush (stderr);
    for (int i = 0; i < 2; i++)
        dup2 (s_saved [i], i + 1);
}

int
mc_capture_log_fd (void)
{
    return s_saved [1];
}

//  Read what file holds (size bytes): all of it, or the head and the
//  tail with a note between. A malloc'd text, or NULL.
static char *
s_read (int file, uint64_t size)
{
    char note [80] = "";
    uint64_t head = size, tail = 0;
    if (size > MC_CAPTURE_KEEP) {
        head = S_HEAD;
        tail = S_TAIL;
        snprintf (note, sizeof note, "\n[... cut %llu bytes ...]\n", (unsigned long long) (size - head - tail));
    }
    size_t len = strlen (note);
    char *text = malloc (head + len + tail + 1);
    if (!text)
        return NULL;
    ssize_t got = pread (file, text, head, 0);
    size_t n = got > 0? (size_t) got: 0;
    memcpy (text + n, note, len);
    n += len;
    if (tail) {
        got = pread (file, text + n, tail, (off_t) (size - tail));
        n += got > 0? (size_t) got: 0;
    }
    text [n] = 0;
    return text;
}

bool
mc_capture_take (mc_capture_t *got)
{
    memset (got, 0, sizeof *got);
    if (s_file [0] < 0)
        return false;
    //  Empty buffers cost no system call here.
    fflush (stdout);
    fflush (stderr);
    off_t size [2] = { lseek (s_file [0], 0, SEEK_CUR), lseek (s_file [1], 0, SEEK_CUR) };
    if (size [0] <= 0 && size [1] <= 0)
        return false;
    pthread_mutex_lock (&s_lock);
    char **text [2] = { &got->out, &got->err };
    uint64_t *bytes [2] = { &got->out_bytes, &got->err_bytes };
    for (int i = 0; i < 2; i++)
        if (size [i] > 0) {
            *bytes [i] = (uint64_t) size [i];
            *text [i] = s_read (s_file [i], (uint64_t) size [i]);
            if (ftruncate (s_file [i], 0) || lseek (s_file [i], 0, SEEK_SET) < 0)
                assert (false);             //  a memory file can always be emptied
        }
    pthread_mutex_unlock (&s_lock);
    return got->out || got->err;
}

void
mc_capture_free (mc_capture_t *got)
{
    free (got->out);
    free (got->err);
    memset (got, 0, sizeof *got);
}

//  The start of the last `lines` lines of text (a trailing newline does
//  not count as a line).
static const char *
s_tail_lines (const char *text, size_t lines)
{
    const char *end = text + strlen (text);
    if (end > text && end [-1] == '\n')
        end--;
    const char *p = end;
    while (p > text && lines) {
        p--;
        if (*p == '\n' && --lines == 0)
            return p + 1;
    }
    return text;
}

void
mc_capture_last_lines (const mc_capture_t *got, size_t lines, char *buf, size_t max)
{
    buf [0] = 0;
    size_t n = 0;
    const char *texts [2] = { got->out, got->err };
    for (int i = 0; i < 2 && n + 1 < max; i++) {
        if (!texts [i] || !texts [i][0])
            continue;
        const char *from = s_tail_lines (texts [i], lines);
        size_t len = strlen (from);
        while (len && from [len - 1] == '\n')
            len--;
        if (len > max - n - 1) {              //  keep the end of it
            from += len - (max - n - 1);
            len = max - n - 1;
        }
        if (n && n + 1 < max)
            buf [n++] = '\n';
        if (len > max - n - 1)
            len = max - n - 1;
        memcpy (buf + n, from, len);
        n += len;
        buf [n] = 0;
    }
}

void
mc_capture_trim (void)
{
    if (s_file [0] < 0)
        return;
    long page = sysconf (_SC_PAGESIZE);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock (&s_lock);
        off_t size = lseek (s_file [i], 0, SEEK_CUR);
        if (size > (off_t) MC_CAPTURE_TRIM) {
            //  Keep the head and the tail that mc_capture_take reads; the
            //  size stays, the pages between go back.
            off_t from = (S_HEAD + page - 1) / page * page, to = (size - S_TAIL) / page * page;
            if (to > from)
                fallocate (s_file [i], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, from, to - from);
        }
        pthread_mutex_unlock (&s_lock);
    }
}

//  --------------------------------------------------------------------------

void
mc_capture_test (bool verbose)
{
    printf (" * mc_capture: ");
    fflush (stdout);
    mc_capture_t got;
    assert (!mc_capture_take (&got) && !got.out && !got.err);     //  not started: nothing
    assert (mc_capture_start () == 0);
    assert (!mc_capture_take (&got));                               //  nothing printed
    printf ("hello\n");
    fprintf (stderr, "oops\n");
    assert (mc_capture_take (&got) && !strcmp (got.out, "hello\n") && !strcmp (got.err, "oops\n"));
    char last [64];
    mc_capture_last_lines (&got, 3, last, sizeof last);
    assert (!strcmp (last, "hello\noops"));
    mc_capture_free (&got);
    assert (!mc_capture_take (&got));                               //  emptied
    //  Past the bound: the head, a note, the tail; trimmed in between.
    for (int i = 0; i < 500000; i++)
        printf ("line %d\n", i);
    fflush (stdout);
    mc_capture_trim ();
    assert (mc_capture_take (&got) && got.out_bytes > MC_CAPTURE_TRIM && !got.err);
    assert (!strncmp (got.out, "line 0\nline 1\n", 14) && strstr (got.out, "\n[... cut "));
    assert (strlen (got.out) < MC_CAPTURE_KEEP + 80);
    mc_capture_last_lines (&got, 2, last, sizeof last);
    assert (!strcmp (last, "line 499998\nline 499999"));
    mc_capture_last_lines (&got, 2, last, 8);                       //  the end of it, when too long
    assert (!strcmp (last, " 499999"));
    mc_capture_free (&got);
    mc_capture_stop ();
    if (verbose)
        printf ("\n  kept the head and tail of 500000 lines\n");
    printf ("OK\n");
}
