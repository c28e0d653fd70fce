/* The files service on both drivers: the blob references of documents go
 * with their folder however it is deleted (a DAV DELETE, oxctl folder
 * delete, a deleted user or context), and a blob another document still
 * holds stays; versions are listed, read and restored with the folder's
 * permissions; quotas of users and contexts hold for every kind of write
 * and the usage counters follow every change. */
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
	if (files_put(s, actor, &e, NULL, -1, read_once, &src, &created, &err) < 0)
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
	struct blob_gc_result result;
	/* A negative grace takes blobs finished this very second too. */
	g_assert_cmpint(blob_gc(s, -1, NULL, &result, &err), ==, 0);
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

/* --- versions and quotas --- */

#define ALICE "alice@acme.example"
#define BOB "bob@acme.example"

static int64_t make_user_quota(struct store *s, const char *login, int64_t quota)
{
	struct ox_error err = {0};
	struct user_create spec = {
		.login = login, .display_name = login, .password = "pw", .quota_bytes = quota};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

/* Resolves "/LOGIN/..." as actor; the result of files_resolve_path. */
static int resolve(struct store *s, int64_t actor, const char *path, struct files_entry *e)
{
	struct ox_error err = {0};
	int r = files_resolve_path(s, actor, path, e, &err);
	if (r < 0)
		g_error("resolve %s: %s", path, err.message);
	return r;
}

/* A PUT at path as actor, with the length announced or not (-1). */
static int try_put(struct store *s, int64_t actor, const char *path, const char *content,
                   int64_t length, struct ox_error *err)
{
	struct files_entry e;
	g_assert_cmpint(resolve(s, actor, path, &e), >=, 0);
	struct source src = {content, false};
	bool created;
	int r = files_put(s, actor, &e, NULL, length, read_once, &src, &created, err);
	files_entry_clear(&e);
	return r;
}

static void put_path(struct store *s, int64_t actor, const char *path, const char *content)
{
	struct ox_error err = {0};
	if (try_put(s, actor, path, content, -1, &err) < 0)
		g_error("put %s: %s", path, err.message);
}

static int collect_sink(const void *data, size_t len, void *ctx)
{
	g_string_append_len(ctx, data, (gssize)len);
	return 0;
}

/* The current content at path, read as actor. */
static char *content_of(struct store *s, int64_t actor, const char *path)
{
	struct files_entry e;
	struct ox_error err = {0};
	g_assert_cmpint(resolve(s, actor, path, &e), ==, 1);
	GString *out = g_string_new(NULL);
	g_assert_cmpint(files_read(s, actor, &e, 0, (uint64_t)e.size, collect_sink, out, &err), ==,
	                0);
	files_entry_clear(&e);
	return g_string_free(out, FALSE);
}

static int64_t used_by(struct store *s, int64_t user)
{
	struct files_usage u;
	struct ox_error err = {0};
	g_assert_cmpint(files_usage_of_user(s, user, &u, &err), ==, 1);
	return u.user_bytes;
}

static int64_t context_used(struct store *s, int64_t user)
{
	struct files_usage u;
	struct ox_error err = {0};
	g_assert_cmpint(files_usage_of_user(s, user, &u, &err), ==, 1);
	return u.context_bytes;
}

/* What the counters must say: the size of every version in the user's
 * private files folders, summed the slow way. */
static int64_t summed(struct store *s, int64_t user)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(
		s,
		"SELECT COALESCE(SUM(v.size), 0) FROM document_versions v JOIN documents d ON "
		"d.id = v.document_id JOIN folders f ON f.id = d.folder_id WHERE f.owner_id = $1",
		&err);
	g_assert_nonnull(st);
	store_bind_int(st, 1, user);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	int64_t sum = store_col_int(st, 0);
	store_stmt_done(&st);
	return sum;
}

