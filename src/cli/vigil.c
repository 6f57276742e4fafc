/*
 * NAME
 *	vigil - the list administrator's command line
 * SYNOPSIS
 *	vigil [-c FILE] [-l LIST] COMMAND [ARGS]
 * DESCRIPTION
 *	Commands for moderators and owners at a terminal on the list host:
 *	membership, the held posts, the archive, the outbox, the
 *	configuration.  See
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
#include <fcntl.h>
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
#include "archive.h"
#include "compose.h"
#include "config.h"
#include "intake.h"
#include "message.h"
#include "moderate.h"
#include "outbox.h"
#include "send.h"
#include "store.h"
#include "text.h"
#include "log.h"
#include "membership.h"
#include "policy.h"
#include "token.h"

static const char usage_text[] =
	"usage: vigil [-c FILE] [-l LIST] COMMAND [ARGS]\n"
	"\n"
	"Options:\n"
	"  -c FILE    configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -l LIST    the list to act on; may be left out when one list is configured\n"
	"  -h, --help this text\n"
	"\n"
	"Commands:\n"
	"  held [--json] [--all]   the held posts, oldest first, with their age: the oldest 50\n"
	"                          and how many there are; --all lists every one\n"
	"  show ID [--raw]         a post's headers and text, attachments listed (ID: post or report id);\n"
	"                          --raw: the original bytes, only to a file or a pipe\n"
	"  approve ID [--comment TEXT] [--as ADDRESS]\n"
	"                          send the post to every member; its sender becomes the reporter\n"
	"                          (a reply held in a report's thread goes to that thread instead)\n"
	"  reject ID --reason TEXT [--as ADDRESS]\n"
	"                          close the post and mail the sender the reason\n"
	"  discard ID [--comment TEXT] [--as ADDRESS]\n"
	"                          close the post without a word to anyone (spam)\n"
	"  log [--json] [--since DATE]\n"
	"                          the audit trail, oldest first; DATE: 2026-11-21, an ISO 8601 time, or 12h, 7d\n"
	"  maintain                remind the moderators of posts waiting longer than remind_after,\n"
	"                          expire posts held longer than hold_expiry, remove archive files no\n"
	"                          post names (left by a crash), forget the digests of messages taken\n"
	"                          in over a week ago, send the outbox (for cron)\n"
	"  invite ADDRESS [--by MEMBER] [--role member|moderator|owner] [--note TEXT]\n"
	"                          invite someone (default role: member); the invitation, with a\n"
	"                          single-use address to accept it, goes out once vouches_required\n"
	"                          members sponsor it, the inviter being the first\n"
	"  vouch ADDRESS [--by MEMBER]\n"
	"                          sponsor an invitation, or the request of someone who mailed the list\n"
	"  member add ADDRESS [--role member|moderator|owner] [--name NAME] [--unix-user USER]\n"
	"             [--as ADDRESS]\n"
	"                          add a member without an invitation (owners only); USER identifies\n"
	"                          a moderator at this host's command line\n"
	"  member remove ADDRESS --reason TEXT [--as ADDRESS]\n"
	"                          remove a member (owners only) and tell them why\n"
	"  member list [--json]    the members: role, when they joined, who invited and who sponsored them\n"
	"  member show ADDRESS [--json]\n"
	"                          a member's or invitee's whole history: invitations, sponsors, joining\n"
	"  report list [--json]    the approved reports: who wrote them, messages in the thread, last activity\n"
	"  report show ID [--json] a report: its reporters, the people copied, every message of its thread\n"
	"  report cc ID add|remove ADDRESS [--as ADDRESS]\n"
	"                          copy someone (a co-reporter, an upstream) on every message of the\n"
	"                          report's thread, or stop\n"
	"  bounces [--json] [--since DATE]\n"
	"                          mail that came back to the list's bounce address, oldest first\n"
	"  archive list [--json]   what the list's archive holds, report by report\n"
	"  archive export ID [--mbox FILE]\n"
	"                          a report's whole thread from the archive as one mbox, in the order\n"
	"                          it arrived, to FILE (created 0600) or to a pipe\n"
	"  flush                   send what waits in the outbox (of every list)\n"
	"  check-config            check the configuration and templates, print the effective values\n"
	"  version                 print the version\n"
	"\n"
	"Deciding (approve, reject, discard) and report cc take a member with role moderator or\n"
	"owner: the one named by --as, else the one recorded with your Unix user (--unix-user).\n"
	"invite takes a moderator or owner (only owners invite moderators and owners) and vouch\n"
	"any member, named by --by or found the same way.  member add and member remove take an\n"
	"owner; while a list has no owner, anyone who may run vigil adds and removes.\n";

struct ctx {
	const char *path;
	const char *list_name;
	struct config *cfg;
	const struct list_config *list;
	struct store *st;
	char *login;			/* the Unix user who runs this */
	char *actor;			/* unix:LOGIN, for the audit trail */
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

