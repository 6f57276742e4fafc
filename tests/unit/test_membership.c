/*
 * test_membership - invitations, vouches, joining by LIST+join-TOKEN,
 * adding and removing members, on a real sqlite file with the real
 * templates (nothing is sent; what would be is read back from the
 * outbox).  Tokens come from a deterministic randomness source, so
 * every test knows the token it must find, or must not find.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sqlite3.h>

#include "config.h"
#include "dbfixture.h"
#include "intake.h"
#include "membership.h"
#include "message.h"
#include "store.h"
#include "token.h"

#define NOW	1795300000
#define WEEK	(7 * 86400)
#define LIST	FIXTURE_LIST
#define BOUNCES	"security-bounces@example.org"
#define ALPHABET "abcdefghijklmnopqrstuvwxyz234567"
#define FALLBACK "unix:tester"

/* everything a refused command must leave as it was */
#define SNAPSHOT \
	"SELECT 'members ' || ifnull((SELECT group_concat(m, ' ') FROM (SELECT address || ':' || role || ':'" \
	" || ifnull(invite_id, '') || ':' || added_by AS m FROM members ORDER BY address)), '')" \
	" || ' | invites ' || ifnull((SELECT group_concat(v, ' ') FROM (SELECT id || ':' || address || ':'" \
	" || role || ':' || status || ':' || ifnull(sent, '') || ':' || ifnull(expires, '') || ':'" \
	" || ifnull(hex(token_hash), '') || ':' || ifnull(closed, '') AS v FROM invites ORDER BY id)), '')" \
	" || ' | sponsors ' || ifnull((SELECT group_concat(s, ' ') FROM (SELECT address || ':' || sponsor" \
	" || ':' || ifnull(invite_id, '') AS s FROM sponsors ORDER BY rowid)), '')" \
	" || ' | audit ' || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM audit)" \
	" || ' | outbox ' || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM outbox)" \
	" || ' | posts ' || (SELECT count(*) FROM posts)" \
	" || ' | autoreplies ' || ifnull((SELECT group_concat(address || ':' || last, ' ') FROM autoreplies), '')"

/* the same, but for the audit rows of join attempts that made nobody a member */
#define JOIN_SNAPSHOT \
	"SELECT replace((" SNAPSHOT "), ' | audit ' || (SELECT count(*) || ':' || ifnull(max(id), 0) FROM audit)," \
	" ' | audit ' || (SELECT count(*) FROM audit WHERE action NOT IN ('join-refused', 'join-ignored')))"

/* the newest audit row: action, actor, address, detail */
#define LAST_AUDIT \
	"SELECT action || ' ' || actor || ' ' || ifnull(address, '-') || ' ' || ifnull(detail, '-')" \
	" FROM audit WHERE id = (SELECT max(id) FROM audit)"

/*
 * The randomness source: draw k (from 0) fills byte i with k + i, so its
 * token is the alphabet rotated by k (token_of()).  fail makes it fail.
 */
static struct {
	unsigned next;
	bool	 fail;
} rnd;

/* seq_bytes - the deterministic source */
static bool
seq_bytes(void *buf, size_t len, void *ud)
{
	unsigned char *p = buf;
	size_t i;

	assert_ptr_equal(ud, &rnd);
	if (rnd.fail)
		return false;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char) (rnd.next + i);
	rnd.next++;
	return true;
}

/* token_of - the token of draw k */
static void
token_of(unsigned k, char out[TOKEN_LEN + 1])
{
	size_t i;

	for (i = 0; i < TOKEN_LEN; i++)
		out[i] = ALPHABET[(k + i) & 31];
	out[TOKEN_LEN] = '\0';
}

/* join_address - LIST+join-TOKEN of draw k, for intake */
static char *
join_address(unsigned k)
{
	char t[TOKEN_LEN + 1];

	token_of(k, t);
	return g_strdup_printf("security+join-%s@example.org", t);
}

/* setup_with - the list with options; owner olga unless owner is false; moderator mod; members carol, dave */
static int
setup_with(void **state, const char *options, bool owner)
{
	struct fixture *fx = fixture_new("vigil-membership", options);

	if (fx == NULL || fx->l == NULL)
		return -1;
	if (owner)
		store_member_add(fx->st, LIST, "olga@example.org", "owner", "", "olga-login", 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "mod@example.org", "moderator", "", "mod-login", 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "carol@example.org", "member", "", "carol-login", 0, NULL, 1, NULL);
	store_member_add(fx->st, LIST, "dave@example.org", "member", "", NULL, 0, NULL, 1, NULL);
	memset(&rnd, 0, sizeof rnd);
	*state = fx;
	return 0;
}

/* setup1 - one sponsor sends an invitation */
static int
setup1(void **state)
{
	if (setup_with(state, "vouches_required = 1\n", true) != 0)
		return -1;
	return ((struct fixture *) *state)->l->vouches_required == 1
		&& ((struct fixture *) *state)->l->invite_expiry == WEEK ? 0 : -1;
}

/* setup2 - an invitation waits for a second sponsor */
static int
setup2(void **state)
{
	if (setup_with(state, "vouches_required = 2\n", true) != 0)
		return -1;
	return ((struct fixture *) *state)->l->vouches_required == 2 ? 0 : -1;
}

/* setup_two_lists - and a second list, abuse@example.org */
static int
setup_two_lists(void **state)
{
	return setup_with(state, "vouches_required = 1\n[list abuse@example.org]\nowner = owner@example.org\n",
			  true);
}

/* setup_no_owner - a list whose members include no owner yet */
static int
setup_no_owner(void **state)
{
	return setup_with(state, "", false);
}

/* settle - a GError from code under test: none on success, one on failure; its message */
static char *
settle(const char *what, int rc, GError *err)
{
	char *msg = err ? g_strdup(err->message) : NULL;

	if (err)
		g_error_free(err);
	if (rc != MODERATE_OK && msg == NULL)
		fail_msg("%s: rc %d without an error message", what, rc);
	if (rc == MODERATE_OK && msg != NULL)
		fail_msg("%s: succeeded, but left an error set: %s", what, msg);
	return msg;
}

/* invite - membership_invite by as (or the Unix user login); the refusal in *error */
static enum moderate_rc
invite(struct fixture *fx, const char *addr, const char *role, const char *note, const char *as,
       const char *login, gint64 now, struct invite_outcome *out, char **error)
{
	struct actor by = { as, login, FALLBACK };
	GError *err = NULL;
	enum moderate_rc rc = membership_invite(fx->st, fx->cfg, fx->l, addr, role, note, &by, now,
						seq_bytes, &rnd, fx->ids, out, &err);

	*error = settle("invite", rc, err);
	return rc;
}

/* vouch - membership_vouch by as */
static enum moderate_rc
vouch(struct fixture *fx, const char *addr, const char *as, const char *login, gint64 now,
      struct invite_outcome *out, char **error)
{
	struct actor by = { as, login, FALLBACK };
	GError *err = NULL;
	enum moderate_rc rc = membership_vouch(fx->st, fx->cfg, fx->l, addr, &by, now, seq_bytes, &rnd,
					       fx->ids, out, &err);

	*error = settle("vouch", rc, err);
	return rc;
}

/* add - membership_add as as */
static enum moderate_rc
add(struct fixture *fx, const char *addr, const char *role, const char *as, const char *login,
    gint64 now, char **error)
{
	struct actor by = { as, login, FALLBACK };
	GError *err = NULL;
	enum moderate_rc rc = membership_add(fx->st, fx->cfg, fx->l, addr, role, "New Person", NULL, &by,
					     now, &err);

	*error = settle("add", rc, err);
	return rc;
}

/* remove_member - membership_remove as as */
static enum moderate_rc
remove_member(struct fixture *fx, const char *addr, const char *reason, const char *as,
	      const char *login, gint64 now, char **error)
{
	struct actor by = { as, login, FALLBACK };
	GError *err = NULL;
	enum moderate_rc rc = membership_remove(fx->st, fx->cfg, fx->l, addr, reason, &by, now, fx->ids,
						&err);

	*error = settle("remove", rc, err);
	return rc;
}

