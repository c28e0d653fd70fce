/* iCalendar on libical: what makes one valid calendar object resource,
 * the instances of its (possibly recurring) components in UTC, and the
 * views of an object that CalDAV reports ask for.
 *
 * Times: a floating time, a DATE value (midnight) and a time whose TZID
 * names a zone neither the object nor the system defines are read in the
 * zone the caller passes, the calendar's (RFC 4791 9.9); without one, in
 * UTC. Expansion is bounded: the index expands at most
 * PIM_INDEX_INSTANCES instances and leaves the end open beyond that; a
 * query stops after PIM_MATCH_INSTANCES and then counts the object as a
 * match, so hostile rules cost a bounded time and never hide an object.
 * VTIMEZONEs, whose rules libical expands up to the year asked for, must
 * have yearly rules (zone_sane), so a zone costs a bounded time too. */
#include "pim/pim-private.h"

#include "core/error.h"

#include <glib.h>
#include <libical/ical.h>
#include <string.h>

#define PIM_INDEX_INSTANCES 5000
#define PIM_MATCH_INSTANCES 100000
#define PIM_OVERRIDES_MAX 2000
#define PIM_UID_MAX 1024
#define PRODID "-//Open-Xchange//OX Server//EN"

/* A calendar's time zone: libical's zone made from its own copy of a
 * client's VTIMEZONE and that text, or one of libical's built-in zones
 * (shared, never freed) by its IANA name, whose text is made when asked. */
struct pim_zone {
	icaltimezone *tz;
	bool owned;
	char *text;
	char *name;
};

static icaltimezone *floating_zone(const struct pim_zone *zone)
{
	return zone != NULL ? zone->tz : NULL;
}

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

/* t in Unix seconds: DATE values at midnight and floating times in
 * `floating` (NULL: UTC). */
/* The zone times are converted in: for a client's VTIMEZONE whose TZID
 * names an IANA zone, libical's own definition of it (RFC 7809 lets a
 * server use its own definitions; clients' copies are often outdated).
 * That is also a matter of cost: libical expands a VTIMEZONE year by year
 * through ICU, and a Horde invitation's zone for America/Sao_Paulo (66
 * observances, some with rules that never match) took 5 s to convert one
 * time. The last answer is kept: a walk converts every instance in the
 * same zone. */
static const icaltimezone *conversion_zone(const icaltimezone *zone)
{
	/* Keyed by name, not by pointer: a freed zone's address comes back. */
	static __thread char last_tzid[PIM_NAME_MAX + 1];
	static __thread icaltimezone *last_builtin;
	if (zone == NULL || zone == icaltimezone_get_utc_timezone())
		return zone;
	const char *tzid = icaltimezone_get_tzid((icaltimezone *)zone);
	if (tzid == NULL || strlen(tzid) > PIM_NAME_MAX)
		return zone;
	if (strcmp(tzid, last_tzid) != 0) {
		last_builtin = icaltimezone_get_builtin_timezone(tzid);
		g_strlcpy(last_tzid, tzid, sizeof(last_tzid));
	}
	return last_builtin != NULL ? last_builtin : zone;
}

static int64_t utc_of(struct icaltimetype t, icaltimezone *floating)
{
	if (t.is_date) {
		t.hour = t.minute = t.second = 0;
		t.zone = NULL;
	}
	const icaltimezone *zone = conversion_zone(t.zone != NULL ? t.zone : floating);
	if (zone == NULL)
		return (int64_t)icaltime_as_timet(t);
	return (int64_t)icaltime_as_timet_with_zone(t, zone);
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

/* A component's RECURRENCE-ID in its zone: libical's own getter leaves
 * out the TZID, which would move overrides of zoned series. */
static struct icaltimetype recurrence_id(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	return p != NULL ? icalproperty_get_datetime_with_component(p, c) : icaltime_null_time();
}

/* One instance of component c (the master or an override): its UTC range
 * and, when it has dates, its start as the component writes it (the
 * RECURRENCE-ID it has or would have). */
typedef bool instance_fn(icalcomponent *c, int64_t start, int64_t end,
                         const struct icaltimetype *rid, void *ctx);

enum walk_result {
	WALK_DONE,    /* every instance seen */
	WALK_STOPPED, /* fn said stop, or instances reached `until` */
	WALK_OPEN,    /* more instances than the budget, or no end */
};

/* One component's instance length in seconds, and whether it has dates
 * at all (a VTODO may have none). */
static bool base_instance(icalcomponent *c, icaltimezone *fz, int64_t *start_r, int64_t *length_r)
{
	struct icaltimetype start = icalcomponent_get_dtstart(c);
	bool todo = icalcomponent_isa(c) == ICAL_VTODO_COMPONENT;
	if (icaltime_is_null_time(start)) {
		struct icaltimetype due = todo ? icalcomponent_get_due(c) : icaltime_null_time();
		if (icaltime_is_null_time(due))
			return false;
		*start_r = utc_of(due, fz);
		*length_r = 0;
		return true;
	}
	*start_r = utc_of(start, fz);
	struct icaltimetype end = todo ? icalcomponent_get_due(c) : icalcomponent_get_dtend(c);
	if (!icaltime_is_null_time(end))
		*length_r = MAX(0, utc_of(end, fz) - *start_r);
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

static void exdates(icalcomponent *c, icaltimezone *fz, GArray *out)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	     p != NULL && out->len < PIM_OVERRIDES_MAX;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		int64_t t = utc_of(icalproperty_get_datetime_with_component(p, c), fz);
		g_array_append_val(out, t);
	}
}

