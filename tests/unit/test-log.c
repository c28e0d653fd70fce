/* Logging: the line format, quoting of values so that any string stays one
 * parseable field, level filtering, and truncation of lines too long for
 * one write. */
#include "core/log.h"

#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

/* Must match LOG_LINE_MAX in log.c: the longest line, newline included, is
 * one byte shorter. */
#define LINE_MAX_BYTES 4096

struct capture {
	int fds[2];
};

static void capture_setup(struct capture *c, gconstpointer data)
{
	g_assert_cmpint(pipe(c->fds), ==, 0);
	/* Reading must not block when a test expects nothing was logged. */
	g_assert_cmpint(fcntl(c->fds[0], F_SETFL, O_NONBLOCK), ==, 0);
	ox_log_set_fd(c->fds[1]);
	ox_log_set_level(OX_LOG_INFO);
}

static void capture_teardown(struct capture *c, gconstpointer data)
{
	ox_log_set_fd(2);
	ox_log_set_level(OX_LOG_INFO);
	close(c->fds[0]);
	close(c->fds[1]);
}

/* Everything logged since the last call. */
static char *captured(struct capture *c)
{
	GString *out = g_string_new(NULL);
	char buf[8192];
	ssize_t n;
	while ((n = read(c->fds[0], buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	return g_string_free(out, FALSE);
}

/* The part of a line after the timestamp, which changes from run to run. */
static const char *after_ts(const char *line)
{
	g_assert_true(g_regex_match_simple(
		"^ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ", line, 0, 0));
	return line + strlen("ts=2026-11-25T17:00:00.123Z ");
}

static void test_kv_format(struct capture *c, gconstpointer data)
{
	ox_log_kv(OX_LOG_INFO, "listening", "proto", "http", "addr", "127.0.0.1:8080", NULL);
	char *out = captured(c);
	g_assert_cmpstr(after_ts(out), ==,
	                "level=info event=listening proto=http addr=127.0.0.1:8080\n");
	g_free(out);
}

static void test_logf_format(struct capture *c, gconstpointer data)
{
	ox_logf(OX_LOG_WARN, "slow_request", "ms=%d status=%u", 1500, 200u);
	ox_logf(OX_LOG_ERROR, "bind_failed", "port=%d", 80);
	char *out = captured(c);
	char **lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpstr(after_ts(lines[0]), ==, "level=warn event=slow_request ms=1500 status=200");
	g_assert_cmpstr(after_ts(lines[1]), ==, "level=error event=bind_failed port=80");
	g_assert_cmpstr(lines[2], ==, "");
	g_strfreev(lines);
	g_free(out);
}

/* Logs one value and returns how it was written. */
static char *logged_value(struct capture *c, const char *value)
{
	ox_log_kv(OX_LOG_INFO, "e", "v", value, NULL);
	char *out = captured(c);
	const char *rest = after_ts(out);
	g_assert_true(g_str_has_prefix(rest, "level=info event=e v="));
	g_assert_true(g_str_has_suffix(rest, "\n"));
	char *field = g_strndup(rest + strlen("level=info event=e v="),
	                        strlen(rest) - strlen("level=info event=e v=") - 1);
	g_free(out);
	return field;
}

static void expect_value(struct capture *c, const char *value, const char *expected)
{
	char *field = logged_value(c, value);
	g_assert_cmpstr(field, ==, expected);
	g_free(field);
}

static void test_quoting(struct capture *c, gconstpointer data)
{
	expect_value(c, "plain-value_1.2/x", "plain-value_1.2/x");
	expect_value(c, "two words", "\"two words\"");
	expect_value(c, "say \"hi\"", "\"say \\\"hi\\\"\"");
	expect_value(c, "a=b", "\"a=b\"");
	expect_value(c, "back\\slash", "\"back\\\\slash\"");
	expect_value(c, "line\nbreak", "\"line\\x0abreak\"");
	expect_value(c, "cr\rtab\t", "\"cr\\x0dtab\\x09\"");
	expect_value(c, "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"");
	expect_value(c, "", "\"\"");
	expect_value(c, NULL, "\"\"");
	/* Bytes above ASCII (UTF-8 text) pass as they are. */
	expect_value(c, "caf\xc3\xa9", "caf\xc3\xa9");
}

static void test_event_quoted(struct capture *c, gconstpointer data)
{
	ox_log_kv(OX_LOG_INFO, "bad event", NULL);
	char *out = captured(c);
	g_assert_cmpstr(after_ts(out), ==, "level=info event=\"bad event\"\n");
	g_free(out);
}

static void test_append_value(void)
{
	char buf[16] = "k=";
	size_t len = ox_log_append_value(buf, 2, sizeof(buf), "a b");
	g_assert_cmpstr(buf, ==, "k=\"a b\"");
	g_assert_cmpuint(len, ==, strlen(buf));
	/* Never past the end, always NUL-terminated. */
	len = ox_log_append_value(buf, len, sizeof(buf), "0123456789");
	g_assert_cmpuint(len, ==, sizeof(buf) - 1);
	g_assert_cmpstr(buf, ==, "k=\"a b\"01234567");
}

static void test_level_filter(struct capture *c, gconstpointer data)
{
	ox_log_set_level(OX_LOG_WARN);
	g_assert_false(ox_log_enabled(OX_LOG_INFO));
	g_assert_true(ox_log_enabled(OX_LOG_WARN));
	ox_log_kv(OX_LOG_DEBUG, "d", NULL);
	ox_log_kv(OX_LOG_INFO, "i", NULL);
	ox_logf(OX_LOG_INFO, "i2", "n=%d", 1);
	ox_log_kv(OX_LOG_WARN, "w", NULL);
	ox_logf(OX_LOG_ERROR, "e", "n=%d", 2);
	char *out = captured(c);
	char **lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpstr(after_ts(lines[0]), ==, "level=warn event=w");
	g_assert_cmpstr(after_ts(lines[1]), ==, "level=error event=e n=2");
	g_strfreev(lines);
	g_free(out);

	ox_log_set_level(OX_LOG_DEBUG);
	ox_log_kv(OX_LOG_DEBUG, "d", NULL);
	out = captured(c);
	g_assert_cmpstr(after_ts(out), ==, "level=debug event=d\n");
	g_free(out);
}

static void test_level_names(void)
{
	enum ox_log_level level;
	g_assert_cmpint(ox_log_level_parse("debug", &level), ==, 0);
	g_assert_cmpint(level, ==, OX_LOG_DEBUG);
	g_assert_cmpint(ox_log_level_parse("WARNING", &level), ==, 0);
	g_assert_cmpint(level, ==, OX_LOG_WARN);
	g_assert_cmpint(ox_log_level_parse("Error", &level), ==, 0);
	g_assert_cmpint(level, ==, OX_LOG_ERROR);
	g_assert_cmpint(ox_log_level_parse("verbose", &level), ==, -1);
	g_assert_cmpstr(ox_log_level_name(OX_LOG_INFO), ==, "info");
	g_assert_cmpstr(ox_log_level_name((enum ox_log_level)42), ==, "?");
}

static void expect_one_truncated_line(struct capture *c)
{
	char *out = captured(c);
	size_t len = strlen(out);
	g_assert_cmpuint(len, ==, LINE_MAX_BYTES - 1);
	g_assert_cmpint(out[len - 1], ==, '\n');
	g_assert_null(memchr(out, '\n', len - 1));
	g_free(out);
}

static void test_truncation(struct capture *c, gconstpointer data)
{
	char *big = g_strnfill(3 * LINE_MAX_BYTES, 'x');
	ox_log_kv(OX_LOG_INFO, "big", "v", big, NULL);
	expect_one_truncated_line(c);
	/* A quoted value is cut inside its escapes the same way. */
	char *quoted = g_strnfill(3 * LINE_MAX_BYTES, '\n');
	ox_log_kv(OX_LOG_INFO, "big", "v", quoted, NULL);
	expect_one_truncated_line(c);
	ox_logf(OX_LOG_INFO, "big", "v=%s", big);
	expect_one_truncated_line(c);
	/* The next line is whole again. */
	ox_log_kv(OX_LOG_INFO, "small", NULL);
	char *out = captured(c);
	g_assert_cmpstr(after_ts(out), ==, "level=info event=small\n");
	g_free(out);
	g_free(quoted);
	g_free(big);
}

static void test_longest_untruncated_line(struct capture *c, gconstpointer data)
{
	/* A line that just fits keeps its last byte. */
	size_t head = strlen("ts=2026-11-25T17:00:00.123Z level=info event=e v=");
	char *value = g_strnfill(LINE_MAX_BYTES - 2 - head - 1, 'y');
	char *value_z = g_strconcat(value, "z", NULL);
	ox_log_kv(OX_LOG_INFO, "e", "v", value_z, NULL);
	char *out = captured(c);
	g_assert_cmpuint(strlen(out), ==, LINE_MAX_BYTES - 1);
	g_assert_true(g_str_has_suffix(out, "yz\n"));
	g_free(out);
	g_free(value_z);
	g_free(value);
}

#define ADD_CAPTURE_TEST(path, fn)                                                                 \
	g_test_add(path, struct capture, NULL, capture_setup, fn, capture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_CAPTURE_TEST("/log/kv-format", test_kv_format);
	ADD_CAPTURE_TEST("/log/logf-format", test_logf_format);
	ADD_CAPTURE_TEST("/log/quoting", test_quoting);
	ADD_CAPTURE_TEST("/log/event-quoted", test_event_quoted);
	g_test_add_func("/log/append-value", test_append_value);
	ADD_CAPTURE_TEST("/log/level-filter", test_level_filter);
	g_test_add_func("/log/level-names", test_level_names);
	ADD_CAPTURE_TEST("/log/truncation", test_truncation);
	ADD_CAPTURE_TEST("/log/longest-untruncated-line", test_longest_untruncated_line);
	return g_test_run();
}
