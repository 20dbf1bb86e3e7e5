/* test_chart_model.c — the GUI's chart models without a display (TAP).
 *
 * Scales and log axes, ranges, ticks, EMA smoothing, downsampling (the reader's
 * gs_series_downsample, as the views use it), layout, hover hit-testing on heat maps,
 * lines and ridges, zoom and pan, and the view figures built from an in-memory run snapshot;
 * finally the figures are drawn and exported with cairo (no display needed).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gs_chart_draw.h"
#include "gs_chart_model.h"
#include "gs_test.h"
#include "gs_view_models.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(1, fabs(b));
}

static void test_scales(void)
{
    gs_scale s = { 1, 1000, 0, 300, 1 };
    GS_CHECK(near(gs_scale_map(&s, 10), 100, 1e-9), "log scale maps 10 to a third (%g)", gs_scale_map(&s, 10));
    GS_CHECK(near(gs_scale_unmap(&s, 200), 100, 1e-9), "log unmap inverts (%g)", gs_scale_unmap(&s, 200));
    GS_CHECK(isnan(gs_scale_map(&s, 0)) && isnan(gs_scale_map(&s, -1)), "log scale: v <= 0 is NaN");
    gs_scale y = { 0, 2, 100, 0, 0 };   /* y axis: pixels grow downwards */
    GS_CHECK(near(gs_scale_map(&y, 0.5), 75, 1e-9), "linear y axis maps 0.5 to 75");
    GS_CHECK(isnan(gs_scale_map(&y, NAN)), "NaN maps to NaN");
}

static void test_ranges_ticks(void)
{
    double v[] = { NAN, -2, 0, 3, INFINITY, 5 };
    double lo, hi;
    size_t k = gs_range_of(v, 6, 0, &lo, &hi);
    GS_CHECK(k == 4 && lo == -2 && hi == 5, "linear range skips non-finite [%g, %g]", lo, hi);
    k = gs_range_of(v, 6, 1, &lo, &hi);
    GS_CHECK(k == 2 && lo == 3 && hi == 5, "log range keeps only v > 0 [%g, %g]", lo, hi);
    double a = NAN, b = NAN;
    gs_range_pad(&a, &b, 1, 0.05);
    GS_CHECK(a > 0 && b > a, "an empty log range becomes a positive one [%g, %g]", a, b);
    a = b = 4;
    gs_range_pad(&a, &b, 0, 0.05);
    GS_CHECK(a < 4 && b > 4, "a degenerate linear range is widened [%g, %g]", a, b);
    a = 1e-3;
    b = 10;
    gs_range_pad(&a, &b, 1, 0.05);
    GS_CHECK(a < 1e-3 && a > 0 && b > 10, "log padding stays positive [%g, %g]", a, b);

    double t[64];
    size_t n = gs_ticks(0, 1, 0, 6, t, 64);
    GS_CHECK(n >= 3 && n <= 7 && t[0] == 0 && near(t[n - 1], 1, 1e-12), "linear ticks on [0,1]: %zu from %g to %g", n, t[0], t[n - 1]);
    n = gs_ticks(1e-6, 1e2, 1, 10, t, 64);
    GS_CHECK(n == 9 && near(t[0], 1e-6, 1e-9) && near(t[8], 100, 1e-9), "log ticks are decades (%zu)", n);
    n = gs_ticks(1e-12, 1e4, 1, 5, t, 64);
    GS_CHECK(n >= 2 && n <= 6, "16 decades with at most 5 ticks: %zu", n);
    n = gs_ticks(0.011, 0.06, 1, 6, t, 64);
    int ok = n >= 2;
    for (size_t i = 0; i < n; i++)
        ok &= t[i] >= 0.011 && t[i] <= 0.06;
    GS_CHECK(ok, "a sub-decade log range gets 1-2-5 ticks inside it (%zu)", n);
    char buf[32];
    GS_CHECK(!strcmp(gs_format_tick(1e-6, 0, 1, buf, sizeof buf), "1e-6"), "tick label 1e-6 (%s)", buf);
    GS_CHECK(!strcmp(gs_format_tick(0.25, 0.25, 0, buf, sizeof buf), "0.25"), "tick label 0.25 (%s)", buf);
    GS_CHECK(!strcmp(gs_format_tick(100, 0, 1, buf, sizeof buf), "100"), "tick label 100 (%s)", buf);
}

