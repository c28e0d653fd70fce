/* The folder layer on both drivers: what every permission level allows,
 * rights through groups, public and shared folders, revocation, the tree
 * operations, the change log, what deleting a user leaves behind; and the
 * three protocol mappings of the one permission model. */
#include "core/config.h"
#include "core/error.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

/* The principals most cases need. */
struct world {
	int64_t ctx, other_ctx;
	int64_t alice, bob, carol;
	int64_t zed;  /* a user of the other context */
	int64_t team; /* a group of acme; bob is its member */
	int64_t room; /* a resource of acme */
};

static void world_make(struct store *s, struct world *w)
{
	struct ox_error err = {0};
	memset(w, 0, sizeof(*w));
	if (context_create(s, "acme", "acme.example", 0, &w->ctx, &err) < 0 ||
	    context_create(s, "other", "other.example", 0, &w->other_ctx, &err) < 0)
		g_error("context_create: %s", err.message);
	w->alice = store_fixture_user(s, "alice@acme.example");
	w->bob = store_fixture_user(s, "bob@acme.example");
	w->carol = store_fixture_user(s, "carol@acme.example");
	w->zed = store_fixture_user(s, "zed@other.example");
	if (group_create(s, "acme", "team", "The Team", &w->team, &err) < 0 ||
	    group_add_member(s, "acme", "team", "bob@acme.example", &err) < 0)
		g_error("group: %s", err.message);
	if (resource_create(s, "acme", "room1", "Room 1", true, BOOKING_AUTO_ACCEPT, NULL, &w->room,
	                    &err) < 0)
		g_error("resource_create: %s", err.message);
}

static int64_t make_folder(struct store *s, int64_t actor, int64_t ctx, int64_t parent,
                           enum folder_module module, const char *name)
{
	struct ox_error err = {0};
	int64_t id = 0;
	if (folder_create(s, actor, ctx, parent, false, module, name, &id, &err) < 0)
		g_error("folder_create %s: %s", name, err.message);
	g_assert_cmpint(id, >, 0);
	return id;
}

static void grant(struct store *s, int64_t actor, int64_t folder, int64_t entity, const char *perm)
{
	struct ox_error err = {0};
	struct folder_perm p;
	if (folder_perm_parse(perm, &p) < 0)
		g_error("bad permission in test: %s", perm);
	if (folder_set_permission(s, actor, folder, entity, &p, &err) < 0)
		g_error("folder_set_permission %s: %s", perm, err.message);
}

static int64_t record(struct store *s, int64_t folder, const char *object, int64_t actor,
                      bool deleted)
{
	struct ox_error err = {0};
	int64_t modseq = 0;
	if (change_record(s, folder, object, actor, deleted, &modseq, &err) < 0)
		g_error("change_record %s: %s", object, err.message);
	return modseq;
}

static int64_t creator_of(struct store *s, int64_t folder, const char *object)
{
	struct ox_error err = {0};
	int64_t creator = -1;
	if (change_object_creator(s, folder, object, &creator, &err) != 1)
		g_error("no creator for %s: %s", object, err.message);
	return creator;
}

static void expect_refused(struct store *s, const char *before, int r, struct ox_error *err,
                           enum ox_error_code code)
{
	g_assert_cmpint(r, ==, -1);
	if (err->code != code)
		g_error("expected %s, got %s: %s", ox_error_code_name(code),
		        ox_error_code_name(err->code), err->message);
	char *after = store_fixture_snapshot(s);
	g_assert_cmpstr(after, ==, before);
	g_free(after);
	memset(err, 0, sizeof(*err));
}

/* One check as a letter: y allowed, p refused (PERM), n not found. */
static char outcome(struct store *s, int64_t user, int64_t folder, enum folder_action action,
                    int64_t creator)
{
	struct ox_error err = {0};
	if (folder_check(s, user, folder, action, creator, &err) == 0)
		return 'y';
	if (err.code == OX_ERR_PERM)
		return 'p';
	if (err.code == OX_ERR_NOT_FOUND)
		return 'n';
	g_error("folder_check: %s: %s", ox_error_code_name(err.code), err.message);
}

/* Every action in one string: see, create object, create subfolder, then
 * read, write and delete of the user's own object and of someone else's,
 * then admin. */
static void outcomes(struct store *s, int64_t user, int64_t folder, const char *own_object,
                     const char *other_object, char out[11])
{
	int64_t own = creator_of(s, folder, own_object);
	int64_t other = creator_of(s, folder, other_object);
	int n = 0;
	out[n++] = outcome(s, user, folder, FOLDER_SEE, 0);
	out[n++] = outcome(s, user, folder, FOLDER_CREATE_OBJECT, 0);
	out[n++] = outcome(s, user, folder, FOLDER_CREATE_SUBFOLDER, 0);
	static const enum folder_action object_actions[] = {FOLDER_READ_OBJECT, FOLDER_WRITE_OBJECT,
	                                                    FOLDER_DELETE_OBJECT};
	for (size_t i = 0; i < G_N_ELEMENTS(object_actions); i++) {
		out[n++] = outcome(s, user, folder, object_actions[i], own);
		out[n++] = outcome(s, user, folder, object_actions[i], other);
	}
	out[n++] = outcome(s, user, folder, FOLDER_ADMIN, 0);
	out[n] = '\0';
}

static void assert_rights(struct store *s, int64_t user, int64_t folder, const char *expected)
{
	struct ox_error err = {0};
	struct folder_perm got;
	g_assert_cmpint(folder_rights(s, user, folder, &got, &err), ==, 0);
	/* folder_perm_format() has one buffer: keep the expectation apart. */
	char *want = g_strdup(expected);
	g_assert_cmpstr(folder_perm_format(&got), ==, want);
	g_free(want);
}

static struct folder_info *find_in(struct folder_info **list, int64_t id)
{
	for (struct folder_info **i = list; *i != NULL; i++) {
		if ((*i)->id == id)
			return *i;
	}
	return NULL;
}

/* How folder_list() shows a folder to the viewer: its rights, or NULL
 * when it is not listed. */
static char *listed_rights(struct store *s, int64_t viewer, int64_t folder)
{
	struct ox_error err = {0};
	struct folder_info **list = NULL;
	if (folder_list(s, viewer, 0, &list, &err) < 0)
		g_error("folder_list: %s", err.message);
	struct folder_info *info = find_in(list, folder);
	char *rights = info != NULL ? g_strdup(folder_perm_format(&info->rights)) : NULL;
	folder_list_free(&list);
	return rights;
}

/* expected must not be folder_perm_format()'s buffer, which this reuses. */
static void assert_listed(struct store *s, int64_t viewer, int64_t folder, const char *expected)
{
	char *got = listed_rights(s, viewer, folder);
	g_assert_cmpstr(got, ==, expected);
	g_free(got);
}

