/* Authentication of HTTP requests: Basic credentials and session cookies,
 * checked by the directory's auth services; this file only reads the
 * headers and words the answers. */
#include "http/http-auth.h"
#include "core/error.h"
#include "core/log.h"
#include "directory/directory.h"
#include "http/http-error.h"
#include "http/http-private.h"
#include "store/store.h"

#include <string.h>

/* base64 of the longest login (320) and password (1024) auth_login()
 * accepts, with the colon, rounded up: longer headers are refused before
 * decoding. */
#define BASIC_MAX 1800

static const char challenge_value[] = "Basic realm=\"" HTTP_AUTH_REALM "\", charset=\"UTF-8\"";

const char *http_peer_address(struct http_exchange *ex, char *buf, size_t size)
{
	const char *peer = http_request_peer(ex);
	const char *start = peer, *end;
	if (peer[0] == '[') {
		start = peer + 1;
		end = strchr(start, ']');
	} else {
		end = strrchr(peer, ':');
	}
	if (end == NULL || end == start || (size_t)(end - start) >= size)
		return NULL;
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return buf;
}

int http_audit_change(struct http_exchange *ex, struct store *s, int64_t user_id,
                      const char *action, const char *target, const char *detail,
                      struct ox_error *err)
{
	struct user_info info = {0};
	int r = user_lookup_id(s, user_id, &info, err);
	if (r == 0)
		r = ox_error_set(err, OX_ERR_TEMP, "the user vanished");
	if (r < 0)
		return -1;
	char addr[64];
	r = audit_log(s, info.login, action, target != NULL ? target : info.login,
	              http_peer_address(ex, addr, sizeof(addr)), true, detail, err);
	user_info_clear(&info);
	return r;
}

bool http_method_is_safe(const char *method)
{
	/* Method names are case-sensitive (RFC 9110 9.1). */
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"};
	for (size_t i = 0; i < G_N_ELEMENTS(safe); i++) {
		if (strcmp(method, safe[i]) == 0)
			return true;
	}
	return false;
}

/* Comparison whose time does not depend on where the strings differ, so
 * that the CSRF token cannot be guessed one character at a time. */
static bool tokens_equal(const char *a, const char *b)
{
	size_t len = strlen(b);
	if (strlen(a) != len)
		return false;
	unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* --- Basic (RFC 7617) --- */

static bool base64_valid(const char *p, size_t len)
{
	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (g_ascii_isalnum(c) || c == '+' || c == '/')
			continue;
		/* Padding only at the end, at most two. */
		if (c == '=' && i + 2 >= len && p[len - 1] == '=')
			continue;
		return false;
	}
	return true;
}

/* UTF-8 without control characters (RFC 7617 2: neither part may hold
 * one), and with the colon that ends the user-id. */
