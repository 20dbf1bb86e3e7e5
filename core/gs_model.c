#include "gs_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "gs_rng.h"

/* ---- configuration ---------------------------------------------------------------- */

int gs_model_config_from_arch(gs_model_config *cfg, const char *arch, char *err, size_t errsz)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
    cfg->width = 16;
    cfg->bn_momentum = 0.1f;
    cfg->bn_eps = 1e-5f;
    cfg->num_stages = 3;
    cfg->in_c = 3;
    cfg->in_h = cfg->in_w = 32;
    cfg->num_classes = 10;

    static const struct { const char *name; int n; } basic[] = {
        {"resnet20", 3}, {"resnet32", 5}, {"resnet44", 7}, {"resnet56", 9}, {"resnet110", 18},
    };
    for (size_t i = 0; i < sizeof basic / sizeof basic[0]; i++) {
        if (strcmp(arch, basic[i].name) == 0) {
            cfg->block = GS_BLOCK_BASIC;
            cfg->shortcut = 'A';
            for (int s = 0; s < 3; s++)
                cfg->blocks_per_stage[s] = basic[i].n;
            return 0;
        }
    }
    if (strcmp(arch, "resnet152") == 0) {
        static const int layout[4] = {3, 8, 36, 3};
        cfg->block = GS_BLOCK_BOTTLENECK;
        cfg->shortcut = 'B';
        cfg->num_stages = 4;
        memcpy(cfg->blocks_per_stage, layout, sizeof layout);
        return 0;
    }
    const char *prefixes[2] = {"resnet-basic:", "resnet-bottleneck:"};
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(prefixes[k]);
        if (strncmp(arch, prefixes[k], len) != 0)
            continue;
        char *end = NULL;
        long n = strtol(arch + len, &end, 10);
        if (end == arch + len || *end != '\0' || n < 1 || n > 1000) {
            snprintf(err, errsz, "--arch %s: expected %sN with N a block count in 1..1000", arch, prefixes[k]);
            return -1;
        }
        cfg->block = k == 0 ? GS_BLOCK_BASIC : GS_BLOCK_BOTTLENECK;
        cfg->shortcut = k == 0 ? 'A' : 'B';
        for (int s = 0; s < 3; s++)
            cfg->blocks_per_stage[s] = (int)n;
        return 0;
    }
    snprintf(err, errsz, "--arch %s: unknown architecture (resnet20, resnet32, resnet44, resnet56, "
             "resnet110, resnet152, resnet-basic:N, resnet-bottleneck:N)", arch);
    return -1;
}

int gs_model_config_depth(const gs_model_config *cfg)
{
    int blocks = 0;
    for (int s = 0; s < cfg->num_stages; s++)
        blocks += cfg->blocks_per_stage[s];
    return blocks * (cfg->block == GS_BLOCK_BASIC ? 2 : 3) + 2;
}

const char *gs_param_kind_name(gs_param_kind kind)
{
    switch (kind) {
    case GS_PARAM_CONV_WEIGHT: return "conv_weight";
    case GS_PARAM_BN_WEIGHT:   return "bn_weight";
    case GS_PARAM_BN_BIAS:     return "bn_bias";
    case GS_PARAM_FC_WEIGHT:   return "fc_weight";
    case GS_PARAM_FC_BIAS:     return "fc_bias";
    }
    return "unknown";
}

/* ---- construction ------------------------------------------------------------------ */

typedef struct builder {
    gs_model *m;
    int       cap_params, cap_bn;
    int       failed;
} builder;

static float *model_alloc(gs_model *m, size_t floats)
{
    if (m->num_allocs == m->cap_allocs) {
        int cap = m->cap_allocs ? 2 * m->cap_allocs : 64;
        void **grown = realloc(m->allocs, sizeof(void *) * cap);
        if (!grown)
            return NULL;
        m->allocs = grown;
        m->cap_allocs = cap;
    }
    float *p = calloc(floats ? floats : 1, sizeof(float));
    if (p)
        m->allocs[m->num_allocs++] = p;
    return p;
}

