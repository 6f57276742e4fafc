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
 *	The message is sent with CRLF line ends and dot-stuffed.  It links
 *	libc only, so its start-up is as cheap as a program's can be.
 * DIAGNOSTICS
 *	Exit 0 once the relay accepted everything; 75 (EX_TEMPFAIL) on any
 *	failure, so Postfix keeps the message.  The reason goes to stdout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

struct buf {
	char	*p;
	size_t	len;
	size_t	cap;
};

/* die - say why on stdout (Postfix logs it) and temp-fail */
static void
die(const char *what)
{
	printf("noop-filter: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(EX_TEMPFAIL);
}

/* put - append n bytes */
static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			die("memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* slurp - the message, as CRLF lines with leading dots doubled */
static void
slurp(struct buf *out)
{
	static char chunk[65536];
	int bol = 1;
	ssize_t n, i;

	while ((n = read(0, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		for (i = 0; i < n; i++) {
			char c = chunk[i];

			if (bol && c == '.')
				put(out, ".", 1);
			if (c == '\n')
				put(out, "\r\n", 2);
			else if (c != '\r')
				put(out, &c, 1);
			bol = c == '\n';
		}
	}
	if (!bol)
		put(out, "\r\n", 2);
}

/* reply - read one (possibly multi-line) reply; its code */
static int
reply(FILE *in)
{
	char line[1024];

	do {
		if (fgets(line, sizeof line, in) == NULL)
			die("relay closed the connection");
	} while (strlen(line) > 3 && line[3] == '-');
	return atoi(line);
}

/* cmd - send a command line, expect a reply class */
static void
cmd(int fd, FILE *in, const char *line, int want)
{
	size_t n = strlen(line);

	if (write(fd, line, n) != (ssize_t) n)
		die("write");
	if (reply(in) / 100 != want) {
		errno = 0;
		die(line);
	}
}

/* transaction - one MAIL, RCPTs, DATA on an open session */
static void
transaction(int fd, FILE *in, const char *from, char **to, int nto, const struct buf *msg)
{
	char line[1100];
	int i;

	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
	cmd(fd, in, line, 2);
	for (i = 0; i < nto; i++) {
		snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", to[i]);
		cmd(fd, in, line, 2);
	}
	cmd(fd, in, "DATA\r\n", 3);
	if (write(fd, msg->p, msg->len) != (ssize_t) msg->len)
		die("write");
	cmd(fd, in, ".\r\n", 2);
}

/* connect_relay - open HOST:PORT, read the greeting, EHLO */
static int
connect_relay(const char *relay, FILE **in)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(relay, ':');
	int fd, one = 1;

	if (colon == NULL || (size_t) (colon - relay) >= sizeof host) {
		errno = EINVAL;
		die("-r HOST:PORT");
	}
	memcpy(host, relay, (size_t) (colon - relay));
	host[colon - relay] = 0;
	sa.sin_port = htons((unsigned short) atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		die("relay address");
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(fd, (void *) &sa, sizeof sa) != 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if ((*in = fdopen(dup(fd), "r")) == NULL)
		die("fdopen");
	if (reply(*in) != 220) {
		errno = 0;
		die("greeting");
	}
	cmd(fd, *in, "EHLO noop-filter.localdomain\r\n", 2);
	return fd;
}

/* load_members - the members file, one address a line */
static char **
load_members(const char *path, int *n)
{
	FILE *f = fopen(path, "r");
	char line[1024], **v = NULL;

	*n = 0;
	if (f == NULL)
		die(path);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (*line == 0)
			continue;
		if ((v = realloc(v, sizeof *v * (size_t) (*n + 1))) == NULL || (v[*n] = strdup(line)) == NULL)
			die("memory");
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
	int c, n, nto = 0, i, member = 0, fd;
	FILE *in;

	while ((c = getopt(argc, argv, "r:m:o:f:")) != -1) {
		switch (c) {
		case 'r': relay = optarg; break;
		case 'm': members_file = optarg; break;
		case 'o': owner = optarg; break;
		case 'f': sender = optarg; break;
		default: errno = EINVAL; die("usage");
		}
	}
	if (!relay || !members_file || !owner || !sender || optind >= argc) {
		errno = EINVAL;
		die("usage: noop-filter -r HOST:PORT -m MEMBERS -o OWNER -f SENDER -- RECIPIENT...");
	}
	slurp(&msg);
	members = load_members(members_file, &n);
	if ((to = calloc((size_t) n + 2, sizeof *to)) == NULL)
		die("memory");
	for (i = 0; i < n; i++)
		if (strcasecmp(members[i], sender) == 0)
			member = 1;
	fd = connect_relay(relay, &in);
	if (member) {
		for (i = 0; i < n; i++)
			if (strcasecmp(members[i], sender) != 0)
				to[nto++] = members[i];
		transaction(fd, in, owner, to, nto, &msg);
	} else {
		to[0] = (char *) sender;
		if (*sender)
			transaction(fd, in, "", to, 1, &msg);
		to[0] = (char *) owner;
		transaction(fd, in, "", to, 1, &msg);
	}
	cmd(fd, in, "QUIT\r\n", 2);
	return EX_OK;
}