static bool recur_unset(const short *by)
{
	return by[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

/* What a rule costs libical. Below DAILY, libical 3.0 steps through every
 * FREQ*INTERVAL unit and filters the candidates by the BY parts coarser
 * than FREQ, inside one call of icalrecur_iterator_next() that cannot be
 * interrupted: "FREQ=SECONDLY;BYMONTH=12" from January takes 28 million
 * steps (over a minute) to its first instance. The cost is the number of
 * such steps, about 5 us each. A rule whose longest gap between two
 * instances can pass RULE_GAP_MAX steps is refused (no calendar client
 * writes one); a walk stops and leaves the end open once it has stepped
 * RULE_STEPS_MAX units past DTSTART. */
#define RULE_GAP_MAX 100000
#define RULE_STEPS_MAX 200000

static int64_t rule_unit_seconds(icalrecurrencetype_frequency freq)
{
	switch (freq) {
	case ICAL_SECONDLY_RECURRENCE:
		return 1;
	case ICAL_MINUTELY_RECURRENCE:
		return 60;
	case ICAL_HOURLY_RECURRENCE:
		return 3600;
	default:
		return 86400;
	}
}

/* The longest gap between two instances, in steps, bounded from above
 * by the period of the coarsest BY part: 4 years for parts that name a
 * day of a month or a year (29 February, day 366, week 53). Rules of
 * DAILY and coarser cost at most this many days; WEEKLY and coarser
 * expand their BY parts instead of filtering, 1. */
static int64_t rule_gap_steps(const struct icalrecurrencetype *r)
{
	if (r->freq > ICAL_DAILY_RECURRENCE)
		return 1;
	const int64_t day = 86400, leap_cycle = 4 * 366 * day;
	int64_t period = 1;
	if (!recur_unset(r->by_second))
		period = MAX(period, 60);
	if (!recur_unset(r->by_minute))
		period = MAX(period, 3600);
	if (!recur_unset(r->by_hour))
		period = MAX(period, day);
	for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		period = MAX(period, icalrecurrencetype_day_position(r->by_day[i]) != 0 ? leap_cycle
		                                                                        : 7 * day);
	if (!recur_unset(r->by_month_day) || !recur_unset(r->by_year_day) ||
	    !recur_unset(r->by_week_no) || !recur_unset(r->by_month))
		period = leap_cycle;
	return MAX(1, period / rule_unit_seconds(r->freq));
}

/* NULL, or why a component's RRULE is refused (see RULE_GAP_MAX). */
static const char *rule_too_costly(icalcomponent *c)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		if (rule_gap_steps(&r) > RULE_GAP_MAX)
			return "an RRULE more frequent than DAILY may not be limited to days, "
			       "weeks or months that far apart (SECONDLY by hours at most, "
			       "MINUTELY by weekdays at most)";
	}
	return NULL;
}

static bool rrule_is_infinite(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	if (p == NULL)
		return false;
	struct icalrecurrencetype r = icalproperty_get_rrule(p);
	return r.count == 0 && icaltime_is_null_time(r.until);
}

/* The instances of the master's RRULE after DTSTART. */
static enum walk_result walk_rule(icalcomponent *c, struct icaltimetype dtstart, int64_t first,
                                  int64_t length, icaltimezone *fz, const struct excluded *ex,
                                  int64_t until, size_t budget, instance_fn *fn, void *ctx)
{
	struct icalrecurrencetype r =
		icalproperty_get_rrule(icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY));
	/* Stored before RULE_GAP_MAX was enforced, or read from elsewhere. */
	if (rule_gap_steps(&r) > RULE_GAP_MAX)
		return WALK_OPEN;
	bool filtered = rule_gap_steps(&r) > 1;
	int64_t step = rule_unit_seconds(r.freq) * MAX(1, r.interval);
	icalrecur_iterator *it = icalrecur_iterator_new(r, dtstart);
	if (it == NULL)
		return WALK_OPEN; /* a rule libical cannot iterate: assume it goes on */
	enum walk_result res = WALK_DONE;
	size_t seen = 0;
	while (res == WALK_DONE) {
		struct icaltimetype t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		t.zone = dtstart.zone;
		int64_t s = utc_of(t, fz);
		if (++seen > budget || (filtered && (s - first) / step > RULE_STEPS_MAX))
			res = WALK_OPEN;
		else if (s >= until)
			res = WALK_STOPPED;
		else if (s != first && !is_excluded(ex, s) && !fn(c, s, s + length, &t, ctx))
			res = WALK_STOPPED;
	}
	icalrecur_iterator_free(it);
	return res;
}

/* The master's instances: DTSTART, the first RRULE's and the RDATEs, less
 * EXDATEs and overridden ones, until an instance starts at or after
 * `until` or `budget` instances went by. */
static enum walk_result walk_master(icalcomponent *c, icaltimezone *fz, const struct excluded *ex,
                                    int64_t until, size_t budget, instance_fn *fn, void *ctx)
{
	int64_t first, length;
	if (!base_instance(c, fz, &first, &length))
		return fn(c, INT64_MIN, INT64_MAX, NULL, ctx) ? WALK_DONE : WALK_STOPPED;
	struct icaltimetype dtstart = icalcomponent_get_dtstart(c);
	struct icaltimetype rid =
		icaltime_is_null_time(dtstart) ? icalcomponent_get_due(c) : dtstart;
	enum walk_result res = WALK_DONE;
	bool rule = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) != NULL &&
	            !icaltime_is_null_time(dtstart);
	if (!is_excluded(ex, first) && !fn(c, first, first + length, &rid, ctx))
		return WALK_STOPPED;
	/* The index cannot hold an endless rule's end: say so at once. */
	if (rule && until == INT64_MAX && rrule_is_infinite(c))
		return WALK_OPEN;
	if (rule)
		res = walk_rule(c, dtstart, first, length, fz, ex, until, budget, fn, ctx);
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
	     p != NULL && res != WALK_STOPPED;
	     p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
		int64_t s, e;
		if (!icalperiodtype_is_null_period(rd.period)) {
			rd.time = rd.period.start;
			rd.time.zone = rd.time.zone != NULL ? rd.time.zone : dtstart.zone;
			s = utc_of(rd.time, fz);
			struct icaltimetype pe = rd.period.end;
			pe.zone = pe.zone != NULL ? pe.zone : dtstart.zone;
			e = icaltime_is_null_time(pe)
			            ? s + icaldurationtype_as_int(rd.period.duration)
			            : utc_of(pe, fz);
		} else {
			if (icaltime_is_null_time(rd.time))
				continue;
			rd.time.zone = rd.time.zone != NULL ? rd.time.zone : dtstart.zone;
			s = utc_of(rd.time, fz);
			e = s + length;
		}
		if (!is_excluded(ex, s) && s < until && !fn(c, s, e, &rd.time, ctx))
			res = WALK_STOPPED;
	}
	return res;
}

