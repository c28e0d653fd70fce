/* libFuzzer target for the iCalendar side of the calendar service:
 * validation and index (pim-ical.c) and the iTIP texts scheduling makes
 * from an accepted object (pim-itip.c).
 *
 * Input: a PUT body, from an exact-size heap copy so that ASan catches a
 * read past its end. An object the index accepts must give iTIP texts
 * that the index accepts again: the server stores such texts in other
 * users' calendars, and one it could not read back would fail the
 * client's PUT. The free/busy request parser must never accept a range
 * that ends before it starts. */
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
