/*
 * test_bounce - bounce_parse() on a corpus of bounces shaped like those
 * of Postfix, Exim, Sendmail, Exchange, Gmail and others
 * (tests/unit/bounces under $VIGIL_SRCDIR, one test per file), on inline
 * hostile and edge inputs, and the bounce_rcpt_failed() table
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "bounce.h"
#include "message.h"

struct want_rcpt {
	const char *address;
	const char *action;
	const char *status;
	const char *diagnostic;
};

/* what bounce_parse() must make of one corpus file */
struct corpus_case {
	const char *file;
	bool	 dsn;
	const char *reporting_mta;
	guint	 n;
	struct want_rcpt rcpts[2];
};

#define POSTFIX_ALICE { "alice@example.net", "failed", "5.1.1", \
	"550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown in virtual mailbox table" }

static struct corpus_case corpus[] = {
	{ "postfix-bounce.eml", true, "mx.example.org", 1, { POSTFIX_ALICE } },
	{ "postfix-delay.eml", true, "mx.example.org", 1, {
		{ "bob@test.example", "delayed", "4.4.1",
		  "connect to mx.test.example[198.51.100.7]:25: Connection timed out" } } },
	{ "exim.eml", true, "relay.example.net", 1, {
		{ "carol@example.net", "failed", "5.0.0",
		  "550 5.2.1 The email account that you tried to reach is disabled." } } },
	{ "sendmail-two.eml", true, "relay.example.net", 2, {
		{ "dave@example.net", "failed", "5.1.1", "550 5.1.1 <dave@example.net>... User unknown" },
		{ "erin@test.example", "delayed", "4.3.0",
		  "451 4.3.0 Temporary system failure. Please try again later." } } },
	{ "exchange.eml", true, "DM6PR11MB1234.namprd11.prod.outlook.example", 1, {
		{ "frank.miller@example.net", "failed", "5.1.10",
		  "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup" } } },
	{ "gmail.eml", true, "mx.example.net", 1, {
		{ "grace@example.net", "failed", "5.1.1",
		  "550-5.1.1 The email account that you tried to reach does not exist. Please try "
		  "550-5.1.1 double-checking the recipient's email address for typos or "
		  "550-5.1.1 unnecessary spaces. Learn more at "
		  "550 5.1.1  https://support.example.net/mail/?p=NoSuchUser a1b2c3d4e5f6.123 - gsmtp" } } },
	{ "base64.eml", true, "gw.example.net", 1, {
		{ "ivan@example.net", "failed", "5.2.2", "552 5.2.2 Mailbox full: quota exceeded" } } },
	{ "global-dsn.eml", true, "mx.example.org", 2, {
		{ "jos\xc3\xa9@xn--bcher-kva.example", "failed", "5.1.1",
		  "550 5.1.1 <jos\xc3\xa9@b\xc3\xbc" "cher.example>: Empf\xc3\xa4nger unbekannt" },
		{ "\xe5\xbc\xa0\xe4\xbc\x9f@example.net", "failed", "5.2.1",
		  "550 5.2.1 \xe9\x82\xae\xe7\xae\xb1\xe5\xb7\xb2\xe5\x81\x9c\xe7\x94\xa8" } } },
	{ "folded-crlf.eml", true, "mail.example.net", 1, {
		{ "kim@test.example", "failed", "5.7.1",
		  "554 5.7.1 Service unavailable; Client host [203.0.113.60] blocked using "
		  "zen.dnsbl.example; https://www.dnsbl.example/query/ip/203.0.113.60" } } },
	{ "nested-report.eml", true, "gate.example.net", 1, {
		{ "mike@example.net", "failed", "5.2.2", "552 5.2.2 <mike@example.net>: Mailbox is full" } } },
	{ "truncated-returned.eml", true, "mx.example.org", 1, { POSTFIX_ALICE } },
	{ "qmail.eml", false, "", 0, { { NULL, NULL, NULL, NULL } } },
	{ "forwarded-dsn.eml", false, "", 0, { { NULL, NULL, NULL, NULL } } },
	{ "mdn-report.eml", false, "", 0, { { NULL, NULL, NULL, NULL } } },
	{ "truncated.eml", false, "", 0, { { NULL, NULL, NULL, NULL } } },
};

