/* GET/HEAD, PUT, DELETE and MKCOL (RFC 4918 9.3-9.6, RFC 9110): content
 * streams between the client and the provider in both directions, never
 * whole in memory. */
#include "dav/dav-private.h"
#include "http/http.h"

#include <string.h>

#define DAV_CONTENT_TYPE_MAX 255

/* RFC 9110 13.2.2 for If-Match and If-None-Match: 0 go on, 1 answered
 * 304, -1 answered 412. */
static bool is_star(const char *list)
{
	while (*list == ' ' || *list == '\t')
		list++;
	return list[0] == '*' && strspn(list + 1, " \t") == strlen(list + 1);
}

static int preconditions_or_reply(struct dav_request *rq, struct dav_resource *res, bool safe)
{
	const char *im = http_request_header(rq->ex, "If-Match");
	if (im != NULL &&
	    (!res->exists || (!is_star(im) && !http_etag_listed(im, res->etag, false)))) {
		http_reply_status(rq->ex, 412, NULL);
		return -1;
	}
	const char *inm = http_request_header(rq->ex, "If-None-Match");
	if (inm != NULL && res->exists &&
	    (is_star(inm) || http_etag_listed(inm, res->etag, safe))) {
		if (safe) {
			http_response_status(rq->ex, 304);
			if (res->etag != NULL)
				http_response_header(rq->ex, "ETag", res->etag);
			http_response_finish(rq->ex);
			return 1;
		}
		http_reply_status(rq->ex, 412, NULL);
		return -1;
	}
	return 0;
}

static int write_sink(const void *data, size_t len, void *ctx)
{
	return http_response_write(ctx, data, len);
}

static int list_member(const char *name, struct dav_resource *member, void *ctx)
{
	char *esc = dav_xml_escape(name);
	g_string_append_printf(ctx, "<li>%s%s</li>\n", esc, member->collection ? "/" : "");
	g_free(esc);
	return 0;
}

static void get_collection(struct dav_request *rq, struct dav_resource *res)
{
	GString *out = g_string_new("<!DOCTYPE html>\n<html><body><ul>\n");
	struct ox_error err;
	rq->provider->members(rq, res, list_member, out, &err);
	g_string_append(out, "</ul></body></html>\n");
	http_reply(rq->ex, 200, "text/html; charset=utf-8", out->str, out->len);
	g_string_free(out, TRUE);
}

static void meta_headers(struct dav_request *rq, struct dav_resource *res)
{
	char date[40];
	if (res->etag != NULL)
		http_response_header(rq->ex, "ETag", res->etag);
	if (res->modified > 0) {
		dav_http_date(res->modified, date);
		http_response_header(rq->ex, "Last-Modified", date);
	}
}

static void get_document(struct dav_request *rq, struct dav_resource *res)
{
	uint64_t first = 0, last = res->length > 0 ? res->length - 1 : 0;
	const char *if_range = http_request_header(rq->ex, "If-Range");
	int r = 0;
	if (if_range == NULL || (res->etag != NULL && strcmp(if_range, res->etag) == 0))
		r = http_parse_range(http_request_header(rq->ex, "Range"), res->length, &first,
		                     &last);
	char buf[96];
	if (r < 0) {
		g_snprintf(buf, sizeof(buf), "bytes */%" G_GUINT64_FORMAT, res->length);
		http_response_header(rq->ex, "Content-Range", buf);
		http_reply_status(rq->ex, 416, NULL);
		return;
	}
	http_response_status(rq->ex, r > 0 ? 206 : 200);
	if (r > 0) {
		g_snprintf(buf, sizeof(buf),
		           "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		           first, last, res->length);
		http_response_header(rq->ex, "Content-Range", buf);
	}
	meta_headers(rq, res);
	http_response_header(rq->ex, "Content-Type",
	                     res->content_type ? res->content_type : "application/octet-stream");
	http_response_header(rq->ex, "Accept-Ranges", "bytes");
	uint64_t length = res->length == 0 ? 0 : last - first + 1;
	http_response_content_length(rq->ex, length);
	struct ox_error err;
	if (length > 0 && !http_request_is_head(rq->ex))
		rq->provider->get(rq, res, first, length, write_sink, rq->ex, &err);
	http_response_finish(rq->ex);
}

struct lazy_head {
	struct dav_request *rq;
	struct dav_resource *res;
	bool started;
};

static void collection_head(struct lazy_head *h)
{
	h->started = true;
	http_response_status(h->rq->ex, 200);
	meta_headers(h->rq, h->res);
	http_response_header(h->rq->ex, "Content-Type", h->res->content_type);
}

static int head_sink(const void *data, size_t len, void *ctx)
{
	struct lazy_head *h = ctx;
	if (!h->started)
		collection_head(h);
	return http_response_write(h->rq->ex, data, len);
}

/* A collection with a media type is also a document (a whole calendar),
 * streamed without a known length. The head waits for the first bytes so
 * that a provider refusing at once still gets its error answered. */
static void get_collection_document(struct dav_request *rq, struct dav_resource *res)
{
	struct lazy_head h = {rq, res, false};
	struct ox_error err = {0};
	int r = rq->provider->get(rq, res, 0, UINT64_MAX, head_sink, &h, &err);
	if (r < 0 && !h.started) {
		dav_reply_error(rq, &err);
		return;
	}
	if (!h.started)
		collection_head(&h);
	http_response_finish(rq->ex);
}

void dav_get(struct dav_request *rq)
{
	struct dav_resource res = {0};
	struct ox_error err = {0};
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0)
		dav_reply_error(rq, &err);
	else if (!res.exists)
		http_reply_status(rq->ex, 404, NULL);
	else if (preconditions_or_reply(rq, &res, true) != 0)
		;
	else if (res.collection && res.content_type != NULL)
		get_collection_document(rq, &res);
	else if (res.collection)
		get_collection(rq, &res);
	else
		get_document(rq, &res);
	dav_resource_clear(rq, &res);
}

