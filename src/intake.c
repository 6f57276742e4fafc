/*
 * NAME
 *	intake - one incoming message, one transaction
 * SYNOPSIS
 *	#include "intake.h"
 *
 *	enum intake_rc intake_message(st, cfg, raw, len, sender, rcpts, nrcpts,
 *				      now, outbox_ids, err);
 * DESCRIPTION
 *	intake_message() is what every front-end calls for a message with
 *	its envelope.  For each recipient that is a configured list it
 *	gathers the facts (membership, the report thread the message
 *	replies to and whether its sender reported it, the auto-reply
 *	log, and what the MTA's verifier found for the envelope sender
 *	and the From addresses: authres_trusted() by the list's
 *	trusted_authserv_id, among the fields the MTA wrote - for a milter
 *	the trace fields on top, else those around Postfix's first
 *	Received: line), asks policy_decide() and records the outcome: a held post
 *	with a new report id and its auto-reply, or a relay record with
 *	the members' copy.  A post in a report's thread is recorded in it
 *	and its copy also goes to the report's reporters and copied people
 *	(thread_copies()).  Mail to a list's bounce address is stored as
 *	bounces, and a member whose address keeps failing is reported to
 *	the owner.  Recipients that are not lists get the message
 *	unchanged.  Everything - posts, audit rows, bounces, every outgoing
 *	message as an outbox row - is one sqlite transaction: all of it is
 *	stored or none.  A list with an archive keeps the members' copy
 *	in its Maildir before the transaction commits (archive_add()): a
 *	copy that cannot be written fails the message like a busy
 *	database, so nothing is relayed that the archive lacks.  The log
 *	lines of what is stored (held, relayed, a bounce) are written once
 *	the transaction has committed.
 *
 *	The DMARC policy of the author's domain, which the members' copy
 *	may need (dmarc_mitigation = munge_from), is looked up before the
 *	transaction begins, and only for a message a list may relay: no
 *	write lock is held while DNS answers.
 *
 *	The ids of the new outbox rows are appended to outbox_ids, for the
 *	caller to send once it has answered the MTA.  sender is the envelope
 *	sender, "" for the null sender.
 *
 *	INTAKE_TEMPFAIL means nothing was stored (database busy, read-only,
 *	full; a template or footer that cannot be read): the MTA must try
 *	again.  INTAKE_REJECT means the message can never be accepted (too
 *	large).
 *
 *	Every message taken in is recorded, in the same transaction, by a
 *	digest of its envelope (sender and recipients, as given) and its
 *	bytes.  The same message again is one whose first answer the MTA
 *	never got (the filter was killed after the commit, vigild died
 *	before it could reply): it is answered INTAKE_OK, with nothing
 *	stored or queued a second time.  What the first time queued is still
 *	in the outbox if it was not sent; "vigil flush" sends it.
 *
 *	intake_at_smtp() is the same for a message the MTA still holds and
 *	goes on delivering (a milter): the members' copy of the first list
 *	that relays it is left to the MTA - out says which list recipients
 *	to drop, which recipients to add and which header changes to make
 *	(unless the copy needs a footer: then it goes through the outbox)
 *	- and the other recipients are left to it too (out->others).  A
 *	loop is then refused (INTAKE_REJECT, out->reject "loop") instead of
 *	held: the client is still connected, so nobody gets a bounce.  The
 *	same message again (a client sending once more what was answered
 *	451 after the commit, when the milter died) is decided again, for
 *	out, but nothing of it is stored or queued: the transaction is rolled
 *	back.
 */
#include "intake.h"

#include <stdarg.h>
#include <string.h>

#include "addr.h"
#include "archive.h"
#include "authres.h"
#include "bounce.h"
#include "compose.h"
#include "dmarc.h"
#include "header.h"
#include "log.h"
#include "membership.h"
#include "message.h"
#include "moderate.h"
#include "policy.h"
#include "queue.h"
#include "text.h"
#include "thread.h"
#include "token.h"

struct job {
	struct store *st;
	const struct config *cfg;
	const char *raw;
	size_t	 len;
	const char *sender;		/* canonical, NULL for <> */
	const char *sender_raw;		/* as given */
	struct post *post;
	gint64	 now;
	GArray	*outbox_ids;
	struct intake_smtp *smtp;	/* the MTA delivers (milter); NULL: we do (pipe) */
	int	 author_policy;		/* enum dmarc_policy of the From domain */
	struct thread thread;		/* of the list at hand */
	GPtrArray *archived;		/* files written to the archives in this transaction */
	GPtrArray *fields;		/* the header block (struct header_field), NULL if unparsed */
	GPtrArray *said;		/* log lines (LOG_INFO) of what is stored: after the commit */
	bool	 again;			/* taken in before: decide, store nothing */
	bool	 policy_asked;		/* author_policy was looked up */
};

#define DIGEST_LEN	32		/* SHA-256 */

