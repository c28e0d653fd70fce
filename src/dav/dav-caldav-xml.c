/* CalDAV bodies: MKCALENDAR, calendar-query, calendar-multiget and
 * free-busy-query. Filters (RFC 4791 9.7) become a pim_comp_filter tree;
 * what cannot be evaluated (a time-range on other components than VEVENT
 * and VTODO, deeper nesting, unknown collations) is refused with its
 * precondition rather than ignored, so a client never gets more than it
 * asked for without knowing. CALDAV:calendar-data's children (RFC 4791
 * 9.6) become a pim_view. */
#include "dav/dav-caldav.h"
#include "pim/pim.h"

#include <libxml/tree.h>
#include <string.h>

static unsigned component_named(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "VEVENT") == 0)
		return PIM_COMP_VEVENT;
	if (strcmp(name, "VTODO") == 0)
		return PIM_COMP_VTODO;
	return 0;
}

bool dav_caldav_parse_utc(const char *text, int64_t *t_r)
{
	if (text == NULL || strlen(text) != 16 || text[8] != 'T' || text[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++) {
		if (i != 8 && !g_ascii_isdigit(text[i]))
			return false;
	}
	int y, mo, d, h, mi, s;
	if (sscanf(text, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
		return false;
	GDateTime *dt = g_date_time_new_utc(y, mo, d, h, mi, s);
	if (dt == NULL)
		return false;
	*t_r = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return true;
}

void dav_caldav_mkcalendar_clear(struct dav_caldav_mkcalendar *mk)
{
	g_free(mk->display_name);
	g_free(mk->time_zone);
	memset(mk, 0, sizeof(*mk));
}

static int mkcalendar_prop(xmlNode *p, struct dav_caldav_mkcalendar *mk, const char **cond_r,
                           struct ox_error *err)
{
	if (dav_xml_is(p, DAV_NS, "displayname") || dav_xml_is(p, CALDAV_NS, "calendar-timezone")) {
		/* RFC 4791 5.2.2: the iCalendar text is the element's content. */
		char **slot =
			dav_xml_is(p, DAV_NS, "displayname") ? &mk->display_name : &mk->time_zone;
		xmlChar *text = xmlNodeGetContent(p);
		g_free(*slot);
		*slot = g_strdup(text != NULL ? (const char *)text : "");
		xmlFree(text);
	} else if (dav_xml_is(p, CALDAV_NS, "supported-calendar-component-set")) {
		for (xmlNode *c = dav_xml_element(p->children); c != NULL;
		     c = dav_xml_element(c->next)) {
			char *name =
				dav_xml_is(c, CALDAV_NS, "comp") ? dav_xml_attr(c, "name") : NULL;
			unsigned bit = component_named(name);
			g_free(name);
			if (bit == 0) {
				*cond_r = "supported-calendar-component";
				return ox_error_set(err, OX_ERR_INVALID,
				                    "calendars take VEVENT and VTODO components");
			}
			mk->components |= bit;
		}
	} else if (dav_xml_is(p, DAV_NS, "resourcetype")) {
		for (xmlNode *c = dav_xml_element(p->children); c != NULL;
		     c = dav_xml_element(c->next)) {
			if (dav_xml_is(c, CALDAV_NS, "calendar"))
				mk->calendar_type = true;
			else if (!dav_xml_is(c, DAV_NS, "collection"))
				mk->other_type = true;
		}
	}
	/* Other properties (description, colour) are not kept yet. */
	return 0;
}

int dav_caldav_parse_mkcalendar(const char *body, size_t len, struct dav_caldav_mkcalendar *mk_r,
                                const char **cond_r, struct ox_error *err)
{
	memset(mk_r, 0, sizeof(*mk_r));
	*cond_r = NULL;
	if (body == NULL || len == 0)
		return 0;
	xmlDoc *doc = dav_xml_parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	int ret = dav_xml_is(root, CALDAV_NS, "mkcalendar") || dav_xml_is(root, DAV_NS, "mkcol")
	                  ? 0
	                  : ox_error_set(err, OX_ERR_INVALID, "expected CALDAV:mkcalendar");
	for (xmlNode *set = ret == 0 ? dav_xml_element(root->children) : NULL;
	     ret == 0 && set != NULL; set = dav_xml_element(set->next)) {
		xmlNode *prop = dav_xml_element(set->children);
		if (!dav_xml_is(set, DAV_NS, "set") || !dav_xml_is(prop, DAV_NS, "prop")) {
			ret = ox_error_set(err, OX_ERR_INVALID,
			                   "mkcalendar holds DAV:set/DAV:prop");
			break;
		}
		for (xmlNode *p = dav_xml_element(prop->children); ret == 0 && p != NULL;
		     p = dav_xml_element(p->next))
			ret = mkcalendar_prop(p, mk_r, cond_r, err);
	}
	xmlFreeDoc(doc);
	if (ret < 0)
		dav_caldav_mkcalendar_clear(mk_r);
	return ret;
}

static void prop_name_clear(gpointer p)
{
	struct dav_prop_name *pn = p;
	g_free(pn->ns);
	g_free(pn->name);
}

/* --- CALDAV:calendar-data (RFC 4791 9.6) --- */

/* Bounds on a comp/prop selection, as on filters. */
#define SELECT_NODES_MAX 256
#define SELECT_DEPTH_MAX 4 /* VCALENDAR, VEVENT, VALARM, and one more */

/* The start and end attributes that expand, limit-recurrence-set and
 * limit-freebusy-set require: UTC date-times (RFC 4791 9.6.5-9.6.7),
 * start before end. */
static int view_range(xmlNode *n, int64_t *start_r, int64_t *end_r, struct ox_error *err)
{
	char *start = dav_xml_attr(n, "start"), *end = dav_xml_attr(n, "end");
	bool ok = start != NULL && end != NULL && dav_caldav_parse_utc(start, start_r) &&
	          dav_caldav_parse_utc(end, end_r) && *start_r < *end_r;
	g_free(start);
	g_free(end);
	if (!ok)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "CALDAV:%s needs start and end as UTC date-times "
		                    "(20060104T000000Z), start before end",
		                    (const char *)n->name);
	return 0;
}

/* A CalDAV element's name attribute, which comp and prop require. */
static int select_name(xmlNode *n, char **name_r, int *nodes, struct ox_error *err)
{
	*name_r = dav_xml_attr(n, "name");
	if (*name_r == NULL || **name_r == '\0' || strlen(*name_r) > 255)
		return ox_error_set(err, OX_ERR_INVALID, "CALDAV:%s needs a name",
		                    (const char *)n->name);
	if (++*nodes > SELECT_NODES_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "calendar-data names at most %d parts",
		                    SELECT_NODES_MAX);
	return 0;
}

static int select_prop(xmlNode *n, GArray *props, int *nodes, struct ox_error *err)
{
	struct pim_select_prop sp = {0};
	int r = select_name(n, &sp.name, nodes, err);
	char *novalue = dav_xml_attr(n, "novalue");
	if (r == 0 && novalue != NULL && strcmp(novalue, "yes") != 0 && strcmp(novalue, "no") != 0)
		r = ox_error_set(err, OX_ERR_INVALID, "novalue is yes or no");
	sp.novalue = novalue != NULL && strcmp(novalue, "yes") == 0;
	g_free(novalue);
	/* Appended even on failure, so that clearing the selection frees it. */
	g_array_append_val(props, sp);
	return r;
}

static int select_comp(xmlNode *n, struct pim_select *sel, int depth, int *nodes,
                       struct ox_error *err);

/* One child of a CALDAV:comp: allprop, prop, allcomp or comp (9.6.1). */
static int select_child(xmlNode *c, struct pim_select *sel, GArray *props, GArray *comps, int depth,
                        int *nodes, struct ox_error *err)
{
	if (dav_xml_is(c, CALDAV_NS, "allprop") && props->len == 0) {
		sel->all_props = true;
		return 0;
	}
	if (dav_xml_is(c, CALDAV_NS, "prop") && !sel->all_props)
		return select_prop(c, props, nodes, err);
	if (dav_xml_is(c, CALDAV_NS, "allcomp") && comps->len == 0) {
		sel->all_comps = true;
		return 0;
	}
	if (dav_xml_is(c, CALDAV_NS, "comp") && !sel->all_comps) {
		if (depth + 1 >= SELECT_DEPTH_MAX)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "CALDAV:comp nests %d deep at most", SELECT_DEPTH_MAX);
		struct pim_select child = {0};
		g_array_append_val(comps, child);
		return select_comp(c, &g_array_index(comps, struct pim_select, comps->len - 1),
		                   depth + 1, nodes, err);
	}
	return ox_error_set(err, OX_ERR_INVALID,
	                    "CALDAV:comp holds allprop or prop elements, then allcomp or comp "
	                    "elements; %s is not one of them here",
	                    (const char *)c->name);
}

static int select_comp(xmlNode *n, struct pim_select *sel, int depth, int *nodes,
                       struct ox_error *err)
{
	int r = select_name(n, &sel->name, nodes, err);
	GArray *props = g_array_new(FALSE, TRUE, sizeof(struct pim_select_prop));
	GArray *comps = g_array_new(FALSE, TRUE, sizeof(struct pim_select));
	for (xmlNode *c = dav_xml_element(n->children); r == 0 && c != NULL;
	     c = dav_xml_element(c->next)) {
		/* Elements of other namespaces are extensions: ignored (RFC 4918 17). */
		if (c->ns != NULL && strcmp((const char *)c->ns->href, CALDAV_NS) == 0)
			r = select_child(c, sel, props, comps, depth, nodes, err);
	}
	/* RFC 4791 example 7.8.1 returns a whole VTIMEZONE for an empty comp:
	 * naming none of a kind is asking for all of them. */
	sel->all_props = sel->all_props || props->len == 0;
	sel->all_comps = sel->all_comps || comps->len == 0;
	sel->nprops = props->len;
	sel->props = (struct pim_select_prop *)(void *)g_array_free(props, FALSE);
	sel->ncomps = comps->len;
	sel->comps = (struct pim_select *)(void *)g_array_free(comps, FALSE);
	return r;
}

static int data_comp(xmlNode *c, struct pim_view *v, struct ox_error *err)
{
	if (v->select != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "calendar-data holds one CALDAV:comp");
	int nodes = 0;
	v->select = g_new0(struct pim_select, 1);
	if (select_comp(c, v->select, 0, &nodes, err) < 0)
		return -1;
	if (g_ascii_strcasecmp(v->select->name, "VCALENDAR") != 0)
		return ox_error_set(err, OX_ERR_INVALID, "calendar-data's comp is VCALENDAR");
	return 0;
}

/* One child of calendar-data: comp, then expand or limit-recurrence-set,
 * then limit-freebusy-set. */
static int data_child(xmlNode *c, struct pim_view *v, struct ox_error *err)
{
	if (dav_xml_is(c, CALDAV_NS, "comp"))
		return data_comp(c, v, err);
	bool expand = dav_xml_is(c, CALDAV_NS, "expand");
	if (expand || dav_xml_is(c, CALDAV_NS, "limit-recurrence-set")) {
		if (v->recurrence != PIM_RECURRENCE_STORED)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "calendar-data holds one of expand and "
			                    "limit-recurrence-set");
		v->recurrence = expand ? PIM_RECURRENCE_EXPAND : PIM_RECURRENCE_LIMIT;
		return view_range(c, &v->start, &v->end, err);
	}
	if (dav_xml_is(c, CALDAV_NS, "limit-freebusy-set") && !v->limit_freebusy) {
		v->limit_freebusy = true;
		return view_range(c, &v->fb_start, &v->fb_end, err);
	}
	return ox_error_set(err, OX_ERR_INVALID, "unexpected element %s in calendar-data",
	                    (const char *)c->name);
}

