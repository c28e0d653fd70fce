/* Garbage collection of the files service's blobs. A blob loses its last
 * reference when the document or version holding it goes (DELETE, a
 * deleted folder, user or context, versions pruned by files.max_versions)
 * or is never referenced (a write refused at commit); the blob store
 * keeps the bytes until blob_gc() deletes them. oxd runs this every
 * files.blob_gc_interval, oxctl file gc on demand. */
#include "files/files-private.h"

int files_gc(struct store *s, const int *stop, struct blob_gc_result *result_r,
             struct ox_error *err)
{
	/* The grace keeps what a writer has not referenced yet: an upload in
	 * progress, a blob finished a moment before its version is recorded. */
	return blob_gc(s, files_gc_grace_seconds(), stop, result_r, err);
}
