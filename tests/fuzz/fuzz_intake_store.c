/*
 * NAME
 *	fuzz_intake_store - fuzz harness for intake with a real database
 * SYNOPSIS
 *	fuzz_intake_store [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input is an envelope and a message:
 *
 *		[milter ]SENDER\n
 *		RCPT[ RCPT]...\n
 *		MESSAGE
 *
 *	"milter " first means intake_at_smtp() (a milter's MTA delivers),
 *	else intake_message() (the pipe filter); SENDER may be empty (the
 *	null sender).  At most 8 recipients are taken.
 *
 *	Once per process LLVMFuzzerInitialize() makes a temporary
 *	directory (removed at exit) with a configuration of two lists,
 *	security@example.org (always_munge, a subject tag, a bounce
 *	threshold of 1) and abuse@example.org (a footer), the templates of
 *	conf/templates ($VIGIL_SRCDIR, else the source tree the harness
 *	was built from), and a database in which security@ has an owner,
 *	a moderator and a member (abuse@ an owner and a member), an
 *	approved report from
 *	reporter@example.net (Message-ID <report.1@example.net>) and a
 *	sent invitation whose join address is
 *	security+join-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org, and an
 *	empty outbox.  Every
 *	input starts from a fresh copy of that database, so an input
 *	always does the same.
 *
 *	These must hold: intake never asks the MTA to try again
 *	(TEMPFAIL) - the database is healthy and the templates are there,
 *	so a message that did would be retried for ever - and rejects only
 *	a loop at SMTP time or a message that is too large.  Every outbox
 *	row has recipients and data ready for SMTP (CRLF line ends, a
 *	final one); the recipients of every row but the forward to
 *	recipients that are no list's are canonical addresses, none of
 *	them MAILER-DAEMON.  No auto-reply goes to the null sender, and no
 *	auto-reply answers a
 *	message carrying Auto-Submitted (other than "no"), Precedence
 *	bulk, junk or list, or a List-Id.  Every relayed copy would be
 *	held, not relayed, if it came back.
 *	Events are formatted but not logged (log_msg() is wrapped).
 * SECURITY
 *	Everything but the database is a stranger's.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "addr.h"
#include "config.h"
#include "intake.h"
#include "membership.h"
#include "message.h"
#include "moderate.h"
#include "policy.h"
#include "store.h"
#include "fuzz.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

#define LIST	"security@example.org"
#define NOW	1795300000
#define MAX_RCPTS 8

static char *dir;
static char *conf_path;
static struct config *cfg;
static gchar *db_image;		/* the fixture database, copied before each input */
static gsize db_len;

/* rmtree - a directory and the files in it */
static void
rmtree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(path, name, NULL);

		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(path);
}

/* cleanup - at exit: the directory and what was kept */
static void
cleanup(void)
{
	rmtree(dir);
	config_free(cfg);
	g_free(conf_path);
	g_free(db_image);
	g_free(dir);
}

void __wrap_log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * __wrap_log_msg - events are formatted, as log_msg() would, but not sent:
 * syslog is no place for a fuzzer's millions (linked with --wrap=log_msg)
 */
void
__wrap_log_msg(int prio, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	(void) prio;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
}

/* die - a set-up step failed */
static void
die(const char *what, GError *err)
{
	fprintf(stderr, "fuzz_intake_store: %s: %s\n", what, err ? err->message : "failed");
	abort();
}

/* zeros - a token_random_fn: the token is all a */
static bool
zeros(void *buf, size_t len, void *ud)
{
	(void) ud;
	memset(buf, 0, len);
	return true;
}

/* db_file - the database file's name with a suffix (-wal, -shm) */
static char *
db_file(const char *suffix)
{
	return g_strconcat(cfg->database, suffix, NULL);
}

/* fresh_db - remove the database and its companions */
static void
fresh_db(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		char *p = db_file(suffixes[i]);

		g_unlink(p);
		g_free(p);
	}
}

