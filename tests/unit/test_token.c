/*
 * test_token - invitation tokens: drawn from the injected randomness
 * source, parsed from "join-TOKEN" strictly, compared and hashed
 * (constant time is checked by structure only, never by the clock)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "token.h"

#define ALPHABET	"abcdefghijklmnopqrstuvwxyz234567"
#define VALID		"abcdefghijklmnopqrstuvwxyz234567"	/* 32 symbols, each once */

/* a deterministic randomness source: bytes from a pattern, or failure */
struct source {
	const unsigned char *bytes;	/* repeated as often as asked; NULL: fail */
	size_t	 len;
	size_t	 asked;			/* bytes asked for, in all */
	int	 calls;
	void	*ud_seen;		/* the ud it was called with */
};

/* fixed - the randomness source of struct source */
static bool
fixed(void *buf, size_t len, void *ud)
{
	struct source *s = ud;
	unsigned char *p = buf;
	size_t i;

	s->calls++;
	s->ud_seen = ud;
	s->asked += len;
	if (s->bytes == NULL)
		return false;
	for (i = 0; i < len; i++)
		p[i] = s->bytes[i % s->len];
	return true;
}

/* new_from_bytes - each byte makes one symbol: byte & 31 indexes a-z2-7 */
static void
new_from_bytes(void **state)
{
	static unsigned char counting[TOKEN_LEN], high[TOKEN_LEN], ones[TOKEN_LEN], shifted[TOKEN_LEN];
	static const unsigned char zero[1] = { 0 }, all_ff[1] = { 0xff }, b31[1] = { 31 };
	struct {
		const char *name;
		const unsigned char *bytes;
		size_t len;
		const char *want;
	} rows[] = {
		{ "bytes 0..31", counting, TOKEN_LEN, ALPHABET },
		{ "bytes 224..255 (high bits dropped)", high, TOKEN_LEN, ALPHABET },
		{ "bytes 32..63 (same as 0..31)", shifted, TOKEN_LEN, ALPHABET },
		{ "all 0x00", zero, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "all 0xff", all_ff, 1, "77777777777777777777777777777777" },
		{ "all 31", b31, 1, "77777777777777777777777777777777" },
		{ "0x01 0x21 0x41 ... (all b)", ones, TOKEN_LEN, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
	};
	size_t i;

	for (i = 0; i < TOKEN_LEN; i++) {
		counting[i] = (unsigned char) i;
		high[i] = (unsigned char) (224 + i);
		shifted[i] = (unsigned char) (32 + i);
		ones[i] = (unsigned char) (1 + 32 * (i % 8));
	}
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct source s = { rows[i].bytes, rows[i].len, 0, 0, NULL };
		char out[TOKEN_LEN + 2];

		memset(out, '#', sizeof out);
		if (!token_new(out, fixed, &s))
			fail_msg("%s: token_new failed, want %s", rows[i].name, rows[i].want);
		if (out[TOKEN_LEN] != '\0' || strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got \"%.*s\", want \"%s\"", rows[i].name, TOKEN_LEN, out, rows[i].want);
		if (out[TOKEN_LEN + 1] != '#')
			fail_msg("%s: wrote past out[TOKEN_LEN]", rows[i].name);
		if (s.calls < 1 || s.ud_seen != &s)
			fail_msg("%s: the source was called %d times with ud %p, want >= 1 with %p",
				 rows[i].name, s.calls, s.ud_seen, (void *) &s);
		if (s.asked != TOKEN_LEN)
			fail_msg("%s: asked the source for %zu bytes, want %d (one a symbol)", rows[i].name,
				 s.asked, TOKEN_LEN);
	}
	assert_int_equal(strlen(ALPHABET), TOKEN_LEN);
}

/* new_source_fails - no random bytes, no token */
static void
new_source_fails(void **state)
{
	struct source s = { NULL, 0, 0, 0, NULL };
	char out[TOKEN_LEN + 1];

	assert_false(token_new(out, fixed, &s));
	assert_true(s.calls >= 1);
	assert_ptr_equal(s.ud_seen, &s);
}

/* new_system - two tokens from getrandom(2) are valid and differ */
static void
new_system(void **state)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], back[TOKEN_LEN + 1];
	char *ext;
	size_t i;

	assert_true(token_new(a, token_random_system, NULL));
	assert_true(token_new(b, token_random_system, NULL));
	assert_int_equal(strlen(a), TOKEN_LEN);
	assert_int_equal(strlen(b), TOKEN_LEN);
	if (strcmp(a, b) == 0)
		fail_msg("two system tokens are the same: %s", a);
	for (i = 0; i < TOKEN_LEN; i++)
		if (strchr(ALPHABET, a[i]) == NULL || a[i] == '\0')
			fail_msg("token %s: character %zu (0x%02x) is not in a-z2-7", a, i, (unsigned char) a[i]);
	/* what token_new() makes, token_parse() reads back */
	ext = g_strconcat(TOKEN_PREFIX, a, NULL);
	assert_true(token_parse(ext, back));
	assert_string_equal(back, a);
	g_free(ext);
}