/* invite_ok - an invitation that must pass */
static void
invite_ok(struct fixture *fx, const char *addr, const char *role, const char *as, gint64 now,
	  struct invite_outcome *out)
{
	char *error = NULL;

	if (invite(fx, addr, role, NULL, as, NULL, now, out, &error) != MODERATE_OK)
		fail_msg("invite %s as %s by %s: refused: %s", addr, role, as, error);
}

/* vouch_ok - a vouch that must pass */
static void
vouch_ok(struct fixture *fx, const char *addr, const char *as, gint64 now, struct invite_outcome *out)
{
	char *error = NULL;

	if (vouch(fx, addr, as, NULL, now, out, &error) != MODERATE_OK)
		fail_msg("vouch for %s by %s: refused: %s", addr, as, error);
}

/* an operation of the command line, for tables of refusals */
enum op_kind { OP_INVITE, OP_VOUCH, OP_ADD, OP_REMOVE };

struct op {
	const char *name;
	enum op_kind kind;
	const char *address;
	const char *role;	/* invite, add */
	const char *text;	/* invite: the note; remove: the reason */
	const char *as;		/* --by or --as */
	const char *login;	/* the Unix user */
	const char *want;	/* a word of the refusal */
};

/* run_op - one operation at now; the refusal in *error */
static enum moderate_rc
run_op(struct fixture *fx, const struct op *o, gint64 now, char **error)
{
	struct invite_outcome out;
	enum moderate_rc rc = MODERATE_OK;

	memset(&out, 0, sizeof out);
	switch (o->kind) {
	case OP_INVITE:
		rc = invite(fx, o->address, o->role, o->text, o->as, o->login, now, &out, error);
		break;
	case OP_VOUCH:
		rc = vouch(fx, o->address, o->as, o->login, now, &out, error);
		break;
	case OP_ADD:
		rc = add(fx, o->address, o->role, o->as, o->login, now, error);
		break;
	case OP_REMOVE:
		rc = remove_member(fx, o->address, o->text, o->as, o->login, now, error);
		break;
	}
	membership_outcome_clear(&out);
	return rc;
}

/* refusals - every row is refused, says its word, and changes nothing; all rows are tried */
static void
refusals(struct fixture *fx, const struct op *rows, size_t n)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		char *before = query(fx, SNAPSHOT), *after;
		guint ids = fx->ids->len;
		char *error = NULL;
		enum moderate_rc rc = run_op(fx, &rows[i], NOW + 500, &error);

		after = query(fx, SNAPSHOT);
		if (rc != MODERATE_REFUSED) {
			print_error("%s: got rc %d (%s), want refused with \"%s\"\n", rows[i].name, rc,
				    error ? error : "no message", rows[i].want);
			bad++;
		} else if (strstr(error, rows[i].want) == NULL) {
			print_error("%s: refused with \"%s\", want \"%s\" in it\n", rows[i].name, error,
				    rows[i].want);
			bad++;
		}
		if (strcmp(before, after) != 0) {
			print_error("%s: changed the database:\n  before %s\n  after  %s\n", rows[i].name,
				    before, after);
			bad++;
		}
		if (fx->ids->len != ids) {
			print_error("%s: outbox ids %u, want %u\n", rows[i].name, fx->ids->len, ids);
			bad++;
		}
		g_free(before);
		g_free(after);
		g_free(error);
	}
	if (bad)
		fail_msg("%d of %zu refusals wrong", bad, n);
}

/* message - a message from from, with extra header lines (each ending in \n) */
static char *
message(const char *from, const char *extra, const char *mid)
{
	return g_strdup_printf("From: %s\nTo: " LIST "\nSubject: Re: Invitation to join Sec\n"
			       "Message-ID: <%s>\n%s\nYes, please.\n", from, mid, extra ? extra : "");
}

/* take - intake_message of msg from sender to rcpt, which must be stored */
static void
take(struct fixture *fx, const char *msg, const char *sender, const char *rcpt, gint64 now)
{
	const char *rcpts[] = { rcpt };
	GError *err = NULL;

	if (intake_message(fx->st, fx->cfg, msg, strlen(msg), sender, rcpts, 1, now, fx->ids, &err)
	    != INTAKE_OK)
		fail_msg("intake to %s: %s", rcpt, err ? err->message : "?");
	if (err)
		fail_msg("intake to %s: OK, but left an error set: %s", rcpt, err->message);
}

/* reply - a plain human reply from sender to rcpt */
static void
reply(struct fixture *fx, const char *sender, const char *rcpt, const char *extra, gint64 now)
{
	static unsigned n;
	char *mid = g_strdup_printf("reply%u@example.net", ++n);
	char *msg = message(sender, extra, mid);

	take(fx, msg, sender, rcpt, now);
	g_free(msg);
	g_free(mid);
}

/*
 * mentions - every table.column of the database whose value contains
 * needle (as bytes, text or blob), "table.column:rows" joined by spaces
 */
static char *
mentions(struct fixture *fx, const char *needle)
{
	GString *out = g_string_new(NULL);
	sqlite3 *db;
	sqlite3_stmt *tables;

	assert_int_equal(sqlite3_open(fx->cfg->database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
					    -1, &tables, NULL), SQLITE_OK);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		char *table = g_strdup((const char *) sqlite3_column_text(tables, 0));
		char *sql = g_strdup_printf("SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
		sqlite3_stmt *cols;

		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			const char *col = (const char *) sqlite3_column_text(cols, 0);
			char *count = g_strdup_printf("SELECT count(*) FROM \"%s\" WHERE instr(CAST(\"%s\" AS BLOB),"
						      " CAST(?1 AS BLOB)) > 0", table, col);
			sqlite3_stmt *c;

			assert_int_equal(sqlite3_prepare_v2(db, count, -1, &c, NULL), SQLITE_OK);
			sqlite3_bind_text(c, 1, needle, -1, SQLITE_STATIC);
			if (sqlite3_step(c) == SQLITE_ROW && sqlite3_column_int(c, 0) > 0)
				g_string_append_printf(out, "%s%s.%s:%d", out->len ? " " : "", table, col,
						       sqlite3_column_int(c, 0));
			sqlite3_finalize(c);
			g_free(count);
		}
		sqlite3_finalize(cols);
		g_free(sql);
		g_free(table);
	}
	sqlite3_finalize(tables);
	sqlite3_close(db);
	return g_string_free(out, FALSE);
}

/* expect_mentions - the tables and columns that hold needle are exactly want */
static void
expect_mentions(struct fixture *fx, const char *needle, const char *want)
{
	char *got = mentions(fx, needle);

	if (strcmp(got, want) != 0)
		fail_msg("\"%s\" is in [%s], want it in [%s] only", needle, got, want);
	g_free(got);
}

/* hex_hash - token_hash() of token, in upper-case hex as sqlite's hex() prints it */
static char *
hex_hash(const char *token)
{
	unsigned char h[TOKEN_HASH_LEN];
	GString *s = g_string_new(NULL);
	size_t i;

	token_hash(token, h);
	for (i = 0; i < sizeof h; i++)
		g_string_append_printf(s, "%02X", h[i]);
	return g_string_free(s, FALSE);
}

/* count - a count(*) query as a number */
static gint64
count(struct fixture *fx, const char *sql)
{
	char *s = query(fx, sql);
	gint64 n = g_ascii_strtoll(s, NULL, 10);

	g_free(s);
	return n;
}

/*
 * invite_sent_at_once - a moderator's invitation with vouches_required
 * 1 goes out at once: the invitation in the outbox with its join
 * address, only the token's hash in the database
 */
