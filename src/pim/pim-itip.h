/* iTIP (RFC 5546) messages for implicit scheduling (RFC 6638), on
 * libical; pure: text in, text out. Calendar user addresses are kept
 * lower-case without "mailto:". */
#ifndef OX_PIM_ITIP_H
#define OX_PIM_ITIP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pim_itip_method {
	PIM_ITIP_NONE, /* a stored object: no METHOD */
	PIM_ITIP_REQUEST,
	PIM_ITIP_REPLY,
	PIM_ITIP_CANCEL,
};

struct pim_itip_attendee {
	char *address;
	char *partstat; /* of the master, else of the first component naming them */
	bool by_client; /* SCHEDULE-AGENT=CLIENT or NONE: not the server's to deliver */
	bool group;     /* CUTYPE=GROUP (RFC 5545 3.2.3) */
};

/* Who organizes and attends one calendar object (all its components). */
struct pim_itip {
	char *uid;
	char *organizer; /* NULL: not a scheduling object */
	bool organizer_by_client;
	char *organizer_status; /* the ORGANIZER's SCHEDULE-STATUS, or NULL */
	/* ORGANIZER;SCHEDULE-FORCE-SEND=REPLY: the attendee's client asks for
	 * a REPLY even though their answer did not change (RFC 6638 3.2.11). */
	bool force_reply;
	bool has_force_send; /* some ORGANIZER or ATTENDEE has SCHEDULE-FORCE-SEND */
	bool cancelled;      /* the master is STATUS:CANCELLED */
	struct pim_itip_attendee *attendees;
	size_t nattendees;
};

/* 0, or -1 when the text is not a VCALENDAR with a UID. */
int pim_itip_parse(const char *data, struct pim_itip *it_r);
void pim_itip_clear(struct pim_itip *it);
const struct pim_itip_attendee *pim_itip_attendee(const struct pim_itip *it, const char *address);
/* "mailto:Bob@Example.org" → "bob@example.org"; NULL when it is no
 * e-mail address. */
char *pim_itip_address(const char *cal_address);

/* The object as another calendar user gets it: METHOD set (none for
 * PIM_ITIP_NONE: the copy they store), without the parameters that only
 * steer the sender's server (SCHEDULE-AGENT, SCHEDULE-STATUS and
 * SCHEDULE-FORCE-SEND, RFC 6638 7.1-7.3); a CANCEL also marks every
 * component STATUS:CANCELLED. NULL when it does not parse. */
char *pim_itip_message(const char *data, enum pim_itip_method method);
/* The object with the attendee's PARTSTAT set in every component naming
 * them, and METHOD set; NULL when no component names them. */
char *pim_itip_with_partstat(const char *data, const char *address, const char *partstat,
                             enum pim_itip_method method);
/* A REPLY from one attendee: the object with only their ATTENDEE lines,
 * without the parameters pim_itip_message drops. */
char *pim_itip_reply(const char *data, const char *address);

/* A client's object as the server keeps it (RFC 6638 3.2.9, 3.2.11): without
 * SCHEDULE-FORCE-SEND anywhere, and without SCHEDULE-STATUS on the
 * ORGANIZER and on the attendees the server delivers to (those with
 * SCHEDULE-AGENT=CLIENT or NONE keep theirs: their delivery is the
 * client's to report). NULL when there was nothing to take out. */
char *pim_itip_scrub(const char *data);
/* The object with SCHEDULE-STATUS (RFC 6638 3.2.9) set on every ATTENDEE
 * whose address is a key of `attendees` (address → status; may be NULL),
 * and on the ORGANIZER when `organizer` is not NULL ("" removes it);
 * SCHEDULE-FORCE-SEND is dropped, as it is never stored. NULL when it
 * does not parse. */
char *pim_itip_with_status(const char *data, GHashTable *attendees, const char *organizer);
/* The object with the members of a group attendee (CUTYPE=GROUP) added
 * as attendees of every component that names the group and not them:
 * CUTYPE=INDIVIDUAL, MEMBER the group's address (RFC 5545 3.2.11),
 * PARTSTAT=NEEDS-ACTION, the group's ROLE and RSVP. `group` and
 * `members` (NULL-terminated) are addresses as pim_itip_address() makes
 * them. NULL when nobody was added. */
char *pim_itip_with_members(const char *data, const char *group, char *const *members);

/* A free/busy request (RFC 6638 5.1: VFREEBUSY with METHOD:REQUEST
 * posted to an outbox). */
#define PIM_ITIP_FB_MAX 100 /* recipients answered per request */
struct pim_itip_fb {
	char *uid;
	char *organizer;  /* address */
	char **attendees; /* as written (mailto:...), NULL-terminated */
	int64_t start, end;
};
/* 0, or -1 when it is not such a request with an organizer, a range and
 * a recipient. */
int pim_itip_fb_parse(const char *data, struct pim_itip_fb *fb_r);
void pim_itip_fb_clear(struct pim_itip_fb *fb);
/* A VFREEBUSY text for the range: begin, a period per call (a
 * pim_busy_fn with the GString as ctx), end. With an attendee it is the
 * REPLY to fb from them. */
void pim_itip_fb_begin(GString *out, const struct pim_itip_fb *fb, const char *attendee);
int pim_itip_fb_period(int64_t start, int64_t end, bool tentative, void *ctx);
void pim_itip_fb_end(GString *out);

#endif
