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

/* --- conversion between 3.0 and 4.0 --- */

static char *convert_ok(const char *text, int version)
{
	struct ox_error err = {0};
	char *out = pim_vcard_convert(text, version, &err);
	if (out == NULL)
		g_error("conversion to %d.0 failed: %s\n%s", version, err.message, text);
	struct pim_vcard_index idx;
	g_assert_cmpint(pim_vcard_index(out, strlen(out), &idx, &err), ==, 0);
	g_assert_cmpint(idx.version[0] - '0', ==, version);
	pim_vcard_index_clear(&idx);
	return out;
}

static const char RULES_30[] =
	"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:x\r\nUID:u1\r\nFN:Jane\r\nN:Doe;Jane;;;\r\n"
	"EMAIL;TYPE=INTERNET;TYPE=WORK;TYPE=PREF:j@x\r\nTEL;WORK;VOICE:+1-555-0100\r\n"
	"TEL;TYPE=HOME:030 123\r\nitem1.ADR;TYPE=WORK:;;Main St 1;Town;;12345;DE\r\n"
	"item1.LABEL:Main St 1\\nTown\r\nADR;TYPE=HOME:;;Elm 2;City;;;\r\n"
	"LABEL;TYPE=HOME:Elm 2\\nCity\r\nLABEL;TYPE=DOM:lonely\r\n"
	"PHOTO;ENCODING=b;TYPE=JPEG:/9j/AAAA\r\nLOGO;VALUE=uri:http://x/logo.png\r\n"
	"BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-07\r\nX-ANNIVERSARY:2009-08-08\r\n"
	"X-GENDER:Female\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"
	"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:m1\r\nNOTE:kept\\, as is\r\nEND:VCARD\r\n";

static const char RULES_40[] =
	"BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:x\r\nUID:u1\r\nFN:Jane\r\nN:Doe;Jane;;;\r\n"
	"EMAIL;TYPE=WORK;PREF=1:j@x\r\nTEL;TYPE=WORK,VOICE;VALUE=uri:tel:+1-555-0100\r\n"
	"TEL;TYPE=HOME:030 123\r\n"
	"item1.ADR;TYPE=WORK;LABEL=Main St 1^nTown:;;Main St 1;Town;;12345;DE\r\n"
	"ADR;TYPE=HOME;LABEL=Elm 2^nCity:;;Elm 2;City;;;\r\nX-LABEL;TYPE=DOM:lonely\r\n"
	"PHOTO:data:image/jpeg;base64,/9j/AAAA\r\nLOGO;VALUE=uri:http://x/logo.png\r\n"
	"BDAY:--0307\r\nANNIVERSARY:20090808\r\nGENDER:F\r\nKIND:group\r\n"
	"MEMBER:urn:uuid:m1\r\nNOTE:kept\\, as is\r\nEND:VCARD\r\n";

/* RULES_40 back in 3.0: the same facts in 3.0's words (INTERNET is not
 * restored, LABEL follows its address). */
static const char RULES_30_AGAIN[] =
	"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:x\r\nUID:u1\r\nFN:Jane\r\nN:Doe;Jane;;;\r\n"
	"EMAIL;TYPE=WORK,PREF:j@x\r\nTEL;TYPE=WORK,VOICE:+1-555-0100\r\n"
	"TEL;TYPE=HOME:030 123\r\nitem1.ADR;TYPE=WORK:;;Main St 1;Town;;12345;DE\r\n"
	"item1.LABEL;TYPE=WORK:Main St 1\\nTown\r\nADR;TYPE=HOME:;;Elm 2;City;;;\r\n"
	"LABEL;TYPE=HOME:Elm 2\\nCity\r\nLABEL;TYPE=DOM:lonely\r\n"
	"PHOTO;ENCODING=b;TYPE=JPEG:/9j/AAAA\r\nLOGO;VALUE=uri:http://x/logo.png\r\n"
	"BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-07\r\nX-ANNIVERSARY:2009-08-08\r\n"
	"X-GENDER:Female\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"
	"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:m1\r\nNOTE:kept\\, as is\r\nEND:VCARD\r\n";

