/* The schema as numbered migrations. Never edit a migration that has been
 * released: add the next one. SQL must run on both drivers; @ID@ and @BLOB@
 * become each driver's auto-assigned key and binary types. */
#include "store/store-schema.h"

#include <glib.h>

static const struct store_migration migrations[] = {
	{1, "content-addressed blobs",
         "CREATE TABLE blobs ("
         " hash TEXT PRIMARY KEY," /* SHA-256, lower-case hex */
         " size BIGINT NOT NULL,"
         " refcount BIGINT NOT NULL DEFAULT 0,"
         " created BIGINT NOT NULL);"
         /* Blob bodies when they live in the database (PostgreSQL), in pieces
          * so none is ever read or written whole. */
         "CREATE TABLE blob_chunks ("
         " hash TEXT NOT NULL,"
         " seq INTEGER NOT NULL,"
         " data @BLOB@ NOT NULL,"
         " PRIMARY KEY (hash, seq));"},
	{2, "directory, authentication, folders, permissions, change log",
         "CREATE TABLE contexts ("
         " id @ID@,"
         " name TEXT NOT NULL UNIQUE,"
         " quota_bytes BIGINT NOT NULL DEFAULT 0,"
         " enabled INTEGER NOT NULL DEFAULT 1,"
         " created BIGINT NOT NULL);"
         "CREATE TABLE mail_domains ("
         " domain TEXT PRIMARY KEY,"
         " context_id BIGINT NOT NULL REFERENCES contexts (id) ON DELETE CASCADE);"
         /* Users, groups and resources share one id space so that a
          * permission or a membership can name any of them. */
         "CREATE TABLE principals ("
         " id @ID@,"
         " context_id BIGINT NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,"
         " kind INTEGER NOT NULL," /* enum principal_kind */
         " name TEXT NOT NULL,"
         " display_name TEXT NOT NULL,"
         " enabled INTEGER NOT NULL DEFAULT 1,"
         " created BIGINT NOT NULL,"
         " UNIQUE (context_id, kind, name));"
         "CREATE TABLE users ("
         " principal_id BIGINT PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,"
         " login TEXT NOT NULL UNIQUE,"
         " password_hash TEXT,"
         " time_zone TEXT NOT NULL,"
         " locale TEXT NOT NULL,"
         " quota_bytes BIGINT NOT NULL DEFAULT 0,"
         " ldap_dn TEXT);"
         "CREATE TABLE addresses ("
         " address TEXT PRIMARY KEY,"
         " principal_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " is_primary INTEGER NOT NULL DEFAULT 0);"
         "CREATE INDEX addresses_principal ON addresses (principal_id);"
         "CREATE TABLE group_members ("
         " group_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " member_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " PRIMARY KEY (group_id, member_id));"
         "CREATE INDEX group_members_member ON group_members (member_id);"
         "CREATE TABLE resources ("
         " principal_id BIGINT PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,"
         " is_room INTEGER NOT NULL,"
         " booking INTEGER NOT NULL," /* enum resource_booking */
         " manager_id BIGINT REFERENCES principals (id) ON DELETE SET NULL);"
         "CREATE TABLE app_passwords ("
         " id @ID@,"
         " user_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " label TEXT NOT NULL,"
         " secret_hash TEXT NOT NULL UNIQUE," /* SHA-256: the secret is random */
         " created BIGINT NOT NULL,"
         " last_used BIGINT NOT NULL DEFAULT 0,"
         " UNIQUE (user_id, label));"
         "CREATE TABLE sessions ("
         " token_hash TEXT PRIMARY KEY," /* SHA-256 of the cookie value */
         " user_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " csrf TEXT NOT NULL,"
         " client TEXT,"
         " created BIGINT NOT NULL,"
         " expires BIGINT NOT NULL);"
         "CREATE INDEX sessions_user ON sessions (user_id);"
         "CREATE TABLE auth_failures ("
         " subject TEXT PRIMARY KEY," /* 'user:LOGIN' or 'addr:ADDRESS' */
         " failures INTEGER NOT NULL,"
         " window_start BIGINT NOT NULL,"
         " locked_until BIGINT NOT NULL DEFAULT 0);"
         "CREATE TABLE audit_log ("
         " id @ID@,"
         " ts BIGINT NOT NULL,"
         " actor TEXT NOT NULL,"
         " action TEXT NOT NULL,"
         " target TEXT,"
         " remote TEXT,"
         " success INTEGER NOT NULL,"
         " detail TEXT);"
         /* One tree per context. owner_id is the user of a private folder and
          * NULL for a public one; account_id is whose modseq stamps changes in
          * it (the owner, or the context's public account, -context_id). */
         "CREATE TABLE folders ("
         " id @ID@,"
         " context_id BIGINT NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,"
         " parent_id BIGINT REFERENCES folders (id) ON DELETE CASCADE,"
         " owner_id BIGINT REFERENCES principals (id) ON DELETE CASCADE,"
         " account_id BIGINT NOT NULL,"
         " module INTEGER NOT NULL," /* enum folder_module */
         " name TEXT NOT NULL,"
         " role TEXT," /* default folder role: inbox, sent, calendar ... */
         " created_by BIGINT,"
         " created BIGINT NOT NULL,"
         " modseq BIGINT NOT NULL);"
         "CREATE INDEX folders_parent ON folders (parent_id);"
         "CREATE INDEX folders_owner ON folders (owner_id);"
         "CREATE UNIQUE INDEX folders_sibling_name ON folders (context_id, COALESCE(parent_id, 0),"
         " COALESCE(owner_id, 0), name);"
         "CREATE TABLE permissions ("
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " entity_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " bits BIGINT NOT NULL,"
         " PRIMARY KEY (folder_id, entity_id));"
         "CREATE INDEX permissions_entity ON permissions (entity_id);"
         "CREATE TABLE modseqs ("
         " account_id BIGINT PRIMARY KEY,"
         " modseq BIGINT NOT NULL);"
         /* The change log: the newest modseq of every object ever in a
          * folder; deleted objects stay as tombstones. */
         "CREATE TABLE changes ("
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " object TEXT NOT NULL,"
         " modseq BIGINT NOT NULL,"
         " created_by BIGINT,"
         " deleted INTEGER NOT NULL DEFAULT 0,"
         " PRIMARY KEY (folder_id, object));"
         "CREATE INDEX changes_modseq ON changes (folder_id, modseq);"
         "CREATE TABLE folder_tombstones ("
         " id BIGINT PRIMARY KEY,"
         " account_id BIGINT NOT NULL,"
         " parent_id BIGINT,"
         " modseq BIGINT NOT NULL);"},
	{3, "documents with versions, dead properties, DAV locks",
         /* A document is a name in a files folder; its content is the
          * current row of document_versions. Every version holds a
          * reference on its blob. */
         "CREATE TABLE documents ("
         " id @ID@,"
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " name TEXT NOT NULL,"
         " version INTEGER NOT NULL,"
         " created BIGINT NOT NULL,"
         " UNIQUE (folder_id, name));"
         "CREATE TABLE document_versions ("
         " document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
         " version INTEGER NOT NULL,"
         " blob_hash TEXT NOT NULL,"
         " size BIGINT NOT NULL,"
         " content_type TEXT NOT NULL,"
         " created_by BIGINT,"
         " created BIGINT NOT NULL,"
         " PRIMARY KEY (document_id, version));"
         /* WebDAV dead properties of a folder (document_id 0) or of one of
          * its documents; value is the property element as XML text. */
         "CREATE TABLE dead_properties ("
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " document_id BIGINT NOT NULL,"
         " namespace TEXT NOT NULL,"
         " name TEXT NOT NULL,"
         " value TEXT NOT NULL,"
         " PRIMARY KEY (folder_id, document_id, namespace, name));"
         /* WebDAV locks are on names, not objects (RFC 4918 6): a tree
          * ('files/42') and a path in it. depth -1 is infinity. */
         "CREATE TABLE dav_locks ("
         " token TEXT PRIMARY KEY,"
         " tree TEXT NOT NULL,"
         " path TEXT NOT NULL,"
         " depth INTEGER NOT NULL,"
         " exclusive INTEGER NOT NULL,"
         " owner TEXT,"
         " principal_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " timeout BIGINT NOT NULL,"
         " expires BIGINT NOT NULL);"
         "CREATE INDEX dav_locks_tree ON dav_locks (tree, path);"},
	{4, "calendars and calendar objects",
         /* What CalDAV adds to a calendar or task folder; default folders
          * have no row. segment is the name in the owner's calendar home. */
         "CREATE TABLE calendars ("
         " folder_id BIGINT PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE,"
         " owner_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " segment TEXT NOT NULL,"
         " display_name TEXT,"
         " components INTEGER NOT NULL," /* enum pim_component bits */
         " UNIQUE (owner_id, segment));"
         /* One iCalendar object (one UID) per row; first_start and last_end
          * bound every instance in UTC seconds, NULL when open. */
         "CREATE TABLE calendar_objects ("
         " id @ID@,"
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " name TEXT NOT NULL,"
         " uid TEXT NOT NULL,"
         " component INTEGER NOT NULL,"
         " first_start BIGINT,"
         " last_end BIGINT,"
         " etag TEXT NOT NULL,"
         " size BIGINT NOT NULL,"
         " data TEXT NOT NULL,"
         " created BIGINT NOT NULL,"
         " modified BIGINT NOT NULL,"
         " UNIQUE (folder_id, name),"
         " UNIQUE (folder_id, uid));"
         "CREATE INDEX calendar_objects_range ON calendar_objects (folder_id, first_start);"},
	{5, "address books and contacts",
         /* What CardDAV adds to a contacts folder; the default Contacts
          * folder has no row. segment is the name in the owner's home. */
         "CREATE TABLE addressbooks ("
         " folder_id BIGINT PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE,"
         " owner_id BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " segment TEXT NOT NULL,"
         " display_name TEXT,"
         " UNIQUE (owner_id, segment));"
         /* One vCard (one UID) per row as received; fn, n and the EMAIL and
          * TEL values (one a line) are what addressbook-query matches. */
         "CREATE TABLE contacts ("
         " id @ID@,"
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " name TEXT NOT NULL,"
         " uid TEXT NOT NULL,"
         " fn TEXT NOT NULL,"
         " n TEXT NOT NULL,"
         " emails TEXT NOT NULL,"
         " tels TEXT NOT NULL,"
         " etag TEXT NOT NULL,"
         " size BIGINT NOT NULL,"
         " data TEXT NOT NULL,"
         " created BIGINT NOT NULL,"
         " modified BIGINT NOT NULL,"
         " UNIQUE (folder_id, name),"
         " UNIQUE (folder_id, uid));"},
	{6, "scheduling (RFC 6638)",
         /* Whether an invitation also lands in the invitee's default
          * calendar (it always lands in their schedule inbox). */
         "ALTER TABLE users ADD COLUMN schedule_auto_add INTEGER NOT NULL DEFAULT 1;"
         /* Scheduling finds the copies of one event in every calendar of
          * its organizer and attendees by UID. */
         "CREATE INDEX calendar_objects_uid ON calendar_objects (uid);"},
	{7, "calendar feeds",
         /* A read-only ICS feed of one calendar, reached without a login by
          * a random token of which only the SHA-256 (lower-case hex) is
          * kept. It reads with its creator's rights, so it goes with the
          * calendar and with its creator. */
         "CREATE TABLE calendar_feeds ("
         " id @ID@,"
         " token_hash TEXT NOT NULL UNIQUE,"
         " folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
         " created_by BIGINT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,"
         " created BIGINT NOT NULL,"
         " last_used BIGINT NOT NULL DEFAULT 0);"
         "CREATE INDEX calendar_feeds_folder ON calendar_feeds (folder_id);"
         "CREATE INDEX calendar_feeds_creator ON calendar_feeds (created_by);"},
	{8, "calendar time zones",
         /* CALDAV:calendar-timezone (RFC 4791 5.2.2): a VCALENDAR with one
          * VTIMEZONE, as the client sent it. A table of its own, since
          * default calendar folders have no row in calendars; a folder
          * without a row here reads floating times in its owner's zone. */
         "CREATE TABLE calendar_timezones ("
         " folder_id BIGINT PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE,"
         " vtimezone TEXT NOT NULL);"},
	{9, "files usage counters for quotas",
         /* The bytes of every document version (current and older) in a
          * user's private files folders, and in all files folders of a
          * context (public ones too). The files service changes them in
          * the transaction of each write, so a quota check reads one row
          * instead of summing every version. */
         "CREATE TABLE files_user_usage ("
         " user_id BIGINT PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,"
         " bytes BIGINT NOT NULL);"
         "CREATE TABLE files_context_usage ("
         " context_id BIGINT PRIMARY KEY REFERENCES contexts (id) ON DELETE CASCADE,"
         " bytes BIGINT NOT NULL);"
         "INSERT INTO files_user_usage (user_id, bytes)"
         " SELECT f.owner_id, SUM(v.size) FROM document_versions v"
         " JOIN documents d ON d.id = v.document_id JOIN folders f ON f.id = d.folder_id"
         " WHERE f.owner_id IS NOT NULL GROUP BY f.owner_id;"
         "INSERT INTO files_context_usage (context_id, bytes)"
         " SELECT f.context_id, SUM(v.size) FROM document_versions v"
         " JOIN documents d ON d.id = v.document_id JOIN folders f ON f.id = d.folder_id"
         " GROUP BY f.context_id;"},
	{10, "schedule tags",
         /* RFC 6638 3.2.10: the Schedule-Tag of a scheduling object (one
          * with an ORGANIZER), kept beside its ETag; NULL for others. It
          * changes with every write but the server's merging of an
          * attendee's answer. Existing scheduling objects start from their
          * ETag (an opaque value like any other); inbox messages and public
          * calendars, which are never scheduled, have none. */
         "ALTER TABLE calendar_objects ADD COLUMN schedule_tag TEXT;"
         "UPDATE calendar_objects SET schedule_tag = etag"
         " WHERE data LIKE '%ORGANIZER%' AND folder_id IN (SELECT id FROM folders"
         " WHERE owner_id IS NOT NULL AND (role IS NULL OR role <> 'schedule-inbox'));"},
};

const struct store_migration *store_migrations(size_t *count_r)
{
	*count_r = G_N_ELEMENTS(migrations);
	return migrations;
}
