/* The CardDAV provider (RFC 6352): /dav/addressbooks/LOGIN/ is LOGIN's
 * address book home as the requester sees it, each address book a
 * collection of .vcf resources, and /dav/addressbooks/LOGIN/gab/ the
 * read-only global address book of the context. pim/pim-contact.h decides
 * every access and validates every vCard; this file maps paths,
 * properties and reports to it. */
#include "dav/dav-carddav.h"
#include "directory/directory.h"
#include "http/http.h"

#include <libxml/tree.h>
#include <string.h>

#define CS_NS "http://calendarserver.org/ns/"
#define ADDRESSBOOK_TYPE "<CR:addressbook xmlns:CR=\"" CARDDAV_NS "\"/>"
#define VCARD_TYPE "text/vcard; charset=utf-8"

enum card_kind {
	CARD_TOP,
	CARD_HOME,
	CARD_BOOK,
	CARD_CONTACT
};

/* What a path names, kept in dav_resource.pdata. */
struct card_res {
	enum card_kind kind;
	int64_t owner;
	struct pim_addressbook book; /* CARD_BOOK (when it exists) and CARD_CONTACT */
	struct pim_contact contact;  /* CARD_CONTACT that exists */
	char *name;                  /* CARD_CONTACT: its segment, mapped or not */
	char *data;                  /* the vCard when a report already has it */
	/* What a report's address-data asks for, or NULL: the whole card. */
	const struct dav_carddav_address_data *want;
};

static struct card_res *card_of(struct dav_resource *res)
{
	return res->pdata;
}

static void card_release(struct dav_resource *res)
{
	struct card_res *cr = res->pdata;
	pim_addressbook_clear(&cr->book);
	pim_contact_clear(&cr->contact);
	g_free(cr->name);
	g_free(cr->data);
	g_free(cr);
	res->pdata = NULL;
}

static void copy_contact(struct pim_contact *dst, const struct pim_contact *src)
{
	*dst = *src;
	dst->name = g_strdup(src->name);
	dst->uid = g_strdup(src->uid);
	dst->fn = g_strdup(src->fn);
	dst->n = g_strdup(src->n);
	dst->emails = g_strdup(src->emails);
	dst->tels = g_strdup(src->tels);
}

static void describe_book(struct dav_resource *res, const struct pim_addressbook *book,
                          int64_t actor)
{
	res->exists = res->collection = true;
	res->parent_exists = true;
	res->resourcetype = ADDRESSBOOK_TYPE;
	g_free(res->display_name);
	res->display_name = g_strdup(book->display_name);
	res->created = book->created;
	/* GET answers the whole book as one text/vcard stream, as a
	 * calendar answers one VCALENDAR; the ETag follows its state. */
	g_free(res->content_type);
	res->content_type = g_strdup(VCARD_TYPE);
	char etag[PIM_BOOK_ETAG_MAX];
	pim_addressbook_etag(book, actor, etag);
	g_free(res->etag);
	res->etag = g_strdup(etag);
}

static void describe_contact(struct dav_resource *res, const struct pim_contact *c)
{
	res->exists = true;
	res->collection = false;
	res->parent_exists = true;
	res->length = (uint64_t)c->size;
	g_free(res->content_type);
	g_free(res->etag);
	res->content_type = g_strdup(VCARD_TYPE);
	res->etag = g_strdup(c->etag);
	res->created = c->created;
	res->modified = c->modified;
}

/* The contact `name` in the book res->pdata holds. */
static int lookup_contact(struct dav_request *rq, struct dav_resource *res, const char *name,
                          struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	res->parent_exists = true;
	cr->kind = CARD_CONTACT;
	cr->name = g_strdup(name);
	int r = pim_contact_find(rq->store, rq->user, &cr->book, name, &cr->contact, err);
	if (r > 0)
		describe_contact(res, &cr->contact);
	return r;
}

/* --- vCard version negotiation (RFC 9110 12.5.1, RFC 6352 5.1.1) --- */

/* A media type's version parameter (token or quoted) as 3 or 4, else 0. */
static int vcard_version_value(const char *value)
{
	if (strcmp(value, "3.0") == 0 || strcmp(value, "\"3.0\"") == 0)
		return 3;
	if (strcmp(value, "4.0") == 0 || strcmp(value, "\"4.0\"") == 0)
		return 4;
	return 0;
}

/* The vCard version an Accept header asks for: the text/vcard range with
 * a version parameter of 3.0 or 4.0 and the highest weight (the first of
 * equal ones); 0 when none does (the card is then served as stored). */
