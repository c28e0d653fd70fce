/* iTIP (RFC 5546) on libical for implicit scheduling (RFC 6638): who
 * organizes an object and who attends it, and the messages and copies
 * made from it. Pure: text in, text out. */
#include "pim/pim-itip.h"

#include <glib.h>
#include <libical/ical.h>
#include <string.h>

void pim_itip_clear(struct pim_itip *it)
{
	g_free(it->uid);
	g_free(it->organizer);
	g_free(it->organizer_status);
	for (size_t i = 0; i < it->nattendees; i++) {
		g_free(it->attendees[i].address);
		g_free(it->attendees[i].partstat);
	}
	g_free(it->attendees);
	memset(it, 0, sizeof(*it));
}

char *pim_itip_address(const char *cal_address)
{
	if (cal_address == NULL)
		return NULL;
	if (g_ascii_strncasecmp(cal_address, "mailto:", 7) == 0)
		cal_address += 7;
	if (*cal_address == '\0' || strchr(cal_address, '@') == NULL)
		return NULL;
	return g_ascii_strdown(cal_address, -1);
}

static icalcomponent *parse(const char *data)
{
	/* libical's default aborts the process on a malformed value. */
	icalerror_set_errors_are_fatal(0);
	icalcomponent *root = icalparser_parse_string(data);
	if (root != NULL && icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(root);
		root = NULL;
	}
	return root;
}

static bool scheduled_kind(icalcomponent *c)
{
	icalcomponent_kind k = icalcomponent_isa(c);
	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT;
}

/* RFC 6638 7.1: SCHEDULE-AGENT other than SERVER leaves the party to the
 * client. */
static bool server_schedules(icalproperty *p)
{
	icalparameter *agent = icalproperty_get_first_parameter(p, ICAL_SCHEDULEAGENT_PARAMETER);
	return agent == NULL ||
	       icalparameter_get_scheduleagent(agent) == ICAL_SCHEDULEAGENT_SERVER ||
	       icalparameter_get_scheduleagent(agent) == ICAL_SCHEDULEAGENT_X;
}

static bool is_group(icalproperty *p)
{
	icalparameter *cutype = icalproperty_get_first_parameter(p, ICAL_CUTYPE_PARAMETER);
	return cutype != NULL && icalparameter_get_cutype(cutype) == ICAL_CUTYPE_GROUP;
}

static icalparameter_scheduleforcesend force_send_of(icalproperty *p)
{
	icalparameter *force =
		icalproperty_get_first_parameter(p, ICAL_SCHEDULEFORCESEND_PARAMETER);
	return force != NULL ? icalparameter_get_scheduleforcesend(force)
	                     : ICAL_SCHEDULEFORCESEND_NONE;
}

static bool has_param(icalproperty *p, icalparameter_kind kind)
{
	return icalproperty_get_first_parameter(p, kind) != NULL;
}

/* Removes every parameter of that kind: whether there was one. */
static bool drop_param(icalproperty *p, icalparameter_kind kind)
{
	bool found = false;
	while (has_param(p, kind)) {
		icalproperty_remove_parameter_by_kind(p, kind);
		found = true;
	}
	return found;
}

static const char *partstat_of(icalproperty *p)
{
	icalparameter *ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	if (ps == NULL)
		return "NEEDS-ACTION";
	const char *text = icalparameter_get_xvalue(ps);
	if (text == NULL)
		text = icalparameter_enum_to_string((int)icalparameter_get_partstat(ps));
	return text != NULL ? text : "NEEDS-ACTION";
}

static struct pim_itip_attendee *find_attendee(struct pim_itip *it, const char *address)
{
	for (size_t i = 0; i < it->nattendees; i++) {
		if (strcmp(it->attendees[i].address, address) == 0)
			return &it->attendees[i];
	}
	return NULL;
}

