/* h5data.c — an image dataset in one HDF5 file.
 *
 *   /images       [N, C, H, W]  uint8 or float32 (float64 is converted to float32)
 *   /labels       [N]           any integer type, values in [0, GS_DATASET_MAX_CLASSES)
 *   /test_images  [M, C, H, W]  optional, same C, H, W and type as /images
 *   /test_labels  [M]           optional, present exactly when /test_images is
 *
 * num_classes = 1 + the largest label of the file.  HDF5's own error printing is
 * switched off while we work (and restored after): the caller gets one line, built
 * from the most specific message on HDF5's error stack.
 *
 * Handles start as H5I_INVALID_HID and are closed on one cleanup path.
 */
#include "gs_dataset_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

/* ---- errors ------------------------------------------------------------------ */

typedef struct gs_h5_error_text {
    char text[256];
} gs_h5_error_text;

static herr_t gs_h5_error_walk(unsigned n, const H5E_error2_t *e, void *client)
{
    gs_h5_error_text *out = client;
    /* Walking upward, entry 0 is the innermost (most specific) error. */
    if (n == 0 && e != NULL && e->desc != NULL && e->desc[0] != '\0')
        snprintf(out->text, sizeof(out->text), "%s", e->desc);
    return 0;
}

/* The most specific message on HDF5's current error stack, or a generic one. */
static void gs_h5_last_error(gs_h5_error_text *out)
{
    snprintf(out->text, sizeof(out->text), "HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, gs_h5_error_walk, out);
}

static const char *gs_h5_class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_INTEGER:   return "integer";
    case H5T_FLOAT:     return "float";
    case H5T_STRING:    return "string";
    case H5T_BITFIELD:  return "bitfield";
    case H5T_OPAQUE:    return "opaque";
    case H5T_COMPOUND:  return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM:      return "enum";
    case H5T_VLEN:      return "variable-length";
    case H5T_ARRAY:     return "array";
    default:            return "unknown";
    }
}

/* ---- datasets ---------------------------------------------------------------- */

/* Opens /name; "missing dataset" and "not a dataset" are told apart. */
static hid_t gs_h5_open_dataset(hid_t file, const char *path, const char *name,
                                char *err, size_t errsz)
{
    htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
    if (exists <= 0) {
        gs_dataset_set_error(err, errsz, "%s: missing dataset '%s'", path, name);
        return H5I_INVALID_HID;
    }
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0) {
        gs_h5_error_text e;
        gs_h5_last_error(&e);
        gs_dataset_set_error(err, errsz, "%s: '%s' is not a readable dataset: %s",
                             path, name, e.text);
        return H5I_INVALID_HID;
    }
    return dset;
}

/* Refuses a contiguous dataset whose stored bytes are fewer than its dims need,
 * before we allocate for it. */
static int gs_h5_check_storage(hid_t dset, const char *path, const char *name,
                               size_t need_bytes, char *err, size_t errsz)
{
    int rc = -1;
    hid_t plist = H5Dget_create_plist(dset);
    if (plist < 0) {
        gs_dataset_set_error(err, errsz, "%s: cannot query the layout of '%s'", path, name);
        return -1;
    }
    H5D_layout_t layout = H5Pget_layout(plist);
    hsize_t stored = H5Dget_storage_size(dset);
    if (layout == H5D_CONTIGUOUS && stored < (hsize_t)need_bytes) {
        gs_dataset_set_error(err, errsz,
                             "%s: '%s' stores %llu bytes but its dimensions need %zu "
                             "(truncated or never written)",
                             path, name, (unsigned long long)stored, need_bytes);
        goto done;
    }
    if (layout == H5D_CHUNKED && stored == 0) {
        gs_dataset_set_error(err, errsz, "%s: '%s' has no data written", path, name);
        goto done;
    }
    rc = 0;
done:
    H5Pclose(plist);
    return rc;
}

