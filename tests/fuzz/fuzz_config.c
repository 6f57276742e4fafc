/*
 * NAME
 *	fuzz_config - fuzz harness for the configuration reader
 * SYNOPSIS
 *	fuzz_config [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input is a configuration file.  It is written to a file in a
 *	temporary directory made once per process (removed at exit) and
 *	read with config_load(), which either fails with a message naming
 *	the file or returns a configuration for which these hold:
 *
 *	There is at least one list; every list address, owner and bounce
 *	address is canonical and passes the strict check again; no bounce
 *	address is a list's or another list's; config_find_list(),
 *	config_find_bounce() and config_find_rcpt() (also with a
 *	+join-TOKEN extension) find each list; every number is within the
 *	bounds of its table row.
 *
 *	What config_print() writes ("key-file syntax") reads back with
 *	config_load() to a configuration that prints the same.
 *
 *	The last 8 bytes of the input, as a number, also go through
 *	config_format_duration() and config_parse_duration(), which must
 *	give it back.
 * SECURITY
 *	The file is written by an administrator, not by strangers; but
 *	check-config runs on it, and a value the reader accepts and
 *	prints must mean the same when read again.
 */
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "addr.h"
#include "config.h"
#include "message.h"
#include "fuzz.h"

static char *dir;
static char *path;

/* cleanup - remove the temporary directory at exit */
static void
cleanup(void)
{
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* LLVMFuzzerInitialize - GMime, and a directory for the file */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	message_init();
	dir = g_dir_make_tmp("vigil-fuzz-config-XXXXXX", NULL);
	if (dir == NULL) {
		perror("fuzz_config: temporary directory");
		abort();
	}
	path = g_build_filename(dir, "vigil.conf", NULL);
	atexit(cleanup);
	return 0;
}

/* printed - what config_print() writes */
static char *
printed(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		abort();
	config_print(cfg, fp);
	fclose(fp);
	return buf;
}

/* load - write text to the file and read it */
static struct config *
load(const char *text, size_t len, GError **err)
{
	if (!g_file_set_contents(path, text, (gssize) len, NULL)) {
		perror("fuzz_config: write");
		abort();
	}
	return config_load(path, err);
}

/* check_strict - an address the strict check accepts as itself */
static void
check_strict(const char *what, const char *a)
{
	const char *why = NULL;
	char *again = addr_check_strict(a, &why);

	FUZZ_CHECK(again && strcmp(again, a) == 0, "%s \"%s\": %s", what, a, again ? again : why);
	g_free(again);
}

/* check_list - one list's invariants */
static void
check_list(const struct config *cfg, const struct list_config *l)
{
	bool bounce = true;
	char *ext = NULL;
	char *join;
	const char *at = strrchr(l->address, '@');
	guint i;

	check_strict("list", l->address);
	check_strict("owner", l->owner);
	check_strict("bounce address", l->bounce_address);
	FUZZ_CHECK(*l->name != '\0', "list %s has no name", l->address);
	FUZZ_CHECK(config_find_list(cfg, l->address) == l, "list %s", l->address);
	FUZZ_CHECK(config_find_bounce(cfg, l->bounce_address) == l, "bounces of %s", l->address);
	FUZZ_CHECK(config_find_rcpt(cfg, l->address, &bounce, &ext) == l && !bounce && ext == NULL,
		   "rcpt %s", l->address);
	FUZZ_CHECK(config_find_rcpt(cfg, l->bounce_address, &bounce, NULL) == l && bounce,
		   "rcpt %s", l->bounce_address);
	FUZZ_CHECK(config_find_list(cfg, l->bounce_address) == NULL, "bounce address %s is a list",
		   l->bounce_address);
	for (i = 0; i < cfg->lists->len; i++) {
		const struct list_config *o = g_ptr_array_index(cfg->lists, i);

		FUZZ_CHECK(o == l || strcmp(o->address, l->address) != 0, "list %s twice", l->address);
	}
	if (strchr(l->address, '+') == NULL) {
		join = g_strdup_printf("%.*s+join-abc%s", (int) (at - l->address), l->address, at);
		FUZZ_CHECK(config_find_rcpt(cfg, join, &bounce, &ext) == l && !bounce && ext
			   && strcmp(ext, "join-abc") == 0, "rcpt %s", join);
		g_free(ext);
		g_free(join);
	}
	FUZZ_CHECK(l->autoreply_interval >= 0 && l->autoreply_interval <= 365 * 86400, "%s", l->address);
	FUZZ_CHECK(l->max_message_size >= 1024 && l->max_message_size <= (G_GINT64_CONSTANT(1) << 31),
		   "%s", l->address);
	FUZZ_CHECK(l->remind_after >= 0 && l->hold_expiry >= 0, "%s", l->address);
	FUZZ_CHECK(l->dmarc_mitigation >= 0 && l->dmarc_mitigation <= 2, "%s", l->address);
	FUZZ_CHECK(l->bounce_threshold >= 0 && l->bounce_threshold <= 1000, "%s", l->address);
	FUZZ_CHECK(l->bounce_window >= 1 && l->invite_expiry >= 3600, "%s", l->address);
	FUZZ_CHECK(l->vouches_required >= 1 && l->vouches_required <= 100, "%s", l->address);
	FUZZ_CHECK(*l->footer == '\0' || *l->footer == '/', "footer %s", l->footer);
	FUZZ_CHECK(*l->archive == '\0' || *l->archive == '/', "archive %s", l->archive);
}

/* check_duration - n seconds formatted and read back */
static void
check_duration(gint64 n)
{
	char *s = config_format_duration(n);
	gint64 back = -1;

	FUZZ_CHECK(config_parse_duration(s, &back) && back == n, "%" G_GINT64_FORMAT " -> %s -> %"
		   G_GINT64_FORMAT, n, s, back);
	g_free(s);
}

/* LLVMFuzzerTestOneInput - one configuration file */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *err = NULL;
	struct config *cfg = load((const char *) data, size, &err);
	gint64 n = 0;
	char *first, *second;
	struct config *again;
	guint i;

	if (size >= 8) {
		memcpy(&n, data + size - 8, 8);
		check_duration((gint64) ((guint64) n >> 2));
	}
	if (cfg == NULL) {
		FUZZ_CHECK(err != NULL && strstr(err->message, path) != NULL, "error without the file: %s",
			   err ? err->message : "(none)");
		g_error_free(err);
		return 0;
	}
	FUZZ_CHECK(err == NULL, "error set on success: %s", err->message);
	FUZZ_CHECK(cfg->lists->len >= 1, "no list");
	FUZZ_CHECK(cfg->database[0] == '/' && cfg->template_dir[0] == '/', "paths");
	FUZZ_CHECK(g_str_has_prefix(cfg->relay, "smtp://") || g_str_has_prefix(cfg->relay, "smtps://"),
		   "relay %s", cfg->relay);
	for (i = 0; i < cfg->lists->len; i++)
		check_list(cfg, g_ptr_array_index(cfg->lists, i));

	first = printed(cfg);
	again = load(first, strlen(first), &err);
	FUZZ_CHECK(again != NULL, "the printed configuration does not load: %s\n%s",
		   err ? err->message : "?", first);
	second = printed(again);
	FUZZ_CHECK(strcmp(first, second) == 0, "printed twice differently:\n%s\n----\n%s", first, second);
	g_free(first);
	g_free(second);
	config_free(again);
	config_free(cfg);
	return 0;
}
