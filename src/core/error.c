#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

int ox_error_set(struct ox_error *err, enum ox_error_code code, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

const char *ox_error_code_name(enum ox_error_code code)
{
	static const char *const names[] = {
		[OX_ERR_NONE] = "none",           [OX_ERR_NOT_FOUND] = "not_found",
		[OX_ERR_EXISTS] = "exists",       [OX_ERR_PERM] = "permission_denied",
		[OX_ERR_NO_QUOTA] = "over_quota", [OX_ERR_LIMIT] = "limit",
		[OX_ERR_INVALID] = "invalid",     [OX_ERR_CONFLICT] = "conflict",
		[OX_ERR_TEMP] = "temporary",      [OX_ERR_INTERNAL] = "internal",
	};
	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code] != NULL)
		return names[code];
	return "unknown";
}
