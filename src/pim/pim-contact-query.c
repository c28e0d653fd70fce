/* addressbook-query matching (RFC 6352 10.5) on a contact's indexed
 * values, pure. A property with several instances (EMAIL, TEL) matches
 * when one instance passes the prop-filter's text-matches. */
#include "pim/pim-contact.h"

#include <glib.h>
#include <string.h>

void pim_contact_query_clear(struct pim_contact_query *q)
{
	for (size_t i = 0; i < q->n_filters; i++) {
		struct pim_contact_prop_filter *f = &q->filters[i];
		for (size_t j = 0; j < f->n_matches; j++)
			g_free(f->matches[j].text);
		g_free(f->matches);
	}
	g_free(q->filters);
	memset(q, 0, sizeof(*q));
}

/* The text as the collation compares it. i;unicode-casemap is RFC 5051's
 * case folding after compatibility decomposition; GLib's casefold and
 * NFKD come close enough for search. */
static char *collate(const char *text, enum pim_contact_collation coll)
{
	if (coll == PIM_CONTACT_COLL_OCTET)
		return g_strdup(text);
	if (coll == PIM_CONTACT_COLL_ASCII_CASEMAP)
		return g_ascii_strdown(text, -1);
	char *folded = g_utf8_casefold(text, -1);
	char *norm = g_utf8_normalize(folded, -1, G_NORMALIZE_NFKD);
	g_free(folded);
	return norm != NULL ? norm : g_strdup(text);
}

static bool text_matches(const char *value, const struct pim_contact_text_match *m)
{
	char *v = collate(value, m->collation);
	char *t = collate(m->text, m->collation);
	size_t vl = strlen(v), tl = strlen(t);
	bool hit = false;
	switch (m->type) {
	case PIM_CONTACT_MATCH_EQUALS:
		hit = strcmp(v, t) == 0;
		break;
	case PIM_CONTACT_MATCH_CONTAINS:
		hit = strstr(v, t) != NULL;
		break;
	case PIM_CONTACT_MATCH_STARTS_WITH:
		hit = vl >= tl && memcmp(v, t, tl) == 0;
		break;
	case PIM_CONTACT_MATCH_ENDS_WITH:
		hit = vl >= tl && memcmp(v + vl - tl, t, tl) == 0;
		break;
	}
	g_free(v);
	g_free(t);
	return hit != m->negate;
}

static bool instance_matches(const char *value, const struct pim_contact_prop_filter *f)
{
	if (f->n_matches == 0)
		return true; /* the property is defined */
	for (size_t i = 0; i < f->n_matches; i++) {
		bool hit = text_matches(value, &f->matches[i]);
		if (hit != f->allof)
			return hit;
	}
	return f->allof;
}

static const char *field_text(const struct pim_contact *c, enum pim_contact_field field)
{
	switch (field) {
	case PIM_CONTACT_FIELD_FN:
		return c->fn;
	case PIM_CONTACT_FIELD_N:
		return c->n;
	case PIM_CONTACT_FIELD_EMAIL:
		return c->emails;
	case PIM_CONTACT_FIELD_TEL:
		return c->tels;
	case PIM_CONTACT_FIELD_UID:
		return c->uid;
	}
	return NULL;
}

static bool filter_matches(const struct pim_contact *c, const struct pim_contact_prop_filter *f)
{
	const char *text = field_text(c, f->field);
	bool multi = f->field == PIM_CONTACT_FIELD_EMAIL || f->field == PIM_CONTACT_FIELD_TEL;
	/* N is "" when a 4.0 card has none; FN and UID are always there. */
	bool defined = text != NULL && (*text != '\0' || f->field == PIM_CONTACT_FIELD_FN);
	if (f->is_not_defined)
		return !defined;
	if (!defined)
		return false;
	if (!multi)
		return instance_matches(text, f);
	gchar **values = g_strsplit(text, "\n", -1);
	bool hit = false;
	for (gchar **v = values; !hit && *v != NULL; v++)
		hit = instance_matches(*v, f);
	g_strfreev(values);
	return hit;
}

bool pim_contact_matches(const struct pim_contact *c, const struct pim_contact_query *q)
{
	if (q == NULL || q->n_filters == 0)
		return true;
	for (size_t i = 0; i < q->n_filters; i++) {
		bool hit = filter_matches(c, &q->filters[i]);
		if (hit != q->allof)
			return hit;
	}
	return q->allof;
}