static int accepted_version(const char *accept)
{
	int best = 0;
	double best_q = 0;
	gchar **ranges = g_strsplit(accept != NULL ? accept : "", ",", 64);
	for (gchar **r = ranges; *r != NULL; r++) {
		gchar **parts = g_strsplit(*r, ";", 16);
		int version = 0;
		double q = 1;
		bool vcard = g_ascii_strcasecmp(g_strstrip(parts[0]), "text/vcard") == 0;
		for (gchar **p = parts + 1; vcard && *p != NULL; p++) {
			char *eq = strchr(*p, '=');
			if (eq == NULL)
				continue;
			*eq = '\0';
			const char *name = g_strstrip(*p), *value = g_strstrip(eq + 1);
			if (g_ascii_strcasecmp(name, "version") == 0)
				version = vcard_version_value(value);
			else if (g_ascii_strcasecmp(name, "q") == 0)
				q = g_ascii_strtod(value, NULL);
		}
		if (vcard && version != 0 && q > best_q) {
			best = version;
			best_q = q;
		}
		g_strfreev(parts);
	}
	g_strfreev(ranges);
	return best;
}

/* The strong ETag of a converted representation: the stored one with the
 * version added, so that caches and If-None-Match tell them apart while
 * both follow the one stored state. */
static char *version_etag(const char *etag, int version)
{
	size_t len = strlen(etag);
	return g_strdup_printf("%.*s-vcard%d\"", (int)(len > 0 ? len - 1 : 0), etag, version);
}

/* GET and HEAD of a contact answer in the version Accept asks for
 * (converted, with its own ETag; Vary: Accept either way). A write whose
 * If-Match names a converted representation's ETag names the same stored
 * state: it matches, as the client read it from this contact. */
