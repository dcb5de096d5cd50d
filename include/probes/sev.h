/* sev.h — the levels every figure is judged at (health.h decides which), and the dimmed style
 * of text that is not a judgement. Its own header so a section header can hold a level without
 * pulling the whole policy in. */
#ifndef PGFLEET_SEV_H
#define PGFLEET_SEV_H

enum sev { SEV_NONE, SEV_OK, SEV_WARN, SEV_CRIT, SEV_DIM };

#endif
