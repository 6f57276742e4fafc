/*
 * text.h - escaping of mail-supplied text for terminals and JSON
 */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <glib.h>

char *text_escape(const char *s);
char *text_escape_lines(const char *s);
char *text_from_html(const char *html);
void text_json_string(GString *out, const char *s);
char *text_time_iso(gint64 t);
char *text_age(gint64 then, gint64 now);
char *text_join(const GPtrArray *a, const char *sep);

#endif
