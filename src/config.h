/*
 * config.h - the configuration file
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <glib.h>

struct list_config {
	char   *address;		/* canonical list address */
	char   *name;			/* display name */
	char   *owner;			/* canonical owner address */
	gint64  autoreply_interval;	/* seconds */
	gint64  max_message_size;	/* bytes */
	gint64  remind_after;		/* seconds a post waits before a reminder, 0 never */
	gint64  hold_expiry;		/* seconds a post waits before it expires, 0 never */
	char   *bounce_address;		/* envelope sender of relayed copies: LIST-bounces@domain */
	int	dmarc_mitigation;	/* enum dmarc_mitigation */
	char   *subject_tag;		/* "" none, else put before the Subject of relayed copies */
	char   *footer;			/* "" none, else a file appended to plain-text relayed copies */
	char   *archive_url;		/* "" none, else the List-Archive of relayed copies */
	char   *archive;		/* "" none, else the Maildir every relayed copy is kept in */
	char   *archive_group;		/* "" the user's own, else the group of the archive's files */
	gint64  bounce_threshold;	/* failed deliveries that get a member reported, 0 never */
	gint64  bounce_window;		/* ... within this many seconds */
	gint64  invite_expiry;		/* seconds an invitation may be accepted */
	gint64  vouches_required;	/* sponsors an invitation needs before it is sent */
	int	require_authentication;	/* enum auth_require */
	char   *trusted_authserv_id;	/* "" none, else the authserv-id of our MTA's verifier */
};

struct config {
	char   *path;			/* the file this came from */
	char   *database;
	char   *relay;			/* smtp:// or smtps:// URL */
	char   *template_dir;
	char   *user;			/* vigil-milter and vigild run as this user when started as root */
	char   *resolver;		/* "" the system's, else HOST[:PORT] of the one name server to ask */
	GPtrArray *lists;		/* of struct list_config * */
};

/* where the file and the database are unless said otherwise (vigil-filter reads these too) */
#define CONFIG_ENV		"VIGIL_CONFIG"
#define CONFIG_DEFAULT_FILE	VIGIL_SYSCONFDIR "/vigil/vigil.conf"
#define CONFIG_DEFAULT_DATABASE	VIGIL_STATEDIR "/vigil.db"

#define CONFIG_ERROR config_error_quark()
GQuark config_error_quark(void);

const char *config_default_path(void);
struct config *config_load(const char *path, GError **err);
void config_free(struct config *cfg);
const struct list_config *config_find_list(const struct config *cfg, const char *addr);
const struct list_config *config_find_bounce(const struct config *cfg, const char *addr);
const struct list_config *config_find_rcpt(const struct config *cfg, const char *addr, bool *bounce,
					   char **ext);
const struct list_config *config_pick_list(const struct config *cfg, const char *name, GError **err);
void config_print(const struct config *cfg, FILE *fp);
gboolean config_parse_duration(const char *s, gint64 *out);
char *config_format_duration(gint64 secs);
gboolean config_parse_size(const char *s, gint64 *out);
gboolean config_group_gid(const char *name, gid_t *gid);

#endif
