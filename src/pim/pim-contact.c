/* Contacts: vCard text with its index in `contacts`, one contact per UID
 * per address book. The change log names a contact by its resource name,
 * so "own" rights follow whoever created that name. The global address
 * book is generated (pim-contact-gab.c) and refuses every write. */
#include "core/error.h"
#include "pim/pim-contact-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

#define CONTACT_COLUMNS                                                                            \
	"id, folder_id, name, uid, fn, n, emails, tels, etag, size, created, modified"

void pim_contact_clear(struct pim_contact *c)
{
	g_free(c->name);
	g_free(c->uid);
	g_free(c->fn);
	g_free(c->n);
	g_free(c->emails);
	g_free(c->tels);
	memset(c, 0, sizeof(*c));
}

static void read_contact(struct store_stmt *st, struct pim_contact *c)
{
	c->id = store_col_int(st, 0);
	c->folder_id = store_col_int(st, 1);
	c->name = g_strdup(store_col_text(st, 2));
	c->uid = g_strdup(store_col_text(st, 3));
	c->fn = g_strdup(store_col_text(st, 4));
	c->n = g_strdup(store_col_text(st, 5));
	c->emails = g_strdup(store_col_text(st, 6));
	c->tels = g_strdup(store_col_text(st, 7));
	g_strlcpy(c->etag, store_col_text(st, 8), sizeof(c->etag));
	c->size = store_col_int(st, 9);
	c->created = store_col_int(st, 10);
	c->modified = store_col_int(st, 11);
}

static int read_only(struct ox_error *err)
{
	return ox_error_set(err, OX_ERR_PERM, "the global address book is read-only");
}

/* Whether the actor may read contacts: 1 all, 0 only their own, -1 none. */
static int read_scope(struct store *s, int64_t actor, int64_t folder_id, struct ox_error *err)
{
	struct folder_perm rights;
	if (folder_rights(s, actor, folder_id, &rights, err) < 0)
		return -1;
	if (!folder_rights_allow(&rights, FOLDER_SEE, false))
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such address book");
	if (folder_check(s, actor, folder_id, FOLDER_READ_OBJECT, 0, err) == 0)
		return 1;
	if (folder_rights_allow(&rights, FOLDER_READ_OBJECT, true))
		return 0;
	return -1;
}

static bool readable(struct store *s, int64_t actor, int64_t folder_id, int scope, const char *name)
{
	int64_t creator = 0;
	struct ox_error err;
	return scope > 0 ||
	       (change_object_creator(s, folder_id, name, &creator, &err) > 0 && creator == actor);
}

static int load(struct store *s, int64_t folder_id, const char *name, struct pim_contact *c,
                struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT " CONTACT_COLUMNS " FROM contacts WHERE folder_id = $1 AND name = $2",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	if (r > 0)
		read_contact(st, c);
	store_stmt_done(&st);
	return r;
}

/* --- the global address book: its cards made once per request --- */

/* The book's cards: those it was described with, else made now (*tmp_r
 * then holds them for the caller to release). */
static const struct pim_gab *gab_of(struct store *s, int64_t actor,
                                    const struct pim_addressbook *book, struct pim_gab **tmp_r,
                                    struct ox_error *err)
{
	*tmp_r = NULL;
	if (book->gab != NULL)
		return book->gab;
	return pim_gab_build(s, actor, tmp_r, err) < 0 ? NULL : *tmp_r;
}

static void copy_contact(struct pim_contact *dst, const struct pim_contact *src)
{
	*dst = *src;
	dst->name = g_strdup(src->name);
	dst->uid = g_strdup(src->uid);
	dst->fn = g_strdup(src->fn);
	dst->n = g_strdup(src->n);
	dst->emails = g_strdup(src->emails);
	dst->tels = g_strdup(src->tels);
}

static int gab_find(struct store *s, int64_t actor, const struct pim_addressbook *book,
                    const char *name, struct pim_contact *c_r, char **data_r, struct ox_error *err)
{
	struct pim_gab *tmp;
	const struct pim_gab *gab = gab_of(s, actor, book, &tmp, err);
	if (gab == NULL)
		return -1;
	const char *text = NULL;
	const struct pim_contact *c = pim_gab_find(gab, name, &text);
	if (c != NULL)
		copy_contact(c_r, c);
	if (data_r != NULL)
		*data_r = g_strdup(text);
	pim_gab_unref(&tmp);
	return c != NULL ? 1 : 0;
}

