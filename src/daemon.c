/*
 * NAME
 *	daemon - what vigil's resident programs do at start-up
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	gboolean daemon_become(const char *user, GError **err);
 *	gboolean daemon_safe_dir(const char *what, const char *path, GError **err);
 *	gboolean daemon_safe_mode(const char *what, const char *path, GError **err);
 * DESCRIPTION
 *	daemon_become() makes a program started as root the unprivileged
 *	user (the "user" of vigil.conf), with that user's groups; every call
 *	is checked, and so is that root cannot be had back.  Not root: it
 *	does nothing.
 *
 *	daemon_safe_dir() refuses the directory of path (a database, a
 *	socket) when others may write to it: whoever could would replace
 *	the file.  daemon_safe_mode() refuses path itself (a file or a
 *	directory) when others may write to it; a path that is not there
 *	passes.
 *
 *	Both return FALSE with err set to say why; the caller exits.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(vigil-daemon-error-quark, daemon_error)

/* daemon_become - as root, become user; every call checked */
gboolean
daemon_become(const char *user, GError **err)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return TRUE;
	if ((pw = getpwnam(user)) == NULL) {
		g_set_error(err, DAEMON_ERROR, 0, "user %s (the \"user\" of vigil.conf) does not exist", user);
		return FALSE;
	}
	if (pw->pw_uid == 0) {
		g_set_error(err, DAEMON_ERROR, 0, "will not run as root: set \"user\" in vigil.conf");
		return FALSE;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0
	    || setuid(pw->pw_uid) != 0) {
		g_set_error(err, DAEMON_ERROR, 0, "cannot become %s: %s", user, g_strerror(errno));
		return FALSE;
	}
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid
	    || getegid() != pw->pw_gid || setuid(0) == 0) {
		g_set_error(err, DAEMON_ERROR, 0, "privileges were not dropped (uid %u)",
			    (unsigned) geteuid());
		return FALSE;
	}
	return TRUE;
}

/*
 * daemon_safe_mode - refuse path (a file or a directory) when others may
 * write to it, naming it and its mode; one that is not there passes
 */
gboolean
daemon_safe_mode(const char *what, const char *path, GError **err)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return TRUE;
		g_set_error(err, DAEMON_ERROR, 0, "%s %s: %s", what, path, g_strerror(errno));
		return FALSE;
	}
	if (!S_ISLNK(sb.st_mode) && (sb.st_mode & S_IWOTH)) {
		g_set_error(err, DAEMON_ERROR, 0, "%s %s is writable by others (mode %04o),"
			    " so anyone could change or replace it: chmod o-w %s",
			    what, path, (unsigned) (sb.st_mode & 07777), path);
		return FALSE;
	}
	return TRUE;
}

/* daemon_safe_dir - refuse the directory of path when it is missing or others may write to it */
gboolean
daemon_safe_dir(const char *what, const char *path, GError **err)
{
	char *dir = g_path_get_dirname(path);
	char *name = g_strconcat(what, " directory", NULL);
	struct stat sb;
	gboolean ok = FALSE;

	if (stat(dir, &sb) != 0)
		g_set_error(err, DAEMON_ERROR, 0, "%s %s: %s", name, dir, g_strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		g_set_error(err, DAEMON_ERROR, 0, "%s %s is not a directory", name, dir);
	else
		ok = daemon_safe_mode(name, dir, err);
	g_free(name);
	g_free(dir);
	return ok;
}
