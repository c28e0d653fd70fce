/* DAV request bodies: propfind, propertyupdate and lockinfo (RFC 4918 14).
 * Pure: bytes in, structures out. Parsing is strict and closed to the
 * outside world: no network, no DTD (a document with one is refused, so no
 * entity can expand), namespaces must be well-formed. */
#include "dav/dav-private.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <string.h>

#if LIBXML_VERSION >= 21200
static void ignore_error(void *ctx, const xmlError *error)
#else
static void ignore_error(void *ctx, xmlError *error)
#endif
{
}

static xmlDoc *parse(const char *body, size_t len, struct ox_error *err)
{
	/* libxml2 reports some errors (a failed encoding conversion) outside
	 * the parser context, where XML_PARSE_NOERROR does not reach, to this
	 * thread's handler: by default stderr, which a client must not be able
	 * to write to. */
	xmlSetStructuredErrorFunc(NULL, ignore_error);
	if (len > DAV_XML_BODY_MAX || len > INT_MAX) {
		ox_error_set(err, OX_ERR_LIMIT, "XML body too large");
		return NULL;
	}
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		ox_error_set(err, OX_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL,
	                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                                        XML_PARSE_NOCDATA);
	bool ok = doc != NULL && ctxt->wellFormed && ctxt->nsWellFormed;
	xmlFreeParserCtxt(ctxt);
	/* A DTD could declare entities; WebDAV bodies never need one. */
	if (ok && (doc->intSubset != NULL || doc->extSubset != NULL))
		ok = false;
	if (!ok) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		ox_error_set(err, OX_ERR_INVALID, "malformed XML body");
		return NULL;
	}
	return doc;
}

static bool is_dav(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, DAV_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *dav_root(xmlDoc *doc, const char *name, struct ox_error *err)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!is_dav(root, name)) {
		ox_error_set(err, OX_ERR_INVALID, "expected a DAV:%s element", name);
		return NULL;
	}
	return root;
}

static const char *node_ns(const xmlNode *n)
{
	return n->ns != NULL && n->ns->href != NULL ? (const char *)n->ns->href : "";
}

static void prop_names(xmlNode *prop, GArray *out)
{
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		struct dav_prop_name pn = {g_strdup(node_ns(c)), g_strdup((const char *)c->name)};
		g_array_append_val(out, pn);
	}
}

static void prop_name_clear(gpointer p)
{
	struct dav_prop_name *pn = p;
	g_free(pn->ns);
	g_free(pn->name);
}

int dav_parse_propfind(const char *body, size_t len, struct dav_propfind *pf_r,
                       struct ox_error *err)
{
	pf_r->kind = DAV_PROPFIND_ALLPROP;
	pf_r->props = g_array_new(FALSE, TRUE, sizeof(struct dav_prop_name));
	g_array_set_clear_func(pf_r->props, prop_name_clear);
	if (body == NULL || len == 0)
		return 0;
	xmlDoc *doc = parse(body, len, err);
	if (doc == NULL)
		return -1;
	int ret = -1;
	xmlNode *root = dav_root(doc, "propfind", err);
	xmlNode *first = root != NULL ? dav_xml_element(root->children) : NULL;
	if (root == NULL)
		goto out;
	if (is_dav(first, "allprop")) {
		xmlNode *inc = dav_xml_element(first->next);
		if (is_dav(inc, "include"))
			prop_names(inc, pf_r->props);
	} else if (is_dav(first, "propname")) {
		pf_r->kind = DAV_PROPFIND_PROPNAME;
	} else if (is_dav(first, "prop")) {
		pf_r->kind = DAV_PROPFIND_PROP;
		prop_names(first, pf_r->props);
	} else {
		ox_error_set(err, OX_ERR_INVALID, "propfind needs allprop, propname or prop");
		goto out;
	}
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}

void dav_propfind_clear(struct dav_propfind *pf)
{
	if (pf->props != NULL)
		g_array_unref(pf->props);
	pf->props = NULL;
}

/* The element as standalone XML text: copying it into a document of its
 * own declares, on the copy, the namespaces it uses that the client
 * declared on its ancestors. */
static char *serialize(xmlNode *n)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *copy = xmlDocCopyNode(n, doc, 1);
	char *text = NULL;
	if (copy != NULL) {
		xmlDocSetRootElement(doc, copy);
		xmlBuffer *buf = xmlBufferCreate();
		if (buf != NULL && xmlNodeDump(buf, doc, copy, 0, 0) >= 0)
			text = g_strdup((const char *)xmlBufferContent(buf));
		if (buf != NULL)
			xmlBufferFree(buf);
	}
	xmlFreeDoc(doc);
	return text;
}

static void prop_op_clear(gpointer p)
{
	struct dav_prop_op *op = p;
	g_free(op->ns);
	g_free(op->name);
	g_free(op->value);
}

void dav_prop_ops_free(GArray **ops)
{
	if (*ops != NULL)
		g_array_unref(*ops);
	*ops = NULL;
}

