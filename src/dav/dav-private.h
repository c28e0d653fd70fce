/* The DAV engine and its providers. The engine owns the protocol (methods,
 * XML, If headers, locks, multistatus); a provider owns a URL space below
 * /dav/ and maps it to a service, which decides every access. */
#ifndef OX_DAV_PRIVATE_H
#define OX_DAV_PRIVATE_H

#include "core/error.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_exchange;
struct store;
struct dav_provider;

#define DAV_XML_BODY_MAX (1024 * 1024)
#define DAV_LOCK_TIMEOUT_DEFAULT 3600
#define DAV_LOCK_TIMEOUT_MAX (7 * 24 * 3600)

/* One request as the engine and its provider see it. */
struct dav_request {
	struct http_exchange *ex;
	struct store *store;
	int64_t user;
	const struct dav_provider *provider;
	char **segs; /* decoded segments after the provider's prefix */
	size_t nsegs;
	void *pstate; /* the provider's, freed by its request_done */
	char *login;  /* the user's login, once dav_user_login() read it */
	/* A provider that fails with a precondition (RFC 4918 16) names it
	 * here; dav_reply_error() then answers this status with DAV:error
	 * (without error_cond: the status alone, with the error's message). */
	int error_status;
	const char *error_ns, *error_cond;
	char *error_href; /* a DAV:href inside the condition (no-uid-conflict), or NULL */
	void *acl_cache;  /* dav-acl.c's, freed by dav_acl_request_done */
};

/* What a path names. Providers fill it; pdata is theirs. */
struct dav_resource {
	bool exists;
	bool collection;
	bool parent_exists; /* for unmapped names: the parent is a collection */
	uint64_t length;
	char *content_type;
	char *etag; /* quoted strong ETag, or NULL */
	int64_t created, modified;
	char *display_name;
	const char *resourcetype; /* static XML added inside DAV:resourcetype, or NULL */
	void *pdata;
};

struct dav_lock {
	char *token;
	char *path; /* segments after the provider prefix joined by '/' */
	int depth;  /* 0 or -1 (infinity) */
	bool exclusive;
	char *owner; /* XML text of DAV:owner, or NULL */
	int64_t principal_id;
	int64_t timeout;
	int64_t expires;
};

struct dav_prop_op {
	char *ns; /* "" for none */
	char *name;
	char *value; /* the element as XML text; NULL for remove */
};

typedef int dav_member_fn(const char *name, struct dav_resource *member, void *ctx);
typedef int dav_sink_fn(const void *data, size_t len, void *ctx);
typedef ssize_t dav_source_fn(void *buf, size_t len, void *ctx);
typedef int dav_prop_fn(const char *ns, const char *name, const char *value, void *ctx);
typedef void dav_method_fn(struct dav_request *rq);

struct dav_method {
	const char *name;
	dav_method_fn *fn;
};

enum dav_prop_kind {
	DAV_PROP_DEAD,      /* stored by props/proppatch */
	DAV_PROP_PROTECTED, /* computed; PROPPATCH fails with 403 */
	DAV_PROP_WRITABLE,  /* computed, but proppatch accepts it */
};

/* The folder behind a resource, for access control (RFC 3744). */
struct dav_acl_source {
	int64_t folder_id; /* whose permissions decide; 0: none (then read_only) */
	bool object;       /* res is an object in that folder, not the folder */
	bool read_only;    /* no folder: whoever sees res may read it, nothing more */
};

/* A URL space. Every function returns 0 / -1 with err (lookup: 1 / 0 /
 * -1) and MUST decide access through its service. Resources passed in
 * come from this provider's lookup. */
