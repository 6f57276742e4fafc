/*
 * test_moderate - held posts on a real sqlite file: the notice to the
 * moderators, decisions and who may make them, reminders and expiry
 * (nothing is sent; what would be is read back from the outbox)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sqlite3.h>

#include "config.h"
#include "dbfixture.h"
#include "intake.h"
#include "message.h"
#include "moderate.h"
#include "store.h"

#define NOW	1795300000
#define LIST	FIXTURE_LIST

/* everything a refused decision must leave as it was */
#define SNAPSHOT \
	"SELECT 'posts ' || ifnull((SELECT group_concat(p, ' ') FROM (SELECT id || ':' || status || ':'" \
	" || ifnull(decided, '') || ':' || ifnull(decided_by, '') || ':' || ifnull(comment, '') || ':'" \
	" || reminded AS p FROM posts ORDER BY id)), '')" \
	" || ' | by status ' || ifnull((SELECT group_concat(s, ',') FROM (SELECT status || '=' || count(*) AS s" \
	" FROM posts GROUP BY status ORDER BY status)), '')" \
	" || ' | audit ' || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM audit)" \
	" || ' | outbox ' || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM outbox)" \
	" || ' | reporters ' || (SELECT count(*) FROM reporters)" \
	" || ' | autoreplies ' || (SELECT count(*) FROM autoreplies)"

static int
setup(void **state)
{
	struct fixture *fx = fixture_new("vigil-moderate", "remind_after = 1h\nhold_expiry = 1d\n");

	if (fx == NULL || fx->l == NULL || fx->l->remind_after != 3600 || fx->l->hold_expiry != 86400)
		return -1;
	store_member_add(fx->st, LIST, "alice@example.org", "moderator", "", "alice-login", 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "bob@example.org", "moderator", "", NULL, 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "carol@example.org", "member", "", "carol-login", 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "olga@example.org", "owner", "", NULL, 0, NULL, 1, NULL);
	*state = fx;
	return 0;
}

/* report - a report with this subject */
static char *
report(const char *subject)
{
	return g_strdup_printf("From: Reporter <rep@example.net>\nTo: " LIST "\nSubject: %s\n"
			       "Message-ID: <r1@example.net>\n\ndetails of the flaw\n", subject);
}

/* take - run intake for one message to the list; the post's id */
static gint64
take(struct fixture *fx, const char *msg, const char *sender, gint64 now)
{
	const char *rcpts[] = { LIST };
	GError *err = NULL;
	char *id;
	gint64 n;

	if (intake_message(fx->st, fx->cfg, msg, strlen(msg), sender, rcpts, 1, now, fx->ids, &err)
	    != INTAKE_OK)
		fail_msg("intake: %s", err ? err->message : "?");
	id = query(fx, "SELECT max(id) FROM posts");
	n = g_ascii_strtoll(id, NULL, 10);
	g_free(id);
	return n;
}

/* hold_report - a non-member's report, held; its post id */
static gint64
hold_report(struct fixture *fx, const char *subject, const char *sender, gint64 now)
{
	char *msg = report(subject);
	gint64 id = take(fx, msg, sender, now);

	g_free(msg);
	return id;
}

/* decide - moderate_decide on the list; *error gets the message when not OK */
static enum moderate_rc
decide(struct fixture *fx, const char *key, enum post_state to, const char *as, const char *login,
       const char *comment, gint64 now, struct decision *d, char **error)
{
	GError *err = NULL;
	enum moderate_rc rc = moderate_decide(fx->st, fx->cfg, fx->l, key, to, as, login, comment, now,
					      fx->ids, d, &err);

	*error = NULL;
	if (rc != MODERATE_OK && err == NULL)
		fail_msg("moderate_decide %s: rc %d without an error message", key, rc);
	if (rc == MODERATE_OK && err != NULL)
		fail_msg("moderate_decide %s: OK with an error: %s", key, err->message);
	if (err) {
		*error = g_strdup(err->message);
		g_error_free(err);
	}
	return rc;
}

/* decide_ok - a decision that must pass */
static void
decide_ok(struct fixture *fx, const char *key, enum post_state to, const char *as, const char *login,
	  const char *comment, gint64 now, struct decision *d)
{
	char *error = NULL;

	if (decide(fx, key, to, as, login, comment, now, d, &error) != MODERATE_OK)
		fail_msg("%s %s as %s: refused: %s", policy_state_verb(to), key, as ? as : login, error);
}

/* refused - a decision that must be refused, say want, and change nothing */
static void
refused(struct fixture *fx, const char *key, enum post_state to, const char *as, const char *login,
	const char *comment, const char *want)
{
	char *before = query(fx, SNAPSHOT);
	guint n = fx->ids->len;
	struct decision d;
	char *error = NULL;
	enum moderate_rc rc = decide(fx, key, to, as, login, comment, NOW + 500, &d, &error);

	if (rc != MODERATE_REFUSED)
		fail_msg("%s %s as %s: got rc %d, want MODERATE_REFUSED", policy_state_verb(to), key,
			 as ? as : login ? login : "(nobody)", rc);
	if (strstr(error, want) == NULL)
		fail_msg("%s %s: error \"%s\" does not say \"%s\"", policy_state_verb(to), key, error, want);
	expect(fx, SNAPSHOT, before);
	assert_int_equal(fx->ids->len, n);
	moderate_decision_clear(&d);
	g_free(before);
	g_free(error);
}

/* ids_after - the outbox ids appended to fx->ids from index mark, comma-separated */
static char *
ids_after(struct fixture *fx, guint mark)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = mark; i < fx->ids->len; i++)
		g_string_append_printf(s, "%s%" G_GINT64_FORMAT, s->len ? "," : "",
				       g_array_index(fx->ids, gint64, i));
	return g_string_free(s, FALSE);
}

/* expect_new_ids - fx->ids from mark are exactly the outbox rows above id last */
static void
expect_new_ids(struct fixture *fx, guint mark, const char *last)
{
	char *sql = g_strdup_printf("SELECT ifnull(group_concat(id, ','), '') FROM"
				    " (SELECT id FROM outbox WHERE id > %s ORDER BY id)", last);
	char *got = ids_after(fx, mark);

	expect(fx, sql, got);
	g_free(sql);
	g_free(got);
}

