/*  mc_log: one-line log records with time, program, pid and level. */
#include "mc_log.h"
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_program [32] = "mc";
static mc_log_level_t s_level = MC_LOG_WARN;
static FILE *s_stream;

void
mc_log_init (const char *program, mc_log_level_t level)
{
    snprintf (s_program, sizeof s_program, "%s", program);
    s_level = level;
}

void
mc_log_set_stream (FILE *stream)
{
    s_stream = stream;
}

mc_log_level_t
mc_log_level (void)
{
    return s_level;
}

void
mc_log (mc_log_level_t level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    static const char *names [] = { "E", "W", "I", "D" };
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    localtime_r (&tv.tv_sec, &tm);
    char stamp [32];
    strftime (stamp, sizeof stamp, "%H:%M:%S", &tm);

    char line [2048];
    int n = snprintf (line, sizeof line, "%s.%03d %s[%d] %s: ", stamp, (int) (tv.tv_usec / 1000),
                      s_program, (int) getpid (), names [level]);
    va_list args;
    va_start (args, fmt);
    vsnprintf (line + n, sizeof line - n, fmt, args);
    va_end (args);
    FILE *out = s_stream? s_stream: stderr;
    //  One fputs per record so that records from several processes sharing
    //  a log file do not interleave within a line.
    size_t len = strlen (line);
    if (len < sizeof line - 1) {
        line [len] = '\n';
        line [len + 1] = 0;
    }
    fputs (line, out);
    fflush (out);
}

//  --------------------------------------------------------------------------
//  Self test: levels filter, one line per record. Leaves the defaults.

void
mc_log_test (bool verbose)
{
    if (verbose)
        printf (" * mc_log: ");
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    assert (stream);
    mc_log_set_stream (stream);
    mc_log_init ("tester", MC_LOG_INFO);
    assert (mc_log_level () == MC_LOG_INFO);
    mc_warn ("disk %d%% full", 93);
    mc_info ("started");
    mc_debug ("not shown");
    mc_error ("%s", "boom");
    fflush (stream);
    char head [64];
    snprintf (head, sizeof head, " tester[%d] W: disk 93%% full\n", (int) getpid ());
    assert (strstr (text, head) && strstr (text, "] I: started\n") && strstr (text, "] E: boom\n"));
    assert (!strstr (text, "not shown"));
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert (lines == 3);
    //  "HH:MM:SS.mmm " leads every record.
    assert (strlen (text) > 13 && text [2] == ':' && text [5] == ':' && text [8] == '.' && text [12] == ' ');
    mc_log_set_stream (NULL);
    mc_log_init ("mc", MC_LOG_WARN);
    fclose (stream);
    free (text);
    if (verbose)
        printf ("OK\n");
}
