/*
 * header.h - header fields of raw message bytes, found and changed in place
 */
#ifndef VIGIL_HEADER_H
#define VIGIL_HEADER_H

#include <stddef.h>
#include <glib.h>

/*
 * one change to a header block: index 0 inserts the field at the top;
 * index n replaces the n-th field of that name (value NULL deletes it)
 */
struct header_edit {
	char	*name;
	int	 index;
	char	*value;		/* without the space after the colon, unfolded */
};

/* one field of a header block, in order */
struct header_field {
	char	*name;		/* as written, blanks before the colon dropped */
	char	*value;		/* unfolded, as header_value() gives it */
};

char *header_value(const char *raw, size_t len, const char *name);
GPtrArray *header_fields(const char *raw, size_t len);
gboolean header_has(const char *raw, size_t len, const char *name);
size_t header_end(const char *raw, size_t len);
void header_edit_add(GPtrArray *edits, const char *name, int index, const char *value);
GPtrArray *header_edits_new(void);
GString *header_apply(const char *raw, size_t len, const GPtrArray *edits);
GString *header_apply_unfolded(const char *raw, size_t len, const GPtrArray *edits);

#endif
