/* folder list, create, share, unshare, move, delete, and public folders.
 * Every command that names a user acts as that user, so the folder
 * layer's permission decision applies as it would to their client;
 * public folder commands act as the system. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "folder/folder.h"

#include <string.h>

/* The acting user and the name of their context. */
struct actor {
	int64_t id, context_id;
	char *context;
};

static int actor_load(struct ctl *c, const char *login, struct actor *a)
{
	struct user_info info;
	memset(a, 0, sizeof(*a));
	int found = user_lookup(c->store, login, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (found <= 0)
		return -1;
	a->id = info.id;
	a->context_id = info.context_id;
	user_info_clear(&info);
	a->context = ctl_context_name(c, a->context_id);
	return a->context != NULL ? 0 : -1;
}

static void actor_clear(struct actor *a)
{
	g_free(a->context);
	memset(a, 0, sizeof(*a));
}

/* The folder layer says "no such folder" without an id: name it. */
static int folder_fail(struct ctl *c, int64_t folder_id)
{
	char message[sizeof(c->err.message)];
	g_strlcpy(message, c->err.message, sizeof(message));
	g_snprintf(c->err.message, sizeof(c->err.message), "folder %" G_GINT64_FORMAT ": %s",
	           folder_id, message);
	return ctl_fail(c);
}

static int parse_module(struct ctl *c, const char *text, enum folder_module *m_r)
{
	if (folder_module_parse(text, m_r) == 0)
		return 0;
	return ox_error_set(&c->err, OX_ERR_INVALID,
	                    "unknown module '%s' (mail, calendar, contacts, tasks, files)", text);
}

/* ENTITY is user:LOGIN, group:NAME (a group of the context), or a bare
 * LOGIN (it holds an '@'). */
static int resolve_entity(struct ctl *c, const char *context, const char *text, int64_t *id_r)
{
	const char *login = g_str_has_prefix(text, "user:") ? text + 5
	                    : strchr(text, '@') != NULL && !g_str_has_prefix(text, "group:") ? text
	                                                                                     : NULL;
	int found;
	if (login != NULL) {
		struct user_info u;
		found = user_lookup(c->store, login, &u, &c->err);
		if (found > 0) {
			*id_r = u.id;
			user_info_clear(&u);
		} else if (found == 0) {
			ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
		}
	} else if (g_str_has_prefix(text, "group:")) {
		struct group_info g;
		found = group_lookup(c->store, context, text + 6, &g, &c->err);
		if (found > 0) {
			*id_r = g.id;
			group_info_clear(&g);
		} else if (found == 0) {
			ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no group %s in context %s",
			             text + 6, context);
		}
	} else {
		return ox_error_set(&c->err, OX_ERR_INVALID, "'%s' is not user:LOGIN or group:NAME",
		                    text);
	}
	return found > 0 ? 0 : -1;
}

static json_t *permissions_json(struct ctl *c, struct ctl_names *names, int64_t folder_id)
{
	struct folder_permission_entry *list = NULL;
	int count = 0;
	if (folder_permissions(c->store, folder_id, &list, &count, &c->err) < 0) {
		g_free(list);
		return NULL;
	}
	json_t *a = json_array();
	for (int i = 0; i < count; i++)
		json_array_append_new(a, json_pack("{ss ss}", "entity",
		                                   ctl_names_entity(names, list[i].entity_id),
		                                   "rights", folder_perm_format(&list[i].perm)));
	g_free(list);
	return a;
}

static json_t *folder_json(struct ctl *c, struct ctl_names *names, const struct folder_info *f)
{
	json_t *perms = permissions_json(c, names, f->id);
	if (perms == NULL)
		return NULL;
	json_t *parent = f->parent_id != 0 ? json_integer(f->parent_id) : json_null();
	const char *owner = f->owner_id != 0 ? ctl_names_plain(names, f->owner_id) : NULL;
	return json_pack("{sI ss ss so ss? ss? sb ss so sI}", "id", (json_int_t)f->id, "name",
	                 f->name, "module", folder_module_name(f->module), "parent_id", parent,
	                 "owner", owner, "role", f->role, "shared", f->shared, "rights",
	                 folder_perm_format(&f->rights), "permissions", perms, "modseq",
	                 (json_int_t)f->modseq);
}