/* fixture - members, an approved report and a sent invitation */
static void
fixture(void)
{
	static const char report[] = "From: Reporter <reporter@example.net>\nTo: " LIST "\n"
		"Subject: heap overflow\nMessage-ID: <report.1@example.net>\n\ndetails\n";
	const char *rcpts[] = { LIST };
	const struct list_config *l = config_find_list(cfg, LIST);
	const struct list_config *abuse = config_find_list(cfg, "abuse@example.org");
	struct actor first = { NULL, NULL, "unix:fuzz" };
	struct actor owner = { "owner@example.org", NULL, NULL };
	struct invite_outcome io;
	struct decision d;
	struct store *st;
	sqlite3 *db;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	GError *err = NULL;

	fresh_db();
	if (store_open(cfg->database, &st, &err) != STORE_OK)
		die("store_open", err);
	if (membership_add(st, cfg, l, "owner@example.org", "owner", "Olga", NULL, &first, NOW, &err)
	    != MODERATE_OK
	    || membership_add(st, cfg, l, "mod@example.org", "moderator", "", NULL, &owner, NOW, &err)
	    != MODERATE_OK
	    || membership_add(st, cfg, l, "alice@example.org", "member", "", NULL, &owner, NOW, &err)
	    != MODERATE_OK
	    || membership_add(st, cfg, abuse, "owner@example.org", "owner", "", NULL, &first, NOW, &err)
	    != MODERATE_OK
	    || membership_add(st, cfg, abuse, "bob@example.org", "member", "", NULL, &owner, NOW, &err)
	    != MODERATE_OK)
		die("membership_add", err);
	if (intake_message(st, cfg, report, strlen(report), "reporter@example.net", rcpts, 1, NOW, ids, &err)
	    != INTAKE_OK)
		die("intake of the report", err);
	if (moderate_decide(st, cfg, l, "1", POST_APPROVED, "mod@example.org", NULL, NULL, NOW + 60, ids,
			    &d, &err) != MODERATE_OK)
		die("approve", err);
	moderate_decision_clear(&d);
	memset(&io, 0, sizeof io);
	if (membership_invite(st, cfg, l, "newbie@example.net", "member", NULL, &owner, NOW, zeros, NULL,
			      ids, &io, &err) != MODERATE_OK || !io.sent)
		die("invite", err);
	membership_outcome_clear(&io);
	store_close(st);
	g_array_free(ids, TRUE);
	/* what the fixture queued is not the input's doing */
	if (sqlite3_open(cfg->database, &db) != SQLITE_OK
	    || sqlite3_exec(db, "DELETE FROM outbox_data; DELETE FROM outbox", NULL, NULL, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(db), NULL);
	sqlite3_close(db);
	if (!g_file_get_contents(cfg->database, &db_image, &db_len, &err))
		die("read the database", err);
}

/* LLVMFuzzerInitialize - the configuration and the fixture database */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("VIGIL_SRCDIR");
	char *text, *footer;
	GError *err = NULL;

	(void) argc;
	(void) argv;
	message_init();
	if ((dir = g_dir_make_tmp("vigil-fuzz-intake-XXXXXX", &err)) == NULL)
		die("temporary directory", err);
	atexit(cleanup);
	footer = g_build_filename(dir, "footer.txt", NULL);
	if (!g_file_set_contents(footer, "-- \nabuse list footer\n", -1, &err))
		die("footer", err);
	text = g_strdup_printf("[vigil]\ndatabase = %s/vigil.db\nrelay = smtp://127.0.0.1:1\n"
			       "resolver = 127.0.0.1:1\ntemplate_dir = %s/conf/templates\n"
			       "[list " LIST "]\nname = Security Team\nowner = owner@example.org\n"
			       "dmarc_mitigation = always_munge\nsubject_tag = [sec]\nbounce_threshold = 1\n"
			       "[list abuse@example.org]\nowner = owner@example.org\n"
			       "dmarc_mitigation = none\nfooter = %s\n",
			       dir, src && *src ? src : FUZZ_SRCDIR, footer);
	conf_path = g_build_filename(dir, "vigil.conf", NULL);
	if (!g_file_set_contents(conf_path, text, -1, &err))
		die("configuration", err);
	g_free(text);
	g_free(footer);
	if ((cfg = config_load(conf_path, &err)) == NULL)
		die("config_load", err);
	fixture();
	return 0;
}

