/* COPY and MOVE in the services on both drivers (contacts between
 * address books, calendar objects between calendars), and the address
 * book's properties and whole-book export: every refusal leaves the
 * store as it was, every change is in both change logs. */
#include "core/error.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "pim/pim-contact.h"
#include "pim/pim.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static const char JANE[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1\r\nFN:Jane\r\n"
			   "N:Doe;Jane;;;\r\nEND:VCARD\r\n";

static void put_card(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const char *name, const char *text)
{
	struct ox_error err = {0};
	struct pim_contact c;
	enum pim_contact_reject why;
	bool created;
	if (pim_contact_put(s, actor, book, name, text, strlen(text), &created, &c, &why, &err) < 0)
		g_error("put %s: %s", name, err.message);
	pim_contact_clear(&c);
}

static void find_card(struct store *s, int64_t actor, const struct pim_addressbook *book,
                      const char *name, struct pim_contact *c)
{
	struct ox_error err = {0};
	g_assert_cmpint(pim_contact_find(s, actor, book, name, c, &err), ==, 1);
}

static int collect_change(const char *name, const struct pim_contact *c, void *ctx)
{
	g_string_append_printf(ctx, "%s%s ", c != NULL ? "+" : "-", name);
	return 0;
}

static char *changes(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     int64_t since)
{
	GString *out = g_string_new(NULL);
	struct ox_error err = {0};
	int64_t state;
	g_assert_cmpint(
		pim_contact_changes(s, actor, book, since, collect_change, out, &state, &err), ==,
		0);
	return g_string_free(out, FALSE);
}

static int64_t book_state(struct store *s, int64_t actor, const struct pim_addressbook *book)
{
	struct ox_error err = {0};
	int64_t state = 0;
	g_assert_cmpint(
		pim_contact_changes(s, actor, book, INT64_MAX, collect_change, NULL, &state, &err),
		==, 0);
	return state;
}

static void test_contacts(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	int64_t alice, bob;
	store_fixture_alice_bob(S(f), &alice, &bob);
	struct ox_error err = {0};
	struct pim_addressbook a, b, gab;
	g_assert_cmpint(pim_addressbook_create(S(f), alice, "a", NULL, &a, &err), ==, 0);
	g_assert_cmpint(pim_addressbook_create(S(f), alice, "b", NULL, &b, &err), ==, 0);
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, PIM_GAB_SEGMENT, &gab, &err), ==,
	                1);
	put_card(S(f), alice, &a, "jane.vcf", JANE);
	int64_t since_a = book_state(S(f), alice, &a), since_b = book_state(S(f), alice, &b);
	struct pim_contact jane;
	find_card(S(f), alice, &a, "jane.vcf", &jane);
	enum pim_contact_reject why;
	char *conflict = NULL;

	/* A copy, then the UID is taken: the holder is named. */
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &a, &jane, &b, "copy.vcf", false, &why,
	                                     &conflict, &err),
	                ==, 0);
	char *before = store_fixture_snapshot(S(f));
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &a, &jane, &b, "again.vcf", true, &why,
	                                     &conflict, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_CONTACT_REJECT_UID);
	g_assert_cmpint(err.code, ==, OX_ERR_CONFLICT);
	g_assert_cmpstr(conflict, ==, "copy.vcf");
	g_free(conflict);
	/* Bob may not read the source; nobody writes into the global book. */
	g_assert_cmpint(
		pim_contact_transfer(S(f), bob, &a, &jane, &b, "x.vcf", false, &why, NULL, &err),
		==, -1);
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &a, &jane, &gab, "x.vcf", false, &why,
	                                     NULL, &err),
	                ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	/* A move: both change logs have it. */
	struct pim_contact copy;
	find_card(S(f), alice, &b, "copy.vcf", &copy);
	struct pim_addressbook c;
	g_assert_cmpint(pim_addressbook_create(S(f), alice, "c", NULL, &c, &err), ==, 0);
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &b, &copy, &c, "moved.vcf", true, &why,
	                                     NULL, &err),
	                ==, 0);
	char *log_b = changes(S(f), alice, &b, since_b);
	g_assert_cmpstr(log_b, ==, "-copy.vcf ");
	char *log_a = changes(S(f), alice, &a, since_a);
	g_assert_cmpstr(log_a, ==, "");
	struct pim_contact moved;
	find_card(S(f), alice, &c, "moved.vcf", &moved);
	g_assert_cmpstr(moved.etag, ==, jane.etag);

	/* The global book is a source of copies only. */
	struct pim_contact bob_card;
	find_card(S(f), alice, &gab, "bob@example.org.vcf", &bob_card);
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &gab, &bob_card, &a, "bob.vcf", true,
	                                     &why, NULL, &err),
	                ==, -1);
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &gab, &bob_card, &a, "bob.vcf", false,
	                                     &why, NULL, &err),
	                ==, 0);

	/* Inside an open transaction the services join it: a rollback
	 * undoes the copy and the delete of an overwritten destination. */
	before = store_fixture_snapshot(S(f));
	g_assert_cmpint(store_begin(S(f), &err), ==, 0);
	g_assert_cmpint(pim_contact_delete(S(f), alice, &c, &moved, &err), ==, 0);
	g_assert_cmpint(pim_contact_transfer(S(f), alice, &a, &jane, &c, "moved.vcf", false, &why,
	                                     NULL, &err),
	                ==, 0);
	store_rollback(S(f));
	after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	g_free(log_a);
	g_free(log_b);
	pim_contact_clear(&jane);
	pim_contact_clear(&copy);
	pim_contact_clear(&moved);
	pim_contact_clear(&bob_card);
	pim_addressbook_clear(&a);
	pim_addressbook_clear(&b);
	pim_addressbook_clear(&c);
	pim_addressbook_clear(&gab);
}

