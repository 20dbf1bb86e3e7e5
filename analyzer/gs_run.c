/* gs_run.c — the run-log reader (see gs_run.h for the contract).
 *
 * HDF5 style: handles start as H5I_INVALID_HID and are closed on one cleanup path;
 * every return value is checked (except those of the H5*close calls on the cleanup
 * paths, where nothing better than carrying on is possible); HDF5's automatic error
 * printing is switched off for
 * the duration of each public call (run_quiet_begin/end) and restored afterwards, and
 * the innermost message of HDF5's error stack is folded into our one-line errors.
 *
 * Datasets are opened once and kept in a small cache (run->dsets) so that a SWMR
 * refresh can H5Drefresh every handle the run uses; the datasets that define the row
 * count of an axis are registered in that cache at open time.
 */
#define _GNU_SOURCE 1
#include "gs_run.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hdf5.h>

#define RUN_ERR_SIZE 1024

typedef struct run_dset {
    char   *path;
    hid_t   id;        /* H5I_INVALID_HID when absent */
    int     axis;      /* gs_axis when the dataset counts rows of an axis, else -1 */
    int     rank;
    hsize_t dims[3];   /* refreshed by run_count */
} run_dset;

struct gs_run {
    char   *path;
    hid_t   file;
    int     swmr;
    int     format_version;
    char    err[RUN_ERR_SIZE];

    char    status[32];
    double  idle_s;
    double  flush_s;          /* config flush_seconds, or 10 */
    char   *config_text;
    gs_json *config;

    size_t         nb, np;
    gs_block_info *blocks;
    gs_param_info *params;
    char         **block_names;     /* [nb] */
    char         **block_shortcuts; /* [nb] */
    char         **param_names;     /* [np] */
    char         **param_kinds;     /* [np] */
    int64_t        param_count;

    double *edges;   /* [nbins + 1] or NULL */
    size_t  nbins;

    size_t    rows[GS_AXIS_COUNT];
    run_dset *dsets;
    size_t    ndsets, capdsets;
};

/* ---- errors and HDF5 error printing ---------------------------------------------------- */

typedef struct run_quiet {
    H5E_auto2_t func;
    void       *data;
} run_quiet;

