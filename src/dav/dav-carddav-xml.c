/* CardDAV bodies: extended MKCOL, addressbook-query and
 * addressbook-multiget. A filter on something the index does not hold
 * (param-filter, other properties) is refused (CARDDAV:supported-filter)
 * rather than ignored, so a client never gets more than it asked for
 * without knowing. */
#include "dav/dav-carddav.h"

#include <libxml/tree.h>
#include <string.h>

static char *content(xmlNode *n)
{
	xmlChar *text = xmlNodeGetContent(n);
	char *copy = g_strdup(text != NULL ? (const char *)text : "");
	xmlFree(text);
	return copy;
}

/* --- MKCOL --- */

void dav_carddav_mkcol_clear(struct dav_carddav_mkcol *mk)
{
	g_free(mk->display_name);
	memset(mk, 0, sizeof(*mk));
}

static void mkcol_prop(xmlNode *p, struct dav_carddav_mkcol *mk)
{
	if (dav_xml_is(p, DAV_NS, "displayname")) {
		g_free(mk->display_name);
		mk->display_name = content(p);
	} else if (dav_xml_is(p, DAV_NS, "resourcetype")) {
		for (xmlNode *t = dav_xml_element(p->children); t != NULL;
		     t = dav_xml_element(t->next))
			mk->addressbook =
				mk->addressbook || dav_xml_is(t, CARDDAV_NS, "addressbook");
	}
	/* Other properties (description, colour) are not kept yet. */
}

int dav_carddav_parse_mkcol(const char *body, size_t len, struct dav_carddav_mkcol *mk_r,
                            struct ox_error *err)
{
	memset(mk_r, 0, sizeof(*mk_r));
	if (body == NULL || len == 0)
		return 0;
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	int ret = dav_xml_is(root, DAV_NS, "mkcol")
	                  ? 0
	                  : ox_error_set(err, OX_ERR_INVALID, "expected DAV:mkcol");
	for (xmlNode *set = ret == 0 ? dav_xml_element(root->children) : NULL;
	     ret == 0 && set != NULL; set = dav_xml_element(set->next)) {
		xmlNode *prop = dav_xml_element(set->children);
		if (!dav_xml_is(set, DAV_NS, "set") || !dav_xml_is(prop, DAV_NS, "prop")) {
			ret = ox_error_set(err, OX_ERR_INVALID, "mkcol holds DAV:set/DAV:prop");
			break;
		}
		for (xmlNode *p = dav_xml_element(prop->children); p != NULL;
		     p = dav_xml_element(p->next))
			mkcol_prop(p, mk_r);
	}
	xmlFreeDoc(doc);
	if (ret < 0)
		dav_carddav_mkcol_clear(mk_r);
	return ret;
}

/* --- REPORT --- */

static void prop_name_clear(gpointer p)
{
	struct dav_prop_name *pn = p;
	g_free(pn->ns);
	g_free(pn->name);
}

static void read_props(xmlNode *prop, struct dav_propfind *pf)
{
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		const char *ns = c->ns != NULL ? (const char *)c->ns->href : "";
		struct dav_prop_name pn = {g_strdup(ns), g_strdup((const char *)c->name)};
		g_array_append_val(pf->props, pn);
	}
}

static int unsupported(const char **cond_r, struct ox_error *err, const char *what)
{
	*cond_r = "supported-filter";
	return ox_error_set(err, OX_ERR_INVALID, "%s is not supported in filters", what);
}

/* test="anyof" (the default) or "allof": 0, or -1 when neither. */
static int test_attr(xmlNode *n, bool *allof_r)
{
	char *test = dav_xml_attr(n, "test");
	*allof_r = test != NULL && strcmp(test, "allof") == 0;
	int r = test == NULL || *allof_r || strcmp(test, "anyof") == 0 ? 0 : -1;
	g_free(test);
	return r;
}

static int field_named(const char *name, enum pim_contact_field *f_r)
{
	static const struct {
		const char *name;
		enum pim_contact_field field;
	} fields[] = {
		{"FN", PIM_CONTACT_FIELD_FN},       {"N", PIM_CONTACT_FIELD_N},
		{"EMAIL", PIM_CONTACT_FIELD_EMAIL}, {"TEL", PIM_CONTACT_FIELD_TEL},
		{"UID", PIM_CONTACT_FIELD_UID},
	};
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(fields); i++) {
		if (g_ascii_strcasecmp(name, fields[i].name) == 0) {
			*f_r = fields[i].field;
			return 0;
		}
	}
	return -1;
}

