/* A small strict vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) reader: enough
 * to refuse what is not one well-formed card and to index what queries
 * need; and, over stored cards, the properties one by one for queries
 * and partial retrieval (RFC 6352 10.4.2). Stored text is never
 * rewritten: a partial card is made of the stored lines. */
#include "core/error.h"
#include "pim/pim-contact-private.h"

#include <glib.h>
#include <string.h>

#define UID_MAX 1024

void pim_vcard_index_clear(struct pim_vcard_index *idx)
{
	g_free(idx->version);
	g_free(idx->uid);
	g_free(idx->fn);
	g_free(idx->n);
	g_free(idx->emails);
	g_free(idx->tels);
	memset(idx, 0, sizeof(*idx));
}

/* One unfolded content line with the number of its first physical line. */
struct logical_line {
	GString *text;
	unsigned lineno;
};

static void lines_free(GArray *lines)
{
	for (guint i = 0; i < lines->len; i++)
		g_string_free(g_array_index(lines, struct logical_line, i).text, TRUE);
	g_array_free(lines, TRUE);
}

/* Splits at LF (a CR run before it belongs to the line end: some clients
 * write CR CR LF) and unfolds. UTF-8 is checked per physical line, as
 * RFC 6350 3.2 keeps multi-octet characters whole across folds. Blank
 * lines are skipped: clients write them between properties. */
static GArray *unfold(const char *data, size_t len, struct ox_error *err)
{
	GArray *lines = g_array_new(FALSE, FALSE, sizeof(struct logical_line));
	unsigned lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t plen = nl != NULL ? (size_t)(nl - start) : len - pos;
		pos += plen + (nl != NULL ? 1 : 0);
		while (plen > 0 && start[plen - 1] == '\r')
			plen--;
		if (++lineno > PIM_CONTACT_LINES_MAX) {
			ox_error_set(err, OX_ERR_LIMIT, "a vCard has at most %d lines",
			             PIM_CONTACT_LINES_MAX);
			goto fail;
		}
		if (plen == 0)
			continue;
		if (!g_utf8_validate(start, (gssize)plen, NULL)) {
			ox_error_set(err, OX_ERR_INVALID,
			             "line %u is not UTF-8 (a fold must not split a character)",
			             lineno);
			goto fail;
		}
		if (start[0] == ' ' || start[0] == '\t') {
			if (lines->len == 0) {
				ox_error_set(err, OX_ERR_INVALID, "line %u continues no property",
				             lineno);
				goto fail;
			}
			g_string_append_len(
				g_array_index(lines, struct logical_line, lines->len - 1).text,
				start + 1, (gssize)plen - 1);
			continue;
		}
		struct logical_line l = {g_string_new_len(start, (gssize)plen), lineno};
		g_array_append_val(lines, l);
	}
	return lines;
fail:
	lines_free(lines);
	return NULL;
}

/* One content line: [group "."] name *(";" param) ":" value. */
struct content_line {
	char *name;  /* upper case, without its group */
	char *value; /* raw, still escaped */
	bool bare_param;
};

static bool name_char(char c)
{
	return g_ascii_isalnum(c) || c == '-';
}

/* Skips one parameter value at p: quoted, or up to ; , or :. */
static const char *param_value(const char *p)
{
	if (*p == '"') {
		const char *q = strchr(p + 1, '"');
		return q != NULL ? q + 1 : NULL;
	}
	while (*p != '\0' && *p != ';' && *p != ':' && *p != ',' && *p != '"')
		p++;
	return p;
}

static const char *parse_params(const char *p, bool *bare_r)
{
	while (*p == ';') {
		const char *n = ++p;
		while (name_char(*p))
			p++;
		if (p == n)
			return NULL;
		if (*p != '=') {
			/* "TYPE" values written bare, as vCard 2.1 did. */
			*bare_r = true;
			continue;
		}
		do {
			p = param_value(p + 1);
			if (p == NULL)
				return NULL;
		} while (*p == ',');
	}
	return p;
}

static bool value_clean(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	}
	return true;
}

static int parse_line(const struct logical_line *l, struct content_line *cl, struct ox_error *err)
{
	const char *s = l->text->str;
	const char *p = s;
	/* Parameter values are checked too: quoting does not admit controls. */
	if (!value_clean(s))
		return ox_error_set(err, OX_ERR_INVALID, "line %u: a control character", l->lineno);
	while (name_char(*p))
		p++;
	if (*p == '.' && p > s) {
		s = ++p;
		while (name_char(*p))
			p++;
	}
	if (p == s || (*p != ';' && *p != ':'))
		return ox_error_set(err, OX_ERR_INVALID, "line %u: a malformed property name",
		                    l->lineno);
	char *name = g_ascii_strup(s, p - s);
	bool bare = false;
	p = parse_params(p, &bare);
	if (p == NULL || *p != ':') {
		g_free(name);
		return ox_error_set(err, OX_ERR_INVALID, "line %u: malformed parameters",
		                    l->lineno);
	}
	cl->name = name;
	cl->value = g_strdup(p + 1);
	cl->bare_param = bare;
	return 0;
}

