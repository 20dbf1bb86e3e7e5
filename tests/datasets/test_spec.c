/* test_spec.c — gs_dataset_load's argument handling: unknown and incomplete specs,
 * NULL arguments, negative options, tiny or missing error buffers, and freeing
 * what a failed load left behind. */
#include "ds_test_util.h"

#include <string.h>

int main(void)
{
    ds_expect_load_fail("foo:bar", NULL, "foo:bar", "unknown kind");
    ds_expect_load_fail("foo:bar", NULL, "unknown dataset spec", "unknown kind (text)");
    ds_expect_load_fail("mnist", NULL, "mnist", "mnist without DIR");
    ds_expect_load_fail("mnist:", NULL, "missing DIR", "mnist: empty DIR");
    ds_expect_load_fail("cifar10", NULL, "cifar10", "cifar10 without DIR");
    ds_expect_load_fail("cifar100:", NULL, "cifar100:", "cifar100 empty DIR");
    ds_expect_load_fail("h5", NULL, "missing FILE", "h5 without FILE");
    ds_expect_load_fail("h5:", NULL, "h5:", "h5 empty FILE");
    ds_expect_load_fail("MNIST:/tmp", NULL, "MNIST:/tmp", "kinds are case-sensitive");
    ds_expect_load_fail("fashion-mnistx", NULL, "fashion-mnistx", "prefix of a kind");
    ds_expect_load_fail("", NULL, "empty spec", "empty spec");
    ds_expect_load_fail(NULL, NULL, "empty spec", "NULL spec");
    ds_expect_load_fail("fashion-mnist:/nonexistent/fm", NULL,
                        "/nonexistent/fm/train-images-idx3-ubyte", "fashion-mnist bad dir");

    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.data_dir = "/nonexistent/override";
    ds_expect_load_fail("fashion-mnist", &opts, "/nonexistent/override", "data_dir override");
    memset(&opts, 0, sizeof(opts));
    opts.limit_train = -1;
    ds_expect_load_fail("synthetic", &opts, "negative", "negative limit_train");
    memset(&opts, 0, sizeof(opts));
    opts.limit_test = -7;
    ds_expect_load_fail("synthetic:1x4x4", &opts, "synthetic:1x4x4", "negative limit_test");

    /* a NULL output */
    gs_dataset tr, te;
    char err[256];
    CHECK(gs_dataset_load("synthetic", NULL, NULL, &te, err, sizeof(err)) == -1);
    CHECK(strstr(err, "synthetic") != NULL);
    CHECK(te.n == 0 && te.images == NULL);
    CHECK(gs_dataset_load("synthetic", NULL, &tr, NULL, err, sizeof(err)) == -1);
    CHECK(tr.n == 0 && tr.images == NULL);

    /* err may be NULL, or too small: never an overflow */
    CHECK(gs_dataset_load("foo:bar", NULL, &tr, &te, NULL, 0) == -1);
    char small[8];
    memset(small, 'z', sizeof(small));
    CHECK(gs_dataset_load("foo:bar", NULL, &tr, &te, small, sizeof(small)) == -1);
    CHECK(memchr(small, '\0', sizeof(small)) != NULL);
    CHECK(strncmp(small, "foo:bar", 7) == 0);
    CHECK(gs_dataset_load("foo:bar", NULL, &tr, &te, small, 0) == -1);

    /* freeing after failure and twice; NULL */
    gs_dataset_free(&tr);
    gs_dataset_free(&tr);
    gs_dataset_free(NULL);

    /* success clears a stale error buffer */
    strcpy(err, "stale");
    gs_dataset_options small_opts;
    memset(&small_opts, 0, sizeof(small_opts));
    small_opts.synthetic_train = 4;
    small_opts.synthetic_test = 2;
    CHECK(gs_dataset_load("synthetic:1x2x2:2", &small_opts, &tr, &te, err, sizeof(err)) == 0);
    CHECK(err[0] == '\0');
    CHECK(tr.n == 4 && te.n == 2 && tr.num_classes == 2);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    return ds_test_finish("datasets-spec");
}
