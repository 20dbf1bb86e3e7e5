/* gs_json.c — see gs_json.h. A recursive-descent parser with a depth limit. */
#include "gs_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_parser {
    const char *p;      /* current position */
    const char *start;  /* for line numbers */
    char       *err;
    size_t      errsz;
    int         failed;
} json_parser;

static void json_fail(json_parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void json_fail(json_parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    if (!ps->err || ps->errsz == 0)
        return;
    int line = 1;
    for (const char *q = ps->start; q < ps->p && *q; q++)
        if (*q == '\n')
            line++;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errsz, "line %d: %s", line, msg);
}

static void json_skip_ws(json_parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static gs_json *json_node(gs_json_type type)
{
    gs_json *j = calloc(1, sizeof *j);
    if (j)
        j->type = type;
    return j;
}

void gs_json_free(gs_json *root)
{
    if (!root)
        return;
    for (size_t i = 0; i < root->n; i++)
        gs_json_free(root->items[i]);
    free(root->items);
    free(root->key);
    free(root->string);
    free(root);
}

static int json_push(json_parser *ps, gs_json *parent, gs_json *child, size_t *cap)
{
    if (parent->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        gs_json **items = realloc(parent->items, ncap * sizeof *items);
        if (!items) {
            json_fail(ps, "out of memory");
            return -1;
        }
        parent->items = items;
        *cap = ncap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

static void json_put_utf8(char *out, size_t *len, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*len)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*len)++] = (char)(0xC0 | (cp >> 6));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*len)++] = (char)(0xE0 | (cp >> 12));
        out[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*len)++] = (char)(0xF0 | (cp >> 18));
        out[(*len)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int json_hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string literal at ps->p (which points at '"'); returns malloc'd text. */
static char *json_parse_string(json_parser *ps)
{
    const char *q = ps->p + 1;
    size_t raw = 0;
    while (q[raw] && q[raw] != '"') {
        if (q[raw] == '\\' && q[raw + 1])
            raw++;
        raw++;
    }
    if (q[raw] != '"') {
        json_fail(ps, "unterminated string");
        return NULL;
    }
    /* the unescaped text is never longer than the raw text (\uXXXX → ≤ 4 bytes) */
    char *out = malloc(raw + 1);
    if (!out) {
        json_fail(ps, "out of memory");
        return NULL;
    }
    size_t len = 0;
    while (*q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) {
            ps->p = q;
            json_fail(ps, "control character in string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            out[len++] = (char)c;
            q++;
            continue;
        }
        q++;
        switch (*q) {
        case '"':  out[len++] = '"';  q++; break;
        case '\\': out[len++] = '\\'; q++; break;
        case '/':  out[len++] = '/';  q++; break;
        case 'b':  out[len++] = '\b'; q++; break;
        case 'f':  out[len++] = '\f'; q++; break;
        case 'n':  out[len++] = '\n'; q++; break;
        case 'r':  out[len++] = '\r'; q++; break;
        case 't':  out[len++] = '\t'; q++; break;
        case 'u': {
            uint32_t cp = 0, lo = 0;
            if (json_hex4(q + 1, &cp) != 0) {
                ps->p = q;
                json_fail(ps, "bad \\u escape");
                free(out);
                return NULL;
            }
            q += 5;
            if (cp >= 0xD800 && cp < 0xDC00 && q[0] == '\\' && q[1] == 'u' &&
                json_hex4(q + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            json_put_utf8(out, &len, cp);
            break;
        }
        default:
            ps->p = q;
            json_fail(ps, "bad escape in string");
            free(out);
            return NULL;
        }
    }
    out[len] = '\0';
    ps->p = q + 1;
    return out;
}

static gs_json *json_parse_value(json_parser *ps, int depth);

static gs_json *json_parse_container(json_parser *ps, int depth, int is_object)
{
    gs_json *node = json_node(is_object ? GS_JSON_OBJECT : GS_JSON_ARRAY);
    size_t cap = 0;
    if (!node) {
        json_fail(ps, "out of memory");
        return NULL;
    }
    char close = is_object ? '}' : ']';
    ps->p++;
    json_skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        return node;
    }
    for (;;) {
        char *key = NULL;
        json_skip_ws(ps);
        if (is_object) {
            if (*ps->p != '"') {
                json_fail(ps, "expected a string key in object");
                goto fail;
            }
            key = json_parse_string(ps);
            if (!key)
                goto fail;
            json_skip_ws(ps);
            if (*ps->p != ':') {
                free(key);
                json_fail(ps, "expected ':' after object key");
                goto fail;
            }
            ps->p++;
        }
        gs_json *child = json_parse_value(ps, depth + 1);
        if (!child) {
            free(key);
            goto fail;
        }
        child->key = key;
        if (json_push(ps, node, child, &cap) != 0) {
            gs_json_free(child);
            goto fail;
        }
        json_skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return node;
        }
        json_fail(ps, is_object ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
        goto fail;
    }
fail:
    gs_json_free(node);
    return NULL;
}

static gs_json *json_parse_value(json_parser *ps, int depth)
{
    if (depth > GS_JSON_MAX_DEPTH) {
        json_fail(ps, "nesting deeper than %d levels", GS_JSON_MAX_DEPTH);
        return NULL;
    }
    json_skip_ws(ps);
    const char *p = ps->p;
    if (*p == '{' || *p == '[')
        return json_parse_container(ps, depth, *p == '{');
    if (*p == '"') {
        char *s = json_parse_string(ps);
        if (!s)
            return NULL;
        gs_json *j = json_node(GS_JSON_STRING);
        if (!j) {
            free(s);
            json_fail(ps, "out of memory");
            return NULL;
        }
        j->string = s;
        return j;
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        gs_json *j = json_node(GS_JSON_BOOL);
        if (!j) {
            json_fail(ps, "out of memory");
            return NULL;
        }
        j->number = (*p == 't');
        ps->p += (*p == 't') ? 4 : 5;
        return j;
    }
    if (strncmp(p, "null", 4) == 0) {
        ps->p += 4;
        gs_json *j = json_node(GS_JSON_NULL);
        if (!j)
            json_fail(ps, "out of memory");
        return j;
    }
    if (*p == '-' || isdigit((unsigned char)*p)) {
        /* validate the JSON number grammar, then convert with strtod */
        const char *q = p;
        if (*q == '-')
            q++;
        if (!isdigit((unsigned char)*q)) {
            json_fail(ps, "bad number");
            return NULL;
        }
        while (isdigit((unsigned char)*q))
            q++;
        if (*q == '.') {
            q++;
            if (!isdigit((unsigned char)*q)) {
                json_fail(ps, "bad number");
                return NULL;
            }
            while (isdigit((unsigned char)*q))
                q++;
        }
        if (*q == 'e' || *q == 'E') {
            q++;
            if (*q == '+' || *q == '-')
                q++;
            if (!isdigit((unsigned char)*q)) {
                json_fail(ps, "bad number");
                return NULL;
            }
            while (isdigit((unsigned char)*q))
                q++;
        }
        gs_json *j = json_node(GS_JSON_NUMBER);
        if (!j) {
            json_fail(ps, "out of memory");
            return NULL;
        }
        j->number = strtod(p, NULL);
        ps->p = q;
        return j;
    }
    if (*p)
        json_fail(ps, "unexpected character '%c'", *p);
    else
        json_fail(ps, "unexpected end of text");
    return NULL;
}

gs_json *gs_json_parse(const char *text, char *err, size_t errsz)
{
    json_parser ps = { .p = text, .start = text, .err = err, .errsz = errsz, .failed = 0 };
    if (err && errsz)
        err[0] = '\0';
    if (!text) {
        json_fail(&ps, "no text");
        return NULL;
    }
    gs_json *root = json_parse_value(&ps, 0);
    if (!root)
        return NULL;
    json_skip_ws(&ps);
    if (*ps.p != '\0') {
        json_fail(&ps, "trailing characters after the JSON value");
        gs_json_free(root);
        return NULL;
    }
    return root;
}

const gs_json *gs_json_get(const gs_json *obj, const char *key)
{
    if (!obj || obj->type != GS_JSON_OBJECT || !key)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->items[i]->key && strcmp(obj->items[i]->key, key) == 0)
            return obj->items[i];
    return NULL;
}

const gs_json *gs_json_path(const gs_json *root, const char *dotted)
{
    char part[128];
    const gs_json *j = root;
    const char *p = dotted;
    while (j && p && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof part)
            return NULL;
        memcpy(part, p, len);
        part[len] = '\0';
        j = gs_json_get(j, part);
        p = dot ? dot + 1 : NULL;
    }
    return j;
}

