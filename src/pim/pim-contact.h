/* Address books and contacts: contact folders (module FOLDER_CONTACTS)
 * holding contacts, each one vCard 3.0 or 4.0 text as received plus
 * indexed columns (UID, FN, N, EMAIL and TEL values, ETag), one contact
 * per UID per address book; and the read-only global address book of the
 * actor's context, made from the directory's users and groups.
 *
 * An address book is addressed in its owner's home by a segment: the one
 * given at creation, else the default folder's role ("contacts"), else the
 * folder id; address books shared by others appear in the viewer's own
 * home under their folder id; PIM_GAB_SEGMENT names the global address
 * book in the viewer's own home. Every function decides access with
 * folder_check() for the actor and records each change with
 * change_record(). Errors as in pim.h; a refused vCard is OX_ERR_INVALID,
 * OX_ERR_CONFLICT or OX_ERR_LIMIT with a pim_contact_reject. */
#ifndef OX_PIM_CONTACT_H
#define OX_PIM_CONTACT_H

#include "folder/folder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ox_error;
struct store;

#define PIM_CONTACT_MAX (1024 * 1024)
#define PIM_CONTACT_LINES_MAX 10000
#define PIM_GAB_SEGMENT "gab"

/* Why a contact was refused, for the protocol's precondition. */
enum pim_contact_reject {
	PIM_CONTACT_REJECT_NONE,
	PIM_CONTACT_REJECT_DATA, /* not one valid vCard 3.0/4.0 (RFC 6352 valid-address-data) */
	PIM_CONTACT_REJECT_UID,  /* the UID is used by another contact of the book */
	PIM_CONTACT_REJECT_SIZE, /* larger than PIM_CONTACT_MAX */
};

struct pim_addressbook {
	int64_t folder_id; /* 0 for the global address book */
	int64_t owner_id;
	char *segment;
	char *display_name;
	int64_t modseq; /* newest change of the book or its contacts */
	int64_t created;
	bool shared;
	bool global; /* the context's global address book: read-only */
	struct folder_perm rights;
};
void pim_addressbook_clear(struct pim_addressbook *book);

/* Calls fn for each address book in owner's home as the actor sees it
 * (and, when actor == owner, the shared ones and the global one). fn
 * returns 0 to go on, -1 to stop. */
typedef int pim_addressbook_fn(const struct pim_addressbook *book, void *ctx);
int pim_addressbook_list(struct store *s, int64_t actor, int64_t owner, pim_addressbook_fn *fn,
                         void *ctx, struct ox_error *err);
/* The address book at a segment of owner's home: 1, 0, -1. */
int pim_addressbook_find(struct store *s, int64_t actor, int64_t owner, const char *segment,
                         struct pim_addressbook *book_r, struct ox_error *err);
/* Creates an address book in the actor's own home at `segment` (letters,
 * digits, "-", "_", ".", "@", not only digits, not PIM_GAB_SEGMENT).
 * display_name NULL: the segment. */
int pim_addressbook_create(struct store *s, int64_t actor, const char *segment,
                           const char *display_name, struct pim_addressbook *book_r,
                           struct ox_error *err);
int pim_addressbook_delete(struct store *s, int64_t actor, const struct pim_addressbook *book,
                           struct ox_error *err);

struct pim_contact {
	int64_t id; /* 0 in the global address book */
	int64_t folder_id;
	char *name; /* the resource name in the book */
	char *uid;
	char *fn, *n;
	char *emails, *tels; /* the values, one a line; "" when none */
	char etag[40];       /* quoted strong ETag */
	int64_t size;
	int64_t created, modified;
};
void pim_contact_clear(struct pim_contact *c);

/* A contact the actor may read, by name: 1, 0 (absent or unreadable), -1. */
int pim_contact_find(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const char *name, struct pim_contact *c_r, struct ox_error *err);
/* The vCard text of a contact; the caller frees *data_r. */
int pim_contact_read(struct store *s, int64_t actor, const struct pim_addressbook *book,
                     const struct pim_contact *c, char **data_r, size_t *len_r,
                     struct ox_error *err);
