/* testutil.c — fixture helpers shared by the cmocka unit tests (see testutil.h); built once and
 * linked into every tests/unit/test_*.c binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "testutil.h"

char *fixture_path(const char *sub, const char *name)
{
    const char *dir = getenv("PGFLEET_TESTDATA");
    if (!dir || !*dir)
        dir = "tests/data";
    return xasprintf("%s/%s/%s", dir, sub, name);
}

char *fixture_text(const char *name)
{
    char *path = fixture_path("probes", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot open fixture %s", path);
        free(path);
        fail_msg("%s", msg);
    }
    free(path);
    struct text t;
    text_init(&t);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        text_addn(&t, buf, n);
    fclose(f);
    return t.s ? t.s : xstrdup("");
}

struct rowset *fixture_rows(const char *name)
{
    char *text = fixture_text(name);
    const char *err = NULL;
    struct rowset *rs = rowset_parse_text(text, &err);
    free(text);
    if (!rs)
        fail_msg("fixture %s: %s", name, err ? err : "?");
    assert_null(err);
    return rs;
}

struct sample *fixture_parse(struct sample *s, enum probe_id id, const char *name)
{
    struct rowset *rs = fixture_rows(name);
    struct sample *own = s ? NULL : sample_new();
    if (own)
        s = own;
    char err[300] = "";
    /* a section derived from the sessions section: the fixture is sessions rows, as shown */
    enum probe_id pid = probe_table[id]->parse ? id : PROBE_SESSIONS;
    if (s->sec[pid] && probe_table[pid]->free_section)
        probe_table[pid]->free_section(s->sec[pid]);
    s->sec[pid] = NULL;
    int rc = probe_table[pid]->parse(rs, s, err, sizeof err);
    rowset_free(rs);
    if (rc != 0) {
        sample_free(own);
        fail_msg("parsing %s: %s", name, err);
    }
    if (pid != id) {
        ((struct s_sessions *)s->sec[pid])->with_idle = true;
        probe_table[id]->derive(NULL, s);
    }
    assert_non_null(s->sec[id]);
    return s;
}

struct sample *fixture_pair(enum probe_id id, const char *prev_name, const char *cur_name)
{
    struct sample *p = fixture_parse(NULL, id, prev_name);
    struct sample *c = fixture_parse(NULL, id, cur_name);
    probe_table[id]->derive(p, c);
    sample_free(p);
    return c;
}

void fixture_parse_fails(enum probe_id id, const char *name, char *err, size_t errlen)
{
    struct rowset *rs = fixture_rows(name);
    struct sample *s = sample_new();
    err[0] = '\0';
    enum probe_id pid = probe_table[id]->parse ? id : PROBE_SESSIONS;
    int rc = probe_table[pid]->parse(rs, s, err, errlen);
    void *sec = s->sec[pid];
    rowset_free(rs);
    sample_free(s);
    assert_int_equal(rc, -1);
    assert_null(sec);
}

struct world *world_new(size_t n)
{
    struct world *w = xcalloc(1, sizeof *w);
    config_init(&w->cfg);
    w->cfg.servers = xcalloc(n, sizeof *w->cfg.servers);
    w->cfg.nservers = n;
    w->m.cfg = &w->cfg;
    w->m.n = n;
    w->m.servers = xcalloc(n, sizeof *w->m.servers);
    for (size_t i = 0; i < n; i++) {
        w->m.servers[i].conf = &w->cfg.servers[i];
        w->m.servers[i].kind = KIND_POSTGRES;
        w->m.servers[i].status = SRV_UP;
    }
    return w;
}

void world_free(struct world *w)
{
    for (size_t i = 0; i < w->m.n; i++) {
        sample_free(w->m.servers[i].cur);
        sample_free(w->m.servers[i].prev);
        caps_free(&w->m.servers[i].caps);
    }
    free(w->m.servers);
    model_restore_free(&w->m);
    config_free(&w->cfg);
    free(w);
}
