/*
 * NAME
 *	fuzz_policy - fuzz harness for the rule book
 * SYNOPSIS
 *	fuzz_policy [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input is read as facts (fuzz.h): eleven flags, the three header
 *	values policy reads, the sizes and times (times and the interval
 *	non-negative and below 2^62, as Unix times and configured
 *	durations are), then an invitation's state, stored words and roles.  policy_decide() and policy_join()
 *	decide, and what policy.c promises must hold whatever the facts:
 *
 *	A verdict is RELAY, HOLD or REJECT with a reason (intake stops the
 *	process on anything else).  An auto-reply goes only with HOLD, and
 *	a verdict without one says why not.  Too large is rejected; a loop
 *	is never relayed; a message without a readable header is never
 *	relayed; only a member, or a reporter in their own report's
 *	thread alone, is relayed.  No auto-reply ever goes to a null
 *	sender, MAILER-DAEMON, a message carrying our loop marker, one
 *	with Auto-Submitted other than "no", Precedence bulk, junk or list,
 *	a List-Id, X-Auto-Response-Suppress All, AutoReply or OOF, or a
 *	sender answered within the interval (RFC 3834).
 *
 *	policy_join(): an automatic message is ignored and never
 *	answered; only a sent invitation is accepted; an answer goes only
 *	with a refusal, and never inside the interval.
 *
 *	Stored words and roles: the state and invitation names read back
 *	to their states; only held posts change state; only owners and
 *	moderators decide, only owners add and remove, the last owner
 *	stays; a reason policy_check_reason() accepts is UTF-8 without
 *	controls other than newline and tab, and not blank.
 */
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "fuzz.h"

/* trimmed - a copy of n bytes of s without the leading blanks and the trailing bytes of tail */
static char *
trimmed(const char *s, size_t n, const char *tail)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && strchr(tail, s[n - 1]) != NULL)
		n--;
	return g_strndup(s, n);
}

/* word - the value up to ';', without blanks around it (and line ends after it), is w in any case */
static bool
word(const char *value, const char *w)
{
	char *v = trimmed(value, strcspn(value, ";"), " \t\r\n");
	bool same = g_ascii_strcasecmp(v, w) == 0;

	g_free(v);
	return same;
}

/* asks_suppress - an X-Auto-Response-Suppress item, blanks aside, is All, AutoReply or OOF */
static bool
asks_suppress(const char *value)
{
	char **items = g_strsplit(value, ",", -1);
	bool yes = false;
	size_t i;

	for (i = 0; items[i]; i++) {
		char *v = trimmed(items[i], strlen(items[i]), " \t");

		if (g_ascii_strcasecmp(v, "all") == 0 || g_ascii_strcasecmp(v, "autoreply") == 0
		    || g_ascii_strcasecmp(v, "oof") == 0)
			yes = true;
		g_free(v);
	}
	g_strfreev(items);
	return yes;
}

/* automatic - the headers say a program sent it */
static bool
automatic(const struct facts *f)
{
	return (f->auto_submitted && !word(f->auto_submitted, "no"))
		|| (f->precedence && (word(f->precedence, "bulk") || word(f->precedence, "junk")
				      || word(f->precedence, "list")))
		|| f->has_list_id;
}

/* within_interval - the sender was answered too recently */
static bool
within_interval(const struct facts *f)
{
	return f->autoreply_interval > 0 && f->last_autoreply > 0
		&& f->now - f->last_autoreply < f->autoreply_interval;
}

/* sender_ok - the envelope sender counts, as the list requires */
static bool
sender_ok(const struct facts *f)
{
	return f->require_auth == AUTH_NONE || f->sender_dkim
		|| (f->require_auth == AUTH_DKIM_OR_SPF && f->sender_spf);
}

/* from_ok - the From addresses count: only with a verifier's pass, never on their word */
static bool
from_ok(const struct facts *f)
{
	return f->require_auth != AUTH_NONE
		&& (f->from_dkim || (f->require_auth == AUTH_DKIM_OR_SPF && f->from_spf));
}

/* is_member - a member's post, by an address that counts */
static bool
is_member(const struct facts *f)
{
	return (f->sender_member && sender_ok(f)) || (f->from_member && from_ok(f));
}

/* is_reporter - a reporter's follow-up in its own report's thread, by an address that counts */
static bool
is_reporter(const struct facts *f)
{
	return f->in_thread && !f->thread_mixed
		&& ((f->sender_reporter && sender_ok(f)) || (f->from_reporter && from_ok(f)));
}

