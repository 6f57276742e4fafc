/*
 * store.h - the sqlite database
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
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
	char   *unix_user;	/* "" when none */
	char   *added_by;	/* who added them directly, or "" */
	char   *invited_by;	/* who invited them, "" when they were added directly */
	char   *sponsors;	/* who vouched for them, "a, b", or "" */
};

/* an invitation; strings are "" where the column is NULL */
struct invite {
	gint64	id;
	char   *address;
	char   *role;		/* the role the invitee gets */
	char   *note;
	char   *invited_by;
	char   *status;		/* pending, sent, accepted, expired, cancelled */
	gint64	created;
	gint64	sent;		/* 0 while pending */
	gint64	expires;	/* 0 while pending */
	gint64	closed;		/* 0 while open */
	char   *closed_by;
	unsigned char token_hash[32];
	bool	has_hash;
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
	const char *thread;	/* the report whose thread it is in, or NULL */
};

/* a stored post; strings are "" where the column is NULL */
struct post_row {
	gint64	id;
	char   *status;		/* held, relayed, approved, rejected, discarded, expired */
	char   *report_id;
	char   *reason;
	char   *sender;		/* envelope sender, "" for <> */
	char   *from;
	char   *subject;
	char   *message_id;
	gint64	received;
	gint64	size;
	gint64	decided;	/* 0 while held */
	char   *decided_by;
	char   *comment;
	gint64	reminded;	/* last reminder to the moderators, 0 never */
	char   *thread;		/* the report whose thread it is in */
	GBytes *raw;		/* store_post_find() only; NULL if not kept */
};

/* a reporter of a report, or someone a moderator copied on it */
struct reporter {
	char   *address;
	char   *kind;		/* reporter or cc */
	gint64	added;
	char   *added_by;	/* the moderator who copied them, "" for a reporter */
};

/* an approved report: the post that opened it and its thread */
struct report_row {
	char   *report_id;
	char   *subject;
	char   *from;
	gint64	opened;		/* when it was approved */
	gint64	messages;	/* relayed messages in its thread, itself included */
	gint64	last;		/* when the latest arrived, or the approval if later */
};

/* one recipient of a bounce */
struct bounce_row {
	gint64	id;
	gint64	received;
	char   *sender;		/* envelope sender of the bounce, "" for <> */
	char   *address;	/* the recipient that bounced, "" when it could not be read */
	char   *action;		/* RFC 3464 Action, "" if none */
	char   *status;
	char   *diagnostic;
	int	failed;		/* a permanent failure */
	int	reported;	/* this one got the address reported to the owner */
};

struct audit_row {
	gint64	id;
	gint64	time;
	char   *actor;
	char   *login;		/* Unix user who ran the command, "" for the filter */
	char   *action;
	gint64	post_id;	/* 0 when none */
	char   *report_id;	/* "" when none */
	char   *detail;
	char   *address;	/* the member or invitee it is about, "" when none */
};

/* a post kept in the list's archive */
struct archive_row {
	gint64	post_id;
	char   *thread;		/* the report whose thread it is in, "" for none */
	char   *file;		/* its file in the Maildir, as libetpan names it (no flags) */
	gint64	size;		/* bytes */
	gint64	archived;	/* when it was written */
	gint64	received;	/* when the post arrived */
	char   *sender;		/* envelope sender, "" for <> */
	char   *from;
	char   *subject;
	char   *message_id;
};

/* an outbox row claimed for sending; its bytes are read with store_outbox_body() */
struct outbox_item {
	gint64	id;
	char   *kind;
	char   *sender;		/* "" for <> */
	GPtrArray *rcpts;	/* of char * */
	gint64	attempts;
};

/*
 * a blob written or read piece by piece: a raw message or the CRLF bytes
 * of an outbox row, in place, or whole in memory when small.  A
 * store_writer fills a new one with store_blob_write(), which keeps the
 * first failure for the caller.
 */
struct store_blob;
typedef void (*store_writer)(struct store_blob *b, gpointer ud);

enum store_rc store_open(const char *path, struct store **out, GError **err);
enum store_rc store_open_rw(const char *path, struct store **out, GError **err);
enum store_rc store_usable(const char *path, GError **err);
struct store *store_shared_new(const char *path);
void store_close(struct store *st);
void store_forget(struct store *st);
int store_version(void);
enum store_rc store_set_durable(struct store *st, gboolean full, GError **err);
enum store_rc store_begin(struct store *st, GError **err);
enum store_rc store_commit(struct store *st, GError **err);
void store_rollback(struct store *st);
struct store *store_read_begin(struct store *st, GError **err);
void store_read_end(struct store *st);

