/* Entity-tag lists of If-Match and If-None-Match (RFC 9110 13.1), for
 * every handler with validators: static files, feeds, WebDAV resources. */
#include "http/http.h"

#include <glib.h>
#include <string.h>

/* At most this many entries are compared: a longer list is a client's
 * mistake or an attack, and the rest cannot name anything more. */
#define ETAG_LIST_MAX 64

bool http_etag_listed(const char *list, const char *etag, bool weak)
{
	if (list == NULL || etag == NULL)
		return false;
	gchar **items = g_strsplit(list, ",", ETAG_LIST_MAX);
	bool found = false;
	for (gchar **i = items; !found && *i != NULL; i++) {
		const char *v = g_strstrip(*i);
		if (weak && strncmp(v, "W/", 2) == 0)
			v += 2;
		found = strcmp(v, "*") == 0 || strcmp(v, etag) == 0;
	}
	g_strfreev(items);
	return found;
}