/* held_notice - the moderators (not plain members) learn of a held post, escaped */
static void
held_notice(void **state)
{
	struct fixture *fx = *state;
	struct notice_text n;
	gint64 id;

	id = hold_report(fx, "Heap \x1b[31moverflow\x1b]0;pwned\x07", "rep@example.net", NOW);
	assert_int_equal(id, 1);
	assert_int_equal(fx->ids->len, 2);	/* the auto-reply and the moderators' notice */
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || replace(recipients, char(10), ',')"
	       " FROM outbox WHERE kind = 'moderator-held'",
	       "1 owner@example.org alice@example.org,bob@example.org,olga@example.org");
	notice_get(fx, "kind = 'moderator-held'", &n);
	has("held notice", n.text, "vigil show 1\n");
	has("held notice", n.text, "vigil approve 1\n");
	has("held notice", n.text, "2026-0001");
	has("held notice", n.head, "2026-0001");
	has("held notice", n.text, "Heap \\x1b[31moverflow\\x1b]0;pwned\\x07");
	has("held notice", n.text, "rep@example.net");
	lacks("held notice", n.text, "carol");
	if (memchr(n.data, 0x1b, n.len) != NULL || memchr(n.data, 0x07, n.len) != NULL)
		fail_msg("held notice carries a raw control character:\n%s", n.data);
	/* the subject from the mail stays out of the notice's header block */
	lacks("held notice header", n.head, "overflow");
	notice_clear(&n);
	expect(fx, "SELECT instr(data, char(27)) FROM " OUTBOX_DATA " WHERE kind = 'moderator-held'", "0");
}

/* approve_by_as - the whole of an approval, as --as alice */
static void
approve_by_as(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	struct notice_text n;
	GPtrArray *reporters = NULL;
	char *last;
	guint mark;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	store_set_login(fx->st, "alice-login");
	mark = fx->ids->len;
	last = query(fx, "SELECT max(id) FROM outbox");
	decide_ok(fx, "1", POST_APPROVED, "alice@example.org", NULL, "Looks genuine", NOW + 60, &d);
	assert_string_equal(d.moderator, "alice@example.org");
	assert_string_equal(d.post->status, "held");	/* as it was before */
	assert_int_equal(d.post->id, 1);
	assert_int_equal(d.members, 4);
	assert_false(d.sender_told);
	assert_int_equal(d.moderators_told, 2);
	moderate_decision_clear(&d);

	expectf(fx, "SELECT status || ' ' || decided || ' ' || decided_by || ' ' || comment FROM posts",
		"approved %d alice@example.org Looks genuine", NOW + 60);
	/* the members' copy: every member, the list's header lines, the original */
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || replace(recipients, char(10), ',')"
	       " FROM outbox WHERE kind = 'relay'",
	       "1 security-bounces@example.org alice@example.org,bob@example.org,carol@example.org,olga@example.org");
	expect(fx, "SELECT instr(data, 'List-Id: Sec <security.example.org>') = 1"
	       " AND instr(data, 'Subject: overflow' || char(13, 10)) > 0"
	       " AND instr(data, char(13, 10, 13, 10) || 'details of the flaw' || char(13, 10)) > 0"
	       " FROM " OUTBOX_DATA " WHERE kind = 'relay'", "1");
	/* the sender is the report's reporter now */
	assert_int_equal(store_reporter_list(fx->st, LIST, "2026-0001", &reporters, NULL), STORE_OK);
	assert_int_equal(reporters->len, 1);
	assert_string_equal(((struct reporter *) g_ptr_array_index(reporters, 0))->address, "rep@example.net");
	assert_string_equal(((struct reporter *) g_ptr_array_index(reporters, 0))->kind, "reporter");
	g_ptr_array_free(reporters, TRUE);
	/* and it opened the report's thread under its Message-ID */
	expect(fx, "SELECT thread FROM posts WHERE id = 1", "2026-0001");
	/* the audit trail names who, what, which post, why and the Unix user */
	expectf(fx, "SELECT count(*) || ' ' || group_concat(time || ' ' || actor || ' ' || action || ' ' || post_id"
		" || ' ' || report_id || ' ' || ifnull(detail, '-') || ' ' || ifnull(login, '-'))"
		" FROM audit WHERE action <> 'hold'",
		"1 %d alice@example.org approve 1 2026-0001 Looks genuine alice-login", NOW + 60);
	/* the other moderators are told; the one who decided is not */
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || replace(recipients, char(10), ',')"
	       " FROM outbox WHERE kind = 'moderator-decision'", "1 owner@example.org bob@example.org,olga@example.org");
	notice_get(fx, "kind = 'moderator-decision'", &n);
	has("decision note", n.text, "approved by alice@example.org");
	has("decision note", n.text, "Looks genuine");
	has("decision note", n.text, "2026-0001");
	notice_clear(&n);
	/* nothing goes to the sender on approval */
	expect(fx, "SELECT count(*) FROM outbox WHERE kind IN ('reject', 'expired')", "0");
	/* the caller flushes exactly the rows this decision queued */
	assert_int_equal(fx->ids->len, mark + 2);
	expect_new_ids(fx, mark, last);
	g_free(last);
}

/* approve_by_login - no --as: the member recorded with the Unix user decides */
static void
approve_by_login(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	decide_ok(fx, "1", POST_APPROVED, NULL, "alice-login", NULL, NOW + 60, &d);
	assert_string_equal(d.moderator, "alice@example.org");
	moderate_decision_clear(&d);
	expect(fx, "SELECT status || ' ' || decided_by || ' ' || ifnull(comment, '(none)') FROM posts",
	       "approved alice@example.org (none)");
	expect(fx, "SELECT actor || ' ' || ifnull(detail, '-') FROM audit WHERE action = 'approve'",
	       "alice@example.org -");
}

/* as_wins_over_login - --as names the moderator even when the login is another's */
static void
as_wins_over_login(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	decide_ok(fx, "1", POST_DISCARDED, "Bob@Example.ORG", "alice-login", NULL, NOW + 60, &d);
	assert_string_equal(d.moderator, "bob@example.org");
	moderate_decision_clear(&d);
	expect(fx, "SELECT status || ' ' || decided_by FROM posts", "discarded bob@example.org");
}

/* who_may_not - every way of not being a moderator is refused, and changes nothing */
static void
who_may_not(void **state)
{
	struct fixture *fx = *state;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	refused(fx, "1", POST_APPROVED, NULL, "nobody-login", NULL, "--as");
	refused(fx, "1", POST_APPROVED, NULL, "carol-login", NULL, "role member");
	refused(fx, "1", POST_APPROVED, "carol@example.org", NULL, NULL, "role member");
	refused(fx, "1", POST_REJECTED, "carol@example.org", NULL, "spam", "role member");
	refused(fx, "1", POST_APPROVED, "mallory@example.org", NULL, NULL, "not a member");
	refused(fx, "1", POST_APPROVED, "not an address", NULL, NULL, "not a mail address");
	refused(fx, "1", POST_APPROVED, "", NULL, NULL, "not a mail address");
	refused(fx, "1", POST_APPROVED, NULL, NULL, NULL, "--as");
	/* a moderator of another list is nobody here */
	assert_int_equal(store_member_add(fx->st, "other@example.org", "mod@example.org", "moderator", "", NULL, 0, NULL,
					  1, NULL), STORE_OK);
	refused(fx, "1", POST_APPROVED, "mod@example.org", NULL, NULL, "not a member");
	expect(fx, "SELECT status FROM posts", "held");
}

