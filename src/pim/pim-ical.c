/* iCalendar on libical: what makes one valid calendar object resource,
 * and the instances of its (possibly recurring) components in UTC.
 *
 * Times: a DATE is midnight UTC; a floating time, or one whose TZID names
 * a zone neither the object nor the system defines, is read as UTC (the
 * calendar has no time zone of its own yet). Expansion is bounded: the
 * index expands at most PIM_INDEX_INSTANCES instances and leaves the end
 * open beyond that; a query stops after PIM_MATCH_INSTANCES and then
 * counts the object as a match, so hostile rules cost a bounded time and
 * never hide an object. */
#include "pim/pim-private.h"

#include "core/error.h"

#include <glib.h>
#include <libical/ical.h>
#include <string.h>

#define PIM_INDEX_INSTANCES 5000
#define PIM_MATCH_INSTANCES 100000
#define PIM_OVERRIDES_MAX 2000
#define PIM_UID_MAX 1024

static void ical_init(void)
{
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		/* libical's default aborts the process on a malformed value. */
		icalerror_set_errors_are_fatal(0);
		g_once_init_leave(&done, 1);
	}
}

void pim_ical_index_clear(struct pim_ical_index *idx)
{
	g_free(idx->uid);
	memset(idx, 0, sizeof(*idx));
}

static int64_t utc_of(struct icaltimetype t)
{
	if (t.is_date) {
		t.hour = t.minute = t.second = 0;
		return (int64_t)icaltime_as_timet(t);
	}
	if (t.zone == NULL)
		return (int64_t)icaltime_as_timet(t);
	return (int64_t)icaltime_as_timet_with_zone(t, t.zone);
}

static enum pim_component component_of(icalcomponent *c)
{
	switch (icalcomponent_isa(c)) {
	case ICAL_VEVENT_COMPONENT:
		return PIM_COMP_VEVENT;
	case ICAL_VTODO_COMPONENT:
		return PIM_COMP_VTODO;
	default:
		return 0;
	}
}

/* --- instances --- */

/* One instance of component c (the master or an override). */
typedef bool instance_fn(icalcomponent *c, int64_t start, int64_t end, void *ctx);

enum walk_result {
	WALK_DONE,    /* every instance seen */
	WALK_STOPPED, /* fn said stop, or instances reached `until` */
	WALK_OPEN,    /* more instances than the budget, or no end */
};

/* One component's instance length in seconds, and whether it has dates
 * at all (a VTODO may have none). */
static bool base_instance(icalcomponent *c, int64_t *start_r, int64_t *length_r)
{
	struct icaltimetype start = icalcomponent_get_dtstart(c);
	bool todo = icalcomponent_isa(c) == ICAL_VTODO_COMPONENT;
	if (icaltime_is_null_time(start)) {
		struct icaltimetype due = todo ? icalcomponent_get_due(c) : icaltime_null_time();
		if (icaltime_is_null_time(due))
			return false;
		*start_r = utc_of(due);
		*length_r = 0;
		return true;
	}
	*start_r = utc_of(start);
	struct icaltimetype end = todo ? icalcomponent_get_due(c) : icalcomponent_get_dtend(c);
	if (!icaltime_is_null_time(end))
		*length_r = MAX(0, utc_of(end) - *start_r);
	else if (icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY) != NULL)
		*length_r = MAX(0, icaldurationtype_as_int(icalcomponent_get_duration(c)));
	else
		*length_r = start.is_date && !todo ? 86400 : 0;
	return true;
}

struct excluded {
	int64_t *times;
	size_t n;
};

static bool is_excluded(const struct excluded *ex, int64_t t)
{
	for (size_t i = 0; i < ex->n; i++) {
		if (ex->times[i] == t)
			return true;
	}
	return false;
}

static void exdates(icalcomponent *c, GArray *out)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	     p != NULL && out->len < PIM_OVERRIDES_MAX;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		int64_t t = utc_of(icalproperty_get_datetime_with_component(p, c));
		g_array_append_val(out, t);
	}
}

static bool rrule_is_infinite(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	if (p == NULL)
		return false;
	struct icalrecurrencetype r = icalproperty_get_rrule(p);
	return r.count == 0 && icaltime_is_null_time(r.until);
}

/* The master's instances: DTSTART, the first RRULE's and the RDATEs, less
 * EXDATEs and overridden ones, until an instance starts at or after
 * `until` or `budget` instances went by. */
