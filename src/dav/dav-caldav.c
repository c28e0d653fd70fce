/* The CalDAV provider (RFC 4791): /dav/calendars/LOGIN/ is LOGIN's
 * calendar home as the requester sees it, each calendar a collection of
 * .ics resources. pim/pim.h decides every access and validates every
 * object; this file maps paths, properties and reports to it. */
#include "dav/dav-caldav.h"
#include "directory/directory.h"
#include "http/http.h"
#include "pim/pim-itip.h"
#include "pim/pim.h"

#include <libxml/tree.h>
#include <string.h>

#define CS_NS "http://calendarserver.org/ns/"
#define CALENDAR_TYPE "<C:calendar xmlns:C=\"" CALDAV_NS "\"/>"
#define INBOX_TYPE "<C:schedule-inbox xmlns:C=\"" CALDAV_NS "\"/>"
#define OUTBOX_TYPE "<C:schedule-outbox xmlns:C=\"" CALDAV_NS "\"/>"
#define ICAL_TYPE "text/calendar; charset=utf-8"

enum cal_kind {
	CAL_TOP,
	CAL_HOME,
	CAL_OUTBOX, /* RFC 6638 2.1: where free/busy requests are posted */
	CAL_CALENDAR,
	CAL_OBJECT
};

/* What a path names, kept in dav_resource.pdata. */
struct cal_res {
	enum cal_kind kind;
	int64_t owner;
	struct pim_calendar cal; /* CAL_CALENDAR (when it exists) and CAL_OBJECT */
	struct pim_object obj;   /* CAL_OBJECT that exists */
	char *data;              /* the object's text when a report already has it */
};

static struct cal_res *cal_of(struct dav_resource *res)
{
	return res->pdata;
}

static void cal_release(struct dav_resource *res)
{
	struct cal_res *cr = res->pdata;
	pim_calendar_clear(&cr->cal);
	pim_object_clear(&cr->obj);
	g_free(cr->data);
	g_free(cr);
	res->pdata = NULL;
}

static void copy_calendar(struct pim_calendar *dst, const struct pim_calendar *src)
{
	*dst = *src;
	dst->segment = g_strdup(src->segment);
	dst->display_name = g_strdup(src->display_name);
}

static void copy_object(struct pim_object *dst, const struct pim_object *src)
{
	*dst = *src;
	dst->name = g_strdup(src->name);
	dst->uid = g_strdup(src->uid);
}

static void describe_calendar(struct dav_resource *res, const struct pim_calendar *cal)
{
	res->exists = res->collection = true;
	res->parent_exists = true;
	res->resourcetype = cal->inbox ? INBOX_TYPE : CALENDAR_TYPE;
	/* GET answers the whole calendar (RFC 4791 5.3.1 leaves it open). */
	g_free(res->content_type);
	res->content_type = cal->inbox ? NULL : g_strdup(ICAL_TYPE);
	g_free(res->display_name);
	res->display_name = g_strdup(cal->display_name);
	res->created = cal->created;
}

static void describe_object(struct dav_resource *res, const struct pim_object *obj)
{
	res->exists = true;
	res->collection = false;
	res->parent_exists = true;
	res->length = (uint64_t)obj->size;
	g_free(res->content_type);
	g_free(res->etag);
	res->content_type = g_strdup(ICAL_TYPE);
	res->etag = g_strdup(obj->etag);
	res->created = obj->created;
	res->modified = obj->modified;
}

/* RFC 6638 8.2: GET and HEAD of a scheduling object resource answer its
 * Schedule-Tag. The engine writes the rest of the head after looking the
 * request's resource up, so the header goes in here. */
