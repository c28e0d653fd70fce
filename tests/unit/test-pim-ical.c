/* The iCalendar views CalDAV reports ask for (RFC 4791 9.6: expand,
 * limit-recurrence-set, limit-freebusy-set, comp/prop subsets) and time
 * zones (calendar-timezone) as pure functions; then a calendar's zone on
 * both drivers: stored at creation or by a change, the owner's as the
 * default (also for default folders, which have no calendars row),
 * refused when invalid without a change, and read by queries. */
#include "core/error.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "pim/pim-private.h"
#include "pim/pim.h"
#include "store-fixture.h"

#include <string.h>

#define S(f) ((f)->store)

static const char BERLIN[] = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
			     "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
			     "TZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
			     "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
			     "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
			     "TZNAME:CET\r\nDTSTART:19701025T030000\r\n"
			     "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
			     "END:VTIMEZONE\r\n";

/* Weekly on Mondays at 10:00 Berlin (09:00Z in winter) from 8 January
 * 2024; 15 January moved to 16:00 and renamed; 22 January excluded. */
static char *weekly(void)
{
	return g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n%s"
		"BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:20240108T100000\r\n"
		"DTEND;TZID=Europe/Berlin:20240108T110000\r\n"
		"RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20240122T100000\r\n"
		"SUMMARY:Planning\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000\r\n"
		"DTSTART;TZID=Europe/Berlin:20240115T160000\r\n"
		"DTEND;TZID=Europe/Berlin:20240115T170000\r\n"
		"SUMMARY:Planning (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		BERLIN);
}

static int64_t utc(const char *text)
{
	GDateTime *dt = g_date_time_new_from_iso8601(text, NULL);
	g_assert_nonnull(dt);
	int64_t t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t;
}

static guint count(const char *hay, const char *needle)
{
	guint n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static char *view(const char *data, const struct pim_view *v, const struct pim_zone *zone)
{
	struct ox_error err = {0};
	char *text = NULL;
	if (pim_view_apply(data, v, zone, &text, &err) < 0)
		g_error("view: %s", err.message);
	return text;
}

static void test_expand(void)
{
	char *data = weekly();
	struct pim_view v = {.recurrence = PIM_RECURRENCE_EXPAND,
	                     .start = utc("2024-01-01T00:00:00Z"),
	                     .end = utc("2024-02-01T00:00:00Z")};
	char *text = view(data, &v, NULL);
	/* 8, 15 (moved), 29 January; the 22nd is excluded. */
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 3);
	g_assert_cmpuint(count(text, "RECURRENCE-ID:"), ==, 3);
	g_assert_nonnull(strstr(text, "RECURRENCE-ID:20240108T090000Z\r\n"));
	g_assert_nonnull(strstr(text, "DTSTART:20240108T090000Z\r\n"));
	g_assert_nonnull(strstr(text, "DTEND:20240108T100000Z\r\n"));
	g_assert_nonnull(strstr(text, "RECURRENCE-ID:20240115T090000Z\r\n"));
	g_assert_nonnull(strstr(text, "DTSTART:20240115T150000Z\r\n"));
	g_assert_nonnull(strstr(text, "SUMMARY:Planning (moved)"));
	g_assert_nonnull(strstr(text, "DTSTART:20240129T090000Z\r\n"));
	g_assert_null(strstr(text, "20240122"));
	g_assert_null(strstr(text, "RRULE"));
	g_assert_null(strstr(text, "EXDATE"));
	g_assert_null(strstr(text, "TZID"));
	g_assert_null(strstr(text, "VTIMEZONE"));
	g_free(text);

	/* A range that holds only the moved instance: by its new time. */
	v.start = utc("2024-01-15T14:00:00Z");
	v.end = utc("2024-01-15T16:00:00Z");
	text = view(data, &v, NULL);
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 1);
	g_assert_nonnull(strstr(text, "SUMMARY:Planning (moved)"));
	g_free(text);
	g_free(data);

	/* All-day and floating values stay as they are; a single event gets
	 * no RECURRENCE-ID. */
	const char *days = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			   "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\n"
			   "DTSTART;VALUE=DATE:20240301\r\nDTEND;VALUE=DATE:20240302\r\n"
			   "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	v.start = utc("2024-03-02T00:00:00Z");
	v.end = utc("2024-03-04T00:00:00Z");
	text = view(days, &v, NULL);
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 2);
	g_assert_nonnull(strstr(text, "RECURRENCE-ID;VALUE=DATE:20240302\r\n"));
	g_assert_nonnull(strstr(text, "DTSTART;VALUE=DATE:20240303\r\n"));
	g_assert_nonnull(strstr(text, "DTEND;VALUE=DATE:20240304\r\n"));
	g_free(text);
	const char *single = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			     "BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20240101T000000Z\r\n"
			     "DTSTART:20240305T090000\r\nDURATION:PT1H\r\n"
			     "END:VEVENT\r\nEND:VCALENDAR\r\n";
	v.start = utc("2024-03-05T00:00:00Z");
	v.end = utc("2024-03-06T00:00:00Z");
	text = view(single, &v, NULL);
	g_assert_nonnull(strstr(text, "DTSTART:20240305T090000\r\n"));
	g_assert_null(strstr(text, "RECURRENCE-ID"));
	g_free(text);
}

