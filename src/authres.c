/*
 * NAME
 *	authres - Authentication-Results (RFC 8601): read, trusted, aligned
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	struct authres *authres_parse(const char *value);
 *	void authres_free(struct authres *ar);
 *	const char *authres_prop(const struct authres_result *r, const char *name);
 *	bool authres_id_is(const struct authres *ar, const char *id);
 *	bool authres_mentions(const char *value, const char *id);
 *	GPtrArray *authres_trusted(fields, id, view, &outside);
 *	bool authres_aligned(const char *signer, const char *domain);
 *	bool authres_pass(const GPtrArray *trusted, const char *method, const char *domain);
 * DESCRIPTION
 *	vigil does not verify DKIM or SPF itself: the MTA's verifier
 *	(OpenDKIM, OpenDMARC, an SPF policy daemon) writes its results in
 *	Authentication-Results fields that name it by its authserv-id, and
 *	vigil reads them.  Everything here is pure: no I/O, no DNS.
 *
 *	authres_parse() reads the value of one field (unfolded, after the
 *	colon):
 *
 *	    authserv-id [version] ; method[/version]=result [reason=value]
 *	        ptype.property=value ... [; ...]
 *
 *	or "authserv-id; none".  Comments and blanks (CFWS) may stand
 *	between any two parts, comments nested and with quoted pairs; the
 *	authserv-id and a reason are a token or a quoted string (RFC
 *	2045); methods, results, ptypes and properties are keywords
 *	(letters, digits, '-', '_'), kept in lower case; a property's
 *	value is a quoted string (perhaps the local part of
 *	"local"@domain) or whatever stands up to the next blank, comment,
 *	';' or end.  A ';' after the last result is allowed, as verifiers
 *	write it.  A version other than 1, a field without any result,
 *	anything else that does not fit, or more than 64 results or 64
 *	properties to a result make the whole field unreadable: NULL.  The
 *	result is freed with authres_free(); authres_free(NULL) does
 *	nothing.
 *
 *	authres_prop() is the value of a result's first property called
 *	name ("header.d"), or NULL.  authres_id_is() compares the
 *	authserv-id, ASCII case ignored.  authres_mentions() says whether
 *	the raw value of a field has id in it anywhere, case ignored: what
 *	vigil removes from the members' copies, readable or not, so that
 *	no reader downstream can take a claim in our name for one.
 *
 *	authres_trusted() picks, from a header block's fields (struct
 *	header_field, in order), the readable Authentication-Results that
 *	claim id and stand among the fields the receiving MTA itself
 *	writes on top of the message.  Everything the sender wrote comes
 *	below those; a claim in our name down there is the sender's and
 *	is never trusted.  The MTA's fields are:
 *
 *	AUTHRES_PIPE	(the message as Postfix delivers it after the
 *			queue) every field above the first Received: field,
 *			that field (Postfix's own, written when the
 *			message arrived), and the trace fields right below
 *			it, where OpenDKIM and OpenDMARC insert theirs.  No
 *			Received: field at all: nothing is trusted.
 *	AUTHRES_MILTER	(what a milter is given; Postfix hides its own
 *			Received: field from milters) the trace fields at
 *			the top, which earlier milters and PREPEND
 *			actions put there.
 *
 *	Trace fields are Authentication-Results, ARC-Seal,
 *	ARC-Message-Signature, ARC-Authentication-Results, Received-SPF,
 *	DKIM-Filter and DMARC-Filter.  The array returned holds struct
 *	authres * (free it with g_ptr_array_free(a, TRUE)); *outside, when
 *	not NULL, is how many readable fields claiming id stood below the
 *	MTA's: forgeries, or a verifier that writes elsewhere.
 *
 *	Position alone cannot tell a verifier's field from a forged one
 *	that the sender put at the very top of its header block: it lands
 *	right below the verifier's.  The MTA must remove every incoming
 *	field claiming id on arrival, before its verifier adds its own
 *	(RFC 8601 section 5; for Postfix header_checks, which do not see
 *	the fields milters add: filters/postfix/README).
 *
 *	authres_aligned() says whether a domain that passed (a DKIM
 *	signer's d=, an SPF smtp.mailfrom domain) vouches for an address
 *	in domain: it is the same domain or a parent of it with at least
 *	two labels (ASCII case, one trailing dot and U-labels against
 *	A-labels ignored).  A parent vouches for its subdomains because
 *	whoever holds a zone can take over the zones below it anyway; a
 *	subdomain does not vouch for its parent (d=shop.example.org is not
 *	example.org: a subdomain may be delegated to someone else).  This
 *	is stricter than DMARC's relaxed alignment, which needs the Public
 *	Suffix List: a post signed only by a sibling or a subdomain of the
 *	author's domain is held.
 *
 *	authres_pass() says whether the trusted fields report method
 *	"dkim" as pass with a signer (header.d, else the domain of
 *	header.i) aligned with domain, or for "spf" a pass whose
 *	smtp.mailfrom domain is aligned with it (smtp.helo is never
 *	enough).
 * SECURITY
 *	Field values are hostile: parsing is bounded by the value, copies
 *	are GLib strings, and nothing is trusted that the position rule
 *	above puts on the sender's side.
 */
