/*
 * NAME
 *	compose - outgoing messages
 * SYNOPSIS
 *	#include "compose.h"
 *
 *	GByteArray *compose_crlf(const void *raw, size_t len);
 *	GPtrArray *compose_relay_edits(copy, raw, len);
 *	char *compose_footer(list, post, err);
 *	GByteArray *compose_relay(copy, raw, len, footer);
 *	void compose_relay_parts(copy, raw, len, footer, &parts);
 *	gsize compose_crlf_parts(&parts, sink, ud);
 *	void compose_parts_clear(&parts);
 *	gboolean compose_render(path, vars, &subject, &body, err);
 *	gboolean compose_check(list, template_dir, err);
 *	GByteArray *compose_notice(list, template_dir, notice, err);
 *	GByteArray *compose_autoreply(list, template_dir, orig, to, report_id, now, err);
 * DESCRIPTION
 *	Everything returned is ready for SMTP: CRLF line ends, a final
 *	newline.  Dot-stuffing is left to libcurl, which does it correctly
 *	on CRLF input.  The caller frees results with g_byte_array_unref().
 *
 *	compose_relay() is the members' copy of a post: the original bytes
 *	with the header changes of compose_relay_edits() (header.c) and,
 *	when the list has one and the post is plain text, the footer.  The
 *	list's fields go on top: List-Id (RFC 2919), List-Help, List-Post,
 *	List-Owner, List-Archive (RFC 2369), Precedence: list, the X-Loop
 *	marker; Sender: becomes the list's bounce address.  As the caller
 *	asks, a thread's copy names the report's people in Cc, a post
 *	without a Message-ID gets one, and for DMARC (munge_from) From
 *	becomes "Name via List" <list address> with the author added to
 *	Reply-To.  Every Authentication-Results field that mentions the
 *	list's trusted_authserv_id is removed (authres_mentions()): the
 *	copies leave from us, and no reader further on may take a claim in
 *	our verifier's name, true or forged, for its own.  Nothing else
 *	changes, so the author's DKIM signature still verifies unless From,
 *	Cc or Sender were signed - or a subject tag or footer is
 *	configured, which the documentation says.
 *	compose_relay_edits() gives the same changes to a front-end whose
 *	MTA makes them (a milter).  compose_relay_parts() and
 *	compose_crlf_parts() give the same copy in pieces, for a caller
 *	that writes it out as it comes: a post of 50 MB is not copied whole
 *	in memory (its size is counted first with a NULL sink).
 *
 *	compose_render() reads a template: a Subject: line, an empty line,
 *	the body.  %{name} is replaced by the value of the placeholder name,
 *	%% by %.  An unknown placeholder or header is an error naming the
 *	file, and so is a placeholder filled from mail or by a moderator
 *	(sender, from, subject, reason, comment, posts, address, status,
 *	diagnostic) on the Subject: line: those go into bodies only.
 *
 *	compose_check() renders every template for a list with sample
 *	values and reads its footer, so that "vigil check-config" finds a
 *	broken template before a reporter's mail does.
 *
 *	compose_notice() builds a plain-text message from a template: the
 *	notices to moderators and to senders.  Everything from mail that a
 *	caller puts in vars goes into the body; the Subject: comes from
 *	the template's first line.
 *
 *	compose_autoreply() builds the RFC 3834 auto-reply for a held post
 *	from the template autoreply-held.txt.  It never quotes the post's
 *	subject or body: a reporter's mail may be read by whoever controls
 *	a forged envelope sender.
 */
#include "compose.h"

#include <string.h>
#include <gmime/gmime.h>

#include "addr.h"
#include "authres.h"
#include "header.h"

G_DEFINE_QUARK(vigil-compose-error-quark, compose_error)

/*
 * compose_message_id - a new Message-ID in the list's domain, without
 * <>: the time in microseconds and 64 random bits.  The domain is in
 * its canonical form already, so GMime's generator, which asks libidn2
 * to convert it again, is not needed.
 */
char *
compose_message_id(const struct list_config *list)
{
	return g_strdup_printf("%" G_GINT64_MODIFIER "x.%08x%08x@%s", g_get_real_time(),
			       g_random_int(), g_random_int(), addr_domain(list->address));
}

