/*
 * compose.h - outgoing messages
 */
#ifndef VIGIL_COMPOSE_H
#define VIGIL_COMPOSE_H

#include <stdbool.h>
#include <glib.h>

#include "config.h"
#include "message.h"

#define COMPOSE_ERROR compose_error_quark()
GQuark compose_error_quark(void);

/* a template's placeholders: NULL-terminated name, value pairs */
struct tvar {
	const char *name;
	const char *value;
};

/* a message from a template */
struct notice {
	const char *template;		/* file name in the template directory */
	const struct tvar *vars;
	const char *from;		/* From: address; the list's name is its phrase */
	const GPtrArray *to;		/* To: addresses (char *) */
	const char *reply_to;		/* Reply-To: address, or NULL */
	const char *in_reply_to;	/* a Message-ID without <>, or NULL */
	const char *references;		/* "<id> <id>", or NULL */
	const char *auto_submitted;	/* auto-replied or auto-generated */
	gint64	now;
};

/* what the members' copy of a post changes */
struct relay_copy {
	const struct list_config *list;
	const struct post *post;
	const GPtrArray *cc;		/* addresses to add to Cc, or NULL */
	bool	 munge_from;		/* DMARC: From the list, the author in Reply-To */
	const char *message_id;		/* add this Message-ID (the post has none), or NULL */
};

/* the members' copy as three pieces of LF text (compose_relay_parts()) */
struct compose_parts {
	GString *head;			/* the header block, edited */
	const char *body;		/* the rest of the post, from the empty line; borrowed */
	size_t	 bodylen;
	GString *tail;			/* what follows (the footer), or "" */
};

/* takes the CRLF bytes of compose_crlf_parts() as they come */
typedef void (*compose_sink)(const void *data, size_t len, gpointer ud);

GByteArray *compose_crlf(const void *raw, size_t len);
char *compose_message_id(const struct list_config *list);
GPtrArray *compose_relay_edits(const struct relay_copy *c, const void *raw, size_t len);
char *compose_footer(const struct list_config *list, const struct post *post, GError **err);
GByteArray *compose_relay(const struct relay_copy *c, const void *raw, size_t len,
			  const char *footer);
void compose_relay_parts(const struct relay_copy *c, const void *raw, size_t len,
			 const char *footer, struct compose_parts *p);
gsize compose_crlf_parts(const struct compose_parts *p, compose_sink sink, gpointer ud);
GByteArray *compose_parts_bytes(const struct compose_parts *p);
void compose_parts_clear(struct compose_parts *p);
gboolean compose_render(const char *path, const struct tvar *vars,
			char **subject, char **body, GError **err);
gboolean compose_check(const struct list_config *list, const char *template_dir, GError **err);
GByteArray *compose_notice(const struct list_config *list, const char *template_dir,
			   const struct notice *n, GError **err);
GByteArray *compose_autoreply(const struct list_config *list, const char *template_dir,
			      const struct post *orig, const char *to, const char *report_id,
			      gint64 now, GError **err);

#endif
