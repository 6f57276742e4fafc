/*
 * send.h - one SMTP transaction with libcurl
 */
#ifndef VIGIL_SEND_H
#define VIGIL_SEND_H

#include <stdbool.h>

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
	char	  *reply;	/* DONE: the relay's answer to the message */
};

/* a message's bytes, read a piece at a time while they are sent */
struct send_body {
	gint64	size;
	/* n bytes from offset off into buf; FALSE aborts the transaction */
	gboolean (*read)(gpointer ud, void *buf, size_t n, gint64 off);
	gpointer ud;
};

struct send_session;

void send_init(void);
struct send_session *send_session_new(void);
void send_session_close(struct send_session *s);
bool send_session_open(const struct send_session *s);
void send_session_free(struct send_session *s);
struct send_body send_body_bytes(GBytes *data);
enum send_rc send_smtp(struct send_session *s, const char *relay, const char *sender,
		       const GPtrArray *rcpts, const struct send_body *body, struct send_result *res);
void send_result_clear(struct send_result *res);

#endif