static run_quiet run_quiet_begin(void)
{
    run_quiet q = { NULL, NULL };
    if (H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data) < 0) {
        q.func = NULL;
        q.data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void run_quiet_end(run_quiet q)
{
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

typedef struct h5_err_find {
    char desc[256];
    int  found;
} h5_err_find;

static herr_t h5_err_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_err_find *f = data;
    if (!f->found && e && e->desc && e->desc[0]) {
        snprintf(f->desc, sizeof f->desc, "%s", e->desc);
        f->found = 1;
    }
    return 0;
}

/* The innermost description on HDF5's error stack ("truncated file: eof = …"), or "". */
static void h5_err_innermost(char *buf, size_t bufsz)
{
    h5_err_find f = { "", 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_err_walk, &f);
    H5Eclear2(H5E_DEFAULT);
    snprintf(buf, bufsz, "%s", f.desc);
}

static void run_fail(gs_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_fail(gs_run *run, const char *fmt, ...)
{
    char msg[RUN_ERR_SIZE - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(run->err, sizeof run->err, "%s: %s", run->path, msg);
}

/* Like run_fail, with HDF5's innermost error appended in parentheses. */
static void run_fail_h5(gs_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_fail_h5(gs_run *run, const char *fmt, ...)
{
    char msg[RUN_ERR_SIZE / 2], h5[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h5_err_innermost(h5, sizeof h5);
    if (h5[0])
        snprintf(run->err, sizeof run->err, "%s: %s (%s)", run->path, msg, h5);
    else
        snprintf(run->err, sizeof run->err, "%s: %s", run->path, msg);
}

const char *gs_axis_name(gs_axis axis)
{
    static const char *const names[GS_AXIS_COUNT] = { "train", "probe", "hist", "epochs",
                                                      "probe-epoch" };
    return (axis >= 0 && axis < GS_AXIS_COUNT) ? names[axis] : "?";
}

/* ---- small HDF5 helpers ------------------------------------------------------------------- */

/* 1 if every component of path exists as a link (so H5Dopen will not fail for that). */
static int h5_path_exists(hid_t file, const char *path)
{
    char buf[512];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
            buf[i] = c;
            if (e <= 0)
                return 0;
        }
    }
    return 1;
}

static int h5_is_dataset(hid_t file, const char *path)
{
    H5O_info_t info;
    if (!h5_path_exists(file, path))
        return 0;
    if (H5Oget_info_by_name2(file, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return 0;
    return info.type == H5O_TYPE_DATASET;
}

static int h5_is_group(hid_t file, const char *path)
{
    H5O_info_t info;
    if (strcmp(path, "/") != 0 && !h5_path_exists(file, path))
        return 0;
    if (H5Oget_info_by_name2(file, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return 0;
    return info.type == H5O_TYPE_GROUP;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Copy a fixed-length HDF5 string element (not necessarily NUL-terminated, maybe
 * space-padded) into a new NUL-terminated string. */
static char *copy_fixed_string(const char *src, size_t len, int space_padded)
{
    size_t n = strnlen(src, len);
    if (space_padded)
        while (n > 0 && src[n - 1] == ' ')
            n--;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, src, n);
    d[n] = '\0';
    return d;
}

/* Read a string dataset or attribute (obj is a dataset id when is_attr = 0, an
 * attribute id when is_attr = 1) of n elements (scalar: n = 1) into out[n] (malloc'd
 * strings).  Handles fixed-length and variable-length strings.  Returns 0 or -1. */
static int h5_read_strings(hid_t obj, int is_attr, size_t n, char **out)
{
    hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    char *fixed = NULL;
    char **var = NULL;
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING)
        goto done;
    mtype = H5Tcopy(H5T_C_S1);
    if (mtype < 0)
        goto done;
    /* read in the file's character set (HDF5 does not convert ASCII <-> UTF-8) */
    H5T_cset_t cset = H5Tget_cset(ftype);
    if (cset < 0 || H5Tset_cset(mtype, cset) < 0)
        goto done;
    htri_t is_var = H5Tis_variable_str(ftype);
    if (is_var < 0)
        goto done;
    if (is_var) {
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0)
            goto done;
        var = calloc(n ? n : 1, sizeof *var);
        if (!var)
            goto done;
        herr_t r = is_attr ? H5Aread(obj, mtype, var) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, var);
        if (r < 0)
            goto done;
        for (size_t i = 0; i < n; i++) {
            out[i] = xstrdup(var[i] ? var[i] : "");
            if (!out[i])
                break;
        }
        space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
        if (space >= 0)
            H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, var);
    } else {
        size_t len = H5Tget_size(ftype);
        if (len == 0)
            goto done;
        if (H5Tset_size(mtype, len) < 0)
            goto done;
        H5T_str_t pad = H5Tget_strpad(ftype);
        if (H5Tset_strpad(mtype, pad == H5T_STR_SPACEPAD ? H5T_STR_SPACEPAD : H5T_STR_NULLPAD) < 0)
            goto done;
        fixed = malloc(len * (n ? n : 1));
        if (!fixed)
            goto done;
        herr_t r = is_attr ? H5Aread(obj, mtype, fixed) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed);
        if (r < 0)
            goto done;
        for (size_t i = 0; i < n; i++) {
            out[i] = copy_fixed_string(fixed + i * len, len, pad == H5T_STR_SPACEPAD);
            if (!out[i])
                break;
        }
    }
    rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!out[i])
            rc = -1;
done:
    if (rc != 0)
        for (size_t i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    free(fixed);
    free(var);
    if (space >= 0)
        H5Sclose(space);
    if (mtype >= 0)
        H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    return rc;
}

/* ---- the dataset cache ------------------------------------------------------------------- */

static run_dset *run_find_dset(gs_run *run, const char *path)
{
    for (size_t i = 0; i < run->ndsets; i++)
        if (strcmp(run->dsets[i].path, path) == 0)
            return &run->dsets[i];
    return NULL;
}

static int run_dset_dims(run_dset *d)
{
    hid_t space = H5I_INVALID_HID;
    int rc = -1;
    if (d->id < 0)
        return -1;
    space = H5Dget_space(d->id);
    if (space < 0)
        goto done;
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0)
        goto done;
    hsize_t dims[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        goto done;
    d->rank = rank;
    for (int i = 0; i < 3; i++)
        d->dims[i] = (i < rank) ? dims[i] : 0;
    rc = 0;
done:
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

/* The cached dataset at path, opening it on first use; NULL when the dataset does not
 * exist (that is remembered too) or on error (then run->err is set). */
static run_dset *run_dset_get(gs_run *run, const char *path, int axis)
{
    run_dset *d = run_find_dset(run, path);
    if (d) {
        if (axis >= 0 && d->axis < 0)
            d->axis = axis;
        return d->id >= 0 ? d : NULL;
    }
    if (run->ndsets == run->capdsets) {
        size_t ncap = run->capdsets ? run->capdsets * 2 : 64;
        run_dset *nd = realloc(run->dsets, ncap * sizeof *nd);
        if (!nd) {
            run_fail(run, "out of memory");
            return NULL;
        }
        run->dsets = nd;
        run->capdsets = ncap;
    }
    d = &run->dsets[run->ndsets];
    memset(d, 0, sizeof *d);
    d->id = H5I_INVALID_HID;
    d->axis = axis;
    d->path = xstrdup(path);
    if (!d->path) {
        run_fail(run, "out of memory");
        return NULL;
    }
    run->ndsets++;
    if (!h5_is_dataset(run->file, path))
        return NULL;
    d->id = H5Dopen2(run->file, path, H5P_DEFAULT);
    if (d->id < 0) {
        d->id = H5I_INVALID_HID;
        run_fail_h5(run, "cannot open %s (truncated or damaged file)", path);
        return NULL;
    }
    if (run_dset_dims(d) != 0) {
        run_fail_h5(run, "cannot read the shape of %s", path);
        return NULL;
    }
    return d;
}

/* Columns a dataset under path must have (blocks or params, naming the unit in *unit),
 * or 0 when unconstrained. */
static size_t run_expected_cols(const gs_run *run, const char *path, const char **unit)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    *unit = "";
    if (strncmp(path, GS_GRP_PROBE_HIST "/", strlen(GS_GRP_PROBE_HIST) + 1) == 0) {
        if (!strcmp(base, GS_HIST_SKIP) || !strcmp(base, GS_HIST_RESIDUAL) || !strcmp(base, GS_HIST_SUM)) {
            *unit = "block";
            return run->nb;
        }
        if (!strcmp(base, GS_HIST_PRE) || !strcmp(base, GS_HIST_POST)) {
            *unit = "parameter tensor";
            return run->np;
        }
        return 0;
    }
    if (strstr(path, "/blocks/")) {
        *unit = "block";
        return run->nb;
    }
    if (strstr(path, "/params/")) {
        *unit = "parameter tensor";
        return run->np;
    }
    return 0;
}

/* Check a registered dataset's shape against the model; sets run->err on mismatch. */
static int run_check_shape(gs_run *run, const run_dset *d)
{
    const char *unit = "";
    size_t want = run_expected_cols(run, d->path, &unit);
    if (d->rank < 1 || d->rank > 3) {
        run_fail(run, "%s has rank %d, expected 1 to 3", d->path, d->rank);
        return -1;
    }
    if (d->rank >= 2 && want && d->dims[1] != want) {
        run_fail(run, "%s has %llu columns, expected %zu (one per %s)", d->path,
                 (unsigned long long)d->dims[1], want, unit);
        return -1;
    }
    if (d->rank == 3 && run->edges && d->dims[2] != run->nbins) {
        run_fail(run, "%s has %llu histogram bins, expected %zu (from %s)", d->path,
                 (unsigned long long)d->dims[2], run->nbins, GS_DS_HIST_EDGES);
        return -1;
    }
    return 0;
}

typedef struct run_visit {
    gs_run     *run;
    const char *group;
    int         axis;
    int         failed;
} run_visit;

static herr_t run_visit_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    run_visit *v = data;
    char path[512];
    if (info->type != H5L_TYPE_HARD)
        return 0;
    if (snprintf(path, sizeof path, "%s/%s", v->group, name) >= (int)sizeof path)
        return 0;
    if (!h5_is_dataset(v->run->file, path))
        return 0;
    run_dset *d = run_dset_get(v->run, path, v->axis);
    if (!d) {
        v->failed = 1;
        return -1;
    }
    return 0;
}

/* Register every dataset under group (recursively) as counting rows of axis. */
static int run_register_group(gs_run *run, const char *group, gs_axis axis)
{
    hid_t g = H5I_INVALID_HID;
    int rc = -1;
    if (!h5_is_group(run->file, group))
        return 0;
    g = H5Gopen2(run->file, group, H5P_DEFAULT);
    if (g < 0) {
        run_fail_h5(run, "cannot open group %s (truncated or damaged file)", group);
        return -1;
    }
    run_visit v = { run, group, (int)axis, 0 };
    herr_t r = H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, run_visit_cb, &v);
    if (v.failed)
        goto done;   /* run->err set by run_dset_get */
    if (r < 0) {
        run_fail_h5(run, "cannot list group %s (truncated or damaged file)", group);
        goto done;
    }
    rc = 0;
done:
    H5Gclose(g);
    return rc;
}

static int run_register_axes(gs_run *run)
{
    if (run_register_group(run, GS_GRP_TRAIN, GS_AXIS_TRAIN) != 0)
        return -1;
    if (h5_is_dataset(run->file, GS_DS_PROBE_STEP) && !run_dset_get(run, GS_DS_PROBE_STEP, GS_AXIS_PROBE))
        return -1;
    if (run_register_group(run, GS_GRP_PROBE_BLOCKS, GS_AXIS_PROBE) != 0)
        return -1;
    if (run_register_group(run, "/probe/params", GS_AXIS_PROBE) != 0)
        return -1;
    if (run_register_group(run, GS_GRP_PROBE_HIST, GS_AXIS_HIST) != 0)
        return -1;
    if (run_register_group(run, GS_GRP_EPOCHS, GS_AXIS_EPOCHS) != 0)
        return -1;
    if (run_register_group(run, GS_GRP_PROBE_EPOCH, GS_AXIS_PROBE_EPOCH) != 0)
        return -1;
    return 0;
}