/* RFC 6350 3.4 text escapes. */
char *pim_vcard_unescape(const char *v)
{
	GString *out = g_string_sized_new(strlen(v));
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			g_string_append_c(out, *p == 'n' || *p == 'N' ? '\n' : *p);
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

struct reader {
	struct pim_vcard_index *idx;
	GString *emails, *tels;
	int versions, fns, ns, uids;
	bool begun, ended, bare_param;
};

static int take(struct reader *r, const struct content_line *cl, unsigned lineno,
                struct ox_error *err)
{
	struct pim_vcard_index *idx = r->idx;
	if (strcmp(cl->name, "VERSION") == 0) {
		if (r->versions++ > 0)
			return ox_error_set(err, OX_ERR_INVALID, "line %u: a second VERSION",
			                    lineno);
		if (strcmp(cl->value, "3.0") != 0 && strcmp(cl->value, "4.0") != 0)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "line %u: vCard %.20s is not supported (3.0 or 4.0)",
			                    lineno, cl->value);
		idx->version = g_strdup(cl->value);
	} else if (strcmp(cl->name, "FN") == 0) {
		/* vCard 4.0 allows one FN per language: the first names it. */
		if (r->fns++ == 0)
			idx->fn = pim_vcard_unescape(cl->value);
	} else if (strcmp(cl->name, "N") == 0) {
		if (r->ns++ > 0)
			return ox_error_set(err, OX_ERR_INVALID, "line %u: a second N", lineno);
		idx->n = pim_vcard_unescape(cl->value);
	} else if (strcmp(cl->name, "UID") == 0) {
		if (r->uids++ > 0)
			return ox_error_set(err, OX_ERR_INVALID, "line %u: a second UID", lineno);
		if (*cl->value == '\0' || strlen(cl->value) > UID_MAX)
			return ox_error_set(err, OX_ERR_INVALID, "line %u: a UID is 1 to %d bytes",
			                    lineno, UID_MAX);
		idx->uid = g_strdup(cl->value);
	} else if (strcmp(cl->name, "EMAIL") == 0 || strcmp(cl->name, "TEL") == 0) {
		GString *list = cl->name[0] == 'E' ? r->emails : r->tels;
		char *v = pim_vcard_unescape(cl->value);
		g_strdelimit(v, "\n", ' ');
		if (list->len > 0)
			g_string_append_c(list, '\n');
		g_string_append(list, v);
		g_free(v);
	} else if (strcmp(cl->name, "KIND") == 0 ||
	           strcmp(cl->name, "X-ADDRESSBOOKSERVER-KIND") == 0) {
		idx->group = g_ascii_strcasecmp(cl->value, "group") == 0;
	}
	r->bare_param = r->bare_param || cl->bare_param;
	return 0;
}

static int read_line(struct reader *r, const struct logical_line *l, struct ox_error *err)
{
	struct content_line cl = {0};
	if (parse_line(l, &cl, err) < 0)
		return -1;
	int ret = 0;
	bool begin = strcmp(cl.name, "BEGIN") == 0, end = strcmp(cl.name, "END") == 0;
	if (r->ended)
		ret = ox_error_set(err, OX_ERR_INVALID,
		                   "line %u: text after END:VCARD (one vCard per resource)",
		                   l->lineno);
	else if (!r->begun && (!begin || g_ascii_strcasecmp(cl.value, "VCARD") != 0))
		ret = ox_error_set(err, OX_ERR_INVALID, "line %u: a vCard starts with BEGIN:VCARD",
		                   l->lineno);
	else if (begin && r->begun)
		ret = ox_error_set(err, OX_ERR_INVALID, "line %u: a nested BEGIN", l->lineno);
	else if (end && g_ascii_strcasecmp(cl.value, "VCARD") != 0)
		ret = ox_error_set(err, OX_ERR_INVALID, "line %u: END of something else",
		                   l->lineno);
	else if (begin)
		r->begun = true;
	else if (end)
		r->ended = true;
	else
		ret = take(r, &cl, l->lineno, err);
	g_free(cl.name);
	g_free(cl.value);
	return ret;
}

static int check_required(struct reader *r, struct ox_error *err)
{
	struct pim_vcard_index *idx = r->idx;
	if (!r->ended)
		return ox_error_set(err, OX_ERR_INVALID, "the vCard has no END:VCARD");
	if (idx->version == NULL)
		return ox_error_set(err, OX_ERR_INVALID, "the vCard has no VERSION");
	bool v3 = strcmp(idx->version, "3.0") == 0;
	if (idx->fn == NULL)
		return ox_error_set(err, OX_ERR_INVALID, "the vCard has no FN");
	if (v3 && idx->n == NULL)
		return ox_error_set(err, OX_ERR_INVALID, "a vCard 3.0 needs N");
	if (!v3 && r->bare_param)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "vCard 4.0 parameters are NAME=VALUE, never bare");
	if (idx->uid == NULL)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "the vCard has no UID: the client must give each contact one");
	if (idx->n == NULL)
		idx->n = g_strdup("");
	return 0;
}

int pim_vcard_index(const char *data, size_t len, struct pim_vcard_index *idx_r,
                    struct ox_error *err)
{
	memset(idx_r, 0, sizeof(*idx_r));
	if (len > PIM_CONTACT_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "a vCard is at most %d bytes",
		                    PIM_CONTACT_MAX);
	if (memchr(data, '\0', len) != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "a vCard holds no NUL bytes");
	GArray *lines = unfold(data, len, err);
	if (lines == NULL)
		return -1;
	struct reader r = {.idx = idx_r, .emails = g_string_new(NULL), .tels = g_string_new(NULL)};
	int ret = 0;
	for (guint i = 0; ret == 0 && i < lines->len; i++)
		ret = read_line(&r, &g_array_index(lines, struct logical_line, i), err);
	if (ret == 0 && lines->len == 0)
		ret = ox_error_set(err, OX_ERR_INVALID, "the body is empty");
	if (ret == 0)
		ret = check_required(&r, err);
	lines_free(lines);
	idx_r->emails = g_string_free(r.emails, FALSE);
	idx_r->tels = g_string_free(r.tels, FALSE);
	if (ret < 0)
		pim_vcard_index_clear(idx_r);
	return ret;
}

/* --- stored cards, property by property --- */

/* The physical line at pos without its line end, appended to line; the
 * position after its LF. */