static void test_convert_rules(void)
{
	char *v4 = convert_ok(RULES_30, 4);
	g_assert_cmpstr(v4, ==, RULES_40);
	char *v3 = convert_ok(v4, 3);
	g_assert_cmpstr(v3, ==, RULES_30_AGAIN);
	char *v4_again = convert_ok(v3, 4);
	g_assert_cmpstr(v4_again, ==, RULES_40);
	g_free(v4_again);
	g_free(v3);
	g_free(v4);

	/* 4.0 without N (3.0 needs one), a quoted TYPE list, a PNG data: URI,
	 * a photo by URL, a full date, LF line ends kept. */
	const char *card = "BEGIN:VCARD\nVERSION:4.0\nUID:o1\nFN:Acme\\, Inc.\n"
			   "TEL;TYPE=\"work,voice\";PREF=2:+49 30 1\n"
			   "PHOTO:data:image/png;base64,iVBORw0K\nLOGO:https://x/l.png\n"
			   "BDAY:19850412\nGENDER:O;other\nEND:VCARD\n";
	char *out = convert_ok(card, 3);
	g_assert_cmpstr(out, ==,
	                "BEGIN:VCARD\nVERSION:3.0\nN:Acme\\, Inc.;;;;\nUID:o1\nFN:Acme\\, Inc.\n"
	                "TEL;TYPE=work,voice;PREF=2:+49 30 1\n"
	                "PHOTO;ENCODING=b;TYPE=PNG:iVBORw0K\nLOGO;VALUE=uri:https://x/l.png\n"
	                "BDAY:1985-04-12\nX-GENDER:O;other\nEND:VCARD\n");
	g_free(out);

	/* A 3.0 card with VERSION last, CardBook's year 1604 without the
	 * parameter, a photo without TYPE, a date-time kept. */
	card = "BEGIN:VCARD\nUID:c1\nFN:C\nN:C;;;;\nBDAY:16040101\nX-ANNIVERSARY:2001-02-03T04:05:"
	       "06Z\n"
	       "PHOTO;ENCODING=b:R0lGODlh\nVERSION:3.0\nEND:VCARD";
	out = convert_ok(card, 4);
	g_assert_cmpstr(out, ==,
	                "BEGIN:VCARD\nVERSION:4.0\nUID:c1\nFN:C\nN:C;;;;\nBDAY:--0101\n"
	                "ANNIVERSARY:2001-02-03T04:05:06Z\nPHOTO:data:image/gif;base64,R0lGODlh\n"
	                "END:VCARD\n");
	g_free(out);
}

static void test_convert_edges(void)
{
	struct ox_error err = {0};
	/* The same version comes back as stored. */
	char *same = pim_vcard_convert(RULES_30, 3, &err);
	g_assert_cmpstr(same, ==, RULES_30);
	g_free(same);
	g_assert_null(pim_vcard_convert(RULES_30, 2, &err));
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
	g_assert_null(pim_vcard_convert("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n", 4, &err));
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);

	/* A rewritten line is folded at 75 octets, never inside a character. */
	GString *card = g_string_new("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:f\r\nFN:F\r\nN:F;;;;\r\n"
	                             "PHOTO;ENCODING=b;TYPE=JPEG:");
	for (int i = 0; i < 300; i++)
		g_string_append(card, "/9j/");
	g_string_append(card, "\r\nX-GENDER;X-A=");
	for (int i = 0; i < 100; i++)
		g_string_append(card, "é");
	g_string_append(card, ":male\r\nEND:VCARD\r\n");
	char *out = convert_ok(card->str, 4);
	gchar **lines = g_strsplit(out, "\r\n", -1);
	for (gchar **l = lines; *l != NULL; l++) {
		g_assert_cmpuint(strlen(*l), <=, 75);
		g_assert_true(g_utf8_validate(*l, -1, NULL));
	}
	g_strfreev(lines);
	g_assert_nonnull(strstr(out, "\r\nGENDER;X-A="));
	g_assert_nonnull(strstr(out, ":M\r\n"));
	g_free(out);
	g_string_free(card, TRUE);
}

/* Hostile sizes within the reader's bounds: thousands of addresses and
 * labels, one line of many thousand parameters; each is handled in one
 * pass (a quadratic match would take minutes here). */
static void test_convert_bounds(void)
{
	GString *card = g_string_new("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nFN:B\r\nN:B;;;;\r\n");
	for (int i = 0; i < 4000; i++)
		g_string_append_printf(card, "ADR;TYPE=T%d:;;%d;;;;\r\nLABEL;TYPE=T%d:%d\r\n",
		                       i % 7, i, (i + 1) % 7, i);
	g_string_append(card, "TEL");
	for (int i = 0; i < 30000; i++)
		g_string_append(card, ";TYPE=A;X=1;WORK");
	g_string_append(card, ":+1-2\r\nEND:VCARD\r\n");
	gint64 start = g_get_monotonic_time();
	char *out = convert_ok(card->str, 4);
	g_test_message("converted %zu bytes in %" G_GINT64_FORMAT " ms", card->len,
	               (g_get_monotonic_time() - start) / 1000);
	g_assert_null(strstr(out, "\r\nLABEL"));
	g_assert_nonnull(strstr(out, "ADR;TYPE=T1;LABEL=0:;;1;;;;\r\n"));
	g_free(out);
	g_string_free(card, TRUE);
}

