/*
 * test_authres - Authentication-Results read, trusted by position, aligned
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "authres.h"
#include "header.h"

#define ID "mx.example.org"

/* dump - a parsed field in one canonical line: "id; method=result prop=value ...; ..." */
static char *
dump(const struct authres *ar)
{
	GString *s;
	guint i, k;

	if (ar == NULL)
		return g_strdup("(unreadable)");
	s = g_string_new(ar->authserv_id);
	if (ar->results->len == 0)
		g_string_append(s, "; none");
	for (i = 0; i < ar->results->len; i++) {
		const struct authres_result *r = g_ptr_array_index(ar->results, i);

		g_string_append_printf(s, "; %s=%s", r->method, r->result);
		for (k = 0; k < r->props->len; k++) {
			const struct authres_prop *pr = g_ptr_array_index(r->props, k);

			g_string_append_printf(s, " %s=%s", pr->name, pr->value);
		}
	}
	return g_string_free(s, FALSE);
}

static const struct {
	const char *name;
	const char *value;
	const char *want;	/* dump(), or "(unreadable)" */
} parse_rows[] = {
	{ "OpenDKIM, a comment with ';' and a last ';'",
	  ID "; dkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org"
	  " header.a=rsa-sha256 header.s=sel1 header.b=AbC/d+e=;",
	  ID "; dkim=pass header.d=example.org header.i=@example.org header.a=rsa-sha256 header.s=sel1"
	  " header.b=AbC/d+e=" },
	{ "OpenDMARC", ID "; dmarc=pass (p=none dis=none) header.from=example.org",
	  ID "; dmarc=pass header.from=example.org" },
	{ "SPF with mailfrom and helo", ID "; spf=pass smtp.mailfrom=alice@example.org smtp.helo=mail.example.org",
	  ID "; spf=pass smtp.mailfrom=alice@example.org smtp.helo=mail.example.org" },
	{ "two results, a quoted reason",
	  ID "; spf=pass smtp.mailfrom=example.org; dkim=fail reason=\"bad signature\" header.d=example.org",
	  ID "; spf=pass smtp.mailfrom=example.org; dkim=fail header.d=example.org" },
	{ "a token reason", ID "; dkim=neutral reason=nokey header.d=example.org",
	  ID "; dkim=neutral header.d=example.org" },
	{ "version 1", ID " 1; dkim=pass header.d=example.org", ID "; dkim=pass header.d=example.org" },
	{ "version 2 is not ours to read", ID " 2; dkim=pass header.d=example.org", "(unreadable)" },
	{ "none", ID "; none", ID "; none" },
	{ "none with a comment", ID "; none (no signatures)", ID "; none" },
	{ "none followed by a result", ID "; none; dkim=pass header.d=example.org", "(unreadable)" },
	{ "a quoted authserv-id", "\"" ID "\"; dkim=pass header.d=example.org", ID "; dkim=pass header.d=example.org" },
	{ "comments everywhere, nested",
	  "(a) " ID " (b (nested) c) ; (d) dkim (e) = (f) pass (g) header (h) . (i) d (j) = (k) example.org (l)",
	  ID "; dkim=pass header.d=example.org" },
	{ "a quoted pair in a comment", ID "; dkim=pass (a \\) b) header.d=example.org",
	  ID "; dkim=pass header.d=example.org" },
	{ "case: methods, results and properties in lower case, values as written",
	  "MX.Example.ORG; DKIM=PASS Header.D=Example.ORG", "MX.Example.ORG; dkim=pass header.d=Example.ORG" },
	{ "a quoted local part", ID "; spf=pass smtp.mailfrom=\"john doe\"@example.org",
	  ID "; spf=pass smtp.mailfrom=john doe@example.org" },
	{ "a quoted value", ID "; dkim=pass header.d=\"example.org\"", ID "; dkim=pass header.d=example.org" },
	{ "a method version", ID "; dkim/1=pass header.d=example.org", ID "; dkim=pass header.d=example.org" },
	{ "no blanks at all", ID ";dkim=pass header.d=a.example;spf=pass smtp.mailfrom=a.example",
	  ID "; dkim=pass header.d=a.example; spf=pass smtp.mailfrom=a.example" },
	{ "a result without properties", ID "; arc=none", ID "; arc=none" },
	{ "blanks after the last ';'", ID "; dkim=pass header.d=a.example ;  \t", ID "; dkim=pass header.d=a.example" },
	{ "no authserv-id (Office 365)", "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.org; dkim=pass",
	  "(unreadable)" },
	{ "no result", ID, "(unreadable)" },
	{ "only a ';'", ID ";", "(unreadable)" },
	{ "an empty result between ';'", ID "; ; dkim=pass header.d=a.example", "(unreadable)" },
	{ "a comment that does not end", ID "; dkim=pass (oops header.d=example.org", "(unreadable)" },
	{ "a quoted string that does not end", ID "; dkim=pass reason=\"x header.d=example.org", "(unreadable)" },
	{ "a word that is no property", ID "; dkim=pass header.d=example.org junk", "(unreadable)" },
	{ "an empty property value", ID "; dkim=pass header.d=", "(unreadable)" },
	{ "a method without a result", ID "; dkim= header.d=example.org", "(unreadable)" },
	{ "a reason after the properties", ID "; dkim=pass header.d=a.example reason=x", "(unreadable)" },
	{ "a property without a ptype", ID "; dkim=pass d=example.org", "(unreadable)" },
	{ "an empty value", "", "(unreadable)" },
	{ "blanks only", "  \t ", "(unreadable)" },
};