/*
 * say - a line for the log of what the transaction stores, written once
 * it is committed (run()): the log claims nothing a failed commit undid,
 * and the write is not in the shared store's turn
 */
static void G_GNUC_PRINTF(2, 3)
say(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(j->said, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* tempfail - map a store failure; every store error is "try again" here */
static enum intake_rc
tempfail(enum store_rc r)
{
	return r == STORE_OK ? INTAKE_OK : INTAKE_TEMPFAIL;
}

/* queue - add an outgoing message to the outbox */
static enum store_rc
queue(struct job *j, gint64 post_id, const char *kind, const char *sender,
      GPtrArray *rcpts, GByteArray *data, GError **err)
{
	return queue_message(j->st, post_id, kind, sender, rcpts, data, j->now, j->outbox_ids, err);
}

/* is_member - is addr a member of l, read from st */
static enum store_rc
is_member(struct store *st, const struct list_config *l, const char *addr, bool *yes, GError **err)
{
	enum store_rc r;

	*yes = false;
	if (addr == NULL)
		return STORE_OK;
	r = store_member_find(st, l->address, addr, NULL, err);
	if (r == STORE_OK)
		*yes = true;
	return r == STORE_NOTFOUND ? STORE_OK : r;
}

/* member_facts - are the envelope sender, and a From address, members of l, read from st */
static enum store_rc
member_facts(const struct job *j, struct store *st, const struct list_config *l, bool *sender,
	     bool *from, GError **err)
{
	enum store_rc r;
	guint i;

	*from = false;
	if ((r = is_member(st, l, j->sender, sender, err)) != STORE_OK)
		return r;
	/* From only where a verifier vouches for it: anyone may write a member's address there */
	for (i = 0; l->require_authentication != AUTH_NONE && !*from && i < j->post->from->len; i++)
		if ((r = is_member(st, l, g_ptr_array_index(j->post->from, i), from, err)) != STORE_OK)
			return r;
	return STORE_OK;
}

/*
 * auth_facts - what the MTA's verifier, by the list's trusted_authserv_id,
 * says of the envelope sender's domain and of the domain of every From
 * address; claims in its name below the MTA's own fields are logged
 */
static void
auth_facts(struct job *j, const struct list_config *l, struct facts *f)
{
	GPtrArray *trusted;
	guint outside, i;

	f->require_auth = l->require_authentication;
	if (l->trusted_authserv_id == NULL || *l->trusted_authserv_id == '\0' || j->fields == NULL)
		return;
	trusted = authres_trusted(j->fields, l->trusted_authserv_id,
				  j->smtp ? AUTHRES_MILTER : AUTHRES_PIPE, &outside);
	if (outside > 0) {
		char *who = text_escape(j->sender_raw);

		log_msg(LOG_WARNING, "list=%s warning=forged-authres authserv_id=%s count=%u sender=<%s>:"
			" Authentication-Results in the verifier's name below the MTA's own fields, ignored;"
			" the MTA should remove them on arrival (filters/postfix/README)", l->address,
			l->trusted_authserv_id, outside, who);
		g_free(who);
	}
	if (j->sender) {
		f->sender_dkim = authres_pass(trusted, "dkim", addr_domain(j->sender));
		f->sender_spf = authres_pass(trusted, "spf", addr_domain(j->sender));
	}
	f->from_dkim = f->from_spf = j->post->from->len > 0;
	for (i = 0; i < j->post->from->len; i++) {
		const char *d = addr_domain(g_ptr_array_index(j->post->from, i));

		f->from_dkim = f->from_dkim && authres_pass(trusted, "dkim", d);
		f->from_spf = f->from_spf && authres_pass(trusted, "spf", d);
	}
	g_ptr_array_free(trusted, TRUE);
}

/* header_facts - the facts the message and envelope tell, without the store */
static void
header_facts(struct job *j, const struct list_config *l, struct facts *f)
{
	memset(f, 0, sizeof *f);
	f->parsed = j->post->parsed;
	f->sender_null = j->sender == NULL;
	f->sender_mailer_daemon = addr_is_mailer_daemon(j->sender);
	f->sender_ours = j->sender && config_find_rcpt(j->cfg, j->sender, NULL, NULL) != NULL;
	f->loop = message_has_loop(j->post, l->address);
	f->can_refuse = j->smtp != NULL;
	f->auto_submitted = j->post->auto_submitted;
	f->precedence = j->post->precedence;
	f->auto_response_suppress = j->post->auto_response_suppress;
	f->has_list_id = j->post->has_list_id;
	f->size = (int64_t) j->len;
	f->max_size = l->max_message_size;
	f->now = j->now;
	f->autoreply_interval = l->autoreply_interval;
	auth_facts(j, l, f);
}

/* gather - the facts for one list */
static enum store_rc
gather(struct job *j, const struct list_config *l, struct facts *f, GError **err)
{
	enum store_rc r;

	header_facts(j, l, f);
	if ((r = member_facts(j, j->st, l, &f->sender_member, &f->from_member, err)) != STORE_OK)
		return r;
	thread_clear(&j->thread);
	if (j->post->parsed && (r = thread_resolve(j->st, l->address, j->post, &j->thread, err)) != STORE_OK)
		return r;
	f->in_thread = j->thread.report_id != NULL;
	f->thread_mixed = j->thread.mixed;
	if (f->in_thread && (r = thread_is_reporter(j->st, l->address, j->thread.report_id, j->sender,
						    j->post, &f->sender_reporter, &f->from_reporter,
						    err)) != STORE_OK)
		return r;
	if (j->sender)
		return store_autoreply_last(j->st, l->address, j->sender, &f->last_autoreply, err);
	return STORE_OK;
}

/* year_of - the UTC year of a Unix time */
static int
year_of(gint64 t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	int y = dt ? g_date_time_get_year(dt) : 1970;

	if (dt)
		g_date_time_unref(dt);
	return y;
}

/* first_from - the first From address, or NULL */
static const char *
first_from(const struct post *post)
{
	return post->from->len ? g_ptr_array_index(post->from, 0) : NULL;
}

/*
 * record - the post and its audit row.  A held post keeps its raw bytes
 * for the moderator; a relayed one is a record only.
 */
static enum store_rc
record(struct job *j, const struct list_config *l, const char *status, const char *action,
       const char *reason, const char *report_id, const char *message_id, gint64 *id,
       GError **err)
{
	struct post_record rec = { 0 };
	bool held = strcmp(status, "held") == 0;
	enum store_rc r;

	rec.list = l->address;
	rec.status = status;
	rec.reason = reason;
	rec.report_id = report_id;
	rec.sender = j->sender_raw;
	rec.from = first_from(j->post);
	rec.subject = j->post->subject;
	rec.message_id = message_id ? message_id : j->post->message_id;
	rec.thread = j->thread.report_id;
	rec.received = j->now;
	rec.size = (gint64) j->len;
	rec.raw = held ? j->raw : NULL;
	rec.rawlen = held ? j->len : 0;
	if ((r = store_post_add(j->st, &rec, id, err)) != STORE_OK)
		return r;
	return store_audit_add(j->st, j->now, l->address, *j->sender_raw ? j->sender_raw : "<>",
			       action, *id, report_id, reason, err);
}

/* hold - store a held post, its audit row and its auto-reply */
static enum intake_rc
hold(struct job *j, const struct list_config *l, const struct verdict *v, GError **err)
{
	char *report_id = NULL;
	char *who;
	gint64 id;
	enum store_rc r;

	if ((r = store_report_next(j->st, l->address, year_of(j->now), &report_id, err)) != STORE_OK)
		return tempfail(r);
	if ((r = record(j, l, "held", "hold", v->reason, report_id, NULL, &id, err)) != STORE_OK)
		goto out;
	if (v->autoreply) {
		GByteArray *reply = compose_autoreply(l, j->cfg->template_dir, j->post, j->sender,
						      report_id, j->now, err);
		GPtrArray *to;

		if (reply == NULL) {
			r = STORE_RETRY;
			goto out;
		}
		to = g_ptr_array_new();
		g_ptr_array_add(to, (char *) j->sender);
		r = queue(j, id, "autoreply", "", to, reply, err);
		if (r == STORE_OK)
			r = store_autoreply_mark(j->st, l->address, j->sender, j->now, err);
		g_ptr_array_free(to, TRUE);
		g_byte_array_unref(reply);
	}
	if (r == STORE_OK)
		r = moderate_notify_held(j->st, j->cfg, l, id, report_id, v->reason, j->sender_raw,
					 j->post, j->len, j->now, j->outbox_ids, err);
	if (r != STORE_OK)
		goto out;
	who = text_escape(j->sender_raw);
	say(j, "post=%" G_GINT64_FORMAT " list=%s action=hold reason=%s report=%s sender=<%s>"
	    " size=%zu autoreply=%s", id, l->address, v->reason, report_id, who, j->len,
	    v->autoreply ? "yes" : v->no_autoreply);
	g_free(who);
out:
	g_free(report_id);
	return tempfail(r);
}

/* add_new - append a copy of addr unless it is there already */
static void
add_new(GPtrArray *to, const char *addr)
{
	if (!g_ptr_array_find_with_equal_func(to, addr, g_str_equal, NULL))
		g_ptr_array_add(to, g_strdup(addr));
}

/*
 * recipients - every member of the list but the author (the envelope
 * sender or a From address); for a post in a report's thread also the
 * report's reporters and copied people (thread_copies()), who are
 * named in *cc when they are not members
 */
static enum store_rc
recipients(struct store *st, const struct relay_job *rj, GPtrArray **to, GPtrArray **cc,
	   GError **err)
{
	GPtrArray *members = NULL;
	GPtrArray *extra = NULL;
	enum store_rc r;
	guint i;

	*to = g_ptr_array_new_with_free_func(g_free);
	*cc = g_ptr_array_new_with_free_func(g_free);
	if ((r = store_member_addresses(st, rj->list->address, NULL, &members, err)) != STORE_OK)
		return r;
	for (i = 0; i < members->len; i++) {
		const char *m = g_ptr_array_index(members, i);

		if ((rj->sender && strcmp(m, rj->sender) == 0) || message_from_is(rj->post, m))
			continue;
		g_ptr_array_add(*to, g_strdup(m));
	}
	if (rj->thread && (r = thread_copies(st, rj->list->address, rj->thread, rj->sender, rj->post,
					     &extra, err)) == STORE_OK) {
		/* a member among them is in *to already: thread_copies() and the
		 * loop above leave out the same author */
		for (i = 0; i < extra->len; i++)
			if (!g_ptr_array_find_with_equal_func(*to, g_ptr_array_index(extra, i),
							      g_str_equal, NULL))
				add_new(*cc, g_ptr_array_index(extra, i));
		for (i = 0; i < (*cc)->len; i++)
			add_new(*to, g_ptr_array_index(*cc, i));
	}
	if (extra)
		g_ptr_array_free(extra, TRUE);
	g_ptr_array_free(members, TRUE);
	return r;
}

/* copy_of - what the members' copy changes */
static struct relay_copy
copy_of(const struct relay_job *rj, const GPtrArray *cc)
{
	struct relay_copy c = {
		.list = rj->list, .post = rj->post, .cc = cc, .message_id = rj->message_id,
		.munge_from = dmarc_should_munge(rj->list->dmarc_mitigation, rj->author_policy),
	};

	return c;
}

/* blob_sink - a compose_sink into a blob being filled */
static void
blob_sink(const void *data, size_t len, gpointer ud)
{
	store_blob_write(ud, data, len);
}

/* write_parts - a store_writer of the members' copy, CRLF as it comes */
static void
write_parts(struct store_blob *b, gpointer ud)
{
	compose_crlf_parts(ud, blob_sink, b);
}

/* archive_parts - the list's archive, if it has one, keeps the members' copy, whole */
static enum store_rc
archive_parts(struct store *st, const struct relay_job *rj, const struct compose_parts *parts,
	      GError **err)
{
	GByteArray *copy;
	enum store_rc r;

	if (*rj->list->archive == '\0')
		return STORE_OK;
	copy = compose_parts_bytes(parts);
	r = archive_add(st, rj->list, rj->post_id, copy->data, copy->len, rj->now, rj->archived, err);
	g_byte_array_unref(copy);
	return r;
}

/*
 * intake_relay - queue the members' copy of a post: one SMTP
 * transaction to every member but its author, and in a report's thread
 * to the people of the report; envelope sender the list's bounce
 * address.  *nrcpts is how many it goes to.  The list's archive keeps
 * the copy first (archive_add()), even when nobody gets it.
 */
enum store_rc
intake_relay(struct store *st, const struct relay_job *rj, GArray *outbox_ids, guint *nrcpts,
	     GError **err)
{
	GPtrArray *to, *cc;
	enum store_rc r;

	r = recipients(st, rj, &to, &cc, err);
	if (r == STORE_OK && (to->len > 0 || *rj->list->archive)) {
		struct relay_copy c = copy_of(rj, cc);
		GError *ferr = NULL;
		char *footer = compose_footer(rj->list, rj->post, &ferr);

		if (ferr) {
			g_propagate_error(err, ferr);
			r = STORE_RETRY;
		} else {
			/* written in pieces: a large post is not copied whole in memory */
			struct compose_parts parts;

			compose_relay_parts(&c, rj->raw, rj->len, footer, &parts);
			r = archive_parts(st, rj, &parts, err);
			if (r == STORE_OK && to->len > 0)
				r = queue_message_with(st, rj->post_id, "relay", rj->list->bounce_address,
						       to, (gint64) compose_crlf_parts(&parts, NULL, NULL),
						       write_parts, &parts, rj->now, outbox_ids, err);
			compose_parts_clear(&parts);
		}
		g_free(footer);
	}
	*nrcpts = to->len;
	g_ptr_array_free(to, TRUE);
	g_ptr_array_free(cc, TRUE);
	return r;
}

/*
 * relay_by_mta - the MTA delivers the original to the members, with the
 * header changes of the members' copy; one list per message can be
 * done so, and only when the body stays as it is (no footer).  The
 * archive keeps the message as the MTA will make it.
 */
static enum store_rc
relay_by_mta(struct job *j, const struct relay_job *rj, guint *n, GError **err)
{
	GPtrArray *to, *cc;
	enum store_rc r;
	guint i;

	if ((r = recipients(j->st, rj, &to, &cc, err)) == STORE_OK) {
		struct relay_copy c = copy_of(rj, cc);

		for (i = 0; i < to->len; i++)
			add_new(j->smtp->add_rcpts, g_ptr_array_index(to, i));
		GString *copy;

		j->smtp->edits = compose_relay_edits(&c, j->raw, j->len);
		j->smtp->sender = rj->list->bounce_address;
		*n = to->len;
		copy = header_apply_unfolded(j->raw, j->len, j->smtp->edits);
		r = archive_add(j->st, rj->list, rj->post_id, copy->str, copy->len, j->now, rj->archived,
				err);
		g_string_free(copy, TRUE);
	}
	g_ptr_array_free(to, TRUE);
	g_ptr_array_free(cc, TRUE);
	return r;
}

/* relay - record a post of a member, or of a reporter in its thread, and queue its copies */
static enum intake_rc
relay(struct job *j, const struct list_config *l, const struct verdict *v, GError **err)
{
	struct relay_job rj = {
		.list = l, .sender = j->sender, .post = j->post, .raw = j->raw, .len = j->len,
		.thread = j->thread.report_id, .author_policy = j->author_policy, .now = j->now,
		.archived = j->archived,
	};
	char *mid = NULL;
	guint n = 0;
	enum store_rc r;

	if (l->dmarc_mitigation == DMARC_MITIGATE_MUNGE_FROM && !j->policy_asked) {
		/* a member since may_relay() read: asked in the transaction, rarely */
		rj.author_policy = j->author_policy = intake_author_policy(j->cfg, l, j->post);
		j->policy_asked = true;
	}
	if (rj.thread && j->post->message_id == NULL)
		rj.message_id = mid = compose_message_id(l);
	r = record(j, l, "relayed", "relay", v->reason, NULL, mid, &rj.post_id, err);
	if (r == STORE_OK && j->smtp && j->smtp->edits == NULL
	    && (*l->footer == '\0' || !j->post->plain_text))
		r = relay_by_mta(j, &rj, &n, err);
	else if (r == STORE_OK)
		r = intake_relay(j->st, &rj, j->outbox_ids, &n, err);
	g_free(mid);
	if (r != STORE_OK)
		return tempfail(r);
	say(j, "post=%" G_GINT64_FORMAT " list=%s action=relay reason=%s%s%s rcpts=%u size=%zu",
	    rj.post_id, l->address, v->reason, rj.thread ? " thread=" : "", rj.thread ? rj.thread : "",
	    n, j->len);
	return INTAKE_OK;
}

/* one_list - policy and its outcome for one list */
static enum intake_rc
one_list(struct job *j, const struct list_config *l, GError **err)
{
	struct facts f;
	struct verdict v;
	enum store_rc r;

	if ((r = gather(j, l, &f, err)) != STORE_OK)
		return tempfail(r);
	v = policy_decide(&f);
	switch (v.action) {
	case ACTION_RELAY:
		return relay(j, l, &v, err);
	case ACTION_HOLD:
		return hold(j, l, &v, err);
	case ACTION_REJECT:
		if (j->smtp)
			j->smtp->reject = v.reason;
		if (strcmp(v.reason, "loop") == 0)
			g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR,
				    "mail loop: the message has already passed through %s", l->address);
		else
			g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR,
				    "message too large for %s (%zu bytes, at most %" G_GINT64_FORMAT ")",
				    l->address, j->len, l->max_message_size);
		return INTAKE_REJECT;
	case ACTION_DISCARD:
	case ACTION_TEMPFAIL:
	default:
		g_error("intake: policy returned action %d", v.action);
	}
	return INTAKE_TEMPFAIL;
}

