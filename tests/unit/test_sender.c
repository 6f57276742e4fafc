/*
 * test_sender - the outbox sent: over one connection kept from one
 * message to the next, again on a new one when the relay has closed a
 * kept one, a message's bytes read from the database as they go out,
 * deferred recipients kept, and the sending threads of a resident
 * process (sender.c) sending each row exactly once.
 *
 * The relay is a fake one in this process: a thread per connection on
 * 127.0.0.1, speaking just enough SMTP, counting connections and
 * transactions and keeping what it was sent.  It answers 452 to a
 * recipient whose local part starts with "tmp" and can close every
 * connection after a transaction (a relay that drops idle clients).
 * No assertion depends on time: waits are for a state, with a bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "dbfixture.h"
#include "message.h"
#include "outbox.h"
#include "queue.h"
#include "send.h"
#include "sender.h"

/* the fake relay */
struct relay {
	int	lfd;
	int	port;
	GThread *acceptor;
	GMutex	lock;
	int	connections;
	int	transactions;
	GPtrArray *messages;	/* GByteArray *: the DATA of each transaction, undotted */
	GPtrArray *rcpts;	/* char *: every recipient accepted */
	bool	close_after_each;
	gint	stop;
};

/* say - one reply */
static void
say(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0)
		return;
}

/* read_line - one CRLF line into line (without CRLF); false at end of file */
static bool
read_line(int fd, GString *line)
{
	char c;

	g_string_truncate(line, 0);
	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (line->len && line->str[line->len - 1] == '\r')
				g_string_truncate(line, line->len - 1);
			return true;
		}
		g_string_append_c(line, c);
	}
	return false;
}

/* a connection to serve */
struct conn {
	struct relay *r;
	int	fd;
};

/* session - one SMTP connection */
static gpointer
session(gpointer data)
{
	struct conn *c = data;
	struct relay *r = c->r;
	int fd = c->fd;
	GString *line = g_string_new(NULL);
	GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);

	g_free(c);
	say(fd, "220 fake relay\r\n");
	while (read_line(fd, line)) {
		if (g_ascii_strncasecmp(line->str, "EHLO", 4) == 0 || g_ascii_strncasecmp(line->str, "HELO", 4) == 0) {
			say(fd, "250 fake\r\n");
		} else if (g_ascii_strncasecmp(line->str, "MAIL FROM:", 10) == 0) {
			g_ptr_array_set_size(rcpts, 0);
			say(fd, "250 ok\r\n");
		} else if (g_ascii_strncasecmp(line->str, "RCPT TO:<", 9) == 0) {
			char *a = g_strndup(line->str + 9, strcspn(line->str + 9, ">"));

			if (g_str_has_prefix(a, "tmp")) {
				say(fd, "452 4.5.3 later\r\n");
				g_free(a);
			} else {
				g_ptr_array_add(rcpts, a);
				say(fd, "250 ok\r\n");
			}
		} else if (g_ascii_strcasecmp(line->str, "DATA") == 0) {
			GByteArray *msg = g_byte_array_new();
			guint i;

			say(fd, "354 go on\r\n");
			while (read_line(fd, line) && strcmp(line->str, ".") != 0) {
				const char *p = line->str[0] == '.' ? line->str + 1 : line->str;

				g_byte_array_append(msg, (const guint8 *) p, (guint) strlen(p));
				g_byte_array_append(msg, (const guint8 *) "\r\n", 2);
			}
			g_mutex_lock(&r->lock);
			r->transactions++;
			g_ptr_array_add(r->messages, msg);
			for (i = 0; i < rcpts->len; i++)
				g_ptr_array_add(r->rcpts, g_strdup(g_ptr_array_index(rcpts, i)));
			g_mutex_unlock(&r->lock);
			say(fd, "250 queued\r\n");
			if (r->close_after_each)
				break;
		} else if (g_ascii_strcasecmp(line->str, "QUIT") == 0) {
			say(fd, "221 bye\r\n");
			break;
		} else {
			say(fd, "250 ok\r\n");	/* RSET, NOOP */
		}
	}
	close(fd);
	g_string_free(line, TRUE);
	g_ptr_array_free(rcpts, TRUE);
	return NULL;
}