int pim_itip_parse(const char *data, struct pim_itip *it_r)
{
	memset(it_r, 0, sizeof(*it_r));
	icalcomponent *root = parse(data);
	if (root == NULL)
		return -1;
	GArray *atts = g_array_new(FALSE, TRUE, sizeof(struct pim_itip_attendee));
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (!scheduled_kind(c))
			continue;
		bool master =
			icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) == NULL;
		if (it_r->uid == NULL && icalcomponent_get_uid(c) != NULL)
			it_r->uid = g_strdup(icalcomponent_get_uid(c));
		if (master && icalcomponent_get_status(c) == ICAL_STATUS_CANCELLED)
			it_r->cancelled = true;
		icalproperty *org = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
		if (org != NULL && it_r->organizer == NULL) {
			it_r->organizer = pim_itip_address(icalproperty_get_organizer(org));
			it_r->organizer_by_client = !server_schedules(org);
			icalparameter *status = icalproperty_get_first_parameter(
				org, ICAL_SCHEDULESTATUS_PARAMETER);
			if (status != NULL && icalparameter_get_schedulestatus(status) != NULL)
				it_r->organizer_status =
					g_strdup(icalparameter_get_schedulestatus(status));
		}
		if (org != NULL && force_send_of(org) == ICAL_SCHEDULEFORCESEND_REPLY)
			it_r->force_reply = true;
		if (org != NULL && has_param(org, ICAL_SCHEDULEFORCESEND_PARAMETER))
			it_r->has_force_send = true;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			if (has_param(p, ICAL_SCHEDULEFORCESEND_PARAMETER))
				it_r->has_force_send = true;
			char *address = pim_itip_address(icalproperty_get_attendee(p));
			if (address == NULL)
				continue;
			it_r->attendees = (struct pim_itip_attendee *)(void *)atts->data;
			it_r->nattendees = atts->len;
			struct pim_itip_attendee *known = find_attendee(it_r, address);
			/* The master's answer is the attendee's answer. */
			if (known != NULL) {
				if (master) {
					g_free(known->partstat);
					known->partstat = g_strdup(partstat_of(p));
				}
				g_free(address);
				continue;
			}
			struct pim_itip_attendee a = {
				.address = address,
				.partstat = g_strdup(partstat_of(p)),
				.by_client = !server_schedules(p),
				.group = is_group(p),
			};
			g_array_append_val(atts, a);
		}
	}
	icalcomponent_free(root);
	it_r->nattendees = atts->len;
	it_r->attendees = (struct pim_itip_attendee *)(void *)g_array_free(atts, FALSE);
	return it_r->uid != NULL ? 0 : (pim_itip_clear(it_r), -1);
}

const struct pim_itip_attendee *pim_itip_attendee(const struct pim_itip *it, const char *address)
{
	return find_attendee((struct pim_itip *)it, address);
}

static char *serialize(icalcomponent *root)
{
	char *text = icalcomponent_as_ical_string_r(root);
	char *copy = g_strdup(text);
	icalmemory_free_buffer(text);
	icalcomponent_free(root);
	return copy;
}

static void set_method(icalcomponent *root, icalproperty_method method)
{
	icalproperty *p;
	while ((p = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY)) != NULL) {
		icalcomponent_remove_property(root, p);
		icalproperty_free(p);
	}
	if (method != ICAL_METHOD_NONE)
		icalcomponent_add_property(root, icalproperty_new_method(method));
}

static icalproperty_method method_of(enum pim_itip_method m)
{
	switch (m) {
	case PIM_ITIP_REQUEST:
		return ICAL_METHOD_REQUEST;
	case PIM_ITIP_REPLY:
		return ICAL_METHOD_REPLY;
	case PIM_ITIP_CANCEL:
		return ICAL_METHOD_CANCEL;
	case PIM_ITIP_NONE:
		break;
	}
	return ICAL_METHOD_NONE;
}

static bool attendee_is(icalproperty *p, const char *address)
{
	char *a = pim_itip_address(icalproperty_get_attendee(p));
	bool same = a != NULL && strcmp(a, address) == 0;
	g_free(a);
	return same;
}