static gs_param *add_param(builder *b, const char *prefix, const char *suffix, gs_param_kind kind,
                           int ndim, const int *shape, int block)
{
    gs_model *m = b->m;
    if (m->num_params >= b->cap_params) {
        b->failed = 1;
        return NULL;
    }
    gs_param *p = &m->params[m->num_params++];
    /* names are at most "layerS.BB.shortcut.1.weight": far below GS_NAME_LEN */
    snprintf(p->name, sizeof p->name, "%.40s%s%.16s", prefix, *prefix ? "." : "", suffix);
    p->kind = kind;
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->offset = m->num_param_floats;
    p->block = block;
    m->num_param_floats += p->numel;
    return p;
}

/* conv named "<prefix>.<name>.weight" */
static void add_conv(builder *b, gs_conv_layer *conv, const char *prefix, const char *name,
                     int in_c, int in_h, int in_w, int out_c, int k, int stride, int block)
{
    char full[2 * GS_NAME_LEN];
    snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", name);
    int shape[4] = {out_c, in_c, k, k};
    conv->weight = add_param(b, full, "weight", GS_PARAM_CONV_WEIGHT, 4, shape, block);
    gs_conv_shape_init(&conv->shape, b->m->max_batch, in_c, in_h, in_w, out_c, k, stride, k / 2);
}

