/*
 * test_text - terminal and JSON escaping of mail-supplied text
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>

#include "text.h"

struct row { const char *in; const char *want; };

/* escape_terminal - nothing from mail can drive the terminal */
static void
escape_terminal(void **state)
{
	static const struct row rows[] = {
		{ "plain subject", "plain subject" },
		{ "Heap \x1b[31moverflow", "Heap \\x1b[31moverflow" },
		{ "title\x1b]0;pwned\x07", "title\\x1b]0;pwned\\x07" },
		{ "tab\there\nnewline\r", "tab\\there\\nnewline\\r" },
		{ "back\\slash", "back\\\\slash" },
		{ "del\x7f", "del\\x7f" },
		{ "déjà vu — ok", "déjà vu — ok" },
		{ "c1 \xc2\x9b" "31m", "c1 \\u009b31m" },
		{ "bidi \xe2\x80\xae" "evil", "bidi \\u202eevil" },
		{ "marks \xe2\x80\x8e" "l \xe2\x80\x8f" "r \xd8\x9c" "a", "marks \\u200el \\u200fr \\u061ca" },
		{ "bad \xff utf8", "bad \\xff utf8" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *got = text_escape(rows[i].in);

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("text_escape(%zu): got \"%s\", want \"%s\"", i, got, rows[i].want);
		g_free(got);
	}
	{
		char *got = text_escape(NULL);

		assert_string_equal(got, "");
		g_free(got);
	}
}

/* escape_json - always a valid JSON string literal */
static void
escape_json(void **state)
{
	static const struct row rows[] = {
		{ "plain", "\"plain\"" },
		{ "q\"uote\\", "\"q\\\"uote\\\\\"" },
		{ "esc\x1b[0m\n", "\"esc\\u001b[0m\\u000a\"" },
		{ "déjà", "\"déjà\"" },
		{ "bad \xff", "\"bad \\ufffd\"" },
		{ NULL, "\"\"" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		GString *s = g_string_new(NULL);

		text_json_string(s, rows[i].in);
		if (strcmp(s->str, rows[i].want) != 0)
			fail_msg("text_json_string(%zu): got %s, want %s", i, s->str, rows[i].want);
		g_string_free(s, TRUE);
	}
}

/* time_iso - UTC, second precision */
static void
time_iso(void **state)
{
	char *s = text_time_iso(0);

	assert_string_equal(s, "1970-01-01T00:00:00Z");
	g_free(s);
	s = text_time_iso(1795303259);
	assert_string_equal(s, "2026-11-21T23:20:59Z");
	g_free(s);
}

/* check_rows - fn on every row gives its want; names the row that does not */
static void
check_rows(const char *what, char *(*fn)(const char *), const struct row *rows, size_t n)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		char *got = fn(rows[i].in);

		if (strcmp(got, rows[i].want) != 0) {
			char *in = text_escape(rows[i].in), *g = text_escape(got), *w = text_escape(rows[i].want);

			print_error("%s(%zu) \"%s\": got \"%s\", want \"%s\"\n", what, i, in, g, w);
			g_free(in);
			g_free(g);
			g_free(w);
			bad++;
		}
		g_free(got);
	}
	if (bad)
		fail_msg("%s: %d of %zu rows wrong", what, bad, n);
}

/* escape_lines - a body keeps its lines and tabs; nothing else drives the terminal */
static void
escape_lines(void **state)
{
	static const struct row rows[] = {
		{ "one\ttwo\nthree\n", "one\ttwo\nthree\n" },
		{ "dos\r\nlines\r\n", "dos\nlines\n" },
		{ "Heap \x1b[31moverflow\n", "Heap \\x1b[31moverflow\n" },
		{ "lone\rcr", "lone\\rcr" },
		{ "cr\r\r\nend", "cr\\r\nend" },
		{ "end with cr\r", "end with cr\\r" },
		{ "bel\x07 del\x7f", "bel\\x07 del\\x7f" },
		{ "c1 \xc2\x85" "nel \xc2\x9b" "31m", "c1 \\u0085nel \\u009b31m" },
		{ "bidi \xe2\x80\xae" "evil\n", "bidi \\u202eevil\n" },
		{ "isolate \xe2\x81\xa6" "x", "isolate \\u2066x" },
		{ "rlm \xe2\x80\x8f" "x\n", "rlm \\u200fx\n" },
		{ "line sep \xe2\x80\xa8" "x", "line sep \\u2028x" },
		{ "back\\slash", "back\\\\slash" },
		{ "bad \xff utf8", "bad \\xff utf8" },
		{ "d\xc3\xa9j\xc3\xa0 vu \xe2\x80\x94 ok", "d\xc3\xa9j\xc3\xa0 vu \xe2\x80\x94 ok" },
		{ "", "" },
	};
	char *got;

	check_rows("text_escape_lines", text_escape_lines, rows, G_N_ELEMENTS(rows));
	got = text_escape_lines(NULL);
	assert_string_equal(got, "");
	g_free(got);
}

