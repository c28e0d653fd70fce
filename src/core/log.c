#include "core/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static int log_level = OX_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {
	[OX_LOG_DEBUG] = "debug",
	[OX_LOG_INFO] = "info",
	[OX_LOG_WARN] = "warn",
	[OX_LOG_ERROR] = "error",
};

int ox_log_level_parse(const char *name, enum ox_log_level *level_r)
{
	for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++) {
		if (g_ascii_strcasecmp(name, level_names[i]) == 0) {
			*level_r = (enum ox_log_level)i;
			return 0;
		}
	}
	if (g_ascii_strcasecmp(name, "warning") == 0) {
		*level_r = OX_LOG_WARN;
		return 0;
	}
	return -1;
}

const char *ox_log_level_name(enum ox_log_level level)
{
	return (unsigned)level < G_N_ELEMENTS(level_names) ? level_names[level] : "?";
}

void ox_log_set_level(enum ox_log_level level)
{
	g_atomic_int_set(&log_level, (int)level);
}

bool ox_log_enabled(enum ox_log_level level)
{
	return (int)level >= g_atomic_int_get(&log_level);
}

void ox_log_set_fd(int fd)
{
	log_fd = fd;
}

static size_t append(char *out, size_t len, size_t size, const char *s, size_t n)
{
	if (len >= size)
		return len;
	if (n > size - 1 - len)
		n = size - 1 - len;
	memcpy(out + len, s, n);
	len += n;
	out[len] = '\0';
	return len;
}

static bool needs_quoting(const char *value)
{
	if (*value == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return true;
	}
	return false;
}

size_t ox_log_append_value(char *out, size_t len, size_t size, const char *value)
{
	if (value == NULL)
		value = "";
	if (!needs_quoting(value))
		return append(out, len, size, value, strlen(value));
	len = append(out, len, size, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			len = append(out, len, size, esc, 2);
		} else if (*p < ' ' || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			len = append(out, len, size, esc, 4);
		} else {
			len = append(out, len, size, (const char *)p, 1);
		}
	}
	return append(out, len, size, "\"", 1);
}

static size_t line_start(char *line, enum ox_log_level level, const char *event)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, LOG_LINE_MAX,
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s event=",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (int)(tv.tv_usec / 1000), ox_log_level_name(level));
	return ox_log_append_value(line, (size_t)n, LOG_LINE_MAX, event);
}

static void line_write(char *line, size_t len)
{
	/* A truncated line still ends in a newline. */
	if (len >= LOG_LINE_MAX - 1)
		len = LOG_LINE_MAX - 2;
	line[len++] = '\n';
	ssize_t ret = write(log_fd, line, len);
	(void)ret;
}

void ox_log_kv(enum ox_log_level level, const char *event, ...)
{
	if (!ox_log_enabled(level))
		return;
	char line[LOG_LINE_MAX];
	size_t len = line_start(line, level, event);
	va_list ap;
	va_start(ap, event);
	const char *key;
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		len = append(line, len, sizeof(line), " ", 1);
		len = append(line, len, sizeof(line), key, strlen(key));
		len = append(line, len, sizeof(line), "=", 1);
		len = ox_log_append_value(line, len, sizeof(line), value);
	}
	va_end(ap);
	line_write(line, len);
}

void ox_logf(enum ox_log_level level, const char *event, const char *fmt, ...)
{
	if (!ox_log_enabled(level))
		return;
	char line[LOG_LINE_MAX];
	size_t len = line_start(line, level, event);
	if (*fmt != '\0') {
		len = append(line, len, sizeof(line), " ", 1);
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		va_end(ap);
		if (n > 0)
			len = MIN(len + (size_t)n, sizeof(line) - 1);
	}
	line_write(line, len);
}