static void test_levels(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	/* Expected from DESIGN.md's table: each level includes those below
	 * it, "own" is the object's creator, nothing without seeing the
	 * folder. */
	static const struct {
		const char *perm;
		const char *expect; /* see, co, cs, r own/other, w own/other, d own/other, admin */
	} cases[] = {
		/* folder levels */
		{"1/0/0/0/0", "yppppppppp"},
		{"2/0/0/0/0", "yypppppppp"},
		{"4/0/0/0/0", "yyyppppppp"},
		{"64/0/0/0/0", "yyyppppppp"},
		/* folder 0: object levels count for nothing */
		{"0/64/64/64/0", "nnnnnnnnnn"},
		/* read levels */
		{"1/1/0/0/0", "yppypppppp"},
		{"1/2/0/0/0", "yppyyppppp"},
		{"1/64/0/0/0", "yppyyppppp"},
		/* write levels */
		{"1/0/1/0/0", "yppppypppp"},
		{"1/0/2/0/0", "yppppyyppp"},
		{"1/0/64/0/0", "yppppyyppp"},
		/* delete levels */
		{"1/0/0/1/0", "yppppppypp"},
		{"1/0/0/2/0", "yppppppyyp"},
		{"1/0/0/64/0", "yppppppyyp"},
		/* admin: the folder itself, not its objects */
		{"1/0/0/0/1", "yppppppppy"},
		{"0/0/0/0/1", "yppppppppy"},
		/* the roles */
		{"viewer", "yppyyppppp"},
		{"author", "yypyyypypp"},
		{"editor", "yyyyyyyyyp"},
		{"admin", "yyyyyyyyyy"},
		{"1/1/1/1/0", "yppypypypp"},
		{"64/64/64/64/0", "yyyyyyyyyp"},
	};
	struct world w;
	world_make(S(f), &w);
	int64_t folder = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "Shared");
	record(S(f), folder, "alice.ics", w.alice, false);
	record(S(f), folder, "bob.ics", w.bob, false);
	/* Another user's update does not make the object theirs. */
	record(S(f), folder, "alice.ics", w.bob, false);
	g_assert_cmpint(creator_of(S(f), folder, "alice.ics"), ==, w.alice);
	g_assert_cmpint(creator_of(S(f), folder, "bob.ics"), ==, w.bob);

	char got[11];
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		grant(S(f), w.alice, folder, w.carol, cases[i].perm);
		/* Carol's own object is one she created in this round. */
		char *own = g_strdup_printf("carol-%zu.ics", i);
		record(S(f), folder, own, w.carol, false);
		outcomes(S(f), w.carol, folder, own, "alice.ics", got);
		if (strcmp(got, cases[i].expect) != 0)
			g_error("%s: expected %s, got %s", cases[i].perm, cases[i].expect, got);
		struct folder_perm want;
		g_assert_cmpint(folder_perm_parse(cases[i].perm, &want), ==, 0);
		/* folder_perm_format() has one buffer: keep a copy. */
		char *want_text = g_strdup(folder_perm_format(&want));
		assert_rights(S(f), w.carol, folder, want_text);
		/* The listing agrees with the decision. */
		assert_listed(S(f), w.carol, folder, cases[i].expect[0] == 'y' ? want_text : NULL);
		g_free(want_text);
		g_free(own);
	}
	/* The owner and the system hold everything; nobody else anything. */
	outcomes(S(f), w.alice, folder, "alice.ics", "bob.ics", got);
	g_assert_cmpstr(got, ==, "yyyyyyyyyy");
	outcomes(S(f), FOLDER_SYSTEM_ACTOR, folder, "alice.ics", "bob.ics", got);
	g_assert_cmpstr(got, ==, "yyyyyyyyyy");
	outcomes(S(f), w.bob, folder, "bob.ics", "alice.ics", got);
	g_assert_cmpstr(got, ==, "nnnnnnnnnn");
	/* An object with no known creator is nobody's own. */
	struct ox_error err = {0};
	grant(S(f), w.alice, folder, w.carol, "1/1/1/1/0");
	g_assert_cmpint(folder_check(S(f), w.carol, folder, FOLDER_READ_OBJECT, 0, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
}

static void test_groups(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t editors;
	g_assert_cmpint(group_create(S(f), "acme", "editors", NULL, &editors, &err), ==, 0);
	g_assert_cmpint(group_add_member(S(f), "acme", "editors", "bob@acme.example", &err), ==, 0);
	int64_t folder = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CONTACTS, "Customers");
	record(S(f), folder, "alice.vcf", w.alice, false);
	record(S(f), folder, "bob.vcf", w.bob, false);
	char got[11];

	/* A right given to a group reaches its members, and only them. */
	grant(S(f), w.alice, folder, w.team, "viewer");
	outcomes(S(f), w.bob, folder, "bob.vcf", "alice.vcf", got);
	g_assert_cmpstr(got, ==, "yppyyppppp");
	outcomes(S(f), w.carol, folder, "alice.vcf", "alice.vcf", got);
	g_assert_cmpstr(got, ==, "nnnnnnnnnn");
	struct folder_info **list = NULL;
	g_assert_cmpint(folder_list(S(f), w.bob, FOLDER_CONTACTS, &list, &err), ==, 0);
	bool listed = false;
	for (struct folder_info **i = list; *i != NULL; i++) {
		if ((*i)->id == folder) {
			listed = true;
			g_assert_true((*i)->shared);
			g_assert_cmpstr(folder_perm_format(&(*i)->rights), ==, "viewer");
		}
	}
	g_assert_true(listed);
	folder_list_free(&list);

	/* The union of the user's entry and every group's entry, level by
	 * level. */
	grant(S(f), w.alice, folder, w.bob, "2/0/1/0/0");
	grant(S(f), w.alice, folder, editors, "1/1/0/2/0");
	assert_rights(S(f), w.bob, folder, "2/2/1/2/0");
	assert_listed(S(f), w.bob, folder, "2/2/1/2/0");
	outcomes(S(f), w.bob, folder, "bob.vcf", "alice.vcf", got);
	g_assert_cmpstr(got, ==, "yypyyypyyp");

	/* Admin from any one entry, whichever it is. */
	grant(S(f), w.alice, folder, w.team, "1/0/0/0/1");
	assert_rights(S(f), w.bob, folder, "2/1/1/2/1");
	assert_listed(S(f), w.bob, folder, "2/1/1/2/1");
	grant(S(f), w.alice, folder, w.team, "viewer");
	grant(S(f), w.alice, folder, w.bob, "2/0/1/0/1");
	assert_rights(S(f), w.bob, folder, "2/2/1/2/1");
	assert_listed(S(f), w.bob, folder, "2/2/1/2/1");
	grant(S(f), w.alice, folder, w.bob, "2/0/1/0/0");

	/* Leaving a group takes its rights away; the rest stays. */
	g_assert_cmpint(group_remove_member(S(f), "acme", "team", "bob@acme.example", &err), ==, 0);
	assert_rights(S(f), w.bob, folder, "2/1/1/2/0");
	outcomes(S(f), w.bob, folder, "bob.vcf", "alice.vcf", got);
	g_assert_cmpstr(got, ==, "yypypypyyp");
	g_assert_cmpint(group_remove_member(S(f), "acme", "editors", "bob@acme.example", &err), ==,
	                0);
	assert_rights(S(f), w.bob, folder, "2/0/1/0/0");
	grant(S(f), w.alice, folder, w.bob, "none");
	assert_rights(S(f), w.bob, folder, "none");
	outcomes(S(f), w.bob, folder, "bob.vcf", "alice.vcf", got);
	g_assert_cmpstr(got, ==, "nnnnnnnnnn");

	/* Joining a group gives its rights at once; deleting the group takes
	 * them away with its entries. */
	g_assert_cmpint(group_add_member(S(f), "acme", "editors", "carol@acme.example", &err), ==,
	                0);
	assert_rights(S(f), w.carol, folder, "1/1/0/2/0");
	g_assert_cmpint(group_delete(S(f), "acme", "editors", &err), ==, 0);
	assert_rights(S(f), w.carol, folder, "none");
}

