/* The files provider: /dav/files/LOGIN/... is LOGIN's files tree as the
 * requesting user sees it (files/files.h decides every access). */
#include "dav/dav-private.h"
#include "files/files.h"
#include "http/http.h"

#include <string.h>

struct files_state {
	int64_t owner; /* 0: the first segment names no user */
};

static int files_begin(struct dav_request *rq, struct ox_error *err)
{
	struct files_state *fs = g_new0(struct files_state, 1);
	rq->pstate = fs;
	if (rq->nsegs == 0)
		return 0;
	return files_tree_owner(rq->store, rq->segs[0], &fs->owner, err) < 0 ? -1 : 0;
}

static void files_done(struct dav_request *rq)
{
	g_free(rq->pstate);
	rq->pstate = NULL;
}

static int64_t owner_of(struct dav_request *rq)
{
	return ((struct files_state *)rq->pstate)->owner;
}

static struct files_entry *entry_of(struct dav_resource *res)
{
	return res->pdata;
}

/* Fills res from e, taking e's contents. */
static void describe(struct dav_resource *res, struct files_entry *e, const char *login)
{
	res->exists = e->exists;
	res->collection = files_entry_is_collection(e);
	res->parent_exists = e->exists || e->parent_found;
	g_free(res->content_type);
	g_free(res->etag);
	g_free(res->display_name);
	res->content_type = NULL;
	res->etag = NULL;
	res->display_name = g_strdup(e->name != NULL ? e->name : login);
	/* Collections are dated too (their folder's creation): davfs2 and
	 * file managers show the dates of directories. */
	res->created = e->exists ? e->created : 0;
	res->modified = e->exists ? e->modified : 0;
	if (e->exists && e->document_id != 0) {
		res->length = (uint64_t)e->size;
		res->content_type = g_strdup(e->content_type);
		char etag[FILES_ETAG_SIZE];
		files_etag(e->blob_hash, etag);
		res->etag = g_strdup(etag);
	}
	if (res->pdata == NULL)
		res->pdata = g_new0(struct files_entry, 1);
	if (res->pdata != e) {
		files_entry_clear(res->pdata);
		*entry_of(res) = *e;
		memset(e, 0, sizeof(*e));
	}
}

static int files_lookup(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                        struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	if (n == 0)
		return 0;
	int64_t owner = 0;
	if (n > 0 && strcmp(segs[0], rq->segs[0]) == 0)
		owner = owner_of(rq);
	else if (files_tree_owner(rq->store, segs[0], &owner, err) < 0)
		return -1;
	if (owner == 0)
		return 0;
	struct files_entry e;
	int r = files_resolve(rq->store, rq->user, owner, (const char *const *)segs + 1, n - 1, &e,
	                      err);
	if (r < 0)
		return -1;
	describe(res, &e, segs[0]);
	return r;
}

static void files_release(struct dav_resource *res)
{
	files_entry_clear(res->pdata);
	g_free(res->pdata);
	res->pdata = NULL;
}

struct members_ctx {
	dav_member_fn *fn;
	void *ctx;
};

static int member(const struct files_entry *m, void *ctx)
{
	struct members_ctx *c = ctx;
	struct files_entry copy = *m;
	copy.name = g_strdup(m->name);
	copy.content_type = g_strdup(m->content_type);
	struct dav_resource res = {0};
	describe(&res, &copy, NULL);
	int r = c->fn(m->name, &res, c->ctx);
	files_release(&res);
	g_free(res.content_type);
	g_free(res.etag);
	g_free(res.display_name);
	return r;
}

static int files_members(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
                         void *ctx, struct ox_error *err)
{
	struct members_ctx c = {fn, ctx};
	return files_list(rq->store, rq->user, entry_of(coll), member, &c, err);
}

static int files_get(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
                     uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err)
{
	return files_read(rq->store, rq->user, entry_of(res), offset, length, sink, ctx, err);
}

/* RFC 4331 6: a write refused for the quota names DAV:quota-not-exceeded,
 * one refused for a full disk DAV:sufficient-disk-space (both 507). */
