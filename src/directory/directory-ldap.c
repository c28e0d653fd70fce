/* LDAP authentication, user listing and sync (directory-ldap.h). The
 * server is another party: every value read from it is checked for size,
 * NUL bytes and UTF-8 before it goes anywhere, and every wait on it is
 * bounded. */
#include "directory/directory-ldap.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "directory/directory-private.h"
#include "directory/directory.h"

#include <ldap.h>
#include <string.h>

/* An address is at most 254 bytes (RFC 5321); room for other logins. */
#define MAX_LOGIN 256
/* Well past any passphrase; keeps a client from shipping megabytes. */
#define MAX_PASSWORD 1024
#define MAX_DN 2048
#define MAX_VALUE 1024
#define MAX_MAILS 32
/* One LDAP message (an entry, a page's result); larger ones are refused
 * while being read instead of being buffered. */
#define MAX_MESSAGE (4 * 1024 * 1024)
#define PAGE_SIZE 500

struct ldap_settings {
	char *uri, *base_dn, *bind_dn, *bind_password;
	char *user_filter, *list_filter;
	char *login_attr, *name_attr, *mail_attr;
	long long timeout_ms;
	bool starttls;
};

/* The configured settings, swapped whole on reload: a call takes a
 * reference for its duration so a SIGHUP never changes them under it. */
static GMutex settings_lock;
static struct ldap_settings *settings;

/* One connection of one call. */
struct ldap_conn {
	LDAP *ld;
	const struct ldap_settings *set;
	gint64 deadline; /* monotonic µs; 0: each operation gets the full timeout */
};

/* ---- options ---- */

static int validate_uri(const char *value, char **error_r)
{
	char **uris = g_strsplit_set(value, " \t,", -1);
	int ret = 0;
	for (char **u = uris; *u != NULL && ret == 0; u++) {
		LDAPURLDesc *desc = NULL;
		if (**u == '\0')
			continue;
		if (ldap_url_parse(*u, &desc) != LDAP_URL_SUCCESS) {
			*error_r =
				g_strdup_printf("'%s' is not an LDAP URI (ldap://host:port)", *u);
			ret = -1;
		}
		ldap_free_urldesc(desc);
	}
	g_strfreev(uris);
	return ret;
}

static int validate_dn(const char *value, char **error_r)
{
	LDAPDN dn = NULL;
	if (*value == '\0')
		return 0;
	if (ldap_str2dn(value, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		*error_r = g_strdup("not a distinguished name (RFC 4514)");
		return -1;
	}
	ldap_dnfree(dn);
	return 0;
}

static int validate_filter(const char *value, char **error_r)
{
	size_t len = strlen(value);
	if (len < 2 || value[0] != '(' || value[len - 1] != ')') {
		*error_r = g_strdup("expected a parenthesised LDAP filter (RFC 4515)");
		return -1;
	}
	return 0;
}

static int validate_user_filter(const char *value, char **error_r)
{
	if (validate_filter(value, error_r) < 0)
		return -1;
	if (strstr(value, "%s") == NULL) {
		*error_r = g_strdup("must hold %s where the login goes");
		return -1;
	}
	return 0;
}

static int validate_attribute(const char *value, char **error_r)
{
	/* An attribute description: a name or OID, options after ';'. */
	if (*value == '\0' || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                    "0123456789-;.") != strlen(value)) {
		*error_r = g_strdup("expected an attribute name");
		return -1;
	}
	return 0;
}

