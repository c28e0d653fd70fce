/* Passwords, throttling, the login decision and the audit log. */
#include "directory/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "directory/directory-private.h"

#include <sodium.h>
#include <string.h>

struct auth_settings {
	unsigned long long ops;
	size_t mem;
	int max_user_failures;
	int max_address_failures;
	int64_t window_s;
	int64_t lockout_s;
	int64_t session_s;
};

static struct auth_settings settings = {
	.ops = 2,
	.mem = 19 * 1024 * 1024,
	.max_user_failures = 5,
	.max_address_failures = 20,
	.window_s = 900,
	.lockout_s = 300,
	.session_s = 8 * 3600,
};

static auth_external_verifier *external_verifier;

void auth_set_external_verifier(auth_external_verifier *fn)
{
	external_verifier = fn;
}

static const struct ox_option auth_options[] = {
	{"auth", "argon2_ops", OX_OPT_INT, "2", 1, 20, NULL,
         "Argon2id passes for new password hashes (existing hashes keep theirs)."},
	{"auth", "argon2_memory", OX_OPT_SIZE, "19m", 8192, 1LL << 32, NULL,
         "Argon2id memory for new password hashes."},
	{"auth", "max_user_failures", OX_OPT_INT, "5", 1, 1000, NULL,
         "Failed logins for one user within auth.failure_window before it is locked."},
	{"auth", "max_address_failures", OX_OPT_INT, "20", 1, 100000, NULL,
         "Failed logins from one address within auth.failure_window before it is locked."},
	{"auth", "failure_window", OX_OPT_DURATION, "15m", 1000, 7LL * 24 * 3600 * 1000, NULL,
         "Window in which failed logins are counted."},
	{"auth", "lockout", OX_OPT_DURATION, "5m", 1000, 7LL * 24 * 3600 * 1000, NULL,
         "How long a user or address stays locked after too many failures."},
	{"auth", "session_lifetime", OX_OPT_DURATION, "8h", 60000, 90LL * 24 * 3600 * 1000, NULL,
         "A browser session ends this long after its last use."},
};

void auth_register_options(void)
{
	ox_config_register(auth_options, G_N_ELEMENTS(auth_options));
}

void auth_configure(const struct ox_config *cfg)
{
	settings.ops = (unsigned long long)ox_config_int(cfg, "auth", "argon2_ops");
	settings.mem = (size_t)ox_config_int(cfg, "auth", "argon2_memory");
	settings.max_user_failures = (int)ox_config_int(cfg, "auth", "max_user_failures");
	settings.max_address_failures = (int)ox_config_int(cfg, "auth", "max_address_failures");
	settings.window_s = ox_config_int(cfg, "auth", "failure_window") / 1000;
	settings.lockout_s = ox_config_int(cfg, "auth", "lockout") / 1000;
	settings.session_s = ox_config_int(cfg, "auth", "session_lifetime") / 1000;
}

int64_t auth_session_lifetime(void)
{
	return settings.session_s;
}

int64_t auth_lockout_seconds(void)
{
	return settings.lockout_s;
}

static void ensure_sodium(void)
{
	static gsize done;
	if (g_once_init_enter(&done)) {
		if (sodium_init() < 0)
			g_error("libsodium cannot initialise");
		g_once_init_leave(&done, 1);
	}
}

char *auth_hash_password(const char *password)
{
	ensure_sodium();
	char out[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str(out, password, strlen(password), settings.ops, settings.mem) != 0)
		return NULL;
	return g_strdup(out);
}