#include "authres.h"

#include <string.h>

#include "header.h"

#define MAX_RESULTS	64
#define MAX_PROPS	64

/* prop_free - free one property */
static void
prop_free(gpointer p)
{
	struct authres_prop *pr = p;

	g_free(pr->name);
	g_free(pr->value);
	g_free(pr);
}

/* result_free - free one result */
static void
result_free(gpointer p)
{
	struct authres_result *r = p;

	if (r == NULL)
		return;
	g_free(r->method);
	g_free(r->result);
	g_ptr_array_free(r->props, TRUE);
	g_free(r);
}

/* authres_free - free a parsed field; NULL does nothing */
void
authres_free(struct authres *ar)
{
	if (ar == NULL)
		return;
	g_free(ar->authserv_id);
	g_ptr_array_free(ar->results, TRUE);
	g_free(ar);
}

/* authres_unref - authres_free() for a GPtrArray */
static void
authres_unref(gpointer p)
{
	authres_free(p);
}

/* cfws - skip blanks and comments (nested, quoted pairs); false on a comment that does not end */
static bool
cfws(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		int depth = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			break;
		do {
			if (*p == '\0')
				return false;
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0);
	}
	*pp = p;
	return true;
}

/* token_char - a character of an RFC 2045 token */
static bool
token_char(char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* quoted - the quoted string at *pp without its quotes; NULL if it does not end */
static char *
quoted(const char **pp)
{
	const char *p = *pp + 1;
	GString *s = g_string_new(NULL);

	for (; *p != '"'; p++) {
		if (*p == '\0') {
			g_string_free(s, TRUE);
			return NULL;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		g_string_append_c(s, *p);
	}
	*pp = p + 1;
	return g_string_free(s, FALSE);
}

/* value - an RFC 2045 value (token or quoted string) at *pp, or NULL */
static char *
value(const char **pp)
{
	const char *p = *pp;
	char *v;

	if (*p == '"')
		return quoted(pp);
	while (token_char(*p))
		p++;
	if (p == *pp)
		return NULL;
	v = g_strndup(*pp, (gsize) (p - *pp));
	*pp = p;
	return v;
}

/* keyword - letters, digits, '-' and '_' from a letter or digit on, in lower case, or NULL */
static char *
keyword(const char **pp)
{
	const char *p = *pp;
	char *k;

	if (!g_ascii_isalnum(*p))
		return NULL;
	while (g_ascii_isalnum(*p) || *p == '-' || *p == '_')
		p++;
	k = g_ascii_strdown(*pp, p - *pp);
	*pp = p;
	return k;
}

/* pvalue_end - a character that ends an unquoted property value */
static bool
pvalue_end(char c)
{
	return c == '\0' || strchr(" \t\r\n;()\"", c) != NULL;
}

/* pvalue - a property's value: "local"@domain, a quoted string, or a run up to a blank, comment or ';' */
static char *
pvalue(const char **pp)
{
	const char *p = *pp, *start;
	char *v, *out;

	if (*p != '"') {
		while (!pvalue_end(*p))
			p++;
		if (p == *pp)
			return NULL;
		v = g_strndup(*pp, (gsize) (p - *pp));
		*pp = p;
		return v;
	}
	if ((v = quoted(&p)) == NULL)
		return NULL;
	if (*p == '@') {
		for (start = p; !pvalue_end(*p); p++)
			;
		out = g_strdup_printf("%s%.*s", v, (int) (p - start), start);
		g_free(v);
		v = out;
	}
	*pp = p;
	return v;
}

/* digits - a run of digits at *pp (a version); false if none */
static bool
digits(const char **pp, unsigned *n)
{
	const char *p = *pp;

	*n = 0;
	if (!g_ascii_isdigit(*p))
		return false;
	for (; g_ascii_isdigit(*p); p++)
		*n = *n < 1000 ? *n * 10 + (unsigned) (*p - '0') : 1000;
	*pp = p;
	return true;
}

/* prop - one ptype.property=value after its ptype k (taken), added to r */
static bool
prop(const char **pp, struct authres_result *r, char *k)
{
	const char *p = *pp;
	struct authres_prop *pr;
	char *property = NULL, *v = NULL;

	if (*p != '.')
		goto bad;
	p++;
	if (!cfws(&p) || (property = keyword(&p)) == NULL || !cfws(&p) || *p != '=')
		goto bad;
	p++;
	if (!cfws(&p) || (v = pvalue(&p)) == NULL || !cfws(&p))
		goto bad;
	pr = g_new(struct authres_prop, 1);
	pr->name = g_strconcat(k, ".", property, NULL);
	pr->value = v;
	g_ptr_array_add(r->props, pr);
	g_free(k);
	g_free(property);
	*pp = p;
	return r->props->len <= MAX_PROPS;
bad:
	g_free(k);
	g_free(property);
	g_free(v);
	return false;
}

/* result - one method=result [reason=value] [ptype.property=value ...] up to ';' or the end */
static struct authres_result *
result(const char **pp)
{
	const char *p = *pp;
	struct authres_result *r = g_new0(struct authres_result, 1);
	unsigned version;
	char *k, *v;

	r->props = g_ptr_array_new_with_free_func(prop_free);
	if ((r->method = keyword(&p)) == NULL || !cfws(&p))
		goto bad;
	if (*p == '/') {
		p++;
		if (!cfws(&p) || !digits(&p, &version) || !cfws(&p))
			goto bad;
	}
	if (*p != '=')
		goto bad;
	p++;
	if (!cfws(&p) || (r->result = keyword(&p)) == NULL || !cfws(&p))
		goto bad;
	while (*p != '\0' && *p != ';') {
		if ((k = keyword(&p)) == NULL || !cfws(&p)) {
			g_free(k);
			goto bad;
		}
		if (*p == '=' && strcmp(k, "reason") == 0 && r->props->len == 0) {
			g_free(k);
			p++;
			if (!cfws(&p) || (v = value(&p)) == NULL)
				goto bad;
			g_free(v);
			if (!cfws(&p))
				goto bad;
			continue;
		}
		if (!prop(&p, r, k))
			goto bad;
	}
	*pp = p;
	return r;
bad:
	result_free(r);
	return NULL;
}

/* authres_parse - one field's value, or NULL when it cannot be read */
struct authres *
authres_parse(const char *text)
{
	struct authres *ar;
	struct authres_result *r;
	const char *p = text;
	unsigned version;

	if (text == NULL || !cfws(&p))
		return NULL;
	ar = g_new0(struct authres, 1);
	ar->results = g_ptr_array_new_with_free_func(result_free);
	if ((ar->authserv_id = value(&p)) == NULL || !cfws(&p))
		goto bad;
	if (digits(&p, &version) && (version != 1 || !cfws(&p)))
		goto bad;
	if (*p != ';')
		goto bad;
	while (*p == ';') {
		const char *look;
		char *k;

		p++;
		if (!cfws(&p))
			goto bad;
		if (*p == '\0')
			break;		/* a last ';' */
		look = p;
		if (ar->results->len == 0 && (k = keyword(&look)) != NULL) {
			bool alone = strcmp(k, "none") == 0 && cfws(&look) && *look == '\0';

			g_free(k);
			if (alone)
				return ar;
		}
		if ((r = result(&p)) == NULL)
			goto bad;
		g_ptr_array_add(ar->results, r);
		if (ar->results->len > MAX_RESULTS)
			goto bad;
	}
	if (*p != '\0' || ar->results->len == 0)
		goto bad;
	return ar;
bad:
	authres_free(ar);
	return NULL;
}

/* authres_prop - the value of a result's first property called name, or NULL */
const char *
authres_prop(const struct authres_result *r, const char *name)
{
	guint i;

	for (i = 0; i < r->props->len; i++) {
		const struct authres_prop *pr = g_ptr_array_index(r->props, i);

		if (g_ascii_strcasecmp(pr->name, name) == 0)
			return pr->value;
	}
	return NULL;
}

/* authres_id_is - the field claims authserv-id id */
bool
authres_id_is(const struct authres *ar, const char *id)
{
	return ar && id && *id && g_ascii_strcasecmp(ar->authserv_id, id) == 0;
}

/* authres_mentions - the raw value has id in it anywhere, ASCII case ignored */
bool
authres_mentions(const char *text, const char *id)
{
	char *t, *i;
	bool yes;

	if (text == NULL || id == NULL || *id == '\0')
		return false;
	t = g_ascii_strdown(text, -1);
	i = g_ascii_strdown(id, -1);
	yes = strstr(t, i) != NULL;
	g_free(t);
	g_free(i);
	return yes;
}

/* is_named - the field is called name, case ignored */
static bool
is_named(const struct header_field *hf, const char *name)
{
	return g_ascii_strcasecmp(hf->name, name) == 0;
}

/* is_trace - a field verifiers add on top of a message */
static bool
is_trace(const struct header_field *hf)
{
	static const char *const trace[] = {
		"Authentication-Results", "ARC-Seal", "ARC-Message-Signature",
		"ARC-Authentication-Results", "Received-SPF", "DKIM-Filter", "DMARC-Filter",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(trace); i++)
		if (is_named(hf, trace[i]))
			return true;
	return false;
}

/* mta_fields - how many fields from the top the receiving MTA wrote */
static guint
mta_fields(const GPtrArray *fields, enum authres_view view)
{
	guint i = 0;

	if (view == AUTHRES_PIPE) {
		while (i < fields->len && !is_named(g_ptr_array_index(fields, i), "Received"))
			i++;
		if (i == fields->len)
			return 0;	/* no Received: field: no sign of the MTA at all */
		i++;
	}
	while (i < fields->len && is_trace(g_ptr_array_index(fields, i)))
		i++;
	return i;
}

/* authres_trusted - the readable fields claiming id among the MTA's own */
GPtrArray *
authres_trusted(const GPtrArray *fields, const char *id, enum authres_view view, guint *outside)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(authres_unref);
	guint mta = mta_fields(fields, view);
	guint i;

	if (outside)
		*outside = 0;
	for (i = 0; id && *id && i < fields->len; i++) {
		const struct header_field *hf = g_ptr_array_index(fields, i);
		struct authres *ar;

		if (!is_named(hf, "Authentication-Results") || (ar = authres_parse(hf->value)) == NULL)
			continue;
		if (!authres_id_is(ar, id)) {
			authres_free(ar);
		} else if (i < mta) {
			g_ptr_array_add(out, ar);
		} else {
			if (outside)
				(*outside)++;
			authres_free(ar);
		}
	}
	return out;
}

/*
 * clean_domain - a domain in lower-case ASCII (A-labels), one trailing
 * dot dropped, or NULL unless it is labels of letters, digits, '-' and
 * '_' (no address literal, no empty label)
 */
static char *
clean_domain(const char *d)
{
	char *ascii, *out;
	const char *p;
	size_t n, label = 0;

	if (d == NULL || *d == '\0')
		return NULL;
	ascii = g_str_is_ascii(d) ? g_strdup(d) : g_hostname_to_ascii(d);
	if (ascii == NULL)
		return NULL;
	out = g_ascii_strdown(ascii, -1);
	g_free(ascii);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	for (p = out; n > 0 && n <= 253; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63)
				break;
			if (*p == '\0')
				return out;
			label = 0;
		} else if (g_ascii_isalnum(*p) || *p == '-' || *p == '_') {
			label++;
		} else {
			break;
		}
	}
	g_free(out);
	return NULL;
}

