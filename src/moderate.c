/*
 * NAME
 *	moderate - held posts: decisions, notices, reminders, expiry
 * SYNOPSIS
 *	#include "moderate.h"
 *
 *	enum moderate_rc moderate_find(st, l, key, &post, err);
 *	enum moderate_rc moderate_decide(st, cfg, l, key, to, as, login, comment,
 *					 now, outbox_ids, &decision, err);
 *	enum store_rc moderate_notify_held(st, cfg, l, post_id, report_id, reason,
 *					   sender, post, size, now, outbox_ids, err);
 *	enum moderate_rc moderate_maintain(st, cfg, l, now, &stats, outbox_ids, err);
 * DESCRIPTION
 *	A held post waits for one decision (policy_may_become()).
 *
 *	moderate_find() looks a post up by its key as a moderator types
 *	it: a post id (12) or a report id (2026-0012).
 *
 *	moderate_decide() resolves who decides - the member named by as,
 *	else the member recorded with the Unix user login - and requires
 *	the role moderator or owner.  Then, in one transaction: the post's
 *	new state with the moderator, time and comment; the audit row; for
 *	an approval the members' copy (as for a member's post) and the
 *	sender recorded as the report's reporter, and its copy kept in the
 *	list's archive before the commit; for a rejection the
 *	notice with the reason to the sender; and the decision note to the
 *	other moderators.  The transaction takes the write lock first, so
 *	of two moderators deciding at once the first wins and the second
 *	is told who decided what and when.  Mail goes into the outbox; its
 *	ids are appended to outbox_ids for the caller to flush.
 *
 *	moderate_notify_held() queues the notice of a new held post to
 *	the moderators, inside the caller's transaction.
 *
 *	moderate_maintain() expires posts held longer than hold_expiry
 *	(a notice to the sender, a note to the moderators), then sends one
 *	digest of the posts held longer than remind_after that were not
 *	in a digest within remind_after.  Running it again at once sends
 *	nothing new.
 *
 *	The moderators are the members whose role is moderator or owner;
 *	a list with none has its notices sent to the configured owner, so
 *	that a held report is never seen by nobody.
 * SECURITY
 *	What came from mail (sender, From, Subject) reaches notices only
 *	through text_escape().  A rejection reason is checked by
 *	policy_check_reason().  compose_render() keeps both, and comments,
 *	out of a template's Subject: line: they go into bodies only.
 */
#include "moderate.h"

#include <string.h>

#include "addr.h"
#include "archive.h"
#include "compose.h"
#include "dmarc.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "text.h"

G_DEFINE_QUARK(vigil-moderate-error-quark, moderate_error)

#define EXPIRY_ACTOR "vigil maintain"

/* moderate_refuse - fill err, return MODERATE_REFUSED */
enum moderate_rc
moderate_refuse(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(MODERATE_ERROR, 1, fmt, ap));
	va_end(ap);
	return MODERATE_REFUSED;
}

/* moderate_from_store - a store failure as a moderate_rc */
enum moderate_rc
moderate_from_store(enum store_rc r)
{
	return r == STORE_OK ? MODERATE_OK : r == STORE_RETRY ? MODERATE_TEMPFAIL : MODERATE_REFUSED;
}


/* is_digits - s is one or more decimal digits */
static bool
is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return false;
	return n > 0;
}

/* moderate_find - a post by post id or report id */
enum moderate_rc
moderate_find(struct store *st, const struct list_config *l, const char *key,
	      struct post_row **out, GError **err)
{
	size_t n = strlen(key);
	enum store_rc r;

	*out = NULL;
	if (is_digits(key, n) && n <= 18)
		r = store_post_find(st, l->address, g_ascii_strtoll(key, NULL, 10), NULL, out, err);
	else if (n > 5 && key[4] == '-' && is_digits(key, 4) && is_digits(key + 5, n - 5))
		r = store_post_find(st, l->address, 0, key, out, err);
	else {
		char *k = text_escape(key);
		enum moderate_rc rc = moderate_refuse(err, "\"%s\" is neither a post id (12) nor a report id (2026-0012)", k);

		g_free(k);
		return rc;
	}
	if (r == STORE_NOTFOUND)
		return moderate_refuse(err, "no post %s on %s", key, l->address);
	return moderate_from_store(r);
}

