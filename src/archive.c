/*
 * NAME
 *	archive - the list archive: every relayed copy in a Maildir
 * SYNOPSIS
 *	#include "archive.h"
 *
 *	enum store_rc archive_add(st, l, post_id, data, len, now, written, err);
 *	void archive_discard(GPtrArray *written);
 *	enum store_rc archive_recover(st, l, &removed, err);
 *	gboolean archive_check(l, err);
 *	enum store_rc archive_export(st, l, report_id, out, &n, err);
 *	void archive_mbox_from(GString *out, const char *sender, gint64 when);
 *	void archive_mboxrd(GString *out, const char *data, size_t len);
 * DESCRIPTION
 *	A list with an archive keeps every message it relays, exactly as
 *	its members receive it, in the Maildir its archive key names:
 *	libetpan's maildir driver writes the file (tmp/, then a link into
 *	new/), and the database records which post it holds.  Directories
 *	are 0750 with the set-group-ID bit, files 0640, both with the
 *	list's archive_group: the user vigil runs as and that group may
 *	read them, nobody else.  Line ends are LF, as a Maildir delivery
 *	stores them: CRLF becomes LF, nothing else changes.
 *
 *	archive_add() is called inside the transaction that records the
 *	relay, before it commits: the file is written and synced (its
 *	directory entry too), then the row that names it is added.  If
 *	anything fails the caller rolls back and tries again later
 *	(STORE_RETRY, the error naming the path): a relay is never
 *	recorded without its archived copy.  Every file written is
 *	appended to written (full paths).  A caller that rolls back
 *	before it commits removes them with archive_discard(); a commit
 *	that fails may still have reached the disk, so then the files
 *	stay for archive_recover() to judge.
 *
 *	archive_recover() settles what a crash or a failed commit left: it
 *	takes the write lock, so that no writer is between its file and
 *	its commit, and removes every file of the Maildir that vigil wrote
 *	(libetpan's names with this host's name) but no row names, and
 *	libetpan's temporary files.  The post it held was never relayed;
 *	its retry writes the file again.  "vigil maintain" runs it.
 *
 *	archive_check() is "vigil check-config"'s look at the directory:
 *	it exists with sane modes and group, or could be created.
 *
 *	archive_export() appends a report's archived thread to out as an
 *	mbox, in the order the posts arrived: archive_mbox_from() writes
 *	the "From " line (envelope sender, arrival time in UTC) and
 *	archive_mboxrd() the message, with mboxrd quoting: a line that
 *	starts with "From ", after any number of ">", gets one more ">".
 * SECURITY
 *	The archive holds unpublished vulnerability reports: nothing in
 *	it is readable by others, and an export goes to a file created
 *	0600 (by the command line) or to a pipe.
 */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libetpan/maildir.h>

#include "log.h"

G_DEFINE_QUARK(vigil-archive-error-quark, archive_error)

#define DIR_MODE	(S_ISGID | 0750)
#define FILE_MODE	0640

/* one struct maildir per Maildir and process: libetpan names files
 * time.pid_counter.host, and only one counter per process keeps them apart */
static GMutex lock;
static GHashTable *maildirs;	/* path -> struct maildir *, for the process's life */

/* fail - fill err about path with errno's text; STORE_RETRY: it may pass */
static enum store_rc
fail(GError **err, const char *path, const char *what, int e)
{
	g_set_error(err, ARCHIVE_ERROR, STORE_RETRY, "archive %s: %s%s%s", path, what,
		    e ? ": " : "", e ? g_strerror(e) : "");
	return STORE_RETRY;
}

/* the archive's group: its gid (-1 for none) and name */
struct group_of {
	gid_t	 gid;
	const char *name;
};

/* group_of - the list's archive_group */
static gboolean
group_of(const struct list_config *l, struct group_of *g, GError **err)
{
	g->gid = (gid_t) -1;
	g->name = l->archive_group;
	if (l->archive_group == NULL || *l->archive_group == '\0'
	    || config_group_gid(l->archive_group, &g->gid))
		return TRUE;
	g_set_error(err, ARCHIVE_ERROR, STORE_RETRY, "archive %s: archive_group %s: no such group",
		    l->archive, l->archive_group);
	return FALSE;
}

