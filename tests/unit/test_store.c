/*
 * test_store - migrations, members, report ids, the auto-reply log, the
 * held list a page at a time, the checks before a kept handle is used
 * again, a store shared by threads, the outbox (claims one by one and in batches), raw messages and
 * outbox bytes written and read in pieces, an outbox row whole or not at all, on a real sqlite file
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store.h"

#define L "security@example.org"

struct fixture {
	char *dir;
	char *path;
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *fx = g_new0(struct fixture, 1);
	GError *err = NULL;

	fx->dir = g_dir_make_tmp("vigil-store-XXXXXX", NULL);
	fx->path = g_build_filename(fx->dir, "vigil.db", NULL);
	if (store_open(fx->path, &fx->st, &err) != STORE_OK)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	const char *sfx[] = { "", "-wal", "-shm" };
	size_t i;

	store_close(fx->st);
	for (i = 0; i < G_N_ELEMENTS(sfx); i++) {
		char *p = g_strconcat(fx->path, sfx[i], NULL);

		g_unlink(p);
		g_free(p);
	}
	g_rmdir(fx->dir);
	g_free(fx->path);
	g_free(fx->dir);
	g_free(fx);
	return 0;
}

/* number - the integer sql gives, read straight from the file on a connection of its own */
static int
number(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/* migrations - a new file is migrated; reopening changes nothing */
static void
migrations(void **state)
{
	struct fixture *fx = *state;
	struct store *again = NULL;
	GError *err = NULL;

	assert_int_equal(number(fx->path, "PRAGMA user_version"), store_version());
	assert_int_equal(store_member_add(fx->st, L, "a@example.org", "member", "A", NULL, 0, NULL, 1, &err), STORE_OK);
	assert_int_equal(store_open(fx->path, &again, &err), STORE_OK);
	assert_int_equal(number(fx->path, "PRAGMA user_version"), store_version());
	assert_int_equal(store_member_find(again, L, "a@example.org", NULL, &err), STORE_OK);
	store_close(again);
}

/* the schema as version 1 released it, with a little data in it */
static const char v1[] =
	"CREATE TABLE members (list TEXT NOT NULL, address TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),"
	" name TEXT NOT NULL DEFAULT '', added INTEGER NOT NULL, PRIMARY KEY (list, address)) STRICT;"
	"CREATE TABLE report_counters (list TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (list, year)) STRICT;"
	"CREATE TABLE posts (id INTEGER PRIMARY KEY, list TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('held', 'relayed')), reason TEXT NOT NULL,"
	" report_id TEXT, received INTEGER NOT NULL, sender TEXT NOT NULL, from_addr TEXT,"
	" subject TEXT, message_id TEXT, size INTEGER NOT NULL, raw BLOB,"
	" UNIQUE (list, report_id)) STRICT;"
	"CREATE INDEX posts_by_status ON posts (list, status, received);"
	"CREATE TABLE autoreplies (list TEXT NOT NULL, address TEXT NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (list, address)) STRICT;"
	"CREATE TABLE outbox (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts (id),"
	" kind TEXT NOT NULL, created INTEGER NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL,"
	" data BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, claimed_until INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT) STRICT;"
	"CREATE TABLE audit (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, list TEXT NOT NULL,"
	" actor TEXT NOT NULL, action TEXT NOT NULL, post_id INTEGER, report_id TEXT, detail TEXT) STRICT;"
	"INSERT INTO members VALUES ('" L "', 'alice@example.org', 'moderator', 'Alice', 10);"
	"INSERT INTO posts VALUES (7, '" L "', 'held', 'non-member', '2026-0001', 20, 'rep@example.net',"
	" 'rep@example.net', 'hello', 'm@x', 5, X'6869210a0a');"
	"INSERT INTO outbox (post_id, kind, created, sender, recipients, data)"
	" VALUES (7, 'autoreply', 20, '', 'rep@example.net', X'00');"
	"INSERT INTO audit (time, list, actor, action, post_id, report_id, detail)"
	" VALUES (20, '" L "', 'rep@example.net', 'hold', 7, '2026-0001', 'non-member');"
	"PRAGMA user_version = 1;";

/* from_version_1 - a database of the first release keeps its data and gains the decisions */
static void
from_version_1(void **state)
{
	struct fixture *fx = *state;
	struct post_row *p = NULL;
	struct member *m = NULL;
	struct store_blob *b = NULL;
	GPtrArray *held = NULL;
	GError *err = NULL;
	sqlite3 *db;

	store_close(fx->st);
	fx->st = NULL;
	g_unlink(fx->path);
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(fx->path, &fx->st, &err), STORE_OK);
	assert_int_equal(number(fx->path, "PRAGMA user_version"), store_version());
	assert_int_equal(store_held_list(fx->st, L, &held, &err), STORE_OK);
	assert_int_equal(held->len, 1);
	g_ptr_array_free(held, TRUE);
	assert_int_equal(store_post_find(fx->st, L, 7, NULL, &p, &err), STORE_OK);
	assert_string_equal(p->status, "held");
	assert_string_equal(p->report_id, "2026-0001");
	assert_int_equal(g_bytes_get_size(p->raw), 5);
	assert_memory_equal(g_bytes_get_data(p->raw, NULL), "hi!\n\n", 5);
	assert_int_equal(p->decided, 0);
	store_post_row_free(p);
	/* raw messages and outbox bytes moved to tables of their own (version 4) */
	assert_int_equal(store_outbox_body(fx->st, 1, &b, &err), STORE_OK);
	assert_int_equal(store_blob_size(b), 1);
	store_blob_close(b);
	assert_int_equal(store_member_find(fx->st, L, "alice@example.org", &m, &err), STORE_OK);
	assert_string_equal(m->role, "moderator");
	assert_string_equal(m->unix_user, "");
	store_member_free(m);
	/* the outbox row still points at its post, and the post may now be decided */
	assert_int_equal(store_post_decide(fx->st, 7, "approved", 30, "alice@example.org", NULL, &err), STORE_OK);
	assert_int_equal(store_post_decide(fx->st, 7, "rejected", 31, "alice@example.org", NULL, &err),
			 STORE_NOTFOUND);
	assert_non_null(strstr(err->message, "post 7 is not held"));
	g_clear_error(&err);
	assert_int_equal(number(fx->path, "SELECT count(*) FROM outbox JOIN posts"
				" ON posts.id = outbox.post_id WHERE posts.status = 'approved'"), 1);
}