/* moderate_vigil_command - how a moderator names this list on the command line */
char *
moderate_vigil_command(const struct config *cfg, const struct list_config *l)
{
	return cfg->lists->len > 1 ? g_strdup_printf("vigil -l %s", l->address) : g_strdup("vigil");
}

/* moderate_moderators - who decides for l, but except; the owner when nobody does */
enum store_rc
moderate_moderators(struct store *st, const struct list_config *l, const char *except,
		    GPtrArray **out, GError **err)
{
	enum store_rc r;
	guint i;

	if ((r = store_member_addresses(st, l->address, policy_deciders, out, err)) != STORE_OK) {
		*out = g_ptr_array_new_with_free_func(g_free);
		return r;
	}
	if ((*out)->len == 0)
		g_ptr_array_add(*out, g_strdup(l->owner));
	else if (except && g_ptr_array_find_with_equal_func(*out, except, g_str_equal, &i))
		g_ptr_array_remove_index(*out, i);
	return STORE_OK;
}

/*
 * moderate_mail - render n and queue it with this envelope sender ("" for
 * <>); the outbox kind is the template's name.  Nobody in n->to: nothing.
 */
enum store_rc
moderate_mail(struct store *st, const struct config *cfg, const struct list_config *l,
	      const struct notice *n, const char *envelope, gint64 post_id, GArray *outbox_ids,
	      GError **err)
{
	GByteArray *data;
	enum store_rc r;
	char *kind;

	if (n->to->len == 0)
		return STORE_OK;
	if ((data = compose_notice(l, cfg->template_dir, n, err)) == NULL)
		return STORE_RETRY;	/* a template the admin can fix: keep trying */
	kind = g_strndup(n->template, strcspn(n->template, "."));
	r = queue_message(st, post_id, kind, envelope, n->to, data, n->now, outbox_ids, err);
	g_free(kind);
	g_byte_array_unref(data);
	return r;
}

/*
 * notify - render a template and queue it.  to_sender: an answer to the
 * post's sender (from the list address, null envelope sender, RFC 3834);
 * otherwise a notice to moderators (from and envelope sender the owner).
 */
static enum store_rc
notify(struct store *st, const struct config *cfg, const struct list_config *l,
       const char *template, const struct tvar *vars, const GPtrArray *to, bool to_sender,
       const char *in_reply_to, gint64 post_id, gint64 now, GArray *outbox_ids, GError **err)
{
	struct notice n = {
		.template = template, .vars = vars, .from = to_sender ? l->address : l->owner,
		.to = to, .in_reply_to = in_reply_to,
		.auto_submitted = to_sender ? "auto-replied" : "auto-generated", .now = now,
	};

	return moderate_mail(st, cfg, l, &n, to_sender ? "" : l->owner, post_id, outbox_ids, err);
}

