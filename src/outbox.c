/*
 * NAME
 *	outbox - send what the outbox holds
 * SYNOPSIS
 *	#include "outbox.h"
 *
 *	enum store_rc outbox_flush(st, cfg, ids, now, &stats, err);
 *	enum store_rc outbox_flush_session(st, cfg, session, ids, now, &stats, err);
 * DESCRIPTION
 *	Messages go into the outbox with queue_message() (queue.c).
 *
 *	outbox_flush() sends the outbox rows named in ids, or every row
 *	no other process is sending when ids is NULL, to the configured
 *	relay, over one connection (outbox_flush_session() over the
 *	session's, kept for the next call).  Rows are
 *	claimed first, so two processes never send one at once, and one
 *	leaves the outbox only when the relay has accepted it.  Its bytes
 *	are read from the database as they are sent.  One transaction
 *	names at most OUTBOX_RCPT_MAX recipients (Postfix's default
 *	smtpd_recipient_limit; past it, 452 replies count as errors and
 *	Postfix drops the session before DATA).  Recipients refused with
 *	4xx stay in the row; while each transaction makes progress the rest
 *	is sent at once in a further one, otherwise the row waits for the
 *	next flush.  Recipients refused with 5xx are dropped
 *	and logged.  A message the relay refuses as a whole stays in the
 *	outbox: nothing is ever thrown away here.
 *
 *	A claim names the flush that made it: the process (its boot, pid
 *	and start time) and the flush's number in it.  A flush of
 *	everything due first ends the claims of processes that are gone - a
 *	sender killed in the middle of its work - and those of this
 *	process's flushes that have ended, so that their rows are sent now
 *	rather than when the lease runs out.  A flush that a database
 *	failure stops gives back the rows it still holds, unless rows it
 *	sent could not be marked done: the next flush applies its note
 *	(below), then ends its claims.
 *
 *	The moment the relay has accepted a row, the row's id is written to
 *	a file of the flush's own next to the database, DATABASE-sent-PID-
 *	START-N (the claimant's line first), which takes no lock.  Once the
 *	last row of a claim is sent, the rows the relay took leave the
 *	outbox together, in one transaction, tried again for DONE_PATIENCE
 *	seconds while the database is busy or full.  The file goes when
 *	every row in it is marked.  A flush of everything due first applies
 *	the files of flushes that are over: the rows they name leave the
 *	outbox, not to be sent again, before the claims of those flushes
 *	are released.  So a process that dies sends nothing again but a row
 *	whose end was on the wire and whose acceptance it had not yet noted:
 *	a window as long as the relay's processing of one message (from the
 *	final dot to its 250), which cannot be closed from this side of an
 *	SMTP connection.
 *
 *	Claims, done marks and notes are committed without waiting for the
 *	disk (store_set_durable()): a machine that crashes may forget that a
 *	row was sent and send it again, but the row itself was synced when
 *	it was queued, so nothing is lost.  With ids NULL, rows are claimed
 *	in batches of OUTBOX_BATCH, one transaction a batch, in the order
 *	they were queued; a row deferred during the flush waits for the next
 *	one.
 *
 *	The return value is about the database only; what could not be
 *	sent is counted in stats and logged.
 */
#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "send.h"
#include "text.h"

#define LEASE	600		/* seconds a claim lasts: longer than any SMTP transaction */
#define DONE_PATIENCE 120	/* seconds a failing done mark or release is tried again */

/*
 * the flushes of this process under way, by claimant: a claim of this
 * process that names none of them was left by a flush that has ended
 */
static GMutex flushes_lock;
static GHashTable *flushes;
static guint64 flushes_made;

/* boot_id - this boot of the machine (newly allocated), or NULL */
static char *
boot_id(void)
{
	char *s = NULL;

	if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &s, NULL, NULL))
		return NULL;
	return g_strstrip(s);
}

/*
 * start_time - when process pid started, in clock ticks since boot; 0 if
 * it is gone (a zombie too: killed, not yet reaped)
 */