/*
 * crlf_append - len bytes of s into out, each LF without a CR before it
 * given one, a lone CR kept; *pc is the byte before s (0 at the start),
 * updated, so that a CRLF split between two pieces stays one
 */
static void
crlf_append(GString *out, const char *s, size_t len, char *pc)
{
	const char *p = s, *end = s + len, *nl;

	while ((nl = memchr(p, '\n', (size_t) (end - p))) != NULL) {
		g_string_append_len(out, p, nl - p);
		if ((nl > s ? nl[-1] : *pc) != '\r')
			g_string_append_c(out, '\r');
		g_string_append_c(out, '\n');
		p = nl + 1;
	}
	g_string_append_len(out, p, end - p);
	if (len > 0)
		*pc = end[-1];
}

/* crlf_end - end the last line as GMime's filter does; pc is the last byte crlf_append() was given */
static void
crlf_end(GString *out, char pc)
{
	if (pc != '\n')
		g_string_append(out, pc == '\r' ? "\n" : "\r\n");
}

/* compose_crlf - raw bytes with CRLF line ends and a final newline */
GByteArray *
compose_crlf(const void *raw, size_t len)
{
	GString *out = g_string_sized_new(len + len / 16 + 2);
	char pc = 0;

	crlf_append(out, raw, len, &pc);
	if (len > 0)
		crlf_end(out, pc);
	return g_bytes_unref_to_array(g_string_free_to_bytes(out));
}

/* list_id - RFC 2919: "Name" <local.domain> */
static char *
list_id(const struct list_config *list)
{
	char *label = g_strdup(list->address);
	char *at = strrchr(label, '@');
	char *phrase;
	char *out;

	if (at)
		*at = '.';
	phrase = g_mime_utils_header_encode_phrase(NULL, list->name, "utf-8");
	out = g_strdup_printf("%s <%s>", phrase, label);
	g_free(phrase);
	g_free(label);
	return out;
}

/* mailbox - one address as a header value, the name encoded when it needs to be */
static char *
mailbox(const char *name, const char *addr)
{
	InternetAddress *ia = internet_address_mailbox_new(name, addr);
	char *s = internet_address_to_string(ia, NULL, TRUE);

	g_object_unref(ia);
	return s;
}

/* munged_from - "Name via List Name" <list address> */
static char *
munged_from(const struct list_config *list, const struct post *post)
{
	const char *who = post->from_name ? post->from_name
		: post->from->len ? (const char *) g_ptr_array_index(post->from, 0) : "";
	char *name = g_strdup_printf("%s via %s", who, list->name);
	char *out = mailbox(name, list->address);

	g_free(name);
	return out;
}

