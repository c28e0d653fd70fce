/* Contacts: the strict vCard reader, the addressbook-query matcher, and
 * the service on both drivers (one UID per book, refusals that change
 * nothing, permissions, the read-only global address book). */
#include "core/error.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "pim/pim-contact-private.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static const char JANE[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1\r\nFN:Jane M\\, Müller\r\n"
			   "N:Müller;Jane;;;\r\nitem1.EMAIL;TYPE=\"work,pref\":jane@example.com\r\n"
			   "email;type=home:jane@home.example\r\nTEL:+49 30 1\r\nEND:VCARD\r\n";

static int index_of(const char *text, struct pim_vcard_index *idx, struct ox_error *err)
{
	return pim_vcard_index(text, strlen(text), idx, err);
}

static void test_reader_indexes(void)
{
	struct pim_vcard_index idx;
	struct ox_error err = {0};
	g_assert_cmpint(index_of(JANE, &idx, &err), ==, 0);
	g_assert_cmpstr(idx.version, ==, "3.0");
	g_assert_cmpstr(idx.uid, ==, "jane-1");
	g_assert_cmpstr(idx.fn, ==, "Jane M, Müller");
	g_assert_cmpstr(idx.n, ==, "Müller;Jane;;;");
	g_assert_cmpstr(idx.emails, ==, "jane@example.com\njane@home.example");
	g_assert_cmpstr(idx.tels, ==, "+49 30 1");
	g_assert_false(idx.group);
	pim_vcard_index_clear(&idx);

	/* Folds (space and tab), CR CR LF, blank lines, a 4.0 group card. */
	const char *folded = "BEGIN:VCARD\r\r\nVERSION:4.0\r\r\nUID:g\r\n\r\nFN:Sta\r\n ff\r\n"
			     "KIND:group\nEMAIL:a@b\n\t.c\nEND:VCARD";
	g_assert_cmpint(index_of(folded, &idx, &err), ==, 0);
	g_assert_cmpstr(idx.fn, ==, "Staff");
	g_assert_cmpstr(idx.emails, ==, "a@b.c");
	g_assert_cmpstr(idx.n, ==, "");
	g_assert_true(idx.group);
	pim_vcard_index_clear(&idx);
}

static void test_reader_refuses(void)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"", "empty"},
		{"BEGIN:VCARD\nVERSION:2.1\nUID:x\nFN:a\nN:a\nEND:VCARD\n", "2.1"},
		{"BEGIN:VCARD\nVERSION:3.0\nFN:a\nN:a\nEND:VCARD\n", "no UID"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nN:a\nEND:VCARD\n", "no FN"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:a\nEND:VCARD\n", "needs N"},
		{"BEGIN:VCARD\nVERSION:4.0\nUID:x\nFN:a\n", "END:VCARD"},
		{"BEGIN:VCARD\nVERSION:4.0\nUID:x\nUID:y\nFN:a\nEND:VCARD\n", "second UID"},
		{"BEGIN:VCARD\nVERSION:4.0\nVERSION:4.0\nUID:x\nFN:a\nEND:VCARD\n",
	         "second VERSION"},
		{"BEGIN:VCARD\nVERSION:4.0\nUID:x\nFN:a\nEND:VCARD\nBEGIN:VCARD\n", "after END"},
		{"BEGIN:VCARD\nVERSION:4.0\nUID:x\nBEGIN:VCARD\nFN:a\nEND:VCARD\n", "nested"},
		{" BEGIN:VCARD\nVERSION:4.0\nUID:x\nFN:a\nEND:VCARD\n", "continues"},
		{"VERSION:4.0\nBEGIN:VCARD\nUID:x\nFN:a\nEND:VCARD\n", "starts with"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:a\nN:a\nX-GOOGLE TALK:x\nEND:VCARD\n",
	         "name"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:a\nN:a\nNOTE;X=\"open:x\nEND:VCARD\n",
	         "parameters"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:a\x01\nN:a\nEND:VCARD\n", "control"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:a\rb\nN:a\nEND:VCARD\n", "control"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN;X=\"\x02\":a\nN:a\nEND:VCARD\n", "control"},
		{"BEGIN:VCARD\nVERSION:4.0\nUID:x\nFN:a\nTEL;WORK:1\nEND:VCARD\n", "bare"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:\xc3\n \xa9\nN:a\nEND:VCARD\n", "UTF-8"},
		{"BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:\xff\nN:a\nEND:VCARD\n", "UTF-8"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct pim_vcard_index idx;
		struct ox_error err = {0};
		g_assert_cmpint(index_of(bad[i].text, &idx, &err), ==, -1);
		g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
		if (strstr(err.message, bad[i].why) == NULL)
			g_error("case %zu: \"%s\" lacks \"%s\"", i, err.message, bad[i].why);
		g_assert_null(idx.uid);
	}
	/* A NUL inside the declared length. */
	struct pim_vcard_index idx;
	struct ox_error err = {0};
	g_assert_cmpint(pim_vcard_index("BEGIN:VCARD\0", 12, &idx, &err), ==, -1);
}

