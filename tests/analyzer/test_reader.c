/* test_reader.c — the reader library against values read independently with h5py.
 *
 *   test-analyzer-reader EXPECT.txt     checks listed in EXPECT.txt (written by
 *                                       analyzer_tests.py from the fixture with h5py)
 *   test-analyzer-reader --live RUN.h5  follow a run being written: one line of counts
 *                                       per "refresh" line on stdin ("quit" ends)
 *
 * EXPECT.txt, one check per line (values separated by spaces):
 *   run PATH                              the run the following checks use
 *   blocks N NAME…  / params N NAME…      model tables
 *   param_count N   / status S  / version V
 *   rows T P H E PE                       rows of the five axes
 *   train NAME V…                         /train/NAME, all rows
 *   epochs NAME V…                        /epochs/NAME
 *   block STAT B V…                       /probe/blocks/STAT column B (x = /probe/step)
 *   param SIDE STAT P V…                  SIDE pre|post|- (- = /probe/params/STAT)
 *   block_epoch STAT B V…                 /probe/epoch/blocks/STAT column B
 *   param_epoch SIDE STAT P V…
 *   steps V…                              /probe/step (the x of block/param series)
 *   hist AXIS PART INDEX ROW C…           AXIS hist|epoch: one histogram row
 *   edges V…                              /probe/hist_edges
 *   select_blocks REGEX I…                indices selected ("-" for none)
 *   select_params REGEX I…
 *   bad_regex REGEX
 *   dumps STEP:WRITTEN…
 *   config KEY VALUE                      gs_json_path(config, KEY) formatted == VALUE
 *   error PATH TEXT…                      gs_run_open fails and the message contains TEXT
 *                                         and starts with PATH
 *   range_error                           reading past the complete rows is refused
 */
#define _GNU_SOURCE 1
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_run.h"
#include "gs_test.h"

#define MAXV 200000

static double vals[MAXV];

/* Parse the remaining tokens as numbers into vals; returns their number. */
static size_t parse_values(char **save)
{
    size_t n = 0;
    for (char *t = strtok_r(NULL, " \n", save); t && n < MAXV; t = strtok_r(NULL, " \n", save))
        vals[n++] = strtod(t, NULL);
    return n;
}

