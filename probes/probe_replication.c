/* probe_replication.c — two probes of the Replication pane:
 *  - replication: the server's identity in its cluster (system_identifier, timeline, role), where
 *    its WAL stands (current LSN on a primary; received/replayed LSN, replay pause and the age
 *    of the last replayed commit on a replica) and one row per WAL sender (pg_stat_replication)
 *    with its lag in bytes and seconds;
 *  - walreceiver: the replica side of streaming (pg_stat_wal_receiver).
 * Also the LSN and lag-ring helpers every replication file uses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_replication.h"

/* ---- LSN and ring helpers */

lsn_t lsn_parse(const char *text)
{
    if (!text || !*text)
        return 0;
    char *end;
    unsigned long long hi = strtoull(text, &end, 16);
    if (*end != '/' || end == text || hi > 0xffffffffULL)
        return 0;
    const char *lo_s = end + 1;
    unsigned long long lo = strtoull(lo_s, &end, 16);
    if (*end != '\0' || end == lo_s || lo > 0xffffffffULL)
        return 0;
    return (lsn_t)(hi << 32 | lo);
}

char *lsn_format(char *buf, size_t len, lsn_t lsn)
{
    if (!lsn)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffU));
    return buf;
}

void lag_ring_push(struct lag_ring *r, double v)
{
    r->v[r->head] = v;
    r->head = (r->head + 1) % LAG_RING_N;
    if (r->n < LAG_RING_N)
        r->n++;
}

size_t lag_ring_values(const struct lag_ring *r, double *out, size_t max)
{
    size_t n = r->n < max ? r->n : max;
    /* the newest n values, oldest first */
    for (size_t i = 0; i < n; i++)
        out[i] = r->v[(r->head + LAG_RING_N - n + i) % LAG_RING_N];
    return n;
}

void lsn_hist_push(struct lsn_hist *h, double t, lsn_t lsn)
{
    h->t[h->head] = t;
    h->lsn[h->head] = lsn;
    h->head = (h->head + 1) % LAG_RING_N;
    if (h->n < LAG_RING_N)
        h->n++;
}

double lsn_hist_passed(const struct lsn_hist *h, lsn_t pos, bool *older)
{
    *older = false;
    for (unsigned i = 0; i < h->n; i++) {
        unsigned k = (h->head + LAG_RING_N - h->n + i) % LAG_RING_N; /* oldest first */
        if (h->lsn[k] > pos) {
            *older = i == 0;
            return h->t[k];
        }
    }
    return NAN;
}

/* ---- replication probe */

/* The identity part is one row; the WAL senders are LEFT JOINed so a server without them
 * still answers that row (with NULL sender columns). The senders come from the functions behind
 * pg_stat_replication (same columns, same privilege rules), because the view joins every
 * backend's pg_stat_activity row to find a few walsenders; this looks up only theirs. Functions that only work on one
 * side (pg_current_wal_lsn, pg_walfile_name on a primary; the pause state on a replica) are
 * guarded by CASE, which never evaluates the other branch. The reference position for sender
 * lag is the primary's current LSN, or a cascading replica's newest received/replayed one. */
