/* Principals beyond one user (RFC 3744 4, 9): the groups of the
 * requester's context at /dav/principals/groups/NAME/ (logins always hold
 * an "@", so no user is called "groups"), each user's DAV:group-membership,
 * and the REPORTs clients use to find people for sharing and for
 * attendees: principal-property-search, principal-search-property-set and
 * principal-match. Searches see only the requester's context and answer
 * at most DAV_PRINCIPAL_SEARCH_MAX principals. */
#include "dav/dav-private.h"
#include "directory/directory.h"
#include "http/http.h"

#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CS_NS "http://calendarserver.org/ns/"
#define DAV_PRINCIPAL_SEARCH_MAX 50

/* The requester's context, by name (group look-ups take it): 1, 0, -1. */
static int my_context(struct dav_request *rq, struct context_info *ctx_r, struct ox_error *err)
{
	struct user_info me;
	memset(ctx_r, 0, sizeof(*ctx_r));
	int r = user_lookup_id(rq->store, rq->user, &me, err);
	if (r <= 0)
		return r;
	r = context_lookup_id(rq->store, me.context_id, ctx_r, err);
	user_info_clear(&me);
	return r;
}

static void principal_href(GString *out, const char *prefix, const char *name)
{
	char *esc = g_uri_escape_string(name, "@", FALSE);
	char *xml = dav_xml_escape(esc);
	g_string_append_printf(out, "<D:href>%s%s/</D:href>", prefix, xml);
	g_free(xml);
	g_free(esc);
}

/* --- /dav/principals/groups/NAME/ --- */

static void group_release(struct dav_resource *res)
{
	group_info_clear(res->pdata);
	g_free(res->pdata);
	res->pdata = NULL;
}

static void describe_group(struct dav_resource *res, struct group_info *group)
{
	res->exists = res->collection = true;
	res->parent_exists = true;
	res->resourcetype = "<D:principal/>";
	res->display_name = g_strdup(group->display_name);
	res->pdata = group;
}

static int group_lookup_res(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                            struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	if (n == 0) {
		res->exists = res->collection = true;
		return 1;
	}
	if (n > 1)
		return 0;
	struct context_info ctx;
	int r = my_context(rq, &ctx, err);
	struct group_info *group = g_new0(struct group_info, 1);
	if (r > 0)
		r = group_lookup(rq->store, ctx.name, segs[0], group, err);
	context_info_clear(&ctx);
	if (r <= 0) {
		g_free(group);
		return r;
	}
	describe_group(res, group);
	return 1;
}

static struct group_info *group_copy(const struct group_info *g)
{
	struct group_info *copy = g_new0(struct group_info, 1);
	size_t n = 0;
	while (g->members != NULL && g->members[n] != 0)
		n++;
	*copy = *g;
	copy->name = g_strdup(g->name);
	copy->display_name = g_strdup(g->display_name);
	copy->members = g_new0(int64_t, n + 1);
	if (n > 0)
		memcpy(copy->members, g->members, n * sizeof(int64_t));
	return copy;
}

static int group_members(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
                         void *ctx, struct ox_error *err)
{
	if (coll->pdata != NULL)
		return 0; /* a group principal is a collection without members */
	struct context_info context;
	int r = my_context(rq, &context, err);
	struct group_info **list = NULL;
	if (r > 0)
		r = group_list(rq->store, context.name, &list, err) < 0 ? -1 : 1;
	context_info_clear(&context);
	for (struct group_info **g = list; r > 0 && g != NULL && *g != NULL; g++) {
		struct dav_resource res = {0};
		describe_group(&res, group_copy(*g));
		r = fn((*g)->name, &res, ctx) < 0 ? -1 : 1;
		dav_resource_clear(rq, &res);
	}
	group_list_free(&list);
	return r < 0 ? -1 : 0;
}

