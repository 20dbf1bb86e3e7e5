#include "gs_train.h"

#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gs_checkpoint.h"
#include "gs_dataset.h"
#include "gs_json_writer.h"
#include "gs_model.h"
#include "gs_optim.h"
#include "gs_probes.h"
#include "gs_rng.h"
#include "gs_runlog.h"

#define ERRSZ 1024
#define MAX_DUMPS 64

/* ---- options ------------------------------------------------------------------------ */

typedef struct train_options {
    const char *arch, *data, *data_dir, *optimizer, *schedule, *transform, *znorm_scope;
    const char *out, *save, *resume, *init, *probes;
    char        shortcut;            /* 0: the arch's default */
    int         width, batch_size, threads, hist_every;
    long        epochs, steps, warmup, checkpoint_every, limit_train, limit_test;
    double      lr, momentum, weight_decay, znorm_eps, flush_seconds;
    int         lr_set, nesterov, augment, shuffle, skip_nonfinite, overwrite, quiet;
    uint64_t    seed;
    int64_t     dump_steps[MAX_DUMPS];
    int         num_dump_steps;
    long        synthetic_train, synthetic_test;
} train_options;

static void usage(FILE *f)
{
    fprintf(f,
"usage: gradscope train [OPTIONS]\n"
"\n"
"Train a CIFAR-style ResNet with instrumented backward and write the run log.\n"
"\n"
"Model\n"
"  --arch NAME            resnet20|32|44|56|110, resnet152 (bottleneck, 3/8/36/3 blocks),\n"
"                         resnet-basic:N, resnet-bottleneck:N (N blocks per stage) [resnet20]\n"
"  --shortcut A|B         for blocks that change shape: A = subsample + zero-pad channels,\n"
"                         B = 1x1 conv + BN [A for basic, B for bottleneck]\n"
"  --width C              stem channels; stages have C, 2C, 4C (x4 for bottleneck) [16]\n"
"Data\n"
"  --data SPEC            fashion-mnist | mnist:DIR | cifar10:DIR | cifar100:DIR | h5:FILE |\n"
"                         synthetic[:CxHxW[:K]]  [fashion-mnist]\n"
"  --data-dir DIR         where fashion-mnist lives [/usr/share/datasets/fashion-mnist]\n"
"  --limit-train N        use the first N training images      --limit-test N  same for test\n"
"  --no-augment           no pad-4 random crop + horizontal flip\n"
"  --no-shuffle           batches in file order\n"
"Schedule\n"
"  --epochs N             epochs to train [1]          --steps N   train N steps instead\n"
"  --batch-size B         images per step [128]\n"
"Optimizer\n"
"  --optimizer NAME       sgd | adam | adamw [adam]\n"
"  --lr X                 learning rate [1e-3 for adam/adamw, 0.1 for sgd]\n"
"  --momentum X           SGD momentum [0.9]            --nesterov  Nesterov momentum\n"
"  --weight-decay X       L2 (sgd, adam) or decoupled (adamw) weight decay [0]\n"
"  --schedule S           constant | cosine | step:E1[,E2..][:GAMMA] [constant]\n"
"  --warmup N             linear warmup over the first N steps [0]\n"
"Gradient transform (applied after backward, before the optimizer)\n"
"  --transform T          none | znorm | clip-norm:T | clip-value:T | gc [none]\n"
"  --znorm-eps X          ZNorm epsilon: (g - mean)/(std + eps) [1e-8]\n"
"  --znorm-scope S        all | multidim (tensors with more than one dimension) [all]\n"
"Probes and run log\n"
"  --out RUN.h5           write the run log (HDF5, readable while written)\n"
"  --probes MODE          off | default (stats every step, histograms every K) | full [default]\n"
"  --hist-every K         histogram sampling period in steps [50]\n"
"  --flush-seconds S      flush the run log at least every S seconds [10]\n"
"  --dump-grads S[,S..]   write full raw/transformed gradients and both block components\n"
"                         at these steps (0 = first) into /dump of the run log\n"
"  --overwrite            replace an existing --out file (refused otherwise)\n"
"Checkpoints\n"
"  --save CKPT.h5         final checkpoint (also written on SIGINT/SIGTERM)\n"
"  --checkpoint-every N   also save it every N steps\n"
"  --resume CKPT.h5       continue a run exactly from a checkpoint\n"
"  --init CKPT.h5         start from these weights (fresh optimizer, step 0)\n"
"Other\n"
"  --seed N               seed of every random stream [0]\n"
"  --threads N            threads for BLAS and OpenMP [number of cores]\n"
"  --skip-nonfinite       skip steps whose loss or gradients are not finite (default: stop)\n"
"  --quiet                no progress output\n"
"  -h, --help             this help\n"
"\n"
"Exit codes: 0 done, 1 runtime failure, 2 bad usage or input, 130/143 interrupted.\n");
}

