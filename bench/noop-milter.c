/*
 * NAME
 *	noop-milter - the ceiling for a list milter (benchmark only)
 * SYNOPSIS
 *	noop-milter -p SOCKET -l LIST -m MEMBERS -o OWNER
 * DESCRIPTION
 *	A libmilter daemon that takes every callback vigil-milter takes
 *	(envelope, headers, body) and keeps nothing, decides nothing and
 *	stores nothing, but asks Postfix for the same envelope changes:
 *
 *	for a message to LIST from a member (MEMBERS: one address a line),
 *	LIST is removed, every other member added, OWNER made the envelope
 *	sender and the list's four header lines inserted, as vigil-milter
 *	does, so that Postfix has the same work downstream; from anyone
 *	else, LIST is replaced by the sender and OWNER (standing in for
 *	vigil's auto-reply and moderators' notice).  That is one message
 *	for Postfix where vigil-milter's held report is three (the original
 *	discarded, the auto-reply and the notice sent back): two messages
 *	of different content cannot be made by changing an envelope.
 *	Everything else is accepted unchanged.
 *
 *	SOCKET is unix:PATH (made mode 0666) or inet:PORT@HOST.
 * DIAGNOSTICS
 *	stderr; exit 0 after SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static char **members;
static int nmembers;
static const char *list, *owner;
static char list_id[512];

struct msg {
	char	sender[512];
	char	given[512];	/* the list recipient as Postfix gave it */
	int	to_list;
};

/* strip - an address without its angle brackets, into out */
static void
strip(const char *in, char *out, size_t n)
{
	size_t len;

	if (*in == '<')
		in++;
	len = strcspn(in, ">");
	if (len >= n)
		len = n - 1;
	memcpy(out, in, len);
	out[len] = 0;
}

static int
is_member(const char *a)
{
	int i;

	for (i = 0; i < nmembers; i++)
		if (strcasecmp(members[i], a) == 0)
			return 1;
	return 0;
}

static sfsistat
x_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct msg *m = calloc(1, sizeof *m);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	smfi_setpriv(ctx, m);
	return SMFIS_CONTINUE;
}

static sfsistat
x_envfrom(SMFICTX *ctx, char **argv)
{
	struct msg *m = smfi_getpriv(ctx);

	memset(m, 0, sizeof *m);
	strip(argv[0], m->sender, sizeof m->sender);
	return SMFIS_CONTINUE;
}

static sfsistat
x_envrcpt(SMFICTX *ctx, char **argv)
{
	struct msg *m = smfi_getpriv(ctx);
	char a[512];

	strip(argv[0], a, sizeof a);
	if (strcasecmp(a, list) == 0) {
		m->to_list = 1;
		snprintf(m->given, sizeof m->given, "%s", argv[0]);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
x_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_CONTINUE;
}

static sfsistat
x_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return SMFIS_CONTINUE;
}

static sfsistat
x_eom(SMFICTX *ctx)
{
	struct msg *m = smfi_getpriv(ctx);
	char a[520];
	int i;

	if (!m->to_list)
		return SMFIS_ACCEPT;
	if (smfi_delrcpt(ctx, m->given) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (is_member(m->sender)) {
		for (i = 0; i < nmembers; i++) {
			if (strcasecmp(members[i], m->sender) == 0)
				continue;
			snprintf(a, sizeof a, "<%s>", members[i]);
			if (smfi_addrcpt(ctx, a) != MI_SUCCESS)
				return SMFIS_TEMPFAIL;
		}
		snprintf(a, sizeof a, "<%s>", owner);
		if (smfi_chgfrom(ctx, a, NULL) != MI_SUCCESS
		    || smfi_insheader(ctx, 0, "X-Loop", (char *) list) != MI_SUCCESS
		    || smfi_insheader(ctx, 0, "Precedence", "list") != MI_SUCCESS
		    || smfi_insheader(ctx, 0, "List-Post", list_id + 256) != MI_SUCCESS
		    || smfi_insheader(ctx, 0, "List-Id", list_id) != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	} else {
		if (*m->sender) {
			snprintf(a, sizeof a, "<%s>", m->sender);
			if (smfi_addrcpt(ctx, a) != MI_SUCCESS)
				return SMFIS_TEMPFAIL;
		}
		snprintf(a, sizeof a, "<%s>", owner);
		if (smfi_addrcpt(ctx, a) != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	}
	return SMFIS_ACCEPT;
}

static sfsistat
x_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/* load_members - the members file, one address a line */
static void
load_members(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (*line == 0)
			continue;
		if ((members = realloc(members, sizeof *members * (size_t) (nmembers + 1))) == NULL
		    || (members[nmembers++] = strdup(line)) == NULL) {
			perror("memory");
			exit(1);
		}
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "noop-milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_ADDHDRS | SMFIF_CHGFROM,
		.xxfi_connect = x_connect,
		.xxfi_envfrom = x_envfrom,
		.xxfi_envrcpt = x_envrcpt,
		.xxfi_header = x_header,
		.xxfi_body = x_body,
		.xxfi_eom = x_eom,
		.xxfi_close = x_close,
	};
	const char *sock = NULL, *mfile = NULL;
	int c;

	while ((c = getopt(argc, argv, "p:l:m:o:")) != -1) {
		switch (c) {
		case 'p': sock = optarg; break;
		case 'l': list = optarg; break;
		case 'm': mfile = optarg; break;
		case 'o': owner = optarg; break;
		default: goto usage;
		}
	}
	if (!sock || !list || !mfile || !owner)
		goto usage;
	load_members(mfile);
	snprintf(list_id, 256, "Benchmark list <%s>", list);
	snprintf(list_id + 256, 256, "<mailto:%s>", list);
	if (strncmp(sock, "unix:", 5) == 0)
		unlink(sock + 5);
	umask(0);			/* the socket 0666: Postfix's smtpd connects */
	if (smfi_setconn((char *) sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_settimeout(30) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: noop-milter -p SOCKET -l LIST -m MEMBERS -o OWNER\n");
	return 64;
}
