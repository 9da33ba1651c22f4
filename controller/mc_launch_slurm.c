/*  mc_launch_slurm: engines as one Slurm job of N tasks (sbatch, then srun
    in the job). One job rather than a job array: arrays are capped by the
    site's MaxArraySize (1001 by default) and cost one scheduler record per
    engine, while one job is one id to follow and to cancel; --no-kill
    keeps it running when a node fails. The job's state comes from squeue
    every poll_ms; its engines' credentials from the environment, which
    sbatch and srun pass on. A controller started after a crash polls and
    cancels it by its id, or finds it by name when the crash came while
    sbatch ran. */
#include "mc_launch.h"
#include "mc_log.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern const char mc_template_slurm_sbatch [];

//  --launcher-opt KEY=VALUE → #SBATCH line.
static const mc_directive_t s_directives [] = {
    { "partition", "--partition=" }, { "account", "--account=" }, { "time", "--time=" },
    { "qos", "--qos=" }, { "output", "--output=" }, { "sbatch_line", "" },
};

static int
s_start (mc_alloc_t *alloc, char *err, size_t errlen)
{
    char *script = mc_alloc_script (alloc, mc_template_slurm_sbatch, "#SBATCH", s_directives,
                                    sizeof s_directives / sizeof s_directives [0], err, errlen);
    if (!script)
        return -1;
    const char *argv [] = { "sbatch", "--parsable", NULL };
    //  Submitted from the profile directory: the job's output (slurm-JOB.out,
    //  unless output= says otherwise) lands there, not wherever the
    //  controller was started.
    mc_spawn_t spawn = { .argv = argv, .input = script, .capture = true, .engine_env = true,
                         .cwd = mc_alloc_setup (alloc)->profile_dir };
    int64_t pid = mc_alloc_spawn (alloc, MC_CHILD_SUBMIT, &spawn, err, errlen);
    free (script);
    return pid < 0? -1: 0;
}

//  The first line of out, without its end, into buf.
static void
s_first_line (const char *out, char *buf, size_t len)
{
    snprintf (buf, len, "%s", out);
    buf [strcspn (buf, "\r\n")] = 0;
}

//  squeue -o '%T|%r': the job's state and the reason it waits.
static void
s_polled (mc_alloc_t *alloc, int status, const char *out)
{
    char line [512], reason [600];
    s_first_line (out, line, sizeof line);
    char *bar = strchr (line, '|');
    if (bar)
        *bar++ = 0;
    if (!WIFEXITED (status) || (WEXITSTATUS (status) != 0 && !strstr (out, "Invalid job id"))) {
        mc_warn ("%s: squeue failed (%s)", mc_alloc_tag (alloc), line);
        return;
    }
    //  Gone from the queue (squeue says nothing, or no longer knows it).
    if (!*line || WEXITSTATUS (status) != 0) {
        mc_alloc_set_state (alloc, MC_ALLOC_ENDED, "the job has left Slurm's queue");
        return;
    }
    snprintf (reason, sizeof reason, "Slurm: %s%s%s", line, bar && strcmp (bar, "None")? ", ": "",
              bar && strcmp (bar, "None")? bar: "");
    if (!strcmp (line, "PENDING") || !strcmp (line, "CONFIGURING") || !strcmp (line, "REQUEUED")
    ||  !strcmp (line, "SUSPENDED") || !strcmp (line, "RESV_DEL_HOLD") || !strcmp (line, "REQUEUE_HOLD"))
        mc_alloc_set_state (alloc, MC_ALLOC_PENDING, reason);
    else
    if (!strcmp (line, "RUNNING") || !strcmp (line, "COMPLETING"))
        mc_alloc_set_state (alloc, MC_ALLOC_RUNNING, bar && strcmp (bar, "None")? reason: NULL);
    else
    if (!strcmp (line, "COMPLETED") || !strcmp (line, "CANCELLED") || !strcmp (line, "TIMEOUT")
    ||  !strcmp (line, "PREEMPTED") || !strcmp (line, "DEADLINE"))
        mc_alloc_set_state (alloc, MC_ALLOC_ENDED, reason);
    else
        mc_alloc_set_state (alloc, MC_ALLOC_FAILED, reason);
}

