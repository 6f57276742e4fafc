/*
 * NAME
 *	outbox - send what the outbox holds
 * SYNOPSIS
 *	#include "outbox.h"
 *
 *	enum store_rc outbox_queue(st, post_id, kind, sender, rcpts, data, now, ids, err);
 *	enum store_rc outbox_flush(st, cfg, ids, now, &stats, err);
 * DESCRIPTION
 *	outbox_queue() adds a message to the outbox inside the caller's
 *	transaction and appends the new row's id to ids, for the caller
 *	to flush once the transaction is committed.
 *
 *	outbox_flush() sends the outbox rows named in ids, or every row
 *	no other process is sending when ids is NULL, to the configured
 *	relay.  A row is
 *	claimed first, so two processes never send it at once, and leaves
 *	the outbox only when the relay has accepted it.  One transaction
 *	names at most OUTBOX_RCPT_MAX recipients (Postfix's default
 *	smtpd_recipient_limit; past it, 452 replies count as errors and
 *	Postfix drops the session before DATA).  Recipients refused with
 *	4xx stay in the row; while each transaction makes progress the rest
 *	is sent at once in a further one, otherwise the row waits for the
 *	next flush.  Recipients refused with 5xx are dropped
 *	and logged.  A message the relay refuses as a whole stays in the
 *	outbox: nothing is ever thrown away here.
 *
 *	The return value is about the database only; what could not be
 *	sent is counted in stats and logged.
 */
#include "outbox.h"

#include "log.h"
#include "send.h"

#define LEASE	600		/* seconds a claim lasts: longer than any SMTP transaction */

/* log_failed - one line per recipient refused for good */
static void
log_failed(const struct outbox_item *it, const GPtrArray *failed)
{
	guint i;

	for (i = 0; i < failed->len; i++)
		log_msg(LOG_WARNING, "outbox=%" G_GINT64_FORMAT " kind=%s to=<%s> status=refused"
			" (5xx from the relay; recipient dropped)", it->id, it->kind,
			(char *) g_ptr_array_index(failed, i));
}

/* outbox_queue - add an outgoing message; its id is appended to ids */
enum store_rc
outbox_queue(struct store *st, gint64 post_id, const char *kind, const char *sender,
	     const GPtrArray *rcpts, const GByteArray *data, gint64 now, GArray *ids, GError **err)
{
	gint64 id;
	enum store_rc r = store_outbox_add(st, post_id, kind, sender, rcpts, data, now, &id, err);

	if (r == STORE_OK)
		g_array_append_val(ids, id);
	return r;
}

/* at most this many RCPT TO per transaction */
#define OUTBOX_RCPT_MAX 1000

/* batch_of - the first OUTBOX_RCPT_MAX recipients, borrowed */
static GPtrArray *
batch_of(const GPtrArray *rcpts)
{
	guint i, n = MIN(rcpts->len, OUTBOX_RCPT_MAX);
	GPtrArray *b = g_ptr_array_sized_new(n);

	for (i = 0; i < n; i++)
		g_ptr_array_add(b, g_ptr_array_index(rcpts, i));
	return b;
}

/* left_after - copies of a batch's deferred recipients and of those after the batch */
static GPtrArray *
left_after(const GPtrArray *deferred, const GPtrArray *rcpts, guint sent)
{
	GPtrArray *left = g_ptr_array_new_with_free_func(g_free);
	guint i;

	for (i = 0; i < deferred->len; i++)
		g_ptr_array_add(left, g_strdup(g_ptr_array_index(deferred, i)));
	for (i = sent; i < rcpts->len; i++)
		g_ptr_array_add(left, g_strdup(g_ptr_array_index(rcpts, i)));
	return left;
}

/* flush_one - send one claimed row, batch after batch, until done or stuck */
static enum store_rc
flush_one(struct store *st, const struct config *cfg, struct outbox_item *it,
	  gint64 now, struct flush_stats *stats, GError **err)
{
	GPtrArray *rcpts = g_ptr_array_ref(it->rcpts);
	enum store_rc r = STORE_OK;

	for (;;) {
		struct send_result res;
		GPtrArray *batch = batch_of(rcpts);
		GPtrArray *left = NULL;
		enum send_rc rc = send_smtp(cfg->relay, it->sender, batch, it->data, &res);

		if (rc == SEND_DONE) {
			log_failed(it, res.failed);
			stats->dropped += res.failed->len;
			if (res.accepted->len > 0)
				log_msg(LOG_INFO, "outbox=%" G_GINT64_FORMAT " kind=%s rcpts=%u status=sent",
					it->id, it->kind, res.accepted->len);
			left = left_after(res.deferred, rcpts, batch->len);
		}
		g_ptr_array_free(batch, TRUE);
		if (left && left->len == 0) {
			r = store_outbox_done(st, it->id, err);
			if (r == STORE_OK && strcmp(it->kind, "invitation") == 0)
				store_forget(st);	/* its token leaves the WAL too */
			stats->sent++;
			g_ptr_array_unref(left);
			send_result_clear(&res);
			break;
		}
		if (left && res.accepted->len + res.failed->len > 0) {
			/* progress: send the rest now, in a new transaction */
			g_ptr_array_unref(rcpts);
			rcpts = left;
			r = store_outbox_retry(st, it->id, rcpts, "partly sent", FALSE, err);
			send_result_clear(&res);
			if (r != STORE_OK)
				break;
			continue;
		}
		log_msg(rc == SEND_REFUSED ? LOG_ERR : LOG_WARNING,
			"outbox=%" G_GINT64_FORMAT " kind=%s status=deferred attempts=%" G_GINT64_FORMAT
			" error=%s", it->id, it->kind, it->attempts,
			res.error ? res.error : "recipients deferred");
		r = store_outbox_retry(st, it->id, left ? left : rcpts, res.error, TRUE, err);
		stats->left++;
		if (left)
			g_ptr_array_unref(left);
		send_result_clear(&res);
		break;
	}
	g_ptr_array_unref(rcpts);
	return r;
}

/* outbox_flush - send the given rows, or all that are due */
enum store_rc
outbox_flush(struct store *st, const struct config *cfg, const GArray *ids,
	     gint64 now, struct flush_stats *stats, GError **err)
{
	GArray *due = NULL;
	enum store_rc r = STORE_OK;
	guint i;

	stats->sent = stats->left = stats->dropped = 0;
	if (ids == NULL) {
		if ((r = store_outbox_pending(st, now, &due, err)) != STORE_OK)
			return r;
		ids = due;
	}
	for (i = 0; r == STORE_OK && i < ids->len; i++) {
		struct outbox_item *it = NULL;

		r = store_outbox_claim(st, g_array_index(ids, gint64, i), now, LEASE, &it, err);
		if (r == STORE_NOTFOUND) {	/* sent meanwhile, or another process has it */
			r = STORE_OK;
			continue;
		}
		if (r == STORE_OK)
			r = flush_one(st, cfg, it, now, stats, err);
		store_outbox_item_free(it);
	}
	if (due)
		g_array_free(due, TRUE);
	return r;
}
