/* WebDAV access control (RFC 3744), written once for every provider: the
 * properties that show a resource's permissions and the ACL method that
 * changes them. The folder layer holds the permissions; a provider only
 * names the folder behind a resource (acl_source), and each ACE is one
 * folder permission entry shown in RFC 3744's words through the one
 * mapping of folder.h (folder_perm_to_dav).
 *
 * What OX permissions can say shapes what the ACL method accepts: they
 * grant and never deny, they belong to users and groups of the folder's
 * context, the owner always holds everything, and objects have no
 * permissions of their own (theirs are the folder's, shown as inherited).
 * So: DAV:acl-restrictions are grant-only and no-invert, and an ACL
 * request replaces the folder's non-owner entries as a whole. */
#include "core/log.h"
#include "dav/dav-private.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "http/http.h"
#include "store/store.h"

#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"

/* --- what decides access to a resource --- */

/* The folder last looked up in this request: PROPFIND asks for several
 * properties of each resource, and a calendar's objects share a folder. */
struct acl_cache {
	int64_t folder_id;
	struct folder_info info; /* as the requesting user sees it */
	char *owner_login;       /* NULL: public, or owned by a resource */
};

struct acl_view {
	struct dav_acl_source src;
	struct folder_perm rights; /* the requesting user's */
	enum folder_module module; /* 0 without a folder */
	int64_t owner_id;          /* 0: none */
	const char *owner_login;   /* NULL: none that is a user principal */
	int64_t context_id;
};

void dav_acl_request_done(struct dav_request *rq)
{
	struct acl_cache *c = rq->acl_cache;
	if (c == NULL)
		return;
	folder_info_clear(&c->info);
	g_free(c->owner_login);
	g_free(c);
	rq->acl_cache = NULL;
}

