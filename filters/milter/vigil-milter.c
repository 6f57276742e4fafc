/*
 * NAME
 *	vigil-milter - vigil's lists behind Postfix's smtpd_milters
 * SYNOPSIS
 *	vigil-milter [-c FILE] [-p SOCKET] [-f]
 * DESCRIPTION
 *	A libmilter daemon.  For a message with a list address among its
 *	recipients it rebuilds the message from the header and body
 *	callbacks and calls intake_at_smtp() at the end of DATA, then
 *	translates the outcome: the list recipients are removed; a
 *	member's post gets the members (and, in a report's thread, the
 *	report's people) as recipients and the header changes of the
 *	members' copy (the list's fields added, Sender, Cc, the DMARC
 *	rewrite of From), so that Postfix delivers the original body, with
 *	the list's bounce address as envelope sender unless the message
 *	also goes to other recipients; a held post is
 *	stored (with its auto-reply and the moderators' notice in the
 *	outbox) before the answer, and the message goes on to its other
 *	recipients or is discarded; a loop or an oversize message is
 *	refused with a 5xx, so vigil never generates a bounce; a failure
 *	before the store commits answers 451 with nothing stored.  Should
 *	Postfix refuse a recipient or header change after the commit (it
 *	has never been seen to), the answer is 451 too.  A client sends a
 *	451'd message again; when it was stored before the milter could
 *	answer (the milter killed, Postfix answering for it with
 *	milter_default_action = tempfail), intake_at_smtp() knows it,
 *	decides it again for Postfix and stores nothing twice.
 *
 *	Postfix waits for an answer only at DATA, where a message for no
 *	list is let go, and at the end of the message; the other steps
 *	are sent without one (the protocol's no-reply steps), HELO not at
 *	all.
 *
 *	Callbacks of one connection run in sequence but on any thread of
 *	libmilter's pool, so nothing lives in thread-local storage.  The
 *	threads share one database connection, as vigild's do
 *	(store_shared_new()): it is opened once, not for each message (its
 *	schema read, every statement prepared: a quarter of the milter's
 *	time for a held report), and the messages that end together are
 *	committed together, with one sync of the disk.  A connection that
 *	failed is opened again, and the database's modes are checked again
 *	before each transaction.
 *
 *	vigil-sender (sendproc.c), started beside the milter, sends the
 *	outbox when a message queued mail, with four threads each over a
 *	connection to the relay closed after 2 s unused, and once a minute
 *	for what the relay deferred.
 *
 *	Started as root it becomes the configured user (every call
 *	checked) before it opens the socket or the database, and it
 *	refuses a database or socket directory that others may write.
 *
 *	libmilter's listener looks at its stop flag only every 5 s; a
 *	watcher thread shuts the listening socket down as soon as the flag
 *	is set, so the daemon exits within a second of SIGTERM.
 * DIAGNOSTICS
 *	Syslog (facility mail), and stderr with -f.  Exit status 0 after
 *	SIGTERM, 1 on a start-up error, 64 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "header.h"
#include "intake.h"
#include "log.h"
#include "message.h"
#include "sendproc.h"
#include "store.h"
#include "text.h"

#define DEFAULT_SOCKET	"unix:/run/vigil/milter.sock"

/* libmilter's stop flag: not in mfapi.h, but exported; 0 (MILTER_CONT) while running */
extern int mi_stop(void);

static const char usage_text[] =
	"usage: vigil-milter [-c FILE] [-p SOCKET] [-f]\n"
	"\n"
	"  -c FILE    configuration file (default: $VIGIL_CONFIG or " VIGIL_SYSCONFDIR "/vigil/vigil.conf)\n"
	"  -p SOCKET  where Postfix connects: unix:PATH (default " DEFAULT_SOCKET ")\n"
	"             or inet:PORT@127.0.0.1\n"
	"  -f         stay in the foreground and log to stderr as well\n"
	"  -h, --help this text\n"
	"  -V         print the version\n";

static struct config *cfg;
static bool leadspc;		/* Postfix keeps the space after the colon in values */
static int listen_dup = -1;	/* our copy of libmilter's listening socket */
static bool foreground;		/* -f: log on stderr too */

