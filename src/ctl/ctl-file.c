/* file versions, restore: the versions the files service keeps of a
 * document, acting as the user named so that the folder permissions
 * decide as for their own client (read to list, write to restore). PATH
 * is the document's path in that user's files tree, as below
 * /dav/files/LOGIN/ (Documents/report.odt).
 * file gc: the blob collection oxd runs every files.blob_gc_interval, now. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "files/files.h"

#include <string.h>

/* The acting user LOGIN and the document PATH in their tree: 0, or -1
 * with c->err set. */
static int document_load(struct ctl *c, int64_t *actor_r, struct files_entry *doc_r)
{
	const char *login = ctl_arg(c, "LOGIN"), *path = ctl_arg(c, "PATH");
	memset(doc_r, 0, sizeof(*doc_r));
	struct user_info info;
	int found = user_lookup(c->store, login, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (found <= 0)
		return -1;
	*actor_r = info.id;
	char *full = g_strconcat("/", info.login, "/", path, NULL);
	user_info_clear(&info);
	found = files_resolve_path(c->store, *actor_r, full, doc_r, &c->err);
	g_free(full);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "%s has no document %s", login, path);
	else if (found > 0 && doc_r->document_id == 0)
		found = ox_error_set(&c->err, OX_ERR_INVALID, "%s is a collection, not a document",
		                     path);
	if (found <= 0)
		files_entry_clear(doc_r);
	return found > 0 ? 0 : -1;
}

static char *format_time(int64_t seconds)
{
	GDateTime *t = g_date_time_new_from_unix_utc(seconds);
	char *text = g_date_time_format_iso8601(t);
	g_date_time_unref(t);
	return text;
}

struct listing {
	struct ctl *c;
	json_t *items;
	struct ctl_table *table;
};

static int list_version(const struct files_version *v, void *ctx)
{
	struct listing *l = ctx;
	char etag[FILES_ETAG_SIZE];
	files_etag(v->blob_hash, etag);
	struct user_info creator = {0};
	struct ox_error err;
	bool known = v->created_by != 0 &&
	             user_lookup_id(l->c->store, v->created_by, &creator, &err) > 0;
	const char *by = known ? creator.login : NULL;
	char *created = format_time(v->created);
	char *number = g_strdup_printf("%d", v->version);
	char *size = g_strdup_printf("%" G_GINT64_FORMAT, v->size);
	json_array_append_new(l->items,
	                      json_pack("{s:i,s:I,s:s,s:s,s:s?,s:s,s:b}", "version", v->version,
	                                "size", (json_int_t)v->size, "content_type",
	                                v->content_type, "created", created, "created_by", by,
	                                "etag", etag, "current", v->current));
	ctl_table_add(l->table, number, size, v->content_type, created, by,
	              v->current ? "yes" : "no");
	g_free(size);
	g_free(number);
	g_free(created);
	if (known)
		user_info_clear(&creator);
	return 0;
}

static int cmd_file_versions(struct ctl *c)
{
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	int64_t actor = 0;
	struct files_entry doc;
	if (document_load(c, &actor, &doc) < 0)
		return ctl_fail(c);
	struct listing l = {c, json_array(), ctl_table_new(6)};
	ctl_table_add(l.table, "VERSION", "SIZE", "TYPE", "CREATED", "CREATED BY", "CURRENT");
	int r = files_versions(c->store, actor, &doc, list_version, &l, &c->err);
	files_entry_clear(&doc);
	if (r < 0) {
		json_decref(l.items);
		ctl_table_free(&l.table);
		return ctl_fail(c);
	}
	if (ctl_flag(c, "--json")) {
		ctl_table_free(&l.table);
		return ctl_print_json(c, l.items);
	}
	json_decref(l.items);
	ctl_table_print(c, &l.table);
	return CTL_EXIT_OK;
}

static int cmd_file_restore(struct ctl *c)
{
	int64_t version = 0, actor = 0;
	if (ctl_parse_id(c, "version", ctl_arg(c, "VERSION"), &version) < 0)
		return ctl_fail(c);
	if (version > G_MAXINT)
		return ctl_error(c, OX_ERR_INVALID, "no version %" G_GINT64_FORMAT, version);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	const char *path = ctl_arg(c, "PATH");
	ctl_audit_detail(c, "path=%s version=%" G_GINT64_FORMAT, path, version);
	struct files_entry doc;
	if (document_load(c, &actor, &doc) < 0)
		return ctl_fail(c);
	if (files_restore(c->store, actor, &doc, (int)version, &c->err) < 0) {
		files_entry_clear(&doc);
		return ctl_fail(c);
	}
	ctl_audit_detail(c, "path=%s version=%" G_GINT64_FORMAT " new_version=%d", path, version,
	                 doc.version);
	ctl_printf(c, "version %" G_GINT64_FORMAT " of %s restored as version %d\n", version, path,
	           doc.version);
	files_entry_clear(&doc);
	return CTL_EXIT_OK;
}

/* Not a CTL_WRITE command: the collector commits in short transactions
 * of its own, so that oxd's writers never wait for the whole run, and
 * what it removes is no user's data (nothing references it), so it is
 * not audited. */
static int cmd_file_gc(struct ctl *c)
{
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	struct blob_gc_result result;
	if (files_gc(s, NULL, &result, &c->err) < 0)
		return ctl_fail(c);
	if (ctl_flag(c, "--json"))
		return ctl_print_json(c,
		                      json_pack("{s:I,s:I,s:I}", "blobs", (json_int_t)result.blobs,
		                                "bytes", (json_int_t)result.bytes, "temporaries",
		                                (json_int_t)result.temporaries));
	char *size = g_format_size_full((guint64)result.bytes,
	                                G_FORMAT_SIZE_IEC_UNITS | G_FORMAT_SIZE_LONG_FORMAT);
	ctl_printf(c,
	           "removed %" G_GINT64_FORMAT " unreferenced blob%s (%s) and %" G_GINT64_FORMAT
	           " temporary leftover%s\n",
	           result.blobs, result.blobs == 1 ? "" : "s", size, result.temporaries,
	           result.temporaries == 1 ? "" : "s");
	g_free(size);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_file_commands[] = {
	{"file versions", "LOGIN PATH [--json]",
         "List the versions kept of a document in LOGIN's files tree (PATH as below "
         "/dav/files/LOGIN/), newest first.",
         cmd_file_versions, 0},
	{"file restore", "LOGIN PATH VERSION",
         "Make an old version of a document its content again, as a new version (nothing is "
         "lost); it counts against the quota.",
         cmd_file_restore, CTL_WRITE},
	{"file gc", "[--json]",
         "Delete the stored contents no document version holds any more, older than "
         "files.blob_gc_grace (as oxd does every files.blob_gc_interval); prints what went.",
         cmd_file_gc, 0},
	{NULL, NULL, NULL, NULL, 0},
};
