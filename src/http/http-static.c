/* Static files of the browser app from http.web_root: ETag, Last-Modified,
 * conditional requests, single byte ranges and gzip. Small files are cached
 * in memory and answered on the I/O thread when the cache entry was checked
 * against the disk within the last second; everything else runs on a
 * worker, and large files stream from disk. */
#include "core/log.h"
#include "http/http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_CACHE_FILE_MAX (256 * 1024)
#define STATIC_CACHE_TOTAL_MAX (64 * 1024 * 1024)
#define STATIC_RECHECK_US G_USEC_PER_SEC
#define STATIC_CHUNK (64 * 1024)

struct static_meta {
	char etag[64];
	char last_modified[32];
	gint64 mtime;
	uint64_t size;
	const char *content_type;
	bool compressible;
};

struct static_entry {
	gint refcount;
	struct static_meta meta;
	dev_t dev;
	ino_t ino;
	gint64 mtime_ns;
	GBytes *data;
	GBytes *gzip; /* made on first use, under cache_lock */
	gint64 checked_us;
};

static GMutex cache_lock;
static GHashTable *cache; /* absolute path -> struct static_entry */
static size_t cache_bytes;

static const struct {
	const char *ext;
	const char *type;
	bool compressible;
} mime_types[] = {
	{".html", "text/html; charset=utf-8", true},
	{".htm", "text/html; charset=utf-8", true},
	{".css", "text/css; charset=utf-8", true},
	{".js", "text/javascript; charset=utf-8", true},
	{".mjs", "text/javascript; charset=utf-8", true},
	{".json", "application/json", true},
	{".map", "application/json", true},
	{".svg", "image/svg+xml", true},
	{".txt", "text/plain; charset=utf-8", true},
	{".xml", "application/xml", true},
	{".ics", "text/calendar; charset=utf-8", true},
	{".vcf", "text/vcard; charset=utf-8", true},
	{".png", "image/png", false},
	{".jpg", "image/jpeg", false},
	{".jpeg", "image/jpeg", false},
	{".gif", "image/gif", false},
	{".webp", "image/webp", false},
	{".ico", "image/x-icon", false},
	{".woff", "font/woff", false},
	{".woff2", "font/woff2", false},
	{".wasm", "application/wasm", false},
	{".pdf", "application/pdf", false},
};

static void entry_unref(struct static_entry *e)
{
	if (!g_atomic_int_dec_and_test(&e->refcount))
		return;
	g_bytes_unref(e->data);
	if (e->gzip != NULL)
		g_bytes_unref(e->gzip);
	g_free(e);
}

static void meta_fill(struct static_meta *meta, const char *path, const struct stat *st)
{
	meta->size = (uint64_t)st->st_size;
	meta->mtime = st->st_mtim.tv_sec;
	g_snprintf(meta->etag, sizeof(meta->etag),
	           "\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x-%lx\"", (gint64)st->st_size,
	           (gint64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
	           (unsigned long)st->st_ino);
	http_date_format(st->st_mtim.tv_sec, meta->last_modified);
	meta->content_type = "application/octet-stream";
	meta->compressible = false;
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot != NULL && i < G_N_ELEMENTS(mime_types); i++) {
		if (g_ascii_strcasecmp(dot, mime_types[i].ext) == 0) {
			meta->content_type = mime_types[i].type;
			meta->compressible = mime_types[i].compressible;
		}
	}
}

/* --- request evaluation --- */

static bool accepts_gzip(const char *accept_encoding)
{
	if (accept_encoding == NULL)
		return false;
	bool ok = false;
	gchar **items = g_strsplit(accept_encoding, ",", -1);
	for (gchar **i = items; *i != NULL; i++) {
		gchar **parts = g_strsplit(*i, ";", -1);
		const char *name = g_strstrip(parts[0]);
		if (g_ascii_strcasecmp(name, "gzip") == 0) {
			ok = true;
			for (gchar **p = parts + 1; *p != NULL; p++) {
				const char *param = g_strstrip(*p);
				if (g_ascii_strncasecmp(param, "q=", 2) == 0 &&
				    g_ascii_strtod(param + 2, NULL) <= 0.0)
					ok = false;
			}
		}
		g_strfreev(parts);
	}
	g_strfreev(items);
	return ok;
}

