/* HTTP's words for the protocol-neutral error codes, and the one shape of
 * a JSON error answer:
 *   {"error": {"code": "<stable code>", "message": "<text for people>"}}
 * Clients branch on `code`, which never changes once published; `message`
 * may be reworded at any time. */
#ifndef OX_HTTP_ERROR_H
#define OX_HTTP_ERROR_H

#include "core/error.h"

struct http_exchange;

/* The status for a service error: NOT_FOUND 404, EXISTS 409, PERM 403,
 * NO_QUOTA 507, LIMIT 413, INVALID 400, CONFLICT 409, TEMP 503,
 * INTERNAL (and anything unknown) 500. This is the only place that maps
 * them. */
int http_error_status(enum ox_error_code code);

/* Answers `status` with a JSON error body. `code` is a stable lower-case
 * identifier; `message` any text (it is JSON-escaped; invalid UTF-8 is
 * replaced). Headers added before the call are kept. */
void http_reply_error(struct http_exchange *ex, int status, const char *code, const char *message);

/* Answers a service error: status from http_error_status(), code from
 * ox_error_code_name(). The service's message is shown for errors the
 * client caused; TEMP and INTERNAL are logged with it and answered with a
 * generic text, since store messages must not reach clients. */
void http_reply_ox_error(struct http_exchange *ex, const struct ox_error *err);

#endif