/* give_group - path has the archive's group (if any), or err says how to arrange it */
static enum store_rc
give_group(const char *path, const struct stat *sb, const struct group_of *g, GError **err)
{
	char *what;
	enum store_rc r;
	int e;

	if (g->gid == (gid_t) -1 || sb->st_gid == g->gid || chown(path, (uid_t) -1, g->gid) == 0)
		return STORE_OK;
	e = errno;
	what = g_strdup_printf("cannot give it the group %s (make the user vigil runs as a member,"
			       " or give the archive's parent directory that group with chmod g+s)",
			       g->name);
	r = fail(err, path, what, e);
	g_free(what);
	return r;
}

/*
 * make_dir - dir exists, or is made (parents too) 0750 with the
 * set-group-ID bit and the archive's group
 */
static enum store_rc
make_dir(const char *dir, const struct group_of *g, GError **err)
{
	struct stat sb;
	mode_t old;
	int rc, e;
	enum store_rc r;

	if (stat(dir, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return STORE_OK;
		return fail(err, dir, "not a directory", 0);
	}
	if (errno != ENOENT)
		return fail(err, dir, "cannot look at it", errno);
	old = umask(027);	/* under the lock: the group may read what is made */
	rc = g_mkdir_with_parents(dir, 0750);
	e = errno;
	umask(old);
	if (rc != 0 || stat(dir, &sb) != 0)
		return fail(err, dir, "cannot create it", rc != 0 ? e : errno);
	if ((r = give_group(dir, &sb, g, err)) != STORE_OK)
		return r;
	/* inherited from a set-group-ID parent, the bit is there already; chmod
	 * by someone outside the group would drop it */
	if ((sb.st_mode & 07777) != DIR_MODE && chmod(dir, DIR_MODE) != 0)
		return fail(err, dir, "cannot chmod it", errno);
	return STORE_OK;
}

/* make_maildir - the Maildir and its cur, new and tmp */
static enum store_rc
make_maildir(const char *path, const struct group_of *g, GError **err)
{
	static const char *const subs[] = { "", "cur", "new", "tmp" };
	enum store_rc r = STORE_OK;
	size_t i;

	for (i = 0; r == STORE_OK && i < G_N_ELEMENTS(subs); i++) {
		char *dir = g_build_filename(path, subs[i], NULL);

		r = make_dir(dir, g, err);
		g_free(dir);
	}
	return r;
}

/* maildir_of - this process's struct maildir for path; call with the lock held */
static struct maildir *
maildir_of(const char *path)
{
	struct maildir *md;

	if (maildirs == NULL)
		maildirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if ((md = g_hash_table_lookup(maildirs, path)) == NULL && (md = maildir_new(path)) != NULL)
		g_hash_table_insert(maildirs, g_strdup(path), md);
	return md;
}

/* unix_lines - data with CRLF line ends made LF, as a Maildir delivery stores it */
static GByteArray *
unix_lines(const char *data, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint) len);
	size_t i, start = 0;

	for (i = 0; i + 1 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n') {
			g_byte_array_append(out, (const guint8 *) data + start, (guint) (i - start));
			start = i + 1;
		}
	g_byte_array_append(out, (const guint8 *) data + start, (guint) (len - start));
	return out;
}

/* sync_dir - the directory's entries are on the disk */
static gboolean
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	gboolean ok = fd >= 0 && fsync(fd) == 0;
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return ok;
}

/*
 * write_file - data into the Maildir through libetpan; uid is its name
 * in new/, *file its full path.  libetpan mistakes a name taken in new/
 * for success and leaves its file in tmp/: that is checked.
 */
