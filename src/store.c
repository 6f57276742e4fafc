/*
 * NAME
 *	store - the sqlite database
 * SYNOPSIS
 *	#include "store.h"
 *
 *	enum store_rc store_open(const char *path, struct store **out, GError **err);
 *	...
 * DESCRIPTION
 *	All state lives in one sqlite file: members, held and relayed
 *	posts, report counters, reporters and the people copied on each
 *	report, the auto-reply log, bounces, the outbox, the audit trail,
 *	invitations and their sponsors, which file of the list's archive
 *	(a Maildir) holds each archived post, and the digest of every
 *	message taken in (store_taken_add()), for a week.  A report's thread is the posts whose thread column names
 *	it: the approved report itself and every message relayed in reply
 *	to it, found again by Message-ID (store_thread_of()).  The file is created and migrated on first use
 *	(PRAGMA user_version counts the migrations applied), in WAL mode,
 *	with foreign keys on for every connection.
 *
 *	Every function returns STORE_OK, STORE_NOTFOUND, STORE_EXISTS,
 *	STORE_RETRY (busy, locked, read-only, full disk, I/O: it may pass,
 *	the caller answers "try again later") or STORE_ERROR, and fills err
 *	with a message naming the database.
 *
 *	A resident program (vigild, vigil-milter) shares one store among its
 *	threads (store_shared_new()): they take turns from store_begin() to
 *	store_commit(), and the messages that arrive together are committed
 *	together, with one sync of the disk (see "shared" below).
 *
 *	store_begin() takes the write lock at once (BEGIN IMMEDIATE): a
 *	deferred transaction that reads and then writes fails with
 *	SQLITE_BUSY_SNAPSHOT without waiting.
 *
 *	A held post's raw message (post_raw) and an outbox row's bytes
 *	(outbox_data) live in tables of their own, one blob a row and the
 *	blob last.  A blob of more than 64 KiB is written and read in place
 *	(sqlite3_blob_*): a message of 50 MB is never one record in memory.
 *	A smaller one is written with its row and read whole at once.  A
 *	list of posts or a claim of outbox rows reads no message bytes.  A
 *	store_writer fills a new blob of a size given beforehand;
 *	store_blob_read() reads an open one; one read in place is read in a
 *	read transaction that lasts until store_blob_close().
 *
 *	Strings returned in structs are owned by the struct and freed with
 *	its _free() function; const char * arguments are borrowed.
 * SECURITY
 *	Every value is a bound parameter; no SQL is built from input.
 *
 *	The database holds unpublished reports.  store_open() creates it
 *	0600 (sqlite gives its -wal and -shm files the same mode) and
 *	refuses, with STORE_RETRY and a message naming the path, a database
 *	whose directory, file, -wal or -shm others may write to: whoever
 *	can write there can read the reports or forge decisions.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "daemon.h"

#include "log.h"

G_DEFINE_QUARK(vigil-store-error-quark, store_error)

struct store {
	sqlite3 *db;
	char	*path;
	char	*login;		/* recorded with audit rows, or NULL */
	bool	 writing;	/* holds writers (below) */
	GHashTable *stmts;	/* SQL text -> prepared statement, made once (prep()) */
	struct shared *shared;	/* the threads' turns (store_shared_new()), or NULL */
};

/*
 * shared - a store whose one connection the threads of a resident program
 * (vigild, vigil-milter) take turns on, each from store_begin() to
 * store_commit() or store_rollback(): group commit.  A thread's work is
 * a savepoint within a transaction that stays open while other threads
 * wait for their turn, up to STORE_BATCH messages' work, and is committed
 * by the thread whose turn ends it: one sync of the disk for them all,
 * where a connection each would sync once each.  store_commit() returns
 * once that commit is done, with its outcome.  A thread's failure undoes
 * its own work only, unless sqlite rolls the whole transaction back (a
 * full disk, an I/O error): that fails every thread's work in it.  Reads
 * outside a transaction have a connection of their own
 * (store_read_begin()): they wait for no turn and see committed work
 * only.  A statement on the shared connection outside the thread's turn
 * is a bug, and aborts.
 */
#define STORE_BATCH	16

struct waiter {			/* a thread whose work waits in the open transaction */
	enum store_rc r;
	GError	*err;
	bool	 done;
	struct waiter *next;
};

struct shared {
	GMutex	 lock;		/* the fields below, but those of the turn's holder */
	GCond	 cond;		/* the turn is free, or a transaction ended */
	GThread	*holder;	/* the thread whose turn it is, or NULL (set atomically) */
	guint	 waiting;	/* threads waiting for the turn */
	struct waiter *waiters;	/* work in the open transaction */
	guint	 nwaiters;
	bool	 open;		/* a transaction is open (the holder's) */
	bool	 stale;		/* connect again before the next transaction (the holder's) */
	GMutex	 reading;	/* the reader's, from store_read_begin() to store_read_end() */
	struct store *reader;	/* reads outside transactions, connected at the first */
};

/* in_turn - this thread holds the shared store's turn */
static bool
in_turn(struct store *st)
{
	return g_atomic_pointer_get(&st->shared->holder) == (gpointer) g_thread_self();
}

/*
 * writers - the threads of one process with a connection each
 * (vigil-sender's; a shared store has turns of its own) take turns
 * to write here, where a waiting thread wakes as soon as the lock is
 * free, rather than in sqlite's busy handler, which sleeps a millisecond
 * at a time; other processes are still met by the busy handler.
 * Recursive: one thread may hold two connections.
 */
static GRecMutex writers;

/* write_begin - take our turn to write, unless this connection has it */
static void
write_begin(struct store *st)
{
	if (!st->writing) {
		g_rec_mutex_lock(&writers);
		st->writing = true;
	}
}

/* write_end - give the turn back, if this connection has it */
static void
write_end(struct store *st)
{
	if (st->writing) {
		st->writing = false;
		g_rec_mutex_unlock(&writers);
	}
}

/* migrations - schema steps, applied in order; never edit a released one */
static const char *const migrations[] = {
	"CREATE TABLE members ("
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),"
	" name TEXT NOT NULL DEFAULT '',"
	" added INTEGER NOT NULL,"
	" PRIMARY KEY (list, address)) STRICT;"
	"CREATE TABLE report_counters ("
	" list TEXT NOT NULL,"
	" year INTEGER NOT NULL,"
	" last INTEGER NOT NULL,"
	" PRIMARY KEY (list, year)) STRICT;"
	"CREATE TABLE posts ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('held', 'relayed')),"
	" reason TEXT NOT NULL,"
	" report_id TEXT,"
	" received INTEGER NOT NULL,"
	" sender TEXT NOT NULL,"
	" from_addr TEXT,"
	" subject TEXT,"
	" message_id TEXT,"
	" size INTEGER NOT NULL,"
	" raw BLOB,"
	" UNIQUE (list, report_id)) STRICT;"
	"CREATE INDEX posts_by_status ON posts (list, status, received);"
	"CREATE TABLE autoreplies ("
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" last INTEGER NOT NULL,"
	" PRIMARY KEY (list, address)) STRICT;"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" post_id INTEGER REFERENCES posts (id),"
	" kind TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" sender TEXT NOT NULL,"
	" recipients TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" claimed_until INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT) STRICT;"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" list TEXT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" post_id INTEGER,"
	" report_id TEXT,"
	" detail TEXT) STRICT;",

	/* 2: decisions on held posts, moderators' Unix users, reporters */
	"CREATE TABLE posts_new ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN"
	"  ('held', 'relayed', 'approved', 'rejected', 'discarded', 'expired')),"
	" reason TEXT NOT NULL,"
	" report_id TEXT,"
	" received INTEGER NOT NULL,"
	" sender TEXT NOT NULL,"
	" from_addr TEXT,"
	" subject TEXT,"
	" message_id TEXT,"
	" size INTEGER NOT NULL,"
	" raw BLOB,"
	" decided INTEGER,"
	" decided_by TEXT,"
	" comment TEXT,"
	" reminded INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (list, report_id)) STRICT;"
	"INSERT INTO posts_new (id, list, status, reason, report_id, received, sender,"
	" from_addr, subject, message_id, size, raw)"
	" SELECT id, list, status, reason, report_id, received, sender,"
	" from_addr, subject, message_id, size, raw FROM posts;"
	"DROP TABLE posts;"
	"ALTER TABLE posts_new RENAME TO posts;"
	"CREATE INDEX posts_by_status ON posts (list, status, received);"
	"ALTER TABLE members ADD COLUMN unix_user TEXT;"
	"CREATE UNIQUE INDEX members_by_unix_user ON members (list, unix_user)"
	" WHERE unix_user IS NOT NULL;"
	"CREATE TABLE reporters ("
	" list TEXT NOT NULL,"
	" report_id TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" added INTEGER NOT NULL,"
	" PRIMARY KEY (list, report_id, address)) STRICT;"
	"ALTER TABLE audit ADD COLUMN login TEXT;"
	"CREATE INDEX audit_by_time ON audit (list, time);",

	/* 3: threads of reports, people copied on reports, bounces */
	"ALTER TABLE posts ADD COLUMN thread TEXT;"
	"UPDATE posts SET thread = report_id WHERE status = 'approved';"
	"CREATE INDEX posts_by_message_id ON posts (list, message_id) WHERE message_id IS NOT NULL;"
	"CREATE INDEX posts_by_thread ON posts (list, thread, received) WHERE thread IS NOT NULL;"
	"ALTER TABLE reporters ADD COLUMN kind TEXT NOT NULL DEFAULT 'reporter'"
	" CHECK (kind IN ('reporter', 'cc'));"
	"ALTER TABLE reporters ADD COLUMN added_by TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE bounces ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" received INTEGER NOT NULL,"
	" sender TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" diagnostic TEXT NOT NULL,"
	" failed INTEGER NOT NULL,"
	" reported INTEGER NOT NULL DEFAULT 0,"
	" raw BLOB) STRICT;"
	"CREATE INDEX bounces_by_address ON bounces (list, address, received);",

	/* 4: invitations, their sponsors, where each member came from */
	"CREATE TABLE invites ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),"
	" note TEXT NOT NULL DEFAULT '',"
	" invited_by TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN"
	"  ('pending', 'sent', 'accepted', 'expired', 'cancelled')),"
	" sent INTEGER,"
	" expires INTEGER,"
	" token_hash BLOB UNIQUE,"
	" closed INTEGER,"
	" closed_by TEXT) STRICT;"
	"CREATE UNIQUE INDEX invites_open ON invites (list, address)"
	" WHERE status IN ('pending', 'sent');"
	"CREATE TABLE sponsors ("
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" sponsor TEXT NOT NULL,"
	" invite_id INTEGER REFERENCES invites (id),"
	" time INTEGER NOT NULL) STRICT;"
	"CREATE UNIQUE INDEX sponsors_once ON sponsors (list, address, sponsor, ifnull(invite_id, 0));"
	"ALTER TABLE members ADD COLUMN invite_id INTEGER REFERENCES invites (id);"
	"ALTER TABLE members ADD COLUMN added_by TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE audit ADD COLUMN address TEXT;"
	"CREATE INDEX audit_by_address ON audit (list, address, time) WHERE address IS NOT NULL;",

	/* 5: the list archive: the Maildir file each relayed post was kept in */
	"CREATE TABLE archive ("
	" post_id INTEGER PRIMARY KEY REFERENCES posts (id),"
	" list TEXT NOT NULL,"
	" file TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" archived INTEGER NOT NULL,"
	" UNIQUE (list, file)) STRICT;",

	/*
	 * 6: raw messages and outbox bodies in tables of their own, one blob
	 * a row and the blob last, so that they are written and read in
	 * pieces (sqlite3_blob_*) and the rows of posts and outbox stay small
	 */
	"CREATE TABLE post_raw ("
	" post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,"
	" raw BLOB NOT NULL) STRICT;"
	"INSERT INTO post_raw (post_id, raw) SELECT id, raw FROM posts WHERE raw IS NOT NULL;"
	"ALTER TABLE posts DROP COLUMN raw;"
	"CREATE TABLE outbox_data ("
	" outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,"
	" data BLOB NOT NULL) STRICT;"
	"INSERT INTO outbox_data (outbox_id, data) SELECT id, data FROM outbox;"
	"ALTER TABLE outbox DROP COLUMN data;",

	/*
	 * 7: every message taken in, by the digest of its envelope and bytes,
	 * so that the MTA's second attempt at a message whose answer it lost
	 * stores nothing twice (store_taken_add())
	 */
	"CREATE TABLE taken ("
	" digest BLOB PRIMARY KEY,"
	" received INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
	"CREATE INDEX taken_by_time ON taken (received);",

	/* 8: which process claimed an outbox row, so that a dead one's claim ends */
	"ALTER TABLE outbox ADD COLUMN claimed_by TEXT;",

	/* 9: the moderators of a list without reading every member (store_member_addresses()) */
	"CREATE INDEX members_by_role ON members (list, role);",

	/*
	 * 10: a member's sponsors without reading every sponsor row: the
	 * member columns look them up for each member (MEMBER_COLUMNS)
	 */
	"CREATE INDEX sponsors_by_invite ON sponsors (invite_id);",
};