struct dav_provider {
	const char *prefix; /* "/dav/files/" */
	/* MAY set rq->pstate; request_done MUST free it. */
	int (*request_begin)(struct dav_request *rq, struct ox_error *err);
	void (*request_done)(struct dav_request *rq);
	/* MUST fill res for segs (exists or not; parent_exists). */
	int (*lookup)(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
	              struct ox_error *err);
	void (*release)(struct dav_resource *res); /* frees pdata */
	int (*members)(struct dav_request *rq, struct dav_resource *coll, dav_member_fn *fn,
	               void *ctx, struct ox_error *err);
	int (*get)(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
	           uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err);
	/* Creates or replaces; res is updated; content_type MAY be NULL. */
	int (*put)(struct dav_request *rq, struct dav_resource *res, const char *content_type,
	           dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err);
	int (*mkcol)(struct dav_request *rq, struct dav_resource *res, struct ox_error *err);
	int (*remove)(struct dav_request *rq, struct dav_resource *res, struct ox_error *err);
	/* dst is unmapped with a parent. */
	int (*copy)(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
	            bool recursive, struct ox_error *err);
	int (*move)(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
	            struct ox_error *err);
	int (*props)(struct dav_request *rq, struct dav_resource *res, dav_prop_fn *fn, void *ctx,
	             struct ox_error *err);
	int (*proppatch)(struct dav_request *rq, struct dav_resource *res,
	                 const struct dav_prop_op *ops, size_t n, struct ox_error *err);
	/* Locks of the request's tree. */
	int (*locks)(struct dav_request *rq, GArray **locks_r, struct ox_error *err);
	/* MUST make the token and set principal_id and expires. */
	int (*lock_create)(struct dav_request *rq, struct dav_resource *res, struct dav_lock *lock,
	                   struct ox_error *err);
	int (*lock_refresh)(struct dav_request *rq, const char *token, int64_t timeout,
	                    struct ox_error *err);
	int (*lock_remove)(struct dav_request *rq, const char *token, struct ox_error *err);
	int (*locks_drop)(struct dav_request *rq, const char *path, struct ox_error *err);

	/* The members below are optional (NULL). */
	const char *compliance;           /* added to the DAV header: "calendar-access" */
	const struct dav_method *methods; /* more methods, ended by a NULL name */
	/* A live property of this space: 1 after appending its element with
	 * the value to out, 0 when it is not one (or res lacks it), -1. */
	int (*live_prop)(struct dav_request *rq, struct dav_resource *res, const char *ns,
	                 const char *name, GString *out);
	/* What PROPPATCH may do with a property; NULL: DAV_PROP_DEAD. */
	enum dav_prop_kind (*prop_kind)(const char *ns, const char *name);
	/* Answers a REPORT on res with its XML body. */
	void (*report)(struct dav_request *rq, struct dav_resource *res, const char *body,
	               size_t len);
	/* A change log for sync-collection (RFC 6578, dav-sync.c): calls fn
	 * for each member of the collection changed after state `since` (0:
	 * every member, none removed), in change order, with exists false
	 * for a removed one; *state_r gets the collection's newest state.
	 * since -1: no members, only *state_r. */
	int (*changes)(struct dav_request *rq, struct dav_resource *coll, int64_t since,
	               dav_member_fn *fn, void *ctx, int64_t *state_r, struct ox_error *err);
	/* What decides access to res, for the engine's RFC 3744 properties
	 * and the ACL method (dav-acl.c): false when nothing does (a home,
	 * the root). */
	bool (*acl_source)(struct dav_request *rq, struct dav_resource *res,
	                   struct dav_acl_source *src_r);
};

extern const struct dav_provider dav_files_provider;
extern const struct dav_provider dav_root_provider;      /* /dav/ itself */
extern const struct dav_provider dav_principal_provider; /* /dav/principals/ */
extern const struct dav_provider dav_caldav_provider;    /* /dav/calendars/ */
extern const struct dav_provider dav_carddav_provider;   /* /dav/addressbooks/ */

/* /dav/principals/groups/ (dav-principal-search.c) */
extern const struct dav_provider dav_group_principal_provider;

/* Stand-ins for providers without these abilities (dav-refuse.c): writes
 * fail with OX_ERR_PERM, the lock and property lists are empty. */
int dav_refuse_get(struct dav_request *rq, struct dav_resource *res, uint64_t offset,
                   uint64_t length, dav_sink_fn *sink, void *ctx, struct ox_error *err);
int dav_refuse_put(struct dav_request *rq, struct dav_resource *res, const char *content_type,
                   dav_source_fn *src, void *ctx, bool *created_r, struct ox_error *err);
