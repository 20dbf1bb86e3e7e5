/* gs_cmd_export.c — `gradscope export RUN.h5 --what … -o FILE.csv`: one CSV table.
 *
 * Layouts (header row first, one row per step/epoch, one column per selected statistic):
 *   train              step, then the /train columns (epoch, loss, accuracy, lr, …)
 *   epochs             epoch, then the /epochs columns
 *   blocks --by step   step, <block>/<stat> for stat in skip_norm residual_norm sum_norm
 *                      cosine overlap
 *   blocks --by epoch  epoch, steps, <block>/<stat>_mean and <block>/<stat>_std
 *   params --by step   step, <tensor>/pre/<stat>, <tensor>/post/<stat> for stat in mean std
 *                      norm min max nonfinite, and <tensor>/update_ratio
 *   params --by epoch  epoch, <tensor>/{pre,post}/{norm_mean,norm_std,std_mean}
 *   hist               step (or epoch), bin, lo, hi, <block>/{skip,residual,sum} and
 *                      <tensor>/{pre,post}: one row per (step, bin)
 * For train/epochs --select filters the column names; otherwise it selects blocks and
 * tensors by name.  Numbers: integers exactly, floats with 9 significant digits (float32
 * round-trips), NaN as "nan".  Rows are read in chunks (hyperslabs), so memory stays
 * bounded however long the run is.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_analyzer_cli.h"
#include "gs_cli_util.h"

static const char export_usage[] =
    "usage: gradscope export RUN.h5 --what train|epochs|blocks|params|hist [--select REGEX]\n"
    "                        [--by step|epoch] -o FILE.csv\n"
    "\n"
    "One CSV table with a header row and one column per selected statistic:\n"
    "  train    per step: step, epoch, loss, accuracy, lr, grad_norm_pre, grad_norm_post, wall_s\n"
    "  epochs   per epoch: epoch, train_loss, train_acc, test_loss, test_acc, wall_s, images_per_s\n"
    "  blocks   per probed step: <block>/skip_norm, residual_norm, sum_norm, cosine, overlap;\n"
    "           --by epoch: <block>/<stat>_mean and _std of the epoch aggregates\n"
    "  params   per probed step: <tensor>/pre/<stat> and post/<stat> (mean std norm min max\n"
    "           nonfinite) and <tensor>/update_ratio; --by epoch: pre|post norm_mean norm_std std_mean\n"
    "  hist     one row per sampled step (or --by epoch) and bin: bin, lo, hi edges, then the\n"
    "           counts <block>/skip|residual|sum and <tensor>/pre|post\n"
    "\n"
    "  -w, --what WHAT      the table (required)\n"
    "  -s, --select REGEX   blocks/tensors whose name matches (POSIX extended regex); for train\n"
    "                       and epochs, the columns whose name matches.  Default: all\n"
    "  -b, --by step|epoch  rows per (probed or sampled) step (default) or per epoch aggregate\n"
    "  -o, --output FILE    the CSV file, '-' for stdout (required)\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit: 0 ok; 1 cannot write FILE; 2 bad usage, a bad/missing run file, or data not in the run.\n";

typedef enum export_what { EXP_TRAIN, EXP_EPOCHS, EXP_BLOCKS, EXP_PARAMS, EXP_HIST } export_what;

#define EXPORT_CHUNK_ROWS 2048

/* A CSV number: integral values exactly, others with 9 significant digits. */
static void put_number(FILE *out, double v)
{
    if (isnan(v))
        fputs("nan", out);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", out);
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        fprintf(out, "%.0f", v);
    else
        fprintf(out, "%.9g", v);
}

/* One output column: column `col` of the plan's table `table` (a dataset read once per
 * chunk of rows and shared by all its columns). */
typedef struct export_col {
    char   header[256];
    size_t table;
    size_t col;
} export_col;

typedef struct export_table {
    char    path[256];
    size_t  ncols;
    double *chunk;   /* [EXPORT_CHUNK_ROWS × ncols] */
} export_table;

typedef struct export_plan {
    export_col   *cols;
    size_t        ncols, capcols;
    export_table *tables;
    size_t        ntables, captables;
} export_plan;

static void plan_free(export_plan *p)
{
    for (size_t i = 0; i < p->ntables; i++)
        free(p->tables[i].chunk);
    free(p->tables);
    free(p->cols);
    memset(p, 0, sizeof *p);
}

