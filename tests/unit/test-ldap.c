/* LDAP authentication, listing and sync against a real slapd (Debian's
 * slapd package) that this binary starts on a free loopback port with a
 * throw-away database, and stops at the end. Without /usr/sbin/slapd the
 * server cases are skipped with a message; the filter cases always run. */
#include "core/config.h"
#include "core/error.h"
#include "directory/directory-ldap.h"
#include "directory/directory.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <ldap.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLAPD "/usr/sbin/slapd"
#define SLAPADD "/usr/sbin/slapadd"
#define SLAPPASSWD "/usr/sbin/slappasswd"
#define BASE "dc=example,dc=org"
#define READER_DN "cn=reader," BASE
#define ADMIN_DN "cn=admin," BASE
#define PEOPLE "ou=people," BASE
#define ALICE_DN "uid=alice," PEOPLE
#define BULK_USERS 1200

static struct {
	char *dir;
	GPid pid;
	int port;
	char *uri;
	char *skip; /* why the server cases cannot run, or NULL */
} slapd;

/* ---- the server ---- */

static char *hash_password(const char *password)
{
	const char *argv[] = {SLAPPASSWD, "-h", "{SSHA}", "-s", password, NULL};
	char *out = NULL;
	int status = 0;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
	                  NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		g_error("slappasswd failed");
	return g_strstrip(out);
}

static void write_file(const char *name, const char *text)
{
	char *path = g_build_filename(slapd.dir, name, NULL);
	GError *error = NULL;
	if (!g_file_set_contents(path, text, -1, &error))
		g_error("%s: %s", path, error->message);
	g_free(path);
}

static void write_config(void)
{
	/* allow bind_anon_dn: accept unauthenticated binds (a DN, no
	 * password) as many servers do, so that the guard against empty
	 * passwords is what the tests see. */
	char *conf = g_strdup_printf("allow bind_anon_dn\n"
	                             "include /etc/ldap/schema/core.schema\n"
	                             "include /etc/ldap/schema/cosine.schema\n"
	                             "include /etc/ldap/schema/inetorgperson.schema\n"
	                             "pidfile %s/slapd.pid\n"
	                             "modulepath /usr/lib/ldap\n"
	                             "moduleload back_mdb\n"
	                             "database mdb\n"
	                             "suffix \"" BASE "\"\n"
	                             "rootdn \"" ADMIN_DN "\"\n"
	                             "rootpw adminpw\n"
	                             "directory %s/db\n"
	                             "maxsize 10485760\n"
	                             /* Paged searches past the size limit of 500, as a
	                              * directory for a sync would be set up. */
	                             "limits dn.exact=\"" READER_DN "\" size.prtotal=unlimited\n"
	                             /* Only the service account may search: an anonymous search
	                              * fails, so the tests show that bind_dn is used. */
	                             "access to attrs=userPassword by anonymous auth by * none\n"
	                             "access to * by dn.exact=\"" READER_DN "\" read by self read"
	                             " by anonymous auth by * none\n",
	                             slapd.dir, slapd.dir);
	write_file("slapd.conf", conf);
	g_free(conf);
}

static void append_person(GString *ldif, const char *uid, const char *cn, const char *sn,
                          const char *mail, const char *password)
{
	char *hash = hash_password(password);
	g_string_append_printf(ldif,
	                       "dn: uid=%s,ou=people," BASE "\n"
	                       "objectClass: inetOrgPerson\n"
	                       "uid: %s\ncn: %s\nsn: %s\nmail: %s\nuserPassword: %s\n\n",
	                       uid, uid, cn, sn, mail, hash);
	g_free(hash);
}