enum static_plan {
	PLAN_NOT_MODIFIED,
	PLAN_FULL,
	PLAN_RANGE,
	PLAN_UNSATISFIABLE
};

static enum static_plan plan_response(struct http_exchange *ex, const struct static_meta *meta,
                                      uint64_t *first_r, uint64_t *last_r)
{
	const char *inm = http_request_header(ex, "If-None-Match");
	if (inm != NULL) {
		if (http_etag_listed(inm, meta->etag, true))
			return PLAN_NOT_MODIFIED;
	} else {
		const char *ims = http_request_header(ex, "If-Modified-Since");
		gint64 since;
		if (ims != NULL && http_date_parse(ims, &since) == 0 && meta->mtime <= since)
			return PLAN_NOT_MODIFIED;
	}
	const char *if_range = http_request_header(ex, "If-Range");
	if (if_range != NULL && strcmp(if_range, meta->etag) != 0 &&
	    strcmp(if_range, meta->last_modified) != 0)
		return PLAN_FULL;
	int r = http_parse_range(http_request_header(ex, "Range"), meta->size, first_r, last_r);
	return r > 0 ? PLAN_RANGE : r < 0 ? PLAN_UNSATISFIABLE : PLAN_FULL;
}

static void add_meta_headers(struct http_exchange *ex, const struct static_meta *meta)
{
	http_response_header(ex, "ETag", meta->etag);
	http_response_header(ex, "Last-Modified", meta->last_modified);
	http_response_header(ex, "Cache-Control", "no-cache");
	if (meta->compressible && http_settings()->gzip)
		http_response_header(ex, "Vary", "Accept-Encoding");
}

/* Starts the response; returns true when the caller must write body bytes
 * [*first_r, *last_r]. */
