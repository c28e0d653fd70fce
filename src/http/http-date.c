/* IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
#include "http/http-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void http_date_format(gint64 unix_seconds, char buf[32])
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	g_snprintf(buf, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
	           tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	           tm.tm_sec);
}

const char *http_date_now(void)
{
	static __thread gint64 cached_second = -1;
	static __thread char cached[32];
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	if (now != cached_second) {
		http_date_format(now, cached);
		cached_second = now;
	}
	return cached;
}

int http_date_parse(const char *text, gint64 *unix_seconds_r)
{
	/* Only IMF-fixdate: what every current client sends. The obsolete RFC
	 * 850 and asctime forms are treated as absent, which only costs a
	 * full response instead of a 304. */
	char day[4], mon[4], zone[4];
	int d, y, h, mi, s;
	if (sscanf(text, "%3s, %d %3s %d %d:%d:%d %3s", day, &d, mon, &y, &h, &mi, &s, zone) != 8 ||
	    strcmp(zone, "GMT") != 0)
		return -1;
	int m = -1;
	for (int i = 0; i < 12; i++) {
		if (strcmp(mon, month_names[i]) == 0)
			m = i;
	}
	if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970 || y > 9999)
		return -1;
	GDateTime *dt = g_date_time_new_utc(y, m + 1, d, h, mi, s);
	if (dt == NULL)
		return -1;
	*unix_seconds_r = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}
