/* Periodic background work (see housekeeping.h). The timer lives on the
 * main thread's loop, next to the signal handlers; each run goes to
 * libuv's thread pool with a store connection of its own, opened for the
 * run and closed after it, so the loop never blocks on the store and no
 * connection idles between runs that are an hour apart. A run is re-armed
 * when it ends, so runs never overlap however long one takes. */
#include "daemon/housekeeping.h"

#include "core/error.h"
#include "core/log.h"
#include "files/files.h"
#include "net/net.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

struct housekeeping {
	uv_timer_t gc_timer;
	uv_work_t gc_work;
	int64_t gc_interval; /* seconds, as armed; 0: off */
	bool gc_running;     /* a run is on the thread pool */
	bool closing, timer_closed;
	int stop; /* set once on stop, read by the run (atomic) */
	/* Filled by the run, read when it is reported back on the loop. */
	int gc_status;
	struct blob_gc_result gc_result;
	struct ox_error gc_err;
	gint64 gc_started; /* monotonic microseconds */
};

static void gc_tick(uv_timer_t *timer);

static void gc_arm(struct housekeeping *h)
{
	h->gc_interval = files_gc_interval_seconds();
	uv_timer_stop(&h->gc_timer);
	if (h->gc_interval > 0 && !h->gc_running && !h->closing)
		uv_timer_start(&h->gc_timer, gc_tick, (uint64_t)h->gc_interval * 1000, 0);
}

/* On the thread pool. */
static void gc_run(uv_work_t *req)
{
	struct housekeeping *h = req->data;
	memset(&h->gc_err, 0, sizeof(h->gc_err));
	memset(&h->gc_result, 0, sizeof(h->gc_result));
	struct store *s = store_thread_get(&h->gc_err);
	h->gc_status = s == NULL ? -1 : files_gc(s, &h->stop, &h->gc_result, &h->gc_err);
	/* The next run is an interval away, on whichever pool thread. */
	store_thread_discard();
}

static void maybe_free(struct housekeeping *h)
{
	if (h->timer_closed && !h->gc_running)
		g_free(h);
}

/* Back on the loop: one log line per run. */
static void gc_done(uv_work_t *req, int status)
{
	struct housekeeping *h = req->data;
	h->gc_running = false;
	const struct blob_gc_result *r = &h->gc_result;
	gint64 ms = (g_get_monotonic_time() - h->gc_started) / 1000;
	if (status < 0 || h->gc_status < 0) {
		char removed[160];
		g_snprintf(removed, sizeof(removed),
		           "%" G_GINT64_FORMAT " blobs, %" G_GINT64_FORMAT " bytes", r->blobs,
		           r->bytes);
		ox_log_kv(OX_LOG_WARN, "blob_gc_failed", "error",
		          status < 0 ? uv_strerror(status) : h->gc_err.message, "removed", removed,
		          NULL);
	} else {
		ox_logf(OX_LOG_INFO, "blob_gc",
		        "blobs=%" G_GINT64_FORMAT " bytes=%" G_GINT64_FORMAT
		        " temporaries=%" G_GINT64_FORMAT " ms=%" G_GINT64_FORMAT "%s",
		        r->blobs, r->bytes, r->temporaries, ms, r->stopped ? " stopped=true" : "");
	}
	if (h->closing)
		maybe_free(h);
	else
		gc_arm(h);
}

static void gc_tick(uv_timer_t *timer)
{
	struct housekeeping *h = timer->data;
	if (h->gc_running || h->closing)
		return;
	h->gc_running = true;
	h->gc_started = g_get_monotonic_time();
	h->gc_work.data = h;
	int r = uv_queue_work(timer->loop, &h->gc_work, gc_run, gc_done);
	if (r < 0) {
		h->gc_running = false;
		ox_log_kv(OX_LOG_WARN, "blob_gc_failed", "error", uv_strerror(r), NULL);
		gc_arm(h);
	}
}

/* The grace must outlast an upload's longest pause (net.read_timeout)
 * plus the time a database writer may take to refresh its temporary
 * name (blob.h): below that, a slow upload may have its data collected
 * and fail. Allowed (tests use a tiny grace), but said. */
static void check_grace(void)
{
	int64_t grace = files_gc_grace_seconds();
	int64_t pause = (int64_t)(net_read_timeout_ms() / 1000) + BLOB_TMP_REFRESH_SECONDS;
	if (files_gc_interval_seconds() > 0 && grace <= pause)
		ox_logf(OX_LOG_WARN, "blob_gc_grace_short",
		        "grace_s=%" G_GINT64_FORMAT " needed_s=%" G_GINT64_FORMAT, grace, pause);
}

struct housekeeping *housekeeping_start(uv_loop_t *loop)
{
	struct housekeeping *h = g_new0(struct housekeeping, 1);
	uv_timer_init(loop, &h->gc_timer);
	h->gc_timer.data = h;
	/* Idle timers must not keep a stopping loop alive. */
	uv_unref((uv_handle_t *)&h->gc_timer);
	check_grace();
	gc_arm(h);
	return h;
}

void housekeeping_reconfigure(struct housekeeping *h)
{
	check_grace();
	/* Unchanged: keep counting, so that frequent reloads do not keep
	 * postponing the next run. */
	if (files_gc_interval_seconds() != h->gc_interval)
		gc_arm(h);
}

static void on_timer_closed(uv_handle_t *handle)
{
	struct housekeeping *h = handle->data;
	h->timer_closed = true;
	maybe_free(h);
}

void housekeeping_stop(struct housekeeping **hp)
{
	struct housekeeping *h = *hp;
	if (h == NULL)
		return;
	*hp = NULL;
	h->closing = true;
	g_atomic_int_set(&h->stop, 1);
	uv_timer_stop(&h->gc_timer);
	uv_close((uv_handle_t *)&h->gc_timer, on_timer_closed);
}
