/* test_replication.c — unit tests for the Replication pane's pure side: LSN text, the lag and WAL
 * history rings, the parse/derive of the replication, walreceiver, slots, archiver and
 * subscriptions probes over PostgreSQL 12, 15 and 16 fixtures (tests/data/probes/repl_*.rows),
 * severities, the cluster builder over a fake model (grouping by system_identifier, replicas tied
 * to sender rows, cascades, strangers, split brain, loops in bad data, servers without an
 * identifier), the Fleet pane's helpers and the sparkline text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rowset.h"
#include "core/util.h"
#include "probes/health.h"
#include "probes/repl_cluster.h"
#include "testutil.h"
#include "tui/screen.h"

/* ---- helpers ---- */

/* Run every derive step of our probes, as the scheduler does after a tick. */
static void derive_all(const struct sample *prev, struct sample *cur)
{
    static const enum probe_id ids[] = {PROBE_REPLICATION, PROBE_WALRECEIVER, PROBE_SLOTS, PROBE_ARCHIVER,
                                        PROBE_SUBSCRIPTIONS};
    for (size_t i = 0; i < ARRAY_LEN(ids); i++)
        if (probe_table[ids[i]]->derive && cur->sec[ids[i]])
            probe_table[ids[i]]->derive(prev, cur);
}

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6)

/* ---- LSN and rings ---- */

static void test_lsn(void **state)
{
    (void)state;
    char b[32];
    assert_true(lsn_parse("16/B374D848") == ((lsn_t)0x16 << 32 | 0xB374D848));
    assert_true(lsn_parse("0/3CC2298") == 0x3CC2298);
    assert_true(lsn_parse("FFFFFFFF/FFFFFFFF") == UINT64_MAX);
    assert_true(lsn_parse(NULL) == 0);
    assert_true(lsn_parse("") == 0);
    assert_true(lsn_parse("16") == 0);
    assert_true(lsn_parse("16/") == 0);
    assert_true(lsn_parse("/5") == 0);
    assert_true(lsn_parse("1/2x") == 0);
    assert_true(lsn_parse("100000000/0") == 0);
    assert_string_equal(lsn_format(b, sizeof b, lsn_parse("16/B374D848")), "16/B374D848");
    assert_string_equal(lsn_format(b, sizeof b, 0), "-");
    assert_string_equal(lsn_format(b, sizeof b, 0x3CC2298), "0/3CC2298");
}

static void test_lag_ring(void **state)
{
    (void)state;
    struct lag_ring r;
    memset(&r, 0, sizeof r);
    double v[LAG_RING_N];
    assert_int_equal(lag_ring_values(&r, v, LAG_RING_N), 0);
    lag_ring_push(&r, 1);
    lag_ring_push(&r, NAN);
    lag_ring_push(&r, 3);
    assert_int_equal(lag_ring_values(&r, v, LAG_RING_N), 3);
    assert_near(v[0], 1);
    assert_true(isnan(v[1]));
    assert_near(v[2], 3);
    for (int i = 0; i < LAG_RING_N + 10; i++)
        lag_ring_push(&r, i);
    assert_int_equal(lag_ring_values(&r, v, LAG_RING_N), LAG_RING_N);
    assert_near(v[0], 10); /* the oldest kept */
    assert_near(v[LAG_RING_N - 1], LAG_RING_N + 9);
    assert_int_equal(lag_ring_values(&r, v, 5), 5); /* the newest 5, oldest first */
    assert_near(v[0], LAG_RING_N + 5);
    assert_near(v[4], LAG_RING_N + 9);
}

static void test_lsn_hist(void **state)
{
    (void)state;
    struct lsn_hist h;
    memset(&h, 0, sizeof h);
    bool older;
    assert_true(isnan(lsn_hist_passed(&h, 100, &older)));
    lsn_hist_push(&h, 10, 100);
    lsn_hist_push(&h, 11, 200);
    lsn_hist_push(&h, 12, 200);
    lsn_hist_push(&h, 13, 300);
    assert_near(lsn_hist_passed(&h, 150, &older), 11); /* first sample past 150 */
    assert_false(older);
    assert_near(lsn_hist_passed(&h, 200, &older), 13);
    assert_false(older);
    assert_near(lsn_hist_passed(&h, 50, &older), 10); /* older than the history */
    assert_true(older);
    assert_true(isnan(lsn_hist_passed(&h, 300, &older)));
    for (int i = 0; i < 2 * LAG_RING_N; i++)
        lsn_hist_push(&h, 100 + i, 1000 + (lsn_t)i);
    assert_near(lsn_hist_passed(&h, 1000 + LAG_RING_N + 5, &older), 100 + LAG_RING_N + 6);
}

/* ---- replication probe ---- */