/* Every instance of the object's components of `components` (0: any):
 * the overrides first, then the master's. */
static enum walk_result walk(icalcomponent *vcal, unsigned components, icaltimezone *fz,
                             int64_t until, size_t budget, instance_fn *fn, void *ctx)
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
		struct icaltimetype rid = recurrence_id(c);
		if (icaltime_is_null_time(rid)) {
			master = c;
			continue;
		}
		int64_t ridt = utc_of(rid, fz);
		if (ex->len < PIM_OVERRIDES_MAX)
			g_array_append_val(ex, ridt);
		int64_t s, length;
		if (!base_instance(c, fz, &s, &length))
			res = fn(c, INT64_MIN, INT64_MAX, &rid, ctx) ? WALK_DONE : WALK_STOPPED;
		else if (!fn(c, s, s + length, &rid, ctx))
			res = WALK_STOPPED;
	}
	if (master != NULL && res == WALK_DONE) {
		exdates(master, fz, ex);
		struct excluded set = {(int64_t *)(void *)ex->data, ex->len};
		res = walk_master(master, fz, &set, until, budget, fn, ctx);
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
	"DTSTART", "DTEND", "DUE",           "DURATION",     "RRULE",      "RDATE",
	"EXDATE",  "UID",   "RECURRENCE-ID", "TZOFFSETFROM", "TZOFFSETTO", "TZID",
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

/* Bounds on one VTIMEZONE: real zones have at most a few dozen
 * observances (libical's fullest has 55) and yearly rules. */
#define ZONE_OBSERVANCES_MAX 200
#define ZONE_RULES_MAX 100
#define ZONE_RDATES_MAX 1000

static bool at_most_one(const short *by)
{
	return recur_unset(by) || by[1] == ICAL_RECURRENCE_ARRAY_MAX;
}

/* A rule libical expands cheaply for every year a conversion needs: yearly,
 * and when it names days, in one month, so at most 31 changes a year.
 * (libical would expand an hourly rule hour by hour.) */
static bool zone_rule_sane(icalproperty *p)
{
	struct icalrecurrencetype r = icalproperty_get_rrule(p);
	/* One BYHOUR, BYMINUTE or BYSECOND (Lotus Notes writes the change's
	 * time again that way) adds nothing to expand. */
	if (r.freq != ICAL_YEARLY_RECURRENCE || !at_most_one(r.by_second) ||
	    !at_most_one(r.by_minute) || !at_most_one(r.by_hour) || !recur_unset(r.by_year_day) ||
	    !recur_unset(r.by_week_no) || !recur_unset(r.by_set_pos))
		return false;
	bool one_month = !recur_unset(r.by_month) && r.by_month[1] == ICAL_RECURRENCE_ARRAY_MAX;
	/* "BYMONTHDAY=15,...,21;BYDAY=1SU" (Horde's zones) never matches, and
	 * libical looks for a match year by year through ICU: seconds per
	 * zone. Real zones name the nth weekday or a weekday among days. */
	for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if (icalrecurrencetype_day_position(r.by_day[i]) != 0 &&
		    !recur_unset(r.by_month_day))
			return false;
	}
	return (recur_unset(r.by_day) && recur_unset(r.by_month_day)) || one_month;
}

/* Whether libical has its own definition of the zone a VTIMEZONE names,
 * which conversions use instead (conversion_zone). */
static bool zone_is_builtin(icalcomponent *vtz)
{
	icalproperty *tzid = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	const char *id = tzid != NULL ? icalproperty_get_tzid(tzid) : NULL;
	return id != NULL && strlen(id) <= PIM_NAME_MAX &&
	       icaltimezone_get_builtin_timezone(id) != NULL;
}

/* Whether a VTIMEZONE is one libical can use at a bounded cost: NULL, or
 * why not. */
static const char *zone_insane(icalcomponent *vtz)
{
	icalproperty *tzid = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	const char *id = tzid != NULL ? icalproperty_get_tzid(tzid) : NULL;
	if (id == NULL || *id == '\0' || strlen(id) > PIM_NAME_MAX)
		return "a VTIMEZONE needs a TZID of 1 to 255 bytes";
	int observances = 0, rules = 0, rdates = 0;
	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	     o != NULL; o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(o);
		if (kind != ICAL_XSTANDARD_COMPONENT && kind != ICAL_XDAYLIGHT_COMPONENT)
			continue;
		if (++observances > ZONE_OBSERVANCES_MAX)
			return "a VTIMEZONE has at most 200 STANDARD and DAYLIGHT components";
		if (icaltime_is_null_time(icalcomponent_get_dtstart(o)) ||
		    icalcomponent_get_first_property(o, ICAL_TZOFFSETTO_PROPERTY) == NULL ||
		    icalcomponent_get_first_property(o, ICAL_TZOFFSETFROM_PROPERTY) == NULL)
			return "STANDARD and DAYLIGHT need DTSTART, TZOFFSETFROM and TZOFFSETTO";
		for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY)) {
			if (++rules > ZONE_RULES_MAX || !zone_rule_sane(p))
				return "VTIMEZONE rules are yearly (in one month when they name "
				       "days, and not an nth weekday among month days), at most "
				       "100";
		}
		for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RDATE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(o, ICAL_RDATE_PROPERTY)) {
			if (++rdates > ZONE_RDATES_MAX)
				return "a VTIMEZONE has at most 1000 RDATEs";
		}
	}
	return observances == 0 ? "a VTIMEZONE needs a STANDARD or DAYLIGHT component" : NULL;
}

/* libical reads the digits of a DATE or DATE-TIME without checking them:
 * "20301345T990000Z" becomes month 13, day 45, hour 99, which later
 * arithmetic would silently carry into other dates. */
static bool time_in_range(struct icaltimetype t)
{
	if (icaltime_is_null_time(t))
		return true;
	if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
	    t.day > icaltime_days_in_month(t.month, t.year))
		return false;
	/* RFC 5545 3.3.12: second 60 only for a leap second. */
	return t.is_date || (t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 &&
	                     t.second >= 0 && t.second <= 60);
}