static void schedule_tag_header(struct dav_request *rq, char **segs, const struct pim_object *obj)
{
	const char *method = http_request_method(rq->ex);
	if (segs == rq->segs && obj->schedule_tag[0] != '\0' &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		http_response_header(rq->ex, "Schedule-Tag", obj->schedule_tag);
}

static int cal_lookup(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                      struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	struct cal_res *cr = g_new0(struct cal_res, 1);
	res->pdata = cr;
	if (n == 0) {
		res->exists = res->collection = true;
		return 1;
	}
	int r = dav_owner_lookup(rq, segs[0], &cr->owner, err);
	if (r <= 0 || n > 3)
		return r < 0 ? -1 : 0;
	cr->kind = CAL_HOME;
	res->parent_exists = true;
	if (n == 1) {
		res->exists = res->collection = true;
		res->display_name = g_strdup(segs[0]);
		return 1;
	}
	cr->kind = n == 2 ? CAL_CALENDAR : CAL_OBJECT;
	/* New calendars come only through MKCALENDAR, which checks the
	 * parent itself: PUT and MKCOL there have no parent collection. */
	res->parent_exists = false;
	if (strcmp(segs[1], "outbox") == 0) {
		if (n > 2 || rq->user != cr->owner)
			return 0;
		cr->kind = CAL_OUTBOX;
		res->exists = res->collection = res->parent_exists = true;
		res->resourcetype = OUTBOX_TYPE;
		return 1;
	}
	r = strcmp(segs[1], "inbox") == 0
	            ? pim_schedule_inbox(rq->store, rq->user, cr->owner, &cr->cal, err)
	            : pim_calendar_find(rq->store, rq->user, cr->owner, segs[1], &cr->cal, err);
	if (r <= 0)
		return r;
	if (n == 2) {
		describe_calendar(res, &cr->cal);
		return 1;
	}
	res->parent_exists = true;
	r = pim_object_find(rq->store, rq->user, &cr->cal, segs[2], &cr->obj, err);
	if (r > 0) {
		describe_object(res, &cr->obj);
		schedule_tag_header(rq, segs, &cr->obj);
	}
	return r;
}

/* --- members --- */

struct members_ctx {
	struct dav_request *rq;
	struct cal_res *parent;
	dav_member_fn *fn;
	void *ctx;
};

static int calendar_member(const struct pim_calendar *cal, void *ctx)
{
	struct members_ctx *c = ctx;
	struct dav_resource res = {0};
	struct cal_res *cr = g_new0(struct cal_res, 1);
	cr->kind = CAL_CALENDAR;
	cr->owner = c->parent->owner;
	copy_calendar(&cr->cal, cal);
	res.pdata = cr;
	describe_calendar(&res, cal);
	int r = c->fn(cal->segment, &res, c->ctx);
	dav_resource_clear(c->rq, &res);
	return r;
}

static int object_member(const struct pim_object *obj, const char *data, void *ctx)
{
	struct members_ctx *c = ctx;
	struct dav_resource res = {0};
	struct cal_res *cr = g_new0(struct cal_res, 1);
	cr->kind = CAL_OBJECT;
	cr->owner = c->parent->owner;
	copy_calendar(&cr->cal, &c->parent->cal);
	copy_object(&cr->obj, obj);
	cr->data = g_strdup(data);
	res.pdata = cr;
	describe_object(&res, obj);
	int r = c->fn(obj->name, &res, c->ctx);
	dav_resource_clear(c->rq, &res);
	return r;
}

/* The owner's schedule inbox and outbox, in their own home only. */
static int scheduling_members(struct dav_request *rq, struct members_ctx *c, struct ox_error *err)
{
	if (rq->user != c->parent->owner)
		return 0;
	struct pim_calendar inbox;
	int r = pim_schedule_inbox(rq->store, rq->user, c->parent->owner, &inbox, err);
	if (r > 0)
		r = calendar_member(&inbox, c);
	pim_calendar_clear(&inbox);
	if (r < 0)
		return -1;
	struct dav_resource res = {0};
	struct cal_res *cr = g_new0(struct cal_res, 1);
	cr->kind = CAL_OUTBOX;
	cr->owner = c->parent->owner;
	res.pdata = cr;
	res.exists = res.collection = res.parent_exists = true;
	res.resourcetype = OUTBOX_TYPE;
	r = c->fn("outbox", &res, c->ctx);
	dav_resource_clear(c->rq, &res);
	return r;
}

static int cal_members(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
                       void *ctx, struct ox_error *err)
{
	struct cal_res *cr = cal_of(coll);
	struct members_ctx c = {rq, cr, fn, ctx};
	if (cr->kind == CAL_HOME)
		return pim_calendar_list(rq->store, rq->user, cr->owner, calendar_member, &c, err) <
		                               0 ||
		                       scheduling_members(rq, &c, err) < 0
		               ? -1
		               : 0;
	if (cr->kind == CAL_CALENDAR)
		return pim_object_list_index(rq->store, rq->user, &cr->cal, object_member, &c, err);
	return 0;
}

/* --- content --- */

struct export_sink {
	dav_sink_fn *sink;
	void *ctx;
};

static int export_write(const char *text, size_t len, void *ctx)
{
	struct export_sink *x = ctx;
	return x->sink(text, len, x->ctx);
}

static int cal_get(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
                   uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err)
{
	struct cal_res *cr = cal_of(res);
	if (cr->kind == CAL_CALENDAR && res->exists) {
		struct export_sink x = {sink, ctx};
		return pim_calendar_export(rq->store, rq->user, &cr->cal, export_write, &x, err);
	}
	if (cr->kind != CAL_OBJECT || !res->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such object");
	char *data = NULL;
	size_t len = 0;
	if (pim_object_read(rq->store, rq->user, &cr->cal, &cr->obj, &data, &len, err) < 0)
		return -1;
	int r = 0;
	if (offset < len)
		r = sink(data + offset, (size_t)MIN(length, len - offset), ctx);
	g_free(data);
	return r < 0 ? ox_error_set(err, OX_ERR_TEMP, "the client went away") : 0;
}

static void set_condition(struct dav_request *rq, int status, const char *cond)
{
	rq->error_status = status;
	rq->error_ns = CALDAV_NS;
	rq->error_cond = cond;
}

static const char *const reject_conditions[] = {
	[PIM_REJECT_DATA] = "valid-calendar-data",
	[PIM_REJECT_OBJECT] = "valid-calendar-object-resource",
	[PIM_REJECT_COMPONENT] = "supported-calendar-component",
	[PIM_REJECT_UID] = "no-uid-conflict",
	[PIM_REJECT_SIZE] = "max-resource-size",
};

/* RFC 6638 8.3: If-Schedule-Tag-Match makes a PUT or DELETE conditional
 * on the resource's Schedule-Tag (one opaque-tag); a resource without one
 * (absent, or no scheduling object) never matches. Not the removal of a
 * COPY or MOVE's overwritten destination. 0 go on, -1 with err and a
 * plain 412. */
static int schedule_tag_check(struct dav_request *rq, struct dav_resource *res,
                              struct ox_error *err)
{
	const char *want = http_request_header(rq->ex, "If-Schedule-Tag-Match");
	const char *method = http_request_method(rq->ex);
	if (want == NULL || (strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0))
		return 0;
	struct cal_res *cr = cal_of(res);
	const char *have = res->exists && cr->kind == CAL_OBJECT ? cr->obj.schedule_tag : "";
	size_t len = strlen(want);
	while (len > 0 && (want[len - 1] == ' ' || want[len - 1] == '\t'))
		len--;
	want += strspn(want, " \t");
	if (have[0] != '\0' && strlen(have) == len && memcmp(want, have, len) == 0)
		return 0;
	rq->error_status = 412;
	return ox_error_set(err, OX_ERR_CONFLICT, "the Schedule-Tag does not match\n");
}

/* The body, at most PIM_OBJECT_MAX bytes: NULL with err past that. */
static GByteArray *read_body(dav_source_fn *src, void *ctx, struct dav_request *rq,
                             struct ox_error *err)
{
	GByteArray *buf = g_byte_array_new();
	char chunk[16384];
	ssize_t got;
	while ((got = src(chunk, sizeof(chunk), ctx)) > 0) {
		if (buf->len + (size_t)got > PIM_OBJECT_MAX) {
			g_byte_array_unref(buf);
			set_condition(rq, 403, reject_conditions[PIM_REJECT_SIZE]);
			ox_error_set(err, OX_ERR_LIMIT, "a calendar object is at most %d bytes",
			             PIM_OBJECT_MAX);
			return NULL;
		}
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)got);
	}
	if (got < 0) {
		g_byte_array_unref(buf);
		ox_error_set(err, OX_ERR_INVALID, "the request body ended early");
		return NULL;
	}
	return buf;
}

