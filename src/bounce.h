/*
 * bounce.h - which recipients a delivery status notification reports
 */
#ifndef VIGIL_BOUNCE_H
#define VIGIL_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* one per-recipient group of a report; every string is valid UTF-8 */
struct bounce_rcpt {
	char	*address;	/* canonical (addr_normalize) Original-Recipient, else Final-Recipient; never NULL */
	char	*action;	/* failed, delayed, delivered, relayed, expanded (lowercase); "" if absent */
	char	*status;	/* "5.1.1" etc; "" if absent */
	char	*diagnostic;	/* Diagnostic-Code value without its type ("smtp; "), unfolded, "" if absent */
};

struct bounce {
	bool	 dsn;		/* an RFC 3464 / RFC 6533 delivery status notification was found */
	char	*reporting_mta;	/* "" if absent */
	GPtrArray *rcpts;	/* of struct bounce_rcpt * */
};

struct bounce *bounce_parse(const char *raw, size_t len);	/* never NULL */
void bounce_free(struct bounce *b);
bool bounce_rcpt_failed(const struct bounce_rcpt *r);	/* permanent failure: action failed, or status 5.x.x */

#endif
