#include "gs_json_writer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(gs_jw *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (j->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(j->buf, cap);
        if (!grown) {
            j->failed = 1;
            return;
        }
        j->buf = grown;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void appendf(gs_jw *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(gs_jw *j, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        append(j, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void quoted(gs_jw *j, const char *s)
{
    append(j, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            append(j, e, 2);
        } else if (*p < 0x20) {
            appendf(j, "\\u%04x", *p);
        } else {
            append(j, (const char *)p, 1);
        }
    }
    append(j, "\"", 1);
}

static void key(gs_jw *j, const char *k)
{
    if (j->need_comma)
        append(j, ", ", 2);
    if (k) {
        quoted(j, k);
        append(j, ": ", 2);
    }
    j->need_comma = 1;
}

void gs_jw_begin(gs_jw *j)
{
    memset(j, 0, sizeof *j);
    append(j, "{", 1);
}

void gs_jw_object(gs_jw *j, const char *k)
{
    key(j, k);
    append(j, "{", 1);
    j->need_comma = 0;
}

void gs_jw_end_object(gs_jw *j)
{
    append(j, "}", 1);
    j->need_comma = 1;
}

void gs_jw_array(gs_jw *j, const char *k)
{
    key(j, k);
    append(j, "[", 1);
    j->need_comma = 0;
}

void gs_jw_end_array(gs_jw *j)
{
    append(j, "]", 1);
    j->need_comma = 1;
}

void gs_jw_str(gs_jw *j, const char *k, const char *value)
{
    key(j, k);
    if (value)
        quoted(j, value);
    else
        append(j, "null", 4);
}

void gs_jw_num(gs_jw *j, const char *k, double value)
{
    key(j, k);
    if (isfinite(value))
        appendf(j, "%.9g", value);
    else
        append(j, "null", 4);
}

void gs_jw_int(gs_jw *j, const char *k, long long value)
{
    key(j, k);
    appendf(j, "%lld", value);
}

void gs_jw_bool(gs_jw *j, const char *k, int value)
{
    key(j, k);
    append(j, value ? "true" : "false", value ? 4 : 5);
}

char *gs_jw_take(gs_jw *j)
{
    append(j, "}", 1);
    if (j->failed) {
        free(j->buf);
        return NULL;
    }
    return j->buf;
}