static void test_reader_bounds(void)
{
	GString *s = g_string_new("BEGIN:VCARD\nVERSION:4.0\nUID:x\nFN:a\n");
	for (int i = 0; i < PIM_CONTACT_LINES_MAX; i++)
		g_string_append(s, "NOTE:x\n");
	g_string_append(s, "END:VCARD\n");
	struct pim_vcard_index idx;
	struct ox_error err = {0};
	g_assert_cmpint(pim_vcard_index(s->str, s->len, &idx, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	g_assert_cmpint(pim_vcard_index(s->str, PIM_CONTACT_MAX + 1, &idx, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	g_string_free(s, TRUE);
}

/* --- matching --- */

static bool match1(const struct pim_contact *c, enum pim_contact_field field, const char *text,
                   enum pim_contact_collation coll, enum pim_contact_match_type type, bool negate)
{
	struct pim_contact_text_match m = {(char *)text, coll, type, negate};
	struct pim_contact_prop_filter f = {.field = field, .matches = &m, .n_matches = 1};
	struct pim_contact_query q = {.filters = &f, .n_filters = 1};
	return pim_contact_matches(c, &q);
}

static void test_matching(void)
{
	struct pim_contact c = {.uid = "u",
	                        .fn = "Jane Müller",
	                        .n = "Müller;Jane;;;",
	                        .emails = "jane@example.com\nJ@Home.example",
	                        .tels = ""};
	enum pim_contact_collation U = PIM_CONTACT_COLL_UNICODE_CASEMAP,
				   A = PIM_CONTACT_COLL_ASCII_CASEMAP, O = PIM_CONTACT_COLL_OCTET;
	g_assert_true(match1(&c, PIM_CONTACT_FIELD_FN, "JANE MÜLLER", U, PIM_CONTACT_MATCH_EQUALS,
	                     false));
	g_assert_false(match1(&c, PIM_CONTACT_FIELD_FN, "JANE MÜLLER", A, PIM_CONTACT_MATCH_EQUALS,
	                      false));
	g_assert_true(match1(&c, PIM_CONTACT_FIELD_FN, "JANE MüLLER", A, PIM_CONTACT_MATCH_EQUALS,
	                     false));
	g_assert_false(
		match1(&c, PIM_CONTACT_FIELD_FN, "jane", O, PIM_CONTACT_MATCH_CONTAINS, false));
	g_assert_true(
		match1(&c, PIM_CONTACT_FIELD_FN, "Jane", O, PIM_CONTACT_MATCH_STARTS_WITH, false));
	g_assert_true(
		match1(&c, PIM_CONTACT_FIELD_N, "jane;;;", U, PIM_CONTACT_MATCH_ENDS_WITH, false));
	g_assert_true(match1(&c, PIM_CONTACT_FIELD_EMAIL, "j@home.example", A,
	                     PIM_CONTACT_MATCH_EQUALS, false));
	g_assert_true(match1(&c, PIM_CONTACT_FIELD_EMAIL, "@example.com", U,
	                     PIM_CONTACT_MATCH_ENDS_WITH, false));
	g_assert_false(match1(&c, PIM_CONTACT_FIELD_TEL, "", U, PIM_CONTACT_MATCH_CONTAINS, false));
	g_assert_true(match1(&c, PIM_CONTACT_FIELD_FN, "bob", U, PIM_CONTACT_MATCH_CONTAINS, true));
	/* is-not-defined, and allof over two filters. */
	struct pim_contact_prop_filter none = {.field = PIM_CONTACT_FIELD_TEL,
	                                       .is_not_defined = true};
	struct pim_contact_text_match m = {"bob", U, PIM_CONTACT_MATCH_CONTAINS, false};
	struct pim_contact_prop_filter bob = {
		.field = PIM_CONTACT_FIELD_FN, .matches = &m, .n_matches = 1};
	struct pim_contact_prop_filter both[] = {none, bob};
	struct pim_contact_query any = {.filters = both, .n_filters = 2};
	struct pim_contact_query all = {.allof = true, .filters = both, .n_filters = 2};
	g_assert_true(pim_contact_matches(&c, &any));
	g_assert_false(pim_contact_matches(&c, &all));
}

/* --- partial retrieval and matching on the text --- */

static const char CARD[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1\r\nFN:Jane\r\nN:D;Jane;;;\r\n"
			   "item1.EMAIL;TYPE=\"work,pref\":j@work.example\r\n"
			   "EMAIL;type=HOME:j@home.example\r\nTEL;CELL:+1 555\r\n"
			   "NOTE:one\\, two\r\n  folded\r\nX-ABC.TEL:+2\r\nEND:VCARD";

static void test_select(void)
{
	struct pim_vcard_select sel[] = {{"EMAIL", false}, {"TEL", true}, {"NOTE", false}};
	char *part = pim_vcard_select(CARD, sel, G_N_ELEMENTS(sel));
	g_assert_cmpstr(part, ==,
	                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1\r\n"
	                "item1.EMAIL;TYPE=\"work,pref\":j@work.example\r\n"
	                "EMAIL;type=HOME:j@home.example\r\nTEL;CELL:\r\n"
	                "NOTE:one\\, two\r\n  folded\r\nX-ABC.TEL:\r\nEND:VCARD\r\n");
	g_free(part);
	/* With a group, that group's only; nothing named: the frame alone. */
	struct pim_vcard_select grouped[] = {{"X-ABC.TEL", false}};
	part = pim_vcard_select(CARD, grouped, 1);
	g_assert_cmpstr(part, ==,
	                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1\r\nX-ABC.TEL:+2\r\nEND:VCARD\r\n");
	g_free(part);
	part = pim_vcard_select("BEGIN:VCARD\nVERSION:4.0\nUID:u\nFN:x\nEND:VCARD\n", NULL, 0);
	g_assert_cmpstr(part, ==, "BEGIN:VCARD\nVERSION:4.0\nUID:u\nEND:VCARD\n");
	g_free(part);
	g_assert_cmpint(pim_vcard_version(CARD), ==, 3);
	g_assert_cmpint(pim_vcard_version("BEGIN:VCARD\nVERSION:4.0\nEND:VCARD"), ==, 4);
	g_assert_cmpint(pim_vcard_version("BEGIN:VCARD\nVERSION:2.1\nEND:VCARD"), ==, 0);
}

static bool text_match1(const char *prop, const char *param, const char *text,
                        enum pim_contact_match_type type, bool allof, bool not_defined)
{
	struct pim_contact_text_match m = {(char *)text, PIM_CONTACT_COLL_UNICODE_CASEMAP, type,
	                                   false};
	struct pim_contact_param_filter pf = {(char *)param, not_defined && text == NULL,
	                                      text != NULL ? &m : NULL};
	struct pim_contact_prop_filter f = {.name = (char *)prop, .allof = allof};
	if (param != NULL) {
		f.params = &pf;
		f.n_params = 1;
	} else if (text != NULL) {
		f.matches = &m;
		f.n_matches = 1;
	} else {
		f.is_not_defined = not_defined;
	}
	struct pim_contact_query q = {.filters = &f, .n_filters = 1};
	g_assert_true(pim_contact_query_needs_text(&q));
	return pim_contact_matches_text(CARD, &q);
}

static void test_matching_text(void)
{
	enum pim_contact_match_type EQ = PIM_CONTACT_MATCH_EQUALS, HAS = PIM_CONTACT_MATCH_CONTAINS;
	/* Values unfolded and unescaped; properties in any group. */
	g_assert_true(text_match1("NOTE", NULL, "one, two folded", EQ, false, false));
	g_assert_true(text_match1("TEL", NULL, "+2", EQ, false, false));
	g_assert_false(text_match1("ITEM1.TEL", NULL, "+2", EQ, false, false));
	g_assert_true(text_match1("X-ABC.TEL", NULL, "+2", EQ, false, false));
	g_assert_true(text_match1("NICKNAME", NULL, NULL, EQ, false, true));
	g_assert_false(text_match1("NOTE", NULL, NULL, EQ, false, true));
	/* Parameters: quoted lists, case, bare 3.0 values as TYPE. */
	g_assert_true(text_match1("EMAIL", "TYPE", "pref", EQ, false, false));
	g_assert_true(text_match1("EMAIL", "TYPE", "home", EQ, false, false));
	g_assert_true(text_match1("TEL", "TYPE", "cell", EQ, false, false));
	g_assert_false(text_match1("TEL", "TYPE", "work", HAS, false, false));
	g_assert_true(text_match1("EMAIL", "PREF", NULL, EQ, false, true));
	g_assert_false(text_match1("EMAIL", "TYPE", NULL, EQ, false, true));
	/* test="allof" holds per instance: no EMAIL is both work and home. */
	struct pim_contact_text_match home = {"home", PIM_CONTACT_COLL_UNICODE_CASEMAP, HAS, false};
	struct pim_contact_text_match work = {"work", PIM_CONTACT_COLL_UNICODE_CASEMAP, HAS, false};
	struct pim_contact_param_filter type = {"TYPE", false, &work};
	struct pim_contact_prop_filter f = {.name = "EMAIL",
	                                    .allof = true,
	                                    .matches = &home,
	                                    .n_matches = 1,
	                                    .params = &type,
	                                    .n_params = 1};
	struct pim_contact_query q = {.filters = &f, .n_filters = 1};
	g_assert_false(pim_contact_matches_text(CARD, &q));
	f.allof = false;
	g_assert_true(pim_contact_matches_text(CARD, &q));
	/* Indexed fields without parameters are the index's. */
	struct pim_contact_prop_filter fn = {.field = PIM_CONTACT_FIELD_FN};
	struct pim_contact_query indexed = {.filters = &fn, .n_filters = 1};
	g_assert_false(pim_contact_query_needs_text(&indexed));
	g_assert_true(pim_contact_matches_text(CARD, &indexed));
}

/* --- the service --- */

static int count_one(const struct pim_contact *c, const char *data, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_service(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	int64_t alice, bob;
	store_fixture_alice_bob(S(f), &alice, &bob);
	struct ox_error err = {0};
	struct pim_addressbook book;
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, "contacts", &book, &err), ==, 1);
	bool created = false;
	struct pim_contact c;
	enum pim_contact_reject why;
	g_assert_cmpint(pim_contact_put(S(f), alice, &book, "jane.vcf", JANE, strlen(JANE),
	                                &created, &c, &why, &err),
	                ==, 0);
	g_assert_true(created);
	g_assert_cmpstr(c.fn, ==, "Jane M, Müller");
	pim_contact_clear(&c);

	/* Refusals change nothing. */
	char *before = store_fixture_snapshot(S(f));
	g_assert_cmpint(pim_contact_put(S(f), alice, &book, "other.vcf", JANE, strlen(JANE),
	                                &created, &c, &why, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_CONTACT_REJECT_UID);
	g_assert_cmpint(pim_contact_put(S(f), alice, &book, "jane.vcf", "BEGIN:VCARD", 11, &created,
	                                &c, &why, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_CONTACT_REJECT_DATA);
	g_assert_cmpint(pim_contact_put(S(f), bob, &book, "bob.vcf", JANE, strlen(JANE), &created,
	                                &c, &why, &err),
	                ==, -1);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	/* Bob sees nothing of Alice's book. */
	g_assert_cmpint(pim_contact_find(S(f), bob, &book, "jane.vcf", &c, &err), ==, 0);

	/* The global address book lists both users and refuses writes. */
	struct pim_addressbook gab;
	g_assert_cmpint(pim_addressbook_find(S(f), bob, bob, PIM_GAB_SEGMENT, &gab, &err), ==, 1);
	int n = 0;
	g_assert_cmpint(pim_contact_query(S(f), bob, &gab, NULL, count_one, &n, NULL, &err), ==, 0);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpint(pim_contact_put(S(f), bob, &gab, "x.vcf", JANE, strlen(JANE), &created, &c,
	                                &why, &err),
	                ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
	pim_addressbook_clear(&gab);
	g_assert_cmpint(pim_addressbook_find(S(f), bob, alice, PIM_GAB_SEGMENT, &gab, &err), ==, 0);
	pim_addressbook_clear(&gab);
	pim_addressbook_clear(&book);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	g_test_add_func("/pim-contact/reader/indexes", test_reader_indexes);
	g_test_add_func("/pim-contact/reader/refuses", test_reader_refuses);
	g_test_add_func("/pim-contact/reader/bounds", test_reader_bounds);
	g_test_add_func("/pim-contact/matching", test_matching);
	g_test_add_func("/pim-contact/select", test_select);
	g_test_add_func("/pim-contact/matching-text", test_matching_text);
	store_fixture_add("/pim-contact", "service", test_service);
	return g_test_run();
}
