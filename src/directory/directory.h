/* The directory: contexts (tenants) with their mail domains and quotas, and
 * their principals: users, groups and resources (rooms, equipment). Every
 * function takes the caller's store connection, checks its input, and
 * changes nothing when it fails (each write is one transaction, or part of
 * the caller's). Errors: OX_ERR_INVALID (bad input, the message says
 * which), OX_ERR_EXISTS, OX_ERR_NOT_FOUND. */
#ifndef OX_DIRECTORY_H
#define OX_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ox_error;
struct store;

enum principal_kind {
	PRINCIPAL_USER,
	PRINCIPAL_GROUP,
	PRINCIPAL_RESOURCE,
};

struct context_info {
	int64_t id;
	char *name;
	int64_t quota_bytes; /* 0: unlimited */
	char **domains;      /* NULL-terminated */
};

struct user_info {
	int64_t id;
	int64_t context_id;
	char *login; /* local@domain, lower-case */
	char *display_name;
	char **addresses; /* NULL-terminated; the first is the primary one */
	char *time_zone;
	char *locale;
	bool enabled;
	int64_t quota_bytes;
	char *ldap_dn; /* NULL unless the user comes from LDAP */
};

struct group_info {
	int64_t id;
	int64_t context_id;
	char *name;
	char *display_name;
	int64_t *members; /* user ids, terminated by 0 */
};

enum resource_booking {
	BOOKING_AUTO_ACCEPT, /* accept when free, decline when busy */
	BOOKING_MANAGER,     /* a manager decides */
};

struct resource_info {
	int64_t id;
	int64_t context_id;
	char *name;
	char *display_name;
	char *address;
	bool is_room;
	enum resource_booking booking;
	int64_t manager_id; /* 0: none */
};

/* --- contexts --- */
int context_create(struct store *s, const char *name, const char *domain, int64_t quota_bytes,
                   int64_t *id_r, struct ox_error *err);
int context_add_domain(struct store *s, int64_t context_id, const char *domain,
                       struct ox_error *err);
/* Deletes the context and everything in it. */
int context_delete(struct store *s, const char *name, struct ox_error *err);
/* 1 found, 0 not, -1 error. */
int context_lookup(struct store *s, const char *name, struct context_info *info_r,
                   struct ox_error *err);
/* The same by id (a principal's context_id): 1, 0, -1. */
int context_lookup_id(struct store *s, int64_t id, struct context_info *info_r,
                      struct ox_error *err);
/* Fills a NULL-terminated array of context_info pointers. */
int context_list(struct store *s, struct context_info ***list_r, struct ox_error *err);
void context_info_clear(struct context_info *info);
void context_list_free(struct context_info ***list);

/* --- users --- */
struct user_create {
	const char *login; /* local@domain; the domain names the context */
	const char *display_name;
	const char *password; /* NULL: none (LDAP users, or set later) */
	const char *time_zone;
	const char *locale;
	int64_t quota_bytes;
	const char *ldap_dn;
};
/* Creates the user with its primary address (the login) and the default
 * folders (through the hook folder_hooks registers). */
int user_create(struct store *s, const struct user_create *spec, int64_t *id_r,
                struct ox_error *err);
int user_lookup(struct store *s, const char *login, struct user_info *info_r, struct ox_error *err);
int user_lookup_id(struct store *s, int64_t id, struct user_info *info_r, struct ox_error *err);
/* Users of a context; NULL context name: all. */
int user_list(struct store *s, const char *context, struct user_info ***list_r,
              struct ox_error *err);
int user_set_password(struct store *s, const char *login, const char *password,
                      struct ox_error *err);
int user_set_enabled(struct store *s, const char *login, bool enabled, struct ox_error *err);
int user_add_address(struct store *s, const char *login, const char *address, struct ox_error *err);
/* Deletes the user, their data and every share that names them. */
int user_delete(struct store *s, const char *login, struct ox_error *err);
void user_info_clear(struct user_info *info);
void user_list_free(struct user_info ***list);
/* Searching users, for address and attendee lookup: a term matches the
 * display name or one of the addresses, ignoring ASCII case. */