static void test_ema_downsample(void)
{
    double y[5] = { 1, 1, NAN, 1, 1 }, out[5];
    gs_ema(y, 5, 0.9, out);
    GS_CHECK(near(out[0], 1, 1e-12) && near(out[4], 1, 1e-12) && isnan(out[2]),
             "debiased EMA of a constant is the constant; NaN stays NaN");
    double z[4] = { 0, 10, 10, 10 };
    gs_ema(z, 4, 0.5, out);
    GS_CHECK(out[1] > 0 && out[1] < 10 && out[3] > out[1], "EMA lags a step (%g, %g)", out[1], out[3]);

    enum { N = 100000 };
    gs_series s = { N, malloc(N * sizeof(double)), malloc(N * sizeof(double)) }, d = { 0 };
    for (size_t i = 0; i < N; i++) {
        s.x[i] = (double)i;
        s.y[i] = sin(i * 0.001);
    }
    s.y[777] = 50;     /* a spike */
    s.y[4242] = -50;
    GS_CHECK(gs_series_downsample(&s, 1000, &d) == 0 && d.n <= 1000 && d.n >= 500, "downsampled to %zu <= 1000", d.n);
    int spike = 0, dip = 0;
    for (size_t i = 0; i < d.n; i++) {
        spike |= d.y[i] == 50;
        dip |= d.y[i] == -50;
    }
    GS_CHECK(d.x[0] == 0 && d.x[d.n - 1] == N - 1, "first and last points kept");
    GS_CHECK(spike && dip, "the global max and min survive downsampling");
    gs_series_free(&d);
    gs_series_free(&s);
}