/* first_wins - a second decision on a decided post is refused, naming the first */
static void
first_wins(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	decide_ok(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d);
	moderate_decision_clear(&d);
	refused(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, "already approved by alice@example.org");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "No.", "already approved by alice@example.org");
	refused(fx, "2026-0001", POST_DISCARDED, "olga@example.org", NULL, NULL,
		"already approved by alice@example.org");
	refused(fx, "1", POST_EXPIRED, "bob@example.org", NULL, NULL, "already approved by alice@example.org");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "1");
}

/* reject_with_reason - the sender gets the reason, in the body only */
static void
reject_with_reason(void **state)
{
	struct fixture *fx = *state;
	static const char reason[] = "This is documented behaviour, see the manual.\n\tSection 4 explains it.";
	struct decision d;
	struct notice_text n;
	guint mark;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	mark = fx->ids->len;
	decide_ok(fx, "1", POST_REJECTED, "bob@example.org", NULL, reason, NOW + 60, &d);
	assert_true(d.sender_told);
	assert_int_equal(d.members, 0);
	assert_int_equal(d.moderators_told, 2);
	moderate_decision_clear(&d);
	assert_int_equal(fx->ids->len, mark + 2);
	expect(fx, "SELECT status || ' ' || decided_by || ' ' || (comment = 'This is documented behaviour,"
	       " see the manual.' || char(10, 9) || 'Section 4 explains it.') FROM posts", "rejected bob@example.org 1");
	expect(fx, "SELECT count(*) || ' <' || sender || '> ' || recipients FROM outbox WHERE kind = 'reject'",
	       "1 <> rep@example.net");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "0");
	notice_get(fx, "kind = 'reject'", &n);
	has("reject notice", n.text, reason);
	has("reject notice", n.text, "2026-0001");
	lacks("reject notice header", n.head, "documented");
	lacks("reject notice header", n.head, "Section 4");
	has("reject notice header", n.head, "In-Reply-To: <r1@example.net>");
	has("reject notice header", n.head, "Auto-Submitted: auto-replied");
	notice_clear(&n);
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox WHERE kind = 'moderator-decision'",
	       "alice@example.org,olga@example.org");
	notice_get(fx, "kind = 'moderator-decision'", &n);
	has("decision note", n.text, "rejected by bob@example.org");
	lacks("decision note header", n.head, "documented");
	notice_clear(&n);
	expect(fx, "SELECT action || ' ' || actor || ' ' || (detail = 'This is documented behaviour, see the manual.'"
	       " || char(10, 9) || 'Section 4 explains it.') FROM audit WHERE action <> 'hold'",
	       "reject bob@example.org 1");
}

/* reason_cannot_forge_headers - a reason's lines stay in the body */
static void
reason_cannot_forge_headers(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	struct notice_text n;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	decide_ok(fx, "1", POST_REJECTED, "bob@example.org", NULL,
		  "\nBcc: victim@example.com\n\nInjected body", NOW + 60, &d);
	moderate_decision_clear(&d);
	notice_get(fx, "kind = 'reject'", &n);
	lacks("reject notice header", n.head, "victim");
	lacks("reject notice header", n.head, "Bcc");
	has("reject notice", n.text, "Bcc: victim@example.com");
	notice_clear(&n);
	expect(fx, "SELECT recipients FROM outbox WHERE kind = 'reject'", "rep@example.net");
}

/* bad_reasons - a rejection needs a reason fit to mail; a bad comment is refused too */
static void
bad_reasons(void **state)
{
	struct fixture *fx = *state;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, NULL, "reason is empty");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "", "reason is empty");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "    ", "reason is empty");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, " \n\t ", "reason is empty");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "see \x1b[31mthis", "control");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "dos\r\nline", "control");
	refused(fx, "1", POST_REJECTED, "bob@example.org", NULL, "bad \xff", "UTF-8");
	refused(fx, "1", POST_APPROVED, "bob@example.org", NULL, "ok \x1b[0m", "comment contains control");
	refused(fx, "1", POST_DISCARDED, "bob@example.org", NULL, "spam\x07", "comment contains control");
	expect(fx, "SELECT status FROM posts", "held");
}

/* reject_null_sender - nobody to tell, but the decision stands */
static void
reject_null_sender(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "overflow", "", NOW);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "0");
	decide_ok(fx, "1", POST_REJECTED, "alice@example.org", NULL, "Bounce noise.", NOW + 60, &d);
	assert_false(d.sender_told);
	assert_int_equal(d.moderators_told, 2);
	moderate_decision_clear(&d);
	expect(fx, "SELECT status || ' ' || decided_by || ' ' || comment FROM posts",
	       "rejected alice@example.org Bounce noise.");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'reject'", "0");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'moderator-decision'", "1");
	expect(fx, "SELECT actor || ' ' || action FROM audit WHERE action <> 'hold'", "alice@example.org reject");
}

/* reject_mailer_daemon - a bounce is never answered */
static void
reject_mailer_daemon(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "Undelivered Mail", "MAILER-DAEMON@mx.example.net", NOW);
	decide_ok(fx, "1", POST_REJECTED, "alice@example.org", NULL, "A bounce.", NOW + 60, &d);
	assert_false(d.sender_told);
	moderate_decision_clear(&d);
	expect(fx, "SELECT status FROM posts", "rejected");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'reject'", "0");
}

/* discard_tells_nobody_outside - only the other moderators hear of it */
static void
discard_tells_nobody_outside(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	struct notice_text n;
	char *last, *sql;
	guint mark;

	hold_report(fx, "cheap pills", "spam@example.net", NOW);
	mark = fx->ids->len;
	last = query(fx, "SELECT max(id) FROM outbox");
	decide_ok(fx, "2026-0001", POST_DISCARDED, "olga@example.org", NULL, NULL, NOW + 60, &d);
	assert_false(d.sender_told);
	assert_int_equal(d.members, 0);
	assert_int_equal(d.moderators_told, 2);
	moderate_decision_clear(&d);
	expect(fx, "SELECT status || ' ' || decided_by FROM posts", "discarded olga@example.org");
	sql = g_strdup_printf("SELECT group_concat(kind || ' ' || replace(recipients, char(10), ','), '; ')"
			      " FROM outbox WHERE id > %s", last);
	expect(fx, sql, "moderator-decision alice@example.org,bob@example.org");
	g_free(sql);
	notice_get(fx, "kind = 'moderator-decision'", &n);
	has("decision note", n.text, "discarded by olga@example.org");
	notice_clear(&n);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind <> 'moderator-decision' AND instr(recipients, 'spam@')",
	       "1");	/* the auto-reply on arrival, nothing since */
	assert_int_equal(fx->ids->len, mark + 1);
	expect_new_ids(fx, mark, last);
	expect(fx, "SELECT count(*) FROM reporters", "0");
	g_free(last);
}

