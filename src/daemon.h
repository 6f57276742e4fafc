/*
 * daemon.h - what vigil's resident programs do at start-up
 */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include <glib.h>

#define DAEMON_ERROR daemon_error_quark()
GQuark daemon_error_quark(void);

gboolean daemon_become(const char *user, GError **err);
gboolean daemon_safe_dir(const char *what, const char *path, GError **err);
gboolean daemon_safe_mode(const char *what, const char *path, GError **err);

#endif