static bool begin_response(struct http_exchange *ex, const struct static_meta *meta,
                           uint64_t *first_r, uint64_t *last_r)
{
	enum static_plan plan = plan_response(ex, meta, first_r, last_r);
	char buf[96];
	switch (plan) {
	case PLAN_NOT_MODIFIED:
		http_response_status(ex, 304);
		add_meta_headers(ex, meta);
		http_response_finish(ex);
		return false;
	case PLAN_UNSATISFIABLE:
		g_snprintf(buf, sizeof(buf), "bytes */%" G_GUINT64_FORMAT, meta->size);
		http_response_header(ex, "Content-Range", buf);
		http_reply_status(ex, 416, NULL);
		return false;
	case PLAN_RANGE:
		http_response_status(ex, 206);
		g_snprintf(buf, sizeof(buf),
		           "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		           *first_r, *last_r, meta->size);
		http_response_header(ex, "Content-Range", buf);
		break;
	case PLAN_FULL:
		http_response_status(ex, 200);
		*first_r = 0;
		*last_r = meta->size > 0 ? meta->size - 1 : 0;
		break;
	}
	add_meta_headers(ex, meta);
	http_response_header(ex, "Content-Type", meta->content_type);
	http_response_header(ex, "Accept-Ranges", "bytes");
	uint64_t length = meta->size == 0 ? 0 : *last_r - *first_r + 1;
	http_response_content_length(ex, length);
	if (length == 0 || http_request_is_head(ex)) {
		http_response_finish(ex);
		return false;
	}
	return true;
}

static GBytes *gzip_compress(GBytes *data)
{
	GZlibCompressor *z = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
	GByteArray *out = g_byte_array_new();
	gsize in_len;
	const guint8 *in = g_bytes_get_data(data, &in_len);
	guint8 buf[16384];
	GConverterResult r;
	do {
		gsize read = 0, written = 0;
		r = g_converter_convert(G_CONVERTER(z), in, in_len, buf, sizeof(buf),
		                        G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
		if (r == G_CONVERTER_ERROR)
			break;
		in += read;
		in_len -= read;
		g_byte_array_append(out, buf, (guint)written);
	} while (r != G_CONVERTER_FINISHED);
	g_object_unref(z);
	if (r != G_CONVERTER_FINISHED) {
		g_byte_array_unref(out);
		return NULL;
	}
	return g_byte_array_free_to_bytes(out);
}

/* Answers from a cached entry. Returns false, having answered nothing, when
 * it would have to compress and `may_block` is false. */
static bool serve_entry(struct http_exchange *ex, struct static_entry *e, bool may_block)
{
	const struct static_meta *meta = &e->meta;
	bool want_gzip = meta->compressible && http_settings()->gzip && meta->size > 0 &&
	                 http_request_header(ex, "Range") == NULL &&
	                 accepts_gzip(http_request_header(ex, "Accept-Encoding"));
	if (want_gzip) {
		g_mutex_lock(&cache_lock);
		GBytes *gz = e->gzip != NULL ? g_bytes_ref(e->gzip) : NULL;
		g_mutex_unlock(&cache_lock);
		if (gz == NULL && !may_block)
			return false;
		if (gz == NULL) {
			/* Compressed outside the lock every I/O thread takes; two
			 * workers may both compress, and one result is kept. */
			gz = gzip_compress(e->data);
			g_mutex_lock(&cache_lock);
			if (e->gzip == NULL && gz != NULL)
				e->gzip = g_bytes_ref(gz);
			g_mutex_unlock(&cache_lock);
		}
		if (gz != NULL) {
			/* The gzip variant is another representation: its own ETag. */
			struct static_meta zmeta = *meta;
			g_snprintf(zmeta.etag, sizeof(zmeta.etag), "%.*s-gz\"",
			           (int)strlen(meta->etag) - 1, meta->etag);
			zmeta.size = g_bytes_get_size(gz);
			http_response_header(ex, "Content-Encoding", "gzip");
			uint64_t first, last;
			if (begin_response(ex, &zmeta, &first, &last))
				http_response_write(ex, g_bytes_get_data(gz, NULL), zmeta.size);
			http_response_finish(ex);
			g_bytes_unref(gz);
			return true;
		}
	}
	uint64_t first, last;
	if (begin_response(ex, meta, &first, &last)) {
		const char *data = g_bytes_get_data(e->data, NULL);
		http_response_write(ex, data + first, last - first + 1);
	}
	http_response_finish(ex);
	return true;
}

/* --- path resolution --- */

/* Maps the request path into the web root; NULL for paths that try to
 * leave it ("..") or are otherwise unusable. */
static char *resolve(const char *root, const char *path)
{
	/* Scanned in place and joined by hand: this runs for every static
	 * request, cached ones included. */
	if (strchr(path, '\\') != NULL)
		return NULL;
	for (const char *s = path;;) {
		const char *end = strchrnul(s, '/');
		if (end - s == 2 && s[0] == '.' && s[1] == '.')
			return NULL;
		/* "/./x" and "//x" name a file twice: one name per file keeps
		 * the cache free of copies (and "//x" out of redirects). */
		if ((end - s == 1 && s[0] == '.') || (end == s && s != path && *end != '\0'))
			return NULL;
		if (*end == '\0')
			break;
		s = end + 1;
	}
	const char *rel = path;
	while (*rel == '/')
		rel++;
	size_t root_len = strlen(root);
	if (*rel == '\0' || root_len == 0 || root[root_len - 1] == '/')
		return g_build_filename(root, path, NULL); /* its rules for the odd cases */
	/* What g_build_filename() makes of the usual case. */
	size_t rel_len = strlen(rel);
	char *file = g_malloc(root_len + 1 + rel_len + 1);
	memcpy(file, root, root_len);
	file[root_len] = '/';
	memcpy(file + root_len + 1, rel, rel_len + 1);
	return file;
}

static struct static_entry *cache_lookup(const char *file, bool fresh_only)
{
	struct static_entry *e = NULL;
	g_mutex_lock(&cache_lock);
	if (cache != NULL)
		e = g_hash_table_lookup(cache, file);
	if (e != NULL && fresh_only && g_get_monotonic_time() - e->checked_us > STATIC_RECHECK_US)
		e = NULL;
	if (e != NULL)
		g_atomic_int_inc(&e->refcount);
	g_mutex_unlock(&cache_lock);
	return e;
}

static void cache_store(const char *file, struct static_entry *e)
{
	g_mutex_lock(&cache_lock);
	if (cache == NULL)
		cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                              (GDestroyNotify)entry_unref);
	struct static_entry *old = g_hash_table_lookup(cache, file);
	if (old != NULL)
		cache_bytes -= g_bytes_get_size(old->data);
	if (old != NULL || cache_bytes + g_bytes_get_size(e->data) <= STATIC_CACHE_TOTAL_MAX) {
		g_atomic_int_inc(&e->refcount);
		cache_bytes += g_bytes_get_size(e->data);
		g_hash_table_replace(cache, g_strdup(file), e);
	}
	g_mutex_unlock(&cache_lock);
}

static bool same_file(const struct static_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->meta.size == (uint64_t)st->st_size &&
	       e->mtime_ns == (gint64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void serve_stream(struct http_exchange *ex, int fd, const struct static_meta *meta)
{
	uint64_t first, last;
	if (!begin_response(ex, meta, &first, &last))
		return;
	char *buf = g_malloc(STATIC_CHUNK);
	uint64_t offset = first;
	while (offset <= last) {
		size_t want = (size_t)MIN((uint64_t)STATIC_CHUNK, last - offset + 1);
		ssize_t n = pread(fd, buf, want, (off_t)offset);
		if (n <= 0)
			break; /* the file shrank: the length check closes the connection */
		if (http_response_write(ex, buf, (size_t)n) < 0)
			break;
		offset += (uint64_t)n;
	}
	g_free(buf);
	http_response_finish(ex);
}

static void redirect_to_directory(struct http_exchange *ex)
{
	/* Relative to the request ("b" -> "b/"): an absolute path from the
	 * request could start with "//" and leave the site. */
	const char *last = strrchr(http_request_path(ex), '/');
	char *escaped = g_uri_escape_string(last != NULL ? last + 1 : "", NULL, FALSE);
	char *location = g_strdup_printf("%s/", escaped);
	http_response_header(ex, "Location", location);
	http_reply_status(ex, 301, NULL);
	g_free(location);
	g_free(escaped);
}

static void static_handler(struct http_exchange *ex, void *data)
{
	char *file = resolve(http_settings()->web_root, http_request_path(ex));
	int fd = -1;
	if (file == NULL) {
		http_reply_status(ex, 404, NULL);
		return;
	}
	struct stat st;
	if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!g_str_has_suffix(http_request_path(ex), "/")) {
			redirect_to_directory(ex);
			goto out;
		}
		char *index = g_build_filename(file, "index.html", NULL);
		g_free(file);
		file = index;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		http_reply_status(ex, errno == EACCES ? 403 : 404, NULL);
		goto out;
	}
	struct static_entry *e = cache_lookup(file, false);
	if (e != NULL && same_file(e, &st)) {
		g_mutex_lock(&cache_lock);
		e->checked_us = g_get_monotonic_time();
		g_mutex_unlock(&cache_lock);
		serve_entry(ex, e, true);
		entry_unref(e);
		goto out;
	}
	if (e != NULL)
		entry_unref(e);
	struct static_meta meta;
	meta_fill(&meta, file, &st);
	if (st.st_size > STATIC_CACHE_FILE_MAX) {
		serve_stream(ex, fd, &meta);
		goto out;
	}
	gchar *contents = NULL;
	gsize len = 0;
	if (!g_file_get_contents(file, &contents, &len, NULL) || len != (gsize)st.st_size) {
		g_free(contents);
		serve_stream(ex, fd, &meta);
		goto out;
	}
	e = g_new0(struct static_entry, 1);
	e->refcount = 1;
	e->meta = meta;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->mtime_ns = (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	e->data = g_bytes_new_take(contents, len);
	e->checked_us = g_get_monotonic_time();
	cache_store(file, e);
	serve_entry(ex, e, true);
	entry_unref(e);
out:
	if (fd >= 0)
		close(fd);
	g_free(file);
}

static bool static_inline(struct http_exchange *ex, void *data)
{
	const char *path = http_request_path(ex);
	if (g_str_has_suffix(path, "/"))
		return false; /* directory index: resolved on a worker */
	char *file = resolve(http_settings()->web_root, path);
	if (file == NULL)
		return false;
	struct static_entry *e = cache_lookup(file, true);
	g_free(file);
	if (e == NULL)
		return false;
	bool answered = serve_entry(ex, e, false);
	entry_unref(e);
	return answered;
}

static const char *const static_methods[] = {"GET", "HEAD", NULL};

static const struct http_route static_route = {
	.prefix = "/",
	.methods = static_methods,
	.try_inline = static_inline,
	.handler = static_handler,
};

void http_static_register(void)
{
	http_route_add(&static_route);
}