static enum walk_result walk_master(icalcomponent *c, const struct excluded *ex, int64_t until,
                                    size_t budget, instance_fn *fn, void *ctx)
{
	int64_t first, length;
	if (!base_instance(c, &first, &length))
		return fn(c, INT64_MIN, INT64_MAX, ctx) ? WALK_DONE : WALK_STOPPED;
	struct icaltimetype dtstart = icalcomponent_get_dtstart(c);
	enum walk_result res = WALK_DONE;
	bool rule = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) != NULL &&
	            !icaltime_is_null_time(dtstart);
	if (!is_excluded(ex, first) && !fn(c, first, first + length, ctx))
		return WALK_STOPPED;
	/* The index cannot hold an endless rule's end: say so at once. */
	if (rule && until == INT64_MAX && rrule_is_infinite(c))
		return WALK_OPEN;
	if (rule) {
		struct icalrecurrencetype r = icalproperty_get_rrule(
			icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY));
		icalrecur_iterator *it = icalrecur_iterator_new(r, dtstart);
		size_t seen = 0;
		while (it != NULL && res == WALK_DONE) {
			struct icaltimetype t = icalrecur_iterator_next(it);
			if (icaltime_is_null_time(t))
				break;
			t.zone = dtstart.zone;
			int64_t s = utc_of(t);
			if (++seen > budget)
				res = WALK_OPEN;
			else if (s >= until)
				res = WALK_STOPPED;
			else if (s != first && !is_excluded(ex, s) && !fn(c, s, s + length, ctx))
				res = WALK_STOPPED;
		}
		if (it != NULL)
			icalrecur_iterator_free(it);
		else
			res = WALK_OPEN; /* a rule libical cannot iterate: assume it goes on */
	}
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
	     p != NULL && res != WALK_STOPPED;
	     p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
		int64_t s, e;
		if (!icalperiodtype_is_null_period(rd.period)) {
			s = utc_of(rd.period.start);
			e = icaltime_is_null_time(rd.period.end)
			            ? s + icaldurationtype_as_int(rd.period.duration)
			            : utc_of(rd.period.end);
		} else {
			if (icaltime_is_null_time(rd.time))
				continue;
			rd.time.zone = rd.time.zone != NULL ? rd.time.zone : dtstart.zone;
			s = utc_of(rd.time);
			e = s + length;
		}
		if (!is_excluded(ex, s) && s < until && !fn(c, s, e, ctx))
			res = WALK_STOPPED;
	}
	return res;
}

/* Every instance of the object's components of `components` (0: any). */
static enum walk_result walk(icalcomponent *vcal, unsigned components, int64_t until, size_t budget,
                             instance_fn *fn, void *ctx)
{
	GArray *ex = g_array_new(FALSE, FALSE, sizeof(int64_t));
	icalcomponent *master = NULL;
	enum walk_result res = WALK_DONE;
	for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     c != NULL && res == WALK_DONE;
	     c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		enum pim_component kind = component_of(c);
		if (kind == 0 || (components != 0 && (components & kind) == 0))
			continue;
		struct icaltimetype rid = icalcomponent_get_recurrenceid(c);
		if (icaltime_is_null_time(rid)) {
			master = c;
			continue;
		}
		int64_t ridt = utc_of(rid);
		if (ex->len < PIM_OVERRIDES_MAX)
			g_array_append_val(ex, ridt);
		int64_t s, length;
		if (!base_instance(c, &s, &length))
			res = fn(c, INT64_MIN, INT64_MAX, ctx) ? WALK_DONE : WALK_STOPPED;
		else if (!fn(c, s, s + length, ctx))
			res = WALK_STOPPED;
	}
	if (master != NULL && res == WALK_DONE) {
		exdates(master, ex);
		struct excluded set = {(int64_t *)(void *)ex->data, ex->len};
		res = walk_master(master, &set, until, budget, fn, ctx);
	}
	g_array_free(ex, TRUE);
	return res;
}

/* --- validation and index --- */

static icalcomponent *parse(const char *data, size_t len)
{
	ical_init();
	char *text = g_strndup(data, len);
	icalcomponent *root = icalparser_parse_string(text);
	g_free(text);
	return root;
}

/* Properties the server reads: one that libical had to drop would
 * silently change what the object means. */
static const char *const key_properties[] = {
	"DTSTART", "DTEND", "DUE", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "UID",
};

