/* Reading the audit log (auth.c writes it). */
#include "directory/auth.h"
#include "directory/directory-private.h"

#include <string.h>

int audit_list(struct store *s, int limit, struct audit_entry **list_r, int *count_r,
               struct ox_error *err)
{
	*list_r = NULL;
	*count_r = 0;
	if (limit <= 0)
		return ox_error_set(err, OX_ERR_INVALID, "the limit must be positive");
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT id, ts, actor, action, target, remote, "
	                                      "success, detail FROM audit_log "
	                                      "ORDER BY id DESC LIMIT $1",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, limit);
	GArray *list = g_array_new(FALSE, TRUE, sizeof(struct audit_entry));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct audit_entry e = {
			.id = store_col_int(st, 0),
			.ts = store_col_int(st, 1),
			.actor = g_strdup(store_col_text(st, 2)),
			.action = g_strdup(store_col_text(st, 3)),
			.target = g_strdup(store_col_text(st, 4)),
			.remote = g_strdup(store_col_text(st, 5)),
			.success = store_col_int(st, 6) != 0,
			.detail = g_strdup(store_col_text(st, 7)),
		};
		g_array_append_val(list, e);
	}
	store_stmt_done(&st);
	*count_r = (int)list->len;
	*list_r = (struct audit_entry *)g_array_free(list, FALSE);
	if (r < 0)
		audit_list_free(list_r, *count_r);
	return r;
}

void audit_list_free(struct audit_entry **listp, int count)
{
	struct audit_entry *list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (int i = 0; i < count; i++) {
		g_free(list[i].actor);
		g_free(list[i].action);
		g_free(list[i].target);
		g_free(list[i].remote);
		g_free(list[i].detail);
	}
	g_free(list);
}