/* store_version - the schema version this program writes */
int
store_version(void)
{
	return (int) G_N_ELEMENTS(migrations);
}

/* classify - sqlite result to store_rc: what may pass is RETRY */
static enum store_rc
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
		return STORE_RETRY;
	case SQLITE_CONSTRAINT:
		return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			? STORE_EXISTS : STORE_ERROR;
	default:
		return STORE_ERROR;
	}
}

/* fail - fill err from the connection and classify rc */
static enum store_rc
fail(struct store *st, int rc, const char *what, GError **err)
{
	enum store_rc r = classify(rc);

	g_set_error(err, STORE_ERROR_DOMAIN, r, "database %s: %s: %s", st->path, what,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return r;
}

/* busy_wait - short, jittered waits: bursts of filters finish sooner */
static int
busy_wait(void *ud, int count)
{
	if (count >= 10000)		/* about 10 s: then SQLITE_BUSY, EX_TEMPFAIL */
		return 0;
	g_usleep(500 + g_random_int_range(0, 1000));
	return 1;
}

/*
 * prep - the prepared statement for sql: made the first time, kept by
 * the connection for the next (a resident program runs the same few
 * statements for every message); give it back with unprep()
 */
static enum store_rc
prep(struct store *st, const char *sql, sqlite3_stmt **stmt, GError **err)
{
	int rc;

	if (st->shared && !in_turn(st))
		g_error("database %s: a statement outside the thread's turn: %s", st->path, sql);
	if ((*stmt = g_hash_table_lookup(st->stmts, sql)) != NULL)
		return STORE_OK;
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc, "prepare", err);
	g_hash_table_insert(st->stmts, g_strdup(sql), *stmt);
	return STORE_OK;
}

/* unprep - a statement of prep() is done with: reset, ready for its next use */
static void
unprep(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* finalize - a GDestroyNotify for the statements prep() keeps */
static void
finalize(gpointer stmt)
{
	sqlite3_finalize(stmt);
}

/* exec - run one SQL statement, without results */
static enum store_rc
exec(struct store *st, const char *sql, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	if ((r = prep(st, sql, &stmt, err)) != STORE_OK)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	r = rc == SQLITE_DONE ? STORE_OK : fail(st, rc, "exec", err);
	unprep(stmt);
	return r;
}

/* step_done - run a statement to completion and give it back */
static enum store_rc
step_done(struct store *st, sqlite3_stmt *stmt, const char *what, GError **err)
{
	int rc = sqlite3_step(stmt);
	enum store_rc r = STORE_OK;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = fail(st, sqlite3_extended_errcode(st->db), what, err);
	unprep(stmt);
	return r;
}

/* step_write - step_done for a write: in this process's turn (writers) */
static enum store_rc
step_write(struct store *st, sqlite3_stmt *stmt, const char *what, GError **err)
{
	bool mine = !st->writing;
	enum store_rc r;

	write_begin(st);
	r = step_done(st, stmt, what, err);
	if (mine)
		write_end(st);
	return r;
}

/* text - a column as a new string, "" for NULL */
static char *
text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return g_strdup(s ? (const char *) s : "");
}

/* first_text - a row's first column as a string: a row for collect() */
static gpointer
first_text(sqlite3_stmt *stmt)
{
	return text(stmt, 0);
}

/* bind_text - bind a string or NULL */
static void
bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, i);
}

/*
 * a blob of a row, written or read in place (sqlite3_blob_*), or, up to
 * BLOB_SMALL bytes, whole in memory: a small blob is written with its
 * row and read at once, so that no read stays open while its bytes are
 * used (one held across an SMTP transaction keeps the WAL from being
 * checkpointed, and it grows)
 */
struct store_blob {
	struct store *st;
	sqlite3_blob *blob;	/* NULL: the bytes are in mem */
	GByteArray *mem;
	gint64	size;
	gint64	off;		/* written so far */
	int	rc;		/* the first failure of a write, else SQLITE_OK */
};

#define BLOB_SMALL	(64 << 10)	/* bytes of a blob kept whole in memory */

/* a buffer written whole */
struct buffer {
	const void *data;
	size_t	len;
};

/* write_buffer - a store_writer for one buffer */
static void
write_buffer(struct store_blob *b, gpointer ud)
{
	const struct buffer *buf = ud;

	store_blob_write(b, buf->data, buf->len);
}

#define BLOB_PIECE	(16 << 20)	/* sqlite3_blob_read/write take an int */

/*
 * blob_add - insert a row (sql binds the rowid as ?1 and the blob as
 * ?2) with the blob fill writes: a small one with the row, a larger one
 * in place, into a blob of size zero bytes inserted first, so that its
 * bytes are never copied whole into one record in memory
 */
static enum store_rc
blob_add(struct store *st, const char *sql, const char *table, const char *column, gint64 row,
	 gint64 size, store_writer fill, gpointer ud, GError **err)
{
	struct store_blob b = { .st = st, .size = size, .rc = SQLITE_OK };
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	if ((r = prep(st, sql, &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, row);
	if (size <= BLOB_SMALL) {
		b.mem = g_byte_array_sized_new((guint) size);
		fill(&b, ud);
		if (b.rc == SQLITE_OK && b.off == size) {
			/* never a NULL pointer: that would bind NULL, not zero bytes */
			sqlite3_bind_blob64(stmt, 2, size ? (const void *) b.mem->data : "", b.mem->len,
					    SQLITE_STATIC);
			r = step_done(st, stmt, table, err);
		} else {
			unprep(stmt);
		}
		g_byte_array_unref(b.mem);
		if (r != STORE_OK)
			return r;
	} else {
		sqlite3_bind_zeroblob64(stmt, 2, (sqlite3_uint64) size);
		if ((r = step_done(st, stmt, table, err)) != STORE_OK)
			return r;
		if ((rc = sqlite3_blob_open(st->db, "main", table, column, row, 1, &b.blob)) != SQLITE_OK)
			return fail(st, rc, table, err);
		fill(&b, ud);
		rc = sqlite3_blob_close(b.blob);
		if (b.rc == SQLITE_OK)
			b.rc = rc;
	}
	if (b.rc != SQLITE_OK)
		return fail(st, b.rc, table, err);
	if (b.off != size) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR, "database %s: %s: %" G_GINT64_FORMAT
			    " of %" G_GINT64_FORMAT " bytes written", st->path, table, b.off, size);
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* store_blob_write - the next piece of a blob being filled; a failure is kept for the end */
void
store_blob_write(struct store_blob *b, const void *data, size_t len)
{
	const guint8 *p = data;

	if (len > (size_t) (b->size - b->off) && b->rc == SQLITE_OK)
		b->rc = SQLITE_TOOBIG;
	if (b->rc == SQLITE_OK && b->mem) {
		g_byte_array_append(b->mem, data, (guint) len);
		b->off += (gint64) len;
		return;
	}
	while (b->rc == SQLITE_OK && len > 0) {
		int n = (int) MIN(len, (size_t) BLOB_PIECE);

		b->rc = sqlite3_blob_write(b->blob, p, n, (int) b->off);
		b->off += n;
		p += n;
		len -= (size_t) n;
	}
}

/*
 * blob_open - column of the row of table, to read: a small one read
 * whole, a larger one open in place; STORE_NOTFOUND when there is no
 * such row.  Reading a blob in place holds a read transaction until
 * store_blob_close().
 */
static enum store_rc
blob_open(struct store *st, const char *table, const char *column, gint64 row,
	  struct store_blob **out, GError **err)
{
	/* length() reads no more than the record's header */
	char *sql = g_strdup_printf("SELECT CASE WHEN length(%s) <= %d THEN %s END FROM %s"
				    " WHERE rowid = ?1", column, BLOB_SMALL, column, table);
	struct store_blob *b;
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	*out = NULL;
	r = prep(st, sql, &stmt, err);
	g_free(sql);
	if (r != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, row);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? STORE_NOTFOUND : fail(st, rc, table, err);
		unprep(stmt);
		return r;
	}
	b = g_new0(struct store_blob, 1);
	b->st = st;
	if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		const void *data = sqlite3_column_blob(stmt, 0);

		b->size = sqlite3_column_bytes(stmt, 0);
		b->mem = g_byte_array_sized_new((guint) b->size);
		g_byte_array_append(b->mem, data, (guint) b->size);
		unprep(stmt);
		*out = b;
		return STORE_OK;
	}
	unprep(stmt);
	if ((rc = sqlite3_blob_open(st->db, "main", table, column, row, 0, &b->blob)) != SQLITE_OK) {
		g_free(b);
		/* no such row is an error to sqlite3_blob_open(), told by its message only */
		if (rc == SQLITE_ERROR && g_str_has_prefix(sqlite3_errmsg(st->db), "no such rowid"))
			return STORE_NOTFOUND;
		return fail(st, rc, table, err);
	}
	b->size = sqlite3_blob_bytes(b->blob);
	*out = b;
	return STORE_OK;
}

/* store_blob_size - how many bytes a blob open for reading has */
gint64
store_blob_size(const struct store_blob *b)
{
	return b->size;
}

