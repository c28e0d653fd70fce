/* Locks (RFC 4918 6, 7, 9.10, 9.11) and the If header's evaluation: which
 * locks cover a name, whether the request submitted their tokens, LOCK
 * (new, refresh, on unmapped names) and UNLOCK. */
#include "dav/dav-private.h"
#include "http/http.h"

#include <string.h>

void dav_lock_clear(struct dav_lock *lock)
{
	g_free(lock->token);
	g_free(lock->path);
	g_free(lock->owner);
	memset(lock, 0, sizeof(*lock));
}

static void lock_clear_func(gpointer p)
{
	dav_lock_clear(p);
}

static bool path_below(const char *path, const char *base)
{
	size_t blen = strlen(base);
	if (blen == 0)
		return *path != '\0';
	return strncmp(path, base, blen) == 0 && path[blen] == '/';
}

bool dav_lock_covers(const struct dav_lock *lock, const char *path)
{
	return strcmp(lock->path, path) == 0 || (lock->depth < 0 && path_below(path, lock->path));
}

/* A lock root has one spelling however the client wrote the URL: segments
 * are percent-decoded when a path is split, and the first segment names
 * the tree's owner by login, which the directory matches without case
 * (it keeps logins in lower case). Without this a lock taken through
 * /dav/files/Alice@Example.org/x would not guard /dav/files/alice@example.org/x. */
static void canon_login(char *path)
{
	for (char *p = path; *p != '\0' && *p != '/'; p++)
		*p = g_ascii_tolower(*p);
}

char *dav_lock_path(char **segs, size_t n)
{
	char *path = dav_path_join(segs, n);
	canon_login(path);
	return path;
}

static int load_locks(struct dav_request *rq, struct dav_ifstate *st, struct ox_error *err)
{
	if (st->locks != NULL)
		return 0;
	if (rq->provider->locks(rq, &st->locks, err) < 0)
		return -1;
	g_array_set_clear_func(st->locks, lock_clear_func);
	/* Locks stored before roots had one spelling. */
	for (guint i = 0; i < st->locks->len; i++)
		canon_login(g_array_index(st->locks, struct dav_lock, i).path);
	return 0;
}

void dav_ifstate_clear(struct dav_ifstate *st)
{
	if (st->lists != NULL)
		g_ptr_array_unref(st->lists);
	if (st->locks != NULL)
		g_array_unref(st->locks);
	memset(st, 0, sizeof(*st));
}

struct if_ctx {
	struct dav_request *rq;
	struct dav_ifstate *st;
	struct dav_resource *res;
	char *path;
	struct dav_resource tagged;
	char *tagged_url;
};

/* The path a condition is about: its tag's, or the request's. */
static char *cond_path(struct if_ctx *c, const char *tag)
{
	if (tag == NULL)
		return g_strdup(c->path);
	size_t n;
	char **segs = dav_target_segs(c->rq, tag, &n);
	if (segs == NULL)
		return NULL;
	char *path = dav_lock_path(segs, n);
	g_strfreev(segs);
	return path;
}

static bool token_matches(const char *token, const char *tag, void *ctx)
{
	struct if_ctx *c = ctx;
	char *path = cond_path(c, tag);
	bool match = false;
	for (guint i = 0; path != NULL && !match && i < c->st->locks->len; i++) {
		const struct dav_lock *l = &g_array_index(c->st->locks, struct dav_lock, i);
		match = strcmp(l->token, token) == 0 && dav_lock_covers(l, path);
	}
	g_free(path);
	return match;
}

static const char *etag_of(const char *tag, void *ctx)
{
	struct if_ctx *c = ctx;
	if (tag == NULL)
		return c->res != NULL ? c->res->etag : NULL;
	if (c->tagged_url == NULL || strcmp(c->tagged_url, tag) != 0) {
		dav_resource_clear(c->rq, &c->tagged);
		g_free(c->tagged_url);
		c->tagged_url = g_strdup(tag);
		size_t n;
		char **segs = dav_target_segs(c->rq, tag, &n);
		struct ox_error err;
		if (segs != NULL)
			c->rq->provider->lookup(c->rq, segs, n, &c->tagged, &err);
		g_strfreev(segs);
	}
	return c->tagged.etag;
}