/* acceptor - a thread per connection until told to stop */
static gpointer
acceptor(gpointer data)
{
	struct relay *r = data;
	struct pollfd p = { .fd = r->lfd, .events = POLLIN };

	while (!g_atomic_int_get(&r->stop)) {
		struct conn *c;
		int fd;

		if (poll(&p, 1, 50) <= 0 || (fd = accept(r->lfd, NULL, NULL)) < 0)
			continue;
		g_mutex_lock(&r->lock);
		r->connections++;
		g_mutex_unlock(&r->lock);
		c = g_new(struct conn, 1);
		c->r = r;
		c->fd = fd;
		g_thread_unref(g_thread_new("session", session, c));
	}
	return NULL;
}

/* relay_start - a fake relay on a free port of 127.0.0.1 */
static struct relay *
relay_start(void)
{
	struct relay *r = g_new0(struct relay, 1);
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof in;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	assert_int_equal(bind(r->lfd, (struct sockaddr *) &in, sizeof in), 0);
	assert_int_equal(listen(r->lfd, 16), 0);
	assert_int_equal(getsockname(r->lfd, (struct sockaddr *) &in, &len), 0);
	r->port = ntohs(in.sin_port);
	g_mutex_init(&r->lock);
	r->messages = g_ptr_array_new_with_free_func((GDestroyNotify) g_byte_array_unref);
	r->rcpts = g_ptr_array_new_with_free_func(g_free);
	r->acceptor = g_thread_new("acceptor", acceptor, r);
	return r;
}

/* relay_stop - stop taking connections (open sessions end with their clients) */
static void
relay_stop(struct relay *r)
{
	g_atomic_int_set(&r->stop, 1);
	g_thread_join(r->acceptor);
	close(r->lfd);
	g_ptr_array_free(r->messages, TRUE);
	g_ptr_array_free(r->rcpts, TRUE);
	g_mutex_clear(&r->lock);
	g_free(r);
}

/* counts - "connections transactions" of the relay so far */
static char *
counts(struct relay *r)
{
	char *s;

	g_mutex_lock(&r->lock);
	s = g_strdup_printf("%d %d", r->connections, r->transactions);
	g_mutex_unlock(&r->lock);
	return s;
}

struct state {
	struct fixture *fx;
	struct relay *relay;
};

/* setup - a database, a fake relay, and vigil.conf's relay pointing to it */
static int
setup(void **state)
{
	struct state *s = g_new0(struct state, 1);

	if ((s->fx = fixture_new("vigil-sender", "")) == NULL)
		return -1;
	s->relay = relay_start();
	g_free(s->fx->cfg->relay);
	s->fx->cfg->relay = g_strdup_printf("smtp://127.0.0.1:%d/test.example", s->relay->port);
	*state = s;
	return 0;
}

/* teardown - the relay stopped, the database removed */
static int
teardown(void **state)
{
	struct state *s = *state;
	void *fx = s->fx;

	relay_stop(s->relay);
	fixture_teardown(&fx);
	g_free(s);
	return 0;
}

/* queue - an outbox row to rcpt (comma-separated) with these bytes; its id */
static gint64
queue(struct fixture *fx, const char *rcpts, const char *data, size_t len)
{
	char **v = g_strsplit(rcpts, ",", -1);
	GPtrArray *to = g_ptr_array_new();
	GByteArray *b = g_byte_array_new();
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	GError *err = NULL;
	gint64 id;
	int i;

	for (i = 0; v[i]; i++)
		g_ptr_array_add(to, v[i]);
	g_byte_array_append(b, (const guint8 *) data, (guint) len);
	assert_int_equal(queue_message(fx->st, 0, "relay", "list-bounces@example.org", to, b, 100, ids, &err),
			 STORE_OK);
	id = g_array_index(ids, gint64, 0);
	g_array_free(ids, TRUE);
	g_byte_array_unref(b);
	g_ptr_array_free(to, TRUE);
	g_strfreev(v);
	return id;
}

