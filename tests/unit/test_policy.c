/*
 * test_policy - every rule of policy_decide() is a named row
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy.h"

/* rows start from REPORT and override the fields they are about */
#pragma GCC diagnostic ignored "-Woverride-init"

#define NOW	1795300000
#define DAY	86400
#define MAXSZ	(50 * 1024 * 1024)

/* a non-member's ordinary report: the base every row changes */
#define REPORT .parsed = true, .size = 2000, .max_size = MAXSZ, .now = NOW, \
	.autoreply_interval = DAY

/* the list's require_authentication */
#define DKIM	.require_auth = AUTH_DKIM
#define EITHER	.require_auth = AUTH_DKIM_OR_SPF

struct row {
	const char *name;
	struct facts f;
	enum action action;
	const char *reason;
	bool autoreply;
	const char *no_autoreply;	/* NULL when autoreply */
};

static const struct row rows[] = {
	{ "non-member report is held with an auto-reply",
	  { REPORT }, ACTION_HOLD, "non-member", true, NULL },
	{ "member by envelope sender is relayed",
	  { REPORT, .sender_member = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "message larger than max_message_size is rejected",
	  { REPORT, .size = MAXSZ + 1 }, ACTION_REJECT, "too-large", false, "rejected" },
	{ "message of exactly max_message_size is accepted",
	  { REPORT, .size = MAXSZ }, ACTION_HOLD, "non-member", true, NULL },
	{ "oversize from a member is rejected too",
	  { REPORT, .size = MAXSZ + 1, .sender_member = true }, ACTION_REJECT, "too-large", false, "rejected" },
	{ "loop marker from a member is kept, not relayed",
	  { REPORT, .loop = true, .sender_member = true }, ACTION_HOLD, "loop", false, "loop" },
	{ "loop marker from a non-member is kept without auto-reply",
	  { REPORT, .loop = true }, ACTION_HOLD, "loop", false, "loop" },
	{ "loop marker at SMTP time is refused to the client",
	  { REPORT, .loop = true, .can_refuse = true }, ACTION_REJECT, "loop", false, "rejected" },
	{ "loop marker from a member at SMTP time is refused too",
	  { REPORT, .loop = true, .sender_member = true, .can_refuse = true }, ACTION_REJECT, "loop", false,
	  "rejected" },
	{ "oversize at SMTP time is refused",
	  { REPORT, .size = MAXSZ + 1, .can_refuse = true }, ACTION_REJECT, "too-large", false, "rejected" },
	{ "a member's post at SMTP time is relayed",
	  { REPORT, .sender_member = true, .can_refuse = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "malformed message is held, not refused",
	  { REPORT, .parsed = false }, ACTION_HOLD, "malformed", true, NULL },
	{ "malformed message from a member's envelope is held",
	  { REPORT, .parsed = false, .sender_member = true }, ACTION_HOLD, "malformed", true, NULL },
	{ "malformed message from the null sender: no auto-reply",
	  { REPORT, .parsed = false, .sender_null = true }, ACTION_HOLD, "malformed", false, "null-sender" },
	{ "malformed message within the interval: no auto-reply",
	  { REPORT, .parsed = false, .last_autoreply = NOW - 60 }, ACTION_HOLD, "malformed", false, "interval" },
	{ "null envelope sender: held, no auto-reply",
	  { REPORT, .sender_null = true }, ACTION_HOLD, "non-member", false, "null-sender" },
	{ "MAILER-DAEMON: held, no auto-reply",
	  { REPORT, .sender_mailer_daemon = true }, ACTION_HOLD, "non-member", false, "mailer-daemon" },
	{ "our own list or bounce address as sender: held, no auto-reply",
	  { REPORT, .sender_ours = true }, ACTION_HOLD, "non-member", false, "own-address" },
	{ "malformed message from our own address: no auto-reply",
	  { REPORT, .parsed = false, .sender_ours = true }, ACTION_HOLD, "malformed", false, "own-address" },
	{ "Auto-Submitted: auto-replied: no auto-reply",
	  { REPORT, .auto_submitted = "auto-replied" }, ACTION_HOLD, "non-member", false, "auto-submitted" },
	{ "Auto-Submitted: auto-generated: no auto-reply",
	  { REPORT, .auto_submitted = "auto-generated" }, ACTION_HOLD, "non-member", false, "auto-submitted" },
	{ "Auto-Submitted with parameters: no auto-reply",
	  { REPORT, .auto_submitted = "auto-notified; owner-email=\"x@y\"" }, ACTION_HOLD, "non-member", false,
	  "auto-submitted" },
	{ "Auto-Submitted: no gets the auto-reply",
	  { REPORT, .auto_submitted = "no" }, ACTION_HOLD, "non-member", true, NULL },
	{ "Auto-Submitted: NO (any case, blanks) gets the auto-reply",
	  { REPORT, .auto_submitted = "  NO " }, ACTION_HOLD, "non-member", true, NULL },
	{ "Precedence: bulk: no auto-reply",
	  { REPORT, .precedence = "bulk" }, ACTION_HOLD, "non-member", false, "precedence" },
	{ "Precedence: junk: no auto-reply",
	  { REPORT, .precedence = "Junk" }, ACTION_HOLD, "non-member", false, "precedence" },
	{ "Precedence: list: no auto-reply",
	  { REPORT, .precedence = " list" }, ACTION_HOLD, "non-member", false, "precedence" },
	{ "Precedence: urgent gets the auto-reply",
	  { REPORT, .precedence = "urgent" }, ACTION_HOLD, "non-member", true, NULL },
	{ "a List-Id: no auto-reply",
	  { REPORT, .has_list_id = true }, ACTION_HOLD, "non-member", false, "list-id" },
	{ "X-Auto-Response-Suppress: All: no auto-reply",
	  { REPORT, .auto_response_suppress = "All" }, ACTION_HOLD, "non-member", false,
	  "auto-response-suppress" },
	{ "X-Auto-Response-Suppress: DR, AutoReply: no auto-reply",
	  { REPORT, .auto_response_suppress = "DR, AutoReply" }, ACTION_HOLD, "non-member", false,
	  "auto-response-suppress" },
	{ "X-Auto-Response-Suppress: DR, RN gets the auto-reply",
	  { REPORT, .auto_response_suppress = "DR, RN" }, ACTION_HOLD, "non-member", true, NULL },
	{ "answered within the interval: no second auto-reply",
	  { REPORT, .last_autoreply = NOW - DAY + 1 }, ACTION_HOLD, "non-member", false, "interval" },
	{ "answered exactly one interval ago: auto-reply again",
	  { REPORT, .last_autoreply = NOW - DAY }, ACTION_HOLD, "non-member", true, NULL },
	{ "interval 0 answers every message",
	  { REPORT, .autoreply_interval = 0, .last_autoreply = NOW }, ACTION_HOLD, "non-member", true, NULL },
	{ "interval 0, a later answer by a concurrent filter: still answered",
	  { REPORT, .autoreply_interval = 0, .last_autoreply = NOW + 5 }, ACTION_HOLD, "non-member", true, NULL },
	{ "null sender is named before the header rules",
	  { REPORT, .sender_null = true, .auto_submitted = "auto-replied" }, ACTION_HOLD, "non-member", false,
	  "null-sender" },
	{ "Auto-Submitted on a member's post does not stop the relay",
	  { REPORT, .sender_member = true, .auto_submitted = "auto-generated" }, ACTION_RELAY, "member", false,
	  "relayed" },
	/* the reporter rule: a reporter's follow-up in its own report's thread */
	{ "reporter's follow-up in its report's thread is relayed",
	  { REPORT, .in_thread = true, .sender_reporter = true }, ACTION_RELAY, "reporter", false, "relayed" },
	{ "reporter's follow-up at SMTP time is relayed",
	  { REPORT, .in_thread = true, .sender_reporter = true, .can_refuse = true }, ACTION_RELAY, "reporter", false,
	  "relayed" },
	{ "reporter's auto-reply in its thread is relayed, as a member's is",
	  { REPORT, .in_thread = true, .sender_reporter = true, .auto_submitted = "auto-replied" }, ACTION_RELAY,
	  "reporter", false, "relayed" },
	{ "member wins over the reporter rule",
	  { REPORT, .sender_member = true, .in_thread = true, .sender_reporter = true }, ACTION_RELAY, "member", false,
	  "relayed" },
	{ "member in a mixed thread is relayed as a member",
	  { REPORT, .sender_member = true, .in_thread = true, .thread_mixed = true, .sender_reporter = true },
	  ACTION_RELAY, "member", false, "relayed" },
	{ "member replying in a thread is relayed as a member",
	  { REPORT, .sender_member = true, .in_thread = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "reporter whose references also reach another report is held",
	  { REPORT, .in_thread = true, .sender_reporter = true, .thread_mixed = true }, ACTION_HOLD, "non-member", true,
	  NULL },
	{ "reporter outside any thread is held",
	  { REPORT, .sender_reporter = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "non-reporter in a thread is held with an auto-reply",
	  { REPORT, .in_thread = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "non-reporter in a mixed thread is held with an auto-reply",
	  { REPORT, .in_thread = true, .thread_mixed = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "non-reporter in a thread, Auto-Submitted: no auto-reply",
	  { REPORT, .in_thread = true, .auto_submitted = "auto-replied" }, ACTION_HOLD, "non-member", false,
	  "auto-submitted" },
	{ "non-reporter in a thread, null sender: no auto-reply",
	  { REPORT, .in_thread = true, .sender_null = true }, ACTION_HOLD, "non-member", false, "null-sender" },
	{ "non-reporter in a thread, a List-Id: no auto-reply",
	  { REPORT, .in_thread = true, .has_list_id = true }, ACTION_HOLD, "non-member", false, "list-id" },
	{ "non-reporter in a thread within the interval: no auto-reply",
	  { REPORT, .in_thread = true, .last_autoreply = NOW - 60 }, ACTION_HOLD, "non-member", false,
	  "interval" },
	{ "oversize reporter's follow-up is rejected",
	  { REPORT, .in_thread = true, .sender_reporter = true, .size = MAXSZ + 1 }, ACTION_REJECT, "too-large", false,
	  "rejected" },
	{ "loop marker on a reporter's follow-up is kept, not relayed",
	  { REPORT, .in_thread = true, .sender_reporter = true, .loop = true }, ACTION_HOLD, "loop", false, "loop" },
	{ "loop marker on a reporter's follow-up at SMTP time is refused",
	  { REPORT, .in_thread = true, .sender_reporter = true, .loop = true, .can_refuse = true }, ACTION_REJECT, "loop",
	  false, "rejected" },
	{ "malformed reporter's follow-up is held",
	  { REPORT, .in_thread = true, .sender_reporter = true, .parsed = false }, ACTION_HOLD, "malformed", true, NULL },
	{ "reporter by From alone, no authentication: held, anyone may write From",
	  { REPORT, .in_thread = true, .from_reporter = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "dkim: reporter by From with its DKIM pass is relayed",
	  { REPORT, DKIM, .in_thread = true, .from_reporter = true, .from_dkim = true }, ACTION_RELAY,
	  "reporter", false, "relayed" },
	{ "reporter by From in a mixed thread is held",
	  { REPORT, .in_thread = true, .from_reporter = true, .thread_mixed = true }, ACTION_HOLD, "non-member",
	  true, NULL },
	/* require_authentication: a member's or reporter's address counts only with the verifier's pass */
	{ "auth none: the passes change nothing for a member",
	  { REPORT, .require_auth = AUTH_NONE, .sender_member = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "auth none: a member's From, even with a pass, is the sender's word: held",
	  { REPORT, .require_auth = AUTH_NONE, .from_member = true, .from_dkim = true }, ACTION_HOLD,
	  "non-member", true, NULL },
	{ "auth none: the passes change nothing for a non-member",
	  { REPORT, .require_auth = AUTH_NONE, .sender_dkim = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "dkim: member by envelope without a pass is held, not answered",
	  { REPORT, DKIM, .sender_member = true }, ACTION_HOLD, "unauthenticated", false, "unauthenticated" },
	{ "dkim: member by envelope with its DKIM pass is relayed",
	  { REPORT, DKIM, .sender_member = true, .sender_dkim = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "dkim: member by From with its DKIM pass is relayed",
	  { REPORT, DKIM, .from_member = true, .from_dkim = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "dkim: member by From, only the envelope passes: held, the sender answered",
	  { REPORT, DKIM, .from_member = true, .sender_dkim = true }, ACTION_HOLD, "unauthenticated", true, NULL },
	{ "dkim: member by envelope, only From passes: held, not answered",
	  { REPORT, DKIM, .sender_member = true, .from_dkim = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim: an SPF pass does not count",
	  { REPORT, DKIM, .sender_member = true, .sender_spf = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim: a From member with an SPF pass of From is held",
	  { REPORT, DKIM, .from_member = true, .from_spf = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim_or_spf: member by envelope with its SPF pass is relayed",
	  { REPORT, EITHER, .sender_member = true, .sender_spf = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "dkim_or_spf: member by From with its SPF pass is relayed",
	  { REPORT, EITHER, .from_member = true, .from_spf = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "dkim_or_spf: member by envelope with its DKIM pass is relayed",
	  { REPORT, EITHER, .sender_member = true, .sender_dkim = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "dkim_or_spf: nothing passes: held, not answered",
	  { REPORT, EITHER, .sender_member = true, .from_member = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim: a non-member without a pass is held, not answered (no backscatter)",
	  { REPORT, DKIM }, ACTION_HOLD, "non-member", false, "unauthenticated" },
	{ "dkim: a non-member whose envelope passes is answered",
	  { REPORT, DKIM, .sender_dkim = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "dkim: a non-member whose From alone passes is not answered",
	  { REPORT, DKIM, .from_dkim = true }, ACTION_HOLD, "non-member", false, "unauthenticated" },
	{ "dkim: a non-member with an SPF pass is not answered",
	  { REPORT, DKIM, .sender_spf = true }, ACTION_HOLD, "non-member", false, "unauthenticated" },
	{ "dkim_or_spf: a non-member with an SPF pass is answered",
	  { REPORT, EITHER, .sender_spf = true }, ACTION_HOLD, "non-member", true, NULL },
	{ "dkim: reporter by envelope with its pass is relayed",
	  { REPORT, DKIM, .in_thread = true, .sender_reporter = true, .sender_dkim = true }, ACTION_RELAY,
	  "reporter", false, "relayed" },
	{ "dkim: reporter by envelope without a pass is held, not answered",
	  { REPORT, DKIM, .in_thread = true, .sender_reporter = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim: reporter by From with its pass is relayed",
	  { REPORT, DKIM, .in_thread = true, .from_reporter = true, .from_dkim = true }, ACTION_RELAY, "reporter",
	  false, "relayed" },
	{ "dkim: reporter by From, only the envelope passes: held, answered",
	  { REPORT, DKIM, .in_thread = true, .from_reporter = true, .sender_dkim = true }, ACTION_HOLD,
	  "unauthenticated", true, NULL },
	{ "dkim_or_spf: reporter by envelope with its SPF pass is relayed",
	  { REPORT, EITHER, .in_thread = true, .sender_reporter = true, .sender_spf = true }, ACTION_RELAY,
	  "reporter", false, "relayed" },
	{ "dkim: an authenticated reporter in a mixed thread is held as a non-member",
	  { REPORT, DKIM, .in_thread = true, .thread_mixed = true, .sender_reporter = true, .sender_dkim = true },
	  ACTION_HOLD, "non-member", true, NULL },
	{ "dkim: a reporter outside its thread is a non-member",
	  { REPORT, DKIM, .sender_reporter = true }, ACTION_HOLD, "non-member", false, "unauthenticated" },
	{ "dkim: an unauthenticated member by From with the null sender: null-sender is named",
	  { REPORT, DKIM, .from_member = true, .sender_null = true }, ACTION_HOLD, "unauthenticated", false,
	  "null-sender" },
	{ "dkim: Auto-Submitted is named before the missing pass",
	  { REPORT, DKIM, .auto_submitted = "auto-replied" }, ACTION_HOLD, "non-member", false, "auto-submitted" },
	{ "dkim: an authenticated sender answered within the interval",
	  { REPORT, DKIM, .sender_dkim = true, .last_autoreply = NOW - 60 }, ACTION_HOLD, "non-member", false,
	  "interval" },
	{ "dkim: the missing pass is named before the interval",
	  { REPORT, DKIM, .last_autoreply = NOW - 60 }, ACTION_HOLD, "non-member", false, "unauthenticated" },
	{ "dkim: a malformed message is not answered",
	  { REPORT, DKIM, .parsed = false }, ACTION_HOLD, "malformed", false, "unauthenticated" },
	{ "dkim: a malformed message from the null sender: null-sender",
	  { REPORT, DKIM, .parsed = false, .sender_null = true }, ACTION_HOLD, "malformed", false, "null-sender" },
	{ "dkim: loop marker from an authenticated member is kept",
	  { REPORT, DKIM, .loop = true, .sender_member = true, .sender_dkim = true }, ACTION_HOLD, "loop", false,
	  "loop" },
	{ "dkim: oversize from an authenticated member is rejected",
	  { REPORT, DKIM, .size = MAXSZ + 1, .sender_member = true, .sender_dkim = true }, ACTION_REJECT,
	  "too-large", false, "rejected" },
	{ "dkim: an unauthenticated member at SMTP time is held, not refused",
	  { REPORT, DKIM, .can_refuse = true, .sender_member = true }, ACTION_HOLD, "unauthenticated", false,
	  "unauthenticated" },
	{ "dkim: an authenticated member at SMTP time is relayed",
	  { REPORT, DKIM, .can_refuse = true, .from_member = true, .from_dkim = true }, ACTION_RELAY, "member",
	  false, "relayed" },
};

/* one_row - decide one row and compare every field of the verdict */
static void
one_row(void **state)
{
	const struct row *r = *state;
	struct verdict v = policy_decide(&r->f);

	if (v.action != r->action || strcmp(v.reason, r->reason) != 0 || v.autoreply != r->autoreply
	    || (r->no_autoreply == NULL) != (v.no_autoreply == NULL)
	    || (r->no_autoreply && strcmp(v.no_autoreply, r->no_autoreply) != 0))
		fail_msg("%s: got %s/%s autoreply=%d (%s), want %s/%s autoreply=%d (%s)", r->name,
			 policy_action_name(v.action), v.reason, v.autoreply,
			 v.no_autoreply ? v.no_autoreply : "-", policy_action_name(r->action), r->reason,
			 r->autoreply, r->no_autoreply ? r->no_autoreply : "-");
}

/* policy_is_pure - the same facts give the same verdict */
static void
policy_is_pure(void **state)
{
	struct facts f = { REPORT };
	struct verdict a = policy_decide(&f), b = policy_decide(&f);

	assert_int_equal(a.action, b.action);
	assert_string_equal(a.reason, b.reason);
	assert_int_equal(a.autoreply, b.autoreply);
}

#define NSTATES 6

/*
 * may_become - the whole state machine of a held post, written out:
 * want[from][to] is 1 only for held to a decision
 */
static void
may_become(void **state)
{
	static const char *const names[NSTATES] = {
		[POST_HELD] = "held", [POST_RELAYED] = "relayed", [POST_APPROVED] = "approved",
		[POST_REJECTED] = "rejected", [POST_DISCARDED] = "discarded", [POST_EXPIRED] = "expired",
	};
	/* to:                   held relayed approved rejected discarded expired */
	static const int want[NSTATES][NSTATES] = {
		[POST_HELD] =      { 0,   0,      1,       1,       1,        1 },
		[POST_RELAYED] =   { 0,   0,      0,       0,       0,        0 },
		[POST_APPROVED] =  { 0,   0,      0,       0,       0,        0 },
		[POST_REJECTED] =  { 0,   0,      0,       0,       0,        0 },
		[POST_DISCARDED] = { 0,   0,      0,       0,       0,        0 },
		[POST_EXPIRED] =   { 0,   0,      0,       0,       0,        0 },
	};
	int from, to, bad = 0;

	for (from = 0; from < NSTATES; from++)
		for (to = 0; to < NSTATES; to++) {
			bool got = policy_may_become((enum post_state) from, (enum post_state) to);

			if (got != (want[from][to] != 0)) {
				print_error("%s -> %s: got %s, want %s\n", names[from], names[to],
					    got ? "allowed" : "refused", want[from][to] ? "allowed" : "refused");
				bad++;
			}
		}
	if (bad)
		fail_msg("%d of %d transitions wrong", bad, NSTATES * NSTATES);
}

/* state_words - the stored word and the audit verb of every state, and back */
static void
state_words(void **state)
{
	static const struct {
		enum post_state s;
		const char *name;
		const char *verb;
	} words[] = {
		{ POST_HELD, "held", "hold" },
		{ POST_RELAYED, "relayed", "relay" },
		{ POST_APPROVED, "approved", "approve" },
		{ POST_REJECTED, "rejected", "reject" },
		{ POST_DISCARDED, "discarded", "discard" },
		{ POST_EXPIRED, "expired", "expire" },
	};
	static const char *const unknown[] = { "", "unknown", "Held", "approve", "held ", "relay" };
	size_t i;

	assert_int_equal(sizeof words / sizeof words[0], NSTATES);
	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		enum post_state back = (enum post_state) -1;

		if (strcmp(policy_state_name(words[i].s), words[i].name) != 0)
			fail_msg("name of state %d: got \"%s\", want \"%s\"", (int) words[i].s,
				 policy_state_name(words[i].s), words[i].name);
		if (strcmp(policy_state_verb(words[i].s), words[i].verb) != 0)
			fail_msg("verb of %s: got \"%s\", want \"%s\"", words[i].name,
				 policy_state_verb(words[i].s), words[i].verb);
		if (!policy_state_parse(words[i].name, &back) || back != words[i].s)
			fail_msg("parse \"%s\": got %d, want %d", words[i].name, (int) back, (int) words[i].s);
	}
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		enum post_state out = POST_EXPIRED;

		if (policy_state_parse(unknown[i], &out))
			fail_msg("parse \"%s\": accepted as %d, want refused", unknown[i], (int) out);
		assert_int_equal(out, POST_EXPIRED);	/* untouched */
	}
	assert_false(policy_state_parse(NULL, &(enum post_state) { POST_HELD }));
	assert_string_equal(policy_state_name((enum post_state) NSTATES), "?");
	assert_string_equal(policy_state_verb((enum post_state) NSTATES), "?");
}

/* may_decide - moderators and owners decide; nobody else, no case folding */
static void
may_decide(void **state)
{
	static const struct {
		const char *role;
		bool want;
	} roles[] = {
		{ "moderator", true }, { "owner", true }, { "member", false }, { "", false },
		{ NULL, false }, { "Owner", false }, { "MODERATOR", false }, { "owner ", false },
	};
	size_t i;

	for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (policy_may_decide(roles[i].role) != roles[i].want)
			fail_msg("policy_may_decide(%s%s%s): got %d, want %d", roles[i].role ? "\"" : "",
				 roles[i].role ? roles[i].role : "NULL", roles[i].role ? "\"" : "",
				 !roles[i].want, roles[i].want);
}

/* check_reason - what may be mailed to a sender as a reason or comment */
static void
check_reason(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		const char *want;	/* NULL: fit to mail; else a word of the complaint */
	} reasons[] = {
		{ "one sentence", "Not a bug.", NULL },
		{ "several lines with a tab", "Not a bug:\n\tsee the FAQ.\nThanks.", NULL },
		{ "UTF-8 text", "d\xc3\xa9j\xc3\xa0 signal\xc3\xa9", NULL },
		{ "empty", "", "empty" },
		{ "only blanks", "   \n\t", "empty" },
		{ "ESC", "see \x1b[31mred", "control" },
		{ "BEL", "ding\x07", "control" },
		{ "CR", "line\r\nline", "control" },
		{ "DEL", "del\x7f", "control" },
		{ "C0 SOH (0x01)", "a\x01b", "control" },
		{ "C1 NEL (U+0085)", "a\xc2\x85" "b", "control" },
		{ "C1 CSI (U+009B)", "a\xc2\x9b" "31m", "control" },
		{ "invalid UTF-8", "bad \xff byte", "UTF-8" },
		{ "overlong UTF-8", "bad \xc0\xaf", "UTF-8" },
		{ "NULL", NULL, "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		const char *got = policy_check_reason(reasons[i].text);

		if (reasons[i].want == NULL && got != NULL)
			fail_msg("%s: refused (%s), want accepted", reasons[i].name, got);
		if (reasons[i].want != NULL && (got == NULL || strstr(got, reasons[i].want) == NULL))
			fail_msg("%s: got \"%s\", want a complaint with \"%s\"", reasons[i].name,
				 got ? got : "(accepted)", reasons[i].want);
	}
}

/* a message to LIST+join-TOKEN from a person: the base every join row changes */
#define JOIN .parsed = true, .size = 2000, .max_size = MAXSZ, .now = NOW, .autoreply_interval = DAY

struct join_row {
	const char *name;
	struct facts f;
	enum invite_state s;		/* of the invitation the token found */
	enum join_outcome outcome;
	const char *reason;
	bool answer;
};

static const struct join_row join_rows[] = {
	{ "join: a sent invitation is accepted",
	  { JOIN }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: a malformed message accepts a sent invitation",
	  { JOIN, .parsed = false }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: Auto-Submitted: no accepts",
	  { JOIN, .auto_submitted = "no" }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: Auto-Submitted: NO (any case, blanks) accepts",
	  { JOIN, .auto_submitted = " NO " }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: Precedence: urgent accepts",
	  { JOIN, .precedence = "urgent" }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: X-Auto-Response-Suppress: All still accepts (a person's client sets it)",
	  { JOIN, .auto_response_suppress = "All" }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: the null sender never accepts",
	  { JOIN, .sender_null = true }, INVITE_SENT, JOIN_IGNORE, "null-sender", false },
	{ "join: MAILER-DAEMON never accepts",
	  { JOIN, .sender_mailer_daemon = true }, INVITE_SENT, JOIN_IGNORE, "mailer-daemon", false },
	{ "join: our own list address as sender never accepts",
	  { JOIN, .sender_ours = true }, INVITE_SENT, JOIN_IGNORE, "own-address", false },
	{ "join: a vacation reply (Auto-Submitted: auto-replied) never accepts",
	  { JOIN, .auto_submitted = "auto-replied" }, INVITE_SENT, JOIN_IGNORE, "auto-submitted", false },
	{ "join: Auto-Submitted: auto-generated never accepts",
	  { JOIN, .auto_submitted = "auto-generated" }, INVITE_SENT, JOIN_IGNORE, "auto-submitted", false },
	{ "join: Auto-Submitted with parameters never accepts",
	  { JOIN, .auto_submitted = "auto-notified; owner-email=\"x@y\"" }, INVITE_SENT, JOIN_IGNORE,
	  "auto-submitted", false },
	{ "join: Precedence: bulk never accepts",
	  { JOIN, .precedence = "bulk" }, INVITE_SENT, JOIN_IGNORE, "precedence", false },
	{ "join: Precedence: junk never accepts",
	  { JOIN, .precedence = "Junk" }, INVITE_SENT, JOIN_IGNORE, "precedence", false },
	{ "join: Precedence: list never accepts",
	  { JOIN, .precedence = " list" }, INVITE_SENT, JOIN_IGNORE, "precedence", false },
	{ "join: a List-Id never accepts",
	  { JOIN, .has_list_id = true }, INVITE_SENT, JOIN_IGNORE, "list-id", false },
	{ "join: our loop marker never accepts",
	  { JOIN, .loop = true }, INVITE_SENT, JOIN_IGNORE, "loop", false },
	{ "join: our loop marker on a malformed message is ignored",
	  { JOIN, .loop = true, .parsed = false }, INVITE_SENT, JOIN_IGNORE, "loop", false },
	{ "join: the null sender on a malformed message is ignored",
	  { JOIN, .sender_null = true, .parsed = false }, INVITE_SENT, JOIN_IGNORE, "null-sender", false },
	{ "join: a wrong token from the null sender is not answered",
	  { JOIN, .sender_null = true }, INVITE_NONE, JOIN_IGNORE, "null-sender", false },
	{ "join: a wrong token in a vacation reply is not answered",
	  { JOIN, .auto_submitted = "auto-replied" }, INVITE_NONE, JOIN_IGNORE, "auto-submitted", false },
	{ "join: a used token in a List-Id message is not answered",
	  { JOIN, .has_list_id = true }, INVITE_ACCEPTED, JOIN_IGNORE, "list-id", false },
	{ "join: a wrong token is refused with an answer",
	  { JOIN }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: a used token is refused with an answer",
	  { JOIN }, INVITE_ACCEPTED, JOIN_REFUSE, "accepted", true },
	{ "join: an expired token is refused with an answer",
	  { JOIN }, INVITE_EXPIRED, JOIN_REFUSE, "expired", true },
	{ "join: a cancelled invitation is refused with an answer",
	  { JOIN }, INVITE_CANCELLED, JOIN_REFUSE, "cancelled", true },
	{ "join: a pending (unsent) invitation is refused with an answer",
	  { JOIN }, INVITE_PENDING, JOIN_REFUSE, "pending", true },
	{ "join: a wrong token in a malformed message is refused with an answer",
	  { JOIN, .parsed = false }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: X-Auto-Response-Suppress: All on a refused one: no answer",
	  { JOIN, .auto_response_suppress = "All" }, INVITE_NONE, JOIN_REFUSE, "wrong-token", false },
	{ "join: X-Auto-Response-Suppress: DR, OOF on a refused one: no answer",
	  { JOIN, .auto_response_suppress = "DR, OOF" }, INVITE_EXPIRED, JOIN_REFUSE, "expired", false },
	{ "join: X-Auto-Response-Suppress: DR, RN on a refused one: answered",
	  { JOIN, .auto_response_suppress = "DR, RN" }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: a wrong token answered within the interval: no second answer",
	  { JOIN, .last_autoreply = NOW - DAY + 1 }, INVITE_NONE, JOIN_REFUSE, "wrong-token", false },
	{ "join: a wrong token answered exactly one interval ago: answered again",
	  { JOIN, .last_autoreply = NOW - DAY }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: interval 0 answers every wrong token",
	  { JOIN, .autoreply_interval = 0, .last_autoreply = NOW }, INVITE_EXPIRED, JOIN_REFUSE, "expired", true },
	{ "join: a recent answer does not stop an acceptance",
	  { JOIN, .last_autoreply = NOW - 60 }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: Auto-Submitted: no on a refused one: answered",
	  { JOIN, .auto_submitted = "no" }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: dkim, a wrong token from an unauthenticated sender: no answer",
	  { JOIN, DKIM }, INVITE_NONE, JOIN_REFUSE, "wrong-token", false },
	{ "join: dkim, a wrong token from an authenticated sender: answered",
	  { JOIN, DKIM, .sender_dkim = true }, INVITE_NONE, JOIN_REFUSE, "wrong-token", true },
	{ "join: dkim, an expired token, only From passes: no answer",
	  { JOIN, DKIM, .from_dkim = true }, INVITE_EXPIRED, JOIN_REFUSE, "expired", false },
	{ "join: dkim, an SPF pass does not earn an answer",
	  { JOIN, DKIM, .sender_spf = true }, INVITE_NONE, JOIN_REFUSE, "wrong-token", false },
	{ "join: dkim_or_spf, an SPF pass earns the answer",
	  { JOIN, EITHER, .sender_spf = true }, INVITE_ACCEPTED, JOIN_REFUSE, "accepted", true },
	{ "join: dkim, an authenticated sender answered within the interval: no second answer",
	  { JOIN, DKIM, .sender_dkim = true, .last_autoreply = NOW - 60 }, INVITE_NONE, JOIN_REFUSE,
	  "wrong-token", false },
	{ "join: dkim, a sent invitation is accepted by its token, unauthenticated",
	  { JOIN, DKIM }, INVITE_SENT, JOIN_ACCEPT, "accepted", false },
	{ "join: dkim, a malformed message with a wrong token: no answer",
	  { JOIN, DKIM, .parsed = false }, INVITE_NONE, JOIN_REFUSE, "wrong-token", false },
	{ "join: dkim, a vacation reply is still ignored",
	  { JOIN, DKIM, .sender_dkim = true, .auto_submitted = "auto-replied" }, INVITE_SENT, JOIN_IGNORE,
	  "auto-submitted", false },
};

/* join_name - the word for a join outcome, for messages */
static const char *
join_name(enum join_outcome o)
{
	return o == JOIN_ACCEPT ? "accept" : o == JOIN_REFUSE ? "refuse" : o == JOIN_IGNORE ? "ignore" : "?";
}

/* one_join_row - policy_join() for one row, every field of the verdict */
static void
one_join_row(void **state)
{
	const struct join_row *r = *state;
	struct join_verdict v = policy_join(&r->f, r->s);

	if (v.outcome != r->outcome || v.reason == NULL || strcmp(v.reason, r->reason) != 0
	    || v.answer != r->answer)
		fail_msg("%s: got %s/%s answer=%d, want %s/%s answer=%d", r->name, join_name(v.outcome),
			 v.reason ? v.reason : "(null)", v.answer, join_name(r->outcome), r->reason, r->answer);
}

/* role_str - a role for messages, NULL shown as such */
static const char *
role_str(const char *role)
{
	return role ? role : "(null)";
}

/* check_why - want NULL: allowed; else a refusal whose text has want */
static int
check_why(const char *what, const char *got, const char *want)
{
	if (want == NULL && got != NULL) {
		print_error("%s: refused (%s), want allowed\n", what, got);
		return 1;
	}
	if (want != NULL && (got == NULL || strstr(got, want) == NULL)) {
		print_error("%s: got %s, want a refusal with \"%s\"\n", what, got ? got : "allowed", want);
		return 1;
	}
	return 0;
}

/* may_invite - owners invite any role, moderators members, members nobody */
static void
may_invite(void **state)
{
	static const struct {
		const char *by, *role;
		const char *want;	/* NULL allowed, else a word of the refusal */
	} cases[] = {
		{ "owner", "member", NULL },
		{ "owner", "moderator", NULL },
		{ "owner", "owner", NULL },
		{ "moderator", "member", NULL },
		{ "moderator", "moderator", "only owners" },
		{ "moderator", "owner", "only owners" },
		{ "member", "member", "only moderators and owners invite" },
		{ "member", "moderator", "only moderators and owners invite" },
		{ "member", "owner", "only moderators and owners invite" },
		{ NULL, "member", "only moderators and owners invite" },
		{ "admin", "member", "only moderators and owners invite" },
		{ "Owner", "member", "only moderators and owners invite" },
		{ "owner", "admin", "member, moderator or owner" },
		{ "owner", "", "member, moderator or owner" },
		{ "owner", NULL, "member, moderator or owner" },
		{ "owner", "Member", "member, moderator or owner" },
		{ "moderator", "admin", "member, moderator or owner" },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[128];

		snprintf(what, sizeof what, "%s invites a %s", role_str(cases[i].by), role_str(cases[i].role));
		bad += check_why(what, policy_may_invite(cases[i].by, cases[i].role), cases[i].want);
	}
	if (bad)
		fail_msg("%d cases wrong", bad);
}

/* may_vouch_add - every member vouches; only owners add directly */
static void
may_vouch_add(void **state)
{
	static const struct {
		const char *role;
		const char *vouch;	/* NULL allowed */
		const char *add;
	} cases[] = {
		{ "member", NULL, "only owners add" },
		{ "moderator", NULL, "only owners add" },
		{ "owner", NULL, NULL },
		{ NULL, "only members vouch", "only owners add" },
		{ "admin", "only members vouch", "only owners add" },
		{ "", "only members vouch", "only owners add" },
		{ "Member", "only members vouch", "only owners add" },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[128];

		snprintf(what, sizeof what, "a %s vouches", role_str(cases[i].role));
		bad += check_why(what, policy_may_vouch(cases[i].role), cases[i].vouch);
		snprintf(what, sizeof what, "a %s adds", role_str(cases[i].role));
		bad += check_why(what, policy_may_add(cases[i].role), cases[i].add);
	}
	if (bad)
		fail_msg("%d cases wrong", bad);
}

/* may_remove - owners remove anyone but the last owner */
static void
may_remove(void **state)
{
	static const struct {
		const char *by, *target;
		int64_t owners;
		const char *want;
	} cases[] = {
		{ "owner", "member", 1, NULL },
		{ "owner", "moderator", 1, NULL },
		{ "owner", "owner", 2, NULL },
		{ "owner", "owner", 3, NULL },
		{ "owner", "owner", 1, "last owner" },
		{ "owner", "owner", 0, "last owner" },
		{ "moderator", "member", 2, "only owners remove" },
		{ "moderator", "moderator", 2, "only owners remove" },
		{ "member", "member", 2, "only owners remove" },
		{ "member", "owner", 2, "only owners remove" },
		{ NULL, "member", 2, "only owners remove" },
		{ "admin", "member", 2, "only owners remove" },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[128];

		snprintf(what, sizeof what, "%s removes a %s (%lld owners)", role_str(cases[i].by),
			 role_str(cases[i].target), (long long) cases[i].owners);
		bad += check_why(what, policy_may_remove(cases[i].by, cases[i].target, cases[i].owners),
				 cases[i].want);
	}
	if (bad)
		fail_msg("%d cases wrong", bad);
}

/* invite_state - a stored status and the clock give the state; sent expires at expires */
static void
invite_state(void **state)
{
	static const struct {
		const char *name;
		const char *status;
		int64_t expires;
		enum invite_state want;
	} cases[] = {
		{ "pending", "pending", 0, INVITE_PENDING },
		{ "pending does not expire", "pending", NOW - DAY, INVITE_PENDING },
		{ "sent, a second before it expires", "sent", NOW + 1, INVITE_SENT },
		{ "sent, a week before", "sent", NOW + 7 * DAY, INVITE_SENT },
		{ "sent, at exactly expires", "sent", NOW, INVITE_EXPIRED },
		{ "sent, after expires", "sent", NOW - 1, INVITE_EXPIRED },
		{ "accepted", "accepted", NOW + DAY, INVITE_ACCEPTED },
		{ "accepted stays accepted after expires", "accepted", NOW - DAY, INVITE_ACCEPTED },
		{ "expired", "expired", NOW + DAY, INVITE_EXPIRED },
		{ "cancelled", "cancelled", NOW + DAY, INVITE_CANCELLED },
		{ "unknown word", "bogus", NOW + DAY, INVITE_NONE },
		{ "the word none is not stored", "none", NOW + DAY, INVITE_NONE },
		{ "another case", "Sent", NOW + DAY, INVITE_NONE },
		{ "empty", "", NOW + DAY, INVITE_NONE },
		{ "NULL", NULL, NOW + DAY, INVITE_NONE },
	};
	static const char *const names[] = {
		[INVITE_NONE] = "none", [INVITE_PENDING] = "pending", [INVITE_SENT] = "sent",
		[INVITE_ACCEPTED] = "accepted", [INVITE_EXPIRED] = "expired", [INVITE_CANCELLED] = "cancelled",
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum invite_state got = policy_invite_state(cases[i].status, cases[i].expires, NOW);

		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].name, policy_invite_state_name(got),
				 policy_invite_state_name(cases[i].want));
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(policy_invite_state_name((enum invite_state) i), names[i]) != 0)
			fail_msg("name of invite state %zu: got \"%s\", want \"%s\"", i,
				 policy_invite_state_name((enum invite_state) i), names[i]);
	assert_string_equal(policy_invite_state_name((enum invite_state) 6), "?");
}

/* invite_ready - enough sponsors; a requirement below 1 counts as 1 */
static void
invite_ready(void **state)
{
	static const struct {
		int64_t sponsors, required;
		bool want;
	} cases[] = {
		{ 0, 1, false }, { 1, 1, true }, { 2, 1, true },
		{ 0, 2, false }, { 1, 2, false }, { 2, 2, true }, { 3, 2, true },
		{ 0, 0, false }, { 1, 0, true }, { 0, -1, false }, { 1, -1, true },
		{ 99, 100, false }, { 100, 100, true },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (policy_invite_ready(cases[i].sponsors, cases[i].required) != cases[i].want)
			fail_msg("%lld sponsors of %lld required: got %s, want %s",
				 (long long) cases[i].sponsors, (long long) cases[i].required,
				 cases[i].want ? "not ready" : "ready", cases[i].want ? "ready" : "not ready");
}

int
main(void)
{
	struct CMUnitTest tests[sizeof rows / sizeof rows[0] + sizeof join_rows / sizeof join_rows[0] + 10];
	size_t i, k;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tests[i] = (struct CMUnitTest) { rows[i].name, one_row, NULL, NULL, (void *) &rows[i] };
	}
	for (k = 0; k < sizeof join_rows / sizeof join_rows[0]; k++)
		tests[i++] = (struct CMUnitTest) { join_rows[k].name, one_join_row, NULL, NULL,
						   (void *) &join_rows[k] };
	tests[i++] = (struct CMUnitTest) { "policy is pure", policy_is_pure, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "only held becomes approved, rejected, discarded or expired",
					   may_become, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "state names and verbs round-trip", state_words, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "only moderators and owners decide", may_decide, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "reasons: text, newlines and tabs only", check_reason, NULL, NULL,
					   NULL };
	tests[i++] = (struct CMUnitTest) { "who may invite whom", may_invite, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "every member vouches, only owners add", may_vouch_add, NULL, NULL,
					   NULL };
	tests[i++] = (struct CMUnitTest) { "owners remove, never the last owner", may_remove, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "invitation states, expiry at exactly expires", invite_state, NULL,
					   NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "an invitation is ready with enough sponsors", invite_ready, NULL,
					   NULL, NULL };
	return _cmocka_run_group_tests("policy", tests, i, NULL, NULL);
}