static void add_bn(builder *b, gs_bn_layer *bn, const char *prefix, const char *name, int c, int block)
{
    gs_model *m = b->m;
    char full[2 * GS_NAME_LEN];
    snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", name);
    bn->gamma = add_param(b, full, "weight", GS_PARAM_BN_WEIGHT, 1, &c, block);
    bn->beta = add_param(b, full, "bias", GS_PARAM_BN_BIAS, 1, &c, block);
    if (m->num_bn >= b->cap_bn) {
        b->failed = 1;
        return;
    }
    bn->stats = &m->bn_stats[m->num_bn++];
    snprintf(bn->stats->name, sizeof bn->stats->name, "%.63s", full);
    bn->stats->channels = c;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Buffers of one BN layer: running statistics and saved batch statistics. */
static int alloc_bn(gs_model *m, gs_bn_layer *bn)
{
    int c = bn->stats->channels;
    bn->stats->running_mean = model_alloc(m, c);
    bn->stats->running_var = model_alloc(m, c);
    bn->save_mean = model_alloc(m, c);
    bn->save_invstd = model_alloc(m, c);
    if (!bn->stats->running_mean || !bn->stats->running_var || !bn->save_mean || !bn->save_invstd)
        return -1;
    for (int i = 0; i < c; i++)
        bn->stats->running_var[i] = 1.0f;
    return 0;
}

gs_model *gs_model_create(const gs_model_config *cfg, int max_batch, char *err, size_t errsz)
{
    if (max_batch < 1 || cfg->num_stages < 1 || cfg->num_stages > GS_MAX_STAGES || cfg->width < 1 ||
        cfg->in_c < 1 || cfg->in_h < 4 || cfg->in_w < 4 || cfg->num_classes < 2) {
        snprintf(err, errsz, "model %s: invalid configuration (batch %d, width %d, input %dx%dx%d, %d classes)",
                 cfg->arch, max_batch, cfg->width, cfg->in_c, cfg->in_h, cfg->in_w, cfg->num_classes);
        return NULL;
    }
    gs_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errsz, "model %s: out of memory", cfg->arch);
        return NULL;
    }
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->threads = omp_get_max_threads();
    int total_blocks = 0;
    for (int s = 0; s < cfg->num_stages; s++)
        total_blocks += cfg->blocks_per_stage[s];
    m->num_blocks = total_blocks;

    builder b = {.m = m, .cap_params = 3 + total_blocks * 12 + 2, .cap_bn = 1 + total_blocks * 4};
    m->params = calloc(b.cap_params, sizeof *m->params);
    m->bn_stats = calloc(b.cap_bn, sizeof *m->bn_stats);
    m->blocks = calloc(total_blocks, sizeof *m->blocks);
    if (!m->params || !m->bn_stats || !m->blocks)
        goto oom;

    const int exp = cfg->block == GS_BLOCK_BASIC ? 1 : 4;
    const size_t B = (size_t)max_batch;
    size_t max_act = B * cfg->in_c * cfg->in_h * cfg->in_w;
    size_t max_ws = 0;

    /* stem */
    add_conv(&b, &m->stem_conv, "", "conv1", cfg->in_c, cfg->in_h, cfg->in_w, cfg->width, 3, 1, -1);
    add_bn(&b, &m->stem_bn, "", "bn1", cfg->width, -1);
    max_ws = max_size(max_ws, gs_conv2d_workspace_floats(&m->stem_conv.shape, m->threads));
    int c = cfg->width, h = cfg->in_h, w = cfg->in_w;
    max_act = max_size(max_act, B * c * h * w);

    /* stages */
    int bi = 0;
    for (int s = 0; s < cfg->num_stages; s++) {
        int planes = cfg->width << s;
        for (int k = 0; k < cfg->blocks_per_stage[s]; k++, bi++) {
            gs_block *blk = &m->blocks[bi];
            snprintf(blk->name, sizeof blk->name, "layer%d.%d", s + 1, k);
            blk->stage = s + 1;
            blk->index = k;
            blk->kind = cfg->block;
            blk->stride = (k == 0 && s > 0) ? 2 : 1;
            blk->in_c = c;
            blk->in_h = h;
            blk->in_w = w;
            blk->out_c = planes * exp;
            blk->out_h = (h - 1) / blk->stride + 1;
            blk->out_w = (w - 1) / blk->stride + 1;
            if (cfg->block == GS_BLOCK_BASIC) {
                blk->num_convs = 2;
                add_conv(&b, &blk->conv[0], blk->name, "conv1", c, h, w, planes, 3, blk->stride, bi);
                add_bn(&b, &blk->bn[0], blk->name, "bn1", planes, bi);
                add_conv(&b, &blk->conv[1], blk->name, "conv2", planes, blk->out_h, blk->out_w, planes, 3, 1, bi);
                add_bn(&b, &blk->bn[1], blk->name, "bn2", planes, bi);
            } else {
                blk->num_convs = 3;
                add_conv(&b, &blk->conv[0], blk->name, "conv1", c, h, w, planes, 1, 1, bi);
                add_bn(&b, &blk->bn[0], blk->name, "bn1", planes, bi);
                add_conv(&b, &blk->conv[1], blk->name, "conv2", planes, h, w, planes, 3, blk->stride, bi);
                add_bn(&b, &blk->bn[1], blk->name, "bn2", planes, bi);
                add_conv(&b, &blk->conv[2], blk->name, "conv3", planes, blk->out_h, blk->out_w,
                         blk->out_c, 1, 1, bi);
                add_bn(&b, &blk->bn[2], blk->name, "bn3", blk->out_c, bi);
            }
            if (blk->stride == 1 && c == blk->out_c)
                blk->shortcut = GS_SHORTCUT_IDENTITY;
            else if (cfg->shortcut == 'A')
                blk->shortcut = GS_SHORTCUT_A;
            else
                blk->shortcut = GS_SHORTCUT_B;
            if (blk->shortcut == GS_SHORTCUT_B) {
                char prefix[GS_NAME_LEN + 16];
                snprintf(prefix, sizeof prefix, "%s.shortcut", blk->name);
                add_conv(&b, &blk->sc_conv, prefix, "0", c, h, w, blk->out_c, 1, blk->stride, bi);
                add_bn(&b, &blk->sc_bn, prefix, "1", blk->out_c, bi);
                max_ws = max_size(max_ws, gs_conv2d_workspace_floats(&blk->sc_conv.shape, m->threads));
            }
            for (int i = 0; i < blk->num_convs; i++) {
                const gs_conv_shape *cs = &blk->conv[i].shape;
                max_ws = max_size(max_ws, gs_conv2d_workspace_floats(cs, m->threads));
                max_act = max_size(max_act, B * cs->out_c * cs->out_h * cs->out_w);
            }
            max_act = max_size(max_act, B * blk->out_c * blk->out_h * blk->out_w);
            c = blk->out_c;
            h = blk->out_h;
            w = blk->out_w;
        }
    }

    /* head */
    m->feat_c = c;
    m->feat_h = h;
    m->feat_w = w;
    int fc_shape[2] = {cfg->num_classes, c};
    m->fc_weight = add_param(&b, "fc", "weight", GS_PARAM_FC_WEIGHT, 2, fc_shape, -1);
    m->fc_bias = add_param(&b, "fc", "bias", GS_PARAM_FC_BIAS, 1, &cfg->num_classes, -1);
    if (b.failed) {
        snprintf(err, errsz, "model %s: internal error: parameter table overflow", cfg->arch);
        gs_model_free(m);
        return NULL;
    }

    /* the two contiguous blocks and their views */
    m->param_data = model_alloc(m, m->num_param_floats);
    m->grad_data = model_alloc(m, m->num_param_floats);
    if (!m->param_data || !m->grad_data)
        goto oom;
    for (int i = 0; i < m->num_params; i++) {
        m->params[i].data = m->param_data + m->params[i].offset;
        m->params[i].grad = m->grad_data + m->params[i].offset;
    }

    /* activations */
    m->max_act = max_act;
    size_t stem_act = B * cfg->width * cfg->in_h * cfg->in_w;
    m->stem_c = model_alloc(m, stem_act);
    m->stem_a = model_alloc(m, stem_act);
    if (!m->stem_c || !m->stem_a || alloc_bn(m, &m->stem_bn) != 0)
        goto oom;
    for (int i = 0; i < m->num_blocks; i++) {
        gs_block *blk = &m->blocks[i];
        for (int k = 0; k < blk->num_convs; k++) {
            const gs_conv_shape *cs = &blk->conv[k].shape;
            size_t n = B * cs->out_c * cs->out_h * cs->out_w;
            if (!(blk->c[k] = model_alloc(m, n)) || alloc_bn(m, &blk->bn[k]) != 0)
                goto oom;
            if (k < blk->num_convs - 1 && !(blk->a[k] = model_alloc(m, n)))
                goto oom;
        }
        size_t out_n = B * blk->out_c * blk->out_h * blk->out_w;
        if (!(blk->y = model_alloc(m, out_n)))
            goto oom;
        if (blk->shortcut != GS_SHORTCUT_IDENTITY && !(blk->s = model_alloc(m, out_n)))
            goto oom;
        if (blk->shortcut == GS_SHORTCUT_B &&
            (!(blk->sc_c = model_alloc(m, out_n)) || alloc_bn(m, &blk->sc_bn) != 0))
            goto oom;
    }
    m->pooled = model_alloc(m, B * m->feat_c);
    m->dpooled = model_alloc(m, B * m->feat_c);
    m->logits = model_alloc(m, B * cfg->num_classes);
    m->dlogits = model_alloc(m, B * cfg->num_classes);
    m->workspace = model_alloc(m, max_ws);
    m->grad_a = model_alloc(m, max_act);
    m->grad_b = model_alloc(m, max_act);
    for (int k = 0; k < 2; k++)
        if (!(m->tmp[k] = model_alloc(m, max_act)))
            goto oom;
    m->shared_dx_skip = model_alloc(m, max_act);
    m->shared_dx_residual = model_alloc(m, max_act);
    if (!m->pooled || !m->dpooled || !m->logits || !m->dlogits || !m->workspace || !m->grad_a ||
        !m->grad_b || !m->shared_dx_skip || !m->shared_dx_residual)
        goto oom;
    for (int i = 0; i < m->num_blocks; i++) {
        m->blocks[i].dx_skip = m->shared_dx_skip;
        m->blocks[i].dx_residual = m->shared_dx_residual;
    }
    return m;