/* Recompute the rows of every axis from the (refreshed) shapes of its datasets. */
static int run_count(gs_run *run)
{
    int seen[GS_AXIS_COUNT] = { 0 };
    size_t rows[GS_AXIS_COUNT] = { 0 };
    for (size_t i = 0; i < run->ndsets; i++) {
        run_dset *d = &run->dsets[i];
        if (d->id < 0 || d->axis < 0)
            continue;
        if (run_dset_dims(d) != 0) {
            run_fail_h5(run, "cannot read the shape of %s (truncated or damaged file)", d->path);
            return -1;
        }
        if (run_check_shape(run, d) != 0)
            return -1;
        size_t n = (size_t)d->dims[0];
        if (!seen[d->axis] || n < rows[d->axis])
            rows[d->axis] = n;
        seen[d->axis] = 1;
    }
    memcpy(run->rows, rows, sizeof rows);
    return 0;
}

/* ---- opening ----------------------------------------------------------------------------- */

static int file_has_hdf5_signature(const char *path)
{
    static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
    unsigned char buf[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int found = 0;
    /* the superblock is at 0 or at 512, 1024, 2048, … (user block) */
    for (long off = 0; off <= (1L << 24) && !found; off = off ? off * 2 : 512) {
        if (fseek(f, off, SEEK_SET) != 0 || fread(buf, 1, 8, f) != 8)
            break;
        found = memcmp(buf, sig, 8) == 0;
    }
    fclose(f);
    return found;
}

static int run_read_status(gs_run *run)
{
    char *s = NULL;
    run->status[0] = '\0';
    run_dset *d = run_dset_get(run, GS_DS_STATUS, -1);
    if (!d)
        return run->err[0] ? -1 : 0;
    if (run->swmr && H5Drefresh(d->id) < 0) {
        run_fail_h5(run, "cannot refresh %s", GS_DS_STATUS);
        return -1;
    }
    if (h5_read_strings(d->id, 0, 1, &s) != 0) {
        run_fail_h5(run, "cannot read %s", GS_DS_STATUS);
        return -1;
    }
    snprintf(run->status, sizeof run->status, "%s", s);
    free(s);
    return 0;
}

static void run_read_idle(gs_run *run)
{
    struct stat st;
    run->idle_s = 0.0;
    if (stat(run->path, &st) == 0)
        run->idle_s = difftime(time(NULL), st.st_mtime);
}

static int run_read_root(gs_run *run)
{
    hid_t attr = H5I_INVALID_HID, atype = H5I_INVALID_HID;
    char *format = NULL;
    int rc = -1;

    htri_t has = H5Aexists(run->file, GS_ATTR_FORMAT);
    if (has <= 0) {
        run_fail(run, "not a gradscope run (no %s attribute)", GS_ATTR_FORMAT);
        goto done;
    }
    attr = H5Aopen(run->file, GS_ATTR_FORMAT, H5P_DEFAULT);
    if (attr < 0 || h5_read_strings(attr, 1, 1, &format) != 0) {
        run_fail_h5(run, "not a gradscope run (unreadable %s attribute)", GS_ATTR_FORMAT);
        goto done;
    }
    H5Aclose(attr);
    attr = H5I_INVALID_HID;
    if (strcmp(format, GS_RUN_FORMAT) != 0) {
        for (char *p = format; *p; p++)   /* keep the message on one printable line */
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        run_fail(run, "not a gradscope run (%s is '%.60s', expected '%s')", GS_ATTR_FORMAT, format,
                 GS_RUN_FORMAT);
        goto done;
    }
    has = H5Aexists(run->file, GS_ATTR_FORMAT_VERSION);
    if (has <= 0) {
        run_fail(run, "not a gradscope run (no %s attribute)", GS_ATTR_FORMAT_VERSION);
        goto done;
    }
    attr = H5Aopen(run->file, GS_ATTR_FORMAT_VERSION, H5P_DEFAULT);
    if (attr < 0) {
        run_fail_h5(run, "cannot open the %s attribute", GS_ATTR_FORMAT_VERSION);
        goto done;
    }
    atype = H5Aget_type(attr);
    if (atype < 0 || H5Tget_class(atype) != H5T_INTEGER) {
        run_fail(run, "%s is not an integer", GS_ATTR_FORMAT_VERSION);
        goto done;
    }
    int version = 0;
    if (H5Aread(attr, H5T_NATIVE_INT, &version) < 0) {
        run_fail_h5(run, "cannot read the %s attribute", GS_ATTR_FORMAT_VERSION);
        goto done;
    }
    if (version > GS_RUN_FORMAT_VERSION) {
        run_fail(run, "%s %d is newer than this gradscope reads (%d)", GS_ATTR_FORMAT_VERSION, version,
                 GS_RUN_FORMAT_VERSION);
        goto done;
    }
    if (version < 1) {
        run_fail(run, "%s %d is not valid (expected 1 to %d)", GS_ATTR_FORMAT_VERSION, version,
                 GS_RUN_FORMAT_VERSION);
        goto done;
    }
    run->format_version = version;
    rc = 0;
done:
    free(format);
    if (atype >= 0)
        H5Tclose(atype);
    if (attr >= 0)
        H5Aclose(attr);
    return rc;
}

static int run_read_config(gs_run *run)
{
    char *text = NULL;
    run->flush_s = 10.0;
    if (h5_is_dataset(run->file, GS_DS_CONFIG)) {
        hid_t d = H5Dopen2(run->file, GS_DS_CONFIG, H5P_DEFAULT);
        if (d < 0 || h5_read_strings(d, 0, 1, &text) != 0) {
            if (d >= 0)
                H5Dclose(d);
            run_fail_h5(run, "cannot read %s (truncated or damaged file)", GS_DS_CONFIG);
            return -1;
        }
        H5Dclose(d);
    }
    run->config_text = text ? text : xstrdup("");
    if (!run->config_text) {
        run_fail(run, "out of memory");
        return -1;
    }
    if (run->config_text[0])
        run->config = gs_json_parse(run->config_text, NULL, 0);
    double fs = gs_json_num(gs_json_get(run->config, "flush_seconds"), 10.0);
    if (fs > 0)
        run->flush_s = fs;
    return 0;
}

/* Read a 1-D or 2-D integer table of exactly n rows (and cols columns) into out;
 * a missing dataset leaves out untouched and returns 0 unless required. */
static int run_read_ints(gs_run *run, const char *path, size_t n, size_t cols, hid_t mtype, void *out,
                         int required)
{
    hid_t d = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = -1;
    if (!h5_is_dataset(run->file, path)) {
        if (required)
            run_fail(run, "not a gradscope run (no %s)", path);
        return required ? -1 : 0;
    }
    d = H5Dopen2(run->file, path, H5P_DEFAULT);
    if (d < 0) {
        run_fail_h5(run, "cannot open %s (truncated or damaged file)", path);
        goto done;
    }
    space = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    if (rank < 0) {
        run_fail_h5(run, "cannot read the shape of %s", path);
        goto done;
    }
    int ok = (cols == 1) ? (rank == 1 && dims[0] == n) : (rank == 2 && dims[0] == n && dims[1] == cols);
    if (!ok) {
        run_fail(run, "%s has the wrong shape (expected [%zu%s])", path, n, cols == 1 ? "" : ", …");
        goto done;
    }
    if (n > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        run_fail_h5(run, "cannot read %s (truncated or damaged file)", path);
        goto done;
    }
    rc = 0;
done:
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* Read a 1-D string table; *n is its length (set when expect == SIZE_MAX, else checked). */
static int run_read_name_table(gs_run *run, const char *path, size_t expect, size_t *n, char ***out,
                               int required)
{
    hid_t d = H5I_INVALID_HID, space = H5I_INVALID_HID;
    char **names = NULL;
    int rc = -1;
    *out = NULL;
    if (!h5_is_dataset(run->file, path)) {
        if (required)
            run_fail(run, "not a gradscope run (no %s)", path);
        return required ? -1 : 0;
    }
    d = H5Dopen2(run->file, path, H5P_DEFAULT);
    if (d < 0) {
        run_fail_h5(run, "cannot open %s (truncated or damaged file)", path);
        goto done;
    }
    space = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    if (rank != 1) {
        run_fail(run, "%s is not a 1-D table", path);
        goto done;
    }
    if (expect != SIZE_MAX && dims[0] != expect) {
        run_fail(run, "%s has %llu entries, expected %zu", path, (unsigned long long)dims[0], expect);
        goto done;
    }
    size_t count = (size_t)dims[0];
    names = calloc(count ? count : 1, sizeof *names);
    if (!names) {
        run_fail(run, "out of memory");
        goto done;
    }
    if (count > 0 && h5_read_strings(d, 0, count, names) != 0) {
        run_fail_h5(run, "cannot read the strings of %s", path);
        goto done;
    }
    *n = count;
    *out = names;
    names = NULL;
    rc = 0;
done:
    free(names);
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static int run_read_model(gs_run *run)
{
    int *ibuf = NULL;
    int64_t *lbuf = NULL;
    int rc = -1;
    size_t nb = 0, np = 0, dummy = 0;

    if (run_read_name_table(run, GS_DS_BLOCK_NAME, SIZE_MAX, &nb, &run->block_names, 1) != 0)
        goto done;
    run->nb = nb;
    if (run_read_name_table(run, GS_DS_PARAM_NAME, SIZE_MAX, &np, &run->param_names, 1) != 0)
        goto done;
    run->np = np;
    if (run_read_name_table(run, GS_DS_BLOCK_SHORTCUT, nb, &dummy, &run->block_shortcuts, 0) != 0)
        goto done;
    if (run_read_name_table(run, GS_DS_PARAM_KIND, np, &dummy, &run->param_kinds, 0) != 0)
        goto done;

    run->blocks = calloc(nb ? nb : 1, sizeof *run->blocks);
    run->params = calloc(np ? np : 1, sizeof *run->params);
    size_t most = (nb > np ? nb : np) * 4 + 4;
    ibuf = calloc(most, sizeof *ibuf);
    lbuf = calloc(np + 1, sizeof *lbuf);
    if (!run->blocks || !run->params || !ibuf || !lbuf) {
        run_fail(run, "out of memory");
        goto done;
    }
    for (size_t b = 0; b < nb; b++) {
        run->blocks[b].name = run->block_names[b];
        run->blocks[b].shortcut = run->block_shortcuts ? run->block_shortcuts[b] : "";
    }
    for (size_t p = 0; p < np; p++) {
        run->params[p].name = run->param_names[p];
        run->params[p].kind = run->param_kinds ? run->param_kinds[p] : "";
        run->params[p].block = -1;
    }

    /* optional integer tables: each read only when present, checked for its shape */
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_BLOCK_STAGE, nb, 1, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t b = 0; b < nb; b++)
        run->blocks[b].stage = ibuf[b];
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_BLOCK_INDEX, nb, 1, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t b = 0; b < nb; b++)
        run->blocks[b].index = ibuf[b];
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_BLOCK_IN_SHAPE, nb, 3, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t b = 0; b < nb; b++)
        memcpy(run->blocks[b].in_shape, ibuf + 3 * b, 3 * sizeof(int));
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_BLOCK_OUT_SHAPE, nb, 3, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t b = 0; b < nb; b++)
        memcpy(run->blocks[b].out_shape, ibuf + 3 * b, 3 * sizeof(int));
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_PARAM_SHAPE, np, 4, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t p = 0; p < np; p++)
        memcpy(run->params[p].shape, ibuf + 4 * p, 4 * sizeof(int));
    memset(ibuf, 0, most * sizeof *ibuf);
    if (run_read_ints(run, GS_DS_PARAM_NDIM, np, 1, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t p = 0; p < np; p++)
        run->params[p].ndim = ibuf[p];
    for (size_t p = 0; p < np; p++)
        ibuf[p] = -1;
    if (run_read_ints(run, GS_DS_PARAM_BLOCK, np, 1, H5T_NATIVE_INT, ibuf, 0) != 0)
        goto done;
    for (size_t p = 0; p < np; p++)
        run->params[p].block = ibuf[p];

    for (size_t p = 0; p < np; p++) {
        int blk = run->params[p].block;
        if (blk < -1 || blk >= (int)nb) {
            run_fail(run, "%s[%zu] = %d is not a block index (0..%zu or -1)", GS_DS_PARAM_BLOCK, p, blk,
                     nb ? nb - 1 : 0);
            goto done;
        }
    }
    if (h5_is_dataset(run->file, GS_DS_PARAM_NUMEL)) {
        if (run_read_ints(run, GS_DS_PARAM_NUMEL, np, 1, H5T_NATIVE_INT64, lbuf, 0) != 0)
            goto done;
        for (size_t p = 0; p < np; p++)
            run->params[p].numel = lbuf[p];
    } else {
        for (size_t p = 0; p < np; p++) {
            int64_t n = run->params[p].ndim > 0 ? 1 : 0;
            for (int k = 0; k < run->params[p].ndim && k < 4; k++)
                n *= run->params[p].shape[k];
            run->params[p].numel = n;
        }
    }
    run->param_count = 0;
    for (size_t p = 0; p < np; p++)
        run->param_count += run->params[p].numel;
    rc = 0;
done:
    free(ibuf);
    free(lbuf);
    return rc;
}

