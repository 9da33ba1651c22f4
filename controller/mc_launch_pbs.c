/*  mc_launch_pbs: engines as one PBS array job of N elements, one engine
    each (qsub -V -J 1-N, or -t 1-N for Torque with array_flag=t). An
    array rather than one job of N cores: PBS has no srun to start one
    process per core, and an element per engine lets a node fail alone.
    The job script (deploy/pbs.qsub, or template=FILE) is written to the
    profile directory (mode 0600) since qsub takes a file; the credential
    is not in it but in qsub's environment, which -V passes on. The job's
    state comes from qstat every poll_ms; qdel cancels it.

    Tested through Slurm's PBS wrappers (slurm-wlm-torque: qsub, qstat,
    qdel over sbatch, squeue, scancel) only, never against a PBS Pro,
    OpenPBS or Torque server: the command lines and the outputs parsed
    here follow their manuals. */
#include "mc_launch.h"
#include "mc_log.h"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const char mc_template_pbs_qsub [];

//  --launcher-opt KEY=VALUE → #PBS line.
static const mc_directive_t s_directives [] = {
    { "queue", "-q " }, { "account", "-A " }, { "walltime", "-l walltime=" },
    { "select", "-l select=" }, { "nodes", "-l nodes=" }, { "pbs_line", "" },
};

static int
s_start (mc_alloc_t *alloc, char *err, size_t errlen)
{
    char array [48];
    const char *flag = mc_alloc_opt (alloc, "array_flag")? mc_alloc_opt (alloc, "array_flag"): "J";
    if (strcmp (flag, "J") && strcmp (flag, "t")) {
        snprintf (err, errlen, "array_flag=%s: J (PBS Pro, OpenPBS) or t (Torque)", flag);
        return -1;
    }
    snprintf (array, sizeof array, "1-%zu", mc_alloc_engines (alloc));
    char *script = mc_alloc_script (alloc, mc_template_pbs_qsub, "#PBS", s_directives,
                                    sizeof s_directives / sizeof s_directives [0], err, errlen);
    if (!script)
        return -1;
    //  The script on a file of ours (qsub reads a file; not every qsub reads stdin).
    char path [4400], out [4400];
    snprintf (path, sizeof path, "%s/pbs-%s.sh", mc_alloc_setup (alloc)->profile_dir, mc_alloc_tag (alloc));
    snprintf (out, sizeof out, "%s/pbs-%s.out", mc_alloc_setup (alloc)->profile_dir, mc_alloc_tag (alloc));
    unlink (path);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t len = strlen (script);
    bool written = fd >= 0 && write (fd, script, len) == (ssize_t) len;
    int code = errno;
    if (fd >= 0 && close (fd))
        written = false;
    free (script);
    if (!written) {
        snprintf (err, errlen, "cannot write the job script %s: %s", path, strerror (code));
        return -1;
    }
    const char *output = mc_alloc_opt (alloc, "output")? mc_alloc_opt (alloc, "output"): out;
    char flag_arg [4];
    snprintf (flag_arg, sizeof flag_arg, "-%s", flag);
    const char *argv [] = { mc_alloc_opt (alloc, "qsub")? mc_alloc_opt (alloc, "qsub"): "qsub", "-V", flag_arg, array,
                            "-j", "oe", "-o", output, path, NULL };
    //  From the profile directory: where PBS_O_WORKDIR points, and files land.
    mc_spawn_t spawn = { .argv = argv, .capture = true, .engine_env = true, .cwd = mc_alloc_setup (alloc)->profile_dir };
    return mc_alloc_spawn (alloc, MC_CHILD_SUBMIT, &spawn, err, errlen) < 0? -1: 0;
}

//  The job id in qsub's output: its first word of job-id characters
//  ("123", "123[].server", "4567.pbs01"), into buf; false when there is none.
static bool
s_job_id (const char *out, char *buf, size_t len)
{
    while (*out && isspace ((unsigned char) *out))
        out++;
    size_t n = strcspn (out, " \t\r\n");
    if (!n || n >= len)
        return false;
    snprintf (buf, len, "%.*s", (int) n, out);
    if (strspn (buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]") != n
    ||  !isdigit ((unsigned char) *buf))
        return false;
    return true;
}

typedef enum { S_GONE, S_PENDING, S_RUNNING, S_ENDED, S_ERROR } s_pbs_state_t;

