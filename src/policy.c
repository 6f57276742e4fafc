/*
 * NAME
 *	policy - facts in, verdict out
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	struct verdict policy_decide(const struct facts *f);
 *	const char *policy_action_name(enum action a);
 * DESCRIPTION
 *	policy_decide() is the list's rule book.  It is a pure function: no
 *	I/O, no clock (now is a fact), no globals.  The rules, first match
 *	wins:
 *
 *	too-large	size above max_message_size: REJECT.
 *	loop		the list's own loop marker: REJECT when the front-end
 *			can still refuse the message to the client (a milter
 *			at SMTP time, so no bounce is generated); otherwise
 *			HOLD for the owner to see,
 *			never relayed again, no auto-reply.
 *	malformed	no readable header block: HOLD (never refused, never
 *			dropped), auto-reply by the envelope rules only.
 *	member		the envelope sender is a member, or (when the list
 *			requires authentication) a From address is, and that
 *			address is authenticated: RELAY.
 *	reporter	a reply in a report's thread (its references lead
 *			there) whose envelope sender, or authenticated From,
 *			is a reporter of that report, and that address is
 *			authenticated: RELAY.  Not when its references also
 *			lead to another report: a reporter never reaches
 *			someone else's thread.
 *	unauthenticated	a post the member or reporter rule would relay, but
 *			for an address that is not authenticated: HOLD,
 *			with an auto-reply by the rules below.
 *	non-member	everything else: HOLD with an auto-reply.
 *
 *	Who sent a message is its envelope sender, the address the MTA
 *	checks (SPF) and bounces go to.  A From: address is what the
 *	sender says of itself, and anyone may write a member's there: with
 *	AUTH_NONE a From: address never makes a post a member's or a
 *	reporter's (a post From: a member with a stranger's envelope is
 *	held like any report).  It counts only when the verifier vouches
 *	for it.
 *
 *	Authenticated depends on the list's require_auth: with AUTH_NONE
 *	every envelope sender is; with AUTH_DKIM an address the verifier
 *	reported an aligned DKIM pass for (sender_dkim for the envelope
 *	sender, from_dkim for the From addresses, all of them); with
 *	AUTH_DKIM_OR_SPF also one with an aligned SPF pass.  Each address
 *	counts for itself: an authenticated envelope sender does not make
 *	a forged From a member's, nor the reverse.
 *
 *	The held auto-reply (RFC 3834) is suppressed for a null envelope
 *	sender, MAILER-DAEMON, one of our own list or bounce addresses (a
 *	forged sender: the answer would only come back), Auto-Submitted
 *	other than "no", Precedence bulk, junk or list, any List-Id,
 *	X-Auto-Response-Suppress asking for no auto-replies, an envelope
 *	sender that is not authenticated while the list requires it
 *	("unauthenticated": a forged sender must not turn the list into a
 *	source of backscatter), and a sender
 *	answered within the list's autoreply_interval.  no_autoreply names
 *	the rule that suppressed it.
 *
 *	A held post waits for one decision: held becomes approved,
 *	rejected, discarded or expired, and nothing else ever changes
 *	state (policy_may_become()).  policy_state_name() is the word
 *	stored and printed ("approved"), policy_state_verb() the action
 *	in the audit trail ("approve").  Only a member whose role is
 *	moderator or owner decides (policy_may_decide()).
 *
 *	policy_check_reason() returns NULL for a rejection reason or a
 *	comment fit to mail, or what is wrong with it ("is empty"): blank,
 *	not UTF-8, or carrying control characters other than newline and
 *	tab.
 *
 *	Membership (the policy_may_*() functions return NULL when allowed,
 *	else why not):
 *
 *	owner		adds members directly, removes them, invites any
 *			role, vouches.
 *	moderator	decides held posts, invites members (not moderators
 *			or owners), vouches.
 *	member		receives and posts, vouches.
 *
 *	The last owner of a list cannot be removed.  An invitation is sent
 *	once it has vouches_required sponsors, the inviter counting as
 *	one (policy_invite_ready()).  A sent invitation may be accepted
 *	until it expires (policy_invite_state()).
 *
 *	policy_join() is the rule for a message to LIST+join-TOKEN, after
 *	the token was looked up: an automatic message (null sender,
 *	MAILER-DAEMON, one of our own addresses, Auto-Submitted,
 *	Precedence bulk/junk/list, List-Id, our loop marker) never accepts
 *	an invitation and is not answered -
 *	a vacation reply to the invitation must not make anyone a member.
 *	A sent, unexpired invitation is accepted (the token is what
 *	counts, not the sender).  Anything else (a wrong, used, expired or
 *	cancelled token) is refused with one short answer, the same
 *	whatever the cause, unless the RFC 3834 rules forbid it, the list
 *	requires authentication and the envelope sender is not
 *	authenticated, or the sender was answered within autoreply_interval
 *	(a forged sender must not turn wrong tokens into a stream of mail
 *	to someone).
 */
