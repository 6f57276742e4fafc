/*
 * message.h - the facts of an incoming message
 */
#ifndef VIGIL_MESSAGE_H
#define VIGIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct post {
	bool	 parsed;		/* GMime found a header block */
	GPtrArray *from;		/* canonical From addresses (char *) */
	char	*from_name;		/* display name of the first From, UTF-8, or NULL */
	GPtrArray *to_cc;		/* canonical To and Cc addresses (char *) */
	char	*subject;		/* decoded UTF-8, or NULL */
	char	*message_id;		/* without <>, or NULL */
	GPtrArray *references;		/* ids of References and In-Reply-To, oldest first, once each */
	char	*in_reply_to;		/* the first id of In-Reply-To: the direct parent, or NULL */
	char	*auto_submitted;	/* as in the header, or NULL */
	char	*precedence;
	bool	 has_list_id;		/* any List-Id header */
	char	*auto_response_suppress;	/* X-Auto-Response-Suppress */
	GPtrArray *loops;		/* canonical X-Loop values (char *) */
	bool	 plain_text;		/* the body is one text/plain part, 7bit or 8bit */
	bool	 utf8;			/* ... and its charset is UTF-8 */
	bool	 body_8bit;		/* ... and its Content-Transfer-Encoding is 8bit */
	size_t	 size;
};

/* one MIME leaf of a message, as a moderator sees it */
struct readable_part {
	char	*type;			/* text/plain, application/pdf, ... */
	char	*name;			/* file name (a message's subject), "" if none */
	gint64	 size;			/* decoded bytes, -1 unknown */
	char	*text;			/* UTF-8 text of a text part, NULL for attachments */
};

struct readable {
	bool	 parsed;
	GPtrArray *headers;		/* name, value, name, value, ... (char *) */
	GPtrArray *parts;		/* of struct readable_part * */
};

void message_init(void);
struct post *message_parse(const char *raw, size_t len);
void message_free(struct post *post);
struct readable *message_readable(const char *raw, size_t len);
void message_readable_free(struct readable *r);
bool message_has_loop(const struct post *post, const char *list_address);
bool message_from_is(const struct post *post, const char *addr);

#endif