int dav_refuse_mkcol(struct dav_request *rq, struct dav_resource *res, struct ox_error *err);
int dav_refuse_remove(struct dav_request *rq, struct dav_resource *res, struct ox_error *err);
int dav_refuse_copy(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    bool recursive, struct ox_error *err);
int dav_refuse_move(struct dav_request *rq, struct dav_resource *src, struct dav_resource *dst,
                    struct ox_error *err);
int dav_no_props(struct dav_request *rq, struct dav_resource *res, dav_prop_fn *fn, void *ctx,
                 struct ox_error *err);
int dav_refuse_proppatch(struct dav_request *rq, struct dav_resource *res,
                         const struct dav_prop_op *ops, size_t n, struct ox_error *err);
int dav_no_locks(struct dav_request *rq, GArray **locks_r, struct ox_error *err);
int dav_refuse_lock_create(struct dav_request *rq, struct dav_resource *res, struct dav_lock *lock,
                           struct ox_error *err);
int dav_refuse_lock_refresh(struct dav_request *rq, const char *token, int64_t timeout,
                            struct ox_error *err);
int dav_refuse_lock_remove(struct dav_request *rq, const char *token, struct ox_error *err);
int dav_no_locks_drop(struct dav_request *rq, const char *path, struct ox_error *err);

/* --- XML (dav-xml.c, pure) --- */
#define DAV_NS "DAV:"
struct dav_prop_name {
	char *ns;
	char *name;
};
enum dav_propfind_kind {
	DAV_PROPFIND_ALLPROP,
	DAV_PROPFIND_PROPNAME,
	DAV_PROPFIND_PROP,
};
struct dav_propfind {
	enum dav_propfind_kind kind;
	GArray *props; /* struct dav_prop_name: PROP, or allprop's include */
};
/* An empty body is allprop. -1 with OX_ERR_INVALID on malformed XML. */
int dav_parse_propfind(const char *body, size_t len, struct dav_propfind *pf_r,
                       struct ox_error *err);
void dav_propfind_clear(struct dav_propfind *pf);
/* DAV:propertyupdate, in document order. */
int dav_parse_proppatch(const char *body, size_t len, GArray **ops_r, struct ox_error *err);
void dav_prop_ops_free(GArray **ops);
struct dav_lockinfo {
	bool exclusive;
	char *owner; /* XML text */
};
int dav_parse_lockinfo(const char *body, size_t len, struct dav_lockinfo *li_r,
                       struct ox_error *err);
/* Escapes text for XML content and attributes. */
char *dav_xml_escape(const char *text);
/* The same, appended to out (no allocation for the common case). */
void dav_xml_append_escaped(GString *out, const char *text);
/* A request body as a libxml2 document (xmlDoc *), parsed as strictly as
 * the bodies above; NULL with OX_ERR_INVALID. Free with xmlFreeDoc. */
void *dav_xml_parse(const char *body, size_t len, struct ox_error *err);
/* Small libxml2 helpers for the body parsers: an element of that
 * namespace and name; the next element sibling from n on (text and
 * comments skipped); an attribute's value, newly allocated or NULL. */
struct _xmlNode;
bool dav_xml_is(const struct _xmlNode *n, const char *ns, const char *name);
struct _xmlNode *dav_xml_element(struct _xmlNode *n);
char *dav_xml_attr(struct _xmlNode *n, const char *name);

/* --- If header (dav-if.c, pure parsing) --- */
struct dav_if_cond {
	bool negate;
	bool is_etag;
	char *value; /* a state token (without <>), or an entity tag with quotes */
};
struct dav_if_list {
	char *tag;     /* resource tag (a URL, without <>), or NULL */
	GArray *conds; /* struct dav_if_cond */
};
/* Parses RFC 4918 10.4; NULL with err on a malformed header. */
GPtrArray *dav_if_parse(const char *header, struct ox_error *err);
/* What one state is, for evaluating a condition against a resource. */
typedef bool dav_if_token_fn(const char *token, const char *tag, void *ctx);
typedef const char *dav_if_etag_fn(const char *tag, void *ctx);
bool dav_if_evaluate(GPtrArray *lists, dav_if_token_fn *token_fn, dav_if_etag_fn *etag_fn,
                     void *ctx);

/* --- engine helpers (dav-engine.c) --- */
char *dav_href(const struct dav_request *rq, char **segs, size_t n, bool collection);
char *dav_path_join(char **segs, size_t n);
/* Parses a URL or absolute path into segments below the provider prefix;
 * NULL when it is not in this provider's space. */
