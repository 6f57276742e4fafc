/*
 * NAME
 *	token - single-use invitation tokens
 * SYNOPSIS
 *	#include "token.h"
 *
 *	bool token_new(char out[TOKEN_LEN + 1], token_random_fn rnd, void *ud);
 *	bool token_parse(const char *ext, char out[TOKEN_LEN + 1]);
 *	bool token_equal(const unsigned char *a, const unsigned char *b, size_t n);
 *	void token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN]);
 * DESCRIPTION
 *	An invitation token is TOKEN_LEN characters of the lower-case
 *	base32 alphabet (a-z, 2-7): 5 random bits each, 160 in all.  The
 *	alphabet survives what mail does to a local part - Postfix and
 *	vigil fold it to lower case - and needs no quoting in
 *	LIST+join-TOKEN@domain.
 *
 *	token_new() draws the bits from rnd (token_random_system(): the
 *	kernel's getrandom(2)); tests pass their own source.  It fails only
 *	when the source does.
 *
 *	token_parse() reads the address extension "join-TOKEN" (the part
 *	after the recipient delimiter), folds ASCII to lower case, and
 *	checks the length and the alphabet.  It looks at every character
 *	whatever it finds, so its time does not depend on where a wrong
 *	character is.
 *
 *	The database keeps only token_hash() (SHA-256) of a token, never the
 *	token: whoever reads the database cannot join.  token_equal()
 *	compares two hashes in time that depends only on n.
 * SECURITY
 *	Tokens are never logged and never printed; callers pass them only
 *	to the invitation they mail.
 */
#include "token.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <glib.h>

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* token_random_system - len bytes from getrandom(2) */
bool
token_random_system(void *buf, size_t len, void *ud)
{
	unsigned char *p = buf;
	ssize_t n;

	(void) ud;
	while (len > 0) {
		if ((n = getrandom(p, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

/* token_new - a fresh token: 32 symbols of 5 bits, one random byte each */
bool
token_new(char out[TOKEN_LEN + 1], token_random_fn rnd, void *ud)
{
	unsigned char raw[TOKEN_LEN];
	size_t i;

	if (!rnd(raw, sizeof raw, ud))
		return false;
	for (i = 0; i < TOKEN_LEN; i++)
		out[i] = alphabet[raw[i] & 31];	/* 256 = 8 x 32: no bias */
	out[TOKEN_LEN] = '\0';
	memset(raw, 0, sizeof raw);
	return true;
}

/* symbol_bad - 0 for a character of the alphabet, else non-zero; no branches on c */
static unsigned
symbol_bad(unsigned char c)
{
	unsigned letter = (unsigned) (c - 'a') < 26u;
	unsigned digit = (unsigned) (c - '2') < 6u;

	return (letter | digit) ^ 1u;
}

/* token_parse - the token of an extension "join-TOKEN", lower-cased, or false */
bool
token_parse(const char *ext, char out[TOKEN_LEN + 1])
{
	unsigned bad = 0;
	size_t i, plen = strlen(TOKEN_PREFIX);

	if (ext == NULL || g_ascii_strncasecmp(ext, TOKEN_PREFIX, plen) != 0
	    || strlen(ext + plen) != TOKEN_LEN)
		return false;
	for (i = 0; i < TOKEN_LEN; i++) {
		unsigned char c = (unsigned char) g_ascii_tolower(ext[plen + i]);

		bad |= symbol_bad(c);
		out[i] = (char) c;
	}
	out[TOKEN_LEN] = '\0';
	return bad == 0;
}

/* token_equal - a and b are the same n bytes; the time depends on n alone */
bool
token_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	volatile unsigned char diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* token_hash - SHA-256 of a token, what the database keeps */
void
token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN])
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	gsize len = TOKEN_HASH_LEN;

	g_checksum_update(sum, (const guchar *) token, (gssize) strlen(token));
	g_checksum_get_digest(sum, out, &len);
	g_checksum_free(sum);
}