static enum store_rc
write_file(const char *path, const GByteArray *data, const struct group_of *g, char *uid, size_t uidsz,
	   char **file, GError **err)
{
	struct maildir *md = maildir_of(path);
	struct stat sb;
	char *tmp;
	int r, e;
	enum store_rc rc;

	*file = NULL;
	if (md == NULL)
		return fail(err, path, "out of memory", 0);
	memset(uid, 0, uidsz);
	errno = 0;
	r = maildir_message_add_uid(md, (const char *) data->data, data->len, uid, uidsz - 1);
	e = errno;
	if (r != MAILDIR_NO_ERROR) {
		char *what = g_strdup_printf("cannot write a message (libetpan error %d)", r);

		rc = fail(err, path, what, e);
		g_free(what);
		return rc;
	}
	*file = g_build_filename(path, "new", uid, NULL);
	tmp = g_build_filename(path, "tmp", uid, NULL);
	if (lstat(tmp, &sb) == 0) {
		unlink(tmp);
		g_free(tmp);
		rc = fail(err, *file, "the name was taken: not written", 0);
		g_free(*file);		/* another message's: the caller must not remove it */
		*file = NULL;
		return rc;
	}
	g_free(tmp);
	if (stat(*file, &sb) != 0)
		return fail(err, *file, "written but not found", errno);
	if ((gint64) sb.st_size != (gint64) data->len)
		return fail(err, *file, "written with the wrong size", 0);
	if ((rc = give_group(*file, &sb, g, err)) != STORE_OK)
		return rc;
	if (chmod(*file, FILE_MODE) != 0)
		return fail(err, *file, "cannot chmod it", errno);
	tmp = g_build_filename(path, "new", NULL);
	rc = sync_dir(tmp) ? STORE_OK : fail(err, tmp, "cannot sync it", errno);
	g_free(tmp);
	return rc;
}

/*
 * archive_add - keep post_id's copy (data, as relayed) in the list's
 * archive and record it; nothing when the list has none.  Inside the
 * caller's transaction; the file's path is appended to written.
 */
enum store_rc
archive_add(struct store *st, const struct list_config *l, gint64 post_id, const void *data,
	    size_t len, gint64 now, GPtrArray *written, GError **err)
{
	GByteArray *lf;
	char uid[256];
	char *file = NULL;
	struct group_of g;
	enum store_rc r;

	if (l->archive == NULL || *l->archive == '\0')
		return STORE_OK;
	if (!group_of(l, &g, err))
		return STORE_RETRY;
	lf = unix_lines(data, len);
	g_mutex_lock(&lock);
	if ((r = make_maildir(l->archive, &g, err)) == STORE_OK)
		r = write_file(l->archive, lf, &g, uid, sizeof uid, &file, err);
	g_mutex_unlock(&lock);
	if (r == STORE_OK)
		r = store_archive_add(st, post_id, l->address, uid, (gint64) lf->len, now, err);
	if (r != STORE_OK && file)
		unlink(file);
	else if (file && written)
		g_ptr_array_add(written, g_strdup(file));
	if (r == STORE_OK)
		log_msg(LOG_INFO, "post=%" G_GINT64_FORMAT " list=%s action=archive file=%s size=%u",
			post_id, l->address, file, lf->len);
	g_free(file);
	g_byte_array_unref(lf);
	return r;
}

/* archive_discard - remove the files of a transaction rolled back before its commit */
void
archive_discard(GPtrArray *written)
{
	guint i;

	for (i = 0; written && i < written->len; i++) {
		const char *f = g_ptr_array_index(written, i);

		if (unlink(f) == 0)
			log_msg(LOG_INFO, "action=archive-discard file=%s", f);
		else if (errno != ENOENT)
			log_msg(LOG_WARNING, "action=archive-discard file=%s: %s", f, g_strerror(errno));
	}
	if (written)
		g_ptr_array_set_size(written, 0);
}

/* ours - a name libetpan gives on this host: TIME.PID_COUNTER.HOST[:2,FLAGS] */
static gboolean
ours(const char *name, const char *host)
{
	const char *p = name;
	size_t n;

	if (!g_ascii_isdigit(*p))
		return FALSE;
	while (g_ascii_isdigit(*p))
		p++;
	if (*p++ != '.' || !g_ascii_isdigit(*p))
		return FALSE;
	while (g_ascii_isdigit(*p))
		p++;
	if (*p++ != '_' || !g_ascii_isdigit(*p))
		return FALSE;
	while (g_ascii_isdigit(*p))
		p++;
	if (*p++ != '.')
		return FALSE;
	n = strcspn(p, ":");
	return n == strlen(host) && strncmp(p, host, n) == 0;
}

