/*  mc_launch_ssh: engines on other hosts over ssh, one session per host
    (hosts=h1:4,h2:4). The session's remote command reads the engines'
    credential from its standard input (never a command line), then starts
    the host's engines with --lifeline: the session's input stays open
    while the controller runs, so when the controller stops, or the session
    drops, the engines see its end and stop. A session that ends means its
    host is lost: that host's engines are forgotten at once. */
#include "mc_launch.h"
#include "mc_log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_HOSTS 1024

typedef struct {
    char name [256];
    size_t engines;
} s_host_t;

//  hosts=h1:4,h2,h3:2: hosts without a count share what the counts leave
//  of n (evenly, the first ones taking the remainder). The host count, or
//  -1 with err.
static int
s_parse_hosts (const char *text, size_t n, s_host_t *hosts, size_t *total, char *err, size_t errlen)
{
    size_t count = 0, counted = 0, uncounted = 0;
    const char *p = text;
    while (p && *p) {
        const char *comma = strchr (p, ',');
        size_t len = comma? (size_t) (comma - p): strlen (p);
        char item [300];
        snprintf (item, sizeof item, "%.*s", (int) (len < sizeof item? len: sizeof item - 1), p);
        char *colon = strrchr (item, ':');
        long engines = -1;
        if (colon) {
            char *end;
            engines = strtol (colon + 1, &end, 10);
            if (*end || engines < 1 || engines > 100000) {
                snprintf (err, errlen, "hosts: bad engine count in '%s'", item);
                return -1;
            }
            *colon = 0;
        }
        if (!*item || strlen (item) >= sizeof hosts [0].name || strspn (item, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@[]") != strlen (item)) {
            snprintf (err, errlen, "hosts: bad host name '%s'", item);
            return -1;
        }
        if (count == S_MAX_HOSTS) {
            snprintf (err, errlen, "hosts: more than %d hosts", S_MAX_HOSTS);
            return -1;
        }
        snprintf (hosts [count].name, sizeof hosts [count].name, "%s", item);
        hosts [count].engines = engines > 0? (size_t) engines: 0;
        counted += engines > 0? (size_t) engines: 0;
        uncounted += engines < 0;
        count++;
        p = comma? comma + 1: NULL;
    }
    if (!count) {
        snprintf (err, errlen, "the ssh launcher needs hosts=H[:N],... (--hosts)");
        return -1;
    }
    size_t left = n > counted? n - counted: 0;
    if (uncounted && left < uncounted) {
        snprintf (err, errlen, "hosts: %zu engines cannot be shared among %zu hosts without a count", left, uncounted);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        if (!hosts [i].engines)
            hosts [i].engines = left / uncounted + (k++ < left % uncounted);
    *total = counted + (uncounted? left: 0);
    return (int) count;
}

//  Split text on spaces into argv from index at; the new count, or -1.
static int
s_split (char *text, const char **argv, int at, int max)
{
    for (char *word = strtok (text, " \t"); word; word = strtok (NULL, " \t")) {
        if (at >= max)
            return -1;
        argv [at++] = word;
    }
    return at;
}

static int
s_start (mc_alloc_t *alloc, char *err, size_t errlen)
{
    s_host_t *hosts = calloc (S_MAX_HOSTS, sizeof *hosts);
    size_t total;
    int count = hosts? s_parse_hosts (mc_alloc_opt (alloc, "hosts")? mc_alloc_opt (alloc, "hosts"): "",
                                      mc_alloc_engines (alloc), hosts, &total, err, errlen): -1;
    if (!hosts)
        snprintf (err, errlen, "out of memory");
    if (count < 0) {
        free (hosts);
        return -1;
    }
    mc_alloc_set_engines (alloc, total);
    char engine_cmd [8192], ssh_opts [2048];
    mc_alloc_engine_cmd (alloc, "--lifeline", engine_cmd, sizeof engine_cmd);
    snprintf (ssh_opts, sizeof ssh_opts, "%s", mc_alloc_opt (alloc, "ssh_opts")? mc_alloc_opt (alloc, "ssh_opts"): "");
    char credential [8192];
    snprintf (credential, sizeof credential, "%s\n", mc_alloc_setup (alloc)->credential? mc_alloc_setup (alloc)->credential: "");
    int rc = 0;
    for (int h = 0; h < count && rc == 0; h++) {
        //  The remote shell reads the credential line, then starts the
        //  engines, which keep the rest of the input as their lifeline (an
        //  explicit redirection: a background command's input is otherwise
        //  /dev/null).
        char script [12000];
        snprintf (script, sizeof script,
                  "read -r MCCLUSTER_ENGINE; export MCCLUSTER_ENGINE MCCLUSTER_LAUNCH=%s MCCLUSTER_HOST=%s; "
                  "exec 3<&0; i=0; while [ $i -lt %zu ]; do %s <&3 & i=$((i+1)); done; exec 3<&-; wait",
                  mc_alloc_tag (alloc), hosts [h].name, hosts [h].engines, engine_cmd);
        //  ssh [-T, no prompts, dead links noticed in 15 s] [ssh_opts] host script
        const char *argv [64] = { mc_alloc_opt (alloc, "ssh")? mc_alloc_opt (alloc, "ssh"): "ssh", "-T",
                                  "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3" };
        char opts_copy [2048];
        snprintf (opts_copy, sizeof opts_copy, "%s", ssh_opts);
        int argc = s_split (opts_copy, argv, 8, 60);
        if (argc < 0) {
            snprintf (err, errlen, "ssh_opts: too many words");
            rc = -1;
            break;
        }
        argv [argc++] = hosts [h].name;
        argv [argc++] = script;
        argv [argc] = NULL;
        mc_spawn_t spawn = { .argv = argv, .input = credential, .lifeline = true, .label = hosts [h].name };
        if (mc_alloc_spawn (alloc, MC_CHILD_SESSION, &spawn, err, errlen) < 0)
            rc = -1;
        else
            mc_info ("%s: ssh %s: %zu engines", mc_alloc_tag (alloc), hosts [h].name, hosts [h].engines);
    }
    explicit_bzero (credential, sizeof credential);
    free (hosts);
    if (rc == 0)
        mc_alloc_set_state (alloc, MC_ALLOC_RUNNING, NULL);
    return rc;
}

//  A session ended: its host's engines are gone (or going: without their
//  lifeline they stop). When none is left, the allocation is over.
static void
s_exited (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out)
{
    (void) role, (void) out;
    char code [64], why [400];
    mc_alloc_status_text (status, code, sizeof code);
    snprintf (why, sizeof why, "the ssh session to %s ended (%s)", label, code);
    if (mc_alloc_state (alloc) != MC_ALLOC_CANCELLED) {
        mc_warn ("%s: %s", mc_alloc_tag (alloc), why);
        mc_alloc_lost (alloc, label, why);
    }
    if (!mc_alloc_children (alloc, MC_CHILD_SESSION))
        mc_alloc_set_state (alloc, MC_ALLOC_ENDED, why);
}

static const char *const s_keys [] = { "hosts", "ssh", "ssh_opts", "engine_bin", NULL };

const mc_launch_kind_t mc_launch_ssh = {
    "ssh", "one ssh session per host, N engines each (--hosts h1:4,h2:4)", s_keys, s_start, s_exited, NULL, NULL, NULL,
    "its controller died, and with it the lifelines of its ssh sessions: their engines stopped", NULL
};
