/* Address books: contact folders with what CardDAV adds to them (the
 * segment a client chose, a display name), kept in `addressbooks`; the
 * default Contacts folder has no row and its folder name is its display
 * name. Dead properties live in `dead_properties` (document id 0, as a
 * files folder's own). The global address book is no folder: it is
 * described here and made by pim-contact-gab.c. */
#include "core/error.h"
#include "directory/directory.h"
#include "pim/pim-contact-private.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

void pim_addressbook_clear(struct pim_addressbook *book)
{
	g_free(book->segment);
	g_free(book->display_name);
	pim_gab_unref(&book->gab);
	memset(book, 0, sizeof(*book));
}

void pim_addressbook_copy(struct pim_addressbook *dst, const struct pim_addressbook *src)
{
	*dst = *src;
	dst->segment = g_strdup(src->segment);
	dst->display_name = g_strdup(src->display_name);
	dst->gab = pim_gab_ref(src->gab);
}

void pim_addressbook_etag(const struct pim_addressbook *book, int64_t actor,
                          char out[PIM_BOOK_ETAG_MAX])
{
	/* Whoever reads only their own contacts sees a book of their own. */
	bool own_only = book->rights.read < PERM_OBJECTS_ALL;
	char *state = g_strdup_printf(
		"%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%d:%" G_GINT64_FORMAT, book->folder_id,
		book->modseq, book->rights.read, own_only ? actor : 0);
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, state, -1);
	g_snprintf(out, PIM_BOOK_ETAG_MAX, "\"%.32s\"", hash);
	g_free(hash);
	g_free(state);
}

static bool segment_valid(const char *seg)
{
	size_t len = strlen(seg);
	if (len == 0 || len > 255 || strspn(seg, "0123456789") == len || seg[0] == '.' ||
	    strcmp(seg, PIM_GAB_SEGMENT) == 0)
		return false;
	for (const char *p = seg; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-_.@", *p) == NULL)
			return false;
	}
	return true;
}

static int load_row(struct store *s, int64_t folder_id, struct pim_addressbook *book,
                    struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT segment, display_name FROM addressbooks WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	if (r > 0) {
		book->segment = g_strdup(store_col_text(st, 0));
		book->display_name = g_strdup(store_col_text(st, 1));
	}
	store_stmt_done(&st);
	return r;
}

static int noop_change(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	return 0;
}

static int describe(struct store *s, int64_t owner, const struct folder_info *f,
                    struct pim_addressbook *book, struct ox_error *err)
{
	memset(book, 0, sizeof(*book));
	book->folder_id = f->id;
	book->owner_id = f->owner_id;
	book->shared = f->owner_id != owner;
	book->rights = f->rights;
	if (load_row(s, f->id, book, err) < 0)
		return -1;
	if (book->shared) {
		g_free(book->segment);
		book->segment = g_strdup_printf("%" G_GINT64_FORMAT, f->id);
	} else if (book->segment == NULL) {
		book->segment = f->role != NULL ? g_strdup(f->role)
		                                : g_strdup_printf("%" G_GINT64_FORMAT, f->id);
	}
	if (book->display_name == NULL)
		book->display_name = g_strdup(f->name);
	return changes_since(s, f->id, INT64_MAX, noop_change, NULL, &book->modseq, err);
}

/* The global book's cards are made here, once for the request that
 * describes it: its listing, finds and queries use them through
 * book->gab. */
static int describe_gab(struct store *s, int64_t actor, struct pim_addressbook *book,
                        struct ox_error *err)
{
	memset(book, 0, sizeof(*book));
	book->owner_id = actor;
	book->global = true;
	book->segment = g_strdup(PIM_GAB_SEGMENT);
	book->display_name = g_strdup("Global Address Book");
	book->rights.folder = PERM_FOLDER_SEE;
	book->rights.read = PERM_OBJECTS_ALL;
	if (pim_gab_build(s, actor, &book->gab, err) < 0)
		return -1;
	book->modseq = pim_gab_state(book->gab);
	return 0;
}