enum {
    OPT_ARCH = 256, OPT_SHORTCUT, OPT_WIDTH, OPT_DATA, OPT_DATA_DIR, OPT_EPOCHS, OPT_STEPS, OPT_BATCH,
    OPT_OPTIMIZER, OPT_LR, OPT_MOMENTUM, OPT_NESTEROV, OPT_WD, OPT_SCHEDULE, OPT_WARMUP, OPT_TRANSFORM,
    OPT_ZEPS, OPT_ZSCOPE, OPT_SEED, OPT_THREADS, OPT_OUT, OPT_SAVE, OPT_CKPT_EVERY, OPT_RESUME, OPT_INIT,
    OPT_DUMP, OPT_NO_AUGMENT, OPT_NO_SHUFFLE, OPT_LIMIT_TRAIN, OPT_LIMIT_TEST, OPT_PROBES, OPT_HIST_EVERY,
    OPT_FLUSH, OPT_SKIP_NONFINITE, OPT_OVERWRITE, OPT_QUIET, OPT_SYN_TRAIN, OPT_SYN_TEST,
};

static const struct option long_options[] = {
    {"arch", required_argument, 0, OPT_ARCH},
    {"shortcut", required_argument, 0, OPT_SHORTCUT},
    {"width", required_argument, 0, OPT_WIDTH},
    {"data", required_argument, 0, OPT_DATA},
    {"data-dir", required_argument, 0, OPT_DATA_DIR},
    {"epochs", required_argument, 0, OPT_EPOCHS},
    {"steps", required_argument, 0, OPT_STEPS},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"optimizer", required_argument, 0, OPT_OPTIMIZER},
    {"lr", required_argument, 0, OPT_LR},
    {"momentum", required_argument, 0, OPT_MOMENTUM},
    {"nesterov", no_argument, 0, OPT_NESTEROV},
    {"weight-decay", required_argument, 0, OPT_WD},
    {"schedule", required_argument, 0, OPT_SCHEDULE},
    {"warmup", required_argument, 0, OPT_WARMUP},
    {"transform", required_argument, 0, OPT_TRANSFORM},
    {"znorm-eps", required_argument, 0, OPT_ZEPS},
    {"znorm-scope", required_argument, 0, OPT_ZSCOPE},
    {"seed", required_argument, 0, OPT_SEED},
    {"threads", required_argument, 0, OPT_THREADS},
    {"out", required_argument, 0, OPT_OUT},
    {"save", required_argument, 0, OPT_SAVE},
    {"checkpoint-every", required_argument, 0, OPT_CKPT_EVERY},
    {"resume", required_argument, 0, OPT_RESUME},
    {"init", required_argument, 0, OPT_INIT},
    {"dump-grads", required_argument, 0, OPT_DUMP},
    {"no-augment", no_argument, 0, OPT_NO_AUGMENT},
    {"no-shuffle", no_argument, 0, OPT_NO_SHUFFLE},
    {"limit-train", required_argument, 0, OPT_LIMIT_TRAIN},
    {"limit-test", required_argument, 0, OPT_LIMIT_TEST},
    {"probes", required_argument, 0, OPT_PROBES},
    {"hist-every", required_argument, 0, OPT_HIST_EVERY},
    {"flush-seconds", required_argument, 0, OPT_FLUSH},
    {"skip-nonfinite", no_argument, 0, OPT_SKIP_NONFINITE},
    {"overwrite", no_argument, 0, OPT_OVERWRITE},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"synthetic-train", required_argument, 0, OPT_SYN_TRAIN},
    {"synthetic-test", required_argument, 0, OPT_SYN_TEST},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int bad_value(const char *flag, const char *value, const char *expected)
{
    fprintf(stderr, "gradscope train: --%s %s: %s\n", flag, value, expected);
    return -1;
}

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected an integer in %ld..%ld", lo, hi);
        return bad_value(flag, s, msg);
    }
    *out = v;
    return 0;
}

static int parse_double(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected a finite number in [%g, %g]", lo, hi);
        return bad_value(flag, s, msg);
    }
    *out = v;
    return 0;
}

static int parse_dumps(train_options *o, const char *s)
{
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || v < 0 || (*end != ',' && *end != '\0') || o->num_dump_steps == MAX_DUMPS)
            return bad_value("dump-grads", s, "expected step numbers (from 0) separated by commas, at most 64");
        o->dump_steps[o->num_dump_steps++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    return o->num_dump_steps ? 0 : bad_value("dump-grads", s, "expected at least one step");
}

