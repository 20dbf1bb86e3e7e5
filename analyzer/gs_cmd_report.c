/* gs_cmd_report.c — `gradscope report RUN.h5`: tables of one run (see docs/analyzer.md).
 *
 * Three tables, all from data the run already aggregated:
 *   summary  training summary (/epochs, the last /train row, last probe epoch)
 *   blocks   per selected block, from /probe/epoch/blocks/<stat>_mean at the first and
 *            the last epoch aggregate: skip/residual/sum norms, cosine, overlap, and
 *            change = last − first
 *   params   per selected tensor, /probe/epoch/params/{pre,post}/{norm_mean,std_mean}
 *            at the first and last epoch aggregate
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_analyzer_cli.h"
#include "gs_cli_util.h"

static const char report_usage[] =
    "usage: gradscope report RUN.h5 [--format text|markdown|csv] [--select REGEX]\n"
    "                        [--table summary|blocks|params|all]\n"
    "\n"
    "Tables of one run:\n"
    "  summary  epochs, steps, final and best test accuracy, losses, throughput, mean overlap\n"
    "  blocks   per block: skip, residual and sum gradient norms, cosine(skip, residual) and\n"
    "           overlap at the first and the last epoch (epoch means) and change = last - first\n"
    "  params   per tensor: gradient norm and std before (pre) and after (post) the transform\n"
    "           at the first and the last epoch (epoch means)\n"
    "\n"
    "  -f, --format FMT    text (default, aligned columns), markdown, csv (full precision;\n"
    "                      with --table all each table is preceded by a '# title' line)\n"
    "  -s, --select REGEX  only blocks and tensors whose name matches the POSIX extended\n"
    "                      regular expression (e.g. '^layer2', 'conv1\\.weight$')\n"
    "  -t, --table NAME    print only that table (default all)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit: 0 ok; 1 cannot write; 2 bad usage or a bad/missing run file.\n";

static const char *const block_stats[] = { GS_BLK_SKIP_NORM, GS_BLK_RESIDUAL_NORM, GS_BLK_SUM_NORM,
                                           GS_BLK_COSINE, GS_BLK_OVERLAP };
static const char *const block_stat_label[] = { "skip", "residual", "sum", "cosine", "overlap" };
#define N_BLOCK_STATS 5

static gs_table *report_summary(gs_run *run)
{
    static const char *const headers[] = { "quantity", "value" };
    gs_run_summary s;
    if (gs_cli_summarize(run, &s) != 0)
        return NULL;
    gs_table *t = gs_table_new("Training summary", 2, headers);
    if (!t)
        return NULL;
    char method[64], label[256];
    size_t r;
#define ROW_NUM(name, value) \
    do { r = gs_table_add_row(t); gs_table_text(t, r, 0, name); gs_table_num(t, r, 1, value); } while (0)
#define ROW_INT(name, value) \
    do { r = gs_table_add_row(t); gs_table_text(t, r, 0, name); gs_table_int(t, r, 1, value); } while (0)
    r = gs_table_add_row(t);
    gs_table_text(t, r, 0, "config");
    gs_table_text(t, r, 1, gs_cli_config_label(run, label, sizeof label));
    r = gs_table_add_row(t);
    gs_table_text(t, r, 0, "method");
    gs_table_text(t, r, 1, gs_cli_method(run, method, sizeof method));
    ROW_INT("seed", s.seed);
    r = gs_table_add_row(t);
    gs_table_text(t, r, 0, "status");
    gs_table_text(t, r, 1, gs_run_status(run));
    ROW_INT("epochs", (int64_t)s.epochs);
    ROW_INT("steps", (int64_t)s.steps);
    ROW_NUM("final_train_loss", s.final_train_loss);
    ROW_NUM("final_train_acc", s.final_train_acc);
    ROW_NUM("final_test_loss", s.final_test_loss);
    ROW_NUM("final_test_acc", s.final_test_acc);
    ROW_NUM("best_test_acc", s.best_test_acc);
    ROW_INT("best_epoch", s.best_epoch);
    ROW_NUM("wall_s", s.wall_s);
    ROW_NUM("images_per_s", s.images_per_s);
    ROW_NUM("mean_overlap_last_epoch", s.mean_overlap);
    ROW_NUM("mean_cosine_last_epoch", s.mean_cosine);
#undef ROW_NUM
#undef ROW_INT
    t->prec[1] = 6;
    return t;
}

/* Read rows first and last of a [E, X] epoch aggregate into a (X) and b (X). */
static int read_first_last(gs_run *run, const char *path, size_t last, double *a, double *b)
{
    if (gs_run_read_rows(run, GS_AXIS_PROBE_EPOCH, path, 0, 1, a) != 0)
        return -1;
    return gs_run_read_rows(run, GS_AXIS_PROBE_EPOCH, path, last, 1, b);
}

