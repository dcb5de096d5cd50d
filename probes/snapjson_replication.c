/* snapjson_replication.c — the JSON snapshot's "replication" object of a PostgreSQL server: its
 * role and cluster (system identifier, peers), LSNs and WAL rate, the replicas it streams to
 * (fleet servers named) with their lags and lag history, a replica's upstream and lag measured
 * against its primary, the WAL receiver, slots, archiver, publications and subscriptions. */
#include "probes/snapjson.h"

#include "probes/health.h"
#include "probes/repl_cluster.h"
#include "probes/sec_replication.h"

static json_t *jlsn(lsn_t v)
{
    char b[32];
    return v ? json_string(lsn_format(b, sizeof b, v)) : json_null();
}

static json_t *jhist(const struct lag_ring *h)
{
    json_t *a = json_array();
    double v[LAG_RING_N];
    size_t n = h ? lag_ring_values(h, v, LAG_RING_N) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jnum(v[i]));
    return a;
}

static json_t *sender_json(const struct model *m, const struct repl_cluster *c, int me, size_t k,
                           const struct repl_sender *r)
{
    json_t *j = json_object();
    const char *name = NULL;
    for (size_t i = 0; c && me >= 0 && i < c->n; i++)
        if (c->nodes[i].upstream == me && c->nodes[i].sender == (int)k)
            name = m->servers[c->nodes[i].server].conf->name;
    json_object_set_new(j, "server", jstr(name));
    json_object_set_new(j, "pid", json_integer(r->pid));
    json_object_set_new(j, "application_name", jstr(r->application_name));
    json_object_set_new(j, "client_addr", jstr(r->client_addr));
    json_object_set_new(j, "client_port", json_integer(r->client_port));
    json_object_set_new(j, "state", jstr(r->state));
    json_object_set_new(j, "sync_state", jstr(r->sync_state));
    json_object_set_new(j, "sync_priority", json_integer(r->sync_priority));
    json_object_set_new(j, "slot_name", jstr(r->slot_name));
    json_object_set_new(j, "slot_type", jstr(r->slot_type));
    json_object_set_new(j, "sent_lsn", jlsn(r->sent_lsn));
    json_object_set_new(j, "write_lsn", jlsn(r->write_lsn));
    json_object_set_new(j, "flush_lsn", jlsn(r->flush_lsn));
    json_object_set_new(j, "replay_lsn", jlsn(r->replay_lsn));
    json_object_set_new(j, "sent_lag_bytes", jnum(r->sent_lag_b));
    json_object_set_new(j, "write_lag_bytes", jnum(r->write_lag_b));
    json_object_set_new(j, "flush_lag_bytes", jnum(r->flush_lag_b));
    json_object_set_new(j, "replay_lag_bytes", jnum(r->replay_lag_b));
    json_object_set_new(j, "write_lag_s", jnum(r->write_lag_s));
    json_object_set_new(j, "flush_lag_s", jnum(r->flush_lag_s));
    json_object_set_new(j, "replay_lag_s", jnum(r->replay_lag_s));
    json_object_set_new(j, "reply_age_s", jnum(r->reply_age_s));
    json_object_set_new(j, "lag_history", jhist(&r->hist));
    return j;
}

static json_t *walrcv_json(const struct s_walreceiver *w)
{
    if (!w || !w->present)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "pid", json_integer(w->pid));
    json_object_set_new(j, "status", jstr(w->status));
    json_object_set_new(j, "sender_host", jstr(w->sender_host));
    json_object_set_new(j, "sender_port", json_integer(w->sender_port));
    json_object_set_new(j, "received_tli", json_integer(w->received_tli));
    json_object_set_new(j, "slot_name", jstr(w->slot_name));
    json_object_set_new(j, "application_name", jstr(w->app_name));
    json_object_set_new(j, "written_lsn", jlsn(w->written_lsn));
    json_object_set_new(j, "flushed_lsn", jlsn(w->flushed_lsn));
    json_object_set_new(j, "latest_end_lsn", jlsn(w->latest_end_lsn));
    json_object_set_new(j, "last_msg_age_s", jnum(w->last_msg_age_s));
    json_object_set_new(j, "latest_end_age_s", jnum(w->latest_end_age_s));
    return j;
}