static void test_public(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t pub;
	g_assert_cmpint(folder_create(S(f), FOLDER_SYSTEM_ACTOR, w.ctx, 0, true, FOLDER_CALENDAR,
	                              "Holidays", &pub, &err),
	                ==, 0);
	struct folder_info info;
	g_assert_cmpint(folder_get(S(f), FOLDER_SYSTEM_ACTOR, pub, &info, &err), ==, 1);
	g_assert_cmpint(info.owner_id, ==, 0);
	g_assert_cmpint(info.context_id, ==, w.ctx);
	g_assert_cmpint(info.parent_id, ==, 0);
	g_assert_false(info.shared);
	folder_info_clear(&info);

	/* Only the system makes public folders, and none without an owner
	 * in the private tree. */
	char *before = store_fixture_snapshot(S(f));
	expect_refused(
		S(f), before,
		folder_create(S(f), w.alice, w.ctx, 0, true, FOLDER_CALENDAR, "Mine", NULL, &err),
		&err, OX_ERR_PERM);
	expect_refused(S(f), before,
	               folder_create(S(f), FOLDER_SYSTEM_ACTOR, w.ctx, 0, false, FOLDER_CALENDAR,
	                             "Nobody's", NULL, &err),
	               &err, OX_ERR_INVALID);
	g_free(before);

	/* Invisible to a user without a permission. */
	struct folder_info **list = NULL;
	g_assert_cmpint(folder_list(S(f), w.bob, 0, &list, &err), ==, 0);
	g_assert_null(find_in(list, pub));
	folder_list_free(&list);
	g_assert_cmpint(folder_get(S(f), w.bob, pub, &info, &err), ==, 0);
	g_assert_cmpint(outcome(S(f), w.bob, pub, FOLDER_SEE, 0), ==, 'n');

	/* Visible once granted, through a group too, and not as "shared":
	 * nobody owns it. */
	grant(S(f), FOLDER_SYSTEM_ACTOR, pub, w.team, "viewer");
	g_assert_cmpint(folder_list(S(f), w.bob, 0, &list, &err), ==, 0);
	struct folder_info *seen = find_in(list, pub);
	g_assert_nonnull(seen);
	g_assert_false(seen->shared);
	g_assert_cmpint(seen->owner_id, ==, 0);
	g_assert_cmpstr(folder_perm_format(&seen->rights), ==, "viewer");
	folder_list_free(&list);
	g_assert_cmpint(folder_list(S(f), w.alice, 0, &list, &err), ==, 0);
	g_assert_null(find_in(list, pub));
	folder_list_free(&list);

	/* A viewer cannot share it on. */
	before = store_fixture_snapshot(S(f));
	struct folder_perm viewer;
	folder_perm_parse("viewer", &viewer);
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.bob, pub, w.alice, &viewer, &err), &err,
	               OX_ERR_PERM);
	g_free(before);

	/* An editor's subfolder stays public and is administered by them. */
	grant(S(f), FOLDER_SYSTEM_ACTOR, pub, w.carol, "editor");
	int64_t sub;
	g_assert_cmpint(folder_create(S(f), w.carol, w.ctx, pub, false, FOLDER_CALENDAR, "2025",
	                              &sub, &err),
	                ==, 0);
	g_assert_cmpint(folder_get(S(f), w.carol, sub, &info, &err), ==, 1);
	g_assert_cmpint(info.owner_id, ==, 0);
	g_assert_cmpint(info.parent_id, ==, pub);
	g_assert_false(info.shared);
	g_assert_true(info.rights.admin);
	folder_info_clear(&info);
	g_assert_cmpint(folder_get(S(f), w.bob, sub, &info, &err), ==, 0);
	/* Its changes count on the context's public account. */
	int64_t m1 = record(S(f), sub, "a.ics", w.carol, false);
	int64_t m2 = record(S(f), pub, "b.ics", w.carol, false);
	g_assert_cmpint(m2, ==, m1 + 1);
}

static void test_shared_view(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t team_cal = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "Team");
	int64_t diary = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "Diary");
	int64_t alice_inbox;
	g_assert_cmpint(folder_by_role(S(f), w.alice, "inbox", &alice_inbox, &err), ==, 1);
	grant(S(f), w.alice, team_cal, w.bob, "author");

	struct folder_info **list = NULL;
	g_assert_cmpint(folder_list(S(f), w.bob, 0, &list, &err), ==, 0);
	int own = 0, shared = 0;
	bool own_phase = true;
	for (struct folder_info **i = list; *i != NULL; i++) {
		struct folder_info *fi = *i;
		if (fi->owner_id == w.bob) {
			/* The viewer's own folders come first. */
			g_assert_true(own_phase);
			g_assert_false(fi->shared);
			g_assert_cmpstr(folder_perm_format(&fi->rights), ==, "admin");
			own++;
		} else {
			own_phase = false;
			g_assert_cmpint(fi->id, ==, team_cal);
			g_assert_true(fi->shared);
			g_assert_cmpint(fi->owner_id, ==, w.alice);
			g_assert_cmpstr(fi->name, ==, "Team");
			g_assert_cmpstr(folder_perm_format(&fi->rights), ==, "author");
			shared++;
		}
	}
	g_assert_cmpint(own, ==, 10);
	g_assert_cmpint(shared, ==, 1);
	g_assert_null(find_in(list, diary));
	g_assert_null(find_in(list, alice_inbox));
	folder_list_free(&list);

	/* Filtered by module. */
	g_assert_cmpint(folder_list(S(f), w.bob, FOLDER_CALENDAR, &list, &err), ==, 0);
	g_assert_nonnull(list[0]);
	g_assert_nonnull(list[1]);
	g_assert_null(list[2]);
	g_assert_nonnull(find_in(list, team_cal));
	folder_list_free(&list);
	g_assert_cmpint(folder_list(S(f), w.bob, FOLDER_MAIL, &list, &err), ==, 0);
	g_assert_null(find_in(list, team_cal));
	folder_list_free(&list);

	/* The owner sees it as their own. */
	struct folder_info info;
	g_assert_cmpint(folder_get(S(f), w.alice, team_cal, &info, &err), ==, 1);
	g_assert_false(info.shared);
	folder_info_clear(&info);
	g_assert_cmpint(folder_get(S(f), w.bob, team_cal, &info, &err), ==, 1);
	g_assert_true(info.shared);
	g_assert_cmpstr(info.name, ==, "Team");
	folder_info_clear(&info);

	/* An unshared folder is not revealed: no folder, the same answer as
	 * for an id that does not exist. */
	memset(&info, 0x5a, sizeof(info));
	g_assert_cmpint(folder_get(S(f), w.bob, diary, &info, &err), ==, 0);
	g_assert_null(info.name);
	g_assert_cmpint(info.id, ==, 0);
	g_assert_cmpint(folder_get(S(f), w.bob, diary + 100000, &info, &err), ==, 0);
	struct ox_error hidden = {0}, absent = {0};
	g_assert_cmpint(folder_check(S(f), w.bob, diary, FOLDER_READ_OBJECT, w.alice, &hidden), ==,
	                -1);
	g_assert_cmpint(
		folder_check(S(f), w.bob, diary + 100000, FOLDER_READ_OBJECT, w.alice, &absent), ==,
		-1);
	g_assert_cmpint(hidden.code, ==, OX_ERR_NOT_FOUND);
	g_assert_cmpint(absent.code, ==, OX_ERR_NOT_FOUND);
	g_assert_cmpstr(hidden.message, ==, absent.message);
	/* Nor is it to a user of another context. */
	g_assert_cmpint(folder_get(S(f), w.zed, team_cal, &info, &err), ==, 0);
}

static int64_t count_rows(struct store *s, const char *sql, int64_t id)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(s, sql, &err);
	if (st == NULL)
		g_error("%s: %s", sql, err.message);
	store_bind_int(st, 1, id);
	if (store_step(st, &err) != 1)
		g_error("%s: %s", sql, err.message);
	int64_t n = store_col_int(st, 0);
	store_stmt_done(&st);
	return n;
}

