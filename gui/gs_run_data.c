/* gs_run_data.c — the GUI's snapshot of a run (see the header). */
#define _POSIX_C_SOURCE 200809L
#include "gs_run_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dupstr(const char *s)
{
    return strdup(s ? s : "");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char **dup_names(const char *const *names, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = dupstr(names[i]);
    return out;
}

static void free_names(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void gs_run_data_free(gs_run_data *d)
{
    if (!d)
        return;
    free(d->path);
    free(d->name);
    free(d->transform);
    free(d->optimizer);
    free(d->arch);
    free(d->dataset);
    free(d->status);
    free(d->config_text);
    free_names(d->block_names, d->n_blocks);
    free_names(d->param_names, d->n_params);
    free_names(d->param_kinds, d->n_params);
    free(d->param_block);
    free(d->param_numel);
    gs_series_free(&d->ep_train_loss);
    gs_series_free(&d->ep_train_acc);
    gs_series_free(&d->ep_test_loss);
    gs_series_free(&d->ep_test_acc);
    gs_series_free(&d->ep_images_per_s);
    gs_series_free(&d->ep_wall_s);
    gs_series_free(&d->loss);
    gs_series_free(&d->acc);
    free(d->pe_epoch);
    for (int i = 0; i < GS_STAT_COUNT; i++)
        free(d->pe[i]);
    free(d->probe_step);
    for (int i = 0; i < 3; i++)
        free(d->norms[i]);
    free(d->edges);
    memset(d, 0, sizeof *d);
}

long gs_name_index(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], name))
            return (long)i;
    return -1;
}

static const char *const stat_names[GS_STAT_COUNT] = {
    GS_BLK_SKIP_NORM, GS_BLK_RESIDUAL_NORM, GS_BLK_SUM_NORM, GS_BLK_COSINE, GS_BLK_OVERLAP,
};

/* Optional series of an axis: absent datasets give an empty series, not an error. */
static int opt_series(gs_run *run, gs_axis axis, const char *group, const char *name, gs_series *s)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", group, name);
    memset(s, 0, sizeof *s);
    if (!gs_run_has(run, path) || gs_run_rows(run, axis) == 0)
        return 0;
    return gs_run_read_series(run, axis, path, 0, 0, SIZE_MAX, s);
}

/* Optional [rows × B] table: NULL when absent; -1 on a read error. */
static int opt_table(gs_run *run, gs_axis axis, const char *path, size_t want_cols, double **out)
{
    *out = NULL;
    if (!gs_run_has(run, path) || gs_run_rows(run, axis) == 0)
        return 0;
    size_t rows, cols;
    double *t = gs_run_read_table(run, axis, path, &rows, &cols);
    if (!t)
        return rows == 0 ? 0 : -1;
    if (cols != want_cols) {
        free(t);
        return 0;
    }
    *out = t;
    return 0;
}

