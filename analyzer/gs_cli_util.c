/* gs_cli_util.c — see gs_cli_util.h. */
#include "gs_cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

void gs_cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gradscope %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int gs_cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gradscope %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see gradscope %s --help)\n", verb);
    return 2;
}

int gs_out_format_parse(const char *s, gs_out_format *out)
{
    if (!strcmp(s, "text"))
        *out = GS_OUT_TEXT;
    else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
        *out = GS_OUT_MARKDOWN;
    else if (!strcmp(s, "csv"))
        *out = GS_OUT_CSV;
    else
        return -1;
    return 0;
}

/* ---- tables ------------------------------------------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

gs_table *gs_table_new(const char *title, size_t ncols, const char *const *headers)
{
    gs_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->title = dup_str(title ? title : "");
    t->ncols = ncols;
    t->headers = calloc(ncols ? ncols : 1, sizeof *t->headers);
    t->prec = calloc(ncols ? ncols : 1, sizeof *t->prec);
    if (!t->title || !t->headers || !t->prec) {
        gs_table_free(t);
        return NULL;
    }
    for (size_t c = 0; c < ncols; c++) {
        t->headers[c] = dup_str(headers[c]);
        t->prec[c] = 4;
        if (!t->headers[c]) {
            gs_table_free(t);
            return NULL;
        }
    }
    return t;
}

void gs_table_free(gs_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i].text);
    free(t->cells);
    if (t->headers)
        for (size_t c = 0; c < t->ncols; c++)
            free(t->headers[c]);
    free(t->headers);
    free(t->prec);
    free(t->title);
    free(t);
}

size_t gs_table_add_row(gs_table *t)
{
    if (t->nrows == t->caprows) {
        size_t ncap = t->caprows ? t->caprows * 2 : 16;
        gs_cell *nc = realloc(t->cells, ncap * t->ncols * sizeof *nc);
        if (!nc)
            return (size_t)-1;
        t->cells = nc;
        t->caprows = ncap;
    }
    memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof *t->cells);
    return t->nrows++;
}

static gs_cell *table_cell(gs_table *t, size_t row, size_t col)
{
    if (row >= t->nrows || col >= t->ncols)
        return NULL;
    gs_cell *c = &t->cells[row * t->ncols + col];
    free(c->text);
    memset(c, 0, sizeof *c);
    return c;
}

void gs_table_text(gs_table *t, size_t row, size_t col, const char *text)
{
    gs_cell *c = table_cell(t, row, col);
    if (!c)
        return;
    c->text = dup_str(text ? text : "");
    c->kind = c->text ? GS_CELL_TEXT : GS_CELL_EMPTY;
}

void gs_table_num(gs_table *t, size_t row, size_t col, double v)
{
    gs_cell *c = table_cell(t, row, col);
    if (!c)
        return;
    c->kind = GS_CELL_NUM;
    c->v = v;
}

void gs_table_int(gs_table *t, size_t row, size_t col, int64_t v)
{
    gs_cell *c = table_cell(t, row, col);
    if (!c)
        return;
    c->kind = GS_CELL_INT;
    c->i = v;
}

void gs_table_pm(gs_table *t, size_t row, size_t col, double mean, double sd)
{
    gs_cell *c = table_cell(t, row, col);
    if (!c)
        return;
    c->kind = GS_CELL_PM;
    c->v = mean;
    c->sd = sd;
}

/* Render a cell for text/markdown into buf. */
static void cell_human(const gs_cell *c, int prec, char *buf, size_t bufsz)
{
    switch (c->kind) {
    case GS_CELL_EMPTY:
        snprintf(buf, bufsz, "-");
        break;
    case GS_CELL_TEXT:
        snprintf(buf, bufsz, "%s", c->text);
        break;
    case GS_CELL_NUM:
        if (isnan(c->v))
            snprintf(buf, bufsz, "-");
        else
            snprintf(buf, bufsz, "%.*g", prec, c->v);
        break;
    case GS_CELL_INT:
        snprintf(buf, bufsz, "%lld", (long long)c->i);
        break;
    case GS_CELL_PM:
        if (isnan(c->v))
            snprintf(buf, bufsz, "-");
        else if (isnan(c->sd))
            snprintf(buf, bufsz, "%.*g", prec, c->v);
        else
            snprintf(buf, bufsz, "%.*g ± %.*g", prec, c->v, 2, c->sd);
        break;
    }
}