/* corpus_dir - where the corpus is: $VIGIL_SRCDIR/tests/unit/bounces, else below . */
static char *
corpus_dir(void)
{
	const char *src = getenv("VIGIL_SRCDIR");

	return g_build_filename(src ? src : ".", "tests", "unit", "bounces", NULL);
}

/* parse_file - bounce_parse() of a corpus file, failing when it cannot be read */
static struct bounce *
parse_file(const char *file)
{
	char *dir = corpus_dir();
	char *path = g_build_filename(dir, file, NULL);
	GError *err = NULL;
	struct bounce *b;
	gchar *raw;
	gsize len;

	if (!g_file_get_contents(path, &raw, &len, &err))
		fail_msg("%s: %s (set VIGIL_SRCDIR to the source tree)", path, err->message);
	b = bounce_parse(raw, len);
	g_free(raw);
	g_free(path);
	g_free(dir);
	return b;
}

/* expect_str - one string field: got X, want Y */
static void
expect_str(const char *what, const char *field, const char *got, const char *want)
{
	if (got == NULL)
		fail_msg("%s: %s is NULL, want \"%s\"", what, field, want);
	if (!g_utf8_validate(got, -1, NULL))
		fail_msg("%s: %s is not UTF-8", what, field);
	if (strcmp(got, want) != 0)
		fail_msg("%s: %s got \"%s\", want \"%s\"", what, field, got, want);
}

/* expect_bounce - the whole result, field by field */
static void
expect_bounce(const char *what, const struct bounce *b, bool dsn, const char *mta, guint n,
	      const struct want_rcpt *want)
{
	guint i;

	assert_non_null(b);
	assert_non_null(b->rcpts);
	if (b->dsn != dsn)
		fail_msg("%s: dsn got %d, want %d", what, b->dsn, dsn);
	expect_str(what, "reporting_mta", b->reporting_mta, mta);
	if (b->rcpts->len != n)
		fail_msg("%s: got %u recipients, want %u", what, b->rcpts->len, n);
	for (i = 0; i < n; i++) {
		const struct bounce_rcpt *r = g_ptr_array_index(b->rcpts, i);
		char *at = g_strdup_printf("%s, recipient %u", what, i);

		expect_str(at, "address", r->address, want[i].address);
		expect_str(at, "action", r->action, want[i].action);
		expect_str(at, "status", r->status, want[i].status);
		expect_str(at, "diagnostic", r->diagnostic, want[i].diagnostic);
		g_free(at);
	}
}

/* corpus_file - one corpus file, as its row says */
static void
corpus_file(void **state)
{
	const struct corpus_case *c = *state;
	struct bounce *b = parse_file(c->file);

	expect_bounce(c->file, b, c->dsn, c->reporting_mta, c->n, c->rcpts);
	bounce_free(b);
}

/* corpus_complete - every .eml of the corpus has a row, so none goes untested */
static void
corpus_complete(void **state)
{
	char *dir = corpus_dir();
	GError *err = NULL;
	GDir *d = g_dir_open(dir, 0, &err);
	const char *name;
	guint i, files = 0;

	if (d == NULL)
		fail_msg("%s: %s (set VIGIL_SRCDIR to the source tree)", dir, err->message);
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".eml"))
			continue;
		files++;
		for (i = 0; i < G_N_ELEMENTS(corpus); i++)
			if (strcmp(corpus[i].file, name) == 0)
				break;
		if (i == G_N_ELEMENTS(corpus))
			fail_msg("%s/%s has no row in corpus[]", dir, name);
	}
	g_dir_close(d);
	g_free(dir);
	assert_int_equal(files, G_N_ELEMENTS(corpus));
}