static void test_expand_bounds(void)
{
	const char *hourly = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			     "BEGIN:VEVENT\r\nUID:h\r\nDTSTAMP:20240101T000000Z\r\n"
			     "DTSTART:20240101T000000Z\r\nRRULE:FREQ=HOURLY\r\n"
			     "END:VEVENT\r\nEND:VCALENDAR\r\n";
	struct pim_view v = {.recurrence = PIM_RECURRENCE_EXPAND,
	                     .start = utc("2024-01-01T00:00:00Z"),
	                     .end = utc("2024-03-01T00:00:00Z")};
	struct ox_error err = {0};
	char *text = NULL;
	g_assert_cmpint(pim_view_apply(hourly, &v, NULL, &text, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_LIMIT);
	g_assert_null(text);
	/* A week of it is within the bound. */
	v.end = utc("2024-01-08T00:00:00Z");
	text = view(hourly, &v, NULL);
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 7 * 24);
	g_free(text);
}

static void test_limit_recurrence_set(void)
{
	char *data = weekly();
	/* The override of 15 January moved to 16:00 Berlin; a range on the
	 * morning of the 15th still touches it by its original time, one on
	 * the 29th touches no override. */
	struct pim_view v = {.recurrence = PIM_RECURRENCE_LIMIT,
	                     .start = utc("2024-01-15T08:00:00Z"),
	                     .end = utc("2024-01-15T10:00:00Z")};
	char *text = view(data, &v, NULL);
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 2);
	g_assert_nonnull(strstr(text, "RRULE:FREQ=WEEKLY"));
	g_assert_nonnull(strstr(text, "BEGIN:VTIMEZONE"));
	g_free(text);
	v.start = utc("2024-01-29T00:00:00Z");
	v.end = utc("2024-01-30T00:00:00Z");
	text = view(data, &v, NULL);
	g_assert_cmpuint(count(text, "BEGIN:VEVENT"), ==, 1);
	g_assert_null(strstr(text, "RECURRENCE-ID"));
	g_free(text);
	g_free(data);
}

static void test_select(void)
{
	char *data = weekly();
	struct pim_select_prop vprops[] = {{"VERSION", false}};
	struct pim_select_prop eprops[] = {{"UID", false}, {"summary", true}};
	struct pim_select comps[] = {
		{.name = "VEVENT", .props = eprops, .nprops = 2, .all_comps = true},
	};
	struct pim_select root = {
		.name = "VCALENDAR", .props = vprops, .nprops = 1, .comps = comps, .ncomps = 1};
	struct pim_view v = {.select = &root};
	char *text = view(data, &v, NULL);
	g_assert_nonnull(strstr(text, "VERSION:2.0"));
	g_assert_null(strstr(text, "PRODID"));
	g_assert_null(strstr(text, "VTIMEZONE"));
	g_assert_cmpuint(count(text, "UID:weekly@example.org"), ==, 2);
	g_assert_cmpuint(count(text, "SUMMARY:\r\n"), ==, 2); /* novalue */
	g_assert_null(strstr(text, "DTSTART"));
	g_free(text);
	g_free(data);
	g_assert_true(pim_view_is_stored(&(struct pim_view){0}));
}

