/* CardDAV request bodies (RFC 6352 8.6, 8.7; RFC 5689 extended MKCOL),
 * pure: bytes in, structures out, as strict as dav-xml.c. */
#ifndef OX_DAV_CARDDAV_H
#define OX_DAV_CARDDAV_H

#include "dav/dav-private.h"
#include "pim/pim-contact.h"

#define CARDDAV_NS "urn:ietf:params:xml:ns:carddav"
#define CARDDAV_HREFS_MAX 1000
#define CARDDAV_FILTERS_MAX 32 /* prop-filters, and text-matches in each */
#define CARDDAV_MATCH_TEXT_MAX 1000
#define CARDDAV_ADDRESS_PROPS_MAX 64 /* CARDDAV:prop in address-data */
#define CARDDAV_NAME_MAX 128         /* a vCard property or parameter name */

struct dav_carddav_mkcol {
	char *display_name; /* NULL when not given */
	char *description;  /* CARDDAV:addressbook-description as XML text, or NULL */
	bool addressbook;   /* the resourcetype names CARDDAV:addressbook */
};
/* DAV:mkcol; an empty body is a plain collection. -1 with OX_ERR_INVALID
 * when malformed. */
int dav_carddav_parse_mkcol(const char *body, size_t len, struct dav_carddav_mkcol *mk_r,
                            struct ox_error *err);
void dav_carddav_mkcol_clear(struct dav_carddav_mkcol *mk);

enum dav_carddav_report_kind {
	CARDDAV_REPORT_QUERY,
	CARDDAV_REPORT_MULTIGET,
};
/* What CARDDAV:address-data asks for (RFC 6352 10.4). */
struct dav_carddav_address_data {
	int version;                    /* 3 or 4 when the version attribute asks; 0: as stored */
	struct pim_vcard_select *props; /* the CARDDAV:prop elements; NULL: the whole card */
	size_t n_props;
};
struct dav_carddav_report {
	enum dav_carddav_report_kind kind;
	struct dav_propfind pf;               /* the properties asked for */
	struct dav_carddav_address_data data; /* when pf names address-data */
	struct pim_contact_query q;           /* query */
	GPtrArray *hrefs;                     /* multiget */
};
/* 0; 1 when the root names a report this parser does not know; -1 with
 * OX_ERR_INVALID (or OX_ERR_LIMIT), and *cond_r set to the CardDAV
 * precondition for a filter it cannot evaluate ("supported-filter"), an
 * unknown collation ("supported-collation") or address data in another
 * media type or version than text/vcard 3.0 or 4.0
 * ("supported-address-data"). */
int dav_carddav_parse_report(const char *body, size_t len, struct dav_carddav_report *r,
                             const char **cond_r, struct ox_error *err);
void dav_carddav_report_clear(struct dav_carddav_report *r);

#endif