/* parse_str - bounce_parse() of a C string */
static struct bounce *
parse_str(const char *raw)
{
	return bounce_parse(raw, strlen(raw));
}

/* report - a multipart/report around a delivery-status content, with line end eol */
static GString *
report(const char *content, const char *eol)
{
	GString *s = g_string_new(NULL);
	const char *const head[] = {
		"From: MAILER-DAEMON@mx.example.org",
		"To: security-bounces@example.org",
		"Subject: Undelivered Mail Returned to Sender",
		"MIME-Version: 1.0",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"RB\"",
		"",
		"--RB",
		"Content-Type: text/plain",
		"",
		"notice",
		"--RB",
		"Content-Type: message/delivery-status",
		"",
		NULL
	};
	const char *p;
	int i;

	for (i = 0; head[i]; i++)
		g_string_append_printf(s, "%s%s", head[i], eol);
	/* content is written with \n; each becomes eol */
	for (p = content; *p; p++) {
		if (*p == '\n')
			g_string_append(s, eol);
		else
			g_string_append_c(s, *p);
	}
	g_string_append_printf(s, "%s--RB--%s", eol, eol);
	return s;
}

/* parse_report - bounce_parse() of report(content, "\n") */
static struct bounce *
parse_report(const char *content)
{
	GString *s = report(content, "\n");
	struct bounce *b = bounce_parse(s->str, s->len);

	g_string_free(s, TRUE);
	return b;
}

/* empty - no bytes at all */
static void
empty(void **state)
{
	struct bounce *b = bounce_parse("", 0);

	expect_bounce("empty", b, false, "", 0, NULL);
	bounce_free(b);
	b = bounce_parse(NULL, 0);
	expect_bounce("NULL", b, false, "", 0, NULL);
	bounce_free(b);
	bounce_free(NULL);
}

/* empty_report - a report part with no content: a DSN naming nobody */
static void
empty_report(void **state)
{
	struct bounce *b = parse_str("From: MAILER-DAEMON@mx.example.org\n"
				     "Content-Type: multipart/report; report-type=delivery-status; boundary=RB\n\n"
				     "--RB\nContent-Type: text/plain\n\nThis is a bounce.\n"
				     "--RB\nContent-Type: message/delivery-status\n\n"
				     "--RB--\n");

	expect_bounce("empty report", b, true, "", 0, NULL);
	bounce_free(b);
}

/* no_header_block - text with no header block, or DSN fields as the header */
static void
no_header_block(void **state)
{
	static const char *const inputs[] = {
		"just a line of text\n",
		"\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.net\nAction: failed\n",
		"Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.net\nAction: failed\n",
		"Content-Type: multipart/report; boundary=x\n",
		"--RB\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.net\n--RB--\n",
		NULL
	};
	int i;

	for (i = 0; inputs[i]; i++) {
		struct bounce *b = parse_str(inputs[i]);
		char *what = g_strdup_printf("input %d", i);

		expect_bounce(what, b, false, "", 0, NULL);
		g_free(what);
		bounce_free(b);
	}
}

