/* The DAV engine: picks the provider for a path, authenticates, parses the
 * path into segments, runs the method from the table, and holds what every
 * method shares (If header and locks, multistatus, dates, errors). */
#include "core/log.h"
#include "dav/dav-private.h"
#include "dav/dav.h"
#include "directory/directory.h"
#include "http/http-auth.h"
#include "http/http-error.h"
#include "http/http.h"
#include "store/store.h"

#include <libxml/parser.h>
#include <string.h>

#define DAV_SEGS_MAX 64
#define DAV_MS_FLUSH (32 * 1024)

/* Chosen by the longest prefix, so the order here does not matter. */
static const struct dav_provider *const providers[] = {
	&dav_root_provider,   &dav_principal_provider, &dav_files_provider,
	&dav_caldav_provider, &dav_carddav_provider,   &dav_group_principal_provider,
};

static const struct {
	const char *name;
	dav_method_fn *fn;
} methods[] = {
	{"OPTIONS", dav_options}, {"PROPFIND", dav_propfind}, {"PROPPATCH", dav_proppatch},
	{"GET", dav_get},         {"HEAD", dav_get},          {"PUT", dav_put},
	{"DELETE", dav_delete},   {"MKCOL", dav_mkcol},       {"COPY", dav_copy},
	{"MOVE", dav_move},       {"LOCK", dav_lock},         {"UNLOCK", dav_unlock},
	{"REPORT", dav_report},   {"ACL", dav_acl},
};

/* --- paths --- */

static void segs_free(char **segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_free(segs[i]);
	g_free(segs);
}

/* Splits a raw (still escaped) absolute path below `prefix` into decoded
 * segments. Escaped slashes, NULs, "." and ".." are refused. */
static char **split_segments(const char *raw, const char *prefix, size_t *n_r)
{
	size_t plen = strlen(prefix);
	if (strncmp(raw, prefix, plen) != 0) {
		/* "/dav/files" without its slash names the same space. */
		if (strncmp(raw, prefix, plen - 1) != 0 || raw[plen - 1] != '\0')
			return NULL;
		*n_r = 0;
		return g_new0(char *, 1);
	}
	gchar **parts = g_strsplit(raw + plen, "/", -1);
	GPtrArray *segs = g_ptr_array_new();
	bool ok = true;
	for (gchar **p = parts; ok && *p != NULL; p++) {
		if (**p == '\0')
			continue; /* doubled or trailing slash */
		char *seg = g_uri_unescape_string(*p, "/");
		ok = seg != NULL && *seg != '\0' && strcmp(seg, ".") != 0 &&
		     strcmp(seg, "..") != 0 && g_utf8_validate(seg, -1, NULL) &&
		     segs->len < DAV_SEGS_MAX;
		if (ok)
			g_ptr_array_add(segs, seg);
		else
			g_free(seg);
	}
	g_strfreev(parts);
	*n_r = segs->len;
	g_ptr_array_add(segs, NULL);
	char **out = (char **)g_ptr_array_free(segs, FALSE);
	if (!ok) {
		segs_free(out, *n_r);
		return NULL;
	}
	return out;
}

/* The path of a request target or a Destination URL, still escaped. */
static char *raw_path(const char *target)
{
	const char *p = target;
	if (*p != '/') {
		const char *scheme = strstr(p, "://");
		if (scheme == NULL)
			return NULL;
		p = strchr(scheme + 3, '/');
		if (p == NULL)
			return NULL;
	}
	size_t len = strcspn(p, "?#");
	return g_strndup(p, len);
}

char **dav_target_segs(const struct dav_request *rq, const char *target, size_t *n_r)
{
	return dav_url_segs(target, rq->provider->prefix, n_r);
}

char **dav_url_segs(const char *target, const char *prefix, size_t *n_r)
{
	char *raw = raw_path(target);
	if (raw == NULL)
		return NULL;
	char **segs = split_segments(raw, prefix, n_r);
	g_free(raw);
	return segs;
}

char *dav_path_join(char **segs, size_t n)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(s, '/');
		g_string_append(s, segs[i]);
	}
	return g_string_free(s, FALSE);
}

char *dav_href(const struct dav_request *rq, char **segs, size_t n, bool collection)
{
	GString *s = g_string_sized_new(128);
	g_string_append(s, rq->provider->prefix);
	for (size_t i = 0; i < n; i++) {
		g_string_append_uri_escaped(s, segs[i], "!$&'()*+,;=:@-._~", FALSE);
		if (i + 1 < n || collection)
			g_string_append_c(s, '/');
	}
	return g_string_free(s, FALSE);
}