static bool credentials_valid(const char *raw, size_t len)
{
	if (!g_utf8_validate(raw, (gssize)len, NULL) || memchr(raw, ':', len) == NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* Splits "Basic <token68>" into login and password. 0, or -1 when the
 * header is not well-formed Basic. */
static int parse_basic(const char *value, char **login_r, char **password_r)
{
	if (g_ascii_strncasecmp(value, "Basic ", 6) != 0)
		return -1;
	const char *p = value + 6;
	while (*p == ' ')
		p++;
	size_t len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len > BASIC_MAX || !base64_valid(p, len))
		return -1;
	char *b64 = g_strndup(p, len);
	gsize raw_len = 0;
	char *raw = (char *)g_base64_decode(b64, &raw_len);
	g_free(b64);
	int r = -1;
	if (credentials_valid(raw, raw_len)) {
		const char *colon = memchr(raw, ':', raw_len);
		*login_r = g_strndup(raw, (gsize)(colon - raw));
		*password_r = g_strndup(colon + 1, raw_len - (gsize)(colon - raw) - 1);
		r = 0;
	}
	explicit_bzero(raw, raw_len);
	g_free(raw);
	return r;
}

static void free_secret(char **secret)
{
	if (*secret != NULL)
		explicit_bzero(*secret, strlen(*secret));
	g_clear_pointer(secret, g_free);
}

static enum http_auth_result authenticate_basic(struct http_exchange *ex, const char *value,
                                                struct http_auth *auth_r, struct ox_error *err)
{
	char *login = NULL, *password = NULL;
	if (http_request_head_count(http_request_head(ex), "Authorization") != 1 ||
	    parse_basic(value, &login, &password) < 0)
		return HTTP_AUTH_FAILED;
	enum http_auth_result result = HTTP_AUTH_ERROR;
	struct store *s = store_thread_get(err);
	if (s == NULL)
		goto out;
	char addr[64];
	struct auth_request req = {
		.login = login,
		.password = password,
		.remote = http_peer_address(ex, addr, sizeof(addr)),
		.protocol = "http",
		.allow_app_password = true,
	};
	switch (auth_login(s, &req, &auth_r->user_id, err)) {
	case AUTH_OK:
		auth_r->via = HTTP_VIA_BASIC;
		result = HTTP_AUTH_OK;
		break;
	case AUTH_FAILED:
		result = HTTP_AUTH_FAILED;
		break;
	case AUTH_DISABLED:
		result = HTTP_AUTH_DISABLED;
		break;
	case AUTH_LOCKED:
		result = HTTP_AUTH_LOCKED;
		break;
	case AUTH_ERROR:
		break;
	}
out:
	g_free(login);
	free_secret(&password);
	return result;
}

/* --- session cookie --- */

static bool token_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* Looks for the session cookie in one Cookie header value ("a=b; c=d",
 * RFC 6265 4.2.1): 1 found and well-formed (copied to token), 0 absent,
 * -1 present but not a token we could have issued. */
static int find_session_cookie(const char *p, char *token)
{
	static const size_t name_len = sizeof(HTTP_SESSION_COOKIE) - 1;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *end = strchrnul(p, ';');
		/* Cookie names are case-sensitive. */
		if ((size_t)(end - p) > name_len &&
		    strncmp(p, HTTP_SESSION_COOKIE, name_len) == 0 && p[name_len] == '=') {
			const char *v = p + name_len + 1;
			const char *v_end = end;
			while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
				v_end--;
			if (v_end - v != AUTH_TOKEN_LEN)
				return -1;
			for (const char *c = v; c < v_end; c++) {
				if (!token_char(*c))
					return -1;
			}
			memcpy(token, v, AUTH_TOKEN_LEN);
			token[AUTH_TOKEN_LEN] = '\0';
			return 1;
		}
		p = *end == ';' ? end + 1 : end;
	}
	return 0;
}

/* The first session cookie over all Cookie lines (clients should send one
 * line, but HTTP/2 gateways may split it). */
static bool session_cookie(struct http_exchange *ex, char *token)
{
	const struct http_request_head *head = http_request_head(ex);
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		if (g_ascii_strcasecmp(h->name, "Cookie") != 0)
			continue;
		int r = find_session_cookie(h->value, token);
		if (r != 0)
			return r > 0;
	}
	return false;
}

static enum http_auth_result authenticate_session(struct http_exchange *ex, const char *token,
                                                  struct http_auth *auth_r, struct ox_error *err)
{
	struct store *s = store_thread_get(err);
	if (s == NULL)
		return HTTP_AUTH_ERROR;
	int r = session_lookup(s, token, &auth_r->session, err);
	if (r < 0)
		return HTTP_AUTH_ERROR;
	if (r == 0)
		return HTTP_AUTH_NONE;
	if (!http_method_is_safe(http_request_method(ex))) {
		const char *csrf = http_request_header(ex, HTTP_CSRF_HEADER);
		if (csrf == NULL || !tokens_equal(csrf, auth_r->session.csrf)) {
			explicit_bzero(&auth_r->session, sizeof(auth_r->session));
			return HTTP_AUTH_CSRF;
		}
	}
	auth_r->user_id = auth_r->session.user_id;
	auth_r->via = HTTP_VIA_SESSION;
	return HTTP_AUTH_OK;
}

