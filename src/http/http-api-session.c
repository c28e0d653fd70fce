/* The browser app's session API:
 *   POST /api/login   {"login": ..., "password": ...} -> 200 {"login", "name", "csrf"}
 *                     and the ox_session cookie; 401 "auth_failed" (unknown user and
 *                     wrong password alike), 429 "locked", 403 "disabled"
 *   POST /api/logout  ends the cookie's session (needs X-OX-CSRF) -> 204
 *   GET  /api/me      who is logged in (cookie or Basic) -> 200 {"id", "login", ...}
 * and JSON 404s for the rest of /api/. App passwords are for clients that
 * cannot do better than Basic; the login form takes the real password only.
 * Every answer is marked no-store: it is personal. */
#include "core/error.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "http/http-auth.h"
#include "http/http-error.h"
#include "http/http-json.h"
#include "http/http-private.h"

#include <jansson.h>
#include <string.h>

/* A login and a password with room to spare; anything larger is not a
 * login attempt. */
#define LOGIN_BODY_MAX 8192

/* The cookie's attributes: not readable by scripts (HttpOnly), never sent
 * with requests from other sites (SameSite=Strict), and over HTTPS never
 * sent over plain HTTP (Secure). No Max-Age: the session ends with the
 * browser or with its sliding expiry on the server, whichever is first. */
static void set_session_cookie(struct http_exchange *ex, const char *token)
{
	char cookie[160];
	g_snprintf(cookie, sizeof(cookie),
	           HTTP_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
	           http_request_is_tls(ex) ? "; Secure" : "");
	http_response_header(ex, "Set-Cookie", cookie);
	explicit_bzero(cookie, sizeof(cookie));
}

static void clear_session_cookie(struct http_exchange *ex)
{
	static const char plain[] =
		HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict";
	static const char tls[] =
		HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure";
	http_response_header(ex, "Set-Cookie", http_request_is_tls(ex) ? tls : plain);
}

/* The routes match by prefix; these endpoints are exact paths. */
static bool exact_path_or_reply(struct http_exchange *ex, const char *path)
{
	http_response_header(ex, "Cache-Control", "no-store");
	if (strcmp(http_request_path(ex), path) == 0)
		return true;
	http_reply_error(ex, 404, "not_found", "no such API");
	return false;
}

static void reply_login_refused(struct http_exchange *ex, enum auth_result r,
                                const struct ox_error *err)
{
	enum http_auth_result result = r == AUTH_LOCKED     ? HTTP_AUTH_LOCKED
	                               : r == AUTH_DISABLED ? HTTP_AUTH_DISABLED
	                               : r == AUTH_ERROR    ? HTTP_AUTH_ERROR
	                                                    : HTTP_AUTH_FAILED;
	/* No challenge: a browser would answer it with its own dialog. */
	http_reply_auth_failure(ex, result, false, err);
}

static void start_session(struct http_exchange *ex, struct store *s, int64_t user_id)
{
	struct ox_error err = {0};
	struct user_info user = {0};
	struct auth_session session = {0};
	/* The user first, so that a failed lookup leaves no session behind. */
	int r = user_lookup_id(s, user_id, &user, &err);
	if (r == 0)
		ox_error_set(&err, OX_ERR_TEMP, "user %" G_GINT64_FORMAT " vanished during login",
		             user_id);
	if (r <= 0 ||
	    session_create(s, user_id, http_request_header(ex, "User-Agent"), &session, &err) < 0) {
		http_reply_ox_error(ex, &err);
		goto out;
	}
	json_t *body = json_pack("{s:s,s:s,s:s}", "login", user.login, "name", user.display_name,
	                         "csrf", session.csrf);
	set_session_cookie(ex, session.token);
	http_reply_json(ex, 200, body);
	json_decref(body);
out:
	explicit_bzero(&session, sizeof(session));
	user_info_clear(&user);
}

