/* Access control bodies (RFC 3744): the ACL method's DAV:acl and the
 * DAV:principal-property-search report. Pure: bytes in, structures out,
 * on the strict parser of dav-xml.c. */
#include "dav/dav-private.h"
#include "directory/directory.h"
#include "folder/folder.h"

#include <libxml/tree.h>
#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CS_NS "http://calendarserver.org/ns/"

#define DAV_PRIV_EVERY                                                                             \
	(DAV_PRIV_READ | DAV_PRIV_WRITE_CONTENT | DAV_PRIV_WRITE_PROPERTIES | DAV_PRIV_BIND |      \
	 DAV_PRIV_UNBIND | DAV_PRIV_READ_ACL | DAV_PRIV_WRITE_ACL |                                \
	 DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET | DAV_PRIV_UNLOCK | DAV_PRIV_READ_FREE_BUSY)

static const struct {
	const char *ns, *name;
	unsigned bits;
} privilege_names[] = {
	/* The aggregates (RFC 3744 3.12, RFC 4791 6.1.1) with what they hold. */
	{DAV_NS, "all", DAV_PRIV_EVERY},
	{DAV_NS, "read", DAV_PRIV_READ | DAV_PRIV_READ_FREE_BUSY},
	{DAV_NS, "write",
         DAV_PRIV_WRITE_CONTENT | DAV_PRIV_WRITE_PROPERTIES | DAV_PRIV_BIND | DAV_PRIV_UNBIND},
	{DAV_NS, "write-content", DAV_PRIV_WRITE_CONTENT},
	{DAV_NS, "write-properties", DAV_PRIV_WRITE_PROPERTIES},
	{DAV_NS, "bind", DAV_PRIV_BIND},
	{DAV_NS, "unbind", DAV_PRIV_UNBIND},
	{DAV_NS, "unlock", DAV_PRIV_UNLOCK},
	{DAV_NS, "read-acl", DAV_PRIV_READ_ACL},
	{DAV_NS, "write-acl", DAV_PRIV_WRITE_ACL},
	{DAV_NS, "read-current-user-privilege-set", DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET},
	{CALDAV_NS, "read-free-busy", DAV_PRIV_READ_FREE_BUSY},
};

unsigned dav_privilege_parse(const char *ns, const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(privilege_names); i++) {
		if (strcmp(privilege_names[i].ns, ns) == 0 &&
		    strcmp(privilege_names[i].name, name) == 0)
			return privilege_names[i].bits;
	}
	return 0;
}

static const char *node_ns(const xmlNode *n)
{
	return n->ns != NULL && n->ns->href != NULL ? (const char *)n->ns->href : "";
}

/* --- ACL (RFC 3744 8.1) --- */

struct acl_parse {
	const char **cond_r;
	struct ox_error *err;
};

static int invalid(struct acl_parse *p, const char *what)
{
	return ox_error_set(p->err, OX_ERR_INVALID, "%s", what);
}

static int condition(struct acl_parse *p, const char *cond, const char *what)
{
	*p->cond_r = cond;
	return ox_error_set(p->err, OX_ERR_INVALID, "%s", what);
}

static int ace_principal(xmlNode *n, struct dav_ace *ace, struct acl_parse *p)
{
	static const struct {
		const char *name;
		enum dav_acl_principal_kind kind;
	} kinds[] = {
		{"href", DAV_ACE_HREF},
		{"all", DAV_ACE_ALL},
		{"authenticated", DAV_ACE_AUTHENTICATED},
		{"unauthenticated", DAV_ACE_UNAUTHENTICATED},
		{"property", DAV_ACE_PROPERTY},
		{"self", DAV_ACE_SELF},
	};
	xmlNode *c = dav_xml_element(n->children);
	if (c == NULL || dav_xml_element(c->next) != NULL)
		return invalid(p, "a DAV:principal holds one element");
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (!dav_xml_is(c, DAV_NS, kinds[i].name))
			continue;
		ace->kind = kinds[i].kind;
		if (ace->kind == DAV_ACE_HREF) {
			xmlChar *text = xmlNodeGetContent(c);
			ace->href = g_strstrip(g_strdup(text != NULL ? (const char *)text : ""));
			xmlFree(text);
		}
		return 0;
	}
	return invalid(p, "unknown kind of DAV:principal");
}