/* store_blob_read - n bytes from offset off into buf */
enum store_rc
store_blob_read(struct store_blob *b, void *buf, size_t n, gint64 off, GError **err)
{
	guint8 *p = buf;
	int rc = SQLITE_OK;

	if (off < 0 || (gint64) n > b->size - off)
		rc = SQLITE_RANGE;
	if (rc == SQLITE_OK && b->mem) {
		if (n > 0)
			memcpy(buf, b->mem->data + off, n);
		return STORE_OK;
	}
	while (rc == SQLITE_OK && n > 0) {
		int k = (int) MIN(n, (size_t) BLOB_PIECE);

		rc = sqlite3_blob_read(b->blob, p, k, (int) off);
		off += k;
		p += k;
		n -= (size_t) k;
	}
	return rc == SQLITE_OK ? STORE_OK : fail(b->st, rc, "blob read", err);
}

/* store_blob_close - end a read; NULL does nothing */
void
store_blob_close(struct store_blob *b)
{
	if (b == NULL)
		return;
	if (b->mem)
		g_byte_array_unref(b->mem);
	else
		sqlite3_blob_close(b->blob);
	g_free(b);
}

/* migrate - bring the schema to store_version() */
static enum store_rc
migrate(struct store *st, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int have;
	char sql[64];

	/* up to date, as on every open but the first: read only, no write lock, no sync */
	if ((r = prep(st, "PRAGMA user_version", &stmt, err)) != STORE_OK)
		return r;
	have = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	unprep(stmt);
	if (have == store_version())
		return STORE_OK;
	if ((r = exec(st, "BEGIN IMMEDIATE", err)) != STORE_OK)
		return r;
	if ((r = prep(st, "PRAGMA user_version", &stmt, err)) != STORE_OK)
		goto out;
	have = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	unprep(stmt);
	if (have > store_version()) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR,
			    "database %s: schema version %d is newer than this vigil knows (%d)",
			    st->path, have, store_version());
		r = STORE_ERROR;
		goto out;
	}
	for (; have < store_version(); have++) {
		int rc = sqlite3_exec(st->db, migrations[have], NULL, NULL, NULL);	/* many statements */

		if (rc != SQLITE_OK) {
			r = fail(st, rc, "migration", err);
			goto out;
		}
	}
	if ((r = prep(st, "PRAGMA foreign_key_check", &stmt, err)) != STORE_OK)
		goto out;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR,
			    "database %s: table %s breaks a foreign key after migrating",
			    st->path, sqlite3_column_text(stmt, 0));
		unprep(stmt);
		r = STORE_ERROR;
		goto out;
	}
	unprep(stmt);
	g_snprintf(sql, sizeof sql, "PRAGMA user_version = %d", have);
	if ((r = exec(st, sql, err)) != STORE_OK)
		goto out;
	return exec(st, "COMMIT", err);
out:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* the database's files: the path with these suffixes */
static const char *const db_files[] = { "", "-wal", "-shm" };

/*
 * safe_modes - the database's directory and files (those that exist) are
 * not writable by others
 */
static enum store_rc
safe_modes(const char *path, GError **err)
{
	GError *e = NULL;
	gboolean ok = daemon_safe_dir("database", path, &e);
	guint i;

	for (i = 0; ok && i < G_N_ELEMENTS(db_files); i++) {
		char *name = g_strconcat(path, db_files[i], NULL);

		ok = daemon_safe_mode("database", name, &e);
		g_free(name);
	}
	if (ok)
		return STORE_OK;
	g_set_error_literal(err, STORE_ERROR_DOMAIN, STORE_RETRY, e->message);
	g_error_free(e);
	return STORE_RETRY;
}

/* safe_files - safe_modes(), and a missing file is created 0600, whatever the umask */
static enum store_rc
safe_files(const char *path, GError **err)
{
	enum store_rc r;
	int fd;

	if ((r = safe_modes(path, err)) != STORE_OK)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_RETRY, "database %s: cannot create it: %s",
			    path, g_strerror(errno));
		return STORE_RETRY;
	}
	return STORE_OK;
}

/* connect - open st->path, configure and migrate it; st->db is NULL before */
static enum store_rc
connect(struct store *st, GError **err)
{
	enum store_rc r;
	int rc;

	if ((r = safe_files(st->path, err)) != STORE_OK)
		return r;
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc, "cannot open", err);
	sqlite3_extended_result_codes(st->db, 1);
	/* sqlite checkpoints the WAL as it grows (wal_autocheckpoint); a
	 * short-lived filter closing the last connection need not do it again */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_busy_handler(st->db, busy_wait, NULL);
	/* foreign keys come on after migrating: a step may rebuild a table */
	if ((r = exec(st, "PRAGMA journal_mode = WAL", err)) != STORE_OK
	    || (r = exec(st, "PRAGMA synchronous = FULL", err)) != STORE_OK
	    || (r = exec(st, "PRAGMA secure_delete = ON", err)) != STORE_OK
	    || (r = migrate(st, err)) != STORE_OK)
		return r;
	return exec(st, "PRAGMA foreign_keys = ON", err);
}

/* disconnect - close st's connection, if any, and its statements */
static void
disconnect(struct store *st)
{
	g_hash_table_remove_all(st->stmts);	/* finalizes them */
	sqlite3_close_v2(st->db);
	st->db = NULL;
}

/* new_store - a store for path, not connected */
static struct store *
new_store(const char *path)
{
	struct store *st = g_new0(struct store, 1);

	st->path = g_strdup(path);
	st->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, finalize);
	return st;
}

/* open_with - a store for path, connected by how */
static enum store_rc
open_with(const char *path, enum store_rc (*how)(struct store *, GError **), struct store **out,
	  GError **err)
{
	struct store *st = new_store(path);
	enum store_rc r;

	*out = NULL;
	if ((r = how(st, err)) != STORE_OK)
		store_close(st);
	else
		*out = st;
	return r;
}

/* store_open - open, configure and migrate the database */
enum store_rc
store_open(const char *path, struct store **out, GError **err)
{
	return open_with(path, connect, out, err);
}

/* writable - the database's files (those that exist) may be written by this process */
static enum store_rc
writable(const char *path, GError **err)
{
	guint i;

	for (i = 0; i < G_N_ELEMENTS(db_files); i++) {
		char *f = g_strconcat(path, db_files[i], NULL);
		int e = access(f, W_OK) == 0 ? 0 : errno;

		g_free(f);
		if (e != 0 && e != ENOENT) {
			g_set_error(err, STORE_ERROR_DOMAIN, STORE_RETRY, "database %s%s: not writable: %s",
				    path, db_files[i], g_strerror(e));
			return STORE_RETRY;
		}
	}
	return STORE_OK;
}

/*
 * store_usable - what store_open_rw() asks of the database's files:
 * not writable by others, writable by this process.  A resident program
 * asks again before it uses a handle it kept, as that handle would write
 * on through a chmod.  STORE_RETRY if not.
 */
enum store_rc
store_usable(const char *path, GError **err)
{
	enum store_rc r;

	if ((r = safe_modes(path, err)) != STORE_OK)
		return r;
	return writable(path, err);
}

/* connect_rw - connect() for a program that writes (store_open_rw()) */
static enum store_rc
connect_rw(struct store *st, GError **err)
{
	enum store_rc r;

	/* connect() checks the modes (safe_files()) */
	if ((r = writable(st->path, err)) != STORE_OK || (r = connect(st, err)) != STORE_OK)
		return r;
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_RETRY, "database %s: opened read-only", st->path);
		return STORE_RETRY;
	}
	return STORE_OK;
}

/*
 * store_open_rw - store_open() for a program that writes: a database
 * that cannot be written (read-only file system, modes) is refused
 * before sqlite opens it, STORE_RETRY, and so is a connection that comes
 * out read-only all the same.  sqlite falls back to a read-only
 * descriptor when it cannot open one for writing, and keeps the
 * descriptor of a closed connection open while another connection of the
 * process holds a lock on the file: a resident program that opened
 * read-only connections over and over for as long as its database was
 * read-only would keep every one of those descriptors, and the file
 * system busy, long after.
 */
enum store_rc
store_open_rw(const char *path, struct store **out, GError **err)
{
	return open_with(path, connect_rw, out, err);
}

/*
 * store_shared_new - a store for path that the threads of a resident
 * program share (see "shared" above); it connects, with the checks of
 * store_open_rw(), at its first store_begin()
 */
struct store *
store_shared_new(const char *path)
{
	struct store *st = new_store(path);

	st->shared = g_new0(struct shared, 1);
	g_mutex_init(&st->shared->lock);
	g_mutex_init(&st->shared->reading);
	g_cond_init(&st->shared->cond);
	st->shared->stale = true;
	return st;
}

/*
 * store_forget - copy the WAL into the database and empty it, so that what
 * was deleted (secure_delete zeroes it in the database) is gone from the
 * WAL too: an invitation's token, once the invitation is sent.  Best
 * effort: a reader that holds on makes it a partial checkpoint, which
 * sqlite's later checkpoints complete; a failure is logged.
 */
void
store_forget(struct store *st)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc != SQLITE_OK)
		log_msg(LOG_WARNING, "database %s: checkpoint: %s", st->path, sqlite3_errmsg(st->db));
}

/*
 * store_set_durable - every commit synced to disk (FULL: what the MTA no
 * longer holds), or synced at checkpoints only (NORMAL: the outbox's
 * claims and done marks, where a commit lost in a crash of the machine
 * means a message sent twice, never one lost).  Outside transactions.
 */
enum store_rc
store_set_durable(struct store *st, gboolean full, GError **err)
{
	return exec(st, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", err);
}

/* store_close - close; store_close(NULL) does nothing; a shared store only when no thread uses it */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	write_end(st);
	disconnect(st);
	g_hash_table_destroy(st->stmts);
	if (st->shared) {
		store_close(st->shared->reader);
		g_mutex_clear(&st->shared->lock);
		g_mutex_clear(&st->shared->reading);
		g_cond_clear(&st->shared->cond);
		g_free(st->shared);
	}
	g_free(st->path);
	g_free(st->login);
	g_free(st);
}

/*
 * settle - end the shared store's open transaction, if any: commit it
 * when it holds work and r is STORE_OK, else roll it back; tell each
 * thread whose work it holds how it ended (r, or the commit's failure,
 * with why), and free the turn.  With the lock held, in the turn.
 */
static void
settle(struct store *st, enum store_rc r, const GError *why)
{
	struct shared *sh = st->shared;
	GError *e = NULL;
	struct waiter *w;

	g_mutex_unlock(&sh->lock);	/* the sync takes a while: others line up meanwhile */
	if (sh->open && r == STORE_OK && sh->waiters)
		r = exec(st, "COMMIT", &e);
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	g_mutex_lock(&sh->lock);
	for (w = sh->waiters; w; w = w->next) {
		w->r = r;
		if (r != STORE_OK)
			w->err = g_error_copy(e ? e : why);
		w->done = true;
	}
	g_clear_error(&e);
	sh->waiters = NULL;
	sh->nwaiters = 0;
	sh->open = false;
	sh->stale = sh->stale || r != STORE_OK;
	g_atomic_pointer_set(&sh->holder, NULL);
	g_cond_broadcast(&sh->cond);
}

/*
 * turn_end - the thread in the turn is done with it; w, if not NULL, is
 * its work, kept in the open transaction.  The transaction is committed
 * now unless other threads wait for the turn and it holds fewer than
 * STORE_BATCH messages' work: then the next thread's work joins it, and
 * whoever ends it wakes us.  How w's work ended; STORE_OK for NULL.
 */
