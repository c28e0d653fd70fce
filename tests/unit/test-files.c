/* The files service on both drivers: the blob references of documents go
 * with their folder however it is deleted (a DAV DELETE, oxctl folder
 * delete, a deleted user or context), and a blob another document still
 * holds stays. */
#include "core/config.h"
#include "core/error.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "files/files.h"
#include "folder/folder.h"
#include "store-fixture.h"
#include "store/blob.h"

#include <string.h>

#define S(f) ((f)->store)

static int64_t make_user(struct store *s, const char *login)
{
	struct ox_error err = {0};
	struct user_create spec = {.login = login, .display_name = login, .password = "pw"};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

static int64_t documents_of(struct store *s, int64_t user)
{
	int64_t id = 0;
	struct ox_error err = {0};
	g_assert_cmpint(folder_by_role(s, user, "documents", &id, &err), ==, 1);
	return id;
}

struct source {
	const char *data;
	bool done;
};

static ssize_t read_once(void *buf, size_t len, void *ctx)
{
	struct source *src = ctx;
	size_t n = src->done ? 0 : strlen(src->data);
	g_assert_cmpuint(n, <=, len);
	memcpy(buf, src->data, n);
	src->done = true;
	return (ssize_t)n;
}

/* Puts content at name in a folder (as the actor) and returns the blob
 * hash of the new version in hash_r. */
static void put(struct store *s, int64_t actor, int64_t owner, int64_t folder, const char *name,
                const char *content, char hash_r[BLOB_HASH_LEN + 1])
{
	struct files_entry e = {
		.owner_id = owner,
		.folder_id = folder,
		.parent_found = true,
		.name = g_strdup(name),
	};
	struct ox_error err = {0};
	struct source src = {content, false};
	bool created;
	if (files_put(s, actor, &e, NULL, read_once, &src, &created, &err) < 0)
		g_error("files_put %s: %s", name, err.message);
	g_strlcpy(hash_r, e.blob_hash, BLOB_HASH_LEN + 1);
	files_entry_clear(&e);
}

static bool blob_there(struct store *s, const char *hash)
{
	struct ox_error err = {0};
	int r = blob_exists(s, hash, NULL, &err);
	g_assert_cmpint(r, >=, 0);
	return r == 1;
}

static void collect(struct store *s)
{
	struct ox_error err = {0};
	/* A negative grace takes blobs finished this very second too. */
	g_assert_cmpint(blob_gc(s, -1, &err), >=, 0);
}

static void test_user_delete(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), "alice@acme.example");
	int64_t bob = make_user(S(f), "bob@acme.example");
	int64_t docs = documents_of(S(f), alice);
	int64_t sub = 0;
	g_assert_cmpint(folder_create(S(f), alice, 0, docs, false, FOLDER_FILES, "Sub", &sub, &err),
	                ==, 0);
	char v1[BLOB_HASH_LEN + 1], v2[BLOB_HASH_LEN + 1], deep[BLOB_HASH_LEN + 1];
	char mine[BLOB_HASH_LEN + 1], theirs[BLOB_HASH_LEN + 1];
	put(S(f), alice, alice, docs, "a.txt", "alice's first words", v1);
	put(S(f), alice, alice, docs, "a.txt", "alice's second words", v2);
	put(S(f), alice, alice, sub, "deep.txt", "below the top", deep);
	put(S(f), alice, alice, docs, "shared.txt", "the same bytes", mine);
	put(S(f), bob, bob, documents_of(S(f), bob), "b.txt", "the same bytes", theirs);
	g_assert_cmpstr(mine, ==, theirs);

	g_assert_cmpint(user_delete(S(f), "alice@acme.example", &err), ==, 0);
	collect(S(f));
	/* Every version, in every folder of the tree. */
	g_assert_false(blob_there(S(f), v1));
	g_assert_false(blob_there(S(f), v2));
	g_assert_false(blob_there(S(f), deep));
	/* Bob's document still holds the blob both had. */
	g_assert_true(blob_there(S(f), theirs));
	g_assert_cmpint(user_delete(S(f), "bob@acme.example", &err), ==, 0);
	collect(S(f));
	g_assert_false(blob_there(S(f), theirs));
}

