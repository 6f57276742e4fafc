/*
 * NAME
 *	locate - where vigil's files are, found without GLib
 * SYNOPSIS
 *	#include "locate.h"
 *
 *	char *locate_database(const char *conf);
 *	char *locate_beside(const char *path, const char *name);
 *	char *libexec_program(const char *name);
 * DESCRIPTION
 *	vigil-filter starts for every message Postfix pipes to vigil, and
 *	links the C library alone; these are what it needs to find vigild
 *	and vigil-intake.  Loading GLib was more than half of its run.
 *
 *	locate_database() is the database the configuration file conf
 *	names: the value of "database" in the [vigil] group, blanks around
 *	it removed (the last one given wins, as in GLib's key files), else
 *	the default.  It is NULL when the file cannot be read, when a line
 *	is neither a group, a key in a group nor a comment, or when the
 *	value has a backslash (an escape, in a key file) or is not an
 *	absolute path: those are for config_load() to judge.
 *
 *	locate_beside() is the file name in the directory of path, which
 *	has a '/'.
 *
 *	libexec_program() is the path of a helper program: next to the
 *	running program (a build tree, a test's copy), else where it is
 *	installed.
 *
 *	All return memory from malloc(), for free(); out of memory aborts,
 *	as in GLib.
 */
#include "locate.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* blank - the blanks of a key file line */
static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* trim - s without the blanks at either end, in place */
static char *
trim(char *s)
{
	char *e;

	while (blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && blank(e[-1]))
		*--e = '\0';
	return s;
}

/* locate_database - the database conf names, or NULL (see above) */
char *
locate_database(const char *conf)
{
	FILE *f = fopen(conf, "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	bool grouped = false, in_vigil = false, ok = f != NULL;

	while (ok && getline(&line, &cap, f) >= 0) {
		char *s, *eq;

		line[strcspn(line, "\n")] = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			ok = end && end[1] == '\0';
			if (ok) {
				*end = '\0';
				grouped = true;
				in_vigil = strcmp(s + 1, "vigil") == 0;
			}
		} else if ((eq = strchr(s, '=')) == NULL || !grouped) {
			ok = false;	/* not a key file line, or a key outside any group */
		} else if (in_vigil) {
			*eq = '\0';
			if (strcmp(trim(s), "database") == 0) {
				free(found);
				found = strdup(trim(eq + 1));
				ok = found != NULL;
			}
		}
	}
	if (f) {
		ok = ok && !ferror(f);
		ok = fclose(f) == 0 && ok;	/* closed also when the reader gave up */
	}
	free(line);
	if (ok && found == NULL)
		found = strdup(CONFIG_DEFAULT_DATABASE);
	if (!ok || found == NULL || found[0] != '/' || strchr(found, '\\')) {
		free(found);
		return NULL;
	}
	return found;
}

/* locate_beside - name in the directory of path */
char *
locate_beside(const char *path, const char *name)
{
	char *p;

	if (asprintf(&p, "%.*s/%s", (int) (strrchr(path, '/') - path), path, name) < 0)
		abort();
	return p;
}

/* libexec_program - a helper program: next to this one, else where installed */
char *
libexec_program(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		char *p;

		self[n] = '\0';
		if (strchr(self, '/')) {
			p = locate_beside(self, name);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return locate_beside(VIGIL_LIBEXECDIR "/", name);	/* in that directory itself */
}