int pim_contact_find(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const char *name, struct pim_contact *c_r, struct ox_error *err)
{
	memset(c_r, 0, sizeof(*c_r));
	if (book->global)
		return gab_find(s, actor, book, name, c_r, NULL, err);
	struct ox_error perm;
	int scope = read_scope(s, actor, book->folder_id, &perm);
	/* Unreadable is absent: the book's existence is not revealed. */
	if (scope < 0 && perm.code != OX_ERR_PERM && perm.code != OX_ERR_NOT_FOUND) {
		*err = perm;
		return -1;
	}
	int r = load(s, book->folder_id, name, c_r, err);
	if (r > 0 && (scope < 0 || !readable(s, actor, book->folder_id, scope, name))) {
		pim_contact_clear(c_r);
		r = 0;
	}
	return r;
}

int pim_contact_read(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const struct pim_contact *c, char **data_r, size_t *len_r,
                     struct ox_error *err)
{
	*data_r = NULL;
	if (book->global) {
		struct pim_contact found = {0};
		int r = gab_find(s, actor, book, c->name, &found, data_r, err);
		pim_contact_clear(&found);
		if (r <= 0)
			return r < 0 ? -1 : ox_error_set(err, OX_ERR_NOT_FOUND, "no such contact");
		*len_r = strlen(*data_r);
		return 0;
	}
	int scope = read_scope(s, actor, book->folder_id, err);
	if (scope < 0)
		return -1;
	if (!readable(s, actor, book->folder_id, scope, c->name))
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such contact");
	struct store_stmt *st =
		store_prepare(s, "SELECT data FROM contacts WHERE folder_id = $1 AND id = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, book->folder_id);
	store_bind_int(st, 2, c->id);
	int r = store_step(st, err);
	if (r > 0) {
		*data_r = g_strdup(store_col_text(st, 0));
		*len_r = strlen(*data_r);
	}
	store_stmt_done(&st);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such contact");
	return r > 0 ? 0 : -1;
}

/* --- listing and queries --- */

struct gab_query {
	const struct pim_contact_query *q;
	pim_contact_fn *fn;
	void *ctx;
	size_t count;
	bool truncated;
};

/* The index decides unless the query needs the text. */
static bool passes(const struct pim_contact *c, const char *data, const struct pim_contact_query *q)
{
	return pim_contact_query_needs_text(q) ? pim_contact_matches_text(data, q)
	                                       : pim_contact_matches(c, q);
}

static int gab_query_one(const struct pim_contact *c, const char *data, void *ctx)
{
	struct gab_query *g = ctx;
	if (!passes(c, data, g->q))
		return 0;
	if (g->q != NULL && g->q->limit > 0 && g->count >= g->q->limit) {
		g->truncated = true;
		return 0;
	}
	g->count++;
	return g->fn(c, data, g->ctx);
}

/* Rows of `st` (CONTACT_COLUMNS, then data) the actor may read that pass q. */
static int emit_rows(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     struct store_stmt *st, const struct pim_contact_query *q, pim_contact_fn *fn,
                     void *ctx, bool *truncated_r, struct ox_error *err)
{
	int scope = read_scope(s, actor, book->folder_id, err);
	if (scope < 0) {
		store_stmt_done(&st);
		return -1;
	}
	/* Rows are collected first: the permission check and fn may use the
	 * store while a statement is open. */
	GPtrArray *data = g_ptr_array_new_with_free_func(g_free);
	GArray *rows = g_array_new(FALSE, TRUE, sizeof(struct pim_contact));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct pim_contact c = {0};
		read_contact(st, &c);
		if (!passes(&c, store_col_text(st, 12), q)) {
			pim_contact_clear(&c);
			continue;
		}
		g_array_append_val(rows, c);
		g_ptr_array_add(data, g_strdup(store_col_text(st, 12)));
	}
	store_stmt_done(&st);
	size_t count = 0;
	for (guint i = 0; r == 0 && i < rows->len; i++) {
		struct pim_contact *c = &g_array_index(rows, struct pim_contact, i);
		if (!readable(s, actor, book->folder_id, scope, c->name))
			continue;
		if (q != NULL && q->limit > 0 && count >= q->limit) {
			*truncated_r = true;
			break;
		}
		count++;
		if (fn(c, g_ptr_array_index(data, i), ctx) < 0)
			r = ox_error_set(err, OX_ERR_INTERNAL, "contact listing stopped");
	}
	for (guint i = 0; i < rows->len; i++)
		pim_contact_clear(&g_array_index(rows, struct pim_contact, i));
	g_array_free(rows, TRUE);
	g_ptr_array_unref(data);
	return r < 0 ? -1 : 0;
}