static void
invite_sent_at_once(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	struct notice_text n;
	char token[TOKEN_LEN + 1], upper[TOKEN_LEN + 1];
	char *error = NULL, *hash, *join, *reply_to, *logged;
	size_t i;

	token_of(0, token);
	for (i = 0; i <= TOKEN_LEN; i++)
		upper[i] = g_ascii_toupper(token[i]);
	log_capture_begin();
	if (invite(fx, "NewBie@Example.NET", "member", "Works on the TLS stack", "mod@example.org", NULL, NOW,
		   &out, &error) != MODERATE_OK) {
		g_free(log_capture_end());
		fail_msg("invite: %s", error);
	}
	logged = log_capture_end();
	assert_string_equal(out.address, "newbie@example.net");
	assert_string_equal(out.by, "mod@example.org");
	assert_string_equal(out.role, "member");
	assert_int_equal(out.sponsors, 1);
	assert_int_equal(out.required, 1);
	assert_false(out.request);
	assert_true(out.sent);
	assert_int_equal(out.expires, NOW + WEEK);
	membership_outcome_clear(&out);
	assert_int_equal(rnd.next, 1);		/* one token drawn */

	/* one invitation, to the invitee, from the bounce address */
	assert_int_equal(fx->ids->len, 1);
	expect(fx, "SELECT count(*) || ' ' || group_concat(kind) || ' ' || group_concat(sender) || ' '"
	       " || group_concat(recipients) FROM outbox", "1 invitation " BOUNCES " newbie@example.net");
	expectf(fx, "SELECT id FROM outbox", "%" G_GINT64_FORMAT, g_array_index(fx->ids, gint64, 0));
	notice_get(fx, "kind = 'invitation'", &n);
	join = g_strdup_printf("security+join-%s@example.org", token);
	reply_to = g_strdup_printf("Reply-To: %s\r\n", join);
	has("invitation header", n.head, reply_to);
	has("invitation header", n.head, "To: newbie@example.net\r\n");
	has("invitation header", n.head, "Auto-Submitted: auto-generated\r\n");
	has("invitation", n.text, "mod@example.org invites you to join Sec <" LIST ">");
	has("invitation", n.text, "as a member.");
	has("invitation", n.text, "Sponsored by: mod@example.org\n");
	has("invitation", n.text, "Works on the TLS stack");
	has("invitation", n.text, join);
	notice_clear(&n);
	g_free(reply_to);
	g_free(join);

	/* the invitation: sent now, expires in invite_expiry, the token's hash and never the token */
	expectf(fx, "SELECT count(*) || ' ' || address || ' ' || role || ' ' || status || ' ' || invited_by || ' '"
		" || created || ' ' || sent || ' ' || expires || ' ' || typeof(token_hash) || ' '"
		" || length(token_hash) || ' ' || note || ' ' || ifnull(closed, '-') FROM invites",
		"1 newbie@example.net member sent mod@example.org %d %d %d blob 32 Works on the TLS stack -",
		NOW, NOW, NOW + WEEK);
	hash = hex_hash(token);
	expect(fx, "SELECT hex(token_hash) FROM invites", hash);
	g_free(hash);
	expect(fx, "SELECT group_concat(sponsor || ' ' || invite_id || ' ' || time) FROM sponsors",
	       "mod@example.org 1 1795300000");
	expectf(fx, "SELECT group_concat(actor || ' ' || action || ' ' || address || ' ' || ifnull(detail, '-'), ' | ')"
		" FROM (SELECT * FROM audit ORDER BY id)",
		"mod@example.org invite newbie@example.net role=member note=Works on the TLS stack"
		" | vigil invite-sent newbie@example.net expires %s", "2026-11-28T22:26:40Z");
	/* not a member yet */
	expect(fx, "SELECT count(*) FROM members WHERE address = 'newbie@example.net'", "0");
	/* the token is in the invitation, in no other table, and in no log line */
	expect_mentions(fx, token, "outbox_data.data:1");
	expect_mentions(fx, upper, "");
	lacks("log", logged, token);
	lacks("log", logged, upper);
	has("log", logged, "action=invite-sent address=newbie@example.net");
	g_free(logged);
}

/* invite_by_login - no --by: the member recorded with the Unix user invites */
static void
invite_by_login(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *error = NULL;

	if (invite(fx, "newbie@example.net", "member", NULL, NULL, "mod-login", NOW, &out, &error) != MODERATE_OK)
		fail_msg("invite by mod-login: %s", error);
	assert_string_equal(out.by, "mod@example.org");
	assert_true(out.sent);
	membership_outcome_clear(&out);
	expect(fx, "SELECT invited_by || ' ' || note FROM invites", "mod@example.org ");
}

/* invite_no_randomness - no random bytes: nothing is recorded, try again later */
static void
invite_no_randomness(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *before = query(fx, SNAPSHOT), *error = NULL;

	rnd.fail = true;
	assert_int_equal(invite(fx, "newbie@example.net", "member", NULL, "mod@example.org", NULL, NOW, &out,
				&error), MODERATE_TEMPFAIL);
	membership_outcome_clear(&out);
	expect(fx, SNAPSHOT, before);
	assert_int_equal(fx->ids->len, 0);
	g_free(before);
	g_free(error);
}

/* owner_invites_any_role - an owner invites moderators and owners too */
static void
owner_invites_any_role(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;

	invite_ok(fx, "m2@example.net", "moderator", "olga@example.org", NOW, &out);
	assert_string_equal(out.role, "moderator");
	membership_outcome_clear(&out);
	invite_ok(fx, "o2@example.net", "owner", "olga@example.org", NOW + 1, &out);
	membership_outcome_clear(&out);
	expect(fx, "SELECT group_concat(address || ':' || role || ':' || status, ' ') FROM invites",
	       "m2@example.net:moderator:sent o2@example.net:owner:sent");
	expect(fx, "SELECT count(DISTINCT token_hash) FROM invites", "2");
	assert_int_equal(fx->ids->len, 2);
}

/*
 * pending_then_vouch - with vouches_required 2 the invitation waits;
 * another member's vouch sends it; nobody vouches twice
 */
