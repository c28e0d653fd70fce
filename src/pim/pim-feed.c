/* ICS feeds: a calendar published read-only to whoever holds a secret
 * URL. The token is 256 random bits; `calendar_feeds` keeps its SHA-256
 * only, so a copy of the database opens no feed, and a look-up by hash
 * compares no secret byte by byte. A feed has no rights of its own: every
 * fetch asks folder_check() whether its creator may still read the whole
 * calendar. */
#include "core/error.h"
#include "directory/auth.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

G_STATIC_ASSERT(PIM_FEED_TOKEN_LEN == AUTH_TOKEN_LEN);

/* How stale last_used may get: a feed is polled often, and a write per
 * fetch would cost more than the figure is worth. */
#define FEED_USE_GRANULARITY 60

#define FEED_COLUMNS "id, folder_id, created_by, created, last_used"

static int64_t now_seconds(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static void read_feed(struct store_stmt *st, struct pim_feed *feed)
{
	feed->id = store_col_int(st, 0);
	feed->folder_id = store_col_int(st, 1);
	feed->created_by = store_col_int(st, 2);
	feed->created = store_col_int(st, 3);
	feed->last_used = store_col_int(st, 4);
}

static bool is_calendar_module(enum folder_module m)
{
	return m == FOLDER_CALENDAR || m == FOLDER_TASKS;
}

/* Whether text has the shape of a token: base64url without padding. Only
 * the shape is checked; an unknown token costs one indexed look-up. */
static bool token_shaped(const char *token)
{
	if (token == NULL || strlen(token) != PIM_FEED_TOKEN_LEN)
		return false;
	for (const char *p = token; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return false;
	}
	return true;
}

static char *token_hash(const char *token)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
}

static int skip_change(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	return 0;
}

/* The calendar folder_id as `viewer` sees it, with its newest modseq: 1,
 * 0 (absent, invisible, or not a calendar), -1. */
static int calendar_of(struct store *s, int64_t viewer, int64_t folder_id,
                       struct pim_calendar *cal_r, struct ox_error *err)
{
	memset(cal_r, 0, sizeof(*cal_r));
	struct folder_info f;
	int r = folder_get(s, viewer, folder_id, &f, err);
	if (r <= 0)
		return r;
	/* A schedule inbox holds messages to its owner, not a calendar. */
	bool inbox = f.role != NULL && strcmp(f.role, "schedule-inbox") == 0;
	if (is_calendar_module(f.module) && !inbox) {
		cal_r->folder_id = f.id;
		cal_r->owner_id = f.owner_id;
		cal_r->segment = g_strdup_printf("%" G_GINT64_FORMAT, f.id);
		cal_r->display_name = g_strdup(f.name);
		cal_r->components = f.module == FOLDER_TASKS ? PIM_COMP_VTODO : PIM_COMP_VEVENT;
		cal_r->shared = f.shared;
		cal_r->rights = f.rights;
		/* The same modseq as CalDAV's getctag: the folder's newest
		 * change, its objects' or its own. */
		r = changes_since(s, f.id, INT64_MAX, skip_change, NULL, &cal_r->modseq, err) < 0
		            ? -1
		            : 1;
	} else {
		r = 0;
	}
	folder_info_clear(&f);
	if (r <= 0)
		pim_calendar_clear(cal_r);
	return r;
}

/* A calendar the actor administers: 0, or -1 with OX_ERR_NOT_FOUND (no
 * calendar the actor sees), OX_ERR_PERM or a store error. */