oom:
    snprintf(err, errsz, "model %s: out of memory for batch %d", cfg->arch, max_batch);
    gs_model_free(m);
    return NULL;
}

void gs_model_free(gs_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->num_allocs; i++)
        free(m->allocs[i]);
    free(m->allocs);
    free(m->params);
    free(m->bn_stats);
    free(m->blocks);
    free(m);
}

int gs_model_keep_block_grads(gs_model *m, int keep)
{
    if (!keep || m->keep_block_grads) {
        m->keep_block_grads = keep ? 1 : m->keep_block_grads;
        return 0;
    }
    for (int i = 0; i < m->num_blocks; i++) {
        gs_block *blk = &m->blocks[i];
        size_t n = (size_t)m->max_batch * blk->in_c * blk->in_h * blk->in_w;
        float *skip = model_alloc(m, n), *res = model_alloc(m, n);
        if (!skip || !res)
            return -1;
        blk->dx_skip = skip;
        blk->dx_residual = res;
    }
    m->keep_block_grads = 1;
    return 0;
}

void gs_model_init(gs_model *m, uint64_t seed)
{
    gs_rng rng;
    gs_rng_stream(&rng, seed, GS_RNG_INIT, 0);
    for (int i = 0; i < m->num_params; i++) {
        gs_param *p = &m->params[i];
        switch (p->kind) {
        case GS_PARAM_CONV_WEIGHT: {
            double fan_in = (double)p->shape[1] * p->shape[2] * p->shape[3];
            double std = sqrt(2.0 / fan_in);
            for (size_t j = 0; j < p->numel; j++)
                p->data[j] = (float)(std * gs_rng_normal(&rng));
            break;
        }
        case GS_PARAM_BN_WEIGHT:
            for (size_t j = 0; j < p->numel; j++)
                p->data[j] = 1.0f;
            break;
        case GS_PARAM_BN_BIAS:
            memset(p->data, 0, sizeof(float) * p->numel);
            break;
        case GS_PARAM_FC_WEIGHT:
        case GS_PARAM_FC_BIAS: {
            double bound = 1.0 / sqrt((double)m->feat_c);
            for (size_t j = 0; j < p->numel; j++)
                p->data[j] = (float)((2.0 * gs_rng_uniform(&rng) - 1.0) * bound);
            break;
        }
        }
    }
    for (int i = 0; i < m->num_bn; i++) {
        gs_bn_stats *st = &m->bn_stats[i];
        for (int c = 0; c < st->channels; c++) {
            st->running_mean[c] = 0.0f;
            st->running_var[c] = 1.0f;
        }
        st->num_batches_tracked = 0;
    }
    gs_model_zero_grad(m);
}

