/*
 * NAME
 *	sender - the outbox sent by threads of a resident process
 * SYNOPSIS
 *	#include "sender.h"
 *
 *	struct sender *sender_start(const struct config *cfg, int threads);
 *	void sender_wake(struct sender *s);
 *	void sender_stop(struct sender *s);
 * DESCRIPTION
 *	vigil-sender -t runs these threads for vigild and vigil-milter,
 *	which queue outgoing mail in the outbox as they take messages in and
 *	wake it once the transaction is committed (sendproc.c); each wake
 *	is a sender_wake().  sender_start() starts threads sending
 *	threads; each has its own database connection, opened when first
 *	needed and again after a failure, and its own connection to the
 *	relay (a send_session), kept from one message to the next and
 *	closed after 2 s unused, as Postfix's smtp(8) caches its own
 *	(smtp_connection_cache_time_limit): a kept connection holds one of
 *	the re-injection listener's smtpd processes, which Postfix's
 *	master.cf limits (10 in filters/postfix/master.cf).  A wake
 *	gets an idle thread to send everything that is due
 *	(outbox_flush_session()); wakes that come while it is busy get
 *	another one going, so that a burst is sent by several threads at
 *	once, each claiming its own rows.  Every thread also looks once a
 *	minute for what the relay deferred.
 *
 *	sender_stop() ends the threads once they have finished what they
 *	are sending, and frees s.
 *
 *	cfg is borrowed and must outlive s.  send_init() and message_init()
 *	must have been called before.
 * DIAGNOSTICS
 *	Database failures are logged; the rows stay in the outbox for the
 *	next wake.
 */
#include "sender.h"

#include <stdbool.h>
#include <time.h>

#include "log.h"
#include "outbox.h"
#include "send.h"
#include "store.h"

#define SENDER_PERIOD	60	/* seconds between looks for what was deferred */
#define SENDER_IDLE	2	/* seconds a connection to the relay is kept unused */

struct sender {
	const struct config *cfg;
	GPtrArray *threads;
	GMutex	lock;
	GCond	cond;
	int	wakes;		/* wakes not yet taken by a thread */
	bool	stopping;
};

/*
 * wait_for_work - sleep until woken, secs have passed or we stop; false to
 * stop.  *woken: a wake was taken
 */
static bool
wait_for_work(struct sender *s, int secs, bool *woken)
{
	gint64 until = g_get_monotonic_time() + secs * G_TIME_SPAN_SECOND;
	bool go;

	g_mutex_lock(&s->lock);
	while (s->wakes == 0 && !s->stopping && g_cond_wait_until(&s->cond, &s->lock, until))
		;
	*woken = s->wakes > 0;
	if (s->wakes > 0)
		s->wakes = 0;	/* one flush sends everything queued so far */
	go = !s->stopping;
	g_mutex_unlock(&s->lock);
	return go;
}

/* run - one sending thread */
static gpointer
run(gpointer ud)
{
	struct sender *s = ud;
	struct send_session *ss = send_session_new();
	struct store *st = NULL;
	GError *err = NULL;
	bool woken;

	while (wait_for_work(s, send_session_open(ss) ? SENDER_IDLE : SENDER_PERIOD, &woken)) {
		struct flush_stats stats;

		if (!woken && send_session_open(ss)) {
			send_session_close(ss);		/* idle: give the relay its smtpd back */
			continue;
		}

		if (st == NULL && store_open_rw(s->cfg->database, &st, &err) != STORE_OK) {
			log_msg(LOG_WARNING, "outbox: %s", err->message);
			g_clear_error(&err);
			continue;
		}
		if (outbox_flush_session(st, s->cfg, ss, NULL, (gint64) time(NULL), &stats, &err)
		    != STORE_OK) {
			log_msg(LOG_WARNING, "outbox: %s", err->message);
			g_clear_error(&err);
			store_close(st);	/* open it anew next time */
			st = NULL;
		}
	}
	store_close(st);
	send_session_free(ss);
	return NULL;
}

/* sender_start - threads sending threads, waiting for a wake */
struct sender *
sender_start(const struct config *cfg, int threads)
{
	struct sender *s = g_new0(struct sender, 1);
	int i;

	s->cfg = cfg;
	g_mutex_init(&s->lock);
	g_cond_init(&s->cond);
	s->threads = g_ptr_array_new();
	s->wakes = 1;		/* what a previous run left in the outbox */
	for (i = 0; i < threads; i++)
		g_ptr_array_add(s->threads, g_thread_new("sender", run, s));
	return s;
}

/* sender_wake - rows were queued: get a thread sending */
void
sender_wake(struct sender *s)
{
	g_mutex_lock(&s->lock);
	s->wakes++;
	g_cond_signal(&s->cond);
	g_mutex_unlock(&s->lock);
}

/* sender_stop - end the threads after what they are sending; frees s */
void
sender_stop(struct sender *s)
{
	guint i;

	g_mutex_lock(&s->lock);
	s->stopping = true;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
	for (i = 0; i < s->threads->len; i++)
		g_thread_join(g_ptr_array_index(s->threads, i));
	g_ptr_array_free(s->threads, TRUE);
	g_mutex_clear(&s->lock);
	g_cond_clear(&s->cond);
	g_free(s);
}