static int parse_options(train_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->arch = "resnet20";
    o->data = "fashion-mnist";
    o->optimizer = "adam";
    o->schedule = "constant";
    o->transform = "none";
    o->znorm_scope = "all";
    o->probes = "default";
    o->width = 16;
    o->batch_size = 128;
    o->epochs = 1;
    o->hist_every = 50;
    o->momentum = 0.9;
    o->znorm_eps = 1e-8;
    o->flush_seconds = 10.0;
    o->augment = o->shuffle = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu > 0 ? (int)ncpu : 1;
    int epochs_set = 0;

    optind = 0;   /* GNU: full re-initialisation, argv[0] is the verb */
    opterr = 0;   /* we print our own one-line messages */
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_ARCH: o->arch = optarg; break;
        case OPT_SHORTCUT:
            if ((optarg[0] != 'A' && optarg[0] != 'B') || optarg[1])
                return bad_value("shortcut", optarg, "expected A or B");
            o->shortcut = optarg[0];
            break;
        case OPT_WIDTH: if (parse_long("width", optarg, 1, 1024, &v)) return -1; o->width = (int)v; break;
        case OPT_DATA: o->data = optarg; break;
        case OPT_DATA_DIR: o->data_dir = optarg; break;
        case OPT_EPOCHS: if (parse_long("epochs", optarg, 1, 100000, &o->epochs)) return -1; epochs_set = 1; break;
        case OPT_STEPS: if (parse_long("steps", optarg, 0, 1000000000L, &o->steps)) return -1; break;
        case OPT_BATCH: if (parse_long("batch-size", optarg, 1, 65536, &v)) return -1; o->batch_size = (int)v; break;
        case OPT_OPTIMIZER: o->optimizer = optarg; break;
        case OPT_LR: if (parse_double("lr", optarg, 0, 1e6, &o->lr)) return -1; o->lr_set = 1; break;
        case OPT_MOMENTUM: if (parse_double("momentum", optarg, 0, 1, &o->momentum)) return -1; break;
        case OPT_NESTEROV: o->nesterov = 1; break;
        case OPT_WD: if (parse_double("weight-decay", optarg, 0, 1e3, &o->weight_decay)) return -1; break;
        case OPT_SCHEDULE: o->schedule = optarg; break;
        case OPT_WARMUP: if (parse_long("warmup", optarg, 0, 1000000000L, &o->warmup)) return -1; break;
        case OPT_TRANSFORM: o->transform = optarg; break;
        case OPT_ZEPS: if (parse_double("znorm-eps", optarg, 0, 1, &o->znorm_eps)) return -1; break;
        case OPT_ZSCOPE:
            if (strcmp(optarg, "all") != 0 && strcmp(optarg, "multidim") != 0)
                return bad_value("znorm-scope", optarg, "expected all or multidim");
            o->znorm_scope = optarg;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return bad_value("seed", optarg, "expected a non-negative integer");
            o->seed = s;
            break;
        }
        case OPT_THREADS: if (parse_long("threads", optarg, 1, 256, &v)) return -1; o->threads = (int)v; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_SAVE: o->save = optarg; break;
        case OPT_CKPT_EVERY: if (parse_long("checkpoint-every", optarg, 1, 1000000000L, &o->checkpoint_every)) return -1; break;
        case OPT_RESUME: o->resume = optarg; break;
        case OPT_INIT: o->init = optarg; break;
        case OPT_DUMP: if (parse_dumps(o, optarg)) return -1; break;
        case OPT_NO_AUGMENT: o->augment = 0; break;
        case OPT_NO_SHUFFLE: o->shuffle = 0; break;
        case OPT_LIMIT_TRAIN: if (parse_long("limit-train", optarg, 1, 1000000000L, &o->limit_train)) return -1; break;
        case OPT_LIMIT_TEST: if (parse_long("limit-test", optarg, 1, 1000000000L, &o->limit_test)) return -1; break;
        case OPT_PROBES: o->probes = optarg; break;
        case OPT_HIST_EVERY: if (parse_long("hist-every", optarg, 1, 1000000000L, &v)) return -1; o->hist_every = (int)v; break;
        case OPT_FLUSH: if (parse_double("flush-seconds", optarg, 0, 1e6, &o->flush_seconds)) return -1; break;
        case OPT_SKIP_NONFINITE: o->skip_nonfinite = 1; break;
        case OPT_OVERWRITE: o->overwrite = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_SYN_TRAIN: if (parse_long("synthetic-train", optarg, 1, 10000000L, &o->synthetic_train)) return -1; break;
        case OPT_SYN_TEST: if (parse_long("synthetic-test", optarg, 1, 10000000L, &o->synthetic_test)) return -1; break;
        case 'h': usage(stdout); return 1;
        case ':':
            fprintf(stderr, "gradscope train: %s: needs a value (see --help)\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "gradscope train: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gradscope train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (o->steps && epochs_set) {
        fprintf(stderr, "gradscope train: --epochs and --steps: give one of them\n");
        return -1;
    }
    if (o->resume && o->init) {
        fprintf(stderr, "gradscope train: --resume and --init: give one of them\n");
        return -1;
    }
    return 0;
}