/* sweep - remove from dir/sub the files of ours() that known does not name; counts them */
static void
sweep(const char *dir, const char *sub, GHashTable *known, const char *host, guint *removed)
{
	char *path = g_build_filename(dir, sub, NULL);
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *uid = g_strndup(name, strcspn(name, ":"));
		gboolean tmp = strcmp(sub, "tmp") == 0;
		char *f;

		if ((tmp && g_str_has_prefix(name, "etpan-maildir-"))
		    || (ours(name, host) && (tmp || !g_hash_table_contains(known, uid)))) {
			f = g_build_filename(path, name, NULL);
			if (unlink(f) != 0)
				log_msg(LOG_WARNING, "action=archive-orphan file=%s: %s", f, g_strerror(errno));
			else if (!tmp) {
				log_msg(LOG_NOTICE, "action=archive-orphan file=%s: no post names it, removed", f);
				(*removed)++;
			}
			g_free(f);
		}
		g_free(uid);
	}
	if (d)
		g_dir_close(d);
	g_free(path);
}

/*
 * archive_recover - remove what writes that never committed left in the
 * list's archive; *removed counts the messages
 */
enum store_rc
archive_recover(struct store *st, const struct list_config *l, guint *removed, GError **err)
{
	char host[HOST_NAME_MAX + 1] = "";
	GHashTable *known;
	GPtrArray *rows = NULL;
	enum store_rc r;
	guint i;

	*removed = 0;
	if (l->archive == NULL || *l->archive == '\0' || !g_file_test(l->archive, G_FILE_TEST_IS_DIR))
		return STORE_OK;
	if (gethostname(host, sizeof host - 1) != 0)
		return fail(err, l->archive, "gethostname", errno);
	/* the write lock: no writer is between its file and its commit */
	if ((r = store_begin(st, err)) != STORE_OK)
		return r;
	if ((r = store_archive_list(st, l->address, NULL, &rows, err)) == STORE_OK) {
		known = g_hash_table_new(g_str_hash, g_str_equal);
		for (i = 0; i < rows->len; i++)
			g_hash_table_add(known, ((struct archive_row *) g_ptr_array_index(rows, i))->file);
		g_mutex_lock(&lock);
		sweep(l->archive, "new", known, host, removed);
		sweep(l->archive, "cur", known, host, removed);
		sweep(l->archive, "tmp", known, host, removed);
		g_mutex_unlock(&lock);
		g_hash_table_destroy(known);
		g_ptr_array_free(rows, TRUE);
	}
	store_rollback(st);	/* nothing was written */
	return r;
}

/* check_dir - an existing archive directory: no access for others, the right group */
static gboolean
check_dir(const char *dir, const struct stat *sb, const struct group_of *g, GError **err)
{
	if (!S_ISDIR(sb->st_mode)) {
		g_set_error(err, ARCHIVE_ERROR, 1, "archive %s: not a directory", dir);
		return FALSE;
	}
	if (sb->st_mode & 0007) {
		g_set_error(err, ARCHIVE_ERROR, 1, "archive %s: others may use it (mode %04o):"
			    " chmod o-rwx %s", dir, (unsigned) (sb->st_mode & 07777), dir);
		return FALSE;
	}
	if (g->gid != (gid_t) -1 && sb->st_gid != g->gid) {
		g_set_error(err, ARCHIVE_ERROR, 1, "archive %s: its group is not %s (archive_group):"
			    " chgrp %s %s", dir, g->name, g->name, dir);
		return FALSE;
	}
	return TRUE;
}

/*
 * archive_check - the list's archive is a directory only its user and
 * group may use, or it can be created: its nearest existing parent is a
 * directory we may write to
 */
gboolean
archive_check(const struct list_config *l, GError **err)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	struct stat sb;
	struct group_of g;
	char *dir;
	size_t i;
	gboolean ok = TRUE;

	if (l->archive == NULL || *l->archive == '\0')
		return TRUE;
	if (!group_of(l, &g, err))
		return FALSE;
	if (stat(l->archive, &sb) == 0) {
		ok = check_dir(l->archive, &sb, &g, err);
		for (i = 0; ok && i < G_N_ELEMENTS(subs); i++) {
			dir = g_build_filename(l->archive, subs[i], NULL);
			if (stat(dir, &sb) == 0)
				ok = check_dir(dir, &sb, &g, err);
			g_free(dir);
		}
		return ok;
	}
	dir = g_strdup(l->archive);
	while (stat(dir, &sb) != 0 && errno == ENOENT && strcmp(dir, "/") != 0) {
		char *up = g_path_get_dirname(dir);

		g_free(dir);
		dir = up;
	}
	if (!S_ISDIR(sb.st_mode) || (geteuid() != 0 && access(dir, W_OK | X_OK) != 0)) {
		g_set_error(err, ARCHIVE_ERROR, 1, "archive %s: cannot be created: %s is not a"
			    " directory we may write to", l->archive, dir);
		ok = FALSE;
	}
	g_free(dir);
	return ok;
}