static void set_partstat(icalproperty *p, const char *partstat)
{
	icalparameter_partstat v = icalparameter_string_to_enum(partstat);
	icalparameter *ps = v >= ICAL_PARTSTAT_X && v <= ICAL_PARTSTAT_NONE
	                            ? icalparameter_new_partstat((icalparameter_partstat)v)
	                            : icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION);
	icalproperty_set_parameter(p, ps);
}

/* Calls fn for each ORGANIZER and ATTENDEE of the object's events and
 * tasks, where the scheduling parameters live. */
typedef void party_fn(icalproperty *p, bool organizer, void *ctx);
static void each_party(icalcomponent *root, party_fn *fn, void *ctx)
{
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (!scheduled_kind(c))
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
			icalproperty_kind k = icalproperty_isa(p);
			if (k == ICAL_ORGANIZER_PROPERTY || k == ICAL_ATTENDEE_PROPERTY)
				fn(p, k == ICAL_ORGANIZER_PROPERTY, ctx);
		}
	}
}

/* The parameters that steer the sender's server only: none of them goes
 * to another calendar user (RFC 6638 7.1-7.3). */
static void drop_scheduling_params(icalproperty *p, bool organizer, void *ctx)
{
	drop_param(p, ICAL_SCHEDULEAGENT_PARAMETER);
	drop_param(p, ICAL_SCHEDULESTATUS_PARAMETER);
	drop_param(p, ICAL_SCHEDULEFORCESEND_PARAMETER);
}

char *pim_itip_with_partstat(const char *data, const char *address, const char *partstat,
                             enum pim_itip_method method)
{
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	bool found = false;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (!scheduled_kind(c))
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			if (attendee_is(p, address)) {
				set_partstat(p, partstat);
				found = true;
			}
		}
	}
	if (!found) {
		icalcomponent_free(root);
		return NULL;
	}
	set_method(root, method_of(method));
	return serialize(root);
}

char *pim_itip_message(const char *data, enum pim_itip_method method)
{
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	if (method == PIM_ITIP_CANCEL) {
		for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
			if (scheduled_kind(c))
				icalcomponent_set_status(c, ICAL_STATUS_CANCELLED);
		}
	}
	each_party(root, drop_scheduling_params, NULL);
	set_method(root, method_of(method));
	return serialize(root);
}

char *pim_itip_reply(const char *data, const char *address)
{
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	/* RFC 5546 3.2.3: a REPLY names only the replying attendee. */
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (!scheduled_kind(c))
			continue;
		icalproperty *next;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = next) {
			next = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY);
			if (!attendee_is(p, address)) {
				icalcomponent_remove_property(c, p);
				icalproperty_free(p);
			}
		}
	}
	each_party(root, drop_scheduling_params, NULL);
	set_method(root, ICAL_METHOD_REPLY);
	return serialize(root);
}

/* Whether the text names a SCHEDULE- parameter at all, in any case: most
 * objects do not, and are then not parsed. */
static bool mentions_schedule_params(const char *data)
{
	static const char *const names[] = {"SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND"};
	for (const char *p = data; *p != '\0'; p++) {
		if (*p != 'S' && *p != 's')
			continue;
		for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
			if (g_ascii_strncasecmp(p, names[i], strlen(names[i])) == 0)
				return true;
		}
	}
	return false;
}

static void scrub_party(icalproperty *p, bool organizer, void *ctx)
{
	bool *changed = ctx;
	if (drop_param(p, ICAL_SCHEDULEFORCESEND_PARAMETER))
		*changed = true;
	/* RFC 6638 3.2.9: the server reports its own deliveries. */
	if ((organizer || server_schedules(p)) && drop_param(p, ICAL_SCHEDULESTATUS_PARAMETER))
		*changed = true;
}

char *pim_itip_scrub(const char *data)
{
	if (!mentions_schedule_params(data))
		return NULL;
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	bool changed = false;
	each_party(root, scrub_party, &changed);
	if (!changed) {
		icalcomponent_free(root);
		return NULL;
	}
	return serialize(root);
}

