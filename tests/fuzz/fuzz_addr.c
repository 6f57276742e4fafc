/*
 * NAME
 *	fuzz_addr - fuzz harness for mail address handling
 * SYNOPSIS
 *	fuzz_addr [libFuzzer options] [CORPUS]...
 * DESCRIPTION
 *	The input, cut at its first NUL, is an address as it may come
 *	with a message or be typed by an administrator.  It goes through
 *	addr_normalize(), addr_check_strict(), addr_is_mailer_daemon(),
 *	addr_domain() and addr_split_extension(), and these must hold:
 *
 *	A canonical address (addr_normalize()) has local@domain shape,
 *	no ASCII upper case, and is its own canonical form: storing it
 *	and comparing it again finds the same member.
 *
 *	An address the strict check accepts is canonical: its result is
 *	what addr_normalize() makes of the same input, and typed back it
 *	is accepted again unchanged (vigil prints what it stores).  It is
 *	at most 254 bytes (RFC 5321), has no blank or control, and its
 *	domain is in A-labels (ASCII).
 *
 *	A refusal always says why.  addr_domain() is what follows the
 *	last @.  addr_split_extension() cuts local+ext@domain at the
 *	first + and the pieces put back together are the address; an
 *	address the strict check accepts (a list's) splits into a canonical
 *	base.
 * SECURITY
 *	Addresses come from strangers (envelope, From, X-Loop, DSNs) and
 *	decide membership; an address that changes when normalised again
 *	would let a member's post look like a stranger's or the reverse.
 */
#include <string.h>
#include <gmime/gmime.h>

#include "addr.h"
#include "message.h"
#include "fuzz.h"

/* LLVMFuzzerInitialize - GMime once per process */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	message_init();
	return 0;
}

/* check_canonical - the properties of a canonical address */
static void
check_canonical(const char *in, const char *c)
{
	const char *at = strrchr(c, '@');
	char *again;
	const char *p;

	FUZZ_CHECK(at != NULL && at != c && at[1] != '\0', "\"%s\" -> \"%s\"", in, c);
	for (p = c; *p; p++)
		FUZZ_CHECK(!g_ascii_isupper(*p), "\"%s\" -> \"%s\"", in, c);
	again = addr_normalize(c);
	FUZZ_CHECK(again != NULL && strcmp(again, c) == 0, "\"%s\" -> \"%s\" -> \"%s\"", in, c,
		   again ? again : "(null)");
	g_free(again);
}

/* check_split - local+ext@domain into its pieces; canonical: the base must be too */
static void
check_split(const char *a, bool canonical)
{
	char *base = NULL, *ext = NULL;
	const char *at = strrchr(a, '@');
	char *joined;

	if (!addr_split_extension(a, &base, &ext)) {
		FUZZ_CHECK(base == NULL && ext == NULL, "\"%s\"", a);
		FUZZ_CHECK(at == NULL || memchr(a, '+', (size_t) (at - a)) == NULL || a[0] == '+',
			   "\"%s\" not split", a);
		return;
	}
	FUZZ_CHECK(at != NULL, "\"%s\" split without @", a);
	joined = g_strdup_printf("%.*s+%s%s", (int) (strrchr(base, '@') - base), base, ext,
				 strrchr(base, '@'));
	FUZZ_CHECK(strcmp(joined, a) == 0, "\"%s\" -> \"%s\" + \"%s\" -> \"%s\"", a, base, ext, joined);
	FUZZ_CHECK(strchr(base, '+') == NULL || strchr(base, '+') > strrchr(base, '@'),
		   "\"%s\": base \"%s\" still has a + before the @", a, base);
	if (canonical) {
		char *c = addr_normalize(base);

		FUZZ_CHECK(c != NULL && strcmp(c, base) == 0, "\"%s\": base \"%s\" -> \"%s\"", a, base,
			   c ? c : "(null)");
		g_free(c);
	}
	g_free(joined);
	g_free(base);
	g_free(ext);
}

/* LLVMFuzzerTestOneInput - one address */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = g_strndup((const char *) data, size);
	char *norm = addr_normalize(in);
	const char *why = NULL;
	char *strict = addr_check_strict(in, &why);
	const char *dom = addr_domain(in);

	if (norm)
		check_canonical(in, norm);
	if (strict) {
		const char *why2 = NULL;
		char *again;
		const char *p;

		check_canonical(in, strict);
		FUZZ_CHECK(norm != NULL && strcmp(norm, strict) == 0, "\"%s\": strict \"%s\", normalized \"%s\"",
			   in, strict, norm ? norm : "(null)");
		FUZZ_CHECK(strlen(strict) <= 254, "\"%s\" -> \"%s\": %zu bytes", in, strict, strlen(strict));
		FUZZ_CHECK(g_str_is_ascii(strrchr(strict, '@') + 1), "\"%s\" -> \"%s\": domain not in A-labels",
			   in, strict);
		for (p = strict; *p; p++)
			FUZZ_CHECK((unsigned char) *p > 0x20 && *p != 0x7f, "\"%s\" -> \"%s\"", in, strict);
		again = addr_check_strict(strict, &why2);
		FUZZ_CHECK(again != NULL && strcmp(again, strict) == 0, "\"%s\" -> \"%s\" typed back: %s",
			   in, strict, again ? again : why2);
		g_free(again);
	} else {
		FUZZ_CHECK(why != NULL && *why != '\0', "\"%s\" refused without a reason", in);
	}
	FUZZ_CHECK(dom == NULL ? strchr(in, '@') == NULL : dom == strrchr(in, '@') + 1, "\"%s\"", in);
	(void) addr_is_mailer_daemon(in);
	if (norm)
		FUZZ_CHECK(addr_is_mailer_daemon(norm) == (strncmp(norm, "mailer-daemon@", 14) == 0
							   && strchr(norm + 14, '@') == NULL),
			   "\"%s\"", norm);
	check_split(in, false);
	if (norm)
		check_split(norm, false);
	if (strict)
		check_split(strict, true);
	g_free(strict);
	g_free(norm);
	g_free(in);
	return 0;
}
