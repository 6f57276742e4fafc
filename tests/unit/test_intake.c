/*
 * test_intake - one message, one transaction: what is stored and queued
 * for each policy outcome, on a real sqlite file (nothing is sent)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "config.h"
#include "dbfixture.h"
#include "header.h"
#include "intake.h"
#include "message.h"
#include "store.h"

#define NOW 1795300000

static const char report[] =
	"From: Reporter <rep@example.net>\nTo: security@example.org\n"
	"Subject: overflow\nMessage-ID: <r1@example.net>\n\ndetails\n";

static int
setup(void **state)
{
	struct fixture *fx = fixture_new("vigil-intake", "max_message_size = 4K\n");

	if (fx == NULL)
		return -1;
	store_member_add(fx->st, FIXTURE_LIST, "alice@example.org", "owner", "", NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "bob@example.org", "member", "", NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "carol@example.org", "member", "", NULL, 1, NULL);
	*state = fx;
	return 0;
}

/* take - run intake for one message */
static enum intake_rc
take(struct fixture *fx, const char *msg, const char *sender, const char *rcpt, gint64 now, GError **err)
{
	const char *rcpts[] = { rcpt };

	return intake_message(fx->st, fx->cfg, msg, strlen(msg), sender, rcpts, 1, now, fx->ids, err);
}

/* held_with_autoreply - a report is held and answered once per interval */
static void
held_with_autoreply(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_OK);
	assert_int_equal(fx->ids->len, 2);
	expect(fx, "SELECT status || ' ' || reason || ' ' || report_id || ' ' || length(raw) FROM posts",
	       "held non-member 2026-0001 114");
	expect(fx, "SELECT kind || ' <' || sender || '> ' || recipients FROM outbox WHERE kind = 'autoreply'",
	       "autoreply <> rep@example.net");
	expect(fx, "SELECT instr(data, 'overflow') || instr(data, 'details') FROM outbox WHERE kind = 'autoreply'",
	       "00");
	/* the moderators (alice, the owner; not the members bob and carol) are told how to decide */
	expect(fx, "SELECT kind || ' <' || sender || '> ' || recipients FROM outbox WHERE kind <> 'autoreply'",
	       "moderator-held <owner@example.org> alice@example.org");
	expect(fx, "SELECT instr(data, '2026-0001') > 0 AND instr(data, 'vigil show 1') > 0"
	       " AND instr(data, 'vigil approve 1') > 0 AND instr(data, 'Auto-Submitted: auto-generated') > 0"
	       " FROM outbox WHERE kind = 'moderator-held'", "1");
	expect(fx, "SELECT action || ' ' || report_id FROM audit", "hold 2026-0001");
	/* the same reporter an hour later: held, not answered */
	assert_int_equal(take(fx, report, "Rep@Example.NET", "security@example.org", NOW + 3600, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM posts WHERE status = 'held'", "2");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "1");
	/* a day later: answered again; every held post is a notice to the moderators */
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW + 86400, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "2");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'moderator-held'", "3");
	expect(fx, "SELECT group_concat(report_id, ',') FROM posts", "2026-0001,2026-0002,2026-0003");
}

