/*
 * test_store - migrations, members, report ids, the auto-reply log, the
 * outbox, on a real sqlite file
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
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

/* user_version - read the schema version straight from the file */
static int
user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
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

	assert_int_equal(user_version(fx->path), store_version());
	assert_int_equal(store_member_add(fx->st, L, "a@example.org", "member", "A", NULL, 0, NULL, 1, &err), STORE_OK);
	assert_int_equal(store_open(fx->path, &again, &err), STORE_OK);
	assert_int_equal(user_version(fx->path), store_version());
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
	assert_int_equal(user_version(fx->path), store_version());
	assert_int_equal(store_held_list(fx->st, L, &held, &err), STORE_OK);
	assert_int_equal(held->len, 1);
	g_ptr_array_free(held, TRUE);
	assert_int_equal(store_post_find(fx->st, L, 7, NULL, &p, &err), STORE_OK);
	assert_string_equal(p->status, "held");
	assert_string_equal(p->report_id, "2026-0001");
	assert_int_equal(g_bytes_get_size(p->raw), 5);
	assert_int_equal(p->decided, 0);
	store_post_row_free(p);
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
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	{
		sqlite3_stmt *stmt;

		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox JOIN posts"
						    " ON posts.id = outbox.post_id WHERE posts.status = 'approved'",
						    -1, &stmt, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(stmt, 0), 1);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
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
	assert_non_null(strstr(err->message, "/nonexistent-dir/vigil.db"));
	g_error_free(err);
}

/* members - add, find, list, remove, duplicates */
static void
members(void **state)
{
	struct fixture *fx = *state;
	GError *err = NULL;
	struct member *m = NULL;
	GPtrArray *all;

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
	GArray *ids;
	gint64 id, n;

	g_ptr_array_add(rcpts, "a@example.org");
	g_ptr_array_add(rcpts, "b@example.org");
	g_byte_array_append(data, (const guint8 *) "Subject: x\r\n\r\nbody\r\n", 21);
	assert_int_equal(store_outbox_add(fx->st, 0, "relay", "owner@example.org", rcpts, data, 100, &id, &err),
			 STORE_OK);
	assert_int_equal(store_outbox_pending(fx->st, 100, &ids, &err), STORE_OK);
	assert_int_equal(ids->len, 1);
	g_array_free(ids, TRUE);
	assert_int_equal(store_outbox_claim(fx->st, id, 100, 600, &it, &err), STORE_OK);
	assert_int_equal(it->rcpts->len, 2);
	assert_string_equal(it->sender, "owner@example.org");
	assert_int_equal(g_bytes_get_size(it->data), 21);
	assert_int_equal(it->attempts, 1);
	/* a second sender finds it taken, and does not list it */
	assert_int_equal(store_outbox_claim(fx->st, id, 200, 600, &again, &err), STORE_NOTFOUND);
	assert_null(again);
	assert_int_equal(store_outbox_pending(fx->st, 200, &ids, &err), STORE_OK);
	assert_int_equal(ids->len, 0);
	g_array_free(ids, TRUE);
	/* the relay took a, deferred b */
	g_ptr_array_remove_index(rcpts, 0);
	assert_int_equal(store_outbox_retry(fx->st, id, rcpts, "452 too many", TRUE, &err), STORE_OK);
	assert_int_equal(store_outbox_claim(fx->st, id, 300, 600, &again, &err), STORE_OK);
	assert_int_equal(again->rcpts->len, 1);
	assert_string_equal(g_ptr_array_index(again->rcpts, 0), "b@example.org");
	assert_int_equal(again->attempts, 2);
	/* an expired claim can be taken over */
	store_outbox_item_free(it);
	assert_int_equal(store_outbox_claim(fx->st, id, 300 + 600, 600, &it, &err), STORE_OK);
	assert_int_equal(store_outbox_done(fx->st, id, &err), STORE_OK);
	assert_int_equal(store_outbox_count(fx->st, &n, &err), STORE_OK);
	assert_int_equal(n, 0);
	store_outbox_item_free(it);
	store_outbox_item_free(again);
	g_ptr_array_free(rcpts, TRUE);
	g_byte_array_unref(data);
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
	gint64 id;

	g_ptr_array_add(rcpts, "a@example.org");
	if (store_outbox_add(fx->st, 0, "forward", "", rcpts, data, 100, &id, &err) != STORE_OK)
		fail_msg("store_outbox_add: %s", err ? err->message : "?");
	assert_int_equal(store_outbox_claim(fx->st, id, 100, 600, &it, &err), STORE_OK);
	assert_int_equal(g_bytes_get_size(it->data), 0);
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
		cmocka_unit_test_setup_teardown(members, setup, teardown),
		cmocka_unit_test_setup_teardown(report_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(autoreply_log, setup, teardown),
		cmocka_unit_test_setup_teardown(held_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox_empty, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
