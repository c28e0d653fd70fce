/* ICS feeds on both drivers: tokens (shape, only a hash stored, one
 * answer for every token that opens nothing), the creator's rights at
 * every look-up (unshared, disabled, deleted), the calendar going, who may
 * make, list and revoke feeds, the limit per calendar, and the export the
 * resolved calendar gives. */
#include "core/error.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "pim/pim.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static const char EVENT[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
			    "BEGIN:VEVENT\r\nUID:feed-event-1\r\nDTSTAMP:20240101T000000Z\r\n"
			    "DTSTART:20240105T100000Z\r\nDTEND:20240105T110000Z\r\n"
			    "SUMMARY:Published\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

struct users {
	int64_t alice, bob;
	struct pim_calendar cal; /* alice's default calendar */
};

/* False when the case is skipped (no PostgreSQL). */
static bool setup_users(struct store_fixture *f, struct users *u)
{
	if (store_fixture_skip(f))
		return false;
	struct ox_error err = {0};
	store_fixture_alice_bob(S(f), &u->alice, &u->bob);
	g_assert_cmpint(pim_calendar_find(S(f), u->alice, u->alice, "calendar", &u->cal, &err), ==,
	                1);
	return true;
}

/* A feed of alice's calendar, made by alice. */
static void alice_feed(struct store_fixture *f, const struct users *u,
                       char token[PIM_FEED_TOKEN_LEN + 1], struct pim_feed *feed)
{
	struct ox_error err = {0};
	if (pim_feed_create(S(f), u->alice, u->cal.folder_id, token, feed, &err) < 0)
		g_error("pim_feed_create: %s", err.message);
}

static void share(struct store_fixture *f, struct users *u, const char *role)
{
	struct ox_error err = {0};
	struct folder_perm perm;
	g_assert_cmpint(folder_perm_parse(role, &perm), ==, 0);
	if (folder_set_permission(S(f), u->alice, u->cal.folder_id, u->bob, &perm, &err) < 0)
		g_error("share %s: %s", role, err.message);
}

static int64_t count_feeds(struct store *s)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(s, "SELECT COUNT(*) FROM calendar_feeds", &err);
	g_assert_nonnull(st);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	int64_t n = store_col_int(st, 0);
	store_stmt_done(&st);
	return n;
}

/* 1 when the token opens the calendar of alice, else what resolve said. */
static int opens(struct store_fixture *f, const struct users *u, const char *token)
{
	struct ox_error err = {0};
	struct pim_feed feed;
	struct pim_calendar cal;
	int r = pim_feed_resolve(S(f), token, &feed, &cal, &err);
	if (r < 0)
		g_error("resolve: %s", err.message);
	if (r > 0)
		g_assert_cmpint(cal.folder_id, ==, u->cal.folder_id);
	pim_calendar_clear(&cal);
	return r;
}

