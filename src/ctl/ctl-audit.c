/* audit list: logins and administrative changes, newest first. */
#include "ctl/ctl.h"
#include "directory/auth.h"

static json_t *entry_json(const struct audit_entry *e, const char *time)
{
	return json_pack("{sI ss ss ss ss? ss? sb ss?}", "id", (json_int_t)e->id, "time", time,
	                 "actor", e->actor, "action", e->action, "target", e->target, "remote",
	                 e->remote, "success", e->success, "detail", e->detail);
}

static int cmd_audit_list(struct ctl *c)
{
	const char *limit_text = ctl_arg(c, "--limit");
	int64_t limit = 50;
	struct audit_entry *list = NULL;
	int count = 0;
	if (limit_text != NULL && ctl_parse_id(c, "limit", limit_text, &limit) < 0)
		return ctl_fail(c);
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (audit_list(s, (int)MIN(limit, G_MAXINT), &list, &count, &c->err) < 0)
		return ctl_fail(c);
	bool json = ctl_flag(c, "--json");
	json_t *out = json_array();
	struct ctl_table *t = ctl_table_new(6);
	ctl_table_add(t, "TIME", "ACTOR", "ACTION", "TARGET", "RESULT", "DETAIL");
	for (int i = 0; i < count; i++) {
		GDateTime *dt = g_date_time_new_from_unix_utc(list[i].ts);
		char *time = g_date_time_format_iso8601(dt);
		g_date_time_unref(dt);
		json_array_append_new(out, entry_json(&list[i], time));
		ctl_table_add(t, time, list[i].actor, list[i].action, list[i].target,
		              list[i].success ? "ok" : "failed", list[i].detail);
		g_free(time);
	}
	audit_list_free(&list, count);
	if (json) {
		ctl_table_free(&t);
		return ctl_print_json(c, out);
	}
	json_decref(out);
	ctl_table_print(c, &t);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_audit_commands[] = {
	{"audit list", "[--limit N] [--json]",
         "Show the newest audit log entries (default 50): logins and oxctl changes.",
         cmd_audit_list, 0},
	{NULL, NULL, NULL, NULL, 0},
};
