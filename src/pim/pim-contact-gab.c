/* The global address book: the actor's context as vCards 4.0, made from
 * the directory on each request, so it is never stale and never written.
 * Users are individuals with their addresses; groups are KIND:group with
 * their members' primary addresses as MEMBER. */
#include "core/error.h"
#include "directory/directory.h"
#include "pim/pim-contact-private.h"

#include <glib.h>
#include <string.h>

/* RFC 6350 3.4: backslash, comma, semicolon and newline are escaped. */
static void append_text(GString *out, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			g_string_append(out, "\\n");
		else if (*p == '\r')
			continue;
		else if (strchr("\\,;", *p) != NULL)
			g_string_append_printf(out, "\\%c", *p);
		else
			g_string_append_c(out, *p);
	}
}

static char *user_card(const struct user_info *u)
{
	GString *out = g_string_new("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:individual\r\n");
	g_string_append_printf(out, "UID:urn:oxd:principal:%" G_GINT64_FORMAT "\r\nFN:", u->id);
	append_text(out, u->display_name);
	g_string_append(out, "\r\n");
	for (char **a = u->addresses; a != NULL && *a != NULL; a++) {
		g_string_append(out, a == u->addresses ? "EMAIL;PREF=1:" : "EMAIL:");
		append_text(out, *a);
		g_string_append(out, "\r\n");
	}
	g_string_append(out, "END:VCARD\r\n");
	return g_string_free(out, FALSE);
}

static char *group_card(const struct group_info *g, GHashTable *addresses)
{
	GString *out = g_string_new("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\n");
	g_string_append_printf(out, "UID:urn:oxd:principal:%" G_GINT64_FORMAT "\r\nFN:", g->id);
	append_text(out, g->display_name);
	g_string_append(out, "\r\n");
	for (const int64_t *m = g->members; m != NULL && *m != 0; m++) {
		const char *addr = g_hash_table_lookup(addresses, m);
		if (addr != NULL)
			g_string_append_printf(out, "MEMBER:mailto:%s\r\n", addr);
	}
	g_string_append(out, "END:VCARD\r\n");
	return g_string_free(out, FALSE);
}

/* Indexes a generated card and passes it on. */
static int emit(const char *name, char *text, pim_contact_fn *fn, void *ctx, struct ox_error *err)
{
	struct pim_vcard_index idx;
	if (pim_vcard_index(text, strlen(text), &idx, err) < 0) {
		g_free(text);
		return -1;
	}
	struct pim_contact c = {.name = (char *)name,
	                        .uid = idx.uid,
	                        .fn = idx.fn,
	                        .n = idx.n,
	                        .emails = idx.emails,
	                        .tels = idx.tels,
	                        .size = (int64_t)strlen(text)};
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
	g_snprintf(c.etag, sizeof(c.etag), "\"%.32s\"", hash);
	g_free(hash);
	int r = fn(&c, text, ctx);
	pim_vcard_index_clear(&idx);
	g_free(text);
	return r < 0 ? ox_error_set(err, OX_ERR_INTERNAL, "contact listing stopped") : 0;
}

static char *context_name(struct store *s, int64_t actor, struct ox_error *err)
{
	struct user_info me;
	int r = user_lookup_id(s, actor, &me, err);
	if (r <= 0) {
		if (r == 0)
			ox_error_set(err, OX_ERR_NOT_FOUND,
			             "only users have a global address book");
		return NULL;
	}
	struct context_info **list = NULL;
	char *name = NULL;
	if (context_list(s, &list, err) == 0) {
		for (struct context_info **c = list; *c != NULL && name == NULL; c++) {
			if ((*c)->id == me.context_id)
				name = g_strdup((*c)->name);
		}
		context_list_free(&list);
		if (name == NULL)
			ox_error_set(err, OX_ERR_NOT_FOUND, "the user's context is gone");
	}
	user_info_clear(&me);
	return name;
}

static int list_groups(struct store *s, const char *context, GHashTable *addresses,
                       pim_contact_fn *fn, void *ctx, struct ox_error *err)
{
	struct group_info **groups = NULL;
	if (group_list(s, context, &groups, err) < 0)
		return -1;
	int r = 0;
	for (struct group_info **g = groups; r == 0 && *g != NULL; g++) {
		char *name = g_strdup_printf("group-%s.vcf", (*g)->name);
		r = emit(name, group_card(*g, addresses), fn, ctx, err);
		g_free(name);
	}
	group_list_free(&groups);
	return r;
}

int pim_gab_list(struct store *s, int64_t actor, pim_contact_fn *fn, void *ctx,
                 struct ox_error *err)
{
	char *context = context_name(s, actor, err);
	if (context == NULL)
		return -1;
	struct user_info **users = NULL;
	int r = user_list(s, context, &users, err);
	/* Member ids to primary addresses, for the groups' MEMBER lines. */
	GHashTable *addresses = g_hash_table_new(g_int64_hash, g_int64_equal);
	for (struct user_info **u = users; r == 0 && *u != NULL; u++) {
		if (!(*u)->enabled)
			continue;
		if ((*u)->addresses != NULL && (*u)->addresses[0] != NULL)
			g_hash_table_insert(addresses, &(*u)->id, (*u)->addresses[0]);
		char *name = g_strdup_printf("%s.vcf", (*u)->login);
		r = emit(name, user_card(*u), fn, ctx, err);
		g_free(name);
	}
	if (r == 0)
		r = list_groups(s, context, addresses, fn, ctx, err);
	g_hash_table_unref(addresses);
	if (users != NULL)
		user_list_free(&users);
	g_free(context);
	return r;
}