static bool fatal_error(icalproperty *p)
{
	const char *text = icalproperty_get_xlicerror(p);
	icalparameter *type = icalproperty_get_first_parameter(p, ICAL_XLICERRORTYPE_PARAMETER);
	icalparameter_xlicerrortype kind =
		type != NULL ? icalparameter_get_xlicerrortype(type) : ICAL_XLICERRORTYPE_NONE;
	if (kind == ICAL_XLICERRORTYPE_COMPONENTPARSEERROR ||
	    kind == ICAL_XLICERRORTYPE_PROPERTYPARSEERROR)
		return true;
	for (size_t i = 0; text != NULL && i < G_N_ELEMENTS(key_properties); i++) {
		if (strstr(text, key_properties[i]) != NULL)
			return true;
	}
	/* Others (an empty LOCATION, an unknown parameter value) lose only
	 * text the server does not interpret; the stored object keeps it. */
	return false;
}

/* libical leaves an X-LIC-ERROR where it could not read something. */
static const char *parse_error(icalcomponent *c)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
		if (fatal_error(p))
			return icalproperty_get_xlicerror(p);
	}
	for (icalcomponent *sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     sub != NULL; sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		const char *e = parse_error(sub);
		if (e != NULL)
			return e;
	}
	return NULL;
}

static int reject(enum pim_reject *reject_r, enum pim_reject why, struct ox_error *err,
                  const char *message)
{
	*reject_r = why;
	return ox_error_set(err, OX_ERR_INVALID, "%s", message);
}

/* The components of one object: one type, one UID, at most one master. */
static int check_components(icalcomponent *vcal, struct pim_ical_index *idx,
                            enum pim_reject *reject_r, struct ox_error *err)
{
	int masters = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(c);
		if (kind == ICAL_VTIMEZONE_COMPONENT)
			continue;
		enum pim_component comp = component_of(c);
		if (comp == 0)
			return reject(reject_r, PIM_REJECT_COMPONENT, err,
			              "only VEVENT and VTODO components are supported");
		if (idx->component != 0 && idx->component != comp)
			return reject(reject_r, PIM_REJECT_OBJECT, err,
			              "a calendar object holds components of one type");
		idx->component = comp;
		const char *uid = icalcomponent_get_uid(c);
		if (uid == NULL || *uid == '\0' || strlen(uid) > PIM_UID_MAX)
			return reject(reject_r, PIM_REJECT_OBJECT, err,
			              "every component needs a UID of 1 to 1024 bytes");
		if (idx->uid != NULL && strcmp(idx->uid, uid) != 0)
			return reject(reject_r, PIM_REJECT_OBJECT, err,
			              "a calendar object holds one UID");
		if (idx->uid == NULL)
			idx->uid = g_strdup(uid);
		if (comp == PIM_COMP_VEVENT && icaltime_is_null_time(icalcomponent_get_dtstart(c)))
			return reject(reject_r, PIM_REJECT_OBJECT, err, "a VEVENT needs DTSTART");
		if (icaltime_is_null_time(icalcomponent_get_recurrenceid(c)) && ++masters > 1)
			return reject(reject_r, PIM_REJECT_OBJECT, err,
			              "two components with one UID and no RECURRENCE-ID");
	}
	if (idx->component == 0)
		return reject(reject_r, PIM_REJECT_OBJECT, err,
		              "the calendar holds no VEVENT or VTODO");
	return 0;
}

static bool widen(icalcomponent *c, int64_t start, int64_t end, void *ctx)
{
	struct pim_ical_index *idx = ctx;
	if (start == INT64_MIN || end == INT64_MAX) {
		idx->has_start = idx->has_start && start != INT64_MIN;
		idx->has_end = idx->has_end && end != INT64_MAX;
	}
	if (start != INT64_MIN)
		idx->first_start = MIN(idx->first_start, start);
	if (end != INT64_MAX)
		idx->last_end = MAX(idx->last_end, end);
	return true;
}