static void test_revocation(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t folder = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_TASKS, "Project");
	const char *per_folder = "SELECT COUNT(*) FROM permissions WHERE folder_id = $1";

	/* A permission struct is compared by value, whatever its padding
	 * holds. */
	struct folder_perm editor;
	memset(&editor, 0xa5, sizeof(editor));
	editor.folder = PERM_FOLDER_CREATE_SUBFOLDERS;
	editor.read = editor.write = editor.del = PERM_OBJECTS_ALL;
	editor.admin = false;
	g_assert_cmpint(folder_set_permission(S(f), w.alice, folder, w.bob, &editor, &err), ==, 0);
	assert_rights(S(f), w.bob, folder, "editor");
	struct folder_permission_entry *entries;
	int count;
	g_assert_cmpint(folder_permissions(S(f), folder, &entries, &count, &err), ==, 0);
	g_assert_cmpint(count, ==, 1);
	g_assert_cmpint(entries[0].entity_id, ==, w.bob);
	g_assert_cmpstr(folder_perm_format(&entries[0].perm), ==, "editor");
	g_free(entries);

	/* Only an admin of the folder changes its permissions; one who cannot
	 * see it is not told it exists. */
	struct folder_perm viewer, none = {0};
	folder_perm_parse("viewer", &viewer);
	char *before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.bob, folder, w.carol, &viewer, &err), &err,
	               OX_ERR_PERM);
	expect_refused(S(f), before, folder_set_permission(S(f), w.bob, folder, w.bob, &none, &err),
	               &err, OX_ERR_PERM);
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.carol, folder, w.carol, &viewer, &err), &err,
	               OX_ERR_NOT_FOUND);
	/* Entities: a user or group of the folder's context, not its owner. */
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, w.room, &viewer, &err), &err,
	               OX_ERR_INVALID);
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, 987654, &viewer, &err), &err,
	               OX_ERR_INVALID);
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, w.zed, &viewer, &err), &err,
	               OX_ERR_INVALID);
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, w.alice, &none, &err), &err,
	               OX_ERR_INVALID);
	/* Levels outside the table. */
	struct folder_perm bad = {3, 0, 0, 0, false};
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, w.carol, &bad, &err), &err,
	               OX_ERR_INVALID);
	bad = (struct folder_perm){PERM_FOLDER_SEE, 128 + PERM_OBJECTS_ALL, 0, 0, false};
	expect_refused(S(f), before,
	               folder_set_permission(S(f), w.alice, folder, w.carol, &bad, &err), &err,
	               OX_ERR_INVALID);
	expect_refused(
		S(f), before,
		folder_set_permission(S(f), w.alice, folder + 100000, w.carol, &viewer, &err), &err,
		OX_ERR_NOT_FOUND);
	g_free(before);

	/* A delegated admin may share, and revoke. */
	grant(S(f), w.alice, folder, w.bob, "1/0/0/0/1");
	struct folder_info info;
	g_assert_cmpint(folder_get(S(f), w.alice, folder, &info, &err), ==, 1);
	int64_t modseq = info.modseq;
	folder_info_clear(&info);
	g_assert_cmpint(folder_set_permission(S(f), w.bob, folder, w.carol, &viewer, &err), ==, 0);
	g_assert_cmpint(outcome(S(f), w.carol, folder, FOLDER_READ_OBJECT, w.alice), ==, 'y');
	/* Clients learn of the change through the folder's modseq. */
	g_assert_cmpint(folder_get(S(f), w.alice, folder, &info, &err), ==, 1);
	g_assert_cmpint(info.modseq, >, modseq);
	folder_info_clear(&info);
	g_assert_cmpint(count_rows(S(f), per_folder, folder), ==, 2);

	/* All zero removes the entry, and with it every access. */
	g_assert_cmpint(folder_set_permission(S(f), w.bob, folder, w.carol, &none, &err), ==, 0);
	g_assert_cmpint(outcome(S(f), w.carol, folder, FOLDER_SEE, 0), ==, 'n');
	g_assert_cmpint(count_rows(S(f), per_folder, folder), ==, 1);
	struct folder_info **list = NULL;
	g_assert_cmpint(folder_list(S(f), w.carol, 0, &list, &err), ==, 0);
	g_assert_null(find_in(list, folder));
	folder_list_free(&list);
	/* An admin may revoke their own entry. */
	g_assert_cmpint(folder_set_permission(S(f), w.bob, folder, w.bob, &none, &err), ==, 0);
	g_assert_cmpint(outcome(S(f), w.bob, folder, FOLDER_SEE, 0), ==, 'n');
	g_assert_cmpint(count_rows(S(f), per_folder, folder), ==, 0);
}

