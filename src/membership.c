/*
 * NAME
 *	membership - invitations, sponsors, joining, adding and removing members
 * SYNOPSIS
 *	#include "membership.h"
 *
 *	enum moderate_rc membership_invite(st, cfg, l, address, role, note, by, now,
 *					   rnd, ud, outbox_ids, out, err);
 *	enum moderate_rc membership_vouch(st, cfg, l, address, by, now, rnd, ud,
 *					  outbox_ids, out, err);
 *	enum moderate_rc membership_add(st, cfg, l, address, role, name, unix_user,
 *					as, now, err);
 *	enum moderate_rc membership_remove(st, cfg, l, address, reason, as, now,
 *					   outbox_ids, err);
 *	enum store_rc membership_join(st, cfg, l, ext, sender, post, facts, now,
 *				      outbox_ids, err);
 * DESCRIPTION
 *	Nobody joins a list without an invitation, and the database can
 *	always say who let whom in.
 *
 *	membership_invite() records an invitation of address with a role,
 *	the inviter as its first sponsor, and the vouches already given
 *	for the address's membership request.  Once the invitation has
 *	vouches_required sponsors it is sent: a fresh token (token.c), of
 *	which only the hash is stored, and the invitation (invitation.txt)
 *	whose Reply-To is LIST+join-TOKEN@domain, sent with the list's
 *	bounce address as envelope sender, so that a bounced invitation
 *	shows in "vigil bounces".  It expires
 *	invite_expiry after it was sent.
 *
 *	membership_vouch() adds a sponsor to the open invitation of an
 *	address, sending it when that was the vouch it waited for, or to
 *	the membership request of an address that has mailed the list (a
 *	post of theirs is held or was decided).  A later invitation counts
 *	those vouches.
 *
 *	membership_join() is what intake does with a message to
 *	LIST+join-TOKEN: the token is parsed and its hash looked up and
 *	compared in constant time before anything else; policy_join()
 *	decides.  Accepting makes the invited address a member with the
 *	invited role (whoever sent the acceptance: the token proves the
 *	invitation was received), welcomes it (welcome.txt) and tells the
 *	moderators (moderator-joined.txt).  A wrong, used or expired token
 *	changes nothing and gets one short answer (join-invalid.txt), at
 *	most one per sender per autoreply_interval, like the held auto-reply.
 *	An automatic message (a vacation reply to the invitation) changes
 *	nothing and is not answered.  Either way the attempt is an audit row
 *	(join-refused, join-ignored, with policy_join()'s reason), so that
 *	no message to the list's join address passes without a trace.
 *
 *	membership_add() adds a member directly and membership_remove()
 *	removes one, telling them why (member-removed.txt, with the null
 *	envelope sender: an address removed because it is dead must not
 *	bounce back into the list's bounce records).  Both take an
 *	owner; while a list has no owner at all, whoever can write the
 *	database does them (that is how the first owner is made), and the
 *	audit trail records the Unix user.  The last owner cannot be
 *	removed.
 *
 *	Every change is one transaction with its audit rows, which carry
 *	the address they are about (vigil member show), and its mail.
 * SECURITY
 *	A token is never logged, printed or stored: it lives in the
 *	invitation in the outbox until that is sent, and the memory that
 *	held it is cleared.
 */
#include "membership.h"

#include <string.h>

#include "addr.h"
#include "compose.h"
#include "log.h"
#include "text.h"

#define JOIN_ACTOR "vigil"

/* membership_outcome_clear - free what invite or vouch filled in */
void
membership_outcome_clear(struct invite_outcome *o)
{
	g_free(o->address);
	g_free(o->by);
	g_free(o->role);
	memset(o, 0, sizeof *o);
}