/* parse_table - authres_parse() over the rows */
static void
parse_table(void **state)
{
	size_t i;
	int bad = 0;

	(void) state;
	for (i = 0; i < G_N_ELEMENTS(parse_rows); i++) {
		struct authres *ar = authres_parse(parse_rows[i].value);
		char *got = dump(ar);

		if (strcmp(got, parse_rows[i].want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", parse_rows[i].name, got, parse_rows[i].want);
			bad++;
		}
		g_free(got);
		authres_free(ar);
	}
	assert_null(authres_parse(NULL));
	authres_free(NULL);
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, G_N_ELEMENTS(parse_rows));
}

/* parse_bounds - at most 64 results to a field, 64 properties to a result */
static void
parse_bounds(void **state)
{
	GString *s = g_string_new(ID);
	struct authres *ar;
	int i;

	(void) state;
	for (i = 0; i < 64; i++)
		g_string_append_printf(s, "; x%d=pass", i);
	ar = authres_parse(s->str);
	assert_non_null(ar);
	assert_int_equal(ar->results->len, 64);
	authres_free(ar);
	g_string_append(s, "; x64=pass");
	assert_null(authres_parse(s->str));
	g_string_assign(s, ID "; dkim=pass");
	for (i = 0; i < 64; i++)
		g_string_append_printf(s, " header.p%d=v", i);
	ar = authres_parse(s->str);
	assert_non_null(ar);
	assert_string_equal(authres_prop(g_ptr_array_index(ar->results, 0), "HEADER.P63"), "v");
	assert_null(authres_prop(g_ptr_array_index(ar->results, 0), "header.p64"));
	authres_free(ar);
	g_string_append(s, " header.p64=v");
	assert_null(authres_parse(s->str));
	g_string_free(s, TRUE);
}

/* the MTA's fields over the sender's, as Postfix delivers them */
#define OURS	"Received: from mail.example.net (mail.example.net [192.0.2.1])\n\tby mx.example.org (Postfix) with ESMTPS id 4AbC\n\tfor <security@example.org>; Mon, 2 Nov 2026 10:00:00 +0000\n"
#define DKIM_OK	"Authentication-Results: " ID "; dkim=pass header.d=good.example\n"
#define FORGED	"Authentication-Results: " ID "; dkim=pass header.d=forged.example\n"
#define CLIENT	"From: alice@good.example\nTo: security@example.org\nSubject: x\n"