static guint64
start_time(long pid)
{
	char path[64], *stat = NULL, *p;
	guint64 t = 0;
	int field;

	g_snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return 0;
	/* after the command's closing parenthesis: state is field 3, starttime 22 */
	if ((p = strrchr(stat, ')')) != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X') {
		for (field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			t = g_ascii_strtoull(p + 1, NULL, 10);
	}
	g_free(stat);
	return t;
}

/* this process as its claims name it: its boot and start time, read once a process */
struct self {
	long	 pid;
	char	*boot;		/* NULL when /proc cannot tell */
	guint64	 start;
};

/* self - this process's boot and start time (a child after fork() reads its own) */
static const struct self *
self(void)
{
	static GMutex lock;
	static struct self me;
	long pid = (long) getpid();

	g_mutex_lock(&lock);
	if (me.pid != pid) {
		g_free(me.boot);
		me.pid = pid;
		me.boot = boot_id();
		me.start = start_time(pid);
	}
	g_mutex_unlock(&lock);
	return &me;
}

/*
 * claimant_new - a new flush of this process as its claims name it,
 * "BOOT PID START N", under way until claimant_end(); NULL when /proc
 * cannot tell (the lease alone ends such a claim)
 */
static char *
claimant_new(void)
{
	const struct self *s = self();
	char *me = NULL;

	if (s->boot && s->start) {
		g_mutex_lock(&flushes_lock);
		if (flushes == NULL)
			flushes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		me = g_strdup_printf("%s %ld %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, s->boot,
				     s->pid, s->start, ++flushes_made);
		g_hash_table_add(flushes, g_strdup(me));
		g_mutex_unlock(&flushes_lock);
	}
	return me;
}

/* claimant_end - the flush is over; frees me */
static void
claimant_end(char *me)
{
	if (me) {
		g_mutex_lock(&flushes_lock);
		g_hash_table_remove(flushes, me);
		g_mutex_unlock(&flushes_lock);
	}
	g_free(me);
}

/*
 * claimant_gone - the flush a claim names is over: its process ran before
 * this boot (sqlite's WAL keeps a database to the processes of one
 * machine), or its pid is free or another process's, or it is this
 * process and the flush has ended
 */
static bool
claimant_gone(const char *by)
{
	const struct self *s = self();
	char **f = g_strsplit(by, " ", -1);
	bool gone = false;

	if (s->boot && g_strv_length(f) >= 3) {
		long pid = strtol(f[1], NULL, 10);
		guint64 start = g_ascii_strtoull(f[2], NULL, 10);

		if (strcmp(f[0], s->boot) != 0 || pid <= 0) {
			gone = true;
		} else if (pid == s->pid && start == s->start) {
			g_mutex_lock(&flushes_lock);
			gone = flushes == NULL || !g_hash_table_contains(flushes, by);
			g_mutex_unlock(&flushes_lock);
		} else {
			gone = start_time(pid) != start;
		}
	}
	g_strfreev(f);
	return gone;
}

/* a flush's note of the rows the relay took, until they are marked done */
struct sent_note {
	char	*path;		/* DATABASE-sent-PID-START-N; NULL: none (no claimant) */
	const char *by;		/* the flush's claimant */
	int	 fd;		/* -1 until the first row */
	GArray	*taken;		/* rows the relay took, to be marked done (gint64) */
	bool	 unmarked;	/* rows in it could not be marked done: keep it */
};

/* note_init - the note of the flush by (NULL: no note) */
static void
note_init(struct sent_note *n, const char *database, const char *by)
{
	const char *sp = by ? strchr(by, ' ') : NULL;

	n->path = sp ? g_strdup_printf("%s-sent-%s", database, sp + 1) : NULL;
	if (n->path)
		g_strdelimit(n->path + strlen(database), " ", '-');
	n->by = by;
	n->fd = -1;
	n->taken = g_array_new(FALSE, FALSE, sizeof(gint64));
	n->unmarked = false;
}

/* note_write - all of s to the note; false when it cannot be */
static bool
note_write(struct sent_note *n, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t k = write(n->fd, s, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		s += k;
		len -= (size_t) k;
	}
	return true;
}

/*
 * note_sent - the relay took row id: say so at once in the note, which
 * waits for no lock; a note that cannot be written is logged, and the
 * database's done mark alone counts
 */
static void
note_sent(struct sent_note *n, gint64 id)
{
	char line[32];

	g_array_append_val(n->taken, id);
	if (n->path == NULL)
		return;
	if (n->fd < 0) {
		char *head = g_strconcat(n->by, "\n", NULL);
		bool ok;

		n->fd = open(n->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		ok = n->fd >= 0 && note_write(n, head);
		g_free(head);
		if (!ok) {
			log_msg(LOG_WARNING, "outbox: %s: %s", n->path, g_strerror(errno));
			if (n->fd >= 0) {
				close(n->fd);
				unlink(n->path);
			}
			g_clear_pointer(&n->path, g_free);
			n->fd = -1;
			return;
		}
	}
	g_snprintf(line, sizeof line, "%" G_GINT64_FORMAT "\n", id);
	if (!note_write(n, line))
		log_msg(LOG_WARNING, "outbox: %s: %s", n->path, g_strerror(errno));
}

/* note_end - the flush ends: its note goes, unless a row in it is still to be marked */
static void
note_end(struct sent_note *n)
{
	if (n->fd >= 0) {
		close(n->fd);
		if (!n->unmarked)
			unlink(n->path);
	}
	g_array_free(n->taken, TRUE);
	g_free(n->path);
}

/* apply_note - the rows of one note of a flush that is over (lines[0]: its claimant) */
static enum store_rc
apply_note(struct store *st, char **lines, GError **err)
{
	enum store_rc r = STORE_OK;
	gint64 done = 0, n;
	guint i;

	for (i = 1; r == STORE_OK && lines[i]; i++) {
		if (*lines[i] == '\0')
			continue;
		r = store_outbox_done_by(st, g_ascii_strtoll(lines[i], NULL, 10), lines[0], &n, err);
		done += r == STORE_OK ? n : 0;
	}
	if (done > 0)
		log_msg(LOG_NOTICE, "outbox: %" G_GINT64_FORMAT " row(s) the relay took from process %s"
			" (flush, start time), which could not mark them: not sent again", done,
			strchr(lines[0], ' ') ? strchr(lines[0], ' ') + 1 : lines[0]);
	return r;
}

/*
 * apply_notes - the notes of flushes that are over: the rows they name
 * that their flush still holds leave the outbox (the relay has them); a
 * note is removed once applied
 */
static enum store_rc
apply_notes(struct store *st, const char *database, GError **err)
{
	char *dir = g_path_get_dirname(database), *base = g_path_get_basename(database);
	char *prefix = g_strconcat(base, "-sent-", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	enum store_rc r = STORE_OK;

	while (r == STORE_OK && d && (name = g_dir_read_name(d)) != NULL) {
		char *path, *text = NULL, **lines = NULL;

		if (!g_str_has_prefix(name, prefix))
			continue;
		path = g_build_filename(dir, name, NULL);
		if (g_file_get_contents(path, &text, NULL, NULL))
			lines = g_strsplit(text, "\n", -1);
		if (lines && lines[0] && claimant_gone(lines[0])
		    && (r = apply_note(st, lines, err)) == STORE_OK)
			unlink(path);
		g_strfreev(lines);
		g_free(text);
		g_free(path);
	}
	if (d)
		g_dir_close(d);
	g_free(prefix);
	g_free(base);
	g_free(dir);
	return r;
}

/*
 * release_gone - end the claims of processes that are gone, once their
 * notes of what the relay took are applied
 */
static enum store_rc
release_gone(struct store *st, const char *database, gint64 now, GError **err)
{
	GPtrArray *by = NULL;
	bool known = self()->boot != NULL;	/* /proc can tell who is gone */
	enum store_rc r = STORE_OK;
	guint i;

	if (known)
		r = apply_notes(st, database, err);
	if (r == STORE_OK)
		r = store_outbox_claimants(st, now, &by, err);
	for (i = 0; r == STORE_OK && known && i < by->len; i++) {
		const char *c = g_ptr_array_index(by, i);
		gint64 n = 0;

		if (!claimant_gone(c))
			continue;
		if ((r = store_outbox_release(st, c, now, &n, err)) == STORE_OK && n > 0)
			log_msg(LOG_NOTICE, "outbox: %" G_GINT64_FORMAT " row(s) claimed by process %s"
				" (flush, start time), which is over, released", n, strchr(c, ' ') + 1);
	}
	if (by)
		g_ptr_array_free(by, TRUE);
	return r;
}

/* ids_text - row ids as "1,2,3", for the log */
static char *
ids_text(const GArray *ids)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < ids->len; i++)
		g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i ? "," : "", g_array_index(ids, gint64, i));
	return g_string_free(s, FALSE);
}

