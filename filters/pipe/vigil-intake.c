/*
 * NAME
 *	vigil-intake - one message through vigil in a process of its own
 * SYNOPSIS
 *	vigil-intake [-c FILE] -f SENDER -- RECIPIENT...
 * DESCRIPTION
 *	What vigil-filter does when vigild(8) is not running: vigil-filter
 *	(the program Postfix's pipe(8) runs) replaces itself with this one,
 *	with the same arguments and the message still on standard input.
 *	For each recipient that is a configured list the list's policy
 *	applies (hold with an auto-reply, relay to the members, keep a
 *	loop); other recipients get the message unchanged.  The decision
 *	and all outgoing mail are stored in one transaction, then
 *	vigil-sender, in a process of its own, hands the outgoing mail to the
 *	relay (sendproc.c); this program waits for it.  Mail the relay does
 *	not take now stays in the outbox for "vigil flush".
 *
 *	This program only translates: the core decides, this file maps the
 *	result to an exit status.  It links what the core needs to take a
 *	message in (GMime, sqlite; not libcurl, which only vigil-sender
 *	loads), which costs a millisecond or more of start-up for every
 *	message: vigild does the same work in a resident process.
 * DIAGNOSTICS
 *	Exit status (sysexits.h): 0 the message is safely stored; 75
 *	EX_TEMPFAIL for anything that may pass (database busy or read-only,
 *	a configuration error, a read error): Postfix keeps the message and
 *	tries again; 69 EX_UNAVAILABLE only for a message that can never be
 *	accepted (larger than the list allows).  The reason is printed on
 *	standard output, which Postfix puts in its log and in any bounce,
 *	and logged to syslog (facility mail).
 * SECURITY
 *	The message is hostile input; it is parsed only by the core.
 *	Runs as the unprivileged user named in master.cf (user=vigil).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "intake.h"
#include "log.h"
#include "message.h"
#include "sendproc.h"
#include "store.h"

static const char usage_text[] =
	"usage: vigil-intake [-c FILE] -f SENDER -- RECIPIENT...\n"
	"  -c FILE     configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -f SENDER   envelope sender; empty for the null sender <>\n"
	"  -h, --help  this text\n"
	"  -V          version\n"
	"The message is read from standard input.  vigil-filter runs this program\n"
	"when vigild is not running; see vigil-filter(8).\n";

/* fail - say why on stdout (Postfix quotes it), log it, and exit */
static int
fail(int status, const char *what, const char *why)
{
	printf("vigil-filter: %s: %s\n", what, why);
	fflush(stdout);
	log_msg(status == EX_TEMPFAIL ? LOG_WARNING : LOG_NOTICE, "status=%s %s: %s",
		status == EX_TEMPFAIL ? "tempfail" : "reject", what, why);
	return status;
}

/* slurp - read all of standard input */
static GByteArray *
slurp(int fd)
{
	GByteArray *buf = g_byte_array_sized_new(65536);
	guint8 chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n > 0)
			g_byte_array_append(buf, chunk, (guint) n);
		else if (n == 0)
			return buf;
		else if (errno != EINTR) {
			g_byte_array_unref(buf);
			return NULL;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	const char *sender = NULL;
	struct config *cfg = NULL;
	struct store *st = NULL;
	GByteArray *raw = NULL;
	GArray *ids;
	GError *err = NULL;
	enum intake_rc rc;
	int c, status;

	/* it stands in for vigil-filter: its name in the log and in Postfix's */
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
			printf("vigil-intake %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return fail(EX_TEMPFAIL, "usage", "bad arguments (see master.cf)");
		}
	}
	/* a wiring mistake must not bounce mail: Postfix keeps it until fixed */
	if (sender == NULL || optind >= argc)
		return fail(EX_TEMPFAIL, "usage", "need -f SENDER -- RECIPIENT... (see master.cf)");

	message_init();
	ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	if ((cfg = config_load(path ? path : config_default_path(), &err)) == NULL) {
		status = fail(EX_TEMPFAIL, "configuration", err->message);
		goto out;
	}
	if ((raw = slurp(STDIN_FILENO)) == NULL) {
		status = fail(EX_TEMPFAIL, "reading the message", g_strerror(errno));
		goto out;
	}
	if (store_open_rw(cfg->database, &st, &err) != STORE_OK) {
		status = fail(EX_TEMPFAIL, "database", err->message);
		goto out;
	}
	rc = intake_message(st, cfg, (const char *) raw->data, raw->len, sender,
			    (const char *const *) argv + optind, (size_t) (argc - optind),
			    (gint64) time(NULL), ids, &err);
	switch (rc) {
	case INTAKE_OK:
		/* stored: what the relay does not take now waits for "vigil flush" */
		if (ids->len > 0)
			sendproc_send(path, ids);
		status = EX_OK;
		break;
	case INTAKE_REJECT:
		status = fail(EX_UNAVAILABLE, "rejected", err->message);
		break;
	case INTAKE_TEMPFAIL:
		status = fail(EX_TEMPFAIL, "not stored, try again later", err->message);
		break;
	default:
		g_error("vigil-filter: intake returned %d", rc);
	}
out:
	g_clear_error(&err);
	g_array_free(ids, TRUE);
	store_close(st);
	if (raw)
		g_byte_array_unref(raw);
	config_free(cfg);
	return status;
}
