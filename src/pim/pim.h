/* Calendars and tasks: calendar folders (modules FOLDER_CALENDAR and
 * FOLDER_TASKS) holding calendar objects, each one iCalendar text with
 * one UID (a master and its overrides) plus indexed columns: UID,
 * component, the UTC bounds of every instance and an ETag.
 *
 * A calendar is addressed in its owner's home by a segment: the one given
 * at creation, else the default folder's role ("calendar", "tasks"), else
 * the folder id; calendars shared by others appear in the viewer's own
 * home under their folder id. Every function decides access with
 * folder_check() for the actor and records each change with
 * change_record(). Errors: OX_ERR_NOT_FOUND (also what the actor may not
 * see), OX_ERR_PERM, OX_ERR_EXISTS, OX_ERR_INVALID and OX_ERR_CONFLICT
 * (with a pim_reject saying which rule), OX_ERR_LIMIT, OX_ERR_TEMP,
 * OX_ERR_INTERNAL. */
#ifndef OX_PIM_H
#define OX_PIM_H

#include "folder/folder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ox_error;
struct store;

#define PIM_OBJECT_MAX (1024 * 1024)
#define PIM_NAME_MAX 255
#define PIM_ETAG_MAX 40

/* Component kinds, as a bit set for what a calendar supports. */
enum pim_component {
	PIM_COMP_VEVENT = 1 << 0,
	PIM_COMP_VTODO = 1 << 1,
};
#define PIM_COMP_ALL (PIM_COMP_VEVENT | PIM_COMP_VTODO)

/* Why a calendar object was refused, for the protocol's precondition. */
enum pim_reject {
	PIM_REJECT_NONE,
	PIM_REJECT_DATA,      /* not iCalendar (RFC 4791 valid-calendar-data) */
	PIM_REJECT_OBJECT,    /* iCalendar, but not one object (valid-calendar-object-resource) */
	PIM_REJECT_COMPONENT, /* a component the calendar does not take */
	PIM_REJECT_UID,       /* the UID is used by another object of the calendar */
	PIM_REJECT_SIZE,      /* larger than PIM_OBJECT_MAX */
	/* A scheduling object copied, or moved to another owner. */
	PIM_REJECT_SCHEDULING,
};

struct pim_calendar {
	int64_t folder_id;
	int64_t owner_id; /* 0: public */
	char *segment;
	char *display_name;
	unsigned components; /* enum pim_component bits */
	int64_t modseq;      /* newest change of the calendar or its objects */
	int64_t created;
	bool shared; /* another user's (or a public) calendar seen by the actor */
	bool inbox;  /* the owner's schedule inbox (RFC 6638 2.2), never listed */
	struct folder_perm rights;
};
void pim_calendar_clear(struct pim_calendar *cal);

/* Calls fn for each calendar in owner's home as the actor sees it: the
 * owner's calendars the actor may see and, when actor == owner, the
 * calendars others share with them. fn returns 0 to go on, -1 to stop. */
typedef int pim_calendar_fn(const struct pim_calendar *cal, void *ctx);
int pim_calendar_list(struct store *s, int64_t actor, int64_t owner, pim_calendar_fn *fn, void *ctx,
                      struct ox_error *err);
/* The calendar at a segment of owner's home: 1, 0, -1. */
int pim_calendar_find(struct store *s, int64_t actor, int64_t owner, const char *segment,
                      struct pim_calendar *cal_r, struct ox_error *err);
/* Creates a calendar in the actor's own home at `segment` (letters,
 * digits, "-", "_", ".", "@", not only digits). display_name NULL: the
 * segment. components 0: events and tasks. */
int pim_calendar_create(struct store *s, int64_t actor, const char *segment,
                        const char *display_name, unsigned components, struct pim_calendar *cal_r,
                        struct ox_error *err);
int pim_calendar_rename(struct store *s, int64_t actor, struct pim_calendar *cal,
                        const char *display_name, struct ox_error *err);
int pim_calendar_delete(struct store *s, int64_t actor, const struct pim_calendar *cal,
                        struct ox_error *err);

/* --- time zones (CALDAV:calendar-timezone, RFC 4791 5.2.2) ---
 * A calendar's time zone reads the floating times and DATE values of its
 * objects wherever instances are matched against UTC ranges (queries,
 * free/busy, expansion; RFC 4791 9.9). It is the one set on the calendar,
 * else its owner's time zone in the directory (users.time_zone), else UTC
 * (public calendars, names libical does not know). */
