/* libFuzzer target for the DAV request body parsers (dav-xml.c):
 * propfind, propertyupdate and lockinfo.
 *
 * Input: byte 0 picks the parser (modulo 3); the rest is the body, fed
 * from an exact-size heap copy so that ASan catches a read past it.
 *
 * Besides not crashing or leaking, a parse must keep its contract: a
 * failure leaves no output and sets an error; a success yields names with
 * a local part. A property value PROPPATCH stores is written back inside a
 * DAV:prop of a multistatus later, so it must stand alone: placed in a
 * propertyupdate of its own it parses again to the same namespace, name
 * and text. The same holds for a lock's DAV:owner. */
#include "dav/dav-private.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-dav-xml: %s\n%s\n", what, detail != NULL ? detail : "");
	abort();
}

static void check_error(int r, const struct ox_error *err, const char *what)
{
	if (r != -1)
		die("a parser returned neither 0 nor -1", what);
	if (err->code != OX_ERR_INVALID && err->code != OX_ERR_LIMIT &&
	    err->code != OX_ERR_INTERNAL)
		die("a refused body set no fitting error", what);
}

static void check_names(GArray *props)
{
	for (guint i = 0; i < props->len; i++) {
		const struct dav_prop_name *pn = &g_array_index(props, struct dav_prop_name, i);
		if (pn->ns == NULL || pn->name == NULL || *pn->name == '\0')
			die("a property name without a local part", pn->ns);
	}
}

static void fuzz_propfind(const char *body, size_t len)
{
	struct dav_propfind pf;
	struct ox_error err = {0};
	int r = dav_parse_propfind(body, len, &pf, &err);
	if (r == 0) {
		if (pf.props == NULL)
			die("propfind without a property list", NULL);
		if (pf.kind != DAV_PROPFIND_ALLPROP && pf.kind != DAV_PROPFIND_PROPNAME &&
		    pf.kind != DAV_PROPFIND_PROP)
			die("propfind of an unknown kind", NULL);
		if (pf.kind == DAV_PROPFIND_PROPNAME && pf.props->len > 0)
			die("propname with property names", NULL);
		check_names(pf.props);
	} else {
		check_error(r, &err, "propfind");
	}
	dav_propfind_clear(&pf);
}

/* Parses a stored value as a client would meet it again, inside DAV:prop,
 * and checks it is the same property with the same text. */
static void check_reparse(const char *ns, const char *name, const char *value)
{
	char *doc = g_strconcat("<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>", value,
	                        "</D:prop></D:set></D:propertyupdate>", NULL);
	GArray *ops = NULL;
	struct ox_error err = {0};
	if (dav_parse_proppatch(doc, strlen(doc), &ops, &err) < 0)
		die("a stored value does not parse again", value);
	if (ops->len != 1)
		die("a stored value holds more than one property", value);
	const struct dav_prop_op *op = &g_array_index(ops, struct dav_prop_op, 0);
	if (strcmp(op->ns, ns) != 0 || strcmp(op->name, name) != 0)
		die("a stored value changed its namespace or name", value);
	if (op->value == NULL || strcmp(op->value, value) != 0)
		die("a stored value changed when stored again", value);
	dav_prop_ops_free(&ops);
	g_free(doc);
}

static void fuzz_proppatch(const char *body, size_t len)
{
	GArray *ops = (GArray *)body; /* must be overwritten */
	struct ox_error err = {0};
	int r = dav_parse_proppatch(body, len, &ops, &err);
	if (r < 0) {
		check_error(r, &err, "proppatch");
		if (ops != NULL)
			die("a refused propertyupdate left operations", NULL);
		return;
	}
	if (ops == NULL || ops->len == 0)
		die("a propertyupdate accepted with nothing to do", NULL);
	for (guint i = 0; i < ops->len; i++) {
		const struct dav_prop_op *op = &g_array_index(ops, struct dav_prop_op, i);
		if (op->ns == NULL || op->name == NULL || *op->name == '\0')
			die("an operation without a name", NULL);
		if (op->value != NULL)
			check_reparse(op->ns, op->name, op->value);
	}
	dav_prop_ops_free(&ops);
	if (ops != NULL)
		die("dav_prop_ops_free left the pointer set", NULL);
}

static void fuzz_lockinfo(const char *body, size_t len)
{
	struct dav_lockinfo li;
	struct ox_error err = {0};
	int r = dav_parse_lockinfo(body, len, &li, &err);
	if (r < 0) {
		check_error(r, &err, "lockinfo");
		if (li.owner != NULL)
			die("a refused lockinfo left an owner", NULL);
		return;
	}
	if (li.owner != NULL)
		check_reparse(DAV_NS, "owner", li.owner);
	g_free(li.owner);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t len = size - 1;
	/* NULL for an empty body, as the engine passes it. */
	char *body = len > 0 ? g_memdup2(data + 1, len) : NULL;
	switch (data[0] % 3) {
	case 0:
		fuzz_propfind(body, len);
		break;
	case 1:
		fuzz_proppatch(body, len);
		break;
	default:
		fuzz_lockinfo(body, len);
		break;
	}
	g_free(body);
	return 0;
}