/* RFC 4791 9.6: only iCalendar 2.0 is served (CALDAV:supported-calendar-data). */
static int calendar_data(xmlNode *n, struct pim_view *v, const char **cond_r, struct ox_error *err)
{
	char *type = dav_xml_attr(n, "content-type"), *version = dav_xml_attr(n, "version");
	bool ok = (type == NULL || g_ascii_strcasecmp(type, "text/calendar") == 0) &&
	          (version == NULL || strcmp(version, "2.0") == 0);
	g_free(type);
	g_free(version);
	if (!ok) {
		*cond_r = "supported-calendar-data";
		return ox_error_set(err, OX_ERR_INVALID, "calendar data is text/calendar 2.0");
	}
	for (xmlNode *c = dav_xml_element(n->children); c != NULL; c = dav_xml_element(c->next)) {
		if (c->ns != NULL && strcmp((const char *)c->ns->href, CALDAV_NS) == 0 &&
		    data_child(c, v, err) < 0)
			return -1;
	}
	return 0;
}

static int read_props(xmlNode *prop, struct dav_caldav_report *r, const char **cond_r,
                      struct ox_error *err)
{
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		const char *ns = c->ns != NULL ? (const char *)c->ns->href : "";
		struct dav_prop_name pn = {g_strdup(ns), g_strdup((const char *)c->name)};
		g_array_append_val(r->pf.props, pn);
		if (dav_xml_is(c, CALDAV_NS, "calendar-data") &&
		    calendar_data(c, &r->view, cond_r, err) < 0)
			return -1;
	}
	return 0;
}