static size_t physical_line(const char *data, size_t len, size_t pos, GString *line, bool skip1)
{
	const char *nl = memchr(data + pos, '\n', len - pos);
	size_t plen = nl != NULL ? (size_t)(nl - (data + pos)) : len - pos;
	size_t next = pos + plen + (nl != NULL ? 1 : 0);
	while (plen > 0 && data[pos + plen - 1] == '\r')
		plen--;
	if (skip1 && plen > 0) {
		pos++;
		plen--;
	}
	g_string_append_len(line, data + pos, (gssize)plen);
	return next;
}

/* Parses one unfolded line into p (names upper case in the buffers):
 * false when it is no content line. */
static bool split_prop(const char *line, GString *group, GString *name, GString *params,
                       struct pim_vcard_prop *p)
{
	const char *q = line;
	while (name_char(*q))
		q++;
	const char *n = line;
	g_string_truncate(group, 0);
	if (*q == '.' && q > line) {
		g_string_append_len(group, line, q - line);
		n = ++q;
		while (name_char(*q))
			q++;
	}
	if (q == n || (*q != ';' && *q != ':'))
		return false;
	g_string_assign(name, "");
	g_string_append_len(name, n, q - n);
	g_string_ascii_up(name);
	g_string_ascii_up(group);
	const char *ps = q;
	bool quoted = false;
	while (*q != '\0' && (quoted || *q != ':')) {
		if (*q == '"')
			quoted = !quoted;
		q++;
	}
	if (*q != ':')
		return false;
	g_string_assign(params, "");
	g_string_append_len(params, ps, q - ps);
	p->group = group->len > 0 ? group->str : NULL;
	p->name = name->str;
	p->params = params->str;
	p->value = q + 1;
	return true;
}

int pim_vcard_props(const char *data, pim_vcard_prop_fn *fn, void *ctx)
{
	size_t len = strlen(data), pos = 0;
	GString *line = g_string_new(NULL), *group = g_string_new(NULL);
	GString *name = g_string_new(NULL), *params = g_string_new(NULL);
	int r = 0;
	while (r == 0 && pos < len) {
		struct pim_vcard_prop p = {.start = pos};
		g_string_truncate(line, 0);
		pos = physical_line(data, len, pos, line, false);
		/* A line starting with a space or a tab continues this one. */
		while (pos < len && (data[pos] == ' ' || data[pos] == '\t'))
			pos = physical_line(data, len, pos, line, true);
		p.end = pos;
		if (line->len > 0 && split_prop(line->str, group, name, params, &p))
			r = fn(&p, ctx);
	}
	g_string_free(line, TRUE);
	g_string_free(group, TRUE);
	g_string_free(name, TRUE);
	g_string_free(params, TRUE);
	return r;
}

static int version_of(const struct pim_vcard_prop *p, void *ctx)
{
	if (strcmp(p->name, "VERSION") != 0)
		return 0;
	*(int *)ctx = strcmp(p->value, "3.0") == 0 ? 3 : strcmp(p->value, "4.0") == 0 ? 4 : 0;
	return 1;
}

int pim_vcard_version(const char *data)
{
	int version = 0;
	pim_vcard_props(data, version_of, &version);
	return version;
}

struct selecting {
	const char *data;
	const struct pim_vcard_select *sel;
	size_t n;
	const char *eol;
	GString *out;
};

/* RFC 6352 10.4.2: a name without a group matches the property in any
 * group; with one, only in that group. */
static bool select_matches(const struct pim_vcard_select *sel, const struct pim_vcard_prop *p)
{
	const char *dot = strchr(sel->name, '.');
	if (dot == NULL)
		return strcmp(sel->name, p->name) == 0;
	return p->group != NULL && strlen(p->group) == (size_t)(dot - sel->name) &&
	       strncmp(sel->name, p->group, (size_t)(dot - sel->name)) == 0 &&
	       strcmp(dot + 1, p->name) == 0;
}

/* How a property's last line ends in the text: CR LF, LF, or NULL
 * (the text's last line, without an end). */
static const char *raw_ending(const char *data, const struct pim_vcard_prop *p)
{
	if (p->end == p->start || data[p->end - 1] != '\n')
		return NULL;
	return p->end - p->start >= 2 && data[p->end - 2] == '\r' ? "\r\n" : "\n";
}

static int select_one(const struct pim_vcard_prop *p, void *ctx)
{
	struct selecting *x = ctx;
	static const char *const always[] = {"BEGIN", "END", "VERSION", "UID"};
	int keep = 0; /* 0 no, 1 the name and parameters, 2 all of it */
	for (size_t i = 0; keep < 2 && i < G_N_ELEMENTS(always); i++)
		keep = strcmp(p->name, always[i]) == 0 ? 2 : keep;
	for (size_t i = 0; keep < 2 && i < x->n; i++) {
		if (select_matches(&x->sel[i], p))
			keep = x->sel[i].novalue ? 1 : 2;
	}
	const char *ending = raw_ending(x->data, p);
	/* Lines the server writes end as the kept lines before them do. */
	if (keep > 0 && ending != NULL)
		x->eol = ending;
	if (keep == 2) {
		g_string_append_len(x->out, x->data + p->start, (gssize)(p->end - p->start));
		/* The last line of a card stored without a final line end. */
		if (ending == NULL)
			g_string_append(x->out, x->eol);
	} else if (keep == 1) {
		if (p->group != NULL)
			g_string_append_printf(x->out, "%s.", p->group);
		g_string_append_printf(x->out, "%s%s:%s", p->name, p->params, x->eol);
	}
	return 0;
}

/* The card's own line end, as its first line has it. */
static const char *line_end(const char *data)
{
	const char *nl = strchr(data, '\n');
	return nl != NULL && nl > data && nl[-1] == '\r' ? "\r\n" : "\n";
}

char *pim_vcard_select(const char *data, const struct pim_vcard_select *sel, size_t n)
{
	struct selecting x = {data, sel, n, line_end(data), g_string_new(NULL)};
	pim_vcard_props(data, select_one, &x);
	return g_string_free(x.out, FALSE);
}

