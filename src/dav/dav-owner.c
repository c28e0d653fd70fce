/* The owner a home URL names (/dav/calendars/LOGIN/...): looked up once
 * per request and kept, for providers whose first segment is a login. */
#include "dav/dav-private.h"
#include "directory/directory.h"

#include <string.h>

int dav_owner_lookup(struct dav_request *rq, const char *login, int64_t *owner_r,
                     struct ox_error *err)
{
	if (rq->pstate != NULL && rq->nsegs > 0 && strcmp(login, rq->segs[0]) == 0) {
		*owner_r = *(int64_t *)rq->pstate;
		return *owner_r != 0;
	}
	struct user_info info;
	int r = user_lookup(rq->store, login, &info, err);
	*owner_r = r > 0 ? info.id : 0;
	if (r > 0)
		user_info_clear(&info);
	return r;
}

int dav_owner_begin(struct dav_request *rq, struct ox_error *err)
{
	if (rq->nsegs == 0)
		return 0;
	int64_t owner = 0;
	if (dav_owner_lookup(rq, rq->segs[0], &owner, err) < 0)
		return -1;
	rq->pstate = g_memdup2(&owner, sizeof(owner));
	return 0;
}

void dav_owner_done(struct dav_request *rq)
{
	g_free(rq->pstate);
	rq->pstate = NULL;
}
