/*
 * test_archive - the list archive: mboxrd quoting and the "From " line,
 * the Maildir file of each relayed copy (byte for byte the members'
 * copy, LF line ends, modes), nothing archived that was not relayed, a
 * write that fails fails the message, and what a failed commit or a
 * crash leaves is found by archive_recover(); the export of a thread.
 *
 * store_commit and queue_message_with are wrapped (-Wl,--wrap) so that a
 * test can make them fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "archive.h"
#include "config.h"
#include "dbfixture.h"
#include "header.h"
#include "intake.h"
#include "message.h"
#include "moderate.h"
#include "queue.h"
#include "store.h"

#define NOW 1795300000

/* ------------------------------------------------------------ the wraps */

static int fail_commit;		/* store_commit rolls back and fails */
static int fail_queue;		/* queue_message_with fails */

enum store_rc __real_store_commit(struct store *st, GError **err);
enum store_rc __wrap_store_commit(struct store *st, GError **err);
enum store_rc __real_queue_message_with(struct store *st, gint64 post_id, const char *kind,
				        const char *sender, const GPtrArray *rcpts, gint64 size,
				        store_writer fill, gpointer ud, gint64 now, GArray *ids,
				        GError **err);
enum store_rc __wrap_queue_message_with(struct store *st, gint64 post_id, const char *kind,
				        const char *sender, const GPtrArray *rcpts, gint64 size,
				        store_writer fill, gpointer ud, gint64 now, GArray *ids,
				        GError **err);

/* __wrap_store_commit - a commit that fails as a full disk would, when asked to */
enum store_rc
__wrap_store_commit(struct store *st, GError **err)
{
	if (!fail_commit)
		return __real_store_commit(st, err);
	store_rollback(st);
	g_set_error(err, STORE_ERROR_DOMAIN, STORE_RETRY, "database: COMMIT: disk I/O error (test)");
	return STORE_RETRY;
}

/* __wrap_queue_message_with - queueing that fails, when asked to */
enum store_rc
__wrap_queue_message_with(struct store *st, gint64 post_id, const char *kind, const char *sender,
			  const GPtrArray *rcpts, gint64 size, store_writer fill, gpointer ud,
			  gint64 now, GArray *ids, GError **err)
{
	if (!fail_queue)
		return __real_queue_message_with(st, post_id, kind, sender, rcpts, size, fill, ud, now,
						 ids, err);
	g_set_error(err, STORE_ERROR_DOMAIN, STORE_RETRY, "outbox: database is locked (test)");
	return STORE_RETRY;
}

/* ------------------------------------------------------------ mboxrd */

/* mboxrd_quoting - "From " lines get one more ">" at any depth, nothing else changes */
static void
mboxrd_quoting(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} rows[] = {
		{ "plain lines", "a\nb\n", "a\nb\n" },
		{ "From at the start", "From x\n", ">From x\n" },
		{ "From in the body", "a\n\nFrom here on\nb\n", "a\n\n>From here on\nb\n" },
		{ "quoted once", ">From x\n", ">>From x\n" },
		{ "quoted thrice", ">>>From x\n", ">>>>From x\n" },
		{ "From: is a header", "From: a@example.org\n", "From: a@example.org\n" },
		{ "Fromage", "Fromage\n", "Fromage\n" },
		{ "From alone", "From\n", "From\n" },
		{ "a blank before", " From x\n", " From x\n" },
		{ "a blank after >", "> From x\n", "> From x\n" },
		{ "in the middle of a line", "x >From y\n", "x >From y\n" },
		{ "lower case", "from x\n", "from x\n" },
		{ "CRLF kept", "From x\r\ny\r\n", ">From x\r\ny\r\n" },
		{ "last line without newline", "a\nFrom x", "a\n>From x\n" },
		{ "no final newline", "a", "a\n" },
		{ "empty", "", "\n" },
		{ "only >", ">>>\n", ">>>\n" },
		{ "every line", "From a\n>From b\nFrom c\n", ">From a\n>>From b\n>From c\n" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		GString *out = g_string_new("X");

		archive_mboxrd(out, rows[i].in, strlen(rows[i].in));
		if (strcmp(out->str + 1, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].name, out->str + 1, rows[i].want);
		g_string_free(out, TRUE);
	}
}