/* ---- signals ---------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* ---- progress --------------------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_duration(char *buf, size_t sz, double s)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, sz, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, sz, "%ld:%02ld", t / 60, t % 60);
}

static void progress_bar(long step, long total, int epoch, int epochs, double loss, double acc,
                         double img_s, double eta)
{
    char eta_s[32];
    format_duration(eta_s, sizeof eta_s, eta);
    const int width = 24;
    int filled = total > 0 ? (int)((double)step / total * width) : width;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[width] = '\0';
    fprintf(stderr, "\r  epoch %d/%d [%s] %3.0f%%  step %ld/%ld  loss %.4f  acc %.3f  %.0f img/s  ETA %s  ",
            epoch + 1, epochs, bar, total > 0 ? 100.0 * step / total : 100.0, step, total, loss, acc, img_s, eta_s);
    fflush(stderr);
}

/* ---- evaluation --------------------------------------------------------------------------- */

static void evaluate(gs_model *m, const gs_dataset *test, float *images, int32_t *labels, int32_t *indices,
                     double *loss, double *acc)
{
    double total = 0.0;
    long correct = 0;
    for (int start = 0; start < test->n; start += m->max_batch) {
        int count = test->n - start < m->max_batch ? test->n - start : m->max_batch;
        for (int i = 0; i < count; i++)
            indices[i] = start + i;
        gs_dataset_gather(test, indices, count, NULL, images, labels);
        int hits = 0;
        total += gs_model_forward(m, images, labels, count, 0, &hits) * count;
        correct += hits;
    }
    *loss = test->n ? total / test->n : NAN;
    *acc = test->n ? (double)correct / test->n : NAN;
}

/* ---- configuration JSON -------------------------------------------------------------------- */