/* system_source - getrandom(2) fills what is asked, even nothing */
static void
system_source(void **state)
{
	unsigned char buf[4096];
	size_t i, zero = 0;

	memset(buf, 0, sizeof buf);
	assert_true(token_random_system(buf, 0, NULL));
	assert_true(token_random_system(buf, sizeof buf, NULL));
	for (i = 0; i < sizeof buf; i++)
		zero += buf[i] == 0;
	if (zero > 64)		/* expected 16 */
		fail_msg("%zu of %zu random bytes are 0", zero, sizeof buf);
}

/*
 * distribution - every symbol appears, none far from its share: over
 * 2000 tokens each of the 32 symbols is expected 2000 times (standard
 * deviation about 44), so 1500..2500 fails only for a biased mapping
 */
static void
distribution(void **state)
{
	guint count[256] = { 0 };
	char t[TOKEN_LEN + 1];
	int n, i;

	for (n = 0; n < 2000; n++) {
		assert_true(token_new(t, token_random_system, NULL));
		for (i = 0; i < TOKEN_LEN; i++)
			count[(unsigned char) t[i]]++;
	}
	for (i = 0; i < 256; i++) {
		bool symbol = i != 0 && strchr(ALPHABET, i) != NULL;

		if (!symbol && count[i] != 0)
			fail_msg("character 0x%02x appeared %u times", i, count[i]);
		if (symbol && (count[i] < 1500 || count[i] > 2500))
			fail_msg("symbol %c appeared %u times in 64000, want about 2000", i, count[i]);
	}
}

struct parse_row {
	const char *name;
	const char *ext;
	bool ok;
	const char *want;	/* the token when ok */
};

/* parse_rows - what token_parse() accepts and what it refuses */
static void
parse_rows(void **state)
{
	static const struct parse_row rows[] = {
		{ "lower case", "join-" VALID, true, VALID },
		{ "upper case folded", "JOIN-ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", true, VALID },
		{ "mixed case folded", "Join-aBcDeFgHiJkLmNoPqRsTuVwXyZ234567", true, VALID },
		{ "all 2", "join-22222222222222222222222222222222", true, "22222222222222222222222222222222" },
		{ "all 7", "join-77777777777777777777777777777777", true, "77777777777777777777777777777777" },
		{ "31 characters", "join-abcdefghijklmnopqrstuvwxyz23456", false, NULL },
		{ "33 characters", "join-" VALID "a", false, NULL },
		{ "no token", "join-", false, NULL },
		{ "empty", "", false, NULL },
		{ "0 (not base32)", "join-0bcdefghijklmnopqrstuvwxyz234567", false, NULL },
		{ "1 (not base32)", "join-abcdefghijklmnop1rstuvwxyz234567", false, NULL },
		{ "8 (just past 7)", "join-abcdefghijklmnopqrstuvwxyz234568", false, NULL },
		{ "9", "join-abcdefghijklmnopqrstuvwxyz934567", false, NULL },
		{ "` (just before a)", "join-`bcdefghijklmnopqrstuvwxyz234567", false, NULL },
		{ "{ (just past z)", "join-abcdefghijklmnopqrstuvwxy{234567", false, NULL },
		{ "- inside", "join-abcdefghijklmn-pqrstuvwxyz234567", false, NULL },
		{ "+ inside", "join-abcdefghijklmn+pqrstuvwxyz234567", false, NULL },
		{ "@ inside", "join-abcdefghijklmn@pqrstuvwxyz234567", false, NULL },
		{ "space inside", "join-abcdefghijklmn pqrstuvwxyz234567", false, NULL },
		{ "= padding", "join-abcdefghijklmnopqrstuvwxyz2345==", false, NULL },
		{ "newline at the end", "join-abcdefghijklmnopqrstuvwxyz23456\n", false, NULL },
		{ "8-bit \xc3\xa9 (two bytes, 32 in all)", "join-abcdefghijklmnopqrstuvwxyz2345\xc3\xa9", false,
		  NULL },
		{ "8-bit \xc3\xa9 first", "join-\xc3\xa9" "cdefghijklmnopqrstuvwxyz234567", false, NULL },
		{ "byte 0xe1 ('a' + 0x80)", "join-\xe1" "bcdefghijklmnopqrstuvwxyz234567", false, NULL },
		{ "no dash: joinx", "joinx" VALID, false, NULL },
		{ "other prefix: leave-", "leave-" VALID, false, NULL },
		{ "prefix without its dash", "join" VALID, false, NULL },
		{ "blank before the prefix", " join-" VALID, false, NULL },
		{ "bare token", VALID, false, NULL },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		char out[TOKEN_LEN + 1];
		bool got;

		memset(out, '#', sizeof out);
		got = token_parse(rows[i].ext, out);
		if (got != rows[i].ok)
			fail_msg("%s: token_parse(\"%s\") got %s, want %s", rows[i].name, rows[i].ext,
				 got ? "accepted" : "refused", rows[i].ok ? "accepted" : "refused");
		if (rows[i].ok && (out[TOKEN_LEN] != '\0' || strcmp(out, rows[i].want) != 0))
			fail_msg("%s: got \"%.*s\", want \"%s\"", rows[i].name, TOKEN_LEN, out, rows[i].want);
	}
	{
		char out[TOKEN_LEN + 1];

		assert_false(token_parse(NULL, out));
	}
}

