/* snapjson_statements.c — the JSON snapshot's statements[] (a PostgreSQL server's busiest
 * statements over the interval, from pg_stat_statements deltas; statements_error says why there
 * are none) and progress[] (running VACUUM, CREATE INDEX, … with their phase, rate and ETA). */
#include "probes/snapjson.h"

#include <math.h>
#include <stdio.h>

#include "probes/sec_progress.h"
#include "probes/sec_statements.h"

static json_t *row_json(const struct stmt_row *r)
{
    json_t *j = json_object();
    /* a string: 64-bit ids do not survive JSON readers that use doubles (jq, JavaScript) */
    char qid[24];
    snprintf(qid, sizeof qid, "%lld", r->queryid);
    json_object_set_new(j, "queryid", r->has_queryid ? json_string(qid) : json_null());
    json_object_set_new(j, "toplevel", json_boolean(r->toplevel));
    json_object_set_new(j, "database", jstr(r->datname));
    json_object_set_new(j, "user", jstr(r->rolname));
    json_object_set_new(j, "calls_per_s", jnum(r->calls_s));
    json_object_set_new(j, "total_ms_per_s", jnum(r->load_ms_s));
    json_object_set_new(j, "mean_ms", jnum(r->mean_ms));
    json_object_set_new(j, "max_ms", jnum(r->max_ms));
    json_object_set_new(j, "rows_per_s", jnum(r->rows_s));
    json_object_set_new(j, "shared_blks_hit_per_s", jnum(r->hit_s));
    json_object_set_new(j, "shared_blks_read_per_s", jnum(r->read_s));
    json_object_set_new(j, "hit_pct", jnum(r->hit_pct));
    json_object_set_new(j, "temp_blks_per_s", jnum(r->temp_s));
    json_object_set_new(j, "calls", json_integer(r->calls));
    json_object_set_new(j, "total_ms", jnum(r->total_ms));
    if (!r->has_queryid)
        json_object_set_new(j, "entries", json_integer(r->merged));
    json_object_set_new(j, "query", jstr(r->query));
    json_object_set_new(j, "query_truncated", json_boolean(r->query_cut));
    return j;
}

static json_t *progress_json(const struct s_progress *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; p && i < p->n; i++) {
        const struct progress_row *r = &p->rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "pid", json_integer(r->pid));
        json_object_set_new(j, "command", jstr(r->command));
        json_object_set_new(j, "phase", jstr(r->phase));
        json_object_set_new(j, "relation", jstr(r->relation));
        json_object_set_new(j, "database", jstr(r->datname));
        json_object_set_new(j, "unit", jstr(r->unit));
        json_object_set_new(j, "done", jnum(r->done));
        json_object_set_new(j, "total", jnum(r->total));
        json_object_set_new(j, "pct", jnum(r->pct));
        json_object_set_new(j, "rate_per_s", jnum(r->rate));
        json_object_set_new(j, "eta_s", jnum(r->eta_s));
        json_array_append_new(arr, j);
    }
    return arr;
}

/* statements[]: the SNAPSHOT_STATEMENTS_TOP busiest over the interval; statements_error: why there are none. */
void snapjson_statements(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN)
        return;
    const char *why = statements_unavailable(m, s);
    const struct s_statements *st = SAMPLE_STATEMENTS(s->cur);
    json_t *arr = json_array();
    for (size_t k = 0; !why && k < st->ntop && k < SNAPSHOT_STATEMENTS_TOP; k++)
        json_array_append_new(arr, row_json(&st->rows[st->top[k]]));
    json_object_set_new(o, "statements", arr);
    json_object_set_new(o, "statements_error", jstr(why));
    json_object_set_new(o, "statements_interval_s", jnum(why ? NAN : st->dt));
    if (s->cur && s->cur->sec[PROBE_PROGRESS])
        json_object_set_new(o, "progress", progress_json(SAMPLE_PROGRESS(s->cur)));
    else
        json_object_set_new(o, "progress", json_null());
}
