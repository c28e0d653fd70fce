/* Who is asking: authenticates a request on a worker thread (it may block
 * on the store) through the directory's services. Two ways in:
 *
 * - `Authorization: Basic` (RFC 7617, UTF-8) for DAV and other clients
 *   that send credentials with every request; app passwords count. It is
 *   checked by auth_login(), with the peer address for throttling.
 * - The browser's session cookie `ox_session` (set by POST /api/login).
 *   Since a browser sends it with every request, state-changing methods
 *   (anything but GET, HEAD, OPTIONS, PROPFIND, REPORT) must also carry
 *   the session's token in `X-OX-CSRF`, which a page of another origin
 *   cannot read.
 *
 * When a request carries an Authorization header the cookie is not
 * looked at: explicit credentials win over ambient ones. */
#ifndef OX_HTTP_AUTH_H
#define OX_HTTP_AUTH_H

#include "directory/auth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_exchange;
struct ox_error;
struct store;

#define HTTP_SESSION_COOKIE "ox_session"
#define HTTP_CSRF_HEADER "X-OX-CSRF"
#define HTTP_AUTH_REALM "OX Server"

enum http_auth_result {
	HTTP_AUTH_OK,
	HTTP_AUTH_NONE,     /* no credentials, or a session that is unknown or expired */
	HTTP_AUTH_FAILED,   /* wrong or malformed Basic credentials */
	HTTP_AUTH_CSRF,     /* a cookie session without its token on a state-changing method */
	HTTP_AUTH_LOCKED,   /* too many failures: see auth_lockout_seconds() */
	HTTP_AUTH_DISABLED, /* the user or its context is disabled */
	HTTP_AUTH_ERROR,    /* the store failed: err says why */
};

enum http_auth_via {
	HTTP_VIA_BASIC,
	HTTP_VIA_SESSION,
};

struct http_auth {
	int64_t user_id;
	enum http_auth_via via;
	struct auth_session session; /* filled when via is HTTP_VIA_SESSION */
};

/* Decides who sent the request without answering it. On HTTP_AUTH_OK
 * fills *auth_r. */
enum http_auth_result http_authenticate(struct http_exchange *ex, struct http_auth *auth_r,
                                        struct ox_error *err);

/* Authenticates, or answers with a JSON error and returns -1:
 * 401 "auth_required" (no credentials or session) or "auth_failed",
 * 403 "csrf", 429 "locked" with Retry-After, 403 "disabled", 503
 * "unavailable". With `challenge` every 401 carries
 * `WWW-Authenticate: Basic realm="OX Server", charset="UTF-8"`; without it
 * (the browser API) only a 401 to a request that tried Basic does, since
 * browsers answer a Basic challenge with their own login dialog. */
int http_authenticate_or_reply(struct http_exchange *ex, bool challenge, struct http_auth *auth_r);
/* The answer http_authenticate_or_reply() gives for a result other than
 * HTTP_AUTH_OK, for handlers that look at the result first. */
void http_reply_auth_failure(struct http_exchange *ex, enum http_auth_result result, bool challenge,
                             const struct ox_error *err);

/* For DAV, JMAP and other protocol handlers: 0 with the user's principal
 * id, or -1 after answering as http_authenticate_or_reply() does with a
 * challenge. */
int http_require_user_or_reply(struct http_exchange *ex, int64_t *user_id_r);

/* The worker thread's store connection, or NULL after answering 503. */
struct store *http_store_or_reply(struct http_exchange *ex);

/* The peer's address without the port ("192.0.2.1", "2001:db8::1") into
 * buf, for throttling and the audit log; NULL when unknown. */
const char *http_peer_address(struct http_exchange *ex, char *buf, size_t size);

/* Records in the audit log a change the user `user_id` made through this
 * request: they are its actor, the peer's address its address; a NULL
 * `target` names their own login. Runs in the caller's transaction.
 * 0, or -1 with err set (OX_ERR_TEMP when the user went meanwhile). */
int http_audit_change(struct http_exchange *ex, struct store *s, int64_t user_id,
                      const char *action, const char *target, const char *detail,
                      struct ox_error *err);

/* True for the methods that change nothing (GET, HEAD, OPTIONS, PROPFIND,
 * REPORT), which a cookie session may use without its CSRF token. */
bool http_method_is_safe(const char *method);

#endif
