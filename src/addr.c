/*
 * NAME
 *	addr - mail address handling
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	char *addr_normalize(const char *addr);
 *	char *addr_check_strict(const char *typed, const char **why);
 *	bool addr_is_plain(const char *addr);
 *	bool addr_is_mailer_daemon(const char *addr);
 *	const char *addr_domain(const char *addr);
 *	bool addr_split_extension(const char *addr, char **base, char **ext);
 * DESCRIPTION
 *	Addresses are compared in one canonical form: the addr-spec alone,
 *	the domain in its IDN A-label (xn--) form, ASCII letters folded to
 *	lower case.  This is the form stored in the database and used for
 *	RCPT TO.  Only a domain written in its normal form (a U-label in
 *	lower case, composed characters) is converted: one that IDNA would
 *	first have to map (fullwidth letters, non-ASCII capitals, combining
 *	marks, the ideographic full stop) stays as written, so it never
 *	equals the address it imitates.
 *	A label IDNA2008 cannot encode stays a U-label, however it came;
 *	the canonical form of a canonical address is itself.
 *
 *	addr_normalize() returns the canonical form of an address that came
 *	with a message (envelope or header), or NULL when addr is empty or
 *	has no local@domain shape, or is garbage whose canonical form would
 *	not be its own.  Surrounding angle brackets are removed.
 *
 *	addr_check_strict() is for addresses typed by an administrator: one
 *	bare addr-spec, no spaces or controls, one @, a dot-atom local part,
 *	a domain of at least two labels of letters, digits, hyphens (or
 *	UTF-8 for IDN) that IDNA2008 can write as A-labels (xn--) of
 *	letters, digits and hyphens, at most 63 octets each: a U-label it
 *	refuses or maps to something else (U+037E to ';'), or an xn--
 *	label that is not a valid A-label, is refused.  It returns the canonical form, or NULL with *why set
 *	to a static reason.
 *
 *	addr_is_plain() is true for an address in ASCII that any IDN
 *	conversion gives back as it is: a dot-atom local part at a domain
 *	of letters, digits, hyphens and dots with no xn-- in it.
 *
 *	addr_is_mailer_daemon() is true for MAILER-DAEMON@any.
 *
 *	addr_domain() points into addr after the last @, or NULL.
 *
 *	addr_split_extension() splits local+ext@domain (Postfix
 *	recipient_delimiter = +) into local@domain and ext.  It is false,
 *	and sets nothing, for an address without a + in its local part.
 *
 *	Results of addr_normalize() and addr_check_strict() are freed with
 *	g_free().
 * SECURITY
 *	GMime is lenient (it turns a@b@c into a@b), so the strict check is
 *	our own and runs before GMime sees the address.
 */
#include "addr.h"

#include <string.h>
#include <gmime/gmime.h>

/*
 * as_written - is alabel (lower case) the IDN form of the domain written,
 * and not only a name it maps to: IDNA mapping (UTS #46) also turns
 * fullwidth letters, non-ASCII capitals, decomposed characters and the
 * ideographic full stop into the name they look like
 */
static bool
as_written(const char *written, const char *alabel)
{
	char *w = g_ascii_strdown(written, -1);
	char *u = g_hostname_to_unicode(alabel);
	bool same = strcmp(w, alabel) == 0 || (u != NULL && strcmp(w, u) == 0);

	g_free(w);
	g_free(u);
	return same;
}

