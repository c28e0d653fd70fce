/* COPY and MOVE (RFC 4918 9.8, 9.9): Destination, Overwrite and Depth are
 * checked here; the provider copies or moves, all or nothing, in one
 * transaction with the removal of an overwritten destination. */
#include "dav/dav-private.h"
#include "http/http.h"
#include "store/store.h"

#include <string.h>

/* Whether path a is b or above it, the owner's login (the first segment)
 * matched without case as the directory matches it. */
static bool segs_prefix(char **a, size_t na, char **b, size_t nb)
{
	if (na > nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if ((i == 0 ? g_ascii_strcasecmp(a[i], b[i]) : strcmp(a[i], b[i])) != 0)
			return false;
	}
	return true;
}

struct copymove {
	struct dav_request *rq;
	bool move;
	int depth;
	bool overwrite;
	char **dsegs;
	size_t dn;
	struct dav_resource src, dst;
	struct dav_ifstate st;
};

/* Headers: 0, or -1 after answering 400/502. */
static int parse_headers(struct copymove *c)
{
	struct dav_request *rq = c->rq;
	const char *dest = http_request_header(rq->ex, "Destination");
	const char *ow = http_request_header(rq->ex, "Overwrite");
	c->depth = dav_depth(rq, -1);
	c->overwrite = ow == NULL || strcmp(ow, "T") == 0;
	if (dest == NULL || (ow != NULL && strcmp(ow, "T") != 0 && strcmp(ow, "F") != 0) ||
	    c->depth == -2 || c->depth == 1 || (c->move && c->depth != -1)) {
		http_reply_status(rq->ex, 400, "bad Destination, Overwrite or Depth\n");
		return -1;
	}
	c->dsegs = dav_target_segs(rq, dest, &c->dn);
	if (c->dsegs == NULL) {
		http_reply_status(rq->ex, 502, "the Destination is not on this server\n");
		return -1;
	}
	return 0;
}

/* Everything that must hold before anything changes: 0, 1 (the
 * destination existed), -1 answered. */
static int check(struct copymove *c)
{
	struct dav_request *rq = c->rq;
	struct ox_error err = {0};
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &c->src, &err) < 0 ||
	    rq->provider->lookup(rq, c->dsegs, c->dn, &c->dst, &err) < 0) {
		dav_reply_error(rq, &err);
		return -1;
	}
	if (!c->src.exists) {
		http_reply_status(rq->ex, 404, NULL);
		return -1;
	}
	if (segs_prefix(rq->segs, rq->nsegs, c->dsegs, c->dn) ||
	    segs_prefix(c->dsegs, c->dn, rq->segs, rq->nsegs)) {
		http_reply_status(rq->ex, 403, "source and destination overlap\n");
		return -1;
	}
	if (c->dst.exists && !c->overwrite) {
		dav_reply_precondition(rq, 412, "no-overwrite");
		return -1;
	}
	if (!c->dst.exists && !c->dst.parent_exists) {
		http_reply_status(rq->ex, 409, "the destination's parent does not exist\n");
		return -1;
	}
	if (dav_if_check_or_reply(rq, &c->st, &c->src) < 0 ||
	    (c->move &&
	     dav_locks_check_or_reply(rq, &c->st, rq->segs, rq->nsegs, true, true) < 0) ||
	    dav_locks_check_or_reply(rq, &c->st, c->dsegs, c->dn, true, true) < 0)
		return -1;
	return c->dst.exists ? 1 : 0;
}

static int replace_and_run(struct copymove *c, bool existed, struct ox_error *err)
{
	struct dav_request *rq = c->rq;
	char *dpath = dav_lock_path(c->dsegs, c->dn);
	int r = 0;
	if (existed) {
		r = rq->provider->remove(rq, &c->dst, err);
		r = r == 0 ? rq->provider->locks_drop(rq, dpath, err) : -1;
		dav_resource_clear(rq, &c->dst);
		r = r == 0 ? (rq->provider->lookup(rq, c->dsegs, c->dn, &c->dst, err) < 0 ? -1 : 0)
		           : -1;
	}
	g_free(dpath);
	if (r < 0)
		return -1;
	if (!c->move)
		return rq->provider->copy(rq, &c->src, &c->dst, c->depth != 0, err);
	if (rq->provider->move(rq, &c->src, &c->dst, err) < 0)
		return -1;
	char *spath = dav_lock_path(rq->segs, rq->nsegs);
	r = rq->provider->locks_drop(rq, spath, err);
	g_free(spath);
	return r;
}

/* The services join a transaction that is open, so removing an
 * overwritten destination and the copy or move commit together: a copy
 * that fails halfway (a member it may not create) leaves the old
 * destination as it was. */
static int run(struct copymove *c, bool existed, struct ox_error *err)
{
	struct store *s = c->rq->store;
	bool own = !store_in_transaction(s);
	if (own && store_begin(s, err) < 0)
		return -1;
	int r = replace_and_run(c, existed, err);
	if (!own)
		return r;
	if (r < 0) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, err);
}

static void copymove(struct dav_request *rq, bool move)
{
	struct copymove c = {.rq = rq, .move = move};
	struct ox_error err = {0};
	if (parse_headers(&c) < 0)
		return;
	int existed = check(&c);
	if (existed >= 0) {
		if (run(&c, existed == 1, &err) < 0)
			dav_reply_error(rq, &err);
		else
			http_reply_status(rq->ex, existed ? 204 : 201, NULL);
	}
	dav_ifstate_clear(&c.st);
	dav_resource_clear(rq, &c.src);
	dav_resource_clear(rq, &c.dst);
	g_strfreev(c.dsegs);
}

void dav_copy(struct dav_request *rq)
{
	copymove(rq, false);
}

void dav_move(struct dav_request *rq)
{
	copymove(rq, true);
}