/* newer_schema - a file from a newer vigil is refused, not downgraded */
static void
newer_schema(void **state)
{
	struct fixture *fx = *state;
	struct store *again = NULL;
	GError *err = NULL;
	sqlite3 *db;
	char *sql = g_strdup_printf("PRAGMA user_version = %d", store_version() + 1);

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	g_free(sql);
	assert_int_equal(store_open(fx->path, &again, &err), STORE_ERROR);
	assert_null(again);
	assert_non_null(strstr(err->message, "is newer than this vigil knows"));
	g_error_free(err);
}

/* unwritable - a database that cannot be opened is RETRY and named */
static void
unwritable(void **state)
{
	struct store *st = NULL;
	GError *err = NULL;

	assert_int_equal(store_open("/nonexistent-dir/vigil.db", &st, &err), STORE_RETRY);
	assert_non_null(strstr(err->message, "database directory /nonexistent-dir: "));
	g_error_free(err);
}

/* mode_of - the permission bits of path */
static unsigned
mode_of(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		fail_msg("%s: %s", path, g_strerror(errno));
	return (unsigned) (sb.st_mode & 07777);
}

/*
 * usable - a handle kept open is not used again once the database's files
 * are writable by others, or (for a user other than root, whom modes do
 * not stop) no longer writable by this process
 */
static void
usable(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;

	assert_int_equal(store_usable(fx->path, &err), STORE_OK);
	assert_int_equal(chmod(fx->path, 0666), 0);
	assert_int_equal(store_usable(fx->path, &err), STORE_RETRY);
	assert_non_null(strstr(err->message, fx->path));
	g_clear_error(&err);
	assert_int_equal(chmod(fx->dir, 0777), 0);
	assert_int_equal(chmod(fx->path, 0600), 0);
	assert_int_equal(store_usable(fx->path, &err), STORE_RETRY);
	assert_non_null(strstr(err->message, fx->dir));
	g_clear_error(&err);
	assert_int_equal(chmod(fx->dir, 0700), 0);
	assert_int_equal(store_usable(fx->path, &err), STORE_OK);
	if (geteuid() != 0) {
		assert_int_equal(chmod(fx->path, 0400), 0);
		assert_int_equal(store_usable(fx->path, &err), STORE_RETRY);
		assert_non_null(strstr(err->message, "not writable"));
		g_clear_error(&err);
		assert_int_equal(chmod(fx->path, 0600), 0);
	}
}

/*
 * shared - threads sharing a store each keep what they commit and lose
 * what they roll back, whoever's turn commits the transaction, and read
 * between others' work; the store refuses the database once it is unsafe
 * and takes it again once safe
 */
#define SHARED_THREADS	6
#define SHARED_EACH	40

struct shared_run {
	struct store *st;
	int	 n;		/* which thread */
	int	 kept;		/* commits answered STORE_OK */
};

static gpointer
shared_worker(gpointer ud)
{
	struct shared_run *run = ud;
	int i;

	for (i = 0; i < SHARED_EACH; i++) {
		char *addr = g_strdup_printf("t%d-%d@example.org", run->n, i);
		struct store *rd;
		GError *err = NULL;

		/* a read outside a transaction, while others write */
		if ((rd = store_read_begin(run->st, &err)) == NULL
		    || store_member_find(rd, L, "a@example.org", NULL, &err) != STORE_OK)
			fail_msg("read: %s", err ? err->message : "not found");
		store_read_end(run->st);
		if (store_begin(run->st, &err) != STORE_OK
		    || store_member_add(run->st, L, addr, "member", "", NULL, 0, NULL, 1, &err) != STORE_OK)
			fail_msg("%s: %s", addr, err ? err->message : "?");
		if (i % 5 == 4)
			store_rollback(run->st);	/* its own work only */
		else if (store_commit(run->st, &err) == STORE_OK)
			run->kept++;
		else
			fail_msg("%s: %s", addr, err->message);
		g_free(addr);
	}
	return NULL;
}