static int ace_privileges(xmlNode *n, struct dav_ace *ace, struct acl_parse *p)
{
	for (xmlNode *c = dav_xml_element(n->children); c != NULL; c = dav_xml_element(c->next)) {
		if (!dav_xml_is(c, DAV_NS, "privilege"))
			return invalid(p, "DAV:grant and DAV:deny hold DAV:privilege elements");
		xmlNode *priv = dav_xml_element(c->children);
		if (priv == NULL || dav_xml_element(priv->next) != NULL)
			return invalid(p, "a DAV:privilege holds one element");
		unsigned bits = dav_privilege_parse(node_ns(priv), (const char *)priv->name);
		if (bits == 0)
			return condition(p, "not-supported-privilege",
			                 "a privilege this server does not know");
		ace->privileges |= bits;
	}
	return 0;
}

static int parse_ace(xmlNode *n, struct dav_ace *ace, struct acl_parse *p)
{
	bool have_principal = false, have_grant = false;
	for (xmlNode *c = dav_xml_element(n->children); c != NULL; c = dav_xml_element(c->next)) {
		int r = 0;
		if ((dav_xml_is(c, DAV_NS, "principal") || dav_xml_is(c, DAV_NS, "invert")) &&
		    !have_principal) {
			have_principal = true;
			ace->invert = dav_xml_is(c, DAV_NS, "invert");
			xmlNode *inner = c;
			if (ace->invert) {
				inner = dav_xml_element(c->children);
				if (!dav_xml_is(inner, DAV_NS, "principal"))
					return invalid(p, "DAV:invert holds a DAV:principal");
			}
			r = ace_principal(inner, ace, p);
		} else if ((dav_xml_is(c, DAV_NS, "grant") || dav_xml_is(c, DAV_NS, "deny")) &&
		           !have_grant) {
			have_grant = true;
			ace->deny = dav_xml_is(c, DAV_NS, "deny");
			r = ace_privileges(c, ace, p);
		} else if (dav_xml_is(c, DAV_NS, "protected")) {
			ace->is_protected = true;
		} else if (dav_xml_is(c, DAV_NS, "inherited")) {
			ace->inherited = true;
		} else {
			return invalid(p, "unexpected element in DAV:ace");
		}
		if (r < 0)
			return -1;
	}
	if (!have_principal || !have_grant)
		return invalid(p, "a DAV:ace needs a principal and a grant or deny");
	return 0;
}

static void ace_clear(gpointer data)
{
	struct dav_ace *ace = data;
	g_free(ace->href);
}

int dav_parse_acl(const char *body, size_t len, GArray **aces_r, const char **cond_r,
                  struct ox_error *err)
{
	*cond_r = NULL;
	*aces_r = NULL;
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	struct acl_parse p = {cond_r, err};
	GArray *aces = g_array_new(FALSE, TRUE, sizeof(struct dav_ace));
	g_array_set_clear_func(aces, ace_clear);
	xmlNode *root = xmlDocGetRootElement(doc);
	int r = dav_xml_is(root, DAV_NS, "acl") ? 0 : invalid(&p, "expected a DAV:acl element");
	for (xmlNode *c = r == 0 ? dav_xml_element(root->children) : NULL; r == 0 && c != NULL;
	     c = dav_xml_element(c->next)) {
		if (!dav_xml_is(c, DAV_NS, "ace"))
			r = invalid(&p, "DAV:acl holds DAV:ace elements");
		else if (aces->len >= DAV_ACL_ACES_MAX)
			r = ox_error_set(err, OX_ERR_LIMIT, "at most %d ACEs", DAV_ACL_ACES_MAX);
		if (r < 0)
			break;
		struct dav_ace ace = {0};
		g_array_append_val(aces, ace);
		r = parse_ace(c, &g_array_index(aces, struct dav_ace, aces->len - 1), &p);
	}
	xmlFreeDoc(doc);
	if (r < 0) {
		g_array_unref(aces);
		return -1;
	}
	*aces_r = aces;
	return 0;
}