static ssize_t body_source(void *buf, size_t len, void *ctx)
{
	return http_request_read_body(ctx, buf, len);
}

/* The client's media type when it is a plausible one. */
static const char *put_content_type(struct dav_request *rq)
{
	const char *ct = http_request_header(rq->ex, "Content-Type");
	if (ct == NULL || *ct == '\0' || strlen(ct) > DAV_CONTENT_TYPE_MAX ||
	    strchr(ct, '/') == NULL)
		return NULL;
	for (const char *p = ct; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return NULL;
	}
	return ct;
}

void dav_put(struct dav_request *rq)
{
	struct dav_resource res = {0};
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	bool created = false;
	if (http_request_header(rq->ex, "Content-Range") != NULL) {
		http_reply_status(rq->ex, 400, "partial PUT is not supported\n");
		return;
	}
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (res.collection) {
		http_response_header(rq->ex, "Allow",
		                     "OPTIONS, PROPFIND, PROPPATCH, GET, HEAD, "
		                     "DELETE, MKCOL, COPY, MOVE, LOCK, UNLOCK");
		http_reply_status(rq->ex, 405, NULL);
		goto out;
	}
	if (!res.exists && !res.parent_exists) {
		http_reply_status(rq->ex, 409, "the parent collection does not exist\n");
		goto out;
	}
	if (preconditions_or_reply(rq, &res, false) != 0 ||
	    dav_if_check_or_reply(rq, &st, &res) < 0 ||
	    dav_locks_check_or_reply(rq, &st, rq->segs, rq->nsegs, false, !res.exists) < 0)
		goto out;
	if (rq->provider->put(rq, &res, put_content_type(rq), body_source, rq->ex, &created, &err) <
	    0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (res.etag != NULL)
		http_response_header(rq->ex, "ETag", res.etag);
	http_reply_status(rq->ex, created ? 201 : 204, NULL);
out:
	dav_ifstate_clear(&st);
	dav_resource_clear(rq, &res);
}

void dav_delete(struct dav_request *rq)
{
	struct dav_resource res = {0};
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0) {
		dav_reply_error(rq, &err);
		goto out;
	}
	if (!res.exists) {
		http_reply_status(rq->ex, 404, NULL);
		goto out;
	}
	if (preconditions_or_reply(rq, &res, false) != 0 ||
	    dav_if_check_or_reply(rq, &st, &res) < 0 ||
	    dav_locks_check_or_reply(rq, &st, rq->segs, rq->nsegs, true, true) < 0)
		goto out;
	char *path = dav_lock_path(rq->segs, rq->nsegs);
	if (rq->provider->remove(rq, &res, &err) < 0 ||
	    rq->provider->locks_drop(rq, path, &err) < 0)
		dav_reply_error(rq, &err);
	else
		http_reply_status(rq->ex, 204, NULL);
	g_free(path);
out:
	dav_ifstate_clear(&st);
	dav_resource_clear(rq, &res);
}

void dav_mkcol(struct dav_request *rq)
{
	char *body;
	size_t len;
	/* MKCOL bodies (RFC 5689 extended MKCOL) are not supported. */
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	if (body != NULL) {
		g_free(body);
		http_reply_status(rq->ex, 415, NULL);
		return;
	}
	struct dav_resource res = {0};
	struct dav_ifstate st = {0};
	struct ox_error err = {0};
	if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0)
		dav_reply_error(rq, &err);
	else if (res.exists)
		http_reply_status(rq->ex, 405, NULL);
	else if (!res.parent_exists)
		http_reply_status(rq->ex, 409, "the parent collection does not exist\n");
	else if (dav_if_check_or_reply(rq, &st, &res) < 0 ||
	         dav_locks_check_or_reply(rq, &st, rq->segs, rq->nsegs, false, true) < 0)
		;
	else if (rq->provider->mkcol(rq, &res, &err) < 0)
		dav_reply_error(rq, &err);
	else
		http_reply_status(rq->ex, 201, NULL);
	dav_ifstate_clear(&st);
	dav_resource_clear(rq, &res);
}