static void test_repl_parse_pg15_primary(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_primary.rows");
    const struct s_replication *r = SAMPLE_REPL(s);
    assert_false(r->in_recovery);
    assert_string_equal(r->system_identifier, "7712662321541718662");
    assert_null(r->sysid_why);
    assert_int_equal(r->timeline, 1);
    assert_string_equal(r->cluster_name, "primary");
    assert_int_equal(r->server_port, 27378);
    assert_string_equal(r->server_addr, "127.0.0.1");
    assert_true(r->current_lsn == 0x3CC2298);
    assert_true(r->receive_lsn == 0 && r->replay_lsn == 0);
    assert_null(r->pause_state);
    assert_false(r->replay_paused);
    assert_int_equal(r->nsenders, 1);
    const struct repl_sender *w = &r->senders[0];
    assert_int_equal(w->pid, 4811);
    assert_string_equal(w->application_name, "replica");
    assert_string_equal(w->client_addr, "127.0.0.1");
    assert_int_equal(w->client_port, 42424);
    assert_string_equal(w->state, "streaming");
    assert_string_equal(w->sync_state, "async");
    assert_string_equal(w->slot_name, "replica");
    assert_string_equal(w->slot_type, "physical");
    assert_true(w->replay_lsn == 0x304BC70);
    assert_near(w->sent_lag_b, 0);
    assert_near(w->replay_lag_b, 13067816);
    assert_near(w->replay_lag_s, 97.357205);
    assert_near(w->reply_age_s, 7.758306);
    assert_true(isnan(r->wal_rate)); /* not derived yet */
    sample_free(s);
}

static void test_repl_parse_pg12_and_pg16(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg12_primary.rows");
    const struct s_replication *r = SAMPLE_REPL(s);
    assert_string_equal(r->cluster_name, ""); /* cluster_name unset */
    assert_int_equal(r->timeline, 3);
    assert_int_equal(r->nsenders, 3);
    assert_string_equal(r->senders[1].state, "backup");
    assert_true(isnan(r->senders[1].replay_lag_b));
    assert_true(r->senders[1].sent_lsn == 0);
    assert_string_equal(r->senders[2].slot_type, "logical");
    assert_true(isnan(r->senders[2].replay_lag_s));
    sample_free(s);

    s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg12_replica.rows");
    r = SAMPLE_REPL(s);
    assert_true(r->in_recovery);
    assert_string_equal(r->pause_state, "not paused");
    assert_false(r->replay_paused);
    assert_int_equal(r->nsenders, 1); /* a cascading replica has senders too */
    sample_free(s);

    /* 16: no sender: the LEFT JOIN's NULL row is no sender */
    s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg16_primary.rows");
    assert_int_equal(SAMPLE_REPL(s)->nsenders, 0);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg16_replica_pausing.rows");
    r = SAMPLE_REPL(s);
    assert_true(r->replay_paused); /* requested counts: replay is about to stop */
    assert_string_equal(r->pause_state, "pause requested");
    assert_true(isnan(r->last_replay_age_s));
    sample_free(s);
}

static void test_repl_parse_nopriv_and_errors(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_nopriv.rows");
    const struct s_replication *r = SAMPLE_REPL(s);
    assert_null(r->system_identifier);
    assert_non_null(strstr(r->sysid_why, "pg_monitor"));
    assert_int_equal(r->nsenders, 1);
    assert_null(r->senders[0].state); /* hidden */
    assert_string_equal(r->senders[0].application_name, "replica");
    sample_free(s);

    /* a missing column names itself; no rows is an error, not a crash */
    const char *names[] = {"epoch", "in_recovery"};
    struct rowset *rs = rowset_new(2, names);
    struct sample *o = sample_new();
    char err[200] = "";
    assert_int_equal(probe_table[PROBE_REPLICATION]->parse(rs, o, err, sizeof err), -1);
    assert_non_null(strstr(err, "cluster_name"));
    rowset_free(rs);
    struct rowset *full = fixture_rows("repl_pg16_primary.rows");
    struct rowset *empty = rowset_new(full->ncols, (const char *const *)full->names);
    assert_int_equal(probe_table[PROBE_REPLICATION]->parse(empty, o, err, sizeof err), -1);
    assert_null(o->sec[PROBE_REPLICATION]);
    rowset_free(full);
    rowset_free(empty);
    sample_free(o);
}

