/* Service errors in HTTP's words, and the JSON error body. */
#include "http/http-error.h"
#include "core/log.h"
#include "http/http-json.h"
#include "http/http.h"

#include <glib.h>
#include <jansson.h>

int http_error_status(enum ox_error_code code)
{
	switch (code) {
	case OX_ERR_NOT_FOUND:
		return 404;
	case OX_ERR_EXISTS:
	case OX_ERR_CONFLICT:
		return 409;
	case OX_ERR_PERM:
		return 403;
	case OX_ERR_NO_QUOTA:
		return 507;
	case OX_ERR_LIMIT:
		/* A request beyond a size or count limit. Rate limits are not
		 * service errors: login throttling answers 429 itself. */
		return 413;
	case OX_ERR_INVALID:
		return 400;
	case OX_ERR_TEMP:
		return 503;
	case OX_ERR_NONE:
	case OX_ERR_INTERNAL:
		break;
	}
	return 500;
}

void http_reply_error(struct http_exchange *ex, int status, const char *code, const char *message)
{
	/* Service messages may quote client input, which need not be UTF-8. */
	char *text = g_utf8_make_valid(message != NULL ? message : http_status_reason(status), -1);
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", text);
	if (body == NULL)
		http_reply_status(ex, status, NULL);
	else
		http_reply_json(ex, status, body);
	json_decref(body);
	g_free(text);
}

void http_reply_ox_error(struct http_exchange *ex, const struct ox_error *err)
{
	int status = http_error_status(err->code);
	const char *message = err->message;
	if (status >= 500 && status != 507) {
		ox_log_kv(status == 503 ? OX_LOG_WARN : OX_LOG_ERROR, "request_failed", "method",
		          http_request_method(ex), "path", http_request_path(ex), "code",
		          ox_error_code_name(err->code), "error", err->message, NULL);
		message = status == 503 ? "temporarily unavailable, try again" : "internal error";
	}
	http_reply_error(ex, status, ox_error_code_name(err->code), message);
}