static struct acl_cache *load_folder(struct dav_request *rq, int64_t folder_id,
                                     struct ox_error *err)
{
	struct acl_cache *c = rq->acl_cache;
	if (c != NULL && c->folder_id == folder_id)
		return c;
	dav_acl_request_done(rq);
	c = g_new0(struct acl_cache, 1);
	int r = folder_get(rq->store, rq->user, folder_id, &c->info, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	if (r > 0 && c->info.owner_id != 0) {
		struct user_info owner;
		r = user_lookup_id(rq->store, c->info.owner_id, &owner, err);
		if (r > 0) {
			c->owner_login = owner.login;
			owner.login = NULL;
			user_info_clear(&owner);
		}
		r = r < 0 ? -1 : 1; /* a resource's folder has no user as owner */
	}
	if (r <= 0) {
		folder_info_clear(&c->info);
		g_free(c);
		return NULL;
	}
	c->folder_id = folder_id;
	rq->acl_cache = c;
	return c;
}

/* 1 with v, 0 when no folder decides (the properties are absent), -1. */
static int acl_view(struct dav_request *rq, struct dav_resource *res, struct acl_view *v,
                    struct ox_error *err)
{
	memset(v, 0, sizeof(*v));
	if (rq->provider->acl_source == NULL || !res->exists ||
	    !rq->provider->acl_source(rq, res, &v->src))
		return 0;
	if (v->src.folder_id == 0) {
		if (!v->src.read_only)
			return 0;
		v->rights = (struct folder_perm){PERM_FOLDER_SEE, PERM_OBJECTS_ALL, 0, 0, false};
		return 1;
	}
	struct acl_cache *c = load_folder(rq, v->src.folder_id, err);
	if (c == NULL)
		return -1;
	v->rights = c->info.rights;
	v->module = c->info.module;
	v->owner_id = c->info.owner_id;
	v->owner_login = c->owner_login;
	v->context_id = c->info.context_id;
	return 1;
}

/* --- privileges as XML --- */

#define PRIV_WRITE_ALL                                                                             \
	(DAV_PRIV_WRITE_CONTENT | DAV_PRIV_WRITE_PROPERTIES | DAV_PRIV_BIND | DAV_PRIV_UNBIND)

static const struct {
	unsigned bits; /* all of them make the privilege */
	const char *xml;
	bool calendar_only;
} privilege_xml[] = {
	{DAV_PRIV_READ, "<D:read/>", false},
	{PRIV_WRITE_ALL, "<D:write/>", false},
	{DAV_PRIV_WRITE_CONTENT, "<D:write-content/>", false},
	{DAV_PRIV_WRITE_PROPERTIES, "<D:write-properties/>", false},
	{DAV_PRIV_BIND, "<D:bind/>", false},
	{DAV_PRIV_UNBIND, "<D:unbind/>", false},
	{DAV_PRIV_UNLOCK, "<D:unlock/>", false},
	{DAV_PRIV_READ_ACL, "<D:read-acl/>", false},
	{DAV_PRIV_WRITE_ACL, "<D:write-acl/>", false},
	{DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET, "<D:read-current-user-privilege-set/>", false},
	/* RFC 6638 6.1.1: scheduling privileges are a calendar's. */
	{DAV_PRIV_READ_FREE_BUSY, "<C:read-free-busy xmlns:C=\"" CALDAV_NS "\"/>", true},
};

/* What a folder permission grants, as RFC 3744 privileges: aggregates
 * (DAV:all, DAV:write) are listed with what they hold (RFC 3744 5.4). */
static void privileges_xml(GString *out, const struct folder_perm *perm, bool calendar)
{
	unsigned bits = folder_perm_to_dav(perm);
	if (!calendar)
		bits &= ~(unsigned)DAV_PRIV_READ_FREE_BUSY;
	bool all = true;
	for (size_t i = 0; i < G_N_ELEMENTS(privilege_xml); i++) {
		if (!privilege_xml[i].calendar_only || calendar)
			all = all && (bits & privilege_xml[i].bits) == privilege_xml[i].bits;
	}
	if (all)
		g_string_append(out, "<D:privilege><D:all/></D:privilege>");
	for (size_t i = 0; i < G_N_ELEMENTS(privilege_xml); i++) {
		if ((bits & privilege_xml[i].bits) == privilege_xml[i].bits &&
		    (!privilege_xml[i].calendar_only || calendar))
			g_string_append_printf(out, "<D:privilege>%s</D:privilege>",
			                       privilege_xml[i].xml);
	}
}

static void supported_privilege(GString *out, const char *xml, const char *description,
                                const char *children)
{
	g_string_append_printf(out,
	                       "<D:supported-privilege><D:privilege>%s</D:privilege>"
	                       "<D:description xml:lang=\"en\">%s</D:description>%s"
	                       "</D:supported-privilege>",
	                       xml, description, children);
}

/* RFC 3744 5.3: the tree of privileges, shaped so that holding an
 * aggregate means holding what it contains under folder_perm_to_dav(). */
static void supported_privilege_set(GString *out, bool calendar)
{
	GString *read = g_string_new(NULL), *write = g_string_new(NULL);
	GString *all = g_string_new(NULL);
	if (calendar)
		supported_privilege(read, privilege_xml[G_N_ELEMENTS(privilege_xml) - 1].xml,
		                    "Read free/busy time", "");
	supported_privilege(write, "<D:write-content/>", "Write objects", "");
	supported_privilege(write, "<D:write-properties/>", "Write properties", "");
	supported_privilege(write, "<D:bind/>", "Add objects", "");
	supported_privilege(write, "<D:unbind/>", "Remove objects", "");
	supported_privilege(all, "<D:read/>", "Read", read->str);
	supported_privilege(all, "<D:write/>", "Write", write->str);
	supported_privilege(all, "<D:unlock/>", "Remove others' locks", "");
	supported_privilege(all, "<D:read-acl/>", "Read the permissions", "");
	supported_privilege(all, "<D:read-current-user-privilege-set/>", "Read your own rights",
	                    "");
	supported_privilege(all, "<D:write-acl/>", "Change the permissions", "");
	g_string_append(out, "<D:supported-privilege-set>");
	supported_privilege(out, "<D:all/>", "Everything", all->str);
	g_string_append(out, "</D:supported-privilege-set>");
	g_string_free(read, TRUE);
	g_string_free(write, TRUE);
	g_string_free(all, TRUE);
}

/* --- principals as hrefs --- */

static void user_href(GString *out, const char *login)
{
	char *esc = g_uri_escape_string(login, "@", FALSE);
	char *xml = dav_xml_escape(esc);
	g_string_append_printf(out, "<D:href>" DAV_PRINCIPALS "%s/</D:href>", xml);
	g_free(xml);
	g_free(esc);
}

static void group_href(GString *out, const char *name)
{
	char *esc = g_uri_escape_string(name, NULL, FALSE);
	char *xml = dav_xml_escape(esc);
	g_string_append_printf(out, "<D:href>" DAV_GROUP_PRINCIPALS "%s/</D:href>", xml);
	g_free(xml);
	g_free(esc);
}

/* A permission entry's principal: 1 appended, 0 the entity is neither a
 * user nor a group (nothing appended), -1. */
static int entity_href(struct dav_request *rq, int64_t entity, GString *out, struct ox_error *err)
{
	struct user_info user;
	int r = user_lookup_id(rq->store, entity, &user, err);
	if (r > 0) {
		user_href(out, user.login);
		user_info_clear(&user);
		return 1;
	}
	if (r < 0)
		return -1;
	struct group_info group;
	r = group_lookup_id(rq->store, entity, &group, err);
	if (r > 0) {
		group_href(out, group.name);
		group_info_clear(&group);
	}
	return r;
}

/* --- the properties (RFC 3744 5) --- */

static const char *const acl_properties[] = {
	"owner",
	"current-user-privilege-set",
	"supported-privilege-set",
	"acl",
	"acl-restrictions",
	"inherited-acl-set",
	"principal-collection-set",
};

bool dav_acl_is_property(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) != 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(acl_properties); i++) {
		if (strcmp(acl_properties[i], name) == 0)
			return true;
	}
	return false;
}

