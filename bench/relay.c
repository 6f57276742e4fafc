/*
 * NAME
 *	relay - the SMTP client of the no-op contenders (benchmark only)
 * SYNOPSIS
 *	#include "relay.h"
 *
 *	void buf_put(struct buf *b, const void *p, size_t n);
 *	void buf_smtp(struct buf *b, const char *p, size_t n, int *bol);
 *	void buf_smtp_end(struct buf *b, int bol);
 *	void relay_open(struct relay *r, const char *hostport);
 *	void relay_send(r, from, to, nto, msg);
 *	void relay_close(struct relay *r);
 *	void relay_die(const char *what);
 * DESCRIPTION
 *	What the no-op pipe filter and the no-op milter need to hand mail
 *	back to Postfix's re-injection listener, and nothing more.
 *
 *	buf_put() appends bytes.  buf_smtp() appends text as SMTP DATA:
 *	CRLF line ends (a lone CR is dropped) and leading dots doubled;
 *	*bol says whether the text so far ends a line (start with 1).
 *	buf_smtp_end() ends an unterminated last line.
 *
 *	relay_open() connects to HOST:PORT (IPv4), reads the greeting and
 *	says EHLO.  relay_send() is one transaction, MAIL FROM, one RCPT
 *	TO per recipient, DATA, on that session; msg is buf_smtp() text.
 *	relay_close() says QUIT and closes, also a session the relay has
 *	already closed (Postfix's smtpd drops an idle client when busy).
 * DIAGNOSTICS
 *	Any failure calls relay_die(): the reason on stdout, prefixed with
 *	relay_progname, and exit 75 (EX_TEMPFAIL), so that Postfix keeps a
 *	message that a pipe(8) filter could not hand back.
 */
#include "relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

const char *relay_progname = "relay";

/* relay_die - say why on stdout (pipe(8) logs it) and temp-fail */
void
relay_die(const char *what)
{
	printf("%s: %s: %s\n", relay_progname, what, errno ? strerror(errno) : "failed");
	fflush(stdout);
	exit(EX_TEMPFAIL);
}

/* buf_put - append n bytes */
void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			relay_die("memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* buf_smtp - append text as CRLF lines with leading dots doubled */
void
buf_smtp(struct buf *b, const char *p, size_t n, int *bol)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (*bol && c == '.')
			buf_put(b, ".", 1);
		if (c == '\n')
			buf_put(b, "\r\n", 2);
		else if (c != '\r')
			buf_put(b, &c, 1);
		*bol = c == '\n';
	}
}

/* buf_smtp_end - end the last line */
void
buf_smtp_end(struct buf *b, int bol)
{
	if (!bol)
		buf_put(b, "\r\n", 2);
}

/* reply_line - read one (possibly multi-line) reply; its code, -1 at EOF */
static int
reply_line(struct relay *r)
{
	char line[1024];

	do {
		if (fgets(line, sizeof line, r->in) == NULL)
			return -1;
	} while (strlen(line) > 3 && line[3] == '-');
	return atoi(line);
}

/* reply - read one reply; its code */
static int
reply(struct relay *r)
{
	int code = reply_line(r);

	if (code < 0)
		relay_die("relay closed the connection");
	return code;
}

/* cmd - send a command line, expect a reply class */
static void
cmd(struct relay *r, const char *line, int want)
{
	size_t n = strlen(line);

	if (write(r->fd, line, n) != (ssize_t) n)
		relay_die("write");
	if (reply(r) / 100 != want) {
		errno = 0;
		relay_die(line);
	}
}

/* relay_send - one MAIL, RCPTs, DATA on an open session */
void
relay_send(struct relay *r, const char *from, char **to, int nto, const struct buf *msg)
{
	char line[1100];
	int i;

	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
	cmd(r, line, 2);
	for (i = 0; i < nto; i++) {
		snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", to[i]);
		cmd(r, line, 2);
	}
	cmd(r, "DATA\r\n", 3);
	if (write(r->fd, msg->p, msg->len) != (ssize_t) msg->len)
		relay_die("write");
	cmd(r, ".\r\n", 2);
}

/* relay_open - connect to HOST:PORT, read the greeting, EHLO */
void
relay_open(struct relay *r, const char *hostport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64], line[128];
	const char *colon = strrchr(hostport, ':');
	int one = 1;

	if (colon == NULL || (size_t) (colon - hostport) >= sizeof host) {
		errno = EINVAL;
		relay_die("relay: HOST:PORT");
	}
	memcpy(host, hostport, (size_t) (colon - hostport));
	host[colon - hostport] = 0;
	sa.sin_port = htons((unsigned short) atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		relay_die("relay address");
	}
	if ((r->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0
	    || connect(r->fd, (void *) &sa, sizeof sa) != 0)
		relay_die("connect");
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if ((r->in = fdopen(dup(r->fd), "r")) == NULL)
		relay_die("fdopen");
	if (reply(r) != 220) {
		errno = 0;
		relay_die("greeting");
	}
	snprintf(line, sizeof line, "EHLO %s.localdomain\r\n", relay_progname);
	cmd(r, line, 2);
}

/* relay_close - QUIT and close; the relay may have closed an idle session first */
void
relay_close(struct relay *r)
{
	if (write(r->fd, "QUIT\r\n", 6) == 6)
		(void) reply_line(r);
	fclose(r->in);
	close(r->fd);
	r->in = NULL;
	r->fd = -1;
}
