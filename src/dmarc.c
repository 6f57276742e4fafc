/*
 * NAME
 *	dmarc - the author domain's DMARC policy, and whether to munge From
 * SYNOPSIS
 *	#include "dmarc.h"
 *
 *	enum dmarc_policy dmarc_lookup(const char *domain, dmarc_txt_fn txt, void *ctx);
 *	bool dmarc_parse_record(const char *txt, enum dmarc_policy *p,
 *	    enum dmarc_policy *sp);
 *	bool dmarc_should_munge(enum dmarc_mitigation m, enum dmarc_policy p);
 *	bool dmarc_mitigation_parse(const char *s, enum dmarc_mitigation *out);
 *	const char *dmarc_mitigation_name(enum dmarc_mitigation m);
 *	const char *dmarc_policy_name(enum dmarc_policy p);
 *	int dmarc_txt_dns(void *ctx, const char *name, GPtrArray *txts);
 *	const char *dmarc_resolver_check(const char *s);
 * DESCRIPTION
 *	A relayed copy of a post fails DMARC at the receivers (the list
 *	changes the message, and it leaves from the list's servers), so when
 *	the author's domain asks receivers to quarantine or reject such mail
 *	the list rewrites the copy's From.  This module finds the policy and
 *	makes that decision; the rewriting is elsewhere.
 *
 *	dmarc_lookup() returns the policy for mail From: an address in domain
 *	(RFC 7489, with the DNS tree walk of DMARCbis instead of the Public
 *	Suffix List):
 *
 *	1. The domain is cleaned: ASCII letters folded to lower case, one
 *	   trailing dot removed.  NULL, empty, an address literal ("[..]"),
 *	   non-ASCII (IDN comes in A-label form), empty labels, characters
 *	   other than letters, digits, '-' and '_', a single label, or an
 *	   all-digit last label (an IPv4 address) give ABSENT with no query.
 *	2. _dmarc.DOMAIN is asked for its TXT records.  Of these, the ones
 *	   that dmarc_parse_record() accepts are DMARC records; exactly one
 *	   is usable, none or several mean no record at that name.  A usable
 *	   record at the author domain gives its p=.
 *	3. Otherwise the walk goes up: when the domain has more than 8
 *	   labels the next name is its last 7 labels, else the domain less
 *	   its leftmost label, and so on one label at a time, down to two
 *	   labels: a single-label name (a TLD) is never asked, so a policy
 *	   a public suffix operator publishes at a TLD is not seen.  A
 *	   usable record at a parent gives its sp=, or p= when it has no
 *	   sp=.  A name too long for the DNS (a label over 63 octets, or
 *	   _dmarc. and the name over 253) is not asked and counts as no
 *	   record there.
 *	4. A lookup failure (txt returns -1) at any step ends the walk:
 *	   a lookup failure counts as no policy, ABSENT.
 *	No record anywhere is ABSENT as well.
 *
 *	dmarc_parse_record() reads one TXT record: false when it does not
 *	start with the v=DMARC1 tag (blanks allowed before it and around
 *	tags and values); else true with *p and *sp set.  Tags are
 *	;-separated tag=value pairs, tag names and the p and sp values in
 *	any case; the first p= and the first sp= count, other tags and
 *	pieces without '=' are ignored.  *p is the p= value, and
 *	DMARC_POLICY_NONE when p= is missing or not none, quarantine or
 *	reject (RFC 7489 6.6.3 acts as p=none only when the record also
 *	has a valid rua=, and applies no policy otherwise; DMARCbis treats
 *	a missing p= as none.  Either way nothing is munged for it in
 *	munge_from mode, so rua= is not read).  *sp is the sp= value; a
 *	missing sp= copies *p, an invalid one is NONE (6.6.3 again).  The
 *	version "DMARC1" is compared without case, although the RFC's
 *	grammar spells it in capitals: some receivers accept it in any
 *	case, and munging when it was not needed costs less than not
 *	munging when a receiver enforces the policy.  Nothing is written
 *	to *p and *sp when the result is false.
 *
 *	dmarc_should_munge() is the decision: never for mitigation none,
 *	always for always_munge, and for munge_from when the policy is
 *	quarantine or reject.  dmarc_mitigation_parse() accepts exactly
 *	"none", "munge_from" and "always_munge", the words
 *	dmarc_mitigation_name() prints.  dmarc_policy_name() gives "absent",
 *	"none", "quarantine" or "reject".
 *
 *	dmarc_txt_dns() is the dmarc_txt_fn that asks the DNS.  ctx is NULL
 *	for the name servers of /etc/resolv.conf, or a const char * naming
 *	the one name server to ask: "HOST" or "HOST:PORT" with an IPv4
 *	address, "IPV6" or "[IPV6]:PORT" (port 53 by default).  name is in
 *	the resolver's presentation form (it reads backslash escapes).  A
 *	server is given 2 seconds, and asked twice: one that never answers
 *	costs 4 seconds, and ends the walk.  NXDOMAIN and an answer
 *	without TXT records are answers (0, nothing appended); a timeout,
 *	SERVFAIL, REFUSED, a malformed reply or a bad ctx are failures
 *	(-1, nothing appended).  A NUL octet inside a record becomes '?',
 *	which no DMARC tag value accepts.  The record strings appended are
 *	owned by txts, which must free them with g_free.
 *
 *	dmarc_resolver_check() is for the resolver setting as typed in the
 *	configuration: NULL when dmarc_txt_dns() can use it, else a static
 *	message saying what is wrong.  Names are refused: the resolver of
 *	the resolver would be asked.
 * DIAGNOSTICS
 *	None printed: every failure is the ABSENT policy or a -1.
 * SECURITY
 *	The domain comes from a From: header, so it is hostile.  It is
 *	limited to letters, digits, '-' and '_' between dots before it
 *	reaches the resolver, which reads backslash escapes in names.  TXT
 *	records are the sender's too: they are parsed with bounds from the
 *	reply's own lengths (ns_initparse(), ns_parserr()) and never copied
 *	into fixed buffers.
 *
 *	dmarc_txt_dns() is thread-safe: each call has its own resolver
 *	state on the stack (res_ninit(), res_nclose()).  Setting one name
 *	server uses glibc's layout of struct __res_state: IPv4 in
 *	nsaddr_list[], IPv6 in the malloc'ed _u._ext.nsaddrs[] that glibc
 *	itself uses for resolv.conf's IPv6 servers and frees in
 *	res_nclose().
 */
