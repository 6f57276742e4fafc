/*
 * test_message - what a moderator reads of a held post: message_readable()
 * on plain, multipart, attached, encoded and hostile messages; our loop
 * marker found by message_parse() however the X-Loop field writes it; the
 * addresses message_parse() hands out
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "message.h"

/* readable - message_readable() of a C string */
static struct readable *
readable(const char *raw)
{
	return message_readable(raw, strlen(raw));
}

/* header - the value of the first header called name, or NULL */
static const char *
header(const struct readable *r, const char *name)
{
	guint i;

	for (i = 0; i + 1 < r->headers->len; i += 2)
		if (strcmp(g_ptr_array_index(r->headers, i), name) == 0)
			return g_ptr_array_index(r->headers, i + 1);
	return NULL;
}

/* part - part i, failing when there is none */
static const struct readable_part *
part(const struct readable *r, guint i)
{
	if (i >= r->parts->len)
		fail_msg("part %u asked for, the message has %u", i, r->parts->len);
	return g_ptr_array_index(r->parts, i);
}

/* expect_part - type, name, size (-2: any) and text (NULL: none) of one part */
static void
expect_part(const struct readable *r, guint i, const char *type, const char *name, gint64 size,
	    const char *text)
{
	const struct readable_part *p = part(r, i);

	if (strcmp(p->type, type) != 0)
		fail_msg("part %u: type \"%s\", want \"%s\"", i, p->type, type);
	if (strcmp(p->name, name) != 0)
		fail_msg("part %u: name \"%s\", want \"%s\"", i, p->name, name);
	if (size != -2 && p->size != size)
		fail_msg("part %u: size %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, i, p->size, size);
	if (text == NULL && p->text != NULL)
		fail_msg("part %u: text \"%s\", want none (an attachment)", i, p->text);
	if (text != NULL && (p->text == NULL || strcmp(p->text, text) != 0))
		fail_msg("part %u: text \"%s\", want \"%s\"", i, p->text ? p->text : "(none)", text);
}

/* appears - is needle in any header, type, name or text of r */
static bool
appears(const struct readable *r, const char *needle)
{
	guint i;

	for (i = 0; i < r->headers->len; i++)
		if (strstr(g_ptr_array_index(r->headers, i), needle))
			return true;
	for (i = 0; i < r->parts->len; i++) {
		const struct readable_part *p = g_ptr_array_index(r->parts, i);

		if (strstr(p->type, needle) || strstr(p->name, needle) || (p->text && strstr(p->text, needle)))
			return true;
	}
	return false;
}

/* all_utf8 - every string handed out is valid UTF-8 */
static void
all_utf8(const struct readable *r)
{
	guint i;

	for (i = 0; i < r->headers->len; i++)
		if (!g_utf8_validate(g_ptr_array_index(r->headers, i), -1, NULL))
			fail_msg("header string %u is not UTF-8", i);
	for (i = 0; i < r->parts->len; i++) {
		const struct readable_part *p = g_ptr_array_index(r->parts, i);

		if (!g_utf8_validate(p->type, -1, NULL) || !g_utf8_validate(p->name, -1, NULL)
		    || (p->text && !g_utf8_validate(p->text, -1, NULL)))
			fail_msg("part %u has a string that is not UTF-8", i);
	}
}

/* post_addresses - message_parse() hands out UTF-8 addresses only: a raw 8-bit domain literal is left out */
static void
post_addresses(void **state)
{
	static const char raw[] = "From: Bob <bob@[s\xd6\xd6" "ec]>, alice@example.org\n"
		"To: security@example.org, carol@[\xd6\xd6]\nX-Loop: security@example.org\n"
		"Subject: x\n\nbody\n";
	struct post *p = message_parse(raw, strlen(raw));
	guint i;

	assert_true(p->parsed);
	assert_int_equal(p->from->len, 1);
	assert_string_equal(g_ptr_array_index(p->from, 0), "alice@example.org");
	assert_int_equal(p->to_cc->len, 1);
	assert_string_equal(g_ptr_array_index(p->to_cc, 0), "security@example.org");
	/* the X-Loop value as one address and as the mailboxes in it: the same one */
	assert_true(p->loops->len >= 1);
	for (i = 0; i < p->loops->len; i++)
		assert_string_equal(g_ptr_array_index(p->loops, i), "security@example.org");
	message_free(p);
}

/* plain_text - the header fields decoded, one text part */
static void
plain_text(void **state)
{
	static const char raw[] =
		"Received: from x by y\n"
		"From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.net>\n"
		"To: security@example.org\n"
		"Subject: =?UTF-8?Q?Heap_overflow_in_caf=C3=A9?= =?ISO-8859-1?Q?_na=EFve?=\n"
		"Date: Mon, 2 Mar 2026 10:00:00 +0000\n"
		"Message-ID: <m1@example.net>\n"
		"X-Secret: not shown\n"
		"\n"
		"The parser overflows.\n";
	struct readable *r = readable(raw);

	assert_true(r->parsed);
	assert_string_equal(header(r, "From"), "Ren\xc3\xa9" "e <renee@example.net>");
	assert_string_equal(header(r, "To"), "security@example.org");
	assert_string_equal(header(r, "Subject"), "Heap overflow in caf\xc3\xa9 na\xc3\xafve");
	assert_string_equal(header(r, "Date"), "Mon, 2 Mar 2026 10:00:00 +0000");
	assert_non_null(strstr(header(r, "Message-ID"), "m1@example.net"));
	/* only the fields a person looks at, each once */
	assert_null(header(r, "Received"));
	assert_null(header(r, "X-Secret"));
	assert_int_equal(r->headers->len, 10);
	assert_int_equal(r->parts->len, 1);
	expect_part(r, 0, "text/plain", "", 22, "The parser overflows.\n");
	all_utf8(r);
	message_readable_free(r);
}

/* alternative - text and HTML, both readable, the HTML without tags */
static void
alternative(void **state)
{
	static const char raw[] =
		"From: rep@example.net\nSubject: alt\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=\"b1\"\n"
		"\n"
		"preamble\n"
		"--b1\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n"
		"plain version\n"
		"--b1\n"
		"Content-Type: text/html; charset=utf-8\n"
		"\n"
		"<html><head><style>p{}</style></head><body><p>html <b>version</b></p>"
		"<script>evil()</script></body></html>\n"
		"--b1--\n";
	struct readable *r = readable(raw);
	const struct readable_part *html;

	assert_true(r->parsed);
	assert_int_equal(r->parts->len, 2);
	expect_part(r, 0, "text/plain", "", -2, "plain version");
	html = part(r, 1);
	assert_string_equal(html->type, "text/html");
	assert_non_null(html->text);
	assert_non_null(strstr(html->text, "html version"));
	assert_null(strchr(html->text, '<'));
	assert_null(strchr(html->text, '>'));
	assert_null(strstr(html->text, "evil"));
	assert_null(strstr(html->text, "p{}"));
	message_readable_free(r);
}

/* attachment - listed with type, name and decoded size; its content never read */
static void
attachment(void **state)
{
	/* base64 of "SECRETPAYLOAD-0123456789\n", 25 bytes */
	static const char raw[] =
		"From: rep@example.net\nSubject: poc attached\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"mix\"\n"
		"\n"
		"--mix\n"
		"Content-Type: text/plain\n"
		"\n"
		"See the attachment.\n"
		"--mix\n"
		"Content-Type: application/octet-stream\n"
		"Content-Disposition: attachment; filename=\"poc.bin\"\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"U0VDUkVUUEFZTE9BRC0wMTIzNDU2Nzg5Cg==\n"
		"--mix--\n";
	struct readable *r = readable(raw);

	assert_true(r->parsed);
	assert_int_equal(r->parts->len, 2);
	expect_part(r, 0, "text/plain", "", -2, "See the attachment.");
	expect_part(r, 1, "application/octet-stream", "poc.bin", 25, NULL);
	assert_false(appears(r, "SECRETPAYLOAD"));
	assert_false(appears(r, "U0VDUkVU"));
	message_readable_free(r);
}

/* text_attachment - a text/plain part marked as an attachment is not shown */
static void
text_attachment(void **state)
{
	static const char raw[] =
		"From: rep@example.net\nSubject: log\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"mix\"\n"
		"\n"
		"--mix\n"
		"Content-Type: text/plain\n"
		"\n"
		"body\n"
		"--mix\n"
		"Content-Type: text/plain; charset=us-ascii\n"
		"Content-Disposition: attachment\n"
		"\n"
		"attached words\n"
		"--mix--\n";
	struct readable *r = readable(raw);

	assert_int_equal(r->parts->len, 2);
	expect_part(r, 0, "text/plain", "", -2, "body");
	expect_part(r, 1, "text/plain", "", -2, NULL);
	assert_true(part(r, 1)->size > 0);
	assert_false(appears(r, "attached words"));
	message_readable_free(r);
}

/* forwarded - a message/rfc822 part is listed under its subject */
static void
forwarded(void **state)
{
	static const char raw[] =
		"From: rep@example.net\nSubject: fwd\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"mix\"\n"
		"\n"
		"--mix\n"
		"Content-Type: text/plain\n"
		"\n"
		"forwarding this\n"
		"--mix\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"From: someone@example.com\n"
		"Subject: =?UTF-8?Q?Inner_r=C3=A9port?=\n"
		"\n"
		"inner body\n"
		"--mix--\n";
	struct readable *r = readable(raw);

	assert_int_equal(r->parts->len, 2);
	expect_part(r, 0, "text/plain", "", -2, "forwarding this");
	expect_part(r, 1, "message/rfc822", "Inner r\xc3\xa9port", -2, NULL);
	message_readable_free(r);
}

/* latin1 - a body in a declared charset comes back as UTF-8 */
static void
latin1(void **state)
{
	static const char raw[] =
		"From: rep@example.net\nSubject: caf\xe9 raw 8-bit\nMIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n"
		"caf\xe9 cr\xe8me br\xfbl\xe9" "e\n";
	struct readable *r = readable(raw);

	assert_true(r->parsed);
	assert_int_equal(r->parts->len, 1);
	expect_part(r, 0, "text/plain", "", -2, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e\n");
	/* an undeclared 8-bit header is read through the fallback charsets */
	assert_string_equal(header(r, "Subject"), "caf\xc3\xa9 raw 8-bit");
	all_utf8(r);
	message_readable_free(r);
}

/* garbage - no header block: not parsed, nothing invented */
static void
garbage(void **state)
{
	static const char junk[] = "garbage without any header\n\x01\x02\xff\xfe\n";
	struct readable *r = readable(junk);

	assert_false(r->parsed);
	assert_false(appears(r, "garbage"));
	message_readable_free(r);
	r = message_readable("", 0);
	assert_false(r->parsed);
	assert_int_equal(r->headers->len, 0);
	message_readable_free(r);
	r = message_readable("\0\0\0\n\n\0", 6);
	assert_false(r->parsed);
	message_readable_free(r);
	/* an empty header block: GMime builds a message, but nothing was read */
	r = readable("\nbody only\n");
	assert_false(r->parsed);
	assert_int_equal(r->headers->len, 0);
	message_readable_free(r);
	message_readable_free(NULL);
}

/* deep - a MIME tree nested 100 deep is read with bounded recursion */
static void
deep(void **state)
{
	GString *s = g_string_new("From: rep@example.net\nSubject: deep\nMIME-Version: 1.0\n");
	struct readable *r;
	guint i;
	int k;

	for (k = 0; k < 100; k++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", k, k);
	g_string_append(s, "Content-Type: text/plain\n\ninnermost text\n");
	for (k = 99; k >= 0; k--)
		g_string_append_printf(s, "--b%d--\n", k);
	r = message_readable(s->str, s->len);
	assert_true(r->parsed);
	assert_string_equal(header(r, "Subject"), "deep");
	/* one path down the tree: at most one leaf, however deep it is cut */
	assert_int_equal(r->parts->len, 1);
	for (i = 0; i < r->parts->len; i++) {
		const struct readable_part *p = g_ptr_array_index(r->parts, i);

		/* cut where the walk stops: listed, not read */
		assert_string_equal(p->type, "multipart/mixed");
		assert_null(p->text);
	}
	assert_false(appears(r, "innermost"));
	message_readable_free(r);
	g_string_free(s, TRUE);
}

/* loop_marker - message_has_loop(): our X-Loop address however it is written */
static void
loop_marker(void **state)
{
	static const struct {
		const char *name;
		const char *fields;
		bool want;
	} rows[] = {
		{ "the marker as vigil writes it", "X-Loop: security@example.org\n", true },
		{ "in capitals", "X-Loop: SECURITY@Example.ORG\n", true },
		{ "in angle brackets", "X-Loop: <security@example.org>\n", true },
		{ "with a display name", "X-Loop: Security team <security@example.org>\n", true },
		{ "with a quoted display name", "X-Loop: \"Security, team\" <security@example.org>\n", true },
		{ "with a comment", "X-Loop: security@example.org (vigil)\n", true },
		{ "folded", "X-Loop:\n\tsecurity@example.org\n", true },
		{ "second of two addresses", "X-Loop: other@lists.example, security@example.org\n", true },
		{ "second of two fields", "X-Loop: other@lists.example\nX-Loop: security@example.org\n", true },
		{ "another list only", "X-Loop: other@lists.example\n", false },
		{ "our address as a prefix", "X-Loop: security@example.org.attacker.example\n", false },
		{ "our address quoted as a local part", "X-Loop: \"security@example.org\"@attacker.example\n", false },
		{ "our address as a display name: in doubt, a loop",
		  "X-Loop: security@example.org <x@attacker.example>\n", true },
		{ "no X-Loop", "X-Loop-Not: security@example.org\n", false },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *raw = g_strdup_printf("From: bob@example.org\n%sSubject: x\n\nbody\n", rows[i].fields);
		struct post *post = message_parse(raw, strlen(raw));

		if (message_has_loop(post, "security@example.org") != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].name, !rows[i].want, rows[i].want);
		message_free(post);
		g_free(raw);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(post_addresses),
		cmocka_unit_test(plain_text),
		cmocka_unit_test(alternative),
		cmocka_unit_test(attachment),
		cmocka_unit_test(text_attachment),
		cmocka_unit_test(forwarded),
		cmocka_unit_test(latin1),
		cmocka_unit_test(garbage),
		cmocka_unit_test(deep),
		cmocka_unit_test(loop_marker),
	};

	message_init();
	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