/* The collection an object inherits its ACEs from. */
static char *parent_href(struct dav_request *rq, char **segs, size_t n)
{
	char *href = dav_href(rq, segs, n > 0 ? n - 1 : 0, true);
	char *esc = dav_xml_escape(href);
	g_free(href);
	return esc;
}

static void inherited_xml(GString *out, const struct acl_view *v, const char *parent)
{
	if (v->src.object)
		g_string_append_printf(out, "<D:inherited><D:href>%s</D:href></D:inherited>",
		                       parent);
}

/* RFC 3744 5.5: the owner's protected ACE, then one per permission. */
static int acl_xml(struct dav_request *rq, const struct acl_view *v, const char *parent,
                   GString *out, struct ox_error *err)
{
	bool calendar = v->module == FOLDER_CALENDAR;
	g_string_append(out, "<D:acl>");
	if (v->src.read_only) {
		/* Everyone who sees it (the context's users) reads it. */
		g_string_append(out,
		                "<D:ace><D:principal><D:authenticated/></D:principal><D:grant>");
		privileges_xml(out, &v->rights, false);
		g_string_append(out, "</D:grant><D:protected/></D:ace></D:acl>");
		return 0;
	}
	if (v->owner_login != NULL) {
		g_string_append(out, "<D:ace><D:principal>");
		user_href(out, v->owner_login);
		g_string_append(out, "</D:principal><D:grant><D:privilege><D:all/></D:privilege>"
		                     "</D:grant><D:protected/>");
		inherited_xml(out, v, parent);
		g_string_append(out, "</D:ace>");
	}
	struct folder_permission_entry *entries = NULL;
	int count = 0;
	if (folder_permissions(rq->store, v->src.folder_id, &entries, &count, err) < 0)
		return -1;
	int r = 0;
	for (int i = 0; r >= 0 && i < count; i++) {
		if (folder_perm_to_dav(&entries[i].perm) == 0)
			continue;
		GString *ace = g_string_new("<D:ace><D:principal>");
		r = entity_href(rq, entries[i].entity_id, ace, err);
		if (r > 0) {
			g_string_append(ace, "</D:principal><D:grant>");
			privileges_xml(ace, &entries[i].perm, calendar);
			g_string_append(ace, "</D:grant>");
			inherited_xml(ace, v, parent);
			g_string_append(ace, "</D:ace>");
			g_string_append(out, ace->str);
		}
		g_string_free(ace, TRUE);
	}
	g_free(entries);
	g_string_append(out, "</D:acl>");
	return r < 0 ? -1 : 0;
}