static int append_text(const char *text, size_t len, void *ctx)
{
	g_string_append_len(ctx, text, (gssize)len);
	return 0;
}

static int collect_prop(const char *ns, const char *name, const char *value, void *ctx)
{
	g_string_append_printf(ctx, "%s|%s|%s\n", ns, name, value);
	return 0;
}

static void test_books(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	int64_t alice, bob;
	store_fixture_alice_bob(S(f), &alice, &bob);
	struct ox_error err = {0};
	struct pim_addressbook book, gab;
	g_assert_cmpint(pim_addressbook_create(S(f), alice, "big", NULL, &book, &err), ==, 0);
	/* The export reads pages: more cards than one page, in name order. */
	GString *expected = g_string_new(NULL);
	for (int i = 0; i < 70; i++) {
		char *name = g_strdup_printf("c%03d.vcf", i);
		char *text = g_strdup_printf(
			"BEGIN:VCARD\nVERSION:4.0\nUID:u%d\nFN:P %d\nEND:VCARD", i, i);
		put_card(S(f), alice, &book, name, text);
		g_string_append_printf(expected, "%s\r\n", text);
		g_free(name);
		g_free(text);
	}
	GString *out = g_string_new(NULL);
	g_assert_cmpint(pim_addressbook_export(S(f), alice, &book, append_text, out, &err), ==, 0);
	g_assert_cmpstr(out->str, ==, expected->str);
	g_assert_cmpint(pim_addressbook_export(S(f), bob, &book, append_text, out, &err), ==, -1);
	g_string_truncate(out, 0);
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, PIM_GAB_SEGMENT, &gab, &err), ==,
	                1);
	g_assert_cmpint(pim_addressbook_export(S(f), alice, &gab, append_text, out, &err), ==, 0);
	g_assert_nonnull(strstr(out->str, "FN:bob@example.org"));

	/* Properties: all or nothing. */
	struct pim_book_prop_op ops[] = {
		{"urn:ietf:params:xml:ns:carddav", "addressbook-description",
	         "<d xmlns=\"urn:ietf:params:xml:ns:carddav\">x</d>"},
		{"urn:x", "colour", "<colour xmlns=\"urn:x\">red</colour>"},
	};
	g_assert_cmpint(pim_addressbook_patch(S(f), alice, &book, true, "Big", ops, 2, &err), ==,
	                0);
	g_assert_cmpstr(book.display_name, ==, "Big");
	char *before = store_fixture_snapshot(S(f));
	char *huge = g_strnfill(PIM_BOOK_PROP_VALUE_MAX + 1, 'x');
	struct pim_book_prop_op bad[] = {{"urn:x", "colour", NULL}, {"urn:x", "huge", huge}};
	g_assert_cmpint(pim_addressbook_patch(S(f), alice, &book, true, "Nope", bad, 2, &err), ==,
	                -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	g_assert_cmpint(pim_addressbook_patch(S(f), bob, &book, true, "Bob", NULL, 0, &err), ==,
	                -1);
	g_assert_cmpint(pim_addressbook_patch(S(f), alice, &gab, true, "G", NULL, 0, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_PERM);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	GString *props = g_string_new(NULL);
	g_assert_cmpint(pim_addressbook_props(S(f), alice, &book, collect_prop, props, &err), ==,
	                0);
	g_assert_cmpstr(props->str, ==,
	                "urn:ietf:params:xml:ns:carddav|addressbook-description|<d "
	                "xmlns=\"urn:ietf:params:xml:ns:carddav\">x</d>\n"
	                "urn:x|colour|<colour xmlns=\"urn:x\">red</colour>\n");
	struct pim_addressbook again;
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, "big", &again, &err), ==, 1);
	g_assert_cmpstr(again.display_name, ==, "Big");
	/* The default book's name is its folder's. */
	struct pim_addressbook contacts;
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, "contacts", &contacts, &err), ==,
	                1);
	g_assert_cmpint(pim_addressbook_patch(S(f), alice, &contacts, true, "Mine", NULL, 0, &err),
	                ==, 0);
	pim_addressbook_clear(&contacts);
	g_assert_cmpint(pim_addressbook_find(S(f), alice, alice, "contacts", &contacts, &err), ==,
	                1);
	g_assert_cmpstr(contacts.display_name, ==, "Mine");

	g_free(before);
	g_free(after);
	g_free(huge);
	g_string_free(props, TRUE);
	g_string_free(out, TRUE);
	g_string_free(expected, TRUE);
	pim_addressbook_clear(&again);
	pim_addressbook_clear(&contacts);
	pim_addressbook_clear(&book);
	pim_addressbook_clear(&gab);
}

