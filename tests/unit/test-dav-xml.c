/* DAV request bodies: propfind, propertyupdate, lockinfo; strict and
 * closed to entities. */
#include "dav/dav-private.h"

#include <glib.h>
#include <string.h>

static int propfind(const char *xml, struct dav_propfind *pf)
{
	struct ox_error err = {0};
	return dav_parse_propfind(xml, xml != NULL ? strlen(xml) : 0, pf, &err);
}

static void test_propfind_kinds(void)
{
	struct dav_propfind pf;
	g_assert_cmpint(propfind(NULL, &pf), ==, 0);
	g_assert_cmpint(pf.kind, ==, DAV_PROPFIND_ALLPROP);
	dav_propfind_clear(&pf);
	g_assert_cmpint(propfind("<D:propfind xmlns:D='DAV:'><D:propname/></D:propfind>", &pf), ==,
	                0);
	g_assert_cmpint(pf.kind, ==, DAV_PROPFIND_PROPNAME);
	dav_propfind_clear(&pf);
	g_assert_cmpint(propfind("<propfind xmlns='DAV:'><prop><getetag/>"
	                         "<x:color xmlns:x='urn:x'/><plain xmlns=''/></prop></propfind>",
	                         &pf),
	                ==, 0);
	g_assert_cmpint(pf.kind, ==, DAV_PROPFIND_PROP);
	g_assert_cmpuint(pf.props->len, ==, 3);
	struct dav_prop_name *p = (struct dav_prop_name *)pf.props->data;
	g_assert_cmpstr(p[0].ns, ==, "DAV:");
	g_assert_cmpstr(p[0].name, ==, "getetag");
	g_assert_cmpstr(p[1].ns, ==, "urn:x");
	g_assert_cmpstr(p[1].name, ==, "color");
	g_assert_cmpstr(p[2].ns, ==, "");
	dav_propfind_clear(&pf);
}

static void test_propfind_refused(void)
{
	static const char *const bad[] = {
		"<propfind xmlns='DAV:'><prop></propfind>", /* not well-formed */
		"<propfind><prop/></propfind>",             /* not in DAV: */
		"<propfind xmlns='DAV:'><foo/></propfind>", /* unknown child */
		/* empty prefix */
		"<propfind xmlns='DAV:'><prop><b:x xmlns:b=''/></prop></propfind>",
		/* a DTD */
		("<?xml version='1.0'?><!DOCTYPE propfind [<!ENTITY a 'b'>]>"
	         "<propfind xmlns='DAV:'><prop>&a;</prop></propfind>"),
		"<!DOCTYPE propfind SYSTEM 'http://example.com/x.dtd'><propfind xmlns='DAV:'/>",
		"<propfind xmlns='DAV:'><prop><u:x/></prop></propfind>", /* unbound prefix */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct dav_propfind pf;
		if (propfind(bad[i], &pf) == 0)
			g_error("accepted: %s", bad[i]);
		dav_propfind_clear(&pf);
	}
}

static void test_proppatch_order_and_values(void)
{
	const char *xml = "<D:propertyupdate xmlns:D='DAV:' xmlns:t='urn:t'>"
			  "<D:set><D:prop><t:a><b xmlns='urn:b'>v</b></t:a></D:prop></D:set>"
			  "<D:remove><D:prop><t:c/></D:prop></D:remove>"
			  "<D:set><D:prop><n xmlns=''>\xf0\x90\x80\x80</n></D:prop></D:set>"
			  "</D:propertyupdate>";
	GArray *ops = NULL;
	struct ox_error err = {0};
	g_assert_cmpint(dav_parse_proppatch(xml, strlen(xml), &ops, &err), ==, 0);
	g_assert_cmpuint(ops->len, ==, 3);
	struct dav_prop_op *op = (struct dav_prop_op *)ops->data;
	g_assert_cmpstr(op[0].ns, ==, "urn:t");
	g_assert_cmpstr(op[0].name, ==, "a");
	/* The value carries the declaration made on an ancestor. */
	g_assert_nonnull(strstr(op[0].value, "xmlns:t=\"urn:t\""));
	g_assert_nonnull(strstr(op[0].value, "<b xmlns=\"urn:b\">v</b>"));
	g_assert_null(op[1].value);
	g_assert_cmpstr(op[1].name, ==, "c");
	g_assert_cmpstr(op[2].ns, ==, "");
	g_assert_nonnull(op[2].value);
	dav_prop_ops_free(&ops);
}

static void test_proppatch_refused(void)
{
	static const char *const bad[] = {
		"",
		"<propertyupdate xmlns='DAV:'/>",
		"<propertyupdate xmlns='DAV:'><set/></propertyupdate>",
		"<propertyupdate xmlns='DAV:'><frob><prop/></frob></propertyupdate>",
		"<propertyupdate xmlns='DAV:'><set><prop><a/></prop></set>",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		GArray *ops = NULL;
		struct ox_error err = {0};
		if (dav_parse_proppatch(bad[i], strlen(bad[i]), &ops, &err) == 0)
			g_error("accepted: %s", bad[i]);
		g_assert_null(ops);
	}
}

static void test_lockinfo(void)
{
	const char *xml = "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:shared/></D:lockscope>"
			  "<D:locktype><D:write/></D:locktype>"
			  "<D:owner><D:href>mailto:a@example.org</D:href></D:owner></D:lockinfo>";
	struct dav_lockinfo li;
	struct ox_error err = {0};
	g_assert_cmpint(dav_parse_lockinfo(xml, strlen(xml), &li, &err), ==, 0);
	g_assert_false(li.exclusive);
	g_assert_nonnull(strstr(li.owner, "mailto:a@example.org"));
	g_free(li.owner);
	const char *no_type = "<lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope>"
			      "</lockinfo>";
	g_assert_cmpint(dav_parse_lockinfo(no_type, strlen(no_type), &li, &err), ==, -1);
}

static void test_size_bound(void)
{
	size_t len = DAV_XML_BODY_MAX + 1;
	char *big = g_malloc(len);
	memset(big, ' ', len);
	struct dav_propfind pf;
	struct ox_error err = {0};
	g_assert_cmpint(dav_parse_propfind(big, len, &pf, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	dav_propfind_clear(&pf);
	g_free(big);
}

/* The appending escape writes what the allocating one returns. */
static void test_escape(void)
{
	static const char *const texts[] = {
		"",
		"plain",
		"\"etag-1\"",
		"a<b>&c'd\"e",
		"caf\xc3\xa9 \xe2\x82\xac",
		"tab\tnl\ncr\r",
		"ctl\x01x\x1f",
		"/dav/files/a@b/x y/",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		char *want = dav_xml_escape(texts[i]);
		GString *got = g_string_new("pre:");
		dav_xml_append_escaped(got, texts[i]);
		g_assert_cmpstr(got->str + 4, ==, want);
		g_string_free(got, TRUE);
		g_free(want);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dav/xml/propfind-kinds", test_propfind_kinds);
	g_test_add_func("/dav/xml/propfind-refused", test_propfind_refused);
	g_test_add_func("/dav/xml/proppatch", test_proppatch_order_and_values);
	g_test_add_func("/dav/xml/proppatch-refused", test_proppatch_refused);
	g_test_add_func("/dav/xml/lockinfo", test_lockinfo);
	g_test_add_func("/dav/xml/size-bound", test_size_bound);
	g_test_add_func("/dav/xml/escape", test_escape);
	return g_test_run();
}
