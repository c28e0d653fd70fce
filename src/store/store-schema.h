#ifndef OX_STORE_SCHEMA_H
#define OX_STORE_SCHEMA_H

#include <stddef.h>

struct store_migration {
	int version; /* 1, 2, 3 ... without gaps */
	const char *description;
	const char *sql;
};

/* The migrations in order. */
const struct store_migration *store_migrations(size_t *count_r);

#endif
