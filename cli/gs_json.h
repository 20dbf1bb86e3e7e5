/* gs_json.h — a tiny JSON writer for the run configuration (no parsing).
 * The builder owns a growing buffer; gs_json_take hands it to the caller (free()). */
#ifndef GS_JSON_H
#define GS_JSON_H

#include <stddef.h>

typedef struct gs_json {
    char  *buf;
    size_t len, cap;
    int    need_comma;
    int    failed;          /* out of memory at some point */
} gs_json;

void  gs_json_begin(gs_json *j);                       /* "{"                     */
void  gs_json_object(gs_json *j, const char *key);     /* "key": {   (key may be NULL) */
void  gs_json_end_object(gs_json *j);                  /* }                       */
void  gs_json_array(gs_json *j, const char *key);      /* "key": [                */
void  gs_json_end_array(gs_json *j);                   /* ]                       */
void  gs_json_str(gs_json *j, const char *key, const char *value);   /* NULL → null */
void  gs_json_num(gs_json *j, const char *key, double value);        /* non-finite → null */
void  gs_json_int(gs_json *j, const char *key, long long value);
void  gs_json_bool(gs_json *j, const char *key, int value);
/* Closes the outer object and returns the text (caller frees), NULL if out of memory. */
char *gs_json_take(gs_json *j);

#endif
