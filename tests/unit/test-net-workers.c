/* The worker pool: threads start only when every started one is busy, never
 * more than the maximum, and the most recently idle worker takes the next
 * task, so that sequential commands keep running on one warm thread. */
#include "net/net-private.h"

#include <glib.h>

struct probe {
	GMutex lock;
	GCond changed;
	unsigned running, finished;
	bool released;    /* blocking tasks may end */
	GHashTable *seen; /* distinct threads */
};

static void probe_init(struct probe *p)
{
	g_mutex_init(&p->lock);
	g_cond_init(&p->changed);
	p->running = p->finished = 0;
	p->released = false;
	p->seen = g_hash_table_new(g_direct_hash, g_direct_equal);
}

static void probe_clear(struct probe *p)
{
	g_hash_table_destroy(p->seen);
	g_cond_clear(&p->changed);
	g_mutex_clear(&p->lock);
}

/* Runs until the probe is released (at once when it already is). */
static void blocking_task(void *arg)
{
	struct probe *p = arg;
	g_mutex_lock(&p->lock);
	p->running++;
	g_cond_broadcast(&p->changed);
	while (!p->released)
		g_cond_wait(&p->changed, &p->lock);
	p->running--;
	g_mutex_unlock(&p->lock);
}

/* Announces the outcome, as a command's answer goes to its client: the
 * worker is back in the pool by then. */
static void task_finished(void *arg)
{
	struct probe *p = arg;
	g_mutex_lock(&p->lock);
	p->finished++;
	g_hash_table_add(p->seen, g_thread_self());
	g_cond_broadcast(&p->changed);
	g_mutex_unlock(&p->lock);
}

static void wait_for(struct probe *p, unsigned running, unsigned finished)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	g_mutex_lock(&p->lock);
	while (p->running != running || p->finished != finished) {
		if (!g_cond_wait_until(&p->changed, &p->lock, deadline))
			g_error("waited for %u running and %u finished; have %u and %u", running,
			        finished, p->running, p->finished);
	}
	g_mutex_unlock(&p->lock);
}

static void test_sequential_tasks_share_one_thread(void)
{
	struct probe p;
	probe_init(&p);
	p.released = true;
	net_workers_start(16);
	for (unsigned i = 0; i < 50; i++) {
		net_workers_submit(blocking_task, task_finished, &p);
		wait_for(&p, 0, i + 1);
	}
	/* A condition variable's FIFO wake-up would have spread them over
	 * many threads, each then holding its own store connection. */
	g_assert_cmpuint(g_hash_table_size(p.seen), ==, 1);
	net_workers_stop();
	probe_clear(&p);
}

static void test_busy_workers_bounded_then_reused(void)
{
	struct probe p;
	probe_init(&p);
	net_workers_start(3);
	for (int i = 0; i < 5; i++)
		net_workers_submit(blocking_task, task_finished, &p);
	wait_for(&p, 3, 0);
	/* Two wait for a free worker: no fourth thread starts. */
	g_usleep(50 * 1000);
	g_mutex_lock(&p.lock);
	g_assert_cmpuint(p.running, ==, 3);
	p.released = true;
	g_cond_broadcast(&p.changed);
	g_mutex_unlock(&p.lock);
	wait_for(&p, 0, 5);
	g_assert_cmpuint(g_hash_table_size(p.seen), ==, 3);

	/* Back to one client at a time: one thread serves it all. */
	g_hash_table_remove_all(p.seen);
	for (unsigned i = 0; i < 20; i++) {
		net_workers_submit(blocking_task, task_finished, &p);
		wait_for(&p, 0, 6 + i);
	}
	g_assert_cmpuint(g_hash_table_size(p.seen), ==, 1);
	net_workers_stop();
	probe_clear(&p);
}

/* A stopped pool joined its threads; a new one starts fresh. */
static void test_restart_after_stop(void)
{
	struct probe p;
	probe_init(&p);
	p.released = true;
	net_workers_start(2);
	net_workers_submit(blocking_task, task_finished, &p);
	wait_for(&p, 0, 1);
	net_workers_stop();
	net_workers_start(2);
	net_workers_submit(blocking_task, task_finished, &p);
	wait_for(&p, 0, 2);
	net_workers_stop();
	probe_clear(&p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/workers/sequential-one-thread",
	                test_sequential_tasks_share_one_thread);
	g_test_add_func("/net/workers/bounded-then-reused", test_busy_workers_bounded_then_reused);
	g_test_add_func("/net/workers/restart", test_restart_after_stop);
	return g_test_run();
}
