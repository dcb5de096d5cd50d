/* testutil.h — helpers shared by the cmocka unit tests (tests/unit/test_*.c): where fixtures
 * live ($PGFLEET_TESTDATA, default tests/data, run from the top), reading one, parsing a probe
 * fixture into a rowset or into a sample, and a fleet model built by hand. The fixture helpers
 * fail the running test when a fixture is missing or does not parse; include after <cmocka.h>. */
#ifndef PGFLEET_TESTUTIL_H
#define PGFLEET_TESTUTIL_H

#include <stddef.h>

#include "core/config.h"
#include "core/rowset.h"
#include "probes/model.h"
#include "probes/probe.h"
#include "probes/sample.h"

/* $PGFLEET_TESTDATA/SUB/NAME (tests/data when the variable is unset or empty); malloc'd. */
char *fixture_path(const char *sub, const char *name);

/* The whole text of the probe fixture NAME (under probes/), malloc'd. */
char *fixture_text(const char *name);

/* The probe fixture NAME parsed with rowset_parse_text. */
struct rowset *fixture_rows(const char *name);

/* Parses the probe fixture NAME with probe ID's parser into S (into a new sample when S is
 * NULL) and returns S; the parse must succeed and fill the section of ID. A section derived
 * from the sessions section (no parser of its own) takes a fixture of sessions rows, parsed as
 * such with idle sessions shown, then ID's derive step. */
struct sample *fixture_parse(struct sample *s, enum probe_id id, const char *name);

/* Two probe fixtures of probe ID parsed into new samples, then ID's derive(prev, cur): returns
 * cur; prev is freed. */
struct sample *fixture_pair(enum probe_id id, const char *prev_name, const char *cur_name);

/* Parses the probe fixture NAME with probe ID's parser (the sessions parser for a derived
 * section) into a new sample: the parse must fail
 * and leave no section; its error message goes to ERR. */
void fixture_parse_fails(enum probe_id id, const char *name, char *err, size_t errlen);

/* A fleet built by hand for the tests of views and panes: a configuration and the model over it. */
struct world {
    struct config cfg;
    struct model m;
};

/* A world of n servers, every one a PostgreSQL server UP, without samples; the configured
 * servers' names and conninfo are left to the test. */
struct world *world_new(size_t n);

/* Frees w with what its servers hold (samples, capabilities) and its configuration. */
void world_free(struct world *w);

#endif
