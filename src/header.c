/*
 * NAME
 *	header - header fields of raw message bytes, found and changed in place
 * SYNOPSIS
 *	#include "header.h"
 *
 *	char *header_value(const char *raw, size_t len, const char *name);
 *	GPtrArray *header_fields(const char *raw, size_t len);
 *	gboolean header_has(const char *raw, size_t len, const char *name);
 *	size_t header_end(const char *raw, size_t len);
 *	GPtrArray *header_edits_new(void);
 *	void header_edit_add(GPtrArray *edits, const char *name, int index, const char *value);
 *	GString *header_apply(const char *raw, size_t len, const GPtrArray *edits);
 *	GString *header_apply_unfolded(const char *raw, size_t len, const GPtrArray *edits);
 * DESCRIPTION
 *	The members' copy of a post is the author's bytes with a few header
 *	fields added or changed: everything else must stay byte for byte,
 *	or DKIM signatures break.  GMime would re-serialise the message, so
 *	these functions work on the raw bytes instead: a field is a line
 *	that does not start with a blank, with the lines that do following
 *	it (RFC 5322 folding); the block ends at the first empty line.  LF
 *	and CRLF line ends are both read.
 *
 *	header_value() is the first field called name (case does not
 *	matter), unfolded, without the blanks after the colon, or NULL.
 *	header_end() is the offset of the empty line that ends the block
 *	(len when there is none).  header_fields() is every field of the
 *	block in order, as struct header_field (name, unfolded value); a
 *	line without a colon names nothing and is left out.  The array
 *	owns its fields: g_ptr_array_free(fields, TRUE) frees them all.
 *
 *	header_apply() writes the fields of edits whose index is 0 on top,
 *	in order, then the original block with the n-th field of a name
 *	replaced or deleted as an edit says, then the rest of the message.
 *	The fields it writes are folded at blanks to about 78 characters
 *	and end in LF; the rest keeps its line ends.  A front-end whose MTA changes the
 *	message itself (a milter) translates the same edits instead;
 *	header_apply_unfolded() is what its MTA then makes of the message
 *	(each field it writes on one line), for the list's archive.
 */
#include "header.h"

#include <string.h>
#include <strings.h>

/* a field: [start, end) with its line ends; the name is [start, colon) */
struct field {
	size_t	start;
	size_t	colon;		/* end when the line has no colon: then it has no name */
	size_t	end;
};

/* line_end - the offset just past the line that starts at p */
static size_t
line_end(const char *raw, size_t len, size_t p)
{
	const char *nl = memchr(raw + p, '\n', len - p);

	return nl ? (size_t) (nl - raw) + 1 : len;
}

/* next_field - the field at *pos; false at the empty line or the end */
static gboolean
next_field(const char *raw, size_t len, size_t *pos, struct field *f)
{
	size_t p = *pos;
	const char *c;

	if (p >= len || raw[p] == '\n' || (raw[p] == '\r' && p + 1 < len && raw[p + 1] == '\n'))
		return FALSE;
	f->start = p;
	p = line_end(raw, len, p);
	c = memchr(raw + f->start, ':', p - f->start);
	while (p < len && (raw[p] == ' ' || raw[p] == '\t'))
		p = line_end(raw, len, p);
	f->colon = c ? (size_t) (c - raw) : p;
	f->end = p;
	*pos = p;
	return TRUE;
}

/* named - the field's name is name */
static gboolean
named(const char *raw, const struct field *f, const char *name)
{
	size_t n = f->colon - f->start;

	if (f->colon == f->end)
		return FALSE;		/* a line without a colon names nothing */
	while (n > 0 && (raw[f->start + n - 1] == ' ' || raw[f->start + n - 1] == '\t'))
		n--;
	return n == strlen(name) && strncasecmp(raw + f->start, name, n) == 0;
}

/* header_end - where the header block ends */
size_t
header_end(const char *raw, size_t len)
{
	struct field f;
	size_t pos = 0;

	while (next_field(raw, len, &pos, &f))
		;
	return pos;
}