/* nul_bytes - NUL bytes in the headers, the MIME structure and the report */
static void
nul_bytes(void **state)
{
	static const char content[] =
		"Reporting-MTA: dns; mx.exa\0mple.org\n"
		"\n"
		"Final-Recipient: rfc822; nul\0@example.net\n"
		"Action: failed\n"
		"\n"
		"Final-Recipient: rfc822; ok@example.net\n"
		"Action: failed\n"
		"Status: 5.1.1\0\n"
		"Diagnostic-Code: smtp; 550 bad\0byte\n";
	static const char junk[] =
		"From: a@example.org\0\nContent-Type: multipart/report;\0 boundary=\"\0\"\n\n--\0\n\0\0\0";
	const struct want_rcpt want[] = {
		{ "ok@example.net", "failed", "", "550 bad\xef\xbf\xbd" "byte" },
	};
	GString *s = report("", "\n");
	struct bounce *b;
	gssize at;

	/* the report with its NULs goes where report() put nothing */
	at = strstr(s->str, "\n\n\n--RB--") - s->str + 2;
	g_string_insert_len(s, at, content, sizeof(content) - 1);
	b = bounce_parse(s->str, s->len);
	expect_bounce("report with NULs", b, true, "mx.exa\xef\xbf\xbdmple.org", 1, want);
	bounce_free(b);
	g_string_free(s, TRUE);

	b = bounce_parse(junk, sizeof(junk) - 1);
	expect_bounce("junk with NULs", b, false, "", 0, NULL);
	bounce_free(b);
}

/* binary_junk - pseudo-random bytes, alone and as a report's content */
static void
binary_junk(void **state)
{
	GString *s = g_string_new(NULL);
	guint32 x = 2463534242u;
	struct bounce *b;
	int i;

	for (i = 0; i < 65536; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g_string_append_c(s, (char) (x & 0xff));
	}
	b = bounce_parse(s->str, s->len);
	expect_bounce("junk", b, false, "", 0, NULL);
	bounce_free(b);

	g_string_prepend(s, "From: a@example.org\nContent-Type: message/delivery-status\n\n");
	b = bounce_parse(s->str, s->len);
	assert_true(b->dsn);
	for (i = 0; i < (int) b->rcpts->len; i++) {
		const struct bounce_rcpt *r = g_ptr_array_index(b->rcpts, i);

		assert_true(g_utf8_validate(r->address, -1, NULL) && g_utf8_validate(r->diagnostic, -1, NULL));
	}
	assert_true(g_utf8_validate(b->reporting_mta, -1, NULL));
	bounce_free(b);
	g_string_free(s, TRUE);
}

/* lf_crlf - the same report with LF and with CRLF line ends reads the same */
static void
lf_crlf(void **state)
{
	static const char content[] =
		"Reporting-MTA: dns; mx.example.org\n"
		"\n"
		"Final-Recipient: rfc822; a@example.net\n"
		"Action: failed\n"
		"Status: 5.1.1\n"
		"Diagnostic-Code: smtp; 550 5.1.1 no such\n"
		"  user here\n"
		"\n"
		"Final-Recipient: rfc822; b@example.net\n"
		"Action: delayed\n"
		"Status: 4.4.7\n";
	const struct want_rcpt want[] = {
		{ "a@example.net", "failed", "5.1.1", "550 5.1.1 no such user here" },
		{ "b@example.net", "delayed", "4.4.7", "" },
	};
	const char *const eols[] = { "\n", "\r\n" };
	int i;

	for (i = 0; i < 2; i++) {
		GString *s = report(content, eols[i]);
		struct bounce *b = bounce_parse(s->str, s->len);

		expect_bounce(i ? "CRLF" : "LF", b, true, "mx.example.org", 2, want);
		bounce_free(b);
		g_string_free(s, TRUE);
	}
}

