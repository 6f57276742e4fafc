/*
 * test_config - the configuration file: values, defaults, and errors that
 * name the file, the group and the key
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "message.h"

#define LIST "[list security@example.org]\nowner = owner@example.org\n"

static char *dir;

/* load - write text to a file and load it; *err set on failure */
static struct config *
load(const char *text, char **path, GError **err)
{
	*path = g_build_filename(dir, "vigil.conf", NULL);
	assert_true(g_file_set_contents(*path, text, -1, NULL));
	return config_load(*path, err);
}

/* good_file - every key read and converted */
static void
good_file(void **state)
{
	char *path;
	GError *err = NULL;
	struct config *cfg = load("[vigil]\ndatabase = /srv/v.db\nrelay = smtp://127.0.0.1:2526\n"
				  "template_dir = /srv/templates\n\n"
				  "[list Security@Example.ORG]\nname = Example security team\n"
				  "owner = Owner@Example.org\nautoreply_interval = 12h\n"
				  "max_message_size = 512K\n", &path, &err);
	const struct list_config *l;

	assert_non_null(cfg);
	assert_string_equal(cfg->database, "/srv/v.db");
	assert_string_equal(cfg->relay, "smtp://127.0.0.1:2526");
	assert_string_equal(cfg->template_dir, "/srv/templates");
	assert_int_equal(cfg->lists->len, 1);
	l = config_find_list(cfg, "security@example.org");
	assert_non_null(l);
	assert_string_equal(l->name, "Example security team");
	assert_string_equal(l->owner, "owner@example.org");
	assert_int_equal(l->autoreply_interval, 12 * 3600);
	assert_int_equal(l->max_message_size, 512 * 1024);
	assert_null(config_find_list(cfg, "other@example.org"));
	config_free(cfg);
	g_free(path);
}

/* defaults - only the owner is required */
static void
defaults(void **state)
{
	char *path;
	GError *err = NULL;
	struct config *cfg = load(LIST, &path, &err);
	const struct list_config *l;

	assert_non_null(cfg);
	assert_string_equal(cfg->relay, "smtp://127.0.0.1:10026");
	assert_true(g_str_has_suffix(cfg->database, "/lib/vigil/vigil.db"));
	l = g_ptr_array_index(cfg->lists, 0);
	assert_string_equal(l->name, "security@example.org");
	assert_int_equal(l->autoreply_interval, 86400);
	assert_int_equal(l->max_message_size, 50 * 1024 * 1024);
	config_free(cfg);
	g_free(path);
}

struct bad {
	const char *name;
	const char *text;
	const char *want;	/* in the message, after the file name */
};

