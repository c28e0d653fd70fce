/* Folders: one tree per context for mail, calendars, contacts, tasks and
 * files; private folders of a user, public folders, and the shared view of
 * other users' folders. Every access is decided by folder_rights() and
 * folder_check() below, and nowhere else.
 *
 * Actor 0 is the system (oxctl, the server itself): it passes every check.
 * Errors: OX_ERR_NOT_FOUND also for folders the actor may not see (their
 * existence is not revealed), OX_ERR_PERM, OX_ERR_INVALID, OX_ERR_EXISTS. */
#ifndef OX_FOLDER_H
#define OX_FOLDER_H

#include <stdbool.h>
#include <stdint.h>

struct ox_error;
struct store;

#define FOLDER_SYSTEM_ACTOR 0

enum folder_module {
	FOLDER_MAIL = 1,
	FOLDER_CALENDAR = 2,
	FOLDER_CONTACTS = 3,
	FOLDER_TASKS = 4,
	FOLDER_FILES = 5,
};

/* Open-Xchange permission levels; each includes those below it. */
enum {
	PERM_FOLDER_NONE = 0,
	PERM_FOLDER_SEE = 1,
	PERM_FOLDER_CREATE_OBJECTS = 2,
	PERM_FOLDER_CREATE_SUBFOLDERS = 4,
	PERM_FOLDER_ALL = 64,
};
enum {
	PERM_OBJECTS_NONE = 0,
	PERM_OBJECTS_OWN = 1,
	PERM_OBJECTS_ALL = 2,
	PERM_OBJECTS_ADMIN = 64,
};

struct folder_perm {
	int folder; /* PERM_FOLDER_* */
	int read;   /* PERM_OBJECTS_* */
	int write;
	int del;
	bool admin; /* rename, move, delete the folder, change its permissions */
};

/* Open-Xchange's packing into one integer: bits 0-6 folder, 7-13 read,
 * 14-20 write, 21-27 delete, 28 admin. */
uint32_t folder_perm_pack(const struct folder_perm *p);
void folder_perm_unpack(uint32_t bits, struct folder_perm *p);
/* Parses a role (none, viewer, author, editor, admin) or "F/R/W/D/A"
 * numbers such as "2/2/1/1/0"; -1 when malformed or a level is not one of
 * the defined values. */
int folder_perm_parse(const char *text, struct folder_perm *p);
/* The role name for a permission, or its "F/R/W/D/A" form. Static buffer
 * per thread. */
const char *folder_perm_format(const struct folder_perm *p);

struct folder_info {
	int64_t id;
	int64_t context_id;
	int64_t parent_id; /* 0: top level */
	int64_t owner_id;  /* 0: public */
	enum folder_module module;
	char *name;
	char *role; /* inbox, sent, calendar ...; NULL for user folders */
	int64_t modseq;
	struct folder_perm rights; /* the viewer's effective rights */
	bool shared;               /* another user's folder shared with the viewer */
};

const char *folder_module_name(enum folder_module m);
int folder_module_parse(const char *name, enum folder_module *m_r);

/* Creates a folder under parent (0: top level of the actor's private tree,
 * or of the public tree when `public_tree`). The actor needs
 * create-subfolders on the parent. The creator gets admin on it. */
int folder_create(struct store *s, int64_t actor, int64_t context_id, int64_t parent_id,
                  bool public_tree, enum folder_module module, const char *name, int64_t *id_r,
                  struct ox_error *err);
int folder_rename(struct store *s, int64_t actor, int64_t folder_id, const char *name,
                  struct ox_error *err);
/* Refuses a move into the folder's own subtree (a cycle), into another
 * module's or owner's tree. */
int folder_move(struct store *s, int64_t actor, int64_t folder_id, int64_t new_parent_id,
                struct ox_error *err);
/* Deletes the folder and its subfolders; leaves tombstones. */
int folder_delete(struct store *s, int64_t actor, int64_t folder_id, struct ox_error *err);

/* A folder as the viewer sees it: 1, 0 (absent or invisible), -1. */
int folder_get(struct store *s, int64_t viewer, int64_t folder_id, struct folder_info *info_r,
               struct ox_error *err);
/* The viewer's folders: own private, visible public, shared by others.
 * module 0: all modules. NULL-terminated array. */
int folder_list(struct store *s, int64_t viewer, enum folder_module module,
                struct folder_info ***list_r, struct ox_error *err);
/* Folder of a user by role (inbox, calendar ...): 1, 0, -1. */
int folder_by_role(struct store *s, int64_t owner, const char *role, int64_t *id_r,
                   struct ox_error *err);
/* The owner's (a user's or a resource's) folder with this role, made
 * with `name` (or "name (2)" ...) when it has none: 0 or -1. For folders
 * the server keeps for a principal, such as a resource's calendar. */
int folder_by_role_or_create(struct store *s, int64_t owner, enum folder_module module,
                             const char *role, const char *name, int64_t *id_r,
                             struct ox_error *err);
void folder_info_clear(struct folder_info *info);
void folder_list_free(struct folder_info ***list);

/* Grants (or, with all levels 0 and no admin, removes) an entity's
 * permission. The actor needs admin on the folder; the entity must be a
 * user or group of the folder's context. */
