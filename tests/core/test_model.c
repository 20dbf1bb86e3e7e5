/* Whole-network checks: finite differences of the loss with respect to sampled
 * elements of every parameter tensor, for basic blocks with shortcut A and B and
 * bottleneck blocks with A and B; and the block statistics' consistency.
 *
 * The network is piecewise smooth: a central difference whose ±h steps move some
 * ReLU input across 0 (and batch norm couples every element of a channel, so one
 * parameter moves hundreds of them) measures a secant, not the derivative.  So the
 * check is statistical: in EVERY tensor most sampled entries must agree to 2e-2 (a
 * wrong term shows up as a whole tensor that disagrees), at least 90% of all of
 * them, and the median to 2e-3.  The exact check (≤ 1e-4 on every entry) is the PyTorch
 * parity test, tests/reference/parity.py. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gs_model.h"
#include "gs_rng.h"
#include "gs_test.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double model_loss(gs_model *m, const float *x, const int32_t *y, int B)
{
    return gs_model_forward(m, x, y, B, 1, NULL);
}

static void check_arch(const char *arch, char shortcut)
{
    char err[256];
    gs_model_config cfg;
    if (gs_model_config_from_arch(&cfg, arch, err, sizeof err) != 0) {
        GS_CHECK(0, "%s: %s", arch, err);
        return;
    }
    cfg.shortcut = shortcut;
    cfg.width = 4;
    cfg.in_c = 2;
    cfg.in_h = cfg.in_w = 8;
    cfg.num_classes = 5;
    const int B = 4;
    gs_model *m = gs_model_create(&cfg, B, err, sizeof err);
    GS_CHECK(m != NULL, "%s/%c: model created (%s)", arch, shortcut, m ? "ok" : err);
    if (!m)
        return;
    gs_model_init(m, 7);
    /* make BN affine parameters non-trivial so their gradients are exercised */
    gs_rng rng;
    gs_rng_seed(&rng, 99);
    for (int i = 0; i < m->num_params; i++) {
        gs_param *p = &m->params[i];
        if (p->kind == GS_PARAM_BN_WEIGHT || p->kind == GS_PARAM_BN_BIAS)
            for (size_t j = 0; j < p->numel; j++)
                p->data[j] += (float)(0.3 * gs_rng_normal(&rng));
    }
    size_t nx = (size_t)B * cfg.in_c * cfg.in_h * cfg.in_w;
    float *x = malloc(sizeof(float) * nx);
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)gs_rng_normal(&rng);
    int32_t y[4] = {0, 3, 1, 4};

    gs_model_zero_grad(m);
    double loss = gs_model_forward(m, x, y, B, 1, NULL);
    gs_model_backward(m);
    GS_CHECK(isfinite(loss) && loss > 0, "%s/%c: loss %.4f finite", arch, shortcut, loss);

    /* names follow PyTorch's state_dict */
    int have_shortcut_param = gs_model_find_param(m, "layer2.0.shortcut.0.weight") != NULL;
    GS_CHECK(gs_model_find_param(m, "conv1.weight") && gs_model_find_param(m, "fc.bias") &&
             gs_model_find_param(m, "layer1.0.bn1.weight") && have_shortcut_param == (shortcut == 'B'),
             "%s/%c: PyTorch-style parameter names (shortcut params %s)", arch, shortcut,
             have_shortcut_param ? "present" : "absent");

    float *grad = malloc(sizeof(float) * m->num_param_floats);
    memcpy(grad, m->grad_data, sizeof(float) * m->num_param_floats);
    const float h = 3e-4f;
    int checked = 0, agree = 0, tensors_disagreeing = 0;
    const char *first_bad = "";
    double *errs = malloc(sizeof(double) * (m->num_params * 8 + 8));
    double worst = 0.0;
    const char *worst_name = "";
    for (int i = 0; i < m->num_params; i++) {
        gs_param *p = &m->params[i];
        size_t stride = p->numel / 6 + 1;
        int tensor_checked = 0, tensor_agree = 0;
        for (size_t j = 0; j < p->numel; j += stride) {
            float keep = p->data[j];
            p->data[j] = keep + h;
            double lp = model_loss(m, x, y, B);
            p->data[j] = keep - h;
            double lm = model_loss(m, x, y, B);
            p->data[j] = keep;
            double num = (lp - lm) / (2 * h);
            double ana = grad[p->offset + j];
            double e = fabs(num - ana) / (fabs(num) + fabs(ana) + 1e-2);
            errs[checked++] = e;
            agree += e < 2e-2;
            tensor_checked++;
            tensor_agree += e < 2e-2;
            if (e > worst) {
                worst = e;
                worst_name = p->name;
            }
        }
        if (2 * tensor_agree <= tensor_checked && tensors_disagreeing++ == 0)
            first_bad = p->name;
    }
    qsort(errs, checked, sizeof(double), cmp_double);
    double median = errs[checked / 2];
    GS_CHECK(tensors_disagreeing == 0, "%s/%c: every tensor's sampled gradients mostly agree with finite "
             "differences (%d tensors do not%s%s)", arch, shortcut, tensors_disagreeing,
             tensors_disagreeing ? ", first: " : "", first_bad);
    GS_CHECK(agree >= 0.9 * checked && median < 2e-3,
             "%s/%c: %d/%d sampled parameter gradients agree with finite differences to 2e-2, median %.1e, "
             "worst %.1e (%s)", arch, shortcut, agree, checked, median, worst, worst_name);
    free(errs);

    /* every block: Σ(skip+res)² = Σskip² + Σres² + 2Σskip·res */
    double worst_sum = 0.0;
    for (int i = 0; i < m->num_blocks; i++) {
        const gs_overlap_sums *s = &m->blocks[i].overlap;
        double derived = s->skip_sq + s->residual_sq + 2 * s->dot;
        worst_sum = fmax(worst_sum, fabs(derived - s->sum_sq) / (s->sum_sq + 1e-30));
    }
    GS_CHECK(worst_sum < 1e-4, "%s/%c: overlap sums consistent, worst %.2e", arch, shortcut, worst_sum);
    free(grad);
    free(x);
    gs_model_free(m);
}