static int view_prop(struct dav_request *rq, char **segs, size_t n, const struct acl_view *v,
                     const char *name, GString *out, GString *denied, struct ox_error *err)
{
	bool calendar = v->module == FOLDER_CALENDAR;
	unsigned mine = folder_perm_to_dav(&v->rights);
	if (strcmp(name, "owner") == 0) {
		if (v->owner_login == NULL) {
			g_string_append(out, "<D:owner/>");
			return 1;
		}
		g_string_append(out, "<D:owner>");
		user_href(out, v->owner_login);
		g_string_append(out, "</D:owner>");
	} else if (strcmp(name, "current-user-privilege-set") == 0) {
		g_string_append(out, "<D:current-user-privilege-set>");
		privileges_xml(out, &v->rights, calendar);
		g_string_append(out, "</D:current-user-privilege-set>");
	} else if (strcmp(name, "supported-privilege-set") == 0) {
		supported_privilege_set(out, calendar);
	} else if (strcmp(name, "acl") == 0) {
		/* RFC 3744 5.5: reading the ACL takes DAV:read-acl. */
		if (!(mine & DAV_PRIV_READ_ACL)) {
			g_string_append(denied, "<D:acl/>");
			return 1;
		}
		char *parent = parent_href(rq, segs, n);
		int r = acl_xml(rq, v, parent, out, err);
		g_free(parent);
		if (r < 0)
			return -1;
	} else if (strcmp(name, "acl-restrictions") == 0) {
		g_string_append(out, "<D:acl-restrictions><D:grant-only/><D:no-invert/>"
		                     "</D:acl-restrictions>");
	} else if (strcmp(name, "inherited-acl-set") == 0) {
		g_string_append(out, "<D:inherited-acl-set>");
		if (v->src.object) {
			char *parent = parent_href(rq, segs, n);
			g_string_append_printf(out, "<D:href>%s</D:href>", parent);
			g_free(parent);
		}
		g_string_append(out, "</D:inherited-acl-set>");
	} else {
		return 0;
	}
	return 1;
}

int dav_acl_prop(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                 const char *ns, const char *name, GString *out, GString *denied)
{
	if (!dav_acl_is_property(ns, name))
		return 0;
	/* RFC 3744 5.8: where principals are, on every resource. */
	if (strcmp(name, "principal-collection-set") == 0) {
		g_string_append(out, "<D:principal-collection-set><D:href>" DAV_PRINCIPALS
		                     "</D:href></D:principal-collection-set>");
		return 1;
	}
	struct acl_view v;
	struct ox_error err = {0};
	GString *text = g_string_new(NULL);
	int r = acl_view(rq, res, &v, &err);
	if (r > 0)
		r = view_prop(rq, segs, n, &v, name, text, denied, &err);
	if (r > 0)
		g_string_append(out, text->str);
	else if (r < 0)
		ox_log_kv(OX_LOG_WARN, "dav_acl_prop", "property", name, "error", err.message,
		          NULL);
	g_string_free(text, TRUE);
	return r > 0 ? 1 : 0;
}

/* --- the ACL method (RFC 3744 8.1) --- */

/* From RFC 3744 privileges to the nearest OX permission, never granting
 * more than asked except where OX has no finer level:
 *   DAV:write-acl (so DAV:all)   admin (who may change the ACL may
 *                                take any right: the same power)
 *   DAV:read                     read all objects
 *   DAV:write-content            write all objects
 *   DAV:bind                     create objects and subfolders
 *   DAV:unbind                   delete all objects
 *   any privilege                see the folder
 * so DAV:read is "viewer", DAV:read + DAV:write "editor", DAV:all "admin",
 * CALDAV:read-free-busy alone the free/busy-only 1/0/0/0/0. Alone,
 * DAV:write-properties, DAV:unlock and DAV:read-acl have no OX level
 * short of admin and add only "see". */