static void test_repl_sql_by_version(void **state)
{
    (void)state;
    struct server_caps c = {.version = 120000, .pg_monitor = true};
    const char *why = NULL;
    const char *q = probe_table[PROBE_REPLICATION]->sql(&c, NULL, &why);
    assert_non_null(strstr(q, "pg_is_wal_replay_paused"));
    assert_non_null(strstr(q, "pg_control_system"));
    c.version = 140000;
    q = probe_table[PROBE_REPLICATION]->sql(&c, NULL, &why);
    assert_non_null(strstr(q, "pg_get_wal_replay_pause_state"));
    c.pg_monitor = false;
    q = probe_table[PROBE_REPLICATION]->sql(&c, NULL, &why);
    assert_null(strstr(q, "pg_control_system()) AS"));
    assert_null(strstr(q, "pg_control_checkpoint"));
    c.version = 120000;
    assert_non_null(strstr(probe_table[PROBE_WALRECEIVER]->sql(&c, NULL, &why), "received_lsn"));
    c.version = 130000;
    assert_non_null(strstr(probe_table[PROBE_WALRECEIVER]->sql(&c, NULL, &why), "written_lsn"));
    c.version = 120000;
    assert_null(strstr(probe_table[PROBE_SLOTS]->sql(&c, NULL, &why), "wal_status"));
    c.version = 130000;
    assert_non_null(strstr(probe_table[PROBE_SLOTS]->sql(&c, NULL, &why), "safe_wal_size"));
    c.version = 160000;
    assert_non_null(strstr(probe_table[PROBE_SLOTS]->sql(&c, NULL, &why), "conflicting"));
    assert_null(strstr(probe_table[PROBE_SLOTS]->sql(&c, NULL, &why), "invalidation_reason"));
    c.version = 170000;
    assert_non_null(strstr(probe_table[PROBE_SLOTS]->sql(&c, NULL, &why), "invalidation_reason"));
    assert_non_null(strstr(probe_table[PROBE_ARCHIVER]->sql(&c, NULL, &why), "NULL::bigint AS ready_count"));
    c.superuser = true;
    assert_non_null(strstr(probe_table[PROBE_ARCHIVER]->sql(&c, NULL, &why), "pg_ls_archive_statusdir"));
    c.version = 120000;
    const char *sub12 = probe_table[PROBE_SUBSCRIPTIONS]->sql(&c, NULL, &why);
    assert_null(strstr(sub12, "pg_stat_subscription_stats"));
    /* before 14 an ordinary role (pg_monitor too) may not read pg_subscription.oid */
    assert_null(strstr(sub12, "su.oid"));
    assert_non_null(strstr(sub12, "ON s.subname = su.subname AND s.relid IS NULL"));
    c.version = 140000;
    assert_non_null(strstr(probe_table[PROBE_SUBSCRIPTIONS]->sql(&c, NULL, &why), "ON s.subid = su.oid"));
    c.version = 150000;
    assert_non_null(strstr(probe_table[PROBE_SUBSCRIPTIONS]->sql(&c, NULL, &why), "pg_stat_subscription_stats"));
    assert_null(strstr(probe_table[PROBE_SUBSCRIPTIONS]->sql(&c, NULL, &why), "leader_pid"));
    c.version = 160000;
    assert_non_null(strstr(probe_table[PROBE_SUBSCRIPTIONS]->sql(&c, NULL, &why), "leader_pid"));
}

static void test_repl_derive(void **state)
{
    (void)state;
    struct sample *p = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_primary.rows");
    derive_all(NULL, p); /* first sample: no rate, but history starts */
    assert_true(isnan(SAMPLE_REPL(p)->wal_rate));
    assert_int_equal(SAMPLE_REPL(p)->senders[0].hist.n, 1);
    assert_int_equal(SAMPLE_REPL(p)->wal_hist.n, 1);
    struct sample *c = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_primary_t2.rows");
    derive_all(p, c);
    const struct s_replication *r = SAMPLE_REPL(c);
    assert_near(r->wal_rate, 1048576); /* 2 MB over 2 s */
    /* the replica reconnected with a new pid: its history follows it by name and address */
    double v[LAG_RING_N];
    assert_int_equal(lag_ring_values(&r->senders[0].hist, v, LAG_RING_N), 2);
    assert_near(v[0], 13067816);
    assert_near(v[1], 15164968);
    assert_int_equal(r->wal_hist.n, 2);
    assert_int_equal(r->hist.n, 0); /* a primary keeps no replica history of its own */
    sample_free(p);
    sample_free(c);

    /* a replica: local lag is what it received and did not replay */
    p = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_replica_paused.rows");
    derive_all(NULL, p);
    r = SAMPLE_REPL(p);
    assert_near(r->local_lag_b, 0x3CC2298 - 0x304BC70);
    assert_near(r->local_lag_s, 433.335521);
    assert_int_equal(r->hist.n, 1);
    c = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_replica_idle.rows");
    derive_all(p, c);
    r = SAMPLE_REPL(c);
    assert_near(r->local_lag_b, 0);
    assert_near(r->local_lag_s, 0); /* all replayed: an idle primary is not lag */
    assert_true(isnan(r->wal_rate) || r->wal_rate > 0);
    assert_int_equal(r->hist.n, 2);
    assert_int_equal(lag_ring_values(&r->hist, v, LAG_RING_N), 2);
    assert_near(v[0], 0x3CC2298 - 0x304BC70);
    assert_near(v[1], 0);
    /* a role change (promotion) starts over */
    struct sample *q = fixture_parse(NULL, PROBE_REPLICATION, "repl_pg15_primary.rows");
    derive_all(c, q);
    assert_true(isnan(SAMPLE_REPL(q)->wal_rate));
    assert_int_equal(SAMPLE_REPL(q)->hist.n, 0);
    sample_free(p);
    sample_free(c);
    sample_free(q);
}