static void test_folder_delete(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), "alice@acme.example");
	int64_t docs = documents_of(S(f), alice);
	int64_t top = 0, below = 0;
	g_assert_cmpint(folder_create(S(f), alice, 0, docs, false, FOLDER_FILES, "Top", &top, &err),
	                ==, 0);
	g_assert_cmpint(
		folder_create(S(f), alice, 0, top, false, FOLDER_FILES, "Below", &below, &err), ==,
		0);
	char gone1[BLOB_HASH_LEN + 1], gone2[BLOB_HASH_LEN + 1], kept[BLOB_HASH_LEN + 1];
	char dup[BLOB_HASH_LEN + 1];
	put(S(f), alice, alice, top, "t.txt", "in top", gone1);
	put(S(f), alice, alice, below, "b.txt", "in below", gone2);
	put(S(f), alice, alice, below, "dup.txt", "kept elsewhere", dup);
	put(S(f), alice, alice, docs, "keep.txt", "kept elsewhere", kept);

	/* As oxctl folder delete does: the folder layer alone. */
	g_assert_cmpint(folder_delete(S(f), alice, top, &err), ==, 0);
	collect(S(f));
	g_assert_false(blob_there(S(f), gone1));
	g_assert_false(blob_there(S(f), gone2));
	g_assert_true(blob_there(S(f), kept));

	/* And through the service, as a DAV DELETE of a collection does. */
	int64_t other = 0;
	g_assert_cmpint(
		folder_create(S(f), alice, 0, docs, false, FOLDER_FILES, "Other", &other, &err), ==,
		0);
	char o[BLOB_HASH_LEN + 1];
	put(S(f), alice, alice, other, "o.txt", "in other", o);
	struct files_entry coll = {.owner_id = alice, .folder_id = other, .exists = true};
	g_assert_cmpint(files_delete(S(f), alice, &coll, &err), ==, 0);
	collect(S(f));
	g_assert_false(blob_there(S(f), o));
	g_assert_true(blob_there(S(f), kept));
}

static void test_context_delete(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	g_assert_cmpint(context_create(S(f), "other", "other.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), "alice@acme.example");
	int64_t zed = make_user(S(f), "zed@other.example");
	struct user_info info;
	g_assert_cmpint(user_lookup_id(S(f), alice, &info, &err), ==, 1);
	int64_t ctx = info.context_id;
	user_info_clear(&info);
	int64_t pub = 0;
	g_assert_cmpint(folder_create(S(f), FOLDER_SYSTEM_ACTOR, ctx, 0, true, FOLDER_FILES,
	                              "Public", &pub, &err),
	                ==, 0);
	char p[BLOB_HASH_LEN + 1], a[BLOB_HASH_LEN + 1], z[BLOB_HASH_LEN + 1];
	put(S(f), FOLDER_SYSTEM_ACTOR, 0, pub, "p.txt", "for everyone", p);
	put(S(f), alice, alice, documents_of(S(f), alice), "a.txt", "alice's", a);
	put(S(f), zed, zed, documents_of(S(f), zed), "z.txt", "zed's", z);

	g_assert_cmpint(context_delete(S(f), "acme", &err), ==, 0);
	collect(S(f));
	g_assert_false(blob_there(S(f), p));
	g_assert_false(blob_there(S(f), a));
	g_assert_true(blob_there(S(f), z));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A cheap Argon2id keeps the suite fast; the cost is configuration. */
	auth_register_options();
	const char *sets[] = {"auth.argon2_ops=1", "auth.argon2_memory=64k", NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	auth_configure(cfg);
	ox_config_free(&cfg);
	folder_register_hooks();
	files_register_hooks();
	store_fixture_add("files", "user-delete-releases-blobs", test_user_delete);
	store_fixture_add("files", "folder-delete-releases-blobs", test_folder_delete);
	store_fixture_add("files", "context-delete-releases-blobs", test_context_delete);
	return g_test_run();
}
