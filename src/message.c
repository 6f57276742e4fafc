/*
 * NAME
 *	message - the facts of an incoming message
 * SYNOPSIS
 *	#include "message.h"
 *
 *	void message_init(void);
 *	struct post *message_parse(const char *raw, size_t len);
 *	void message_free(struct post *post);
 *	struct readable *message_readable(const char *raw, size_t len);
 *	void message_readable_free(struct readable *r);
 * DESCRIPTION
 *	message_parse() reads what policy needs from the raw bytes of a
 *	message with GMime: From addresses (groups flattened, canonical
 *	A-label form) and the first one's display name, the To and Cc
 *	addresses, Subject, Message-ID, In-Reply-To and References,
 *	Auto-Submitted, Precedence, List-Id, X-Loop (each value read as an
 *	address and as an address list: "Team <list@example.org>" names
 *	list@example.org too).  The raw bytes are not
 *	changed or kept; the caller keeps them for relaying.
 *
 *	A message GMime cannot read at all (no header block) comes back with
 *	parsed false and nothing but its size: policy holds it.
 *
 *	message_readable() is what a moderator reads of a held post: the
 *	header fields a person looks at (From, To, Subject, ...), decoded,
 *	as name, value pairs in headers; and the MIME leaves in order in
 *	parts.  A text/plain or text/html leaf that is not an attachment
 *	has its text in UTF-8 (HTML reduced to text); every other leaf is
 *	listed with its type, file name and decoded size, and its content
 *	is never looked at.  The caller escapes everything before printing.
 *
 *	message_init() initialises GMime once per process, before threads.
 *	The returned post is freed with message_free(); message_free(NULL)
 *	does nothing.  GObject references never leave this file.
 * SECURITY
 *	Input is hostile.  Raw 8-bit headers are decoded through fallback
 *	charsets; every string handed out is valid UTF-8.  An address that
 *	is not (GMime keeps the raw bytes of a domain literal) is left out.
 */
#include "message.h"

#include <string.h>
#include <gmime/gmime.h>

#include "addr.h"
#include "text.h"

static GMimeParserOptions *options;

/* message_init - once per process */
void
message_init(void)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

	g_mime_init();
	options = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(options, fallback);
}

/*
 * add_address - append the canonical form of an address, unless it has
 * none or is not UTF-8: GMime keeps the raw bytes of a domain literal
 * ([...]), and an address that is not text names nobody vigil knows
 */
static void
add_address(GPtrArray *out, const char *addr)
{
	char *a = addr_normalize(addr);

	if (a && g_utf8_validate(a, -1, NULL))
		g_ptr_array_add(out, a);
	else
		g_free(a);
}

/* add_mailboxes - append canonical addresses of a list, groups flattened */
static void
add_mailboxes(GPtrArray *out, InternetAddressList *list)
{
	int i, n = list ? internet_address_list_length(list) : 0;

	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			add_mailboxes(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			add_address(out, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		}
	}
}

/*
 * add_loops - the addresses an X-Loop value names: the value as one
 * address, and each mailbox GMime reads in it, so that a display name,
 * a comment or a second address does not hide our loop marker
 */
static void
add_loops(GPtrArray *out, const char *value)
{
	InternetAddressList *list;

	add_address(out, value);
	if (value && (list = internet_address_list_parse(options, value)) != NULL) {
		add_mailboxes(out, list);
		g_object_unref(list);
	}
}

/* first_name - the display name of a list's first mailbox, valid UTF-8, or NULL */
static char *
first_name(InternetAddressList *list)
{
	InternetAddress *ia;
	const char *name;

	if (list == NULL || internet_address_list_length(list) == 0)
		return NULL;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia) || (name = internet_address_get_name(ia)) == NULL
	    || *name == '\0')
		return NULL;
	return g_utf8_make_valid(name, -1);
}

/* add_ids - append the message ids of a References-like header not seen yet */
static void
add_ids(GPtrArray *out, GHashTable *seen, const char *value)
{
	GMimeReferences *refs;
	int i;

	if (value == NULL)
		return;
	refs = g_mime_references_parse(options, value);
	for (i = 0; refs && i < g_mime_references_length(refs); i++) {
		const char *id = g_mime_references_get_message_id(refs, i);

		if (!g_hash_table_contains(seen, id)) {
			char *copy = g_strdup(id);

			g_hash_table_add(seen, copy);
			g_ptr_array_add(out, copy);
		}
	}
	if (refs)
		g_mime_references_free(refs);
}

/* first_id - the first message id of an In-Reply-To, or NULL */
static char *
first_id(const char *value)
{
	GMimeReferences *refs = value ? g_mime_references_parse(options, value) : NULL;
	char *id = NULL;

	if (refs && g_mime_references_length(refs) > 0)
		id = g_strdup(g_mime_references_get_message_id(refs, 0));
	if (refs)
		g_mime_references_free(refs);
	return id;
}