static void test_limit_freebusy(void)
{
	const char *fb = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			 "BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20240101T000000Z\r\n"
			 "FREEBUSY:20240110T090000Z/20240110T100000Z\r\n"
			 "FREEBUSY:20240120T090000Z/PT1H\r\n"
			 "END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
	struct pim_view v = {.limit_freebusy = true,
	                     .fb_start = utc("2024-01-15T00:00:00Z"),
	                     .fb_end = utc("2024-01-25T00:00:00Z")};
	char *text = view(fb, &v, NULL);
	g_assert_null(strstr(text, "20240110T090000Z"));
	g_assert_nonnull(strstr(text, "20240120T090000Z"));
	g_free(text);
}

static char *zone_text(const char *vtimezone)
{
	return g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n%s"
	                       "END:VCALENDAR\r\n",
	                       vtimezone);
}

static void test_zones(void)
{
	struct ox_error err = {0};
	struct pim_zone *zone = NULL;
	char *text = zone_text(BERLIN);
	g_assert_cmpint(pim_zone_parse(text, strlen(text), &zone, &err), ==, 0);
	g_assert_cmpstr(pim_zone_text(zone), ==, text);

	/* A floating 09:00 is 08:00Z in Berlin in winter, 09:00Z without a
	 * zone; a DATE starts at midnight in the zone. */
	const char *floating = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			       "BEGIN:VEVENT\r\nUID:f\r\nDTSTAMP:20240101T000000Z\r\n"
			       "DTSTART:20240110T090000\r\nDTEND:20240110T093000\r\n"
			       "END:VEVENT\r\nEND:VCALENDAR\r\n";
	int64_t eight = utc("2024-01-10T08:00:00Z"), nine = utc("2024-01-10T09:00:00Z");
	g_assert_true(pim_ical_overlaps(floating, zone, 0, eight, eight + 1800));
	g_assert_false(pim_ical_overlaps(floating, zone, 0, nine, nine + 1800));
	g_assert_false(pim_ical_overlaps(floating, NULL, 0, eight, eight + 1800));
	g_assert_true(pim_ical_overlaps(floating, NULL, 0, nine, nine + 1800));
	const char *day = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			  "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\n"
			  "DTSTART;VALUE=DATE:20240110\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	int64_t eve = utc("2024-01-09T23:30:00Z");
	g_assert_true(pim_ical_overlaps(day, zone, 0, eve, eve + 60));
	g_assert_false(pim_ical_overlaps(day, NULL, 0, eve, eve + 60));
	/* The view expands in the same zone, and leaves floating times so. */
	struct pim_view v = {
		.recurrence = PIM_RECURRENCE_EXPAND, .start = eight, .end = eight + 1800};
	char *expanded = view(floating, &v, zone);
	g_assert_nonnull(strstr(expanded, "DTSTART:20240110T090000\r\n"));
	g_free(expanded);
	expanded = view(floating, &v, NULL);
	g_assert_null(strstr(expanded, "BEGIN:VEVENT"));
	g_free(expanded);
	pim_zone_free(&zone);
	g_assert_null(zone);
	g_free(text);

	/* libical's zones for the directory's names, with the name as TZID;
	 * what is answered for them is a valid calendar-timezone again. */
	zone = pim_zone_named("America/New_York");
	g_assert_nonnull(strstr(pim_zone_text(zone), "TZID:America/New_York\r\n"));
	g_assert_true(pim_ical_overlaps(floating, zone, 0, utc("2024-01-10T14:00:00Z"),
	                                utc("2024-01-10T14:30:00Z")));
	struct pim_zone *again = NULL;
	g_assert_cmpint(
		pim_zone_parse(pim_zone_text(zone), strlen(pim_zone_text(zone)), &again, &err), ==,
		0);
	g_assert_true(pim_ical_overlaps(floating, again, 0, utc("2024-01-10T14:00:00Z"),
	                                utc("2024-01-10T14:30:00Z")));
	pim_zone_free(&again);
	pim_zone_free(&zone);
	zone = pim_zone_named("No/Such_Zone");
	g_assert_nonnull(strstr(pim_zone_text(zone), "TZID:UTC\r\n"));
	pim_zone_free(&zone);
}