/* The books of owner's home as the actor sees it; the global one only
 * when with_gab (finding another book never needs its cards). */
static int list_books(struct store *s, int64_t actor, int64_t owner, bool with_gab,
                      pim_addressbook_fn *fn, void *ctx, struct ox_error *err)
{
	struct folder_info **list = NULL;
	if (folder_list(s, actor, FOLDER_CONTACTS, &list, err) < 0)
		return -1;
	int ret = 0;
	for (struct folder_info **f = list; ret == 0 && *f != NULL; f++) {
		if ((*f)->owner_id != owner && (actor != owner || (*f)->owner_id == actor))
			continue;
		struct pim_addressbook book;
		ret = describe(s, owner, *f, &book, err);
		if (ret == 0 && fn(&book, ctx) < 0)
			ret = ox_error_set(err, OX_ERR_INTERNAL, "address book listing stopped");
		pim_addressbook_clear(&book);
	}
	folder_list_free(&list);
	if (ret == 0 && with_gab && actor == owner) {
		struct pim_addressbook gab;
		ret = describe_gab(s, actor, &gab, err);
		if (ret == 0 && fn(&gab, ctx) < 0)
			ret = ox_error_set(err, OX_ERR_INTERNAL, "address book listing stopped");
		pim_addressbook_clear(&gab);
	}
	return ret;
}

int pim_addressbook_list(struct store *s, int64_t actor, int64_t owner, pim_addressbook_fn *fn,
                         void *ctx, struct ox_error *err)
{
	return list_books(s, actor, owner, true, fn, ctx, err);
}

/* Whether owner's home, as actor sees it, holds the folder (as
 * list_books() filters): owner's address books, and in one's own home
 * also those shared with one. */
static bool listed(const struct folder_info *f, int64_t actor, int64_t owner)
{
	return f->module == FOLDER_CONTACTS &&
	       (f->owner_id == owner || (actor == owner && f->owner_id != actor));
}

struct find_ctx {
	const char *segment;
	struct pim_addressbook *book;
	bool found;
};

static int find_one(const struct pim_addressbook *book, void *ctx)
{
	struct find_ctx *c = ctx;
	if (c->found || strcmp(book->segment, c->segment) != 0)
		return 0;
	pim_addressbook_copy(c->book, book);
	c->found = true;
	return 0;
}

int pim_addressbook_find(struct store *s, int64_t actor, int64_t owner, const char *segment,
                         struct pim_addressbook *book_r, struct ox_error *err)
{
	memset(book_r, 0, sizeof(*book_r));
	if (strcmp(segment, PIM_GAB_SEGMENT) == 0) {
		if (actor != owner)
			return 0;
		return describe_gab(s, actor, book_r, err) < 0 ? -1 : 1;
	}
	if (actor == FOLDER_SYSTEM_ACTOR) {
		/* The system sees what a listing of its (public) folders shows. */
		struct find_ctx c = {segment, book_r, false};
		if (list_books(s, actor, owner, false, find_one, &c, err) < 0) {
			pim_addressbook_clear(book_r);
			return -1;
		}
		return c.found ? 1 : 0;
	}
	/* Every request names its address book: one candidate folder, checked
	 * as pim_addressbook_list() would list it, instead of the whole
	 * listing (which also digests the global address book). */
	int64_t id = 0;
	int r = pim_segment_folder(s, PIM_SEGMENT_ADDRESSBOOKS, owner, segment, &id, err);
	if (r <= 0)
		return r;
	struct folder_info f;
	r = folder_get(s, actor, id, &f, err);
	if (r <= 0)
		return r;
	if (listed(&f, actor, owner)) {
		r = describe(s, owner, &f, book_r, err) < 0 ? -1 : 1;
		if (r > 0 && strcmp(book_r->segment, segment) != 0)
			r = 0;
	} else {
		r = 0;
	}
	if (r <= 0)
		pim_addressbook_clear(book_r);
	folder_info_clear(&f);
	return r;
}