static int run_read_edges(gs_run *run)
{
    hid_t d = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = -1;
    if (!h5_is_dataset(run->file, GS_DS_HIST_EDGES))
        return 0;
    d = H5Dopen2(run->file, GS_DS_HIST_EDGES, H5P_DEFAULT);
    if (d < 0) {
        run_fail_h5(run, "cannot open %s (truncated or damaged file)", GS_DS_HIST_EDGES);
        goto done;
    }
    space = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    if (rank != 1 || dims[0] < 2 || dims[0] > 100000) {
        run_fail(run, "%s is not a 1-D table of at least 2 edges", GS_DS_HIST_EDGES);
        goto done;
    }
    run->edges = malloc((size_t)dims[0] * sizeof *run->edges);
    if (!run->edges) {
        run_fail(run, "out of memory");
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, run->edges) < 0) {
        run_fail_h5(run, "cannot read %s (truncated or damaged file)", GS_DS_HIST_EDGES);
        free(run->edges);
        run->edges = NULL;
        goto done;
    }
    run->nbins = (size_t)dims[0] - 1;
    rc = 0;
done:
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static gs_run *run_open(const char *path, char *err, size_t errsz)
{
    gs_run *run = NULL;
    hid_t fapl = H5I_INVALID_HID;
    struct stat st;

    if (err && errsz)
        err[0] = '\0';
    run = calloc(1, sizeof *run);
    if (!run) {
        if (err)
            snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    run->file = H5I_INVALID_HID;
    run->path = xstrdup(path);
    if (!run->path) {
        free(run);
        if (err)
            snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }

    if (stat(path, &st) != 0) {
        run_fail(run, "%s", strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        run_fail(run, "is a directory, not a run log");
        goto fail;
    }
    if (st.st_size == 0) {
        run_fail(run, "empty file, not a run log");
        goto fail;
    }
    if (!file_has_hdf5_signature(path)) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            run_fail(run, "%s", strerror(errno));
            goto fail;
        }
        fclose(f);
        run_fail(run, "not an HDF5 file (no HDF5 signature)");
        goto fail;
    }

    /* Plain read-only first: HDF5 then checks the file's end against the stored end of
     * allocation (a truncated file is refused here).  A file a SWMR writer has open (or
     * had open when it was killed) is refused by this open; SWMR-read mode opens it. */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        run_fail_h5(run, "cannot create HDF5 file-access properties");
        goto fail;
    }
    run->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (run->file < 0) {
        char first[256];
        h5_err_innermost(first, sizeof first);
        run->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
        if (run->file < 0) {
            run->file = H5I_INVALID_HID;
            H5Eclear2(H5E_DEFAULT);
            if (first[0])
                run_fail(run, "truncated or damaged HDF5 file (%s)", first);
            else
                run_fail(run, "truncated or damaged HDF5 file");
            goto fail;
        }
        run->swmr = 1;
    }
    H5Pclose(fapl);
    fapl = H5I_INVALID_HID;

    if (run_read_root(run) != 0)
        goto fail;
    if (run_read_config(run) != 0)
        goto fail;
    if (run_read_model(run) != 0)
        goto fail;
    if (run_read_edges(run) != 0)
        goto fail;
    if (run_read_status(run) != 0)
        goto fail;
    if (run_register_axes(run) != 0)
        goto fail;
    if (run_count(run) != 0)
        goto fail;
    run_read_idle(run);
    return run;

