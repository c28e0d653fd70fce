/* Authentication: passwords (Argon2id), app passwords, throttling and
 * lockout, sessions, and the audit log. Protocols call auth_login() with
 * what the client sent and get a user or a clear refusal; none of them
 * compares a password itself. */
#ifndef OX_DIRECTORY_AUTH_H
#define OX_DIRECTORY_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct ox_config;
struct ox_error;
struct store;

#define AUTH_TOKEN_LEN 43        /* 256 random bits, base64url without padding */
#define AUTH_APP_PASSWORD_LEN 24 /* xxxx-xxxx-xxxx-xxxx-xxxx (about 99 bits) */

/* Registers auth.* options. */
void auth_register_options(void);
/* Applies them (Argon2id cost, throttling, session lifetime). */
void auth_configure(const struct ox_config *cfg);

/* Argon2id hash of a password in libsodium's string form. NULL on
 * failure (out of memory). Caller frees. */
char *auth_hash_password(const char *password);
/* Constant-time verification against such a string. */
bool auth_verify_password(const char *hash, const char *password);

enum auth_result {
	AUTH_OK,
	AUTH_FAILED,   /* unknown user or wrong password: one answer for both */
	AUTH_DISABLED, /* the user or its context is disabled */
	AUTH_LOCKED,   /* too many failures: try again later */
	AUTH_ERROR,    /* the store failed: err says why */
};

struct auth_request {
	const char *login;
	const char *password;
	const char *remote;   /* peer address for throttling and the audit log */
	const char *protocol; /* "http", "imap", ... for the audit log */
	bool allow_app_password;
};

/* Checks a login (password, then app passwords when allowed, then LDAP
 * when configured), with throttling per user and per address, and writes
 * the attempt to the audit log. On AUTH_OK sets *user_id_r. */
enum auth_result auth_login(struct store *s, const struct auth_request *req, int64_t *user_id_r,
                            struct ox_error *err);
const char *auth_result_text(enum auth_result r);
/* How long a lock lasts (auth.lockout): an upper bound on the wait after
 * AUTH_LOCKED, for answers such as HTTP's Retry-After. */
int64_t auth_lockout_seconds(void);

/* An external password check for users that have no local password (an
 * LDAP simple bind): 1 right, 0 wrong, -1 unreachable (err set). */
typedef int auth_external_verifier(const char *login, const char *password, struct ox_error *err);
void auth_set_external_verifier(auth_external_verifier *fn);

/* --- app passwords --- */
/* Makes a new one for `label`; the clear text (AUTH_APP_PASSWORD_LEN + 1
 * bytes) is returned once and never stored. */
int app_password_add(struct store *s, const char *login, const char *label, char *password_r,
                     struct ox_error *err);
int app_password_revoke(struct store *s, const char *login, const char *label,
                        struct ox_error *err);
struct app_password_info {
	char *label;
	int64_t created;
	int64_t last_used; /* 0: never */
};
int app_password_list(struct store *s, const char *login, struct app_password_info **list_r,
                      int *count_r, struct ox_error *err);
void app_password_list_free(struct app_password_info **list, int count);

/* --- sessions --- */
struct auth_session {
	char token[AUTH_TOKEN_LEN + 1];
	char csrf[AUTH_TOKEN_LEN + 1];
	int64_t user_id;
	int64_t expires;
};
int session_create(struct store *s, int64_t user_id, const char *client,
                   struct auth_session *session_r, struct ox_error *err);
/* 1 valid (refreshes its expiry), 0 unknown or expired, -1 error. */
int session_lookup(struct store *s, const char *token, struct auth_session *session_r,
                   struct ox_error *err);
int session_revoke(struct store *s, const char *token, struct ox_error *err);
int session_revoke_all(struct store *s, int64_t user_id, struct ox_error *err);

/* --- audit log --- */
int audit_log(struct store *s, const char *actor, const char *action, const char *target,
              const char *remote, bool success, const char *detail, struct ox_error *err);
/* One entry; ts is in Unix seconds; target, remote and detail may be NULL. */
struct audit_entry {
	int64_t id;
	int64_t ts;
	char *actor, *action, *target, *remote, *detail;
	bool success;
};
/* The newest `limit` entries, newest first (audit.c). Caller frees with
 * audit_list_free(). */
int audit_list(struct store *s, int limit, struct audit_entry **list_r, int *count_r,
               struct ox_error *err);
void audit_list_free(struct audit_entry **list, int count);

/* Random token of AUTH_TOKEN_LEN characters into buf (AUTH_TOKEN_LEN + 1). */
void auth_random_token(char *buf);

#endif
