/* ICS feeds over HTTP (the service is pim-feed.c):
 *
 *   GET|HEAD /feeds/ics/TOKEN    the calendar as text/calendar, without a login
 *   POST     /api/feeds          {"folder": ID} -> 201 {"id", "folder", "url", "path", "created"}
 *   GET      /api/feeds?folder=ID -> 200 {"feeds": [{"id", "folder", "createdBy", ...}]}
 *   DELETE   /api/feeds/ID       -> 204
 *
 * The feed lives outside /api/ and /dav/ because both authenticate every
 * request; the token in its path is the only credential. Every token that
 * opens nothing (malformed, unknown, revoked, its creator without access)
 * gets the same 404, so the answer tells a guesser nothing. The token is a
 * secret in a URL: the route marks its path so that the access log leaves
 * it out, and errors here are logged without the path.
 *
 * The management API is the browser app's: a session cookie with
 * X-OX-CSRF on POST and DELETE (http_authenticate_or_reply()), or Basic;
 * JSON errors with stable codes; no-store. Successful changes are written
 * to the audit log with the change, in one transaction. */
#include "core/error.h"
#include "core/log.h"
#include "directory/directory.h"
#include "http/http-auth.h"
#include "http/http-error.h"
#include "http/http-json.h"
#include "http/http-private.h"
#include "pim/pim.h"
#include "store/store.h"

#include <jansson.h>
#include <string.h>

#define FEED_PREFIX "/feeds/ics/"
#define FEEDS_API "/api/feeds"
/* {"folder": <id>} with room to spare. */
#define FEED_BODY_MAX 1024
#define HOST_MAX 255

/* --- the feed --- */

/* Validators and caching of a feed's answers: a subscriber asks again
 * each time (no-cache) and mostly gets a 304, and a revocation takes
 * effect at once; shared caches keep nothing (private). */
static void feed_headers(struct http_exchange *ex, const char *etag)
{
	http_response_header(ex, "ETag", etag);
	http_response_header(ex, "Cache-Control", "private, no-cache");
}

struct feed_out {
	struct http_exchange *ex;
	const char *etag;
	bool started;
};

/* The head goes out with the first bytes, so that an export refused at
 * once is still answered as an error. */
static int feed_write(const char *text, size_t len, void *ctx)
{
	struct feed_out *out = ctx;
	if (!out->started) {
		out->started = true;
		http_response_status(out->ex, 200);
		http_response_header(out->ex, "Content-Type", "text/calendar; charset=utf-8");
		feed_headers(out->ex, out->etag);
	}
	return http_response_write(out->ex, text, len);
}

static void feed_not_found(struct http_exchange *ex)
{
	http_response_header(ex, "Cache-Control", "no-store");
	http_reply_status(ex, 404, NULL);
}

/* Store failures, logged without the path: it holds the token. */
static void feed_failed(struct http_exchange *ex, const struct ox_error *err)
{
	int status = err->code == OX_ERR_TEMP ? 503 : 500;
	ox_log_kv(status == 503 ? OX_LOG_WARN : OX_LOG_ERROR, "feed_failed", "code",
	          ox_error_code_name(err->code), "error", err->message, NULL);
	http_response_header(ex, "Cache-Control", "no-store");
	http_reply_status(ex, status, NULL);
}

static void feed_handler(struct http_exchange *ex, void *data)
{
	const char *path = http_request_path(ex);
	const char *token = g_str_has_prefix(path, FEED_PREFIX) ? path + strlen(FEED_PREFIX) : "";
	struct ox_error err = {0};
	/* Not http_store_or_reply(): it logs the path. */
	struct store *s = store_thread_get(&err);
	if (s == NULL) {
		feed_failed(ex, &err);
		return;
	}
	struct pim_feed feed;
	struct pim_calendar cal;
	int r = pim_feed_resolve(s, token, &feed, &cal, &err);
	if (r <= 0) {
		if (r < 0)
			feed_failed(ex, &err);
		else
			feed_not_found(ex);
		return;
	}
	/* The export is every object the creator reads, and they read all of
	 * them (checked above), so the calendar's modseq names its content.
	 * It is read before the export: a change meanwhile makes the next
	 * request fetch again rather than never. */
	char etag[32];
	g_snprintf(etag, sizeof(etag), "\"%" G_GINT64_FORMAT "\"", cal.modseq);
	const char *inm = http_request_header(ex, "If-None-Match");
	if (inm != NULL && http_etag_listed(inm, etag, true)) {
		http_response_status(ex, 304);
		feed_headers(ex, etag);
		http_response_finish(ex);
		goto out;
	}
	struct feed_out out = {ex, etag, false};
	r = pim_calendar_export(s, feed.created_by, &cal, feed_write, &out, &err);
	if (r < 0 && !out.started) {
		if (err.code == OX_ERR_NOT_FOUND || err.code == OX_ERR_PERM)
			feed_not_found(ex); /* access went between the check and the export */
		else
			feed_failed(ex, &err);
		goto out;
	}
	if (!out.started)
		feed_write("", 0, &out);
	http_response_finish(ex);
out:
	pim_calendar_clear(&cal);
}