#include "dmarc.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DMARC_MAX_LABELS	8	/* more than this: jump to the last 7 */
#define DMARC_JUMP_LABELS	7
#define DNS_MAX_NAME		253	/* presentation form, no trailing dot */
#define DNS_MAX_LABEL		63
#define DMARC_PREFIX		"_dmarc."
#define DNS_TIMEOUT		2	/* seconds per try */
#define DNS_TRIES		2

/* is_blank - blanks allowed around DMARC tags and values */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trim - shrink [*s, *s + *n) to drop blanks at both ends */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank(**s))
		(*s)++, (*n)--;
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* span_is - does the span equal word, ASCII case ignored */
static bool
span_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && g_ascii_strncasecmp(s, word, n) == 0;
}

/* policy_word - a p= or sp= value; false if it is none of the three */
static bool
policy_word(const char *v, size_t n, enum dmarc_policy *out)
{
	if (span_is(v, n, "none"))
		*out = DMARC_POLICY_NONE;
	else if (span_is(v, n, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (span_is(v, n, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* dmarc_parse_record - p and sp of one TXT record, false if not DMARC */
bool
dmarc_parse_record(const char *txt, enum dmarc_policy *p, enum dmarc_policy *sp)
{
	enum dmarc_policy pv = DMARC_POLICY_NONE, spv = DMARC_POLICY_NONE;
	bool first = true, have_p = false, have_sp = false, p_ok = false, sp_ok = false;
	const char *s = txt;

	if (txt == NULL)
		return false;
	for (;;) {
		size_t len = strcspn(s, ";");
		const char *eq = memchr(s, '=', len);
		const char *tag = s, *val = NULL;
		size_t tn = 0, vn = 0;

		if (eq != NULL) {
			tn = (size_t) (eq - s);
			val = eq + 1;
			vn = len - tn - 1;
			trim(&tag, &tn);
			trim(&val, &vn);
		}
		if (first) {
			if (eq == NULL || !span_is(tag, tn, "v") || !span_is(val, vn, "DMARC1"))
				return false;
			first = false;
		} else if (eq != NULL && span_is(tag, tn, "p") && !have_p) {
			have_p = true;
			p_ok = policy_word(val, vn, &pv);
		} else if (eq != NULL && span_is(tag, tn, "sp") && !have_sp) {
			have_sp = true;
			sp_ok = policy_word(val, vn, &spv);
		}
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	*p = p_ok ? pv : DMARC_POLICY_NONE;
	*sp = !have_sp ? *p : sp_ok ? spv : DMARC_POLICY_NONE;
	return true;
}

/* clean_domain - the domain as it is asked, or NULL when it cannot be (g_free) */
static char *
clean_domain(const char *domain, size_t *labels)
{
	char *d;
	size_t n, i, last;

	if (domain == NULL || *domain == '\0' || *domain == '[')
		return NULL;
	d = g_ascii_strdown(domain, -1);
	n = strlen(d);
	if (d[n - 1] == '.')
		d[--n] = '\0';
	*labels = 1;
	last = 0;
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char) d[i];

		if (c == '.' || c == '\0') {
			if (i == last)
				goto bad;	/* empty label (or empty domain) */
			if (c == '.')
				(*labels)++, last = i + 1;
		} else if (!g_ascii_isalnum(c) && c != '-' && c != '_') {
			goto bad;	/* non-ASCII, blanks, backslash, ... */
		}
	}
	if (*labels < 2 || strspn(d + last, "0123456789") == n - last)
		goto bad;		/* a TLD alone, or an IPv4 address */
	return d;
bad:
	g_free(d);
	return NULL;
}

/* last_labels - the suffix of d made of its last k labels */
static const char *
last_labels(const char *d, size_t k)
{
	const char *p = d + strlen(d);

	while (p > d) {
		if (p[-1] == '.' && --k == 0)
			return p;
		p--;
	}
	return d;
}

/* dmarc_name - "_dmarc." name, or NULL when the DNS cannot hold it (g_free) */
static char *
dmarc_name(const char *name)
{
	const char *p = name;

	if (strlen(DMARC_PREFIX) + strlen(name) > DNS_MAX_NAME)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, ".");

		if (n > DNS_MAX_LABEL)
			return NULL;
		p += n;
		if (*p == '.')
			p++;
	}
	return g_strconcat(DMARC_PREFIX, name, NULL);
}

/* record_at - 1 and the policies if name has exactly one DMARC record, 0 if not, -1 on failure */
static int
record_at(const char *name, dmarc_txt_fn txt, void *ctx, enum dmarc_policy *p, enum dmarc_policy *sp)
{
	GPtrArray *txts;
	char *q;
	guint i, found = 0;
	int r;

	if ((q = dmarc_name(name)) == NULL)
		return 0;
	txts = g_ptr_array_new_with_free_func(g_free);
	r = txt(ctx, q, txts);
	for (i = 0; r == 0 && i < txts->len; i++) {
		enum dmarc_policy tp, tsp;

		if (dmarc_parse_record(g_ptr_array_index(txts, i), &tp, &tsp) && found++ == 0) {
			*p = tp;
			*sp = tsp;
		}
	}
	g_ptr_array_free(txts, TRUE);
	g_free(q);
	if (r != 0)
		return -1;
	return found == 1 ? 1 : 0;
}

/* dmarc_lookup - the policy that applies to mail From: an address in domain */
enum dmarc_policy
dmarc_lookup(const char *domain, dmarc_txt_fn txt, void *ctx)
{
	enum dmarc_policy out = DMARC_POLICY_ABSENT, p, sp;
	const char *name;
	size_t labels;
	char *d;
	int r;

	if (txt == NULL || (d = clean_domain(domain, &labels)) == NULL)
		return DMARC_POLICY_ABSENT;
	name = d;
	for (;;) {
		if ((r = record_at(name, txt, ctx, &p, &sp)) != 0) {
			if (r > 0)
				out = name == d ? p : sp;
			break;
		}
		if (name == d && labels > DMARC_MAX_LABELS) {
			name = last_labels(d, DMARC_JUMP_LABELS);
			labels = DMARC_JUMP_LABELS;
		} else {
			name = strchr(name, '.') + 1;
			labels--;
		}
		if (labels < 2)
			break;
	}
	g_free(d);
	return out;
}

/* dmarc_should_munge - rewrite the relayed copy's From */
bool
dmarc_should_munge(enum dmarc_mitigation m, enum dmarc_policy p)
{
	switch (m) {
	case DMARC_MITIGATE_NONE:
		return false;
	case DMARC_MITIGATE_MUNGE_FROM:
		return p == DMARC_POLICY_QUARANTINE || p == DMARC_POLICY_REJECT;
	case DMARC_MITIGATE_ALWAYS:
		return true;
	}
	return false;
}

static const char *const mitigations[] = {
	[DMARC_MITIGATE_NONE] = "none",
	[DMARC_MITIGATE_MUNGE_FROM] = "munge_from",
	[DMARC_MITIGATE_ALWAYS] = "always_munge",
};

/* dmarc_mitigation_parse - a configuration word to its mitigation; *out untouched if false */
bool
dmarc_mitigation_parse(const char *s, enum dmarc_mitigation *out)
{
	size_t i;

	for (i = 0; s && i < G_N_ELEMENTS(mitigations); i++)
		if (strcmp(s, mitigations[i]) == 0) {
			*out = (enum dmarc_mitigation) i;
			return true;
		}
	return false;
}

/* dmarc_mitigation_name - the configuration word of a mitigation */
const char *
dmarc_mitigation_name(enum dmarc_mitigation m)
{
	return (size_t) m < G_N_ELEMENTS(mitigations) ? mitigations[m] : "?";
}

/* dmarc_policy_name - the word for a policy, in logs */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	static const char *const names[] = {
		[DMARC_POLICY_ABSENT] = "absent",
		[DMARC_POLICY_NONE] = "none",
		[DMARC_POLICY_QUARANTINE] = "quarantine",
		[DMARC_POLICY_REJECT] = "reject",
	};

	return (size_t) p < G_N_ELEMENTS(names) ? names[p] : "?";
}

/* parse_server - a typed name server into *ss; NULL, or what is wrong */
static const char *
parse_server(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *) ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
	char host[INET6_ADDRSTRLEN];
	const char *port = NULL, *colon;
	unsigned long pn = 53;
	size_t n;
	bool v6;

	if (s == NULL || *s == '\0')
		return "is empty";
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			return "has [ without ] (want [IPv6 address]:PORT)";
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return "has text after ] (want [IPv6 address]:PORT)";
		s++;
		n = (size_t) (end - s);
		v6 = true;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		n = (size_t) (colon - s);
		port = colon + 1;
		v6 = false;
	} else {
		n = strlen(s);
		v6 = colon != NULL;
	}
	if (n == 0 || n >= sizeof host)
		return "is not an IPv4 or IPv6 address";
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (v6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else if (!v6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (v6)
		return "is not an IPv6 address (write [IPv6 address]:PORT for a port)";
	else
		return "is not an IPv4 address (give the name server's address, not its name)";
	if (port != NULL) {
		n = strlen(port);
		if (n == 0 || n > 5 || strspn(port, "0123456789") != n)
			return "has a bad port (want 1 to 65535)";
		pn = strtoul(port, NULL, 10);
		if (pn == 0 || pn > 65535)
			return "has a bad port (want 1 to 65535)";
	}
	if (v6)
		sin6->sin6_port = htons((uint16_t) pn);
	else
		sin->sin_port = htons((uint16_t) pn);
	return NULL;
}

/* dmarc_resolver_check - NULL if dmarc_txt_dns() can use s, else a static message */
const char *
dmarc_resolver_check(const char *s)
{
	struct sockaddr_storage ss;

	return parse_server(s, &ss);
}

/*
 * use_server - make ss the only name server of an initialised state.
 * resolv.conf's IPv6 servers sit in malloc'ed _u._ext.nsaddrs[] that
 * res_nclose() frees only up to nscount, so they are freed here before
 * nscount shrinks to 1.
 */
static bool
use_server(struct __res_state *rs, const struct sockaddr_storage *ss)
{
	int i;

	for (i = 0; i < rs->nscount && i < MAXNS; i++) {
		free(rs->_u._ext.nsaddrs[i]);
		rs->_u._ext.nsaddrs[i] = NULL;
	}
	if (ss->ss_family == AF_INET) {
		memcpy(&rs->nsaddr_list[0], ss, sizeof rs->nsaddr_list[0]);
	} else {
		struct sockaddr_in6 *sa6 = malloc(sizeof *sa6);	/* glibc free()s it */

		if (sa6 == NULL)
			return false;
		memcpy(sa6, ss, sizeof *sa6);
		memset(&rs->nsaddr_list[0], 0, sizeof rs->nsaddr_list[0]);	/* family 0: see nsaddrs */
		rs->_u._ext.nsaddrs[0] = sa6;
	}
	rs->_u._ext.nssocks[0] = -1;
	rs->_u._ext.nscount = 0;	/* res_send() sets up its copy again */
	rs->nscount = 1;
	return true;
}

/* txt_string - the character-strings of one TXT rdata, concatenated; NULL if malformed */
static char *
txt_string(const unsigned char *rd, size_t len)
{
	GString *s = g_string_sized_new(len);
	size_t i = 0, j;

	while (i < len) {
		size_t n = rd[i++];

		if (n > len - i) {
			g_string_free(s, TRUE);
			return NULL;
		}
		for (j = 0; j < n; j++)
			g_string_append_c(s, rd[i + j] ? (char) rd[i + j] : '?');
		i += n;
	}
	return g_string_free(s, FALSE);
}

/* txt_answers - append the TXT records of a reply's answer section; -1 and nothing appended if malformed */
static int
txt_answers(const unsigned char *ans, int len, GPtrArray *txts)
{
	GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
	ns_msg msg;
	ns_rr rr;
	int i, count;
	guint k;

	if (ns_initparse(ans, len, &msg) < 0)
		goto bad;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		char *s;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			goto bad;
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;	/* the CNAMEs on the way */
		if ((s = txt_string(ns_rr_rdata(rr), ns_rr_rdlen(rr))) == NULL)
			goto bad;
		g_ptr_array_add(got, s);
	}
	for (k = 0; k < got->len; k++) {
		g_ptr_array_add(txts, got->pdata[k]);
		got->pdata[k] = NULL;
	}
	g_ptr_array_free(got, TRUE);
	return 0;
bad:
	g_ptr_array_free(got, TRUE);
	return -1;
}