struct pim_zone;
#define PIM_ZONE_MAX (64 * 1024)
/* A zone from the text of a CALDAV:calendar-timezone: one VCALENDAR
 * holding exactly one VTIMEZONE (with a TZID) and nothing else. Its
 * observances' rules must be yearly (as real zones are), so that no zone
 * costs more than a bounded expansion. -1 with OX_ERR_INVALID and the
 * reason in err otherwise. */
int pim_zone_parse(const char *text, size_t len, struct pim_zone **zone_r, struct ox_error *err);
/* The zone as a VCALENDAR text, as stored and answered (a default zone's
 * is made at the first call; the zone owns it). */
const char *pim_zone_text(struct pim_zone *zone);
void pim_zone_free(struct pim_zone **zone);
/* The calendar's zone as described above; *is_set_r (may be NULL) says
 * whether one was set on the calendar. Seeing the calendar is enough. */
int pim_calendar_zone(struct store *s, int64_t actor, const struct pim_calendar *cal,
                      struct pim_zone **zone_r, bool *is_set_r, struct ox_error *err);

/* What a calendar is made with: pim_calendar_create's arguments and a
 * time zone text (zone_len bytes; NULL: none set). */
struct pim_calendar_spec {
	const char *segment;
	const char *display_name;
	unsigned components;
	const char *zone;
	size_t zone_len;
};
int pim_calendar_make(struct store *s, int64_t actor, const struct pim_calendar_spec *spec,
                      struct pim_calendar *cal_r, struct ox_error *err);
/* Changes a calendar's properties in one transaction, all or nothing;
 * needs admin rights on its folder. A text that pim_zone_parse refuses is
 * OX_ERR_INVALID. */
struct pim_calendar_change {
	const char *display_name; /* NULL: kept */
	bool change_zone;
	const char *zone; /* with change_zone: the new text (zone_len bytes), NULL to remove it */
	size_t zone_len;
};
int pim_calendar_change(struct store *s, int64_t actor, struct pim_calendar *cal,
                        const struct pim_calendar_change *change, struct ox_error *err);

struct pim_object {
	int64_t id;
	int64_t folder_id;
	char *name; /* the resource name in the calendar */
	char *uid;
	enum pim_component component;
	char etag[PIM_ETAG_MAX]; /* quoted strong ETag */
	/* Of a scheduling object (RFC 6638 3.2.10), quoted; "" for others. It
	 * changes with every write but those that only merge an attendee's
	 * answer into the organizer's copy. */
	char schedule_tag[PIM_ETAG_MAX];
	int64_t size;
	int64_t created, modified;
	/* After a put: scheduling changed the stored text (an attendee's
	 * answer), so it is not the client's and neither is its ETag. */
	bool altered;
};
void pim_object_clear(struct pim_object *obj);

/* An object the actor may read, by name: 1, 0 (absent or unreadable), -1. */
int pim_object_find(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    const char *name, struct pim_object *obj_r, struct ox_error *err);
/* The objects of a calendar the actor may read, by name. */
typedef int pim_object_fn(const struct pim_object *obj, const char *data, void *ctx);
int pim_object_list(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    pim_object_fn *fn, void *ctx, struct ox_error *err);
/* The same without the text: fn gets data NULL (pim_object_read has it). */
int pim_object_list_index(struct store *s, int64_t actor, const struct pim_calendar *cal,
                          pim_object_fn *fn, void *ctx, struct ox_error *err);
/* The iCalendar text of an object; the caller frees *data_r. */
int pim_object_read(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    const struct pim_object *obj, char **data_r, size_t *len_r,
                    struct ox_error *err);
/* Whether the actor may create (existing NULL) or overwrite an object;
 * checked before a client's body is read. */
int pim_object_may_put(struct store *s, int64_t actor, const struct pim_calendar *cal,
                       const struct pim_object *existing, struct ox_error *err);
/* Creates or replaces the object `name` with iCalendar text (len bytes,
 * not NUL-terminated necessarily). On failure nothing changed and, for
 * OX_ERR_INVALID, OX_ERR_CONFLICT and OX_ERR_LIMIT, *reject_r says why.
 * On success obj_r describes the stored object. */
int pim_object_put(struct store *s, int64_t actor, const struct pim_calendar *cal, const char *name,
                   const char *data, size_t len, bool *created_r, struct pim_object *obj_r,
                   enum pim_reject *reject_r, struct ox_error *err);