static enum store_rc
turn_end(struct store *st, struct waiter *w, GError **err)
{
	struct shared *sh = st->shared;
	enum store_rc r = STORE_OK;

	g_mutex_lock(&sh->lock);
	if (w) {
		w->next = sh->waiters;
		sh->waiters = w;
		sh->nwaiters++;
	}
	if (sh->waiting > 0 && sh->nwaiters < STORE_BATCH) {
		g_atomic_pointer_set(&sh->holder, NULL);
		g_cond_broadcast(&sh->cond);
	} else {
		settle(st, STORE_OK, NULL);
	}
	while (w && !w->done)
		g_cond_wait(&sh->cond, &sh->lock);
	g_mutex_unlock(&sh->lock);
	if (w && (r = w->r) != STORE_OK)
		g_propagate_error(err, w->err);
	return r;
}

/* take_turn - wait for the shared store's turn; STORE_ERROR if this thread has it */
static enum store_rc
take_turn(struct store *st, GError **err)
{
	struct shared *sh = st->shared;
	GThread *self = g_thread_self();

	g_mutex_lock(&sh->lock);
	if (sh->holder == self) {
		g_mutex_unlock(&sh->lock);
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR, "database %s: already in a transaction",
			    st->path);
		return STORE_ERROR;
	}
	sh->waiting++;
	while (sh->holder)
		g_cond_wait(&sh->cond, &sh->lock);
	sh->waiting--;
	g_atomic_pointer_set(&sh->holder, self);
	g_mutex_unlock(&sh->lock);
	return STORE_OK;
}

/*
 * ready - in the turn, outside a transaction: the connection, made again
 * when it failed or the database's files are no longer safe to write (a
 * kept connection would write on through a chmod)
 */
static enum store_rc
ready(struct store *st, GError **err)
{
	if (st->shared->stale || store_usable(st->path, NULL) != STORE_OK) {
		disconnect(st);
		return connect_rw(st, err);
	}
	return STORE_OK;
}

/* shared_begin - store_begin() on a shared store: wait for the turn */
static enum store_rc
shared_begin(struct store *st, GError **err)
{
	struct shared *sh = st->shared;
	enum store_rc r;

	if ((r = take_turn(st, err)) != STORE_OK)
		return r;
	/* the turn's until turn_end(): open, stale and the connection */
	if (!sh->open) {
		if ((r = ready(st, err)) == STORE_OK)
			r = exec(st, "BEGIN IMMEDIATE", err);
		sh->stale = r != STORE_OK;
		sh->open = r == STORE_OK;
	}
	if (r == STORE_OK)
		r = exec(st, "SAVEPOINT work", err);
	if (r != STORE_OK)
		turn_end(st, NULL, NULL);
	return r;
}

/* shared_rollback - store_rollback() on a shared store: undo this thread's work */
static void
shared_rollback(struct store *st)
{
	GError *e = NULL;

	if (!in_turn(st))
		return;
	if (!sqlite3_get_autocommit(st->db)
	    && exec(st, "ROLLBACK TO work", &e) == STORE_OK && exec(st, "RELEASE work", &e) == STORE_OK) {
		turn_end(st, NULL, NULL);
		return;
	}
	/* sqlite rolled the whole transaction back (a full disk, an I/O
	 * error), or it cannot be undone in part: the others' work goes too */
	if (e == NULL)
		g_set_error(&e, STORE_ERROR_DOMAIN, STORE_RETRY,
			    "database %s: rolled back with another message's failure", st->path);
	g_mutex_lock(&st->shared->lock);
	settle(st, STORE_RETRY, e);
	g_mutex_unlock(&st->shared->lock);
	g_error_free(e);
}

/* shared_commit - store_commit() on a shared store: keep this thread's work */
static enum store_rc
shared_commit(struct store *st, GError **err)
{
	struct waiter w = { STORE_OK, NULL, false, NULL };
	enum store_rc r;

	if (!in_turn(st)) {
		g_set_error(err, STORE_ERROR_DOMAIN, STORE_ERROR, "database %s: no transaction", st->path);
		return STORE_ERROR;
	}
	if ((r = exec(st, "RELEASE work", err)) != STORE_OK) {
		shared_rollback(st);
		return r;
	}
	return turn_end(st, &w, err);
}

/* store_begin - start a write transaction, taking the lock now */
enum store_rc
store_begin(struct store *st, GError **err)
{
	enum store_rc r;

	if (st->shared)
		return shared_begin(st, err);
	write_begin(st);
	if ((r = exec(st, "BEGIN IMMEDIATE", err)) != STORE_OK)
		write_end(st);
	return r;
}

/*
 * store_commit - commit; on failure the transaction is rolled back.  On a
 * shared store, it returns once the transaction holding the work has ended.
 */
enum store_rc
store_commit(struct store *st, GError **err)
{
	enum store_rc r;

	if (st->shared)
		return shared_commit(st, err);
	if ((r = exec(st, "COMMIT", err)) != STORE_OK)
		store_rollback(st);
	write_end(st);
	return r;
}

/* store_rollback - abandon the transaction (on a shared store: this thread's work), if any */
void
store_rollback(struct store *st)
{
	if (st->shared) {
		shared_rollback(st);
		return;
	}
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	write_end(st);
}

/*
 * store_read_begin - the store to read from outside a transaction: st,
 * or for a shared store, a connection of its own that one thread at a
 * time reads from, which waits for no turn and sees committed work only;
 * NULL when it cannot connect.  End the reads with store_read_end(st).
 */
struct store *
store_read_begin(struct store *st, GError **err)
{
	struct shared *sh = st->shared;

	if (sh == NULL)
		return st;
	g_mutex_lock(&sh->reading);
	if (sh->reader == NULL && store_open(st->path, &sh->reader, err) != STORE_OK) {
		g_mutex_unlock(&sh->reading);
		return NULL;
	}
	return sh->reader;
}

/* store_read_end - the reads since store_read_begin(st) are done */
void
store_read_end(struct store *st)
{
	if (st->shared)
		g_mutex_unlock(&st->shared->reading);
}

/* member_from_row - a member from columns address, role, name, added, unix_user */
static gpointer
member_from_row(sqlite3_stmt *stmt)
{
	struct member *m = g_new0(struct member, 1);

	m->address = text(stmt, 0);
	m->role = text(stmt, 1);
	m->name = text(stmt, 2);
	m->added = sqlite3_column_int64(stmt, 3);
	m->unix_user = text(stmt, 4);
	m->added_by = text(stmt, 5);
	m->invited_by = text(stmt, 6);
	m->sponsors = text(stmt, 7);
	return m;
}

#define MEMBER_COLUMNS "address, role, name, added, unix_user, added_by," \
	" (SELECT invited_by FROM invites i WHERE i.id = members.invite_id)," \
	" (SELECT group_concat(sponsor, ', ') FROM (SELECT sponsor FROM sponsors s" \
	"  WHERE s.invite_id = members.invite_id ORDER BY time, rowid))"

/*
 * collect - step a prepared, bound statement to the end, each row turned
 * into a struct by from_row and freed with free_row; finalizes stmt
 */
static enum store_rc
collect(struct store *st, sqlite3_stmt *stmt, gpointer (*from_row)(sqlite3_stmt *),
	GDestroyNotify free_row, GPtrArray **out, const char *what, GError **err)
{
	int rc;

	*out = g_ptr_array_new_with_free_func(free_row);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(*out, from_row(stmt));
	unprep(stmt);
	if (rc != SQLITE_DONE) {
		g_ptr_array_free(*out, TRUE);
		*out = NULL;
		return fail(st, rc, what, err);
	}
	return STORE_OK;
}

/* select_one - step a prepared, bound statement for at most one row */
static enum store_rc
select_one(struct store *st, sqlite3_stmt *stmt, gpointer (*from_row)(sqlite3_stmt *),
	   gpointer *out, const char *what, GError **err)
{
	int rc = sqlite3_step(stmt);
	enum store_rc r;

	if (rc == SQLITE_ROW) {
		if (out)
			*out = from_row(stmt);
		r = STORE_OK;
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	} else {
		r = fail(st, rc, what, err);
	}
	unprep(stmt);
	return r;
}

/* list_since - the rows of sql for a list (?1) from a time (?2) on, each made by from_row */
static enum store_rc
list_since(struct store *st, const char *sql, const char *list, gint64 since,
	   gpointer (*from_row)(sqlite3_stmt *), GDestroyNotify free_row, GPtrArray **out,
	   const char *what, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, sql, &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int64(stmt, 2, since);
	return collect(st, stmt, from_row, free_row, out, what, err);
}

/* member_where - the member of list whose column in sql (?2) is value */
static enum store_rc
member_where(struct store *st, const char *sql, const char *list, const char *value,
	     struct member **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, sql, &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, value);
	return select_one(st, stmt, member_from_row, (gpointer *) out, "member lookup", err);
}

/* store_member_find - look up one member; out may be NULL */
enum store_rc
store_member_find(struct store *st, const char *list, const char *addr,
		  struct member **out, GError **err)
{
	return member_where(st, "SELECT " MEMBER_COLUMNS " FROM members WHERE list = ?1 AND address = ?2",
			    list, addr, out, err);
}

/* store_member_by_unix_user - the member of list recorded with a Unix user */
enum store_rc
store_member_by_unix_user(struct store *st, const char *list, const char *user,
			  struct member **out, GError **err)
{
	return member_where(st, "SELECT " MEMBER_COLUMNS " FROM members WHERE list = ?1 AND unix_user = ?2",
			    list, user, out, err);
}

/* store_member_add - add a member; STORE_EXISTS if already one */
enum store_rc
store_member_add(struct store *st, const char *list, const char *addr, const char *role,
		 const char *name, const char *unix_user, gint64 invite_id, const char *added_by,
		 gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO members (list, address, role, name, added, unix_user,"
		      " invite_id, added_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &stmt, err))
	    != STORE_OK)
		return r;
	if (invite_id > 0)
		sqlite3_bind_int64(stmt, 7, invite_id);
	bind_text(stmt, 8, added_by ? added_by : "");
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	bind_text(stmt, 3, role);
	bind_text(stmt, 4, name ? name : "");
	sqlite3_bind_int64(stmt, 5, now);
	bind_text(stmt, 6, unix_user);
	return step_done(st, stmt, "member add", err);
}

