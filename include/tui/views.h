/* views.h — what the Fleet and Activity tables show, as plain escaped strings with a severity
 * per cell: shared by the TUI panes and the text snapshot so both say exactly the same thing.
 * Pure functions over the model; sorting and filtering of the activity list live here too. */
#ifndef PGFLEET_VIEWS_H
#define PGFLEET_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/health.h"
#include "probes/model.h"

#define CELL_MAX 256

struct colspec {
    const char *title;
    int width;  /* preferred width; the flex column takes what is left */
    int prio;   /* columns with a lower priority are dropped first when the screen is narrow */
    bool right; /* numbers are right-aligned */
    bool flex;
    bool numeric;  /* sorts as a number */
    bool keep;     /* never dropped: when the kept columns do not fit, the table says the
                   * terminal is too small instead */
    bool optional; /* left out when every cell of it is empty (a feature not in use) */
};

enum fleet_col {
    FC_SERVER,
    FC_ROLE,
    FC_VERSION,
    FC_STATUS,
    FC_CONNS,
    FC_ACTIVE,
    FC_WAITING,
    FC_IDLEX,
    FC_LONGEST,
    FC_LAG,
    FC_TPS,
    FC_HIT,
    FC_WAL,
    FC_PROGRESS,
    FC_RESTORE,
    FC_TAGS,
    FC_REASON,
    FC_N
};
extern const struct colspec fleet_cols[FC_N];

enum act_col {
    AC_SERVER,
    AC_PID,
    AC_DB,
    AC_USER,
    AC_APP,
    AC_CLIENT,
    AC_STATE,
    AC_WAIT,
    AC_XACT,
    AC_QAGE,
    AC_QUERY,
    AC_N
};
extern const struct colspec act_cols[AC_N];

typedef char cell_t[CELL_MAX];

/* Fleet: the servers' order is fleet_order (probes/model.h). */
void fleet_cells(const struct model *m, const struct server *s, cell_t *cells, enum sev *sev);
/* The servers the Fleet lists, worst first, into order (m->n + 1 entries): with a filter (NULL
 * or "" for all), those with a cell or a tag that holds it. Returns how many. */
size_t fleet_view(const struct model *m, const char *filter, size_t *order);

/* Activity: the visible rows of all servers (or one), filtered and sorted. */
struct act_ref {
    size_t server, row;
};
struct act_query {
    const char *filter; /* case-insensitive substring of any cell or a tag of its server; NULL or "" for all */
    long scope;         /* server index, or -1 for every server */
    int sort_col;       /* enum act_col */
    bool desc;
    bool idle; /* include idle sessions */
};
size_t act_view(const struct model *m, const struct act_query *q, struct act_ref **out);
const struct activity_row *act_row(const struct model *m, const struct act_ref *r);
void act_cells(const struct model *m, const struct act_ref *r, cell_t *cells, enum sev *sev);

/* Case-insensitive substring test (filters). */
bool contains_ci(const char *hay, const char *needle);
/* The filter matches the server's name or one of its tags (a row of a server matches when its
 * own cells do or its server does). */
bool server_matches(const struct server *s, const char *filter);

#endif
