/* Implicit scheduling (RFC 6638) in the calendar service on both drivers:
 * invitations reach attendees' inboxes and calendars, answers reach the
 * organizer, cancellations remove copies, a failed scheduling step
 * leaves every calendar as it was; and the iTIP helpers on their own. */
#include "core/error.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "pim/pim-itip.h"
#include "pim/pim.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static char *invitation(const char *uid, const char *attendees, const char *extra)
{
	return g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	                       "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20300101T000000Z\r\n"
	                       "DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n"
	                       "SUMMARY:Planning\r\nORGANIZER:mailto:alice@example.org\r\n"
	                       "%s%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
	                       uid, attendees, extra);
}

static void test_itip(void)
{
	char *text = invitation("u1",
	                        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:Bob@Example.org\r\n"
	                        "ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:carol@example.org\r\n"
	                        "ATTENDEE:urn:uuid:not-mail\r\n",
	                        "STATUS:CANCELLED\r\n");
	struct pim_itip it;
	g_assert_cmpint(pim_itip_parse(text, &it), ==, 0);
	g_assert_cmpstr(it.uid, ==, "u1");
	g_assert_cmpstr(it.organizer, ==, "alice@example.org");
	g_assert_true(it.cancelled);
	g_assert_cmpuint(it.nattendees, ==, 2);
	g_assert_cmpstr(pim_itip_attendee(&it, "bob@example.org")->partstat, ==, "ACCEPTED");
	g_assert_true(pim_itip_attendee(&it, "carol@example.org")->by_client);
	pim_itip_clear(&it);

	char *answered = pim_itip_with_partstat(text, "bob@example.org", "DECLINED", PIM_ITIP_NONE);
	g_assert_nonnull(strstr(answered, "PARTSTAT=DECLINED"));
	g_assert_null(strstr(answered, "METHOD"));
	char *reply = pim_itip_reply(answered, "bob@example.org");
	g_assert_nonnull(strstr(reply, "METHOD:REPLY"));
	g_assert_null(strstr(reply, "carol"));
	g_assert_null(pim_itip_with_partstat(text, "dave@example.org", "ACCEPTED", PIM_ITIP_NONE));
	char *plain = invitation("u2", "", "");
	char *cancel = pim_itip_message(plain, PIM_ITIP_CANCEL);
	g_free(plain);
	g_assert_nonnull(strstr(cancel, "METHOD:CANCEL"));
	g_assert_nonnull(strstr(cancel, "STATUS:CANCELLED"));
	g_assert_cmpint(pim_itip_parse("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", &it), ==, -1);
	g_free(text);
	g_free(answered);
	g_free(reply);
	g_free(cancel);
}