static void test_zones_refused(void)
{
	static const char *const bad[] = {
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
		"not iCalendar at all",
		"BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\n",
		/* another component beside the zone */
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n@ZONE@BEGIN:VEVENT\r\nUID:e\r\n"
		"DTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		/* two zones */
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n@ZONE@@ZONE@END:VCALENDAR\r\n",
		/* a rule libical would expand minute by minute */
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Evil\r\n"
		"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\n"
		"TZOFFSETTO:+0200\r\nRRULE:FREQ=MINUTELY\r\nEND:STANDARD\r\n"
		"END:VTIMEZONE\r\nEND:VCALENDAR\r\n",
		/* no observance */
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Empty\r\n"
		"END:VTIMEZONE\r\nEND:VCALENDAR\r\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char **parts = g_strsplit(bad[i], "@ZONE@", -1);
		char *text = g_strjoinv(BERLIN, parts);
		g_strfreev(parts);
		struct ox_error err = {0};
		struct pim_zone *zone = NULL;
		g_assert_cmpint(pim_zone_parse(text, strlen(text), &zone, &err), ==, -1);
		g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
		g_assert_null(zone);
		g_free(text);
	}
	/* An object with such a zone is refused too, at once. */
	char *evil = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
		"BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
		"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=SECONDLY\r\nEND:STANDARD\r\n"
		"END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:e\r\nDTSTAMP:20240101T000000Z\r\n"
		"DTSTART;TZID=Evil:20300101T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
	struct pim_ical_index idx;
	enum pim_reject why;
	struct ox_error err = {0};
	g_assert_cmpint(pim_ical_index(evil, strlen(evil), &idx, &why, &err), ==, -1);
	g_assert_cmpint(why, ==, PIM_REJECT_DATA);
	g_free(evil);
	char *good = weekly();
	g_assert_cmpint(pim_ical_index(good, strlen(good), &idx, &why, &err), ==, 0);
	pim_ical_index_clear(&idx);
	g_free(good);
}

static char *ruled_event(const char *rule)
{
	return g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	                       "BEGIN:VEVENT\r\nUID:r@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
	                       "DTSTART:20260101T000000Z\r\nDURATION:PT1S\r\nRRULE:%s\r\n"
	                       "END:VEVENT\r\nEND:VCALENDAR\r\n",
	                       rule);
}

/* libical steps through every unit of a sub-daily rule and filters by
 * the coarser BY parts in one uninterruptible call: these took from 1 s
 * to minutes each before they were refused or cut short. */
static void test_costly_rules(void)
{
	static const char *const refused[] = {
		"FREQ=SECONDLY;BYMONTH=12;COUNT=5", "FREQ=SECONDLY;BYYEARDAY=300;COUNT=5",
		"FREQ=SECONDLY;BYDAY=SU;COUNT=5",   "FREQ=SECONDLY;BYMONTHDAY=28",
		"FREQ=MINUTELY;BYMONTH=12;COUNT=5", "FREQ=MINUTELY;BYDAY=1MO",
	};
	static const char *const taken[] = {
		"FREQ=SECONDLY;BYHOUR=23;BYMINUTE=59;BYSECOND=59;COUNT=5000",
		"FREQ=MINUTELY;BYDAY=SU;BYHOUR=23;BYMINUTE=59",
		"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=12",
		"FREQ=SECONDLY;INTERVAL=3600",
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		char *text = ruled_event(refused[i]);
		struct pim_ical_index idx;
		enum pim_reject why;
		struct ox_error err = {0};
		g_assert_cmpint(pim_ical_index(text, strlen(text), &idx, &why, &err), ==, -1);
		g_assert_cmpint(why, ==, PIM_REJECT_OBJECT);
		g_assert_nonnull(strstr(err.message, "RRULE"));
		g_free(text);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(taken); i++) {
		char *text = ruled_event(taken[i]);
		struct pim_ical_index idx;
		enum pim_reject why;
		struct ox_error err = {0};
		gint64 t0 = g_get_monotonic_time();
		g_assert_cmpint(pim_ical_index(text, strlen(text), &idx, &why, &err), ==, 0);
		g_assert_true(idx.has_start);
		pim_ical_index_clear(&idx);
		/* A range far from DTSTART walks the rule as far as it may. */
		pim_ical_overlaps(text, NULL, 0, utc("2030-06-01T00:00:00Z"),
		                  utc("2030-06-02T00:00:00Z"));
		gint64 ms = (g_get_monotonic_time() - t0) / 1000;
		if (ms > 5000)
			g_error("%s took %" G_GINT64_FORMAT " ms", taken[i], ms);
		g_free(text);
	}
}