int pim_contact_query(struct store *s, int64_t actor, const struct pim_addressbook *book,
                      const struct pim_contact_query *q, pim_contact_fn *fn, void *ctx,
                      bool *truncated_r, struct ox_error *err)
{
	bool truncated = false;
	if (truncated_r == NULL)
		truncated_r = &truncated;
	*truncated_r = false;
	if (book->global) {
		struct gab_query g = {q, fn, ctx, 0, false};
		struct pim_gab *tmp;
		const struct pim_gab *gab = gab_of(s, actor, book, &tmp, err);
		if (gab == NULL)
			return -1;
		int r = pim_gab_foreach(gab, gab_query_one, &g);
		pim_gab_unref(&tmp);
		*truncated_r = g.truncated;
		return r < 0 ? ox_error_set(err, OX_ERR_INTERNAL, "contact listing stopped") : 0;
	}
	/* The indexed columns decide the match when they can; the text is
	 * matched when the query names what the index does not hold. */
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT " CONTACT_COLUMNS ", data FROM contacts "
	                                      "WHERE folder_id = $1 ORDER BY name",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, book->folder_id);
	return emit_rows(s, actor, book, st, q, fn, ctx, truncated_r, err);
}

/* --- the change log --- */

struct change_entry {
	char *name;
	bool deleted;
};

static int collect_change(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	struct change_entry e = {g_strdup(object), deleted};
	g_array_append_val(ctx, e);
	return 0;
}

static void change_entry_clear(gpointer p)
{
	g_free(((struct change_entry *)p)->name);
}

/* One change: the contact when it is there and readable, else removed. */
static int emit_change(struct store *s, int64_t actor, const struct pim_addressbook *book,
                       int scope, const struct change_entry *e, bool initial,
                       pim_contact_change_fn *fn, void *ctx, struct ox_error *err)
{
	struct pim_contact c = {0};
	int found = e->deleted ? 0 : load(s, book->folder_id, e->name, &c, err);
	if (found < 0)
		return -1;
	if (found > 0 && !readable(s, actor, book->folder_id, scope, e->name)) {
		pim_contact_clear(&c);
		found = 0;
	}
	int r = 0;
	if (found > 0 || !initial)
		r = fn(e->name, found > 0 ? &c : NULL, ctx);
	pim_contact_clear(&c);
	return r < 0 ? ox_error_set(err, OX_ERR_INTERNAL, "change listing stopped") : 0;
}

int pim_contact_changes(struct store *s, int64_t actor, const struct pim_addressbook *book,
                        int64_t since, pim_contact_change_fn *fn, void *ctx, int64_t *current_r,
                        struct ox_error *err)
{
	if (book->global)
		return ox_error_set(err, OX_ERR_NOT_FOUND,
		                    "the global address book has no change log");
	int scope = read_scope(s, actor, book->folder_id, err);
	if (scope < 0)
		return -1;
	/* Collected first: fn and the checks use the store. */
	GArray *changes = g_array_new(FALSE, TRUE, sizeof(struct change_entry));
	g_array_set_clear_func(changes, change_entry_clear);
	int r = changes_since(s, book->folder_id, since, collect_change, changes, current_r, err);
	for (guint i = 0; r == 0 && i < changes->len; i++)
		r = emit_change(s, actor, book, scope,
		                &g_array_index(changes, struct change_entry, i), since == 0, fn,
		                ctx, err);
	g_array_free(changes, TRUE);
	return r;
}

/* --- writes --- */

int pim_contact_may_put(struct store *s, int64_t actor, const struct pim_addressbook *book,
                        const struct pim_contact *existing, struct ox_error *err)
{
	if (book->global)
		return read_only(err);
	if (existing == NULL)
		return folder_check(s, actor, book->folder_id, FOLDER_CREATE_OBJECT, 0, err);
	int64_t creator = 0;
	if (change_object_creator(s, book->folder_id, existing->name, &creator, err) < 0)
		return -1;
	return folder_check(s, actor, book->folder_id, FOLDER_WRITE_OBJECT, creator, err);
}