static void negotiate_version(struct dav_request *rq, struct dav_resource *res)
{
	struct card_res *cr = card_of(res);
	const char *method = http_request_method(rq->ex);
	if (res->etag == NULL)
		return;
	if (strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0) {
		const char *im = http_request_header(rq->ex, "If-Match");
		for (int v = 3; im != NULL && v <= 4; v++) {
			char *etag = version_etag(res->etag, v);
			if (http_etag_listed(im, etag, false)) {
				g_free(res->etag);
				res->etag = etag;
				return;
			}
			g_free(etag);
		}
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return;
	http_response_header(rq->ex, "Vary", "Accept");
	int version = accepted_version(http_request_header(rq->ex, "Accept"));
	size_t len;
	struct ox_error err;
	if (version == 0 || pim_contact_read(rq->store, rq->user, &cr->book, &cr->contact,
	                                     &cr->data, &len, &err) < 0)
		return;
	if (pim_vcard_version(cr->data) == version)
		return;
	char *converted = pim_vcard_convert(cr->data, version, &err);
	if (converted == NULL) {
		/* RFC 9110 12.1: a server may answer a representation the
		 * client did not ask for rather than 406. */
		return;
	}
	g_free(cr->data);
	cr->data = converted;
	res->length = strlen(converted);
	char *etag = version_etag(res->etag, version);
	g_free(res->etag);
	res->etag = etag;
	g_free(res->content_type);
	res->content_type = g_strdup_printf(VCARD_TYPE "; version=%d.0", version);
}

static int card_lookup(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                       struct ox_error *err)
{
	memset(res, 0, sizeof(*res));
	struct card_res *cr = g_new0(struct card_res, 1);
	res->pdata = cr;
	if (n == 0) {
		res->exists = res->collection = true;
		return 1;
	}
	int r = dav_owner_lookup(rq, segs[0], &cr->owner, err);
	if (r <= 0 || n > 3)
		return r < 0 ? -1 : 0;
	cr->kind = CARD_HOME;
	res->parent_exists = true;
	if (n == 1) {
		res->exists = res->collection = true;
		res->display_name = g_strdup(segs[0]);
		return 1;
	}
	cr->kind = n == 2 ? CARD_BOOK : CARD_CONTACT;
	/* An unmapped name in the home is a new address book (MKCOL); a PUT
	 * there has no parent collection. */
	res->parent_exists = n == 2 && cr->owner == rq->user;
	r = pim_addressbook_find(rq->store, rq->user, cr->owner, segs[1], &cr->book, err);
	if (r <= 0)
		return r;
	if (n == 2) {
		describe_book(res, &cr->book, rq->user);
		return 1;
	}
	r = lookup_contact(rq, res, segs[2], err);
	if (r > 0 && segs == rq->segs)
		negotiate_version(rq, res);
	return r;
}

/* --- members --- */

struct members_ctx {
	struct dav_request *rq;
	struct card_res *parent;
	dav_member_fn *fn;
	void *ctx;
};

static int book_member(const struct pim_addressbook *book, void *ctx)
{
	struct members_ctx *c = ctx;
	struct dav_resource res = {0};
	struct card_res *cr = g_new0(struct card_res, 1);
	cr->kind = CARD_BOOK;
	cr->owner = c->parent->owner;
	pim_addressbook_copy(&cr->book, book);
	res.pdata = cr;
	describe_book(&res, book, c->rq->user);
	int r = c->fn(book->segment, &res, c->ctx);
	dav_resource_clear(c->rq, &res);
	return r;
}

static int contact_member(const struct pim_contact *contact, const char *data, void *ctx)
{
	struct members_ctx *c = ctx;
	struct dav_resource res = {0};
	struct card_res *cr = g_new0(struct card_res, 1);
	cr->kind = CARD_CONTACT;
	cr->owner = c->parent->owner;
	pim_addressbook_copy(&cr->book, &c->parent->book);
	copy_contact(&cr->contact, contact);
	cr->name = g_strdup(contact->name);
	cr->data = g_strdup(data);
	res.pdata = cr;
	describe_contact(&res, contact);
	int r = c->fn(contact->name, &res, c->ctx);
	dav_resource_clear(c->rq, &res);
	return r;
}

static int card_members(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
                        void *ctx, struct ox_error *err)
{
	struct card_res *cr = card_of(coll);
	struct members_ctx c = {rq, cr, fn, ctx};
	if (cr->kind == CARD_HOME)
		return pim_addressbook_list(rq->store, rq->user, cr->owner, book_member, &c, err);
	if (cr->kind == CARD_BOOK)
		return pim_contact_query(rq->store, rq->user, &cr->book, NULL, contact_member, &c,
		                         NULL, err);
	return 0;
}

/* --- content --- */

struct export_sink {
	dav_sink_fn *sink;
	void *ctx;
};

static int export_write(const char *text, size_t len, void *ctx)
{
	struct export_sink *x = ctx;
	return x->sink(text, len, x->ctx);
}

static int card_get(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
                    uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr->kind == CARD_BOOK && res->exists) {
		struct export_sink x = {sink, ctx};
		return pim_addressbook_export(rq->store, rq->user, &cr->book, export_write, &x,
		                              err);
	}
	if (cr->kind != CARD_CONTACT || !res->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such contact");
	char *data = NULL;
	size_t len = 0;
	/* A converted representation is already made (negotiate_version). */
	if (cr->data != NULL)
		len = strlen(cr->data);
	else if (pim_contact_read(rq->store, rq->user, &cr->book, &cr->contact, &data, &len, err) <
	         0)
		return -1;
	int r = 0;
	if (offset < len)
		r = sink((data != NULL ? data : cr->data) + offset,
		         (size_t)MIN(length, len - offset), ctx);
	g_free(data);
	return r < 0 ? ox_error_set(err, OX_ERR_TEMP, "the client went away") : 0;
}

static void set_condition(struct dav_request *rq, int status, const char *cond)
{
	rq->error_status = status;
	rq->error_ns = CARDDAV_NS;
	rq->error_cond = cond;
}

static const char *const reject_conditions[] = {
	[PIM_CONTACT_REJECT_DATA] = "valid-address-data",
	[PIM_CONTACT_REJECT_UID] = "no-uid-conflict",
	[PIM_CONTACT_REJECT_SIZE] = "max-resource-size",
};

/* The body, at most PIM_CONTACT_MAX bytes: NULL with err past that. */
static GByteArray *read_body(dav_source_fn *src, void *ctx, struct dav_request *rq,
                             struct ox_error *err)
{
	GByteArray *buf = g_byte_array_new();
	char chunk[16384];
	ssize_t got;
	while ((got = src(chunk, sizeof(chunk), ctx)) > 0) {
		if (buf->len + (size_t)got > PIM_CONTACT_MAX) {
			g_byte_array_unref(buf);
			set_condition(rq, 403, reject_conditions[PIM_CONTACT_REJECT_SIZE]);
			ox_error_set(err, OX_ERR_LIMIT, "a vCard is at most %d bytes",
			             PIM_CONTACT_MAX);
			return NULL;
		}
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)got);
	}
	if (got < 0) {
		g_byte_array_unref(buf);
		ox_error_set(err, OX_ERR_INVALID, "the request body ended early");
		return NULL;
	}
	return buf;
}

static bool vcard_media_type(const char *content_type)
{
	return content_type == NULL || g_ascii_strncasecmp(content_type, "text/vcard", 10) == 0 ||
	       g_ascii_strncasecmp(content_type, "text/x-vcard", 12) == 0;
}

static int card_put(struct dav_request *rq, struct dav_resource *res, const char *content_type,
                    dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr->kind != CARD_CONTACT)
		return ox_error_set(err, OX_ERR_PERM, "only contacts can be stored here");
	if (!vcard_media_type(content_type)) {
		set_condition(rq, 415, "supported-address-data");
		return ox_error_set(err, OX_ERR_INVALID, "contacts are text/vcard");
	}
	if (pim_contact_may_put(rq->store, rq->user, &cr->book, res->exists ? &cr->contact : NULL,
	                        err) < 0)
		return -1;
	GByteArray *body = read_body(src, ctx, rq, err);
	if (body == NULL)
		return -1;
	struct pim_contact c;
	enum pim_contact_reject why = PIM_CONTACT_REJECT_NONE;
	int r = pim_contact_put(rq->store, rq->user, &cr->book, rq->segs[rq->nsegs - 1],
	                        (const char *)body->data, body->len, created_r, &c, &why, err);
	g_byte_array_unref(body);
	if (r < 0) {
		if (why != PIM_CONTACT_REJECT_NONE)
			set_condition(rq, why == PIM_CONTACT_REJECT_UID ? 409 : 403,
			              reject_conditions[why]);
		return -1;
	}
	pim_contact_clear(&cr->contact);
	cr->contact = c;
	describe_contact(res, &c);
	return 0;
}