gs_param *gs_model_find_param(gs_model *m, const char *name)
{
    for (int i = 0; i < m->num_params; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return &m->params[i];
    return NULL;
}

void gs_model_zero_grad(gs_model *m)
{
    memset(m->grad_data, 0, sizeof(float) * m->num_param_floats);
}

const float *gs_model_logits(const gs_model *m)
{
    return m->logits;
}

/* ---- forward ----------------------------------------------------------------------- */

static gs_conv_shape conv_shape_for(const gs_conv_layer *conv, int B)
{
    gs_conv_shape s = conv->shape;
    s.batch = B;
    return s;
}

static void conv_forward(gs_model *m, const gs_conv_layer *conv, float *out, const float *in, int B)
{
    gs_conv_shape s = conv_shape_for(conv, B);
    gs_conv2d_forward(out, in, conv->weight->data, &s, m->workspace, m->threads);
}

/* out = act(bn(in)) (residual: see gs_bn_act) */
static void bn_forward(gs_model *m, gs_bn_layer *bn, float *out, const float *in, int B, int HW, int training,
                       gs_bn_act act, const float *residual)
{
    int C = bn->stats->channels;
    if (training) {
        gs_batchnorm_forward_train_act(out, bn->save_mean, bn->save_invstd, bn->stats->running_mean,
                                       bn->stats->running_var, in, bn->gamma->data, bn->beta->data,
                                       B, C, HW, m->cfg.bn_momentum, m->cfg.bn_eps, act, residual);
        bn->stats->num_batches_tracked++;
    } else {
        gs_batchnorm_forward_eval_act(out, in, bn->gamma->data, bn->beta->data, bn->stats->running_mean,
                                      bn->stats->running_var, B, C, HW, m->cfg.bn_eps, act, residual);
    }
}

/* Option A: out (B, out_c, Ho, Wo) = zero-padded channels of in[:, :, ::stride, ::stride]. */
static void shortcut_a_forward(float *out, const float *in, const gs_block *blk, int B)
{
    const int pad_front = (blk->out_c - blk->in_c) / 2;
    const size_t out_plane = (size_t)blk->out_h * blk->out_w;
    memset(out, 0, sizeof(float) * B * blk->out_c * out_plane);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < blk->in_c; c++) {
            const float *src = in + ((size_t)b * blk->in_c + c) * blk->in_h * blk->in_w;
            float *dst = out + ((size_t)b * blk->out_c + c + pad_front) * out_plane;
            for (int oy = 0; oy < blk->out_h; oy++)
                for (int ox = 0; ox < blk->out_w; ox++)
                    dst[oy * blk->out_w + ox] = src[(oy * blk->stride) * blk->in_w + ox * blk->stride];
        }
}

