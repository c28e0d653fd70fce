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

/* --- the global address book, found by name through its listing --- */

struct gab_find {
	const char *name;
	struct pim_contact *c;
	char *data;
};

static int gab_find_one(const struct pim_contact *c, const char *data, void *ctx)
{
	struct gab_find *f = ctx;
	if (f->data != NULL || strcmp(c->name, f->name) != 0)
		return 0;
	*f->c = *c;
	f->c->name = g_strdup(c->name);
	f->c->uid = g_strdup(c->uid);
	f->c->fn = g_strdup(c->fn);
	f->c->n = g_strdup(c->n);
	f->c->emails = g_strdup(c->emails);
	f->c->tels = g_strdup(c->tels);
	f->data = g_strdup(data);
	return 0;
}

static int gab_find(struct store *s, int64_t actor, const char *name, struct pim_contact *c_r,
                    char **data_r, struct ox_error *err)
{
	struct gab_find f = {name, c_r, NULL};
	if (pim_gab_list(s, actor, gab_find_one, &f, err) < 0) {
		pim_contact_clear(c_r);
		g_free(f.data);
		return -1;
	}
	if (data_r != NULL)
		*data_r = f.data;
	else
		g_free(f.data);
	return f.c->name != NULL ? 1 : 0;
}

int pim_contact_find(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const char *name, struct pim_contact *c_r, struct ox_error *err)
{
	memset(c_r, 0, sizeof(*c_r));
	if (book->global)
		return gab_find(s, actor, name, c_r, NULL, err);
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
		struct pim_contact found;
		int r = gab_find(s, actor, c->name, &found, data_r, err);
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

static int gab_query_one(const struct pim_contact *c, const char *data, void *ctx)
{
	struct gab_query *g = ctx;
	if (!pim_contact_matches(c, g->q))
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
		if (!pim_contact_matches(&c, q)) {
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
		int r = pim_gab_list(s, actor, gab_query_one, &g, err);
		*truncated_r = g.truncated;
		return r;
	}
	/* The indexed columns decide the match; the text is only passed on. */
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

int pim_contact_delete(struct store *s, int64_t actor, const struct pim_addressbook *book,
                       const struct pim_contact *c, struct ox_error *err)
{
	if (book->global)
		return read_only(err);
	int64_t creator = 0;
	if (change_object_creator(s, book->folder_id, c->name, &creator, err) < 0 ||
	    folder_check(s, actor, book->folder_id, FOLDER_DELETE_OBJECT, creator, err) < 0)
		return -1;
	if (store_begin(s, err) < 0)
		return -1;
	struct store_stmt *st =
		store_prepare(s, "DELETE FROM contacts WHERE folder_id = $1 AND id = $2", err);
	bool ok = st != NULL;
	if (ok) {
		store_bind_int(st, 1, book->folder_id);
		store_bind_int(st, 2, c->id);
		ok = store_run(st, err) == 0;
		store_stmt_done(&st);
	}
	ok = ok && change_record(s, book->folder_id, c->name, actor, true, NULL, err) == 0;
	if (!ok || store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}