static void write_data(void)
{
	GString *ldif = g_string_new("dn: " BASE "\n"
	                             "objectClass: dcObject\nobjectClass: organization\n"
	                             "o: Example\ndc: example\n\n"
	                             "dn: ou=people," BASE "\n"
	                             "objectClass: organizationalUnit\nou: people\n\n");
	char *reader = hash_password("readerpw");
	g_string_append_printf(ldif,
	                       "dn: " READER_DN "\n"
	                       "objectClass: organizationalRole\n"
	                       "objectClass: simpleSecurityObject\n"
	                       "cn: reader\nuserPassword: %s\n\n",
	                       reader);
	g_free(reader);
	append_person(ldif, "alice", "Alice Liddell", "Liddell", "alice@example.org", "alicepw");
	append_person(ldif, "bob", "Bob Dylan", "Dylan", "bob@example.org", "bobpw");
	append_person(ldif, "carol", "Carol Shaw", "Shaw", "carol@example.net", "carolpw");
	/* More than slapd's default size limit (500) and than one page. */
	g_string_append(ldif,
	                "dn: ou=bulk," BASE "\nobjectClass: organizationalUnit\nou: bulk\n\n");
	for (int i = 0; i < BULK_USERS; i++)
		g_string_append_printf(
			ldif,
			"dn: uid=bulk%d,ou=bulk," BASE "\n"
			"objectClass: inetOrgPerson\n"
			"uid: bulk%d\ncn: Bulk %d\nsn: Bulk\nmail: bulk%d@bulk.example\n\n",
			i, i, i, i);
	write_file("data.ldif", ldif->str);
	g_string_free(ldif, TRUE);
}

static void load_data(void)
{
	char *conf = g_build_filename(slapd.dir, "slapd.conf", NULL);
	char *data = g_build_filename(slapd.dir, "data.ldif", NULL);
	const char *argv[] = {SLAPADD, "-q", "-f", conf, "-l", data, NULL};
	int status = 0;
	GError *error = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, NULL, NULL, &status, &error) ||
	    !g_spawn_check_wait_status(status, &error))
		g_error("slapadd: %s", error->message);
	g_free(conf);
	g_free(data);
}

/* A port that was free a moment ago on 127.0.0.1. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		g_error("free port: %s", g_strerror(errno));
	close(fd);
	return ntohs(sin.sin_port);
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void child_setup(gpointer data)
{
	/* slapd must not outlive a test binary that crashes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts slapd in the foreground (-d 0 keeps it from forking); true once
 * it accepts connections, false when it exited (a port taken meanwhile). */
static bool spawn_slapd(void)
{
	char *conf = g_build_filename(slapd.dir, "slapd.conf", NULL);
	char *url = g_strdup_printf("ldap://127.0.0.1:%d/", slapd.port);
	const char *argv[] = {SLAPD, "-f", conf, "-h", url, "-d", "0", NULL};
	GError *error = NULL;
	if (!g_spawn_async(NULL, (char **)argv, NULL,
	                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, child_setup,
	                   NULL, &slapd.pid, &error))
		g_error("slapd: %s", error->message);
	g_free(conf);
	g_free(url);
	for (int i = 0; i < 200; i++) {
		int status;
		if (waitpid(slapd.pid, &status, WNOHANG) == slapd.pid) {
			slapd.pid = 0;
			return false;
		}
		if (port_open(slapd.port))
			return true;
		g_usleep(50 * 1000);
	}
	g_error("slapd did not listen on port %d within 10 s", slapd.port);
}

static void start_slapd(void)
{
	if (!g_file_test(SLAPD, G_FILE_TEST_IS_EXECUTABLE)) {
		slapd.skip = g_strdup(SLAPD " is not installed (Debian package slapd)");
		return;
	}
	slapd.dir = g_dir_make_tmp("ox-ldap-XXXXXX", NULL);
	char *db = g_build_filename(slapd.dir, "db", NULL);
	g_mkdir(db, 0700);
	g_free(db);
	write_config();
	write_data();
	load_data();
	for (int tries = 0; tries < 5; tries++) {
		slapd.port = free_port();
		if (spawn_slapd()) {
			slapd.uri = g_strdup_printf("ldap://127.0.0.1:%d", slapd.port);
			return;
		}
	}
	g_error("slapd would not start");
}