/*
 * parse_reads_all - a wrong first character does not end the scan: the
 * rest is still read and folded (its time does not depend on where the
 * wrong character is)
 */
static void
parse_reads_all(void **state)
{
	char out[TOKEN_LEN + 1];

	memset(out, '#', sizeof out);
	assert_false(token_parse("join-0BCDEFGHIJKLMNOPQRSTUVWXYZ234567", out));
	assert_memory_equal(out + 1, VALID + 1, TOKEN_LEN - 1);
}

/* equal_rows - token_equal() compares exactly n bytes */
static void
equal_rows(void **state)
{
	unsigned char a[TOKEN_HASH_LEN], b[TOKEN_HASH_LEN];
	struct {
		const char *name;
		int flip;		/* byte of b to change, -1 none */
		size_t n;
		bool want;
	} rows[] = {
		{ "equal", -1, TOKEN_HASH_LEN, true },
		{ "differ in the first byte", 0, TOKEN_HASH_LEN, false },
		{ "differ in the last byte", TOKEN_HASH_LEN - 1, TOKEN_HASH_LEN, false },
		{ "differ in one bit of a middle byte", 16, TOKEN_HASH_LEN, false },
		{ "n = 0 compares nothing", 0, 0, true },
		{ "a difference past n is not seen", TOKEN_HASH_LEN - 1, TOKEN_HASH_LEN - 1, true },
		{ "n = 1, first byte differs", 0, 1, false },
	};
	size_t i, k;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		bool got;

		for (k = 0; k < sizeof a; k++)
			a[k] = b[k] = (unsigned char) (k * 7 + 3);
		if (rows[i].flip >= 0)
			b[rows[i].flip] ^= rows[i].flip == 16 ? 0x10 : 0x80;
		got = token_equal(a, b, rows[i].n);
		if (got != rows[i].want)
			fail_msg("%s: got %s, want %s", rows[i].name, got ? "equal" : "different",
				 rows[i].want ? "equal" : "different");
		/* symmetric */
		if (token_equal(b, a, rows[i].n) != rows[i].want)
			fail_msg("%s: not symmetric", rows[i].name);
	}
	assert_true(token_equal(a, a, sizeof a));
}

/* hex - a digest as lower-case hex */
static char *
hex(const unsigned char *d, size_t n)
{
	GString *s = g_string_new(NULL);
	size_t i;

	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%02x", d[i]);
	return g_string_free(s, FALSE);
}

/* hash_vectors - SHA-256 known answers, and different tokens hash apart */
static void
hash_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	size_t i;

	assert_int_equal(TOKEN_HASH_LEN, 32);
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		unsigned char d[TOKEN_HASH_LEN + 1];
		char *got;

		d[TOKEN_HASH_LEN] = 0xa5;
		token_hash(rows[i].in, d);
		got = hex(d, TOKEN_HASH_LEN);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("sha256(\"%s\"): got %s, want %s", rows[i].in, got, rows[i].want);
		assert_int_equal(d[TOKEN_HASH_LEN], 0xa5);	/* nothing past the digest */
		g_free(got);
	}
	token_hash(VALID, h1);
	token_hash("abcdefghijklmnopqrstuvwxyz234566", h2);
	token_hash(VALID, h3);
	assert_false(token_equal(h1, h2, TOKEN_HASH_LEN));
	assert_true(token_equal(h1, h3, TOKEN_HASH_LEN));
	/* the hash is not the token */
	assert_true(memcmp(h1, VALID, TOKEN_HASH_LEN) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_from_bytes),
		cmocka_unit_test(new_source_fails),
		cmocka_unit_test(new_system),
		cmocka_unit_test(system_source),
		cmocka_unit_test(distribution),
		cmocka_unit_test(parse_rows),
		cmocka_unit_test(parse_reads_all),
		cmocka_unit_test(equal_rows),
		cmocka_unit_test(hash_vectors),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
