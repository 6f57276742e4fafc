/*
 * dbfixture.h - a list, its configuration and a real sqlite file in a
 * temporary directory, for the unit tests of intake and moderation
 */
#ifndef VIGIL_DBFIXTURE_H
#define VIGIL_DBFIXTURE_H

#include <glib.h>

#include "config.h"
#include "store.h"

#define FIXTURE_LIST "security@example.org"

/* for queries: outbox rows with their bytes, posts with their raw messages */
#define OUTBOX_DATA "outbox JOIN outbox_data ON outbox_id = id"
#define POSTS_RAW "posts LEFT JOIN post_raw ON post_id = id"

struct fixture {
	char *dir;
	struct config *cfg;
	const struct list_config *l;	/* FIXTURE_LIST */
	struct store *st;
	GArray *ids;			/* outbox ids, for the code under test */
};

struct fixture *fixture_new(const char *prefix, const char *list_options);
int fixture_teardown(void **state);
char *query(struct fixture *fx, const char *sql);
void expect(struct fixture *fx, const char *sql, const char *want);

#endif
