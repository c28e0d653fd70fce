/* Document versions over the browser API (the service is src/files):
 *
 *   GET|HEAD /api/files/versions?path=P            -> 200 [{"version", "size", "created",
 *                                                     "etag", "current", "contentType",
 *                                                     "createdBy"}], newest first
 *   GET|HEAD /api/files/versions/content?path=P&version=N -> 200 that version's bytes
 *   POST     /api/files/versions/restore?path=P    {"version": N} -> 200 the new version
 *
 * P is a document's path in a user's files tree as below /dav/files/,
 * the tree owner's login first: /alice@example.org/Documents/a.txt
 * (form-encoded in the query). The files service decides: reading the
 * document to list and fetch, writing it to restore; a document the user
 * may not read is a 404 like a missing one. A restore makes the old
 * content the document's next version, counts against the quota (507
 * "over_quota") and is written to the audit log in its transaction.
 *
 * The browser app's conventions: a session cookie with X-OX-CSRF on POST
 * (http_authenticate_or_reply()), or Basic; JSON errors with stable codes;
 * no-store. Fetched content is an attachment that may not run as a page
 * of this origin (it is whatever a user uploaded). */
#include "core/error.h"
#include "directory/directory.h"
#include "files/files.h"
#include "http/http-auth.h"
#include "http/http-error.h"
#include "http/http-json.h"
#include "http/http-private.h"
#include "store/store.h"

#include <jansson.h>
#include <string.h>

#define FILES_API "/api/files/"
#define VERSIONS_API "/api/files/versions"
/* {"version": N} with room to spare. */
#define RESTORE_BODY_MAX 1024

/* The query's parameters: path always, version where the route takes one. */
struct files_query {
	char *path;
	char *version;
};

static void files_query_clear(struct files_query *q)
{
	g_free(q->path);
	g_free(q->version);
	memset(q, 0, sizeof(*q));
}

/* A form-encoded value ('+' is a space); NULL when a '%' is not followed
 * by two hex digits or encodes a NUL. */
static char *form_decode(const char *value)
{
	GString *out = g_string_sized_new(strlen(value));
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '+') {
			g_string_append_c(out, ' ');
		} else if (*p != '%') {
			g_string_append_c(out, *p);
		} else if (g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]) &&
		           (p[1] != '0' || p[2] != '0')) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(p[1]) * 16 +
			                              g_ascii_xdigit_value(p[2])));
			p += 2;
		} else {
			g_string_free(out, TRUE);
			return NULL;
		}
	}
	return g_string_free(out, FALSE);
}

/* Strict: known names only, each once, every value well-formed. */
static bool parse_query(const char *query, bool with_version, struct files_query *q_r)
{
	memset(q_r, 0, sizeof(*q_r));
	gchar **pairs = g_strsplit(query != NULL ? query : "", "&", -1);
	bool ok = true;
	for (gchar **p = pairs; ok && *p != NULL; p++) {
		char *eq = strchr(*p, '=');
		if (eq == NULL) {
			ok = **p == '\0';
			continue;
		}
		*eq = '\0';
		char **slot = strcmp(*p, "path") == 0                      ? &q_r->path
		              : with_version && strcmp(*p, "version") == 0 ? &q_r->version
		                                                           : NULL;
		ok = slot != NULL && *slot == NULL && (*slot = form_decode(eq + 1)) != NULL;
	}
	g_strfreev(pairs);
	ok = ok && q_r->path != NULL && *q_r->path != '\0' &&
	     (!with_version || q_r->version != NULL);
	if (!ok)
		files_query_clear(q_r);
	return ok;
}

static bool parse_version(const char *text, int *version_r)
{
	guint64 v = 0;
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT, &v, NULL))
		return false;
	*version_r = (int)v;
	return true;
}

/* The document at path as the user sees it: 0, or -1 after answering. */
static int document_or_reply(struct http_exchange *ex, struct store *s, int64_t user,
                             const char *path, struct files_entry *doc)
{
	struct ox_error err = {0};
	int r = files_resolve_path(s, user, path, doc, &err);
	if (r < 0)
		http_reply_ox_error(ex, &err);
	else if (r == 0)
		http_reply_error(ex, 404, "not_found", "no such document");
	else if (doc->document_id == 0)
		http_reply_error(ex, 400, "not_a_document", "the path names a collection");
	else
		return 0;
	files_entry_clear(doc);
	return -1;
}