/* --- conversion between vCard 3.0 and 4.0 (RFC 6350 Appendix A) --- */

/* One parameter of a property: name upper case (NULL for a 3.0 bare
 * value such as TEL;WORK), its values unquoted, a quoted value split
 * at its commas (4.0 TYPE="work,voice"). */
struct vparam {
	char *name;
	GPtrArray *values;
	bool quoted_list;
};

static void vparam_free(gpointer data)
{
	struct vparam *vp = data;
	g_free(vp->name);
	g_ptr_array_unref(vp->values);
	g_free(vp);
}

static struct vparam *vparam_new(const char *name, size_t len)
{
	struct vparam *vp = g_new0(struct vparam, 1);
	vp->name = name != NULL ? g_ascii_strup(name, (gssize)len) : NULL;
	vp->values = g_ptr_array_new_with_free_func(g_free);
	return vp;
}

/* The parameter text of a stored card (it passed the reader, so quotes
 * are closed) as a list of struct vparam. */
static GPtrArray *params_parse(const char *p)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(vparam_free);
	while (*p == ';') {
		const char *n = ++p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		if (*p != '=') {
			struct vparam *bare = vparam_new(NULL, 0);
			g_ptr_array_add(bare->values, g_strndup(n, p - n));
			g_ptr_array_add(list, bare);
			continue;
		}
		struct vparam *vp = vparam_new(n, (size_t)(p - n));
		g_ptr_array_add(list, vp);
		do {
			const char *v = ++p;
			if (*v == '"') {
				const char *q = strchr(v + 1, '"');
				if (q == NULL)
					return list;
				char *inner = g_strndup(v + 1, q - v - 1);
				gchar **items = g_strsplit(inner, ",", -1);
				vp->quoted_list =
					vp->quoted_list || (items[0] != NULL && items[1] != NULL);
				for (gchar **i = items; *i != NULL; i++)
					g_ptr_array_add(vp->values, g_strdup(*i));
				g_strfreev(items);
				g_free(inner);
				p = q + 1;
			} else {
				while (*p != '\0' && *p != ',' && *p != ';')
					p++;
				g_ptr_array_add(vp->values, g_strndup(v, p - v));
			}
		} while (*p == ',');
	}
	return list;
}

static struct vparam *param_find(GPtrArray *params, const char *name)
{
	for (guint i = 0; i < params->len; i++) {
		struct vparam *vp = g_ptr_array_index(params, i);
		if (vp->name != NULL && strcmp(vp->name, name) == 0)
			return vp;
	}
	return NULL;
}

/* The first value of a parameter, or NULL. */
static const char *param_first(GPtrArray *params, const char *name)
{
	struct vparam *vp = param_find(params, name);
	return vp != NULL && vp->values->len > 0 ? g_ptr_array_index(vp->values, 0) : NULL;
}

/* Removes every parameter `name` (and, with bare, every bare value) in
 * one pass, as a hostile line may hold thousands; returns where the
 * first one was, or the new length when there was none. */
static guint params_drop(GPtrArray *params, const char *name, bool bare)
{
	guint kept = 0, first = G_MAXUINT;
	for (guint i = 0; i < params->len; i++) {
		struct vparam *vp = g_ptr_array_index(params, i);
		if (vp->name == NULL ? bare : strcmp(vp->name, name) == 0) {
			first = MIN(first, kept);
			vparam_free(vp);
		} else {
			params->pdata[kept++] = vp;
		}
	}
	/* The dropped ones are freed already. */
	g_ptr_array_set_free_func(params, NULL);
	g_ptr_array_set_size(params, kept);
	g_ptr_array_set_free_func(params, vparam_free);
	return first == G_MAXUINT ? kept : first;
}

static void param_remove(GPtrArray *params, const char *name)
{
	params_drop(params, name, false);
}

static void param_set(GPtrArray *params, const char *name, const char *value)
{
	param_remove(params, name);
	struct vparam *vp = vparam_new(name, strlen(name));
	g_ptr_array_add(vp->values, g_strdup(value));
	g_ptr_array_add(params, vp);
}

static void params_write(GString *out, GPtrArray *params)
{
	for (guint i = 0; i < params->len; i++) {
		struct vparam *vp = g_ptr_array_index(params, i);
		g_string_append_c(out, ';');
		if (vp->name != NULL)
			g_string_append_printf(out, "%s=", vp->name);
		for (guint j = 0; j < vp->values->len; j++) {
			const char *v = g_ptr_array_index(vp->values, j);
			bool quote = strpbrk(v, ":;,") != NULL;
			g_string_append_printf(out, "%s%s%s%s", j > 0 ? "," : "", quote ? "\"" : "",
			                       v, quote ? "\"" : "");
		}
	}
}

/* One property of the card being converted; name, params and value
 * start as stored and the rules change them. */
struct conv_prop {
	char *group, *name, *value;
	GPtrArray *params;
	size_t start, end;
	bool changed; /* written anew rather than copied */
	bool dropped;
	char *label; /* 4.0 ADR LABEL taken from a 3.0 LABEL (RFC 6350 6.3.1) */
	char *params_text;
};

static void conv_prop_clear(gpointer data)
{
	struct conv_prop *cp = data;
	g_free(cp->group);
	g_free(cp->name);
	g_free(cp->value);
	g_free(cp->params_text);
	g_free(cp->label);
	g_ptr_array_unref(cp->params);
}

struct collecting {
	const char *data;
	GArray *props;
};

static int collect_prop(const struct pim_vcard_prop *p, void *ctx)
{
	struct collecting *c = ctx;
	struct conv_prop cp = {
		/* The group as written (the iterator's is upper case): a
	         * rewritten line keeps it. */
		.group = p->group != NULL ? g_strndup(c->data + p->start, strlen(p->group)) : NULL,
		.name = g_strdup(p->name),
		.value = g_strdup(p->value),
		.params_text = g_strdup(p->params),
		.params = params_parse(p->params),
		.start = p->start,
		.end = p->end,
	};
	g_array_append_val(c->props, cp);
	return 0;
}