/* Reads /name [N, C, H, W] into out (n, c, h, w and pixels_u8 or pixels_f32). */
static int gs_h5_read_images(hid_t file, const char *path, const char *name,
                             gs_raw_split *out, char *err, size_t errsz)
{
    int rc = -1;
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    void *buf = NULL;

    dset = gs_h5_open_dataset(file, path, name, err, errsz);
    if (dset < 0)
        goto done;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    if (space < 0 || type < 0) {
        gs_dataset_set_error(err, errsz, "%s: cannot query the shape or type of '%s'",
                             path, name);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 4) {
        gs_dataset_set_error(err, errsz, "%s: '%s' has rank %d, expected 4 ([N, C, H, W])",
                             path, name, rank);
        goto done;
    }
    hsize_t dims[4];
    if (H5Sget_simple_extent_dims(space, dims, NULL) != 4) {
        gs_dataset_set_error(err, errsz, "%s: cannot read the dimensions of '%s'", path, name);
        goto done;
    }
    if (dims[0] < 1 || dims[0] > (hsize_t)INT_MAX ||
        dims[1] < 1 || dims[1] > GS_DATASET_MAX_CHANNELS ||
        dims[2] < 1 || dims[2] > GS_DATASET_MAX_SIDE ||
        dims[3] < 1 || dims[3] > GS_DATASET_MAX_SIDE) {
        gs_dataset_set_error(err, errsz,
                             "%s: '%s' has shape [%llu, %llu, %llu, %llu]; expected N >= 1, "
                             "C in 1..%d, H and W in 1..%d",
                             path, name, (unsigned long long)dims[0], (unsigned long long)dims[1],
                             (unsigned long long)dims[2], (unsigned long long)dims[3],
                             GS_DATASET_MAX_CHANNELS, GS_DATASET_MAX_SIDE);
        goto done;
    }

    H5T_class_t cls = H5Tget_class(type);
    size_t tsize = H5Tget_size(type);
    int is_u8 = cls == H5T_INTEGER && tsize == 1 && H5Tget_sign(type) == H5T_SGN_NONE;
    int is_float = cls == H5T_FLOAT && (tsize == 4 || tsize == 8);
    if (!is_u8 && !is_float) {
        gs_dataset_set_error(err, errsz,
                             "%s: '%s' has type %s%s of %zu bytes; expected uint8 or float32",
                             path, name,
                             cls == H5T_INTEGER && H5Tget_sign(type) != H5T_SGN_NONE
                                 ? "signed " : "",
                             gs_h5_class_name(cls), tsize);
        goto done;
    }

    size_t count, bytes, stored_bytes;
    size_t elem = is_u8 ? 1 : sizeof(float);
    if (gs_size_mul(&count, (size_t)dims[0], (size_t)(dims[1] * dims[2] * dims[3])) != 0 ||
        gs_size_mul(&bytes, count, elem) != 0 ||
        gs_size_mul(&stored_bytes, count, tsize) != 0) {
        gs_dataset_set_error(err, errsz, "%s: '%s' is too large to hold", path, name);
        goto done;
    }
    if (gs_h5_check_storage(dset, path, name, stored_bytes, err, errsz) != 0)
        goto done;
    buf = malloc(bytes);
    if (buf == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory (%zu bytes for '%s')",
                             path, bytes, name);
        goto done;
    }
    hid_t mem_type = is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT;
    if (H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        gs_h5_error_text e;
        gs_h5_last_error(&e);
        gs_dataset_set_error(err, errsz, "%s: cannot read '%s': %s", path, name, e.text);
        goto done;
    }
    if (is_float) {
        const float *f = buf;
        for (size_t i = 0; i < count; i++) {
            if (!isfinite(f[i])) {
                gs_dataset_set_error(err, errsz,
                                     "%s: '%s' element %zu (image %zu) is not finite (%g)",
                                     path, name, i, i / (count / (size_t)dims[0]), (double)f[i]);
                goto done;
            }
        }
    }

    out->n = (long)dims[0];
    out->c = (int)dims[1];
    out->h = (int)dims[2];
    out->w = (int)dims[3];
    if (is_u8)
        out->pixels_u8 = buf;
    else
        out->pixels_f32 = buf;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return rc;
}

