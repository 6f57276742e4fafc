/*
 * test_thread - which report a reply belongs to, who reported it, and who
 * gets the list's copy besides the members, on a real sqlite file
 *
 * The database holds, for FIXTURE_LIST:
 *	report A (2029-0001): a1 (the approved report), a2 (a member's reply
 *	to it), a3 (a reply to a2); a held reply h1 and a rejected r1 that
 *	name thread A but were never relayed; reporters rep-a, rep-a2 and
 *	cc-a, copied by a moderator
 *	report B (2029-0002): b1, reporter rep-b
 *	a member's post m1 outside any thread
 * and for another list the relayed o1 in a thread also called 2029-0001.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "dbfixture.h"
#include "message.h"
#include "store.h"
#include "thread.h"

#define A "2029-0001"
#define B "2029-0002"
#define OTHER_LIST "abuse@example.org"

struct seed_post {
	const char *list;
	const char *status;
	const char *report_id;
	const char *message_id;
	const char *thread;
};

static const struct seed_post seed_posts[] = {
	{ FIXTURE_LIST, "approved", A, "a1@example.net", A },
	{ FIXTURE_LIST, "relayed", NULL, "a2@example.org", A },
	{ FIXTURE_LIST, "relayed", NULL, "a3@example.org", A },
	{ FIXTURE_LIST, "approved", B, "b1@example.net", B },
	{ FIXTURE_LIST, "held", "2029-0003", "h1@example.net", A },
	{ FIXTURE_LIST, "rejected", "2029-0004", "r1@example.net", A },
	{ FIXTURE_LIST, "relayed", NULL, "m1@example.org", NULL },
	{ OTHER_LIST, "relayed", NULL, "o1@example.org", A },
};

struct seed_reporter {
	const char *report_id;
	const char *address;
	const char *kind;
	const char *by;
	gint64 added;
};

static const struct seed_reporter seed_reporters[] = {
	{ A, "rep-a@example.net", "reporter", NULL, 10 },
	{ A, "cc-a@example.net", "cc", "alice@example.org", 20 },
	{ A, "rep-a2@example.net", "reporter", NULL, 30 },
	{ B, "rep-b@example.net", "reporter", NULL, 10 },
};

/* setup - the fixture, its posts and its reporters */
static int
setup(void **state)
{
	struct fixture *fx = fixture_new("vigil-thread", "");
	GError *err = NULL;
	size_t i;

	if (fx == NULL)
		return -1;
	for (i = 0; i < G_N_ELEMENTS(seed_posts); i++) {
		const struct seed_post *s = &seed_posts[i];
		struct post_record rec = {
			.list = s->list, .status = s->status, .reason = "member",
			.report_id = s->report_id, .sender = "x@example.org", .from = "x@example.org",
			.subject = "s", .message_id = s->message_id, .received = 100 + (gint64) i,
			.size = 10, .thread = s->thread,
		};
		gint64 id;

		if (store_post_add(fx->st, &rec, &id, &err) != STORE_OK) {
			print_error("seed post %s: %s\n", s->message_id, err ? err->message : "?");
			return -1;
		}
	}
	for (i = 0; i < G_N_ELEMENTS(seed_reporters); i++) {
		const struct seed_reporter *s = &seed_reporters[i];

		if (store_reporter_add(fx->st, FIXTURE_LIST, s->report_id, s->address, s->kind, s->by,
				       s->added, &err) != STORE_OK) {
			print_error("seed reporter %s: %s\n", s->address, err ? err->message : "?");
			return -1;
		}
	}
	*state = fx;
	return 0;
}

/* parse - a message with these From and reference lines */
static struct post *
parse(const char *from, const char *extra)
{
	char *raw = g_strdup_printf("From: %s\nTo: security@example.org\nSubject: re\n"
				    "Message-ID: <new@example.net>\n%s\nbody\n", from, extra);
	struct post *p = message_parse(raw, strlen(raw));

	g_free(raw);
	return p;
}

struct resolve_row {
	const char *name;
	const char *refs;	/* header lines */
	const char *want;	/* report, NULL for none */
	bool mixed;
};

