/*
 * NAME
 *	bounce - which recipients a delivery status notification reports
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	struct bounce *bounce_parse(const char *raw, size_t len);
 *	void bounce_free(struct bounce *b);
 *	bool bounce_rcpt_failed(const struct bounce_rcpt *r);
 * DESCRIPTION
 *	bounce_parse() reads a message that came to LIST-bounces and finds
 *	its delivery status notification: the first part, in document order,
 *	of type message/delivery-status (RFC 3464) or
 *	message/global-delivery-status (RFC 6533).  That is normally the
 *	second part of a multipart/report, but multiparts are walked at any
 *	depth (a report wrapped by a gateway still counts).  Parts inside a
 *	message/rfc822 or message/global are never looked into: a bounce
 *	someone forwards is not a bounce of ours.  The part's transfer
 *	encoding (base64, quoted-printable) is undone.
 *
 *	The report is groups of header-style fields separated by blank
 *	lines.  Lines end in LF or CRLF, field names are matched in any
 *	case, folded values are unfolded with each fold made one space, and
 *	the first occurrence of a field in a group is the one read.  The
 *	first group is per-message and gives reporting_mta.  Every group
 *	with a Final-Recipient or an Original-Recipient gives one recipient,
 *	the first group too (some MTAs leave out the blank line after the
 *	per-message fields).  Its address is the Original-Recipient if that
 *	normalises (addr_normalize()) - the address the list sent to, a
 *	member's, even when that member forwards elsewhere - else the
 *	Final-Recipient if that does, else the group is skipped.
 *
 *	Type prefixes ("rfc822;", "utf-8;", "dns;", "smtp;", "X-Postfix;")
 *	are removed.  In an address of type utf-8 (RFC 6533) the
 *	\x{HEXPOINT} escapes are decoded; an escape that is malformed or
 *	names a control character or a surrogate is left as it is (such an
 *	address keeps its backslash and matches no member).  Addresses of
 *	other types are taken as they are (no xtext decoding).  action is
 *	one of failed, delayed, delivered, relayed, expanded, or "" when
 *	absent or anything else; status is class.subject.detail with class
 *	2, 4 or 5, or ""; a comment after either is ignored.
 *
 *	dsn is true when a report part was found, even one naming no
 *	recipient.  When GMime finds the message truncated and no MIME part
 *	begins after the report, the report itself may be cut short: dsn is
 *	false and nothing is read from it.  A returned message cut short
 *	after a complete report does not matter.
 *
 *	At most RCPT_MAX (1000) recipients are read and the rest ignored;
 *	values are cut at VALUE_MAX (1000) bytes on a character boundary;
 *	an address longer than 254 bytes is skipped.
 *
 *	bounce_rcpt_failed() is true for a permanent failure: action
 *	failed, or no known action and a status of class 5.
 *
 *	GMime must be initialised (message_init()) before bounce_parse().
 *	The result belongs to the caller and is freed with bounce_free();
 *	bounce_free(NULL) does nothing.  raw is only read, never kept.
 *	GObject references never leave this file.
 * SECURITY
 *	Input is hostile.  Every string handed out is valid UTF-8 (NUL
 *	bytes and invalid sequences become U+FFFD) and bounded; an address
 *	with a NUL, a control character or invalid UTF-8 is skipped.  The
 *	MIME walk is depth-bounded and the report is read in one pass.
 */
#include "bounce.h"

#include <string.h>
#include <gmime/gmime.h>

#include "addr.h"

#define MIME_DEPTH	32		/* multipart levels walked */
#define RCPT_MAX	1000		/* recipient groups read */
#define VALUE_MAX	1000		/* bytes kept of a value */
#define RAW_MAX		(4 * VALUE_MAX)	/* bytes gathered of a field, type and folds included */
#define ADDR_MAX	254		/* longest address taken */

enum field {
	F_REPORTING_MTA,
	F_FINAL_RCPT,
	F_ORIGINAL_RCPT,
	F_ACTION,
	F_STATUS,
	F_DIAGNOSTIC,
	F_COUNT
};

static const char *const field_name[F_COUNT] = {
	"Reporting-MTA", "Final-Recipient", "Original-Recipient", "Action", "Status",
	"Diagnostic-Code",
};

static const char *const actions[] = {
	"failed", "delayed", "delivered", "relayed", "expanded", NULL
};

