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
#include "dmarc.h"
#include "locate.h"
#include "message.h"
#include "policy.h"

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

/* a list's local part whose LIST-bounces is over 64 octets */
#define LOCAL57 "security-team-of-the-example-organisation-and-its-friends"
#define LOCAL56 "security-team-of-the-example-organisation-and-its-friend"

/* long_list - LIST-bounces of a 56-octet local part has 64; at 57 bounce_address is set */
static void
long_list(void **state)
{
	char *path;
	GError *err = NULL;
	struct config *cfg = load("[list " LOCAL57 "@example.org]\nowner = o@example.org\n"
				  "bounce_address = errors@example.org\n"
				  "[list " LOCAL56 "@example.org]\nowner = o@example.org\n", &path, &err);

	assert_non_null(cfg);
	assert_string_equal(((const struct list_config *) g_ptr_array_index(cfg->lists, 0))->bounce_address,
			    "errors@example.org");
	assert_string_equal(((const struct list_config *) g_ptr_array_index(cfg->lists, 1))->bounce_address,
			    LOCAL56 "-bounces@example.org");
	config_free(cfg);
	g_free(path);
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

/* new_defaults - the keys of bounces, DMARC, tag, footer and archive when not given */
static void
new_defaults(void **state)
{
	char *path;
	GError *err = NULL;
	struct config *cfg = load(LIST "[list Abuse@Example.NET]\nowner = o@example.org\n", &path, &err);
	const struct list_config *l;

	assert_non_null(cfg);
	assert_string_equal(cfg->resolver, "");
	l = config_find_list(cfg, "security@example.org");
	assert_string_equal(l->bounce_address, "security-bounces@example.org");
	assert_int_equal(l->dmarc_mitigation, DMARC_MITIGATE_MUNGE_FROM);
	assert_string_equal(l->subject_tag, "");
	assert_string_equal(l->footer, "");
	assert_string_equal(l->archive_url, "");
	assert_string_equal(l->archive, "");
	assert_string_equal(l->archive_group, "");
	assert_int_equal(l->bounce_threshold, 3);
	assert_int_equal(l->bounce_window, 30 * 86400);
	/* derived from the canonical list address */
	l = config_find_list(cfg, "abuse@example.net");
	assert_string_equal(l->bounce_address, "abuse-bounces@example.net");
	assert_ptr_equal(config_find_bounce(cfg, "abuse-bounces@example.net"), l);
	assert_null(config_find_bounce(cfg, "abuse@example.net"));
	assert_null(config_find_bounce(cfg, NULL));
	config_free(cfg);
	g_free(path);
}

/* new_values - the new keys read, checked and converted */
static void
new_values(void **state)
{
	static const struct {
		const char *resolver;
		const char *mitigation;
		int want;
	} rows[] = {
		{ "192.0.2.53", "none", DMARC_MITIGATE_NONE },
		{ "192.0.2.53:5353", "munge_from", DMARC_MITIGATE_MUNGE_FROM },
		{ "2001:db8::53", "always_munge", DMARC_MITIGATE_ALWAYS },
		{ "[2001:db8::53]:53", "none", DMARC_MITIGATE_NONE },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *path;
		GError *err = NULL;
		char *text = g_strdup_printf("[vigil]\nresolver = %s\n" LIST
					     "bounce_address = Sec-Errors@Example.ORG\ndmarc_mitigation = %s\n"
					     "subject_tag = [S\xc3\xa9" "curit\xc3\xa9]\nfooter = /etc/vigil/footer.txt\n"
					     "archive_url = https://lists.example.org/security/\n"
					     "archive = /var/lib/vigil/archive/security/\narchive_group = root\n"
					     "bounce_threshold = 0\nbounce_window = 2w\n", rows[i].resolver,
					     rows[i].mitigation);
		struct config *cfg = load(text, &path, &err);
		const struct list_config *l;

		if (cfg == NULL)
			fail_msg("resolver %s, %s: %s", rows[i].resolver, rows[i].mitigation, err->message);
		assert_string_equal(cfg->resolver, rows[i].resolver);
		l = g_ptr_array_index(cfg->lists, 0);
		assert_string_equal(l->bounce_address, "sec-errors@example.org");
		assert_int_equal(l->dmarc_mitigation, rows[i].want);
		assert_string_equal(l->subject_tag, "[S\xc3\xa9" "curit\xc3\xa9]");
		assert_string_equal(l->footer, "/etc/vigil/footer.txt");
		assert_string_equal(l->archive_url, "https://lists.example.org/security/");
		assert_string_equal(l->archive, "/var/lib/vigil/archive/security/");
		assert_string_equal(l->archive_group, "root");
		assert_int_equal(l->bounce_threshold, 0);
		assert_int_equal(l->bounce_window, 14 * 86400);
		assert_ptr_equal(config_find_bounce(cfg, "sec-errors@example.org"), l);
		config_free(cfg);
		g_free(text);
		g_free(path);
	}
}


/* new_errors - bad values of the new keys name the file, the group, the key and what is wrong */
static void
new_errors(void **state)
{
#define L "[list security@example.org]"
	static const struct bad rows[] = {
		{ "dmarc_mitigation unknown", LIST "dmarc_mitigation = munge\n",
		  L " dmarc_mitigation: must be one of: none, munge_from, always_munge" },
		{ "dmarc_mitigation in another case", LIST "dmarc_mitigation = Munge_From\n",
		  L " dmarc_mitigation: must be one of: none, munge_from, always_munge" },
		{ "dmarc_mitigation empty", LIST "dmarc_mitigation =\n",
		  L " dmarc_mitigation: must be one of: none, munge_from, always_munge" },
		{ "bounce_address is the list's", LIST "bounce_address = Security@example.org\n",
		  L " bounce_address: security@example.org is also a list's address" },
		{ "bounce_address is the owner's", LIST "bounce_address = owner@example.org\n",
		  L " bounce_address: owner@example.org is also a list's address, an owner" },
		{ "bounce_address is another list's owner", LIST "bounce_address = o@example.org\n"
		  "[list abuse@example.org]\nowner = o@example.org\n",
		  L " bounce_address: o@example.org is also a list's address, an owner" },
		{ "bounce_address is another list's", LIST "bounce_address = abuse@example.org\n"
		  "[list abuse@example.org]\nowner = o@example.org\n",
		  L " bounce_address: abuse@example.org is also a list's address" },
		{ "the derived bounce address is another list", LIST
		  "[list security-bounces@example.org]\nowner = o@example.org\n",
		  L " bounce_address: security-bounces@example.org is also a list's address" },
		{ "bounce_address is another list's bounce address", LIST
		  "[list abuse@example.org]\nowner = o@example.org\nbounce_address = security-bounces@example.org\n",
		  "bounce_address: security-bounces@example.org is also a list's address, an owner or another"
		  " list's bounce address" },
		{ "bounce_address not an address", LIST "bounce_address = bounces\n", L " bounce_address: " },
		{ "the derived bounce address is no address: a local part of 57 octets",
		  "[list " LOCAL57 "@example.org]\nowner = o@example.org\n",
		  "[list " LOCAL57 "@example.org] bounce_address: the default, " LOCAL57
		  "-bounces@example.org, is not an address (bad local part): set one" },
		{ "subject_tag with a control character", LIST "subject_tag = [Sec]\x01\n",
		  L " subject_tag: must be one line of text without control characters" },
		{ "subject_tag with a tab inside", LIST "subject_tag = [Sec]\\tx\n",
		  L " subject_tag: must be one line of text without control characters" },
		{ "subject_tag with a header after CRLF", LIST "subject_tag = [Sec]\\r\\nBcc: x@example.net\n",
		  L " subject_tag: must be one line of text without control characters" },
		{ "subject_tag with DEL", LIST "subject_tag = [Sec]\x7f\n",
		  L " subject_tag: must be one line of text without control characters" },
		{ "subject_tag with C1 NEL", LIST "subject_tag = [Sec]\xc2\x85x\n",
		  L " subject_tag: must be one line of text without control characters" },
		{ "archive_url with a control character", LIST "archive_url = https://x.example/\x1b[0m\n",
		  L " archive_url: must be one line" },
		{ "footer not absolute", LIST "footer = footer.txt\n", L " footer: must be an absolute path" },
		{ "archive not absolute", LIST "archive = archive/security\n",
		  L " archive: must be an absolute path" },
		{ "archive_group unknown", LIST "archive_group = no-such-group-here\n",
		  L " archive_group: no such group on this host: \"no-such-group-here\"" },
		{ "two lists, one archive", LIST "archive = /var/lib/vigil/archive/sec\n"
		  "[list abuse@example.org]\nowner = o@example.org\narchive = /var/lib/vigil/archive/sec/\n",
		  "[list abuse@example.org] archive: /var/lib/vigil/archive/sec/ is also the archive of"
		  " security@example.org" },
		{ "resolver is a name", "[vigil]\nresolver = ns.example.org\n" LIST,
		  "[vigil] resolver: is not an IPv4 address" },
		{ "resolver with a bad port", "[vigil]\nresolver = 192.0.2.53:70000\n" LIST,
		  "[vigil] resolver: has a bad port" },
		{ "resolver IPv6 with a port, no brackets", "[vigil]\nresolver = [2001:db8::53:53\n" LIST,
		  "[vigil] resolver: has [ without ]" },
		{ "resolver IPv4 out of range", "[vigil]\nresolver = 192.0.2.300\n" LIST, "[vigil] resolver: " },
		{ "bounce_threshold not a number", LIST "bounce_threshold = three\n",
		  L " bounce_threshold: must be a whole number" },
		{ "bounce_threshold with a unit", LIST "bounce_threshold = 3d\n",
		  L " bounce_threshold: must be a whole number" },
		{ "bounce_threshold negative", LIST "bounce_threshold = -1\n",
		  L " bounce_threshold: must be a whole number" },
		{ "bounce_threshold out of range", LIST "bounce_threshold = 1001\n",
		  L " bounce_threshold: out of range (0 to 1000)" },
		{ "bounce_window zero", LIST "bounce_window = 0\n", L " bounce_window: out of range" },
		{ "bounce_window bad", LIST "bounce_window = a month\n", L " bounce_window: bad duration" },
		{ "invite_expiry below an hour", LIST "invite_expiry = 59m\n",
		  L " invite_expiry: out of range (3600 to 31536000)" },
		{ "invite_expiry of 3599 seconds", LIST "invite_expiry = 3599\n", L " invite_expiry: out of range" },
		{ "invite_expiry zero", LIST "invite_expiry = 0\n", L " invite_expiry: out of range" },
		{ "invite_expiry above a year", LIST "invite_expiry = 366d\n", L " invite_expiry: out of range" },
		{ "invite_expiry bad", LIST "invite_expiry = a week\n", L " invite_expiry: bad duration" },
		{ "vouches_required zero", LIST "vouches_required = 0\n",
		  L " vouches_required: out of range (1 to 100)" },
		{ "vouches_required 101", LIST "vouches_required = 101\n",
		  L " vouches_required: out of range (1 to 100)" },
		{ "vouches_required not a number", LIST "vouches_required = two\n",
		  L " vouches_required: must be a whole number" },
		{ "vouches_required negative", LIST "vouches_required = -1\n",
		  L " vouches_required: must be a whole number" },
		{ "require_authentication unknown", LIST "require_authentication = spf\n",
		  L " require_authentication: must be one of: none, dkim, dkim_or_spf" },
		{ "require_authentication in another case", LIST "require_authentication = DKIM\n",
		  L " require_authentication: must be one of: none, dkim, dkim_or_spf" },
		{ "require_authentication without trusted_authserv_id", LIST "require_authentication = dkim\n",
		  L " trusted_authserv_id: required with require_authentication = dkim: the authserv-id your"
		  " MTA's verifier" },
		{ "dkim_or_spf without trusted_authserv_id", LIST "require_authentication = dkim_or_spf\n"
		  "trusted_authserv_id =\n",
		  L " trusted_authserv_id: required with require_authentication = dkim_or_spf" },
		{ "trusted_authserv_id with a blank", LIST "trusted_authserv_id = mx example.org\n",
		  L " trusted_authserv_id: must be the authserv-id of the verifier" },
		{ "trusted_authserv_id with a ';'", LIST "trusted_authserv_id = mx.example.org;\n",
		  L " trusted_authserv_id: must be the authserv-id" },
		{ "trusted_authserv_id with a job id", LIST "trusted_authserv_id = mx.example.org/4AbC\n",
		  L " trusted_authserv_id: must be the authserv-id" },
	};
#undef L
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *path;
		GError *err = NULL;
		struct config *cfg = load(rows[i].text, &path, &err);

		if (cfg != NULL) {
			config_free(cfg);
			g_free(path);
			fail_msg("%s: loaded, want an error", rows[i].name);
		}
		assert_non_null(err);
		if (!g_str_has_prefix(err->message, path) || strstr(err->message, rows[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s: ...%s...\"", rows[i].name, err->message, path,
				 rows[i].want);
		g_error_free(err);
		g_free(path);
	}
}

/*
 * unreadable_value - a value GKeyFile cannot return (not UTF-8) is an
 * error naming the key, not the default.
 */
static void
unreadable_value(void **state)
{
	static const char *const texts[] = {
		LIST "subject_tag = [S\xe9" "c]\n",
		LIST "dmarc_mitigation = n\xf6ne\n",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(texts); i++) {
		char *path;
		GError *err = NULL;
		struct config *cfg = load(texts[i], &path, &err);

		assert_null(cfg);
		assert_non_null(strstr(err->message, i ? "dmarc_mitigation" : "subject_tag"));
		assert_non_null(strstr(err->message, "not valid UTF-8"));
		g_error_free(err);
		config_free(cfg);
		g_free(path);
	}
}

/* print_new - check-config prints the new keys' effective values */
static void
print_new(void **state)
{
	char *path, *text = NULL;
	size_t len = 0;
	GError *err = NULL;
	struct config *cfg = load(LIST "dmarc_mitigation = always_munge\n", &path, &err);
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(cfg);
	config_print(cfg, fp);
	fclose(fp);
	assert_non_null(strstr(text, "bounce_address = security-bounces@example.org\n"));
	assert_non_null(strstr(text, "dmarc_mitigation = always_munge\n"));
	assert_non_null(strstr(text, "bounce_threshold = 3\n"));
	free(text);
	config_free(cfg);
	g_free(path);
}

/* print_escaped - a backslash in a value is printed as the key file needs, and reads back the same */
static void
print_escaped(void **state)
{
	char *path, *text = NULL;
	size_t len = 0;
	GError *err = NULL;
	struct config *cfg = load(LIST "subject_tag = [x\\\\sy]\nname = a\\\\nb\n", &path, &err);
	struct config *again;
	const struct list_config *l;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(cfg);
	l = g_ptr_array_index(cfg->lists, 0);
	assert_string_equal(l->subject_tag, "[x\\sy]");
	assert_string_equal(l->name, "a\\nb");
	config_print(cfg, fp);
	fclose(fp);
	assert_non_null(strstr(text, "subject_tag = [x\\\\sy]\n"));
	assert_non_null(strstr(text, "name = a\\\\nb\n"));
	g_free(path);
	again = load(text, &path, &err);
	if (again == NULL)
		fail_msg("the printed configuration: %s", err->message);
	l = g_ptr_array_index(again->lists, 0);
	assert_string_equal(l->subject_tag, "[x\\sy]");
	assert_string_equal(l->name, "a\\nb");
	free(text);
	config_free(again);
	config_free(cfg);
	g_free(path);
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

/* open_fds - the descriptors this process has open */
static guint
open_fds(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	assert_non_null(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/*
 * database_located - vigil-filter's reader (locate_database()) finds the
 * database config_load() reads, or gives up (NULL) and leaves the
 * message to vigil-intake; it never names another one
 */
static void
database_located(void **state)
{
	static const struct {
		const char *text;
		bool same;	/* true: config_load()'s database; false: NULL */
	} cases[] = {
		{ LIST, true },				/* the default */
		{ "[vigil]\ndatabase = /srv/vigil/v.db\n" LIST, true },
		{ LIST "[vigil]\ndatabase=/srv/vigil/v.db\n", true },
		{ "  [vigil]\n\tdatabase \t=  /srv/v.db \t\n" LIST, true },
		{ "# vigil\n[vigil]\n# database = /not/this.db\n\n  # nor = this\n"
		  "database = /srv/v.db\n" LIST, true },
		{ "[vigil]\ndatabase = /srv/a.db\ndatabase = /srv/b.db\n" LIST, true },
		{ "[vigil]\ndatabase = /srv/a.db\n" LIST "[vigil]\ndatabase = /srv/b.db\n", true },
		{ "[vigil]\r\ndatabase = /srv/v.db\r\n" LIST, true },
		{ "[vigil]\ndatabase = /srv/with\\sblank/v.db\n" LIST, false },	/* an escape */
		{ "[vigil]\ndatabase = v.db\n" LIST, false },			/* relative */
		{ "[vigil]\ndatabase =\n" LIST, false },
		{ "database = /srv/v.db\n[vigil]\n" LIST, false },		/* outside a group */
		{ "[vigil]\ndatabase /srv/v.db\n" LIST, false },		/* not a key */
		{ "[vigil\ndatabase = /srv/v.db\n" LIST, false },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path, *found;
		GError *err = NULL;
		struct config *cfg = load(cases[i].text, &path, &err);
		guint fds = open_fds();

		found = locate_database(path);
		assert_int_equal(open_fds(), fds);	/* the file is closed, also when it gives up */
		if (cases[i].same) {
			assert_non_null(cfg);
			assert_non_null(found);
			assert_string_equal(found, cfg->database);
		} else {
			assert_null(found);
		}
		if (cfg)
			config_free(cfg);
		g_clear_error(&err);
		free(found);
		g_free(path);
	}
	assert_null(locate_database("/nonexistent/vigil.conf"));
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

/* invite_keys - invite_expiry and vouches_required: defaults, values, bounds that pass */
static void
invite_keys(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		gint64 expiry;
		gint64 vouches;
	} rows[] = {
		{ "defaults", "", 7 * 86400, 1 },
		{ "two days, three vouches", "invite_expiry = 2d\nvouches_required = 3\n", 2 * 86400, 3 },
		{ "the least: an hour, one vouch", "invite_expiry = 1h\nvouches_required = 1\n", 3600, 1 },
		{ "in seconds", "invite_expiry = 3600\n", 3600, 1 },
		{ "the most: a year, 100 vouches", "invite_expiry = 365d\nvouches_required = 100\n",
		  365 * 86400, 100 },
		{ "weeks", "invite_expiry = 2w\n", 14 * 86400, 1 },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *path, *text = g_strconcat(LIST, rows[i].text, NULL);
		GError *err = NULL;
		struct config *cfg = load(text, &path, &err);
		const struct list_config *l;

		if (cfg == NULL)
			fail_msg("%s: %s", rows[i].name, err->message);
		l = g_ptr_array_index(cfg->lists, 0);
		if (l->invite_expiry != rows[i].expiry || l->vouches_required != rows[i].vouches)
			fail_msg("%s: got invite_expiry %" G_GINT64_FORMAT " vouches_required %" G_GINT64_FORMAT
				 ", want %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, rows[i].name, l->invite_expiry,
				 l->vouches_required, rows[i].expiry, rows[i].vouches);
		config_free(cfg);
		g_free(text);
		g_free(path);
	}
}

/* auth_keys - require_authentication and trusted_authserv_id: defaults, values, printed */
static void
auth_keys(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		int require;
		const char *id;
	} rows[] = {
		{ "defaults: off, no id", "", AUTH_NONE, "" },
		{ "dkim", "require_authentication = dkim\ntrusted_authserv_id = mx.example.org\n", AUTH_DKIM,
		  "mx.example.org" },
		{ "dkim_or_spf", "require_authentication = dkim_or_spf\ntrusted_authserv_id = MX-1.example.org\n",
		  AUTH_DKIM_OR_SPF, "MX-1.example.org" },
		{ "an id without the requirement (copies still lose claims in its name)",
		  "trusted_authserv_id = mx.example.org\n", AUTH_NONE, "mx.example.org" },
		{ "none, said", "require_authentication = none\n", AUTH_NONE, "" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *path, *text = g_strconcat(LIST, rows[i].text, NULL), *out = NULL;
		size_t len = 0;
		GError *err = NULL;
		struct config *cfg = load(text, &path, &err);
		const struct list_config *l;
		char *want;
		FILE *fp;

		if (cfg == NULL)
			fail_msg("%s: %s", rows[i].name, err->message);
		l = g_ptr_array_index(cfg->lists, 0);
		if (l->require_authentication != rows[i].require || strcmp(l->trusted_authserv_id, rows[i].id) != 0)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", rows[i].name, l->require_authentication,
				 l->trusted_authserv_id, rows[i].require, rows[i].id);
		fp = open_memstream(&out, &len);
		config_print(cfg, fp);
		fclose(fp);
		want = g_strdup_printf("require_authentication = %s\ntrusted_authserv_id = %s\n",
				       rows[i].require == AUTH_NONE ? "none"
				       : rows[i].require == AUTH_DKIM ? "dkim" : "dkim_or_spf", rows[i].id);
		if (strstr(out, want) == NULL)
			fail_msg("%s: check-config printed\n%s\nwithout\n%s", rows[i].name, out, want);
		g_free(want);
		free(out);
		config_free(cfg);
		g_free(text);
		g_free(path);
	}
}

/* print_invite - check-config prints the invitation keys */
static void
print_invite(void **state)
{
	char *path, *text = NULL;
	size_t len = 0;
	GError *err = NULL;
	struct config *cfg = load(LIST "vouches_required = 2\n", &path, &err);
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(cfg);
	config_print(cfg, fp);
	fclose(fp);
	assert_non_null(strstr(text, "invite_expiry = 604800s\n"));
	assert_non_null(strstr(text, "vouches_required = 2\n"));
	free(text);
	config_free(cfg);
	g_free(path);
}

/* find_rcpt - a recipient names a list, its bounce address, either with an extension, or nothing */
static void
find_rcpt(void **state)
{
	static const struct {
		const char *name;
		const char *addr;
		const char *list;	/* NULL: none */
		bool bounce;
		const char *ext;	/* NULL: none */
	} rows[] = {
		{ "the list", "security@example.org", "security@example.org", false, NULL },
		{ "the bounce address", "security-bounces@example.org", "security@example.org", true, NULL },
		{ "the list with a join token", "security+join-abc@example.org", "security@example.org", false,
		  "join-abc" },
		{ "the list with another extension", "security+x@example.org", "security@example.org", false, "x" },
		{ "the bounce address with an extension", "security-bounces+m=example.net@example.org",
		  "security@example.org", true, "m=example.net" },
		{ "the second list", "abuse@example.net", "abuse@example.net", false, NULL },
		{ "the second list with an extension", "abuse+join-x@example.net", "abuse@example.net", false,
		  "join-x" },
		{ "an unknown address", "nobody@example.org", NULL, false, NULL },
		{ "an unknown address with an extension", "nobody+join-abc@example.org", NULL, false, NULL },
		{ "the list's local part on another domain", "security+join-abc@example.net", NULL, false, NULL },
		{ "the owner", "owner@example.org", NULL, false, NULL },
		{ "an empty extension", "security+@example.org", "security@example.org", false, "" },
	};
	char *path;
	GError *err = NULL;
	struct config *cfg = load(LIST "[list abuse@example.net]\nowner = o@example.org\n", &path, &err);
	size_t i;

	assert_non_null(cfg);
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		bool bounce = !rows[i].bounce;
		char *ext = (char *) "untouched";
		const char *untouched = ext;
		const struct list_config *l = config_find_rcpt(cfg, rows[i].addr, &bounce, &ext);
		const char *got = l ? l->address : NULL;

		if (ext == untouched)
			fail_msg("%s: *ext not set", rows[i].name);

		if ((got == NULL) != (rows[i].list == NULL) || (got && strcmp(got, rows[i].list) != 0))
			fail_msg("%s: got %s, want %s", rows[i].name, got ? got : "NULL",
				 rows[i].list ? rows[i].list : "NULL");
		if (l && bounce != rows[i].bounce)
			fail_msg("%s: bounce %d, want %d", rows[i].name, bounce, rows[i].bounce);
		if ((ext == NULL) != (rows[i].ext == NULL) || (ext && strcmp(ext, rows[i].ext) != 0))
			fail_msg("%s: ext %s, want %s", rows[i].name, ext ? ext : "NULL",
				 rows[i].ext ? rows[i].ext : "NULL");
		g_free(ext);
	}
	/* ext and bounce may be NULL */
	assert_ptr_equal(config_find_rcpt(cfg, "security+join-abc@example.org", NULL, NULL),
			 config_find_list(cfg, "security@example.org"));
	config_free(cfg);
	g_free(path);
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
		cmocka_unit_test(new_defaults),
		cmocka_unit_test(new_values),
		cmocka_unit_test(new_errors),
		cmocka_unit_test(unreadable_value),
		cmocka_unit_test(print_new),
		cmocka_unit_test(print_escaped),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(pick_list),
		cmocka_unit_test(units),
		cmocka_unit_test(invite_keys),
		cmocka_unit_test(print_invite),
		cmocka_unit_test(auth_keys),
		cmocka_unit_test(find_rcpt),
		cmocka_unit_test(long_list),
		cmocka_unit_test(database_located),
	};

	message_init();
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
