/* The demo tenant of `oxd --demo`. Everything goes through the services,
 * in one transaction, creating only what is missing. */
#include "daemon/demo.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define DEMO_CONTEXT "demo"
#define DEMO_DOMAIN "demo.example"
#define DEMO_GROUP "team"
#define DEMO_ROOM "room1"
#define DEMO_CALENDAR "Team Calendar"
#define DEMO_PASSWORD_LEN 16
#define PASSWORD_FILE "demo-passwords.txt"

static const struct {
	const char *login, *name;
} demo_users[] = {
	{"alice@" DEMO_DOMAIN, "Alice Adams"},
	{"bob@" DEMO_DOMAIN, "Bob Baker"},
	{"carol@" DEMO_DOMAIN, "Carol Clark"},
};

struct seed {
	struct store *s;
	struct ox_error err;
	char *password_path;
	GHashTable *passwords; /* login -> password, as kept in the file */
	bool passwords_changed;
	int64_t user_ids[G_N_ELEMENTS(demo_users)];
	int64_t context_id, group_id;
	int created; /* how many things this start added */
};

/* Lines "LOGIN PASSWORD"; a missing file is an empty one. */
static void load_passwords(struct seed *sd)
{
	char *text = NULL;
	if (!g_file_get_contents(sd->password_path, &text, NULL, NULL))
		return;
	gchar **lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines; *l != NULL; l++) {
		gchar **f = g_strsplit(g_strstrip(*l), " ", 2);
		if (f[0] != NULL && f[0][0] != '#' && f[1] != NULL && *f[1] != '\0')
			g_hash_table_replace(sd->passwords, g_strdup(f[0]), g_strdup(f[1]));
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
}