/* --- the management API --- */

/* A Host header worth echoing in a URL: a name or address and a port. */
static bool host_usable(const char *host)
{
	size_t len = host != NULL ? strlen(host) : 0;
	if (len == 0 || len > HOST_MAX)
		return false;
	for (const char *p = host; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr(".-:[]", *p) == NULL)
			return false;
	}
	return true;
}

/* Writes the audit entry of a change made by `user`; 0 or -1. */
static int audit_change(struct http_exchange *ex, struct store *s, int64_t user, const char *action,
                        const struct pim_feed *feed, struct ox_error *err)
{
	char detail[96];
	g_snprintf(detail, sizeof(detail),
	           "folder=%" G_GINT64_FORMAT " feed=%" G_GINT64_FORMAT " via=http",
	           feed->folder_id, feed->id);
	return http_audit_change(ex, s, user, action, NULL, detail, err);
}

/* Creates the feed and its audit entry in one transaction. */
static int create_feed(struct http_exchange *ex, struct store *s, int64_t user, int64_t folder,
                       char *token, struct pim_feed *feed, struct ox_error *err)
{
	if (store_begin(s, err) < 0)
		return -1;
	if (pim_feed_create(s, user, folder, token, feed, err) < 0 ||
	    audit_change(ex, s, user, "calendar.feed.create", feed, err) < 0 ||
	    store_commit(s, err) < 0) {
		store_rollback(s);
		explicit_bzero(token, PIM_FEED_TOKEN_LEN + 1);
		return -1;
	}
	return 0;
}

static void reply_created(struct http_exchange *ex, const struct pim_feed *feed, const char *token)
{
	char *path = g_strconcat(FEED_PREFIX, token, NULL);
	const char *host = http_request_header(ex, "Host");
	/* Behind a proxy that changes the scheme or the name, the client
	 * knows better: it gets the path too. */
	char *url = host_usable(host) ? g_strdup_printf("%s://%s%s",
	                                                http_request_is_tls(ex) ? "https" : "http",
	                                                host, path)
	                              : g_strdup(path);
	char *created = http_json_time(feed->created);
	char location[64];
	g_snprintf(location, sizeof(location), FEEDS_API "/%" G_GINT64_FORMAT, feed->id);
	json_t *body = json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)feed->id, "folder",
	                         (json_int_t)feed->folder_id, "url", url, "path", path, "created",
	                         created);
	http_response_header(ex, "Location", location);
	http_reply_new_json(ex, 201, body);
	g_free(created);
	explicit_bzero(url, strlen(url));
	explicit_bzero(path, strlen(path));
	g_free(url);
	g_free(path);
}

static void api_create(struct http_exchange *ex, struct store *s, int64_t user)
{
	json_t *body = http_read_json_object_or_reply(ex, FEED_BODY_MAX);
	if (body == NULL)
		return;
	json_int_t folder = 0;
	json_error_t jerr;
	if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:I}", "folder", &folder) < 0 ||
	    folder <= 0) {
		http_reply_error(ex, 400, "invalid_request",
		                 "expected {\"folder\": the calendar's folder id}");
		json_decref(body);
		return;
	}
	json_decref(body);
	struct ox_error err = {0};
	struct pim_feed feed;
	char token[PIM_FEED_TOKEN_LEN + 1];
	if (create_feed(ex, s, user, (int64_t)folder, token, &feed, &err) < 0) {
		http_reply_ox_error(ex, &err);
		return;
	}
	reply_created(ex, &feed, token);
	explicit_bzero(token, sizeof(token));
}

/* "folder=ID" and nothing else. */
static bool query_folder(const char *query, int64_t *folder_r)
{
	guint64 v = 0;
	if (query == NULL || !g_str_has_prefix(query, "folder="))
		return false;
	const char *digits = query + strlen("folder=");
	if (!g_ascii_string_to_unsigned(digits, 10, 1, G_MAXINT64, &v, NULL))
		return false;
	*folder_r = (int64_t)v;
	return true;
}

