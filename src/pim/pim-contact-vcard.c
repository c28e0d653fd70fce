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