/* PIM_DELETE_NO_REPLY: an attendee removes their copy without declining
 * (RFC 6638 8.1, Schedule-Reply: F). */
#define PIM_DELETE_NO_REPLY 1u
int pim_object_delete(struct store *s, int64_t actor, const struct pim_calendar *cal,
                      const struct pim_object *obj, unsigned flags, struct ox_error *err);
/* Copies an object (or, with move, moves it) to the free name dst_name of
 * dst_cal, all or nothing, joining an open transaction (COPY and MOVE,
 * RFC 4791 5.3.2.1). Needs reading the source, creating in the
 * destination and, to move, deleting the source; neither may be a
 * schedule inbox. The destination must take the component
 * (PIM_REJECT_COMPONENT) and its UID must be free there
 * (PIM_REJECT_UID; *conflict_r, when not NULL, gets the name holding it
 * if the actor may read that object). A scheduling object (one with an
 * ORGANIZER) only moves between calendars of its owner, as scheduling
 * keeps one copy per calendar user (PIM_REJECT_SCHEDULING, RFC 6638
 * 3.2.4.1). Nothing is scheduled; both calendars record the change. */
int pim_object_transfer(struct store *s, int64_t actor, const struct pim_calendar *src_cal,
                        const struct pim_object *src, const struct pim_calendar *dst_cal,
                        const char *dst_name, bool move, enum pim_reject *reject_r,
                        char **conflict_r, struct ox_error *err);

/* A calendar-query filter (RFC 4791 9.7). Names compare without case.
 * A time range is [start, end), INT64_MIN / INT64_MAX for open ends. */
enum pim_collation {
	PIM_COLLATION_ASCII_CASEMAP, /* i;ascii-casemap, the default */
	PIM_COLLATION_OCTET,         /* i;octet */
};
struct pim_text_match {
	char *text; /* matched as a substring */
	enum pim_collation collation;
	bool negate;
};
struct pim_param_filter {
	char *name;
	bool not_defined;
	struct pim_text_match *match; /* NULL: the parameter is present */
};
struct pim_prop_filter {
	char *name;
	bool not_defined;
	bool has_range; /* on the property's DATE or DATE-TIME value */
	int64_t start, end;
	struct pim_text_match *match; /* NULL: none */
	struct pim_param_filter *params;
	size_t nparams;
};
/* Matches a component named `name` (the object's VCALENDAR at the root):
 * with not_defined, when the parent has none; else when the parent has
 * one for which every prop and comp filter holds. A time range is allowed
 * only on VEVENT and VTODO below the root and matches when an instance of
 * the object's components of that kind overlaps it (RFC 4791 9.9). */
struct pim_comp_filter {
	char *name;
	bool not_defined;
	bool has_range;
	int64_t start, end;
	struct pim_prop_filter *props;
	size_t nprops;
	struct pim_comp_filter *comps;
	size_t ncomps;
};
void pim_comp_filter_free(struct pim_comp_filter **filter);

/* A calendar-query: objects of `components` (0: any) with an instance
 * in [start, end) (INT64_MIN / INT64_MAX for open ends; no time range
 * when has_range is false), and that pass `filter` when it is not NULL.
 * Recurrences are expanded for the match. The first four narrow the
 * candidates in the index; with a filter, the filter alone decides. */
struct pim_query {
	unsigned components;
	bool has_range;
	int64_t start, end;
	const struct pim_comp_filter *filter;
	/* Reads floating times and DATE values (CALDAV:timezone of the
	 * query); NULL: the calendar's (pim_calendar_zone). */
	const struct pim_zone *zone;
};
int pim_object_query(struct store *s, int64_t actor, const struct pim_calendar *cal,
                     const struct pim_query *q, pim_object_fn *fn, void *ctx, struct ox_error *err);

/* --- views of an object (CALDAV:calendar-data in a REPORT, RFC 4791 9.6) ---
 * Which components and properties to return (9.6.1-9.6.4): names compare
 * without case; a component that names no property returns all of them,
 * one that names no component returns all of its components (as the
 * RFC's example 7.8.1 reads an empty VTIMEZONE). */
