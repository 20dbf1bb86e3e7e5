#include "gs_checkpoint.h"

#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* HDF5 prints its own error stack by default; we report our own one-line errors. */
typedef struct quiet_hdf5 {
    H5E_auto2_t func;
    void       *data;
} quiet_hdf5;

static void hdf5_quiet(quiet_hdf5 *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void hdf5_restore(const quiet_hdf5 *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

/* ---- writing ------------------------------------------------------------------------ */

static int write_array(hid_t parent, const char *name, hid_t mem_type, hid_t file_type,
                       int ndim, const hsize_t *dims, const void *data)
{
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    if (space < 0)
        return -1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(parent, name, file_type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = ds < 0 ? -1 : H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0)
        H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int write_attr_i64(hid_t obj, const char *name, int64_t v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT64, &v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int write_attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(v) + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return st < 0 ? -1 : 0;
}

static int write_string(hid_t parent, const char *name, const char *v)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(v) + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    H5Tset_cset(type, H5T_CSET_UTF8);
    int st = write_array(parent, name, type, type, 0, NULL, v);
    H5Tclose(type);
    return st;
}

static int param_dims(const gs_param *p, hsize_t *dims)
{
    for (int i = 0; i < p->ndim; i++)
        dims[i] = (hsize_t)p->shape[i];
    return p->ndim;
}

static int save_contents(hid_t file, const gs_model *m, const gs_optim *opt,
                         const gs_train_state *state, const char *config_json, const char **what)
{
    hsize_t dims[4];
    char name[2 * GS_NAME_LEN];
    for (int i = 0; i < m->num_params; i++) {
        const gs_param *p = &m->params[i];
        snprintf(name, sizeof name, "params/%s", p->name);
        *what = p->name;
        if (write_array(file, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, param_dims(p, dims), dims, p->data) < 0)
            return -1;
    }
    for (int i = 0; i < m->num_bn; i++) {
        const gs_bn_stats *bn = &m->bn_stats[i];
        hsize_t c = (hsize_t)bn->channels;
        *what = bn->name;
        snprintf(name, sizeof name, "buffers/%s.running_mean", bn->name);
        if (write_array(file, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &c, bn->running_mean) < 0)
            return -1;
        snprintf(name, sizeof name, "buffers/%s.running_var", bn->name);
        if (write_array(file, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &c, bn->running_var) < 0)
            return -1;
        snprintf(name, sizeof name, "buffers/%s.num_batches_tracked", bn->name);
        if (write_array(file, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, NULL, &bn->num_batches_tracked) < 0)
            return -1;
    }
    *what = "optimizer";
    if (opt) {
        hid_t g = H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
            return -1;
        int st = write_attr_str(g, "type", gs_optim_kind_name(opt->cfg.kind));
        st |= write_attr_i64(g, "step", opt->step);
        const float *bufs[2] = {opt->buf1, opt->buf2};
        const char *names[2] = {gs_optim_buf1_name(opt), gs_optim_buf2_name(opt)};
        for (int k = 0; k < 2 && st == 0; k++) {
            if (!bufs[k])
                continue;
            for (int i = 0; i < m->num_params && st == 0; i++) {
                const gs_param *p = &m->params[i];
                snprintf(name, sizeof name, "%s/%s", names[k], p->name);
                st = write_array(g, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, param_dims(p, dims), dims,
                                 bufs[k] + p->offset);
            }
        }
        H5Gclose(g);
        if (st != 0)
            return -1;
    }
    *what = "state";
    hid_t g = H5Gcreate2(file, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int st = write_attr_i64(g, "step", state ? state->step : 0);
    st |= write_attr_i64(g, "epoch", state ? state->epoch : 0);
    st |= write_attr_i64(g, "seed", state ? (int64_t)state->seed : 0);
    H5Gclose(g);
    if (st != 0)
        return -1;
    *what = "config";
    return write_string(file, "config", config_json ? config_json : "{}");
}

int gs_checkpoint_save(const char *path, const gs_model *m, const gs_optim *opt,
                       const gs_train_state *state, const char *config_json,
                       char *err, size_t errsz)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errsz, "%s: path too long", path);
        return -1;
    }
    quiet_hdf5 q;
    hdf5_quiet(&q);
    const char *what = "file";
    int rc = -1;
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        snprintf(err, errsz, "%s: cannot create checkpoint file", tmp);
        goto done;
    }
    if (save_contents(file, m, opt, state, config_json, &what) < 0) {
        snprintf(err, errsz, "%s: cannot write %s", tmp, what);
        H5Fclose(file);
        unlink(tmp);
        goto done;
    }
    if (H5Fclose(file) < 0) {
        snprintf(err, errsz, "%s: cannot close checkpoint file", tmp);
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: cannot rename %s into place", path, tmp);
        unlink(tmp);
        goto done;
    }
    rc = 0;
