/* What every oxctl command shares: the store and its transaction, the
 * audit entry, error reporting, output, and small parsers. */
#include "core/config.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "daemon/modules.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* --- arguments --- */

static const struct ctl_arg *find_arg(const struct ctl *c, const char *name)
{
	for (int i = 0; i < c->nargs; i++) {
		if (strcmp(c->args[i].name, name) == 0)
			return &c->args[i];
	}
	g_error("oxctl: command '%s' has no argument %s", c->cmd->words, name);
}

const char *ctl_arg(const struct ctl *c, const char *name)
{
	return find_arg(c, name)->value;
}

bool ctl_flag(const struct ctl *c, const char *name)
{
	return find_arg(c, name)->value != NULL;
}

void ctl_print_usage(const struct ctl_command *cmd, FILE *out)
{
	fprintf(out, "usage: oxctl %s%s%s\n", cmd->words, *cmd->synopsis != '\0' ? " " : "",
	        cmd->synopsis);
}

/* --- output --- */

void ctl_printf(struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_string_append_vprintf(c->out, fmt, ap);
	va_end(ap);
}

int ctl_print_json(struct ctl *c, json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY);
	json_decref(value);
	if (text == NULL)
		return ctl_error(c, OX_ERR_INTERNAL, "cannot encode the result as JSON");
	ctl_printf(c, "%s\n", text);
	free(text);
	return CTL_EXIT_OK;
}