static struct folder_perm perm_from_privileges(unsigned privs)
{
	if (privs & DAV_PRIV_WRITE_ACL)
		return (struct folder_perm){PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN,
		                            PERM_OBJECTS_ADMIN, true};
	struct folder_perm p = {0};
	if (privs != 0)
		p.folder = PERM_FOLDER_SEE;
	if (privs & DAV_PRIV_BIND)
		p.folder = PERM_FOLDER_CREATE_SUBFOLDERS;
	if (privs & DAV_PRIV_READ)
		p.read = PERM_OBJECTS_ALL;
	if (privs & DAV_PRIV_WRITE_CONTENT)
		p.write = PERM_OBJECTS_ALL;
	if (privs & DAV_PRIV_UNBIND)
		p.del = PERM_OBJECTS_ALL;
	return p;
}

/* The new entries: entity id → permission, with a label for the audit. */
struct acl_entry {
	int64_t entity;
	char *label; /* user:LOGIN or group:NAME */
	struct folder_perm perm;
};

static void acl_entry_clear(gpointer data)
{
	g_free(((struct acl_entry *)data)->label);
}

/* Which user or group of the context an ACE's href names: 1, 0, -1. */
static int resolve_principal(struct dav_request *rq, const char *href, int64_t context_id,
                             struct acl_entry *e, struct ox_error *err)
{
	size_t n = 0;
	char **segs = dav_url_segs(href, DAV_PRINCIPALS, &n);
	int r = 0;
	if (segs != NULL && n == 1 && strcmp(segs[0], "groups") != 0) {
		struct user_info user;
		r = user_lookup(rq->store, segs[0], &user, err);
		if (r > 0 && user.context_id == context_id) {
			e->entity = user.id;
			e->label = g_strconcat("user:", user.login, NULL);
		} else if (r > 0) {
			r = 0;
		}
		if (r >= 0)
			user_info_clear(&user);
	} else if (segs != NULL && n == 2 && strcmp(segs[0], "groups") == 0) {
		struct context_info ctx;
		r = context_lookup_id(rq->store, context_id, &ctx, err);
		struct group_info group;
		if (r > 0 && (r = group_lookup(rq->store, ctx.name, segs[1], &group, err)) > 0) {
			e->entity = group.id;
			e->label = g_strconcat("group:", group.name, NULL);
			group_info_clear(&group);
		}
		if (ctx.name != NULL)
			context_info_clear(&ctx);
	}
	g_strfreev(segs);
	return r;
}

struct acl_change {
	struct dav_request *rq;
	const struct acl_view *view;
	GArray *entries;  /* struct acl_entry */
	const char *cond; /* the precondition that failed */
	struct ox_error *err;
};

static int refuse(struct acl_change *c, const char *cond, const char *message)
{
	c->cond = cond;
	return ox_error_set(c->err, OX_ERR_PERM, "%s", message);
}

static int add_ace(struct acl_change *c, const struct dav_ace *ace)
{
	if (ace->invert)
		return refuse(c, "no-invert", "ACEs with DAV:invert are not supported");
	if (ace->deny)
		return refuse(c, "grant-only", "permissions grant; they cannot deny");
	if (ace->is_protected)
		return refuse(c, "no-protected-ace-conflict", "protected ACEs cannot be set");
	if (ace->inherited)
		return refuse(c, "no-inherited-ace-conflict", "inherited ACEs cannot be set");
	if (ace->kind != DAV_ACE_HREF)
		return refuse(c, "allowed-principal", "permissions name a user or a group");
	struct acl_entry e = {0};
	int r = resolve_principal(c->rq, ace->href, c->view->context_id, &e, c->err);
	if (r <= 0)
		return r < 0 ? -1
		             : refuse(c, "recognized-principal",
		                      "not a user or group principal of this context");
	if (e.entity == c->view->owner_id) {
		g_free(e.label);
		return refuse(c, "no-protected-ace-conflict", "the owner always holds every right");
	}
	struct folder_perm perm = perm_from_privileges(ace->privileges);
	/* Two ACEs for one principal grant together. */
	for (guint i = 0; i < c->entries->len; i++) {
		struct acl_entry *old = &g_array_index(c->entries, struct acl_entry, i);
		if (old->entity == e.entity) {
			g_free(e.label);
			old->perm = perm_from_privileges(ace->privileges |
			                                 folder_perm_to_dav(&old->perm));
			return 0;
		}
	}
	e.perm = perm;
	g_array_append_val(c->entries, e);
	return 0;
}