static void set_value(struct conv_prop *cp, char *value)
{
	g_free(cp->value);
	cp->value = value;
	cp->changed = true;
}

static void rename_prop(struct conv_prop *cp, const char *name)
{
	g_free(cp->name);
	cp->name = g_strdup(name);
	cp->changed = true;
}

/* The TYPE values of a property: every TYPE parameter, each item of a
 * list, and in 3.0 the bare values; *touched_r when the parameter text
 * must be rewritten to say the same in the target version. */
static GPtrArray *types_of(struct conv_prop *cp, int to_version, bool *touched_r, bool *pref_r)
{
	GPtrArray *types = g_ptr_array_new_with_free_func(g_free);
	int type_params = 0;
	for (guint i = 0; i < cp->params->len; i++) {
		struct vparam *vp = g_ptr_array_index(cp->params, i);
		bool bare = vp->name == NULL;
		if (!bare && strcmp(vp->name, "TYPE") != 0)
			continue;
		type_params++;
		*touched_r = *touched_r || bare || (to_version == 3 && vp->quoted_list);
		for (guint j = 0; j < vp->values->len; j++) {
			const char *v = g_ptr_array_index(vp->values, j);
			bool pref = g_ascii_strcasecmp(v, "PREF") == 0;
			*pref_r = *pref_r || pref;
			/* RFC 6350 A.2: 3.0's TYPE=pref is PREF=1; INTERNET, the
			 * only e-mail type 3.0 had, is gone. */
			if (to_version == 4 && (pref || g_ascii_strcasecmp(v, "INTERNET") == 0))
				*touched_r = true;
			else
				g_ptr_array_add(types, g_strdup(v));
		}
	}
	*touched_r = *touched_r || (to_version == 4 && type_params > 1);
	return types;
}

static void convert_types(struct conv_prop *cp, int to_version)
{
	bool touched = false, pref3 = false;
	GPtrArray *types = types_of(cp, to_version, &touched, &pref3);
	const char *pref4 = param_first(cp->params, "PREF");
	bool pref_is_1 = to_version == 3 && pref4 != NULL && strcmp(pref4, "1") == 0;
	if (!touched && !pref_is_1) {
		g_ptr_array_unref(types);
		return;
	}
	/* The new TYPE goes where the first one was. */
	guint at = params_drop(cp->params, "TYPE", true);
	if (pref_is_1) {
		param_remove(cp->params, "PREF");
		g_ptr_array_add(types, g_strdup("PREF"));
	}
	if (types->len > 0) {
		struct vparam *vp = vparam_new("TYPE", 4);
		g_ptr_array_extend_and_steal(vp->values, types);
		types = NULL;
		g_ptr_array_insert(cp->params, (gint)MIN(at, cp->params->len), vp);
	}
	if (to_version == 4 && pref3 && param_find(cp->params, "PREF") == NULL)
		param_set(cp->params, "PREF", "1");
	if (types != NULL)
		g_ptr_array_unref(types);
	cp->changed = true;
}

/* Properties that one version has and the other writes as an extension
 * that clients know: Apple's for groups, Evolution's and Apple's X- for
 * the others. */
static const struct {
	const char *v4, *v3;
} renamed[] = {
	{"KIND", "X-ADDRESSBOOKSERVER-KIND"},
	{"MEMBER", "X-ADDRESSBOOKSERVER-MEMBER"},
	{"GENDER", "X-GENDER"},
	{"ANNIVERSARY", "X-ANNIVERSARY"},
	/* A 3.0 LABEL no address takes (see match_labels). */
	{"X-LABEL", "LABEL"},
};

static void convert_name(struct conv_prop *cp, int to_version)
{
	for (size_t i = 0; i < G_N_ELEMENTS(renamed); i++) {
		const char *from = to_version == 4 ? renamed[i].v3 : renamed[i].v4;
		const char *to = to_version == 4 ? renamed[i].v4 : renamed[i].v3;
		if (strcmp(cp->name, from) == 0) {
			rename_prop(cp, to);
			return;
		}
	}
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
	}
	return strlen(s) >= n;
}

/* Dates of BDAY and ANNIVERSARY. 4.0 writes a date without a year as
 * --MMDD (RFC 6350 4.3.1), which 3.0 cannot; 3.0 clients (Apple, and
 * CardBook without the parameter) write year 1604 instead, Apple adding
 * X-APPLE-OMIT-YEAR=1604. 4.0 dates are the basic form, 3.0 ones
 * usually the extended one (RFC 2426 3.1.5). Date-times and text
 * values are kept. */
static void convert_date(struct conv_prop *cp, int to_version)
{
	const char *v = cp->value;
	size_t len = strlen(v);
	if (to_version == 3) {
		if (len == 6 && v[0] == '-' && v[1] == '-' && all_digits(v + 2, 4)) {
			set_value(cp, g_strdup_printf("1604-%.2s-%.2s", v + 2, v + 4));
			param_set(cp->params, "X-APPLE-OMIT-YEAR", "1604");
		} else if (len == 8 && all_digits(v, 8)) {
			set_value(cp, g_strdup_printf("%.4s-%.2s-%.2s", v, v + 4, v + 6));
		}
		return;
	}
	char ymd[9];
	if (len == 10 && all_digits(v, 4) && v[4] == '-' && all_digits(v + 5, 2) && v[7] == '-' &&
	    all_digits(v + 8, 2))
		g_snprintf(ymd, sizeof(ymd), "%.4s%.2s%.2s", v, v + 5, v + 8);
	else if (len == 8 && all_digits(v, 8))
		g_strlcpy(ymd, v, sizeof(ymd));
	else if (len == 7 && v[0] == '-' && v[1] == '-' && all_digits(v + 2, 2) && v[4] == '-' &&
	         all_digits(v + 5, 2))
		g_snprintf(ymd, sizeof(ymd), "----%.2s%.2s", v + 2, v + 5);
	else
		return;
	const char *omit = param_first(cp->params, "X-APPLE-OMIT-YEAR");
	bool no_year = strncmp(ymd, "1604", 4) == 0 || strncmp(ymd, "----", 4) == 0 ||
	               (omit != NULL && strncmp(ymd, omit, 4) == 0 && strlen(omit) == 4);
	bool had_omit = omit != NULL;
	param_remove(cp->params, "X-APPLE-OMIT-YEAR");
	char *value = no_year ? g_strdup_printf("--%s", ymd + 4) : g_strdup(ymd);
	if (strcmp(value, v) == 0 && !had_omit)
		g_free(value);
	else
		set_value(cp, value);
}