static struct sendproc *senders;	/* vigil-sender, which sends the outbox */
static gint done;		/* smfi_main() has returned */

/* the threads' database connection; never closed, as smfi_main() does
 * not wait for the threads */
static struct store *store;

/* one SMTP connection; its current message */
struct conn {
	char	*sender;	/* envelope sender without <>, "" for the null sender */
	GPtrArray *rcpts;	/* recipients without <> */
	GPtrArray *given;	/* recipients as given, for smfi_delrcpt */
	GByteArray *msg;	/* the message, LF line ends, as the pipe filter gets it */
	gint64	 cap;		/* stop collecting beyond this: it is refused anyway */
	bool	 cr;		/* the last body byte seen was a CR, not yet kept */
	bool	 list;		/* a list is among the recipients */
};

/* reset - forget the current message */
static void
reset(struct conn *c)
{
	g_clear_pointer(&c->sender, g_free);
	g_ptr_array_set_size(c->rcpts, 0);
	g_ptr_array_set_size(c->given, 0);
	g_byte_array_set_size(c->msg, 0);
	c->cap = 0;
	c->cr = false;
	c->list = false;
}

/* strip - an address without its angle brackets */
static char *
strip(const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return g_strndup(a + 1, n - 2);
	return g_strdup(a);
}

/* append - add to the message, up to the cap */
static void
append(struct conn *c, const void *data, size_t len)
{
	if ((gint64) c->msg->len >= c->cap)
		return;
	len = MIN(len, (size_t) (c->cap - (gint64) c->msg->len));
	g_byte_array_append(c->msg, data, len);
}

/*
 * append_lf - body bytes with CRLF line ends made LF as they come (a CR
 * may end one chunk and its LF start the next), so that the size and
 * the bytes are those the pipe filter gets
 */
static void
append_lf(struct conn *c, const unsigned char *p, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (c->cr && p[i] != '\n')
			append(c, "\r", 1);	/* a lone CR stays */
		c->cr = false;
		if (p[i] == '\r') {
			append(c, p + start, i - start);
			start = i + 1;
			c->cr = true;
		}
	}
	append(c, p + start, len - start);
}

/* reply - an SMTP answer; libmilter wants % doubled and no line ends */
static sfsistat
reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text, sfsistat status)
{
	GString *t = g_string_new(NULL);
	const char *p;

	for (p = text; *p; p++) {
		if (*p == '%')
			g_string_append(t, "%%");
		else
			g_string_append_c(t, *p == '\r' || *p == '\n' ? ' ' : *p);
	}
	if (smfi_setreply(ctx, (char *) code, (char *) xcode, t->str) != MI_SUCCESS)
		log_msg(LOG_WARNING, "smfi_setreply %s failed", code);
	g_string_free(t, TRUE);
	return status;
}

/* tempfail - 451: nothing was stored, the client tries again */
static sfsistat
tempfail(SMFICTX *ctx, const char *why)
{
	log_msg(LOG_WARNING, "tempfail: %s", why);
	return reply(ctx, "451", "4.3.0", "vigil: not stored, try again later", SMFIS_TEMPFAIL);
}

/*
 * the steps the MTA need not wait for: vigil refuses nothing before
 * DATA, and decides at DATA (no list among the recipients: let the
 * message go) and at the end of the message
 */
#define NO_REPLY	(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY)

/*
 * x_negotiate - the actions we need and the steps we answer.  *pf1
 * comes with libmilter's choice, the steps we have no callback for
 * (HELO, unknown commands): the MTA does not send them.  libmilter
 * offers the no-reply steps to every MTA and answers for one that
 * cannot do without the reply.
 */
static sfsistat
x_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
	    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGFROM;
	if ((f0 & *pf0) != *pf0 || (f1 & NO_REPLY) != NO_REPLY)
		return SMFIS_REJECT;	/* the MTA cannot do what we need: no milter */
	/* exact header bytes: keep the space after the colon as sent */
	*pf1 |= NO_REPLY | (f1 & SMFIP_HDR_LEADSPC);
	leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
	*pf2 = *pf3 = 0;
	(void) ctx;
	(void) f2;
	(void) f3;
	return SMFIS_CONTINUE;
}