/*
 * intake_author_policy - the DMARC policy of the post's From domain, when
 * the list's dmarc_mitigation needs it (munge_from), else ABSENT.  Ask
 * it before a transaction: no lock is held while DNS answers.
 */
int
intake_author_policy(const struct config *cfg, const struct list_config *l, const struct post *post)
{
	const char *from = first_from(post);

	if (from == NULL || l->dmarc_mitigation != DMARC_MITIGATE_MUNGE_FROM)
		return DMARC_POLICY_ABSENT;
	return dmarc_lookup(addr_domain(from), dmarc_txt_dns, *cfg->resolver ? cfg->resolver : NULL);
}

/*
 * may_relay - might l relay the post: the envelope sender or a From
 * address is a member, or it replies to something (a reporter's
 * follow-up).  A read outside the transaction, only to spare held mail a
 * DNS lookup; relay() asks what a membership changed since hides.
 */
static bool
may_relay(struct job *j, const struct list_config *l)
{
	bool sender = false, from = false;
	struct store *rd;
	enum store_rc r;

	if (j->post->references->len > 0)
		return true;
	if ((rd = store_read_begin(j->st, NULL)) == NULL)
		return true;
	r = member_facts(j, rd, l, &sender, &from, NULL);
	store_read_end(j->st);
	return r != STORE_OK || sender || from;
}

