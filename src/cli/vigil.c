/*
 * NAME
 *	vigil - the list administrator's command line
 * SYNOPSIS
 *	vigil [-c FILE] [-l LIST] COMMAND [ARGS]
 * DESCRIPTION
 *	Commands for moderators and owners at a terminal on the list host:
 *	membership, the held posts, the outbox, the configuration.  See
 *	vigil(1); usage_text below is what --help prints and the man page
 *	follows it.
 *
 *	Run as root, vigil first becomes the owner of the database
 *	directory (the user the filter runs as), so that it never leaves
 *	root-owned database files the filter cannot write.
 * DIAGNOSTICS
 *	Errors are one line on stderr.  Exit status: 0 done; 1 the request
 *	was refused (unknown member, bad address, ...); 64 usage; 75 the
 *	database was busy or something is left to send: try again.
 * SECURITY
 *	Everything printed that came from mail is escaped (text_escape()),
 *	so a subject cannot drive the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "compose.h"
#include "config.h"
#include "message.h"
#include "outbox.h"
#include "send.h"
#include "store.h"
#include "text.h"
#include "log.h"

static const char usage_text[] =
	"usage: vigil [-c FILE] [-l LIST] COMMAND [ARGS]\n"
	"\n"
	"Options:\n"
	"  -c FILE    configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -l LIST    the list to act on; may be left out when one list is configured\n"
	"  -h, --help this text\n"
	"\n"
	"Commands:\n"
	"  member add ADDRESS [--role member|moderator|owner] [--name NAME]\n"
	"                          add a member (default role: member)\n"
	"  member remove ADDRESS   remove a member\n"
	"  member list [--json]    the members, their roles and when they joined\n"
	"  held [--json]           the held posts, oldest first\n"
	"  flush                   send what waits in the outbox (of every list)\n"
	"  check-config            check the configuration and templates, print the effective values\n"
	"  version                 print the version\n";

struct ctx {
	const char *path;
	const char *list_name;
	struct config *cfg;
	const struct list_config *list;
	struct store *st;
	char *actor;			/* who runs this, for the audit trail */
};

/* die - one line on stderr, then exit */
static void G_GNUC_NORETURN G_GNUC_PRINTF(2, 3)
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("vigil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* store_status - the exit status for a store failure */
static int
store_status(enum store_rc r)
{
	return r == STORE_RETRY ? EX_TEMPFAIL : 1;
}

/* actor_name - the Unix user behind this command, for the audit trail */
static char *
actor_name(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo && *sudo)
		return g_strdup_printf("unix:%s", sudo);
	pw = getpwuid(getuid());
	return pw ? g_strdup_printf("unix:%s", pw->pw_name) : g_strdup_printf("uid:%u", (unsigned) getuid());
}

/*
 * become_owner - as root, become the owner of the database directory.
 * sqlite's -wal and -shm files take the creator's ownership; a root-owned
 * one makes every later filter run fail.  Every call is checked.
 */
static void
become_owner(const char *database)
{
	char *dir = g_path_get_dirname(database);
	struct stat sb;
	struct passwd *pw;

	if (geteuid() != 0) {
		g_free(dir);
		return;
	}
	if (stat(dir, &sb) != 0)
		die(EX_TEMPFAIL, "database directory %s: %s", dir, g_strerror(errno));
	if (sb.st_uid == 0) {
		g_free(dir);
		return;
	}
	pw = getpwuid(sb.st_uid);
	if ((pw ? initgroups(pw->pw_name, sb.st_gid) : setgroups(0, NULL)) != 0
	    || setgid(sb.st_gid) != 0 || setuid(sb.st_uid) != 0)
		die(EX_TEMPFAIL, "cannot become uid %u, owner of %s: %s",
		    (unsigned) sb.st_uid, dir, g_strerror(errno));
	if (getuid() != sb.st_uid || geteuid() != sb.st_uid || getgid() != sb.st_gid
	    || getegid() != sb.st_gid || setuid(0) == 0)
		die(EX_TEMPFAIL, "privileges were not dropped (uid %u)", (unsigned) geteuid());
	g_free(dir);
}

/* open_store - configuration, then the list named by -l (or the only
 * one) when need_list, then the database */