/* store_member_remove - remove a member; STORE_NOTFOUND if none */
enum store_rc
store_member_remove(struct store *st, const char *list, const char *addr, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "DELETE FROM members WHERE list = ?1 AND address = ?2", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	if ((r = step_done(st, stmt, "member remove", err)) != STORE_OK)
		return r;
	return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/*
 * store_member_addresses - the addresses of list's members whose role is
 * one of roles (a NULL-terminated array; NULL for every member), by
 * address.  Only the address is read: what a relay or a notice needs.
 */
enum store_rc
store_member_addresses(struct store *st, const char *list, const char *const *roles,
		       GPtrArray **out, GError **err)
{
	GString *sql = g_string_new("SELECT address FROM members WHERE list = ?1");
	sqlite3_stmt *stmt;
	enum store_rc r;
	int i;

	*out = NULL;
	for (i = 0; roles && roles[i]; i++)
		g_string_append_printf(sql, "%s?%d", i ? ", " : " AND role IN (", i + 2);
	if (i > 0)
		g_string_append_c(sql, ')');
	g_string_append(sql, " ORDER BY address");
	r = prep(st, sql->str, &stmt, err);
	g_string_free(sql, TRUE);
	if (r != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	for (i = 0; roles && roles[i]; i++)
		bind_text(stmt, i + 2, roles[i]);
	return collect(st, stmt, first_text, g_free, out, "member addresses", err);
}

/* store_member_list - all members of a list, by address */
enum store_rc
store_member_list(struct store *st, const char *list, GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT " MEMBER_COLUMNS " FROM members"
		      " WHERE list = ?1 ORDER BY address", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	return collect(st, stmt, member_from_row, (GDestroyNotify) store_member_free,
		       out, "member list", err);
}

/* store_member_free - free a member; NULL does nothing */
void
store_member_free(struct member *m)
{
	if (m == NULL)
		return;
	g_free(m->address);
	g_free(m->role);
	g_free(m->name);
	g_free(m->unix_user);
	g_free(m->added_by);
	g_free(m->invited_by);
	g_free(m->sponsors);
	g_free(m);
}

/* store_autoreply_last - when addr was last auto-replied to, 0 never */
enum store_rc
store_autoreply_last(struct store *st, const char *list, const char *addr,
		     gint64 *when, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	*when = 0;
	if ((r = prep(st, "SELECT last FROM autoreplies WHERE list = ?1 AND address = ?2",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*when = sqlite3_column_int64(stmt, 0);
	unprep(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(st, rc, "auto-reply log", err);
}

/* store_autoreply_mark - record an auto-reply to addr at now */
enum store_rc
store_autoreply_mark(struct store *st, const char *list, const char *addr,
		     gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO autoreplies (list, address, last) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT (list, address) DO UPDATE SET last = excluded.last",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	sqlite3_bind_int64(stmt, 3, now);
	return step_done(st, stmt, "auto-reply log", err);
}

/* store_report_next - the next report id of a list for a year: YYYY-NNNN */
enum store_rc
store_report_next(struct store *st, const char *list, int year,
		  char **report_id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	if ((r = prep(st, "INSERT INTO report_counters (list, year, last) VALUES (?1, ?2, 1)"
		      " ON CONFLICT (list, year) DO UPDATE SET last = last + 1 RETURNING last",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int(stmt, 2, year);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*report_id = g_strdup_printf("%04d-%04lld", year,
					     (long long) sqlite3_column_int64(stmt, 0));
	else
		r = fail(st, rc, "report counter", err);
	unprep(stmt);
	return r;
}

/*
 * store_taken_add - record a message taken in, by its digest, in the
 * caller's transaction; STORE_EXISTS when it was taken in before
 */
enum store_rc
store_taken_add(struct store *st, const unsigned char *digest, size_t len, gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO taken (digest, received) VALUES (?1, ?2)"
		      " ON CONFLICT (digest) DO NOTHING", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_blob(stmt, 1, digest, (int) len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, now);
	if ((r = step_done(st, stmt, "taken", err)) != STORE_OK)
		return r;
	return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_EXISTS;
}

/* store_taken_expire - forget the messages taken in before a time; *n how many */
enum store_rc
store_taken_expire(struct store *st, gint64 before, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*n = 0;
	if ((r = prep(st, "DELETE FROM taken WHERE received < ?1", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, before);
	if ((r = step_write(st, stmt, "taken expiry", err)) == STORE_OK)
		*n = sqlite3_changes(st->db);
	return r;
}

/* store_post_add - record a held or relayed post */
enum store_rc
store_post_add(struct store *st, const struct post_record *p, gint64 *id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO posts (list, status, reason, report_id, received, sender,"
		      " from_addr, subject, message_id, size, thread)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, p->list);
	bind_text(stmt, 2, p->status);
	bind_text(stmt, 3, p->reason);
	bind_text(stmt, 4, p->report_id);
	sqlite3_bind_int64(stmt, 5, p->received);
	bind_text(stmt, 6, p->sender);
	bind_text(stmt, 7, p->from);
	bind_text(stmt, 8, p->subject);
	bind_text(stmt, 9, p->message_id);
	sqlite3_bind_int64(stmt, 10, p->size);
	bind_text(stmt, 11, p->thread);
	if ((r = step_done(st, stmt, "post add", err)) != STORE_OK)
		return r;
	*id = sqlite3_last_insert_rowid(st->db);
	if (p->raw == NULL)
		return STORE_OK;
	return blob_add(st, "INSERT INTO post_raw (post_id, raw) VALUES (?1, ?2)", "post_raw", "raw",
			*id, (gint64) p->rawlen, write_buffer,
			&(struct buffer) { p->raw, p->rawlen }, err);
}

#define POST_COLUMNS "id, report_id, reason, sender, from_addr, subject, received, size," \
	" status, message_id, decided, decided_by, comment, reminded, thread"

/* post_from_row - a post from POST_COLUMNS */
static gpointer
post_from_row(sqlite3_stmt *stmt)
{
	struct post_row *p = g_new0(struct post_row, 1);

	p->id = sqlite3_column_int64(stmt, 0);
	p->report_id = text(stmt, 1);
	p->reason = text(stmt, 2);
	p->sender = text(stmt, 3);
	p->from = text(stmt, 4);
	p->subject = text(stmt, 5);
	p->received = sqlite3_column_int64(stmt, 6);
	p->size = sqlite3_column_int64(stmt, 7);
	p->status = text(stmt, 8);
	p->message_id = text(stmt, 9);
	p->decided = sqlite3_column_int64(stmt, 10);
	p->decided_by = text(stmt, 11);
	p->comment = text(stmt, 12);
	p->reminded = sqlite3_column_int64(stmt, 13);
	p->thread = text(stmt, 14);
	return p;
}

/*
 * store_held_page - the oldest limit held posts of a list (limit < 0:
 * all of them) and how many are held in all
 */
enum store_rc
store_held_page(struct store *st, const char *list, gint64 limit, GPtrArray **out, gint64 *total,
		GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	*out = NULL;
	if ((r = prep(st, "SELECT count(*) FROM posts WHERE list = ?1 AND status = 'held'",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	rc = sqlite3_step(stmt);
	*total = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	unprep(stmt);
	if (rc != SQLITE_ROW)
		return fail(st, rc, "held count", err);
	if ((r = prep(st, "SELECT " POST_COLUMNS " FROM posts WHERE list = ?1 AND status = 'held'"
		      " ORDER BY received, id LIMIT ?2", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int64(stmt, 2, limit);
	return collect(st, stmt, post_from_row, (GDestroyNotify) store_post_row_free,
		       out, "held list", err);
}

/* store_held_list - held posts of a list, oldest first */
enum store_rc
store_held_list(struct store *st, const char *list, GPtrArray **out, GError **err)
{
	return store_held_due(st, list, G_MAXINT64, G_MAXINT64, out, err);
}

/*
 * store_held_due - held posts of a list received before received_by and
 * last reminded of before reminded_by, oldest first
 */
enum store_rc
store_held_due(struct store *st, const char *list, gint64 received_by, gint64 reminded_by,
	       GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT " POST_COLUMNS " FROM posts WHERE list = ?1 AND status = 'held'"
		      " AND received < ?2 AND reminded < ?3 ORDER BY received, id",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int64(stmt, 2, received_by);
	sqlite3_bind_int64(stmt, 3, reminded_by);
	return collect(st, stmt, post_from_row, (GDestroyNotify) store_post_row_free,
		       out, "held list", err);
}

/*
 * store_post_find - one post of a list with its raw bytes (when kept),
 * by id or, when report_id is not NULL, by report id
 */
enum store_rc
store_post_find(struct store *st, const char *list, gint64 id, const char *report_id,
		struct post_row **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	struct store_blob *b = NULL;

	*out = NULL;
	if ((r = prep(st, "SELECT " POST_COLUMNS " FROM posts WHERE list = ?1"
		      " AND (CASE WHEN ?3 IS NULL THEN id = ?2 ELSE report_id = ?3 END)",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int64(stmt, 2, id);
	bind_text(stmt, 3, report_id);
	if ((r = select_one(st, stmt, post_from_row, (gpointer *) out, "post lookup", err)) != STORE_OK)
		return r;
	/* the raw message, read in place: one copy in memory */
	r = blob_open(st, "post_raw", "raw", (*out)->id, &b, err);
	if (r == STORE_OK) {
		gsize n = (gsize) store_blob_size(b);
		guint8 *raw = g_malloc(MAX(n, 1));

		if ((r = store_blob_read(b, raw, n, 0, err)) == STORE_OK)
			(*out)->raw = g_bytes_new_take(raw, n);
		else
			g_free(raw);
		store_blob_close(b);
	}
	if (r == STORE_NOTFOUND)
		r = STORE_OK;		/* not kept: a relayed post */
	if (r != STORE_OK) {
		store_post_row_free(*out);
		*out = NULL;
	}
	return r;
}

/*
 * store_post_decide - close a held post: status, when, by whom, comment.
 * STORE_NOTFOUND when it is no longer held: the first decision wins.
 */
enum store_rc
store_post_decide(struct store *st, gint64 id, const char *status, gint64 now,
		  const char *by, const char *comment, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE posts SET status = ?2, decided = ?3, decided_by = ?4, comment = ?5"
		      " WHERE id = ?1 AND status = 'held'", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	bind_text(stmt, 2, status);
	sqlite3_bind_int64(stmt, 3, now);
	bind_text(stmt, 4, by);
	bind_text(stmt, 5, comment);
	if ((r = step_done(st, stmt, "post decision", err)) != STORE_OK)
		return r;
	if (sqlite3_changes(st->db) == 1)
		return STORE_OK;
	g_set_error(err, STORE_ERROR_DOMAIN, STORE_NOTFOUND, "post %" G_GINT64_FORMAT " is not held", id);
	return STORE_NOTFOUND;
}

/* store_post_reminded - the moderators were reminded of a post at now */
enum store_rc
store_post_reminded(struct store *st, gint64 id, gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE posts SET reminded = ?2 WHERE id = ?1", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	return step_done(st, stmt, "post reminder", err);
}

/* store_post_row_free - free a post row; NULL does nothing */
void
store_post_row_free(struct post_row *p)
{
	if (p == NULL)
		return;
	g_free(p->report_id);
	g_free(p->reason);
	g_free(p->sender);
	g_free(p->from);
	g_free(p->subject);
	g_free(p->status);
	g_free(p->message_id);
	g_free(p->decided_by);
	g_free(p->comment);
	g_free(p->thread);
	if (p->raw)
		g_bytes_unref(p->raw);
	g_free(p);
}

/*
 * store_reporter_add - address is a reporter of a report, or copied on it
 * (kind "cc"); STORE_EXISTS when it already is either, except that a
 * copied address added as reporter becomes the reporter
 */
enum store_rc
store_reporter_add(struct store *st, const char *list, const char *report_id, const char *address,
		   const char *kind, const char *by, gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	/* a reporter outranks a copy: someone copied before approval becomes the reporter */
	if ((r = prep(st, "INSERT INTO reporters (list, report_id, address, added, kind, added_by)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (list, report_id, address)"
		      " DO UPDATE SET kind = 'reporter', added_by = '' WHERE excluded.kind = 'reporter'",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, report_id);
	bind_text(stmt, 3, address);
	sqlite3_bind_int64(stmt, 4, now);
	bind_text(stmt, 5, kind);
	bind_text(stmt, 6, by ? by : "");
	if ((r = step_done(st, stmt, "reporter add", err)) != STORE_OK)
		return r;
	if (sqlite3_changes(st->db) == 1)
		return STORE_OK;
	g_set_error(err, STORE_ERROR_DOMAIN, STORE_EXISTS, "%s is already on report %s", address, report_id);
	return STORE_EXISTS;
}

/* store_reporter_remove - address is no longer of this kind on a report */
enum store_rc
store_reporter_remove(struct store *st, const char *list, const char *report_id,
		      const char *address, const char *kind, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "DELETE FROM reporters WHERE list = ?1 AND report_id = ?2 AND address = ?3"
		      " AND kind = ?4", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, report_id);
	bind_text(stmt, 3, address);
	bind_text(stmt, 4, kind);
	if ((r = step_done(st, stmt, "reporter remove", err)) != STORE_OK)
		return r;
	return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/* reporter_from_row - a reporter from address, kind, added, added_by */
static gpointer
reporter_from_row(sqlite3_stmt *stmt)
{
	struct reporter *p = g_new0(struct reporter, 1);

	p->address = text(stmt, 0);
	p->kind = text(stmt, 1);
	p->added = sqlite3_column_int64(stmt, 2);
	p->added_by = text(stmt, 3);
	return p;
}

/* store_reporter_list - the reporters of a report and the people copied, in order added */
enum store_rc
store_reporter_list(struct store *st, const char *list, const char *report_id,
		    GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT address, kind, added, added_by FROM reporters"
		      " WHERE list = ?1 AND report_id = ?2 ORDER BY added, address",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, report_id);
	return collect(st, stmt, reporter_from_row, (GDestroyNotify) store_reporter_free, out,
		       "reporter list", err);
}

/* store_reporter_free - free a reporter row */
void
store_reporter_free(struct reporter *p)
{
	if (p == NULL)
		return;
	g_free(p->address);
	g_free(p->kind);
	g_free(p->added_by);
	g_free(p);
}

/* string_from_row - column 0 as a string */
static gpointer
string_from_row(sqlite3_stmt *stmt)
{
	return text(stmt, 0);
}

/*
 * store_thread_of - the report whose thread holds the relayed message
 * with this Message-ID; STORE_NOTFOUND when none does
 */
enum store_rc
store_thread_of(struct store *st, const char *list, const char *message_id, char **report_id,
		GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*report_id = NULL;
	if ((r = prep(st, "SELECT thread FROM posts WHERE list = ?1 AND message_id = ?2"
		      " AND thread IS NOT NULL AND status IN ('relayed', 'approved')"
		      " ORDER BY id DESC LIMIT 1", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, message_id);
	return select_one(st, stmt, string_from_row, (gpointer *) report_id, "thread lookup", err);
}

/* store_post_thread - a post joins a report's thread, under this Message-ID when it had none */
enum store_rc
store_post_thread(struct store *st, gint64 id, const char *thread, const char *message_id,
		  GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE posts SET thread = ?2, message_id = coalesce(message_id, ?3)"
		      " WHERE id = ?1", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	bind_text(stmt, 2, thread);
	bind_text(stmt, 3, message_id);
	return step_done(st, stmt, "post thread", err);
}

/* store_thread_posts - the posts of a report's thread, held ones too, oldest first */
enum store_rc
store_thread_posts(struct store *st, const char *list, const char *report_id, GPtrArray **out,
		   GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT " POST_COLUMNS " FROM posts WHERE list = ?1 AND thread = ?2"
		      " ORDER BY received, id", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, report_id);
	return collect(st, stmt, post_from_row, (GDestroyNotify) store_post_row_free,
		       out, "thread", err);
}

/* report_from_row - a report from report_id, subject, from, opened, messages, last */
static gpointer
report_from_row(sqlite3_stmt *stmt)
{
	struct report_row *p = g_new0(struct report_row, 1);

	p->report_id = text(stmt, 0);
	p->subject = text(stmt, 1);
	p->from = text(stmt, 2);
	p->opened = sqlite3_column_int64(stmt, 3);
	p->messages = sqlite3_column_int64(stmt, 4);
	p->last = sqlite3_column_int64(stmt, 5);
	return p;
}

/* store_report_list - the approved reports of a list, oldest first */
enum store_rc
store_report_list(struct store *st, const char *list, GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT p.report_id, p.subject, p.from_addr, p.decided,"
		      " (SELECT count(*) FROM posts t WHERE t.list = p.list AND t.thread = p.report_id"
		      "  AND t.status IN ('relayed', 'approved')),"
		      " max(p.decided, (SELECT max(received) FROM posts t WHERE t.list = p.list"
		      "  AND t.thread = p.report_id AND t.status IN ('relayed', 'approved')))"
		      " FROM posts p WHERE p.list = ?1 AND p.status = 'approved' AND p.thread = p.report_id"
		      " ORDER BY p.decided, p.id", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	return collect(st, stmt, report_from_row, (GDestroyNotify) store_report_row_free,
		       out, "report list", err);
}

/* store_report_row_free - free a report row */
void
store_report_row_free(struct report_row *p)
{
	if (p == NULL)
		return;
	g_free(p->report_id);
	g_free(p->subject);
	g_free(p->from);
	g_free(p);
}

/* store_bounce_add - one recipient of a bounce ("" when none could be read) */
enum store_rc
store_bounce_add(struct store *st, const char *list, const struct bounce_row *b,
		 const void *raw, size_t len, gint64 *id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO bounces (list, received, sender, address, action, status,"
		      " diagnostic, failed, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_int64(stmt, 2, b->received);
	bind_text(stmt, 3, b->sender);
	bind_text(stmt, 4, b->address);
	bind_text(stmt, 5, b->action);
	bind_text(stmt, 6, b->status);
	bind_text(stmt, 7, b->diagnostic);
	sqlite3_bind_int(stmt, 8, b->failed);
	sqlite3_bind_blob64(stmt, 9, raw, len, SQLITE_STATIC);
	if ((r = step_done(st, stmt, "bounce add", err)) == STORE_OK)
		*id = sqlite3_last_insert_rowid(st->db);
	return r;
}

/*
 * store_bounce_failures - failed deliveries to address since a time and
 * after the last one reported to the owner
 */
enum store_rc
store_bounce_failures(struct store *st, const char *list, const char *address, gint64 since,
		      gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "SELECT count(*) FROM bounces WHERE list = ?1 AND address = ?2"
		      " AND failed AND received >= ?3 AND id > coalesce((SELECT max(id) FROM bounces"
		      "  WHERE list = ?1 AND address = ?2 AND reported), 0)", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, address);
	sqlite3_bind_int64(stmt, 3, since);
	*n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	return step_done(st, stmt, "bounce count", err);
}

/* store_bounce_reported - this bounce got its address reported to the owner */
enum store_rc
store_bounce_reported(struct store *st, gint64 id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE bounces SET reported = 1 WHERE id = ?1", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	return step_done(st, stmt, "bounce reported", err);
}

/* bounce_from_row - a bounce from id, received, sender, address, action, status, diagnostic, failed, reported */
static gpointer
bounce_from_row(sqlite3_stmt *stmt)
{
	struct bounce_row *b = g_new0(struct bounce_row, 1);

	b->id = sqlite3_column_int64(stmt, 0);
	b->received = sqlite3_column_int64(stmt, 1);
	b->sender = text(stmt, 2);
	b->address = text(stmt, 3);
	b->action = text(stmt, 4);
	b->status = text(stmt, 5);
	b->diagnostic = text(stmt, 6);
	b->failed = sqlite3_column_int(stmt, 7);
	b->reported = sqlite3_column_int(stmt, 8);
	return b;
}

/* store_bounce_list - the bounces of a list received since a time, oldest first */
enum store_rc
store_bounce_list(struct store *st, const char *list, gint64 since, GPtrArray **out, GError **err)
{
	return list_since(st, "SELECT id, received, sender, address, action, status, diagnostic,"
			  " failed, reported FROM bounces WHERE list = ?1 AND received >= ?2"
			  " ORDER BY received, id", list, since, bounce_from_row,
			  (GDestroyNotify) store_bounce_row_free, out, "bounce list", err);
}

/* store_bounce_row_free - free a bounce row */
void
store_bounce_row_free(struct bounce_row *b)
{
	if (b == NULL)
		return;
	g_free(b->sender);
	g_free(b->address);
	g_free(b->action);
	g_free(b->status);
	g_free(b->diagnostic);
	g_free(b);
}

/* store_set_login - the Unix user recorded with this connection's audit rows */
void
store_set_login(struct store *st, const char *login)
{
	g_free(st->login);
	st->login = g_strdup(login);
}

/* store_audit_add - one row of the audit trail */
enum store_rc
store_audit_add(struct store *st, gint64 now, const char *list, const char *actor,
		const char *action, gint64 post_id, const char *report_id,
		const char *detail, GError **err)
{
	return store_audit_member(st, now, list, actor, action, post_id, report_id, NULL, detail, err);
}

/* store_audit_member - an audit row about a member or invitee (address), found by store_audit_of() */
enum store_rc
store_audit_member(struct store *st, gint64 now, const char *list, const char *actor,
		   const char *action, gint64 post_id, const char *report_id, const char *address,
		   const char *detail, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO audit (time, list, actor, action, post_id, report_id, detail,"
		      " login, address) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &stmt, err))
	    != STORE_OK)
		return r;
	bind_text(stmt, 9, address);
	sqlite3_bind_int64(stmt, 1, now);
	bind_text(stmt, 2, list);
	bind_text(stmt, 3, actor);
	bind_text(stmt, 4, action);
	if (post_id > 0)
		sqlite3_bind_int64(stmt, 5, post_id);
	else
		sqlite3_bind_null(stmt, 5);
	bind_text(stmt, 6, report_id);
	bind_text(stmt, 7, detail);
	bind_text(stmt, 8, st->login);
	return step_done(st, stmt, "audit", err);
}

/* audit_from_row - an audit row from the columns of store_audit_list() */
static gpointer
audit_from_row(sqlite3_stmt *stmt)
{
	struct audit_row *a = g_new0(struct audit_row, 1);

	a->id = sqlite3_column_int64(stmt, 0);
	a->time = sqlite3_column_int64(stmt, 1);
	a->actor = text(stmt, 2);
	a->login = text(stmt, 3);
	a->action = text(stmt, 4);
	a->post_id = sqlite3_column_int64(stmt, 5);
	a->report_id = text(stmt, 6);
	a->detail = text(stmt, 7);
	a->address = text(stmt, 8);
	return a;
}

/* store_audit_list - the audit trail of a list from since on, oldest first */
enum store_rc
store_audit_list(struct store *st, const char *list, gint64 since, GPtrArray **out, GError **err)
{
	return list_since(st, "SELECT id, time, actor, login, action, post_id, report_id, detail,"
			  " address FROM audit WHERE list = ?1 AND time >= ?2 ORDER BY time, id", list, since,
			  audit_from_row, (GDestroyNotify) store_audit_row_free, out, "audit list", err);
}

/* store_audit_of - the audit rows about one member or invitee, oldest first */
enum store_rc
store_audit_of(struct store *st, const char *list, const char *address, GPtrArray **out,
	       GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT id, time, actor, login, action, post_id, report_id, detail,"
		      " address FROM audit WHERE list = ?1 AND address = ?2 ORDER BY time, id", &stmt, err))
	    != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, address);
	return collect(st, stmt, audit_from_row, (GDestroyNotify) store_audit_row_free, out,
		       "audit of a member", err);
}

/* store_audit_row_free - free an audit row; NULL does nothing */
void
store_audit_row_free(struct audit_row *a)
{
	if (a == NULL)
		return;
	g_free(a->actor);
	g_free(a->login);
	g_free(a->action);
	g_free(a->report_id);
	g_free(a->detail);
	g_free(a->address);
	g_free(a);
}

/* join_rcpts - recipients as one newline-separated string */
static char *
join_rcpts(const GPtrArray *rcpts)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < rcpts->len; i++) {
		if (i)
			g_string_append_c(s, '\n');
		g_string_append(s, g_ptr_array_index(rcpts, i));
	}
	return g_string_free(s, FALSE);
}

/* outbox_add - store_outbox_add_with() inside a transaction */
static enum store_rc
outbox_add(struct store *st, gint64 post_id, const char *kind, const char *sender,
	   const GPtrArray *rcpts, gint64 size, store_writer fill, gpointer ud, gint64 now,
	   gint64 *id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	gint64 row;

	if ((r = prep(st, "INSERT INTO outbox (post_id, kind, created, sender, recipients)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)", &stmt, err)) != STORE_OK)
		return r;
	if (post_id > 0)
		sqlite3_bind_int64(stmt, 1, post_id);
	else
		sqlite3_bind_null(stmt, 1);
	bind_text(stmt, 2, kind);
	sqlite3_bind_int64(stmt, 3, now);
	bind_text(stmt, 4, sender ? sender : "");
	sqlite3_bind_text(stmt, 5, join_rcpts(rcpts), -1, g_free);
	if ((r = step_done(st, stmt, "outbox add", err)) != STORE_OK)
		return r;
	row = sqlite3_last_insert_rowid(st->db);
	if ((r = blob_add(st, "INSERT INTO outbox_data (outbox_id, data) VALUES (?1, ?2)", "outbox_data",
			  "data", row, size, fill, ud, err)) == STORE_OK && id)
		*id = row;
	return r;
}

/*
 * store_outbox_add_with - queue one outgoing message of size bytes,
 * which fill writes with store_blob_write().  The row and its bytes
 * appear together: outside the caller's transaction, in one of its own,
 * so that no sender ever claims a row whose bytes are not yet written.
 */
enum store_rc
store_outbox_add_with(struct store *st, gint64 post_id, const char *kind, const char *sender,
		      const GPtrArray *rcpts, gint64 size, store_writer fill, gpointer ud,
		      gint64 now, gint64 *id, GError **err)
{
	enum store_rc r;

	if (!sqlite3_get_autocommit(st->db))
		return outbox_add(st, post_id, kind, sender, rcpts, size, fill, ud, now, id, err);
	if ((r = store_begin(st, err)) != STORE_OK)
		return r;
	if ((r = outbox_add(st, post_id, kind, sender, rcpts, size, fill, ud, now, id, err)) != STORE_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, err);
}

/* store_outbox_add - queue one outgoing message */
enum store_rc
store_outbox_add(struct store *st, gint64 post_id, const char *kind, const char *sender,
		 const GPtrArray *rcpts, const GByteArray *data, gint64 now,
		 gint64 *id, GError **err)
{
	struct buffer buf = { data->data, data->len };

	return store_outbox_add_with(st, post_id, kind, sender, rcpts, (gint64) data->len,
				     write_buffer, &buf, now, id, err);
}

/* store_outbox_pending - ids of outbox rows nobody is sending at now, oldest first */
enum store_rc
store_outbox_pending(struct store *st, gint64 now, GArray **ids, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	if ((r = prep(st, "SELECT id FROM outbox WHERE claimed_until <= ?1"
		      " ORDER BY id", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, now);
	*ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);

		g_array_append_val(*ids, id);
	}
	unprep(stmt);
	if (rc != SQLITE_DONE) {
		g_array_free(*ids, TRUE);
		*ids = NULL;
		return fail(st, rc, "outbox", err);
	}
	return STORE_OK;
}

/* item_from_row - an outbox item from id, kind, sender, recipients, attempts */
static gpointer
item_from_row(sqlite3_stmt *stmt)
{
	struct outbox_item *it = g_new0(struct outbox_item, 1);
	char **v = g_strsplit((const char *) sqlite3_column_text(stmt, 3), "\n", -1);
	int i;

	it->id = sqlite3_column_int64(stmt, 0);
	it->kind = text(stmt, 1);
	it->sender = text(stmt, 2);
	it->rcpts = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; v[i]; i++)
		if (*v[i])
			g_ptr_array_add(it->rcpts, g_strdup(v[i]));
	it->attempts = sqlite3_column_int64(stmt, 4);
	g_strfreev(v);
	return it;
}

/*
 * store_outbox_claim - take a row for sending, for lease seconds, in the
 * name of by (the claiming process, or NULL).  STORE_NOTFOUND when it
 * is gone or another process holds it: two senders never send the same
 * row at the same time.
 */
enum store_rc
store_outbox_claim(struct store *st, gint64 id, gint64 now, gint64 lease, const char *by,
		   struct outbox_item **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	bool mine;
	int rc;

	*out = NULL;
	if ((r = prep(st, "UPDATE outbox SET claimed_until = ?2 + ?3, attempts = attempts + 1,"
		      " claimed_by = ?4 WHERE id = ?1 AND claimed_until <= ?2"
		      " RETURNING id, kind, sender, recipients, attempts", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, lease);
	bind_text(stmt, 4, by);
	mine = !st->writing;
	write_begin(st);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*out = item_from_row(stmt);
		rc = sqlite3_step(stmt);	/* finish the UPDATE */
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	}
	if (mine)
		write_end(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		r = fail(st, rc, "outbox claim", err);
		if (*out) {
			store_outbox_item_free(*out);
			*out = NULL;
		}
	}
	unprep(stmt);
	return r;
}

/* item_cmp - outbox items by id */
static gint
item_cmp(gconstpointer a, gconstpointer b)
{
	const struct outbox_item *x = *(struct outbox_item *const *) a;
	const struct outbox_item *y = *(struct outbox_item *const *) b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * store_outbox_claim_due - take up to max rows after id after that nobody
 * is sending at now, for lease seconds, in the name of by (or NULL),
 * oldest first, in one transaction
 */
enum store_rc
store_outbox_claim_due(struct store *st, gint64 now, gint64 lease, gint64 after, int max,
		       const char *by, GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	bool mine;

	*out = NULL;
	if ((r = prep(st, "UPDATE outbox SET claimed_until = ?1 + ?2, attempts = attempts + 1,"
		      " claimed_by = ?5"
		      " WHERE id IN (SELECT id FROM outbox WHERE claimed_until <= ?1 AND id > ?3"
		      "  ORDER BY id LIMIT ?4)"
		      " RETURNING id, kind, sender, recipients, attempts", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, lease);
	sqlite3_bind_int64(stmt, 3, after);
	sqlite3_bind_int(stmt, 4, max);
	bind_text(stmt, 5, by);
	mine = !st->writing;
	write_begin(st);
	r = collect(st, stmt, item_from_row, (GDestroyNotify) store_outbox_item_free, out,
		    "outbox claim", err);
	if (mine)
		write_end(st);
	if (r == STORE_OK)
		g_ptr_array_sort(*out, item_cmp);
	return r;
}

/* store_outbox_claimants - who holds the rows claimed beyond now (strings) */
enum store_rc
store_outbox_claimants(struct store *st, gint64 now, GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT DISTINCT claimed_by FROM outbox"
		      " WHERE claimed_until > ?1 AND claimed_by IS NOT NULL", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, now);
	return collect(st, stmt, first_text, g_free, out, "outbox claimants", err);
}

/* store_outbox_release - end the claims of by (a flush that is over); *n how many */
enum store_rc
store_outbox_release(struct store *st, const char *by, gint64 now, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*n = 0;
	if ((r = prep(st, "UPDATE outbox SET claimed_until = 0 WHERE claimed_by = ?1 AND claimed_until > ?2",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, by);
	sqlite3_bind_int64(stmt, 2, now);
	if ((r = step_write(st, stmt, "outbox release", err)) == STORE_OK)
		*n = sqlite3_changes(st->db);
	return r;
}

/* store_outbox_body - the bytes of an outbox row, to read */
enum store_rc
store_outbox_body(struct store *st, gint64 id, struct store_blob **out, GError **err)
{
	return blob_open(st, "outbox_data", "data", id, out, err);
}

/* store_outbox_done - the relay accepted them: remove the rows ids, in one transaction */
enum store_rc
store_outbox_done(struct store *st, const GArray *ids, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	guint i;

	if ((r = store_begin(st, err)) != STORE_OK)
		return r;
	for (i = 0; r == STORE_OK && i < ids->len; i++) {
		if ((r = prep(st, "DELETE FROM outbox WHERE id = ?1", &stmt, err)) != STORE_OK)
			break;
		sqlite3_bind_int64(stmt, 1, g_array_index(ids, gint64, i));
		r = step_done(st, stmt, "outbox done", err);
	}
	if (r != STORE_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, err);
}

/*
 * store_outbox_done_by - the relay accepted a row claimed by by, whose
 * sender could not record it: remove it if by still holds it; *n 1 or 0
 */
enum store_rc
store_outbox_done_by(struct store *st, gint64 id, const char *by, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*n = 0;
	if ((r = prep(st, "DELETE FROM outbox WHERE id = ?1 AND claimed_by = ?2", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	bind_text(stmt, 2, by);
	if ((r = step_write(st, stmt, "outbox done", err)) == STORE_OK)
		*n = sqlite3_changes(st->db);
	return r;
}

/* store_outbox_retry - keep what is left of a row; release: end the claim */
enum store_rc
store_outbox_retry(struct store *st, gint64 id, const GPtrArray *rcpts_left,
		   const char *error, gboolean release, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE outbox SET recipients = ?2, last_error = ?3,"
		      " claimed_until = CASE WHEN ?4 THEN 0 ELSE claimed_until END WHERE id = ?1", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, join_rcpts(rcpts_left), -1, g_free);
	bind_text(stmt, 3, error);
	sqlite3_bind_int(stmt, 4, release);
	return step_write(st, stmt, "outbox retry", err);
}

/* store_outbox_count - rows waiting in the outbox */
enum store_rc
store_outbox_count(struct store *st, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	int rc;

	if ((r = prep(st, "SELECT count(*) FROM outbox", &stmt, err)) != STORE_OK)
		return r;
	rc = sqlite3_step(stmt);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	unprep(stmt);
	return rc == SQLITE_ROW ? STORE_OK : fail(st, rc, "outbox count", err);
}

/* store_outbox_item_free - free a claimed item; NULL does nothing */
void
store_outbox_item_free(struct outbox_item *it)
{
	if (it == NULL)
		return;
	g_free(it->kind);
	g_free(it->sender);
	g_ptr_array_free(it->rcpts, TRUE);
	g_free(it);
}

/*
 * Invitations.  An open invitation (pending or sent) is unique per list
 * and address (the invites_open index).  The token itself is never
 * stored, only its hash; a sent invitation is found by that hash.
 */

#define INVITE_COLUMNS "id, address, role, note, invited_by, status, created," \
	" ifnull(sent, 0), ifnull(expires, 0), ifnull(closed, 0), ifnull(closed_by, ''), token_hash"

/* invite_from_row - a row of INVITE_COLUMNS */
static gpointer
invite_from_row(sqlite3_stmt *stmt)
{
	struct invite *v = g_new0(struct invite, 1);
	const void *hash = sqlite3_column_blob(stmt, 11);

	v->id = sqlite3_column_int64(stmt, 0);
	v->address = text(stmt, 1);
	v->role = text(stmt, 2);
	v->note = text(stmt, 3);
	v->invited_by = text(stmt, 4);
	v->status = text(stmt, 5);
	v->created = sqlite3_column_int64(stmt, 6);
	v->sent = sqlite3_column_int64(stmt, 7);
	v->expires = sqlite3_column_int64(stmt, 8);
	v->closed = sqlite3_column_int64(stmt, 9);
	v->closed_by = text(stmt, 10);
	if (hash && sqlite3_column_bytes(stmt, 11) == (int) sizeof v->token_hash) {
		memcpy(v->token_hash, hash, sizeof v->token_hash);
		v->has_hash = true;
	}
	return v;
}

/* store_invite_open - the open (pending or sent) invitation of addr */
enum store_rc
store_invite_open(struct store *st, const char *list, const char *addr, struct invite **out,
		  GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "SELECT " INVITE_COLUMNS " FROM invites WHERE list = ?1 AND address = ?2"
		      " AND status IN ('pending', 'sent')", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	return select_one(st, stmt, invite_from_row, (gpointer *) out, "invitation lookup", err);
}

/* store_invite_by_hash - the invitation whose token has this hash */
enum store_rc
store_invite_by_hash(struct store *st, const char *list, const unsigned char *hash, size_t len,
		     struct invite **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "SELECT " INVITE_COLUMNS " FROM invites WHERE list = ?1 AND token_hash = ?2",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	sqlite3_bind_blob(stmt, 2, hash, (int) len, SQLITE_TRANSIENT);
	return select_one(st, stmt, invite_from_row, (gpointer *) out, "invitation lookup", err);
}

/* store_invite_add - a new pending invitation; EXISTS when addr has an open one */
enum store_rc
store_invite_add(struct store *st, const char *list, const char *addr, const char *role,
		 const char *note, const char *by, gint64 now, gint64 *id, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO invites (list, address, role, note, invited_by, created, status)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	bind_text(stmt, 3, role);
	bind_text(stmt, 4, note ? note : "");
	bind_text(stmt, 5, by);
	sqlite3_bind_int64(stmt, 6, now);
	if ((r = step_done(st, stmt, "invitation add", err)) == STORE_OK)
		*id = sqlite3_last_insert_rowid(st->db);
	return r;
}

/* store_invite_sent - a pending invitation was sent with a token of this hash */
enum store_rc
store_invite_sent(struct store *st, gint64 id, gint64 now, gint64 expires,
		  const unsigned char *hash, size_t len, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE invites SET status = 'sent', sent = ?2, expires = ?3, token_hash = ?4"
		      " WHERE id = ?1 AND status = 'pending'", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, expires);
	sqlite3_bind_blob(stmt, 4, hash, (int) len, SQLITE_TRANSIENT);
	if ((r = step_done(st, stmt, "invitation sent", err)) != STORE_OK)
		return r;
	return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/* store_invite_close - an open invitation becomes accepted, expired or cancelled */
enum store_rc
store_invite_close(struct store *st, gint64 id, const char *status, gint64 now, const char *by,
		   GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE invites SET status = ?2, closed = ?3, closed_by = ?4"
		      " WHERE id = ?1 AND status IN ('pending', 'sent')", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	bind_text(stmt, 2, status);
	sqlite3_bind_int64(stmt, 3, now);
	bind_text(stmt, 4, by);
	if ((r = step_done(st, stmt, "invitation close", err)) != STORE_OK)
		return r;
	return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/* store_invite_of - every invitation of addr, oldest first */
enum store_rc
store_invite_of(struct store *st, const char *list, const char *addr, GPtrArray **out,
		GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT " INVITE_COLUMNS " FROM invites WHERE list = ?1 AND address = ?2"
		      " ORDER BY created, id", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	return collect(st, stmt, invite_from_row, (GDestroyNotify) store_invite_free, out,
		       "invitations", err);
}

/* store_invite_free - free an invitation; NULL does nothing */
void
store_invite_free(struct invite *v)
{
	if (v == NULL)
		return;
	g_free(v->address);
	g_free(v->role);
	g_free(v->note);
	g_free(v->invited_by);
	g_free(v->status);
	g_free(v->closed_by);
	memset(v->token_hash, 0, sizeof v->token_hash);
	g_free(v);
}

/*
 * store_sponsor_add - sponsor vouches for addr: for invitation invite_id,
 * or (invite_id 0) for the membership request addr made by mail.
 * EXISTS when sponsor already did.
 */
enum store_rc
store_sponsor_add(struct store *st, const char *list, const char *addr, const char *sponsor,
		  gint64 invite_id, gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO sponsors (list, address, sponsor, invite_id, time)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	bind_text(stmt, 3, sponsor);
	if (invite_id > 0)
		sqlite3_bind_int64(stmt, 4, invite_id);
	sqlite3_bind_int64(stmt, 5, now);
	return step_done(st, stmt, "vouch", err);
}

/* store_sponsor_attach - the vouches for addr's request now count for invite_id */
enum store_rc
store_sponsor_attach(struct store *st, const char *list, const char *addr, gint64 invite_id,
		     GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "UPDATE OR IGNORE sponsors SET invite_id = ?3"
		      " WHERE list = ?1 AND address = ?2 AND invite_id IS NULL", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	sqlite3_bind_int64(stmt, 3, invite_id);
	return step_done(st, stmt, "vouch attach", err);
}

/* sponsor_from_row - the sponsor column */
static gpointer
sponsor_from_row(sqlite3_stmt *stmt)
{
	return text(stmt, 0);
}

/* store_sponsor_list - who vouched for addr (invitation invite_id, or 0: its request), in order */
enum store_rc
store_sponsor_list(struct store *st, const char *list, const char *addr, gint64 invite_id,
		   GPtrArray **out, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT sponsor FROM sponsors WHERE list = ?1 AND address = ?2"
		      " AND ifnull(invite_id, 0) = ?3 ORDER BY time, rowid", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	sqlite3_bind_int64(stmt, 3, invite_id);
	return collect(st, stmt, sponsor_from_row, g_free, out, "sponsors", err);
}

/* store_member_count - members of list with role, or with any role when role is NULL */
enum store_rc
store_member_count(struct store *st, const char *list, const char *role, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*n = 0;
	if ((r = prep(st, "SELECT count(*) FROM members WHERE list = ?1 AND (?2 IS NULL OR role = ?2)",
		      &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, role);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*n = sqlite3_column_int64(stmt, 0);
	return step_done(st, stmt, "member count", err);
}

/*
 * store_post_count_from - posts on list that addr (canonical) sent and that
 * were held, whatever was decided since.  The envelope sender is stored as
 * given: it is compared in ASCII lower case, with the domain in its A-label
 * or its Unicode form.
 */
enum store_rc
store_post_count_from(struct store *st, const char *list, const char *addr, gint64 *n, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;
	const char *at = strrchr(addr, '@');
	char *domain = at ? g_hostname_to_unicode(at + 1) : NULL;
	char *unicode = domain ? g_strdup_printf("%.*s@%s", (int) (at - addr), addr, domain) : NULL;

	*n = 0;
	r = prep(st, "SELECT count(*) FROM posts WHERE list = ?1 AND status != 'relayed'"
		 " AND (from_addr = ?2 OR lower(sender) = ?2 OR lower(sender) = ?3)", &stmt, err);
	g_free(domain);
	if (r != STORE_OK) {
		g_free(unicode);
		return r;
	}
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, addr);
	bind_text(stmt, 3, unicode ? unicode : addr);
	g_free(unicode);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*n = sqlite3_column_int64(stmt, 0);
	return step_done(st, stmt, "post count", err);
}

/* store_archive_add - a post is kept in the list's archive, in the Maildir file file */
enum store_rc
store_archive_add(struct store *st, gint64 post_id, const char *list, const char *file, gint64 size,
		  gint64 now, GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	if ((r = prep(st, "INSERT INTO archive (post_id, list, file, size, archived)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)", &stmt, err)) != STORE_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, post_id);
	bind_text(stmt, 2, list);
	bind_text(stmt, 3, file);
	sqlite3_bind_int64(stmt, 4, size);
	sqlite3_bind_int64(stmt, 5, now);
	return step_done(st, stmt, "archive add", err);
}

/* archive_from_row - an archived post from the columns of store_archive_list() */
static gpointer
archive_from_row(sqlite3_stmt *stmt)
{
	struct archive_row *a = g_new0(struct archive_row, 1);

	a->post_id = sqlite3_column_int64(stmt, 0);
	a->thread = text(stmt, 1);
	a->file = text(stmt, 2);
	a->size = sqlite3_column_int64(stmt, 3);
	a->archived = sqlite3_column_int64(stmt, 4);
	a->received = sqlite3_column_int64(stmt, 5);
	a->sender = text(stmt, 6);
	a->from = text(stmt, 7);
	a->subject = text(stmt, 8);
	a->message_id = text(stmt, 9);
	return a;
}

/*
 * store_archive_list - the archived posts of a list, those of one report's
 * thread when report_id is not NULL, by report (posts in none last), then
 * in the order they arrived
 */
enum store_rc
store_archive_list(struct store *st, const char *list, const char *report_id, GPtrArray **out,
		   GError **err)
{
	sqlite3_stmt *stmt;
	enum store_rc r;

	*out = NULL;
	if ((r = prep(st, "SELECT a.post_id, p.thread, a.file, a.size, a.archived, p.received,"
		      " p.sender, p.from_addr, p.subject, p.message_id"
		      " FROM archive a JOIN posts p ON p.id = a.post_id"
		      " WHERE a.list = ?1 AND (?2 IS NULL OR p.thread = ?2)"
		      " ORDER BY p.thread IS NULL, p.thread, p.received, p.id", &stmt, err)) != STORE_OK)
		return r;
	bind_text(stmt, 1, list);
	bind_text(stmt, 2, report_id);
	return collect(st, stmt, archive_from_row, (GDestroyNotify) store_archive_row_free, out,
		       "archive list", err);
}

/* store_archive_row_free - free an archive row; NULL does nothing */
void
store_archive_row_free(struct archive_row *a)
{
	if (a == NULL)
		return;
	g_free(a->thread);
	g_free(a->file);
	g_free(a->sender);
	g_free(a->from);
	g_free(a->subject);
	g_free(a->message_id);
	g_free(a);
}
