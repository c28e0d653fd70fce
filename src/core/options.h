#ifndef OX_CORE_OPTIONS_H
#define OX_CORE_OPTIONS_H

struct ox_config;

/* Registers server.* and log.* options. */
void ox_core_register_options(void);
/* Applies them (log level) at start and on reload. */
void ox_core_configure(const struct ox_config *cfg);

#endif