static sfsistat
x_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct conn *c = g_new0(struct conn, 1);

	c->rcpts = g_ptr_array_new_with_free_func(g_free);
	c->given = g_ptr_array_new_with_free_func(g_free);
	c->msg = g_byte_array_new();
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {	/* x_data() answers for it */
		g_ptr_array_free(c->rcpts, TRUE);
		g_ptr_array_free(c->given, TRUE);
		g_byte_array_unref(c->msg);
		g_free(c);
	}
	(void) host;
	(void) addr;
	return SMFIS_NOREPLY;
}

static sfsistat
x_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c) {
		reset(c);
		c->sender = strip(argv[0] ? argv[0] : "");
	}
	return SMFIS_NOREPLY;
}

static sfsistat
x_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	char *a, *canon;
	const struct list_config *l;

	if (c == NULL || argv[0] == NULL)
		return SMFIS_NOREPLY;
	a = strip(argv[0]);
	canon = addr_normalize(a);
	if ((l = config_find_rcpt(cfg, canon, NULL, NULL)) != NULL) {
		c->list = true;
		c->cap = MAX(c->cap, l->max_message_size + 1);
	}
	g_ptr_array_add(c->given, g_strdup(argv[0]));
	g_ptr_array_add(c->rcpts, a);
	g_free(canon);
	return SMFIS_NOREPLY;
}

/* x_data - the recipients are known: a message for no list is let go */
static sfsistat
x_data(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return tempfail(ctx, "no state kept for the connection");
	return c->list ? SMFIS_CONTINUE : SMFIS_ACCEPT;
}

/* x_header, x_eoh, x_body: the message, kept when it is for a list (x_eom() decides) */
static sfsistat
x_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c && c->list) {
		append(c, name, strlen(name));
		append(c, leadspc ? ":" : ": ", leadspc ? 1 : 2);
		append(c, value, strlen(value));
		append(c, "\n", 1);
	}
	return SMFIS_NOREPLY;
}

static sfsistat
x_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c && c->list)
		append(c, "\n", 1);
	return SMFIS_NOREPLY;
}

static sfsistat
x_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c && c->list)
		append_lf(c, chunk, len);
	return SMFIS_NOREPLY;
}

/* given_form - the recipient as the MTA gave it, for smfi_delrcpt */
static char *
given_form(const struct conn *c, const char *rcpt)
{
	guint i;

	for (i = 0; i < c->rcpts->len; i++)
		if (strcmp(g_ptr_array_index(c->rcpts, i), rcpt) == 0)
			return g_ptr_array_index(c->given, i);
	return NULL;
}

/* apply - tell the MTA what intake decided: drop, add, headers */
static bool
apply(SMFICTX *ctx, const struct conn *c, const struct intake_smtp *out)
{
	guint i;

	for (i = 0; i < out->drop_rcpts->len; i++) {
		char *g = given_form(c, g_ptr_array_index(out->drop_rcpts, i));

		if (g == NULL || smfi_delrcpt(ctx, g) != MI_SUCCESS)
			return false;
	}
	for (i = 0; i < out->add_rcpts->len; i++) {
		char *a = g_strdup_printf("<%s>", (char *) g_ptr_array_index(out->add_rcpts, i));
		int rc = smfi_addrcpt(ctx, a);

		g_free(a);
		if (rc != MI_SUCCESS)
			return false;
	}
	/* as for the pipe filter's copy: members' bounces go to the list's
	 * bounce address, unless the message also goes to others, whose
	 * envelope it is */
	if (out->add_rcpts->len > 0 && !out->others) {
		char *from = g_strdup_printf("<%s>", out->sender);
		int rc = smfi_chgfrom(ctx, from, NULL);

		g_free(from);
		if (rc != MI_SUCCESS)
			return false;
	}
	/* changed fields first, while their indexes still count the original's */
	for (i = 0; out->edits && i < out->edits->len; i++) {
		const struct header_edit *e = g_ptr_array_index(out->edits, i);
		char *value;
		int rc;

		if (e->index == 0)
			continue;
		value = e->value && leadspc ? g_strconcat(" ", e->value, NULL) : g_strdup(e->value);
		rc = smfi_chgheader(ctx, e->name, e->index, value);
		g_free(value);
		if (rc != MI_SUCCESS)
			return false;
	}
	/* then the new ones on top, in order: insert the last first */
	for (i = out->edits ? out->edits->len : 0; i > 0; i--) {
		const struct header_edit *e = g_ptr_array_index(out->edits, i - 1);
		char *value;
		int rc;

		if (e->index != 0)
			continue;
		value = leadspc ? g_strconcat(" ", e->value, NULL) : g_strdup(e->value);
		rc = smfi_insheader(ctx, 0, e->name, value);
		g_free(value);
		if (rc != MI_SUCCESS)
			return false;
	}
	return true;
}