/* Index of the table for path (added when new), or -1 when out of memory. */
static long plan_table(export_plan *p, gs_run *run, const char *path)
{
    for (size_t i = 0; i < p->ntables; i++)
        if (!strcmp(p->tables[i].path, path))
            return (long)i;
    if (p->ntables == p->captables) {
        size_t ncap = p->captables ? p->captables * 2 : 16;
        export_table *nt = realloc(p->tables, ncap * sizeof *nt);
        if (!nt)
            return -1;
        p->tables = nt;
        p->captables = ncap;
    }
    export_table *t = &p->tables[p->ntables];
    snprintf(t->path, sizeof t->path, "%s", path);
    t->ncols = gs_run_columns(run, path);
    t->chunk = malloc(EXPORT_CHUNK_ROWS * (t->ncols ? t->ncols : 1) * sizeof *t->chunk);
    if (!t->chunk)
        return -1;
    return (long)p->ntables++;
}

static int plan_add(export_plan *p, gs_run *run, const char *header, const char *path, size_t col)
{
    long ti = plan_table(p, run, path);
    if (ti < 0)
        return -1;
    if (p->ncols == p->capcols) {
        size_t ncap = p->capcols ? p->capcols * 2 : 64;
        export_col *nc = realloc(p->cols, ncap * sizeof *nc);
        if (!nc)
            return -1;
        p->cols = nc;
        p->capcols = ncap;
    }
    export_col *c = &p->cols[p->ncols++];
    memset(c, 0, sizeof *c);
    snprintf(c->header, sizeof c->header, "%s", header);
    c->table = (size_t)ti;
    c->col = col;
    return 0;
}

static void csv_header_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

/* Write the rows of axis with the plan's columns (after the x column named xname). */
static int write_plan(FILE *out, gs_run *run, gs_axis axis, const char *xname, export_plan *p, int *read_failed)
{
    size_t rows = gs_run_rows(run, axis);
    double *x = malloc(EXPORT_CHUNK_ROWS * sizeof *x);
    *read_failed = 0;
    if (!x)
        return -1;
    csv_header_field(out, xname);
    for (size_t c = 0; c < p->ncols; c++) {
        fputc(',', out);
        csv_header_field(out, p->cols[c].header);
    }
    fputc('\n', out);
    for (size_t r0 = 0; r0 < rows; r0 += EXPORT_CHUNK_ROWS) {
        size_t nr = rows - r0 < EXPORT_CHUNK_ROWS ? rows - r0 : EXPORT_CHUNK_ROWS;
        if (gs_run_axis_x(run, axis, r0, nr, x) != 0)
            goto read_fail;
        for (size_t t = 0; t < p->ntables; t++)
            if (gs_run_read_rows(run, axis, p->tables[t].path, r0, nr, p->tables[t].chunk) != 0)
                goto read_fail;
        for (size_t r = 0; r < nr; r++) {
            put_number(out, x[r]);
            for (size_t c = 0; c < p->ncols; c++) {
                const export_table *t = &p->tables[p->cols[c].table];
                fputc(',', out);
                put_number(out, t->chunk[r * t->ncols + p->cols[c].col]);
            }
            fputc('\n', out);
        }
        if (ferror(out))
            break;
    }
    free(x);
    return ferror(out) ? -1 : 0;
read_fail:
    free(x);
    *read_failed = 1;
    return -1;
}

/* train / epochs: the x column plus every other 1-D dataset of the group whose name
 * matches the regex, in schema order. */
static int plan_group(export_plan *p, gs_run *run, const char *group, const char *const *names, size_t n,
                      const char *regex, char *err, size_t errsz)
{
    gs_selection sel = { 0 };
    if (gs_select_names(names, n, regex, &sel, err, errsz) != 0)
        return -2;
    for (size_t i = 0; i < sel.n; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", group, names[sel.idx[i]]);
        if (!gs_run_has(run, path))
            continue;
        if (plan_add(p, run, names[sel.idx[i]], path, 0) != 0) {
            gs_selection_free(&sel);
            return -1;
        }
    }
    gs_selection_free(&sel);
    return 0;
}

