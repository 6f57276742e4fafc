/*
 * NAME
 *	fuzz_intake - fuzz harness for message intake: bytes to facts
 * SYNOPSIS
 *	fuzz_intake [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input is the raw bytes of an incoming message.  They go
 *	through everything intake and the moderator's view do with them
 *	that needs no database: message_parse() and the facts policy is
 *	given, policy_decide(), the members' copy (compose_relay(), and
 *	compose_relay_edits() with header_apply_unfolded() as a milter's
 *	MTA makes it), message_readable(), bounce_parse() and
 *	text_escape().  These must hold:
 *
 *	The post: its size is the input's; every string is valid UTF-8;
 *	every From, To, Cc and X-Loop address is canonical; references
 *	are there once each and include In-Reply-To's first id; a message
 *	without a header block has no addresses and no references.
 *
 *	The verdict: a message carrying the list's loop marker is never
 *	relayed, even from a member.
 *
 *	The members' copy, pipe or milter, with or without the DMARC
 *	rewrite, subject tag, Cc and new Message-ID, is never relayed
 *	again when it comes back from a member: it parses with the list's
 *	loop marker, its List-Id and Precedence: list, or it does not
 *	parse (policy holds it as malformed).  The pipe copy is ready for
 *	SMTP: every LF is part of a CRLF, the last line's too.  With no edits
 *	header_apply() gives the bytes back unchanged.
 *
 *	The moderator's view and the bounce report hand out valid UTF-8
 *	only; a bounce's addresses are canonical, its action one of the
 *	RFC 3464 words or "", its status class.subject.detail or "".
 *	text_escape() output has no control characters.
 * SECURITY
 *	Every byte comes from a stranger.  A relayed copy whose loop
 *	marker our own parser cannot see again could circle between the
 *	list and a member's forwarding address for ever.
 */
#include <string.h>

#include "addr.h"
#include "bounce.h"
#include "compose.h"
#include "config.h"
#include "header.h"
#include "message.h"
#include "policy.h"
#include "text.h"
#include "fuzz.h"

#define LIST	"security@example.org"

static struct list_config list = {
	.address = LIST, .name = "Security Team", .owner = "owner@example.org",
	.autoreply_interval = 86400, .max_message_size = 50 * 1024 * 1024,
	.bounce_address = "security-bounces@example.org", .subject_tag = "", .footer = "",
	.archive_url = "", .archive = "", .archive_group = "", .invite_expiry = 7 * 86400,
	.vouches_required = 1,
};

/* LLVMFuzzerInitialize - GMime once per process */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	message_init();
	return 0;
}

/* check_addrs - every address of an array is canonical */
static void
check_addrs(const char *what, const GPtrArray *a)
{
	guint i;

	for (i = 0; i < a->len; i++) {
		const char *s = g_ptr_array_index(a, i);
		char *again = addr_normalize(s);

		FUZZ_CHECK(again && strcmp(again, s) == 0, "%s \"%s\" is not canonical", what, s);
		FUZZ_CHECK(fuzz_utf8_ok(s), "%s \"%s\" is not UTF-8", what, s);
		g_free(again);
	}
}

/* check_post - the facts message_parse() hands out */
static void
check_post(const struct post *p, size_t size)
{
	guint i, k;
	bool found = p->in_reply_to == NULL;

	FUZZ_CHECK(p->size == size, "size %zu of %zu", p->size, size);
	FUZZ_CHECK(fuzz_utf8_ok(p->subject), "subject");
	FUZZ_CHECK(fuzz_utf8_ok(p->from_name), "from_name");
	FUZZ_CHECK(fuzz_utf8_ok(p->message_id), "message_id");
	FUZZ_CHECK(fuzz_utf8_ok(p->in_reply_to), "in_reply_to");
	FUZZ_CHECK(fuzz_utf8_ok(p->auto_submitted), "auto_submitted");
	FUZZ_CHECK(fuzz_utf8_ok(p->precedence), "precedence");
	FUZZ_CHECK(fuzz_utf8_ok(p->auto_response_suppress), "auto_response_suppress");
	check_addrs("From", p->from);
	check_addrs("To/Cc", p->to_cc);
	check_addrs("X-Loop", p->loops);
	for (i = 0; i < p->references->len; i++) {
		const char *id = g_ptr_array_index(p->references, i);

		FUZZ_CHECK(fuzz_utf8_ok(id), "reference");
		for (k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(id, g_ptr_array_index(p->references, k)) != 0, "reference <%s> twice", id);
		if (p->in_reply_to && strcmp(id, p->in_reply_to) == 0)
			found = true;
	}
	FUZZ_CHECK(found, "In-Reply-To <%s> is not among the references", p->in_reply_to);
	if (!p->parsed)
		FUZZ_CHECK(p->from->len == 0 && p->to_cc->len == 0 && p->references->len == 0
			   && p->loops->len == 0, "addresses or references without a header block");
}