static int check_admin(struct store *s, int64_t actor, int64_t folder_id, struct ox_error *err)
{
	struct pim_calendar cal;
	int r = calendar_of(s, actor, folder_id, &cal, err);
	pim_calendar_clear(&cal);
	if (r == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such calendar");
	if (r < 0)
		return -1;
	return folder_check(s, actor, folder_id, FOLDER_ADMIN, 0, err);
}

static int count_feeds(struct store *s, int64_t folder_id, int64_t *count_r, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT COUNT(*) FROM calendar_feeds WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	*count_r = r > 0 ? store_col_int(st, 0) : 0;
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

int pim_feed_create(struct store *s, int64_t actor, int64_t folder_id,
                    char token_r[PIM_FEED_TOKEN_LEN + 1], struct pim_feed *feed_r,
                    struct ox_error *err)
{
	memset(feed_r, 0, sizeof(*feed_r));
	token_r[0] = '\0';
	/* The feed will read as its creator: someone who may read only their
	 * own objects would publish a part, and the feed could not tell. */
	int64_t count = 0;
	if (check_admin(s, actor, folder_id, err) < 0 ||
	    folder_check(s, actor, folder_id, FOLDER_READ_OBJECT, 0, err) < 0 ||
	    count_feeds(s, folder_id, &count, err) < 0)
		return -1;
	if (count >= PIM_FEEDS_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "a calendar has at most %d feeds",
		                    PIM_FEEDS_MAX);
	char token[PIM_FEED_TOKEN_LEN + 1];
	auth_random_token(token);
	char *hash = token_hash(token);
	int64_t now = now_seconds();
	struct store_stmt *st = store_prepare(s,
	                                      "INSERT INTO calendar_feeds (token_hash, folder_id, "
	                                      "created_by, created) VALUES ($1, $2, $3, $4) "
	                                      "RETURNING id",
	                                      err);
	int r = -1;
	if (st != NULL) {
		store_bind_text(st, 1, hash);
		store_bind_int(st, 2, folder_id);
		store_bind_int(st, 3, actor);
		store_bind_int(st, 4, now);
		r = store_step(st, err);
		if (r > 0)
			feed_r->id = store_col_int(st, 0);
		store_stmt_done(&st);
	}
	g_free(hash);
	if (r <= 0) {
		explicit_bzero(token, sizeof(token));
		return r == 0 ? ox_error_set(err, OX_ERR_INTERNAL, "no id for the new feed") : -1;
	}
	feed_r->folder_id = folder_id;
	feed_r->created_by = actor;
	feed_r->created = now;
	memcpy(token_r, token, sizeof(token));
	explicit_bzero(token, sizeof(token));
	return 0;
}

int pim_feed_list(struct store *s, int64_t actor, int64_t folder_id, struct pim_feed **list_r,
                  size_t *count_r, struct ox_error *err)
{
	*list_r = NULL;
	*count_r = 0;
	if (check_admin(s, actor, folder_id, err) < 0)
		return -1;
	struct store_stmt *st = store_prepare(
		s, "SELECT " FEED_COLUMNS " FROM calendar_feeds WHERE folder_id = $1 ORDER BY id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	GArray *list = g_array_new(FALSE, TRUE, sizeof(struct pim_feed));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct pim_feed feed;
		read_feed(st, &feed);
		g_array_append_val(list, feed);
	}
	store_stmt_done(&st);
	if (r < 0) {
		g_array_free(list, TRUE);
		return -1;
	}
	*count_r = list->len;
	*list_r = (struct pim_feed *)(void *)g_array_free(list, FALSE);
	return 0;
}

/* A feed by id: 1, 0, -1. */
static int load_feed(struct store *s, int64_t feed_id, struct pim_feed *feed_r,
                     struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT " FEED_COLUMNS " FROM calendar_feeds WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, feed_id);
	int r = store_step(st, err);
	if (r > 0)
		read_feed(st, feed_r);
	store_stmt_done(&st);
	return r;
}

int pim_feed_revoke(struct store *s, int64_t actor, int64_t feed_id, struct pim_feed *feed_r,
                    struct ox_error *err)
{
	struct pim_feed feed = {0};
	int r = load_feed(s, feed_id, &feed, err);
	if (r < 0)
		return -1;
	if (r == 0 || check_admin(s, actor, feed.folder_id, err) < 0) {
		if (r > 0 && err->code != OX_ERR_NOT_FOUND && err->code != OX_ERR_PERM)
			return -1;
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such feed");
	}
	struct store_stmt *st = store_prepare(s, "DELETE FROM calendar_feeds WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, feed_id);
	r = store_run(st, err);
	bool gone = r == 0 && store_changes(st) > 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	if (!gone) /* revoked meanwhile by someone else */
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such feed");
	if (feed_r != NULL)
		*feed_r = feed;
	return 0;
}

/* The feed of a token hash whose creator and their context are enabled:
 * 1, 0, -1. A deleted creator took their feeds along (ON DELETE CASCADE). */
static int feed_by_hash(struct store *s, const char *hash, struct pim_feed *feed_r,
                        struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT f.id, f.folder_id, f.created_by, f.created, f.last_used "
	                      "FROM calendar_feeds f JOIN principals p ON p.id = f.created_by "
	                      "JOIN contexts c ON c.id = p.context_id "
	                      "WHERE f.token_hash = $1 AND p.enabled = 1 AND c.enabled = 1",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, hash);
	int r = store_step(st, err);
	if (r > 0)
		read_feed(st, feed_r);
	store_stmt_done(&st);
	return r;
}

/* Best effort: a store too busy to note the use still serves the feed. */
static void note_use(struct store *s, struct pim_feed *feed)
{
	int64_t now = now_seconds();
	if (now - feed->last_used < FEED_USE_GRANULARITY)
		return;
	struct ox_error err;
	struct store_stmt *st =
		store_prepare(s, "UPDATE calendar_feeds SET last_used = $2 WHERE id = $1", &err);
	if (st == NULL)
		return;
	store_bind_int(st, 1, feed->id);
	store_bind_int(st, 2, now);
	if (store_run(st, &err) == 0)
		feed->last_used = now;
	store_stmt_done(&st);
}

int pim_feed_resolve(struct store *s, const char *token, struct pim_feed *feed_r,
                     struct pim_calendar *cal_r, struct ox_error *err)
{
	memset(feed_r, 0, sizeof(*feed_r));
	memset(cal_r, 0, sizeof(*cal_r));
	if (!token_shaped(token))
		return 0;
	char *hash = token_hash(token);
	int r = feed_by_hash(s, hash, feed_r, err);
	g_free(hash);
	if (r <= 0)
		return r;
	/* The creator's rights are the feed's: reading every object, now. */
	struct ox_error denied = {0};
	if (folder_check(s, feed_r->created_by, feed_r->folder_id, FOLDER_READ_OBJECT, 0, &denied) <
	    0) {
		if (denied.code != OX_ERR_NOT_FOUND && denied.code != OX_ERR_PERM) {
			*err = denied;
			return -1;
		}
		memset(feed_r, 0, sizeof(*feed_r));
		return 0;
	}
	r = calendar_of(s, feed_r->created_by, feed_r->folder_id, cal_r, err);
	if (r > 0)
		note_use(s, feed_r);
	if (r <= 0) {
		pim_calendar_clear(cal_r);
		memset(feed_r, 0, sizeof(*feed_r));
	}
	return r;
}