static void
pending_then_vouch(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	struct notice_text n;
	static const struct op again[] = {
		{ "the inviter vouches again", OP_VOUCH, "newbie@example.net", NULL, NULL, "mod@example.org",
		  NULL, "already vouched" },
		{ "vouch by a non-member", OP_VOUCH, "newbie@example.net", NULL, NULL, "stranger@example.net",
		  NULL, "is not a member" },
		{ "vouch by something that is not an address", OP_VOUCH, "newbie@example.net", NULL, NULL,
		  "not an address", NULL, "not a mail address" },
		{ "vouch by an unknown Unix user", OP_VOUCH, "newbie@example.net", NULL, NULL, NULL,
		  "nobody-login", "Unix user nobody-login" },
		{ "vouch by nobody", OP_VOUCH, "newbie@example.net", NULL, NULL, NULL, NULL, "who is it?" },
		{ "vouch for an address nobody invited", OP_VOUCH, "unknown@example.net", NULL, NULL,
		  "carol@example.org", NULL, "has no open invitation" },
		{ "vouch for a member", OP_VOUCH, "dave@example.org", NULL, NULL, "carol@example.org", NULL,
		  "already a member" },
		{ "vouch for a bad address", OP_VOUCH, "a@b@c.example", NULL, NULL, "carol@example.org", NULL,
		  "exactly one @" },
		{ "vouch for the list", OP_VOUCH, LIST, NULL, NULL, "carol@example.org", NULL,
		  "list's own address" },
	};
	static const struct op twice[] = {
		{ "the same member vouches again", OP_VOUCH, "newbie@example.net", NULL, NULL,
		  "carol@example.org", NULL, "already vouched" },
		{ "... typed in another case", OP_VOUCH, "NewBie@example.net", NULL, NULL,
		  "Carol@Example.org", NULL, "already vouched" },
	};

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	assert_false(out.sent);
	assert_int_equal(out.sponsors, 1);
	assert_int_equal(out.required, 2);
	membership_outcome_clear(&out);
	expect(fx, "SELECT status || ' ' || ifnull(sent, '-') || ' ' || ifnull(expires, '-') || ' '"
	       " || ifnull(token_hash, '-') FROM invites", "pending - - -");
	expect(fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(fx->ids->len, 0);
	assert_int_equal(rnd.next, 0);		/* no token yet */
	refusals(fx, again, G_N_ELEMENTS(again));

	vouch_ok(fx, "newbie@example.net", "carol@example.org", NOW + 60, &out);
	assert_string_equal(out.address, "newbie@example.net");
	assert_string_equal(out.by, "carol@example.org");
	assert_string_equal(out.role, "member");
	assert_true(out.sent);
	assert_false(out.request);
	assert_int_equal(out.sponsors, 2);
	assert_int_equal(out.required, 2);
	assert_int_equal(out.expires, NOW + 60 + WEEK);
	membership_outcome_clear(&out);
	expectf(fx, "SELECT status || ' ' || sent || ' ' || expires || ' ' || length(token_hash) FROM invites",
		"sent %d %d 32", NOW + 60, NOW + 60 + WEEK);
	expect(fx, "SELECT count(*) || ' ' || group_concat(recipients) FROM outbox WHERE kind = 'invitation'",
	       "1 newbie@example.net");
	assert_int_equal(fx->ids->len, 1);
	notice_get(fx, "kind = 'invitation'", &n);
	has("invitation", n.text, "Sponsored by: mod@example.org, carol@example.org\n");
	notice_clear(&n);
	expect(fx, "SELECT group_concat(actor || ' ' || action || ' ' || ifnull(detail, '-'), ' | ') FROM"
	       " (SELECT * FROM audit WHERE action IN ('vouch', 'invite') ORDER BY id)",
	       "mod@example.org invite role=member | carol@example.org vouch -");
	refusals(fx, twice, G_N_ELEMENTS(twice));

	/* a third sponsor is recorded; the invitation is not sent again */
	vouch_ok(fx, "newbie@example.net", "dave@example.org", NOW + 120, &out);
	assert_false(out.sent);
	assert_int_equal(out.sponsors, 3);
	membership_outcome_clear(&out);
	expect(fx, "SELECT count(*) FROM outbox", "1");
	assert_int_equal(rnd.next, 1);
}

/* invite_refusals - what nobody may invite, and who may not invite: nothing changes */
static void
invite_refusals(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	static const struct op rows[] = {
		{ "an existing member", OP_INVITE, "carol@example.org", "member", NULL, "mod@example.org", NULL,
		  "already a member" },
		{ "an existing member, another case", OP_INVITE, "Carol@Example.ORG", "member", NULL,
		  "mod@example.org", NULL, "already a member" },
		{ "an owner invites an existing moderator", OP_INVITE, "mod@example.org", "owner", NULL,
		  "olga@example.org", NULL, "already a member" },
		{ "an address already invited", OP_INVITE, "newbie@example.net", "member", NULL,
		  "olga@example.org", NULL, "already invited" },
		{ "an address already invited, another case", OP_INVITE, "NEWBIE@example.net", "member", NULL,
		  "mod@example.org", NULL, "already invited" },
		{ "the list's own address", OP_INVITE, LIST, "member", NULL, "mod@example.org", NULL,
		  "list's own address" },
		{ "the list's own address, another case", OP_INVITE, "Security@Example.ORG", "member", NULL,
		  "mod@example.org", NULL, "list's own address" },
		{ "the list's bounce address", OP_INVITE, BOUNCES, "member", NULL, "mod@example.org", NULL,
		  "list's own address" },
		{ "two @", OP_INVITE, "a@b@c.example", "member", NULL, "mod@example.org", NULL, "exactly one @" },
		{ "no dot in the domain", OP_INVITE, "alice@localhost", "member", NULL, "mod@example.org", NULL,
		  "domain must contain a dot" },
		{ "a space", OP_INVITE, "alice @example.org", "member", NULL, "mod@example.org", NULL, "spaces" },
		{ "a display name", OP_INVITE, "Alice <alice@example.org>", "member", NULL, "mod@example.org", NULL,
		  "spaces" },
		{ "empty", OP_INVITE, "", "member", NULL, "mod@example.org", NULL, "empty address" },
		{ "a control character", OP_INVITE, "ali\x1b" "ce@example.org", "member", NULL, "mod@example.org",
		  NULL, "control characters" },
		{ "by a plain member", OP_INVITE, "alice@example.net", "member", NULL, "carol@example.org", NULL,
		  "only moderators and owners invite" },
		{ "by a plain member's Unix user", OP_INVITE, "alice@example.net", "member", NULL, NULL,
		  "carol-login", "only moderators and owners invite" },
		{ "a moderator invites a moderator", OP_INVITE, "alice@example.net", "moderator", NULL,
		  "mod@example.org", NULL, "only owners invite moderators" },
		{ "a moderator invites an owner", OP_INVITE, "alice@example.net", "owner", NULL, "mod@example.org",
		  NULL, "only owners invite moderators" },
		{ "by a non-member", OP_INVITE, "alice@example.net", "member", NULL, "stranger@example.net", NULL,
		  "is not a member" },
		{ "by nobody", OP_INVITE, "alice@example.net", "member", NULL, NULL, NULL, "who is it?" },
		{ "an unknown role", OP_INVITE, "alice@example.net", "admin", NULL, "olga@example.org", NULL,
		  "unknown role" },
		{ "a role in another case", OP_INVITE, "alice@example.net", "Member", NULL, "olga@example.org", NULL,
		  "unknown role" },
		{ "an empty role", OP_INVITE, "alice@example.net", "", NULL, "olga@example.org", NULL,
		  "unknown role" },
		{ "a note with ESC", OP_INVITE, "alice@example.net", "member", "hi \x1b[31mthere",
		  "mod@example.org", NULL, "control characters" },
		{ "a note with CR LF", OP_INVITE, "alice@example.net", "member", "hi\r\nBcc: x@example.net",
		  "mod@example.org", NULL, "control characters" },
		{ "a note that is not UTF-8", OP_INVITE, "alice@example.net", "member", "caf\xe9",
		  "mod@example.org", NULL, "UTF-8" },
	};

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	assert_int_equal(fx->ids->len, 1);
	refusals(fx, rows, G_N_ELEMENTS(rows));
	/* the refusals left nothing behind */
	invite_ok(fx, "alice@example.net", "member", "mod@example.org", NOW + 600, &out);
	membership_outcome_clear(&out);
}

/* reinvite_after_expiry - an expired invitation is closed and a new one goes out; only the new token works */
static void
reinvite_after_expiry(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *first = join_address(0), *second = join_address(1);

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	invite_ok(fx, "newbie@example.net", "member", "olga@example.org", NOW + WEEK, &out);
	assert_true(out.sent);
	assert_int_equal(out.sponsors, 1);
	membership_outcome_clear(&out);
	expectf(fx, "SELECT group_concat(id || ':' || status || ':' || ifnull(closed, '-') || ':'"
		" || ifnull(closed_by, '-'), ' ') FROM invites",
		"1:expired:%d:vigil 2:sent:-:-", NOW + WEEK);
	expect(fx, "SELECT count(*) FROM audit WHERE action = 'invite-expired' AND address = 'newbie@example.net'",
	       "1");
	reply(fx, "newbie@example.net", first, NULL, NOW + WEEK + 10);
	expect(fx, "SELECT count(*) FROM members WHERE address = 'newbie@example.net'", "0");
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'join-invalid'", "1");
	reply(fx, "newbie@example.net", second, NULL, NOW + WEEK + 20);
	expect(fx, "SELECT role || ' ' || invite_id FROM members WHERE address = 'newbie@example.net'", "member 2");
	g_free(first);
	g_free(second);
}

/*
 * membership_request - a vouch needs an invitation or a post of the
 * address's that was held; a later invitation counts those vouches
 */
static void
membership_request(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	struct notice_text n;
	static const struct op before_post[] = {
		{ "vouch for an address that never mailed", OP_VOUCH, "rep@example.net", NULL, NULL,
		  "carol@example.org", NULL, "has not asked to join" },
	};
	static const struct op after_vouch[] = {
		{ "the same member vouches for the request again", OP_VOUCH, "rep@example.net", NULL, NULL,
		  "carol@example.org", NULL, "already vouched" },
	};

	refusals(fx, before_post, G_N_ELEMENTS(before_post));
	/* a member's relayed post is no request */
	reply(fx, "dave@example.org", LIST, NULL, NOW);
	expect(fx, "SELECT status FROM posts", "relayed");

	/* the address mails the list: held */
	reply(fx, "Rep@Example.NET", LIST, NULL, NOW + 10);
	expect(fx, "SELECT group_concat(status) FROM posts WHERE status = 'held'", "held");
	vouch_ok(fx, "rep@example.net", "carol@example.org", NOW + 20, &out);
	assert_true(out.request);
	assert_false(out.sent);
	assert_int_equal(out.sponsors, 1);
	assert_int_equal(out.required, 2);
	membership_outcome_clear(&out);
	expect(fx, "SELECT sponsor || ' ' || ifnull(invite_id, 'request') FROM sponsors", "carol@example.org request");
	expect(fx, "SELECT actor || ' ' || detail FROM audit WHERE action = 'vouch'",
	       "carol@example.org membership request");
	expect(fx, "SELECT count(*) FROM invites", "0");
	refusals(fx, after_vouch, G_N_ELEMENTS(after_vouch));

	/* the moderator's invitation counts carol's vouch: two of two, sent at once */
	invite_ok(fx, "rep@example.net", "member", "mod@example.org", NOW + 30, &out);
	assert_true(out.sent);
	assert_int_equal(out.sponsors, 2);
	membership_outcome_clear(&out);
	expect(fx, "SELECT group_concat(sponsor || ' ' || ifnull(invite_id, 'request'), ', ')"
	       " FROM (SELECT * FROM sponsors ORDER BY time, rowid)", "carol@example.org 1, mod@example.org 1");
	notice_get(fx, "kind = 'invitation'", &n);
	has("invitation", n.text, "Sponsored by: carol@example.org, mod@example.org\n");
	notice_clear(&n);
}

/* request_vouched_by_inviter - the inviter had vouched for the request: counted once */
static void
request_vouched_by_inviter(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;

	reply(fx, "rep@example.net", LIST, NULL, NOW);
	vouch_ok(fx, "rep@example.net", "mod@example.org", NOW + 10, &out);
	assert_true(out.request);
	membership_outcome_clear(&out);
	invite_ok(fx, "rep@example.net", "member", "mod@example.org", NOW + 20, &out);
	assert_int_equal(out.sponsors, 1);
	assert_false(out.sent);
	membership_outcome_clear(&out);
	expect(fx, "SELECT count(*) || ' ' || group_concat(sponsor) || ' ' || group_concat(invite_id) FROM sponsors",
	       "1 mod@example.org 1");
	expect(fx, "SELECT status FROM invites", "pending");
}

/* request_by_store - a held post recorded directly (store_post_add) is a request too */
static void
request_by_store(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	struct post_record p = {
		.list = LIST, .status = "held", .reason = "non-member", .report_id = "2026-0001",
		.sender = "", .from = "rep@example.net", .subject = "flaw", .message_id = "m1@example.net",
		.received = NOW, .size = 10,
	};
	gint64 id;

	assert_int_equal(store_post_add(fx->st, &p, &id, NULL), STORE_OK);
	vouch_ok(fx, "rep@example.net", "dave@example.org", NOW + 10, &out);
	assert_true(out.request);
	membership_outcome_clear(&out);
}

/* join_accept - a reply to the invitation makes the invitee a member; its next post is relayed */
static void
join_accept(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	struct notice_text n;
	struct member *m = NULL;
	char *rcpt = join_address(0), *logged;
	char token[TOKEN_LEN + 1];
	guint mark;

	token_of(0, token);
	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	mark = fx->ids->len;
	log_capture_begin();
	reply(fx, "newbie@example.net", rcpt, NULL, NOW + 3600);
	logged = log_capture_end();

	expectf(fx, "SELECT role || ' ' || added || ' ' || invite_id || ' ' || added_by || '.' FROM members"
		" WHERE address = 'newbie@example.net'", "member %d 1 .", NOW + 3600);
	expectf(fx, "SELECT status || ' ' || closed || ' ' || closed_by FROM invites",
		"accepted %d newbie@example.net", NOW + 3600);
	expect(fx, "SELECT actor || ' ' || address || ' ' || detail FROM audit WHERE action = 'join'",
	       "newbie@example.net newbie@example.net role=member accepted by mail from <newbie@example.net>");
	/* a welcome to the new member, a notice to the moderators; no post, no relay, no auto-reply */
	assert_int_equal(fx->ids->len, mark + 2);
	expect(fx, "SELECT group_concat(kind || ' ' || sender || ' ' || replace(recipients, char(10), ','), ' | ')"
	       " FROM (SELECT * FROM outbox WHERE kind <> 'invitation' ORDER BY id)",
	       "welcome " BOUNCES " newbie@example.net | moderator-joined owner@example.org"
	       " mod@example.org,olga@example.org");
	expect(fx, "SELECT count(*) FROM posts", "0");
	notice_get(fx, "kind = 'welcome'", &n);
	has("welcome", n.text, "newbie@example.net is now a member of Sec <" LIST ">");
	has("welcome", n.text, "Invited by: mod@example.org\n");
	has("welcome", n.text, "Sponsored by: mod@example.org\n");
	notice_clear(&n);
	notice_get(fx, "kind = 'moderator-joined'", &n);
	has("joined notice", n.head, "Subject: [Sec] New member\r\n");
	has("joined notice", n.text, "newbie@example.net accepted an invitation and is now a member of " LIST);
	has("joined notice", n.text, "vigil member show newbie@example.net");
	notice_clear(&n);
	has("log", logged, "action=join result=accepted");
	lacks("log", logged, token);
	g_free(logged);
	expect_mentions(fx, token, "outbox_data.data:1");

	/* what vigil member show reads */
	assert_int_equal(store_member_find(fx->st, LIST, "newbie@example.net", &m, NULL), STORE_OK);
	assert_string_equal(m->invited_by, "mod@example.org");
	assert_string_equal(m->sponsors, "mod@example.org");
	assert_string_equal(m->added_by, "");
	store_member_free(m);

	/* a member now: the next post is relayed */
	reply(fx, "newbie@example.net", LIST, NULL, NOW + 7200);
	expect(fx, "SELECT group_concat(status || ' ' || reason) FROM posts", "relayed member");
	g_free(rcpt);
}

/* join_role - the invited role is the role the member gets */
static void
join_role(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0);

	invite_ok(fx, "m2@example.net", "moderator", "olga@example.org", NOW, &out);
	membership_outcome_clear(&out);
	reply(fx, "m2@example.net", rcpt, NULL, NOW + 60);
	expect(fx, "SELECT role FROM members WHERE address = 'm2@example.net'", "moderator");
	/* the other moderators and owners are told; the new moderator gets the welcome, not this */
	expect(fx, "SELECT replace(recipients, char(10), ',') FROM outbox WHERE kind = 'moderator-joined'",
	       "mod@example.org,olga@example.org");
	expect(fx, "SELECT recipients FROM outbox WHERE kind = 'welcome'", "m2@example.net");
	g_free(rcpt);
}

