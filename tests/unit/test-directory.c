/* The directory and authentication on both drivers: contexts, users,
 * groups, resources, logins, lockout, app passwords, sessions; and that
 * every refused call leaves the store exactly as it was. */
#include "core/config.h"
#include "core/error.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static void expect_refused(struct store *s, const char *before, int r, struct ox_error *err,
                           enum ox_error_code code, const char *needle)
{
	g_assert_cmpint(r, ==, -1);
	if (err->code != code)
		g_error("expected %s, got %s: %s", ox_error_code_name(code),
		        ox_error_code_name(err->code), err->message);
	if (needle != NULL && strstr(err->message, needle) == NULL)
		g_error("message '%s' does not mention '%s'", err->message, needle);
	char *after = store_fixture_snapshot(s);
	g_assert_cmpstr(after, ==, before);
	g_free(after);
	memset(err, 0, sizeof(*err));
}

static int64_t make_user(struct store *s, const char *login, const char *password)
{
	struct ox_error err = {0};
	struct user_create spec = {.login = login, .display_name = login, .password = password};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

static void test_contexts(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t id;
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, &id, &err), ==, 0);
	g_assert_cmpint(context_add_domain(S(f), id, "Acme.Example.ORG", &err), ==, 0);
	char *before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, context_create(S(f), "acme", "other.example", 0, NULL, &err),
	               &err, OX_ERR_EXISTS, "acme");
	expect_refused(S(f), before, context_create(S(f), "Bad Name", "x.example", 0, NULL, &err),
	               &err, OX_ERR_INVALID, "Bad Name");
	expect_refused(S(f), before, context_create(S(f), "beta", "no_domain", 0, NULL, &err), &err,
	               OX_ERR_INVALID, "no_domain");
	/* The domain belongs to acme: beta is not made half-way. */
	expect_refused(S(f), before, context_create(S(f), "beta", "acme.example", 0, NULL, &err),
	               &err, OX_ERR_EXISTS, "acme.example");
	expect_refused(S(f), before, context_delete(S(f), "nosuch", &err), &err, OX_ERR_NOT_FOUND,
	               "nosuch");
	g_free(before);

	struct context_info info;
	g_assert_cmpint(context_lookup(S(f), "acme", &info, &err), ==, 1);
	g_assert_cmpstr(info.domains[0], ==, "acme.example");
	g_assert_cmpstr(info.domains[1], ==, "acme.example.org");
	g_assert_null(info.domains[2]);
	context_info_clear(&info);
	g_assert_cmpint(context_lookup(S(f), "nosuch", &info, &err), ==, 0);

	make_user(S(f), "ann@acme.example", "secret one");
	g_assert_cmpint(context_delete(S(f), "acme", &err), ==, 0);
	struct context_info **list = NULL;
	g_assert_cmpint(context_list(S(f), &list, &err), ==, 0);
	g_assert_null(list[0]);
	context_list_free(&list);
	/* Nothing of the context is left. */
	char *empty = store_fixture_snapshot(S(f));
	g_assert_null(strstr(empty, "acme"));
	g_assert_null(strstr(empty, "ann@"));
	g_free(empty);
}

