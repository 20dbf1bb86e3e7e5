/* png_stats.c — test helper: size and pixel statistics of PNG files, via GdkTexture.
 *
 *   gs-png-stats A.png            → "W H MEAN VARIANCE" (grey level 0..255)
 *   gs-png-stats A.png B.png      → also "DIFF" = mean |A − B| over pixels (same size)
 * Exit 2 when a file cannot be read.  Needs no display.
 */
#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>

static guchar *load(const char *path, int *w, int *h)
{
    GError *error = NULL;
    GdkTexture *t = gdk_texture_new_from_filename(path, &error);
    if (!t) {
        fprintf(stderr, "gs-png-stats: %s: %s\n", path, error->message);
        return NULL;
    }
    *w = gdk_texture_get_width(t);
    *h = gdk_texture_get_height(t);
    guchar *px = g_malloc((size_t)*w * *h * 4);
    gdk_texture_download(t, px, (size_t)*w * 4);
    g_object_unref(t);
    return px;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int w, h;
    guchar *a = load(argv[1], &w, &h);
    if (!a)
        return 2;
    double s = 0, s2 = 0;
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        double g = (a[4 * i] + a[4 * i + 1] + a[4 * i + 2]) / 3.0;
        s += g;
        s2 += g * g;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    printf("%d %d %.3f %.3f", w, h, mean, var);
    if (argc > 2) {
        int w2, h2;
        guchar *b = load(argv[2], &w2, &h2);
        if (!b)
            return 2;
        double diff = INFINITY;
        if (w == w2 && h == h2) {
            double d = 0;
            for (size_t i = 0; i < 4 * n; i++)
                d += fabs((double)a[i] - b[i]);
            diff = d / (4.0 * n);
        }
        printf(" %.4f", diff);
        g_free(b);
    }
    printf("\n");
    g_free(a);
    return 0;
}
