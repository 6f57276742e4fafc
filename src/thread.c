/*
 * NAME
 *	thread - reports and the threads that follow them
 * SYNOPSIS
 *	#include "thread.h"
 *
 *	enum store_rc thread_resolve(st, list, post, &thread, err);
 *	enum store_rc thread_is_reporter(st, list, report_id, sender, post, &by_sender,
 *					 &by_from, err);
 *	enum store_rc thread_copies(st, list, report_id, sender, post, &addresses, err);
 * DESCRIPTION
 *	An approved report opens a thread; every message relayed in reply
 *	to it joins the thread under its Message-ID, so a reply finds its
 *	report however deep it sits and however short its References.
 *
 *	thread_resolve() looks at the post's In-Reply-To and References,
 *	the direct parent first, then newest to oldest (at most
 *	THREAD_MAX_REFS of them): the first that is a relayed message of a
 *	report names the thread.  mixed says that other references lead to
 *	another report: a reporter's mail that touches someone else's
 *	report is then not let through.
 *
 *	thread_is_reporter() says whether the envelope sender (by_sender)
 *	and whether a From address (by_from) is a reporter of the report
 *	(not merely copied on it): policy asks each address for its own
 *	authentication, and counts a From address only when a verifier
 *	vouches for it (anyone may write the reporter's address there).
 *
 *	thread_copies() is who gets a thread's message besides the members:
 *	the report's reporters and the people copied on it, but not the
 *	author and not anyone the message already reaches through its To
 *	or Cc (they have their copy from the author), in the order added.
 */
#include "thread.h"

#include <string.h>

/* nth_ref - the i-th reference to look at: In-Reply-To, then References newest first */
static const char *
nth_ref(const struct post *post, guint i)
{
	if (post->in_reply_to) {
		if (i == 0)
			return post->in_reply_to;
		i--;
	}
	return g_ptr_array_index(post->references, post->references->len - 1 - i);
}

/* thread_resolve - the report a post's references lead to */
enum store_rc
thread_resolve(struct store *st, const char *list, const struct post *post, struct thread *out,
	       GError **err)
{
	guint i, n = MIN(post->references->len + (post->in_reply_to != NULL), THREAD_MAX_REFS);
	enum store_rc r;

	memset(out, 0, sizeof *out);
	for (i = 0; i < n; i++) {
		const char *ref = nth_ref(post, i);
		char *report = NULL;

		if (i > 0 && post->in_reply_to && strcmp(ref, post->in_reply_to) == 0)
			continue;	/* the parent again, in References */
		r = store_thread_of(st, list, ref, &report, err);
		if (r == STORE_NOTFOUND)
			continue;
		if (r != STORE_OK) {
			thread_clear(out);
			return r;
		}
		if (out->report_id == NULL)
			out->report_id = report;
		else {
			if (strcmp(out->report_id, report) != 0)
				out->mixed = true;
			g_free(report);
		}
	}
	return STORE_OK;
}

/* thread_clear - free what thread_resolve() filled in */
void
thread_clear(struct thread *t)
{
	g_free(t->report_id);
	memset(t, 0, sizeof *t);
}

/* is_author - addr is the envelope sender or a From address */
static bool
is_author(const char *addr, const char *sender, const struct post *post)
{
	return (sender && strcmp(addr, sender) == 0) || message_from_is(post, addr);
}

/* thread_is_reporter - the sender, a From address, reported this report */
enum store_rc
thread_is_reporter(struct store *st, const char *list, const char *report_id, const char *sender,
		   const struct post *post, bool *by_sender, bool *by_from, GError **err)
{
	GPtrArray *people;
	enum store_rc r;
	guint i;

	*by_sender = *by_from = false;
	if ((r = store_reporter_list(st, list, report_id, &people, err)) != STORE_OK)
		return r;
	for (i = 0; i < people->len; i++) {
		const struct reporter *p = g_ptr_array_index(people, i);

		if (strcmp(p->kind, "reporter") != 0)
			continue;
		if (sender && strcmp(p->address, sender) == 0)
			*by_sender = true;
		if (message_from_is(post, p->address))
			*by_from = true;
	}
	g_ptr_array_free(people, TRUE);
	return STORE_OK;
}

/* in_to_cc - the message names addr in To or Cc */
static bool
in_to_cc(const struct post *post, const char *addr)
{
	guint i;

	for (i = 0; i < post->to_cc->len; i++)
		if (strcmp(g_ptr_array_index(post->to_cc, i), addr) == 0)
			return true;
	return false;
}

/* thread_copies - reporters and copied people who need the list's copy */
enum store_rc
thread_copies(struct store *st, const char *list, const char *report_id, const char *sender,
	      const struct post *post, GPtrArray **out, GError **err)
{
	GPtrArray *people;
	enum store_rc r;
	guint i;

	*out = g_ptr_array_new_with_free_func(g_free);
	if ((r = store_reporter_list(st, list, report_id, &people, err)) != STORE_OK)
		return r;
	for (i = 0; i < people->len; i++) {
		const struct reporter *p = g_ptr_array_index(people, i);

		if (!is_author(p->address, sender, post) && !in_to_cc(post, p->address))
			g_ptr_array_add(*out, g_strdup(p->address));
	}
	g_ptr_array_free(people, TRUE);
	return STORE_OK;
}