struct pim_select_prop {
	char *name;
	bool novalue; /* the property without its value */
};
struct pim_select {
	char *name;
	bool all_props, all_comps;
	struct pim_select_prop *props;
	size_t nprops;
	struct pim_select *comps;
	size_t ncomps;
};
enum pim_recurrence_view {
	PIM_RECURRENCE_STORED, /* master and overrides as stored */
	PIM_RECURRENCE_EXPAND, /* 9.6.5: one component per instance in range */
	PIM_RECURRENCE_LIMIT,  /* 9.6.6: the master and the overrides that touch the range */
};
struct pim_view {
	struct pim_select *select; /* NULL: everything */
	enum pim_recurrence_view recurrence;
	int64_t start, end; /* of expand or limit-recurrence-set, UTC */
	bool limit_freebusy;
	int64_t fb_start, fb_end; /* 9.6.7 */
};
void pim_view_clear(struct pim_view *view);
/* Whether a view returns the stored text unchanged. */
bool pim_view_is_stored(const struct pim_view *view);
/* Expansion's bounds (CALDAV:max-instances): instances of one object in
 * one answer, and the bytes of one expanded object. */
#define PIM_EXPAND_INSTANCES 1000
#define PIM_VIEW_MAX (8 * 1024 * 1024)
/* An object's text as `view` shows it (pure). Expanded instances are
 * separate components with RECURRENCE-ID (recurring ones) and without
 * RRULE, RDATE, EXDATE and EXRULE; times with a time zone are in UTC, no
 * VTIMEZONE is left; DATE values and floating times stay as they are.
 * zone reads floating times and DATE values to decide what overlaps the
 * range (NULL: UTC). *text_r is the caller's. -1 with OX_ERR_LIMIT past
 * PIM_EXPAND_INSTANCES instances or PIM_VIEW_MAX bytes, OX_ERR_INVALID for
 * text that is not iCalendar. */
int pim_view_apply(const char *data, const struct pim_view *view, const struct pim_zone *zone,
                   char **text_r, struct ox_error *err);

/* The changes to a calendar's objects after `since` (0: every object that
 * exists, without removals), in change order: fn gets the object when it
 * exists and the actor may read it, else NULL (removed). *current_r is
 * the calendar's newest modseq, the state the caller reached. */
typedef int pim_change_fn(const char *name, const struct pim_object *obj, void *ctx);
int pim_object_changes(struct store *s, int64_t actor, const struct pim_calendar *cal,
                       int64_t since, pim_change_fn *fn, void *ctx, int64_t *current_r,
                       struct ox_error *err);

/* Busy time (RFC 4791 7.10) in [start, end): fn gets each busy period,
 * sorted, merged, clipped to the range, with `tentative` for STATUS
 * TENTATIVE. Events that are TRANSP TRANSPARENT or STATUS CANCELLED do
 * not count. Seeing the calendar (free/busy rights) is enough; at most
 * PIM_BUSY_MAX busy instances (OX_ERR_LIMIT past that). */
#define PIM_BUSY_MAX 10000
typedef int pim_busy_fn(int64_t start, int64_t end, bool tentative, void *ctx);
int pim_calendar_busy(struct store *s, int64_t actor, const struct pim_calendar *cal, int64_t start,
                      int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err);

/* The whole calendar as one iCalendar stream: one VCALENDAR with each
 * time zone once (by TZID, first definition wins) before the objects'
 * components. fn gets the text piece by piece and returns -1 to stop. */
typedef int pim_write_fn(const char *text, size_t len, void *ctx);
int pim_calendar_export(struct store *s, int64_t actor, const struct pim_calendar *cal,
                        pim_write_fn *fn, void *ctx, struct ox_error *err);

/* --- scheduling (RFC 6638) ---
 * A PUT or DELETE of an object with an ORGANIZER in a user's calendar
 * schedules implicitly: the organizer's changes reach attendees who are
 * users or resources of the same context (their schedule inbox and, when
 * they want it, their default calendar), an attendee's answer reaches the
 * organizer's copy, cancellations remove the attendees' copies. Resources
 * answer by their booking policy. Everyone else is handed to the iMIP
 * hook. */

/* The owner's schedule inbox, made at first use; only the owner sees it
 * (1), others get 0. */
int pim_schedule_inbox(struct store *s, int64_t actor, int64_t owner, struct pim_calendar *cal_r,
                       struct ox_error *err);

/* Called inside the scheduling transaction for a calendar user outside
 * the context (iMIP, RFC 6047): it MUST only queue the message (the
 * transaction may still roll back). method is "REQUEST", "REPLY" or
 * "CANCEL"; itip the iTIP text; sender the user on whose behalf. */
