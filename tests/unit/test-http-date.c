/* IMF-fixdate formatting and parsing (RFC 9110 5.6.7). */
#include "http/http-private.h"

#include <string.h>

static void expect_format(gint64 t, const char *expected)
{
	char buf[32];
	http_date_format(t, buf);
	g_assert_cmpstr(buf, ==, expected);
}

static void test_format(void)
{
	expect_format(0, "Thu, 01 Jan 1970 00:00:00 GMT");
	expect_format(784111777, "Sun, 06 Nov 1994 08:49:37 GMT");
	expect_format(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
	expect_format(253402300799, "Fri, 31 Dec 9999 23:59:59 GMT");
}

static void expect_parse(const char *text, gint64 expected)
{
	gint64 t = -1;
	if (http_date_parse(text, &t) != 0)
		g_error("'%s' was refused", text);
	g_assert_cmpint(t, ==, expected);
}

static void test_parse(void)
{
	expect_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777);
	expect_parse("Thu, 01 Jan 1970 00:00:00 GMT", 0);
	expect_parse("Tue, 29 Feb 2000 00:00:00 GMT", 951782400);
}

static void test_round_trip(void)
{
	/* Every day of week and month, leap years, up to the last second of
	 * year 9999. */
	for (gint64 t = 0; t <= 253402300799; t += 7919 * 3601) {
		char buf[32];
		gint64 back = -1;
		http_date_format(t, buf);
		if (http_date_parse(buf, &back) != 0 || back != t)
			g_error("%" G_GINT64_FORMAT " -> '%s' -> %" G_GINT64_FORMAT, t, buf, back);
	}
}

static void expect_refused(const char *text)
{
	gint64 t = 12345;
	if (http_date_parse(text, &t) != -1)
		g_error("'%s' was accepted as %" G_GINT64_FORMAT, text, t);
	g_assert_cmpint(t, ==, 12345);
}

static void test_refused(void)
{
	expect_refused("");
	expect_refused("yesterday");
	/* The obsolete forms count as absent (see http-date.c). */
	expect_refused("Sunday, 06-Nov-94 08:49:37 GMT");
	expect_refused("Sun Nov  6 08:49:37 1994");
	expect_refused("Sun, 06 Nov 1994 08:49:37 UTC");
	expect_refused("Sun, 06 Nov 1994 08:49:37");
	expect_refused("Sun, 06 Nov 1994");
	expect_refused("Sun, 06 Foo 1994 08:49:37 GMT");
	expect_refused("Sun, 06 nov 1994 08:49:37 GMT");
	expect_refused("Sun, 00 Nov 1994 08:49:37 GMT");
	expect_refused("Sun, 32 Nov 1994 08:49:37 GMT");
	expect_refused("Sun, 31 Nov 1994 08:49:37 GMT");
	expect_refused("Sun, 29 Feb 1900 08:49:37 GMT");
	expect_refused("Sun, 06 Nov 1994 24:00:00 GMT");
	expect_refused("Sun, 06 Nov 1994 08:60:00 GMT");
	expect_refused("Sun, 06 Nov 1994 08:49:61 GMT");
	expect_refused("Sun, 06 Nov 1994 -1:49:37 GMT");
	expect_refused("Wed, 31 Dec 1969 23:59:59 GMT");
	expect_refused("Sat, 01 Jan 10000 00:00:00 GMT");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http-date/format", test_format);
	g_test_add_func("/http-date/parse", test_parse);
	g_test_add_func("/http-date/round-trip", test_round_trip);
	g_test_add_func("/http-date/refused", test_refused);
	return g_test_run();
}
