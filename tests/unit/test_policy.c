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
	{ "member by From is relayed",
	  { REPORT, .from_member = true }, ACTION_RELAY, "member", false, "relayed" },
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
	  { REPORT, .in_thread = true, .reporter = true }, ACTION_RELAY, "reporter", false, "relayed" },
	{ "reporter's follow-up at SMTP time is relayed",
	  { REPORT, .in_thread = true, .reporter = true, .can_refuse = true }, ACTION_RELAY, "reporter", false,
	  "relayed" },
	{ "reporter's auto-reply in its thread is relayed, as a member's is",
	  { REPORT, .in_thread = true, .reporter = true, .auto_submitted = "auto-replied" }, ACTION_RELAY,
	  "reporter", false, "relayed" },
	{ "member wins over the reporter rule",
	  { REPORT, .sender_member = true, .in_thread = true, .reporter = true }, ACTION_RELAY, "member", false,
	  "relayed" },
	{ "member by From in a mixed thread is relayed as a member",
	  { REPORT, .from_member = true, .in_thread = true, .thread_mixed = true, .reporter = true },
	  ACTION_RELAY, "member", false, "relayed" },
	{ "member replying in a thread is relayed as a member",
	  { REPORT, .sender_member = true, .in_thread = true }, ACTION_RELAY, "member", false, "relayed" },
	{ "reporter whose references also reach another report is held",
	  { REPORT, .in_thread = true, .reporter = true, .thread_mixed = true }, ACTION_HOLD, "non-member", true,
	  NULL },
	{ "reporter outside any thread is held",
	  { REPORT, .reporter = true }, ACTION_HOLD, "non-member", true, NULL },
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
	  { REPORT, .in_thread = true, .reporter = true, .size = MAXSZ + 1 }, ACTION_REJECT, "too-large", false,
	  "rejected" },
	{ "loop marker on a reporter's follow-up is kept, not relayed",
	  { REPORT, .in_thread = true, .reporter = true, .loop = true }, ACTION_HOLD, "loop", false, "loop" },
	{ "loop marker on a reporter's follow-up at SMTP time is refused",
	  { REPORT, .in_thread = true, .reporter = true, .loop = true, .can_refuse = true }, ACTION_REJECT, "loop",
	  false, "rejected" },
	{ "malformed reporter's follow-up is held",
	  { REPORT, .in_thread = true, .reporter = true, .parsed = false }, ACTION_HOLD, "malformed", true, NULL },
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

int
main(void)
{
	struct CMUnitTest tests[sizeof rows / sizeof rows[0] + 5];
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tests[i] = (struct CMUnitTest) { rows[i].name, one_row, NULL, NULL, (void *) &rows[i] };
	}
	tests[i++] = (struct CMUnitTest) { "policy is pure", policy_is_pure, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "only held becomes approved, rejected, discarded or expired",
					   may_become, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "state names and verbs round-trip", state_words, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "only moderators and owners decide", may_decide, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest) { "reasons: text, newlines and tabs only", check_reason, NULL, NULL,
					   NULL };
	return _cmocka_run_group_tests("policy", tests, i, NULL, NULL);
}
