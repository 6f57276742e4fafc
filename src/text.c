/*
 * NAME
 *	text - escaping of mail-supplied text for terminals and JSON
 * SYNOPSIS
 *	#include "text.h"
 *
 *	char *text_escape(const char *s);
 *	char *text_escape_lines(const char *s);
 *	char *text_from_html(const char *html);
 *	void text_json_string(GString *out, const char *s);
 *	char *text_time_iso(gint64 t);
 *	char *text_age(gint64 then, gint64 now);
 *	char *text_join(const GPtrArray *strings, const char *sep);
 * DESCRIPTION
 *	text_escape() returns a copy of s that is safe to print on a
 *	terminal: C0 controls, DEL and bytes that are not valid UTF-8
 *	become \xNN (tab becomes \t, newline \n, backslash \\);
 *	C1 controls, the line and paragraph separators and the Unicode
 *	bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 *	U+2066-U+2069) become \uNNNN.
 *	Printable UTF-8 passes through.  NULL becomes "".  The caller frees
 *	the result with g_free().  text_escape_lines() is the same for a
 *	text of several lines: newline and tab pass through, a CR before a
 *	newline is dropped.
 *
 *	text_from_html() reduces HTML to its text for reading: tags go,
 *	script and style elements go with their content, block elements
 *	and <br> end lines, the common entities and numeric character
 *	references are decoded, runs of blank lines shrink to one.  It is
 *	for a moderator's eyes, not a renderer: the result still goes
 *	through text_escape_lines() before it reaches a terminal.
 *
 *	text_json_string() appends s to out as a JSON string literal with
 *	the same rules: control characters become \u00NN, invalid UTF-8 is
 *	replaced by U+FFFD, so the output is always valid JSON.
 *
 *	text_time_iso() formats a Unix time as 2026-11-21T23:12:00Z;
 *	text_age() says how long ago a time was: 5m, 30h, 3d.
 *
 *	text_join() joins an array of strings with sep ("" for none).
 * SECURITY
 *	Subjects and addresses come from strangers; a raw ESC in a moderator's
 *	terminal can rewrite the screen or the title bar.
 */
#include "text.h"

#include <stdbool.h>
#include <string.h>

/*
 * bidi_control - a Unicode Bidi_Control character: the embeddings and
 * overrides, the isolates, and the marks (LRM, RLM, ALM), which reorder
 * what surrounds them as well
 */
static bool
bidi_control(gunichar u)
{
	return u == 0x061c || u == 0x200e || u == 0x200f || (u >= 0x202a && u <= 0x202e)
		|| (u >= 0x2066 && u <= 0x2069);
}

/* escape - terminal-safe copy of s; lines: newline and tab pass, CR goes */
static char *
escape(const char *s, bool lines)
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
		if (lines && (c == '\t' || c == '\n')) {
			g_string_append_c(out, (char) c);
			p++;
			continue;
		}
		if (lines && c == '\r' && p[1] == '\n') {
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
		    || (u >= 0x80 && u <= 0x9f) || u == 0x2028 || u == 0x2029 || bidi_control(u)) {
			/* invalid, C1 control, or a bidi control that reorders the line */
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

/* text_escape - terminal-safe copy of s, on one line */
char *
text_escape(const char *s)
{
	return escape(s, false);
}

/* text_escape_lines - terminal-safe copy of a text of several lines */
char *
text_escape_lines(const char *s)
{
	return escape(s, true);
}

/* tag_name - the element name of the tag at p ("<name" or "</name"), its length */
static size_t
tag_name(const char *p, const char **name)
{
	size_t n = 0;

	p += p[1] == '/' ? 2 : 1;
	*name = p;
	while (g_ascii_isalnum(p[n]))
		n++;
	return n;
}

/* name_in - is the n bytes at name, any case, one of the words in list */
static bool
name_in(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && g_ascii_strncasecmp(name, *list, n) == 0)
			return true;
	return false;
}

/* skip_element - past the end tag of the element whose name is at name */
static const char *
skip_element(const char *p, const char *name, size_t n)
{
	for (; (p = strchr(p, '<')) != NULL; p++)
		if (p[1] == '/' && g_ascii_strncasecmp(p + 2, name, n) == 0 && !g_ascii_isalnum(p[2 + n])) {
			const char *e = strchr(p, '>');

			return e ? e + 1 : p + strlen(p);
		}
	return name + strlen(name);
}