/* ---- walreceiver ---- */

static void test_walrcv(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_WALRECEIVER, "repl_walrcv_pg15.rows");
    const struct s_walreceiver *w = SAMPLE_WALRCV(s);
    assert_true(w->present);
    assert_int_equal(w->pid, 4810);
    assert_string_equal(w->status, "streaming");
    assert_string_equal(w->sender_host, "127.0.0.1");
    assert_int_equal(w->sender_port, 27378);
    assert_int_equal(w->received_tli, 1);
    assert_true(w->written_lsn == 0x3CC2298 && w->flushed_lsn == 0x3CC2298);
    assert_string_equal(w->slot_name, "replica");
    assert_string_equal(w->app_name, "replica"); /* fallback_application_name = cluster_name */
    assert_near(w->last_msg_age_s, 17.854673);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_WALRECEIVER, "repl_walrcv_pg12.rows");
    w = SAMPLE_WALRCV(s);
    assert_true(w->written_lsn == 0);
    assert_true(w->flushed_lsn == lsn_parse("16/B374D848")); /* 12's received_lsn */
    assert_string_equal(w->app_name, "node2");
    assert_null(w->slot_name);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_WALRECEIVER, "repl_walrcv_none.rows");
    assert_false(SAMPLE_WALRCV(s)->present);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_WALRECEIVER, "repl_walrcv_nopriv.rows");
    w = SAMPLE_WALRCV(s);
    assert_true(w->present);
    assert_null(w->status);
    assert_null(w->app_name);
    sample_free(s);

    /* quoted conninfo values, with a space and an escaped quote */
    const char *names[] = {"pid",         "status",         "sender_host",  "sender_port",    "received_tli",
                           "flushed_lsn", "latest_end_lsn", "last_msg_age", "latest_end_age", "slot_name",
                           "conninfo"};
    const char *row[] = {"7",
                         "streaming",
                         "h",
                         "5432",
                         "1",
                         "0/1",
                         "0/1",
                         "0",
                         "0",
                         NULL,
                         "host=h application_name='it\\'s node 2' port=5432"};
    struct rowset *rs = rowset_new(11, names);
    rowset_add_row(rs, row);
    s = sample_new();
    char err[200];
    assert_int_equal(probe_table[PROBE_WALRECEIVER]->parse(rs, s, err, sizeof err), 0);
    assert_string_equal(SAMPLE_WALRCV(s)->app_name, "it's node 2");
    rowset_free(rs);
    sample_free(s);
}

/* ---- slots ---- */

static void test_slots(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    struct sample *s = fixture_parse(NULL, PROBE_SLOTS, "repl_slots_pg15.rows");
    const struct s_slots *sl = SAMPLE_SLOTS(s);
    assert_int_equal(sl->n, 2);
    assert_true(sl->rows[0].active);
    assert_int_equal(sl->rows[0].active_pid, 4811);
    assert_string_equal(sl->rows[0].wal_status, "reserved");
    assert_int_equal(health_slot(&sl->rows[0], &cfg.th), SEV_OK);
    assert_false(sl->rows[1].active);
    assert_near(sl->rows[1].retained_b, 13097888);
    assert_true(isnan(sl->rows[1].safe_wal_size));
    assert_int_equal(health_slot(&sl->rows[1], &cfg.th), SEV_WARN); /* inactive, keeping WAL */
    cfg.th.repl_lag_bytes = 8 << 20;
    assert_int_equal(health_slot(&sl->rows[1], &cfg.th), SEV_CRIT); /* past the threshold */
    cfg.th.repl_lag_bytes = 16 << 20;
    sample_free(s);

    s = fixture_parse(NULL, PROBE_SLOTS, "repl_slots_pg12.rows");
    sl = SAMPLE_SLOTS(s);
    assert_null(sl->rows[0].wal_status); /* 12 has none */
    assert_string_equal(sl->rows[0].plugin, "pgoutput");
    assert_string_equal(sl->rows[0].database, "orders");
    assert_near(sl->rows[0].confirmed_lag_b, 7657544);
    assert_near(sl->rows[0].xmin_age, 1200);
    assert_int_equal(health_slot(&sl->rows[0], &cfg.th), SEV_OK);
    assert_int_equal(health_slot(&sl->rows[1], &cfg.th), SEV_CRIT); /* 2.8 GB kept by nobody */
    sample_free(s);

    s = fixture_parse(NULL, PROBE_SLOTS, "repl_slots_pg16.rows");
    sl = SAMPLE_SLOTS(s);
    assert_int_equal(sl->n, 5);
    assert_int_equal(health_slot(&sl->rows[0], &cfg.th), SEV_CRIT); /* lost */
    assert_true(isnan(sl->rows[0].retained_b));
    assert_int_equal(health_slot(&sl->rows[1], &cfg.th), SEV_CRIT); /* unreserved */
    assert_near(sl->rows[1].safe_wal_size, -1048576);
    assert_int_equal(health_slot(&sl->rows[2], &cfg.th), SEV_WARN); /* extended */
    assert_true(sl->rows[3].conflicting);
    assert_int_equal(health_slot(&sl->rows[3], &cfg.th), SEV_CRIT);
    assert_true(sl->rows[4].temporary);
    assert_int_equal(health_slot(&sl->rows[4], &cfg.th), SEV_OK);
    sample_free(s);
    config_free(&cfg);
}

