/*
 * NAME
 *	config - the configuration file
 * SYNOPSIS
 *	#include "config.h"
 *
 *	const char *config_default_path(void);
 *	struct config *config_load(const char *path, GError **err);
 *	void config_free(struct config *cfg);
 *	const struct list_config *config_find_list(cfg, addr);
 *	const struct list_config *config_pick_list(cfg, name, err);
 *	void config_print(const struct config *cfg, FILE *fp);
 * DESCRIPTION
 *	The file is a GLib key file: a [vigil] group and one
 *	[list ADDRESS] group per list.  Every key is a row of a typed table
 *	with its default and bounds; an unknown group or key, a missing
 *	required key or a bad value is an error that names the file, the
 *	group and the key.  Members are kept in the database, not here.
 *	require_authentication other than none without a
 *	trusted_authserv_id is an error that says what the id is.
 *
 *	config_default_path() is $VIGIL_CONFIG, else the compiled-in
 *	SYSCONFDIR/vigil/vigil.conf.
 *
 *	config_load() returns an immutable struct config, freed with
 *	config_free(); config_free(NULL) does nothing.
 *
 *	config_find_list() finds the list whose address is the canonical
 *	address addr, or NULL.  config_pick_list() resolves the -l option of
 *	the command line: NULL name means "the only list".
 *
 *	config_print() writes the effective values in key-file syntax,
 *	escaped as the key file needs, so that they read back the same.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dmarc.h"
#include "policy.h"

G_DEFINE_QUARK(vigil-config-error-quark, config_error)

enum opt_type {
	OPT_STRING,
	OPT_PATH,
	OPT_URL,
	OPT_ADDRESS,
	OPT_DURATION,
	OPT_SIZE,
	OPT_NUMBER,
	OPT_CHOICE,			/* one of choices, stored as its index (an int) */
	OPT_RESOLVER,
	OPT_GROUP,			/* the name of a group that exists */
	OPT_AUTHSERV,			/* an authserv-id: a host name, as verifiers write it */
};

struct opt {
	const char *key;
	enum opt_type type;
	const char *def;		/* NULL: required; "" for a path or address: none */
	gint64 min, max;		/* for durations, sizes and numbers */
	size_t off;			/* into struct config or struct list_config */
	const char *const *choices;	/* OPT_CHOICE: NULL-terminated, in enum order */
};

#define DAY (24 * 3600)

static const struct opt main_opts[] = {
	{ "database", OPT_PATH, CONFIG_DEFAULT_DATABASE, 0, 0, offsetof(struct config, database), NULL },
	{ "relay", OPT_URL, "smtp://127.0.0.1:10026", 0, 0, offsetof(struct config, relay), NULL },
	{ "template_dir", OPT_PATH, VIGIL_TEMPLATEDIR, 0, 0, offsetof(struct config, template_dir), NULL },
	{ "user", OPT_STRING, "vigil", 0, 0, offsetof(struct config, user), NULL },
	{ "resolver", OPT_RESOLVER, "", 0, 0, offsetof(struct config, resolver), NULL },
};

/* in the order of enum dmarc_mitigation */
static const char *const mitigations[] = { "none", "munge_from", "always_munge", NULL };

/* in the order of enum auth_require */
static const char *const requirements[] = { "none", "dkim", "dkim_or_spf", NULL };

