/*
 * relay.h - the SMTP client of the no-op contenders (benchmark only)
 */
#ifndef BENCH_RELAY_H
#define BENCH_RELAY_H

#include <stddef.h>
#include <stdio.h>

struct buf {
	char	*p;
	size_t	len;
	size_t	cap;
};

struct relay {
	int	 fd;
	FILE	*in;
};

extern const char *relay_progname;

void relay_die(const char *what);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_smtp(struct buf *b, const char *p, size_t n, int *bol);
void buf_smtp_end(struct buf *b, int bol);
void relay_open(struct relay *r, const char *hostport);
void relay_send(struct relay *r, const char *from, char **to, int nto, const struct buf *msg);
void relay_close(struct relay *r);

#endif