/* RFC 3966 global number: "+" then digits and visual separators, with
 * an extension (";ext=", as a tel: URI with one comes back to 3.0). */
static bool global_number(const char *v)
{
	const char *digits = "0123456789-.()";
	size_t n = strspn(v, "+") == 1 ? 1 + strspn(v + 1, digits) : 0;
	if (n < 2 || strpbrk(v, "0123456789") == NULL)
		return false;
	if (g_ascii_strncasecmp(v + n, ";ext=", 5) == 0 && v[n + 5] != '\0')
		n += 5 + strspn(v + n + 5, digits);
	return v[n] == '\0';
}

/* 4.0 TEL is preferably a tel: URI (RFC 6350 6.4.1), 3.0 TEL text. A
 * 3.0 number that is a valid global number becomes a URI; others stay
 * text, which 4.0 still allows. */
static void convert_tel(struct conv_prop *cp, int to_version)
{
	const char *type = param_first(cp->params, "VALUE");
	if (to_version == 4) {
		if (type == NULL && global_number(cp->value)) {
			param_set(cp->params, "VALUE", "uri");
			set_value(cp, g_strconcat("tel:", cp->value, NULL));
		}
		return;
	}
	if (type != NULL && g_ascii_strcasecmp(type, "uri") == 0 &&
	    g_ascii_strncasecmp(cp->value, "tel:", 4) == 0) {
		param_remove(cp->params, "VALUE");
		set_value(cp, g_strdup(cp->value + 4));
	} else if (type != NULL && g_ascii_strcasecmp(type, "text") == 0) {
		param_remove(cp->params, "VALUE");
		cp->changed = true;
	}
}

/* The top-level media type of what 3.0 calls PHOTO, LOGO and SOUND. */
static const char *media_top(const struct conv_prop *cp)
{
	return strcmp(cp->name, "SOUND") == 0 ? "audio/" : "image/";
}

/* The media type of inline 3.0 data: its TYPE (JPEG, or already a media
 * type), else what the first bytes say. */
static char *media_type(struct conv_prop *cp)
{
	const char *type = param_first(cp->params, "TYPE");
	const char *top = media_top(cp);
	if (type != NULL && strchr(type, '/') != NULL)
		return g_ascii_strdown(type, -1);
	if (type != NULL && *type != '\0') {
		char *sub = g_ascii_strdown(type, -1);
		char *mt = g_strconcat(top, sub, NULL);
		g_free(sub);
		return mt;
	}
	if (g_str_has_prefix(cp->value, "/9j/"))
		return g_strdup("image/jpeg");
	if (g_str_has_prefix(cp->value, "iVBOR"))
		return g_strdup("image/png");
	if (g_str_has_prefix(cp->value, "R0lGOD"))
		return g_strdup("image/gif");
	if (g_str_has_prefix(cp->value, "UklGR"))
		return g_strdup("audio/wav");
	return g_strdup("application/octet-stream");
}

/* Whether a value starts with a URI scheme (RFC 3986 3.1). */
static bool uri_scheme(const char *v)
{
	if (!g_ascii_isalpha(*v))
		return false;
	while (g_ascii_isalnum(*v) || *v == '+' || *v == '-' || *v == '.')
		v++;
	return *v == ':';
}

/* PHOTO, LOGO, SOUND: 3.0 inline data (ENCODING=b, TYPE=JPEG) is a 4.0
 * data: URI (RFC 6350 A.2, RFC 2397); a 3.0 URI (VALUE=uri) stays one. */
static void convert_media(struct conv_prop *cp, int to_version)
{
	const char *enc = param_first(cp->params, "ENCODING");
	if (to_version == 4) {
		if (enc == NULL ||
		    (g_ascii_strcasecmp(enc, "b") != 0 && g_ascii_strcasecmp(enc, "BASE64") != 0))
			return;
		char *mt = media_type(cp);
		char *value = g_strdup_printf("data:%s;base64,%s", mt, cp->value);
		g_free(mt);
		param_remove(cp->params, "ENCODING");
		param_remove(cp->params, "TYPE");
		param_remove(cp->params, "VALUE");
		set_value(cp, value);
		return;
	}
	const char *value_type = param_first(cp->params, "VALUE");
	if (enc != NULL || (value_type != NULL && g_ascii_strcasecmp(value_type, "uri") != 0))
		return;
	const char *b64 = strstr(cp->value, ";base64,");
	const char *comma = strchr(cp->value, ',');
	if (g_ascii_strncasecmp(cp->value, "data:", 5) == 0 && b64 != NULL && comma == b64 + 7) {
		const char *mt = cp->value + 5;
		size_t top = strlen(media_top(cp));
		param_remove(cp->params, "VALUE");
		param_set(cp->params, "ENCODING", "b");
		/* TYPE=JPEG for image/jpeg; another media type whole. */
		char *type = g_ascii_strncasecmp(mt, media_top(cp), top) == 0
		                     ? g_ascii_strup(mt + top, b64 - mt - (gssize)top)
		                     : g_strndup(mt, (gsize)(b64 - mt));
		if (*type != '\0')
			param_set(cp->params, "TYPE", type);
		g_free(type);
		set_value(cp, g_strdup(comma + 1));
	} else if (value_type == NULL && uri_scheme(cp->value)) {
		/* 3.0's default for these is inline data: say it is a URI. */
		param_set(cp->params, "VALUE", "uri");
		cp->changed = true;
	}
}