static const struct ox_option ldap_options[] = {
	{"ldap", "uri", OX_OPT_STRING, "", 0, 0, validate_uri,
         "LDAP server(s), e.g. ldap://ldap.example.org (several separated by spaces are tried in "
         "turn); empty: LDAP off."},
	{"ldap", "base_dn", OX_OPT_STRING, "", 0, 0, validate_dn,
         "Entry under which users are searched, e.g. dc=example,dc=org."},
	{"ldap", "bind_dn", OX_OPT_STRING, "", 0, 0, validate_dn,
         "Service account that searches for users; empty: search anonymously."},
	{"ldap", "bind_password", OX_OPT_STRING, "", 0, 0, NULL,
         "Password of the service account."},
	{"ldap", "user_filter", OX_OPT_STRING, "(&(objectClass=inetOrgPerson)(mail=%s))", 0, 0,
         validate_user_filter,
         "Filter that finds the one entry of a login; %s is the login, escaped (RFC 4515)."},
	{"ldap", "list_filter", OX_OPT_STRING, "(objectClass=inetOrgPerson)", 0, 0, validate_filter,
         "Filter that lists the users to sync."},
	{"ldap", "login_attribute", OX_OPT_STRING, "mail", 0, 0, validate_attribute,
         "Attribute holding a user's login (local@domain)."},
	{"ldap", "name_attribute", OX_OPT_STRING, "cn", 0, 0, validate_attribute,
         "Attribute holding a user's display name."},
	{"ldap", "mail_attribute", OX_OPT_STRING, "mail", 0, 0, validate_attribute,
         "Attribute holding a user's e-mail addresses."},
	{"ldap", "timeout", OX_OPT_DURATION, "5s", 100, 300LL * 1000, NULL,
         "Limit for connecting and for each authentication (and each page of a listing)."},
	{"ldap", "starttls", OX_OPT_BOOL, "false", 0, 0, NULL,
         "Upgrade ldap:// connections with StartTLS, verifying the server's certificate."},
};

void ldap_register_options(void)
{
	ox_config_register(ldap_options, G_N_ELEMENTS(ldap_options));
}

static void settings_clear(gpointer data)
{
	struct ldap_settings *set = data;
	g_free(set->uri);
	g_free(set->base_dn);
	g_free(set->bind_dn);
	/* The service password should not linger in freed memory. */
	if (set->bind_password != NULL)
		memset(set->bind_password, 0, strlen(set->bind_password));
	g_free(set->bind_password);
	g_free(set->user_filter);
	g_free(set->list_filter);
	g_free(set->login_attr);
	g_free(set->name_attr);
	g_free(set->mail_attr);
}

static char *opt(const struct ox_config *cfg, const char *key)
{
	return g_strdup(ox_config_string(cfg, "ldap", key));
}

void ldap_configure(const struct ox_config *cfg)
{
	struct ldap_settings *set = g_atomic_rc_box_new0(struct ldap_settings);
	set->uri = g_strstrip(opt(cfg, "uri"));
	set->base_dn = opt(cfg, "base_dn");
	set->bind_dn = opt(cfg, "bind_dn");
	set->bind_password = opt(cfg, "bind_password");
	set->user_filter = opt(cfg, "user_filter");
	set->list_filter = opt(cfg, "list_filter");
	set->login_attr = opt(cfg, "login_attribute");
	set->name_attr = opt(cfg, "name_attribute");
	set->mail_attr = opt(cfg, "mail_attribute");
	set->timeout_ms = ox_config_int(cfg, "ldap", "timeout");
	set->starttls = ox_config_bool(cfg, "ldap", "starttls");

	g_mutex_lock(&settings_lock);
	struct ldap_settings *old = settings;
	settings = set;
	g_mutex_unlock(&settings_lock);
	if (old != NULL)
		g_atomic_rc_box_release_full(old, settings_clear);
}

/* The current settings with a reference, or NULL when LDAP is off. */
static struct ldap_settings *settings_get(void)
{
	struct ldap_settings *set = NULL;
	g_mutex_lock(&settings_lock);
	if (settings != NULL && settings->uri[0] != '\0')
		set = g_atomic_rc_box_acquire(settings);
	g_mutex_unlock(&settings_lock);
	return set;
}

static void settings_put(struct ldap_settings **set)
{
	if (*set != NULL)
		g_atomic_rc_box_release_full(*set, settings_clear);
	*set = NULL;
}

bool ldap_enabled(void)
{
	struct ldap_settings *set = settings_get();
	bool on = set != NULL;
	settings_put(&set);
	return on;
}

/* ---- filters ---- */

char *ldap_filter_escape(const char *value)
{
	GString *out = g_string_sized_new(strlen(value) + 8);
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		/* RFC 4515 requires escaping the first four; control bytes are
		 * escaped too so that nothing odd reaches a server's parser. */
		if (*p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			g_string_append_printf(out, "\\%02x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	return g_string_free(out, FALSE);
}

char *ldap_filter_build(const char *filter_template, const char *value)
{
	char *escaped = ldap_filter_escape(value);
	GString *out = g_string_new(NULL);
	for (const char *p = filter_template; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			g_string_append(out, escaped);
			p++;
		} else {
			g_string_append_c(out, *p);
		}
	}
	g_free(escaped);
	return g_string_free(out, FALSE);
}

/* ---- connections ---- */

static bool rc_transient(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
	case LDAP_BUSY:
	case LDAP_UNAVAILABLE:
	case LDAP_TIMELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return true;
	default:
		return false;
	}
}

