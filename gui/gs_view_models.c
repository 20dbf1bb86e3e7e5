/* gs_view_models.c — figures of the GUI views (see the header). */
#define _POSIX_C_SOURCE 200809L
#include "gs_view_models.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_POINTS 2000
#define MAX_MAP_PANELS 6

static size_t max_points(const gs_view_state *st)
{
    return st->max_points >= 4 ? st->max_points : DEFAULT_POINTS;
}

const char *gs_map_metric_name(gs_map_metric m)
{
    switch (m) {
    case GS_MAP_COSINE: return "cosine";
    case GS_MAP_SHARE: return "residual share";
    default: return "overlap";
    }
}

double gs_residual_share(double skip, double residual)
{
    double d = skip * skip + residual * residual;
    return d > 0 ? residual * residual / d : NAN;
}

size_t gs_view_epoch_count(const gs_view_run *runs, size_t n)
{
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        const gs_run_data *d = runs[i].d;
        if (d->n_pe > e) e = d->n_pe;
        if (d->ep_test_acc.n > e) e = d->ep_test_acc.n;
        if (d->loss.n > 0) {
            size_t k = (size_t)floor(d->loss.x[d->loss.n - 1] / d->steps_per_epoch) + 1;
            if (k > e) e = k;
        }
    }
    return e;
}

static long current_epoch(const gs_view_run *runs, size_t n, const gs_view_state *st)
{
    long count = (long)gs_view_epoch_count(runs, n);
    if (count == 0)
        return -1;
    if (st->epoch < 0 || st->epoch >= count)
        return count - 1;
    return st->epoch;
}

static gs_figure *empty_figure(const char *title, const char *msg)
{
    gs_figure *f = gs_figure_new(1);
    if (!f)
        return NULL;
    gs_chart *c = gs_chart_new(GS_CHART_EMPTY);
    if (c) {
        gs_chart_set_text(&c->title, title);
        gs_chart_set_text(&c->empty_text, msg);
    }
    gs_figure_add(f, c);
    return f;
}