/* moderate_notify_held - tell the moderators a post is held */
enum store_rc
moderate_notify_held(struct store *st, const struct config *cfg, const struct list_config *l,
		     gint64 post_id, const char *report_id, const char *reason, const char *sender,
		     const struct post *post, size_t size, gint64 now, GArray *outbox_ids, GError **err)
{
	char *id = g_strdup_printf("%" G_GINT64_FORMAT, post_id);
	char *sz = g_strdup_printf("%zu", size);
	char *who = text_escape(*sender ? sender : "<>");
	char *from = text_escape(post->from->len ? g_ptr_array_index(post->from, 0) : "(none)");
	char *subject = text_escape(post->subject ? post->subject : "(none)");
	char *vigil = moderate_vigil_command(cfg, l);
	const struct tvar vars[] = {
		{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
		{ "report_id", report_id }, { "post_id", id }, { "sender", who }, { "from", from },
		{ "subject", subject }, { "size", sz }, { "reason", reason }, { "vigil", vigil },
		{ NULL, NULL },
	};
	GPtrArray *to = NULL;
	enum store_rc r;

	if ((r = moderate_moderators(st, l, NULL, &to, err)) == STORE_OK)
		r = notify(st, cfg, l, "moderator-held.txt", vars, to, false, NULL, post_id, now,
			   outbox_ids, err);
	if (to)
		g_ptr_array_free(to, TRUE);
	g_free(id);
	g_free(sz);
	g_free(who);
	g_free(from);
	g_free(subject);
	g_free(vigil);
	return r;
}

/*
 * moderate_actor - the member who acts: the one named by as (given with
 * the command-line option option), else the one with Unix user login
 */
enum moderate_rc
moderate_actor(struct store *st, const struct list_config *l, const char *as, const char *option,
	       const char *login, struct member **out, GError **err)
{
	enum moderate_rc rc;
	enum store_rc r;
	char *addr = NULL;

	*out = NULL;
	if (as) {
		char *typed = text_escape(as);

		if ((addr = addr_normalize(as)) == NULL)
			rc = moderate_refuse(err, "%s %s: not a mail address", option, typed);
		else if ((r = store_member_find(st, l->address, addr, out, err)) == STORE_NOTFOUND)
			rc = moderate_refuse(err, "%s is not a member of %s", addr, l->address);
		else
			rc = moderate_from_store(r);
		g_free(typed);
	} else if (login) {
		if ((r = store_member_by_unix_user(st, l->address, login, out, err)) == STORE_NOTFOUND)
			rc = moderate_refuse(err, "no member of %s has the Unix user %s: say who you are with"
					     " %s ADDRESS (a member added with --unix-user %s is found"
					     " without it)", l->address, login, option, login);
		else
			rc = moderate_from_store(r);
	} else {
		rc = moderate_refuse(err, "who is it? use %s ADDRESS", option);
	}
	g_free(addr);
	return rc;
}

/* resolve - the moderator: moderate_actor(), who must be a moderator or owner */
static enum moderate_rc
resolve(struct store *st, const struct list_config *l, const char *as, const char *login,
	char **out, GError **err)
{
	struct member *m = NULL;
	enum moderate_rc rc = moderate_actor(st, l, as, "--as", login, &m, err);

	if (rc == MODERATE_OK && !policy_may_decide(m->role))
		rc = moderate_refuse(err, "%s has the role %s on %s: only moderators and owners decide held posts",
				     m->address, m->role, l->address);
	if (rc == MODERATE_OK)
		*out = g_strdup(m->address);
	store_member_free(m);
	return rc;
}

/* already - why a post that is not held cannot be decided */
static enum moderate_rc
already(const struct list_config *l, const struct post_row *p, GError **err)
{
	char *when = text_time_iso(p->decided ? p->decided : p->received);
	enum moderate_rc rc;

	if (strcmp(p->status, "relayed") == 0)
		rc = moderate_refuse(err, "post %" G_GINT64_FORMAT " is a member's post to %s, relayed at %s:"
			    " there is nothing to decide", p->id, l->address, when);
	else
		rc = moderate_refuse(err, "post %" G_GINT64_FORMAT " (report %s) was already %s by %s at %s",
			    p->id, p->report_id, p->status, p->decided_by, when);
	g_free(when);
	return rc;
}

/*
 * approve - the members' copy.  A post held in reply to a report's
 * thread joins that thread; any other opens its own report's thread,
 * and its sender becomes the report's reporter.
 */
static enum store_rc
approve(struct store *st, const struct list_config *l, const struct post_row *p, int author_policy,
	gint64 now, GArray *outbox_ids, struct decision *d, GError **err)
{
	gsize len;
	const char *raw = g_bytes_get_data(p->raw, &len);
	struct post *post = message_parse(raw, len);
	char *sender = addr_normalize(p->sender);
	const char *reporter = sender ? sender : post->from->len ? g_ptr_array_index(post->from, 0) : NULL;
	bool opens = *p->thread == '\0';
	char *mid = post->message_id ? NULL : compose_message_id(l);
	struct relay_job rj = {
		.list = l, .sender = sender, .post = post, .raw = raw, .len = len, .post_id = p->id,
		.thread = opens ? p->report_id : p->thread, .message_id = mid,
		.author_policy = author_policy, .now = now, .archived = d->archived,
	};
	enum store_rc r;

	r = intake_relay(st, &rj, outbox_ids, &d->members, err);
	if (r == STORE_OK)
		r = store_post_thread(st, p->id, rj.thread, mid, err);
	if (r == STORE_OK && opens && reporter) {
		r = store_reporter_add(st, l->address, p->report_id, reporter, "reporter", NULL, now, err);
	}
	message_free(post);
	g_free(sender);
	g_free(mid);
	return r;
}

/* tell_sender - the post's sender learns it was rejected or expired */
static enum store_rc
tell_sender(struct store *st, const struct config *cfg, const struct list_config *l,
	    const struct post_row *p, enum post_state to, const char *comment, gint64 now,
	    GArray *outbox_ids, struct decision *d, GError **err)
{
	char *sender = addr_normalize(p->sender);
	char *expiry = config_format_duration(l->hold_expiry);
	const struct tvar vars[] = {
		{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
		{ "report_id", p->report_id }, { "sender", sender }, { "reason", comment },
		{ "hold_expiry", expiry }, { NULL, NULL },
	};
	GPtrArray *rcpt = g_ptr_array_new();
	enum store_rc r = STORE_OK;

	/* never answer a bounce or a null sender: that is how loops start */
	if (sender && !addr_is_mailer_daemon(sender)) {
		g_ptr_array_add(rcpt, sender);
		r = notify(st, cfg, l, to == POST_REJECTED ? "reject.txt" : "expired.txt", vars, rcpt,
			   true, p->message_id, p->id, now, outbox_ids, err);
		d->sender_told = r == STORE_OK;
	}
	g_ptr_array_free(rcpt, TRUE);
	g_free(sender);
	g_free(expiry);
	return r;
}

/* tell_moderators - the decision note to every moderator but the one who decided */
static enum store_rc
tell_moderators(struct store *st, const struct config *cfg, const struct list_config *l,
		const struct post_row *p, enum post_state to, const char *by, const char *comment,
		gint64 now, GArray *outbox_ids, struct decision *d, GError **err)
{
	char *id = g_strdup_printf("%" G_GINT64_FORMAT, p->id);
	char *subject = text_escape(*p->subject ? p->subject : "(none)");
	char *vigil = moderate_vigil_command(cfg, l);
	const struct tvar vars[] = {
		{ "list_name", l->name }, { "list_address", l->address }, { "report_id", p->report_id },
		{ "post_id", id }, { "action", policy_state_name(to) }, { "moderator", by },
		{ "comment", comment ? comment : "" }, { "subject", subject }, { "vigil", vigil },
		{ NULL, NULL },
	};
	GPtrArray *others = NULL;
	enum store_rc r;

	if ((r = moderate_moderators(st, l, by, &others, err)) == STORE_OK)
		r = notify(st, cfg, l, "moderator-decision.txt", vars, others, false, NULL, p->id, now,
			   outbox_ids, err);
	d->moderators_told = r == STORE_OK ? others->len : 0;
	g_ptr_array_free(others, TRUE);
	g_free(id);
	g_free(subject);
	g_free(vigil);
	return r;
}

/* close_post - record a decision on a held post and queue what it sends */
static enum store_rc
close_post(struct store *st, const struct config *cfg, const struct list_config *l,
	   const struct post_row *p, enum post_state to, const char *by, const char *comment,
	   int author_policy, gint64 now, GArray *outbox_ids, struct decision *d, GError **err)
{
	enum store_rc r;

	if ((r = store_post_decide(st, p->id, policy_state_name(to), now, by, comment, err)) != STORE_OK
	    || (r = store_audit_add(st, now, l->address, by, policy_state_verb(to), p->id,
				    p->report_id, comment, err)) != STORE_OK)
		return r;
	if (to == POST_APPROVED)
		r = approve(st, l, p, author_policy, now, outbox_ids, d, err);
	else if (to == POST_REJECTED || to == POST_EXPIRED)
		r = tell_sender(st, cfg, l, p, to, comment, now, outbox_ids, d, err);
	if (r == STORE_OK)
		r = tell_moderators(st, cfg, l, p, to, by, comment, now, outbox_ids, d, err);
	if (r == STORE_OK)
		log_msg(LOG_INFO, "post=%" G_GINT64_FORMAT " list=%s action=%s report=%s by=%s",
			p->id, l->address, policy_state_verb(to), p->report_id, by);
	return r;
}

/* policy_of - the DMARC policy for a post's copy, asked before the transaction */
static int
policy_of(struct store *st, const struct config *cfg, const struct list_config *l, const char *key)
{
	struct post_row *p = NULL;
	int policy = DMARC_POLICY_ABSENT;

	if (moderate_find(st, l, key, &p, NULL) == MODERATE_OK && p->raw) {
		gsize len;
		const char *raw = g_bytes_get_data(p->raw, &len);
		struct post *post = message_parse(raw, len);

		policy = intake_author_policy(cfg, l, post);
		message_free(post);
	}
	store_post_row_free(p);
	return policy;
}

/* moderate_decide - one moderator's decision on one held post */
enum moderate_rc
moderate_decide(struct store *st, const struct config *cfg, const struct list_config *l,
		const char *key, enum post_state to, const char *as, const char *login,
		const char *comment, gint64 now, GArray *outbox_ids, struct decision *d, GError **err)
{
	guint mark = outbox_ids->len;
	int author_policy = DMARC_POLICY_ABSENT;
	enum post_state from;
	enum moderate_rc rc;
	const char *why;

	memset(d, 0, sizeof *d);
	d->archived = g_ptr_array_new_with_free_func(g_free);
	/* a rejection needs its reason; a comment is optional, but checked when given */
	if ((to == POST_REJECTED || (comment && *comment)) && (why = policy_check_reason(comment)) != NULL)
		return moderate_refuse(err, "the %s %s", to == POST_REJECTED ? "reason" : "comment", why);
	if (to == POST_APPROVED)
		author_policy = policy_of(st, cfg, l, key);
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		return rc;
	if ((rc = resolve(st, l, as, login, &d->moderator, err)) != MODERATE_OK
	    || (rc = moderate_find(st, l, key, &d->post, err)) != MODERATE_OK)
		goto out;
	if (!policy_state_parse(d->post->status, &from) || !policy_may_become(from, to)) {
		rc = already(l, d->post, err);
		goto out;
	}
	if (d->post->raw == NULL) {
		rc = moderate_refuse(err, "post %" G_GINT64_FORMAT ": the message is not in the database", d->post->id);
		goto out;
	}
	rc = moderate_from_store(close_post(st, cfg, l, d->post, to, d->moderator, comment && *comment ? comment : NULL,
				   author_policy, now, outbox_ids, d, err));
	if (rc == MODERATE_OK && (rc = moderate_from_store(store_commit(st, err))) != MODERATE_OK)
		g_ptr_array_set_size(d->archived, 0);	/* it may have reached the disk: archive_recover() decides */
out:
	if (rc != MODERATE_OK) {
		store_rollback(st);
		archive_discard(d->archived);
		g_array_set_size(outbox_ids, mark);	/* those rows do not exist */
	}
	return rc;
}

/* moderate_report - the report a key names: its own, or the thread a held reply is in */
enum moderate_rc
moderate_report(struct store *st, const struct list_config *l, const char *key, char **report_id,
		GError **err)
{
	struct post_row *p = NULL;
	enum moderate_rc rc;

	*report_id = NULL;
	if ((rc = moderate_find(st, l, key, &p, err)) != MODERATE_OK)
		return rc;
	if (*p->thread)
		*report_id = g_strdup(p->thread);
	else if (*p->report_id)
		*report_id = g_strdup(p->report_id);
	else
		rc = moderate_refuse(err, "post %" G_GINT64_FORMAT " is a member's post, not in a report's thread",
			    p->id);
	store_post_row_free(p);
	return rc;
}

/*
 * moderate_report_cc - a moderator copies someone on a report's thread
 * (add) or stops copying them; the reporters themselves stay
 */
enum moderate_rc
moderate_report_cc(struct store *st, const struct list_config *l, const char *key, bool add,
		   const char *address, const char *as, const char *login, gint64 now,
		   char **report_id, GError **err)
{
	const char *why;
	char *addr = addr_check_strict(address, &why);
	char *by = NULL;
	enum moderate_rc rc;
	enum store_rc r;

	*report_id = NULL;
	if (addr == NULL) {
		char *typed = text_escape(address);

		rc = moderate_refuse(err, "%s: %s", typed, why);
		g_free(typed);
		return rc;
	}
	if (strcmp(addr, l->address) == 0 || strcmp(addr, l->bounce_address) == 0) {
		rc = moderate_refuse(err, "%s is the list's own address: it cannot be copied on a report", addr);
		g_free(addr);
		return rc;
	}
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		goto out;
	if ((rc = resolve(st, l, as, login, &by, err)) != MODERATE_OK
	    || (rc = moderate_report(st, l, key, report_id, err)) != MODERATE_OK)
		goto out;
	if (add)
		r = store_reporter_add(st, l->address, *report_id, addr, "cc", by, now, err);
	else
		r = store_reporter_remove(st, l->address, *report_id, addr, "cc", err);
	if (r == STORE_EXISTS || r == STORE_NOTFOUND) {
		g_clear_error(err);
		rc = moderate_refuse(err, add ? "%s is already a reporter of %s or copied on it"
			    : "%s is not copied on %s (a reporter cannot be removed)", addr, *report_id);
		goto out;
	}
	if (r == STORE_OK)
		r = store_audit_add(st, now, l->address, by, add ? "cc-add" : "cc-remove", 0, *report_id,
				    addr, err);
	if ((rc = moderate_from_store(r)) == MODERATE_OK)
		rc = moderate_from_store(store_commit(st, err));
	if (rc == MODERATE_OK)
		log_msg(LOG_INFO, "list=%s action=%s report=%s address=%s by=%s", l->address,
			add ? "cc-add" : "cc-remove", *report_id, addr, by);
out:
	if (rc != MODERATE_OK)
		store_rollback(st);
	g_free(addr);
	g_free(by);
	return rc;
}

/* moderate_decision_clear - free what a decision holds */
void
moderate_decision_clear(struct decision *d)
{
	store_post_row_free(d->post);
	g_free(d->moderator);
	if (d->archived)
		g_ptr_array_free(d->archived, TRUE);
	memset(d, 0, sizeof *d);
}

/* digest_line - one held post in the digest */
static void
digest_line(GString *out, const struct post_row *p, gint64 now)
{
	char *sender = text_escape(*p->sender ? p->sender : "<>");
	char *subject = text_escape(*p->subject ? p->subject : "(none)");
	char *waited = text_age(p->received, now);

	g_string_append_printf(out, "  post %" G_GINT64_FORMAT "  report %s  waiting %s  from %s\n"
			       "      %s\n", p->id, p->report_id, waited, sender, subject);
	g_free(sender);
	g_free(subject);
	g_free(waited);
}

/* remind - one digest of what waits too long, to every moderator */
static enum store_rc
remind(struct store *st, const struct config *cfg, const struct list_config *l, gint64 now,
       struct maintain_stats *stats, GArray *outbox_ids, GError **err)
{
	GPtrArray *due = NULL, *to = NULL;
	GString *lines = g_string_new(NULL);
	char *count = NULL, *after = NULL, *expiry = NULL, *vigil = NULL;
	enum store_rc r;
	guint i;

	if ((r = store_held_due(st, l->address, now - l->remind_after, now - l->remind_after,
				&due, err)) != STORE_OK || due->len == 0)
		goto out;
	for (i = 0; i < due->len; i++)
		digest_line(lines, g_ptr_array_index(due, i), now);
	count = g_strdup_printf("%u", due->len);
	after = config_format_duration(l->remind_after);
	expiry = l->hold_expiry ? config_format_duration(l->hold_expiry) : g_strdup("never");
	vigil = moderate_vigil_command(cfg, l);
	{
		const struct tvar vars[] = {
			{ "list_name", l->name }, { "list_address", l->address }, { "count", count },
			{ "posts", lines->str }, { "remind_after", after }, { "hold_expiry", expiry },
			{ "vigil", vigil }, { NULL, NULL },
		};

		if ((r = moderate_moderators(st, l, NULL, &to, err)) != STORE_OK
		    || (r = notify(st, cfg, l, "moderator-digest.txt", vars, to, false, NULL, 0, now,
				   outbox_ids, err)) != STORE_OK)
			goto out;
	}
	for (i = 0; r == STORE_OK && i < due->len; i++)
		r = store_post_reminded(st, ((struct post_row *) g_ptr_array_index(due, i))->id, now, err);
	if (r == STORE_OK) {
		stats->reminded = due->len;
		log_msg(LOG_INFO, "list=%s action=remind posts=%u", l->address, due->len);
	}
out:
	if (due)
		g_ptr_array_free(due, TRUE);
	if (to)
		g_ptr_array_free(to, TRUE);
	g_string_free(lines, TRUE);
	g_free(count);
	g_free(after);
	g_free(expiry);
	g_free(vigil);
	return r;
}

/* expire - close every post held longer than hold_expiry */
static enum store_rc
expire(struct store *st, const struct config *cfg, const struct list_config *l, gint64 now,
       struct maintain_stats *stats, GArray *outbox_ids, GError **err)
{
	GPtrArray *due = NULL;
	char *expiry = config_format_duration(l->hold_expiry);
	char *comment = g_strdup_printf("held longer than %s", expiry);
	enum store_rc r;
	guint i;

	r = store_held_due(st, l->address, now - l->hold_expiry, G_MAXINT64, &due, err);
	for (i = 0; r == STORE_OK && i < due->len; i++) {
		struct decision d = { 0 };

		r = close_post(st, cfg, l, g_ptr_array_index(due, i), POST_EXPIRED, EXPIRY_ACTOR,
			       comment, DMARC_POLICY_ABSENT, now, outbox_ids, &d, err);
		stats->expired += r == STORE_OK;
	}
	if (due)
		g_ptr_array_free(due, TRUE);
	g_free(expiry);
	g_free(comment);
	return r;
}

/* moderate_maintain - expiry, then the digest, in one transaction */
enum moderate_rc
moderate_maintain(struct store *st, const struct config *cfg, const struct list_config *l,
		  gint64 now, struct maintain_stats *stats, GArray *outbox_ids, GError **err)
{
	guint mark = outbox_ids->len;
	enum store_rc r;

	stats->reminded = stats->expired = 0;
	if ((r = store_begin(st, err)) != STORE_OK)
		return moderate_from_store(r);
	if (l->hold_expiry > 0)
		r = expire(st, cfg, l, now, stats, outbox_ids, err);
	if (r == STORE_OK && l->remind_after > 0)
		r = remind(st, cfg, l, now, stats, outbox_ids, err);
	if (r == STORE_OK)
		r = store_commit(st, err);
	if (r != STORE_OK) {
		store_rollback(st);
		g_array_set_size(outbox_ids, mark);
		stats->reminded = stats->expired = 0;
	}
	return moderate_from_store(r);
}
