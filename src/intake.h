/*
 * intake.h - one incoming message, one transaction
 */
#ifndef VIGIL_INTAKE_H
#define VIGIL_INTAKE_H

#include <glib.h>

#include "config.h"
#include "message.h"
#include "store.h"

/* how long a message taken in is known again: longer than MTAs retry (Postfix: 5 days) */
#define INTAKE_TAKEN_KEEP	(7 * 24 * 3600)

enum intake_rc {
	INTAKE_OK,		/* stored; outgoing mail is in the outbox */
	INTAKE_REJECT,		/* can never be accepted (err says why) */
	INTAKE_TEMPFAIL,	/* nothing stored; try again later (err says why) */
};

/* what the MTA does with a message it goes on delivering (milter) */
struct intake_smtp {
	GPtrArray *drop_rcpts;		/* list recipients, as given: remove them */
	GPtrArray *add_rcpts;		/* members to deliver the original to */
	GPtrArray *edits;		/* header changes (struct header_edit), or NULL */
	const char *sender;		/* envelope sender for the members' copy (the bounce address) */
	bool	 others;		/* recipients that are not lists remain */
	const char *reject;		/* INTAKE_REJECT: policy's reason (loop, too-large) */
};

enum intake_rc intake_message(struct store *st, const struct config *cfg,
			      const char *raw, size_t len, const char *sender,
			      const char *const *rcpts, size_t nrcpts, gint64 now,
			      GArray *outbox_ids, GError **err);
enum intake_rc intake_at_smtp(struct store *st, const struct config *cfg,
			      const char *raw, size_t len, const char *sender,
			      const char *const *rcpts, size_t nrcpts, gint64 now,
			      GArray *outbox_ids, struct intake_smtp *out, GError **err);
void intake_smtp_clear(struct intake_smtp *out);
/* one post to relay to the members */
struct relay_job {
	const struct list_config *list;
	const char *sender;		/* the post's envelope sender, canonical, NULL for <> */
	const struct post *post;
	const void *raw;
	size_t	len;
	gint64	post_id;
	const char *thread;		/* the report whose thread it is in, or NULL */
	const char *message_id;		/* given to the post, which has none, or NULL */
	int	author_policy;		/* enum dmarc_policy of the From domain */
	gint64	now;
	GPtrArray *archived;		/* files written to the list's archive (archive_add()), or NULL */
};

int intake_author_policy(const struct config *cfg, const struct list_config *l,
			 const struct post *post);
enum store_rc intake_relay(struct store *st, const struct relay_job *rj, GArray *outbox_ids,
			   guint *nrcpts, GError **err);

#endif
