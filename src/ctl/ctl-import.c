/* import and export: iCalendar and vCard files into and out of a calendar
 * or an address book, acting as a user so the folder permissions apply.
 *
 * An import reads the file as it goes and stores each object in its own
 * transaction through the pim services, so a refused entry is reported
 * (`oxctl: FILE:LINE: reason`) and skipped while the others stay. An .ics
 * is read twice: the first pass notes where each component starts and
 * ends, grouped by UID (a master and its overrides may be apart), and
 * where each VTIMEZONE is; the second reads one object's components back
 * and stores it with the time zones it names. Only the index is held,
 * never more than one object's text. */
#include "ctl/ctl.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "pim/pim-contact.h"
#include "pim/pim.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

/* --- the folder --- */

struct target {
	int64_t actor, folder_id;
	bool is_book;
	struct pim_calendar cal;
	struct pim_addressbook book;
	bool found;
};

static int match_calendar(const struct pim_calendar *cal, void *ctx)
{
	struct target *t = ctx;
	if (t->found || cal->folder_id != t->folder_id)
		return 0;
	t->cal = *cal;
	t->cal.segment = g_strdup(cal->segment);
	t->cal.display_name = g_strdup(cal->display_name);
	t->found = true;
	return 0;
}

static int match_book(const struct pim_addressbook *book, void *ctx)
{
	struct target *t = ctx;
	if (t->found || book->global || book->folder_id != t->folder_id)
		return 0;
	t->book = *book;
	t->book.segment = g_strdup(book->segment);
	t->book.display_name = g_strdup(book->display_name);
	t->found = t->is_book = true;
	return 0;
}

static void target_clear(struct target *t)
{
	pim_calendar_clear(&t->cal);
	pim_addressbook_clear(&t->book);
}