const char *gs_json_str(const gs_json *j, const char *fallback)
{
    return (j && j->type == GS_JSON_STRING) ? j->string : fallback;
}

double gs_json_num(const gs_json *j, double fallback)
{
    return (j && (j->type == GS_JSON_NUMBER || j->type == GS_JSON_BOOL)) ? j->number : fallback;
}

/* ---- writing --------------------------------------------------------------------- */

typedef struct json_buf {
    char  *s;
    size_t len, cap;
    int    oom;
} json_buf;

static void jb_put(json_buf *b, const char *text, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *s = realloc(b->s, ncap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void jb_puts(json_buf *b, const char *text)
{
    jb_put(b, text, strlen(text));
}

static void jb_string(json_buf *b, const char *s)
{
    jb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            jb_put(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            jb_puts(b, esc);
        } else {
            jb_put(b, (const char *)p, 1);
        }
    }
    jb_put(b, "\"", 1);
}

static int json_cmp_key(const void *a, const void *b)
{
    const gs_json *x = *(const gs_json *const *)a;
    const gs_json *y = *(const gs_json *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static void jb_value(json_buf *b, const gs_json *j, int sorted)
{
    char num[40];
    switch (j->type) {
    case GS_JSON_NULL:
        jb_puts(b, "null");
        break;
    case GS_JSON_BOOL:
        jb_puts(b, j->number != 0.0 ? "true" : "false");
        break;
    case GS_JSON_NUMBER:
        snprintf(num, sizeof num, sorted ? "%.17g" : "%g", j->number);
        jb_puts(b, num);
        break;
    case GS_JSON_STRING:
        jb_string(b, j->string);
        break;
    case GS_JSON_ARRAY:
        jb_put(b, "[", 1);
        for (size_t i = 0; i < j->n; i++) {
            if (i)
                jb_put(b, ",", 1);
            jb_value(b, j->items[i], sorted);
        }
        jb_put(b, "]", 1);
        break;
    case GS_JSON_OBJECT: {
        const gs_json **items = NULL;
        if (j->n) {
            items = malloc(j->n * sizeof *items);
            if (!items) {
                b->oom = 1;
                return;
            }
            memcpy(items, j->items, j->n * sizeof *items);
            if (sorted)
                qsort(items, j->n, sizeof *items, json_cmp_key);
        }
        jb_put(b, "{", 1);
        for (size_t i = 0; i < j->n; i++) {
            if (i)
                jb_put(b, ",", 1);
            jb_string(b, items[i]->key ? items[i]->key : "");
            jb_put(b, ":", 1);
            jb_value(b, items[i], sorted);
        }
        jb_put(b, "}", 1);
        free(items);
        break;
    }
    }
}

char *gs_json_canonical(const gs_json *j)
{
    json_buf b = { 0 };
    if (!j)
        jb_puts(&b, "null");
    else
        jb_value(&b, j, 1);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *gs_json_format(const gs_json *j, const char *fallback, char *buf, size_t bufsz)
{
    if (!buf || bufsz == 0)
        return buf;
    if (!j) {
        snprintf(buf, bufsz, "%s", fallback ? fallback : "");
        return buf;
    }
    if (j->type == GS_JSON_STRING) {
        snprintf(buf, bufsz, "%s", j->string);
        return buf;
    }
    json_buf b = { 0 };
    jb_value(&b, j, 0);
    snprintf(buf, bufsz, "%s", (b.oom || !b.s) ? (fallback ? fallback : "") : b.s);
    free(b.s);
    return buf;
}