/* Bounds on what one filter may ask, so its cost per object is small. */
#define FILTER_NODES_MAX 64
#define FILTER_DEPTH_MAX 3 /* VCALENDAR, VEVENT, VALARM */
#define TEXT_MATCH_MAX 1024

struct fparse {
	int nodes;
	const char **cond_r;
	struct ox_error *err;
};

static int refuse(struct fparse *fp, const char *cond, const char *message)
{
	*fp->cond_r = cond;
	return ox_error_set(fp->err, OX_ERR_INVALID, "%s", message);
}

static int count_node(struct fparse *fp)
{
	if (++fp->nodes > FILTER_NODES_MAX)
		return refuse(fp, "supported-filter", "a filter has at most 64 elements");
	return 0;
}

/* start and/or end in UTC, start before end. */
static int parse_range(xmlNode *tr, int64_t *start_r, int64_t *end_r, const char **cond_r,
                       struct ox_error *err)
{
	char *start = dav_xml_attr(tr, "start"), *end = dav_xml_attr(tr, "end");
	*start_r = INT64_MIN;
	*end_r = INT64_MAX;
	bool ok = (start != NULL || end != NULL) &&
	          (start == NULL || dav_caldav_parse_utc(start, start_r)) &&
	          (end == NULL || dav_caldav_parse_utc(end, end_r)) && *start_r < *end_r;
	g_free(start);
	g_free(end);
	if (!ok) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a time-range needs start or end in UTC, start before end");
	}
	return 0;
}