int pim_ical_index(const char *data, size_t len, struct pim_ical_index *idx_r,
                   enum pim_reject *reject_r, struct ox_error *err)
{
	memset(idx_r, 0, sizeof(*idx_r));
	*reject_r = PIM_REJECT_NONE;
	if (len == 0 || memchr(data, '\0', len) != NULL ||
	    !g_utf8_validate(data, (gssize)len, NULL))
		return reject(reject_r, PIM_REJECT_DATA, err,
		              "calendar data must be non-empty UTF-8 text");
	icalcomponent *root = parse(data, len);
	int ret = -1;
	const char *perr;
	if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		reject(reject_r, PIM_REJECT_DATA, err, "the body is not one VCALENDAR");
	} else if ((perr = parse_error(root)) != NULL) {
		ox_error_set(err, OX_ERR_INVALID, "malformed iCalendar: %.200s", perr);
		*reject_r = PIM_REJECT_DATA;
	} else if (check_components(root, idx_r, reject_r, err) == 0) {
		idx_r->has_start = idx_r->has_end = true;
		idx_r->first_start = INT64_MAX;
		idx_r->last_end = INT64_MIN;
		if (walk(root, 0, INT64_MAX, PIM_INDEX_INSTANCES, widen, idx_r) == WALK_OPEN)
			idx_r->has_end = false;
		idx_r->has_start = idx_r->has_start && idx_r->first_start != INT64_MAX;
		idx_r->has_end = idx_r->has_end && idx_r->last_end != INT64_MIN;
		ret = 0;
	}
	if (root != NULL)
		icalcomponent_free(root);
	if (ret < 0)
		pim_ical_index_clear(idx_r);
	return ret;
}

struct overlap {
	int64_t start, end;
	bool found;
};

/* RFC 4791 9.9: a zero-length instance matches when it starts inside. */
static bool overlap_one(icalcomponent *c, int64_t start, int64_t end, void *ctx)
{
	struct overlap *o = ctx;
	if (end > start)
		o->found = start < o->end && end > o->start;
	else
		o->found = start >= o->start && start < o->end;
	return !o->found;
}

static bool overlaps(icalcomponent *root, unsigned components, int64_t start, int64_t end)
{
	struct overlap o = {start, end, false};
	enum walk_result r = walk(root, components, end, PIM_MATCH_INSTANCES, overlap_one, &o);
	return o.found || r == WALK_OPEN;
}

bool pim_ical_overlaps(const char *data, unsigned components, int64_t start, int64_t end)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return false;
	bool found = overlaps(root, components, start, end);
	icalcomponent_free(root);
	return found;
}

/* --- calendar-query filters (RFC 4791 9.7) --- */

static bool text_matches(const char *value, const struct pim_text_match *m)
{
	bool found;
	if (m->collation == PIM_COLLATION_OCTET) {
		found = strstr(value, m->text) != NULL;
	} else {
		char *hay = g_ascii_strdown(value, -1), *needle = g_ascii_strdown(m->text, -1);
		found = strstr(hay, needle) != NULL;
		g_free(hay);
		g_free(needle);
	}
	return found != m->negate;
}

static bool param_matches(icalproperty *p, const struct pim_param_filter *f)
{
	char *value = icalproperty_get_parameter_as_string_r(p, f->name);
	bool ok = f->not_defined
	                  ? value == NULL
	                  : value != NULL && (f->match == NULL || text_matches(value, f->match));
	icalmemory_free_buffer(value);
	return ok;
}

/* TEXT values unescaped, others as written. */
static bool value_matches(icalproperty *p, const struct pim_text_match *m)
{
	icalvalue *v = icalproperty_get_value(p);
	if (v != NULL && icalvalue_isa(v) == ICAL_TEXT_VALUE)
		return icalvalue_get_text(v) != NULL && text_matches(icalvalue_get_text(v), m);
	char *text = icalproperty_get_value_as_string_r(p);
	bool ok = text != NULL && text_matches(text, m);
	icalmemory_free_buffer(text);
	return ok;
}

static bool prop_in_range(icalproperty *p, icalcomponent *c, const struct pim_prop_filter *f)
{
	icalvalue *v = icalproperty_get_value(p);
	icalvalue_kind kind = v != NULL ? icalvalue_isa(v) : ICAL_NO_VALUE;
	if (kind != ICAL_DATETIME_VALUE && kind != ICAL_DATE_VALUE &&
	    kind != ICAL_DATETIMEDATE_VALUE)
		return false;
	int64_t t = utc_of(icalproperty_get_datetime_with_component(p, c));
	return t >= f->start && t < f->end;
}

static bool prop_matches(icalproperty *p, icalcomponent *c, const struct pim_prop_filter *f)
{
	if (f->has_range && !prop_in_range(p, c, f))
		return false;
	if (f->match != NULL && !value_matches(p, f->match))
		return false;
	for (size_t i = 0; i < f->nparams; i++) {
		if (!param_matches(p, &f->params[i]))
			return false;
	}
	return true;
}

