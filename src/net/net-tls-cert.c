/* A self-signed certificate for first start, so TLS listeners work with no
 * configuration. Clients will warn about it; production sets tls.*. */
#include "net/net-private.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <unistd.h>

#define SELF_SIGNED_DAYS 3650

static int add_extension(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Writes via a temporary file and rename so a crash leaves no half file. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert, char **error_r)
{
	char *tmp = g_strdup_printf("%s.tmp", path);
	int ret = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		*error_r = g_strdup_printf("cannot write %s: %s", tmp, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	int ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	                     : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	if (ok != 1 || rename(tmp, path) < 0) {
		*error_r = g_strdup_printf("cannot write %s", path);
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	g_free(tmp);
	return ret;
}

int net_tls_make_self_signed(const char *cert_path, const char *key_path, char **error_r)
{
	int ret = -1;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	if (key == NULL || cert == NULL) {
		*error_r = g_strdup("cannot generate a TLS key");
		goto out;
	}
	X509_set_version(cert, 2);
	unsigned char serial[16];
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 60L * 60 * 24 * SELF_SIGNED_DAYS);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"OX Server", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(cert, name);
	if (add_extension(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0 ||
	    add_extension(cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_extension(cert, NID_ext_key_usage, "serverAuth") < 0 ||
	    X509_sign(cert, key, EVP_sha256()) == 0) {
		*error_r = g_strdup("cannot build the self-signed certificate");
		goto out;
	}
	if (write_pem(key_path, 0600, key, NULL, error_r) < 0 ||
	    write_pem(cert_path, 0644, NULL, cert, error_r) < 0)
		goto out;
	ret = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