/* ---- archiver ---- */

static void test_archiver(void **state)
{
    (void)state;
    struct sample *p = fixture_parse(NULL, PROBE_ARCHIVER, "repl_arch_pg15_failing.rows");
    const struct s_archiver *a = SAMPLE_ARCHIVER(p);
    assert_string_equal(a->archive_mode, "on");
    assert_int_equal(a->archived_count, 10);
    assert_int_equal(a->failed_count, 3);
    assert_string_equal(a->last_failed_wal, "00000001000000000000000A");
    assert_near(a->last_failed_age_s, 10);
    assert_int_equal(a->ready_count, 4);
    assert_true(a->failing);
    derive_all(NULL, p);
    assert_true(isnan(a->failed_rate)); /* first sample */
    struct sample *c = fixture_parse(NULL, PROBE_ARCHIVER, "repl_arch_pg15_failing_t2.rows");
    derive_all(p, c);
    a = SAMPLE_ARCHIVER(c);
    assert_near(a->failed_rate, 0.5);
    assert_near(a->archived_rate, 0);
    struct sample *r = fixture_parse(NULL, PROBE_ARCHIVER, "repl_arch_pg15_reset.rows");
    derive_all(c, r);
    a = SAMPLE_ARCHIVER(r);
    assert_true(isnan(a->failed_rate)); /* stats reset: n/a */
    assert_false(a->failing);
    assert_null(a->last_failed_wal);
    sample_free(p);
    sample_free(c);
    sample_free(r);

    p = fixture_parse(NULL, PROBE_ARCHIVER, "repl_arch_pg12_ok.rows");
    a = SAMPLE_ARCHIVER(p);
    assert_false(a->failing); /* archived since the last failure */
    assert_int_equal(a->ready_count, -1);
    assert_null(a->stats_reset);
    sample_free(p);
}

/* ---- subscriptions ---- */

static void test_subscriptions(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_SUBSCRIPTIONS, "repl_subs_pg15.rows");
    const struct s_subscriptions *b = SAMPLE_SUBS(s);
    assert_int_equal(b->npubs, 2);
    assert_string_equal(b->pubs[0].name, "pub_all");
    assert_true(b->pubs[0].all_tables);
    assert_int_equal(b->pubs[1].tables, 3);
    assert_int_equal(b->nsubs, 2);
    assert_false(b->subs[0].enabled);
    assert_int_equal(b->subs[0].pid, 0);
    assert_string_equal(b->subs[1].name, "sub_orders");
    assert_string_equal(b->subs[1].database, "orders");
    assert_int_equal(b->subs[1].pid, 4242);
    assert_true(b->subs[1].received_lsn == 0x3000060);
    assert_int_equal(b->subs[1].sync_workers, 2);
    assert_int_equal(b->subs[1].apply_errors, 1);
    assert_near(b->subs[1].last_msg_age_s, 0.4);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_SUBSCRIPTIONS, "repl_subs_pg12.rows");
    b = SAMPLE_SUBS(s);
    assert_int_equal(b->nsubs, 1);
    assert_int_equal(b->subs[0].apply_errors, -1); /* unknown before 15 */
    assert_true(isnan(b->subs[0].last_msg_age_s));
    sample_free(s);

    s = fixture_parse(NULL, PROBE_SUBSCRIPTIONS, "repl_subs_empty.rows");
    assert_int_equal(SAMPLE_SUBS(s)->nsubs + SAMPLE_SUBS(s)->npubs, 0);
    sample_free(s);
}

/* ---- clusters over a fake model ---- */

struct fake {
    struct model m;
    struct config cfg;
    struct server_conf conf[16];
};

static struct fake *fake_new(void)
{
    struct fake *f = xcalloc(1, sizeof *f);
    config_init(&f->cfg);
    f->m.cfg = &f->cfg;
    f->m.servers = xcalloc(16, sizeof *f->m.servers);
    return f;
}