void dav_aces_free(GArray **aces)
{
	if (*aces != NULL)
		g_array_unref(*aces);
	*aces = NULL;
}

/* --- principal-property-search (RFC 3744 9.4) --- */

static unsigned search_prop(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) == 0 && strcmp(name, "displayname") == 0)
		return DAV_SEARCH_NAME;
	if (strcmp(ns, CS_NS) == 0 &&
	    (strcmp(name, "first-name") == 0 || strcmp(name, "last-name") == 0))
		return DAV_SEARCH_NAME;
	if (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "calendar-user-address-set") == 0)
		return DAV_SEARCH_ADDRESS;
	if (strcmp(ns, CS_NS) == 0 && strcmp(name, "email-address-set") == 0)
		return DAV_SEARCH_ADDRESS;
	return 0;
}

static void prop_name_clear(gpointer data)
{
	struct dav_prop_name *pn = data;
	g_free(pn->ns);
	g_free(pn->name);
}

static void term_clear(gpointer data)
{
	struct dav_search_term *t = data;
	g_free(t->text);
}

/* The match type of CalendarServer's extension (match-type="starts-with"),
 * which clients send; RFC 3744 itself has only "contains". */
static int match_type(xmlNode *match, int *match_r, struct ox_error *err)
{
	char *type = dav_xml_attr(match, "match-type");
	int r = 0;
	if (type == NULL || strcmp(type, "contains") == 0)
		*match_r = USER_MATCH_CONTAINS;
	else if (strcmp(type, "starts-with") == 0)
		*match_r = USER_MATCH_STARTS;
	else if (strcmp(type, "equals") == 0)
		*match_r = USER_MATCH_EQUALS;
	else
		r = ox_error_set(err, OX_ERR_INVALID, "unknown match-type");
	g_free(type);
	return r;
}

static int property_search(xmlNode *n, struct dav_search_term *t, struct ox_error *err)
{
	xmlNode *prop = dav_xml_element(n->children);
	xmlNode *match = prop != NULL ? dav_xml_element(prop->next) : NULL;
	if (!dav_xml_is(prop, DAV_NS, "prop") || !dav_xml_is(match, DAV_NS, "match") ||
	    dav_xml_element(match->next) != NULL)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "DAV:property-search holds DAV:prop and DAV:match");
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL; c = dav_xml_element(c->next))
		t->props |= search_prop(node_ns(c), (const char *)c->name);
	if (match_type(match, &t->match, err) < 0)
		return -1;
	xmlChar *text = xmlNodeGetContent(match);
	const char *s = text != NULL ? (const char *)text : "";
	size_t len = strlen(s);
	if (len > DAV_SEARCH_TEXT_MAX) {
		xmlFree(text);
		return ox_error_set(err, OX_ERR_INVALID, "a DAV:match is at most %d bytes",
		                    DAV_SEARCH_TEXT_MAX);
	}
	/* Clients search addresses as the calendar-user-address-set holds
	 * them, mailto: URIs. */
	if ((t->props & DAV_SEARCH_ADDRESS) && g_ascii_strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	t->text = g_strdup(s);
	xmlFree(text);
	return 0;
}

static void answer_props(xmlNode *prop, struct dav_propfind *pf)
{
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		struct dav_prop_name pn = {g_strdup(node_ns(c)), g_strdup((const char *)c->name)};
		g_array_append_val(pf->props, pn);
	}
}