static void test_users(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	g_assert_cmpint(context_create(S(f), "other", "other.example", 0, NULL, &err), ==, 0);
	struct user_create spec = {.login = "Alice@Acme.Example",
	                           .display_name = "Alice Liddell",
	                           .password = "correct horse",
	                           .time_zone = "Europe/Berlin",
	                           .locale = "de_DE"};
	int64_t alice;
	g_assert_cmpint(user_create(S(f), &spec, &alice, &err), ==, 0);

	char *before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, user_create(S(f), &spec, NULL, &err), &err, OX_ERR_EXISTS,
	               "alice@acme.example");
	struct user_create bad = spec;
	bad.login = "bob@@acme.example";
	expect_refused(S(f), before, user_create(S(f), &bad, NULL, &err), &err, OX_ERR_INVALID,
	               "bob@@acme.example");
	bad.login = "bob@nowhere.example";
	expect_refused(S(f), before, user_create(S(f), &bad, NULL, &err), &err, OX_ERR_NOT_FOUND,
	               "nowhere.example");
	bad.login = "bob@acme.example";
	bad.password = "";
	expect_refused(S(f), before, user_create(S(f), &bad, NULL, &err), &err, OX_ERR_INVALID,
	               "empty");
	bad.password = "pw";
	bad.time_zone = "Mars/Olympus";
	expect_refused(S(f), before, user_create(S(f), &bad, NULL, &err), &err, OX_ERR_INVALID,
	               "Mars/Olympus");
	bad.time_zone = NULL;
	bad.display_name = "line\nbreak";
	expect_refused(S(f), before, user_create(S(f), &bad, NULL, &err), &err, OX_ERR_INVALID,
	               "display name");
	expect_refused(S(f), before,
	               user_add_address(S(f), "alice@acme.example", "alice@other.example", &err),
	               &err, OX_ERR_INVALID, "other.example");
	expect_refused(S(f), before, user_set_password(S(f), "alice@acme.example", "", &err), &err,
	               OX_ERR_INVALID, "empty");
	expect_refused(S(f), before, user_delete(S(f), "nobody@acme.example", &err), &err,
	               OX_ERR_NOT_FOUND, "nobody");
	g_free(before);

	struct user_info info;
	g_assert_cmpint(user_lookup(S(f), "ALICE@acme.example", &info, &err), ==, 1);
	g_assert_cmpint(info.id, ==, alice);
	g_assert_cmpstr(info.display_name, ==, "Alice Liddell");
	g_assert_cmpstr(info.time_zone, ==, "Europe/Berlin");
	g_assert_cmpstr(info.addresses[0], ==, "alice@acme.example");
	g_assert_true(info.enabled);
	user_info_clear(&info);

	/* Aliases route to the user. */
	g_assert_cmpint(
		user_add_address(S(f), "alice@acme.example", "a.liddell@acme.example", &err), ==,
		0);
	int64_t who = 0;
	enum principal_kind kind;
	g_assert_cmpint(principal_by_address(S(f), "A.Liddell@ACME.example", &who, &kind, &err), ==,
	                1);
	g_assert_cmpint(who, ==, alice);
	g_assert_cmpint(kind, ==, PRINCIPAL_USER);

	/* Default folders came with the user. */
	struct folder_info **folders = NULL;
	g_assert_cmpint(folder_list(S(f), alice, 0, &folders, &err), ==, 0);
	int n = 0;
	for (struct folder_info **i = folders; *i != NULL; i++)
		n++;
	g_assert_cmpint(n, ==, 10);
	folder_list_free(&folders);
	int64_t inbox;
	g_assert_cmpint(folder_by_role(S(f), alice, "inbox", &inbox, &err), ==, 1);

	struct user_info **users = NULL;
	make_user(S(f), "zed@other.example", "pw zed");
	g_assert_cmpint(user_list(S(f), "acme", &users, &err), ==, 0);
	g_assert_nonnull(users[0]);
	g_assert_null(users[1]);
	user_list_free(&users);
	g_assert_cmpint(user_list(S(f), NULL, &users, &err), ==, 0);
	g_assert_nonnull(users[1]);
	user_list_free(&users);
}

