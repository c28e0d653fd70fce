/* JSON bodies in and out. */
#include "http/http-json.h"
#include "http/http-error.h"
#include "http/http-private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void http_reply_json(struct http_exchange *ex, int status, const struct json_t *value)
{
	/* Objects keep their insertion order, so answers read the same every
	 * time and tests can compare them byte for byte. */
	char *text = json_dumps(value, JSON_COMPACT);
	if (text == NULL) {
		http_reply_status(ex, 500, NULL);
		return;
	}
	http_reply(ex, status, "application/json", text, strlen(text));
	free(text);
}

void http_reply_new_json(struct http_exchange *ex, int status, struct json_t *value)
{
	if (value == NULL)
		http_reply_error(ex, 500, "internal", "internal error");
	else
		http_reply_json(ex, status, value);
	json_decref(value);
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* One "name=value" parameter between p and end: false when it is a
 * charset other than UTF-8. */
static bool parameter_acceptable(const char *p, const char *end)
{
	p = skip_ows(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (eq == NULL || eq - p != 7 || g_ascii_strncasecmp(p, "charset", 7) != 0)
		return true;
	const char *v = eq + 1;
	if (end - v >= 2 && *v == '"' && end[-1] == '"') {
		v++;
		end--;
	}
	return end - v == 5 && g_ascii_strncasecmp(v, "utf-8", 5) == 0;
}

bool http_json_content_type(const char *value)
{
	static const char type[] = "application/json";
	if (value == NULL || g_ascii_strncasecmp(value, type, sizeof(type) - 1) != 0)
		return false;
	const char *p = skip_ows(value + sizeof(type) - 1);
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	while (*p == ';') {
		const char *end = strchrnul(p + 1, ';');
		if (!parameter_acceptable(p + 1, end))
			return false;
		p = end;
	}
	return true;
}

/* The body into a new buffer of at most max bytes: 0 read, 1 too large,
 * -1 cut short (the client went away or stalled). */
static int read_body(struct http_exchange *ex, size_t max, char **buf_r, size_t *len_r)
{
	const struct http_request_head *head = http_request_head(ex);
	if (head->has_content_length && head->content_length > max)
		return 1; /* refused before reading a byte of it */
	char *buf = g_malloc(max + 1);
	size_t len = 0;
	int r = 0;
	for (;;) {
		/* One byte of room beyond max tells a body of exactly max bytes
		 * from a longer chunked one. */
		ssize_t n = http_request_read_body(ex, buf + len, max + 1 - len);
		if (n == 0)
			break;
		if (n < 0) {
			r = -1;
			break;
		}
		len += (size_t)n;
		if (len > max) {
			r = 1;
			break;
		}
	}
	if (r != 0) {
		g_free(buf);
		return r;
	}
	*buf_r = buf;
	*len_r = len;
	return 0;
}

struct json_t *http_read_json_object_or_reply(struct http_exchange *ex, size_t max_bytes)
{
	if (!http_json_content_type(http_request_header(ex, "Content-Type"))) {
		http_reply_error(ex, 415, "unsupported_media_type",
		                 "the body must be application/json in UTF-8");
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	int r = read_body(ex, max_bytes, &buf, &len);
	if (r != 0) {
		if (r > 0) {
			char text[64];
			g_snprintf(text, sizeof(text), "the body is larger than %zu bytes",
			           max_bytes);
			http_reply_error(ex, 413, "too_large", text);
		} else {
			http_reply_error(ex, 400, "incomplete_body", "the body ended early");
		}
		return NULL;
	}
	/* jansson checks UTF-8 and refuses "\u0000" unless told otherwise. */
	json_error_t jerr;
	json_t *value = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	g_free(buf);
	if (value == NULL) {
		char text[256];
		g_snprintf(text, sizeof(text), "malformed JSON at line %d, column %d: %s",
		           jerr.line, jerr.column, jerr.text);
		http_reply_error(ex, 400, "malformed_json", text);
		return NULL;
	}
	if (!json_is_object(value)) {
		json_decref(value);
		http_reply_error(ex, 400, "invalid_request", "the body must be a JSON object");
		return NULL;
	}
	return value;
}

char *http_json_time(int64_t seconds)
{
	GDateTime *t = g_date_time_new_from_unix_utc(seconds);
	char *text = g_date_time_format_iso8601(t);
	g_date_time_unref(t);
	return text;
}