/* Values agree: both NaN, or equal within a float32 rounding. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-6 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static int series_matches(const gs_series *s, const double *want, size_t n, const double *xwant, size_t nx)
{
    if (s->n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!same(s->y[i], want[i]))
            return 0;
    if (xwant)
        for (size_t i = 0; i < n && i < nx; i++)
            if (!same(s->x[i], xwant[i]))
                return 0;
    return 1;
}

static int live_mode(const char *path)
{
    char err[1024], line[256];
    gs_run *run = gs_run_open(path, err, sizeof err);
    if (!run) {
        printf("error %s\n", err);
        return 1;
    }
    for (;;) {
        printf("rows %zu %zu %zu %zu %zu status %s swmr %d live %d\n", gs_run_rows(run, GS_AXIS_TRAIN),
               gs_run_rows(run, GS_AXIS_PROBE), gs_run_rows(run, GS_AXIS_HIST), gs_run_rows(run, GS_AXIS_EPOCHS),
               gs_run_rows(run, GS_AXIS_PROBE_EPOCH), gs_run_status(run)[0] ? gs_run_status(run) : "-",
               gs_run_is_swmr(run), gs_run_is_live(run));
        /* the newest complete row must be readable */
        size_t n = gs_run_rows(run, GS_AXIS_PROBE);
        if (n > 0) {
            gs_series s = { 0 };
            if (gs_run_block_series(run, GS_BLK_OVERLAP, 0, &s) != 0 || s.n != n || !isfinite(s.y[n - 1]))
                printf("error reading the last row: %s\n", gs_run_error(run));
            gs_series_free(&s);
        }
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin) || !strncmp(line, "quit", 4))
            break;
        if (gs_run_refresh(run) != 0) {
            printf("error %s\n", gs_run_error(run));
            fflush(stdout);
        }
    }
    gs_run_close(run);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--live"))
        return live_mode(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: test-analyzer-reader EXPECT.txt | --live RUN.h5\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static char line[4 * 1024 * 1024];
    static double steps[MAXV];
    size_t nsteps = 0;
    gs_run *run = NULL;
    char err[1024];

    while (fgets(line, sizeof line, f)) {
        char *save = NULL;
        char *cmd = strtok_r(line, " \n", &save);
        if (!cmd || cmd[0] == '#')
            continue;
        if (!strcmp(cmd, "run")) {
            const char *path = strtok_r(NULL, " \n", &save);
            gs_run_close(run);
            run = gs_run_open(path, err, sizeof err);
            GS_CHECK(run != NULL, "open %s%s%s", path, run ? "" : ": ", run ? "" : err);
            if (!run)
                break;
            continue;
        }
        if (!strcmp(cmd, "error")) {
            const char *path = strtok_r(NULL, " \n", &save);
            const char *text = save ? save : "";
            char want[512];
            snprintf(want, sizeof want, "%s", text);
            want[strcspn(want, "\n")] = '\0';
            gs_run *bad = gs_run_open(path, err, sizeof err);
            GS_CHECK(!bad && strncmp(err, path, strlen(path)) == 0 && strstr(err, want) && !strchr(err, '\n'),
                     "open %s fails with one line containing '%s' (got '%s')", path, want, bad ? "success" : err);
            gs_run_close(bad);
            continue;
        }
        if (!run)
            continue;
        if (!strcmp(cmd, "blocks") || !strcmp(cmd, "params")) {
            int blocks = !strcmp(cmd, "blocks");
            size_t n = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
            size_t have = blocks ? gs_run_n_blocks(run) : gs_run_n_params(run);
            const char *const *names = blocks ? gs_run_block_names(run) : gs_run_param_names(run);
            int ok = have == n;
            for (size_t i = 0; ok && i < n; i++) {
                const char *t = strtok_r(NULL, " \n", &save);
                ok = t && !strcmp(t, names[i]);
                if (blocks)
                    ok = ok && gs_run_block(run, i)->name == names[i];
                else
                    ok = ok && gs_run_param(run, i)->name == names[i];
            }
            GS_CHECK(ok, "%zu %s with the file's names in order (have %zu)", n, cmd, have);
        } else if (!strcmp(cmd, "param_count")) {
            long long n = strtoll(strtok_r(NULL, " \n", &save), NULL, 10);
            GS_CHECK(gs_run_param_count(run) == n, "parameter count %lld (have %lld)", n,
                     (long long)gs_run_param_count(run));
        } else if (!strcmp(cmd, "status")) {
            const char *s = strtok_r(NULL, " \n", &save);
            GS_CHECK(!strcmp(gs_run_status(run), s), "status '%s' (have '%s')", s, gs_run_status(run));
        } else if (!strcmp(cmd, "version")) {
            int v = atoi(strtok_r(NULL, " \n", &save));
            GS_CHECK(gs_run_format_version(run) == v, "format_version %d", v);
        } else if (!strcmp(cmd, "rows")) {
            size_t n = parse_values(&save);
            int ok = n == GS_AXIS_COUNT;
            for (int a = 0; ok && a < GS_AXIS_COUNT; a++)
                ok = gs_run_rows(run, (gs_axis)a) == (size_t)vals[a];
            GS_CHECK(ok, "rows per axis %zu %zu %zu %zu %zu", gs_run_rows(run, GS_AXIS_TRAIN),
                     gs_run_rows(run, GS_AXIS_PROBE), gs_run_rows(run, GS_AXIS_HIST), gs_run_rows(run, GS_AXIS_EPOCHS),
                     gs_run_rows(run, GS_AXIS_PROBE_EPOCH));
        } else if (!strcmp(cmd, "steps")) {
            nsteps = parse_values(&save);
            memcpy(steps, vals, nsteps * sizeof *steps);
            double *x = malloc((nsteps + 1) * sizeof *x);
            int ok = gs_run_rows(run, GS_AXIS_PROBE) == nsteps &&
                     gs_run_axis_x(run, GS_AXIS_PROBE, 0, nsteps, x) == 0;
            for (size_t i = 0; ok && i < nsteps; i++)
                ok = x[i] == steps[i];
            GS_CHECK(ok, "/probe/step: %zu steps", nsteps);
            free(x);
        } else if (!strcmp(cmd, "train") || !strcmp(cmd, "epochs")) {
            char name[128];
            snprintf(name, sizeof name, "%s", strtok_r(NULL, " \n", &save));
            size_t n = parse_values(&save);
            gs_series s = { 0 };
            int rc = !strcmp(cmd, "train") ? gs_run_train_series(run, name, &s) : gs_run_epochs_series(run, name, &s);
            GS_CHECK(rc == 0 && series_matches(&s, vals, n, NULL, 0), "/%s/%s: %zu values match h5py", cmd, name, n);
            gs_series_free(&s);
        } else if (!strcmp(cmd, "block") || !strcmp(cmd, "block_epoch")) {
            char stat[128];
            snprintf(stat, sizeof stat, "%s", strtok_r(NULL, " \n", &save));
            size_t b = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
            size_t n = parse_values(&save);
            gs_series s = { 0 };
            int epoch = !strcmp(cmd, "block_epoch");
            int rc = epoch ? gs_run_block_epoch_series(run, stat, b, &s) : gs_run_block_series(run, stat, b, &s);
            GS_CHECK(rc == 0 && series_matches(&s, vals, n, epoch ? NULL : steps, nsteps),
                     "%s %s of block %zu: %zu values match h5py", cmd, stat, b, n);
            /* the same column through a partial hyperslab read */
            if (!epoch && n > 4) {
                double part[3];
                char path[256];
                rc = gs_run_read_column(run, GS_AXIS_PROBE, gs_run_block_path(path, sizeof path, stat), b, 2, 3, part);
                GS_CHECK(rc == 0 && same(part[0], vals[2]) && same(part[2], vals[4]),
                         "hyperslab rows 2..4 of %s column %zu", stat, b);
            }
            gs_series_free(&s);
        } else if (!strcmp(cmd, "param") || !strcmp(cmd, "param_epoch")) {
            char side[16], stat[128];
            snprintf(side, sizeof side, "%s", strtok_r(NULL, " \n", &save));
            snprintf(stat, sizeof stat, "%s", strtok_r(NULL, " \n", &save));
            size_t p = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
            size_t n = parse_values(&save);
            gs_series s = { 0 };
            const char *sd = strcmp(side, "-") ? side : NULL;
            int rc = !strcmp(cmd, "param") ? gs_run_param_series(run, sd, stat, p, &s)
                                           : gs_run_param_epoch_series(run, sd, stat, p, &s);
            GS_CHECK(rc == 0 && series_matches(&s, vals, n, NULL, 0), "%s %s/%s of tensor %zu: %zu values match h5py",
                     cmd, side, stat, p, n);
            gs_series_free(&s);
        } else if (!strcmp(cmd, "hist")) {
            char axis[16], part[16];
            snprintf(axis, sizeof axis, "%s", strtok_r(NULL, " \n", &save));
            snprintf(part, sizeof part, "%s", strtok_r(NULL, " \n", &save));
            size_t idx = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
            size_t row = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
            size_t n = parse_values(&save);
            size_t H = 0;
            gs_run_hist_edges(run, &H);
            int64_t *counts = calloc(H + 1, sizeof *counts);
            int rc = gs_run_read_hist(run, !strcmp(axis, "hist") ? GS_AXIS_HIST : GS_AXIS_PROBE_EPOCH, part, idx, row, 1,
                                      counts);
            int ok = rc == 0 && n == H;
            for (size_t k = 0; ok && k < H; k++)
                ok = (double)counts[k] == vals[k];
            GS_CHECK(ok, "%s histogram %s[%zu] row %zu: %zu counts match h5py", axis, part, idx, row, H);
            free(counts);
        } else if (!strcmp(cmd, "edges")) {
            size_t n = parse_values(&save), H = 0;
            const double *e = gs_run_hist_edges(run, &H);
            int ok = e && H + 1 == n;
            for (size_t k = 0; ok && k < n; k++)
                ok = (isinf(vals[k]) && isinf(e[k])) || same(e[k], vals[k]);
            GS_CHECK(ok, "%zu histogram edges match h5py", n);
        } else if (!strcmp(cmd, "select_blocks") || !strcmp(cmd, "select_params")) {
            char re[256];
            snprintf(re, sizeof re, "%s", strtok_r(NULL, " \n", &save));
            size_t n = 0;
            size_t want[4096];
            for (char *t = strtok_r(NULL, " \n", &save); t && n < 4096; t = strtok_r(NULL, " \n", &save))
                if (strcmp(t, "-"))
                    want[n++] = strtoul(t, NULL, 10);
            gs_selection sel = { 0 };
            int rc = !strcmp(cmd, "select_blocks") ? gs_run_select_blocks(run, re, &sel)
                                                   : gs_run_select_params(run, re, &sel);
            int ok = rc == 0 && sel.n == n;
            for (size_t i = 0; ok && i < n; i++)
                ok = sel.idx[i] == want[i];
            GS_CHECK(ok, "%s '%s' selects %zu (have %zu)", cmd, re, n, sel.n);
            gs_selection_free(&sel);
        } else if (!strcmp(cmd, "bad_regex")) {
            const char *re = strtok_r(NULL, " \n", &save);
            gs_selection sel = { 0 };
            int rc = gs_run_select_blocks(run, re, &sel);
            GS_CHECK(rc == -1 && strstr(gs_run_error(run), "bad regular expression") && sel.idx == NULL,
                     "bad regex '%s' is an error: %s", re, gs_run_error(run));
        } else if (!strcmp(cmd, "dumps")) {
            gs_dump_info *d = NULL;
            size_t n = 0, k = 0;
            int rc = gs_run_list_dumps(run, &d, &n);
            int ok = rc == 0;
            for (char *t = strtok_r(NULL, " \n", &save); ok && t; t = strtok_r(NULL, " \n", &save), k++) {
                long long step = 0;
                int w = 0;
                ok = sscanf(t, "%lld:%d", &step, &w) == 2 && k < n && d[k].step == step && d[k].written == w;
            }
            GS_CHECK(ok && k == n, "%zu gradient dumps listed", n);
            free(d);
        } else if (!strcmp(cmd, "config")) {
            const char *key = strtok_r(NULL, " \n", &save);
            const char *value = strtok_r(NULL, " \n", &save);
            char buf[256];
            gs_json_format(gs_json_path(gs_run_config(run), key), "(absent)", buf, sizeof buf);
            GS_CHECK(!strcmp(buf, value), "config %s = %s (have %s)", key, value, buf);
        } else if (!strcmp(cmd, "range_error")) {
            double v[4];
            char path[256];
            size_t n = gs_run_rows(run, GS_AXIS_PROBE);
            int rc = gs_run_read_column(run, GS_AXIS_PROBE, gs_run_block_path(path, sizeof path, GS_BLK_OVERLAP), 0, n, 1, v);
            GS_CHECK(rc == -1 && strstr(gs_run_error(run), "beyond"), "reading past the last row fails: %s",
                     gs_run_error(run));
            rc = gs_run_read_column(run, GS_AXIS_PROBE, "/probe/blocks/no_such_stat", 0, 1, 1, v);
            GS_CHECK(rc == -1 && strstr(gs_run_error(run), "no /probe/blocks/no_such_stat"),
                     "reading a missing dataset fails: %s", gs_run_error(run));
            rc = gs_run_read_column(run, GS_AXIS_PROBE, path, 100000, 0, 1, v);
            GS_CHECK(rc == -1, "reading a column past the blocks fails: %s", gs_run_error(run));
            size_t row = 0;
            rc = gs_run_find_row(run, GS_AXIS_PROBE, 7.0, &row);
            double x = -1;
            if (rc == 0 && row < n)
                gs_run_axis_x(run, GS_AXIS_PROBE, row, 1, &x);
            GS_CHECK(rc == 0 && x >= 7.0, "find_row: first probed step >= 7 is at row %zu (step %g)", row, x);
        } else {
            GS_CHECK(0, "unknown check '%s' in %s", cmd, argv[1]);
        }
    }
    fclose(f);
    gs_run_close(run);
    return gs_test_finish();
}