/* The rows of the files tables, to prove a refused write changed none. */
static char *files_snapshot(struct store *s)
{
	static const char *const queries[] = {
		"SELECT id, folder_id, name, version FROM documents ORDER BY id",
		"SELECT document_id, version, blob_hash, size FROM document_versions ORDER BY "
		"document_id, version",
		"SELECT hash, refcount FROM blobs ORDER BY hash",
		"SELECT user_id, bytes FROM files_user_usage ORDER BY user_id",
		"SELECT context_id, bytes FROM files_context_usage ORDER BY context_id",
	};
	GString *out = g_string_new(NULL);
	struct ox_error err = {0};
	for (size_t q = 0; q < G_N_ELEMENTS(queries); q++) {
		struct store_stmt *st = store_prepare(s, queries[q], &err);
		g_assert_nonnull(st);
		while (store_step(st, &err) > 0) {
			for (int c = 0; c < store_col_count(st); c++)
				g_string_append_printf(out, "%s|", store_col_text(st, c));
			g_string_append_c(out, '\n');
		}
		store_stmt_done(&st);
	}
	return g_string_free(out, FALSE);
}

static int64_t refcount_of(struct store *s, const char *content)
{
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);
	struct ox_error err = {0};
	struct store_stmt *st =
		store_prepare(s, "SELECT refcount FROM blobs WHERE hash = $1", &err);
	g_assert_nonnull(st);
	store_bind_text(st, 1, hash);
	int r = store_step(st, &err);
	g_assert_cmpint(r, >=, 0);
	int64_t refs = r > 0 ? store_col_int(st, 0) : -1;
	store_stmt_done(&st);
	g_free(hash);
	return refs;
}

struct version_seen {
	GArray *numbers;
	int current;
};

static int note_version(const struct files_version *v, void *ctx)
{
	struct version_seen *seen = ctx;
	g_array_append_val(seen->numbers, v->version);
	if (v->current)
		seen->current = v->version;
	return 0;
}

/* "3,2,1" newest first, and which one is current. */
static char *versions_of(struct store *s, int64_t actor, const char *path, int *current_r)
{
	struct files_entry e;
	struct ox_error err = {0};
	g_assert_cmpint(resolve(s, actor, path, &e), ==, 1);
	struct version_seen seen = {g_array_new(FALSE, FALSE, sizeof(int)), 0};
	g_assert_cmpint(files_versions(s, actor, &e, note_version, &seen, &err), ==, 0);
	files_entry_clear(&e);
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < seen.numbers->len; i++)
		g_string_append_printf(out, "%s%d", i > 0 ? "," : "",
		                       g_array_index(seen.numbers, int, i));
	g_array_unref(seen.numbers);
	*current_r = seen.current;
	return g_string_free(out, FALSE);
}

static int restore(struct store *s, int64_t actor, const char *path, int version,
                   struct ox_error *err)
{
	struct files_entry e;
	g_assert_cmpint(resolve(s, actor, path, &e), ==, 1);
	int r = files_restore(s, actor, &e, version, err);
	files_entry_clear(&e);
	return r;
}

static void share(struct store *s, int64_t owner, int64_t folder, int64_t with, const char *role)
{
	struct folder_perm perm;
	struct ox_error err = {0};
	g_assert_cmpint(folder_perm_parse(role, &perm), ==, 0);
	g_assert_cmpint(folder_set_permission(s, owner, folder, with, &perm, &err), ==, 0);
}