static void test_tree(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t projects = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_MAIL, "Projects");
	int64_t y2024 = make_folder(S(f), w.alice, w.ctx, projects, FOLDER_MAIL, "2024");
	int64_t q1 = make_folder(S(f), w.alice, w.ctx, y2024, FOLDER_MAIL, "Q1");
	int64_t cal = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "Work");
	int64_t bob_mail = make_folder(S(f), w.bob, w.ctx, 0, FOLDER_MAIL, "Bob's");
	char *before;

	/* Creating under a parent takes create-subfolders there. */
	grant(S(f), w.alice, projects, w.bob, "2/2/2/2/0");
	before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before,
	               folder_create(S(f), w.bob, w.ctx, projects, false, FOLDER_MAIL, "Bob's part",
	                             NULL, &err),
	               &err, OX_ERR_PERM);
	expect_refused(S(f), before,
	               folder_create(S(f), w.carol, w.ctx, projects, false, FOLDER_MAIL, "Carol's",
	                             NULL, &err),
	               &err, OX_ERR_NOT_FOUND);
	expect_refused(S(f), before,
	               folder_create(S(f), w.alice, w.ctx, projects, false, FOLDER_CALENDAR,
	                             "Meetings", NULL, &err),
	               &err, OX_ERR_INVALID);
	expect_refused(S(f), before,
	               folder_create(S(f), w.alice, w.ctx, projects, false, FOLDER_MAIL, "2024",
	                             NULL, &err),
	               &err, OX_ERR_EXISTS);
	expect_refused(S(f), before,
	               folder_create(S(f), w.alice, w.ctx, projects, false, FOLDER_MAIL, "a/b",
	                             NULL, &err),
	               &err, OX_ERR_INVALID);
	/* A private tree lies in its owner's context. */
	expect_refused(S(f), before,
	               folder_create(S(f), w.alice, w.other_ctx, 0, false, FOLDER_MAIL, "Abroad",
	                             NULL, &err),
	               &err, OX_ERR_INVALID);
	g_free(before);
	grant(S(f), w.alice, projects, w.bob, "editor");
	int64_t bobs_part;
	g_assert_cmpint(folder_create(S(f), w.bob, w.ctx, projects, false, FOLDER_MAIL,
	                              "Bob's part", &bobs_part, &err),
	                ==, 0);
	/* It stays in Alice's tree; Bob administers what he made. */
	struct folder_info info;
	g_assert_cmpint(folder_get(S(f), w.bob, bobs_part, &info, &err), ==, 1);
	g_assert_cmpint(info.owner_id, ==, w.alice);
	g_assert_true(info.shared);
	g_assert_cmpstr(folder_perm_format(&info.rights), ==, "admin");
	folder_info_clear(&info);
	g_assert_cmpint(outcome(S(f), w.alice, bobs_part, FOLDER_ADMIN, 0), ==, 'y');

	/* Rename, move and delete take admin on the folder. */
	before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, folder_rename(S(f), w.bob, projects, "Renamed", &err), &err,
	               OX_ERR_PERM);
	expect_refused(S(f), before, folder_move(S(f), w.bob, projects, 0, &err), &err,
	               OX_ERR_PERM);
	expect_refused(S(f), before, folder_delete(S(f), w.bob, projects, &err), &err, OX_ERR_PERM);
	/* Without a permission of his own, a subfolder is not his to see. */
	expect_refused(S(f), before, folder_move(S(f), w.bob, y2024, projects, &err), &err,
	               OX_ERR_NOT_FOUND);
	expect_refused(S(f), before, folder_delete(S(f), w.carol, y2024, &err), &err,
	               OX_ERR_NOT_FOUND);
	/* Not into its own subtree, nor onto itself. */
	expect_refused(S(f), before, folder_move(S(f), w.alice, projects, q1, &err), &err,
	               OX_ERR_INVALID);
	expect_refused(S(f), before, folder_move(S(f), w.alice, projects, projects, &err), &err,
	               OX_ERR_INVALID);
	/* Not into another module's or another owner's tree. */
	expect_refused(S(f), before, folder_move(S(f), w.alice, cal, projects, &err), &err,
	               OX_ERR_INVALID);
	grant(S(f), w.bob, bob_mail, w.alice, "editor");
	g_free(before);
	before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, folder_move(S(f), w.alice, q1, bob_mail, &err), &err,
	               OX_ERR_INVALID);
	/* Sibling names are unique, however a name arrives. */
	expect_refused(S(f), before, folder_rename(S(f), w.alice, bobs_part, "2024", &err), &err,
	               OX_ERR_EXISTS);
	expect_refused(S(f), before, folder_rename(S(f), w.alice, y2024, "", &err), &err,
	               OX_ERR_INVALID);
	g_free(before);
	int64_t other_q1 = make_folder(S(f), w.alice, w.ctx, projects, FOLDER_MAIL, "Q1");
	before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, folder_move(S(f), w.alice, other_q1, y2024, &err), &err,
	               OX_ERR_EXISTS);
	/* An admin of a folder in someone's tree cannot put it at the top of
	 * that tree: only the owner makes top-level folders there. */
	expect_refused(S(f), before, folder_move(S(f), w.bob, bobs_part, 0, &err), &err,
	               OX_ERR_PERM);
	g_free(before);

	/* What is allowed happens, and stamps the folder. */
	g_assert_cmpint(folder_get(S(f), w.alice, q1, &info, &err), ==, 1);
	int64_t modseq = info.modseq;
	folder_info_clear(&info);
	g_assert_cmpint(folder_move(S(f), w.alice, q1, projects, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_EXISTS);
	memset(&err, 0, sizeof(err));
	g_assert_cmpint(folder_rename(S(f), w.alice, q1, "First quarter", &err), ==, 0);
	g_assert_cmpint(folder_get(S(f), w.alice, q1, &info, &err), ==, 1);
	g_assert_cmpstr(info.name, ==, "First quarter");
	g_assert_cmpint(info.modseq, >, modseq);
	modseq = info.modseq;
	folder_info_clear(&info);
	g_assert_cmpint(folder_move(S(f), w.alice, q1, projects, &err), ==, 0);
	g_assert_cmpint(folder_get(S(f), w.alice, q1, &info, &err), ==, 1);
	g_assert_cmpint(info.parent_id, ==, projects);
	g_assert_cmpint(info.modseq, >, modseq);
	folder_info_clear(&info);
	g_assert_cmpint(folder_move(S(f), w.alice, q1, y2024, &err), ==, 0);
	g_assert_cmpint(folder_move(S(f), w.alice, other_q1, 0, &err), ==, 0);
	g_assert_cmpint(folder_rename(S(f), w.bob, bobs_part, "Bob's share", &err), ==, 0);

	/* Delete takes the subtree and leaves a tombstone for each folder. */
	record(S(f), q1, "m1", w.alice, false);
	grant(S(f), w.alice, q1, w.carol, "viewer");
	int64_t gone[] = {projects, y2024, q1, bobs_part};
	g_assert_cmpint(folder_delete(S(f), w.alice, projects, &err), ==, 0);
	int64_t newest = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(gone); i++) {
		g_assert_cmpint(folder_get(S(f), w.alice, gone[i], &info, &err), ==, 0);
		g_assert_cmpint(
			count_rows(S(f), "SELECT COUNT(*) FROM folders WHERE id = $1", gone[i]), ==,
			0);
		g_assert_cmpint(count_rows(S(f),
		                           "SELECT COUNT(*) FROM folder_tombstones WHERE id = $1 "
		                           "AND modseq > 0",
		                           gone[i]),
		                ==, 1);
		g_assert_cmpint(count_rows(S(f),
		                           "SELECT account_id FROM folder_tombstones WHERE "
		                           "id = $1",
		                           gone[i]),
		                ==, w.alice);
		newest = MAX(newest,
		             count_rows(S(f), "SELECT modseq FROM folder_tombstones WHERE id = $1",
		                        gone[i]));
		g_assert_cmpint(count_rows(S(f),
		                           "SELECT COUNT(*) FROM permissions WHERE folder_id = $1",
		                           gone[i]),
		                ==, 0);
		g_assert_cmpint(count_rows(S(f),
		                           "SELECT COUNT(*) FROM changes WHERE folder_id = $1",
		                           gone[i]),
		                ==, 0);
	}
	g_assert_cmpint(count_rows(S(f), "SELECT COUNT(*) FROM folders WHERE id = $1", other_q1),
	                ==, 1);
	/* The tombstones come after every earlier change of the account. */
	g_assert_cmpint(
		newest, ==,
		count_rows(S(f), "SELECT modseq FROM modseqs WHERE account_id = $1", w.alice));
}

struct collected {
	GString *text;
};

static int collect(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	struct collected *c = ctx;
	g_string_append_printf(c->text, "%s@%" G_GINT64_FORMAT "%s ", object, modseq,
	                       deleted ? "-" : "");
	return 0;
}

static char *changes(struct store *s, int64_t folder, int64_t since, int64_t *current_r)
{
	struct ox_error err = {0};
	struct collected c = {g_string_new(NULL)};
	if (changes_since(s, folder, since, collect, &c, current_r, &err) < 0)
		g_error("changes_since: %s", err.message);
	return g_string_free(c.text, FALSE);
}

static void assert_changes(struct store *s, int64_t folder, int64_t since, int64_t current,
                           const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static void assert_changes(struct store *s, int64_t folder, int64_t since, int64_t current,
                           const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *want = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	int64_t got_current = -1;
	char *got = changes(s, folder, since, &got_current);
	g_assert_cmpstr(got, ==, want);
	g_assert_cmpint(got_current, ==, current);
	g_free(got);
	g_free(want);
}

static void test_changes(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t f1 = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "One");
	int64_t f2 = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_CALENDAR, "Two");
	int64_t bobs = make_folder(S(f), w.bob, w.ctx, 0, FOLDER_CALENDAR, "Bob's");
	int64_t start;
	char *empty = changes(S(f), f1, 0, &start);
	g_assert_cmpstr(empty, ==, "");
	g_free(empty);

	/* One counter per account, shared by its folders, without gaps. */
	int64_t a1 = record(S(f), f1, "a", w.alice, false);
	g_assert_cmpint(a1, >, start);
	int64_t b1 = record(S(f), f1, "b", w.bob, false);
	int64_t c1 = record(S(f), f2, "c", w.alice, false);
	g_assert_cmpint(b1, ==, a1 + 1);
	g_assert_cmpint(c1, ==, b1 + 1);
	/* Another account's counter is its own. */
	int64_t x1 = record(S(f), bobs, "x", w.bob, false);
	int64_t x2 = record(S(f), bobs, "y", w.alice, false);
	g_assert_cmpint(x2, ==, x1 + 1);
	int64_t a2 = record(S(f), f1, "a", w.bob, false);
	g_assert_cmpint(a2, ==, c1 + 1);
	int64_t b2 = record(S(f), f1, "b", w.alice, true);
	g_assert_cmpint(b2, ==, a2 + 1);

	/* Exactly what changed after a modseq, in order, newest state only,
	 * deletions as tombstones. */
	assert_changes(S(f), f1, 0, b2, "a@%" G_GINT64_FORMAT " b@%" G_GINT64_FORMAT "- ", a2, b2);
	assert_changes(S(f), f1, a1, b2, "a@%" G_GINT64_FORMAT " b@%" G_GINT64_FORMAT "- ", a2, b2);
	assert_changes(S(f), f1, a2, b2, "b@%" G_GINT64_FORMAT "- ", b2);
	assert_changes(S(f), f1, b2, b2, "%s", "");
	assert_changes(S(f), f2, 0, c1, "c@%" G_GINT64_FORMAT " ", c1);
	assert_changes(S(f), f2, c1, c1, "%s", "");

	/* "Own" follows the creator, not the last editor; a deleted object
	 * has none, and whoever makes it again is its new creator. */
	g_assert_cmpint(creator_of(S(f), f1, "a"), ==, w.alice);
	int64_t creator = -1;
	g_assert_cmpint(change_object_creator(S(f), f1, "b", &creator, &err), ==, 0);
	g_assert_cmpint(change_object_creator(S(f), f1, "nothing", &creator, &err), ==, 0);
	int64_t b3 = record(S(f), f1, "b", w.carol, false);
	g_assert_cmpint(creator_of(S(f), f1, "b"), ==, w.carol);
	int64_t d1 = record(S(f), f1, "d", FOLDER_SYSTEM_ACTOR, false);
	g_assert_cmpint(creator_of(S(f), f1, "d"), ==, 0);
	assert_changes(S(f), f1, a2, d1, "b@%" G_GINT64_FORMAT " d@%" G_GINT64_FORMAT " ", b3, d1);

	/* A change to the folder itself moves its modseq too. */
	grant(S(f), w.alice, f1, w.carol, "viewer");
	int64_t current = 0;
	char *none = changes(S(f), f1, d1, &current);
	g_assert_cmpstr(none, ==, "");
	g_assert_cmpint(current, ==, d1 + 1);
	g_free(none);

	/* Refused input changes nothing. */
	char *before = store_fixture_snapshot(S(f));
	expect_refused(S(f), before, change_record(S(f), f1, "", w.alice, false, NULL, &err), &err,
	               OX_ERR_INVALID);
	char *huge = g_strnfill(1025, 'o');
	expect_refused(S(f), before, change_record(S(f), f1, huge, w.alice, false, NULL, &err),
	               &err, OX_ERR_INVALID);
	g_free(huge);
	expect_refused(S(f), before,
	               change_record(S(f), f1 + 100000, "a", w.alice, false, NULL, &err), &err,
	               OX_ERR_NOT_FOUND);
	g_free(before);
}