static bool perm_same(const struct folder_perm *a, const struct folder_perm *b)
{
	return folder_perm_pack(a) == folder_perm_pack(b);
}

static const struct acl_entry *find_entry(GArray *entries, int64_t entity)
{
	for (guint i = 0; i < entries->len; i++) {
		const struct acl_entry *e = &g_array_index(entries, struct acl_entry, i);
		if (e->entity == entity)
			return e;
	}
	return NULL;
}

static int audit_change(struct acl_change *c, bool success)
{
	GString *detail = g_string_new(NULL);
	for (guint i = 0; i < c->entries->len; i++) {
		const struct acl_entry *e = &g_array_index(c->entries, struct acl_entry, i);
		g_string_append_printf(detail, "%s%s=%s", i > 0 ? "," : "", e->label,
		                       folder_perm_format(&e->perm));
	}
	char target[40];
	g_snprintf(target, sizeof(target), "folder:%" G_GINT64_FORMAT, c->view->src.folder_id);
	const char *login = dav_user_login(c->rq);
	struct ox_error ignored;
	int r = audit_log(c->rq->store, login != NULL ? login : "?", "dav acl", target, NULL,
	                  success, detail->len > 0 ? detail->str : "(no shares)",
	                  success ? c->err : &ignored);
	g_string_free(detail, TRUE);
	return r;
}

/* A refused change is recorded too, as oxctl records refused shares. */
static void audit_refused(struct acl_change *c)
{
	struct ox_error ignored;
	if (store_begin(c->rq->store, &ignored) < 0)
		return;
	if (audit_change(c, false) < 0 || store_commit(c->rq->store, &ignored) < 0)
		store_rollback(c->rq->store);
}

