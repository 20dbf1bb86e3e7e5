/* gs_chart_model.c — chart models, scales, ticks, layout, hit-testing (see the header). */
#include "gs_chart_model.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- colours ------------------------------------------------------------------------ */

static const unsigned okabe_ito[8] = {
    0x0072B2, 0xD55E00, 0x009E73, 0xE69F00, 0xCC79A7, 0x56B4E9, 0xF0E442, 0x000000,
};

static gs_rgb rgb_hex(unsigned v)
{
    gs_rgb c = { ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0 };
    return c;
}

gs_rgb gs_palette_run(size_t i)
{
    return rgb_hex(okabe_ito[i % 8]);
}

char *gs_rgb_hex(gs_rgb c, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "#%02X%02X%02X", (unsigned)lround(c.r * 255), (unsigned)lround(c.g * 255),
             (unsigned)lround(c.b * 255));
    return buf;
}

/* viridis(10) of matplotlib / R, at t = k / 9 */
static const unsigned viridis10[10] = {
    0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725,
};

gs_rgb gs_viridis(double t)
{
    if (!isfinite(t)) {
        gs_rgb grey = { 0.6, 0.6, 0.6 };
        return grey;
    }
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double u = t * 9.0;
    int k = (int)floor(u);
    if (k >= 9) k = 8;
    double f = u - k;
    gs_rgb a = rgb_hex(viridis10[k]), b = rgb_hex(viridis10[k + 1]);
    gs_rgb c = { a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b) };
    return c;
}

/* ---- scales ----------------------------------------------------------------------- */

double gs_scale_map(const gs_scale *s, double v)
{
    if (!isfinite(v))
        return NAN;
    double a, b, t;
    if (s->log) {
        if (v <= 0)
            return NAN;
        a = log10(s->dlo);
        b = log10(s->dhi);
        t = log10(v);
    } else {
        a = s->dlo;
        b = s->dhi;
        t = v;
    }
    double d = b - a;
    if (d == 0)
        return 0.5 * (s->plo + s->phi);
    return s->plo + (t - a) / d * (s->phi - s->plo);
}

double gs_scale_unmap(const gs_scale *s, double p)
{
    double a = s->log ? log10(s->dlo) : s->dlo;
    double b = s->log ? log10(s->dhi) : s->dhi;
    double dp = s->phi - s->plo;
    double t = dp == 0 ? a : a + (p - s->plo) / dp * (b - a);
    return s->log ? pow(10.0, t) : t;
}

size_t gs_range_of(const double *v, size_t n, int log, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!isfinite(x) || (log && x <= 0))
            continue;
        if (x < a) a = x;
        if (x > b) b = x;
        k++;
    }
    *lo = k ? a : NAN;
    *hi = k ? b : NAN;
    return k;
}

void gs_range_pad(double *lo, double *hi, int log, double pad)
{
    double a = *lo, b = *hi;
    if (log) {
        if (!isfinite(a) || !isfinite(b) || a <= 0 || b <= 0) {
            a = 0.1;
            b = 10;
        } else if (a == b) {
            a /= 2;
            b *= 2;
        } else {
            double la = log10(a), lb = log10(b), w = lb - la;
            a = pow(10.0, la - pad * w);
            b = pow(10.0, lb + pad * w);
        }
    } else {
        if (!isfinite(a) || !isfinite(b)) {
            a = 0;
            b = 1;
        } else if (a == b) {
            double m = fabs(a) > 0 ? 0.05 * fabs(a) : 0.5;
            a -= m;
            b += m;
        } else {
            double w = b - a;
            a -= pad * w;
            b += pad * w;
        }
    }
    *lo = a;
    *hi = b;
}

static double nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double e = floor(log10(raw));
    double f = raw / pow(10.0, e);
    double n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return n * pow(10.0, e);
}