static int cal_put(struct dav_request *rq, struct dav_resource *res, const char *content_type,
                   dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err)
{
	struct cal_res *cr = cal_of(res);
	if (cr->kind != CAL_OBJECT)
		return ox_error_set(err, OX_ERR_PERM, "only calendar objects can be stored here");
	if (content_type != NULL && g_ascii_strncasecmp(content_type, "text/calendar", 13) != 0) {
		set_condition(rq, 415, "supported-calendar-data");
		return ox_error_set(err, OX_ERR_INVALID, "calendar objects are text/calendar");
	}
	if (schedule_tag_check(rq, res, err) < 0 ||
	    pim_object_may_put(rq->store, rq->user, &cr->cal, res->exists ? &cr->obj : NULL, err) <
	            0)
		return -1;
	GByteArray *body = read_body(src, ctx, rq, err);
	if (body == NULL)
		return -1;
	struct pim_object obj;
	enum pim_reject why = PIM_REJECT_NONE;
	int r = pim_object_put(rq->store, rq->user, &cr->cal, rq->segs[rq->nsegs - 1],
	                       (const char *)body->data, body->len, created_r, &obj, &why, err);
	g_byte_array_unref(body);
	if (r < 0) {
		if (why != PIM_REJECT_NONE)
			set_condition(rq, why == PIM_REJECT_UID ? 409 : 403,
			              reject_conditions[why]);
		return -1;
	}
	pim_object_clear(&cr->obj);
	cr->obj = obj;
	describe_object(res, &obj);
	/* RFC 4791 5.3.4: no ETag when the stored object is not the body. */
	if (obj.altered) {
		g_free(res->etag);
		res->etag = NULL;
	}
	/* RFC 6638 8.2: the new Schedule-Tag, even when the ETag is not
	 * given, so that the client can make its next change conditional. */
	if (obj.schedule_tag[0] != '\0')
		http_response_header(rq->ex, "Schedule-Tag", obj.schedule_tag);
	return 0;
}

static int cal_remove(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	struct cal_res *cr = cal_of(res);
	if (schedule_tag_check(rq, res, err) < 0)
		return -1;
	if (cr->kind == CAL_OBJECT) {
		/* RFC 6638 8.1: an attendee's client may remove its copy without
		 * the reply (a decline) that the removal would send. */
		const char *reply = http_request_header(rq->ex, "Schedule-Reply");
		if (reply != NULL && strcmp(reply, "T") != 0 && strcmp(reply, "F") != 0)
			return ox_error_set(err, OX_ERR_INVALID, "Schedule-Reply is T or F");
		unsigned flags = reply != NULL && strcmp(reply, "F") == 0 ? PIM_DELETE_NO_REPLY : 0;
		return pim_object_delete(rq->store, rq->user, &cr->cal, &cr->obj, flags, err);
	}
	if (cr->kind == CAL_CALENDAR)
		return pim_calendar_delete(rq->store, rq->user, &cr->cal, err);
	return ox_error_set(err, OX_ERR_PERM, "calendar homes cannot be deleted");
}

static int cal_mkcol(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	return ox_error_set(err, OX_ERR_PERM, "calendars are made with MKCALENDAR");
}

/* A property value as PROPPATCH hands it over (the element as XML text):
 * its text content, newly allocated. */
static char *prop_content(const char *xml, struct ox_error *err)
{
	void *doc = dav_xml_parse(xml, strlen(xml), err);
	if (doc == NULL)
		return NULL;
	xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
	char *content = g_strdup(text != NULL ? (const char *)text : "");
	xmlFree(text);
	xmlFreeDoc(doc);
	return content;
}

/* RFC 4791 5.2.2 (and 5.3.1.1 for MKCALENDAR): a time zone that is not
 * one VCALENDAR with one VTIMEZONE fails CALDAV:valid-calendar-data. */