static char *dated_event(const char *dates)
{
	return g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	                       "BEGIN:VEVENT\r\nUID:d@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
	                       "%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
	                       dates);
}

/* Dates libical reads digit by digit, and ends before starts. */
static void test_bad_dates(void)
{
	static const struct {
		const char *dates;
		enum pim_reject why; /* PIM_REJECT_NONE: taken */
	} cases[] = {
		{"DTSTART:20301345T990000Z\r\n", PIM_REJECT_DATA},
		{"DTSTART:20300230T100000Z\r\n", PIM_REJECT_DATA},
		{"DTSTART:20300105T246000Z\r\n", PIM_REJECT_DATA},
		{"DTSTART:20300105T100000Z\r\nEXDATE:20301301T100000Z\r\n", PIM_REJECT_DATA},
		{"DTSTART:20300105T100000Z\r\nDTEND:20300104T100000Z\r\n", PIM_REJECT_OBJECT},
		{"DTSTART;VALUE=DATE:20300105\r\nDTEND;VALUE=DATE:20300104\r\n", PIM_REJECT_OBJECT},
		{"DTSTART:20300105T100000Z\r\nDTEND:20300105T100000Z\r\n", PIM_REJECT_NONE},
		{"DTSTART:20280229T100000Z\r\nDTEND:20280229T110000Z\r\n", PIM_REJECT_NONE},
		/* floating against UTC depends on the calendar's zone */
		{"DTSTART:20300105T100000\r\nDTEND:20300105T090000Z\r\n", PIM_REJECT_NONE},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = dated_event(cases[i].dates);
		struct pim_ical_index idx;
		enum pim_reject why;
		struct ox_error err = {0};
		int r = pim_ical_index(text, strlen(text), &idx, &why, &err);
		if (cases[i].why == PIM_REJECT_NONE) {
			g_assert_cmpint(r, ==, 0);
			pim_ical_index_clear(&idx);
		} else {
			g_assert_cmpint(r, ==, -1);
			g_assert_cmpint(why, ==, cases[i].why);
		}
		g_free(text);
	}
}

static char *zoned_event(const char *tzid, const char *rule)
{
	return g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
		"BEGIN:VTIMEZONE\r\nTZID:%s\r\nBEGIN:STANDARD\r\nDTSTART:19311003T110000\r\n"
		"TZOFFSETFROM:-0200\r\nTZOFFSETTO:-0300\r\nRRULE:%s\r\nEND:STANDARD\r\n"
		"BEGIN:DAYLIGHT\r\nDTSTART:19320401T000000\r\nTZOFFSETFROM:-0300\r\n"
		"TZOFFSETTO:-0200\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=3SU\r\nEND:DAYLIGHT\r\n"
		"END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:z@example.org\r\n"
		"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=%s:20300105T100000\r\n"
		"RRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		tzid, rule, tzid);
}

/* A client's zone for a name libical knows is not expanded at all (its
 * rules, however costly, are not read); another client zone must be one
 * libical expands cheaply. Horde wrote the never-matching rule below;
 * Lotus Notes repeats the change's time in BYHOUR and BYMINUTE. */
