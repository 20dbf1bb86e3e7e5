#include "gs_runlog.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gs_runlog_names.h"

/* ---- growing datasets -----------------------------------------------------------------
 * A series is an extendible dataset [rows, row_dims...] plus a memory buffer of rows not
 * yet written.  Appending only copies; gs_runlog_flush writes every series. */

typedef struct rl_series {
    hid_t          ds;
    hid_t          mem_type;
    int            rank;             /* 1 + number of row dims      */
    hsize_t        row_dims[2];
    size_t         row_bytes;
    unsigned char *buf;
    size_t         buffered, cap;    /* rows                         */
    hsize_t        written;          /* rows in the file             */
} rl_series;

#define RL_MAX_SERIES 96

struct gs_runlog {
    char       path[1024];
    hid_t      file;
    double     flush_seconds, last_flush;
    int        B, P;
    gs_probe_mode probes;

    rl_series *all[RL_MAX_SERIES];
    int        num_series;

    rl_series  train[8];
    rl_series  epochs[7];
    rl_series  probe_step, block[GS_BLOCK_STATS], param[GS_PHASES][GS_PARAM_STATS + 1], update_ratio;
    rl_series  hist_step, hist_block[GS_PARTS], hist_param[GS_PHASES];
    rl_series  pe_epoch, pe_steps, pe_hist_steps;
    rl_series  pe_block_mean[GS_BLOCK_STATS], pe_block_std[GS_BLOCK_STATS], pe_block_hist[GS_PARTS];
    rl_series  pe_param[GS_PHASES][3], pe_param_hist[GS_PHASES];

