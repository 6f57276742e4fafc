/*
 * fuzz.h - what the fuzz harnesses share: the libFuzzer entry points,
 * a reader that turns fuzz bytes into values, and invariant checks
 *
 * A harness defines LLVMFuzzerTestOneInput() and, when it needs a
 * set-up once per process, LLVMFuzzerInitialize().  Built with
 * --enable-fuzz they are linked with libFuzzer; otherwise with
 * replay.c, which feeds them the seed corpus and the regression inputs
 * under make check.
 *
 * struct fuzz_in hands out the input from the front: fuzz_bool(),
 * fuzz_byte(), fuzz_i64() and fuzz_str() (a string of up to a length
 * byte's worth of bytes, cut at a NUL); past the end everything is
 * zero or "".  Strings from fuzz_str() are freed with g_free().
 *
 * FUZZ_CHECK(cond, ...) is an invariant: when it does not hold it
 * prints the file, line, the condition and a message, and aborts, which
 * libFuzzer and replay.c both report as a crash.
 */
#ifndef VIGIL_FUZZ_H
#define VIGIL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t	 n;
};

/* fuzz_byte - the next byte, 0 past the end */
static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	uint8_t b = 0;

	if (in->n > 0) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

/* fuzz_bool - the low bit of the next byte */
static inline bool
fuzz_bool(struct fuzz_in *in)
{
	return fuzz_byte(in) & 1;
}

/* fuzz_i64 - the next eight bytes, little-endian */
static inline int64_t
fuzz_i64(struct fuzz_in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t) fuzz_byte(in) << (8 * i);
	return (int64_t) v;
}

/* fuzz_str - a string: a length byte, then that many bytes, cut at a NUL */
static inline char *
fuzz_str(struct fuzz_in *in)
{
	size_t len = fuzz_byte(in);
	char *s;

	if (len > in->n)
		len = in->n;
	s = g_strndup((const char *) in->p, len);
	in->p += len;
	in->n -= len;
	return s;
}

/* fuzz_rest - what is left, as a string cut at a NUL */
static inline char *
fuzz_rest(struct fuzz_in *in)
{
	char *s = g_strndup((const char *) in->p, in->n);

	in->p += in->n;
	in->n = 0;
	return s;
}

/* fuzz_utf8_ok - s is valid UTF-8 (NULL counts as valid) */
static inline bool
fuzz_utf8_ok(const char *s)
{
	return s == NULL || g_utf8_validate(s, -1, NULL);
}

#endif
