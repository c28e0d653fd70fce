/* Stand-ins for the provider members a read-only or lock-less URL space
 * has no use for, so that every provider fills every member. */
#include "dav/dav-private.h"

static int refuse(struct ox_error *err)
{
	return ox_error_set(err, OX_ERR_PERM, "not supported here");
}

int dav_refuse_get(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
                   uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_put(struct dav_request *rq, struct dav_resource *res, const char *content_type,
                   dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_mkcol(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_remove(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_copy(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    bool recursive, struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_move(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    struct ox_error *err)
{
	return refuse(err);
}

int dav_no_props(struct dav_request *rq, struct dav_resource *res, dav_prop_fn *fn, void *ctx,
                 struct ox_error *err)
{
	return 0;
}

int dav_refuse_proppatch(struct dav_request *rq, struct dav_resource *res,
                         const struct dav_prop_op *ops, size_t n, struct ox_error *err)
{
	return refuse(err);
}

int dav_no_locks(struct dav_request *rq, GArray **locks_r, struct ox_error *err)
{
	*locks_r = g_array_new(FALSE, TRUE, sizeof(struct dav_lock));
	return 0;
}

int dav_refuse_lock_create(struct dav_request *rq, struct dav_resource *res, struct dav_lock *lock,
                           struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_lock_refresh(struct dav_request *rq, const char *token, int64_t timeout,
                            struct ox_error *err)
{
	return refuse(err);
}

int dav_refuse_lock_remove(struct dav_request *rq, const char *token, struct ox_error *err)
{
	return refuse(err);
}

int dav_no_locks_drop(struct dav_request *rq, const char *path, struct ox_error *err)
{
	return 0;
}
