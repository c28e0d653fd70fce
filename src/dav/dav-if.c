/* The If header (RFC 4918 10.4): lists of state tokens and entity tags,
 * optionally tagged with a resource. Pure: parsing and evaluation with
 * callbacks that know the resources. */
#include "dav/dav-private.h"

#include <string.h>

#define DAV_IF_MAX_LISTS 64
#define DAV_IF_MAX_CONDS 64

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* Reads up to `close` (exclusive) into a new string; the text must not
 * contain `open` again or controls. */
static char *delimited(const char **p, char close)
{
	const char *start = *p;
	while (**p != '\0' && **p != close) {
		if ((unsigned char)**p < 0x20 || **p == '<' || (close == '>' && **p == ' '))
			return NULL;
		(*p)++;
	}
	if (**p != close || *p == start)
		return NULL;
	char *out = g_strndup(start, (size_t)(*p - start));
	(*p)++;
	return out;
}

static void cond_clear(gpointer p)
{
	g_free(((struct dav_if_cond *)p)->value);
}

static void list_free(gpointer p)
{
	struct dav_if_list *l = p;
	g_free(l->tag);
	if (l->conds != NULL)
		g_array_unref(l->conds);
	g_free(l);
}

static int parse_cond(const char **p, GArray *conds)
{
	struct dav_if_cond c = {0};
	if (g_ascii_strncasecmp(*p, "Not", 3) == 0 && ((*p)[3] == ' ' || (*p)[3] == '\t')) {
		c.negate = true;
		*p += 3;
		skip_ws(p);
	}
	if (**p == '<') {
		(*p)++;
		c.value = delimited(p, '>');
	} else if (**p == '[') {
		(*p)++;
		c.is_etag = true;
		c.value = delimited(p, ']');
	}
	if (c.value == NULL || conds->len >= DAV_IF_MAX_CONDS) {
		g_free(c.value);
		return -1;
	}
	g_array_append_val(conds, c);
	return 0;
}

static struct dav_if_list *parse_list(const char **p, char *tag)
{
	struct dav_if_list *l = g_new0(struct dav_if_list, 1);
	l->tag = tag;
	l->conds = g_array_new(FALSE, TRUE, sizeof(struct dav_if_cond));
	g_array_set_clear_func(l->conds, cond_clear);
	(*p)++; /* '(' */
	for (;;) {
		skip_ws(p);
		if (**p == ')')
			break;
		if (parse_cond(p, l->conds) < 0) {
			list_free(l);
			return NULL;
		}
	}
	(*p)++;
	if (l->conds->len == 0) {
		list_free(l);
		return NULL;
	}
	return l;
}

GPtrArray *dav_if_parse(const char *header, struct ox_error *err)
{
	GPtrArray *lists = g_ptr_array_new_with_free_func(list_free);
	const char *p = header;
	char *tag = NULL; /* the resource tag for the lists that follow */
	bool tagged = false;
	skip_ws(&p);
	while (*p != '\0') {
		if (*p == '<') {
			/* Tagged and untagged lists do not mix (RFC 4918 10.4.2). */
			if (lists->len > 0 && !tagged)
				goto bad;
			p++;
			g_free(tag);
			if ((tag = delimited(&p, '>')) == NULL)
				goto bad;
			tagged = true;
			skip_ws(&p);
			if (*p != '(')
				goto bad;
		} else if (*p == '(') {
			struct dav_if_list *l = parse_list(&p, g_strdup(tag));
			if (l == NULL)
				goto bad;
			g_ptr_array_add(lists, l);
			if (lists->len > DAV_IF_MAX_LISTS)
				goto bad;
		} else {
			goto bad;
		}
		skip_ws(&p);
	}
	g_free(tag);
	if (lists->len == 0) {
		g_ptr_array_unref(lists);
		ox_error_set(err, OX_ERR_INVALID, "malformed If header");
		return NULL;
	}
	return lists;
bad:
	g_free(tag);
	g_ptr_array_unref(lists);
	ox_error_set(err, OX_ERR_INVALID, "malformed If header");
	return NULL;
}

static bool cond_true(const struct dav_if_cond *c, const char *tag, dav_if_token_fn *token_fn,
                      dav_if_etag_fn *etag_fn, void *ctx)
{
	bool match;
	if (c->is_etag) {
		const char *etag = etag_fn(tag, ctx);
		match = etag != NULL && strcmp(etag, c->value) == 0;
	} else {
		match = token_fn(c->value, tag, ctx);
	}
	return c->negate ? !match : match;
}

bool dav_if_evaluate(GPtrArray *lists, dav_if_token_fn *token_fn, dav_if_etag_fn *etag_fn,
                     void *ctx)
{
	for (guint i = 0; i < lists->len; i++) {
		const struct dav_if_list *l = g_ptr_array_index(lists, i);
		bool all = true;
		for (guint j = 0; all && j < l->conds->len; j++)
			all = cond_true(&g_array_index(l->conds, struct dav_if_cond, j), l->tag,
			                token_fn, etag_fn, ctx);
		if (all)
			return true;
	}
	return false;
}