/*
 * facts_of - what policy is told of a post from a member, for the list:
 * intake's header facts
 */
static void
facts_of(const struct post *p, size_t size, struct facts *f)
{
	memset(f, 0, sizeof *f);
	f->parsed = p->parsed;
	f->sender_member = true;
	f->loop = message_has_loop(p, LIST);
	f->auto_submitted = p->auto_submitted;
	f->precedence = p->precedence;
	f->auto_response_suppress = p->auto_response_suppress;
	f->has_list_id = p->has_list_id;
	f->size = (int64_t) size;
	f->max_size = list.max_message_size;
	f->now = 1700000000;
	f->autoreply_interval = list.autoreply_interval;
}

/* check_verdict - a loop is never relayed, whoever sends it */
static void
check_verdict(const struct post *p, size_t size)
{
	struct facts f;
	struct verdict v;

	facts_of(p, size, &f);
	v = policy_decide(&f);
	if (f.loop)
		FUZZ_CHECK(v.action != ACTION_RELAY, "a loop relayed");
	f.sender_member = false;
	v = policy_decide(&f);
	if (v.autoreply)
		FUZZ_CHECK(!p->has_list_id, "auto-reply to a list's message");
}

/*
 * check_copy - the members' copy never passes the list again by itself:
 * it carries the loop marker where our parser sees it, or does not parse
 * at all (then policy holds it as malformed)
 */
static void
check_copy(const char *how, const char *data, size_t len)
{
	struct post *p = message_parse(data, len);
	struct facts f;
	struct verdict v;

	facts_of(p, len, &f);
	v = policy_decide(&f);
	FUZZ_CHECK(v.action != ACTION_RELAY, "%s copy would be relayed again (%s):\n%.*s", how, v.reason,
		   (int) MIN(len, 2000), data);
	if (p->parsed) {
		char *precedence = p->precedence ? g_ascii_strdown(p->precedence, -1) : NULL;

		FUZZ_CHECK(message_has_loop(p, LIST), "%s copy has no loop marker:\n%.*s", how,
			   (int) MIN(len, 2000), data);
		FUZZ_CHECK(p->has_list_id, "%s copy has no List-Id", how);
		FUZZ_CHECK(precedence && strcmp(precedence, "list") == 0, "%s copy: Precedence %s", how,
			   p->precedence ? p->precedence : "(none)");
		g_free(precedence);
	}
	message_free(p);
}

/*
 * check_smtp_ready - bytes for SMTP DATA: every line ends in CRLF, the last
 * too; a bare LF would be a line end to some MTAs and not to others (SMTP
 * smuggling).  A bare CR is content, as the author sent it.
 */
