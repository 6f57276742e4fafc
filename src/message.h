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
	char	*subject;		/* decoded UTF-8, or NULL */
	char	*message_id;		/* without <>, or NULL */
	GPtrArray *references;		/* ids of In-Reply-To and References, oldest first */
	char	*auto_submitted;	/* as in the header, or NULL */
	char	*precedence;
	bool	 has_list_id;		/* any List-Id header */
	char	*auto_response_suppress;	/* X-Auto-Response-Suppress */
	GPtrArray *loops;		/* canonical X-Loop values (char *) */
	size_t	 size;
};

void message_init(void);
struct post *message_parse(const char *raw, size_t len);
void message_free(struct post *post);
bool message_has_loop(const struct post *post, const char *list_address);
bool message_from_is(const struct post *post, const char *addr);

#endif