size_t gs_ticks(double lo, double hi, int log, size_t max_ticks, double *out, size_t cap)
{
    size_t k = 0;
    if (!isfinite(lo) || !isfinite(hi) || hi < lo || cap == 0)
        return 0;
    if (max_ticks < 2)
        max_ticks = 2;
    if (!log) {
        if (hi == lo) {
            out[0] = lo;
            return 1;
        }
        double step = nice_step((hi - lo) / (double)(max_ticks - 1));
        double t0 = ceil(lo / step - 1e-9) * step;
        for (double t = t0; t <= hi + 1e-9 * step && k < cap; t += step) {
            double v = fabs(t) < 1e-12 * step ? 0 : t;
            out[k++] = v;
            if (k > 4 * max_ticks) break;
        }
        return k;
    }
    if (lo <= 0)
        return 0;
    double la = log10(lo), lb = log10(hi);
    long d0 = (long)ceil(la - 1e-9), d1 = (long)floor(lb + 1e-9);
    long ndec = d1 - d0 + 1;
    if (ndec >= 2) {
        long every = 1;
        while (ndec / every > (long)max_ticks)
            every++;
        long start = d0;
        if (every > 1)   /* keep ticks on multiples of `every` so labels are regular */
            start = (long)ceil((double)d0 / every) * every;
        for (long d = start; d <= d1 && k < cap; d += every)
            out[k++] = pow(10.0, (double)d);
        if (k >= 2)
            return k;
        k = 0;
    }
    /* under two decades: 1, 2, 5 × 10^d */
    static const double mult[3] = { 1, 2, 5 };
    for (long d = (long)floor(la) - 1; d <= (long)ceil(lb) && k < cap; d++)
        for (int m = 0; m < 3 && k < cap; m++) {
            double v = mult[m] * pow(10.0, (double)d);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                out[k++] = v;
        }
    if (k > max_ticks + 2) {   /* too many: keep 1 × 10^d only */
        size_t j = 0;
        for (size_t i = 0; i < k; i++) {
            double m = out[i] / pow(10.0, floor(log10(out[i]) + 1e-9));
            if (fabs(m - 1) < 1e-6)
                out[j++] = out[i];
        }
        k = j;
    }
    if (k == 0) {   /* a very narrow range inside one 1-2-5 gap: fall back to linear ticks */
        return gs_ticks(lo, hi, 0, max_ticks, out, cap);
    }
    return k;
}

static void strip_exp(char *buf)
{
    /* "1e-06" → "1e-6", "1e+04" → "1e4" */
    char *e = strchr(buf, 'e');
    if (!e)
        return;
    char *p = e + 1;
    char sign = 0;
    if (*p == '+' || *p == '-') {
        sign = *p;
        p++;
    }
    while (*p == '0' && p[1])
        p++;
    char tail[16];
    snprintf(tail, sizeof tail, "%s%s", sign == '-' ? "-" : "", p);
    memmove(e + 1, tail, strlen(tail) + 1);
}

