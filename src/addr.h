/*
 * addr.h - mail address handling
 */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <stdbool.h>

char *addr_normalize(const char *addr);
char *addr_check_strict(const char *typed, const char **why);
bool addr_is_plain(const char *addr);
bool addr_is_mailer_daemon(const char *addr);
const char *addr_domain(const char *addr);
bool addr_split_extension(const char *addr, char **base, char **ext);

#endif
