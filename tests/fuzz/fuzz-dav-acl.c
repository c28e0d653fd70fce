/* libFuzzer target for the access control bodies (dav-acl-xml.c): the
 * ACL method's DAV:acl and the principal REPORTs.
 *
 * Input: byte 0 picks the parser (even: ACL, odd: principal report); the
 * rest is the body, fed from an exact-size heap copy so that ASan catches
 * a read past it.
 *
 * Besides not crashing or leaking, each parse keeps its contract: a
 * refused ACL leaves no ACEs and sets a fitting error, and names a
 * condition only when a privilege was unknown; an accepted one holds at
 * most DAV_ACL_ACES_MAX ACEs, each with an href exactly when it names one
 * and only privileges this server knows. An accepted search holds 1 to
 * USER_SEARCH_TERMS_MAX terms of bounded text and always properties to
 * answer. */
#include "dav/dav-private.h"
#include "directory/directory.h"
#include "folder/folder.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_PRIVILEGES (dav_privilege_parse(DAV_NS, "all"))

static void die(const char *what)
{
	fprintf(stderr, "fuzz-dav-acl: %s\n", what);
	abort();
}

static void check_acl(const char *body, size_t len)
{
	GArray *aces = (GArray *)(void *)1;
	const char *cond = "unset";
	struct ox_error err = {0};
	int r = dav_parse_acl(body, len, &aces, &cond, &err);
	if (r < 0) {
		if (aces != NULL)
			die("a refused ACL left ACEs");
		if (err.code != OX_ERR_INVALID && err.code != OX_ERR_LIMIT &&
		    err.code != OX_ERR_INTERNAL)
			die("a refused ACL set no fitting error");
		if (cond != NULL && strcmp(cond, "not-supported-privilege") != 0)
			die("an unexpected condition");
		return;
	}
	if (r != 0 || aces == NULL || cond != NULL)
		die("an accepted ACL broke the contract");
	if (aces->len > DAV_ACL_ACES_MAX)
		die("too many ACEs");
	for (guint i = 0; i < aces->len; i++) {
		const struct dav_ace *ace = &g_array_index(aces, struct dav_ace, i);
		if ((ace->kind == DAV_ACE_HREF) != (ace->href != NULL))
			die("an href without an href principal, or the reverse");
		if (ace->privileges & ~KNOWN_PRIVILEGES)
			die("a privilege nobody knows");
	}
	dav_aces_free(&aces);
	if (aces != NULL)
		die("dav_aces_free left the pointer");
}

static void check_report(const char *body, size_t len)
{
	struct dav_principal_report rep;
	struct ox_error err = {0};
	int r = dav_parse_principal_report(body, len, &rep, &err);
	if (r < 0 && err.code != OX_ERR_INVALID && err.code != OX_ERR_LIMIT &&
	    err.code != OX_ERR_INTERNAL)
		die("a refused report set no fitting error");
	if (r > 1)
		die("a parser returned more than 1");
	if (r == 0) {
		if (rep.pf.props->len == 0)
			die("an accepted report has no properties to answer");
		if (rep.kind == DAV_PRINCIPAL_PROPERTY_SEARCH &&
		    (rep.terms->len == 0 || rep.terms->len > USER_SEARCH_TERMS_MAX))
			die("a search with a wrong number of terms");
		for (guint i = 0; i < rep.terms->len; i++) {
			const struct dav_search_term *t =
				&g_array_index(rep.terms, struct dav_search_term, i);
			if (t->text == NULL || strlen(t->text) > DAV_SEARCH_TEXT_MAX)
				die("a search text out of bounds");
			if (t->props & ~(unsigned)(DAV_SEARCH_NAME | DAV_SEARCH_ADDRESS))
				die("a search property nobody knows");
		}
	}
	dav_principal_report_clear(&rep);
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
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *body = malloc(len > 0 ? len : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, len);
	if (data[0] % 2 == 0)
		check_acl(len > 0 ? body : NULL, len);
	else
		check_report(len > 0 ? body : NULL, len);
	free(body);
	return 0;
}