enum store_rc store_member_find(struct store *st, const char *list, const char *addr,
				struct member **out, GError **err);
enum store_rc store_member_by_unix_user(struct store *st, const char *list, const char *user,
					struct member **out, GError **err);
enum store_rc store_member_add(struct store *st, const char *list, const char *addr, const char *role,
			       const char *name, const char *unix_user, gint64 invite_id,
			       const char *added_by, gint64 now, GError **err);
enum store_rc store_member_count(struct store *st, const char *list, const char *role, gint64 *n,
				 GError **err);
enum store_rc store_member_remove(struct store *st, const char *list, const char *addr, GError **err);
enum store_rc store_member_list(struct store *st, const char *list, GPtrArray **out, GError **err);
enum store_rc store_member_addresses(struct store *st, const char *list, const char *const *roles,
				     GPtrArray **out, GError **err);
void store_member_free(struct member *m);

enum store_rc store_autoreply_last(struct store *st, const char *list, const char *addr,
				   gint64 *when, GError **err);
enum store_rc store_autoreply_mark(struct store *st, const char *list, const char *addr,
				   gint64 now, GError **err);
enum store_rc store_report_next(struct store *st, const char *list, int year,
				char **report_id, GError **err);
enum store_rc store_taken_add(struct store *st, const unsigned char *digest, size_t len, gint64 now,
			      GError **err);
enum store_rc store_taken_expire(struct store *st, gint64 before, gint64 *n, GError **err);
enum store_rc store_post_add(struct store *st, const struct post_record *p, gint64 *id, GError **err);
enum store_rc store_post_find(struct store *st, const char *list, gint64 id, const char *report_id,
			      struct post_row **out, GError **err);
enum store_rc store_post_decide(struct store *st, gint64 id, const char *status, gint64 now,
				const char *by, const char *comment, GError **err);
enum store_rc store_post_reminded(struct store *st, gint64 id, gint64 now, GError **err);
enum store_rc store_post_count_from(struct store *st, const char *list, const char *addr, gint64 *n,
				    GError **err);
enum store_rc store_held_page(struct store *st, const char *list, gint64 limit, GPtrArray **out,
			      gint64 *total, GError **err);
enum store_rc store_held_list(struct store *st, const char *list, GPtrArray **out, GError **err);
enum store_rc store_held_due(struct store *st, const char *list, gint64 received_by,
			     gint64 reminded_by, GPtrArray **out, GError **err);
void store_post_row_free(struct post_row *p);
enum store_rc store_reporter_add(struct store *st, const char *list, const char *report_id,
				 const char *address, const char *kind, const char *by, gint64 now,
				 GError **err);
enum store_rc store_reporter_remove(struct store *st, const char *list, const char *report_id,
				    const char *address, const char *kind, GError **err);
enum store_rc store_reporter_list(struct store *st, const char *list, const char *report_id,
				  GPtrArray **out, GError **err);
void store_reporter_free(struct reporter *p);
enum store_rc store_thread_of(struct store *st, const char *list, const char *message_id,
			      char **report_id, GError **err);
enum store_rc store_post_thread(struct store *st, gint64 id, const char *thread,
				const char *message_id, GError **err);
enum store_rc store_thread_posts(struct store *st, const char *list, const char *report_id,
				 GPtrArray **out, GError **err);
enum store_rc store_report_list(struct store *st, const char *list, GPtrArray **out, GError **err);
void store_report_row_free(struct report_row *p);
enum store_rc store_bounce_add(struct store *st, const char *list, const struct bounce_row *b,
			       const void *raw, size_t len, gint64 *id, GError **err);
enum store_rc store_bounce_failures(struct store *st, const char *list, const char *address,
				    gint64 since, gint64 *n, GError **err);
enum store_rc store_bounce_reported(struct store *st, gint64 id, GError **err);
enum store_rc store_bounce_list(struct store *st, const char *list, gint64 since,
				GPtrArray **out, GError **err);
