/*
 * vigild.h - what vigil-filter and vigild say to each other
 *
 * vigild listens on a unix socket named VIGILD_SOCKET in the directory of
 * the database (which only the vigil user may enter).  One connection
 * carries one message:
 *
 *	vigil-filter:	"vigil-filter 1\n"
 *			"config PATH\n"		the configuration it was told to use,
 *						absolute, symbolic links resolved
 *			"sender ADDRESS\n"	"" for the null sender
 *			"rcpt ADDRESS\n"	one line per recipient
 *			"\n"
 *	vigild:		"ok\n"			go on; or "no REASON\n": run
 *						vigil-intake instead (vigild serves
 *						another configuration, or is going)
 *	vigil-filter:	the message, then end of file (shutdown(SHUT_WR))
 *	vigild:		"STATUS TEXT\n"		after the transaction: the exit status
 *						(0, 69 or 75) and what to print
 *
 * A connection that ends before the status line is status 75 to
 * vigil-filter: Postfix keeps the message and tries again.
 */
#ifndef VIGIL_VIGILD_H
#define VIGIL_VIGILD_H

#define VIGILD_SOCKET	"vigild.sock"
#define VIGILD_HELLO	"vigil-filter 1"
#define VIGILD_HEAD_MAX	(1 << 20)	/* bytes of the lines before the message */

#endif