static void set_fig_title(gs_figure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_fig_title(gs_figure *f, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(f->title);
    f->title = strdup(buf);
}

/* Add a (smoothed) per-step series as a faint raw line under a smoothed labelled one,
 * both downsampled.  x is divided by xdiv.  Returns the smoothed line or NULL. */
static gs_chart_line *add_smoothed(gs_chart *c, const char *label, gs_rgb color, const double *x,
                                   const double *y, size_t n, double xdiv, double smooth, size_t maxp,
                                   gs_dash dash)
{
    gs_series raw = { n, (double *)x, (double *)y }, ds = { 0 };
    double *ex = malloc((n ? n : 1) * sizeof *ex), *ey = malloc((n ? n : 1) * sizeof *ey);
    gs_chart_line *res = NULL;
    if (!ex || !ey)
        goto done;
    for (size_t i = 0; i < n; i++)
        ex[i] = x[i] / xdiv;
    raw.x = ex;
    int smoothing = smooth > 0 && n > 2;
    if (smoothing) {
        if (gs_series_downsample(&raw, maxp, &ds) < 0)
            goto done;
        gs_chart_line *l = gs_chart_add_line(c, NULL, color, ds.x, ds.y, ds.n);
        if (l) {
            l->alpha = 0.22;
            l->width = 1;
            l->hover = 0;
        }
        gs_series_free(&ds);
        gs_ema(y, n, smooth, ey);
        raw.y = ey;
    }
    if (gs_series_downsample(&raw, maxp, &ds) < 0)
        goto done;
    res = gs_chart_add_line(c, label, color, ds.x, ds.y, ds.n);
    if (res) {
        res->width = 1.8;
        res->dash = dash;
    }
    gs_series_free(&ds);
done:
    free(ex);
    free(ey);
    return res;
}

/* A time axis in epochs: from 0 to a whole number of epochs. */
static void epoch_axis(gs_chart *c)
{
    if (!gs_chart_has_data(c))
        return;
    c->xmin = 0;
    c->xmax = fmax(1, ceil(c->xmax - 1e-9));
}

/* ---- overlap map -------------------------------------------------------------------- */

gs_figure *gs_view_overlap(const gs_view_run *runs, size_t n, const gs_view_state *st)
{
    if (n == 0)
        return empty_figure("Overlap map", "Open a run to see its block × epoch overlap map\n(Ctrl+O, or drop .h5 files here)");
    size_t np = n > MAX_MAP_PANELS ? MAX_MAP_PANELS : n;
    gs_figure *f = gs_figure_new((int)(np <= 3 ? np : 3));
    if (!f)
        return NULL;
    gs_map_metric m = st->metric;
    static const char *const titles[GS_MAP_COUNT] = {
        "Overlap ‖dx‖² / (‖dx_skip‖² + ‖dx_residual‖²) per block and epoch",
        "Cosine of dx_skip and dx_residual per block and epoch",
        "Residual share ‖dx_residual‖² / (‖dx_skip‖² + ‖dx_residual‖²) per block and epoch",
    };
    static const char *const notes[GS_MAP_COUNT] = {
        "1 = orthogonal · > 1 reinforcing · < 1 cancelling; epoch means",
        "+1 aligned · 0 orthogonal · −1 opposed; epoch means",
        "0 = all skip · 1 = all residual; from the epoch-mean norms",
    };
    set_fig_title(f, "%s", titles[m]);
    f->subtitle = strdup(notes[m]);
    long ep = current_epoch(runs, n, st);
    double zlo = INFINITY, zhi = -INFINITY;
    for (size_t i = 0; i < np; i++) {
        const gs_run_data *d = runs[i].d;
        gs_chart *c;
        size_t E = d->n_pe, B = d->n_blocks;
        const double *src = m == GS_MAP_OVERLAP ? d->pe[GS_STAT_OVERLAP]
                          : m == GS_MAP_COSINE  ? d->pe[GS_STAT_COSINE]
                                                : d->pe[GS_STAT_SKIP];
        if (E == 0 || B == 0 || !src || (m == GS_MAP_SHARE && !d->pe[GS_STAT_RESIDUAL])) {
            c = gs_chart_new(GS_CHART_EMPTY);
            if (c) {
                gs_chart_set_text(&c->title, runs[i].label);
                gs_chart_set_text(&c->empty_text,
                                  d->rows[GS_AXIS_PROBE] > 0 ? "No finished epoch yet — the map fills in as epochs end"
                                                             : "No block probes in this run (trained with --probes off?)");
            }
            gs_figure_add(f, c);
            continue;
        }
        c = gs_chart_new(GS_CHART_HEATMAP);
        if (!c) {
            gs_figure_free(f);
            return NULL;
        }
        /* rows = blocks (first block on top), cols = epochs: transpose [E × B] */
        double *z = malloc(E * B * sizeof *z);
        if (!z) {
            gs_chart_free(c);
            gs_figure_free(f);
            return NULL;
        }
        for (size_t b = 0; b < B; b++)
            for (size_t e = 0; e < E; e++) {
                double v;
                if (m == GS_MAP_SHARE)
                    v = gs_residual_share(d->pe[GS_STAT_SKIP][e * B + b], d->pe[GS_STAT_RESIDUAL][e * B + b]);
                else
                    v = src[e * B + b];
                z[b * E + e] = v;
            }
        gs_chart_set_grid(c, B, E, z, (const char *const *)d->block_names, d->pe_epoch);
        free(z);
        char title[256];
        snprintf(title, sizeof title, "%s", runs[i].label);
        gs_chart_set_text(&c->title, title);
        gs_chart_set_text(&c->xlabel, "epoch");
        gs_chart_set_text(&c->zlabel, gs_map_metric_name(m));
        gs_chart_set_text(&c->row_name, "block");
        gs_chart_set_text(&c->col_name, "epoch");
        gs_chart_set_text(&c->z_name, gs_map_metric_name(m));
        c->zlog = st->log_y && m == GS_MAP_OVERLAP;
        c->sel_row = st->block ? gs_name_index(d->block_names, B, st->block) : 0;
        c->sel_col = ep >= 0 && (size_t)ep < E ? ep : -1;
        double lo, hi;
        if (gs_range_of(c->z, B * E, c->zlog, &lo, &hi)) {
            if (lo < zlo) zlo = lo;
            if (hi > zhi) zhi = hi;
        }
        gs_figure_add(f, c);
    }
    /* one colour scale for all panels so runs compare */
    for (size_t i = 0; i < f->n; i++) {
        gs_chart *c = f->panels[i];
        if (c->kind != GS_CHART_HEATMAP)
            continue;
        if (isfinite(zlo) && isfinite(zhi) && zhi > zlo) {
            c->zmin = zlo;
            c->zmax = zhi;
        }
        gs_chart_autorange(c);
    }
    return f;
}

/* ---- norms -------------------------------------------------------------------------- */

gs_figure *gs_view_norms(const gs_view_run *runs, size_t n, const gs_view_state *st)
{
    if (n == 0)
        return empty_figure("Gradient norms", "Open a run to see the skip, residual and sum gradient norms");
    const char *block = st->block ? st->block : (runs[0].d->n_blocks ? runs[0].d->block_names[0] : "");
    gs_figure *f = gs_figure_new(3);
    if (!f)
        return NULL;
    if (st->smooth > 0)
        set_fig_title(f, "Gradient norms at the input of %s (faint: raw; solid: EMA %.2f)", block, st->smooth);
    else
        set_fig_title(f, "Gradient norms at the input of %s", block);
    static const char *const titles[3] = { "skip ‖dx_skip‖₂", "residual ‖dx_residual‖₂", "sum ‖dx‖₂ (skip + residual)" };
    long ep = current_epoch(runs, n, st);
    double ylo = INFINITY, yhi = -INFINITY;
    int any = 0;
    for (int s = 0; s < 3; s++) {
        gs_chart *c = gs_chart_new(GS_CHART_LINES);
        if (!c) {
            gs_figure_free(f);
            return NULL;
        }
        gs_chart_set_text(&c->title, titles[s]);
        gs_chart_set_text(&c->xlabel, "epoch");
        gs_chart_set_text(&c->xhover_name, "epoch");
        if (s == 0)
            gs_chart_set_text(&c->ylabel, "L2 norm of the batch gradient");
        gs_chart_set_text(&c->empty_text, "No per-step block probes for this block");
        c->ylog = st->log_y;
        c->legend = s == 0 ? 1 : 0;
        for (size_t i = 0; i < n; i++) {
            const gs_run_data *d = runs[i].d;
            long b = gs_name_index(d->block_names, d->n_blocks, block);
            if (b < 0 || !d->norms[s] || d->n_probe == 0)
                continue;
            size_t N = d->n_probe, B = d->n_blocks;
            double *y = malloc(N * sizeof *y);
            if (!y)
                continue;
            for (size_t k = 0; k < N; k++)
                y[k] = d->norms[s][k * B + (size_t)b];
            add_smoothed(c, runs[i].label, runs[i].color, d->probe_step, y, N, d->steps_per_epoch,
                         st->smooth, max_points(st), GS_DASH_SOLID);
            free(y);
            any = 1;
        }
        if (ep >= 0) {
            c->band_lo = (double)ep;
            c->band_hi = (double)ep + 1;
        }
        gs_chart_autorange(c);
        epoch_axis(c);
        if (gs_chart_has_data(c)) {
            if (c->ymin < ylo) ylo = c->ymin;
            if (c->ymax > yhi) yhi = c->ymax;
        }
        gs_figure_add(f, c);
    }
    int pending = 0;
    for (size_t i = 0; i < n; i++)
        pending |= runs[i].d->norms_pending;
    if (!any && pending) {
        gs_figure_free(f);
        return empty_figure("Gradient norms", "Reading the per-step norms…");
    }
    if (!any) {
        gs_figure_free(f);
        char msg[256];
        snprintf(msg, sizeof msg, "No per-step block probes for %s in the open runs\n(trained with --probes off?)", block);
        return empty_figure("Gradient norms", msg);
    }
    for (size_t i = 0; i < f->n; i++) {   /* shared y range: the panels compare */
        f->panels[i]->ymin = ylo;
        f->panels[i]->ymax = yhi;
    }
    return f;
}

/* ---- distributions -------------------------------------------------------------------- */

/* Regular bins: finite, positive lower edge and finite upper edge. */
static int regular_bin(const double *edges, size_t k)
{
    return edges[k] > 0 && isfinite(edges[k + 1]) && edges[k + 1] > edges[k];
}

gs_figure *gs_view_distributions(const gs_view_run *runs, size_t n, const gs_view_state *st)
{
    if (n == 0)
        return empty_figure("Distributions", "Open a run to see gradient magnitude distributions");
    if (!st->param)
        return empty_figure("Distributions", "Select a tensor in the sidebar (Tensors tab)");
    gs_figure *f = gs_figure_new(2);
    if (!f)
        return NULL;
    set_fig_title(f, "Magnitude distribution of the gradient of %s, per epoch", st->param);
    long ep = current_epoch(runs, n, st);

    /* the x range: regular bins that hold counts in any run, ± one bin */
    const double *edges = NULL;
    size_t H = 0, kmin = SIZE_MAX, kmax = 0, E = 0;
    for (size_t i = 0; i < n; i++) {
        const gs_run_data *d = runs[i].d;
        if (!d->edges || runs[i].hist_rows == 0)
            continue;
        if (!edges) {
            edges = d->edges;
            H = d->n_bins;
        }
        if (d->n_bins != H)
            continue;
        if (runs[i].hist_rows > E) E = runs[i].hist_rows;
        for (int side = 0; side < 2; side++) {
            const int64_t *h = side ? runs[i].hist_post : runs[i].hist_pre;
            if (!h)
                continue;
            for (size_t r = 0; r < runs[i].hist_rows; r++)
                for (size_t k = 0; k < H; k++)
                    if (h[r * H + k] > 0 && regular_bin(d->edges, k)) {
                        if (k < kmin) kmin = k;
                        if (k > kmax) kmax = k;
                    }
        }
    }
    if (!edges || E == 0) {
        gs_figure_free(f);
        return empty_figure("Distributions", "No per-epoch histograms for this tensor in the open runs\n"
                                              "(the first epoch has not finished, or probes were off)");
    }
    if (kmin == SIZE_MAX) {
        kmin = 2;
        kmax = H > 3 ? H - 2 : 2;
    }
    if (kmin > 0 && regular_bin(edges, kmin - 1))
        kmin--;
    if (kmax + 1 < H && regular_bin(edges, kmax + 1))
        kmax++;

    char **rowlab = calloc(E, sizeof *rowlab);
    if (!rowlab) {
        gs_figure_free(f);
        return NULL;
    }
    for (size_t r = 0; r < E; r++) {
        char b[32];
        snprintf(b, sizeof b, "epoch %zu", r);
        rowlab[r] = strdup(b);
    }
    for (int side = 0; side < 2; side++) {
        gs_chart *c = gs_chart_new(GS_CHART_RIDGES);
        if (!c)
            break;
        const char *tf = runs[0].d->transform && *runs[0].d->transform ? runs[0].d->transform : "the transform";
        char title[160];
        if (side == 0)
            snprintf(title, sizeof title, "raw gradient (before the transform)");
        else if (n == 1)
            snprintf(title, sizeof title, "after %s (what the optimizer sees)", tf);
        else
            snprintf(title, sizeof title, "after each run's transform (what the optimizer sees)");
        gs_chart_set_text(&c->title, title);
        gs_chart_set_text(&c->xlabel, "|gradient element|");
        gs_chart_set_text(&c->xhover_name, "|g|");
        c->xlog = 1;
        c->xmin = edges[kmin];
        c->xmax = edges[kmax + 1];
        c->sel_row = ep >= 0 && (size_t)ep < E ? ep : -1;
        c->legend = n > 1 ? 1 : 0;
        gs_chart_set_rows(c, E, (const char *const *)rowlab);
        char note[256] = "";
        for (size_t i = 0; i < n; i++) {
            const gs_run_data *d = runs[i].d;
            const int64_t *h = side ? runs[i].hist_post : runs[i].hist_pre;
            if (!h || d->n_bins != H)
                continue;
            double x[256], y[256];
            for (size_t r = 0; r < runs[i].hist_rows; r++) {
                const int64_t *row = h + r * H;
                double total = 0;
                for (size_t k = 0; k < H; k++)
                    total += (double)row[k];
                if (!(total > 0))
                    continue;
                size_t m = 0;
                for (size_t k = kmin; k <= kmax && m < 256; k++) {
                    if (!regular_bin(edges, k))
                        continue;
                    x[m] = sqrt(edges[k] * edges[k + 1]);
                    y[m] = (double)row[k] / total;
                    m++;
                }
                gs_chart_line *l = gs_chart_add_line(c, runs[i].label, runs[i].color, x, y, m);
                if (l) {
                    l->row = (int)r;
                    l->fill = 1;
                    l->width = 1.2;
                }
                if ((long)r == ep && i == 0) {
                    /* what the bins outside the axis hold */
                    double zero = 0, under = 0, over = 0;
                    for (size_t k = 0; k < H; k++) {
                        if (edges[k + 1] == 0) zero += (double)row[k];
                        else if (edges[k] == 0) under += (double)row[k];
                        else if (!isfinite(edges[k + 1])) over += (double)row[k];
                    }
                    char lo[32], hi[32];
                    if (zero + under + over == 0)
                        snprintf(note, sizeof note, "epoch %ld%s%s: no exact zeros, nothing below %s or above %s",
                                 ep, n > 1 ? ", " : "", n > 1 ? runs[0].label : "",
                                 gs_format_value(edges[2], lo, sizeof lo), gs_format_value(edges[H - 1], hi, sizeof hi));
                    else
                        snprintf(note, sizeof note, "epoch %ld%s%s: zeros %.2g %%, < %s %.2g %%, ≥ %s %.2g %%",
                                 ep, n > 1 ? ", " : "", n > 1 ? runs[0].label : "", 100 * zero / total,
                                 gs_format_value(edges[2], lo, sizeof lo), 100 * under / total,
                                 gs_format_value(edges[H - 1], hi, sizeof hi), 100 * over / total);
                }
            }
        }
        if (*note)
            gs_chart_set_text(&c->note, note);
        gs_chart_autorange(c);
        gs_figure_add(f, c);
    }
    /* same height scale on both sides */
    double ymax = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->panels[i]->ymax > ymax) ymax = f->panels[i]->ymax;
    for (size_t i = 0; i < f->n; i++)
        f->panels[i]->ymax = ymax > 0 ? ymax : 1;
    for (size_t r = 0; r < E; r++)
        free(rowlab[r]);
    free(rowlab);
    return f;
}