/* join_from_elsewhere - whoever holds the token makes the invited address a member, not itself */
static void
join_from_elsewhere(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0);

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	reply(fx, "newbie.alias@example.com", rcpt, NULL, NOW + 60);
	expect(fx, "SELECT group_concat(address) FROM members WHERE address LIKE 'newbie%'", "newbie@example.net");
	expect(fx, "SELECT detail FROM audit WHERE action = 'join'",
	       "role=member accepted by mail from <newbie.alias@example.com>");
	g_free(rcpt);
}

/* expect_join_invalid - one join-invalid answer to to, from <>, and no new member */
static void
expect_join_invalid(struct fixture *fx, const char *what, const char *to, gint64 answers)
{
	struct notice_text n;
	char *where = g_strdup_printf("kind = 'join-invalid' AND recipients = '%s' AND id ="
				      " (SELECT max(id) FROM outbox WHERE kind = 'join-invalid')", to);

	if (count(fx, "SELECT count(*) FROM outbox WHERE kind = 'join-invalid'") != answers)
		fail_msg("%s: %" G_GINT64_FORMAT " join-invalid answers, want %" G_GINT64_FORMAT, what,
			 count(fx, "SELECT count(*) FROM outbox WHERE kind = 'join-invalid'"), answers);
	expect(fx, "SELECT sender FROM outbox WHERE id = (SELECT max(id) FROM outbox WHERE kind = 'join-invalid')",
	       "");
	notice_get(fx, where, &n);
	has(what, n.head, "Auto-Submitted: auto-replied\r\n");
	has(what, n.text, "The invitation address you wrote to is not valid");
	notice_clear(&n);
	g_free(where);
}