static void test_tokens(struct store_fixture *f, gconstpointer driver)
{
	struct users u;
	if (!setup_users(f, &u))
		return;
	struct ox_error err = {0};
	char token[PIM_FEED_TOKEN_LEN + 1], other[PIM_FEED_TOKEN_LEN + 1];
	struct pim_feed feed, feed2;
	alice_feed(f, &u, token, &feed);
	alice_feed(f, &u, other, &feed2);
	g_assert_cmpuint(strlen(token), ==, PIM_FEED_TOKEN_LEN);
	g_assert_cmpuint(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789-_"),
	                 ==, PIM_FEED_TOKEN_LEN);
	g_assert_cmpstr(token, !=, other);
	g_assert_cmpint(feed.created_by, ==, u.alice);
	g_assert_cmpint(feed.folder_id, ==, u.cal.folder_id);
	g_assert_cmpint(feed.last_used, ==, 0);

	/* Only the SHA-256 of the token is stored. */
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
	struct store_stmt *st =
		store_prepare(S(f), "SELECT token_hash FROM calendar_feeds WHERE id = $1", &err);
	store_bind_int(st, 1, feed.id);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpstr(store_col_text(st, 0), ==, hash);
	store_stmt_done(&st);
	g_free(hash);

	/* The token opens the calendar and notes the use. */
	g_assert_cmpint(opens(f, &u, token), ==, 1);
	struct pim_feed *list = NULL;
	size_t n = 0;
	g_assert_cmpint(pim_feed_list(S(f), u.alice, u.cal.folder_id, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpint(list[0].id, ==, feed.id);
	g_assert_cmpint(list[0].last_used, >, 0);
	g_assert_cmpint(list[1].last_used, ==, 0);
	g_free(list);

	/* Nothing else does, whatever its shape. */
	char wrong[PIM_FEED_TOKEN_LEN + 1];
	g_strlcpy(wrong, token, sizeof(wrong));
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	g_assert_cmpint(opens(f, &u, wrong), ==, 0);
	wrong[5] = '/';
	g_assert_cmpint(opens(f, &u, wrong), ==, 0);
	char longer[PIM_FEED_TOKEN_LEN + 2];
	g_snprintf(longer, sizeof(longer), "%sA", token);
	g_assert_cmpint(opens(f, &u, longer), ==, 0);
	g_assert_cmpint(opens(f, &u, ""), ==, 0);
	g_assert_cmpint(opens(f, &u, NULL), ==, 0);
	hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
	g_assert_cmpint(opens(f, &u, hash), ==, 0); /* the stored hash is no token */
	g_free(hash);

	/* Revoked: that token opens nothing, the other still works. */
	struct pim_feed gone;
	g_assert_cmpint(pim_feed_revoke(S(f), u.alice, feed.id, &gone, &err), ==, 0);
	g_assert_cmpint(gone.folder_id, ==, u.cal.folder_id);
	g_assert_cmpint(opens(f, &u, token), ==, 0);
	g_assert_cmpint(opens(f, &u, other), ==, 1);
	g_assert_cmpint(pim_feed_revoke(S(f), u.alice, feed.id, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);

	/* Deleting the calendar takes its feeds along. */
	struct pim_calendar work;
	g_assert_cmpint(pim_calendar_create(S(f), u.alice, "work", "Work", 0, &work, &err), ==, 0);
	g_assert_cmpint(pim_feed_create(S(f), u.alice, work.folder_id, token, &feed, &err), ==, 0);
	g_assert_cmpint(count_feeds(S(f)), ==, 2);
	g_assert_cmpint(pim_calendar_delete(S(f), u.alice, &work, &err), ==, 0);
	struct pim_calendar cal;
	g_assert_cmpint(pim_feed_resolve(S(f), token, &feed, &cal, &err), ==, 0);
	g_assert_cmpint(count_feeds(S(f)), ==, 1);
	pim_calendar_clear(&work);
	pim_calendar_clear(&u.cal);
}

/* Bob may not make a feed of alice's calendar nor list its feeds (both
 * failing with `code`), nor revoke her feed `alice_feed`, which is
 * NOT_FOUND whatever he may see. */
static void assert_bob_refused(struct store_fixture *f, const struct users *u, int64_t alice_feed,
                               enum ox_error_code code)
{
	struct ox_error err = {0};
	char token[PIM_FEED_TOKEN_LEN + 1];
	struct pim_feed feed;
	struct pim_feed *list = NULL;
	size_t n = 0;
	g_assert_cmpint(pim_feed_create(S(f), u->bob, u->cal.folder_id, token, &feed, &err), ==,
	                -1);
	g_assert_cmpint(err.code, ==, code);
	g_assert_cmpstr(token, ==, "");
	g_assert_cmpint(pim_feed_list(S(f), u->bob, u->cal.folder_id, &list, &n, &err), ==, -1);
	g_assert_cmpint(err.code, ==, code);
	g_assert_cmpint(pim_feed_revoke(S(f), u->bob, alice_feed, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
}

static void test_rights(struct store_fixture *f, gconstpointer driver)
{
	struct users u;
	if (!setup_users(f, &u))
		return;
	struct ox_error err = {0};
	char token[PIM_FEED_TOKEN_LEN + 1], bobs[PIM_FEED_TOKEN_LEN + 1];
	struct pim_feed feed, bob_feed;
	struct pim_feed *list = NULL;
	size_t n = 0;
	alice_feed(f, &u, token, &feed);

	/* Bob cannot see the calendar: nothing to make, list or revoke. */
	assert_bob_refused(f, &u, feed.id, OX_ERR_NOT_FOUND);

	/* A viewer reads but does not administer: still none, and the id of
	 * alice's feed stays as unknown as any other. */
	share(f, &u, "viewer");
	assert_bob_refused(f, &u, feed.id, OX_ERR_PERM);

	/* Administering without reading every object is not enough either:
	 * the feed would publish a part. */
	share(f, &u, "2/1/1/1/1");
	g_assert_cmpint(pim_feed_create(S(f), u.bob, u.cal.folder_id, bobs, &bob_feed, &err), ==,
	                -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
	g_assert_cmpint(count_feeds(S(f)), ==, 1);

	/* An admin may: and sees, and may revoke, alice's feed too. */
	share(f, &u, "admin");
	g_assert_cmpint(pim_feed_create(S(f), u.bob, u.cal.folder_id, bobs, &bob_feed, &err), ==,
	                0);
	g_assert_cmpint(pim_feed_list(S(f), u.bob, u.cal.folder_id, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpint(list[1].created_by, ==, u.bob);
	g_free(list);
	g_assert_cmpint(opens(f, &u, bobs), ==, 1);

	/* Bob's feed reads with bob's rights: down to viewer it still reads,
	 * without reading all objects or unshared it stops, and it answers
	 * again when access comes back. */
	share(f, &u, "viewer");
	g_assert_cmpint(opens(f, &u, bobs), ==, 1);
	share(f, &u, "1/0/0/0/0"); /* sees the calendar, reads nothing */
	g_assert_cmpint(opens(f, &u, bobs), ==, 0);
	share(f, &u, "2/1/1/1/1"); /* reads only their own objects */
	g_assert_cmpint(opens(f, &u, bobs), ==, 0);
	share(f, &u, "none");
	g_assert_cmpint(opens(f, &u, bobs), ==, 0);
	g_assert_cmpint(opens(f, &u, token), ==, 1);
	share(f, &u, "viewer");
	g_assert_cmpint(opens(f, &u, bobs), ==, 1);

	/* A disabled creator's feeds stop; so do those of a disabled context. */
	g_assert_cmpint(user_set_enabled(S(f), "bob@example.org", false, &err), ==, 0);
	g_assert_cmpint(opens(f, &u, bobs), ==, 0);
	g_assert_cmpint(opens(f, &u, token), ==, 1);
	g_assert_cmpint(user_set_enabled(S(f), "bob@example.org", true, &err), ==, 0);
	g_assert_cmpint(opens(f, &u, bobs), ==, 1);
	g_assert_cmpint(store_exec(S(f), "UPDATE contexts SET enabled = 0", &err), ==, 0);
	g_assert_cmpint(opens(f, &u, token), ==, 0);
	g_assert_cmpint(store_exec(S(f), "UPDATE contexts SET enabled = 1", &err), ==, 0);

	/* A deleted creator's feeds go with them. */
	g_assert_cmpint(user_delete(S(f), "bob@example.org", &err), ==, 0);
	g_assert_cmpint(opens(f, &u, bobs), ==, 0);
	g_assert_cmpint(count_feeds(S(f)), ==, 1);
	g_assert_cmpint(opens(f, &u, token), ==, 1);

	/* Folders that are no calendars have no feeds. */
	int64_t contacts = 0;
	g_assert_cmpint(folder_by_role(S(f), u.alice, "contacts", &contacts, &err), ==, 1);
	g_assert_cmpint(pim_feed_create(S(f), u.alice, contacts, token, &feed, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
	pim_calendar_clear(&u.cal);
}

static void test_limit(struct store_fixture *f, gconstpointer driver)
{
	struct users u;
	if (!setup_users(f, &u))
		return;
	struct ox_error err = {0};
	char token[PIM_FEED_TOKEN_LEN + 1];
	struct pim_feed feed;
	for (int i = 0; i < PIM_FEEDS_MAX; i++)
		alice_feed(f, &u, token, &feed);
	g_assert_cmpint(pim_feed_create(S(f), u.alice, u.cal.folder_id, token, &feed, &err), ==,
	                -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	g_assert_cmpint(count_feeds(S(f)), ==, PIM_FEEDS_MAX);
	pim_calendar_clear(&u.cal);
}

static int collect(const char *text, size_t len, void *ctx)
{
	g_string_append_len(ctx, text, (gssize)len);
	return 0;
}

static void test_export(struct store_fixture *f, gconstpointer driver)
{
	struct users u;
	if (!setup_users(f, &u))
		return;
	struct ox_error err = {0};
	char token[PIM_FEED_TOKEN_LEN + 1];
	struct pim_feed feed;
	struct pim_calendar cal;
	alice_feed(f, &u, token, &feed);
	g_assert_cmpint(pim_feed_resolve(S(f), token, &feed, &cal, &err), ==, 1);
	int64_t before = cal.modseq;
	pim_calendar_clear(&cal);

	bool created = false;
	struct pim_object obj;
	enum pim_reject why;
	g_assert_cmpint(pim_object_put(S(f), u.alice, &u.cal, "e1.ics", EVENT, strlen(EVENT),
	                               &created, &obj, &why, &err),
	                ==, 0);
	pim_object_clear(&obj);
	g_assert_cmpint(pim_feed_resolve(S(f), token, &feed, &cal, &err), ==, 1);
	g_assert_cmpint(cal.modseq, >, before);
	GString *out = g_string_new(NULL);
	g_assert_cmpint(pim_calendar_export(S(f), feed.created_by, &cal, collect, out, &err), ==,
	                0);
	g_assert_true(g_str_has_prefix(out->str, "BEGIN:VCALENDAR\r\n"));
	g_assert_nonnull(strstr(out->str, "UID:feed-event-1"));
	g_assert_true(g_str_has_suffix(out->str, "END:VCALENDAR\r\n"));
	g_string_free(out, TRUE);
	pim_calendar_clear(&cal);
	pim_calendar_clear(&u.cal);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	store_fixture_add("/pim-feed", "tokens", test_tokens);
	store_fixture_add("/pim-feed", "rights", test_rights);
	store_fixture_add("/pim-feed", "limit", test_limit);
	store_fixture_add("/pim-feed", "export", test_export);
	return g_test_run();
}
