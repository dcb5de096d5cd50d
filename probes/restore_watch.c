/* restore_watch.c — the model's copy of the restore tests' record (model.h: struct
 * restore_watch): loaded when the loop starts, reloaded when the file changed, which one stat()
 * per refresh interval tells (size, mtime, inode), never a read per frame; whether the fleet is
 * judged on restore tests at all (some server of it has a record). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "probes/model.h"
#include "probes/restore_record.h"

void model_restore_set_book(struct model *m, struct restore_book *b)
{
    restore_book_free(m->restore.book);
    m->restore.book = b;
    m->restore.judged = false;
    for (size_t i = 0; b && i < m->n && !m->restore.judged; i++)
        m->restore.judged = m->servers[i].kind != KIND_PGBOUNCER && restore_book_get(b, m->servers[i].conf->name);
    m->generation++;
}

/* Stat the file: whether it differs from what was read last (and remember what it is now). */
static bool changed(struct restore_watch *w)
{
    struct stat st;
    bool exists = w->path && stat(w->path, &st) == 0;
    int64_t size = exists ? (int64_t)st.st_size : 0;
    int64_t mt = exists ? (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec : 0;
    uint64_t ino = exists ? (uint64_t)st.st_ino : 0;
    bool diff = exists != w->seen_exists || size != w->seen_size || mt != w->seen_mtime_ns || ino != w->seen_ino;
    w->seen_exists = exists, w->seen_size = size, w->seen_mtime_ns = mt, w->seen_ino = ino;
    return diff;
}

void model_restore_reload(struct model *m)
{
    struct restore_watch *w = &m->restore;
    if (!w->on)
        return;
    changed(w);
    char err[sizeof w->err] = "";
    struct restore_book *b = restore_book_load(w->path, err, sizeof err);
    snprintf(w->err, sizeof w->err, "%s", err);
    if (b) /* on a read error the previous book stays */
        model_restore_set_book(m, b);
}

void model_restore_watch(struct model *m, char *path)
{
    model_restore_free(m);
    m->restore.on = true;
    m->restore.path = path;
    m->restore.checked_ms = now_ms();
    model_restore_reload(m);
}

bool model_restore_poll(struct model *m, int64_t now)
{
    struct restore_watch *w = &m->restore;
    if (!w->on || m->paused || now - w->checked_ms < m->refresh_ms)
        return false; /* frozen by the user: the screen holds still, this column too */
    w->checked_ms = now;
    if (!changed(w))
        return false;
    unsigned gen = m->generation;
    model_restore_reload(m);
    return gen != m->generation;
}

void model_restore_free(struct model *m)
{
    restore_book_free(m->restore.book);
    free(m->restore.path);
    memset(&m->restore, 0, sizeof m->restore);
}

const struct restore_status *model_restore_status(const struct model *m, const struct server *s)
{
    return m->restore.book ? restore_book_get(m->restore.book, s->conf->name) : NULL;
}
