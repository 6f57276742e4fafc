/*
 * NAME
 *	vigild - the resident half of the pipe(8) front-end
 * SYNOPSIS
 *	vigild [-c FILE] [-f]
 * DESCRIPTION
 *	vigild takes the messages that vigil-filter hands it over a unix
 *	socket, VIGILD_SOCKET in the directory of the database, stores each
 *	in one transaction exactly as vigil-intake would (intake_message())
 *	and answers the exit status for Postfix only once it is committed.
 *	vigil-sender's threads (sender.c), started beside it, then send the
 *	outbox over connections to the relay they keep while busy.  So a
 *	message costs neither a process that loads GMime and sqlite, nor one
 *	that loads libcurl, nor a new connection to the relay for each mail
 *	it causes.
 *
 *	Connections are served by a pool of threads sharing one database
 *	connection (store_shared_new()): the messages that arrive together
 *	are committed together, with one sync of the disk, and each is
 *	answered once that commit is done.  vigil.conf is looked at for
 *	each message: when it has changed, that message and every other
 *	until vigild is back go to vigil-intake (vigil-filter is told "no"),
 *	and vigild stops taking messages, finishes those it has, and starts
 *	itself again to read the new file.  SIGHUP does the same;
 *	SIGTERM or SIGINT stop it.
 *
 *	Started as root it becomes the configured user (every call checked)
 *	before it opens the database or the socket, and it refuses a
 *	database directory others may write to.  The socket is mode 0600,
 *	and a peer that does not run as vigild's own user (or root) is
 *	refused.
 *
 *	Nothing depends on vigild: while it is not running, vigil-filter
 *	runs vigil-intake for each message.
 * DIAGNOSTICS
 *	Syslog (facility mail), and stderr with -f.  Exit status 0 after
 *	SIGTERM, 1 on a start-up error, 64 on a usage error.
 * SECURITY
 *	The message is hostile input; it is parsed only by the core.  The
 *	envelope comes from vigil-filter, run by Postfix as the vigil user.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "intake.h"
#include "log.h"
#include "message.h"
#include "sendproc.h"
#include "store.h"
#include "vigild.h"

#define WORKERS		6	/* messages taken in at once */
#define READ_TIMEOUT	600	/* seconds a client may take to send its message */

static const char usage_text[] =
	"usage: vigild [-c FILE] [-f]\n"
	"\n"
	"  -c FILE    configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -f         stay in the foreground and log to stderr as well\n"
	"  -h, --help this text\n"
	"  -V         print the version\n"
	"\n"
	"vigild takes the messages vigil-filter hands it on the socket vigild.sock in the\n"
	"database's directory; see vigild(8).\n";

static struct config *cfg;
static char *conf_path;		/* the configuration file, absolute, links resolved */
static struct stat conf_seen;	/* it as read */
static bool foreground;
static struct sendproc *senders;
static struct store *store;	/* the workers' database connection, shared */
static gint restart;		/* vigil.conf changed: stop taking messages, start again */
static gint stopping;		/* no more messages */

/* die - a start-up error */
static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2)
die(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s", msg);
	if (!foreground)
		fprintf(stderr, "vigild: %s\n", msg);
	g_free(msg);
	exit(1);
}

/* conf_changed - is vigil.conf no longer the file we read */
static bool
conf_changed(void)
{
	struct stat sb;

	if (stat(conf_path, &sb) != 0)
		return true;
	return sb.st_ino != conf_seen.st_ino || sb.st_dev != conf_seen.st_dev
		|| sb.st_size != conf_seen.st_size || sb.st_mtim.tv_sec != conf_seen.st_mtim.tv_sec
		|| sb.st_mtim.tv_nsec != conf_seen.st_mtim.tv_nsec
		|| sb.st_ctim.tv_sec != conf_seen.st_ctim.tv_sec
		|| sb.st_ctim.tv_nsec != conf_seen.st_ctim.tv_nsec;
}

/* a client's connection, read through a buffer */
struct client {
	int	fd;
	char	buf[65536];
	size_t	len;		/* bytes in buf */
	size_t	off;		/* of them, taken */
};

/* fill - more bytes into the buffer; false at end of file, error or timeout */
static bool
fill(struct client *cl)
{
	ssize_t n;

	if (cl->off == cl->len)
		cl->off = cl->len = 0;
	do
		n = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	cl->len += (size_t) n;
	return true;
}

/* line - the next line, without its newline, at most max bytes; NULL if none */
static char *
line(struct client *cl, size_t max)
{
	GString *s = g_string_new(NULL);

	for (;;) {
		char *nl;

		if (cl->off == cl->len && !fill(cl))
			break;
		nl = memchr(cl->buf + cl->off, '\n', cl->len - cl->off);
		g_string_append_len(s, cl->buf + cl->off,
				    (gssize) ((nl ? (size_t) (nl - cl->buf) : cl->len) - cl->off));
		if (s->len > max)
			break;
		if (nl) {
			cl->off = (size_t) (nl - cl->buf) + 1;
			return g_string_free(s, FALSE);
		}
		cl->off = cl->len;
	}
	g_string_free(s, TRUE);
	return NULL;
}