static int save_passwords(struct seed *sd)
{
	GString *text = g_string_new("# oxd --demo: the demo users' passwords as first seeded "
	                             "(LOGIN PASSWORD)\n");
	for (size_t i = 0; i < G_N_ELEMENTS(demo_users); i++) {
		const char *pw = g_hash_table_lookup(sd->passwords, demo_users[i].login);
		if (pw != NULL)
			g_string_append_printf(text, "%s %s\n", demo_users[i].login, pw);
	}
	GError *error = NULL;
	/* 0600: the file holds working passwords. */
	bool ok = g_file_set_contents_full(sd->password_path, text->str, (gssize)text->len,
	                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
	g_string_free(text, TRUE);
	if (!ok) {
		ox_error_set(&sd->err, OX_ERR_TEMP, "%s", error->message);
		g_error_free(error);
		return -1;
	}
	return 0;
}

static int ensure_context(struct seed *sd)
{
	struct context_info info;
	int found = context_lookup(sd->s, DEMO_CONTEXT, &info, &sd->err);
	if (found > 0) {
		sd->context_id = info.id;
		context_info_clear(&info);
	}
	if (found != 0)
		return found > 0 ? 0 : -1;
	sd->created++;
	return context_create(sd->s, DEMO_CONTEXT, DEMO_DOMAIN, 0, &sd->context_id, &sd->err);
}

static int ensure_user(struct seed *sd, size_t i)
{
	struct user_info info;
	const char *login = demo_users[i].login;
	int found = user_lookup(sd->s, login, &info, &sd->err);
	if (found > 0) {
		sd->user_ids[i] = info.id;
		user_info_clear(&info);
	}
	if (found != 0)
		return found > 0 ? 0 : -1;
	const char *password = g_hash_table_lookup(sd->passwords, login);
	if (password == NULL) {
		char token[AUTH_TOKEN_LEN + 1];
		auth_random_token(token);
		token[DEMO_PASSWORD_LEN] = '\0';
		g_hash_table_replace(sd->passwords, g_strdup(login), g_strdup(token));
		password = g_hash_table_lookup(sd->passwords, login);
		sd->passwords_changed = true;
	}
	struct user_create spec = {
		.login = login,
		.display_name = demo_users[i].name,
		.password = password,
	};
	sd->created++;
	return user_create(sd->s, &spec, &sd->user_ids[i], &sd->err);
}

static bool has_member(const int64_t *members, int64_t id)
{
	for (; *members != 0; members++) {
		if (*members == id)
			return true;
	}
	return false;
}

static int ensure_group(struct seed *sd)
{
	struct group_info info;
	int found = group_lookup(sd->s, DEMO_CONTEXT, DEMO_GROUP, &info, &sd->err);
	if (found < 0)
		return -1;
	if (found == 0) {
		sd->created++;
		if (group_create(sd->s, DEMO_CONTEXT, DEMO_GROUP, "Team", &sd->group_id, &sd->err) <
		            0 ||
		    group_lookup(sd->s, DEMO_CONTEXT, DEMO_GROUP, &info, &sd->err) <= 0)
			return -1;
	}
	sd->group_id = info.id;
	int r = 0;
	for (size_t i = 0; r == 0 && i < G_N_ELEMENTS(demo_users); i++) {
		if (has_member(info.members, sd->user_ids[i]))
			continue;
		sd->created++;
		r = group_add_member(sd->s, DEMO_CONTEXT, DEMO_GROUP, demo_users[i].login,
		                     &sd->err);
	}
	group_info_clear(&info);
	return r;
}

static int ensure_room(struct seed *sd)
{
	struct resource_info info;
	int found = resource_lookup(sd->s, DEMO_CONTEXT, DEMO_ROOM, &info, &sd->err);
	if (found > 0)
		resource_info_clear(&info);
	if (found != 0)
		return found > 0 ? 0 : -1;
	sd->created++;
	return resource_create(sd->s, DEMO_CONTEXT, DEMO_ROOM, "Room 1", true, BOOKING_AUTO_ACCEPT,
	                       NULL, NULL, &sd->err);
}

/* alice's "Team Calendar": 1 found (*id_r set), 0 not, -1 error. */
static int find_calendar(struct seed *sd, int64_t alice, int64_t *id_r)
{
	struct folder_info **list = NULL;
	if (folder_list(sd->s, alice, FOLDER_CALENDAR, &list, &sd->err) < 0)
		return -1;
	int found = 0;
	for (struct folder_info **f = list; *f != NULL && !found; f++) {
		if ((*f)->owner_id == alice && (*f)->parent_id == 0 &&
		    strcmp((*f)->name, DEMO_CALENDAR) == 0) {
			*id_r = (*f)->id;
			found = 1;
		}
	}
	folder_list_free(&list);
	return found;
}

/* Shares it with the team unless the team already has an entry (which an
 * administrator may have changed on purpose). */
static int ensure_calendar(struct seed *sd)
{
	int64_t alice = sd->user_ids[0], id = 0;
	int found = find_calendar(sd, alice, &id);
	if (found < 0)
		return -1;
	if (found == 0) {
		sd->created++;
		if (folder_create(sd->s, alice, sd->context_id, 0, false, FOLDER_CALENDAR,
		                  DEMO_CALENDAR, &id, &sd->err) < 0)
			return -1;
	}
	struct folder_permission_entry *perms = NULL;
	int count = 0;
	if (folder_permissions(sd->s, id, &perms, &count, &sd->err) < 0) {
		g_free(perms);
		return -1;
	}
	bool shared = false;
	for (int i = 0; i < count; i++)
		shared |= perms[i].entity_id == sd->group_id;
	g_free(perms);
	if (shared)
		return 0;
	struct folder_perm editor;
	folder_perm_parse("editor", &editor);
	sd->created++;
	return folder_set_permission(sd->s, alice, id, sd->group_id, &editor, &sd->err);
}

static int seed(struct seed *sd)
{
	if (store_begin(sd->s, &sd->err) < 0)
		return -1;
	bool ok = ensure_context(sd) == 0;
	for (size_t i = 0; ok && i < G_N_ELEMENTS(demo_users); i++)
		ok = ensure_user(sd, i) == 0;
	ok = ok && ensure_group(sd) == 0 && ensure_room(sd) == 0 && ensure_calendar(sd) == 0;
	/* The file before the commit: if the commit fails, the next start
	 * creates the users with the passwords already written down. */
	ok = ok && (!sd->passwords_changed || save_passwords(sd) == 0);
	if (!ok) {
		store_rollback(sd->s);
		return -1;
	}
	return store_commit(sd->s, &sd->err);
}

static void print_block(struct seed *sd)
{
	printf("Demo tenant: context %s, domain %s\n", DEMO_CONTEXT, DEMO_DOMAIN);
	for (size_t i = 0; i < G_N_ELEMENTS(demo_users); i++) {
		const char *pw = g_hash_table_lookup(sd->passwords, demo_users[i].login);
		printf("  %-20s %s\n", demo_users[i].login,
		       pw != NULL ? pw : "(password not kept: set one with oxctl user passwd)");
	}
	printf("  group %s (all three), room %s, alice's \"%s\" shared with %s as editor\n",
	       DEMO_GROUP, DEMO_ROOM, DEMO_CALENDAR, DEMO_GROUP);
	printf("  passwords as first seeded, kept in %s\n", sd->password_path);
	fflush(stdout);
}

int demo_seed(const struct ox_config *cfg)
{
	struct seed sd = {0};
	sd.password_path =
		g_build_filename(ox_config_string(cfg, "server", "data"), PASSWORD_FILE, NULL);
	sd.passwords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	load_passwords(&sd);
	int r = -1;
	sd.s = store_open_configured(cfg, &sd.err);
	if (sd.s != NULL && seed(&sd) == 0) {
		char created[16];
		g_snprintf(created, sizeof(created), "%d", sd.created);
		ox_log_kv(OX_LOG_INFO, "demo_seeded", "context", DEMO_CONTEXT, "created", created,
		          NULL);
		print_block(&sd);
		r = 0;
	} else {
		fprintf(stderr, "oxd: demo: %s\n", sd.err.message);
	}
	store_close(&sd.s);
	g_hash_table_unref(sd.passwords);
	g_free(sd.password_path);
	return r;
}
