/*
 * dbfixture - a list, its configuration and a real sqlite file in a
 * temporary directory, for the unit tests of intake and moderation
 *
 * fixture_new() writes vigil.conf with the list FIXTURE_LIST (name Sec,
 * owner owner@example.org, the relay and the DNS resolver on a port
 * where nothing listens,
 * the templates of $VIGIL_SRCDIR) plus list_options, in which @DIR@
 * stands for the fixture's directory, and opens a new database; NULL
 * on failure, with the reason printed.  A test's setup
 * adds its members.  fixture_teardown() removes it all.  query() reads
 * the first column of the first row ("(no row)" if none) through a
 * connection of its own; expect() fails the test unless it is want.
 *
 * The rest reads back what the code under test queued: outbox_data()
 * the bytes of the one outbox row a WHERE clause picks, notice_get()
 * its header block and decoded text; has() and lacks() fail the test
 * with the text when a needle is missing or present.
 *
 * log_capture_begin() sends log_msg()'s lines to a file, by way of
 * stderr; log_capture_end() restores stderr and returns the lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sqlite3.h>

#include "dbfixture.h"
#include "log.h"

/* fixture_new - the configuration and an empty database in a new directory */
struct fixture *
fixture_new(const char *prefix, const char *list_options)
{
	struct fixture *fx = g_new0(struct fixture, 1);
	const char *src = getenv("VIGIL_SRCDIR");
	char *tmpl = g_strconcat(prefix, "-XXXXXX", NULL);
	char *conf, *text, *opts;
	char **parts = g_strsplit(list_options, "@DIR@", -1);
	GError *err = NULL;

	fx->dir = g_dir_make_tmp(tmpl, NULL);
	g_free(tmpl);
	opts = g_strjoinv(fx->dir, parts);
	g_strfreev(parts);
	fx->ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	conf = g_build_filename(fx->dir, "vigil.conf", NULL);
	text = g_strdup_printf("[vigil]\ndatabase = %s/vigil.db\nrelay = smtp://127.0.0.1:1\n"
			       "resolver = 127.0.0.1:1\n"
			       "template_dir = %s/conf/templates\n"
			       "[list " FIXTURE_LIST "]\nname = Sec\nowner = owner@example.org\n%s",
			       fx->dir, src ? src : ".", opts);
	g_free(opts);
	g_file_set_contents(conf, text, -1, NULL);
	fx->cfg = config_load(conf, &err);
	g_free(text);
	g_free(conf);
	if (fx->cfg == NULL || store_open(fx->cfg->database, &fx->st, &err) != STORE_OK) {
		print_error("fixture: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		fixture_teardown((void **) &fx);
		return NULL;
	}
	fx->l = config_find_list(fx->cfg, FIXTURE_LIST);
	return fx;
}

/* remove_tree - a directory and everything below it (a list's archive too) */
static void
remove_tree(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(dir, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			remove_tree(p);
		else
			g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
}

/* fixture_teardown - close and remove everything */
int
fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	remove_tree(fx->dir);
	g_free(fx->dir);
	config_free(fx->cfg);
	g_array_free(fx->ids, TRUE);
	g_free(fx);
	return 0;
}

/* query - the first column of the first row, as a string; "(no row)" if none */
char *
query(struct fixture *fx, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char *out = NULL;

	assert_int_equal(sqlite3_open(fx->cfg->database, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		out = g_strdup(sqlite3_column_text(stmt, 0) ? (const char *) sqlite3_column_text(stmt, 0) : "");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out ? out : g_strdup("(no row)");
}

/* expect - query gives want */
void
expect(struct fixture *fx, const char *sql, const char *want)
{
	char *got = query(fx, sql);
	int same = strcmp(got, want) == 0;
	char *msg = same ? NULL : g_strdup_printf("%s: got \"%s\", want \"%s\"", sql, got, want);

	g_free(got);
	if (!same) {
		print_error("%s\n", msg);
		g_free(msg);
		fail();
	}
}

/* expectf - expect with a printf-formatted want */
void
expectf(struct fixture *fx, const char *sql, const char *fmt, ...)
{
	va_list ap;
	char *want;

	va_start(ap, fmt);
	want = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	expect(fx, sql, want);
	g_free(want);
}

/* outbox_data - the data of the one outbox row matching where, NUL-terminated */
char *
outbox_data(struct fixture *fx, const char *where, gsize *len)
{
	char *sql = g_strdup_printf("SELECT data, (SELECT count(*) FROM outbox WHERE %s) FROM " OUTBOX_DATA " WHERE %s",
				    where, where);
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char *out = NULL;

	assert_int_equal(sqlite3_open(fx->cfg->database, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 1) == 1) {
		*len = sqlite3_column_bytes(stmt, 0);
		out = g_malloc(*len + 1);
		memcpy(out, sqlite3_column_blob(stmt, 0), *len);
		out[*len] = '\0';
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (out == NULL)
		fail_msg("not exactly one outbox row where %s", where);
	g_free(sql);
	return out;
}

/* head_of - the header block of a message, CRLF lines */
char *
head_of(const char *data)
{
	const char *end = strstr(data, "\r\n\r\n");

	return end ? g_strndup(data, end - data + 2) : g_strdup(data);
}

/* text_of - the decoded text of a single-part notice (quoted-printable undone) */
char *
text_of(const char *data, gsize len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GMimeObject *part = msg ? g_mime_message_get_mime_part(msg) : NULL;
	char *text = part && GMIME_IS_TEXT_PART(part) ? g_mime_text_part_get_text(GMIME_TEXT_PART(part)) : NULL;
	char *p, *q;

	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	if (text == NULL)
		fail_msg("not a text message: %.200s", data);
	for (p = q = text; *p; p++)	/* CRLF on the wire, lines here */
		if (!(p[0] == '\r' && p[1] == '\n'))
			*q++ = *p;
	*q = '\0';
	return text;
}

/* notice_get - head and decoded text of the one outbox row matching where */
void
notice_get(struct fixture *fx, const char *where, struct notice_text *n)
{
	n->data = outbox_data(fx, where, &n->len);
	n->head = head_of(n->data);
	n->text = text_of(n->data, n->len);
}

/* notice_clear - free what notice_get filled */
void
notice_clear(struct notice_text *n)
{
	g_free(n->data);
	g_free(n->head);
	g_free(n->text);
}

/* has - text contains needle, or fail naming both */
void
has(const char *what, const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("%s has no \"%s\":\n%s", what, needle, text);
}

/* lacks - text does not contain needle */
void
lacks(const char *what, const char *text, const char *needle)
{
	if (strstr(text, needle) != NULL)
		fail_msg("%s has \"%s\":\n%s", what, needle, text);
}

/* the stderr log_capture_begin() replaced, and the file it writes to */
static struct {
	int	 saved;
	char	*path;
} cap;

/* log_capture_begin - log lines go to a file from now on */
void
log_capture_begin(void)
{
	GError *err = NULL;
	int fd = g_file_open_tmp("vigil-log-XXXXXX", &cap.path, &err);

	assert_true(fd >= 0);
	fflush(stderr);
	cap.saved = dup(2);
	assert_true(dup2(fd, 2) == 2);
	close(fd);
	log_open("vigil-test", true);
}

/* log_capture_end - stop capturing; the lines logged since log_capture_begin() */
char *
log_capture_end(void)
{
	char *text = NULL;

	fflush(stderr);
	dup2(cap.saved, 2);
	close(cap.saved);
	log_open("vigil-test", false);
	assert_true(g_file_get_contents(cap.path, &text, NULL, NULL));
	g_unlink(cap.path);
	g_free(cap.path);
	return text;
}