/* invitee - an address typed by an administrator, checked strictly; never a list's own */
static enum moderate_rc
invitee(const struct config *cfg, const char *typed, char **out, GError **err)
{
	const char *why = NULL;
	enum moderate_rc rc;
	char *t;

	if ((*out = addr_check_strict(typed, &why)) != NULL) {
		if (config_find_list(cfg, *out) == NULL && config_find_bounce(cfg, *out) == NULL)
			return MODERATE_OK;
		why = "that is a list's own address";
		g_free(*out);
		*out = NULL;
	}
	t = text_escape(typed);
	rc = moderate_refuse(err, "%s: %s", t, why);
	g_free(t);
	return rc;
}

/* not_member - refuse an address that is a member already */
static enum moderate_rc
not_member(struct store *st, const struct list_config *l, const char *addr, GError **err)
{
	enum store_rc r = store_member_find(st, l->address, addr, NULL, err);

	if (r == STORE_OK)
		return moderate_refuse(err, "%s is already a member of %s", addr, l->address);
	return r == STORE_NOTFOUND ? MODERATE_OK : moderate_from_store(r);
}

/*
 * open_invite - the open invitation of addr, or NULL; one that was sent
 * and has expired is closed on the way
 */
static enum store_rc
open_invite(struct store *st, const struct list_config *l, const char *addr, gint64 now,
	    struct invite **out, GError **err)
{
	enum store_rc r = store_invite_open(st, l->address, addr, out, err);

	if (r == STORE_NOTFOUND) {
		*out = NULL;
		return STORE_OK;
	}
	if (r != STORE_OK || policy_invite_state((*out)->status, (*out)->expires, now) != INVITE_EXPIRED)
		return r;
	if ((r = store_invite_close(st, (*out)->id, "expired", now, JOIN_ACTOR, err)) == STORE_OK)
		r = store_audit_member(st, now, l->address, JOIN_ACTOR, "invite-expired", 0, NULL, addr,
				       NULL, err);
	store_invite_free(*out);
	*out = NULL;
	return r;
}

/* mail_one - a notice to one address from the list, auto-generated, with this envelope sender */
static enum store_rc
mail_one(struct store *st, const struct config *cfg, const struct list_config *l,
	 const char *template, const struct tvar *vars, const char *to, const char *reply_to,
	 const char *envelope, gint64 now, GArray *outbox_ids, GError **err)
{
	GPtrArray *rcpt = g_ptr_array_new();
	struct notice n = {
		.template = template, .vars = vars, .from = l->address, .to = rcpt,
		.reply_to = reply_to, .auto_submitted = "auto-generated", .now = now,
	};
	enum store_rc r;

	g_ptr_array_add(rcpt, (char *) to);
	r = moderate_mail(st, cfg, l, &n, envelope, 0, outbox_ids, err);
	g_ptr_array_free(rcpt, TRUE);
	return r;
}

/* wipe_free - clear a string that held a token, then free it */
static void
wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		g_free(s);
	}
}