static int uid_taken(struct store *s, int64_t folder_id, const char *uid, const char *name,
                     struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT name FROM contacts WHERE folder_id = $1 AND uid = $2 AND name <> $3",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, uid);
	store_bind_text(st, 3, name);
	int r = store_step(st, err);
	if (r > 0)
		ox_error_set(err, OX_ERR_CONFLICT, "UID %.100s is used by %.100s", uid,
		             store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

static int write_row(struct store *s, const struct pim_addressbook *book, const char *name,
                     const char *text, size_t len, const struct pim_vcard_index *idx,
                     const char *etag, bool exists, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		exists ? "UPDATE contacts SET uid = $3, fn = $4, n = $5, emails = $6, tels = $7, "
			 "etag = $8, size = $9, data = $10, modified = $11 "
			 "WHERE folder_id = $1 AND name = $2"
		       : "INSERT INTO contacts (folder_id, name, uid, fn, n, emails, tels, etag, "
			 "size, data, created, modified) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, book->folder_id);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, idx->uid);
	store_bind_text(st, 4, idx->fn);
	store_bind_text(st, 5, idx->n);
	store_bind_text(st, 6, idx->emails);
	store_bind_text(st, 7, idx->tels);
	store_bind_text(st, 8, etag);
	store_bind_int(st, 9, (int64_t)len);
	store_bind_text(st, 10, text);
	store_bind_int(st, 11, g_get_real_time() / G_USEC_PER_SEC);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

static int put_txn(struct store *s, int64_t actor, const struct pim_addressbook *book,
                   const char *name, const char *text, size_t len,
                   const struct pim_vcard_index *idx, const char *etag, bool *created_r,
                   enum pim_contact_reject *reject_r, struct ox_error *err)
{
	struct pim_contact old = {0};
	int exists = load(s, book->folder_id, name, &old, err);
	int r = exists < 0 ? -1 : pim_contact_may_put(s, actor, book, exists ? &old : NULL, err);
	pim_contact_clear(&old);
	if (r < 0)
		return -1;
	int taken = uid_taken(s, book->folder_id, idx->uid, name, err);
	if (taken != 0) {
		if (taken > 0)
			*reject_r = PIM_CONTACT_REJECT_UID;
		return -1;
	}
	if (write_row(s, book, name, text, len, idx, etag, exists > 0, err) < 0 ||
	    change_record(s, book->folder_id, name, actor, false, NULL, err) < 0)
		return -1;
	*created_r = exists == 0;
	return 0;
}

int pim_contact_put(struct store *s, int64_t actor, const struct pim_addressbook *book,
                    const char *name, const char *data, size_t len, bool *created_r,
                    struct pim_contact *c_r, enum pim_contact_reject *reject_r,
                    struct ox_error *err)
{
	memset(c_r, 0, sizeof(*c_r));
	*reject_r = PIM_CONTACT_REJECT_NONE;
	if (book->global)
		return read_only(err);
	size_t nlen = name != NULL ? strlen(name) : 0;
	if (nlen == 0 || nlen > 255 || strchr(name, '/') != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "a contact name is 1 to 255 bytes");
	struct pim_vcard_index idx;
	if (pim_vcard_index(data, len, &idx, err) < 0) {
		*reject_r = err->code == OX_ERR_LIMIT && len > PIM_CONTACT_MAX
		                    ? PIM_CONTACT_REJECT_SIZE
		                    : PIM_CONTACT_REJECT_DATA;
		return -1;
	}
	char *text = g_strndup(data, len);
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	char etag[40];
	g_snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	g_free(hash);
	int ret = -1;
	if (store_begin(s, err) == 0) {
		if (put_txn(s, actor, book, name, text, len, &idx, etag, created_r, reject_r,
		            err) == 0 &&
		    store_commit(s, err) == 0)
			ret = 0;
		else
			store_rollback(s);
	}
	g_free(text);
	pim_vcard_index_clear(&idx);
	if (ret == 0 && load(s, book->folder_id, name, c_r, err) <= 0)
		ret = -1;
	return ret;
}

/* Deletes a contact's row and leaves its tombstone. */
static int remove_row(struct store *s, int64_t folder_id, const char *name, int64_t actor,
                      struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "DELETE FROM contacts WHERE folder_id = $1 AND name = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r < 0 ? -1 : change_record(s, folder_id, name, actor, true, NULL, err);
}

int pim_contact_delete(struct store *s, int64_t actor, const struct pim_addressbook *book,
                       const struct pim_contact *c, struct ox_error *err)
{
	if (book->global)
		return read_only(err);
	int64_t creator = 0;
	if (change_object_creator(s, book->folder_id, c->name, &creator, err) < 0 ||
	    folder_check(s, actor, book->folder_id, FOLDER_DELETE_OBJECT, creator, err) < 0)
		return -1;
	/* COPY and MOVE remove an overwritten destination inside their own
	 * transaction: join it. */
	bool own = !store_in_transaction(s);
	if (own && store_begin(s, err) < 0)
		return -1;
	bool ok = remove_row(s, book->folder_id, c->name, actor, err) == 0;
	if (own && (!ok || store_commit(s, err) < 0)) {
		store_rollback(s);
		return -1;
	}
	return ok ? 0 : -1;
}

/* --- the whole book as one stream (GET) --- */

#define EXPORT_PAGE 32

struct export_row {
	char *name, *data;
};

static void export_row_clear(gpointer p)
{
	struct export_row *row = p;
	g_free(row->name);
	g_free(row->data);
}

/* The next page of rows after `after` (by name): 0 with rows, -1. */
static int export_page(struct store *s, int64_t folder_id, const char *after, GArray *rows,
                       struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT name, data FROM contacts WHERE folder_id = $1 "
	                      "AND name > $2 ORDER BY name LIMIT 32",
	                      err);
	if (st == NULL)
		return -1;
	G_STATIC_ASSERT(EXPORT_PAGE == 32);
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, after);
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct export_row row = {g_strdup(store_col_text(st, 0)),
		                         g_strdup(store_col_text(st, 1))};
		g_array_append_val(rows, row);
	}
	store_stmt_done(&st);
	return r;
}