static void
shared(void **state)
{
	struct fixture *fx = *state;
	struct store *st = store_shared_new(fx->path);
	struct shared_run runs[SHARED_THREADS];
	GThread *th[SHARED_THREADS];
	struct member *m = NULL;
	struct store *rd;
	GError *err = NULL;
	gint64 n = 0;
	int i, kept = 0;

	assert_int_equal(store_member_add(fx->st, L, "a@example.org", "member", "A", NULL, 0, NULL, 1, &err),
			 STORE_OK);
	for (i = 0; i < SHARED_THREADS; i++) {
		runs[i] = (struct shared_run) { st, i, 0 };
		th[i] = g_thread_new("shared", shared_worker, &runs[i]);
	}
	for (i = 0; i < SHARED_THREADS; i++) {
		g_thread_join(th[i]);
		kept += runs[i].kept;
	}
	assert_int_equal(kept, SHARED_THREADS * SHARED_EACH * 4 / 5);
	/* what another connection sees: the kept work, none of the rest */
	assert_int_equal(store_member_count(fx->st, L, NULL, &n, &err), STORE_OK);
	assert_int_equal(n, kept + 1);
	assert_int_equal(store_member_find(fx->st, L, "t2-3@example.org", &m, &err), STORE_OK);
	store_member_free(m);
	assert_int_equal(store_member_find(fx->st, L, "t2-4@example.org", &m, &err), STORE_NOTFOUND);

	/* reads outside a transaction wait for no turn (this thread holds
	 * it) and see committed work only */
	assert_int_equal(store_begin(st, &err), STORE_OK);
	assert_int_equal(store_member_add(st, L, "r@example.org", "member", "R", NULL, 0, NULL, 1, &err),
			 STORE_OK);
	assert_non_null(rd = store_read_begin(st, &err));
	assert_int_equal(store_member_find(rd, L, "r@example.org", NULL, &err), STORE_NOTFOUND);
	store_read_end(st);
	assert_int_equal(store_commit(st, &err), STORE_OK);
	assert_non_null(rd = store_read_begin(st, &err));
	assert_int_equal(store_member_find(rd, L, "r@example.org", NULL, &err), STORE_OK);
	store_read_end(st);

	/* a thread cannot begin twice, nor commit what it did not begin */
	assert_int_equal(store_commit(st, &err), STORE_ERROR);
	g_clear_error(&err);
	assert_int_equal(store_begin(st, &err), STORE_OK);
	assert_int_equal(store_begin(st, &err), STORE_ERROR);
	g_clear_error(&err);
	store_rollback(st);

	/* unsafe: refused before sqlite writes; safe again: a new connection */
	assert_int_equal(chmod(fx->dir, 0777), 0);
	assert_int_equal(store_begin(st, &err), STORE_RETRY);
	assert_non_null(strstr(err->message, fx->dir));
	g_clear_error(&err);
	assert_int_equal(chmod(fx->dir, 0700), 0);
	assert_int_equal(store_begin(st, &err), STORE_OK);
	assert_int_equal(store_member_add(st, L, "p@example.org", "member", "P", NULL, 0, NULL, 1, &err),
			 STORE_OK);
	assert_int_equal(store_commit(st, &err), STORE_OK);
	assert_int_equal(store_member_find(fx->st, L, "p@example.org", &m, &err), STORE_OK);
	store_member_free(m);
	store_close(st);
}

/* created_private - a new database and its -wal and -shm are 0600, whatever the umask */
static void
created_private(void **state)
{
	struct fixture *fx = *state;
	char *wal = g_strconcat(fx->path, "-wal", NULL);
	char *shm = g_strconcat(fx->path, "-shm", NULL);
	GError *err = NULL;
	mode_t old = umask(0);

	store_close(fx->st);
	g_unlink(fx->path);
	g_unlink(wal);
	g_unlink(shm);
	assert_int_equal(store_open(fx->path, &fx->st, &err), STORE_OK);
	umask(old);
	assert_int_equal(store_member_add(fx->st, L, "a@example.org", "member", "A", NULL, 0, NULL, 1, &err),
			 STORE_OK);
	assert_int_equal(mode_of(fx->path), 0600);
	assert_int_equal(mode_of(wal), 0600);
	assert_int_equal(mode_of(shm), 0600);
	g_free(wal);
	g_free(shm);
}

