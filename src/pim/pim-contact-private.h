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

/* The global address book of the actor's context: each enabled user and
 * each group as a generated vCard 4.0, by name ("LOGIN.vcf",
 * "group-NAME.vcf"). Calls fn as pim_contact_query does, unfiltered. */
int pim_gab_list(struct store *s, int64_t actor, pim_contact_fn *fn, void *ctx,
                 struct ox_error *err);

#endif