#include "policy.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <glib.h>

/* word_is - does value, up to ';' and around blanks, equal word */
static bool
word_is(const char *value, const char *word)
{
	size_t n;

	while (*value == ' ' || *value == '\t')
		value++;
	n = strcspn(value, ";");
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r'
			 || value[n - 1] == '\n'))
		n--;
	return n == strlen(word) && strncasecmp(value, word, n) == 0;
}

/* suppress_asks - X-Auto-Response-Suppress lists All, AutoReply or OOF */
static bool
suppress_asks(const char *value)
{
	static const char *stop[] = { "all", "autoreply", "oof" };
	const char *p = value;

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof stop / sizeof stop[0]; i++) {
			const char *q = p;
			size_t m = n;

			while (m > 0 && (*q == ' ' || *q == '\t'))
				q++, m--;
			while (m > 0 && (q[m - 1] == ' ' || q[m - 1] == '\t'))
				m--;
			if (m == strlen(stop[i]) && strncasecmp(q, stop[i], m) == 0)
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* envelope_no_reply - RFC 3834 rules that need only the envelope */
static const char *
envelope_no_reply(const struct facts *f)
{
	if (f->sender_null)
		return "null-sender";
	if (f->sender_mailer_daemon)
		return "mailer-daemon";
	if (f->sender_ours)
		return "own-address";
	return NULL;
}

/* interval_no_reply - at most one auto-reply per sender per interval */
static const char *
interval_no_reply(const struct facts *f)
{
	/* an interval of 0 answers every message, even one whose clock ran behind */
	if (f->autoreply_interval > 0 && f->last_autoreply > 0
	    && f->now - f->last_autoreply < f->autoreply_interval)
		return "interval";
	return NULL;
}

/* authentic - an address with these passes counts, as the list requires */
static bool
authentic(const struct facts *f, bool dkim, bool spf)
{
	return f->require_auth == AUTH_NONE || dkim || (f->require_auth == AUTH_DKIM_OR_SPF && spf);
}

/* sender_authentic - the envelope sender counts */
static bool
sender_authentic(const struct facts *f)
{
	return authentic(f, f->sender_dkim, f->sender_spf);
}

/*
 * from_authentic - the From addresses count: only when the list requires
 * authentication and the verifier vouches for them; otherwise From is
 * the sender's word
 */
static bool
from_authentic(const struct facts *f)
{
	return f->require_auth != AUTH_NONE && authentic(f, f->from_dkim, f->from_spf);
}

/* auth_no_reply - no answer to an envelope sender the list cannot trust */
static const char *
auth_no_reply(const struct facts *f)
{
	return sender_authentic(f) ? NULL : "unauthenticated";
}

/* header_automatic - headers that say a program sent it (RFC 3834, RFC 2369) */
static const char *
header_automatic(const struct facts *f)
{
	if (f->auto_submitted && !word_is(f->auto_submitted, "no"))
		return "auto-submitted";
	if (f->precedence && (word_is(f->precedence, "bulk") || word_is(f->precedence, "junk")
			      || word_is(f->precedence, "list")))
		return "precedence";
	if (f->has_list_id)
		return "list-id";
	return NULL;
}

/* header_no_reply - auto-reply rules that read the headers (RFC 3834) */
static const char *
header_no_reply(const struct facts *f)
{
	const char *no;

	if ((no = header_automatic(f)) != NULL)
		return no;
	if (f->auto_response_suppress && suppress_asks(f->auto_response_suppress))
		return "auto-response-suppress";
	return NULL;
}

/* hold - a HOLD verdict, with the auto-reply unless a rule says no */
static struct verdict
hold(const char *reason, const char *no_reply)
{
	struct verdict v = { ACTION_HOLD, reason, no_reply == NULL, no_reply };

	return v;
}

/* policy_decide - the verdict for one message to one list */
struct verdict
policy_decide(const struct facts *f)
{
	const char *no;
	bool reporter, from;

	if (f->size > f->max_size) {
		struct verdict v = { ACTION_REJECT, "too-large", false, "rejected" };

		return v;
	}
	if (f->loop && f->can_refuse) {
		struct verdict v = { ACTION_REJECT, "loop", false, "rejected" };

		return v;
	}
	if (f->loop)
		return hold("loop", "loop");
	if (!f->parsed) {
		if ((no = envelope_no_reply(f)) == NULL && (no = auth_no_reply(f)) == NULL)
			no = interval_no_reply(f);
		return hold("malformed", no);
	}
	if ((f->sender_member && sender_authentic(f)) || (f->from_member && from_authentic(f))) {
		struct verdict v = { ACTION_RELAY, "member", false, "relayed" };

		return v;
	}
	reporter = f->in_thread && !f->thread_mixed;
	if (reporter && ((f->sender_reporter && sender_authentic(f))
			 || (f->from_reporter && from_authentic(f)))) {
		struct verdict v = { ACTION_RELAY, "reporter", false, "relayed" };

		return v;
	}
	if ((no = envelope_no_reply(f)) == NULL && (no = header_no_reply(f)) == NULL
	    && (no = auth_no_reply(f)) == NULL)
		no = interval_no_reply(f);
	from = f->require_auth != AUTH_NONE;	/* a From address claims to be the sender */
	if (f->sender_member || (from && f->from_member)
	    || (reporter && (f->sender_reporter || (from && f->from_reporter))))
		return hold("unauthenticated", no);
	return hold("non-member", no);
}

/* policy_action_name - the word for an action, in logs and the audit trail */
const char *
policy_action_name(enum action a)
{
	switch (a) {
	case ACTION_RELAY:
		return "relay";
	case ACTION_HOLD:
		return "hold";
	case ACTION_DISCARD:
		return "discard";
	case ACTION_REJECT:
		return "reject";
	case ACTION_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

static const struct {
	const char *name;
	const char *verb;
} states[] = {
	[POST_HELD] = { "held", "hold" },
	[POST_RELAYED] = { "relayed", "relay" },
	[POST_APPROVED] = { "approved", "approve" },
	[POST_REJECTED] = { "rejected", "reject" },
	[POST_DISCARDED] = { "discarded", "discard" },
	[POST_EXPIRED] = { "expired", "expire" },
};

/* policy_state_name - the word stored for a state */
const char *
policy_state_name(enum post_state s)
{
	return (size_t) s < sizeof states / sizeof states[0] ? states[s].name : "?";
}

/* policy_state_verb - the audit action that leads to a state */
const char *
policy_state_verb(enum post_state s)
{
	return (size_t) s < sizeof states / sizeof states[0] ? states[s].verb : "?";
}

/* policy_state_parse - a stored word back to its state */
bool
policy_state_parse(const char *name, enum post_state *out)
{
	size_t i;

	for (i = 0; name && i < sizeof states / sizeof states[0]; i++)
		if (strcmp(name, states[i].name) == 0) {
			*out = (enum post_state) i;
			return true;
		}
	return false;
}

/* policy_may_become - the one transition there is: held to a decision */
bool
policy_may_become(enum post_state from, enum post_state to)
{
	return from == POST_HELD && (to == POST_APPROVED || to == POST_REJECTED
				     || to == POST_DISCARDED || to == POST_EXPIRED);
}

/* policy_deciders - the roles that decide held posts, NULL-terminated */
const char *const policy_deciders[] = { "moderator", "owner", NULL };

/* policy_may_decide - may a member with this role decide held posts */
bool
policy_may_decide(const char *role)
{
	int i;

	for (i = 0; role && policy_deciders[i]; i++)
		if (strcmp(role, policy_deciders[i]) == 0)
			return true;
	return false;
}

/* policy_check_reason - NULL if text may be mailed, else what is wrong with it */
const char *
policy_check_reason(const char *text)
{
	const char *p;
	bool blank = true;

	if (text == NULL)
		return "is empty";
	if (!g_utf8_validate(text, -1, NULL))
		return "is not valid UTF-8";
	for (p = text; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);

		if ((u < 0x20 && u != '\n' && u != '\t') || (u >= 0x7f && u <= 0x9f))
			return "contains control characters (only newline and tab may be used)";
		if (!g_unichar_isspace(u))
			blank = false;
	}
	return blank ? "is empty" : NULL;
}

/* policy_role_valid - one of the three roles */
bool
policy_role_valid(const char *role)
{
	return role && (strcmp(role, "member") == 0 || strcmp(role, "moderator") == 0
			|| strcmp(role, "owner") == 0);
}

/* is_role - role is name */
static bool
is_role(const char *role, const char *name)
{
	return role && strcmp(role, name) == 0;
}

/* policy_may_invite - may a member with by_role invite someone as new_role */
const char *
policy_may_invite(const char *by_role, const char *new_role)
{
	if (!policy_role_valid(new_role))
		return "the role must be member, moderator or owner";
	if (is_role(by_role, "owner"))
		return NULL;
	if (is_role(by_role, "moderator"))
		return is_role(new_role, "member") ? NULL
			: "only owners invite moderators and owners";
	return "only moderators and owners invite";
}

/* policy_may_vouch - may a member with by_role sponsor someone */
const char *
policy_may_vouch(const char *by_role)
{
	return policy_role_valid(by_role) ? NULL : "only members vouch";
}

/* policy_may_add - may a member with by_role add members directly */
const char *
policy_may_add(const char *by_role)
{
	return is_role(by_role, "owner") ? NULL
		: "only owners add members directly; others invite (vigil invite)";
}

/* policy_may_remove - may by_role remove a member with target_role, owners owners left */
const char *
policy_may_remove(const char *by_role, const char *target_role, int64_t owners)
{
	if (!is_role(by_role, "owner"))
		return "only owners remove members";
	if (is_role(target_role, "owner") && owners <= 1)
		return "the last owner of a list cannot be removed: make another owner first";
	return NULL;
}

static const char *const invite_states[] = {
	[INVITE_NONE] = "none",
	[INVITE_PENDING] = "pending",
	[INVITE_SENT] = "sent",
	[INVITE_ACCEPTED] = "accepted",
	[INVITE_EXPIRED] = "expired",
	[INVITE_CANCELLED] = "cancelled",
};

/* policy_invite_state - a stored invitation's state at time now */
enum invite_state
policy_invite_state(const char *status, int64_t expires, int64_t now)
{
	size_t i;

	for (i = INVITE_PENDING; status && i < sizeof invite_states / sizeof invite_states[0]; i++)
		if (strcmp(status, invite_states[i]) == 0) {
			if (i == INVITE_SENT && now >= expires)
				return INVITE_EXPIRED;
			return (enum invite_state) i;
		}
	return INVITE_NONE;
}

/* policy_invite_state_name - the word stored and printed for a state */
const char *
policy_invite_state_name(enum invite_state s)
{
	return (size_t) s < sizeof invite_states / sizeof invite_states[0] ? invite_states[s] : "?";
}

/* policy_invite_ready - enough sponsors to send the invitation */
bool
policy_invite_ready(int64_t sponsors, int64_t required)
{
	return sponsors >= (required > 1 ? required : 1);
}

/* policy_join - a message to LIST+join-TOKEN whose invitation is in state s */
struct join_verdict
policy_join(const struct facts *f, enum invite_state s)
{
	struct join_verdict v = { JOIN_REFUSE, NULL, false };
	const char *no;

	if (f->loop)
		no = "loop";
	else if ((no = envelope_no_reply(f)) == NULL && f->parsed)
		no = header_automatic(f);
	if (no) {
		v.outcome = JOIN_IGNORE;
		v.reason = no;
		return v;
	}
	if (s == INVITE_SENT) {
		v.outcome = JOIN_ACCEPT;
		v.reason = "accepted";
		return v;
	}
	v.reason = s == INVITE_NONE ? "wrong-token" : policy_invite_state_name(s);
	v.answer = !(f->parsed && f->auto_response_suppress && suppress_asks(f->auto_response_suppress))
		&& auth_no_reply(f) == NULL && interval_no_reply(f) == NULL;
	return v;
}