/* groups - which groups give recipients, and how their fields are read */
static void
groups(void **state)
{
	static const char content[] =
		/* per-message and first recipient in one group, no blank line */
		"Reporting-MTA: dns; mx.example.org\n"
		"Final-Recipient: rfc822; first@example.net\n"
		"Action: failed\n"
		"\n\n\n"
		/* Final-Recipient does not normalise: Original-Recipient */
		"Final-Recipient: x400; /C=ZZ/ADMD= /PRMD=Example/O=Org/S=Nobody/\n"
		"Original-Recipient: rfc822;orig@example.net\n"
		"action: Delivered\n"
		"status: 2.0.0\n"
		"\n"
		/* neither address: skipped */
		"Action: failed\n"
		"Status: 5.1.1\n"
		"\n"
		/* an address that does not normalise, and no other: skipped */
		"Final-Recipient: rfc822; not-an-address\n"
		"Action: failed\n"
		"\n"
		/* first occurrence counts; junk lines and unknown fields ignored */
		"Final-Recipient: rfc822; dup1@example.net\n"
		"Final-Recipient: rfc822; dup2@example.net\n"
		"this line has no colon\n"
		"X-Unknown: whatever\n"
		"  folded into the unknown field\n"
		"Action: bounced\n"
		"Action: failed\n"
		"Status: 550\n"
		"Diagnostic-Code: 550 no type here\n"
		"\n"
		/* no type on the address, angle brackets, comments after values */
		"Final-Recipient: <Angle@Example.NET>\n"
		"Action: relayed (to a non-DSN MTA)\n"
		"Status: 2.0.0 (ok)\n"
		"Diagnostic-Code:   smtp ;   250 ok   \n"
		"\n"
		"Final-Recipient: rfc822; expanded@example.net\n"
		"Action: expanded\n"
		"Status: 5.1\n"
		"\n"
		"Final-Recipient: rfc822; badstatus@example.net\n"
		"Status: 5.1.1000\n";
	const struct want_rcpt want[] = {
		{ "first@example.net", "failed", "", "" },
		{ "orig@example.net", "delivered", "2.0.0", "" },
		{ "dup1@example.net", "", "", "550 no type here" },
		{ "angle@example.net", "relayed", "2.0.0", "250 ok" },
		{ "expanded@example.net", "expanded", "", "" },
		{ "badstatus@example.net", "", "", "" },
	};
	struct bounce *b = parse_report(content);

	expect_bounce("groups", b, true, "mx.example.org", G_N_ELEMENTS(want), want);
	bounce_free(b);
}

/* no_per_message - a report whose first group is a recipient has no reporting MTA */
static void
no_per_message(void **state)
{
	const struct want_rcpt want[] = {
		{ "a@example.net", "failed", "5.0.0", "" },
	};
	struct bounce *b = parse_report("Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.0.0\n");

	expect_bounce("no per-message group", b, true, "", 1, want);
	bounce_free(b);
	b = parse_report("");
	expect_bounce("empty report", b, true, "", 0, NULL);
	bounce_free(b);
}

/* unitext - \x{...} escapes of utf-8 addresses; other types are taken as they are */
static void
unitext(void **state)
{
	static const char content[] =
		"Reporting-MTA: dns; mx.example.org\n"
		"\n"
		"Final-Recipient: UTF-8; \\x{E9}t\\x{E9}@\\x{44C}.example\n"
		"\n"
		/* a surrogate, a control and a malformed escape stay as they are */
		"Final-Recipient: utf-8; a\\x{D800}b\\x{1}c\\x{zz}d\\x{1234567}@example.net\n"
		"\n"
		/* an escape in an rfc822 address is not decoded */
		"Final-Recipient: rfc822; r\\x{E9}@example.net\n"
		"\n"
		/* an address with a control character is refused */
		"Final-Recipient: rfc822; tab\tx@example.net\n"
		"Original-Recipient: rfc822; fallback@example.net\n";
	const struct want_rcpt want[] = {
		{ "\xc3\xa9t\xc3\xa9@xn--11a.example", "", "", "" },
		{ "a\\x{d800}b\\x{1}c\\x{zz}d\\x{1234567}@example.net", "", "", "" },
		{ "r\\x{e9}@example.net", "", "", "" },
		{ "fallback@example.net", "", "", "" },
	};
	struct bounce *b = parse_report(content);

	expect_bounce("unitext", b, true, "mx.example.org", G_N_ELEMENTS(want), want);
	bounce_free(b);
}