done:
    hdf5_restore(&q);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

/* Reads dataset `name` (which must have exactly ndim dims equal to dims, or be a scalar
 * when ndim == 0) into data.  Returns 0, -1 missing, -2 shape mismatch, -3 read error. */
static int read_array(hid_t file, const char *name, hid_t mem_type, int ndim, const hsize_t *dims,
                      void *data, char *shape_desc, size_t shape_descsz)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return -1;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t space = H5Dget_space(ds);
    int file_ndim = H5Sget_simple_extent_ndims(space);
    hsize_t file_dims[8] = {0};
    int rc = 0;
    if (file_ndim < 0 || file_ndim > 8) {
        rc = -2;
    } else {
        H5Sget_simple_extent_dims(space, file_dims, NULL);
        if (file_ndim != ndim)
            rc = -2;
        for (int i = 0; rc == 0 && i < ndim; i++)
            if (file_dims[i] != dims[i])
                rc = -2;
    }
    if (rc == -2 && shape_desc) {
        size_t off = (size_t)snprintf(shape_desc, shape_descsz, "(");
        for (int i = 0; i < file_ndim && i < 8 && off < shape_descsz; i++)
            off += (size_t)snprintf(shape_desc + off, shape_descsz - off, "%s%llu", i ? ", " : "",
                                    (unsigned long long)file_dims[i]);
        if (off < shape_descsz)
            snprintf(shape_desc + off, shape_descsz - off, ")");
    }
    if (rc == 0 && H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = -3;
    H5Sclose(space);
    H5Dclose(ds);
    return rc;
}

static void describe_shape(char *buf, size_t bufsz, int ndim, const hsize_t *dims)
{
    size_t off = (size_t)snprintf(buf, bufsz, "(");
    for (int i = 0; i < ndim && off < bufsz; i++)
        off += (size_t)snprintf(buf + off, bufsz - off, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    if (off < bufsz)
        snprintf(buf + off, bufsz - off, ")");
}

static int load_tensor(hid_t file, const char *path, const char *name, hid_t mem_type, int ndim,
                       const hsize_t *dims, void *data, char *err, size_t errsz)
{
    char got[128] = "", want[128];
    int rc = read_array(file, name, mem_type, ndim, dims, data, got, sizeof got);
    if (rc == 0)
        return 0;
    describe_shape(want, sizeof want, ndim, dims);
    if (rc == -1)
        snprintf(err, errsz, "%s: /%s missing (the checkpoint does not match this model)", path, name);
    else if (rc == -2)
        snprintf(err, errsz, "%s: /%s has shape %s, the model expects %s", path, name, got, want);
    else
        snprintf(err, errsz, "%s: /%s cannot be read", path, name);
    return -1;
}

static int read_attr_i64(hid_t obj, const char *name, int64_t *v)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    herr_t st = H5Aread(a, H5T_NATIVE_INT64, v);
    H5Aclose(a);
    return st < 0 ? -1 : 0;
}

static int read_attr_str(hid_t obj, const char *name, char *buf, size_t bufsz)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t ftype = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(ftype) == H5T_STRING && !H5Tis_variable_str(ftype) && H5Tget_size(ftype) < bufsz) {
        memset(buf, 0, bufsz);
        rc = H5Aread(a, ftype, buf) < 0 ? -1 : 0;
    }
    H5Tclose(ftype);
    H5Aclose(a);
    return rc;
}