static bool prop_filter_matches(icalcomponent *c, const struct pim_prop_filter *f)
{
	bool any = false;
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		const char *name = icalproperty_get_property_name(p);
		if (name == NULL || g_ascii_strcasecmp(name, f->name) != 0)
			continue;
		if (f->not_defined)
			return false;
		any = any || prop_matches(p, c, f);
	}
	return f->not_defined || any;
}

static bool comp_matches(icalcomponent *c, const struct pim_comp_filter *f);

static bool comp_filter_matches(icalcomponent *root, icalcomponent *parent,
                                const struct pim_comp_filter *f)
{
	bool seen = false, found = false;
	/* libical's iteration state is per component: collect first, since a
	 * nested filter iterates the same children again. */
	GPtrArray *named = g_ptr_array_new();
	for (icalcomponent *c = icalcomponent_get_first_component(parent, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(parent, ICAL_ANY_COMPONENT)) {
		const char *name = icalcomponent_kind_to_string(icalcomponent_isa(c));
		if (name != NULL && g_ascii_strcasecmp(name, f->name) == 0)
			g_ptr_array_add(named, c);
	}
	seen = named->len > 0;
	if (f->not_defined || !seen) {
		g_ptr_array_unref(named);
		return f->not_defined != seen;
	}
	unsigned kind = f->has_range ? component_of(g_ptr_array_index(named, 0)) : 0;
	bool in_range = !f->has_range || (kind != 0 && overlaps(root, kind, f->start, f->end));
	for (guint i = 0; in_range && !found && i < named->len; i++)
		found = comp_matches(g_ptr_array_index(named, i), f);
	g_ptr_array_unref(named);
	return found;
}

/* Every prop and comp filter of f holds on c, whose name matched. */
static bool comp_matches(icalcomponent *c, const struct pim_comp_filter *f)
{
	for (size_t i = 0; i < f->nprops; i++) {
		if (!prop_filter_matches(c, &f->props[i]))
			return false;
	}
	icalcomponent *root = c;
	while (icalcomponent_get_parent(root) != NULL)
		root = icalcomponent_get_parent(root);
	for (size_t i = 0; i < f->ncomps; i++) {
		if (!comp_filter_matches(root, c, &f->comps[i]))
			return false;
	}
	return true;
}

bool pim_ical_filter_match(const char *data, const struct pim_comp_filter *f)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return false;
	bool ok = g_ascii_strcasecmp(f->name, "VCALENDAR") == 0 && !f->not_defined &&
	          comp_matches(root, f);
	icalcomponent_free(root);
	return ok;
}

/* --- free/busy --- */

struct busy_walk {
	int64_t start, end;
	pim_ical_busy_fn *fn;
	void *ctx;
	bool stopped;
};

/* RFC 4791 7.10: transparent and cancelled instances are free. */
static bool busy_one(icalcomponent *c, int64_t start, int64_t end, void *ctx)
{
	struct busy_walk *b = ctx;
	if (start == INT64_MIN || end <= b->start || start >= b->end)
		return true;
	icalproperty *transp = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
	if (transp != NULL && icalproperty_get_transp(transp) == ICAL_TRANSP_TRANSPARENT)
		return true;
	enum icalproperty_status status = icalcomponent_get_status(c);
	if (status == ICAL_STATUS_CANCELLED)
		return true;
	if (b->fn(MAX(start, b->start), MIN(end, b->end), status == ICAL_STATUS_TENTATIVE, b->ctx) <
	    0) {
		b->stopped = true;
		return false;
	}
	return true;
}

int pim_ical_busy(const char *data, int64_t start, int64_t end, pim_ical_busy_fn *fn, void *ctx)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return 0;
	struct busy_walk b = {start, end, fn, ctx, false};
	walk(root, PIM_COMP_VEVENT, end, PIM_MATCH_INSTANCES, busy_one, &b);
	icalcomponent_free(root);
	return b.stopped ? -1 : 0;
}

/* --- export --- */

int pim_ical_parts(const char *data, bool timezones, pim_ical_part_fn *fn, void *ctx)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return 0;
	int r = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL && r == 0; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		bool tz = icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT;
		if (tz != timezones)
			continue;
		const char *tzid = NULL;
		icalproperty *p =
			tz ? icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY) : NULL;
		if (p != NULL)
			tzid = icalproperty_get_tzid(p);
		if (tz && tzid == NULL)
			continue;
		char *text = icalcomponent_as_ical_string_r(c);
		r = fn(tzid, text, ctx);
		icalmemory_free_buffer(text);
	}
	icalcomponent_free(root);
	return r;
}