//  What qstat says of job: "job_state = X" lines (qstat -f), or a table of
//  two header lines and "ID Name User Time S Queue" rows (qstat ID). An
//  array is running while one element runs, pending while one waits.
//  Letters: Q, H, W, T, S (queued, held, waiting, moving, suspended) →
//  pending; R, B (an array begun) → running; E (exiting), C, F, X → ended.
//  "Unknown Job Id", or no row: gone. state_text gets the letters seen.
static s_pbs_state_t
s_parse_qstat (int status, const char *out, char *state_text, size_t len)
{
    *state_text = 0;
    if (strstr (out, "Unknown Job") || strstr (out, "unknown job") || strstr (out, "Invalid job id")
    ||  strstr (out, "does not exist") || strstr (out, "has finished"))
        return S_GONE;
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        return S_ERROR;
    bool running = false, pending = false, ended = false;
    size_t line_no = 0;
    for (const char *line = out; line && *line; line = strchr (line, '\n'), line = line? line + 1: NULL) {
        char letter = 0;
        const char *field = strstr (line, "job_state = ");
        const char *eol = strchr (line, '\n');
        if (field && (!eol || field < eol))
            letter = field [12];
        else {
            //  A table row: the fifth word (the rows after the "---" header).
            char row [512], *words [8];
            snprintf (row, sizeof row, "%.*s", (int) (eol? eol - line: (ptrdiff_t) strlen (line)), line);
            line_no++;
            if (!strncmp (row, "Job", 3) || !strncmp (row, "---", 3))
                continue;
            int count = 0;
            for (char *word = strtok (row, " \t"); word && count < 8; word = strtok (NULL, " \t"))
                words [count++] = word;
            if (count >= 6 && strlen (words [4]) == 1 && isdigit ((unsigned char) words [0][0]))
                letter = words [4][0];
        }
        if (!letter || strchr (state_text, letter))
            continue;
        size_t used = strlen (state_text);
        if (used + 2 < len) {
            state_text [used] = letter;
            state_text [used + 1] = 0;
        }
        running |= letter == 'R' || letter == 'B';
        pending |= letter == 'Q' || letter == 'H' || letter == 'W' || letter == 'T' || letter == 'S';
        ended |= letter == 'E' || letter == 'C' || letter == 'F' || letter == 'X';
    }
    return running? S_RUNNING: pending? S_PENDING: ended? S_ENDED: S_GONE;
}

static void
s_first_line (const char *out, char *buf, size_t len)
{
    snprintf (buf, len, "%s", out);
    buf [strcspn (buf, "\r\n")] = 0;
}

//  Whether a failed qdel only says the job was over already: the engines,
//  told to stop first, end their elements (Slurm's wrapper then says
//  nothing and exits 1; PBS Pro says "Job has finished", Torque "Unknown Job Id").
static bool
s_qdel_late (const char *out)
{
    return !*out || strstr (out, "has finished") || strstr (out, "Unknown Job") || strstr (out, "already")
        || strstr (out, "completed");
}

static void
s_exited (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out)
{
    (void) label;
    char line [512], why [700], state [32];
    if (role == MC_CHILD_SUBMIT) {
        char job [64];
        if (WIFEXITED (status) && WEXITSTATUS (status) == 0 && s_job_id (out, job, sizeof job)) {
            mc_alloc_set_job (alloc, job);
            mc_alloc_set_state (alloc, MC_ALLOC_PENDING, "submitted");
            mc_info ("%s: PBS job %s for %zu engines", mc_alloc_tag (alloc), job, mc_alloc_engines (alloc));
            return;
        }
        char code [64];
        mc_alloc_status_text (status, code, sizeof code);
        s_first_line (out, line, sizeof line);
        snprintf (why, sizeof why, "qsub failed (%s): %s", code, *line? line: "no output");
        mc_alloc_set_state (alloc, MC_ALLOC_FAILED, why);
    }
    else
    if (role == MC_CHILD_POLL) {
        s_pbs_state_t pbs = s_parse_qstat (status, out, state, sizeof state);
        snprintf (why, sizeof why, "PBS: %s", state);
        if (pbs == S_ERROR) {
            s_first_line (out, line, sizeof line);
            mc_warn ("%s: qstat failed (%s)", mc_alloc_tag (alloc), line);
        }
        else
        if (pbs == S_GONE)
            mc_alloc_set_state (alloc, MC_ALLOC_ENDED, "the job has left PBS's queue");
        else
        if (pbs == S_PENDING)
            mc_alloc_set_state (alloc, MC_ALLOC_PENDING, why);
        else
        if (pbs == S_RUNNING)
            mc_alloc_set_state (alloc, MC_ALLOC_RUNNING, NULL);
        else
            mc_alloc_set_state (alloc, MC_ALLOC_ENDED, why);
    }
    else
    if (role == MC_CHILD_CANCEL && !(WIFEXITED (status) && WEXITSTATUS (status) == 0) && !s_qdel_late (out)) {
        s_first_line (out, line, sizeof line);
        mc_warn ("%s: qdel %s failed: %s", mc_alloc_tag (alloc), mc_alloc_job (alloc), line);
    }
}

static void
s_poll (mc_alloc_t *alloc)
{
    const char *argv [] = { mc_alloc_opt (alloc, "qstat")? mc_alloc_opt (alloc, "qstat"): "qstat",
                            mc_alloc_job (alloc), NULL };
    mc_alloc_command (alloc, MC_CHILD_POLL, argv);
}