/* check_resolve - one row of thread_resolve() */
static void
check_resolve(struct fixture *fx, const struct resolve_row *r)
{
	struct post *post = parse("someone@example.net", r->refs);
	struct thread t = { (char *) "junk", true };
	GError *err = NULL;
	enum store_rc rc = thread_resolve(fx->st, FIXTURE_LIST, post, &t, &err);

	if (rc != STORE_OK)
		fail_msg("%s: rc %d (%s)", r->name, rc, err ? err->message : "");
	if ((t.report_id == NULL) != (r->want == NULL) || (t.report_id && strcmp(t.report_id, r->want) != 0)
	    || t.mixed != r->mixed)
		fail_msg("%s: got %s mixed=%d, want %s mixed=%d", r->name,
			 t.report_id ? t.report_id : "NULL", t.mixed, r->want ? r->want : "NULL", r->mixed);
	thread_clear(&t);
	assert_null(t.report_id);
	message_free(post);
}

/* resolve_rows - the report a reply belongs to */
static void
resolve_rows(void **state)
{
	static const struct resolve_row rows[] = {
		{ "no references", "", NULL, false },
		{ "direct reply to the report, In-Reply-To only",
		  "In-Reply-To: <a1@example.net>\n", A, false },
		{ "direct reply, References only", "References: <a1@example.net>\n", A, false },
		{ "reply to a member's reply", "In-Reply-To: <a2@example.org>\n", A, false },
		{ "deep: References name only the grandparent, the parent unknown",
		  "In-Reply-To: <lost@example.net>\nReferences: <a1@example.net>\n", A, false },
		{ "deep: References name only a reply in the thread",
		  "References: <a3@example.org>\n", A, false },
		{ "full chain", "In-Reply-To: <a3@example.org>\n"
		  "References: <a1@example.net> <a2@example.org> <a3@example.org>\n", A, false },
		{ "the same report twice is not mixed",
		  "In-Reply-To: <a3@example.org>\nReferences: <a1@example.net> <x@example.net>\n", A, false },
		{ "references to unknown messages",
		  "In-Reply-To: <x@example.net>\nReferences: <y@example.net> <z@example.net>\n", NULL, false },
		{ "a reply to report B", "In-Reply-To: <b1@example.net>\n", B, false },
		{ "References name A, In-Reply-To names B: B, mixed",
		  "In-Reply-To: <b1@example.net>\nReferences: <a1@example.net>\n", B, true },
		{ "newest reference first: A then B in References, B wins",
		  "References: <a1@example.net> <b1@example.net>\n", B, true },
		{ "a held post's Message-ID does not count",
		  "In-Reply-To: <h1@example.net>\n", NULL, false },
		{ "a rejected post's Message-ID does not count",
		  "In-Reply-To: <r1@example.net>\n", NULL, false },
		{ "a held post's Message-ID is skipped for an older known one",
		  "In-Reply-To: <h1@example.net>\nReferences: <a1@example.net> <h1@example.net>\n", A, false },
		{ "a relayed post outside a thread does not count",
		  "In-Reply-To: <m1@example.org>\n", NULL, false },
		{ "another list's thread does not count",
		  "In-Reply-To: <o1@example.org>\n", NULL, false },
		{ "Message-IDs are compared as written (no case folding of the local part)",
		  "In-Reply-To: <A1@example.net>\n", NULL, false },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++)
		check_resolve(*state, &rows[i]);
}

/*
 * parent_first - In-Reply-To is the direct parent and is looked at
 * first (thread.c says so), even when References also name it, out of
 * order.
 */
static void
parent_first(void **state)
{
	struct post *post = parse("someone@example.net", "In-Reply-To: <b1@example.net>\n"
				  "References: <b1@example.net> <a2@example.org>\n");
	struct thread t;

	assert_int_equal(thread_resolve(((struct fixture *) *state)->st, FIXTURE_LIST, post, &t, NULL),
			 STORE_OK);
	assert_non_null(t.report_id);
	assert_true(t.mixed);
	assert_string_equal(t.report_id, B);
	thread_clear(&t);
	message_free(post);
}