/* unfold - a field's value: line ends dropped, blanks after the colon too */
static char *
unfold(const char *raw, const struct field *f)
{
	GString *v = g_string_sized_new(f->end - f->colon);
	size_t i = f->colon < f->end ? f->colon + 1 : f->end;

	while (i < f->end && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n'))
		i++;
	for (; i < f->end; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			g_string_append_c(v, raw[i]);
	while (v->len > 0 && (v->str[v->len - 1] == ' ' || v->str[v->len - 1] == '\t'))
		g_string_truncate(v, v->len - 1);
	return g_string_free(v, FALSE);
}

/* header_value - the first field called name, unfolded, or NULL */
char *
header_value(const char *raw, size_t len, const char *name)
{
	struct field f;
	size_t pos = 0;

	while (next_field(raw, len, &pos, &f))
		if (named(raw, &f, name))
			return unfold(raw, &f);
	return NULL;
}

/* field_free - free one struct header_field */
static void
field_free(gpointer p)
{
	struct header_field *hf = p;

	g_free(hf->name);
	g_free(hf->value);
	g_free(hf);
}

/* header_fields - every field of the block, in order */
GPtrArray *
header_fields(const char *raw, size_t len)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(field_free);
	struct field f;
	size_t pos = 0;

	while (next_field(raw, len, &pos, &f)) {
		struct header_field *hf;
		size_t n = f.colon - f.start;

		if (f.colon == f.end)
			continue;	/* no colon: no name */
		while (n > 0 && (raw[f.start + n - 1] == ' ' || raw[f.start + n - 1] == '\t'))
			n--;
		hf = g_new(struct header_field, 1);
		hf->name = g_strndup(raw + f.start, n);
		hf->value = unfold(raw, &f);
		g_ptr_array_add(out, hf);
	}
	return out;
}

/* header_has - there is a field called name */
gboolean
header_has(const char *raw, size_t len, const char *name)
{
	char *v = header_value(raw, len, name);

	g_free(v);
	return v != NULL;
}

/* edit_free - free one edit */
static void
edit_free(gpointer p)
{
	struct header_edit *e = p;

	g_free(e->name);
	g_free(e->value);
	g_free(e);
}

/* header_edits_new - an empty list of edits */
GPtrArray *
header_edits_new(void)
{
	return g_ptr_array_new_with_free_func(edit_free);
}

/* header_edit_add - one more edit */
void
header_edit_add(GPtrArray *edits, const char *name, int index, const char *value)
{
	struct header_edit *e = g_new0(struct header_edit, 1);

	e->name = g_strdup(name);
	e->index = index;
	e->value = g_strdup(value);
	g_ptr_array_add(edits, e);
}

/*
 * put_field - "Name: value" and its line end; fold: before a blank so
 * that lines stay near 78 characters (RFC 5322 2.1.1), a word longer
 * than that whole
 */
static void
put_field(GString *out, const char *name, const char *value, gboolean fold)
{
	char *v = g_strconcat(" ", value, NULL);
	size_t line = strlen(name) + 1;
	const char *p = v;

	g_string_append_printf(out, "%s:", name);
	while (*p) {
		size_t sp = strspn(p, " ");
		size_t n = sp + strcspn(p + sp, " ");

		if (fold && sp > 0 && p != v && line + n > 78) {
			g_string_append_c(out, '\n');	/* the blanks begin the next line */
			line = 0;
		}
		g_string_append_len(out, p, n);
		line += n;
		p += n;
	}
	g_string_append_c(out, '\n');
	g_free(v);
}

/* apply - the message with its edits made, the fields written folded or not */
static GString *
apply(const char *raw, size_t len, const GPtrArray *edits, gboolean fold)
{
	GString *out = g_string_sized_new(len + 1024);
	int *seen = g_new0(int, edits->len + 1);
	struct field f;
	size_t pos = 0;
	guint i;

	for (i = 0; i < edits->len; i++) {
		const struct header_edit *e = g_ptr_array_index(edits, i);

		if (e->index == 0)
			put_field(out, e->name, e->value, fold);
	}
	while (next_field(raw, len, &pos, &f)) {
		const struct header_edit *hit = NULL;

		for (i = 0; i < edits->len; i++) {
			const struct header_edit *e = g_ptr_array_index(edits, i);

			if (e->index > 0 && named(raw, &f, e->name) && ++seen[i] == e->index)
				hit = e;
		}
		if (hit == NULL)
			g_string_append_len(out, raw + f.start, f.end - f.start);
		else if (hit->value)
			put_field(out, hit->name, hit->value, fold);
	}
	g_string_append_len(out, raw + pos, len - pos);
	g_free(seen);
	return out;
}

/* header_apply - the message with its edits made */
GString *
header_apply(const char *raw, size_t len, const GPtrArray *edits)
{
	return apply(raw, len, edits, TRUE);
}

/*
 * header_apply_unfolded - the same, each field written on one line, as
 * Postfix writes the fields a milter adds or changes
 */
GString *
header_apply_unfolded(const char *raw, size_t len, const GPtrArray *edits)
{
	return apply(raw, len, edits, FALSE);
}