/* encodings - a quoted-printable report and a message/global-delivery-status in base64 */
static void
encodings(void **state)
{
	static const char qp[] =
		"From: MAILER-DAEMON@mx.example.org\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"Q\"\n"
		"\n"
		"--Q\n"
		"Content-Type: message/delivery-status\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"Reporting-MTA: dns; mx.example.org\n"
		"\n"
		"Final-Recipient: rfc822; qp@example.net\n"
		"Action: failed\n"
		"Status: 5.1.1\n"
		"Diagnostic-Code: smtp; 550 5.1.1 a very long diagnostic that the encoder =\n"
		"had to break, with an =3D sign\n"
		"\n"
		"--Q--\n";
	static const char b64[] =
		"From: MAILER-DAEMON@mx.example.org\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=global-delivery-status; boundary=\"Q\"\n"
		"\n"
		"--Q\n"
		"Content-Type: message/global-delivery-status\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		/* Final-Recipient: utf-8; ü@example.net\nAction: failed\n, after an empty per-message group */
		"DQpGaW5hbC1SZWNpcGllbnQ6IHV0Zi04OyDDvEBleGFtcGxlLm5ldA0KQWN0aW9uOiBmYWlsZWQN\n"
		"Cg==\n"
		"--Q\n"
		"Content-Type: message/global-headers\n"
		"\n"
		"Subject: x\n"
		"--Q--\n";
	const struct want_rcpt want_qp[] = {
		{ "qp@example.net", "failed", "5.1.1",
		  "550 5.1.1 a very long diagnostic that the encoder had to break, with an = sign" },
	};
	const struct want_rcpt want_b64[] = {
		{ "\xc3\xbc@example.net", "failed", "", "" },
	};
	struct bounce *b = parse_str(qp);

	expect_bounce("quoted-printable", b, true, "mx.example.org", 1, want_qp);
	bounce_free(b);
	b = parse_str(b64);
	expect_bounce("base64 global", b, true, "", 1, want_b64);
	bounce_free(b);
}

/* limits - at most 1000 recipients; values cut at 1000 bytes on a character boundary */
static void
limits(void **state)
{
	GString *c = g_string_new("Reporting-MTA: dns; mx.example.org\n\n");
	const struct bounce_rcpt *r;
	struct bounce *b;
	int i;

	for (i = 0; i < 1100; i++)
		g_string_append_printf(c, "Final-Recipient: rfc822; m%d@example.net\nAction: failed\n\n", i);
	b = parse_report(c->str);
	assert_true(b->dsn);
	assert_int_equal(b->rcpts->len, 1000);
	r = g_ptr_array_index(b->rcpts, 999);
	assert_string_equal(r->address, "m999@example.net");
	bounce_free(b);

	/* 3000 bytes of diagnostic, folded: 1000 kept */
	g_string_assign(c, "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; long@example.net\n"
			"Diagnostic-Code: smtp; 550");
	for (i = 0; i < 100; i++)
		g_string_append(c, "\n 5.1.1 this is twenty-nine by");
	g_string_append(c, "\n");
	b = parse_report(c->str);
	assert_int_equal(b->rcpts->len, 1);
	r = g_ptr_array_index(b->rcpts, 0);
	assert_int_equal(strlen(r->diagnostic), 1000);
	assert_true(g_str_has_prefix(r->diagnostic, "550 5.1.1 this is twenty-nine by 5.1.1"));
	bounce_free(b);

	/* a two-byte character across the cut is dropped whole */
	g_string_assign(c, "Final-Recipient: rfc822; utf@example.net\nDiagnostic-Code: smtp; ");
	for (i = 0; i < 999; i++)
		g_string_append_c(c, 'x');
	g_string_append(c, "\xc3\xa9 and more\n");
	b = parse_report(c->str);
	r = g_ptr_array_index(b->rcpts, 0);
	assert_int_equal(strlen(r->diagnostic), 999);
	assert_true(g_utf8_validate(r->diagnostic, -1, NULL));
	bounce_free(b);

	/* an address longer than 254 bytes is refused */
	g_string_assign(c, "Final-Recipient: rfc822; ");
	for (i = 0; i < 250; i++)
		g_string_append_c(c, 'a');
	g_string_append(c, "@example.net\nAction: failed\n");
	b = parse_report(c->str);
	assert_true(b->dsn);
	assert_int_equal(b->rcpts->len, 0);
	bounce_free(b);
	g_string_free(c, TRUE);
}