/* author_policy - the DMARC policy for the first list that may relay the post */
static int
author_policy(struct job *j, const GPtrArray *lists)
{
	guint i;

	for (i = 0; i < lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(lists, i);

		if (l->dmarc_mitigation == DMARC_MITIGATE_MUNGE_FROM && may_relay(j, l)) {
			j->policy_asked = true;
			return intake_author_policy(j->cfg, l, j->post);
		}
	}
	return DMARC_POLICY_ABSENT;
}

/* the first bytes of a bounce kept for the owner; what counts is parsed before */
#define BOUNCE_KEEP (256 * 1024)

/* report_bouncer - tell the owner that a member's address keeps failing */
static enum store_rc
report_bouncer(struct job *j, const struct list_config *l, const struct bounce_row *b,
	       gint64 failures, GError **err)
{
	char *count = g_strdup_printf("%" G_GINT64_FORMAT, failures);
	char *window = config_format_duration(l->bounce_window);
	char *diagnostic = text_escape(b->diagnostic);
	char *vigil = moderate_vigil_command(j->cfg, l);
	const struct tvar vars[] = {
		{ "list_name", l->name }, { "list_address", l->address }, { "address", b->address },
		{ "count", count }, { "window", window }, { "status", b->status },
		{ "diagnostic", diagnostic }, { "vigil", vigil }, { NULL, NULL },
	};
	struct notice n = {
		.template = "bounce-owner.txt", .vars = vars, .from = l->owner,
		.auto_submitted = "auto-generated", .now = j->now,
	};
	GPtrArray *to = g_ptr_array_new();
	GByteArray *data;
	enum store_rc r = STORE_RETRY;

	g_ptr_array_add(to, l->owner);
	n.to = to;
	if ((data = compose_notice(l, j->cfg->template_dir, &n, err)) != NULL) {
		r = queue(j, 0, "bounce-owner", l->owner, to, data, err);
		g_byte_array_unref(data);
	}
	if (r == STORE_OK)
		r = store_bounce_reported(j->st, b->id, err);
	if (r == STORE_OK)
		r = store_audit_add(j->st, j->now, l->address, "vigil", "bounce-report", 0, NULL,
				    b->address, err);
	g_ptr_array_free(to, TRUE);
	g_free(count);
	g_free(window);
	g_free(diagnostic);
	g_free(vigil);
	return r;
}