/* Reads /name [n] of any integer type into out->labels and sets out->num_classes. */
static int gs_h5_read_labels(hid_t file, const char *path, const char *name,
                             const char *images_name, gs_raw_split *out,
                             char *err, size_t errsz)
{
    int rc = -1;
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int64_t *wide = NULL;
    int32_t *labels = NULL;

    dset = gs_h5_open_dataset(file, path, name, err, errsz);
    if (dset < 0)
        goto done;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    if (space < 0 || type < 0) {
        gs_dataset_set_error(err, errsz, "%s: cannot query the shape or type of '%s'",
                             path, name);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 1) {
        gs_dataset_set_error(err, errsz, "%s: '%s' has rank %d, expected 1 ([N])",
                             path, name, rank);
        goto done;
    }
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, NULL);
    if (n != (hsize_t)out->n) {
        gs_dataset_set_error(err, errsz, "%s: '%s' has %llu entries but '%s' has %ld images",
                             path, name, (unsigned long long)n, images_name, out->n);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_INTEGER) {
        gs_dataset_set_error(err, errsz, "%s: '%s' has type %s; expected an integer type",
                             path, name, gs_h5_class_name(cls));
        goto done;
    }
    if (gs_h5_check_storage(dset, path, name, (size_t)n * H5Tget_size(type), err, errsz) != 0)
        goto done;

    /* Read as int64: every integer type converts (out-of-range values saturate and
     * are then refused below). */
    wide = malloc((size_t)n * sizeof(int64_t));
    labels = malloc((size_t)n * sizeof(int32_t));
    if (wide == NULL || labels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory for '%s'", path, name);
        goto done;
    }
    if (H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, wide) < 0) {
        gs_h5_error_text e;
        gs_h5_last_error(&e);
        gs_dataset_set_error(err, errsz, "%s: cannot read '%s': %s", path, name, e.text);
        goto done;
    }
    int64_t max_label = 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        if (wide[i] < 0) {
            gs_dataset_set_error(err, errsz, "%s: '%s'[%zu] = %lld is negative",
                                 path, name, i, (long long)wide[i]);
            goto done;
        }
        if (wide[i] >= GS_DATASET_MAX_CLASSES) {
            gs_dataset_set_error(err, errsz, "%s: '%s'[%zu] = %lld is too large (at most %d)",
                                 path, name, i, (long long)wide[i], GS_DATASET_MAX_CLASSES - 1);
            goto done;
        }
        if (wide[i] > max_label)
            max_label = wide[i];
        labels[i] = (int32_t)wide[i];
    }
    out->labels = labels;
    out->num_classes = (int)max_label + 1;
    labels = NULL;
    rc = 0;
done:
    free(wide);
    free(labels);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return rc;
}

static int gs_h5_read_split(hid_t file, const char *path, const char *images_name,
                            const char *labels_name, gs_raw_split *out,
                            char *err, size_t errsz)
{
    if (gs_h5_read_images(file, path, images_name, out, err, errsz) != 0 ||
        gs_h5_read_labels(file, path, labels_name, images_name, out, err, errsz) != 0) {
        gs_raw_split_free(out);
        return -1;
    }
    return 0;
}

/* ---- gs_h5data_load ---------------------------------------------------------- */

int gs_h5data_load(const char *path, gs_raw_split *train, gs_raw_split *test,
                   int *has_test, char *err, size_t errsz)
{
    int rc = -1;
    hid_t file = H5I_INVALID_HID;
    *has_test = 0;

    struct stat st;
    if (stat(path, &st) != 0) {
        gs_dataset_set_error(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        gs_dataset_set_error(err, errsz, "%s: not a regular file", path);
        return -1;
    }

    /* Silence HDF5's automatic stack printing; restore the caller's handler after. */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 <= 0) {
        gs_dataset_set_error(err, errsz, "%s: not an HDF5 file (no HDF5 signature)", path);
        goto done;
    }
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        gs_h5_error_text e;
        gs_h5_last_error(&e);
        gs_dataset_set_error(err, errsz, "%s: cannot open as HDF5 (corrupt or truncated?): %s",
                             path, e.text);
        goto done;
    }

    if (gs_h5_read_split(file, path, "/images", "/labels", train, err, errsz) != 0)
        goto done;

    htri_t has_ti = H5Lexists(file, "/test_images", H5P_DEFAULT);
    htri_t has_tl = H5Lexists(file, "/test_labels", H5P_DEFAULT);
    if (has_ti > 0 && has_tl > 0) {
        if (gs_h5_read_split(file, path, "/test_images", "/test_labels", test, err, errsz) != 0)
            goto done;
        if (test->c != train->c || test->h != train->h || test->w != train->w ||
            (test->pixels_u8 != NULL) != (train->pixels_u8 != NULL)) {
            gs_dataset_set_error(err, errsz,
                                 "%s: '/test_images' is %dx%dx%d %s but '/images' is %dx%dx%d %s",
                                 path, test->c, test->h, test->w,
                                 test->pixels_u8 != NULL ? "uint8" : "float",
                                 train->c, train->h, train->w,
                                 train->pixels_u8 != NULL ? "uint8" : "float");
            goto done;
        }
        *has_test = 1;
    } else if (has_ti > 0 || has_tl > 0) {
        gs_dataset_set_error(err, errsz, "%s: has '%s' but no '%s'", path,
                             has_ti > 0 ? "/test_images" : "/test_labels",
                             has_ti > 0 ? "/test_labels" : "/test_images");
        goto done;
    }
    rc = 0;

done:
    if (file >= 0)
        H5Fclose(file);
    if (rc != 0) {
        gs_raw_split_free(train);
        gs_raw_split_free(test);
        *has_test = 0;
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return rc;
}