/* plain_text - is the body one text/plain part in 7bit or 8bit, and in UTF-8 */
static void
plain_text(struct post *post, GMimeObject *body)
{
	GMimeContentEncoding enc;
	const char *charset;

	if (body == NULL || !GMIME_IS_TEXT_PART(body)
	    || !g_mime_content_type_is_type(g_mime_object_get_content_type(body), "text", "plain"))
		return;
	enc = g_mime_part_get_content_encoding(GMIME_PART(body));
	if (enc != GMIME_CONTENT_ENCODING_DEFAULT && enc != GMIME_CONTENT_ENCODING_7BIT
	    && enc != GMIME_CONTENT_ENCODING_8BIT)
		return;
	post->plain_text = true;
	post->body_8bit = enc == GMIME_CONTENT_ENCODING_8BIT;
	charset = g_mime_object_get_content_type_parameter(body, "charset");
	post->utf8 = charset && (g_ascii_strcasecmp(charset, "utf-8") == 0
				 || g_ascii_strcasecmp(charset, "utf8") == 0);
}

/* header_copy - a trimmed copy of a header value, or NULL */
static char *
header_copy(GMimeObject *o, const char *name)
{
	const char *v = g_mime_object_get_header(o, name);

	return v ? g_strstrip(g_strdup(v)) : NULL;
}

/*
 * parse - GMime's reading of raw, or NULL.  *view is a read-only view of
 * raw that the message's stream uses: free it with
 * g_byte_array_free(view, FALSE) after the message.
 */
static GMimeMessage *
parse(const char *raw, size_t len, GByteArray **view)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	*view = g_byte_array_new_take((guint8 *) raw, len);
	stream = g_mime_stream_mem_new_with_byte_array(*view);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, options);
	g_object_unref(parser);
	if (msg == NULL) {
		g_byte_array_free(*view, FALSE);
		*view = NULL;
	}
	return msg;
}

/* message_parse - facts from the raw bytes */
struct post *
message_parse(const char *raw, size_t len)
{
	struct post *post = g_new0(struct post, 1);
	GByteArray *view;
	GMimeMessage *msg;
	GMimeObject *o;
	GMimeHeaderList *hl;
	GHashTable *seen;
	const char *v;
	int i, n;

	post->size = len;
	post->from = g_ptr_array_new_with_free_func(g_free);
	post->references = g_ptr_array_new_with_free_func(g_free);
	post->loops = g_ptr_array_new_with_free_func(g_free);
	post->to_cc = g_ptr_array_new_with_free_func(g_free);
	if ((msg = parse(raw, len, &view)) == NULL)
		return post;
	o = GMIME_OBJECT(msg);
	hl = g_mime_object_get_header_list(o);
	post->parsed = g_mime_header_list_get_count(hl) > 0;

	add_mailboxes(post->from, g_mime_message_get_from(msg));
	post->from_name = first_name(g_mime_message_get_from(msg));
	add_mailboxes(post->to_cc, g_mime_message_get_to(msg));
	add_mailboxes(post->to_cc, g_mime_message_get_cc(msg));
	if ((v = g_mime_message_get_subject(msg)) != NULL)
		post->subject = g_utf8_make_valid(v, -1);
	if ((v = g_mime_message_get_message_id(msg)) != NULL && *v)
		post->message_id = g_utf8_make_valid(v, -1);
	seen = g_hash_table_new(g_str_hash, g_str_equal);	/* keys borrowed from references */
	add_ids(post->references, seen, g_mime_object_get_header(o, "References"));
	add_ids(post->references, seen, g_mime_object_get_header(o, "In-Reply-To"));
	g_hash_table_destroy(seen);
	post->in_reply_to = first_id(g_mime_object_get_header(o, "In-Reply-To"));
	plain_text(post, g_mime_message_get_mime_part(msg));
	post->auto_submitted = header_copy(o, "Auto-Submitted");
	post->precedence = header_copy(o, "Precedence");
	post->has_list_id = g_mime_object_get_header(o, "List-Id") != NULL;
	post->auto_response_suppress = header_copy(o, "X-Auto-Response-Suppress");

	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "X-Loop") == 0)
			add_loops(post->loops, g_mime_header_get_value(h));
	}
	g_object_unref(msg);		/* drops the last reference to stream */
	g_byte_array_free(view, FALSE);
	return post;
}

/* message_free - release a post */
void
message_free(struct post *post)
{
	if (post == NULL)
		return;
	g_ptr_array_free(post->from, TRUE);
	g_free(post->subject);
	g_free(post->message_id);
	g_ptr_array_free(post->references, TRUE);
	g_free(post->in_reply_to);
	g_ptr_array_free(post->to_cc, TRUE);
	g_free(post->from_name);
	g_free(post->auto_submitted);
	g_free(post->precedence);
	g_free(post->auto_response_suppress);
	g_ptr_array_free(post->loops, TRUE);
	g_free(post);
}