void dav_resource_clear(struct dav_request *rq, struct dav_resource *res)
{
	if (res->pdata != NULL)
		rq->provider->release(res);
	g_free(res->content_type);
	g_free(res->etag);
	g_free(res->display_name);
	memset(res, 0, sizeof(*res));
}

/* --- replies --- */

void dav_reply_error(struct dav_request *rq, const struct ox_error *err)
{
	if (rq->error_cond != NULL) {
		dav_reply_condition(rq, rq->error_status, rq->error_ns, rq->error_cond,
		                    err->message);
		return;
	}
	/* A status without a condition element (412 for CalDAV's
	 * If-Schedule-Tag-Match, RFC 6638 8.3). */
	if (rq->error_status != 0) {
		http_reply_status(rq->ex, rq->error_status, err->message);
		return;
	}
	/* A refusal for want of a privilege says which (RFC 3744 7.1.1). */
	if (err->code == OX_ERR_PERM && dav_reply_need_privileges(rq))
		return;
	int status = http_error_status(err->code);
	if (status >= 500)
		ox_log_kv(OX_LOG_ERROR, "dav_error", "method", http_request_method(rq->ex), "code",
		          ox_error_code_name(err->code), "message", err->message, NULL);
	http_reply_status(rq->ex, status, status >= 500 ? NULL : err->message);
}

void dav_reply_precondition(struct dav_request *rq, int status, const char *condition)
{
	char *body = g_strdup_printf("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                             "<D:error xmlns:D=\"DAV:\"><D:%s/></D:error>\n",
	                             condition);
	http_reply(rq->ex, status, "application/xml; charset=utf-8", body, strlen(body));
	g_free(body);
}

void dav_reply_condition(struct dav_request *rq, int status, const char *ns, const char *condition,
                         const char *message)
{
	char *esc = dav_xml_escape(ns);
	/* The reason for people, beside the condition for programs (in the
	 * element SabreDAV uses, which clients already show). */
	char *text = message != NULL ? dav_xml_escape(message) : NULL;
	/* Some conditions name the resource in the way (RFC 4791 5.3.2.1). */
	char *href = rq->error_href != NULL ? dav_xml_escape(rq->error_href) : NULL;
	char *element = href != NULL ? g_strdup_printf("<X:%s><D:href>%s</D:href></X:%s>",
	                                               condition, href, condition)
	                             : g_strdup_printf("<X:%s/>", condition);
	char *body = g_strdup_printf(
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<D:error xmlns:D=\"DAV:\" xmlns:X=\"%s\">%s%s%s%s</D:error>\n",
		esc, element, text != NULL ? "<S:message xmlns:S=\"http://sabredav.org/ns\">" : "",
		text != NULL ? text : "", text != NULL ? "</S:message>" : "");
	http_reply(rq->ex, status, "application/xml; charset=utf-8", body, strlen(body));
	g_free(body);
	g_free(element);
	g_free(href);
	g_free(text);
	g_free(esc);
}

const char *dav_user_login(struct dav_request *rq)
{
	if (rq->login == NULL) {
		struct user_info info;
		struct ox_error err;
		if (user_lookup_id(rq->store, rq->user, &info, &err) > 0) {
			rq->login = info.login;
			info.login = NULL;
			user_info_clear(&info);
		}
	}
	return rq->login;
}

int dav_read_xml_body_or_reply(struct dav_request *rq, char **body_r, size_t *len_r)
{
	*body_r = NULL;
	*len_r = 0;
	const char *cl = http_request_header(rq->ex, "Content-Length");
	if (cl != NULL && g_ascii_strtoull(cl, NULL, 10) > DAV_XML_BODY_MAX) {
		http_reply_status(rq->ex, 413, NULL);
		return -1;
	}
	GByteArray *buf = g_byte_array_new();
	char chunk[16384];
	ssize_t got;
	while ((got = http_request_read_body(rq->ex, chunk, sizeof(chunk))) > 0) {
		if (buf->len + (size_t)got > DAV_XML_BODY_MAX) {
			g_byte_array_unref(buf);
			http_reply_status(rq->ex, 413, NULL);
			return -1;
		}
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)got);
	}
	if (got < 0) {
		g_byte_array_unref(buf);
		http_reply_status(rq->ex, 400, "the request body ended early\n");
		return -1;
	}
	*len_r = buf->len;
	if (buf->len == 0) {
		g_byte_array_unref(buf);
		return 0;
	}
	g_byte_array_append(buf, (const guint8 *)"", 1);
	*body_r = (char *)g_byte_array_free(buf, FALSE);
	return 0;
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void dav_http_date(int64_t t, char buf[40])
{
	GDateTime *d = g_date_time_new_from_unix_utc(t);
	if (d == NULL) {
		g_strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 GMT", 40);
		return;
	}
	g_snprintf(buf, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	           wdays[g_date_time_get_day_of_week(d) % 7], g_date_time_get_day_of_month(d),
	           months[g_date_time_get_month(d) - 1], g_date_time_get_year(d),
	           g_date_time_get_hour(d), g_date_time_get_minute(d), g_date_time_get_second(d));
	g_date_time_unref(d);
}