char **dav_target_segs(const struct dav_request *rq, const char *target, size_t *n_r);
/* The same below any prefix ("/dav/principals/"). */
char **dav_url_segs(const char *target, const char *prefix, size_t *n_r);
void dav_resource_clear(struct dav_request *rq, struct dav_resource *res);
/* Reads an XML body up to DAV_XML_BODY_MAX: 0 with *body_r (NULL when
 * empty), or -1 after answering (413, 415). */
int dav_read_xml_body_or_reply(struct dav_request *rq, char **body_r, size_t *len_r);
void dav_reply_error(struct dav_request *rq, const struct ox_error *err);
void dav_reply_precondition(struct dav_request *rq, int status, const char *condition);
/* The same for a condition in another namespace (CalDAV's), with an
 * optional message for people. */
void dav_reply_condition(struct dav_request *rq, int status, const char *ns, const char *condition,
                         const char *message);
/* The requesting user's login (cached in rq), or NULL. */
const char *dav_user_login(struct dav_request *rq);
/* One DAV:response with pf's properties of res (PROPFIND, REPORT). */
void dav_response_xml(struct dav_request *rq, const struct dav_propfind *pf, char **segs, size_t n,
                      struct dav_resource *res, GString *out);
/* RFC 1123 date into buf. */
void dav_http_date(int64_t t, char buf[40]);
void dav_iso_date(int64_t t, char buf[40]);
/* Depth header: 0, 1, -1 (infinity); `fallback` when absent; -2 when malformed. */
int dav_depth(struct dav_request *rq, int fallback);

/* Streams a multistatus body. */
struct dav_ms {
	struct dav_request *rq;
	GString *buf;
	bool failed;
};
void dav_ms_begin(struct dav_ms *ms, struct dav_request *rq, int status);
void dav_ms_append(struct dav_ms *ms, const char *text);
void dav_ms_end(struct dav_ms *ms);

/* Locks and If: 0 go on, -1 after answering (412, 423, 400). `deep`
 * includes locks below the path; `membership` the parent's locks (a
 * member is added or removed). */
struct dav_ifstate {
	GPtrArray *lists; /* parsed If header, or NULL */
	GArray *locks;    /* the tree's locks */
};
int dav_if_check_or_reply(struct dav_request *rq, struct dav_ifstate *st, struct dav_resource *res);
int dav_locks_check_or_reply(struct dav_request *rq, struct dav_ifstate *st, char **segs, size_t n,
                             bool deep, bool membership);
void dav_ifstate_clear(struct dav_ifstate *st);
bool dav_lock_covers(const struct dav_lock *lock, const char *path);
/* The path locks are stored and compared under: segments joined, the
 * first (the owner's login) in lower case. */
char *dav_lock_path(char **segs, size_t n);
void dav_lock_clear(struct dav_lock *lock);
void dav_lockdiscovery_xml(struct dav_request *rq, GString *out, const char *path);

/* --- sync-collection (dav-sync.c) --- */
/* Answers a DAV:sync-collection REPORT: 0, or 1 (nothing answered) when
 * the body is another report. */
int dav_sync_report(struct dav_request *rq, struct dav_resource *res, const char *body, size_t len);
/* The DAV:sync-token of a collection, or NULL when it has none. */
char *dav_sync_token(struct dav_request *rq, struct dav_resource *res);

/* --- access control, RFC 3744 (dav-acl.c, dav-acl-xml.c, dav-principal-search.c) --- */
#define DAV_PRINCIPALS "/dav/principals/"
#define DAV_GROUP_PRINCIPALS "/dav/principals/groups/"
/* An RFC 3744 property of res (segs name it): 1 after appending its
 * element to out, or its name to denied when the user lacks the
 * privilege to read it (a 403 propstat); 0 when it is not one. */
int dav_acl_prop(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                 const char *ns, const char *name, GString *out, GString *denied);
/* Whether a property is one of those (PROPPATCH refuses them). */
bool dav_acl_is_property(const char *ns, const char *name);
/* Per-request memory of the folders looked up for the properties. */
void dav_acl_request_done(struct dav_request *rq);
/* RFC 3744 7.1.1: answers 403 with DAV:need-privileges naming what the
 * request's method needs (Appendix B) and the requester lacks; false,
 * answering nothing, when they lack none that is known. */