static void print_folders(struct ctl *c, json_t *folders)
{
	struct ctl_table *t = ctl_table_new(7);
	ctl_table_add(t, "ID", "PARENT", "MODULE", "NAME", "OWNER", "RIGHTS", "SHARED WITH");
	size_t i;
	json_t *f;
	json_array_foreach(folders, i, f)
	{
		char *id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
		                           json_integer_value(json_object_get(f, "id")));
		json_t *parent = json_object_get(f, "parent_id");
		char *parent_text = json_is_integer(parent)
		                            ? g_strdup_printf("%" JSON_INTEGER_FORMAT,
		                                              json_integer_value(parent))
		                            : NULL;
		GString *shares = g_string_new(NULL);
		size_t k;
		json_t *p;
		json_array_foreach(json_object_get(f, "permissions"), k, p)
			g_string_append_printf(shares, "%s%s=%s", k > 0 ? "," : "",
		                               json_string_value(json_object_get(p, "entity")),
		                               json_string_value(json_object_get(p, "rights")));
		json_t *owner = json_object_get(f, "owner");
		ctl_table_add(t, id, parent_text, json_string_value(json_object_get(f, "module")),
		              json_string_value(json_object_get(f, "name")),
		              json_is_string(owner) ? json_string_value(owner) : "(public)",
		              json_string_value(json_object_get(f, "rights")),
		              shares->len > 0 ? shares->str : NULL);
		g_string_free(shares, TRUE);
		g_free(parent_text);
		g_free(id);
	}
	ctl_table_print(c, &t);
}

static json_t *folders_json(struct ctl *c, const struct actor *a, enum folder_module module)
{
	struct folder_info **list = NULL;
	struct ctl_names *names = ctl_names_load(c, a->context);
	if (names == NULL || folder_list(c->store, a->id, module, &list, &c->err) < 0) {
		ctl_names_free(&names);
		return NULL;
	}
	json_t *out = json_array();
	for (struct folder_info **f = list; *f != NULL && out != NULL; f++) {
		json_t *item = folder_json(c, names, *f);
		if (item == NULL) {
			json_decref(out);
			out = NULL;
		} else {
			json_array_append_new(out, item);
		}
	}
	folder_list_free(&list);
	ctl_names_free(&names);
	return out;
}

static int cmd_folder_list(struct ctl *c)
{
	const char *module_text = ctl_arg(c, "--module");
	enum folder_module module = 0;
	struct actor a;
	if (module_text != NULL && parse_module(c, module_text, &module) < 0)
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (actor_load(c, ctl_arg(c, "LOGIN"), &a) < 0)
		return ctl_fail(c);
	json_t *folders = folders_json(c, &a, module);
	actor_clear(&a);
	if (folders == NULL)
		return ctl_fail(c);
	if (ctl_flag(c, "--json"))
		return ctl_print_json(c, folders);
	print_folders(c, folders);
	json_decref(folders);
	return CTL_EXIT_OK;
}

static int create_folder(struct ctl *c, int64_t actor, int64_t context_id, bool public_tree)
{
	enum folder_module module;
	int64_t parent = 0, id;
	const char *parent_text = ctl_arg(c, "--parent"), *name = ctl_arg(c, "--name");
	if (parse_module(c, ctl_arg(c, "--module"), &module) < 0 ||
	    (parent_text != NULL && ctl_parse_id(c, "folder id", parent_text, &parent) < 0))
		return ctl_fail(c);
	ctl_audit_detail(c, "module=%s name=%s parent=%" G_GINT64_FORMAT,
	                 folder_module_name(module), name, parent);
	if (folder_create(c->store, actor, context_id, parent, public_tree, module, name, &id,
	                  &c->err) < 0)
		return parent != 0 ? folder_fail(c, parent) : ctl_fail(c);
	ctl_printf(c, "%s folder '%s' created (id %" G_GINT64_FORMAT ")\n",
	           folder_module_name(module), name, id);
	return CTL_EXIT_OK;
}

static int cmd_folder_create(struct ctl *c)
{
	struct actor a;
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (actor_load(c, ctl_arg(c, "LOGIN"), &a) < 0)
		return ctl_fail(c);
	int r = create_folder(c, a.id, a.context_id, false);
	actor_clear(&a);
	return r;
}

