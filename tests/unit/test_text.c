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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_terminal),
		cmocka_unit_test(escape_json),
		cmocka_unit_test(time_iso),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