static const char *sev_name(enum sev s)
{
    return s == SEV_CRIT ? "crit" : s == SEV_WARN ? "warn" : s == SEV_OK ? "ok" : "none";
}

static json_t *slots_json(const struct s_slots *sl, const struct thresholds *th)
{
    json_t *a = json_array();
    for (size_t i = 0; sl && i < sl->n; i++) {
        const struct slot_row *r = &sl->rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "slot_name", jstr(r->slot_name));
        json_object_set_new(j, "slot_type", jstr(r->slot_type));
        json_object_set_new(j, "plugin", jstr(r->plugin));
        json_object_set_new(j, "database", jstr(r->database));
        json_object_set_new(j, "active", json_boolean(r->active));
        json_object_set_new(j, "active_pid", r->active_pid ? json_integer(r->active_pid) : json_null());
        json_object_set_new(j, "temporary", json_boolean(r->temporary));
        json_object_set_new(j, "wal_status", jstr(r->wal_status));
        json_object_set_new(j, "safe_wal_size", jnum(r->safe_wal_size));
        json_object_set_new(j, "restart_lsn", jlsn(r->restart_lsn));
        json_object_set_new(j, "confirmed_flush_lsn", jlsn(r->confirmed_flush_lsn));
        json_object_set_new(j, "retained_bytes", jnum(r->retained_b));
        json_object_set_new(j, "confirmed_lag_bytes", jnum(r->confirmed_lag_b));
        json_object_set_new(j, "xmin_age", jnum(r->xmin_age));
        json_object_set_new(j, "conflicting", json_boolean(r->conflicting));
        json_object_set_new(j, "invalidation_reason", jstr(r->invalidation_reason));
        json_object_set_new(j, "severity", json_string(sev_name(health_slot(r, th))));
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *archiver_json(const struct s_archiver *a)
{
    if (!a)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "archive_mode", jstr(a->archive_mode));
    json_object_set_new(j, "archived_count", json_integer(a->archived_count));
    json_object_set_new(j, "failed_count", json_integer(a->failed_count));
    json_object_set_new(j, "last_archived_wal", jstr(a->last_archived_wal));
    json_object_set_new(j, "last_archived_age_s", jnum(a->last_archived_age_s));
    json_object_set_new(j, "last_failed_wal", jstr(a->last_failed_wal));
    json_object_set_new(j, "last_failed_age_s", jnum(a->last_failed_age_s));
    json_object_set_new(j, "stats_reset", jstr(a->stats_reset));
    json_object_set_new(j, "ready_count", a->ready_count >= 0 ? json_integer(a->ready_count) : json_null());
    json_object_set_new(j, "archived_per_s", jnum(a->archived_rate));
    json_object_set_new(j, "failed_per_s", jnum(a->failed_rate));
    json_object_set_new(j, "failing", json_boolean(a->failing));
    return j;
}

static void logical_json(const struct s_subscriptions *sb, json_t *o)
{
    json_t *subs = json_array(), *pubs = json_array();
    for (size_t i = 0; sb && i < sb->nsubs; i++) {
        const struct sub_row *r = &sb->subs[i];
        json_t *j = json_object();
        json_object_set_new(j, "name", jstr(r->name));
        json_object_set_new(j, "database", jstr(r->database));
        json_object_set_new(j, "slot_name", jstr(r->slot_name));
        json_object_set_new(j, "enabled", json_boolean(r->enabled));
        json_object_set_new(j, "pid", r->pid ? json_integer(r->pid) : json_null());
        json_object_set_new(j, "received_lsn", jlsn(r->received_lsn));
        json_object_set_new(j, "latest_end_lsn", jlsn(r->latest_end_lsn));
        json_object_set_new(j, "last_msg_age_s", jnum(r->last_msg_age_s));
        json_object_set_new(j, "latest_end_age_s", jnum(r->latest_end_age_s));
        json_object_set_new(j, "sync_workers", json_integer(r->sync_workers));
        json_object_set_new(j, "apply_error_count", r->apply_errors >= 0 ? json_integer(r->apply_errors) : json_null());
        json_object_set_new(j, "sync_error_count", r->sync_errors >= 0 ? json_integer(r->sync_errors) : json_null());
        json_array_append_new(subs, j);
    }
    for (size_t i = 0; sb && i < sb->npubs; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "name", jstr(sb->pubs[i].name));
        json_object_set_new(j, "all_tables", json_boolean(sb->pubs[i].all_tables));
        json_object_set_new(j, "tables", json_integer(sb->pubs[i].tables));
        json_array_append_new(pubs, j);
    }
    json_object_set_new(o, "subscriptions", sb ? subs : (json_decref(subs), json_null()));
    json_object_set_new(o, "publications", sb ? pubs : (json_decref(pubs), json_null()));
}