/* A server with a sample made of (probe, fixture) pairs; NULL fixture list: no sample. */
static size_t fake_add(struct fake *f, const char *name, enum target_kind kind, enum srv_status st, ...)
{
    size_t i = f->m.n++;
    struct server *s = &f->m.servers[i];
    f->conf[i].name = (char *)name;
    s->conf = &f->conf[i];
    s->kind = kind;
    s->status = st;
    if (st == SRV_DOWN)
        snprintf(s->reason, sizeof s->reason, "connection refused");
    va_list ap;
    va_start(ap, st);
    const char *fx;
    while ((fx = va_arg(ap, const char *))) {
        enum probe_id id = strncmp(fx, "repl_walrcv", 11) == 0 ? PROBE_WALRECEIVER
            : strncmp(fx, "repl_slots", 10) == 0               ? PROBE_SLOTS
            : strncmp(fx, "repl_arch", 9) == 0                 ? PROBE_ARCHIVER
            : strncmp(fx, "repl_subs", 9) == 0                 ? PROBE_SUBSCRIPTIONS
                                                               : PROBE_REPLICATION;
        if (!s->cur)
            s->cur = sample_new();
        fixture_parse(s->cur, id, fx);
    }
    va_end(ap);
    if (s->cur)
        derive_all(NULL, s->cur);
    return i;
}

static void fake_free(struct fake *f)
{
    for (size_t i = 0; i < f->m.n; i++)
        sample_free(f->m.servers[i].cur);
    free(f->m.servers);
    config_free(&f->cfg);
    free(f);
}

static void test_cluster_cascade(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    /* config order on purpose: the cascaded replica first, a pooler, the primary last */
    size_t n3 =
        fake_add(f, "node3", KIND_POSTGRES, SRV_UP, "repl_pg12_node3.rows", "repl_walrcv_pg12_node3.rows", NULL);
    fake_add(f, "bouncer", KIND_PGBOUNCER, SRV_UP, NULL);
    size_t n2 = fake_add(f, "node2", KIND_POSTGRES, SRV_UP, "repl_pg12_replica.rows", "repl_walrcv_pg12.rows", NULL);
    size_t n1 = fake_add(f, "node1", KIND_POSTGRES, SRV_UP, "repl_pg12_primary.rows", "repl_slots_pg12.rows",
                         "repl_arch_pg15_failing.rows", NULL);
    size_t lone = fake_add(f, "lonely", KIND_POSTGRES, SRV_UP, "repl_pg15_nopriv.rows", NULL);
    size_t down = fake_add(f, "gone", KIND_POSTGRES, SRV_DOWN, NULL);

    struct repl_cluster *cs;
    size_t nc = repl_clusters(&f->m, -1, &cs);
    assert_int_equal(nc, 3); /* the cluster, lonely, gone; the pooler is no PostgreSQL server */
    const struct repl_cluster *c = &cs[0];
    assert_string_equal(c->sysid, "6900000000000000001");
    assert_int_equal(c->nprimaries, 1);
    assert_int_equal(c->n, 3);
    /* tree order: primary, its replica, the replica's replica */
    assert_int_equal(c->nodes[0].server, n1);
    assert_int_equal(c->nodes[0].depth, 0);
    assert_int_equal(c->nodes[1].server, n2);
    assert_int_equal(c->nodes[1].upstream, 0);
    assert_int_equal(c->nodes[1].sender, 0); /* row "node2" of node1 */
    assert_int_equal(c->nodes[1].depth, 1);
    assert_int_equal(c->nodes[2].server, n3);
    assert_int_equal(c->nodes[2].upstream, 1);
    assert_int_equal(c->nodes[2].sender, 0); /* row "node3" of node2 */
    assert_int_equal(c->nodes[2].depth, 2);
    assert_true(repl_sender_claimed(c, 0, 0));
    assert_false(repl_sender_claimed(c, 0, 1)); /* pg_basebackup: a stranger */
    assert_false(repl_sender_claimed(c, 0, 2)); /* the logical walsender */
    assert_null(cs[1].sysid);
    assert_int_equal(cs[1].nodes[0].server, lone);
    assert_non_null(strstr(cs[1].why, "pg_monitor"));
    assert_int_equal(cs[2].nodes[0].server, down);
    assert_string_equal(cs[2].why, "connection refused");

    /* lag against the primary's current LSN */
    struct repl_lag l;
    repl_node_lag(&f->m, c, 1, &l);
    assert_true(l.from_primary);
    assert_near(l.bytes, 0xD848);
    assert_near(l.seconds, 0.8); /* history too short: the replica's own estimate stands */
    assert_true(l.hist == &SAMPLE_REPL(f->m.servers[n1].cur)->senders[0].hist);
    repl_node_lag(&f->m, c, 2, &l);
    assert_near(l.bytes, 0);
    assert_near(l.seconds, 0);
    repl_node_lag(&f->m, c, 0, &l); /* a primary has no lag */
    assert_true(isnan(l.bytes));

    /* the Fleet pane's figures */
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n1]), 0xD848);
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n2]), 0xD848);
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n3]), 0);
    assert_near(repl_lag_seconds(&f->m, &f->m.servers[n1]), 0.8);
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[down])));
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[1]))); /* the pooler */
    assert_int_equal(archiver_failing(&f->m.servers[n1]), 1);
    assert_int_equal(archiver_failing(&f->m.servers[n2]), 0);
    repl_clusters_free(cs, nc);

    /* scope: only the scoped server's cluster */
    nc = repl_clusters(&f->m, (long)n3, &cs);
    assert_int_equal(nc, 1);
    assert_int_equal(cs[0].n, 3);
    assert_int_equal(repl_cluster_find(&cs[0], n3), 2);
    assert_int_equal(repl_cluster_find(&cs[0], lone), -1);
    repl_clusters_free(cs, nc);
    nc = repl_clusters(&f->m, 1, &cs); /* the pooler */
    assert_int_equal(nc, 0);
    repl_clusters_free(cs, nc);

    /* memoised per generation of the model (as sched_init sets it up): the same figures, not
     * redone until the generation moves */
    double bytes[8], secs[8];
    struct lag_memo memo = {.bytes = bytes, .seconds = secs};
    f->m.lag_memo = &memo;
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n2]), 0xD848);
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n1]), 0xD848);
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n3]), 0);
    assert_near(repl_lag_seconds(&f->m, &f->m.servers[n1]), 0.8);
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[down])));
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[1])));
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[lone])));
    f->m.servers[n2].status = SRV_DOWN;
    assert_near(repl_worst_lag_bytes(&f->m, &f->m.servers[n2]), 0xD848); /* same generation */
    f->m.generation++;
    assert_true(isnan(repl_worst_lag_bytes(&f->m, &f->m.servers[n2])));
    f->m.servers[n2].status = SRV_UP;
    f->m.generation++;
    f->m.lag_memo = NULL;

    /* the primary goes down: its replicas fall back to what they received themselves */
    f->m.servers[n1].status = SRV_DOWN;
    nc = repl_clusters(&f->m, -1, &cs);
    repl_node_lag(&f->m, &cs[0], (size_t)repl_cluster_find(&cs[0], n2), &l);
    assert_false(l.from_primary);
    assert_near(l.bytes, 0xD848); /* received 16/B374D848, replayed 16/B3740000 */
    assert_int_equal(archiver_failing(&f->m.servers[n1]), 0);
    repl_clusters_free(cs, nc);
    fake_free(f);
}