/*
 * bounced - one recipient of a bounce stored; a member whose address
 * failed bounce_threshold times within bounce_window (since it was last
 * reported) is reported to the owner, and never removed
 */
static enum store_rc
bounced(struct job *j, const struct list_config *l, struct bounce_row *b, GError **err)
{
	gint64 failures = 0;
	enum store_rc r;

	if ((r = store_bounce_add(j->st, l->address, b, j->raw, MIN(j->len, BOUNCE_KEEP), &b->id,
				  err)) != STORE_OK)
		return r;
	say(j, "list=%s action=bounce address=%s status=%s failed=%s", l->address,
	    *b->address ? b->address : "(unknown)", *b->status ? b->status : "-",
	    b->failed ? "yes" : "no");
	if (!b->failed || l->bounce_threshold == 0 || *b->address == '\0')
		return STORE_OK;
	if ((r = store_member_find(j->st, l->address, b->address, NULL, err)) != STORE_OK)
		return r == STORE_NOTFOUND ? STORE_OK : r;
	r = store_bounce_failures(j->st, l->address, b->address, j->now - l->bounce_window,
				  &failures, err);
	if (r == STORE_OK && failures >= l->bounce_threshold)
		r = report_bouncer(j, l, b, failures, err);
	return r;
}

/* take_bounce - mail to the list's bounce address: stored for the owner, never relayed */
static enum store_rc
take_bounce(struct job *j, const struct list_config *l, GError **err)
{
	struct bounce *dsn = bounce_parse(j->raw, j->len);
	struct bounce_row b = { .received = j->now, .sender = (char *) j->sender_raw,
				.address = "", .action = "", .status = "", .diagnostic = "" };
	enum store_rc r = STORE_OK;
	guint i;

	if (dsn->rcpts->len == 0)
		r = bounced(j, l, &b, err);	/* kept, though nobody can be named */
	for (i = 0; r == STORE_OK && i < dsn->rcpts->len; i++) {
		const struct bounce_rcpt *br = g_ptr_array_index(dsn->rcpts, i);

		b.address = br->address;
		b.action = br->action;
		b.status = br->status;
		b.diagnostic = br->diagnostic;
		b.failed = bounce_rcpt_failed(br);
		r = bounced(j, l, &b, err);
	}
	bounce_free(dsn);
	return r;
}