/* Logins by principal id, looked up once per answer. */
static const char *login_of(struct store *s, GHashTable *logins, int64_t id)
{
	if (id == 0)
		return NULL;
	if (g_hash_table_contains(logins, &id))
		return g_hash_table_lookup(logins, &id);
	struct user_info info = {0};
	struct ox_error err;
	/* A creator deleted since shows as null. */
	char *login = user_lookup_id(s, id, &info, &err) > 0 ? g_strdup(info.login) : NULL;
	if (login != NULL)
		user_info_clear(&info);
	g_hash_table_insert(logins, g_memdup2(&id, sizeof(id)), login);
	return login;
}

static json_t *version_json(struct store *s, GHashTable *logins, const struct files_version *v)
{
	char etag[FILES_ETAG_SIZE];
	files_etag(v->blob_hash, etag);
	char *created = http_json_time(v->created);
	json_t *item = json_pack("{s:i,s:I,s:s,s:s,s:b,s:s,s:s?}", "version", v->version, "size",
	                         (json_int_t)v->size, "created", created, "etag", etag, "current",
	                         v->current, "contentType", v->content_type, "createdBy",
	                         login_of(s, logins, v->created_by));
	g_free(created);
	return item;
}

struct version_list {
	struct store *s;
	GHashTable *logins;
	json_t *items;
};

static int add_version(const struct files_version *v, void *ctx)
{
	struct version_list *l = ctx;
	json_t *item = version_json(l->s, l->logins, v);
	return item != NULL && json_array_append_new(l->items, item) == 0 ? 0 : -1;
}