/* clang-format off */
#define REPL_SQL(SYSID, REPLICA_TLI, PAUSE)                                                        \
    "SELECT extract(epoch FROM now()) AS epoch, i.*, r.*"                                          \
    " FROM (SELECT pg_is_in_recovery() AS in_recovery,"                                            \
    "  current_setting('cluster_name') AS cluster_name,"                                           \
    "  inet_server_port() AS server_port, host(inet_server_addr()) AS server_addr,"                \
    SYSID ","                                                                                      \
    "  CASE WHEN pg_is_in_recovery() THEN " REPLICA_TLI                                            \
    "   ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"          \
    "  END AS timeline,"                                                                           \
    "  CASE WHEN NOT pg_is_in_recovery() THEN pg_current_wal_lsn() END AS current_lsn,"            \
    "  pg_last_wal_receive_lsn() AS receive_lsn, pg_last_wal_replay_lsn() AS replay_lsn,"          \
    "  CASE WHEN pg_is_in_recovery() THEN " PAUSE " END AS pause_state,"                           \
    "  extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS last_replay_age) i"          \
    " LEFT JOIN (SELECT w.pid AS sender_pid, a.application_name, host(a.client_addr) AS client_addr," \
    "  a.client_port, w.state, w.sync_state, w.sync_priority, sl.slot_name, sl.slot_type,"         \
    "  w.sent_lsn, w.write_lsn, w.flush_lsn, w.replay_lsn AS sender_replay_lsn,"                   \
    "  pg_wal_lsn_diff(x.ref, w.sent_lsn) AS sent_lag_b,"                                          \
    "  pg_wal_lsn_diff(x.ref, w.write_lsn) AS write_lag_b,"                                        \
    "  pg_wal_lsn_diff(x.ref, w.flush_lsn) AS flush_lag_b,"                                        \
    "  pg_wal_lsn_diff(x.ref, w.replay_lsn) AS replay_lag_b,"                                      \
    "  extract(epoch FROM w.write_lag) AS write_lag_s,"                                            \
    "  extract(epoch FROM w.flush_lag) AS flush_lag_s,"                                            \
    "  extract(epoch FROM w.replay_lag) AS replay_lag_s,"                                          \
    "  extract(epoch FROM now() - w.reply_time) AS reply_age"                                      \
    "  FROM pg_stat_get_wal_senders() w"                                                           \
    "  LEFT JOIN LATERAL pg_stat_get_activity(w.pid) a ON true"                                    \
    "  LEFT JOIN pg_replication_slots sl ON sl.active_pid = w.pid,"                                \
    "  (SELECT CASE WHEN pg_is_in_recovery()"                                                      \
    "    THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"                       \
    "    ELSE pg_current_wal_lsn() END AS ref) x) r ON true"
/* clang-format on */

/* pg_control_system() and pg_control_checkpoint() are executable by PUBLIC on a stock server
 * but often revoked on managed ones; pg_monitor is what we can test without failing the whole
 * statement (function privileges are checked before CASE could skip the call). */
/* clang-format off */
#define SYSID_PRIV                                                                                 \
    "  (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,"           \
    "  NULL::text AS sysid_why"
/* clang-format on */
/* clang-format off */
#define SYSID_NOPRIV                                                                               \
    "  NULL::text AS system_identifier,"                                                           \
    "  'system_identifier needs pg_monitor or superuser (pg_control_system())' AS sysid_why"
/* clang-format on */
#define TLI_PRIV "(SELECT timeline_id FROM pg_control_checkpoint())"
#define TLI_NOPRIV "NULL::int"
#define PAUSE_12 "CASE WHEN pg_is_wal_replay_paused() THEN 'paused' ELSE 'not paused' END"
#define PAUSE_14 "pg_get_wal_replay_pause_state()"

static const char SQL_12_PRIV[] = REPL_SQL(SYSID_PRIV, TLI_PRIV, PAUSE_12);
static const char SQL_12_NOPRIV[] = REPL_SQL(SYSID_NOPRIV, TLI_NOPRIV, PAUSE_12);
static const char SQL_14_PRIV[] = REPL_SQL(SYSID_PRIV, TLI_PRIV, PAUSE_14);
static const char SQL_14_NOPRIV[] = REPL_SQL(SYSID_NOPRIV, TLI_NOPRIV, PAUSE_14);

static const char *repl_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    bool priv = caps->superuser || caps->pg_monitor;
    if (caps->version >= 140000)
        return priv ? SQL_14_PRIV : SQL_14_NOPRIV;
    return priv ? SQL_12_PRIV : SQL_12_NOPRIV;
}

static void sender_free(struct repl_sender *r)
{
    free(r->application_name);
    free(r->client_addr);
    free(r->state);
    free(r->sync_state);
    free(r->slot_name);
    free(r->slot_type);
}

static void repl_free(void *p)
{
    struct s_replication *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->nsenders; i++)
        sender_free(&s->senders[i]);
    free(s->senders);
    free(s->system_identifier);
    free(s->sysid_why);
    free(s->cluster_name);
    free(s->server_addr);
    free(s->pause_state);
    free(s);
}

