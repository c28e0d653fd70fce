/* MIME types by file name extension, for PUTs without a Content-Type. */
#include "files/files-private.h"

#include <string.h>

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{"txt", "text/plain"},
	{"html", "text/html"},
	{"htm", "text/html"},
	{"css", "text/css"},
	{"csv", "text/csv"},
	{"md", "text/markdown"},
	{"xml", "application/xml"},
	{"js", "text/javascript"},
	{"json", "application/json"},
	{"pdf", "application/pdf"},
	{"zip", "application/zip"},
	{"gz", "application/gzip"},
	{"tar", "application/x-tar"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"svg", "image/svg+xml"},
	{"webp", "image/webp"},
	{"mp3", "audio/mpeg"},
	{"mp4", "video/mp4"},
	{"ics", "text/calendar"},
	{"vcf", "text/vcard"},
	{"odt", "application/vnd.oasis.opendocument.text"},
	{"ods", "application/vnd.oasis.opendocument.spreadsheet"},
	{"odp", "application/vnd.oasis.opendocument.presentation"},
	{"doc", "application/msword"},
	{"xls", "application/vnd.ms-excel"},
	{"ppt", "application/vnd.ms-powerpoint"},
	{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
};

const char *files_guess_type(const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	if (dot != NULL) {
		for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
			if (g_ascii_strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
		}
	}
	return "application/octet-stream";
}