static void test_hit_testing(void)
{
    /* heat map 3 blocks × 4 epochs */
    gs_chart *c = gs_chart_new(GS_CHART_HEATMAP);
    double z[12];
    for (int i = 0; i < 12; i++)
        z[i] = i;
    const char *rows[3] = { "layer1.0", "layer1.1", "layer2.0" };
    double ep[4] = { 0, 1, 2, 3 };
    gs_chart_set_grid(c, 3, 4, z, rows, ep);
    gs_chart_set_text(&c->row_name, "block");
    gs_chart_set_text(&c->col_name, "epoch");
    gs_chart_set_text(&c->z_name, "overlap");
    gs_chart_autorange(c);
    GS_CHECK(c->zmin == 0 && c->zmax == 11, "heat map z range [%g, %g]", c->zmin, c->zmax);
    gs_chart_layout l;
    gs_chart_layout_compute(c, 800, 600, &l);
    GS_CHECK(l.cbw > 0 && l.px + l.pw < l.cbx, "the colour bar sits right of the plot");
    gs_chart_hit h;
    double x = l.px + 2.5 * l.col_w, y = l.py + 1.5 * l.row_h;
    GS_CHECK(gs_chart_hit_test(c, &l, x, y, 10, &h) == GS_HIT_CELL && h.row == 1 && h.col == 2 && h.z == 6,
             "hover hits cell (1, 2) = %g", h.z);
    GS_CHECK(strstr(h.text, "layer1.1") && strstr(h.text, "epoch 2") && strstr(h.text, "overlap 6"),
             "read-out names block, epoch and value: '%s'", h.text);
    GS_CHECK(gs_chart_hit_test(c, &l, 2, 2, 10, &h) == GS_HIT_NONE, "outside the plot: no hit");
    gs_chart_free(c);

    /* lines on a log y axis */
    c = gs_chart_new(GS_CHART_LINES);
    c->ylog = 1;
    double lx[5] = { 0, 1, 2, 3, 4 }, ly[5] = { 1, 10, 100, 1000, 10000 };
    gs_chart_add_line(c, "znorm", gs_palette_run(1), lx, ly, 5);
    gs_chart_set_text(&c->xhover_name, "epoch");
    gs_chart_autorange(c);
    GS_CHECK(c->ymin > 0 && c->ymin < 1 && c->ymax > 10000, "log y range padded around [1, 1e4]: [%g, %g]", c->ymin, c->ymax);
    gs_chart_layout_compute(c, 600, 400, &l);
    double px = gs_scale_map(&l.xs, 2), py = gs_scale_map(&l.ys, 100);
    GS_CHECK(near(py, l.py + l.ph / 2, 0.02), "on a log axis 100 sits mid-way between 1 and 1e4 (%g vs %g)", py,
             l.py + l.ph / 2);
    GS_CHECK(gs_chart_hit_test(c, &l, px + 3, py - 4, 24, &h) == GS_HIT_POINT && h.index == 2 && h.y == 100,
             "hover near (2, 100) hits that point exactly");
    GS_CHECK(strstr(h.text, "znorm") && strstr(h.text, "epoch 2") && strstr(h.text, "100"), "read-out '%s'", h.text);
    GS_CHECK(gs_chart_hit_test(c, &l, px, l.py + 2, 24, &h) == GS_HIT_NONE, "far from every point: no hit");
    gs_chart_free(c);

    /* ridges: 3 rows */
    c = gs_chart_new(GS_CHART_RIDGES);
    c->xlog = 1;
    gs_chart_set_text(&c->xhover_name, "|g|");
    const char *rl[3] = { "epoch 0", "epoch 1", "epoch 2" };
    gs_chart_set_rows(c, 3, rl);
    double rx[3] = { 1e-4, 1e-3, 1e-2 }, ry[3] = { 0.2, 0.6, 0.2 };
    for (int r = 0; r < 3; r++) {
        gs_chart_line *ln = gs_chart_add_line(c, "none", gs_palette_run(0), rx, ry, 3);
        ln->row = r;
    }
    gs_chart_autorange(c);
    GS_CHECK(c->ymax == 0.6 && c->xmin <= 1e-4 && c->xmax >= 1e-2, "ridge ranges: ymax %g, x [%g, %g]", c->ymax, c->xmin, c->xmax);
    gs_chart_layout_compute(c, 600, 400, &l);
    double base1 = gs_chart_ridge_baseline(&l, 1);
    double top1 = base1 - gs_chart_ridge_height(c, &l, 0.6);
    GS_CHECK(gs_chart_hit_test(c, &l, gs_scale_map(&l.xs, 1e-3), top1 + 2, 24, &h) == GS_HIT_RIDGE && h.row == 1 &&
             h.index == 1, "hover at the peak of ridge 1 hits row 1, bin 1 (row %ld)", h.row);
    GS_CHECK(strstr(h.text, "epoch 1") && strstr(h.text, "60 %"), "ridge read-out '%s'", h.text);
    gs_chart_free(c);

    /* figures: panels on a grid */
    gs_figure *f = gs_figure_new(2);
    gs_figure_add(f, gs_chart_new(GS_CHART_EMPTY));
    gs_figure_add(f, gs_chart_new(GS_CHART_EMPTY));
    gs_figure_add(f, gs_chart_new(GS_CHART_EMPTY));
    double fx, fy, fw, fh, lx2, ly2;
    gs_figure_panel_rect(f, 2, 1000, 800, &fx, &fy, &fw, &fh);
    GS_CHECK(fx == 0 && fy == 400 && fw == 500 && fh == 400, "panel 2 of a 2-column grid is bottom-left");
    GS_CHECK(gs_figure_panel_at(f, 1000, 800, 750, 100, &lx2, &ly2) == 1 && lx2 == 250, "panel_at finds panel 1");
    gs_figure_free(f);
}