fail:
    if (err)
        snprintf(err, errsz, "%s", run->err);
    if (fapl >= 0)
        H5Pclose(fapl);
    gs_run_close(run);
    return NULL;
}

gs_run *gs_run_open(const char *path, char *err, size_t errsz)
{
    /* HDF5 may keep internal objects of a damaged file's metadata alive even after the
     * file closes; its atexit handler then prints "HDF5: infinite loop closing library"
     * on stderr.  A reader has nothing to flush at exit, so ask HDF5 (before its first
     * use in this process; later it has no effect) not to install that handler. */
    static int atexit_done;
    if (!atexit_done) {
        atexit_done = 1;
        H5dont_atexit();
    }
    if (!path) {
        if (err && errsz)
            snprintf(err, errsz, "(null): no run file given");
        return NULL;
    }
    run_quiet q = run_quiet_begin();
    gs_run *run = run_open(path, err, errsz);
    run_quiet_end(q);
    return run;
}

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void gs_run_close(gs_run *run)
{
    if (!run)
        return;
    run_quiet q = run_quiet_begin();
    for (size_t i = 0; i < run->ndsets; i++) {
        if (run->dsets[i].id >= 0)
            H5Dclose(run->dsets[i].id);
        free(run->dsets[i].path);
    }
    free(run->dsets);
    if (run->file >= 0)
        H5Fclose(run->file);
    run_quiet_end(q);
    free_strings(run->block_names, run->nb);
    free_strings(run->block_shortcuts, run->nb);
    free_strings(run->param_names, run->np);
    free_strings(run->param_kinds, run->np);
    free(run->blocks);
    free(run->params);
    free(run->edges);
    free(run->config_text);
    gs_json_free(run->config);
    free(run->path);
    free(run);
}

int gs_run_refresh(gs_run *run)
{
    int rc = -1;
    run_quiet q = run_quiet_begin();
    run->err[0] = '\0';
    if (run->swmr) {
        for (size_t i = 0; i < run->ndsets; i++) {
            if (run->dsets[i].id < 0)
                continue;
            if (H5Drefresh(run->dsets[i].id) < 0) {
                run_fail_h5(run, "cannot refresh %s", run->dsets[i].path);
                goto done;
            }
        }
    }
    if (run_count(run) != 0)
        goto done;
    if (run_read_status(run) != 0)
        goto done;
    run_read_idle(run);
    rc = 0;
done:
    run_quiet_end(q);
    return rc;
}

/* ---- accessors ------------------------------------------------------------------------------ */

const char *gs_run_error(const gs_run *run) { return run ? run->err : "no run"; }
const char *gs_run_path(const gs_run *run) { return run->path; }
int gs_run_format_version(const gs_run *run) { return run->format_version; }
int gs_run_is_swmr(const gs_run *run) { return run->swmr; }
const char *gs_run_status(const gs_run *run) { return run->status; }
double gs_run_idle_seconds(const gs_run *run) { return run->idle_s; }
const char *gs_run_config_text(const gs_run *run) { return run->config_text; }
const gs_json *gs_run_config(const gs_run *run) { return run->config; }
size_t gs_run_n_blocks(const gs_run *run) { return run->nb; }
size_t gs_run_n_params(const gs_run *run) { return run->np; }
int64_t gs_run_param_count(const gs_run *run) { return run->param_count; }
const char *const *gs_run_block_names(const gs_run *run) { return (const char *const *)run->block_names; }
const char *const *gs_run_param_names(const gs_run *run) { return (const char *const *)run->param_names; }

int gs_run_is_live(const gs_run *run)
{
    double limit = 3.0 * run->flush_s;
    if (limit < 30.0)
        limit = 30.0;
    return run->swmr && strcmp(run->status, "running") == 0 && run->idle_s < limit;
}

const gs_block_info *gs_run_block(const gs_run *run, size_t i)
{
    return i < run->nb ? &run->blocks[i] : NULL;
}