/* many_refs - 150 references, the known one at position at (0 oldest) */
static char *
many_refs(int at)
{
	GString *s = g_string_new("References:");
	int i;

	for (i = 0; i < 150; i++) {
		if (i == at)
			g_string_append(s, "\n <a2@example.org>");
		else
			g_string_append_printf(s, "\n <n%d@example.net>", i);
	}
	g_string_append_c(s, '\n');
	return g_string_free(s, FALSE);
}

/* max_refs - only the newest THREAD_MAX_REFS references are looked at */
static void
max_refs(void **state)
{
	static const struct {
		int at;
		const char *want;
	} rows[] = {
		{ 0, NULL }, { 49, NULL }, { 150 - THREAD_MAX_REFS, A }, { 149, A },
	};
	size_t i;

	assert_int_equal(THREAD_MAX_REFS, 100);
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *refs = many_refs(rows[i].at);
		char *name = g_strdup_printf("known reference at %d of 150", rows[i].at);
		struct resolve_row r = { name, refs, rows[i].want, false };
		struct post *post = parse("someone@example.net", refs);

		assert_int_equal(post->references->len, 150);
		message_free(post);
		check_resolve(*state, &r);
		g_free(name);
		g_free(refs);
	}
}

struct reporter_row {
	const char *name;
	const char *report;
	const char *sender;	/* canonical, as intake passes it; NULL for <> */
	const char *from;
	const char *extra;	/* To and Cc lines */
	const char *want;	/* "sender", "from", "both" or "" */
};

/* is_reporter - thread_is_reporter(): reporters by envelope and by From, not people copied */
static void
is_reporter(void **state)
{
	static const struct reporter_row rows[] = {
		{ "reporter by envelope sender", A, "rep-a@example.net", "Someone <x@example.net>", "", "sender" },
		{ "reporter by From, null sender", A, NULL, "Rep <rep-a@example.net>", "", "from" },
		{ "reporter by From, another envelope", A, "bounce+1@mail.example.net", "rep-a@example.net", "",
		  "from" },
		{ "the second reporter", A, "rep-a2@example.net", "rep-a2@example.net", "", "both" },
		{ "one reporter by envelope, the other by From", A, "rep-a@example.net", "rep-a2@example.net", "",
		  "both" },
		{ "From in another case", A, NULL, "REP-A@Example.NET", "", "from" },
		{ "From among several", A, NULL, "x@example.net, rep-a@example.net", "", "from" },
		{ "a reporter of A in report B's thread", B, "rep-a@example.net", "rep-a@example.net", "", "" },
		{ "a person copied is not a reporter", A, "cc-a@example.net", "cc-a@example.net", "", "" },
		{ "a stranger", A, "x@example.net", "x@example.net", "", "" },
		{ "a reporter named only in Cc", A, "x@example.net", "x@example.net", "Cc: rep-a@example.net\n", "" },
		{ "an unknown report", "2029-0099", "rep-a@example.net", "rep-a@example.net", "", "" },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct post *post = parse(rows[i].from, rows[i].extra);
		bool by_sender = true, by_from = true;
		const char *got;
		GError *err = NULL;

		if (thread_is_reporter(fx->st, FIXTURE_LIST, rows[i].report, rows[i].sender, post, &by_sender,
				       &by_from, &err) != STORE_OK)
			fail_msg("%s: %s", rows[i].name, err ? err->message : "?");
		got = by_sender && by_from ? "both" : by_sender ? "sender" : by_from ? "from" : "";
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].name, got, rows[i].want);
		message_free(post);
	}
}

struct copies_row {
	const char *name;
	const char *report;
	const char *sender;
	const char *from;
	const char *extra;	/* To and Cc lines */
	const char *want;	/* addresses joined by " " */
};

