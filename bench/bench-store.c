/* Store benchmark: what the directory and folder layers cost on each driver.
 *
 * Measures logins per second through auth_login(): first logins at the
 * default Argon2id cost and at a cheap one (to show what the store part
 * costs), and repeated ones that the verified-password cache answers;
 * permission checks per second (folder_check() on a folder shared through
 * a group); and the time to list the folder tree of a user who has many
 * folders shared with them. Runs on SQLite in a temporary directory, and on
 * PostgreSQL when the PG* environment names a server (bench/run starts one
 * with pg_virtualenv); there it works in its own schema and drops it at
 * the end. Prints one Markdown table. */
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "folder/folder.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_PG_SCHEMA "ox_bench_store"
#define BENCH_PASSWORD "bench password"
/* First logins per round: each takes a user of its own. */
#define LOGINS_SLOW 16
#define LOGINS_CHEAP 400
/* Users whose folders are shared with the listing user. */
#define BENCH_OWNERS 10

static double opt_seconds = 1.0;
static int opt_rounds = 5;
static int opt_folders = 1000;
static char *opt_driver = NULL;

enum measure {
	M_LOGIN_DEFAULT,
	M_LOGIN_CHEAP,
	M_LOGIN_REPEATED,
	M_CHECK,
	M_LIST,
	M_COUNT,
};

struct driver_result {
	bool ran;
	double value[M_COUNT];
};

static G_NORETURN void die(const char *what, const struct ox_error *err)
{
	fprintf(stderr, "bench-store: %s: %s\n", what, err != NULL ? err->message : "failed");
	exit(1);
}

/* Argon2id cost for the password hashes made from now on. */
static void set_argon2(const char *ops, const char *memory)
{
	char *sets[] = {g_strdup_printf("auth.argon2_ops=%s", ops),
	                g_strdup_printf("auth.argon2_memory=%s", memory), NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, (const char *const *)sets, &error);
	if (cfg == NULL) {
		fprintf(stderr, "bench-store: configuration: %s\n", error);
		exit(1);
	}
	auth_configure(cfg);
	ox_config_free(&cfg);
	g_free(sets[0]);
	g_free(sets[1]);
}

static int64_t make_user(struct store *s, const char *login)
{
	struct ox_error err = {0};
	struct user_create spec = {
		.login = login, .display_name = login, .password = BENCH_PASSWORD};
	int64_t id;
	if (user_create(s, &spec, &id, &err) < 0)
		die(login, &err);
	return id;
}

