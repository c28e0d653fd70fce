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

static int no_tag(const struct pim_object *obj, const char *data, void *ctx)
{
	g_assert_cmpstr(obj->schedule_tag, ==, "");
	return 0;
}

static int count_without_text(const struct pim_object *obj, const char *data, void *ctx)
{
	g_assert_null(data);
	g_assert_cmpint(obj->size, >, 0);
	(*(int *)ctx)++;
	return 0;
}

/* Also checks that the listing without text lists the same objects. */
static int inbox_count(struct store *s, int64_t user)
{
	struct pim_calendar inbox;
	struct ox_error err = {0};
	g_assert_cmpint(pim_schedule_inbox(s, user, user, &inbox, &err), ==, 1);
	int n = 0, listed = 0;
	g_assert_cmpint(pim_object_list(s, user, &inbox, count_one, &n, &err), ==, 0);
	g_assert_cmpint(pim_object_list_index(s, user, &inbox, count_without_text, &listed, &err),
	                ==, 0);
	g_assert_cmpint(listed, ==, n);
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
	g_assert_cmpint(pim_object_delete(S(f), alice, &cal, &obj, 0, &err), ==, 0);
	pim_object_clear(&obj);
	pim_calendar_clear(&cal);
	g_assert_null(read_object(S(f), bob, "m1.ics"));

	g_free(text);
	g_free(copy);
	g_free(accepted);
	g_free(organizer);
}

/* The text with folded lines joined (RFC 5545 3.1). */
static char *unfold(const char *text)
{
	GRegex *fold = g_regex_new("\r\n[ \t]", 0, 0, NULL);
	char *unfolded = g_regex_replace_literal(fold, text, -1, 0, "", 0, NULL);
	g_regex_unref(fold);
	return unfolded;
}

/* SCHEDULE-STATUS, SCHEDULE-FORCE-SEND and group members in the pure
 * helpers. */