void dav_iso_date(int64_t t, char buf[40])
{
	GDateTime *d = g_date_time_new_from_unix_utc(t);
	if (d == NULL) {
		g_strlcpy(buf, "1970-01-01T00:00:00Z", 40);
		return;
	}
	g_snprintf(buf, 40, "%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(d),
	           g_date_time_get_month(d), g_date_time_get_day_of_month(d),
	           g_date_time_get_hour(d), g_date_time_get_minute(d), g_date_time_get_second(d));
	g_date_time_unref(d);
}

int dav_depth(struct dav_request *rq, int fallback)
{
	const char *d = http_request_header(rq->ex, "Depth");
	if (d == NULL)
		return fallback;
	if (strcmp(d, "0") == 0)
		return 0;
	if (strcmp(d, "1") == 0)
		return 1;
	if (g_ascii_strcasecmp(d, "infinity") == 0)
		return -1;
	return -2;
}

/* --- multistatus --- */

void dav_ms_begin(struct dav_ms *ms, struct dav_request *rq, int status)
{
	ms->rq = rq;
	ms->failed = false;
	ms->buf = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                       "<D:multistatus xmlns:D=\"DAV:\">\n");
	http_response_status(rq->ex, status);
	http_response_header(rq->ex, "Content-Type", "application/xml; charset=utf-8");
}

static void ms_flush(struct dav_ms *ms)
{
	if (!ms->failed && ms->buf->len > 0 &&
	    http_response_write(ms->rq->ex, ms->buf->str, ms->buf->len) < 0)
		ms->failed = true;
	g_string_truncate(ms->buf, 0);
}

void dav_ms_append(struct dav_ms *ms, const char *text)
{
	g_string_append(ms->buf, text);
	if (ms->buf->len >= DAV_MS_FLUSH)
		ms_flush(ms);
}

void dav_ms_end(struct dav_ms *ms)
{
	g_string_append(ms->buf, "</D:multistatus>\n");
	ms_flush(ms);
	g_string_free(ms->buf, TRUE);
	http_response_finish(ms->rq->ex);
}

/* --- OPTIONS --- */

static bool engine_method(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		if (strcmp(methods[i].name, name) == 0)
			return true;
	}
	return false;
}

/* Calendars and address books take no locks (as in Cyrus and SOGo: no
 * CalDAV or CardDAV client asks for one). Such a space says so: no class
 * 2 (RFC 4918 18.2 makes it a promise of LOCK) and 405 for LOCK and
 * UNLOCK. */
static bool provider_locks(const struct dav_provider *p)
{
	return p->lock_create != dav_refuse_lock_create;
}

static bool lock_method(const char *name)
{
	return strcmp(name, "LOCK") == 0 || strcmp(name, "UNLOCK") == 0;
}

/* The Allow header of a provider's space (RFC 9110 10.2.1). */
static char *allow_of(const struct dav_provider *p)
{
	GString *allow = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		if (!lock_method(methods[i].name) || provider_locks(p))
			g_string_append_printf(allow, "%s%s", allow->len > 0 ? ", " : "",
			                       methods[i].name);
	}
	for (const struct dav_method *m = p->methods; m != NULL && m->name != NULL; m++) {
		/* A provider may take over an engine method (CardDAV's MKCOL). */
		if (!engine_method(m->name))
			g_string_append_printf(allow, ", %s", m->name);
	}
	return g_string_free(allow, FALSE);
}

