/* A migrated store for tests, on the driver the test case names:
 * "sqlite" (a temporary file) or "postgres" (the server of the PG*
 * environment, emptied first; absent: the case is skipped). */
#ifndef OX_TEST_STORE_FIXTURE_H
#define OX_TEST_STORE_FIXTURE_H

#include "store/store.h"

#include <glib.h>

struct store_fixture {
	struct store *store;
	char *dir;
};

void store_fixture_setup(struct store_fixture *f, gconstpointer driver);
void store_fixture_teardown(struct store_fixture *f, gconstpointer driver);
/* True when the case must skip (no PostgreSQL); has called g_test_skip. */
bool store_fixture_skip(struct store_fixture *f);
/* Every row of every table as text, to prove a failed call changed
 * nothing. Caller frees. */
char *store_fixture_snapshot(struct store *s);
/* A user of the context that owns the login's domain, with the login as
 * display name and password "pw": its principal id. Aborts on failure. */
int64_t store_fixture_user(struct store *s, const char *login);
/* Context "acme" (example.org) with alice@example.org and bob@example.org. */
void store_fixture_alice_bob(struct store *s, int64_t *alice_r, int64_t *bob_r);
/* Adds one case per driver: /PREFIX/sqlite/NAME and /PREFIX/postgres/NAME. */
void store_fixture_add(const char *prefix, const char *name,
                       void (*fn)(struct store_fixture *, gconstpointer));

#endif
