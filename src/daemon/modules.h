/* The one place that knows every module: options, listener kinds, routes.
 * Adding a protocol or provider is one line here. */
#ifndef OX_DAEMON_MODULES_H
#define OX_DAEMON_MODULES_H

struct ox_config;

/* Registers every module's options and listener kinds; before config load. */
void ox_modules_register(void);
/* Applies configuration to every module (start and SIGHUP). */
void ox_modules_configure(const struct ox_config *cfg);
/* Registers every module's HTTP routes. */
void ox_modules_routes(void);

#endif
