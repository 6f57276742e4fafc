/*
 * sendproc.h - the outbox sent by a process of its own
 */
#ifndef VIGIL_SENDPROC_H
#define VIGIL_SENDPROC_H

#include <glib.h>

struct sendproc;

/* vigil-sender's threads for a resident program, each with a connection to
 * the relay: 4 of the re-injection listener's 10 smtpd processes at most
 * (filters/postfix/master.cf) */
#define SENDER_THREADS	4

struct sendproc *sendproc_start(const char *conf, int threads);
void sendproc_wake(struct sendproc *p);
void sendproc_stop(struct sendproc *p);
void sendproc_send(const char *conf, const GArray *ids);

#endif