/* smtp_ready - CRLF line ends only, and a final one unless there is nothing (an empty message forwarded) */
static bool
smtp_ready(const unsigned char *p, size_t len)
{
	size_t i;

	if (len > 0 && (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n'))
		return false;
	for (i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return false;
	return true;
}

/* automatic - the headers say a program sent it (RFC 3834) */
static bool
automatic(const struct post *p)
{
	struct facts f = { 0 };

	f.parsed = true;
	f.auto_submitted = p->auto_submitted;
	f.precedence = p->precedence;
	f.has_list_id = p->has_list_id;
	f.size = 0;
	f.max_size = 1;
	/* policy's own reading of the headers: a non-member's post held without an auto-reply */
	return policy_decide(&f).autoreply == false;
}

/* check_copy - a relayed copy that came back from a member would not be relayed */
static void
check_copy(const struct list_config *l, const unsigned char *data, size_t len)
{
	struct post *p = message_parse((const char *) data, len);
	struct facts f = { 0 };
	struct verdict v;

	f.parsed = p->parsed;
	f.sender_member = true;
	f.loop = message_has_loop(p, l->address);
	f.size = (int64_t) len;
	f.max_size = l->max_message_size;
	v = policy_decide(&f);
	FUZZ_CHECK(v.action != ACTION_RELAY, "a relayed copy for %s would be relayed again", l->address);
	message_free(p);
}

/* check_outbox - every row queued */
static void
check_outbox(const char *sender, const struct post *post)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_open_v2(cfg->database, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("open the database", NULL);
	if (sqlite3_prepare_v2(db, "SELECT o.kind, o.recipients, d.data, p.list FROM outbox o"
			       " JOIN outbox_data d ON d.outbox_id = o.id LEFT JOIN posts p ON p.id = o.post_id", -1, &stmt, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(db), NULL);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *kind = (const char *) sqlite3_column_text(stmt, 0);
		const char *rcpts = (const char *) sqlite3_column_text(stmt, 1);
		const unsigned char *data = sqlite3_column_blob(stmt, 2);
		size_t len = (size_t) sqlite3_column_bytes(stmt, 2);
		const char *list = (const char *) sqlite3_column_text(stmt, 3);
		char **to = g_strsplit(rcpts ? rcpts : "", "\n", -1);
		size_t i;

		FUZZ_CHECK(to[0] != NULL && *to[0] != '\0', "%s row without recipients", kind);
		/* the recipients that are no list's go on as the MTA named them */
		for (i = 0; strcmp(kind, "forward") != 0 && to[i]; i++) {
			char *c = addr_normalize(to[i]);

			FUZZ_CHECK(c != NULL && strcmp(c, to[i]) == 0, "%s row to \"%s\"", kind, to[i]);
			FUZZ_CHECK(!addr_is_mailer_daemon(to[i]), "%s row to %s", kind, to[i]);
			g_free(c);
		}
		FUZZ_CHECK(smtp_ready(data, len), "%s row not ready for SMTP", kind);
		if (strcmp(kind, "autoreply") == 0) {
			FUZZ_CHECK(sender != NULL, "auto-reply to the null sender");
			FUZZ_CHECK(!post->parsed || !automatic(post), "auto-reply to an automatic message");
		}
		if (strcmp(kind, "relay") == 0 && list)
			check_copy(config_find_list(cfg, list), data, len);
		g_strfreev(to);
	}
	FUZZ_CHECK(rc == SQLITE_DONE, "reading the outbox: %s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* line - the next line of the input as a string, without its LF */
static char *
line(struct fuzz_in *in)
{
	const uint8_t *nl = memchr(in->p, '\n', in->n);
	size_t n = nl ? (size_t) (nl - in->p) : in->n;
	char *s = g_strndup((const char *) in->p, n);

	in->p += nl ? n + 1 : n;
	in->n -= nl ? n + 1 : n;
	return s;
}

/* LLVMFuzzerTestOneInput - one message with its envelope */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *first = line(&in);
	char *rcpt_line = line(&in);
	char **words = g_strsplit_set(rcpt_line, " \t", -1);
	const char *rcpts[MAX_RCPTS];
	size_t nrcpts = 0, i;
	bool milter = g_str_has_prefix(first, "milter ");
	const char *sender = milter ? first + strlen("milter ") : first;
	char *canon = addr_normalize(sender);
	struct intake_smtp smtp;
	struct post *post;
	struct store *st;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	GError *err = NULL;
	enum intake_rc rc;

	for (i = 0; words[i] && nrcpts < MAX_RCPTS; i++)
		if (*words[i])
			rcpts[nrcpts++] = words[i];
	fresh_db();
	if (!g_file_set_contents(cfg->database, db_image, (gssize) db_len, &err))
		die("write the database", err);
	if (store_open(cfg->database, &st, &err) != STORE_OK)
		die("store_open", err);
	if (milter) {
		rc = intake_at_smtp(st, cfg, (const char *) in.p, in.n, sender, rcpts, nrcpts, NOW + 3600, ids,
				    &smtp, &err);
		intake_smtp_clear(&smtp);
	} else {
		rc = intake_message(st, cfg, (const char *) in.p, in.n, sender, rcpts, nrcpts, NOW + 3600, ids,
				    &err);
	}
	store_close(st);
	FUZZ_CHECK(rc == INTAKE_OK || rc == INTAKE_REJECT || rc == INTAKE_TEMPFAIL, "rc %d", rc);
	FUZZ_CHECK(rc != INTAKE_TEMPFAIL, "TEMPFAIL with a healthy database: %s", err ? err->message : "?");
	if (rc == INTAKE_REJECT)
		FUZZ_CHECK(err != NULL && (strstr(err->message, "too large") || (milter && strstr(err->message, "loop"))),
			   "rejected: %s", err ? err->message : "?");
	post = message_parse((const char *) in.p, in.n);
	if (rc == INTAKE_OK)
		check_outbox(canon && !addr_is_mailer_daemon(canon) ? canon : NULL, post);
	message_free(post);
	g_clear_error(&err);
	g_array_free(ids, TRUE);
	g_free(canon);
	g_strfreev(words);
	g_free(rcpt_line);
	g_free(first);
	return 0;
}