/* keys - a post is found by post id or report id; anything else is refused */
static void
keys(void **state)
{
	struct fixture *fx = *state;
	struct post_row *p = NULL;
	GError *err = NULL;
	struct decision d;

	hold_report(fx, "first", "rep@example.net", NOW);
	hold_report(fx, "second", "other@example.net", NOW + 1);
	assert_int_equal(moderate_find(fx->st, fx->l, "2", &p, &err), MODERATE_OK);
	assert_int_equal(p->id, 2);
	assert_string_equal(p->report_id, "2026-0002");
	assert_string_equal(p->subject, "second");
	store_post_row_free(p);
	assert_int_equal(moderate_find(fx->st, fx->l, "2026-0001", &p, &err), MODERATE_OK);
	assert_int_equal(p->id, 1);
	assert_string_equal(p->subject, "first");
	assert_non_null(p->raw);
	store_post_row_free(p);
	assert_int_equal(moderate_find(fx->st, fx->l, "12abc", &p, &err), MODERATE_REFUSED);
	assert_null(p);
	assert_non_null(strstr(err->message, "12abc"));
	g_clear_error(&err);

	refused(fx, "999", POST_APPROVED, "alice@example.org", NULL, NULL, "no post 999");
	refused(fx, "2026-9999", POST_APPROVED, "alice@example.org", NULL, NULL, "no post 2026-9999");
	refused(fx, "2025-0001", POST_APPROVED, "alice@example.org", NULL, NULL, "no post 2025-0001");
	refused(fx, "12abc", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "-1", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "0", POST_APPROVED, "alice@example.org", NULL, NULL, "no post 0");
	refused(fx, "1 OR 1=1", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "2026-", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "99999999999999999999", POST_APPROVED, "alice@example.org", NULL, NULL, "neither a post id");
	refused(fx, "bad\x1b[2J", POST_APPROVED, "alice@example.org", NULL, NULL, "bad\\x1b[2J");

	decide_ok(fx, "2026-0002", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d);
	assert_int_equal(d.post->id, 2);
	moderate_decision_clear(&d);
	expect(fx, "SELECT group_concat(p, ', ') FROM (SELECT id || ' ' || status AS p FROM posts ORDER BY id)",
	       "1 held, 2 approved");
}

/* key_on_other_list - a post id of another list is not found on this one */
static void
key_on_other_list(void **state)
{
	struct fixture *fx = *state;
	struct post_row *p = NULL;
	GError *err = NULL;
	struct list_config other = *fx->l;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	other.address = (char *) "other@example.org";
	assert_int_equal(moderate_find(fx->st, &other, "1", &p, &err), MODERATE_REFUSED);
	assert_null(p);
	assert_non_null(strstr(err->message, "no post 1 on other@example.org"));
	g_clear_error(&err);
	assert_int_equal(moderate_find(fx->st, &other, "2026-0001", &p, &err), MODERATE_REFUSED);
	g_clear_error(&err);
}

/* relayed_not_decided - a member's post was never held */
static void
relayed_not_decided(void **state)
{
	struct fixture *fx = *state;
	static const char post[] = "From: Carol <carol@example.org>\nSubject: patch\n\nfix\n";

	assert_int_equal(take(fx, post, "carol@example.org", NOW), 1);
	expect(fx, "SELECT status FROM posts", "relayed");
	refused(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, "nothing to decide");
	refused(fx, "1", POST_REJECTED, "alice@example.org", NULL, "no", "nothing to decide");
	refused(fx, "1", POST_DISCARDED, "alice@example.org", NULL, NULL, "nothing to decide");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'relay'", "1");
}

/* no_moderators - a list nobody moderates: the owner hears of what is held */
static void
no_moderators(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(store_member_remove(fx->st, LIST, "alice@example.org", NULL), STORE_OK);
	assert_int_equal(store_member_remove(fx->st, LIST, "bob@example.org", NULL), STORE_OK);
	assert_int_equal(store_member_remove(fx->st, LIST, "olga@example.org", NULL), STORE_OK);
	hold_report(fx, "overflow", "rep@example.net", NOW);
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || recipients FROM outbox WHERE kind = 'moderator-held'",
	       "1 owner@example.org owner@example.org");
	/* the owner address is no member: it cannot decide by --as */
	refused(fx, "1", POST_APPROVED, "owner@example.org", NULL, NULL, "not a member");
}

/* maintain_run - moderate_maintain at now; the stats; fx->ids grows by exactly the new rows */
static void
maintain_run(struct fixture *fx, gint64 now, guint reminded, guint expired)
{
	struct maintain_stats stats = { 99, 99 };
	GError *err = NULL;
	char *last = query(fx, "SELECT ifnull(max(id), 0) FROM outbox");
	guint mark = fx->ids->len;
	enum moderate_rc rc = moderate_maintain(fx->st, fx->cfg, fx->l, now, &stats, fx->ids, &err);

	if (rc != MODERATE_OK)
		fail_msg("maintain at NOW+%" G_GINT64_FORMAT ": rc %d: %s", now - NOW, rc, err ? err->message : "?");
	if (stats.reminded != reminded || stats.expired != expired)
		fail_msg("maintain at NOW+%" G_GINT64_FORMAT ": reminded %u expired %u, want %u and %u",
			 now - NOW, stats.reminded, stats.expired, reminded, expired);
	expect_new_ids(fx, mark, last);
	g_free(last);
}