static int card_remove(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr->kind == CARD_CONTACT)
		return pim_contact_delete(rq->store, rq->user, &cr->book, &cr->contact, err);
	if (cr->kind == CARD_BOOK)
		return pim_addressbook_delete(rq->store, rq->user, &cr->book, err);
	return ox_error_set(err, OX_ERR_PERM, "address book homes cannot be deleted");
}

static int card_mkcol(struct dav_request *rq, struct dav_resource *res, struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr->kind != CARD_BOOK || cr->owner != rq->user)
		return ox_error_set(err, OX_ERR_PERM, "address books are made in your own home");
	struct pim_addressbook book;
	int r = pim_addressbook_create(rq->store, rq->user, rq->segs[1], NULL, &book, err);
	pim_addressbook_clear(&book);
	return r;
}

/* --- COPY and MOVE (RFC 6352 6.3.2.1) --- */

/* The href of a contact in the destination's book, for no-uid-conflict. */
static char *destination_href(struct dav_request *rq, const char *name)
{
	size_t n = 0;
	const char *dest = http_request_header(rq->ex, "Destination");
	char **segs = dest != NULL ? dav_target_segs(rq, dest, &n) : NULL;
	char *href = NULL;
	if (segs != NULL && n == 3) {
		char *at[3] = {segs[0], segs[1], (char *)name};
		href = dav_href(rq, at, 3, false);
	}
	g_strfreev(segs);
	return href;
}

/* Contacts only, between address books the user may write (the global
 * one only as a source of copies); the engine has removed an overwritten
 * destination in the same transaction. */
static int card_transfer(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                         bool move, struct ox_error *err)
{
	struct card_res *from = card_of(src), *to = card_of(dst);
	if (from->kind != CARD_CONTACT || to->kind != CARD_CONTACT || to->book.folder_id == 0 ||
	    to->book.global)
		return ox_error_set(
			err, OX_ERR_PERM,
			"contacts are copied and moved into address books you may write");
	enum pim_contact_reject why = PIM_CONTACT_REJECT_NONE;
	char *conflict = NULL;
	int r = pim_contact_transfer(rq->store, rq->user, &from->book, &from->contact, &to->book,
	                             to->name, move, &why, &conflict, err);
	if (r < 0 && why != PIM_CONTACT_REJECT_NONE) {
		set_condition(rq, why == PIM_CONTACT_REJECT_UID ? 409 : 403,
		              reject_conditions[why]);
		if (conflict != NULL) {
			g_free(rq->error_href);
			rq->error_href = destination_href(rq, conflict);
		}
	}
	g_free(conflict);
	return r;
}

static int card_copy(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                     bool recursive, struct ox_error *err)
{
	return card_transfer(rq, src, dst, false, err);
}

static int card_move(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                     struct ox_error *err)
{
	return card_transfer(rq, src, dst, true, err);
}

/* --- properties --- */

static int address_data(struct dav_request *rq, struct card_res *cr, GString *out)
{
	struct ox_error err;
	char *data = cr->data;
	size_t len;
	if (data == NULL &&
	    pim_contact_read(rq->store, rq->user, &cr->book, &cr->contact, &data, &len, &err) < 0)
		return 0;
	/* RFC 6352 10.4.2: only the properties the report names. */
	char *part = cr->want != NULL && cr->want->n_props > 0
	                     ? pim_vcard_select(data, cr->want->props, cr->want->n_props)
	                     : NULL;
	/* XML parsers turn a literal CR LF into LF: a character reference
	 * keeps the card byte for byte. */
	char *esc = dav_xml_escape(part != NULL ? part : data);
	g_free(part);
	gchar **parts = g_strsplit(esc, "\r", -1);
	char *kept = g_strjoinv("&#13;", parts);
	g_string_append_printf(
		out, "<CR:address-data xmlns:CR=\"" CARDDAV_NS "\">%s</CR:address-data>", kept);
	g_free(kept);
	g_strfreev(parts);
	g_free(esc);
	if (data != cr->data)
		g_free(data);
	return 1;
}