    hid_t      status_ds;
    int64_t   *dump_steps;
    int        num_dump_steps;
    int        dump_batch;
    H5E_auto2_t saved_efunc;
    void      *saved_edata;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void quiet_begin(gs_runlog *rl)
{
    H5Eget_auto2(H5E_DEFAULT, &rl->saved_efunc, &rl->saved_edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_end(gs_runlog *rl)
{
    H5Eset_auto2(H5E_DEFAULT, rl->saved_efunc, rl->saved_edata);
}

/* ---- attributes and small datasets ------------------------------------------------------ */

static hid_t string_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len > 0 ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = string_type(strlen(value));
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a < 0 || H5Awrite(a, t, value) < 0) ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int attr_str_array(hid_t obj, const char *name, const char *const *values, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        if (strlen(values[i]) > len)
            len = strlen(values[i]);
    char *packed = calloc((size_t)n, len);
    if (!packed)
        return -1;
    for (int i = 0; i < n; i++)
        memcpy(packed + i * len, values[i], strlen(values[i]));
    hid_t t = string_type(len);
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a < 0 || H5Awrite(a, t, packed) < 0) ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    free(packed);
    return rc;
}

static int attr_i32(hid_t obj, const char *name, int32_t v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a < 0 || H5Awrite(a, H5T_NATIVE_INT32, &v) < 0) ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static hid_t make_group(hid_t file, const char *path)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

static int nxdata(hid_t file, const char *path, const char *signal, const char *const *axes, int naxes)
{
    hid_t g = H5Lexists(file, path, H5P_DEFAULT) > 0 ? H5Gopen2(file, path, H5P_DEFAULT) : make_group(file, path);
    if (g < 0)
        return -1;
    int rc = attr_str(g, "NX_class", "NXdata");
    rc |= attr_str(g, "signal", signal);
    rc |= naxes == 1 ? attr_str(g, "axes", axes[0]) : attr_str_array(g, "axes", axes, naxes);
    H5Gclose(g);
    return rc;
}

/* A fixed dataset written at once; rank 0 = scalar. */
static int write_fixed(hid_t file, const char *path, hid_t mem_type, hid_t file_type, int rank,
                       const hsize_t *dims, const void *data)
{
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(file, path, file_type, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (ds < 0 || H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ? -1 : 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(sp);
    return rc;
}

static int write_strings(hid_t file, const char *path, const char *const *values, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        if (strlen(values[i]) > len)
            len = strlen(values[i]);
    char *packed = calloc(n > 0 ? (size_t)n : 1, len);
    if (!packed)
        return -1;
    for (int i = 0; i < n; i++)
        memcpy(packed + i * len, values[i], strlen(values[i]));
    hid_t t = string_type(len);
    hsize_t dim = (hsize_t)n;
    int rc = write_fixed(file, path, t, t, 1, &dim, packed);
    H5Tclose(t);
    free(packed);
    return rc;
}

/* ---- series -------------------------------------------------------------------------------- */

static int series_create(gs_runlog *rl, rl_series *s, const char *path, hid_t mem_type, hid_t file_type,
                         int row_rank, const hsize_t *row_dims, const char *long_name, const char *units)
{
    memset(s, 0, sizeof *s);
    s->ds = H5I_INVALID_HID;
    s->mem_type = mem_type;
    s->rank = 1 + row_rank;
    size_t row_elems = 1;
    hsize_t dims[3] = {0, 0, 0}, maxdims[3] = {H5S_UNLIMITED, 0, 0}, chunk[3] = {1, 1, 1};
    for (int i = 0; i < row_rank; i++) {
        s->row_dims[i] = row_dims[i];
        dims[1 + i] = maxdims[1 + i] = chunk[1 + i] = row_dims[i];
        row_elems *= (size_t)row_dims[i];
    }
    s->row_bytes = row_elems * H5Tget_size(mem_type);
    /* Chunking along the step axis.  A chunk that is still filling is rewritten at
     * every flush; compressed, each rewrite needs new space, which SWMR never reuses.
     * So: rows of ≥ 64 bytes (per-block / per-tensor statistics, histograms) go in
     * small compressed chunks (16 rows, or 1 row of ≥ 64 KiB), which bounds that waste
     * to a fraction of a chunk per flush; narrow rows (scalars) go in ~64 KiB
     * uncompressed chunks, rewritten in place. */
    const int compress = s->row_bytes >= 64;
    if (compress) {
        chunk[0] = s->row_bytes >= 65536 ? 1 : 16;
    } else {
        hsize_t rows = (hsize_t)(65536 / (s->row_bytes ? s->row_bytes : 1));
        chunk[0] = rows > 4096 ? 4096 : rows;
    }

    hid_t sp = H5Screate_simple(s->rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, s->rank, chunk);
    if (compress) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    if (H5Tget_class(file_type) == H5T_FLOAT) {
        double nan = NAN;
        H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan);
    }
    s->ds = H5Dcreate2(rl->file, path, file_type, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (s->ds < 0)
        return -1;
    if (attr_str(s->ds, "long_name", long_name) < 0 || attr_str(s->ds, "units", units) < 0)
        return -1;
    if (rl->num_series == RL_MAX_SERIES)
        return -1;
    rl->all[rl->num_series++] = s;
    return 0;
}

static int series_push(rl_series *s, const void *row)
{
    if (s->buffered == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        unsigned char *grown = realloc(s->buf, cap * s->row_bytes);
        if (!grown)
            return -1;
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->buffered * s->row_bytes, row, s->row_bytes);
    s->buffered++;
    return 0;
}

static int series_write(rl_series *s)
{
    if (s->buffered == 0)
        return 0;
    hsize_t dims[3] = {s->written + s->buffered, s->row_dims[0], s->row_dims[1]};
    if (H5Dset_extent(s->ds, dims) < 0)
        return -1;
    hid_t fsp = H5Dget_space(s->ds);
    hsize_t start[3] = {s->written, 0, 0};
    hsize_t count[3] = {s->buffered, s->row_dims[0], s->row_dims[1]};
    hid_t msp = H5Screate_simple(s->rank, count, NULL);
    int rc = -1;
    if (fsp >= 0 && msp >= 0 && H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        H5Dwrite(s->ds, s->mem_type, msp, fsp, H5P_DEFAULT, s->buf) >= 0)
        rc = 0;
    if (msp >= 0)
        H5Sclose(msp);
    if (fsp >= 0)
        H5Sclose(fsp);
    if (rc == 0) {
        s->written += s->buffered;
        s->buffered = 0;
    }
    return rc;
}

static void series_close(rl_series *s)
{
    if (s->ds >= 0)
        H5Dclose(s->ds);
    s->ds = H5I_INVALID_HID;
    free(s->buf);
    s->buf = NULL;
}

/* ---- creation ----------------------------------------------------------------------------- */

static int write_model_tables(gs_runlog *rl, const gs_model *m)
{
    const int B = m->num_blocks, P = m->num_params;
    int rc = 0;
    const char **names = calloc((size_t)(B > P ? B : P) + 1, sizeof(char *));
    int32_t *i32 = calloc((size_t)(B > P ? B : P) * 4 + 4, sizeof(int32_t));
    int64_t *i64 = calloc((size_t)P + 1, sizeof(int64_t));
    if (!names || !i32 || !i64) {
        rc = -1;
        goto done;
    }
    static const char *shortcut_names[] = {"identity", "A", "B"};
    hsize_t nb = (hsize_t)B, np = (hsize_t)P;
    for (int b = 0; b < B; b++)
        names[b] = m->blocks[b].name;
    rc |= write_strings(rl->file, GS_DS_BLOCK_NAME, names, B);
    for (int b = 0; b < B; b++)
        names[b] = shortcut_names[m->blocks[b].shortcut];
    rc |= write_strings(rl->file, GS_DS_BLOCK_SHORTCUT, names, B);
    for (int b = 0; b < B; b++)
        i32[b] = m->blocks[b].stage;
    rc |= write_fixed(rl->file, GS_DS_BLOCK_STAGE, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &nb, i32);
    for (int b = 0; b < B; b++)
        i32[b] = m->blocks[b].index;
    rc |= write_fixed(rl->file, GS_DS_BLOCK_INDEX, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &nb, i32);
    hsize_t shape3[2] = {nb, 3};
    for (int b = 0; b < B; b++) {
        i32[3 * b] = m->blocks[b].in_c;
        i32[3 * b + 1] = m->blocks[b].in_h;
        i32[3 * b + 2] = m->blocks[b].in_w;
    }
    rc |= write_fixed(rl->file, GS_DS_BLOCK_IN_SHAPE, H5T_NATIVE_INT32, H5T_STD_I32LE, 2, shape3, i32);
    for (int b = 0; b < B; b++) {
        i32[3 * b] = m->blocks[b].out_c;
        i32[3 * b + 1] = m->blocks[b].out_h;
        i32[3 * b + 2] = m->blocks[b].out_w;
    }
    rc |= write_fixed(rl->file, GS_DS_BLOCK_OUT_SHAPE, H5T_NATIVE_INT32, H5T_STD_I32LE, 2, shape3, i32);

    for (int i = 0; i < P; i++)
        names[i] = m->params[i].name;
    rc |= write_strings(rl->file, GS_DS_PARAM_NAME, names, P);
    for (int i = 0; i < P; i++)
        names[i] = gs_param_kind_name(m->params[i].kind);
    rc |= write_strings(rl->file, GS_DS_PARAM_KIND, names, P);
    hsize_t shape4[2] = {np, 4};
    for (int i = 0; i < P; i++)
        for (int d = 0; d < 4; d++)
            i32[4 * i + d] = d < m->params[i].ndim ? m->params[i].shape[d] : 0;
    rc |= write_fixed(rl->file, GS_DS_PARAM_SHAPE, H5T_NATIVE_INT32, H5T_STD_I32LE, 2, shape4, i32);
    for (int i = 0; i < P; i++)
        i32[i] = m->params[i].ndim;
    rc |= write_fixed(rl->file, GS_DS_PARAM_NDIM, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &np, i32);
    for (int i = 0; i < P; i++)
        i32[i] = m->params[i].block;
    rc |= write_fixed(rl->file, GS_DS_PARAM_BLOCK, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &np, i32);
    for (int i = 0; i < P; i++)
        i64[i] = (int64_t)m->params[i].numel;
    rc |= write_fixed(rl->file, GS_DS_PARAM_NUMEL, H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &np, i64);
done:
    free(names);
    free(i32);
    free(i64);
    return rc ? -1 : 0;
}

static int create_train_series(gs_runlog *rl)
{
    static const struct { const char *name, *long_name, *units; int type; } cols[8] = {
        {GS_TRAIN_STEP, "optimizer step (from 0)", "step", 2},
        {GS_TRAIN_EPOCH, "epoch (from 0)", "epoch", 1},
        {GS_TRAIN_LOSS, "training loss (batch mean cross-entropy)", "nats", 0},
        {GS_TRAIN_ACCURACY, "training accuracy of the batch", "fraction", 0},
        {GS_TRAIN_LR, "learning rate", "1", 0},
        {GS_TRAIN_GRAD_NORM_PRE, "global gradient L2 norm before the transform", "1", 0},
        {GS_TRAIN_GRAD_NORM_POST, "global gradient L2 norm after the transform", "1", 0},
        {GS_TRAIN_WALL_S, "wall time since start", "s", 3},
    };
    char path[256];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "%s/%s", GS_GRP_TRAIN, cols[i].name);
        hid_t mt = cols[i].type == 0 ? H5T_NATIVE_FLOAT : cols[i].type == 1 ? H5T_NATIVE_INT32
                 : cols[i].type == 2 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        hid_t ft = cols[i].type == 0 ? H5T_IEEE_F32LE : cols[i].type == 1 ? H5T_STD_I32LE
                 : cols[i].type == 2 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
        if (series_create(rl, &rl->train[i], path, mt, ft, 0, NULL, cols[i].long_name, cols[i].units) < 0)
            return -1;
    }
    const char *axes[1] = {GS_TRAIN_STEP};
    return nxdata(rl->file, GS_GRP_TRAIN, GS_TRAIN_LOSS, axes, 1);
}

static int create_epoch_series(gs_runlog *rl)
{
    static const struct { const char *name, *long_name, *units; int type; } cols[7] = {
        {GS_EPOCHS_EPOCH, "epoch (from 0)", "epoch", 1},
        {GS_EPOCHS_TRAIN_LOSS, "training loss, mean over the epoch", "nats", 0},
        {GS_EPOCHS_TRAIN_ACC, "training accuracy over the epoch", "fraction", 0},
        {GS_EPOCHS_TEST_LOSS, "test loss (eval mode)", "nats", 0},
        {GS_EPOCHS_TEST_ACC, "test accuracy (eval mode)", "fraction", 0},
        {GS_EPOCHS_WALL_S, "wall time since start at the end of the epoch", "s", 3},
        {GS_EPOCHS_IMAGES_PER_S, "training throughput of the epoch", "images/s", 3},
    };
    char path[256];
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof path, "%s/%s", GS_GRP_EPOCHS, cols[i].name);
        hid_t mt = cols[i].type == 0 ? H5T_NATIVE_FLOAT : cols[i].type == 1 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE;
        hid_t ft = cols[i].type == 0 ? H5T_IEEE_F32LE : cols[i].type == 1 ? H5T_STD_I32LE : H5T_IEEE_F64LE;
        if (series_create(rl, &rl->epochs[i], path, mt, ft, 0, NULL, cols[i].long_name, cols[i].units) < 0)
            return -1;
    }
    const char *axes[1] = {GS_EPOCHS_EPOCH};
    return nxdata(rl->file, GS_GRP_EPOCHS, GS_EPOCHS_TEST_ACC, axes, 1);
}

