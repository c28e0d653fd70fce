/* Which folder a URL segment of a calendar or address-book home names:
 * calendars and address books resolve their segments alike. */
#include "pim/pim-private.h"

#include "folder/folder.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

int pim_segment_folder(struct store *s, enum pim_segment_table table, int64_t owner,
                       const char *segment, int64_t *id_r, struct ox_error *err)
{
	size_t len = strlen(segment);
	if (len > 0 && strspn(segment, "0123456789") == len) {
		if (len > 18)
			return 0;
		*id_r = g_ascii_strtoll(segment, NULL, 10);
		return 1;
	}
	/* Two statements, not one with the table as a parameter: SQL names
	 * no table by parameter. */
	struct store_stmt *st = store_prepare(
		s,
		table == PIM_SEGMENT_CALENDARS
			? "SELECT folder_id FROM calendars WHERE owner_id = $1 AND segment = $2"
			: "SELECT folder_id FROM addressbooks WHERE owner_id = $1 AND segment = $2",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, owner);
	store_bind_text(st, 2, segment);
	int r = store_step(st, err);
	if (r > 0)
		*id_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r != 0 ? r : folder_by_role(s, owner, segment, id_r, err);
}