/* writable_by_others - each of the directory, the file, -wal and -shm refuses the database */
static void
writable_by_others(void **state)
{
	struct fixture *fx = *state;
	char *wal = g_strconcat(fx->path, "-wal", NULL);
	char *shm = g_strconcat(fx->path, "-shm", NULL);
	const char *paths[] = { fx->dir, fx->path, wal, shm };
	struct store *st = NULL;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(paths); i++) {
		GError *err = NULL;
		unsigned mode = mode_of(paths[i]);
		char *want = g_strdup_printf("%s is writable by others (mode %04o)", paths[i],
					     mode | 0002);

		assert_int_equal(chmod(paths[i], mode | 0002), 0);
		assert_int_equal(store_open(fx->path, &st, &err), STORE_RETRY);
		assert_null(st);
		if (strstr(err->message, want) == NULL || strstr(err->message, "chmod o-w") == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", paths[i], err->message, want);
		g_error_free(err);
		assert_int_equal(chmod(paths[i], mode), 0);
		g_free(want);
	}
	/* put right, it opens again */
	assert_int_equal(store_open(fx->path, &st, NULL), STORE_OK);
	store_close(st);
	g_free(wal);
	g_free(shm);
}

/* addresses - store_member_addresses() for roles, joined with commas */
static char *
addresses(struct store *st, const char *list, const char *const *roles)
{
	static char buf[256];
	GError *err = NULL;
	GPtrArray *a;
	char *s;

	if (store_member_addresses(st, list, roles, &a, &err) != STORE_OK)
		fail_msg("store_member_addresses: %s", err->message);
	g_ptr_array_add(a, NULL);
	s = g_strjoinv(",", (char **) a->pdata);
	g_strlcpy(buf, s, sizeof buf);
	g_free(s);
	g_ptr_array_free(a, TRUE);
	return buf;
}

/* members - add, find, list, addresses by role, remove, duplicates */
static void
members(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	struct member *m = NULL;
	GPtrArray *all;
	const char *const owners[] = { "owner", NULL };
	const char *const deciders[] = { "moderator", "owner", NULL };
	const char *const members_only[] = { "member", NULL };

	assert_int_equal(store_member_add(fx->st, L, "bob@example.org", "moderator", "Bob", NULL, 0, NULL, 100, &err), STORE_OK);
	assert_int_equal(store_member_add(fx->st, L, "alice@example.org", "owner", NULL, NULL, 0, NULL, 200, &err), STORE_OK);
	assert_int_equal(store_member_add(fx->st, L, "bob@example.org", "member", "", NULL, 0, NULL, 300, &err), STORE_EXISTS);
	g_clear_error(&err);
	assert_int_equal(store_member_add(fx->st, L, "carol@example.org", "admin", "", NULL, 0, NULL, 300, &err), STORE_ERROR);
	g_clear_error(&err);
	assert_int_equal(store_member_add(fx->st, "other@example.org", "bob@example.org", "member", "", NULL, 0, NULL, 1, &err),
			 STORE_OK);
	assert_int_equal(store_member_find(fx->st, L, "bob@example.org", &m, &err), STORE_OK);
	assert_string_equal(m->role, "moderator");
	assert_string_equal(m->name, "Bob");
	assert_int_equal(m->added, 100);
	store_member_free(m);
	assert_int_equal(store_member_find(fx->st, L, "nobody@example.org", NULL, &err), STORE_NOTFOUND);
	assert_int_equal(store_member_list(fx->st, L, &all, &err), STORE_OK);
	assert_int_equal(all->len, 2);
	assert_string_equal(((struct member *) g_ptr_array_index(all, 0))->address, "alice@example.org");
	g_ptr_array_free(all, TRUE);
	assert_string_equal(addresses(fx->st, L, NULL), "alice@example.org,bob@example.org");
	assert_string_equal(addresses(fx->st, L, owners), "alice@example.org");
	assert_string_equal(addresses(fx->st, L, deciders), "alice@example.org,bob@example.org");
	assert_string_equal(addresses(fx->st, L, members_only), "");
	assert_string_equal(addresses(fx->st, "other@example.org", deciders), "");
	assert_string_equal(addresses(fx->st, "other@example.org", NULL), "bob@example.org");
	assert_int_equal(store_member_remove(fx->st, L, "bob@example.org", &err), STORE_OK);
	assert_int_equal(store_member_remove(fx->st, L, "bob@example.org", &err), STORE_NOTFOUND);
	assert_int_equal(store_member_find(fx->st, "other@example.org", "bob@example.org", NULL, &err), STORE_OK);
}

/* report_ids - YYYY-NNNN, a counter per list and year */
static void
report_ids(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	char *id;

	assert_int_equal(store_report_next(fx->st, L, 2026, &id, &err), STORE_OK);
	assert_string_equal(id, "2026-0001");
	g_free(id);
	assert_int_equal(store_report_next(fx->st, L, 2026, &id, &err), STORE_OK);
	assert_string_equal(id, "2026-0002");
	g_free(id);
	assert_int_equal(store_report_next(fx->st, "other@example.org", 2026, &id, &err), STORE_OK);
	assert_string_equal(id, "2026-0001");
	g_free(id);
	assert_int_equal(store_report_next(fx->st, L, 2027, &id, &err), STORE_OK);
	assert_string_equal(id, "2027-0001");
	g_free(id);
}

