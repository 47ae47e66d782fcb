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
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (create ? O_CREAT : 0),
		      0600);
	int rc, e;

	if (changed)
		*changed = false;
	if (fd < 0)
		return !create && errno == ENOENT ? 0 : -1;
	rc = tighten(fd, changed);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