#define MSG(n) "Subject: " n "\r\n\r\nbody of " n "\r\n"

/* one_connection - the rows of a flush go over one connection, one transaction each */
static void
one_connection(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	char *got;

	queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	queue(s->fx, "a@example.org,b@example.org", MSG("three"), strlen(MSG("three")));
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 3);
	assert_int_equal(stats.left, 0);
	got = counts(s->relay);
	assert_string_equal(got, "1 3");
	g_free(got);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	expect(s->fx, "SELECT count(*) FROM outbox_data", "0");
	assert_int_equal(s->relay->rcpts->len, 4);
}

/* stale_connection - a kept connection the relay has closed: the next message goes on a new one */
static void
stale_connection(void **state)
{
	struct state *s = *state;
	struct send_session *ss = send_session_new();
	struct flush_stats stats;
	GError *err = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 id;
	char *got;

	s->relay->close_after_each = true;
	id = queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	g_array_append_val(ids, id);
	assert_int_equal(outbox_flush_session(s->fx->st, s->fx->cfg, ss, ids, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 1);
	/* the relay hangs up after that transaction; the session does not know yet */
	g_array_index(ids, gint64, 0) = queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	assert_int_equal(outbox_flush_session(s->fx->st, s->fx->cfg, ss, ids, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 1);
	assert_int_equal(stats.left, 0);
	got = counts(s->relay);
	assert_string_equal(got, "2 2");
	g_free(got);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	send_session_free(ss);
	g_array_free(ids, TRUE);
}

/* deferred_kept - a recipient deferred stays in the row, the others are sent */
static void
deferred_kept(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	char *len = g_strdup_printf("%zu", strlen(MSG("one")));

	queue(s->fx, "a@example.org,tmp@example.org", MSG("one"), strlen(MSG("one")));
	queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 1);
	assert_int_equal(stats.left, 1);
	expect(s->fx, "SELECT recipients || ' ' || claimed_until FROM outbox", "tmp@example.org 0");
	/* its bytes are still there for the next flush */
	expect(s->fx, "SELECT length(data) FROM " OUTBOX_DATA, len);
	g_free(len);
}

/* streamed - a large message reaches the relay byte for byte, read from the database in pieces */
static void
streamed(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	GString *m = g_string_new("Subject: large\r\n\r\n");
	GByteArray *got;

	while (m->len < (3 << 20))
		g_string_append_printf(m, "line %zu of a large message, with a .dot\r\n.leading dot\r\n", m->len);
	queue(s->fx, "a@example.org", m->str, m->len);
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 1);
	assert_int_equal(s->relay->messages->len, 1);
	got = g_ptr_array_index(s->relay->messages, 0);
	assert_int_equal(got->len, m->len);
	assert_memory_equal(got->data, m->str, m->len);
	g_string_free(m, TRUE);
}

/* proc_start - field 22 of /proc/PID/stat, the start time, as text */
static char *
proc_start(long pid)
{
	char *path = g_strdup_printf("/proc/%ld/stat", pid), *stat = NULL, **f, *t;

	assert_true(g_file_get_contents(path, &stat, NULL, NULL));
	f = g_strsplit(strrchr(stat, ')') + 2, " ", -1);
	t = g_strdup(f[19]);
	g_strfreev(f);
	g_free(stat);
	g_free(path);
	return t;
}

/* claim_as - claim row id at time 100 for the lease, in the name of by */
static void
claim_as(struct fixture *fx, gint64 id, const char *by)
{
	struct outbox_item *it = NULL;
	GError *err = NULL;

	assert_int_equal(store_outbox_claim(fx->st, id, 100, 600, by, &it, &err), STORE_OK);
	store_outbox_item_free(it);
}