/* mbox_from - the separator: envelope sender (MAILER-DAEMON for <>), UTC asctime */
static void
mbox_from(void **state)
{
	static const struct {
		const char *name, *sender;
		gint64 when;
		const char *want;
	} rows[] = {
		{ "a sender", "alice@example.org", 1704189600, "From alice@example.org Tue Jan  2 10:00:00 2024\n" },
		{ "null sender", "", 1704189600, "From MAILER-DAEMON Tue Jan  2 10:00:00 2024\n" },
		{ "NULL sender", NULL, 0, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n" },
		{ "blanks", "\"a b\"@example.org", 1735689599, "From \"a_b\"@example.org Tue Dec 31 23:59:59 2024\n" },
		{ "a two-digit day", "x@example.org", 1795300000, "From x@example.org Sat Nov 21 22:26:40 2026\n" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		GString *out = g_string_new(NULL);

		archive_mbox_from(out, rows[i].sender, rows[i].when);
		if (strcmp(out->str, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].name, out->str, rows[i].want);
		g_string_free(out, TRUE);
	}
}

/* ------------------------------------------------------------ fixture */

static const char member_post[] =
	"From: Bob <bob@example.org>\r\nTo: security@example.org\r\nSubject: patch\r\n"
	"Message-ID: <m1@example.org>\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\n\r\n"
	"line one\r\nFrom the start\r\nlone\rCR\r\n";

static const char report[] =
	"From: Reporter <rep@example.net>\nTo: security@example.org\n"
	"Subject: overflow\nMessage-ID: <r1@example.net>\n\ndetails\n";

static int
setup(void **state)
{
	struct fixture *fx = fixture_new("vigil-archive", "archive = @DIR@/archive/security\n");

	if (fx == NULL)
		return -1;
	store_member_add(fx->st, FIXTURE_LIST, "alice@example.org", "owner", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "bob@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "carol@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	fail_commit = fail_queue = 0;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fail_commit = fail_queue = 0;
	return fixture_teardown(state);
}

/* take - intake for one message to the list at a time */
static enum intake_rc
take(struct fixture *fx, const char *msg, const char *sender, gint64 now, GError **err)
{
	const char *rcpts[] = { FIXTURE_LIST };

	return intake_message(fx->st, fx->cfg, msg, strlen(msg), sender, rcpts, 1, now, fx->ids, err);
}

/* take_ok - a message that must be stored */
static void
take_ok(struct fixture *fx, const char *msg, const char *sender, gint64 now)
{
	GError *err = NULL;

	if (take(fx, msg, sender, now, &err) != INTAKE_OK)
		fail_msg("intake: %s", err ? err->message : "?");
}

/* files - the names in the archive's new/, sorted */
static GPtrArray *
files(struct fixture *fx)
{
	char *dir = g_build_filename(fx->l->archive, "new", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(out, g_build_filename(dir, name, NULL));
	if (d)
		g_dir_close(d);
	g_ptr_array_sort(out, (GCompareFunc) g_strcmp0);
	g_free(dir);
	return out;
}

/* nfiles - how many messages the archive holds */
static guint
nfiles(struct fixture *fx)
{
	GPtrArray *f = files(fx);
	guint n = f->len;

	g_ptr_array_free(f, TRUE);
	return n;
}

/* contents - a file's bytes as a string */
static char *
contents(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	return text;
}

/* lf - s with CRLF made LF */
static char *
lf(const char *s)
{
	char **parts = g_strsplit(s, "\r\n", -1);
	char *out = g_strjoinv("\n", parts);

	g_strfreev(parts);
	return out;
}

/* held_report_id - the report id of the held post */
static char *
held_report_id(struct fixture *fx)
{
	return query(fx, "SELECT report_id FROM posts WHERE status = 'held'");
}

/* approve - alice approves a post or report */
static void
approve(struct fixture *fx, const char *key, gint64 now)
{
	struct decision d;
	GError *err = NULL;

	if (moderate_decide(fx->st, fx->cfg, fx->l, key, POST_APPROVED, "alice@example.org", NULL, NULL,
			    now, fx->ids, &d, &err) != MODERATE_OK)
		fail_msg("approve %s: %s", key, err ? err->message : "?");
	moderate_decision_clear(&d);
}

/* ------------------------------------------------------------ tests */

/*
 * relayed_copy_archived - a member's post is archived as its members'
 * copy (the outbox row) with LF line ends, 0640 in 0750+setgid
 * directories, and recorded
 */
static void
relayed_copy_archived(void **state)
{
	struct fixture *fx = *state;
	GPtrArray *f;
	struct stat sb;
	char *got, *copy, *want, *file, *rec, *size;
	char *dir;

	take_ok(fx, member_post, "bob@example.org", NOW);
	f = files(fx);
	assert_int_equal(f->len, 1);
	got = contents(g_ptr_array_index(f, 0));
	copy = query(fx, "SELECT data FROM " OUTBOX_DATA " WHERE kind = 'relay'");
	want = lf(copy);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "List-Id: Sec <security.example.org>\n"));
	assert_non_null(strstr(got, "\nFrom the start\nlone\rCR\n"));
	assert_null(strstr(got, "\r\n"));
	assert_int_equal(stat(g_ptr_array_index(f, 0), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(stat(fx->l->archive, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 02750);
	dir = g_build_filename(fx->l->archive, "tmp", NULL);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 02750);
	g_free(dir);
	file = query(fx, "SELECT file FROM archive a JOIN posts p ON p.id = a.post_id"
		     " WHERE p.status = 'relayed'");
	rec = g_strdup_printf("%s/new/%s", fx->l->archive, file);
	assert_string_equal(rec, g_ptr_array_index(f, 0));
	size = g_strdup_printf("%zu", strlen(want));
	expect(fx, "SELECT size FROM archive", size);
	g_free(file);
	g_free(rec);
	g_free(size);
	g_free(got);
	g_free(copy);
	g_free(want);
	g_ptr_array_free(f, TRUE);
}

/*
 * held_not_archived - a held report is not archived, nor once rejected
 * or discarded; an approved one is, and joins its report
 */
static void
held_not_archived(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	GError *err = NULL;
	char *id;

	take_ok(fx, report, "rep@example.net", NOW);
	assert_int_equal(nfiles(fx), 0);
	id = held_report_id(fx);
	assert_int_equal(moderate_decide(fx->st, fx->cfg, fx->l, id, POST_REJECTED, "alice@example.org", NULL,
					 "not a vulnerability", NOW + 1, fx->ids, &d, &err), MODERATE_OK);
	moderate_decision_clear(&d);
	g_free(id);
	take_ok(fx, "From: x@example.net\nSubject: spam\nMessage-ID: <s@example.net>\n\nbuy\n",
		"x@example.net", NOW + 2);
	id = held_report_id(fx);
	assert_int_equal(moderate_decide(fx->st, fx->cfg, fx->l, id, POST_DISCARDED, "alice@example.org", NULL,
					 NULL, NOW + 3, fx->ids, &d, &err), MODERATE_OK);
	moderate_decision_clear(&d);
	g_free(id);
	assert_int_equal(nfiles(fx), 0);
	expect(fx, "SELECT count(*) FROM archive", "0");
	take_ok(fx, "From: y@example.net\nSubject: real\nMessage-ID: <y@example.net>\n\nbug\n",
		"y@example.net", NOW + 4);
	id = held_report_id(fx);
	approve(fx, id, NOW + 5);
	assert_int_equal(nfiles(fx), 1);
	expect(fx, "SELECT p.thread = p.report_id FROM archive a JOIN posts p ON p.id = a.post_id", "1");
	g_free(id);
}

/* unwritable - an archive that cannot be written fails the message, names the path, stores nothing */
static void
unwritable(void **state)
{
	struct fixture *fx = *state;
	struct list_config *l = (struct list_config *) fx->l;
	char *blocker = g_build_filename(fx->dir, "blocker", NULL);
	char *saved = l->archive;
	GError *err = NULL;

	/* a file where a directory must be: even root cannot write below it */
	g_file_set_contents(blocker, "x", 1, NULL);
	l->archive = g_build_filename(blocker, "security", NULL);
	assert_int_equal(take(fx, member_post, "bob@example.org", NOW, &err), INTAKE_TEMPFAIL);
	assert_non_null(err);
	if (strstr(err->message, l->archive) == NULL)
		fail_msg("error \"%s\" does not name %s", err->message, l->archive);
	g_clear_error(&err);
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
	g_free(l->archive);
	l->archive = saved;
	take_ok(fx, member_post, "bob@example.org", NOW + 1);
	assert_int_equal(nfiles(fx), 1);
	g_free(blocker);
}

/* rolled_back - a failure after the write, before the commit: the file goes with the transaction */
static void
rolled_back(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	fail_queue = 1;
	assert_int_equal(take(fx, member_post, "bob@example.org", NOW, &err), INTAKE_TEMPFAIL);
	g_clear_error(&err);
	fail_queue = 0;
	assert_int_equal(nfiles(fx), 0);
	expect(fx, "SELECT count(*) FROM posts", "0");
}

/*
 * failed_commit - a commit that fails may have reached the disk, so the
 * file stays; archive_recover() removes it, as no post names it, and
 * leaves the archived ones; the retry is archived once
 */
static void
failed_commit(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	GPtrArray *before, *after;
	guint removed = 99;

	take_ok(fx, report, "rep@example.net", NOW);		/* held: nothing archived */
	take_ok(fx, member_post, "bob@example.org", NOW + 1);	/* archived */
	before = files(fx);
	assert_int_equal(before->len, 1);
	fail_commit = 1;
	assert_int_equal(take(fx, member_post, "carol@example.org", NOW + 2, &err), INTAKE_TEMPFAIL);
	g_clear_error(&err);
	fail_commit = 0;
	expect(fx, "SELECT count(*) FROM posts", "2");
	assert_int_equal(nfiles(fx), 2);			/* the orphan */
	assert_int_equal(archive_recover(fx->st, fx->l, &removed, &err), STORE_OK);
	assert_int_equal(removed, 1);
	after = files(fx);
	assert_int_equal(after->len, 1);
	assert_string_equal(g_ptr_array_index(after, 0), g_ptr_array_index(before, 0));
	assert_int_equal(archive_recover(fx->st, fx->l, &removed, &err), STORE_OK);
	assert_int_equal(removed, 0);
	take_ok(fx, member_post, "carol@example.org", NOW + 3);	/* the retry */
	assert_int_equal(nfiles(fx), 2);
	expect(fx, "SELECT count(*) FROM archive", "2");
	g_ptr_array_free(before, TRUE);
	g_ptr_array_free(after, TRUE);
}

/*
 * crash - a process that dies between its write and its commit leaves a
 * file no post names, and libetpan's temporary files; archive_recover()
 * removes them and nothing else (not a file vigil did not name)
 */
static void
crash(void **state)
{
	struct fixture *fx = *state;
	struct post_record rec = { .list = FIXTURE_LIST, .status = "relayed", .reason = "member",
				   .sender = "bob@example.org", .received = NOW, .size = 5 };
	char *foreign = NULL, *tmp = NULL;
	GError *err = NULL;
	gint64 id;
	guint removed;

	take_ok(fx, member_post, "bob@example.org", NOW);
	assert_int_equal(store_begin(fx->st, &err), STORE_OK);
	assert_int_equal(store_post_add(fx->st, &rec, &id, &err), STORE_OK);
	assert_int_equal(archive_add(fx->st, fx->l, id, "x\r\n", 3, NOW, NULL, &err), STORE_OK);
	store_rollback(fx->st);		/* the crash: no archive_discard() */
	assert_int_equal(nfiles(fx), 2);
	foreign = g_build_filename(fx->l->archive, "new", "imported-by-hand.eml", NULL);
	tmp = g_build_filename(fx->l->archive, "tmp", "etpan-maildir-AbCdEf", NULL);
	g_file_set_contents(foreign, "x\n", -1, NULL);
	g_file_set_contents(tmp, "x\n", -1, NULL);
	assert_int_equal(archive_recover(fx->st, fx->l, &removed, &err), STORE_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(nfiles(fx), 2);		/* the archived one and the foreign one */
	assert_true(g_file_test(foreign, G_FILE_TEST_EXISTS));
	assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	expect(fx, "SELECT count(*) FROM archive", "1");
	g_free(foreign);
	g_free(tmp);
}

/*
 * by_mta - a milter's message: the archive holds what Postfix makes of
 * it (the edits applied, each field on one line)
 */
static void
by_mta(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { FIXTURE_LIST };
	static const char msg[] = "From: Bob <bob@example.org>\nTo: security@example.org\n"
		"Subject: via the MTA\nMessage-ID: <mta@example.org>\n\nbody\n";
	struct intake_smtp out;
	GError *err = NULL;
	GPtrArray *f;
	GString *want;
	char *got;

	assert_int_equal(intake_at_smtp(fx->st, fx->cfg, msg, strlen(msg), "bob@example.org", rcpts, 1,
					NOW, fx->ids, &out, &err), INTAKE_OK);
	assert_non_null(out.edits);
	want = header_apply_unfolded(msg, strlen(msg), out.edits);
	f = files(fx);
	assert_int_equal(f->len, 1);
	got = contents(g_ptr_array_index(f, 0));
	assert_string_equal(got, want->str);
	assert_non_null(strstr(got, "Sender: security-bounces@example.org\n"));
	g_free(got);
	g_string_free(want, TRUE);
	g_ptr_array_free(f, TRUE);
	intake_smtp_clear(&out);
}

/*
 * export_thread - an approved report and two replies, exported: three
 * messages in the order they arrived, each as archived, mboxrd-quoted
 */
static void
export_thread(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] = "From: Bob <bob@example.org>\nTo: security@example.org\n"
		"Subject: Re: overflow\nMessage-ID: <re1@example.org>\nIn-Reply-To: <r1@example.net>\n\n"
		"From the maintainer: confirmed.\n";
	static const char follow_up[] = "From: Reporter <rep@example.net>\nTo: security@example.org\n"
		"Subject: Re: overflow\nMessage-ID: <re2@example.net>\nIn-Reply-To: <re1@example.org>\n"
		"References: <r1@example.net> <re1@example.org>\n\nthanks\n";
	struct list_config *l = (struct list_config *) fx->l;
	GString *out = g_string_new(NULL);
	GError *err = NULL;
	char *id, **lines, *saved;
	guint n = 0, froms = 0, i;
	const char *a, *b, *c;

	take_ok(fx, report, "rep@example.net", NOW);
	id = held_report_id(fx);
	take_ok(fx, member_post, "bob@example.org", NOW + 1);	/* in no thread: not exported */
	approve(fx, id, NOW + 100);
	take_ok(fx, reply, "bob@example.org", NOW + 200);
	take_ok(fx, follow_up, "rep@example.net", NOW + 300);
	assert_int_equal(nfiles(fx), 4);
	assert_int_equal(archive_export(fx->st, fx->l, id, out, &n, &err), STORE_OK);
	assert_int_equal(n, 3);
	lines = g_strsplit(out->str, "\n", -1);
	for (i = 0; lines[i]; i++)
		froms += g_str_has_prefix(lines[i], "From ");
	assert_int_equal(froms, 3);
	g_strfreev(lines);
	assert_true(g_str_has_prefix(out->str, "From rep@example.net "));
	a = strstr(out->str, "Message-ID: <r1@example.net>");
	b = strstr(out->str, "Message-ID: <re1@example.org>");
	c = strstr(out->str, "Message-ID: <re2@example.net>");
	assert_true(a && b && c && a < b && b < c);
	assert_non_null(strstr(out->str, "\n>From the maintainer: confirmed.\n\nFrom rep@example.net "));
	assert_null(strstr(out->str, "Subject: patch"));
	g_string_free(out, TRUE);
	/* an unknown report: nothing to export */
	out = g_string_new(NULL);
	assert_int_equal(archive_export(fx->st, fx->l, "2020-0999", out, &n, &err), STORE_NOTFOUND);
	assert_non_null(strstr(err->message, "2020-0999"));
	g_clear_error(&err);
	assert_int_equal(out->len, 0);
	/* archived messages, but the archive key since removed: say so */
	saved = l->archive;
	l->archive = "";
	assert_int_equal(archive_export(fx->st, fx->l, id, out, &n, &err), STORE_ERROR);
	assert_non_null(strstr(err->message, "no archive is configured now"));
	g_clear_error(&err);
	l->archive = saved;
	g_string_free(out, TRUE);
	g_free(id);
}

/* check - check-config's look at the directory: modes, group, creatable */
static void
check(void **state)
{
	struct fixture *fx = *state;
	struct list_config *l = (struct list_config *) fx->l;
	GError *err = NULL;

	assert_true(archive_check(l, &err));			/* not there yet, can be made */
	take_ok(fx, member_post, "bob@example.org", NOW);
	assert_true(archive_check(l, &err));
	assert_int_equal(chmod(l->archive, 0755), 0);
	assert_false(archive_check(l, &err));
	assert_non_null(strstr(err->message, "others may use it (mode 0755)"));
	assert_non_null(strstr(err->message, l->archive));
	g_clear_error(&err);
	assert_int_equal(chmod(l->archive, 02750), 0);
	g_free(l->archive_group);
	l->archive_group = g_strdup(getegid() == 0 ? "nogroup" : "root");
	assert_false(archive_check(l, &err));
	assert_non_null(strstr(err->message, "its group is not"));
	g_clear_error(&err);
	g_free(l->archive_group);
	l->archive_group = g_strdup("");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mboxrd_quoting),
		cmocka_unit_test(mbox_from),
		cmocka_unit_test_setup_teardown(relayed_copy_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(held_not_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(rolled_back, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(crash, setup, teardown),
		cmocka_unit_test_setup_teardown(by_mta, setup, teardown),
		cmocka_unit_test_setup_teardown(export_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(check, setup, teardown),
	};

	message_init();
	return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
