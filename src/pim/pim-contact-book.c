/* Address books: contact folders with what CardDAV adds to them (the
 * segment a client chose, a display name), kept in `addressbooks`; the
 * default Contacts folder has no row. The global address book is no
 * folder: it is described here and listed by pim-contact-gab.c. */
#include "core/error.h"
#include "directory/directory.h"
#include "pim/pim-contact-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

void pim_addressbook_clear(struct pim_addressbook *book)
{
	g_free(book->segment);
	g_free(book->display_name);
	memset(book, 0, sizeof(*book));
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

/* The global address book changes when the directory does; a client
 * compares the ctag for equality only, so a digest of the listing does. */
static int gab_digest(const struct pim_contact *c, const char *data, void *ctx)
{
	g_checksum_update(ctx, (const guchar *)c->etag, (gssize)strlen(c->etag));
	return 0;
}

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
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	int r = pim_gab_list(s, actor, gab_digest, sum, err);
	guint8 digest[32];
	gsize dlen = sizeof(digest);
	g_checksum_get_digest(sum, digest, &dlen);
	g_checksum_free(sum);
	memcpy(&book->modseq, digest, sizeof(book->modseq));
	book->modseq &= INT64_MAX;
	return r;
}

int pim_addressbook_list(struct store *s, int64_t actor, int64_t owner, pim_addressbook_fn *fn,
                         void *ctx, struct ox_error *err)
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
	if (ret == 0 && actor == owner) {
		struct pim_addressbook gab;
		ret = describe_gab(s, actor, &gab, err);
		if (ret == 0 && fn(&gab, ctx) < 0)
			ret = ox_error_set(err, OX_ERR_INTERNAL, "address book listing stopped");
		pim_addressbook_clear(&gab);
	}
	return ret;
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
	*c->book = *book;
	c->book->segment = g_strdup(book->segment);
	c->book->display_name = g_strdup(book->display_name);
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
	struct find_ctx c = {segment, book_r, false};
	if (pim_addressbook_list(s, actor, owner, find_one, &c, err) < 0) {
		pim_addressbook_clear(book_r);
		return -1;
	}
	return c.found ? 1 : 0;
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
