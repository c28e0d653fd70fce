/* oxctl's commands: one table per command group (ctl-context.c,
 * ctl-user.c, ...), each entry declaring its words, its synopsis and its
 * handler. The dispatcher (oxctl.c) parses the arguments from the synopsis
 * before a handler runs, so handlers never see argv and every usage error
 * reads the same. Handlers call services only; they never write SQL. */
#ifndef OX_CTL_H
#define OX_CTL_H

#include "core/error.h"

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ox_config;
struct store;

/* Exit codes, documented in `oxctl --help` and the README. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_CONFIG = 1,    /* configuration unreadable, or `config check` found problems */
	CTL_EXIT_USAGE = 2,     /* unknown command, missing or unexpected argument */
	CTL_EXIT_INVALID = 3,   /* a value is malformed or not allowed */
	CTL_EXIT_NOT_FOUND = 4, /* what a command names does not exist */
	CTL_EXIT_EXISTS = 5,    /* it exists already, or conflicts with what exists */
	CTL_EXIT_PERM = 6,      /* the acting user may not do it */
	CTL_EXIT_TEMP = 7,      /* the store failed or is busy: try again */
	CTL_EXIT_LIMIT = 8,     /* a quota or limit would be exceeded */
};

enum {
	/* The command changes the store: it runs in one transaction, which
	 * also holds its audit log entry. */
	CTL_WRITE = 1 << 0,
};

struct ctl;

struct ctl_command {
	const char *words; /* "user alias add" */
	/* Arguments after the words, from which they are parsed: NAME is a
	 * positional, [NAME] an optional one, --opt VALUE an option with a
	 * value, --flag a flag; brackets make an option optional. */
	const char *synopsis;
	const char *summary;
	int (*run)(struct ctl *c);
	unsigned flags;
};

/* The command tables, each ended by an entry with NULL words. */
extern const struct ctl_command ctl_config_commands[];
extern const struct ctl_command ctl_context_commands[];
extern const struct ctl_command ctl_user_commands[];
extern const struct ctl_command ctl_group_commands[];
extern const struct ctl_command ctl_resource_commands[];
extern const struct ctl_command ctl_folder_commands[];
extern const struct ctl_command ctl_app_password_commands[];
extern const struct ctl_command ctl_audit_commands[];
extern const struct ctl_command ctl_ldap_commands[];
extern const struct ctl_command ctl_import_commands[];
extern const struct ctl_command ctl_calendar_commands[];
extern const struct ctl_command ctl_file_commands[];

struct ctl_arg {
	const char *name;    /* "LOGIN", "--json" */
	const char *metavar; /* "DOMAIN" of "--domain DOMAIN"; NULL for flags */
	bool option, required;
	const char *value; /* NULL when absent; "" for a given flag */
};

#define CTL_MAX_ARGS 16

/* One run of oxctl. */
struct ctl {
	const char *config_path;
	const char *const *sets; /* --data and --set overrides, NULL-terminated */
	const struct ctl_command *cmd;
	struct ctl_arg args[CTL_MAX_ARGS];
	int nargs;
	struct ox_config *cfg;
	struct store *store;
	struct ox_error err;
	GString *out; /* printed when the command succeeds (after its commit) */
	/* What a write names and how, for its audit log entry. */
	char *audit_target;
	char *audit_detail;
};

/* --- arguments (oxctl.c parses them) --- */
/* Value of a positional ("LOGIN") or an option ("--domain"); NULL when an
 * optional one is absent. Asking for a name the synopsis lacks aborts. */
const char *ctl_arg(const struct ctl *c, const char *name);
bool ctl_flag(const struct ctl *c, const char *name);
/* Prints the command's usage line to `out`. */
void ctl_print_usage(const struct ctl_command *cmd, FILE *out);

/* --- the store --- */
/* The loaded configuration, or NULL after printing why (exit CTL_EXIT_CONFIG). */
struct ox_config *ctl_config(struct ctl *c);
/* Opens and migrates the configured store (creating the data directory
 * as oxd does) and, for a CTL_WRITE command, begins its transaction.
 * NULL after printing why; the handler then returns ctl_exit_code(c). */
struct store *ctl_store(struct ctl *c);
/* Ends the command: commits or rolls back a write and records it in the
 * audit log (actor "oxctl"). Returns the exit code, which a failed commit
 * turns into a failure. */
int ctl_finish(struct ctl *c, int code);
/* Sets what the audit log entry names (printf-style). */
void ctl_audit_target(struct ctl *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void ctl_audit_detail(struct ctl *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* --- results --- */
/* Prints "oxctl: <c->err.message>" and returns its exit code. */
int ctl_fail(struct ctl *c);
/* Sets c->err, prints it and returns its exit code. */
int ctl_error(struct ctl *c, enum ox_error_code code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* The exit code for c->err after ctl_config() or ctl_store() failed. */
int ctl_exit_code(const struct ctl *c);
/* Output, held back until the command has succeeded. */
void ctl_printf(struct ctl *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Prints `value` (a reference it takes) as indented JSON. */
int ctl_print_json(struct ctl *c, json_t *value);
/* json_string() that yields null for NULL. */
json_t *ctl_json_string(const char *s);

/* Left-aligned columns: add rows (the first is the header), then print. */
struct ctl_table;
struct ctl_table *ctl_table_new(int columns);
void ctl_table_add(struct ctl_table *t, ...); /* `columns` strings; NULL prints as "-" */
/* Prints and frees the table. */
void ctl_table_print(struct ctl *c, struct ctl_table **t);
void ctl_table_free(struct ctl_table **t);
/* A listing: `json` (a reference it takes) with --json, else the table;
 * frees both. Returns the exit code. */
int ctl_print_list(struct ctl *c, json_t *json, struct ctl_table **t);

/* --- shared parsing and look-ups --- */
/* These return 0, or -1 with c->err set (the handler returns ctl_fail(c)). */
/* Reads the first line of stdin without its line ending into *password_r
 * (caller frees with ctl_password_free); an empty one is refused. */
int ctl_read_password(struct ctl *c, char **password_r);
void ctl_password_free(char **password);
/* A size such as 500m. */
int ctl_parse_size(struct ctl *c, const char *text, int64_t *bytes_r);
/* A positive integer id or count. */
int ctl_parse_id(struct ctl *c, const char *what, const char *text, int64_t *id_r);
/* "unlimited" or a size in IEC units. Caller frees. */
char *ctl_format_quota(int64_t bytes);
/* A Unix time as ISO 8601 in UTC, or NULL for 0 (never). Caller frees. */
char *ctl_format_time(int64_t seconds);
/* The name of a context by id, or NULL with c->err set. Caller frees. */
char *ctl_context_name(struct ctl *c, int64_t context_id);

/* Names of a context's principals by id ("user:LOGIN", "group:NAME"), for
 * showing members, owners and permissions. */
struct ctl_names;
struct ctl_names *ctl_names_load(struct ctl *c, const char *context);
/* The principal's login or group name (no prefix), or NULL. */
const char *ctl_names_plain(struct ctl_names *n, int64_t id);
/* "user:LOGIN" or "group:NAME", or "#ID" for an unknown id. */
const char *ctl_names_entity(struct ctl_names *n, int64_t id);
void ctl_names_free(struct ctl_names **n);

#endif