static bool zone_acceptable(struct dav_request *rq, const char *text, struct ox_error *err)
{
	struct pim_zone *zone = NULL;
	if (pim_zone_parse(text, strlen(text), &zone, err) < 0) {
		set_condition(rq, 403, "valid-calendar-data");
		return false;
	}
	pim_zone_free(&zone);
	return true;
}

static bool is_prop(const struct dav_prop_op *op, const char *ns, const char *name)
{
	return strcmp(op->ns, ns) == 0 && strcmp(op->name, name) == 0;
}

/* A calendar's DAV:displayname and CALDAV:calendar-timezone, all or
 * nothing (the later of two operations on one property wins). */
static int cal_proppatch(struct dav_request *rq, struct dav_resource *res,
                         const struct dav_prop_op *ops, size_t n, struct ox_error *err)
{
	struct cal_res *cr = cal_of(res);
	for (size_t i = 0; i < n; i++) {
		bool name = is_prop(&ops[i], DAV_NS, "displayname") && ops[i].value != NULL;
		if (cr->kind != CAL_CALENDAR ||
		    (!name && !is_prop(&ops[i], CALDAV_NS, "calendar-timezone")))
			return ox_error_set(err, OX_ERR_PERM,
			                    "only a calendar's DAV:displayname and "
			                    "CALDAV:calendar-timezone can be set");
	}
	char *display_name = NULL, *zone = NULL;
	struct pim_calendar_change change = {0};
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		char **slot = is_prop(&ops[i], DAV_NS, "displayname") ? &display_name : &zone;
		change.change_zone = change.change_zone || slot == &zone;
		g_free(*slot);
		*slot = ops[i].value != NULL ? prop_content(ops[i].value, err) : NULL;
		if (ops[i].value != NULL && *slot == NULL)
			r = -1;
	}
	if (r == 0 && zone != NULL && !zone_acceptable(rq, zone, err))
		r = -1;
	if (r == 0) {
		change.display_name = display_name;
		change.zone = zone;
		change.zone_len = zone != NULL ? strlen(zone) : 0;
		r = pim_calendar_change(rq->store, rq->user, &cr->cal, &change, err);
	}
	g_free(display_name);
	g_free(zone);
	return r;
}

/* --- properties --- */

static void comp_set(GString *out, unsigned components)
{
	g_string_append(out, "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS "\">");
	if (components & PIM_COMP_VEVENT)
		g_string_append(out, "<C:comp name=\"VEVENT\"/>");
	if (components & PIM_COMP_VTODO)
		g_string_append(out, "<C:comp name=\"VTODO\"/>");
	g_string_append(out, "</C:supported-calendar-component-set>");
}

static int object_data(struct dav_request *rq, struct cal_res *cr, GString *out)
{
	struct ox_error err;
	char *data = cr->data;
	size_t len;
	if (data == NULL &&
	    pim_object_read(rq->store, rq->user, &cr->cal, &cr->obj, &data, &len, &err) < 0)
		return 0;
	char *esc = dav_xml_escape(data);
	g_string_append_printf(
		out, "<C:calendar-data xmlns:C=\"" CALDAV_NS "\">%s</C:calendar-data>", esc);
	g_free(esc);
	if (data != cr->data)
		g_free(data);
	return 1;
}

static int dav_prop(struct dav_request *rq, struct cal_res *cr, const char *name, GString *out)
{
	if (strcmp(name, "supported-report-set") == 0 && cr->kind >= CAL_CALENDAR) {
		g_string_append(out, "<D:supported-report-set xmlns:C=\"" CALDAV_NS "\">"
		                     "<D:supported-report><D:report><C:calendar-query/></D:report>"
		                     "</D:supported-report><D:supported-report><D:report>"
		                     "<C:calendar-multiget/></D:report></D:supported-report>"
		                     "<D:supported-report><D:report><C:free-busy-query/></D:report>"
		                     "</D:supported-report><D:supported-report><D:report>"
		                     "<D:sync-collection/></D:report></D:supported-report>"
		                     "</D:supported-report-set>");
		return 1;
	}
	return 0;
}

/* CALDAV:calendar-timezone: the zone set on the calendar, else the one
 * it reads floating times in (its owner's), so clients see what counts. */
static int timezone_prop(struct dav_request *rq, struct cal_res *cr, GString *out)
{
	struct pim_zone *zone = NULL;
	struct ox_error err;
	if (pim_calendar_zone(rq->store, rq->user, &cr->cal, &zone, NULL, &err) < 0)
		return 0;
	char *esc = dav_xml_escape(pim_zone_text(zone));
	g_string_append_printf(out,
	                       "<C:calendar-timezone xmlns:C=\"" CALDAV_NS "\">%s"
	                       "</C:calendar-timezone>",
	                       esc);
	g_free(esc);
	pim_zone_free(&zone);
	return 1;
}

/* The limits of RFC 4791 5.2.6-5.2.8. Dates: every DATE and DATE-TIME
 * iCalendar can write is taken. Instances: what one answer expands of
 * one object (stored rules may have more, or no end). */
static int limit_prop(const char *name, GString *out)
{
	if (strcmp(name, "max-instances") == 0)
		g_string_append_printf(out,
		                       "<C:max-instances xmlns:C=\"" CALDAV_NS "\">%d"
		                       "</C:max-instances>",
		                       PIM_EXPAND_INSTANCES);
	else if (strcmp(name, "min-date-time") == 0)
		g_string_append(out, "<C:min-date-time xmlns:C=\"" CALDAV_NS
		                     "\">00000101T000000Z</C:min-date-time>");
	else if (strcmp(name, "max-date-time") == 0)
		g_string_append(out, "<C:max-date-time xmlns:C=\"" CALDAV_NS
		                     "\">99991231T235959Z</C:max-date-time>");
	else
		return 0;
	return 1;
}