/* reply_to_has_author - the post's Reply-To already names its first From address */
static bool
reply_to_has_author(const void *raw, size_t len, const struct post *post)
{
	char *reply = header_value(raw, len, "Reply-To");
	InternetAddressList *list = reply ? internet_address_list_parse(NULL, reply) : NULL;
	bool found = false;
	int i, n = list ? internet_address_list_length(list) : 0;

	for (i = 0; !found && i < n && post->from->len > 0; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		char *a;

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		a = addr_normalize(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		found = a && strcmp(a, g_ptr_array_index(post->from, 0)) == 0;
		g_free(a);
	}
	if (list)
		g_object_unref(list);
	g_free(reply);
	return found;
}

/* set_or_add - replace the first field called name, or add it on top */
static void
set_or_add(GPtrArray *edits, const void *raw, size_t len, const char *name, const char *value)
{
	header_edit_add(edits, name, header_has(raw, len, name) ? 1 : 0, value);
}

/* append_to - a field's value with more text after a comma, or the text alone */
static char *
append_to(const void *raw, size_t len, const char *name, const char *more)
{
	char *old = header_value(raw, len, name);
	char *out = old && *old ? g_strconcat(old, ", ", more, NULL) : g_strdup(more);

	g_free(old);
	return out;
}

/*
 * drop_authres - delete the Authentication-Results fields that mention
 * id, the last first: a milter's MTA deletes one at a time, and the
 * later ones' indexes must still count the original's
 */
static void
drop_authres(GPtrArray *edits, const void *raw, size_t len, const char *id)
{
	GPtrArray *fields;
	GArray *drop;
	guint i;
	int n = 0;

	if (id == NULL || *id == '\0')
		return;		/* none configured (or a literal list_config of a test) */
	fields = header_fields(raw, len);
	drop = g_array_new(FALSE, FALSE, sizeof(int));
	for (i = 0; i < fields->len; i++) {
		const struct header_field *hf = g_ptr_array_index(fields, i);

		if (g_ascii_strcasecmp(hf->name, "Authentication-Results") != 0)
			continue;
		n++;
		if (authres_mentions(hf->value, id))
			g_array_append_val(drop, n);
	}
	for (i = drop->len; i > 0; i--)
		header_edit_add(edits, "Authentication-Results", g_array_index(drop, int, i - 1), NULL);
	g_array_free(drop, TRUE);
	g_ptr_array_free(fields, TRUE);
}

/*
 * compose_relay_edits - the header changes of the members' copy: the
 * list's fields on top (RFC 2919, RFC 2369, Precedence, the loop
 * marker), Sender: the bounce address, and as c asks a Message-ID,
 * copied people in Cc, the DMARC rewrite of From and a subject tag;
 * Authentication-Results in our verifier's name deleted
 */
GPtrArray *
compose_relay_edits(const struct relay_copy *c, const void *raw, size_t len)
{
	const struct list_config *list = c->list;
	GPtrArray *e = header_edits_new();
	char *v;
	guint i;

	v = list_id(list);
	header_edit_add(e, "List-Id", 0, v);
	g_free(v);
	v = g_strdup_printf("<mailto:%s?subject=help>", list->owner);
	header_edit_add(e, "List-Help", 0, v);
	g_free(v);
	v = g_strdup_printf("<mailto:%s>", list->address);
	header_edit_add(e, "List-Post", 0, v);
	g_free(v);
	v = g_strdup_printf("<mailto:%s>", list->owner);
	header_edit_add(e, "List-Owner", 0, v);
	g_free(v);
	if (*list->archive_url) {
		v = g_strdup_printf("<%s>", list->archive_url);
		header_edit_add(e, "List-Archive", 0, v);
		g_free(v);
	}
	header_edit_add(e, "Precedence", 0, "list");
	header_edit_add(e, "X-Loop", 0, list->address);
	set_or_add(e, raw, len, "Sender", list->bounce_address);
	if (c->message_id) {
		v = g_strdup_printf("<%s>", c->message_id);
		header_edit_add(e, "Message-ID", 0, v);
		g_free(v);
	}
	if (c->cc && c->cc->len > 0) {
		GString *more = g_string_new(NULL);

		for (i = 0; i < c->cc->len; i++)
			g_string_append_printf(more, "%s%s", i ? ", " : "", (char *) g_ptr_array_index(c->cc, i));
		v = append_to(raw, len, "Cc", more->str);
		set_or_add(e, raw, len, "Cc", v);
		g_free(v);
		g_string_free(more, TRUE);
	}
	if (c->munge_from) {
		char *author = header_value(raw, len, "From");

		v = munged_from(list, c->post);
		header_edit_add(e, "From", 1, v);
		g_free(v);
		if (author && *author && !reply_to_has_author(raw, len, c->post)) {
			v = append_to(raw, len, "Reply-To", author);
			set_or_add(e, raw, len, "Reply-To", v);
			g_free(v);
		}
		g_free(author);
	}
	if (*list->subject_tag && (c->post->subject == NULL
				   || strstr(c->post->subject, list->subject_tag) == NULL)) {
		char *subject = header_value(raw, len, "Subject");
		char *tag = g_mime_utils_header_encode_text(NULL, list->subject_tag, "utf-8");

		v = subject && *subject ? g_strconcat(tag, " ", subject, NULL) : g_strdup(tag);
		set_or_add(e, raw, len, "Subject", v);
		g_free(v);
		g_free(tag);
		g_free(subject);
	}
	drop_authres(e, raw, len, list->trusted_authserv_id);
	return e;
}

/* read_footer - the list's footer file, which must be UTF-8 */
static char *
read_footer(const struct list_config *list, GError **err)
{
	char *text = NULL;
	GError *ferr = NULL;

	if (!g_file_get_contents(list->footer, &text, NULL, &ferr)) {
		g_set_error(err, COMPOSE_ERROR, 1, "footer %s", ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error(err, COMPOSE_ERROR, 1, "footer %s: not valid UTF-8", list->footer);
		g_free(text);
		return NULL;
	}
	return text;
}

/*
 * compose_footer - the list's footer, if it may be added to this post:
 * a single text/plain part, and an ASCII footer unless the post is
 * UTF-8 in 8bit; NULL if not, or on error (err set)
 */
char *
compose_footer(const struct list_config *list, const struct post *post, GError **err)
{
	char *text;

	if (*list->footer == '\0' || !post->plain_text || (text = read_footer(list, err)) == NULL)
		return NULL;
	if (!g_str_is_ascii(text) && !(post->utf8 && post->body_8bit)) {
		g_free(text);		/* it would need a charset or encoding the post does not declare */
		return NULL;
	}
	return text;
}

/*
 * compose_relay_parts - the members' copy in three pieces of LF text: the
 * header block with the edits of compose_relay_edits() made, the
 * author's bytes from the empty line on (borrowed from raw), and what
 * goes after them (the footer, when given).  The copy is never one
 * buffer: compose_crlf_parts() passes the pieces on as they come.
 */
void
compose_relay_parts(const struct relay_copy *c, const void *raw, size_t len, const char *footer,
		    struct compose_parts *p)
{
	GPtrArray *e = compose_relay_edits(c, raw, len);
	size_t end = header_end(raw, len);

	p->head = header_apply(raw, end, e);
	p->body = (const char *) raw + end;
	p->bodylen = len - end;
	p->tail = g_string_new(NULL);
	if (footer) {
		char last = p->bodylen ? p->body[p->bodylen - 1]
			  : p->head->len ? p->head->str[p->head->len - 1] : '\0';

		if (last != '\n' && (p->bodylen || p->head->len))
			g_string_append_c(p->tail, '\n');
		if (end == len)
			g_string_append_c(p->tail, '\n');	/* no body yet: the footer is one */
		g_string_append(p->tail, footer);
	}
	g_ptr_array_free(e, TRUE);
}

/* compose_parts_clear - free what compose_relay_parts() made */
void
compose_parts_clear(struct compose_parts *p)
{
	if (p->head)
		g_string_free(p->head, TRUE);
	if (p->tail)
		g_string_free(p->tail, TRUE);
	memset(p, 0, sizeof *p);
}

#define CRLF_PIECE	65536	/* bytes converted at a time */

/* put - what buf holds to sink (none: only counted), buf emptied; how many bytes */
static gsize
put(GString *buf, compose_sink sink, gpointer ud)
{
	gsize n = buf->len;

	if (sink && n > 0)
		sink(buf->str, n, ud);
	g_string_truncate(buf, 0);
	return n;
}

/*
 * compose_crlf_parts - the pieces, one after the other, with CRLF line
 * ends and a final newline (as compose_crlf() of them joined), handed
 * to sink in order a piece at a time; sink NULL only counts.  Returns
 * how many bytes that is.
 */
gsize
compose_crlf_parts(const struct compose_parts *p, compose_sink sink, gpointer ud)
{
	const char *piece[3] = { p->head->str, p->body, p->tail->str };
	size_t plen[3] = { p->head->len, p->bodylen, p->tail->len };
	GString *buf = g_string_sized_new(2 * CRLF_PIECE + 2);
	gsize total = 0;
	char pc = 0;
	int i;

	for (i = 0; i < 3; i++) {
		size_t off;

		for (off = 0; off < plen[i]; off += CRLF_PIECE) {
			crlf_append(buf, piece[i] + off, MIN(plen[i] - off, (size_t) CRLF_PIECE), &pc);
			total += put(buf, sink, ud);
		}
	}
	if (total > 0)
		crlf_end(buf, pc);
	total += put(buf, sink, ud);
	g_string_free(buf, TRUE);
	return total;
}

/* append_sink - a compose_sink into a GByteArray */
static void
append_sink(const void *data, size_t len, gpointer ud)
{
	g_byte_array_append(ud, data, (guint) len);
}

/*
 * compose_relay - the members' copy in one buffer: the author's bytes
 * with the edits of compose_relay_edits() and, when given, the footer
 * after the body
 */
GByteArray *
compose_relay(const struct relay_copy *c, const void *raw, size_t len, const char *footer)
{
	struct compose_parts p;
	GByteArray *out;

	compose_relay_parts(c, raw, len, footer, &p);
	out = compose_parts_bytes(&p);
	compose_parts_clear(&p);
	return out;
}

/* compose_parts_bytes - the CRLF bytes of compose_crlf_parts() in one array; the caller unrefs it */
GByteArray *
compose_parts_bytes(const struct compose_parts *p)
{
	GByteArray *out = g_byte_array_sized_new((guint) compose_crlf_parts(p, NULL, NULL));

	compose_crlf_parts(p, append_sink, out);
	return out;
}

/* lookup - the value of a placeholder, or NULL */
static const char *
lookup(const struct tvar *vars, const char *name, size_t n)
{
	for (; vars->name; vars++)
		if (strlen(vars->name) == n && strncmp(vars->name, name, n) == 0)
			return vars->value ? vars->value : "";
	return NULL;
}

/*
 * body_only - placeholders whose values come from mail or a moderator's
 * typing: they are kept out of headers, whatever a template says
 */
static bool
body_only(const char *name, size_t n)
{
	static const char *const names[] = { "sender", "from", "subject", "reason", "comment", "posts",
					     "address", "status", "diagnostic", "note", "join_address" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
			return true;
	return false;
}

/* expand - replace %{name} and %% in one piece of a template; header: the Subject: line */
static gboolean
expand(GString *out, const char *s, const struct tvar *vars, bool header, const char *path,
       GError **err)
{
	while (*s) {
		const char *end;
		const char *v;

		if (s[0] != '%') {
			size_t n = strcspn(s, "%");

			g_string_append_len(out, s, (gssize) n);
			s += n;
			continue;
		}
		if (s[1] == '%') {
			g_string_append_c(out, '%');
			s += 2;
			continue;
		}
		if (s[1] != '{' || (end = strchr(s + 2, '}')) == NULL) {
			g_set_error(err, COMPOSE_ERROR, 1,
				    "%s: a lone %% (write %%%% for a percent sign, %%{name} for a placeholder)",
				    path);
			return FALSE;
		}
		if (header && body_only(s + 2, end - s - 2)) {
			g_set_error(err, COMPOSE_ERROR, 1, "%s: %%{%.*s} may be used in the body only,"
				    " not on the Subject: line", path, (int) (end - s - 2), s + 2);
			return FALSE;
		}
		if ((v = lookup(vars, s + 2, end - s - 2)) == NULL) {
			g_set_error(err, COMPOSE_ERROR, 1, "%s: unknown placeholder %%{%.*s}",
				    path, (int) (end - s - 2), s + 2);
			return FALSE;
		}
		g_string_append(out, v);
		s = end + 1;
	}
	return TRUE;
}

/* compose_render - read and fill a template */
gboolean
compose_render(const char *path, const struct tvar *vars,
	       char **subject, char **body, GError **err)
{
	char *text = NULL;
	char *sep;
	GString *subj = g_string_new(NULL);
	GString *b = g_string_new(NULL);
	GError *ferr = NULL;
	gboolean ok = FALSE;

	if (!g_file_get_contents(path, &text, NULL, &ferr)) {
		g_set_error(err, COMPOSE_ERROR, 1, "template %s", ferr->message);
		g_error_free(ferr);
		goto out;
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error(err, COMPOSE_ERROR, 1, "%s: not valid UTF-8", path);
		goto out;
	}
	if (!g_str_has_prefix(text, "Subject:") || (sep = strstr(text, "\n\n")) == NULL
	    || memchr(text, '\n', sep - text) != NULL) {
		g_set_error(err, COMPOSE_ERROR, 1,
			    "%s: must start with one Subject: line, then an empty line, then the body",
			    path);
		goto out;
	}
	*sep = '\0';
	if (!expand(subj, g_strstrip(text + strlen("Subject:")), vars, true, path, err)
	    || !expand(b, sep + 2, vars, false, path, err))
		goto out;
	*subject = g_string_free(subj, FALSE);
	*body = g_string_free(b, FALSE);
	subj = b = NULL;
	ok = TRUE;
out:
	if (subj)
		g_string_free(subj, TRUE);
	if (b)
		g_string_free(b, TRUE);
	g_free(text);
	return ok;
}

/* references - the original's References plus its Message-ID, as <id> <id> */
static char *
references(const struct post *orig)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < orig->references->len; i++)
		g_string_append_printf(s, "%s<%s>", s->len ? " " : "",
				       (char *) g_ptr_array_index(orig->references, i));
	if (orig->message_id)
		g_string_append_printf(s, "%s<%s>", s->len ? " " : "", orig->message_id);
	return g_string_free(s, FALSE);
}

/*
 * templates - every template vigil mails, with the placeholders the
 * code fills for it; compose_check() renders each with sample values
 */
static const struct {
	const char *file;
	const char *names[12];
} templates[] = {
	{ "autoreply-held.txt", { "list_name", "list_address", "owner", "report_id", "sender" } },
	{ "moderator-held.txt", { "list_name", "list_address", "owner", "report_id", "post_id",
				  "sender", "from", "subject", "size", "reason", "vigil" } },
	{ "moderator-decision.txt", { "list_name", "list_address", "report_id", "post_id",
				      "action", "moderator", "comment", "subject", "vigil" } },
	{ "moderator-digest.txt", { "list_name", "list_address", "count", "posts",
				    "remind_after", "hold_expiry", "vigil" } },
	{ "reject.txt", { "list_name", "list_address", "owner", "report_id", "sender", "reason" } },
	{ "expired.txt", { "list_name", "list_address", "owner", "report_id", "sender",
			   "hold_expiry" } },
	{ "bounce-owner.txt", { "list_name", "list_address", "address", "count", "window",
				"status", "diagnostic", "vigil" } },
	{ "invitation.txt", { "list_name", "list_address", "owner", "address", "role", "inviter",
			      "sponsors", "note", "join_address", "expires" } },
	{ "join-invalid.txt", { "list_name", "list_address", "owner" } },
	{ "welcome.txt", { "list_name", "list_address", "owner", "address", "role", "inviter",
			   "sponsors" } },
	{ "moderator-joined.txt", { "list_name", "list_address", "address", "role", "inviter",
				    "sponsors", "vigil" } },
	{ "member-removed.txt", { "list_name", "list_address", "owner", "address", "moderator",
				  "reason" } },
};

/* sample - a plausible value for a placeholder, for compose_check() */
static const char *
sample(const struct list_config *list, const char *name)
{
	static const struct tvar samples[] = {
		{ "report_id", "2026-0001" }, { "post_id", "1" },
		{ "sender", "reporter@example.net" }, { "from", "reporter@example.net" },
		{ "subject", "Heap overflow in the parser" }, { "size", "2048" },
		{ "reason", "non-member" }, { "vigil", "vigil" }, { "action", "approved" },
		{ "moderator", "moderator@example.org" }, { "comment", "" }, { "count", "1" },
		{ "posts", "  1  2026-0001  26h  reporter@example.net  Heap overflow\n" },
		{ "remind_after", "1d" }, { "hold_expiry", "2w" },
		{ "address", "member@example.net" }, { "window", "30d" }, { "status", "5.1.1" },
		{ "diagnostic", "550 5.1.1 <member@example.net>: Recipient address rejected" },
		{ "role", "member" }, { "inviter", "moderator@example.org" },
		{ "sponsors", "moderator@example.org, member@example.org" },
		{ "note", "vendor security contact" },
		{ "join_address", "security+join-abcdefghijklmnopqrstuvwxyz234567@example.org" },
		{ "expires", "2026-11-28T10:00:00Z" },
	};
	size_t i;

	if (strcmp(name, "list_name") == 0)
		return list->name;
	if (strcmp(name, "list_address") == 0)
		return list->address;
	if (strcmp(name, "owner") == 0)
		return list->owner;
	for (i = 0; i < G_N_ELEMENTS(samples); i++)
		if (strcmp(samples[i].name, name) == 0)
			return samples[i].value;
	g_error("compose: no sample for placeholder %s", name);
	return NULL;
}

/* compose_check - render every template for list with sample values */
gboolean
compose_check(const struct list_config *list, const char *template_dir, GError **err)
{
	size_t i, k;

	for (i = 0; i < G_N_ELEMENTS(templates); i++) {
		struct tvar vars[G_N_ELEMENTS(templates[0].names) + 1] = { { 0 } };
		char *path = g_build_filename(template_dir, templates[i].file, NULL);
		char *subject = NULL, *body = NULL;
		gboolean ok;

		for (k = 0; k < G_N_ELEMENTS(templates[i].names) && templates[i].names[k]; k++)
			vars[k] = (struct tvar) { templates[i].names[k], sample(list, templates[i].names[k]) };
		ok = compose_render(path, vars, &subject, &body, err);
		g_free(path);
		g_free(subject);
		g_free(body);
		if (!ok)
			return FALSE;
	}
	if (*list->footer) {
		char *footer = read_footer(list, err);

		g_free(footer);
		return footer != NULL;
	}
	return TRUE;
}

/* crlf_line - a header field or body from GMime (LF), into out with CRLF, its last line ended */
static void
crlf_line(GString *out, const char *s, size_t len)
{
	char pc = 0;

	crlf_append(out, s, len, &pc);
	if (len > 0)
		crlf_end(out, pc);
}

/*
 * header_items - "name: a, b": items without blanks, separated by a
 * comma and a space (comma) or a space, the line folded between two
 * items before it passes 78 columns, as GMime folds an address list
 */
static void
header_items(GString *out, const char *name, const char *const *items, guint n, bool comma)
{
	size_t col = strlen(name) + 2;
	guint i;

	g_string_append_printf(out, "%s: ", name);
	for (i = 0; i < n; i++) {
		size_t len = strlen(items[i]);

		if (i > 0) {
			if (comma)
				g_string_append_c(out, ',');
			col += comma + 1;
			if (col + len > 78) {
				g_string_append(out, "\r\n\t");
				col = 1;
			} else
				g_string_append_c(out, ' ');
		}
		g_string_append(out, items[i]);
		col += len;
	}
	g_string_append(out, "\r\n");
}

/*
 * header_from - From: the list's name and addr, encoded and folded by
 * GMime, which counts the columns from the start of the string it is
 * given.  A plain address under a name that fits on the line is written
 * here, as GMime would write it (test_compose compares the two): GMime
 * converts every domain to IDN again, a third of a notice's cost.
 */
static void
header_from(GString *out, const char *name, const char *addr)
{
	InternetAddressList *list;
	InternetAddress *ia;
	GString *line;

	if (name && *name && addr_is_plain(addr)) {
		char *phrase = g_mime_utils_header_encode_phrase(NULL, name, NULL);

		if (strlen("From: ") + strlen(phrase) + strlen(" <") + strlen(addr) + 1 < 78) {
			g_string_append_printf(out, "From: %s <%s>\r\n", phrase, addr);
			g_free(phrase);
			return;
		}
		g_free(phrase);
	}
	list = internet_address_list_new();
	ia = internet_address_mailbox_new(name, addr);
	line = g_string_new("From: ");

	internet_address_list_add(list, ia);
	g_object_unref(ia);
	internet_address_list_encode(list, NULL, line);
	g_object_unref(list);
	crlf_line(out, line->str, line->len);
	g_string_free(line, TRUE);
}

/*
 * plain_text - text is printable ASCII with single blanks between words
 * and nothing that could read as an encoded word: GMime's encoder leaves
 * it as it is (test_compose compares the two)
 */
static bool
plain_text(const char *text)
{
	const char *p;

	if (*text == ' ' || strstr(text, "=?") != NULL)
		return false;
	for (p = text; *p; p++)
		if (*p < 0x20 || *p > 0x7e || (*p == ' ' && (p[1] == ' ' || p[1] == '\0')))
			return false;
	return true;
}

/* header_subject - Subject: text, RFC 2047-encoded where it must be, folded */
static void
header_subject(GString *out, const char *text)
{
	char *enc, *line, *folded;

	if (strlen("Subject: ") + strlen(text) <= 78 && plain_text(text)) {
		g_string_append_printf(out, "Subject: %s\r\n", text);
		return;
	}
	enc = g_mime_utils_header_encode_text(NULL, text, "utf-8");
	line = g_strconcat("Subject: ", enc, NULL);
	folded = g_mime_utils_unstructured_header_fold(NULL, NULL, line);

	crlf_line(out, folded, strlen(folded));
	g_free(enc);
	g_free(line);
	g_free(folded);
}

/* quoted_printable - text in quoted-printable, with CRLF, each line ended */
static void
quoted_printable(GString *out, const char *text)
{
	GMimeEncoding enc;
	size_t len = strlen(text);
	char *qp;

	g_mime_encoding_init_encode(&enc, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	qp = g_malloc(g_mime_encoding_outlen(&enc, len));
	crlf_line(out, qp, g_mime_encoding_flush(&enc, text, len, qp));
	g_free(qp);
}

/*
 * local_zone - the local time zone, read once a process, as Postfix
 * reads it at start: GLib would look at TZ and /etc/localtime again for
 * every date
 */
static GTimeZone *
local_zone(void)
{
	static gsize zone;

	if (g_once_init_enter(&zone))
		g_once_init_leave(&zone, (gsize) g_time_zone_new_local());
	return (GTimeZone *) zone;
}

/*
 * compose_notice - a plain-text message from a template: From, To,
 * Date, Message-ID, In-Reply-To and References when given,
 * Auto-Submitted, and the rendered body as UTF-8 quoted-printable.
 * Written out directly: through GMime's objects, the two notices of a
 * held post were half of the instructions of its intake.
 */
GByteArray *
compose_notice(const struct list_config *list, const char *template_dir,
	       const struct notice *n, GError **err)
{
	char *path = g_build_filename(template_dir, n->template, NULL);
	char *subject = NULL, *body = NULL;
	GString *out;
	GDateTime *utc, *date;
	char *s;

	if (!compose_render(path, n->vars, &subject, &body, err)) {
		g_free(path);
		return NULL;
	}
	g_free(path);
	out = g_string_sized_new(1024 + 3 * strlen(body));
	utc = g_date_time_new_from_unix_utc(n->now);
	date = g_date_time_to_timezone(utc, local_zone());
	s = g_mime_utils_header_format_date(date);
	g_string_append_printf(out, "Date: %s\r\n", s);
	g_free(s);
	g_date_time_unref(date);
	g_date_time_unref(utc);
	header_from(out, list->name, n->from);
	if (n->reply_to)
		header_items(out, "Reply-To", &n->reply_to, 1, true);
	header_subject(out, subject);
	header_items(out, "To", (const char *const *) n->to->pdata, n->to->len, true);
	s = compose_message_id(list);
	g_string_append_printf(out, "Message-Id: <%s>\r\n", s);
	g_free(s);
	if (n->in_reply_to && *n->in_reply_to)
		g_string_append_printf(out, "In-Reply-To: <%s>\r\n", n->in_reply_to);
	if (n->references && *n->references) {
		char **ids = g_strsplit(n->references, " ", -1);

		header_items(out, "References", (const char *const *) ids, g_strv_length(ids), false);
		g_strfreev(ids);
	}
	g_string_append_printf(out, "Auto-Submitted: %s\r\n", n->auto_submitted);
	g_string_append_printf(out, "X-Auto-Response-Suppress: All\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: text/plain; charset=%s\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			       g_str_is_ascii(body) ? "us-ascii" : "utf-8");
	quoted_printable(out, body);
	g_free(subject);
	g_free(body);
	return g_bytes_unref_to_array(g_string_free_to_bytes(out));
}

/* compose_autoreply - "your report is held", RFC 3834 */
GByteArray *
compose_autoreply(const struct list_config *list, const char *template_dir,
		  const struct post *orig, const char *to, const char *report_id,
		  gint64 now, GError **err)
{
	const struct tvar vars[] = {
		{ "list_name", list->name }, { "list_address", list->address },
		{ "owner", list->owner }, { "report_id", report_id }, { "sender", to },
		{ NULL, NULL },
	};
	GPtrArray *rcpt = g_ptr_array_new();
	char *refs = references(orig);
	struct notice n = {
		.template = "autoreply-held.txt", .vars = vars, .from = list->address, .to = rcpt,
		.in_reply_to = orig->message_id, .references = refs,
		.auto_submitted = "auto-replied", .now = now,
	};
	GByteArray *out;

	g_ptr_array_add(rcpt, (char *) to);
	out = compose_notice(list, template_dir, &n, err);
	g_ptr_array_free(rcpt, TRUE);
	g_free(refs);
	return out;
}