/* The user LOGIN and the calendar or address book FOLDER_ID as they see it. */
static int target_load(struct ctl *c, struct target *t)
{
	const char *login = ctl_arg(c, "LOGIN");
	memset(t, 0, sizeof(*t));
	if (ctl_parse_id(c, "folder id", ctl_arg(c, "FOLDER_ID"), &t->folder_id) < 0)
		return -1;
	if (ctl_store(c) == NULL)
		return -2;
	struct user_info info;
	int found = user_lookup(c->store, login, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (found <= 0)
		return -1;
	t->actor = info.id;
	user_info_clear(&info);
	if (pim_calendar_list(c->store, t->actor, t->actor, match_calendar, t, &c->err) < 0 ||
	    (!t->found &&
	     pim_addressbook_list(c->store, t->actor, t->actor, match_book, t, &c->err) < 0))
		return -1;
	if (!t->found)
		return ox_error_set(&c->err, OX_ERR_NOT_FOUND,
		                    "folder %" G_GINT64_FORMAT
		                    ": no calendar, task list or address book %s sees",
		                    t->folder_id, login);
	return 0;
}

/* --- reading content lines --- */

#define LINE_MAX_BYTES (PIM_OBJECT_MAX + 1024)

/* Logical lines (folded lines joined) with where they are in the file. */
struct reader {
	FILE *f;
	int64_t pos;      /* bytes read so far */
	long phys_lineno; /* physical lines read so far */
	GString *peek;    /* the next physical line, raw */
	bool peek_valid, peek_long;
	long peek_lineno;
	int64_t peek_off;
	/* The current logical line. */
	GString *text; /* unfolded, without line ending */
	GString *raw;  /* as in the file, with its line endings */
	long lineno;
	int64_t off, end;
	bool too_long;
};

static void reader_init(struct reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->peek = g_string_new(NULL);
	r->text = g_string_new(NULL);
	r->raw = g_string_new(NULL);
}

static void reader_clear(struct reader *r)
{
	g_string_free(r->peek, TRUE);
	g_string_free(r->text, TRUE);
	g_string_free(r->raw, TRUE);
}

/* Reads one physical line into r->peek; false at the end of the file. */
static bool read_physical(struct reader *r)
{
	g_string_truncate(r->peek, 0);
	r->peek_long = false;
	r->peek_off = r->pos;
	int ch;
	while ((ch = getc_unlocked(r->f)) != EOF) {
		r->pos++;
		if (r->peek->len < LINE_MAX_BYTES)
			g_string_append_c(r->peek, (char)ch);
		else
			r->peek_long = true;
		if (ch == '\n')
			break;
	}
	if (r->pos == r->peek_off)
		return r->peek_valid = false;
	r->peek_lineno = ++r->phys_lineno;
	return r->peek_valid = true;
}

static void strip_ending(const char *raw, size_t len, const char **text_r, size_t *len_r)
{
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		len--;
	*text_r = raw;
	*len_r = len;
}

/* The next logical line; false at the end of the file. */
static bool read_line(struct reader *r)
{
	if (!r->peek_valid && !read_physical(r))
		return false;
	g_string_truncate(r->text, 0);
	g_string_truncate(r->raw, 0);
	r->lineno = r->peek_lineno;
	r->off = r->peek_off;
	r->too_long = false;
	bool first = true;
	do {
		const char *t;
		size_t n;
		strip_ending(r->peek->str, r->peek->len, &t, &n);
		if (!first) {
			t++;
			n--;
		}
		if (r->text->len + n > LINE_MAX_BYTES || r->peek_long)
			r->too_long = true;
		else
			g_string_append_len(r->text, t, (gssize)n);
		if (r->raw->len + r->peek->len <= LINE_MAX_BYTES)
			g_string_append_len(r->raw, r->peek->str, (gssize)r->peek->len);
		else
			r->too_long = true;
		r->end = r->pos;
		first = false;
	} while (read_physical(r) && (r->peek->str[0] == ' ' || r->peek->str[0] == '\t'));
	return true;
}

/* The property name of a content line (upper-cased into name, "" when
 * the line has none) and where its parameters and its value start. */
static void split_line(const char *line, char *name, size_t size, const char **params_r,
                       const char **value_r)
{
	size_t i = 0;
	for (; line[i] != '\0' && line[i] != ':' && line[i] != ';'; i++) {
		if (i + 1 < size)
			name[i] = g_ascii_toupper(line[i]);
	}
	name[i < size ? i : size - 1] = '\0';
	*params_r = line + i;
	bool quoted = false;
	const char *p = line + i;
	for (; *p != '\0' && (quoted || *p != ':'); p++) {
		if (*p == '"')
			quoted = !quoted;
	}
	*value_r = *p == ':' ? p + 1 : p;
}

static bool is_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!g_ascii_isspace(*s))
			return false;
	}
	return true;
}

/* A resource name from a UID: the UID itself when it is plain, else its
 * SHA-1. Importing the same file again replaces the same objects. */
static char *object_name(const char *uid, const char *data, size_t len, const char *ext)
{
	bool plain = uid != NULL && *uid != '\0' && strlen(uid) <= 200;
	for (const char *p = uid; plain && *p != '\0'; p++)
		plain = g_ascii_isalnum(*p) || strchr("-_.@", *p) != NULL;
	if (plain)
		return g_strconcat(uid, ext, NULL);
	char *sum =
		uid != NULL && *uid != '\0'
			? g_compute_checksum_for_string(G_CHECKSUM_SHA1, uid, -1)
			: g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)data, len);
	char *name = g_strconcat(sum, ext, NULL);
	g_free(sum);
	return name;
}

/* --- one import --- */

struct import {
	struct ctl *c;
	struct target *t;
	const char *path;
	int imported, skipped;
	int code; /* set when storing failed for a reason of the store */
};

static void report(struct import *im, long line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void report(struct import *im, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "oxctl: %s:%ld: %s\n", im->path, line, reason);
	g_free(reason);
	im->skipped++;
}

/* Stores one object; a refusal of the text is reported and skipped,
 * anything else stops the import. */
