/*
 * thread.h - reports and the threads that follow them
 */
#ifndef VIGIL_THREAD_H
#define VIGIL_THREAD_H

#include <stdbool.h>
#include <glib.h>

#include "message.h"
#include "store.h"

/* references looked at, newest first; hostile mail may carry thousands */
#define THREAD_MAX_REFS 100

struct thread {
	char	*report_id;	/* the report the nearest known reference leads to, or NULL */
	bool	 mixed;		/* other references lead to other reports */
};

enum store_rc thread_resolve(struct store *st, const char *list, const struct post *post,
			     struct thread *out, GError **err);
void thread_clear(struct thread *t);
enum store_rc thread_is_reporter(struct store *st, const char *list, const char *report_id,
				 const char *sender, const struct post *post, bool *by_sender,
				 bool *by_from, GError **err);
enum store_rc thread_copies(struct store *st, const char *list, const char *report_id,
			    const char *sender, const struct post *post, GPtrArray **out,
			    GError **err);

#endif