/* 0 when folder_id is a public folder of the context, -1 with c->err set. */
static int require_public(struct ctl *c, int64_t context_id, const char *context, int64_t folder_id)
{
	struct folder_info f;
	int found = folder_get(c->store, FOLDER_SYSTEM_ACTOR, folder_id, &f, &c->err);
	bool public_here = found > 0 && f.owner_id == 0 && f.context_id == context_id;
	if (found > 0)
		folder_info_clear(&f);
	if (found < 0)
		return -1;
	if (!public_here)
		return ox_error_set(&c->err, OX_ERR_NOT_FOUND,
		                    "no public folder %" G_GINT64_FORMAT " in %s", folder_id,
		                    context);
	return 0;
}

static int context_id(struct ctl *c, const char *context, int64_t *id_r)
{
	struct context_info info;
	int found = context_lookup(c->store, context, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no context %s", context);
	if (found <= 0)
		return -1;
	*id_r = info.id;
	context_info_clear(&info);
	return 0;
}

static int cmd_folder_public_create(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT"), *parent_text = ctl_arg(c, "--parent");
	int64_t id, parent = 0;
	if (parent_text != NULL && ctl_parse_id(c, "folder id", parent_text, &parent) < 0)
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	/* Acting as the system, only the public tree is this command's. */
	if (context_id(c, context, &id) < 0 ||
	    (parent != 0 && require_public(c, id, context, parent) < 0))
		return ctl_fail(c);
	return create_folder(c, FOLDER_SYSTEM_ACTOR, id, true);
}

/* Grants `rights` (NULL: removes the entity's entry, which must exist) on
 * a folder of the context, acting as `actor`. */
static int set_share(struct ctl *c, int64_t actor, const char *context, const char *rights)
{
	const char *entity = ctl_arg(c, "ENTITY");
	struct folder_perm perm = {0};
	int64_t folder_id, entity_id = 0;
	if (ctl_parse_id(c, "folder id", ctl_arg(c, "FOLDER_ID"), &folder_id) < 0)
		return ctl_fail(c);
	if (rights != NULL && folder_perm_parse(rights, &perm) < 0)
		return ctl_error(c, OX_ERR_INVALID,
		                 "'%s' is not a role (none, viewer, author, editor, admin) or "
		                 "F/R/W/D/A levels",
		                 rights);
	if (resolve_entity(c, context, entity, &entity_id) < 0)
		return ctl_fail(c);
	ctl_audit_target(c, "folder:%" G_GINT64_FORMAT, folder_id);
	ctl_audit_detail(c, "entity=%s rights=%s", entity, folder_perm_format(&perm));
	if (rights == NULL) {
		/* Only the folder's administrator learns whether the share exists. */
		if (folder_check(c->store, actor, folder_id, FOLDER_ADMIN, 0, &c->err) < 0)
			return folder_fail(c, folder_id);
		struct folder_permission_entry *list = NULL;
		int count = 0, found = 0;
		if (folder_permissions(c->store, folder_id, &list, &count, &c->err) < 0) {
			g_free(list);
			return ctl_fail(c);
		}
		for (int i = 0; i < count; i++)
			found |= list[i].entity_id == entity_id;
		g_free(list);
		if (!found)
			return ctl_error(c, OX_ERR_NOT_FOUND,
			                 "folder %" G_GINT64_FORMAT " is not shared with %s",
			                 folder_id, entity);
	}
	if (folder_set_permission(c->store, actor, folder_id, entity_id, &perm, &c->err) < 0)
		return folder_fail(c, folder_id);
	if (rights == NULL)
		ctl_printf(c, "folder %" G_GINT64_FORMAT " no longer shared with %s\n", folder_id,
		           entity);
	else
		ctl_printf(c, "folder %" G_GINT64_FORMAT " shared with %s as %s\n", folder_id,
		           entity, folder_perm_format(&perm));
	return CTL_EXIT_OK;
}

static int share_as_user(struct ctl *c, bool grant)
{
	struct actor a;
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (actor_load(c, ctl_arg(c, "LOGIN"), &a) < 0)
		return ctl_fail(c);
	int r = set_share(c, a.id, a.context, grant ? ctl_arg(c, "RIGHTS") : NULL);
	actor_clear(&a);
	return r;
}

static int cmd_folder_share(struct ctl *c)
{
	return share_as_user(c, true);
}

static int cmd_folder_unshare(struct ctl *c)
{
	return share_as_user(c, false);
}

static int cmd_folder_public_share(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT");
	int64_t id, folder_id;
	if (ctl_parse_id(c, "folder id", ctl_arg(c, "FOLDER_ID"), &folder_id) < 0)
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (context_id(c, context, &id) < 0 || require_public(c, id, context, folder_id) < 0)
		return ctl_fail(c);
	return set_share(c, FOLDER_SYSTEM_ACTOR, context, ctl_arg(c, "RIGHTS"));
}

static int cmd_folder_move(struct ctl *c)
{
	struct actor a;
	int64_t folder_id, parent = 0;
	const char *parent_text = ctl_arg(c, "PARENT_ID");
	if (ctl_parse_id(c, "folder id", ctl_arg(c, "FOLDER_ID"), &folder_id) < 0 ||
	    (strcmp(parent_text, "0") != 0 &&
	     ctl_parse_id(c, "folder id (0 for the top level)", parent_text, &parent) < 0))
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (actor_load(c, ctl_arg(c, "LOGIN"), &a) < 0)
		return ctl_fail(c);
	ctl_audit_target(c, "folder:%" G_GINT64_FORMAT, folder_id);
	ctl_audit_detail(c, "parent=%" G_GINT64_FORMAT, parent);
	int r = folder_move(c->store, a.id, folder_id, parent, &c->err);
	actor_clear(&a);
	if (r < 0)
		return folder_fail(c, folder_id);
	ctl_printf(c, "folder %" G_GINT64_FORMAT " moved\n", folder_id);
	return CTL_EXIT_OK;
}

static int cmd_folder_delete(struct ctl *c)
{
	struct actor a;
	int64_t folder_id;
	if (ctl_parse_id(c, "folder id", ctl_arg(c, "FOLDER_ID"), &folder_id) < 0)
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	if (actor_load(c, ctl_arg(c, "LOGIN"), &a) < 0)
		return ctl_fail(c);
	ctl_audit_target(c, "folder:%" G_GINT64_FORMAT, folder_id);
	int r = folder_delete(c->store, a.id, folder_id, &c->err);
	actor_clear(&a);
	if (r < 0)
		return folder_fail(c, folder_id);
	ctl_printf(c, "folder %" G_GINT64_FORMAT " deleted with its subfolders\n", folder_id);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_folder_commands[] = {
	{"folder list", "LOGIN [--module MODULE] [--json]",
         "List the folders a user sees (own, public, shared) with their rights and shares.",
         cmd_folder_list, 0},
	{"folder create", "LOGIN --module MODULE --name NAME [--parent ID]",
         "Create a folder as the user (top level of their tree without --parent).",
         cmd_folder_create, CTL_WRITE},
	{"folder share", "LOGIN FOLDER_ID ENTITY RIGHTS",
         "Share a folder, acting as LOGIN; ENTITY is user:LOGIN or group:NAME, RIGHTS a role "
         "(none, viewer, author, editor, admin) or F/R/W/D/A levels.",
         cmd_folder_share, CTL_WRITE},
	{"folder unshare", "LOGIN FOLDER_ID ENTITY", "Remove a share, acting as LOGIN.",
         cmd_folder_unshare, CTL_WRITE},
	{"folder move", "LOGIN FOLDER_ID PARENT_ID",
         "Move a folder under another of the same tree (0: the top level), acting as LOGIN.",
         cmd_folder_move, CTL_WRITE},
	{"folder delete", "LOGIN FOLDER_ID", "Delete a folder and its subfolders, acting as LOGIN.",
         cmd_folder_delete, CTL_WRITE},
	{"folder public create", "CONTEXT --module MODULE --name NAME [--parent ID]",
         "Create a public folder of a context, visible to those it is shared with (--parent: "
         "under another public folder).",
         cmd_folder_public_create, CTL_WRITE},
	{"folder public share", "CONTEXT FOLDER_ID ENTITY RIGHTS",
         "Share a public folder (RIGHTS none removes the share).", cmd_folder_public_share,
         CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