/* login_name - the Unix user behind this command: under sudo, the one who ran sudo */
static char *
login_name(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo && *sudo)
		return g_strdup(sudo);
	pw = getpwuid(getuid());
	return pw ? g_strdup(pw->pw_name) : g_strdup_printf("uid%u", (unsigned) getuid());
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
	c->login = login_name();
	c->actor = g_strconcat("unix:", c->login, NULL);
	become_owner(c->cfg->database);
	if ((r = store_open(c->cfg->database, &c->st, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	store_set_login(c->st, c->login);
}

/* json_or_null - a JSON string, or null for "" */
static void
json_or_null(GString *out, const char *s)
{
	if (s && *s)
		text_json_string(out, s);
	else
		g_string_append(out, "null");
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

/* flush_new - send the mail a command queued; say what the relay did not take */
static void
flush_new(struct ctx *c, const GArray *ids)
{
	struct flush_stats stats = { 0 };
	GError *err = NULL;

	if (ids->len == 0)
		return;
	if (outbox_flush(c->st, c->cfg, ids, (gint64) time(NULL), &stats, &err) != STORE_OK) {
		fprintf(stderr, "vigil: warning: %s\n", err->message);
		g_error_free(err);
		stats.left = (int) ids->len - stats.sent;
	}
	if (stats.left > 0)
		fprintf(stderr, "vigil: warning: %d message(s) wait in the outbox (the relay did not take"
			" them; see the mail log): \"vigil flush\" or \"vigil maintain\" sends them\n",
			stats.left);
}

/* refused - die with the message of a refused or busy membership or moderation step */
static void G_GNUC_NORETURN
refused(enum moderate_rc rc, GError *err)
{
	die(rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1, "%s", err->message);
}

/* actor_of - who acts: the address typed (or NULL), the Unix user, the fallback */
static struct actor
actor_of(const struct ctx *c, const char *as)
{
	struct actor a = { as, c->login, c->actor };

	return a;
}

#define MEMBER_ADD_OPTIONS "[--role member|moderator|owner] [--name NAME] [--unix-user USER] [--as ADDRESS]"

/* cmd_member_add - member add ADDRESS [--role ROLE] [--name NAME] [--unix-user USER] [--as ADDRESS] */
static int
cmd_member_add(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "unix-user", required_argument, NULL, 'u' },
		{ "as", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = "member", *name = "", *unix_user = NULL, *as = NULL;
	GError *err = NULL;
	struct actor who;
	enum moderate_rc rc;
	char *addr;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			role = optarg;
		else if (o == 'n')
			name = optarg;
		else if (o == 'u')
			unix_user = optarg;
		else if (o == 'a')
			as = optarg;
		else
			die(EX_USAGE, "usage: vigil member add ADDRESS %s", MEMBER_ADD_OPTIONS);
	}
	if (optind != argc - 1)
		die(EX_USAGE, "usage: vigil member add ADDRESS %s", MEMBER_ADD_OPTIONS);
	if (!policy_role_valid(role))
		die(EX_USAGE, "unknown role \"%s\": use member, moderator or owner", role);
	if (unix_user && getpwnam(unix_user) == NULL) {
		char *u = text_escape(unix_user);

		die(1, "--unix-user %s: no such user on this host", u);
	}
	open_store(c, true);
	who = actor_of(c, as);
	rc = membership_add(c->st, c->cfg, c->list, argv[optind], role, name, unix_user, &who,
			    (gint64) time(NULL), &err);
	if (rc != MODERATE_OK)
		refused(rc, err);
	addr = addr_normalize(argv[optind]);
	printf("%s added to %s as %s\n", addr, c->list->address, role);
	g_free(addr);
	return 0;
}

/* cmd_member_remove - member remove ADDRESS --reason TEXT [--as ADDRESS] */
static int
cmd_member_remove(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "as", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: vigil member remove ADDRESS --reason TEXT [--as ADDRESS]";
	const char *reason = NULL, *as = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	GError *err = NULL;
	struct actor who;
	enum moderate_rc rc;
	char *addr;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			reason = optarg;
		else if (o == 'a')
			as = optarg;
		else
			die(EX_USAGE, "%s", usage);
	}
	if (optind != argc - 1 || reason == NULL)
		die(EX_USAGE, "%s", usage);
	open_store(c, true);
	who = actor_of(c, as);
	rc = membership_remove(c->st, c->cfg, c->list, argv[optind], reason, &who, (gint64) time(NULL),
			       ids, &err);
	if (rc != MODERATE_OK)
		refused(rc, err);
	addr = addr_normalize(argv[optind]);
	printf("%s removed from %s: the reason goes to them\n", addr, c->list->address);
	fflush(stdout);
	flush_new(c, ids);
	g_array_free(ids, TRUE);
	g_free(addr);
	return 0;
}

/* invite_said - what invite or vouch did, in one line */
static void
invite_said(const struct list_config *l, const struct invite_outcome *o)
{
	char *until = text_time_iso(o->expires);

	if (o->request)
		printf("%s vouches for %s, who asked to join %s (%u sponsor(s)); a moderator invites"
		       " them with \"vigil invite %s\"\n", o->by, o->address, l->address, o->sponsors,
		       o->address);
	else if (o->sent)
		printf("invitation to %s to join %s as %s sent (%u sponsor(s)); it expires %s\n",
		       o->address, l->address, o->role, o->sponsors, until);
	else if (o->expires > 0)
		printf("%s also sponsors %s (%u sponsor(s)); the invitation was sent already and"
		       " expires %s\n", o->by, o->address, o->sponsors, until);
	else
		printf("invitation to %s to join %s as %s recorded (%u of %" G_GINT64_FORMAT
		       " sponsors); it is sent when %" G_GINT64_FORMAT " more vouch: \"vigil vouch %s"
		       " --by MEMBER\"\n", o->address, l->address, o->role, o->sponsors, o->required,
		       o->required - (gint64) o->sponsors, o->address);
	g_free(until);
}

/* cmd_invite - invite ADDRESS [--by MEMBER] [--role ROLE] [--note TEXT] */
static int
cmd_invite(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "role", required_argument, NULL, 'r' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: vigil invite ADDRESS [--by MEMBER] [--role member|moderator|owner]"
		" [--note TEXT]";
	const char *by = NULL, *role = "member", *note = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	struct invite_outcome out;
	GError *err = NULL;
	struct actor who;
	enum moderate_rc rc;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'b')
			by = optarg;
		else if (o == 'r')
			role = optarg;
		else if (o == 'n')
			note = optarg;
		else
			die(EX_USAGE, "%s", usage);
	}
	if (optind != argc - 1)
		die(EX_USAGE, "%s", usage);
	if (!policy_role_valid(role))
		die(EX_USAGE, "unknown role \"%s\": use member, moderator or owner", role);
	open_store(c, true);
	who = actor_of(c, by);
	rc = membership_invite(c->st, c->cfg, c->list, argv[optind], role, note, &who, (gint64) time(NULL),
			       token_random_system, NULL, ids, &out, &err);
	if (rc != MODERATE_OK)
		refused(rc, err);
	invite_said(c->list, &out);
	fflush(stdout);
	flush_new(c, ids);
	membership_outcome_clear(&out);
	g_array_free(ids, TRUE);
	return 0;
}

/* cmd_vouch - vouch ADDRESS [--by MEMBER] */
static int
cmd_vouch(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *by = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	struct invite_outcome out;
	GError *err = NULL;
	struct actor who;
	enum moderate_rc rc;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'b')
			die(EX_USAGE, "usage: vigil vouch ADDRESS [--by MEMBER]");
		by = optarg;
	}
	if (optind != argc - 1)
		die(EX_USAGE, "usage: vigil vouch ADDRESS [--by MEMBER]");
	open_store(c, true);
	who = actor_of(c, by);
	rc = membership_vouch(c->st, c->cfg, c->list, argv[optind], &who, (gint64) time(NULL),
			      token_random_system, NULL, ids, &out, &err);
	if (rc != MODERATE_OK)
		refused(rc, err);
	invite_said(c->list, &out);
	fflush(stdout);
	flush_new(c, ids);
	membership_outcome_clear(&out);
	g_array_free(ids, TRUE);
	return 0;
}

/* json_list - a JSON array of the strings of "a, b", [] for "" */
static void
json_list(GString *out, const char *joined)
{
	char **v = g_strsplit(joined, ", ", -1);
	guint i;

	g_string_append_c(out, '[');
	for (i = 0; v[i] && *joined; i++) {
		if (i)
			g_string_append(out, ", ");
		text_json_string(out, v[i]);
	}
	g_string_append_c(out, ']');
	g_strfreev(v);
}

/* member_json - one member as a JSON object */
static void
member_json(GString *out, const struct member *m)
{
	char *joined = text_time_iso(m->added);

	g_string_append(out, "{\"address\": ");
	text_json_string(out, m->address);
	g_string_append(out, ", \"role\": ");
	text_json_string(out, m->role);
	g_string_append(out, ", \"name\": ");
	text_json_string(out, m->name);
	g_string_append(out, ", \"unix_user\": ");
	json_or_null(out, m->unix_user);
	g_string_append_printf(out, ", \"joined\": \"%s\", \"invited_by\": ", joined);
	json_or_null(out, m->invited_by);
	g_string_append(out, ", \"added_by\": ");
	json_or_null(out, m->added_by);
	g_string_append(out, ", \"sponsors\": ");
	json_list(out, m->sponsors);
	g_string_append_c(out, '}');
	g_free(joined);
}