static void
open_store(struct ctx *c, bool need_list)
{
	GError *err = NULL;
	enum store_rc r;

	if ((c->cfg = config_load(c->path, &err)) == NULL)
		die(1, "%s", err->message);
	if (need_list && (c->list = config_pick_list(c->cfg, c->list_name, &err)) == NULL)
		die(1, "%s", err->message);
	c->actor = actor_name();
	become_owner(c->cfg->database);
	if ((r = store_open(c->cfg->database, &c->st, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
}

/* json_flag - parse a lone --json option */
static int
json_flag(int argc, char **argv, const char *what)
{
	if (argc == 1)
		return 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return 1;
	die(EX_USAGE, "usage: vigil %s [--json]", what);
}

/* cmd_member_add - member add ADDRESS [--role ROLE] [--name NAME] */
static int
cmd_member_add(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = "member", *name = "";
	const char *why;
	char *addr, *detail;
	GError *err = NULL;
	enum store_rc r;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			role = optarg;
		else if (o == 'n')
			name = optarg;
		else
			die(EX_USAGE, "usage: vigil member add ADDRESS [--role member|moderator|owner] [--name NAME]");
	}
	if (optind != argc - 1)
		die(EX_USAGE, "usage: vigil member add ADDRESS [--role member|moderator|owner] [--name NAME]");
	if (strcmp(role, "member") != 0 && strcmp(role, "moderator") != 0 && strcmp(role, "owner") != 0)
		die(EX_USAGE, "unknown role \"%s\": use member, moderator or owner", role);
	if ((addr = addr_check_strict(argv[optind], &why)) == NULL)
		die(1, "%s: %s", argv[optind], why);
	open_store(c, true);
	detail = g_strdup_printf("role=%s", role);
	if ((r = store_begin(c->st, &err)) != STORE_OK
	    || (r = store_member_add(c->st, c->list->address, addr, role, name, (gint64) time(NULL), &err)) != STORE_OK
	    || (r = store_audit_add(c->st, (gint64) time(NULL), c->list->address, c->actor,
				    "member-add", 0, NULL, detail, &err)) != STORE_OK
	    || (r = store_commit(c->st, &err)) != STORE_OK) {
		store_rollback(c->st);
		if (r == STORE_EXISTS)
			die(1, "%s is already a member of %s", addr, c->list->address);
		die(store_status(r), "%s", err->message);
	}
	printf("%s added to %s as %s\n", addr, c->list->address, role);
	g_free(detail);
	g_free(addr);
	return 0;
}

/* cmd_member_remove - member remove ADDRESS */
static int
cmd_member_remove(struct ctx *c, int argc, char **argv)
{
	GError *err = NULL;
	enum store_rc r;
	char *addr;

	if (argc != 2)
		die(EX_USAGE, "usage: vigil member remove ADDRESS");
	if ((addr = addr_normalize(argv[1])) == NULL)
		die(1, "%s: not a mail address", argv[1]);
	open_store(c, true);
	if ((r = store_begin(c->st, &err)) != STORE_OK
	    || (r = store_member_remove(c->st, c->list->address, addr, &err)) != STORE_OK
	    || (r = store_audit_add(c->st, (gint64) time(NULL), c->list->address, c->actor,
				    "member-remove", 0, NULL, addr, &err)) != STORE_OK
	    || (r = store_commit(c->st, &err)) != STORE_OK) {
		store_rollback(c->st);
		if (r == STORE_NOTFOUND)
			die(1, "%s is not a member of %s", addr, c->list->address);
		die(store_status(r), "%s", err->message);
	}
	printf("%s removed from %s\n", addr, c->list->address);
	g_free(addr);
	return 0;
}

/* cmd_member_list - member list [--json] */
static int
cmd_member_list(struct ctx *c, int argc, char **argv)
{
	int json = json_flag(argc, argv, "member list");
	GPtrArray *members;
	GError *err = NULL;
	GString *out = g_string_new(NULL);
	enum store_rc r;
	guint i;

	open_store(c, true);
	if ((r = store_member_list(c->st, c->list->address, &members, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (members->len > 0)
		g_string_append_printf(out, "%-40s %-10s %-20s %s\n", "ADDRESS", "ROLE", "JOINED", "NAME");
	for (i = 0; i < members->len; i++) {
		const struct member *m = g_ptr_array_index(members, i);
		char *joined = text_time_iso(m->added);

		if (json) {
			g_string_append(out, i ? ",\n {\"address\": " : "\n {\"address\": ");
			text_json_string(out, m->address);
			g_string_append(out, ", \"role\": ");
			text_json_string(out, m->role);
			g_string_append(out, ", \"name\": ");
			text_json_string(out, m->name);
			g_string_append_printf(out, ", \"joined\": \"%s\"}", joined);
		} else {
			char *name = text_escape(m->name);
			char *addr = text_escape(m->address);

			g_string_append_printf(out, "%-40s %-10s %-20s %s\n", addr, m->role, joined, name);
			g_free(name);
			g_free(addr);
		}
		g_free(joined);
	}
	if (json)
		g_string_append(out, members->len ? "\n]\n" : "]\n");
	else if (members->len == 0)
		g_string_append_printf(out, "%s has no members\n", c->list->address);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(members, TRUE);
	return 0;
}

/* age - how long ago, in the largest whole unit */
static char *
age(gint64 then, gint64 now)
{
	gint64 d = MAX(now - then, 0);

	if (d < 3600)
		return g_strdup_printf("%" G_GINT64_FORMAT "m", d / 60);
	if (d < 48 * 3600)
		return g_strdup_printf("%" G_GINT64_FORMAT "h", d / 3600);
	return g_strdup_printf("%" G_GINT64_FORMAT "d", d / 86400);
}

/* cmd_held - held [--json] */
static int
cmd_held(struct ctx *c, int argc, char **argv)
{
	int json = json_flag(argc, argv, "held");
	GPtrArray *held;
	GError *err = NULL;
	GString *out = g_string_new(NULL);
	gint64 now = (gint64) time(NULL);
	enum store_rc r;
	guint i;

	open_store(c, true);
	if ((r = store_held_list(c->st, c->list->address, &held, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (held->len > 0)
		g_string_append_printf(out, "%-6s %-10s %-20s %-5s %-10s %8s  %-30s %s\n", "ID", "REPORT",
				       "RECEIVED", "AGE", "REASON", "SIZE", "SENDER", "SUBJECT");
	for (i = 0; i < held->len; i++) {
		const struct held *h = g_ptr_array_index(held, i);
		char *when = text_time_iso(h->received);

		if (json) {
			g_string_append_printf(out, "%s {\"id\": %" G_GINT64_FORMAT ", \"report_id\": ",
					       i ? ",\n" : "\n", h->id);
			text_json_string(out, h->report_id);
			g_string_append_printf(out, ", \"received\": \"%s\", \"reason\": ", when);
			text_json_string(out, h->reason);
			g_string_append(out, ", \"sender\": ");
			text_json_string(out, h->sender);
			g_string_append(out, ", \"from\": ");
			text_json_string(out, h->from);
			g_string_append(out, ", \"subject\": ");
			text_json_string(out, h->subject);
			g_string_append_printf(out, ", \"size\": %" G_GINT64_FORMAT "}", h->size);
		} else {
			char *a = age(h->received, now);
			char *sender = text_escape(*h->sender ? h->sender : "<>");
			char *subject = text_escape(h->subject);

			g_string_append_printf(out, "%-6" G_GINT64_FORMAT " %-10s %-20s %-5s %-10s %8" G_GINT64_FORMAT
					       "  %-30s %s\n", h->id, h->report_id, when, a, h->reason,
					       h->size, sender, subject);
			g_free(a);
			g_free(sender);
			g_free(subject);
		}
		g_free(when);
	}
	if (json)
		g_string_append(out, held->len ? "\n]\n" : "]\n");
	else if (held->len == 0)
		g_string_append_printf(out, "nothing is held for %s\n", c->list->address);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(held, TRUE);
	return 0;
}

/* cmd_flush - send what waits in the outbox */
static int
cmd_flush(struct ctx *c, int argc, char **argv)
{
	struct flush_stats stats;
	GError *err = NULL;
	enum store_rc r;
	gint64 left = 0;

	if (argc != 1)
		die(EX_USAGE, "usage: vigil flush");
	open_store(c, false);	/* the outbox holds every list's mail */
	if ((r = outbox_flush(c->st, c->cfg, NULL, (gint64) time(NULL), &stats, &err)) != STORE_OK
	    || (r = store_outbox_count(c->st, &left, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	printf("flush: %d sent, %" G_GINT64_FORMAT " left in the outbox", stats.sent, left);
	if (stats.dropped)
		printf(", %d recipients refused (see the mail log)", stats.dropped);
	putchar('\n');
	return left > 0 ? EX_TEMPFAIL : 0;
}

/* cmd_check_config - check-config */
static int
cmd_check_config(struct ctx *c, int argc, char **argv)
{
	GError *err = NULL;
	guint i;

	if (argc != 1)
		die(EX_USAGE, "usage: vigil check-config");
	if ((c->cfg = config_load(c->path, &err)) == NULL)
		die(1, "%s", err->message);
	for (i = 0; i < c->cfg->lists->len; i++)
		if (!compose_check(g_ptr_array_index(c->cfg->lists, i), c->cfg->template_dir, &err))
			die(1, "%s", err->message);
	config_print(c->cfg, stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	const char *cmd;
	int o, status;

	while ((o = getopt_long(argc, argv, "+c:l:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			c.path = optarg;
			break;
		case 'l':
			c.list_name = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	if (c.path == NULL)
		c.path = config_default_path();
	log_open("vigil", isatty(STDERR_FILENO));
	message_init();
	send_init();
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "version") == 0 && argc == 1) {
		printf("vigil %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "member") == 0 && argc >= 2 && strcmp(argv[1], "add") == 0)
		status = cmd_member_add(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "member") == 0 && argc >= 2 && strcmp(argv[1], "remove") == 0)
		status = cmd_member_remove(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "member") == 0 && argc >= 2 && strcmp(argv[1], "list") == 0)
		status = cmd_member_list(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "held") == 0)
		status = cmd_held(&c, argc, argv);
	else if (strcmp(cmd, "flush") == 0)
		status = cmd_flush(&c, argc, argv);
	else if (strcmp(cmd, "check-config") == 0)
		status = cmd_check_config(&c, argc, argv);
	else
		die(EX_USAGE, "unknown command \"%s\" (see vigil --help)", cmd);
	store_close(c.st);
	config_free(c.cfg);
	g_free(c.actor);
	return status;
}
