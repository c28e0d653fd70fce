/* JSON request and response bodies (jansson), for the browser API and
 * JMAP. Reading is strict: one media type, a bounded size, one JSON
 * object without duplicate names; anything else is answered with a JSON
 * error (http-error.h) before the handler sees it. */
#ifndef OX_HTTP_JSON_H
#define OX_HTTP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_exchange;
struct json_t;

/* Answers `status` with `value` (an object or array; not consumed) as
 * application/json. Headers added before the call are kept. */
void http_reply_json(struct http_exchange *ex, int status, const struct json_t *value);
/* The same for a value built for this answer, which it releases; NULL
 * (building it failed) is answered 500 "internal". */
void http_reply_new_json(struct http_exchange *ex, int status, struct json_t *value);

/* True for "application/json" with optional parameters, as long as a
 * charset parameter, if any, names UTF-8 (RFC 8259 8.1). */
bool http_json_content_type(const char *value);

/* Reads the whole request body as one JSON object. Refusals, each answered
 * here: another media type 415 "unsupported_media_type"; more than
 * `max_bytes` 413 "too_large"; not JSON, invalid UTF-8, "\u0000" or a
 * duplicate name 400 "malformed_json"; JSON that is not an object 400
 * "invalid_request"; a body cut short 400 "incomplete_body". Returns a new
 * reference (release with json_decref) or NULL after answering. */
struct json_t *http_read_json_object_or_reply(struct http_exchange *ex, size_t max_bytes);

/* A Unix time as the API shows it: ISO 8601 in UTC. Caller frees. */
char *http_json_time(int64_t seconds);

#endif