/* RFC 6350 6.2.7 writes sex as one letter; Evolution writes words. */
static void convert_gender(struct conv_prop *cp, int to_version)
{
	static const char *const words[][2] = {{"M", "Male"}, {"F", "Female"}};
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		const char *from = words[i][to_version == 3 ? 0 : 1];
		if (g_ascii_strcasecmp(cp->value, from) == 0) {
			set_value(cp, g_strdup(words[i][to_version == 3 ? 1 : 0]));
			return;
		}
	}
}

/* A g_ptr_array_sort comparator gets pointers to the elements. */
static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The TYPE values of a property upper case and sorted, PREF left out:
 * what a 3.0 LABEL and the ADR it labels share. */
static char *type_key(GPtrArray *params)
{
	GPtrArray *types = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < params->len; i++) {
		struct vparam *vp = g_ptr_array_index(params, i);
		if (vp->name != NULL && strcmp(vp->name, "TYPE") != 0)
			continue;
		for (guint j = 0; j < vp->values->len; j++) {
			const char *v = g_ptr_array_index(vp->values, j);
			if (g_ascii_strcasecmp(v, "PREF") != 0)
				g_ptr_array_add(types, g_ascii_strup(v, -1));
		}
	}
	g_ptr_array_sort(types, compare_strings);
	g_ptr_array_add(types, NULL);
	char *key = g_strjoinv(",", (gchar **)types->pdata);
	g_ptr_array_unref(types);
	return key;
}

/* RFC 6350 6.3.1: 4.0 has no LABEL property but an ADR parameter, in
 * RFC 6868's encoding. */
static char *label_param(const char *text)
{
	char *plain = pim_vcard_unescape(text);
	GString *out = g_string_new(NULL);
	for (const char *p = plain; *p != '\0'; p++) {
		if (*p == '\n')
			g_string_append(out, "^n");
		else if (*p == '^')
			g_string_append(out, "^^");
		else if (*p == '"')
			g_string_append(out, "^'");
		else
			g_string_append_c(out, *p);
	}
	g_free(plain);
	return g_string_free(out, FALSE);
}

/* Where a LABEL looks for its ADR: its group (lower case), or for an
 * ungrouped one "=" and its types. */
static char *label_slot(const struct conv_prop *cp)
{
	if (cp->group != NULL)
		return g_ascii_strdown(cp->group, -1);
	char *types = type_key(cp->params);
	char *slot = g_strconcat("=", types, NULL);
	g_free(types);
	return slot;
}

/* A 3.0 LABEL joins the first ADR of its group that has none yet (Apple's
 * item1.ADR and item1.LABEL) or, without a group, the first ungrouped one
 * of the same types. The ADRs wait in one queue per slot, so a card of
 * thousands of addresses is matched in one pass. */
static void match_labels(GArray *props)
{
	GHashTable *slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                          (GDestroyNotify)g_queue_free);
	for (guint i = 0; i < props->len; i++) {
		struct conv_prop *adr = &g_array_index(props, struct conv_prop, i);
		if (strcmp(adr->name, "ADR") != 0)
			continue;
		char *slot = label_slot(adr);
		GQueue *queue = g_hash_table_lookup(slots, slot);
		if (queue == NULL) {
			queue = g_queue_new();
			g_hash_table_insert(slots, g_strdup(slot), queue);
		}
		g_queue_push_tail(queue, adr);
		g_free(slot);
	}
	for (guint i = 0; i < props->len; i++) {
		struct conv_prop *label = &g_array_index(props, struct conv_prop, i);
		if (strcmp(label->name, "LABEL") != 0)
			continue;
		char *slot = label_slot(label);
		GQueue *queue = g_hash_table_lookup(slots, slot);
		struct conv_prop *adr = queue != NULL ? g_queue_pop_head(queue) : NULL;
		g_free(slot);
		if (adr == NULL)
			continue;
		adr->label = label_param(label->value);
		adr->changed = true;
		label->dropped = true;
	}
	g_hash_table_unref(slots);
}

/* The 4.0 ADR LABEL parameter as 3.0 text (escaped, RFC 2426 4). */
static char *label_text(const char *param)
{
	GString *out = g_string_new(NULL);
	for (const char *p = param; *p != '\0'; p++) {
		char c = *p;
		if ((c == '^' || c == '\\') && (p[1] == 'n' || p[1] == 'N')) {
			c = '\n';
			p++;
		} else if (c == '^' && (p[1] == '^' || p[1] == '\'')) {
			c = *++p == '^' ? '^' : '"';
		}
		if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\\' || c == ',' || c == ';')
			g_string_append_printf(out, "\\%c", c);
		else
			g_string_append_c(out, c);
	}
	return g_string_free(out, FALSE);
}

static void convert_prop(struct conv_prop *cp, int to_version)
{
	char *name = g_strdup(cp->name);
	convert_name(cp, to_version);
	convert_types(cp, to_version);
	if (strcmp(name, "TEL") == 0)
		convert_tel(cp, to_version);
	else if (strcmp(name, "PHOTO") == 0 || strcmp(name, "LOGO") == 0 ||
	         strcmp(name, "SOUND") == 0)
		convert_media(cp, to_version);
	else if (strcmp(name, "BDAY") == 0 || strcmp(name, "ANNIVERSARY") == 0 ||
	         strcmp(name, "X-ANNIVERSARY") == 0)
		convert_date(cp, to_version);
	else if (strcmp(name, "GENDER") == 0 || strcmp(name, "X-GENDER") == 0)
		convert_gender(cp, to_version);
	if (to_version == 4 && cp->label != NULL) {
		param_set(cp->params, "LABEL", cp->label);
	} else if (to_version == 3 && strcmp(name, "ADR") == 0) {
		const char *label = param_first(cp->params, "LABEL");
		if (label != NULL) {
			cp->label = label_text(label);
			param_remove(cp->params, "LABEL");
			cp->changed = true;
		}
	}
	g_free(name);
}