enum {
    C_EPOCH,
    C_RECOVERY,
    C_CLUSTER,
    C_PORT,
    C_ADDR,
    C_SYSID,
    C_SYSWHY,
    C_TLI,
    C_CUR,
    C_RECV,
    C_REPLAY,
    C_PAUSE,
    C_RAGE,
    C_SPID,
    C_APP,
    C_CADDR,
    C_CPORT,
    C_STATE,
    C_SYNC,
    C_SPRIO,
    C_SLOT,
    C_STYPE,
    C_SENT,
    C_WRITE,
    C_FLUSH,
    C_SREPLAY,
    C_SENTB,
    C_WRITEB,
    C_FLUSHB,
    C_REPLAYB,
    C_WRITES,
    C_FLUSHS,
    C_REPLAYS,
    C_REPLY,
    C_N
};
static const char *const cols[C_N] = {
    "epoch",           "in_recovery",       "cluster_name",     "server_port", "server_addr", "system_identifier",
    "sysid_why",       "timeline",          "current_lsn",      "receive_lsn", "replay_lsn",  "pause_state",
    "last_replay_age", "sender_pid",        "application_name", "client_addr", "client_port", "state",
    "sync_state",      "sync_priority",     "slot_name",        "slot_type",   "sent_lsn",    "write_lsn",
    "flush_lsn",       "sender_replay_lsn", "sent_lag_b",       "write_lag_b", "flush_lag_b", "replay_lag_b",
    "write_lag_s",     "flush_lag_s",       "replay_lag_s",     "reply_age",
};

static void parse_sender(const struct rowset *rs, int i, const int *c, struct repl_sender *r)
{
#define V(k) rowset_get(rs, i, c[k])
    r->pid = (int)cell_i64(V(C_SPID));
    r->application_name = cell_dup(V(C_APP));
    r->client_addr = cell_dup(V(C_CADDR));
    r->client_port = (int)cell_i64(V(C_CPORT));
    r->state = cell_dup(V(C_STATE));
    r->sync_state = cell_dup(V(C_SYNC));
    r->sync_priority = (int)cell_i64(V(C_SPRIO));
    r->slot_name = cell_dup(V(C_SLOT));
    r->slot_type = cell_dup(V(C_STYPE));
    r->sent_lsn = lsn_parse(V(C_SENT));
    r->write_lsn = lsn_parse(V(C_WRITE));
    r->flush_lsn = lsn_parse(V(C_FLUSH));
    r->replay_lsn = lsn_parse(V(C_SREPLAY));
    r->sent_lag_b = cell_num(V(C_SENTB));
    r->write_lag_b = cell_num(V(C_WRITEB));
    r->flush_lag_b = cell_num(V(C_FLUSHB));
    r->replay_lag_b = cell_num(V(C_REPLAYB));
    r->write_lag_s = cell_num(V(C_WRITES));
    r->flush_lag_s = cell_num(V(C_FLUSHS));
    r->replay_lag_s = cell_num(V(C_REPLAYS));
    r->reply_age_s = cell_num(V(C_REPLY));
#undef V
}

static int repl_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    if (rs->nrows < 1) {
        snprintf(err, errlen, "replication probe returned no row");
        return -1;
    }
#define V(k) rowset_get(rs, 0, c[k])
    struct s_replication *s = xcalloc(1, sizeof *s);
    s->epoch = cell_num(V(C_EPOCH));
    s->in_recovery = cell_bool(V(C_RECOVERY));
    s->cluster_name = xstrdup(V(C_CLUSTER) ? V(C_CLUSTER) : "");
    s->server_port = (int)cell_i64(V(C_PORT));
    s->server_addr = cell_dup(V(C_ADDR));
    s->system_identifier = cell_dup(V(C_SYSID));
    s->sysid_why = cell_dup(V(C_SYSWHY));
    s->timeline = (int)cell_i64(V(C_TLI));
    s->current_lsn = lsn_parse(V(C_CUR));
    s->receive_lsn = lsn_parse(V(C_RECV));
    s->replay_lsn = lsn_parse(V(C_REPLAY));
    s->pause_state = cell_dup(V(C_PAUSE));
    s->replay_paused = s->pause_state && strcmp(s->pause_state, "not paused") != 0;
    s->last_replay_age_s = cell_num(V(C_RAGE));