static void check_configs(void)
{
    char err[256];
    gs_model_config cfg;
    static const struct { const char *arch; int depth; int blocks; } want[] = {
        {"resnet20", 20, 9}, {"resnet32", 32, 15}, {"resnet44", 44, 21}, {"resnet56", 56, 27},
        {"resnet110", 110, 54}, {"resnet152", 152, 50}, {"resnet-basic:2", 14, 6}, {"resnet-bottleneck:3", 29, 9},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int rc = gs_model_config_from_arch(&cfg, want[i].arch, err, sizeof err);
        int blocks = 0;
        for (int s = 0; rc == 0 && s < cfg.num_stages; s++)
            blocks += cfg.blocks_per_stage[s];
        GS_CHECK(rc == 0 && gs_model_config_depth(&cfg) == want[i].depth && blocks == want[i].blocks,
                 "%s: depth %d, %d blocks", want[i].arch, rc == 0 ? gs_model_config_depth(&cfg) : -1, blocks);
    }
    const char *bad[] = {"resnet21", "resnet-basic:0", "resnet-basic:x", "resnet-bottleneck:", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = gs_model_config_from_arch(&cfg, bad[i], err, sizeof err);
        GS_CHECK(rc == -1 && strstr(err, "--arch") != NULL, "bad arch '%s' refused: %s", bad[i], err);
    }
    /* resnet20 (option A) has 269,722 parameters, as the PyTorch CIFAR reference models */
    gs_model_config_from_arch(&cfg, "resnet20", err, sizeof err);
    gs_model *m = gs_model_create(&cfg, 2, err, sizeof err);
    GS_CHECK(m && m->num_param_floats == 269722, "resnet20 on 3x32x32/10 classes: %zu parameters (want 269722)",
             m ? m->num_param_floats : 0);
    gs_model_free(m);
}

int main(void)
{
    check_configs();
    check_arch("resnet-basic:1", 'A');
    check_arch("resnet-basic:1", 'B');
    check_arch("resnet-bottleneck:1", 'B');
    check_arch("resnet-bottleneck:1", 'A');
    check_arch("resnet-basic:2", 'A');
    return gs_test_finish();
}