static void test_itip_scheduling_params(void)
{
	char *text = invitation("u3",
	                        "ATTENDEE;CUTYPE=GROUP;ROLE=OPT-PARTICIPANT;RSVP=FALSE:"
	                        "mailto:team@example.org\r\n"
	                        "ATTENDEE;SCHEDULE-STATUS=1.2;SCHEDULE-FORCE-SEND=REQUEST:"
	                        "mailto:bob@example.org\r\n"
	                        "ATTENDEE;SCHEDULE-AGENT=CLIENT;SCHEDULE-STATUS=1.1:"
	                        "mailto:carol@example.org\r\n",
	                        "");
	struct pim_itip it;
	g_assert_cmpint(pim_itip_parse(text, &it), ==, 0);
	g_assert_true(pim_itip_attendee(&it, "team@example.org")->group);
	g_assert_false(pim_itip_attendee(&it, "bob@example.org")->group);
	g_assert_true(it.has_force_send);
	g_assert_false(it.force_reply);
	g_assert_null(it.organizer_status);
	pim_itip_clear(&it);

	/* The client's statuses go but for the party it schedules itself;
	 * SCHEDULE-FORCE-SEND goes everywhere. */
	char *scrubbed = pim_itip_scrub(text);
	g_assert_nonnull(scrubbed);
	g_assert_null(strstr(scrubbed, "SCHEDULE-FORCE-SEND"));
	g_assert_null(strstr(scrubbed, "SCHEDULE-STATUS=1.2"));
	g_assert_nonnull(strstr(scrubbed, "SCHEDULE-STATUS=1.1"));
	g_assert_null(pim_itip_scrub(scrubbed));
	char *plain = invitation("u4", "ATTENDEE:mailto:bob@example.org\r\n", "");
	g_assert_null(pim_itip_scrub(plain));

	GHashTable *status = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(status, "bob@example.org", "1.2");
	g_hash_table_insert(status, "team@example.org", "5.3");
	char *annotated = pim_itip_with_status(scrubbed, status, "2.0");
	g_hash_table_unref(status);
	g_assert_nonnull(strstr(annotated, "SCHEDULE-STATUS=1.2"));
	g_assert_nonnull(strstr(annotated, "SCHEDULE-STATUS=5.3"));
	g_assert_cmpint(pim_itip_parse(annotated, &it), ==, 0);
	g_assert_cmpstr(it.organizer_status, ==, "2.0");
	pim_itip_clear(&it);
	char *cleared = pim_itip_with_status(annotated, NULL, "");
	g_assert_cmpint(pim_itip_parse(cleared, &it), ==, 0);
	g_assert_null(it.organizer_status);
	pim_itip_clear(&it);

	/* Nothing of it reaches another calendar user. */
	char *message = pim_itip_message(annotated, PIM_ITIP_REQUEST);
	char *reply = pim_itip_reply(annotated, "bob@example.org");
	g_assert_null(strstr(message, "SCHEDULE-STATUS"));
	g_assert_null(strstr(message, "SCHEDULE-AGENT"));
	g_assert_null(strstr(reply, "SCHEDULE-STATUS"));

	/* Members come in once, modelled on the group's line. */
	char *members[] = {"bob@example.org", "dave@example.org", NULL};
	char *grown = pim_itip_with_members(text, "team@example.org", members);
	g_assert_nonnull(grown);
	g_assert_cmpint(pim_itip_parse(grown, &it), ==, 0);
	g_assert_cmpuint(it.nattendees, ==, 4);
	g_assert_cmpstr(pim_itip_attendee(&it, "dave@example.org")->partstat, ==, "NEEDS-ACTION");
	g_assert_false(pim_itip_attendee(&it, "dave@example.org")->group);
	pim_itip_clear(&it);
	char *unfolded = unfold(grown);
	g_assert_nonnull(strstr(unfolded, "MEMBER=\"mailto:team@example.org\""));
	g_assert_nonnull(strstr(unfolded, "ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:"
	                                  "mailto:dave@example.org"));
	g_assert_null(pim_itip_with_members(grown, "team@example.org", members));
	g_assert_null(pim_itip_with_members(text, "other@example.org", members));

	char *forced = invitation("u5", "", "");
	char *at = strstr(forced, "ORGANIZER:");
	char *with_force = g_strdup_printf("%.*sORGANIZER;SCHEDULE-FORCE-SEND=REPLY:%s",
	                                   (int)(at - forced), forced, at + strlen("ORGANIZER:"));
	g_assert_cmpint(pim_itip_parse(with_force, &it), ==, 0);
	g_assert_true(it.force_reply);
	pim_itip_clear(&it);

	g_free(text);
	g_free(scrubbed);
	g_free(plain);
	g_free(annotated);
	g_free(cleared);
	g_free(message);
	g_free(reply);
	g_free(grown);
	g_free(unfolded);
	g_free(forced);
	g_free(with_force);
}

/* The stored Schedule-Tag of a user's object ("" without one). */
static void schedule_tag_of(struct store *s, int64_t user, const char *name, char tag[PIM_ETAG_MAX])
{
	struct pim_calendar cal;
	find_calendar(s, user, "calendar", &cal);
	struct ox_error err = {0};
	struct pim_object obj;
	g_assert_cmpint(pim_object_find(s, user, &cal, name, &obj, &err), ==, 1);
	g_strlcpy(tag, obj.schedule_tag, PIM_ETAG_MAX);
	pim_object_clear(&obj);
	pim_calendar_clear(&cal);
}

/* The SCHEDULE-STATUS of an attendee in a text, or NULL. */
static char *status_of(const char *text, const char *address)
{
	char *pattern = g_strdup_printf("SCHEDULE-STATUS=([0-9.]+)[^\r\n]*:mailto:%s", address);
	GRegex *re = g_regex_new(pattern, G_REGEX_CASELESS, 0, NULL);
	GMatchInfo *m = NULL;
	char *unfolded = unfold(text);
	char *status = g_regex_match(re, unfolded, 0, &m) ? g_match_info_fetch(m, 1) : NULL;
	g_match_info_free(m);
	g_regex_unref(re);
	g_free(pattern);
	g_free(unfolded);
	return status;
}

static int imip_calls;
static char *imip_last_method;