/* What the deleting hook saw, and whether it fails for one folder. */
static GArray *deleting_seen;
static int64_t deleting_fails_for;

static int deleting_hook(struct store *s, int64_t folder_id, enum folder_module module,
                         struct ox_error *err)
{
	if (deleting_seen != NULL)
		g_array_append_val(deleting_seen, folder_id);
	if (folder_id == deleting_fails_for)
		return ox_error_set(err, OX_ERR_TEMP, "the hook failed");
	return 0;
}

static bool seen(int64_t id)
{
	guint n = 0;
	for (guint i = 0; i < deleting_seen->len; i++)
		n += g_array_index(deleting_seen, int64_t, i) == id;
	return n == 1;
}

static void test_deleting_hook(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t top = make_folder(S(f), w.bob, w.ctx, 0, FOLDER_FILES, "Top");
	int64_t sub = make_folder(S(f), w.bob, w.ctx, top, FOLDER_FILES, "Sub");
	int64_t subsub = make_folder(S(f), w.bob, w.ctx, sub, FOLDER_FILES, "SubSub");
	int64_t pub = 0;
	g_assert_cmpint(folder_create(S(f), FOLDER_SYSTEM_ACTOR, w.ctx, 0, true, FOLDER_FILES,
	                              "Public", &pub, &err),
	                ==, 0);
	deleting_seen = g_array_new(FALSE, FALSE, sizeof(int64_t));

	/* A failing hook aborts the deletion: nothing changed. */
	deleting_fails_for = subsub;
	char *before = store_fixture_snapshot(S(f));
	g_assert_cmpint(folder_delete(S(f), w.bob, top, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_TEMP);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	/* Each folder of the subtree, once, before it goes. */
	deleting_fails_for = 0;
	g_array_set_size(deleting_seen, 0);
	g_assert_cmpint(folder_delete(S(f), w.bob, sub, &err), ==, 0);
	g_assert_cmpuint(deleting_seen->len, ==, 2);
	g_assert_true(seen(sub) && seen(subsub));

	/* Every folder of a deleted user; the public ones with the context. */
	g_array_set_size(deleting_seen, 0);
	g_assert_cmpint(user_delete(S(f), "bob@acme.example", &err), ==, 0);
	g_assert_true(seen(top));
	g_assert_false(seen(pub));
	g_array_set_size(deleting_seen, 0);
	g_assert_cmpint(context_delete(S(f), "acme", &err), ==, 0);
	g_assert_true(seen(pub));
	g_array_unref(deleting_seen);
	deleting_seen = NULL;
}

static void test_user_delete(struct store_fixture *f, gconstpointer data)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	struct world w;
	world_make(S(f), &w);
	int64_t b = w.bob;
	/* Bob's own tree, with a share to Alice, a subfolder and a tombstone. */
	int64_t bobs = make_folder(S(f), b, w.ctx, 0, FOLDER_FILES, "Bob's files");
	make_folder(S(f), b, w.ctx, bobs, FOLDER_FILES, "Sub");
	int64_t doomed = make_folder(S(f), b, w.ctx, bobs, FOLDER_FILES, "Doomed");
	record(S(f), bobs, "report.odt", b, false);
	grant(S(f), b, bobs, w.alice, "editor");
	g_assert_cmpint(folder_delete(S(f), b, doomed, &err), ==, 0);
	/* His traces in Alice's tree: a share, objects, a subfolder he made. */
	int64_t alices = make_folder(S(f), w.alice, w.ctx, 0, FOLDER_FILES, "Alice's files");
	grant(S(f), w.alice, alices, b, "editor");
	record(S(f), alices, "by-bob.odt", b, false);
	record(S(f), alices, "by-alice.odt", w.alice, false);
	int64_t made_by_bob;
	g_assert_cmpint(folder_create(S(f), b, w.ctx, alices, false, FOLDER_FILES, "From Bob",
	                              &made_by_bob, &err),
	                ==, 0);
	int64_t pub;
	g_assert_cmpint(folder_create(S(f), FOLDER_SYSTEM_ACTOR, w.ctx, 0, true, FOLDER_FILES,
	                              "Public", &pub, &err),
	                ==, 0);
	grant(S(f), FOLDER_SYSTEM_ACTOR, pub, b, "author");
	/* And in the directory. */
	g_assert_cmpint(user_add_address(S(f), "bob@acme.example", "robert@acme.example", &err), ==,
	                0);
	struct auth_session session;
	g_assert_cmpint(session_create(S(f), b, "test", &session, &err), ==, 0);
	char app[AUTH_APP_PASSWORD_LEN + 1];
	g_assert_cmpint(app_password_add(S(f), "bob@acme.example", "phone", app, &err), ==, 0);

	static const char *const naming[] = {
		"SELECT COUNT(*) FROM folders WHERE owner_id = $1 OR created_by = $1 OR "
		"account_id = $1",
		"SELECT COUNT(*) FROM permissions WHERE entity_id = $1",
		"SELECT COUNT(*) FROM modseqs WHERE account_id = $1",
		"SELECT COUNT(*) FROM folder_tombstones WHERE account_id = $1",
		"SELECT COUNT(*) FROM changes WHERE created_by = $1",
		"SELECT COUNT(*) FROM group_members WHERE member_id = $1",
		"SELECT COUNT(*) FROM sessions WHERE user_id = $1",
		"SELECT COUNT(*) FROM app_passwords WHERE user_id = $1",
		"SELECT COUNT(*) FROM addresses WHERE principal_id = $1",
		"SELECT COUNT(*) FROM users WHERE principal_id = $1",
		"SELECT COUNT(*) FROM principals WHERE id = $1",
	};
	/* Every query finds Bob before, so that none of them passes by
	 * looking in the wrong place. */
	for (size_t i = 0; i < G_N_ELEMENTS(naming); i++) {
		if (count_rows(S(f), naming[i], b) == 0)
			g_error("nothing before the delete: %s", naming[i]);
	}
	g_assert_cmpint(user_delete(S(f), "bob@acme.example", &err), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(naming); i++) {
		int64_t left = count_rows(S(f), naming[i], b);
		if (left != 0)
			g_error("%" G_GINT64_FORMAT " rows still name the user: %s", left,
			        naming[i]);
	}
	/* The permission rows on his folders went with them. */
	g_assert_cmpint(
		count_rows(S(f), "SELECT COUNT(*) FROM permissions WHERE folder_id = $1", bobs), ==,
		0);
	/* Alice keeps what is hers, with his objects and his subfolder. */
	g_assert_cmpint(
		count_rows(S(f), "SELECT COUNT(*) FROM changes WHERE folder_id = $1", alices), ==,
		2);
	g_assert_cmpint(creator_of(S(f), alices, "by-bob.odt"), ==, 0);
	g_assert_cmpint(creator_of(S(f), alices, "by-alice.odt"), ==, w.alice);
	struct folder_info info;
	g_assert_cmpint(folder_get(S(f), w.alice, made_by_bob, &info, &err), ==, 1);
	g_assert_cmpint(info.owner_id, ==, w.alice);
	folder_info_clear(&info);
	g_assert_cmpint(folder_get(S(f), FOLDER_SYSTEM_ACTOR, pub, &info, &err), ==, 1);
	folder_info_clear(&info);
	struct folder_info **list = NULL;
	g_assert_cmpint(folder_list(S(f), w.alice, FOLDER_FILES, &list, &err), ==, 0);
	g_assert_null(find_in(list, bobs));
	folder_list_free(&list);
	g_assert_cmpint(count_rows(S(f), "SELECT COUNT(*) FROM principals WHERE id = $1", w.alice),
	                ==, 1);
}