/* a group of fields being read: the first value of each field we use */
struct group {
	GString	*value[F_COUNT];	/* NULL while absent; as read, folds made one space */
	bool	 any;			/* a field line was seen */
};

/* the report part a walk of the MIME tree found */
struct walk {
	GMimeObject *report;		/* borrowed from the message; NULL: none */
	bool	 after;			/* a MIME part begins after it */
};

/* is_wsp - SP or HTAB */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* is_blank - a line of nothing but white space ends a group */
static bool
is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			return false;
	return true;
}

/* append_bounded - add to a value, never past RAW_MAX */
static void
append_bounded(GString *v, const char *s, size_t n)
{
	if (v->len < RAW_MAX)
		g_string_append_len(v, s, MIN(n, RAW_MAX - v->len));
}

/* field_start - a line that begins a field: the field it feeds, or -1 to ignore it */
static int
field_start(struct group *g, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t namelen, i;
	int f;

	if (colon == NULL)
		return -1;
	namelen = (size_t) (colon - line);
	while (namelen > 0 && is_wsp(line[namelen - 1]))
		namelen--;
	if (namelen == 0)
		return -1;
	for (i = 0; i < namelen; i++)
		if ((unsigned char) line[i] <= 0x20 || (unsigned char) line[i] >= 0x7f)
			return -1;
	g->any = true;
	for (f = 0; f < F_COUNT; f++)
		if (strlen(field_name[f]) == namelen && g_ascii_strncasecmp(line, field_name[f], namelen) == 0)
			break;
	if (f == F_COUNT || g->value[f] != NULL)
		return -1;
	g->value[f] = g_string_new(NULL);
	append_bounded(g->value[f], colon + 1, n - (size_t) (colon + 1 - line));
	return f;
}

/* field_fold - a continuation line: the fold and its white space become one space */
static void
field_fold(GString *v, const char *line, size_t n)
{
	while (n > 0 && is_wsp(*line)) {
		line++;
		n--;
	}
	while (v->len > 0 && is_wsp(v->str[v->len - 1]))
		g_string_truncate(v, v->len - 1);
	append_bounded(v, " ", 1);
	append_bounded(v, line, n);
}

/* untype - offset of a value after its "type;" prefix; *utf8 tells if the type was utf-8 */
static size_t
untype(const GString *v, bool *utf8)
{
	size_t i = 0, start, end;

	*utf8 = false;
	while (i < v->len && is_wsp(v->str[i]))
		i++;
	start = i;
	while (i < v->len && (g_ascii_isalnum(v->str[i]) || strchr("-._", v->str[i]) != NULL))
		i++;
	end = i;
	while (i < v->len && is_wsp(v->str[i]))
		i++;
	if (end == start || i == v->len || v->str[i] != ';')
		return start;
	*utf8 = end - start == 5 && g_ascii_strncasecmp(v->str + start, "utf-8", 5) == 0;
	for (i++; i < v->len && is_wsp(v->str[i]); i++)
		;
	return i;
}

/* text - a value as handed out: valid UTF-8, trimmed, at most VALUE_MAX bytes */
static char *
text(const char *s, size_t n)
{
	char *v = g_utf8_make_valid(s, (gssize) n);	/* NUL becomes U+FFFD too */
	size_t len = strlen(v);

	if (len > VALUE_MAX) {
		len = VALUE_MAX;
		while (len > 0 && ((unsigned char) v[len] & 0xc0) == 0x80)
			len--;
		v[len] = '\0';
	}
	return g_strstrip(v);
}

/* untyped_text - a value without its type prefix, as handed out; "" if absent */
static char *
untyped_text(const GString *v)
{
	bool utf8;
	size_t off;

	if (v == NULL)
		return g_strdup("");
	off = untype(v, &utf8);
	return text(v->str + off, v->len - off);
}

/* unescape - decode the \x{HEXPOINT} escapes of an RFC 6533 utf-8 address */
static char *
unescape(const char *s, size_t n)
{
	GString *out = g_string_sized_new(n);
	size_t i = 0;

	while (i < n) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && s[i + 2] == '{') {
			size_t j = i + 3, digits = 0;
			gunichar c = 0;

			for (; j < n && digits < 7 && g_ascii_isxdigit(s[j]); j++, digits++)
				c = c * 16 + (gunichar) g_ascii_xdigit_value(s[j]);
			if (j < n && s[j] == '}' && digits >= 1 && digits <= 6 && c >= 0x20 && c != 0x7f
			    && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)) {
				g_string_append_unichar(out, c);
				i = j + 1;
				continue;
			}
		}
		g_string_append_c(out, s[i]);
		i++;
	}
	return g_string_free(out, FALSE);
}

