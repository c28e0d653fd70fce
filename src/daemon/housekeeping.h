/* Periodic background work of oxd, scheduled on the main thread's loop
 * and run on libuv's thread pool, never on an I/O thread or a worker that
 * serves requests: for now the blob collector (files_gc) every
 * files.blob_gc_interval. */
#ifndef OX_DAEMON_HOUSEKEEPING_H
#define OX_DAEMON_HOUSEKEEPING_H

#include <uv.h>

struct housekeeping;

/* Arms the timers on `loop` from the configuration already applied to
 * the modules (ox_modules_configure). */
struct housekeeping *housekeeping_start(uv_loop_t *loop);
/* After a reload: re-arms with the new intervals (a run in progress
 * finishes first). */
void housekeeping_reconfigure(struct housekeeping *h);
/* Disarms the timers and asks a run in progress to end at its next step.
 * The loop must run again until it has no more handles (the run's end is
 * reported there); the memory goes then. Sets *h to NULL. */
void housekeeping_stop(struct housekeeping **h);

#endif
