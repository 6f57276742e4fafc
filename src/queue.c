/*
 * NAME
 *	queue - messages into the outbox
 * SYNOPSIS
 *	#include "queue.h"
 *
 *	enum store_rc queue_message(st, post_id, kind, sender, rcpts, data, now, ids, err);
 *	enum store_rc queue_message_with(st, post_id, kind, sender, rcpts, size, fill, ud,
 *					 now, ids, err);
 * DESCRIPTION
 *	queue_message() adds a message to the outbox inside the caller's
 *	transaction and appends the new row's id to ids, for the caller
 *	to have sent (outbox.c, sendproc.c) once the transaction is
 *	committed.  queue_message_with() does the same for a message of
 *	size bytes that fill writes in pieces (store_blob_write()), never
 *	whole in memory.
 *
 *	Apart from the sending, so that vigil-intake, which only queues,
 *	is linked without libcurl: loading it and the libraries it needs
 *	would be most of the start-up of a process run for each message.
 */
#include "queue.h"

/* queue_message - add an outgoing message; its id is appended to ids */
enum store_rc
queue_message(struct store *st, gint64 post_id, const char *kind, const char *sender,
	      const GPtrArray *rcpts, const GByteArray *data, gint64 now, GArray *ids, GError **err)
{
	gint64 id;
	enum store_rc r = store_outbox_add(st, post_id, kind, sender, rcpts, data, now, &id, err);

	if (r == STORE_OK)
		g_array_append_val(ids, id);
	return r;
}

/* queue_message_with - add an outgoing message that fill writes; its id is appended to ids */
enum store_rc
queue_message_with(struct store *st, gint64 post_id, const char *kind, const char *sender,
		   const GPtrArray *rcpts, gint64 size, store_writer fill, gpointer ud, gint64 now,
		   GArray *ids, GError **err)
{
	gint64 id;
	enum store_rc r = store_outbox_add_with(st, post_id, kind, sender, rcpts, size, fill, ud,
						now, &id, err);

	if (r == STORE_OK)
		g_array_append_val(ids, id);
	return r;
}