static void remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		char *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			remove_tree(child);
		else
			unlink(child);
		g_free(child);
	}
	if (dir != NULL)
		g_dir_close(dir);
	rmdir(path);
}

static void stop_slapd(void)
{
	if (slapd.pid > 0) {
		kill(slapd.pid, SIGCONT);
		kill(slapd.pid, SIGTERM);
		int status;
		for (int i = 0; i < 100 && waitpid(slapd.pid, &status, WNOHANG) == 0; i++)
			g_usleep(50 * 1000);
		if (waitpid(slapd.pid, &status, WNOHANG) == 0) {
			kill(slapd.pid, SIGKILL);
			waitpid(slapd.pid, &status, 0);
		}
		g_spawn_close_pid(slapd.pid);
		slapd.pid = 0;
	}
	if (slapd.dir != NULL)
		remove_tree(slapd.dir);
	g_free(slapd.dir);
	g_free(slapd.uri);
	g_free(slapd.skip);
}

static bool need_slapd(void)
{
	if (slapd.skip != NULL)
		g_test_skip(slapd.skip);
	return slapd.skip == NULL;
}

/* ---- configuration ---- */

/* Applies ldap.* options: the test server with the service account, then
 * the NULL-terminated "key=value" overrides given. */
static void configure(const char *first, ...)
{
	GPtrArray *sets = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(sets, g_strdup_printf("ldap.uri=%s", slapd.uri ? slapd.uri : ""));
	g_ptr_array_add(sets, g_strdup("ldap.base_dn=" PEOPLE));
	g_ptr_array_add(sets, g_strdup("ldap.bind_dn=" READER_DN));
	g_ptr_array_add(sets, g_strdup("ldap.bind_password=readerpw"));
	g_ptr_array_add(sets, g_strdup("ldap.timeout=1s"));
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		g_ptr_array_add(sets, g_strdup_printf("ldap.%s", s));
	va_end(ap);
	g_ptr_array_add(sets, NULL);
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, (const char *const *)sets->pdata, &error);
	if (cfg == NULL)
		g_error("config: %s", error);
	ldap_configure(cfg);
	ox_config_free(&cfg);
	g_ptr_array_free(sets, TRUE);
}

static void test_options(void)
{
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, NULL, &error);
	g_assert_nonnull(cfg);
	g_assert_cmpstr(ox_config_string(cfg, "ldap", "uri"), ==, "");
	g_assert_cmpstr(ox_config_string(cfg, "ldap", "user_filter"), ==,
	                "(&(objectClass=inetOrgPerson)(mail=%s))");
	g_assert_cmpint(ox_config_int(cfg, "ldap", "timeout"), ==, 5000);
	g_assert_false(ox_config_bool(cfg, "ldap", "starttls"));
	ldap_configure(cfg);
	ox_config_free(&cfg);
	g_assert_false(ldap_enabled());
	/* Off: nobody is known, nothing is listed, and nothing fails. */
	struct ox_error err = {0};
	g_assert_cmpint(ldap_authenticate("alice@example.org", "alicepw", NULL, &err), ==, 0);

	const char *bad[][2] = {
		{"ldap.uri=http://example.org", "ldap.uri"},
		{"ldap.user_filter=(mail=alice)", "ldap.user_filter"},
		{"ldap.list_filter=objectClass=*", "ldap.list_filter"},
		{"ldap.base_dn=not a dn", "ldap.base_dn"},
		{"ldap.login_attribute=mail)(x", "ldap.login_attribute"},
		{"ldap.timeout=0", "ldap.timeout"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *sets[] = {bad[i][0], NULL};
		cfg = ox_config_load(NULL, sets, &error);
		g_assert_null(cfg);
		g_assert_nonnull(strstr(error, bad[i][1]));
		g_free(error);
		error = NULL;
	}
}

/* ---- filters ---- */

static void check_escape(const char *in, const char *expected)
{
	char *out = ldap_filter_escape(in);
	g_assert_cmpstr(out, ==, expected);
	g_free(out);
}

