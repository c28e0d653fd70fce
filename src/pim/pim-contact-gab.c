/* The global address book: the actor's context as vCards 4.0, made from
 * the directory when a request describes the book and shared by the
 * book's copies for the rest of it (one build per request), so it is
 * never stale and never written.
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

struct gab_card {
	struct pim_contact c;
	char *text;
};

struct pim_gab {
	gint refs;
	GArray *cards;       /* struct gab_card, in listing order */
	GHashTable *by_name; /* name -> struct gab_card in cards (filled once cards is whole) */
	int64_t state;
};

static void gab_card_clear(gpointer p)
{
	struct gab_card *card = p;
	pim_contact_clear(&card->c);
	g_free(card->text);
}

/* Indexes a generated card and keeps it; takes name and text. */
static int add_card(struct pim_gab *gab, char *name, char *text, struct ox_error *err)
{
	struct pim_vcard_index idx;
	if (pim_vcard_index(text, strlen(text), &idx, err) < 0) {
		g_free(name);
		g_free(text);
		return -1;
	}
	struct gab_card card = {.c = {.name = name,
	                              .uid = idx.uid,
	                              .fn = idx.fn,
	                              .n = idx.n,
	                              .emails = idx.emails,
	                              .tels = idx.tels,
	                              .size = (int64_t)strlen(text)},
	                        .text = text};
	idx.uid = idx.fn = idx.n = idx.emails = idx.tels = NULL;
	pim_vcard_index_clear(&idx);
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
	g_snprintf(card.c.etag, sizeof(card.c.etag), "\"%.32s\"", hash);
	g_free(hash);
	g_array_append_val(gab->cards, card);
	return 0;
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

static int add_groups(struct store *s, const char *context, GHashTable *addresses,
                      struct pim_gab *gab, struct ox_error *err)
{
	struct group_info **groups = NULL;
	if (group_list(s, context, &groups, err) < 0)
		return -1;
	int r = 0;
	for (struct group_info **g = groups; r == 0 && *g != NULL; g++)
		r = add_card(gab, g_strdup_printf("group-%s.vcf", (*g)->name),
		             group_card(*g, addresses), err);
	group_list_free(&groups);
	return r;
}

static int add_users(struct store *s, const char *context, struct pim_gab *gab,
                     struct ox_error *err)
{
	struct user_info **users = NULL;
	int r = user_list(s, context, &users, err);
	/* Member ids to primary addresses, for the groups' MEMBER lines. */
	GHashTable *addresses = g_hash_table_new(g_int64_hash, g_int64_equal);
	for (struct user_info **u = users; r == 0 && *u != NULL; u++) {
		if (!(*u)->enabled)
			continue;
		if ((*u)->addresses != NULL && (*u)->addresses[0] != NULL)
			g_hash_table_insert(addresses, &(*u)->id, (*u)->addresses[0]);
		r = add_card(gab, g_strdup_printf("%s.vcf", (*u)->login), user_card(*u), err);
	}
	if (r == 0)
		r = add_groups(s, context, addresses, gab, err);
	g_hash_table_unref(addresses);
	if (users != NULL)
		user_list_free(&users);
	return r;
}

/* The global address book changes when the directory does; a client
 * compares the ctag for equality only, so a digest of the cards does. */
static int64_t digest(const struct pim_gab *gab)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	for (guint i = 0; i < gab->cards->len; i++) {
		const char *etag = g_array_index(gab->cards, struct gab_card, i).c.etag;
		g_checksum_update(sum, (const guchar *)etag, (gssize)strlen(etag));
	}
	guint8 bytes[32];
	gsize len = sizeof(bytes);
	g_checksum_get_digest(sum, bytes, &len);
	g_checksum_free(sum);
	int64_t state;
	memcpy(&state, bytes, sizeof(state));
	return state & INT64_MAX;
}

int pim_gab_build(struct store *s, int64_t actor, struct pim_gab **gab_r, struct ox_error *err)
{
	*gab_r = NULL;
	char *context = context_name(s, actor, err);
	if (context == NULL)
		return -1;
	struct pim_gab *gab = g_new0(struct pim_gab, 1);
	gab->refs = 1;
	gab->cards = g_array_new(FALSE, TRUE, sizeof(struct gab_card));
	g_array_set_clear_func(gab->cards, gab_card_clear);
	int r = add_users(s, context, gab, err);
	g_free(context);
	/* The array is whole now: pointers into it stay valid. */
	gab->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < gab->cards->len; i++) {
		struct gab_card *card = &g_array_index(gab->cards, struct gab_card, i);
		g_hash_table_insert(gab->by_name, card->c.name, card);
	}
	gab->state = digest(gab);
	if (r < 0) {
		pim_gab_unref(&gab);
		return -1;
	}
	*gab_r = gab;
	return 0;
}

struct pim_gab *pim_gab_ref(struct pim_gab *gab)
{
	if (gab != NULL)
		g_atomic_int_inc(&gab->refs);
	return gab;
}

void pim_gab_unref(struct pim_gab **gab)
{
	if (*gab == NULL)
		return;
	if (g_atomic_int_dec_and_test(&(*gab)->refs)) {
		g_hash_table_unref((*gab)->by_name);
		g_array_free((*gab)->cards, TRUE);
		g_free(*gab);
	}
	*gab = NULL;
}

int pim_gab_foreach(const struct pim_gab *gab, pim_contact_fn *fn, void *ctx)
{
	for (guint i = 0; i < gab->cards->len; i++) {
		const struct gab_card *card = &g_array_index(gab->cards, struct gab_card, i);
		if (fn(&card->c, card->text, ctx) < 0)
			return -1;
	}
	return 0;
}

const struct pim_contact *pim_gab_find(const struct pim_gab *gab, const char *name,
                                       const char **text_r)
{
	const struct gab_card *card = g_hash_table_lookup(gab->by_name, name);
	if (text_r != NULL)
		*text_r = card != NULL ? card->text : NULL;
	return card != NULL ? &card->c : NULL;
}

int64_t pim_gab_state(const struct pim_gab *gab)
{
	return gab->state;
}
