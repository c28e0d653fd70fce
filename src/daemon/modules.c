#include "daemon/modules.h"

#include "core/options.h"
#include "dav/dav.h"
#include "directory/auth.h"
#include "directory/directory-ldap.h"
#include "files/files.h"
#include "folder/folder.h"
#include "http/http.h"
#include "net/net.h"
#include "store/store.h"

/* LDAP checks passwords of users that have no local one. */
static int ldap_verify(const char *login, const char *password, struct ox_error *err)
{
	return ldap_authenticate(login, password, NULL, err);
}

void ox_modules_register(void)
{
	ox_core_register_options();
	store_register_options();
	auth_register_options();
	ldap_register_options();
	auth_set_external_verifier(ldap_verify);
	folder_register_hooks();
	files_register_hooks(); /* blobs of deleted files folders */
	http_register();        /* listener kinds http, https */
	files_register_options();
	net_register_options();
}

void ox_modules_configure(const struct ox_config *cfg)
{
	ox_core_configure(cfg);
	auth_configure(cfg);
	ldap_configure(cfg);
	files_configure(cfg);
	store_thread_configure(cfg);
	http_configure(cfg);
}

void ox_modules_routes(void)
{
	http_builtin_routes();
	dav_routes(); /* /dav/ and /.well-known/caldav; carddav comes with CardDAV */
}