void store_bounce_row_free(struct bounce_row *b);
void store_set_login(struct store *st, const char *login);
enum store_rc store_audit_add(struct store *st, gint64 now, const char *list, const char *actor,
			      const char *action, gint64 post_id, const char *report_id,
			      const char *detail, GError **err);
enum store_rc store_audit_list(struct store *st, const char *list, gint64 since,
			       GPtrArray **out, GError **err);
enum store_rc store_audit_member(struct store *st, gint64 now, const char *list, const char *actor,
				 const char *action, gint64 post_id, const char *report_id,
				 const char *address, const char *detail, GError **err);
enum store_rc store_audit_of(struct store *st, const char *list, const char *address,
			     GPtrArray **out, GError **err);
void store_audit_row_free(struct audit_row *a);

enum store_rc store_invite_open(struct store *st, const char *list, const char *addr,
				struct invite **out, GError **err);
enum store_rc store_invite_by_hash(struct store *st, const char *list, const unsigned char *hash,
				   size_t len, struct invite **out, GError **err);
enum store_rc store_invite_add(struct store *st, const char *list, const char *addr, const char *role,
			       const char *note, const char *by, gint64 now, gint64 *id, GError **err);
enum store_rc store_invite_sent(struct store *st, gint64 id, gint64 now, gint64 expires,
				const unsigned char *hash, size_t len, GError **err);
enum store_rc store_invite_close(struct store *st, gint64 id, const char *status, gint64 now,
				 const char *by, GError **err);
enum store_rc store_invite_of(struct store *st, const char *list, const char *addr,
			      GPtrArray **out, GError **err);
void store_invite_free(struct invite *v);
enum store_rc store_sponsor_add(struct store *st, const char *list, const char *addr,
				const char *sponsor, gint64 invite_id, gint64 now, GError **err);
enum store_rc store_sponsor_attach(struct store *st, const char *list, const char *addr,
				   gint64 invite_id, GError **err);
enum store_rc store_sponsor_list(struct store *st, const char *list, const char *addr,
				 gint64 invite_id, GPtrArray **out, GError **err);

enum store_rc store_outbox_add(struct store *st, gint64 post_id, const char *kind, const char *sender,
			       const GPtrArray *rcpts, const GByteArray *data, gint64 now,
			       gint64 *id, GError **err);
enum store_rc store_outbox_add_with(struct store *st, gint64 post_id, const char *kind,
				    const char *sender, const GPtrArray *rcpts, gint64 size,
				    store_writer fill, gpointer ud, gint64 now, gint64 *id, GError **err);
enum store_rc store_outbox_pending(struct store *st, gint64 now, GArray **ids, GError **err);
enum store_rc store_outbox_claim(struct store *st, gint64 id, gint64 now, gint64 lease,
				 const char *by, struct outbox_item **out, GError **err);
enum store_rc store_outbox_claim_due(struct store *st, gint64 now, gint64 lease, gint64 after,
				     int max, const char *by, GPtrArray **out, GError **err);
enum store_rc store_outbox_claimants(struct store *st, gint64 now, GPtrArray **out, GError **err);
enum store_rc store_outbox_release(struct store *st, const char *by, gint64 now, gint64 *n,
				   GError **err);
enum store_rc store_outbox_body(struct store *st, gint64 id, struct store_blob **out, GError **err);
enum store_rc store_outbox_done(struct store *st, const GArray *ids, GError **err);
enum store_rc store_outbox_done_by(struct store *st, gint64 id, const char *by, gint64 *n,
				   GError **err);
enum store_rc store_outbox_retry(struct store *st, gint64 id, const GPtrArray *rcpts_left,
				 const char *error, gboolean release, GError **err);
enum store_rc store_outbox_count(struct store *st, gint64 *n, GError **err);
void store_outbox_item_free(struct outbox_item *it);

enum store_rc store_archive_add(struct store *st, gint64 post_id, const char *list, const char *file,
				gint64 size, gint64 now, GError **err);
enum store_rc store_archive_list(struct store *st, const char *list, const char *report_id,
				 GPtrArray **out, GError **err);
void store_archive_row_free(struct archive_row *a);
void store_blob_write(struct store_blob *b, const void *data, size_t len);
gint64 store_blob_size(const struct store_blob *b);
enum store_rc store_blob_read(struct store_blob *b, void *buf, size_t n, gint64 off, GError **err);
void store_blob_close(struct store_blob *b);

#endif
