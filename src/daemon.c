/*
 * NAME
 *	daemon - what vigil's resident programs do at start-up
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	gboolean daemon_become(const char *user, GError **err);
 *	gboolean daemon_safe_dir(const char *what, const char *path, GError **err);
 * DESCRIPTION
 *	daemon_become() makes a program started as root the unprivileged
 *	user (the "user" of vigil.conf), with that user's groups; every call
 *	is checked, and so is that root cannot be had back.  Not root: it
 *	does nothing.
 *
 *	daemon_safe_dir() refuses the directory of path (a database, a
 *	socket) when others may write to it: whoever could would replace
 *	the file.
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

/* daemon_safe_dir - refuse the directory of path when others may write to it */
gboolean
daemon_safe_dir(const char *what, const char *path, GError **err)
{
	char *dir = g_path_get_dirname(path);
	struct stat sb;
	gboolean ok = FALSE;

	if (stat(dir, &sb) != 0)
		g_set_error(err, DAEMON_ERROR, 0, "%s directory %s: %s", what, dir, g_strerror(errno));
	else if (sb.st_mode & S_IWOTH)
		g_set_error(err, DAEMON_ERROR, 0, "%s directory %s is writable by others: chmod o-w it",
			    what, dir);
	else
		ok = TRUE;
	g_free(dir);
	return ok;
}
