/* versions.c — PostgreSQL major versions and their end-of-life dates, so the Fleet pane can
 * flag a server that no longer gets fixes. Update the table when a major version is released
 * (the project's policy: five years after the x.0 release, second week of November). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/versions.h"

static const struct {
    int major;
    const char *eol; /* YYYY-MM-DD, the last minor release */
} eol_table[] = {
    {9, "2021-11-11"}, /* 9.6 */
    {10, "2022-11-10"}, {11, "2023-11-09"}, {12, "2024-11-21"}, {13, "2025-11-13"}, {14, "2026-11-12"},
    {15, "2027-11-11"}, {16, "2028-11-09"}, {17, "2029-11-08"}, {18, "2030-11-14"},
};

const char *pg_eol_date(int version_num)
{
    int major = version_num >= 100000 ? version_num / 10000 : version_num / 10000;
    for (size_t i = 0; i < sizeof eol_table / sizeof eol_table[0]; i++)
        if (eol_table[i].major == major)
            return eol_table[i].eol;
    return NULL;
}

int pg_is_eol(int version_num, time_t now)
{
    const char *d = pg_eol_date(version_num);
    if (!d) /* older than the table: long dead; newer: not yet known, so supported */
        return version_num > 0 && version_num < 90600;
    char today[11];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    return strcmp(today, d) > 0;
}