static char *config_json(const train_options *o, int argc, char **argv, const gs_model_config *cfg,
                         const gs_dataset *train, const gs_dataset *test, const gs_optim_config *oc,
                         const char *transform_spec, long steps_per_epoch, long total_steps, int epochs)
{
    gs_jw j;
    gs_jw_begin(&j);
    char cmd[4096] = "gradscope";
    size_t off = strlen(cmd);
    for (int i = 0; i < argc && off < sizeof cmd - 2; i++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " %s", argv[i]);
    gs_jw_str(&j, "command_line", cmd);
    gs_jw_str(&j, "gradscope_version", GS_VERSION);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    char hv[32];
    snprintf(hv, sizeof hv, "%u.%u.%u", maj, min, rel);
    gs_jw_str(&j, "hdf5_version", hv);
    gs_jw_str(&j, "openblas_config", openblas_get_config());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    gs_jw_str(&j, "host", host);
    char when[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gs_jw_str(&j, "start_time", when);
    gs_jw_int(&j, "seed", (long long)o->seed);
    gs_jw_int(&j, "threads", o->threads);
    gs_jw_str(&j, "arch", cfg->arch);
    char sc[2] = {cfg->shortcut, 0};
    gs_jw_str(&j, "shortcut", sc);
    gs_jw_str(&j, "block", cfg->block == GS_BLOCK_BASIC ? "basic" : "bottleneck");
    gs_jw_int(&j, "width", cfg->width);
    gs_jw_int(&j, "depth", gs_model_config_depth(cfg));
    gs_jw_str(&j, "data", o->data);
    gs_jw_object(&j, "dataset");
    gs_jw_str(&j, "name", train->name);
    gs_jw_str(&j, "source", train->source);
    gs_jw_int(&j, "train_size", train->n);
    gs_jw_int(&j, "test_size", test->n);
    gs_jw_array(&j, "shape");
    gs_jw_int(&j, NULL, train->c);
    gs_jw_int(&j, NULL, train->h);
    gs_jw_int(&j, NULL, train->w);
    gs_jw_end_array(&j);
    gs_jw_int(&j, "num_classes", train->num_classes);
    gs_jw_end_object(&j);
    gs_jw_int(&j, "epochs", epochs);
    gs_jw_int(&j, "steps", total_steps);
    gs_jw_int(&j, "steps_per_epoch", steps_per_epoch);
    gs_jw_int(&j, "batch_size", o->batch_size);
    gs_jw_object(&j, "optimizer");
    gs_jw_str(&j, "name", gs_optim_kind_name(oc->kind));
    gs_jw_num(&j, "lr", oc->lr);
    gs_jw_num(&j, "momentum", oc->momentum);
    gs_jw_bool(&j, "nesterov", oc->nesterov);
    gs_jw_num(&j, "weight_decay", oc->weight_decay);
    gs_jw_array(&j, "betas");
    gs_jw_num(&j, NULL, oc->beta1);
    gs_jw_num(&j, NULL, oc->beta2);
    gs_jw_end_array(&j);
    gs_jw_num(&j, "eps", oc->eps);
    gs_jw_end_object(&j);
    gs_jw_str(&j, "schedule", o->schedule);
    gs_jw_int(&j, "warmup", o->warmup);
    gs_jw_object(&j, "transform");
    char name[64];
    snprintf(name, sizeof name, "%s", transform_spec);
    char *colon = strchr(name, ':');
    if (colon)
        *colon = '\0';
    gs_jw_str(&j, "name", name);
    gs_jw_str(&j, "spec", transform_spec);
    gs_jw_num(&j, "znorm_eps", o->znorm_eps);
    gs_jw_str(&j, "znorm_scope", o->znorm_scope);
    gs_jw_end_object(&j);
    gs_jw_bool(&j, "augment", o->augment);
    gs_jw_bool(&j, "shuffle", o->shuffle);
    gs_jw_object(&j, "probes");
    gs_jw_str(&j, "mode", o->probes);
    gs_jw_int(&j, "hist_every", strcmp(o->probes, "full") == 0 ? 1 : o->hist_every);
    gs_jw_end_object(&j);
    gs_jw_array(&j, "dump_grads");
    for (int i = 0; i < o->num_dump_steps; i++)
        gs_jw_int(&j, NULL, (long long)o->dump_steps[i]);
    gs_jw_end_array(&j);
    gs_jw_str(&j, "resumed_from", o->resume);
    gs_jw_str(&j, "init_from", o->init);
    return gs_jw_take(&j);
}

/* ---- the run ---------------------------------------------------------------------------------- */

typedef struct run {
    train_options    o;
    gs_dataset       train, test;
    gs_model        *model;
    gs_optim         opt;
    int              opt_ready;
    gs_transform     transform;
    gs_schedule      schedule;
    gs_probes       *probes;
    gs_runlog       *log;
    char            *config;
    float           *images;
    int32_t         *labels, *indices, *perm;
    gs_augment      *aug;
    char             ckpt_path[1100];
} run;

static void run_free(run *r)
{
    gs_dataset_free(&r->train);
    gs_dataset_free(&r->test);
    gs_model_free(r->model);
    if (r->opt_ready)
        gs_optim_free(&r->opt);
    gs_probes_free(r->probes);
    free(r->config);
    free(r->images);
    free(r->labels);
    free(r->indices);
    free(r->perm);
    free(r->aug);
}

/* The order of epoch e's training images. */
static void epoch_permutation(int32_t *perm, int n, uint64_t seed, int epoch, int shuffle)
{
    for (int i = 0; i < n; i++)
        perm[i] = i;
    if (!shuffle)
        return;
    gs_rng rng;
    gs_rng_stream(&rng, seed, GS_RNG_SHUFFLE, (uint64_t)epoch);
    for (int i = n - 1; i > 0; i--) {
        int k = (int)gs_rng_below(&rng, (uint32_t)i + 1);
        int32_t t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
}

static void step_augmentation(gs_augment *aug, int count, uint64_t seed, int64_t step)
{
    gs_rng rng;
    gs_rng_stream(&rng, seed, GS_RNG_AUGMENT, (uint64_t)step);
    for (int i = 0; i < count; i++) {
        aug[i].dx = (int)gs_rng_below(&rng, 9) - 4;
        aug[i].dy = (int)gs_rng_below(&rng, 9) - 4;
        aug[i].flip = (int)gs_rng_below(&rng, 2);
    }
}

static int save_checkpoint(run *r, const char *path, int64_t step, int epoch, char *err)
{
    gs_train_state st = {.step = step, .epoch = epoch, .seed = r->o.seed};
    return gs_checkpoint_save(path, r->model, &r->opt, &st, r->config, err, ERRSZ);
}

int gs_cmd_train(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    char err[ERRSZ] = "";
    int rc = parse_options(&r.o, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    train_options *o = &r.o;
    const int tty = isatty(STDERR_FILENO) && !o->quiet;
    int exit_code = 2;
    const char *status = "failed";

    /* ---- everything that can be bad input is checked before any file is written ---- */
    gs_model_config cfg;
    gs_optim_config oc = {.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    gs_probe_mode probe_mode;
    if (gs_model_config_from_arch(&cfg, o->arch, err, ERRSZ) != 0 ||
        gs_transform_parse(&r.transform, o->transform, err, ERRSZ) != 0 ||
        gs_schedule_parse(&r.schedule, o->schedule, err, ERRSZ) != 0)
        goto bad_input;
    if (gs_optim_kind_parse(&oc.kind, o->optimizer) != 0) {
        snprintf(err, ERRSZ, "--optimizer %s: expected sgd, adam or adamw", o->optimizer);
        goto bad_input;
    }
    if (gs_probe_mode_parse(&probe_mode, o->probes) != 0) {
        snprintf(err, ERRSZ, "--probes %s: expected off, default or full", o->probes);
        goto bad_input;
    }
    r.transform.znorm_eps = (float)o->znorm_eps;
    r.transform.znorm_multidim_only = strcmp(o->znorm_scope, "multidim") == 0;
    r.schedule.warmup_steps = o->warmup;
    oc.lr = (float)(o->lr_set ? o->lr : (oc.kind == GS_OPTIM_SGD ? 0.1 : 1e-3));
    oc.momentum = (float)o->momentum;
    oc.nesterov = o->nesterov;
    oc.weight_decay = (float)o->weight_decay;
    if (o->nesterov && (oc.kind != GS_OPTIM_SGD || oc.momentum == 0.0f)) {
        snprintf(err, ERRSZ, "--nesterov: needs --optimizer sgd with --momentum > 0");
        goto bad_input;
    }
    if (o->shortcut)
        cfg.shortcut = o->shortcut;
    cfg.width = o->width;
    struct stat sb;
    if (o->out && !o->overwrite && stat(o->out, &sb) == 0) {
        snprintf(err, ERRSZ, "--out %s: file exists (use --overwrite to replace it)", o->out);
        goto bad_input;
    }
    if (o->out && o->save && strcmp(o->out, o->save) == 0) {
        snprintf(err, ERRSZ, "--save %s: the same file as --out", o->save);
        goto bad_input;
    }

    gs_dataset_options dopts = {.data_dir = o->data_dir, .limit_train = o->limit_train,
                                .limit_test = o->limit_test, .synthetic_train = o->synthetic_train,
                                .synthetic_test = o->synthetic_test, .synthetic_seed = o->seed};
    if (!o->quiet)
        fprintf(stderr, "gradscope: loading %s ...\n", o->data);
    if (gs_dataset_load(o->data, &dopts, &r.train, &r.test, err, ERRSZ) != 0)
        goto bad_input;
    cfg.in_c = r.train.c;
    cfg.in_h = r.train.h;
    cfg.in_w = r.train.w;
    cfg.num_classes = r.train.num_classes;

    /* one pool of threads: OpenMP spreads images over the cores, sgemm runs inside */
    openblas_set_num_threads(1);
    omp_set_num_threads(o->threads);

    const int batch = o->batch_size < r.train.n ? o->batch_size : r.train.n;
    r.model = gs_model_create(&cfg, batch, err, ERRSZ);
    if (!r.model) {
        exit_code = 1;
        goto fail;
    }
    gs_model_init(r.model, o->seed);
    if (gs_optim_init(&r.opt, &oc, r.model->num_param_floats) != 0) {
        snprintf(err, ERRSZ, "optimizer: out of memory");
        exit_code = 1;
        goto fail;
    }
    r.opt_ready = 1;

    int64_t start_step = 0;
    if (o->init && gs_checkpoint_load(o->init, r.model, NULL, NULL, err, ERRSZ) != 0)
        goto bad_input;
    if (o->resume) {
        gs_train_state st;
        if (gs_checkpoint_load(o->resume, r.model, &r.opt, &st, err, ERRSZ) != 0)
            goto bad_input;
        if (st.seed != o->seed) {
            snprintf(err, ERRSZ, "--resume %s: the checkpoint was written with --seed %llu, this run has %llu",
                     o->resume, (unsigned long long)st.seed, (unsigned long long)o->seed);
            goto bad_input;
        }
        start_step = st.step;
    }

    const long steps_per_epoch = r.train.n / batch > 0 ? r.train.n / batch : 1;
    const long total_steps = o->steps ? o->steps : o->epochs * steps_per_epoch;
    const int epochs = (int)((total_steps + steps_per_epoch - 1) / steps_per_epoch);
    if (start_step > total_steps) {
        snprintf(err, ERRSZ, "--resume %s: the checkpoint is at step %lld, past the %ld steps of this run",
                 o->resume, (long long)start_step, total_steps);
        goto bad_input;
    }
    char tspec[64];
    gs_transform_format(&r.transform, tspec, sizeof tspec);
    r.config = config_json(o, argc, argv, &cfg, &r.train, &r.test, &oc, tspec, steps_per_epoch, total_steps, epochs);
    if (!r.config) {
        snprintf(err, ERRSZ, "out of memory");
        exit_code = 1;
        goto fail;
    }

    /* buffers */
    size_t img = (size_t)r.train.c * r.train.h * r.train.w;
    r.images = malloc(sizeof(float) * img * batch);
    r.labels = malloc(sizeof(int32_t) * batch);
    r.indices = malloc(sizeof(int32_t) * batch);
    r.perm = malloc(sizeof(int32_t) * r.train.n);
    r.aug = malloc(sizeof(gs_augment) * batch);
    if (!r.images || !r.labels || !r.indices || !r.perm || !r.aug) {
        snprintf(err, ERRSZ, "out of memory for batch %d", batch);
        exit_code = 1;
        goto fail;
    }
    if (o->num_dump_steps && gs_model_keep_block_grads(r.model, 1) != 0) {
        snprintf(err, ERRSZ, "--dump-grads: out of memory for the block components");
        exit_code = 1;
        goto fail;
    }
    if (probe_mode != GS_PROBES_OFF && !(r.probes = gs_probes_create(probe_mode, o->hist_every, r.model, err, ERRSZ))) {
        exit_code = 1;
        goto fail;
    }
    if (o->out) {
        gs_runlog_options lo = {.path = o->out, .config_json = r.config, .probes = probe_mode,
                                .hist_every = o->hist_every, .flush_seconds = o->flush_seconds,
                                .dump_steps = o->dump_steps, .num_dump_steps = o->num_dump_steps,
                                .dump_batch = batch};
        if (!(r.log = gs_runlog_create(&lo, r.model, err, ERRSZ))) {
            exit_code = 1;
            goto fail;
        }
    }
    if (o->save)
        snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s", o->save);
    else if (o->out) {
        snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s", o->out);
        size_t len = strlen(r.ckpt_path);
        if (len > 3 && strcmp(r.ckpt_path + len - 3, ".h5") == 0)
            r.ckpt_path[len - 3] = '\0';
        strncat(r.ckpt_path, ".ckpt.h5", sizeof r.ckpt_path - strlen(r.ckpt_path) - 1);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!o->quiet)
        fprintf(stderr, "gradscope: %s (depth %d, %zu parameters, shortcut %c) on %s: %d train / %d test images "
                "%dx%dx%d; %s lr %g, transform %s; %ld steps (%d epochs of %ld), batch %d, %d threads\n",
                cfg.arch, gs_model_config_depth(&cfg), r.model->num_param_floats, cfg.shortcut, r.train.name,
                r.train.n, r.test.n, r.train.c, r.train.h, r.train.w, gs_optim_kind_name(oc.kind), oc.lr, tspec,
                total_steps, epochs, steps_per_epoch, batch, o->threads);

    /* ---- the training loop ---- */
    exit_code = 1;
    const double t0 = now_seconds();
    double epoch_t0 = t0, last_draw = 0.0;
    double ep_loss = 0.0, ep_correct = 0.0, ep_images = 0.0;
    long ep_steps = 0, skipped = 0;
    int perm_epoch = -1;
    double last_test_loss = NAN, last_test_acc = NAN, last_loss = NAN;
    int64_t step = start_step;
    for (; step < total_steps; step++) {
        const int epoch = (int)(step / steps_per_epoch);
        const long pos = step % steps_per_epoch;
        if (epoch != perm_epoch) {
            epoch_permutation(r.perm, r.train.n, o->seed, epoch, o->shuffle);
            perm_epoch = epoch;
        }
        memcpy(r.indices, r.perm + pos * batch, sizeof(int32_t) * batch);
        if (o->augment)
            step_augmentation(r.aug, batch, o->seed, step);
        gs_dataset_gather(&r.train, r.indices, batch, o->augment ? r.aug : NULL, r.images, r.labels);

        if (r.probes)
            gs_probes_begin_step(r.probes, r.model, step);
        gs_model_zero_grad(r.model);
        int hits = 0;
        double loss = gs_model_forward(r.model, r.images, r.labels, batch, 1, &hits);
        gs_model_backward(r.model);
        last_loss = loss;

        int64_t nonfinite_pre = 0, nonfinite_post = 0;
        double norm_pre = gs_grad_global_norm(r.model, &nonfinite_pre);
        if (r.probes)
            gs_probes_record_pre(r.probes, r.model);
        if (r.log && gs_runlog_wants_dump(r.log, step) &&
            gs_runlog_dump_pre(r.log, step, loss, r.model, err, ERRSZ) != 0)
            goto fail;
        gs_transform_apply(&r.transform, r.model->params, r.model->num_params);
        double norm_post = gs_grad_global_norm(r.model, &nonfinite_post);
        if (r.probes)
            gs_probes_record_post(r.probes, r.model);
        if (r.log && gs_runlog_wants_dump(r.log, step) &&
            gs_runlog_dump_post(r.log, step, r.model, err, ERRSZ) != 0)
            goto fail;

        const int finite = isfinite(loss) && nonfinite_pre == 0 && nonfinite_post == 0;
        const float lr = gs_schedule_lr(&r.schedule, oc.lr, step, epoch, total_steps);
        if (finite)
            gs_optim_step(&r.opt, r.model->param_data, r.model->grad_data, lr);
        if (r.probes)
            gs_probes_record_update(r.probes, r.model);
        if (r.log) {
            gs_train_row row = {.step = step, .epoch = epoch, .loss = (float)loss, .accuracy = (float)hits / batch,
                                .lr = lr, .grad_norm_pre = (float)norm_pre, .grad_norm_post = (float)norm_post,
                                .wall_s = now_seconds() - t0};
            if (gs_runlog_append_train(r.log, &row, err, ERRSZ) != 0 ||
                gs_runlog_append_probe(r.log, r.probes, err, ERRSZ) != 0)
                goto fail;
        }
        if (!finite) {
            if (tty)
                fprintf(stderr, "\n");
            if (!o->skip_nonfinite) {
                snprintf(err, ERRSZ, "step %lld: %s is not finite (loss %g; non-finite gradient elements: %lld "
                         "before, %lld after the transform); stopping — the run log keeps every step so far "
                         "(--skip-nonfinite skips such steps instead)", (long long)step,
                         isfinite(loss) ? "the gradient" : "the loss", isfinite(loss) ? loss : NAN, (long long)nonfinite_pre,
                         (long long)nonfinite_post);
                step++;
                goto fail;
            }
            skipped++;
            fprintf(stderr, "gradscope: step %lld skipped: non-finite loss or gradients\n", (long long)step);
        } else {
            ep_loss += loss * batch;
            ep_correct += hits;
            ep_images += batch;
        }
        ep_steps++;

        const int epoch_end = pos == steps_per_epoch - 1 || step == total_steps - 1;
        if (epoch_end) {
            double now = now_seconds();
            evaluate(r.model, &r.test, r.images, r.labels, r.indices, &last_test_loss, &last_test_acc);
            double train_time = now - epoch_t0;
            gs_epoch_row er = {.epoch = epoch, .train_loss = (float)(ep_images ? ep_loss / ep_images : NAN),
                               .train_acc = (float)(ep_images ? ep_correct / ep_images : NAN),
                               .test_loss = (float)last_test_loss, .test_acc = (float)last_test_acc,
                               .wall_s = now_seconds() - t0,
                               .images_per_s = train_time > 0 ? ep_steps * batch / train_time : NAN};
            if (r.probes)
                gs_probes_end_epoch(r.probes, epoch);
            if (r.log && (gs_runlog_append_epoch(r.log, &er, r.probes, err, ERRSZ) != 0 ||
                          gs_runlog_flush(r.log, err, ERRSZ) != 0))
                goto fail;
            if (r.probes)
                gs_probes_clear_epoch(r.probes);
            if (!o->quiet) {
                char el[32];
                format_duration(el, sizeof el, er.wall_s);
                fprintf(stderr, "%sepoch %d/%d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %.0f img/s  "
                        "elapsed %s\n", tty ? "\r\033[K" : "", epoch + 1, epochs, er.train_loss, er.train_acc,
                        er.test_loss, er.test_acc, er.images_per_s, el);
            }
            ep_loss = ep_correct = ep_images = 0.0;
            ep_steps = 0;
            epoch_t0 = now_seconds();
        } else if (r.log && gs_runlog_maybe_flush(r.log, err, ERRSZ) != 0) {
            goto fail;
        }
        if (o->checkpoint_every && (step + 1) % o->checkpoint_every == 0 && r.ckpt_path[0] &&
            save_checkpoint(&r, r.ckpt_path, step + 1, (int)((step + 1) / steps_per_epoch), err) != 0)
            goto fail;
        if (tty) {
            double now = now_seconds();
            if (now - last_draw > 0.25 && !epoch_end) {
                double elapsed = now - t0;
                double done = (double)(step + 1 - start_step);
                double rate = done / elapsed;
                progress_bar(step + 1, total_steps, epoch, epochs, loss, (double)hits / batch, rate * batch,
                             (total_steps - step - 1) / (rate > 0 ? rate : 1));
                last_draw = now;
            }
        }
        if (stop_signal) {
            step++;
            break;
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[K");

    /* ---- the end: checkpoint, log, summary ---- */
    const int interrupted = stop_signal != 0;
    const int final_epoch = (int)(step / steps_per_epoch);
    if ((o->save || interrupted) && r.ckpt_path[0]) {
        if (save_checkpoint(&r, r.ckpt_path, step, final_epoch, err) != 0)
            goto fail;
        if (!o->quiet)
            fprintf(stderr, "gradscope: checkpoint at step %lld written to %s\n", (long long)step, r.ckpt_path);
    }
    status = interrupted ? "interrupted" : "finished";
    if (r.log) {
        int lrc = gs_runlog_close(r.log, status, err, ERRSZ);
        r.log = NULL;
        if (lrc != 0)
            goto fail;
    }
    double elapsed = now_seconds() - t0;
    char el[32];
    format_duration(el, sizeof el, elapsed);
    if (!o->quiet) {
        fprintf(stderr, "gradscope: %s after %lld steps in %s: test accuracy %.4f, test loss %.4f, last train "
                "loss %.4f%s%s\n", status, (long long)step, el, last_test_acc, last_test_loss, last_loss,
                skipped ? ", skipped non-finite steps: " : "", skipped ? "yes" : "");
        if (o->out)
            fprintf(stderr, "gradscope: run log %s\n", o->out);
    }
    exit_code = interrupted ? 128 + (int)stop_signal : 0;
    run_free(&r);
    return exit_code;

bad_input:
    exit_code = 2;
fail:
    if (err[0])
        fprintf(stderr, "%sgradscope train: %s\n", tty ? "\r\033[K" : "", err);
    if (r.log) {
        char err2[ERRSZ];
        if (gs_runlog_close(r.log, status, err2, ERRSZ) != 0)
            fprintf(stderr, "gradscope train: %s\n", err2);
    }
    run_free(&r);
    return exit_code;
}