/* maintain_remind_expire - one digest per remind_after, then expiry */
static void
maintain_remind_expire(void **state)
{
	struct fixture *fx = *state;
	struct notice_text n;
	char *before;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	before = query(fx, SNAPSHOT);
	maintain_run(fx, NOW + 10, 0, 0);
	maintain_run(fx, NOW + 3599, 0, 0);
	expect(fx, SNAPSHOT, before);
	g_free(before);

	maintain_run(fx, NOW + 3601, 1, 0);
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || replace(recipients, char(10), ',')"
	       " FROM outbox WHERE kind = 'moderator-digest'",
	       "1 owner@example.org alice@example.org,bob@example.org,olga@example.org");
	notice_get(fx, "kind = 'moderator-digest'", &n);
	has("digest", n.text, "2026-0001");
	has("digest", n.text, "overflow");
	has("digest", n.text, "rep@example.net");
	notice_clear(&n);
	expectf(fx, "SELECT status || ' ' || reminded FROM posts", "held %d", NOW + 3601);

	before = query(fx, SNAPSHOT);
	maintain_run(fx, NOW + 3700, 0, 0);
	maintain_run(fx, NOW + 3700, 0, 0);
	maintain_run(fx, NOW + 7200, 0, 0);
	expect(fx, SNAPSHOT, before);
	g_free(before);

	maintain_run(fx, NOW + 7202, 1, 0);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'moderator-digest'", "2");
	expect(fx, "SELECT count(*) FROM " OUTBOX_DATA " WHERE kind = 'moderator-digest'"
	       " AND instr(data, '2026-0001') > 0", "2");

	before = query(fx, SNAPSHOT);
	maintain_run(fx, NOW + 7300, 0, 0);
	expect(fx, SNAPSHOT, before);
	g_free(before);

	/* a day on: expired, the sender told, every moderator told */
	maintain_run(fx, NOW + 86401, 0, 1);
	expectf(fx, "SELECT status || ' ' || decided || ' ' || decided_by FROM posts",
		"expired %d vigil maintain", NOW + 86401);
	expect(fx, "SELECT count(*) || ' <' || sender || '> ' || recipients FROM outbox WHERE kind = 'expired'",
	       "1 <> rep@example.net");
	notice_get(fx, "kind = 'expired'", &n);
	has("expiry notice", n.text, "2026-0001");
	has("expiry notice", n.text, "1d");
	notice_clear(&n);
	expect(fx, "SELECT count(*) || ' ' || replace(recipients, char(10), ',') FROM outbox"
	       " WHERE kind = 'moderator-decision'", "1 alice@example.org,bob@example.org,olga@example.org");
	notice_get(fx, "kind = 'moderator-decision'", &n);
	has("decision note", n.text, "expired");
	has("decision note", n.text, "2026-0001");
	notice_clear(&n);
	expect(fx, "SELECT actor || ' ' || action || ' ' || post_id FROM audit WHERE action <> 'hold'",
	       "vigil maintain expire 1");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'moderator-digest'", "2");

	before = query(fx, SNAPSHOT);
	maintain_run(fx, NOW + 86401, 0, 0);
	maintain_run(fx, NOW + 200000, 0, 0);
	expect(fx, SNAPSHOT, before);
	g_free(before);
	/* expired is final */
	refused(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, "already expired by vigil maintain");
}

/* maintain_only_due - a digest lists only what waited long enough */
static void
maintain_only_due(void **state)
{
	struct fixture *fx = *state;
	struct decision d;

	hold_report(fx, "first", "rep@example.net", NOW);
	hold_report(fx, "second", "other@example.net", NOW + 3000);
	hold_report(fx, "third", "third@example.net", NOW + 3100);
	decide_ok(fx, "3", POST_DISCARDED, "alice@example.org", NULL, NULL, NOW + 3200, &d);
	moderate_decision_clear(&d);
	maintain_run(fx, NOW + 3601, 1, 0);
	expect(fx, "SELECT instr(data, '2026-0001') > 0 AND instr(data, '2026-0002') = 0"
	       " AND instr(data, '2026-0003') = 0 FROM " OUTBOX_DATA " WHERE kind = 'moderator-digest'", "1");
	maintain_run(fx, NOW + 7202, 2, 0);
	expect(fx, "SELECT instr(data, '2026-0001') > 0 AND instr(data, '2026-0002') > 0"
	       " AND instr(data, '2026-0003') = 0 FROM " OUTBOX_DATA " WHERE kind = 'moderator-digest'"
	       " ORDER BY id DESC LIMIT 1", "1");
	/* the first expires, the second is reminded of again, the decided one is left alone */
	maintain_run(fx, NOW + 86401, 1, 1);
	expect(fx, "SELECT group_concat(status, ',') FROM (SELECT status FROM posts ORDER BY id)",
	       "expired,held,discarded");
	expect(fx, "SELECT instr(data, '2026-0001') = 0 AND instr(data, '2026-0002') > 0"
	       " FROM " OUTBOX_DATA " WHERE kind = 'moderator-digest' ORDER BY id DESC LIMIT 1", "1");
	maintain_run(fx, NOW + 89401, 0, 1);
	expect(fx, "SELECT group_concat(status, ',') FROM (SELECT status FROM posts ORDER BY id)",
	       "expired,expired,discarded");
}

/* maintain_disabled - remind_after 0 sends no digest, hold_expiry 0 expires nothing */
static void
maintain_disabled(void **state)
{
	struct fixture *fx = *state;
	struct list_config *l = (struct list_config *) fx->l;
	struct notice_text n;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	l->remind_after = 0;
	maintain_run(fx, NOW + 3601, 0, 0);
	maintain_run(fx, NOW + 86000, 0, 0);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'moderator-digest'", "0");
	maintain_run(fx, NOW + 86401, 0, 1);
	expect(fx, "SELECT status FROM posts", "expired");

	hold_report(fx, "again", "rep@example.net", NOW + 100000);
	l->remind_after = 3600;
	l->hold_expiry = 0;
	maintain_run(fx, NOW + 100000 + 3601, 1, 0);
	maintain_run(fx, NOW + 100000 + G_GINT64_CONSTANT(3650) * 86400, 1, 0);
	expect(fx, "SELECT group_concat(status, ',') FROM (SELECT status FROM posts ORDER BY id)", "expired,held");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'expired'", "1");
	expect(fx, "SELECT count(*) || ' ' || min(instr(data, '2026-0002') > 0) || ' ' || max(instr(data, '2026-0001'))"
	       " FROM " OUTBOX_DATA " WHERE kind = 'moderator-digest'", "2 1 0");
	/* the digest promises no expiry: not the old 1d, not "0s" */
	notice_get(fx, "id = (SELECT max(id) FROM outbox WHERE kind = 'moderator-digest')", &n);
	has("digest", n.text, "2026-0002");
	lacks("digest", n.text, "1d");
	lacks("digest", n.text, "0s");
	notice_clear(&n);
}