/* let_in_by - who let a member in, for the text listing */
static char *
let_in_by(const struct member *m)
{
	if (*m->invited_by)
		return text_escape(m->invited_by);
	if (*m->added_by)
		return g_strdup_printf("(added by %s)", m->added_by);
	return g_strdup("-");
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
		g_string_append_printf(out, "%-32s %-10s %-20s %-32s %-s\n", "ADDRESS", "ROLE", "JOINED",
				       "INVITED BY", "SPONSORS");
	for (i = 0; i < members->len; i++) {
		const struct member *m = g_ptr_array_index(members, i);

		if (json) {
			g_string_append(out, i ? ",\n " : "\n ");
			member_json(out, m);
		} else {
			char *joined = text_time_iso(m->added);
			char *addr = text_escape(m->address);
			char *by = let_in_by(m);

			g_string_append_printf(out, "%-32s %-10s %-20s %-32s %s\n", addr, m->role, joined,
					       by, *m->sponsors ? m->sponsors : "-");
			g_free(joined);
			g_free(addr);
			g_free(by);
		}
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

/* invite_state_now - an invitation's state, expiry applied */
static const char *
invite_state_now(const struct invite *v, gint64 now)
{
	return policy_invite_state_name(policy_invite_state(v->status, v->expires, now));
}

/* member_show_json - member show --json */
static void
member_show_json(GString *out, const char *addr, const struct member *m, const GPtrArray *invites,
		 GPtrArray *const *sponsors, const GPtrArray *history, gint64 now)
{
	guint i, k;

	g_string_append(out, "{\"address\": ");
	text_json_string(out, addr);
	g_string_append(out, ", \"member\": ");
	if (m)
		member_json(out, m);
	else
		g_string_append(out, "null");
	g_string_append(out, ",\n \"invitations\": [");
	for (i = 0; i < invites->len; i++) {
		const struct invite *v = g_ptr_array_index(invites, i);
		char *created = text_time_iso(v->created);

		g_string_append(out, i ? ",\n  {\"role\": " : "\n  {\"role\": ");
		text_json_string(out, v->role);
		g_string_append_printf(out, ", \"status\": \"%s\", \"created\": \"%s\", \"invited_by\": ",
				       invite_state_now(v, now), created);
		text_json_string(out, v->invited_by);
		g_string_append(out, ", \"note\": ");
		json_or_null(out, v->note);
		g_string_append(out, ", \"sent\": ");
		if (v->sent) {
			char *sent = text_time_iso(v->sent), *until = text_time_iso(v->expires);

			g_string_append_printf(out, "\"%s\", \"expires\": \"%s\"", sent, until);
			g_free(sent);
			g_free(until);
		} else {
			g_string_append(out, "null, \"expires\": null");
		}
		g_string_append(out, ", \"sponsors\": [");
		for (k = 0; k < sponsors[i]->len; k++) {
			if (k)
				g_string_append(out, ", ");
			text_json_string(out, g_ptr_array_index(sponsors[i], k));
		}
		g_string_append(out, "]}");
		g_free(created);
	}
	g_string_append(out, invites->len ? "\n ],\n \"history\": [" : "],\n \"history\": [");
	for (i = 0; i < history->len; i++) {
		const struct audit_row *a = g_ptr_array_index(history, i);
		char *when = text_time_iso(a->time);

		g_string_append_printf(out, "%s  {\"time\": \"%s\", \"action\": ", i ? ",\n" : "\n", when);
		text_json_string(out, a->action);
		g_string_append(out, ", \"actor\": ");
		text_json_string(out, a->actor);
		g_string_append(out, ", \"detail\": ");
		json_or_null(out, a->detail);
		g_string_append_c(out, '}');
		g_free(when);
	}
	g_string_append(out, history->len ? "\n ]}\n" : "]}\n");
}

/* member_show_text - member show */
static void
member_show_text(GString *out, const char *addr, const struct list_config *l, const struct member *m,
		 const GPtrArray *invites, GPtrArray *const *sponsors, const GPtrArray *history,
		 gint64 now)
{
	guint i;

	if (m) {
		char *joined = text_time_iso(m->added);
		char *by = let_in_by(m);
		char *name = text_escape(m->name);

		g_string_append_printf(out, "%s: %s of %s since %s\n", addr, m->role, l->address, joined);
		g_string_append_printf(out, "  name        %s\n  unix user   %s\n  invited by  %s\n"
				       "  sponsors    %s\n", *m->name ? name : "-",
				       *m->unix_user ? m->unix_user : "-", by,
				       *m->sponsors ? m->sponsors : "-");
		g_free(joined);
		g_free(by);
		g_free(name);
	} else {
		g_string_append_printf(out, "%s: not a member of %s\n", addr, l->address);
	}
	for (i = 0; i < invites->len; i++) {
		const struct invite *v = g_ptr_array_index(invites, i);
		char *created = text_time_iso(v->created), *until = text_time_iso(v->expires);
		char *names = text_join(sponsors[i], ", ");

		g_string_append_printf(out, "invitation as %s by %s, %s: %s", v->role, v->invited_by,
				       created, invite_state_now(v, now));
		if (v->sent)
			g_string_append_printf(out, " (expires %s)", until);
		g_string_append_printf(out, "\n  sponsors    %s\n", *names ? names : "-");
		g_free(created);
		g_free(until);
		g_free(names);
	}
	if (history->len)
		g_string_append(out, "history:\n");
	for (i = 0; i < history->len; i++) {
		const struct audit_row *a = g_ptr_array_index(history, i);
		char *when = text_time_iso(a->time);
		char *actor = text_escape(a->actor);
		char *detail = text_escape(a->detail);

		g_string_append_printf(out, "  %-20s %-14s %-32s %s\n", when, a->action, actor, detail);
		g_free(when);
		g_free(actor);
		g_free(detail);
	}
}

/* cmd_member_show - member show ADDRESS [--json] */
static int
cmd_member_show(struct ctx *c, int argc, char **argv)
{
	const char *usage = "usage: vigil member show ADDRESS [--json]";
	GPtrArray *invites = NULL, *history = NULL, **sponsors;
	struct member *m = NULL;
	GString *out = g_string_new(NULL);
	GError *err = NULL;
	gint64 now = (gint64) time(NULL);
	enum store_rc r;
	bool json = false;
	char *addr;
	guint i;

	if (argc == 3 && strcmp(argv[2], "--json") == 0)
		json = true;
	else if (argc != 2)
		die(EX_USAGE, "%s", usage);
	if ((addr = addr_normalize(argv[1])) == NULL) {
		char *t = text_escape(argv[1]);

		die(1, "%s: not a mail address", t);
	}
	open_store(c, true);
	if (((r = store_member_find(c->st, c->list->address, addr, &m, &err)) != STORE_OK
	     && r != STORE_NOTFOUND)
	    || (r = store_invite_of(c->st, c->list->address, addr, &invites, &err)) != STORE_OK
	    || (r = store_audit_of(c->st, c->list->address, addr, &history, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (m == NULL && invites->len == 0 && history->len == 0)
		die(1, "%s is not a member of %s and was never invited", addr, c->list->address);
	sponsors = g_new0(GPtrArray *, invites->len + 1);
	for (i = 0; i < invites->len; i++) {
		const struct invite *v = g_ptr_array_index(invites, i);

		if ((r = store_sponsor_list(c->st, c->list->address, addr, v->id, &sponsors[i], &err))
		    != STORE_OK)
			die(store_status(r), "%s", err->message);
	}
	if (json)
		member_show_json(out, addr, m, invites, sponsors, history, now);
	else
		member_show_text(out, addr, c->list, m, invites, sponsors, history, now);
	fputs(out->str, stdout);
	for (i = 0; i < invites->len; i++)
		g_ptr_array_free(sponsors[i], TRUE);
	g_free(sponsors);
	g_string_free(out, TRUE);
	g_ptr_array_free(invites, TRUE);
	g_ptr_array_free(history, TRUE);
	store_member_free(m);
	g_free(addr);
	return 0;
}

#define HELD_PAGE 50	/* held posts listed without --all */

/* cmd_held - held [--json] [--all] */
static int
cmd_held(struct ctx *c, int argc, char **argv)
{
	bool json = false, all = false;
	GPtrArray *held;
	GError *err = NULL;
	GString *out = g_string_new(NULL);
	gint64 now = (gint64) time(NULL), total = 0;
	enum store_rc r;
	int k;
	guint i;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (strcmp(argv[k], "--all") == 0)
			all = true;
		else
			die(EX_USAGE, "usage: vigil held [--json] [--all]");
	}
	open_store(c, true);
	if ((r = store_held_page(c->st, c->list->address, all ? -1 : HELD_PAGE, &held, &total, &err))
	    != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (held->len > 0)
		g_string_append_printf(out, "%-6s %-10s %-20s %-5s %-15s %8s  %-30s %s\n", "ID", "REPORT",
				       "RECEIVED", "AGE", "REASON", "SIZE", "SENDER", "SUBJECT");
	for (i = 0; i < held->len; i++) {
		const struct post_row *h = g_ptr_array_index(held, i);
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
			char *a = text_age(h->received, now);
			char *sender = text_escape(*h->sender ? h->sender : "<>");
			char *subject = text_escape(h->subject);

			g_string_append_printf(out, "%-6" G_GINT64_FORMAT " %-10s %-20s %-5s %-15s %8" G_GINT64_FORMAT
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
	else if ((gint64) held->len < total)
		g_string_append_printf(out, "(the oldest %u of %" G_GINT64_FORMAT " held posts;"
				       " vigil held --all lists every one)\n", held->len, total);
	fputs(out->str, stdout);
	/* a script reading the JSON gets the same page: say so where it is seen */
	if (json && (gint64) held->len < total)
		fprintf(stderr, "vigil: the oldest %u of %" G_GINT64_FORMAT " held posts;"
			" vigil held --json --all lists every one\n", held->len, total);
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

/* print_part - one MIME leaf of a post: its text, or a line in the attachment list */
static void
print_part(GString *out, GString *attachments, const struct readable_part *p)
{
	char *type = text_escape(p->type);
	char *name = text_escape(p->name);

	if (p->text) {
		char *t = text_escape_lines(p->text);

		g_string_append_printf(out, "\n--- %s%s ---\n%s", type,
				       strcmp(p->type, "text/html") == 0 ? ", reduced to text" : "", t);
		if (out->len && out->str[out->len - 1] != '\n')
			g_string_append_c(out, '\n');
		g_free(t);
	} else {
		g_string_append_printf(attachments, "  %-30s %-30s ", type, *name ? name : "(no name)");
		if (p->size >= 0)
			g_string_append_printf(attachments, "%" G_GINT64_FORMAT " bytes\n", p->size);
		else
			g_string_append(attachments, "(a message or part of unknown size)\n");
	}
	g_free(type);
	g_free(name);
}

/* print_post - what a moderator reads of a post; everything from mail escaped */
static void
print_post(const struct post_row *p, gint64 now)
{
	gsize len;
	const char *raw = g_bytes_get_data(p->raw, &len);
	struct readable *r = message_readable(raw, len);
	GString *out = g_string_new(NULL);
	GString *attachments = g_string_new(NULL);
	char *received = text_time_iso(p->received);
	char *a = text_age(p->received, now);
	char *sender = text_escape(*p->sender ? p->sender : "<>");
	guint i;

	g_string_append_printf(out, "Post:        %" G_GINT64_FORMAT "\n", p->id);
	if (*p->report_id)
		g_string_append_printf(out, "Report:      %s\n", p->report_id);
	if (strcmp(p->status, "held") == 0) {
		g_string_append_printf(out, "Status:      held since %s (%s), as %s\n", received, a, p->reason);
	} else {
		char *when = text_time_iso(p->decided ? p->decided : p->received);

		g_string_append_printf(out, "Status:      %s", p->status);
		if (*p->decided_by)
			g_string_append_printf(out, " by %s", p->decided_by);
		g_string_append_printf(out, " at %s (received %s)\n", when, received);
		g_free(when);
	}
	g_string_append_printf(out, "Envelope:    <%s>\nSize:        %" G_GINT64_FORMAT " bytes\n\n",
			       sender, p->size);
	if (!r->parsed)
		g_string_append(out, "(no header block: this is not a readable message; see --raw)\n");
	for (i = 0; i + 1 < r->headers->len; i += 2) {
		char *name = g_strconcat(g_ptr_array_index(r->headers, i), ":", NULL);
		char *v = text_escape(g_ptr_array_index(r->headers, i + 1));

		g_string_append_printf(out, "%-12s %s\n", name, v);
		g_free(name);
		g_free(v);
	}
	for (i = 0; i < r->parts->len; i++)
		print_part(out, attachments, g_ptr_array_index(r->parts, i));
	if (attachments->len)
		g_string_append_printf(out, "\nAttachments (not opened; vigil show --raw %" G_GINT64_FORMAT
				       " > FILE saves the message):\n%s", p->id, attachments->str);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_string_free(attachments, TRUE);
	message_readable_free(r);
	g_free(received);
	g_free(a);
	g_free(sender);
}

/* find_post - the post a moderator named, or die */
static struct post_row *
find_post(struct ctx *c, const char *key)
{
	struct post_row *p;
	GError *err = NULL;
	enum moderate_rc rc;

	if ((rc = moderate_find(c->st, c->list, key, &p, &err)) != MODERATE_OK)
		die(rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1, "%s", err->message);
	if (p->raw == NULL)
		die(1, "post %" G_GINT64_FORMAT " is a member's post relayed on arrival: its message is not kept",
		    p->id);
	return p;
}

/* cmd_show - show ID [--raw] */
static int
cmd_show(struct ctx *c, int argc, char **argv)
{
	const char *key = NULL;
	bool raw = false;
	struct post_row *p;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			raw = true;
		else if (key == NULL && argv[i][0] != '-')
			key = argv[i];
		else
			die(EX_USAGE, "usage: vigil show ID [--raw]");
	}
	if (key == NULL)
		die(EX_USAGE, "usage: vigil show ID [--raw]");
	if (raw && isatty(STDOUT_FILENO))
		die(1, "will not write a raw message to a terminal: redirect it (vigil show --raw %s > post.eml)"
		    " or pipe it", key);
	open_store(c, true);
	p = find_post(c, key);
	if (raw) {
		gsize len;
		const char *data = g_bytes_get_data(p->raw, &len);

		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			die(1, "writing the message: %s", g_strerror(errno));
	} else {
		print_post(p, (gint64) time(NULL));
	}
	store_post_row_free(p);
	return 0;
}

/* cmd_decide - approve|reject|discard ID [--comment TEXT | --reason TEXT] [--as ADDRESS] */
static int
cmd_decide(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "comment", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	enum post_state to = strcmp(cmd, "approve") == 0 ? POST_APPROVED
		: strcmp(cmd, "reject") == 0 ? POST_REJECTED : POST_DISCARDED;
	const char *usage = to == POST_REJECTED ? "ID --reason TEXT [--as ADDRESS]"
		: "ID [--comment TEXT] [--as ADDRESS]";
	const char *as = NULL, *comment = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	struct decision d;
	GError *err = NULL;
	enum moderate_rc rc;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'a')
			as = optarg;
		else if ((o == 'c' && to != POST_REJECTED) || (o == 'r' && to == POST_REJECTED))
			comment = optarg;
		else
			die(EX_USAGE, "usage: vigil %s %s", cmd, usage);
	}
	if (optind != argc - 1 || (to == POST_REJECTED && comment == NULL))
		die(EX_USAGE, "usage: vigil %s %s", cmd, usage);
	open_store(c, true);
	rc = moderate_decide(c->st, c->cfg, c->list, argv[optind], to, as, c->login, comment,
			     (gint64) time(NULL), ids, &d, &err);
	if (rc != MODERATE_OK)
		die(rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1, "%s", err->message);
	printf("post %" G_GINT64_FORMAT " (report %s) %s by %s", d.post->id, d.post->report_id,
	       policy_state_name(to), d.moderator);
	if (to == POST_APPROVED)
		printf(": the post goes to %u recipient(s)", d.members);
	else if (to == POST_REJECTED && d.sender_told)
		printf(": the reason goes to the sender");
	else if (to == POST_REJECTED)
		printf(": the sender (a null or MAILER-DAEMON address) is not told");
	printf("; a note goes to %u other moderator(s)\n", d.moderators_told);
	fflush(stdout);
	flush_new(c, ids);
	moderate_decision_clear(&d);
	g_array_free(ids, TRUE);
	return 0;
}

/* parse_since - a date, a date-time or an age back from now */
static gint64
parse_since(const char *s, gint64 now)
{
	GTimeZone *utc = g_time_zone_new_utc();
	GDateTime *dt = NULL;
	gint64 t = -1, d;
	size_t n = strlen(s);
	int y, m, day;
	char end;

	if (n > 0 && g_ascii_isalpha(s[n - 1]) && config_parse_duration(s, &d))
		t = now - d;	/* an age needs its unit: a bare 2026 is no age */
	else if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &day, &end) == 3)
		dt = g_date_time_new(utc, y, m, day, 0, 0, 0);
	else
		dt = g_date_time_new_from_iso8601(s, utc);
	if (dt) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	g_time_zone_unref(utc);
	if (t < 0) {
		char *e = text_escape(s);

		die(EX_USAGE, "--since %s: not a date (2026-11-21), a time (2026-11-21T08:00:00Z)"
		    " or an age (12h, 7d)", e);
	}
	return t;
}

/* json_since - the options of a listing: [--json] [--since DATE] */
static void
json_since(int argc, char **argv, bool *json, gint64 *since)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	*json = false;
	*since = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'j')
			*json = true;
		else if (o == 's')
			*since = parse_since(optarg, (gint64) time(NULL));
		else
			die(EX_USAGE, "usage: vigil %s [--json] [--since DATE]", argv[0]);
	}
	if (optind != argc)
		die(EX_USAGE, "usage: vigil %s [--json] [--since DATE]", argv[0]);
}