static void test_filter_escape(void)
{
	check_escape("alice@example.org", "alice@example.org");
	check_escape("", "");
	check_escape("*", "\\2a");
	check_escape("(", "\\28");
	check_escape(")", "\\29");
	check_escape("\\", "\\5c");
	check_escape("*)(uid=*", "\\2a\\29\\28uid=\\2a");
	check_escape("a\\2a", "a\\5c2a");
	check_escape("tab\there\x7f", "tab\\09here\\7f");
	check_escape("J\xc3\xb6rg", "J\xc3\xb6rg"); /* UTF-8 goes as it is */
}

static void test_filter_build(void)
{
	char *f = ldap_filter_build("(&(objectClass=inetOrgPerson)(mail=%s))", "*)(uid=*");
	g_assert_cmpstr(f, ==, "(&(objectClass=inetOrgPerson)(mail=\\2a\\29\\28uid=\\2a))");
	g_free(f);
	f = ldap_filter_build("(|(uid=%s)(mail=%s))", "a(b");
	g_assert_cmpstr(f, ==, "(|(uid=a\\28b)(mail=a\\28b))");
	g_free(f);
	/* Only %s is special: a value with %s or %d in it is taken literally. */
	f = ldap_filter_build("(x=%d%%%s)", "%s");
	g_assert_cmpstr(f, ==, "(x=%d%%%s)");
	g_free(f);
}

/* ---- authentication ---- */

static int auth(const char *login, const char *password, char **dn_r, struct ox_error *err)
{
	memset(err, 0, sizeof(*err));
	return ldap_authenticate(login, password, dn_r, err);
}

static void test_auth_ok(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	g_assert_true(ldap_enabled());
	struct ox_error err;
	char *dn = NULL;
	g_assert_cmpint(auth("alice@example.org", "alicepw", &dn, &err), ==, 1);
	g_assert_cmpstr(dn, ==, ALICE_DN);
	g_free(dn);
	dn = NULL;
	g_assert_cmpint(auth("carol@example.net", "carolpw", &dn, &err), ==, 1);
	g_assert_cmpstr(dn, ==, "uid=carol,ou=people," BASE);
	g_free(dn);
	/* mail matches without regard to case (caseIgnoreIA5Match). */
	g_assert_cmpint(auth("ALICE@Example.ORG", "alicepw", NULL, &err), ==, 1);
}