static void set_status(icalproperty *p, const char *status)
{
	if (status[0] == '\0')
		drop_param(p, ICAL_SCHEDULESTATUS_PARAMETER);
	else
		icalproperty_set_parameter(p, icalparameter_new_schedulestatus(status));
}

struct status_edit {
	GHashTable *attendees;
	const char *organizer;
};

static void status_party(icalproperty *p, bool organizer, void *ctx)
{
	const struct status_edit *edit = ctx;
	drop_param(p, ICAL_SCHEDULEFORCESEND_PARAMETER);
	if (organizer) {
		if (edit->organizer != NULL)
			set_status(p, edit->organizer);
		return;
	}
	if (edit->attendees == NULL)
		return;
	char *address = pim_itip_address(icalproperty_get_attendee(p));
	const char *status = address != NULL ? g_hash_table_lookup(edit->attendees, address) : NULL;
	if (status != NULL)
		set_status(p, status);
	g_free(address);
}

char *pim_itip_with_status(const char *data, GHashTable *attendees, const char *organizer)
{
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	struct status_edit edit = {attendees, organizer};
	each_party(root, status_party, &edit);
	return serialize(root);
}

/* A member's ATTENDEE line, modelled on the group's (group_line names
 * `group`, an address as pim_itip_address() makes them). */
static icalproperty *member_attendee(icalproperty *group_line, const char *group,
                                     const char *member)
{
	char *value = g_strconcat("mailto:", member, NULL);
	icalproperty *p = icalproperty_new_attendee(value);
	g_free(value);
	icalproperty_add_parameter(p, icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
	value = g_strconcat("mailto:", group, NULL);
	icalproperty_add_parameter(p, icalparameter_new_member(value));
	g_free(value);
	icalparameter *role = icalproperty_get_first_parameter(group_line, ICAL_ROLE_PARAMETER);
	icalproperty_add_parameter(p, role != NULL
	                                      ? icalparameter_new_clone(role)
	                                      : icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
	icalproperty_add_parameter(p, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
	icalparameter *rsvp = icalproperty_get_first_parameter(group_line, ICAL_RSVP_PARAMETER);
	icalproperty_add_parameter(p, rsvp != NULL ? icalparameter_new_clone(rsvp)
	                                           : icalparameter_new_rsvp(ICAL_RSVP_TRUE));
	return p;
}

/* Adds the members to one component naming the group: how many. */
static size_t add_members(icalcomponent *c, const char *group, char *const *members)
{
	icalproperty *group_line = NULL;
	GHashTable *present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		char *address = pim_itip_address(icalproperty_get_attendee(p));
		if (address == NULL)
			continue;
		if (group_line == NULL && strcmp(address, group) == 0)
			group_line = p;
		g_hash_table_add(present, address);
	}
	size_t added = 0;
	for (char *const *m = members; group_line != NULL && *m != NULL; m++) {
		if (g_hash_table_contains(present, *m))
			continue;
		icalcomponent_add_property(c, member_attendee(group_line, group, *m));
		g_hash_table_add(present, g_strdup(*m));
		added++;
	}
	g_hash_table_unref(present);
	return added;
}

char *pim_itip_with_members(const char *data, const char *group, char *const *members)
{
	icalcomponent *root = parse(data);
	if (root == NULL)
		return NULL;
	size_t added = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (scheduled_kind(c))
			added += add_members(c, group, members);
	}
	if (added == 0) {
		icalcomponent_free(root);
		return NULL;
	}
	return serialize(root);
}

void pim_itip_fb_clear(struct pim_itip_fb *fb)
{
	g_free(fb->uid);
	g_free(fb->organizer);
	g_strfreev(fb->attendees);
	memset(fb, 0, sizeof(*fb));
}

static int64_t utc_seconds(icaltimetype t)
{
	return (int64_t)icaltime_as_timet_with_zone(
		t, t.zone != NULL ? t.zone : icaltimezone_get_utc_timezone());
}

int pim_itip_fb_parse(const char *data, struct pim_itip_fb *fb_r)
{
	memset(fb_r, 0, sizeof(*fb_r));
	icalcomponent *root = parse(data);
	if (root == NULL)
		return -1;
	icalproperty *m = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY);
	icalcomponent *fb = icalcomponent_get_first_component(root, ICAL_VFREEBUSY_COMPONENT);
	int ret = -1;
	if (m == NULL || icalproperty_get_method(m) != ICAL_METHOD_REQUEST || fb == NULL)
		goto out;
	icalproperty *org = icalcomponent_get_first_property(fb, ICAL_ORGANIZER_PROPERTY);
	icalproperty *start = icalcomponent_get_first_property(fb, ICAL_DTSTART_PROPERTY);
	icalproperty *end = icalcomponent_get_first_property(fb, ICAL_DTEND_PROPERTY);
	if (org == NULL || start == NULL || end == NULL)
		goto out;
	fb_r->organizer = pim_itip_address(icalproperty_get_organizer(org));
	fb_r->start = utc_seconds(icalproperty_get_dtstart(start));
	fb_r->end = utc_seconds(icalproperty_get_dtend(end));
	const char *uid = icalcomponent_get_uid(fb);
	fb_r->uid = g_strdup(uid != NULL ? uid : "");
	GPtrArray *atts = g_ptr_array_new();
	for (icalproperty *p = icalcomponent_get_first_property(fb, ICAL_ATTENDEE_PROPERTY);
	     p != NULL && atts->len < PIM_ITIP_FB_MAX;
	     p = icalcomponent_get_next_property(fb, ICAL_ATTENDEE_PROPERTY))
		g_ptr_array_add(atts, g_strdup(icalproperty_get_attendee(p)));
	g_ptr_array_add(atts, NULL);
	fb_r->attendees = (char **)g_ptr_array_free(atts, FALSE);
	ret = fb_r->organizer != NULL && fb_r->start < fb_r->end && fb_r->attendees[0] != NULL ? 0
	                                                                                       : -1;
out:
	icalcomponent_free(root);
	if (ret < 0)
		pim_itip_fb_clear(fb_r);
	return ret;
}

