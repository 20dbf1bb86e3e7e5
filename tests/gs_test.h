/* gs_test.h — a minimal TAP-speaking test harness.
 *
 * GS_CHECK(cond, fmt, ...) records a failure (with file:line and the message) and
 * carries on; gs_test_finish() prints the plan and the tally and returns the exit
 * code (0 all passed, 1 otherwise) for main() to return.
 */
#ifndef GS_TEST_H
#define GS_TEST_H

#include <stdarg.h>
#include <stdio.h>

static int gs_test_count;
static int gs_test_failures;

static void gs_test_result(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void gs_test_result(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    gs_test_count++;
    if (!ok)
        gs_test_failures++;
    printf("%s %d - ", ok ? "ok" : "not ok", gs_test_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf("  # FAILED at %s:%d", file, line);
    printf("\n");
    fflush(stdout);
}

#define GS_CHECK(cond, ...) gs_test_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static int gs_test_finish(void)
{
    printf("1..%d\n", gs_test_count);
    printf("# %d passed, %d failed\n", gs_test_count - gs_test_failures, gs_test_failures);
    return gs_test_failures ? 1 : 0;
}

#endif
