/*
 * queue.h - messages into the outbox
 */
#ifndef VIGIL_QUEUE_H
#define VIGIL_QUEUE_H

#include <glib.h>

#include "store.h"

enum store_rc queue_message(struct store *st, gint64 post_id, const char *kind, const char *sender,
			    const GPtrArray *rcpts, const GByteArray *data, gint64 now,
			    GArray *ids, GError **err);
enum store_rc queue_message_with(struct store *st, gint64 post_id, const char *kind,
				 const char *sender, const GPtrArray *rcpts, gint64 size,
				 store_writer fill, gpointer ud, gint64 now, GArray *ids,
				 GError **err);

#endif