/* RFC 4791 9.7.5; an unknown collation is CALDAV:supported-collation. */
static int text_match(xmlNode *n, struct pim_text_match **m_r, struct fparse *fp)
{
	if (*m_r != NULL)
		return refuse(fp, "valid-filter", "one text-match per filter");
	char *collation = dav_xml_attr(n, "collation"),
	     *negate = dav_xml_attr(n, "negate-condition");
	xmlChar *text = xmlNodeGetContent(n);
	struct pim_text_match *m = g_new0(struct pim_text_match, 1);
	*m_r = m;
	m->text = g_strdup(text != NULL ? (const char *)text : "");
	xmlFree(text);
	int r = 0;
	if (collation == NULL || strcmp(collation, "i;ascii-casemap") == 0)
		m->collation = PIM_COLLATION_ASCII_CASEMAP;
	else if (strcmp(collation, "i;octet") == 0)
		m->collation = PIM_COLLATION_OCTET;
	else
		r = refuse(fp, "supported-collation", "collations are i;ascii-casemap and i;octet");
	if (r == 0 && negate != NULL && strcmp(negate, "yes") != 0 && strcmp(negate, "no") != 0)
		r = refuse(fp, "valid-filter", "negate-condition is yes or no");
	m->negate = negate != NULL && strcmp(negate, "yes") == 0;
	if (r == 0 && strlen(m->text) > TEXT_MATCH_MAX)
		r = refuse(fp, "valid-filter", "a text-match is at most 1024 bytes");
	g_free(collation);
	g_free(negate);
	return r;
}

