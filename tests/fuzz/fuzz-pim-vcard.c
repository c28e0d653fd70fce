/* libFuzzer target for the vCard reader (pim-contact-vcard.c).
 *
 * Input: a PUT body, read from an exact-size heap copy so that ASan
 * catches a read past its end. A card the reader accepts must satisfy
 * what the index promises: a version of 3.0 or 4.0, a non-empty UID, FN
 * and N present, UTF-8 values; and reading it again gives the same index
 * (the stored text is what later queries see). */
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
		pim_vcard_index_clear(&idx);
	} else if (err.code != OX_ERR_INVALID && err.code != OX_ERR_LIMIT) {
		die("a refusal with an unexpected code");
	}
	free(copy);
	return 0;
}