static int collation_named(const char *name, enum pim_contact_collation *c_r)
{
	if (name == NULL || strcmp(name, "i;unicode-casemap") == 0)
		*c_r = PIM_CONTACT_COLL_UNICODE_CASEMAP;
	else if (strcmp(name, "i;ascii-casemap") == 0)
		*c_r = PIM_CONTACT_COLL_ASCII_CASEMAP;
	else if (strcmp(name, "i;octet") == 0)
		*c_r = PIM_CONTACT_COLL_OCTET;
	else
		return -1;
	return 0;
}

static int match_type_named(const char *name, enum pim_contact_match_type *t_r)
{
	static const char *const names[] = {
		[PIM_CONTACT_MATCH_EQUALS] = "equals",
		[PIM_CONTACT_MATCH_CONTAINS] = "contains",
		[PIM_CONTACT_MATCH_STARTS_WITH] = "starts-with",
		[PIM_CONTACT_MATCH_ENDS_WITH] = "ends-with",
	};
	*t_r = PIM_CONTACT_MATCH_CONTAINS;
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*t_r = (enum pim_contact_match_type)i;
			return 0;
		}
	}
	return name == NULL ? 0 : -1;
}

static int text_match(xmlNode *tm, struct pim_contact_text_match *m, const char **cond_r,
                      struct ox_error *err)
{
	char *coll = dav_xml_attr(tm, "collation"), *type = dav_xml_attr(tm, "match-type");
	char *negate = dav_xml_attr(tm, "negate-condition");
	int ret = 0;
	if (collation_named(coll, &m->collation) < 0) {
		*cond_r = "supported-collation";
		ret = ox_error_set(err, OX_ERR_INVALID,
		                   "collations are i;unicode-casemap, i;ascii-casemap, i;octet");
	} else if (match_type_named(type, &m->type) < 0) {
		ret = unsupported(cond_r, err,
		                  "a match-type other than equals, contains, "
		                  "starts-with, ends-with");
	} else if (negate != NULL && strcmp(negate, "yes") != 0 && strcmp(negate, "no") != 0) {
		ret = ox_error_set(err, OX_ERR_INVALID, "negate-condition is yes or no");
	} else {
		m->negate = negate != NULL && strcmp(negate, "yes") == 0;
		m->text = content(tm);
		if (strlen(m->text) > CARDDAV_MATCH_TEXT_MAX)
			ret = ox_error_set(err, OX_ERR_LIMIT, "a text-match is at most %d bytes",
			                   CARDDAV_MATCH_TEXT_MAX);
	}
	g_free(coll);
	g_free(type);
	g_free(negate);
	return ret;
}

static int prop_filter(xmlNode *pf, struct pim_contact_prop_filter *f, const char **cond_r,
                       struct ox_error *err)
{
	char *name = dav_xml_attr(pf, "name");
	int r = field_named(name, &f->field);
	g_free(name);
	if (r < 0)
		return unsupported(cond_r, err, "a property other than FN, N, EMAIL, TEL, UID");
	if (test_attr(pf, &f->allof) < 0)
		return ox_error_set(err, OX_ERR_INVALID, "test is anyof or allof");
	f->matches = g_new0(struct pim_contact_text_match, CARDDAV_FILTERS_MAX);
	for (xmlNode *c = dav_xml_element(pf->children); c != NULL; c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, CARDDAV_NS, "is-not-defined")) {
			f->is_not_defined = true;
		} else if (dav_xml_is(c, CARDDAV_NS, "text-match")) {
			if (f->n_matches >= CARDDAV_FILTERS_MAX)
				return ox_error_set(err, OX_ERR_LIMIT,
				                    "at most %d text-matches in a prop-filter",
				                    CARDDAV_FILTERS_MAX);
			if (text_match(c, &f->matches[f->n_matches++], cond_r, err) < 0)
				return -1;
		} else {
			return unsupported(cond_r, err, (const char *)c->name);
		}
	}
	if (f->is_not_defined && f->n_matches > 0)
		return ox_error_set(err, OX_ERR_INVALID, "is-not-defined stands alone");
	return 0;
}

