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
	{ "null sender is named before the header rules",
	  { REPORT, .sender_null = true, .auto_submitted = "auto-replied" }, ACTION_HOLD, "non-member", false,
	  "null-sender" },
	{ "Auto-Submitted on a member's post does not stop the relay",
	  { REPORT, .sender_member = true, .auto_submitted = "auto-generated" }, ACTION_RELAY, "member", false,
	  "relayed" },
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

int
main(void)
{
	struct CMUnitTest tests[sizeof rows / sizeof rows[0] + 1];
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tests[i] = (struct CMUnitTest) { rows[i].name, one_row, NULL, NULL, (void *) &rows[i] };
	}
	tests[i] = (struct CMUnitTest) { "policy is pure", policy_is_pure, NULL, NULL, NULL };
	return _cmocka_run_group_tests("policy", tests, i + 1, NULL, NULL);
}
