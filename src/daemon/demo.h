/* `oxd --demo`: a demo tenant to try the server with. */
#ifndef OX_DAEMON_DEMO_H
#define OX_DAEMON_DEMO_H

struct ox_config;

/* Seeds the demo tenant into the configured (migrated) store: context
 * "demo" (demo.example), users alice, bob and carol, group "team" with all
 * three, room "room1", and alice's calendar "Team Calendar" shared with
 * the team as editor. Creates only what is missing, so later starts change
 * nothing. Passwords are generated once and kept in
 * DATA/demo-passwords.txt (mode 0600); the logins and passwords are printed
 * to stdout on every start. Returns 0, or -1 after printing why. */
int demo_seed(const struct ox_config *cfg);

#endif