int dav_if_check_or_reply(struct dav_request *rq, struct dav_ifstate *st, struct dav_resource *res)
{
	const char *header = http_request_header(rq->ex, "If");
	struct ox_error err = {0};
	if (header == NULL)
		return 0;
	if (st->lists == NULL && (st->lists = dav_if_parse(header, &err)) == NULL) {
		http_reply_status(rq->ex, 400, "malformed If header\n");
		return -1;
	}
	if (load_locks(rq, st, &err) < 0) {
		dav_reply_error(rq, &err);
		return -1;
	}
	struct if_ctx c = {rq, st, res, dav_lock_path(rq->segs, rq->nsegs), {0}, NULL};
	bool ok = dav_if_evaluate(st->lists, token_matches, etag_of, &c);
	dav_resource_clear(rq, &c.tagged);
	g_free(c.tagged_url);
	g_free(c.path);
	if (!ok) {
		http_reply_status(rq->ex, 412, NULL);
		return -1;
	}
	return 0;
}

/* Whether the request carries a lock's token (anywhere in its If header,
 * not negated) and the lock is the requester's own. */
static bool submitted(struct dav_request *rq, struct dav_ifstate *st, const struct dav_lock *l)
{
	if (st->lists == NULL || l->principal_id != rq->user)
		return false;
	for (guint i = 0; i < st->lists->len; i++) {
		const struct dav_if_list *list = g_ptr_array_index(st->lists, i);
		for (guint j = 0; j < list->conds->len; j++) {
			const struct dav_if_cond *c =
				&g_array_index(list->conds, struct dav_if_cond, j);
			if (!c->negate && !c->is_etag && strcmp(c->value, l->token) == 0)
				return true;
		}
	}
	return false;
}

static void reply_locked(struct dav_request *rq, const struct dav_lock *l)
{
	char **segs = g_strsplit(l->path, "/", -1);
	size_t n = *l->path == '\0' ? 0 : g_strv_length(segs);
	char *href = dav_href(rq, segs, n, false);
	char *esc = dav_xml_escape(href);
	char *body = g_strdup_printf("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                             "<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted>"
	                             "<D:href>%s</D:href></D:lock-token-submitted></D:error>\n",
	                             esc);
	http_reply(rq->ex, 423, "application/xml; charset=utf-8", body, strlen(body));
	g_free(body);
	g_free(esc);
	g_free(href);
	g_strfreev(segs);
}

int dav_locks_check_or_reply(struct dav_request *rq, struct dav_ifstate *st, char **segs, size_t n,
                             bool deep, bool membership)
{
	struct ox_error err = {0};
	if (st->lists == NULL) {
		const char *header = http_request_header(rq->ex, "If");
		if (header != NULL && (st->lists = dav_if_parse(header, &err)) == NULL) {
			http_reply_status(rq->ex, 400, "malformed If header\n");
			return -1;
		}
	}
	if (load_locks(rq, st, &err) < 0) {
		dav_reply_error(rq, &err);
		return -1;
	}
	char *path = dav_lock_path(segs, n);
	char *parent = n > 0 ? dav_lock_path(segs, n - 1) : NULL;
	int ret = 0;
	for (guint i = 0; ret == 0 && i < st->locks->len; i++) {
		const struct dav_lock *l = &g_array_index(st->locks, struct dav_lock, i);
		bool relevant = dav_lock_covers(l, path) || (deep && path_below(l->path, path)) ||
		                (membership && parent != NULL && strcmp(l->path, parent) == 0);
		if (relevant && !submitted(rq, st, l)) {
			reply_locked(rq, l);
			ret = -1;
		}
	}
	g_free(path);
	g_free(parent);
	return ret;
}

static void activelock_xml(struct dav_request *rq, GString *out, const struct dav_lock *l)
{
	char **segs = g_strsplit(l->path, "/", -1);
	size_t n = *l->path == '\0' ? 0 : g_strv_length(segs);
	char *root = dav_href(rq, segs, n, false);
	char *root_esc = dav_xml_escape(root);
	char *token_esc = dav_xml_escape(l->token);
	int64_t left = l->expires - g_get_real_time() / G_USEC_PER_SEC;
	g_string_append_printf(out,
	                       "<D:activelock><D:locktype><D:write/></D:locktype>"
	                       "<D:lockscope><D:%s/></D:lockscope><D:depth>%s</D:depth>%s"
	                       "<D:timeout>Second-%" G_GINT64_FORMAT "</D:timeout>"
	                       "<D:locktoken><D:href>%s</D:href></D:locktoken>"
	                       "<D:lockroot><D:href>%s</D:href></D:lockroot></D:activelock>",
	                       l->exclusive ? "exclusive" : "shared",
	                       l->depth < 0 ? "infinity" : "0", l->owner != NULL ? l->owner : "",
	                       left > 0 ? left : 0, token_esc, root_esc);
	g_free(token_esc);
	g_free(root_esc);
	g_free(root);
	g_strfreev(segs);
}