static json_t *feed_json(struct store *s, const struct pim_feed *feed)
{
	struct user_info creator = {0};
	struct ox_error err;
	/* A creator is never gone while the feed is there (it goes with
	 * them); a failed look-up shows as null. */
	bool known = user_lookup_id(s, feed->created_by, &creator, &err) > 0;
	char *created = http_json_time(feed->created);
	char *used = feed->last_used != 0 ? http_json_time(feed->last_used) : NULL;
	json_t *item =
		json_pack("{s:I,s:I,s:s?,s:s,s:s?}", "id", (json_int_t)feed->id, "folder",
	                  (json_int_t)feed->folder_id, "createdBy", known ? creator.login : NULL,
	                  "created", created, "lastUsed", used);
	g_free(created);
	g_free(used);
	if (known)
		user_info_clear(&creator);
	return item;
}

static void api_list(struct http_exchange *ex, struct store *s, int64_t user)
{
	int64_t folder = 0;
	if (!query_folder(http_request_query(ex), &folder)) {
		http_reply_error(ex, 400, "invalid_request", "expected the query folder=ID");
		return;
	}
	struct ox_error err = {0};
	struct pim_feed *list = NULL;
	size_t count = 0;
	if (pim_feed_list(s, user, folder, &list, &count, &err) < 0) {
		http_reply_ox_error(ex, &err);
		return;
	}
	json_t *feeds = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(feeds, feed_json(s, &list[i]));
	g_free(list);
	json_t *body = json_pack("{s:o}", "feeds", feeds);
	http_reply_new_json(ex, 200, body);
}

static void api_revoke(struct http_exchange *ex, struct store *s, int64_t user, int64_t id)
{
	struct ox_error err = {0};
	struct pim_feed feed;
	if (store_begin(s, &err) < 0) {
		http_reply_ox_error(ex, &err);
		return;
	}
	if (pim_feed_revoke(s, user, id, &feed, &err) < 0 ||
	    audit_change(ex, s, user, "calendar.feed.revoke", &feed, &err) < 0 ||
	    store_commit(s, &err) < 0) {
		store_rollback(s);
		http_reply_ox_error(ex, &err);
		return;
	}
	http_reply(ex, 204, NULL, "", 0);
}

static void method_not_allowed(struct http_exchange *ex, const char *allow)
{
	http_response_header(ex, "Allow", allow);
	http_reply_error(ex, 405, "method_not_allowed", "not allowed here");
}

static void api_handler(struct http_exchange *ex, void *data)
{
	http_response_header(ex, "Cache-Control", "no-store");
	const char *path = http_request_path(ex), *method = http_request_method(ex);
	bool collection = strcmp(path, FEEDS_API) == 0;
	gint64 id = 0;
	if (!collection && (!g_str_has_prefix(path, FEEDS_API "/") ||
	                    !g_ascii_string_to_signed(path + strlen(FEEDS_API "/"), 10, 1,
	                                              G_MAXINT64, &id, NULL))) {
		http_reply_error(ex, 404, "not_found", "no such API");
		return;
	}
	bool is_delete = strcmp(method, "DELETE") == 0;
	if (collection == is_delete) {
		method_not_allowed(ex, collection ? "GET, HEAD, POST" : "DELETE");
		return;
	}
	struct http_auth auth;
	if (http_authenticate_or_reply(ex, false, &auth) < 0)
		return;
	explicit_bzero(&auth.session, sizeof(auth.session));
	struct store *s = http_store_or_reply(ex);
	if (s == NULL)
		return;
	if (!collection)
		api_revoke(ex, s, auth.user_id, id);
	else if (strcmp(method, "POST") == 0)
		api_create(ex, s, auth.user_id);
	else
		api_list(ex, s, auth.user_id);
}

static const char *const feed_methods[] = {"GET", "HEAD", NULL};
static const char *const api_methods[] = {"GET", "HEAD", "POST", "DELETE", NULL};

static const struct http_route feed_routes[] = {
	{.prefix = FEED_PREFIX,
         .methods = feed_methods,
         .handler = feed_handler,
         .secret_path = true},
	{.prefix = FEEDS_API, .methods = api_methods, .handler = api_handler},
};

void http_api_feed_register(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(feed_routes); i++)
		http_route_add(&feed_routes[i]);
}
