/* bench_step — times gradscope training steps (forward, backward, transform, optimizer)
 * of a ResNet on random data and prints one JSON line:
 *   {"arch":..., "batch":..., "images_per_s":..., "step_ms_median":..., "gflops":...,
 *    "gflop_per_step":..., "probes":..., "peak_rss_mb":...}
 *
 * usage: bench_step [--arch resnet20] [--batch 128] [--size 32] [--channels 3]
 *                   [--threads 2] [--steps 20] [--warmup 3] [--probes off|default|full]
 *                   [--transform none|znorm|...]
 *        bench_step --probe-overhead [--hist-every 50] [--log-dir /tmp] [same options]
 *
 * --probe-overhead measures what the probes cost, in one process: every round runs a
 * step without probes, a default-probe step without histograms and a step with
 * histograms (what a default step costs every K-th step, and every step with
 * --probes full), in turn, each appending to its own run log (files in --log-dir,
 * flushed as `gradscope train` does, removed at the end).  It prints the median of
 * each and the overheads against "off":
 *   full    = hist / off − 1
 *   default = (plain + (hist − plain) / K) / off − 1   (histograms every K steps)
 *
 * GFLOP per step counts 2·MACs of every convolution and the fc layer, forward (×1)
 * and backward (×2: input and weight gradients; the stem has no input gradient). */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gs_model.h"
#include "gs_optim.h"
#include "gs_probes.h"
#include "gs_rng.h"
#include "gs_runlog.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double conv_flops(const gs_conv_shape *s, int with_dx)
{
    double macs = (double)s->batch * s->out_c * s->out_h * s->out_w * s->in_c * s->kernel * s->kernel;
    return 2.0 * macs * (with_dx ? 3.0 : 2.0);
}