static const struct {
	const char *name;
	const char *head;
	enum authres_view view;
	const char *want;	/* the trusted fields' header.d or smtp.mailfrom, joined by ",", then "/" outside */
} zone_rows[] = {
	{ "pipe: the verifier right below our Received: (OpenDKIM)", OURS DKIM_OK CLIENT, AUTHRES_PIPE,
	  "good.example/0" },
	{ "pipe: a PREPEND above our Received:",
	  "Authentication-Results: " ID "; spf=pass smtp.mailfrom=good.example\n" OURS CLIENT, AUTHRES_PIPE,
	  "good.example/0" },
	{ "pipe: pipe(8)'s fields above, two verifiers and their trace fields below",
	  "Delivered-To: security@example.org\nReturn-Path: <a@good.example>\n" OURS
	  "DMARC-Filter: OpenDMARC Filter v1.4.2 mx.example.org 4AbC\n"
	  "Authentication-Results: " ID "; dmarc=pass header.from=good.example\n"
	  "DKIM-Filter: OpenDKIM Filter v2.11.0 mx.example.org 4AbC\n" DKIM_OK
	  "Received-SPF: pass\n" CLIENT, AUTHRES_PIPE, "-,good.example/0" },
	{ "pipe: a forgery among the sender's fields", OURS DKIM_OK CLIENT FORGED, AUTHRES_PIPE,
	  "good.example/1" },
	{ "pipe: a forgery below the sender's own Received:",
	  OURS "From: x@forged.example\nReceived: from laptop by mail.forged.example\n" FORGED, AUTHRES_PIPE,
	  "/1" },
	{ "pipe: a forgery at the very top of the sender's fields looks like the verifier's (the MTA strips it)",
	  OURS DKIM_OK FORGED CLIENT, AUTHRES_PIPE, "good.example,forged.example/0" },
	{ "pipe: no Received: at all, nothing is the MTA's", DKIM_OK CLIENT, AUTHRES_PIPE, "/1" },
	{ "pipe: another authserv-id is not ours", OURS
	  "Authentication-Results: mx.other.example; dkim=pass header.d=good.example\n" CLIENT, AUTHRES_PIPE, "/0" },
	{ "pipe: our id in capitals", OURS "Authentication-Results: MX.Example.ORG; dkim=pass header.d=good.example\n"
	  CLIENT, AUTHRES_PIPE, "good.example/0" },
	{ "pipe: an unreadable field of ours counts for nothing", OURS
	  "Authentication-Results: " ID "; dkim=pass (oops\n" CLIENT, AUTHRES_PIPE, "/0" },
	{ "pipe: folded", OURS "Authentication-Results: " ID ";\n\tdkim=pass (1024-bit key)\n\theader.d=good.example\n"
	  CLIENT, AUTHRES_PIPE, "good.example/0" },
	{ "pipe: the sender's Received: below ours ends the MTA's fields", OURS
	  "Received: from laptop by mail.forged.example\n" FORGED CLIENT, AUTHRES_PIPE, "/1" },
	{ "milter: earlier milters' fields on top", DKIM_OK CLIENT, AUTHRES_MILTER, "good.example/0" },
	{ "milter: a forgery among the sender's fields", DKIM_OK CLIENT FORGED, AUTHRES_MILTER, "good.example/1" },
	{ "milter: the sender's fields first, nothing on top", CLIENT FORGED, AUTHRES_MILTER, "/1" },
	{ "milter: a PREPENDed Received-SPF: above the verifier's", "Received-SPF: pass\n" DKIM_OK CLIENT,
	  AUTHRES_MILTER, "good.example/0" },
	{ "milter: a Received: is the sender's (Postfix hides its own)",
	  "Received: from laptop by mail.forged.example\n" FORGED CLIENT, AUTHRES_MILTER, "/1" },
};

/* zone_table - authres_trusted() over the rows */
static void
zone_table(void **state)
{
	size_t i;
	int bad = 0;

	(void) state;
	for (i = 0; i < G_N_ELEMENTS(zone_rows); i++) {
		const char *h = zone_rows[i].head;
		GPtrArray *fields = header_fields(h, strlen(h));
		guint outside = 99, k;
		GPtrArray *t = authres_trusted(fields, ID, zone_rows[i].view, &outside);
		GString *got = g_string_new(NULL);

		for (k = 0; k < t->len; k++) {
			const struct authres *ar = g_ptr_array_index(t, k);
			const struct authres_result *r = g_ptr_array_index(ar->results, 0);
			const char *d = authres_prop(r, "header.d");

			if (d == NULL)
				d = authres_prop(r, "smtp.mailfrom");
			g_string_append_printf(got, "%s%s", k ? "," : "", strcmp(r->method, "dmarc") == 0 ? "-" : d);
		}
		g_string_append_printf(got, "/%u", outside);
		if (strcmp(got->str, zone_rows[i].want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", zone_rows[i].name, got->str, zone_rows[i].want);
			bad++;
		}
		g_string_free(got, TRUE);
		g_ptr_array_free(t, TRUE);
		g_ptr_array_free(fields, TRUE);
	}
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, G_N_ELEMENTS(zone_rows));
}

