/*
 * test_dmarc - DMARC records, the DNS tree walk over a stub resolver, the munging decision
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "dmarc.h"

#define ABSENT	DMARC_POLICY_ABSENT
#define NONE	DMARC_POLICY_NONE
#define QUAR	DMARC_POLICY_QUARANTINE
#define REJECT	DMARC_POLICY_REJECT

struct record_row {
	const char *name;
	const char *txt;
	bool ok;			/* a DMARC record */
	enum dmarc_policy p, sp;	/* when ok */
};

static const struct record_row records[] = {
	{ "reject", "v=DMARC1; p=reject", true, REJECT, REJECT },
	{ "quarantine", "v=DMARC1; p=quarantine", true, QUAR, QUAR },
	{ "none", "v=DMARC1; p=none", true, NONE, NONE },
	{ "no blanks", "v=DMARC1;p=reject", true, REJECT, REJECT },
	{ "blanks everywhere", "  v = DMARC1 ;  p = reject ; ", true, REJECT, REJECT },
	{ "tabs and a CRLF", "\tv=DMARC1;\tp=quarantine\r\n", true, QUAR, QUAR },
	{ "tag names and values in any case", "V=DMARC1; P=REJECT; SP=Quarantine", true, REJECT, QUAR },
	{ "version in lower case is accepted", "v=dmarc1; p=reject", true, REJECT, REJECT },
	{ "sp= applies to subdomains", "v=DMARC1; p=reject; sp=none", true, REJECT, NONE },
	{ "sp= stricter than p=", "v=DMARC1; p=none; sp=reject", true, NONE, REJECT },
	{ "p= after other tags", "v=DMARC1; rua=mailto:d@example.org; pct=50; p=reject; adkim=s", true, REJECT,
	  REJECT },
	{ "first p= counts", "v=DMARC1; p=reject; p=none", true, REJECT, REJECT },
	{ "no p= is none", "v=DMARC1; rua=mailto:d@example.org", true, NONE, NONE },
	{ "version alone is none", "v=DMARC1", true, NONE, NONE },
	{ "version and ; is none", "v=DMARC1;", true, NONE, NONE },
	{ "invalid p= is none", "v=DMARC1; p=bogus", true, NONE, NONE },
	{ "empty p= is none", "v=DMARC1; p=", true, NONE, NONE },
	{ "p= with two words is none", "v=DMARC1; p=reject reject", true, NONE, NONE },
	{ "p=rejected is none", "v=DMARC1; p=rejected", true, NONE, NONE },
	{ "invalid p= keeps a valid sp=", "v=DMARC1; p=bogus; sp=reject", true, NONE, REJECT },
	{ "sp= without p=", "v=DMARC1; sp=quarantine", true, NONE, QUAR },
	{ "invalid sp= is none", "v=DMARC1; p=reject; sp=bogus", true, REJECT, NONE },
	{ "np= is not read", "v=DMARC1; p=none; np=reject", true, NONE, NONE },
	{ "junk between tags is ignored", "v=DMARC1; junk; =x; ;; p=reject", true, REJECT, REJECT },
	{ "missing v=", "p=reject", false, 0, 0 },
	{ "v= not first", "p=reject; v=DMARC1", false, 0, 0 },
	{ "; before v=", ";v=DMARC1; p=reject", false, 0, 0 },
	{ "other version", "v=DMARC2; p=reject", false, 0, 0 },
	{ "version with a suffix", "v=DMARC10; p=reject", false, 0, 0 },
	{ "version without ;", "v=DMARC1 p=reject", false, 0, 0 },
	{ "tag before v", "xv=DMARC1; p=reject", false, 0, 0 },
	{ "an SPF record", "v=spf1 -all", false, 0, 0 },
	{ "empty", "", false, 0, 0 },
	{ "blanks", "   ", false, 0, 0 },
	{ "junk", "\x01\xff;=;;", false, 0, 0 },
};