/* dx (B, in_c, H, W) = option-A shortcutᵀ · dz (B, out_c, Ho, Wo) */
static void shortcut_a_backward(float *dx, const float *dz, const gs_block *blk, int B)
{
    const int pad_front = (blk->out_c - blk->in_c) / 2;
    const size_t out_plane = (size_t)blk->out_h * blk->out_w;
    memset(dx, 0, sizeof(float) * B * blk->in_c * blk->in_h * blk->in_w);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < blk->in_c; c++) {
            float *dst = dx + ((size_t)b * blk->in_c + c) * blk->in_h * blk->in_w;
            const float *src = dz + ((size_t)b * blk->out_c + c + pad_front) * out_plane;
            for (int oy = 0; oy < blk->out_h; oy++)
                for (int ox = 0; ox < blk->out_w; ox++)
                    dst[(oy * blk->stride) * blk->in_w + ox * blk->stride] = src[oy * blk->out_w + ox];
        }
}

static void block_forward(gs_model *m, gs_block *blk, const float *x, int B, int training)
{
    blk->x = x;
    /* the shortcut s first: the last batch norm adds it in its output pass */
    const float *s = x;
    if (blk->shortcut == GS_SHORTCUT_A) {
        shortcut_a_forward(blk->s, x, blk, B);
        s = blk->s;
    } else if (blk->shortcut == GS_SHORTCUT_B) {
        conv_forward(m, &blk->sc_conv, blk->sc_c, x, B);
        bn_forward(m, &blk->sc_bn, blk->s, blk->sc_c, B, blk->out_h * blk->out_w, training, GS_BN_PLAIN, NULL);
        s = blk->s;
    }
    const float *in = x;
    for (int k = 0; k < blk->num_convs; k++) {
        const gs_conv_shape *cs = &blk->conv[k].shape;
        int HW = cs->out_h * cs->out_w;
        conv_forward(m, &blk->conv[k], blk->c[k], in, B);
        if (k < blk->num_convs - 1) {
            /* a[k] = relu(bn(c[k])) */
            bn_forward(m, &blk->bn[k], blk->a[k], blk->c[k], B, HW, training, GS_BN_RELU, NULL);
            in = blk->a[k];
        } else {
            /* y = relu(f + s), f = bn(c[last]) */
            bn_forward(m, &blk->bn[k], blk->y, blk->c[k], B, HW, training, GS_BN_ADD_RELU, s);
        }
    }
}

double gs_model_forward(gs_model *m, const float *images, const int32_t *labels,
                        int B, int training, int *correct)
{
    const gs_model_config *cfg = &m->cfg;
    m->batch = B;
    m->training = training;
    m->input = images;
    m->labels = labels;
    int HW = cfg->in_h * cfg->in_w;
    conv_forward(m, &m->stem_conv, m->stem_c, images, B);
    bn_forward(m, &m->stem_bn, m->stem_a, m->stem_c, B, HW, training, GS_BN_RELU, NULL);
    const float *x = m->stem_a;
    for (int i = 0; i < m->num_blocks; i++) {
        block_forward(m, &m->blocks[i], x, B, training);
        x = m->blocks[i].y;
    }
    gs_avgpool_forward(m->pooled, x, B, m->feat_c, m->feat_h * m->feat_w);
    gs_linear_forward(m->logits, m->pooled, m->fc_weight->data, m->fc_bias->data, B, m->feat_c,
                      cfg->num_classes);
    return gs_softmax_xent(NULL, correct, m->logits, labels, B, cfg->num_classes);
}

/* ---- backward ---------------------------------------------------------------------- */

/* din_through_relu: `in` is a ReLU's output and din is wanted at that ReLU's input
 * (gs_conv2d_backward_ex) */
static void conv_backward(gs_model *m, const gs_conv_layer *conv, float *din, const float *dout,
                          const float *in, int B, int din_through_relu)
{
    gs_conv_shape s = conv_shape_for(conv, B);
    gs_conv2d_backward_ex(din, conv->weight->grad, dout, in, conv->weight->data, &s, m->workspace, m->threads,
                          GS_CONV_ALGO_AUTO, din_through_relu);
}

static void bn_backward(gs_bn_layer *bn, float *din, const float *dout, const float *in, int B, int HW)
{
    gs_batchnorm_backward(din, bn->gamma->grad, bn->beta->grad, dout, in, bn->save_mean,
                          bn->save_invstd, bn->gamma->data, B, bn->stats->channels, HW);
}