/* a recipient LIST+join-TOKEN */
struct join_rcpt {
	const struct list_config *list;
	char   *ext;			/* "join-TOKEN" */
};

/* join_rcpt_free - free a join_rcpt, wiping its token */
static void
join_rcpt_free(gpointer p)
{
	struct join_rcpt *jr = p;

	memset(jr->ext, 0, strlen(jr->ext));
	g_free(jr->ext);
	g_free(jr);
}

/* join - a message to LIST+join-TOKEN: membership_join() decides, before any other lookup */
static enum intake_rc
join(struct job *j, const struct join_rcpt *jr, GError **err)
{
	struct facts f;

	header_facts(j, jr->list, &f);
	return tempfail(membership_join(j->st, j->cfg, jr->list, jr->ext, j->sender, j->post, &f,
					j->now, j->outbox_ids, err));
}

/*
 * find_rcpt - the list or bounce address a recipient names; *ext is set
 * for LIST+join-TOKEN only
 */
static void
find_rcpt(const struct config *cfg, const char *a, const struct list_config **l,
	  const struct list_config **b, char **ext)
{
	bool bounce;
	const struct list_config *found = config_find_rcpt(cfg, a, &bounce, ext);

	*l = bounce ? NULL : found;
	*b = bounce ? found : NULL;
	if (*ext && (*l == NULL || g_ascii_strncasecmp(*ext, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)) {
		g_free(*ext);
		*ext = NULL;
	}
}

/*
 * digest_of - what tells one message from another: its envelope as
 * given and its bytes (a retry by the MTA is the same, byte for byte)
 */
static void
digest_of(const struct job *j, const char *const *rcpts, size_t nrcpts, guint8 out[DIGEST_LEN])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	gsize len = DIGEST_LEN;
	char n[32];
	size_t i;

	g_snprintf(n, sizeof n, "%zu", nrcpts);
	g_checksum_update(c, (const guchar *) n, (gssize) strlen(n) + 1);
	g_checksum_update(c, (const guchar *) j->sender_raw, (gssize) strlen(j->sender_raw) + 1);
	for (i = 0; i < nrcpts; i++)
		g_checksum_update(c, (const guchar *) rcpts[i], (gssize) strlen(rcpts[i]) + 1);
	g_checksum_update(c, (const guchar *) j->raw, (gssize) j->len);
	g_checksum_get_digest(c, out, &len);
	g_checksum_free(c);
}