#undef V
    if (!s->system_identifier && !s->sysid_why)
        s->sysid_why = xstrdup("no system_identifier");
    s->senders = xcalloc((size_t)rs->nrows + 1, sizeof *s->senders);
    for (int i = 0; i < rs->nrows; i++) {
        if (!rowset_get(rs, i, c[C_SPID]))
            continue; /* the LEFT JOIN's row of a server without senders */
        parse_sender(rs, i, c, &s->senders[s->nsenders++]);
    }
    s->wal_rate = s->local_lag_b = s->local_lag_s = NAN;
    out->sec[PROBE_REPLICATION] = s;
    return 0;
}

/* A sender's history follows it by pid; after a reconnect (new pid) by its name and address. */
static const struct repl_sender *same_sender(const struct s_replication *p, const struct repl_sender *r)
{
    for (size_t i = 0; i < p->nsenders; i++)
        if (p->senders[i].pid == r->pid)
            return &p->senders[i];
    for (size_t i = 0; i < p->nsenders; i++) {
        const struct repl_sender *q = &p->senders[i];
        if (q->application_name && r->application_name && q->client_addr && r->client_addr &&
            strcmp(q->application_name, r->application_name) == 0 && strcmp(q->client_addr, r->client_addr) == 0)
            return q;
    }
    return NULL;
}

/* What a replica can tell by itself: WAL received and not replayed yet, and a time lag that is
 * 0 when everything received is replayed (an idle primary is not lag) and otherwise the age of
 * the last replayed commit, which keeps growing while replay is paused or stuck. */
static void local_lag(struct s_replication *c)
{
    if (!c->in_recovery)
        return;
    if (c->receive_lsn && c->replay_lsn)
        c->local_lag_b = c->receive_lsn > c->replay_lsn ? (double)(c->receive_lsn - c->replay_lsn) : 0;
    else if (c->replay_lsn)
        c->local_lag_b = 0; /* not streaming (archive recovery): nothing received to compare */
    if (c->receive_lsn && c->replay_lsn && c->replay_lsn >= c->receive_lsn)
        c->local_lag_s = 0;
    else
        c->local_lag_s = c->last_replay_age_s;
}

static void repl_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_replication *p = SAMPLE_REPL(prev);
    struct s_replication *c = cur->sec[PROBE_REPLICATION];
    if (!c)
        return;
    local_lag(c);
    if (p && p->in_recovery == c->in_recovery) {
        double dt = c->epoch - p->epoch;
        lsn_t a = c->in_recovery ? p->replay_lsn : p->current_lsn;
        lsn_t b = c->in_recovery ? c->replay_lsn : c->current_lsn;
        if (dt > 0 && a && b && b >= a)
            c->wal_rate = (double)(b - a) / dt;
        c->hist = p->hist; /* carried forward: the model keeps only two samples */
        c->wal_hist = p->wal_hist;
    }
    if (!c->in_recovery && c->current_lsn && isfinite(c->epoch))
        lsn_hist_push(&c->wal_hist, c->epoch, c->current_lsn);
    if (c->in_recovery)
        lag_ring_push(&c->hist, c->local_lag_b);
    for (size_t i = 0; i < c->nsenders; i++) {
        struct repl_sender *r = &c->senders[i];
        const struct repl_sender *q = p ? same_sender(p, r) : NULL;
        if (q)
            r->hist = q->hist;
        lag_ring_push(&r->hist, r->replay_lag_b);
    }
}

const struct probe_class probe_replication = {
    .name = "replication",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = repl_sql,
    .parse = repl_parse,
    .derive = repl_derive,
    .free_section = repl_free,
};

/* ---- WAL receiver probe */

