/*
 * NAME
 *	log - one line per event
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void log_open(const char *ident, bool to_stderr);
 *	bool log_to_stderr(void);
 *	void log_msg(int prio, const char *fmt, ...);
 * DESCRIPTION
 *	Events go to syslog, facility mail, and also to stderr when
 *	to_stderr is true (foreground programs, a terminal).  A line is
 *	key=value fields, the post id or queue id first.  Values that come
 *	from mail are escaped by the caller (text_escape()).
 *	log_to_stderr() says whether log_open() chose stderr too, for a
 *	program that starts another to log the same way.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *log_ident = "vigil";
static bool log_stderr;

/* log_open - choose where events go */
void
log_open(const char *ident, bool to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_to_stderr - whether events are also written to standard error */
bool
log_to_stderr(void)
{
	return log_stderr;
}

/* log_msg - log one event */
void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_stderr) {
		va_list aq;
		char *line;

		/* one write a line: the threads of a program do not mix theirs */
		va_copy(aq, ap);
		if (vasprintf(&line, fmt, aq) >= 0) {
			fprintf(stderr, "%s: %s\n", log_ident, line);
			free(line);
		}
		va_end(aq);
	}
	vsyslog(prio, fmt, ap);
	va_end(ap);
}