static void store_one(struct import *im, long line, const char *uid, const char *data, size_t len)
{
	struct ctl *c = im->c;
	char *name = object_name(uid, data, len, im->t->is_book ? ".vcf" : ".ics");
	bool created;
	int r;
	bool refused;
	memset(&c->err, 0, sizeof(c->err));
	if (im->t->is_book) {
		struct pim_contact obj;
		enum pim_contact_reject reject;
		r = pim_contact_put(c->store, im->t->actor, &im->t->book, name, data, len, &created,
		                    &obj, &reject, &c->err);
		refused = reject != PIM_CONTACT_REJECT_NONE;
		pim_contact_clear(&obj);
	} else {
		struct pim_object obj;
		enum pim_reject reject;
		r = pim_object_put(c->store, im->t->actor, &im->t->cal, name, data, len, &created,
		                   &obj, &reject, &c->err);
		refused = reject != PIM_REJECT_NONE;
		pim_object_clear(&obj);
	}
	g_free(name);
	if (r == 0) {
		im->imported++;
	} else if (refused || c->err.code == OX_ERR_INVALID) {
		if (uid != NULL)
			report(im, line, "UID %s: %s", uid, c->err.message);
		else
			report(im, line, "%s", c->err.message);
	} else {
		fprintf(stderr, "oxctl: %s:%ld: %s\n", im->path, line, c->err.message);
		im->code = ctl_exit_code(c);
	}
}

/* --- vCard --- */

static void import_vcf(struct import *im, FILE *f)
{
	struct reader r;
	reader_init(&r, f);
	GString *card = g_string_new(NULL);
	char *uid = NULL;
	int depth = 0;
	long start = 0, junk = 0;
	bool too_big = false;
	while (im->code == 0 && read_line(&r)) {
		char name[16];
		const char *params, *value;
		split_line(r.text->str, name, sizeof(name), &params, &value);
		bool begin = strcmp(name, "BEGIN") == 0 && g_ascii_strcasecmp(value, "VCARD") == 0;
		bool end = strcmp(name, "END") == 0 && g_ascii_strcasecmp(value, "VCARD") == 0;
		if (depth == 0) {
			if (begin) {
				if (junk != 0)
					report(im, junk, "text outside a vCard");
				junk = 0;
				depth = 1;
				start = r.lineno;
				too_big = r.too_long;
				g_string_assign(card, r.raw->str);
			} else if (!is_blank(r.text->str) && junk == 0) {
				junk = r.lineno;
			}
			continue;
		}
		if (card->len + r.raw->len > PIM_CONTACT_MAX || r.too_long)
			too_big = true;
		else
			g_string_append_len(card, r.raw->str, (gssize)r.raw->len);
		if (depth == 1 && strcmp(name, "UID") == 0 && uid == NULL)
			uid = g_strdup(value);
		if (begin)
			depth++;
		else if (end)
			depth--;
		if (depth > 0)
			continue;
		if (too_big)
			report(im, start, "%s%slarger than %d bytes", uid != NULL ? uid : "",
			       uid != NULL ? ": " : "", PIM_CONTACT_MAX);
		else
			store_one(im, start, uid, card->str, card->len);
		g_clear_pointer(&uid, g_free);
	}
	if (im->code == 0 && depth > 0)
		report(im, start, "the vCard has no END:VCARD");
	if (im->code == 0 && junk != 0)
		report(im, junk, "text outside a vCard");
	g_free(uid);
	g_string_free(card, TRUE);
	reader_clear(&r);
}

/* --- iCalendar --- */

struct ics_comp {
	int64_t off, len;
	GPtrArray *tzids; /* the TZIDs its properties name */
};

/* The components of one UID, or one bad component. */
struct ics_entry {
	char *uid;
	long line;
	GArray *comps; /* struct ics_comp */
	int64_t size;
	char *bad;
	long bad_line;
};

struct ics_zone {
	int64_t off, len;
};

/* The first pass: the index of the file. */
struct ics_index {
	GPtrArray *entries; /* struct ics_entry, in the order of their first component */
	GHashTable *by_uid; /* uid -> struct ics_entry */
	GHashTable *zones;  /* TZID -> struct ics_zone, the first definition */
	char *prodid;
	/* The component being read. */
	GPtrArray *stack; /* names of the open components, outermost first */
	char *uid, *tzid, *bad;
	GPtrArray *tzids;
	long line;
	int64_t off;
	const char *version_bad;
};