/* from_html - what a moderator reads of an HTML part */
static void
from_html(void **state)
{
	static const struct row rows[] = {
		/* tags go, text stays */
		{ "<p>Hello <b>world</b>, <a href=\"http://x/\">link</a></p>", "Hello world, link\n" },
		/* hidden elements go with their content, whatever the case or attributes */
		{ "<p>a</p><script>alert('x')</script><p>b</p>", "a\n\nb\n" },
		{ "a<SCRIPT type=x>alert(1)</SCRIPT>b", "ab\n" },
		{ "a<Script type=\"text/javascript\">var s = '<p>x</p>';</sCrIpT>b", "ab\n" },
		{ "a<style media=all>p { color: red }</style>b", "ab\n" },
		{ "<html><HEAD><title>T</title><meta charset=utf-8>stray head text</head><body>text</body></html>",
		  "text\n" },
		{ "a<script>never closed", "a\n" },
		/* line breaks and list items */
		{ "one<br>two<br/>three<BR />four", "one\ntwo\nthree\nfour\n" },
		{ "<p>first</p><p>second</p>", "first\n\nsecond\n" },
		{ "<ul><li>one</li><li>two</li></ul>", "* one\n* two\n" },
		/* entities */
		{ "a &amp; b &lt;c&gt; &quot;q&quot; &#39;s&#39; &#x41;&nbsp;z", "a & b <c> \"q\" 's' A z\n" },
		{ "&#X42;&#67;", "BC\n" },
		{ "&bogus; AT&T &", "&bogus; AT&T &\n" },
		{ "&#0;|&#xD800;|&#xdfff;|&#x110000;", "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\n" },
		{ "esc&#27;[31m", "esc\x1b[31m\n" },
		/* a numeric reference needs its digits */
		{ "&# 65;|&#x;|&#;", "&# 65;|&#x;|&#;\n" },
		/* comments */
		{ "a<!-- hidden <b>x</b> -->b", "ab\n" },
		{ "a<!-- never closed <p>b</p>", "a\n" },
		/* an unterminated tag ends the text */
		{ "text <a href=\"http://example.org/", "text\n" },
		/* a "<" that starts no tag is text, and so is what follows it */
		{ "text <", "text <\n" },
		{ "<p>if 1 < 2 then</p><p>more</p>", "if 1 < 2 then\n\nmore\n" },
		{ "a <= b, c<3", "a <= b, c<3\n" },
		/* blank lines */
		{ "<p>a</p><p></p><p> </p><br><br><br><div></div><p>b</p>", "a\n\nb\n" },
		{ "<br><br>\n\n<p>a</p>\n\n<br><br>", "a\n" },
		{ "  spaced \n\t out  ", "spaced out\n" },
		{ "", "" },
	};
	char *got;

	check_rows("text_from_html", text_from_html, rows, G_N_ELEMENTS(rows));
	got = text_from_html(NULL);
	assert_string_equal(got, "");
	g_free(got);
}

/* html_esc_escaped - an ESC from a character reference is escaped before the terminal */
static void
html_esc_escaped(void **state)
{
	char *text = text_from_html("<p>title&#27;]0;pwned&#x7;</p>");
	char *shown = text_escape_lines(text);

	assert_non_null(strchr(text, '\x1b'));		/* text_from_html decodes, it does not escape */
	assert_string_equal(shown, "title\\x1b]0;pwned\\x07\n");
	assert_null(strchr(shown, '\x1b'));
	assert_null(strchr(shown, '\x07'));
	g_free(text);
	g_free(shown);
}

/* join - none, one and several strings */
static void
join(void **state)
{
	GPtrArray *a = g_ptr_array_new();
	char *s;

	(void) state;
	s = text_join(a, ", ");
	assert_string_equal(s, "");
	g_free(s);
	g_ptr_array_add(a, "a@example.org");
	s = text_join(a, ", ");
	assert_string_equal(s, "a@example.org");
	g_free(s);
	g_ptr_array_add(a, "b@example.org");
	g_ptr_array_add(a, "c@example.org");
	s = text_join(a, ", ");
	assert_string_equal(s, "a@example.org, b@example.org, c@example.org");
	g_free(s);
	g_ptr_array_free(a, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_terminal),
		cmocka_unit_test(escape_json),
		cmocka_unit_test(time_iso),
		cmocka_unit_test(escape_lines),
		cmocka_unit_test(from_html),
		cmocka_unit_test(html_esc_escaped),
		cmocka_unit_test(join),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