/* copies - thread_copies(): reporters and people copied, less the author and To/Cc */
static void
copies(void **state)
{
	static const struct copies_row rows[] = {
		{ "a member's reply: every reporter and the person copied, in order added",
		  A, "bob@example.org", "Bob <bob@example.org>", "",
		  "rep-a@example.net cc-a@example.net rep-a2@example.net" },
		{ "not the author by envelope", A, "rep-a@example.net", "x@example.net", "",
		  "cc-a@example.net rep-a2@example.net" },
		{ "not the author by From", A, "bounce+1@mail.example.net", "Rep <rep-a@example.net>", "",
		  "cc-a@example.net rep-a2@example.net" },
		{ "not the author by From, another case", A, NULL, "Rep <REP-A@example.NET>", "",
		  "cc-a@example.net rep-a2@example.net" },
		{ "not those in Cc (any case) or To", A, "bob@example.org", "bob@example.org",
		  "Cc: Copied <CC-A@EXAMPLE.NET>, other@example.net\n", "rep-a@example.net rep-a2@example.net" },
		{ "not those in To", A, "bob@example.org", "bob@example.org",
		  "To: security@example.org, rep-a2@example.net\n", "rep-a@example.net cc-a@example.net" },
		{ "everyone already in To and Cc", A, "bob@example.org", "bob@example.org",
		  "To: rep-a@example.net\nCc: cc-a@example.net,\n Rep2 <rep-a2@example.net>\n", "" },
		{ "report B", B, "bob@example.org", "bob@example.org", "", "rep-b@example.net" },
		{ "report B, its reporter writing", B, "rep-b@example.net", "rep-b@example.net", "", "" },
		{ "an unknown report", "2029-0099", "bob@example.org", "bob@example.org", "", "" },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct post *post = parse(rows[i].from, rows[i].extra);
		GPtrArray *out = NULL;
		GError *err = NULL;
		char *got;

		if (thread_copies(fx->st, FIXTURE_LIST, rows[i].report, rows[i].sender, post, &out, &err)
		    != STORE_OK)
			fail_msg("%s: %s", rows[i].name, err ? err->message : "?");
		g_ptr_array_add(out, NULL);
		got = g_strjoinv(" ", (char **) out->pdata);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].name, got, rows[i].want);
		g_free(got);
		g_ptr_array_free(out, TRUE);
		message_free(post);
	}
}

/* joins - store_post_thread() makes a post part of a thread, found by its Message-ID */
static void
joins(void **state)
{
	struct fixture *fx = *state;
	struct post_record rec = {
		.list = FIXTURE_LIST, .status = "relayed", .reason = "member", .sender = "bob@example.org",
		.received = 500, .size = 10,
	};
	struct thread t;
	struct post *post = parse("x@example.net", "In-Reply-To: <made@example.org>\n");
	GPtrArray *posts = NULL;
	gint64 id;

	assert_int_equal(store_post_add(fx->st, &rec, &id, NULL), STORE_OK);
	assert_int_equal(thread_resolve(fx->st, FIXTURE_LIST, post, &t, NULL), STORE_OK);
	assert_null(t.report_id);
	assert_int_equal(store_post_thread(fx->st, id, B, "made@example.org", NULL), STORE_OK);
	assert_int_equal(thread_resolve(fx->st, FIXTURE_LIST, post, &t, NULL), STORE_OK);
	assert_non_null(t.report_id);
	assert_string_equal(t.report_id, B);
	thread_clear(&t);
	/* a Message-ID the post had is kept */
	assert_int_equal(store_post_thread(fx->st, id, B, "other@example.org", NULL), STORE_OK);
	expect(fx, "SELECT message_id FROM posts WHERE message_id LIKE 'made@%'", "made@example.org");
	assert_int_equal(store_thread_posts(fx->st, FIXTURE_LIST, B, &posts, NULL), STORE_OK);
	assert_int_equal(posts->len, 2);
	g_ptr_array_free(posts, TRUE);
	assert_int_equal(store_post_thread(fx->st, id, NULL, NULL, NULL), STORE_OK);	/* leave B again */
	message_free(post);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolve_rows),
		cmocka_unit_test(parent_first),
		cmocka_unit_test(max_refs),
		cmocka_unit_test(is_reporter),
		cmocka_unit_test(copies),
		cmocka_unit_test(joins),
	};

	message_init();
	return cmocka_run_group_tests_name("thread", tests, setup, fixture_teardown);
}