/* say - one line to the client; a client gone is no matter here */
static void
say(int fd, const char *fmt, ...)
{
	va_list ap;
	char *s, *p;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	for (p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	p = g_strconcat(s, "\n", NULL);
	if (send(fd, p, strlen(p), MSG_NOSIGNAL) < 0)
		log_msg(LOG_WARNING, "vigil-filter went away: %s", g_strerror(errno));
	g_free(p);
	g_free(s);
}

/* a request: the envelope */
struct request {
	char	*sender;
	GPtrArray *rcpts;
};

/* read_head - the lines before the message; NULL with *why set if they are not right */
static bool
read_head(struct client *cl, struct request *rq, const char **why)
{
	size_t total = 0;
	char *l;
	bool ok = true, conf = false;

	if ((l = line(cl, 64)) == NULL || strcmp(l, VIGILD_HELLO) != 0) {
		*why = "not vigil-filter";
		g_free(l);
		return false;
	}
	g_free(l);
	while ((l = line(cl, VIGILD_HEAD_MAX)) != NULL && *l) {
		total += strlen(l);
		if (total > VIGILD_HEAD_MAX)
			ok = false;
		else if (g_str_has_prefix(l, "config ") && !conf && (conf = true)
			 && strcmp(l + 7, conf_path) != 0)
			*why = "another configuration";
		else if (g_str_has_prefix(l, "sender ") && rq->sender == NULL)
			rq->sender = g_strdup(l + 7);
		else if (g_str_has_prefix(l, "rcpt "))
			g_ptr_array_add(rq->rcpts, g_strdup(l + 5));
		else if (!g_str_has_prefix(l, "config "))
			ok = false;
		g_free(l);
	}
	if (l == NULL || !ok || !conf || rq->sender == NULL || rq->rcpts->len == 0) {
		*why = "a request it does not understand";
		ok = false;
	}
	g_free(l);
	return ok && *why == NULL;
}

/* read_message - the message in pieces, "LENGTH\n" before each and "0\n" after the last */
static GByteArray *
read_message(struct client *cl)
{
	GByteArray *msg = g_byte_array_new();

	for (;;) {
		char *l = line(cl, 20), *end;
		guint64 n = l ? g_ascii_strtoull(l, &end, 10) : 0;

		if (l == NULL || end == l || *end || n > (1u << 30)) {
			g_free(l);
			break;	/* cut short: the message is not whole */
		}
		g_free(l);
		if (n == 0)
			return msg;
		while (n > 0) {
			size_t k;

			if (cl->off == cl->len && !fill(cl))
				goto cut;
			k = MIN((size_t) n, cl->len - cl->off);
			g_byte_array_append(msg, (guint8 *) cl->buf + cl->off, (guint) k);
			cl->off += k;
			n -= k;
		}
	}
cut:
	g_byte_array_unref(msg);
	return NULL;
}

/* serve - one message: the envelope, "ok", the message, the transaction, the status */
static void
serve(struct client *cl)
{
	struct request rq = { NULL, g_ptr_array_new_with_free_func(g_free) };
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	const char *why = NULL;
	GByteArray *msg = NULL;
	GError *err = NULL;
	enum intake_rc rc;

	if (!read_head(cl, &rq, &why)) {
		say(cl->fd, "no %s", why);
		goto out;
	}
	if (g_atomic_int_get(&stopping) || g_atomic_int_get(&restart)) {
		say(cl->fd, "no vigild is stopping");
		goto out;
	}
	if (conf_changed()) {
		/* this one and all until we are back: vigil-intake reads the new file */
		if (!g_atomic_int_exchange(&restart, 1))
			log_msg(LOG_INFO, "%s changed: starting again to read it", conf_path);
		say(cl->fd, "no vigil.conf changed");
		goto out;
	}
	say(cl->fd, "ok");
	if ((msg = read_message(cl)) == NULL) {
		log_msg(LOG_WARNING, "the message from vigil-filter was cut short: nothing stored");
		goto out;
	}
	rc = intake_message(store, cfg, (const char *) msg->data, msg->len, rq.sender,
			    (const char *const *) rq.rcpts->pdata, rq.rcpts->len,
			    (gint64) time(NULL), ids, &err);
	switch (rc) {
	case INTAKE_OK:
		say(cl->fd, "%d stored", EX_OK);
		if (ids->len > 0)
			sendproc_wake(senders);
		break;
	case INTAKE_REJECT:
		log_msg(LOG_NOTICE, "status=reject rejected: %s", err->message);
		say(cl->fd, "%d vigil-filter: rejected: %s", EX_UNAVAILABLE, err->message);
		break;
	case INTAKE_TEMPFAIL:
	default:
		log_msg(LOG_WARNING, "status=tempfail not stored, try again later: %s",
			err ? err->message : "intake failed");
		say(cl->fd, "%d vigil-filter: not stored, try again later: %s", EX_TEMPFAIL,
		    err ? err->message : "intake failed");
		break;
	}
out:
	g_clear_error(&err);
	if (msg)
		g_byte_array_unref(msg);
	g_array_free(ids, TRUE);
	g_free(rq.sender);
	g_ptr_array_free(rq.rcpts, TRUE);
}

/* peer_allowed - the peer runs as our user, or as root */
static bool
peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	return cr.uid == geteuid() || cr.uid == 0;
}

