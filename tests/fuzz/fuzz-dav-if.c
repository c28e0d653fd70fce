/* libFuzzer target for the If header (dav-if.c): parsing and evaluation.
 *
 * Input: the header value. A header holds no NUL, so the input is cut at
 * the first one, and parsed from an exact-size heap copy so that ASan
 * catches a read past its end.
 *
 * A parsed header must keep the parser's bounds (1 to 64 lists of 1 to 64
 * conditions, tags on all lists or on none, values without controls or
 * '<') and must mean the same when written out again and reparsed, since
 * the engine matches tokens and tags from the parsed form only. Evaluation
 * is compared with the rule of RFC 4918 10.4: true when every condition of
 * some list holds. */
#include "dav/dav-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IF_MAX_LISTS 64
#define IF_MAX_CONDS 64

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-dav-if: %s\n%s\n", what, detail != NULL ? detail : "");
	abort();
}

static void check_value(const char *value, char close, const char *header)
{
	if (value == NULL || *value == '\0')
		die("an empty value", header);
	for (const char *p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == '<' || *p == close ||
		    (close == '>' && *p == ' '))
			die("a value with a character its delimiters exclude", header);
	}
}

static void check_bounds(GPtrArray *lists, const char *header)
{
	if (lists->len == 0 || lists->len > IF_MAX_LISTS)
		die("a list count out of bounds", header);
	bool tagged = ((struct dav_if_list *)g_ptr_array_index(lists, 0))->tag != NULL;
	for (guint i = 0; i < lists->len; i++) {
		const struct dav_if_list *l = g_ptr_array_index(lists, i);
		if ((l->tag != NULL) != tagged)
			die("tagged and untagged lists mixed", header);
		if (l->tag != NULL)
			check_value(l->tag, '>', header);
		if (l->conds->len == 0 || l->conds->len > IF_MAX_CONDS)
			die("a condition count out of bounds", header);
		for (guint j = 0; j < l->conds->len; j++) {
			const struct dav_if_cond *c =
				&g_array_index(l->conds, struct dav_if_cond, j);
			check_value(c->value, c->is_etag ? ']' : '>', header);
		}
	}
}

/* The header as a client would write the parsed lists. */
static char *unparse(GPtrArray *lists)
{
	GString *out = g_string_new(NULL);
	const char *last_tag = NULL;
	for (guint i = 0; i < lists->len; i++) {
		const struct dav_if_list *l = g_ptr_array_index(lists, i);
		if (l->tag != NULL && (last_tag == NULL || strcmp(l->tag, last_tag) != 0))
			g_string_append_printf(out, "%s<%s> ", i > 0 ? " " : "", l->tag);
		last_tag = l->tag;
		g_string_append_c(out, '(');
		for (guint j = 0; j < l->conds->len; j++) {
			const struct dav_if_cond *c =
				&g_array_index(l->conds, struct dav_if_cond, j);
			g_string_append_printf(out, "%s%s%c%s%c", j > 0 ? " " : "",
			                       c->negate ? "Not " : "", c->is_etag ? '[' : '<',
			                       c->value, c->is_etag ? ']' : '>');
		}
		g_string_append(out, ") ");
	}
	return g_string_free(out, FALSE);
}

static bool same_lists(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return false;
	for (guint i = 0; i < a->len; i++) {
		const struct dav_if_list *la = g_ptr_array_index(a, i);
		const struct dav_if_list *lb = g_ptr_array_index(b, i);
		if (g_strcmp0(la->tag, lb->tag) != 0 || la->conds->len != lb->conds->len)
			return false;
		for (guint j = 0; j < la->conds->len; j++) {
			const struct dav_if_cond *ca =
				&g_array_index(la->conds, struct dav_if_cond, j);
			const struct dav_if_cond *cb =
				&g_array_index(lb->conds, struct dav_if_cond, j);
			if (ca->negate != cb->negate || ca->is_etag != cb->is_etag ||
			    strcmp(ca->value, cb->value) != 0)
				return false;
		}
	}
	return true;
}

/* Stand-ins for the engine's knowledge of resources: a token is held when
 * its length is odd; a tagged resource's entity tag is its tag. */
static bool token_held(const char *token, const char *tag, void *ctx)
{
	return strlen(token) % 2 == 1;
}

static const char *etag_for(const char *tag, void *ctx)
{
	return tag != NULL ? tag : ctx;
}

static bool expected(GPtrArray *lists, const char *etag)
{
	for (guint i = 0; i < lists->len; i++) {
		const struct dav_if_list *l = g_ptr_array_index(lists, i);
		bool all = true;
		for (guint j = 0; j < l->conds->len; j++) {
			const struct dav_if_cond *c =
				&g_array_index(l->conds, struct dav_if_cond, j);
			const char *e = l->tag != NULL ? l->tag : etag;
			bool match = c->is_etag ? strcmp(e, c->value) == 0
			                        : token_held(c->value, l->tag, NULL);
			all = all && match != c->negate;
		}
		if (all)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *nul = memchr(data, 0, size);
	size_t len = nul != NULL ? (size_t)((const uint8_t *)nul - data) : size;
	char *header = g_malloc(len + 1);
	memcpy(header, data, len);
	header[len] = '\0';

	struct ox_error err = {0};
	GPtrArray *lists = dav_if_parse(header, &err);
	if (lists == NULL) {
		if (err.code != OX_ERR_INVALID)
			die("a refused header set no error", header);
		g_free(header);
		return 0;
	}
	check_bounds(lists, header);

	char *again = unparse(lists);
	GPtrArray *relists = dav_if_parse(again, &err);
	if (relists == NULL || !same_lists(lists, relists)) {
		fprintf(stderr, "--- header:\n%s\n--- written again:\n%s\n", header, again);
		die("a parsed header means something else when written again", NULL);
	}

	char etag[] = "\"e\"";
	if (dav_if_evaluate(lists, token_held, etag_for, etag) != expected(lists, etag))
		die("evaluation differs from RFC 4918 10.4", header);

	g_ptr_array_unref(relists);
	g_free(again);
	g_ptr_array_unref(lists);
	g_free(header);
	return 0;
}
