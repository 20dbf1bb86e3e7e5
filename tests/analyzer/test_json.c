/* test_json.c — the small JSON reader behind /config: values, lookups, canonical form,
 * errors, and robustness (mutated and truncated texts never crash; deep nesting is
 * refused). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gs_json.h"
#include "gs_test.h"

static const char config[] =
    "{\"seed\": 7, \"arch\": \"resnet56\", \"depth\": 56, \"augment\": true, \"init_from\": null,\n"
    " \"optimizer\": {\"name\": \"adam\", \"lr\": 1e-3, \"betas\": [0.9, 0.999]},\n"
    " \"transform\": {\"name\": \"znorm\", \"znorm_eps\": 1E-8},\n"
    " \"host\": \"caf\\u00e9 \\\"x\\\" \\ud83d\\ude00\", \"neg\": -0.5e+2}";

int main(void)
{
    char err[256], buf[256];
    gs_json *j = gs_json_parse(config, err, sizeof err);
    GS_CHECK(j != NULL, "a run config parses (%s)", j ? "ok" : err);
    GS_CHECK(gs_json_num(gs_json_get(j, "seed"), -1) == 7, "seed = 7");
    GS_CHECK(!strcmp(gs_json_str(gs_json_path(j, "optimizer.name"), ""), "adam"), "optimizer.name = adam");
    GS_CHECK(gs_json_num(gs_json_path(j, "optimizer.lr"), 0) == 1e-3, "optimizer.lr = 1e-3");
    GS_CHECK(gs_json_num(gs_json_path(j, "transform.znorm_eps"), 0) == 1e-8, "exponent with capital E");
    GS_CHECK(gs_json_num(gs_json_get(j, "neg"), 0) == -50.0, "negative number with exponent sign");
    GS_CHECK(gs_json_num(gs_json_get(j, "augment"), -1) == 1.0, "true reads as 1");
    GS_CHECK(gs_json_get(j, "init_from") && gs_json_get(j, "init_from")->type == GS_JSON_NULL, "null");
    GS_CHECK(gs_json_path(j, "optimizer.nope") == NULL && gs_json_path(j, "seed.x") == NULL &&
                 gs_json_get(NULL, "x") == NULL,
             "missing members are NULL, not a crash");
    GS_CHECK(!strcmp(gs_json_str(gs_json_get(j, "host"), ""), "caf\xc3\xa9 \"x\" \xf0\x9f\x98\x80"),
             "string escapes, \\u and surrogate pairs decode to UTF-8");
    GS_CHECK(!strcmp(gs_json_format(gs_json_path(j, "optimizer.betas"), "", buf, sizeof buf), "[0.9,0.999]"),
             "format of an array: %s", buf);
    GS_CHECK(!strcmp(gs_json_format(NULL, "(none)", buf, sizeof buf), "(none)"), "format of NULL is the fallback");

    /* canonical form: key order does not matter, values do */
    gs_json *a = gs_json_parse("{\"b\": 1, \"a\": {\"y\": [1, 2], \"x\": \"s\"}}", NULL, 0);
    gs_json *b = gs_json_parse("{ \"a\": {\"x\": \"s\", \"y\": [1,2]}, \"b\": 1.0 }", NULL, 0);
    gs_json *c = gs_json_parse("{\"a\": {\"x\": \"s\", \"y\": [2, 1]}, \"b\": 1}", NULL, 0);
    char *ca = gs_json_canonical(a), *cb = gs_json_canonical(b), *cc = gs_json_canonical(c);
    GS_CHECK(ca && cb && !strcmp(ca, cb), "canonical forms equal for reordered keys: %s", ca ? ca : "(null)");
    GS_CHECK(ca && cc && strcmp(ca, cc) != 0, "canonical forms differ for different arrays");
    free(ca);
    free(cb);
    free(cc);
    gs_json_free(a);
    gs_json_free(b);
    gs_json_free(c);

    /* errors: one line with a line number */
    static const char *const bad[] = { "", "{", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "\"unterminated", "tru",
                                       "{\"a\": 01x}", "1 2", "{\"a\": \"\\q\"}", "-", "1.", "[\"\x01\"]" };
    int all_fail = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gs_json *x = gs_json_parse(bad[i], err, sizeof err);
        if (x || strncmp(err, "line ", 5) != 0 || strchr(err, '\n'))
            all_fail = 0;
        gs_json_free(x);
    }
    GS_CHECK(all_fail, "%zu malformed texts are refused with a 'line N: …' message", sizeof bad / sizeof *bad);

    /* deep nesting is refused, not a stack overflow */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    gs_json *dj = gs_json_parse(deep, err, sizeof err);
    GS_CHECK(dj == NULL && strstr(err, "nesting deeper"), "100000 nested arrays are refused: %s", err);
    free(deep);

    /* mutations and truncations of a real config never crash (run under ASan in CI) */
    size_t n = strlen(config), parsed = 0, refused = 0;
    char *m = malloc(n + 1);
    uint64_t s = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, config, n + 1);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(s >> 33) % n;
            m[pos] = (char)(s >> 17);
            if (m[pos] == '\0')
                m[pos] = '{';
        }
        if (iter % 5 == 0)
            m[(s >> 40) % n] = '\0';
        gs_json *x = gs_json_parse(m, err, sizeof err);
        if (x) {
            char *cx = gs_json_canonical(x);
            free(cx);
            parsed++;
        } else {
            refused++;
        }
        gs_json_free(x);
    }
    free(m);
    GS_CHECK(parsed + refused == 20000, "20000 mutated configs: %zu parsed, %zu refused, no crash", parsed, refused);

    gs_json_free(j);
    gs_json_free(NULL);
    return gs_test_finish();
}