/* token_used_twice - the second use of a token changes nothing and gets one answer */
static void
token_used_twice(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0), *before, *logged;
	guint mark;

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	reply(fx, "newbie@example.net", rcpt, NULL, NOW + 60);
	before = query(fx, "SELECT group_concat(address || ':' || role || ':' || added, ' ') FROM members");
	mark = fx->ids->len;
	log_capture_begin();
	reply(fx, "mallory@example.com", rcpt, "In-Reply-To: <x@example.com>\n", NOW + 120);
	logged = log_capture_end();
	has("log", logged, "action=join result=refused reason=accepted address=newbie@example.net");
	lacks("log", logged, strstr(rcpt, "join-") + 5);
	g_free(logged);
	expect(fx, "SELECT group_concat(address || ':' || role || ':' || added, ' ') FROM members", before);
	expect(fx, "SELECT status FROM invites", "accepted");
	assert_int_equal(fx->ids->len, mark + 1);
	expect_join_invalid(fx, "second use", "mallory@example.com", 1);
	expect(fx, "SELECT count(*) FROM audit WHERE action = 'join'", "1");
	expect(fx, "SELECT count(*) FROM posts", "0");
	g_free(before);
	g_free(rcpt);
}

/* bad_tokens - unknown, malformed, expired, cancelled and other lists' tokens are refused with an answer */
static void
bad_tokens(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *ok = join_address(0);
	struct {
		const char *name;
		const char *rcpt;
	} rows[] = {
		{ "unknown token of the right alphabet", "security+join-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq@example.org" },
		{ "31 characters", "security+join-abcdefghijklmnopqrstuvwxyz23456@example.org" },
		{ "33 characters", "security+join-abcdefghijklmnopqrstuvwxyz234567a@example.org" },
		{ "a character outside the alphabet", "security+join-abcdefghijklmnopqrstuvwxyz234568@example.org" },
		{ "no token", "security+join-@example.org" },
		{ "the token for the other list", NULL },
	};
	size_t i;
	char *other = g_strdup_printf("abuse+%s", strchr(ok, '+') + 1);

	rows[G_N_ELEMENTS(rows) - 1].rcpt = other;
	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		guint mark = fx->ids->len;
		char *logged;

		char *sender = g_strdup_printf("guess%zu@example.com", i);

		log_capture_begin();
		reply(fx, sender, rows[i].rcpt, NULL, NOW + 60);
		logged = log_capture_end();
		has(rows[i].name, logged, "action=join result=refused");
		lacks(rows[i].name, logged, strchr(rows[i].rcpt, '+') + 1);
		g_free(logged);
		expect(fx, "SELECT count(*) FROM members WHERE address = 'newbie@example.net'"
		       " OR address LIKE 'guess%'", "0");
		if (fx->ids->len != mark + 1)
			fail_msg("%s: %u outbox rows, want 1 answer", rows[i].name, fx->ids->len - mark);
		expect_join_invalid(fx, rows[i].name, sender, (gint64) i + 1);
		g_free(sender);
	}
	expect(fx, "SELECT status FROM invites", "sent");
	expect(fx, "SELECT count(*) FROM posts", "0");
	/* the real token still works */
	reply(fx, "newbie@example.net", ok, NULL, NOW + 120);
	expect(fx, "SELECT role FROM members WHERE address = 'newbie@example.net'", "member");
	g_free(ok);
	g_free(other);
}

/* expired_token - at exactly expires the token no longer works; a second before, it does */
static void
expired_token(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *first = join_address(0), *second = join_address(1);

	invite_ok(fx, "late@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	invite_ok(fx, "early@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	reply(fx, "late@example.net", first, NULL, NOW + WEEK);
	expect(fx, "SELECT count(*) FROM members WHERE address = 'late@example.net'", "0");
	expect_join_invalid(fx, "expired", "late@example.net", 1);
	reply(fx, "early@example.net", second, NULL, NOW + WEEK - 1);
	expect(fx, "SELECT count(*) FROM members WHERE address = 'early@example.net'", "1");
	g_free(first);
	g_free(second);
}

/*
 * automatic_ignored - automatic replies never join and are not answered,
 * each leaves an audit row; a person's later reply does join
 */
static void
automatic_ignored(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0);
	static const struct {
		const char *name;
		const char *sender;
		const char *extra;
		const char *audit;	/* the audit row it leaves */
	} rows[] = {
		{ "a vacation reply", "newbie@example.net", "Auto-Submitted: auto-replied\n",
		  "join-ignored newbie@example.net newbie@example.net auto-submitted" },
		{ "Auto-Submitted: auto-generated", "newbie@example.net", "Auto-Submitted: auto-generated\n",
		  "join-ignored newbie@example.net newbie@example.net auto-submitted" },
		{ "the null sender", "", NULL, "join-ignored <> newbie@example.net null-sender" },
		{ "MAILER-DAEMON", "MAILER-DAEMON@mx.example.net", NULL,
		  "join-ignored mailer-daemon@mx.example.net newbie@example.net mailer-daemon" },
		{ "Precedence: bulk", "newbie@example.net", "Precedence: bulk\n",
		  "join-ignored newbie@example.net newbie@example.net precedence" },
		{ "a List-Id", "newbie@example.net", "List-Id: <other.example.net>\n",
		  "join-ignored newbie@example.net newbie@example.net list-id" },
		{ "our own loop marker", "newbie@example.net", "X-Loop: " LIST "\n",
		  "join-ignored newbie@example.net newbie@example.net loop" },
	};
	size_t i;

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *before = query(fx, JOIN_SNAPSHOT);
		guint mark = fx->ids->len;

		reply(fx, rows[i].sender, rcpt, rows[i].extra, NOW + 60 + (gint64) i);
		if (fx->ids->len != mark)
			fail_msg("%s: %u outbox rows queued, want none", rows[i].name, fx->ids->len - mark);
		expect(fx, JOIN_SNAPSHOT, before);
		expect(fx, LAST_AUDIT, rows[i].audit);
		g_free(before);
	}
	expect(fx, "SELECT status FROM invites", "sent");
	reply(fx, "newbie@example.net", rcpt, "Auto-Submitted: no\n", NOW + 3600);
	expect(fx, "SELECT role FROM members WHERE address = 'newbie@example.net'", "member");
	g_free(rcpt);
}

/* join_upper_case - a recipient folded to upper case on the way still joins */
static void
join_upper_case(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0), *upper = g_ascii_strup(rcpt, -1);

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	reply(fx, "NewBie@Example.net", upper, NULL, NOW + 60);
	expect(fx, "SELECT role FROM members WHERE address = 'newbie@example.net'", "member");
	g_free(rcpt);
	g_free(upper);
}