static int fail_with(struct ox_error *err, int rc, const char *what)
{
	return ox_error_set(err, rc_transient(rc) ? OX_ERR_TEMP : OX_ERR_INTERNAL, "LDAP %s: %s",
	                    what, ldap_err2string(rc));
}

/* Gives the next operation what is left of the call's time, or the full
 * timeout when the call has no overall deadline. Returns false when the
 * time is up already. */
static bool conn_arm(struct ldap_conn *c, struct timeval *tv_r)
{
	gint64 left = c->set->timeout_ms * 1000;
	if (c->deadline != 0) {
		left = c->deadline - g_get_monotonic_time();
		if (left <= 0)
			return false;
	}
	tv_r->tv_sec = left / G_USEC_PER_SEC;
	tv_r->tv_usec = left % G_USEC_PER_SEC;
	/* The network timeout bounds the TCP connect, made lazily by the
	 * first operation; LDAP_OPT_TIMEOUT bounds waits for answers of the
	 * synchronous calls (bind, StartTLS) that take no timeout. */
	ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, tv_r);
	ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, tv_r);
	return true;
}

static int simple_bind(struct ldap_conn *c, const char *dn, const char *password)
{
	struct timeval tv;
	if (!conn_arm(c, &tv))
		return LDAP_TIMEOUT;
	struct berval cred = {.bv_len = strlen(password), .bv_val = (char *)password};
	return ldap_sasl_bind_s(c->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

static void conn_close(struct ldap_conn *c)
{
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

static void conn_set_options(struct ldap_conn *c)
{
	int version = LDAP_VERSION3;
	ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	/* A referral would send the login and password to a server the
	 * operator never named. */
	ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(c->ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
	int seconds = (int)((c->set->timeout_ms + 999) / 1000);
	ldap_set_option(c->ld, LDAP_OPT_TIMELIMIT, &seconds);
	Sockbuf *sb = NULL;
	if (ldap_get_option(c->ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL) {
		ber_len_t max = MAX_MESSAGE;
		ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
	}
}

/* Opens a connection and binds as the service account (or stays
 * anonymous). Returns 0 or -1 with err set. */
static int conn_open(struct ldap_conn *c, struct ox_error *err)
{
	const char *what = "initialise";
	int rc = ldap_initialize(&c->ld, c->set->uri);
	if (rc != LDAP_SUCCESS)
		goto fail;
	conn_set_options(c);
	if (c->set->starttls) {
		struct timeval tv;
		what = "StartTLS";
		rc = conn_arm(c, &tv) ? ldap_start_tls_s(c->ld, NULL, NULL) : LDAP_TIMEOUT;
		if (rc != LDAP_SUCCESS)
			goto fail;
	}
	if (c->set->bind_dn[0] != '\0') {
		what = "service bind";
		rc = simple_bind(c, c->set->bind_dn, c->set->bind_password);
		if (rc != LDAP_SUCCESS)
			goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return fail_with(err, rc, what);
}

/* A copy of a value the server sent, or NULL when it is too long, holds a
 * NUL byte or is not UTF-8. */
static char *value_dup(const struct berval *bv)
{
	if (bv->bv_len == 0 || bv->bv_len > MAX_VALUE || memchr(bv->bv_val, '\0', bv->bv_len) ||
	    !g_utf8_validate(bv->bv_val, (gssize)bv->bv_len, NULL))
		return NULL;
	return g_strndup(bv->bv_val, bv->bv_len);
}

/* The DN of an entry, checked like a value. Caller frees. */
static char *entry_dn(LDAP *ld, LDAPMessage *entry)
{
	char *dn = ldap_get_dn(ld, entry);
	char *copy = NULL;
	if (dn != NULL && strlen(dn) <= MAX_DN && g_utf8_validate(dn, -1, NULL))
		copy = g_strdup(dn);
	ldap_memfree(dn);
	return copy;
}

/* ---- authentication ---- */

/* Finds the DN of the one entry the user filter matches: 1 found, 0 none
 * or several, -1 error. */
static int find_user_dn(struct ldap_conn *c, const char *login, char **dn_r, struct ox_error *err)
{
	char *filter = ldap_filter_build(c->set->user_filter, login);
	char *attrs[] = {LDAP_NO_ATTRS, NULL};
	LDAPMessage *res = NULL;
	struct timeval tv;
	int ret = -1;
	/* A size limit of 2 is enough to tell one match from several. */
	int rc = conn_arm(c, &tv) ? ldap_search_ext_s(c->ld, c->set->base_dn, LDAP_SCOPE_SUBTREE,
	                                              filter, attrs, 0, NULL, NULL, &tv, 2, &res)
	                          : LDAP_TIMEOUT;
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		fail_with(err, rc, "user search");
		goto out;
	}
	int n = ldap_count_entries(c->ld, res);
	if (n != 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
		if (n > 1 || rc == LDAP_SIZELIMIT_EXCEEDED)
			ox_log_kv(OX_LOG_WARN, "ldap_login_ambiguous", "login", login, NULL);
		ret = 0;
		goto out;
	}
	*dn_r = entry_dn(c->ld, ldap_first_entry(c->ld, res));
	ret = *dn_r != NULL ? 1 : 0;
out:
	if (res != NULL)
		ldap_msgfree(res);
	g_free(filter);
	return ret;
}

static bool login_acceptable(const char *login, const char *password)
{
	/* An empty password would make the bind an unauthenticated one
	 * (RFC 4513 5.1.2), which many servers accept for any DN. */
	return login != NULL && password != NULL && *login != '\0' && *password != '\0' &&
	       strlen(login) <= MAX_LOGIN && strlen(password) <= MAX_PASSWORD &&
	       g_utf8_validate(login, -1, NULL);
}

int ldap_authenticate(const char *login, const char *password, char **dn_r, struct ox_error *err)
{
	struct ldap_settings *set = settings_get();
	struct ldap_conn c = {.set = set};
	char *dn = NULL;
	int ret = 0;
	if (set == NULL || !login_acceptable(login, password))
		goto out;
	c.deadline = g_get_monotonic_time() + set->timeout_ms * 1000;
	ret = conn_open(&c, err);
	if (ret < 0)
		goto out;
	ret = find_user_dn(&c, login, &dn, err);
	if (ret <= 0)
		goto out;
	int rc = simple_bind(&c, dn, password);
	if (rc == LDAP_SUCCESS) {
		ret = 1;
	} else if (rc_transient(rc)) {
		ret = fail_with(err, rc, "bind");
	} else {
		if (rc != LDAP_INVALID_CREDENTIALS)
			ox_log_kv(OX_LOG_INFO, "ldap_bind_refused", "dn", dn, "reason",
			          ldap_err2string(rc), NULL);
		ret = 0;
	}
out:
	conn_close(&c);
	settings_put(&set);
	if (ret == 1 && dn_r != NULL)
		*dn_r = g_steal_pointer(&dn);
	g_free(dn);
	return ret;
}

/* ---- listing ---- */

struct list_state {
	int (*fn)(const struct ldap_user *u, void *ctx);
	void *ctx;
	int seen;
	int ret; /* the callback's stop value */
};

static char *first_value(LDAP *ld, LDAPMessage *entry, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	char *value = NULL;
	for (int i = 0; vals != NULL && vals[i] != NULL && value == NULL; i++)
		value = value_dup(vals[i]);
	ldap_value_free_len(vals);
	return value;
}

static GPtrArray *all_values(LDAP *ld, LDAPMessage *entry, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; vals != NULL && vals[i] != NULL && out->len < MAX_MAILS; i++) {
		char *v = value_dup(vals[i]);
		if (v != NULL)
			g_ptr_array_add(out, v);
	}
	ldap_value_free_len(vals);
	g_ptr_array_add(out, NULL);
	return out;
}

/* Reports one entry; returns the callback's value (0 also for an entry
 * that is skipped). */
static int report_entry(LDAP *ld, LDAPMessage *entry, const struct ldap_settings *set,
                        struct list_state *st)
{
	char *dn = entry_dn(ld, entry);
	char *login = first_value(ld, entry, set->login_attr);
	int ret = 0;
	if (dn != NULL && login != NULL) {
		char *name = first_value(ld, entry, set->name_attr);
		GPtrArray *mail = all_values(ld, entry, set->mail_attr);
		struct ldap_user u = {
			.dn = dn,
			.login = login,
			.display_name = name,
			.mail = (const char *const *)mail->pdata,
		};
		st->seen++;
		ret = st->fn(&u, st->ctx);
		g_ptr_array_free(mail, TRUE);
		g_free(name);
	}
	g_free(login);
	g_free(dn);
	return ret;
}

/* The cookie of the server's paged-results answer (empty: last page). */
static void page_cookie(LDAP *ld, LDAPMessage *res, struct berval *cookie)
{
	LDAPControl **ctrls = NULL;
	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	if (ldap_parse_result(ld, res, NULL, NULL, NULL, NULL, &ctrls, 0) != LDAP_SUCCESS)
		return;
	LDAPControl *page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	ber_int_t estimate;
	if (page != NULL &&
	    ldap_parse_pageresponse_control(ld, page, &estimate, cookie) != LDAP_SUCCESS) {
		cookie->bv_val = NULL;
		cookie->bv_len = 0;
	}
	ldap_controls_free(ctrls);
}

/* Searches one page and reports its entries. Returns 1 when another page
 * follows, 0 at the end, -1 with err set, or the callback's stop value
 * in st->ret. */
static int list_page(struct ldap_conn *c, struct berval *cookie, struct list_state *st,
                     struct ox_error *err)
{
	char *attrs[] = {c->set->login_attr, c->set->name_attr, c->set->mail_attr, NULL};
	LDAPControl *page = NULL;
	LDAPMessage *res = NULL;
	struct timeval tv;
	int left = LDAP_MAX_USERS - st->seen;
	int rc = ldap_create_page_control(c->ld, PAGE_SIZE, cookie, 0, &page);
	if (rc != LDAP_SUCCESS)
		return fail_with(err, rc, "paged search");
	LDAPControl *ctrls[] = {page, NULL};
	conn_arm(c, &tv);
	rc = ldap_search_ext_s(c->ld, c->set->base_dn, LDAP_SCOPE_SUBTREE, c->set->list_filter,
	                       attrs, 0, ctrls, NULL, &tv, left, &res);
	ldap_control_free(page);
	int ret = -1;
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		fail_with(err, rc, "user listing");
		goto out;
	}
	for (LDAPMessage *e = ldap_first_entry(c->ld, res); e != NULL && st->ret == 0;
	     e = ldap_next_entry(c->ld, e)) {
		if (st->seen >= LDAP_MAX_USERS)
			break;
		st->ret = report_entry(c->ld, e, c->set, st);
	}
	page_cookie(c->ld, res, cookie);
	if (rc == LDAP_SIZELIMIT_EXCEEDED || st->seen >= LDAP_MAX_USERS)
		ox_logf(OX_LOG_WARN, "ldap_list_truncated", "seen=%d max=%d", st->seen,
		        LDAP_MAX_USERS);
	ret = st->ret == 0 && rc == LDAP_SUCCESS && cookie->bv_len > 0 && st->seen < LDAP_MAX_USERS;
out:
	if (res != NULL)
		ldap_msgfree(res);
	return ret;
}

int ldap_list_users(int (*fn)(const struct ldap_user *u, void *ctx), void *ctx,
                    struct ox_error *err)
{
	struct ldap_settings *set = settings_get();
	struct ldap_conn c = {.set = set};
	struct list_state st = {.fn = fn, .ctx = ctx};
	struct berval cookie = {0};
	int ret = 0;
	if (set == NULL)
		goto out;
	ret = conn_open(&c, err);
	if (ret < 0)
		goto out;
	while ((ret = list_page(&c, &cookie, &st, err)) > 0)
		;
	if (ret == 0 && st.ret != 0)
		ret = st.ret;
out:
	ber_memfree(cookie.bv_val);
	conn_close(&c);
	settings_put(&set);
	return ret;
}

/* ---- sync ---- */

struct sync_entry {
	char *dn, *login, *display_name;
};

static void sync_entry_free(gpointer data)
{
	struct sync_entry *e = data;
	g_free(e->dn);
	g_free(e->login);
	g_free(e->display_name);
	g_free(e);
}

static int collect_user(const struct ldap_user *u, void *ctx)
{
	struct sync_entry *e = g_new0(struct sync_entry, 1);
	e->dn = g_strdup(u->dn);
	e->login = address_normalize(u->login);
	e->display_name = g_strdup(u->display_name);
	g_ptr_array_add(ctx, e);
	return 0;
}

/* The set of domains that belong to some context. */
static GHashTable *known_domains(struct store *s, struct ox_error *err)
{
	struct context_info **list = NULL;
	if (context_list(s, &list, err) < 0)
		return NULL;
	GHashTable *domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (struct context_info **ci = list; *ci != NULL; ci++) {
		for (char **d = (*ci)->domains; d != NULL && *d != NULL; d++)
			g_hash_table_add(domains, g_ascii_strdown(*d, -1));
	}
	context_list_free(&list);
	return domains;
}

static int update_display_name(struct store *s, int64_t user_id, const char *name,
                               struct ox_error *err)
{
	return dir_exec(s, "UPDATE principals SET display_name = $1 WHERE id = $2", NULL, err, "si",
	                name, user_id);
}

enum sync_outcome {
	SYNC_CREATED,
	SYNC_UPDATED,
	SYNC_UNCHANGED,
	SYNC_SKIPPED,
};

/* Brings one local user in line with its LDAP entry. Returns an outcome,
 * or -1 with err set when the store fails. */
static int sync_one(struct store *s, GHashTable *domains, const struct sync_entry *e,
                    struct ox_error *err)
{
	const char *at = e->login != NULL ? strrchr(e->login, '@') : NULL;
	if (at == NULL || !g_hash_table_contains(domains, at + 1))
		return SYNC_SKIPPED;
	/* The login stands in for a name the directory would refuse. */
	const char *name = e->display_name != NULL && display_name_valid(e->display_name)
	                           ? e->display_name
	                           : e->login;
	struct user_info info = {0};
	int ret = user_lookup(s, e->login, &info, err);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		struct user_create spec = {
			.login = e->login, .display_name = name, .ldap_dn = e->dn};
		struct ox_error cerr = {0};
		if (user_create(s, &spec, NULL, &cerr) == 0)
			return SYNC_CREATED;
		if (cerr.code != OX_ERR_INVALID && cerr.code != OX_ERR_EXISTS) {
			*err = cerr;
			return -1;
		}
		/* One odd entry must not hold up everybody else's. */
		ox_log_kv(OX_LOG_WARN, "ldap_sync_skip", "login", e->login, "reason", cerr.message,
		          NULL);
		return SYNC_SKIPPED;
	}
	if (info.ldap_dn == NULL) {
		ret = SYNC_SKIPPED; /* a local user of the same login: not ours to change */
	} else if (g_strcmp0(info.display_name, name) == 0) {
		ret = SYNC_UNCHANGED;
	} else {
		ret = update_display_name(s, info.id, name, err) < 0 ? -1 : SYNC_UPDATED;
	}
	user_info_clear(&info);
	return ret;
}

int ldap_sync_users(struct store *s, int *created_r, int *updated_r, struct ox_error *err)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func(sync_entry_free);
	GHashTable *domains = NULL;
	int counts[SYNC_SKIPPED + 1] = {0};
	int ret = -1;
	if (ldap_list_users(collect_user, entries, err) < 0)
		goto out;
	domains = known_domains(s, err);
	if (domains == NULL)
		goto out;
	for (guint i = 0; i < entries->len; i++) {
		int outcome = sync_one(s, domains, g_ptr_array_index(entries, i), err);
		if (outcome < 0)
			goto out;
		counts[outcome]++;
	}
	ret = 0;
out:
	ox_logf(ret == 0 ? OX_LOG_INFO : OX_LOG_WARN, "ldap_sync",
	        "listed=%u created=%d updated=%d unchanged=%d skipped=%d ok=%s", entries->len,
	        counts[SYNC_CREATED], counts[SYNC_UPDATED], counts[SYNC_UNCHANGED],
	        counts[SYNC_SKIPPED], ret == 0 ? "true" : "false");
	if (created_r != NULL)
		*created_r = counts[SYNC_CREATED];
	if (updated_r != NULL)
		*updated_r = counts[SYNC_UPDATED];
	if (domains != NULL)
		g_hash_table_destroy(domains);
	g_ptr_array_free(entries, TRUE);
	return ret;
}