static int refused(struct dav_request *rq, const struct ox_error *err)
{
	if (err->code == OX_ERR_NO_QUOTA) {
		rq->error_status = 507;
		rq->error_ns = DAV_NS;
		rq->error_cond =
			files_quota_exceeded(err) ? "quota-not-exceeded" : "sufficient-disk-space";
	}
	return -1;
}

/* The body's announced size (-1 when chunked), so that a PUT over quota
 * is refused before its body is read. */
static int64_t announced_length(struct dav_request *rq)
{
	const char *value = http_request_header(rq->ex, "Content-Length");
	guint64 n = 0;
	if (value == NULL || !g_ascii_string_to_unsigned(value, 10, 0, G_MAXINT64, &n, NULL))
		return -1;
	return (int64_t)n;
}

static int files_put_res(struct dav_request *rq, struct dav_resource *res, const char *content_type,
                         dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err)
{
	struct files_entry *e = entry_of(res);
	if (files_put(rq->store, rq->user, e, content_type, announced_length(rq), src, ctx,
	              created_r, err) < 0)
		return refused(rq, err);
	describe(res, e, NULL);
	return 0;
}

static int files_mkcol_res(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	return files_mkcol(rq->store, rq->user, entry_of(res), err);
}

static int files_remove(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	return files_delete(rq->store, rq->user, entry_of(res), err);
}

static int files_copy_res(struct dav_request *rq, struct dav_resource *src,
                          struct dav_resource *dst, bool recursive, struct ox_error *err)
{
	if (files_copy(rq->store, rq->user, entry_of(src), entry_of(dst), recursive, err) < 0)
		return refused(rq, err);
	return 0;
}

static int files_move_res(struct dav_request *rq, struct dav_resource *src,
                          struct dav_resource *dst, struct ox_error *err)
{
	return files_move(rq->store, rq->user, entry_of(src), entry_of(dst), err);
}

static int files_props(struct dav_request *rq, struct dav_resource *res, dav_prop_fn *fn, void *ctx,
                       struct ox_error *err)
{
	return files_props_list(rq->store, rq->user, entry_of(res), fn, ctx, err);
}

static int files_proppatch(struct dav_request *rq, struct dav_resource *res,
                           const struct dav_prop_op *ops, size_t n, struct ox_error *err)
{
	struct files_prop_op *fops = g_new0(struct files_prop_op, n > 0 ? n : 1);
	for (size_t i = 0; i < n; i++)
		fops[i] = (struct files_prop_op){ops[i].ns, ops[i].name, ops[i].value};
	int r = files_props_patch(rq->store, rq->user, entry_of(res), fops, n, err);
	g_free(fops);
	return r;
}

