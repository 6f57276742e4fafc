/*
 * locate.h - where vigil's files are, found without GLib
 */
#ifndef VIGIL_LOCATE_H
#define VIGIL_LOCATE_H

char *locate_database(const char *conf);
char *locate_beside(const char *path, const char *name);
char *libexec_program(const char *name);

#endif
