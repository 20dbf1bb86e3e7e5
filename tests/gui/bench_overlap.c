/* bench_overlap.c — redraw time of the overlap map, 100 blocks × 200 epochs (TAP).
 *
 * Times what a redraw of the widget costs: building the figure from a run snapshot
 * (gs_view_overlap) and drawing it the way GsChartView's snapshot() does (cairo into a
 * recording surface, as gtk_snapshot_append_cairo records, then replayed onto a
 * 1200 × 800 image as the renderer does).  The bar (DESIGN §5 / issue 5): under 16 ms.
 * Reports min and median of 30 redraws; fails when the median is over the bar.
 */
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gs_chart_draw.h"
#include "gs_test.h"
#include "gs_view_models.h"

#define B 100
#define E 200
#define REPS 30

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    gs_run_data d;
    memset(&d, 0, sizeof d);
    d.n_blocks = B;
    d.block_names = calloc(B, sizeof(char *));
    for (int b = 0; b < B; b++) {
        char buf[32];
        snprintf(buf, sizeof buf, "layer%d.%d", 1 + b / 34, b % 34);
        d.block_names[b] = strdup(buf);
    }
    d.n_pe = E;
    d.pe_epoch = malloc(E * sizeof(double));
    for (int e = 0; e < E; e++)
        d.pe_epoch[e] = e;
    for (int s = 0; s < GS_STAT_COUNT; s++) {
        d.pe[s] = malloc((size_t)E * B * sizeof(double));
        for (size_t i = 0; i < (size_t)E * B; i++)
            d.pe[s][i] = 1 + 0.2 * sin((double)i * 0.01) + 0.01 * s;
    }
    d.steps_per_epoch = 1;
    gs_view_run run = { &d, "znorm", gs_palette_run(0), NULL, NULL, 0 };
    gs_view_state st = { 0 };
    st.block = "layer2.5";
    st.epoch = 120;

    cairo_surface_t *target = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1200, 800);
    double t[REPS], tdraw[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ms();
        gs_figure *f = gs_view_overlap(&run, 1, &st);
        double t1 = now_ms();
        cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
        cairo_t *cr = cairo_create(rec);
        gs_draw_opts o = { 0, NULL, -1 };
        gs_figure_draw(cr, f, 1200, 800, &o);
        cairo_destroy(cr);
        cairo_t *tc = cairo_create(target);
        cairo_set_source_surface(tc, rec, 0, 0);
        cairo_paint(tc);
        cairo_destroy(tc);
        cairo_surface_flush(target);
        cairo_surface_destroy(rec);
        double t2 = now_ms();
        t[r] = t2 - t0;
        tdraw[r] = t2 - t1;
        gs_figure_free(f);
    }
    qsort(t, REPS, sizeof t[0], cmp);
    qsort(tdraw, REPS, sizeof tdraw[0], cmp);
    printf("# overlap map %d blocks x %d epochs, 1200x800: redraw min %.2f ms, median %.2f ms "
           "(of which drawing: median %.2f ms)\n", B, E, t[0], t[REPS / 2], tdraw[REPS / 2]);
    GS_CHECK(t[REPS / 2] < 16.0, "median redraw %.2f ms is under 16 ms", t[REPS / 2]);
    cairo_surface_destroy(target);
    gs_run_data_free(&d);
    return gs_test_finish();
}