typedef int pim_imip_hook(struct store *s, int64_t sender, const char *recipient,
                          const char *method, const char *itip, struct ox_error *err);
void pim_schedule_set_imip_hook(pim_imip_hook *hook);

/* Whether invitations also land in the user's default calendar (they
 * always land in the inbox). */
int pim_schedule_set_auto_add(struct store *s, int64_t user, bool on, struct ox_error *err);

/* The busy time of a calendar user as the actor may see it: 1 with fn
 * called per period, 0 when the address is no user or resource of the
 * actor's context. A user's default calendar is visible as busy time to
 * their whole context (Open-Xchange's behaviour); their other calendars
 * count when the actor may see them. */
int pim_schedule_busy(struct store *s, int64_t actor, const char *address, int64_t start,
                      int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err);

/* Answers a free/busy request posted to the actor's outbox (RFC 6638
 * 5.1): fn gets each recipient with a request status and, when known,
 * their busy time as a VFREEBUSY REPLY. OX_ERR_INVALID for a body that
 * is no such request, OX_ERR_PERM when its ORGANIZER is not the actor. */
struct pim_fb_answer {
	const char *recipient; /* as the request wrote it */
	const char *status;    /* RFC 5546 3.6 request status */
	const char *calendar_data;
};
typedef int pim_fb_answer_fn(const struct pim_fb_answer *answer, void *ctx);
int pim_schedule_freebusy(struct store *s, int64_t actor, const char *data, size_t len,
                          pim_fb_answer_fn *fn, void *ctx, struct ox_error *err);

/* --- ICS feeds ---
 * A feed publishes one calendar, read-only, as iCalendar to whoever holds
 * its URL, without a login. The URL carries a random token of 256 bits
 * (PIM_FEED_TOKEN_LEN characters of base64url); the store keeps only its
 * SHA-256, so the token is known once, when the feed is made.
 *
 * A feed reads with its creator's rights, checked at every fetch: it stops
 * answering when it is revoked, when its calendar is deleted, when the
 * creator may no longer read all of the calendar's objects, and when the
 * creator (or their context) is disabled or deleted. Making, listing and
 * revoking the feeds of a calendar needs admin rights on it (its owner
 * has them); making one also needs the right to read all its objects. */
#define PIM_FEED_TOKEN_LEN 43 /* AUTH_TOKEN_LEN: 256 bits, base64url unpadded */
#define PIM_FEEDS_MAX 100     /* per calendar */

struct pim_feed {
	int64_t id;
	int64_t folder_id;
	int64_t created_by;
	int64_t created;   /* Unix seconds */
	int64_t last_used; /* Unix seconds of the latest fetch (within a minute); 0: never */
};

/* Makes a feed of the calendar or task folder folder_id. token_r gets the
 * token, NUL-terminated; it is not stored. OX_ERR_NOT_FOUND when the actor
 * sees no calendar there, OX_ERR_PERM without the rights, OX_ERR_LIMIT
 * past PIM_FEEDS_MAX. */
int pim_feed_create(struct store *s, int64_t actor, int64_t folder_id,
                    char token_r[PIM_FEED_TOKEN_LEN + 1], struct pim_feed *feed_r,
                    struct ox_error *err);
/* The feeds of a calendar the actor administers, oldest first (without
 * tokens). The caller frees *list_r with g_free(). */
int pim_feed_list(struct store *s, int64_t actor, int64_t folder_id, struct pim_feed **list_r,
                  size_t *count_r, struct ox_error *err);
/* Revokes a feed of a calendar the actor administers; any other id is
 * OX_ERR_NOT_FOUND, so ids of others' feeds stay unknown. feed_r (may be
 * NULL) gets what was revoked. */
int pim_feed_revoke(struct store *s, int64_t actor, int64_t feed_id, struct pim_feed *feed_r,
                    struct ox_error *err);
/* What a token opens now: 1 with the feed and its calendar as the creator
 * sees it (export it with feed_r->created_by as the actor); 0 for a token
 * that opens nothing, whether malformed, unknown, revoked or of a creator
 * who lost access (one answer for all, so nothing tells them apart); -1 when
 * the store failed. The token is hashed before it is looked up, so the
 * look-up's timing says nothing about it. Notes the use in last_used. */
int pim_feed_resolve(struct store *s, const char *token, struct pim_feed *feed_r,
                     struct pim_calendar *cal_r, struct ox_error *err);

#endif