char *gs_format_tick(double v, double step, int log, char *buf, size_t bufsz)
{
    if (!isfinite(v)) {
        snprintf(buf, bufsz, "%s", isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    if (v == 0) {
        snprintf(buf, bufsz, "0");
        return buf;
    }
    double a = fabs(v);
    if (log) {
        if (a >= 1e-3 && a < 1e5)
            snprintf(buf, bufsz, "%g", v);
        else {
            snprintf(buf, bufsz, "%.0e", v);
            strip_exp(buf);
        }
        return buf;
    }
    if (a >= 1e5 || a < 1e-4) {
        snprintf(buf, bufsz, "%.3g", v);
        strip_exp(buf);
        return buf;
    }
    int dec = 0;
    if (step > 0 && step < 1)
        dec = (int)ceil(-log10(step) - 1e-9);
    if (step > 0 && fmod(step * pow(10.0, dec), 1.0) > 1e-6 && dec < 6)
        dec++;   /* 0.25 steps need two decimals */
    if (dec > 6) dec = 6;
    snprintf(buf, bufsz, "%.*f", dec, v);
    return buf;
}

char *gs_format_value(double v, char *buf, size_t bufsz)
{
    if (!isfinite(v)) {
        snprintf(buf, bufsz, "%s", isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    snprintf(buf, bufsz, "%.4g", v);
    strip_exp(buf);
    return buf;
}

void gs_ema(const double *y, size_t n, double weight, double *out)
{
    if (!(weight > 0) || weight >= 1) {
        if (out != y)
            memmove(out, y, n * sizeof *out);
        return;
    }
    double s = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        double v = y[i];
        if (!isfinite(v)) {
            out[i] = NAN;
            continue;
        }
        s = weight * s + (1 - weight) * v;
        w = weight * w + (1 - weight);
        out[i] = s / w;
    }
}

/* ---- charts ------------------------------------------------------------------------ */

static char *dupstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

gs_chart *gs_chart_new(gs_chart_kind kind)
{
    gs_chart *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = kind;
    c->xmin = c->xmax = c->ymin = c->ymax = c->zmin = c->zmax = NAN;
    c->xscale_hover = 1;
    c->zx0 = c->zx1 = NAN;
    c->sel_row = c->sel_col = -1;
    c->band_lo = c->band_hi = NAN;
    c->legend = 1;
    return c;
}

void gs_chart_free(gs_chart *c)
{
    if (!c)
        return;
    free(c->title);
    free(c->xlabel);
    free(c->ylabel);
    free(c->zlabel);
    free(c->empty_text);
    free(c->note);
    free(c->xhover_name);
    for (size_t i = 0; i < c->nlines; i++) {
        free(c->lines[i].label);
        free(c->lines[i].x);
        free(c->lines[i].y);
    }
    free(c->lines);
    free(c->z);
    if (c->row_labels)
        for (size_t i = 0; i < c->rows; i++)
            free(c->row_labels[i]);
    free(c->row_labels);
    free(c->col_x);
    free(c->row_name);
    free(c->col_name);
    free(c->z_name);
    free(c);
}

void gs_chart_set_text(char **field, const char *s)
{
    free(*field);
    *field = dupstr(s);
}

gs_chart_line *gs_chart_add_line(gs_chart *c, const char *label, gs_rgb color,
                                 const double *x, const double *y, size_t n)
{
    if (c->nlines == c->lines_cap) {
        size_t cap = c->lines_cap ? 2 * c->lines_cap : 8;
        gs_chart_line *l = realloc(c->lines, cap * sizeof *l);
        if (!l)
            return NULL;
        c->lines = l;
        c->lines_cap = cap;
    }
    gs_chart_line *l = &c->lines[c->nlines];
    memset(l, 0, sizeof *l);
    l->x = malloc((n ? n : 1) * sizeof *l->x);
    l->y = malloc((n ? n : 1) * sizeof *l->y);
    if (!l->x || !l->y) {
        free(l->x);
        free(l->y);
        return NULL;
    }
    if (n) {
        memcpy(l->x, x, n * sizeof *x);
        memcpy(l->y, y, n * sizeof *y);
    }
    l->n = n;
    l->label = dupstr(label);
    l->color = color;
    l->alpha = 1;
    l->width = 1.5;
    l->hover = 1;
    c->nlines++;
    return l;
}

static int set_labels(gs_chart *c, size_t rows, const char *const *labels)
{
    if (c->row_labels)
        for (size_t i = 0; i < c->rows; i++)
            free(c->row_labels[i]);
    free(c->row_labels);
    c->row_labels = calloc(rows ? rows : 1, sizeof *c->row_labels);
    if (!c->row_labels)
        return -1;
    for (size_t i = 0; i < rows; i++)
        c->row_labels[i] = dupstr(labels ? labels[i] : "");
    c->rows = rows;
    return 0;
}

int gs_chart_set_grid(gs_chart *c, size_t rows, size_t cols, const double *z,
                      const char *const *row_labels, const double *col_x)
{
    free(c->z);
    free(c->col_x);
    c->z = malloc((rows * cols > 0 ? rows * cols : 1) * sizeof *c->z);
    c->col_x = malloc((cols ? cols : 1) * sizeof *c->col_x);
    if (!c->z || !c->col_x || set_labels(c, rows, row_labels) < 0)
        return -1;
    if (rows * cols > 0)
        memcpy(c->z, z, rows * cols * sizeof *z);
    for (size_t j = 0; j < cols; j++)
        c->col_x[j] = col_x ? col_x[j] : (double)j;
    c->cols = cols;
    return 0;
}

int gs_chart_set_rows(gs_chart *c, size_t rows, const char *const *row_labels)
{
    return set_labels(c, rows, row_labels);
}

int gs_chart_has_data(const gs_chart *c)
{
    switch (c->kind) {
    case GS_CHART_HEATMAP:
        return c->rows > 0 && c->cols > 0;
    case GS_CHART_LINES:
    case GS_CHART_RIDGES:
        for (size_t i = 0; i < c->nlines; i++)
            if (c->lines[i].n > 0)
                return 1;
        return 0;
    default:
        return 0;
    }
}

void gs_chart_autorange(gs_chart *c)
{
    if (c->kind == GS_CHART_HEATMAP) {
        if (!isfinite(c->zmin) || !isfinite(c->zmax)) {
            double lo, hi;
            gs_range_of(c->z, c->rows * c->cols, c->zlog, &lo, &hi);
            if (!isfinite(lo) || lo == hi)
                gs_range_pad(&lo, &hi, c->zlog, 0);
            if (!isfinite(c->zmin)) c->zmin = lo;
            if (!isfinite(c->zmax)) c->zmax = hi;
        }
        return;
    }
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < c->nlines; i++) {
        const gs_chart_line *l = &c->lines[i];
        double a, b;
        for (size_t k = 0; k < l->n; k++) {   /* x range over points with a drawable y */
            double xv = l->x[k], yv = l->y[k];
            if (!isfinite(xv) || (c->xlog && xv <= 0) || !isfinite(yv) || (c->ylog && yv <= 0))
                continue;
            if (xv < xlo) xlo = xv;
            if (xv > xhi) xhi = xv;
        }
        if (gs_range_of(l->y, l->n, c->kind == GS_CHART_LINES && c->ylog, &a, &b)) {
            if (a < ylo) ylo = a;
            if (b > yhi) yhi = b;
        }
    }
    if (!isfinite(xlo)) xlo = xhi = NAN;
    if (!isfinite(ylo)) ylo = yhi = NAN;
    if (!isfinite(c->xmin) || !isfinite(c->xmax)) {
        double a = xlo, b = xhi;
        gs_range_pad(&a, &b, c->xlog, 0);
        if (!isfinite(c->xmin)) c->xmin = a;
        if (!isfinite(c->xmax)) c->xmax = b;
    }
    if (!isfinite(c->ymin) || !isfinite(c->ymax)) {
        double a = ylo, b = yhi;
        if (c->kind == GS_CHART_RIDGES) {
            a = 0;
            if (!(b > 0)) b = 1;
        } else {
            gs_range_pad(&a, &b, c->ylog, 0.05);
        }
        if (!isfinite(c->ymin)) c->ymin = a;
        if (!isfinite(c->ymax)) c->ymax = b;
    }
}


/* ---- zoom and pan -------------------------------------------------------------------- */

void gs_chart_x_extent(const gs_chart *c, double *lo, double *hi)
{
    if (c->kind == GS_CHART_HEATMAP) {
        *lo = 0;
        *hi = (double)c->cols;
    } else {
        *lo = c->xmin;
        *hi = c->xmax;
    }
}

/* axis units: log10 x on a log axis (heat maps are linear in column units) */
static int zoom_log(const gs_chart *c)
{
    return c->kind != GS_CHART_HEATMAP && c->xlog;
}

static double to_u(const gs_chart *c, double x)
{
    return zoom_log(c) ? (x > 0 ? log10(x) : NAN) : x;
}

static double from_u(const gs_chart *c, double u)
{
    return zoom_log(c) ? pow(10.0, u) : u;
}

void gs_chart_x_view(const gs_chart *c, double *lo, double *hi)
{
    gs_chart_x_extent(c, lo, hi);
    if (isfinite(c->zx0) && isfinite(c->zx1) && c->zx1 > c->zx0) {
        *lo = c->zx0;
        *hi = c->zx1;
    }
}

int gs_chart_zoomed(const gs_chart *c)
{
    return isfinite(c->zx0) && isfinite(c->zx1);
}

void gs_chart_zoom_reset(gs_chart *c)
{
    c->zx0 = c->zx1 = NAN;
}

/* Store the window [u0, u1] (axis units), clamped; the whole extent is stored as NaN. */
static void zoom_store(gs_chart *c, double u0, double u1)
{
    double e0, e1;
    gs_chart_x_extent(c, &e0, &e1);
    double U0 = to_u(c, e0), U1 = to_u(c, e1);
    if (!isfinite(U0) || !isfinite(U1) || !(U1 > U0) || !isfinite(u0) || !isfinite(u1) || !(u1 > u0)) {
        gs_chart_zoom_reset(c);
        return;
    }
    double ext = U1 - U0;
    double minw = c->kind == GS_CHART_HEATMAP ? fmin(1.0, ext) : 1e-4 * ext;
    double w = u1 - u0;
    if (w < minw) {
        double m = 0.5 * (u0 + u1);
        u0 = m - 0.5 * minw;
        u1 = m + 0.5 * minw;
        w = minw;
    }
    if (w >= ext * (1 - 1e-9)) {
        gs_chart_zoom_reset(c);
        return;
    }
    if (u0 < U0) {
        u0 = U0;
        u1 = U0 + w;
    }
    if (u1 > U1) {
        u1 = U1;
        u0 = U1 - w;
    }
    c->zx0 = from_u(c, u0);
    c->zx1 = from_u(c, u1);
}

void gs_chart_zoom_set(gs_chart *c, double lo, double hi)
{
    zoom_store(c, to_u(c, lo), to_u(c, hi));
}

void gs_chart_zoom_about(gs_chart *c, double x, double factor)
{
    double lo, hi;
    gs_chart_x_view(c, &lo, &hi);
    double u0 = to_u(c, lo), u1 = to_u(c, hi), uc = to_u(c, x);
    if (!(factor > 0) || !isfinite(factor) || !isfinite(u0) || !isfinite(u1) || !(u1 > u0))
        return;
    if (!isfinite(uc))
        uc = 0.5 * (u0 + u1);
    double t = (uc - u0) / (u1 - u0);   /* where x is on screen, kept */
    double w = (u1 - u0) / factor;
    double e0, e1;
    gs_chart_x_extent(c, &e0, &e1);
    double ext = to_u(c, e1) - to_u(c, e0);
    double minw = c->kind == GS_CHART_HEATMAP ? fmin(1.0, ext) : 1e-4 * ext;
    if (w < minw)   /* at the limit: keep x in place at the minimum width */
        w = minw;
    zoom_store(c, uc - t * w, uc + (1 - t) * w);
}

void gs_chart_pan(gs_chart *c, double dx)
{
    if (!gs_chart_zoomed(c) || !isfinite(dx))
        return;
    double u0 = to_u(c, c->zx0), u1 = to_u(c, c->zx1);
    zoom_store(c, u0 + dx, u1 + dx);
}

/* ---- layout -------------------------------------------------------------------------- */

#define RIDGE_PEAK 1.6   /* the tallest ridge, in row spacings */

void gs_chart_layout_compute(const gs_chart *c, double width, double height, gs_chart_layout *out)
{
    memset(out, 0, sizeof *out);
    out->width = width;
    out->height = height;
    double top = 10, bottom = 8, left = 10, right = 16;
    if (c->title) top += 20;
    if (c->note) top += 14;
    if (c->kind == GS_CHART_LINES) {
        left += 52 + (c->ylabel ? 18 : 0);
        bottom += 22 + (c->xlabel ? 18 : 0);
    } else if (c->kind == GS_CHART_HEATMAP) {
        left += 64 + (c->ylabel ? 18 : 0);
        bottom += 22 + (c->xlabel ? 18 : 0);
        right += 80;
    } else if (c->kind == GS_CHART_RIDGES) {
        left += 58 + (c->ylabel ? 18 : 0);
        bottom += 22 + (c->xlabel ? 18 : 0);
    }
    out->px = left;
    out->py = top;
    out->pw = width - left - right;
    out->ph = height - top - bottom;
    if (out->pw < 10) out->pw = 10;
    if (out->ph < 10) out->ph = 10;
    if (c->kind == GS_CHART_HEATMAP) {
        out->cbx = out->px + out->pw + 14;
        out->cby = out->py;
        out->cbw = 14;
        out->cbh = out->ph;
        out->row_h = c->rows ? out->ph / (double)c->rows : 0;
    }
    double vlo, vhi;
    gs_chart_x_view(c, &vlo, &vhi);
    if (c->kind == GS_CHART_HEATMAP)
        out->col_w = c->cols && vhi > vlo ? out->pw / (vhi - vlo) : 0;
    out->xs.dlo = vlo;
    out->xs.dhi = vhi;
    out->xs.plo = out->px;
    out->xs.phi = out->px + out->pw;
    out->xs.log = c->kind == GS_CHART_HEATMAP ? 0 : c->xlog;
    out->ys.dlo = c->ymin;
    out->ys.dhi = c->ymax;
    out->ys.plo = out->py + out->ph;
    out->ys.phi = out->py;
    out->ys.log = c->kind == GS_CHART_LINES ? c->ylog : 0;
    if (c->kind == GS_CHART_RIDGES) {
        double units = (c->rows ? (double)c->rows - 1 : 0) + RIDGE_PEAK;
        out->row_h = out->ph / units;
    }
}

/* RIDGES: the baseline pixel of row r and the pixel height of value v. */
double gs_chart_ridge_baseline(const gs_chart_layout *l, long r)
{
    return l->py + (RIDGE_PEAK + (double)r) * l->row_h;
}

double gs_chart_ridge_height(const gs_chart *c, const gs_chart_layout *l, double v)
{
    if (!isfinite(v) || !(c->ymax > 0))
        return 0;
    return v / c->ymax * RIDGE_PEAK * l->row_h;
}

/* ---- hit-testing ------------------------------------------------------------------- */

static size_t nearest_index(const double *x, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    if (lo >= n) return n - 1;
    if (lo > 0 && fabs(x[lo - 1] - v) <= fabs(x[lo] - v)) return lo - 1;
    return lo;
}

static const char *or_default(const char *s, const char *d)
{
    return s && *s ? s : d;
}

gs_hit_kind gs_chart_hit_test(const gs_chart *c, const gs_chart_layout *l, double x, double y,
                              double max_dist, gs_chart_hit *out)
{
    memset(out, 0, sizeof *out);
    out->row = out->col = -1;
    if (x < l->px || x > l->px + l->pw || y < l->py || y > l->py + l->ph)
        return GS_HIT_NONE;
    char xb[32], yb[32], zb[32];

    if (c->kind == GS_CHART_HEATMAP) {
        if (!c->rows || !c->cols)
            return GS_HIT_NONE;
        long col = (long)floor(gs_scale_unmap(&l->xs, x));
        long row = (long)floor((y - l->py) / l->row_h);
        if (col < 0) col = 0;
        if (row < 0) row = 0;
        if (col >= (long)c->cols) col = (long)c->cols - 1;
        if (row >= (long)c->rows) row = (long)c->rows - 1;
        out->kind = GS_HIT_CELL;
        out->row = row;
        out->col = col;
        size_t cell = (size_t)row * c->cols + (size_t)col;
        out->x = c->col_x[col];
        out->z = c->z[cell];
        out->px = gs_scale_map(&l->xs, col + 0.5);
        out->py = l->py + (row + 0.5) * l->row_h;
        snprintf(out->text, sizeof out->text, "%s · %s %s · %s %s",
                 c->row_labels ? c->row_labels[row] : "", or_default(c->col_name, "x"),
                 gs_format_value(out->x, xb, sizeof xb), or_default(c->z_name, "value"),
                 gs_format_value(out->z, zb, sizeof zb));
        return out->kind;
    }

    if (c->kind == GS_CHART_LINES) {
        double best = INFINITY;
        double xd = gs_scale_unmap(&l->xs, x);
        for (size_t i = 0; i < c->nlines; i++) {
            const gs_chart_line *ln = &c->lines[i];
            if (!ln->hover || ln->n == 0)
                continue;
            size_t k = nearest_index(ln->x, ln->n, xd);
            size_t k0 = k > 2 ? k - 2 : 0, k1 = k + 2 < ln->n ? k + 2 : ln->n - 1;
            for (size_t j = k0; j <= k1; j++) {
                double ppx = gs_scale_map(&l->xs, ln->x[j]), ppy = gs_scale_map(&l->ys, ln->y[j]);
                if (!isfinite(ppx) || !isfinite(ppy) || ppx < l->px - 0.5 || ppx > l->px + l->pw + 0.5)
                    continue;   /* not drawn (zoomed away or NaN) */
                double d = hypot(ppx - x, ppy - y);
                if (d < best) {
                    best = d;
                    out->line = i;
                    out->index = j;
                    out->x = ln->x[j];
                    out->y = ln->y[j];
                    out->px = ppx;
                    out->py = ppy;
                }
            }
        }
        if (!(best <= max_dist))
            return GS_HIT_NONE;
        out->kind = GS_HIT_POINT;
        const gs_chart_line *ln = &c->lines[out->line];
        snprintf(out->text, sizeof out->text, "%s · %s %s · %s", or_default(ln->label, "series"),
                 or_default(c->xhover_name, or_default(c->xlabel, "x")),
                 gs_format_value(out->x * c->xscale_hover, xb, sizeof xb),
                 gs_format_value(out->y, yb, sizeof yb));
        return out->kind;
    }

    if (c->kind == GS_CHART_RIDGES) {
        if (!c->rows)
            return GS_HIT_NONE;
        /* Rows drawn later cover earlier ones: take the lowest row whose ridge, at the
         * pointer's x, rises to the pointer; else the row of the nearest baseline below. */
        double xd = gs_scale_unmap(&l->xs, x);
        long r0 = (long)ceil((y - l->py) / l->row_h - RIDGE_PEAK - 1e-9);
        if (r0 < 0) r0 = 0;
        if (r0 >= (long)c->rows) r0 = (long)c->rows - 1;
        long r1 = r0 + (long)ceil(RIDGE_PEAK) + 1;
        if (r1 >= (long)c->rows) r1 = (long)c->rows - 1;
        int found = 0;
        long r = r0;
        for (int pass = 0; pass < 2 && !found; pass++) {
            for (long rr = pass == 0 ? r1 : r0; rr >= r0 && !found; rr--) {
                double base = gs_chart_ridge_baseline(l, rr);
                double best = INFINITY;
                for (size_t i = 0; i < c->nlines; i++) {
                    const gs_chart_line *ln = &c->lines[i];
                    if (ln->row != rr || !ln->hover || ln->n == 0)
                        continue;
                    size_t k = nearest_index(ln->x, ln->n, xd);
                    double kpx = gs_scale_map(&l->xs, ln->x[k]);
                    if (!isfinite(kpx) || kpx < l->px - 0.5 || kpx > l->px + l->pw + 0.5)
                        continue;   /* the nearest bin is zoomed away */
                    double ppy = base - gs_chart_ridge_height(c, l, ln->y[k]);
                    if (pass == 0 && !(ppy <= y + 3 && y <= base))
                        continue;   /* the pointer is not inside this ridge */
                    double d = fabs(ppy - y);
                    if (d < best) {
                        best = d;
                        found = 1;
                        r = rr;
                        out->line = i;
                        out->index = k;
                        out->x = ln->x[k];
                        out->y = ln->y[k];
                        out->px = gs_scale_map(&l->xs, ln->x[k]);
                        out->py = ppy;
                    }
                }
                if (pass == 1)
                    break;   /* the nearest baseline below only */
            }
        }
        if (!found)
            return GS_HIT_NONE;
        out->kind = GS_HIT_RIDGE;
        out->row = r;
        const gs_chart_line *ln = &c->lines[out->line];
        snprintf(out->text, sizeof out->text, "%s%s%s · %s %s · %s %%", c->row_labels[r],
                 ln->label ? " · " : "", ln->label ? ln->label : "",
                 or_default(c->xhover_name, "x"), gs_format_value(out->x, xb, sizeof xb),
                 gs_format_value(100 * out->y, yb, sizeof yb));
        return out->kind;
    }
    return GS_HIT_NONE;
}

/* ---- figures ------------------------------------------------------------------------ */

gs_figure *gs_figure_new(int cols)
{
    gs_figure *f = calloc(1, sizeof *f);
    if (f)
        f->cols = cols < 1 ? 1 : cols;
    return f;
}

void gs_figure_free(gs_figure *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        gs_chart_free(f->panels[i]);
    free(f->panels);
    free(f->title);
    free(f->subtitle);
    free(f);
}

int gs_figure_add(gs_figure *f, gs_chart *c)
{
    if (!c)
        return -1;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        gs_chart **p = realloc(f->panels, cap * sizeof *p);
        if (!p) {
            gs_chart_free(c);
            return -1;
        }
        f->panels = p;
        f->cap = cap;
    }
    f->panels[f->n++] = c;
    return 0;
}

#define FIG_TITLE_H 28.0

void gs_figure_panel_rect(const gs_figure *f, size_t i, double width, double height,
                          double *x, double *y, double *w, double *h)
{
    size_t cols = (size_t)f->cols;
    if (cols > f->n && f->n > 0) cols = f->n;
    size_t rows = f->n ? (f->n + cols - 1) / cols : 1;
    double top = (f->title ? FIG_TITLE_H : 0) + (f->subtitle ? 16 : 0);
    double cw = width / (double)cols, ch = (height - top) / (double)rows;
    *x = (double)(i % cols) * cw;
    *y = top + (double)(i / cols) * ch;
    *w = cw;
    *h = ch;
}

long gs_figure_panel_at(const gs_figure *f, double width, double height, double x, double y,
                        double *lx, double *ly)
{
    for (size_t i = 0; i < f->n; i++) {
        double px, py, pw, ph;
        gs_figure_panel_rect(f, i, width, height, &px, &py, &pw, &ph);
        if (x >= px && x < px + pw && y >= py && y < py + ph) {
            *lx = x - px;
            *ly = y - py;
            return (long)i;
        }
    }
    return -1;
}

/* ---- figure zoom --------------------------------------------------------------------- */

static int panel_zoomable(const gs_chart *c)
{
    return c->kind != GS_CHART_EMPTY && gs_chart_has_data(c);
}

/* Give every other zoomable panel the window of panel src. */
static void zoom_spread(gs_figure *f, size_t src)
{
    const gs_chart *s = f->panels[src];
    for (size_t i = 0; i < f->n; i++) {
        gs_chart *c = f->panels[i];
        if (i == src || !panel_zoomable(c))
            continue;
        if (gs_chart_zoomed(s))
            gs_chart_zoom_set(c, s->zx0, s->zx1);
        else
            gs_chart_zoom_reset(c);
    }
}

static int same_window(double a0, double a1, double b0, double b1)
{
    return (isnan(a0) && isnan(b0)) || (a0 == b0 && a1 == b1);
}

int gs_figure_zoom_at(gs_figure *f, double width, double height, double x, double y, double factor)
{
    double lx = 0, ly = 0;
    long p = gs_figure_panel_at(f, width, height, x, y, &lx, &ly);
    if (p < 0 || !panel_zoomable(f->panels[p])) {
        p = -1;
        for (size_t i = 0; i < f->n && p < 0; i++)
            if (panel_zoomable(f->panels[i]))
                p = (long)i;
        if (p < 0)
            return 0;
        lx = NAN;
    }
    gs_chart *c = f->panels[p];
    double px, py, pw, ph;
    gs_figure_panel_rect(f, (size_t)p, width, height, &px, &py, &pw, &ph);
    gs_chart_layout l;
    gs_chart_layout_compute(c, pw, ph, &l);
    if (!isfinite(lx) || lx < l.px)   /* outside the plot area: about its nearest edge */
        lx = isfinite(lx) ? l.px : l.px + l.pw / 2;
    if (lx > l.px + l.pw)
        lx = l.px + l.pw;
    double x0 = c->zx0, x1 = c->zx1;
    double u = gs_scale_unmap(&l.xs, lx);
    gs_chart_zoom_about(c, u, factor);
    zoom_spread(f, (size_t)p);
    return !same_window(x0, x1, c->zx0, c->zx1);
}

int gs_figure_pan_px(gs_figure *f, double width, double height, long panel, double dpx)
{
    if (panel < 0 || (size_t)panel >= f->n || !panel_zoomable(f->panels[panel]))
        return 0;
    gs_chart *c = f->panels[panel];
    if (!gs_chart_zoomed(c))
        return 0;
    double px, py, pw, ph;
    gs_figure_panel_rect(f, (size_t)panel, width, height, &px, &py, &pw, &ph);
    gs_chart_layout l;
    gs_chart_layout_compute(c, pw, ph, &l);
    double u0 = to_u(c, l.xs.dlo), u1 = to_u(c, l.xs.dhi);
    double x0 = c->zx0, x1 = c->zx1;
    gs_chart_pan(c, -dpx * (u1 - u0) / l.pw);
    zoom_spread(f, (size_t)panel);
    return !same_window(x0, x1, c->zx0, c->zx1);
}

void gs_figure_zoom_reset(gs_figure *f)
{
    for (size_t i = 0; i < f->n; i++)
        gs_chart_zoom_reset(f->panels[i]);
}

int gs_figure_zoomed(const gs_figure *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (gs_chart_zoomed(f->panels[i]))
            return 1;
    return 0;
}

int gs_figure_get_zoom(const gs_figure *f, double *lo, double *hi)
{
    for (size_t i = 0; i < f->n; i++)
        if (gs_chart_zoomed(f->panels[i])) {
            *lo = f->panels[i]->zx0;
            *hi = f->panels[i]->zx1;
            return 1;
        }
    *lo = *hi = NAN;
    return 0;
}

void gs_figure_set_zoom(gs_figure *f, double lo, double hi)
{
    for (size_t i = 0; i < f->n; i++)
        if (panel_zoomable(f->panels[i]))
            gs_chart_zoom_set(f->panels[i], lo, hi);
}
