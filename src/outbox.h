/*
 * outbox.h - send what the outbox holds
 */
#ifndef VIGIL_OUTBOX_H
#define VIGIL_OUTBOX_H

#include <glib.h>

#include "config.h"
#include "send.h"
#include "store.h"

struct flush_stats {
	int	sent;		/* rows the relay accepted in full */
	int	left;		/* rows kept for a later attempt */
	int	dropped;	/* recipients refused permanently */
};

enum store_rc outbox_queue(struct store *st, gint64 post_id, const char *kind, const char *sender,
			   const GPtrArray *rcpts, const GByteArray *data, gint64 now,
			   GArray *ids, GError **err);
enum store_rc outbox_queue_with(struct store *st, gint64 post_id, const char *kind,
				const char *sender, const GPtrArray *rcpts, gint64 size,
				store_writer fill, gpointer ud, gint64 now, GArray *ids, GError **err);
enum store_rc outbox_flush(struct store *st, const struct config *cfg, const GArray *ids,
			   gint64 now, struct flush_stats *stats, GError **err);
enum store_rc outbox_flush_session(struct store *st, const struct config *cfg,
				   struct send_session *ss, const GArray *ids, gint64 now,
				   struct flush_stats *stats, GError **err);

#endif