static int dav_prop(struct dav_request *rq, struct card_res *cr, const char *name, GString *out)
{
	if (strcmp(name, "supported-report-set") == 0 && cr->kind >= CARD_BOOK) {
		g_string_append(out, "<D:supported-report-set xmlns:CR=\"" CARDDAV_NS "\">"
		                     "<D:supported-report><D:report><CR:addressbook-query/>"
		                     "</D:report></D:supported-report><D:supported-report>"
		                     "<D:report><CR:addressbook-multiget/></D:report>"
		                     "</D:supported-report><D:supported-report><D:report>"
		                     "<D:sync-collection/></D:report></D:supported-report>"
		                     "</D:supported-report-set>");
		return 1;
	}
	return 0;
}

static int carddav_prop(struct dav_request *rq, struct card_res *cr, const char *name, GString *out)
{
	bool book = cr->kind == CARD_BOOK;
	if (strcmp(name, "addressbook-home-set") == 0 && dav_user_login(rq) != NULL) {
		char *esc = g_uri_escape_string(dav_user_login(rq), "@", FALSE);
		g_string_append_printf(out,
		                       "<CR:addressbook-home-set xmlns:CR=\"" CARDDAV_NS "\">"
		                       "<D:href>/dav/addressbooks/%s/</D:href>"
		                       "</CR:addressbook-home-set>",
		                       esc);
		g_free(esc);
	} else if (strcmp(name, "supported-address-data") == 0 && book) {
		g_string_append(out, "<CR:supported-address-data xmlns:CR=\"" CARDDAV_NS "\">"
		                     "<CR:address-data-type content-type=\"text/vcard\" "
		                     "version=\"3.0\"/><CR:address-data-type "
		                     "content-type=\"text/vcard\" version=\"4.0\"/>"
		                     "</CR:supported-address-data>");
	} else if (strcmp(name, "supported-collation-set") == 0 && book) {
		/* RFC 6352 8.3.1. */
		g_string_append(out,
		                "<CR:supported-collation-set xmlns:CR=\"" CARDDAV_NS "\">"
		                "<CR:supported-collation>i;ascii-casemap</CR:supported-collation>"
		                "<CR:supported-collation>i;octet</CR:supported-collation>"
		                "<CR:supported-collation>i;unicode-casemap"
		                "</CR:supported-collation></CR:supported-collation-set>");
	} else if (strcmp(name, "max-resource-size") == 0 && book) {
		g_string_append_printf(out,
		                       "<CR:max-resource-size xmlns:CR=\"" CARDDAV_NS "\">%d"
		                       "</CR:max-resource-size>",
		                       PIM_CONTACT_MAX);
	} else if (strcmp(name, "address-data") == 0 && cr->kind == CARD_CONTACT) {
		return address_data(rq, cr, out);
	} else {
		return 0;
	}
	return 1;
}

static int card_live_prop(struct dav_request *rq, struct dav_resource *res, const char *ns,
                          const char *name, GString *out)
{
	struct card_res *cr = card_of(res);
	if (cr == NULL || !res->exists)
		return 0;
	if (strcmp(ns, DAV_NS) == 0)
		return dav_prop(rq, cr, name, out);
	if (strcmp(ns, CS_NS) == 0 && strcmp(name, "getctag") == 0 && cr->kind == CARD_BOOK) {
		g_string_append_printf(out,
		                       "<X:getctag xmlns:X=\"" CS_NS "\">\"%" G_GINT64_FORMAT
		                       "\"</X:getctag>",
		                       cr->book.modseq);
		return 1;
	}
	if (strcmp(ns, CARDDAV_NS) == 0)
		return carddav_prop(rq, cr, name, out);
	return 0;
}

/* RFC 3744: an address book's permissions are its folder's, and so are
 * its contacts'; the global address book has none, everyone of the
 * context reads it. The engine shows them (dav-acl.c). */
static bool card_acl_source(struct dav_request *rq, struct dav_resource *res,
                            struct dav_acl_source *src_r)
{
	struct card_res *cr = card_of(res);
	if (cr == NULL || cr->kind < CARD_BOOK)
		return false;
	src_r->folder_id = cr->book.global ? 0 : cr->book.folder_id;
	src_r->read_only = cr->book.global;
	src_r->object = cr->kind == CARD_CONTACT;
	return true;
}

static enum dav_prop_kind card_prop_kind(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) == 0 && strcmp(name, "displayname") == 0)
		return DAV_PROP_WRITABLE;
	/* RFC 6352 6.2.1: the description is the client's, kept as a dead
	 * property; the other CardDAV properties say what the server does. */
	if (strcmp(ns, CARDDAV_NS) == 0 && strcmp(name, "addressbook-description") == 0)
		return DAV_PROP_DEAD;
	if (strcmp(ns, CARDDAV_NS) == 0 || strcmp(ns, CS_NS) == 0)
		return DAV_PROP_PROTECTED;
	return DAV_PROP_DEAD;
}

static int card_props(struct dav_request *rq, struct dav_resource *res, dav_prop_fn *fn, void *ctx,
                      struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr == NULL || cr->kind != CARD_BOOK || !res->exists)
		return 0;
	return pim_addressbook_props(rq->store, rq->user, &cr->book, fn, ctx, err);
}

