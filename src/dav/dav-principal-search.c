/* Principals beyond one user (RFC 3744 4, 9): the groups of the
 * requester's context at /dav/principals/groups/NAME/ (logins always hold
 * an "@", so no user is called "groups"), which are calendar users of
 * type GROUP (RFC 6638 2.4) that scheduling expands to their members,
 * each user's DAV:group-membership, and the REPORTs clients use to find
 * people and groups for sharing and for attendees:
 * principal-property-search, principal-search-property-set and
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

/* CALDAV:calendar-user-address-set of a group (RFC 6638 2.4.1). 0, -1. */
static int group_address_set(struct store *s, const struct group_info *group, GString *out,
                             struct ox_error *err)
{
	char **addresses = NULL;
	if (group_addresses(s, group, &addresses, err) < 0)
		return -1;
	g_string_append(out, "<C:calendar-user-address-set xmlns:C=\"" CALDAV_NS "\">");
	for (char **a = addresses; *a != NULL; a++) {
		g_string_append(out, "<D:href>mailto:");
		dav_xml_append_escaped(out, *a);
		g_string_append(out, "</D:href>");
	}
	g_string_append(out, "</C:calendar-user-address-set>");
	g_strfreev(addresses);
	return 0;
}

/* The CalDAV scheduling properties of a group principal (RFC 6638 2.4):
 * clients read them to invite the group with CUTYPE=GROUP. */
static int group_caldav_prop(struct dav_request *rq, const struct group_info *group,
                             const char *name, GString *out)
{
	if (strcmp(name, "calendar-user-type") == 0) {
		g_string_append(out, "<C:calendar-user-type xmlns:C=\"" CALDAV_NS
		                     "\">GROUP</C:calendar-user-type>");
		return 1;
	}
	if (strcmp(name, "calendar-user-address-set") != 0)
		return 0;
	struct ox_error err;
	GString *set = g_string_new(NULL);
	int r = group_address_set(rq->store, group, set, &err);
	if (r == 0)
		g_string_append_len(out, set->str, (gssize)set->len);
	g_string_free(set, TRUE);
	return r < 0 ? -1 : 1;
}