/* clang-format off */
#define WALRCV_SELECT(LSNS)                                                                        \
    "SELECT pid, status, sender_host, sender_port, received_tli, " LSNS ", latest_end_lsn,"        \
    " extract(epoch FROM now() - last_msg_receipt_time) AS last_msg_age,"                          \
    " extract(epoch FROM now() - latest_end_time) AS latest_end_age,"                              \
    " slot_name, conninfo FROM pg_stat_wal_receiver"
/* clang-format on */

/* 13 renamed received_lsn (which was the flushed position) and added written_lsn. */
static const char WALRCV_12[] = WALRCV_SELECT("received_lsn");
static const char WALRCV_13[] = WALRCV_SELECT("written_lsn, flushed_lsn");

static const char *walrcv_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    return caps->version >= 130000 ? WALRCV_13 : WALRCV_12;
}

static void walrcv_free(void *p)
{
    struct s_walreceiver *w = p;
    if (!w)
        return;
    free(w->status);
    free(w->sender_host);
    free(w->slot_name);
    free(w->app_name);
    free(w);
}

/* The value of key in a conninfo string ("k=v k2='v 2'"), or NULL. pg_stat_wal_receiver shows
 * the walreceiver's conninfo with passwords hidden; we keep only the application name. */
static char *conninfo_value(const char *ci, const char *key)
{
    size_t kl = strlen(key);
    const char *p = ci;
    while (p && *p) {
        while (*p == ' ')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            break;
        bool match = (size_t)(eq - p) == kl && strncmp(p, key, kl) == 0;
        const char *v = eq + 1;
        struct text t;
        text_init(&t);
        if (*v == '\'') {
            for (v++; *v && *v != '\''; v++) {
                if (*v == '\\' && v[1])
                    v++;
                text_addn(&t, v, 1);
            }
            if (*v)
                v++;
        } else {
            for (; *v && *v != ' '; v++)
                text_addn(&t, v, 1);
        }
        if (match)
            return t.s ? t.s : xstrdup("");
        text_free(&t);
        p = v;
    }
    return NULL;
}

static int walrcv_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    static const char *const req[] = {
        "pid",          "status",         "sender_host", "sender_port", "received_tli", "latest_end_lsn",
        "last_msg_age", "latest_end_age", "slot_name",   "conninfo",
    };
    int c[10];
    if (rowset_cols(rs, req, c, 10, err, errlen))
        return -1;
    int written = rowset_col(rs, "written_lsn");
    int flushed = rowset_col(rs, "flushed_lsn");
    if (flushed < 0)
        flushed = rowset_col(rs, "received_lsn"); /* 12 */
    if (flushed < 0) {
        snprintf(err, errlen, "no column flushed_lsn or received_lsn");
        return -1;
    }
    struct s_walreceiver *w = xcalloc(1, sizeof *w);
    w->last_msg_age_s = w->latest_end_age_s = NAN;
    if (rs->nrows >= 1 && rowset_get(rs, 0, c[0])) {
#define V(k) rowset_get(rs, 0, c[k])
        w->present = true;
        w->pid = (int)cell_i64(V(0));
        w->status = cell_dup(V(1));
        w->sender_host = cell_dup(V(2));
        w->sender_port = (int)cell_i64(V(3));
        w->received_tli = (int)cell_i64(V(4));
        w->latest_end_lsn = lsn_parse(V(5));
        w->last_msg_age_s = cell_num(V(6));
        w->latest_end_age_s = cell_num(V(7));
        w->slot_name = cell_dup(V(8));
        const char *ci = V(9);
        w->app_name = conninfo_value(ci, "application_name");
        if (!w->app_name)
            w->app_name = conninfo_value(ci, "fallback_application_name");
#undef V
        w->written_lsn = written >= 0 ? lsn_parse(rowset_get(rs, 0, written)) : 0;
        w->flushed_lsn = lsn_parse(rowset_get(rs, 0, flushed));
    }
    out->sec[PROBE_WALRECEIVER] = w;
    return 0;
}

const struct probe_class probe_walreceiver = {
    .name = "walreceiver",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = walrcv_sql,
    .parse = walrcv_parse,
    .derive = NULL,
    .free_section = walrcv_free,
};
