/* gs_analyzer_driver.c — a stand-in for `gradscope` in the analyzer tests.
 *
 * Dispatches `gs-analyzer-driver VERB ARGS…` to the analyzer's verb functions exactly
 * as cli/gradscope.c does (argv starting at the verb), so the tests exercise the same
 * code as the real binary.  Several verbs may be chained in one process with "--then"
 * (`driver info A.h5 --then info B.h5`) to check that verbs re-initialise getopt. */
#include <stdio.h>
#include <string.h>

#include "gs_analyzer_cli.h"

typedef int (*verb_fn)(int argc, char **argv);

static const struct {
    const char *name;
    verb_fn     fn;
} verbs[] = {
    { "info", gs_cmd_info },
    { "report", gs_cmd_report },
    { "compare", gs_cmd_compare },
    { "export", gs_cmd_export },
    { "plot", gs_cmd_plot },
};

static int run_verb(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[0], verbs[i].name) == 0)
            return verbs[i].fn(argc, argv);
    fprintf(stderr, "gs-analyzer-driver: unknown verb '%s' (info, report, compare, export, plot)\n", argv[0]);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gs-analyzer-driver VERB [ARGS…] [--then VERB ARGS…]\n");
        return 2;
    }
    int start = 1, rc = 0;
    for (int i = 1; i <= argc; i++) {
        if (i == argc || strcmp(argv[i], "--then") == 0) {
            char *saved = argv[i < argc ? i : argc];
            argv[i] = NULL;   /* getopt expects argv[argc] == NULL */
            rc = run_verb(i - start, argv + start);
            if (i < argc)
                argv[i] = saved;
            if (rc != 0)
                return rc;
            start = i + 1;
        }
    }
    return rc;
}