static const icalproperty_kind dated_properties[] = {
	ICAL_DTSTART_PROPERTY,      ICAL_DTEND_PROPERTY,  ICAL_DUE_PROPERTY,
	ICAL_RECURRENCEID_PROPERTY, ICAL_EXDATE_PROPERTY,
};

/* NULL, or why a component's dates are unusable. */
static const char *dates_invalid(icalcomponent *c)
{
	for (size_t i = 0; i < G_N_ELEMENTS(dated_properties); i++) {
		for (icalproperty *p = icalcomponent_get_first_property(c, dated_properties[i]);
		     p != NULL; p = icalcomponent_get_next_property(c, dated_properties[i])) {
			if (!time_in_range(icalproperty_get_datetime_with_component(p, c)))
				return "a DATE or DATE-TIME value is out of range";
		}
	}
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
		if (!time_in_range(rd.time) || !time_in_range(rd.period.start) ||
		    !time_in_range(rd.period.end))
			return "an RDATE value is out of range";
	}
	return NULL;
}

/* RFC 5545 3.6.1 and 3.6.2: a VEVENT ends (DTEND) and a VTODO is due (DUE)
 * no earlier than it starts. Equal is taken: clients write zero-length
 * events that way. */
static const char *ends_before_start(icalcomponent *c, enum pim_component comp)
{
	icalproperty_kind end_kind =
		comp == PIM_COMP_VEVENT ? ICAL_DTEND_PROPERTY : ICAL_DUE_PROPERTY;
	icalproperty *end = icalcomponent_get_first_property(c, end_kind);
	struct icaltimetype start = icalcomponent_get_dtstart(c);
	if (end == NULL || icaltime_is_null_time(start))
		return NULL;
	struct icaltimetype e = icalproperty_get_datetime_with_component(end, c);
	/* A floating time (or one in a zone nobody defines) against a zoned
	 * one depends on the calendar's zone: not decided here. */
	bool comparable = (e.zone == NULL) == (start.zone == NULL) || e.is_date || start.is_date;
	if (icaltime_is_null_time(e) || !comparable || utc_of(e, NULL) >= utc_of(start, NULL))
		return NULL;
	return comp == PIM_COMP_VEVENT ? "DTEND is before DTSTART" : "DUE is before DTSTART";
}

/* The components of one object: one type, one UID, at most one master. */
static int check_components(icalcomponent *vcal, struct pim_ical_index *idx,
                            enum pim_reject *reject_r, struct ox_error *err)
{
	int masters = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(c);
		const char *bad_zone;
		if (kind == ICAL_VTIMEZONE_COMPONENT && !zone_is_builtin(c) &&
		    (bad_zone = zone_insane(c)) != NULL)
			return reject(reject_r, PIM_REJECT_DATA, err, bad_zone);
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
		const char *bad_dates = dates_invalid(c);
		if (bad_dates != NULL)
			return reject(reject_r, PIM_REJECT_DATA, err, bad_dates);
		const char *backwards = ends_before_start(c, comp);
		if (backwards != NULL)
			return reject(reject_r, PIM_REJECT_OBJECT, err, backwards);
		const char *costly = rule_too_costly(c);
		if (costly != NULL)
			return reject(reject_r, PIM_REJECT_OBJECT, err, costly);
		if (icaltime_is_null_time(recurrence_id(c)) && ++masters > 1)
			return reject(reject_r, PIM_REJECT_OBJECT, err,
			              "two components with one UID and no RECURRENCE-ID");
	}
	if (idx->component == 0)
		return reject(reject_r, PIM_REJECT_OBJECT, err,
		              "the calendar holds no VEVENT or VTODO");
	return 0;
}

static bool widen(icalcomponent *c, int64_t start, int64_t end, const struct icaltimetype *rid,
                  void *ctx)
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
		if (walk(root, 0, NULL, INT64_MAX, PIM_INDEX_INSTANCES, widen, idx_r) == WALK_OPEN)
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

/* RFC 4791 9.9: whether an instance [start, end) touches the range; a
 * zero-length instance does when it starts inside. */
static bool touches(int64_t start, int64_t end, int64_t range_start, int64_t range_end)
{
	if (end > start)
		return start < range_end && end > range_start;
	return start >= range_start && start < range_end;
}

static bool overlap_one(icalcomponent *c, int64_t start, int64_t end,
                        const struct icaltimetype *rid, void *ctx)
{
	struct overlap *o = ctx;
	o->found = touches(start, end, o->start, o->end);
	return !o->found;
}

static bool overlaps(icalcomponent *root, unsigned components, icaltimezone *fz, int64_t start,
                     int64_t end)
{
	struct overlap o = {start, end, false};
	enum walk_result r = walk(root, components, fz, end, PIM_MATCH_INSTANCES, overlap_one, &o);
	return o.found || r == WALK_OPEN;
}

bool pim_ical_overlaps(const char *data, const struct pim_zone *zone, unsigned components,
                       int64_t start, int64_t end)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return false;
	bool found = overlaps(root, components, floating_zone(zone), start, end);
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

static bool prop_in_range(icalproperty *p, icalcomponent *c, icaltimezone *fz,
                          const struct pim_prop_filter *f)
{
	icalvalue *v = icalproperty_get_value(p);
	icalvalue_kind kind = v != NULL ? icalvalue_isa(v) : ICAL_NO_VALUE;
	if (kind != ICAL_DATETIME_VALUE && kind != ICAL_DATE_VALUE &&
	    kind != ICAL_DATETIMEDATE_VALUE)
		return false;
	int64_t t = utc_of(icalproperty_get_datetime_with_component(p, c), fz);
	return t >= f->start && t < f->end;
}

static bool prop_matches(icalproperty *p, icalcomponent *c, icaltimezone *fz,
                         const struct pim_prop_filter *f)
{
	if (f->has_range && !prop_in_range(p, c, fz, f))
		return false;
	if (f->match != NULL && !value_matches(p, f->match))
		return false;
	for (size_t i = 0; i < f->nparams; i++) {
		if (!param_matches(p, &f->params[i]))
			return false;
	}
	return true;
}