/* One card, ending in a line break so the next one starts a line. */
static int export_card(const char *text, pim_contact_write_fn *fn, void *ctx)
{
	size_t len = strlen(text);
	if (len > 0 && fn(text, len, ctx) < 0)
		return -1;
	return len > 0 && text[len - 1] != '\n' ? fn("\r\n", 2, ctx) : 0;
}

struct export_to {
	pim_contact_write_fn *fn;
	void *ctx;
};

static int export_gab_one(const struct pim_contact *c, const char *data, void *ctx)
{
	struct export_to *x = ctx;
	return export_card(data, x->fn, x->ctx);
}

static int export_gab(struct store *s, int64_t actor, const struct pim_addressbook *book,
                      pim_contact_write_fn *fn, void *ctx, struct ox_error *err)
{
	struct pim_gab *tmp;
	const struct pim_gab *gab = gab_of(s, actor, book, &tmp, err);
	if (gab == NULL)
		return -1;
	struct export_to x = {fn, ctx};
	int r = pim_gab_foreach(gab, export_gab_one, &x);
	pim_gab_unref(&tmp);
	return r < 0 ? ox_error_set(err, OX_ERR_TEMP, "the client went away") : 0;
}

int pim_addressbook_export(struct store *s, int64_t actor, const struct pim_addressbook *book,
                           pim_contact_write_fn *fn, void *ctx, struct ox_error *err)
{
	if (book->global)
		return export_gab(s, actor, book, fn, ctx, err);
	int scope = read_scope(s, actor, book->folder_id, err);
	if (scope < 0)
		return -1;
	/* A page at a time, and no statement open while fn waits for the
	 * client: memory and locks stay flat whatever the book's size. */
	GArray *rows = g_array_new(FALSE, TRUE, sizeof(struct export_row));
	g_array_set_clear_func(rows, export_row_clear);
	char *after = g_strdup("");
	int r = 0;
	do {
		g_array_set_size(rows, 0);
		r = export_page(s, book->folder_id, after, rows, err);
		for (guint i = 0; r == 0 && i < rows->len; i++) {
			struct export_row *row = &g_array_index(rows, struct export_row, i);
			if (!readable(s, actor, book->folder_id, scope, row->name))
				continue;
			if (export_card(row->data, fn, ctx) < 0)
				r = ox_error_set(err, OX_ERR_TEMP, "the client went away");
		}
		if (rows->len > 0) {
			g_free(after);
			after = g_strdup(
				g_array_index(rows, struct export_row, rows->len - 1).name);
		}
	} while (r == 0 && rows->len == EXPORT_PAGE);
	g_free(after);
	g_array_free(rows, TRUE);
	return r;
}

/* --- COPY and MOVE --- */