/* --- the mappings (pure) --- */

static const struct {
	const char *role;
	const char *imap;
	unsigned dav;
	uint32_t packed;
} role_table[] = {
	/* IMAP: letters in "lrswipkxtea" order, from the comment above
         * folder_perm_to_imap(): l with seeing, r s with reading all, w with
         * writing all, i p with creating objects, k with subfolders, t e with
         * deleting all, x a with admin. */
	{"none", "", 0, 0},
	{"viewer", "lrs",
         DAV_PRIV_READ | DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET | DAV_PRIV_READ_FREE_BUSY,
         1 | 2 << 7},
	{"author", "lrsip",
         DAV_PRIV_READ | DAV_PRIV_BIND | DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET |
                 DAV_PRIV_READ_FREE_BUSY,
         2 | 2 << 7 | 1 << 14 | 1 << 21},
	{"editor", "lrswipkte",
         DAV_PRIV_READ | DAV_PRIV_WRITE_CONTENT | DAV_PRIV_BIND | DAV_PRIV_UNBIND |
                 DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET | DAV_PRIV_READ_FREE_BUSY,
         4 | 2 << 7 | 2 << 14 | 2 << 21},
	{"admin", "lrswipkxtea", 0x3ff, 403710016},
};

static void test_imap(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(role_table); i++) {
		struct folder_perm p, back;
		g_assert_cmpint(folder_perm_parse(role_table[i].role, &p), ==, 0);
		char imap[16], again[16];
		folder_perm_to_imap(&p, imap);
		if (strcmp(imap, role_table[i].imap) != 0)
			g_error("%s: expected '%s', got '%s'", role_table[i].role,
			        role_table[i].imap, imap);
		/* The rights a client reads back are the rights it can set. */
		g_assert_cmpint(folder_perm_from_imap(imap, &back), ==, 0);
		folder_perm_to_imap(&back, again);
		g_assert_cmpstr(again, ==, imap);
		/* What IMAP can say it says exactly; "own" levels it cannot. */
		if (strcmp(role_table[i].role, "author") != 0 &&
		    strcmp(role_table[i].role, "admin") != 0)
			g_assert_cmpstr(folder_perm_format(&back), ==, role_table[i].role);
	}
	/* Own-only object rights grant no IMAP right. */
	struct folder_perm own = {PERM_FOLDER_SEE, PERM_OBJECTS_OWN, PERM_OBJECTS_OWN,
	                          PERM_OBJECTS_OWN, false};
	char imap[16];
	folder_perm_to_imap(&own, imap);
	g_assert_cmpstr(imap, ==, "l");
	/* Nothing without seeing the folder. */
	struct folder_perm blind = {0, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL, false};
	folder_perm_to_imap(&blind, imap);
	g_assert_cmpstr(imap, ==, "");

	static const struct {
		const char *rights;
		const char *perm;
	} from[] = {
		{"", "none"},
		{"l", "1/0/0/0/0"},
		{"lr", "viewer"},
		{"s", "viewer"}, /* any right implies lookup */
		{"lrswipkte", "editor"},
		{"lrswipkxtea", "4/2/2/2/1"},
		{"lrsc", "4/2/0/0/0"}, /* RFC 2086 create */
		{"lrsd", "1/2/0/2/0"}, /* RFC 2086 delete */
		{"a", "1/0/0/0/1"},
		{"x", "1/0/0/0/1"}, /* tied to a: one admin flag */
		{"i", "2/0/0/0/0"},
		{"k", "4/0/0/0/0"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(from); i++) {
		struct folder_perm p;
		g_assert_cmpint(folder_perm_from_imap(from[i].rights, &p), ==, 0);
		if (strcmp(folder_perm_format(&p), from[i].perm) != 0)
			g_error("'%s': expected %s, got %s", from[i].rights, from[i].perm,
			        folder_perm_format(&p));
	}
	static const char *const refused[] = {"lrX", "L", "lr ", "0", "lr9", "n", "lrswipkxteaq"};
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		struct folder_perm p;
		if (folder_perm_from_imap(refused[i], &p) != -1)
			g_error("'%s' accepted", refused[i]);
	}
}

static void test_dav(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(role_table); i++) {
		struct folder_perm p;
		g_assert_cmpint(folder_perm_parse(role_table[i].role, &p), ==, 0);
		unsigned got = folder_perm_to_dav(&p);
		if (got != role_table[i].dav)
			g_error("%s: expected %#x, got %#x", role_table[i].role, role_table[i].dav,
			        got);
	}
	/* Admin alone: the folder's properties and ACL, no content. */
	struct folder_perm admin_only = {0, 0, 0, 0, true};
	g_assert_cmphex(folder_perm_to_dav(&admin_only), ==,
	                DAV_PRIV_WRITE_PROPERTIES | DAV_PRIV_READ_ACL | DAV_PRIV_WRITE_ACL |
	                        DAV_PRIV_UNLOCK | DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET |
	                        DAV_PRIV_READ_FREE_BUSY);
	struct folder_perm blind = {0, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL, false};
	g_assert_cmphex(folder_perm_to_dav(&blind), ==, 0);
	struct folder_perm own = {PERM_FOLDER_SEE, PERM_OBJECTS_OWN, PERM_OBJECTS_OWN,
	                          PERM_OBJECTS_OWN, false};
	g_assert_cmphex(folder_perm_to_dav(&own), ==,
	                DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET | DAV_PRIV_READ_FREE_BUSY);
}

