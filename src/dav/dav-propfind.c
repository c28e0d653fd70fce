/* PROPFIND and PROPPATCH (RFC 4918 9.1, 9.2): live properties from the
 * provider's resource description, dead ones from its store; answers are
 * multistatus bodies streamed as they are made. */
#include "dav/dav-private.h"
#include "http/http.h"

#include <string.h>

struct dead_prop {
	char *ns, *name, *value;
};

static void dead_prop_free(gpointer p)
{
	struct dead_prop *d = p;
	g_free(d->ns);
	g_free(d->name);
	g_free(d->value);
	g_free(d);
}

static int collect_dead(const char *ns, const char *name, const char *value, void *ctx)
{
	struct dead_prop *d = g_new(struct dead_prop, 1);
	d->ns = g_strdup(ns);
	d->name = g_strdup(name);
	d->value = g_strdup(value);
	g_ptr_array_add(ctx, d);
	return 0;
}

static const char *const live_names[] = {
	"resourcetype", "getcontentlength", "getcontenttype", "getetag",       "getlastmodified",
	"creationdate", "displayname",      "supportedlock",  "lockdiscovery",
};

static bool is_live(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) != 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(live_names); i++) {
		if (strcmp(live_names[i], name) == 0)
			return true;
	}
	return false;
}

/* Appends a live property's element (value or, without `value`, its name
 * only); false when the resource does not have it. */
static bool live_prop(struct dav_request *rq, struct dav_resource *res, const char *path,
                      const char *name, bool value, GString *out)
{
	char buf[40];
	char *text = NULL;
	const char *plain = NULL; /* a value to escape, not to free */
	bool has = true;
	if (strcmp(name, "resourcetype") == 0) {
		text = g_strconcat(res->collection ? "<D:collection/>" : "",
		                   res->resourcetype != NULL ? res->resourcetype : "", NULL);
	} else if (strcmp(name, "getcontentlength") == 0) {
		has = !res->collection;
		text = g_strdup_printf("%" G_GUINT64_FORMAT, res->length);
	} else if (strcmp(name, "getcontenttype") == 0) {
		has = !res->collection && res->content_type != NULL;
		plain = res->content_type;
	} else if (strcmp(name, "getetag") == 0) {
		has = res->etag != NULL;
		plain = res->etag;
	} else if (strcmp(name, "getlastmodified") == 0) {
		has = res->modified > 0;
		dav_http_date(res->modified, buf);
		text = g_strdup(buf);
	} else if (strcmp(name, "creationdate") == 0) {
		has = res->created > 0;
		dav_iso_date(res->created, buf);
		text = g_strdup(buf);
	} else if (strcmp(name, "displayname") == 0) {
		has = res->display_name != NULL;
		plain = res->display_name;
	} else if (strcmp(name, "supportedlock") == 0) {
		text = g_strdup("<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
		                "<D:locktype><D:write/></D:locktype></D:lockentry>"
		                "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
		                "<D:locktype><D:write/></D:locktype></D:lockentry>");
	} else if (strcmp(name, "current-user-principal") == 0) {
		/* RFC 5397: on every resource, for clients that start anywhere. */
		const char *login = dav_user_login(rq);
		char *esc = login != NULL ? g_uri_escape_string(login, "@", FALSE) : NULL;
		has = esc != NULL;
		text = has ? g_strdup_printf("<D:href>/dav/principals/%s/</D:href>", esc) : NULL;
		g_free(esc);
	} else if (strcmp(name, "sync-token") == 0) {
		/* RFC 6578 4: asked for by name only, never in allprop. */
		text = dav_sync_token(rq, res);
		has = text != NULL;
	} else if (strcmp(name, "lockdiscovery") == 0) {
		if (value)
			dav_lockdiscovery_xml(rq, out, path);
		else
			g_string_append(out, "<D:lockdiscovery/>");
		return true;
	} else {
		has = false;
	}
	/* Appends rather than printf: this runs for every property of every
	 * member of a listing. */
	if (has) {
		g_string_append(out, "<D:");
		g_string_append(out, name);
		if (value) {
			g_string_append_c(out, '>');
			if (plain != NULL)
				dav_xml_append_escaped(out, plain);
			else
				g_string_append(out, text);
			g_string_append(out, "</D:");
			g_string_append(out, name);
			g_string_append_c(out, '>');
		} else {
			g_string_append(out, "/>");
		}
	}
	g_free(text);
	return has;
}