/* worker - a thread of the pool: one connection */
static void
worker(gpointer data, gpointer unused)
{
	struct client *cl = g_new0(struct client, 1);
	struct timeval tv = { READ_TIMEOUT, 0 };

	cl->fd = GPOINTER_TO_INT(data);
	if (!peer_allowed(cl->fd)) {
		log_msg(LOG_WARNING, "refused a connection from another user");
	} else {
		setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		serve(cl);
	}
	close(cl->fd);
	g_free(cl);
	(void) unused;
}

/* listen_on - the socket, mode 0600; a stale one is replaced, a live one is an error */
static int
listen_on(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof un.sun_path)
		die("socket path %s is too long: move the database", path);
	memcpy(un.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", g_strerror(errno));
	if (connect(fd, (struct sockaddr *) &un, sizeof un) == 0)
		die("%s: another vigild is running", path);
	close(fd);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(fd, (struct sockaddr *) &un, sizeof un) != 0 || chmod(path, 0600) != 0
	    || listen(fd, 64) != 0)
		die("cannot listen on %s: %s", path, g_strerror(errno));
	return fd;
}

/* drain - stop taking messages, finish those we have, stop sending */
static void
drain(GThreadPool *pool, int lfd, const char *sock)
{
	close(lfd);
	unlink(sock);
	g_thread_pool_free(pool, FALSE, TRUE);
	sendproc_stop(senders);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **saved = g_new0(char *, argc + 1);
	const char *path = NULL;
	struct store *st = NULL;
	GError *err = NULL;
	GThreadPool *pool;
	struct pollfd pfd[2];
	sigset_t sigs;
	char *dir, *sock;
	int c, lfd, sfd;

	memcpy(saved, argv, sizeof *argv * (size_t) argc);
	while ((c = getopt_long(argc, argv, "c:fhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("vigild %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	log_open("vigild", foreground);
	message_init();
	if ((conf_path = realpath(path ? path : config_default_path(), NULL)) == NULL)
		die("%s: %s", path ? path : config_default_path(), g_strerror(errno));
	if (stat(conf_path, &conf_seen) != 0 || (cfg = config_load(conf_path, &err)) == NULL)
		die("%s", err ? err->message : g_strerror(errno));
	if (!daemon_become(cfg->user, &err))
		die("%s", err->message);
	/* the schema is brought up to date once, before any message (and
	 * before detaching: no sqlite connection is carried across fork());
	 * a database others may write to is refused here (store_open()) */
	if (store_open(cfg->database, &st, &err) != STORE_OK)
		die("%s", err->message);
	store_close(st);
	store = store_shared_new(cfg->database);
	dir = g_path_get_dirname(cfg->database);
	sock = g_build_filename(dir, VIGILD_SOCKET, NULL);
	lfd = listen_on(sock);
	if (!foreground && daemon(0, 0) != 0)
		die("cannot detach: %s", g_strerror(errno));
	/* signals come to the main loop; no thread of ours takes them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 || (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0)
		die("cannot take signals: %s", g_strerror(errno));
	senders = sendproc_start(conf_path, SENDER_THREADS);
	if ((pool = g_thread_pool_new(worker, NULL, WORKERS, FALSE, &err)) == NULL)
		die("%s", err->message);
	log_msg(LOG_INFO, "listening on %s as uid %u", sock, (unsigned) geteuid());
	pfd[0] = (struct pollfd) { .fd = lfd, .events = POLLIN };
	pfd[1] = (struct pollfd) { .fd = sfd, .events = POLLIN };
	while (!g_atomic_int_get(&stopping) && !g_atomic_int_get(&restart)) {
		struct signalfd_siginfo si;
		int fd;

		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			die("poll: %s", g_strerror(errno));
		if ((pfd[1].revents & POLLIN) && read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
			if (si.ssi_signo == SIGHUP)
				g_atomic_int_set(&restart, 1);
			else
				g_atomic_int_set(&stopping, 1);
		}
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				g_thread_pool_push(pool, GINT_TO_POINTER(fd), NULL);
			else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				log_msg(LOG_WARNING, "accept: %s", g_strerror(errno));
		}
		if (!g_atomic_int_get(&restart) && conf_changed()) {
			log_msg(LOG_INFO, "%s changed: starting again to read it", conf_path);
			g_atomic_int_set(&restart, 1);
		}
	}
	drain(pool, lfd, sock);
	config_free(cfg);
	store_close(store);
	g_free(sock);
	g_free(dir);
	if (g_atomic_int_get(&restart) && !g_atomic_int_get(&stopping)) {
		log_msg(LOG_INFO, "starting again");
		pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
		close(sfd);
		execv("/proc/self/exe", saved);
		log_msg(LOG_ERR, "cannot start again: %s", g_strerror(errno));
		return 1;
	}
	log_msg(LOG_INFO, "stopped");
	close(sfd);
	g_free(saved);
	free(conf_path);
	return 0;
}