static int recording_imip_hook(struct store *s, int64_t sender, const char *recipient,
                               const char *method, const char *itip, struct ox_error *err)
{
	imip_calls++;
	g_free(imip_last_method);
	imip_last_method = g_strdup(method);
	/* The message leaves without the organizer's bookkeeping. */
	g_assert_null(strstr(itip, "SCHEDULE-STATUS"));
	return 0;
}

static void test_tags_and_status(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t ctx = 0;
	if (context_create(S(f), "acme", "example.org", 0, &ctx, &err) < 0)
		g_error("context_create: %s", err.message);
	int64_t alice = make_user(S(f), "alice@example.org");
	int64_t bob = make_user(S(f), "bob@example.org");

	/* The organizer's write makes a tag; Bob's copy has its own. */
	char *text = invitation("t1",
	                        "ATTENDEE:mailto:bob@example.org\r\n"
	                        "ATTENDEE:mailto:guest@elsewhere.example\r\n",
	                        "");
	imip_calls = 0;
	pim_schedule_set_imip_hook(recording_imip_hook);
	put(S(f), alice, "t1.ics", text);
	char alice_tag[PIM_ETAG_MAX], bob_tag[PIM_ETAG_MAX], tag[PIM_ETAG_MAX];
	schedule_tag_of(S(f), alice, "t1.ics", alice_tag);
	schedule_tag_of(S(f), bob, "t1.ics", bob_tag);
	g_assert_cmpuint(strlen(alice_tag), ==, 34);
	g_assert_cmpstr(alice_tag, !=, bob_tag);
	g_assert_cmpint(imip_calls, ==, 1);
	g_assert_cmpstr(imip_last_method, ==, "REQUEST");
	char *stored = read_object(S(f), alice, "t1.ics");
	char *status = status_of(stored, "bob@example.org");
	g_assert_cmpstr(status, ==, "1.2");
	g_free(status);
	/* Queued by the iMIP hook: pending. */
	status = status_of(stored, "guest@elsewhere.example");
	g_assert_cmpstr(status, ==, "1.0");
	g_free(status);
	g_free(stored);

	/* Bob's answer: his copy gets a new tag (his own write), Alice's
	 * keeps hers though its text changed. */
	char *copy = read_object(S(f), bob, "t1.ics");
	char *accepted = pim_itip_with_partstat(copy, "bob@example.org", "ACCEPTED", PIM_ITIP_NONE);
	put(S(f), bob, "t1.ics", accepted);
	schedule_tag_of(S(f), bob, "t1.ics", tag);
	g_assert_cmpstr(tag, !=, bob_tag);
	g_strlcpy(bob_tag, tag, sizeof(bob_tag));
	schedule_tag_of(S(f), alice, "t1.ics", tag);
	g_assert_cmpstr(tag, ==, alice_tag);
	stored = read_object(S(f), alice, "t1.ics");
	status = status_of(stored, "bob@example.org");
	g_assert_cmpstr(status, ==, "2.0");
	g_free(status);
	g_free(stored);
	struct pim_itip it;
	char *bobs = read_object(S(f), bob, "t1.ics");
	g_assert_cmpint(pim_itip_parse(bobs, &it), ==, 0);
	g_assert_cmpstr(it.organizer_status, ==, "1.2");
	pim_itip_clear(&it);

	/* Alice changes the event: both get new tags, Bob keeps his answer
	 * and the status of his last REPLY. */
	put(S(f), alice, "t1.ics", text);
	schedule_tag_of(S(f), alice, "t1.ics", tag);
	g_assert_cmpstr(tag, !=, alice_tag);
	schedule_tag_of(S(f), bob, "t1.ics", tag);
	g_assert_cmpstr(tag, !=, bob_tag);
	g_free(bobs);
	bobs = read_object(S(f), bob, "t1.ics");
	g_assert_cmpint(pim_itip_parse(bobs, &it), ==, 0);
	g_assert_cmpstr(pim_itip_attendee(&it, "bob@example.org")->partstat, ==, "ACCEPTED");
	g_assert_cmpstr(it.organizer_status, ==, "1.2");
	pim_itip_clear(&it);
	/* Inbox messages are no scheduling object resources: no tag. */
	struct pim_calendar inbox;
	g_assert_cmpint(pim_schedule_inbox(S(f), bob, bob, &inbox, &err), ==, 1);
	g_assert_cmpint(pim_object_list(S(f), bob, &inbox, no_tag, NULL, &err), ==, 0);
	pim_calendar_clear(&inbox);

	/* Without a hook there is no way out of the server. */
	pim_schedule_set_imip_hook(NULL);
	put(S(f), alice, "t1.ics", text);
	stored = read_object(S(f), alice, "t1.ics");
	status = status_of(stored, "guest@elsewhere.example");
	g_assert_cmpstr(status, ==, "5.2");
	g_free(status);
	g_free(stored);

	g_free(text);
	g_free(copy);
	g_free(accepted);
	g_free(bobs);
	g_free(imip_last_method);
	imip_last_method = NULL;
}

