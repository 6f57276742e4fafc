/*
 * policy.h - facts in, verdict out
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum action {
	ACTION_RELAY,		/* to the members */
	ACTION_HOLD,		/* for a moderator */
	ACTION_DISCARD,		/* accepted, delivered to nobody */
	ACTION_REJECT,		/* can never be accepted: bounce */
	ACTION_TEMPFAIL,	/* try again later */
};

/* what a list asks of a member's or reporter's post (require_authentication) */
enum auth_require {
	AUTH_NONE,		/* nothing: the addresses are taken as they are */
	AUTH_DKIM,		/* an aligned DKIM pass */
	AUTH_DKIM_OR_SPF,	/* an aligned DKIM pass or SPF pass */
};

struct facts {
	bool	 parsed;		/* the message has a readable header block */
	bool	 sender_null;		/* envelope sender <> */
	bool	 sender_mailer_daemon;	/* envelope sender MAILER-DAEMON@ */
	bool	 sender_ours;		/* envelope sender is a list or bounce address of ours */
	bool	 sender_member;		/* envelope sender is a member of the list */
	bool	 from_member;		/* a From: address is a member (counts only authenticated) */
	bool	 loop;			/* carries this list's loop marker */
	bool	 can_refuse;		/* the client is still connected (milter) */
	bool	 in_thread;		/* its references lead to a report's thread */
	bool	 thread_mixed;		/* ... and also to another report's */
	bool	 sender_reporter;	/* the envelope sender is a reporter of that report */
	bool	 from_reporter;		/* a From: address is a reporter of that report */
	int	 require_auth;		/* enum auth_require of the list */
	bool	 sender_dkim;		/* the verifier's aligned DKIM pass for the envelope sender */
	bool	 sender_spf;		/* ... SPF pass */
	bool	 from_dkim;		/* ... DKIM pass for every From: address */
	bool	 from_spf;		/* ... SPF pass for every From: address */
	const char *auto_submitted;	/* header values, NULL when absent */
	const char *precedence;
	const char *auto_response_suppress;
	bool	 has_list_id;
	int64_t	 size;			/* bytes */
	int64_t	 max_size;		/* the list's max_message_size */
	int64_t	 now;			/* Unix time */
	int64_t	 last_autoreply;	/* last auto-reply to this sender, 0 never */
	int64_t	 autoreply_interval;	/* seconds */
};

struct verdict {
	enum action action;
	const char *reason;		/* why this action, a short static word */
	bool	 autoreply;		/* send the held auto-reply */
	const char *no_autoreply;	/* why none, static, or NULL */
};

/* the life of a post: held until a moderator or the clock decides */
enum post_state {
	POST_HELD,
	POST_RELAYED,		/* a member's post, relayed on arrival */
	POST_APPROVED,
	POST_REJECTED,
	POST_DISCARDED,
	POST_EXPIRED,
};

/* an invitation, as policy_invite_state() sees it */
enum invite_state {
	INVITE_NONE,		/* no invitation has this token */
	INVITE_PENDING,		/* waiting for sponsors, not sent */
	INVITE_SENT,		/* sent, may be accepted */
	INVITE_ACCEPTED,
	INVITE_EXPIRED,
	INVITE_CANCELLED,
};

/* what a message to LIST+join-TOKEN does */
enum join_outcome {
	JOIN_ACCEPT,		/* the invited address becomes a member */
	JOIN_REFUSE,		/* nothing changes; the sender may be told */
	JOIN_IGNORE,		/* an automatic message: nothing changes, nobody is told */
};

struct join_verdict {
	enum join_outcome outcome;
	const char *reason;		/* static word for the log */
	bool	 answer;		/* tell the sender the token is not valid */
};

struct verdict policy_decide(const struct facts *f);
const char *policy_action_name(enum action a);
const char *policy_state_name(enum post_state s);
const char *policy_state_verb(enum post_state s);
bool policy_state_parse(const char *name, enum post_state *out);
bool policy_may_become(enum post_state from, enum post_state to);
extern const char *const policy_deciders[];
bool policy_may_decide(const char *role);
const char *policy_check_reason(const char *reason);
bool policy_role_valid(const char *role);
const char *policy_may_invite(const char *by_role, const char *new_role);
const char *policy_may_vouch(const char *by_role);
const char *policy_may_add(const char *by_role);
const char *policy_may_remove(const char *by_role, const char *target_role, int64_t owners);
enum invite_state policy_invite_state(const char *status, int64_t expires, int64_t now);
const char *policy_invite_state_name(enum invite_state s);
bool policy_invite_ready(int64_t sponsors, int64_t required);
struct join_verdict policy_join(const struct facts *f, enum invite_state s);

#endif