enum http_auth_result http_authenticate(struct http_exchange *ex, struct http_auth *auth_r,
                                        struct ox_error *err)
{
	memset(auth_r, 0, sizeof(*auth_r));
	const char *authorization = http_request_header(ex, "Authorization");
	if (authorization != NULL)
		return authenticate_basic(ex, authorization, auth_r, err);
	char token[AUTH_TOKEN_LEN + 1];
	if (!session_cookie(ex, token))
		return HTTP_AUTH_NONE;
	enum http_auth_result r = authenticate_session(ex, token, auth_r, err);
	explicit_bzero(token, sizeof(token));
	return r;
}

/* --- answers --- */

static void reply_unavailable(struct http_exchange *ex, const struct ox_error *err)
{
	ox_log_kv(OX_LOG_WARN, "store_unavailable", "method", http_request_method(ex), "path",
	          http_request_path(ex), "error", err->message, NULL);
	http_reply_error(ex, 503, "unavailable", "temporarily unavailable, try again");
}

static bool tried_basic(struct http_exchange *ex)
{
	const char *authorization = http_request_header(ex, "Authorization");
	return authorization != NULL && g_ascii_strncasecmp(authorization, "Basic", 5) == 0;
}

void http_reply_auth_failure(struct http_exchange *ex, enum http_auth_result result, bool challenge,
                             const struct ox_error *err)
{
	char seconds[24];
	switch (result) {
	case HTTP_AUTH_OK:
		break;
	case HTTP_AUTH_NONE:
	case HTTP_AUTH_FAILED:
		if (challenge || tried_basic(ex))
			http_response_header(ex, "WWW-Authenticate", challenge_value);
		if (result == HTTP_AUTH_NONE)
			http_reply_error(ex, 401, "auth_required", "log in first");
		else
			http_reply_error(ex, 401, "auth_failed", "wrong login or password");
		break;
	case HTTP_AUTH_CSRF:
		http_reply_error(ex, 403, "csrf",
		                 "this request needs the session's token in " HTTP_CSRF_HEADER);
		break;
	case HTTP_AUTH_LOCKED:
		g_snprintf(seconds, sizeof(seconds), "%" G_GINT64_FORMAT, auth_lockout_seconds());
		http_response_header(ex, "Retry-After", seconds);
		http_reply_error(ex, 429, "locked", "too many failed logins; try again later");
		break;
	case HTTP_AUTH_DISABLED:
		http_reply_error(ex, 403, "disabled", "this account is disabled");
		break;
	case HTTP_AUTH_ERROR:
		reply_unavailable(ex, err);
		break;
	}
}

int http_authenticate_or_reply(struct http_exchange *ex, bool challenge, struct http_auth *auth_r)
{
	struct ox_error err = {0};
	enum http_auth_result r = http_authenticate(ex, auth_r, &err);
	if (r == HTTP_AUTH_OK)
		return 0;
	http_reply_auth_failure(ex, r, challenge, &err);
	return -1;
}

int http_require_user_or_reply(struct http_exchange *ex, int64_t *user_id_r)
{
	struct http_auth auth;
	if (http_authenticate_or_reply(ex, true, &auth) < 0)
		return -1;
	*user_id_r = auth.user_id;
	explicit_bzero(&auth.session, sizeof(auth.session));
	return 0;
}

struct store *http_store_or_reply(struct http_exchange *ex)
{
	struct ox_error err = {0};
	struct store *s = store_thread_get(&err);
	if (s == NULL)
		reply_unavailable(ex, &err);
	return s;
}
