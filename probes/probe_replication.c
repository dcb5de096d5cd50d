/* probe_replication.c — placeholder: this probe is not written yet; it collects nothing. */
#include "probe.h"

static const char *none_sql(const struct server_caps *c, const struct probe_opts *o, const char **why)
{
    (void)c, (void)o;
    *why = "not implemented yet";
    return NULL;
}

const struct probe_class probe_replication = {
    .name = "replication",
    .kind = KIND_POSTGRES,
    .min_version = 0,
    .every_ticks = 1,
    .sql = none_sql,
};

const struct probe_class probe_walreceiver = {
    .name = "walreceiver",
    .kind = KIND_POSTGRES,
    .min_version = 0,
    .every_ticks = 1,
    .sql = none_sql,
};