/* archive_mbox_from - the "From " line of an mbox message: envelope sender, time in UTC */
void
archive_mbox_from(GString *out, const char *sender, gint64 when)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	GDateTime *t = g_date_time_new_from_unix_utc(when);
	const char *p;

	g_string_append(out, "From ");
	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	for (p = sender; *p; p++)	/* one word: blanks and controls would end it */
		g_string_append_c(out, (unsigned char) *p <= ' ' || *p == 0x7f ? '_' : *p);
	if (t == NULL)
		t = g_date_time_new_from_unix_utc(0);
	g_string_append_printf(out, " %s %s %2d %02d:%02d:%02d %d\n",
			       days[g_date_time_get_day_of_week(t) - 1],
			       months[g_date_time_get_month(t) - 1], g_date_time_get_day_of_month(t),
			       g_date_time_get_hour(t), g_date_time_get_minute(t),
			       g_date_time_get_second(t), g_date_time_get_year(t));
	g_date_time_unref(t);
}

/*
 * archive_mboxrd - a message as it stands in an mboxrd file: every line
 * that is ">"* then "From " gets one more ">", and it ends in a newline
 */
void
archive_mboxrd(GString *out, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t) (nl - data) + 1 : len;
		size_t k = i;

		while (k < end && data[k] == '>')
			k++;
		if (end - k >= 5 && memcmp(data + k, "From ", 5) == 0)
			g_string_append_c(out, '>');
		g_string_append_len(out, data + i, (gssize) (end - i));
		i = end;
	}
	if (len == 0 || data[len - 1] != '\n')
		g_string_append_c(out, '\n');
}

/*
 * archive_export - a report's archived thread as an mbox, appended to
 * out; *n messages.  STORE_NOTFOUND when nothing of it is archived.
 */
enum store_rc
archive_export(struct store *st, const struct list_config *l, const char *report_id,
	       GString *out, guint *n, GError **err)
{
	struct maildir *md = NULL;
	GPtrArray *rows = NULL;
	enum store_rc r;
	guint i;

	*n = 0;
	if ((r = store_archive_list(st, l->address, report_id, &rows, err)) != STORE_OK)
		return r;
	if (rows->len == 0) {
		g_set_error(err, ARCHIVE_ERROR, STORE_NOTFOUND, "nothing of report %s is in the archive of %s%s",
			    report_id, l->address, *l->archive ? "" : " (it has none: see archive in vigil.conf(5))");
		r = STORE_NOTFOUND;
	} else if (l->archive == NULL || *l->archive == '\0') {
		g_set_error(err, ARCHIVE_ERROR, STORE_ERROR, "%s has archived messages, but no archive"
			    " is configured now (archive in vigil.conf(5))", l->address);
		r = STORE_ERROR;
	} else if ((md = maildir_new(l->archive)) == NULL || maildir_update(md) != MAILDIR_NO_ERROR) {
		r = fail(err, l->archive, "cannot read the Maildir", errno);
	}
	for (i = 0; r == STORE_OK && i < rows->len; i++) {
		const struct archive_row *a = g_ptr_array_index(rows, i);
		char *file = maildir_message_get(md, a->file);
		char *data = NULL;
		gsize len;
		GError *ferr = NULL;

		if (file == NULL || !g_file_get_contents(file, &data, &len, &ferr)) {
			char *what = g_strdup_printf("post %" G_GINT64_FORMAT " of report %s: %s", a->post_id,
						     report_id, ferr ? ferr->message : "not in new/ or cur/");

			g_set_error(err, ARCHIVE_ERROR, STORE_ERROR, "archive %s: %s",
				    file ? file : l->archive, what);
			r = STORE_ERROR;
			g_free(what);
			g_clear_error(&ferr);
		} else {
			archive_mbox_from(out, a->sender, a->received);
			archive_mboxrd(out, data, len);
			g_string_append_c(out, '\n');
			(*n)++;
		}
		free(file);
		g_free(data);
	}
	if (md)
		maildir_free(md);
	g_ptr_array_free(rows, TRUE);
	return r;
}