static gs_table *report_blocks(gs_run *run, const gs_selection *sel, int *failed)
{
    size_t nb = gs_run_n_blocks(run);
    size_t pe = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    const char *headers[3 + 3 * N_BLOCK_STATS];
    char names[3 * N_BLOCK_STATS][48];
    double *first = NULL, *last = NULL;
    gs_table *t = NULL;
    char title[160], path[256];
    double e0 = 0, e1 = 0;

    *failed = 1;
    headers[0] = "block";
    headers[1] = "stage";
    headers[2] = "shortcut";
    for (size_t k = 0; k < N_BLOCK_STATS; k++) {
        snprintf(names[3 * k], sizeof names[0], "%s_first", block_stat_label[k]);
        snprintf(names[3 * k + 1], sizeof names[0], "%s_last", block_stat_label[k]);
        snprintf(names[3 * k + 2], sizeof names[0], "%s_change", block_stat_label[k]);
        for (int j = 0; j < 3; j++)
            headers[3 + 3 * k + (size_t)j] = names[3 * k + (size_t)j];
    }
    if (pe > 0 && (gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, 0, 1, &e0) != 0 ||
                   gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, pe - 1, 1, &e1) != 0))
        return NULL;
    if (pe > 0)
        snprintf(title, sizeof title, "Blocks: epoch means at the first (%.0f) and last (%.0f) epoch", e0, e1);
    else
        snprintf(title, sizeof title, "Blocks: no epoch aggregates recorded");
    t = gs_table_new(title, 3 + 3 * N_BLOCK_STATS, headers);
    first = malloc((nb + 1) * N_BLOCK_STATS * sizeof *first);
    last = malloc((nb + 1) * N_BLOCK_STATS * sizeof *last);
    if (!t || !first || !last)
        goto done;
    for (size_t k = 0; k < N_BLOCK_STATS && pe > 0; k++) {
        char stat[64];
        snprintf(stat, sizeof stat, "%s_mean", block_stats[k]);
        gs_run_block_epoch_path(path, sizeof path, stat);
        if (!gs_run_has(run, path)) {
            for (size_t b = 0; b < nb; b++)
                first[k * nb + b] = last[k * nb + b] = NAN;
            continue;
        }
        if (read_first_last(run, path, pe - 1, first + k * nb, last + k * nb) != 0)
            goto done;
    }
    for (size_t i = 0; i < sel->n; i++) {
        size_t b = sel->idx[i];
        const gs_block_info *bi = gs_run_block(run, b);
        size_t r = gs_table_add_row(t);
        if (r == (size_t)-1)
            goto done;
        gs_table_text(t, r, 0, bi->name);
        gs_table_int(t, r, 1, bi->stage);
        gs_table_text(t, r, 2, bi->shortcut);
        for (size_t k = 0; k < N_BLOCK_STATS && pe > 0; k++) {
            double a = first[k * nb + b], z = last[k * nb + b];
            gs_table_num(t, r, 3 + 3 * k, a);
            gs_table_num(t, r, 4 + 3 * k, z);
            gs_table_num(t, r, 5 + 3 * k, z - a);
        }
    }
    *failed = 0;
done:
    free(first);
    free(last);
    if (*failed) {
        gs_table_free(t);
        t = NULL;
    }
    return t;
}