/* The text of a DAV:displayname element (the value PROPPATCH hands on). */
static char *element_text(const char *xml, struct ox_error *err)
{
	xmlDoc *doc = dav_xml_parse(xml, strlen(xml), err);
	if (doc == NULL)
		return NULL;
	xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
	char *copy = g_strdup(text != NULL ? (const char *)text : "");
	xmlFree(text);
	xmlFreeDoc(doc);
	return copy;
}

/* PROPPATCH on an address book: DAV:displayname names it, everything
 * else the engine lets through is a dead property (the description
 * too); all or nothing in one transaction of the service. */
static int card_proppatch(struct dav_request *rq, struct dav_resource *res,
                          const struct dav_prop_op *ops, size_t n, struct ox_error *err)
{
	struct card_res *cr = card_of(res);
	if (cr->kind != CARD_BOOK)
		return ox_error_set(err, OX_ERR_PERM, "properties are set on address books");
	struct pim_book_prop_op *dead = g_new0(struct pim_book_prop_op, n > 0 ? n : 1);
	size_t n_dead = 0;
	bool set_name = false;
	char *name = NULL;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (strcmp(ops[i].ns, DAV_NS) == 0 && strcmp(ops[i].name, "displayname") == 0) {
			set_name = true;
			g_free(name);
			name = ops[i].value != NULL ? element_text(ops[i].value, err) : NULL;
			r = ops[i].value != NULL && name == NULL ? -1 : 0;
		} else {
			dead[n_dead++] =
				(struct pim_book_prop_op){ops[i].ns, ops[i].name, ops[i].value};
		}
	}
	if (r == 0)
		r = pim_addressbook_patch(rq->store, rq->user, &cr->book, set_name, name, dead,
		                          n_dead, err);
	g_free(name);
	g_free(dead);
	return r;
}

/* --- REPORT --- */

static void status_response(struct dav_ms *ms, const char *href, const char *status,
                            const char *error)
{
	char *esc = dav_xml_escape(href);
	char *text = g_strdup_printf("<D:response><D:href>%s</D:href>"
	                             "<D:status>HTTP/1.1 %s</D:status>%s</D:response>\n",
	                             esc, status, error);
	dav_ms_append(ms, text);
	g_free(text);
	g_free(esc);
}

/* Puts the card in the vCard version address-data asked for, converting
 * it when it is stored in the other one; false when that fails. The
 * response's DAV:getetag stays the stored one: it is the resource's, and
 * the one a client sends back in If-Match. */
static bool in_version(struct dav_request *rq, struct card_res *cr, int version)
{
	size_t len;
	struct ox_error err;
	if (cr->data == NULL && pim_contact_read(rq->store, rq->user, &cr->book, &cr->contact,
	                                         &cr->data, &len, &err) < 0)
		return true; /* address-data will be missing, as for any unreadable card */
	if (pim_vcard_version(cr->data) == version)
		return true;
	char *converted = pim_vcard_convert(cr->data, version, &err);
	if (converted == NULL)
		return false;
	g_free(cr->data);
	cr->data = converted;
	return true;
}

/* One contact's response to a report, or RFC 6352 8.7.2's refusal of a
 * conversion the server could not make (a card that would outgrow the
 * reader's bounds in the other version). */
static void report_response(struct dav_request *rq, struct dav_ms *ms,
                            const struct dav_carddav_report *r, char **segs, size_t n,
                            struct dav_resource *res)
{
	struct card_res *cr = card_of(res);
	cr->want = &r->data;
	if (r->data.version != 0 && !in_version(rq, cr, r->data.version)) {
		char *href = dav_href(rq, segs, n, false);
		char *error = g_strdup_printf(
			"<D:error><CR:supported-address-data-conversion xmlns:CR=\"" CARDDAV_NS
			"\"/></D:error><D:responsedescription>the card cannot be converted to "
			"vCard %d.0</D:responsedescription>",
			r->data.version);
		status_response(ms, href, "415 Unsupported Media Type", error);
		g_free(error);
		g_free(href);
		return;
	}
	GString *out = g_string_new(NULL);
	dav_response_xml(rq, &r->pf, segs, n, res, out);
	dav_ms_append(ms, out->str);
	g_string_free(out, TRUE);
}

/* The address book of the previous href, so that a multiget of many
 * contacts of one book (the global one above all) finds it once. */
struct book_memo {
	char *home, *segment;
	int64_t owner;
	struct pim_addressbook book;
};

static void book_memo_clear(struct book_memo *m)
{
	g_free(m->home);
	g_free(m->segment);
	pim_addressbook_clear(&m->book);
	memset(m, 0, sizeof(*m));
}

