/*
 * file.c - creating files with data or secrets owner-only (file.h).
 *
 * open(2) with mode 0600 is still subject to the umask, which can only take
 * bits away, so 0600 is what a new file gets; fchmod afterwards also fixes
 * an existing file, whose mode open(2) does not touch.
 */
#include "schakel/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Clear group and other bits of the regular file fd; *changed if there were any. */
static int tighten(int fd, bool *changed)
{
	struct stat sb;

	if (changed)
		*changed = false;
	if (fstat(fd, &sb) != 0)
		return -1;
	if (!S_ISREG(sb.st_mode) || !(sb.st_mode & 077))
		return 0;
	if (fchmod(fd, sb.st_mode & 0700) != 0)
		return -1;
	if (changed)
		*changed = true;
	return 0;
}

FILE *sk_fopen_private(const char *path, bool append)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
	int fd = open(path, flags, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (tighten(fd, NULL) != 0 || !(f = fdopen(fd, append ? "a" : "w"))) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	return f;
}

int sk_file_private(const char *path, bool create, bool *changed)
{
	struct stat sb;
	int fd;

	if (changed)
		*changed = false;
	/*
	 * By path, never by opening an existing file: closing any descriptor of
	 * a file drops every POSIX lock this process holds on it, and SQLite's
	 * locks on an open database (and its -shm) are such locks.
	 */
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !create)
			return errno == ENOENT ? 0 : -1;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			int rc = fchmod(fd, 0600);
			close(fd); /* a new file: no lock of ours on it yet */
			return rc;
		}
		if (errno != EEXIST || stat(path, &sb) != 0) /* (another creator was first) */
			return -1;
	}
	if (!S_ISREG(sb.st_mode) || !(sb.st_mode & 077))
		return 0;
	if (chmod(path, sb.st_mode & 0700) != 0)
		return -1;
	if (changed)
		*changed = true;
	return 0;
}

sk_err sk_file_replace_private(const char *path, int (*fill)(FILE *f, void *ud), void *ud,
                               sk_error *err)
{
	size_t n = strlen(path) + 5;
	char *tmp = malloc(n);
	FILE *f;
	sk_err rc = SK_OK;

	if (!tmp)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp", path);
	if (!(f = sk_fopen_private(tmp, false))) {
		rc = sk_error_set(err, SK_EIO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fill(f, ud) || fflush(f) || fsync(fileno(f)))
		rc = sk_error_set(err, SK_EIO, "%s: %s", tmp, strerror(errno));
	if (fclose(f) && !rc)
		rc = sk_error_set(err, SK_EIO, "%s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path))
		rc = sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