/* Replaces the folder's entries by c->entries in one transaction. */
static int apply_entries(struct acl_change *c)
{
	struct store *s = c->rq->store;
	int64_t folder = c->view->src.folder_id;
	struct folder_permission_entry *old = NULL;
	int count = 0;
	if (store_begin(s, c->err) < 0)
		return -1;
	int r = folder_permissions(s, folder, &old, &count, c->err);
	static const struct folder_perm none = {0};
	for (int i = 0; r == 0 && i < count; i++) {
		if (find_entry(c->entries, old[i].entity_id) == NULL)
			r = folder_set_permission(s, c->rq->user, folder, old[i].entity_id, &none,
			                          c->err);
	}
	for (guint i = 0; r == 0 && i < c->entries->len; i++) {
		const struct acl_entry *e = &g_array_index(c->entries, struct acl_entry, i);
		bool unchanged = false;
		for (int k = 0; k < count; k++)
			unchanged = unchanged || (old[k].entity_id == e->entity &&
			                          perm_same(&old[k].perm, &e->perm));
		if (!unchanged)
			r = folder_set_permission(s, c->rq->user, folder, e->entity, &e->perm,
			                          c->err);
	}
	g_free(old);
	if (r == 0)
		r = audit_change(c, true);
	if (r < 0 || store_commit(s, c->err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

static void reply_need_write_acl(struct dav_request *rq)
{
	char *href = dav_href(rq, rq->segs, rq->nsegs, true);
	char *esc = dav_xml_escape(href);
	char *body = g_strdup_printf(
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<D:error xmlns:D=\"DAV:\"><D:need-privileges><D:resource><D:href>%s</D:href>"
		"<D:privilege><D:write-acl/></D:privilege></D:resource></D:need-privileges>"
		"</D:error>\n",
		esc);
	http_reply(rq->ex, 403, "application/xml; charset=utf-8", body, strlen(body));
	g_free(body);
	g_free(esc);
	g_free(href);
}

static void acl_on(struct dav_request *rq, struct dav_resource *res, GArray *aces)
{
	struct acl_view v;
	struct ox_error err = {0};
	int r = acl_view(rq, res, &v, &err);
	if (r < 0) {
		dav_reply_error(rq, &err);
		return;
	}
	if (r == 0 || v.src.folder_id == 0) {
		http_reply_status(rq->ex, 403, "permissions are set on folders\n");
		return;
	}
	if (!v.rights.admin) {
		reply_need_write_acl(rq);
		return;
	}
	/* An object's ACEs are its folder's (RFC 3744 5.5: all inherited). */
	if (v.src.object) {
		dav_reply_condition(rq, 403, DAV_NS, "no-inherited-ace-conflict",
		                    "an object has its folder's permissions: set them there");
		return;
	}
	struct acl_change c = {rq, &v, g_array_new(FALSE, TRUE, sizeof(struct acl_entry)), NULL,
	                       &err};
	g_array_set_clear_func(c.entries, acl_entry_clear);
	r = 0;
	for (guint i = 0; r == 0 && i < aces->len; i++)
		r = add_ace(&c, &g_array_index(aces, struct dav_ace, i));
	if (r == 0)
		r = apply_entries(&c);
	if (r < 0 && c.cond != NULL) {
		dav_reply_condition(rq, 403, DAV_NS, c.cond, err.message);
		audit_refused(&c);
	} else if (r < 0) {
		dav_reply_error(rq, &err);
	} else {
		http_reply_status(rq->ex, 200, NULL);
	}
	g_array_unref(c.entries);
}

void dav_acl(struct dav_request *rq)
{
	char *body;
	size_t len;
	if (dav_read_xml_body_or_reply(rq, &body, &len) < 0)
		return;
	GArray *aces = NULL;
	const char *cond = NULL;
	struct dav_resource res = {0};
	struct ox_error err = {0};
	if (body == NULL) {
		http_reply_status(rq->ex, 400, "ACL needs a DAV:acl body\n");
	} else if (dav_parse_acl(body, len, &aces, &cond, &err) < 0) {
		if (cond != NULL)
			dav_reply_condition(rq, 403, DAV_NS, cond, err.message);
		else
			http_reply_status(rq->ex, err.code == OX_ERR_LIMIT ? 413 : 400,
			                  "malformed DAV:acl\n");
	} else if (rq->provider->lookup(rq, rq->segs, rq->nsegs, &res, &err) < 0) {
		dav_reply_error(rq, &err);
	} else if (!res.exists) {
		http_reply_status(rq->ex, 404, NULL);
	} else {
		acl_on(rq, &res, aces);
	}
	dav_aces_free(&aces);
	dav_resource_clear(rq, &res);
	g_free(body);
}

/* --- refusals for want of a privilege (RFC 3744 7.1.1) --- */

/* The privileges the requester holds on res (the resource segs name): its
 * folder's. A home and the root of a files tree have no folder; there the
 * owner (the login of the first segment) holds every privilege and others
 * read, as only the owner adds collections there. 1 with *held_r, 0 when
 * nothing says (no folder and not a home), -1. */
static int held_privileges(struct dav_request *rq, char **segs, size_t n, struct dav_resource *res,
                           unsigned *held_r, struct ox_error *err)
{
	struct acl_view v;
	int r = acl_view(rq, res, &v, err);
	if (r != 0) {
		if (r > 0)
			*held_r = folder_perm_to_dav(&v.rights);
		return r;
	}
	if (rq->provider->acl_source == NULL || !res->exists || !res->collection || n != 1)
		return 0;
	struct user_info owner;
	r = user_lookup(rq->store, segs[0], &owner, err);
	if (r <= 0)
		return r;
	*held_r = owner.id == rq->user ? ~0u : (unsigned)DAV_PRIV_READ;
	user_info_clear(&owner);
	return 1;
}

/* Appends a DAV:resource to out when the requester lacks `privilege` on
 * the resource segs name (one that exists and whose privileges are known). */
static void add_missing(struct dav_request *rq, char **segs, size_t n, unsigned privilege,
                        GString *out)
{
	struct dav_resource res = {0};
	struct ox_error err = {0};
	unsigned held = 0;
	if (rq->provider->lookup(rq, segs, n, &res, &err) > 0 &&
	    held_privileges(rq, segs, n, &res, &held, &err) > 0 && (held & privilege) == 0) {
		const char *xml = NULL;
		for (size_t i = 0; xml == NULL && i < G_N_ELEMENTS(privilege_xml); i++) {
			if (privilege_xml[i].bits == privilege)
				xml = privilege_xml[i].xml;
		}
		char *href = dav_href(rq, segs, n, res.collection);
		char *esc = dav_xml_escape(href);
		g_string_append_printf(out,
		                       "<D:resource><D:href>%s</D:href><D:privilege>%s"
		                       "</D:privilege></D:resource>",
		                       esc, xml);
		g_free(esc);
		g_free(href);
	}
	dav_resource_clear(rq, &res);
}

static bool segs_exist(struct dav_request *rq, char **segs, size_t n)
{
	struct dav_resource res = {0};
	struct ox_error err = {0};
	bool exists = rq->provider->lookup(rq, segs, n, &res, &err) > 0 && res.exists;
	dav_resource_clear(rq, &res);
	return exists;
}

static bool is_method(const char *method, const char *name)
{
	return strcmp(method, name) == 0;
}

/* What a method needs, after RFC 3744 Appendix B: read to read; a new
 * member bind on its collection, a removed one unbind there; writing
 * content write-content, properties write-properties; UNLOCK of another's
 * lock unlock. An overwritten COPY or MOVE target is removed and made
 * anew here, so it needs unbind and bind on its collection. */
bool dav_reply_need_privileges(struct dav_request *rq)
{
	const char *method = http_request_method(rq->ex);
	char **segs = rq->segs;
	size_t n = rq->nsegs, parent = n > 0 ? n - 1 : 0;
	GString *out = g_string_new(NULL);
	if (is_method(method, "GET") || is_method(method, "HEAD") ||
	    is_method(method, "PROPFIND") || is_method(method, "REPORT")) {
		add_missing(rq, segs, n, DAV_PRIV_READ, out);
	} else if (is_method(method, "PUT") ||
	           (is_method(method, "LOCK") &&
	            rq->provider->lock_create != dav_refuse_lock_create)) {
		/* A space without locks refuses LOCK whatever the rights. */
		if (segs_exist(rq, segs, n))
			add_missing(rq, segs, n, DAV_PRIV_WRITE_CONTENT, out);
		else
			add_missing(rq, segs, parent, DAV_PRIV_BIND, out);
	} else if (is_method(method, "PROPPATCH")) {
		add_missing(rq, segs, n, DAV_PRIV_WRITE_PROPERTIES, out);
	} else if (is_method(method, "DELETE")) {
		add_missing(rq, segs, parent, DAV_PRIV_UNBIND, out);
	} else if (is_method(method, "MKCOL") || is_method(method, "MKCALENDAR")) {
		add_missing(rq, segs, parent, DAV_PRIV_BIND, out);
	} else if (is_method(method, "UNLOCK")) {
		add_missing(rq, segs, n, DAV_PRIV_UNLOCK, out);
	} else if (is_method(method, "ACL")) {
		add_missing(rq, segs, n, DAV_PRIV_WRITE_ACL, out);
	} else if (is_method(method, "COPY") || is_method(method, "MOVE")) {
		if (is_method(method, "MOVE"))
			add_missing(rq, segs, parent, DAV_PRIV_UNBIND, out);
		const char *dest = http_request_header(rq->ex, "Destination");
		size_t dn = 0;
		char **dsegs = dest != NULL ? dav_target_segs(rq, dest, &dn) : NULL;
		if (dsegs != NULL && dn > 0) {
			if (segs_exist(rq, dsegs, dn))
				add_missing(rq, dsegs, dn - 1, DAV_PRIV_UNBIND, out);
			add_missing(rq, dsegs, dn - 1, DAV_PRIV_BIND, out);
		}
		g_strfreev(dsegs);
	}
	bool answered = out->len > 0;
	if (answered) {
		g_string_prepend(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		                      "<D:error xmlns:D=\"DAV:\"><D:need-privileges>");
		g_string_append(out, "</D:need-privileges></D:error>\n");
		http_reply(rq->ex, 403, "application/xml; charset=utf-8", out->str, out->len);
	}
	g_string_free(out, TRUE);
	return answered;
}