static int export_hist(FILE *out, gs_run *run, gs_axis axis, const gs_selection *bs, const gs_selection *ps,
                       int *read_failed)
{
    static const char *const bparts[3] = { GS_HIST_SKIP, GS_HIST_RESIDUAL, GS_HIST_SUM };
    static const char *const pparts[2] = { GS_HIST_PRE, GS_HIST_POST };
    size_t H = 0;
    const double *edges = gs_run_hist_edges(run, &H);
    size_t rows = gs_run_rows(run, axis);
    size_t nitems = 3 * bs->n + 2 * ps->n;
    size_t chunk = 64;
    int64_t *counts = malloc((nitems ? nitems : 1) * chunk * H * sizeof *counts);
    double *x = malloc(chunk * sizeof *x);
    int rc = -1;
    *read_failed = 0;
    if (!counts || !x)
        goto done;

    fputs(axis == GS_AXIS_HIST ? "step" : "epoch", out);
    fputs(",bin,lo,hi", out);
    for (size_t i = 0; i < bs->n; i++)
        for (int k = 0; k < 3; k++) {
            char h[256];
            snprintf(h, sizeof h, "%s/%s", gs_run_block(run, bs->idx[i])->name, bparts[k]);
            fputc(',', out);
            csv_header_field(out, h);
        }
    for (size_t i = 0; i < ps->n; i++)
        for (int k = 0; k < 2; k++) {
            char h[256];
            snprintf(h, sizeof h, "%s/%s", gs_run_param(run, ps->idx[i])->name, pparts[k]);
            fputc(',', out);
            csv_header_field(out, h);
        }
    fputc('\n', out);

    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        if (gs_run_axis_x(run, axis, r0, nr, x) != 0)
            goto read_fail;
        size_t item = 0;
        for (size_t i = 0; i < bs->n; i++)
            for (int k = 0; k < 3; k++, item++)
                if (gs_run_read_hist(run, axis, bparts[k], bs->idx[i], r0, nr, counts + item * chunk * H) != 0)
                    goto read_fail;
        for (size_t i = 0; i < ps->n; i++)
            for (int k = 0; k < 2; k++, item++)
                if (gs_run_read_hist(run, axis, pparts[k], ps->idx[i], r0, nr, counts + item * chunk * H) != 0)
                    goto read_fail;
        for (size_t r = 0; r < nr; r++)
            for (size_t bin = 0; bin < H; bin++) {
                put_number(out, x[r]);
                fprintf(out, ",%zu,", bin);
                put_number(out, edges[bin]);
                fputc(',', out);
                put_number(out, edges[bin + 1]);
                for (size_t it = 0; it < nitems; it++)
                    fprintf(out, ",%lld", (long long)counts[it * chunk * H + r * H + bin]);
                fputc('\n', out);
            }
        if (ferror(out))
            break;
    }
    rc = ferror(out) ? -1 : 0;
    goto done;
read_fail:
    *read_failed = 1;
done:
    free(counts);
    free(x);
    return rc;
}

