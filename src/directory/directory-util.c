/* Transactions, small query helpers, validation and hooks. */
#include "directory/directory-private.h"

#include <stdarg.h>
#include <string.h>

static user_created_hook *user_created;
static principal_deleted_hook *principal_deleted;
static context_deleted_hook *context_deleted;

void directory_set_user_created_hook(user_created_hook *hook)
{
	user_created = hook;
}

void directory_set_principal_deleted_hook(principal_deleted_hook *hook)
{
	principal_deleted = hook;
}

void directory_set_context_deleted_hook(context_deleted_hook *hook)
{
	context_deleted = hook;
}

int run_user_created_hook(struct store *s, int64_t context_id, int64_t user_id,
                          struct ox_error *err)
{
	return user_created != NULL ? user_created(s, context_id, user_id, err) : 0;
}

int run_principal_deleted_hook(struct store *s, int64_t principal_id, struct ox_error *err)
{
	return principal_deleted != NULL ? principal_deleted(s, principal_id, err) : 0;
}

int run_context_deleted_hook(struct store *s, int64_t context_id, struct ox_error *err)
{
	return context_deleted != NULL ? context_deleted(s, context_id, err) : 0;
}

int64_t now_seconds(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

int txn_begin(struct store *s, bool *own_r, struct ox_error *err)
{
	*own_r = !store_in_transaction(s);
	return *own_r ? store_begin(s, err) : 0;
}

int txn_end(struct store *s, bool own, bool ok, struct ox_error *err)
{
	if (!own)
		return ok ? 0 : -1;
	if (!ok) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, err);
}

static struct store_stmt *prepare_bound(struct store *s, const char *sql, struct ox_error *err,
                                        const char *types, va_list ap)
{
	struct store_stmt *st = store_prepare(s, sql, err);
	if (st == NULL)
		return NULL;
	for (int i = 0; types[i] != '\0'; i++) {
		if (types[i] == 's')
			store_bind_text(st, i + 1, va_arg(ap, const char *));
		else if (types[i] == 'i')
			store_bind_int(st, i + 1, va_arg(ap, int64_t));
		else
			store_bind_null(st, i + 1);
	}
	return st;
}

int dir_exec(struct store *s, const char *sql, int64_t *changes_r, struct ox_error *err,
             const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct store_stmt *st = prepare_bound(s, sql, err, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	int r = store_run(st, err);
	if (changes_r != NULL)
		*changes_r = store_changes(st);
	store_stmt_done(&st);
	return r;
}

/* The first row of a query, handed to read_row: 1 found, 0 no row, -1. */
static int query_row(struct store *s, const char *sql, dir_row_reader *read_row, void *row,
                     struct ox_error *err, const char *types, va_list ap)
{
	struct store_stmt *st = prepare_bound(s, sql, err, types, ap);
	if (st == NULL)
		return -1;
	int r = store_step(st, err);
	if (r > 0)
		read_row(st, row);
	store_stmt_done(&st);
	return r;
}

static void read_int(struct store_stmt *st, void *value_r)
{
	if (value_r != NULL)
		*(int64_t *)value_r = store_col_int(st, 0);
}

int dir_query_int(struct store *s, const char *sql, int64_t *value_r, struct ox_error *err,
                  const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	int r = query_row(s, sql, read_int, value_r, err, types, ap);
	va_end(ap);
	return r;
}

int dir_query_row(struct store *s, const char *sql, dir_row_reader *read_row, void *row,
                  struct ox_error *err, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	int r = query_row(s, sql, read_row, row, err, types, ap);
	va_end(ap);
	return r;
}

bool domain_valid(const char *domain)
{
	size_t len = strlen(domain);
	if (len == 0 || len > 253 || strchr(domain, '.') == NULL)
		return false;
	gchar **labels = g_strsplit(domain, ".", -1);
	bool ok = true;
	for (gchar **l = labels; *l != NULL && ok; l++) {
		size_t n = strlen(*l);
		ok = n >= 1 && n <= 63 && (*l)[0] != '-' && (*l)[n - 1] != '-';
		for (size_t i = 0; i < n && ok; i++)
			ok = g_ascii_isalnum((*l)[i]) || (*l)[i] == '-';
	}
	g_strfreev(labels);
	return ok;
}

char *address_normalize(const char *address)
{
	const char *at = strrchr(address, '@');
	if (at == NULL || at == address)
		return NULL;
	size_t local_len = (size_t)(at - address);
	if (local_len > 64 || address[0] == '.' || at[-1] == '.')
		return NULL;
	/* RFC 5322 dot-atom local parts only: no quoted strings. */
	for (size_t i = 0; i < local_len; i++) {
		char c = address[i];
		if (!(g_ascii_isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL))
			return NULL;
		if (c == '.' && address[i + 1] == '.')
			return NULL;
	}
	char *lower = g_ascii_strdown(address, -1);
	if (!domain_valid(lower + local_len + 1)) {
		g_free(lower);
		return NULL;
	}
	return lower;
}

bool name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 64 || !g_ascii_isalnum(name[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) ||
		      strchr("._-", name[i]) != NULL))
			return false;
	}
	return true;
}

bool display_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 256 || !g_utf8_validate(name, (gssize)len, NULL))
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}