bool auth_verify_password(const char *hash, const char *password)
{
	ensure_sodium();
	if (hash == NULL || password == NULL)
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_random_token(char *buf)
{
	ensure_sodium();
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(buf, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static char *sha256_hex(const char *text)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

/* --- throttling --- */

/* 1 when the subject is locked now, 0 not, -1 error. */
static int is_locked(struct store *s, const char *subject, struct ox_error *err)
{
	int64_t until = 0;
	int r = dir_query_int(s, "SELECT locked_until FROM auth_failures WHERE subject = $1",
	                      &until, err, "s", subject);
	if (r < 0)
		return -1;
	return r > 0 && until > now_seconds() ? 1 : 0;
}

static int record_failure(struct store *s, const char *subject, int limit, struct ox_error *err)
{
	int64_t now = now_seconds();
	/* A failure outside the window starts a new count. */
	if (dir_exec(s,
	             "UPDATE auth_failures SET failures = 0, window_start = $2 "
	             "WHERE subject = $1 AND window_start < $3",
	             NULL, err, "sii", subject, now, now - settings.window_s) < 0)
		return -1;
	if (dir_exec(s,
	             "INSERT INTO auth_failures (subject, failures, window_start) VALUES ($1, 0, "
	             "$2) "
	             "ON CONFLICT (subject) DO NOTHING",
	             NULL, err, "si", subject, now) < 0)
		return -1;
	return dir_exec(s,
	                "UPDATE auth_failures SET failures = failures + 1, locked_until = CASE "
	                "WHEN failures + 1 >= $2 THEN $3 ELSE locked_until END WHERE subject = $1",
	                NULL, err, "sii", subject, (int64_t)limit, now + settings.lockout_s);
}

static int clear_failures(struct store *s, const char *subject, struct ox_error *err)
{
	return dir_exec(s, "DELETE FROM auth_failures WHERE subject = $1", NULL, err, "s", subject);
}

/* --- login --- */

struct login_user {
	int64_t id;
	char *hash;
	char *ldap_dn;
	bool enabled;
};

static int load_user(struct store *s, const char *login, struct login_user *u, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT p.id, u.password_hash, u.ldap_dn, p.enabled "
	                                      "* c.enabled FROM users u JOIN principals p ON "
	                                      "p.id = u.principal_id JOIN contexts c ON "
	                                      "c.id = p.context_id WHERE u.login = $1",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, login);
	int r = store_step(st, err);
	if (r > 0) {
		u->id = store_col_int(st, 0);
		u->hash = g_strdup(store_col_text(st, 1));
		u->ldap_dn = g_strdup(store_col_text(st, 2));
		u->enabled = store_col_int(st, 3) != 0;
	}
	store_stmt_done(&st);
	return r;
}

/* 1 when `password` is one of the user's app passwords (and marks it used). */
static int check_app_password(struct store *s, int64_t user_id, const char *password,
                              struct ox_error *err)
{
	char *hash = sha256_hex(password);
	int64_t last_used = 0, now = now_seconds();
	/* The secret has about 99 random bits: a fast hash is enough, and the
	 * lookup by hash needs no loop over slow comparisons. */
	int r = dir_query_int(s,
	                      "SELECT last_used FROM app_passwords WHERE user_id = $1 AND "
	                      "secret_hash = $2",
	                      &last_used, err, "is", user_id, hash);
	/* last_used is for the owner's overview: a minute's precision spares a
	 * write on every request of a syncing client. */
	if (r > 0 && now - last_used >= 60 &&
	    dir_exec(s,
	             "UPDATE app_passwords SET last_used = $3 WHERE user_id = $1 AND secret_hash = "
	             "$2",
	             NULL, err, "isi", user_id, hash, now) < 0)
		r = -1;
	g_free(hash);
	return r;
}

/* Burns about as much time as a real verification, so that an unknown
 * login cannot be told from a wrong password by timing. */
static void verify_dummy(const char *password)
{
	static gchar *dummy;
	static gsize once;
	if (g_once_init_enter(&once)) {
		dummy = auth_hash_password("not the password");
		g_once_init_leave(&once, 1);
	}
	auth_verify_password(dummy, password);
}

/* Passwords verified a moment ago, so that a DAV client sending Basic
 * authentication with every request does not pay Argon2id each time.
 * Keyed by an HMAC (per-process random key) of login and password, so the
 * table holds nothing a password can be recovered or precomputed from. An
 * entry only counts while the user's stored hash is still the one it was
 * verified against: a password changed by any process or node ends it. */
#define AUTH_CACHE_TTL_US (60 * G_USEC_PER_SEC)
#define AUTH_CACHE_MAX 10000

struct cached_password {
	char *hash;
	gint64 expires;
};

static GMutex cache_lock;
static GHashTable *cache;
static guchar cache_key[32];

static void cached_password_free(gpointer data)
{
	struct cached_password *c = data;
	g_free(c->hash);
	g_free(c);
}

static char *cache_name(const char *login, const char *password)
{
	ensure_sodium();
	g_mutex_lock(&cache_lock);
	if (cache == NULL) {
		randombytes_buf(cache_key, sizeof(cache_key));
		cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                              cached_password_free);
	}
	g_mutex_unlock(&cache_lock);
	GHmac *mac = g_hmac_new(G_CHECKSUM_SHA256, cache_key, sizeof(cache_key));
	g_hmac_update(mac, (const guchar *)login, (gssize)strlen(login) + 1);
	g_hmac_update(mac, (const guchar *)password, (gssize)strlen(password));
	char *name = g_strdup(g_hmac_get_string(mac));
	g_hmac_unref(mac);
	return name;
}

static bool cache_matches(const char *name, const char *hash)
{
	g_mutex_lock(&cache_lock);
	struct cached_password *c = g_hash_table_lookup(cache, name);
	bool hit = c != NULL && c->expires > g_get_monotonic_time() && strcmp(c->hash, hash) == 0;
	g_mutex_unlock(&cache_lock);
	return hit;
}

static void cache_put(char *name, const char *hash)
{
	struct cached_password *c = g_new(struct cached_password, 1);
	c->hash = g_strdup(hash);
	c->expires = g_get_monotonic_time() + AUTH_CACHE_TTL_US;
	g_mutex_lock(&cache_lock);
	if (g_hash_table_size(cache) >= AUTH_CACHE_MAX)
		g_hash_table_remove_all(cache);
	g_hash_table_replace(cache, name, c);
	g_mutex_unlock(&cache_lock);
}

/* Checks a local password, through the cache when it can. */
static bool password_ok(const char *login, const char *hash, const char *password, bool *cached_r)
{
	char *name = cache_name(login, password);
	if (cache_matches(name, hash)) {
		*cached_r = true;
		g_free(name);
		return true;
	}
	if (!auth_verify_password(hash, password)) {
		g_free(name);
		return false;
	}
	cache_put(name, hash);
	return true;
}

static bool app_password_shaped(const char *password)
{
	if (strlen(password) != AUTH_APP_PASSWORD_LEN)
		return false;
	for (int i = 0; i < AUTH_APP_PASSWORD_LEN; i++) {
		if ((i % 5 == 4) != (password[i] == '-'))
			return false;
	}
	return true;
}

/* *quiet_r: accepted from the cache or an app password, so the repeated
 * request of a DAV client writes no audit row and touches no counter. */
static enum auth_result decide(struct store *s, const struct auth_request *req, const char *login,
                               int64_t *user_id_r, bool *quiet_r, struct ox_error *err)
{
	struct login_user u = {0};
	int found = load_user(s, login, &u, err);
	enum auth_result result = AUTH_FAILED;
	if (found < 0)
		return AUTH_ERROR;
	if (found == 0) {
		verify_dummy(req->password);
		goto out;
	}
	bool ok = false;
	/* App passwords first: checking one costs a hash lookup, and DAV
	 * clients send theirs with every request. */
	if (req->allow_app_password && app_password_shaped(req->password)) {
		int r = check_app_password(s, u.id, req->password, err);
		if (r < 0) {
			result = AUTH_ERROR;
			goto out;
		}
		ok = r > 0;
		*quiet_r = ok;
	}
	if (ok)
		;
	else if (u.hash != NULL)
		ok = password_ok(login, u.hash, req->password, quiet_r);
	else if (u.ldap_dn != NULL && external_verifier != NULL) {
		int r = external_verifier(login, req->password, err);
		if (r < 0) {
			result = AUTH_ERROR;
			goto out;
		}
		ok = r > 0;
	} else {
		verify_dummy(req->password);
	}
	if (ok) {
		result = u.enabled ? AUTH_OK : AUTH_DISABLED;
		*user_id_r = u.id;
	}
out:
	g_free(u.hash);
	g_free(u.ldap_dn);
	return result;
}

enum auth_result auth_login(struct store *s, const struct auth_request *req, int64_t *user_id_r,
                            struct ox_error *err)
{
	if (req->login == NULL || req->password == NULL || *req->login == '\0' ||
	    *req->password == '\0' || strlen(req->login) > 320 || strlen(req->password) > 1024)
		return AUTH_FAILED;
	char *login = g_ascii_strdown(req->login, -1);
	char *user_subject = g_strdup_printf("user:%s", login);
	char *addr_subject = g_strdup_printf("addr:%s", req->remote != NULL ? req->remote : "");
	enum auth_result result = AUTH_ERROR;
	bool quiet = false;
	int locked = is_locked(s, user_subject, err);
	if (locked == 0 && req->remote != NULL)
		locked = is_locked(s, addr_subject, err);
	if (locked < 0)
		goto out;
	if (locked > 0) {
		result = AUTH_LOCKED;
	} else {
		result = decide(s, req, login, user_id_r, &quiet, err);
		if (result == AUTH_ERROR)
			goto out;
		if (quiet && result == AUTH_OK)
			goto out; /* a repeat of a login already recorded */
		bool own;
		if (txn_begin(s, &own, err) < 0) {
			result = AUTH_ERROR;
			goto out;
		}
		bool ok;
		if (result == AUTH_FAILED)
			ok = record_failure(s, user_subject, settings.max_user_failures, err) ==
			             0 &&
			     (req->remote == NULL ||
			      record_failure(s, addr_subject, settings.max_address_failures, err) ==
			              0);
		else
			ok = clear_failures(s, user_subject, err) == 0;
		if (txn_end(s, own, ok, err) < 0) {
			result = AUTH_ERROR;
			goto out;
		}
	}
	char detail[64];
	g_snprintf(detail, sizeof(detail), "protocol=%s result=%s",
	           req->protocol != NULL ? req->protocol : "?", auth_result_text(result));
	audit_log(s, login, "login", login, req->remote, result == AUTH_OK, detail, NULL);
out:
	g_free(user_subject);
	g_free(addr_subject);
	g_free(login);
	return result;
}

const char *auth_result_text(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_FAILED:
		return "failed";
	case AUTH_DISABLED:
		return "disabled";
	case AUTH_LOCKED:
		return "locked";
	case AUTH_ERROR:
		return "error";
	}
	return "?";
}

/* --- audit log --- */

int audit_log(struct store *s, const char *actor, const char *action, const char *target,
              const char *remote, bool success, const char *detail, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"INSERT INTO audit_log (ts, actor, action, target, remote, success, detail) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7)",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, now_seconds());
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, target);
	store_bind_text(st, 5, remote);
	store_bind_int(st, 6, success);
	store_bind_text(st, 7, detail);
	int r = store_run(st, err);
	store_stmt_done(&st);
	ox_log_kv(success ? OX_LOG_INFO : OX_LOG_WARN, "audit", "actor", actor, "action", action,
	          "target", target != NULL ? target : "", "remote", remote != NULL ? remote : "",
	          "success", success ? "yes" : "no", "detail", detail != NULL ? detail : "", NULL);
	return r;
}
