/* Protocol-neutral error codes. Services return 0 / -1 and fill a struct
 * ox_error; each protocol maps the code to its own words exactly once
 * (HTTP status, IMAP response code, SMTP reply, JMAP error type). */
#ifndef OX_CORE_ERROR_H
#define OX_CORE_ERROR_H

enum ox_error_code {
	OX_ERR_NONE = 0,
	OX_ERR_NOT_FOUND,
	OX_ERR_EXISTS,
	OX_ERR_PERM,
	OX_ERR_NO_QUOTA,
	OX_ERR_LIMIT,
	OX_ERR_INVALID,
	OX_ERR_CONFLICT,
	OX_ERR_TEMP,
	OX_ERR_INTERNAL,
};

struct ox_error {
	enum ox_error_code code;
	char message[256];
};

/* Sets code and a printf-formatted message; a NULL err is allowed and
 * ignored. Always returns -1 so callers can write `return ox_error_set(...)`. */
int ox_error_set(struct ox_error *err, enum ox_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stable lower-case name of a code ("not_found"), used in logs and JSON. */
const char *ox_error_code_name(enum ox_error_code code);

#endif