/* entity - decode the reference at p ("&...;") into out; returns its end */
static const char *
entity(const char *p, GString *out)
{
	static const struct {
		const char *name;
		const char *text;
	} named[] = {
		{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
		{ "apos", "'" }, { "nbsp", " " },
	};
	const char *semi = strchr(p, ';');
	size_t i;

	if (semi == NULL || semi - p > 12) {
		g_string_append_c(out, '&');
		return p + 1;
	}
	if (p[1] == '#') {
		bool hex = p[2] == 'x' || p[2] == 'X';
		const char *digits = p + (hex ? 3 : 2);
		char *end = NULL;
		guint64 v = 0;

		if (hex ? g_ascii_isxdigit(*digits) : g_ascii_isdigit(*digits))
			v = g_ascii_strtoull(digits, &end, hex ? 16 : 10);
		if (end != semi) {
			g_string_append_c(out, '&');
			return p + 1;
		}
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		g_string_append_unichar(out, (gunichar) v);
		return semi + 1;
	}
	for (i = 0; i < G_N_ELEMENTS(named); i++)
		if ((size_t) (semi - p - 1) == strlen(named[i].name)
		    && strncmp(p + 1, named[i].name, semi - p - 1) == 0) {
			g_string_append(out, named[i].text);
			return semi + 1;
		}
	g_string_append_c(out, '&');
	return p + 1;
}

/* tidy - strip blanks at line ends and starts, at most one empty line in a row */
static char *
tidy(const char *s)
{
	GString *out = g_string_new(NULL);
	char **lines = g_strsplit(s, "\n", -1);
	int blank = 1;
	int i;

	for (i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);

		if (*l == '\0') {
			if (!blank)
				g_string_append_c(out, '\n');
			blank = 1;
			continue;
		}
		g_string_append(out, l);
		g_string_append_c(out, '\n');
		blank = 0;
	}
	g_strfreev(lines);
	while (out->len >= 2 && out->str[out->len - 1] == '\n' && out->str[out->len - 2] == '\n')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/* text_from_html - the readable text of an HTML document */
char *
text_from_html(const char *html)
{
	static const char *const hidden[] = { "script", "style", "head", "title", NULL };
	static const char *const blocks[] = {
		"br", "p", "div", "tr", "table", "ul", "ol", "blockquote", "pre", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "body", NULL
	};
	static const char *const items[] = { "li", NULL };
	GString *out = g_string_new(NULL);
	const char *p = html ? html : "";
	char *text;

	while (*p) {
		const char *name, *e;
		size_t n;

		if (*p == '&') {
			p = entity(p, out);
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			if (out->len && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
				g_string_append_c(out, ' ');
			p++;
			continue;
		}
		/* a tag starts with a name, "/", "!" or "?": "1 < 2" is text */
		if (*p != '<' || !(g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?')) {
			g_string_append_c(out, *p++);
			continue;
		}
		if (strncmp(p, "<!--", 4) == 0) {
			e = strstr(p + 4, "-->");
			p = e ? e + 3 : p + strlen(p);
			continue;
		}
		if ((e = strchr(p, '>')) == NULL)
			break;			/* an unterminated tag ends the text */
		n = tag_name(p, &name);
		if (p[1] != '/' && name_in(name, n, hidden)) {
			p = skip_element(e + 1, name, n);
			continue;
		}
		if (name_in(name, n, blocks))
			g_string_append_c(out, '\n');
		else if (p[1] != '/' && name_in(name, n, items))
			g_string_append(out, "\n* ");
		p = e + 1;
	}
	text = tidy(out->str);
	g_string_free(out, TRUE);
	return text;
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

/* text_age - how long ago, in the largest whole unit: 5m, 30h, 3d */
char *
text_age(gint64 then, gint64 now)
{
	gint64 d = MAX(now - then, 0);

	if (d < 3600)
		return g_strdup_printf("%" G_GINT64_FORMAT "m", d / 60);
	if (d < 48 * 3600)
		return g_strdup_printf("%" G_GINT64_FORMAT "h", d / 3600);
	return g_strdup_printf("%" G_GINT64_FORMAT "d", d / 86400);
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

/* text_join - the strings of a joined with sep */
char *
text_join(const GPtrArray *a, const char *sep)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < a->len; i++)
		g_string_append_printf(s, "%s%s", i ? sep : "", (const char *) g_ptr_array_index(a, i));
	return g_string_free(s, FALSE);
}
