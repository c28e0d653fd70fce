/* The pure parts of HTTP authentication and JSON bodies: the error-code
 * mapping, the JSON media type check and the safe-method list. The parts
 * that need a server and a store run in tests/integration/test_http_auth.py. */
#include "http/http-auth.h"
#include "http/http-error.h"
#include "http/http-json.h"

#include <glib.h>

static void test_error_status(void)
{
	g_assert_cmpint(http_error_status(OX_ERR_NOT_FOUND), ==, 404);
	g_assert_cmpint(http_error_status(OX_ERR_EXISTS), ==, 409);
	g_assert_cmpint(http_error_status(OX_ERR_PERM), ==, 403);
	g_assert_cmpint(http_error_status(OX_ERR_NO_QUOTA), ==, 507);
	g_assert_cmpint(http_error_status(OX_ERR_LIMIT), ==, 413);
	g_assert_cmpint(http_error_status(OX_ERR_INVALID), ==, 400);
	g_assert_cmpint(http_error_status(OX_ERR_CONFLICT), ==, 409);
	g_assert_cmpint(http_error_status(OX_ERR_TEMP), ==, 503);
	g_assert_cmpint(http_error_status(OX_ERR_INTERNAL), ==, 500);
	g_assert_cmpint(http_error_status(OX_ERR_NONE), ==, 500);
}

static void test_json_content_type(void)
{
	static const char *const accepted[] = {
		"application/json",
		"Application/JSON",
		"application/json ",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"application/json; charset=\"utf-8\"",
		"application/json; foo=bar",
		"application/json; foo=bar; charset=utf-8",
	};
	static const char *const refused[] = {
		"",
		"text/plain",
		"application/jsonx",
		"application/json-seq",
		"application/x-json",
		"application/json, text/plain",
		"application/json; charset=latin1",
		"application/json; charset=utf-16",
		"application/json; charset=\"utf-8",
		"application/json; foo=bar; charset=utf-16",
		"application/jso",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(accepted); i++) {
		if (!http_json_content_type(accepted[i]))
			g_error("'%s' was refused", accepted[i]);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		if (http_json_content_type(refused[i]))
			g_error("'%s' was accepted", refused[i]);
	}
	g_assert_false(http_json_content_type(NULL));
}

static void test_safe_methods(void)
{
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"};
	static const char *const unsafe[] = {"POST",      "PUT",  "DELETE",    "PATCH", "MKCOL",
	                                     "PROPPATCH", "MOVE", "COPY",      "LOCK",  "UNLOCK",
	                                     "get",       "Get",  "MKCALENDAR"};
	for (size_t i = 0; i < G_N_ELEMENTS(safe); i++)
		g_assert_true(http_method_is_safe(safe[i]));
	for (size_t i = 0; i < G_N_ELEMENTS(unsafe); i++) {
		if (http_method_is_safe(unsafe[i]))
			g_error("%s counted as safe", unsafe[i]);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http-auth/error-status", test_error_status);
	g_test_add_func("/http-auth/json-content-type", test_json_content_type);
	g_test_add_func("/http-auth/safe-methods", test_safe_methods);
	return g_test_run();
}
