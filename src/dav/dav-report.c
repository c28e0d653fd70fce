/* REPORT (RFC 3253 3.6): the engine reads the body and finds the
 * resource; the provider answers the reports it knows. */
#include "dav/dav-private.h"
#include "http/http.h"

#include <libxml/tree.h>

/* RFC 3253 3.6: a report the resource does not offer is 403
 * DAV:supported-report, but a body that is no XML at all is malformed
 * (400) whatever it asks. */
static void unsupported_report(struct dav_request *rq, const char *body, size_t len)
{
	struct ox_error err = {0};
	void *doc = dav_xml_parse(body, len, &err);
	if (doc == NULL) {
		http_reply_status(rq->ex, 400, "malformed XML body\n");
		return;
	}
	xmlFreeDoc(doc);
	dav_reply_precondition(rq, 403, "supported-report");
}

void dav_report(struct dav_request *rq)
{
	if (dav_depth(rq, 0) == -2) {
		http_reply_status(rq->ex, 400, "malformed Depth\n");
		return;
	}
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	struct dav_resource res = {0};
	struct ox_error err = {0};
	if (body == NULL)
		http_reply_status(rq->ex, 400, "REPORT needs a body\n");
	else if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0)
		dav_reply_error(rq, &err);
	else if (!res.exists)
		http_reply_status(rq->ex, 404, NULL);
	else if (rq->provider->changes != NULL && dav_sync_report(rq, &res, body, len) == 0)
		;
	else if (rq->provider->report == NULL)
		unsupported_report(rq, body, len);
	else
		rq->provider->report(rq, &res, body, len);
	dav_resource_clear(rq, &res);
	g_free(body);
}