/* contains - is addr in an array of canonical addresses */
static bool
contains(const GPtrArray *a, const char *addr)
{
	guint i;

	for (i = 0; addr && i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), addr) == 0)
			return true;
	return false;
}

/* message_has_loop - does the post carry this list's loop marker */
bool
message_has_loop(const struct post *post, const char *list_address)
{
	return contains(post->loops, list_address);
}

/* message_from_is - is addr among the From addresses */
bool
message_from_is(const struct post *post, const char *addr)
{
	return contains(post->from, addr);
}

/* part_free - free a readable part */
static void
part_free(gpointer p)
{
	struct readable_part *rp = p;

	g_free(rp->type);
	g_free(rp->name);
	g_free(rp->text);
	g_free(rp);
}

/* decoded_size - bytes of a part's content once its transfer encoding is undone */
static gint64
decoded_size(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *null;
	gint64 n;

	if (content == NULL)
		return 0;
	null = g_mime_stream_null_new();
	n = g_mime_data_wrapper_write_to_stream(content, null);
	g_object_unref(null);
	return MAX(n, 0);
}

/* add_part - one leaf of the MIME tree: text to read or an attachment to list */
static void
add_part(struct readable *r, GMimeObject *o)
{
	struct readable_part *rp = g_new0(struct readable_part, 1);
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	const char *disposition = g_mime_object_get_disposition(o);
	bool attachment = disposition && g_ascii_strcasecmp(disposition, "attachment") == 0;
	const char *name = NULL;

	rp->type = g_utf8_make_valid(type, -1);
	g_free(type);
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		const char *subject = inner ? g_mime_message_get_subject(inner) : NULL;

		rp->name = g_utf8_make_valid(subject ? subject : "", -1);
		rp->size = -1;
		g_ptr_array_add(r->parts, rp);
		return;
	}
	if (!GMIME_IS_PART(o)) {
		rp->name = g_strdup("");
		rp->size = -1;
		g_ptr_array_add(r->parts, rp);
		return;
	}
	name = g_mime_part_get_filename(GMIME_PART(o));
	rp->name = g_utf8_make_valid(name ? name : "", -1);
	rp->size = decoded_size(GMIME_PART(o));
	if (!attachment && name == NULL && GMIME_IS_TEXT_PART(o)
	    && (g_mime_content_type_is_type(ct, "text", "plain") || g_mime_content_type_is_type(ct, "text", "html"))) {
		char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
		char *valid = g_utf8_make_valid(t ? t : "", -1);

		if (g_mime_content_type_is_type(ct, "text", "html")) {
			rp->text = text_from_html(valid);
			g_free(valid);
		} else {
			rp->text = valid;
		}
		g_free(t);
	}
	g_ptr_array_add(r->parts, rp);
}

/* walk - the leaves of a MIME tree, in order */
static void
walk(struct readable *r, GMimeObject *o, int depth)
{
	int i, n;

	if (o == NULL)
		return;
	if (!GMIME_IS_MULTIPART(o) || depth > 32) {
		add_part(r, o);
		return;
	}
	n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
	for (i = 0; i < n; i++)
		walk(r, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1);
}

/*
 * message_readable - what a moderator reads of a message: the header
 * fields a person looks at, decoded, and the MIME leaves in order
 */
struct readable *
message_readable(const char *raw, size_t len)
{
	static const char *const shown[] = {
		"From", "Sender", "Reply-To", "To", "Cc", "Date", "Subject", "Message-ID",
		"In-Reply-To", NULL
	};
	struct readable *r = g_new0(struct readable, 1);
	GByteArray *view;
	GMimeMessage *msg;
	GMimeHeaderList *hl;
	int i, k, n;

	r->headers = g_ptr_array_new_with_free_func(g_free);
	r->parts = g_ptr_array_new_with_free_func(part_free);
	if ((msg = parse(raw, len, &view)) == NULL)
		return r;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = g_mime_header_list_get_count(hl);
	r->parsed = n > 0;
	for (k = 0; shown[k]; k++)
		for (i = 0; i < n; i++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
			const char *v = g_mime_header_get_value(h);

			if (g_ascii_strcasecmp(g_mime_header_get_name(h), shown[k]) != 0)
				continue;
			g_ptr_array_add(r->headers, g_strdup(shown[k]));
			g_ptr_array_add(r->headers, g_strstrip(g_utf8_make_valid(v ? v : "", -1)));
		}
	walk(r, g_mime_message_get_mime_part(msg), 0);
	g_object_unref(msg);
	g_byte_array_free(view, FALSE);
	return r;
}

/* message_readable_free - free a readable; NULL does nothing */
void
message_readable_free(struct readable *r)
{
	if (r == NULL)
		return;
	g_ptr_array_free(r->headers, TRUE);
	g_ptr_array_free(r->parts, TRUE);
	g_free(r);
}
