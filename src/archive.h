/*
 * archive.h - the list archive: every relayed copy in a Maildir
 */
#ifndef VIGIL_ARCHIVE_H
#define VIGIL_ARCHIVE_H

#include <glib.h>

#include "config.h"
#include "store.h"

#define ARCHIVE_ERROR archive_error_quark()
GQuark archive_error_quark(void);

enum store_rc archive_add(struct store *st, const struct list_config *l, gint64 post_id,
			  const void *data, size_t len, gint64 now, GPtrArray *written,
			  GError **err);
void archive_discard(GPtrArray *written);
enum store_rc archive_recover(struct store *st, const struct list_config *l, guint *removed,
			      GError **err);
gboolean archive_check(const struct list_config *l, GError **err);
enum store_rc archive_export(struct store *st, const struct list_config *l, const char *report_id,
			     GString *out, guint *n, GError **err);
void archive_mbox_from(GString *out, const char *sender, gint64 when);
void archive_mboxrd(GString *out, const char *data, size_t len);

#endif
