/*
 * membership.h - invitations, sponsors, joining, adding and removing members
 */
#ifndef VIGIL_MEMBERSHIP_H
#define VIGIL_MEMBERSHIP_H

#include <stdbool.h>
#include <glib.h>

#include "config.h"
#include "message.h"
#include "moderate.h"
#include "policy.h"
#include "store.h"
#include "token.h"

/* what invite or vouch did */
struct invite_outcome {
	char   *address;	/* the invitee, canonical */
	char   *by;		/* the sponsor who acted */
	char   *role;		/* the role the invitee gets */
	guint	sponsors;	/* sponsors so far */
	gint64	required;	/* vouches_required */
	bool	request;	/* a vouch for a membership request: no invitation yet */
	bool	sent;		/* the invitation went out now */
	gint64	expires;	/* when a sent invitation expires */
};

/* who acts on the command line: --as/--by, else the Unix user */
struct actor {
	const char *as;		/* the address typed, or NULL */
	const char *login;	/* the Unix user, or NULL */
	const char *fallback;	/* recorded when the list has no owner yet ("unix:LOGIN") */
};

enum moderate_rc membership_invite(struct store *st, const struct config *cfg,
				   const struct list_config *l, const char *address,
				   const char *role, const char *note, const struct actor *by,
				   gint64 now, token_random_fn rnd, void *ud, GArray *outbox_ids,
				   struct invite_outcome *out, GError **err);
enum moderate_rc membership_vouch(struct store *st, const struct config *cfg,
				  const struct list_config *l, const char *address,
				  const struct actor *by, gint64 now, token_random_fn rnd, void *ud,
				  GArray *outbox_ids, struct invite_outcome *out, GError **err);
void membership_outcome_clear(struct invite_outcome *o);
enum moderate_rc membership_add(struct store *st, const struct config *cfg,
				const struct list_config *l, const char *address, const char *role,
				const char *name, const char *unix_user, const struct actor *as,
				gint64 now, GError **err);
enum moderate_rc membership_remove(struct store *st, const struct config *cfg,
				   const struct list_config *l, const char *address,
				   const char *reason, const struct actor *as, gint64 now,
				   GArray *outbox_ids, GError **err);
enum store_rc membership_join(struct store *st, const struct config *cfg,
			      const struct list_config *l, const char *ext, const char *sender,
			      const struct post *post, const struct facts *f, gint64 now,
			      GArray *outbox_ids, GError **err);

#endif
