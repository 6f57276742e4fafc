/*
 * test_compose - the members' copy, the held auto-reply, templates,
 * a notice's From and Subject fields as GMime writes them
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
#include <gmime/gmime.h>

#include "compose.h"
#include "message.h"

static struct list_config list = {
	.address = "security@example.org", .name = "Example security team",
	.owner = "owner@example.org", .autoreply_interval = 86400, .max_message_size = 1 << 20,
	.remind_after = 86400, .hold_expiry = 14 * 86400,
	.bounce_address = "security-bounces@example.org", .dmarc_mitigation = 1,
	.subject_tag = "", .footer = "", .archive_url = "", .archive = "", .archive_group = "", .bounce_threshold = 3,
	.bounce_window = 30 * 86400,
};

/* relay - the members' copy with nothing but the list's own changes */
static GByteArray *
relay(const struct list_config *l, const char *raw, size_t len)
{
	struct post *post = message_parse(raw, len);
	struct relay_copy c = { .list = l, .post = post };
	GByteArray *out = compose_relay(&c, raw, len, NULL);

	message_free(post);
	return out;
}

static char *tdir;

/* str - a byte array as a string, for comparisons */
static char *
str(GByteArray *b)
{
	return g_strndup((const char *) b->data, b->len);
}

/* crlf - every line end becomes CRLF; CRLF and lone CR are kept */
static void
crlf(void **state)
{
	static const char in[] = "A: lf\nB: crlf\r\n\r\nbody\n.\nlone\rcr\nno newline";
	GByteArray *out = compose_crlf(in, sizeof in - 1);
	char *s = str(out);

	assert_string_equal(s, "A: lf\r\nB: crlf\r\n\r\nbody\r\n.\r\nlone\rcr\r\nno newline\r\n");
	g_free(s);
	g_byte_array_unref(out);
}

/* gmime_crlf - bytes through GMime's unix2dos filter, with a final newline */
static GByteArray *
gmime_crlf(const char *in, size_t len)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeStream *flt = g_mime_stream_filter_new(mem);
	GMimeFilter *f = g_mime_filter_unix2dos_new(TRUE);
	GByteArray *out;

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(flt), f);
	g_object_unref(f);
	g_mime_stream_write(flt, in, len);
	g_mime_stream_flush(flt);
	g_object_unref(flt);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	out = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_object_unref(mem);
	return out;
}