/* errors - each bad file names the file, group and key */
static void
errors(void **state)
{
	static const struct bad rows[] = {
		{ "unknown key in [vigil]", "[vigil]\nbogus = 1\n" LIST, "[vigil] bogus: unknown key" },
		{ "unknown key in a list", LIST "colour = red\n",
		  "[list security@example.org] colour: unknown key" },
		{ "unknown group", "[mailman]\nx = 1\n" LIST, "[mailman]: unknown group" },
		{ "bad duration", LIST "autoreply_interval = 1x\n",
		  "[list security@example.org] autoreply_interval: bad duration" },
		{ "inline comment", LIST "autoreply_interval = 1d   # one a day\n",
		  "comments must be on a line of their own" },
		{ "bad size", LIST "max_message_size = big\n",
		  "[list security@example.org] max_message_size: bad size" },
		{ "size out of range", LIST "max_message_size = 10\n",
		  "[list security@example.org] max_message_size: out of range" },
		{ "duration out of range", LIST "autoreply_interval = 400d\n",
		  "[list security@example.org] autoreply_interval: out of range" },
		{ "missing owner", "[list security@example.org]\nname = x\n",
		  "[list security@example.org] owner: required key is missing" },
		{ "bad owner", "[list security@example.org]\nowner = a@b@c.example\n",
		  "[list security@example.org] owner: address must contain exactly one @" },
		{ "bad list address", "[list security]\nowner = o@example.org\n",
		  "[list security]: bad list address" },
		{ "relative database", "[vigil]\ndatabase = vigil.db\n" LIST,
		  "[vigil] database: must be an absolute path" },
		{ "relay not smtp", "[vigil]\nrelay = http://127.0.0.1/\n" LIST,
		  "[vigil] relay: must be an smtp:// or smtps:// URL" },
		{ "no list", "[vigil]\nrelay = smtp://127.0.0.1:25\n", "no [list ADDRESS] group" },
		{ "list twice", LIST "[list Security@example.org]\nowner = o@example.org\n",
		  "list defined twice" },
		{ "not a key file", "this is not = \n[unclosed\n", "" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *path;
		GError *err = NULL;
		struct config *cfg = load(rows[i].text, &path, &err);

		if (cfg != NULL)
			fail_msg("%s: loaded, want an error", rows[i].name);
		assert_non_null(err);
		if (!g_str_has_prefix(err->message, path) || strstr(err->message, rows[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s: ...%s...\"", rows[i].name, err->message, path,
				 rows[i].want);
		g_error_free(err);
		g_free(path);
	}
}

/* missing_file - the error names the file */
static void
missing_file(void **state)
{
	GError *err = NULL;

	assert_null(config_load("/nonexistent/vigil.conf", &err));
	assert_non_null(err);
	assert_non_null(strstr(err->message, "/nonexistent/vigil.conf"));
	g_error_free(err);
}

/* pick_list - -l may be left out when one list is configured */
static void
pick_list(void **state)
{
	char *path;
	GError *err = NULL;
	struct config *cfg = load(LIST "[list abuse@example.org]\nowner = o@example.org\n", &path, &err);

	assert_non_null(cfg);
	assert_null(config_pick_list(cfg, NULL, &err));
	assert_non_null(strstr(err->message, "choose one with -l"));
	g_clear_error(&err);
	assert_string_equal(config_pick_list(cfg, "Abuse@Example.org", &err)->address, "abuse@example.org");
	assert_null(config_pick_list(cfg, "nope@example.org", &err));
	assert_non_null(strstr(err->message, "no list nope@example.org"));
	g_clear_error(&err);
	config_free(cfg);
	g_free(path);
	cfg = load(LIST, &path, &err);
	assert_string_equal(config_pick_list(cfg, NULL, &err)->address, "security@example.org");
	config_free(cfg);
	g_free(path);
}

/* units - durations and sizes */
static void
units(void **state)
{
	gint64 n;

	assert_true(config_parse_duration("45", &n));
	assert_int_equal(n, 45);
	assert_true(config_parse_duration("30m", &n));
	assert_int_equal(n, 1800);
	assert_true(config_parse_duration("1d", &n));
	assert_int_equal(n, 86400);
	assert_true(config_parse_duration("2W", &n));
	assert_int_equal(n, 14 * 86400);
	assert_false(config_parse_duration("", &n));
	assert_false(config_parse_duration("-1d", &n));
	assert_false(config_parse_duration("1dd", &n));
	assert_false(config_parse_duration("99999999999999999999d", &n));
	assert_true(config_parse_size("50M", &n));
	assert_int_equal(n, 50 * 1024 * 1024);
	assert_true(config_parse_size("1g", &n));
	assert_int_equal(n, 1024 * 1024 * 1024);
	assert_false(config_parse_size("1T", &n));
}

static int
setup(void **state)
{
	dir = g_dir_make_tmp("vigil-test-XXXXXX", NULL);
	return dir ? 0 : -1;
}

static int
teardown(void **state)
{
	char *path = g_build_filename(dir, "vigil.conf", NULL);

	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file),
		cmocka_unit_test(defaults),
		cmocka_unit_test(errors),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(pick_list),
		cmocka_unit_test(units),
	};

	message_init();
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