static int cell_is_numeric(const gs_cell *c)
{
    return c->kind == GS_CELL_NUM || c->kind == GS_CELL_INT || c->kind == GS_CELL_PM;
}

/* Display width of UTF-8 text (code points; good enough for our labels). */
static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w++;
    return w;
}

static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', out);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

static void csv_number(FILE *out, double v)
{
    if (isnan(v))
        fputs("nan", out);
    else
        fprintf(out, "%.9g", v);
}

static int table_print_csv(const gs_table *t, FILE *out, int csv_title)
{
    if (csv_title && t->title[0])
        fprintf(out, "# %s\n", t->title);
    /* a PM column becomes two: <name>, <name>_std */
    for (size_t c = 0; c < t->ncols; c++) {
        int pm = 0;
        for (size_t r = 0; r < t->nrows && !pm; r++)
            pm = t->cells[r * t->ncols + c].kind == GS_CELL_PM;
        if (c)
            fputc(',', out);
        csv_field(out, t->headers[c]);
        if (pm) {
            char h[256];
            snprintf(h, sizeof h, "%s_std", t->headers[c]);
            fputc(',', out);
            csv_field(out, h);
        }
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const gs_cell *cell = &t->cells[r * t->ncols + c];
            int pm = 0;
            for (size_t rr = 0; rr < t->nrows && !pm; rr++)
                pm = t->cells[rr * t->ncols + c].kind == GS_CELL_PM;
            if (c)
                fputc(',', out);
            switch (cell->kind) {
            case GS_CELL_EMPTY:
                break;
            case GS_CELL_TEXT:
                csv_field(out, cell->text);
                break;
            case GS_CELL_NUM:
            case GS_CELL_PM:
                csv_number(out, cell->v);
                break;
            case GS_CELL_INT:
                fprintf(out, "%lld", (long long)cell->i);
                break;
            }
            if (pm) {
                fputc(',', out);
                if (cell->kind == GS_CELL_PM)
                    csv_number(out, cell->sd);
            }
        }
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

int gs_table_print(const gs_table *t, FILE *out, gs_out_format fmt, int csv_title)
{
    if (fmt == GS_OUT_CSV)
        return table_print_csv(t, out, csv_title);

    size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);
    int *right = calloc(t->ncols ? t->ncols : 1, sizeof *right);
    char buf[256];
    if (!width || !right) {
        free(width);
        free(right);
        errno = ENOMEM;
        return -1;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = utf8_width(t->headers[c]);
        right[c] = 1;
        int any = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            const gs_cell *cell = &t->cells[r * t->ncols + c];
            cell_human(cell, t->prec[c], buf, sizeof buf);
            size_t w = utf8_width(buf);
            if (w > width[c])
                width[c] = w;
            if (cell->kind != GS_CELL_EMPTY) {
                any = 1;
                if (!cell_is_numeric(cell))
                    right[c] = 0;
            }
        }
        if (!any)
            right[c] = 0;
    }

    if (fmt == GS_OUT_MARKDOWN) {
        if (t->title[0])
            fprintf(out, "### %s\n\n", t->title);
        fputc('|', out);
        for (size_t c = 0; c < t->ncols; c++)
            fprintf(out, " %s |", t->headers[c]);
        fputs("\n|", out);
        for (size_t c = 0; c < t->ncols; c++)
            fputs(right[c] ? "---:|" : "---|", out);
        fputc('\n', out);
        for (size_t r = 0; r < t->nrows; r++) {
            fputc('|', out);
            for (size_t c = 0; c < t->ncols; c++) {
                cell_human(&t->cells[r * t->ncols + c], t->prec[c], buf, sizeof buf);
                fputc(' ', out);
                for (const char *p = buf; *p; p++) {
                    if (*p == '|')
                        fputc('\\', out);
                    fputc(*p, out);
                }
                fputs(" |", out);
            }
            fputc('\n', out);
        }
    } else {
        if (t->title[0])
            fprintf(out, "%s\n", t->title);
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = utf8_width(t->headers[c]);
            if (right[c])
                fprintf(out, "%*s%s", (int)(width[c] - w), "", t->headers[c]);
            else
                fprintf(out, "%s%*s", t->headers[c], c + 1 < t->ncols ? (int)(width[c] - w) : 0, "");
            fputs(c + 1 < t->ncols ? "  " : "\n", out);
        }
        for (size_t r = 0; r < t->nrows; r++) {
            for (size_t c = 0; c < t->ncols; c++) {
                cell_human(&t->cells[r * t->ncols + c], t->prec[c], buf, sizeof buf);
                size_t w = utf8_width(buf);
                if (right[c])
                    fprintf(out, "%*s%s", (int)(width[c] - w), "", buf);
                else
                    fprintf(out, "%s%*s", buf, c + 1 < t->ncols ? (int)(width[c] - w) : 0, "");
                fputs(c + 1 < t->ncols ? "  " : "\n", out);
            }
        }
    }
    free(width);
    free(right);
    return ferror(out) ? -1 : 0;
}