static sfsistat
x_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	GArray *ids;
	struct intake_smtp out;
	GError *err = NULL;
	enum intake_rc rc;
	sfsistat status;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (!c->list)
		return SMFIS_ACCEPT;
	if (c->cr)
		append(c, "\r", 1);
	ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	rc = intake_at_smtp(store, cfg, (const char *) c->msg->data, c->msg->len, c->sender,
			    (const char *const *) c->rcpts->pdata, c->rcpts->len, (gint64) time(NULL),
			    ids, &out, &err);
	switch (rc) {
	case INTAKE_OK:
		if (!apply(ctx, c, &out)) {
			/* stored, but the MTA would deliver it wrongly: the retry is decided again */
			status = tempfail(ctx, "the MTA refused a recipient or header change");
		} else if (!out.others && out.add_rcpts->len == 0) {
			status = SMFIS_DISCARD;	/* held, and nobody else to deliver to */
		} else {
			status = SMFIS_ACCEPT;
		}
		if (ids->len > 0)
			sendproc_wake(senders);
		break;
	case INTAKE_REJECT:
		log_msg(LOG_NOTICE, "refused: %s", err->message);
		status = strcmp(out.reject ? out.reject : "", "loop") == 0
			? reply(ctx, "550", "5.4.6", err->message, SMFIS_REJECT)
			: reply(ctx, "552", "5.3.4", err->message, SMFIS_REJECT);
		break;
	case INTAKE_TEMPFAIL:
	default:
		status = tempfail(ctx, err ? err->message : "intake failed");
		break;
	}
	g_clear_error(&err);
	intake_smtp_clear(&out);
	g_array_free(ids, TRUE);
	reset(c);
	return status;
}

static sfsistat
x_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c)
		reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat
x_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	reset(c);
	g_ptr_array_free(c->rcpts, TRUE);
	g_ptr_array_free(c->given, TRUE);
	g_byte_array_unref(c->msg);
	g_free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "vigil",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGFROM,
	.xxfi_connect = x_connect,
	.xxfi_envfrom = x_envfrom,
	.xxfi_envrcpt = x_envrcpt,
	.xxfi_data = x_data,
	.xxfi_header = x_header,
	.xxfi_eoh = x_eoh,
	.xxfi_body = x_body,
	.xxfi_eom = x_eom,
	.xxfi_abort = x_abort,
	.xxfi_close = x_close,
	.xxfi_negotiate = x_negotiate,
};

/* knock - connect to our own socket once, and hang up */
static bool
knock(const char *sock)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	bool ok;
	int fd;

	if (g_str_has_prefix(sock, "unix:")) {
		struct sockaddr_un *un = (struct sockaddr_un *) &ss;

		un->sun_family = AF_UNIX;
		g_strlcpy(un->sun_path, strchr(sock, ':') + 1, sizeof un->sun_path);
		len = sizeof *un;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *) &ss;
		const char *at = strchr(sock, '@');

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t) atoi(strchr(sock, ':') + 1));
		if (at == NULL || inet_pton(AF_INET, at + 1, &in->sin_addr) != 1)
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *in;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return false;
	ok = connect(fd, (struct sockaddr *) &ss, len) == 0;
	close(fd);
	return ok;
}

/*
 * watcher - once libmilter has been asked to stop (SIGTERM), wake its
 * listener, which would otherwise sleep up to 5 s: one connection, or,
 * when the socket is gone already, a shutdown of the listening socket
 */
