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

enum store_rc outbox_flush(struct store *st, const struct config *cfg, const GArray *ids,
			   gint64 now, struct flush_stats *stats, GError **err);
enum store_rc outbox_flush_session(struct store *st, const struct config *cfg,
				   struct send_session *ss, const GArray *ids, gint64 now,
				   struct flush_stats *stats, GError **err);

#endif
