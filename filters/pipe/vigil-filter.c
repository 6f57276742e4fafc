/*
 * NAME
 *	vigil-filter - Postfix pipe(8) front-end
 * SYNOPSIS
 *	vigil-filter [-c FILE] -f SENDER -- RECIPIENT...
 * DESCRIPTION
 *	Postfix runs vigil-filter through pipe(8) with one message on
 *	standard input.  When vigild(8) runs for the same configuration,
 *	vigil-filter hands it the envelope and the message over vigild's
 *	socket, in the database's directory, and exits with the status
 *	vigild answers once the message is stored: the work is done by a
 *	resident process, and this program, which links the C library and
 *	nothing else, starts in a fraction of a millisecond.
 *
 *	Otherwise - vigild is not running, serves another configuration,
 *	or anything goes wrong before the message is read - it replaces
 *	itself with vigil-intake, which does the whole job in its own
 *	process, with the same arguments and the message still unread on
 *	standard input.  Nothing depends on vigild running.
 *
 *	vigil-intake is looked for next to this program (a build tree, a
 *	test instance) and then where "make install" puts it.
 * DIAGNOSTICS
 *	Exit status (sysexits.h), as vigil-intake's: 0 the message is
 *	safely stored; 75 EX_TEMPFAIL for anything that may pass; 69
 *	EX_UNAVAILABLE for a message that can never be accepted.  The
 *	reason is printed on standard output for Postfix.  A connection to
 *	vigild lost once the message was read is 75: Postfix tries again,
 *	and if vigild had stored it, the second delivery stores nothing
 *	(intake.c: the same message again).
 * SECURITY
 *	The message is passed on unread.  The socket's directory (the
 *	database's) is open to the vigil user only, and vigild serves only
 *	its own user.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "locate.h"
#include "log.h"
#include "vigild.h"

#define PIECE	65536		/* bytes of the message a read */

static const char usage_text[] =
	"usage: vigil-filter [-c FILE] -f SENDER -- RECIPIENT...\n"
	"  -c FILE     configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -f SENDER   envelope sender; empty for the null sender <>\n"
	"  -h, --help  this text\n"
	"  -V          version\n"
	"The message is read from standard input and handed to vigild when it runs,\n"
	"else to vigil-intake, which does the work itself.\n";

/* direct - become vigil-intake with our arguments; standard input is unread */
static int __attribute__((noreturn))
direct(char **argv)
{
	char *path = libexec_program("vigil-intake");

	argv[0] = path;
	execv(path, argv);
	printf("vigil-filter: cannot run %s: %s\n", path, strerror(errno));
	fflush(stdout);
	log_msg(LOG_ERR, "status=tempfail cannot run %s: %s", path, strerror(errno));
	exit(EX_TEMPFAIL);
}

/* socket_path - vigild's socket for this configuration file, or NULL */
static char *
socket_path(const char *conf)
{
	char *db = locate_database(conf);
	char *sock = db ? locate_beside(db, VIGILD_SOCKET) : NULL;

	free(db);
	return sock;
}

/* connect_to - a connection to the unix socket at path, or -1 */
static int
connect_to(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof un.sun_path)
		return -1;
	memcpy(un.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *) &un, sizeof un) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* put - write all of buf; false when the peer is gone */
static bool
put(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t) n;
	}
	return true;
}

#define LINE_MAX_LEN	4096	/* vigild's lines are shorter */

/* get_line - one line from fd, without its newline, into buf; false at end of file or error */
static bool
get_line(int fd, char buf[LINE_MAX_LEN + 1])
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return true;
		}
		if (++len > LINE_MAX_LEN)
			return false;
	}
}

/* hello - the envelope to vigild; true when it takes the message */
static bool
hello(int fd, const char *conf, const char *sender, char **rcpts, int n)
{
	char *h = NULL, reply[LINE_MAX_LEN + 1];
	size_t len = 0;
	FILE *f = open_memstream(&h, &len);
	bool ok;
	int i;

	if (f == NULL)
		return false;
	fprintf(f, VIGILD_HELLO "\nconfig %s\nsender %s\n", conf, sender);
	for (i = 0; i < n; i++)
		fprintf(f, "rcpt %s\n", rcpts[i]);
	fputc('\n', f);
	ok = fclose(f) == 0 && put(fd, h, len) && get_line(fd, reply);
	free(h);
	if (!ok)
		return false;
	ok = strcmp(reply, "ok") == 0;
	if (!ok)
		log_msg(LOG_INFO, "vigild declined (%s): running vigil-intake", reply);
	return ok;
}

/* pass_message - standard input to vigild in pieces, "LENGTH\n" before each, "0\n" at the end */
static bool
pass_message(int fd, const char **why)
{
	char buf[PIECE];
	char len[32];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			return false;	/* no "0": vigild stores nothing */
		}
		snprintf(len, sizeof len, "%zd\n", n);
		if (!put(fd, len, strlen(len)) || (n > 0 && !put(fd, buf, (size_t) n))) {
			*why = "vigild went away";
			return false;
		}
		if (n == 0)
			return true;
	}
}

/* no_newline - a name or address fit for one line of the protocol */
static bool
no_newline(const char *s)
{
	return strchr(s, '\n') == NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *sender = NULL, *why = NULL;
	char **saved = calloc((size_t) argc + 1, sizeof *saved);
	char *conf = NULL, *sock = NULL, status[LINE_MAX_LEN + 1];
	int c, fd = -1, i, code;
	bool fine = true;

	if (saved == NULL)
		return EX_TEMPFAIL;
	memcpy(saved, argv, sizeof *argv * (size_t) argc);	/* getopt may reorder argv */
	log_open("vigil-filter", isatty(STDERR_FILENO));
	while ((c = getopt_long(argc, argv, "c:f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			sender = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("vigil-filter %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fine = false;
		}
	}
	/* anything unusual: vigil-intake says what, with the right status */
	if (!fine || sender == NULL || optind >= argc)
		direct(saved);
	if (path == NULL)
		path = getenv(CONFIG_ENV) && *getenv(CONFIG_ENV) ? getenv(CONFIG_ENV) : CONFIG_DEFAULT_FILE;
	for (i = optind; i < argc; i++)
		fine = fine && no_newline(argv[i]);
	if (!fine || !no_newline(sender) || (conf = realpath(path, NULL)) == NULL
	    || (sock = socket_path(conf)) == NULL || (fd = connect_to(sock)) < 0)
		direct(saved);
	if (!hello(fd, conf, sender, argv + optind, argc - optind)) {
		close(fd);
		direct(saved);
	}
	/* from here on standard input is being read: no way back */
	if (!pass_message(fd, &why) || !get_line(fd, status)) {
		printf("vigil-filter: not stored, try again later: %s\n", why ? why : "vigild went away");
		log_msg(LOG_WARNING, "status=tempfail %s", why ? why : "vigild went away");
		code = EX_TEMPFAIL;
	} else {
		code = atoi(status);
		if (code != EX_OK && code != EX_UNAVAILABLE)
			code = EX_TEMPFAIL;
		if (strchr(status, ' ') && code != EX_OK)
			printf("%s\n", strchr(status, ' ') + 1);
	}
	fflush(stdout);
	close(fd);
	free(conf);
	free(sock);
	free(saved);
	return code;
}