static void test_groups_and_resources(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	g_assert_cmpint(context_create(S(f), "other", "other.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), "alice@acme.example", "pw a");
	make_user(S(f), "zed@other.example", "pw z");
	int64_t team;
	g_assert_cmpint(group_create(S(f), "acme", "team", "The Team", &team, &err), ==, 0);
	g_assert_cmpint(group_add_member(S(f), "acme", "team", "alice@acme.example", &err), ==, 0);
	/* The group's calendar-user address, until a user holds it. */
	struct group_info team_info;
	g_assert_cmpint(group_lookup_id(S(f), team, &team_info, &err), ==, 1);
	char **addresses = NULL;
	g_assert_cmpint(group_addresses(S(f), &team_info, &addresses, &err), ==, 0);
	g_assert_cmpuint(g_strv_length(addresses), ==, 1);
	g_assert_cmpstr(addresses[0], ==, "team@acme.example");
	g_strfreev(addresses);
	g_assert_cmpint(user_add_address(S(f), "alice@acme.example", "team@acme.example", &err), ==,
	                0);
	g_assert_cmpint(group_addresses(S(f), &team_info, &addresses, &err), ==, 0);
	g_assert_cmpuint(g_strv_length(addresses), ==, 0);
	g_strfreev(addresses);
	group_info_clear(&team_info);

	char *before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, group_create(S(f), "acme", "team", NULL, NULL, &err), &err,
	               OX_ERR_EXISTS, "team");
	expect_refused(S(f), before, group_create(S(f), "nosuch", "x", NULL, NULL, &err), &err,
	               OX_ERR_NOT_FOUND, "nosuch");
	expect_refused(S(f), before,
	               group_add_member(S(f), "acme", "nosuch", "alice@acme.example", &err), &err,
	               OX_ERR_NOT_FOUND, "nosuch");
	expect_refused(S(f), before,
	               group_add_member(S(f), "acme", "team", "nobody@acme.example", &err), &err,
	               OX_ERR_NOT_FOUND, "nobody");
	expect_refused(S(f), before,
	               group_add_member(S(f), "acme", "team", "zed@other.example", &err), &err,
	               OX_ERR_INVALID, "zed@other.example");
	expect_refused(S(f), before,
	               group_add_member(S(f), "acme", "team", "alice@acme.example", &err), &err,
	               OX_ERR_EXISTS, "already");
	expect_refused(S(f), before,
	               resource_create(S(f), "acme", "room1", "Room", true, BOOKING_MANAGER, NULL,
	                               NULL, &err),
	               &err, OX_ERR_INVALID, "manager");
	g_free(before);

	int64_t *groups = user_group_ids(S(f), alice, &err);
	g_assert_cmpint(groups[0], ==, team);
	g_assert_cmpint(groups[1], ==, 0);
	g_free(groups);

	int64_t room;
	g_assert_cmpint(resource_create(S(f), "acme", "room1", "Room 1", true, BOOKING_AUTO_ACCEPT,
	                                NULL, &room, &err),
	                ==, 0);
	struct resource_info r;
	g_assert_cmpint(resource_lookup(S(f), "acme", "room1", &r, &err), ==, 1);
	g_assert_cmpstr(r.address, ==, "room1@acme.example");
	g_assert_true(r.is_room);
	resource_info_clear(&r);
	int64_t who;
	enum principal_kind kind;
	g_assert_cmpint(principal_by_address(S(f), "room1@acme.example", &who, &kind, &err), ==, 1);
	g_assert_cmpint(kind, ==, PRINCIPAL_RESOURCE);

	g_assert_cmpint(group_remove_member(S(f), "acme", "team", "alice@acme.example", &err), ==,
	                0);
	groups = user_group_ids(S(f), alice, &err);
	g_assert_cmpint(groups[0], ==, 0);
	g_free(groups);
	g_assert_cmpint(group_delete(S(f), "acme", "team", &err), ==, 0);
	g_assert_cmpint(resource_delete(S(f), "acme", "room1", &err), ==, 0);
}

static enum auth_result login(struct store *s, const char *user, const char *password,
                              const char *remote, int64_t *id_r)
{
	struct ox_error err = {0};
	struct auth_request req = {.login = user,
	                           .password = password,
	                           .remote = remote,
	                           .protocol = "test",
	                           .allow_app_password = true};
	int64_t id = 0;
	enum auth_result r = auth_login(s, &req, &id, &err);
	if (r == AUTH_ERROR)
		g_error("auth_login: %s", err.message);
	if (id_r != NULL)
		*id_r = id;
	return r;
}

static void test_auth(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), "alice@acme.example", "correct horse");
	make_user(S(f), "bob@acme.example", "bob password");
	int64_t id;
	g_assert_cmpint(login(S(f), "Alice@acme.example", "correct horse", "10.0.0.1", &id), ==,
	                AUTH_OK);
	g_assert_cmpint(id, ==, alice);
	g_assert_cmpint(login(S(f), "alice@acme.example", "wrong", "10.0.0.1", NULL), ==,
	                AUTH_FAILED);
	g_assert_cmpint(login(S(f), "nobody@acme.example", "x", "10.0.0.1", NULL), ==, AUTH_FAILED);
	g_assert_cmpint(login(S(f), "alice@acme.example", "", "10.0.0.1", NULL), ==, AUTH_FAILED);

	/* Five failures lock the user, from any address, right password or not. */
	char addr[32], user[64];
	for (int i = 0; i < 5; i++) {
		g_snprintf(addr, sizeof(addr), "10.1.0.%d", i);
		login(S(f), "bob@acme.example", "guess", addr, NULL);
	}
	g_assert_cmpint(login(S(f), "bob@acme.example", "bob password", "10.9.9.9", NULL), ==,
	                AUTH_LOCKED);
	/* Alice is not affected. */
	g_assert_cmpint(login(S(f), "alice@acme.example", "correct horse", "10.0.0.2", NULL), ==,
	                AUTH_OK);

	/* An address with many failures is locked for every user. */
	for (int i = 0; i < 20; i++) {
		g_snprintf(user, sizeof(user), "u%d@acme.example", i);
		login(S(f), user, "x", "192.0.2.7", NULL);
	}
	g_assert_cmpint(login(S(f), "alice@acme.example", "correct horse", "192.0.2.7", NULL), ==,
	                AUTH_LOCKED);

	/* Disabled users cannot log in and lose their sessions. */
	struct auth_session sess, found;
	g_assert_cmpint(session_create(S(f), alice, "test client", &sess, &err), ==, 0);
	g_assert_cmpint(strlen(sess.token), ==, AUTH_TOKEN_LEN);
	g_assert_cmpint(session_lookup(S(f), sess.token, &found, &err), ==, 1);
	g_assert_cmpint(found.user_id, ==, alice);
	g_assert_cmpstr(found.csrf, ==, sess.csrf);
	g_assert_cmpint(user_set_enabled(S(f), "alice@acme.example", false, &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), sess.token, &found, &err), ==, 0);
	g_assert_cmpint(login(S(f), "alice@acme.example", "correct horse", "10.0.0.3", NULL), ==,
	                AUTH_DISABLED);
	g_assert_cmpint(user_set_enabled(S(f), "alice@acme.example", true, &err), ==, 0);

	/* Sessions: unknown and revoked tokens are refused. */
	g_assert_cmpint(session_create(S(f), alice, NULL, &sess, &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), "x", &found, &err), ==, 0);
	char forged[AUTH_TOKEN_LEN + 1];
	auth_random_token(forged);
	g_assert_cmpint(session_lookup(S(f), forged, &found, &err), ==, 0);
	g_assert_cmpint(session_revoke(S(f), sess.token, &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), sess.token, &found, &err), ==, 0);
	struct auth_session a, b;
	session_create(S(f), alice, NULL, &a, &err);
	session_create(S(f), alice, NULL, &b, &err);
	g_assert_cmpint(session_revoke_all(S(f), alice, &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), a.token, &found, &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), b.token, &found, &err), ==, 0);

	/* App passwords: made once, usable, listed, revocable. */
	char app[AUTH_APP_PASSWORD_LEN + 1];
	g_assert_cmpint(app_password_add(S(f), "alice@acme.example", "Thunderbird", app, &err), ==,
	                0);
	g_assert_cmpint(strlen(app), ==, AUTH_APP_PASSWORD_LEN);
	char *before = store_fixture_snapshot(S(f));
	char again[AUTH_APP_PASSWORD_LEN + 1];
	expect_refused(S(f), before,
	               app_password_add(S(f), "alice@acme.example", "Thunderbird", again, &err),
	               &err, OX_ERR_EXISTS, "Thunderbird");
	expect_refused(S(f), before, app_password_add(S(f), "alice@acme.example", "", again, &err),
	               &err, OX_ERR_INVALID, "label");
	expect_refused(S(f), before, app_password_revoke(S(f), "alice@acme.example", "nope", &err),
	               &err, OX_ERR_NOT_FOUND, "nope");
	g_free(before);
	g_assert_cmpint(login(S(f), "alice@acme.example", app, "10.0.0.4", &id), ==, AUTH_OK);
	g_assert_cmpint(id, ==, alice);
	/* Not for another user. */
	g_assert_cmpint(login(S(f), "bob@acme.example", app, "10.0.0.5", NULL), !=, AUTH_OK);
	struct app_password_info *list;
	int count;
	g_assert_cmpint(app_password_list(S(f), "alice@acme.example", &list, &count, &err), ==, 0);
	g_assert_cmpint(count, ==, 1);
	g_assert_cmpstr(list[0].label, ==, "Thunderbird");
	g_assert_cmpint(list[0].last_used, >, 0);
	app_password_list_free(&list, count);
	g_assert_cmpint(app_password_revoke(S(f), "alice@acme.example", "Thunderbird", &err), ==,
	                0);
	g_assert_cmpint(login(S(f), "alice@acme.example", app, "10.0.0.6", NULL), ==, AUTH_FAILED);

	/* A changed password takes effect at once, though the old one was
	 * verified (and cached) a moment ago. */
	g_assert_cmpint(login(S(f), "alice@acme.example", "correct horse", "10.0.0.7", NULL), ==,
	                AUTH_OK);
	struct auth_session before_change;
	g_assert_cmpint(session_create(S(f), alice, NULL, &before_change, &err), ==, 0);
	g_assert_cmpint(user_set_password(S(f), "alice@acme.example", "new horse", &err), ==, 0);
	g_assert_cmpint(session_lookup(S(f), before_change.token, &found, &err), ==, 0);
	g_assert_cmpint(login(S(f), "alice@acme.example", "correct horse", "10.0.0.7", NULL), ==,
	                AUTH_FAILED);
	g_assert_cmpint(login(S(f), "alice@acme.example", "new horse", "10.0.0.7", NULL), ==,
	                AUTH_OK);

	/* Logins are audited. */
	int64_t audited = 0;
	struct store_stmt *st =
		store_prepare(S(f), "SELECT COUNT(*) FROM audit_log WHERE action = 'login'", &err);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	audited = store_col_int(st, 0);
	store_stmt_done(&st);
	g_assert_cmpint(audited, >=, 30);
}