/* authres_aligned - signer is domain or a parent of it with two labels or more */
bool
authres_aligned(const char *signer, const char *domain)
{
	char *s = clean_domain(signer), *d = clean_domain(domain);
	bool yes = false;

	if (s && d) {
		size_t ns = strlen(s), nd = strlen(d);

		yes = strcmp(s, d) == 0
			|| (strchr(s, '.') != NULL && nd > ns && d[nd - ns - 1] == '.'
			    && strcmp(d + nd - ns, s) == 0);
	}
	g_free(s);
	g_free(d);
	return yes;
}

/* domain_part - after the last '@', or all of it */
static const char *
domain_part(const char *v)
{
	const char *at = v ? strrchr(v, '@') : NULL;

	return at ? at + 1 : v;
}

/* signer - the domain a passing result of method vouches with, or NULL */
static const char *
signer(const struct authres_result *r, const char *method)
{
	const char *d;

	if (strcmp(r->method, method) != 0 || strcmp(r->result, "pass") != 0)
		return NULL;
	if (strcmp(method, "dkim") == 0) {
		if ((d = authres_prop(r, "header.d")) != NULL)
			return d;
		d = authres_prop(r, "header.i");
		return d && strchr(d, '@') ? domain_part(d) : NULL;
	}
	if (strcmp(method, "spf") == 0)
		return domain_part(authres_prop(r, "smtp.mailfrom"));
	return NULL;
}

/* authres_pass - a trusted pass of method (dkim, spf) aligned with domain */
bool
authres_pass(const GPtrArray *trusted, const char *method, const char *domain)
{
	guint i, k;

	for (i = 0; trusted && domain && i < trusted->len; i++) {
		const struct authres *ar = g_ptr_array_index(trusted, i);

		for (k = 0; k < ar->results->len; k++)
			if (authres_aligned(signer(g_ptr_array_index(ar->results, k), method), domain))
				return true;
	}
	return false;
}