/* cmd_log - log [--json] [--since DATE] */
static int
cmd_log(struct ctx *c, int argc, char **argv)
{
	GString *out = g_string_new(NULL);
	GPtrArray *rows;
	GError *err = NULL;
	gint64 since;
	bool json;
	enum store_rc r;
	guint i;

	json_since(argc, argv, &json, &since);
	open_store(c, true);
	if ((r = store_audit_list(c->st, c->list->address, since, &rows, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (rows->len > 0)
		g_string_append_printf(out, "%-20s %-30s %-14s %-6s %-10s %s\n", "TIME", "BY", "ACTION",
				       "POST", "REPORT", "DETAIL");
	for (i = 0; i < rows->len; i++) {
		const struct audit_row *a = g_ptr_array_index(rows, i);
		char *when = text_time_iso(a->time);

		if (json) {
			g_string_append_printf(out, "%s {\"time\": \"%s\", \"actor\": ", i ? ",\n" : "\n", when);
			text_json_string(out, a->actor);
			g_string_append(out, ", \"login\": ");
			json_or_null(out, a->login);
			g_string_append(out, ", \"action\": ");
			text_json_string(out, a->action);
			if (a->post_id > 0)
				g_string_append_printf(out, ", \"post_id\": %" G_GINT64_FORMAT, a->post_id);
			else
				g_string_append(out, ", \"post_id\": null");
			g_string_append(out, ", \"report_id\": ");
			json_or_null(out, a->report_id);
			g_string_append(out, ", \"address\": ");
			json_or_null(out, a->address);
			g_string_append(out, ", \"detail\": ");
			json_or_null(out, a->detail);
			g_string_append_c(out, '}');
		} else {
			char *actor = text_escape(a->actor);
			char *about = *a->address ? g_strdup_printf("%s%s%s", a->address, *a->detail ? ": " : "",
								   a->detail) : g_strdup(a->detail);
			char *detail = text_escape(about);
			char *post = a->post_id > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, a->post_id) : g_strdup("-");

			g_string_append_printf(out, "%-20s %-30s %-14s %-6s %-10s %s\n", when, actor, a->action,
					       post, *a->report_id ? a->report_id : "-", detail);
			g_free(actor);
			g_free(about);
			g_free(detail);
			g_free(post);
		}
		g_free(when);
	}
	if (json)
		g_string_append(out, rows->len ? "\n]\n" : "]\n");
	else if (rows->len == 0)
		g_string_append_printf(out, "nothing in the log of %s%s\n", c->list->address,
				       since ? " for that time" : "");
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(rows, TRUE);
	return 0;
}

/* cmd_report_list - report list [--json] */
static int
cmd_report_list(struct ctx *c, int argc, char **argv)
{
	int json = json_flag(argc, argv, "report list");
	GPtrArray *reports;
	GError *err = NULL;
	GString *out = g_string_new(NULL);
	enum store_rc r;
	guint i;

	open_store(c, true);
	if ((r = store_report_list(c->st, c->list->address, &reports, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (reports->len > 0)
		g_string_append_printf(out, "%-10s %-20s %-20s %4s  %-30s %s\n", "REPORT", "OPENED", "LAST",
				       "MSGS", "FROM", "SUBJECT");
	for (i = 0; i < reports->len; i++) {
		const struct report_row *p = g_ptr_array_index(reports, i);
		char *opened = text_time_iso(p->opened);
		char *last = text_time_iso(p->last);

		if (json) {
			g_string_append(out, i ? ",\n {\"report_id\": " : "\n {\"report_id\": ");
			text_json_string(out, p->report_id);
			g_string_append_printf(out, ", \"opened\": \"%s\", \"last\": \"%s\", \"messages\": %"
					       G_GINT64_FORMAT ", \"from\": ", opened, last, p->messages);
			json_or_null(out, p->from);
			g_string_append(out, ", \"subject\": ");
			json_or_null(out, p->subject);
			g_string_append_c(out, '}');
		} else {
			char *from = text_escape(p->from);
			char *subject = text_escape(p->subject);

			g_string_append_printf(out, "%-10s %-20s %-20s %4" G_GINT64_FORMAT "  %-30s %s\n",
					       p->report_id, opened, last, p->messages, from, subject);
			g_free(from);
			g_free(subject);
		}
		g_free(opened);
		g_free(last);
	}
	if (json)
		g_string_append(out, reports->len ? "\n]\n" : "]\n");
	else if (reports->len == 0)
		g_string_append_printf(out, "%s has no approved reports\n", c->list->address);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(reports, TRUE);
	return 0;
}

/* report_json - a report's people and thread as one JSON object */
static void
report_json(GString *out, const char *report_id, const GPtrArray *people, const GPtrArray *posts)
{
	guint i;

	g_string_append(out, "{\"report_id\": ");
	text_json_string(out, report_id);
	g_string_append(out, ",\n \"people\": [");
	for (i = 0; i < people->len; i++) {
		const struct reporter *p = g_ptr_array_index(people, i);
		char *added = text_time_iso(p->added);

		g_string_append(out, i ? ",\n  {\"address\": " : "\n  {\"address\": ");
		text_json_string(out, p->address);
		g_string_append(out, ", \"kind\": ");
		text_json_string(out, p->kind);
		g_string_append_printf(out, ", \"added\": \"%s\", \"added_by\": ", added);
		json_or_null(out, p->added_by);
		g_string_append_c(out, '}');
		g_free(added);
	}
	g_string_append(out, "],\n \"messages\": [");
	for (i = 0; i < posts->len; i++) {
		const struct post_row *m = g_ptr_array_index(posts, i);
		char *when = text_time_iso(m->received);

		g_string_append_printf(out, "%s  {\"post_id\": %" G_GINT64_FORMAT ", \"received\": \"%s\","
				       " \"status\": ", i ? ",\n" : "\n", m->id, when);
		text_json_string(out, m->status);
		g_string_append(out, ", \"from\": ");
		json_or_null(out, m->from);
		g_string_append(out, ", \"subject\": ");
		json_or_null(out, m->subject);
		g_string_append(out, ", \"message_id\": ");
		json_or_null(out, m->message_id);
		g_string_append_c(out, '}');
		g_free(when);
	}
	g_string_append(out, "]}\n");
}

/* report_text - a report's people and thread for a terminal */
static void
report_text(GString *out, const char *report_id, const GPtrArray *people, const GPtrArray *posts)
{
	guint i;

	g_string_append_printf(out, "report %s\n", report_id);
	for (i = 0; i < people->len; i++) {
		const struct reporter *p = g_ptr_array_index(people, i);
		char *added = text_time_iso(p->added);
		char *addr = text_escape(p->address);

		if (strcmp(p->kind, "cc") == 0)
			g_string_append_printf(out, "copied:   %s (since %s, by %s)\n", addr, added, p->added_by);
		else
			g_string_append_printf(out, "reporter: %s (since %s)\n", addr, added);
		g_free(added);
		g_free(addr);
	}
	g_string_append_printf(out, "\n%-6s %-20s %-9s %-30s %s\n", "POST", "RECEIVED", "STATUS", "FROM",
			       "SUBJECT");
	for (i = 0; i < posts->len; i++) {
		const struct post_row *m = g_ptr_array_index(posts, i);
		char *when = text_time_iso(m->received);
		char *from = text_escape(*m->from ? m->from : m->sender);
		char *subject = text_escape(m->subject);

		g_string_append_printf(out, "%-6" G_GINT64_FORMAT " %-20s %-9s %-30s %s\n", m->id, when,
				       m->status, from, subject);
		g_free(when);
		g_free(from);
		g_free(subject);
	}
}

/* cmd_report_show - report show ID [--json] */
static int
cmd_report_show(struct ctx *c, int argc, char **argv)
{
	bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
	GPtrArray *people, *posts;
	GString *out = g_string_new(NULL);
	GError *err = NULL;
	char *report_id = NULL;
	enum moderate_rc rc;
	enum store_rc r;

	if (argc != 2 && !json)
		die(EX_USAGE, "usage: vigil report show ID [--json]");
	open_store(c, true);
	if ((rc = moderate_report(c->st, c->list, argv[1], &report_id, &err)) != MODERATE_OK)
		die(rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1, "%s", err->message);
	if ((r = store_reporter_list(c->st, c->list->address, report_id, &people, &err)) != STORE_OK
	    || (r = store_thread_posts(c->st, c->list->address, report_id, &posts, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		report_json(out, report_id, people, posts);
	else
		report_text(out, report_id, people, posts);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(people, TRUE);
	g_ptr_array_free(posts, TRUE);
	g_free(report_id);
	return 0;
}

/* cmd_report_cc - report cc ID add|remove ADDRESS [--as ADDRESS] */
static int
cmd_report_cc(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: vigil report cc ID add|remove ADDRESS [--as ADDRESS]";
	const char *as = NULL;
	char *report_id = NULL, *typed;
	GError *err = NULL;
	enum moderate_rc rc;
	bool add;
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'a')
			die(EX_USAGE, "%s", usage);
		as = optarg;
	}
	if (argc - optind != 3 || (strcmp(argv[optind + 1], "add") != 0
				   && strcmp(argv[optind + 1], "remove") != 0))
		die(EX_USAGE, "%s", usage);
	add = strcmp(argv[optind + 1], "add") == 0;
	open_store(c, true);
	rc = moderate_report_cc(c->st, c->list, argv[optind], add, argv[optind + 2], as, c->login,
				(gint64) time(NULL), &report_id, &err);
	if (rc != MODERATE_OK)
		die(rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1, "%s", err->message);
	typed = text_escape(argv[optind + 2]);
	printf(add ? "%s is copied on every message of report %s from now on\n"
	       : "%s is no longer copied on report %s\n", typed, report_id);
	g_free(typed);
	g_free(report_id);
	return 0;
}

/* cmd_bounces - bounces [--json] [--since DATE] */
static int
cmd_bounces(struct ctx *c, int argc, char **argv)
{
	GString *out = g_string_new(NULL);
	GPtrArray *rows;
	GError *err = NULL;
	gint64 since;
	bool json;
	enum store_rc r;
	guint i;

	json_since(argc, argv, &json, &since);
	open_store(c, true);
	if ((r = store_bounce_list(c->st, c->list->address, since, &rows, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (rows->len > 0)
		g_string_append_printf(out, "%-20s %-40s %-9s %-7s %s\n", "RECEIVED", "ADDRESS", "ACTION",
				       "STATUS", "DIAGNOSTIC");
	for (i = 0; i < rows->len; i++) {
		const struct bounce_row *b = g_ptr_array_index(rows, i);
		char *when = text_time_iso(b->received);

		if (json) {
			g_string_append_printf(out, "%s {\"id\": %" G_GINT64_FORMAT ", \"received\": \"%s\","
					       " \"address\": ", i ? ",\n" : "\n", b->id, when);
			json_or_null(out, b->address);
			g_string_append(out, ", \"action\": ");
			json_or_null(out, b->action);
			g_string_append(out, ", \"status\": ");
			json_or_null(out, b->status);
			g_string_append(out, ", \"diagnostic\": ");
			json_or_null(out, b->diagnostic);
			g_string_append(out, ", \"sender\": ");
			text_json_string(out, b->sender);
			g_string_append_printf(out, ", \"failed\": %s, \"reported\": %s}",
					       b->failed ? "true" : "false", b->reported ? "true" : "false");
		} else {
			char *addr = text_escape(*b->address ? b->address : "(not a delivery report)");
			char *diag = text_escape(b->diagnostic);

			g_string_append_printf(out, "%-20s %-40s %-9s %-7s %s%s\n", when, addr,
					       *b->action ? b->action : "-", *b->status ? b->status : "-",
					       diag, b->reported ? " [reported to the owner]" : "");
			g_free(addr);
			g_free(diag);
		}
		g_free(when);
	}
	if (json)
		g_string_append(out, rows->len ? "\n]\n" : "]\n");
	else if (rows->len == 0)
		g_string_append_printf(out, "no bounces for %s%s\n", c->list->address,
				       since ? " in that time" : "");
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(rows, TRUE);
	return 0;
}

/* archive_json - one report's archived posts as a JSON object */
static void
archive_json(GString *out, const GPtrArray *rows, guint from, guint to, gint64 bytes)
{
	const struct archive_row *first = g_ptr_array_index(rows, from);
	const struct archive_row *last = g_ptr_array_index(rows, to - 1);
	char *t1 = text_time_iso(first->received), *t2 = text_time_iso(last->received);
	guint i;

	g_string_append(out, from ? ",\n {\"report_id\": " : "\n {\"report_id\": ");
	json_or_null(out, first->thread);
	g_string_append_printf(out, ", \"messages\": %u, \"bytes\": %" G_GINT64_FORMAT ", \"first\": \"%s\","
			       " \"last\": \"%s\", \"subject\": ", to - from, bytes, t1, t2);
	json_or_null(out, first->subject);
	g_string_append(out, ",\n  \"posts\": [");
	for (i = from; i < to; i++) {
		const struct archive_row *a = g_ptr_array_index(rows, i);
		char *when = text_time_iso(a->received);

		g_string_append_printf(out, "%s{\"post_id\": %" G_GINT64_FORMAT ", \"received\": \"%s\","
				       " \"from\": ", i > from ? ",\n   " : "\n   ", a->post_id, when);
		json_or_null(out, a->from);
		g_string_append(out, ", \"subject\": ");
		json_or_null(out, a->subject);
		g_string_append(out, ", \"message_id\": ");
		json_or_null(out, a->message_id);
		g_string_append(out, ", \"file\": ");
		text_json_string(out, a->file);
		g_string_append_printf(out, ", \"size\": %" G_GINT64_FORMAT "}", a->size);
		g_free(when);
	}
	g_string_append(out, "]}");
	g_free(t1);
	g_free(t2);
}

/* archive_text - one report's archived posts as a line for a terminal */
static void
archive_text(GString *out, const GPtrArray *rows, guint from, guint to, gint64 bytes)
{
	const struct archive_row *first = g_ptr_array_index(rows, from);
	const struct archive_row *last = g_ptr_array_index(rows, to - 1);
	char *t1 = text_time_iso(first->received), *t2 = text_time_iso(last->received);
	char *subject = *first->thread ? text_escape(first->subject) : g_strdup("(posts in no report's thread)");

	g_string_append_printf(out, "%-10s %4u  %-20s %-20s %10" G_GINT64_FORMAT "  %s\n",
			       *first->thread ? first->thread : "-", to - from, t1, t2, bytes, subject);
	g_free(t1);
	g_free(t2);
	g_free(subject);
}

/* cmd_archive_list - archive list [--json] */
static int
cmd_archive_list(struct ctx *c, int argc, char **argv)
{
	int json = json_flag(argc, argv, "archive list");
	GString *out = g_string_new(NULL);
	GPtrArray *rows;
	GError *err = NULL;
	enum store_rc r;
	guint i, from;
	gint64 bytes = 0;

	open_store(c, true);
	if ((r = store_archive_list(c->st, c->list->address, NULL, &rows, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (json)
		g_string_append_c(out, '[');
	else if (rows->len > 0)
		g_string_append_printf(out, "%-10s %4s  %-20s %-20s %10s  %s\n", "REPORT", "MSGS", "FIRST",
				       "LAST", "BYTES", "SUBJECT");
	/* the rows come report by report: one entry for each run of one thread */
	for (i = from = 0; i < rows->len; i++) {
		const struct archive_row *a = g_ptr_array_index(rows, i);
		const struct archive_row *next = i + 1 < rows->len ? g_ptr_array_index(rows, i + 1) : NULL;

		bytes += a->size;
		if (next && strcmp(next->thread, a->thread) == 0)
			continue;
		if (json)
			archive_json(out, rows, from, i + 1, bytes);
		else
			archive_text(out, rows, from, i + 1, bytes);
		from = i + 1;
		bytes = 0;
	}
	if (json)
		g_string_append(out, rows->len ? "\n]\n" : "]\n");
	else if (rows->len == 0 && *c->list->archive == '\0')
		g_string_append_printf(out, "%s keeps no archive (see archive in vigil.conf(5))\n",
				       c->list->address);
	else if (rows->len == 0)
		g_string_append_printf(out, "nothing is in the archive of %s yet\n", c->list->address);
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	g_ptr_array_free(rows, TRUE);
	return 0;
}

/*
 * open_mbox - FILE for an export, opened as the user who runs vigil
 * (before it becomes the database's owner), 0600; under sudo it belongs
 * to the user who ran sudo.  *created: it did not exist.
 */
static int
open_mbox(const char *path, bool *created)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(1, "%s: %s", path, g_strerror(errno));
	if (*created && getuid() == 0 && uid && gid && *uid && *gid
	    && fchown(fd, (uid_t) g_ascii_strtoull(uid, NULL, 10), (gid_t) g_ascii_strtoull(gid, NULL, 10)) != 0)
		die(1, "%s: chown to the user who ran sudo: %s", path, g_strerror(errno));
	return fd;
}

/* write_all - len bytes to fd */
static bool
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t) n;
	}
	return true;
}

/* cmd_archive_export - archive export ID [--mbox FILE] */
static int
cmd_archive_export(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mbox", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: vigil archive export ID [--mbox FILE]";
	const char *path = NULL;
	GString *out = g_string_new(NULL);
	GError *err = NULL;
	char *report_id = NULL;
	bool created = false;
	enum moderate_rc rc;
	enum store_rc r = STORE_OK;
	guint n = 0;
	int o, fd = STDOUT_FILENO;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'm')
			die(EX_USAGE, "%s", usage);
		path = optarg;
	}
	if (optind != argc - 1)
		die(EX_USAGE, "%s", usage);
	if (path == NULL && isatty(STDOUT_FILENO))
		die(1, "will not write an mbox to a terminal: use --mbox FILE, or redirect or pipe it");
	if (path)
		fd = open_mbox(path, &created);
	open_store(c, true);
	if ((rc = moderate_report(c->st, c->list, argv[optind], &report_id, &err)) != MODERATE_OK
	    || (r = archive_export(c->st, c->list, report_id, out, &n, &err)) != STORE_OK) {
		if (created)
			unlink(path);
		die(rc == MODERATE_TEMPFAIL || (rc == MODERATE_OK && r == STORE_RETRY) ? EX_TEMPFAIL : 1,
		    "%s", err->message);
	}
	if ((path && ftruncate(fd, 0) != 0) || !write_all(fd, out->str, out->len)
	    || (path && (fsync(fd) != 0 || close(fd) != 0)))
		die(1, "writing %s: %s", path ? path : "the mbox", g_strerror(errno));
	if (path)
		printf("report %s: %u message(s) written to %s\n", report_id, n, path);
	g_string_free(out, TRUE);
	g_free(report_id);
	return 0;
}

/* cmd_maintain - reminders and expiry for every list (or -l), then the outbox */
static int
cmd_maintain(struct ctx *c, int argc, char **argv)
{
	struct flush_stats fs;
	GError *err = NULL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 now = (gint64) time(NULL), left = 0, forgot = 0;
	int status = 0;
	enum store_rc r;
	guint i, orphans;

	if (argc != 1)
		die(EX_USAGE, "usage: vigil maintain");
	open_store(c, c->list_name != NULL);
	for (i = 0; i < c->cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(c->cfg->lists, i);
		struct maintain_stats ms;
		enum moderate_rc rc;

		if (c->list && l != c->list)
			continue;
		if ((rc = moderate_maintain(c->st, c->cfg, l, now, &ms, ids, &err)) != MODERATE_OK) {
			fprintf(stderr, "vigil: %s: %s\n", l->address, err->message);
			g_clear_error(&err);
			status = rc == MODERATE_TEMPFAIL ? EX_TEMPFAIL : 1;
			continue;
		}
		if (ms.expired || ms.reminded)	/* quiet when idle: cron mails what is printed */
			printf("%s: %u expired, %u in the reminder\n", l->address, ms.expired, ms.reminded);
		if ((r = archive_recover(c->st, l, &orphans, &err)) != STORE_OK) {
			fprintf(stderr, "vigil: %s: %s\n", l->address, err->message);
			g_clear_error(&err);
			status = store_status(r);
		} else if (orphans) {
			printf("%s: %u archive file(s) that no post names removed (see the log)\n",
			       l->address, orphans);
		}
	}
	g_array_free(ids, TRUE);
	if ((r = store_taken_expire(c->st, now - INTAKE_TAKEN_KEEP, &forgot, &err)) != STORE_OK) {
		fprintf(stderr, "vigil: %s\n", err->message);
		g_clear_error(&err);
		status = store_status(r);
	}
	/* the whole outbox: what this run queued and what earlier runs left */
	if ((r = outbox_flush(c->st, c->cfg, NULL, now, &fs, &err)) != STORE_OK
	    || (r = store_outbox_count(c->st, &left, &err)) != STORE_OK)
		die(store_status(r), "%s", err->message);
	if (fs.sent || left)
		printf("flush: %d sent, %" G_GINT64_FORMAT " left in the outbox\n", fs.sent, left);
	if (status == 0 && left > 0)
		status = EX_TEMPFAIL;
	return status;
}

/* auth_note - what require_authentication leaves to the postmaster, on stderr */
static void
auth_note(const struct list_config *l)
{
	if (l->require_authentication == AUTH_NONE)
		fprintf(stderr, "vigil: note: [list %s] require_authentication = none: whoever forges a"
			" member's address posts as that member; see vigil.conf(5)\n", l->address);
	else
		fprintf(stderr, "vigil: note: [list %s] trusts Authentication-Results of %s: the MTA must"
			" remove those a sender wrote before its verifier runs (header_checks,"
			" filters/postfix/README)\n", l->address, l->trusted_authserv_id);
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
		if (!compose_check(g_ptr_array_index(c->cfg->lists, i), c->cfg->template_dir, &err)
		    || !archive_check(g_ptr_array_index(c->cfg->lists, i), &err))
			die(1, "%s", err->message);
	config_print(c->cfg, stdout);
	for (i = 0; i < c->cfg->lists->len; i++)
		auth_note(g_ptr_array_index(c->cfg->lists, i));
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
	else if (strcmp(cmd, "member") == 0 && argc >= 2 && strcmp(argv[1], "show") == 0)
		status = cmd_member_show(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "invite") == 0)
		status = cmd_invite(&c, argc, argv);
	else if (strcmp(cmd, "vouch") == 0)
		status = cmd_vouch(&c, argc, argv);
	else if (strcmp(cmd, "report") == 0 && argc >= 2 && strcmp(argv[1], "list") == 0)
		status = cmd_report_list(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "report") == 0 && argc >= 2 && strcmp(argv[1], "show") == 0)
		status = cmd_report_show(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "report") == 0 && argc >= 2 && strcmp(argv[1], "cc") == 0)
		status = cmd_report_cc(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "archive") == 0 && argc >= 2 && strcmp(argv[1], "list") == 0)
		status = cmd_archive_list(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "archive") == 0 && argc >= 2 && strcmp(argv[1], "export") == 0)
		status = cmd_archive_export(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "bounces") == 0)
		status = cmd_bounces(&c, argc, argv);
	else if (strcmp(cmd, "held") == 0)
		status = cmd_held(&c, argc, argv);
	else if (strcmp(cmd, "show") == 0)
		status = cmd_show(&c, argc, argv);
	else if (strcmp(cmd, "approve") == 0 || strcmp(cmd, "reject") == 0 || strcmp(cmd, "discard") == 0)
		status = cmd_decide(&c, argc, argv);
	else if (strcmp(cmd, "log") == 0)
		status = cmd_log(&c, argc, argv);
	else if (strcmp(cmd, "maintain") == 0)
		status = cmd_maintain(&c, argc, argv);
	else if (strcmp(cmd, "flush") == 0)
		status = cmd_flush(&c, argc, argv);
	else if (strcmp(cmd, "check-config") == 0)
		status = cmd_check_config(&c, argc, argv);
	else
		die(EX_USAGE, "unknown command \"%s\" (see vigil --help)", cmd);
	store_close(c.st);
	config_free(c.cfg);
	g_free(c.actor);
	g_free(c.login);
	return status;
}