/*
 * gone_released - rows claimed by flushes that are over (their process
 * killed while sending: another boot, a pid now free; or this process's
 * own flush that a database failure stopped) are sent by the next flush,
 * not when the lease ends; those of a live process, or of a claim naming
 * nobody, wait for their lease
 */
static void
gone_released(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	char *boot = NULL, *by, *start;
	gint64 a, b, c, d, e;
	pid_t child;

	assert_true(g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL));
	g_strstrip(boot);
	a = queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	b = queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	c = queue(s->fx, "c@example.org", MSG("three"), strlen(MSG("three")));
	d = queue(s->fx, "d@example.org", MSG("four"), strlen(MSG("four")));
	e = queue(s->fx, "e@example.org", MSG("five"), strlen(MSG("five")));
	claim_as(s->fx, a, "00000000-0000-0000-0000-000000000000 1 1 1");	/* another boot */
	if ((child = fork()) == 0)
		_exit(0);
	assert_true(child > 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	by = g_strdup_printf("%s %ld 1 1", boot, (long) child);	/* reaped: its pid is free */
	claim_as(s->fx, b, by);
	g_free(by);
	start = proc_start(1);
	by = g_strdup_printf("%s 1 %s 1", boot, start);		/* init lives */
	claim_as(s->fx, c, by);
	g_free(by);
	g_free(start);
	claim_as(s->fx, d, NULL);
	start = proc_start((long) getpid());
	by = g_strdup_printf("%s %ld %s 1000000", boot, (long) getpid(), start);	/* ours, ended */
	claim_as(s->fx, e, by);
	g_free(by);
	g_free(start);
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 3);
	expect(s->fx, "SELECT group_concat(recipients, ',') FROM (SELECT recipients FROM outbox ORDER BY id)",
	       "c@example.org,d@example.org");
	assert_int_equal(s->relay->rcpts->len, 3);
	/* once their leases are over, the others go too */
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 700, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 2);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	g_free(boot);
}

/* write_note - a flush's note of the rows the relay took, as outbox.c writes it */
static char *
write_note(struct fixture *fx, const char *by, const char *rows)
{
	char *path = g_strdup_printf("%s-sent-%s", fx->cfg->database, strchr(by, ' ') + 1);
	char *text = g_strdup_printf("%s\n%s", by, rows);

	g_strdelimit(path + strlen(fx->cfg->database), " ", '-');
	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(text);
	return path;
}

/*
 * notes_applied - a flush killed after the relay took a row, before it
 * marked it done, left a note: the next flush removes the row instead of
 * sending it again, and the note; a live flush's note is not touched
 */
static void
notes_applied(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	char *boot = NULL, *start, *live, *dead_note, *live_note;
	const char *dead = "00000000-0000-0000-0000-000000000000 1 1 1";
	gint64 a, b, c;

	assert_true(g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL));
	g_strstrip(boot);
	a = queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	b = queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	c = queue(s->fx, "c@example.org", MSG("three"), strlen(MSG("three")));
	claim_as(s->fx, a, dead);
	claim_as(s->fx, b, dead);
	start = proc_start(1);
	live = g_strdup_printf("%s 1 %s 1", boot, start);	/* init's, under way */
	claim_as(s->fx, c, live);
	dead_note = write_note(s->fx, dead, "1\n");
	live_note = write_note(s->fx, live, "3\n");
	assert_int_equal(a, 1);
	assert_int_equal(c, 3);
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	/* a: the relay has it, gone unsent; b: sent now; c: still init's */
	assert_int_equal(stats.sent, 1);
	assert_int_equal(s->relay->rcpts->len, 1);
	assert_string_equal(g_ptr_array_index(s->relay->rcpts, 0), "b@example.org");
	expect(s->fx, "SELECT group_concat(id) FROM outbox", "3");
	assert_false(g_file_test(dead_note, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(live_note, G_FILE_TEST_EXISTS));
	/* and a flush that ends well leaves no note behind */
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 700, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 1);
	g_unlink(live_note);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	g_free(dead_note);
	g_free(live_note);
	g_free(live);
	g_free(start);
	g_free(boot);
}