void dav_lockdiscovery_xml(struct dav_request *rq, GString *out, const char *path)
{
	struct dav_ifstate st = {0};
	struct ox_error err;
	char *canon = g_strdup(path);
	canon_login(canon);
	g_string_append(out, "<D:lockdiscovery>");
	if (load_locks(rq, &st, &err) == 0) {
		for (guint i = 0; i < st.locks->len; i++) {
			const struct dav_lock *l = &g_array_index(st.locks, struct dav_lock, i);
			if (dav_lock_covers(l, canon))
				activelock_xml(rq, out, l);
		}
	}
	g_string_append(out, "</D:lockdiscovery>");
	dav_ifstate_clear(&st);
	g_free(canon);
}

/* Timeout (RFC 4918 10.7): the first value we understand, bounded. */
static int64_t lock_timeout(struct dav_request *rq)
{
	const char *h = http_request_header(rq->ex, "Timeout");
	if (h == NULL)
		return DAV_LOCK_TIMEOUT_DEFAULT;
	gchar **parts = g_strsplit(h, ",", 8);
	int64_t t = DAV_LOCK_TIMEOUT_DEFAULT;
	for (gchar **p = parts; *p != NULL; p++) {
		const char *v = g_strstrip(*p);
		if (g_ascii_strcasecmp(v, "Infinite") == 0) {
			t = DAV_LOCK_TIMEOUT_MAX;
			break;
		}
		if (g_ascii_strncasecmp(v, "Second-", 7) == 0 && g_ascii_isdigit(v[7])) {
			guint64 s = g_ascii_strtoull(v + 7, NULL, 10);
			t = s == 0 ? 1 : (int64_t)MIN(s, (guint64)DAV_LOCK_TIMEOUT_MAX);
			break;
		}
	}
	g_strfreev(parts);
	return t;
}

static void reply_lock(struct dav_request *rq, int status, const struct dav_lock *l)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                            "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	activelock_xml(rq, out, l);
	g_string_append(out, "</D:lockdiscovery></D:prop>\n");
	char *header = g_strdup_printf("<%s>", l->token);
	http_response_header(rq->ex, "Lock-Token", header);
	g_free(header);
	http_reply(rq->ex, status, "application/xml; charset=utf-8", out->str, out->len);
	g_string_free(out, TRUE);
}

/* LOCK without a body refreshes the locks whose tokens the If header
 * names and that cover the resource. */
static void lock_refresh(struct dav_request *rq, struct dav_ifstate *st, struct dav_resource *res)
{
	struct ox_error err = {0};
	if (http_request_header(rq->ex, "If") == NULL) {
		http_reply_status(rq->ex, 400, "a lock refresh needs an If header\n");
		return;
	}
	if (dav_if_check_or_reply(rq, st, res) < 0)
		return;
	char *path = dav_lock_path(rq->segs, rq->nsegs);
	int64_t timeout = lock_timeout(rq);
	struct dav_lock *done = NULL;
	for (guint i = 0; i < st->locks->len; i++) {
		struct dav_lock *l = &g_array_index(st->locks, struct dav_lock, i);
		if (!dav_lock_covers(l, path) || !submitted(rq, st, l))
			continue;
		if (rq->provider->lock_refresh(rq, l->token, timeout, &err) < 0)
			break;
		l->timeout = timeout;
		l->expires = g_get_real_time() / G_USEC_PER_SEC + timeout;
		done = l;
	}
	g_free(path);
	if (err.code != OX_ERR_NONE)
		dav_reply_error(rq, &err);
	else if (done == NULL)
		dav_reply_precondition(rq, 412, "lock-token-submitted");
	else
		reply_lock(rq, 200, done);
}

