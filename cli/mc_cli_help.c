/*  mc_cli_help: mcclient's help and completion words, from the tables. */
#include "mc_cli_help.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  Where a line's text starts after a usage or an option that fits.
#define S_COLUMN 31

static const char *s_global_usage = "mcclient [--profile-dir DIR] [--json] [--connect-timeout S]";

//  Whether the option row is for command (a row of a table that several
//  commands share names the ones it is for).
static bool
s_for (const mc_cli_option_t *row, const char *command)
{
    if (!row->commands)
        return true;
    size_t len = strlen (command);
    for (const char *word = row->commands; *word; ) {
        size_t n = strcspn (word, " ");
        if (n == len && !strncmp (word, command, len))
            return true;
        word += n;
        word += strspn (word, " ");
    }
    return false;
}

//  A hidden row that is another spelling of a shown one (same code, for
//  the same command): "-o" shown, "--output" its alias.
static const mc_cli_option_t *
s_alias_of (const mc_cli_option_t *table, const mc_cli_option_t *row, const char *command)
{
    if (row->help)
        return NULL;
    for (const mc_cli_option_t *shown = table; shown->name; shown++)
        if (shown->help && shown->code == row->code && s_for (shown, command))
            return shown;
    return NULL;
}

//  text, then the rest at the column (on the next line when text is too long).
static void
s_columns (FILE *out, const char *text, const char *rest)
{
    if (strlen (text) + 2 < S_COLUMN)
        fprintf (out, "  %-*s%s\n", S_COLUMN - 2, text, rest);
    else
        fprintf (out, "  %s\n%*s%s\n", text, S_COLUMN, "", rest);
}

static const char *
s_summary (const mc_cli_command_t *c)
{
    return c->summary? c->summary: mc_op_get (c->op)->summary;
}

//  A command's line in the overview.
static void
s_overview_line (FILE *out, const mc_cli_command_t *c)
{
    if (c->section)
        fprintf (out, "%s\n", c->section);
    char usage [160];
    snprintf (usage, sizeof usage, "%s%s%s", mc_cli_command_name (c), *c->args? " ": "", c->args);
    s_columns (out, usage, s_summary (c));
    if (c->more)
        fputs (c->more, out);
}

void
mc_cli_help_overview (FILE *out, const mc_cli_command_t *commands, size_t count)
{
    fprintf (out, "usage: %s COMMAND ...\n\n", s_global_usage);
    for (size_t i = 0; i < count; i++)
        if (commands [i].args)
            s_overview_line (out, &commands [i]);
    fprintf (out,
        "\n"
        "mcclient help COMMAND, or mcclient COMMAND --help: its options and an example.\n"
        "Arguments: true/false/null, integers, floats (1e7), JSON ([1,2], {\"a\":1}, \"text\"),\n"
        "anything else is a string. KEY=VALUE passes a keyword argument.\n"
        "Profile: --profile-dir, else $MCCLUSTER_DIR, else ~/.mccluster/default.\n"
        "Connection file: $MCCLUSTER_CLIENT (client.json's text, or its base64), else\n"
        "PROFILE/client.json (mode 0600). MCCLUSTER_TRANSPORT=tcp: TCP with CURVE even on the\n"
        "controller's host, instead of its Unix socket.\n"
        "Each wait for a reply polls for $MCCLUSTER_SPIN_US (default 500) microseconds, then sleeps.\n"
        "Exit status: 0 success; 1 error or failed tasks; 2 bad usage; 3 wait timed out.\n");
}

void
mc_cli_help_command (FILE *out, const mc_cli_command_t *c)
{
    const char *name = mc_cli_command_name (c);
    fprintf (out, "usage: mcclient [GLOBAL OPTIONS] %s%s%s\n%s\n", name, c->args && *c->args? " ": "",
             c->args? c->args: "", s_summary (c));
    if (c->more)
        fputs (c->more, out);
    fprintf (out, "\nOptions:\n");
    for (const mc_cli_option_t *row = c->options; row && row->name; row++) {
        if (!row->help || !s_for (row, name))
            continue;
        char text [160];
        int n = snprintf (text, sizeof text, "%s", row->name);
        //  Its aliases, then its value.
        for (const mc_cli_option_t *alias = c->options; alias->name; alias++)
            if (s_alias_of (c->options, alias, name) == row)
                n += snprintf (text + n, sizeof text - (size_t) n, ", %s", alias->name);
        if (row->takes_value)
            snprintf (text + n, sizeof text - (size_t) n, " %s", row->value? row->value: "VALUE");
        s_columns (out, text, row->help);
    }
    s_columns (out, "-h, --help", "this help");
    fprintf (out, "Global options (before %s): see mcclient --help.\n", name);
    if (c->example)
        fprintf (out, "\nExample:\n  %s\n", c->example);
}

bool
mc_cli_help_asked (int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp (argv [i], "--"); i++)
        if (!strcmp (argv [i], "-h") || !strcmp (argv [i], "--help"))
            return true;
    return false;
}

