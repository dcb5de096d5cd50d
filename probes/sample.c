/* sample.c — the life cycle of a sample (one tick's sections) and the counter maths that the
 * probes' derive steps share. */
#include "probes/sample.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"

struct sample *sample_new(void) { return xcalloc(1, sizeof(struct sample)); }

void sample_free(struct sample *s)
{
    if (!s)
        return;
    for (int i = 0; i < PROBE_MAX; i++) {
        if (s->sec[i] && probe_table[i]->free_section)
            probe_table[i]->free_section(s->sec[i]);
        free(s->err[i]);
    }
    free(s);
}

double counter_rate(int64_t prev, int64_t cur, double dt)
{
    if (!(dt > 0) || cur < prev)
        return NAN;
    return (double)(cur - prev) / dt;
}
