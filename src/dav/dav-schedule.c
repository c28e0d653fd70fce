/* The CalDAV scheduling outbox (RFC 6638 2.1, 5.1): a free/busy request
 * POSTed there is answered with the busy time of each recipient the
 * requester may learn it of. Invitations, answers and cancellations need
 * no request of their own: the calendar service schedules them when an
 * object is stored or removed (implicit scheduling, pim/pim.h). */
#include "dav/dav-caldav.h"
#include "http/http.h"
#include "pim/pim.h"

#include <string.h>

static void append_escaped(GString *out, const char *text)
{
	char *esc = dav_xml_escape(text);
	g_string_append(out, esc);
	g_free(esc);
}

static int answer_one(const struct pim_fb_answer *a, void *ctx)
{
	GString *out = ctx;
	g_string_append(out, "<C:response><C:recipient><D:href>");
	append_escaped(out, a->recipient);
	g_string_append(out, "</D:href></C:recipient><C:request-status>");
	append_escaped(out, a->status);
	g_string_append(out, "</C:request-status>");
	if (a->calendar_data != NULL) {
		g_string_append(out, "<C:calendar-data>");
		append_escaped(out, a->calendar_data);
		g_string_append(out, "</C:calendar-data>");
	}
	g_string_append(out, "</C:response>");
	return 0;
}

static bool is_own_outbox(struct dav_request *rq)
{
	int64_t owner = 0;
	struct ox_error err;
	return rq->nsegs == 2 && strcmp(rq->segs[1], "outbox") == 0 &&
	       dav_owner_lookup(rq, rq->segs[0], &owner, &err) > 0 && owner == rq->user;
}

void dav_caldav_post(struct dav_request *rq)
{
	if (!is_own_outbox(rq)) {
		/* POST means nothing else here (RFC 5995 add-member is not offered). */
		http_response_header(rq->ex, "Allow", "OPTIONS, GET, HEAD, PROPFIND, REPORT");
		http_reply_status(rq->ex, 405, NULL);
		return;
	}
	const char *type = http_request_header(rq->ex, "Content-Type");
	if (type == NULL || g_ascii_strncasecmp(type, "text/calendar", 13) != 0) {
		dav_reply_condition(rq, 415, CALDAV_NS, "supported-calendar-data",
		                    "a scheduling request is text/calendar");
		return;
	}
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	GString *out =
		g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                     "<C:schedule-response xmlns:D=\"DAV:\" xmlns:C=\"" CALDAV_NS "\">");
	struct ox_error err = {0};
	int r = pim_schedule_freebusy(rq->store, rq->user, body != NULL ? body : "", len,
	                              answer_one, out, &err);
	g_free(body);
	if (r < 0 && err.code == OX_ERR_INVALID)
		dav_reply_condition(rq, 400, CALDAV_NS, "valid-calendar-data", err.message);
	else if (r < 0 && err.code == OX_ERR_PERM)
		dav_reply_condition(rq, 403, CALDAV_NS, "organizer-allowed", err.message);
	else if (r < 0)
		dav_reply_error(rq, &err);
	else {
		g_string_append(out, "</C:schedule-response>\n");
		http_reply(rq->ex, 200, "application/xml; charset=utf-8", out->str, out->len);
	}
	g_string_free(out, TRUE);
}