void snapjson_replication(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN || !s->cur)
        return;
    const struct s_replication *r = SAMPLE_REPL(s->cur);
    size_t idx = (size_t)(s - m->servers);
    struct repl_cluster *cs;
    size_t nc = repl_clusters(m, (long)idx, &cs);
    const struct repl_cluster *c = nc ? &cs[0] : NULL;
    int me = c ? repl_cluster_find(c, idx) : -1;
    json_t *j = json_object();
    json_object_set_new(j, "role", r ? json_string(r->in_recovery ? "replica" : "primary") : json_null());
    json_object_set_new(j, "system_identifier", jstr(r ? r->system_identifier : NULL));
    json_object_set_new(j, "system_identifier_why", jstr(r ? r->sysid_why : NULL));
    json_t *peers = json_array();
    for (size_t i = 0; c && c->sysid && i < c->n; i++)
        if ((int)i != me)
            json_array_append_new(peers, jstr(m->servers[c->nodes[i].server].conf->name));
    json_object_set_new(j, "cluster_peers", peers);
    if (r) {
        json_object_set_new(j, "timeline", r->timeline ? json_integer(r->timeline) : json_null());
        json_object_set_new(j, "cluster_name", jstr(r->cluster_name));
        json_object_set_new(j, "current_lsn", jlsn(r->current_lsn));
        json_object_set_new(j, "receive_lsn", jlsn(r->receive_lsn));
        json_object_set_new(j, "replay_lsn", jlsn(r->replay_lsn));
        json_object_set_new(j, "wal_bytes_per_s", jnum(r->wal_rate));
        json_object_set_new(j, "replay_paused", r->in_recovery ? json_boolean(r->replay_paused) : json_null());
        json_object_set_new(j, "pause_state", jstr(r->pause_state));
        json_object_set_new(j, "last_replay_age_s", jnum(r->last_replay_age_s));
        json_t *reps = json_array();
        for (size_t k = 0; k < r->nsenders; k++)
            json_array_append_new(reps, sender_json(m, c, me, k, &r->senders[k]));
        json_object_set_new(j, "replicas", reps);
        if (r->in_recovery && c && me >= 0) {
            struct repl_lag lag;
            repl_node_lag(m, c, (size_t)me, &lag);
            const struct repl_node *nd = &c->nodes[me];
            json_object_set_new(j, "upstream",
                                nd->upstream >= 0 ? jstr(m->servers[c->nodes[nd->upstream].server].conf->name)
                                                  : json_null());
            json_object_set_new(j, "lag_bytes", jnum(lag.bytes));
            json_object_set_new(j, "lag_s", jnum(lag.seconds));
            json_object_set_new(j, "lag_source", json_string(lag.from_primary ? "primary" : "local"));
            json_object_set_new(j, "local_lag_bytes", jnum(r->local_lag_b));
            json_object_set_new(j, "local_lag_s", jnum(r->local_lag_s));
            json_object_set_new(j, "lag_history", jhist(&r->hist));
        }
    }
    json_object_set_new(j, "wal_receiver", walrcv_json(SAMPLE_WALRCV(s->cur)));
    json_object_set_new(j, "slots", SAMPLE_SLOTS(s->cur) ? slots_json(SAMPLE_SLOTS(s->cur), &m->cfg->th) : json_null());
    json_object_set_new(j, "archiver", archiver_json(SAMPLE_ARCHIVER(s->cur)));
    logical_json(SAMPLE_SUBS(s->cur), j);
    json_object_set_new(j, "worst_lag_bytes", jnum(repl_worst_lag_bytes(m, s)));
    json_object_set_new(j, "worst_lag_s", jnum(repl_lag_seconds(m, s)));
    json_object_set_new(j, "archiver_failing", json_boolean(archiver_failing(s)));
    repl_clusters_free(cs, nc);
    json_object_set_new(o, "replication", j);
}