static bool prop_filter_matches(icalcomponent *c, icaltimezone *fz, const struct pim_prop_filter *f)
{
	bool any = false;
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		const char *name = icalproperty_get_property_name(p);
		if (name == NULL || g_ascii_strcasecmp(name, f->name) != 0)
			continue;
		if (f->not_defined)
			return false;
		any = any || prop_matches(p, c, fz, f);
	}
	return f->not_defined || any;
}

static bool comp_matches(icalcomponent *c, icaltimezone *fz, const struct pim_comp_filter *f);

static bool comp_filter_matches(icalcomponent *root, icalcomponent *parent, icaltimezone *fz,
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
	bool in_range = !f->has_range || (kind != 0 && overlaps(root, kind, fz, f->start, f->end));
	for (guint i = 0; in_range && !found && i < named->len; i++)
		found = comp_matches(g_ptr_array_index(named, i), fz, f);
	g_ptr_array_unref(named);
	return found;
}

/* Every prop and comp filter of f holds on c, whose name matched. */
static bool comp_matches(icalcomponent *c, icaltimezone *fz, const struct pim_comp_filter *f)
{
	for (size_t i = 0; i < f->nprops; i++) {
		if (!prop_filter_matches(c, fz, &f->props[i]))
			return false;
	}
	icalcomponent *root = c;
	while (icalcomponent_get_parent(root) != NULL)
		root = icalcomponent_get_parent(root);
	for (size_t i = 0; i < f->ncomps; i++) {
		if (!comp_filter_matches(root, c, fz, &f->comps[i]))
			return false;
	}
	return true;
}

bool pim_ical_filter_match(const char *data, const struct pim_zone *zone,
                           const struct pim_comp_filter *f)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return false;
	bool ok = g_ascii_strcasecmp(f->name, "VCALENDAR") == 0 && !f->not_defined &&
	          comp_matches(root, floating_zone(zone), f);
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
static bool busy_one(icalcomponent *c, int64_t start, int64_t end, const struct icaltimetype *rid,
                     void *ctx)
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

int pim_ical_busy_in(const char *data, const struct pim_zone *zone, int64_t start, int64_t end,
                     pim_ical_busy_fn *fn, void *ctx)
{
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL)
		return 0;
	struct busy_walk b = {start, end, fn, ctx, false};
	walk(root, PIM_COMP_VEVENT, floating_zone(zone), end, PIM_MATCH_INSTANCES, busy_one, &b);
	icalcomponent_free(root);
	return b.stopped ? -1 : 0;
}

int pim_ical_busy(const char *data, int64_t start, int64_t end, pim_ical_busy_fn *fn, void *ctx)
{
	return pim_ical_busy_in(data, NULL, start, end, fn, ctx);
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

/* --- time zones (CALDAV:calendar-timezone) --- */

/* What a calendar reads floating times in when nobody chose a zone and
 * the owner's name is unknown (or the calendar is public). */
static const char utc_zone_text[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" PRODID "\r\n"
				    "BEGIN:VTIMEZONE\r\nTZID:UTC\r\nBEGIN:STANDARD\r\n"
				    "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\n"
				    "TZOFFSETTO:+0000\r\nTZNAME:UTC\r\nEND:STANDARD\r\n"
				    "END:VTIMEZONE\r\nEND:VCALENDAR\r\n";

/* The one VTIMEZONE of a calendar-timezone text: NULL with *why_r when
 * there is another component, or none. */
static icalcomponent *only_zone(icalcomponent *root, const char **why_r)
{
	icalcomponent *zone = NULL;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(c) != ICAL_VTIMEZONE_COMPONENT || zone != NULL) {
			*why_r =
				"a calendar time zone holds exactly one VTIMEZONE and nothing else";
			return NULL;
		}
		zone = c;
	}
	if (zone == NULL)
		*why_r = "a calendar time zone holds a VTIMEZONE";
	return zone;
}

int pim_zone_parse(const char *text, size_t len, struct pim_zone **zone_r, struct ox_error *err)
{
	*zone_r = NULL;
	if (len == 0 || len > PIM_ZONE_MAX || memchr(text, '\0', len) != NULL ||
	    !g_utf8_validate(text, (gssize)len, NULL))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a calendar time zone is UTF-8 text of 1 to %d bytes",
		                    PIM_ZONE_MAX);
	icalcomponent *root = parse(text, len);
	const char *why = NULL, *perr;
	icalcomponent *vtz = NULL;
	if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT)
		why = "a calendar time zone is one VCALENDAR";
	else if ((perr = parse_error(root)) != NULL)
		ox_error_set(err, OX_ERR_INVALID, "malformed iCalendar: %.200s", perr);
	else if ((vtz = only_zone(root, &why)) != NULL)
		why = zone_insane(vtz);
	icaltimezone *tz = NULL;
	if (vtz != NULL && why == NULL) {
		/* libical takes the component it is given: its own copy. */
		tz = icaltimezone_new();
		if (!icaltimezone_set_component(tz, icalcomponent_new_clone(vtz))) {
			icaltimezone_free(tz, 1);
			tz = NULL;
			why = "a VTIMEZONE needs a TZID";
		}
	}
	if (root != NULL)
		icalcomponent_free(root);
	if (tz == NULL)
		return why != NULL ? ox_error_set(err, OX_ERR_INVALID, "%s", why) : -1;
	*zone_r = g_new0(struct pim_zone, 1);
	(*zone_r)->tz = tz;
	(*zone_r)->owned = true;
	(*zone_r)->text = g_strndup(text, len);
	return 0;
}

void pim_zone_free(struct pim_zone **zone)
{
	if (*zone == NULL)
		return;
	if ((*zone)->owned)
		icaltimezone_free((*zone)->tz, 1);
	g_free((*zone)->text);
	g_free((*zone)->name);
	g_free(*zone);
	*zone = NULL;
}

