/* health.h — the one severity scale every figure is judged on (OK/WARN/CRIT), shared by the
 * model, the panes and the snapshot. Pure: no curses, no libpq. */
#ifndef PGFLEET_HEALTH_H
#define PGFLEET_HEALTH_H

enum sev { SEV_NONE, SEV_OK, SEV_WARN, SEV_CRIT, SEV_DIM };

#endif