/* address - canonical address of a recipient field, or NULL */
static char *
address(const GString *v)
{
	const unsigned char *p;
	char *a, *out = NULL;
	bool utf8;
	size_t off;

	if (v == NULL || memchr(v->str, '\0', v->len) != NULL)
		return NULL;
	off = untype(v, &utf8);
	a = utf8 ? unescape(v->str + off, v->len - off) : g_strndup(v->str + off, v->len - off);
	g_strstrip(a);
	for (p = (const unsigned char *) a; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0' && strlen(a) <= ADDR_MAX && g_utf8_validate(a, -1, NULL))
		out = addr_normalize(a);
	g_free(a);
	return out;
}

/* token - the first word of a value, before white space, ';' or a comment */
static const char *
token(const GString *v, size_t *n)
{
	size_t i = 0, start;

	while (i < v->len && is_wsp(v->str[i]))
		i++;
	start = i;
	while (i < v->len && !is_wsp(v->str[i]) && v->str[i] != ';' && v->str[i] != '(')
		i++;
	*n = i - start;
	return v->str + start;
}

/* action - one of the RFC 3464 action values, lower case; "" if absent or unknown */
static char *
action(const GString *v)
{
	const char *s;
	size_t n;
	int i;

	if (v == NULL)
		return g_strdup("");
	s = token(v, &n);
	for (i = 0; actions[i]; i++)
		if (strlen(actions[i]) == n && g_ascii_strncasecmp(s, actions[i], n) == 0)
			return g_strdup(actions[i]);
	return g_strdup("");
}

/* digits - count of ASCII digits at s, at most max + 1 */
static size_t
digits(const char *s, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i <= max && g_ascii_isdigit(s[i]); i++)
		;
	return i;
}

/* status - an RFC 3463 status code, class.subject.detail; "" if absent or malformed */
static char *
status(const GString *v)
{
	const char *s;
	size_t n, i, d;

	if (v == NULL)
		return g_strdup("");
	s = token(v, &n);
	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return g_strdup("");
	i = 2;
	d = digits(s + i, n - i, 3);
	if (d < 1 || d > 3 || i + d >= n || s[i + d] != '.')
		return g_strdup("");
	i += d + 1;
	d = digits(s + i, n - i, 3);
	if (d < 1 || d > 3 || i + d != n)
		return g_strdup("");
	return g_strndup(s, n);
}

/* rcpt_free - free one recipient */
static void
rcpt_free(gpointer p)
{
	struct bounce_rcpt *r = p;

	g_free(r->address);
	g_free(r->action);
	g_free(r->status);
	g_free(r->diagnostic);
	g_free(r);
}

/* group_end - a complete group: the per-message facts, then perhaps one recipient */
static void
group_end(struct bounce *b, struct group *g, bool *first)
{
	struct bounce_rcpt *r;
	char *a;
	int f;

	if (g->any && *first) {
		g_free(b->reporting_mta);
		b->reporting_mta = untyped_text(g->value[F_REPORTING_MTA]);
		*first = false;
	}
	if (g->any && b->rcpts->len < RCPT_MAX) {
		if ((a = address(g->value[F_ORIGINAL_RCPT])) == NULL)
			a = address(g->value[F_FINAL_RCPT]);
		if (a != NULL) {
			r = g_new0(struct bounce_rcpt, 1);
			r->address = a;
			r->action = action(g->value[F_ACTION]);
			r->status = status(g->value[F_STATUS]);
			r->diagnostic = untyped_text(g->value[F_DIAGNOSTIC]);
			g_ptr_array_add(b->rcpts, r);
		}
	}
	for (f = 0; f < F_COUNT; f++) {
		if (g->value[f] != NULL)
			g_string_free(g->value[f], TRUE);
		g->value[f] = NULL;
	}
	g->any = false;
}