static void ics_comp_clear(void *p)
{
	struct ics_comp *comp = p;
	if (comp->tzids != NULL)
		g_ptr_array_unref(comp->tzids);
}

static void ics_entry_free(void *p)
{
	struct ics_entry *e = p;
	g_free(e->uid);
	g_free(e->bad);
	g_array_unref(e->comps);
	g_free(e);
}

static struct ics_entry *ics_entry_new(struct ics_index *x, const char *uid, long line)
{
	struct ics_entry *e = g_new0(struct ics_entry, 1);
	e->uid = g_strdup(uid);
	e->line = line;
	e->comps = g_array_new(FALSE, TRUE, sizeof(struct ics_comp));
	g_array_set_clear_func(e->comps, ics_comp_clear);
	g_ptr_array_add(x->entries, e);
	if (uid != NULL)
		g_hash_table_insert(x->by_uid, e->uid, e);
	return e;
}

static void ics_mark_bad(struct ics_index *x, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void ics_mark_bad(struct ics_index *x, const char *fmt, ...)
{
	if (x->bad != NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	x->bad = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void ics_reset(struct ics_index *x)
{
	g_ptr_array_set_size(x->stack, 0);
	g_clear_pointer(&x->uid, g_free);
	g_clear_pointer(&x->tzid, g_free);
	g_clear_pointer(&x->bad, g_free);
	g_clear_pointer(&x->tzids, g_ptr_array_unref);
}

/* Files the component that ends at `end` under its UID (or its TZID). */
static void ics_finish(struct ics_index *x, int64_t end)
{
	const char *kind = x->stack->pdata[0];
	if (strcmp(kind, "VTIMEZONE") == 0) {
		if (x->bad == NULL && x->tzid != NULL &&
		    !g_hash_table_contains(x->zones, x->tzid)) {
			struct ics_zone *z = g_new(struct ics_zone, 1);
			z->off = x->off;
			z->len = end - x->off;
			g_hash_table_insert(x->zones, g_strdup(x->tzid), z);
		}
		ics_reset(x);
		return;
	}
	if (x->version_bad != NULL)
		ics_mark_bad(x, "iCalendar version %s is not supported", x->version_bad);
	if (x->uid == NULL)
		ics_mark_bad(x, "%s without UID", kind);
	struct ics_entry *e = x->uid != NULL ? g_hash_table_lookup(x->by_uid, x->uid) : NULL;
	if (e == NULL)
		e = ics_entry_new(x, x->uid, x->line);
	struct ics_comp comp = {x->off, end - x->off, x->tzids};
	x->tzids = NULL;
	g_array_append_val(e->comps, comp);
	e->size += comp.len;
	if (x->bad != NULL && e->bad == NULL) {
		e->bad = g_steal_pointer(&x->bad);
		e->bad_line = x->line;
	}
	ics_reset(x);
}

/* Notes the TZID parameter of a property, if any. */
static void ics_note_tzid(struct ics_index *x, const char *params, const char *value)
{
	for (const char *p = params; p < value; p++) {
		if (*p != ';' || g_ascii_strncasecmp(p + 1, "TZID=", 5) != 0)
			continue;
		const char *v = p + 6, *e;
		if (*v == '"') {
			v++;
			e = strchr(v, '"');
		} else {
			e = v + strcspn(v, ";:");
		}
		if (e == NULL || e == v)
			return;
		char *tzid = g_strndup(v, (gsize)(e - v));
		if (x->tzids == NULL)
			x->tzids = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < x->tzids->len; i++) {
			if (strcmp(x->tzids->pdata[i], tzid) == 0) {
				g_free(tzid);
				return;
			}
		}
		g_ptr_array_add(x->tzids, tzid);
		return;
	}
}

/* One line inside a component. */
static void ics_component_line(struct ics_index *x, struct reader *r, const char *name,
                               const char *params, const char *value)
{
	GPtrArray *st = x->stack;
	if (r->too_long)
		ics_mark_bad(x, "a line longer than %d bytes", LINE_MAX_BYTES);
	if (strcmp(name, "BEGIN") == 0) {
		g_ptr_array_add(st, g_ascii_strup(value, -1));
		return;
	}
	if (strcmp(name, "END") == 0) {
		char *want = g_ascii_strup(value, -1);
		guint at = st->len;
		while (at > 0 && strcmp(st->pdata[at - 1], want) != 0)
			at--;
		if (at == 0)
			ics_mark_bad(x, "line %ld: END:%s without BEGIN:%s", r->lineno, want, want);
		else if (at != st->len)
			ics_mark_bad(x, "line %ld: END:%s where END:%s was expected", r->lineno,
			             want, (const char *)st->pdata[st->len - 1]);
		g_free(want);
		if (at == 1)
			ics_finish(x, r->end);
		else if (at > 1)
			g_ptr_array_set_size(st, at - 1);
		return;
	}
	if (st->len == 1 && strcmp(name, "UID") == 0 && x->uid == NULL) {
		if (*value == '\0')
			ics_mark_bad(x, "an empty UID");
		else
			x->uid = g_strdup(value);
	} else if (st->len == 1 && strcmp(name, "TZID") == 0 && x->tzid == NULL) {
		x->tzid = g_strdup(value);
	}
	if (strcmp(st->pdata[0], "VTIMEZONE") != 0)
		ics_note_tzid(x, params, value);
}

static void ics_unterminated(struct ics_index *x, int64_t end)
{
	ics_mark_bad(x, "BEGIN:%s has no END:%s", (const char *)x->stack->pdata[0],
	             (const char *)x->stack->pdata[0]);
	ics_finish(x, end);
}

/* The first pass. Text outside a VCALENDAR is reported here. */
static void ics_scan(struct import *im, struct ics_index *x, FILE *f)
{
	struct reader r;
	reader_init(&r, f);
	bool in_cal = false;
	long junk = 0;
	char *version = NULL;
	while (read_line(&r)) {
		char name[32];
		const char *params, *value;
		split_line(r.text->str, name, sizeof(name), &params, &value);
		bool begin = strcmp(name, "BEGIN") == 0, end = strcmp(name, "END") == 0;
		bool vcalendar = g_ascii_strcasecmp(value, "VCALENDAR") == 0;
		if (x->stack->len > 0 && (begin || end) && vcalendar) {
			ics_unterminated(x, r.off);
		} else if (x->stack->len > 0) {
			ics_component_line(x, &r, name, params, value);
			continue;
		}
		if (!in_cal) {
			if (begin && vcalendar) {
				if (junk != 0)
					report(im, junk, "text outside a VCALENDAR");
				junk = 0;
				in_cal = true;
				x->version_bad = NULL;
			} else if (!is_blank(r.text->str) && junk == 0) {
				junk = r.lineno;
			}
			continue;
		}
		if (begin && !vcalendar) {
			g_ptr_array_add(x->stack, g_ascii_strup(value, -1));
			x->line = r.lineno;
			x->off = r.off;
		} else if (end && vcalendar) {
			in_cal = false;
		} else if (strcmp(name, "PRODID") == 0 && x->prodid == NULL) {
			x->prodid = g_strdup(value);
		} else if (strcmp(name, "VERSION") == 0 && strcmp(value, "2.0") != 0) {
			g_free(version);
			version = g_strdup(value);
			x->version_bad = version;
		}
	}
	if (x->stack->len > 0)
		ics_unterminated(x, r.pos);
	else if (in_cal && junk == 0)
		report(im, r.lineno, "the VCALENDAR has no END:VCALENDAR");
	if (junk != 0)
		report(im, junk, "text outside a VCALENDAR");
	g_free(version);
	reader_clear(&r);
}

static bool read_at(FILE *f, int64_t off, int64_t len, GString *to)
{
	if (fseeko(f, (off_t)off, SEEK_SET) < 0)
		return false;
	gsize at = to->len;
	g_string_set_size(to, at + (gsize)len);
	if (fread(to->str + at, 1, (size_t)len, f) != (size_t)len)
		return false;
	if (len > 0 && to->str[to->len - 1] != '\n')
		g_string_append(to, "\r\n");
	return true;
}

static bool has_string(GPtrArray *list, const char *s)
{
	for (guint i = 0; i < list->len; i++) {
		if (strcmp(list->pdata[i], s) == 0)
			return true;
	}
	return false;
}

/* The second pass: one object at a time. */
static void ics_store(struct import *im, struct ics_index *x, FILE *f)
{
	GString *obj = g_string_new(NULL);
	GPtrArray *zones = g_ptr_array_new();
	for (guint i = 0; im->code == 0 && i < x->entries->len; i++) {
		struct ics_entry *e = x->entries->pdata[i];
		if (e->bad != NULL) {
			if (e->uid != NULL)
				report(im, e->bad_line, "UID %s: %s", e->uid, e->bad);
			else
				report(im, e->bad_line, "%s", e->bad);
			continue;
		}
		g_ptr_array_set_size(zones, 0);
		int64_t size = e->size;
		for (guint k = 0; k < e->comps->len; k++) {
			GPtrArray *tzids = g_array_index(e->comps, struct ics_comp, k).tzids;
			for (guint j = 0; tzids != NULL && j < tzids->len; j++) {
				struct ics_zone *z = g_hash_table_lookup(x->zones, tzids->pdata[j]);
				if (z != NULL && !has_string(zones, tzids->pdata[j])) {
					g_ptr_array_add(zones, tzids->pdata[j]);
					size += z->len;
				}
			}
		}
		if (size > PIM_OBJECT_MAX) {
			report(im, e->line, "UID %s: larger than %d bytes", e->uid, PIM_OBJECT_MAX);
			continue;
		}
		g_string_printf(obj, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:%s\r\n",
		                x->prodid != NULL ? x->prodid : "-//OX Server//oxctl import//EN");
		bool ok = true;
		for (guint j = 0; ok && j < zones->len; j++) {
			struct ics_zone *z = g_hash_table_lookup(x->zones, zones->pdata[j]);
			ok = read_at(f, z->off, z->len, obj);
		}
		for (guint k = 0; ok && k < e->comps->len; k++) {
			struct ics_comp *comp = &g_array_index(e->comps, struct ics_comp, k);
			ok = read_at(f, comp->off, comp->len, obj);
		}
		if (!ok) {
			fprintf(stderr, "oxctl: %s: cannot read it again: %s\n", im->path,
			        ferror(f) ? g_strerror(errno) : "it changed while it was read");
			im->code = CTL_EXIT_TEMP;
			break;
		}
		g_string_append(obj, "END:VCALENDAR\r\n");
		store_one(im, e->line, e->uid, obj->str, obj->len);
	}
	g_ptr_array_unref(zones);
	g_string_free(obj, TRUE);
}

static void import_ics(struct import *im, FILE *f)
{
	struct ics_index x = {0};
	x.entries = g_ptr_array_new_with_free_func(ics_entry_free);
	x.by_uid = g_hash_table_new(g_str_hash, g_str_equal);
	x.zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	x.stack = g_ptr_array_new_with_free_func(g_free);
	ics_scan(im, &x, f);
	ics_store(im, &x, f);
	ics_reset(&x);
	g_ptr_array_unref(x.stack);
	g_hash_table_unref(x.zones);
	g_hash_table_unref(x.by_uid);
	g_ptr_array_unref(x.entries);
	g_free(x.prodid);
}

/* --- the commands --- */

static int cmd_import(struct ctl *c)
{
	const char *path = ctl_arg(c, "FILE");
	struct target t;
	int r = target_load(c, &t);
	if (r < 0) {
		target_clear(&t);
		return r == -2 ? ctl_exit_code(c) : ctl_fail(c);
	}
	if ((t.is_book ? pim_contact_may_put(c->store, t.actor, &t.book, NULL, &c->err)
	               : pim_object_may_put(c->store, t.actor, &t.cal, NULL, &c->err)) < 0) {
		target_clear(&t);
		return ctl_fail(c);
	}
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		target_clear(&t);
		return ctl_error(c, errno == ENOENT ? OX_ERR_NOT_FOUND : OX_ERR_INVALID, "%s: %s",
		                 path, g_strerror(errno));
	}
	struct import im = {c, &t, path, 0, 0, 0};
	if (t.is_book)
		import_vcf(&im, f);
	else
		import_ics(&im, f);
	fclose(f);
	int code = im.code != 0 ? im.code : im.imported == 0 ? CTL_EXIT_INVALID : CTL_EXIT_OK;
	/* Each object was its own transaction; the audit entry sums them up. */
	char *detail = g_strdup_printf(
		"unix_user=%s folder=%" G_GINT64_FORMAT " file=%s imported=%d skipped=%d",
		g_get_user_name(), t.folder_id, path, im.imported, im.skipped);
	audit_log(c->store, "oxctl", "import", ctl_arg(c, "LOGIN"), NULL, code == CTL_EXIT_OK,
	          detail, NULL);
	g_free(detail);
	ctl_printf(c, "imported %d, skipped %d\n", im.imported, im.skipped);
	if (code == CTL_EXIT_INVALID && im.skipped == 0)
		fprintf(stderr, "oxctl: %s: no %s in the file\n", path,
		        t.is_book ? "vCard" : "event or task");
	target_clear(&t);
	return code;
}

struct export
{
	FILE *out;
	int count;
	bool failed;
};

static int export_write(const char *text, size_t len, void *ctx)
{
	struct export *e = ctx;
	if (fwrite(text, 1, len, e->out) != len) {
		e->failed = true;
		return -1;
	}
	return 0;
}

static int export_contact(const struct pim_contact *contact, const char *data, void *ctx)
{
	struct export *e = ctx;
	(void)contact;
	size_t len = strlen(data);
	e->count++;
	if (export_write(data, len, e) < 0 ||
	    (len > 0 && data[len - 1] != '\n' && export_write("\r\n", 2, e) < 0))
		return -1;
	return 0;
}

static int cmd_export(struct ctl *c)
{
	const char *path = ctl_arg(c, "FILE");
	bool to_stdout = path == NULL || strcmp(path, "-") == 0;
	struct target t;
	int r = target_load(c, &t);
	if (r < 0) {
		target_clear(&t);
		return r == -2 ? ctl_exit_code(c) : ctl_fail(c);
	}
	struct export e = {to_stdout ? stdout : fopen(path, "w"), 0, false};
	if (e.out == NULL) {
		target_clear(&t);
		return ctl_error(c, OX_ERR_INVALID, "%s: %s", path, g_strerror(errno));
	}
	r = t.is_book ? pim_contact_query(c->store, t.actor, &t.book, NULL, export_contact, &e,
	                                  NULL, &c->err)
	              : pim_calendar_export(c->store, t.actor, &t.cal, export_write, &e, &c->err);
	bool failed = e.failed || fflush(e.out) != 0 || ferror(e.out);
	if (!to_stdout && fclose(e.out) != 0)
		failed = true;
	target_clear(&t);
	if (failed)
		return ctl_error(c, OX_ERR_TEMP, "%s: %s", to_stdout ? "stdout" : path,
		                 g_strerror(errno));
	if (r < 0)
		return ctl_fail(c);
	if (!to_stdout)
		ctl_printf(c, "exported folder %s to %s\n", ctl_arg(c, "FOLDER_ID"), path);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_import_commands[] = {
	{"import", "LOGIN FOLDER_ID FILE",
         "Import an .ics into a calendar or task list, or a .vcf into an address book, acting "
         "as LOGIN; one object per UID, each stored on its own. Bad entries are reported as "
         "FILE:LINE and skipped; prints the imported and skipped counts. Exit 0 when something "
         "was imported, 3 when no entry could be, 6/7/8 when storing failed.",
         cmd_import, 0},
	{"export", "LOGIN FOLDER_ID [FILE]",
         "Write a calendar or task list as one .ics, or an address book as one .vcf, to FILE "
         "or stdout, as LOGIN sees it.",
         cmd_export, 0},
	{NULL, NULL, NULL, NULL, 0},
};
