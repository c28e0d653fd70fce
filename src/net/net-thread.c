/* The server object and its I/O threads: one libuv loop each, woken by an
 * async handle for posts from workers and for the drain request. */
#include "core/config.h"
#include "core/log.h"
#include "net/net-private.h"

#include <stdlib.h>
#include <unistd.h>

static gint draining_flag;

bool net_draining(void)
{
	return g_atomic_int_get(&draining_flag) != 0;
}

static void on_drain_timeout(uv_timer_t *timer)
{
	struct net_thread *thread = timer->data;
	if (thread->nconns > 0)
		ox_logf(OX_LOG_WARN, "drain_timeout", "thread=%u aborted=%u", thread->index,
		        thread->nconns);
	for (struct net_conn *conn = thread->conns; conn != NULL; conn = conn->next)
		net_conn_abort(conn);
	uv_stop(&thread->loop);
}

static void thread_begin_drain(struct net_thread *thread)
{
	if (thread->draining)
		return;
	thread->draining = true;
	net_listeners_close(thread);
	net_thread_drain_conns(thread);
	uint64_t ms = net_settings()->drain_timeout_ms;
	uv_timer_start(&thread->drain_timer, on_drain_timeout, ms > 0 ? ms : 1, 0);
	if (thread->nconns == 0)
		uv_stop(&thread->loop);
}

static void on_wakeup(uv_async_t *async)
{
	struct net_thread *thread = async->data;
	g_mutex_lock(&thread->post_lock);
	GArray *posts = thread->posts;
	thread->posts = g_array_new(FALSE, FALSE, sizeof(struct net_post));
	bool drain = thread->drain_requested;
	g_mutex_unlock(&thread->post_lock);

	for (guint i = 0; i < posts->len; i++) {
		struct net_post *post = &g_array_index(posts, struct net_post, i);
		post->fn(post->conn, post->arg);
		net_conn_unref(post->conn);
	}
	g_array_unref(posts);
	if (drain)
		thread_begin_drain(thread);
}

static void on_jobs_alive(uv_async_t *async)
{
	/* Never sent: the handle only keeps the loop alive (net-worker.c). */
}

