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
struct pim_gab;

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
	/* The global book's cards, made once when the book was described and
	 * shared by its copies, so one request builds them once. */
	struct pim_gab *gab;
};
void pim_addressbook_clear(struct pim_addressbook *book);
/* A copy that owns its strings (and shares the global book's cards). */
void pim_addressbook_copy(struct pim_addressbook *dst, const struct pim_addressbook *src);
/* The quoted strong ETag of the whole book as the actor reads it (GET):
 * its state and what the actor's read right lets them see. */
#define PIM_BOOK_ETAG_MAX 40
void pim_addressbook_etag(const struct pim_addressbook *book, int64_t actor,
                          char out[PIM_BOOK_ETAG_MAX]);

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

/* Dead properties of an address book (WebDAV), each the property element
 * as XML text; CARDDAV:addressbook-description is one of them. Reading
 * them needs seeing the book. */
#define PIM_BOOK_PROPS_MAX 64
#define PIM_BOOK_PROP_VALUE_MAX (64 * 1024)
typedef int pim_book_prop_fn(const char *ns, const char *name, const char *value, void *ctx);
int pim_addressbook_props(struct store *s, int64_t actor, const struct pim_addressbook *book,
                          pim_book_prop_fn *fn, void *ctx, struct ox_error *err);
struct pim_book_prop_op {
	const char *ns; /* "" for none */
	const char *name;
	const char *value; /* the element as XML text; NULL removes it */
};
/* Changes a book's properties, all or nothing (joining an open
 * transaction): with set_name, its display name (NULL: back to the
 * folder's name), then the dead properties in order. Needs admin on the
 * folder (WebDAV's write-properties); the global book refuses
 * (OX_ERR_PERM). At most PIM_BOOK_PROPS_MAX dead properties of at most
 * PIM_BOOK_PROP_VALUE_MAX bytes each (OX_ERR_LIMIT). */
int pim_addressbook_patch(struct store *s, int64_t actor, struct pim_addressbook *book,
                          bool set_name, const char *display_name,
                          const struct pim_book_prop_op *ops, size_t n, struct ox_error *err);

/* The whole book as one text/vcard stream: each contact the actor may
 * read, by name, as stored, each ending in a line break. The rows are
 * read a page at a time, so memory does not grow with the book. fn
 * returns -1 to stop (then OX_ERR_TEMP). */
typedef int pim_contact_write_fn(const char *text, size_t len, void *ctx);
int pim_addressbook_export(struct store *s, int64_t actor, const struct pim_addressbook *book,
                           pim_contact_write_fn *fn, void *ctx, struct ox_error *err);

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
/* Copies a contact (or, with move, moves it) to the free name dst_name
 * of dst_book, all or nothing, joining an open transaction (COPY and
 * MOVE, RFC 6352 6.3.2.1). Needs reading the source, creating in the
 * destination and, to move, deleting the source; the global book may be
 * copied from, never written. The UID must be free in dst_book
 * (OX_ERR_CONFLICT with PIM_CONTACT_REJECT_UID; *conflict_r, when not
 * NULL, gets the name holding it if the actor may read that contact).
 * Both books record the change. */
int pim_contact_transfer(struct store *s, int64_t actor, const struct pim_addressbook *src_book,
                         const struct pim_contact *src, const struct pim_addressbook *dst_book,
                         const char *dst_name, bool move, enum pim_contact_reject *reject_r,
                         char **conflict_r, struct ox_error *err);

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
/* RFC 6352 10.5.2: a parameter of the property. */
struct pim_contact_param_filter {
	char *name;                           /* upper case */
	bool is_not_defined;                  /* matches a property without it */
	struct pim_contact_text_match *match; /* NULL: the parameter is there */
};
struct pim_contact_prop_filter {
	enum pim_contact_field field; /* the property when name is NULL */
	/* Any other property (upper case, "GROUP.NAME" for one group only),
	 * matched on the vCard text rather than the index. */
	char *name;
	bool allof;          /* test="allof": every text-match and param-filter holds */
	bool is_not_defined; /* matches contacts without the property */
	struct pim_contact_text_match *matches;
	size_t n_matches;
	struct pim_contact_param_filter *params; /* matched on the text too */
	size_t n_params;
};
struct pim_contact_query {
	bool allof; /* filter test="allof" */
	struct pim_contact_prop_filter *filters;
	size_t n_filters; /* 0: every contact */
	size_t limit;     /* 0: no limit */
};
void pim_contact_query_clear(struct pim_contact_query *q);
/* Whether the index cannot answer q: it names another property or a
 * parameter (pure). */
bool pim_contact_query_needs_text(const struct pim_contact_query *q);
/* Whether a contact's indexed values pass the query (pure); for a query
 * that needs the text, pim_contact_matches_text decides. */
bool pim_contact_matches(const struct pim_contact *c, const struct pim_contact_query *q);
/* Whether a vCard's text passes the query (pure): a property passes a
 * prop-filter when one of its instances does (RFC 6352 10.5.1), its
 * group ignored unless the filter names one; TEXT values are compared
 * unescaped; a 3.0 bare parameter (TEL;WORK) is a TYPE. */
bool pim_contact_matches_text(const char *data, const struct pim_contact_query *q);

/* --- partial retrieval (RFC 6352 10.4) --- */
/* A vCard property to return: the name in upper case, with a group
 * ("X-ABC.TEL") only that group's; novalue keeps the name and parameters
 * and drops the value. */
struct pim_vcard_select {
	char *name;
	bool novalue;
};
/* The card with only the selected properties and BEGIN, END, VERSION and
 * UID, each line as stored (folds and line ends kept). Pure; the caller
 * frees the result. */
char *pim_vcard_select(const char *data, const struct pim_vcard_select *sel, size_t n);
/* The card's VERSION as 3 or 4; 0 when it has none of these (pure). */
int pim_vcard_version(const char *data);
/* The card in vCard `to_version` (3 or 4), or NULL with OX_ERR_INVALID
 * (or OX_ERR_LIMIT when the result would pass the reader's bounds).
 * RFC 6350 Appendix A's rules and the extensions clients use for what
 * 3.0 lacks (docs/internals/carddav.md lists them); every other line is
 * copied as stored. A card already in that version comes back as is.
 * The result passes pim_vcard_index. Pure; the caller frees it. */
char *pim_vcard_convert(const char *text, int to_version, struct ox_error *err);

/* Calls fn with each contact of the book the actor may read that passes
 * q (NULL: all), by name, with its text. fn returns 0 to go on, -1 to
 * stop. *truncated_r (MAY be NULL) tells that q->limit cut the list. */
typedef int pim_contact_fn(const struct pim_contact *c, const char *data, void *ctx);
int pim_contact_query(struct store *s, int64_t actor, const struct pim_addressbook *book,
                      const struct pim_contact_query *q, pim_contact_fn *fn, void *ctx,
                      bool *truncated_r, struct ox_error *err);

#endif
