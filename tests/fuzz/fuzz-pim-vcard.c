/* libFuzzer target for the vCard reader (pim-contact-vcard.c) and what
 * reads stored cards property by property (partial retrieval and
 * filters on the text, pim-contact-query.c).
 *
 * Input: a PUT body, read from an exact-size heap copy so that ASan
 * catches a read past its end. A card the reader accepts must satisfy
 * what the index promises: a version of 3.0 or 4.0, a non-empty UID, FN
 * and N present, UTF-8 values; and reading it again gives the same index
 * (the stored text is what later queries see). On any text, a partial
 * card selected again is the same partial card, and a filter's answer
 * does not depend on the order of its tests. An accepted card converts
 * to vCard 3.0 and 4.0, each result accepted again with the same UID,
 * and converting it back and forth once more changes nothing. */
#include "core/error.h"
#include "pim/pim-contact-private.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz-pim-vcard: %s\n", what);
	abort();
}

static void check_text(const char *s)
{
	if (s == NULL || !g_utf8_validate(s, -1, NULL))
		die("an indexed value is missing or not UTF-8");
}

/* Selection and matching over the text as stored (NUL-terminated). */
static void check_stored(const char *text)
{
	struct pim_vcard_select sel[] = {{"EMAIL", false}, {"TEL", true}, {"ITEM1.ADR", false}};
	char *part = pim_vcard_select(text, sel, G_N_ELEMENTS(sel));
	char *again = pim_vcard_select(part, sel, G_N_ELEMENTS(sel));
	if (strcmp(part, again) != 0)
		die("a partial card selected again differs");
	g_free(again);
	g_free(part);
	struct pim_contact_text_match m = {"a", PIM_CONTACT_COLL_UNICODE_CASEMAP,
	                                   PIM_CONTACT_MATCH_CONTAINS, false};
	struct pim_contact_param_filter type = {"TYPE", false, &m};
	struct pim_contact_prop_filter filters[] = {
		{.name = "EMAIL",
	         .allof = true,
	         .matches = &m,
	         .n_matches = 1,
	         .params = &type,
	         .n_params = 1},
		{.name = "X-A.NOTE", .is_not_defined = true},
	};
	struct pim_contact_prop_filter reversed[] = {filters[1], filters[0]};
	struct pim_contact_query q = {.allof = true, .filters = filters, .n_filters = 2};
	struct pim_contact_query r = {.allof = true, .filters = reversed, .n_filters = 2};
	if (pim_contact_matches_text(text, &q) != pim_contact_matches_text(text, &r))
		die("a filter's answer depends on the order of its tests");
	(void)pim_vcard_version(text);
}

/* Conversion (pim_vcard_convert) of an accepted card to each version;
 * a result the converter refuses must be refused for a limit only. */
static void check_convert(const char *text, const char *uid)
{
	for (int version = 3; version <= 4; version++) {
		struct ox_error err = {0};
		char *out = pim_vcard_convert(text, version, &err);
		if (out == NULL) {
			if (err.code != OX_ERR_LIMIT)
				die("an accepted card does not convert");
			continue;
		}
		struct pim_vcard_index idx;
		if (pim_vcard_index(out, strlen(out), &idx, &err) < 0)
			die("a converted card is refused");
		if (idx.version[0] - '0' != version || strcmp(idx.uid, uid) != 0)
			die("a converted card has another version or UID");
		pim_vcard_index_clear(&idx);
		char *back = pim_vcard_convert(out, version == 3 ? 4 : 3, &err);
		char *again = back != NULL ? pim_vcard_convert(back, version, &err) : NULL;
		if (back != NULL && again == NULL && err.code != OX_ERR_LIMIT)
			die("a converted card does not convert back");
		g_free(again);
		g_free(back);
		g_free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	struct pim_vcard_index idx, again;
	struct ox_error err = {0};
	if (pim_vcard_index(copy, size, &idx, &err) == 0) {
		if (strcmp(idx.version, "3.0") != 0 && strcmp(idx.version, "4.0") != 0)
			die("an accepted version other than 3.0 and 4.0");
		if (idx.uid == NULL || *idx.uid == '\0')
			die("an accepted card without UID");
		check_text(idx.fn);
		check_text(idx.n);
		check_text(idx.emails);
		check_text(idx.tels);
		if (pim_vcard_index(copy, size, &again, &err) < 0 ||
		    strcmp(idx.uid, again.uid) != 0 || strcmp(idx.fn, again.fn) != 0 ||
		    strcmp(idx.emails, again.emails) != 0)
			die("a second reading differs");
		pim_vcard_index_clear(&again);
		char *card = g_strndup(copy, size);
		check_convert(card, idx.uid);
		g_free(card);
		pim_vcard_index_clear(&idx);
	} else if (err.code != OX_ERR_INVALID && err.code != OX_ERR_LIMIT) {
		die("a refusal with an unexpected code");
	}
	char *text = g_strndup(copy, size);
	check_stored(text);
	g_free(text);
	free(copy);
	return 0;
}