/* ---- training ----------------------------------------------------------------------- */

gs_figure *gs_view_training(const gs_view_run *runs, size_t n, const gs_view_state *st)
{
    if (n == 0)
        return empty_figure("Training", "Open runs to compare their loss and accuracy");
    gs_figure *f = gs_figure_new(2);
    if (!f)
        return NULL;
    if (st->smooth > 0)
        set_fig_title(f, "Training curves — train: batch values (faint) and EMA %.2f; test: after each epoch (dots)", st->smooth);
    else
        set_fig_title(f, "Training curves — train: batch values; test: after each epoch (dots)");
    long ep = current_epoch(runs, n, st);
    for (int panel = 0; panel < 2; panel++) {
        gs_chart *c = gs_chart_new(GS_CHART_LINES);
        if (!c)
            break;
        gs_chart_set_text(&c->title, panel == 0 ? "loss" : "accuracy");
        gs_chart_set_text(&c->xlabel, "epoch");
        gs_chart_set_text(&c->xhover_name, "epoch");
        gs_chart_set_text(&c->ylabel, panel == 0 ? "cross-entropy (nats)" : "accuracy (%)");
        gs_chart_set_text(&c->empty_text, "No training rows yet");
        c->ylog = panel == 0 && st->log_y;
        c->legend = panel == 0 ? 1 : 2;
        for (size_t i = 0; i < n; i++) {
            const gs_run_data *d = runs[i].d;
            const gs_series *tr = panel == 0 ? &d->loss : &d->acc;
            const gs_series *te = panel == 0 ? &d->ep_test_loss : &d->ep_test_acc;
            double scale = panel == 0 ? 1 : 100;
            char label[160];
            if (tr->n) {
                double *y = malloc(tr->n * sizeof *y);
                if (y) {
                    for (size_t k = 0; k < tr->n; k++)
                        y[k] = tr->y[k] * scale;
                    snprintf(label, sizeof label, "%s train", runs[i].label);
                    add_smoothed(c, label, runs[i].color, tr->x, y, tr->n, d->steps_per_epoch, st->smooth,
                                 max_points(st), GS_DASH_SOLID);
                    free(y);
                }
            }
            if (te->n) {
                double *x = malloc(te->n * sizeof *x), *y = malloc(te->n * sizeof *y);
                if (x && y) {
                    for (size_t k = 0; k < te->n; k++) {
                        x[k] = te->x[k] + 1;
                        y[k] = te->y[k] * scale;
                    }
                    snprintf(label, sizeof label, "%s test", runs[i].label);
                    gs_chart_line *l = gs_chart_add_line(c, label, runs[i].color, x, y, te->n);
                    if (l) {
                        l->dash = GS_DASH_DASHED;
                        l->markers = 1;
                        l->width = 1.6;
                    }
                }
                free(x);
                free(y);
            }
        }
        if (ep >= 0) {
            c->band_lo = (double)ep;
            c->band_hi = (double)ep + 1;
        }
        if (panel == 1) {   /* accuracy: never past 100 % */
            gs_chart_autorange(c);
            if (c->ymax > 100) c->ymax = 100;
            if (c->ymin < 0) c->ymin = 0;
        }
        gs_chart_autorange(c);
        epoch_axis(c);
        gs_figure_add(f, c);
    }
    return f;
}

