/* versions.h — end-of-life dates of PostgreSQL major versions. */
#ifndef PGFLEET_VERSIONS_H
#define PGFLEET_VERSIONS_H

#include <time.h>

/* "YYYY-MM-DD" of the major version's last release, or NULL if not in the table. */
const char *pg_eol_date(int version_num);
/* 1 if the version no longer receives fixes at time now. */
int pg_is_eol(int version_num, time_t now);

#endif