static void test_cluster_lab_pair(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    size_t p = fake_add(f, "primary", KIND_POSTGRES, SRV_UP, "repl_pg15_primary.rows", "repl_slots_pg15.rows", NULL);
    size_t r =
        fake_add(f, "replica", KIND_POSTGRES, SRV_UP, "repl_pg15_replica_paused.rows", "repl_walrcv_pg15.rows", NULL);
    /* a second primary sample: the WAL position history grows */
    struct sample *t2 = sample_new();
    fixture_parse(t2, PROBE_REPLICATION, "repl_pg15_primary_t2.rows");
    derive_all(f->m.servers[p].cur, t2);
    sample_free(f->m.servers[p].cur);
    f->m.servers[p].cur = t2;

    struct repl_cluster *cs;
    size_t nc = repl_clusters(&f->m, -1, &cs);
    assert_int_equal(nc, 1);
    assert_int_equal(cs[0].nodes[1].server, r);
    assert_int_equal(cs[0].nodes[1].sender, 0); /* slot, name, address and port all agree */
    struct repl_lag l;
    repl_node_lag(&f->m, &cs[0], 1, &l);
    assert_near(l.bytes, 0x3EC2298 - 0x304BC70);
    /* the replay position is older than the primary's history (2 s): the age of the last
     * replayed commit (433 s, replay is paused) is the better figure */
    assert_near(l.seconds, 433.335521);
    assert_int_equal(health_lag(l.bytes, l.seconds, &f->cfg.th), SEV_CRIT);
    repl_clusters_free(cs, nc);
    /* health judges the primary by its worst replica and the replica by its own lag: the same */
    fixture_parse(f->m.servers[p].cur, PROBE_SERVER, "server_pg15.rows");
    fixture_parse(f->m.servers[r].cur, PROBE_SERVER, "server_pg15.rows");
    struct health hp, hr;
    health_of(&f->m, &f->m.servers[p], &hp);
    health_of(&f->m, &f->m.servers[r], &hr);
    assert_near(hp.in.lag_bytes, l.bytes);
    assert_near(hr.in.lag_bytes, l.bytes);
    assert_int_equal(hp.v[HF_LAG].level, SEV_CRIT);
    assert_int_equal(hr.v[HF_LAG].level, SEV_CRIT);

    /* with a long history the primary's own clock says when it passed the replay position */
    struct s_replication *pr = f->m.servers[p].cur->sec[PROBE_REPLICATION];
    memset(&pr->wal_hist, 0, sizeof pr->wal_hist);
    lsn_hist_push(&pr->wal_hist, pr->epoch - 60, 0x3000000);
    lsn_hist_push(&pr->wal_hist, pr->epoch - 40, 0x3100000); /* first past 0/304BC70 */
    lsn_hist_push(&pr->wal_hist, pr->epoch, 0x3EC2298);
    nc = repl_clusters(&f->m, -1, &cs);
    repl_node_lag(&f->m, &cs[0], 1, &l);
    assert_near(l.seconds, 40);
    repl_clusters_free(cs, nc);
    fake_free(f);
}