/* Appends one content line folded at 75 octets (RFC 6350 3.2), never
 * inside a UTF-8 character. */
static void write_folded(GString *out, const char *line, const char *eol)
{
	size_t len = strlen(line), pos = 0, width = 75;
	while (len - pos > width) {
		size_t cut = pos + width;
		while (cut > pos + 1 && ((unsigned char)line[cut] & 0xc0) == 0x80)
			cut--;
		g_string_append_len(out, line + pos, (gssize)(cut - pos));
		g_string_append_printf(out, "%s ", eol);
		pos = cut;
		width = 74;
	}
	g_string_append_printf(out, "%s%s", line + pos, eol);
}

static void write_prop(GString *out, const char *group, const char *name, GPtrArray *params,
                       const char *value, const char *eol)
{
	GString *line = g_string_new(NULL);
	if (group != NULL)
		g_string_append_printf(line, "%s.", group);
	g_string_append(line, name);
	params_write(line, params);
	g_string_append_printf(line, ":%s", value);
	write_folded(out, line->str, eol);
	g_string_free(line, TRUE);
}

/* The 3.0 LABEL of a 4.0 ADR, with the address's group and types. */
static void write_label(GString *out, struct conv_prop *adr, const char *eol)
{
	GPtrArray *params = g_ptr_array_new_with_free_func(vparam_free);
	struct vparam *type = param_find(adr->params, "TYPE");
	if (type != NULL) {
		struct vparam *copy = vparam_new("TYPE", 4);
		for (guint i = 0; i < type->values->len; i++)
			g_ptr_array_add(copy->values, g_strdup(g_ptr_array_index(type->values, i)));
		g_ptr_array_add(params, copy);
	}
	write_prop(out, adr->group, "LABEL", params, adr->label, eol);
	g_ptr_array_unref(params);
}

static void write_raw(GString *out, const char *data, const struct conv_prop *cp, const char *eol)
{
	g_string_append_len(out, data + cp->start, (gssize)(cp->end - cp->start));
	if (cp->end == cp->start || data[cp->end - 1] != '\n')
		g_string_append(out, eol);
}

static bool has_prop(GArray *props, const char *name)
{
	for (guint i = 0; i < props->len; i++) {
		if (strcmp(g_array_index(props, struct conv_prop, i).name, name) == 0)
			return true;
	}
	return false;
}

static void write_card(GString *out, const char *data, GArray *props, int to_version,
                       const char *fn)
{
	const char *eol = line_end(data);
	for (guint i = 0; i < props->len; i++) {
		struct conv_prop *cp = &g_array_index(props, struct conv_prop, i);
		if (cp->dropped || strcmp(cp->name, "VERSION") == 0)
			continue;
		if (!cp->changed) {
			write_raw(out, data, cp, eol);
		} else {
			write_prop(out, cp->group, cp->name, cp->params, cp->value, eol);
			if (to_version == 3 && cp->label != NULL)
				write_label(out, cp, eol);
		}
		if (strcmp(cp->name, "BEGIN") != 0)
			continue;
		/* RFC 6350 6.7.9: VERSION comes right after BEGIN. */
		g_string_append_printf(out, "VERSION:%d.0%s", to_version, eol);
		/* RFC 2426 3.1.2: 3.0 needs N, 4.0 does not; the formatted
		 * name stands in as the family name. */
		if (to_version == 3 && !has_prop(props, "N"))
			g_string_append_printf(out, "N:%s;;;;%s", fn, eol);
	}
}

/* FN's raw (escaped) value, for a missing N. */
static const char *raw_fn(GArray *props)
{
	for (guint i = 0; i < props->len; i++) {
		struct conv_prop *cp = &g_array_index(props, struct conv_prop, i);
		if (strcmp(cp->name, "FN") == 0)
			return cp->value;
	}
	return "";
}

char *pim_vcard_convert(const char *text, int to_version, struct ox_error *err)
{
	if (to_version != 3 && to_version != 4) {
		ox_error_set(err, OX_ERR_INVALID, "vCard versions are 3.0 and 4.0");
		return NULL;
	}
	struct pim_vcard_index idx;
	if (pim_vcard_index(text, strlen(text), &idx, err) < 0)
		return NULL;
	int from_version = idx.version[0] - '0';
	pim_vcard_index_clear(&idx);
	if (from_version == to_version)
		return g_strdup(text);
	GArray *props = g_array_new(FALSE, TRUE, sizeof(struct conv_prop));
	g_array_set_clear_func(props, conv_prop_clear);
	struct collecting collecting = {text, props};
	pim_vcard_props(text, collect_prop, &collecting);
	if (to_version == 4)
		match_labels(props);
	for (guint i = 0; i < props->len; i++) {
		struct conv_prop *cp = &g_array_index(props, struct conv_prop, i);
		if (!cp->dropped && strcmp(cp->name, "BEGIN") != 0 && strcmp(cp->name, "END") != 0)
			convert_prop(cp, to_version);
	}
	GString *out = g_string_sized_new(strlen(text) + 256);
	write_card(out, text, props, to_version, raw_fn(props));
	g_array_unref(props);
	/* What the server hands out must be a card its own reader takes
	 * (a limit may refuse a card that grew). */
	if (pim_vcard_index(out->str, out->len, &idx, err) < 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	pim_vcard_index_clear(&idx);
	return g_string_free(out, FALSE);
}
