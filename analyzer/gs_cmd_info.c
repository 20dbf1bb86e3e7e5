/* gs_cmd_info.c — `gradscope info RUN.h5`: what the run is (see docs/analyzer.md). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_analyzer_cli.h"
#include "gs_cli_util.h"

static const char info_usage[] =
    "usage: gradscope info RUN.h5\n"
    "\n"
    "What a run log is: its configuration (arch, depth, dataset, optimizer, lr, transform,\n"
    "seed, batch), the model (blocks, parameter tensors, parameter count), the steps and\n"
    "epochs recorded, the last train loss and the last/best test accuracy, which probes\n"
    "are present (per-step block and parameter statistics, histograms and their interval,\n"
    "epoch aggregates, gradient dumps), the status, and whether it is still being written.\n"
    "\n"
    "  -h, --help   this text\n"
    "\n"
    "Exit: 0 ok; 2 when RUN.h5 is missing, not HDF5, damaged or not a gradscope run.\n";

static void print_duration(FILE *out, double s)
{
    if (s < 90)
        fprintf(out, "%.0f s", s);
    else if (s < 5400)
        fprintf(out, "%.0f min", s / 60);
    else if (s < 2 * 86400)
        fprintf(out, "%.1f h", s / 3600);
    else
        fprintf(out, "%.1f days", s / 86400);
}

/* "60 steps (0…59)" from an axis, or "none". */
static int print_axis_span(gs_run *run, FILE *out, gs_axis axis, const char *unit)
{
    size_t n = gs_run_rows(run, axis);
    double first, last;
    if (n == 0) {
        fprintf(out, "no %s", unit);
        return 0;
    }
    if (gs_run_axis_x(run, axis, 0, 1, &first) != 0 || gs_run_axis_x(run, axis, n - 1, 1, &last) != 0)
        return -1;
    /* unit is plural ("steps"); one of them drops the final s */
    fprintf(out, "%zu %.*s (%.0f…%.0f)", n, n == 1 ? (int)strlen(unit) - 1 : (int)strlen(unit), unit, first, last);
    return 0;
}