static int cal_live_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                         const char *name, GString *out)
{
	struct cal_res *cr = cal_of(res);
	if (cr == NULL || !res->exists)
		return 0;
	bool calendar = cr->kind == CAL_CALENDAR;
	if (strcmp(ns, DAV_NS) == 0)
		return dav_prop(rq, cr, name, out);
	if (strcmp(ns, CS_NS) == 0 && strcmp(name, "getctag") == 0 && calendar) {
		g_string_append_printf(out,
		                       "<X:getctag xmlns:X=\"" CS_NS "\">\"%" G_GINT64_FORMAT
		                       "\"</X:getctag>",
		                       cr->cal.modseq);
		return 1;
	}
	if (strcmp(ns, CALDAV_NS) != 0)
		return 0;
	if (strcmp(name, "calendar-home-set") == 0 && dav_user_login(rq) != NULL) {
		char *esc = g_uri_escape_string(dav_user_login(rq), "@", FALSE);
		g_string_append_printf(out,
		                       "<C:calendar-home-set xmlns:C=\"" CALDAV_NS "\"><D:href>"
		                       "/dav/calendars/%s/</D:href></C:calendar-home-set>",
		                       esc);
		g_free(esc);
	} else if (strcmp(name, "supported-calendar-component-set") == 0 && calendar) {
		comp_set(out, cr->cal.components);
	} else if (strcmp(name, "supported-calendar-data") == 0 && calendar) {
		g_string_append(out,
		                "<C:supported-calendar-data xmlns:C=\"" CALDAV_NS "\">"
		                "<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>"
		                "</C:supported-calendar-data>");
	} else if (strcmp(name, "max-resource-size") == 0 && calendar) {
		g_string_append_printf(out,
		                       "<C:max-resource-size xmlns:C=\"" CALDAV_NS "\">%d"
		                       "</C:max-resource-size>",
		                       PIM_OBJECT_MAX);
	} else if (strcmp(name, "schedule-default-calendar-URL") == 0 && calendar &&
	           cr->cal.inbox && dav_user_login(rq) != NULL) {
		/* RFC 6638 9.2: where invitations land. */
		char *esc = g_uri_escape_string(dav_user_login(rq), "@", FALSE);
		g_string_append_printf(out,
		                       "<C:schedule-default-calendar-URL xmlns:C=\"" CALDAV_NS
		                       "\"><D:href>/dav/calendars/%s/calendar/</D:href>"
		                       "</C:schedule-default-calendar-URL>",
		                       esc);
		g_free(esc);
	} else if (strcmp(name, "calendar-data") == 0 && cr->kind == CAL_OBJECT) {
		return object_data(rq, cr, out);
	} else if (strcmp(name, "schedule-tag") == 0 && cr->kind == CAL_OBJECT &&
	           cr->obj.schedule_tag[0] != '\0') {
		/* RFC 6638 9.3; asked by name only (not in allprop). */
		char *esc = dav_xml_escape(cr->obj.schedule_tag);
		g_string_append_printf(
			out, "<C:schedule-tag xmlns:C=\"" CALDAV_NS "\">%s</C:schedule-tag>", esc);
		g_free(esc);
	} else if (strcmp(name, "calendar-timezone") == 0 && calendar) {
		return timezone_prop(rq, cr, out);
	} else {
		return calendar ? limit_prop(name, out) : 0;
	}
	return 1;
}

static enum dav_prop_kind cal_prop_kind(const char *ns, const char *name)
{
	if ((strcmp(ns, DAV_NS) == 0 && strcmp(name, "displayname") == 0) ||
	    (strcmp(ns, CALDAV_NS) == 0 && strcmp(name, "calendar-timezone") == 0))
		return DAV_PROP_WRITABLE;
	if (strcmp(ns, CALDAV_NS) == 0 || strcmp(ns, CS_NS) == 0)
		return DAV_PROP_PROTECTED;
	return DAV_PROP_DEAD;
}

/* RFC 3744: a calendar's permissions are its folder's, and so are its
 * objects'; the engine shows them (dav-acl.c). */
static bool cal_acl_source(struct dav_request *rq, struct dav_resource *res,
                           struct dav_acl_source *src_r)
{
	struct cal_res *cr = cal_of(res);
	if (cr == NULL || cr->kind < CAL_CALENDAR || cr->cal.folder_id == 0)
		return false;
	src_r->folder_id = cr->cal.folder_id;
	src_r->object = cr->kind == CAL_OBJECT;
	return true;
}

/* --- REPORT --- */

static void not_found_response(struct dav_ms *ms, const char *href)
{
	char *esc = dav_xml_escape(href);
	char *text = g_strdup_printf("<D:response><D:href>%s</D:href>"
	                             "<D:status>HTTP/1.1 404 Not Found</D:status></D:response>\n",
	                             esc);
	dav_ms_append(ms, text);
	g_free(text);
	g_free(esc);
}

/* The calendar-data a report answers when it is not the stored text
 * (RFC 4791 9.6): the view, and the zone that reads floating times. */
struct report_view {
	const struct pim_view *view;  /* NULL: the stored text */
	const struct pim_zone *fixed; /* the query's CALDAV:timezone, or NULL */
	struct pim_zone *zone;        /* else the calendar's, loaded for folder_id */
	int64_t folder_id;
};

