/*
 * test_addr - canonical addresses, the administrator's strict check
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include <gmime/gmime.h>

#include "addr.h"
#include "message.h"

struct norm { const char *in; const char *want; };

/* normalize - canonical forms of addresses from mail */
static void
normalize(void **state)
{
	static const struct norm rows[] = {
		{ "alice@example.org", "alice@example.org" },
		{ "Alice@Example.ORG", "alice@example.org" },
		{ "<bob@example.org>", "bob@example.org" },
		{ "  <bob@example.org>  ", "bob@example.org" },
		{ "zoe@bücher.example", "zoe@xn--bcher-kva.example" },
		{ "zoe@xn--bcher-kva.example", "zoe@xn--bcher-kva.example" },
		{ "zoe@XN--BCHER-KVA.example", "zoe@xn--bcher-kva.example" },
		/* look-alikes that IDNA maps to another name keep their own form */
		{ "alice@\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90\xef\xbd\x8c\xef\xbd\x85.org",
		  "alice@\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90\xef\xbd\x8c\xef\xbd\x85.org" },
		{ "Zoe@B\xc3\x9c" "CHER.example", "zoe@b\xc3\x9c" "cher.example" },
		{ "zoe@bu\xcc\x88" "cher.example", "zoe@bu\xcc\x88" "cher.example" },
		{ "alice@example\xe3\x80\x82org", "alice@example\xe3\x80\x82org" },
		/* a real IDN that looks like an ASCII name is converted, and differs */
		{ "alice@ex\xd0\xb0mple.org", "alice@xn--exmple-4nf.org" },
		/* xn-- labels in any case: one canonical form, which is its own */
		{ "Zoe@XN--BCHER-examplemple", "zoe@xn--bcher-kxampcob0abc" },
		{ "zoe@xn--bcher-kxampcob0abc", "zoe@xn--bcher-kxampcob0abc" },
		/* ... also for a label IDNA2008 cannot encode again (U+2246) */
		{ "zoe@xn--bch", "zoe@\xe2\x89\x86" },
		{ "Zoe@XN--BCH", "zoe@\xe2\x89\x86" },
		{ "zoe@\xe2\x89\x86", "zoe@\xe2\x89\x86" },
		{ "", NULL },
		{ "<>", NULL },
		{ "localonly", NULL },
		{ "@example.org", NULL },
		{ "foo@", NULL },
		/* GMime's reading of garbage, "<@@>", is no address */
		{ "<<@@>>", NULL },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *got = addr_normalize(rows[i].in);

		if (rows[i].want == NULL && got != NULL)
			fail_msg("addr_normalize(\"%s\"): got \"%s\", want NULL", rows[i].in, got);
		if (rows[i].want != NULL && (got == NULL || strcmp(got, rows[i].want) != 0))
			fail_msg("addr_normalize(\"%s\"): got \"%s\", want \"%s\"", rows[i].in,
				 got ? got : "(null)", rows[i].want);
		g_free(got);
	}
	assert_null(addr_normalize(NULL));
}

/* round_trip - the canonical form GMime's IDN conversion gives addr, or NULL */
static char *
round_trip(const char *addr)
{
	char *lower = g_ascii_strdown(addr, -1);
	InternetAddress *ia = internet_address_mailbox_new(NULL, lower);
	const char *idn = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(ia));
	const char *at = strrchr(lower, '@');
	char *out = idn && *idn && at && at != lower && at[1] ? g_ascii_strdown(idn, -1) : NULL;

	g_object_unref(ia);
	g_free(lower);
	return out;
}

/*
 * random_address - local@domain of dot-atoms, upper case here and there;
 * one in six with a character spoilt, one in six with a piece inserted
 */
