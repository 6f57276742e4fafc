/*
 * store.h - the sqlite database
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <glib.h>

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,		/* no such row */
	STORE_EXISTS,		/* the row is already there */
	STORE_RETRY,		/* may pass: busy, locked, read-only, disk full, I/O */
	STORE_ERROR,		/* will not pass by itself */
};

#define STORE_ERROR_DOMAIN store_error_quark()
GQuark store_error_quark(void);

struct store;

struct member {
	char   *address;
	char   *role;		/* member, moderator or owner */
	char   *name;		/* "" when none */
	gint64  added;
};

struct post_record {
	const char *list;
	const char *status;	/* held or relayed */
	const char *reason;	/* policy's reason */
	const char *report_id;	/* NULL for relayed member posts */
	const char *sender;	/* envelope sender, "" for <> */
	const char *from;	/* first From address or NULL */
	const char *subject;
	const char *message_id;
	gint64	received;
	gint64	size;
	const void *raw;	/* kept for held posts, NULL otherwise */
	size_t	rawlen;
};

struct held {
	gint64	id;
	char   *report_id;
	char   *reason;
	char   *sender;
	char   *from;
	char   *subject;
	gint64	received;
	gint64	size;
};

struct outbox_item {
	gint64	id;
	char   *kind;
	char   *sender;		/* "" for <> */
	GPtrArray *rcpts;	/* of char * */
	GBytes *data;		/* CRLF bytes, ready for SMTP */
	gint64	attempts;
};

enum store_rc store_open(const char *path, struct store **out, GError **err);
void store_close(struct store *st);
int store_version(void);
enum store_rc store_begin(struct store *st, GError **err);
enum store_rc store_commit(struct store *st, GError **err);
void store_rollback(struct store *st);

enum store_rc store_member_find(struct store *st, const char *list, const char *addr,
				struct member **out, GError **err);
enum store_rc store_member_add(struct store *st, const char *list, const char *addr,
			       const char *role, const char *name, gint64 now, GError **err);
enum store_rc store_member_remove(struct store *st, const char *list, const char *addr, GError **err);
enum store_rc store_member_list(struct store *st, const char *list, GPtrArray **out, GError **err);
void store_member_free(struct member *m);

enum store_rc store_autoreply_last(struct store *st, const char *list, const char *addr,
				   gint64 *when, GError **err);
enum store_rc store_autoreply_mark(struct store *st, const char *list, const char *addr,
				   gint64 now, GError **err);
enum store_rc store_report_next(struct store *st, const char *list, int year,
				char **report_id, GError **err);
enum store_rc store_post_add(struct store *st, const struct post_record *p, gint64 *id, GError **err);
enum store_rc store_held_list(struct store *st, const char *list, GPtrArray **out, GError **err);
void store_held_free(struct held *h);
enum store_rc store_audit_add(struct store *st, gint64 now, const char *list, const char *actor,
			      const char *action, gint64 post_id, const char *report_id,
			      const char *detail, GError **err);

enum store_rc store_outbox_add(struct store *st, gint64 post_id, const char *kind, const char *sender,
			       const GPtrArray *rcpts, const GByteArray *data, gint64 now,
			       gint64 *id, GError **err);
enum store_rc store_outbox_pending(struct store *st, gint64 now, GArray **ids, GError **err);
enum store_rc store_outbox_claim(struct store *st, gint64 id, gint64 now, gint64 lease,
				 struct outbox_item **out, GError **err);
enum store_rc store_outbox_done(struct store *st, gint64 id, GError **err);
enum store_rc store_outbox_retry(struct store *st, gint64 id, const GPtrArray *rcpts_left,
				 const char *error, gboolean release, GError **err);
enum store_rc store_outbox_count(struct store *st, gint64 *n, GError **err);
void store_outbox_item_free(struct outbox_item *it);

#endif