static int group_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                      const char *name, GString *out)
{
	const struct group_info *group = res->pdata;
	if (group != NULL && strcmp(ns, CALDAV_NS) == 0)
		return group_caldav_prop(rq, group, name, out);
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
	.report = dav_principal_report,
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

/* --- REPORTs on /dav/principals/ and /dav/principals/groups/ --- */

/* One DAV:response for the principal `name` of `provider` (a user's
 * login or a group's name), as PROPFIND of it would answer. The engine
 * reads hrefs, properties and the release function from the request's
 * provider, so that is `provider` for the while. */
static void principal_response(struct dav_request *rq, struct dav_ms *ms,
                               const struct dav_provider *provider, const char *name,
                               const struct dav_propfind *pf)
{
	const struct dav_provider *own = rq->provider;
	char *segs[1] = {(char *)name};
	struct dav_resource res = {0};
	struct ox_error err;
	rq->provider = provider;
	if (provider->lookup(rq, segs, 1, &res, &err) > 0 && res.exists) {
		GString *out = g_string_new(NULL);
		dav_response_xml(rq, pf, segs, 1, &res, out);
		dav_ms_append(ms, out->str);
		g_string_free(out, TRUE);
	}
	dav_resource_clear(rq, &res);
	rq->provider = own;
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

/* Whether `value` matches a term's text as user_search() compares
 * (ignoring ASCII case). */
static bool text_matches(const char *value, const struct dav_search_term *t)
{
	char *v = g_ascii_strdown(value, -1), *text = g_ascii_strdown(t->text, -1);
	bool hit;
	if (t->match == USER_MATCH_EQUALS)
		hit = strcmp(v, text) == 0;
	else if (t->match == USER_MATCH_STARTS)
		hit = g_str_has_prefix(v, text);
	else
		hit = strstr(v, text) != NULL;
	g_free(text);
	g_free(v);
	return hit;
}

/* One term for a group: its display name or name for a name term, one
 * of its addresses for an address term. */
static bool group_matches_term(const struct group_info *g, char *const *addresses,
                               const struct dav_search_term *t)
{
	if ((t->props & DAV_SEARCH_NAME) &&
	    (text_matches(g->display_name, t) || text_matches(g->name, t)))
		return true;
	for (char *const *a = (t->props & DAV_SEARCH_ADDRESS) ? addresses : NULL; a != NULL && *a;
	     a++) {
		if (text_matches(*a, t))
			return true;
	}
	return false;
}

/* Every term (match_all) or any term for a group, skipping terms on
 * properties nobody has (search_terms() refused allof with one). 1, 0,
 * -1. */
static int group_matches(struct store *s, const struct group_info *g,
                         const struct dav_principal_report *r, struct ox_error *err)
{
	char **addresses = NULL;
	if (group_addresses(s, g, &addresses, err) < 0)
		return -1;
	int result = r->match_all ? 1 : 0;
	for (guint i = 0; i < r->terms->len; i++) {
		const struct dav_search_term *t =
			&g_array_index(r->terms, struct dav_search_term, i);
		if (t->props == 0)
			continue;
		bool m = group_matches_term(g, addresses, t);
		if (r->match_all && !m) {
			result = 0;
			break;
		}
		if (!r->match_all && m) {
			result = 1;
			break;
		}
	}
	g_strfreev(addresses);
	return result;
}

/* The names of at most `limit` groups of ctx that match, by name, into
 * names (which frees them). 0, -1. */
static int search_groups(struct store *s, const struct context_info *ctx,
                         const struct dav_principal_report *r, int limit, GPtrArray *names,
                         struct ox_error *err)
{
	struct group_info **list = NULL;
	if (limit <= 0)
		return 0;
	int ret = group_list(s, ctx->name, &list, err);
	for (struct group_info **g = list; ret == 0 && g != NULL && *g != NULL; g++) {
		int m = group_matches(s, *g, r, err);
		if (m > 0)
			g_ptr_array_add(names, g_strdup((*g)->name));
		if (m < 0 || (int)names->len >= limit)
			ret = m < 0 ? -1 : 1;
	}
	group_list_free(&list);
	return ret < 0 ? -1 : 0;
}

/* The principals of the requester's context that match: users (on
 * /dav/principals/ only; the groups collection holds groups alone), then
 * groups, at most DAV_PRINCIPAL_SEARCH_MAX + 1 in all, so that one more
 * than answered tells the answer is cut. 0, -1. */
static int search_principals(struct dav_request *rq, const struct dav_principal_report *r,
                             struct user_info ***users_r, GPtrArray *groups, struct ox_error *err)
{
	struct user_search_term terms[USER_SEARCH_TERMS_MAX];
	size_t n = 0;
	struct context_info ctx;
	int ret = my_context(rq, &ctx, err);
	bool searchable = ret > 0 && search_terms(r, terms, &n);
	int limit = DAV_PRINCIPAL_SEARCH_MAX + 1;
	if (searchable && rq->provider != &dav_group_principal_provider)
		ret = user_search(rq->store, ctx.id, terms, n, r->match_all, limit, users_r, err);
	for (struct user_info **u = *users_r; ret >= 0 && u != NULL && *u != NULL; u++)
		limit--;
	if (searchable && ret >= 0)
		ret = search_groups(rq->store, &ctx, r, limit, groups, err);
	context_info_clear(&ctx);
	return ret < 0 ? -1 : 0;
}

/* RFC 5323 5.3 (as CalendarServer answers it): a 507 for the request URI
 * says the result was truncated. */
static void truncated_response(struct dav_request *rq, struct dav_ms *ms)
{
	char *href = dav_href(rq, rq->segs, rq->nsegs, true);
	char *esc = dav_xml_escape(href);
	char *text = g_strdup_printf("<D:response><D:href>%s</D:href><D:status>HTTP/1.1 507 "
	                             "Insufficient Storage</D:status></D:response>\n",
	                             esc);
	dav_ms_append(ms, text);
	g_free(text);
	g_free(esc);
	g_free(href);
}

/* The multistatus of a search: the users, then the groups, as far as
 * DAV_PRINCIPAL_SEARCH_MAX goes. */
static void answer_principals(struct dav_request *rq, const struct dav_propfind *pf,
                              struct user_info **users, GPtrArray *groups)
{
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	int count = 0;
	for (struct user_info **u = users; u != NULL && *u != NULL && !ms.failed; u++) {
		if (++count <= DAV_PRINCIPAL_SEARCH_MAX)
			principal_response(rq, &ms, &dav_principal_provider, (*u)->login, pf);
	}
	for (guint i = 0; i < groups->len && !ms.failed; i++) {
		if (++count <= DAV_PRINCIPAL_SEARCH_MAX)
			principal_response(rq, &ms, &dav_group_principal_provider,
			                   g_ptr_array_index(groups, i), pf);
	}
	if (count > DAV_PRINCIPAL_SEARCH_MAX && !ms.failed)
		truncated_response(rq, &ms);
	dav_ms_end(&ms);
}

static void property_search(struct dav_request *rq, const struct dav_principal_report *r)
{
	struct user_info **users = NULL;
	GPtrArray *groups = g_ptr_array_new_with_free_func(g_free);
	struct ox_error err = {0};
	if (search_principals(rq, r, &users, groups, &err) < 0)
		dav_reply_error(rq, &err);
	else
		answer_principals(rq, &r->pf, users, groups);
	g_ptr_array_unref(groups);
	user_list_free(&users);
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
		principal_response(rq, &ms, &dav_principal_provider, login, &r->pf);
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
