/* bench_runlog_big — writes a large run log through the real run-log writer, for the
 * GUI's first-paint bar (docs/gui.md) and the reader's speed on big files.
 *
 * usage: bench_runlog_big OUT.h5 [--arch resnet110] [--steps 60000]
 *                         [--steps-per-epoch 1000] [--hist-every 25] [--seed 1]
 *
 * One real forward/backward of the model (batch 2, 32×32×3, random data) gives real
 * gradients and real skip/residual sums; every step then rescales each tensor's
 * gradient and each block's sums by a random factor (so rows differ and compress like
 * real ones), and the probes record them exactly as `gradscope train` does (pre, post
 * with no transform, update), appended and flushed by gs_runlog like a training run;
 * one epoch row per --steps-per-epoch.  Prints the file size and the time taken.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gs_model.h"
#include "gs_probes.h"
#include "gs_rng.h"
#include "gs_runlog.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_runlog_big OUT.h5 [--arch resnet110] [--steps N] [--steps-per-epoch N] "
                    "[--hist-every K] [--seed S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *arch = "resnet110";
    long steps = 60000, spe = 1000, hist_every = 25, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            out = a;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        char *end;
        long n = strtol(v, &end, 10);
        if (!strcmp(a, "--arch"))
            arch = v;
        else if (*end || n < 1)
            return usage();
        else if (!strcmp(a, "--steps"))
            steps = n;
        else if (!strcmp(a, "--steps-per-epoch"))
            spe = n;
        else if (!strcmp(a, "--hist-every"))
            hist_every = n;
        else if (!strcmp(a, "--seed"))
            seed = n;
        else
            return usage();
    }
    if (!out)
        return usage();

    char err[1024];
    gs_model_config cfg;
    if (gs_model_config_from_arch(&cfg, arch, err, sizeof err) != 0) {
        fprintf(stderr, "bench_runlog_big: --arch %s: %s\n", arch, err);
        return 2;
    }
    cfg.in_c = 3;
    cfg.in_h = cfg.in_w = 32;
    cfg.num_classes = 10;
    const int batch = 2;
    gs_model *m = gs_model_create(&cfg, batch, err, sizeof err);
    if (!m) {
        fprintf(stderr, "bench_runlog_big: %s\n", err);
        return 1;
    }
    gs_model_init(m, (uint64_t)seed);
    gs_rng rng;
    gs_rng_seed(&rng, (uint64_t)seed);
    size_t nx = (size_t)batch * 3 * 32 * 32;
    float *x = malloc(sizeof(float) * nx);
    int32_t y[2] = { 3, 7 };
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)gs_rng_normal(&rng);
    gs_model_zero_grad(m);
    gs_model_forward(m, x, y, batch, 1, NULL);
    gs_model_backward(m);

    /* the real step's gradients and block sums, rescaled every step */
    float *grad0 = malloc(sizeof(float) * m->num_param_floats);
    gs_overlap_sums *sums0 = malloc(sizeof *sums0 * (size_t)m->num_blocks);
    memcpy(grad0, m->grad_data, sizeof(float) * m->num_param_floats);
    for (int b = 0; b < m->num_blocks; b++)
        sums0[b] = m->blocks[b].overlap;

    gs_probes *p = gs_probes_create(GS_PROBES_DEFAULT, (int)hist_every, m, err, sizeof err);
    gs_runlog_options lo = { .path = out, .config_json = "{\"arch\": \"bench_runlog_big\"}",
                             .probes = GS_PROBES_DEFAULT, .hist_every = (int)hist_every,
                             .flush_seconds = 10.0, .dump_batch = batch };
    gs_runlog *log = p ? gs_runlog_create(&lo, m, err, sizeof err) : NULL;
    if (!log) {
        fprintf(stderr, "bench_runlog_big: %s\n", err);
        return 1;
    }
    double t0 = now_seconds();
    int rc = 0;
    for (long s = 0; s < steps && rc == 0; s++) {
        int32_t epoch = (int32_t)(s / spe);
        double decay = exp(-(double)s / (double)steps);
        gs_probes_begin_step(p, m, s);
        for (int t = 0; t < m->num_params; t++) {
            const gs_param *pr = &m->params[t];
            float f = (float)(decay * exp(0.2 * gs_rng_normal(&rng)));
            for (size_t k = 0; k < pr->numel; k++)
                pr->grad[k] = f * grad0[pr->offset + k];
        }
        for (int b = 0; b < m->num_blocks; b++) {
            gs_overlap_sums *o = &m->blocks[b].overlap;
            double fs = decay * exp(0.1 * gs_rng_normal(&rng)), fr = decay * exp(0.1 * gs_rng_normal(&rng));
            *o = sums0[b];
            o->skip_sq *= fs * fs;
            o->residual_sq *= fr * fr;
            o->dot *= fs * fr;
            o->sum_sq = o->skip_sq + o->residual_sq + 2 * o->dot;
        }
        gs_probes_record_pre(p, m);
        gs_probes_record_post(p, m);
        gs_probes_record_update(p, m);
        gs_train_row row = { .step = s, .epoch = epoch, .loss = (float)(2.3 * decay), .accuracy = (float)(1 - decay),
                             .lr = 1e-3f, .grad_norm_pre = (float)p->row.grad_norm[GS_PRE],
                             .grad_norm_post = (float)p->row.grad_norm[GS_POST], .wall_s = now_seconds() - t0 };
        if (gs_runlog_append_train(log, &row, err, sizeof err) != 0 || gs_runlog_append_probe(log, p, err, sizeof err) != 0 ||
            gs_runlog_maybe_flush(log, err, sizeof err) != 0)
            rc = 1;
        if (rc == 0 && (s + 1) % spe == 0) {
            gs_epoch_row er = { .epoch = epoch, .train_loss = row.loss, .train_acc = row.accuracy,
                                .test_loss = row.loss, .test_acc = row.accuracy, .wall_s = row.wall_s,
                                .images_per_s = 0 };
            gs_probes_end_epoch(p, epoch);
            if (gs_runlog_append_epoch(log, &er, p, err, sizeof err) != 0)
                rc = 1;
            gs_probes_clear_epoch(p);
            fprintf(stderr, "epoch %d/%ld  %.0f s\n", epoch + 1, steps / spe, now_seconds() - t0);
        }
    }
    if (rc != 0)
        fprintf(stderr, "bench_runlog_big: %s\n", err);
    if (gs_runlog_close(log, rc ? "failed" : "finished", err, sizeof err) != 0) {
        fprintf(stderr, "bench_runlog_big: %s\n", err);
        rc = 1;
    }
    struct stat st;
    if (rc == 0 && stat(out, &st) == 0)
        printf("{\"path\": \"%s\", \"arch\": \"%s\", \"steps\": %ld, \"blocks\": %d, \"tensors\": %d, "
               "\"bytes\": %lld, \"seconds\": %.1f}\n",
               out, arch, steps, m->num_blocks, m->num_params, (long long)st.st_size, now_seconds() - t0);
    gs_probes_free(p);
    gs_model_free(m);
    free(grad0);
    free(sums0);
    free(x);
    return rc;
}