int gs_run_data_load(gs_run *run, gs_run_data *out, gs_load_flags flags, char *err, size_t errsz)
{
    double t0 = now_ms();
    memset(out, 0, sizeof *out);
    char path[256];

    const char *p = gs_run_path(run);
    out->path = dupstr(p);
    const char *base = strrchr(p, '/');
    out->name = dupstr(base ? base + 1 : p);
    size_t nl = strlen(out->name);
    if (nl > 3 && !strcmp(out->name + nl - 3, ".h5"))
        out->name[nl - 3] = '\0';

    const gs_json *cfg = gs_run_config(run);
    out->transform = dupstr(gs_json_str(gs_json_path(cfg, "transform.spec"),
                                        gs_json_str(gs_json_path(cfg, "transform.name"), "")));
    out->optimizer = dupstr(gs_json_str(gs_json_path(cfg, "optimizer.name"), ""));
    {
        const char *arch = gs_json_str(gs_json_get(cfg, "arch"), "");
        double depth = gs_json_num(gs_json_get(cfg, "depth"), 0);
        char buf[96];
        if (*arch && depth > 0 && !strchr(arch, ':') && strspn(arch + strlen(arch) - 1, "0123456789") == 0)
            snprintf(buf, sizeof buf, "%s%d", arch, (int)depth);
        else
            snprintf(buf, sizeof buf, "%s", arch);
        out->arch = dupstr(buf);
    }
    out->dataset = dupstr(gs_json_str(gs_json_path(cfg, "dataset.name"),
                                      gs_json_str(gs_json_get(cfg, "data"), "")));
    out->status = dupstr(gs_run_status(run));
    out->config_text = dupstr(gs_run_config_text(run));
    out->live = gs_run_is_live(run);
    out->lr = gs_json_num(gs_json_path(cfg, "optimizer.lr"), NAN);
    out->seed = (long)gs_json_num(gs_json_get(cfg, "seed"), -1);
    out->param_count = gs_run_param_count(run);

    out->n_blocks = gs_run_n_blocks(run);
    out->n_params = gs_run_n_params(run);
    out->block_names = dup_names(gs_run_block_names(run), out->n_blocks);
    out->param_names = dup_names(gs_run_param_names(run), out->n_params);
    out->param_kinds = calloc(out->n_params ? out->n_params : 1, sizeof *out->param_kinds);
    out->param_block = calloc(out->n_params ? out->n_params : 1, sizeof *out->param_block);
    out->param_numel = calloc(out->n_params ? out->n_params : 1, sizeof *out->param_numel);
    if (!out->block_names || !out->param_names || !out->param_kinds || !out->param_block || !out->param_numel) {
        snprintf(err, errsz, "%s: out of memory", p);
        goto fail;
    }
    for (size_t i = 0; i < out->n_params; i++) {
        const gs_param_info *pi = gs_run_param(run, i);
        out->param_kinds[i] = dupstr(pi->kind);
        out->param_block[i] = pi->block;
        out->param_numel[i] = pi->numel;
    }
    for (int a = 0; a < GS_AXIS_COUNT; a++)
        out->rows[a] = gs_run_rows(run, (gs_axis)a);

    /* epochs */
    if (opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_TRAIN_LOSS, &out->ep_train_loss) < 0 ||
        opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_TRAIN_ACC, &out->ep_train_acc) < 0 ||
        opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_TEST_LOSS, &out->ep_test_loss) < 0 ||
        opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_TEST_ACC, &out->ep_test_acc) < 0 ||
        opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_IMAGES_PER_S, &out->ep_images_per_s) < 0 ||
        opt_series(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS, GS_EPOCHS_WALL_S, &out->ep_wall_s) < 0)
        goto read_fail;

    /* per step */
    if (opt_series(run, GS_AXIS_TRAIN, GS_GRP_TRAIN, GS_TRAIN_LOSS, &out->loss) < 0 ||
        opt_series(run, GS_AXIS_TRAIN, GS_GRP_TRAIN, GS_TRAIN_ACCURACY, &out->acc) < 0)
        goto read_fail;

    /* steps per epoch: the config's, else counted from /train/epoch */
    out->steps_per_epoch = gs_json_num(gs_json_get(cfg, "steps_per_epoch"), 0);
    if (!(out->steps_per_epoch >= 1)) {
        gs_series ep = { 0 };
        if (opt_series(run, GS_AXIS_TRAIN, GS_GRP_TRAIN, GS_TRAIN_EPOCH, &ep) < 0)
            goto read_fail;
        size_t k = 0;
        while (k < ep.n && ep.y[k] == ep.y[0])
            k++;
        out->steps_per_epoch = k > 0 ? (double)k : 1;
        gs_series_free(&ep);
    }

    /* per-epoch block aggregates */
    size_t B = out->n_blocks;
    out->n_pe = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    if (out->n_pe && gs_run_has(run, GS_DS_PE_EPOCH)) {
        out->pe_epoch = malloc(out->n_pe * sizeof *out->pe_epoch);
        if (!out->pe_epoch || gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, 0, out->n_pe, out->pe_epoch) < 0)
            goto read_fail;
        for (int s = 0; s < GS_STAT_COUNT; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s_mean", stat_names[s]);
            if (opt_table(run, GS_AXIS_PROBE_EPOCH, gs_run_block_epoch_path(path, sizeof path, name), B,
                          &out->pe[s]) < 0)
                goto read_fail;
        }
    } else {
        out->n_pe = 0;
    }

    /* per-step block norms */
    out->n_probe = gs_run_rows(run, GS_AXIS_PROBE);
    if (out->n_probe && B && (flags & GS_LOAD_QUICK)) {
        out->n_probe = 0;
        out->norms_pending = 1;
    } else if (out->n_probe && B) {
        out->probe_step = malloc(out->n_probe * sizeof *out->probe_step);
        if (!out->probe_step || gs_run_axis_x(run, GS_AXIS_PROBE, 0, out->n_probe, out->probe_step) < 0)
            goto read_fail;
        for (int s = 0; s < 3; s++)
            if (opt_table(run, GS_AXIS_PROBE, gs_run_block_path(path, sizeof path, stat_names[s]), B,
                          &out->norms[s]) < 0)
                goto read_fail;
    } else {
        out->n_probe = 0;
    }

    /* histogram edges */
    size_t H = 0;
    const double *edges = gs_run_hist_edges(run, &H);
    if (edges && H) {
        out->edges = malloc((H + 1) * sizeof *out->edges);
        if (!out->edges)
            goto read_fail;
        memcpy(out->edges, edges, (H + 1) * sizeof *edges);
        out->n_bins = H;
    }
    out->load_ms = now_ms() - t0;
    return 0;

read_fail:
    snprintf(err, errsz, "%s", *gs_run_error(run) ? gs_run_error(run) : "out of memory");
fail:
    gs_run_data_free(out);
    return -1;
}

int64_t *gs_run_data_read_hist(gs_run *run, const char *side, size_t p, size_t *rows,
                               char *err, size_t errsz)
{
    char path[256];
    size_t H = 0;
    *rows = 0;
    err[0] = '\0';
    if (!gs_run_hist_edges(run, &H) || H == 0)
        return NULL;
    snprintf(path, sizeof path, "%s/hist", !strcmp(side, "pre") ? GS_GRP_PE_PRE : GS_GRP_PE_POST);
    size_t E = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    if (E == 0 || !gs_run_has(run, path) || p >= gs_run_n_params(run))
        return NULL;
    int64_t *h = malloc(E * H * sizeof *h);
    if (!h) {
        snprintf(err, errsz, "%s: out of memory", gs_run_path(run));
        return NULL;
    }
    if (gs_run_read_hist(run, GS_AXIS_PROBE_EPOCH, side, p, 0, E, h) < 0) {
        snprintf(err, errsz, "%s", gs_run_error(run));
        free(h);
        return NULL;
    }
    *rows = E;
    return h;
}