static void test_password_hash(void)
{
	char *hash = auth_hash_password("pässwörd");
	g_assert_nonnull(hash);
	g_assert_true(g_str_has_prefix(hash, "$argon2id$"));
	g_assert_true(auth_verify_password(hash, "pässwörd"));
	g_assert_false(auth_verify_password(hash, "passwort"));
	g_assert_false(auth_verify_password("garbage", "pässwörd"));
	g_free(hash);
}

/* The logins user_search() finds, joined by commas ("" for none); the
 * text lives until the next call (terms NULL: only frees it). */
static const char *search(struct store *s, int64_t context, bool all, int limit,
                          const struct user_search_term *terms, size_t n)
{
	static char *found;
	g_free(found);
	found = NULL;
	if (terms == NULL)
		return NULL;
	struct ox_error err = {0};
	struct user_info **list = NULL;
	if (user_search(s, context, terms, n, all, limit, &list, &err) < 0)
		g_error("user_search: %s", err.message);
	GString *text = g_string_new(NULL);
	for (size_t i = 0; list[i] != NULL; i++)
		g_string_append_printf(text, "%s%s", i > 0 ? "," : "", list[i]->login);
	user_list_free(&list);
	found = g_string_free(text, FALSE);
	return found;
}

/* Look-ups by id, and user searches: caseless, escaped, in one context. */
static void test_search(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t acme, other, group;
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, &acme, &err), ==, 0);
	g_assert_cmpint(context_create(S(f), "other", "other.example", 0, &other, &err), ==, 0);
	struct user_create spec = {
		.login = "bob@acme.example", .display_name = "Bob Builder", .password = "pw one"};
	g_assert_cmpint(user_create(S(f), &spec, NULL, &err), ==, 0);
	g_assert_cmpint(user_add_address(S(f), "bob@acme.example", "b.100%@acme.example", &err), ==,
	                0);
	spec = (struct user_create){
		.login = "ann@acme.example", .display_name = "Ann Smith", .password = "pw two"};
	g_assert_cmpint(user_create(S(f), &spec, NULL, &err), ==, 0);
	spec = (struct user_create){
		.login = "bo@other.example", .display_name = "Bo Builder", .password = "pw three"};
	g_assert_cmpint(user_create(S(f), &spec, NULL, &err), ==, 0);
	g_assert_cmpint(group_create(S(f), "acme", "team", "The Team", &group, &err), ==, 0);
	g_assert_cmpint(group_add_member(S(f), "acme", "team", "ann@acme.example", &err), ==, 0);

	struct context_info ctx;
	g_assert_cmpint(context_lookup_id(S(f), other, &ctx, &err), ==, 1);
	g_assert_cmpstr(ctx.name, ==, "other");
	g_assert_cmpstr(ctx.domains[0], ==, "other.example");
	context_info_clear(&ctx);
	g_assert_cmpint(context_lookup_id(S(f), other + 1000, &ctx, &err), ==, 0);
	struct group_info g;
	g_assert_cmpint(group_lookup_id(S(f), group, &g, &err), ==, 1);
	g_assert_cmpstr(g.name, ==, "team");
	g_assert_cmpstr(g.display_name, ==, "The Team");
	g_assert_cmpint(g.members[0], !=, 0);
	g_assert_cmpint(g.members[1], ==, 0);
	group_info_clear(&g);
	struct user_info ann;
	g_assert_cmpint(user_lookup(S(f), "ann@acme.example", &ann, &err), ==, 1);
	/* A user is no group. */
	g_assert_cmpint(group_lookup_id(S(f), ann.id, &g, &err), ==, 0);
	user_info_clear(&ann);

	struct user_search_term name = {USER_SEARCH_NAME, USER_MATCH_CONTAINS, "BUILD"};
	g_assert_cmpstr(search(S(f), acme, false, 10, &name, 1), ==, "bob@acme.example");
	struct user_search_term starts = {USER_SEARCH_NAME, USER_MATCH_STARTS, "uild"};
	g_assert_cmpstr(search(S(f), acme, false, 10, &starts, 1), ==, "");
	/* LIKE's own characters match only themselves. */
	struct user_search_term percent = {USER_SEARCH_ADDRESS, USER_MATCH_CONTAINS, "100%@"};
	g_assert_cmpstr(search(S(f), acme, false, 10, &percent, 1), ==, "bob@acme.example");
	struct user_search_term underscore = {USER_SEARCH_ADDRESS, USER_MATCH_CONTAINS, "b_1"};
	g_assert_cmpstr(search(S(f), acme, false, 10, &underscore, 1), ==, "");
	struct user_search_term both[] = {
		{USER_SEARCH_NAME, USER_MATCH_CONTAINS, "smith"},
		{USER_SEARCH_NAME_OR_ADDRESS, USER_MATCH_EQUALS, "bob@acme.example"},
	};
	g_assert_cmpstr(search(S(f), acme, false, 10, both, 2), ==,
	                "ann@acme.example,bob@acme.example");
	g_assert_cmpstr(search(S(f), acme, true, 10, both, 2), ==, "");
	g_assert_cmpstr(search(S(f), acme, false, 1, both, 2), ==, "ann@acme.example");
	/* Each context sees its own Builder only. */
	g_assert_cmpstr(search(S(f), other, false, 10, &name, 1), ==, "bo@other.example");
	search(S(f), 0, false, 0, NULL, 0);
	struct user_info **list = NULL;
	g_assert_cmpint(user_search(S(f), acme, &name, 0, false, 10, &list, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A cheap Argon2id keeps the suite fast; the cost is configuration. */
	auth_register_options();
	folder_register_hooks();
	const char *sets[] = {"auth.argon2_ops=1", "auth.argon2_memory=64k", NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	auth_configure(cfg);
	ox_config_free(&cfg);
	g_test_add_func("/directory/password-hash", test_password_hash);
	store_fixture_add("directory", "contexts", test_contexts);
	store_fixture_add("directory", "users", test_users);
	store_fixture_add("directory", "groups-and-resources", test_groups_and_resources);
	store_fixture_add("directory", "auth", test_auth);
	store_fixture_add("directory", "search", test_search);
	return g_test_run();
}