/* libical's definition of an IANA zone as a VCALENDAR text, or NULL. */
static char *named_zone_text(const char *name)
{
	icaltimezone *builtin = icaltimezone_get_builtin_timezone(name);
	icalcomponent *vtz = builtin != NULL ? icaltimezone_get_component(builtin) : NULL;
	if (vtz == NULL)
		return NULL; /* unknown, or UTC, which libical keeps without one */
	icalcomponent *copy = icalcomponent_new_clone(vtz);
	/* libical's TZID is "/freeassociation.sourceforge.net/NAME"; clients
	 * know the zone by NAME. */
	icalproperty *tzid = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
	if (tzid != NULL)
		icalproperty_set_tzid(tzid, name);
	icalcomponent *vcal =
		icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
	                            icalproperty_new_prodid(PRODID), copy, (void *)0);
	char *text = icalcomponent_as_ical_string_r(vcal);
	char *ours = g_strdup(text);
	icalmemory_free_buffer(text);
	icalcomponent_free(vcal);
	return ours;
}

/* Every query reads its calendar's zone, mostly a default one: libical's
 * built-in zones serve without parsing a text each time (libical guards
 * their shared state itself, as it does for TZIDs it resolves). */
struct pim_zone *pim_zone_named(const char *name)
{
	ical_init();
	icaltimezone *builtin =
		name != NULL && *name != '\0' ? icaltimezone_get_builtin_timezone(name) : NULL;
	struct pim_zone *zone = g_new0(struct pim_zone, 1);
	if (builtin != NULL && icaltimezone_get_component(builtin) != NULL) {
		zone->tz = builtin;
		zone->name = g_strdup(name);
	} else {
		/* UTC itself, or a name libical does not know. */
		zone->tz = icaltimezone_get_utc_timezone();
	}
	return zone;
}

const char *pim_zone_text(struct pim_zone *zone)
{
	if (zone->text == NULL && zone->name != NULL)
		zone->text = named_zone_text(zone->name);
	if (zone->text == NULL)
		zone->text = g_strdup(utc_zone_text);
	return zone->text;
}

/* --- views (CALDAV:calendar-data, RFC 4791 9.6) --- */

static void select_clear(struct pim_select *sel)
{
	g_free(sel->name);
	for (size_t i = 0; i < sel->nprops; i++)
		g_free(sel->props[i].name);
	g_free(sel->props);
	for (size_t i = 0; i < sel->ncomps; i++)
		select_clear(&sel->comps[i]);
	g_free(sel->comps);
}

void pim_view_clear(struct pim_view *view)
{
	if (view->select != NULL) {
		select_clear(view->select);
		g_free(view->select);
	}
	memset(view, 0, sizeof(*view));
}

bool pim_view_is_stored(const struct pim_view *view)
{
	return view == NULL || (view->select == NULL && !view->limit_freebusy &&
	                        view->recurrence == PIM_RECURRENCE_STORED);
}

static void remove_all(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p;
	while ((p = icalcomponent_get_first_property(c, kind)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

/* RFC 4791 9.6.5: expanded components carry no recurrence properties,
 * wherever a sloppy writer put them. */
static void remove_recurrence(icalcomponent *c)
{
	remove_all(c, ICAL_RRULE_PROPERTY);
	remove_all(c, ICAL_RDATE_PROPERTY);
	remove_all(c, ICAL_EXDATE_PROPERTY);
	remove_all(c, ICAL_EXRULE_PROPERTY);
	for (icalcomponent *sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     sub != NULL; sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		remove_recurrence(sub);
}

static void remove_components(icalcomponent *parent, GPtrArray *gone)
{
	for (guint i = 0; i < gone->len; i++) {
		icalcomponent *c = g_ptr_array_index(gone, i);
		icalcomponent_remove_component(parent, c);
		icalcomponent_free(c);
	}
}

/* Writes t into c's property of that kind (made when missing), without
 * TZID: t is a DATE, floating or UTC. */
static void put_time(icalcomponent *c, icalproperty_kind kind, struct icaltimetype t)
{
	icalproperty *p = icalcomponent_get_first_property(c, kind);
	if (p == NULL) {
		p = icalproperty_new(kind);
		icalcomponent_add_property(c, p);
	}
	icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
	icalproperty_remove_parameter_by_kind(p, ICAL_VALUE_PARAMETER);
	icalproperty_set_value(p, t.is_date ? icalvalue_new_date(t) : icalvalue_new_datetime(t));
}

/* RFC 4791 9.6.5: every time with a zone in UTC, so that the answer needs
 * no VTIMEZONE. A TZID nobody defines was read in the calendar's zone for
 * matching, and is converted from it. */
static void zoned_to_utc(icalcomponent *c, icaltimezone *fz)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		if (icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) == NULL)
			continue;
		icalvalue *v = icalproperty_get_value(p);
		if (v != NULL && icalvalue_isa(v) == ICAL_DATETIME_VALUE) {
			struct icaltimetype t = icalproperty_get_datetime_with_component(p, c);
			if (!t.is_date && !icaltime_is_null_time(t)) {
				t.zone = conversion_zone(t.zone != NULL ? t.zone
				                                        : (fz != NULL ? fz : utc));
				icalproperty_set_value(
					p,
					icalvalue_new_datetime(icaltime_convert_to_zone(t, utc)));
			}
		}
		icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
	}
	for (icalcomponent *sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     sub != NULL; sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		zoned_to_utc(sub, fz);
}

struct instance {
	icalcomponent *c;
	int64_t start, end;
	struct icaltimetype rid; /* null for a component without dates */
};

struct expansion {
	int64_t start, end;
	GArray *instances; /* struct instance, in range */
	bool too_many;
};

static bool collect_instance(icalcomponent *c, int64_t start, int64_t end,
                             const struct icaltimetype *rid, void *ctx)
{
	struct expansion *x = ctx;
	if (!touches(start, end, x->start, x->end))
		return true;
	if (x->instances->len >= PIM_EXPAND_INSTANCES) {
		x->too_many = true;
		return false;
	}
	struct instance in = {c, start, end, rid != NULL ? *rid : icaltime_null_time()};
	g_array_append_val(x->instances, in);
	return true;
}

static gint by_start(gconstpointer a, gconstpointer b)
{
	const struct instance *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* What an expanded master instance writes for a time of its own: DATE
 * and floating values stay as they are, moved by `shift` seconds;
 * zoned ones become UTC. */
static struct icaltimetype instance_time(struct icaltimetype local, bool zoned, int64_t utc,
                                         int64_t shift)
{
	if (zoned && !local.is_date)
		return icaltime_from_timet_with_zone((time_t)utc, 0,
		                                     icaltimezone_get_utc_timezone());
	local.zone = NULL;
	if (shift == 0)
		return local;
	/* A DATE instance lasts whole days, whatever the zone's DST did. */
	if (local.is_date)
		shift = (shift + 43200) / 86400 * 86400;
	return icaltime_from_timet_with_zone(icaltime_as_timet(local) + (time_t)shift,
	                                     local.is_date, NULL);
}

/* A master instance of a recurring component gets its own start, end (or
 * due) and RECURRENCE-ID; DURATION stays. */
static void set_instance_times(icalcomponent *c, const struct instance *in, bool zoned)
{
	struct icaltimetype start = instance_time(in->rid, zoned, in->start, 0);
	struct icaltimetype end = instance_time(in->rid, zoned, in->end, in->end - in->start);
	if (icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) != NULL)
		put_time(c, ICAL_DTSTART_PROPERTY, start);
	if (icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY) != NULL)
		put_time(c, ICAL_DTEND_PROPERTY, end);
	else if (icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY) != NULL)
		put_time(c, ICAL_DUE_PROPERTY, end);
	put_time(c, ICAL_RECURRENCEID_PROPERTY, start);
}

