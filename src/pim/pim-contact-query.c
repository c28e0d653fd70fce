/* addressbook-query matching (RFC 6352 10.5), pure: on a contact's
 * indexed values when the query names only FN, N, EMAIL, TEL and UID
 * without parameters, else on the vCard text. A property with several
 * instances matches when one instance passes the prop-filter. */
#include "pim/pim-contact-private.h"

#include <glib.h>
#include <string.h>

static void text_match_free(struct pim_contact_text_match *m)
{
	if (m != NULL)
		g_free(m->text);
	g_free(m);
}

void pim_contact_query_clear(struct pim_contact_query *q)
{
	for (size_t i = 0; i < q->n_filters; i++) {
		struct pim_contact_prop_filter *f = &q->filters[i];
		for (size_t j = 0; j < f->n_matches; j++)
			g_free(f->matches[j].text);
		g_free(f->matches);
		for (size_t j = 0; j < f->n_params; j++) {
			g_free(f->params[j].name);
			text_match_free(f->params[j].match);
		}
		g_free(f->params);
		g_free(f->name);
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
	/* GLib's UTF-8 functions read past invalid sequences: a value that
	 * is not UTF-8 (stored cards are, a 3.0 CHARSET aside) is made so. */
	char *valid = g_utf8_validate(text, -1, NULL) ? NULL : g_utf8_make_valid(text, -1);
	char *folded = g_utf8_casefold(valid != NULL ? valid : text, -1);
	char *norm = g_utf8_normalize(folded, -1, G_NORMALIZE_NFKD);
	g_free(folded);
	g_free(valid);
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

/* --- on the vCard text --- */

bool pim_contact_query_needs_text(const struct pim_contact_query *q)
{
	for (size_t i = 0; q != NULL && i < q->n_filters; i++) {
		if (q->filters[i].name != NULL || q->filters[i].n_params > 0)
			return true;
	}
	return false;
}

static const char *const field_names[] = {
	[PIM_CONTACT_FIELD_FN] = "FN",       [PIM_CONTACT_FIELD_N] = "N",
	[PIM_CONTACT_FIELD_EMAIL] = "EMAIL", [PIM_CONTACT_FIELD_TEL] = "TEL",
	[PIM_CONTACT_FIELD_UID] = "UID",
};

static bool names_property(const struct pim_contact_prop_filter *f, const struct pim_vcard_prop *p)
{
	const char *name = f->name != NULL ? f->name : field_names[f->field];
	const char *dot = strchr(name, '.');
	if (dot == NULL)
		return strcmp(name, p->name) == 0;
	return p->group != NULL && strlen(p->group) == (size_t)(dot - name) &&
	       strncmp(name, p->group, (size_t)(dot - name)) == 0 && strcmp(dot + 1, p->name) == 0;
}

typedef bool param_value_fn(const char *value, const void *ctx);

static bool next_value(const char **pp, GString *value)
{
	const char *p = *pp;
	g_string_truncate(value, 0);
	if (*p == '"') {
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			return false;
		g_string_append_len(value, p + 1, end - p - 1);
		p = end + 1;
	} else {
		while (*p != '\0' && *p != ',' && *p != ';')
			p++;
		g_string_append_len(value, *pp, p - *pp);
	}
	*pp = p;
	return true;
}

/* RFC 6350 writes lists in one quoted value (TYPE="voice,home"): each
 * item counts too. */
static bool quoted_list_hit(const char *value, param_value_fn *fn, const void *ctx)
{
	if (strchr(value, ',') == NULL)
		return false;
	gchar **items = g_strsplit(value, ",", 64);
	bool hit = false;
	for (gchar **i = items; !hit && *i != NULL; i++)
		hit = fn(*i, ctx);
	g_strfreev(items);
	return hit;
}

/* Calls fn with each value of the parameter `name` in params (";A=x,y;B=z"),
 * unquoted; a bare parameter (";WORK", vCard 3.0 as clients write it) is a
 * TYPE value. Returns whether fn said true for one; *found_r whether the
 * parameter is there. */
static bool param_values(const char *params, const char *name, param_value_fn *fn, const void *ctx,
                         bool *found_r)
{
	GString *pname = g_string_new(NULL), *value = g_string_new(NULL);
	bool hit = false, ok = true;
	const char *p = params;
	*found_r = false;
	while (ok && !hit && *p == ';') {
		const char *n = ++p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		g_string_assign(pname, "");
		g_string_append_len(pname, n, p - n);
		g_string_ascii_up(pname);
		if (*p != '=') {
			/* A bare value names a TYPE. */
			if (strcmp(name, "TYPE") == 0) {
				*found_r = true;
				hit = fn(pname->str, ctx);
			}
			continue;
		}
		bool this = strcmp(pname->str, name) == 0;
		do {
			p++;
			ok = next_value(&p, value);
			if (ok && this) {
				*found_r = true;
				hit = hit || fn(value->str, ctx) ||
				      quoted_list_hit(value->str, fn, ctx);
			}
		} while (ok && *p == ',');
	}
	g_string_free(pname, TRUE);
	g_string_free(value, TRUE);
	return hit;
}

static bool param_value_matches(const char *value, const void *ctx)
{
	return text_matches(value, ctx);
}

static bool any_value(const char *value, const void *ctx)
{
	return true;
}

static bool param_matches(const struct pim_vcard_prop *p, const struct pim_contact_param_filter *pf)
{
	bool found = false;
	bool hit = param_values(p->params, pf->name,
	                        pf->match != NULL ? param_value_matches : any_value, pf->match,
	                        &found);
	if (pf->is_not_defined)
		return !found;
	return found && hit;
}

/* One instance of the property against the prop-filter's tests. */
static bool prop_instance_matches(const struct pim_vcard_prop *p,
                                  const struct pim_contact_prop_filter *f)
{
	size_t tests = f->n_matches + f->n_params;
	if (tests == 0)
		return true; /* the property is defined */
	char *value = f->n_matches > 0 ? pim_vcard_unescape(p->value) : NULL;
	bool result = f->allof;
	for (size_t i = 0; i < tests && result == f->allof; i++) {
		bool hit = i < f->n_matches ? text_matches(value, &f->matches[i])
		                            : param_matches(p, &f->params[i - f->n_matches]);
		if (hit != f->allof)
			result = hit;
	}
	g_free(value);
	return result;
}

/* A card's properties, read once for all of a query's filters. */
struct card_prop {
	char *group, *name, *params, *value;
};

static void card_prop_clear(gpointer p)
{
	struct card_prop *c = p;
	g_free(c->group);
	g_free(c->name);
	g_free(c->params);
	g_free(c->value);
}

static int keep_prop(const struct pim_vcard_prop *p, void *ctx)
{
	struct card_prop c = {g_strdup(p->group), g_strdup(p->name), g_strdup(p->params),
	                      g_strdup(p->value)};
	g_array_append_val(ctx, c);
	return 0;
}

/* Whether one instance of the property passes the filter decides it; with
 * is-not-defined, whether none is there. */
static bool text_filter_matches(GArray *props, const struct pim_contact_prop_filter *f)
{
	for (guint i = 0; i < props->len; i++) {
		const struct card_prop *c = &g_array_index(props, struct card_prop, i);
		struct pim_vcard_prop p = {c->group, c->name, c->params, c->value, 0, 0};
		if (!names_property(f, &p))
			continue;
		if (f->is_not_defined)
			return false;
		if (prop_instance_matches(&p, f))
			return true;
	}
	return f->is_not_defined;
}

bool pim_contact_matches_text(const char *data, const struct pim_contact_query *q)
{
	if (q == NULL || q->n_filters == 0)
		return true;
	GArray *props = g_array_new(FALSE, FALSE, sizeof(struct card_prop));
	g_array_set_clear_func(props, card_prop_clear);
	pim_vcard_props(data, keep_prop, props);
	bool result = q->allof;
	for (size_t i = 0; i < q->n_filters && result == q->allof; i++) {
		bool hit = text_filter_matches(props, &q->filters[i]);
		if (hit != q->allof)
			result = hit;
	}
	g_array_free(props, TRUE);
	return result;
}
