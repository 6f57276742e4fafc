/*
 * token.h - single-use invitation tokens
 */
#ifndef VIGIL_TOKEN_H
#define VIGIL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_LEN	32	/* characters: 160 bits */
#define TOKEN_HASH_LEN	32	/* SHA-256 */
#define TOKEN_PREFIX	"join-"	/* LIST+join-TOKEN@domain */

/* fill buf with len random bytes; false when none could be had */
typedef bool (*token_random_fn)(void *buf, size_t len, void *ud);

bool token_random_system(void *buf, size_t len, void *ud);
bool token_new(char out[TOKEN_LEN + 1], token_random_fn rnd, void *ud);
bool token_parse(const char *ext, char out[TOKEN_LEN + 1]);
bool token_equal(const unsigned char *a, const unsigned char *b, size_t n);
void token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN]);

#endif