static int group_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                      const char *name, GString *out)
{
	const struct group_info *group = res->pdata;
	if (group == NULL || strcmp(ns, DAV_NS) != 0)
		return 0;
	if (strcmp(name, "group-member-set") == 0) {
		/* RFC 3744 4.3: the members' principal URLs. */
		g_string_append(out, "<D:group-member-set>");
		for (const int64_t *m = group->members; m != NULL && *m != 0; m++) {
			struct user_info user;
			struct ox_error err;
			if (user_lookup_id(rq->store, *m, &user, &err) <= 0)
				continue;
			principal_href(out, DAV_PRINCIPALS, user.login);
			user_info_clear(&user);
		}
		g_string_append(out, "</D:group-member-set>");
	} else if (strcmp(name, "principal-URL") == 0) {
		g_string_append(out, "<D:principal-URL>");
		principal_href(out, DAV_GROUP_PRINCIPALS, group->name);
		g_string_append(out, "</D:principal-URL>");
	} else if (strcmp(name, "group-membership") == 0) {
		g_string_append(out, "<D:group-membership/>"); /* groups hold users only */
	} else if (strcmp(name, "alternate-URI-set") == 0) {
		g_string_append(out, "<D:alternate-URI-set/>");
	} else {
		return 0;
	}
	return 1;
}

static enum dav_prop_kind group_prop_kind(const char *ns, const char *name)
{
	return DAV_PROP_PROTECTED;
}

const struct dav_provider dav_group_principal_provider = {
	.prefix = DAV_GROUP_PRINCIPALS,
	.lookup = group_lookup_res,
	.release = group_release,
	.members = group_members,
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
	.live_prop = group_prop,
	.prop_kind = group_prop_kind,
};

/* --- DAV:group-membership of a user (RFC 3744 4.4) --- */

int dav_principal_membership_prop(struct dav_request *rq, int64_t user, const char *ns,
                                  const char *name, GString *out)
{
	if (strcmp(ns, DAV_NS) != 0 || strcmp(name, "group-membership") != 0)
		return 0;
	struct ox_error err;
	int64_t *ids = user_group_ids(rq->store, user, &err);
	g_string_append(out, "<D:group-membership>");
	for (const int64_t *id = ids; id != NULL && *id != 0; id++) {
		struct group_info group;
		if (group_lookup_id(rq->store, *id, &group, &err) <= 0)
			continue;
		principal_href(out, DAV_GROUP_PRINCIPALS, group.name);
		group_info_clear(&group);
	}
	g_string_append(out, "</D:group-membership>");
	g_free(ids);
	return 1;
}

/* --- REPORTs on /dav/principals/ --- */

/* One DAV:response for the user principal of `login`, as PROPFIND would
 * answer it. */
static void user_response(struct dav_request *rq, struct dav_ms *ms, const char *login,
                          const struct dav_propfind *pf)
{
	char *segs[1] = {(char *)login};
	struct dav_resource res = {0};
	struct ox_error err;
	if (rq->provider->lookup(rq, segs, 1, &res, &err) > 0 && res.exists) {
		GString *out = g_string_new(NULL);
		dav_response_xml(rq, pf, segs, 1, &res, out);
		dav_ms_append(ms, out->str);
		g_string_free(out, TRUE);
	}
	dav_resource_clear(rq, &res);
}

static enum user_search_field search_field(unsigned props)
{
	if (props == (DAV_SEARCH_NAME | DAV_SEARCH_ADDRESS))
		return USER_SEARCH_NAME_OR_ADDRESS;
	return props == DAV_SEARCH_NAME ? USER_SEARCH_NAME : USER_SEARCH_ADDRESS;
}

/* The directory's terms for the report's; false when no principal can
 * match (allof with a property that cannot be searched, or anyof with
 * none that can). */
static bool search_terms(const struct dav_principal_report *r, struct user_search_term *terms,
                         size_t *n_r)
{
	size_t n = 0;
	for (guint i = 0; i < r->terms->len; i++) {
		const struct dav_search_term *t =
			&g_array_index(r->terms, struct dav_search_term, i);
		if (t->props == 0) {
			if (r->match_all)
				return false;
			continue;
		}
		terms[n++] = (struct user_search_term){search_field(t->props), t->match, t->text};
	}
	*n_r = n;
	return n > 0;
}