/* autoreply_log - last auto-reply per list and sender */
static void
autoreply_log(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	gint64 when = -1;

	assert_int_equal(store_autoreply_last(fx->st, L, "r@example.net", &when, &err), STORE_OK);
	assert_int_equal(when, 0);
	assert_int_equal(store_autoreply_mark(fx->st, L, "r@example.net", 1000, &err), STORE_OK);
	assert_int_equal(store_autoreply_mark(fx->st, L, "r@example.net", 2000, &err), STORE_OK);
	assert_int_equal(store_autoreply_last(fx->st, L, "r@example.net", &when, &err), STORE_OK);
	assert_int_equal(when, 2000);
	assert_int_equal(store_autoreply_last(fx->st, "other@example.org", "r@example.net", &when, &err), STORE_OK);
	assert_int_equal(when, 0);
}

/* held_and_rollback - held posts listed oldest first; a rollback leaves nothing */
static void
held_and_rollback(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	struct post_record p = { L, "held", "non-member", "2026-0001", "r@example.net", "r@example.net",
				 "first", "m1@x", 500, 10, "raw", 3, NULL };
	GPtrArray *held;
	gint64 id;

	assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	p.report_id = "2026-0002", p.subject = "older", p.received = 400;
	assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	p.report_id = NULL, p.status = "relayed", p.subject = "relayed";
	assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	assert_int_equal(store_begin(fx->st, &err), STORE_OK);
	p.status = "held", p.report_id = "2026-0003", p.subject = "rolled back";
	assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	store_rollback(fx->st);
	assert_int_equal(store_held_list(fx->st, L, &held, &err), STORE_OK);
	assert_int_equal(held->len, 2);
	assert_string_equal(((struct post_row *) g_ptr_array_index(held, 0))->subject, "older");
	assert_string_equal(((struct post_row *) g_ptr_array_index(held, 1))->subject, "first");
	g_ptr_array_free(held, TRUE);
}

/* outbox - a claimed row is not claimed twice; retry keeps the rest */
static void
outbox(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	GPtrArray *rcpts = g_ptr_array_new();
	GByteArray *data = g_byte_array_new();
	struct outbox_item *it = NULL, *again = NULL;
	struct store_blob *b = NULL;
	char buf[21];
	GArray *ids, *done;
	gint64 id, n, gone;

	g_ptr_array_add(rcpts, "a@example.org");
	g_ptr_array_add(rcpts, "b@example.org");
	g_byte_array_append(data, (const guint8 *) "Subject: x\r\n\r\nbody\r\n", 21);
	assert_int_equal(store_outbox_add(fx->st, 0, "relay", "owner@example.org", rcpts, data, 100, &id, &err),
			 STORE_OK);
	assert_int_equal(store_outbox_pending(fx->st, 100, &ids, &err), STORE_OK);
	assert_int_equal(ids->len, 1);
	g_array_free(ids, TRUE);
	assert_int_equal(store_outbox_claim(fx->st, id, 100, 600, NULL, &it, &err), STORE_OK);
	assert_int_equal(it->rcpts->len, 2);
	assert_string_equal(it->sender, "owner@example.org");
	assert_int_equal(it->attempts, 1);
	assert_int_equal(store_outbox_body(fx->st, id, &b, &err), STORE_OK);
	assert_int_equal(store_blob_size(b), 21);
	assert_int_equal(store_blob_read(b, buf, 21, 0, &err), STORE_OK);
	assert_memory_equal(buf, "Subject: x\r\n\r\nbody\r\n", 21);
	store_blob_close(b);
	/* a second sender finds it taken, and does not list it */
	assert_int_equal(store_outbox_claim(fx->st, id, 200, 600, NULL, &again, &err), STORE_NOTFOUND);
	assert_null(again);
	assert_int_equal(store_outbox_pending(fx->st, 200, &ids, &err), STORE_OK);
	assert_int_equal(ids->len, 0);
	g_array_free(ids, TRUE);
	/* the relay took a, deferred b */
	g_ptr_array_remove_index(rcpts, 0);
	assert_int_equal(store_outbox_retry(fx->st, id, rcpts, "452 too many", TRUE, &err), STORE_OK);
	assert_int_equal(store_outbox_claim(fx->st, id, 300, 600, NULL, &again, &err), STORE_OK);
	assert_int_equal(again->rcpts->len, 1);
	assert_string_equal(g_ptr_array_index(again->rcpts, 0), "b@example.org");
	assert_int_equal(again->attempts, 2);
	/* an expired claim can be taken over */
	store_outbox_item_free(it);
	assert_int_equal(store_outbox_claim(fx->st, id, 300 + 600, 600, NULL, &it, &err), STORE_OK);
	done = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_array_append_val(done, id);
	gone = id + 1000;	/* a row already gone is no error */
	g_array_append_val(done, gone);
	assert_int_equal(store_outbox_done(fx->st, done, &err), STORE_OK);
	g_array_free(done, TRUE);
	assert_int_equal(store_outbox_count(fx->st, &n, &err), STORE_OK);
	assert_int_equal(n, 0);
	/* its bytes went with it */
	assert_int_equal(store_outbox_body(fx->st, id, &b, &err), STORE_NOTFOUND);
	assert_null(b);
	store_outbox_item_free(it);
	store_outbox_item_free(again);
	g_ptr_array_free(rcpts, TRUE);
	g_byte_array_unref(data);
}

