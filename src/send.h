/*
 * send.h - one SMTP transaction with libcurl
 */
#ifndef VIGIL_SEND_H
#define VIGIL_SEND_H

#include <glib.h>

enum send_rc {
	SEND_DONE,		/* transaction completed: see accepted/deferred/failed */
	SEND_RETRY,		/* nothing was delivered; may pass later */
	SEND_REFUSED,		/* the relay refused the whole message permanently */
};

struct send_result {
	GPtrArray *accepted;	/* recipients the relay took (char *) */
	GPtrArray *deferred;	/* 4xx: try again */
	GPtrArray *failed;	/* 5xx: will not pass */
	char	  *error;	/* what went wrong, for RETRY and REFUSED */
};

void send_init(void);
enum send_rc send_smtp(const char *relay, const char *sender, const GPtrArray *rcpts,
		       GBytes *data, struct send_result *res);
void send_result_clear(struct send_result *res);

#endif
