/* The Range header parser shared by static files and WebDAV. */
#include "http/http.h"

#include <glib.h>

static void expect(const char *header, uint64_t size, int result, uint64_t first, uint64_t last)
{
	uint64_t f = 0, l = 0;
	int r = http_parse_range(header, size, &f, &l);
	if (r != result)
		g_error("'%s' of %" G_GUINT64_FORMAT ": %d, expected %d",
		        header ? header : "(null)", size, r, result);
	if (r == 1 && (f != first || l != last))
		g_error("'%s': %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
		        ", expected %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
		        header, f, l, first, last);
}

static void test_ranges(void)
{
	expect("bytes=0-99", 4096, 1, 0, 99);
	expect("bytes=100-", 4096, 1, 100, 4095);
	expect("bytes=-10", 4096, 1, 4086, 4095);
	expect("bytes=-5000", 4096, 1, 0, 4095);
	expect("bytes=4000-9999", 4096, 1, 4000, 4095);
	expect("BYTES=0-0", 10, 1, 0, 0);
}

static void test_ignored(void)
{
	expect(NULL, 10, 0, 0, 0);
	expect("bytes=0-1,3-4", 10, 0, 0, 0); /* several ranges: a full answer */
	expect("items=0-1", 10, 0, 0, 0);
	expect("bytes=5-2", 10, 0, 0, 0);
	expect("bytes=x-2", 10, 0, 0, 0);
	expect("bytes=1-2x", 10, 0, 0, 0);
	expect("bytes=-", 10, 0, 0, 0);
}

static void test_unsatisfiable(void)
{
	expect("bytes=10-", 10, -1, 0, 0);
	expect("bytes=-0", 10, -1, 0, 0);
	expect("bytes=0-", 0, -1, 0, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http-range/ranges", test_ranges);
	g_test_add_func("/http-range/ignored", test_ignored);
	g_test_add_func("/http-range/unsatisfiable", test_unsatisfiable);
	return g_test_run();
}
