/* The Range request header (RFC 9110 14.1.2), for every handler that
 * serves bytes: static files and WebDAV resources. */
#include "http/http.h"

#include <glib.h>
#include <string.h>

int http_parse_range(const char *header, uint64_t size, uint64_t *first_r, uint64_t *last_r)
{
	if (header == NULL || g_ascii_strncasecmp(header, "bytes=", 6) != 0)
		return 0;
	const char *spec = header + 6;
	if (strchr(spec, ',') != NULL)
		return 0;
	char *end;
	if (*spec == '-') {
		guint64 suffix = g_ascii_strtoull(spec + 1, &end, 10);
		if (end == spec + 1 || *end != '\0')
			return 0;
		if (suffix == 0 || size == 0)
			return -1;
		*first_r = suffix >= size ? 0 : size - suffix;
		*last_r = size - 1;
		return 1;
	}
	if (!g_ascii_isdigit(*spec))
		return 0;
	guint64 first = g_ascii_strtoull(spec, &end, 10);
	if (*end != '-')
		return 0;
	const char *second = end + 1;
	guint64 last = size > 0 ? size - 1 : 0;
	if (*second != '\0') {
		if (!g_ascii_isdigit(*second))
			return 0;
		last = g_ascii_strtoull(second, &end, 10);
		if (*end != '\0' || last < first)
			return 0;
		if (last >= size)
			last = size - 1;
	}
	if (first >= size)
		return -1;
	*first_r = first;
	*last_r = last;
	return 1;
}