static void print_thousands(FILE *out, long long v)
{
    char digits[32], buf[48];
    snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    size_t n = strlen(digits), k = 0;
    if (v < 0)
        buf[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    fputs(buf, out);
}

static int info_print(gs_run *run, FILE *out)
{
    char a[128], b[128], c[128], d[128];
    gs_run_summary sum;
    gs_dump_info *dumps = NULL;
    size_t ndumps = 0;
    int rc = -1;

    if (gs_cli_summarize(run, &sum) != 0)
        goto done;

    fprintf(out, "run        %s\n", gs_run_path(run));
    fprintf(out, "format     %s, version %d\n", GS_RUN_FORMAT, gs_run_format_version(run));

    /* status and liveness */
    const char *status = gs_run_status(run);
    fprintf(out, "status     %s", status[0] ? status : "(no /status)");
    if (gs_run_is_live(run)) {
        fputs(" — still being written (last change ", out);
        print_duration(out, gs_run_idle_seconds(run));
        fputs(" ago)", out);
    } else if (!strcmp(status, "running")) {
        fputs(" — but not written for ", out);
        print_duration(out, gs_run_idle_seconds(run));
        fputs(": the writer probably stopped without closing the file (data up to its last flush)", out);
    }
    fputc('\n', out);

    /* configuration */
    const gs_json *cfg = gs_run_config(run);
    if (!cfg) {
        fprintf(out, "config     %s\n", gs_run_config_text(run)[0] ? "(not valid JSON)" : "(none)");
    } else {
        gs_cli_arch_label(run, a, sizeof a);
        gs_cli_config_field(run, "shortcut", b, sizeof b);
        gs_cli_config_field(run, "width", c, sizeof c);
        fprintf(out, "model cfg  %s", a);
        if (b[0] || c[0])
            fprintf(out, " (%s%s%s%s%s)", b[0] ? "shortcut " : "", b, b[0] && c[0] ? ", " : "",
                    c[0] ? "width " : "", c);
        fputc('\n', out);
        gs_cli_config_field(run, "dataset", a, sizeof a);
        if (!a[0])
            gs_cli_config_field(run, "data", a, sizeof a);
        gs_cli_config_field(run, "batch_size", b, sizeof b);
        gs_cli_config_field(run, "epochs", c, sizeof c);
        gs_cli_config_field(run, "steps_per_epoch", d, sizeof d);
        fprintf(out, "data       %s, batch %s, %s epochs%s%s%s\n", a[0] ? a : "?", b[0] ? b : "?",
                c[0] ? c : "?", d[0] ? " × " : "", d, d[0] ? " steps" : "");
        gs_cli_config_field(run, "optimizer", a, sizeof a);
        gs_cli_config_field(run, "optimizer.lr", b, sizeof b);
        gs_cli_config_field(run, "schedule", c, sizeof c);
        fprintf(out, "optimizer  %s, lr %s%s%s\n", a[0] ? a : "?", b[0] ? b : "?", c[0] ? ", schedule " : "", c);
        gs_cli_method(run, a, sizeof a);
        gs_cli_config_field(run, "transform.spec", b, sizeof b);
        fprintf(out, "transform  %s", a);
        if (b[0] && strcmp(a, b) != 0)
            fprintf(out, " (%s)", b);
        fputc('\n', out);
        gs_cli_config_field(run, "seed", a, sizeof a);
        fprintf(out, "seed       %s\n", a[0] ? a : "?");
    }

    /* model */
    size_t nb = gs_run_n_blocks(run), np = gs_run_n_params(run);
    int stages = 0;
    for (size_t i = 0; i < nb; i++)
        if (gs_run_block(run, i)->stage > stages)
            stages = gs_run_block(run, i)->stage;
    fprintf(out, "model      %zu blocks in %d stages, %zu parameter tensors, ", nb, stages, np);
    print_thousands(out, (long long)gs_run_param_count(run));
    fputs(" parameters\n", out);

    /* recorded */
    fputs("recorded   ", out);
    if (print_axis_span(run, out, GS_AXIS_TRAIN, "steps") != 0)
        goto done;
    fputs(", ", out);
    if (print_axis_span(run, out, GS_AXIS_EPOCHS, "epochs") != 0)
        goto done;
    if (!isnan(sum.wall_s)) {
        fputs(", ", out);
        print_duration(out, sum.wall_s);
        fputs(" of training", out);
    }
    fputc('\n', out);
    if (sum.steps > 0)
        fprintf(out, "train      last loss %.4g (step %zu of the log)", sum.last_step_loss, sum.steps - 1);
    else
        fputs("train      no steps recorded", out);
    if (!isnan(sum.final_train_acc))
        fprintf(out, ", last epoch: loss %.4g, accuracy %.4f", sum.final_train_loss, sum.final_train_acc);
    fputc('\n', out);
    if (!isnan(sum.final_test_acc))
        fprintf(out, "test       last accuracy %.4f (epoch %zu), best %.4f (epoch %ld), last loss %.4g\n",
                sum.final_test_acc, sum.epochs - 1, sum.best_test_acc, sum.best_epoch, sum.final_test_loss);
    else
        fputs("test       no finished epoch\n", out);

    /* probes */
    char path[256];
    size_t n_probe = gs_run_rows(run, GS_AXIS_PROBE);
    int has_blocks = gs_run_has(run, gs_run_block_path(path, sizeof path, GS_BLK_OVERLAP));
    int has_params = gs_run_has(run, gs_run_param_path(path, sizeof path, "pre", GS_PRM_NORM));
    fputs("probes     ", out);
    if (has_blocks)
        fprintf(out, "per-step block statistics: %zu steps × %zu blocks\n", n_probe, nb);
    else
        fputs("per-step block statistics: none\n", out);
    if (has_params)
        fprintf(out, "           per-step tensor statistics: %zu steps × %zu tensors (pre/post transform%s)\n",
                n_probe, np, gs_run_has(run, GS_DS_PROBE_UPDATE_RATIO) ? ", update ratio" : "");
    else
        fputs("           per-step tensor statistics: none\n", out);
    size_t nbins = 0;
    gs_run_hist_edges(run, &nbins);
    size_t m = gs_run_rows(run, GS_AXIS_HIST);
    if (gs_run_has(run, GS_DS_HIST_STEP) && m > 0) {
        double s0 = 0, s1 = 0;
        if (gs_run_axis_x(run, GS_AXIS_HIST, 0, 1, &s0) != 0)
            goto done;
        if (m > 1 && gs_run_axis_x(run, GS_AXIS_HIST, 1, 1, &s1) != 0)
            goto done;
        const gs_json *k = gs_json_path(cfg, "probes.hist_every");
        fprintf(out, "           histograms: %zu samples", m);
        if (k)
            fprintf(out, ", every %g steps (K)", gs_json_num(k, 0));
        else if (m > 1)
            fprintf(out, ", every %.0f steps (K, from the steps)", s1 - s0);
        fprintf(out, ", %zu bins\n", nbins);
    } else {
        fputs("           histograms: none\n", out);
    }
    size_t pe = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    fprintf(out, "           epoch aggregates: %zu epochs\n", pe);
    if (gs_run_list_dumps(run, &dumps, &ndumps) != 0)
        goto done;
    fputs("           gradient dumps: ", out);
    if (ndumps == 0)
        fputs("none", out);
    for (size_t i = 0; i < ndumps; i++)
        fprintf(out, "%sstep %lld (%s)", i ? ", " : "", (long long)dumps[i].step,
                dumps[i].written ? "written" : "not yet written");
    fputc('\n', out);
    if (!isnan(sum.mean_overlap))
        fprintf(out, "overlap    mean over blocks at epoch %ld: overlap %.4f, cosine %.4f\n", sum.probe_epoch,
                sum.mean_overlap, sum.mean_cosine);
    rc = ferror(out) ? -1 : 0;
done:
    free(dumps);
    return rc;
}

int gs_cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *verb = "info";
    int c;
    optind = 0;   /* GNU getopt: 0 re-initialises fully, so verbs can run one after another */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(info_usage, stdout);
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
    int rc = info_print(run, stdout);
    if (rc != 0)
        gs_cli_error(verb, "%s", gs_run_error(run)[0] ? gs_run_error(run) : "cannot write to stdout");
    gs_run_close(run);
    return rc == 0 ? 0 : 2;
}