/* add_cancels_invitation - an owner adds an invited address: the invitation is cancelled, its token dead */
static void
add_cancels_invitation(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	char *rcpt = join_address(0), *error = NULL;

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	if (add(fx, "newbie@example.net", "moderator", "olga@example.org", NULL, NOW + 10, &error) != MODERATE_OK)
		fail_msg("add: %s", error);
	expectf(fx, "SELECT status || ' ' || closed || ' ' || closed_by FROM invites", "cancelled %d olga@example.org",
		NOW + 10);
	reply(fx, "newbie@example.net", rcpt, NULL, NOW + 20);
	expect(fx, "SELECT role FROM members WHERE address = 'newbie@example.net'", "moderator");
	expect_join_invalid(fx, "cancelled", "newbie@example.net", 1);
	g_free(rcpt);
}

/* add_direct - only an owner adds directly, and who did is recorded */
static void
add_direct(void **state)
{
	struct fixture *fx = *state;
	struct member *m = NULL;
	char *error = NULL;
	static const struct op rows[] = {
		{ "nobody named, no Unix user", OP_ADD, "new@example.net", "member", NULL, NULL, NULL, "who is it?" },
		{ "a moderator", OP_ADD, "new@example.net", "member", NULL, "mod@example.org", NULL,
		  "only owners add" },
		{ "a moderator's Unix user", OP_ADD, "new@example.net", "member", NULL, NULL, "mod-login",
		  "only owners add" },
		{ "a plain member", OP_ADD, "new@example.net", "member", NULL, "carol@example.org", NULL,
		  "only owners add" },
		{ "a non-member", OP_ADD, "new@example.net", "member", NULL, "stranger@example.net", NULL,
		  "is not a member" },
		{ "an existing member", OP_ADD, "carol@example.org", "member", NULL, "olga@example.org", NULL,
		  "already a member" },
		{ "the list's address", OP_ADD, LIST, "member", NULL, "olga@example.org", NULL,
		  "list's own address" },
		{ "a bad address", OP_ADD, "a@b@c.example", "member", NULL, "olga@example.org", NULL,
		  "exactly one @" },
		{ "an unknown role", OP_ADD, "new@example.net", "admin", NULL, "olga@example.org", NULL,
		  "unknown role" },
	};

	refusals(fx, rows, G_N_ELEMENTS(rows));
	if (add(fx, "New@Example.NET", "member", "olga@example.org", NULL, NOW, &error) != MODERATE_OK)
		fail_msg("add by the owner: %s", error);
	if (add(fx, "new2@example.net", "owner", NULL, "olga-login", NOW + 1, &error) != MODERATE_OK)
		fail_msg("add by the owner's Unix user: %s", error);
	expectf(fx, "SELECT group_concat(address || ' ' || role || ' ' || name || ' ' || added || ' ' || added_by || ' '"
		" || ifnull(invite_id, '-'), ' | ') FROM (SELECT * FROM members WHERE address LIKE 'new%%' ORDER BY address)",
		"new2@example.net owner New Person %d olga@example.org - | new@example.net member New Person %d"
		" olga@example.org -", NOW + 1, NOW);
	expect(fx, "SELECT group_concat(actor || ' ' || action || ' ' || address || ' ' || detail, ' | ')"
	       " FROM (SELECT * FROM audit ORDER BY id)",
	       "olga@example.org member-add new@example.net role=member"
	       " | olga@example.org member-add new2@example.net role=owner");
	assert_int_equal(store_member_find(fx->st, LIST, "new@example.net", &m, NULL), STORE_OK);
	assert_string_equal(m->added_by, "olga@example.org");
	assert_string_equal(m->invited_by, "");
	assert_string_equal(m->sponsors, "");
	store_member_free(m);
	assert_int_equal(fx->ids->len, 0);	/* nobody is mailed */
}

/* remove_member_ok - an owner removes a member, with a reason the member is told */
static void
remove_member_ok(void **state)
{
	struct fixture *fx = *state;
	struct notice_text n;
	char *error = NULL;
	static const struct op rows[] = {
		{ "the last owner", OP_REMOVE, "olga@example.org", NULL, "Leaving", "olga@example.org", NULL,
		  "last owner" },
		{ "by a moderator", OP_REMOVE, "carol@example.org", NULL, "Left", "mod@example.org", NULL,
		  "only owners remove" },
		{ "by a member", OP_REMOVE, "dave@example.org", NULL, "Left", "carol@example.org", NULL,
		  "only owners remove" },
		{ "by nobody", OP_REMOVE, "carol@example.org", NULL, "Left", NULL, NULL, "who is it?" },
		{ "an empty reason", OP_REMOVE, "carol@example.org", NULL, "", "olga@example.org", NULL,
		  "the reason is empty" },
		{ "a blank reason", OP_REMOVE, "carol@example.org", NULL, " \n\t", "olga@example.org", NULL,
		  "the reason is empty" },
		{ "no reason", OP_REMOVE, "carol@example.org", NULL, NULL, "olga@example.org", NULL,
		  "the reason is empty" },
		{ "a reason with ESC", OP_REMOVE, "carol@example.org", NULL, "bye\x1b[2J", "olga@example.org", NULL,
		  "control characters" },
		{ "a non-member", OP_REMOVE, "nobody@example.net", NULL, "Left", "olga@example.org", NULL,
		  "is not a member" },
		{ "not an address", OP_REMOVE, "nobody", NULL, "Left", "olga@example.org", NULL,
		  "not a mail address" },
	};

	refusals(fx, rows, G_N_ELEMENTS(rows));
	if (remove_member(fx, "Carol@Example.org", "Left the team", "olga@example.org", NULL, NOW, &error)
	    != MODERATE_OK)
		fail_msg("remove by the owner: %s", error);
	expect(fx, "SELECT count(*) FROM members WHERE address = 'carol@example.org'", "0");
	expectf(fx, "SELECT time || ' ' || actor || ' ' || action || ' ' || address || ' ' || detail FROM audit",
		"%d olga@example.org member-remove carol@example.org Left the team", NOW);
	assert_int_equal(fx->ids->len, 1);
	/* with the null envelope sender: a dead address must not bounce into the list's records */
	expect(fx, "SELECT kind || ' <' || sender || '> ' || recipients FROM outbox",
	       "member-removed <> carol@example.org");
	notice_get(fx, "kind = 'member-removed'", &n);
	has("removal notice", n.text, "olga@example.org removed carol@example.org from Sec");
	has("removal notice", n.text, "Left the team");
	notice_clear(&n);
	/* the removed address is not a member: its post is held */
	reply(fx, "carol@example.org", LIST, NULL, NOW + 60);
	expect(fx, "SELECT status FROM posts", "held");
}

/* remove_owner - an owner is removed only while another remains */
static void
remove_owner(void **state)
{
	struct fixture *fx = *state;
	char *error = NULL;

	if (add(fx, "o2@example.org", "owner", "olga@example.org", NULL, NOW, &error) != MODERATE_OK)
		fail_msg("add a second owner: %s", error);
	if (remove_member(fx, "olga@example.org", "Handing over", "o2@example.org", NULL, NOW + 1, &error)
	    != MODERATE_OK)
		fail_msg("remove an owner while two remain: %s", error);
	assert_int_equal(remove_member(fx, "o2@example.org", "Leaving", "o2@example.org", NULL, NOW + 2, &error),
			 MODERATE_REFUSED);
	if (strstr(error, "last owner") == NULL)
		fail_msg("removing the last owner: %s", error);
	g_free(error);
	expect(fx, "SELECT group_concat(address) FROM members WHERE role = 'owner'", "o2@example.org");
}

/* no_owner_yet - before a list has an owner, whoever runs the command adds and removes; then no more */
static void
no_owner_yet(void **state)
{
	struct fixture *fx = *state;
	char *error = NULL;
	static const struct op rows[] = {
		{ "nobody named once an owner exists", OP_ADD, "new@example.net", "member", NULL, NULL, NULL,
		  "who is it?" },
	};

	if (add(fx, "first@example.org", "owner", NULL, NULL, NOW, &error) != MODERATE_OK)
		fail_msg("the first owner: %s", error);
	expect(fx, "SELECT role || ' ' || added_by FROM members WHERE address = 'first@example.org'",
	       "owner " FALLBACK);
	expect(fx, "SELECT actor || ' ' || action || ' ' || address FROM audit", FALLBACK " member-add first@example.org");
	refusals(fx, rows, G_N_ELEMENTS(rows));
}