/* zone_no_id - without an authserv-id nothing is trusted or counted */
static void
zone_no_id(void **state)
{
	static const char h[] = OURS DKIM_OK CLIENT FORGED;
	GPtrArray *fields = header_fields(h, strlen(h));
	GPtrArray *t;
	guint outside = 99;

	(void) state;
	t = authres_trusted(fields, "", AUTHRES_PIPE, &outside);
	assert_int_equal(t->len, 0);
	assert_int_equal(outside, 0);
	g_ptr_array_free(t, TRUE);
	t = authres_trusted(fields, NULL, AUTHRES_PIPE, NULL);
	assert_int_equal(t->len, 0);
	g_ptr_array_free(t, TRUE);
	g_ptr_array_free(fields, TRUE);
}

static const struct {
	const char *signer;
	const char *domain;
	bool want;
} aligned_rows[] = {
	{ "example.org", "example.org", true },
	{ "Example.ORG.", "example.org", true },
	{ "example.org", "EXAMPLE.org", true },
	{ "example.org", "security.example.org", true },
	{ "example.org", "a.b.example.org", true },
	{ "security.example.org", "example.org", false },
	{ "mail.example.org", "web.example.org", false },
	{ "ample.org", "example.org", false },
	{ "org", "example.org", false },
	{ "org", "org", true },
	{ "example.org", "example.org.evil.example", false },
	{ "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", true },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example", true },
	{ "_dkim.example.org", "_dkim.example.org", true },
	{ NULL, "example.org", false },
	{ "example.org", NULL, false },
	{ "", "", false },
	{ "[192.0.2.1]", "[192.0.2.1]", false },
	{ "exa mple.org", "exa mple.org", false },
	{ "a..example", "a..example", false },
	{ ".example.org", "x.example.org", false },
	{ "example.org..", "example.org", false },
};

/* aligned_table - authres_aligned(): the domain itself or a parent, two labels or more */
static void
aligned_table(void **state)
{
	size_t i;
	int bad = 0;

	(void) state;
	for (i = 0; i < G_N_ELEMENTS(aligned_rows); i++) {
		bool got = authres_aligned(aligned_rows[i].signer, aligned_rows[i].domain);

		if (got != aligned_rows[i].want) {
			print_error("signer %s for %s: got %s, want %s\n",
				    aligned_rows[i].signer ? aligned_rows[i].signer : "NULL",
				    aligned_rows[i].domain ? aligned_rows[i].domain : "NULL",
				    got ? "aligned" : "not aligned", aligned_rows[i].want ? "aligned" : "not aligned");
			bad++;
		}
	}
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, G_N_ELEMENTS(aligned_rows));
}

static const struct {
	const char *name;
	const char *fields[3];	/* values of trusted fields, NULL-terminated */
	const char *method;
	const char *domain;
	bool want;
} pass_rows[] = {
	{ "dkim pass, d= the domain", { ID "; dkim=pass header.d=example.org" }, "dkim", "example.org", true },
	{ "dkim pass, d= a parent", { ID "; dkim=pass header.d=example.org" }, "dkim", "lists.example.org", true },
	{ "dkim pass, d= another domain", { ID "; dkim=pass header.d=other.example" }, "dkim", "example.org", false },
	{ "dkim fail", { ID "; dkim=fail header.d=example.org" }, "dkim", "example.org", false },
	{ "dkim pass without d=, i=@domain", { ID "; dkim=pass header.i=@example.org" }, "dkim", "example.org", true },
	{ "dkim pass without d=, i=user@domain", { ID "; dkim=pass header.i=alice@example.org" }, "dkim",
	  "example.org", true },
	{ "dkim pass, i= without @", { ID "; dkim=pass header.i=example.org" }, "dkim", "example.org", false },
	{ "dkim pass without d= or i=", { ID "; dkim=pass header.s=sel" }, "dkim", "example.org", false },
	{ "a dkim pass is no spf pass", { ID "; dkim=pass header.d=example.org" }, "spf", "example.org", false },
	{ "spf pass, mailfrom an address", { ID "; spf=pass smtp.mailfrom=bounce@example.org" }, "spf",
	  "example.org", true },
	{ "spf pass, mailfrom a domain", { ID "; spf=pass smtp.mailfrom=example.org" }, "spf", "example.org", true },
	{ "spf pass, mailfrom a subdomain", { ID "; spf=pass smtp.mailfrom=bounces.example.org" }, "spf",
	  "example.org", false },
	{ "spf pass of helo only", { ID "; spf=pass smtp.helo=example.org" }, "spf", "example.org", false },
	{ "spf softfail", { ID "; spf=softfail smtp.mailfrom=example.org" }, "spf", "example.org", false },
	{ "an spf pass is no dkim pass", { ID "; spf=pass smtp.mailfrom=example.org" }, "dkim", "example.org",
	  false },
	{ "a dmarc pass is neither", { ID "; dmarc=pass header.from=example.org" }, "dkim", "example.org", false },
	{ "fail, then pass in another field",
	  { ID "; dkim=fail header.d=example.org", ID "; dkim=pass header.d=example.org" }, "dkim", "example.org",
	  true },
	{ "two signatures, one aligned", { ID "; dkim=pass header.d=esp.example; dkim=pass header.d=example.org" },
	  "dkim", "example.org", true },
	{ "no domain asked", { ID "; dkim=pass header.d=example.org" }, "dkim", NULL, false },
	{ "nothing trusted", { NULL }, "dkim", "example.org", false },
};