static void
s_exited (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out)
{
    (void) label;
    char line [512], why [700];
    if (role == MC_CHILD_SUBMIT) {
        s_first_line (out, line, sizeof line);
        line [strcspn (line, ";")] = 0;         //  "id;cluster" on a federation
        bool numeric = *line && strspn (line, "0123456789_") == strlen (line);
        if (WIFEXITED (status) && WEXITSTATUS (status) == 0 && numeric) {
            mc_alloc_set_job (alloc, line);
            mc_alloc_set_state (alloc, MC_ALLOC_PENDING, "submitted");
            mc_info ("%s: Slurm job %s for %zu engines", mc_alloc_tag (alloc), line, mc_alloc_engines (alloc));
            return;
        }
        char code [64];
        mc_alloc_status_text (status, code, sizeof code);
        snprintf (why, sizeof why, "sbatch failed (%s): %s", code, *line? line: "no output");
        mc_alloc_set_state (alloc, MC_ALLOC_FAILED, why);
    }
    else
    if (role == MC_CHILD_POLL)
        s_polled (alloc, status, out);
    else
    if (role == MC_CHILD_CANCEL && !(WIFEXITED (status) && WEXITSTATUS (status) == 0)) {
        s_first_line (out, line, sizeof line);
        mc_warn ("%s: scancel %s failed: %s", mc_alloc_tag (alloc), mc_alloc_job (alloc), line);
    }
}

static void
s_poll (mc_alloc_t *alloc)
{
    const char *argv [] = { "squeue", "-h", "-j", mc_alloc_job (alloc), "-o", "%T|%r", NULL };
    mc_alloc_command (alloc, MC_CHILD_POLL, argv);
}

static int
s_cancel (mc_alloc_t *alloc, bool wait)
{
    if (!*mc_alloc_job (alloc))
        return -1;
    const char *argv [] = { "scancel", mc_alloc_job (alloc), NULL };
    mc_spawn_t spawn = { .argv = argv, .capture = true };
    char out [512];
    if (wait) {
        int status = mc_alloc_run (alloc, &spawn, 10000, out, sizeof out);
        //  A job that has ended (or that Slurm has forgotten) is over too.
        if (status != 0 && status != -1 && (strstr (out, "already completing or completed") ||
                                            strstr (out, "Invalid job id")))
            mc_info ("%s: Slurm job %s had ended already", mc_alloc_tag (alloc), mc_alloc_job (alloc));
        else
        if (status != 0) {
            mc_warn ("%s: scancel %s failed: %s", mc_alloc_tag (alloc), mc_alloc_job (alloc), out);
            return -1;
        }
        else
            mc_info ("%s: Slurm job %s cancelled", mc_alloc_tag (alloc), mc_alloc_job (alloc));
    }
    else
        mc_alloc_command (alloc, MC_CHILD_CANCEL, argv);
    return 0;
}

//  The job of an allocation whose controller died while sbatch ran: the
//  one job of ours named mccluster-aK (ids are never reused in a profile)
//  that was submitted from this profile directory (sbatch runs there).
static int
s_find (mc_alloc_t *alloc)
{
    char name [64], out [8192], profile [PATH_MAX];
    snprintf (name, sizeof name, "mccluster-%s", mc_alloc_tag (alloc));
    const char *dir = mc_alloc_setup (alloc)->profile_dir;
    //  Slurm keeps the directory as sbatch's getcwd () saw it: no symbolic links.
    if (!realpath (dir, profile))
        snprintf (profile, sizeof profile, "%s", dir);
    const char *argv [] = { "squeue", "-h", "--me", "--name", name, "-o", "%i|%Z", NULL };
    mc_spawn_t spawn = { .argv = argv, .capture = true };
    int status = mc_alloc_run (alloc, &spawn, 10000, out, sizeof out);
    char job [64] = "";
    size_t found = 0;
    if (status != 0)
        *out = 0;
    for (char *line = strtok (out, "\n"); line; line = strtok (NULL, "\n")) {
        char *bar = strchr (line, '|');
        if (!bar)
            continue;
        *bar++ = 0;
        bar [strcspn (bar, "\r")] = 0;
        if ((!strcmp (bar, profile) || !strcmp (bar, dir)) && strspn (line, "0123456789_") == strlen (line) && *line) {
            snprintf (job, sizeof job, "%s", line);
            found++;
        }
    }
    if (found == 1)
        mc_alloc_set_job (alloc, job);
    else
        mc_warn ("%s: no single Slurm job named %s from %s (squeue: %s, %zu found)", mc_alloc_tag (alloc), name, profile,
                 status == 0? "ok": "failed", found);
    return status == 0? 0: -1;
}

static const char *const s_keys [] = {
    "partition", "account", "time", "qos", "output", "sbatch_line", "template", "engine_bin", NULL
};

const mc_launch_kind_t mc_launch_slurm = {
    "slurm", "one Slurm job of N tasks (sbatch; scancel at stop)", s_keys, s_start, s_exited, s_poll, s_cancel, NULL, NULL,
    s_find
};