static void test_client_zones(void)
{
	static const char horde[] =
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=15,16,17,18,19,20,21;BYDAY=1SU";
	static const struct {
		const char *tzid, *rule;
		bool taken;
	} cases[] = {
		{"America/Sao_Paulo", horde, true},
		{"Custom Zone", horde, false},
		{"Custom Zone", "FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=-1SU;BYMONTH=10", true},
		{"Custom Zone", "FREQ=YEARLY;BYHOUR=1,2;BYDAY=-1SU;BYMONTH=10", false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = zoned_event(cases[i].tzid, cases[i].rule);
		struct pim_ical_index idx;
		enum pim_reject why;
		struct ox_error err = {0};
		gint64 t0 = g_get_monotonic_time();
		int r = pim_ical_index(text, strlen(text), &idx, &why, &err);
		gint64 ms = (g_get_monotonic_time() - t0) / 1000;
		g_assert_cmpint(r, ==, cases[i].taken ? 0 : -1);
		if (r == 0) {
			/* 10:00 in São Paulo (libical's zone: UTC-3) is 13:00Z. */
			if (strcmp(cases[i].tzid, "America/Sao_Paulo") == 0)
				g_assert_cmpint(idx.first_start, ==, utc("2030-01-05T13:00:00Z"));
			pim_ical_index_clear(&idx);
		} else {
			g_assert_cmpint(why, ==, PIM_REJECT_DATA);
		}
		if (ms > 1000)
			g_error("%s with %s took %" G_GINT64_FORMAT " ms", cases[i].tzid,
			        cases[i].rule, ms);
		g_free(text);
	}
}

/* --- a calendar's zone in the store --- */

static int64_t make_user(struct store *s, const char *login, const char *time_zone)
{
	struct ox_error err = {0};
	struct user_create spec = {
		.login = login, .display_name = login, .password = "pw", .time_zone = time_zone};
	int64_t id = 0;
	if (user_create(s, &spec, &id, &err) < 0)
		g_error("user_create %s: %s", login, err.message);
	return id;
}

static char *calendar_zone(struct store *s, int64_t user, const struct pim_calendar *cal,
                           bool *is_set)
{
	struct ox_error err = {0};
	struct pim_zone *zone = NULL;
	if (pim_calendar_zone(s, user, cal, &zone, is_set, &err) < 0)
		g_error("zone: %s", err.message);
	char *text = g_strdup(pim_zone_text(zone));
	pim_zone_free(&zone);
	return text;
}

static int64_t count_zones(struct store *s)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(s, "SELECT COUNT(*) FROM calendar_timezones", &err);
	g_assert_nonnull(st);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	int64_t n = store_col_int(st, 0);
	store_stmt_done(&st);
	return n;
}