static int create_folder(struct store *s, int64_t actor, int64_t context_id, const char *name,
                         const char *segment, int64_t *id_r, struct ox_error *err)
{
	for (int i = 1; i <= 10; i++) {
		char *try = i == 1    ? g_strdup(name)
		            : i == 10 ? g_strdup(segment)
		                      : g_strdup_printf("%.240s (%d)", name, i);
		int r = folder_create(s, actor, context_id, 0, false, FOLDER_CONTACTS, try, id_r,
		                      err);
		g_free(try);
		if (r == 0 || err->code != OX_ERR_EXISTS)
			return r;
	}
	return -1;
}

static int insert_row(struct store *s, int64_t id, int64_t actor, const char *segment,
                      const char *name, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "INSERT INTO addressbooks (folder_id, owner_id, "
	                                      "segment, display_name) VALUES ($1, $2, $3, $4)",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, actor);
	store_bind_text(st, 3, segment);
	store_bind_text(st, 4, name);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

int pim_addressbook_create(struct store *s, int64_t actor, const char *segment,
                           const char *display_name, struct pim_addressbook *book_r,
                           struct ox_error *err)
{
	memset(book_r, 0, sizeof(*book_r));
	if (strcmp(segment, PIM_GAB_SEGMENT) == 0)
		return ox_error_set(err, OX_ERR_EXISTS, "the global address book is there");
	if (!segment_valid(segment))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "an address book name is 1 to 255 letters, digits, '-', '_', "
		                    "'.' or '@', not only digits");
	const char *name = display_name != NULL && *display_name != '\0' ? display_name : segment;
	int found = pim_addressbook_find(s, actor, actor, segment, book_r, err);
	pim_addressbook_clear(book_r);
	if (found != 0)
		return found < 0 ? -1 : ox_error_set(err, OX_ERR_EXISTS, "the address book exists");
	struct user_info user;
	int r = user_lookup_id(s, actor, &user, err);
	if (r <= 0)
		return r < 0 ? -1 : ox_error_set(err, OX_ERR_PERM, "only users have address books");
	int64_t context_id = user.context_id;
	user_info_clear(&user);
	if (store_begin(s, err) < 0)
		return -1;
	int64_t id = 0;
	if (create_folder(s, actor, context_id, name, segment, &id, err) < 0 ||
	    insert_row(s, id, actor, segment, name, err) < 0 || store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return pim_addressbook_find(s, actor, actor, segment, book_r, err) > 0 ? 0 : -1;
}

int pim_addressbook_delete(struct store *s, int64_t actor, const struct pim_addressbook *book,
                           struct ox_error *err)
{
	if (book->global)
		return ox_error_set(err, OX_ERR_PERM, "the global address book is read-only");
	return folder_delete(s, actor, book->folder_id, err);
}

/* --- properties --- */

static int read_only(struct ox_error *err)
{
	return ox_error_set(err, OX_ERR_PERM, "the global address book is read-only");
}

int pim_addressbook_props(struct store *s, int64_t actor, const struct pim_addressbook *book,
                          pim_book_prop_fn *fn, void *ctx, struct ox_error *err)
{
	if (book->global)
		return 0;
	if (folder_check(s, actor, book->folder_id, FOLDER_SEE, 0, err) < 0)
		return -1;
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT namespace, name, value FROM dead_properties "
	                                      "WHERE folder_id = $1 AND document_id = 0 "
	                                      "ORDER BY namespace, name",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, book->folder_id);
	/* Collected first: fn may use the store. */
	GPtrArray *props = g_ptr_array_new_with_free_func(g_free);
	int r;
	while ((r = store_step(st, err)) > 0) {
		g_ptr_array_add(props, g_strdup(store_col_text(st, 0)));
		g_ptr_array_add(props, g_strdup(store_col_text(st, 1)));
		g_ptr_array_add(props, g_strdup(store_col_text(st, 2)));
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i + 2 < props->len; i += 3) {
		if (fn(props->pdata[i], props->pdata[i + 1], props->pdata[i + 2], ctx) < 0)
			break;
	}
	g_ptr_array_unref(props);
	return r < 0 ? -1 : 0;
}