static void prop_name_xml(GString *out, const char *ns, const char *name)
{
	if (*ns == '\0') {
		g_string_append_printf(out, "<%s xmlns=\"\"/>", name);
	} else {
		char *esc = dav_xml_escape(ns);
		g_string_append_printf(out, "<X:%s xmlns:X=\"%s\"/>", name, esc);
		g_free(esc);
	}
}

static void propstat(GString *out, GString *props, const char *status)
{
	if (props->len == 0)
		return;
	g_string_append(out, "<D:propstat><D:prop>");
	g_string_append_len(out, props->str, (gssize)props->len);
	g_string_append(out, "</D:prop><D:status>HTTP/1.1 ");
	g_string_append(out, status);
	g_string_append(out, "</D:status></D:propstat>");
}

static struct dead_prop *find_dead(GPtrArray *dead, const char *ns, const char *name)
{
	for (guint i = 0; i < dead->len; i++) {
		struct dead_prop *d = g_ptr_array_index(dead, i);
		if (strcmp(d->ns, ns) == 0 && strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

/* A property of the provider's own: true when it appended it. */
static bool provider_prop(struct dav_request *rq, struct dav_resource *res,
                          const struct dav_prop_name *pn, GString *out)
{
	return rq->provider->live_prop != NULL &&
	       rq->provider->live_prop(rq, res, pn->ns, pn->name, out) > 0;
}

void dav_response_xml(struct dav_request *rq, const struct dav_propfind *pf, char **segs, size_t n,
                      struct dav_resource *res, GString *out)
{
	char *path = dav_path_join(segs, n);
	char *href = dav_href(rq, segs, n, res->collection);
	GString *found = g_string_sized_new(512), *missing = g_string_new(NULL);
	GString *denied = g_string_new(NULL);
	GPtrArray *dead = g_ptr_array_new_with_free_func(dead_prop_free);
	struct ox_error err;
	if (rq->provider->props(rq, res, collect_dead, dead, &err) < 0)
		g_ptr_array_set_size(dead, 0);
	if (pf->kind == DAV_PROPFIND_PROP) {
		for (guint i = 0; i < pf->props->len; i++) {
			const struct dav_prop_name *pn =
				&g_array_index(pf->props, struct dav_prop_name, i);
			struct dead_prop *d = find_dead(dead, pn->ns, pn->name);
			if (provider_prop(rq, res, pn, found) ||
			    dav_acl_prop(rq, segs, n, res, pn->ns, pn->name, found, denied) > 0)
				continue;
			if (strcmp(pn->ns, DAV_NS) == 0 &&
			    live_prop(rq, res, path, pn->name, true, found))
				continue;
			if (d != NULL)
				g_string_append(found, d->value);
			else
				prop_name_xml(missing, pn->ns, pn->name);
		}
	} else {
		bool values = pf->kind == DAV_PROPFIND_ALLPROP;
		for (size_t i = 0; i < G_N_ELEMENTS(live_names); i++)
			live_prop(rq, res, path, live_names[i], values, found);
		for (guint i = 0; i < dead->len; i++) {
			struct dead_prop *d = g_ptr_array_index(dead, i);
			if (values)
				g_string_append(found, d->value);
			else
				prop_name_xml(found, d->ns, d->name);
		}
	}
	g_string_append(out, "<D:response><D:href>");
	dav_xml_append_escaped(out, href);
	g_string_append(out, "</D:href>");
	propstat(out, found, "200 OK");
	propstat(out, denied, "403 Forbidden");
	propstat(out, missing, "404 Not Found");
	g_string_append(out, "</D:response>\n");
	g_ptr_array_unref(dead);
	g_string_free(found, TRUE);
	g_string_free(missing, TRUE);
	g_string_free(denied, TRUE);
	g_free(href);
	g_free(path);
}

struct propfind_walk {
	struct dav_request *rq;
	const struct dav_propfind *pf;
	struct dav_ms *ms;
	GPtrArray *segs; /* the collection's segments, then one member's */
	GString *out;    /* one member's response, reused */
};

static int propfind_member(const char *name, struct dav_resource *member, void *ctx)
{
	struct propfind_walk *w = ctx;
	g_ptr_array_add(w->segs, (gpointer)name);
	g_string_truncate(w->out, 0);
	dav_response_xml(w->rq, w->pf, (char **)w->segs->pdata, w->segs->len, member, w->out);
	dav_ms_append(w->ms, w->out->str);
	g_ptr_array_set_size(w->segs, w->segs->len - 1);
	return w->ms->failed ? -1 : 0;
}

void dav_propfind(struct dav_request *rq)
{
	int depth = dav_depth(rq, -1);
	if (depth == -2) {
		http_reply_status(rq->ex, 400, "malformed Depth\n");
		return;
	}
	if (depth < 0) {
		dav_reply_precondition(rq, 403, "propfind-finite-depth");
		return;
	}
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	struct dav_propfind pf;
	struct dav_resource res = {0};
	struct ox_error err = {0};
	if (dav_parse_propfind(body, len, &pf, &err) < 0) {
		http_reply_status(rq->ex, 400, "malformed propfind\n");
		goto out;
	}
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (!res.exists) {
		http_reply_status(rq->ex, 404, NULL);
		goto out;
	}
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	GString *first = g_string_new(NULL);
	dav_response_xml(rq, &pf, rq->segs, rq->nsegs, &res, first);
	dav_ms_append(&ms, first->str);
	g_string_free(first, TRUE);
	if (depth == 1 && res.collection) {
		struct propfind_walk w = {rq, &pf, &ms, g_ptr_array_new(),
		                          g_string_sized_new(1024)};
		for (size_t i = 0; i < rq->nsegs; i++)
			g_ptr_array_add(w.segs, rq->segs[i]);
		rq->provider->members(rq, &res, propfind_member, &w, &err);
		g_ptr_array_free(w.segs, TRUE);
		g_string_free(w.out, TRUE);
	}
	dav_ms_end(&ms);
out:
	dav_propfind_clear(&pf);
	dav_resource_clear(rq, &res);
	g_free(body);
}

/* Whether PROPPATCH must refuse a property: the provider's word first. */
static bool is_protected(struct dav_request *rq, const char *ns, const char *name)
{
	enum dav_prop_kind kind =
		rq->provider->prop_kind != NULL ? rq->provider->prop_kind(ns, name) : DAV_PROP_DEAD;
	if (kind != DAV_PROP_DEAD)
		return kind == DAV_PROP_PROTECTED;
	return is_live(ns, name) || dav_acl_is_property(ns, name) ||
	       (strcmp(ns, DAV_NS) == 0 && strcmp(name, "current-user-principal") == 0);
}

static void proppatch_reply(struct dav_request *rq, GArray *ops, int status, int failed_status)
{
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	char *href = dav_href(rq, rq->segs, rq->nsegs, false);
	char *esc = dav_xml_escape(href);
	GString *out = g_string_new(NULL);
	g_string_append_printf(out, "<D:response><D:href>%s</D:href>", esc);
	for (guint i = 0; i < ops->len; i++) {
		const struct dav_prop_op *op = &g_array_index(ops, struct dav_prop_op, i);
		GString *name = g_string_new(NULL);
		prop_name_xml(name, op->ns, op->name);
		int st = status;
		if (failed_status != 0)
			st = is_protected(rq, op->ns, op->name) ? failed_status : 424;
		char line[64];
		g_snprintf(line, sizeof(line), "%d %s", st, http_status_reason(st));
		propstat(out, name, line);
		g_string_free(name, TRUE);
	}
	g_string_append(out, "</D:response>\n");
	dav_ms_append(&ms, out->str);
	dav_ms_end(&ms);
	g_string_free(out, TRUE);
	g_free(esc);
	g_free(href);
}

void dav_proppatch(struct dav_request *rq)
{
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	GArray *ops = NULL;
	struct dav_resource res = {0};
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	if (dav_parse_proppatch(body, len, &ops, &err) < 0) {
		http_reply_status(rq->ex, 400, "malformed propertyupdate\n");
		goto out;
	}
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (!res.exists) {
		http_reply_status(rq->ex, 404, NULL);
		goto out;
	}
	if (dav_if_check_or_reply(rq, &st, &res) < 0 ||
	    dav_locks_check_or_reply(rq, &st, rq->segs, rq->nsegs, false, false) < 0)
		goto out;
	bool protected_prop = false;
	for (guint i = 0; i < ops->len; i++) {
		const struct dav_prop_op *op = &g_array_index(ops, struct dav_prop_op, i);
		protected_prop = protected_prop || is_protected(rq, op->ns, op->name);
	}
	/* All or nothing: one protected property fails the others with 424. */
	if (protected_prop)
		proppatch_reply(rq, ops, 0, 403);
	else if (rq->provider->proppatch(rq, &res, (const struct dav_prop_op *)ops->data, ops->len,
	                                 &err) < 0)
		dav_reply_error(rq, &err);
	else
		proppatch_reply(rq, ops, 200, 0);
out:
	dav_prop_ops_free(&ops);
	dav_ifstate_clear(&st);
	dav_resource_clear(rq, &res);
	g_free(body);
}
