/* idx.c — MNIST / Fashion-MNIST IDX files, gzip-compressed or raw.
 *
 * Format (all integers big-endian):
 *   images  magic 0x00000803 (ubyte, 3 dims), n, h, w, then n*h*w bytes
 *   labels  magic 0x00000801 (ubyte, 1 dim),  n,       then n bytes
 * Files are read through zlib's gzread, which passes raw files through unchanged.
 *
 * The payload buffer grows with the data actually read (never with the size a
 * header claims), so a corrupt header cannot make us allocate gigabytes.
 */
#include "gs_dataset_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GS_IDX_TYPE_UBYTE  0x08
#define GS_IDX_READ_CHUNK  ((size_t)1 << 26)   /* first allocation: 64 MiB at most */
#define GS_IDX_GZREAD_MAX  ((size_t)1 << 30)   /* gzread takes an unsigned count   */

typedef struct gs_idx_file {
    char   path[4096 + 64];   /* the file actually opened (".gz" or raw)           */
    gzFile gz;
} gs_idx_file;

/* Opens dir/base.gz, or dir/base when there is no .gz. */
static int gs_idx_open(gs_idx_file *f, const char *dir, const char *base,
                       char *err, size_t errsz)
{
    char raw_path[4096];
    int len = snprintf(raw_path, sizeof(raw_path), "%s/%s", dir, base);
    if (len < 0 || (size_t)len >= sizeof(raw_path)) {
        gs_dataset_set_error(err, errsz, "%s: directory name too long", dir);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s.gz", raw_path);
    errno = 0;
    f->gz = gzopen(f->path, "rb");
    if (f->gz == NULL && errno == ENOENT) {
        snprintf(f->path, sizeof(f->path), "%s", raw_path);
        errno = 0;
        f->gz = gzopen(f->path, "rb");
        if (f->gz == NULL && errno == ENOENT) {
            gs_dataset_set_error(err, errsz, "%s: no such file (nor %s.gz)", raw_path, raw_path);
            return -1;
        }
    }
    if (f->gz == NULL) {
        gs_dataset_set_error(err, errsz, "%s: cannot open: %s", f->path,
                             errno != 0 ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(f->gz, 1u << 17);
    return 0;
}

static void gs_idx_close(gs_idx_file *f)
{
    if (f->gz != NULL)
        gzclose_r(f->gz);
    f->gz = NULL;
}

/* Describes the zlib error of f into err: "<path>: <problem>". */
static void gs_idx_gz_error(const gs_idx_file *f, size_t expected, size_t got,
                            char *err, size_t errsz)
{
    int errnum = Z_OK;
    const char *msg = gzerror(f->gz, &errnum);
    if (msg == NULL)
        msg = "unknown zlib error";
    /* zlib prefixes its messages with the path; we print the path once. */
    size_t plen = strlen(f->path);
    if (strncmp(msg, f->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    if (errnum == Z_BUF_ERROR) {
        gs_dataset_set_error(err, errsz,
                             "%s: truncated (gzip stream ends early): expected %zu bytes, got %zu",
                             f->path, expected, got);
    } else if (errnum == Z_ERRNO) {
        gs_dataset_set_error(err, errsz, "%s: read error: %s", f->path, strerror(errno));
    } else {
        gs_dataset_set_error(err, errsz, "%s: corrupt gzip data: %s", f->path, msg);
    }
}

/* Reads up to want bytes into buf; *got is the count read (< want at end of file).
 * Returns -1 on a zlib error (a damaged or cut gzip stream), else 0. */
static int gs_idx_read(gs_idx_file *f, void *buf, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want) {
        size_t ask = want - *got;
        if (ask > GS_IDX_GZREAD_MAX)
            ask = GS_IDX_GZREAD_MAX;
        int n = gzread(f->gz, (unsigned char *)buf + *got, (unsigned)ask);
        if (n < 0)
            return -1;
        if (n == 0) {
            /* zlib reports a gzip stream cut short (even inside its 8-byte trailer)
             * as Z_BUF_ERROR while gzread itself just returns 0. */
            int errnum = Z_OK;
            gzerror(f->gz, &errnum);
            if (errnum == Z_BUF_ERROR)
                return -1;
            break;
        }
        *got += (size_t)n;
    }
    return 0;
}

static uint32_t gs_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reads and checks the header: magic 0x000008<ndims>, then ndims big-endian dims. */
static int gs_idx_read_header(gs_idx_file *f, int ndims, uint32_t *dims,
                              char *err, size_t errsz)
{
    unsigned char head[4 + 4 * 3];
    size_t head_len = 4 + 4 * (size_t)ndims;
    size_t got = 0;
    if (gs_idx_read(f, head, head_len, &got) != 0) {
        gs_idx_gz_error(f, head_len, got, err, errsz);
        return -1;
    }
    /* Check the magic as soon as we have it: a short wrong file is "wrong magic". */
    if (got >= 4) {
        uint32_t magic = gs_be32(head);
        uint32_t want_magic = ((uint32_t)GS_IDX_TYPE_UBYTE << 8) | (uint32_t)ndims;
        if (magic != want_magic) {
            gs_dataset_set_error(err, errsz,
                                 "%s: bad magic 0x%08x (expected 0x%08x: an IDX %s file of "
                                 "unsigned bytes with %d dimension%s)",
                                 f->path, magic, want_magic, ndims == 1 ? "label" : "image",
                                 ndims, ndims == 1 ? "" : "s");
            return -1;
        }
    }
    if (got < head_len) {
        gs_dataset_set_error(err, errsz,
                             "%s: truncated header: expected %zu bytes, got %zu",
                             f->path, head_len, got);
        return -1;
    }
    for (int i = 0; i < ndims; i++)
        dims[i] = gs_be32(head + 4 + 4 * i);
    return 0;
}

/* Reads exactly want payload bytes (header_len bytes already read) into *out and
 * checks that nothing follows them. */
static int gs_idx_read_payload(gs_idx_file *f, size_t header_len, size_t want,
                               uint8_t **out, char *err, size_t errsz)
{
    *out = NULL;
    size_t cap = want < GS_IDX_READ_CHUNK ? want : GS_IDX_READ_CHUNK;
    uint8_t *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory (%zu bytes)", f->path, cap);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        size_t n = 0;
        if (gs_idx_read(f, buf + got, cap - got, &n) != 0) {
            gs_idx_gz_error(f, header_len + want, header_len + got + n, err, errsz);
            free(buf);
            return -1;
        }
        got += n;
        if (got < cap || cap == want)
            break;                                /* end of file, or all we need */
        size_t new_cap = cap > want / 2 ? want : cap * 2;
        uint8_t *grown = realloc(buf, new_cap);
        if (grown == NULL) {
            gs_dataset_set_error(err, errsz, "%s: out of memory (%zu bytes)", f->path, new_cap);
            free(buf);
            return -1;
        }
        buf = grown;
        cap = new_cap;
    }
    if (got < want) {
        gs_dataset_set_error(err, errsz, "%s: truncated: expected %zu bytes, got %zu",
                             f->path, header_len + want, header_len + got);
        free(buf);
        return -1;
    }
    /* Reading past the end also makes zlib verify the gzip CRC and length. */
    unsigned char extra[64];
    size_t more = 0;
    if (gs_idx_read(f, extra, sizeof(extra), &more) != 0) {
        gs_idx_gz_error(f, header_len + want, header_len + got, err, errsz);
        free(buf);
        return -1;
    }
    if (more > 0) {
        gs_dataset_set_error(err, errsz,
                             "%s: unexpected data after the %zu bytes that the header announces "
                             "(wrong dimensions?)", f->path, header_len + want);
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* One split: base_images (n, h, w) + base_labels (n). */
static int gs_idx_load_split(const char *dir, const char *base_images,
                             const char *base_labels, gs_raw_split *out,
                             char *err, size_t errsz)
{
    gs_idx_file fi, fl;
    memset(&fi, 0, sizeof(fi));
    memset(&fl, 0, sizeof(fl));
    uint8_t *pixels = NULL, *label_bytes = NULL;
    int32_t *labels = NULL;
    uint32_t idims[3], ldims[1];
    size_t count;

    /* ---- images ---- */
    if (gs_idx_open(&fi, dir, base_images, err, errsz) != 0)
        goto fail;
    if (gs_idx_read_header(&fi, 3, idims, err, errsz) != 0)
        goto fail;
    if (idims[0] < 1 || idims[0] > (uint32_t)INT_MAX) {
        gs_dataset_set_error(err, errsz, "%s: bad image count %u (expected 1..%d)",
                             fi.path, idims[0], INT_MAX);
        goto fail;
    }
    if (idims[1] < 1 || idims[1] > GS_DATASET_MAX_SIDE ||
        idims[2] < 1 || idims[2] > GS_DATASET_MAX_SIDE) {
        gs_dataset_set_error(err, errsz, "%s: bad image size %ux%u (expected 1..%d each)",
                             fi.path, idims[1], idims[2], GS_DATASET_MAX_SIDE);
        goto fail;
    }
    if (gs_size_mul(&count, (size_t)idims[0], (size_t)idims[1] * (size_t)idims[2]) != 0) {
        gs_dataset_set_error(err, errsz, "%s: %u images of %ux%u are too large",
                             fi.path, idims[0], idims[1], idims[2]);
        goto fail;
    }
    if (gs_idx_read_payload(&fi, 16, count, &pixels, err, errsz) != 0)
        goto fail;
    gs_idx_close(&fi);

    /* ---- labels ---- */
    if (gs_idx_open(&fl, dir, base_labels, err, errsz) != 0)
        goto fail;
    if (gs_idx_read_header(&fl, 1, ldims, err, errsz) != 0)
        goto fail;
    if (ldims[0] != idims[0]) {
        gs_dataset_set_error(err, errsz, "%s: %u labels, but %s has %u images",
                             fl.path, ldims[0], fi.path, idims[0]);
        goto fail;
    }
    if (gs_idx_read_payload(&fl, 8, ldims[0], &label_bytes, err, errsz) != 0)
        goto fail;
    labels = malloc((size_t)ldims[0] * sizeof(int32_t));
    if (labels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory", fl.path);
        goto fail;
    }
    for (uint32_t i = 0; i < ldims[0]; i++) {
        if (label_bytes[i] >= 10) {
            gs_dataset_set_error(err, errsz, "%s: label %u of image %u is out of range "
                                 "(expected 0..9)", fl.path, label_bytes[i], i);
            goto fail;
        }
        labels[i] = label_bytes[i];
    }
    free(label_bytes);
    gs_idx_close(&fl);

    out->n = (long)idims[0];
    out->c = 1;
    out->h = (int)idims[1];
    out->w = (int)idims[2];
    out->num_classes = 10;
    out->pixels_u8 = pixels;
    out->labels = labels;
    return 0;

fail:
    gs_idx_close(&fi);
    gs_idx_close(&fl);
    free(pixels);
    free(label_bytes);
    free(labels);
    return -1;
}

int gs_idx_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                char *err, size_t errsz)
{
    if (gs_idx_load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          train, err, errsz) != 0)
        return -1;
    if (gs_idx_load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                          test, err, errsz) != 0) {
        gs_raw_split_free(train);
        return -1;
    }
    if (test->h != train->h || test->w != train->w) {
        gs_dataset_set_error(err, errsz, "%s/t10k-images-idx3-ubyte: test images are %dx%d, "
                             "training images %dx%d", dir, test->h, test->w, train->h, train->w);
        gs_raw_split_free(train);
        gs_raw_split_free(test);
        return -1;
    }
    return 0;
}