static int64_t make_ldap_user(struct store *s, const char *login)
{
	struct ox_error err = {0};
	char *dn = g_strdup_printf("uid=%s", login);
	struct user_create spec = {.login = login, .display_name = login, .ldap_dn = dn};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	g_free(dn);
	return id;
}

static void test_groups(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t ctx = 0;
	if (context_create(S(f), "acme", "example.org", 0, &ctx, &err) < 0)
		g_error("context_create: %s", err.message);
	int64_t alice = make_ldap_user(S(f), "alice@example.org");
	int64_t bob = make_ldap_user(S(f), "bob@example.org");
	g_assert_cmpint(group_create(S(f), "acme", "team", NULL, NULL, &err), ==, 0);
	g_assert_cmpint(group_add_member(S(f), "acme", "team", "alice@example.org", &err), ==, 0);
	g_assert_cmpint(group_add_member(S(f), "acme", "team", "bob@example.org", &err), ==, 0);

	char *text = invitation("g1", "ATTENDEE;CUTYPE=GROUP:mailto:team@example.org\r\n", "");
	put(S(f), alice, "g1.ics", text);
	char *stored = read_object(S(f), alice, "g1.ics");
	struct pim_itip it;
	g_assert_cmpint(pim_itip_parse(stored, &it), ==, 0);
	/* Bob came in; Alice organizes and is not added to her own event. */
	g_assert_cmpuint(it.nattendees, ==, 2);
	g_assert_nonnull(pim_itip_attendee(&it, "bob@example.org"));
	pim_itip_clear(&it);
	char *copy = read_object(S(f), bob, "g1.ics");
	g_assert_nonnull(copy);
	g_free(copy);
	g_free(stored);

	/* A group past GROUP_MEMBERS_MAX (100) is not expanded: 5.3, and
	 * nobody is invited through it. */
	g_assert_cmpint(group_create(S(f), "acme", "all", NULL, NULL, &err), ==, 0);
	for (int i = 0; i < 101; i++) {
		char *login = g_strdup_printf("u%03d@example.org", i);
		make_ldap_user(S(f), login);
		g_assert_cmpint(group_add_member(S(f), "acme", "all", login, &err), ==, 0);
		g_free(login);
	}
	char *big = invitation("g2", "ATTENDEE;CUTYPE=GROUP:mailto:all@example.org\r\n", "");
	put(S(f), alice, "g2.ics", big);
	stored = read_object(S(f), alice, "g2.ics");
	char *status = status_of(stored, "all@example.org");
	g_assert_cmpstr(status, ==, "5.3");
	g_assert_cmpint(pim_itip_parse(stored, &it), ==, 0);
	g_assert_cmpuint(it.nattendees, ==, 1);
	pim_itip_clear(&it);
	g_free(status);
	g_free(stored);
	g_free(big);
	g_free(text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	g_test_add_func("/pim-schedule/itip", test_itip);
	g_test_add_func("/pim-schedule/itip-scheduling-params", test_itip_scheduling_params);
	store_fixture_add("/pim-schedule", "service", test_service);
	store_fixture_add("/pim-schedule", "tags-and-status", test_tags_and_status);
	store_fixture_add("/pim-schedule", "groups", test_groups);
	return g_test_run();
}