static size_t text_size(icalcomponent *c)
{
	char *text = icalcomponent_as_ical_string_r(c);
	size_t n = strlen(text);
	icalmemory_free_buffer(text);
	return n;
}

/* The instances of the object's events and tasks in range, in order. */
static int expand_instances(icalcomponent *root, icaltimezone *fz, struct expansion *x,
                            struct ox_error *err)
{
	enum walk_result r = walk(root, 0, fz, x->end, PIM_MATCH_INSTANCES, collect_instance, x);
	if (x->too_many)
		return ox_error_set(err, OX_ERR_LIMIT,
		                    "the object has more than %d instances in the range",
		                    PIM_EXPAND_INSTANCES);
	if (r == WALK_OPEN)
		return ox_error_set(err, OX_ERR_LIMIT,
		                    "the object's recurrence has more than %d instances before the "
		                    "range ends",
		                    PIM_MATCH_INSTANCES);
	g_array_sort(x->instances, by_start);
	return 0;
}

/* RFC 4791 9.6.5: one component per instance in [start, end), in a new
 * VCALENDAR that replaces *root_io. */
static int expand(icalcomponent **root_io, icaltimezone *fz, int64_t start, int64_t end,
                  struct ox_error *err)
{
	icalcomponent *root = *root_io, *master = NULL;
	bool recurring = false;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (component_of(c) == 0)
			continue;
		bool override = !icaltime_is_null_time(recurrence_id(c));
		master = override ? master : c;
		recurring = recurring || override ||
		            icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) != NULL ||
		            icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY) != NULL;
	}
	/* Whether the master's times have a zone: its instances are then
	 * written in UTC, else as floating times or dates. */
	icalproperty *dtstart =
		master != NULL ? icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY)
			       : NULL;
	bool zoned = dtstart != NULL &&
	             (icalproperty_get_first_parameter(dtstart, ICAL_TZID_PARAMETER) != NULL ||
	              icaltime_is_utc(icalproperty_get_dtstart(dtstart)));
	struct expansion x = {start, end, g_array_new(FALSE, FALSE, sizeof(struct instance)),
	                      false};
	int ret = expand_instances(root, fz, &x, err);
	icalcomponent *out = ret == 0 ? icalcomponent_new(ICAL_VCALENDAR_COMPONENT) : NULL;
	if (out != NULL) {
		/* The instances keep their times; the rest become UTC now. */
		for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
			if (component_of(c) != 0)
				zoned_to_utc(c, fz);
		}
		for (icalproperty *p = icalcomponent_get_first_property(root, ICAL_ANY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(root, ICAL_ANY_PROPERTY))
			icalcomponent_add_property(out, icalproperty_new_clone(p));
	}
	size_t bytes = 0, master_size = 0;
	for (guint i = 0; ret == 0 && i < x.instances->len; i++) {
		const struct instance *in = &g_array_index(x.instances, struct instance, i);
		if (in->c != master || master_size == 0) {
			size_t n = text_size(in->c);
			master_size = in->c == master ? n : master_size;
			bytes += n;
		} else {
			bytes += master_size;
		}
		if (bytes > PIM_VIEW_MAX) {
			ret = ox_error_set(err, OX_ERR_LIMIT, "the expanded object passes %d bytes",
			                   PIM_VIEW_MAX);
			break;
		}
		icalcomponent *copy = icalcomponent_new_clone(in->c);
		if (in->c == master && recurring && !icaltime_is_null_time(in->rid))
			set_instance_times(copy, in, zoned);
		icalcomponent_add_component(out, copy);
	}
	g_array_free(x.instances, TRUE);
	if (out != NULL)
		remove_recurrence(out); /* the instances, and the calendar's own lines */
	if (ret < 0) {
		if (out != NULL)
			icalcomponent_free(out);
		return -1;
	}
	icalcomponent_free(root);
	*root_io = out;
	return 0;
}

/* RFC 4791 9.6.6: the master and the overrides whose instance, as it is
 * or as it would have been, touches [start, end). */
static void limit_recurrences(icalcomponent *root, icaltimezone *fz, int64_t start, int64_t end)
{
	icalcomponent *master = NULL;
	GPtrArray *overrides = g_ptr_array_new(), *gone = g_ptr_array_new();
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (component_of(c) == 0)
			continue;
		if (icaltime_is_null_time(recurrence_id(c)))
			master = c;
		else
			g_ptr_array_add(overrides, c);
	}
	int64_t master_start, length = 0;
	if (master != NULL && !base_instance(master, fz, &master_start, &length))
		length = 0;
	for (guint i = 0; i < overrides->len; i++) {
		icalcomponent *c = g_ptr_array_index(overrides, i);
		int64_t s, len;
		/* An instance without dates touches every range (RFC 4791 9.9). */
		bool keep = !base_instance(c, fz, &s, &len) || touches(s, s + len, start, end);
		int64_t original = utc_of(recurrence_id(c), fz);
		if (!keep && !touches(original, original + length, start, end))
			g_ptr_array_add(gone, c);
	}
	remove_components(root, gone);
	g_ptr_array_unref(overrides);
	g_ptr_array_unref(gone);
}