static void test_auth_refused(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	struct ox_error err;
	char *dn = NULL;
	g_assert_cmpint(auth("alice@example.org", "wrong", &dn, &err), ==, 0);
	g_assert_null(dn);
	g_assert_cmpint(auth("alice@example.org", "bobpw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("nobody@example.org", "alicepw", &dn, &err), ==, 0);
	g_assert_null(dn);
	/* An empty password would be an unauthenticated bind, which this
	 * slapd answers with success for any DN. */
	g_assert_cmpint(auth("alice@example.org", "", &dn, &err), ==, 0);
	g_assert_cmpint(auth("", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth(NULL, "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("alice@example.org", NULL, &dn, &err), ==, 0);
	g_assert_cmpint(auth("alice@example.org\xff", "alicepw", &dn, &err), ==, 0);
	char *long_login = g_strnfill(5000, 'a');
	g_assert_cmpint(auth(long_login, "alicepw", &dn, &err), ==, 0);
	g_free(long_login);
	g_assert_null(dn);
}

static void test_auth_injection(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	struct ox_error err;
	char *dn = NULL;
	/* Unescaped, "a*" would find exactly alice, and her password would
	 * then log in under a login that is not hers. */
	g_assert_cmpint(auth("a*", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("*", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("*)(uid=*", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("alice@example.org)(|(mail=*", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("*)(|(objectClass=*", "alicepw", &dn, &err), ==, 0);
	g_assert_cmpint(auth("alice@example.org\\", "alicepw", &dn, &err), ==, 0);
	g_assert_null(dn);
	/* A filter on another attribute shows the escaping reaches the server
	 * intact: the literal value still matches. */
	configure("user_filter=(&(objectClass=inetOrgPerson)(uid=%s))", NULL);
	g_assert_cmpint(auth("alice", "alicepw", &dn, &err), ==, 1);
	g_assert_cmpstr(dn, ==, ALICE_DN);
	g_free(dn);
	g_assert_cmpint(auth("al*", "alicepw", NULL, &err), ==, 0);
	/* A filter that matches several entries refuses rather than guess. */
	configure("user_filter=(&(objectClass=inetOrgPerson)(|(uid=%s)(sn=*)))", NULL);
	g_assert_cmpint(auth("alice", "alicepw", NULL, &err), ==, 0);
}

static void test_auth_service_account(void)
{
	if (!need_slapd())
		return;
	struct ox_error err;
	/* The server refuses the service account: a configuration error. */
	configure("bind_password=wrong", NULL);
	g_assert_cmpint(auth("alice@example.org", "alicepw", NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_INTERNAL);
	g_assert_nonnull(strstr(err.message, "Invalid credentials"));
	/* Anonymous searches see nothing here: nobody is found, or the
	 * search is refused outright. */
	configure("bind_dn=", "bind_password=", NULL);
	int r = auth("alice@example.org", "alicepw", NULL, &err);
	g_assert_cmpint(r, <=, 0);
	if (r < 0)
		g_assert_cmpint(err.code, ==, OX_ERR_INTERNAL);
}

static void test_auth_starttls_unavailable(void)
{
	if (!need_slapd())
		return;
	/* The test server has no certificate: StartTLS fails, and the
	 * password must then not be sent in the clear instead. */
	configure("starttls=true", NULL);
	struct ox_error err;
	g_assert_cmpint(auth("alice@example.org", "alicepw", NULL, &err), ==, -1);
	g_test_message("%s", err.message);
	g_assert_nonnull(strstr(err.message, "StartTLS"));
}

struct thread_result {
	int ok;
};

static gpointer auth_thread(gpointer data)
{
	struct thread_result *res = data;
	struct ox_error err = {0};
	for (int i = 0; i < 5; i++) {
		const char *pw = i % 2 == 0 ? "alicepw" : "wrong";
		if (ldap_authenticate("alice@example.org", pw, NULL, &err) == (i % 2 == 0 ? 1 : 0))
			res->ok++;
	}
	return NULL;
}

static void test_auth_threads(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	GThread *threads[8];
	struct thread_result results[8] = {{0}};
	for (int i = 0; i < 8; i++)
		threads[i] = g_thread_new("auth", auth_thread, &results[i]);
	for (int i = 0; i < 8; i++) {
		g_thread_join(threads[i]);
		g_assert_cmpint(results[i].ok, ==, 5);
	}
}

/* ---- an unreachable server ---- */

static void check_temp(const char *what)
{
	struct ox_error err;
	gint64 start = g_get_monotonic_time();
	int r = auth("alice@example.org", "alicepw", NULL, &err);
	gint64 ms = (g_get_monotonic_time() - start) / 1000;
	g_test_message("%s: %s after %" G_GINT64_FORMAT " ms", what, err.message, ms);
	g_assert_cmpint(r, ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_TEMP);
	/* ldap.timeout is 1s for the whole authentication. */
	g_assert_cmpint(ms, <, 1800);
}

static void test_down_refused(void)
{
	if (!need_slapd())
		return;
	char *uri = g_strdup_printf("uri=ldap://127.0.0.1:%d", free_port());
	configure(uri, NULL);
	g_free(uri);
	check_temp("closed port");
	struct ox_error err = {0};
	g_assert_cmpint(ldap_list_users(NULL, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_TEMP);
}

static void test_down_hung(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	/* A stopped slapd still completes TCP handshakes (the kernel does)
	 * but never answers: only the timeout ends the wait. */
	kill(slapd.pid, SIGSTOP);
	check_temp("stopped server");
	configure("bind_dn=", "bind_password=", NULL);
	check_temp("stopped server, anonymous search");
	kill(slapd.pid, SIGCONT);
	configure(NULL);
	struct ox_error err;
	g_assert_cmpint(auth("alice@example.org", "alicepw", NULL, &err), ==, 1);
}

/* ---- listing ---- */

struct listed {
	GHashTable *by_login; /* login -> "dn|name|mail,mail" */
	int stop_after;
};

static int collect(const struct ldap_user *u, void *ctx)
{
	struct listed *l = ctx;
	char *mails = g_strjoinv(",", (char **)u->mail);
	g_hash_table_insert(l->by_login, g_strdup(u->login),
	                    g_strdup_printf("%s|%s|%s", u->dn, u->display_name, mails));
	g_free(mails);
	if (l->stop_after > 0 && (int)g_hash_table_size(l->by_login) >= l->stop_after)
		return 7;
	return 0;
}

static void test_list(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	struct listed l = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0};
	struct ox_error err = {0};
	g_assert_cmpint(ldap_list_users(collect, &l, &err), ==, 0);
	g_assert_cmpint(g_hash_table_size(l.by_login), ==, 3);
	g_assert_cmpstr(g_hash_table_lookup(l.by_login, "alice@example.org"), ==,
	                ALICE_DN "|Alice Liddell|alice@example.org");
	g_assert_cmpstr(g_hash_table_lookup(l.by_login, "bob@example.org"), ==,
	                "uid=bob,ou=people," BASE "|Bob Dylan|bob@example.org");
	g_assert_cmpstr(g_hash_table_lookup(l.by_login, "carol@example.net"), ==,
	                "uid=carol,ou=people," BASE "|Carol Shaw|carol@example.net");

	/* The callback's non-zero value stops the listing and comes back. */
	g_hash_table_remove_all(l.by_login);
	l.stop_after = 1;
	g_assert_cmpint(ldap_list_users(collect, &l, &err), ==, 7);
	g_assert_cmpint(g_hash_table_size(l.by_login), ==, 1);

	/* Another login attribute and filter. */
	g_hash_table_remove_all(l.by_login);
	l.stop_after = 0;
	configure("login_attribute=uid", "list_filter=(&(objectClass=inetOrgPerson)(sn=Shaw))",
	          NULL);
	g_assert_cmpint(ldap_list_users(collect, &l, &err), ==, 0);
	g_assert_cmpint(g_hash_table_size(l.by_login), ==, 1);
	g_assert_true(g_hash_table_contains(l.by_login, "carol"));
	g_hash_table_destroy(l.by_login);
}

static int count(const struct ldap_user *u, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_list_paged(void)
{
	if (!need_slapd())
		return;
	/* A plain search would stop at slapd's size limit of 500 entries;
	 * pages of 500 get all of them. */
	configure("base_dn=" BASE, NULL);
	int n = 0;
	struct ox_error err = {0};
	g_assert_cmpint(ldap_list_users(count, &n, &err), ==, 0);
	g_assert_cmpint(n, ==, BULK_USERS + 3);
}

/* ---- sync ---- */

static void set_cn(const char *dn, const char *cn)
{
	LDAP *ld = NULL;
	g_assert_cmpint(ldap_initialize(&ld, slapd.uri), ==, LDAP_SUCCESS);
	int version = LDAP_VERSION3;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	struct berval pw = {.bv_len = 7, .bv_val = "adminpw"};
	g_assert_cmpint(ldap_sasl_bind_s(ld, ADMIN_DN, LDAP_SASL_SIMPLE, &pw, NULL, NULL, NULL), ==,
	                LDAP_SUCCESS);
	char *values[] = {(char *)cn, NULL};
	LDAPMod mod = {.mod_op = LDAP_MOD_REPLACE, .mod_type = "cn", .mod_values = values};
	LDAPMod *mods[] = {&mod, NULL};
	g_assert_cmpint(ldap_modify_ext_s(ld, dn, mods, NULL, NULL), ==, LDAP_SUCCESS);
	ldap_unbind_ext_s(ld, NULL, NULL);
}

static void check_user(struct store *s, const char *login, const char *name, const char *dn)
{
	struct user_info info;
	struct ox_error err = {0};
	g_assert_cmpint(user_lookup(s, login, &info, &err), ==, 1);
	g_assert_cmpstr(info.display_name, ==, name);
	g_assert_cmpstr(info.ldap_dn, ==, dn);
	user_info_clear(&info);
}

static void run_sync(struct store *s, int created, int updated)
{
	struct ox_error err = {0};
	int c = -1, u = -1;
	if (ldap_sync_users(s, &c, &u, &err) < 0)
		g_error("sync: %s", err.message);
	g_assert_cmpint(c, ==, created);
	g_assert_cmpint(u, ==, updated);
}

static void test_sync(void)
{
	if (!need_slapd())
		return;
	configure(NULL);
	char *dir = g_dir_make_tmp("ox-ldap-store-XXXXXX", NULL);
	char *path = g_build_filename(dir, "ox.db", NULL);
	struct ox_error err = {0};
	struct store *s = store_open("sqlite", path, &err);
	g_assert_nonnull(s);
	g_assert_cmpint(store_migrate(s, &err), ==, 0);
	int64_t ctx = 0;
	g_assert_cmpint(context_create(s, "example", "example.org", 0, &ctx, &err), ==, 0);
	/* A local bob exists already: LDAP must not take him over. */
	struct user_create bob = {.login = "bob@example.org",
	                          .display_name = "Local Bob",
	                          .password = "local bob's password"};
	g_assert_cmpint(user_create(s, &bob, NULL, &err), ==, 0);

	/* alice is made; bob is local; example.net belongs to no context. */
	run_sync(s, 1, 0);
	check_user(s, "alice@example.org", "Alice Liddell", ALICE_DN);
	check_user(s, "bob@example.org", "Local Bob", NULL);
	struct user_info info;
	g_assert_cmpint(user_lookup(s, "carol@example.net", &info, &err), ==, 0);
	run_sync(s, 0, 0);

	g_assert_cmpint(context_add_domain(s, ctx, "example.net", &err), ==, 0);
	set_cn(ALICE_DN, "Alice Pleasance Liddell");
	run_sync(s, 1, 1);
	check_user(s, "alice@example.org", "Alice Pleasance Liddell", ALICE_DN);
	check_user(s, "carol@example.net", "Carol Shaw", "uid=carol,ou=people," BASE);
	check_user(s, "bob@example.org", "Local Bob", NULL);
	run_sync(s, 0, 0);

	/* The server going away fails the sync and changes nothing. */
	char *uri = g_strdup_printf("uri=ldap://127.0.0.1:%d", free_port());
	configure(uri, NULL);
	g_free(uri);
	int c = -1, u = -1;
	g_assert_cmpint(ldap_sync_users(s, &c, &u, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_TEMP);
	g_assert_cmpint(c, ==, 0);
	g_assert_cmpint(u, ==, 0);

	store_close(&s);
	remove_tree(dir);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN); /* as oxd does */
	ldap_register_options();
	start_slapd();
	g_test_add_func("/ldap/options", test_options);
	g_test_add_func("/ldap/filter/escape", test_filter_escape);
	g_test_add_func("/ldap/filter/build", test_filter_build);
	g_test_add_func("/ldap/auth/ok", test_auth_ok);
	g_test_add_func("/ldap/auth/refused", test_auth_refused);
	g_test_add_func("/ldap/auth/injection", test_auth_injection);
	g_test_add_func("/ldap/auth/service-account", test_auth_service_account);
	g_test_add_func("/ldap/auth/starttls-unavailable", test_auth_starttls_unavailable);
	g_test_add_func("/ldap/auth/threads", test_auth_threads);
	g_test_add_func("/ldap/down/refused", test_down_refused);
	g_test_add_func("/ldap/down/hung", test_down_hung);
	g_test_add_func("/ldap/list", test_list);
	g_test_add_func("/ldap/list/paged", test_list_paged);
	g_test_add_func("/ldap/sync", test_sync);
	int ret = g_test_run();
	stop_slapd();
	return ret;
}