/* free_authres - authres_free() for a GPtrArray */
static void
free_authres(gpointer p)
{
	authres_free(p);
}

/* pass_table - authres_pass() over trusted fields */
static void
pass_table(void **state)
{
	size_t i;
	int bad = 0;

	(void) state;
	for (i = 0; i < G_N_ELEMENTS(pass_rows); i++) {
		GPtrArray *t = g_ptr_array_new_with_free_func(free_authres);
		bool got;
		int k;

		for (k = 0; pass_rows[i].fields[k]; k++) {
			struct authres *ar = authres_parse(pass_rows[i].fields[k]);

			assert_non_null(ar);
			g_ptr_array_add(t, ar);
		}
		got = authres_pass(t, pass_rows[i].method, pass_rows[i].domain);
		if (got != pass_rows[i].want) {
			print_error("%s: got %d, want %d\n", pass_rows[i].name, got, pass_rows[i].want);
			bad++;
		}
		g_ptr_array_free(t, TRUE);
	}
	assert_false(authres_pass(NULL, "dkim", "example.org"));
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, G_N_ELEMENTS(pass_rows));
}

/* mentions - what is removed from the members' copies: our id anywhere in the value */
static void
mentions(void **state)
{
	(void) state;
	assert_true(authres_mentions(ID "; dkim=pass", "MX.example.ORG"));
	assert_true(authres_mentions("(x) " ID " 1; none", ID));
	assert_true(authres_mentions("other.example; dkim=pass header.d=" ID, ID));
	assert_true(authres_mentions(ID "; dkim=pass (oops", ID));
	assert_false(authres_mentions("other.example; dkim=pass", ID));
	assert_false(authres_mentions(ID "; dkim=pass", ""));
	assert_false(authres_mentions(ID "; dkim=pass", NULL));
	assert_false(authres_mentions(NULL, ID));
}

/* fields - header_fields(): names and unfolded values in order, nameless lines left out */
static void
fields(void **state)
{
	static const char h[] = "A: 1\nB : two\n\tlines\nno colon here\nC:\n\nD: body\n";
	GPtrArray *f = header_fields(h, strlen(h));
	const struct header_field *hf;

	(void) state;
	assert_int_equal(f->len, 3);
	hf = g_ptr_array_index(f, 0);
	assert_string_equal(hf->name, "A");
	assert_string_equal(hf->value, "1");
	hf = g_ptr_array_index(f, 1);
	assert_string_equal(hf->name, "B");
	assert_string_equal(hf->value, "two\tlines");
	hf = g_ptr_array_index(f, 2);
	assert_string_equal(hf->name, "C");
	assert_string_equal(hf->value, "");
	g_ptr_array_free(f, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_table),
		cmocka_unit_test(parse_bounds),
		cmocka_unit_test(zone_table),
		cmocka_unit_test(zone_no_id),
		cmocka_unit_test(aligned_table),
		cmocka_unit_test(pass_table),
		cmocka_unit_test(mentions),
		cmocka_unit_test(fields),
	};

	return cmocka_run_group_tests_name("authres", tests, NULL, NULL);
}