/* first_report - of two reports the first counts, and one inside message/rfc822 never does */
static void
first_report(void **state)
{
	static const char raw[] =
		"From: MAILER-DAEMON@mx.example.org\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"O\"\n"
		"\n"
		"--O\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"From: x@example.net\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Reporting-MTA: dns; inner.example.net\n"
		"\n"
		"Final-Recipient: rfc822; inner@example.net\n"
		"Action: failed\n"
		"\n"
		"--O\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Reporting-MTA: dns; one.example.org\n"
		"\n"
		"Final-Recipient: rfc822; one@example.net\n"
		"Action: failed\n"
		"\n"
		"--O\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Reporting-MTA: dns; two.example.org\n"
		"\n"
		"Final-Recipient: rfc822; two@example.net\n"
		"Action: failed\n"
		"\n"
		"--O--\n";
	const struct want_rcpt want[] = {
		{ "one@example.net", "failed", "", "" },
	};
	struct bounce *b = parse_str(raw);

	expect_bounce("first report", b, true, "one.example.org", 1, want);
	bounce_free(b);
}

/* deep - a report nested 100 multiparts deep is beyond the walk, and harmless */
static void
deep(void **state)
{
	GString *s = g_string_new("From: MAILER-DAEMON@mx.example.org\nMIME-Version: 1.0\n");
	struct bounce *b;
	int k;

	for (k = 0; k < 100; k++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", k, k);
	g_string_append(s, "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@example.net\n");
	for (k = 99; k >= 0; k--)
		g_string_append_printf(s, "--b%d--\n", k);
	b = bounce_parse(s->str, s->len);
	expect_bounce("deep", b, false, "", 0, NULL);
	bounce_free(b);
	g_string_free(s, TRUE);
}

/*
 * every_prefix - a bounce cut at any byte never gives a recipient cut
 * short: what is read is the whole recipient or nothing
 */
static void
every_prefix(void **state)
{
	const struct want_rcpt want[] = { POSTFIX_ALICE };
	char *dir = corpus_dir();
	char *path = g_build_filename(dir, "postfix-bounce.eml", NULL);
	gchar *raw;
	gsize len, n, found = 0;

	if (!g_file_get_contents(path, &raw, &len, NULL))
		fail_msg("%s: cannot read (set VIGIL_SRCDIR to the source tree)", path);
	for (n = 0; n <= len; n++) {
		struct bounce *b = bounce_parse(raw, n);

		if (b->rcpts->len > 0) {
			char *what = g_strdup_printf("first %" G_GSIZE_FORMAT " bytes", n);

			expect_bounce(what, b, true, "mx.example.org", 1, want);
			g_free(what);
			found++;
		}
		bounce_free(b);
	}
	/* from the boundary after the report to the end */
	assert_true(found > 0 && found < len / 2);
	g_free(raw);
	g_free(path);
	g_free(dir);
}

/* failed - the bounce_rcpt_failed() table */
static void
failed(void **state)
{
	static const struct {
		const char *name;
		const char *action;
		const char *status;
		bool	 want;
	} rows[] = {
		{ "failed 5.1.1", "failed", "5.1.1", true },
		{ "failed, no status", "failed", "", true },
		{ "failed wins over 4.x.x", "failed", "4.4.1", true },
		{ "delayed 4.4.1", "delayed", "4.4.1", false },
		{ "delayed wins over 5.x.x", "delayed", "5.0.0", false },
		{ "delivered", "delivered", "2.0.0", false },
		{ "relayed", "relayed", "", false },
		{ "expanded", "expanded", "2.0.0", false },
		{ "no action, 5.1.1", "", "5.1.1", true },
		{ "no action, 5.0.0", "", "5.0.0", true },
		{ "no action, 4.2.2", "", "4.2.2", false },
		{ "no action, no status", "", "", false },
		{ "no action, status 5", "", "5", false },
		{ "unknown action, 5.1.1", "bounced", "5.1.1", true },
		{ "unknown action, 4.1.1", "bounced", "4.1.1", false },
	};
	struct bounce_rcpt r = { "a@example.net", NULL, NULL, "" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		bool got;

		r.action = (char *) rows[i].action;
		r.status = (char *) rows[i].status;
		got = bounce_rcpt_failed(&r);
		if (got != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].name, got, rows[i].want);
	}
	assert_false(bounce_rcpt_failed(NULL));
}

