/* The permission model in pure functions: packing, parsing, the decision
 * for given rights, and its three protocol mappings. */
#include "folder/folder.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	struct folder_perm perm;
} roles[] = {
	{"none", {0, 0, 0, 0, false}},
	{"viewer", {PERM_FOLDER_SEE, PERM_OBJECTS_ALL, 0, 0, false}},
	{"author",
         {PERM_FOLDER_CREATE_OBJECTS, PERM_OBJECTS_ALL, PERM_OBJECTS_OWN, PERM_OBJECTS_OWN, false}},
	{"editor",
         {PERM_FOLDER_CREATE_SUBFOLDERS, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL, PERM_OBJECTS_ALL,
          false}},
	{"admin",
         {PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN, true}},
};

uint32_t folder_perm_pack(const struct folder_perm *p)
{
	return (uint32_t)(p->folder & 0x7f) | (uint32_t)(p->read & 0x7f) << 7 |
	       (uint32_t)(p->write & 0x7f) << 14 | (uint32_t)(p->del & 0x7f) << 21 |
	       (uint32_t)(p->admin ? 1 : 0) << 28;
}

void folder_perm_unpack(uint32_t bits, struct folder_perm *p)
{
	p->folder = (int)(bits & 0x7f);
	p->read = (int)(bits >> 7 & 0x7f);
	p->write = (int)(bits >> 14 & 0x7f);
	p->del = (int)(bits >> 21 & 0x7f);
	p->admin = (bits >> 28 & 1) != 0;
}

static bool folder_level_valid(int v)
{
	return v == 0 || v == 1 || v == 2 || v == 4 || v == 64;
}

static bool object_level_valid(int v)
{
	return v == 0 || v == 1 || v == 2 || v == 64;
}

int folder_perm_parse(const char *text, struct folder_perm *p)
{
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++) {
		if (g_ascii_strcasecmp(text, roles[i].name) == 0) {
			*p = roles[i].perm;
			return 0;
		}
	}
	int f, r, w, d, a;
	char tail;
	if (sscanf(text, "%d/%d/%d/%d/%d%c", &f, &r, &w, &d, &a, &tail) != 5)
		return -1;
	if (!folder_level_valid(f) || !object_level_valid(r) || !object_level_valid(w) ||
	    !object_level_valid(d) || (a != 0 && a != 1))
		return -1;
	*p = (struct folder_perm){f, r, w, d, a != 0};
	return 0;
}

const char *folder_perm_format(const struct folder_perm *p)
{
	static __thread char buf[32];
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++) {
		if (folder_perm_pack(&roles[i].perm) == folder_perm_pack(p))
			return roles[i].name;
	}
	g_snprintf(buf, sizeof(buf), "%d/%d/%d/%d/%d", p->folder, p->read, p->write, p->del,
	           p->admin ? 1 : 0);
	return buf;
}

static bool object_allowed(int level, bool own_object)
{
	return level >= PERM_OBJECTS_ALL || (level == PERM_OBJECTS_OWN && own_object);
}

bool folder_rights_allow(const struct folder_perm *r, enum folder_action action, bool own_object)
{
	/* Nothing in a folder one cannot see. */
	if (r->folder < PERM_FOLDER_SEE && !r->admin)
		return false;
	switch (action) {
	case FOLDER_SEE:
		return true;
	case FOLDER_CREATE_OBJECT:
		return r->folder >= PERM_FOLDER_CREATE_OBJECTS;
	case FOLDER_CREATE_SUBFOLDER:
		return r->folder >= PERM_FOLDER_CREATE_SUBFOLDERS;
	case FOLDER_READ_OBJECT:
		return object_allowed(r->read, own_object);
	case FOLDER_WRITE_OBJECT:
		return object_allowed(r->write, own_object);
	case FOLDER_DELETE_OBJECT:
		return object_allowed(r->del, own_object);
	case FOLDER_ADMIN:
		return r->admin;
	}
	return false;
}

/* IMAP (RFC 4314 2.1): l lookup, r read, s keep seen, w write flags,
 * i insert, p post, k create mailboxes, x delete mailbox, t delete
 * messages, e expunge, a administer. Message rights need "all": IMAP has
 * no notion of own messages. */
