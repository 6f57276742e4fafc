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
#include "moderate.h"
#include "policy.h"
#include "store.h"

#define NOW 1795300000

static const char report[] =
	"From: Reporter <rep@example.net>\nTo: security@example.org\n"
	"Subject: overflow\nMessage-ID: <r1@example.net>\n\ndetails\n";

static const char report_next[] =
	"From: Reporter <rep@example.net>\nTo: security@example.org\n"
	"Subject: overflow again\nMessage-ID: <r2@example.net>\n\ndetails\n";

static int
setup(void **state)
{
	struct fixture *fx = fixture_new("vigil-intake", "max_message_size = 4K\n");

	if (fx == NULL)
		return -1;
	store_member_add(fx->st, FIXTURE_LIST, "alice@example.org", "owner", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "bob@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "carol@example.org", "member", "", NULL, 0, NULL, 1, NULL);
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
	expect(fx, "SELECT status || ' ' || reason || ' ' || report_id || ' ' || length(raw) FROM " POSTS_RAW,
	       "held non-member 2026-0001 114");
	expect(fx, "SELECT kind || ' <' || sender || '> ' || recipients FROM outbox WHERE kind = 'autoreply'",
	       "autoreply <> rep@example.net");
	expect(fx, "SELECT instr(data, 'overflow') || instr(data, 'details') FROM " OUTBOX_DATA " WHERE kind = 'autoreply'",
	       "00");
	/* the moderators (alice, the owner; not the members bob and carol) are told how to decide */
	expect(fx, "SELECT kind || ' <' || sender || '> ' || recipients FROM outbox WHERE kind <> 'autoreply'",
	       "moderator-held <owner@example.org> alice@example.org");
	expect(fx, "SELECT instr(data, '2026-0001') > 0 AND instr(data, 'vigil show 1') > 0"
	       " AND instr(data, 'vigil approve 1') > 0 AND instr(data, 'Auto-Submitted: auto-generated') > 0"
	       " FROM " OUTBOX_DATA " WHERE kind = 'moderator-held'", "1");
	expect(fx, "SELECT action || ' ' || report_id FROM audit", "hold 2026-0001");
	/* the same reporter an hour later: held, not answered */
	assert_int_equal(take(fx, report, "Rep@Example.NET", "security@example.org", NOW + 3600, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM posts WHERE status = 'held'", "2");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "1");
	/* a day later, another report: answered again; every held post is a notice to the moderators */
	assert_int_equal(take(fx, report_next, "rep@example.net", "security@example.org", NOW + 86400, &err),
			 INTAKE_OK);
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
	expect(fx, "SELECT status || ' ' || ifnull(report_id, '-') || ' ' || ifnull(raw, '-') FROM " POSTS_RAW,
	       "relayed - -");
	expect(fx, "SELECT kind || ' ' || sender || ' ' || replace(recipients, char(10), ',') FROM outbox",
	       "relay security-bounces@example.org alice@example.org,carol@example.org");
	expect(fx, "SELECT instr(data, 'List-Id: Sec <security.example.org>') = 1"
	       " AND instr(data, 'X-Loop: security@example.org' || char(13, 10)) > 0"
	       " AND instr(data, char(13, 10) || '.' || char(13, 10) || 'end' || char(13, 10)) > 0 FROM " OUTBOX_DATA, "1");
}

/*
 * forged_from_held - From: a member is no member's post: anyone may write
 * it.  The envelope sender decides; the post is held, never relayed.
 */
static void
forged_from_held(void **state)
{
	static const struct {
		const char *name;
		const char *sender;
		const char *from;
		const char *want;	/* the post, then its outbox rows */
	} rows[] = {
		{ "a stranger's envelope", "mallory@attacker.example", "Carol <CAROL@example.org>",
		  "held non-member autoreply,moderator-held" },
		{ "another list's envelope", "bounces+carol=example.org@lists.example", "carol@example.org",
		  "held non-member autoreply,moderator-held" },
		{ "the null sender", "", "Alice <alice@example.org>", "held non-member moderator-held" },
		{ "a member among several From", "eve@attacker.example", "eve@attacker.example, bob@example.org",
		  "held non-member autoreply,moderator-held" },
		{ "a From group of members", "oscar@attacker.example", "Team: alice@example.org, bob@example.org;",
		  "held non-member autoreply,moderator-held" },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *post = g_strdup_printf("From: %s\nSubject: please deploy\n\nrun this\n", rows[i].from);
		char *got;
		GError *err = NULL;

		if (take(fx, post, rows[i].sender, "security@example.org", NOW, &err) != INTAKE_OK)
			fail_msg("%s: %s", rows[i].name, err ? err->message : "?");
		got = query(fx, "SELECT status || ' ' || reason || ' ' || (SELECT group_concat(kind) FROM"
			    " (SELECT kind FROM outbox WHERE post_id = p.id ORDER BY id)) FROM posts p"
			    " WHERE id = (SELECT max(id) FROM posts)");
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got %s, want %s", rows[i].name, got, rows[i].want);
		g_free(got);
		g_free(post);
	}
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "0");
}

/*
 * own_address_not_answered - a sender that is the list's own address or
 * its bounce address is forged: held, and no auto-reply to ourselves
 */
static void
own_address_not_answered(void **state)
{
	static const char *const senders[] = {
		"security@example.org", "Security-Bounces@Example.ORG", "security+urgent@example.org",
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(senders); i++) {
		char *got;
		GError *err = NULL;

		if (take(fx, report, senders[i], "security@example.org", NOW, &err) != INTAKE_OK)
			fail_msg("%s: %s", senders[i], err ? err->message : "?");
		got = query(fx, "SELECT status || ' ' || reason || ' ' || (SELECT group_concat(kind) FROM"
			    " outbox WHERE post_id = p.id) FROM posts p WHERE id = (SELECT max(id) FROM posts)");
		if (strcmp(got, "held non-member moderator-held") != 0)
			fail_msg("%s: got %s, want held non-member moderator-held", senders[i], got);
		g_free(got);
	}
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
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
	       " FROM " OUTBOX_DATA " WHERE kind = 'forward'", "rep@example.net dave@example.com,erin@example.com 120");
	assert_int_equal(fx->ids->len, 3);	/* auto-reply, moderators' notice, forward */
}

/*
 * logged_when_stored - the log says a report was held once it is stored:
 * not when the transaction fails after the hold (here the forward to the
 * other recipient), and then once the message comes again
 */
static void
logged_when_stored(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { "security@example.org", "dave@example.com" };
	GError *err = NULL;
	enum intake_rc rc;
	char *logged;

	g_free(query(fx, "CREATE TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.kind = 'forward'"
		     " BEGIN SELECT RAISE(ABORT, 'refused'); END"));
	log_capture_begin();
	rc = intake_message(fx->st, fx->cfg, report, strlen(report), "rep@example.net", rcpts, 2, NOW,
			    fx->ids, &err);
	logged = log_capture_end();
	assert_int_equal(rc, INTAKE_TEMPFAIL);
	g_clear_error(&err);
	expect(fx, "SELECT count(*) FROM posts", "0");
	lacks("the log of a failed message", logged, "action=hold");
	g_free(logged);

	g_free(query(fx, "DROP TRIGGER refuse"));
	log_capture_begin();
	rc = intake_message(fx->st, fx->cfg, report, strlen(report), "rep@example.net", rcpts, 2, NOW,
			    fx->ids, &err);
	logged = log_capture_end();
	assert_int_equal(rc, INTAKE_OK);
	expect(fx, "SELECT count(*) FROM posts", "1");
	has("the log of a stored message", logged, "post=1 list=security@example.org action=hold"
	    " reason=non-member report=");
	g_free(logged);
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

/*
 * taken_again - the MTA delivers again a message whose answer it lost (the
 * filter killed after the commit): nothing is stored or queued twice; the
 * same bytes to another list address, or other bytes, are another message
 */
static void
taken_again(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Bob <bob@example.org>\nSubject: fix\n\npatch\n";
	static const char edited[] = "From: Bob <bob@example.org>\nSubject: fix\n\npatch!\n";
	GError *err = NULL;

	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_OK);
	assert_int_equal(take(fx, post, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	assert_int_equal(fx->ids->len, 3);
	expect(fx, "SELECT count(*) FROM taken", "2");
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW + 300, &err), INTAKE_OK);
	assert_int_equal(take(fx, post, "bob@example.org", "security@example.org", NOW + 600, &err), INTAKE_OK);
	assert_null(err);
	assert_int_equal(fx->ids->len, 3);
	expect(fx, "SELECT count(*) || ' ' || group_concat(status, ',') FROM posts", "2 held,relayed");
	expect(fx, "SELECT count(*) FROM outbox", "3");
	expect(fx, "SELECT count(*) FROM audit", "2");
	expect(fx, "SELECT last FROM report_counters", "1");
	/* the envelope counts: the null sender is not bob; nor is another list address the list */
	assert_int_equal(take(fx, post, "", "security@example.org", NOW, &err), INTAKE_OK);
	assert_int_equal(take(fx, edited, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM posts", "4");
	expect(fx, "SELECT count(*) FROM taken", "4");
}

/*
 * taken_rolled_back - a message not stored is not taken in: refused, or
 * failing after its digest was recorded (no template to answer with), it
 * is stored when it comes again
 */
static void
taken_rolled_back(void **state)
{
	struct fixture *fx = *state;
	GString *big = g_string_new("From: rep@example.net\nSubject: big\n\n");
	char *templates = fx->cfg->template_dir;
	GError *err = NULL;

	while (big->len < 5000)
		g_string_append(big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
	assert_int_equal(take(fx, big->str, "rep@example.net", "security@example.org", NOW, &err), INTAKE_REJECT);
	g_clear_error(&err);
	g_string_free(big, TRUE);
	fx->cfg->template_dir = g_build_filename(fx->dir, "no-such-dir", NULL);
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_TEMPFAIL);
	g_clear_error(&err);
	g_free(fx->cfg->template_dir);
	fx->cfg->template_dir = templates;
	expect(fx, "SELECT count(*) FROM taken", "0");
	assert_int_equal(take(fx, report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) || ' ' || status FROM posts", "1 held");
	expect(fx, "SELECT count(*) FROM taken", "1");
	assert_int_equal(fx->ids->len, 2);
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

/* a second report, of another reporter */
static const char report_b[] =
	"From: Other <other@example.net>\nTo: security@example.org\n"
	"Subject: injection\nMessage-ID: <r2@example.net>\n\nmore details\n";

/* approved - a report held on arrival and approved by the owner, the real path to a thread */
static void
approved(struct fixture *fx, const char *msg, const char *sender, const char *report_id, gint64 now)
{
	struct decision d;
	GError *err = NULL;

	assert_int_equal(take(fx, msg, sender, "security@example.org", now, &err), INTAKE_OK);
	if (moderate_decide(fx->st, fx->cfg, fx->l, report_id, POST_APPROVED, "alice@example.org", NULL, NULL,
			    now + 60, fx->ids, &d, &err) != MODERATE_OK)
		fail_msg("approve %s: %s", report_id, err ? err->message : "?");
	moderate_decision_clear(&d);
}

/* LAST_POST - the newest post as "status reason thread" */
#define LAST_POST "SELECT status || ' ' || reason || ' ' || ifnull(thread, '-') FROM posts" \
	" WHERE id = (SELECT max(id) FROM posts)"
/* LAST_RELAY - the newest post's members' copy: how many, envelope sender, recipients */
#define LAST_RELAY "SELECT count(*) || ' ' || ifnull(sender, '') || ' ' || ifnull(replace(recipients, char(10), ','), '')" \
	" FROM outbox WHERE kind = 'relay' AND post_id = (SELECT max(id) FROM posts)"
/* LAST_RELAY_HAS - the newest post's members' copy carries this header line */
#define LAST_RELAY_HAS(line) "SELECT instr(data, '" line "' || char(13, 10)) > 0" \
	" FROM " OUTBOX_DATA " WHERE kind = 'relay' AND post_id = (SELECT max(id) FROM posts)"

/* thread_member_reply - a member's reply reaches the members and the reporter, named in Cc */
static void
thread_member_reply(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Bob <bob@example.org>\nTo: security@example.org\nSubject: Re: overflow\n"
		"Message-ID: <b1@example.org>\nIn-Reply-To: <r1@example.net>\nReferences: <r1@example.net>\n"
		"\nconfirmed\n";
	GError *err = NULL;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	expect(fx, "SELECT status || ' ' || thread || ' ' || message_id FROM posts", "approved 2026-0001 r1@example.net");
	assert_int_equal(take(fx, reply, "bob@example.org", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member 2026-0001");
	expect(fx, "SELECT message_id FROM posts WHERE id = 2", "b1@example.org");
	expect(fx, LAST_RELAY, "1 security-bounces@example.org alice@example.org,carol@example.org,rep@example.net");
	expect(fx, LAST_RELAY_HAS("Cc: rep@example.net"), "1");
	expect(fx, LAST_RELAY_HAS("Sender: security-bounces@example.org"), "1");
	expect(fx, LAST_RELAY_HAS("Message-ID: <b1@example.org>"), "1");
	/* no auto-reply, no moderator: it was relayed */
	expect(fx, "SELECT count(*) FROM outbox WHERE post_id = 2 AND kind <> 'relay'", "0");
}

/* thread_reply_all - a reporter already in Cc gets the author's copy, not a second one */
static void
thread_reply_all(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Bob <bob@example.org>\nTo: security@example.org\nCc: Reporter <Rep@Example.NET>\n"
		"Subject: Re: overflow\nMessage-ID: <b1@example.org>\nIn-Reply-To: <r1@example.net>\n\nconfirmed\n";
	GError *err = NULL;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	assert_int_equal(take(fx, reply, "bob@example.org", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member 2026-0001");
	expect(fx, LAST_RELAY, "1 security-bounces@example.org alice@example.org,carol@example.org");
	expect(fx, LAST_RELAY_HAS("Cc: Reporter <Rep@Example.NET>"), "1");
	/* the Cc field as the author wrote it, and no other */
	expect(fx, "SELECT ((length(data) - length(replace(data, 'Cc:', ''))) / 3) || ' '"
	       " || instr(data, 'rep@example.net') FROM " OUTBOX_DATA " WHERE kind = 'relay' AND post_id = 2", "1 0");
}

/* thread_reporter_followup - the reporter's own follow-up passes, to every member */
static void
thread_reporter_followup(void **state)
{
	struct fixture *fx = *state;
	static const char followup[] =
		"From: Reporter <rep@example.net>\nTo: security@example.org\nSubject: Re: overflow\n"
		"Message-ID: <r1b@example.net>\nIn-Reply-To: <r1@example.net>\n\nanother crash\n";
	GError *err = NULL;
	guint mark;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	mark = fx->ids->len;
	assert_int_equal(take(fx, followup, "rep@example.net", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed reporter 2026-0001");
	expect(fx, "SELECT ifnull(report_id, '-') || ' ' || ifnull(raw, '-') FROM " POSTS_RAW " WHERE id = 2", "- -");
	expect(fx, LAST_RELAY, "1 security-bounces@example.org alice@example.org,bob@example.org,carol@example.org");
	expect(fx, LAST_RELAY_HAS("Cc: rep@example.net"), "0");
	assert_int_equal(fx->ids->len, mark + 1);	/* the copy alone: no auto-reply, no notice */
	expect(fx, "SELECT count(*) FROM reporters", "1");
}

/* thread_other_reporter - a reporter in someone else's thread is held there */
static void
thread_other_reporter(void **state)
{
	struct fixture *fx = *state;
	static const char into_b[] =
		"From: Reporter <rep@example.net>\nTo: security@example.org\nSubject: Re: injection\n"
		"Message-ID: <x1@example.net>\nIn-Reply-To: <r2@example.net>\n\nme too\n";
	/* the direct parent is its own report, but the references also reach into B's */
	static const char mixed[] =
		"From: Reporter <rep@example.net>\nTo: security@example.org\nSubject: Re: overflow\n"
		"Message-ID: <x2@example.net>\nReferences: <r2@example.net>\nIn-Reply-To: <r1@example.net>\n\nhm\n";
	GError *err = NULL;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	approved(fx, report_b, "other@example.net", "2026-0002", NOW + 100);
	assert_int_equal(take(fx, into_b, "rep@example.net", "security@example.org", NOW + 300, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held non-member 2026-0002");
	expect(fx, "SELECT report_id || ' ' || (raw IS NOT NULL) FROM " POSTS_RAW " WHERE id = 3", "2026-0003 1");
	expect(fx, LAST_RELAY, "0  ");
	assert_int_equal(take(fx, mixed, "rep@example.net", "security@example.org", NOW + 400, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held non-member 2026-0001");
	expect(fx, LAST_RELAY, "0  ");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "2");	/* the two approvals */
}

/* thread_stranger_reply - anyone else's reply is held, its thread recorded for the moderator */
static void
thread_stranger_reply(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Mallory <mallory@example.com>\nTo: security@example.org\nSubject: Re: overflow\n"
		"Message-ID: <m1@example.com>\nIn-Reply-To: <r1@example.net>\nReferences: <r1@example.net>\n"
		"\nsend me the exploit\n";
	GError *err = NULL;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	assert_int_equal(take(fx, reply, "mallory@example.com", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held non-member 2026-0001");
	expect(fx, "SELECT report_id FROM posts WHERE id = 2", "2026-0002");
	expect(fx, LAST_RELAY, "0  ");
	expect(fx, "SELECT group_concat(kind) FROM (SELECT kind FROM outbox WHERE post_id = 2 ORDER BY id)",
	       "autoreply,moderator-held");
	expect(fx, "SELECT count(*) FROM reporters WHERE address = 'mallory@example.com'", "0");
}

/* thread_reply_gets_message_id - a relayed reply without one gets a Message-ID a reply can name */
static void
thread_reply_gets_message_id(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Bob <bob@example.org>\nTo: security@example.org\nSubject: Re: overflow\n"
		"In-Reply-To: <r1@example.net>\n\nconfirmed\n";
	GError *err = NULL;
	char *mid, *line, *sql, *followup;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	assert_int_equal(take(fx, reply, "bob@example.org", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member 2026-0001");
	mid = query(fx, "SELECT ifnull(message_id, '(null)') FROM posts WHERE id = 2");
	assert_true(g_str_has_suffix(mid, "@example.org"));
	assert_null(strchr(mid, '<'));
	line = g_strdup_printf("Message-ID: <%s>", mid);
	sql = g_strdup_printf("SELECT instr(data, '%s' || char(13, 10)) > 0"
			      " AND (length(data) - length(replace(data, 'Message-ID:', ''))) / 11 = 1"
			      " FROM " OUTBOX_DATA " WHERE kind = 'relay' AND post_id = 2", line);
	expect(fx, sql, "1");
	/* the reporter answers bob's copy: it finds the thread */
	followup = g_strdup_printf("From: rep@example.net\nTo: security@example.org\nSubject: Re: overflow\n"
				   "Message-ID: <r1c@example.net>\nIn-Reply-To: <%s>\n\nthanks\n", mid);
	assert_int_equal(take(fx, followup, "rep@example.net", "security@example.org", NOW + 240, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed reporter 2026-0001");
	g_free(mid);
	g_free(line);
	g_free(sql);
	g_free(followup);
}

/* dsn - a delivery status notification from Postfix for addr, the n-th of the test */
static char *
dsn(const char *addr, const char *action, const char *status, gint64 n)
{
	return g_strdup_printf(
		"Message-ID: <%" G_GINT64_FORMAT "@mx.example.net>\n"
		"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
		"To: security-bounces@example.org\nSubject: Undelivered Mail Returned to Sender\n"
		"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n"
		"--B1\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
		"--B1\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; mx.example.net\n\n"
		"Original-Recipient: rfc822;%s\nFinal-Recipient: rfc822; %s\n"
		"Action: %s\nStatus: %s\nDiagnostic-Code: smtp; 550 %s user unknown\n\n"
		"--B1\nContent-Type: message/rfc822\n\nFrom: bob@example.org\nSubject: fix\n\npatch\n\n"
		"--B1--\n", n, addr, addr, action, status, status);
}

/* bounce_at - one DSN for addr to the bounce address at now */
static void
bounce_at(struct fixture *fx, const char *addr, const char *action, const char *status, gint64 now)
{
	char *msg = dsn(addr, action, status, now);
	GError *err = NULL;

	if (take(fx, msg, "", "Security-Bounces@Example.org", now, &err) != INTAKE_OK)
		fail_msg("bounce for %s at NOW+%" G_GINT64_FORMAT ": %s", addr, now - NOW, err ? err->message : "?");
	g_free(msg);
}

/* bounce_stored - a bounce is kept per recipient, never relayed, never a post */
static void
bounce_stored(void **state)
{
	struct fixture *fx = *state;
	static const char two[] =
		"From: MAILER-DAEMON@mx.example.net\nTo: security-bounces@example.org\nSubject: failure\n"
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B2\"\n\n"
		"--B2\nContent-Type: text/plain\n\nfailed\n\n--B2\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; mx.example.net\n\n"
		"Final-Recipient: rfc822; carol@example.org\nAction: failed\nStatus: 5.2.2\n\n"
		"Final-Recipient: rfc822; bob@example.org\nAction: delayed\nStatus: 4.4.1\n\n--B2--\n";
	static const char plain[] = "From: postmaster@mx.example.net\nSubject: oops\n\nyour mail bounced\n";
	GError *err = NULL;

	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW);
	expect(fx, "SELECT list || ' <' || sender || '> ' || address || ' ' || action || ' ' || status || ' '"
	       " || failed || ' ' || reported || ' ' || (instr(diagnostic, 'user unknown') > 0) || ' ' || received"
	       " || ' ' || (length(raw) > 100) FROM bounces",
	       "security@example.org <> bob@example.org failed 5.1.1 1 0 1 1795300000 1");
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
	/* one row per recipient of the report */
	assert_int_equal(take(fx, two, "", "security-bounces@example.org", NOW + 1, &err), INTAKE_OK);
	expect(fx, "SELECT group_concat(r, ', ') FROM (SELECT address || ' ' || action || ' ' || status || ' ' || failed"
	       " AS r FROM bounces WHERE received = 1795300001 ORDER BY id)",
	       "carol@example.org failed 5.2.2 1, bob@example.org delayed 4.4.1 0");
	/* no report in it: kept, nobody named */
	assert_int_equal(take(fx, plain, "postmaster@mx.example.net", "security-bounces@example.org", NOW + 2, &err),
			 INTAKE_OK);
	expect(fx, "SELECT count(*) || ' [' || address || '] ' || failed || ' <' || sender || '>'"
	       " FROM bounces WHERE received = 1795300002", "1 [] 0 <postmaster@mx.example.net>");
	expect(fx, "SELECT count(*) FROM bounces", "4");
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
}

/* bounce_threshold - the third failure in the window tells the owner once; the count restarts */
static void
bounce_threshold(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx->l->bounce_threshold, 3);
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW);
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 3600);
	expect(fx, "SELECT count(*) FROM outbox", "0");
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 7200);
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || recipients || ' ' || ifnull(post_id, '-')"
	       " FROM outbox WHERE kind = 'bounce-owner'", "1 owner@example.org owner@example.org -");
	expect(fx, "SELECT count(*) FROM outbox", "1");
	assert_int_equal(fx->ids->len, 1);
	expect(fx, "SELECT instr(data, 'bob@example.org') > 0 AND instr(data, '5.1.1') > 0"
	       " AND instr(data, 'failed 3 times') > 0 FROM " OUTBOX_DATA " WHERE kind = 'bounce-owner'", "1");
	expect(fx, "SELECT group_concat(reported, '') FROM (SELECT reported FROM bounces ORDER BY id)", "001");
	expect(fx, "SELECT count(*) || ' ' || actor || ' ' || detail FROM audit WHERE action = 'bounce-report'",
	       "1 vigil bob@example.org");
	/* the fourth and fifth: not again */
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 10800);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'bounce-owner'", "1");
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 14400);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'bounce-owner'", "1");
	/* the sixth is three more since the report */
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 18000);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'bounce-owner'", "2");
	expect(fx, "SELECT group_concat(reported, '') FROM (SELECT reported FROM bounces ORDER BY id)", "001001");
	assert_int_equal(fx->ids->len, 2);
	expect(fx, "SELECT count(*) FROM posts", "0");
}

/* bounce_window - failures older than bounce_window do not count */
static void
bounce_window(void **state)
{
	struct fixture *fx = *state;
	const gint64 day = 86400;

	assert_int_equal(fx->l->bounce_window, 30 * day);
	bounce_at(fx, "carol@example.org", "failed", "5.1.1", NOW);
	bounce_at(fx, "carol@example.org", "failed", "5.1.1", NOW + 20 * day);
	bounce_at(fx, "carol@example.org", "failed", "5.1.1", NOW + 31 * day);	/* the first is gone */
	expect(fx, "SELECT count(*) FROM outbox", "0");
	bounce_at(fx, "carol@example.org", "failed", "5.1.1", NOW + 32 * day);
	expect(fx, "SELECT count(*) || ' ' || recipients FROM outbox WHERE kind = 'bounce-owner'",
	       "1 owner@example.org");
	expect(fx, "SELECT instr(data, 'carol@example.org') > 0 FROM " OUTBOX_DATA, "1");
}

/* bounce_not_counted - a non-member's failures and a member's delays are stored, never reported */
static void
bounce_not_counted(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 4; i++)
		bounce_at(fx, "rep@example.net", "failed", "5.1.1", NOW + i);
	for (i = 0; i < 4; i++)
		bounce_at(fx, "bob@example.org", "delayed", "4.4.1", NOW + 10 + i);
	expect(fx, "SELECT count(*) || ' ' || sum(failed) || ' ' || sum(reported) FROM bounces", "8 4 0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	expect(fx, "SELECT count(*) FROM audit", "0");
	/* the delays did not count towards bob's failures either */
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 20);
	bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + 21);
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
}

/*
 * smtp_taken_again - a client sends again a message the milter stored but
 * could not answer (it died, Postfix said 451): decided again for the MTA,
 * so the members get it this time, with nothing stored or queued twice
 */
static void
smtp_taken_again(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Bob <bob@example.org>\nSubject: fix\n\npatch\n";
	const char *rcpts[] = { "<security@example.org>", "dave@example.com" };
	struct intake_smtp first, again;
	GError *err = NULL;
	char *a, *b;

	assert_int_equal(smtp(fx, post, "bob@example.org", rcpts, 2, &first, &err), INTAKE_OK);
	assert_int_equal(smtp(fx, post, "bob@example.org", rcpts, 2, &again, &err), INTAKE_OK);
	a = joined(first.add_rcpts);
	b = joined(again.add_rcpts);
	assert_string_equal(b, a);
	assert_string_equal(b, "alice@example.org,carol@example.org");
	g_free(a);
	g_free(b);
	a = edits(first.edits);
	b = edits(again.edits);
	assert_string_equal(b, a);
	g_free(a);
	g_free(b);
	a = joined(again.drop_rcpts);
	assert_string_equal(a, "<security@example.org>");
	g_free(a);
	assert_true(again.others);
	expect(fx, "SELECT count(*) FROM posts", "1");
	expect(fx, "SELECT count(*) FROM audit", "1");
	intake_smtp_clear(&first);
	intake_smtp_clear(&again);
	/* a held report: held once, answered once; the MTA drops the list again */
	assert_int_equal(smtp(fx, report, "rep@example.net", rcpts, 1, &first, &err), INTAKE_OK);
	assert_int_equal(smtp(fx, report, "rep@example.net", rcpts, 1, &again, &err), INTAKE_OK);
	assert_int_equal(again.add_rcpts->len, 0);
	assert_false(again.others);
	a = joined(again.drop_rcpts);
	assert_string_equal(a, "<security@example.org>");
	g_free(a);
	expect(fx, "SELECT count(*) FROM posts WHERE status = 'held'", "1");
	expect(fx, "SELECT count(*) FROM outbox", "2");
	assert_int_equal(fx->ids->len, 2);
	intake_smtp_clear(&first);
	intake_smtp_clear(&again);
}

/* smtp_bounce - at SMTP time a bounce is kept and its recipient dropped; the MTA delivers nothing */
static void
smtp_bounce(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { "<security-bounces@example.org>" };
	char *msg = dsn("bob@example.org", "failed", "5.1.1", 1);
	struct intake_smtp out;
	GError *err = NULL;
	char *s;

	assert_int_equal(smtp(fx, msg, "", rcpts, 1, &out, &err), INTAKE_OK);
	s = joined(out.drop_rcpts);
	assert_string_equal(s, "<security-bounces@example.org>");
	g_free(s);
	assert_int_equal(out.add_rcpts->len, 0);
	assert_null(out.edits);
	assert_null(out.sender);
	assert_false(out.others);
	assert_null(out.reject);
	expect(fx, "SELECT count(*) || ' ' || address || ' ' || failed FROM bounces", "1 bob@example.org 1");
	expect(fx, "SELECT count(*) FROM posts", "0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
	intake_smtp_clear(&out);
	g_free(msg);
}

/* smtp_thread_reply - at SMTP time a member's reply in a thread: the reporter added, named in Cc, an id given */
static void
smtp_thread_reply(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Bob <bob@example.org>\nTo: security@example.org\nSubject: Re: overflow\n"
		"In-Reply-To: <r1@example.net>\n\nconfirmed\n";
	const char *rcpts[] = { "security@example.org" };
	struct intake_smtp out;
	GError *err = NULL;
	char *s, *mid, *want;
	guint mark;

	approved(fx, report, "rep@example.net", "2026-0001", NOW);
	mark = fx->ids->len;
	assert_int_equal(smtp(fx, reply, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member 2026-0001");
	s = joined(out.add_rcpts);
	assert_string_equal(s, "alice@example.org,carol@example.org,rep@example.net");
	g_free(s);
	assert_string_equal(out.sender, "security-bounces@example.org");
	mid = query(fx, "SELECT ifnull(message_id, '(null)') FROM posts WHERE id = 2");
	want = g_strdup_printf("Sender@0=security-bounces@example.org,Message-ID@0=<%s>,Cc@0=rep@example.net", mid);
	s = edits(out.edits);
	if (strstr(s, want) == NULL)
		fail_msg("edits \"%s\" lack \"%s\"", s, want);
	g_free(s);
	g_free(want);
	g_free(mid);
	expect(fx, LAST_RELAY, "0  ");		/* the MTA delivers it */
	assert_int_equal(fx->ids->len, mark);
	intake_smtp_clear(&out);
}

/* bounce_threshold_off - bounce_threshold 0: stored, never reported */
static void
bounce_threshold_off(void **state)
{
	struct fixture *fx = *state;
	int i;

	((struct list_config *) fx->l)->bounce_threshold = 0;
	for (i = 0; i < 5; i++)
		bounce_at(fx, "bob@example.org", "failed", "5.1.1", NOW + i);
	expect(fx, "SELECT count(*) || ' ' || sum(reported) FROM bounces", "5 0");
	expect(fx, "SELECT count(*) FROM outbox", "0");
}

/* list_and_bounces - one message to the list and to its bounce address: a post and a bounce row */
static void
list_and_bounces(void **state)
{
	struct fixture *fx = *state;
	const char *rcpts[] = { "security@example.org", "security-bounces@example.org" };
	GError *err = NULL;

	assert_int_equal(intake_message(fx->st, fx->cfg, report, strlen(report), "rep@example.net", rcpts, 2, NOW,
					fx->ids, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) || ' ' || status FROM posts", "1 held");
	expect(fx, "SELECT count(*) || ' [' || address || ']' FROM bounces", "1 []");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'forward'", "0");
}

/*
 * require_authentication = dkim, trusted_authserv_id = mx.example.org:
 * messages as Postfix hands them to the pipe filter, its Received: line
 * on top and its verifier's fields right below, where OpenDKIM puts them
 */
#define RECEIVED "Received: from mail.example.org (mail.example.org [192.0.2.1])\n" \
	"\tby mx.example.org (Postfix) with ESMTPS id 4AbC\n" \
	"\tfor <security@example.org>; Mon, 2 Nov 2026 10:00:00 +0000\n"
#define AR(results) "Authentication-Results: mx.example.org; " results "\n"
#define BOB_POST "From: Bob <bob@example.org>\nTo: security@example.org\nSubject: fix\n\npatch\n"
#define JOIN_BAD "security+join-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq@example.org"

static int
setup_auth(void **state)
{
	struct fixture *fx = fixture_new("vigil-intake", "max_message_size = 4K\n"
					 "require_authentication = dkim\ntrusted_authserv_id = mx.example.org\n");

	if (fx == NULL)
		return -1;
	store_member_add(fx->st, FIXTURE_LIST, "alice@example.org", "owner", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "bob@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, FIXTURE_LIST, "carol@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	*state = fx;
	return 0;
}

/* require - change the list's require_authentication for the rest of a test */
static void
require(struct fixture *fx, int how)
{
	((struct list_config *) fx->l)->require_authentication = how;
}

/* OUR_CLAIMS - Authentication-Results of our verifier's id in the newest relayed copy */
#define OUR_CLAIMS "SELECT instr(lower(data), 'authentication-results: mx.example.org') FROM " OUTBOX_DATA \
	" WHERE kind = 'relay' AND id = (SELECT max(id) FROM outbox WHERE kind = 'relay')"

/* auth_forged_from - a member's From without the verifier's pass: held, the forger not answered */
static void
auth_forged_from(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(take(fx, RECEIVED BOB_POST, "mallory@evil.example", "security@example.org", NOW, &err),
			 INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held unauthenticated");
	expect(fx, "SELECT group_concat(kind) FROM outbox", "moderator-held");
	expect(fx, "SELECT instr(data, 'unauthenticated') > 0 FROM " OUTBOX_DATA, "1");
}

/* auth_forged_sender - a member's envelope and From, forged: held, no auto-reply to the member (no backscatter) */
static void
auth_forged_sender(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(take(fx, RECEIVED BOB_POST, "bob@example.org", "security@example.org", NOW, &err),
			 INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held unauthenticated");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply' OR recipients = 'bob@example.org'", "0");
	expect(fx, "SELECT count(*) FROM autoreplies", "0");
	/* a stranger with nothing to show is not answered either */
	assert_int_equal(take(fx, RECEIVED "From: rep@example.net\nSubject: x\n\ny\n", "rep@example.net",
			      "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts WHERE id = 2", "held non-member");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
}

/* auth_dkim_relayed - the verifier's aligned DKIM pass: relayed, our claims gone from the copy, others kept */
static void
auth_dkim_relayed(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = RECEIVED
		AR("dkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org")
		"Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=example.org\n" BOB_POST;
	static const char by_from[] = RECEIVED AR("dkim=pass header.d=example.org")
		"From: Carol <carol@lists.example.org>, carol@example.org\nSubject: y\n\nz\n";
	GError *err = NULL;

	assert_int_equal(take(fx, post, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "relayed member");
	expect(fx, LAST_RELAY, "1 security-bounces@example.org alice@example.org,carol@example.org");
	expect(fx, OUR_CLAIMS, "0");
	expect(fx, LAST_RELAY_HAS("Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=example.org"),
	       "1");
	/* the From identity: every From domain passes (a parent's signature counts for its subdomain) */
	assert_int_equal(take(fx, by_from, "bounces+1@esp.example", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member -");
}

/* auth_other_id - a pass in another authserv-id's name counts for nothing */
static void
auth_other_id(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(take(fx, RECEIVED "Authentication-Results: mx.other.example; dkim=pass header.d=example.org\n"
			      BOB_POST, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held unauthenticated");
	/* nor a signature of another domain, nor a subdomain's for its parent */
	assert_int_equal(take(fx, RECEIVED AR("dkim=pass header.d=evil.example") BOB_POST, "bob@example.org",
			      "security@example.org", NOW, &err), INTAKE_OK);
	assert_int_equal(take(fx, RECEIVED AR("dkim=pass header.d=shop.example.org") BOB_POST, "bob@example.org",
			      "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT group_concat(reason) FROM posts", "unauthenticated,unauthenticated,unauthenticated");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
}

/* auth_forged_below - our id below the MTA's fields is the sender's: not trusted, never in a copy */
static void
auth_forged_below(void **state)
{
	struct fixture *fx = *state;
	static const char forged[] = RECEIVED "From: Bob <bob@example.org>\nTo: security@example.org\n"
		"Subject: fix\nMessage-ID: <f1@evil.example>\n" AR("dkim=pass header.d=example.org") "\npatch\n";
	static const char both[] = RECEIVED AR("dkim=pass header.d=example.org")
		"From: Bob <bob@example.org>\nTo: security@example.org\nSubject: fix\n"
		AR("dkim=pass header.d=evil.example") "\npatch\n";
	GError *err = NULL;
	struct decision d;

	assert_int_equal(take(fx, forged, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held unauthenticated");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
	/* a moderator approves it: the members' copy does not carry the forged claim */
	if (moderate_decide(fx->st, fx->cfg, fx->l, "2026-0001", POST_APPROVED, "alice@example.org", NULL, NULL,
			    NOW + 60, fx->ids, &d, &err) != MODERATE_OK)
		fail_msg("approve: %s", err ? err->message : "?");
	moderate_decision_clear(&d);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "1");
	expect(fx, OUR_CLAIMS, "0");
	expect(fx, "SELECT instr(data, 'Message-ID: <f1@evil.example>') > 0 FROM " OUTBOX_DATA " WHERE kind = 'relay'", "1");
	/* the verifier's pass and a forgery further down: relayed, both claims gone */
	assert_int_equal(take(fx, both, "bob@example.org", "security@example.org", NOW + 120, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member -");
	expect(fx, OUR_CLAIMS, "0");
	expect(fx, "SELECT instr(data, 'evil.example') FROM " OUTBOX_DATA " WHERE kind = 'relay' AND post_id = 2", "0");
}

/* auth_spf - an SPF pass counts under dkim_or_spf only, and only for smtp.mailfrom */
static void
auth_spf(void **state)
{
	struct fixture *fx = *state;
	static const char spf[] = RECEIVED AR("spf=pass smtp.mailfrom=bob@example.org smtp.helo=mail.example.org")
		BOB_POST;
	static const char helo[] = RECEIVED AR("spf=pass smtp.helo=example.org") BOB_POST;
	/* another message: the same one again would be taken as delivered twice */
	static const char before[] = RECEIVED AR("spf=pass smtp.mailfrom=bob@example.org") "Comments: before\n"
		BOB_POST;
	GError *err = NULL;

	assert_int_equal(take(fx, before, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held unauthenticated -");
	require(fx, AUTH_DKIM_OR_SPF);
	assert_int_equal(take(fx, spf, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member -");
	expect(fx, OUR_CLAIMS, "0");
	assert_int_equal(take(fx, helo, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held unauthenticated -");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
}

/* auth_autoreply - the held auto-reply goes to an authenticated envelope sender only */
static void
auth_autoreply(void **state)
{
	struct fixture *fx = *state;
	static const char signed_report[] = RECEIVED AR("dkim=pass header.d=example.net") "From: rep@example.net\n"
		"To: security@example.org\nSubject: overflow\n\ndetails\n";
	GError *err = NULL;

	assert_int_equal(take(fx, signed_report, "rep@example.net", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "held non-member");
	expect(fx, "SELECT kind || ' ' || recipients FROM outbox WHERE kind = 'autoreply'",
	       "autoreply rep@example.net");
	/* the same signature with another envelope sender: that sender is not answered */
	assert_int_equal(take(fx, signed_report, "victim@example.com", "security@example.org", NOW, &err),
			 INTAKE_OK);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "1");
}

/* auth_smtp - at SMTP time the verifier's fields are on top; a claim lower down is the sender's */
static void
auth_smtp(void **state)
{
	struct fixture *fx = *state;
	static const char on_top[] = AR("dkim=pass header.d=example.org") BOB_POST;
	static const char below[] = "From: Bob <bob@example.org>\nSubject: fix\n" AR("dkim=pass header.d=example.org")
		"\npatch\n";
	/* a Received: line the milter is shown is the sender's: Postfix hides its own */
	static const char after_received[] = "Received: from laptop by mail.evil.example\n"
		AR("dkim=pass header.d=example.org") BOB_POST;
	const char *rcpts[] = { "security@example.org" };
	struct intake_smtp out;
	GError *err = NULL;
	char *s;

	assert_int_equal(smtp(fx, on_top, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member -");
	s = joined(out.add_rcpts);
	assert_string_equal(s, "alice@example.org,carol@example.org");
	g_free(s);
	s = edits(out.edits);
	if (!g_str_has_suffix(s, ",Authentication-Results@1=(delete)"))
		fail_msg("edits \"%s\" do not delete our claim", s);
	g_free(s);
	intake_smtp_clear(&out);
	assert_int_equal(smtp(fx, below, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held unauthenticated -");
	assert_int_equal(out.add_rcpts->len, 0);
	intake_smtp_clear(&out);
	assert_int_equal(smtp(fx, after_received, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	expect(fx, LAST_POST, "held unauthenticated -");
	intake_smtp_clear(&out);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
}

/* auth_smtp_deletes - several claims of ours deleted the last first, others left alone */
static void
auth_smtp_deletes(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = AR("dkim=pass header.d=example.org")
		"Authentication-Results: mx.other.example; dkim=pass header.d=example.org\n"
		AR("spf=pass smtp.mailfrom=example.org") "From: Bob <bob@example.org>\nSubject: fix\n"
		"Authentication-Results: MX.Example.Org; dkim=pass header.d=evil.example\n\npatch\n";
	const char *rcpts[] = { "security@example.org" };
	struct intake_smtp out;
	GError *err = NULL;
	char *s;

	assert_int_equal(smtp(fx, post, "bob@example.org", rcpts, 1, &out, &err), INTAKE_OK);
	expect(fx, LAST_POST, "relayed member -");
	s = edits(out.edits);
	if (!g_str_has_suffix(s, ",Authentication-Results@4=(delete),Authentication-Results@3=(delete),"
			      "Authentication-Results@1=(delete)"))
		fail_msg("edits \"%s\": want our three claims deleted, the last first", s);
	g_free(s);
	intake_smtp_clear(&out);
}

/* auth_join - a wrong invitation token is answered only to an authenticated sender */
static void
auth_join(void **state)
{
	struct fixture *fx = *state;
	static const char plain[] = RECEIVED "From: x@example.net\nSubject: join\n\nyes\n";
	static const char signed_msg[] = RECEIVED AR("dkim=pass header.d=example.net")
		"From: x@example.net\nSubject: join\n\nyes\n";
	GError *err = NULL;

	assert_int_equal(take(fx, plain, "x@example.net", JOIN_BAD, NOW, &err), INTAKE_OK);
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(take(fx, signed_msg, "x@example.net", JOIN_BAD, NOW, &err), INTAKE_OK);
	expect(fx, "SELECT kind || ' ' || recipients FROM outbox", "join-invalid x@example.net");
}

/* auth_none_strips - require_authentication none: the envelope sender taken as it comes, our claims still dropped */
static void
auth_none_strips(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Bob <bob@example.org>\nSubject: fix\n" AR("dkim=pass header.d=example.org")
		"\npatch\n";
	GError *err = NULL;

	require(fx, AUTH_NONE);
	assert_int_equal(take(fx, post, "bob@example.org", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts", "relayed member");
	expect(fx, OUR_CLAIMS, "0");
	/* the same From with a stranger's envelope: From is the sender's word, even with a pass */
	assert_int_equal(take(fx, post, "mallory@evil.example", "security@example.org", NOW, &err), INTAKE_OK);
	expect(fx, "SELECT status || ' ' || reason FROM posts WHERE id = 2", "held non-member");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(held_with_autoreply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(member_relayed, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(forged_from_held, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(own_address_not_answered, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(loop_kept, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(malformed_held, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(too_large_stores_nothing, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(other_recipients_forwarded, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(logged_when_stored, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_member, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(taken_again, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(taken_rolled_back, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_held, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_refused, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(busy_is_tempfail, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_member_reply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_reply_all, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_reporter_followup, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_other_reporter, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_stranger_reply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(thread_reply_gets_message_id, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_thread_reply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bounce_stored, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bounce_threshold, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bounce_window, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bounce_not_counted, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bounce_threshold_off, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(list_and_bounces, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_bounce, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(smtp_taken_again, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_forged_from, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_forged_sender, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_dkim_relayed, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_other_id, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_forged_below, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_spf, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_autoreply, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_smtp, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_smtp_deletes, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_join, setup_auth, fixture_teardown),
		cmocka_unit_test_setup_teardown(auth_none_strips, setup_auth, fixture_teardown),
	};

	message_init();
	return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