bool dav_reply_need_privileges(struct dav_request *rq);
/* REPORTs on principals (RFC 3744 9): principal-property-search,
 * principal-search-property-set, principal-match. */
void dav_principal_report(struct dav_request *rq, struct dav_resource *res, const char *body,
                          size_t len);
/* DAV:group-membership of a user principal: 1 appended, 0 not it. */
int dav_principal_membership_prop(struct dav_request *rq, int64_t user, const char *ns,
                                  const char *name, GString *out);

/* RFC 3744 privileges as the DAV:privilege elements name them. */
enum dav_acl_principal_kind {
	DAV_ACE_HREF,
	DAV_ACE_ALL,
	DAV_ACE_AUTHENTICATED,
	DAV_ACE_UNAUTHENTICATED,
	DAV_ACE_PROPERTY,
	DAV_ACE_SELF,
};
struct dav_ace {
	enum dav_acl_principal_kind kind;
	char *href; /* DAV_ACE_HREF */
	bool invert, deny, is_protected, inherited;
	unsigned privileges; /* enum dav_privilege bits (folder.h), aggregates expanded */
};
#define DAV_ACL_ACES_MAX 256
/* Parses an ACL body (RFC 3744 8.1): 0 with *aces_r (struct dav_ace);
 * -1 with OX_ERR_INVALID, and *cond_r set when a precondition
 * (not-supported-privilege) rather than the syntax failed. */
int dav_parse_acl(const char *body, size_t len, GArray **aces_r, const char **cond_r,
                  struct ox_error *err);
void dav_aces_free(GArray **aces);
/* The privilege bits an element names (DAV: or CalDAV), aggregates
 * expanded; 0 when it names none this server knows. */
unsigned dav_privilege_parse(const char *ns, const char *name);

/* What a DAV:property-search compares its match with (bits). */
enum {
	DAV_SEARCH_NAME = 1 << 0,    /* DAV:displayname, CS:first-name, CS:last-name */
	DAV_SEARCH_ADDRESS = 1 << 1, /* CALDAV:calendar-user-address-set, CS:email-address-set */
};
#define DAV_SEARCH_TEXT_MAX 256
struct dav_search_term {
	unsigned props; /* DAV_SEARCH_* bits; 0: nothing searchable, never matches */
	int match;      /* enum user_search_match (directory.h) */
	char *text;     /* without a mailto: prefix */
};
enum dav_principal_report_kind {
	DAV_PRINCIPAL_PROPERTY_SEARCH,     /* RFC 3744 9.4 */
	DAV_PRINCIPAL_SEARCH_PROPERTY_SET, /* RFC 3744 9.5 */
	DAV_PRINCIPAL_MATCH,               /* RFC 3744 9.3 */
};
struct dav_principal_report {
	enum dav_principal_report_kind kind;
	bool match_all;         /* search: test="allof" */
	GArray *terms;          /* search: struct dav_search_term */
	bool self;              /* match: DAV:self (else DAV:principal-property) */
	struct dav_propfind pf; /* the properties to answer */
};
/* Parses the body of one of those reports: 0, 1 when the body is another
 * report, -1 with OX_ERR_INVALID. */
int dav_parse_principal_report(const char *body, size_t len, struct dav_principal_report *r_r,
                               struct ox_error *err);
void dav_principal_report_clear(struct dav_principal_report *r);

/* --- methods --- */
dav_method_fn dav_options, dav_report, dav_propfind, dav_proppatch, dav_get, dav_put, dav_delete,
	dav_mkcol, dav_copy, dav_move, dav_lock, dav_unlock, dav_acl;

/* For providers whose first path segment is a login (dav-owner.c): the
 * user it names, 1 found / 0 not / -1; request_begin / request_done that
 * keep it for the request in rq->pstate. */
int dav_owner_lookup(struct dav_request *rq, const char *login, int64_t *owner_r,
                     struct ox_error *err);
int dav_owner_begin(struct dav_request *rq, struct ox_error *err);
void dav_owner_done(struct dav_request *rq);

#endif