static void login_handler(struct http_exchange *ex, void *data)
{
	if (!exact_path_or_reply(ex, "/api/login"))
		return;
	json_t *body = http_read_json_object_or_reply(ex, LOGIN_BODY_MAX);
	if (body == NULL)
		return;
	const char *login, *password;
	json_error_t jerr;
	if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s,s:s}", "login", &login, "password",
	                   &password) < 0) {
		char text[256];
		g_snprintf(text, sizeof(text),
		           "expected {\"login\": string, \"password\": string}: %s", jerr.text);
		http_reply_error(ex, 400, "invalid_request", text);
		goto out;
	}
	struct store *s = http_store_or_reply(ex);
	if (s == NULL)
		goto out;
	char addr[64];
	struct auth_request req = {
		.login = login,
		.password = password,
		.remote = http_peer_address(ex, addr, sizeof(addr)),
		.protocol = "http",
		.allow_app_password = false,
	};
	struct ox_error err = {0};
	int64_t user_id = 0;
	enum auth_result r = auth_login(s, &req, &user_id, &err);
	if (r == AUTH_OK)
		start_session(ex, s, user_id);
	else
		reply_login_refused(ex, r, &err);
out:
	json_decref(body);
}

static void logout_handler(struct http_exchange *ex, void *data)
{
	if (!exact_path_or_reply(ex, "/api/logout"))
		return;
	struct ox_error err = {0};
	struct http_auth auth;
	enum http_auth_result r = http_authenticate(ex, &auth, &err);
	if (r == HTTP_AUTH_NONE)
		clear_session_cookie(ex); /* a stale cookie: let the browser drop it */
	if (r != HTTP_AUTH_OK) {
		http_reply_auth_failure(ex, r, false, &err);
		return;
	}
	if (auth.via != HTTP_VIA_SESSION) {
		http_reply_error(ex, 400, "no_session",
		                 "logging out ends a browser session; this request has none");
		return;
	}
	struct store *s = http_store_or_reply(ex);
	if (s == NULL)
		goto out;
	if (session_revoke(s, auth.session.token, &err) < 0) {
		http_reply_ox_error(ex, &err);
		goto out;
	}
	clear_session_cookie(ex);
	http_reply(ex, 204, NULL, "", 0);
out:
	explicit_bzero(&auth.session, sizeof(auth.session));
}

static json_t *addresses_json(char **addresses)
{
	json_t *list = json_array();
	for (size_t i = 0; addresses != NULL && addresses[i] != NULL; i++)
		json_array_append_new(list, json_string(addresses[i]));
	return list;
}

static void me_handler(struct http_exchange *ex, void *data)
{
	if (!exact_path_or_reply(ex, "/api/me"))
		return;
	struct http_auth auth;
	if (http_authenticate_or_reply(ex, false, &auth) < 0)
		return;
	explicit_bzero(&auth.session, sizeof(auth.session));
	struct store *s = http_store_or_reply(ex);
	if (s == NULL)
		return;
	struct ox_error err = {0};
	struct user_info user = {0};
	int r = user_lookup_id(s, auth.user_id, &user, &err);
	if (r <= 0) {
		/* Deleted between authentication and now. */
		if (r == 0)
			ox_error_set(&err, OX_ERR_NOT_FOUND, "no such user");
		http_reply_ox_error(ex, &err);
		return;
	}
	json_t *body = json_pack("{s:I,s:s,s:s,s:o,s:s?,s:s?}", "id", (json_int_t)user.id, "login",
	                         user.login, "name", user.display_name, "addresses",
	                         addresses_json(user.addresses), "timeZone", user.time_zone,
	                         "locale", user.locale);
	if (body == NULL)
		http_reply_error(ex, 500, "internal", "internal error");
	else
		http_reply_json(ex, 200, body);
	json_decref(body);
	user_info_clear(&user);
}

static void api_not_found_handler(struct http_exchange *ex, void *data)
{
	http_response_header(ex, "Cache-Control", "no-store");
	http_reply_error(ex, 404, "not_found", "no such API");
}

static const char *const post_methods[] = {"POST", NULL};
static const char *const get_methods[] = {"GET", "HEAD", NULL};

static const struct http_route api_session_routes[] = {
	{.prefix = "/api/", .handler = api_not_found_handler},
	{.prefix = "/api/login", .methods = post_methods, .handler = login_handler},
	{.prefix = "/api/logout", .methods = post_methods, .handler = logout_handler},
	{.prefix = "/api/me", .methods = get_methods, .handler = me_handler},
};

void http_api_session_register(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(api_session_routes); i++)
		http_route_add(&api_session_routes[i]);
}