/* queue - an outbox row of one recipient and a few bytes; its id */
static gint64
queue(struct fixture *fx, const char *rcpt)
{
	GPtrArray *rcpts = g_ptr_array_new();
	GByteArray *data = g_byte_array_new();
	GError *err = NULL;
	gint64 id = 0;

	g_ptr_array_add(rcpts, (char *) rcpt);
	g_byte_array_append(data, (const guint8 *) "x\r\n", 3);
	assert_int_equal(store_outbox_add(fx->st, 0, "relay", "", rcpts, data, 100, &id, &err), STORE_OK);
	g_ptr_array_free(rcpts, TRUE);
	g_byte_array_unref(data);
	return id;
}

/* ids_of - the ids of claimed items, "1,2,3" */
static char *
ids_of(GPtrArray *items)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < items->len; i++)
		g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i ? "," : "",
				       ((struct outbox_item *) g_ptr_array_index(items, i))->id);
	g_ptr_array_free(items, TRUE);
	return g_string_free(s, FALSE);
}

/* claim_due - what store_outbox_claim_due() takes, as "1,2,3" */
static char *
claim_due(struct fixture *fx, gint64 now, gint64 after, int max)
{
	GPtrArray *items = NULL;
	GError *err = NULL;

	assert_int_equal(store_outbox_claim_due(fx->st, now, 600, after, max, NULL, &items, &err), STORE_OK);
	return ids_of(items);
}

/* outbox_batches - rows due are claimed oldest first, a batch at a time; a row released behind waits */
static void
outbox_batches(void **state)
{
	struct fixture *fx = *state;
	GPtrArray *left = g_ptr_array_new();
	GError *err = NULL;
	gint64 id[5];
	char *got;
	int i;

	for (i = 0; i < 5; i++)
		id[i] = queue(fx, "a@example.org");
	assert_int_equal(id[4], id[0] + 4);
	got = claim_due(fx, 100, 0, 2);
	assert_string_equal(got, "1,2");
	g_free(got);
	got = claim_due(fx, 100, 2, 2);
	assert_string_equal(got, "3,4");
	g_free(got);
	/* 1 is deferred and released while the flush goes on: it is behind */
	g_ptr_array_add(left, "a@example.org");
	assert_int_equal(store_outbox_retry(fx->st, id[0], left, "451 later", TRUE, &err), STORE_OK);
	got = claim_due(fx, 100, 4, 2);
	assert_string_equal(got, "5");
	g_free(got);
	got = claim_due(fx, 100, 5, 2);
	assert_string_equal(got, "");
	g_free(got);
	/* the next flush starts over and finds it; the others are still claimed */
	got = claim_due(fx, 101, 0, 32);
	assert_string_equal(got, "1");
	g_free(got);
	/* their claims run out */
	got = claim_due(fx, 100 + 600, 0, 32);
	assert_string_equal(got, "2,3,4,5");
	g_free(got);
	g_ptr_array_free(left, TRUE);
}

/* a writer of a blob in three pieces, or of too few or too many bytes */
struct pieces {
	const guint8 *data;
	size_t	len;
	long	skew;		/* bytes written beyond (or short of) len */
};

/* write_pieces - a store_writer in three pieces */
static void
write_pieces(struct store_blob *b, gpointer ud)
{
	const struct pieces *p = ud;
	size_t third = p->len / 3;

	store_blob_write(b, p->data, third);
	store_blob_write(b, p->data + third, third);
	store_blob_write(b, p->data + 2 * third, (size_t) ((long) (p->len - 2 * third) + p->skew));
}