/* ---- summary ------------------------------------------------------------------------ */

typedef struct sbuf { char *s; size_t n, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* markup-escaped copy into buf */
static const char *esc(const char *s, char *buf, size_t bufsz)
{
    size_t j = 0;
    for (; s && *s && j + 7 < bufsz; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        default: break;
        }
        if (r) {
            size_t k = strlen(r);
            memcpy(buf + j, r, k);
            j += k;
        } else {
            buf[j++] = *s;
        }
    }
    buf[j] = '\0';
    return buf;
}

static double last_finite(const gs_series *s, double *x)
{
    for (size_t i = s->n; i-- > 0;)
        if (isfinite(s->y[i])) {
            if (x) *x = s->x[i];
            return s->y[i];
        }
    return NAN;
}

static double block_mean_last(const gs_run_data *d, gs_blk_stat st)
{
    if (!d->pe[st] || d->n_pe == 0 || d->n_blocks == 0)
        return NAN;
    const double *row = d->pe[st] + (d->n_pe - 1) * d->n_blocks;
    double s = 0;
    size_t k = 0;
    for (size_t b = 0; b < d->n_blocks; b++)
        if (isfinite(row[b])) {
            s += row[b];
            k++;
        }
    return k ? s / (double)k : NAN;
}

char *gs_view_summary_markup(const gs_view_run *runs, size_t n)
{
    sbuf b = { 0 };
    char e1[512], e2[4096];
    if (n == 0) {
        sb_add(&b, "<span size='large'>No run open.</span>\n\nOpen a run log with Ctrl+O, drop .h5 files on the "
                   "window, or start <tt>gradscope-view RUN.h5 …</tt>");
        return b.oom ? (free(b.s), NULL) : b.s;
    }
    enum { ROWS = 16 };
    static const char *const keys[ROWS] = {
        "file", "status", "transform", "optimizer", "model", "dataset", "epochs done", "steps",
        "parameters", "final test acc.", "best test acc.", "final test loss", "final train loss",
        "throughput", "mean overlap (last ep.)", "mean cosine (last ep.)",
    };
    sb_add(&b, "<span size='large' weight='bold'>Runs at a glance</span>\n\n<span font_family='monospace'>");
    for (int r = 0; r < ROWS; r++) {
        sb_add(&b, "<b>%-24s</b>", keys[r]);
        for (size_t i = 0; i < n; i++) {
            const gs_run_data *d = runs[i].d;
            char v[256] = "-";
            double x = NAN, y;
            switch (r) {
            case 0: snprintf(v, sizeof v, "%s", d->name); break;
            case 1: snprintf(v, sizeof v, "%s%s", *d->status ? d->status : "?", d->live ? " (live)" : ""); break;
            case 2: snprintf(v, sizeof v, "%s", *d->transform ? d->transform : "-"); break;
            case 3:
                if (isfinite(d->lr)) snprintf(v, sizeof v, "%s, lr %g", d->optimizer, d->lr);
                else snprintf(v, sizeof v, "%s", d->optimizer);
                break;
            case 4: snprintf(v, sizeof v, "%s, %zu blocks", d->arch, d->n_blocks); break;
            case 5: snprintf(v, sizeof v, "%s", d->dataset); break;
            case 6: snprintf(v, sizeof v, "%zu", d->rows[GS_AXIS_EPOCHS]); break;
            case 7: snprintf(v, sizeof v, "%zu", d->rows[GS_AXIS_TRAIN]); break;
            case 8: snprintf(v, sizeof v, "%.3g M", (double)d->param_count / 1e6); break;
            case 9:
                y = last_finite(&d->ep_test_acc, &x);
                if (isfinite(y)) snprintf(v, sizeof v, "%.2f %% (ep. %.0f)", 100 * y, x);
                break;
            case 10: {
                double best = NAN, bx = 0;
                for (size_t k = 0; k < d->ep_test_acc.n; k++)
                    if (isfinite(d->ep_test_acc.y[k]) && !(d->ep_test_acc.y[k] <= best)) {
                        best = d->ep_test_acc.y[k];
                        bx = d->ep_test_acc.x[k];
                    }
                if (isfinite(best)) snprintf(v, sizeof v, "%.2f %% (ep. %.0f)", 100 * best, bx);
                break;
            }
            case 11:
                y = last_finite(&d->ep_test_loss, NULL);
                if (isfinite(y)) snprintf(v, sizeof v, "%.4f", y);
                break;
            case 12:
                y = last_finite(&d->ep_train_loss, NULL);
                if (isfinite(y)) snprintf(v, sizeof v, "%.4f", y);
                break;
            case 13:
                y = last_finite(&d->ep_images_per_s, NULL);
                if (isfinite(y)) snprintf(v, sizeof v, "%.0f img/s", y);
                break;
            case 14:
                y = block_mean_last(d, GS_STAT_OVERLAP);
                if (isfinite(y)) snprintf(v, sizeof v, "%.4f", y);
                break;
            case 15:
                y = block_mean_last(d, GS_STAT_COSINE);
                if (isfinite(y)) snprintf(v, sizeof v, "%+.4f", y);
                break;
            default: break;
            }
            char hex[16];
            if (r == 0)
                sb_add(&b, "  <span foreground='%s'>●</span> %-26s", gs_rgb_hex(runs[i].color, hex, sizeof hex),
                       esc(v, e1, sizeof e1));
            else
                sb_add(&b, "    %-26s", esc(v, e1, sizeof e1));
        }
        sb_add(&b, "\n");
    }
    sb_add(&b, "</span>");
    for (size_t i = 0; i < n; i++) {
        const gs_run_data *d = runs[i].d;
        char hex[16];
        sb_add(&b, "\n<b><span foreground='%s'>●</span> %s</b> — %s\n", gs_rgb_hex(runs[i].color, hex, sizeof hex),
               esc(d->name, e1, sizeof e1), esc(d->path, e2, sizeof e2));
        /* the configuration: one top-level key per line, values as compact JSON */
        sb_add(&b, "<span font_family='monospace' size='small'>");
        gs_json *cfg = d->config_text && *d->config_text ? gs_json_parse(d->config_text, NULL, 0) : NULL;
        if (cfg && cfg->type == GS_JSON_OBJECT) {
            for (size_t k = 0; k < cfg->n; k++) {
                char val[1024];
                gs_json_format(cfg->items[k], "", val, sizeof val);
                sb_add(&b, "  <b>%-18s</b> %s\n", esc(cfg->items[k]->key, e1, sizeof e1), esc(val, e2, sizeof e2));
            }
        } else {
            sb_add(&b, "  (no readable /config)\n");
        }
        gs_json_free(cfg);
        sb_add(&b, "</span>");
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