static int64_t make_user(struct store *s, const char *login)
{
	struct ox_error err = {0};
	struct user_create spec = {.login = login, .display_name = login, .password = "pw"};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

static void find_calendar(struct store *s, int64_t user, const char *segment,
                          struct pim_calendar *cal)
{
	struct ox_error err = {0};
	g_assert_cmpint(pim_calendar_find(s, user, user, segment, cal, &err), ==, 1);
}

static void put(struct store *s, int64_t user, const char *name, const char *text)
{
	struct pim_calendar cal;
	find_calendar(s, user, "calendar", &cal);
	struct ox_error err = {0};
	struct pim_object obj;
	enum pim_reject why;
	bool created;
	if (pim_object_put(s, user, &cal, name, text, strlen(text), &created, &obj, &why, &err) < 0)
		g_error("put %s: %s", name, err.message);
	pim_object_clear(&obj);
	pim_calendar_clear(&cal);
}

/* The text of a user's object, or NULL. */
static char *read_object(struct store *s, int64_t user, const char *name)
{
	struct pim_calendar cal;
	find_calendar(s, user, "calendar", &cal);
	struct ox_error err = {0};
	struct pim_object obj;
	char *data = NULL;
	size_t len;
	if (pim_object_find(s, user, &cal, name, &obj, &err) > 0) {
		g_assert_cmpint(pim_object_read(s, user, &cal, &obj, &data, &len, &err), ==, 0);
		pim_object_clear(&obj);
	}
	pim_calendar_clear(&cal);
	return data;
}

static int count_one(const struct pim_object *obj, const char *data, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static int inbox_count(struct store *s, int64_t user)
{
	struct pim_calendar inbox;
	struct ox_error err = {0};
	g_assert_cmpint(pim_schedule_inbox(s, user, user, &inbox, &err), ==, 1);
	int n = 0;
	g_assert_cmpint(pim_object_list(s, user, &inbox, count_one, &n, &err), ==, 0);
	pim_calendar_clear(&inbox);
	return n;
}

static void test_service(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t ctx = 0;
	if (context_create(S(f), "acme", "example.org", 0, &ctx, &err) < 0)
		g_error("context_create: %s", err.message);
	int64_t alice = make_user(S(f), "alice@example.org");
	int64_t bob = make_user(S(f), "bob@example.org");
	int64_t carol = make_user(S(f), "carol@example.org");
	g_assert_cmpint(pim_schedule_set_auto_add(S(f), carol, false, &err), ==, 0);

	char *text = invitation("m1",
	                        "ATTENDEE:mailto:bob@example.org\r\n"
	                        "ATTENDEE:mailto:carol@example.org\r\n",
	                        "");
	put(S(f), alice, "m1.ics", text);
	char *copy = read_object(S(f), bob, "m1.ics");
	g_assert_nonnull(copy);
	g_assert_null(read_object(S(f), carol, "m1.ics"));
	g_assert_cmpint(inbox_count(S(f), bob), ==, 1);
	g_assert_cmpint(inbox_count(S(f), carol), ==, 1);
	/* Others never see a user's inbox. */
	struct pim_calendar inbox;
	g_assert_cmpint(pim_schedule_inbox(S(f), alice, bob, &inbox, &err), ==, 0);

	/* Bob accepts in his copy: Alice's copy follows. */
	char *accepted = pim_itip_with_partstat(copy, "bob@example.org", "ACCEPTED", PIM_ITIP_NONE);
	put(S(f), bob, "m1.ics", accepted);
	char *organizer = read_object(S(f), alice, "m1.ics");
	struct pim_itip it;
	g_assert_cmpint(pim_itip_parse(organizer, &it), ==, 0);
	g_assert_cmpstr(pim_itip_attendee(&it, "bob@example.org")->partstat, ==, "ACCEPTED");
	pim_itip_clear(&it);
	g_assert_cmpint(inbox_count(S(f), alice), ==, 1);

	/* A failed scheduling step changes nothing anywhere: an object just
	 * under the size limit whose invitation (folded by libical) is over
	 * it cannot be delivered, so the organizer's PUT fails whole. */
	char *before = store_fixture_snapshot(S(f));
	GString *big = g_string_new(NULL);
	g_string_append(big, "DESCRIPTION:");
	for (int i = 0; i < 1020000; i++)
		g_string_append_c(big, 'a' + i % 26);
	g_string_append(big, "\r\n");
	char *huge = invitation("m1", "ATTENDEE:mailto:bob@example.org\r\n", big->str);
	g_string_free(big, TRUE);
	g_assert_cmpuint(strlen(huge), <, PIM_OBJECT_MAX);
	struct pim_calendar cal;
	find_calendar(S(f), alice, "calendar", &cal);
	struct pim_object obj;
	enum pim_reject why;
	bool created;
	g_assert_cmpint(pim_object_put(S(f), alice, &cal, "m1.ics", huge, strlen(huge), &created,
	                               &obj, &why, &err),
	                ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	g_free(huge);
	pim_calendar_clear(&cal);

	/* An unrelated object of Bob's at the name a copy would take stays. */
	char *other = g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	                              "BEGIN:VEVENT\r\nUID:bobs-own\r\nDTSTAMP:20300101T000000Z\r\n"
	                              "DTSTART:20300105T100000Z\r\nSUMMARY:Mine\r\n"
	                              "END:VEVENT\r\nEND:VCALENDAR\r\n");
	put(S(f), bob, "m3.ics", other);
	char *third = invitation("m3", "ATTENDEE:mailto:bob@example.org\r\n", "");
	put(S(f), alice, "m3.ics", third);
	char *kept = read_object(S(f), bob, "m3.ics");
	g_assert_nonnull(strstr(kept, "UID:bobs-own"));
	g_free(other);
	g_free(third);
	g_free(kept);

	/* Alice deletes: Bob's copy goes. */
	find_calendar(S(f), alice, "calendar", &cal);
	g_assert_cmpint(pim_object_find(S(f), alice, &cal, "m1.ics", &obj, &err), ==, 1);
	g_assert_cmpint(pim_object_delete(S(f), alice, &cal, &obj, &err), ==, 0);
	pim_object_clear(&obj);
	pim_calendar_clear(&cal);
	g_assert_null(read_object(S(f), bob, "m1.ics"));

	g_free(text);
	g_free(copy);
	g_free(accepted);
	g_free(organizer);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	g_test_add_func("/pim-schedule/itip", test_itip);
	store_fixture_add("/pim-schedule", "service", test_service);
	return g_test_run();
}