/* atext - RFC 5322 atext, plus UTF-8 bytes (RFC 6532) */
static bool
atext(unsigned char c)
{
	return g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * addr_is_plain - addr is ASCII dot-atoms at a domain of letters,
 * digits, hyphens and dots, without an A-label: GMime's IDN round trip
 * gives such an address back unchanged (test_addr compares the two), and
 * through libidn2 it costs more than the rest of canonical()
 */
bool
addr_is_plain(const char *addr)
{
	const char *at = strchr(addr, '@');
	const char *p;

	if (at == NULL || at == addr || at[1] == '\0')
		return false;
	for (p = addr; p < at; p++)
		if (!((unsigned char) *p < 0x80 && atext(*p))
		    && !(*p == '.' && p > addr && p[1] != '.' && p[1] != '@'))
			return false;
	for (p = at + 1; *p; p++)
		if ((!g_ascii_isalnum(*p) && *p != '-'
		     && !(*p == '.' && p > at + 1 && p[1] != '.' && p[1] != '\0'))
		    || g_ascii_strncasecmp(p, "xn--", 4) == 0)
			return false;
	return true;
}

/*
 * canonical - A-label domain, ASCII lower case; NULL without local@domain.
 * A non-ASCII domain that is not in its normal form (lower case, composed)
 * keeps it, in ASCII lower case: alice@ｅｘａｍｐｌｅ.org is not
 * alice@example.org, whatever a resolver makes of it.
 * GMime decodes xn-- labels only in lower case: an address in upper case
 * is folded first, or XN--BCH would stay as it is while its own canonical
 * form, xn--bch, became U+2246, the label IDNA2008 cannot encode again.
 */
static char *
canonical(const char *addr)
{
	InternetAddress *ia;
	const char *idn;
	const char *at;
	char *lower;
	char *out = NULL;

	at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		return NULL;
	lower = g_ascii_strdown(addr, -1);
	if (addr_is_plain(lower))
		return lower;
	ia = internet_address_mailbox_new(NULL, lower);
	idn = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (idn != NULL && *idn != '\0')
		out = g_ascii_strdown(idn, -1);
	g_object_unref(ia);
	if (out != NULL && !g_str_is_ascii(at + 1) && strrchr(out, '@') != NULL
	    && !as_written(at + 1, strrchr(out, '@') + 1)) {
		g_free(out);
		out = g_strdup(lower);
	}
	g_free(lower);
	return out;
}

/* normalize_once - canonical() of addr without blanks around it and one pair of <> */
static char *
normalize_once(const char *addr)
{
	char *s = g_strstrip(g_strdup(addr));
	char *out;
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	out = *s ? canonical(s) : NULL;
	g_free(s);
	return out;
}

/*
 * addr_normalize - canonical form of an address from a message.  What
 * GMime makes of garbage ("<<@@>>" is "<@@>") may not be an address whose
 * canonical form is itself; such a thing is no address.
 */
char *
addr_normalize(const char *addr)
{
	char *out = addr ? normalize_once(addr) : NULL;
	char *again = out ? normalize_once(out) : NULL;

	if (out && (again == NULL || strcmp(again, out) != 0)) {
		g_free(out);
		out = NULL;
	}
	g_free(again);
	return out;
}

/* same_mailbox - parsed names the mailbox whose canonical form is canon */
static bool
same_mailbox(const char *parsed, const char *canon)
{
	char *c = parsed ? canonical(parsed) : NULL;
	bool same = c && canon && strcmp(c, canon) == 0;

	g_free(c);
	return same;
}

/*
 * domain_why - NULL for a domain of two labels or more of letters, digits
 * and hyphens (not first or last), or why not.  As typed, UTF-8 letters
 * count (IDN); in the canonical form only ASCII does, and a label has at
 * most 63 octets: IDNA maps some characters to others (U+037E to ';'),
 * and GMime leaves a domain it cannot encode in UTF-8.
 */
static const char *
domain_why(const char *dom, bool utf8)
{
	const unsigned char *p;
	size_t labels = 0;
	size_t len = 0;

	for (p = (const unsigned char *) dom;; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0 || p[-1] == '-' || p[-(long) len] == '-')
				return "bad domain (empty label or label starting or ending with -)";
			if (!utf8 && len > 63)
				return "bad domain (label longer than 63 characters)";
			labels++;
			len = 0;
			if (*p == '\0')
				break;
		} else if (g_ascii_isalnum(*p) || *p == '-' || (utf8 && *p >= 0x80)) {
			len++;
		} else {
			return "bad character in domain";
		}
	}
	return labels < 2 ? "domain must contain a dot" : NULL;
}

