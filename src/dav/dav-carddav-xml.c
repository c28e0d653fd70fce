/* CardDAV bodies: extended MKCOL, addressbook-query and
 * addressbook-multiget. Filters may name any well-formed vCard property
 * and parameter (RFC 6352 8.5); what cannot be evaluated (a malformed
 * name, an unknown match type) is refused with CARDDAV:supported-filter
 * rather than ignored, so a client never gets more than it asked for
 * without knowing. */
#include "dav/dav-carddav.h"

#include <libxml/tree.h>
#include <string.h>

/* An element as XML text of its own, its namespaces declared. */
static char *element_xml(xmlNode *n)
{
	xmlBuffer *buf = xmlBufferCreate();
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *copy = xmlDocCopyNode(n, doc, 1);
	char *text = NULL;
	if (copy != NULL) {
		xmlDocSetRootElement(doc, copy);
		xmlReconciliateNs(doc, copy);
		if (xmlNodeDump(buf, doc, copy, 0, 0) >= 0)
			text = g_strdup((const char *)xmlBufferContent(buf));
	}
	xmlFreeDoc(doc);
	xmlBufferFree(buf);
	return text;
}

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
	g_free(mk->description);
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
	} else if (dav_xml_is(p, CARDDAV_NS, "addressbook-description")) {
		/* Kept as the dead property PROPPATCH would store. */
		g_free(mk->description);
		mk->description = element_xml(p);
	}
	/* Other properties (a colour) are not kept yet. */
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

static int unsupported(const char **cond_r, struct ox_error *err, const char *what)
{
	*cond_r = "supported-filter";
	return ox_error_set(err, OX_ERR_INVALID, "%s is not supported in filters", what);
}

/* A vCard property name ("TEL", "X-ABC.TEL" with a group) or, without
 * a group, a parameter name, in upper case; NULL when malformed. */
static char *vcard_name(const char *name, bool group_allowed)
{
	size_t len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > CARDDAV_NAME_MAX)
		return NULL;
	const char *dot = group_allowed ? strchr(name, '.') : NULL;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && p != dot)
			return NULL;
	}
	if (dot == name || (dot != NULL && dot[1] == '\0'))
		return NULL;
	return g_ascii_strup(name, -1);
}

static void address_data_clear(struct dav_carddav_address_data *d)
{
	for (size_t i = 0; i < d->n_props; i++)
		g_free(d->props[i].name);
	g_free(d->props);
	memset(d, 0, sizeof(*d));
}

static int address_data_type(xmlNode *ad, struct dav_carddav_address_data *d, const char **cond_r,
                             struct ox_error *err)
{
	char *type = dav_xml_attr(ad, "content-type"), *version = dav_xml_attr(ad, "version");
	int ret = 0;
	if (type != NULL && g_ascii_strcasecmp(g_strstrip(type), "text/vcard") != 0)
		ret = ox_error_set(err, OX_ERR_INVALID, "address data is text/vcard");
	else if (version != NULL && strcmp(version, "3.0") != 0 && strcmp(version, "4.0") != 0)
		ret = ox_error_set(err, OX_ERR_INVALID, "vCard versions are 3.0 and 4.0");
	else if (version != NULL)
		d->version = version[0] - '0';
	if (ret < 0)
		*cond_r = "supported-address-data";
	g_free(type);
	g_free(version);
	return ret;
}

/* RFC 6352 10.4: (allprop | prop*) and the media type asked for. */
static int address_data(xmlNode *ad, struct dav_carddav_address_data *d, const char **cond_r,
                        struct ox_error *err)
{
	address_data_clear(d);
	if (address_data_type(ad, d, cond_r, err) < 0)
		return -1;
	bool allprop = false;
	for (xmlNode *c = dav_xml_element(ad->children); c != NULL; c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, CARDDAV_NS, "allprop") && d->n_props == 0) {
			allprop = true;
			continue;
		}
		if (!dav_xml_is(c, CARDDAV_NS, "prop") || allprop)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "address-data holds allprop or prop elements");
		if (d->n_props >= CARDDAV_ADDRESS_PROPS_MAX)
			return ox_error_set(err, OX_ERR_LIMIT, "at most %d props in address-data",
			                    CARDDAV_ADDRESS_PROPS_MAX);
		char *name = dav_xml_attr(c, "name"), *novalue = dav_xml_attr(c, "novalue");
		char *upper = vcard_name(name, true);
		bool ok = upper != NULL && (novalue == NULL || strcmp(novalue, "yes") == 0 ||
		                            strcmp(novalue, "no") == 0);
		if (ok) {
			if (d->props == NULL)
				d->props =
					g_new0(struct pim_vcard_select, CARDDAV_ADDRESS_PROPS_MAX);
			d->props[d->n_props].name = upper;
			d->props[d->n_props++].novalue =
				novalue != NULL && strcmp(novalue, "yes") == 0;
		}
		g_free(name);
		g_free(novalue);
		if (!ok) {
			g_free(upper);
			return ox_error_set(err, OX_ERR_INVALID,
			                    "a prop names a vCard property; novalue is yes or no");
		}
	}
	return 0;
}

