/*
 * compose.h - outgoing messages
 */
#ifndef VIGIL_COMPOSE_H
#define VIGIL_COMPOSE_H

#include <glib.h>

#include "config.h"
#include "message.h"

#define COMPOSE_ERROR compose_error_quark()
GQuark compose_error_quark(void);

/* a template's placeholders: NULL-terminated name, value pairs */
struct tvar {
	const char *name;
	const char *value;
};

GByteArray *compose_crlf(const void *raw, size_t len);
GByteArray *compose_relay(const struct list_config *list, const void *raw, size_t len);
gboolean compose_render(const char *path, const struct tvar *vars,
			char **subject, char **body, GError **err);
gboolean compose_check(const struct list_config *list, const char *template_dir, GError **err);
GByteArray *compose_autoreply(const struct list_config *list, const char *template_dir,
			      const struct post *orig, const char *to, const char *report_id,
			      gint64 now, GError **err);

#endif