static int
s_cancel (mc_alloc_t *alloc, bool wait)
{
    if (!*mc_alloc_job (alloc))
        return -1;
    const char *argv [] = { mc_alloc_opt (alloc, "qdel")? mc_alloc_opt (alloc, "qdel"): "qdel",
                            mc_alloc_job (alloc), NULL };
    mc_spawn_t spawn = { .argv = argv, .capture = true };
    char out [512];
    if (wait) {
        int status = mc_alloc_run (alloc, &spawn, 10000, out, sizeof out);
        if (status != 0 && status != -1 && s_qdel_late (out))
            mc_info ("%s: PBS job %s cancelled (it had ended already)", mc_alloc_tag (alloc), mc_alloc_job (alloc));
        else
        if (status != 0) {
            mc_warn ("%s: qdel %s failed: %s", mc_alloc_tag (alloc), mc_alloc_job (alloc), out);
            return -1;
        }
        else
            mc_info ("%s: PBS job %s cancelled", mc_alloc_tag (alloc), mc_alloc_job (alloc));
    }
    else
        mc_alloc_command (alloc, MC_CHILD_CANCEL, argv);
    return 0;
}

static const char *const s_keys [] = {
    "queue", "account", "walltime", "select", "nodes", "pbs_line", "array_flag", "output", "template",
    "engine_bin", "qsub", "qstat", "qdel", NULL
};

const mc_launch_kind_t mc_launch_pbs = {
    "pbs", "one PBS array job of N elements (qsub -V -J 1-N; qstat; qdel at stop)", s_keys, s_start, s_exited,
    s_poll, s_cancel, NULL, NULL, NULL
};

//  --------------------------------------------------------------------------
//  Self test: qsub's and qstat's outputs, as the wrappers and PBS print them.

void
mc_launch_pbs_test (bool verbose)
{
    if (verbose)
        printf (" * mc_launch_pbs: ");
    char job [64], state [32];
    assert (s_job_id ("17\n", job, sizeof job) && !strcmp (job, "17"));
    assert (s_job_id ("123[].pbs01.example.org\n", job, sizeof job) && !strcmp (job, "123[].pbs01.example.org"));
    assert (s_job_id ("  4567.server", job, sizeof job) && !strcmp (job, "4567.server"));
    assert (!s_job_id ("There was an error running the Slurm sbatch command.\n", job, sizeof job));
    assert (!s_job_id ("", job, sizeof job));
    assert (!s_job_id ("12;rm\n", job, sizeof job));

    //  Slurm's qstat wrapper: two header lines, then rows; S in the fifth column.
    const char *table =
        "Job id              Name             Username        Time Use S Queue          \n"
        "------------------- ---------------- --------------- -------- - ---------------\n"
        "17                  mccluster-a1     root            00:00:01 R debug          \n";
    assert (s_parse_qstat (0, table, state, sizeof state) == S_RUNNING && !strcmp (state, "R"));
    const char *queued =
        "Job id              Name             Username        Time Use S Queue          \n"
        "------------------- ---------------- --------------- -------- - ---------------\n"
        "17                  mccluster-a1     root                   0 Q debug          \n"
        "18                  mccluster-a1     root                   0 Q debug          \n";
    assert (s_parse_qstat (0, queued, state, sizeof state) == S_PENDING && !strcmp (state, "Q"));
    const char *mixed =
        "Job ID  Name  User  Time Use S Queue\n"
        "------- ----- ----- -------- - -----\n"
        "17      mccluster-a1 root 00:00:01 C debug\n"
        "18      mccluster-a1 root 00:00:01 R debug\n";
    assert (s_parse_qstat (0, mixed, state, sizeof state) == S_RUNNING && !strcmp (state, "CR"));
    const char *done =
        "Job id              Name             Username        Time Use S Queue          \n"
        "------------------- ---------------- --------------- -------- - ---------------\n"
        "17                  mccluster-a1     root            00:00:01 C debug          \n";
    assert (s_parse_qstat (0, done, state, sizeof state) == S_ENDED);
    //  qstat -f, and PBS Pro's array parent (B: begun).
    assert (s_parse_qstat (0, "Job Id: 123[].pbs01\n    Job_Name = mccluster-a1\n    job_state = B\n", state,
                           sizeof state) == S_RUNNING);
    assert (s_parse_qstat (0, "Job Id: 17\n    job_state = Q\n", state, sizeof state) == S_PENDING);
    assert (s_parse_qstat (0, "Job Id: 17\n    job_state = F\n", state, sizeof state) == S_ENDED);
    //  Gone: PBS says so (exit 153), or prints nothing; a failure is not "gone".
    assert (s_parse_qstat (153 << 8, "qstat: Unknown Job Id 17.pbs01\n", state, sizeof state) == S_GONE);
    assert (s_parse_qstat (0, "", state, sizeof state) == S_GONE);
    assert (s_parse_qstat (1 << 8, "qstat: cannot connect to server pbs01 (errno=111)\n", state,
                           sizeof state) == S_ERROR);
    assert (s_qdel_late ("") && s_qdel_late ("qdel: Job has finished 17.pbs01\n")
         && s_qdel_late ("qdel: Unknown Job Id 17.server\n"));
    assert (!s_qdel_late ("qdel: Unauthorized Request  17.pbs01\n"));
    if (verbose)
        printf ("OK\n");
}
