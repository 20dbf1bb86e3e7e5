/* gs_jw.h — a tiny JSON writer for the run configuration (no parsing).
 * The builder owns a growing buffer; gs_jw_take hands it to the caller (free()). */
#ifndef GS_JSON_WRITER_H
#define GS_JSON_WRITER_H

#include <stddef.h>

typedef struct gs_jw {
    char  *buf;
    size_t len, cap;
    int    need_comma;
    int    failed;          /* out of memory at some point */
} gs_jw;

void  gs_jw_begin(gs_jw *j);                       /* "{"                     */
void  gs_jw_object(gs_jw *j, const char *key);     /* "key": {   (key may be NULL) */
void  gs_jw_end_object(gs_jw *j);                  /* }                       */
void  gs_jw_array(gs_jw *j, const char *key);      /* "key": [                */
void  gs_jw_end_array(gs_jw *j);                   /* ]                       */
void  gs_jw_str(gs_jw *j, const char *key, const char *value);   /* NULL → null */
void  gs_jw_num(gs_jw *j, const char *key, double value);        /* non-finite → null */
void  gs_jw_int(gs_jw *j, const char *key, long long value);
void  gs_jw_bool(gs_jw *j, const char *key, int value);
/* Closes the outer object and returns the text (caller frees), NULL if out of memory. */
char *gs_jw_take(gs_jw *j);

#endif
