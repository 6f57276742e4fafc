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
void expectf(struct fixture *fx, const char *sql, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* an outbox row read back: raw bytes, header block, decoded text */
struct notice_text {
	char *data;
	gsize len;
	char *head;
	char *text;
};

char *outbox_data(struct fixture *fx, const char *where, gsize *len);
char *head_of(const char *data);
char *text_of(const char *data, gsize len);
void notice_get(struct fixture *fx, const char *where, struct notice_text *n);
void notice_clear(struct notice_text *n);
void has(const char *what, const char *text, const char *needle);
void lacks(const char *what, const char *text, const char *needle);

/* log lines: written to a file (stderr) from log_capture_begin() on; log_capture_end() returns them */
void log_capture_begin(void);
char *log_capture_end(void);

#endif
