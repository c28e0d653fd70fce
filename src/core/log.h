/* Structured logging to stderr: one line per event,
 *   ts=2026-11-25T17:00:00.123Z level=info event=listening proto=http addr=...
 * Each line is written with a single write(2) so lines from several threads
 * never interleave. */
#ifndef OX_CORE_LOG_H
#define OX_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum ox_log_level {
	OX_LOG_DEBUG,
	OX_LOG_INFO,
	OX_LOG_WARN,
	OX_LOG_ERROR,
};

/* Parses "debug", "info", "warn"/"warning", "error". Returns 0 or -1. */
int ox_log_level_parse(const char *name, enum ox_log_level *level_r);
const char *ox_log_level_name(enum ox_log_level level);

void ox_log_set_level(enum ox_log_level level);
bool ox_log_enabled(enum ox_log_level level);

/* Logs an event with key/value pairs given as a NULL-terminated list of
 * (const char *key, const char *value). Values are quoted when they hold
 * spaces, quotes, '=' or control characters, so any string is safe here. */
void ox_log_kv(enum ox_log_level level, const char *event, ...) __attribute__((sentinel));

/* Logs an event whose fields come pre-formatted; only for values the server
 * produced itself (numbers, identifiers), never for peer-controlled text. */
void ox_logf(enum ox_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends `value` to `out` (NUL-terminated, at most `size` bytes in total
 * including what is there) quoted as a log field value when needed. Returns
 * the new length. Used by callers that build one line themselves. */
size_t ox_log_append_value(char *out, size_t len, size_t size, const char *value);

/* Where lines go; default is stderr (fd 2). For tests. */
void ox_log_set_fd(int fd);

#endif
