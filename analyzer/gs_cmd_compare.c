/* gs_cmd_compare.c — `gradscope compare RUN.h5 RUN.h5 …`: runs side by side.
 *
 * Per run: final and best test accuracy, final test loss, mean overlap and mean cosine
 * over the blocks at the last probe epoch (epoch means).  Runs whose configurations are
 * equal except for the seed (gs_cli_group_key) form a group, shown as mean ± SAMPLE
 * standard deviation (divide by n − 1) over its runs, with n; a group of one run has no
 * std.  NaN values (a run without epochs or probes) are left out of a group's mean and n.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_analyzer_cli.h"
#include "gs_cli_util.h"

static const char compare_usage[] =
    "usage: gradscope compare RUN.h5 RUN.h5 … [--format text|markdown|csv] [--table runs|groups|all]\n"
    "\n"
    "Runs side by side: final and best test accuracy, final test loss, and the mean overlap\n"
    "and cosine over blocks at the last epoch (epoch means).  Runs that share a configuration\n"
    "except the seed are grouped and shown as mean ± sample std (n - 1 in the denominator)\n"
    "with their number n.  The configuration compared is: arch, shortcut, width, depth,\n"
    "data, dataset, epochs, steps, steps_per_epoch, batch_size, optimizer, schedule, warmup,\n"
    "transform, augment, shuffle (not host, times, versions, threads or probes).\n"
    "\n"
    "  -f, --format FMT   text (default), markdown, csv (mean and std in separate columns)\n"
    "  -t, --table NAME   runs, groups or all (default)\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit: 0 ok; 1 cannot write; 2 bad usage or a bad/missing run file.\n";

enum { CMP_FINAL_ACC, CMP_BEST_ACC, CMP_FINAL_LOSS, CMP_OVERLAP, CMP_COSINE, CMP_NSTATS };
static const char *const cmp_names[CMP_NSTATS] = { "final_test_acc", "best_test_acc", "final_test_loss",
                                                    "mean_overlap", "mean_cosine" };

static double cmp_value(const gs_run_summary *s, int k)
{
    switch (k) {
    case CMP_FINAL_ACC:  return s->final_test_acc;
    case CMP_BEST_ACC:   return s->best_test_acc;
    case CMP_FINAL_LOSS: return s->final_test_loss;
    case CMP_OVERLAP:    return s->mean_overlap;
    case CMP_COSINE:     return s->mean_cosine;
    default:             return NAN;
    }
}

int gs_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "table", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *verb = "compare";
    gs_out_format fmt = GS_OUT_TEXT;
    const char *table = "all";
    int c;

    optind = 0;   /* GNU getopt: full re-initialisation */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (gs_out_format_parse(optarg, &fmt) != 0)
                return gs_cli_usage_error(verb, "--format '%s': expected text, markdown or csv", optarg);
            break;
        case 't':
            table = optarg;
            if (strcmp(table, "all") && strcmp(table, "runs") && strcmp(table, "groups"))
                return gs_cli_usage_error(verb, "--table '%s': expected runs, groups or all", optarg);
            break;
        case 'h':
            fputs(compare_usage, stdout);
            return 0;
        default:
            return gs_cli_getopt_error(verb, argv, c);
        }
    }
    size_t n = (size_t)(argc - optind);
    if (n < 1)
        return gs_cli_usage_error(verb, "no RUN.h5 given");

    gs_run **runs = calloc(n, sizeof *runs);
    gs_run_summary *sum = calloc(n, sizeof *sum);
    size_t *group_of = calloc(n, sizeof *group_of);
    double *vals = calloc(n, sizeof *vals);
    gs_table *trun = NULL, *tgrp = NULL;
    int rc = 1;
    int all = !strcmp(table, "all");
    char err[1024];

    if (!runs || !sum || !group_of || !vals) {
        gs_cli_error(verb, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        runs[i] = gs_run_open(argv[optind + (int)i], err, sizeof err);
        if (!runs[i]) {
            gs_cli_error(verb, "%s", err);
            rc = 2;
            goto done;
        }
        if (gs_cli_summarize(runs[i], &sum[i]) != 0) {
            gs_cli_error(verb, "%s", gs_run_error(runs[i]));
            rc = 2;
            goto done;
        }
    }
    long ngroups = gs_cli_group_runs(runs, n, group_of);
    if (ngroups < 0) {
        gs_cli_error(verb, "out of memory");
        goto done;
    }

    /* per-run table */
    {
        const char *headers[5 + CMP_NSTATS] = { "run", "group", "method", "seed", "epochs" };
        for (int k = 0; k < CMP_NSTATS; k++)
            headers[5 + k] = cmp_names[k];
        trun = gs_table_new("Runs", 5 + CMP_NSTATS, headers);
        if (!trun)
            goto oom;
        for (size_t i = 0; i < n; i++) {
            char tag[256], method[64];
            size_t r = gs_table_add_row(trun);
            if (r == (size_t)-1)
                goto oom;
            gs_table_text(trun, r, 0, gs_cli_run_tag(gs_run_path(runs[i]), tag, sizeof tag));
            gs_table_int(trun, r, 1, (int64_t)group_of[i] + 1);
            gs_table_text(trun, r, 2, gs_cli_method(runs[i], method, sizeof method));
            gs_table_int(trun, r, 3, sum[i].seed);
            gs_table_int(trun, r, 4, (int64_t)sum[i].epochs);
            for (int k = 0; k < CMP_NSTATS; k++)
                gs_table_num(trun, r, 5 + (size_t)k, cmp_value(&sum[i], k));
        }
    }

    /* per-group table */
    {
        const char *headers[5 + CMP_NSTATS] = { "group", "config", "method", "n", "seeds" };
        for (int k = 0; k < CMP_NSTATS; k++)
            headers[5 + k] = cmp_names[k];
        tgrp = gs_table_new("Groups: runs sharing a configuration except the seed (mean ± sample std over seeds)",
                            5 + CMP_NSTATS, headers);
        if (!tgrp)
            goto oom;
        for (long g = 0; g < ngroups; g++) {
            size_t first = 0, members = 0;
            char seeds[256] = "", label[256], method[64];
            for (size_t i = n; i-- > 0;)
                if (group_of[i] == (size_t)g)
                    first = i;
            for (size_t i = 0; i < n; i++) {
                if (group_of[i] != (size_t)g)
                    continue;
                members++;
                size_t len = strlen(seeds);
                snprintf(seeds + len, sizeof seeds - len, "%s%lld", len ? " " : "", sum[i].seed);
            }
            size_t r = gs_table_add_row(tgrp);
            if (r == (size_t)-1)
                goto oom;
            gs_table_int(tgrp, r, 0, (int64_t)g + 1);
            gs_table_text(tgrp, r, 1, gs_cli_config_label(runs[first], label, sizeof label));
            gs_table_text(tgrp, r, 2, gs_cli_method(runs[first], method, sizeof method));
            gs_table_int(tgrp, r, 3, (int64_t)members);
            gs_table_text(tgrp, r, 4, seeds);
            for (int k = 0; k < CMP_NSTATS; k++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (group_of[i] == (size_t)g)
                        vals[m++] = cmp_value(&sum[i], k);
                gs_table_pm(tgrp, r, 5 + (size_t)k, gs_stat_mean(vals, m, NULL), gs_stat_sample_std(vals, m));
            }
        }
    }

    rc = 0;
    if (all || !strcmp(table, "runs"))
        if (gs_table_print(trun, stdout, fmt, all) != 0)
            rc = 1;
    if (all)
        fputc('\n', stdout);
    if (all || !strcmp(table, "groups"))
        if (gs_table_print(tgrp, stdout, fmt, all) != 0)
            rc = 1;
    if (fflush(stdout) != 0)
        rc = 1;
    if (rc)
        gs_cli_error(verb, "cannot write to stdout");
    goto done;
oom:
    gs_cli_error(verb, "out of memory");
    rc = 1;
done:
    gs_table_free(trun);
    gs_table_free(tgrp);
    if (runs)
        for (size_t i = 0; i < n; i++)
            gs_run_close(runs[i]);
    free(runs);
    free(sum);
    free(group_of);
    free(vals);
    return rc;
}