/* send_invite - give v a token, record its hash, queue the invitation */
static enum store_rc
send_invite(struct store *st, const struct config *cfg, const struct list_config *l,
	    const struct invite *v, const char *sponsors, gint64 now, token_random_fn rnd, void *ud,
	    GArray *outbox_ids, gint64 *expires, GError **err)
{
	char token[TOKEN_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN];
	const char *at = strrchr(l->address, '@');
	char *join, *until, *detail;
	enum store_rc r;

	if (!token_new(token, rnd, ud)) {
		g_set_error(err, MODERATE_ERROR, 1, "no random bytes for the invitation token");
		return STORE_RETRY;
	}
	token_hash(token, hash);
	*expires = now + l->invite_expiry;
	join = g_strdup_printf("%.*s+" TOKEN_PREFIX "%s%s", (int) (at - l->address), l->address,
			       token, at);
	memset(token, 0, sizeof token);
	until = text_time_iso(*expires);
	detail = g_strdup_printf("expires %s", until);
	{
		const struct tvar vars[] = {
			{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
			{ "address", v->address }, { "role", v->role }, { "inviter", v->invited_by },
			{ "sponsors", sponsors }, { "note", v->note }, { "join_address", join },
			{ "expires", until }, { NULL, NULL },
		};

		if ((r = store_invite_sent(st, v->id, now, *expires, hash, sizeof hash, err)) == STORE_OK
		    && (r = mail_one(st, cfg, l, "invitation.txt", vars, v->address, join,
				     l->bounce_address, now, outbox_ids, err)) == STORE_OK)
			r = store_audit_member(st, now, l->address, JOIN_ACTOR, "invite-sent", 0, NULL,
					       v->address, detail, err);
	}
	if (r == STORE_OK)
		log_msg(LOG_INFO, "list=%s action=invite-sent address=%s expires=%s", l->address,
			v->address, until);
	wipe_free(join);
	g_free(until);
	g_free(detail);
	return r;
}

/* ready - count the sponsors of invitation v; send it once there are enough */
static enum store_rc
ready(struct store *st, const struct config *cfg, const struct list_config *l,
      const struct invite *v, gint64 now, token_random_fn rnd, void *ud, GArray *outbox_ids,
      struct invite_outcome *out, GError **err)
{
	GPtrArray *sponsors = NULL;
	enum store_rc r;
	char *names;

	if ((r = store_sponsor_list(st, l->address, v->address, v->id, &sponsors, err)) != STORE_OK)
		return r;
	out->sponsors = sponsors->len;
	out->required = l->vouches_required;
	names = text_join(sponsors, ", ");
	if (strcmp(v->status, "pending") == 0 && policy_invite_ready(sponsors->len, l->vouches_required)) {
		r = send_invite(st, cfg, l, v, names, now, rnd, ud, outbox_ids, &out->expires, err);
		out->sent = r == STORE_OK;
	} else {
		out->expires = v->expires;
	}
	g_free(names);
	g_ptr_array_free(sponsors, TRUE);
	return r;
}

/* sponsor - the member named by --by (else the Unix user), who must be allowed to */
static enum moderate_rc
sponsor(struct store *st, const struct list_config *l, const struct actor *by, const char *role,
	struct member **m, GError **err)
{
	enum moderate_rc rc = moderate_actor(st, l, by->as, "--by", by->login, m, err);
	const char *why;

	if (rc != MODERATE_OK)
		return rc;
	why = role ? policy_may_invite((*m)->role, role) : policy_may_vouch((*m)->role);
	if (why)
		return moderate_refuse(err, "%s has the role %s on %s: %s", (*m)->address, (*m)->role,
				       l->address, why);
	return MODERATE_OK;
}

/* finish - commit when rc is OK, else roll back and forget the mail queued (outbox_ids may be NULL) */
static enum moderate_rc
finish(struct store *st, enum moderate_rc rc, GArray *outbox_ids, guint mark, GError **err)
{
	if (rc == MODERATE_OK)
		rc = moderate_from_store(store_commit(st, err));
	if (rc != MODERATE_OK) {
		store_rollback(st);
		if (outbox_ids)
			g_array_set_size(outbox_ids, mark);	/* those rows do not exist */
	}
	return rc;
}

/* already_vouched - the inviter had vouched for the request: that vouch counts, no error */
static bool
already_vouched(enum store_rc r, GError **err)
{
	if (r != STORE_EXISTS)
		return false;
	g_clear_error(err);
	return true;
}

/* membership_invite - invite address as role, by a moderator or owner */
enum moderate_rc
membership_invite(struct store *st, const struct config *cfg, const struct list_config *l,
		  const char *address, const char *role, const char *note, const struct actor *by,
		  gint64 now, token_random_fn rnd, void *ud, GArray *outbox_ids,
		  struct invite_outcome *out, GError **err)
{
	guint mark = outbox_ids->len;
	struct member *m = NULL;
	struct invite *v = NULL;
	enum moderate_rc rc;
	enum store_rc r;
	const char *why;
	char *detail;
	gint64 id;

	memset(out, 0, sizeof *out);
	if (!policy_role_valid(role))
		return moderate_refuse(err, "unknown role \"%s\": use member, moderator or owner", role);
	if (note && *note && (why = policy_check_reason(note)) != NULL)
		return moderate_refuse(err, "the note %s", why);
	if ((rc = invitee(cfg, address, &out->address, err)) != MODERATE_OK)
		return rc;
	out->role = g_strdup(role);
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		return rc;
	if ((rc = sponsor(st, l, by, role, &m, err)) != MODERATE_OK
	    || (rc = not_member(st, l, out->address, err)) != MODERATE_OK
	    || (rc = moderate_from_store(open_invite(st, l, out->address, now, &v, err))) != MODERATE_OK)
		goto out;
	out->by = g_strdup(m->address);
	if (v) {
		char *since = text_time_iso(v->created);

		rc = moderate_refuse(err, "%s is already invited to %s (by %s, %s, %s): add a sponsor"
				     " with \"vigil vouch %s\"", out->address, l->address, v->invited_by,
				     since, v->status, out->address);
		g_free(since);
		goto out;
	}
	detail = g_strdup_printf("role=%s%s%s", role, note && *note ? " note=" : "", note ? note : "");
	if ((r = store_invite_add(st, l->address, out->address, role, note, m->address, now, &id, err)) == STORE_OK
	    && (r = store_sponsor_attach(st, l->address, out->address, id, err)) == STORE_OK
	    && ((r = store_sponsor_add(st, l->address, out->address, m->address, id, now, err)) == STORE_OK
		|| already_vouched(r, err))
	    && (r = store_audit_member(st, now, l->address, m->address, "invite", 0, NULL, out->address,
				       detail, err)) == STORE_OK
	    && (r = store_invite_open(st, l->address, out->address, &v, err)) == STORE_OK)
		r = ready(st, cfg, l, v, now, rnd, ud, outbox_ids, out, err);
	g_free(detail);
	rc = moderate_from_store(r);
out:
	store_member_free(m);
	store_invite_free(v);
	return finish(st, rc, outbox_ids, mark, err);
}

/* held_from - does addr have a post on l that was held (a membership request, maybe) */
static enum store_rc
held_from(struct store *st, const struct list_config *l, const char *addr, bool *yes, GError **err)
{
	gint64 n = 0;
	enum store_rc r = store_post_count_from(st, l->address, addr, &n, err);

	*yes = n > 0;
	return r;
}

/* membership_vouch - a member sponsors address's invitation or membership request */
enum moderate_rc
membership_vouch(struct store *st, const struct config *cfg, const struct list_config *l,
		 const char *address, const struct actor *by, gint64 now, token_random_fn rnd,
		 void *ud, GArray *outbox_ids, struct invite_outcome *out, GError **err)
{
	guint mark = outbox_ids->len;
	struct member *m = NULL;
	struct invite *v = NULL;
	GPtrArray *request = NULL;
	enum moderate_rc rc;
	enum store_rc r;
	bool asked;

	memset(out, 0, sizeof *out);
	if ((rc = invitee(cfg, address, &out->address, err)) != MODERATE_OK)
		return rc;
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		return rc;
	if ((rc = sponsor(st, l, by, NULL, &m, err)) != MODERATE_OK
	    || (rc = not_member(st, l, out->address, err)) != MODERATE_OK
	    || (rc = moderate_from_store(open_invite(st, l, out->address, now, &v, err))) != MODERATE_OK)
		goto out;
	out->by = g_strdup(m->address);
	if (v == NULL) {
		if ((rc = moderate_from_store(held_from(st, l, out->address, &asked, err))) != MODERATE_OK)
			goto out;
		if (!asked) {
			rc = moderate_refuse(err, "%s has no open invitation to %s and has not asked to join"
					     " (no post of theirs was held): invite them with \"vigil invite\"",
					     out->address, l->address);
			goto out;
		}
	}
	r = store_sponsor_add(st, l->address, out->address, m->address, v ? v->id : 0, now, err);
	if (r == STORE_EXISTS) {
		g_clear_error(err);
		rc = moderate_refuse(err, "%s has already vouched for %s", m->address, out->address);
		goto out;
	}
	if (r == STORE_OK)
		r = store_audit_member(st, now, l->address, m->address, "vouch", 0, NULL, out->address,
				       v ? NULL : "membership request", err);
	if (r == STORE_OK && v) {
		out->role = g_strdup(v->role);
		r = ready(st, cfg, l, v, now, rnd, ud, outbox_ids, out, err);
	} else if (r == STORE_OK) {
		out->request = true;
		out->required = l->vouches_required;
		if ((r = store_sponsor_list(st, l->address, out->address, 0, &request, err)) == STORE_OK)
			out->sponsors = request->len;
	}
	rc = moderate_from_store(r);
out:
	if (request)
		g_ptr_array_free(request, TRUE);
	store_member_free(m);
	store_invite_free(v);
	return finish(st, rc, outbox_ids, mark, err);
}

/*
 * owner_acts - who adds or removes: an owner of the list (--as, else the
 * Unix user), or, while the list has no owner, whoever runs the command
 */
static enum moderate_rc
owner_acts(struct store *st, const struct list_config *l, const struct actor *as,
	   struct member **m, gint64 *owners, char **who, GError **err)
{
	enum moderate_rc rc;

	*m = NULL;
	if ((rc = moderate_from_store(store_member_count(st, l->address, "owner", owners, err)))
	    != MODERATE_OK)
		return rc;
	if (*owners == 0 && as->as == NULL) {
		*who = g_strdup(as->fallback);
		return MODERATE_OK;
	}
	if ((rc = moderate_actor(st, l, as->as, "--as", as->login, m, err)) != MODERATE_OK)
		return rc;
	*who = g_strdup((*m)->address);
	return MODERATE_OK;
}

/* membership_add - an owner adds a member directly */
enum moderate_rc
membership_add(struct store *st, const struct config *cfg, const struct list_config *l,
	       const char *address, const char *role, const char *name, const char *unix_user,
	       const struct actor *as, gint64 now, GError **err)
{
	struct member *m = NULL;
	struct invite *v = NULL;
	char *addr = NULL, *who = NULL, *detail;
	enum moderate_rc rc;
	enum store_rc r;
	const char *why;
	gint64 owners;

	if (!policy_role_valid(role))
		return moderate_refuse(err, "unknown role \"%s\": use member, moderator or owner", role);
	if ((rc = invitee(cfg, address, &addr, err)) != MODERATE_OK)
		return rc;
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		goto done;
	if ((rc = owner_acts(st, l, as, &m, &owners, &who, err)) != MODERATE_OK)
		goto out;
	if (owners > 0 && (why = policy_may_add(m->role)) != NULL) {
		rc = moderate_refuse(err, "%s has the role %s on %s: %s", m->address, m->role, l->address, why);
		goto out;
	}
	if ((rc = not_member(st, l, addr, err)) != MODERATE_OK
	    || (rc = moderate_from_store(open_invite(st, l, addr, now, &v, err))) != MODERATE_OK)
		goto out;
	detail = unix_user ? g_strdup_printf("role=%s unix-user=%s", role, unix_user)
		: g_strdup_printf("role=%s", role);
	r = v ? store_invite_close(st, v->id, "cancelled", now, who, err) : STORE_OK;
	if (r == STORE_OK)
		r = store_member_add(st, l->address, addr, role, name, unix_user, 0, who, now, err);
	if (r == STORE_EXISTS) {	/* not the address: not_member() said so */
		g_clear_error(err);
		rc = moderate_refuse(err, "Unix user %s is already recorded for another member of %s",
				     unix_user, l->address);
	} else {
		if (r == STORE_OK)
			r = store_audit_member(st, now, l->address, who, "member-add", 0, NULL, addr,
					       detail, err);
		rc = moderate_from_store(r);
	}
	g_free(detail);
out:
	rc = finish(st, rc, NULL, 0, err);
done:
	store_member_free(m);
	store_invite_free(v);
	g_free(addr);
	g_free(who);
	return rc;
}

/* membership_remove - an owner removes a member, who is told why */
enum moderate_rc
membership_remove(struct store *st, const struct config *cfg, const struct list_config *l,
		  const char *address, const char *reason, const struct actor *as, gint64 now,
		  GArray *outbox_ids, GError **err)
{
	guint mark = outbox_ids->len;
	struct member *m = NULL, *gone = NULL;
	char *addr, *who = NULL;
	enum moderate_rc rc;
	enum store_rc r;
	const char *why;
	gint64 owners;

	if ((why = policy_check_reason(reason)) != NULL)
		return moderate_refuse(err, "the reason %s", why);
	if ((addr = addr_normalize(address)) == NULL) {
		char *t = text_escape(address);

		rc = moderate_refuse(err, "%s: not a mail address", t);
		g_free(t);
		return rc;
	}
	if ((rc = moderate_from_store(store_begin(st, err))) != MODERATE_OK)
		goto done;
	if ((r = store_member_find(st, l->address, addr, &gone, err)) == STORE_NOTFOUND) {
		rc = moderate_refuse(err, "%s is not a member of %s", addr, l->address);
		goto out;
	}
	if ((rc = moderate_from_store(r)) != MODERATE_OK
	    || (rc = owner_acts(st, l, as, &m, &owners, &who, err)) != MODERATE_OK)
		goto out;
	if (owners > 0 && (why = policy_may_remove(m->role, gone->role, owners)) != NULL) {
		rc = moderate_refuse(err, "%s has the role %s on %s: %s", m->address, m->role, l->address, why);
		goto out;
	}
	{
		const struct tvar vars[] = {
			{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
			{ "address", addr }, { "moderator", who }, { "reason", reason }, { NULL, NULL },
		};

		if ((r = store_member_remove(st, l->address, addr, err)) == STORE_OK
		    && (r = store_audit_member(st, now, l->address, who, "member-remove", 0, NULL, addr,
					       reason, err)) == STORE_OK)
			r = mail_one(st, cfg, l, "member-removed.txt", vars, addr, NULL, "", now,
				     outbox_ids, err);
	}
	rc = moderate_from_store(r);
	if (rc == MODERATE_OK)
		log_msg(LOG_INFO, "list=%s action=member-remove address=%s by=%s", l->address, addr, who);
out:
	rc = finish(st, rc, outbox_ids, mark, err);
done:
	store_member_free(m);
	store_member_free(gone);
	g_free(addr);
	g_free(who);
	return rc;
}

/* find_token - the invitation whose token ext carries ("join-TOKEN"), compared in constant time */
static enum store_rc
find_token(struct store *st, const struct list_config *l, const char *ext, struct invite **v,
	   GError **err)
{
	char token[TOKEN_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN];
	enum store_rc r;
	bool ok = token_parse(ext, token);

	*v = NULL;
	token_hash(ok ? token : "", hash);
	memset(token, 0, sizeof token);
	if (!ok)
		return STORE_OK;
	r = store_invite_by_hash(st, l->address, hash, sizeof hash, v, err);
	if (r == STORE_OK && !((*v)->has_hash && token_equal((*v)->token_hash, hash, sizeof hash))) {
		store_invite_free(*v);
		*v = NULL;
	}
	return r == STORE_NOTFOUND ? STORE_OK : r;
}

/* accept - the invited address becomes a member; it and the moderators are told */
static enum store_rc
accept(struct store *st, const struct config *cfg, const struct list_config *l,
       const struct invite *v, const char *sender, gint64 now, GArray *outbox_ids, GError **err)
{
	GPtrArray *sponsors = NULL, *mods = NULL;
	char *names = NULL, *vigil = moderate_vigil_command(cfg, l);
	char *detail = g_strdup_printf("role=%s accepted by mail from <%s>", v->role, sender ? sender : "");
	enum store_rc r;

	if ((r = store_invite_close(st, v->id, "accepted", now, v->address, err)) != STORE_OK
	    || (r = store_sponsor_list(st, l->address, v->address, v->id, &sponsors, err)) != STORE_OK)
		goto out;
	names = text_join(sponsors, ", ");
	r = store_member_add(st, l->address, v->address, v->role, "", NULL, v->id, "", now, err);
	if (r == STORE_EXISTS) {	/* an owner added them meanwhile: nothing to do */
		g_clear_error(err);
		r = STORE_OK;
		goto out;
	}
	{
		const struct tvar vars[] = {
			{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
			{ "address", v->address }, { "role", v->role }, { "inviter", v->invited_by },
			{ "sponsors", names }, { "vigil", vigil }, { NULL, NULL },
		};

		if (r == STORE_OK)
			r = store_audit_member(st, now, l->address, v->address, "join", 0, NULL, v->address,
					       detail, err);
		if (r == STORE_OK)
			r = mail_one(st, cfg, l, "welcome.txt", vars, v->address, NULL, l->bounce_address,
				     now, outbox_ids, err);
		if (r == STORE_OK && (r = moderate_moderators(st, l, v->address, &mods, err)) == STORE_OK) {
			struct notice n = {
				.template = "moderator-joined.txt", .vars = vars, .from = l->owner, .to = mods,
				.auto_submitted = "auto-generated", .now = now,
			};

			r = moderate_mail(st, cfg, l, &n, l->owner, 0, outbox_ids, err);
		}
	}
out:
	if (sponsors)
		g_ptr_array_free(sponsors, TRUE);
	if (mods)
		g_ptr_array_free(mods, TRUE);
	g_free(names);
	g_free(vigil);
	g_free(detail);
	return r;
}

/* membership_join - a message to LIST+join-TOKEN, inside intake's transaction */
enum store_rc
membership_join(struct store *st, const struct config *cfg, const struct list_config *l,
		const char *ext, const char *sender, const struct post *post, const struct facts *f,
		gint64 now, GArray *outbox_ids, GError **err)
{
	struct invite *v = NULL;
	struct join_verdict jv;
	struct facts g = *f;
	enum store_rc r;
	char *who;

	if ((r = find_token(st, l, ext, &v, err)) != STORE_OK)
		return r;
	if (sender && (r = store_autoreply_last(st, l->address, sender, &g.last_autoreply, err)) != STORE_OK) {
		store_invite_free(v);
		return r;
	}
	jv = policy_join(&g, v ? policy_invite_state(v->status, v->expires, now) : INVITE_NONE);
	who = text_escape(sender ? sender : "<>");
	log_msg(jv.outcome == JOIN_ACCEPT ? LOG_INFO : LOG_NOTICE,
		"list=%s action=join result=%s reason=%s address=%s sender=<%s>", l->address,
		jv.outcome == JOIN_ACCEPT ? "accepted" : jv.outcome == JOIN_IGNORE ? "ignored" : "refused",
		jv.reason, v ? v->address : "(none)", who);
	g_free(who);
	if (jv.outcome == JOIN_ACCEPT) {
		r = accept(st, cfg, l, v, sender, now, outbox_ids, err);
		store_invite_free(v);
		return r;
	}
	r = store_audit_member(st, now, l->address, sender ? sender : "<>",
			       jv.outcome == JOIN_IGNORE ? "join-ignored" : "join-refused", 0, NULL,
			       v ? v->address : NULL, jv.reason, err);
	if (r == STORE_OK && jv.outcome == JOIN_REFUSE && jv.answer && sender) {
		const struct tvar vars[] = {
			{ "list_name", l->name }, { "list_address", l->address }, { "owner", l->owner },
			{ NULL, NULL },
		};
		GPtrArray *rcpt = g_ptr_array_new();
		struct notice n = {
			.template = "join-invalid.txt", .vars = vars, .from = l->address, .to = rcpt,
			.in_reply_to = post->message_id, .auto_submitted = "auto-replied", .now = now,
		};

		g_ptr_array_add(rcpt, (char *) sender);
		if ((r = moderate_mail(st, cfg, l, &n, "", 0, outbox_ids, err)) == STORE_OK)
			r = store_autoreply_mark(st, l->address, sender, now, err);
		g_ptr_array_free(rcpt, TRUE);
	}
	store_invite_free(v);
	return r;
}
