/*
 * test_relay - the members' copy of a post, byte for byte: for each case
 * tests/unit/golden/NAME.in.eml is the post as it arrives and
 * NAME.out.eml the exact copy compose_relay() must return (CRLF); and
 * the DMARC decision table, end to end through the composer
 *
 * A case names the list's settings (dmarc_mitigation, subject_tag,
 * footer text, archive_url) and the caller's facts (the author domain's
 * DMARC policy, the people a thread copies, a Message-ID to add).  The
 * DMARC decision is the caller's: dmarc_should_munge() of the list's
 * mitigation and the policy fills struct relay_copy.munge_from.

 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "compose.h"
#include "dmarc.h"
#include "header.h"
#include "message.h"

/* the list of every case; a case changes what it is about */
static const struct list_config base = {
	.address = "security@example.org", .name = "Example security team",
	.owner = "owner@example.org", .autoreply_interval = 86400, .max_message_size = 1 << 20,
	.remind_after = 86400, .hold_expiry = 14 * 86400,
	.bounce_address = "security-bounces@example.org", .dmarc_mitigation = DMARC_MITIGATE_MUNGE_FROM,
	.subject_tag = "", .footer = "", .archive_url = "", .archive = "", .archive_group = "", .bounce_threshold = 3,
	.bounce_window = 30 * 86400,
};

#define FOOTER		"-- \nExample security team \xe2\x80\x94 https://lists.example.org/security/\n"
#define ASCII_FOOTER	"-- \nExample security team: https://lists.example.org/security/\n"
#define ARCHIVE		"https://lists.example.org/security/"
#define TAG_UTF8	"[S\xc3\xa9" "curit\xc3\xa9]"

struct golden {
	const char *name;		/* tests/unit/golden/NAME.{in,out}.eml */
	enum dmarc_mitigation mitigation;
	enum dmarc_policy policy;	/* of the author's domain, as the caller found it */
	const char *cc;			/* people the thread copies, blank-separated */
	const char *message_id;		/* to add, without <> */
	const char *subject_tag;
	const char *footer;		/* the footer file's text */
	const char *archive_url;
};

#define MUNGE DMARC_MITIGATE_MUNGE_FROM

