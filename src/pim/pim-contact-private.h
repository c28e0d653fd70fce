/* Inside pim: the vCard reader (pure: text in, facts out) and the global
 * address book. */
#ifndef OX_PIM_CONTACT_PRIVATE_H
#define OX_PIM_CONTACT_PRIVATE_H

#include "pim/pim-contact.h"

/* What the index keeps of one vCard. The value strings are unescaped;
 * emails and tels hold one value a line ("" when none). */
struct pim_vcard_index {
	char *version; /* "3.0" or "4.0" */
	char *uid;
	char *fn, *n; /* n is "" when absent (allowed in 4.0) */
	char *emails, *tels;
	bool group; /* KIND:group (or Apple's X-ADDRESSBOOKSERVER-KIND) */
};
void pim_vcard_index_clear(struct pim_vcard_index *idx);

/* Reads one vCard 3.0 or 4.0 strictly: at most PIM_CONTACT_MAX bytes and
 * PIM_CONTACT_LINES_MAX lines, UTF-8 on every physical line, no NUL or
 * control characters but tabs, exactly one BEGIN:VCARD ... END:VCARD,
 * one VERSION, FN, N (3.0), one UID. 0, or -1 with OX_ERR_INVALID (or
 * OX_ERR_LIMIT) and a message naming the line. `data` need not end in
 * NUL. */
int pim_vcard_index(const char *data, size_t len, struct pim_vcard_index *idx_r,
                    struct ox_error *err);

/* One property of a card as queries and partial retrieval see it: its
 * name and group (upper case; group NULL when none), the raw parameter
 * text (from the first ';' up to the ':', "" when none) and value (still
 * escaped), and where its physical lines lie in the text (start up to
 * end, the last line end included). */
struct pim_vcard_prop {
	const char *group;
	const char *name;
	const char *params;
	const char *value;
	size_t start, end;
};
/* Calls fn for each content line of a stored card, in order; lines that
 * do not parse are skipped (stored cards passed pim_vcard_index). fn
 * returns 0 to go on, 1 to stop (then this returns 1). Pure. */
typedef int pim_vcard_prop_fn(const struct pim_vcard_prop *p, void *ctx);
int pim_vcard_props(const char *data, pim_vcard_prop_fn *fn, void *ctx);
/* RFC 6350 3.4 text unescaping; the caller frees the result. */
char *pim_vcard_unescape(const char *value);

/* The global address book of the actor's context, made from the
 * directory: each enabled user and each group as a generated vCard 4.0,
 * by name ("LOGIN.vcf", "group-NAME.vcf"). Reference-counted; it never
 * changes once made. */
int pim_gab_build(struct store *s, int64_t actor, struct pim_gab **gab_r, struct ox_error *err);
struct pim_gab *pim_gab_ref(struct pim_gab *gab);
void pim_gab_unref(struct pim_gab **gab);
/* Calls fn with each card in order (fn returns -1 to stop: then -1). */
int pim_gab_foreach(const struct pim_gab *gab, pim_contact_fn *fn, void *ctx);
/* The card named `name` and its text, or NULL. */
const struct pim_contact *pim_gab_find(const struct pim_gab *gab, const char *name,
                                       const char **text_r);
/* A digest of the cards (their ETags): the book's state, for the ctag. */
int64_t pim_gab_state(const struct pim_gab *gab);

#endif