/* The name attribute, which every filter needs. */
static int filter_name(xmlNode *n, char **name_r, struct fparse *fp)
{
	*name_r = dav_xml_attr(n, "name");
	if (*name_r == NULL || **name_r == '\0' || strlen(*name_r) > 255)
		return refuse(fp, "valid-filter", "a filter needs a name");
	return count_node(fp);
}

/* is-not-defined stands alone in its filter. */
static int not_defined(xmlNode *c, bool *flag, bool others, struct fparse *fp)
{
	if (*flag || others || dav_xml_element(c->next) != NULL)
		return refuse(fp, "valid-filter", "is-not-defined stands alone");
	*flag = true;
	return 0;
}

static int param_filter(xmlNode *n, struct pim_param_filter *pf, struct fparse *fp)
{
	if (filter_name(n, &pf->name, fp) < 0)
		return -1;
	for (xmlNode *c = dav_xml_element(n->children); c != NULL; c = dav_xml_element(c->next)) {
		int r;
		if (dav_xml_is(c, CALDAV_NS, "is-not-defined"))
			r = not_defined(c, &pf->not_defined, pf->match != NULL, fp);
		else if (dav_xml_is(c, CALDAV_NS, "text-match") && !pf->not_defined)
			r = text_match(c, &pf->match, fp);
		else
			r = refuse(fp, "valid-filter",
			           "a param-filter holds is-not-defined or text-match");
		if (r < 0)
			return -1;
	}
	return 0;
}

static int prop_filter(xmlNode *n, struct pim_prop_filter *pf, struct fparse *fp)
{
	if (filter_name(n, &pf->name, fp) < 0)
		return -1;
	GArray *params = g_array_new(FALSE, TRUE, sizeof(struct pim_param_filter));
	int r = 0;
	for (xmlNode *c = dav_xml_element(n->children); r == 0 && c != NULL;
	     c = dav_xml_element(c->next)) {
		bool others = pf->match != NULL || pf->has_range || params->len > 0;
		if (dav_xml_is(c, CALDAV_NS, "is-not-defined")) {
			r = not_defined(c, &pf->not_defined, others, fp);
		} else if (dav_xml_is(c, CALDAV_NS, "text-match")) {
			r = text_match(c, &pf->match, fp);
		} else if (dav_xml_is(c, CALDAV_NS, "time-range") && !pf->has_range) {
			pf->has_range = true;
			r = parse_range(c, &pf->start, &pf->end, fp->cond_r, fp->err);
		} else if (dav_xml_is(c, CALDAV_NS, "param-filter")) {
			struct pim_param_filter p = {0};
			g_array_append_val(params, p);
			r = param_filter(
				c, &g_array_index(params, struct pim_param_filter, params->len - 1),
				fp);
		} else {
			r = refuse(fp, "valid-filter", "unexpected element in a prop-filter");
		}
	}
	pf->nparams = params->len;
	pf->params = (struct pim_param_filter *)(void *)g_array_free(params, FALSE);
	return r;
}

static int comp_filter(xmlNode *n, struct pim_comp_filter *cf, int depth, struct fparse *fp);