/* Zoom and pan: windows stay inside the extent, keep the point under the pointer,
 * hit-testing follows the window, and a figure's panels share it. */
static void test_zoom(void)
{
    /* lines, linear x on [0, 100] */
    gs_chart *c = gs_chart_new(GS_CHART_LINES);
    double x[101], y[101];
    for (int i = 0; i <= 100; i++) {
        x[i] = i;
        y[i] = i * 0.5;
    }
    gs_chart_add_line(c, "none", gs_palette_run(0), x, y, 101);
    gs_chart_autorange(c);
    double e0, e1, v0, v1;
    gs_chart_x_extent(c, &e0, &e1);
    GS_CHECK(!gs_chart_zoomed(c), "a new chart is not zoomed");
    gs_chart_zoom_about(c, 50, 4);
    gs_chart_x_view(c, &v0, &v1);
    GS_CHECK(gs_chart_zoomed(c) && near(v1 - v0, (e1 - e0) / 4, 1e-9) && near(0.5 * (v0 + v1), 50, 1e-9),
             "zoom ×4 about the centre shows a quarter around it [%g, %g]", v0, v1);
    gs_chart_zoom_about(c, v0 + 0.25 * (v1 - v0), 2);
    double w0, w1;
    gs_chart_x_view(c, &w0, &w1);
    GS_CHECK(near((v0 + 0.25 * (v1 - v0) - w0) / (w1 - w0), 0.25, 1e-9),
             "the point zoomed about stays where it was on screen [%g, %g]", w0, w1);
    gs_chart_pan(c, -1000);
    gs_chart_x_view(c, &v0, &v1);
    GS_CHECK(v0 == e0 && near(v1 - v0, w1 - w0, 1e-9), "a pan past the start stops at the extent [%g, %g]", v0, v1);
    gs_chart_layout l;
    gs_chart_layout_compute(c, 600, 400, &l);
    GS_CHECK(l.xs.dlo == v0 && l.xs.dhi == v1, "the layout's x scale is the window");
    gs_chart_hit h;
    double px = gs_scale_map(&l.xs, 5), py = gs_scale_map(&l.ys, 2.5);
    gs_hit_kind kind = gs_chart_hit_test(c, &l, px, py, 24, &h);
    GS_CHECK(kind == GS_HIT_POINT && h.x == 5, "hover in the window hits x = 5 (%g)", h.x);
    gs_chart_zoom_about(c, 10, 1e-6);
    GS_CHECK(!gs_chart_zoomed(c), "zooming out past the extent resets the window");
    gs_chart_zoom_about(c, 10, 1e9);
    gs_chart_x_view(c, &v0, &v1);
    GS_CHECK(v1 > v0 && near(v1 - v0, 1e-4 * (e1 - e0), 1e-6), "zoom-in stops at 1e-4 of the extent (%g)", v1 - v0);
    gs_chart_zoom_set(c, NAN, 3);
    GS_CHECK(!gs_chart_zoomed(c), "a NaN window resets");
    gs_chart_free(c);

    /* a log x axis zooms in decades */
    c = gs_chart_new(GS_CHART_RIDGES);
    c->xlog = 1;
    const char *rl[1] = { "epoch 0" };
    gs_chart_set_rows(c, 1, rl);
    double rx[3] = { 1e-8, 1e-4, 1 }, ry[3] = { 0.2, 0.6, 0.2 };
    gs_chart_add_line(c, "none", gs_palette_run(0), rx, ry, 3);
    gs_chart_autorange(c);
    c->xmin = 1e-8;
    c->xmax = 1;
    gs_chart_zoom_about(c, 1e-4, 2);
    gs_chart_x_view(c, &v0, &v1);
    GS_CHECK(near(log10(v0), -6, 1e-9) && near(log10(v1), -2, 1e-9), "log zoom ×2 about 1e-4 shows [1e-6, 1e-2] ([%g, %g])",
             v0, v1);
    gs_chart_free(c);

    /* heat map 2 × 10: column units, at least one column */
    c = gs_chart_new(GS_CHART_HEATMAP);
    double z[20], ep[10];
    for (int i = 0; i < 20; i++)
        z[i] = i;
    for (int k = 0; k < 10; k++)
        ep[k] = k;
    const char *rows[2] = { "layer1.0", "layer1.1" };
    gs_chart_set_grid(c, 2, 10, z, rows, ep);
    gs_chart_autorange(c);
    gs_chart_zoom_set(c, 6, 8);
    gs_chart_layout_compute(c, 800, 400, &l);
    GS_CHECK(near(l.col_w, l.pw / 2, 1e-9), "two visible columns fill the plot (col_w %g of %g)", l.col_w, l.pw);
    kind = gs_chart_hit_test(c, &l, l.px + 0.25 * l.pw, l.py + 0.75 * l.ph, 10, &h);
    GS_CHECK(kind == GS_HIT_CELL && h.col == 6 && h.row == 1 && h.z == 16,
             "hover on the zoomed map hits column 6 of row 1 (col %ld, z %g)", h.col, h.z);
    gs_chart_zoom_about(c, 7, 100);
    gs_chart_x_view(c, &v0, &v1);
    GS_CHECK(near(v1 - v0, 1, 1e-9), "a heat map shows at least one column (%g)", v1 - v0);
    gs_chart_free(c);

    /* a figure's panels share the window; an empty panel is left alone */
    gs_figure *f = gs_figure_new(1);
    for (int p = 0; p < 2; p++) {
        gs_chart *pc = gs_chart_new(GS_CHART_LINES);
        gs_chart_add_line(pc, "none", gs_palette_run(p), x, y, 101);
        gs_chart_autorange(pc);
        gs_figure_add(f, pc);
    }
    gs_figure_add(f, gs_chart_new(GS_CHART_EMPTY));
    double fx, fy, fw, fh;
    gs_figure_panel_rect(f, 0, 600, 900, &fx, &fy, &fw, &fh);
    GS_CHECK(gs_figure_zoom_at(f, 600, 900, fx + fw / 2, fy + fh / 2, 2) == 1 && gs_figure_zoomed(f),
             "a zoom in the first panel changes the figure's window");
    double a0, a1, b0, b1;
    gs_chart_x_view(f->panels[0], &a0, &a1);
    gs_chart_x_view(f->panels[1], &b0, &b1);
    GS_CHECK(a0 == b0 && a1 == b1, "the second panel shows the same window [%g, %g]", b0, b1);
    GS_CHECK(!gs_chart_zoomed(f->panels[2]), "the empty panel is not zoomed");
    GS_CHECK(gs_figure_pan_px(f, 600, 900, 1, 50) == 1, "a drag in the second panel pans");
    gs_chart_x_view(f->panels[0], &b0, &b1);
    GS_CHECK(b0 < a0 && near(b1 - b0, a1 - a0, 1e-9), "dragging right moves the window left ([%g, %g] → [%g, %g])", a0,
             a1, b0, b1);
    double g0, g1;
    GS_CHECK(gs_figure_get_zoom(f, &g0, &g1) && g0 == b0 && g1 == b1, "get_zoom reports the window");
    gs_figure_zoom_reset(f);
    GS_CHECK(!gs_figure_zoomed(f) && !gs_figure_get_zoom(f, &g0, &g1), "reset shows everything again");
    GS_CHECK(gs_figure_pan_px(f, 600, 900, 0, 50) == 0, "an unzoomed figure does not pan");
    gs_figure_free(f);
}