static GHashTable *logins_new(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

static void api_list(struct http_exchange *ex, struct store *s, int64_t user,
                     const struct files_entry *doc)
{
	struct ox_error err = {0};
	struct version_list l = {s, logins_new(), json_array()};
	if (files_versions(s, user, doc, add_version, &l, &err) < 0)
		http_reply_ox_error(ex, &err);
	else
		http_reply_json(ex, 200, l.items);
	json_decref(l.items);
	g_hash_table_unref(l.logins);
}

static int write_sink(const void *data, size_t len, void *ctx)
{
	return http_response_write(ctx, data, len);
}

/* RFC 6266: the document's name, for saving; filename* carries any UTF-8. */
static void disposition(struct http_exchange *ex, const char *name)
{
	char *esc = g_uri_escape_string(name, NULL, FALSE);
	char *value = g_strdup_printf("attachment; filename*=UTF-8''%s", esc);
	http_response_header(ex, "Content-Disposition", value);
	g_free(value);
	g_free(esc);
}

static void api_content(struct http_exchange *ex, struct store *s, int64_t user,
                        const struct files_entry *doc, const char *version_text)
{
	int number = 0;
	if (!parse_version(version_text, &number)) {
		http_reply_error(ex, 400, "invalid_request", "version is a number from 1");
		return;
	}
	struct ox_error err = {0};
	struct files_version v;
	int found = files_version_get(s, user, doc, number, &v, &err);
	if (found <= 0) {
		if (found < 0)
			http_reply_ox_error(ex, &err);
		else
			http_reply_error(ex, 404, "not_found", "the document has no such version");
		return;
	}
	char etag[FILES_ETAG_SIZE];
	files_etag(v.blob_hash, etag);
	http_response_status(ex, 200);
	http_response_header(ex, "Content-Type", v.content_type);
	http_response_header(ex, "ETag", etag);
	disposition(ex, doc->name);
	/* Uploaded content must not run as a page of this origin. */
	http_response_header(ex, "X-Content-Type-Options", "nosniff");
	http_response_header(ex, "Content-Security-Policy", "sandbox");
	http_response_content_length(ex, (uint64_t)v.size);
	/* Once the head is out, a failure can only cut the body short. */
	if (v.size > 0 && !http_request_is_head(ex))
		files_version_read(s, user, doc, &v, 0, (uint64_t)v.size, write_sink, ex, &err);
	http_response_finish(ex);
	files_version_clear(&v);
}

/* The restore and its audit entry in one transaction. */
static int restore(struct http_exchange *ex, struct store *s, int64_t user, const char *path,
                   struct files_entry *doc, int version, struct ox_error *err)
{
	char detail[96];
	int r = store_begin(s, err);
	if (r == 0 && files_restore(s, user, doc, version, err) == 0) {
		g_snprintf(detail, sizeof(detail), "version=%d new_version=%d via=http", version,
		           doc->version);
		r = http_audit_change(ex, s, user, "file.restore", path, detail, err);
		if (r == 0)
			r = store_commit(s, err);
	} else {
		r = -1;
	}
	if (r < 0 && store_in_transaction(s))
		store_rollback(s);
	return r;
}

static void api_restore(struct http_exchange *ex, struct store *s, int64_t user, const char *path,
                        struct files_entry *doc)
{
	json_t *body = http_read_json_object_or_reply(ex, RESTORE_BODY_MAX);
	if (body == NULL)
		return;
	json_int_t version = 0;
	json_error_t jerr;
	int r = json_unpack_ex(body, &jerr, JSON_STRICT, "{s:I}", "version", &version);
	json_decref(body);
	if (r < 0 || version < 1 || version > G_MAXINT) {
		http_reply_error(ex, 400, "invalid_request",
		                 "expected {\"version\": the number of the version to restore}");
		return;
	}
	struct ox_error err = {0};
	if (restore(ex, s, user, path, doc, (int)version, &err) < 0) {
		http_reply_ox_error(ex, &err);
		return;
	}
	struct files_version v;
	GHashTable *logins = logins_new();
	json_t *item = NULL;
	if (files_version_get(s, user, doc, doc->version, &v, &err) > 0) {
		item = version_json(s, logins, &v);
		files_version_clear(&v);
	}
	http_reply_new_json(ex, 200, item);
	g_hash_table_unref(logins);
}

enum files_api {
	API_LIST,
	API_CONTENT,
	API_RESTORE,
};

/* Which endpoint a path is: 0, or -1 after answering 404 or 405. */
static int endpoint_or_reply(struct http_exchange *ex, enum files_api *api_r)
{
	static const struct {
		const char *path, *method, *allow;
		enum files_api api;
	} endpoints[] = {
		{VERSIONS_API, "GET", "GET, HEAD", API_LIST},
		{VERSIONS_API "/content", "GET", "GET, HEAD", API_CONTENT},
		{VERSIONS_API "/restore", "POST", "POST", API_RESTORE},
	};
	const char *path = http_request_path(ex), *method = http_request_method(ex);
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (size_t i = 0; i < G_N_ELEMENTS(endpoints); i++) {
		if (strcmp(path, endpoints[i].path) != 0)
			continue;
		if (strcmp(method, endpoints[i].method) != 0) {
			http_response_header(ex, "Allow", endpoints[i].allow);
			http_reply_error(ex, 405, "method_not_allowed", "not allowed here");
			return -1;
		}
		*api_r = endpoints[i].api;
		return 0;
	}
	http_reply_error(ex, 404, "not_found", "no such API");
	return -1;
}

static void api_handler(struct http_exchange *ex, void *data)
{
	http_response_header(ex, "Cache-Control", "no-store");
	enum files_api api;
	if (endpoint_or_reply(ex, &api) < 0)
		return;
	struct files_query q;
	if (!parse_query(http_request_query(ex), api == API_CONTENT, &q)) {
		http_reply_error(ex, 400, "invalid_request",
		                 api == API_CONTENT ? "expected the query path=PATH&version=N"
		                                    : "expected the query path=PATH");
		return;
	}
	struct http_auth auth;
	struct store *s = NULL;
	struct files_entry doc = {0};
	if (http_authenticate_or_reply(ex, false, &auth) < 0)
		goto out;
	explicit_bzero(&auth.session, sizeof(auth.session));
	if ((s = http_store_or_reply(ex)) == NULL ||
	    document_or_reply(ex, s, auth.user_id, q.path, &doc) < 0)
		goto out;
	if (api == API_LIST)
		api_list(ex, s, auth.user_id, &doc);
	else if (api == API_CONTENT)
		api_content(ex, s, auth.user_id, &doc, q.version);
	else
		api_restore(ex, s, auth.user_id, q.path, &doc);
out:
	files_entry_clear(&doc);
	files_query_clear(&q);
}

static const char *const api_methods[] = {"GET", "HEAD", "POST", NULL};

static const struct http_route files_route = {
	.prefix = FILES_API,
	.methods = api_methods,
	.handler = api_handler,
};

void http_api_files_register(void)
{
	http_route_add(&files_route);
}
