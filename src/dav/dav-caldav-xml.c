/* CalDAV bodies: MKCALENDAR, calendar-query and calendar-multiget. The
 * filters understood are comp-filter VCALENDAR holding at most one
 * comp-filter VEVENT or VTODO with at most one time-range; anything else
 * in a filter is refused (CALDAV:supported-filter) rather than ignored, so
 * a client never gets more than it asked for without knowing. */
#include "dav/dav-caldav.h"
#include "pim/pim.h"

#include <libxml/tree.h>
#include <string.h>

static bool is_ns(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *element(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static char *attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *copy = v != NULL ? g_strdup((const char *)v) : NULL;
	xmlFree(v);
	return copy;
}

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
	memset(mk, 0, sizeof(*mk));
}

static int mkcalendar_prop(xmlNode *p, struct dav_caldav_mkcalendar *mk, const char **cond_r,
                           struct ox_error *err)
{
	if (is_ns(p, DAV_NS, "displayname")) {
		xmlChar *text = xmlNodeGetContent(p);
		g_free(mk->display_name);
		mk->display_name = g_strdup(text != NULL ? (const char *)text : "");
		xmlFree(text);
	} else if (is_ns(p, CALDAV_NS, "supported-calendar-component-set")) {
		for (xmlNode *c = element(p->children); c != NULL; c = element(c->next)) {
			char *name = is_ns(c, CALDAV_NS, "comp") ? attr(c, "name") : NULL;
			unsigned bit = component_named(name);
			g_free(name);
			if (bit == 0) {
				*cond_r = "supported-calendar-component";
				return ox_error_set(err, OX_ERR_INVALID,
				                    "calendars take VEVENT and VTODO components");
			}
			mk->components |= bit;
		}
	}
	/* Other properties (description, colour, time zone) are not kept yet. */
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
	int ret = is_ns(root, CALDAV_NS, "mkcalendar")
	                  ? 0
	                  : ox_error_set(err, OX_ERR_INVALID, "expected CALDAV:mkcalendar");
	for (xmlNode *set = ret == 0 ? element(root->children) : NULL; ret == 0 && set != NULL;
	     set = element(set->next)) {
		xmlNode *prop = element(set->children);
		if (!is_ns(set, DAV_NS, "set") || !is_ns(prop, DAV_NS, "prop")) {
			ret = ox_error_set(err, OX_ERR_INVALID,
			                   "mkcalendar holds DAV:set/DAV:prop");
			break;
		}
		for (xmlNode *p = element(prop->children); ret == 0 && p != NULL;
		     p = element(p->next))
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

static void read_props(xmlNode *prop, struct dav_propfind *pf)
{
	for (xmlNode *c = element(prop->children); c != NULL; c = element(c->next)) {
		const char *ns = c->ns != NULL ? (const char *)c->ns->href : "";
		struct dav_prop_name pn = {g_strdup(ns), g_strdup((const char *)c->name)};
		g_array_append_val(pf->props, pn);
	}
}

static int unsupported(const char **cond_r, struct ox_error *err, const char *what)
{
	*cond_r = "supported-filter";
	return ox_error_set(err, OX_ERR_INVALID, "%s is not supported in filters yet", what);
}

static int time_range(xmlNode *tr, struct dav_caldav_report *r, const char **cond_r,
                      struct ox_error *err)
{
	char *start = attr(tr, "start"), *end = attr(tr, "end");
	r->has_range = true;
	r->start = INT64_MIN;
	r->end = INT64_MAX;
	bool ok = (start != NULL || end != NULL) &&
	          (start == NULL || dav_caldav_parse_utc(start, &r->start)) &&
	          (end == NULL || dav_caldav_parse_utc(end, &r->end)) && r->start < r->end;
	g_free(start);
	g_free(end);
	if (!ok) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a time-range needs start or end in UTC, start before end");
	}
	return 0;
}

/* comp-filter VEVENT or VTODO: an optional time-range, nothing else. */
static int inner_filter(xmlNode *cf, struct dav_caldav_report *r, const char **cond_r,
                        struct ox_error *err)
{
	char *name = attr(cf, "name");
	r->components = component_named(name);
	g_free(name);
	if (r->components == 0)
		return unsupported(cond_r, err, "a comp-filter other than VEVENT or VTODO");
	for (xmlNode *c = element(cf->children); c != NULL; c = element(c->next)) {
		if (is_ns(c, CALDAV_NS, "time-range") && !r->has_range) {
			if (time_range(c, r, cond_r, err) < 0)
				return -1;
		} else {
			return unsupported(cond_r, err, (const char *)c->name);
		}
	}
	return 0;
}

static int filter(xmlNode *f, struct dav_caldav_report *r, const char **cond_r,
                  struct ox_error *err)
{
	xmlNode *cal = element(f->children);
	char *name = cal != NULL ? attr(cal, "name") : NULL;
	bool ok = is_ns(cal, CALDAV_NS, "comp-filter") && name != NULL &&
	          strcmp(name, "VCALENDAR") == 0 && element(cal->next) == NULL;
	g_free(name);
	if (!ok) {
		*cond_r = "valid-filter";
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a filter holds one comp-filter named VCALENDAR");
	}
	xmlNode *inner = element(cal->children);
	if (inner == NULL)
		return 0;
	if (!is_ns(inner, CALDAV_NS, "comp-filter") || element(inner->next) != NULL)
		return unsupported(cond_r, err, (const char *)inner->name);
	return inner_filter(inner, r, cond_r, err);
}

static int report_body(xmlNode *root, struct dav_caldav_report *r, const char **cond_r,
                       struct ox_error *err)
{
	bool have_filter = false;
	for (xmlNode *c = element(root->children); c != NULL; c = element(c->next)) {
		if (is_ns(c, DAV_NS, "prop")) {
			r->pf.kind = DAV_PROPFIND_PROP;
			read_props(c, &r->pf);
		} else if (is_ns(c, DAV_NS, "allprop")) {
			r->pf.kind = DAV_PROPFIND_ALLPROP;
		} else if (is_ns(c, DAV_NS, "propname")) {
			r->pf.kind = DAV_PROPFIND_PROPNAME;
		} else if (r->kind == CALDAV_REPORT_MULTIGET && is_ns(c, DAV_NS, "href")) {
			if (r->hrefs->len >= CALDAV_HREFS_MAX)
				return ox_error_set(err, OX_ERR_LIMIT, "at most %d hrefs",
				                    CALDAV_HREFS_MAX);
			xmlChar *text = xmlNodeGetContent(c);
			g_ptr_array_add(r->hrefs, g_strstrip(g_strdup((const char *)text)));
			xmlFree(text);
		} else if (r->kind == CALDAV_REPORT_QUERY && is_ns(c, CALDAV_NS, "filter") &&
		           !have_filter) {
			have_filter = true;
			if (filter(c, r, cond_r, err) < 0)
				return -1;
		} else if (r->kind == CALDAV_REPORT_QUERY && is_ns(c, CALDAV_NS, "timezone")) {
			continue; /* floating times are read as UTC for now */
		} else {
			return ox_error_set(err, OX_ERR_INVALID, "unexpected element %s",
			                    (const char *)c->name);
		}
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
	if (is_ns(root, CALDAV_NS, "calendar-query")) {
		r->kind = CALDAV_REPORT_QUERY;
		ret = report_body(root, r, cond_r, err);
	} else if (is_ns(root, CALDAV_NS, "calendar-multiget")) {
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
}