/* round_trip - a raw message and outbox bytes of len bytes are written and read in pieces, exactly */
static void
round_trip(struct fixture *fx, size_t len, const char *report_id)
{
	size_t i;
	guint8 *data = g_malloc(len + 16), *back = g_malloc(len);
	struct post_record rec = { L, "held", "non-member", report_id, "r@example.net", NULL,
				   "big", NULL, 500, (gint64) len, data, len, NULL };
	struct pieces pc = { data, len, 0 };
	GPtrArray *rcpts = g_ptr_array_new();
	struct store_blob *b = NULL;
	struct post_row *p = NULL;
	GError *err = NULL;
	gint64 post, id;

	for (i = 0; i < len + 16; i++)
		data[i] = (guint8) (i * 7 + i / 251);
	g_ptr_array_add(rcpts, "a@example.org");
	assert_int_equal(store_post_add(fx->st, &rec, &post, &err), STORE_OK);
	assert_int_equal(store_post_find(fx->st, L, post, NULL, &p, &err), STORE_OK);
	assert_int_equal(g_bytes_get_size(p->raw), len);
	assert_memory_equal(g_bytes_get_data(p->raw, NULL), data, len);
	store_post_row_free(p);

	assert_int_equal(store_outbox_add_with(fx->st, post, "relay", "", rcpts, (gint64) len,
					       write_pieces, &pc, 100, &id, &err), STORE_OK);
	assert_int_equal(store_outbox_body(fx->st, id, &b, &err), STORE_OK);
	assert_int_equal(store_blob_size(b), len);
	/* read back in odd pieces */
	for (i = 0; i < len; i += 1000003)
		assert_int_equal(store_blob_read(b, back + i, MIN(1000003, len - i), (gint64) i, &err), STORE_OK);
	assert_memory_equal(back, data, len);
	/* past the end is an error, not a short read */
	assert_int_equal(store_blob_read(b, back, 2, (gint64) len - 1, &err), STORE_ERROR);
	g_clear_error(&err);
	store_blob_close(b);

	/* a writer that writes less, or more, than it said fails */
	for (pc.skew = -1; pc.skew <= 1; pc.skew += 2) {
		assert_int_not_equal(store_outbox_add_with(fx->st, 0, "relay", "", rcpts, (gint64) len,
							   write_pieces, &pc, 100, &id, &err), STORE_OK);
		assert_non_null(err);
		g_clear_error(&err);
	}
	g_ptr_array_free(rcpts, TRUE);
	g_free(data);
	g_free(back);
}

/* big_blobs - more than one piece of sqlite3_blob_*, read and written in place */
static void
big_blobs(void **state)
{
	round_trip(*state, (17 << 20) + 5, "2026-0001");
}

/* small_blobs - blobs up to 64 KiB are written with their row and read whole: both sides of it */
static void
small_blobs(void **state)
{
	round_trip(*state, 1000, "2026-0001");
	round_trip(*state, 64 << 10, "2026-0002");
	round_trip(*state, (64 << 10) + 1, "2026-0003");
}

/*
 * small_read_ends - a small outbox row is read whole: no read stays open
 * while it is sent, so the WAL can be checkpointed meanwhile; a large one
 * is read in place and holds its read until closed
 */