/* Appends a child filter of cf (a prop-filter or comp-filter). */
static int comp_child(xmlNode *c, struct pim_comp_filter *cf, GArray *props, GArray *comps,
                      int depth, struct fparse *fp)
{
	if (dav_xml_is(c, CALDAV_NS, "prop-filter")) {
		struct pim_prop_filter p = {0};
		g_array_append_val(props, p);
		return prop_filter(c, &g_array_index(props, struct pim_prop_filter, props->len - 1),
		                   fp);
	}
	if (dav_xml_is(c, CALDAV_NS, "comp-filter")) {
		if (depth + 1 >= FILTER_DEPTH_MAX)
			return refuse(fp, "supported-filter",
			              "comp-filters nest three deep at most");
		struct pim_comp_filter f = {0};
		g_array_append_val(comps, f);
		return comp_filter(c, &g_array_index(comps, struct pim_comp_filter, comps->len - 1),
		                   depth + 1, fp);
	}
	if (dav_xml_is(c, CALDAV_NS, "time-range") && !cf->has_range) {
		/* Instances are what the index knows: those of events and tasks. */
		bool instances = depth == 1 && (g_ascii_strcasecmp(cf->name, "VEVENT") == 0 ||
		                                g_ascii_strcasecmp(cf->name, "VTODO") == 0);
		if (!instances)
			return refuse(fp, "supported-filter",
			              "a time-range applies to VEVENT and VTODO components only");
		cf->has_range = true;
		return parse_range(c, &cf->start, &cf->end, fp->cond_r, fp->err);
	}
	return refuse(fp, "valid-filter", "unexpected element in a comp-filter");
}

static int comp_filter(xmlNode *n, struct pim_comp_filter *cf, int depth, struct fparse *fp)
{
	if (filter_name(n, &cf->name, fp) < 0)
		return -1;
	GArray *props = g_array_new(FALSE, TRUE, sizeof(struct pim_prop_filter));
	GArray *comps = g_array_new(FALSE, TRUE, sizeof(struct pim_comp_filter));
	int r = 0;
	for (xmlNode *c = dav_xml_element(n->children); r == 0 && c != NULL;
	     c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, CALDAV_NS, "is-not-defined"))
			r = not_defined(c, &cf->not_defined,
			                cf->has_range || props->len > 0 || comps->len > 0, fp);
		else
			r = comp_child(c, cf, props, comps, depth, fp);
	}
	cf->nprops = props->len;
	cf->props = (struct pim_prop_filter *)(void *)g_array_free(props, FALSE);
	cf->ncomps = comps->len;
	cf->comps = (struct pim_comp_filter *)(void *)g_array_free(comps, FALSE);
	return r;
}

/* What the index can narrow: a single event or task comp-filter and its
 * time range. */
static void narrowing(struct dav_caldav_report *r)
{
	const struct pim_comp_filter *f = r->filter;
	if (f->ncomps != 1 || f->comps[0].not_defined)
		return;
	r->components = component_named(f->comps[0].name);
	if (r->components != 0 && f->comps[0].has_range) {
		r->has_range = true;
		r->start = f->comps[0].start;
		r->end = f->comps[0].end;
	}
}

static int filter(xmlNode *f, struct dav_caldav_report *r, const char **cond_r,
                  struct ox_error *err)
{
	xmlNode *cal = dav_xml_element(f->children);
	char *name = cal != NULL ? dav_xml_attr(cal, "name") : NULL;
	bool ok = dav_xml_is(cal, CALDAV_NS, "comp-filter") && name != NULL &&
	          strcmp(name, "VCALENDAR") == 0 && dav_xml_element(cal->next) == NULL;
	g_free(name);
	if (!ok) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a filter holds one comp-filter named VCALENDAR");
	}
	struct fparse fp = {0, cond_r, err};
	r->filter = g_new0(struct pim_comp_filter, 1);
	if (comp_filter(cal, r->filter, 0, &fp) < 0)
		return -1;
	if (r->filter->not_defined)
		return refuse(&fp, "valid-filter", "every object has a VCALENDAR");
	narrowing(r);
	return 0;
}