/* taken_before - log a message taken in before */
static void
taken_before(const struct job *j, const char *what)
{
	char *who = text_escape(j->sender_raw);

	log_msg(LOG_NOTICE, "action=again sender=<%s> size=%zu message-id=<%s>: taken in before, %s",
		who, j->len, j->post && j->post->message_id ? j->post->message_id : "", what);
	g_free(who);
}

/* run - decide and store one message for all its recipients */
static enum intake_rc
run(struct job *j, const char *const *rcpts, size_t nrcpts, GError **err)
{
	GPtrArray *lists = g_ptr_array_new();
	GPtrArray *bounced = g_ptr_array_new();
	GPtrArray *others = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *joins = g_ptr_array_new_with_free_func(join_rcpt_free);
	enum intake_rc rc = INTAKE_OK;
	guint mark = j->outbox_ids->len;
	guint8 digest[DIGEST_LEN];
	enum store_rc r;
	size_t i;

	for (i = 0; i < nrcpts; i++) {
		char *a = addr_normalize(rcpts[i]);
		const struct list_config *l, *b;
		char *ext;

		find_rcpt(j->cfg, a, &l, &b, &ext);
		if (ext) {
			struct join_rcpt *jr = g_new(struct join_rcpt, 1);

			jr->list = l;
			jr->ext = ext;
			g_ptr_array_add(joins, jr);
		} else if (l && !g_ptr_array_find(lists, l, NULL))
			g_ptr_array_add(lists, (gpointer) l);
		else if (b && !g_ptr_array_find(bounced, b, NULL))
			g_ptr_array_add(bounced, (gpointer) b);
		else if (l == NULL && b == NULL)
			g_ptr_array_add(others, g_strdup(rcpts[i]));
		if ((l || b) && j->smtp)
			g_ptr_array_add(j->smtp->drop_rcpts, g_strdup(rcpts[i]));
		g_free(a);
	}
	j->post = message_parse(j->raw, j->len);
	j->fields = j->post->parsed ? header_fields(j->raw, j->len) : NULL;
	j->author_policy = author_policy(j, lists);
	j->archived = g_ptr_array_new_with_free_func(g_free);
	j->said = g_ptr_array_new_with_free_func(g_free);
	digest_of(j, rcpts, nrcpts, digest);
	if (store_begin(j->st, err) != STORE_OK) {
		rc = INTAKE_TEMPFAIL;
		goto out;
	}
	if ((r = store_taken_add(j->st, digest, sizeof digest, j->now, err)) == STORE_EXISTS) {
		j->again = true;
		if (j->smtp == NULL) {
			/* the MTA never got our answer: it has it now, once what
			 * told us is on disk (a shared store may still hold it) */
			if (store_commit(j->st, err) != STORE_OK)
				rc = INTAKE_TEMPFAIL;
			else
				taken_before(j, "nothing stored again");
			goto out;
		}
	} else if (r != STORE_OK) {
		rc = INTAKE_TEMPFAIL;
	}
	for (i = 0; rc == INTAKE_OK && i < joins->len; i++)
		rc = join(j, g_ptr_array_index(joins, i), err);
	for (i = 0; rc == INTAKE_OK && i < lists->len; i++)
		rc = one_list(j, g_ptr_array_index(lists, i), err);
	for (i = 0; rc == INTAKE_OK && i < bounced->len; i++)
		rc = tempfail(take_bounce(j, g_ptr_array_index(bounced, i), err));
	if (rc == INTAKE_OK && others->len > 0 && j->smtp) {
		j->smtp->others = true;		/* the MTA goes on delivering to them */
	} else if (rc == INTAKE_OK && others->len > 0) {
		GByteArray *copy = compose_crlf(j->raw, j->len);

		rc = tempfail(queue(j, 0, "forward", j->sender_raw, others, copy, err));
		g_byte_array_unref(copy);
	}
	if (rc == INTAKE_OK && j->again) {
		/* decided again for the MTA (milter); stored as the first time */
		taken_before(j, "decided again, nothing stored again");
	} else if (rc == INTAKE_OK && store_commit(j->st, err) != STORE_OK) {
		rc = INTAKE_TEMPFAIL;
		/* a failed commit may still have reached the disk: archive_recover() decides */
		g_ptr_array_set_size(j->archived, 0);
	}
	if (rc != INTAKE_OK || j->again) {
		store_rollback(j->st);
		archive_discard(j->archived);
		g_array_set_size(j->outbox_ids, mark);	/* those rows do not exist */
	}
	for (i = 0; rc == INTAKE_OK && !j->again && i < j->said->len; i++)
		log_msg(LOG_INFO, "%s", (const char *) g_ptr_array_index(j->said, i));
out:
	g_ptr_array_free(j->said, TRUE);
	g_ptr_array_free(j->archived, TRUE);
	thread_clear(&j->thread);
	message_free(j->post);
	if (j->fields)
		g_ptr_array_free(j->fields, TRUE);
	g_ptr_array_free(lists, TRUE);
	g_ptr_array_free(bounced, TRUE);
	g_ptr_array_free(others, TRUE);
	g_ptr_array_free(joins, TRUE);
	return rc;
}

