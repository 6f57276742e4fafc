/*
 * sender.h - the outbox sent by threads of a resident process
 */
#ifndef VIGIL_SENDER_H
#define VIGIL_SENDER_H

#include "config.h"

struct sender;

struct sender *sender_start(const struct config *cfg, int threads);
void sender_wake(struct sender *s);
void sender_stop(struct sender *s);

#endif