/* busy_is_tempfail - another writer holds the lock: nothing changes, try again */
static void
busy_is_tempfail(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	char *before, *error = NULL;
	guint n;
	sqlite3 *db;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	before = query(fx, SNAPSHOT);
	n = fx->ids->len;
	assert_int_equal(sqlite3_open(fx->cfg->database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(decide(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d, &error),
			 MODERATE_TEMPFAIL);
	assert_non_null(strstr(error, "locked"));
	g_free(error);
	moderate_decision_clear(&d);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	expect(fx, SNAPSHOT, before);
	assert_int_equal(fx->ids->len, n);
	g_free(before);
	/* and once the lock is gone it passes */
	decide_ok(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d);
	moderate_decision_clear(&d);
	expect(fx, "SELECT status FROM posts", "approved");
}

/* template_missing_is_tempfail - a failure after rows were queued takes them all back */
static void
template_missing_is_tempfail(void **state)
{
	struct fixture *fx = *state;
	struct decision d;
	char *before, *error = NULL;
	guint n;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	before = query(fx, SNAPSHOT);
	n = fx->ids->len;
	/* the members' copy needs no template; the note to the moderators does */
	g_free(fx->cfg->template_dir);
	fx->cfg->template_dir = g_build_filename(fx->dir, "no-such-dir", NULL);
	assert_int_equal(decide(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d, &error),
			 MODERATE_TEMPFAIL);
	assert_non_null(strstr(error, "moderator-decision.txt"));
	g_free(error);
	moderate_decision_clear(&d);
	expect(fx, SNAPSHOT, before);
	assert_int_equal(fx->ids->len, n);
	g_free(before);
}

/* approved_report - a report held and approved by alice: its thread is open */
static void
approved_report(struct fixture *fx, const char *subject, const char *sender, gint64 now)
{
	struct decision d;
	char *key;

	hold_report(fx, subject, sender, now);
	key = query(fx, "SELECT report_id FROM posts WHERE id = (SELECT max(id) FROM posts)");
	decide_ok(fx, key, POST_APPROVED, "alice@example.org", NULL, NULL, now + 60, &d);
	moderate_decision_clear(&d);
	g_free(key);
}

/* cc - moderate_report_cc; *error gets the message when not OK, *report_id the report when OK */
static enum moderate_rc
cc(struct fixture *fx, const char *key, bool add, const char *address, const char *as, const char *login,
   char **report_id, char **error)
{
	GError *err = NULL;
	enum moderate_rc rc = moderate_report_cc(fx->st, fx->l, key, add, address, as, login, NOW + 600,
						 report_id, &err);

	*error = NULL;
	if (rc != MODERATE_OK && err == NULL)
		fail_msg("report cc %s %s: rc %d without an error message", key, address, rc);
	if (rc == MODERATE_OK && (err != NULL || *report_id == NULL))
		fail_msg("report cc %s %s: OK with an error or no report", key, address);
	if (rc != MODERATE_OK) {	/* a refusal may leave the report named; nothing else */
		g_free(*report_id);
		*report_id = NULL;
	}
	if (err) {
		*error = g_strdup(err->message);
		g_error_free(err);
	}
	return rc;
}

/* what a refused report cc must leave as it was */
#define CC_SNAPSHOT \
	"SELECT ifnull((SELECT group_concat(r, '; ') FROM (SELECT report_id || ' ' || address || ' ' || kind" \
	" || ' ' || added_by AS r FROM reporters ORDER BY rowid)), '') || ' | audit '" \
	" || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM audit) || ' | outbox ' || (SELECT count(*) FROM outbox)"

/* cc_ok - a report cc that must pass, on report want */
static void
cc_ok(struct fixture *fx, const char *key, bool add, const char *address, const char *as, const char *login,
      const char *want)
{
	char *report_id = NULL, *error = NULL;

	if (cc(fx, key, add, address, as, login, &report_id, &error) != MODERATE_OK)
		fail_msg("report %s %s %s: refused: %s", key, add ? "cc" : "uncc", address, error);
	assert_string_equal(report_id, want);
	g_free(report_id);
}

/* cc_refused - a report cc that must be refused, say want, and change nothing */
static void
cc_refused(struct fixture *fx, const char *key, bool add, const char *address, const char *as,
	   const char *login, const char *want)
{
	char *before = query(fx, CC_SNAPSHOT);
	char *report_id = NULL, *error = NULL;
	enum moderate_rc rc = cc(fx, key, add, address, as, login, &report_id, &error);

	if (rc != MODERATE_REFUSED)
		fail_msg("report %s %s %s: got rc %d, want MODERATE_REFUSED", key, add ? "cc" : "uncc", address, rc);
	if (strstr(error, want) == NULL)
		fail_msg("report %s %s %s: error \"%s\" does not say \"%s\"", key, add ? "cc" : "uncc", address,
			 error, want);
	expect(fx, CC_SNAPSHOT, before);
	g_free(before);
	g_free(error);
}

/* report_cc - moderators copy people on a report and stop copying them, audited */
static void
report_cc(void **state)
{
	struct fixture *fx = *state;

	approved_report(fx, "overflow", "rep@example.net", NOW);
	store_set_login(fx->st, "alice-login");
	cc_ok(fx, "2026-0001", true, "Vendor@Example.COM", "bob@example.org", NULL, "2026-0001");
	expectf(fx, "SELECT group_concat(r, '; ') FROM (SELECT address || ' ' || kind || ' ' || added || ' ' || added_by"
		" AS r FROM reporters WHERE report_id = '2026-0001' ORDER BY rowid)",
		"rep@example.net reporter %d ; vendor@example.com cc %d bob@example.org", NOW + 60, NOW + 600);
	expectf(fx, "SELECT count(*) || ' ' || time || ' ' || actor || ' ' || ifnull(post_id, '-') || ' ' || report_id"
		" || ' ' || detail || ' ' || ifnull(login, '-') FROM audit WHERE action = 'cc-add'",
		"1 %d bob@example.org - 2026-0001 vendor@example.com alice-login", NOW + 600);
	/* by the post id, by the Unix user */
	cc_ok(fx, "1", true, "cert@example.com", NULL, "alice-login", "2026-0001");
	expect(fx, "SELECT actor FROM audit WHERE action = 'cc-add' AND detail = 'cert@example.com'",
	       "alice@example.org");
	/* what is refused changes nothing */
	cc_refused(fx, "2026-0001", true, "vendor@example.com", "alice@example.org", NULL, "already");
	cc_refused(fx, "2026-0001", true, "Rep@Example.NET", "alice@example.org", NULL, "already a reporter");
	cc_refused(fx, "2026-0001", false, "rep@example.net", "alice@example.org", NULL, "not copied");
	cc_refused(fx, "2026-0001", true, "a@b@example.com", "alice@example.org", NULL, "exactly one @");
	cc_refused(fx, "2026-0001", true, "", "alice@example.org", NULL, "empty address");
	cc_refused(fx, "2026-0001", true, "x@localhost", "alice@example.org", NULL, "domain");
	cc_refused(fx, "2026-0099", true, "x@example.com", "alice@example.org", NULL, "no post 2026-0099");
	cc_refused(fx, "99", true, "x@example.com", "alice@example.org", NULL, "no post 99");
	cc_refused(fx, "junk\x1b[2J", true, "x@example.com", "alice@example.org", NULL, "junk\\x1b[2J");
	cc_refused(fx, "2026-0001", true, "x@example.com", "carol@example.org", NULL, "role member");
	cc_refused(fx, "2026-0001", true, "x@example.com", NULL, "carol-login", "role member");
	cc_refused(fx, "2026-0001", true, "x@example.com", NULL, "nobody-login", "--as");
	cc_refused(fx, "2026-0001", true, "x@example.com", NULL, NULL, "--as");
	cc_refused(fx, "2026-0001", true, "x@example.com", "mallory@example.com", NULL, "not a member");
	cc_refused(fx, "2026-0001", false, "x@example.com", "alice@example.org", NULL, "not copied");
	cc_refused(fx, "2026-0001", false, "x@example.com", "carol@example.org", NULL, "role member");
	/* removed: the row goes, the audit row stays */
	cc_ok(fx, "2026-0001", false, "VENDOR@example.com", "olga@example.org", NULL, "2026-0001");
	expect(fx, "SELECT group_concat(address || ' ' || kind, ', ') FROM reporters",
	       "rep@example.net reporter, cert@example.com cc");
	expectf(fx, "SELECT count(*) || ' ' || time || ' ' || actor || ' ' || report_id || ' ' || detail"
		" FROM audit WHERE action = 'cc-remove'", "1 %d olga@example.org 2026-0001 vendor@example.com",
		NOW + 600);
	cc_refused(fx, "2026-0001", false, "vendor@example.com", "olga@example.org", NULL, "not copied");
	/* and may be copied again */
	cc_ok(fx, "2026-0001", true, "vendor@example.com", "olga@example.org", NULL, "2026-0001");
	expect(fx, "SELECT count(*) FROM outbox WHERE id > 0 AND kind LIKE 'cc%'", "0");	/* nothing is mailed */
}

/* report_cc_reaches - the people copied get the thread's replies; once removed, no more */
static void
report_cc_reaches(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Carol <carol@example.org>\nTo: " LIST "\nSubject: Re: overflow\nMessage-ID: <c1@example.org>\n"
		"In-Reply-To: <r1@example.net>\n\nfixed in 1.2.3\n";
	static const char reply2[] =
		"From: Carol <carol@example.org>\nTo: " LIST "\nSubject: Re: overflow\nMessage-ID: <c2@example.org>\n"
		"In-Reply-To: <r1@example.net>\n\nand in 1.1.9\n";

	approved_report(fx, "overflow", "rep@example.net", NOW);
	cc_ok(fx, "1", true, "vendor@example.com", "alice@example.org", NULL, "2026-0001");
	assert_int_equal(take(fx, reply, "carol@example.org", NOW + 700), 2);
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox WHERE kind = 'relay' AND post_id = 2",
	       "alice@example.org,bob@example.org,olga@example.org,rep@example.net,vendor@example.com");
	expect(fx, "SELECT instr(data, 'Cc: rep@example.net, vendor@example.com' || char(13, 10)) > 0"
	       " FROM " OUTBOX_DATA " WHERE kind = 'relay' AND post_id = 2", "1");
	cc_ok(fx, "1", false, "vendor@example.com", "alice@example.org", NULL, "2026-0001");
	assert_int_equal(take(fx, reply2, "carol@example.org", NOW + 800), 3);
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox WHERE kind = 'relay' AND post_id = 3",
	       "alice@example.org,bob@example.org,olga@example.org,rep@example.net");
}