const gs_param_info *gs_run_param(const gs_run *run, size_t i)
{
    return i < run->np ? &run->params[i] : NULL;
}

size_t gs_run_rows(const gs_run *run, gs_axis axis)
{
    return (axis >= 0 && axis < GS_AXIS_COUNT) ? run->rows[axis] : 0;
}

const double *gs_run_hist_edges(const gs_run *run, size_t *nbins)
{
    if (nbins)
        *nbins = run->edges ? run->nbins : 0;
    return run->edges;
}

int gs_run_has(gs_run *run, const char *path)
{
    run_quiet q = run_quiet_begin();
    char saved[RUN_ERR_SIZE];
    memcpy(saved, run->err, sizeof saved);
    int has = run_dset_get(run, path, -1) != NULL;
    memcpy(run->err, saved, sizeof saved);
    run_quiet_end(q);
    return has;
}

size_t gs_run_columns(gs_run *run, const char *path)
{
    run_quiet q = run_quiet_begin();
    char saved[RUN_ERR_SIZE];
    memcpy(saved, run->err, sizeof saved);
    run_dset *d = run_dset_get(run, path, -1);
    memcpy(run->err, saved, sizeof saved);
    run_quiet_end(q);
    if (!d)
        return 0;
    return d->rank == 1 ? 1 : (size_t)d->dims[1];
}

/* ---- dumps ------------------------------------------------------------------------------------ */

typedef struct dump_list {
    gs_dump_info *v;
    size_t        n, cap;
    int           oom;
} dump_list;

static herr_t dump_iter_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    dump_list *l = data;
    char *end = NULL;
    if (strncmp(name, "step_", 5) != 0)
        return 0;
    long long step = strtoll(name + 5, &end, 10);
    if (!end || *end != '\0' || end == name + 5)
        return 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        gs_dump_info *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv) {
            l->oom = 1;
            return -1;
        }
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].step = step;
    l->v[l->n].written = 0;
    l->n++;
    return 0;
}

static int dump_cmp(const void *a, const void *b)
{
    const gs_dump_info *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

int gs_run_list_dumps(gs_run *run, gs_dump_info **out, size_t *n)
{
    dump_list l = { NULL, 0, 0, 0 };
    hid_t g = H5I_INVALID_HID;
    int rc = -1;
    run_quiet q = run_quiet_begin();
    *out = NULL;
    *n = 0;
    if (!h5_is_group(run->file, GS_GRP_DUMP)) {
        rc = 0;
        goto done;
    }
    g = H5Gopen2(run->file, GS_GRP_DUMP, H5P_DEFAULT);
    if (g < 0) {
        run_fail_h5(run, "cannot open %s", GS_GRP_DUMP);
        goto done;
    }
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, dump_iter_cb, &l) < 0) {
        run_fail_h5(run, l.oom ? "out of memory" : "cannot list %s", GS_GRP_DUMP);
        goto done;
    }
    qsort(l.v, l.n, sizeof *l.v, dump_cmp);
    for (size_t i = 0; i < l.n; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/step_%lld/written", GS_GRP_DUMP, (long long)l.v[i].step);
        if (!h5_is_dataset(run->file, path))
            continue;
        hid_t d = H5Dopen2(run->file, path, H5P_DEFAULT);
        int w = 0;
        if (d < 0 || (run->swmr && H5Drefresh(d) < 0) ||
            H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &w) < 0) {
            run_fail_h5(run, "cannot read %s (truncated or damaged file)", path);
            if (d >= 0)
                H5Dclose(d);
            goto done;
        }
        l.v[i].written = w != 0;
        H5Dclose(d);
    }
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    rc = 0;
done:
    free(l.v);
    if (g >= 0)
        H5Gclose(g);
    run_quiet_end(q);
    return rc;
}

/* ---- selection ------------------------------------------------------------------------------- */

