/*
 * NAME
 *	vigil-sender - the outbox handed to the relay, in a process of its own
 * SYNOPSIS
 *	vigil-sender [-c FILE] [-e] -- ID...
 *	vigil-sender [-c FILE] [-e] -t THREADS
 * DESCRIPTION
 *	The programs that take mail in run this one to send what they
 *	queued (sendproc.c says why it is a process of its own).  With IDs
 *	(vigil-intake), it sends those outbox rows and exits.  With -t
 *	(vigild, vigil-milter), THREADS threads send what is due; each byte
 *	read on standard input is a wake, and they look once a minute for
 *	what the relay deferred; at the end of standard input they finish
 *	what they are sending, and the program exits.
 *
 *	It runs in a session of its own and ignores SIGHUP, SIGINT and
 *	SIGTERM: it stops when the program that started it closes its
 *	standard input, or dies.  -e logs to stderr as well as syslog.
 * DIAGNOSTICS
 *	Exit status 0; 75 (EX_TEMPFAIL) when the configuration or the
 *	database could not be opened; 64 for bad arguments.  What is not
 *	sent stays in the outbox for a later wake or "vigil flush".
 * SECURITY
 *	Runs as the user of the program that started it (vigil).  It reads
 *	only the outbox, which vigil wrote.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "message.h"
#include "outbox.h"
#include "send.h"
#include "sender.h"
#include "store.h"

static const char usage_text[] =
	"usage: vigil-sender [-c FILE] [-e] -- ID...\n"
	"       vigil-sender [-c FILE] [-e] -t THREADS\n"
	"Sends vigil's outbox for vigil-intake, vigild and vigil-milter; see vigil-filter(8).\n";

/* send_ids - the rows named on the command line */
static int
send_ids(const struct config *cfg, char **args, int n)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	struct flush_stats stats;
	struct store *st = NULL;
	GError *err = NULL;
	int i, status = EX_OK;

	for (i = 0; i < n; i++) {
		char *end;
		gint64 id = g_ascii_strtoll(args[i], &end, 10);

		if (*args[i] == '\0' || *end != '\0' || id <= 0) {
			fputs(usage_text, stderr);
			g_array_free(ids, TRUE);
			return EX_USAGE;
		}
		g_array_append_val(ids, id);
	}
	if (store_open_rw(cfg->database, &st, &err) != STORE_OK
	    || outbox_flush(st, cfg, ids, (gint64) time(NULL), &stats, &err) != STORE_OK) {
		log_msg(LOG_WARNING, "outbox: %s", err->message);
		g_clear_error(&err);
		status = EX_TEMPFAIL;
	}
	store_close(st);
	g_array_free(ids, TRUE);
	return status;
}

/* serve - threads sending threads until standard input ends */
static int
serve(const struct config *cfg, int threads)
{
	struct sender *s = sender_start(cfg, threads);
	char buf[64];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

		if (n > 0)
			sender_wake(s);
		else if (n == 0 || errno != EINTR)
			break;
	}
	sender_stop(s);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;
	GError *err = NULL;
	bool to_stderr = false;
	int c, threads = 0, status;

	/* nothing of the program that started us but our standard streams */
	close_range(STDERR_FILENO + 1, ~0U, 0);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt(argc, argv, "c:et:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'e':
			to_stderr = true;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (threads < 0 || (threads > 0) == (optind < argc)) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	log_open("vigil-sender", to_stderr);
	message_init();
	send_init();
	if ((cfg = config_load(path ? path : config_default_path(), &err)) == NULL) {
		log_msg(LOG_ERR, "configuration: %s", err->message);
		g_error_free(err);
		return EX_TEMPFAIL;
	}
	status = threads > 0 ? serve(cfg, threads) : send_ids(cfg, argv + optind, argc - optind);
	config_free(cfg);
	return status;
}