int folder_set_permission(struct store *s, int64_t actor, int64_t folder_id, int64_t entity_id,
                          const struct folder_perm *perm, struct ox_error *err);
struct folder_permission_entry {
	int64_t entity_id;
	struct folder_perm perm;
};
int folder_permissions(struct store *s, int64_t folder_id, struct folder_permission_entry **list_r,
                       int *count_r, struct ox_error *err);

/* --- the decision --- */
enum folder_action {
	FOLDER_SEE,
	FOLDER_CREATE_OBJECT,
	FOLDER_CREATE_SUBFOLDER,
	FOLDER_READ_OBJECT,
	FOLDER_WRITE_OBJECT,
	FOLDER_DELETE_OBJECT,
	FOLDER_ADMIN,
};
/* The user's effective rights on a folder: the union of their own entry
 * and their groups' entries; the owner of a private folder holds all. */
int folder_rights(struct store *s, int64_t user, int64_t folder_id, struct folder_perm *rights_r,
                  struct ox_error *err);
/* Whether rights allow an action; own_object says the object was created
 * by the user (the "own" levels). Pure. */
bool folder_rights_allow(const struct folder_perm *rights, enum folder_action action,
                         bool own_object);
/* folder_rights() + folder_rights_allow(): 0 allowed, -1 with
 * OX_ERR_NOT_FOUND (cannot even see it) or OX_ERR_PERM. object_creator is
 * the object's creator for object actions (0 when none). */
int folder_check(struct store *s, int64_t user, int64_t folder_id, enum folder_action action,
                 int64_t object_creator, struct ox_error *err);

/* --- the three protocol mappings (pure) --- */
/* RFC 4314 rights letters the permission grants, in "lrswipkxtea" order. */
void folder_perm_to_imap(const struct folder_perm *p, char out[16]);
/* The permission IMAP SETACL rights ask for (RFC 4314 2.1.1 obsolete c and
 * d included). -1 on letters outside RFC 4314. */
int folder_perm_from_imap(const char *rights, struct folder_perm *p);

/* RFC 3744 privileges, as a bit set. */
enum dav_privilege {
	DAV_PRIV_READ = 1 << 0,
	DAV_PRIV_WRITE_CONTENT = 1 << 1,
	DAV_PRIV_WRITE_PROPERTIES = 1 << 2,
	DAV_PRIV_BIND = 1 << 3,
	DAV_PRIV_UNBIND = 1 << 4,
	DAV_PRIV_READ_ACL = 1 << 5,
	DAV_PRIV_WRITE_ACL = 1 << 6,
	DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET = 1 << 7,
	DAV_PRIV_UNLOCK = 1 << 8,
	/* CalDAV scheduling (RFC 6638 6.1.1) on calendars. */
	DAV_PRIV_READ_FREE_BUSY = 1 << 9,
};
unsigned folder_perm_to_dav(const struct folder_perm *p);

/* JMAP share rights (RFC 8621 2 for mailboxes, RFC 9670 / JMAP calendars
 * for others), as the booleans clients see. */
struct jmap_rights {
	bool may_read_items;
	bool may_add_items;
	bool may_remove_items;
	bool may_set_seen;
	bool may_set_keywords;
	bool may_create_child;
	bool may_rename;
	bool may_delete;
	bool may_submit;
	bool may_write_own;
	bool may_write_all;
	bool may_admin;
};
void folder_perm_to_jmap(const struct folder_perm *p, struct jmap_rights *out);

/* --- change tracking --- */
/* Stamps `object` in the folder with the next modseq of the folder's
 * account (create or update; deleted=true leaves a tombstone). */
int change_record(struct store *s, int64_t folder_id, const char *object, int64_t actor,
                  bool deleted, int64_t *modseq_r, struct ox_error *err);
typedef int change_fn(const char *object, int64_t modseq, bool deleted, void *ctx);
/* Calls fn for every object changed after `since`, in modseq order;
 * *current_r gets the folder's newest modseq. A since older than the
 * oldest tombstone kept would need a full resync: not yet pruned, so every
 * since is answerable. */
int changes_since(struct store *s, int64_t folder_id, int64_t since, change_fn *fn, void *ctx,
                  int64_t *current_r, struct ox_error *err);
/* Who created an object (for "own" rights): 1 found, 0 not, -1. */
int change_object_creator(struct store *s, int64_t folder_id, const char *object,
                          int64_t *creator_r, struct ox_error *err);

/* Makes the folder layer take part in user creation (default folders),
 * principal deletion (their folders, shares and tombstones) and context
 * deletion (its public folders). */
void folder_register_hooks(void);

/* Hook: called inside the transaction that deletes folders, once for each
 * folder about to go (folder_delete() and its subfolders, a deleted
 * principal's folders, a deleted context's public folders), before its row
 * goes, so that the service of its module releases what the rows that
 * cascade with it hold (blob references). A failure aborts the deletion.
 * Registering a hook twice adds it once. (A lower layer reaches a higher
 * one only through a hook it defines.) */
typedef int folder_deleting_hook(struct store *s, int64_t folder_id, enum folder_module module,
                                 struct ox_error *err);
void folder_add_deleting_hook(folder_deleting_hook *hook);

#endif
