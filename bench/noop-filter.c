/*
 * NAME
 *	noop-filter - the ceiling for a pipe(8) list filter (benchmark only)
 * SYNOPSIS
 *	noop-filter -r HOST:PORT -m MEMBERS -o OWNER -f SENDER -- RECIPIENT...
 * DESCRIPTION
 *	What any pipe(8) list filter must do at the least, and nothing
 *	more: read the message from standard input and hand the same mail
 *	traffic back to Postfix over SMTP, on the re-injection listener
 *	vigil-filter uses (relay = smtp://HOST:PORT in vigil.conf).
 *
 *	MEMBERS is a file of addresses, one a line.  When SENDER is one of
 *	them, the message goes, unchanged, to every other member in one
 *	transaction with OWNER as envelope sender (what vigil does with a
 *	member's post).  Otherwise two transactions: the message to SENDER
 *	(standing in for the auto-reply) and to OWNER (standing in for the
 *	moderators' notice), both from the null sender.  There is no
 *	parsing, no database, no fsync: the cost left is exec, reading the
 *	message and the SMTP dialogue, which vigil-filter pays too.
 *
 *	The message is sent with CRLF line ends and dot-stuffed (relay.c).
 *	It links libc only, so its start-up is as cheap as a program's can be.
 * DIAGNOSTICS
 *	Exit 0 once the relay accepted everything; 75 (EX_TEMPFAIL) on any
 *	failure, so Postfix keeps the message.  The reason goes to stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "relay.h"

/* slurp - the message on standard input, as SMTP DATA */
static void
slurp(struct buf *out)
{
	static char chunk[65536];
	int bol = 1;
	ssize_t n;

	while ((n = read(0, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			relay_die("read");
		}
		buf_smtp(out, chunk, (size_t) n, &bol);
	}
	buf_smtp_end(out, bol);
}

/* load_members - the members file, one address a line */
static char **
load_members(const char *path, int *n)
{
	FILE *f = fopen(path, "r");
	char line[1024], **v = NULL;

	*n = 0;
	if (f == NULL)
		relay_die(path);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (*line == 0)
			continue;
		if ((v = realloc(v, sizeof *v * (size_t) (*n + 1))) == NULL || (v[*n] = strdup(line)) == NULL)
			relay_die("memory");
		(*n)++;
	}
	fclose(f);
	return v;
}

int
main(int argc, char **argv)
{
	const char *relay = NULL, *members_file = NULL, *owner = NULL, *sender = NULL;
	struct buf msg = { 0 };
	char **members, **to;
	int c, n, nto = 0, i, member = 0;
	struct relay r;

	relay_progname = "noop-filter";
	while ((c = getopt(argc, argv, "r:m:o:f:")) != -1) {
		switch (c) {
		case 'r': relay = optarg; break;
		case 'm': members_file = optarg; break;
		case 'o': owner = optarg; break;
		case 'f': sender = optarg; break;
		default: errno = EINVAL; relay_die("usage");
		}
	}
	if (!relay || !members_file || !owner || !sender || optind >= argc) {
		errno = EINVAL;
		relay_die("usage: noop-filter -r HOST:PORT -m MEMBERS -o OWNER -f SENDER -- RECIPIENT...");
	}
	slurp(&msg);
	members = load_members(members_file, &n);
	if ((to = calloc((size_t) n + 2, sizeof *to)) == NULL)
		relay_die("memory");
	for (i = 0; i < n; i++)
		if (strcasecmp(members[i], sender) == 0)
			member = 1;
	relay_open(&r, relay);
	if (member) {
		for (i = 0; i < n; i++)
			if (strcasecmp(members[i], sender) != 0)
				to[nto++] = members[i];
		relay_send(&r, owner, to, nto, &msg);
	} else {
		to[0] = (char *) sender;
		if (*sender)
			relay_send(&r, "", to, 1, &msg);
		to[0] = (char *) owner;
		relay_send(&r, "", to, 1, &msg);
	}
	relay_close(&r);
	return EX_OK;
}