/*
 * mark_done - the rows the relay took since the last mark leave the
 * outbox, in one transaction; while the database is busy or full this
 * is tried again for a while.  Rows that cannot be marked stay in the
 * note, which is kept: the flush after this one's end applies it.
 */
static enum store_rc
mark_done(struct store *st, struct sent_note *n, GError **err)
{
	gint64 until = g_get_monotonic_time() + DONE_PATIENCE * G_TIME_SPAN_SECOND;
	GError *e = NULL;
	enum store_rc r = STORE_OK;
	char *ids;

	if (n->taken->len == 0)
		return STORE_OK;
	while ((r = store_outbox_done(st, n->taken, &e)) == STORE_RETRY
	       && g_get_monotonic_time() < until) {
		ids = ids_text(n->taken);
		log_msg(LOG_WARNING, "outbox=%s sent, not yet marked so: %s", ids, e->message);
		g_free(ids);
		g_clear_error(&e);
		g_usleep(G_USEC_PER_SEC / 2);
	}
	if (r != STORE_OK) {
		ids = ids_text(n->taken);
		log_msg(LOG_ERR, "outbox=%s sent, but still in the outbox%s: %s", ids,
			n->fd >= 0 ? " (the note of the flush marks them later)" : " and will be sent again",
			e->message);
		g_free(ids);
		n->unmarked = true;
		g_propagate_error(err, e);
	}
	g_array_set_size(n->taken, 0);
	return r;
}