static void
small_read_ends(void **state)
{
	struct fixture *fx = *state;
	GPtrArray *rcpts = g_ptr_array_new();
	GByteArray *data = g_byte_array_new();
	struct store_blob *b = NULL;
	GError *err = NULL;
	guint8 back[8];
	gint64 small, large, id;

	g_ptr_array_add(rcpts, "a@example.org");
	g_byte_array_set_size(data, (64 << 10) + 1);
	memset(data->data, 'x', data->len);
	memcpy(data->data, "Subject:", 8);
	assert_int_equal(store_outbox_add(fx->st, 0, "forward", "", rcpts, data, 100, &large, &err), STORE_OK);
	g_byte_array_set_size(data, 1000);
	assert_int_equal(store_outbox_add(fx->st, 0, "forward", "", rcpts, data, 100, &small, &err), STORE_OK);

	assert_int_equal(store_outbox_body(fx->st, small, &b, &err), STORE_OK);
	/* the busy column of the checkpoint's row: 0, it went through */
	assert_int_equal(number(fx->path, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	assert_int_equal(store_blob_read(b, back, sizeof back, 0, &err), STORE_OK);
	assert_memory_equal(back, "Subject:", 8);
	store_blob_close(b);

	assert_int_equal(store_outbox_add(fx->st, 0, "forward", "", rcpts, data, 100, &id, &err), STORE_OK);
	assert_int_equal(store_outbox_body(fx->st, large, &b, &err), STORE_OK);
	assert_int_equal(number(fx->path, "PRAGMA wal_checkpoint(TRUNCATE)"), 1);
	store_blob_close(b);
	assert_int_equal(number(fx->path, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	g_byte_array_unref(data);
	g_ptr_array_free(rcpts, TRUE);
}

/* a writer that looks at the outbox from another connection while it writes */
struct peek {
	struct fixture *fx;
	size_t	len;		/* bytes to write */
	int	seen;		/* outbox rows another connection saw meanwhile */
};

/* write_peeking - a store_writer of len bytes that notes what others see of the outbox */
static void
write_peeking(struct store_blob *b, gpointer ud)
{
	struct peek *p = ud;

	store_blob_write(b, "x", 1);
	p->seen = number(p->fx->path, "SELECT count(*) FROM outbox");
	store_blob_write(b, "yz", p->len - 1);
}

/* outbox_whole - outside a transaction, a row appears with its bytes or not at all */
static void
outbox_whole(void **state)
{
	struct fixture *fx = *state;
	struct peek pk = { fx, 3, -1 };
	GPtrArray *rcpts = g_ptr_array_new();
	struct store_blob *b = NULL;
	GError *err = NULL;
	char back[3];
	gint64 id;

	g_ptr_array_add(rcpts, "a@example.org");
	assert_int_equal(store_outbox_add_with(fx->st, 0, "relay", "", rcpts, 3, write_peeking, &pk,
					       100, &id, &err), STORE_OK);
	/* a sender looking while the bytes were written found nothing to claim */
	assert_int_equal(pk.seen, 0);
	assert_int_equal(store_outbox_body(fx->st, id, &b, &err), STORE_OK);
	assert_int_equal(store_blob_read(b, back, 3, 0, &err), STORE_OK);
	assert_memory_equal(back, "xyz", 3);
	store_blob_close(b);

	/* a writer that falls short leaves no row behind to be sent */
	pk.len = 2;
	assert_int_equal(store_outbox_add_with(fx->st, 0, "relay", "", rcpts, 3, write_peeking, &pk,
					       100, &id, &err), STORE_ERROR);
	g_clear_error(&err);
	assert_int_equal(pk.seen, 1);
	assert_int_equal(number(fx->path, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(number(fx->path, "SELECT count(*) FROM outbox_data"), 1);
	g_ptr_array_free(rcpts, TRUE);
}

/* held_page - the oldest few held posts and how many there are */
static void
held_page(void **state)
{
	struct fixture *fx = *state;
	struct post_record p = { L, "held", "non-member", NULL, "r@example.net", NULL,
				 NULL, NULL, 0, 10, NULL, 0, NULL };
	const char *subjects[] = { "c", "a", "d", "b" };
	gint64 received[] = { 300, 100, 400, 200 };
	GPtrArray *held;
	GError *err = NULL;
	gint64 id, total = -1;
	char rid[16];
	int i;

	for (i = 0; i < 4; i++) {
		g_snprintf(rid, sizeof rid, "2026-%04d", i + 1);
		p.report_id = rid, p.subject = subjects[i], p.received = received[i];
		assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	}
	p.report_id = NULL, p.status = "relayed", p.subject = "relayed", p.received = 50;
	assert_int_equal(store_post_add(fx->st, &p, &id, &err), STORE_OK);
	assert_int_equal(store_held_page(fx->st, L, 2, &held, &total, &err), STORE_OK);
	assert_int_equal(total, 4);
	assert_int_equal(held->len, 2);
	assert_string_equal(((struct post_row *) g_ptr_array_index(held, 0))->subject, "a");
	assert_string_equal(((struct post_row *) g_ptr_array_index(held, 1))->subject, "b");
	g_ptr_array_free(held, TRUE);
	assert_int_equal(store_held_page(fx->st, L, -1, &held, &total, &err), STORE_OK);
	assert_int_equal(held->len, 4);
	assert_string_equal(((struct post_row *) g_ptr_array_index(held, 3))->subject, "d");
	g_ptr_array_free(held, TRUE);
	assert_int_equal(store_held_page(fx->st, "other@example.org", 2, &held, &total, &err), STORE_OK);
	assert_int_equal(total, 0);
	assert_int_equal(held->len, 0);
	g_ptr_array_free(held, TRUE);
}

/* outbox_empty - a message of no bytes is queued as no bytes (an empty array's data is NULL) */
static void
outbox_empty(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	GPtrArray *rcpts = g_ptr_array_new();
	GByteArray *data = g_byte_array_new();
	struct outbox_item *it = NULL;
	struct store_blob *b = NULL;
	gint64 id;

	g_ptr_array_add(rcpts, "a@example.org");
	if (store_outbox_add(fx->st, 0, "forward", "", rcpts, data, 100, &id, &err) != STORE_OK)
		fail_msg("store_outbox_add: %s", err ? err->message : "?");
	assert_int_equal(store_outbox_claim(fx->st, id, 100, 600, NULL, &it, &err), STORE_OK);
	assert_int_equal(store_outbox_body(fx->st, id, &b, &err), STORE_OK);
	assert_int_equal(store_blob_size(b), 0);
	store_blob_close(b);
	store_outbox_item_free(it);
	g_ptr_array_free(rcpts, TRUE);
	g_byte_array_unref(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(from_version_1, setup, teardown),
		cmocka_unit_test(unwritable),
		cmocka_unit_test_setup_teardown(usable, setup, teardown),
		cmocka_unit_test_setup_teardown(shared, setup, teardown),
		cmocka_unit_test_setup_teardown(created_private, setup, teardown),
		cmocka_unit_test_setup_teardown(writable_by_others, setup, teardown),
		cmocka_unit_test_setup_teardown(members, setup, teardown),
		cmocka_unit_test_setup_teardown(report_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(autoreply_log, setup, teardown),
		cmocka_unit_test_setup_teardown(held_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(big_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(small_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(small_read_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(held_page, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox_empty, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