static void utc_text(int64_t t, char buf[20])
{
	GDateTime *d = g_date_time_new_from_unix_utc(t);
	if (d == NULL) {
		g_strlcpy(buf, "19700101T000000Z", 20);
		return;
	}
	g_snprintf(buf, 20, "%04d%02d%02dT%02d%02d%02dZ", g_date_time_get_year(d),
	           g_date_time_get_month(d), g_date_time_get_day_of_month(d),
	           g_date_time_get_hour(d), g_date_time_get_minute(d), g_date_time_get_second(d));
	g_date_time_unref(d);
}

void pim_itip_fb_begin(GString *out, const struct pim_itip_fb *fb, const char *attendee)
{
	char now[20], start[20], end[20];
	utc_text(g_get_real_time() / G_USEC_PER_SEC, now);
	utc_text(fb->start, start);
	utc_text(fb->end, end);
	g_string_append_printf(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	                            "PRODID:-//Open-Xchange//OX Server//EN\r\n");
	if (attendee != NULL)
		g_string_append(out, "METHOD:REPLY\r\n");
	g_string_append_printf(out, "BEGIN:VFREEBUSY\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\n",
	                       now, start, end);
	if (attendee != NULL) {
		/* Addresses are checked text (one line, no controls). */
		g_string_append_printf(out, "UID:%s\r\nORGANIZER:mailto:%s\r\nATTENDEE:%s\r\n",
		                       fb->uid, fb->organizer, attendee);
	}
}

int pim_itip_fb_period(int64_t start, int64_t end, bool tentative, void *ctx)
{
	char s[20], e[20];
	utc_text(start, s);
	utc_text(end, e);
	g_string_append_printf(ctx, "FREEBUSY;FBTYPE=%s:%s/%s\r\n",
	                       tentative ? "BUSY-TENTATIVE" : "BUSY", s, e);
	return 0;
}

void pim_itip_fb_end(GString *out)
{
	g_string_append(out, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
}