static gs_table *report_params(gs_run *run, const gs_selection *sel, int *failed)
{
    static const char *const headers[] = {
        "tensor", "kind", "numel",
        "pre_norm_first", "pre_norm_last", "post_norm_first", "post_norm_last",
        "pre_std_first", "pre_std_last", "post_std_first", "post_std_last",
    };
    static const char *const sides[2] = { "pre", "post" };
    static const char *const stats[2] = { "norm_mean", "std_mean" };
    size_t np = gs_run_n_params(run);
    size_t pe = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    double *first = NULL, *last = NULL;
    gs_table *t = NULL;
    char title[160], path[256];
    double e0 = 0, e1 = 0;

    *failed = 1;
    if (pe > 0 && (gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, 0, 1, &e0) != 0 ||
                   gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, pe - 1, 1, &e1) != 0))
        return NULL;
    if (pe > 0)
        snprintf(title, sizeof title,
                 "Tensors: gradient norm and std before/after the transform, epoch means at epochs %.0f and %.0f",
                 e0, e1);
    else
        snprintf(title, sizeof title, "Tensors: no epoch aggregates recorded");
    t = gs_table_new(title, sizeof headers / sizeof headers[0], headers);
    first = malloc((np + 1) * 4 * sizeof *first);
    last = malloc((np + 1) * 4 * sizeof *last);
    if (!t || !first || !last)
        goto done;
    /* slot q = stat * 2 + side: 0 pre norm, 1 post norm, 2 pre std, 3 post std */
    for (size_t q = 0; q < 4 && pe > 0; q++) {
        gs_run_param_epoch_path(path, sizeof path, sides[q % 2], stats[q / 2]);
        if (!gs_run_has(run, path)) {
            for (size_t p = 0; p < np; p++)
                first[q * np + p] = last[q * np + p] = NAN;
            continue;
        }
        if (read_first_last(run, path, pe - 1, first + q * np, last + q * np) != 0)
            goto done;
    }
    for (size_t i = 0; i < sel->n; i++) {
        size_t p = sel->idx[i];
        const gs_param_info *pi = gs_run_param(run, p);
        size_t r = gs_table_add_row(t);
        if (r == (size_t)-1)
            goto done;
        gs_table_text(t, r, 0, pi->name);
        gs_table_text(t, r, 1, pi->kind);
        gs_table_int(t, r, 2, pi->numel);
        for (size_t q = 0; q < 4 && pe > 0; q++) {
            gs_table_num(t, r, 3 + 2 * q, first[q * np + p]);
            gs_table_num(t, r, 4 + 2 * q, last[q * np + p]);
        }
    }
    *failed = 0;
done:
    free(first);
    free(last);
    if (*failed) {
        gs_table_free(t);
        t = NULL;
    }
    return t;
}

int gs_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "select", required_argument, NULL, 's' },
        { "table", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *verb = "report";
    gs_out_format fmt = GS_OUT_TEXT;
    const char *select = NULL, *table = "all";
    int c;

    optind = 0;   /* GNU getopt: full re-initialisation */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:s:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (gs_out_format_parse(optarg, &fmt) != 0)
                return gs_cli_usage_error(verb, "--format '%s': expected text, markdown or csv", optarg);
            break;
        case 's':
            select = optarg;
            break;
        case 't':
            table = optarg;
            if (strcmp(table, "all") && strcmp(table, "summary") && strcmp(table, "blocks") && strcmp(table, "params"))
                return gs_cli_usage_error(verb, "--table '%s': expected summary, blocks, params or all", optarg);
            break;
        case 'h':
            fputs(report_usage, stdout);
            return 0;
        default:
            return gs_cli_getopt_error(verb, argv, c);
        }
    }
    if (argc - optind != 1)
        return gs_cli_usage_error(verb, argc - optind == 0 ? "no RUN.h5 given" : "give exactly one RUN.h5");

    char err[1024];
    gs_run *run = gs_run_open(argv[optind], err, sizeof err);
    if (!run) {
        gs_cli_error(verb, "%s", err);
        return 2;
    }
    gs_selection bsel = { 0 }, psel = { 0 };
    gs_table *tables[3] = { NULL, NULL, NULL };
    int rc = 2, failed = 0;
    int all = !strcmp(table, "all");

    if (gs_select_names(gs_run_block_names(run), gs_run_n_blocks(run), select, &bsel, err, sizeof err) != 0 ||
        gs_select_names(gs_run_param_names(run), gs_run_n_params(run), select, &psel, err, sizeof err) != 0) {
        gs_cli_error(verb, "--select: %s", err);
        goto done;
    }
    if (all || !strcmp(table, "summary")) {
        tables[0] = report_summary(run);
        if (!tables[0])
            goto read_failed;
    }
    if (all || !strcmp(table, "blocks")) {
        tables[1] = report_blocks(run, &bsel, &failed);
        if (failed)
            goto read_failed;
    }
    if (all || !strcmp(table, "params")) {
        tables[2] = report_params(run, &psel, &failed);
        if (failed)
            goto read_failed;
    }
    rc = 0;
    int first = 1;
    for (int i = 0; i < 3; i++) {
        if (!tables[i])
            continue;
        if (!first)
            fputc('\n', stdout);
        first = 0;
        if (gs_table_print(tables[i], stdout, fmt, all) != 0) {
            gs_cli_error(verb, "cannot write to stdout");
            rc = 1;
            break;
        }
    }
    if (fflush(stdout) != 0 && rc == 0) {
        gs_cli_error(verb, "cannot write to stdout");
        rc = 1;
    }
    goto done;
read_failed:
    gs_cli_error(verb, "%s", gs_run_error(run)[0] ? gs_run_error(run) : "out of memory");
    rc = gs_run_error(run)[0] ? 2 : 1;
done:
    for (int i = 0; i < 3; i++)
        gs_table_free(tables[i]);
    gs_selection_free(&bsel);
    gs_selection_free(&psel);
    gs_run_close(run);
    return rc;
}