static bool asks_calendar_data(const struct dav_propfind *pf)
{
	for (guint i = 0; pf->kind == DAV_PROPFIND_PROP && i < pf->props->len; i++) {
		const struct dav_prop_name *pn = &g_array_index(pf->props, struct dav_prop_name, i);
		if (strcmp(pn->ns, CALDAV_NS) == 0 && strcmp(pn->name, "calendar-data") == 0)
			return true;
	}
	return false;
}

static const struct pim_zone *view_zone(struct dav_request *rq, struct report_view *v,
                                        const struct pim_calendar *cal, struct ox_error *err)
{
	if (v->fixed != NULL)
		return v->fixed;
	if (v->zone == NULL || v->folder_id != cal->folder_id) {
		pim_zone_free(&v->zone);
		if (pim_calendar_zone(rq->store, rq->user, cal, &v->zone, NULL, err) < 0)
			return NULL;
		v->folder_id = cal->folder_id;
	}
	return v->zone;
}

/* Puts the object as the view shows it into cr->data, where calendar-data
 * finds it: 1; 0 when it passes the view's bounds (err says how); -1 when
 * it could not be read (calendar-data then says so as it would anyway). */
static int apply_view(struct dav_request *rq, struct report_view *v, struct cal_res *cr,
                      struct ox_error *err)
{
	if (v->view == NULL)
		return 1;
	const struct pim_zone *zone = view_zone(rq, v, &cr->cal, err);
	char *raw = cr->data;
	size_t len;
	if (zone == NULL || (raw == NULL && pim_object_read(rq->store, rq->user, &cr->cal, &cr->obj,
	                                                    &raw, &len, err) < 0))
		return -1;
	char *text = NULL;
	int r = pim_view_apply(raw, v->view, zone, &text, err);
	if (raw != cr->data)
		g_free(raw);
	if (r < 0)
		return err->code == OX_ERR_LIMIT ? 0 : -1;
	g_free(cr->data);
	cr->data = text;
	return 1;
}

/* One object's response. Past the expansion bounds it is a 403 with
 * CALDAV:max-instances (the limit RFC 4791 5.2.8 names) for that object
 * alone, so the rest of the report still answers. */
static void object_response(struct dav_request *rq, struct report_view *v,
                            const struct dav_propfind *pf, char **segs, size_t n,
                            struct dav_resource *res, struct dav_ms *ms)
{
	struct ox_error err = {0};
	GString *out = g_string_new(NULL);
	if (apply_view(rq, v, cal_of(res), &err) == 0) {
		char *href = dav_href(rq, segs, n, false);
		char *esc = dav_xml_escape(href), *why = dav_xml_escape(err.message);
		g_string_append_printf(out,
		                       "<D:response><D:href>%s</D:href>"
		                       "<D:status>HTTP/1.1 403 Forbidden</D:status>"
		                       "<D:error><C:max-instances xmlns:C=\"" CALDAV_NS "\"/>"
		                       "</D:error><D:responsedescription>%s"
		                       "</D:responsedescription></D:response>\n",
		                       esc, why);
		g_free(why);
		g_free(esc);
		g_free(href);
	} else {
		dav_response_xml(rq, pf, segs, n, res, out);
	}
	dav_ms_append(ms, out->str);
	g_string_free(out, TRUE);
}

static void multiget(struct dav_request *rq, struct dav_caldav_report *r, struct report_view *v)
{
	struct dav_ms ms;
	dav_ms_begin(&ms, rq, 207);
	for (guint i = 0; i < r->hrefs->len && !ms.failed; i++) {
		const char *href = g_ptr_array_index(r->hrefs, i);
		size_t n = 0;
		char **segs = dav_target_segs(rq, href, &n);
		struct dav_resource res = {0};
		struct ox_error err;
		if (segs != NULL && cal_lookup(rq, segs, n, &res, &err) > 0 && !res.collection)
			object_response(rq, v, &r->pf, segs, n, &res, &ms);
		else
			not_found_response(&ms, href);
		dav_resource_clear(rq, &res);
		g_strfreev(segs);
	}
	dav_ms_end(&ms);
}

struct query_ctx {
	struct dav_request *rq;
	struct dav_caldav_report *r;
	struct cal_res *parent;
	const char *only; /* a name, when the query is on one object */
	struct report_view *view;
	struct dav_ms ms;
};

static int query_member(const char *name, struct dav_resource *member, void *ctx)
{
	struct query_ctx *q = ctx;
	if (q->only != NULL && strcmp(name, q->only) != 0)
		return 0;
	char *segs[3] = {q->rq->segs[0], q->rq->segs[1], (char *)name};
	object_response(q->rq, q->view, &q->r->pf, segs, 3, member, &q->ms);
	return q->ms.failed ? -1 : 0;
}

static int query_object(const struct pim_object *obj, const char *data, void *ctx)
{
	struct query_ctx *q = ctx;
	struct members_ctx c = {q->rq, q->parent, query_member, q};
	return object_member(obj, data, &c);
}

static void query(struct dav_request *rq, struct dav_resource *res, struct dav_caldav_report *r,
                  struct report_view *v)
{
	struct cal_res *cr = cal_of(res);
	struct query_ctx q = {rq, r, cr, NULL, v, {0}};
	if (cr->kind == CAL_OBJECT)
		q.only = rq->segs[2];
	/* RFC 4791 9.9: floating times in the query's zone, else the
	 * calendar's (pim's default). */
	struct pim_query pq = {r->components, r->has_range, r->start, r->end, r->filter, v->fixed};
	struct ox_error err;
	dav_ms_begin(&q.ms, rq, 207);
	if (cr->kind >= CAL_CALENDAR)
		pim_object_query(rq->store, rq->user, &cr->cal, &pq, query_object, &q, &err);
	dav_ms_end(&q.ms);
}

