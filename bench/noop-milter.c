/*
 * NAME
 *	noop-milter - the ceiling for a list milter (benchmark only)
 * SYNOPSIS
 *	noop-milter -p SOCKET -l LIST -m MEMBERS -o OWNER -r HOST:PORT
 * DESCRIPTION
 *	A libmilter daemon that takes every callback vigil-milter takes
 *	(envelope, headers, body) and keeps nothing, decides nothing and
 *	stores nothing, but makes Postfix do the work vigil-milter makes
 *	it do:
 *
 *	for a message to LIST from a member (MEMBERS: one address a line),
 *	LIST is removed, every other member added, OWNER made the envelope
 *	sender and the list's four header lines inserted, as vigil-milter
 *	does.  From anyone else, the message is discarded and handed back,
 *	unchanged, to Postfix's re-injection listener HOST:PORT in two
 *	transactions from the null sender: to the sender (standing in for
 *	vigil's auto-reply) and to OWNER (for the moderators' notice), as
 *	the no-op pipe filter does.  Any list that answers a held report
 *	makes those three messages: two messages of different content
 *	cannot be made by changing an envelope.  As vigil-milter's
 *	vigil-sender, four threads send, each over a connection of its own
 *	that is closed after 2 s unused, and the SMTP client does not wait
 *	for them.
 *	Everything else is accepted unchanged.
 *
 *	SOCKET is unix:PATH (made mode 0666) or inet:PORT@HOST.
 * DIAGNOSTICS
 *	stderr; exit 0 after SIGTERM.  A relay that fails is fatal (the
 *	reason on stdout, exit 75): a yardstick that loses mail measures
 *	nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "relay.h"

#define SENDERS	4		/* sending threads, as vigil-sender's (SENDER_THREADS, src/sendproc.h) */
#define IDLE	2		/* seconds a connection is kept unused, as vigil-sender */

static char **members;
static int nmembers;
static const char *list, *owner, *relay_addr;
static char list_id[512];

struct msg {
	char	sender[512];
	char	given[512];	/* the list recipient as Postfix gave it */
	int	to_list;
	int	answer;		/* to the list, not from a member: handed back */
	struct buf text;	/* then the message, as SMTP DATA */
	int	bol;
};

/* a message to hand back, waiting for a sender */
struct job {
	struct job *next;
	char	sender[512];
	struct buf text;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static struct job *head, **tail = &head;

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

/* next_job - the oldest job; hangs up a connection idle for IDLE s meanwhile */
static struct job *
next_job(struct relay *r)
{
	struct job *j;

	pthread_mutex_lock(&lock);
	while (head == NULL) {
		struct timespec until;

		if (r->fd < 0) {
			pthread_cond_wait(&ready, &lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += IDLE;
		if (pthread_cond_timedwait(&ready, &lock, &until) == ETIMEDOUT && head == NULL) {
			pthread_mutex_unlock(&lock);
			relay_close(r);
			pthread_mutex_lock(&lock);
		}
	}
	j = head;
	if ((head = j->next) == NULL)
		tail = &head;
	pthread_mutex_unlock(&lock);
	return j;
}

/* sender - hand the jobs back to Postfix */
static void *
sender(void *unused)
{
	struct relay r = { -1, NULL };
	char *to[1];

	for (;;) {
		struct job *j = next_job(&r);

		if (r.fd < 0)
			relay_open(&r, relay_addr);
		to[0] = j->sender;
		if (*j->sender)
			relay_send(&r, "", to, 1, &j->text);
		to[0] = (char *) owner;
		relay_send(&r, "", to, 1, &j->text);
		free(j->text.p);
		free(j);
	}
	return NULL;
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

	free(m->text.p);
	memset(m, 0, sizeof *m);
	m->bol = 1;
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
		m->answer = !is_member(m->sender);
		snprintf(m->given, sizeof m->given, "%s", argv[0]);
	}
	return SMFIS_CONTINUE;
}

/* keep - text of the message to hand back */
static void
keep(struct msg *m, const char *p, size_t n)
{
	if (m->answer)
		buf_smtp(&m->text, p, n, &m->bol);
}

static sfsistat
x_header(SMFICTX *ctx, char *name, char *value)
{
	struct msg *m = smfi_getpriv(ctx);

	keep(m, name, strlen(name));
	keep(m, ": ", 2);
	keep(m, value, strlen(value));
	keep(m, "\n", 1);
	return SMFIS_CONTINUE;
}

static sfsistat
x_eoh(SMFICTX *ctx)
{
	keep(smfi_getpriv(ctx), "\n", 1);
	return SMFIS_CONTINUE;
}

static sfsistat
x_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	keep(smfi_getpriv(ctx), (const char *) chunk, len);
	return SMFIS_CONTINUE;
}

/* answer - queue the message to be handed back; discard the original */
static sfsistat
answer(struct msg *m)
{
	struct job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return SMFIS_TEMPFAIL;
	buf_smtp_end(&m->text, m->bol);
	memcpy(j->sender, m->sender, sizeof j->sender);
	j->text = m->text;
	memset(&m->text, 0, sizeof m->text);
	pthread_mutex_lock(&lock);
	*tail = j;
	tail = &j->next;
	pthread_cond_signal(&ready);
	pthread_mutex_unlock(&lock);
	return SMFIS_DISCARD;
}

/* relay_post - a member's post: to the other members, as the list */
static sfsistat
relay_post(SMFICTX *ctx, struct msg *m)
{
	char a[520];
	int i;

	if (smfi_delrcpt(ctx, m->given) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
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
	return SMFIS_ACCEPT;
}

static sfsistat
x_eom(SMFICTX *ctx)
{
	struct msg *m = smfi_getpriv(ctx);

	if (!m->to_list)
		return SMFIS_ACCEPT;
	return m->answer ? answer(m) : relay_post(ctx, m);
}

static sfsistat
x_close(SMFICTX *ctx)
{
	struct msg *m = smfi_getpriv(ctx);

	if (m != NULL)
		free(m->text.p);
	free(m);
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
		.xxfi_eoh = x_eoh,
		.xxfi_body = x_body,
		.xxfi_eom = x_eom,
		.xxfi_close = x_close,
	};
	const char *sock = NULL, *mfile = NULL;
	pthread_t t;
	int c;

	relay_progname = "noop-milter";
	signal(SIGPIPE, SIG_IGN);	/* a relay's closed session is an error, not a death */
	while ((c = getopt(argc, argv, "p:l:m:o:r:")) != -1) {
		switch (c) {
		case 'p': sock = optarg; break;
		case 'l': list = optarg; break;
		case 'm': mfile = optarg; break;
		case 'o': owner = optarg; break;
		case 'r': relay_addr = optarg; break;
		default: goto usage;
		}
	}
	if (!sock || !list || !mfile || !owner || !relay_addr)
		goto usage;
	load_members(mfile);
	snprintf(list_id, 256, "Benchmark list <%s>", list);
	snprintf(list_id + 256, 256, "<mailto:%s>", list);
	for (c = 0; c < SENDERS; c++)
		if (pthread_create(&t, NULL, sender, NULL) != 0) {
			fprintf(stderr, "noop-milter: cannot start a sending thread\n");
			return 1;
		}
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
	fprintf(stderr, "usage: noop-milter -p SOCKET -l LIST -m MEMBERS -o OWNER -r HOST:PORT\n");
	return 64;
}