static void
check_smtp_ready(const char *p, size_t len)
{
	size_t i;

	FUZZ_CHECK(len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n', "no final CRLF");
	for (i = 0; i < len; i++)
		if (p[i] == '\n')
			FUZZ_CHECK(i > 0 && p[i - 1] == '\r', "bare LF at %zu of %zu", i, len);
}

/* check_relay - the members' copy, as the pipe filter and as a milter's MTA make it */
static void
check_relay(const struct post *p, const uint8_t *data, size_t size, bool full)
{
	GPtrArray *cc = g_ptr_array_new();
	struct relay_copy c = { .list = &list, .post = p };
	GByteArray *copy;
	GPtrArray *edits;
	GString *s;

	if (full) {
		g_ptr_array_add(cc, "reporter@example.net");
		c.cc = cc;
		c.munge_from = true;
		c.message_id = "new.1@example.org";
		list.subject_tag = "[sec]";
	}
	copy = compose_relay(&c, data, size, NULL);
	check_smtp_ready((const char *) copy->data, copy->len);
	check_copy("pipe", (const char *) copy->data, copy->len);
	g_byte_array_unref(copy);
	edits = compose_relay_edits(&c, data, size);
	s = header_apply_unfolded((const char *) data, size, edits);
	check_copy("milter", s->str, s->len);
	g_string_free(s, TRUE);
	g_ptr_array_free(edits, TRUE);
	list.subject_tag = "";
	g_ptr_array_free(cc, TRUE);
}

/* check_readable - the moderator's view */
static void
check_readable(const uint8_t *data, size_t size)
{
	struct readable *r = message_readable((const char *) data, size);
	guint i;

	FUZZ_CHECK(r->headers->len % 2 == 0, "odd header array");
	for (i = 0; i < r->headers->len; i++)
		FUZZ_CHECK(fuzz_utf8_ok(g_ptr_array_index(r->headers, i)), "header %u", i);
	for (i = 0; i < r->parts->len; i++) {
		const struct readable_part *rp = g_ptr_array_index(r->parts, i);

		FUZZ_CHECK(rp->type && rp->name && fuzz_utf8_ok(rp->type) && fuzz_utf8_ok(rp->name)
			   && fuzz_utf8_ok(rp->text), "part %u", i);
		FUZZ_CHECK(rp->size >= -1, "part %u size %" G_GINT64_FORMAT, i, rp->size);
	}
	message_readable_free(r);
}

/* status_ok - "" or class.subject.detail with class 2, 4 or 5 */
static bool
status_ok(const char *s)
{
	int part;

	if (*s == '\0')
		return true;
	if (*s != '2' && *s != '4' && *s != '5')
		return false;
	s++;
	for (part = 0; part < 2; part++) {
		const char *digits;

		if (*s++ != '.')
			return false;
		digits = s;
		while (g_ascii_isdigit(*s))
			s++;
		if (s == digits || s - digits > 3)
			return false;
	}
	return *s == '\0';
}

/* check_bounce - the DSN reading */
static void
check_bounce(const uint8_t *data, size_t size)
{
	static const char *const actions[] = { "", "failed", "delayed", "delivered", "relayed", "expanded" };
	struct bounce *b = bounce_parse((const char *) data, size);
	guint i;
	size_t k;

	FUZZ_CHECK(b->reporting_mta && fuzz_utf8_ok(b->reporting_mta), "reporting_mta");
	for (i = 0; i < b->rcpts->len; i++) {
		const struct bounce_rcpt *r = g_ptr_array_index(b->rcpts, i);
		char *again = addr_normalize(r->address);
		bool known = false;

		FUZZ_CHECK(r->address && r->action && r->status && r->diagnostic, "NULL in recipient %u", i);
		FUZZ_CHECK(again && strcmp(again, r->address) == 0, "address \"%s\" not canonical", r->address);
		FUZZ_CHECK(strlen(r->address) <= 254, "address of %zu bytes", strlen(r->address));
		FUZZ_CHECK(fuzz_utf8_ok(r->address) && fuzz_utf8_ok(r->action) && fuzz_utf8_ok(r->status)
			   && fuzz_utf8_ok(r->diagnostic), "recipient %u not UTF-8", i);
		for (k = 0; k < G_N_ELEMENTS(actions); k++)
			if (strcmp(r->action, actions[k]) == 0)
				known = true;
		FUZZ_CHECK(known, "action \"%s\"", r->action);
		FUZZ_CHECK(status_ok(r->status), "status \"%s\"", r->status);
		FUZZ_CHECK(strlen(r->diagnostic) <= 1000, "diagnostic of %zu bytes", strlen(r->diagnostic));
		(void) bounce_rcpt_failed(r);
		g_free(again);
	}
	FUZZ_CHECK(b->rcpts->len <= 1000, "%u recipients", b->rcpts->len);
	bounce_free(b);
}

/* check_escape - terminal output of a mail-supplied string */
static void
check_escape(const char *s)
{
	char *e = text_escape(s);
	const unsigned char *p;

	FUZZ_CHECK(g_utf8_validate(e, -1, NULL), "escaped text is not UTF-8");
	for (p = (const unsigned char *) e; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "control 0x%02x in escaped text", *p);
	g_free(e);
}

/* LLVMFuzzerTestOneInput - one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct post *p = message_parse((const char *) data, size);
	GPtrArray *none = header_edits_new();
	GString *same = header_apply((const char *) data, size, none);
	char *raw = g_strndup((const char *) data, size);

	FUZZ_CHECK(same->len == size && memcmp(same->str, data, size) == 0, "header_apply without edits"
		   " changed the message");
	g_string_free(same, TRUE);
	g_ptr_array_free(none, TRUE);

	check_post(p, size);
	check_verdict(p, size);
	check_relay(p, data, size, false);
	check_relay(p, data, size, true);
	check_escape(p->subject);
	check_escape(p->from_name);
	check_escape(raw);
	message_free(p);
	g_free(raw);

	check_readable(data, size);
	check_bounce(data, size);
	return 0;
}