/* An in-memory snapshot: B blocks, E epochs, S steps, no file. */
static void fake_run(gs_run_data *d, const char *name, const char *transform, size_t B, size_t E, size_t spe)
{
    memset(d, 0, sizeof *d);
    d->name = strdup(name);
    d->path = strdup(name);
    d->transform = strdup(transform);
    d->optimizer = strdup("adam");
    d->arch = strdup("resnet20");
    d->dataset = strdup("synthetic");
    d->status = strdup("finished");
    d->config_text = strdup("{\"seed\": 1, \"optimizer\": {\"name\": \"adam\", \"lr\": 0.001}}");
    d->steps_per_epoch = (double)spe;
    d->n_blocks = B;
    d->block_names = calloc(B, sizeof(char *));
    for (size_t b = 0; b < B; b++) {
        char buf[32];
        snprintf(buf, sizeof buf, "layer%zu.%zu", 1 + b / 10, b % 10);
        d->block_names[b] = strdup(buf);
    }
    d->n_params = 2;
    d->param_names = calloc(2, sizeof(char *));
    d->param_kinds = calloc(2, sizeof(char *));
    d->param_block = calloc(2, sizeof(int));
    d->param_numel = calloc(2, sizeof(int64_t));
    d->param_names[0] = strdup("conv1.weight");
    d->param_names[1] = strdup("layer1.0.conv1.weight");
    d->param_kinds[0] = strdup("conv_weight");
    d->param_kinds[1] = strdup("conv_weight");
    d->param_block[0] = -1;
    d->param_block[1] = 0;
    d->n_pe = E;
    d->pe_epoch = malloc(E * sizeof(double));
    for (size_t e = 0; e < E; e++)
        d->pe_epoch[e] = (double)e;
    for (int s = 0; s < GS_STAT_COUNT; s++) {
        d->pe[s] = malloc(E * B * sizeof(double));
        for (size_t i = 0; i < E * B; i++)
            d->pe[s][i] = s == GS_STAT_COSINE ? -0.1 : s == GS_STAT_OVERLAP ? 0.8 + 0.4 * (double)(i % B) / (double)B
                                                                            : 1.0 + (double)(i % 7);
    }
    size_t S = E * spe;
    d->n_probe = S;
    d->probe_step = malloc(S * sizeof(double));
    for (int s = 0; s < 3; s++)
        d->norms[s] = malloc(S * B * sizeof(double));
    d->loss.n = d->acc.n = S;
    d->loss.x = malloc(S * sizeof(double));
    d->loss.y = malloc(S * sizeof(double));
    d->acc.x = malloc(S * sizeof(double));
    d->acc.y = malloc(S * sizeof(double));
    for (size_t k = 0; k < S; k++) {
        d->probe_step[k] = d->loss.x[k] = d->acc.x[k] = (double)k;
        d->loss.y[k] = 2.3 * exp(-(double)k / (double)S * 3);
        d->acc.y[k] = 1 - 0.9 * exp(-(double)k / (double)S * 3);
        for (int s = 0; s < 3; s++)
            for (size_t b = 0; b < B; b++)
                d->norms[s][k * B + b] = 0.05 * exp(-(double)k / (double)S) * (1 + 0.1 * s) * (1 + sin((double)k));
    }
    d->ep_test_acc.n = E;
    d->ep_test_acc.x = malloc(E * sizeof(double));
    d->ep_test_acc.y = malloc(E * sizeof(double));
    for (size_t e = 0; e < E; e++) {
        d->ep_test_acc.x[e] = (double)e;
        d->ep_test_acc.y[e] = 0.5 + 0.04 * (double)e;
    }
    d->rows[GS_AXIS_EPOCHS] = E;
    d->rows[GS_AXIS_TRAIN] = S;
    d->n_bins = 67;
    d->edges = malloc(68 * sizeof(double));
    d->edges[0] = d->edges[1] = 0;
    for (int k = 0; k < 65; k++)
        d->edges[2 + k] = pow(10.0, -12 + k / 4.0);
    d->edges[67] = INFINITY;
}