static double step_flops(const gs_model *m, int B)
{
    double total = 0.0;
    gs_conv_shape s = m->stem_conv.shape;
    s.batch = B;
    total += conv_flops(&s, 0);
    for (int i = 0; i < m->num_blocks; i++) {
        const gs_block *blk = &m->blocks[i];
        for (int k = 0; k < blk->num_convs; k++) {
            s = blk->conv[k].shape;
            s.batch = B;
            total += conv_flops(&s, 1);
        }
        if (blk->shortcut == GS_SHORTCUT_B) {
            s = blk->sc_conv.shape;
            s.batch = B;
            total += conv_flops(&s, 1);
        }
    }
    total += 2.0 * B * m->feat_c * m->cfg.num_classes * 3.0;
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct step_context {
    gs_model        *model;
    gs_optim        *opt;
    const gs_transform *transform;
    float            lr;
    const float     *x;
    const int32_t   *y;
    int              batch;
} step_context;

/* One training step with (optionally) probes and a run log; returns its wall time. */
static double timed_step(const step_context *c, gs_probes *probes, gs_runlog *log, int64_t step)
{
    char err[512];
    double t0 = now_seconds();
    gs_model *m = c->model;
    if (probes)
        gs_probes_begin_step(probes, m, step);
    else
        m->hist_enabled = 0;   /* as with --probes off: no block histograms (a probed step may have left them on) */
    gs_model_zero_grad(m);
    gs_model_forward(m, c->x, c->y, c->batch, 1, NULL);
    gs_model_backward(m);
    if (probes)
        gs_probes_record_pre(probes, m);
    gs_transform_apply(c->transform, m->params, m->num_params);
    if (probes)
        gs_probes_record_post(probes, m);
    gs_optim_step(c->opt, m->param_data, m->grad_data, c->lr);
    if (probes)
        gs_probes_record_update(probes, m);
    if (log && probes && (gs_runlog_append_probe(log, probes, err, sizeof err) != 0 ||
                          gs_runlog_maybe_flush(log, err, sizeof err) != 0))
        fprintf(stderr, "bench_step: %s\n", err);
    return now_seconds() - t0;
}

static double median_of(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --probe-overhead: see the comment at the top. */
static int probe_overhead(const step_context *c, const char *arch, int hist_every, int steps,
                          int warmup, const char *log_dir)
{
    char err[512], path_plain[1024], path_hist[1024];
    snprintf(path_plain, sizeof path_plain, "%s/bench_step_%d_default.h5", log_dir, (int)getpid());
    snprintf(path_hist, sizeof path_hist, "%s/bench_step_%d_full.h5", log_dir, (int)getpid());
    gs_probes *plain = gs_probes_create(GS_PROBES_DEFAULT, hist_every, c->model, err, sizeof err);
    gs_probes *hist = plain ? gs_probes_create(GS_PROBES_FULL, 1, c->model, err, sizeof err) : NULL;
    gs_runlog_options lo = {.path = path_plain, .config_json = "{}", .probes = GS_PROBES_DEFAULT,
                            .hist_every = hist_every, .flush_seconds = 10.0, .dump_batch = c->batch};
    gs_runlog *log_plain = hist ? gs_runlog_create(&lo, c->model, err, sizeof err) : NULL;
    lo.path = path_hist;
    lo.probes = GS_PROBES_FULL;
    lo.hist_every = 1;
    gs_runlog *log_hist = log_plain ? gs_runlog_create(&lo, c->model, err, sizeof err) : NULL;
    if (!log_hist) {
        fprintf(stderr, "bench_step: %s\n", err);
        if (log_plain)
            gs_runlog_close(log_plain, "failed", err, sizeof err);
        gs_probes_free(plain);
        gs_probes_free(hist);
        return 1;
    }
    double *t_off = malloc(sizeof(double) * steps), *t_plain = malloc(sizeof(double) * steps),
           *t_hist = malloc(sizeof(double) * steps);
    for (int r = 0; r < warmup + steps; r++) {
        /* a default step that is not a histogram step: its index is never a multiple of K */
        int64_t plain_step = (int64_t)r * hist_every + (hist_every > 1 ? 1 : 0);
        double off = timed_step(c, NULL, NULL, r);
        double p = hist_every > 1 ? timed_step(c, plain, log_plain, plain_step) : NAN;
        double h = timed_step(c, hist, log_hist, r);
        if (r >= warmup) {
            t_off[r - warmup] = off;
            t_plain[r - warmup] = p;
            t_hist[r - warmup] = h;
        }
    }
    double off = median_of(t_off, steps), h = median_of(t_hist, steps);
    double p = hist_every > 1 ? median_of(t_plain, steps) : h;
    double amortized = p + (h - p) / hist_every;
    printf("{\"impl\": \"gradscope\", \"arch\": \"%s\", \"batch\": %d, \"hist_every\": %d, \"rounds\": %d, "
           "\"off_ms\": %.2f, \"default_plain_ms\": %.2f, \"hist_ms\": %.2f, \"default_amortized_ms\": %.2f, "
           "\"default_overhead_pct\": %.2f, \"full_overhead_pct\": %.2f}\n",
           arch, c->batch, hist_every, steps, off * 1e3, p * 1e3, h * 1e3, amortized * 1e3,
           100.0 * (amortized / off - 1.0), 100.0 * (h / off - 1.0));
    int rc = 0;
    if (gs_runlog_close(log_plain, "finished", err, sizeof err) != 0 ||
        gs_runlog_close(log_hist, "finished", err, sizeof err) != 0) {
        fprintf(stderr, "bench_step: %s\n", err);
        rc = 1;
    }
    remove(path_plain);
    remove(path_hist);
    free(t_off);
    free(t_plain);
    free(t_hist);
    gs_probes_free(plain);
    gs_probes_free(hist);
    return rc;
}

int main(int argc, char **argv)
{
    const char *arch = "resnet20", *probes_name = "off", *transform_name = "none";
    const char *log_dir = "/tmp";
    int batch = 128, size = 32, channels = 3, threads = 2, steps = 20, warmup = 3;
    int overhead = 0, hist_every = 50;
    static const struct option opts[] = {
        {"arch", required_argument, 0, 'a'}, {"batch", required_argument, 0, 'b'},
        {"size", required_argument, 0, 's'}, {"channels", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'}, {"steps", required_argument, 0, 'n'},
        {"warmup", required_argument, 0, 'w'}, {"probes", required_argument, 0, 'p'},
        {"transform", required_argument, 0, 'x'}, {"probe-overhead", no_argument, 0, 'o'},
        {"hist-every", required_argument, 0, 'k'}, {"log-dir", required_argument, 0, 'l'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a': arch = optarg; break;
        case 'b': batch = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'c': channels = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'n': steps = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'p': probes_name = optarg; break;
        case 'x': transform_name = optarg; break;
        case 'o': overhead = 1; break;
        case 'k': hist_every = atoi(optarg); break;
        case 'l': log_dir = optarg; break;
        default:
            fprintf(stderr, "bench_step: see the comment at the top of bench/bench_step.c\n");
            return 2;
        }
    }
    if (batch < 1 || size < 8 || channels < 1 || threads < 1 || steps < 1 || warmup < 0 || hist_every < 1) {
        fprintf(stderr, "bench_step: bad numbers\n");
        return 2;
    }
    char err[512];
    gs_model_config cfg;
    gs_transform tr;
    gs_probe_mode pm;
    if (gs_model_config_from_arch(&cfg, arch, err, sizeof err) != 0 ||
        gs_transform_parse(&tr, transform_name, err, sizeof err) != 0) {
        fprintf(stderr, "bench_step: %s\n", err);
        return 2;
    }
    if (gs_probe_mode_parse(&pm, probes_name) != 0) {
        fprintf(stderr, "bench_step: --probes %s: expected off, default or full\n", probes_name);
        return 2;
    }
    cfg.in_c = channels;
    cfg.in_h = cfg.in_w = size;
    cfg.num_classes = 10;
    openblas_set_num_threads(1);
    omp_set_num_threads(threads);
    gs_model *m = gs_model_create(&cfg, batch, err, sizeof err);
    if (!m) {
        fprintf(stderr, "bench_step: %s\n", err);
        return 1;
    }
    gs_model_init(m, 0);
    gs_optim opt;
    gs_optim_config oc = {.kind = GS_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f};
    gs_optim_init(&opt, &oc, m->num_param_floats);
    gs_probes *probes = pm == GS_PROBES_OFF ? NULL : gs_probes_create(pm, hist_every, m, err, sizeof err);

    size_t n = (size_t)batch * channels * size * size;
    float *x = malloc(sizeof(float) * n);
    int32_t *y = malloc(sizeof(int32_t) * batch);
    gs_rng rng;
    gs_rng_seed(&rng, 1);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)gs_rng_normal(&rng);
    for (int i = 0; i < batch; i++)
        y[i] = (int32_t)gs_rng_below(&rng, 10);

    step_context ctx = {.model = m, .opt = &opt, .transform = &tr, .lr = oc.lr, .x = x, .y = y,
                        .batch = batch};
    if (overhead) {
        int rc = probe_overhead(&ctx, arch, hist_every, steps, warmup, log_dir);
        free(x);
        free(y);
        gs_probes_free(probes);
        gs_optim_free(&opt);
        gs_model_free(m);
        return rc;
    }
    double *times = malloc(sizeof(double) * steps);
    for (int it = 0; it < warmup + steps; it++) {
        double t = timed_step(&ctx, probes, NULL, it);
        if (it >= warmup)
            times[it - warmup] = t;
    }
    double mean = 0.0;
    for (int i = 0; i < steps; i++)
        mean += times[i] / steps;
    qsort(times, steps, sizeof(double), cmp_double);
    double median = times[steps / 2];
    double gflop = step_flops(m, batch) * 1e-9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\": \"gradscope\", \"arch\": \"%s\", \"batch\": %d, \"size\": %d, \"channels\": %d, "
           "\"threads\": %d, \"probes\": \"%s\", \"transform\": \"%s\", \"step_ms_median\": %.2f, \"step_ms_mean\": %.2f, "
           "\"images_per_s\": %.1f, \"gflop_per_step\": %.3f, \"gflops\": %.1f, \"peak_rss_mb\": %.1f}\n",
           arch, batch, size, channels, threads, probes_name, transform_name, median * 1e3, mean * 1e3, batch / median,
           gflop, gflop / median, ru.ru_maxrss / 1024.0);
    free(times);
    free(x);
    free(y);
    gs_probes_free(probes);
    gs_optim_free(&opt);
    gs_model_free(m);
    return 0;
}
