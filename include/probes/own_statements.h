/* own_statements.h — telling pgfleet's own probe statements among pg_stat_statements' entries by
 * what PostgreSQL keeps of them on every version: the normalised text. pg_stat_statements stores
 * a statement's text with its constants replaced by $1, $2…; which constants (NULL, booleans,
 * a minus sign, a list squashed to one on 18) and whether a leading comment is kept (not on 18)
 * vary with the version. A shape that maps every constant to one '?' and drops comments is the
 * same for the text pgfleet sent and for what any version stored of it. */
#ifndef PGFLEET_OWN_STATEMENTS_H
#define PGFLEET_OWN_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>

/* How much of an entry's text is needed to tell it (the statements probe sends that much of the
 * text of every entry of our own role in our own database). */
#define OWN_HEAD_CHARS 200
/* A cut text must keep at least this much of its shape to be taken for one of ours. */
#define OWN_MIN_PREFIX 40

/* The shape of an SQL text, malloc'd: comments (block comments, nested, and -- lines) dropped;
 * each constant (a string in any quoting, a number, $n, NULL, TRUE, FALSE, EXTRACT's field) one
 * '?', its minus sign dropped; a comma-separated run of '?' one '?'; a trailing ';' dropped;
 * whitespace kept as one space where two words meet, dropped elsewhere. Identifiers and keywords
 * keep their case. */
char *stmt_shape(const char *text);

/* The shapes of the texts pgfleet sends to one server. */
struct own_shapes {
    char **shape;
    size_t n;
};

void own_shapes_init(struct own_shapes *o, const char *const *texts, size_t n);
void own_shapes_free(struct own_shapes *o);
/* The same, kept for the next call with the same texts (their contents, not their addresses): the
 * statements probe asks for them on each of its ticks of every server, and shaping the texts
 * was most of its cost. Valid until the call after next with other texts; never free it. */
const struct own_shapes *own_shapes_cached(const char *const *texts, size_t n);

/* True when the stored text (cut: only its beginning, as much as was fetched) is one of the
 * texts': the same shape, or for a cut text the beginning of one (up to its last whitespace,
 * so that no token is cut; at least OWN_MIN_PREFIX characters of shape). */
bool own_shapes_match(const struct own_shapes *o, const char *stored, bool cut);

#endif