/* notes_next_to - how many flush notes lie next to the database */
static int
notes_next_to(struct fixture *fx)
{
	char *dir = g_path_get_dirname(fx->cfg->database);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	int notes = 0;

	while (d && (name = g_dir_read_name(d)) != NULL)
		notes += strstr(name, "-sent-") != NULL;
	if (d)
		g_dir_close(d);
	g_free(dir);
	return notes;
}

/* no_note_left - a flush that went well leaves no note next to the database */
static void
no_note_left(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;

	queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 2);
	assert_int_equal(notes_next_to(s->fx), 0);
}

/*
 * unmarked_kept - rows the relay took that the database then refuses to
 * mark done stay in the outbox, claimed, and their note is kept; the
 * next flush marks them from the note and sends none of them again
 */
static void
unmarked_kept(void **state)
{
	struct state *s = *state;
	struct flush_stats stats;
	GError *err = NULL;
	char *got;

	queue(s->fx, "a@example.org", MSG("one"), strlen(MSG("one")));
	queue(s->fx, "b@example.org", MSG("two"), strlen(MSG("two")));
	g_free(query(s->fx, "CREATE TRIGGER refuse BEFORE DELETE ON outbox"
		     " BEGIN SELECT RAISE(ABORT, 'refused'); END"));
	assert_int_not_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 200, &stats, &err), STORE_OK);
	assert_non_null(err);
	g_clear_error(&err);
	assert_int_equal(stats.sent, 2);
	expect(s->fx, "SELECT count(*) FROM outbox WHERE claimed_until > 300", "2");
	assert_int_equal(notes_next_to(s->fx), 1);
	g_free(query(s->fx, "DROP TRIGGER refuse"));
	assert_int_equal(outbox_flush(s->fx->st, s->fx->cfg, NULL, 300, &stats, &err), STORE_OK);
	assert_int_equal(stats.sent, 0);
	got = counts(s->relay);
	assert_string_equal(got, "1 2");
	g_free(got);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(notes_next_to(s->fx), 0);
}

/* outbox_count - rows in the outbox, through a connection of its own */
static int
outbox_count(struct fixture *fx)
{
	char *n = query(fx, "SELECT count(*) FROM outbox");
	int v = atoi(n);

	g_free(n);
	return v;
}

/* threads - the sending threads send every row once, whatever thread takes it */
static void
threads(void **state)
{
	struct state *s = *state;
	struct sender *snd;
	char rcpt[64];
	int i, tries;
	guint k;

	snd = sender_start(s->fx->cfg, 3);
	for (i = 0; i < 20; i++) {
		g_snprintf(rcpt, sizeof rcpt, "m%02d@example.org", i);
		queue(s->fx, rcpt, MSG("burst"), strlen(MSG("burst")));
		sender_wake(snd);
	}
	/* a state to wait for, not a time to meet: at most about 60 s */
	for (tries = 0; tries < 6000 && outbox_count(s->fx) > 0; tries++)
		g_usleep(10000);
	sender_stop(snd);
	expect(s->fx, "SELECT count(*) FROM outbox", "0");
	assert_int_equal(s->relay->transactions, 20);
	assert_int_equal(s->relay->rcpts->len, 20);
	for (k = 0; k < s->relay->rcpts->len; k++) {
		g_snprintf(rcpt, sizeof rcpt, "m%02u@example.org", k);
		assert_true(g_ptr_array_find_with_equal_func(s->relay->rcpts, rcpt, g_str_equal, NULL));
	}
	/* each thread keeps its connection: fewer connections than messages */
	assert_true(s->relay->connections < 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(deferred_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(gone_released, setup, teardown),
		cmocka_unit_test_setup_teardown(notes_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(no_note_left, setup, teardown),
		cmocka_unit_test_setup_teardown(unmarked_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(threads, setup, teardown),
	};

	message_init();
	send_init();
	return cmocka_run_group_tests_name("sender", tests, NULL, NULL);
}