static void test_views(void)
{
    gs_run_data a, b;
    fake_run(&a, "run-a", "none", 9, 6, 50);
    fake_run(&b, "run-b", "znorm", 9, 4, 50);
    gs_view_run runs[2] = { { &a, "none", gs_palette_run(0), NULL, NULL, 0 },
                            { &b, "znorm", gs_palette_run(1), NULL, NULL, 0 } };
    gs_view_state st = { 0 };
    st.block = "layer1.2";
    st.param = "layer1.0.conv1.weight";
    st.epoch = 2;
    st.smooth = 0.6;
    st.log_y = 1;
    st.max_points = 100;

    GS_CHECK(gs_view_epoch_count(runs, 2) == 6, "epoch count is the longest run's (%zu)", gs_view_epoch_count(runs, 2));
    gs_figure *f = gs_view_overlap(runs, 2, &st);
    GS_CHECK(f && f->n == 2 && f->panels[0]->kind == GS_CHART_HEATMAP, "overlap: one heat map per run");
    GS_CHECK(f->panels[0]->rows == 9 && f->panels[0]->cols == 6 && f->panels[1]->cols == 4, "heat maps are blocks × epochs");
    GS_CHECK(f->panels[0]->zmin == f->panels[1]->zmin && f->panels[0]->zmax == f->panels[1]->zmax,
             "runs share one colour scale");
    GS_CHECK(f->panels[0]->sel_row == 2 && f->panels[0]->sel_col == 2, "selected block and epoch are outlined");
    GS_CHECK(f->panels[0]->z[0 * 6 + 1] == a.pe[GS_STAT_OVERLAP][1 * 9 + 0], "z is transposed [E × B] → [B × E]");
    char err[256];
    char path[] = "/tmp/gs-gui-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char png[300], pdf[300], svg[300];
    snprintf(png, sizeof png, "%s.png", path);
    snprintf(pdf, sizeof pdf, "%s.pdf", path);
    snprintf(svg, sizeof svg, "%s.svg", path);
    GS_CHECK(gs_figure_export(f, png, 900, 500, err, sizeof err) == 0, "overlap exports to PNG");
    GS_CHECK(gs_figure_export(f, pdf, 900, 500, err, sizeof err) == 0, "overlap exports to PDF");
    GS_CHECK(gs_figure_export(f, svg, 900, 500, err, sizeof err) == 0, "overlap exports to SVG");
    GS_CHECK(gs_figure_export(f, "/tmp/x.bmp", 900, 500, err, sizeof err) < 0 && strstr(err, "unknown format"),
             "unknown export format is refused: %s", err);
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    GS_CHECK(cairo_image_surface_get_width(img) == 900 && cairo_image_surface_get_height(img) == 500, "PNG has the size asked");
    cairo_surface_destroy(img);
    FILE *fp = fopen(pdf, "rb");
    char head[5] = "";
    GS_CHECK(fp && fread(head, 1, 4, fp) == 4 && !memcmp(head, "%PDF", 4), "the PDF starts with %%PDF");
    if (fp) fclose(fp);
    unlink(png);
    unlink(pdf);
    unlink(svg);
    unlink(path);
    gs_figure_free(f);

    st.metric = GS_MAP_SHARE;
    f = gs_view_overlap(runs, 2, &st);
    double share = f->panels[0]->z[0];
    GS_CHECK(near(share, gs_residual_share(a.pe[GS_STAT_SKIP][0], a.pe[GS_STAT_RESIDUAL][0]), 1e-12) && share > 0 && share < 1,
             "residual share map = r²/(s²+r²) (%g)", share);
    gs_figure_free(f);

    f = gs_view_norms(runs, 2, &st);
    GS_CHECK(f && f->n == 3 && f->panels[0]->kind == GS_CHART_LINES, "norms: skip, residual, sum panels");
    const gs_chart *c = f->panels[0];
    GS_CHECK(c->nlines == 4 && c->lines[0].hover == 0 && c->lines[1].label && !strcmp(c->lines[1].label, "none"),
             "each run: a faint raw line and a labelled EMA line");
    GS_CHECK(c->lines[1].n <= 100 && c->lines[1].n >= 50, "per-step lines are downsampled to max_points (%zu)", c->lines[1].n);
    GS_CHECK(c->ylog && c->ymin > 0, "log y with a positive range");
    GS_CHECK(f->panels[0]->ymin == f->panels[2]->ymin && f->panels[0]->ymax == f->panels[2]->ymax, "panels share y");
    GS_CHECK(c->band_lo == 2 && c->band_hi == 3, "current epoch shaded [2, 3)");
    GS_CHECK(c->lines[1].x[c->lines[1].n - 1] < 6 && c->lines[1].x[c->lines[1].n - 1] > 5.9, "x in epochs");
    gs_figure_free(f);

    f = gs_view_training(runs, 2, &st);
    GS_CHECK(f && f->n == 2, "training: loss and accuracy panels");
    int test_line = 0;
    for (size_t i = 0; i < f->panels[1]->nlines; i++)
        if (f->panels[1]->lines[i].markers) {
            test_line = f->panels[1]->lines[i].x[0] == 1 && near(f->panels[1]->lines[i].y[0], 50, 1e-9);
            break;
        }
    GS_CHECK(test_line, "test accuracy sits at the end of its epoch, in %%");
    GS_CHECK(f->panels[1]->ymax <= 100, "accuracy axis stops at 100 %%");
    gs_figure_free(f);

    /* distributions with a histogram */
    int64_t hist[3 * 67] = { 0 };
    for (int r = 0; r < 3; r++) {
        hist[r * 67 + 30] = 10;
        hist[r * 67 + 31] = 30 + r;
        hist[r * 67 + 0] = 5;   /* exact zeros */
    }
    runs[0].hist_pre = runs[0].hist_post = hist;
    runs[0].hist_rows = 3;
    st.epoch = 1;
    f = gs_view_distributions(runs, 1, &st);
    GS_CHECK(f && f->n == 2 && f->panels[0]->kind == GS_CHART_RIDGES && f->panels[0]->rows == 3, "ridges: one row per epoch");
    c = f->panels[0];
    GS_CHECK(c->xmin <= a.edges[30] && c->xmax >= a.edges[32] && c->xmax <= a.edges[34], "x range trimmed to the bins used");
    GS_CHECK(c->note && strstr(c->note, "zeros"), "note reports the zeros outside the axis: %s", c->note ? c->note : "");
    GS_CHECK(c->sel_row == 1, "the scrubbed epoch is highlighted");
    gs_figure_free(f);
    st.param = NULL;
    f = gs_view_distributions(runs, 1, &st);
    GS_CHECK(f && f->n == 1 && f->panels[0]->kind == GS_CHART_EMPTY && strstr(f->panels[0]->empty_text, "Select"),
             "no tensor selected: an empty state that says what to do");
    gs_figure_free(f);
    f = gs_view_overlap(NULL, 0, &st);
    GS_CHECK(f && f->panels[0]->kind == GS_CHART_EMPTY && strstr(f->panels[0]->empty_text, "Open"),
             "no run: the empty state says how to open one");
    gs_figure_free(f);

    char *m = gs_view_summary_markup(runs, 2);
    GS_CHECK(m && strstr(m, "run-a") && strstr(m, "znorm") && strstr(m, "seed"), "summary lists runs and config");
    free(m);

    gs_run_data_free(&a);
    gs_run_data_free(&b);
}

int main(void)
{
    test_scales();
    test_ranges_ticks();
    test_ema_downsample();
    test_hit_testing();
    test_zoom();
    test_views();
    return gs_test_finish();
}
