/*
 * dmarc.h - the author domain's DMARC policy, and whether to munge From
 */
#ifndef VIGIL_DMARC_H
#define VIGIL_DMARC_H

#include <stdbool.h>
#include <glib.h>

enum dmarc_policy {
	DMARC_POLICY_ABSENT,		/* no usable record (or lookup failure) */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_mitigation {
	DMARC_MITIGATE_NONE,		/* never rewrite From */
	DMARC_MITIGATE_MUNGE_FROM,	/* rewrite when the policy is quarantine or reject */
	DMARC_MITIGATE_ALWAYS,		/* always rewrite */
};

/*
 * fetch the TXT records of name: append each record (its character-strings
 * concatenated) to txts as a g_strdup'ed char *; return 0 when the lookup
 * answered (also NXDOMAIN / no TXT: 0 with nothing appended), -1 on failure
 * (timeout, SERVFAIL, no resolver)
 */
typedef int (*dmarc_txt_fn)(void *ctx, const char *name, GPtrArray *txts);

bool dmarc_parse_record(const char *txt, enum dmarc_policy *p, enum dmarc_policy *sp);
enum dmarc_policy dmarc_lookup(const char *domain, dmarc_txt_fn txt, void *ctx);
bool dmarc_should_munge(enum dmarc_mitigation m, enum dmarc_policy p);
bool dmarc_mitigation_parse(const char *s, enum dmarc_mitigation *out);
const char *dmarc_mitigation_name(enum dmarc_mitigation m);
const char *dmarc_policy_name(enum dmarc_policy p);
int dmarc_txt_dns(void *ctx, const char *name, GPtrArray *txts);
const char *dmarc_resolver_check(const char *s);

#endif
