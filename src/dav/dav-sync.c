/* sync-collection (RFC 6578) and DAV:sync-token, for providers that read
 * a change log (the `changes` member). A token is `data:,N`, N the
 * collection's state from the provider: opaque to clients, a URI as the
 * RFC asks, and parsed back without server state. */
#include "dav/dav-private.h"
#include "http/http.h"

#include <libxml/tree.h>
#include <string.h>

#define TOKEN_PREFIX "data:,"

struct sync_body {
	struct dav_propfind pf;
	char *token; /* as sent; "" for the initial sync */
};

static bool is_dav(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, DAV_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static void prop_name_clear(gpointer p)
{
	struct dav_prop_name *pn = p;
	g_free(pn->ns);
	g_free(pn->name);
}

static char *text_of(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *copy = g_strstrip(g_strdup(t != NULL ? (const char *)t : ""));
	xmlFree(t);
	return copy;
}

static int sync_child(xmlNode *c, struct sync_body *b, struct ox_error *err)
{
	if (is_dav(c, "sync-token")) {
		g_free(b->token);
		b->token = text_of(c);
	} else if (is_dav(c, "sync-level")) {
		char *level = text_of(c);
		/* Members of these collections are never collections: both
		 * levels list the same. */
		bool ok = strcmp(level, "1") == 0 || strcmp(level, "infinite") == 0;
		g_free(level);
		if (!ok)
			return ox_error_set(err, OX_ERR_INVALID, "sync-level is 1 or infinite");
	} else if (is_dav(c, "prop")) {
		b->pf.kind = DAV_PROPFIND_PROP;
		for (xmlNode *p = dav_xml_element(c->children); p != NULL;
		     p = dav_xml_element(p->next)) {
			const char *ns = p->ns != NULL ? (const char *)p->ns->href : "";
			struct dav_prop_name pn = {g_strdup(ns), g_strdup((const char *)p->name)};
			g_array_append_val(b->pf.props, pn);
		}
	} else if (!is_dav(c, "limit")) {
		/* A limit may be ignored: the whole answer is sent. */
		return ox_error_set(err, OX_ERR_INVALID, "unexpected element %s",
		                    (const char *)c->name);
	}
	return 0;
}

/* 0, 1 when the body is not a sync-collection, -1 (malformed). */
static int parse_sync(const char *body, size_t len, struct sync_body *b, struct ox_error *err)
{
	memset(b, 0, sizeof(*b));
	b->pf.kind = DAV_PROPFIND_ALLPROP;
	b->pf.props = g_array_new(FALSE, TRUE, sizeof(struct dav_prop_name));
	g_array_set_clear_func(b->pf.props, prop_name_clear);
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	int r = is_dav(root, "sync-collection") ? 0 : 1;
	for (xmlNode *c = r == 0 ? dav_xml_element(root->children) : NULL; r == 0 && c != NULL;
	     c = dav_xml_element(c->next))
		r = sync_child(c, b, err);
	if (r == 0 && b->token == NULL)
		r = ox_error_set(err, OX_ERR_INVALID, "sync-collection needs a sync-token");
	xmlFreeDoc(doc);
	return r;
}

/* The state a token names: 0 for the initial sync, -1 when it is not one
 * of ours. */
static int64_t token_state(const char *token)
{
	if (*token == '\0')
		return 0;
	size_t plen = strlen(TOKEN_PREFIX);
	if (strncmp(token, TOKEN_PREFIX, plen) != 0 || !g_ascii_isdigit(token[plen]) ||
	    strlen(token + plen) > 18 || strspn(token + plen, "0123456789") != strlen(token + plen))
		return -1;
	return (int64_t)g_ascii_strtoll(token + plen, NULL, 10);
}

char *dav_sync_token(struct dav_request *rq, struct dav_resource *res)
{
	int64_t state = 0;
	struct ox_error err;
	if (rq->provider->changes == NULL || !res->collection ||
	    rq->provider->changes(rq, res, -1, NULL, NULL, &state, &err) < 0)
		return NULL;
	return g_strdup_printf(TOKEN_PREFIX "%" G_GINT64_FORMAT, state);
}

struct sync_walk {
	struct dav_request *rq;
	const struct dav_propfind *pf;
	struct dav_ms ms;
};

static int sync_member(const char *name, struct dav_resource *member, void *ctx)
{
	struct sync_walk *w = ctx;
	GPtrArray *segs = g_ptr_array_new();
	for (size_t i = 0; i < w->rq->nsegs; i++)
		g_ptr_array_add(segs, w->rq->segs[i]);
	g_ptr_array_add(segs, (gpointer)name);
	GString *out = g_string_new(NULL);
	if (member->exists) {
		dav_response_xml(w->rq, w->pf, (char **)segs->pdata, segs->len, member, out);
	} else {
		char *href = dav_href(w->rq, (char **)segs->pdata, segs->len, false);
		char *esc = dav_xml_escape(href);
		g_string_append_printf(out,
		                       "<D:response><D:href>%s</D:href><D:status>HTTP/1.1 404 "
		                       "Not Found</D:status></D:response>\n",
		                       esc);
		g_free(esc);
		g_free(href);
	}
	dav_ms_append(&w->ms, out->str);
	g_string_free(out, TRUE);
	g_ptr_array_unref(segs);
	return w->ms.failed ? -1 : 0;
}

static void sync_answer(struct dav_request *rq, struct dav_resource *res, struct sync_body *b)
{
	int64_t since = token_state(b->token), current = 0;
	struct ox_error err = {0};
	if (rq->provider->changes(rq, res, -1, NULL, NULL, &current, &err) < 0) {
		dav_reply_error(rq, &err);
		return;
	}
	if (since < 0 || since > current) {
		dav_reply_precondition(rq, 403, "valid-sync-token");
		return;
	}
	struct sync_walk w = {rq, &b->pf, {0}};
	dav_ms_begin(&w.ms, rq, 207);
	/* The token is the state before listing: a change made meanwhile
	 * comes again next time rather than never. */
	int64_t after = 0;
	if (rq->provider->changes(rq, res, since, sync_member, &w, &after, &err) == 0) {
		char *tail = g_strdup_printf("<D:sync-token>" TOKEN_PREFIX "%" G_GINT64_FORMAT
		                             "</D:sync-token>\n",
		                             current);
		dav_ms_append(&w.ms, tail);
		g_free(tail);
	}
	dav_ms_end(&w.ms);
}

int dav_sync_report(struct dav_request *rq, struct dav_resource *res, const char *body, size_t len)
{
	struct sync_body b;
	struct ox_error err = {0};
	int r = parse_sync(body, len, &b, &err);
	if (r < 0)
		http_reply_status(rq->ex, 400, err.message);
	else if (r == 0 && !res->collection)
		dav_reply_precondition(rq, 403, "supported-report");
	else if (r == 0)
		sync_answer(rq, res, &b);
	dav_propfind_clear(&b.pf);
	g_free(b.token);
	return r > 0 ? 1 : 0;
}