static const struct opt list_opts[] = {
	{ "name", OPT_STRING, "", 0, 0, offsetof(struct list_config, name), NULL },
	{ "owner", OPT_ADDRESS, NULL, 0, 0, offsetof(struct list_config, owner), NULL },
	{ "autoreply_interval", OPT_DURATION, "1d", 0, 365 * DAY,
	  offsetof(struct list_config, autoreply_interval), NULL },
	{ "max_message_size", OPT_SIZE, "50M", 1024, G_GINT64_CONSTANT(1) << 31,
	  offsetof(struct list_config, max_message_size), NULL },
	{ "remind_after", OPT_DURATION, "24h", 0, 365 * DAY, offsetof(struct list_config, remind_after), NULL },
	{ "hold_expiry", OPT_DURATION, "14d", 0, 3650 * DAY, offsetof(struct list_config, hold_expiry), NULL },
	{ "bounce_address", OPT_ADDRESS, "", 0, 0, offsetof(struct list_config, bounce_address), NULL },
	{ "dmarc_mitigation", OPT_CHOICE, "munge_from", 0, 0,
	  offsetof(struct list_config, dmarc_mitigation), mitigations },
	{ "subject_tag", OPT_STRING, "", 0, 0, offsetof(struct list_config, subject_tag), NULL },
	{ "footer", OPT_PATH, "", 0, 0, offsetof(struct list_config, footer), NULL },
	{ "archive_url", OPT_STRING, "", 0, 0, offsetof(struct list_config, archive_url), NULL },
	{ "archive", OPT_PATH, "", 0, 0, offsetof(struct list_config, archive), NULL },
	{ "archive_group", OPT_GROUP, "", 0, 0, offsetof(struct list_config, archive_group), NULL },
	{ "bounce_threshold", OPT_NUMBER, "3", 0, 1000, offsetof(struct list_config, bounce_threshold), NULL },
	{ "bounce_window", OPT_DURATION, "30d", 1, 3650 * DAY, offsetof(struct list_config, bounce_window), NULL },
	{ "invite_expiry", OPT_DURATION, "7d", 3600, 365 * DAY, offsetof(struct list_config, invite_expiry), NULL },
	{ "vouches_required", OPT_NUMBER, "1", 1, 100, offsetof(struct list_config, vouches_required), NULL },
	{ "require_authentication", OPT_CHOICE, "none", 0, 0,
	  offsetof(struct list_config, require_authentication), requirements },
	{ "trusted_authserv_id", OPT_AUTHSERV, "", 0, 0, offsetof(struct list_config, trusted_authserv_id), NULL },
};

#define LIST_PREFIX "list "

/* config_default_path - where the configuration is read from */
const char *
config_default_path(void)
{
	const char *env = getenv(CONFIG_ENV);

	return env && *env ? env : CONFIG_DEFAULT_FILE;
}

/* parse_number_suffix - N followed by one optional unit letter */
static gboolean
parse_number_suffix(const char *s, const char *units, const gint64 *mult, gint64 *out)
{
	char *end;
	guint64 n;
	const char *u;

	if (s == NULL || !g_ascii_isdigit(*s))
		return FALSE;
	n = g_ascii_strtoull(s, &end, 10);
	if (n > G_MAXINT64 / 2)
		return FALSE;
	if (*end == '\0') {
		*out = (gint64) n;
		return TRUE;
	}
	if (end[1] != '\0' || (u = strchr(units, g_ascii_tolower(*end))) == NULL)
		return FALSE;
	if (n > (guint64) (G_MAXINT64 / mult[u - units]))
		return FALSE;
	*out = (gint64) n * mult[u - units];
	return TRUE;
}

/* config_parse_duration - 45, 45s, 30m, 12h, 1d, 2w into seconds */
gboolean
config_parse_duration(const char *s, gint64 *out)
{
	static const gint64 mult[] = { 1, 60, 3600, DAY, 7 * DAY };

	return parse_number_suffix(s, "smhdw", mult, out);
}