/* ---- facts about a run ------------------------------------------------------------------- */

char *gs_cli_run_tag(const char *path, char *buf, size_t bufsz)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, bufsz, "%s", base);
    size_t n = strlen(buf);
    if (n > 3 && strcmp(buf + n - 3, ".h5") == 0)
        buf[n - 3] = '\0';
    else if (n > 5 && strcmp(buf + n - 5, ".hdf5") == 0)
        buf[n - 5] = '\0';
    return buf;
}

char *gs_cli_config_field(const gs_run *run, const char *dotted, char *buf, size_t bufsz)
{
    const gs_json *j = gs_json_path(gs_run_config(run), dotted);
    if (j && j->type == GS_JSON_OBJECT && gs_json_get(j, "name"))
        j = gs_json_get(j, "name");
    if (j && j->type == GS_JSON_NULL)
        j = NULL;
    return gs_json_format(j, "", buf, bufsz);
}

char *gs_cli_arch_label(const gs_run *run, char *buf, size_t bufsz)
{
    char arch[64], depth[32];
    gs_cli_config_field(run, "arch", arch, sizeof arch);
    gs_cli_config_field(run, "depth", depth, sizeof depth);
    size_t n = strlen(arch);
    if (n == 0)
        snprintf(buf, bufsz, "%s", depth[0] ? depth : "?");
    else if ((arch[n - 1] >= '0' && arch[n - 1] <= '9') || !depth[0])
        snprintf(buf, bufsz, "%s", arch);
    else
        snprintf(buf, bufsz, "%s%s", arch, depth);
    return buf;
}

char *gs_cli_method(const gs_run *run, char *buf, size_t bufsz)
{
    gs_cli_config_field(run, "transform", buf, bufsz);
    if (!buf[0])
        snprintf(buf, bufsz, "?");
    return buf;
}

char *gs_cli_config_label(const gs_run *run, char *buf, size_t bufsz)
{
    char arch[64], data[64], opt[64], lr[32], method[64], epochs[32];
    gs_cli_arch_label(run, arch, sizeof arch);
    gs_cli_config_field(run, "epochs", epochs, sizeof epochs);
    gs_cli_config_field(run, "dataset", data, sizeof data);
    if (!data[0])
        gs_cli_config_field(run, "data", data, sizeof data);
    gs_cli_config_field(run, "optimizer", opt, sizeof opt);
    gs_cli_config_field(run, "optimizer.lr", lr, sizeof lr);
    gs_cli_method(run, method, sizeof method);
    snprintf(buf, bufsz, "%s %s %s%s%s %s%s%s%s", arch, data[0] ? data : "?", opt[0] ? opt : "?",
             lr[0] ? " lr=" : "", lr, method, epochs[0] ? ", " : "", epochs, epochs[0] ? " epochs" : "");
    return buf;
}