/* Whether the actor may create (existing NULL) or overwrite a contact;
 * checked before a client's body is read. */
int pim_contact_may_put(struct store *s, int64_t actor, const struct pim_addressbook *book,
                        const struct pim_contact *existing, struct ox_error *err);
/* Creates or replaces the contact `name` with vCard text (len bytes). On
 * failure nothing changed and *reject_r says why when the text was
 * refused. On success c_r describes the stored contact. */
int pim_contact_put(struct store *s, int64_t actor, const struct pim_addressbook *book,
                    const char *name, const char *data, size_t len, bool *created_r,
                    struct pim_contact *c_r, enum pim_contact_reject *reject_r,
                    struct ox_error *err);
int pim_contact_delete(struct store *s, int64_t actor, const struct pim_addressbook *book,
                       const struct pim_contact *c, struct ox_error *err);

/* The changes to a book's contacts after `since` (0: every contact that
 * exists, without removals), in change order: fn gets the contact when it
 * exists and the actor may read it, else NULL (removed). *current_r is
 * the book's newest modseq. The global address book has no change log
 * (OX_ERR_NOT_FOUND). */
typedef int pim_contact_change_fn(const char *name, const struct pim_contact *c, void *ctx);
int pim_contact_changes(struct store *s, int64_t actor, const struct pim_addressbook *book,
                        int64_t since, pim_contact_change_fn *fn, void *ctx, int64_t *current_r,
                        struct ox_error *err);

/* --- addressbook-query filters (RFC 6352 10.5) --- */
enum pim_contact_field {
	PIM_CONTACT_FIELD_FN,
	PIM_CONTACT_FIELD_N,
	PIM_CONTACT_FIELD_EMAIL,
	PIM_CONTACT_FIELD_TEL,
	PIM_CONTACT_FIELD_UID,
};
enum pim_contact_collation {
	PIM_CONTACT_COLL_UNICODE_CASEMAP, /* i;unicode-casemap (RFC 5051), the default */
	PIM_CONTACT_COLL_ASCII_CASEMAP,   /* i;ascii-casemap (RFC 4790 9.2) */
	PIM_CONTACT_COLL_OCTET,           /* i;octet */
};
enum pim_contact_match_type {
	PIM_CONTACT_MATCH_EQUALS,
	PIM_CONTACT_MATCH_CONTAINS, /* the default */
	PIM_CONTACT_MATCH_STARTS_WITH,
	PIM_CONTACT_MATCH_ENDS_WITH,
};
struct pim_contact_text_match {
	char *text;
	enum pim_contact_collation collation;
	enum pim_contact_match_type type;
	bool negate;
};
struct pim_contact_prop_filter {
	enum pim_contact_field field;
	bool allof;          /* test="allof": every text-match holds */
	bool is_not_defined; /* matches contacts without the property */
	struct pim_contact_text_match *matches;
	size_t n_matches;
};
struct pim_contact_query {
	bool allof; /* filter test="allof" */
	struct pim_contact_prop_filter *filters;
	size_t n_filters; /* 0: every contact */
	size_t limit;     /* 0: no limit */
};
void pim_contact_query_clear(struct pim_contact_query *q);
/* Whether a contact's indexed values pass the query (pure). */
bool pim_contact_matches(const struct pim_contact *c, const struct pim_contact_query *q);

/* Calls fn with each contact of the book the actor may read that passes
 * q (NULL: all), by name, with its text. fn returns 0 to go on, -1 to
 * stop. *truncated_r (MAY be NULL) tells that q->limit cut the list. */
typedef int pim_contact_fn(const struct pim_contact *c, const char *data, void *ctx);
int pim_contact_query(struct store *s, int64_t actor, const struct pim_addressbook *book,
                      const struct pim_contact_query *q, pim_contact_fn *fn, void *ctx,
                      bool *truncated_r, struct ox_error *err);

#endif
