/*
 * moderate.h - held posts: decisions, notices, reminders, expiry
 */
#ifndef VIGIL_MODERATE_H
#define VIGIL_MODERATE_H

#include <glib.h>

#include "compose.h"
#include "config.h"
#include "message.h"
#include "policy.h"
#include "store.h"

enum moderate_rc {
	MODERATE_OK,
	MODERATE_REFUSED,	/* nothing changed; err says why */
	MODERATE_TEMPFAIL,	/* nothing changed; the store was busy: try again */
};

#define MODERATE_ERROR moderate_error_quark()
GQuark moderate_error_quark(void);

/* what a decision did */
struct decision {
	struct post_row *post;	/* the post, as it was before */
	char   *moderator;	/* who decided */
	guint	members;	/* approve: members the post goes to */
	bool	sender_told;	/* reject, expire: a notice goes to the sender */
	guint	moderators_told;	/* moderators the decision note goes to */
	GPtrArray *archived;	/* approve: the file written to the list's archive */
};

enum moderate_rc moderate_refuse(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
enum moderate_rc moderate_from_store(enum store_rc r);
enum moderate_rc moderate_actor(struct store *st, const struct list_config *l, const char *as,
				const char *option, const char *login, struct member **out,
				GError **err);
enum store_rc moderate_moderators(struct store *st, const struct list_config *l, const char *except,
				  GPtrArray **out, GError **err);
enum store_rc moderate_mail(struct store *st, const struct config *cfg, const struct list_config *l,
			    const struct notice *n, const char *envelope, gint64 post_id,
			    GArray *outbox_ids, GError **err);
char *moderate_vigil_command(const struct config *cfg, const struct list_config *l);
enum moderate_rc moderate_find(struct store *st, const struct list_config *l, const char *key,
			       struct post_row **out, GError **err);
enum moderate_rc moderate_decide(struct store *st, const struct config *cfg,
				 const struct list_config *l, const char *key, enum post_state to,
				 const char *as, const char *login, const char *comment,
				 gint64 now, GArray *outbox_ids, struct decision *d, GError **err);
void moderate_decision_clear(struct decision *d);
enum moderate_rc moderate_report(struct store *st, const struct list_config *l, const char *key,
				 char **report_id, GError **err);
enum moderate_rc moderate_report_cc(struct store *st, const struct list_config *l, const char *key,
				    bool add, const char *address, const char *as, const char *login,
				    gint64 now, char **report_id, GError **err);
enum store_rc moderate_notify_held(struct store *st, const struct config *cfg,
				   const struct list_config *l, gint64 post_id, const char *report_id,
				   const char *reason, const char *sender, const struct post *post,
				   size_t size, gint64 now, GArray *outbox_ids, GError **err);

struct maintain_stats {
	guint	reminded;	/* posts in the digest */
	guint	expired;
};

enum moderate_rc moderate_maintain(struct store *st, const struct config *cfg,
				   const struct list_config *l, gint64 now,
				   struct maintain_stats *stats, GArray *outbox_ids, GError **err);

#endif