//  For the bash completion: "@args ARGS", then each option that command
//  takes with its value ("-" for none), shown spellings and aliases.
static void
s_complete_command (FILE *out, const mc_cli_command_t *c)
{
    const char *name = mc_cli_command_name (c);
    fprintf (out, "@args %s\n", c->args? c->args: "");
    for (const mc_cli_option_t *row = c->options; row && row->name; row++)
        if (s_for (row, name) && (row->help || s_alias_of (c->options, row, name)))
            fprintf (out, "%s %s\n", row->name, row->takes_value? row->value? row->value: "VALUE": "-");
    fprintf (out, "--help -\n");
}

static const mc_cli_command_t *
s_find (const mc_cli_command_t *commands, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp (name, mc_cli_command_name (&commands [i])))
            return &commands [i];
    return NULL;
}

int
mc_cli_help_run (const mc_cli_command_t *commands, size_t count, int argc, char **argv)
{
    bool complete = argc > 0 && !strcmp (argv [0], "--complete");
    if (complete)
        argc--, argv++;
    if (argc > 1) {
        mc_cli_fail ("help takes one command (see mcclient --help)");
        return MC_EXIT_USAGE;
    }
    const mc_cli_command_t *c = argc? s_find (commands, count, argv [0]): NULL;
    if (argc && !c) {
        mc_cli_fail ("unknown command '%s' (see mcclient --help)", argv [0]);
        return MC_EXIT_USAGE;
    }
    if (complete && c)
        s_complete_command (stdout, c);
    else
    if (complete) {
        for (size_t i = 0; i < count; i++)
            if (commands [i].args)
                printf ("%s\n", mc_cli_command_name (&commands [i]));
    }
    else
    if (c)
        mc_cli_help_command (stdout, c);
    else
        mc_cli_help_overview (stdout, commands, count);
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest

//  What printer prints for command, into buf (NUL-terminated).
static void
s_capture (void (*printer) (FILE *, const mc_cli_command_t *), const mc_cli_command_t *command,
           char *buf, size_t size)
{
    FILE *file = fmemopen (buf, size, "w");
    assert (file);
    printer (file, command);
    fclose (file);
}

void
mc_cli_help_test (bool verbose)
{
    printf (" * mc_cli_help: ");
    if (verbose)
        printf ("\n");
    static const mc_cli_option_t options [] = {
        { "--targets", 1, true, "T", "which engines", NULL },
        { "-o", 2, true, "FILE", "write to FILE", "pull gather" },
        { "--output", 2, true, "FILE", NULL, "pull gather" },
        { "--raw", 3, false, NULL, "raw bytes", "pull" },
        { "--hist", 4, true, "NXxNY", NULL, "gather" },         //  an old spelling
        { "--a-very-long-option-name", 5, true, "x0:x1,y0:y1", "wraps", NULL },
        { NULL, 0, false, NULL, NULL, NULL } };
    const mc_cli_command_t gather = { "gather", NULL, MC_OP_NONE, "NAME", "join", NULL, NULL, options,
                                      "mcclient gather a" };
    const mc_cli_command_t push = { "push", NULL, MC_OP_NONE, "NAME=VALUE...", "set", NULL, NULL, options, NULL };
    char buf [4096];
    s_capture (mc_cli_help_command, &gather, buf, sizeof buf);
    if (verbose)
        printf ("%s", buf);
    assert (strstr (buf, "usage: mcclient [GLOBAL OPTIONS] gather NAME\njoin\n"));
    assert (strstr (buf, "  --targets T                  which engines\n"));
    assert (strstr (buf, "  -o, --output FILE            write to FILE\n"));
    assert (!strstr (buf, "--raw") && !strstr (buf, "--hist"));
    assert (strstr (buf, "  --a-very-long-option-name x0:x1,y0:y1\n                               wraps\n"));
    assert (strstr (buf, "  -h, --help                   this help\n"));
    assert (strstr (buf, "Example:\n  mcclient gather a\n"));
    s_capture (mc_cli_help_command, &push, buf, sizeof buf);
    assert (strstr (buf, "--targets") && !strstr (buf, "-o,") && !strstr (buf, "Example"));
    s_capture (s_complete_command, &gather, buf, sizeof buf);
    if (verbose)
        printf ("%s", buf);
    assert (!strcmp (buf, "@args NAME\n--targets T\n-o FILE\n--output FILE\n"
                          "--a-very-long-option-name x0:x1,y0:y1\n--help -\n"));
    char *asked [] = { "x", "--help" }, *passed [] = { "echo", "--", "-h" }, *none [] = { "-o", "f" };
    assert (mc_cli_help_asked (2, asked) && !mc_cli_help_asked (3, passed) && !mc_cli_help_asked (2, none));
    char *first [] = { "-h" };
    assert (mc_cli_help_asked (1, first));
    printf ("OK\n");
}