/* same_bytes - a and b hold the same bytes (an empty array may have no data at all) */
static bool
same_bytes(const GByteArray *a, const GByteArray *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/*
 * crlf_as_gmime - line ends as GMime's filter writes them, in one piece
 * or in three (a CR and its LF in two pieces too)
 */
static void
crlf_as_gmime(void **state)
{
	static const char alphabet[] = "ab\r\n\n.";
	GRand *r = g_rand_new_with_seed(3834);
	int i;

	for (i = 0; i < 5000; i++) {
		size_t len = (size_t) g_rand_int_range(r, 0, 200), cut1, cut2, k;
		char *in = g_malloc(len + 1);
		GByteArray *want, *got, *parted;
		struct compose_parts p;

		for (k = 0; k < len; k++)
			in[k] = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
		want = gmime_crlf(in, len);
		got = compose_crlf(in, len);
		if (!same_bytes(got, want))
			fail_msg("compose_crlf differs from GMime's filter on %zu bytes", len);
		cut1 = (size_t) g_rand_int_range(r, 0, (gint32) len + 1);
		cut2 = cut1 + (size_t) g_rand_int_range(r, 0, (gint32) (len - cut1) + 1);
		p.head = g_string_new_len(in, (gssize) cut1);
		p.body = in + cut1;
		p.bodylen = cut2 - cut1;
		p.tail = g_string_new_len(in + cut2, (gssize) (len - cut2));
		parted = compose_parts_bytes(&p);
		if (!same_bytes(parted, want))
			fail_msg("compose_crlf_parts differs from GMime's filter on %zu bytes cut at %zu, %zu",
				 len, cut1, cut2);
		assert_int_equal(compose_crlf_parts(&p, NULL, NULL), want->len);
		g_string_free(p.head, TRUE);
		g_string_free(p.tail, TRUE);
		g_byte_array_unref(parted);
		g_byte_array_unref(got);
		g_byte_array_unref(want);
		g_free(in);
	}
	g_rand_free(r);
}

/* relay_copy - our header lines on top, the original below, unchanged */
static void
relay_copy(void **state)
{
	static const char in[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\n\th=from:subject; b=abc\n"
		"subject:   Lower case\nFrom: Alice <alice@example.net>\n\nbody\n.\nFrom here\nend\n";
	GByteArray *out = relay(&list, in, sizeof in - 1);
	GByteArray *orig = compose_crlf(in, sizeof in - 1);
	char *s = str(out);
	const char *top =
		"List-Id: Example security team <security.example.org>\r\n"
		"List-Help: <mailto:owner@example.org?subject=help>\r\n"
		"List-Post: <mailto:security@example.org>\r\n"
		"List-Owner: <mailto:owner@example.org>\r\n"
		"Precedence: list\r\n"
		"X-Loop: security@example.org\r\n"
		"Sender: security-bounces@example.org\r\n";

	assert_true(g_str_has_prefix(s, top));
	assert_int_equal(out->len, strlen(top) + orig->len);
	assert_memory_equal(out->data + strlen(top), orig->data, orig->len);
	g_free(s);
	g_byte_array_unref(out);
	g_byte_array_unref(orig);
}

/* relay_id_encoded - a non-ASCII list name is an encoded word in List-Id */
static void
relay_id_encoded(void **state)
{
	struct list_config l = list;
	GByteArray *out;
	char *s;

	l.name = "Équipe sécurité";
	out = relay(&l, "x: y\n\nb\n", 8);
	s = str(out);
	assert_true(g_str_has_prefix(s, "List-Id: =?"));
	assert_non_null(strstr(s, "<security.example.org>\r\n"));
	assert_true(g_str_is_ascii(s));
	g_free(s);
	g_byte_array_unref(out);
}

/* write_template - put text into tdir/NAME */
static char *
write_template(const char *name, const char *text)
{
	char *path = g_build_filename(tdir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* render - placeholders, %% and the errors */
static void
render(void **state)
{
	const struct tvar vars[] = { { "a", "one" }, { "b", NULL }, { NULL, NULL } };
	char *subject, *body;
	GError *err = NULL;
	char *path = write_template("t.txt", "Subject: S %{a}\n\n100%% %{a}%{b}.\n");

	assert_true(compose_render(path, vars, &subject, &body, &err));
	assert_string_equal(subject, "S one");
	assert_string_equal(body, "100% one.\n");
	g_free(subject);
	g_free(body);
	g_free(path);

	path = write_template("t.txt", "Subject: S\n\n%{nope}\n");
	assert_false(compose_render(path, vars, &subject, &body, &err));
	assert_non_null(strstr(err->message, "unknown placeholder %{nope}"));
	assert_non_null(strstr(err->message, path));
	g_clear_error(&err);
	g_free(path);

	path = write_template("t.txt", "Subject: S\n\n50% off\n");
	assert_false(compose_render(path, vars, &subject, &body, &err));
	assert_non_null(strstr(err->message, "lone %"));
	g_clear_error(&err);
	g_free(path);

	/* what a stranger or a moderator typed never reaches a header */
	{
		const struct tvar given[] = { { "reason", "Not a bug" }, { "subject", "x" }, { NULL, NULL } };

		path = write_template("t.txt", "Subject: Rejected: %{reason}\n\n%{reason}\n");
		assert_false(compose_render(path, given, &subject, &body, &err));
		assert_non_null(strstr(err->message, "%{reason} may be used in the body only"));
		g_clear_error(&err);
		g_free(path);
		path = write_template("t.txt", "Subject: Re: %{subject}\n\n%{subject}\n");
		assert_false(compose_render(path, given, &subject, &body, &err));
		assert_non_null(strstr(err->message, "%{subject} may be used in the body only"));
		g_clear_error(&err);
		g_free(path);
		path = write_template("t.txt", "Subject: Rejected\n\n%{reason} %{subject}\n");
		assert_true(compose_render(path, given, &subject, &body, &err));
		assert_string_equal(body, "Not a bug x\n");
		g_free(subject);
		g_free(body);
		g_free(path);
	}

	path = write_template("t.txt", "Hello\n\nbody\n");
	assert_false(compose_render(path, vars, &subject, &body, &err));
	assert_non_null(strstr(err->message, "must start with one Subject: line"));
	g_clear_error(&err);
	g_free(path);

	assert_false(compose_render("/nonexistent/t.txt", vars, &subject, &body, &err));
	assert_non_null(strstr(err->message, "/nonexistent/t.txt"));
	g_clear_error(&err);
}

/* autoreply - RFC 3834 headers, the report id, nothing of the report */
static void
autoreply(void **state)
{
	static const char report[] =
		"From: Reporter <rep@example.net>\nSubject: Heap overflow in parser\n"
		"Message-ID: <r1@example.net>\nReferences: <r0@example.net>\n\nSECRET DETAILS\n";
	char *path = write_template("autoreply-held.txt",
				    "Subject: Held: %{report_id}\n\nReport %{report_id} for %{list_name}, %{sender}.\n");
	struct post *post = message_parse(report, sizeof report - 1);
	GError *err = NULL;
	GByteArray *out = compose_autoreply(&list, tdir, post, "rep@example.net", "2026-0042",
					    1795300000, &err);
	char *s;
	struct post *back;

	assert_non_null(out);
	s = str(out);
	assert_null(strstr(s, "Heap overflow"));
	assert_null(strstr(s, "SECRET"));
	assert_non_null(strstr(s, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(s, "\r\nIn-Reply-To: <r1@example.net>\r\n"));
	assert_non_null(strstr(s, "References: <r0@example.net> <r1@example.net>\r\n"));
	assert_non_null(strstr(s, "\r\nSubject: Held: 2026-0042\r\n"));
	assert_non_null(strstr(s, "To: rep@example.net\r\n"));
	assert_non_null(strstr(s, "From: Example security team <security@example.org>\r\n"));
	assert_null(strstr(s, "\n\n"));			/* CRLF throughout */
	/* the reply reads back as an auto-reply: it would not be answered itself */
	back = message_parse(s, strlen(s));
	assert_string_equal(back->auto_submitted, "auto-replied");
	assert_string_equal(g_ptr_array_index(back->from, 0), "security@example.org");
	message_free(back);
	g_free(s);
	g_byte_array_unref(out);

	/* check-config's check fails on a broken template, naming it */
	g_free(path);
	path = write_template("autoreply-held.txt", "Subject: %{reportid}\n\nx\n");
	assert_false(compose_check(&list, tdir, &err));
	assert_non_null(strstr(err->message, "autoreply-held.txt: unknown placeholder %{reportid}"));
	g_clear_error(&err);
	assert_null(compose_autoreply(&list, tdir, post, "rep@example.net", "2026-0042", 1, &err));
	g_clear_error(&err);
	message_free(post);
	g_unlink(path);
	g_free(path);
}

/*
 * notice_folds - a notice to many, in reply to a long thread, with a
 * name, subject and body beyond ASCII: every header line within 78
 * columns, folded between addresses and ids, and all of it reads back
 */
static void
notice_folds(void **state)
{
#define LONG_LINE "Caf\xc3\xa9 = na\xc3\xafve, and a line longer than a quoted-printable line may be, " \
	"so that it is broken with a soft line break "	/* its last blank kept */
	struct list_config l = list;
	char *path = write_template("folds.txt", "Subject: \xc3\x9c" "ber %{what}\n\n" LONG_LINE "\n\nend");
	const struct tvar vars[] = {
		{ "what", "a report whose subject is long enough to be folded at least once, twice" },
		{ NULL, NULL },
	};
	GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
	GString *refs = g_string_new(NULL);
	struct notice n = {
		.template = "folds.txt", .vars = vars, .from = l.address, .to = to,
		.in_reply_to = "id7@mail.example.net", .auto_submitted = "auto-generated", .now = 1795300000,
	};
	GError *err = NULL;
	GByteArray *out;
	struct post *back;
	struct readable *text;
	char *s, **lines;
	guint i;

	l.name = "\xc3\x89quipe s\xc3\xa9" "curit\xc3\xa9, \"core\"";
	for (i = 0; i < 12; i++)
		g_ptr_array_add(to, g_strdup_printf("moderator%u@%s", i,
						    i % 3 ? "example.org" : "a-long-subdomain.of.an.organisation.example.com"));
	for (i = 0; i < 8; i++)
		g_string_append_printf(refs, "%s<id%u@mail.example.net>", i ? " " : "", i);
	n.references = refs->str;
	out = compose_notice(&l, tdir, &n, &err);
	assert_non_null(out);
	s = str(out);
	/* the time of the notice in the local zone: TZ as main() set it */
	assert_true(g_str_has_prefix(s, "Date: Sat, 21 Nov 2026 17:26:40 -0500\r\n"));
	assert_null(strstr(s, "\n\n"));		/* CRLF throughout */
	assert_non_null(strstr(s, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(s, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
	lines = g_strsplit(s, "\r\n", -1);
	for (i = 0; lines[i] && *lines[i]; i++)
		if (strlen(lines[i]) > 78)
			fail_msg("header line of %zu columns: %s", strlen(lines[i]), lines[i]);
	g_strfreev(lines);

	back = message_parse(s, strlen(s));
	assert_string_equal(g_ptr_array_index(back->from, 0), "security@example.org");
	assert_string_equal(back->from_name, l.name);
	assert_string_equal(back->subject, "\xc3\x9c" "ber a report whose subject is long enough to be folded at least once, twice");
	assert_int_equal(back->to_cc->len, 12);
	for (i = 0; i < 12; i++)
		assert_string_equal(g_ptr_array_index(back->to_cc, i), g_ptr_array_index(to, i));
	assert_int_equal(back->references->len, 8);
	assert_string_equal(g_ptr_array_index(back->references, 0), "id0@mail.example.net");
	assert_string_equal(g_ptr_array_index(back->references, 7), "id7@mail.example.net");
	assert_string_equal(back->in_reply_to, "id7@mail.example.net");
	assert_string_equal(back->auto_submitted, "auto-generated");
	text = message_readable(s, strlen(s));
	assert_int_equal(text->parts->len, 1);
	assert_string_equal(((struct readable_part *) g_ptr_array_index(text->parts, 0))->text,
			    LONG_LINE "\r\n\r\nend\r\n");	/* as sent, the last line ended */
	message_readable_free(text);
	message_free(back);
	g_free(s);
	g_byte_array_unref(out);
	g_string_free(refs, TRUE);
	g_ptr_array_free(to, TRUE);
	g_unlink(path);
	g_free(path);
}
#undef LONG_LINE

/* crlf_lines - GMime's LF-ended lines with CRLF; frees s */
static char *
crlf_lines(char *s)
{
	char **lines = g_strsplit(s, "\n", -1);
	char *out = g_strjoinv("\r\n", lines);

	g_strfreev(lines);
	g_free(s);
	return out;
}

/* gmime_from - the From field as GMime encodes and folds it, with CRLF */
static char *
gmime_from(const char *name, const char *addr)
{
	InternetAddressList *l = internet_address_list_new();
	InternetAddress *ia = internet_address_mailbox_new(name, addr);
	GString *line = g_string_new("From: ");

	internet_address_list_add(l, ia);
	g_object_unref(ia);
	internet_address_list_encode(l, NULL, line);
	g_object_unref(l);
	return crlf_lines(g_string_free(line, FALSE));
}

/* gmime_subject - the Subject field as GMime encodes and folds it, with CRLF */
static char *
gmime_subject(const char *text)
{
	char *enc = g_mime_utils_header_encode_text(NULL, text, "utf-8");
	char *line = g_strconcat("Subject: ", enc, NULL);
	char *folded = g_mime_utils_unstructured_header_fold(NULL, NULL, line);

	g_free(enc);
	g_free(line);
	return crlf_lines(folded);
}

/* field - the field name: of a notice, its folded lines and the last CRLF */
static char *
field(const char *s, const char *name)
{
	char *start = g_strdup_printf("\r\n%s", name);
	const char *p = strstr(s, start), *end;

	g_free(start);
	assert_non_null(p);
	for (end = p += 2; (end = strstr(end, "\r\n")) && (end[2] == ' ' || end[2] == '\t'); end += 2)
		;
	assert_non_null(end);
	return g_strndup(p, (size_t) (end + 2 - p));
}

/* random_text - a list's name or a subject: words, specials, quotes, blanks, letters beyond ASCII */
static char *
random_text(GRand *r, int most)
{
	static const char *const pieces[] = {
		"Example", "security", "team", "of", "the", "project", " ", "  ", "\t", ".", ",", "\"",
		"\\", "(", ")", "<", ">", "@", ":", ";", "[", "]", "'", "-", "_", "!", "#", "=?", "?=",
		"=?utf-8?q?x?=", "~", "\x7f", "\xc3\xa9quipe", "s\xc3\xa9" "curit\xc3\xa9",
		"\xe5\xae\x89\xe5\x85\xa8", "x", "2026-0042", "[vigil]", "Re:",
		"averyveryverylongwordthatgoesonandonwithoutanyblankinitatallforsure",
	};
	GString *s = g_string_new(NULL);
	int i, n = g_rand_int_range(r, 1, most);

	for (i = 0; i < n; i++) {
		if (i && g_rand_boolean(r))
			g_string_append_c(s, ' ');
		g_string_append(s, pieces[g_rand_int_range(r, 0, G_N_ELEMENTS(pieces))]);
	}
	return g_string_free(s, FALSE);
}

/* random_words - words of ASCII letters, one blank apart, about len bytes: near a line's end */
static char *
random_words(GRand *r, int len)
{
	GString *s = g_string_new(NULL);

	while ((int) s->len < len)
		g_string_append_c(s, s->len && g_rand_int_range(r, 0, 6) == 0 && s->str[s->len - 1] != ' '
				  ? ' ' : 'a' + g_rand_int_range(r, 0, 26));
	return g_string_free(s, FALSE);
}

/* random_from - a list's address: plain mostly, of any length, sometimes not */
static char *
random_from(GRand *r)
{
	static const char *const domains[] = {
		"example.org", "Example.ORG", "a-long-subdomain.of.an.organisation.example.com",
		"xn--bcher-kva.example", "b\xc3\xbc" "cher.example", "XN--BCHER-KVA.example", "ex..org",
	};
	char *local = g_strnfill((gsize) g_rand_int_range(r, 1, 40), 's');

	char *a = g_strdup_printf("%s%s@%s", local, g_rand_boolean(r) ? "+list" : "",
				  domains[g_rand_int_range(r, 0, G_N_ELEMENTS(domains))]);

	g_free(local);
	return a;
}

/*
 * headers_as_gmime - the From and Subject fields of a notice are GMime's
 * for the same name, address and subject, whether written directly or
 * by GMime
 */
static void
headers_as_gmime(void **state)
{
	struct list_config l = list;
	char *path = write_template("fields.txt", "Subject: %{s}\n\nbody\n");
	struct tvar vars[] = { { "s", NULL }, { NULL, NULL } };
	GPtrArray *to = g_ptr_array_new();
	struct notice n = {
		.template = "fields.txt", .vars = vars, .to = to, .auto_submitted = "auto-generated",
		.now = 1795300000,
	};
	GRand *r = g_rand_new_with_seed(2047);
	GError *err = NULL;
	int i;

	g_ptr_array_add(to, "moderator@example.org");
	for (i = 0; i < 5000; i++) {
		/* one in four near where a line is folded */
		bool edge = i % 4 == 0;
		char *name = edge ? random_words(r, g_rand_int_range(r, 20, 60)) : random_text(r, 14);
		char *from = random_from(r);
		char *subject = edge ? random_words(r, g_rand_int_range(r, 60, 80)) : random_text(r, 20);
		char *rendered, *body, *s, *got, *want;
		GByteArray *out;

		l.name = name;
		n.from = from;
		vars[0].value = subject;
		out = compose_notice(&l, tdir, &n, &err);
		assert_non_null(out);
		s = str(out);
		got = field(s, "From:");
		want = gmime_from(name, from);
		if (strcmp(got, want) != 0)
			fail_msg("name \"%s\", address %s:\n got: %s\nwant: %s", name, from, got, want);
		g_free(got);
		g_free(want);
		assert_true(compose_render(path, vars, &rendered, &body, &err));
		got = field(s, "Subject:");
		want = gmime_subject(rendered);
		if (strcmp(got, want) != 0)
			fail_msg("subject \"%s\":\n got: %s\nwant: %s", rendered, got, want);
		g_free(got);
		g_free(want);
		g_free(rendered);
		g_free(body);
		g_free(s);
		g_byte_array_unref(out);
		g_free(name);
		g_free(from);
		g_free(subject);
	}
	g_rand_free(r);
	g_ptr_array_free(to, TRUE);
	g_unlink(path);
	g_free(path);
}

/* shipped_template - conf/templates renders for a list */
static void
shipped_template(void **state)
{
	const char *src = getenv("VIGIL_SRCDIR");
	char *dir;
	GError *err = NULL;

	if (src == NULL)
		skip();
	dir = g_build_filename(src, "conf", "templates", NULL);
	if (!compose_check(&list, dir, &err))
		fail_msg("%s", err->message);
	g_free(dir);
}

static int
setup(void **state)
{
	tdir = g_dir_make_tmp("vigil-compose-XXXXXX", NULL);
	return tdir ? 0 : -1;
}

static int
teardown(void **state)
{
	char *t = g_build_filename(tdir, "t.txt", NULL);

	g_unlink(t);
	g_rmdir(tdir);
	g_free(t);
	g_free(tdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crlf),
		cmocka_unit_test(crlf_as_gmime),
		cmocka_unit_test(relay_copy),
		cmocka_unit_test(relay_id_encoded),
		cmocka_unit_test(render),
		cmocka_unit_test(autoreply),
		cmocka_unit_test(notice_folds),
		cmocka_unit_test(headers_as_gmime),
		cmocka_unit_test(shipped_template),
	};

	/* a zone of POSIX rules, which needs no time zone database: November is EST */
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	message_init();
	return cmocka_run_group_tests_name("compose", tests, setup, teardown);
}