static int search_children(xmlNode *root, struct dav_principal_report *r, struct ox_error *err)
{
	for (xmlNode *c = dav_xml_element(root->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, DAV_NS, "property-search")) {
			if (r->terms->len >= USER_SEARCH_TERMS_MAX)
				return ox_error_set(err, OX_ERR_INVALID,
				                    "at most %d property searches",
				                    USER_SEARCH_TERMS_MAX);
			struct dav_search_term t = {0};
			g_array_append_val(r->terms, t);
			if (property_search(c,
			                    &g_array_index(r->terms, struct dav_search_term,
			                                   r->terms->len - 1),
			                    err) < 0)
				return -1;
		} else if (dav_xml_is(c, DAV_NS, "prop")) {
			answer_props(c, &r->pf);
		} else if (!dav_xml_is(c, DAV_NS, "apply-to-principal-collection-set")) {
			return ox_error_set(err, OX_ERR_INVALID,
			                    "unexpected element in principal-property-search");
		}
	}
	if (r->terms->len == 0)
		return ox_error_set(err, OX_ERR_INVALID, "a search needs a DAV:property-search");
	return 0;
}

static int property_search_report(xmlNode *root, struct dav_principal_report *r,
                                  struct ox_error *err)
{
	/* RFC 3744 9.4: every DAV:property-search must match, unless the
	 * client asks for any (test="anyof", CalendarServer's extension that
	 * clients use). */
	char *test = dav_xml_attr(root, "test");
	r->match_all = test == NULL || strcmp(test, "allof") == 0;
	int ret = !r->match_all && strcmp(test, "anyof") != 0
	                  ? ox_error_set(err, OX_ERR_INVALID, "test is anyof or allof")
	                  : search_children(root, r, err);
	g_free(test);
	return ret;
}

/* RFC 3744 9.3: DAV:self, or DAV:principal-property naming the property
 * that holds a principal, then the properties to answer. */
static int match_report(xmlNode *root, struct dav_principal_report *r, struct ox_error *err)
{
	xmlNode *what = dav_xml_element(root->children);
	r->self = dav_xml_is(what, DAV_NS, "self");
	if (!r->self && !dav_xml_is(what, DAV_NS, "principal-property"))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "principal-match needs DAV:self or DAV:principal-property");
	xmlNode *prop = dav_xml_element(what->next);
	if (prop != NULL && (!dav_xml_is(prop, DAV_NS, "prop") || dav_xml_element(prop->next)))
		return ox_error_set(err, OX_ERR_INVALID, "unexpected element in principal-match");
	if (prop != NULL)
		answer_props(prop, &r->pf);
	return 0;
}

int dav_parse_principal_report(const char *body, size_t len, struct dav_principal_report *r_r,
                               struct ox_error *err)
{
	memset(r_r, 0, sizeof(*r_r));
	r_r->terms = g_array_new(FALSE, TRUE, sizeof(struct dav_search_term));
	g_array_set_clear_func(r_r->terms, term_clear);
	r_r->pf.kind = DAV_PROPFIND_PROP;
	r_r->pf.props = g_array_new(FALSE, TRUE, sizeof(struct dav_prop_name));
	g_array_set_clear_func(r_r->pf.props, prop_name_clear);
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	int r = 1;
	if (dav_xml_is(root, DAV_NS, "principal-property-search")) {
		r_r->kind = DAV_PRINCIPAL_PROPERTY_SEARCH;
		r = property_search_report(root, r_r, err);
	} else if (dav_xml_is(root, DAV_NS, "principal-search-property-set")) {
		r_r->kind = DAV_PRINCIPAL_SEARCH_PROPERTY_SET;
		r = 0;
	} else if (dav_xml_is(root, DAV_NS, "principal-match")) {
		r_r->kind = DAV_PRINCIPAL_MATCH;
		r = match_report(root, r_r, err);
	}
	xmlFreeDoc(doc);
	if (r == 0 && r_r->pf.props->len == 0) {
		/* Without DAV:prop the answer still names each principal. */
		struct dav_prop_name pn = {g_strdup(DAV_NS), g_strdup("displayname")};
		g_array_append_val(r_r->pf.props, pn);
	}
	return r;
}

void dav_principal_report_clear(struct dav_principal_report *r)
{
	if (r->terms != NULL)
		g_array_unref(r->terms);
	r->terms = NULL;
	dav_propfind_clear(&r->pf);
}