static int append_tree_locks(struct dav_request *rq, int64_t owner, GArray *out,
                             struct ox_error *err)
{
	struct files_lock *locks = NULL;
	size_t n = 0;
	if (files_locks(rq->store, owner, &locks, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct dav_lock l = {locks[i].token,     locks[i].path,   locks[i].depth,
		                     locks[i].exclusive, locks[i].owner,  locks[i].principal_id,
		                     locks[i].timeout,   locks[i].expires};
		g_array_append_val(out, l);
		memset(&locks[i], 0, sizeof(locks[i]));
	}
	files_locks_free(&locks, n);
	return 0;
}

/* The owner of the tree a COPY or MOVE writes into when it is not the
 * request's own (a folder another user shares): 0 when there is none. */
static int64_t destination_tree(struct dav_request *rq)
{
	const char *dest = http_request_header(rq->ex, "Destination");
	size_t n = 0;
	char **segs = dest != NULL ? dav_target_segs(rq, dest, &n) : NULL;
	int64_t owner = 0;
	struct ox_error err = {0};
	if (segs != NULL && n > 0 && strcmp(segs[0], rq->segs[0]) != 0 &&
	    files_tree_owner(rq->store, segs[0], &owner, &err) < 0)
		owner = 0;
	g_strfreev(segs);
	return owner != owner_of(rq) ? owner : 0;
}

/* Lock paths start with the tree's login, so the locks of the request's
 * tree and of a COPY/MOVE's destination tree go in one list: the
 * destination's locks must hold too (RFC 4918 9.8.5, 9.9.4). */
static int files_locks_list(struct dav_request *rq, GArray **locks_r, struct ox_error *err)
{
	*locks_r = g_array_new(FALSE, TRUE, sizeof(struct dav_lock));
	if (owner_of(rq) == 0)
		return 0;
	int64_t other = destination_tree(rq);
	if (append_tree_locks(rq, owner_of(rq), *locks_r, err) < 0 ||
	    (other != 0 && append_tree_locks(rq, other, *locks_r, err) < 0)) {
		g_array_unref(*locks_r);
		*locks_r = NULL;
		return -1;
	}
	return 0;
}

static int files_lock_new(struct dav_request *rq, struct dav_resource *res, struct dav_lock *lock,
                          struct ox_error *err)
{
	struct files_lock fl = {NULL,        lock->path, lock->depth,   lock->exclusive,
	                        lock->owner, 0,          lock->timeout, 0};
	if (files_lock_create(rq->store, rq->user, entry_of(res), &fl, err) < 0)
		return -1;
	lock->token = fl.token;
	lock->principal_id = fl.principal_id;
	lock->expires = fl.expires;
	return 0;
}

static int files_lock_extend(struct dav_request *rq, const char *token, int64_t timeout,
                             struct ox_error *err)
{
	return files_lock_refresh(rq->store, owner_of(rq), token, timeout, err);
}

static int files_unlock(struct dav_request *rq, const char *token, struct ox_error *err)
{
	return files_lock_remove(rq->store, rq->user, owner_of(rq), token, err);
}

static int files_drop(struct dav_request *rq, const char *path, struct ox_error *err)
{
	return owner_of(rq) == 0 ? 0 : files_locks_drop(rq->store, owner_of(rq), path, err);
}

/* RFC 3744: a collection's permissions are its folder's, a document's
 * those of the folder holding it; the root of a tree has none. The
 * engine shows them (dav-acl.c). */
static bool files_acl_source(struct dav_request *rq, struct dav_resource *res,
                             struct dav_acl_source *src_r)
{
	const struct files_entry *e = entry_of(res);
	if (e == NULL || !e->exists || e->folder_id == 0)
		return false;
	src_r->folder_id = e->folder_id;
	src_r->object = e->document_id != 0;
	return true;
}

/* RFC 4331: on every collection of a tree, the quota its owner writes
 * against. quota-used-bytes counts all that quota holds, not only the
 * collection's members (4 allows it: space in any of them counts against
 * the same quota). Asked for by name only, never in allprop (3); without
 * a quota there is no quota-available-bytes (404 in the propstat). */
static int files_quota_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                            const char *name, GString *out)
{
	bool used = strcmp(name, "quota-used-bytes") == 0;
	if (strcmp(ns, DAV_NS) != 0 || !res->exists || !res->collection ||
	    (!used && strcmp(name, "quota-available-bytes") != 0))
		return 0;
	struct files_usage usage;
	struct ox_error err;
	if (files_usage_of_user(rq->store, entry_of(res)->owner_id, &usage, &err) <= 0)
		return 0;
	int64_t value = used ? usage.user_bytes : files_usage_room(&usage);
	if (value < 0)
		return 0;
	g_string_append_printf(out, "<D:%s>%" G_GINT64_FORMAT "</D:%s>", name, value, name);
	return 1;
}

static enum dav_prop_kind files_prop_kind(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) == 0 &&
	    (strcmp(name, "quota-used-bytes") == 0 || strcmp(name, "quota-available-bytes") == 0))
		return DAV_PROP_PROTECTED;
	return DAV_PROP_DEAD;
}

const struct dav_provider dav_files_provider = {
	.prefix = "/dav/files/",
	.request_begin = files_begin,
	.request_done = files_done,
	.lookup = files_lookup,
	.release = files_release,
	.members = files_members,
	.get = files_get,
	.put = files_put_res,
	.mkcol = files_mkcol_res,
	.remove = files_remove,
	.copy = files_copy_res,
	.move = files_move_res,
	.props = files_props,
	.proppatch = files_proppatch,
	.locks = files_locks_list,
	.lock_create = files_lock_new,
	.lock_refresh = files_lock_extend,
	.lock_remove = files_unlock,
	.locks_drop = files_drop,
	.live_prop = files_quota_prop,
	.prop_kind = files_prop_kind,
	.acl_source = files_acl_source,
};