/* RFC 4791 7.10: one VFREEBUSY for the range. At most PIM_BUSY_MAX short
 * lines, so the answer is built whole. */
static void freebusy(struct dav_request *rq, struct dav_resource *res, struct dav_caldav_report *r)
{
	struct cal_res *cr = cal_of(res);
	if (cr->kind != CAL_CALENDAR) {
		dav_reply_precondition(rq, 403, "supported-report");
		return;
	}
	struct pim_itip_fb range = {.start = r->start, .end = r->end};
	GString *out = g_string_new(NULL);
	pim_itip_fb_begin(out, &range, NULL);
	struct ox_error err = {0};
	if (pim_calendar_busy(rq->store, rq->user, &cr->cal, r->start, r->end, pim_itip_fb_period,
	                      out, &err) < 0) {
		dav_reply_error(rq, &err);
	} else {
		pim_itip_fb_end(out);
		http_reply(rq->ex, 200, ICAL_TYPE, out->str, out->len);
	}
	g_string_free(out, TRUE);
}

static void cal_report(struct dav_request *rq, struct dav_resource *res, const char *body,
                       size_t len)
{
	struct dav_caldav_report r;
	const char *cond = NULL;
	struct ox_error err = {0};
	int ret = dav_caldav_parse_report(body, len, &r, &cond, &err);
	struct pim_zone *query_zone = NULL;
	struct report_view v = {0};
	if (ret == 0 && asks_calendar_data(&r.pf) && !pim_view_is_stored(&r.view))
		v.view = &r.view;
	/* RFC 4791 7.8: CALDAV:timezone must be one VTIMEZONE. */
	if (ret == 0 && r.time_zone != NULL &&
	    pim_zone_parse(r.time_zone, strlen(r.time_zone), &query_zone, &err) < 0) {
		ret = -1;
		cond = "valid-calendar-data";
	}
	v.fixed = query_zone;
	if (ret > 0)
		dav_reply_precondition(rq, 403, "supported-report");
	else if (ret < 0 && cond != NULL)
		dav_reply_condition(rq, 403, CALDAV_NS, cond, err.message);
	else if (ret < 0)
		dav_reply_error(rq, &err);
	else if (r.kind == CALDAV_REPORT_MULTIGET)
		multiget(rq, &r, &v);
	else if (r.kind == CALDAV_REPORT_FREEBUSY)
		freebusy(rq, res, &r);
	else
		query(rq, res, &r, &v);
	pim_zone_free(&v.zone);
	pim_zone_free(&query_zone);
	dav_caldav_report_clear(&r);
}

/* --- sync-collection --- */

static int object_change(const char *name, const struct pim_object *obj, void *ctx)
{
	struct members_ctx *c = ctx;
	if (obj != NULL)
		return object_member(obj, NULL, c);
	struct dav_resource gone = {0};
	return c->fn(name, &gone, c->ctx);
}

static int cal_changes(struct dav_request *rq, struct dav_resource *coll, int64_t since,
                       dav_member_fn *fn, void *ctx, int64_t *state_r, struct ox_error *err)
{
	struct cal_res *cr = cal_of(coll);
	if (cr->kind != CAL_CALENDAR)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "only calendars have a change log");
	struct members_ctx c = {rq, cr, fn, ctx};
	/* Nothing comes after the newest state: the state alone, with the
	 * same read check as a listing. */
	return pim_object_changes(rq->store, rq->user, &cr->cal, since < 0 ? INT64_MAX : since,
	                          object_change, &c, state_r, err);
}

/* --- MKCALENDAR (RFC 4791 5.3.1) --- */

static void mkcalendar_checked(struct dav_request *rq, struct dav_caldav_mkcalendar *mk)
{
	struct dav_resource res = {0};
	struct ox_error err = {0};
	int r = cal_lookup(rq, rq->segs, rq->nsegs, &res, &err);
	struct cal_res *cr = cal_of(&res);
	struct pim_calendar cal = {0};
	struct pim_calendar_spec spec = {
		.segment = rq->nsegs == 2 ? rq->segs[1] : NULL,
		.display_name = mk->display_name,
		.components = mk->components,
		.zone = mk->time_zone,
		.zone_len = mk->time_zone != NULL ? strlen(mk->time_zone) : 0,
	};
	if (r < 0)
		dav_reply_error(rq, &err);
	else if (res.exists)
		dav_reply_precondition(rq, 405, "resource-must-be-null");
	else if (rq->nsegs != 2 || cr->owner == 0)
		http_reply_status(rq->ex, 409, "calendars are made in a calendar home\n");
	else if (cr->owner != rq->user)
		dav_reply_condition(rq, 403, CALDAV_NS, "calendar-collection-location-ok",
		                    "calendars are made in your own home");
	else if (mk->time_zone != NULL && !zone_acceptable(rq, mk->time_zone, &err))
		dav_reply_error(rq, &err);
	else if (pim_calendar_make(rq->store, rq->user, &spec, &cal, &err) < 0)
		dav_reply_error(rq, &err);
	else
		http_reply_status(rq->ex, 201, NULL);
	pim_calendar_clear(&cal);
	dav_resource_clear(rq, &res);
}

