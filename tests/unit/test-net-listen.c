/* Listen addresses as the [listen] keys take them: numeric host:port lists,
 * IPv6 in brackets, nothing that needs a name lookup. */
#include "net/net.h"

#include <glib.h>
#include <string.h>

static void expect_addresses(const char *value, const char *const *expected)
{
	char **addresses = NULL;
	char *error = NULL;
	int n = net_parse_listen(value, &addresses, &error);
	if (n < 0)
		g_error("'%s' was refused: %s", value, error);
	g_assert_null(error);
	g_assert_cmpint(n, ==, (int)g_strv_length((char **)expected));
	g_assert_cmpuint(g_strv_length(addresses), ==, (guint)n);
	for (int i = 0; i < n; i++)
		g_assert_cmpstr(addresses[i], ==, expected[i]);
	g_strfreev(addresses);
}

static void expect_refused(const char *value, const char *named)
{
	char **addresses = NULL;
	char *error = NULL;
	if (net_parse_listen(value, &addresses, &error) != -1)
		g_error("'%s' was accepted", value);
	g_assert_null(addresses);
	g_assert_nonnull(error);
	/* The message names the item at fault, not the whole list. */
	if (strstr(error, named) == NULL)
		g_error("error '%s' does not name '%s'", error, named);
	g_free(error);
}

static void test_ipv4(void)
{
	expect_addresses("127.0.0.1:8080", (const char *const[]){"127.0.0.1:8080", NULL});
	expect_addresses("0.0.0.0:0", (const char *const[]){"0.0.0.0:0", NULL});
	expect_addresses("*:443", (const char *const[]){"*:443", NULL});
	expect_addresses("localhost:65535", (const char *const[]){"localhost:65535", NULL});
}

static void test_ipv6(void)
{
	expect_addresses("[::1]:8080", (const char *const[]){"[::1]:8080", NULL});
	expect_addresses("[::]:443", (const char *const[]){"[::]:443", NULL});
	expect_addresses("[fe80::1:2]:1", (const char *const[]){"[fe80::1:2]:1", NULL});
}

static void test_lists(void)
{
	expect_addresses("127.0.0.1:80, [::1]:80 ,10.0.0.1:8080",
	                 (const char *const[]){"127.0.0.1:80", "[::1]:80", "10.0.0.1:8080", NULL});
	/* Empty items are skipped, so a trailing comma is harmless. */
	expect_addresses("127.0.0.1:80,,", (const char *const[]){"127.0.0.1:80", NULL});
}

static void test_empty(void)
{
	expect_addresses("", (const char *const[]){NULL});
	expect_addresses("  ", (const char *const[]){NULL});
	expect_addresses(" , ", (const char *const[]){NULL});
}

static void test_bad_port(void)
{
	expect_refused("127.0.0.1", "'127.0.0.1'");
	expect_refused("127.0.0.1:", "'127.0.0.1:'");
	expect_refused("127.0.0.1:65536", "'127.0.0.1:65536'");
	expect_refused("127.0.0.1:-1", "'127.0.0.1:-1'");
	expect_refused("127.0.0.1:http", "'127.0.0.1:http'");
	expect_refused("127.0.0.1:80x", "'127.0.0.1:80x'");
	expect_refused(":80", "':80'");
	expect_refused("[::1]", "'[::1]'");
	expect_refused("[::1]8080", "'[::1]8080'");
	expect_refused("[::1:8080", "'[::1:8080'");
	expect_refused("127.0.0.1:80,127.0.0.1:99999", "'127.0.0.1:99999'");
}

static void test_hostnames_refused(void)
{
	/* A name would need a lookup at every start and could change meaning. */
	expect_refused("example.com:80", "'example.com:80'");
	expect_refused("localhost.localdomain:80", "'localhost.localdomain:80'");
	expect_refused("[example.com]:80", "'[example.com]:80'");
	expect_refused("127.0.0.1:80,ip6-localhost:80", "'ip6-localhost:80'");
	expect_refused("256.0.0.1:80", "'256.0.0.1:80'");
	expect_refused("[::g]:80", "'[::g]:80'");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net-listen/ipv4", test_ipv4);
	g_test_add_func("/net-listen/ipv6", test_ipv6);
	g_test_add_func("/net-listen/lists", test_lists);
	g_test_add_func("/net-listen/empty", test_empty);
	g_test_add_func("/net-listen/bad-port", test_bad_port);
	g_test_add_func("/net-listen/hostnames-refused", test_hostnames_refused);
	return g_test_run();
}
