/* CalDAV request bodies (RFC 4791 5.3.1, 7.8-7.10), pure: bytes in,
 * structures out, as strict as dav-xml.c. */
#ifndef OX_DAV_CALDAV_H
#define OX_DAV_CALDAV_H

#include "dav/dav-private.h"

#include "pim/pim.h"

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CALDAV_HREFS_MAX 1000

struct dav_caldav_mkcalendar {
	char *display_name;  /* NULL when not given */
	unsigned components; /* enum pim_component bits; 0 when not given */
	char *time_zone;     /* CALDAV:calendar-timezone's text, NULL when not given */
	/* Extended MKCOL: DAV:resourcetype named CALDAV:calendar, or a type
	 * other than it and DAV:collection. */
	bool calendar_type, other_type;
};
/* The body of MKCALENDAR, or of an extended MKCOL (RFC 5689, root
 * DAV:mkcol). An empty body is allowed. -1 with OX_ERR_INVALID (malformed, or a
 * component other than VEVENT and VTODO: *cond_r names the CalDAV
 * precondition then). */
int dav_caldav_parse_mkcalendar(const char *body, size_t len, struct dav_caldav_mkcalendar *mk_r,
                                const char **cond_r, struct ox_error *err);
void dav_caldav_mkcalendar_clear(struct dav_caldav_mkcalendar *mk);

enum dav_caldav_report_kind {
	CALDAV_REPORT_QUERY,
	CALDAV_REPORT_MULTIGET,
	CALDAV_REPORT_FREEBUSY,
};
struct dav_caldav_report {
	enum dav_caldav_report_kind kind;
	struct dav_propfind pf; /* the properties asked for */
	/* query: what the index narrows (the inner comp-filter's component,
	 * 0 any, and its time range); free-busy: the range */
	unsigned components;
	bool has_range;
	int64_t start, end;             /* INT64_MIN / INT64_MAX when open */
	struct pim_comp_filter *filter; /* query */
	GPtrArray *hrefs;               /* multiget */
	/* CALDAV:calendar-data's children (RFC 4791 9.6), when the
	 * properties ask for calendar-data */
	struct pim_view view;
	char *time_zone; /* query: CALDAV:timezone's text (RFC 4791 9.8), or NULL */
};
/* 0; 1 when the root names a report this parser does not know; -1 with
 * OX_ERR_INVALID, and *cond_r set for a filter it cannot evaluate
 * ("supported-filter", "supported-collation"), a malformed one
 * ("valid-filter") or calendar-data in another media type
 * ("supported-calendar-data"); without *cond_r for other malformed
 * bodies (a 400, such as expand without start and end). */
int dav_caldav_parse_report(const char *body, size_t len, struct dav_caldav_report *r,
                            const char **cond_r, struct ox_error *err);
void dav_caldav_report_clear(struct dav_caldav_report *r);

/* "20060104T000000Z" in unix seconds; false when malformed. */
bool dav_caldav_parse_utc(const char *text, int64_t *t_r);

/* POST on a calendar home's outbox: a free/busy request (dav-schedule.c). */
void dav_caldav_post(struct dav_request *rq);

#endif