/* read_report - the groups of a report's decoded content, in one pass */
static void
read_report(struct bounce *b, const char *p, size_t n)
{
	const char *end = p + n;
	struct group g = { { NULL }, false };
	bool first = true;
	int cur = -1;

	while (p < end && b->rcpts->len < RCPT_MAX) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *eol = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		size_t len;

		if (eol > p && eol[-1] == '\r')
			eol--;
		len = (size_t) (eol - p);
		if (is_blank(p, len)) {
			group_end(b, &g, &first);
			cur = -1;
		} else if (is_wsp(*p)) {
			if (cur >= 0)
				field_fold(g.value[cur], p, len);
		} else {
			cur = field_start(&g, p, len);
		}
		p = next;
	}
	group_end(b, &g, &first);
}

/* is_report - a message/delivery-status or message/global-delivery-status part */
static bool
is_report(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	return ct != NULL && (g_mime_content_type_is_type(ct, "message", "delivery-status")
			      || g_mime_content_type_is_type(ct, "message", "global-delivery-status"));
}

/* walk - the first report in document order, outside message/rfc822; note what follows it */
static void
walk(struct walk *w, GMimeObject *o, int depth)
{
	int i, n;

	if (o == NULL)
		return;
	if (w->report != NULL) {
		w->after = true;
		return;
	}
	if (GMIME_IS_MULTIPART(o)) {
		if (depth >= MIME_DEPTH)
			return;
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n && !w->after; i++)
			walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1);
	} else if (is_report(o)) {
		w->report = o;
	}
	/* any other part, message/rfc822 included, is a leaf here */
}

/*
 * report_bytes - the decoded content of the report part; the caller frees
 * it with g_byte_array_free(bytes, TRUE).  GMime 3.2 makes both report
 * types a plain GMimePart (only rfc822, rfc2822, news, global and partial
 * are registered as message subtypes), whose content is decoded here.  A
 * GMime that made it a GMimeMessagePart would have parsed the per-message
 * group as the header of an inner message and the rest as its body: that
 * message is written back out, which gives the report's lines again (a
 * transfer encoding cannot be undone in that case).
 */
static GByteArray *
report_bytes(GMimeObject *o)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;

	if (GMIME_IS_PART(o)) {
		GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(o));

		if (content != NULL)
			g_mime_data_wrapper_write_to_stream(content, mem);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		if (inner != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	return bytes;
}

/* on_warning - GMime's parser found the message cut short */
static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	if (code == GMIME_WARN_TRUNCATED_MESSAGE)
		*(bool *) data = true;
}

/* bounce_parse - the delivery status notification of a bounce, if any */
struct bounce *
bounce_parse(const char *raw, size_t len)
{
	struct bounce *b = g_new0(struct bounce, 1);
	struct walk w = { NULL, false };
	bool truncated = false;
	GMimeParserOptions *options;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GByteArray *bytes;

	b->reporting_mta = g_strdup("");
	b->rcpts = g_ptr_array_new_with_free_func(rcpt_free);
	if (raw == NULL || len == 0)
		return b;
	/* per call: the header lists of msg point at it until msg is gone */
	options = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(options, on_warning, &truncated);
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, options);
	g_object_unref(parser);
	if (msg != NULL)
		walk(&w, g_mime_message_get_mime_part(msg), 0);
	if (w.report != NULL && (!truncated || w.after)) {
		b->dsn = true;
		bytes = report_bytes(w.report);
		if (bytes->len > 0)	/* an empty report's data is NULL: no NULL + 0 */
			read_report(b, (const char *) bytes->data, bytes->len);
		g_byte_array_free(bytes, TRUE);
	}
	if (msg != NULL)
		g_object_unref(msg);
	g_mime_parser_options_free(options);
	return b;
}

/* bounce_free - release a bounce; NULL does nothing */
void
bounce_free(struct bounce *b)
{
	if (b == NULL)
		return;
	g_free(b->reporting_mta);
	g_ptr_array_free(b->rcpts, TRUE);
	g_free(b);
}

/* bounce_rcpt_failed - permanent failure: action failed, or no known action and status 5.x.x */
bool
bounce_rcpt_failed(const struct bounce_rcpt *r)
{
	int i;

	if (r == NULL)
		return false;
	if (r->action != NULL)
		for (i = 0; actions[i]; i++)
			if (strcmp(r->action, actions[i]) == 0)
				return i == 0;		/* actions[0] is "failed" */
	return r->status != NULL && strncmp(r->status, "5.", 2) == 0;
}
