/*
 * sendproc.h - the outbox sent by a process of its own
 */
#ifndef VIGIL_SENDPROC_H
#define VIGIL_SENDPROC_H

#include <glib.h>

struct sendproc;

struct sendproc *sendproc_start(const char *conf, int threads);
void sendproc_wake(struct sendproc *p);
void sendproc_stop(struct sendproc *p);
void sendproc_send(const char *conf, const GArray *ids);
char *libexec_program(const char *name);

#endif