static void close_walk(uv_handle_t *handle, void *arg)
{
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

static gpointer thread_main(gpointer data)
{
	struct net_thread *thread = data;
	net_listeners_start(thread);
	uv_run(&thread->loop, UV_RUN_DEFAULT);

	/* Stopped: close whatever is left and let the close callbacks and any
	 * work still on a worker finish (jobs_alive keeps the loop running
	 * until the last job is back). The wake-up stays open (unreferenced,
	 * so it does not keep the loop alive) because a finishing worker
	 * posts to it. */
	for (struct net_conn *conn = thread->conns; conn != NULL; conn = conn->next)
		net_conn_abort(conn);
	net_listeners_close(thread);
	uv_close((uv_handle_t *)&thread->drain_timer, NULL);
	uv_unref((uv_handle_t *)&thread->wakeup);
	uv_unref((uv_handle_t *)&thread->flusher);
	uv_run(&thread->loop, UV_RUN_DEFAULT);
	on_wakeup(&thread->wakeup);
	uv_close((uv_handle_t *)&thread->wakeup, NULL);
	uv_close((uv_handle_t *)&thread->flusher, NULL);
	uv_run(&thread->loop, UV_RUN_DEFAULT);
	uv_walk(&thread->loop, close_walk, NULL);
	uv_run(&thread->loop, UV_RUN_DEFAULT);
	return NULL;
}

static struct net_thread *thread_new(struct net_server *server, unsigned index)
{
	struct net_thread *thread = g_new0(struct net_thread, 1);
	thread->server = server;
	thread->index = index;
	thread->listeners = g_ptr_array_new();
	thread->posts = g_array_new(FALSE, FALSE, sizeof(struct net_post));
	g_mutex_init(&thread->post_lock);
	uv_loop_init(&thread->loop);
	uv_async_init(&thread->loop, &thread->wakeup, on_wakeup);
	thread->wakeup.data = thread;
	uv_check_init(&thread->loop, &thread->flusher);
	thread->flusher.data = thread;
	uv_check_start(&thread->flusher, net_thread_flush);
	uv_timer_init(&thread->loop, &thread->drain_timer);
	thread->drain_timer.data = thread;
	uv_unref((uv_handle_t *)&thread->drain_timer);
	uv_async_init(&thread->loop, &thread->jobs_alive, on_jobs_alive);
	uv_unref((uv_handle_t *)&thread->jobs_alive);
	return thread;
}

static void thread_free(struct net_thread *thread)
{
	uv_loop_close(&thread->loop);
	net_thread_free_spare_outputs(thread);
	g_ptr_array_unref(thread->listeners);
	g_array_unref(thread->posts);
	g_mutex_clear(&thread->post_lock);
	g_free(thread);
}

static void bound_free(gpointer data)
{
	struct net_bound *bound = data; /* its fds were closed by net_server_free() */
	g_free(bound->fds);
	g_free(bound->address);
	g_free(bound);
}

struct net_server *net_server_new(const struct ox_config *cfg, const char *data_dir, char **error_r)
{
	struct net_server *server = g_new0(struct net_server, 1);
	long long n = ox_config_int(cfg, "net", "io_threads");
	server->nthreads = n > 0 ? (unsigned)n : (unsigned)MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
	server->data_dir = g_strdup(data_dir);
	server->bound = g_ptr_array_new_with_free_func(bound_free);
	net_settings_publish(cfg);

	server->workers = (unsigned)ox_config_int(cfg, "net", "workers");

	if (net_tls_load(cfg, data_dir, error_r) < 0 || net_bind_all(server, cfg, error_r) < 0) {
		net_server_free(&server);
		return NULL;
	}
	return server;
}

void net_server_start(struct net_server *server)
{
	net_workers_start(server->workers);
	server->threads = g_new0(struct net_thread *, server->nthreads);
	for (unsigned i = 0; i < server->nthreads; i++) {
		server->threads[i] = thread_new(server, i);
		char name[16];
		g_snprintf(name, sizeof(name), "io-%u", i);
		server->threads[i]->thread = g_thread_new(name, thread_main, server->threads[i]);
	}
}

int net_server_reload(struct net_server *server, const struct ox_config *cfg, char **error_r)
{
	if (net_tls_load(cfg, server->data_dir, error_r) < 0)
		return -1;
	net_settings_publish(cfg);
	return 0;
}

void net_server_stop(struct net_server *server)
{
	if (server->threads == NULL)
		return;
	g_atomic_int_set(&draining_flag, 1);
	for (unsigned i = 0; i < server->nthreads; i++) {
		struct net_thread *thread = server->threads[i];
		g_mutex_lock(&thread->post_lock);
		thread->drain_requested = true;
		g_mutex_unlock(&thread->post_lock);
		uv_async_send(&thread->wakeup);
	}
	for (unsigned i = 0; i < server->nthreads; i++) {
		g_thread_join(server->threads[i]->thread);
		thread_free(server->threads[i]);
	}
	g_clear_pointer(&server->threads, g_free);
	net_workers_stop();
}

void net_server_free(struct net_server **serverp)
{
	struct net_server *server = *serverp;
	if (server == NULL)
		return;
	*serverp = NULL;
	net_server_stop(server);
	/* Sockets not yet handed to a thread are still ours. */
	for (guint i = 0; i < server->bound->len; i++) {
		struct net_bound *bound = g_ptr_array_index(server->bound, i);
		for (unsigned t = 0; t < server->nthreads; t++) {
			if (bound->fds[t] >= 0)
				close(bound->fds[t]);
			bound->fds[t] = -1;
		}
		g_clear_pointer(&bound->fds, g_free);
	}
	g_ptr_array_unref(server->bound);
	g_free(server->data_dir);
	g_free(server);
	g_atomic_int_set(&draining_flag, 0);
}

void net_server_foreach_listener(struct net_server *server,
                                 void (*fn)(const char *kind, const char *address, void *ctx),
                                 void *ctx)
{
	for (guint i = 0; i < server->bound->len; i++) {
		struct net_bound *bound = g_ptr_array_index(server->bound, i);
		fn(bound->kind->config_key, bound->address, ctx);
	}
}

unsigned net_server_connection_count(const struct net_server *server)
{
	return (unsigned)g_atomic_int_get(&server->nconns);
}
