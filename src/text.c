/*
 * NAME
 *	text - escaping of mail-supplied text for terminals and JSON
 * SYNOPSIS
 *	#include "text.h"
 *
 *	char *text_escape(const char *s);
 *	void text_json_string(GString *out, const char *s);
 *	char *text_time_iso(gint64 t);
 * DESCRIPTION
 *	text_escape() returns a copy of s that is safe to print on a
 *	terminal: C0 controls, DEL, C1 controls and bytes that are not
 *	valid UTF-8 become \xNN (tab becomes \t, newline \n, backslash \\).
 *	Printable UTF-8 passes through.  NULL becomes "".  The caller frees
 *	the result with g_free().
 *
 *	text_json_string() appends s to out as a JSON string literal with
 *	the same rules: control characters become \u00NN, invalid UTF-8 is
 *	replaced by U+FFFD, so the output is always valid JSON.
 *
 *	text_time_iso() formats a Unix time as 2026-11-21T23:12:00Z.
 * SECURITY
 *	Subjects and addresses come from strangers; a raw ESC in a moderator's
 *	terminal can rewrite the screen or the title bar.
 */
#include "text.h"

#include <string.h>

/* text_escape - terminal-safe copy of s */
char *
text_escape(const char *s)
{
	GString *out = g_string_new(NULL);
	const char *p = s ? s : "";
	const char *end = p + strlen(p);

	while (p < end) {
		unsigned char c = (unsigned char) *p;
		gunichar u;
		const char *next;

		if (c == '\\') {
			g_string_append(out, "\\\\");
			p++;
			continue;
		}
		if (c == '\t' || c == '\n' || c == '\r') {
			g_string_append(out, c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r");
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			g_string_append_printf(out, "\\x%02x", c);
			p++;
			continue;
		}
		if (c < 0x80) {
			g_string_append_c(out, (char) c);
			p++;
			continue;
		}
		u = g_utf8_get_char_validated(p, end - p);
		if (u == (gunichar) -1 || u == (gunichar) -2
		    || (u >= 0x80 && u <= 0x9f) || u == 0x2028 || u == 0x2029
		    || (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069)) {
			/* invalid, C1 control, or a bidi override that reorders the line */
			if (u == (gunichar) -1 || u == (gunichar) -2) {
				g_string_append_printf(out, "\\x%02x", c);
				p++;
			} else {
				g_string_append_printf(out, "\\u%04x", (unsigned) u);
				p = g_utf8_next_char(p);
			}
			continue;
		}
		next = g_utf8_next_char(p);
		g_string_append_len(out, p, next - p);
		p = next;
	}
	return g_string_free(out, FALSE);
}

/* text_json_string - append s as a JSON string literal */
void
text_json_string(GString *out, const char *s)
{
	const char *p = s ? s : "";
	const char *end = p + strlen(p);

	g_string_append_c(out, '"');
	while (p < end) {
		unsigned char c = (unsigned char) *p;
		gunichar u;

		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char) c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			g_string_append_printf(out, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			g_string_append_c(out, (char) c);
			p++;
		} else if ((u = g_utf8_get_char_validated(p, end - p)) == (gunichar) -1
			   || u == (gunichar) -2) {
			g_string_append(out, "\\ufffd");
			p++;
		} else if (u <= 0x9f) {
			g_string_append_printf(out, "\\u%04x", (unsigned) u);
			p = g_utf8_next_char(p);
		} else {
			const char *next = g_utf8_next_char(p);

			g_string_append_len(out, p, next - p);
			p = next;
		}
	}
	g_string_append_c(out, '"');
}

/* text_time_iso - ISO 8601 UTC form of a Unix time */
char *
text_time_iso(gint64 t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	char *s;

	if (dt == NULL)
		return g_strdup("?");
	s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
	g_date_time_unref(dt);
	return s;
}
