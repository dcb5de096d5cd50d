/* snapjson_restore.c — the JSON snapshot's restore_test object of a PostgreSQL server: when its
 * backups last restored well (last_ok, age_days), the newest run (last_run, last_outcome,
 * method, error), health's verdict (level, reason) and the limit it was judged against. Every key
 * present; nulls and level null when the fleet has no restore test record (not judged). */
#include <math.h>
#include <string.h>
#include <time.h>

#include "probes/health.h"
#include "probes/restore_record.h"
#include "probes/snapjson.h"

static json_t *jiso(time_t t)
{
    if (t <= 0)
        return json_null();
    char ts[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(ts);
}

static json_t *jlevel(enum sev l)
{
    switch (l) {
    case SEV_OK: return json_string("ok");
    case SEV_WARN: return json_string("warn");
    case SEV_CRIT: return json_string("crit");
    default: return json_null();
    }
}

static json_t *joutcome(const char *o)
{
    bool known = o[0] && (strcmp(o, "ok") == 0 || strcmp(o, "failed") == 0 || strcmp(o, "aborted") == 0);
    return known ? json_string(o) : json_null();
}

void snapjson_restore(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind == KIND_PGBOUNCER)
        return; /* a pooler holds no data to restore */
    const struct restore_status *st = model_restore_status(m, s);
    time_t now = time(NULL);
    int max_age = m->cfg->restore_max_age_days;
    bool judged = m->restore.judged;
    json_t *r = json_object();
    json_object_set_new(r, "last_ok", jiso(st ? st->last_ok : 0));
    double age = st && st->last_ok > 0 ? difftime(now, st->last_ok) / 86400 : NAN;
    json_object_set_new(r, "age_days", jnum(isnan(age) ? NAN : round((age < 0 ? 0 : age) * 100) / 100));
    json_object_set_new(r, "last_run", jiso(st ? st->last_run : 0));
    json_object_set_new(r, "last_outcome", st ? joutcome(st->last_outcome) : json_null());
    json_object_set_new(r, "method", st && st->method[0] ? jstr(st->method) : json_null());
    json_object_set_new(r, "error", st && st->last_failed && st->error[0] ? jstr(st->error) : json_null());
    json_object_set_new(r, "rto_s", jnum(st ? st->last_ok_rto_s : NAN));
    json_object_set_new(r, "max_age_days", json_integer(max_age));
    char why[VERDICT_REASON];
    enum sev l = SEV_NONE;
    if (judged)
        l = health_restore_why(st, max_age, now, why, sizeof why);
    else
        snprintf(why, sizeof why, "not judged: no restore test recorded for this fleet");
    json_object_set_new(r, "level", jlevel(l));
    json_object_set_new(r, "reason", json_string(why));
    json_object_set_new(o, "restore_test", r);
}