static int multiget_lookup(struct dav_request *rq, struct book_memo *memo, char **segs, size_t n,
                           struct dav_resource *res, struct ox_error *err)
{
	if (n == 3 && memo->home != NULL && strcmp(segs[0], memo->home) == 0 &&
	    strcmp(segs[1], memo->segment) == 0) {
		memset(res, 0, sizeof(*res));
		struct card_res *cr = g_new0(struct card_res, 1);
		res->pdata = cr;
		cr->owner = memo->owner;
		pim_addressbook_copy(&cr->book, &memo->book);
		return lookup_contact(rq, res, segs[2], err);
	}
	int r = card_lookup(rq, segs, n, res, err);
	struct card_res *cr = card_of(res);
	if (n == 3 && cr != NULL && cr->kind == CARD_CONTACT && cr->book.segment != NULL) {
		book_memo_clear(memo);
		memo->home = g_strdup(segs[0]);
		memo->segment = g_strdup(segs[1]);
		memo->owner = cr->owner;
		pim_addressbook_copy(&memo->book, &cr->book);
	}
	return r;
}

static void multiget(struct dav_request *rq, struct dav_resource *coll,
                     struct dav_carddav_report *r)
{
	struct dav_ms ms;
	struct book_memo memo = {0};
	struct card_res *cr = card_of(coll);
	/* The book the request names is already described. */
	if (cr->kind == CARD_BOOK && coll->exists) {
		memo.home = g_strdup(rq->segs[0]);
		memo.segment = g_strdup(rq->segs[1]);
		memo.owner = cr->owner;
		pim_addressbook_copy(&memo.book, &cr->book);
	}
	dav_ms_begin(&ms, rq, 207);
	for (guint i = 0; i < r->hrefs->len && !ms.failed; i++) {
		const char *href = g_ptr_array_index(r->hrefs, i);
		size_t n = 0;
		char **segs = dav_target_segs(rq, href, &n);
		struct dav_resource res = {0};
		struct ox_error err;
		if (segs != NULL && multiget_lookup(rq, &memo, segs, n, &res, &err) > 0 &&
		    !res.collection)
			report_response(rq, &ms, r, segs, n, &res);
		else
			status_response(&ms, href, "404 Not Found", "");
		dav_resource_clear(rq, &res);
		g_strfreev(segs);
	}
	dav_ms_end(&ms);
	book_memo_clear(&memo);
}

struct query_ctx {
	struct dav_request *rq;
	struct dav_carddav_report *r;
	struct card_res *parent;
	const char *only; /* a name, when the query is on one contact */
	struct dav_ms ms;
};

static int query_member(const char *name, struct dav_resource *member, void *ctx)
{
	struct query_ctx *q = ctx;
	if (q->only != NULL && strcmp(name, q->only) != 0)
		return 0;
	char *segs[3] = {q->rq->segs[0], q->rq->segs[1], (char *)name};
	report_response(q->rq, &q->ms, q->r, segs, 3, member);
	return q->ms.failed ? -1 : 0;
}

static int query_contact(const struct pim_contact *c, const char *data, void *ctx)
{
	struct query_ctx *q = ctx;
	struct members_ctx m = {q->rq, q->parent, query_member, q};
	return contact_member(c, data, &m);
}

static void query(struct dav_request *rq, struct dav_resource *res, struct dav_carddav_report *r)
{
	struct card_res *cr = card_of(res);
	struct query_ctx q = {rq, r, cr, NULL, {0}};
	if (cr->kind == CARD_CONTACT)
		q.only = rq->segs[2];
	struct ox_error err;
	bool truncated = false;
	dav_ms_begin(&q.ms, rq, 207);
	if (cr->kind >= CARD_BOOK)
		pim_contact_query(rq->store, rq->user, &cr->book, &r->q, query_contact, &q,
		                  &truncated, &err);
	if (truncated) {
		/* RFC 6352 8.6.1: the request URI answers 507 when the limit cut. */
		char *href = dav_href(rq, rq->segs, rq->nsegs, res->collection);
		status_response(&q.ms, href, "507 Insufficient Storage",
		                "<D:error><D:number-of-matches-within-limits/></D:error>");
		g_free(href);
	}
	dav_ms_end(&q.ms);
}

static void card_report(struct dav_request *rq, struct dav_resource *res, const char *body,
                        size_t len)
{
	struct dav_carddav_report r;
	const char *cond = NULL;
	struct ox_error err = {0};
	int ret = dav_carddav_parse_report(body, len, &r, &cond, &err);
	if (ret > 0)
		dav_reply_precondition(rq, 403, "supported-report");
	else if (ret < 0 && cond != NULL)
		dav_reply_condition(rq, 403, CARDDAV_NS, cond, err.message);
	else if (ret < 0)
		dav_reply_error(rq, &err);
	else if (r.kind == CARDDAV_REPORT_MULTIGET)
		multiget(rq, res, &r);
	else
		query(rq, res, &r);
	dav_carddav_report_clear(&r);
}

/* --- sync-collection --- */