/* intake_message - a message the caller hands on: we send every copy (pipe) */
enum intake_rc
intake_message(struct store *st, const struct config *cfg, const char *raw, size_t len,
	       const char *sender, const char *const *rcpts, size_t nrcpts, gint64 now,
	       GArray *outbox_ids, GError **err)
{
	char *canon = addr_normalize(sender);
	struct job j = { .st = st, .cfg = cfg, .raw = raw, .len = len, .sender = canon,
			 .sender_raw = sender ? sender : "", .now = now, .outbox_ids = outbox_ids,
			 .smtp = NULL, .author_policy = DMARC_POLICY_ABSENT };
	enum intake_rc rc = run(&j, rcpts, nrcpts, err);

	g_free(canon);
	return rc;
}

/*
 * intake_at_smtp - a message the MTA still holds (milter): it delivers the
 * members' copy and the other recipients itself, as out says
 */
enum intake_rc
intake_at_smtp(struct store *st, const struct config *cfg, const char *raw, size_t len,
	       const char *sender, const char *const *rcpts, size_t nrcpts, gint64 now,
	       GArray *outbox_ids, struct intake_smtp *out, GError **err)
{
	char *canon = addr_normalize(sender);
	struct job j = { .st = st, .cfg = cfg, .raw = raw, .len = len, .sender = canon,
			 .sender_raw = sender ? sender : "", .now = now, .outbox_ids = outbox_ids,
			 .smtp = out, .author_policy = DMARC_POLICY_ABSENT };
	enum intake_rc rc;

	memset(out, 0, sizeof *out);
	out->drop_rcpts = g_ptr_array_new_with_free_func(g_free);
	out->add_rcpts = g_ptr_array_new_with_free_func(g_free);
	rc = run(&j, rcpts, nrcpts, err);
	g_free(canon);
	if (rc != INTAKE_OK) {		/* nothing of it stands */
		g_ptr_array_set_size(out->add_rcpts, 0);
		if (out->edits)
			g_ptr_array_free(out->edits, TRUE);
		out->edits = NULL;
	}
	return rc;
}

/* intake_smtp_clear - free what intake_at_smtp() filled in */
void
intake_smtp_clear(struct intake_smtp *out)
{
	if (out->drop_rcpts)
		g_ptr_array_free(out->drop_rcpts, TRUE);
	if (out->add_rcpts)
		g_ptr_array_free(out->add_rcpts, TRUE);
	if (out->edits)
		g_ptr_array_free(out->edits, TRUE);
	memset(out, 0, sizeof *out);
}