static const struct golden cases[] = {
	{ "plain", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", "", "" },
	{ "sender-replaced", MUNGE, DMARC_POLICY_NONE, NULL, NULL, "", "", "" },
	{ "thread-cc-added", MUNGE, DMARC_POLICY_ABSENT, "rep-a@example.net cc-a@example.net", NULL,
	  "", "", "" },
	{ "thread-cc-extended", MUNGE, DMARC_POLICY_ABSENT, "rep-a@example.net", NULL, "", "", "" },
	{ "munge-name", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "munge-noname", MUNGE, DMARC_POLICY_QUARANTINE, NULL, NULL, "", "", "" },
	{ "munge-utf8-name", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "munge-replyto", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "munge-replyto-author", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "munge-replyto-address", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "munge-replyto-substring", MUNGE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "always-munge", DMARC_MITIGATE_ALWAYS, DMARC_POLICY_NONE, NULL, NULL, "", "", "" },
	{ "mitigation-none", DMARC_MITIGATE_NONE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" },
	{ "subject-tag", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "[Sec]", "", "" },
	{ "subject-tag-present", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "[Sec]", "", "" },
	{ "subject-tag-none", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "[Sec]", "", "" },
	{ "subject-tag-utf8", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, TAG_UTF8, "", "" },
	{ "subject-tag-utf8-present", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, TAG_UTF8, "", "" },
	{ "footer-utf8", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", FOOTER, "" },
	{ "footer-utf8-7bit", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", FOOTER, "" },
	{ "footer-no-newline", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", FOOTER, "" },
	{ "footer-multipart", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", ASCII_FOOTER, "" },
	{ "footer-base64", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", ASCII_FOOTER, "" },
	{ "footer-latin1", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", FOOTER, "" },
	{ "footer-latin1-ascii", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", ASCII_FOOTER, "" },
	{ "footer-no-body", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", ASCII_FOOTER, "" },
	{ "message-id-added", MUNGE, DMARC_POLICY_ABSENT, NULL, "20290101100000.4242@example.org", "", "",
	  "" },
	{ "archive-url", MUNGE, DMARC_POLICY_ABSENT, NULL, NULL, "", "", ARCHIVE },
	{ "combined", MUNGE, DMARC_POLICY_REJECT, "rep-a@example.net", "combined.1@example.org", "[Sec]",
	  ASCII_FOOTER, ARCHIVE },
};

static char *tdir;

/* golden_path - $VIGIL_SRCDIR/tests/unit/golden/NAME.SUFFIX */
static char *
golden_path(const char *name, const char *suffix)
{
	const char *src = getenv("VIGIL_SRCDIR");
	char *file = g_strconcat(name, suffix, NULL);
	char *path = g_build_filename(src ? src : ".", "tests", "unit", "golden", file, NULL);

	g_free(file);
	return path;
}

/* slurp - a golden file's bytes; the test fails when it cannot be read */
static char *
slurp(const char *name, const char *suffix, gsize *len)
{
	char *path = golden_path(name, suffix);
	char *data = NULL;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, len, &err)) {
		print_error("%s\n", err->message);
		g_error_free(err);
		g_free(path);
		fail_msg("%s%s: cannot read the golden file (is VIGIL_SRCDIR set?)", name, suffix);
	}
	g_free(path);
	return data;
}

/* copy - the members' copy of raw under list l, the caller's part done as a case says */
static GByteArray *
copy(const struct list_config *l, const struct golden *g, const char *raw, size_t len, GError **err)
{
	struct post *post = message_parse(raw, len);
	char **cc = g->cc ? g_strsplit(g->cc, " ", -1) : NULL;
	GPtrArray *ccs = g_ptr_array_new();
	struct relay_copy c = {
		.list = l, .post = post, .cc = g->cc ? ccs : NULL, .message_id = g->message_id,
		.munge_from = dmarc_should_munge((enum dmarc_mitigation) l->dmarc_mitigation, g->policy),
	};
	char *footer = compose_footer(l, post, err);
	GByteArray *out = NULL;
	char **p;

	for (p = cc; p && *p; p++)
		g_ptr_array_add(ccs, *p);
	if (err == NULL || *err == NULL)
		out = compose_relay(&c, raw, len, footer);
	g_free(footer);
	g_ptr_array_free(ccs, TRUE);
	g_strfreev(cc);
	message_free(post);
	return out;
}

/* show - bytes one line per line, CR, LF and other controls made visible */
static void
show(const char *what, const char *s, size_t len)
{
	GString *line = g_string_new(NULL);
	size_t i;

	print_error("%s:\n", what);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c == '\r')
			g_string_append(line, "\\r");
		else if (c == '\n')
			g_string_append(line, "\\n");
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(line, "\\x%02x", c);
		else
			g_string_append_c(line, (char) c);
		if (c == '\n' || i + 1 == len) {
			print_error("  %s\n", line->str);
			g_string_truncate(line, 0);
		}
	}
	g_string_free(line, TRUE);
}

/* first_difference - the line number (from 1) where got and want first differ */
static int
first_difference(const char *got, size_t glen, const char *want, size_t wlen)
{
	size_t i;
	int line = 1;

	for (i = 0; i < glen && i < wlen && got[i] == want[i]; i++)
		if (got[i] == '\n')
			line++;
	return line;
}

/* one_case - compose the copy of NAME.in.eml and compare it with NAME.out.eml */
static void
one_case(void **state)
{
	const struct golden *g = *state;
	struct list_config l = base;
	char *footer_path = NULL;
	gsize inlen, wantlen;
	char *in = slurp(g->name, ".in.eml", &inlen);
	char *want = slurp(g->name, ".out.eml", &wantlen);
	GByteArray *out;
	GError *err = NULL;
	bool same;

	l.dmarc_mitigation = g->mitigation;
	l.subject_tag = (char *) g->subject_tag;
	l.archive_url = (char *) g->archive_url;
	if (*g->footer) {
		footer_path = g_build_filename(tdir, "footer.txt", NULL);
		assert_true(g_file_set_contents(footer_path, g->footer, -1, NULL));
		l.footer = footer_path;
	}
	out = copy(&l, g, in, inlen, &err);
	if (out == NULL)
		fail_msg("%s: %s", g->name, err ? err->message : "no copy");
	same = out->len == wantlen && memcmp(out->data, want, wantlen) == 0;
	if (!same) {
		print_error("%s: the copy differs from %s.out.eml from line %d on\n", g->name, g->name,
			    first_difference((const char *) out->data, out->len, want, wantlen));
		show("got", (const char *) out->data, out->len);
		show("want", want, wantlen);
	}
	if (footer_path) {
		g_unlink(footer_path);
		g_free(footer_path);
	}
	g_byte_array_unref(out);
	g_free(in);
	g_free(want);
	if (!same)
		fail_msg("%s: the copy differs from %s.out.eml", g->name, g->name);
}

/* golden_crlf - every expected copy is CRLF throughout, and so is every copy made */
static void
golden_crlf(void **state)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		gsize len, j;
		char *want = slurp(cases[i].name, ".out.eml", &len);

		for (j = 0; j < len; j++)
			if (want[j] == '\n' && (j == 0 || want[j - 1] != '\r'))
				fail_msg("%s.out.eml: a bare LF at byte %zu (is git converting line ends?)",
					 cases[i].name, (size_t) j);
		assert_true(len >= 2 && want[len - 2] == '\r' && want[len - 1] == '\n');
		g_free(want);
	}
}

/*
 * dmarc_table - the decision of the issue, all 3 x 4 combinations, fed
 * into the composer for one message: From is the list's or the author's
 */
static void
dmarc_table(void **state)
{
	static const char *const mname[] = { "none", "munge_from", "always_munge" };
	static const char *const pname[] = { "absent", "none", "quarantine", "reject" };
	/* policy:                 absent none quarantine reject */
	static const bool want[3][4] = {
		[DMARC_MITIGATE_NONE] =		{ false, false, false, false },
		[DMARC_MITIGATE_MUNGE_FROM] =	{ false, false, true,  true },
		[DMARC_MITIGATE_ALWAYS] =	{ true,  true,  true,  true },
	};
	static const char raw[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1;\n\th=from:subject; bh=AAAA; b=BBBB\n"
		"From: Alice Example <alice@example.net>\nTo: security@example.org\n"
		"Subject: Heap overflow\nMessage-ID: <t@example.net>\n\nDetails.\n";
	const char *author = "Alice Example <alice@example.net>";
	const char *munged = "Alice Example via Example security team <security@example.org>";
	GByteArray *plain = NULL;
	int m, p, bad = 0;

	for (m = 0; m < 3; m++)
		for (p = 0; p < 4; p++) {
			struct list_config l = base;
			struct golden g = { "table", (enum dmarc_mitigation) m, (enum dmarc_policy) p,
					    NULL, NULL, "", "", "" };
			bool decided = dmarc_should_munge((enum dmarc_mitigation) m, (enum dmarc_policy) p);
			GByteArray *out;
			char *from, *reply;

			l.dmarc_mitigation = m;
			out = copy(&l, &g, raw, sizeof raw - 1, NULL);
			from = header_value((const char *) out->data, out->len, "From");
			reply = header_value((const char *) out->data, out->len, "Reply-To");
			if (decided != want[m][p]) {
				print_error("dmarc_should_munge(%s, %s): got %d, want %d\n", mname[m], pname[p],
					    decided, want[m][p]);
				bad++;
			}
			if (from == NULL || strcmp(from, want[m][p] ? munged : author) != 0
			    || (want[m][p] ? reply == NULL || strcmp(reply, author) != 0 : reply != NULL)) {
				print_error("%s, %s: From \"%s\" Reply-To \"%s\", want From \"%s\"%s%s\n",
					    mname[m], pname[p], from ? from : "(none)", reply ? reply : "(none)",
					    want[m][p] ? munged : author, want[m][p] ? " Reply-To " : " no Reply-To",
					    want[m][p] ? author : "");
				bad++;
			}
			/* the copies that keep From are the same, whatever the policy */
			if (!want[m][p] && plain == NULL)
				plain = g_byte_array_ref(out);
			else if (!want[m][p] && (plain->len != out->len
						 || memcmp(plain->data, out->data, out->len) != 0)) {
				print_error("%s, %s: the copy differs from the unmunged copy\n", mname[m], pname[p]);
				bad++;
			}
			g_free(from);
			g_free(reply);
			g_byte_array_unref(out);
		}
	g_byte_array_unref(plain);
	if (bad)
		fail_msg("%d of 24 checks wrong", bad);
}

/*
 * munge_only_from - with munging the copy differs from the unmunged one
 * in From and the added Reply-To only, the DKIM-Signature included
 */
static void
munge_only_from(void **state)
{
	static const char raw[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1;\n\th=from:subject; bh=AAAA; b=BBBB\n"
		"From: Alice Example <alice@example.net>\nTo: security@example.org\n"
		"Subject: Heap overflow\nMessage-ID: <t@example.net>\n\nDetails.\n";
	struct list_config l = base;
	struct golden keep = { "keep", DMARC_MITIGATE_NONE, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" };
	struct golden munge = { "munge", DMARC_MITIGATE_ALWAYS, DMARC_POLICY_REJECT, NULL, NULL, "", "", "" };
	GByteArray *a, *b;
	GString *expect;
	char *s;

	l.dmarc_mitigation = DMARC_MITIGATE_NONE;
	a = copy(&l, &keep, raw, sizeof raw - 1, NULL);
	l.dmarc_mitigation = DMARC_MITIGATE_ALWAYS;
	b = copy(&l, &munge, raw, sizeof raw - 1, NULL);
	expect = g_string_new_len((const char *) a->data, a->len);
	s = strstr(expect->str, "From: Alice Example <alice@example.net>\r\n");
	assert_non_null(s);
	g_string_erase(expect, s - expect->str, strlen("From: Alice Example <alice@example.net>\r\n"));
	g_string_insert(expect, s - expect->str,
			"From: Alice Example via Example security team <security@example.org>\r\n");
	s = strstr(expect->str, "Sender: security-bounces@example.org\r\n");
	assert_non_null(s);
	g_string_insert(expect, s - expect->str + strlen("Sender: security-bounces@example.org\r\n"),
			"Reply-To: Alice Example <alice@example.net>\r\n");
	if (b->len != expect->len || memcmp(b->data, expect->str, b->len) != 0) {
		show("got", (const char *) b->data, b->len);
		show("want", expect->str, expect->len);
		fail_msg("the munged copy changes more than From and Reply-To");
	}
	g_string_free(expect, TRUE);
	g_byte_array_unref(a);
	g_byte_array_unref(b);
}

/*
 * line_limit - no line of a copy is longer than RFC 5322's 998
 * characters, though a folded Cc of 60 people is extended and a folded
 * Subject of 200 words tagged: the edited fields are folded again.
 */
static void
line_limit(void **state)
{
	GString *raw = g_string_new("From: bob@example.org\nCc:");
	struct list_config l = base;
	struct golden g = { "long", MUNGE, DMARC_POLICY_ABSENT, "rep-a@example.net", NULL, "[Sec]", "", "" };
	GByteArray *out;
	size_t i, start = 0, longest = 0;

	for (i = 0; i < 60; i++)
		g_string_append_printf(raw, "%s\n person%zu@example.net", i ? "," : "", i);
	g_string_append(raw, "\nSubject:");
	for (i = 0; i < 200; i++)
		g_string_append(raw, "\n word");
	g_string_append(raw, "\n\nbody\n");
	l.subject_tag = "[Sec]";
	out = copy(&l, &g, raw->str, raw->len, NULL);
	for (i = 0; i < out->len; i++)
		if (out->data[i] == '\n') {
			longest = MAX(longest, i - 1 - start);	/* without CRLF */
			start = i + 1;
		}
	g_byte_array_unref(out);
	g_string_free(raw, TRUE);
	if (longest > 998)
		fail_msg("a line of %zu characters, want at most 998", longest);
}

/* setup - a directory for the footer files */
static int
setup(void **state)
{
	tdir = g_dir_make_tmp("vigil-relay-XXXXXX", NULL);
	return tdir ? 0 : -1;
}

/* teardown - remove it */
static int
teardown(void **state)
{
	g_rmdir(tdir);
	g_free(tdir);
	return 0;
}

int
main(void)
{
	struct CMUnitTest tests[G_N_ELEMENTS(cases) + 4];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		tests[i] = (struct CMUnitTest) { cases[i].name, one_case, NULL, NULL, (void *) &cases[i] };
	tests[i++] = (struct CMUnitTest) { "expected copies are CRLF", golden_crlf, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "DMARC decision table, through the composer", dmarc_table, NULL,
					   NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "munging changes From and Reply-To only", munge_only_from, NULL,
					   NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "no line over 998 characters", line_limit, NULL, NULL, NULL };
	message_init();
	return _cmocka_run_group_tests("relay", tests, i, setup, teardown);
}