static int read_props(xmlNode *prop, struct dav_carddav_report *r, const char **cond_r,
                      struct ox_error *err)
{
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, CARDDAV_NS, "address-data") &&
		    address_data(c, &r->data, cond_r, err) < 0)
			return -1;
		const char *ns = c->ns != NULL ? (const char *)c->ns->href : "";
		struct dav_prop_name pn = {g_strdup(ns), g_strdup((const char *)c->name)};
		g_array_append_val(r->pf.props, pn);
	}
	return 0;
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

/* RFC 6352 10.5.2: (is-not-defined | text-match)? on one parameter. */
static int param_filter(xmlNode *pf, struct pim_contact_param_filter *f, const char **cond_r,
                        struct ox_error *err)
{
	char *name = dav_xml_attr(pf, "name");
	f->name = vcard_name(name, false);
	g_free(name);
	if (f->name == NULL)
		return unsupported(cond_r, err, "a param-filter without a parameter name");
	xmlNode *c = dav_xml_element(pf->children);
	if (c != NULL && dav_xml_element(c->next) != NULL)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a param-filter holds one is-not-defined or text-match");
	if (c == NULL)
		return 0;
	if (dav_xml_is(c, CARDDAV_NS, "is-not-defined")) {
		f->is_not_defined = true;
		return 0;
	}
	if (!dav_xml_is(c, CARDDAV_NS, "text-match"))
		return unsupported(cond_r, err, (const char *)c->name);
	f->match = g_new0(struct pim_contact_text_match, 1);
	return text_match(c, f->match, cond_r, err);
}

/* The property a prop-filter names: an indexed field when the index holds
 * it, else its name for matching on the text. */
static int prop_filter_name(xmlNode *pf, struct pim_contact_prop_filter *f, const char **cond_r,
                            struct ox_error *err)
{
	char *attr = dav_xml_attr(pf, "name");
	char *name = vcard_name(attr, true);
	g_free(attr);
	if (name == NULL)
		return unsupported(cond_r, err, "a prop-filter without a vCard property name");
	if (field_named(name, &f->field) == 0)
		g_free(name);
	else
		f->name = name;
	return 0;
}

static int prop_filter_child(xmlNode *c, struct pim_contact_prop_filter *f, const char **cond_r,
                             struct ox_error *err)
{
	if (dav_xml_is(c, CARDDAV_NS, "is-not-defined")) {
		f->is_not_defined = true;
		return 0;
	}
	if (dav_xml_is(c, CARDDAV_NS, "text-match")) {
		if (f->n_matches >= CARDDAV_FILTERS_MAX)
			return ox_error_set(err, OX_ERR_LIMIT,
			                    "at most %d text-matches in a prop-filter",
			                    CARDDAV_FILTERS_MAX);
		return text_match(c, &f->matches[f->n_matches++], cond_r, err);
	}
	if (dav_xml_is(c, CARDDAV_NS, "param-filter")) {
		if (f->n_params >= CARDDAV_FILTERS_MAX)
			return ox_error_set(err, OX_ERR_LIMIT,
			                    "at most %d param-filters in a prop-filter",
			                    CARDDAV_FILTERS_MAX);
		if (f->params == NULL)
			f->params = g_new0(struct pim_contact_param_filter, CARDDAV_FILTERS_MAX);
		return param_filter(c, &f->params[f->n_params++], cond_r, err);
	}
	return unsupported(cond_r, err, (const char *)c->name);
}

/* RFC 6352 10.5.1: is-not-defined | (text-match*, param-filter*). */
static int prop_filter(xmlNode *pf, struct pim_contact_prop_filter *f, const char **cond_r,
                       struct ox_error *err)
{
	if (prop_filter_name(pf, f, cond_r, err) < 0)
		return -1;
	if (test_attr(pf, &f->allof) < 0)
		return ox_error_set(err, OX_ERR_INVALID, "test is anyof or allof");
	f->matches = g_new0(struct pim_contact_text_match, CARDDAV_FILTERS_MAX);
	for (xmlNode *c = dav_xml_element(pf->children); c != NULL; c = dav_xml_element(c->next)) {
		if (prop_filter_child(c, f, cond_r, err) < 0)
			return -1;
	}
	if (f->is_not_defined && (f->n_matches > 0 || f->n_params > 0))
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
		return read_props(c, r, cond_r, err);
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
	address_data_clear(&r->data);
	pim_contact_query_clear(&r->q);
	if (r->hrefs != NULL)
		g_ptr_array_unref(r->hrefs);
	r->hrefs = NULL;
}