static int count_matches(const struct pim_object *obj, const char *data, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

/* Objects of cal with an instance in [start, start + 30 min). */
static int matches(struct store *s, int64_t user, const struct pim_calendar *cal, int64_t start)
{
	struct ox_error err = {0};
	struct pim_query q = {.has_range = true, .start = start, .end = start + 1800};
	int n = 0;
	if (pim_object_query(s, user, cal, &q, count_matches, &n, &err) < 0)
		g_error("query: %s", err.message);
	return n;
}

static void test_stored(struct store_fixture *f, gconstpointer driver)
{
	if (store_fixture_skip(f))
		return;
	struct ox_error err = {0};
	int64_t ctx = 0;
	if (context_create(S(f), "acme", "example.org", 0, &ctx, &err) < 0)
		g_error("context_create: %s", err.message);
	int64_t alice = make_user(S(f), "alice@example.org", "America/New_York");
	int64_t bob = make_user(S(f), "bob@example.org", NULL);

	/* Made with a zone: stored, and what the calendar says. */
	char *berlin = zone_text(BERLIN);
	struct pim_calendar work;
	struct pim_calendar_spec spec = {"work", "Work", 0, berlin, strlen(berlin)};
	g_assert_cmpint(pim_calendar_make(S(f), alice, &spec, &work, &err), ==, 0);
	bool is_set = false;
	char *text = calendar_zone(S(f), alice, &work, &is_set);
	g_assert_true(is_set);
	g_assert_cmpstr(text, ==, berlin);
	g_free(text);

	/* A floating 09:00 is read in it. */
	const char *floating = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
			       "BEGIN:VEVENT\r\nUID:f\r\nDTSTAMP:20240101T000000Z\r\n"
			       "DTSTART:20240110T090000\r\nDTEND:20240110T093000\r\n"
			       "END:VEVENT\r\nEND:VCALENDAR\r\n";
	bool created;
	struct pim_object obj;
	enum pim_reject why;
	g_assert_cmpint(pim_object_put(S(f), alice, &work, "f.ics", floating, strlen(floating),
	                               &created, &obj, &why, &err),
	                ==, 0);
	pim_object_clear(&obj);
	g_assert_cmpint(matches(S(f), alice, &work, utc("2024-01-10T08:00:00Z")), ==, 1);
	g_assert_cmpint(matches(S(f), alice, &work, utc("2024-01-10T09:00:00Z")), ==, 0);

	/* Removed: the owner's directory zone reads it (New York, 14:00Z). */
	struct pim_calendar_change change = {.change_zone = true};
	g_assert_cmpint(pim_calendar_change(S(f), alice, &work, &change, &err), ==, 0);
	text = calendar_zone(S(f), alice, &work, &is_set);
	g_assert_false(is_set);
	g_assert_nonnull(strstr(text, "TZID:America/New_York"));
	g_free(text);
	g_assert_cmpint(matches(S(f), alice, &work, utc("2024-01-10T14:00:00Z")), ==, 1);
	g_assert_cmpint(matches(S(f), alice, &work, utc("2024-01-10T08:00:00Z")), ==, 0);

	/* A default folder has no calendars row, and takes a zone all the same,
	 * with its name in the same transaction. */
	struct pim_calendar cal;
	g_assert_cmpint(pim_calendar_find(S(f), alice, alice, "calendar", &cal, &err), ==, 1);
	change = (struct pim_calendar_change){.display_name = "Home",
	                                      .change_zone = true,
	                                      .zone = berlin,
	                                      .zone_len = strlen(berlin)};
	g_assert_cmpint(pim_calendar_change(S(f), alice, &cal, &change, &err), ==, 0);
	g_assert_cmpstr(cal.display_name, ==, "Home");
	text = calendar_zone(S(f), alice, &cal, &is_set);
	g_assert_true(is_set);
	g_free(text);

	/* Invalid, or not the admin's: refused, nothing changed. */
	char *before = store_fixture_snapshot(S(f));
	int64_t zones = count_zones(S(f));
	const char *bad = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
	change = (struct pim_calendar_change){.display_name = "Renamed",
	                                      .change_zone = true,
	                                      .zone = bad,
	                                      .zone_len = strlen(bad)};
	g_assert_cmpint(pim_calendar_change(S(f), alice, &cal, &change, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
	change = (struct pim_calendar_change){.change_zone = true};
	g_assert_cmpint(pim_calendar_change(S(f), bob, &cal, &change, &err), ==, -1);
	spec = (struct pim_calendar_spec){"other", NULL, 0, bad, strlen(bad)};
	struct pim_calendar other;
	g_assert_cmpint(pim_calendar_make(S(f), alice, &spec, &other, &err), ==, -1);
	char *after = store_fixture_snapshot(S(f));
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpint(count_zones(S(f)), ==, zones);
	g_free(before);
	g_free(after);
	text = calendar_zone(S(f), alice, &cal, &is_set);
	g_assert_cmpstr(text, ==, berlin);
	g_free(text);

	/* Bob's default: UTC, his directory zone. The zone goes with the folder. */
	struct pim_calendar bobs;
	g_assert_cmpint(pim_calendar_find(S(f), bob, bob, "calendar", &bobs, &err), ==, 1);
	text = calendar_zone(S(f), bob, &bobs, &is_set);
	g_assert_nonnull(strstr(text, "TZID:UTC"));
	g_free(text);
	g_assert_cmpint(pim_calendar_make(S(f), alice,
	                                  &(struct pim_calendar_spec){"gone", NULL, 0, berlin,
	                                                              strlen(berlin)},
	                                  &other, &err),
	                ==, 0);
	g_assert_cmpint(count_zones(S(f)), ==, zones + 1);
	g_assert_cmpint(pim_calendar_delete(S(f), alice, &other, &err), ==, 0);
	g_assert_cmpint(count_zones(S(f)), ==, zones);
	pim_calendar_clear(&other);
	pim_calendar_clear(&bobs);
	pim_calendar_clear(&cal);
	pim_calendar_clear(&work);
	g_free(berlin);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	folder_register_hooks();
	g_test_add_func("/pim-ical/expand", test_expand);
	g_test_add_func("/pim-ical/expand-bounds", test_expand_bounds);
	g_test_add_func("/pim-ical/limit-recurrence-set", test_limit_recurrence_set);
	g_test_add_func("/pim-ical/select", test_select);
	g_test_add_func("/pim-ical/limit-freebusy-set", test_limit_freebusy);
	g_test_add_func("/pim-ical/zones", test_zones);
	g_test_add_func("/pim-ical/zones-refused", test_zones_refused);
	g_test_add_func("/pim-ical/costly-rules", test_costly_rules);
	g_test_add_func("/pim-ical/bad-dates", test_bad_dates);
	g_test_add_func("/pim-ical/client-zones", test_client_zones);
	store_fixture_add("/pim-ical", "calendar-zone", test_stored);
	return g_test_run();
}