/* addr_check_strict - validate an address typed by an administrator */
char *
addr_check_strict(const char *typed, const char **why)
{
	const unsigned char *p;
	const char *at;
	InternetAddressList *list;
	char *out;

	if (typed == NULL || *typed == '\0') {
		*why = "empty address";
		return NULL;
	}
	if (strlen(typed) > 254) {
		*why = "address longer than 254 characters";
		return NULL;
	}
	for (p = (const unsigned char *) typed; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			*why = "spaces or control characters in address";
			return NULL;
		}
	}
	if (!g_utf8_validate(typed, -1, NULL)) {
		*why = "address is not valid UTF-8";
		return NULL;
	}
	at = strchr(typed, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL) {
		*why = "address must contain exactly one @";
		return NULL;
	}
	if (at == typed || at - typed > 64) {
		*why = "bad local part";
		return NULL;
	}
	for (p = (const unsigned char *) typed; p < (const unsigned char *) at; p++) {
		if (*p == '.') {
			if (p == (const unsigned char *) typed || p[1] == '.' || p[1] == '@') {
				*why = "bad local part (misplaced dot)";
				return NULL;
			}
		} else if (!atext(*p)) {
			*why = "bad character in local part";
			return NULL;
		}
	}
	if ((*why = domain_why(at + 1, true)) != NULL)
		return NULL;
	/* GMime must read it back as exactly this one mailbox (an A-label
	 * domain comes back as its U-label: compare canonical forms) */
	out = canonical(typed);
	if (out != NULL && !g_str_is_ascii(strrchr(out, '@'))) {
		g_free(out);
		*why = "address domain is not an IDN name in its normal form (lower case, composed)";
		return NULL;
	}
	if (out && ((at = strrchr(out, '@')) == NULL || domain_why(at + 1, false) != NULL)) {
		*why = "address domain cannot be converted to IDN form (A-labels of letters, digits, hyphens)";
		g_free(out);
		return NULL;
	}
	if (out && strlen(out) > 254) {
		*why = "address longer than 254 characters in IDN form";
		g_free(out);
		return NULL;
	}
	list = internet_address_list_parse(NULL, typed);
	if (list == NULL || internet_address_list_length(list) != 1
	    || !INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(list, 0))
	    || !same_mailbox(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
		      internet_address_list_get_address(list, 0))), out)) {
		if (list)
			g_object_unref(list);
		*why = out ? "address does not parse as one mailbox"
			: "address domain cannot be converted to IDN form";
		g_free(out);
		return NULL;
	}
	g_object_unref(list);
	return out;
}

/* addr_is_mailer_daemon - RFC 3834 3.2: never answer MAILER-DAEMON */
bool
addr_is_mailer_daemon(const char *addr)
{
	const char *at;

	if (addr == NULL)
		return false;
	at = strrchr(addr, '@');
	if (at == NULL)
		return g_ascii_strcasecmp(addr, "mailer-daemon") == 0;
	return at - addr == 13 && g_ascii_strncasecmp(addr, "mailer-daemon", 13) == 0;
}

/* addr_domain - the domain part of addr */
const char *
addr_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : NULL;
}

/* addr_split_extension - local+ext@domain into local@domain and ext */
bool
addr_split_extension(const char *addr, char **base, char **ext)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	const char *plus = at ? memchr(addr, '+', (size_t) (at - addr)) : NULL;

	if (plus == NULL || plus == addr)
		return false;
	*base = g_strdup_printf("%.*s%s", (int) (plus - addr), addr, at);
	*ext = g_strndup(plus + 1, (size_t) (at - plus - 1));
	return true;
}
