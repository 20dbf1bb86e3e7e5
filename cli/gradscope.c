/* gradscope — the command-line entry point: `gradscope <verb> [options]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gs_train.h"
#ifdef GS_HAVE_ANALYZER
#include "gs_analyzer_cli.h"
#endif

typedef struct verb {
    const char *name;
    int       (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"train", gs_cmd_train, "train a ResNet and write the run log (HDF5)"},
#ifdef GS_HAVE_ANALYZER
    {"info", gs_cmd_info, "what a run log holds"},
    {"report", gs_cmd_report, "tables of a run's block and tensor statistics"},
    {"compare", gs_cmd_compare, "runs side by side, mean ± std over seeds"},
    {"export", gs_cmd_export, "statistics to CSV"},
    {"plot", gs_cmd_plot, "figures: data files + standalone gnuplot scripts"},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "usage: gradscope <command> [options]   (gradscope <command> --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\ngradscope %s — gradient overlap in residual networks, measured.\n", GS_VERSION);
}

/* libgomp reads its spin policy from the environment when it loads, before main().
 * Its default (spin ~300k times at every barrier) makes a step several times slower
 * as soon as another process shares the cores, so unless the user chose a policy we
 * set a short spin and re-execute ourselves once. */
static void ensure_gomp_spin_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return;
    setenv("GOMP_SPINCOUNT", "20000", 1);
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the default policy */
}

int main(int argc, char **argv)
{
    ensure_gomp_spin_policy(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gradscope %s\n", GS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "gradscope: unknown command '%s' (see gradscope --help)\n", argv[1]);
    return 2;
}
