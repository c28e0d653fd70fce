/* Browser sessions and app passwords. Neither secret is stored: the
 * database keeps SHA-256 of each, so a copy of it lets nobody log in. */
#include "directory/auth.h"
#include "directory/directory-private.h"

#include <sodium.h>
#include <string.h>

static char *sha256_hex(const char *text)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

static int64_t session_lifetime(void)
{
	return auth_session_lifetime();
}

int session_create(struct store *s, int64_t user_id, const char *client,
                   struct auth_session *session_r, struct ox_error *err)
{
	memset(session_r, 0, sizeof(*session_r));
	auth_random_token(session_r->token);
	auth_random_token(session_r->csrf);
	session_r->user_id = user_id;
	int64_t now = now_seconds();
	session_r->expires = now + session_lifetime();
	char *hash = sha256_hex(session_r->token);
	char *short_client =
		client != NULL ? g_utf8_make_valid(client, MIN(strlen(client), 200)) : NULL;
	int r = dir_exec(
		s,
		"INSERT INTO sessions (token_hash, user_id, csrf, client, created, expires) "
		"VALUES ($1, $2, $3, $4, $5, $6)",
		NULL, err, "sissii", hash, user_id, session_r->csrf, short_client, now,
		session_r->expires);
	g_free(short_client);
	g_free(hash);
	return r;
}

int session_lookup(struct store *s, const char *token, struct auth_session *session_r,
                   struct ox_error *err)
{
	memset(session_r, 0, sizeof(*session_r));
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return 0;
	char *hash = sha256_hex(token);
	int64_t now = now_seconds();
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT s.user_id, s.csrf, s.expires FROM sessions s "
	                                      "JOIN principals p ON p.id = s.user_id "
	                                      "JOIN contexts c ON c.id = p.context_id "
	                                      "WHERE s.token_hash = $1 AND s.expires > $2 "
	                                      "AND p.enabled = 1 AND c.enabled = 1",
	                                      err);
	int r = -1;
	if (st != NULL) {
		store_bind_text(st, 1, hash);
		store_bind_int(st, 2, now);
		r = store_step(st, err);
		if (r > 0) {
			session_r->user_id = store_col_int(st, 0);
			g_strlcpy(session_r->csrf, store_col_text(st, 1), sizeof(session_r->csrf));
			session_r->expires = store_col_int(st, 2);
			g_strlcpy(session_r->token, token, sizeof(session_r->token));
		}
		store_stmt_done(&st);
	}
	/* Sliding expiry, written at most once a minute per session. */
	int64_t fresh = now + session_lifetime();
	if (r > 0 && fresh - session_r->expires > 60) {
		if (dir_exec(s, "UPDATE sessions SET expires = $2 WHERE token_hash = $1", NULL, err,
		             "si", hash, fresh) < 0)
			r = -1;
		session_r->expires = fresh;
	}
	g_free(hash);
	return r;
}

int session_revoke(struct store *s, const char *token, struct ox_error *err)
{
	char *hash = sha256_hex(token);
	int r = dir_exec(s, "DELETE FROM sessions WHERE token_hash = $1", NULL, err, "s", hash);
	g_free(hash);
	return r;
}

int session_revoke_all(struct store *s, int64_t user_id, struct ox_error *err)
{
	return dir_exec(s, "DELETE FROM sessions WHERE user_id = $1", NULL, err, "i", user_id);
}

/* --- app passwords --- */

static bool label_valid(const char *label)
{
	size_t len = strlen(label);
	if (len == 0 || len > 64 || !g_utf8_validate(label, (gssize)len, NULL))
		return false;
	for (const char *p = label; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20)
			return false;
	}
	return true;
}

/* 20 characters from an alphabet without look-alikes (no i, l, o, 0, 1),
 * in groups of four: 31^20, about 99 random bits. */
static void make_app_password(char *out)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	int k = 0;
	for (int i = 0; i < 20; i++) {
		out[k++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
		if (i % 4 == 3 && i != 19)
			out[k++] = '-';
	}
	out[k] = '\0';
}

int app_password_add(struct store *s, const char *login, const char *label, char *password_r,
                     struct ox_error *err)
{
	int64_t user_id;
	if (label == NULL || !label_valid(label))
		return ox_error_set(err, OX_ERR_INVALID, "a label is 1 to 64 printable characters");
	int r = user_id_by_login(s, login, &user_id, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (r <= 0)
		return -1;
	make_app_password(password_r);
	char *hash = sha256_hex(password_r);
	r = dir_exec(s,
	             "INSERT INTO app_passwords (user_id, label, secret_hash, created) "
	             "VALUES ($1, $2, $3, $4)",
	             NULL, err, "issi", user_id, label, hash, now_seconds());
	g_free(hash);
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "%s already has an app password named '%s'", login,
		             label);
	if (r < 0)
		sodium_memzero(password_r, AUTH_APP_PASSWORD_LEN + 1);
	return r;
}

int app_password_revoke(struct store *s, const char *login, const char *label, struct ox_error *err)
{
	int64_t user_id, changes = 0;
	int r = user_id_by_login(s, login, &user_id, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (r <= 0)
		return -1;
	if (dir_exec(s, "DELETE FROM app_passwords WHERE user_id = $1 AND label = $2", &changes,
	             err, "is", user_id, label) < 0)
		return -1;
	if (changes == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "%s has no app password named '%s'",
		                    login, label);
	return 0;
}

int app_password_list(struct store *s, const char *login, struct app_password_info **list_r,
                      int *count_r, struct ox_error *err)
{
	int64_t user_id;
	int r = user_id_by_login(s, login, &user_id, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (r <= 0)
		return -1;
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT label, created, last_used FROM app_passwords "
	                                      "WHERE user_id = $1 ORDER BY label",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, user_id);
	GArray *list = g_array_new(FALSE, TRUE, sizeof(struct app_password_info));
	while ((r = store_step(st, err)) > 0) {
		struct app_password_info info = {
			.label = g_strdup(store_col_text(st, 0)),
			.created = store_col_int(st, 1),
			.last_used = store_col_int(st, 2),
		};
		g_array_append_val(list, info);
	}
	store_stmt_done(&st);
	*count_r = (int)list->len;
	*list_r = (struct app_password_info *)g_array_free(list, FALSE);
	if (r < 0)
		app_password_list_free(list_r, *count_r);
	return r;
}

void app_password_list_free(struct app_password_info **listp, int count)
{
	struct app_password_info *list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (int i = 0; i < count; i++)
		g_free(list[i].label);
	g_free(list);
}