/* approve_thread_reply - a held reply joins its thread: no new report, no new reporter */
static void
approve_thread_reply(void **state)
{
	struct fixture *fx = *state;
	static const char reply[] =
		"From: Mallory <mallory@example.com>\nTo: " LIST "\nSubject: Re: overflow\n"
		"Message-ID: <m1@example.com>\nIn-Reply-To: <r1@example.net>\n\nI can reproduce it\n";
	static const char answer[] =
		"From: Bob <bob@example.org>\nTo: " LIST "\nSubject: Re: overflow\nMessage-ID: <b1@example.org>\n"
		"In-Reply-To: <m1@example.com>\n\nthanks\n";
	struct decision d;
	GPtrArray *reports = NULL;

	approved_report(fx, "overflow", "rep@example.net", NOW);
	assert_int_equal(take(fx, reply, "mallory@example.com", NOW + 120), 2);
	expect(fx, "SELECT status || ' ' || report_id || ' ' || thread FROM posts WHERE id = 2",
	       "held 2026-0002 2026-0001");
	decide_ok(fx, "2", POST_APPROVED, "bob@example.org", NULL, NULL, NOW + 180, &d);
	assert_int_equal(d.members, 5);
	moderate_decision_clear(&d);
	expect(fx, "SELECT status || ' ' || thread || ' ' || message_id FROM posts WHERE id = 2",
	       "approved 2026-0001 m1@example.com");
	/* to every member and the thread's reporter, who is named in Cc; not to the author */
	expect(fx, "SELECT count(*) || ' ' || sender || ' ' || replace(recipients, char(10), ',') FROM outbox"
	       " WHERE kind = 'relay' AND post_id = 2", "1 security-bounces@example.org"
	       " alice@example.org,bob@example.org,carol@example.org,olga@example.org,rep@example.net");
	expect(fx, "SELECT instr(data, 'Cc: rep@example.net' || char(13, 10)) > 0 FROM " OUTBOX_DATA
	       " WHERE kind = 'relay' AND post_id = 2", "1");
	/* the reporters are as they were: mallory is nobody's reporter */
	expect(fx, "SELECT group_concat(report_id || ' ' || address || ' ' || kind, ', ') FROM reporters",
	       "2026-0001 rep@example.net reporter");
	/* one report, two messages in its thread */
	assert_int_equal(store_report_list(fx->st, LIST, &reports, NULL), STORE_OK);
	assert_int_equal(reports->len, 1);
	assert_string_equal(((struct report_row *) g_ptr_array_index(reports, 0))->report_id, "2026-0001");
	assert_int_equal(((struct report_row *) g_ptr_array_index(reports, 0))->messages, 2);
	g_ptr_array_free(reports, TRUE);
	/* and an answer to the approved reply is in the thread */
	assert_int_equal(take(fx, answer, "bob@example.org", NOW + 240), 3);
	expect(fx, "SELECT status || ' ' || thread FROM posts WHERE id = 3", "relayed 2026-0001");
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox WHERE kind = 'relay' AND post_id = 3",
	       "alice@example.org,carol@example.org,olga@example.org,rep@example.net");
}