static double now_s(void)
{
	return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

/* One unit of the work measured. */
typedef void op_fn(struct store *s, void *ctx);

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Operations per second: the median of opt_rounds rounds of opt_seconds
 * each, so that a moment of other load on the machine does not decide
 * the figure. A round runs min_ops at least, however slow they are, and
 * max_ops at most (0: no limit). */
static double measure(struct store *s, op_fn *op, void *ctx, long min_ops, long max_ops)
{
	double *rates = g_new(double, opt_rounds);
	for (int round = 0; round < opt_rounds; round++) {
		double start = now_s(), elapsed;
		long n = 0;
		do {
			op(s, ctx);
			n++;
			elapsed = now_s() - start;
		} while ((elapsed < opt_seconds || n < min_ops) && (max_ops == 0 || n < max_ops));
		rates[round] = (double)n / elapsed;
	}
	qsort(rates, (size_t)opt_rounds, sizeof(double), compare_doubles);
	double median = rates[opt_rounds / 2];
	g_free(rates);
	return median;
}

static void login(struct store *s, const char *user)
{
	struct auth_request req = {.login = user,
	                           .password = BENCH_PASSWORD,
	                           .remote = "192.0.2.1",
	                           .protocol = "bench",
	                           .allow_app_password = false};
	struct ox_error err = {0};
	int64_t id;
	if (auth_login(s, &req, &id, &err) != AUTH_OK)
		die("auth_login", &err);
}

/* Users who have not logged in yet: a login the verified-password cache
 * cannot answer, so that Argon2id is paid as at a first login. */
struct login_pool {
	char **logins;
	int next, count;
};

static void pool_make(struct store *s, const char *prefix, int count, struct login_pool *pool_r)
{
	struct ox_error err = {0};
	pool_r->logins = g_new0(char *, count + 1);
	pool_r->next = 0;
	pool_r->count = count;
	/* One transaction: setting up is not what is measured. */
	if (store_begin(s, &err) < 0)
		die("begin", &err);
	for (int i = 0; i < count; i++) {
		pool_r->logins[i] = g_strdup_printf("%s%d@bench.example", prefix, i);
		make_user(s, pool_r->logins[i]);
	}
	if (store_commit(s, &err) < 0)
		die("commit", &err);
}

static void op_first_login(struct store *s, void *ctx)
{
	struct login_pool *pool = ctx;
	if (pool->next >= pool->count)
		die("login pool used up", NULL);
	login(s, pool->logins[pool->next++]);
}

static void op_repeated_login(struct store *s, void *ctx)
{
	login(s, ctx);
}

struct check_ctx {
	int64_t user, folder;
};

static void op_check(struct store *s, void *ctx)
{
	const struct check_ctx *c = ctx;
	struct ox_error err = {0};
	if (folder_check(s, c->user, c->folder, FOLDER_READ_OBJECT, 0, &err) < 0)
		die("folder_check", &err);
}

struct list_ctx {
	int64_t viewer;
	int expected;
};

static void op_list(struct store *s, void *ctx)
{
	const struct list_ctx *c = ctx;
	struct ox_error err = {0};
	struct folder_info **list = NULL;
	if (folder_list(s, c->viewer, 0, &list, &err) < 0)
		die("folder_list", &err);
	int count = 0;
	for (struct folder_info **i = list; *i != NULL; i++)
		count++;
	folder_list_free(&list);
	if (count != c->expected) {
		fprintf(stderr, "bench-store: folder_list gave %d folders, not %d\n", count,
		        c->expected);
		exit(1);
	}
}

/* opt_folders folders of BENCH_OWNERS users, each shared with the viewer:
 * every other one directly, the rest through a group the viewer is in.
 * One transaction: setting up is not what is measured. */
static void share_folders(struct store *s, int64_t context, int64_t viewer, int64_t group)
{
	struct ox_error err = {0};
	struct folder_perm author;
	folder_perm_parse("author", &author);
	if (store_begin(s, &err) < 0)
		die("begin", &err);
	int64_t *owners = g_new(int64_t, BENCH_OWNERS);
	for (int o = 0; o < BENCH_OWNERS; o++) {
		char *login = g_strdup_printf("owner%d@bench.example", o);
		owners[o] = make_user(s, login);
		g_free(login);
	}
	for (int i = 0; i < opt_folders; i++) {
		int64_t owner = owners[i % BENCH_OWNERS], id;
		char *name = g_strdup_printf("Shared %04d", i);
		enum folder_module module = FOLDER_MAIL + i % 5;
		if (folder_create(s, owner, context, 0, false, module, name, &id, &err) < 0)
			die("folder_create", &err);
		int64_t entity = i % 2 == 0 ? viewer : group;
		if (folder_set_permission(s, owner, id, entity, &author, &err) < 0)
			die("folder_set_permission", &err);
		g_free(name);
	}
	g_free(owners);
	if (store_commit(s, &err) < 0)
		die("commit", &err);
}

static struct store *open_sqlite(char **dir_r)
{
	struct ox_error err = {0};
	*dir_r = g_dir_make_tmp("ox-bench-store-XXXXXX", NULL);
	if (*dir_r == NULL)
		die("temporary directory", NULL);
	char *path = g_build_filename(*dir_r, "ox.db", NULL);
	struct store *s = store_open("sqlite", path, &err);
	g_free(path);
	if (s == NULL)
		die("open sqlite", &err);
	return s;
}

static struct store *open_postgres(void)
{
	struct ox_error err = {0};
	const char *dsn = g_getenv("OX_BENCH_PG_DSN");
	struct store *s = store_open("postgres", dsn != NULL ? dsn : "", &err);
	if (s == NULL)
		die("open postgres", &err);
	/* A schema of our own: whatever else the database holds stays. */
	if (store_exec(s,
	               "DROP SCHEMA IF EXISTS " BENCH_PG_SCHEMA
	               " CASCADE; CREATE SCHEMA " BENCH_PG_SCHEMA
	               "; SET search_path TO " BENCH_PG_SCHEMA,
	               &err) < 0)
		die("postgres schema", &err);
	return s;
}

static void close_store(struct store **s, char *dir)
{
	if (dir == NULL)
		store_exec(*s, "DROP SCHEMA IF EXISTS " BENCH_PG_SCHEMA " CASCADE", NULL);
	store_close(s);
	if (dir != NULL) {
		char *db = g_build_filename(dir, "ox.db", NULL);
		char *wal = g_strconcat(db, "-wal", NULL), *shm = g_strconcat(db, "-shm", NULL);
		remove(wal);
		remove(shm);
		remove(db);
		remove(dir);
		g_free(db);
		g_free(wal);
		g_free(shm);
		g_free(dir);
	}
}

static void run_driver(const char *driver, struct driver_result *r)
{
	struct ox_error err = {0};
	char *dir = NULL;
	struct store *s = strcmp(driver, "sqlite") == 0 ? open_sqlite(&dir) : open_postgres();
	if (store_migrate(s, &err) < 0)
		die("migrate", &err);
	int64_t context, group;
	if (context_create(s, "bench", "bench.example", 0, &context, &err) < 0)
		die("context_create", &err);

	fprintf(stderr, "bench-store: %s: logins\n", driver);
	struct login_pool slow, cheap;
	set_argon2("2", "19m");
	pool_make(s, "slow", opt_rounds * LOGINS_SLOW, &slow);
	r->value[M_LOGIN_DEFAULT] = measure(s, op_first_login, &slow, LOGINS_SLOW, LOGINS_SLOW);
	/* Again with the same password, as a DAV client does on every request. */
	r->value[M_LOGIN_REPEATED] = measure(s, op_repeated_login, slow.logins[0], 5, 0);
	g_strfreev(slow.logins);
	set_argon2("1", "64k");
	pool_make(s, "cheap", opt_rounds * LOGINS_CHEAP, &cheap);
	r->value[M_LOGIN_CHEAP] = measure(s, op_first_login, &cheap, LOGINS_CHEAP, LOGINS_CHEAP);
	g_strfreev(cheap.logins);

	fprintf(stderr, "bench-store: %s: permission checks\n", driver);
	int64_t viewer = make_user(s, "viewer@bench.example");
	if (group_create(s, "bench", "staff", NULL, &group, &err) < 0 ||
	    group_add_member(s, "bench", "staff", "viewer@bench.example", &err) < 0)
		die("group", &err);
	int64_t alice = make_user(s, "alice@bench.example"), team;
	if (folder_create(s, alice, context, 0, false, FOLDER_CALENDAR, "Team", &team, &err) < 0)
		die("folder_create", &err);
	struct folder_perm viewer_perm;
	folder_perm_parse("viewer", &viewer_perm);
	if (folder_set_permission(s, alice, team, group, &viewer_perm, &err) < 0)
		die("folder_set_permission", &err);
	r->value[M_CHECK] = measure(s, op_check, &(struct check_ctx){viewer, team}, 1, 0);

	fprintf(stderr, "bench-store: %s: listing %d shared folders\n", driver, opt_folders);
	share_folders(s, context, viewer, group);
	/* The viewer's ten default folders, the shared ones and Team. */
	struct list_ctx list = {viewer, 10 + opt_folders + 1};
	r->value[M_LIST] = 1000.0 / measure(s, op_list, &list, 3, 0);
	r->ran = true;
	close_store(&s, dir);
}

static char *format_number(double v)
{
	/* Thousands separated; a decimal only where it still says something. */
	char *digits = v >= 100 || v == (long)v ? g_strdup_printf("%.0f", v)
	               : v >= 10                ? g_strdup_printf("%.1f", v)
	                                        : g_strdup_printf("%.2f", v);
	char *dot = strchr(digits, '.');
	size_t whole = dot != NULL ? (size_t)(dot - digits) : strlen(digits);
	GString *out = g_string_new(NULL);
	for (size_t i = 0; i < whole; i++) {
		if (i > 0 && (whole - i) % 3 == 0)
			g_string_append_c(out, ',');
		g_string_append_c(out, digits[i]);
	}
	if (dot != NULL)
		g_string_append(out, dot);
	g_free(digits);
	return g_string_free(out, FALSE);
}

static void print_table(const struct driver_result *sqlite, const struct driver_result *pg)
{
	const char *labels[M_COUNT] = {
		[M_LOGIN_DEFAULT] = "first logins/s, Argon2id default (ops 2, 19 MiB)",
		[M_LOGIN_CHEAP] = "first logins/s, Argon2id cheap (ops 1, 64 KiB)",
		[M_LOGIN_REPEATED] = "repeated logins/s (verified-password cache)",
		[M_CHECK] = "permission checks/s (folder_check, right through a group)",
		[M_LIST] = NULL,
	};
	char *folders = format_number(opt_folders);
	char *list_label =
		g_strdup_printf("folder_list with %s shared folders, ms per listing", folders);
	g_free(folders);
	labels[M_LIST] = list_label;
	printf("| measurement | SQLite | PostgreSQL |\n|---|---:|---:|\n");
	for (int m = 0; m < M_COUNT; m++) {
		char *a = sqlite->ran ? format_number(sqlite->value[m]) : g_strdup("-");
		char *b = pg->ran ? format_number(pg->value[m]) : g_strdup("-");
		printf("| %s | %s | %s |\n", labels[m], a, b);
		g_free(a);
		g_free(b);
	}
	g_free(list_label);
}

int main(int argc, char **argv)
{
	GOptionEntry entries[] = {
		{"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "Time per round (default 1)",
	         "S"},
		{"rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds,
	         "Rounds per measurement; the median is reported (default 5)", "N"},
		{"folders", 'f', 0, G_OPTION_ARG_INT, &opt_folders,
	         "Folders shared with the listing user (default 1000)", "N"},
		{"driver", 'd', 0, G_OPTION_ARG_STRING, &opt_driver,
	         "sqlite or postgres (default: sqlite, and postgres when PGHOST is set)", "NAME"},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GError *error = NULL;
	GOptionContext *ctx = g_option_context_new("- store benchmark");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "bench-store: %s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (opt_seconds <= 0 || opt_rounds < 1 || opt_folders < 1) {
		fprintf(stderr,
		        "bench-store: --seconds, --rounds and --folders must be positive\n");
		return 2;
	}
	auth_register_options();
	folder_register_hooks();
	/* Each login writes an audit line; the table is what this prints. */
	ox_log_set_level(OX_LOG_WARN);

	bool have_pg = g_getenv("PGHOST") != NULL || g_getenv("OX_BENCH_PG_DSN") != NULL;
	bool want_sqlite = opt_driver == NULL || strcmp(opt_driver, "sqlite") == 0;
	bool want_pg = opt_driver != NULL ? strcmp(opt_driver, "postgres") == 0 : have_pg;
	if (!want_sqlite && !want_pg) {
		fprintf(stderr, "bench-store: unknown driver %s\n", opt_driver);
		return 2;
	}
	struct driver_result sqlite = {0}, pg = {0};
	if (want_sqlite)
		run_driver("sqlite", &sqlite);
	if (want_pg)
		run_driver("postgres", &pg);
	print_table(&sqlite, &pg);
	return 0;
}