void dav_options(struct dav_request *rq)
{
	http_response_status(rq->ex, 200);
	/* RFC 3744 7.2: the ACL properties and method are everywhere. */
	char *dav = g_strconcat(provider_locks(rq->provider) ? "1, 2, 3" : "1, 3",
	                        ", access-control", rq->provider->compliance != NULL ? ", " : "",
	                        rq->provider->compliance, NULL);
	char *allow = allow_of(rq->provider);
	http_response_header(rq->ex, "DAV", dav);
	http_response_header(rq->ex, "Allow", allow);
	g_free(dav);
	g_free(allow);
	http_response_header(rq->ex, "MS-Author-Via", "DAV");
	http_response_content_length(rq->ex, 0);
	http_response_finish(rq->ex);
}

/* --- the handler --- */

static const struct dav_provider *provider_for(const char *raw)
{
	const struct dav_provider *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(providers); i++) {
		const char *prefix = providers[i]->prefix;
		size_t plen = strlen(prefix);
		if (plen > best_len &&
		    (strncmp(raw, prefix, plen) == 0 ||
		     (strncmp(raw, prefix, plen - 1) == 0 && raw[plen - 1] == '\0'))) {
			best = providers[i];
			best_len = plen;
		}
	}
	return best;
}

static dav_method_fn *method_for(const struct dav_provider *provider, const char *name)
{
	for (const struct dav_method *m = provider->methods; m != NULL && m->name != NULL; m++) {
		if (strcmp(m->name, name) == 0)
			return m->fn;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		if (strcmp(methods[i].name, name) == 0)
			return !lock_method(name) || provider_locks(provider) ? methods[i].fn
			                                                      : NULL;
	}
	return NULL;
}

static void dav_serve(struct http_exchange *ex)
{
	struct dav_request rq = {.ex = ex};
	char *raw = raw_path(http_request_target(ex));
	rq.provider = raw != NULL ? provider_for(raw) : NULL;
	dav_method_fn *fn =
		rq.provider != NULL ? method_for(rq.provider, http_request_method(ex)) : NULL;
	if (rq.provider != NULL && fn == NULL) {
		g_free(raw);
		char *allow = allow_of(rq.provider);
		http_response_header(ex, "Allow", allow);
		g_free(allow);
		http_reply_status(ex, 405, NULL);
		return;
	}
	if (http_require_user_or_reply(ex, &rq.user) < 0) {
		g_free(raw);
		return;
	}
	if (rq.provider == NULL) {
		g_free(raw);
		http_reply_status(ex, 404, NULL);
		return;
	}
	rq.segs = split_segments(raw, rq.provider->prefix, &rq.nsegs);
	g_free(raw);
	if (rq.segs == NULL) {
		http_reply_status(ex, 400, "malformed path\n");
		return;
	}
	struct ox_error err = {0};
	if ((rq.store = http_store_or_reply(ex)) == NULL)
		goto out;
	if (rq.provider->request_begin != NULL && rq.provider->request_begin(&rq, &err) < 0) {
		dav_reply_error(&rq, &err);
		goto out;
	}
	fn(&rq);
	if (rq.provider->request_done != NULL)
		rq.provider->request_done(&rq);
out:
	dav_acl_request_done(&rq);
	segs_free(rq.segs, rq.nsegs);
	g_free(rq.login);
	g_free(rq.error_href);
}

static void dav_handler(struct http_exchange *ex, void *data)
{
	/* The request's reads (authentication, the resource, its listing)
	 * share one snapshot (store_read_begin()); without a store, the
	 * request answers 503 on its own. */
	struct store *s = store_thread_get(NULL);
	if (s != NULL && store_read_begin(s, NULL) < 0)
		s = NULL;
	dav_serve(ex);
	if (s != NULL)
		store_read_end(s);
}

static const struct http_route dav_route = {
	.prefix = "/dav/",
	.methods = NULL,
	.handler = dav_handler,
};

/* RFC 6764 5: the well-known URI leads a client to the DAV root, where
 * current-user-principal names the rest. Anyone may ask. */
static void well_known_handler(struct http_exchange *ex, void *data)
{
	http_response_header(ex, "Location", "/dav/");
	http_reply_status(ex, 301, NULL);
}

static const struct http_route caldav_well_known = {
	.prefix = "/.well-known/caldav",
	.methods = NULL,
	.handler = well_known_handler,
};

static const struct http_route carddav_well_known = {
	.prefix = "/.well-known/carddav",
	.methods = NULL,
	.handler = well_known_handler,
};

void dav_routes(void)
{
	xmlInitParser();
	http_route_add(&dav_route);
	http_route_add(&caldav_well_known);
	http_route_add(&carddav_well_known);
}