static int load_contents(hid_t file, const char *path, gs_model *m, gs_optim *opt,
                         gs_train_state *state, char *err, size_t errsz)
{
    hsize_t dims[4];
    char name[2 * GS_NAME_LEN];
    /* every tensor of the file's /params must be one of the model's */
    hid_t pg = H5Lexists(file, "params", H5P_DEFAULT) > 0 ? H5Gopen2(file, "params", H5P_DEFAULT) : -1;
    if (pg < 0) {
        snprintf(err, errsz, "%s: no /params group (not a gradscope/PyTorch checkpoint)", path);
        return -1;
    }
    H5G_info_t info;
    herr_t st = H5Gget_info(pg, &info);
    H5Gclose(pg);
    if (st < 0 || info.nlinks != (hsize_t)m->num_params) {
        snprintf(err, errsz, "%s: /params holds %llu tensors, the model %s has %d", path,
                 (unsigned long long)(st < 0 ? 0 : info.nlinks), m->cfg.arch, m->num_params);
        return -1;
    }
    for (int i = 0; i < m->num_params; i++) {
        gs_param *p = &m->params[i];
        snprintf(name, sizeof name, "params/%s", p->name);
        if (load_tensor(file, path, name, H5T_NATIVE_FLOAT, param_dims(p, dims), dims, p->data, err, errsz) < 0)
            return -1;
    }
    for (int i = 0; i < m->num_bn; i++) {
        gs_bn_stats *bn = &m->bn_stats[i];
        hsize_t c = (hsize_t)bn->channels;
        snprintf(name, sizeof name, "buffers/%s.running_mean", bn->name);
        if (load_tensor(file, path, name, H5T_NATIVE_FLOAT, 1, &c, bn->running_mean, err, errsz) < 0)
            return -1;
        snprintf(name, sizeof name, "buffers/%s.running_var", bn->name);
        if (load_tensor(file, path, name, H5T_NATIVE_FLOAT, 1, &c, bn->running_var, err, errsz) < 0)
            return -1;
        snprintf(name, sizeof name, "buffers/%s.num_batches_tracked", bn->name);
        if (H5Lexists(file, name, H5P_DEFAULT) > 0 &&
            load_tensor(file, path, name, H5T_NATIVE_INT64, 0, NULL, &bn->num_batches_tracked, err, errsz) < 0)
            return -1;
    }
    if (opt) {
        if (H5Lexists(file, "optimizer", H5P_DEFAULT) <= 0) {
            snprintf(err, errsz, "%s: no /optimizer state to resume from", path);
            return -1;
        }
        hid_t g = H5Gopen2(file, "optimizer", H5P_DEFAULT);
        char type[32] = "";
        int64_t step = 0;
        int ok = g >= 0 && read_attr_str(g, "type", type, sizeof type) == 0 && read_attr_i64(g, "step", &step) == 0;
        if (g >= 0)
            H5Gclose(g);
        if (!ok) {
            snprintf(err, errsz, "%s: /optimizer lacks its type or step attribute", path);
            return -1;
        }
        if (strcmp(type, gs_optim_kind_name(opt->cfg.kind)) != 0) {
            snprintf(err, errsz, "%s: optimizer state is %s, the run uses %s", path, type,
                     gs_optim_kind_name(opt->cfg.kind));
            return -1;
        }
        opt->step = step;
        float *bufs[2] = {opt->buf1, opt->buf2};
        const char *names[2] = {gs_optim_buf1_name(opt), gs_optim_buf2_name(opt)};
        for (int k = 0; k < 2; k++) {
            if (!bufs[k])
                continue;
            for (int i = 0; i < m->num_params; i++) {
                gs_param *p = &m->params[i];
                snprintf(name, sizeof name, "optimizer/%s/%s", names[k], p->name);
                if (load_tensor(file, path, name, H5T_NATIVE_FLOAT, param_dims(p, dims), dims,
                                bufs[k] + p->offset, err, errsz) < 0)
                    return -1;
            }
        }
    }
    if (state) {
        memset(state, 0, sizeof *state);
        if (H5Lexists(file, "state", H5P_DEFAULT) > 0) {
            hid_t g = H5Gopen2(file, "state", H5P_DEFAULT);
            int64_t step = 0, epoch = 0, seed = 0;
            int ok = g >= 0 && read_attr_i64(g, "step", &step) == 0 && read_attr_i64(g, "epoch", &epoch) == 0 &&
                     read_attr_i64(g, "seed", &seed) == 0;
            if (g >= 0)
                H5Gclose(g);
            if (!ok || step < 0 || epoch < 0) {
                snprintf(err, errsz, "%s: /state lacks valid step, epoch and seed attributes", path);
                return -1;
            }
            state->step = step;
            state->epoch = (int32_t)epoch;
            state->seed = (uint64_t)seed;
        }
    }
    return 0;
}

int gs_checkpoint_load(const char *path, gs_model *m, gs_optim *opt, gs_train_state *state,
                       char *err, size_t errsz)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errsz, "%s: cannot read checkpoint (missing or not readable)", path);
        return -1;
    }
    quiet_hdf5 q;
    hdf5_quiet(&q);
    int rc = -1;
    if (H5Fis_hdf5(path) <= 0) {
        snprintf(err, errsz, "%s: not an HDF5 file (truncated or wrong format)", path);
        goto done;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        snprintf(err, errsz, "%s: cannot open as HDF5 (damaged or truncated)", path);
        goto done;
    }
    rc = load_contents(file, path, m, opt, state, err, errsz);
    H5Fclose(file);
done:
    hdf5_restore(&q);
    return rc;
}