static void test_jmap(void)
{
	/* Flags in struct order: read, add, remove, seen, keywords, child,
	 * rename, delete, submit, write own, write all, admin. */
	static const struct {
		const char *perm;
		const char *flags;
	} cases[] = {
		{"none", "000000000000"},      {"viewer", "100100000000"},
		{"author", "110100001100"},    {"editor", "111111001110"},
		{"admin", "111111111111"},     {"0/0/0/0/1", "000000110001"},
		{"0/2/2/2/0", "000000000000"}, {"1/1/1/1/0", "000000000100"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct folder_perm p;
		g_assert_cmpint(folder_perm_parse(cases[i].perm, &p), ==, 0);
		struct jmap_rights j;
		memset(&j, 0x5a, sizeof(j));
		folder_perm_to_jmap(&p, &j);
		const bool flags[] = {j.may_read_items, j.may_add_items,    j.may_remove_items,
		                      j.may_set_seen,   j.may_set_keywords, j.may_create_child,
		                      j.may_rename,     j.may_delete,       j.may_submit,
		                      j.may_write_own,  j.may_write_all,    j.may_admin};
		char got[13];
		for (size_t k = 0; k < G_N_ELEMENTS(flags); k++)
			got[k] = flags[k] ? '1' : '0';
		got[12] = '\0';
		if (strcmp(got, cases[i].flags) != 0)
			g_error("%s: expected %s, got %s", cases[i].perm, cases[i].flags, got);
	}
}

static void test_pack(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(role_table); i++) {
		struct folder_perm p, back;
		g_assert_cmpint(folder_perm_parse(role_table[i].role, &p), ==, 0);
		g_assert_cmpuint(folder_perm_pack(&p), ==, role_table[i].packed);
		folder_perm_unpack(role_table[i].packed, &back);
		g_assert_cmpstr(folder_perm_format(&back), ==, role_table[i].role);
	}
	/* Open-Xchange's layout, field by field. */
	static const struct {
		struct folder_perm perm;
		uint32_t bits;
	} layout[] = {
		{{64, 0, 0, 0, false}, 64},
		{{0, 64, 0, 0, false}, 64u << 7},
		{{0, 0, 64, 0, false}, 64u << 14},
		{{0, 0, 0, 64, false}, 64u << 21},
		{{0, 0, 0, 0, true}, 1u << 28},
		{{4, 2, 1, 1, false}, 4 | 2u << 7 | 1u << 14 | 1u << 21},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(layout); i++) {
		g_assert_cmpuint(folder_perm_pack(&layout[i].perm), ==, layout[i].bits);
		struct folder_perm back;
		folder_perm_unpack(layout[i].bits, &back);
		g_assert_cmpint(back.folder, ==, layout[i].perm.folder);
		g_assert_cmpint(back.read, ==, layout[i].perm.read);
		g_assert_cmpint(back.write, ==, layout[i].perm.write);
		g_assert_cmpint(back.del, ==, layout[i].perm.del);
		g_assert_cmpint(back.admin, ==, layout[i].perm.admin);
	}
	/* Every valid combination round-trips. */
	static const int folder_levels[] = {0, 1, 2, 4, 64};
	static const int object_levels[] = {0, 1, 2, 64};
	int n = 0;
	for (size_t a = 0; a < G_N_ELEMENTS(folder_levels); a++)
		for (size_t r = 0; r < G_N_ELEMENTS(object_levels); r++)
			for (size_t w = 0; w < G_N_ELEMENTS(object_levels); w++)
				for (size_t d = 0; d < G_N_ELEMENTS(object_levels); d++)
					for (int adm = 0; adm < 2; adm++) {
						struct folder_perm p = {folder_levels[a],
						                        object_levels[r],
						                        object_levels[w],
						                        object_levels[d], adm != 0};
						struct folder_perm back, parsed;
						folder_perm_unpack(folder_perm_pack(&p), &back);
						g_assert_cmpuint(folder_perm_pack(&back), ==,
						                 folder_perm_pack(&p));
						g_assert_cmpint(back.folder, ==, p.folder);
						g_assert_cmpint(back.del, ==, p.del);
						g_assert_cmpint(back.admin, ==, p.admin);
						/* And through text. */
						g_assert_cmpint(
							folder_perm_parse(folder_perm_format(&p),
						                          &parsed),
							==, 0);
						g_assert_cmpuint(folder_perm_pack(&parsed), ==,
						                 folder_perm_pack(&p));
						n++;
					}
	g_assert_cmpint(n, ==, 5 * 4 * 4 * 4 * 2);
}

static void test_parse(void)
{
	static const struct {
		const char *text;
		const char *canonical;
	} ok[] = {
		{"none", "none"},           {"viewer", "viewer"},
		{"Author", "author"},       {"EDITOR", "editor"},
		{"admin", "admin"},         {"2/2/1/1/0", "author"},
		{"1/2/0/0/0", "viewer"},    {"0/0/0/0/0", "none"},
		{"64/64/64/64/1", "admin"}, {"4/1/1/1/0", "4/1/1/1/0"},
		{"1/0/0/0/1", "1/0/0/0/1"}, {"2/64/2/1/0", "2/64/2/1/0"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		struct folder_perm p;
		if (folder_perm_parse(ok[i].text, &p) != 0)
			g_error("'%s' refused", ok[i].text);
		g_assert_cmpstr(folder_perm_format(&p), ==, ok[i].canonical);
	}
	static const char *const refused[] = {
		"3/0/0/0/0", "8/0/0/0/0", "1/3/0/0/0",  "1/0/4/0/0",  "1/0/0/32/0",
		"1/0/0/0/2", "1/0/0/0",   "1/0/0/0/0/", "1/0/0/0/0x", "1/0/0/0/0/0",
		"",          "owner",     "viewers",    "a/b/c/d/e",  "128/0/0/0/0"};
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		struct folder_perm p = {PERM_FOLDER_SEE, 0, 0, 0, false};
		if (folder_perm_parse(refused[i], &p) != -1)
			g_error("'%s' accepted", refused[i]);
		/* A refused text leaves the output alone. */
		g_assert_cmpint(p.folder, ==, PERM_FOLDER_SEE);
	}
}

static void test_rights_allow(void)
{
	/* folder_check()'s pure half agrees with the levels' order: a higher
	 * level never allows less. */
	static const int object_levels[] = {0, 1, 2, 64};
	static const enum folder_action actions[] = {FOLDER_READ_OBJECT, FOLDER_WRITE_OBJECT,
	                                             FOLDER_DELETE_OBJECT};
	for (size_t a = 0; a < G_N_ELEMENTS(actions); a++) {
		for (size_t i = 1; i < G_N_ELEMENTS(object_levels); i++) {
			struct folder_perm lo = {PERM_FOLDER_SEE, 0, 0, 0, false}, hi = lo;
			int *lo_level = actions[a] == FOLDER_READ_OBJECT    ? &lo.read
			                : actions[a] == FOLDER_WRITE_OBJECT ? &lo.write
			                                                    : &lo.del;
			int *hi_level = actions[a] == FOLDER_READ_OBJECT    ? &hi.read
			                : actions[a] == FOLDER_WRITE_OBJECT ? &hi.write
			                                                    : &hi.del;
			*lo_level = object_levels[i - 1];
			*hi_level = object_levels[i];
			for (int own = 0; own < 2; own++) {
				if (folder_rights_allow(&lo, actions[a], own))
					g_assert_true(folder_rights_allow(&hi, actions[a], own));
			}
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A cheap Argon2id keeps the suite fast; the cost is configuration. */
	auth_register_options();
	folder_register_hooks();
	folder_add_deleting_hook(deleting_hook);
	const char *sets[] = {"auth.argon2_ops=1", "auth.argon2_memory=64k", NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	auth_configure(cfg);
	ox_config_free(&cfg);
	g_test_add_func("/folder/imap", test_imap);
	g_test_add_func("/folder/dav", test_dav);
	g_test_add_func("/folder/jmap", test_jmap);
	g_test_add_func("/folder/pack", test_pack);
	g_test_add_func("/folder/parse", test_parse);
	g_test_add_func("/folder/rights-allow", test_rights_allow);
	store_fixture_add("folder", "levels", test_levels);
	store_fixture_add("folder", "groups", test_groups);
	store_fixture_add("folder", "public", test_public);
	store_fixture_add("folder", "shared-view", test_shared_view);
	store_fixture_add("folder", "revocation", test_revocation);
	store_fixture_add("folder", "tree", test_tree);
	store_fixture_add("folder", "changes", test_changes);
	store_fixture_add("folder", "user-delete", test_user_delete);
	store_fixture_add("folder", "deleting-hook", test_deleting_hook);
	return g_test_run();
}