static void test_cluster_split_and_loops(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    /* two primaries with one identifier (split brain) */
    size_t a = fake_add(f, "a", KIND_POSTGRES, SRV_UP, "repl_pg15_primary.rows", NULL);
    size_t b = fake_add(f, "b", KIND_POSTGRES, SRV_UP, "repl_pg15_primary_t2.rows", NULL);
    /* two replicas of another cluster, each listing the other as its replica (bad data) */
    size_t x = fake_add(f, "x", KIND_POSTGRES, SRV_UP, "repl_pg12_replica.rows", NULL);
    size_t y = fake_add(f, "y", KIND_POSTGRES, SRV_UP, "repl_pg12_node3.rows", NULL);
    struct s_replication *ry = f->m.servers[y].cur->sec[PROBE_REPLICATION];
    free(ry->cluster_name);
    ry->cluster_name = xstrdup("node3");
    free(ry->senders);
    ry->senders = xcalloc(1, sizeof *ry->senders);
    ry->nsenders = 1;
    ry->senders[0].application_name = xstrdup("node2"); /* x's cluster_name */
    ry->senders[0].replay_lag_b = NAN;
    struct repl_cluster *cs;
    size_t nc = repl_clusters(&f->m, -1, &cs);
    assert_int_equal(nc, 2);
    assert_int_equal(cs[0].nprimaries, 2);
    assert_int_equal(cs[0].nodes[0].server, a);
    assert_int_equal(cs[0].nodes[1].server, b);
    assert_int_equal(cs[1].nprimaries, 0);
    assert_int_equal(cs[1].n, 2); /* each once, no hang */
    assert_true(cs[1].nodes[0].upstream < 0);
    assert_true((cs[1].nodes[0].server == x && cs[1].nodes[1].server == y) ||
                (cs[1].nodes[0].server == y && cs[1].nodes[1].server == x));
    struct repl_lag l;
    repl_node_lag(&f->m, &cs[1], 1, &l);
    assert_false(l.from_primary); /* no primary in the fleet: the replica's own figure */
    repl_clusters_free(cs, nc);
    fake_free(f);
}

/* ---- sparkline ---- */

static void test_spark(void **state)
{
    (void)state;
    char b[256];
    double v[] = {0, 1, 2, NAN, 8};
    assert_string_equal(spark_text(b, sizeof b, v, 5, 10, 0, false), "_.- #");
    assert_string_equal(spark_text(b, sizeof b, v, 5, 2, 0, false), " #"); /* the newest 2 */
    assert_string_equal(spark_text(b, sizeof b, v, 5, 10, 0, true),
                        "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83 \xe2\x96\x88");
    assert_string_equal(spark_text(b, sizeof b, v, 5, 10, 80, false), "_.. ."); /* fixed scale */
    double zero[] = {0, 0, 0};
    assert_string_equal(spark_text(b, sizeof b, zero, 3, 10, 0, false), "___");
    assert_string_equal(spark_text(b, sizeof b, v, 0, 10, 0, false), "");
    assert_string_equal(spark_text(b, 4, v, 5, 10, 0, true), "\xe2\x96\x81"); /* cut on a whole block */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsn),
        cmocka_unit_test(test_lag_ring),
        cmocka_unit_test(test_lsn_hist),
        cmocka_unit_test(test_repl_parse_pg15_primary),
        cmocka_unit_test(test_repl_parse_pg12_and_pg16),
        cmocka_unit_test(test_repl_parse_nopriv_and_errors),
        cmocka_unit_test(test_repl_sql_by_version),
        cmocka_unit_test(test_repl_derive),
        cmocka_unit_test(test_walrcv),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_archiver),
        cmocka_unit_test(test_subscriptions),
        cmocka_unit_test(test_cluster_cascade),
        cmocka_unit_test(test_cluster_lab_pair),
        cmocka_unit_test(test_cluster_split_and_loops),
        cmocka_unit_test(test_spark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