/* The vCard fixtures sit beside the repository: ../shared/fixtures/vcard
 * from the source tree, found from this file's path as the build names
 * it (relative to the build directory, two levels above the binary). */
static char *fixtures_dir(void)
{
	const char *env = g_getenv("OX_VCARD_FIXTURES");
	if (env != NULL)
		return g_strdup(env);
	char *src = g_path_get_dirname(__FILE__);
	char *exe = g_file_read_link("/proc/self/exe", NULL);
	char *dir = NULL;
	if (exe != NULL && !g_path_is_absolute(src)) {
		char *unit = g_path_get_dirname(exe), *tests = g_path_get_dirname(unit);
		char *build = g_path_get_dirname(tests);
		dir = g_build_filename(build, src, "..", "..", "..", "shared", "fixtures", "vcard",
		                       NULL);
		g_free(build);
		g_free(tests);
		g_free(unit);
	} else {
		dir = g_build_filename(src, "..", "..", "..", "shared", "fixtures", "vcard", NULL);
	}
	g_free(exe);
	g_free(src);
	return dir;
}

static void round_trip(const char *name, const char *text)
{
	struct pim_vcard_index before, after;
	struct ox_error err = {0};
	if (pim_vcard_index(text, strlen(text), &before, &err) < 0) {
		/* vCard 2.1 and other cards the server refuses. */
		g_test_message("%s: not stored (%s)", name, err.message);
		return;
	}
	int version = before.version[0] - '0', other = version == 3 ? 4 : 3;
	g_test_message("%s: %d.0 -> %d.0 -> %d.0", name, version, other, version);
	char *there = convert_ok(text, other);
	char *back = convert_ok(there, version);
	g_assert_cmpint(pim_vcard_index(back, strlen(back), &after, &err), ==, 0);
	g_assert_cmpstr(after.uid, ==, before.uid);
	g_assert_cmpstr(after.fn, ==, before.fn);
	if (*before.n != '\0')
		g_assert_cmpstr(after.n, ==, before.n);
	g_assert_cmpstr(after.emails, ==, before.emails);
	g_assert_cmpstr(after.tels, ==, before.tels);
	g_assert_cmpint(after.group, ==, before.group);
	/* Converting the round trip again changes nothing more. */
	char *there_again = convert_ok(back, other);
	g_assert_cmpstr(there_again, ==, there);
	g_free(there_again);
	pim_vcard_index_clear(&before);
	pim_vcard_index_clear(&after);
	g_free(back);
	g_free(there);
}

/* Each card of an export, with a UID when the client wrote none (the
 * server refuses cards without one; PUT fixtures carry theirs). */
static int round_trip_each(const char *name, const char *text)
{
	gchar **cards = g_strsplit(text, "END:VCARD", -1);
	int n = 0;
	for (gchar **c = cards; *c != NULL && c[1] != NULL; c++) {
		const char *begin = strstr(*c, "BEGIN:VCARD");
		if (begin == NULL)
			continue;
		char *card = g_strconcat(begin, "END:VCARD\r\n", NULL);
		if (strstr(card, "\nUID:") == NULL) {
			char *with_uid = g_strdup_printf("BEGIN:VCARD\r\nUID:%s-%d%s", name, n,
			                                 card + strlen("BEGIN:VCARD"));
			g_free(card);
			card = with_uid;
		}
		round_trip(name, card);
		g_free(card);
		n++;
	}
	g_strfreev(cards);
	return n;
}

static void test_convert_fixtures(void)
{
	char *dir = fixtures_dir();
	GDir *d = g_dir_open(dir, 0, NULL);
	if (d == NULL) {
		g_test_skip_printf("vCard fixtures (%s) are absent", dir);
		g_free(dir);
		return;
	}
	const char *name;
	int cards = 0;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".vcf"))
			continue;
		char *path = g_build_filename(dir, name, NULL), *text = NULL;
		g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
		cards += round_trip_each(name, text);
		g_free(text);
		g_free(path);
	}
	g_assert_cmpint(cards, >, 0);
	g_dir_close(d);
	g_free(dir);
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
	g_test_add_func("/pim-contact/convert/rules", test_convert_rules);
	g_test_add_func("/pim-contact/convert/edges", test_convert_edges);
	g_test_add_func("/pim-contact/convert/bounds", test_convert_bounds);
	g_test_add_func("/pim-contact/convert/fixtures", test_convert_fixtures);
	store_fixture_add("/pim-contact", "service", test_service);
	return g_test_run();
}