/* Who holds a UID in a folder: 1 with *name_r, 0, -1. */
static int uid_holder(struct store *s, int64_t folder_id, const char *uid, char **name_r,
                      struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT name FROM contacts WHERE folder_id = $1 AND uid = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, uid);
	int r = store_step(st, err);
	if (r > 0)
		*name_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

/* The source's text, as the actor may read it. */
static int transfer_source(struct store *s, int64_t actor, const struct pim_addressbook *book,
                           const struct pim_contact *src, bool move, char **text_r,
                           struct ox_error *err)
{
	size_t len;
	if (move && book->global)
		return read_only(err);
	if (pim_contact_read(s, actor, book, src, text_r, &len, err) < 0)
		return -1;
	if (!move)
		return 0;
	int64_t creator = 0;
	if (change_object_creator(s, book->folder_id, src->name, &creator, err) < 0)
		return -1;
	return folder_check(s, actor, book->folder_id, FOLDER_DELETE_OBJECT, creator, err);
}

static int transfer_txn(struct store *s, int64_t actor, const struct pim_addressbook *src_book,
                        const struct pim_contact *src, const struct pim_addressbook *dst_book,
                        const char *dst_name, bool move, const char *text,
                        const struct pim_vcard_index *idx, enum pim_contact_reject *reject_r,
                        char **conflict_r, struct ox_error *err)
{
	/* The source goes first: a contact moved to another name of its own
	 * book keeps its UID. */
	if (move && remove_row(s, src_book->folder_id, src->name, actor, err) < 0)
		return -1;
	char *holder = NULL;
	int taken = uid_holder(s, dst_book->folder_id, idx->uid, &holder, err);
	if (taken > 0) {
		*reject_r = PIM_CONTACT_REJECT_UID;
		ox_error_set(err, OX_ERR_CONFLICT,
		             "UID %.100s is used by another contact of the book", idx->uid);
		/* Named only to whoever may read it. */
		struct ox_error ignored;
		int scope = read_scope(s, actor, dst_book->folder_id, &ignored);
		if (conflict_r != NULL && scope >= 0 &&
		    readable(s, actor, dst_book->folder_id, scope, holder))
			*conflict_r = g_strdup(holder);
		g_free(holder);
		return -1;
	}
	if (taken < 0)
		return -1;
	size_t len = strlen(text);
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
	char etag[40];
	g_snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	g_free(hash);
	if (write_row(s, dst_book, dst_name, text, len, idx, etag, false, err) < 0)
		return -1;
	return change_record(s, dst_book->folder_id, dst_name, actor, false, NULL, err);
}

static int transfer_checks(struct store *s, int64_t actor, const struct pim_addressbook *dst_book,
                           const char *dst_name, struct ox_error *err)
{
	if (dst_book->global)
		return read_only(err);
	size_t nlen = dst_name != NULL ? strlen(dst_name) : 0;
	if (nlen == 0 || nlen > 255 || strchr(dst_name, '/') != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "a contact name is 1 to 255 bytes");
	return folder_check(s, actor, dst_book->folder_id, FOLDER_CREATE_OBJECT, 0, err);
}

int pim_contact_transfer(struct store *s, int64_t actor, const struct pim_addressbook *src_book,
                         const struct pim_contact *src, const struct pim_addressbook *dst_book,
                         const char *dst_name, bool move, enum pim_contact_reject *reject_r,
                         char **conflict_r, struct ox_error *err)
{
	*reject_r = PIM_CONTACT_REJECT_NONE;
	if (conflict_r != NULL)
		*conflict_r = NULL;
	char *text = NULL;
	if (transfer_checks(s, actor, dst_book, dst_name, err) < 0 ||
	    transfer_source(s, actor, src_book, src, move, &text, err) < 0) {
		g_free(text);
		return -1;
	}
	/* Stored text passed the reader when it was put; read again for the
	 * destination's index. */
	struct pim_vcard_index idx;
	if (pim_vcard_index(text, strlen(text), &idx, err) < 0) {
		*reject_r = PIM_CONTACT_REJECT_DATA;
		g_free(text);
		return -1;
	}
	bool own = !store_in_transaction(s);
	int r = own ? store_begin(s, err) : 0;
	if (r == 0)
		r = transfer_txn(s, actor, src_book, src, dst_book, dst_name, move, text, &idx,
		                 reject_r, conflict_r, err);
	if (own && r == 0)
		r = store_commit(s, err);
	else if (own)
		store_rollback(s);
	pim_vcard_index_clear(&idx);
	g_free(text);
	return r < 0 ? -1 : 0;
}