static void property_search(struct dav_request *rq, const struct dav_principal_report *r)
{
	struct user_search_term terms[USER_SEARCH_TERMS_MAX];
	size_t n = 0;
	struct user_info me = {0}, **found = NULL;
	struct ox_error err = {0};
	int ret = user_lookup_id(rq->store, rq->user, &me, &err);
	/* One more than answered tells whether the answer is cut short. */
	if (ret > 0 && search_terms(r, terms, &n))
		ret = user_search(rq->store, me.context_id, terms, n, r->match_all,
		                  DAV_PRINCIPAL_SEARCH_MAX + 1, &found, &err);
	user_info_clear(&me);
	if (ret < 0) {
		dav_reply_error(rq, &err);
		return;
	}
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	int count = 0;
	for (struct user_info **u = found; u != NULL && *u != NULL && !ms.failed; u++) {
		if (++count > DAV_PRINCIPAL_SEARCH_MAX) {
			/* RFC 5323 5.3 (as CalendarServer answers it): a 507 for
			 * the request URI says the result was truncated. */
			char *href = dav_href(rq, rq->segs, rq->nsegs, true);
			char *esc = dav_xml_escape(href);
			char *text = g_strdup_printf(
				"<D:response><D:href>%s</D:href><D:status>HTTP/1.1 507 "
				"Insufficient Storage</D:status></D:response>\n",
				esc);
			dav_ms_append(&ms, text);
			g_free(text);
			g_free(esc);
			g_free(href);
			break;
		}
		user_response(rq, &ms, (*u)->login, &r->pf);
	}
	dav_ms_end(&ms);
	user_list_free(&found);
}

static void search_property(GString *out, const char *ns, const char *name, const char *what)
{
	g_string_append_printf(out,
	                       "<D:principal-search-property><D:prop><X:%s xmlns:X=\"%s\"/>"
	                       "</D:prop><D:description xml:lang=\"en\">%s</D:description>"
	                       "</D:principal-search-property>",
	                       name, ns, what);
}

/* RFC 3744 9.5: what principal-property-search can compare. */
static void search_property_set(struct dav_request *rq)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                            "<D:principal-search-property-set xmlns:D=\"DAV:\">");
	search_property(out, DAV_NS, "displayname", "Display name");
	search_property(out, CALDAV_NS, "calendar-user-address-set", "E-mail address");
	search_property(out, CS_NS, "email-address-set", "E-mail address");
	search_property(out, CS_NS, "first-name", "Display name");
	search_property(out, CS_NS, "last-name", "Display name");
	g_string_append(out, "</D:principal-search-property-set>\n");
	http_reply(rq->ex, 200, "application/xml; charset=utf-8", out->str, out->len);
	g_string_free(out, TRUE);
}

/* RFC 3744 9.3 with DAV:self: the requester's own principal (their
 * groups are in its DAV:group-membership). */
static void principal_match(struct dav_request *rq, const struct dav_principal_report *r)
{
	if (!r->self) {
		dav_reply_precondition(rq, 403, "supported-report");
		return;
	}
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	const char *login = dav_user_login(rq);
	if (login != NULL)
		user_response(rq, &ms, login, &r->pf);
	dav_ms_end(&ms);
}

void dav_principal_report(struct dav_request *rq, struct dav_resource *res, const char *body,
                          size_t len)
{
	struct dav_principal_report r;
	struct ox_error err = {0};
	int ret = dav_parse_principal_report(body, len, &r, &err);
	if (ret > 0)
		dav_reply_precondition(rq, 403, "supported-report");
	else if (ret < 0)
		http_reply_status(rq->ex, 400, "malformed principal report\n");
	else if (r.kind != DAV_PRINCIPAL_MATCH && dav_depth(rq, 0) != 0)
		/* RFC 3744 9.4, 9.5: defined for Depth 0 only. */
		http_reply_status(rq->ex, 400, "principal reports take Depth 0\n");
	else if (r.kind == DAV_PRINCIPAL_PROPERTY_SEARCH)
		property_search(rq, &r);
	else if (r.kind == DAV_PRINCIPAL_SEARCH_PROPERTY_SET)
		search_property_set(rq);
	else
		principal_match(rq, &r);
	dav_principal_report_clear(&r);
}