/* no_owner_remove - before a list has an owner, whoever runs the command removes */
static void
no_owner_remove(void **state)
{
	struct fixture *fx = *state;
	char *error = NULL;

	if (remove_member(fx, "dave@example.org", "Left", NULL, NULL, NOW, &error) != MODERATE_OK)
		fail_msg("remove without an owner: %s", error);
	expect(fx, "SELECT actor || ' ' || action || ' ' || detail FROM audit", FALLBACK " member-remove Left");
}

/* member_fields - who invited, who vouched (in vouch order) and who added, as the member list shows */
static void
member_fields(void **state)
{
	struct fixture *fx = *state;
	struct invite_outcome out;
	GPtrArray *members = NULL;
	char *rcpt = join_address(0), *error = NULL;
	guint i;
	bool seen[2] = { false, false };

	invite_ok(fx, "newbie@example.net", "member", "mod@example.org", NOW, &out);
	membership_outcome_clear(&out);
	vouch_ok(fx, "newbie@example.net", "dave@example.org", NOW + 10, &out);
	membership_outcome_clear(&out);
	vouch_ok(fx, "newbie@example.net", "carol@example.org", NOW + 20, &out);
	membership_outcome_clear(&out);
	reply(fx, "newbie@example.net", rcpt, NULL, NOW + 30);
	if (add(fx, "direct@example.net", "member", "olga@example.org", NULL, NOW + 40, &error) != MODERATE_OK)
		fail_msg("add: %s", error);
	assert_int_equal(store_member_list(fx->st, LIST, &members, NULL), STORE_OK);
	for (i = 0; i < members->len; i++) {
		const struct member *m = g_ptr_array_index(members, i);

		if (strcmp(m->address, "newbie@example.net") == 0) {
			seen[0] = true;
			assert_string_equal(m->invited_by, "mod@example.org");
			assert_string_equal(m->sponsors, "mod@example.org, dave@example.org, carol@example.org");
			assert_string_equal(m->added_by, "");
			assert_string_equal(m->role, "member");
		} else if (strcmp(m->address, "direct@example.net") == 0) {
			seen[1] = true;
			assert_string_equal(m->invited_by, "");
			assert_string_equal(m->sponsors, "");
			assert_string_equal(m->added_by, "olga@example.org");
		} else {
			assert_string_equal(m->invited_by, "");
			assert_string_equal(m->sponsors, "");
		}
	}
	assert_true(seen[0] && seen[1]);
	g_ptr_array_free(members, TRUE);
	g_free(rcpt);
}

/*
 * answer_suppressed - X-Auto-Response-Suppress: All on a wrong token:
 * refused, not answered, an audit row
 */
static void
answer_suppressed(void **state)
{
	struct fixture *fx = *state;
	char *before = query(fx, JOIN_SNAPSHOT);

	reply(fx, "guess@example.com", "security+join-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq@example.org",
	      "X-Auto-Response-Suppress: All\n", NOW);
	expect(fx, JOIN_SNAPSHOT, before);
	assert_int_equal(fx->ids->len, 0);
	/* not answered, but not without a trace */
	expect(fx, LAST_AUDIT, "join-refused guess@example.com - wrong-token");
	g_free(before);
}

/*
 * request_by_envelope - the post that asked may name the address in its
 * envelope only (its From is another): the address is still found, in
 * its canonical form
 */
static void
request_by_envelope(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *name;
		const char *sender;	/* envelope, as the MTA gave it */
		const char *vouch;	/* the address typed */
	} rows[] = {
		{ "an envelope sender in mixed case", "Rep@Example.NET", "rep@example.net" },
		{ "an IDN envelope sender, typed in U-labels", "zoe@b\xc3\xbc" "cher.example",
		  "zoe@b\xc3\xbc" "cher.example" },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct invite_outcome out;
		char *mid = g_strdup_printf("env%zu@example.net", i);
		char *msg = message("Forwarder <fwd@example.com>", NULL, mid);
		char *error = NULL;

		take(fx, msg, rows[i].sender, LIST, NOW + (gint64) i);
		if (vouch(fx, rows[i].vouch, "carol@example.org", NULL, NOW + 100 + (gint64) i, &out, &error)
		    != MODERATE_OK) {
			print_error("%s: vouch for %s refused: %s\n", rows[i].name, rows[i].vouch, error);
			bad++;
		} else if (!out.request) {
			print_error("%s: not counted as a membership request\n", rows[i].name);
			bad++;
		}
		membership_outcome_clear(&out);
		g_free(error);
		g_free(msg);
		g_free(mid);
	}
	expect(fx, "SELECT count(*) FROM posts WHERE status = 'held'", "2");
	if (bad)
		fail_msg("%d of %zu requests not found", bad, G_N_ELEMENTS(rows));
}

/*
 * answers_limited - a sender is told of a wrong token at most once per
 * autoreply_interval (a forged sender must not become a stream of mail),
 * and not at all within the interval of a held post's auto-reply
 */
static void
answers_limited(void **state)
{
	struct fixture *fx = *state;
	const char *wrong = "security+join-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq@example.org";
	const char *other = "security+join-rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@example.org";

	assert_int_equal(fx->l->autoreply_interval, 86400);
	reply(fx, "victim@example.com", wrong, NULL, NOW);
	expect_join_invalid(fx, "first", "victim@example.com", 1);
	reply(fx, "victim@example.com", other, NULL, NOW + 60);
	reply(fx, "Victim@Example.COM", wrong, NULL, NOW + 86399);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'join-invalid'", "1");
	reply(fx, "victim@example.com", wrong, NULL, NOW + 86400);
	expect_join_invalid(fx, "a day later", "victim@example.com", 2);
	/* a held post's auto-reply counts too */
	reply(fx, "rep@example.net", LIST, NULL, NOW);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'autoreply'", "1");
	reply(fx, "rep@example.net", wrong, NULL, NOW + 60);
	expect(fx, "SELECT count(*) FROM outbox WHERE kind = 'join-invalid'", "2");
	expect(fx, "SELECT count(*) FROM members WHERE address IN ('victim@example.com', 'rep@example.net')", "0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(invite_sent_at_once, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(invite_by_login, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(invite_no_randomness, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(owner_invites_any_role, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(pending_then_vouch, setup2, fixture_teardown),
		cmocka_unit_test_setup_teardown(invite_refusals, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(reinvite_after_expiry, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(membership_request, setup2, fixture_teardown),
		cmocka_unit_test_setup_teardown(request_vouched_by_inviter, setup2, fixture_teardown),
		cmocka_unit_test_setup_teardown(request_by_store, setup2, fixture_teardown),
		cmocka_unit_test_setup_teardown(request_by_envelope, setup2, fixture_teardown),
		cmocka_unit_test_setup_teardown(join_accept, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(join_role, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(join_from_elsewhere, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(token_used_twice, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(bad_tokens, setup_two_lists, fixture_teardown),
		cmocka_unit_test_setup_teardown(answer_suppressed, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(answers_limited, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(expired_token, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(automatic_ignored, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(join_upper_case, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(add_cancels_invitation, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(add_direct, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(remove_member_ok, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(remove_owner, setup1, fixture_teardown),
		cmocka_unit_test_setup_teardown(no_owner_yet, setup_no_owner, fixture_teardown),
		cmocka_unit_test_setup_teardown(no_owner_remove, setup_no_owner, fixture_teardown),
		cmocka_unit_test_setup_teardown(member_fields, setup2, fixture_teardown),
	};

	message_init();
	return cmocka_run_group_tests_name("membership", tests, NULL, NULL);
}
