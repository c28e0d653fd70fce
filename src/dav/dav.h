/* WebDAV (RFC 4918 classes 1, 2 and 3) under /dav/: one engine for every
 * kind of collection, specialised by providers (files now; calendars and
 * address books later). */
#ifndef OX_DAV_H
#define OX_DAV_H

/* Registers the /dav/ route and the built-in providers. */
void dav_routes(void);

#endif
