/*
 * NAME
 *	fuzz_token - fuzz harness for invitation tokens
 * SYNOPSIS
 *	fuzz_token [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input, cut at its first NUL, is the address extension of a
 *	message to LIST+EXT@domain, as token_parse() reads it.  Its answer
 *	must agree with a plain reading of the rule: "join-" in any case,
 *	then exactly TOKEN_LEN characters of a-z and 2-7 in any case; the
 *	token handed out is those characters in lower case, and it parses
 *	again to itself.
 *
 *	The same bytes also serve as the random source of token_new(),
 *	whose token must parse, and as two hashes for token_equal(), which
 *	must agree with memcmp(); token_hash() must be the same twice and
 *	differ for the lower-case token and anything token_parse() refuses
 *	(it only hashes what parsed, but a collision would be news).
 * SECURITY
 *	The extension comes from whoever sends mail; a token that parses
 *	when it should not, or compares equal when it is not, lets a
 *	stranger join the list.
 */
#include <string.h>

#include "token.h"
#include "fuzz.h"

/* plain_parse - the rule, read plainly: the lower-case token or false */
static bool
plain_parse(const char *ext, char out[TOKEN_LEN + 1])
{
	size_t i;

	if (g_ascii_strncasecmp(ext, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return false;
	ext += strlen(TOKEN_PREFIX);
	if (strlen(ext) != TOKEN_LEN)
		return false;
	for (i = 0; i < TOKEN_LEN; i++) {
		char c = g_ascii_tolower(ext[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return false;
		out[i] = c;
	}
	out[TOKEN_LEN] = '\0';
	return true;
}

/* from_input - a token_random_fn that hands out the fuzz bytes, then zeros */
static bool
from_input(void *buf, size_t len, void *ud)
{
	struct fuzz_in *in = ud;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = fuzz_byte(in);
	return true;
}

/* LLVMFuzzerTestOneInput - one address extension */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ext = g_strndup((const char *) data, size);
	char got[TOKEN_LEN + 1], want[TOKEN_LEN + 1], again[TOKEN_LEN + 1];
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
	char *joined;
	bool ok = token_parse(ext, got);
	bool plain = plain_parse(ext, want);
	struct fuzz_in in = { data, size };
	char fresh[TOKEN_LEN + 1];

	FUZZ_CHECK(ok == plain, "token_parse(\"%s\") = %d, the rule says %d", ext, ok, plain);
	if (ok) {
		FUZZ_CHECK(strcmp(got, want) == 0, "\"%s\": got %s, want %s", ext, got, want);
		joined = g_strconcat(TOKEN_PREFIX, got, NULL);
		FUZZ_CHECK(token_parse(joined, again) && strcmp(again, got) == 0, "\"%s\" again", joined);
		g_free(joined);
		token_hash(got, h1);
		token_hash(got, h2);
		FUZZ_CHECK(token_equal(h1, h2, TOKEN_HASH_LEN), "hash of %s not stable", got);
		token_hash(ext, h2);
		FUZZ_CHECK(!token_equal(h1, h2, TOKEN_HASH_LEN), "hash of \"%s\" = hash of its token", ext);
	}

	FUZZ_CHECK(token_new(fresh, from_input, &in), "token_new failed");
	joined = g_strconcat(TOKEN_PREFIX, fresh, NULL);
	FUZZ_CHECK(token_parse(joined, again) && strcmp(again, fresh) == 0, "new token %s", fresh);
	g_free(joined);

	if (size >= 2) {
		size_t n = size / 2;

		FUZZ_CHECK(token_equal(data, data + n, n) == (memcmp(data, data + n, n) == 0),
			   "token_equal disagrees with memcmp over %zu bytes", n);
		FUZZ_CHECK(token_equal(data, data, n), "token_equal(a, a)");
	}
	g_free(ext);
	return 0;
}
