/*
 * authres.h - Authentication-Results (RFC 8601): read, trusted, aligned
 */
#ifndef VIGIL_AUTHRES_H
#define VIGIL_AUTHRES_H

#include <stdbool.h>
#include <glib.h>

/* one ptype.property=value of a result */
struct authres_prop {
	char	*name;		/* "header.d", "smtp.mailfrom": lower case */
	char	*value;		/* as written, a quoted string unquoted */
};

/* one method=result of a field */
struct authres_result {
	char	*method;	/* "dkim", "spf": lower case */
	char	*result;	/* "pass", "fail": lower case */
	GPtrArray *props;	/* of struct authres_prop * */
};

/* one Authentication-Results field */
struct authres {
	char	*authserv_id;	/* as written, a quoted string unquoted */
	GPtrArray *results;	/* of struct authres_result *; empty for "none" */
};

/* where the receiving MTA's own fields are in the header block vigil is given */
enum authres_view {
	AUTHRES_PIPE,		/* after the queue: the MTA's Received: line is there */
	AUTHRES_MILTER,		/* a milter: Postfix hides its own Received: line */
};

struct authres *authres_parse(const char *value);
void authres_free(struct authres *ar);
const char *authres_prop(const struct authres_result *r, const char *name);
bool authres_id_is(const struct authres *ar, const char *id);
bool authres_mentions(const char *value, const char *id);
GPtrArray *authres_trusted(const GPtrArray *fields, const char *id, enum authres_view view,
			   guint *outside);
bool authres_aligned(const char *signer, const char *domain);
bool authres_pass(const GPtrArray *trusted, const char *method, const char *domain);

#endif