json_t *ctl_json_string(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

struct ctl_table {
	int columns;
	GPtrArray *cells; /* row-major, owned strings */
};

struct ctl_table *ctl_table_new(int columns)
{
	struct ctl_table *t = g_new0(struct ctl_table, 1);
	t->columns = columns;
	t->cells = g_ptr_array_new_with_free_func(g_free);
	return t;
}

void ctl_table_add(struct ctl_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	for (int i = 0; i < t->columns; i++) {
		const char *cell = va_arg(ap, const char *);
		g_ptr_array_add(t->cells, g_strdup(cell != NULL ? cell : "-"));
	}
	va_end(ap);
}

void ctl_table_print(struct ctl *c, struct ctl_table **tp)
{
	struct ctl_table *t = *tp;
	int *width = g_new0(int, t->columns);
	for (guint i = 0; i < t->cells->len; i++) {
		const char *cell = g_ptr_array_index(t->cells, i);
		int w = (int)g_utf8_strlen(cell, -1);
		width[i % t->columns] = MAX(width[i % t->columns], w);
	}
	for (guint i = 0; i < t->cells->len; i++) {
		const char *cell = g_ptr_array_index(t->cells, i);
		int col = (int)(i % t->columns);
		if (col == t->columns - 1) {
			ctl_printf(c, "%s\n", cell);
			continue;
		}
		/* Pad by characters, not bytes, so UTF-8 names line up. */
		int pad = width[col] - (int)g_utf8_strlen(cell, -1) + 2;
		ctl_printf(c, "%s%*s", cell, pad, "");
	}
	g_free(width);
	ctl_table_free(tp);
}

void ctl_table_free(struct ctl_table **tp)
{
	struct ctl_table *t = *tp;
	if (t == NULL)
		return;
	*tp = NULL;
	g_ptr_array_unref(t->cells);
	g_free(t);
}

int ctl_print_list(struct ctl *c, json_t *json, struct ctl_table **t)
{
	if (ctl_flag(c, "--json")) {
		ctl_table_free(t);
		return ctl_print_json(c, json);
	}
	json_decref(json);
	ctl_table_print(c, t);
	return CTL_EXIT_OK;
}

/* --- errors --- */

static int exit_for(enum ox_error_code code)
{
	switch (code) {
	case OX_ERR_NONE:
		return CTL_EXIT_OK;
	case OX_ERR_INVALID:
		return CTL_EXIT_INVALID;
	case OX_ERR_NOT_FOUND:
		return CTL_EXIT_NOT_FOUND;
	case OX_ERR_EXISTS:
	case OX_ERR_CONFLICT:
		return CTL_EXIT_EXISTS;
	case OX_ERR_PERM:
		return CTL_EXIT_PERM;
	case OX_ERR_NO_QUOTA:
	case OX_ERR_LIMIT:
		return CTL_EXIT_LIMIT;
	case OX_ERR_TEMP:
	case OX_ERR_INTERNAL:
		break;
	}
	return CTL_EXIT_TEMP;
}

int ctl_fail(struct ctl *c)
{
	if (c->err.code == OX_ERR_NONE)
		ox_error_set(&c->err, OX_ERR_INTERNAL, "failed without a reason (a bug)");
	fprintf(stderr, "oxctl: %s\n", c->err.message);
	return exit_for(c->err.code);
}

int ctl_error(struct ctl *c, enum ox_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	c->err.code = code;
	g_vsnprintf(c->err.message, sizeof(c->err.message), fmt, ap);
	va_end(ap);
	return ctl_fail(c);
}

int ctl_exit_code(const struct ctl *c)
{
	return c->cfg == NULL ? CTL_EXIT_CONFIG : exit_for(c->err.code);
}

/* --- configuration, store, transaction, audit --- */

struct ox_config *ctl_config(struct ctl *c)
{
	if (c->cfg != NULL)
		return c->cfg;
	char *error = NULL;
	c->cfg = ox_config_load(c->config_path, c->sets, &error);
	if (c->cfg == NULL) {
		fprintf(stderr, "oxctl: %s\n", error);
		g_free(error);
		return NULL;
	}
	ox_modules_configure(c->cfg);
	/* Services log their events (audit entries among them) to stderr,
	 * where oxctl promises one line per failure: keep only errors unless
	 * debug logging was asked for. */
	if (!ox_log_enabled(OX_LOG_DEBUG))
		ox_log_set_level(OX_LOG_ERROR);
	return c->cfg;
}

struct store *ctl_store(struct ctl *c)
{
	if (c->store != NULL)
		return c->store;
	if (ctl_config(c) == NULL)
		return NULL;
	const char *data_dir = ox_config_string(c->cfg, "server", "data");
	if (g_mkdir_with_parents(data_dir, 0750) < 0) {
		ctl_error(c, OX_ERR_TEMP, "server.data: cannot create %s: %s", data_dir,
		          g_strerror(errno));
		return NULL;
	}
	struct store *s = store_open_configured(c->cfg, &c->err);
	if (s == NULL || store_migrate(s, &c->err) < 0 ||
	    ((c->cmd->flags & CTL_WRITE) && store_begin(s, &c->err) < 0)) {
		fprintf(stderr, "oxctl: store: %s\n", c->err.message);
		store_close(&s);
		return NULL;
	}
	c->store = s;
	return s;
}

void ctl_audit_target(struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(c->audit_target);
	c->audit_target = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

void ctl_audit_detail(struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(c->audit_detail);
	c->audit_detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* The target defaults to the command's first positional argument. */
static const char *audit_target(const struct ctl *c)
{
	if (c->audit_target != NULL)
		return c->audit_target;
	for (int i = 0; i < c->nargs; i++) {
		if (!c->args[i].option)
			return c->args[i].value;
	}
	return NULL;
}

static int write_audit(struct ctl *c, bool success, struct ox_error *err)
{
	/* "user alias add" is logged as "user.alias.add". */
	char *action = g_strdelimit(g_strdup(c->cmd->words), " ", '.');
	/* The actor is oxctl; who ran it goes into the detail. */
	GString *detail = g_string_new(NULL);
	g_string_printf(detail, "unix_user=%s", g_get_user_name());
	if (!success)
		g_string_append_printf(detail, " error=%s: %s", ox_error_code_name(c->err.code),
		                       c->err.message);
	else if (c->audit_detail != NULL)
		g_string_append_printf(detail, " %s", c->audit_detail);
	int r = audit_log(c->store, "oxctl", action, audit_target(c), NULL, success, detail->str,
	                  err);
	g_string_free(detail, TRUE);
	g_free(action);
	return r;
}

static int finish_write(struct ctl *c, int code)
{
	if (code != CTL_EXIT_OK) {
		store_rollback(c->store);
		/* Refused attempts are recorded too, outside the rolled-back work. */
		write_audit(c, false, NULL);
		return code;
	}
	if (write_audit(c, true, &c->err) < 0 || store_commit(c->store, &c->err) < 0) {
		store_rollback(c->store);
		return ctl_fail(c);
	}
	return code;
}

int ctl_finish(struct ctl *c, int code)
{
	if (c->store != NULL && (c->cmd->flags & CTL_WRITE))
		code = finish_write(c, code);
	/* A write prints only what took effect: a failed commit prints no
	 * "created". */
	if (code == CTL_EXIT_OK || !(c->cmd->flags & CTL_WRITE))
		fputs(c->out->str, stdout);
	store_close(&c->store);
	ox_config_free(&c->cfg);
	g_free(c->audit_target);
	g_free(c->audit_detail);
	c->audit_target = c->audit_detail = NULL;
	return code;
}

/* --- parsing --- */

int ctl_read_password(struct ctl *c, char **password_r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		line = strdup("");
		n = 0;
	}
	/* The line ending is not part of the password: "\n", or "\r\n" from a
	 * file written on Windows. */
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	*password_r = line;
	if (n == 0) {
		ctl_password_free(password_r);
		return ox_error_set(&c->err, OX_ERR_INVALID,
		                    "the password must not be empty (give it on stdin, one line)");
	}
	return 0;
}

void ctl_password_free(char **password)
{
	if (*password == NULL)
		return;
	explicit_bzero(*password, strlen(*password));
	free(*password);
	*password = NULL;
}

int ctl_parse_size(struct ctl *c, const char *text, int64_t *bytes_r)
{
	long long bytes;
	if (ox_parse_size(text, &bytes) < 0 || bytes < 0)
		return ox_error_set(&c->err, OX_ERR_INVALID,
		                    "'%s' is not a size (such as 500m or 2g; 0 is unlimited)",
		                    text);
	*bytes_r = bytes;
	return 0;
}

int ctl_parse_id(struct ctl *c, const char *what, const char *text, int64_t *id_r)
{
	gint64 v;
	if (!g_ascii_string_to_signed(text, 10, 1, G_MAXINT64, &v, NULL))
		return ox_error_set(&c->err, OX_ERR_INVALID, "'%s' is not a %s (a positive number)",
		                    text, what);
	*id_r = v;
	return 0;
}

char *ctl_format_quota(int64_t bytes)
{
	if (bytes == 0)
		return g_strdup("unlimited");
	return g_format_size_full((guint64)bytes, G_FORMAT_SIZE_IEC_UNITS);
}

char *ctl_format_time(int64_t seconds)
{
	if (seconds == 0)
		return NULL;
	GDateTime *t = g_date_time_new_from_unix_utc(seconds);
	char *text = g_date_time_format_iso8601(t);
	g_date_time_unref(t);
	return text;
}

char *ctl_context_name(struct ctl *c, int64_t context_id)
{
	struct context_info **list = NULL;
	char *name = NULL;
	if (context_list(c->store, &list, &c->err) < 0)
		return NULL;
	for (struct context_info **i = list; *i != NULL && name == NULL; i++) {
		if ((*i)->id == context_id)
			name = g_strdup((*i)->name);
	}
	context_list_free(&list);
	if (name == NULL)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no context with id %" G_GINT64_FORMAT,
		             context_id);
	return name;
}

/* --- principal names --- */

struct ctl_names {
	GHashTable *plain;  /* int64 id -> login or group name */
	GHashTable *entity; /* int64 id -> "user:LOGIN" or "group:NAME" */
	char unknown[32];
};

static void names_add(struct ctl_names *n, int64_t id, const char *kind, const char *name)
{
	g_hash_table_insert(n->plain, g_memdup2(&id, sizeof(id)), g_strdup(name));
	g_hash_table_insert(n->entity, g_memdup2(&id, sizeof(id)),
	                    g_strdup_printf("%s:%s", kind, name));
}

struct ctl_names *ctl_names_load(struct ctl *c, const char *context)
{
	struct user_info **users = NULL;
	struct group_info **groups = NULL;
	if (user_list(c->store, context, &users, &c->err) < 0 ||
	    group_list(c->store, context, &groups, &c->err) < 0) {
		user_list_free(&users);
		return NULL;
	}
	struct ctl_names *n = g_new0(struct ctl_names, 1);
	n->plain = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	n->entity = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	for (struct user_info **u = users; *u != NULL; u++)
		names_add(n, (*u)->id, "user", (*u)->login);
	for (struct group_info **g = groups; *g != NULL; g++)
		names_add(n, (*g)->id, "group", (*g)->name);
	user_list_free(&users);
	group_list_free(&groups);
	return n;
}

const char *ctl_names_plain(struct ctl_names *n, int64_t id)
{
	return g_hash_table_lookup(n->plain, &id);
}

const char *ctl_names_entity(struct ctl_names *n, int64_t id)
{
	const char *name = g_hash_table_lookup(n->entity, &id);
	if (name != NULL)
		return name;
	g_snprintf(n->unknown, sizeof(n->unknown), "#%" G_GINT64_FORMAT, id);
	return n->unknown;
}

void ctl_names_free(struct ctl_names **np)
{
	struct ctl_names *n = *np;
	if (n == NULL)
		return;
	*np = NULL;
	g_hash_table_unref(n->plain);
	g_hash_table_unref(n->entity);
	g_free(n);
}