static bool lock_conflicts(struct dav_ifstate *st, const char *path, int depth, bool exclusive)
{
	for (guint i = 0; i < st->locks->len; i++) {
		const struct dav_lock *l = &g_array_index(st->locks, struct dav_lock, i);
		bool overlap = dav_lock_covers(l, path) || (depth < 0 && path_below(l->path, path));
		if (overlap && (exclusive || l->exclusive))
			return true;
	}
	return false;
}

static ssize_t empty_source(void *buf, size_t len, void *ctx)
{
	return 0;
}

static void lock_new(struct dav_request *rq, struct dav_ifstate *st, struct dav_resource *res,
                     const char *body, size_t len)
{
	struct dav_lockinfo li;
	struct ox_error err = {0};
	int depth = dav_depth(rq, -1);
	if (depth == 1 || depth == -2) {
		http_reply_status(rq->ex, 400, "Depth must be 0 or infinity\n");
		return;
	}
	if (dav_parse_lockinfo(body, len, &li, &err) < 0) {
		http_reply_status(rq->ex, 400, "malformed lockinfo\n");
		return;
	}
	struct dav_lock lock = {.path = dav_lock_path(rq->segs, rq->nsegs),
	                        .depth = res->collection ? depth : 0,
	                        .exclusive = li.exclusive,
	                        .owner = li.owner,
	                        .timeout = lock_timeout(rq)};
	bool created = false;
	if (dav_if_check_or_reply(rq, st, res) < 0)
		goto out;
	if (lock_conflicts(st, lock.path, lock.depth, lock.exclusive)) {
		dav_reply_precondition(rq, 423, "no-conflicting-lock");
		goto out;
	}
	/* RFC 4918 7.3: a lock on an unmapped name makes an empty resource. */
	if (!res->exists) {
		if (!res->parent_exists) {
			http_reply_status(rq->ex, 409, NULL);
			goto out;
		}
		if (dav_locks_check_or_reply(rq, st, rq->segs, rq->nsegs, false, true) < 0)
			goto out;
		if (rq->provider->put(rq, res, NULL, empty_source, NULL, &created, &err) < 0) {
			dav_reply_error(rq, &err);
			goto out;
		}
	}
	if (rq->provider->lock_create(rq, res, &lock, &err) < 0)
		dav_reply_error(rq, &err);
	else
		reply_lock(rq, created ? 201 : 200, &lock);
out:
	dav_lock_clear(&lock);
}

void dav_lock(struct dav_request *rq)
{
	struct dav_resource res = {0};
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	char *body = NULL;
	size_t len = 0;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0 ||
	    load_locks(rq, &st, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (body == NULL)
		lock_refresh(rq, &st, &res);
	else
		lock_new(rq, &st, &res, body, len);
out:
	g_free(body);
	dav_ifstate_clear(&st);
	dav_resource_clear(rq, &res);
}

void dav_unlock(struct dav_request *rq)
{
	const char *h = http_request_header(rq->ex, "Lock-Token");
	size_t hlen = h != NULL ? strlen(h) : 0;
	if (hlen < 3 || h[0] != '<' || h[hlen - 1] != '>') {
		http_reply_status(rq->ex, 400, "UNLOCK needs a Lock-Token header\n");
		return;
	}
	char *token = g_strndup(h + 1, hlen - 2);
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	char *path = dav_lock_path(rq->segs, rq->nsegs);
	bool found = false;
	struct dav_resource res = {0};
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0 ||
	    load_locks(rq, &st, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	/* What the user may not see is absent, locked or not. (A lock
	 * covers names that exist and, under a depth-infinity lock, unmapped
	 * ones in a collection that does.) */
	if (!res.exists && !res.parent_exists) {
		http_reply_status(rq->ex, 404, NULL);
		goto out;
	}
	for (guint i = 0; !found && i < st.locks->len; i++) {
		const struct dav_lock *l = &g_array_index(st.locks, struct dav_lock, i);
		found = strcmp(l->token, token) == 0 && dav_lock_covers(l, path);
	}
	if (!found)
		dav_reply_precondition(rq, 409, "lock-token-matches-request-uri");
	else if (rq->provider->lock_remove(rq, token, &err) < 0)
		dav_reply_error(rq, &err);
	else
		http_reply_status(rq->ex, 204, NULL);
out:
	dav_resource_clear(rq, &res);
	g_free(path);
	g_free(token);
	dav_ifstate_clear(&st);
}
