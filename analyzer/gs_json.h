/* gs_json.h — a small JSON reader for the run log's /config string.
 *
 * Parses RFC 8259 JSON into a tree of gs_json nodes.  The whole tree is owned by
 * the root returned from gs_json_parse() and released by gs_json_free(root); the
 * lookup functions return pointers into that tree (never free them).  Nesting is
 * limited to GS_JSON_MAX_DEPTH levels so hostile input cannot exhaust the stack.
 * Plain C11, no GLib; never exits.
 */
#ifndef GS_JSON_H
#define GS_JSON_H

#include <stddef.h>

#define GS_JSON_MAX_DEPTH 64

typedef enum gs_json_type {
    GS_JSON_NULL = 0,
    GS_JSON_BOOL,
    GS_JSON_NUMBER,
    GS_JSON_STRING,
    GS_JSON_ARRAY,
    GS_JSON_OBJECT,
} gs_json_type;

typedef struct gs_json gs_json;
struct gs_json {
    gs_json_type type;
    char        *key;     /* member name when the node is an object member, else NULL */
    double       number;  /* NUMBER; BOOL as 0 or 1 */
    char        *string;  /* STRING: unescaped UTF-8, NUL-terminated */
    gs_json    **items;   /* ARRAY elements / OBJECT members, in document order */
    size_t       n;       /* number of items */
};

/* Parse text (NUL-terminated).  Returns the root, or NULL with a one-line message in
 * err ("line 3: expected ':' after object key").  err may be NULL. */
gs_json *gs_json_parse(const char *text, char *err, size_t errsz);

/* Free a tree returned by gs_json_parse (NULL is fine). */
void gs_json_free(gs_json *root);

/* Member `key` of an object, or NULL (also when obj is NULL or not an object). */
const gs_json *gs_json_get(const gs_json *obj, const char *key);

/* Follow a dotted path of member names ("optimizer.lr"), or NULL. */
const gs_json *gs_json_path(const gs_json *root, const char *dotted);

/* The string of a STRING node, or fallback. */
const char *gs_json_str(const gs_json *j, const char *fallback);

/* The number of a NUMBER or BOOL node, or fallback. */
double gs_json_num(const gs_json *j, double fallback);

/* A short human rendering of any node into buf (always NUL-terminated, truncated to
 * bufsz): strings bare, numbers with %g, true/false/null, arrays and objects as
 * compact JSON.  Returns buf.  A NULL node renders as fallback. */
char *gs_json_format(const gs_json *j, const char *fallback, char *buf, size_t bufsz);

/* Compact canonical JSON of a node — object members sorted by key, numbers with %.17g —
 * so that equal values give equal strings.  Returns a malloc'd string the caller
 * frees with free(), or NULL when out of memory. */
char *gs_json_canonical(const gs_json *j);

#endif