static void test_versions_restore(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), ALICE), bob = make_user(S(f), BOB);
	const char *path = "/" ALICE "/Documents/a.txt";
	put_path(S(f), alice, path, "one");
	put_path(S(f), alice, path, "two!");
	put_path(S(f), alice, path, "three");
	int current = 0;
	char *list = versions_of(S(f), alice, path, &current);
	g_assert_cmpstr(list, ==, "3,2,1");
	g_assert_cmpint(current, ==, 3);
	g_free(list);

	/* An old version's metadata and bytes. */
	struct files_entry doc;
	struct files_version v;
	g_assert_cmpint(resolve(S(f), alice, path, &doc), ==, 1);
	g_assert_cmpint(files_version_get(S(f), alice, &doc, 2, &v, &err), ==, 1);
	g_assert_cmpint(v.size, ==, 4);
	g_assert_false(v.current);
	g_assert_cmpint(v.created_by, ==, alice);
	GString *bytes = g_string_new(NULL);
	g_assert_cmpint(files_version_read(S(f), alice, &doc, &v, 0, 4, collect_sink, bytes, &err),
	                ==, 0);
	g_assert_cmpstr(bytes->str, ==, "two!");
	g_string_free(bytes, TRUE);
	files_version_clear(&v);
	g_assert_cmpint(files_version_get(S(f), alice, &doc, 9, &v, &err), ==, 0);
	files_entry_clear(&doc);

	/* A restore is a new version with the old bytes; nothing is lost. */
	g_assert_cmpint(restore(S(f), alice, path, 1, &err), ==, 0);
	char *now = content_of(S(f), alice, path);
	g_assert_cmpstr(now, ==, "one");
	g_free(now);
	list = versions_of(S(f), alice, path, &current);
	g_assert_cmpstr(list, ==, "4,3,2,1");
	g_assert_cmpint(current, ==, 4);
	g_free(list);
	g_assert_cmpint(refcount_of(S(f), "one"), ==, 2);
	g_assert_cmpint(restore(S(f), alice, path, 7, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
	g_assert_cmpint(restore(S(f), alice, path, 0, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);

	/* A viewer lists and reads versions but may not restore; a stranger
	 * does not see the document at all. */
	share(S(f), alice, documents_of(S(f), alice), bob, "viewer");
	list = versions_of(S(f), bob, path, &current);
	g_assert_cmpstr(list, ==, "4,3,2,1");
	g_free(list);
	char *before = files_snapshot(S(f));
	g_assert_cmpint(restore(S(f), bob, path, 2, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
	char *after = files_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	share(S(f), alice, documents_of(S(f), alice), bob, "none");
	g_assert_cmpint(resolve(S(f), bob, path, &doc), ==, 0);
	files_entry_clear(&doc);
}

static void test_user_quota(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user_quota(S(f), ALICE, 10);
	const char *path = "/" ALICE "/Documents/q.txt";
	put_path(S(f), alice, path, "12345");
	g_assert_cmpint(used_by(S(f), alice), ==, 5);

	/* Over quota while streaming (length unknown) and at once (announced):
	 * the document keeps its content and no blob is left. */
	char *before = files_snapshot(S(f));
	g_assert_cmpint(try_put(S(f), alice, path, "abcdef", -1, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NO_QUOTA);
	g_assert_true(files_quota_exceeded(&err));
	g_assert_cmpint(try_put(S(f), alice, "/" ALICE "/Documents/new.txt", "abcdef", 6, &err), ==,
	                -1);
	g_assert_true(files_quota_exceeded(&err));
	char *after = files_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(after);
	g_assert_cmpint(refcount_of(S(f), "abcdef"), ==, -1);
	char *now = content_of(S(f), alice, path);
	g_assert_cmpstr(now, ==, "12345");
	g_free(now);

	/* Exactly up to the quota is allowed; older versions count. */
	put_path(S(f), alice, path, "ABCDE");
	g_assert_cmpint(used_by(S(f), alice), ==, 10);
	/* A restore needs room as a PUT does. */
	g_assert_cmpint(restore(S(f), alice, path, 1, &err), ==, -1);
	g_assert_true(files_quota_exceeded(&err));
	g_assert_cmpint(used_by(S(f), alice), ==, 10);

	/* Deleting frees every version at once. */
	struct files_entry e;
	g_assert_cmpint(resolve(S(f), alice, path, &e), ==, 1);
	g_assert_cmpint(files_delete(S(f), alice, &e, &err), ==, 0);
	files_entry_clear(&e);
	g_assert_cmpint(used_by(S(f), alice), ==, 0);
	g_assert_cmpint(summed(S(f), alice), ==, 0);
	g_free(before);
}

struct racing_source {
	struct store *s;
	int64_t actor;
	bool done;
};

/* The body of one PUT, during which another write takes the room the
 * first one saw when it started. */
static ssize_t read_while_racing(void *buf, size_t len, void *ctx)
{
	struct racing_source *r = ctx;
	if (r->done)
		return 0;
	r->done = true;
	put_path(r->s, r->actor, "/" ALICE "/Documents/first.txt", "123456");
	memcpy(buf, "abcdef", 6);
	return 6;
}

/* The quota is decided when the version is recorded, whatever the room
 * was when the body started; the refused body's blob stays unreferenced
 * for blob_gc(). */
static void test_quota_race(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user_quota(S(f), ALICE, 10);
	struct files_entry e;
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/second.txt", &e), ==, 0);
	struct racing_source src = {S(f), alice, false};
	bool created;
	g_assert_cmpint(
		files_put(S(f), alice, &e, NULL, -1, read_while_racing, &src, &created, &err), ==,
		-1);
	files_entry_clear(&e);
	g_assert_true(files_quota_exceeded(&err));
	g_assert_cmpint(used_by(S(f), alice), ==, 6);
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/second.txt", &e), ==, 0);
	files_entry_clear(&e);
	g_assert_cmpint(refcount_of(S(f), "abcdef"), ==, 0);
	collect(S(f));
	g_assert_cmpint(refcount_of(S(f), "abcdef"), ==, -1);
	g_assert_cmpint(refcount_of(S(f), "123456"), ==, 1);
}

static void test_context_quota(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 8, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), ALICE), bob = make_user(S(f), BOB);
	put_path(S(f), alice, "/" ALICE "/Documents/a.txt", "12345");
	g_assert_cmpint(try_put(S(f), bob, "/" BOB "/Documents/b.txt", "12345", 5, &err), ==, -1);
	g_assert_true(files_quota_exceeded(&err));
	g_assert_cmpint(used_by(S(f), bob), ==, 0);
	put_path(S(f), bob, "/" BOB "/Documents/b.txt", "123");
	g_assert_cmpint(context_used(S(f), bob), ==, 8);
	g_assert_cmpint(used_by(S(f), bob), ==, 3);

	/* A copy counts for its destination's owner. */
	share(S(f), alice, documents_of(S(f), alice), bob, "viewer");
	struct files_entry src, dst;
	g_assert_cmpint(resolve(S(f), bob, "/" ALICE "/Documents/a.txt", &src), ==, 1);
	g_assert_cmpint(resolve(S(f), bob, "/" BOB "/Documents/copy.txt", &dst), ==, 0);
	char *before = files_snapshot(S(f));
	g_assert_cmpint(files_copy(S(f), bob, &src, &dst, false, &err), ==, -1);
	g_assert_true(files_quota_exceeded(&err));
	char *after = files_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	files_entry_clear(&dst);

	/* Public folders count for the context alone. */
	struct user_info info;
	g_assert_cmpint(user_lookup_id(S(f), alice, &info, &err), ==, 1);
	int64_t pub = 0;
	g_assert_cmpint(folder_create(S(f), FOLDER_SYSTEM_ACTOR, info.context_id, 0, true,
	                              FOLDER_FILES, "Public", &pub, &err),
	                ==, 0);
	user_info_clear(&info);
	g_assert_cmpint(user_delete(S(f), BOB, &err), ==, 0);
	g_assert_cmpint(context_used(S(f), alice), ==, 5);
	char hash[BLOB_HASH_LEN + 1];
	put(S(f), FOLDER_SYSTEM_ACTOR, 0, pub, "p.txt", "123", hash);
	g_assert_cmpint(context_used(S(f), alice), ==, 8);
	g_assert_cmpint(used_by(S(f), alice), ==, 5);
	g_assert_cmpint(folder_delete(S(f), FOLDER_SYSTEM_ACTOR, pub, &err), ==, 0);
	g_assert_cmpint(context_used(S(f), alice), ==, 5);
	files_entry_clear(&src);
}

/* The counters follow every kind of change as a sum over the versions
 * would. */
static void test_usage_follows_changes(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), ALICE), bob = make_user(S(f), BOB);
	int64_t docs = documents_of(S(f), alice), sub = 0;
	g_assert_cmpint(folder_create(S(f), alice, 0, docs, false, FOLDER_FILES, "Sub", &sub, &err),
	                ==, 0);
	put_path(S(f), alice, "/" ALICE "/Documents/a.txt", "first");
	put_path(S(f), alice, "/" ALICE "/Documents/a.txt", "second version");
	put_path(S(f), alice, "/" ALICE "/Documents/Sub/b.txt", "below");
	g_assert_cmpint(restore(S(f), alice, "/" ALICE "/Documents/a.txt", 1, &err), ==, 0);
	struct files_entry src, dst;
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/a.txt", &src), ==, 1);
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/Sub/a2.txt", &dst), ==, 0);
	g_assert_cmpint(files_copy(S(f), alice, &src, &dst, false, &err), ==, 0);
	files_entry_clear(&dst);
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/moved.txt", &dst), ==, 0);
	g_assert_cmpint(files_move(S(f), alice, &src, &dst, &err), ==, 0);
	files_entry_clear(&src);
	files_entry_clear(&dst);
	g_assert_cmpint(used_by(S(f), alice), ==, 5 + 14 + 5 + 5 + 5);
	g_assert_cmpint(used_by(S(f), alice), ==, summed(S(f), alice));

	/* Bob writes into Alice's shared folder: it counts for Alice. */
	share(S(f), alice, docs, bob, "author");
	put_path(S(f), bob, "/" ALICE "/Documents/from-bob.txt", "bob's");
	g_assert_cmpint(used_by(S(f), bob), ==, 0);
	g_assert_cmpint(used_by(S(f), alice), ==, summed(S(f), alice));

	/* Deleting a collection frees what was in it, and the context's count
	 * follows the user's. */
	g_assert_cmpint(resolve(S(f), alice, "/" ALICE "/Documents/Sub", &src), ==, 1);
	g_assert_cmpint(files_delete(S(f), alice, &src, &err), ==, 0);
	files_entry_clear(&src);
	g_assert_cmpint(used_by(S(f), alice), ==, summed(S(f), alice));
	g_assert_cmpint(context_used(S(f), alice), ==, used_by(S(f), alice));
	g_assert_cmpint(user_delete(S(f), ALICE, &err), ==, 0);
	g_assert_cmpint(context_used(S(f), bob), ==, 0);
}

static void set_max_versions(const char *value)
{
	char *set = g_strconcat("files.max_versions=", value, NULL);
	const char *sets[] = {set, NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	files_configure(cfg);
	ox_config_free(&cfg);
	g_free(set);
}

static void test_max_versions(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user_quota(S(f), ALICE, 12);
	const char *path = "/" ALICE "/Documents/m.txt";
	set_max_versions("2");
	put_path(S(f), alice, path, "v1-v1");
	put_path(S(f), alice, path, "v2-v2");
	/* 15 bytes with three versions, 10 once the first goes: it fits. */
	put_path(S(f), alice, path, "v3-v3");
	int current = 0;
	char *list = versions_of(S(f), alice, path, &current);
	set_max_versions("0");
	g_assert_cmpstr(list, ==, "3,2");
	g_free(list);
	g_assert_cmpint(used_by(S(f), alice), ==, 10);
	g_assert_cmpint(used_by(S(f), alice), ==, summed(S(f), alice));
	g_assert_cmpint(refcount_of(S(f), "v1-v1"), ==, 0);
	g_assert_cmpint(restore(S(f), alice, path, 1, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
}

/* files.* settings for the cases that need them: defaults but for `set`
 * (NULL: none). */
static void configure_files(const char *set)
{
	const char *sets[] = {set, NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	files_configure(cfg);
	ox_config_free(&cfg);
}

/* Every blob as if written `age` seconds ago. */
static void age_blobs(struct store *s, int64_t age)
{
	struct ox_error err = {0};
	char *sql = g_strdup_printf("UPDATE blobs SET created = created - %" G_GINT64_FORMAT, age);
	g_assert_cmpint(store_exec(s, sql, &err), ==, 0);
	g_free(sql);
}

/* What files_gc() deletes: the blobs of a deleted document and of a
 * version pruned by files.max_versions, once files.blob_gc_grace has
 * passed; what it keeps: every version's blob (current and older), a
 * blob another document still holds, and an unreferenced blob younger
 * than the grace (an upload that has not recorded its version yet). */
static void test_gc(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), ALICE);
	configure_files("files.max_versions=2");
	g_assert_cmpint(files_gc_grace_seconds(), ==, 3600); /* the default */
	const char *a = "/" ALICE "/Documents/a.txt";
	put_path(S(f), alice, a, "v1 of a");
	put_path(S(f), alice, a, "v2 of a!");
	put_path(S(f), alice, a, "v3 of a!!"); /* prunes v1 */
	put_path(S(f), alice, "/" ALICE "/Documents/b.txt", "b's bytes");
	put_path(S(f), alice, "/" ALICE "/Documents/c.txt", "shared bytes");
	put_path(S(f), alice, "/" ALICE "/Documents/d.txt", "shared bytes");
	struct files_entry e;
	for (const char *const *gone = (const char *const[]){"b.txt", "d.txt", NULL}; *gone != NULL;
	     gone++) {
		char *path = g_strconcat("/" ALICE "/Documents/", *gone, NULL);
		g_assert_cmpint(resolve(S(f), alice, path, &e), ==, 1);
		g_assert_cmpint(files_delete(S(f), alice, &e, &err), ==, 0);
		files_entry_clear(&e);
		g_free(path);
	}
	g_assert_cmpint(refcount_of(S(f), "v1 of a"), ==, 0);
	g_assert_cmpint(refcount_of(S(f), "b's bytes"), ==, 0);

	/* Within the grace period nothing goes. */
	struct blob_gc_result result;
	g_assert_cmpint(files_gc(S(f), NULL, &result, &err), ==, 0);
	g_assert_cmpint(result.blobs, ==, 0);
	g_assert_cmpint(refcount_of(S(f), "v1 of a"), ==, 0);

	age_blobs(S(f), 2 * 3600);
	char young[BLOB_HASH_LEN + 1];
	struct blob_writer *w = blob_write_begin(S(f), &err);
	g_assert_nonnull(w);
	g_assert_cmpint(blob_write(w, "not recorded yet", 16, &err), ==, 0);
	g_assert_cmpint(blob_write_finish(&w, young, NULL, &err), ==, 0);
	g_assert_cmpint(files_gc(S(f), NULL, &result, &err), ==, 0);
	g_assert_cmpint(result.blobs, ==, 2);
	g_assert_cmpint(result.bytes, ==, 7 + 9);
	g_assert_cmpint(refcount_of(S(f), "v1 of a"), ==, -1);
	g_assert_cmpint(refcount_of(S(f), "b's bytes"), ==, -1);
	g_assert_cmpint(refcount_of(S(f), "v2 of a!"), ==, 1);
	g_assert_cmpint(refcount_of(S(f), "v3 of a!!"), ==, 1);
	g_assert_cmpint(refcount_of(S(f), "shared bytes"), ==, 1);
	g_assert_cmpint(refcount_of(S(f), "not recorded yet"), ==, 0);

	/* The versions kept still read and restore. */
	int current = 0;
	char *list = versions_of(S(f), alice, a, &current);
	g_assert_cmpstr(list, ==, "3,2");
	g_free(list);
	g_assert_cmpint(restore(S(f), alice, a, 2, &err), ==, 0);
	char *now = content_of(S(f), alice, a);
	g_assert_cmpstr(now, ==, "v2 of a!");
	g_free(now);
	now = content_of(S(f), alice, "/" ALICE "/Documents/c.txt");
	g_assert_cmpstr(now, ==, "shared bytes");
	g_free(now);
	configure_files(NULL);
}

/* A quota changed after creation: one below the usage is accepted and
 * deletes nothing, writes are refused until deletions make room, and
 * none (0) lifts it. Inside a transaction that rolls back it changes
 * nothing. */
static void test_set_user_quota(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	g_assert_cmpint(context_create(S(f), "acme", "acme.example", 0, NULL, &err), ==, 0);
	int64_t alice = make_user(S(f), ALICE);
	const char *a = "/" ALICE "/Documents/a.txt", *b = "/" ALICE "/Documents/b.txt";
	put_path(S(f), alice, a, "0123456789");
	struct files_usage usage;
	g_assert_cmpint(files_set_user_quota(S(f), alice, 4, &usage, &err), ==, 1);
	g_assert_cmpint(usage.user_quota, ==, 4);
	g_assert_cmpint(usage.user_bytes, ==, 10);
	g_assert_cmpint(files_usage_room(&usage), ==, 0);
	g_assert_cmpint(try_put(S(f), alice, b, "x", -1, &err), ==, -1);
	g_assert_true(files_quota_exceeded(&err));
	char *now = content_of(S(f), alice, a);
	g_assert_cmpstr(now, ==, "0123456789");
	g_free(now);

	struct files_entry e;
	g_assert_cmpint(resolve(S(f), alice, a, &e), ==, 1);
	g_assert_cmpint(files_delete(S(f), alice, &e, &err), ==, 0);
	files_entry_clear(&e);
	put_path(S(f), alice, b, "1234");
	g_assert_cmpint(try_put(S(f), alice, a, "5", -1, &err), ==, -1);
	g_assert_true(files_quota_exceeded(&err));

	g_assert_cmpint(store_begin(S(f), &err), ==, 0);
	g_assert_cmpint(files_set_user_quota(S(f), alice, 0, &usage, &err), ==, 1);
	store_rollback(S(f));
	g_assert_cmpint(files_usage_of_user(S(f), alice, &usage, &err), ==, 1);
	g_assert_cmpint(usage.user_quota, ==, 4);

	g_assert_cmpint(files_set_user_quota(S(f), alice, 0, &usage, &err), ==, 1);
	g_assert_cmpint(files_usage_room(&usage), ==, -1);
	put_path(S(f), alice, a, "5");
	g_assert_cmpint(used_by(S(f), alice), ==, 5);

	g_assert_cmpint(files_set_user_quota(S(f), alice + 1000, 4, &usage, &err), ==, 0);
	g_assert_cmpint(files_set_user_quota(S(f), alice, -1, &usage, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A cheap Argon2id keeps the suite fast; the cost is configuration. */
	auth_register_options();
	files_register_options();
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
	store_fixture_add("files", "versions-list-read-restore", test_versions_restore);
	store_fixture_add("files", "user-quota", test_user_quota);
	store_fixture_add("files", "quota-decided-at-commit", test_quota_race);
	store_fixture_add("files", "context-quota", test_context_quota);
	store_fixture_add("files", "usage-follows-changes", test_usage_follows_changes);
	store_fixture_add("files", "max-versions", test_max_versions);
	store_fixture_add("files", "gc", test_gc);
	store_fixture_add("files", "set-user-quota", test_set_user_quota);
	return g_test_run();
}