static int rename_book(struct store *s, int64_t actor, struct pim_addressbook *book,
                       const char *display_name, struct ox_error *err)
{
	size_t len = display_name != NULL ? strlen(display_name) : 0;
	if (display_name != NULL &&
	    (len == 0 || len > 255 || !g_utf8_validate(display_name, (gssize)len, NULL)))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a display name is 1 to 255 bytes of UTF-8");
	struct store_stmt *st = store_prepare(
		s, "UPDATE addressbooks SET display_name = $2 WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, book->folder_id);
	if (display_name != NULL)
		store_bind_text(st, 2, display_name);
	else
		store_bind_null(st, 2);
	int r = store_run(st, err);
	bool row = r == 0 && store_changes(st) > 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	/* The default book has no row: its folder name is its display name,
	 * which stays when the property is removed. */
	if (!row && display_name != NULL &&
	    folder_rename(s, actor, book->folder_id, display_name, err) < 0)
		return -1;
	return 0;
}

static int count_props(struct store *s, int64_t folder_id, int64_t *n_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT COUNT(*) FROM dead_properties WHERE folder_id = $1 AND document_id = 0",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	if (r > 0)
		*n_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

static int apply_prop(struct store *s, int64_t folder_id, const struct pim_book_prop_op *op,
                      struct ox_error *err)
{
	if (*op->name == '\0' || strlen(op->name) > 1024 || strlen(op->ns) > 1024)
		return ox_error_set(err, OX_ERR_INVALID, "invalid property name");
	if (op->value != NULL && strlen(op->value) > PIM_BOOK_PROP_VALUE_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "a property value is at most %d bytes",
		                    PIM_BOOK_PROP_VALUE_MAX);
	struct store_stmt *st = store_prepare(
		s,
		op->value != NULL
			? "INSERT INTO dead_properties (folder_id, document_id, namespace, name, "
			  "value) VALUES ($1, 0, $2, $3, $4) ON CONFLICT (folder_id, document_id, "
			  "namespace, name) DO UPDATE SET value = $4"
			: "DELETE FROM dead_properties WHERE folder_id = $1 AND document_id = 0 "
			  "AND "
			  "namespace = $2 AND name = $3",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, op->ns);
	store_bind_text(st, 3, op->name);
	if (op->value != NULL)
		store_bind_text(st, 4, op->value);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

static int patch_txn(struct store *s, int64_t actor, struct pim_addressbook *book, bool set_name,
                     const char *display_name, const struct pim_book_prop_op *ops, size_t n,
                     struct ox_error *err)
{
	if (set_name && rename_book(s, actor, book, display_name, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (apply_prop(s, book->folder_id, &ops[i], err) < 0)
			return -1;
	}
	int64_t count = 0;
	if (n > 0 && count_props(s, book->folder_id, &count, err) < 0)
		return -1;
	if (count > PIM_BOOK_PROPS_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "an address book has at most %d properties",
		                    PIM_BOOK_PROPS_MAX);
	return 0;
}

int pim_addressbook_patch(struct store *s, int64_t actor, struct pim_addressbook *book,
                          bool set_name, const char *display_name,
                          const struct pim_book_prop_op *ops, size_t n, struct ox_error *err)
{
	if (book->global)
		return read_only(err);
	/* RFC 3744 write-properties maps to admin, as for files folders. */
	if (folder_check(s, actor, book->folder_id, FOLDER_ADMIN, 0, err) < 0)
		return -1;
	bool own = !store_in_transaction(s);
	if (own && store_begin(s, err) < 0)
		return -1;
	int r = patch_txn(s, actor, book, set_name, display_name, ops, n, err);
	if (own && (r < 0 || store_commit(s, err) < 0)) {
		store_rollback(s);
		r = -1;
	}
	if (r == 0 && set_name && display_name != NULL) {
		g_free(book->display_name);
		book->display_name = g_strdup(display_name);
	}
	return r;
}