static int report_body(xmlNode *root, struct dav_caldav_report *r, const char **cond_r,
                       struct ox_error *err)
{
	bool have_filter = false;
	for (xmlNode *c = dav_xml_element(root->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		if (dav_xml_is(c, DAV_NS, "prop")) {
			r->pf.kind = DAV_PROPFIND_PROP;
			if (read_props(c, r, cond_r, err) < 0)
				return -1;
		} else if (dav_xml_is(c, DAV_NS, "allprop")) {
			r->pf.kind = DAV_PROPFIND_ALLPROP;
		} else if (dav_xml_is(c, DAV_NS, "propname")) {
			r->pf.kind = DAV_PROPFIND_PROPNAME;
		} else if (r->kind == CALDAV_REPORT_MULTIGET && dav_xml_is(c, DAV_NS, "href")) {
			if (r->hrefs->len >= CALDAV_HREFS_MAX)
				return ox_error_set(err, OX_ERR_LIMIT, "at most %d hrefs",
				                    CALDAV_HREFS_MAX);
			xmlChar *text = xmlNodeGetContent(c);
			g_ptr_array_add(r->hrefs, g_strstrip(g_strdup((const char *)text)));
			xmlFree(text);
		} else if (r->kind == CALDAV_REPORT_QUERY && dav_xml_is(c, CALDAV_NS, "filter") &&
		           !have_filter) {
			have_filter = true;
			if (filter(c, r, cond_r, err) < 0)
				return -1;
		} else if (r->kind == CALDAV_REPORT_FREEBUSY &&
		           dav_xml_is(c, CALDAV_NS, "time-range") && !r->has_range) {
			r->has_range = true;
			if (parse_range(c, &r->start, &r->end, cond_r, err) < 0)
				return -1;
		} else if (r->kind == CALDAV_REPORT_QUERY && dav_xml_is(c, CALDAV_NS, "timezone") &&
		           r->time_zone == NULL) {
			/* RFC 4791 9.8: reads floating times instead of the
			 * calendar's zone; the service checks the text. */
			xmlChar *text = xmlNodeGetContent(c);
			r->time_zone = g_strdup(text != NULL ? (const char *)text : "");
			xmlFree(text);
		} else {
			return ox_error_set(err, OX_ERR_INVALID, "unexpected element %s",
			                    (const char *)c->name);
		}
	}
	/* Both ends, so that the answer is bounded. */
	if (r->kind == CALDAV_REPORT_FREEBUSY &&
	    (!r->has_range || r->start == INT64_MIN || r->end == INT64_MAX)) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID,
		                    "free-busy-query needs a time-range with start and end");
	}
	if (r->kind == CALDAV_REPORT_QUERY && !have_filter) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID, "calendar-query needs a filter");
	}
	return 0;
}

int dav_caldav_parse_report(const char *body, size_t len, struct dav_caldav_report *r,
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
	if (dav_xml_is(root, CALDAV_NS, "calendar-query")) {
		r->kind = CALDAV_REPORT_QUERY;
		ret = report_body(root, r, cond_r, err);
	} else if (dav_xml_is(root, CALDAV_NS, "free-busy-query")) {
		r->kind = CALDAV_REPORT_FREEBUSY;
		ret = report_body(root, r, cond_r, err);
	} else if (dav_xml_is(root, CALDAV_NS, "calendar-multiget")) {
		r->kind = CALDAV_REPORT_MULTIGET;
		ret = report_body(root, r, cond_r, err);
	}
	xmlFreeDoc(doc);
	return ret;
}

void dav_caldav_report_clear(struct dav_caldav_report *r)
{
	dav_propfind_clear(&r->pf);
	if (r->hrefs != NULL)
		g_ptr_array_unref(r->hrefs);
	r->hrefs = NULL;
	pim_comp_filter_free(&r->filter);
	pim_view_clear(&r->view);
	g_free(r->time_zone);
	r->time_zone = NULL;
}