static gpointer
watcher(gpointer sock)
{
	while (mi_stop() == 0 && !g_atomic_int_get(&done))
		g_usleep(100 * 1000);
	if (!g_atomic_int_get(&done) && !knock(sock) && listen_dup >= 0)
		shutdown(listen_dup, SHUT_RDWR);
	return NULL;
}

/* find_listener - libmilter's listening socket: set TCP_NODELAY on it, keep a copy */
static void
find_listener(void)
{
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		int acc = 0, one = 1;
		socklen_t len = sizeof acc;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || !acc
		    || getsockname(fd, (struct sockaddr *) &ss, &sl) != 0)
			continue;
		/* without it each message waits on delayed ACKs, about 90 ms */
		if ((ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
		    && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
			log_msg(LOG_WARNING, "TCP_NODELAY: %s", g_strerror(errno));
		listen_dup = dup(fd);
		return;
	}
	log_msg(LOG_WARNING, "listening socket not found: stopping may take 5 s");
}

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
	if (!foreground)	/* in the foreground log_msg wrote it on stderr already */
		fprintf(stderr, "vigil-milter: %s\n", msg);
	g_free(msg);
	exit(1);
}

/* become - as root, become the configured user; every call checked */
static void
become(const char *user)
{
	GError *err = NULL;

	if (!daemon_become(user, &err))
		die("%s", err->message);
}

/* safe_dir - refuse a directory others may write to */
static void
safe_dir(const char *what, const char *path)
{
	GError *err = NULL;

	if (!daemon_safe_dir(what, path, &err))
		die("%s", err->message);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *sock = DEFAULT_SOCKET;
	char *conf;
	struct store *st = NULL;
	GError *err = NULL;
	GThread *wt;
	sigset_t sigs;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:p:fhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			sock = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("vigil-milter %s\n", PACKAGE_VERSION);
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
	log_open("vigil-milter", foreground);
	message_init();		/* GMime reads the addresses of the configuration too */
	if ((cfg = config_load(path ? path : config_default_path(), &err)) == NULL)
		die("%s", err->message);
	/* vigil-sender reads it too, after daemon() has left the directory */
	conf = path ? g_canonicalize_filename(path, NULL) : NULL;
	become(cfg->user);
	if (g_str_has_prefix(sock, "unix:"))
		safe_dir("socket", strchr(sock, ':') + 1);
	else if (!g_str_has_prefix(sock, "inet:") || strchr(sock, '@') == NULL)
		die("-p %s: use unix:PATH or inet:PORT@HOST (inet:PORT alone would listen on every address)",
		    sock);
	/* the schema is brought up to date once, before any connection; a
	 * database others may write to is refused here (store_open()) */
	if (store_open(cfg->database, &st, &err) != STORE_OK)
		die("%s", err->message);
	store_close(st);
	if (smfi_setconn((char *) sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_settimeout(30) != MI_SUCCESS)
		die("libmilter refused the socket %s", sock);
	if (smfi_opensocket(1) != MI_SUCCESS)
		die("cannot open the socket %s", sock);
	if (g_str_has_prefix(sock, "unix:") && chmod(strchr(sock, ':') + 1, 0666) != 0)
		die("chmod %s: %s", sock, g_strerror(errno));
	find_listener();
	if (!foreground && daemon(0, 0) != 0)
		die("cannot detach: %s", g_strerror(errno));
	/* libmilter's signal thread takes these; no thread of ours may */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0)
		die("cannot block signals");
	store = store_shared_new(cfg->database);
	senders = sendproc_start(conf, SENDER_THREADS);
	wt = g_thread_new("watcher", watcher, (gpointer) sock);
	log_msg(LOG_INFO, "listening on %s as uid %u", sock, (unsigned) geteuid());
	rc = smfi_main();
	g_atomic_int_set(&done, 1);
	sendproc_stop(senders);
	g_thread_join(wt);
	if (listen_dup >= 0)
		close(listen_dup);
	log_msg(LOG_INFO, "stopped");
	config_free(cfg);
	g_free(conf);
	return rc == MI_SUCCESS ? 0 : 1;
}
