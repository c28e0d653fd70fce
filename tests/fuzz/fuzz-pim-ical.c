/* libFuzzer target for the iCalendar side of the calendar service:
 * validation and index (pim-ical.c), the views REPORTs ask for, calendar
 * time zones, and the iTIP texts scheduling makes from an accepted object
 * (pim-itip.c).
 *
 * Input: a PUT body, from an exact-size heap copy so that ASan catches a
 * read past its end. An object the index accepts must give iTIP texts
 * that the index accepts again: the server stores such texts in other
 * users' calendars, and one it could not read back would fail the
 * client's PUT; so must the object scrubbed of client scheduling
 * parameters, annotated with SCHEDULE-STATUS, or grown by a group's
 * members. An expanded view holds no rule. The free/busy request
 * parser must never accept a range that ends before it starts. */
#include "core/error.h"
#include "pim/pim-itip.h"
#include "pim/pim-private.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz-pim-ical: %s\n", what);
	abort();
}

static void must_index(const char *text, const char *what)
{
	if (text == NULL)
		return;
	struct pim_ical_index idx;
	enum pim_reject why;
	struct ox_error err = {0};
	if (pim_ical_index(text, strlen(text), &idx, &why, &err) < 0) {
		fprintf(stderr, "%s: %s\n", what, err.message);
		die("a text scheduling made from an accepted object is refused");
	}
	pim_ical_index_clear(&idx);
}

/* January 2024 expanded and limited, read in the input's own zone when
 * the input is one (a PROPPATCH body's calendar-timezone). */
static void views(const char *text, const struct pim_zone *zone)
{
	struct pim_view v = {
		.recurrence = PIM_RECURRENCE_EXPAND, .start = 1704067200, .end = 1706745600};
	struct ox_error err = {0};
	char *out = NULL;
	if (pim_view_apply(text, &v, zone, &out, &err) == 0 && strstr(out, "\nRRULE") != NULL)
		die("an expanded view with a rule");
	g_free(out);
	v.recurrence = PIM_RECURRENCE_LIMIT;
	out = NULL;
	pim_view_apply(text, &v, zone, &out, &err);
	g_free(out);
}

static int no_busy(int64_t start, int64_t end, bool tentative, void *ctx)
{
	if (start > end)
		die("a busy period ends before it starts");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0; /* libical's time-zone code makes big inputs slow, not interesting */
	char *copy = malloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	struct pim_ical_index idx;
	enum pim_reject why;
	struct ox_error err = {0};
	if (pim_ical_index(copy, size, &idx, &why, &err) == 0) {
		if (idx.uid == NULL || *idx.uid == '\0')
			die("an accepted object without UID");
		if (idx.has_start && idx.has_end && idx.first_start > idx.last_end)
			die("an index whose first start is after its last end");
		char *text = g_strndup(copy, size);
		pim_ical_busy(text, 0, 4102444800, no_busy, NULL);
		views(text, NULL);
		struct pim_itip it;
		if (pim_itip_parse(text, &it) == 0) {
			for (size_t i = 0; i < it.nattendees; i++) {
				char *answered = pim_itip_with_partstat(
					text, it.attendees[i].address, "ACCEPTED", PIM_ITIP_NONE);
				must_index(answered, "answered");
				char *reply =
					answered != NULL
						? pim_itip_reply(answered, it.attendees[i].address)
						: NULL;
				must_index(reply, "reply");
				g_free(answered);
				g_free(reply);
			}
			/* What the server stores of a client's object: scrubbed,
			 * annotated with delivery status, with group members. */
			char *scrubbed = pim_itip_scrub(text);
			must_index(scrubbed, "scrubbed");
			GHashTable *status = g_hash_table_new(g_str_hash, g_str_equal);
			for (size_t i = 0; i < it.nattendees; i++)
				g_hash_table_insert(status, it.attendees[i].address, "1.2");
			char *annotated = pim_itip_with_status(text, status, "2.0");
			must_index(annotated, "annotated");
			g_hash_table_unref(status);
			if (it.nattendees > 0) {
				char *const members[] = {"m1@example.org", "m2@example.org", NULL};
				char *grown = pim_itip_with_members(text, it.attendees[0].address,
				                                    members);
				must_index(grown, "with members");
				g_free(grown);
			}
			g_free(scrubbed);
			g_free(annotated);
			char *request = pim_itip_message(text, PIM_ITIP_REQUEST);
			must_index(request, "request");
			char *cancel = pim_itip_message(text, PIM_ITIP_CANCEL);
			must_index(cancel, "cancel");
			g_free(request);
			g_free(cancel);
			pim_itip_clear(&it);
		}
		g_free(text);
		pim_ical_index_clear(&idx);
	}
	struct pim_zone *zone = NULL;
	if (pim_zone_parse(copy, size, &zone, &err) == 0) {
		views("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTART:20240110T090000\r\n"
		      "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		      zone);
		pim_zone_free(&zone);
	}
	if (size > 0 && memchr(copy, '\0', size) == NULL) {
		char *text = g_strndup(copy, size);
		struct pim_itip_fb fb;
		if (pim_itip_fb_parse(text, &fb) == 0) {
			if (fb.start >= fb.end)
				die("a free/busy request with an empty range");
			pim_itip_fb_clear(&fb);
		}
		g_free(text);
	}
	free(copy);
	return 0;
}