/* config_format_duration - seconds in the largest unit that divides them: 14d, 36h, 90s */
char *
config_format_duration(gint64 secs)
{
	static const struct {
		gint64 mult;
		char unit;
	} units[] = { { DAY, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	size_t i;

	for (i = 0; secs > 0 && i < G_N_ELEMENTS(units); i++)
		if (secs % units[i].mult == 0)
			return g_strdup_printf("%" G_GINT64_FORMAT "%c", secs / units[i].mult, units[i].unit);
	return g_strdup_printf("%" G_GINT64_FORMAT "s", secs);
}

/* config_parse_size - 2048, 512K, 50M, 1G into bytes */
gboolean
config_parse_size(const char *s, gint64 *out)
{
	static const gint64 mult[] = { 1, 1024, 1024 * 1024, 1024 * 1024 * 1024 };

	return parse_number_suffix(s, "bkmg", mult, out);
}

/* set_error - an error naming file, group and key */
static void
set_error(GError **err, const char *path, const char *group, const char *key,
	  const char *value, const char *what)
{
	const char *hint = value && strchr(value, '#')
		? " (comments must be on a line of their own)" : "";

	if (value)
		g_set_error(err, CONFIG_ERROR, 1, "%s: [%s] %s: %s: \"%s\"%s",
			    path, group, key, what, value, hint);
	else
		g_set_error(err, CONFIG_ERROR, 1, "%s: [%s] %s: %s", path, group, key, what);
}

/* one_line - text without control characters (so without line ends) */
static gboolean
one_line(const char *s)
{
	const char *p;

	if (!g_utf8_validate(s, -1, NULL))
		return FALSE;
	for (p = s; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);

		if (u < 0x20 || (u >= 0x7f && u <= 0x9f))
			return FALSE;
	}
	return TRUE;
}

/*
 * config_group_gid - the gid of the group name of this host; FALSE if
 * there is none (reentrant: the milter has threads)
 */
gboolean
config_group_gid(const char *name, gid_t *gid)
{
	struct group gr, *found = NULL;
	size_t size = 16384;
	char *buf = g_malloc(size);
	int rc;

	/* a group with many members needs a larger buffer */
	while ((rc = getgrnam_r(name, &gr, buf, size, &found)) == ERANGE && size < (1 << 24))
		buf = g_realloc(buf, size *= 4);
	if (rc == 0 && found)
		*gid = gr.gr_gid;
	g_free(buf);
	return rc == 0 && found != NULL;
}

/* authserv_ok - letters, digits, '.', '-' and '_', as a host name is written */
static gboolean
authserv_ok(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
			return FALSE;
	return p > s && p - s <= 255;
}

/* set_value - check one value against its table row and store it */
static gboolean
set_value(void *base, const struct opt *o, const char *value,
	  const char *path, const char *group, GError **err)
{
	char *p = (char *) base + o->off;
	gint64 n;
	gid_t gid;
	char *canon;
	char *what;
	const char *why;

	if (*value == '\0' && o->def && *o->def == '\0' && o->type != OPT_NUMBER) {
		*(char **) p = g_strdup("");	/* an optional string, path or address: none */
		return TRUE;
	}
	switch (o->type) {
	case OPT_STRING:
		if (!one_line(value)) {
			set_error(err, path, group, o->key, value, "must be one line of text without control characters");
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_RESOLVER:
		if ((why = dmarc_resolver_check(value)) != NULL) {
			set_error(err, path, group, o->key, value, why);
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_AUTHSERV:
		if (!authserv_ok(value)) {
			set_error(err, path, group, o->key, value, "must be the authserv-id of the verifier"
				  " (a host name: letters, digits, '.', '-', '_'), as its Authentication-Results"
				  " fields begin");
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_GROUP:
		if (!config_group_gid(value, &gid)) {
			set_error(err, path, group, o->key, value, "no such group on this host");
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_CHOICE:
		for (n = 0; o->choices[n]; n++)
			if (strcmp(o->choices[n], value) == 0) {
				*(int *) p = (int) n;
				return TRUE;
			}
		canon = g_strjoinv(", ", (char **) o->choices);
		what = g_strconcat("must be one of: ", canon, NULL);
		set_error(err, path, group, o->key, value, what);
		g_free(what);
		g_free(canon);
		return FALSE;
	case OPT_PATH:
		if (value[0] != '/') {
			set_error(err, path, group, o->key, value, "must be an absolute path");
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_URL:
		if (!g_str_has_prefix(value, "smtp://") && !g_str_has_prefix(value, "smtps://")) {
			set_error(err, path, group, o->key, value, "must be an smtp:// or smtps:// URL");
			return FALSE;
		}
		*(char **) p = g_strdup(value);
		return TRUE;
	case OPT_ADDRESS:
		if ((canon = addr_check_strict(value, &why)) == NULL) {
			set_error(err, path, group, o->key, value, why);
			return FALSE;
		}
		*(char **) p = canon;
		return TRUE;
	case OPT_DURATION:
		if (!config_parse_duration(value, &n)) {
			set_error(err, path, group, o->key, value,
				  "bad duration (use seconds or a unit: 30m, 12h, 1d, 2w)");
			return FALSE;
		}
		break;
	case OPT_SIZE:
		if (!config_parse_size(value, &n)) {
			set_error(err, path, group, o->key, value,
				  "bad size (use bytes or a unit: 512K, 50M, 1G)");
			return FALSE;
		}
		break;
	case OPT_NUMBER:
		if (!parse_number_suffix(value, "", NULL, &n)) {
			set_error(err, path, group, o->key, value, "must be a whole number");
			return FALSE;
		}
		break;
	default:
		g_error("config: bad option type %d", o->type);
	}
	if (n < o->min || n > o->max) {
		what = g_strdup_printf("out of range (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")",
					     o->min, o->max);
		set_error(err, path, group, o->key, value, what);
		g_free(what);
		return FALSE;
	}
	*(gint64 *) p = n;
	return TRUE;
}

/* load_group - apply a table to one group: known keys, defaults, required */
static gboolean
load_group(GKeyFile *kf, const char *path, const char *group, void *base,
	   const struct opt *opts, size_t nopts, GError **err)
{
	char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
	gboolean ok = TRUE;
	size_t i, k;

	for (k = 0; ok && keys && keys[k]; k++) {
		for (i = 0; i < nopts; i++)
			if (strcmp(keys[k], opts[i].key) == 0)
				break;
		if (i == nopts) {
			set_error(err, path, group, keys[k], NULL, "unknown key");
			ok = FALSE;
		}
	}
	for (i = 0; ok && i < nopts; i++) {
		char *v = g_key_file_get_string(kf, group, opts[i].key, NULL);

		if (v == NULL && g_key_file_has_key(kf, group, opts[i].key, NULL)) {
			set_error(err, path, group, opts[i].key, NULL, "the value is not valid UTF-8");
			ok = FALSE;
		} else if (v == NULL && opts[i].def == NULL) {
			set_error(err, path, group, opts[i].key, NULL, "required key is missing");
			ok = FALSE;
		} else {
			ok = set_value(base, &opts[i], v ? g_strstrip(v) : opts[i].def, path, group, err);
		}
		g_free(v);
	}
	g_strfreev(keys);
	return ok;
}

/* list_free - free one list_config */
static void
list_free(gpointer p)
{
	struct list_config *l = p;

	g_free(l->address);
	g_free(l->name);
	g_free(l->owner);
	g_free(l->bounce_address);
	g_free(l->subject_tag);
	g_free(l->footer);
	g_free(l->archive_url);
	g_free(l->archive);
	g_free(l->archive_group);
	g_free(l->trusted_authserv_id);
	g_free(l);
}

/* bounces_of - LIST-bounces@domain for list@domain */
static char *
bounces_of(const char *list)
{
	const char *at = strrchr(list, '@');

	return g_strdup_printf("%.*s-bounces%s", (int) (at - list), list, at);
}

/*
 * default_bounces_valid - LIST-bounces@domain must be an address too: with a
 * local part of 57 octets or more it is not (at most 64), and a list with
 * such a name needs bounce_address set
 */
static gboolean
default_bounces_valid(const struct list_config *l, const char *path, const char *group, GError **err)
{
	const char *why = NULL;
	char *canon = addr_check_strict(l->bounce_address, &why);

	g_free(canon);
	if (canon == NULL)
		g_set_error(err, CONFIG_ERROR, 1, "%s: [%s] bounce_address: the default, %s, is not an"
			    " address (%s): set one", path, group, l->bounce_address, why);
	return canon != NULL;
}

/* is_owner - addr owns one of the lists */
static gboolean
is_owner(const struct config *cfg, const char *addr)
{
	guint i;

	for (i = 0; i < cfg->lists->len; i++)
		if (strcmp(((const struct list_config *) g_ptr_array_index(cfg->lists, i))->owner, addr) == 0)
			return TRUE;
	return FALSE;
}

/* bounces_apart - no bounce address is also a list's, an owner's or another list's bounces */
static gboolean
bounces_apart(const struct config *cfg, GError **err)
{
	guint i;

	for (i = 0; i < cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(cfg->lists, i);

		if (config_find_list(cfg, l->bounce_address) || is_owner(cfg, l->bounce_address)
		    || config_find_bounce(cfg, l->bounce_address) != l) {
			g_set_error(err, CONFIG_ERROR, 1, "%s: [list %s] bounce_address: %s is also a list's"
				    " address, an owner or another list's bounce address",
				    cfg->path, l->address, l->bounce_address);
			return FALSE;
		}
	}
	return TRUE;
}

/* same_dir - a and b name the same directory, trailing slashes aside */
static gboolean
same_dir(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	while (na > 1 && a[na - 1] == '/')
		na--;
	while (nb > 1 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncmp(a, b, na) == 0;
}

/* archives_apart - no two lists keep their archive in the same Maildir */
static gboolean
archives_apart(const struct config *cfg, GError **err)
{
	guint i, k;

	for (i = 0; i < cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(cfg->lists, i);

		for (k = 0; *l->archive && k < i; k++) {
			const struct list_config *o = g_ptr_array_index(cfg->lists, k);

			if (*o->archive && same_dir(l->archive, o->archive)) {
				g_set_error(err, CONFIG_ERROR, 1, "%s: [list %s] archive: %s is also the"
					    " archive of %s", cfg->path, l->address, l->archive, o->address);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* config_load - read and check the configuration file */
struct config *
config_load(const char *path, GError **err)
{
	GKeyFile *kf = g_key_file_new();
	struct config *cfg = g_new0(struct config, 1);
	GError *kerr = NULL;
	char **groups = NULL;
	gboolean ok;
	size_t g;

	cfg->path = g_strdup(path);
	cfg->lists = g_ptr_array_new_with_free_func(list_free);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &kerr)) {
		g_set_error(err, CONFIG_ERROR, 1, "%s: %s", path, kerr->message);
		g_error_free(kerr);
		goto fail;
	}
	groups = g_key_file_get_groups(kf, NULL);
	ok = load_group(kf, path, "vigil", cfg, main_opts, G_N_ELEMENTS(main_opts), err);
	for (g = 0; ok && groups[g]; g++) {
		struct list_config *l;
		const char *why;
		char *canon;

		if (strcmp(groups[g], "vigil") == 0)
			continue;
		if (!g_str_has_prefix(groups[g], LIST_PREFIX)) {
			g_set_error(err, CONFIG_ERROR, 1,
				    "%s: [%s]: unknown group (expected [vigil] or [list ADDRESS])",
				    path, groups[g]);
			goto fail;
		}
		canon = addr_check_strict(g_strstrip(groups[g] + strlen(LIST_PREFIX)), &why);
		if (canon == NULL) {
			g_set_error(err, CONFIG_ERROR, 1, "%s: [%s]: bad list address: %s",
				    path, groups[g], why);
			goto fail;
		}
		if (config_find_list(cfg, canon) != NULL) {
			g_set_error(err, CONFIG_ERROR, 1, "%s: [%s]: list defined twice", path, groups[g]);
			g_free(canon);
			goto fail;
		}
		l = g_new0(struct list_config, 1);
		l->address = canon;
		g_ptr_array_add(cfg->lists, l);
		ok = load_group(kf, path, groups[g], l, list_opts, G_N_ELEMENTS(list_opts), err);
		if (ok && *l->name == '\0') {
			g_free(l->name);
			l->name = g_strdup(l->address);
		}
		if (ok && *l->bounce_address == '\0') {
			g_free(l->bounce_address);
			l->bounce_address = bounces_of(l->address);
			ok = default_bounces_valid(l, path, groups[g], err);
		}
		if (ok && l->require_authentication != AUTH_NONE && *l->trusted_authserv_id == '\0') {
			g_set_error(err, CONFIG_ERROR, 1, "%s: [" LIST_PREFIX "%s] trusted_authserv_id: required with"
				    " require_authentication = %s: the authserv-id your MTA's verifier (OpenDKIM,"
				    " OpenDMARC, an SPF policy daemon) writes at the start of its"
				    " Authentication-Results fields", path, l->address,
				    requirements[l->require_authentication]);
			ok = FALSE;
		}
	}
	if (!ok || !bounces_apart(cfg, err) || !archives_apart(cfg, err))
		goto fail;
	if (cfg->lists->len == 0) {
		g_set_error(err, CONFIG_ERROR, 1, "%s: no [list ADDRESS] group: configure at least one list",
			    path);
		goto fail;
	}
	g_strfreev(groups);
	g_key_file_free(kf);
	return cfg;

fail:
	g_strfreev(groups);
	g_key_file_free(kf);
	config_free(cfg);
	return NULL;
}

/* config_free - release a configuration */
void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->path);
	g_free(cfg->database);
	g_free(cfg->relay);
	g_free(cfg->template_dir);
	g_free(cfg->user);
	g_free(cfg->resolver);
	g_ptr_array_free(cfg->lists, TRUE);
	g_free(cfg);
}

/*
 * config_find_rcpt - the list whose address or bounce address a canonical
 * recipient is, also with an address extension (local+ext@domain: Postfix
 * recipient_delimiter = +).  *bounce says which; *ext, when not NULL, is
 * set to a copy of the extension, or NULL when there is none.
 */
const struct list_config *
config_find_rcpt(const struct config *cfg, const char *addr, bool *bounce, char **ext)
{
	const struct list_config *l = config_find_list(cfg, addr);
	const struct list_config *b = l ? NULL : config_find_bounce(cfg, addr);
	char *base = NULL, *x = NULL;

	if (l == NULL && b == NULL && addr_split_extension(addr, &base, &x)) {
		l = config_find_list(cfg, base);
		b = l ? NULL : config_find_bounce(cfg, base);
		g_free(base);
	}
	if (bounce)
		*bounce = b != NULL;
	if (ext && (l || b))
		*ext = x, x = NULL;
	else if (ext)
		*ext = NULL;
	g_free(x);
	return l ? l : b;
}

/* config_find_list - the list with this canonical address */
const struct list_config *
config_find_list(const struct config *cfg, const char *addr)
{
	guint i;

	for (i = 0; addr && i < cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(cfg->lists, i);

		if (strcmp(l->address, addr) == 0)
			return l;
	}
	return NULL;
}

/* config_find_bounce - the list whose bounce address is this canonical address */
const struct list_config *
config_find_bounce(const struct config *cfg, const char *addr)
{
	guint i;

	for (i = 0; addr && i < cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(cfg->lists, i);

		if (strcmp(l->bounce_address, addr) == 0)
			return l;
	}
	return NULL;
}

/* config_pick_list - the list named on the command line, or the only one */
const struct list_config *
config_pick_list(const struct config *cfg, const char *name, GError **err)
{
	const struct list_config *l;
	char *canon;

	if (name == NULL) {
		if (cfg->lists->len == 1)
			return g_ptr_array_index(cfg->lists, 0);
		g_set_error(err, CONFIG_ERROR, 1,
			    "%s: %u lists are configured: choose one with -l ADDRESS",
			    cfg->path, cfg->lists->len);
		return NULL;
	}
	canon = addr_normalize(name);
	l = config_find_list(cfg, canon);
	g_free(canon);
	if (l == NULL)
		g_set_error(err, CONFIG_ERROR, 1, "%s: no list %s is configured", cfg->path, name);
	return l;
}

/* print_string - a value as the key file writes it: backslash and controls escaped */
static void
print_string(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

/* print_group - one group's effective values */
static void
print_group(FILE *fp, const char *group, const void *base, const struct opt *opts, size_t n)
{
	size_t i;

	fprintf(fp, "[%s]\n", group);
	for (i = 0; i < n; i++) {
		const char *p = (const char *) base + opts[i].off;

		if (opts[i].type == OPT_CHOICE)
			fprintf(fp, "%s = %s\n", opts[i].key, opts[i].choices[*(const int *) p]);
		else if (opts[i].type == OPT_NUMBER)
			fprintf(fp, "%s = %" G_GINT64_FORMAT "\n", opts[i].key, *(const gint64 *) p);
		else if (opts[i].type == OPT_DURATION || opts[i].type == OPT_SIZE)
			fprintf(fp, "%s = %" G_GINT64_FORMAT "%s\n", opts[i].key, *(const gint64 *) p,
				opts[i].type == OPT_DURATION ? "s" : "");
		else {
			fprintf(fp, "%s = ", opts[i].key);
			print_string(fp, *(char *const *) p);
			fputc('\n', fp);
		}
	}
}

/* config_print - the effective configuration, in key-file syntax */
void
config_print(const struct config *cfg, FILE *fp)
{
	guint i;

	fprintf(fp, "# %s\n", cfg->path);
	print_group(fp, "vigil", cfg, main_opts, G_N_ELEMENTS(main_opts));
	for (i = 0; i < cfg->lists->len; i++) {
		const struct list_config *l = g_ptr_array_index(cfg->lists, i);
		char *group = g_strconcat(LIST_PREFIX, l->address, NULL);

		fputc('\n', fp);
		print_group(fp, group, l, list_opts, G_N_ELEMENTS(list_opts));
		g_free(group);
	}
}