static const char *const group_fields[] = {
    "arch", "shortcut", "width", "depth", "data", "dataset", "epochs", "steps",
    "steps_per_epoch", "batch_size", "optimizer", "schedule", "warmup", "transform",
    "augment", "shuffle",
};

/* Members of the config's "dataset" object that define the experiment ("source" may
 * carry a seed, e.g. "synthetic:… (seed 1)", and is left out). */
static const char *const dataset_fields[] = { "name", "train_size", "test_size", "shape", "num_classes" };

char *gs_cli_group_key(const gs_run *run)
{
    const gs_json *cfg = gs_run_config(run);
    if (!cfg || cfg->type != GS_JSON_OBJECT) {
        const char *p = gs_run_path(run);
        size_t n = strlen(p) + 8;
        char *k = malloc(n);
        if (k)
            snprintf(k, n, "path:%s", p);
        return k;
    }
    /* shallow views of the chosen members, serialised canonically (keys sorted) */
    gs_json view = { .type = GS_JSON_OBJECT };
    gs_json dataset = { .type = GS_JSON_OBJECT, .key = (char *)"dataset" };
    gs_json *items[sizeof group_fields / sizeof group_fields[0]];
    gs_json *ds_items[sizeof dataset_fields / sizeof dataset_fields[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof group_fields / sizeof group_fields[0]; i++) {
        const gs_json *m = gs_json_get(cfg, group_fields[i]);
        if (!m)
            continue;
        if (!strcmp(group_fields[i], "dataset") && m->type == GS_JSON_OBJECT) {
            for (size_t k = 0; k < sizeof dataset_fields / sizeof dataset_fields[0]; k++) {
                const gs_json *d = gs_json_get(m, dataset_fields[k]);
                if (d)
                    ds_items[dataset.n++] = (gs_json *)d;
            }
            dataset.items = ds_items;
            items[n++] = &dataset;
            continue;
        }
        items[n++] = (gs_json *)m;
    }
    view.items = items;
    view.n = n;
    return gs_json_canonical(&view);
}

long gs_cli_group_runs(gs_run *const *runs, size_t n, size_t *group_of)
{
    char **keys = calloc(n ? n : 1, sizeof *keys);
    long ngroups = 0;
    if (!keys)
        return -1;
    for (size_t i = 0; i < n; i++) {
        keys[i] = gs_cli_group_key(runs[i]);
        if (!keys[i]) {
            ngroups = -1;
            goto done;
        }
        group_of[i] = (size_t)-1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(keys[i], keys[j]) == 0) {
                group_of[i] = group_of[j];
                break;
            }
        if (group_of[i] == (size_t)-1)
            group_of[i] = (size_t)ngroups++;
    }
done:
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    return ngroups;
}

/* The value in row `row` of a 1-D dataset; leaves *out alone (NaN) when absent. */
static int read_row_value(gs_run *run, gs_axis axis, const char *path, size_t row, double *out)
{
    if (!gs_run_has(run, path))
        return 0;
    return gs_run_read_column(run, axis, path, 0, row, 1, out);
}

