/*
 * fuzz_file.h - for the fuzz targets whose code under test reads a path:
 * the input written to a fresh temporary file.
 */
#ifndef SCHAKEL_FUZZ_FILE_H
#define SCHAKEL_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Write data to a new file made from path (a mkstemp template ending in
 * XXXXXX, rewritten in place).  Returns 0, or -1 with nothing left behind;
 * the caller unlinks path after use.
 */
static inline int sk_fuzz_tmpfile(char *path, const uint8_t *data, size_t size)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

#endif