/* RFC 4791 9.6.7: only the FREEBUSY periods of VFREEBUSY components that
 * touch [start, end). */
static void limit_freebusy(icalcomponent *root, icaltimezone *fz, int64_t start, int64_t end)
{
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VFREEBUSY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_VFREEBUSY_COMPONENT)) {
		GPtrArray *gone = g_ptr_array_new();
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
			struct icalperiodtype period = icalproperty_get_freebusy(p);
			int64_t s = utc_of(period.start, fz);
			int64_t e = icaltime_is_null_time(period.end)
			                    ? s + icaldurationtype_as_int(period.duration)
			                    : utc_of(period.end, fz);
			if (!touches(s, e, start, end))
				g_ptr_array_add(gone, p);
		}
		for (guint i = 0; i < gone->len; i++) {
			icalcomponent_remove_property(c, g_ptr_array_index(gone, i));
			icalproperty_free(g_ptr_array_index(gone, i));
		}
		g_ptr_array_unref(gone);
	}
}

static const struct pim_select_prop *selected_prop(const struct pim_select *sel, const char *name)
{
	for (size_t i = 0; name != NULL && i < sel->nprops; i++) {
		if (g_ascii_strcasecmp(sel->props[i].name, name) == 0)
			return &sel->props[i];
	}
	return NULL;
}

static const struct pim_select *selected_comp(const struct pim_select *sel, icalcomponent *c)
{
	const char *name = icalcomponent_kind_to_string(icalcomponent_isa(c));
	for (size_t i = 0; name != NULL && i < sel->ncomps; i++) {
		if (g_ascii_strcasecmp(sel->comps[i].name, name) == 0)
			return &sel->comps[i];
	}
	return NULL;
}

/* RFC 4791 9.6.4 novalue: the property with its parameters and an empty
 * value. libical cannot empty a typed value, so an X- property of the
 * same name stands in for it. */
static icalproperty *without_value(icalproperty *p)
{
	icalproperty *blank = icalproperty_new(ICAL_X_PROPERTY);
	icalproperty_set_x_name(blank, icalproperty_get_property_name(p));
	for (icalparameter *a = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER); a != NULL;
	     a = icalproperty_get_next_parameter(p, ICAL_ANY_PARAMETER))
		icalproperty_add_parameter(blank, icalparameter_new_clone(a));
	icalproperty_set_value(blank, icalvalue_new_x(""));
	return blank;
}

static void select_props(icalcomponent *c, const struct pim_select *sel)
{
	GPtrArray *gone = g_ptr_array_new(), *blanks = g_ptr_array_new();
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		const struct pim_select_prop *want =
			selected_prop(sel, icalproperty_get_property_name(p));
		if (want == NULL || want->novalue)
			g_ptr_array_add(gone, p);
		if (want != NULL && want->novalue)
			g_ptr_array_add(blanks, without_value(p));
	}
	for (guint i = 0; i < gone->len; i++) {
		icalcomponent_remove_property(c, g_ptr_array_index(gone, i));
		icalproperty_free(g_ptr_array_index(gone, i));
	}
	for (guint i = 0; i < blanks->len; i++)
		icalcomponent_add_property(c, g_ptr_array_index(blanks, i));
	g_ptr_array_unref(gone);
	g_ptr_array_unref(blanks);
}

/* RFC 4791 9.6.1: only the components and properties sel names. */
static void select_parts(icalcomponent *c, const struct pim_select *sel)
{
	if (!sel->all_props)
		select_props(c, sel);
	if (sel->all_comps)
		return;
	GPtrArray *gone = g_ptr_array_new(), *kept = g_ptr_array_new();
	for (icalcomponent *sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     sub != NULL; sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		g_ptr_array_add(selected_comp(sel, sub) != NULL ? kept : gone, sub);
	remove_components(c, gone);
	/* Collected first: the recursion iterates the children's children. */
	for (guint i = 0; i < kept->len; i++) {
		icalcomponent *sub = g_ptr_array_index(kept, i);
		select_parts(sub, selected_comp(sel, sub));
	}
	g_ptr_array_unref(gone);
	g_ptr_array_unref(kept);
}

int pim_view_apply(const char *data, const struct pim_view *view, const struct pim_zone *zone,
                   char **text_r, struct ox_error *err)
{
	*text_r = NULL;
	if (pim_view_is_stored(view)) {
		*text_r = g_strdup(data);
		return 0;
	}
	icalcomponent *root = parse(data, strlen(data));
	if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		if (root != NULL)
			icalcomponent_free(root);
		return ox_error_set(err, OX_ERR_INVALID, "the object is not one VCALENDAR");
	}
	icaltimezone *fz = floating_zone(zone);
	int ret = 0;
	if (view->recurrence == PIM_RECURRENCE_EXPAND)
		ret = expand(&root, fz, view->start, view->end, err);
	else if (view->recurrence == PIM_RECURRENCE_LIMIT)
		limit_recurrences(root, fz, view->start, view->end);
	if (ret == 0 && view->limit_freebusy)
		limit_freebusy(root, fz, view->fb_start, view->fb_end);
	if (ret == 0 && view->select != NULL)
		select_parts(root, view->select);
	if (ret == 0) {
		char *text = icalcomponent_as_ical_string_r(root);
		if (strlen(text) > PIM_VIEW_MAX)
			ret = ox_error_set(err, OX_ERR_LIMIT, "the object's view passes %d bytes",
			                   PIM_VIEW_MAX);
		else
			*text_r = g_strdup(text);
		icalmemory_free_buffer(text);
	}
	icalcomponent_free(root);
	return ret;
}