enum user_search_field {
	USER_SEARCH_NAME,
	USER_SEARCH_ADDRESS,
	USER_SEARCH_NAME_OR_ADDRESS,
};
enum user_search_match {
	USER_MATCH_CONTAINS,
	USER_MATCH_STARTS,
	USER_MATCH_EQUALS,
};
struct user_search_term {
	enum user_search_field field;
	enum user_search_match match;
	const char *text;
};
#define USER_SEARCH_TERMS_MAX 16
/* The enabled users of a context for whom every term (match_all) or any
 * term holds; at most `limit`, ordered by login; a NULL-terminated list
 * freed with user_list_free(). At most USER_SEARCH_TERMS_MAX terms. */
int user_search(struct store *s, int64_t context_id, const struct user_search_term *terms, size_t n,
                bool match_all, int limit, struct user_info ***list_r, struct ox_error *err);

/* --- groups --- */
int group_create(struct store *s, const char *context, const char *name, const char *display_name,
                 int64_t *id_r, struct ox_error *err);
int group_add_member(struct store *s, const char *context, const char *group, const char *login,
                     struct ox_error *err);
int group_remove_member(struct store *s, const char *context, const char *group, const char *login,
                        struct ox_error *err);
int group_lookup(struct store *s, const char *context, const char *name, struct group_info *info_r,
                 struct ox_error *err);
int group_list(struct store *s, const char *context, struct group_info ***list_r,
               struct ox_error *err);
/* A group by its principal id: 1, 0 (no such group), -1. */
int group_lookup_id(struct store *s, int64_t id, struct group_info *info_r, struct ox_error *err);
int group_delete(struct store *s, const char *context, const char *name, struct ox_error *err);
void group_info_clear(struct group_info *info);
void group_list_free(struct group_info ***list);
/* Group ids a user belongs to, terminated by 0. Caller frees. */
int64_t *user_group_ids(struct store *s, int64_t user_id, struct ox_error *err);

/* --- resources --- */
int resource_create(struct store *s, const char *context, const char *name,
                    const char *display_name, bool is_room, enum resource_booking booking,
                    const char *manager_login, int64_t *id_r, struct ox_error *err);
int resource_lookup(struct store *s, const char *context, const char *name,
                    struct resource_info *info_r, struct ox_error *err);
int resource_list(struct store *s, const char *context, struct resource_info ***list_r,
                  struct ox_error *err);
int resource_delete(struct store *s, const char *context, const char *name, struct ox_error *err);
void resource_info_clear(struct resource_info *info);
void resource_list_free(struct resource_info ***list);

/* --- principals --- */
/* Which principal an e-mail address belongs to: 1 found, 0 not, -1. */
int principal_by_address(struct store *s, const char *address, int64_t *id_r,
                         enum principal_kind *kind_r, struct ox_error *err);
/* A group's calendar-user addresses (RFC 6638 2.4.1): NAME@DOMAIN for each
 * mail domain of its context, in the context's order (the first is the
 * primary one, as for resources), that no other principal holds; such an
 * address is that principal's (scheduling delivers it there). A
 * NULL-terminated list for g_strfreev(); 0, -1. */
int group_addresses(struct store *s, const struct group_info *group, char ***addresses_r,
                    struct ox_error *err);

/* --- validation shared with the protocols --- */
/* Lower-cases and checks an addr-spec (local@domain); NULL if malformed. */
char *address_normalize(const char *address);
bool domain_valid(const char *domain);
bool name_valid(const char *name); /* group/resource/context names */

/* Hook: called inside the transaction that creates a user, so that the
 * folder layer makes the default folders (a lower layer reaches a higher
 * one only through a hook it defines). */
typedef int user_created_hook(struct store *s, int64_t context_id, int64_t user_id,
                              struct ox_error *err);
void directory_set_user_created_hook(user_created_hook *hook);
/* Hook: called inside the transaction that deletes a principal, before
 * its row goes, so that the folder layer removes its folders and shares. */
typedef int principal_deleted_hook(struct store *s, int64_t principal_id, struct ox_error *err);
void directory_set_principal_deleted_hook(principal_deleted_hook *hook);
/* Hook: called inside the transaction that deletes a context, after the
 * principal hooks and before its row goes, so that the folder layer sees
 * the public folders that cascade with it. */
typedef int context_deleted_hook(struct store *s, int64_t context_id, struct ox_error *err);
void directory_set_context_deleted_hook(context_deleted_hook *hook);

#endif