static char *
random_address(GRand *r)
{
	static const char atext[] = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~";
	static const char ldh[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	static const char spoil[] = ".@\"()[],;:\\";	/* not the blanks and <> addr_normalize() strips */
	static const char *const splice[] = { "xn--", "xn--bcher-kva", "..", ".", "@", "-" };
	GString *a = g_string_new(NULL);
	int parts, i, j;

	for (i = 0, parts = g_rand_int_range(r, 1, 4); i < parts; i++) {
		if (i)
			g_string_append_c(a, '.');
		for (j = g_rand_int_range(r, 1, 8); j > 0; j--)
			g_string_append_c(a, atext[g_rand_int_range(r, 0, sizeof atext - 1)]);
	}
	g_string_append_c(a, '@');
	for (i = 0, parts = g_rand_int_range(r, 1, 4); i < parts; i++) {
		if (i)
			g_string_append_c(a, '.');
		for (j = g_rand_int_range(r, 1, 8); j > 0; j--)
			g_string_append_c(a, ldh[g_rand_int_range(r, 0, sizeof ldh - 1)]);
	}
	for (i = 0; i < (int) a->len; i++)
		if (g_rand_int_range(r, 0, 5) == 0)
			a->str[i] = g_ascii_toupper(a->str[i]);
	switch (g_rand_int_range(r, 0, 6)) {
	case 0:
		a->str[g_rand_int_range(r, 0, a->len)] = spoil[g_rand_int_range(r, 0, sizeof spoil - 1)];
		break;
	case 1:
		g_string_insert(a, g_rand_int_range(r, 0, a->len + 1),
				splice[g_rand_int_range(r, 0, G_N_ELEMENTS(splice))]);
		break;
	}
	return g_string_free(a, FALSE);
}

/*
 * same_as_gmime - for addresses of ASCII, the canonical form is GMime's
 * IDN round trip, the plain ones it leaves alone included (canonical()
 * skips the round trip for those)
 */
static void
same_as_gmime(void **state)
{
	GRand *r = g_rand_new_with_seed(5322);
	int i;

	for (i = 0; i < 20000; i++) {
		char *a = random_address(r);
		char *want = round_trip(a);
		char *again = want ? round_trip(want) : NULL;
		char *got = addr_normalize(a);

		if (again == NULL || strcmp(again, want) != 0)	/* garbage: no address */
			g_clear_pointer(&want, g_free);
		if (g_strcmp0(got, want) != 0)
			fail_msg("addr_normalize(\"%s\"): got \"%s\", want \"%s\"", a, got ? got : "(null)",
				 want ? want : "(null)");
		g_free(a);
		g_free(want);
		g_free(again);
		g_free(got);
	}
	g_rand_free(r);
}

/* strict_accepts - what an administrator may type */
static void
strict_accepts(void **state)
{
	static const struct norm rows[] = {
		{ "alice@example.org", "alice@example.org" },
		{ "Alice.Smith+sec@Mail.Example.ORG", "alice.smith+sec@mail.example.org" },
		{ "zoe@bücher.example", "zoe@xn--bcher-kva.example" },
		{ "o'brien@example.co.uk", "o'brien@example.co.uk" },
		/* the canonical form vigil stores and prints can be typed back */
		{ "zoe@xn--bcher-kva.example", "zoe@xn--bcher-kva.example" },
		{ "Zoe@XN--BCHER-KVA.example", "zoe@xn--bcher-kva.example" },
		{ "security+join-abc@example.org", "security+join-abc@example.org" },
		/* a label of 63 octets */
		{ "a@b23456789012345678901234567890123456789012345678901234567890123.example",
		  "a@b23456789012345678901234567890123456789012345678901234567890123.example" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		const char *why = NULL;
		char *got = addr_check_strict(rows[i].in, &why);

		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("addr_check_strict(\"%s\"): got %s (%s), want %s", rows[i].in,
				 got ? got : "NULL", why ? why : "-", rows[i].want);
		g_free(got);
	}
}

/* strict_refuses - what must never become a member address */
static void
strict_refuses(void **state)
{
	static const char *rows[] = {
		"", "alice", "alice@", "@example.org", "a@b@c.example", "alice@localhost",
		"alice @example.org", "Alice <alice@example.org>", "alice@example.org,bob@example.org",
		".alice@example.org", "alice.@example.org", "al..ice@example.org", "alice@-example.org",
		"alice@example-.org", "alice@example..org", "alice@example.org.", "alice@exa_mple.org",
		"\"alice\"@example.org", "alice@example.org\n", "ali\x1b" "ce@example.org",
		"(comment)alice@example.org", "zoe@B\xc3\x9c" "CHER.example",
		"alice@\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90\xef\xbd\x8c\xef\xbd\x85.org",
		"(comment)alice@example.org",
		/* domains IDNA2008 cannot write as A-labels: U+2246 */
		"zoe@xn--bch.example", "Zoe@XN--BCH.example", "zoe@\xe2\x89\x86.example",
		"zoe@xn--bcher-vakxmea.example",
		/* U+037E, which IDNA maps to ';' */
		"o@xn-\xcd\xbe.example", "o@a\xcd\xbe.example",
		/* a label of 64 octets */
		"a@b234567890123456789012345678901234567890123456789012345678901234.example",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		const char *why = NULL;
		char *got = addr_check_strict(rows[i], &why);

		if (got != NULL)
			fail_msg("addr_check_strict(\"%s\"): accepted as %s, want refused", rows[i], got);
		assert_non_null(why);
	}
}

/* mailer_daemon - RFC 3834 never-answer addresses */
static void
mailer_daemon(void **state)
{
	assert_true(addr_is_mailer_daemon("MAILER-DAEMON@example.org"));
	assert_true(addr_is_mailer_daemon("mailer-daemon@mx.example.org"));
	assert_true(addr_is_mailer_daemon("MAILER-DAEMON"));
	assert_false(addr_is_mailer_daemon("mailer-daemon-fan@example.org"));
	assert_false(addr_is_mailer_daemon("alice@mailer-daemon.example"));
	assert_false(addr_is_mailer_daemon(NULL));
	assert_string_equal(addr_domain("a@b.example"), "b.example");
	assert_null(addr_domain("nodomain"));
}

/* split_extension - local+ext@domain into local@domain and ext; nothing set when false */
static void
split_extension(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		const char *base;	/* NULL: false */
		const char *ext;
	} rows[] = {
		{ "a join address", "security+join-abc@example.org", "security@example.org", "join-abc" },
		{ "no plus", "security@example.org", NULL, NULL },
		{ "empty local part before the plus", "+x@example.org", NULL, NULL },
		{ "a plus in the domain is not an extension", "security@ex+ample.org", NULL, NULL },
		{ "plus in local part and domain: the local one", "a+b@ex+ample.org", "a@ex+ample.org", "b" },
		{ "the first plus splits", "a+b+c@example.org", "a@example.org", "b+c" },
		{ "empty extension", "security+@example.org", "security@example.org", "" },
		{ "no domain", "security+join-abc", NULL, NULL },
		{ "empty", "", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *base = (char *) "untouched", *ext = (char *) "untouched";
		bool got = addr_split_extension(rows[i].in, &base, &ext);

		if (got != (rows[i].base != NULL))
			fail_msg("%s: addr_split_extension(\"%s\") got %s, want %s", rows[i].name, rows[i].in,
				 got ? "true" : "false", rows[i].base ? "true" : "false");
		if (!got && (strcmp(base, "untouched") != 0 || strcmp(ext, "untouched") != 0))
			fail_msg("%s: false, but set base or ext", rows[i].name);
		if (got && (strcmp(base, rows[i].base) != 0 || strcmp(ext, rows[i].ext) != 0))
			fail_msg("%s: got %s and \"%s\", want %s and \"%s\"", rows[i].name, base, ext,
				 rows[i].base, rows[i].ext);
		if (got) {
			g_free(base);
			g_free(ext);
		}
	}
	{
		char *base = NULL, *ext = NULL;

		assert_false(addr_split_extension(NULL, &base, &ext));
		assert_null(base);
		assert_null(ext);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalize),
		cmocka_unit_test(same_as_gmime),
		cmocka_unit_test(strict_accepts),
		cmocka_unit_test(strict_refuses),
		cmocka_unit_test(mailer_daemon),
		cmocka_unit_test(split_extension),
	};

	message_init();
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
