/* /dav/ itself and the principals below /dav/principals/ (RFC 3744 2,
 * RFC 5397): read-only resources where clients learn where a user's
 * collections are. A user sees the principals of their own context. */
#include "dav/dav-private.h"
#include "directory/directory.h"

#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CARDDAV_NS "urn:ietf:params:xml:ns:carddav"

/* --- /dav/ --- */

static int root_lookup(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                       struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	res->exists = res->collection = n == 0;
	return n == 0 ? 1 : 0;
}

static void no_release(struct dav_resource *res)
{
}

static int no_members(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
                      void *ctx, struct ox_error *err)
{
	return 0;
}

const struct dav_provider dav_root_provider = {
	.prefix = "/dav/",
	.lookup = root_lookup,
	.release = no_release,
	.members = no_members,
	.get = dav_refuse_get,
	.put = dav_refuse_put,
	.mkcol = dav_refuse_mkcol,
	.remove = dav_refuse_remove,
	.copy = dav_refuse_copy,
	.move = dav_refuse_move,
	.props = dav_no_props,
	.proppatch = dav_refuse_proppatch,
	.locks = dav_no_locks,
	.lock_create = dav_refuse_lock_create,
	.lock_refresh = dav_refuse_lock_refresh,
	.lock_remove = dav_refuse_lock_remove,
	.locks_drop = dav_no_locks_drop,
};

/* --- /dav/principals/LOGIN/ --- */

static void principal_release(struct dav_resource *res)
{
	user_info_clear(res->pdata);
	g_free(res->pdata);
	res->pdata = NULL;
}

/* A user of the requester's context: 1, 0, -1. */
static int find_user(struct dav_request *rq, const char *login, struct user_info *info,
                     struct ox_error *err)
{
	struct user_info me;
	int r = user_lookup_id(rq->store, rq->user, &me, err);
	if (r <= 0)
		return r;
	int64_t context = me.context_id;
	user_info_clear(&me);
	r = user_lookup(rq->store, login, info, err);
	if (r > 0 && info->context_id != context) {
		user_info_clear(info);
		r = 0;
	}
	return r;
}

static int principal_lookup(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                            struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	if (n == 0) {
		res->exists = res->collection = true;
		return 1;
	}
	if (n > 1)
		return 0;
	struct user_info *info = g_new0(struct user_info, 1);
	int r = find_user(rq, segs[0], info, err);
	if (r <= 0) {
		g_free(info);
		return r;
	}
	res->exists = res->collection = true;
	res->resourcetype = "<D:principal/>";
	res->display_name = g_strdup(info->display_name);
	res->pdata = info;
	return 1;
}

static void href_prop(GString *out, const char *ns, const char *name, const char *prefix,
                      const char *login)
{
	char *esc = g_uri_escape_string(login, "@", FALSE);
	g_string_append_printf(out, "<X:%s xmlns:X=\"%s\"><D:href>%s%s/</D:href></X:%s>", name, ns,
	                       prefix, esc, name);
	g_free(esc);
}

/* RFC 6638 2.1, 2.2: where a user's scheduling collections are. */
static void scheduling_href(GString *out, const char *name, const char *login, const char *box)
{
	char *esc = g_uri_escape_string(login, "@", FALSE);
	g_string_append_printf(out,
	                       "<C:%s xmlns:C=\"" CALDAV_NS
	                       "\"><D:href>/dav/calendars/%s/%s/</D:href></C:%s>",
	                       name, esc, box, name);
	g_free(esc);
}

static int principal_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                          const char *name, GString *out)
{
	const struct user_info *u = res->pdata;
	if (u == NULL)
		return 0;
	if (strcmp(ns, DAV_NS) == 0 && strcmp(name, "principal-URL") == 0)
		href_prop(out, ns, name, "/dav/principals/", u->login);
	else if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "calendar-home-set") == 0)
		href_prop(out, ns, name, "/dav/calendars/", u->login);
	else if (strcmp(ns, CARDDAV_NS) == 0 && strcmp(name, "addressbook-home-set") == 0)
		href_prop(out, ns, name, "/dav/addressbooks/", u->login);
	else if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "schedule-inbox-URL") == 0)
		scheduling_href(out, name, u->login, "inbox");
	else if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "schedule-outbox-URL") == 0)
		scheduling_href(out, name, u->login, "outbox");
	else if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "calendar-user-type") == 0)
		g_string_append(out, "<C:calendar-user-type xmlns:C=\"" CALDAV_NS
		                     "\">INDIVIDUAL</C:calendar-user-type>");
	else if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "calendar-user-address-set") == 0) {
		g_string_append_printf(out, "<X:%s xmlns:X=\"%s\">", name, ns);
		for (char **a = u->addresses; a != NULL && *a != NULL; a++) {
			char *esc = dav_xml_escape(*a);
			g_string_append_printf(out, "<D:href>mailto:%s</D:href>", esc);
			g_free(esc);
		}
		g_string_append_printf(out, "</X:%s>", name);
	} else
		return dav_principal_membership_prop(rq, u->id, ns, name, out);
	return 1;
}

static enum dav_prop_kind principal_prop_kind(const char *ns, const char *name)
{
	return DAV_PROP_PROTECTED;
}

const struct dav_provider dav_principal_provider = {
	.prefix = "/dav/principals/",
	.lookup = principal_lookup,
	.release = principal_release,
	.members = no_members,
	.get = dav_refuse_get,
	.put = dav_refuse_put,
	.mkcol = dav_refuse_mkcol,
	.remove = dav_refuse_remove,
	.copy = dav_refuse_copy,
	.move = dav_refuse_move,
	.props = dav_no_props,
	.proppatch = dav_refuse_proppatch,
	.locks = dav_no_locks,
	.lock_create = dav_refuse_lock_create,
	.lock_refresh = dav_refuse_lock_refresh,
	.lock_remove = dav_refuse_lock_remove,
	.locks_drop = dav_no_locks_drop,
	.live_prop = principal_prop,
	.prop_kind = principal_prop_kind,
	.report = dav_principal_report,
};
