/* Inside pim: the iCalendar glue on libical (pure: text in, facts out). */
#ifndef OX_PIM_PRIVATE_H
#define OX_PIM_PRIVATE_H

#include "pim/pim.h"

/* What the index keeps of one calendar object. An open bound (a VTODO
 * without dates, a rule without end or with more instances than the
 * index expands) is has_start / has_end false. */
struct pim_ical_index {
	char *uid;
	enum pim_component component;
	bool has_start, has_end;
	int64_t first_start, last_end; /* unix seconds, UTC */
};
void pim_ical_index_clear(struct pim_ical_index *idx);

/* Validates one calendar object resource (RFC 4791 4.1) and computes its
 * index: 0, or -1 with OX_ERR_INVALID and *reject_r. `data` holds len
 * bytes; it need not end in NUL. */
int pim_ical_index(const char *data, size_t len, struct pim_ical_index *idx_r,
                   enum pim_reject *reject_r, struct ox_error *err);

/* Whether an object has an instance of one of `components` (0: any)
 * overlapping [start, end) in the sense of RFC 4791 9.9, recurrences
 * expanded, floating times and DATE values read in `zone` (NULL: UTC).
 * Unparsable text never matches. */
bool pim_ical_overlaps(const char *data, const struct pim_zone *zone, unsigned components,
                       int64_t start, int64_t end);

/* Whether an object passes a calendar-query filter. Unparsable text
 * never does. */
bool pim_ical_filter_match(const char *data, const struct pim_zone *zone,
                           const struct pim_comp_filter *filter);

/* The busy instances of an object's VEVENTs overlapping [start, end),
 * clipped to it, in no particular order. fn returns -1 to stop; so does
 * this function then. */
typedef int pim_ical_busy_fn(int64_t start, int64_t end, bool tentative, void *ctx);
int pim_ical_busy(const char *data, int64_t start, int64_t end, pim_ical_busy_fn *fn, void *ctx);
/* The same with floating times and DATE values read in `zone` (NULL: UTC,
 * as pim_ical_busy does). */
int pim_ical_busy_in(const char *data, const struct pim_zone *zone, int64_t start, int64_t end,
                     pim_ical_busy_fn *fn, void *ctx);

/* The one folder whose segment in owner's home could be `segment` (see
 * describe() in pim-calendar.c and pim-contact-book.c): a folder id for
 * digits (chosen names are never only digits), else the folder of owner's
 * calendars or addressbooks row of that name, else owner's folder with
 * that role. 1, 0, -1. */
enum pim_segment_table {
	PIM_SEGMENT_CALENDARS,
	PIM_SEGMENT_ADDRESSBOOKS
};
int pim_segment_folder(struct store *s, enum pim_segment_table table, int64_t owner,
                       const char *segment, int64_t *id_r, struct ox_error *err);

/* A zone for an IANA name (users.time_zone); UTC for names libical does
 * not know. Never NULL. */
struct pim_zone *pim_zone_named(const char *name);
/* The zone of a calendar folder without a permission check (see
 * pim_calendar_zone). */
int pim_folder_zone(struct store *s, int64_t folder_id, struct pim_zone **zone_r, bool *is_set_r,
                    struct ox_error *err);
/* Floating times and DATE values are indexed as UTC; read in a calendar's
 * zone they move by less than a day (UTC offsets stay within 24 hours), so
 * index look-ups widen their range by this much. */
#define PIM_FLOATING_SLACK 86400
static inline int64_t pim_widen_down(int64_t t)
{
	return t < INT64_MIN + PIM_FLOATING_SLACK ? INT64_MIN : t - PIM_FLOATING_SLACK;
}
static inline int64_t pim_widen_up(int64_t t)
{
	return t > INT64_MAX - PIM_FLOATING_SLACK ? INT64_MAX : t + PIM_FLOATING_SLACK;
}

/* The top-level components of an object as iCalendar text: its
 * VTIMEZONEs (with their TZID) when `timezones`, else the others (tzid
 * NULL). fn returns -1 to stop; so does this function then. */
typedef int pim_ical_part_fn(const char *tzid, const char *text, void *ctx);
int pim_ical_parts(const char *data, bool timezones, pim_ical_part_fn *fn, void *ctx);

/* Busy time over several calendars at once, merged (pim_calendar_busy
 * without its permission check): objects with UID skip_uid (or NULL) do
 * not count. */
int pim_busy_folders(struct store *s, const int64_t *folder_ids, size_t n, const char *skip_uid,
                     int64_t start, int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err);

/* What a server write does to the object's Schedule-Tag (RFC 6638
 * 3.2.10), which changes only with what its calendar user must look at
 * again. */
enum pim_tag_change {
	PIM_TAG_NONE, /* a schedule inbox message: no tag */
	PIM_TAG_NEW,  /* the organizer changed the copy (a REQUEST): a new tag */
	PIM_TAG_KEEP, /* an answer merged in, the server's SCHEDULE-STATUS: kept */
};
/* Writes an object as the server does for scheduling: validated and
 * indexed like a client's PUT, without permission checks and without
 * scheduling again; the change is recorded as made by `as_user`. Objects
 * without an ORGANIZER never have a Schedule-Tag; PIM_TAG_KEEP on an
 * object that had none makes one. Joins the caller's transaction. */
int pim_object_write_as(struct store *s, int64_t folder_id, int64_t as_user, const char *name,
                        const char *text, enum pim_tag_change tag, struct ox_error *err);
int pim_object_remove_as(struct store *s, int64_t folder_id, int64_t as_user, const char *name,
                         struct ox_error *err);

/* Implicit scheduling (RFC 6638 3.2), inside the transaction of a change
 * to an object of `cal`: old_data is the text before (NULL: created),
 * new_data after (NULL: deleted). *rewritten_r gets the object's text
 * when scheduling changed it (SCHEDULE-STATUS, group members, answers of
 * resources), else NULL. */
int pim_schedule_object(struct store *s, const struct pim_calendar *cal, const char *old_data,
                        const char *new_data, char **rewritten_r, struct ox_error *err);
/* The same for a removed object; an attendee's removal declines only
 * when attendee_replies (RFC 6638 8.1: "Schedule-Reply: F" keeps it
 * quiet); an organizer's always cancels. */
int pim_schedule_removed(struct store *s, const struct pim_calendar *cal, const char *old_data,
                         bool attendee_replies, struct ox_error *err);
/* Whether a text may be a scheduling object (names an ORGANIZER): a
 * cheap test before parsing. */
bool pim_schedule_candidate(const char *text);

#endif