/* approve_gives_message_id - a report without a Message-ID gets one, stored and sent */
static void
approve_gives_message_id(void **state)
{
	struct fixture *fx = *state;
	static const char bare[] = "From: Reporter <rep@example.net>\nTo: " LIST "\nSubject: no id\n\ndetails\n";
	struct decision d;
	char *mid, *sql, *followup;

	assert_int_equal(take(fx, bare, "rep@example.net", NOW), 1);
	expect(fx, "SELECT ifnull(message_id, '(null)') || ' ' || ifnull(thread, '-') FROM posts", "(null) -");
	decide_ok(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d);
	moderate_decision_clear(&d);
	mid = query(fx, "SELECT ifnull(message_id, '(null)') FROM posts WHERE id = 1");
	if (!g_str_has_suffix(mid, "@example.org") || strchr(mid, '<') != NULL)
		fail_msg("generated Message-ID \"%s\" is not <...@example.org> without brackets", mid);
	expect(fx, "SELECT thread FROM posts", "2026-0001");
	sql = g_strdup_printf("SELECT instr(data, 'Message-ID: <%s>' || char(13, 10)) > 0"
			      " AND (length(data) - length(replace(data, 'Message-ID:', ''))) / 11 = 1"
			      " FROM " OUTBOX_DATA " WHERE kind = 'relay'", mid);
	expect(fx, sql, "1");
	expect(fx, "SELECT address || ' ' || kind FROM reporters WHERE report_id = '2026-0001'",
	       "rep@example.net reporter");
	/* the reporter's follow-up to the list's copy finds the thread */
	followup = g_strdup_printf("From: Reporter <rep@example.net>\nTo: " LIST "\nSubject: Re: no id\n"
				   "Message-ID: <r2@example.net>\nIn-Reply-To: <%s>\n\nmore\n", mid);
	assert_int_equal(take(fx, followup, "rep@example.net", NOW + 120), 2);
	expect(fx, "SELECT status || ' ' || reason || ' ' || thread FROM posts WHERE id = 2",
	       "relayed reporter 2026-0001");
	g_free(mid);
	g_free(sql);
	g_free(followup);
}

/* report_of - moderate_report; *error gets the message when not OK */
static enum moderate_rc
report_of(struct fixture *fx, const char *key, char **report_id, char **error)
{
	GError *err = NULL;
	enum moderate_rc rc = moderate_report(fx->st, fx->l, key, report_id, &err);

	*error = err ? g_strdup(err->message) : NULL;
	g_clear_error(&err);
	return rc;
}

/* report_keys - a key names its report, or the thread a held reply is in; a member's post has none */
static void
report_keys(void **state)
{
	struct fixture *fx = *state;
	static const char member_post[] = "From: Carol <carol@example.org>\nTo: " LIST "\nSubject: patch\n\nfix\n";
	static const char reply[] =
		"From: Mallory <mallory@example.com>\nTo: " LIST "\nSubject: Re: overflow\n"
		"Message-ID: <m1@example.com>\nReferences: <r1@example.net>\n\nhello\n";
	static const char member_reply[] =
		"From: Carol <carol@example.org>\nTo: " LIST "\nSubject: Re: overflow\n"
		"Message-ID: <c1@example.org>\nIn-Reply-To: <r1@example.net>\n\nfix\n";
	static const struct {
		const char *key, *want;
	} ok[] = {
		{ "1", "2026-0001" }, { "2026-0001", "2026-0001" },	/* the approved report */
		{ "2", "2026-0002" }, { "2026-0002", "2026-0002" },	/* a held report */
		{ "4", "2026-0001" }, { "2026-0003", "2026-0001" },	/* a held reply in a thread */
		{ "5", "2026-0001" },					/* a member's reply in a thread */
	};
	char *report_id = NULL, *error = NULL;
	size_t i;

	approved_report(fx, "overflow", "rep@example.net", NOW);
	hold_report(fx, "other", "other@example.net", NOW + 100);
	assert_int_equal(take(fx, member_post, "carol@example.org", NOW + 200), 3);
	assert_int_equal(take(fx, reply, "mallory@example.com", NOW + 300), 4);
	assert_int_equal(take(fx, member_reply, "carol@example.org", NOW + 400), 5);
	for (i = 0; i < G_N_ELEMENTS(ok); i++) {
		if (report_of(fx, ok[i].key, &report_id, &error) != MODERATE_OK)
			fail_msg("report of %s: refused: %s", ok[i].key, error);
		if (strcmp(report_id, ok[i].want) != 0)
			fail_msg("report of %s: got %s, want %s", ok[i].key, report_id, ok[i].want);
		g_free(report_id);
	}
	assert_int_equal(report_of(fx, "3", &report_id, &error), MODERATE_REFUSED);
	assert_null(report_id);
	if (strstr(error, "member's post") == NULL)
		fail_msg("report of 3: \"%s\" does not say it is a member's post", error);
	g_free(error);
	assert_int_equal(report_of(fx, "2026-0009", &report_id, &error), MODERATE_REFUSED);
	assert_null(report_id);
	assert_non_null(strstr(error, "no post 2026-0009"));
	g_free(error);
	/* a member's post has no report to copy anyone on */
	cc_refused(fx, "3", true, "x@example.com", "alice@example.org", NULL, "member's post");
}

/*
 * approve_copied_sender - a sender a moderator copied on its held report
 * still becomes its reporter when it is approved, so its follow-ups pass
 * (refusing that copy would do as well)
 */
static void
approve_copied_sender(void **state)
{
	struct fixture *fx = *state;
	static const char followup[] =
		"From: Reporter <rep@example.net>\nTo: " LIST "\nSubject: Re: overflow\n"
		"Message-ID: <r9@example.net>\nIn-Reply-To: <r1@example.net>\n\nmore\n";
	char *report_id = NULL, *error = NULL;
	struct decision d;

	hold_report(fx, "overflow", "rep@example.net", NOW);
	if (cc(fx, "1", true, "rep@example.net", "alice@example.org", NULL, &report_id, &error) == MODERATE_TEMPFAIL)
		fail_msg("report cc: %s", error);
	g_free(report_id);
	g_free(error);
	decide_ok(fx, "1", POST_APPROVED, "alice@example.org", NULL, NULL, NOW + 60, &d);
	moderate_decision_clear(&d);
	expect(fx, "SELECT group_concat(address || ' ' || kind, ', ') FROM reporters", "rep@example.net reporter");
	assert_int_equal(take(fx, followup, "rep@example.net", NOW + 120), 2);
	expect(fx, "SELECT status || ' ' || reason || ' ' || thread FROM posts WHERE id = 2",
	       "relayed reporter 2026-0001");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(held_notice, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(approve_by_as, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(approve_by_login, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(as_wins_over_login, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(who_may_not, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(first_wins, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reject_with_reason, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reason_cannot_forge_headers, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(bad_reasons, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reject_null_sender, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reject_mailer_daemon, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(discard_tells_nobody_outside, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(keys, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(key_on_other_list, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(relayed_not_decided, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(no_moderators, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(maintain_remind_expire, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(maintain_only_due, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(maintain_disabled, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(template_missing_is_tempfail, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(busy_is_tempfail, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(report_cc, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(report_cc_reaches, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(approve_thread_reply, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(approve_gives_message_id, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(report_keys, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(approve_copied_sender, setup, fixture_teardown),
	};

	message_init();
	return cmocka_run_group_tests_name("moderate", tests, NULL, NULL);
}