/*
 * as_message_part - a GMime that made the report types a GMimeMessagePart
 * (3.2 makes them a GMimePart) reads the same.  The registration is for the
 * whole process: this test runs last.
 */
static void
as_message_part(void **state)
{
	static const char *const files[] = {
		"postfix-bounce.eml", "sendmail-two.eml", "exim.eml", "global-dsn.eml", "folded-crlf.eml",
		"nested-report.eml", "qmail.eml", "forwarded-dsn.eml",
	};
	GMimeObject *probe;
	void *st;
	size_t i, k;

	g_mime_object_register_type("message", "delivery-status", GMIME_TYPE_MESSAGE_PART);
	g_mime_object_register_type("message", "global-delivery-status", GMIME_TYPE_MESSAGE_PART);
	probe = g_mime_object_new_type(NULL, "message", "delivery-status");
	assert_true(GMIME_IS_MESSAGE_PART(probe));
	g_object_unref(probe);
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		for (k = 0; k < G_N_ELEMENTS(corpus); k++)
			if (strcmp(corpus[k].file, files[i]) == 0)
				break;
		assert_true(k < G_N_ELEMENTS(corpus));
		st = &corpus[k];
		corpus_file(&st);
	}
}

#define CORPUS(i)	{ corpus[i].file, corpus_file, NULL, NULL, &corpus[i] }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CORPUS(0), CORPUS(1), CORPUS(2), CORPUS(3), CORPUS(4), CORPUS(5), CORPUS(6), CORPUS(7),
		CORPUS(8), CORPUS(9), CORPUS(10), CORPUS(11), CORPUS(12), CORPUS(13), CORPUS(14),
		cmocka_unit_test(corpus_complete),
		cmocka_unit_test(empty),
		cmocka_unit_test(empty_report),
		cmocka_unit_test(no_header_block),
		cmocka_unit_test(nul_bytes),
		cmocka_unit_test(binary_junk),
		cmocka_unit_test(lf_crlf),
		cmocka_unit_test(groups),
		cmocka_unit_test(no_per_message),
		cmocka_unit_test(unitext),
		cmocka_unit_test(encodings),
		cmocka_unit_test(limits),
		cmocka_unit_test(first_report),
		cmocka_unit_test(deep),
		cmocka_unit_test(every_prefix),
		cmocka_unit_test(failed),
		cmocka_unit_test(as_message_part),	/* last: changes GMime's type table */
	};
	size_t i, rows = 0;

	/* every corpus row is registered above */
	for (i = 0; i < G_N_ELEMENTS(tests); i++)
		if (tests[i].test_func == corpus_file)
			rows++;
	if (rows != G_N_ELEMENTS(corpus)) {
		print_error("corpus[] has %zu rows, main() runs %zu of them\n", G_N_ELEMENTS(corpus), rows);
		return 1;
	}
	message_init();
	return cmocka_run_group_tests_name("bounce", tests, NULL, NULL);
}