/* check_decide - the promises of policy_decide() */
static void
check_decide(const struct facts *f)
{
	struct verdict v = policy_decide(f);

	FUZZ_CHECK(v.action == ACTION_RELAY || v.action == ACTION_HOLD || v.action == ACTION_REJECT,
		   "action %d", v.action);
	FUZZ_CHECK(v.reason != NULL && *v.reason, "no reason");
	FUZZ_CHECK(strcmp(policy_action_name(v.action), "unknown") != 0, "action %d", v.action);
	FUZZ_CHECK(v.autoreply == (v.no_autoreply == NULL), "autoreply %d, no_autoreply %s", v.autoreply,
		   v.no_autoreply ? v.no_autoreply : "NULL");
	FUZZ_CHECK(!v.autoreply || v.action == ACTION_HOLD, "auto-reply with %s",
		   policy_action_name(v.action));
	if (f->size > f->max_size)
		FUZZ_CHECK(v.action == ACTION_REJECT && strcmp(v.reason, "too-large") == 0, "too large: %s %s",
			   policy_action_name(v.action), v.reason);
	if (v.action == ACTION_REJECT)
		FUZZ_CHECK(f->size > f->max_size || (f->loop && f->can_refuse), "rejected: %s", v.reason);
	if (f->loop)
		FUZZ_CHECK(v.action != ACTION_RELAY && !v.autoreply, "loop: %s", policy_action_name(v.action));
	if (v.action == ACTION_RELAY) {
		FUZZ_CHECK(f->parsed, "relayed without a header");
		FUZZ_CHECK(is_member(f) || is_reporter(f), "relayed a stranger or a forger (%s)", v.reason);
	} else if (f->size <= f->max_size && !f->loop && f->parsed) {
		FUZZ_CHECK(!is_member(f), "a member's post: %s", policy_action_name(v.action));
		FUZZ_CHECK(!is_reporter(f), "a reporter's follow-up: %s", policy_action_name(v.action));
	}
	if (v.autoreply) {
		FUZZ_CHECK(!f->sender_null && !f->sender_mailer_daemon, "auto-reply to a null sender or MAILER-DAEMON");
		FUZZ_CHECK(!f->sender_ours, "auto-reply to one of our own addresses");
		FUZZ_CHECK(sender_ok(f), "auto-reply to an unauthenticated sender");
		FUZZ_CHECK(!within_interval(f), "auto-reply within the interval");
		if (f->parsed) {
			FUZZ_CHECK(!automatic(f), "auto-reply to an automatic message");
			FUZZ_CHECK(!f->auto_response_suppress || !asks_suppress(f->auto_response_suppress),
				   "auto-reply against X-Auto-Response-Suppress: %s", f->auto_response_suppress);
		}
	}
}

/* check_join - the promises of policy_join() */
static void
check_join(const struct facts *f, enum invite_state s)
{
	struct join_verdict v = policy_join(f, s);
	bool auto_msg = f->loop || f->sender_null || f->sender_mailer_daemon || f->sender_ours
			|| (f->parsed && automatic(f));

	FUZZ_CHECK(v.outcome == JOIN_ACCEPT || v.outcome == JOIN_REFUSE || v.outcome == JOIN_IGNORE,
		   "outcome %d", v.outcome);
	FUZZ_CHECK(v.reason != NULL && *v.reason, "no reason");
	FUZZ_CHECK(!v.answer || v.outcome == JOIN_REFUSE, "answer with outcome %d", v.outcome);
	if (auto_msg)
		FUZZ_CHECK(v.outcome == JOIN_IGNORE && !v.answer, "automatic message: outcome %d (%s)",
			   v.outcome, v.reason);
	else
		FUZZ_CHECK(v.outcome == (s == INVITE_SENT ? JOIN_ACCEPT : JOIN_REFUSE), "state %d: outcome %d",
			   s, v.outcome);
	if (v.answer)
		FUZZ_CHECK(!within_interval(f), "answered within the interval");
}