/* dmarc_txt_dns - the TXT records of name, from the DNS; ctx names the server or is NULL */
int
dmarc_txt_dns(void *ctx, const char *name, GPtrArray *txts)
{
	struct sockaddr_storage ss;
	struct __res_state rs;
	unsigned char *ans;
	int n, r;

	if (ctx != NULL && parse_server(ctx, &ss) != NULL)
		return -1;
	memset(&rs, 0, sizeof rs);
	if (res_ninit(&rs) != 0)
		return -1;
	rs.retrans = DNS_TIMEOUT;
	rs.retry = DNS_TRIES;
	if (ctx != NULL && !use_server(&rs, &ss)) {
		res_nclose(&rs);
		return -1;
	}
	ans = g_malloc(NS_MAXMSG);
	n = res_nquery(&rs, name, ns_c_in, ns_t_txt, ans, NS_MAXMSG);
	if (n < 0)	/* NXDOMAIN and NODATA are answers; the rest failures */
		r = rs.res_h_errno == HOST_NOT_FOUND || rs.res_h_errno == NO_DATA ? 0 : -1;
	else if (n > NS_MAXMSG)
		r = -1;	/* truncated: cannot happen with a 64 KiB buffer */
	else
		r = txt_answers(ans, n, txts);
	g_free(ans);
	res_nclose(&rs);
	return r;
}