static const char *const block_stat_names[GS_BLOCK_STATS] = {
    GS_BLK_SKIP_NORM, GS_BLK_RESIDUAL_NORM, GS_BLK_SUM_NORM, GS_BLK_COSINE, GS_BLK_OVERLAP};
static const char *const block_stat_long[GS_BLOCK_STATS] = {
    "L2 norm of the skip part of the gradient at the block input",
    "L2 norm of the residual part of the gradient at the block input",
    "L2 norm of the gradient at the block input (skip + residual)",
    "cosine between the skip and residual parts",
    "overlap: |dx|^2 / (|dx_skip|^2 + |dx_residual|^2)"};
static const char *const param_stat_names[GS_PARAM_STATS + 1] = {
    GS_PRM_MEAN, GS_PRM_STD, GS_PRM_NORM, GS_PRM_MIN, GS_PRM_MAX, GS_PRM_NONFINITE};
static const char *const part_names[GS_PARTS] = {GS_HIST_SKIP, GS_HIST_RESIDUAL, GS_HIST_SUM};

static int create_probe_series(gs_runlog *rl, int hist)
{
    char path[256], long_name[256];
    hsize_t b = (hsize_t)rl->B, p = (hsize_t)rl->P;
    hsize_t bh[2] = {b, GS_HIST_BINS}, ph[2] = {p, GS_HIST_BINS};
    if (series_create(rl, &rl->probe_step, GS_DS_PROBE_STEP, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, NULL,
                      "step of each probe row", "step") < 0)
        return -1;
    for (int s = 0; s < GS_BLOCK_STATS; s++) {
        snprintf(path, sizeof path, "%s/%s", GS_GRP_PROBE_BLOCKS, block_stat_names[s]);
        if (series_create(rl, &rl->block[s], path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &b, block_stat_long[s],
                          s == GS_BLOCK_STAT_COSINE || s == GS_BLOCK_STAT_OVERLAP ? "1" : "gradient units") < 0)
            return -1;
    }
    if (H5Lcreate_hard(rl->file, GS_DS_PROBE_STEP, rl->file, GS_GRP_PROBE_BLOCKS "/step", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return -1;
    const char *axes[2] = {"step", "."};
    if (nxdata(rl->file, GS_GRP_PROBE_BLOCKS, GS_BLK_OVERLAP, axes, 2) < 0)
        return -1;
    const char *groups[GS_PHASES] = {GS_GRP_PROBE_PRE, GS_GRP_PROBE_POST};
    for (int phase = 0; phase < GS_PHASES; phase++)
        for (int s = 0; s <= GS_PARAM_STATS; s++) {
            snprintf(path, sizeof path, "%s/%s", groups[phase], param_stat_names[s]);
            snprintf(long_name, sizeof long_name, "%s of each tensor's gradient %s the transform",
                     param_stat_names[s], phase == GS_PRE ? "before" : "after");
            int is_count = s == GS_PARAM_STATS;
            if (series_create(rl, &rl->param[phase][s], path, is_count ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT,
                              is_count ? H5T_STD_I64LE : H5T_IEEE_F32LE, 1, &p, long_name,
                              is_count ? "elements" : "gradient units") < 0)
                return -1;
        }
    if (series_create(rl, &rl->update_ratio, GS_DS_PROBE_UPDATE_RATIO, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &p,
                      "update-to-weight ratio |dw|/|w| of the optimizer step", "1") < 0)
        return -1;

    float edges[GS_HIST_BINS + 1];
    gs_hist_edges(edges);
    hsize_t ne = GS_HIST_BINS + 1;
    if (write_fixed(rl->file, GS_DS_HIST_EDGES, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &ne, edges) < 0)
        return -1;
    {
        hid_t ds = H5Dopen2(rl->file, GS_DS_HIST_EDGES, H5P_DEFAULT);
        int rc = ds < 0 ? -1 : 0;
        rc |= ds < 0 ? 0 : attr_str(ds, "long_name", "histogram bin edges of |x|: zero bin, underflow, "
                                    "quarter decades 1e-12..1e4, overflow");
        rc |= ds < 0 ? 0 : attr_str(ds, "units", "gradient units");
        if (ds >= 0)
            H5Dclose(ds);
        if (rc < 0)
            return -1;
    }
    if (hist) {
        if (series_create(rl, &rl->hist_step, GS_DS_HIST_STEP, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, NULL,
                          "step of each histogram row", "step") < 0)
            return -1;
        for (int k = 0; k < GS_PARTS; k++) {
            snprintf(path, sizeof path, "%s/%s", GS_GRP_PROBE_HIST, part_names[k]);
            snprintf(long_name, sizeof long_name, "magnitude histogram of the %s gradient at the block input",
                     part_names[k]);
            if (series_create(rl, &rl->hist_block[k], path, H5T_NATIVE_INT64, H5T_STD_I64LE, 2, bh, long_name,
                              "elements") < 0)
                return -1;
        }
        const char *names[GS_PHASES] = {GS_HIST_PRE, GS_HIST_POST};
        for (int phase = 0; phase < GS_PHASES; phase++) {
            snprintf(path, sizeof path, "%s/%s", GS_GRP_PROBE_HIST, names[phase]);
            snprintf(long_name, sizeof long_name, "magnitude histogram of each tensor's gradient %s the transform",
                     phase == GS_PRE ? "before" : "after");
            if (series_create(rl, &rl->hist_param[phase], path, H5T_NATIVE_INT64, H5T_STD_I64LE, 2, ph, long_name,
                              "elements") < 0)
                return -1;
        }
    }

    /* epoch aggregates */
    if (series_create(rl, &rl->pe_epoch, GS_DS_PE_EPOCH, H5T_NATIVE_INT32, H5T_STD_I32LE, 0, NULL, "epoch", "epoch") < 0 ||
        series_create(rl, &rl->pe_steps, GS_DS_PE_STEPS, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, NULL,
                      "probed steps aggregated", "steps") < 0 ||
        series_create(rl, &rl->pe_hist_steps, GS_DS_PE_HIST_STEPS, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, NULL,
                      "histogram samples summed", "steps") < 0)
        return -1;
    for (int s = 0; s < GS_BLOCK_STATS; s++) {
        snprintf(path, sizeof path, "%s/%s_mean", GS_GRP_PE_BLOCKS, block_stat_names[s]);
        snprintf(long_name, sizeof long_name, "epoch mean over steps of %s", block_stat_names[s]);
        if (series_create(rl, &rl->pe_block_mean[s], path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &b, long_name, "1") < 0)
            return -1;
        snprintf(path, sizeof path, "%s/%s_std", GS_GRP_PE_BLOCKS, block_stat_names[s]);
        snprintf(long_name, sizeof long_name, "epoch std over steps of %s", block_stat_names[s]);
        if (series_create(rl, &rl->pe_block_std[s], path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &b, long_name, "1") < 0)
            return -1;
    }
    for (int k = 0; k < GS_PARTS; k++) {
        snprintf(path, sizeof path, "%s/hist_%s", GS_GRP_PE_BLOCKS, part_names[k]);
        if (series_create(rl, &rl->pe_block_hist[k], path, H5T_NATIVE_INT64, H5T_STD_I64LE, 2, bh,
                          "sum of the epoch's sampled histograms", "elements") < 0)
            return -1;
    }
    const char *pe_groups[GS_PHASES] = {GS_GRP_PE_PRE, GS_GRP_PE_POST};
    const char *pe_names[3] = {"norm_mean", "norm_std", "std_mean"};
    for (int phase = 0; phase < GS_PHASES; phase++) {
        for (int s = 0; s < 3; s++) {
            snprintf(path, sizeof path, "%s/%s", pe_groups[phase], pe_names[s]);
            if (series_create(rl, &rl->pe_param[phase][s], path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &p,
                              pe_names[s], "gradient units") < 0)
                return -1;
        }
        snprintf(path, sizeof path, "%s/hist", pe_groups[phase]);
        if (series_create(rl, &rl->pe_param_hist[phase], path, H5T_NATIVE_INT64, H5T_STD_I64LE, 2, ph,
                          "sum of the epoch's sampled histograms", "elements") < 0)
            return -1;
    }
    return 0;
}

static int create_dumps(gs_runlog *rl, const gs_model *m)
{
    char path[512];
    for (int d = 0; d < rl->num_dump_steps; d++) {
        long long step = (long long)rl->dump_steps[d];
        double zero = 0.0;
        int32_t written = 0;
        snprintf(path, sizeof path, "%s/step_%lld/loss", GS_GRP_DUMP, step);
        if (write_fixed(rl->file, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, NULL, &zero) < 0)
            return -1;
        snprintf(path, sizeof path, "%s/step_%lld/written", GS_GRP_DUMP, step);
        if (write_fixed(rl->file, path, H5T_NATIVE_INT32, H5T_STD_I32LE, 0, NULL, &written) < 0)
            return -1;
        const char *phases[2] = {"grad_pre", "grad_post"};
        for (int ph = 0; ph < 2; ph++)
            for (int i = 0; i < m->num_params; i++) {
                const gs_param *p = &m->params[i];
                hsize_t dims[4];
                for (int k = 0; k < p->ndim; k++)
                    dims[k] = (hsize_t)p->shape[k];
                snprintf(path, sizeof path, "%s/step_%lld/%s/%s", GS_GRP_DUMP, step, phases[ph], p->name);
                hid_t sp = H5Screate_simple(p->ndim, dims, NULL);
                hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
                H5Pset_create_intermediate_group(lcpl, 1);
                hid_t ds = H5Dcreate2(rl->file, path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
                H5Pclose(lcpl);
                H5Sclose(sp);
                if (ds < 0)
                    return -1;
                H5Dclose(ds);
            }
        for (int b = 0; b < m->num_blocks; b++) {
            const gs_block *blk = &m->blocks[b];
            hsize_t dims[4] = {(hsize_t)rl->dump_batch, (hsize_t)blk->in_c, (hsize_t)blk->in_h, (hsize_t)blk->in_w};
            const char *parts[2] = {"dx_skip", "dx_residual"};
            for (int k = 0; k < 2; k++) {
                snprintf(path, sizeof path, "%s/step_%lld/blocks/%s/%s", GS_GRP_DUMP, step, blk->name, parts[k]);
                hid_t sp = H5Screate_simple(4, dims, NULL);
                hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
                H5Pset_create_intermediate_group(lcpl, 1);
                hid_t ds = H5Dcreate2(rl->file, path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
                H5Pclose(lcpl);
                H5Sclose(sp);
                if (ds < 0)
                    return -1;
                H5Dclose(ds);
            }
        }
    }
    return 0;
}

static int set_status(gs_runlog *rl, const char *status)
{
    char buf[16] = {0};
    snprintf(buf, sizeof buf, "%s", status);
    hid_t t = string_type(16);
    int rc = H5Dwrite(rl->status_ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
    H5Tclose(t);
    return rc;
}

static void runlog_free(gs_runlog *rl)
{
    for (int i = 0; i < rl->num_series; i++)
        series_close(rl->all[i]);
    if (rl->status_ds >= 0)
        H5Dclose(rl->status_ds);
    if (rl->file >= 0)
        H5Fclose(rl->file);
    free(rl->dump_steps);
    free(rl);
}

gs_runlog *gs_runlog_create(const gs_runlog_options *opts, const gs_model *m, char *err, size_t errsz)
{
    gs_runlog *rl = calloc(1, sizeof *rl);
    if (!rl) {
        snprintf(err, errsz, "%s: out of memory", opts->path);
        return NULL;
    }
    rl->file = rl->status_ds = H5I_INVALID_HID;
    snprintf(rl->path, sizeof rl->path, "%s", opts->path);
    rl->flush_seconds = opts->flush_seconds;
    rl->B = m->num_blocks;
    rl->P = m->num_params;
    rl->probes = opts->probes;
    rl->dump_batch = opts->dump_batch;
    if (opts->num_dump_steps > 0) {
        rl->dump_steps = malloc(sizeof(int64_t) * opts->num_dump_steps);
        if (!rl->dump_steps) {
            free(rl);
            snprintf(err, errsz, "%s: out of memory", opts->path);
            return NULL;
        }
        memcpy(rl->dump_steps, opts->dump_steps, sizeof(int64_t) * opts->num_dump_steps);
        rl->num_dump_steps = opts->num_dump_steps;
    }
    quiet_begin(rl);
    const char *stage = "create the file";
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    rl->file = H5Fcreate(opts->path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (rl->file < 0)
        goto fail;

    stage = "write the root attributes";
    if (attr_str(rl->file, GS_ATTR_FORMAT, GS_RUN_FORMAT) < 0 ||
        attr_i32(rl->file, GS_ATTR_FORMAT_VERSION, GS_RUN_FORMAT_VERSION) < 0 ||
        attr_str(rl->file, "NX_class", "NXroot") < 0 || attr_str(rl->file, "default", "train") < 0)
        goto fail;
    stage = "write /config";
    {
        const char *json = opts->config_json ? opts->config_json : "{}";
        hid_t t = string_type(strlen(json));
        int rc = write_fixed(rl->file, GS_DS_CONFIG, t, t, 0, NULL, json);
        H5Tclose(t);
        if (rc < 0)
            goto fail;
        char status[16] = "running";
        t = string_type(16);
        rc = write_fixed(rl->file, GS_DS_STATUS, t, t, 0, NULL, status);
        H5Tclose(t);
        if (rc < 0 || (rl->status_ds = H5Dopen2(rl->file, GS_DS_STATUS, H5P_DEFAULT)) < 0)
            goto fail;
    }
    stage = "write the model tables";
    if (write_model_tables(rl, m) < 0)
        goto fail;
    stage = "create the training series";
    if (create_train_series(rl) < 0 || create_epoch_series(rl) < 0)
        goto fail;
    stage = "create the probe datasets";
    if (opts->probes != GS_PROBES_OFF && create_probe_series(rl, 1) < 0)
        goto fail;
    stage = "create the gradient-dump datasets";
    if (create_dumps(rl, m) < 0)
        goto fail;
    stage = "start SWMR writing";
    if (H5Fstart_swmr_write(rl->file) < 0)
        goto fail;
    rl->last_flush = now_seconds();
    quiet_end(rl);
    return rl;

fail:
    snprintf(err, errsz, "%s: cannot %s", opts->path, stage);
    quiet_end(rl);
    runlog_free(rl);
    return NULL;
}

/* ---- appending ------------------------------------------------------------------------------ */

static int pushed(gs_runlog *rl, int rc, char *err, size_t errsz)
{
    if (rc != 0)
        snprintf(err, errsz, "%s: out of memory buffering rows", rl->path);
    return rc ? -1 : 0;
}

int gs_runlog_append_train(gs_runlog *rl, const gs_train_row *r, char *err, size_t errsz)
{
    int rc = series_push(&rl->train[0], &r->step);
    rc |= series_push(&rl->train[1], &r->epoch);
    rc |= series_push(&rl->train[2], &r->loss);
    rc |= series_push(&rl->train[3], &r->accuracy);
    rc |= series_push(&rl->train[4], &r->lr);
    rc |= series_push(&rl->train[5], &r->grad_norm_pre);
    rc |= series_push(&rl->train[6], &r->grad_norm_post);
    rc |= series_push(&rl->train[7], &r->wall_s);
    return pushed(rl, rc, err, errsz);
}

int gs_runlog_append_probe(gs_runlog *rl, const gs_probes *p, char *err, size_t errsz)
{
    if (rl->probes == GS_PROBES_OFF || !p)
        return 0;
    int rc = series_push(&rl->probe_step, &p->row.step);
    for (int s = 0; s < GS_BLOCK_STATS; s++)
        rc |= series_push(&rl->block[s], p->row.block[s]);
    for (int ph = 0; ph < GS_PHASES; ph++) {
        for (int s = 0; s < GS_PARAM_STATS; s++)
            rc |= series_push(&rl->param[ph][s], p->row.param[ph][s]);
        rc |= series_push(&rl->param[ph][GS_PARAM_STATS], p->row.nonfinite[ph]);
    }
    rc |= series_push(&rl->update_ratio, p->row.update_ratio);
    if (p->row_has_hist) {
        rc |= series_push(&rl->hist_step, &p->row_hist.step);
        for (int k = 0; k < GS_PARTS; k++)
            rc |= series_push(&rl->hist_block[k], p->row_hist.block[k]);
        for (int ph = 0; ph < GS_PHASES; ph++)
            rc |= series_push(&rl->hist_param[ph], p->row_hist.param[ph]);
    }
    return pushed(rl, rc, err, errsz);
}

int gs_runlog_append_epoch(gs_runlog *rl, const gs_epoch_row *r, const gs_probes *p, char *err, size_t errsz)
{
    float f[4] = {r->train_loss, r->train_acc, r->test_loss, r->test_acc};
    int rc = series_push(&rl->epochs[0], &r->epoch);
    for (int i = 0; i < 4; i++)
        rc |= series_push(&rl->epochs[1 + i], &f[i]);
    rc |= series_push(&rl->epochs[5], &r->wall_s);
    rc |= series_push(&rl->epochs[6], &r->images_per_s);
    if (rl->probes != GS_PROBES_OFF && p) {
        const gs_probe_epoch_row *e = &p->epoch_row;
        rc |= series_push(&rl->pe_epoch, &e->epoch);
        rc |= series_push(&rl->pe_steps, &e->steps);
        rc |= series_push(&rl->pe_hist_steps, &e->hist_steps);
        for (int s = 0; s < GS_BLOCK_STATS; s++) {
            rc |= series_push(&rl->pe_block_mean[s], e->block_mean[s]);
            rc |= series_push(&rl->pe_block_std[s], e->block_std[s]);
        }
        for (int k = 0; k < GS_PARTS; k++)
            rc |= series_push(&rl->pe_block_hist[k], e->block_hist[k]);
        for (int ph = 0; ph < GS_PHASES; ph++) {
            rc |= series_push(&rl->pe_param[ph][0], e->param_norm_mean[ph]);
            rc |= series_push(&rl->pe_param[ph][1], e->param_norm_std[ph]);
            rc |= series_push(&rl->pe_param[ph][2], e->param_std_mean[ph]);
            rc |= series_push(&rl->pe_param_hist[ph], e->param_hist[ph]);
        }
    }
    return pushed(rl, rc, err, errsz);
}

int gs_runlog_flush(gs_runlog *rl, char *err, size_t errsz)
{
    quiet_begin(rl);
    int rc = 0;
    for (int i = 0; i < rl->num_series && rc == 0; i++)
        rc = series_write(rl->all[i]);
    if (rc == 0 && H5Fflush(rl->file, H5F_SCOPE_GLOBAL) < 0)
        rc = -1;
    quiet_end(rl);
    rl->last_flush = now_seconds();
    if (rc != 0)
        snprintf(err, errsz, "%s: cannot append to the run log (disk full or file removed?)", rl->path);
    return rc;
}

int gs_runlog_maybe_flush(gs_runlog *rl, char *err, size_t errsz)
{
    if (rl->flush_seconds > 0 && now_seconds() - rl->last_flush >= rl->flush_seconds)
        return gs_runlog_flush(rl, err, errsz);
    return 0;
}

/* ---- dumps ------------------------------------------------------------------------------------- */

int gs_runlog_wants_dump(const gs_runlog *rl, int64_t step)
{
    for (int i = 0; i < rl->num_dump_steps; i++)
        if (rl->dump_steps[i] == step)
            return 1;
    return 0;
}

static int write_existing(hid_t file, const char *path, hid_t mem_type, const void *data)
{
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    int rc = H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    H5Dclose(ds);
    return rc;
}

int gs_runlog_dump_pre(gs_runlog *rl, int64_t step, double loss, const gs_model *m, char *err, size_t errsz)
{
    char path[512];
    long long st = (long long)step;
    int rc = 0;
    quiet_begin(rl);
    if (m->batch != rl->dump_batch) {
        snprintf(err, errsz, "%s: dump of step %lld: batch %d differs from the planned %d", rl->path, st, m->batch,
                 rl->dump_batch);
        quiet_end(rl);
        return -1;
    }
    snprintf(path, sizeof path, "%s/step_%lld/loss", GS_GRP_DUMP, st);
    rc |= write_existing(rl->file, path, H5T_NATIVE_DOUBLE, &loss);
    for (int i = 0; i < m->num_params && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/step_%lld/grad_pre/%s", GS_GRP_DUMP, st, m->params[i].name);
        rc |= write_existing(rl->file, path, H5T_NATIVE_FLOAT, m->params[i].grad);
    }
    for (int b = 0; b < m->num_blocks && rc == 0; b++) {
        snprintf(path, sizeof path, "%s/step_%lld/blocks/%s/dx_skip", GS_GRP_DUMP, st, m->blocks[b].name);
        rc |= write_existing(rl->file, path, H5T_NATIVE_FLOAT, m->blocks[b].dx_skip);
        snprintf(path, sizeof path, "%s/step_%lld/blocks/%s/dx_residual", GS_GRP_DUMP, st, m->blocks[b].name);
        rc |= write_existing(rl->file, path, H5T_NATIVE_FLOAT, m->blocks[b].dx_residual);
    }
    quiet_end(rl);
    if (rc)
        snprintf(err, errsz, "%s: cannot write the gradient dump of step %lld", rl->path, st);
    return rc ? -1 : 0;
}

int gs_runlog_dump_post(gs_runlog *rl, int64_t step, const gs_model *m, char *err, size_t errsz)
{
    char path[512];
    long long st = (long long)step;
    int rc = 0;
    quiet_begin(rl);
    for (int i = 0; i < m->num_params && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/step_%lld/grad_post/%s", GS_GRP_DUMP, st, m->params[i].name);
        rc |= write_existing(rl->file, path, H5T_NATIVE_FLOAT, m->params[i].grad);
    }
    int32_t one = 1;
    snprintf(path, sizeof path, "%s/step_%lld/written", GS_GRP_DUMP, st);
    rc |= rc ? 0 : write_existing(rl->file, path, H5T_NATIVE_INT32, &one);
    quiet_end(rl);
    if (rc)
        snprintf(err, errsz, "%s: cannot write the gradient dump of step %lld", rl->path, st);
    return rc ? -1 : 0;
}

int gs_runlog_close(gs_runlog *rl, const char *status, char *err, size_t errsz)
{
    if (!rl)
        return 0;
    int rc = gs_runlog_flush(rl, err, errsz);
    quiet_begin(rl);
    if (set_status(rl, status) < 0 && rc == 0) {
        snprintf(err, errsz, "%s: cannot write /status", rl->path);
        rc = -1;
    }
    for (int i = 0; i < rl->num_series; i++)
        series_close(rl->all[i]);
    rl->num_series = 0;
    H5Dclose(rl->status_ds);
    rl->status_ds = H5I_INVALID_HID;
    if (H5Fclose(rl->file) < 0 && rc == 0) {
        snprintf(err, errsz, "%s: cannot close the run log", rl->path);
        rc = -1;
    }
    rl->file = H5I_INVALID_HID;
    quiet_end(rl);
    runlog_free(rl);
    return rc;
}