/* check_words - stored words, roles and the other small rules */
static void
check_words(struct fuzz_in *in)
{
	char *word1 = fuzz_str(in);
	char *word2 = fuzz_str(in);
	int64_t a = fuzz_i64(in), b = fuzz_i64(in);
	enum post_state ps;
	enum invite_state is;
	const char *why;
	int i;

	if (policy_state_parse(word1, &ps))
		FUZZ_CHECK(strcmp(policy_state_name(ps), word1) == 0, "state \"%s\" -> %d", word1, ps);
	for (i = POST_HELD; i <= POST_EXPIRED; i++) {
		FUZZ_CHECK(policy_state_parse(policy_state_name(i), &ps) && (int) ps == i, "state %d", i);
		FUZZ_CHECK(policy_may_become(i, (enum post_state) (fuzz_byte(in) % 6)) ? i == POST_HELD : true,
			   "state %d changes", i);
	}
	is = policy_invite_state(word1, a, b);
	FUZZ_CHECK(is >= INVITE_NONE && is <= INVITE_CANCELLED, "invite state %d", is);
	if (is == INVITE_SENT)
		FUZZ_CHECK(b < a, "sent invitation at %lld, expires %lld", (long long) b, (long long) a);
	if (is != INVITE_NONE && is != INVITE_EXPIRED)
		FUZZ_CHECK(strcmp(policy_invite_state_name(is), word1) == 0, "\"%s\" -> %d", word1, is);
	for (i = INVITE_PENDING; i <= INVITE_CANCELLED; i++)
		if (i != INVITE_SENT)
			FUZZ_CHECK((int) policy_invite_state(policy_invite_state_name(i), a, b) == i,
				   "invite state %d", i);
	if (policy_invite_ready(a, b))
		FUZZ_CHECK(a >= 1 && a >= b, "ready with %lld of %lld", (long long) a, (long long) b);

	FUZZ_CHECK(policy_may_decide(word1) == (strcmp(word1, "owner") == 0 || strcmp(word1, "moderator") == 0),
		   "\"%s\" decides", word1);
	FUZZ_CHECK((policy_may_add(word1) == NULL) == (strcmp(word1, "owner") == 0), "\"%s\" adds", word1);
	FUZZ_CHECK((policy_may_vouch(word1) == NULL) == policy_role_valid(word1), "\"%s\" vouches", word1);
	why = policy_may_invite(word1, word2);
	if (why == NULL)
		FUZZ_CHECK(policy_role_valid(word2) && (strcmp(word1, "owner") == 0
							|| (strcmp(word1, "moderator") == 0
							    && strcmp(word2, "member") == 0)),
			   "\"%s\" invites \"%s\"", word1, word2);
	why = policy_may_remove(word1, word2, a);
	if (why == NULL)
		FUZZ_CHECK(strcmp(word1, "owner") == 0 && (strcmp(word2, "owner") != 0 || a > 1),
			   "\"%s\" removes \"%s\" of %lld owners", word1, word2, (long long) a);

	why = policy_check_reason(word2);
	if (why == NULL) {
		const unsigned char *p;
		bool blank = true;

		FUZZ_CHECK(g_utf8_validate(word2, -1, NULL), "reason not UTF-8 accepted");
		for (p = (const unsigned char *) word2; *p; p++) {
			FUZZ_CHECK(*p >= 0x20 || *p == '\n' || *p == '\t', "control 0x%02x accepted", *p);
			FUZZ_CHECK(*p != 0x7f, "DEL accepted");
			if (!g_ascii_isspace(*p))
				blank = false;
		}
		FUZZ_CHECK(!blank, "blank reason accepted");
	}
	g_free(word1);
	g_free(word2);
}

/* LLVMFuzzerTestOneInput - one set of facts */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct facts f;
	uint8_t flags, present;
	char *auto_submitted, *precedence, *suppress;
	enum invite_state s;

	memset(&f, 0, sizeof f);
	flags = fuzz_byte(&in);
	f.parsed = flags & 1;
	f.sender_null = flags & 2;
	f.sender_mailer_daemon = flags & 4;
	f.sender_member = flags & 8;
	f.from_member = flags & 16;
	f.loop = flags & 32;
	f.can_refuse = flags & 64;
	f.in_thread = flags & 128;
	flags = fuzz_byte(&in);
	f.thread_mixed = flags & 1;
	f.sender_reporter = flags & 2;
	f.has_list_id = flags & 4;
	f.from_reporter = flags & 8;
	present = flags >> 4;
	flags = fuzz_byte(&in);
	f.require_auth = flags % 3;
	f.sender_dkim = flags & 4;
	f.sender_spf = flags & 8;
	f.from_dkim = flags & 16;
	f.from_spf = flags & 32;
	f.sender_ours = flags & 64;
	auto_submitted = fuzz_str(&in);
	precedence = fuzz_str(&in);
	suppress = fuzz_str(&in);
	f.auto_submitted = present & 1 ? auto_submitted : NULL;
	f.precedence = present & 2 ? precedence : NULL;
	f.auto_response_suppress = present & 4 ? suppress : NULL;
	f.size = fuzz_i64(&in);
	f.max_size = fuzz_i64(&in);
	/* times are Unix times and the interval a configured duration: far
	 * from the ends of int64_t, where now - last_autoreply would overflow */
	f.now = (int64_t) ((uint64_t) fuzz_i64(&in) >> 2);
	f.last_autoreply = (int64_t) ((uint64_t) fuzz_i64(&in) >> 2);
	f.autoreply_interval = (int64_t) ((uint64_t) fuzz_i64(&in) >> 2);
	s = (enum invite_state) (fuzz_byte(&in) % (INVITE_CANCELLED + 1));

	check_decide(&f);
	check_join(&f, s);
	check_words(&in);

	g_free(auto_submitted);
	g_free(precedence);
	g_free(suppress);
	return 0;
}