static int contact_change(const char *name, const struct pim_contact *c, void *ctx)
{
	struct members_ctx *m = ctx;
	if (c != NULL)
		return contact_member(c, NULL, m);
	struct dav_resource gone = {0};
	return m->fn(name, &gone, m->ctx);
}

static int card_changes(struct dav_request *rq, struct dav_resource *coll, int64_t since,
                        dav_member_fn *fn, void *ctx, int64_t *state_r, struct ox_error *err)
{
	struct card_res *cr = card_of(coll);
	if (cr->kind != CARD_BOOK)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "only address books have a change log");
	struct members_ctx m = {rq, cr, fn, ctx};
	/* Nothing comes after the newest state: the state alone, with the
	 * same read check as a listing. */
	return pim_contact_changes(rq->store, rq->user, &cr->book, since < 0 ? INT64_MAX : since,
	                           contact_change, &m, state_r, err);
}

/* --- extended MKCOL (RFC 5689, RFC 6352 6.3.1) --- */

/* RFC 6352 6.3.1.1: MKCOL may set the description; a book that cannot
 * keep it is not left behind. */
static int describe_new_book(struct dav_request *rq, struct pim_addressbook *book,
                             const char *description, struct ox_error *err)
{
	if (description == NULL)
		return 0;
	struct pim_book_prop_op op = {CARDDAV_NS, "addressbook-description", description};
	if (pim_addressbook_patch(rq->store, rq->user, book, false, NULL, &op, 1, err) == 0)
		return 0;
	struct ox_error ignored;
	pim_addressbook_delete(rq->store, rq->user, book, &ignored);
	return -1;
}

/* Only the owner adds address books to a home: 403, naming DAV:bind on
 * the home (RFC 3744 7.1.1). */
static void refuse_foreign_home(struct dav_request *rq)
{
	struct ox_error err;
	ox_error_set(&err, OX_ERR_PERM, "address books are made in your own home");
	dav_reply_error(rq, &err);
}

static void mkcol_checked(struct dav_request *rq, struct dav_carddav_mkcol *mk)
{
	struct dav_resource res = {0};
	struct ox_error err = {0};
	int r = card_lookup(rq, rq->segs, rq->nsegs, &res, &err);
	struct card_res *cr = card_of(&res);
	struct pim_addressbook book = {0};
	if (r < 0)
		dav_reply_error(rq, &err);
	else if (res.exists)
		http_reply_status(rq->ex, 405, NULL);
	else if (rq->nsegs != 2 || cr->owner == 0)
		http_reply_status(rq->ex, 409, "address books are made in an address book home\n");
	else if (cr->owner != rq->user)
		refuse_foreign_home(rq);
	else if (mk->description != NULL && strlen(mk->description) > PIM_BOOK_PROP_VALUE_MAX)
		http_reply_status(rq->ex, 413, "the description is too long\n");
	else if (pim_addressbook_create(rq->store, rq->user, rq->segs[1], mk->display_name, &book,
	                                &err) < 0 ||
	         describe_new_book(rq, &book, mk->description, &err) < 0)
		dav_reply_error(rq, &err);
	else
		http_reply_status(rq->ex, 201, NULL);
	pim_addressbook_clear(&book);
	dav_resource_clear(rq, &res);
}

/* MKCOL with a body names the resource type; without one it makes an
 * address book too, as the home holds nothing else. */
static void card_mkcol_method(struct dav_request *rq)
{
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	struct dav_carddav_mkcol mk;
	struct ox_error err = {0};
	if (dav_carddav_parse_mkcol(body, len, &mk, &err) < 0)
		http_reply_status(rq->ex, 400, "malformed mkcol body\n");
	else if (body != NULL && !mk.addressbook)
		dav_reply_precondition(rq, 403, "valid-resourcetype");
	else
		mkcol_checked(rq, &mk);
	dav_carddav_mkcol_clear(&mk);
	g_free(body);
}

static const struct dav_method card_methods[] = {
	{"MKCOL", card_mkcol_method},
	{NULL, NULL},
};

const struct dav_provider dav_carddav_provider = {
	.prefix = "/dav/addressbooks/",
	.request_begin = dav_owner_begin,
	.request_done = dav_owner_done,
	.lookup = card_lookup,
	.release = card_release,
	.members = card_members,
	.get = card_get,
	.put = card_put,
	.mkcol = card_mkcol,
	.remove = card_remove,
	.copy = card_copy,
	.move = card_move,
	.props = card_props,
	.proppatch = card_proppatch,
	.locks = dav_no_locks,
	.lock_create = dav_refuse_lock_create,
	.lock_refresh = dav_refuse_lock_refresh,
	.lock_remove = dav_refuse_lock_remove,
	.locks_drop = dav_no_locks_drop,
	.compliance = "addressbook",
	.methods = card_methods,
	.live_prop = card_live_prop,
	.prop_kind = card_prop_kind,
	.report = card_report,
	.changes = card_changes,
	.acl_source = card_acl_source,
};
