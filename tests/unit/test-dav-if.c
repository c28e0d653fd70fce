/* The If header parser and evaluator (RFC 4918 10.4). */
#include "dav/dav-private.h"

#include <glib.h>
#include <string.h>

static struct dav_if_cond *cond(GPtrArray *lists, guint list, guint i)
{
	struct dav_if_list *l = g_ptr_array_index(lists, list);
	return &g_array_index(l->conds, struct dav_if_cond, i);
}

static void test_untagged_lists(void)
{
	struct ox_error err = {0};
	GPtrArray *lists =
		dav_if_parse("(<opaquelocktoken:a> [\"e1\"]) (Not <DAV:no-lock> [\"e2\"])", &err);
	g_assert_nonnull(lists);
	g_assert_cmpuint(lists->len, ==, 2);
	struct dav_if_list *first = g_ptr_array_index(lists, 0);
	g_assert_null(first->tag);
	g_assert_cmpuint(first->conds->len, ==, 2);
	g_assert_cmpstr(cond(lists, 0, 0)->value, ==, "opaquelocktoken:a");
	g_assert_false(cond(lists, 0, 0)->is_etag);
	g_assert_cmpstr(cond(lists, 0, 1)->value, ==, "\"e1\"");
	g_assert_true(cond(lists, 0, 1)->is_etag);
	g_assert_true(cond(lists, 1, 0)->negate);
	g_assert_cmpstr(cond(lists, 1, 0)->value, ==, "DAV:no-lock");
	g_ptr_array_unref(lists);
}

static void test_tagged_lists(void)
{
	struct ox_error err = {0};
	GPtrArray *lists = dav_if_parse("<http://h/a/> (<t1>) (<t2>) <http://h/b> ([\"x\"])", &err);
	g_assert_nonnull(lists);
	g_assert_cmpuint(lists->len, ==, 3);
	g_assert_cmpstr(((struct dav_if_list *)g_ptr_array_index(lists, 0))->tag, ==,
	                "http://h/a/");
	g_assert_cmpstr(((struct dav_if_list *)g_ptr_array_index(lists, 1))->tag, ==,
	                "http://h/a/");
	g_assert_cmpstr(((struct dav_if_list *)g_ptr_array_index(lists, 2))->tag, ==, "http://h/b");
	g_ptr_array_unref(lists);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"()",
		"(<a>",
		"<http://h/> ",
		"(<a>) <http://h/> (<b>)", /* untagged then tagged */
		"(Not)",
		"([\"e\")",
		"(<a b>)",
		"x",
		"(<a>) junk",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct ox_error err = {0};
		GPtrArray *lists = dav_if_parse(bad[i], &err);
		if (lists != NULL)
			g_error("accepted malformed If: %s", bad[i]);
		g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
	}
}

static void test_too_many_lists(void)
{
	GString *h = g_string_new(NULL);
	for (int i = 0; i < 100; i++)
		g_string_append(h, "(<a>) ");
	struct ox_error err = {0};
	g_assert_null(dav_if_parse(h->str, &err));
	g_string_free(h, TRUE);
}

static bool token_is_t1(const char *token, const char *tag, void *ctx)
{
	return strcmp(token, "t1") == 0;
}

static const char *etag_e1(const char *tag, void *ctx)
{
	return "\"e1\"";
}

static bool eval(const char *header)
{
	struct ox_error err = {0};
	GPtrArray *lists = dav_if_parse(header, &err);
	g_assert_nonnull(lists);
	bool r = dav_if_evaluate(lists, token_is_t1, etag_e1, NULL);
	g_ptr_array_unref(lists);
	return r;
}

static void test_evaluate(void)
{
	g_assert_true(eval("(<t1>)"));
	g_assert_false(eval("(<t2>)"));
	g_assert_true(eval("(<t2>) (<t1>)"));
	g_assert_true(eval("(<t1> [\"e1\"])"));
	g_assert_false(eval("(<t1> [\"e2\"])"));
	g_assert_true(eval("(Not <DAV:no-lock>)"));
	g_assert_false(eval("(<DAV:no-lock>)"));
	g_assert_true(eval("(<t1> [\"bad\"]) (Not <DAV:no-lock> [\"e1\"])"));
	g_assert_false(eval("(<t1> [\"bad\"]) (Not <DAV:no-lock> [\"bad\"])"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dav/if/untagged", test_untagged_lists);
	g_test_add_func("/dav/if/tagged", test_tagged_lists);
	g_test_add_func("/dav/if/malformed", test_malformed);
	g_test_add_func("/dav/if/too-many-lists", test_too_many_lists);
	g_test_add_func("/dav/if/evaluate", test_evaluate);
	return g_test_run();
}