int gs_cli_summarize(gs_run *run, gs_run_summary *s)
{
    double *v = NULL;
    size_t nr = 0, nc = 0;
    int rc = -1;
    char path[256];

    s->epochs = gs_run_rows(run, GS_AXIS_EPOCHS);
    s->steps = gs_run_rows(run, GS_AXIS_TRAIN);
    s->final_test_acc = s->best_test_acc = s->final_test_loss = NAN;
    s->final_train_loss = s->final_train_acc = NAN;
    s->last_step_loss = s->wall_s = s->images_per_s = NAN;
    s->mean_overlap = s->mean_cosine = NAN;
    s->best_epoch = -1;
    s->probe_epoch = -1;
    s->seed = (long long)gs_json_num(gs_json_get(gs_run_config(run), "seed"), -1);

    if (s->epochs > 0) {
        size_t last = s->epochs - 1;
        if (gs_run_has(run, GS_GRP_EPOCHS "/" GS_EPOCHS_TEST_ACC)) {
            gs_series acc = { 0 };
            if (gs_run_epochs_series(run, GS_EPOCHS_TEST_ACC, &acc) != 0)
                goto done;
            s->final_test_acc = acc.y[last];
            for (size_t i = 0; i < acc.n; i++)
                if (isfinite(acc.y[i]) && (isnan(s->best_test_acc) || acc.y[i] > s->best_test_acc)) {
                    s->best_test_acc = acc.y[i];
                    s->best_epoch = (long)acc.x[i];
                }
            gs_series_free(&acc);
        }
        if (read_row_value(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS "/" GS_EPOCHS_TEST_LOSS, last, &s->final_test_loss) != 0 ||
            read_row_value(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS "/" GS_EPOCHS_TRAIN_LOSS, last, &s->final_train_loss) != 0 ||
            read_row_value(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS "/" GS_EPOCHS_TRAIN_ACC, last, &s->final_train_acc) != 0 ||
            read_row_value(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS "/" GS_EPOCHS_WALL_S, last, &s->wall_s) != 0)
            goto done;
        if (gs_run_has(run, GS_GRP_EPOCHS "/" GS_EPOCHS_IMAGES_PER_S)) {
            v = gs_run_read_table(run, GS_AXIS_EPOCHS, GS_GRP_EPOCHS "/" GS_EPOCHS_IMAGES_PER_S, &nr, &nc);
            if (!v && nr)
                goto done;
            s->images_per_s = gs_stat_mean(v, nr, NULL);
            free(v);
            v = NULL;
        }
    }
    if (s->steps > 0 &&
        read_row_value(run, GS_AXIS_TRAIN, GS_GRP_TRAIN "/" GS_TRAIN_LOSS, s->steps - 1, &s->last_step_loss) != 0)
        goto done;
    size_t pe = gs_run_rows(run, GS_AXIS_PROBE_EPOCH);
    size_t nb = gs_run_n_blocks(run);
    if (pe > 0 && nb > 0) {
        double e;
        if (gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, pe - 1, 1, &e) != 0)
            goto done;
        s->probe_epoch = (long)e;
        v = malloc(nb * sizeof *v);
        if (!v)
            goto done;
        gs_run_block_epoch_path(path, sizeof path, GS_BLK_OVERLAP "_mean");
        if (gs_run_has(run, path)) {
            if (gs_run_read_rows(run, GS_AXIS_PROBE_EPOCH, path, pe - 1, 1, v) != 0)
                goto done;
            s->mean_overlap = gs_stat_mean(v, nb, NULL);
        }
        gs_run_block_epoch_path(path, sizeof path, GS_BLK_COSINE "_mean");
        if (gs_run_has(run, path)) {
            if (gs_run_read_rows(run, GS_AXIS_PROBE_EPOCH, path, pe - 1, 1, v) != 0)
                goto done;
            s->mean_cosine = gs_stat_mean(v, nb, NULL);
        }
    }
    rc = 0;
done:
    free(v);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------------------ */

double gs_stat_mean(const double *v, size_t n, size_t *count)
{
    double sum = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            sum += v[i];
            k++;
        }
    if (count)
        *count = k;
    return k ? sum / (double)k : NAN;
}

double gs_stat_sample_std(const double *v, size_t n)
{
    size_t k = 0;
    double mean = gs_stat_mean(v, n, &k);
    if (k < 2)
        return NAN;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            ss += (v[i] - mean) * (v[i] - mean);
    return sqrt(ss / (double)(k - 1));
}

int gs_cli_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int gs_cli_getopt_error(const char *verb, char **argv, int c)
{
    extern int optind, optopt;
    const char *opt = (optind > 0) ? argv[optind - 1] : "?";
    if (c == ':')
        return gs_cli_usage_error(verb, "option '%s' needs a value", opt);
    if (optopt && !(opt[0] == '-' && opt[1] == '-'))
        return gs_cli_usage_error(verb, "unknown option '-%c'", optopt);
    return gs_cli_usage_error(verb, "unknown option '%s'", opt);
}

long gs_cli_parse_count(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || end == s || *end || v <= 0)
        return -1;
    return v;
}
