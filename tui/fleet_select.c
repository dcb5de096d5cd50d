/* fleet_select.c — --server NAME and --tag TAG: keep the servers and poolers they choose, and the
 * poolers in front of a kept server (the Connections pane shows them under it). */
#include "tui/fleet_select.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool in(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, v[i]) == 0)
            return true;
    return false;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Every name (servers, then poolers) or every tag of cfg, for "did you mean". */
static const char **words_of(const struct config *cfg, bool tags, size_t *n)
{
    size_t cap = cfg->nservers + cfg->npoolers + 1;
    for (size_t i = 0; tags && i < cfg->nservers; i++)
        cap += cfg->servers[i].ntags;
    const char **v = xcalloc(cap, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < cfg->nservers; i++) {
        if (!tags)
            v[(*n)++] = cfg->servers[i].name;
        for (size_t t = 0; tags && t < cfg->servers[i].ntags; t++)
            if (!in(cfg->servers[i].tags[t], v, *n))
                v[(*n)++] = cfg->servers[i].tags[t];
    }
    for (size_t i = 0; !tags && i < cfg->npoolers; i++)
        v[(*n)++] = cfg->poolers[i].name;
    return v;
}

/* A name or tag nothing has: one line, with the nearest one that exists. */
static int unknown(const struct config *cfg, bool tag, const char *what, struct text *err)
{
    size_t n;
    const char **v = words_of(cfg, tag, &n);
    const char *near = nearest_word(what, v, n);
    char *e = esc(what, 1), *f = esc(cfg->path ? cfg->path : "the command line", 1);
    text_printf(err, "pgfleet: %s %s: %s %s%s%s%s\n", tag ? "--tag" : "--server", e,
                tag ? "no server has this tag in" : "no such server or pooler in", f, near ? " (did you mean \"" : "",
                near ? near : "", near ? "\"?)" : "");
    free(e);
    free(f);
    free(v);
    return -1;
}

static bool tagged(const struct server_conf *s, const char *const *tags, size_t ntags)
{
    for (size_t t = 0; t < s->ntags; t++)
        if (in(s->tags[t], tags, ntags))
            return true;
    return false;
}

int fleet_select(struct config *cfg, char *const *names, size_t nnames, const char *const *tags, size_t ntags,
                 struct text *err)
{
    if (!nnames && !ntags)
        return 0;
    const char *const *nv = (const char *const *)names;
    for (size_t k = 0; k < nnames; k++) {
        bool found = false;
        for (size_t i = 0; i < cfg->nservers; i++)
            found |= strcmp(cfg->servers[i].name, names[k]) == 0;
        for (size_t i = 0; i < cfg->npoolers; i++)
            found |= strcmp(cfg->poolers[i].name, names[k]) == 0;
        if (!found)
            return unknown(cfg, false, names[k], err);
    }
    for (size_t k = 0; k < ntags; k++) {
        bool found = false;
        for (size_t i = 0; i < cfg->nservers; i++)
            found |= tagged(&cfg->servers[i], &tags[k], 1);
        if (!found)
            return unknown(cfg, true, tags[k], err);
    }
    size_t o = 0;
    for (size_t i = 0; i < cfg->nservers; i++) {
        struct server_conf *s = &cfg->servers[i];
        if (in(s->name, nv, nnames) || tagged(s, tags, ntags)) {
            cfg->servers[o++] = *s;
        } else {
            free(s->name);
            free(s->conninfo);
            free_strv(s->tags, s->ntags);
        }
    }
    cfg->nservers = o;
    o = 0;
    for (size_t i = 0; i < cfg->npoolers; i++) {
        struct pooler_conf *p = &cfg->poolers[i];
        bool keep = in(p->name, nv, nnames);
        for (size_t k = 0; !keep && k < p->nserves; k++)
            for (size_t s = 0; !keep && s < cfg->nservers; s++)
                keep = strcmp(p->serves[k], cfg->servers[s].name) == 0;
        if (keep) {
            cfg->poolers[o++] = *p;
        } else {
            free(p->name);
            free(p->conninfo);
            free_strv(p->serves, p->nserves);
        }
    }
    cfg->npoolers = o;
    return 0;
}