int gs_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "what", required_argument, NULL, 'w' },
        { "select", required_argument, NULL, 's' },
        { "by", required_argument, NULL, 'b' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const what_names[] = { "train", "epochs", "blocks", "params", "hist" };
    const char *verb = "export";
    const char *select = NULL, *output = NULL, *by = NULL;
    int what = -1, c;

    optind = 0;   /* GNU getopt: full re-initialisation */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:s:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            what = -1;
            for (int i = 0; i < 5; i++)
                if (!strcmp(optarg, what_names[i]))
                    what = i;
            if (what < 0)
                return gs_cli_usage_error(verb, "--what '%s': expected train, epochs, blocks, params or hist",
                                          optarg);
            break;
        case 's':
            select = optarg;
            break;
        case 'b':
            if (strcmp(optarg, "step") && strcmp(optarg, "epoch"))
                return gs_cli_usage_error(verb, "--by '%s': expected step or epoch", optarg);
            by = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            fputs(export_usage, stdout);
            return 0;
        default:
            return gs_cli_getopt_error(verb, argv, c);
        }
    }
    if (argc - optind != 1)
        return gs_cli_usage_error(verb, argc - optind == 0 ? "no RUN.h5 given" : "give exactly one RUN.h5");
    if (what < 0)
        return gs_cli_usage_error(verb, "--what is required (train, epochs, blocks, params or hist)");
    if (!output)
        return gs_cli_usage_error(verb, "-o FILE.csv is required ('-o -' writes to stdout)");
    int by_epoch = by && !strcmp(by, "epoch");
    if (what == EXP_TRAIN && by_epoch)
        return gs_cli_usage_error(verb, "--what train is per step; use --what epochs for per-epoch rows");
    if (what == EXP_EPOCHS && by && !by_epoch)
        return gs_cli_usage_error(verb, "--what epochs is per epoch; use --what train for per-step rows");

    char err[1024];
    gs_run *run = gs_run_open(argv[optind], err, sizeof err);
    if (!run) {
        gs_cli_error(verb, "%s", err);
        return 2;
    }
    export_plan plan = { 0 };
    gs_selection bs = { 0 }, ps = { 0 };
    FILE *out = NULL;
    int rc = 2, read_failed = 0, wrc = 0;
    char path[256];

    /* build the plan (checks the data exist) before creating the output file */
    if (what == EXP_TRAIN || what == EXP_EPOCHS) {
        static const char *const train_cols[] = { GS_TRAIN_EPOCH, GS_TRAIN_LOSS, GS_TRAIN_ACCURACY, GS_TRAIN_LR,
                                                  GS_TRAIN_GRAD_NORM_PRE, GS_TRAIN_GRAD_NORM_POST, GS_TRAIN_WALL_S };
        static const char *const epoch_cols[] = { GS_EPOCHS_TRAIN_LOSS, GS_EPOCHS_TRAIN_ACC, GS_EPOCHS_TEST_LOSS,
                                                  GS_EPOCHS_TEST_ACC, GS_EPOCHS_WALL_S, GS_EPOCHS_IMAGES_PER_S };
        int prc = what == EXP_TRAIN
                      ? plan_group(&plan, run, GS_GRP_TRAIN, train_cols, sizeof train_cols / sizeof *train_cols,
                                   select, err, sizeof err)
                      : plan_group(&plan, run, GS_GRP_EPOCHS, epoch_cols, sizeof epoch_cols / sizeof *epoch_cols,
                                   select, err, sizeof err);
        if (prc == -2) {
            gs_cli_error(verb, "--select: %s", err);
            goto done;
        }
        if (prc != 0)
            goto oom;
        if (!gs_run_has(run, what == EXP_TRAIN ? GS_GRP_TRAIN "/" GS_TRAIN_STEP : GS_GRP_EPOCHS "/" GS_EPOCHS_EPOCH)) {
            gs_cli_error(verb, "%s: no %s in this run", gs_run_path(run), what == EXP_TRAIN ? "/train" : "/epochs");
            goto done;
        }
    } else {
        if (gs_select_names(gs_run_block_names(run), gs_run_n_blocks(run), select, &bs, err, sizeof err) != 0 ||
            gs_select_names(gs_run_param_names(run), gs_run_n_params(run), select, &ps, err, sizeof err) != 0) {
            gs_cli_error(verb, "--select: %s", err);
            goto done;
        }
        if ((what == EXP_BLOCKS && bs.n == 0) || (what == EXP_PARAMS && ps.n == 0) ||
            (what == EXP_HIST && bs.n + ps.n == 0)) {
            gs_cli_error(verb, "--select '%s' matches no %s of %s", select ? select : "",
                         what == EXP_BLOCKS ? "block" : what == EXP_PARAMS ? "tensor" : "block or tensor",
                         gs_run_path(run));
            goto done;
        }
    }
    if (what == EXP_BLOCKS) {
        static const char *const stats[5] = { GS_BLK_SKIP_NORM, GS_BLK_RESIDUAL_NORM, GS_BLK_SUM_NORM,
                                              GS_BLK_COSINE, GS_BLK_OVERLAP };
        if (by_epoch) {
            if (plan_add(&plan, run, "steps", GS_DS_PE_STEPS, 0) != 0)
                goto oom;
        }
        for (size_t i = 0; i < bs.n; i++)
            for (int k = 0; k < 5; k++)
                for (int m = 0; m < (by_epoch ? 2 : 1); m++) {
                    char stat[64], header[256];
                    if (by_epoch)
                        snprintf(stat, sizeof stat, "%s_%s", stats[k], m ? "std" : "mean");
                    else
                        snprintf(stat, sizeof stat, "%s", stats[k]);
                    if (by_epoch)
                        gs_run_block_epoch_path(path, sizeof path, stat);
                    else
                        gs_run_block_path(path, sizeof path, stat);
                    if (!gs_run_has(run, path))
                        continue;
                    snprintf(header, sizeof header, "%s/%s", gs_run_block(run, bs.idx[i])->name, stat);
                    if (plan_add(&plan, run, header, path, bs.idx[i]) != 0)
                        goto oom;
                }
    } else if (what == EXP_PARAMS) {
        static const char *const step_stats[6] = { GS_PRM_MEAN, GS_PRM_STD, GS_PRM_NORM, GS_PRM_MIN, GS_PRM_MAX,
                                                   GS_PRM_NONFINITE };
        static const char *const epoch_stats[3] = { "norm_mean", "norm_std", "std_mean" };
        static const char *const sides[2] = { "pre", "post" };
        for (size_t i = 0; i < ps.n; i++) {
            const char *pname = gs_run_param(run, ps.idx[i])->name;
            for (int s = 0; s < 2; s++)
                for (int k = 0; k < (by_epoch ? 3 : 6); k++) {
                    char header[256];
                    const char *stat = by_epoch ? epoch_stats[k] : step_stats[k];
                    if (by_epoch)
                        gs_run_param_epoch_path(path, sizeof path, sides[s], stat);
                    else
                        gs_run_param_path(path, sizeof path, sides[s], stat);
                    if (!gs_run_has(run, path))
                        continue;
                    snprintf(header, sizeof header, "%s/%s/%s", pname, sides[s], stat);
                    if (plan_add(&plan, run, header, path, ps.idx[i]) != 0)
                        goto oom;
                }
            if (!by_epoch && gs_run_has(run, GS_DS_PROBE_UPDATE_RATIO)) {
                char header[256];
                snprintf(header, sizeof header, "%s/update_ratio", pname);
                if (plan_add(&plan, run, header, GS_DS_PROBE_UPDATE_RATIO, ps.idx[i]) != 0)
                    goto oom;
            }
        }
    }
    if ((what == EXP_BLOCKS || what == EXP_PARAMS) && plan.ncols == 0) {
        gs_cli_error(verb, "%s: no %s %s statistics in this run", gs_run_path(run), by_epoch ? "per-epoch" : "per-step",
                     what == EXP_BLOCKS ? "block" : "tensor");
        goto done;
    }
    if (what == EXP_HIST) {
        size_t H = 0;
        gs_run_hist_edges(run, &H);
        const char *probe = by_epoch ? GS_GRP_PE_BLOCKS "/hist_sum" : GS_GRP_PROBE_HIST "/" GS_HIST_SUM;
        if (H == 0 || (!gs_run_has(run, probe) && !gs_run_has(run, by_epoch ? "/probe/epoch/params/pre/hist"
                                                                             : GS_GRP_PROBE_HIST "/" GS_HIST_PRE))) {
            gs_cli_error(verb, "%s: no %s histograms in this run", gs_run_path(run), by_epoch ? "per-epoch" : "per-step");
            goto done;
        }
    }

    if (!strcmp(output, "-")) {
        out = stdout;
    } else {
        out = fopen(output, "w");
        if (!out) {
            gs_cli_error(verb, "-o %s: %s", output, strerror(errno));
            rc = 1;
            goto done;
        }
    }
    if (what == EXP_HIST)
        wrc = export_hist(out, run, by_epoch ? GS_AXIS_PROBE_EPOCH : GS_AXIS_HIST, &bs, &ps, &read_failed);
    else if (what == EXP_TRAIN)
        wrc = write_plan(out, run, GS_AXIS_TRAIN, "step", &plan, &read_failed);
    else if (what == EXP_EPOCHS)
        wrc = write_plan(out, run, GS_AXIS_EPOCHS, "epoch", &plan, &read_failed);
    else
        wrc = write_plan(out, run, by_epoch ? GS_AXIS_PROBE_EPOCH : GS_AXIS_PROBE, by_epoch ? "epoch" : "step",
                         &plan, &read_failed);
    if (read_failed) {
        gs_cli_error(verb, "%s", gs_run_error(run));
        rc = 2;
    } else if (wrc != 0) {
        gs_cli_error(verb, "-o %s: write failed (%s)", output, strerror(errno));
        rc = 1;
    } else {
        rc = 0;
    }
    if (out == stdout) {
        if (fflush(out) != 0 && rc == 0) {
            gs_cli_error(verb, "cannot write to stdout");
            rc = 1;
        }
    } else if (fclose(out) != 0 && rc == 0) {
        gs_cli_error(verb, "-o %s: write failed (%s)", output, strerror(errno));
        rc = 1;
    }
    goto done;
oom:
    gs_cli_error(verb, "out of memory");
    rc = 1;
done:
    plan_free(&plan);
    gs_selection_free(&bs);
    gs_selection_free(&ps);
    gs_run_close(run);
    return rc;
}