int gs_select_names(const char *const *names, size_t n, const char *regex, gs_selection *out,
                    char *err, size_t errsz)
{
    regex_t re;
    int use_re = regex && regex[0];
    out->n = 0;
    out->idx = NULL;
    if (use_re) {
        int rc = regcomp(&re, regex, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[200];
            regerror(rc, &re, msg, sizeof msg);
            if (err && errsz)
                snprintf(err, errsz, "bad regular expression '%s': %s", regex, msg);
            return -1;
        }
    }
    out->idx = malloc((n ? n : 1) * sizeof *out->idx);
    if (!out->idx) {
        if (use_re)
            regfree(&re);
        if (err && errsz)
            snprintf(err, errsz, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!use_re || regexec(&re, names[i], 0, NULL, 0) == 0)
            out->idx[out->n++] = i;
    if (use_re)
        regfree(&re);
    return 0;
}

static int run_select(gs_run *run, const char *const *names, size_t n, const char *regex,
                      gs_selection *out)
{
    char msg[400];
    if (gs_select_names(names, n, regex, out, msg, sizeof msg) != 0) {
        run_fail(run, "%s", msg);
        return -1;
    }
    return 0;
}

int gs_run_select_blocks(gs_run *run, const char *regex, gs_selection *out)
{
    return run_select(run, gs_run_block_names(run), run->nb, regex, out);
}

int gs_run_select_params(gs_run *run, const char *regex, gs_selection *out)
{
    return run_select(run, gs_run_param_names(run), run->np, regex, out);
}

void gs_selection_free(gs_selection *sel)
{
    if (!sel)
        return;
    free(sel->idx);
    sel->idx = NULL;
    sel->n = 0;
}

/* ---- reading ---------------------------------------------------------------------------------- */

/* The dataset at path for reading rows [row0, row0 + nrows) of axis; sets run->err. */
static run_dset *run_dset_for_rows(gs_run *run, gs_axis axis, const char *path, size_t row0,
                                   size_t nrows)
{
    if (axis < 0 || axis >= GS_AXIS_COUNT) {
        run_fail(run, "bad axis %d", (int)axis);
        return NULL;
    }
    run->err[0] = '\0';
    run_dset *d = run_dset_get(run, path, -1);
    if (!d) {
        if (!run->err[0])
            run_fail(run, "no %s in this run", path);
        return NULL;
    }
    if (row0 > run->rows[axis] || nrows > run->rows[axis] - row0) {
        run_fail(run, "rows %zu..%zu of %s are beyond the %zu complete %s rows", row0, row0 + nrows,
                 path, run->rows[axis], gs_axis_name(axis));
        return NULL;
    }
    if (d->axis < 0 && d->dims[0] < row0 + nrows) {
        /* a dataset not registered on the axis (should not happen for schema names) */
        run_fail(run, "%s has only %llu rows", path, (unsigned long long)d->dims[0]);
        return NULL;
    }
    return d;
}

static int run_read_slab(gs_run *run, run_dset *d, int rank, const hsize_t *start,
                         const hsize_t *count, hid_t mtype, void *out)
{
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    int rc = -1;
    hsize_t total = 1;
    for (int i = 0; i < rank; i++)
        total *= count[i];
    if (total == 0)
        return 0;
    fspace = H5Dget_space(d->id);
    if (fspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
        run_fail_h5(run, "cannot select rows of %s", d->path);
        goto done;
    }
    mspace = H5Screate_simple(1, &total, NULL);
    if (mspace < 0) {
        run_fail_h5(run, "cannot create a memory space for %s", d->path);
        goto done;
    }
    if (H5Dread(d->id, mtype, mspace, fspace, H5P_DEFAULT, out) < 0) {
        run_fail_h5(run, "cannot read %s (truncated or damaged file)", d->path);
        goto done;
    }
    rc = 0;
done:
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return rc;
}

static int run_read_rows(gs_run *run, gs_axis axis, const char *path, size_t row0, size_t nrows,
                         double *out)
{
    run_dset *d = run_dset_for_rows(run, axis, path, row0, nrows);
    if (!d)
        return -1;
    if (d->rank != 1 && d->rank != 2) {
        run_fail(run, "%s has rank %d, expected 1 or 2", path, d->rank);
        return -1;
    }
    hsize_t start[2] = { row0, 0 }, count[2] = { nrows, d->rank == 2 ? d->dims[1] : 1 };
    return run_read_slab(run, d, d->rank, start, count, H5T_NATIVE_DOUBLE, out);
}

int gs_run_read_rows(gs_run *run, gs_axis axis, const char *path, size_t row0, size_t nrows,
                     double *out)
{
    run_quiet q = run_quiet_begin();
    int rc = run_read_rows(run, axis, path, row0, nrows, out);
    run_quiet_end(q);
    return rc;
}

double *gs_run_read_table(gs_run *run, gs_axis axis, const char *path, size_t *nrows, size_t *ncols)
{
    double *out = NULL;
    run_quiet q = run_quiet_begin();
    *nrows = 0;
    *ncols = 0;
    run->err[0] = '\0';
    run_dset *d = run_dset_for_rows(run, axis, path, 0, 0);
    if (!d)
        goto done;
    size_t rows = run->rows[axis];
    size_t cols = d->rank == 2 ? (size_t)d->dims[1] : 1;
    if (rows == 0 || cols == 0) {
        *ncols = cols;
        goto done;
    }
    out = malloc(rows * cols * sizeof *out);
    if (!out) {
        run_fail(run, "out of memory reading %s", path);
        goto done;
    }
    if (run_read_rows(run, axis, path, 0, rows, out) != 0) {
        free(out);
        out = NULL;
        goto done;
    }
    *nrows = rows;
    *ncols = cols;
done:
    run_quiet_end(q);
    return out;
}

static int run_read_column(gs_run *run, gs_axis axis, const char *path, size_t col, size_t row0,
                           size_t nrows, double *out)
{
    run_dset *d = run_dset_for_rows(run, axis, path, row0, nrows);
    if (!d)
        return -1;
    if (d->rank == 1) {
        if (col != 0) {
            run_fail(run, "%s is 1-D: no column %zu", path, col);
            return -1;
        }
        hsize_t start[1] = { row0 }, count[1] = { nrows };
        return run_read_slab(run, d, 1, start, count, H5T_NATIVE_DOUBLE, out);
    }
    if (d->rank != 2 || col >= d->dims[1]) {
        run_fail(run, "%s has no column %zu", path, col);
        return -1;
    }
    hsize_t start[2] = { row0, col }, count[2] = { nrows, 1 };
    return run_read_slab(run, d, 2, start, count, H5T_NATIVE_DOUBLE, out);
}

int gs_run_read_column(gs_run *run, gs_axis axis, const char *path, size_t col, size_t row0,
                       size_t nrows, double *out)
{
    run_quiet q = run_quiet_begin();
    int rc = run_read_column(run, axis, path, col, row0, nrows, out);
    run_quiet_end(q);
    return rc;
}

static const char *axis_x_path(gs_axis axis)
{
    switch (axis) {
    case GS_AXIS_TRAIN:       return GS_GRP_TRAIN "/" GS_TRAIN_STEP;
    case GS_AXIS_PROBE:       return GS_DS_PROBE_STEP;
    case GS_AXIS_HIST:        return GS_DS_HIST_STEP;
    case GS_AXIS_EPOCHS:      return GS_GRP_EPOCHS "/" GS_EPOCHS_EPOCH;
    case GS_AXIS_PROBE_EPOCH: return GS_DS_PE_EPOCH;
    default:                  return "";
    }
}

int gs_run_axis_x(gs_run *run, gs_axis axis, size_t row0, size_t nrows, double *out)
{
    run_quiet q = run_quiet_begin();
    int rc = run_read_column(run, axis, axis_x_path(axis), 0, row0, nrows, out);
    run_quiet_end(q);
    return rc;
}

int gs_run_find_row(gs_run *run, gs_axis axis, double x, size_t *row)
{
    int rc = -1;
    run_quiet q = run_quiet_begin();
    size_t lo = 0, hi = gs_run_rows(run, axis);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double v;
        if (run_read_column(run, axis, axis_x_path(axis), 0, mid, 1, &v) != 0)
            goto done;
        if (v < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    *row = lo;
    rc = 0;
done:
    run_quiet_end(q);
    return rc;
}

void gs_series_free(gs_series *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->y);
    s->x = s->y = NULL;
    s->n = 0;
}

int gs_run_read_series(gs_run *run, gs_axis axis, const char *path, size_t col, size_t row0,
                       size_t nrows, gs_series *out)
{
    int rc = -1;
    run_quiet q = run_quiet_begin();
    out->n = 0;
    out->x = out->y = NULL;
    run->err[0] = '\0';
    size_t rows = gs_run_rows(run, axis);
    if (row0 > rows) {
        run_fail(run, "row %zu of %s is beyond the %zu complete %s rows", row0, path, rows,
                 gs_axis_name(axis));
        goto done;
    }
    if (nrows == SIZE_MAX)
        nrows = rows - row0;
    /* check the dataset exists even for an empty range */
    if (!run_dset_for_rows(run, axis, path, row0, nrows))
        goto done;
    out->x = malloc((nrows ? nrows : 1) * sizeof *out->x);
    out->y = malloc((nrows ? nrows : 1) * sizeof *out->y);
    if (!out->x || !out->y) {
        run_fail(run, "out of memory reading %s", path);
        goto done;
    }
    if (run_read_column(run, axis, axis_x_path(axis), 0, row0, nrows, out->x) != 0)
        goto done;
    if (run_read_column(run, axis, path, col, row0, nrows, out->y) != 0)
        goto done;
    out->n = nrows;
    rc = 0;
done:
    if (rc != 0)
        gs_series_free(out);
    run_quiet_end(q);
    return rc;
}

static char *path_join(char *buf, size_t bufsz, const char *a, const char *b, const char *c)
{
    int n = snprintf(buf, bufsz, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    if (n < 0 || (size_t)n >= bufsz)
        buf[0] = '\0';
    return buf;
}

char *gs_run_block_path(char *buf, size_t bufsz, const char *stat)
{
    return path_join(buf, bufsz, GS_GRP_PROBE_BLOCKS, stat, NULL);
}

char *gs_run_param_path(char *buf, size_t bufsz, const char *side, const char *stat)
{
    if (!side)
        return path_join(buf, bufsz, "/probe/params", stat, NULL);
    return path_join(buf, bufsz, "/probe/params", side, stat);
}

char *gs_run_block_epoch_path(char *buf, size_t bufsz, const char *stat)
{
    return path_join(buf, bufsz, GS_GRP_PE_BLOCKS, stat, NULL);
}

char *gs_run_param_epoch_path(char *buf, size_t bufsz, const char *side, const char *stat)
{
    return path_join(buf, bufsz, "/probe/epoch/params", side, stat);
}

int gs_run_train_series(gs_run *run, const char *name, gs_series *out)
{
    char path[256];
    path_join(path, sizeof path, GS_GRP_TRAIN, name, NULL);
    return gs_run_read_series(run, GS_AXIS_TRAIN, path, 0, 0, SIZE_MAX, out);
}

int gs_run_epochs_series(gs_run *run, const char *name, gs_series *out)
{
    char path[256];
    path_join(path, sizeof path, GS_GRP_EPOCHS, name, NULL);
    return gs_run_read_series(run, GS_AXIS_EPOCHS, path, 0, 0, SIZE_MAX, out);
}

int gs_run_block_series(gs_run *run, const char *stat, size_t b, gs_series *out)
{
    char path[256];
    return gs_run_read_series(run, GS_AXIS_PROBE, gs_run_block_path(path, sizeof path, stat), b, 0,
                              SIZE_MAX, out);
}

int gs_run_param_series(gs_run *run, const char *side, const char *stat, size_t p, gs_series *out)
{
    char path[256];
    return gs_run_read_series(run, GS_AXIS_PROBE, gs_run_param_path(path, sizeof path, side, stat), p, 0,
                              SIZE_MAX, out);
}

int gs_run_block_epoch_series(gs_run *run, const char *stat, size_t b, gs_series *out)
{
    char path[256];
    return gs_run_read_series(run, GS_AXIS_PROBE_EPOCH, gs_run_block_epoch_path(path, sizeof path, stat),
                              b, 0, SIZE_MAX, out);
}

int gs_run_param_epoch_series(gs_run *run, const char *side, const char *stat, size_t p,
                              gs_series *out)
{
    char path[256];
    return gs_run_read_series(run, GS_AXIS_PROBE_EPOCH,
                              gs_run_param_epoch_path(path, sizeof path, side, stat), p, 0, SIZE_MAX, out);
}

/* ---- histograms ------------------------------------------------------------------------------- */

int gs_run_read_hist(gs_run *run, gs_axis axis, const char *part, size_t index, size_t row0,
                     size_t nrows, int64_t *out)
{
    char path[256];
    int rc = -1;
    run_quiet q = run_quiet_begin();
    int is_block = !strcmp(part, GS_HIST_SKIP) || !strcmp(part, GS_HIST_RESIDUAL) || !strcmp(part, GS_HIST_SUM);
    int is_param = !strcmp(part, GS_HIST_PRE) || !strcmp(part, GS_HIST_POST);
    if (!is_block && !is_param) {
        run_fail(run, "unknown histogram part '%s' (skip, residual, sum, pre, post)", part);
        goto done;
    }
    if (axis == GS_AXIS_HIST) {
        path_join(path, sizeof path, GS_GRP_PROBE_HIST, part, NULL);
    } else if (axis == GS_AXIS_PROBE_EPOCH) {
        if (is_block) {
            char name[64];
            snprintf(name, sizeof name, "hist_%s", part);
            path_join(path, sizeof path, GS_GRP_PE_BLOCKS, name, NULL);
        } else {
            path_join(path, sizeof path, "/probe/epoch/params", part, "hist");
        }
    } else {
        run_fail(run, "histograms are on the hist or probe-epoch axis, not %s", gs_axis_name(axis));
        goto done;
    }
    if (!run->edges) {
        run_fail(run, "no %s: cannot read histograms", GS_DS_HIST_EDGES);
        goto done;
    }
    if (index >= (is_block ? run->nb : run->np)) {
        run_fail(run, "%s index %zu out of range", is_block ? "block" : "parameter", index);
        goto done;
    }
    run_dset *d = run_dset_for_rows(run, axis, path, row0, nrows);
    if (!d)
        goto done;
    if (d->rank != 3 || d->dims[2] != run->nbins) {
        run_fail(run, "%s is not [rows, %s, %zu]", path, is_block ? "blocks" : "params", run->nbins);
        goto done;
    }
    hsize_t start[3] = { row0, index, 0 }, count[3] = { nrows, 1, run->nbins };
    rc = run_read_slab(run, d, 3, start, count, H5T_NATIVE_INT64, out);
done:
    run_quiet_end(q);
    return rc;
}

/* ---- downsampling ------------------------------------------------------------------------------ */

size_t gs_downsample_indices(const double *y, size_t n, size_t max_points, size_t *keep)
{
    if (n <= max_points || n <= 2) {
        for (size_t i = 0; i < n; i++)
            keep[i] = i;
        return n;
    }
    if (max_points < 4)
        max_points = 2;
    size_t m = 0;
    keep[m++] = 0;
    size_t inner = n - 2;
    size_t nb = (max_points - 2) / 2;
    for (size_t k = 0; k < nb; k++) {
        size_t lo = 1 + (size_t)(((unsigned long long)k * inner) / nb);
        size_t hi = 1 + (size_t)(((unsigned long long)(k + 1) * inner) / nb);
        size_t imin = SIZE_MAX, imax = SIZE_MAX;
        for (size_t i = lo; i < hi; i++) {
            if (!isfinite(y[i]))
                continue;
            if (imin == SIZE_MAX || y[i] < y[imin])
                imin = i;
            if (imax == SIZE_MAX || y[i] > y[imax])
                imax = i;
        }
        if (imin == SIZE_MAX) {
            keep[m++] = lo;
        } else if (imin == imax) {
            keep[m++] = imin;
        } else {
            keep[m++] = imin < imax ? imin : imax;
            keep[m++] = imin < imax ? imax : imin;
        }
    }
    keep[m++] = n - 1;
    return m;
}

int gs_series_downsample(const gs_series *in, size_t max_points, gs_series *out)
{
    size_t cap = in->n < max_points ? in->n : max_points;
    if (cap < 2)
        cap = 2;
    size_t *keep = malloc(cap * sizeof *keep);
    out->n = 0;
    out->x = malloc(cap * sizeof *out->x);
    out->y = malloc(cap * sizeof *out->y);
    if (!keep || !out->x || !out->y) {
        free(keep);
        gs_series_free(out);
        return -1;
    }
    size_t m = gs_downsample_indices(in->y, in->n, max_points, keep);
    for (size_t i = 0; i < m; i++) {
        out->x[i] = in->x[keep[i]];
        out->y[i] = in->y[keep[i]];
    }
    out->n = m;
    free(keep);
    return 0;
}
