/* calendar feed create, list, revoke: read-only ICS feeds of a calendar
 * (pim-feed.c), acting as the user named, so the folder permissions
 * decide as for their browser. CALENDAR is the calendar's segment in the
 * user's calendar home, as in /dav/calendars/LOGIN/CALENDAR/. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "pim/pim.h"

#include <string.h>

/* Where oxd serves a feed; oxctl does not know the server's public
 * address, so it prints the path and the caller adds the address. */
#define FEED_PATH_PREFIX "/feeds/ics/"

static int user_id_of(struct ctl *c, const char *login, int64_t *id_r)
{
	struct user_info info;
	int found = user_lookup(c->store, login, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (found <= 0)
		return -1;
	*id_r = info.id;
	user_info_clear(&info);
	return 0;
}

/* The user LOGIN and their calendar CALENDAR: 0, or -1 with c->err set. */
static int calendar_load(struct ctl *c, int64_t *actor_r, struct pim_calendar *cal_r)
{
	const char *login = ctl_arg(c, "LOGIN"), *segment = ctl_arg(c, "CALENDAR");
	memset(cal_r, 0, sizeof(*cal_r));
	if (user_id_of(c, login, actor_r) < 0)
		return -1;
	int found = pim_calendar_find(c->store, *actor_r, *actor_r, segment, cal_r, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "%s has no calendar %s", login, segment);
	return found > 0 ? 0 : -1;
}

static int cmd_feed_create(struct ctl *c)
{
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	int64_t actor = 0;
	struct pim_calendar cal;
	struct pim_feed feed;
	char token[PIM_FEED_TOKEN_LEN + 1];
	if (calendar_load(c, &actor, &cal) < 0 ||
	    pim_feed_create(c->store, actor, cal.folder_id, token, &feed, &c->err) < 0) {
		pim_calendar_clear(&cal);
		return ctl_fail(c);
	}
	ctl_audit_detail(c, "calendar=%s folder=%" G_GINT64_FORMAT " feed=%" G_GINT64_FORMAT,
	                 cal.segment, feed.folder_id, feed.id);
	/* The only time the token is shown: the store keeps a hash. */
	char *path = g_strconcat(FEED_PATH_PREFIX, token, NULL);
	int code = CTL_EXIT_OK;
	if (ctl_flag(c, "--json")) {
		char *created = ctl_format_time(feed.created);
		code = ctl_print_json(c,
		                      json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)feed.id,
		                                "folder", (json_int_t)feed.folder_id, "path", path,
		                                "token", token, "created", created));
		g_free(created);
	} else {
		ctl_printf(c, "feed %" G_GINT64_FORMAT ": %s\n", feed.id, path);
	}
	explicit_bzero(token, sizeof(token));
	explicit_bzero(path, strlen(path));
	g_free(path);
	pim_calendar_clear(&cal);
	return code;
}

static int cmd_feed_list(struct ctl *c)
{
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	int64_t actor = 0;
	struct pim_calendar cal;
	struct pim_feed *list = NULL;
	size_t count = 0;
	if (calendar_load(c, &actor, &cal) < 0 ||
	    pim_feed_list(c->store, actor, cal.folder_id, &list, &count, &c->err) < 0) {
		pim_calendar_clear(&cal);
		return ctl_fail(c);
	}
	pim_calendar_clear(&cal);
	json_t *out = json_array();
	struct ctl_table *t = ctl_table_new(4);
	ctl_table_add(t, "ID", "CREATED BY", "CREATED", "LAST USED");
	for (size_t i = 0; i < count; i++) {
		struct user_info creator = {0};
		struct ox_error err;
		bool known = user_lookup_id(c->store, list[i].created_by, &creator, &err) > 0;
		char *id = g_strdup_printf("%" G_GINT64_FORMAT, list[i].id);
		char *created = ctl_format_time(list[i].created);
		char *used = ctl_format_time(list[i].last_used);
		const char *by = known ? creator.login : NULL;
		json_array_append_new(out, json_pack("{s:I,s:I,s:s?,s:s,s:s?}", "id",
		                                     (json_int_t)list[i].id, "folder",
		                                     (json_int_t)list[i].folder_id, "created_by",
		                                     by, "created", created, "last_used", used));
		ctl_table_add(t, id, by, created, used != NULL ? used : "never");
		g_free(id);
		g_free(created);
		g_free(used);
		if (known)
			user_info_clear(&creator);
	}
	g_free(list);
	return ctl_print_list(c, out, &t);
}

static int cmd_feed_revoke(struct ctl *c)
{
	int64_t feed_id = 0, actor = 0;
	if (ctl_parse_id(c, "feed id", ctl_arg(c, "ID"), &feed_id) < 0)
		return ctl_fail(c);
	if (ctl_store(c) == NULL)
		return ctl_exit_code(c);
	struct pim_feed feed;
	if (user_id_of(c, ctl_arg(c, "LOGIN"), &actor) < 0 ||
	    pim_feed_revoke(c->store, actor, feed_id, &feed, &c->err) < 0)
		return ctl_fail(c);
	ctl_audit_detail(c, "folder=%" G_GINT64_FORMAT " feed=%" G_GINT64_FORMAT, feed.folder_id,
	                 feed.id);
	ctl_printf(c, "feed %" G_GINT64_FORMAT " revoked\n", feed.id);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_calendar_commands[] = {
	{"calendar feed create", "LOGIN CALENDAR [--json]",
         "Make a read-only ICS feed of a calendar LOGIN administers (CALENDAR: its name in "
         "/dav/calendars/LOGIN/); its path, with a secret token, is printed once and never "
         "again.",
         cmd_feed_create, CTL_WRITE},
	{"calendar feed list", "LOGIN CALENDAR [--json]",
         "List the feeds of a calendar LOGIN administers (without their tokens).", cmd_feed_list,
         0},
	{"calendar feed revoke", "LOGIN ID",
         "Revoke a feed of a calendar LOGIN administers: its URL answers 404 from now on.",
         cmd_feed_revoke, CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