static int add_ops(xmlNode *action, bool set, GArray *ops, struct ox_error *err)
{
	xmlNode *prop = dav_xml_element(action->children);
	if (!is_dav(prop, "prop") || dav_xml_element(prop->next) != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "set and remove hold one DAV:prop");
	for (xmlNode *c = dav_xml_element(prop->children); c != NULL;
	     c = dav_xml_element(c->next)) {
		struct dav_prop_op op = {g_strdup(node_ns(c)), g_strdup((const char *)c->name),
		                         NULL};
		if (set && (op.value = serialize(c)) == NULL) {
			prop_op_clear(&op);
			return ox_error_set(err, OX_ERR_INTERNAL, "cannot serialise a property");
		}
		g_array_append_val(ops, op);
	}
	return 0;
}

int dav_parse_proppatch(const char *body, size_t len, GArray **ops_r, struct ox_error *err)
{
	*ops_r = NULL;
	if (body == NULL || len == 0)
		return ox_error_set(err, OX_ERR_INVALID, "PROPPATCH needs a body");
	xmlDoc *doc = parse(body, len, err);
	if (doc == NULL)
		return -1;
	GArray *ops = g_array_new(FALSE, TRUE, sizeof(struct dav_prop_op));
	g_array_set_clear_func(ops, prop_op_clear);
	xmlNode *root = dav_root(doc, "propertyupdate", err);
	int ret = root != NULL ? 0 : -1;
	for (xmlNode *c = root != NULL ? dav_xml_element(root->children) : NULL;
	     ret == 0 && c != NULL; c = dav_xml_element(c->next)) {
		if (is_dav(c, "set") || is_dav(c, "remove"))
			ret = add_ops(c, is_dav(c, "set"), ops, err);
		else
			ret = ox_error_set(err, OX_ERR_INVALID,
			                   "propertyupdate holds set and remove");
	}
	if (ret == 0 && ops->len == 0)
		ret = ox_error_set(err, OX_ERR_INVALID, "propertyupdate changes nothing");
	xmlFreeDoc(doc);
	if (ret < 0)
		g_array_unref(ops);
	else
		*ops_r = ops;
	return ret;
}

int dav_parse_lockinfo(const char *body, size_t len, struct dav_lockinfo *li_r,
                       struct ox_error *err)
{
	memset(li_r, 0, sizeof(*li_r));
	xmlDoc *doc = parse(body, len, err);
	if (doc == NULL)
		return -1;
	xmlNode *root = dav_root(doc, "lockinfo", err);
	bool scope = false, type = false;
	int ret = root != NULL ? 0 : -1;
	for (xmlNode *c = root != NULL ? dav_xml_element(root->children) : NULL;
	     ret == 0 && c != NULL; c = dav_xml_element(c->next)) {
		xmlNode *v = dav_xml_element(c->children);
		if (is_dav(c, "lockscope") && (is_dav(v, "exclusive") || is_dav(v, "shared"))) {
			li_r->exclusive = is_dav(v, "exclusive");
			scope = true;
		} else if (is_dav(c, "locktype") && is_dav(v, "write")) {
			type = true;
		} else if (is_dav(c, "owner")) {
			g_free(li_r->owner);
			li_r->owner = serialize(c);
		} else {
			ret = ox_error_set(err, OX_ERR_INVALID, "unexpected element in lockinfo");
		}
	}
	if (ret == 0 && (!scope || !type))
		ret = ox_error_set(err, OX_ERR_INVALID,
		                   "lockinfo needs a lockscope and a write locktype");
	xmlFreeDoc(doc);
	if (ret < 0) {
		g_free(li_r->owner);
		li_r->owner = NULL;
	}
	return ret;
}

char *dav_xml_escape(const char *text)
{
	/* Most values (ETags, content types, names) need nothing escaped:
	 * printable ASCII without markup characters is copied as it is. */
	const char *p = text;
	while (*p >= 0x20 && *p < 0x7f && *p != '<' && *p != '>' && *p != '&' && *p != '\'' &&
	       *p != '"')
		p++;
	return *p == '\0' ? g_strdup(text) : g_markup_escape_text(text, -1);
}

void dav_xml_append_escaped(GString *out, const char *text)
{
	/* Runs of plain text go in whole; the markup characters as entities
	 * (quotes too: the text may end up in an attribute). */
	const char *run = text;
	for (const char *p = text;; p++) {
		const char *entity = NULL;
		switch (*p) {
		case '<':
			entity = "&lt;";
			break;
		case '>':
			entity = "&gt;";
			break;
		case '&':
			entity = "&amp;";
			break;
		case '\'':
			entity = "&apos;";
			break;
		case '"':
			entity = "&quot;";
			break;
		default:
			break;
		}
		if (entity == NULL && *p != '\0' &&
		    ((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r'))
			continue;
		g_string_append_len(out, run, p - run);
		if (*p == '\0')
			return;
		if (entity != NULL) {
			g_string_append(out, entity);
		} else {
			/* Other controls cannot be in XML 1.0 at all: as g_markup
			 * would, a character reference. */
			g_string_append_printf(out, "&#x%x;", (unsigned)(unsigned char)*p);
		}
		run = p + 1;
	}
}

void *dav_xml_parse(const char *body, size_t len, struct ox_error *err)
{
	if (body == NULL || len == 0) {
		ox_error_set(err, OX_ERR_INVALID, "an XML body is needed");
		return NULL;
	}
	return parse(body, len, err);
}

bool dav_xml_is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

xmlNode *dav_xml_element(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

char *dav_xml_attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *copy = v != NULL ? g_strdup((const char *)v) : NULL;
	xmlFree(v);
	return copy;
}