static void mkcalendar(struct dav_request *rq)
{
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	struct dav_caldav_mkcalendar mk;
	const char *cond = NULL;
	struct ox_error err = {0};
	if (dav_caldav_parse_mkcalendar(body, len, &mk, &cond, &err) < 0) {
		if (cond != NULL)
			dav_reply_condition(rq, 403, CALDAV_NS, cond, err.message);
		else
			http_reply_status(rq->ex, 400, "malformed mkcalendar body\n");
	} else {
		mkcalendar_checked(rq, &mk);
	}
	dav_caldav_mkcalendar_clear(&mk);
	g_free(body);
}

/* --- COPY and MOVE of calendar objects (RFC 4791 5.3.2.1) --- */

/* The Destination's segments (the engine checked it names this space). */
static char **destination_segs(struct dav_request *rq, size_t *n_r)
{
	const char *dest = http_request_header(rq->ex, "Destination");
	*n_r = 0;
	return dest != NULL ? dav_target_segs(rq, dest, n_r) : NULL;
}

static const char *transfer_condition(enum pim_reject why)
{
	switch (why) {
	case PIM_REJECT_UID:
		return "no-uid-conflict";
	case PIM_REJECT_COMPONENT:
		return "supported-calendar-component";
	case PIM_REJECT_SCHEDULING:
		return "unique-scheduling-object-resource";
	case PIM_REJECT_SIZE:
		return "max-resource-size";
	case PIM_REJECT_OBJECT:
		return "valid-calendar-object-resource";
	case PIM_REJECT_DATA:
		return "valid-calendar-data";
	case PIM_REJECT_NONE:
		break;
	}
	return NULL;
}

/* Objects only, between calendars the user may write; the engine has
 * removed an overwritten destination in the same transaction. */
static int cal_transfer(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                        bool move, struct ox_error *err)
{
	struct cal_res *from = cal_of(src), *to = cal_of(dst);
	size_t n = 0;
	char **segs = destination_segs(rq, &n);
	if (from->kind != CAL_OBJECT || to->kind != CAL_OBJECT || segs == NULL || n != 3) {
		g_strfreev(segs);
		return ox_error_set(err, OX_ERR_PERM,
		                    "calendar objects are copied and moved into calendars");
	}
	enum pim_reject why = PIM_REJECT_NONE;
	char *conflict = NULL;
	int r = pim_object_transfer(rq->store, rq->user, &from->cal, &from->obj, &to->cal, segs[2],
	                            move, &why, &conflict, err);
	const char *cond = r < 0 ? transfer_condition(why) : NULL;
	if (cond != NULL) {
		set_condition(rq, why == PIM_REJECT_UID ? 409 : 403, cond);
		if (conflict != NULL) {
			char *at[3] = {segs[0], segs[1], conflict};
			g_free(rq->error_href);
			rq->error_href = dav_href(rq, at, 3, false);
		}
	}
	g_free(conflict);
	g_strfreev(segs);
	return r;
}

static int cal_copy(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    bool recursive, struct ox_error *err)
{
	return cal_transfer(rq, src, dst, false, err);
}

static int cal_move(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    struct ox_error *err)
{
	return cal_transfer(rq, src, dst, true, err);
}

/* RFC 5689 extended MKCOL: DAVx5 and vdirsyncer make calendars with MKCOL
 * and a DAV:resourcetype naming CALDAV:calendar. A plain MKCOL goes to the
 * engine (which refuses it here). */
static void calendar_mkcol(struct dav_request *rq)
{
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	if (body == NULL) {
		dav_mkcol(rq);
		return;
	}
	struct dav_caldav_mkcalendar mk;
	const char *cond = NULL;
	struct ox_error err = {0};
	if (dav_caldav_parse_mkcalendar(body, len, &mk, &cond, &err) < 0) {
		if (cond != NULL)
			dav_reply_condition(rq, 403, CALDAV_NS, cond, err.message);
		else
			http_reply_status(rq->ex, 400, "malformed mkcol body\n");
	} else if (!mk.calendar_type || mk.other_type) {
		dav_reply_precondition(rq, 403, "valid-resourcetype");
	} else {
		mkcalendar_checked(rq, &mk);
	}
	dav_caldav_mkcalendar_clear(&mk);
	g_free(body);
}

static const struct dav_method cal_methods[] = {
	{"MKCALENDAR", mkcalendar},
	{"MKCOL", calendar_mkcol},
	{"POST", dav_caldav_post},
	{NULL, NULL},
};

const struct dav_provider dav_caldav_provider = {
	.prefix = "/dav/calendars/",
	.request_begin = dav_owner_begin,
	.request_done = dav_owner_done,
	.lookup = cal_lookup,
	.release = cal_release,
	.members = cal_members,
	.get = cal_get,
	.put = cal_put,
	.mkcol = cal_mkcol,
	.remove = cal_remove,
	.copy = cal_copy,
	.move = cal_move,
	.props = dav_no_props,
	.proppatch = cal_proppatch,
	.locks = dav_no_locks,
	.lock_create = dav_refuse_lock_create,
	.lock_refresh = dav_refuse_lock_refresh,
	.lock_remove = dav_refuse_lock_remove,
	.locks_drop = dav_no_locks_drop,
	.compliance = "calendar-access, calendar-auto-schedule",
	.methods = cal_methods,
	.live_prop = cal_live_prop,
	.prop_kind = cal_prop_kind,
	.report = cal_report,
	.changes = cal_changes,
	.acl_source = cal_acl_source,
};
