/*
 * test_header - header fields of raw message bytes: read, found, and
 * changed without touching any other byte
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <glib.h>

#include "header.h"

/* a header block with folding, two Received, a prefix name, a body */
static const char msg[] =
	"Received: from a.example.net by mx.example.org; Mon, 1 Jan 2029 10:00:02 +0000\n"
	"Received: from b.example.net\n\tby a.example.net; Mon, 1 Jan 2029 10:00:01 +0000\n"
	"Received: from c.example.net by b.example.net; Mon, 1 Jan 2029 10:00:00 +0000\n"
	"Cc-Foo: not a cc\n"
	"From: Alice <alice@example.net>\n"
	"Subject: a long\n subject\n\tfolded twice  \n"
	"Cc: bob@example.org\n"
	"\n"
	"Subject: not a header\n"
	"body\n";

struct value_row {
	const char *name;
	const char *raw;
	const char *field;
	const char *want;	/* NULL: not found */
};

/* value_rows - header_value() and header_has() */
static void
value_rows(void **state)
{
	static const struct value_row rows[] = {
		{ "first of two", "A: one\nA: two\n\n", "A", "one" },
		{ "name in any case", "sUbJeCt: hi\n\n", "Subject", "hi" },
		{ "asked in any case", "Subject: hi\n\n", "SUBJECT", "hi" },
		{ "blanks after the colon dropped", "A:  \t x y\n\n", "A", "x y" },
		{ "no blank after the colon", "A:x\n\n", "A", "x" },
		{ "trailing blanks dropped", "A: x \t\n\n", "A", "x" },
		{ "blanks before the colon", "A \t: x\n\n", "A", "x" },
		{ "empty value", "A:\nB: b\n\n", "A", "" },
		{ "folded, LF", "A: one\n two\n\tthree\nB: b\n\n", "A", "one two\tthree" },
		{ "folded, CRLF", "A: one\r\n two\r\n\tthree\r\nB: b\r\n\r\n", "A", "one two\tthree" },
		{ "CRLF, later field", "X: 1\r\nA: v\r\n\r\nA: body\r\n", "A", "v" },
		{ "last field without a line end", "X: 1\nA: v", "A", "v" },
		{ "body is not looked at", "X: 1\n\nA: v\n", "A", NULL },
		{ "body is not looked at, CRLF", "X: 1\r\n\r\nA: v\r\n", "A", NULL },
		{ "no header block", "\nA: v\n", "A", NULL },
		{ "no header block, CRLF", "\r\nA: v\r\n", "A", NULL },
		{ "empty message", "", "A", NULL },
		{ "a name that is a prefix of another", "Cc-Foo: no\nCc: yes\n\n", "Cc", "yes" },
		{ "a name longer than the field's", "Cc: no\n\n", "Cc-Foo", NULL },
		{ "a line without a colon is no field", "Subject\nSubject: real\n\n", "Subject", "real" },
		{ "a line without a colon is not the name", "From alice Mon Jan  1\nA: v\n\n", "From", NULL },
		{ "continuation of a colon-less line", "junk\n Subject: x\nA: v\n\n", "Subject", NULL },
		{ "folded twice, from msg", msg, "Subject", "a long subject\tfolded twice" },
		{ "2nd field is not seen", msg, "Received",
		  "from a.example.net by mx.example.org; Mon, 1 Jan 2029 10:00:02 +0000" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *got = header_value(rows[i].raw, strlen(rows[i].raw), rows[i].field);
		gboolean has = header_has(rows[i].raw, strlen(rows[i].raw), rows[i].field);

		if ((got == NULL) != (rows[i].want == NULL) || (got && strcmp(got, rows[i].want) != 0))
			fail_msg("%s: header_value(%s) got %s%s%s, want %s%s%s", rows[i].name, rows[i].field,
				 got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
				 rows[i].want ? "\"" : "", rows[i].want ? rows[i].want : "NULL",
				 rows[i].want ? "\"" : "");
		if (has != (rows[i].want != NULL))
			fail_msg("%s: header_has(%s) got %d", rows[i].name, rows[i].field, has);
		g_free(got);
	}
}

/*
 * colonless_last_line - a last line without colon or line end is not a
 * field called like its text
 */
static void
colonless_last_line(void **state)
{
	char *got = header_value("X: 1\nSubject", 12, "Subject");

	assert_null(got);
}

/*
 * fold_after_colon - a value folded right after the colon has no leading
 * blank: "Subject:\n word" is "word", so a tag is added as "[Sec] word"
 */
static void
fold_after_colon(void **state)
{
	static const char raw[] = "Subject:\n Heap\n overflow\n\n";
	char *got = header_value(raw, sizeof raw - 1, "Subject");

	assert_string_equal(got, "Heap overflow");
	g_free(got);
}

struct end_row {
	const char *name;
	const char *raw;
	size_t want;
};

/* end_rows - header_end() */
static void
end_rows(void **state)
{
	static const struct end_row rows[] = {
		{ "LF", "A: b\n\nbody\n", 5 },
		{ "CRLF", "A: b\r\n\r\nbody\r\n", 6 },
		{ "folded", "A: b\n c\nD: e\n\nbody\n", 13 },
		{ "no empty line", "A: b\nC: d\n", 10 },
		{ "no line end at all", "A: b", 4 },
		{ "starts with an empty line", "\nA: b\n", 0 },
		{ "starts with an empty CRLF line", "\r\nA: b\r\n", 0 },
		{ "empty", "", 0 },
		{ "a lone CR is not a line end", "A: b\r\rC\n\nx", 8 },
		{ "msg", msg, sizeof msg - 1 - strlen("\nSubject: not a header\nbody\n") },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		size_t got = header_end(rows[i].raw, strlen(rows[i].raw));

		if (got != rows[i].want)
			fail_msg("%s: got %zu, want %zu", rows[i].name, got, rows[i].want);
	}
}

/* apply - header_apply() of edits given as name, index, value triples (NULL name ends) */
static char *
apply(const char *raw, size_t len, const struct header_edit *e)
{
	GPtrArray *edits = header_edits_new();
	GString *out;

	for (; e->name; e++)
		header_edit_add(edits, e->name, e->index, e->value);
	out = header_apply(raw, len, edits);
	g_ptr_array_free(edits, TRUE);
	return g_string_free(out, FALSE);
}

struct apply_row {
	const char *name;
	const char *raw;
	struct header_edit edits[5];
	const char *want;
};

#define END { NULL, 0, NULL }

/* apply_rows - header_apply(): every byte but the edited fields stays */
static void
apply_rows(void **state)
{
	static const struct apply_row rows[] = {
		{ "no edits: the same bytes", msg, { END }, msg },
		{ "inserts on top, in order",
		  "From: a@example.net\n\nbody\n",
		  { { "List-Id", 0, "x" }, { "Precedence", 0, "list" }, { "X-Loop", 0, "l@example.org" }, END },
		  "List-Id: x\nPrecedence: list\nX-Loop: l@example.org\nFrom: a@example.net\n\nbody\n" },
		{ "replace the 2nd Received",
		  msg, { { "Received", 2, "new" }, END },
		  "Received: from a.example.net by mx.example.org; Mon, 1 Jan 2029 10:00:02 +0000\n"
		  "Received: new\n"
		  "Received: from c.example.net by b.example.net; Mon, 1 Jan 2029 10:00:00 +0000\n"
		  "Cc-Foo: not a cc\nFrom: Alice <alice@example.net>\n"
		  "Subject: a long\n subject\n\tfolded twice  \nCc: bob@example.org\n\n"
		  "Subject: not a header\nbody\n" },
		{ "delete the 3rd Received, replace the 1st, any case",
		  msg, { { "received", 3, NULL }, { "RECEIVED", 1, "first" }, END },
		  "RECEIVED: first\n"
		  "Received: from b.example.net\n\tby a.example.net; Mon, 1 Jan 2029 10:00:01 +0000\n"
		  "Cc-Foo: not a cc\nFrom: Alice <alice@example.net>\n"
		  "Subject: a long\n subject\n\tfolded twice  \nCc: bob@example.org\n\n"
		  "Subject: not a header\nbody\n" },
		{ "replace a folded field, the body's look-alike untouched",
		  msg, { { "Subject", 1, "[Sec] short" }, END },
		  "Received: from a.example.net by mx.example.org; Mon, 1 Jan 2029 10:00:02 +0000\n"
		  "Received: from b.example.net\n\tby a.example.net; Mon, 1 Jan 2029 10:00:01 +0000\n"
		  "Received: from c.example.net by b.example.net; Mon, 1 Jan 2029 10:00:00 +0000\n"
		  "Cc-Foo: not a cc\nFrom: Alice <alice@example.net>\n"
		  "Subject: [Sec] short\nCc: bob@example.org\n\n"
		  "Subject: not a header\nbody\n" },
		{ "Cc is not Cc-Foo",
		  msg, { { "Cc", 1, "bob@example.org, rep@example.net" }, END },
		  "Received: from a.example.net by mx.example.org; Mon, 1 Jan 2029 10:00:02 +0000\n"
		  "Received: from b.example.net\n\tby a.example.net; Mon, 1 Jan 2029 10:00:01 +0000\n"
		  "Received: from c.example.net by b.example.net; Mon, 1 Jan 2029 10:00:00 +0000\n"
		  "Cc-Foo: not a cc\nFrom: Alice <alice@example.net>\n"
		  "Subject: a long\n subject\n\tfolded twice  \nCc: bob@example.org, rep@example.net\n\n"
		  "Subject: not a header\nbody\n" },
		{ "Cc-Foo is not Cc",
		  "Cc: a@example.net\nCc-Foo: x\n\n", { { "Cc-Foo", 1, NULL }, END },
		  "Cc: a@example.net\n\n" },
		{ "an index past the last field changes nothing",
		  msg, { { "Received", 4, "x" }, { "Sender", 1, "s@example.org" }, END }, msg },
		{ "insert, replace and delete together",
		  "Sender: a@example.net\nFrom: a@example.net\nX-Old: 1\n\nbody\n",
		  { { "List-Id", 0, "x" }, { "Sender", 1, "b@example.org" }, { "X-Old", 1, NULL }, END },
		  "List-Id: x\nSender: b@example.org\nFrom: a@example.net\n\nbody\n" },
		{ "message starting with an empty line: insert above it",
		  "\nFrom: looks like a header\n\nbody\n", { { "X-Loop", 0, "l@example.org" }, END },
		  "X-Loop: l@example.org\n\nFrom: looks like a header\n\nbody\n" },
		{ "message starting with an empty line: nothing to replace",
		  "\nFrom: looks like a header\n", { { "From", 1, "x" }, END },
		  "\nFrom: looks like a header\n" },
		{ "headers only, no line end: replaced with one",
		  "A: 1\nB: 2", { { "B", 1, "3" }, END }, "A: 1\nB: 3\n" },
		{ "empty message", "", { { "A", 0, "1" }, END }, "A: 1\n" },
		{ "a colon-less line is kept", "junk line\nA: 1\n\nb", { { "A", 1, "2" }, END },
		  "junk line\nA: 2\n\nb" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *got = apply(rows[i].raw, strlen(rows[i].raw), rows[i].edits);

		if (strcmp(got, rows[i].want) != 0) {
			char *g = g_strescape(got, NULL), *w = g_strescape(rows[i].want, NULL);

			print_error("%s:\n got  \"%s\"\n want \"%s\"\n", rows[i].name, g, w);
			g_free(g);
			g_free(w);
			g_free(got);
			fail_msg("%s: output differs", rows[i].name);
		}
		g_free(got);
	}
}

/*
 * crlf_bytes - on CRLF input every original byte, the CRs and a NUL in
 * the body included, stays; new and replaced fields end in LF (the
 * caller makes every line end CRLF)
 */
static void
crlf_bytes(void **state)
{
	static const char in[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n\th=from:subject; b=abc\r\n"
		"Sender: old@example.net\r\nFrom: a@example.net\r\n\r\nbody\r\n\0 nul\rcr\r\n";
	static const char head[] = "List-Id: x\n";
	static const char sender[] = "Sender: new@example.org\n";
	size_t dkim = strlen("DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n\th=from:subject; b=abc\r\n");
	size_t old = strlen("Sender: old@example.net\r\n");
	const struct header_edit e[] = { { "List-Id", 0, "x" }, { "Sender", 1, "new@example.org" }, END };
	GPtrArray *edits = header_edits_new();
	GString *out;
	size_t i;

	for (i = 0; e[i].name; i++)
		header_edit_add(edits, e[i].name, e[i].index, e[i].value);
	out = header_apply(in, sizeof in - 1, edits);
	assert_int_equal(out->len, sizeof in - 1 + strlen(head) + strlen(sender) - old);
	assert_memory_equal(out->str, head, strlen(head));
	assert_memory_equal(out->str + strlen(head), in, dkim);
	assert_memory_equal(out->str + strlen(head) + dkim, sender, strlen(sender));
	assert_memory_equal(out->str + strlen(head) + dkim + strlen(sender), in + dkim + old,
			    sizeof in - 1 - dkim - old);
	g_string_free(out, TRUE);
	g_ptr_array_free(edits, TRUE);
}

/* edits_list - header_edit_add() copies its arguments */
static void
edits_list(void **state)
{
	GPtrArray *edits = header_edits_new();
	char name[] = "Cc", value[] = "a@example.net";
	const struct header_edit *e;

	header_edit_add(edits, name, 2, value);
	header_edit_add(edits, "X", 1, NULL);
	name[0] = 'X';
	value[0] = 'X';
	e = g_ptr_array_index(edits, 0);
	assert_string_equal(e->name, "Cc");
	assert_int_equal(e->index, 2);
	assert_string_equal(e->value, "a@example.net");
	e = g_ptr_array_index(edits, 1);
	assert_null(e->value);
	g_ptr_array_free(edits, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(value_rows),
		cmocka_unit_test(colonless_last_line),
		cmocka_unit_test(fold_after_colon),
		cmocka_unit_test(end_rows),
		cmocka_unit_test(apply_rows),
		cmocka_unit_test(crlf_bytes),
		cmocka_unit_test(edits_list),
	};

	return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