/*
 * give_back - after a database failure, the rows a flush still holds are
 * due again; tried for a while: a process that goes on living keeps its
 * claims otherwise until it flushes again, or for the lease.  A flush
 * whose note keeps rows that could not be marked done gives nothing back:
 * the next flush applies the note, then ends its claims (release_gone()).
 */
static void
give_back(struct store *st, const char *me, gint64 now)
{
	gint64 until = g_get_monotonic_time() + DONE_PATIENCE * G_TIME_SPAN_SECOND, n = 0;
	GError *e = NULL;

	while (me && store_outbox_release(st, me, now, &n, &e) == STORE_RETRY
	       && g_get_monotonic_time() < until) {
		g_clear_error(&e);
		g_usleep(G_USEC_PER_SEC / 2);
	}
	if (e)
		log_msg(LOG_WARNING, "outbox: rows still claimed: %s", e->message);
	g_clear_error(&e);
}

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

/* a row's bytes being sent, read from the database */
struct reader {
	struct store_blob *blob;
	GError	*err;		/* why a read failed */
};

/* read_blob - a send_body reader over an open blob */
static gboolean
read_blob(gpointer ud, void *buf, size_t n, gint64 off)
{
	struct reader *rd = ud;

	return rd->err == NULL && store_blob_read(rd->blob, buf, n, off, &rd->err) == STORE_OK;
}

/* send_row - one transaction of a row's bytes to a batch of its recipients */
static enum send_rc
send_row(struct store *st, const struct config *cfg, struct send_session *ss,
	 const struct outbox_item *it, const GPtrArray *batch, struct send_result *res)
{
	struct reader rd = { NULL, NULL };
	struct send_body body = { 0, read_blob, &rd };
	GError *err = NULL;
	enum send_rc rc;

	if (store_outbox_body(st, it->id, &rd.blob, &err) != STORE_OK) {
		memset(res, 0, sizeof *res);
		res->accepted = g_ptr_array_new_with_free_func(g_free);
		res->deferred = g_ptr_array_new_with_free_func(g_free);
		res->failed = g_ptr_array_new_with_free_func(g_free);
		res->error = g_strdup(err ? err->message : "the outbox row has no body");
		g_clear_error(&err);
		return SEND_RETRY;
	}
	body.size = store_blob_size(rd.blob);
	rc = send_smtp(ss, cfg->relay, it->sender, batch, &body, res);
	store_blob_close(rd.blob);	/* before any write: the read ends here */
	if (rd.err) {
		g_free(res->error);
		res->error = g_strdup(rd.err->message);
		g_error_free(rd.err);
	}
	return rc;
}

/*
 * flush_one - send one claimed row, batch after batch, until done or
 * stuck; a row the relay took in full is noted at once, to be marked
 * done with the rest of the claim (*sent)
 */