/* dz (B, out_c, Ho, Wo), the gradient at the block's pre-activation z = f + s (its
 * output y = relu(z) already taken back) → the block's input gradient
 * dx_skip + dx_residual, with its statistics, written to dx (B, in_c, H, W) already
 * through the ReLU whose output the block's input x is (the previous block's, or the
 * stem's): dx = (dx_skip + dx_residual) ⊙ [x > 0], the next block down's dz. */
static void block_backward(gs_model *m, gs_block *blk, float *dx, const float *dz, int B)
{
    const size_t in_n = (size_t)B * blk->in_c * blk->in_h * blk->in_w;
    float *t1 = m->tmp[0], *t2 = m->tmp[1];

    /* residual path, last conv first:  bn_k ← conv_k ← relu ← ... ← conv_0 */
    for (int k = blk->num_convs - 1; k >= 0; k--) {
        const gs_conv_shape *cs = &blk->conv[k].shape;
        const float *d_bn_out = (k == blk->num_convs - 1) ? dz : t2;
        bn_backward(&blk->bn[k], t1, d_bn_out, blk->c[k], B, cs->out_h * cs->out_w);
        /* k > 0: the input is a[k − 1] = relu(bn(c[k − 1])); t2 is the gradient at
         * bn_{k−1}'s output, the ReLU's mask applied as the conv writes it */
        float *d_conv_in = (k == 0) ? blk->dx_residual : t2;
        const float *conv_in = (k == 0) ? blk->x : blk->a[k - 1];
        conv_backward(m, &blk->conv[k], d_conv_in, t1, conv_in, B, k > 0);
    }

    /* skip path */
    const float *skip = blk->dx_skip;
    switch (blk->shortcut) {
    case GS_SHORTCUT_IDENTITY:
        if (m->keep_block_grads)
            memcpy(blk->dx_skip, dz, sizeof(float) * in_n);
        else
            skip = dz;          /* J = I: the skip part is dz itself, no copy */
        break;
    case GS_SHORTCUT_A:
        shortcut_a_backward(blk->dx_skip, dz, blk, B);
        break;
    case GS_SHORTCUT_B:
        bn_backward(&blk->sc_bn, t1, dz, blk->sc_c, B, blk->out_h * blk->out_w);
        conv_backward(m, &blk->sc_conv, blk->dx_skip, t1, blk->x, B, 0);
        break;
    }

    /* the overlap: skip + residual, with its statistics, in the same pass as the
     * input ReLU's mask */
    gs_overlap_sums_clear(&blk->overlap);
    if (m->hist_enabled)
        memset(blk->hist, 0, sizeof blk->hist);
    gs_overlap_add_relu(dx, skip, blk->dx_residual, blk->x, in_n, &blk->overlap,
                        m->hist_enabled ? blk->hist : NULL);
}

void gs_model_backward(gs_model *m)
{
    const gs_model_config *cfg = &m->cfg;
    const int B = m->batch;
    const int K = cfg->num_classes;
    gs_softmax_xent(m->dlogits, NULL, m->logits, m->labels, B, K);
    gs_linear_backward(m->dpooled, m->fc_weight->grad, m->fc_bias->grad, m->dlogits, m->pooled,
                       m->fc_weight->data, B, m->feat_c, K);
    /* dz of the last block: the pooled gradient through its output ReLU; every block
     * then hands the next one down its dz (block_backward) */
    float *dz = m->grad_a, *dx = m->grad_b;
    const int feat_hw = m->feat_h * m->feat_w;
    gs_avgpool_backward(dz, m->dpooled, B, m->feat_c, feat_hw);
    const float *feat = m->num_blocks > 0 ? m->blocks[m->num_blocks - 1].y : m->stem_a;
    gs_relu_backward(dz, dz, feat, (size_t)B * m->feat_c * feat_hw);
    for (int i = m->num_blocks - 1; i >= 0; i--) {
        block_backward(m, &m->blocks[i], dx, dz, B);
        float *t = dz;
        dz = dx;
        dx = t;
    }
    /* stem: bn ← conv (no gradient for the image); dz is already through its ReLU */
    int HW = cfg->in_h * cfg->in_w;
    bn_backward(&m->stem_bn, dx, dz, m->stem_c, B, HW);
    conv_backward(m, &m->stem_conv, NULL, dx, m->input, B, 0);
}
