/*
 * file.h - files that hold data or secrets: created 0600 whatever the umask.
 *
 * Every file schakel writes that holds data (the database and its -wal and
 * -shm, exports, hit and alert files) is created owner-only, and an existing
 * regular file opened for writing is tightened to owner-only, because it may
 * hold TLP:RED content, password and token hashes or the token-MAC key.
 * Special files (a FIFO, /dev/stdout, a terminal) are left as they are.
 */
#ifndef SCHAKEL_FILE_H
#define SCHAKEL_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "schakel/error.h"

/*
 * fopen(path, append ? "a" : "w") with the file created 0600, and an existing
 * regular file made 0600 (group and other bits cleared).  NULL with errno set
 * on failure.
 */
FILE *sk_fopen_private(const char *path, bool append);

/*
 * Make an existing regular file at path owner-only if group or others may
 * read or write it; create it empty 0600 first when create is set and it is
 * missing.  *changed (may be NULL) says whether its mode was tightened.
 * 0, or -1 with errno set.  A missing file without create is 0.  Works by
 * path and never opens an existing file, so it is safe on a database that
 * SQLite holds open (and locked) in this process.
 */
int sk_file_private(const char *path, bool create, bool *changed);

/*
 * Replace path with a 0600 file that fill(f, ud) writes (0, or -1 with errno
 * set): written to PATH.tmp, flushed and synced, then renamed over path, so
 * that a reader or a crash sees the old file or the new one whole.  On any
 * failure path is left as it was and the temporary file is removed.
 */
sk_err sk_file_replace_private(const char *path, int (*fill)(FILE *f, void *ud), void *ud,
                               sk_error *err);

#endif