void folder_perm_to_imap(const struct folder_perm *p, char out[16])
{
	int n = 0;
	bool see = p->folder >= PERM_FOLDER_SEE || p->admin;
	if (see)
		out[n++] = 'l';
	if (see && p->read >= PERM_OBJECTS_ALL) {
		out[n++] = 'r';
		out[n++] = 's';
	}
	if (see && p->write >= PERM_OBJECTS_ALL)
		out[n++] = 'w';
	if (see && p->folder >= PERM_FOLDER_CREATE_OBJECTS) {
		out[n++] = 'i';
		out[n++] = 'p';
	}
	if (see && p->folder >= PERM_FOLDER_CREATE_SUBFOLDERS)
		out[n++] = 'k';
	if (p->admin)
		out[n++] = 'x';
	if (see && p->del >= PERM_OBJECTS_ALL) {
		out[n++] = 't';
		out[n++] = 'e';
	}
	if (p->admin)
		out[n++] = 'a';
	out[n] = '\0';
}

int folder_perm_from_imap(const char *rights, struct folder_perm *p)
{
	*p = (struct folder_perm){0};
	for (const char *c = rights; *c != '\0'; c++) {
		switch (*c) {
		case 'l':
			p->folder = MAX(p->folder, PERM_FOLDER_SEE);
			break;
		case 'r':
		case 's':
			p->read = PERM_OBJECTS_ALL;
			break;
		case 'w':
			p->write = PERM_OBJECTS_ALL;
			break;
		case 'i':
		case 'p':
			p->folder = MAX(p->folder, PERM_FOLDER_CREATE_OBJECTS);
			break;
		case 'k':
		case 'c': /* RFC 2086, obsolete: create */
			p->folder = MAX(p->folder, PERM_FOLDER_CREATE_SUBFOLDERS);
			break;
		case 't':
		case 'e':
		case 'd': /* RFC 2086, obsolete: delete */
			p->del = PERM_OBJECTS_ALL;
			break;
		case 'x':
		case 'a':
			p->admin = true;
			break;
		default:
			return -1;
		}
	}
	/* Any right implies seeing the folder. */
	if (p->folder == 0 && (p->read || p->write || p->del || p->admin))
		p->folder = PERM_FOLDER_SEE;
	return 0;
}

unsigned folder_perm_to_dav(const struct folder_perm *p)
{
	unsigned privs = 0;
	bool see = p->folder >= PERM_FOLDER_SEE || p->admin;
	if (!see)
		return 0;
	privs |= DAV_PRIV_READ_CURRENT_USER_PRIVILEGE_SET | DAV_PRIV_READ_FREE_BUSY;
	if (p->read >= PERM_OBJECTS_ALL)
		privs |= DAV_PRIV_READ;
	if (p->write >= PERM_OBJECTS_ALL)
		privs |= DAV_PRIV_WRITE_CONTENT;
	if (p->folder >= PERM_FOLDER_CREATE_OBJECTS)
		privs |= DAV_PRIV_BIND;
	if (p->del >= PERM_OBJECTS_ALL)
		privs |= DAV_PRIV_UNBIND;
	if (p->admin)
		privs |= DAV_PRIV_WRITE_PROPERTIES | DAV_PRIV_READ_ACL | DAV_PRIV_WRITE_ACL |
		         DAV_PRIV_UNLOCK;
	return privs;
}

void folder_perm_to_jmap(const struct folder_perm *p, struct jmap_rights *out)
{
	memset(out, 0, sizeof(*out));
	if (p->folder < PERM_FOLDER_SEE && !p->admin)
		return;
	out->may_read_items = p->read >= PERM_OBJECTS_ALL;
	out->may_add_items = p->folder >= PERM_FOLDER_CREATE_OBJECTS;
	out->may_remove_items = p->del >= PERM_OBJECTS_ALL;
	out->may_set_seen = p->read >= PERM_OBJECTS_ALL;
	out->may_set_keywords = p->write >= PERM_OBJECTS_ALL;
	out->may_create_child = p->folder >= PERM_FOLDER_CREATE_SUBFOLDERS;
	out->may_rename = p->admin;
	out->may_delete = p->admin;
	out->may_submit = p->folder >= PERM_FOLDER_CREATE_OBJECTS;
	out->may_write_own = p->write >= PERM_OBJECTS_OWN;
	out->may_write_all = p->write >= PERM_OBJECTS_ALL;
	out->may_admin = p->admin;
}