static enum store_rc
flush_one(struct store *st, const struct config *cfg, struct send_session *ss,
	  struct outbox_item *it, struct sent_note *note, struct flush_stats *stats, bool *sent,
	  GError **err)
{
	GPtrArray *rcpts = g_ptr_array_ref(it->rcpts);
	enum store_rc r = STORE_OK;

	for (;;) {
		struct send_result res;
		GPtrArray *batch = batch_of(rcpts);
		GPtrArray *left = NULL;
		enum send_rc rc = send_row(st, cfg, ss, it, batch, &res);

		if (rc == SEND_DONE)
			left = left_after(res.deferred, rcpts, batch->len);
		/* noted first, the rest after: until it is noted, a crash sends it again */
		if (left && left->len == 0) {
			note_sent(note, it->id);
			*sent = true;
		}
		if (rc == SEND_DONE) {
			log_failed(it, res.failed);
			stats->dropped += res.failed->len;
			if (res.accepted->len > 0) {
				char *reply = text_escape(res.reply ? res.reply : "");

				log_msg(LOG_INFO, "outbox=%" G_GINT64_FORMAT " kind=%s rcpts=%u status=sent"
					" reply=%s", it->id, it->kind, res.accepted->len, reply);
				g_free(reply);
			}
		}
		g_ptr_array_free(batch, TRUE);
		if (left && left->len == 0) {
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

#define OUTBOX_BATCH	32	/* rows claimed in one transaction */

/* claim_named - the rows of ids that nobody else is sending, claimed */
static enum store_rc
claim_named(struct store *st, const GArray *ids, gint64 now, const char *me, GPtrArray **out,
	    GError **err)
{
	enum store_rc r = STORE_OK;
	guint i;

	*out = g_ptr_array_new_with_free_func((GDestroyNotify) store_outbox_item_free);
	for (i = 0; r == STORE_OK && i < ids->len; i++) {
		struct outbox_item *it = NULL;

		r = store_outbox_claim(st, g_array_index(ids, gint64, i), now, LEASE, me, &it, err);
		if (r == STORE_OK)
			g_ptr_array_add(*out, it);
		else if (r == STORE_NOTFOUND)	/* sent meanwhile, or another process has it */
			r = STORE_OK;
	}
	return r;
}

/*
 * flush_items - send claimed rows; those sent leave the outbox together,
 * in one transaction, once the last is sent; a database failure stops
 */
static enum store_rc
flush_items(struct store *st, const struct config *cfg, struct send_session *ss,
	    GPtrArray *items, struct sent_note *note, struct flush_stats *stats, GError **err)
{
	enum store_rc r = STORE_OK, marked;
	bool invitation = false;
	guint i;

	for (i = 0; r == STORE_OK && i < items->len; i++) {
		struct outbox_item *it = g_ptr_array_index(items, i);
		bool sent = false;

		r = flush_one(st, cfg, ss, it, note, stats, &sent, err);
		if (sent && strcmp(it->kind, "invitation") == 0)
			invitation = true;
	}
	marked = mark_done(st, note, r == STORE_OK ? err : NULL);
	if (invitation && marked == STORE_OK)
		store_forget(st);	/* its token leaves the WAL too */
	return r != STORE_OK ? r : marked;
}

/* outbox_flush_session - send the given rows, or all that are due, over a session's connection */
enum store_rc
outbox_flush_session(struct store *st, const struct config *cfg, struct send_session *ss,
		     const GArray *ids, gint64 now, struct flush_stats *stats, GError **err)
{
	GPtrArray *items = NULL;
	gint64 after = 0;
	char *me = claimant_new();
	struct sent_note note;
	enum store_rc r;

	stats->sent = stats->left = stats->dropped = 0;
	if ((r = store_set_durable(st, FALSE, err)) != STORE_OK) {
		claimant_end(me);
		return r;
	}
	note_init(&note, cfg->database, me);
	if (ids) {
		if ((r = claim_named(st, ids, now, me, &items, err)) == STORE_OK)
			r = flush_items(st, cfg, ss, items, &note, stats, err);
		g_ptr_array_free(items, TRUE);
	} else {
		r = release_gone(st, cfg->database, now, err);
	}
	while (ids == NULL && r == STORE_OK) {
		/* batch after batch of what is due; rows deferred on the way are behind */
		guint n;

		if ((r = store_outbox_claim_due(st, now, LEASE, after, OUTBOX_BATCH, me, &items, err))
		    != STORE_OK)
			break;
		if ((n = items->len) > 0) {
			after = ((struct outbox_item *) g_ptr_array_index(items, n - 1))->id;
			r = flush_items(st, cfg, ss, items, &note, stats, err);
		}
		g_ptr_array_free(items, TRUE);
		if (r != STORE_OK || n < OUTBOX_BATCH)
			break;
	}
	if (r != STORE_OK && !note.unmarked)
		give_back(st, me, now);
	note_end(&note);	/* before the flush is over: a note kept is then a note to apply */
	claimant_end(me);
	if (r == STORE_OK)
		return store_set_durable(st, TRUE, err);
	store_set_durable(st, TRUE, NULL);
	return r;
}

/* outbox_flush - send the given rows, or all that are due, over one connection */
enum store_rc
outbox_flush(struct store *st, const struct config *cfg, const GArray *ids,
	     gint64 now, struct flush_stats *stats, GError **err)
{
	struct send_session *ss = send_session_new();
	enum store_rc r = outbox_flush_session(st, cfg, ss, ids, now, stats, err);

	send_session_free(ss);
	return r;
}
