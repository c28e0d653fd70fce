/* The worker pool: the threads that run framed commands, which may block on
 * the store. One pool serves every I/O thread.
 *
 * The most recently idle worker takes the next command (a stack, not a
 * queue of waiters), and threads start only when every one started is
 * busy, up to net.workers. So a server under light or sequential load runs
 * its commands on one or two threads whose store connection, prepared
 * statements, SQLite page cache, malloc arena and CPU caches are warm,
 * instead of spreading them over the whole pool as a condition variable's
 * FIFO wake-up (libuv's pool) does: each thread that ever runs a command
 * keeps its own store connection and arena for good, so that spreading
 * costs memory as well as time. */
#include "net/net-private.h"

struct task {
	void (*run)(void *arg);
	void (*after)(void *arg);
	void *arg;
};

struct worker {
	GThread *thread;
	GCond wake;
	struct task *task; /* handed over under pool.lock */
	struct worker *next_idle;
};

static struct {
	GMutex lock; /* guards everything below */
	unsigned max;
	GPtrArray *workers;  /* of struct worker *, every thread started */
	struct worker *idle; /* the most recently idle first */
	GQueue waiting;      /* of struct task *, when every worker is busy */
	bool stopping;
} pool;

static gpointer worker_main(gpointer data)
{
	struct worker *w = data;
	g_mutex_lock(&pool.lock);
	for (;;) {
		while (w->task == NULL && !pool.stopping)
			g_cond_wait(&w->wake, &pool.lock);
		struct task *task = w->task;
		if (task == NULL)
			break;
		w->task = NULL;
		g_mutex_unlock(&pool.lock);
		task->run(task->arg);
		g_mutex_lock(&pool.lock);
		w->task = g_queue_pop_head(&pool.waiting);
		if (w->task == NULL) {
			w->next_idle = pool.idle;
			pool.idle = w;
		}
		/* Back in the pool before anyone hears of the outcome: a client
		 * that answers at once finds this worker idle, rather than none
		 * (a new thread would start) or an older one. */
		if (task->after != NULL) {
			g_mutex_unlock(&pool.lock);
			task->after(task->arg);
			g_mutex_lock(&pool.lock);
		}
		g_free(task);
	}
	g_mutex_unlock(&pool.lock);
	return NULL;
}

/* Called with pool.lock held: a new thread that starts with `task`, or
 * false when none can be started. */
static bool start_worker(struct task *task)
{
	if (pool.workers->len >= pool.max)
		return false;
	struct worker *w = g_new0(struct worker, 1);
	g_cond_init(&w->wake);
	w->task = task;
	char name[16];
	g_snprintf(name, sizeof(name), "worker-%u", pool.workers->len);
	GError *error = NULL;
	w->thread = g_thread_try_new(name, worker_main, w, &error);
	if (w->thread == NULL) {
		/* Without any worker nothing would ever run. */
		if (pool.workers->len == 0)
			g_error("cannot start a worker thread: %s", error->message);
		g_error_free(error);
		g_cond_clear(&w->wake);
		g_free(w);
		return false;
	}
	g_ptr_array_add(pool.workers, w);
	return true;
}

void net_workers_start(unsigned max)
{
	g_mutex_lock(&pool.lock);
	g_assert(pool.workers == NULL);
	pool.max = MAX(1, max);
	pool.workers = g_ptr_array_new();
	pool.stopping = false;
	g_mutex_unlock(&pool.lock);
}

void net_workers_stop(void)
{
	g_mutex_lock(&pool.lock);
	GPtrArray *workers = pool.workers;
	pool.stopping = true;
	for (guint i = 0; workers != NULL && i < workers->len; i++) {
		struct worker *w = g_ptr_array_index(workers, i);
		g_cond_signal(&w->wake);
	}
	g_mutex_unlock(&pool.lock);
	if (workers == NULL)
		return;
	/* Workers finish what they hold and what is waiting, then end (each
	 * closing its store connection). The I/O threads have stopped, and
	 * they run until the last job they queued is back: nothing is left. */
	for (guint i = 0; i < workers->len; i++) {
		struct worker *w = g_ptr_array_index(workers, i);
		g_thread_join(w->thread);
		g_cond_clear(&w->wake);
		g_free(w);
	}
	g_mutex_lock(&pool.lock);
	g_assert(g_queue_is_empty(&pool.waiting));
	g_ptr_array_unref(pool.workers);
	pool.workers = NULL;
	pool.idle = NULL;
	g_mutex_unlock(&pool.lock);
}

void net_workers_submit(void (*run)(void *arg), void (*after)(void *arg), void *arg)
{
	struct task *task = g_new(struct task, 1);
	*task = (struct task){run, after, arg};
	g_mutex_lock(&pool.lock);
	g_assert(pool.workers != NULL && !pool.stopping);
	struct worker *w = pool.idle;
	if (w != NULL) {
		pool.idle = w->next_idle;
		w->task = task;
		g_cond_signal(&w->wake);
	} else if (!start_worker(task)) {
		g_queue_push_tail(&pool.waiting, task);
	}
	g_mutex_unlock(&pool.lock);
}

/* --- commands of connections --- */

struct net_job {
	struct net_conn *conn;
	void (*work)(void *arg);
	void (*done)(struct net_conn *conn, void *arg);
	void *arg;
};

static void job_done(struct net_conn *conn, void *arg)
{
	struct net_job *job = arg;
	struct net_thread *thread = conn->thread;
	job->done(conn, job->arg);
	if (--thread->jobs_in_flight == 0)
		uv_unref((uv_handle_t *)&thread->jobs_alive);
	net_conn_unref(conn);
	g_free(job);
}

static void job_run(void *arg)
{
	struct net_job *job = arg;
	job->work(job->arg);
}

static void job_after(void *arg)
{
	struct net_job *job = arg;
	net_conn_post(job->conn, job_done, job);
}

void net_conn_queue_work(struct net_conn *conn, void (*work)(void *arg),
                         void (*done)(struct net_conn *conn, void *arg), void *arg)
{
	struct net_job *job = g_new(struct net_job, 1);
	*job = (struct net_job){conn, work, done, arg};
	net_conn_ref(conn);
	/* The I/O thread's loop runs until its jobs are back, also when it
	 * stops (see thread_main()). */
	struct net_thread *thread = conn->thread;
	if (thread->jobs_in_flight++ == 0)
		uv_ref((uv_handle_t *)&thread->jobs_alive);
	net_workers_submit(job_run, job_after, job);
}