/* member_relayed - a member's post goes to every other member, once */
static void
member_relayed(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Bob <bob@example.org>\nSubject: fix\n\npatch\n.\nend\n";
	GError *err = NULL;

	assert_int_equal(take(fx, post, "bob@example.org", "Security@Example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || ifnull(report_id, '-') || ' ' || ifnull(raw, '-') FROM posts",
	       "relayed - -");
	expect(fx, "SELECT kind || ' ' || sender || ' ' || replace(recipients, char(10), ',') FROM outbox",
	       "relay security-bounces@example.org alice@example.org,carol@example.org");
	expect(fx, "SELECT instr(data, 'List-Id: Sec <security.example.org>') = 1"
	       " AND instr(data, 'X-Loop: security@example.org' || char(13, 10)) > 0"
	       " AND instr(data, char(13, 10) || '.' || char(13, 10) || 'end' || char(13, 10)) > 0 FROM outbox", "1");
}

/* member_by_from - From alone makes a member's post */
static void
member_by_from(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Carol <CAROL@example.org>\nSubject: x\n\ny\n";
	GError *err = NULL;

	assert_int_equal(take(fx, post, "bounces+carol=example.org@lists.example", "security@example.org", NOW, &err),
			 INTAKE_OK);
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox", "alice@example.org,bob@example.org");
}

/* loop_kept - our own marker: kept, relayed to nobody, no auto-reply */
static void
loop_kept(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "X-Loop: security@example.org\nFrom: bob@example.org\nSubject: x\n\ny\n";
	GError *err = NULL;

	assert_int_equal(take(fx, post, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held loop");
	expect(fx, "SELECT group_concat(kind) FROM outbox", "moderator-held");
}

/* malformed_held - no header block: held, answered, never refused */
static void
malformed_held(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(take(fx, "garbage without any header\n", "rep@example.net", "security@example.org", NOW,
			      &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held malformed");
	expect(fx, "SELECT group_concat(kind) FROM (SELECT kind FROM outbox ORDER BY id)",
	       "autoreply,moderator-held");
}

/* too_large_stores_nothing - REJECT leaves no trace and says why */
static void
too_large_stores_nothing(void **state)
{
	struct fixture *fx = *state;
	GString *big = g_string_new("From: rep@example.net\nSubject: big\n\n");
	GError *err = NULL;

	while (big->len <= 4096)
		g_string_append(big, "0123456789abcdef\n");
	assert_int_equal(take(fx, big->str, "rep@example.net", "security@example.org", NOW, &err), INTAKE_REJECT);
	assert_non_null(strstr(err->message, "too large for security@example.org"));
	g_clear_error(&err);
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	expect(fx, "SELECT count(*) FROM report_counters", "0");
	assert_int_equal(fx->ids->len, 0);
	g_string_free(big, TRUE);
}

/* other_recipients_forwarded - not a list: the message unchanged, same sender */
static void
other_recipients_forwarded(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { "dave@example.com", "security@example.org", "erin@example.com" };
	GError *err = NULL;

	assert_int_equal(intake_message(fx->st, fx->cfg, report, strlen(report), "rep@example.net", rcpts, 3, NOW,
					fx->ids, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM posts", "1");
	expect(fx, "SELECT sender || ' ' || replace(recipients, char(10), ',') || ' ' || length(data)"
	       " FROM outbox WHERE kind = 'forward'", "rep@example.net dave@example.com,erin@example.com 120");
	assert_int_equal(fx->ids->len, 3);	/* auto-reply, moderators' notice, forward */
}

/* smtp - run intake_at_smtp for one message to the list, as a milter would */
static enum intake_rc
smtp(struct fixture *fx, const char *msg, const char *sender, const char *const *rcpts, size_t n,
     struct intake_smtp *out, GError **err)
{
	return intake_at_smtp(fx->st, fx->cfg, msg, strlen(msg), sender, rcpts, n, NOW, fx->ids, out, err);
}

/* joined - the strings of an array, comma-separated */
static char *
joined(const GPtrArray *a)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; a && i < a->len; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "", (char *) g_ptr_array_index(a, i));
	return g_string_free(s, FALSE);
}

/* edits - header changes as name@index=value, comma-separated */
static char *
edits(const GPtrArray *a)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; a && i < a->len; i++) {
		const struct header_edit *e = g_ptr_array_index(a, i);

		g_string_append_printf(s, "%s%s@%d=%s", i ? "," : "", e->name, e->index,
				       e->value ? e->value : "(delete)");
	}
	return g_string_free(s, FALSE);
}

/* smtp_member - Postfix delivers a member's post: members and headers to add, nothing queued */
static void
smtp_member(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Bob <bob@example.org>\nSubject: fix\n\npatch\n";
	const char *rcpts[] = { "Security@Example.org" };
	struct intake_smtp out;
	GError *err = NULL;
	char *s;

	assert_int_equal(smtp(fx, post, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	s = joined(out.drop_rcpts);
	assert_string_equal(s, "Security@Example.org");	/* as given, for smfi_delrcpt */
	g_free(s);
	s = joined(out.add_rcpts);
	assert_string_equal(s, "alice@example.org,carol@example.org");
	g_free(s);
	s = edits(out.edits);
	assert_string_equal(s, "List-Id@0=Sec <security.example.org>,"
			    "List-Help@0=<mailto:owner@example.org?subject=help>,"
			    "List-Post@0=<mailto:security@example.org>,List-Owner@0=<mailto:owner@example.org>,"
			    "Precedence@0=list,X-Loop@0=security@example.org,"
			    "Sender@0=security-bounces@example.org");
	g_free(s);
	assert_false(out.others);
	assert_string_equal(out.sender, "security-bounces@example.org");	/* bounces come back to us */
	expect(fx, "SELECT status || ' ' || reason FROM posts", "relayed member");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
	intake_smtp_clear(&out);
}

/* smtp_held - a report is held and answered; the MTA keeps the other recipient only */
static void
smtp_held(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { "<security@example.org>", "dave@example.com" };
	struct intake_smtp out;
	GError *err = NULL;

	assert_int_equal(smtp(fx, report, "rep@example.net", rcpts, 2, &out, &err), INTAKE_OK);
	assert_int_equal(out.drop_rcpts->len, 1);
	assert_string_equal(g_ptr_array_index(out.drop_rcpts, 0), "<security@example.org>");
	assert_int_equal(out.add_rcpts->len, 0);
	assert_null(out.edits);
	assert_true(out.others);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held non-member");
	/* the MTA delivers to dave itself: no forward row */
	expect(fx, "SELECT group_concat(kind) FROM (SELECT kind FROM outbox ORDER BY id)",
	       "autoreply,moderator-held");
	assert_int_equal(fx->ids->len, 2);
	intake_smtp_clear(&out);
}

/* smtp_refused - a loop and an oversize message are refused to the client; nothing stored */
static void
smtp_refused(void **state)
{
	struct fixture *fx = *state;
	static const char loop[] = "X-Loop: security@example.org\nFrom: bob@example.org\nSubject: x\n\ny\n";
	const char *rcpts[] = { "security@example.org" };
	GString *big = g_string_new("From: rep@example.net\nSubject: big\n\n");
	struct intake_smtp out;
	GError *err = NULL;

	assert_int_equal(smtp(fx, loop, "bob@example.org", rcpts, 1, &out, &err), INTAKE_REJECT);
	assert_string_equal(out.reject, "loop");
	assert_non_null(strstr(err->message, "mail loop"));
	assert_int_equal(out.add_rcpts->len, 0);
	assert_null(out.edits);
	g_clear_error(&err);
	intake_smtp_clear(&out);
	while (big->len <= 4096)
		g_string_append(big, "0123456789abcdef\n");
	assert_int_equal(smtp(fx, big->str, "rep@example.net", rcpts, 1, &out, &err), INTAKE_REJECT);
	assert_string_equal(out.reject, "too-large");
	g_clear_error(&err);
	intake_smtp_clear(&out);
	g_string_free(big, TRUE);
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	expect(fx, "SELECT count(*) FROM audit", "0");
	assert_int_equal(fx->ids->len, 0);
}

/* busy_is_tempfail - another writer holds the lock: nothing stored, try again */
static void
busy_is_tempfail(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->cfg->database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_TEMPFAIL);
	assert_non_null(strstr(err->message, "locked"));
	g_clear_error(&err);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	expect(fx, "SELECT count(*) FROM posts", "0");
	assert_int_equal(fx->ids->len, 0);
	/* and once the lock is gone it passes */
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(held_with_autoreply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(member_relayed, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(member_by_from, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(loop_kept, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(malformed_held, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(too_large_stores_nothing, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(other_recipients_forwarded, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_member, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_held, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_refused, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(busy_is_tempfail, setup, fixture_teardown),
	};

	message_init();
	return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