static char *event(const char *uid, const char *component, const char *extra)
{
	bool todo = strcmp(component, "VTODO") == 0;
	return g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	                       "BEGIN:%s\r\nUID:%s\r\nDTSTAMP:20300101T000000Z\r\n%s%s"
	                       "END:%s\r\nEND:VCALENDAR\r\n",
	                       component, uid,
	                       todo ? "DUE:20300105T170000Z\r\n"
	                            : "DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n",
	                       extra, component);
}

static void put_object(struct store *s, int64_t actor, const struct pim_calendar *cal,
                       const char *name, char *text)
{
	struct ox_error err = {0};
	struct pim_object obj;
	enum pim_reject why;
	bool created;
	if (pim_object_put(s, actor, cal, name, text, strlen(text), &created, &obj, &why, &err) < 0)
		g_error("put %s: %s", name, err.message);
	pim_object_clear(&obj);
	g_free(text);
}

static void find_object(struct store *s, int64_t actor, const struct pim_calendar *cal,
                        const char *name, struct pim_object *obj)
{
	struct ox_error err = {0};
	g_assert_cmpint(pim_object_find(s, actor, cal, name, obj, &err), ==, 1);
}

static void test_objects(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	int64_t alice, bob;
	store_fixture_alice_bob(S(f), &alice, &bob);
	struct ox_error err = {0};
	struct pim_calendar events, tasks, both, theirs;
	g_assert_cmpint(pim_calendar_find(S(f), alice, alice, "calendar", &events, &err), ==, 1);
	g_assert_cmpint(pim_calendar_find(S(f), alice, alice, "tasks", &tasks, &err), ==, 1);
	g_assert_cmpint(pim_calendar_find(S(f), bob, bob, "calendar", &theirs, &err), ==, 1);
	g_assert_cmpint(pim_calendar_create(S(f), alice, "both", NULL, 0, &both, &err), ==, 0);
	put_object(S(f), alice, &tasks, "todo.ics", event("todo-1", "VTODO", ""));
	put_object(S(f), alice, &both, "ev.ics", event("ev-1", "VEVENT", ""));
	put_object(S(f), alice, &both, "meet.ics",
	           event("meet-1", "VEVENT", "ORGANIZER:mailto:alice@example.org\r\n"));
	struct pim_object todo, ev, meet;
	find_object(S(f), alice, &tasks, "todo.ics", &todo);
	find_object(S(f), alice, &both, "ev.ics", &ev);
	find_object(S(f), alice, &both, "meet.ics", &meet);
	enum pim_reject why;
	char *conflict = NULL;

	char *before = store_fixture_snapshot(S(f));
	/* Components the destination does not take, a taken UID, a
	 * scheduling object copied or moved to another owner, a reader
	 * without rights: refused, and nothing changed. */
	g_assert_cmpint(pim_object_transfer(S(f), alice, &tasks, &todo, &events, "t.ics", true,
	                                    &why, NULL, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_REJECT_COMPONENT);
	g_assert_cmpint(pim_object_transfer(S(f), alice, &both, &ev, &both, "twin.ics", false, &why,
	                                    &conflict, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_REJECT_UID);
	g_assert_cmpstr(conflict, ==, "ev.ics");
	g_free(conflict);
	g_assert_cmpint(pim_object_transfer(S(f), alice, &both, &meet, &events, "m.ics", false,
	                                    &why, NULL, &err),
	                ==, -1);
	g_assert_cmpint(why, ==, PIM_REJECT_SCHEDULING);
	g_assert_cmpint(pim_object_transfer(S(f), bob, &both, &ev, &theirs, "ev.ics", false, &why,
	                                    NULL, &err),
	                ==, -1);
	g_assert_cmpint(pim_object_transfer(S(f), alice, &both, &ev, &theirs, "ev.ics", false, &why,
	                                    NULL, &err),
	                ==, -1);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	/* A copy keeps the text and its ETag; a move of the scheduling
	 * object within its owner's calendars is allowed. */
	g_assert_cmpint(pim_object_transfer(S(f), alice, &both, &ev, &events, "ev.ics", false, &why,
	                                    NULL, &err),
	                ==, 0);
	struct pim_object copied;
	find_object(S(f), alice, &events, "ev.ics", &copied);
	g_assert_cmpstr(copied.etag, ==, ev.etag);
	g_assert_cmpint(pim_object_transfer(S(f), alice, &both, &meet, &events, "meet.ics", true,
	                                    &why, NULL, &err),
	                ==, 0);
	struct pim_object gone;
	g_assert_cmpint(pim_object_find(S(f), alice, &both, "meet.ics", &gone, &err), ==, 0);

	/* Delete joins an open transaction, so COPY's overwrite rolls back. */
	before = store_fixture_snapshot(S(f));
	g_assert_cmpint(store_begin(S(f), &err), ==, 0);
	g_assert_cmpint(pim_object_delete(S(f), alice, &events, &copied, 0, &err), ==, 0);
	store_rollback(S(f));
	after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);

	pim_object_clear(&todo);
	pim_object_clear(&ev);
	pim_object_clear(&meet);
	pim_object_clear(&copied);
	pim_calendar_clear(&events);
	pim_calendar_clear(&tasks);
	pim_calendar_clear(&both);
	pim_calendar_clear(&theirs);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	store_fixture_add("/pim-copymove", "contacts", test_contacts);
	store_fixture_add("/pim-copymove", "books", test_books);
	store_fixture_add("/pim-copymove", "objects", test_objects);
	return g_test_run();
}
