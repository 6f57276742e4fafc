/*
 * NAME
 *	sendproc - the outbox sent by a process of its own
 * SYNOPSIS
 *	#include "sendproc.h"
 *
 *	struct sendproc *sendproc_start(const char *conf, int threads);
 *	void sendproc_wake(struct sendproc *p);
 *	void sendproc_stop(struct sendproc *p);
 *	void sendproc_send(const char *conf, const GArray *ids);
 * DESCRIPTION
 *	The programs that take mail in (vigil-intake, vigild, vigil-milter)
 *	do not talk to the relay themselves: vigil-sender does.  A row the
 *	relay has accepted must be marked so in the outbox, or it is sent
 *	again; a process that dies between the relay's reply and that mark
 *	sends the message twice.  The programs that parse hostile mail are
 *	the ones most likely to die, and the ones pipe(8)'s time limit or
 *	an administrator kills; vigil-sender, in a session of its own,
 *	outlives them, and a send it has begun ends with its mark.
 *
 *	sendproc_start() starts "vigil-sender -t THREADS" for a resident
 *	program.  sendproc_wake() writes a byte to its standard input: rows
 *	were queued.  At the end of its input - sendproc_stop(), or the
 *	death of the resident program - vigil-sender finishes what it is
 *	sending and exits; sendproc_stop() waits for that.  When it has
 *	died, the next wake starts another.  Safe to call from any thread.
 *
 *	sendproc_send() runs "vigil-sender ID..." and waits for it: ids are
 *	sent, or left in the outbox for a later flush.  If the caller is
 *	killed meanwhile, vigil-sender still finishes.
 *
 *	conf is the configuration file to pass on (-c), or NULL for the
 *	default.  vigil-sender is looked for with libexec_program()
 *	(locate.c).  It logs to stderr too when the caller does.
 * DIAGNOSTICS
 *	Failures are logged; what was not sent stays in the outbox, for
 *	the next wake (resident programs look for it once a minute) or
 *	"vigil flush".
 */
#include "sendproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "locate.h"
#include "log.h"

extern char **environ;

struct sendproc {
	GMutex	lock;
	GPtrArray *argv;	/* vigil-sender's command line */
	pid_t	pid;		/* 0: not running */
	int	fd;		/* our end of its standard input */
};

/* command - vigil-sender's arguments up to the mode's own */
static GPtrArray *
command(const char *conf)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	char *path = libexec_program("vigil-sender");

	g_ptr_array_add(argv, g_strdup(path));
	free(path);
	if (conf) {
		g_ptr_array_add(argv, g_strdup("-c"));
		g_ptr_array_add(argv, g_strdup(conf));
	}
	if (log_to_stderr())
		g_ptr_array_add(argv, g_strdup("-e"));
	return argv;
}

/*
 * spawn - start argv in a session of its own, with no signal blocked,
 * standard input from in (or /dev/null when in is -1), standard output
 * nowhere (pipe(8) waits for the end of its command's) and standard
 * error ours when we log there; 0 on failure
 */
static pid_t
spawn(GPtrArray *argv, int in)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	pid_t pid = 0;
	int e;

	g_ptr_array_add(argv, NULL);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&at, &none);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (!log_to_stderr())
		posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	e = posix_spawn(&pid, g_ptr_array_index(argv, 0), &fa, &at, (char **) argv->pdata, environ);
	if (e != 0) {
		log_msg(LOG_ERR, "outbox: cannot run %s: %s; the outbox waits for \"vigil flush\"",
			(char *) g_ptr_array_index(argv, 0), g_strerror(e));
		pid = 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	g_ptr_array_set_size(argv, (guint) argv->len - 1);
	return pid;
}

/* launch - start vigil-sender for p; p->lock is held */
static void
launch(struct sendproc *p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_msg(LOG_ERR, "outbox: socketpair: %s", g_strerror(errno));
		return;
	}
	if ((p->pid = spawn(p->argv, sv[1])) != 0)
		p->fd = sv[0];
	else
		close(sv[0]);
	close(sv[1]);
}

/* reap - forget a vigil-sender that is gone; p->lock is held */
static void
reap(struct sendproc *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->pid > 0)
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	p->pid = 0;
}

/* sendproc_start - a vigil-sender with threads threads, waiting for wakes */
struct sendproc *
sendproc_start(const char *conf, int threads)
{
	struct sendproc *p = g_new0(struct sendproc, 1);

	g_mutex_init(&p->lock);
	p->fd = -1;
	p->argv = command(conf);
	g_ptr_array_add(p->argv, g_strdup("-t"));
	g_ptr_array_add(p->argv, g_strdup_printf("%d", threads));
	g_mutex_lock(&p->lock);
	launch(p);
	g_mutex_unlock(&p->lock);
	return p;
}

/* sendproc_wake - rows were queued: tell vigil-sender, or start another */
void
sendproc_wake(struct sendproc *p)
{
	int tries;

	g_mutex_lock(&p->lock);
	for (tries = 0; tries < 2; tries++) {
		if (p->pid == 0)
			launch(p);
		if (p->pid == 0)
			break;
		/* a full socket is a wake still unread: as good as ours */
		if (send(p->fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 || errno == EAGAIN)
			break;
		log_msg(LOG_WARNING, "outbox: vigil-sender %ld is gone (%s); starting another",
			(long) p->pid, g_strerror(errno));
		reap(p);
	}
	g_mutex_unlock(&p->lock);
}

/* sendproc_stop - vigil-sender finishes what it is sending; frees p */
void
sendproc_stop(struct sendproc *p)
{
	g_mutex_lock(&p->lock);
	reap(p);
	g_mutex_unlock(&p->lock);
	g_mutex_clear(&p->lock);
	g_ptr_array_free(p->argv, TRUE);
	g_free(p);
}

/* sendproc_send - vigil-sender sends ids; returns once it has */
void
sendproc_send(const char *conf, const GArray *ids)
{
	GPtrArray *argv = command(conf);
	guint i;
	pid_t pid;

	g_ptr_array_add(argv, g_strdup("--"));
	for (i = 0; i < ids->len; i++)
		g_ptr_array_add(argv, g_strdup_printf("%" G_GINT64_FORMAT, g_array_index(ids, gint64, i)));
	if ((pid = spawn(argv, -1)) != 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	g_ptr_array_free(argv, TRUE);
}