static int filter(xmlNode *fl, struct pim_contact_query *q, const char **cond_r,
                  struct ox_error *err)
{
	if (test_attr(fl, &q->allof) < 0)
		return ox_error_set(err, OX_ERR_INVALID, "test is anyof or allof");
	q->filters = g_new0(struct pim_contact_prop_filter, CARDDAV_FILTERS_MAX);
	for (xmlNode *c = dav_xml_element(fl->children); c != NULL; c = dav_xml_element(c->next)) {
		if (!dav_xml_is(c, CARDDAV_NS, "prop-filter"))
			return unsupported(cond_r, err, (const char *)c->name);
		if (q->n_filters >= CARDDAV_FILTERS_MAX)
			return ox_error_set(err, OX_ERR_LIMIT, "at most %d prop-filters",
			                    CARDDAV_FILTERS_MAX);
		if (prop_filter(c, &q->filters[q->n_filters++], cond_r, err) < 0)
			return -1;
	}
	return 0;
}

static int limit(xmlNode *l, struct pim_contact_query *q, struct ox_error *err)
{
	xmlNode *n = dav_xml_element(l->children);
	char *text = dav_xml_is(n, CARDDAV_NS, "nresults") ? content(n) : NULL;
	char *end = NULL;
	guint64 v = text != NULL ? g_ascii_strtoull(g_strstrip(text), &end, 10) : 0;
	bool ok = text != NULL && end != text && *end == '\0' && v > 0 && v <= G_MAXINT32;
	g_free(text);
	if (!ok)
		return ox_error_set(err, OX_ERR_INVALID, "limit holds nresults, a positive number");
	q->limit = (size_t)v;
	return 0;
}

static int report_child(xmlNode *c, struct dav_carddav_report *r, bool *have_filter,
                        const char **cond_r, struct ox_error *err)
{
	bool query = r->kind == CARDDAV_REPORT_QUERY;
	if (dav_xml_is(c, DAV_NS, "prop")) {
		r->pf.kind = DAV_PROPFIND_PROP;
		read_props(c, &r->pf);
	} else if (dav_xml_is(c, DAV_NS, "allprop")) {
		r->pf.kind = DAV_PROPFIND_ALLPROP;
	} else if (dav_xml_is(c, DAV_NS, "propname")) {
		r->pf.kind = DAV_PROPFIND_PROPNAME;
	} else if (!query && dav_xml_is(c, DAV_NS, "href")) {
		if (r->hrefs->len >= CARDDAV_HREFS_MAX)
			return ox_error_set(err, OX_ERR_LIMIT, "at most %d hrefs",
			                    CARDDAV_HREFS_MAX);
		g_ptr_array_add(r->hrefs, g_strstrip(content(c)));
	} else if (query && dav_xml_is(c, CARDDAV_NS, "filter") && !*have_filter) {
		*have_filter = true;
		return filter(c, &r->q, cond_r, err);
	} else if (query && dav_xml_is(c, CARDDAV_NS, "limit")) {
		return limit(c, &r->q, err);
	} else {
		return ox_error_set(err, OX_ERR_INVALID, "unexpected element %s",
		                    (const char *)c->name);
	}
	return 0;
}

int dav_carddav_parse_report(const char *body, size_t len, struct dav_carddav_report *r,
                             const char **cond_r, struct ox_error *err)
{
	memset(r, 0, sizeof(*r));
	*cond_r = NULL;
	r->pf.kind = DAV_PROPFIND_ALLPROP;
	r->pf.props = g_array_new(FALSE, TRUE, sizeof(struct dav_prop_name));
	g_array_set_clear_func(r->pf.props, prop_name_clear);
	r->hrefs = g_ptr_array_new_with_free_func(g_free);
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	int ret = 1;
	bool have_filter = false;
	if (dav_xml_is(root, CARDDAV_NS, "addressbook-query") ||
	    dav_xml_is(root, CARDDAV_NS, "addressbook-multiget")) {
		r->kind = dav_xml_is(root, CARDDAV_NS, "addressbook-query")
		                  ? CARDDAV_REPORT_QUERY
		                  : CARDDAV_REPORT_MULTIGET;
		ret = 0;
		for (xmlNode *c = dav_xml_element(root->children); ret == 0 && c != NULL;
		     c = dav_xml_element(c->next))
			ret = report_child(c, r, &have_filter, cond_r, err);
	}
	xmlFreeDoc(doc);
	if (ret == 0 && r->kind == CARDDAV_REPORT_QUERY && !have_filter)
		ret = ox_error_set(err, OX_ERR_INVALID, "addressbook-query needs a filter");
	return ret;
}

void dav_carddav_report_clear(struct dav_carddav_report *r)
{
	dav_propfind_clear(&r->pf);
	pim_contact_query_clear(&r->q);
	if (r->hrefs != NULL)
		g_ptr_array_unref(r->hrefs);
	r->hrefs = NULL;
}
