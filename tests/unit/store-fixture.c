#include "store-fixture.h"

#include "core/error.h"
#include "directory/directory.h"
#include "store/blob.h"

#include <stdlib.h>
#include <string.h>

static const char *const snapshot_queries[] = {
	"SELECT id, name, quota_bytes, enabled FROM contexts ORDER BY id",
	"SELECT domain, context_id FROM mail_domains ORDER BY domain",
	"SELECT id, context_id, kind, name, display_name, enabled FROM principals ORDER BY id",
	"SELECT principal_id, login, password_hash, time_zone, locale, quota_bytes FROM users "
	"ORDER BY principal_id",
	"SELECT address, principal_id, is_primary FROM addresses ORDER BY address",
	"SELECT group_id, member_id FROM group_members ORDER BY group_id, member_id",
	"SELECT principal_id, is_room, booking, manager_id FROM resources ORDER BY principal_id",
	"SELECT user_id, label, secret_hash FROM app_passwords ORDER BY user_id, label",
	"SELECT token_hash, user_id FROM sessions ORDER BY token_hash",
	"SELECT id, context_id, parent_id, owner_id, module, name, role, modseq FROM folders "
	"ORDER BY id",
	"SELECT folder_id, entity_id, bits FROM permissions ORDER BY folder_id, entity_id",
	"SELECT account_id, modseq FROM modseqs ORDER BY account_id",
	"SELECT folder_id, object, modseq, created_by, deleted FROM changes ORDER BY folder_id, "
	"object",
	"SELECT id, account_id, modseq FROM folder_tombstones ORDER BY id",
};

char *store_fixture_snapshot(struct store *s)
{
	GString *out = g_string_new(NULL);
	struct ox_error err = {0};
	for (size_t q = 0; q < G_N_ELEMENTS(snapshot_queries); q++) {
		struct store_stmt *st = store_prepare(s, snapshot_queries[q], &err);
		if (st == NULL)
			g_error("snapshot: %s", err.message);
		g_string_append_printf(out, "[%zu]\n", q);
		while (store_step(st, &err) > 0) {
			for (int c = 0; c < store_col_count(st); c++) {
				const char *v = store_col_text(st, c);
				g_string_append_printf(out, "%s|", v != NULL ? v : "NULL");
			}
			g_string_append_c(out, '\n');
		}
		store_stmt_done(&st);
	}
	return g_string_free(out, FALSE);
}

void store_fixture_setup(struct store_fixture *f, gconstpointer data)
{
	const char *driver = data;
	struct ox_error err = {0};
	if (strcmp(driver, "postgres") == 0) {
		if (g_getenv("PGHOST") == NULL && g_getenv("OX_TEST_PG_DSN") == NULL)
			return;
		const char *dsn = g_getenv("OX_TEST_PG_DSN");
		f->store = store_open("postgres", dsn != NULL ? dsn : "", &err);
		if (f->store != NULL)
			store_exec(f->store, "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
			           NULL);
	} else {
		f->dir = g_dir_make_tmp("ox-test-XXXXXX", NULL);
		char *path = g_build_filename(f->dir, "ox.db", NULL);
		f->store = store_open("sqlite", path, &err);
		g_free(path);
		if (f->store != NULL) {
			char *blobs = g_build_filename(f->dir, "blobs", NULL);
			blob_set_directory(f->store, blobs);
			g_free(blobs);
		}
	}
	if (f->store == NULL)
		g_error("open %s: %s", driver, err.message);
	if (store_migrate(f->store, &err) < 0)
		g_error("migrate: %s", err.message);
}

void store_fixture_teardown(struct store_fixture *f, gconstpointer driver)
{
	store_close(&f->store);
	if (f->dir != NULL) {
		char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			g_warning("cannot remove %s", f->dir);
		g_free(cmd);
		g_free(f->dir);
	}
}

bool store_fixture_skip(struct store_fixture *f)
{
	if (f->store != NULL)
		return false;
	g_test_skip("no PostgreSQL server (scripts/run-tests runs this under pg_virtualenv)");
	return true;
}

int64_t store_fixture_user(struct store *s, const char *login)
{
	struct ox_error err = {0};
	struct user_create spec = {.login = login, .display_name = login, .password = "pw"};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

void store_fixture_alice_bob(struct store *s, int64_t *alice_r, int64_t *bob_r)
{
	struct ox_error err = {0};
	if (context_create(s, "acme", "example.org", 0, NULL, &err) < 0)
		g_error("context_create: %s", err.message);
	*alice_r = store_fixture_user(s, "alice@example.org");
	*bob_r = store_fixture_user(s, "bob@example.org");
}

void store_fixture_add(const char *prefix, const char *name,
                       void (*fn)(struct store_fixture *, gconstpointer))
{
	static const char *const drivers[] = {"sqlite", "postgres"};
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
		char *path = g_strdup_printf("/%s/%s/%s", prefix, drivers[i], name);
		g_test_add(path, struct store_fixture, drivers[i], store_fixture_setup, fn,
		           store_fixture_teardown);
		g_free(path);
	}
}