/* parse_records - every row of the record table */
static void
parse_records(void **state)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < G_N_ELEMENTS(records); i++) {
		const struct record_row *r = &records[i];
		enum dmarc_policy p = (enum dmarc_policy) 99, sp = (enum dmarc_policy) 99;
		bool ok = dmarc_parse_record(r->txt, &p, &sp);

		if (ok != r->ok || (ok && (p != r->p || sp != r->sp))) {
			print_error("%s: \"%s\": got %s p=%s sp=%s, want %s p=%s sp=%s\n", r->name, r->txt,
				    ok ? "DMARC" : "not DMARC", dmarc_policy_name(p), dmarc_policy_name(sp),
				    r->ok ? "DMARC" : "not DMARC", r->ok ? dmarc_policy_name(r->p) : "?",
				    r->ok ? dmarc_policy_name(r->sp) : "?");
			bad++;
		} else if (!ok && (p != (enum dmarc_policy) 99 || sp != (enum dmarc_policy) 99)) {
			print_error("%s: not DMARC but p and sp written\n", r->name);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d of %zu records parsed wrong", bad, G_N_ELEMENTS(records));
	assert_false(dmarc_parse_record(NULL, &(enum dmarc_policy) { NONE }, &(enum dmarc_policy) { NONE }));
}

/* the stub DNS: TXT records by name, or a failure */
struct zone {
	const char *name;
	const char *txt[3];		/* NULL-terminated */
	bool fail;			/* the lookup of this name fails */
};

struct stub {
	const struct zone *zones;
	GString *asked;			/* names queried, blank-separated */
};

/* stub_txt - a dmarc_txt_fn over a zone table that records each query */
static int
stub_txt(void *ctx, const char *name, GPtrArray *txts)
{
	struct stub *s = ctx;
	const struct zone *z;
	size_t i;

	g_string_append_printf(s->asked, "%s%s", s->asked->len ? " " : "", name);
	for (z = s->zones; z && z->name; z++) {
		if (strcmp(z->name, name) != 0)
			continue;
		if (z->fail)
			return -1;
		for (i = 0; i < G_N_ELEMENTS(z->txt) && z->txt[i]; i++)
			g_ptr_array_add(txts, g_strdup(z->txt[i]));
	}
	return 0;
}

/* a zone table: TXT answers and failures, then the end */
#define Z(...)	((const struct zone[]) { __VA_ARGS__, { .name = NULL } })
#define TXT(n, ...)	{ .name = (n), .txt = { __VA_ARGS__ } }
#define FAILS(n)	{ .name = (n), .fail = true }
#define EMPTY	((const struct zone[]) { { .name = NULL } })

#define DEEP	"a.b.c.d.e.f.g.h.i.example.org"
#define LONG63	"abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abc"

struct walk_row {
	const char *name;
	const struct zone *zones;
	const char *domain;
	enum dmarc_policy want;
	const char *asked;		/* the queries, in order, blank-separated */
};

static const struct walk_row walks[] = {
	{ "record at the author domain",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "example.org", REJECT, "_dmarc.example.org" },
	{ "quarantine at the author domain",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=quarantine")),
	  "example.org", QUAR, "_dmarc.example.org" },
	{ "at the author domain p= applies, not sp=",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=none; sp=reject")),
	  "example.org", NONE, "_dmarc.example.org" },
	{ "invalid p= at the author domain is none, and the walk stops",
	  Z(TXT("_dmarc.mail.example.org", "v=DMARC1; p=bogus"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "mail.example.org", NONE, "_dmarc.mail.example.org" },
	{ "record only at the organisational parent: sp= applies",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=none; sp=quarantine")),
	  "mail.example.org", QUAR, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "record only at the parent, no sp=: p= applies",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "mail.example.org", REJECT, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "parent's sp=none beats its p=reject",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject; sp=none")),
	  "mail.example.org", NONE, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "the subdomain's own record wins over the parent's",
	  Z(TXT("_dmarc.mail.example.org", "v=DMARC1; p=none"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "mail.example.org", NONE, "_dmarc.mail.example.org" },
	{ "the nearest parent with a record wins",
	  Z(TXT("_dmarc.mail.example.org", "v=DMARC1; p=quarantine"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=none")),
	  "x.y.mail.example.org", QUAR, "_dmarc.x.y.mail.example.org _dmarc.y.mail.example.org "
	  "_dmarc.mail.example.org" },
	{ "deep subdomain: the author domain, then its last 7 labels and shorter",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject; sp=quarantine")),
	  DEEP, QUAR, "_dmarc." DEEP " _dmarc.e.f.g.h.i.example.org _dmarc.f.g.h.i.example.org "
	  "_dmarc.g.h.i.example.org _dmarc.h.i.example.org _dmarc.i.example.org _dmarc.example.org" },
	{ "deep subdomain: record at the 7-label suffix",
	  Z(TXT("_dmarc.e.f.g.h.i.example.org", "v=DMARC1; p=none; sp=reject"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=none")),
	  DEEP, REJECT, "_dmarc." DEEP " _dmarc.e.f.g.h.i.example.org" },
	{ "deep subdomain: the skipped labels are never asked",
	  Z(TXT("_dmarc.b.c.d.e.f.g.h.i.example.org", "v=DMARC1; p=reject"),
	    TXT("_dmarc.d.e.f.g.h.i.example.org", "v=DMARC1; p=reject")),
	  DEEP, ABSENT, "_dmarc." DEEP " _dmarc.e.f.g.h.i.example.org _dmarc.f.g.h.i.example.org "
	  "_dmarc.g.h.i.example.org _dmarc.h.i.example.org _dmarc.i.example.org _dmarc.example.org" },
	{ "9 labels jump to 7",
	  EMPTY,
	  "b.c.d.e.f.g.h.example.org", ABSENT, "_dmarc.b.c.d.e.f.g.h.example.org _dmarc.d.e.f.g.h.example.org "
	  "_dmarc.e.f.g.h.example.org _dmarc.f.g.h.example.org _dmarc.g.h.example.org _dmarc.h.example.org "
	  "_dmarc.example.org" },
	{ "8 labels walk one label at a time",
	  EMPTY,
	  "c.d.e.f.g.h.example.org.", ABSENT, "_dmarc.c.d.e.f.g.h.example.org _dmarc.d.e.f.g.h.example.org "
	  "_dmarc.e.f.g.h.example.org _dmarc.f.g.h.example.org _dmarc.g.h.example.org _dmarc.h.example.org "
	  "_dmarc.example.org" },
	{ "two DMARC records at one name: unusable, the walk goes on",
	  Z(TXT("_dmarc.mail.example.org", "v=DMARC1; p=none", "v=DMARC1; p=none"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "mail.example.org", REJECT, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "two DMARC records at the last name: absent",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject", "v=DMARC1; p=quarantine")),
	  "example.org", ABSENT, "_dmarc.example.org" },
	{ "a DMARC record and another TXT record: usable",
	  Z(TXT("_dmarc.example.org", "v=spf1 -all", "v=DMARC1; p=reject", "hello")),
	  "example.org", REJECT, "_dmarc.example.org" },
	{ "only TXT records that are not DMARC: the walk goes on",
	  Z(TXT("_dmarc.mail.example.org", "p=reject; v=DMARC1", "v=DMARC2; p=reject"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=quarantine")),
	  "mail.example.org", QUAR, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "no record anywhere",
	  EMPTY,
	  "a.mail.example.org", ABSENT, "_dmarc.a.mail.example.org _dmarc.mail.example.org _dmarc.example.org" },
	{ "failure at the first step: absent, nothing more asked",
	  Z(FAILS("_dmarc.mail.example.org"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "mail.example.org", ABSENT, "_dmarc.mail.example.org" },
	{ "failure at a parent step: absent, nothing more asked",
	  Z(FAILS("_dmarc.mail.example.org"),
	    TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "a.mail.example.org", ABSENT, "_dmarc.a.mail.example.org _dmarc.mail.example.org" },
	{ "the TLD is never asked",
	  Z(TXT("_dmarc.org", "v=DMARC1; p=reject")),
	  "mail.example.org", ABSENT, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "a single-label domain is not asked",
	  Z(TXT("_dmarc.localhost", "v=DMARC1; p=reject")),
	  "localhost", ABSENT, "" },
	{ "trailing dot and upper case",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  "Mail.Example.ORG.", REJECT, "_dmarc.mail.example.org _dmarc.example.org" },
	{ "a 63-octet label is asked",
	  EMPTY,
	  LONG63 ".example.org", ABSENT, "_dmarc." LONG63 ".example.org _dmarc.example.org" },
	{ "a 64-octet label is not asked, its parent is",
	  Z(TXT("_dmarc.example.org", "v=DMARC1; p=reject")),
	  LONG63 "x.example.org", REJECT, "_dmarc.example.org" },
	{ "empty", EMPTY, "", ABSENT, "" },
	{ "NULL", EMPTY, NULL, ABSENT, "" },
	{ "a dot alone", EMPTY, ".", ABSENT, "" },
	{ "IPv4 literal", EMPTY, "[192.0.2.1]", ABSENT, "" },
	{ "IPv6 literal", EMPTY, "[IPv6:2001:db8::1]", ABSENT, "" },
	{ "IPv4 address without brackets", EMPTY, "192.0.2.1", ABSENT, "" },
	{ "empty label", EMPTY, "example..org", ABSENT, "" },
	{ "leading dot", EMPTY, ".example.org", ABSENT, "" },
	{ "two trailing dots", EMPTY, "example.org..", ABSENT, "" },
	{ "non-ASCII (U-label)", EMPTY, "b\xc3\xbc" "cher.example", ABSENT, "" },
	{ "a blank", EMPTY, "exa mple.org", ABSENT, "" },
	{ "a backslash escape", EMPTY, "evil\\.example.org", ABSENT, "" },
	{ "A-label IDN is asked",
	  Z(TXT("_dmarc.xn--bcher-kva.example", "v=DMARC1; p=reject")),
	  "xn--bcher-kva.example", REJECT, "_dmarc.xn--bcher-kva.example" },
};

/* one_walk - look one domain up against its zone table, check result and queries */
static void
one_walk(void **state)
{
	const struct walk_row *r = *state;
	struct stub s = { r->zones, g_string_new(NULL) };
	enum dmarc_policy got = dmarc_lookup(r->domain, stub_txt, &s);

	if (got != r->want || strcmp(s.asked->str, r->asked) != 0)
		fail_msg("%s: got %s after [%s], want %s after [%s]", r->name, dmarc_policy_name(got),
			 s.asked->str, dmarc_policy_name(r->want), r->asked);
	g_string_free(s.asked, TRUE);
}

/* munge_table - the decision, written out: 3 mitigations by 4 policies */
static void
munge_table(void **state)
{
	static const enum dmarc_mitigation modes[] = {
		DMARC_MITIGATE_NONE, DMARC_MITIGATE_MUNGE_FROM, DMARC_MITIGATE_ALWAYS,
	};
	static const enum dmarc_policy pols[] = { ABSENT, NONE, QUAR, REJECT };
	/* policy:                        absent none quarantine reject */
	static const bool want[3][4] = {
		/* none */          { false, false, false, false },
		/* munge_from */    { false, false, true,  true },
		/* always_munge */  { true,  true,  true,  true },
	};
	size_t m, p;
	int bad = 0;

	for (m = 0; m < G_N_ELEMENTS(modes); m++)
		for (p = 0; p < G_N_ELEMENTS(pols); p++) {
			bool got = dmarc_should_munge(modes[m], pols[p]);

			if (got != want[m][p]) {
				print_error("%s with p=%s: got %s, want %s\n", dmarc_mitigation_name(modes[m]),
					    dmarc_policy_name(pols[p]), got ? "munge" : "keep",
					    want[m][p] ? "munge" : "keep");
				bad++;
			}
		}
	if (bad)
		fail_msg("%d of 12 decisions wrong", bad);
}

/* mitigation_words - exactly three words, and back */
static void
mitigation_words(void **state)
{
	static const struct {
		const char *word;
		enum dmarc_mitigation m;
	} words[] = {
		{ "none", DMARC_MITIGATE_NONE },
		{ "munge_from", DMARC_MITIGATE_MUNGE_FROM },
		{ "always_munge", DMARC_MITIGATE_ALWAYS },
	};
	static const char *const refused[] = {
		"", "None", "NONE", "munge-from", "Munge_From", "munge", "always", "always-munge", "munge_from ",
		" none", "always_munge\n", "wrap_message", "reject",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(words); i++) {
		enum dmarc_mitigation out = (enum dmarc_mitigation) -1;

		if (!dmarc_mitigation_parse(words[i].word, &out) || out != words[i].m)
			fail_msg("parse \"%s\": got %d, want %d", words[i].word, (int) out, (int) words[i].m);
		if (strcmp(dmarc_mitigation_name(words[i].m), words[i].word) != 0)
			fail_msg("name of %d: got \"%s\", want \"%s\"", (int) words[i].m,
				 dmarc_mitigation_name(words[i].m), words[i].word);
	}
	for (i = 0; i < G_N_ELEMENTS(refused); i++) {
		enum dmarc_mitigation out = DMARC_MITIGATE_ALWAYS;

		if (dmarc_mitigation_parse(refused[i], &out))
			fail_msg("parse \"%s\": accepted as %d, want refused", refused[i], (int) out);
		assert_int_equal(out, DMARC_MITIGATE_ALWAYS);	/* untouched */
	}
	assert_false(dmarc_mitigation_parse(NULL, &(enum dmarc_mitigation) { DMARC_MITIGATE_NONE }));
	assert_string_equal(dmarc_mitigation_name((enum dmarc_mitigation) 3), "?");
}

/* policy_words - the words in logs */
static void
policy_words(void **state)
{
	assert_string_equal(dmarc_policy_name(ABSENT), "absent");
	assert_string_equal(dmarc_policy_name(NONE), "none");
	assert_string_equal(dmarc_policy_name(QUAR), "quarantine");
	assert_string_equal(dmarc_policy_name(REJECT), "reject");
	assert_string_equal(dmarc_policy_name((enum dmarc_policy) 4), "?");
}

/* resolver_settings - name server addresses as typed in the configuration */
static void
resolver_settings(void **state)
{
	static const struct {
		const char *typed;
		const char *want;	/* NULL: accepted; else a word of the complaint */
	} rows[] = {
		{ "127.0.0.1", NULL },
		{ "127.0.0.1:5353", NULL },
		{ "192.0.2.53:53", NULL },
		{ "::1", NULL },
		{ "[::1]", NULL },
		{ "[::1]:5353", NULL },
		{ "2001:db8::53", NULL },
		{ "[2001:db8::53]:65535", NULL },
		{ "::ffff:192.0.2.53", NULL },
		{ "", "empty" },
		{ NULL, "empty" },
		{ "localhost", "IPv4" },
		{ "ns1.example.org:53", "IPv4" },
		{ "127.1", "IPv4" },
		{ " 127.0.0.1", "IPv4" },
		{ "127.0.0.1 ", "IPv4" },
		{ "256.0.0.1", "IPv4" },
		{ "127.0.0.1:", "port" },
		{ "127.0.0.1:0", "port" },
		{ "127.0.0.1:65536", "port" },
		{ "127.0.0.1:100000", "port" },
		{ "127.0.0.1:53x", "port" },
		{ "127.0.0.1:-53", "port" },
		{ "[::1]:", "port" },
		{ "[::1]:0", "port" },
		{ "[::1", "]" },
		{ "[::1]53", "after ]" },
		{ "[127.0.0.1]:53", "IPv6" },
		{ "::1]:53", "IPv6" },
		{ "1.2.3.4:53:53", "IPv6" },
		{ "fe80::1%eth0", "IPv6" },
		{ "[]:53", "address" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		const char *got = dmarc_resolver_check(rows[i].typed);

		if (rows[i].want == NULL && got != NULL)
			fail_msg("\"%s\": refused (%s), want accepted", rows[i].typed, got);
		if (rows[i].want != NULL && (got == NULL || strstr(got, rows[i].want) == NULL))
			fail_msg("\"%s\": got \"%s\", want a complaint with \"%s\"",
				 rows[i].typed ? rows[i].typed : "NULL", got ? got : "(accepted)", rows[i].want);
	}
}

/* dns_bad_server - a name server setting that cannot be used is a failure, with no query */
static void
dns_bad_server(void **state)
{
	GPtrArray *txts = g_ptr_array_new_with_free_func(g_free);

	assert_int_equal(dmarc_txt_dns("ns1.example.org", "_dmarc.example.org", txts), -1);
	assert_int_equal(dmarc_txt_dns("127.0.0.1:0", "_dmarc.example.org", txts), -1);
	assert_int_equal(txts->len, 0);
	assert_int_equal(dmarc_lookup("example.org", dmarc_txt_dns, "localhost"), ABSENT);
	g_ptr_array_free(txts, TRUE);
}

int
main(void)
{
	struct CMUnitTest tests[G_N_ELEMENTS(walks) + 6];
	size_t i, n = 0;

	tests[n++] = (struct CMUnitTest) { "TXT records: DMARC or not, p and sp", parse_records, NULL, NULL, NULL };
	for (i = 0; i < G_N_ELEMENTS(walks); i++)
		tests[n++] = (struct CMUnitTest) { walks[i].name, one_walk, NULL, NULL, (void *) &walks[i] };
	tests[n++] = (struct CMUnitTest) { "munge: 3 mitigations by 4 policies", munge_table, NULL, NULL, NULL };
	tests[n++] = (struct CMUnitTest) { "mitigation: exactly none, munge_from, always_munge", mitigation_words,
					   NULL, NULL, NULL };
	tests[n++] = (struct CMUnitTest) { "policy names", policy_words, NULL, NULL, NULL };
	tests[n++] = (struct CMUnitTest) { "resolver setting: IPv4, IPv6, port", resolver_settings, NULL, NULL,
					   NULL };
	tests[n++] = (struct CMUnitTest) { "unusable resolver setting fails without a query", dns_bad_server, NULL,
					   NULL, NULL };
	return _cmocka_run_group_tests("dmarc", tests, n, NULL, NULL);
}
